//! The audit trail. Every mutation calls [`record`] on the same connection, inside the same
//! transaction, so a change and its audit entry commit together or not at all.
//!
//! Entries form a hash chain: each stores the previous entry's hash and a SHA-256 of that
//! hash plus its own content. Triggers already refuse UPDATE and DELETE; the chain also
//! catches someone who edits the file with the triggers dropped (`rapport check`).

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::domain::clock::Timestamp;
use crate::error::AppResult;

mod list;
pub use list::{AuditEntry, Facet, LIST, actions, entity_types, facet_query, list, list_query};

/// One audit entry about to be written. `actor_id` is `None` for the command line.
pub struct Entry<'a> {
    pub actor_id: Option<&'a str>,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: Option<&'a str>,
    pub before: Option<Value>,
    pub after: Option<Value>,
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

    /// Records only the fields that differ between two versions of a record.
    pub fn changes(mut self, before: &impl Serialize, after: &impl Serialize) -> Self {
        let (b, a) = changed_fields(
            &serde_json::to_value(before).unwrap_or(Value::Null),
            &serde_json::to_value(after).unwrap_or(Value::Null),
        );
        self.before = Some(b);
        self.after = Some(a);
        self
    }
}

/// Fields whose values differ, as two objects (`version` and `updated_at` always change and
/// say nothing, so they are left out).
pub fn changed_fields(before: &Value, after: &Value) -> (Value, Value) {
    let (Some(b), Some(a)) = (before.as_object(), after.as_object()) else {
        return (before.clone(), after.clone());
    };
    let mut old = serde_json::Map::new();
    let mut new = serde_json::Map::new();
    for (key, new_value) in a {
        if matches!(key.as_str(), "version" | "updated_at") {
            continue;
        }
        let old_value = b.get(key).unwrap_or(&Value::Null);
        if old_value != new_value {
            old.insert(key.clone(), old_value.clone());
            new.insert(key.clone(), new_value.clone());
        }
    }
    (Value::Object(old), Value::Object(new))
}

/// The hashed content of an entry, as stored.
struct Stored {
    id: i64,
    at: String,
    actor_id: Option<String>,
    action: String,
    entity_type: String,
    entity_id: Option<String>,
    before: Option<String>,
    after: Option<String>,
}

/// SHA-256 of the previous hash and every field, each length-prefixed so that no two
/// different entries serialise alike.
fn chain_hash(prev: Option<&[u8]>, e: &Stored) -> [u8; 32] {
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field(prev.unwrap_or_default());
    field(e.id.to_string().as_bytes());
    field(e.at.as_bytes());
    field(e.actor_id.as_deref().unwrap_or_default().as_bytes());
    field(e.action.as_bytes());
    field(e.entity_type.as_bytes());
    field(e.entity_id.as_deref().unwrap_or_default().as_bytes());
    field(e.before.as_deref().unwrap_or_default().as_bytes());
    field(e.after.as_deref().unwrap_or_default().as_bytes());
    h.finalize().into()
}

pub fn record(conn: &Connection, entry: Entry<'_>) -> AppResult<()> {
    // Single writer: nobody can append between this read and the insert below.
    let last: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (id, prev) = match &last {
        Some((id, hash)) => (id + 1, Some(hash.as_slice())),
        None => (1, None),
    };
    let stored = Stored {
        id,
        at: Timestamp::now().to_stored(),
        actor_id: entry.actor_id.map(str::to_owned),
        action: entry.action.to_owned(),
        entity_type: entry.entity_type.to_owned(),
        entity_id: entry.entity_id.map(str::to_owned),
        before: entry.before.map(|v| v.to_string()),
        after: entry.after.map(|v| v.to_string()),
    };
    let hash = chain_hash(prev, &stored);
    conn.prepare_cached(
        "INSERT INTO audit_log (id, at, actor_id, action, entity_type, entity_id, before, after,
                                prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        stored.id,
        stored.at,
        stored.actor_id,
        stored.action,
        stored.entity_type,
        stored.entity_id,
        stored.before,
        stored.after,
        prev,
        hash.as_slice(),
    ])?;
    Ok(())
}

/// Walks the whole chain; returns a description of every broken link.
pub fn verify_chain(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT id, at, actor_id, action, entity_type, entity_id, before, after, prev_hash, hash
           FROM audit_log ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut problems = Vec::new();
    let mut previous: Option<(i64, Vec<u8>)> = None;
    while let Some(r) = rows.next()? {
        let stored = Stored {
            id: r.get(0)?,
            at: r.get(1)?,
            actor_id: r.get(2)?,
            action: r.get(3)?,
            entity_type: r.get(4)?,
            entity_id: r.get(5)?,
            before: r.get(6)?,
            after: r.get(7)?,
        };
        let id = stored.id;
        let prev_hash: Option<Vec<u8>> = r.get(8)?;
        let hash: Vec<u8> = r.get(9)?;
        let expected_prev = previous.as_ref().map(|(_, h)| h.clone());
        if let Some((prev_id, _)) = &previous
            && *prev_id + 1 != id
        {
            problems.push(format!(
                "audit entries {} to {} are missing",
                prev_id + 1,
                id - 1
            ));
        }
        if prev_hash != expected_prev {
            problems.push(format!(
                "audit entry {id} does not follow the entry before it"
            ));
        }
        if chain_hash(prev_hash.as_deref(), &stored).as_slice() != hash.as_slice() {
            problems.push(format!("audit entry {id} was altered"));
        }
        previous = Some((id, hash));
        if problems.len() > 20 {
            break;
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut conn = crate::db::connection::open_in_memory().unwrap();
        crate::db::migrations::migrate(&mut conn, "mem").unwrap();
        conn
    }

    #[test]
    fn the_chain_verifies_and_catches_tampering() {
        let conn = db();
        for i in 0..5 {
            record(
                &conn,
                Entry::new(None, "test.event", "thing")
                    .entity("x")
                    .after(&serde_json::json!({ "n": i })),
            )
            .unwrap();
        }
        assert!(verify_chain(&conn).unwrap().is_empty());

        // The triggers refuse edits and deletions…
        assert!(
            conn.execute("UPDATE audit_log SET action = 'x' WHERE id = 2", [])
                .is_err()
        );
        assert!(
            conn.execute("DELETE FROM audit_log WHERE id = 5", [])
                .is_err()
        );

        // …and with them dropped, the chain still tells.
        conn.execute_batch(
            "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;
             UPDATE audit_log SET after = '{\"n\":42}' WHERE id = 2;
             DELETE FROM audit_log WHERE id = 4;",
        )
        .unwrap();
        let problems = verify_chain(&conn).unwrap();
        assert!(
            problems.iter().any(|p| p.contains("entry 2 was altered")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("4 to 4 are missing")),
            "{problems:?}"
        );
    }

    #[test]
    fn changes_keep_only_what_differs() {
        let before = serde_json::json!({"name": "A", "phone": null, "version": 1, "tags": ["x"]});
        let after = serde_json::json!({"name": "B", "phone": null, "version": 2, "tags": ["x"]});
        let (b, a) = changed_fields(&before, &after);
        assert_eq!(b, serde_json::json!({"name": "A"}));
        assert_eq!(a, serde_json::json!({"name": "B"}));
    }
}
