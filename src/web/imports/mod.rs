//! `/import`: bring a CSV file in through the pages. The upload is staged with the
//! suggested mapping; the user checks which column fills which field, previews (a dry run
//! that lists the rows with problems by line), imports (a commit of the same staged rows)
//! and watches the job until it ends. Every step is the API's import pipeline
//! (`domain::imports`), through `domain::imports::review` for the page's order of steps.

use std::collections::BTreeMap;

use actix_multipart::Multipart;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};

use crate::auth::permissions::{Capability, has};
use crate::domain::exports::Entity;
use crate::domain::imports::review::{self, Columns};
use crate::domain::imports::{self, ImportStatus, OnDuplicate, Request};
use crate::error::AppError;
use crate::http::resource;
use crate::state::AppState;
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::forms::CsrfForm;
use crate::web::layout::{self, Nav, respond};
use crate::web::multipart;
use crate::web::session::Viewer;
use crate::web::signin::Empty;

mod page;

type WebResult = Result<HttpResponse, WebError>;

/// How often the progress view reloads itself, in seconds.
const REFRESH_SECS: u32 = 1;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/import").get(upload_page).post(upload))
        .service(resource("/import/{id}").get(job))
        .service(resource("/import/{id}/preview").post(preview))
        .service(resource("/import/{id}/start").post(start))
        .service(resource("/import/{id}/cancel").post(cancel));
}

/// An "Import" button for a list page, for roles that may import.
pub fn button(viewer: &Viewer, entity: &str, label: &str) -> Markup {
    html! {
        @if has(viewer.actor.role, Capability::ImportCsv) {
            a.button href=(format!("/import?entity={entity}")) { (label) }
        }
    }
}

fn require(viewer: &Viewer) -> Result<(), AppError> {
    if has(viewer.actor.role, Capability::ImportCsv) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Importing needs a manager or admin.".into(),
        ))
    }
}

#[derive(serde::Deserialize)]
pub struct UploadQuery {
    entity: Option<String>,
}

pub async fn upload_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<UploadQuery>,
) -> WebResult {
    require(&viewer)?;
    let entity = query.into_inner().entity.unwrap_or_default();
    let body = page::upload(&viewer, &entity, state.config.max_import_bytes, &[]);
    Ok(show(&req, &viewer, StatusCode::OK, "Import", body))
}

