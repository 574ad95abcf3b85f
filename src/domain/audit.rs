//! The audit trail. Every mutation calls [`record`] on the same connection, inside the same
//! transaction, so a change and its audit entry commit together or not at all.

use rusqlite::{Connection, params};
use serde::Serialize;

use crate::domain::clock::Timestamp;
use crate::error::AppResult;

/// One audit entry about to be written. `actor_id` is `None` for the command line.
pub struct Entry<'a> {
    pub actor_id: Option<&'a str>,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: Option<&'a str>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl<'a> Entry<'a> {
    pub fn new(actor_id: Option<&'a str>, action: &'a str, entity_type: &'a str) -> Self {
        Self {
            actor_id,
            action,
            entity_type,
            entity_id: None,
            before: None,
            after: None,
        }
    }

    pub fn entity(mut self, id: &'a str) -> Self {
        self.entity_id = Some(id);
        self
    }

    pub fn before(mut self, value: &impl Serialize) -> Self {
        self.before = serde_json::to_value(value).ok();
        self
    }

    pub fn after(mut self, value: &impl Serialize) -> Self {
        self.after = serde_json::to_value(value).ok();
        self
    }
}

pub fn record(conn: &Connection, entry: Entry<'_>) -> AppResult<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO audit_log (at, actor_id, action, entity_type, entity_id, before, after)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    stmt.execute(params![
        Timestamp::now().to_stored(),
        entry.actor_id,
        entry.action,
        entry.entity_type,
        entry.entity_id,
        entry.before.map(|v| v.to_string()),
        entry.after.map(|v| v.to_string()),
    ])?;
    Ok(())
}
