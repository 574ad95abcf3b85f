//! What more than one bench needs. Included with `#[path]` (a file directly in `benches/`
//! would be taken for a bench target of its own).

use std::path::Path;

use rapport::auth::Actor;
use rapport::auth::actor::Via;
use rapport::auth::permissions::Role;
use rusqlite::Connection;

/// A connection that writes as the server's writer does: a background thread checkpoints,
/// and the connection itself only past the writer's WAL limit.
pub fn open_as_the_writer(db: &Path) -> Connection {
    let conn = rapport::db::connection::open_existing(db).expect("open the database");
    conn.pragma_update(
        None,
        "wal_autocheckpoint",
        rapport::db::connection::WRITER_WAL_PAGES,
    )
    .expect("pragma");
    rapport::db::spawn_checkpointer(db.to_path_buf()).expect("checkpointer");
    conn
}

/// The database's first active admin, acting through a session.
pub fn actor(conn: &Connection) -> Actor {
    let (user_id, name, email): (String, String, String) = conn
        .query_row(
            "SELECT id, name, email FROM users WHERE role = 'admin' AND active = 1 ORDER BY created_at LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("an admin user");
    Actor {
        user_id,
        role: Role::Admin,
        name,
        email,
        via: Via::Session {
            session_id: "bench".into(),
        },
    }
}
