//! Colleagues' names for pages, which store only user ids on records.

use std::collections::HashMap;

use rusqlite::Connection;

use crate::domain::users;
use crate::error::{AppError, AppResult};

/// Display names of the given user ids; an id that no longer resolves is left out and the
/// page shows a placeholder.
pub fn names<'a>(
    conn: &Connection,
    ids: impl IntoIterator<Item = Option<&'a str>>,
) -> AppResult<HashMap<String, String>> {
    let mut out = HashMap::new();
    for id in ids.into_iter().flatten() {
        if out.contains_key(id) {
            continue;
        }
        match users::get(conn, id) {
            Ok(user) => {
                out.insert(id.to_owned(), user.name);
            }
            Err(AppError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// The name to show for an optional user id.
pub fn name<'a>(names: &'a HashMap<String, String>, id: Option<&str>) -> &'a str {
    match id {
        None => "—",
        Some(id) => names.get(id).map(String::as_str).unwrap_or("a former user"),
    }
}

/// Active colleagues as `(id, name)`, by name, for "assign to" choices (the first 200).
pub fn assignable(conn: &Connection) -> AppResult<Vec<(String, String)>> {
    let params = crate::domain::list::ListParams::parse(
        &[
            ("active".to_owned(), "true".to_owned()),
            ("limit".to_owned(), "200".to_owned()),
        ],
        &users::LIST,
    )?;
    Ok(users::list(conn, &params)?
        .items
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect())
}