/// `POST /import`: reads the file (413 past `--max-import`), creates the job and stages its
/// rows in the background; the job's page follows.
pub async fn upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    form: Multipart,
) -> WebResult {
    require(&viewer)?;
    let limit = state.config.max_import_bytes;
    let mut bytes = Vec::new();
    let form = multipart::read(&req, &state, &viewer, form, limit, |chunk| {
        bytes.extend_from_slice(chunk);
        Ok(())
    })
    .await?;
    let chosen = form.field("entity").unwrap_or_default().to_owned();
    match stage(&state, &viewer, &form, &chosen, bytes).await {
        Ok(id) => Ok(to_job(&id)),
        Err(AppError::Validation(errors)) => {
            let body = page::upload(&viewer, &chosen, limit, &errors);
            Ok(show(
                &req,
                &viewer,
                StatusCode::UNPROCESSABLE_ENTITY,
                "Import",
                body,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

async fn stage(
    state: &web::Data<AppState>,
    viewer: &Viewer,
    form: &multipart::Upload,
    entity: &str,
    bytes: Vec<u8>,
) -> Result<String, AppError> {
    let entity = Entity::parse(entity).ok_or_else(|| {
        AppError::invalid(
            "entity",
            "must be customers, contacts, leads, tasks or activities",
        )
    })?;
    if !form.has_file || bytes.is_empty() {
        return Err(AppError::invalid(
            "file",
            "is required: choose the CSV file to import",
        ));
    }
    let request = Request {
        entity,
        filename: form.filename.clone().unwrap_or_default(),
        mapping: None,
        on_duplicate: OnDuplicate::Skip,
        dry_run: true,
    };
    let prepared = {
        let request = request.clone();
        web::block(move || review::prepare(&request, bytes))
            .await
            .map_err(AppError::internal)??
    };
    let (id, prepared) = state
        .write_as(&viewer.credentials, move |conn, actor| {
            let id = imports::create(conn, actor, &request, &prepared)?;
            Ok((id, prepared))
        })
        .await?;
    review::spawn_staging(state.db.clone(), id.clone(), prepared);
    Ok(id)
}

fn to_job(id: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/import/{id}")))
        .finish()
}

fn show(
    req: &HttpRequest,
    viewer: &Viewer,
    status: StatusCode,
    title: &str,
    body: Markup,
) -> HttpResponse {
    let markup = layout::page(viewer, Nav::None, title, Flash::from_request(req), body);
    respond(req, HttpResponse::build(status), markup)
}

async fn load(
    state: &AppState,
    viewer: &Viewer,
    id: String,
) -> Result<(ImportStatus, Columns), AppError> {
    state
        .read_as(&viewer.credentials, move |conn, actor| {
            actor.require(Capability::ImportCsv)?;
            Ok((imports::status(conn, &id)?, review::columns(conn, &id)?))
        })
        .await
}

/// `GET /import/{id}`: the columns and the preview while the job waits for the user, its
/// progress while it runs (reloading itself), the outcome when it has ended.
pub async fn job(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
) -> WebResult {
    require(&viewer)?;
    let (status, columns) = load(&state, &viewer, id.into_inner()).await?;
    match status.status.as_str() {
        "validated" => {
            let body = page::review(&viewer, &status, &columns, None, &[]);
            Ok(show(
                &req,
                &viewer,
                StatusCode::OK,
                "Check the columns",
                body,
            ))
        }
        "staged" | "running" | "rolling_back" => {
            let body = page::progress(&viewer, &status);
            let mut res = show(&req, &viewer, StatusCode::OK, "Importing", body);
            // Reloads the page until the job ends: a header, so no inline script is needed.
            if let Ok(v) = header::HeaderValue::from_str(&REFRESH_SECS.to_string()) {
                res.headers_mut()
                    .insert(header::HeaderName::from_static("refresh"), v);
            }
            Ok(res)
        }
        _ => {
            let body = page::outcome(&status);
            Ok(show(&req, &viewer, StatusCode::OK, "Import", body))
        }
    }
}

/// The mapping and duplicate policy as posted: one select per column, `col-<index>`.
struct Choices {
    columns: Vec<String>,
    on_duplicate: String,
}

impl Choices {
    fn from_form(pairs: &[(String, String)], count: usize) -> Choices {
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default()
        };
        Choices {
            columns: (0..count).map(|i| get(&format!("col-{i}"))).collect(),
            on_duplicate: get("on_duplicate"),
        }
    }

    /// Every named column with its field, or `None` to leave it out.
    fn overrides(&self, headers: &[String]) -> BTreeMap<String, Option<String>> {
        headers
            .iter()
            .zip(&self.columns)
            .filter(|(h, _)| !h.is_empty())
            .map(|(h, f)| (h.clone(), Some(f.clone()).filter(|f| !f.is_empty())))
            .collect()
    }

    fn policy(&self) -> Result<OnDuplicate, AppError> {
        OnDuplicate::parse(&self.on_duplicate)
            .ok_or_else(|| AppError::invalid("on_duplicate", "must be skip, update or create"))
    }
}

#[derive(Clone, Copy)]
enum Run {
    Preview,
    Import,
}

pub async fn preview(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    rerun(req, state, viewer, id.into_inner(), pairs, Run::Preview).await
}

pub async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    rerun(req, state, viewer, id.into_inner(), pairs, Run::Import).await
}

/// Runs the staged rows again with the posted columns: a dry run (Preview) or the real
/// import. A mapping that cannot work shows the columns again with the reasons.
async fn rerun(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    id: String,
    pairs: Vec<(String, String)>,
    run: Run,
) -> WebResult {
    require(&viewer)?;
    let (status, columns) = load(&state, &viewer, id.clone()).await?;
    let choices = Choices::from_form(&pairs, columns.headers.len());
    let overrides = choices.overrides(&columns.headers);
    let started = match choices.policy() {
        Err(e) => Err(e),
        Ok(policy) => {
            let id = id.clone();
            state
                .write_as(&viewer.credentials, move |conn, actor| {
                    match run {
                        Run::Preview => review::preview(conn, actor, &id, &overrides, policy)?,
                        Run::Import => {
                            imports::commit(conn, actor, &id, Some(&overrides), Some(policy))?
                        }
                    }
                    Ok(actor.clone())
                })
                .await
        }
    };
    match started {
        Ok(actor) => {
            let currency = state.config.base_currency.clone();
            imports::spawn(state.db.clone(), id.clone(), actor, currency, None);
            Ok(to_job(&id))
        }
        Err(AppError::Validation(errors)) => {
            let body = page::review(&viewer, &status, &columns, Some(&choices), &errors);
            Ok(show(
                &req,
                &viewer,
                StatusCode::UNPROCESSABLE_ENTITY,
                "Check the columns",
                body,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /import/{id}/cancel`: the job stops at its next chunk and undoes what it wrote.
pub async fn cancel(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult {
    require(&viewer)?;
    let id = id.into_inner();
    let target = id.clone();
    state
        .write_as(&viewer.credentials, move |conn, actor| {
            imports::cancel(conn, actor, &target)
        })
        .await?;
    Ok(to_job(&id))
}
