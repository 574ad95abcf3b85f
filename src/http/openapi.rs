//! The OpenAPI 3.1 description served at `/api/openapi.json`, generated from the handlers'
//! `#[utoipa::path]` annotations and the types' `ToSchema` derives. A test checks that
//! every route of `http::endpoints()` appears here, and nothing else.

use std::sync::OnceLock;

use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, OneOfBuilder, SchemaFormat};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ObjectBuilder, RefOr, Required, Schema, Type};
use utoipa::{Modify, OpenApi};

use crate::domain::list::{ListSpec, MAX_LIMIT, Takes};
use crate::http::{auth, customers, problem, system, tokens, trash, users};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Rapport API",
        description = "JSON API of Rapport, a self-hosted CRM.\n\n\
            **Authentication**: `Authorization: Bearer <token>`, where the token is a JWT from \
            `POST /api/v1/auth/login` or a personal API token (`rpt_…`). Browser sessions use an \
            HttpOnly cookie and must send the page's CSRF token in `X-CSRF-Token` on unsafe methods.\n\n\
            **Errors** are RFC 9457 `application/problem+json`; a 422 lists every failing field.\n\n\
            **Lists** are keyset-paginated: pass `next_cursor` back as `cursor`. Unknown query \
            parameters and unknown body fields are refused with a 422 rather than ignored. A filter \
            given an empty value (`?owner_id=`, as an HTML form sends an unset field) filters \
            nothing. A bare day in a time filter (`created_from=2026-01-31`) is that day in UTC.\n\n\
            **Edits**: responses carry an `ETag`; send it as `If-Match` and a stale edit answers 412."
    ),
    paths(
        system::healthz,
        system::openapi_json,
        crate::http::metrics::metrics,
        auth::login,
        auth::logout,
        auth::me,
        auth::change_password,
        users::list,
        users::create,
        users::get,
        users::update,
        users::reset_password,
        tokens::list,
        tokens::create,
        tokens::revoke,
        customers::list,
        customers::create,
        customers::get,
        customers::update,
        customers::delete,
        customers::restore,
        // contacts
        crate::http::contacts::list,
        crate::http::contacts::create,
        crate::http::contacts::get,
        crate::http::contacts::update,
        crate::http::contacts::delete,
        crate::http::contacts::restore,
        // leads and stages
        crate::http::leads::list,
        crate::http::leads::create,
        crate::http::leads::get,
        crate::http::leads::update,
        crate::http::leads::delete,
        crate::http::leads::restore,
        crate::http::leads::move_stage,
        crate::http::leads::convert,
        crate::http::stages::list,
        crate::http::stages::replace,
        // tasks, activities and timelines
        crate::http::tasks::list,
        crate::http::tasks::create,
        crate::http::tasks::get,
        crate::http::tasks::update,
        crate::http::tasks::delete,
        crate::http::tasks::restore,
        crate::http::tasks::complete,
        crate::http::activities::list,
        crate::http::activities::create,
        crate::http::activities::get,
        crate::http::activities::update,
        crate::http::activities::delete,
        crate::http::activities::restore,
        crate::http::timeline::customer,
        crate::http::timeline::contact,
        crate::http::timeline::lead,
        crate::http::attachments::upload,
        crate::http::attachments::download,
        crate::http::attachments::delete,
        crate::http::attachments::restore,
        crate::http::attachments::customer,
        crate::http::attachments::contact,
        crate::http::attachments::lead,
        crate::http::attachments::task,
        trash::list,
        trash::purge,
        trash::audit_log,
        crate::http::search::search,
        crate::http::reports::dashboard,
        crate::http::exports::export,
        crate::http::duplicates::list,
        crate::http::duplicates::merge,
        crate::http::imports::start,
        crate::http::imports::status,
        crate::http::imports::errors_csv,
        crate::http::imports::cancel,
        crate::http::imports::commit,
        crate::http::backups::list,
        crate::http::backups::download,
        crate::http::notifications::list,
        crate::http::notifications::unread_count,
        crate::http::notifications::read,
        crate::http::notifications::read_all,
        crate::http::notifications::stream,
    ),
    components(responses(problem::Problem)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "operations", description = "Health, Prometheus metrics and this document"),
        (name = "auth", description = "Signing in and out"),
        (name = "users", description = "Staff accounts (admins only)"),
        (name = "tokens", description = "Personal API tokens for integrations"),
        (name = "customers", description = "Companies you sell to"),
        (name = "contacts", description = "People, optionally at a customer"),
        (name = "leads", description = "The sales pipeline"),
        (name = "stages", description = "Pipeline stages"),
        (name = "tasks", description = "Things to do, with due dates and reminders"),
        (name = "activities", description = "Calls, e-mails, meetings and notes"),
        (name = "attachments", description = "Files attached to customers, contacts, leads and tasks"),
        (name = "trash", description = "Deleted records, restore and purge"),
        (name = "audit", description = "Who changed what (admins only)"),
        (name = "reports", description = "The dashboard's figures, kept current on every write"),
        (name = "search", description = "Customers, contacts and leads by what people type"),
        (name = "exports", description = "Lists as CSV files (admins and managers)"),
        (name = "imports", description = "CSV import jobs (admins and managers)"),
        (name = "duplicates", description = "Finding and merging duplicate customers and contacts (admins and managers)"),
        (name = "backups", description = "Scheduled snapshots and a fresh database download (admins only)"),
        (name = "notifications", description = "What others did to your records, reminders and overdue tasks; each user sees only their own"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT or rpt_ personal token")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The server's --metrics-token, for GET /metrics"))
                    .build(),
            ),
        );
    }
}

