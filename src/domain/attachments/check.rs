//! `rapport check` of attachments.

use rusqlite::{Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::domain::records::Kind;

/// For `rapport check`: every attachment's chunks are complete and still hash to its
/// `sha256`, and its record still exists.
pub fn verify(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut problems = Vec::new();
    let attachments: Vec<(String, String, String, i64, String, i64)> = conn
        .prepare("SELECT id, entity_type, entity_id, size, sha256, chunk_size FROM attachments")?
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let mut chunks = conn
        .prepare("SELECT seq, data FROM attachment_chunks WHERE attachment_id = ?1 ORDER BY seq")?;
    for (id, entity_type, entity_id, size, sha256, chunk_size) in attachments {
        let mut hasher = Sha256::new();
        let mut total: i64 = 0;
        // Chunks numbered 0, 1, 2… and all full but the last.
        let mut gap = false;
        let mut previous: Option<(i64, i64)> = None;
        let mut rows = chunks.query([&id])?;
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            let data = row.get_ref(1)?.as_blob()?;
            gap |= match previous {
                None => seq != 0,
                Some((prev_seq, prev_len)) => seq != prev_seq + 1 || prev_len != chunk_size,
            };
            previous = Some((seq, data.len() as i64));
            total += data.len() as i64;
            hasher.update(data);
        }
        let actual = hex::encode(hasher.finalize());
        if total != size || gap {
            problems.push(format!(
                "attachment {id}: {total} bytes in its chunks, {size} expected"
            ));
        } else if actual != sha256 {
            problems.push(format!(
                "attachment {id}: sha256 of its bytes is {actual}, {sha256} expected"
            ));
        }
        let kind = Kind::parse(&entity_type);
        let parent_exists = match kind {
            Some(kind) => conn
                .query_row(
                    &format!("SELECT 1 FROM {} WHERE id = ?1", kind.table()),
                    [&entity_id],
                    |_| Ok(()),
                )
                .optional()?
                .is_some(),
            None => false,
        };
        if !parent_exists {
            problems.push(format!(
                "attachment {id}: its {entity_type} {entity_id} does not exist"
            ));
        }
    }
    Ok(problems)
}
