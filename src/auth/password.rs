//! bcrypt, always on the blocking thread pool: one verification at cost 12 takes a quarter
//! of a second of CPU, which would stall every request sharing an async worker.

use std::sync::OnceLock;

use crate::domain::values::Password;
use crate::error::{AppError, AppResult};

pub const MIN_COST: u32 = 4;
pub const MAX_COST: u32 = 16;
pub const DEFAULT_COST: u32 = 12;

pub fn hash_blocking(password: &Password, cost: u32) -> AppResult<String> {
    bcrypt::non_truncating_hash(password.expose(), cost).map_err(AppError::internal)
}

/// Verifies `candidate` against `stored`, or against a dummy hash of the same cost when
/// there is no such user, so that an unknown e-mail costs the same time as a wrong password.
/// Input longer than bcrypt's 72 bytes never matches (it would otherwise be truncated).
pub fn verify_blocking(candidate: &str, stored: Option<&str>, cost: u32) -> bool {
    let dummy;
    let hash = match stored {
        Some(h) => h,
        None => {
            dummy = dummy_hash(cost);
            dummy.as_str()
        }
    };
    let matched = bcrypt::non_truncating_verify(candidate, hash).unwrap_or(false);
    matched && stored.is_some()
}

fn dummy_hash(cost: u32) -> &'static String {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        bcrypt::hash("rapport-dummy-password", cost).unwrap_or_else(|_| {
            "$2b$12$C6UzMDM.H6dfI/f/IKxGhuCUPvNh6Bw7bj.lyx4Y6n0nP1Z7Xj.Su".into()
        })
    })
}

pub async fn hash(password: Password, cost: u32) -> AppResult<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password, cost))
        .await
        .map_err(AppError::internal)?
}

pub async fn verify(candidate: String, stored: Option<String>, cost: u32) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || verify_blocking(&candidate, stored.as_deref(), cost))
        .await
        .map_err(AppError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let p = Password::parse("p", "correct horse").unwrap();
        let h = hash_blocking(&p, MIN_COST).unwrap();
        assert!(verify_blocking("correct horse", Some(&h), MIN_COST));
        assert!(!verify_blocking("wrong horse", Some(&h), MIN_COST));
    }

    #[test]
    fn unknown_user_runs_a_verification_and_fails() {
        assert!(!verify_blocking("rapport-dummy-password", None, MIN_COST));
    }

    #[test]
    fn over_long_candidates_never_match_a_prefix() {
        let seventy_two = "a".repeat(72);
        let p = Password::parse("p", &"a".repeat(64)).unwrap();
        let h = hash_blocking(&p, MIN_COST).unwrap();
        assert!(!verify_blocking(
            &format!("{seventy_two}tail"),
            Some(&h),
            MIN_COST
        ));
    }
}
