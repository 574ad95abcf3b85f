//! CSRF tokens for requests authenticated by cookie. A token is an HMAC of what it is bound
//! to: the session id once signed in, or a random pre-session cookie on the sign-in and
//! setup forms. A page from another origin can neither read nor compute it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header fetch() calls send the token in.
pub const HEADER: &str = "x-csrf-token";
/// The hidden field forms send it in.
pub const FIELD: &str = "csrf_token";

fn mac(key: &[u8], binding: &str) -> Hmac<Sha256> {
    // HMAC accepts keys of any length: `new_from_slice` cannot fail here.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    m.update(b"csrf:");
    m.update(binding.as_bytes());
    m
}

pub fn token(key: &[u8], binding: &str) -> String {
    URL_SAFE_NO_PAD.encode(mac(key, binding).finalize().into_bytes())
}

/// Constant-time comparison of a presented token.
pub fn verify(key: &[u8], binding: &str, presented: &str) -> bool {
    match URL_SAFE_NO_PAD.decode(presented.trim()) {
        Ok(bytes) => mac(key, binding).verify_slice(&bytes).is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound() {
        let key = [1u8; 32];
        let t = token(&key, "session-a");
        assert!(verify(&key, "session-a", &t));
        assert!(!verify(&key, "session-b", &t));
        assert!(!verify(&[2u8; 32], "session-a", &t));
        assert!(!verify(&key, "session-a", ""));
        assert!(!verify(&key, "session-a", "not base64 !!"));
    }
}
