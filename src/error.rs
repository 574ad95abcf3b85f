//! The one application error. Handlers and domain code return `AppError`; `http::problem`
//! turns it into RFC 9457 problem+json and `web::error` into a page. The message meant for
//! the user is kept apart from the cause meant for the log.

use std::fmt;

/// One failing field of a validation error.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("not authenticated")]
    Unauthorized,
    /// A failed sign-in: the same answer for an unknown e-mail and a wrong password.
    #[error("wrong e-mail or password")]
    InvalidCredentials,
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Also the answer for records the caller may not see, so ids leak nothing.
    #[error("not found")]
    NotFound,
    /// `allow` lists the methods the resource answers (empty when not known).
    #[error("method not allowed")]
    MethodNotAllowed { allow: String },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("the record changed since it was read")]
    PreconditionFailed,
    #[error("body too large (limit {limit} bytes)")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported content type: expected {expected}")]
    UnsupportedMediaType { expected: &'static str },
    /// A `Range` none of whose bytes exist in a representation of `size` bytes.
    #[error("range not satisfiable (size {size})")]
    RangeNotSatisfiable { size: u64 },
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A bug or an environment failure; the cause goes to the log, never to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn internal(cause: impl fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn status_code(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Unauthorized | Self::InvalidCredentials => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed { .. } => 405,
            Self::Conflict(_) => 409,
            Self::PreconditionFailed => 412,
            Self::PayloadTooLarge { .. } => 413,
            Self::UnsupportedMediaType { .. } => 415,
            Self::RangeNotSatisfiable { .. } => 416,
            Self::Validation(_) => 422,
            Self::RateLimited { .. } => 429,
            Self::Unavailable(_) => 503,
            Self::Internal(_) => 500,
        }
    }

    /// The short, stable summary of the problem type.
    pub fn title(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "Malformed request",
            Self::Unauthorized => "Not authenticated",
            Self::InvalidCredentials => "Sign-in failed",
            Self::Forbidden(_) => "Not allowed",
            Self::NotFound => "Not found",
            Self::MethodNotAllowed { .. } => "Method not allowed",
            Self::Conflict(_) => "Conflict",
            Self::PreconditionFailed => "Precondition failed",
            Self::PayloadTooLarge { .. } => "Body too large",
            Self::UnsupportedMediaType { .. } => "Unsupported content type",
            Self::RangeNotSatisfiable { .. } => "Range not satisfiable",
            Self::Validation(_) => "Validation failed",
            Self::RateLimited { .. } => "Too many requests",
            Self::Unavailable(_) => "Service unavailable",
            Self::Internal(_) => "Internal error",
        }
    }

    /// What the user is told. Internal causes are never shown.
    pub fn detail(&self) -> String {
        match self {
            Self::BadRequest(m) | Self::Forbidden(m) | Self::Conflict(m) | Self::Unavailable(m) => {
                m.clone()
            }
            Self::Unauthorized => "Sign in, or send a valid bearer token.".into(),
            Self::InvalidCredentials => "Wrong e-mail or password.".into(),
            Self::NotFound => "No such resource, or you may not see it.".into(),
            Self::MethodNotAllowed { allow } if allow.is_empty() => {
                "This resource does not accept that method.".into()
            }
            Self::MethodNotAllowed { allow } => {
                format!("This resource does not accept that method; it accepts {allow}.")
            }
            Self::PreconditionFailed => {
                "The record was changed by someone else; reload it and apply your change again."
                    .into()
            }
            Self::PayloadTooLarge { limit } => format!("The body exceeds {limit} bytes."),
            Self::UnsupportedMediaType { expected } => format!("Send the body as {expected}."),
            Self::RangeNotSatisfiable { size } => {
                format!("The range asks for bytes past the end; the file has {size} bytes.")
            }
            Self::Validation(errors) => match errors.len() {
                1 => format!("{}: {}", errors[0].field, errors[0].message),
                n => format!("{n} fields are invalid."),
            },
            Self::RateLimited { retry_after_secs } => {
                format!("Too many attempts; try again in {retry_after_secs} s.")
            }
            Self::Internal(_) => "Something went wrong on our side; it has been logged.".into(),
        }
    }

    /// The slug used in the problem `type` URI.
    pub fn slug(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "malformed-request",
            Self::Unauthorized => "unauthenticated",
            Self::InvalidCredentials => "invalid-credentials",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound => "not-found",
            Self::MethodNotAllowed { .. } => "method-not-allowed",
            Self::Conflict(_) => "conflict",
            Self::PreconditionFailed => "precondition-failed",
            Self::PayloadTooLarge { .. } => "payload-too-large",
            Self::UnsupportedMediaType { .. } => "unsupported-media-type",
            Self::RangeNotSatisfiable { .. } => "range-not-satisfiable",
            Self::Validation(_) => "validation",
            Self::RateLimited { .. } => "rate-limited",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            Self::Validation(errors) => errors,
            _ => &[],
        }
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(err: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match &err {
            rusqlite::Error::QueryReturnedNoRows => Self::NotFound,
            rusqlite::Error::SqliteFailure(e, _) if e.code == ErrorCode::DatabaseBusy => {
                Self::Unavailable("The database is busy; try again.".into())
            }
            _ => Self::Internal(format!("sqlite: {err}")),
        }
    }
}

impl From<r2d2::Error> for AppError {
    fn from(err: r2d2::Error) -> Self {
        Self::Internal(format!("connection pool: {err}"))
    }
}

/// Collects field errors so a validator reports every failing field at once.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldError>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Keeps the parsed value when `result` is Ok, records the error otherwise.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    pub fn into_result(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.0))
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
