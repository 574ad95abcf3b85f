//! The authenticated caller, resolved inside a database job.

use rusqlite::Connection;

use crate::auth::credentials::Credentials;
use crate::auth::permissions::{self, Capability, Ownership, Record, RecordAction, Role};
use crate::domain::clock::Timestamp;
use crate::domain::{sessions, tokens};
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: String,
    pub role: Role,
    pub name: String,
    pub email: String,
    pub via: Via,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Session {
        session_id: String,
    },
    ApiToken {
        token_id: String,
        needs_touch: bool,
    },
    /// `rapport import` and other commands run by whoever holds the database file.
    CommandLine,
    /// An import job working through a file on behalf of the user who started it.
    Import,
}

impl Actor {
    /// 403 unless the role has `capability`.
    pub fn require(&self, capability: Capability) -> AppResult<()> {
        if permissions::has(self.role, capability) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "Your role ({}) may not do this.",
                self.role.as_str()
            )))
        }
    }

    pub fn may(&self, action: RecordAction, record: Record, ownership: Ownership) -> bool {
        permissions::may(self.role, action, record, ownership)
    }

    pub fn may_attachment(
        &self,
        action: permissions::AttachmentAction,
        parent: Record,
        parent_ownership: Ownership,
        uploader: Ownership,
    ) -> bool {
        permissions::may_attachment(self.role, action, parent, parent_ownership, uploader)
    }

    pub fn session_id(&self) -> Option<&str> {
        match &self.via {
            Via::Session { session_id } => Some(session_id),
            Via::ApiToken { .. } | Via::CommandLine | Via::Import => None,
        }
    }

    /// Whether the changes made this way notify the people they concern. Bulk work (imports,
    /// demo data from the command line) does not: it would bury the team in notices.
    pub fn notifies_others(&self) -> bool {
        matches!(self.via, Via::Session { .. } | Via::ApiToken { .. })
    }

    /// The same user, acting through an import job.
    pub fn for_import(&self) -> Actor {
        Actor {
            via: Via::Import,
            ..self.clone()
        }
    }
}

/// Checks the session or token behind `credentials` against the database: it must exist,
/// not be revoked, and belong to an active user.
pub fn authenticate(conn: &Connection, credentials: &Credentials) -> AppResult<Actor> {
    match credentials {
        Credentials::Session {
            user_id,
            session_id,
            ..
        } => {
            let p = sessions::lookup(conn, session_id)?.ok_or(AppError::Unauthorized)?;
            if p.revoked || !p.active || &p.user_id != user_id {
                return Err(AppError::Unauthorized);
            }
            Ok(Actor {
                user_id: p.user_id,
                role: p.role,
                name: p.name,
                email: p.email,
                via: Via::Session {
                    session_id: session_id.clone(),
                },
            })
        }
        Credentials::ApiToken { digest } => {
            let t = tokens::lookup(conn, digest)?.ok_or(AppError::Unauthorized)?;
            if t.principal.revoked || !t.principal.active {
                return Err(AppError::Unauthorized);
            }
            let needs_touch = tokens::needs_touch(t.last_used_at.as_deref(), Timestamp::now());
            Ok(Actor {
                user_id: t.principal.user_id,
                role: t.principal.role,
                name: t.principal.name,
                email: t.principal.email,
                via: Via::ApiToken {
                    token_id: t.token_id,
                    needs_touch,
                },
            })
        }
    }
}
