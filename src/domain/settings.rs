//! Instance-wide values kept in the database, such as the generated signing key.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::AppResult;

const JWT_SECRET: &str = "jwt_secret";

pub fn get(conn: &Connection, key: &str) -> AppResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

pub fn put(conn: &Connection, key: &str, value: &str) -> AppResult<()> {
    conn.prepare_cached(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

/// The signing key generated on first start, created if missing. Only used when
/// `RAPPORT_SECRET` is not set; there is no built-in default key.
pub fn jwt_secret_or_generate(conn: &Connection) -> AppResult<Vec<u8>> {
    if let Some(hex_key) = get(conn, JWT_SECRET)?
        && let Ok(key) = hex::decode(hex_key)
        && key.len() >= 32
    {
        return Ok(key);
    }
    let key: [u8; 64] = rand::random();
    put(conn, JWT_SECRET, &hex::encode(key))?;
    Ok(key.to_vec())
}
