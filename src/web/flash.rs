//! One-shot messages shown on the next page after a redirect. The cookie carries a code,
//! never text, so nobody can make the app display words of their choosing.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};

const COOKIE: &str = "rapport_flash";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flash {
    SignedOut,
    PasswordChanged,
    TokenRevoked,
    Welcome,
    SessionEnded,
    Created,
    Saved,
    Logged,
    TaskCreated,
    TaskCompleted,
    StageMoved,
    AllRead,
    Converted,
    Trashed,
    Restored,
    FileDeleted,
    FileUploaded,
    Merged,
    Assigned,
}

impl Flash {
    const ALL: [Flash; 19] = [
        Flash::SignedOut,
        Flash::PasswordChanged,
        Flash::TokenRevoked,
        Flash::Welcome,
        Flash::SessionEnded,
        Flash::Created,
        Flash::Saved,
        Flash::Logged,
        Flash::TaskCreated,
        Flash::TaskCompleted,
        Flash::StageMoved,
        Flash::AllRead,
        Flash::Converted,
        Flash::Trashed,
        Flash::Restored,
        Flash::FileDeleted,
        Flash::FileUploaded,
        Flash::Merged,
        Flash::Assigned,
    ];

    fn code(self) -> &'static str {
        match self {
            Flash::SignedOut => "signed-out",
            Flash::PasswordChanged => "password-changed",
            Flash::TokenRevoked => "token-revoked",
            Flash::Welcome => "welcome",
            Flash::SessionEnded => "session-ended",
            Flash::Created => "created",
            Flash::Saved => "saved",
            Flash::Logged => "logged",
            Flash::TaskCreated => "task-created",
            Flash::TaskCompleted => "task-completed",
            Flash::StageMoved => "stage-moved",
            Flash::AllRead => "all-read",
            Flash::Converted => "converted",
            Flash::Trashed => "trashed",
            Flash::Restored => "restored",
            Flash::FileDeleted => "file-deleted",
            Flash::FileUploaded => "file-uploaded",
            Flash::Merged => "merged",
            Flash::Assigned => "assigned",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Flash::SignedOut => "You are signed out.",
            Flash::PasswordChanged => {
                "Password changed. Every other device you were signed in on has been signed out."
            }
            Flash::TokenRevoked => "The token is revoked; integrations using it stop working now.",
            Flash::Welcome => "Welcome to Rapport. Your admin account is ready.",
            Flash::SessionEnded => "Your session has ended. Please sign in again.",
            Flash::Created => "Created.",
            Flash::Saved => "Changes saved.",
            Flash::Logged => "Logged on the timeline.",
            Flash::TaskCreated => "Task created.",
            Flash::TaskCompleted => "Task completed.",
            Flash::StageMoved => "Stage updated.",
            Flash::AllRead => "All notifications marked as read.",
            Flash::Converted => "Lead converted: it is now linked to this customer.",
            Flash::Trashed => {
                "Moved to the trash. You can restore it from the trash (in your account menu)."
            }
            Flash::Restored => "Restored from the trash.",
            Flash::FileDeleted => "File moved to the trash.",
            Flash::FileUploaded => "File uploaded.",
            Flash::Merged => {
                "Merged: the record you kept has their details and history; the others are in the trash."
            }
            Flash::Assigned => "The selected records have their new owner.",
        }
    }

    pub fn cookie(self) -> Cookie<'static> {
        Cookie::build(COOKIE, self.code())
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .finish()
    }

    pub fn from_request(req: &HttpRequest) -> Option<Flash> {
        let code = req.cookie(COOKIE)?;
        Flash::ALL.into_iter().find(|f| f.code() == code.value())
    }

    pub fn clear() -> Cookie<'static> {
        let mut c = Cookie::build(COOKIE, "").path("/").finish();
        c.make_removal();
        c
    }

    pub fn present(req: &HttpRequest) -> bool {
        req.cookie(COOKIE).is_some()
    }
}
