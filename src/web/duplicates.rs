//! `/duplicates`: likely duplicate contacts or customers, each group's records side by
//! side; the user keeps one and merges the others into it, through the same domain
//! functions as `GET /api/v1/duplicates` and `POST /api/v1/merges` (managers and admins).

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::auth::permissions::{Capability, has};
use crate::domain::clock::Zone;
use crate::domain::customers;
use crate::domain::duplicates::{self, DuplicateGroup, DuplicateRecord, Duplicates};
use crate::domain::merges::{self, MAX_MERGED, MergeInput};
use crate::domain::records::Kind;
use crate::error::AppError;
use crate::http::resource;
use crate::state::AppState;
use crate::web::components::{csrf_field, day};
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::forms::{CsrfForm, see_other};
use crate::web::layout::{self, Nav, respond};
use crate::web::session::Viewer;

type WebResult = Result<HttpResponse, WebError>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/duplicates").get(page))
        .service(resource("/duplicates/merge").post(merge));
}

const TABS: [(Kind, &str); 2] = [(Kind::Contact, "Contacts"), (Kind::Customer, "Customers")];

fn require(viewer: &Viewer) -> Result<(), AppError> {
    if has(viewer.actor.role, Capability::BulkEdit) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Merging duplicates needs a manager or admin.".into(),
        ))
    }
}

#[derive(Deserialize)]
pub struct DuplicatesQuery {
    entity: Option<String>,
}

pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<DuplicatesQuery>,
) -> WebResult {
    require(&viewer)?;
    let raw = query.into_inner().entity;
    let kind = duplicates::parse_entity(Some(raw.as_deref().unwrap_or("contact")))?;
    let (found, companies) = state
        .read_as(&viewer.credentials, move |conn, actor| {
            actor.require(Capability::BulkEdit)?;
            let found = duplicates::find(conn, kind)?;
            let mut companies = HashMap::new();
            let ids = found
                .items
                .iter()
                .flat_map(|g| &g.records)
                .filter_map(|r| r.customer_id.as_deref());
            for id in ids {
                if companies.contains_key(id) {
                    continue;
                }
                match customers::get(conn, id) {
                    Ok(c) => {
                        companies.insert(id.to_owned(), c.name);
                    }
                    Err(AppError::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok((found, companies))
        })
        .await?;
    let body = html! {
        div.pagehead { h1 { "Duplicates" } }
        nav.tabs aria-label="Record types" {
            @for (k, label) in TABS {
                a href=(format!("/duplicates?entity={}", k.name())) aria-current=[(k == kind).then_some("page")] { (label) }
            }
        }
        (groups(&viewer, kind, &found, &companies))
    };
    let markup = layout::page(
        &viewer,
        Nav::None,
        "Duplicates",
        Flash::from_request(&req),
        body,
    );
    Ok(respond(&req, HttpResponse::Ok(), markup))
}

fn plural(kind: Kind) -> &'static str {
    match kind {
        Kind::Customer => "customers",
        _ => "contacts",
    }
}

fn reason(group: &DuplicateGroup) -> String {
    let why = match group.reason {
        "email" => "Same e-mail",
        "phone" => "Same phone number",
        "domain" => "Same domain",
        _ => "Similar names",
    };
    format!("{why}: {}", group.key)
}

fn groups(
    viewer: &Viewer,
    kind: Kind,
    found: &Duplicates,
    companies: &HashMap<String, String>,
) -> Markup {
    html! {
        @if found.items.is_empty() {
            div.empty-state {
                p.title { "No likely duplicates among your " (plural(kind)) "." }
                p { @if kind == Kind::Contact {
                        "Contacts show up here when they share an e-mail address or a phone number, or have very similar names at the same company."
                    } @else {
                        "Customers show up here when they share a web domain or have very similar names (ignoring case, punctuation and suffixes such as Inc or GmbH)."
                    } }
            }
        } @else {
            p.muted { "Choose the record to keep in each group and merge: it takes the details it lacks, the tags, "
                "and everything linked to the others (leads, tasks, activities" @if kind == Kind::Customer { ", contacts" } "). "
                "The others go to the trash, where you can still look at them." }
            @if found.truncated {
                p.alert role="status" { "Only the first " (found.items.len()) " groups are shown: merge some, then come back for the rest." }
            }
            @for (n, group) in found.items.iter().enumerate() {
                (group_form(viewer, kind, n, group, companies))
            }
        }
    }
}

fn group_form(
    viewer: &Viewer,
    kind: Kind,
    n: usize,
    group: &DuplicateGroup,
    companies: &HashMap<String, String>,
) -> Markup {
    let title_id = format!("group-{n}");
    html! {
        section.card.dupgroup aria-labelledby=(title_id) {
            form method="post" action="/duplicates/merge"
                data-confirm="Merge these records into the one you keep? The others go to the trash." {
                (csrf_field(&viewer.csrf))
                input type="hidden" name="entity" value=(kind.name());
                h2 #(title_id) { (reason(group)) }
                @if group.count > group.records.len() {
                    p.muted { (group.count) " records share it; the first " (group.records.len()) " are shown." }
                }
                div.dupes {
                    @for (i, record) in group.records.iter().enumerate() {
                        (record_card(kind, n, i, record, companies, &viewer.zone))
                    }
                }
                div.actions {
                    button.primary type="submit" { "Merge into the one kept" }
                }
            }
        }
    }
}

fn record_card(
    kind: Kind,
    n: usize,
    i: usize,
    r: &DuplicateRecord,
    companies: &HashMap<String, String>,
    zone: &Zone,
) -> Markup {
    let keep = format!("keep-{n}-{i}");
    let include = format!("include-{n}-{i}");
    html! {
        div.duprecord {
            p.name { a href=(format!("/{}/{}", kind.table(), r.id)) { (r.name) } }
            dl.facts {
                @if kind == Kind::Contact {
                    dt { "E-mail" } dd { (r.email.as_deref().unwrap_or("—")) }
                    dt { "Phone" } dd { (r.phone.as_deref().unwrap_or("—")) }
                    dt { "Company" } dd { (r.customer_id.as_deref().and_then(|c| companies.get(c)).map_or("—", String::as_str)) }
                } @else {
                    dt { "Domain" } dd { (r.domain.as_deref().unwrap_or("—")) }
                    dt { "Phone" } dd { (r.phone.as_deref().unwrap_or("—")) }
                }
                dt { "Added" } dd { (day(&r.created_at, zone)) }
            }
            div.choice {
                input #(keep) type="radio" name="survivor_id" value=(r.id) required checked[i == 0];
                label for=(keep) { "Keep this one" }
            }
            div.choice {
                input #(include) type="checkbox" name="ids" value=(r.id) checked[i <= MAX_MERGED];
                label for=(include) { "Include in the merge" }
            }
        }
    }
}

/// `POST /duplicates/merge`: the included records other than the kept one are merged
/// into it.
pub async fn merge(
    state: web::Data<AppState>,
    viewer: Viewer,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    require(&viewer)?;
    let value = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let entity = value("entity");
    let survivor_id = value("survivor_id");
    let merged_ids: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| k == "ids" && *v != survivor_id)
        .map(|(_, v)| v.clone())
        .collect();
    if merged_ids.is_empty() {
        return Err(AppError::invalid(
            "ids",
            "include at least one record besides the one you keep",
        )
        .into());
    }
    let back = format!(
        "/duplicates?entity={}",
        Kind::parse(&entity).map_or("contact", Kind::name)
    );
    let input = MergeInput {
        entity,
        survivor_id,
        merged_ids,
    };
    state
        .write_as(&viewer.credentials, move |conn, actor| {
            merges::merge(conn, actor, &input).map(drop)
        })
        .await?;
    Ok(see_other(&back, Flash::Merged))
}
