//! Closed sets of values (a task's status, an activity's kind…), stored and sent as
//! lower-case text and parsed from input with a message that lists what is allowed.

use rusqlite::Row;

use crate::error::FieldError;

/// A closed set of values, stored and sent as lower-case text.
pub trait Choice: Copy + PartialEq + 'static {
    const ALL: &'static [(Self, &'static str)];

    fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(v, _)| *v == self)
            .map_or("", |(_, s)| *s)
    }

    fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|(_, s)| *s).collect()
    }

    /// The value named `raw`, or an error for `field` listing the allowed values.
    fn parse(field: &str, raw: Option<&str>) -> Result<Self, FieldError> {
        raw.and_then(|r| Self::ALL.iter().find(|(_, s)| *s == r.trim()))
            .map(|(v, _)| *v)
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    format!("must be one of: {}", Self::names().join(", ")),
                )
            })
    }

    /// Reads a column that the schema's CHECK constraint keeps to these values.
    fn column(r: &Row<'_>, i: usize) -> rusqlite::Result<Self> {
        let s: String = r.get(i)?;
        Self::ALL
            .iter()
            .find(|(_, n)| *n == s)
            .map(|(v, _)| *v)
            .ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    i,
                    rusqlite::types::Type::Text,
                    format!("unexpected value {s:?}").into(),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Colour {
        Red,
        Green,
    }

    impl Choice for Colour {
        const ALL: &'static [(Self, &'static str)] = &[(Self::Red, "red"), (Self::Green, "green")];
    }

    #[test]
    fn choices_parse_and_name_themselves() {
        assert_eq!(Colour::parse("colour", Some(" green ")), Ok(Colour::Green));
        assert_eq!(Colour::Red.as_str(), "red");
        let err = Colour::parse("colour", Some("blue")).unwrap_err();
        assert_eq!(err.field, "colour");
        assert_eq!(err.message, "must be one of: red, green");
        assert!(Colour::parse("colour", None).is_err());
    }
}
