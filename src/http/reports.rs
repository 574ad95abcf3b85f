//! `/api/v1/reports`.

use actix_web::{HttpResponse, web};

use crate::auth::Credentials;
use crate::domain::reports::{self, Dashboard, Period};
use crate::error::AppResult;
use crate::http::problem::Problem;
use crate::state::AppState;

/// The dashboard's query parameters, for the OpenAPI description; the handler parses the
/// raw pairs so unknown parameters are refused.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct DashboardQuery {
    /// First day of the period, `YYYY-MM-DD`, inclusive (a day in the instance's timezone,
    /// the answer's `timezone`). Default: 29 days before `to`.
    from: Option<String>,
    /// Last day of the period, inclusive. Default: today in the instance's timezone. The
    /// period spans at most 1098 days.
    to: Option<String>,
    /// One rep's figures (admins and managers; others may only give their own id, or 403).
    owner_id: Option<String>,
}

/// The figures the dashboard draws.
///
/// Days and months are the instance's local ones (`--timezone`, named in `timezone`): a
/// lead created at 02:00 UTC on 1 March counts on 28 February in America/New_York. A
/// lead's owner is its assignee, or its creator when nobody is assigned. Only live records
/// count (not the trash).
///
/// - `kpis.open_pipeline`: value of leads in open stages now, not date-filtered.
/// - `kpis.weighted_forecast`: Σ value × stage probability ÷ 100 over open stages.
/// - `kpis.won`, `won_count`: leads in a won stage whose `closed_at` is in the period.
/// - `kpis.win_rate`: won ÷ (won + lost) closed in the period.
/// - `kpis.average_won`: won value ÷ won count, per currency.
/// - `kpis.leads_created`: leads whose `created_at` is in the period.
/// - `kpis.tasks_overdue` / `tasks_due_today`: unfinished tasks due before today / today.
/// - `leads_by_source`, `pipeline_by_stage` (open stages, now), `trend` (12 months up to
///   `to`: created, won, lost), `reps` (per owner: won value, win rate, activities logged
///   by `occurred_at`, median hours from a lead's creation to its first activity for
///   leads created in the period).
///
/// Amounts are per currency, the base currency first, never converted or summed across
/// currencies. Admins and managers see the team or `owner_id`; sales their own figures;
/// support their own tasks and counts, with every money field left out.
#[utoipa::path(get, path = "/api/v1/reports/dashboard", tag = "reports", params(DashboardQuery),
    responses((status = 200, description = "The dashboard figures", body = Dashboard),
        (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 422, response = Problem)))]
pub async fn dashboard(
    state: web::Data<AppState>,
    credentials: Credentials,
    query: web::Query<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let base = state.config.base_currency.clone();
    let zone = state.config.timezone.clone();
    let figures = state
        .read_as(&credentials, move |conn, actor| {
            let today = zone.today();
            let period = Period::parse(&query, actor, today)?;
            reports::dashboard(conn, &period, &base, &zone, today)
        })
        .await?;
    Ok(HttpResponse::Ok().json(figures))
}
