//! Session tokens: HS256 JWTs, algorithm pinned.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::clock::Timestamp;

/// Clock skew tolerated between servers and clients, in seconds.
const LEEWAY_SECS: u64 = 30;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The session id, checked against the `sessions` table on every request.
    pub sid: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

/// The keys derived from the instance secret.
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// A separate key for CSRF tokens, so a CSRF token can never double as a signature.
    pub csrf: [u8; 32],
}

impl Keys {
    pub fn from_secret(secret: &[u8]) -> Keys {
        use hmac::{Hmac, Mac};
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        // HMAC accepts keys of any length: `new_from_slice` cannot fail here.
        let mut mac =
            Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC accepts any key length");
        mac.update(b"rapport csrf key");
        let csrf = mac.finalize().into_bytes().into();
        Keys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            csrf,
        }
    }

    pub fn sign(&self, user_id: &str, session_id: &str, expires_at: Timestamp) -> String {
        let now = Timestamp::now().unix();
        let claims = Claims {
            sub: user_id.to_owned(),
            sid: session_id.to_owned(),
            iat: now,
            nbf: now,
            exp: expires_at.unix(),
        };
        // Encoding HS256 claims of plain strings and integers cannot fail.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .unwrap_or_default()
    }

    /// Checks signature, algorithm (HS256 only: `none` and every other alg are refused),
    /// expiry and not-before. Issued-in-the-future tokens are refused too.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        let now = Timestamp::now().unix();
        (data.claims.iat <= now + LEEWAY_SECS as i64).then_some(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn keys() -> Keys {
        Keys::from_secret(&[7u8; 32])
    }

    fn in_an_hour() -> Timestamp {
        Timestamp::now().plus(std::time::Duration::from_secs(3600))
    }

    fn forge(header: &str, claims: &serde_json::Value, signature: &str) -> String {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            signature
        )
    }

    #[test]
    fn round_trip() {
        let token = keys().sign("u1", "s1", in_an_hour());
        let claims = keys().verify(&token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.sid.as_str()), ("u1", "s1"));
    }

    #[test]
    fn wrong_key_is_refused() {
        let token = Keys::from_secret(&[8u8; 32]).sign("u1", "s1", in_an_hour());
        assert!(keys().verify(&token).is_none());
    }

    #[test]
    fn alg_none_and_other_algs_are_refused() {
        let now = Timestamp::now().unix();
        let claims = serde_json::json!({"sub":"u1","sid":"s1","iat":now,"nbf":now,"exp":now+3600});
        assert!(
            keys()
                .verify(&forge(r#"{"alg":"none","typ":"JWT"}"#, &claims, ""))
                .is_none()
        );
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(&[7u8; 32]),
        )
        .unwrap();
        assert!(keys().verify(&hs512).is_none());
    }

    #[test]
    fn expired_and_not_yet_valid_are_refused() {
        let k = keys();
        let past = Timestamp::now().minus(std::time::Duration::from_secs(3600));
        assert!(k.verify(&k.sign("u1", "s1", past)).is_none());
        let now = Timestamp::now().unix();
        let future =
            serde_json::json!({"sub":"u1","sid":"s1","iat":now+7200,"nbf":now+7200,"exp":now+9000});
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &future,
            &EncodingKey::from_secret(&[7u8; 32]),
        )
        .unwrap();
        assert!(k.verify(&token).is_none());
    }

    #[test]
    fn tampered_claims_are_refused() {
        let token = keys().sign("u1", "s1", in_an_hour());
        let mut parts: Vec<String> = token.split('.').map(String::from).collect();
        let now = Timestamp::now().unix();
        parts[1] = URL_SAFE_NO_PAD.encode(
            serde_json::json!({"sub":"admin","sid":"s1","iat":now,"nbf":now,"exp":now+3600})
                .to_string(),
        );
        assert!(keys().verify(&parts.join(".")).is_none());
    }
}
