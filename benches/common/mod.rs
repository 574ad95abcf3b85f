//! What more than one bench needs. Included with `#[path]` (a file directly in `benches/`
//! would be taken for a bench target of its own).

use rapport::auth::Actor;
use rapport::auth::actor::Via;
use rapport::auth::permissions::Role;
use rusqlite::Connection;

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
