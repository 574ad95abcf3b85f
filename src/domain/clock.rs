//! Time as Rapport stores it: RFC 3339 UTC with millisecond precision, which sorts as text.
//! Days are the instance's ([`Zone`]).

pub mod zone;

pub use zone::{Day, Zone};

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, UtcOffset};

const STORED: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    pub fn now() -> Self {
        Self(OffsetDateTime::now_utc())
    }

    pub fn from_unix(secs: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp(secs).ok().map(Self)
    }

    pub fn unix(&self) -> i64 {
        self.0.unix_timestamp()
    }

    pub fn plus(&self, d: std::time::Duration) -> Self {
        Self(self.0 + Duration::try_from(d).unwrap_or(Duration::MAX))
    }

    pub fn minus(&self, d: std::time::Duration) -> Self {
        Self(self.0 - Duration::try_from(d).unwrap_or(Duration::MAX))
    }

    /// The stored and serialised form, e.g. `2026-11-22T08:15:00.000Z`.
    pub fn to_stored(&self) -> String {
        let t = self.0.to_offset(UtcOffset::UTC);
        if !(0..=9999).contains(&t.year()) {
            return t
                .format(STORED)
                .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".into());
        }
        // Written out by hand for the years that have four digits: the format description's
        // interpreter was 6% of the time `rapport demo` takes.
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        )
    }

    pub fn parse(s: &str) -> Option<Self> {
        OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .ok()
            .map(|t| Self(t.to_offset(UtcOffset::UTC)))
    }
}

/// A calendar date written `YYYY-MM-DD` (surrounding spaces ignored); `None` for anything
/// else, including dates that do not exist.
pub fn parse_day(raw: &str) -> Option<time::Date> {
    time::Date::parse(raw.trim(), format_description!("[year]-[month]-[day]")).ok()
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_stored())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_round_trips_and_sorts_as_text() {
        let a = Timestamp::from_unix(1_700_000_000).unwrap();
        let b = a.plus(std::time::Duration::from_millis(1500));
        assert_eq!(a.to_stored(), "2023-11-14T22:13:20.000Z");
        assert_eq!(Timestamp::parse(&a.to_stored()), Some(a));
        assert!(a.to_stored() < b.to_stored());
        assert_eq!(
            Timestamp::parse("2023-11-14T23:13:20+01:00"),
            Some(a),
            "offsets are normalised to UTC"
        );
    }

    #[test]
    fn the_written_out_form_matches_the_format_description() {
        let start = Timestamp::from_unix(-62_135_596_800).unwrap(); // 0001-01-01
        let mut t = start;
        let step = std::time::Duration::from_millis(86_400_000 * 37 + 3_723_456);
        while t.0.year() < 9999 {
            let expected = t.0.format(STORED).unwrap();
            assert_eq!(t.to_stored(), expected);
            t = t.plus(step);
        }
        let before_year_zero = Timestamp::from_unix(-62_200_000_000).unwrap();
        assert_eq!(
            before_year_zero.to_stored(),
            before_year_zero.0.format(STORED).unwrap()
        );
    }
}
