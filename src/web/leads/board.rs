//! `/leads/board`: the pipeline as one column per stage. Cards move with drag and drop
//! (`app.js`), and without JavaScript or a mouse through each card's own small stage form,
//! which is what drag and drop submits too.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};

use crate::domain::leads::{self, Lead};
use crate::domain::list::{ListParams, Page};
use crate::domain::reports::{self, StageFigure};
use crate::domain::stages::{self, Stage, StageKind};
use crate::state::AppState;
use crate::web::components::{ListUrl, Select, csrf_field, money};
use crate::web::flash::Flash;
use crate::web::layout::{self, Nav, respond};
use crate::web::people;
use crate::web::session::Viewer;

use super::{WebResult, sees_value, stage_options};

/// Cards per column; a fuller stage links to its list.
const PER_STAGE: &str = "50";

type Query = web::Query<Vec<(String, String)>>;

pub async fn board(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    query: Query,
) -> WebResult {
    let raw = query.into_inner();
    let assignee = ListUrl {
        path: "/leads/board",
        query: &raw,
    }
    .value("assigned_to")
    .to_owned();
    let mine = assignee.clone();
    let base = state.config.base_currency.clone();
    let (stages, columns, totals, names) = state
        .read_as(&viewer.credentials, move |conn, actor| {
            let stages = stages::list(conn)?;
            let mut columns = Vec::new();
            for stage in &stages {
                let mut q = vec![
                    ("stage".to_owned(), stage.key.clone()),
                    ("sort".to_owned(), "stage_changed_at".to_owned()),
                    ("limit".to_owned(), PER_STAGE.to_owned()),
                ];
                if !mine.is_empty() {
                    q.push(("assigned_to".to_owned(), mine.clone()));
                }
                columns.push(leads::list(
                    conn,
                    actor,
                    &ListParams::parse(&q, leads::list_spec(actor))?,
                )?);
            }
            let owners = columns
                .iter()
                .flat_map(|p| &p.items)
                .map(|l| l.assigned_to.as_deref().or(l.meta.created_by.as_deref()));
            let names = people::names(conn, owners)?;
            let owner = (!mine.is_empty()).then_some(mine.as_str());
            let totals = reports::stage_totals(conn, owner, &base)?;
            Ok((stages, columns, totals, names))
        })
        .await?;
    let back = ListUrl {
        path: "/leads/board",
        query: &raw,
    }
    .with(&[]);
    let body = html! {
        div.pagehead {
            h1 { "Pipeline" }
            div.actions {
                a.button href="/leads" { "List" }
                a.button.primary href="/leads/new" { "New lead" }
            }
        }
        form.filters.compact method="get" action="/leads/board" aria-label="Filter the board" {
            (Select { name: "assigned_to", label: "Assignee", selected: &assignee,
                options: vec![(String::new(), "Anyone".into()), (viewer.actor.user_id.clone(), "Me".into())] }.render(&[]))
            button type="submit" { "Apply" }
        }
        p.muted.small { "Drag a card to another stage, or use its “Move” menu." }
        div.board {
            @for (stage, page) in stages.iter().zip(&columns) {
                @let total = totals.iter().find(|t| t.stage == stage.key);
                (column(&viewer, stage, page, total, &stages, &names, &back))
            }
        }
    };
    let markup = layout::page(
        &viewer,
        Nav::Leads,
        "Pipeline",
        Flash::from_request(&req),
        body,
    );
    Ok(respond(&req, HttpResponse::Ok(), markup))
}

/// A stage's value per currency, base currency first: "$1,200.00 + €300.00".
fn amounts(total: &StageFigure) -> String {
    total
        .amounts
        .iter()
        .flatten()
        .filter(|a| a.value_cents != 0)
        .map(|a| money(a.value_cents, &a.currency))
        .collect::<Vec<_>>()
        .join(" + ")
}

fn column(
    viewer: &Viewer,
    stage: &Stage,
    page: &Page<Lead>,
    total: Option<&StageFigure>,
    stages: &[Stage],
    names: &HashMap<String, String>,
    back: &str,
) -> Markup {
    let more = page.next_cursor.is_some();
    let count = total.map_or(page.items.len() as i64, |t| t.leads);
    let lost = stage.kind == StageKind::Lost;
    html! {
        section.column data-stage=(stage.key) data-lost[lost] aria-label=(stage.label) {
            header {
                h2 { (stage.label) }
                span.count title="Leads in this stage (assigned, or created and unassigned, for “Me”)" { (count) }
                @if let (true, Some(total)) = (sees_value(viewer), total) {
                    @let sum = amounts(total);
                    @if !sum.is_empty() { p.total { (sum) } }
                }
            }
            ol.cards {
                @for l in &page.items { (card(viewer, l, stages, names, back)) }
            }
            @if more { a.small href=(format!("/leads?stage={}", stage.key)) { "All " (count) " " (stage.label) " leads →" } }
        }
    }
}

fn card(
    viewer: &Viewer,
    l: &Lead,
    stages: &[Stage],
    names: &HashMap<String, String>,
    back: &str,
) -> Markup {
    let id = &l.meta.id;
    html! {
        li.leadcard draggable="true" data-lead=(id) {
            a.title href=(format!("/leads/{id}")) { (l.title) }
            @if let Some(company) = &l.company_name { span.muted { (company) } }
            div.meta {
                @if let Some(v) = l.value_cents { span.value { (money(v, &l.currency)) } }
                span.owner { (people::name(names, l.assigned_to.as_deref().or(l.meta.created_by.as_deref()))) }
            }
            details.move {
                summary { "Move" span.sr-only { " " (l.title) } }
                form method="post" action=(format!("/leads/{id}/stage")) {
                    (csrf_field(&viewer.csrf))
                    input type="hidden" name="version" value=(l.meta.version);
                    input type="hidden" name="back" value=(back);
                    div.field {
                        label for=(format!("stage-{id}")) { "Stage" }
                        select #(format!("stage-{id}")) name="stage" {
                            @for (key, label) in stage_options(stages, None) {
                                option value=(key) selected[key == l.stage] { (label) }
                            }
                        }
                    }
                    div.field {
                        label for=(format!("reason-{id}")) { "Reason, if lost" }
                        input #(format!("reason-{id}")) type="text" name="lost_reason";
                    }
                    button.small type="submit" { "Move" }
                }
            }
        }
    }
}
