//! Values parsed from user input. A value of these types has passed its rules.

use crate::error::FieldError;

/// An e-mail address, trimmed and lower-cased so that look-ups are exact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(field: &str, raw: &str) -> Result<Email, FieldError> {
        let s = raw.trim().to_lowercase();
        let err = |m: &str| Err(FieldError::new(field, m));
        if s.is_empty() {
            return err("is required");
        }
        if s.chars().count() > Self::MAX_LEN {
            return err("must be at most 254 characters");
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return err("must be an e-mail address like name@example.com");
        };
        let valid_domain = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let valid_local = !local.is_empty()
            && local.len() <= 64
            && !local.contains('@')
            && !local.chars().any(|c| c.is_whitespace() || c.is_control());
        if !valid_domain || !valid_local {
            return err("must be an e-mail address like name@example.com");
        }
        Ok(Email(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A new password: 8 to 64 characters and at most 72 bytes (bcrypt's limit). Longer input is
/// refused, never truncated, so two passwords that share 72 bytes cannot both unlock an account.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

impl Password {
    pub fn parse(field: &str, raw: &str) -> Result<Password, FieldError> {
        let chars = raw.chars().count();
        if chars < 8 {
            return Err(FieldError::new(field, "must be at least 8 characters"));
        }
        if chars > 64 {
            return Err(FieldError::new(field, "must be at most 64 characters"));
        }
        if raw.len() > 72 {
            return Err(FieldError::new(
                field,
                "must be at most 72 bytes (accented letters and symbols count as 2–4 bytes)",
            ));
        }
        Ok(Password(raw.to_owned()))
    }

    /// A random password for resets and CLI-created users: 20 characters from an alphabet
    /// without look-alikes (about 115 bits).
    pub fn generate() -> Password {
        use rand::Rng;
        const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let mut rng = rand::rng();
        let s = (0..20)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect();
        Password(s)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A required single-line text, trimmed, with a length bound in characters.
pub fn required_text(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if s.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if s.chars().any(|c| c.is_control()) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("email", "  Ada@Example.COM ")
                .unwrap()
                .as_str(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "ada@exa mple.com",
            "ada@.example.com",
            "ada@example..com",
            "a@b@example.com",
            "ada@example.com'; DROP TABLE users;--",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad:?} accepted");
        }
        assert!(Email::parse("email", "josé@exämple.de").is_ok());
    }

    #[test]
    fn password_bounds_count_characters_and_bytes() {
        assert!(Password::parse("p", "short").is_err());
        assert!(Password::parse("p", "12345678").is_ok());
        assert!(Password::parse("p", &"x".repeat(64)).is_ok());
        assert!(Password::parse("p", &"x".repeat(65)).is_err());
        // 40 characters but 80 bytes: refused rather than silently truncated by bcrypt.
        let wide = "é".repeat(40);
        let err = Password::parse("p", &wide).unwrap_err();
        assert!(err.message.contains("72 bytes"));
        assert!(Password::parse("p", &"é".repeat(36)).is_ok());
    }

    #[test]
    fn generated_passwords_pass_the_rules_and_differ() {
        let a = Password::generate();
        let b = Password::generate();
        assert!(Password::parse("p", a.expose()).is_ok());
        assert_ne!(a, b);
    }

    #[test]
    fn required_text_trims_and_bounds() {
        assert_eq!(required_text("name", "  Ada ", 10).unwrap(), "Ada");
        assert!(required_text("name", "   ", 10).is_err());
        assert!(required_text("name", "abcdefghijk", 10).is_err());
        assert!(required_text("name", "a\u{0}b", 10).is_err());
    }
}
