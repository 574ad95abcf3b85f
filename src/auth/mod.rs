//! Who is calling, and what they may do.
//!
//! A request carries a JWT (bearer header or the browser's cookie) or a personal API token.
//! [`credentials`] checks what can be checked without the database (signature, expiry, CSRF);
//! [`actor::authenticate`] then checks the session or token row, inside the same database job
//! as the request's own work, so revocation takes effect on the very next request.

pub mod accounts;
pub mod actor;
pub mod client_addr;
pub mod credentials;
pub mod csrf;
pub mod jwt;
pub mod login;
pub mod password;
pub mod permissions;
pub mod rate_limit;

pub use actor::Actor;
pub use credentials::Credentials;
