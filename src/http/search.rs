//! `/api/v1/search`.

use actix_web::{HttpResponse, web};

use crate::auth::Credentials;
use crate::domain::search::{self, Results, SearchParams};
use crate::error::{AppError, AppResult};
use crate::http::problem::Problem;
use crate::state::AppState;

/// Find customers, contacts and leads by name and the other fields people type: words by
/// prefix as you type (case and accents ignored; "jos" finds "José"), phone numbers by their
/// digits, e-mail addresses by either part, and any 3 or more characters inside a field.
/// One list across the types, best first: exact names (case and accents aside; for a
/// one-word query, that word with at most punctuation around it), then names with the
/// words, then prefix matches, then substring matches. The query is plain text: quotes, `*`, `-`, `:` and words like
/// `AND` or `NEAR` are searched for like any other text.
#[utoipa::path(get, path = "/api/v1/search", tag = "search",
    params(
        ("q" = String, Query, min_length = 1, description = "What to look for (required, not blank)"),
        ("types" = Option<String>, Query, pattern = "^(customer|contact|lead)(,(customer|contact|lead))*$",
            description = "Comma-separated subset of `customer,contact,lead` (default: all)"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 50, description = "1 to 50 results, default 20"),
    ),
    responses((status = 200, description = "Matches, best first", body = Results),
        (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 422, response = Problem)))]
pub async fn search(
    state: web::Data<AppState>,
    credentials: Credentials,
    query: web::Query<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let value = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if let Some((unknown, _)) = query
        .iter()
        .find(|(k, _)| !["q", "types", "limit"].contains(&k.as_str()))
    {
        return Err(AppError::invalid(
            unknown.clone(),
            "is not a search parameter",
        ));
    }
    let params = SearchParams::parse(value("q"), value("types"), value("limit"))?;
    let results = state
        .read_as(&credentials, move |conn, _| search::search(conn, &params))
        .await?;
    Ok(HttpResponse::Ok().json(results))
}
