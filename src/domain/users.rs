//! Staff accounts: who may sign in, with which role.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::auth::permissions::Role;
use crate::domain::audit::{self, Entry};
use crate::domain::clock::Timestamp;
use crate::domain::list::{Filter, ListParams, ListSpec, Page, Takes};
use crate::domain::new_id;
use crate::domain::sessions;
use crate::domain::values::{Email, Password, required_text};
use crate::error::{AppError, AppResult, Violations};

pub const NAME_MAX: usize = 100;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub last_login_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub created_by: Option<String>,
    pub version: i64,
}

const COLUMNS: &str =
    "id, email, name, role, active, last_login_at, created_at, updated_at, created_by, version";

fn from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(3)?;
    Ok(User {
        id: r.get(0)?,
        email: r.get(1)?,
        name: r.get(2)?,
        role: Role::parse(&role).unwrap_or(Role::Support),
        active: r.get(4)?,
        last_login_at: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
        created_by: r.get(8)?,
        version: r.get(9)?,
    })
}

/// The body of `POST /users` and of the setup form.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserInput {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub name: String,
    /// admin, manager, sales or support.
    #[serde(default)]
    pub role: String,
    /// 8–64 characters, at most 72 bytes; generated (and returned once) when absent.
    pub password: Option<String>,
}

/// A new user that passed validation. `password` is `None` when one should be generated.
#[derive(Debug)]
pub struct NewUser {
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub password: Option<Password>,
}

impl NewUserInput {
    pub fn validate(&self) -> AppResult<NewUser> {
        let mut v = Violations::new();
        let email = v.check(Email::parse("email", &self.email));
        let name = v.check(required_text("name", &self.name, NAME_MAX));
        let role = v.check(parse_role(&self.role));
        let password = match &self.password {
            Some(p) => v.check(Password::parse("password", p)).map(Some),
            None => Some(None),
        };
        v.into_result()?;
        match (email, name, role, password) {
            (Some(email), Some(name), Some(role), Some(password)) => Ok(NewUser {
                email,
                name,
                role,
                password,
            }),
            _ => Err(AppError::internal("validated user is incomplete")),
        }
    }
}

fn parse_role(raw: &str) -> Result<Role, crate::error::FieldError> {
    Role::parse(raw.trim()).ok_or_else(|| {
        crate::error::FieldError::new("role", "must be one of admin, manager, sales, support")
    })
}

/// The body of `PATCH /users/{id}`: only the fields present change.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
    pub active: Option<bool>,
}

pub fn count(conn: &Connection) -> AppResult<i64> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM users")?
        .query_row([], |r| r.get(0))?)
}

pub fn get(conn: &Connection, id: &str) -> AppResult<User> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM users WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// The admin who has been one longest and is active (who command-line imports act as).
pub fn first_active_admin(conn: &Connection) -> AppResult<Option<User>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM users WHERE role = 'admin' AND active = 1
              ORDER BY created_at, id LIMIT 1"
        ))?
        .query_row([], from_row)
        .optional()?)
}

pub fn find_by_email(conn: &Connection, email: &str) -> AppResult<Option<User>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM users WHERE email = ?1"))?
        .query_row([email.trim()], from_row)
        .optional()?)
}

/// The stored hash for a sign-in attempt, with the user it belongs to.
pub fn credentials_for(conn: &Connection, email: &str) -> AppResult<Option<(User, String)>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS}, password_hash FROM users WHERE email = ?1"
        ))?
        .query_row([email.trim()], |r| Ok((from_row(r)?, r.get(10)?)))
        .optional()?)
}

pub fn password_hash(conn: &Connection, user_id: &str) -> AppResult<String> {
    Ok(conn
        .prepare_cached("SELECT password_hash FROM users WHERE id = ?1")?
        .query_row([user_id], |r| r.get(0))?)
}

pub const LIST: ListSpec = ListSpec {
    filters: &[
        Filter::new("role", "users with this role", Takes::OneOf(Role::names)),
        Filter::new(
            "active",
            "true: active users; false: deactivated ones",
            Takes::Flag,
        ),
    ],
    sorts: &[
        ("name", "name COLLATE NOCASE"),
        ("email", "email"),
        ("created_at", "created_at"),
    ],
    default_sort: "name",
    default_desc: false,
};

pub fn list(conn: &Connection, params: &ListParams) -> AppResult<Page<User>> {
    let mut v = Violations::new();
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(after) = &params.after {
        args.push(after.value.clone().into());
        args.push(after.id.clone().into());
        clauses.extend(params.keyset_condition(1, 2));
    }
    if let Some(raw) = params.filter("role")
        && let Some(role) = v.check(parse_role(raw))
    {
        args.push(role.as_str().to_owned().into());
        clauses.push(format!("role = ?{}", args.len()));
    }
    if let Some(active) = params.filter("active") {
        match active {
            "true" => clauses.push("active = 1".into()),
            "false" => clauses.push("active = 0".into()),
            _ => v.add("active", "must be true or false"),
        }
    }
    if let Some(q) = &params.q {
        args.push(format!("%{}%", escape_like(q)).into());
        let n = args.len();
        clauses.push(format!(
            "(name LIKE ?{n} ESCAPE '\\' OR email LIKE ?{n} ESCAPE '\\')"
        ));
    }
    v.into_result()?;
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM users {filter} ORDER BY {order} LIMIT {limit}",
        order = params.order_by(),
        limit = params.limit + 1
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    let sort = params.sort;
    Ok(params.page(rows, |u| {
        let value = match sort {
            "email" => u.email.clone(),
            "created_at" => u.created_at.clone(),
            _ => u.name.clone(),
        };
        (value, u.id.clone())
    }))
}