/// The document, built once.
pub fn document() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let mut doc = ApiDoc::openapi();
        doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
        doc.to_json().unwrap_or_default()
    })
}

/// The query parameters of a list, from its [`ListSpec`]: the docs cannot disagree with what
/// the list accepts.
pub fn list_parameters(spec: &ListSpec) -> Vec<Parameter> {
    let query = |name: &str, description: String, schema: RefOr<Schema>| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(description))
            .schema(Some(schema))
            .build()
    };
    let sorts: Vec<&str> = spec.sorts.iter().map(|(name, _)| *name).collect();
    let mut params = vec![
        query(
            "q",
            "Free text".into(),
            ObjectBuilder::new().schema_type(Type::String).into(),
        ),
        query(
            "sort",
            format!("Sort field (default `{}`)", spec.default_sort),
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(sorts))
                .into(),
        ),
        query(
            "order",
            format!(
                "asc or desc (default {})",
                if spec.default_desc { "desc" } else { "asc" }
            ),
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["asc", "desc"]))
                .into(),
        ),
        query(
            "limit",
            format!("Page size, 1 to {MAX_LIMIT} (default 50)"),
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(MAX_LIMIT))
                .into(),
        ),
        query(
            "cursor",
            "`next_cursor` of the previous page".into(),
            ObjectBuilder::new().schema_type(Type::String).into(),
        ),
    ];
    for filter in spec.filters {
        params.push(query(
            filter.name,
            filter.about.to_owned(),
            filter_schema(filter.takes),
        ));
    }
    params
}

/// The schema of the values a list filter takes.
fn filter_schema(takes: Takes) -> RefOr<Schema> {
    let text = |format: Option<SchemaFormat>| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(format)
    };
    let known = |format| Some(SchemaFormat::KnownFormat(format));
    match takes {
        Takes::Text => text(None).into(),
        Takes::Id => text(Some(SchemaFormat::Custom("uuid".into()))).into(),
        Takes::Day => text(known(KnownFormat::Date)).into(),
        Takes::DayOrTime => OneOfBuilder::new()
            .item(text(known(KnownFormat::Date)))
            .item(text(known(KnownFormat::DateTime)))
            .into(),
        Takes::Flag => ObjectBuilder::new().schema_type(Type::Boolean).into(),
        Takes::Cents => ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0))
            .into(),
        Takes::OneOf(names) => text(None).enum_values(Some(names())).into(),
    }
}

/// Declares a type whose `IntoParams` are the query parameters of a list spec, for use in
/// `#[utoipa::path(params(...))]`.
#[macro_export]
macro_rules! list_query {
    ($name:ident, $spec:path) => {
        pub struct $name;
        impl utoipa::IntoParams for $name {
            fn into_params(
                _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
            ) -> Vec<utoipa::openapi::path::Parameter> {
                $crate::http::openapi::list_parameters(&$spec)
            }
        }
    };
}
