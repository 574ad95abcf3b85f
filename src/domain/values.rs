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
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        // RFC 5322's dot-atom (letters beyond ASCII allowed, as RFC 6531 does): this turns
        // away what people paste by mistake, like `mailto:` prefixes or "n/a".
        let valid_local = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
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

/// An optional single-line text: trimmed, empty becomes `None`, bounded in characters.
pub fn optional_text(
    field: &str,
    raw: Option<&str>,
    max: usize,
) -> Result<Option<String>, FieldError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => required_text(field, s, max).map(Some),
    }
}

/// A longer text that may span lines (notes, addresses, descriptions): control characters
/// other than newlines and tabs are refused.
pub fn multiline_text(
    field: &str,
    raw: Option<&str>,
    max: usize,
) -> Result<Option<String>, FieldError> {
    let Some(s) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if s.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(Some(s.to_owned()))
}

/// A web domain as people paste it (`https://www.Acme.com/about`) normalised to `acme.com`,
/// so the same company is recognised however it was typed.
pub fn domain(field: &str, raw: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(s) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let lower = s.to_lowercase();
    let without_scheme = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    let host = without_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("")
        .split(':')
        .next()
        .unwrap_or("");
    let host = host
        .strip_prefix("www.")
        .unwrap_or(host)
        .trim_end_matches('.');
    let valid = host.len() <= 253
        && host.contains('.')
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if !valid {
        return Err(FieldError::new(
            field,
            "must be a web domain like example.com",
        ));
    }
    Ok(Some(host.to_owned()))
}

/// A phone number as typed: digits and the usual punctuation, at least 3 digits.
pub fn phone(field: &str, raw: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(s) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    // "ext" is the only word a phone number may carry.
    let plain = s.to_lowercase().replace("ext", "x");
    let allowed = |c: char| c.is_ascii_digit() || " +-().x/".contains(c);
    let digits = s.chars().filter(char::is_ascii_digit).count();
    if s.chars().count() > 40 || !plain.chars().all(allowed) || digits < 3 {
        return Err(FieldError::new(
            field,
            "must be a phone number like +1 555 0100",
        ));
    }
    Ok(Some(s.to_owned()))
}

/// An optional e-mail address.
pub fn optional_email(field: &str, raw: Option<&str>) -> Result<Option<String>, FieldError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => Email::parse(field, s).map(|e| Some(e.into_string())),
    }
}

/// A calendar date `YYYY-MM-DD`.
pub fn date(field: &str, raw: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(s) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    crate::domain::clock::parse_day(s)
        .map(|_| Some(s.to_owned()))
        .ok_or_else(|| FieldError::new(field, "must be a date like 2026-12-31"))
}

/// A point in time, RFC 3339, stored in UTC.
pub fn instant(field: &str, raw: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(s) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    crate::domain::clock::Timestamp::parse(s)
        .map(|t| Some(t.to_stored()))
        .ok_or_else(|| FieldError::new(field, "must be a time like 2026-12-31T09:00:00Z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        for good in [
            "o'brien@example.ie",
            "ada+crm@example.com",
            "jürgen@müller.de",
        ] {
            assert!(Email::parse("email", good).is_ok(), "{good:?} refused");
        }
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
            "mailto:ada@example.com",
            "ada..king@example.com",
            "ada@-example.com",
            "ada@example.com (old)",
            "n/a",
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
    fn domains_are_normalised() {
        for raw in [
            "acme.com",
            "https://www.Acme.com/about",
            "http://acme.com:8080",
            "WWW.ACME.COM.",
        ] {
            assert_eq!(
                domain("domain", Some(raw)).unwrap().as_deref(),
                Some("acme.com"),
                "{raw}"
            );
        }
        assert_eq!(domain("domain", Some("  ")).unwrap(), None);
        for bad in [
            "acme",
            "acme..com",
            "-acme.com",
            "ac me.com",
            "<script>.com",
        ] {
            assert!(domain("domain", Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones_dates_and_times() {
        assert!(phone("phone", Some("+1 (555) 010-0199 ext 12")).is_ok());
        assert!(phone("phone", Some("=HYPERLINK(1)")).is_err());
        assert!(phone("phone", Some("12")).is_err());
        assert!(date("d", Some("2026-02-28")).is_ok());
        assert!(date("d", Some("2026-02-30")).is_err());
        assert_eq!(
            instant("t", Some("2026-01-01T10:00:00+01:00"))
                .unwrap()
                .as_deref(),
            Some("2026-01-01T09:00:00.000Z")
        );
        assert!(instant("t", Some("tomorrow")).is_err());
    }

    #[test]
    fn multiline_keeps_newlines_but_not_other_controls() {
        assert_eq!(
            multiline_text("a", Some(" 1 Main St\nSpringfield "), 100)
                .unwrap()
                .as_deref(),
            Some("1 Main St\nSpringfield")
        );
        assert!(multiline_text("a", Some("x\u{0}y"), 100).is_err());
    }

    #[test]
    fn required_text_trims_and_bounds() {
        assert_eq!(required_text("name", "  Ada ", 10).unwrap(), "Ada");
        assert!(required_text("name", "   ", 10).is_err());
        assert!(required_text("name", "abcdefghijk", 10).is_err());
        assert!(required_text("name", "a\u{0}b", 10).is_err());
    }
}