/// `%`, `_` and the escape character match literally.
pub fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Inserts a user whose password is already hashed. `actor_id` is `None` for the CLI and
/// the first-run setup.
pub fn insert(
    conn: &Connection,
    actor_id: Option<&str>,
    user: &NewUser,
    password_hash: &str,
) -> AppResult<User> {
    if find_by_email(conn, user.email.as_str())?.is_some() {
        return Err(AppError::Validation(vec![crate::error::FieldError::new(
            "email",
            "is already used by another user",
        )]));
    }
    let now = Timestamp::now().to_stored();
    let id = new_id();
    conn.prepare_cached(
        "INSERT INTO users (id, email, name, role, password_hash, password_changed_at,
                            created_at, updated_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?6, ?7)",
    )?
    .execute(params![
        id,
        user.email.as_str(),
        user.name,
        user.role.as_str(),
        password_hash,
        now,
        actor_id
    ])?;
    let created = get(conn, &id)?;
    audit::record(
        conn,
        Entry::new(actor_id, "user.create", "user")
            .entity(&id)
            .after(&created),
    )?;
    Ok(created)
}

/// Applies a patch. `expected_version` comes from `If-Match`; a stale one changes nothing.
pub fn update(
    conn: &Connection,
    actor_id: &str,
    id: &str,
    patch: &UserPatch,
    expected_version: Option<i64>,
) -> AppResult<User> {
    let before = get(conn, id)?;
    if expected_version.is_some_and(|v| v != before.version) {
        return Err(AppError::PreconditionFailed);
    }
    let mut v = Violations::new();
    let email = patch
        .email
        .as_deref()
        .and_then(|e| v.check(Email::parse("email", e)));
    let name = patch
        .name
        .as_deref()
        .and_then(|n| v.check(required_text("name", n, NAME_MAX)));
    let role = patch.role.as_deref().and_then(|r| v.check(parse_role(r)));
    if let Some(email) = &email
        && let Some(other) = find_by_email(conn, email.as_str())?
        && other.id != id
    {
        v.add("email", "is already used by another user");
    }
    v.into_result()?;

    let after_role = role.unwrap_or(before.role);
    let after_active = patch.active.unwrap_or(before.active);
    if id == actor_id && before.active && !after_active {
        return Err(AppError::Conflict(
            "You cannot deactivate your own account; another admin can.".into(),
        ));
    }
    let stays_admin = after_role == Role::Admin && after_active;
    if before.role == Role::Admin
        && before.active
        && !stays_admin
        && other_active_admins(conn, id)? == 0
    {
        return Err(AppError::Conflict(
            "At least one active admin must remain; make someone else admin first.".into(),
        ));
    }

    conn.prepare_cached(
        "UPDATE users SET email = ?2, name = ?3, role = ?4, active = ?5,
                          updated_at = ?6, version = version + 1
          WHERE id = ?1",
    )?
    .execute(params![
        id,
        email.as_ref().map_or(before.email.as_str(), |e| e.as_str()),
        name.as_deref().unwrap_or(&before.name),
        after_role.as_str(),
        after_active,
        Timestamp::now().to_stored(),
    ])?;
    if before.active && !after_active {
        sessions::revoke_all(conn, id)?;
    }
    let after = get(conn, id)?;
    let action = match (before.active, after_active) {
        (true, false) => "user.deactivate",
        (false, true) => "user.reactivate",
        _ => "user.update",
    };
    audit::record(
        conn,
        Entry::new(Some(actor_id), action, "user")
            .entity(id)
            .before(&before)
            .after(&after),
    )?;
    Ok(after)
}

fn other_active_admins(conn: &Connection, except: &str) -> AppResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM users WHERE role = 'admin' AND active = 1 AND id <> ?1",
        )?
        .query_row([except], |r| r.get(0))?)
}

/// Why a password is being replaced; recorded in the audit trail.
#[derive(Debug, Clone, Copy)]
pub enum PasswordChange {
    /// The user changed their own.
    ByUser,
    /// An admin (or the CLI) reset it.
    Reset,
}

/// Stores a new password hash and ends every session of the user.
pub fn set_password(
    conn: &Connection,
    actor_id: Option<&str>,
    user_id: &str,
    new_hash: &str,
    why: PasswordChange,
) -> AppResult<()> {
    let now = Timestamp::now().to_stored();
    let changed = conn
        .prepare_cached(
            "UPDATE users SET password_hash = ?2, password_changed_at = ?3, updated_at = ?3,
                              version = version + 1
              WHERE id = ?1",
        )?
        .execute(params![user_id, new_hash, now])?;
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    let ended = sessions::revoke_all(conn, user_id)?;
    let action = match why {
        PasswordChange::ByUser => "user.password_change",
        PasswordChange::Reset => "user.password_reset",
    };
    audit::record(
        conn,
        Entry::new(actor_id, action, "user")
            .entity(user_id)
            .after(&serde_json::json!({ "sessions_ended": ended })),
    )
}

pub fn record_login(conn: &Connection, user_id: &str) -> AppResult<()> {
    conn.prepare_cached("UPDATE users SET last_login_at = ?2 WHERE id = ?1")?
        .execute(params![user_id, Timestamp::now().to_stored()])?;
    audit::record(
        conn,
        Entry::new(Some(user_id), "user.login", "user").entity(user_id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut conn = crate::db::connection::open_in_memory().unwrap();
        crate::db::migrations::migrate(&mut conn, "mem").unwrap();
        conn
    }

    fn add(conn: &Connection, email: &str, role: &str) -> User {
        let input = NewUserInput {
            email: email.into(),
            name: "Someone".into(),
            role: role.into(),
            password: None,
        };
        insert(conn, None, &input.validate().unwrap(), "hash").unwrap()
    }

    #[test]
    fn validation_reports_every_field() {
        let input = NewUserInput {
            email: "nope".into(),
            name: " ".into(),
            role: "root".into(),
            password: Some("short".into()),
        };
        let err = input.validate().unwrap_err();
        let fields: Vec<_> = err
            .field_errors()
            .iter()
            .map(|e| e.field.as_str())
            .collect();
        assert_eq!(fields, ["email", "name", "role", "password"]);
    }

    #[test]
    fn emails_are_unique_regardless_of_case() {
        let conn = db();
        add(&conn, "ada@example.com", "sales");
        let input = NewUserInput {
            email: "ADA@example.com".into(),
            name: "Ada".into(),
            role: "sales".into(),
            password: None,
        };
        let err = insert(&conn, None, &input.validate().unwrap(), "h").unwrap_err();
        assert_eq!(err.field_errors()[0].field, "email");
    }

    #[test]
    fn the_last_admin_cannot_be_demoted_or_deactivated() {
        let conn = db();
        let admin = add(&conn, "admin@example.com", "admin");
        let demote = UserPatch {
            role: Some("sales".into()),
            ..Default::default()
        };
        assert!(matches!(
            update(&conn, &admin.id, &admin.id, &demote, None),
            Err(AppError::Conflict(_))
        ));
        let deactivate = UserPatch {
            active: Some(false),
            ..Default::default()
        };
        assert!(update(&conn, &admin.id, &admin.id, &deactivate, None).is_err());
        add(&conn, "second@example.com", "admin");
        let after = update(&conn, &admin.id, &admin.id, &demote, None).unwrap();
        assert_eq!(after.role, Role::Sales);
        assert_eq!(after.version, 2);
    }

    #[test]
    fn nobody_deactivates_themselves() {
        let conn = db();
        let admin = add(&conn, "admin@example.com", "admin");
        add(&conn, "second@example.com", "admin");
        let deactivate = UserPatch {
            active: Some(false),
            ..Default::default()
        };
        let err = update(&conn, &admin.id, &admin.id, &deactivate, None).unwrap_err();
        assert!(
            matches!(&err, AppError::Conflict(m) if m.contains("your own account")),
            "{err:?}"
        );
        assert!(get(&conn, &admin.id).unwrap().active);
        // Other changes to oneself stay possible.
        let rename = UserPatch {
            name: Some("Ada".into()),
            active: Some(true),
            ..Default::default()
        };
        assert_eq!(
            update(&conn, &admin.id, &admin.id, &rename, None)
                .unwrap()
                .name,
            "Ada"
        );
    }

    #[test]
    fn stale_version_changes_nothing() {
        let conn = db();
        let admin = add(&conn, "admin@example.com", "admin");
        let rep = add(&conn, "rep@example.com", "sales");
        let patch = UserPatch {
            name: Some("Renamed".into()),
            ..Default::default()
        };
        assert!(matches!(
            update(&conn, &admin.id, &rep.id, &patch, Some(7)),
            Err(AppError::PreconditionFailed)
        ));
        assert_eq!(get(&conn, &rep.id).unwrap().name, "Someone");
    }

    #[test]
    fn deactivation_ends_sessions() {
        let conn = db();
        let admin = add(&conn, "admin@example.com", "admin");
        let rep = add(&conn, "rep@example.com", "sales");
        let s = sessions::create(
            &conn,
            &rep.id,
            std::time::Duration::from_secs(60),
            None,
            None,
        )
        .unwrap();
        let patch = UserPatch {
            active: Some(false),
            ..Default::default()
        };
        update(&conn, &admin.id, &rep.id, &patch, None).unwrap();
        let p = sessions::lookup(&conn, &s.id).unwrap().unwrap();
        assert!(p.revoked && !p.active);
    }

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(escape_like("50%_off\\"), "50\\%\\_off\\\\");
    }
}
