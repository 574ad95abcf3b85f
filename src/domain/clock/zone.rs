//! The instance's timezone (`--timezone`): what "today" and "this month" mean. Times stay
//! stored as UTC; only days are local. The tz database is jiff's copy inside the binary, so
//! Rapport needs no `/usr/share/zoneinfo` (a scratch container has none).

use jiff::tz::TimeZone;
use time::Date;

use super::Timestamp;

/// An IANA time zone, e.g. `Europe/Berlin`. Cheap to clone.
#[derive(Clone)]
pub struct Zone(TimeZone);

const SECONDS_PER_DAY: i64 = 86_400;

impl Zone {
    pub fn utc() -> Zone {
        Zone(TimeZone::UTC)
    }

    /// An IANA name, in any letter case (`america/new_york` is `America/New_York`).
    pub fn parse(name: &str) -> Result<Zone, String> {
        TimeZone::get(name.trim())
            .ok()
            .filter(|tz| tz.iana_name().is_some())
            .map(Zone)
            .ok_or_else(|| {
                format!(
                    "unknown time zone {name:?}: expected an IANA name such as UTC, \
                     Europe/Berlin or America/New_York"
                )
            })
    }

    /// The canonical IANA name, e.g. `America/New_York`.
    pub fn name(&self) -> &str {
        self.0.iana_name().unwrap_or("UTC")
    }

    /// Today here.
    pub fn today(&self) -> Date {
        self.date_of(Timestamp::now())
    }

    /// The local date of an instant.
    pub fn date_of(&self, at: Timestamp) -> Date {
        let days = self.local_seconds(at.unix()).div_euclid(SECONDS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        time::Month::try_from(m)
            .ok()
            .and_then(|m| Date::from_calendar_date(y as i32, m, d).ok())
            .unwrap_or(Date::MIN)
    }

    /// The first instant of `day` here: its midnight, or the end of a gap that skips
    /// midnight (America/Santiago springs forward at 24:00). `None` only far outside the
    /// years anyone keeps records for.
    pub fn start_of(&self, day: Date) -> Option<Timestamp> {
        let date = jiff::civil::Date::new(
            i16::try_from(day.year()).ok()?,
            day.month() as i8,
            day.day() as i8,
        )
        .ok()?;
        let start = date.to_zoned(self.0.clone()).ok()?.start_of_day().ok()?;
        Timestamp::from_unix(start.timestamp().as_second())
    }

    /// Seconds since the epoch, moved by this zone's offset at that instant.
    fn local_seconds(&self, unix: i64) -> i64 {
        let offset =
            jiff::Timestamp::from_second(unix).map_or(0, |t| self.0.to_offset(t).seconds());
        unix + i64::from(offset)
    }

    /// The local day of a stored time (`2026-03-01T02:00:00.000Z`, or any RFC 3339 time
    /// with an offset) as the report tables key days; a bare date is its own day. `None`
    /// for anything else. The SQL function `local_day` (see `db::local_day`) calls this
    /// on every write that moves a figure, so the stored form is read without allocating.
    pub fn local_day(&self, at: &[u8]) -> Option<Day> {
        if let Some(day) = Day::parse(at) {
            return Some(day);
        }
        let unix = unix_seconds(at)?;
        Day::from_days(self.local_seconds(unix).div_euclid(SECONDS_PER_DAY))
    }

    /// A stored time as a clock here reads it, `YYYY-MM-DD HH:MM`; a bare date is its own
    /// day. `None` for anything else.
    pub fn wall_clock(&self, at: &str) -> Option<String> {
        if Day::parse(at.as_bytes()).is_some() {
            return Some(at.to_owned());
        }
        let local = self.local_seconds(unix_seconds(at.as_bytes())?);
        let day = Day::from_days(local.div_euclid(SECONDS_PER_DAY))?;
        let seconds = local.rem_euclid(SECONDS_PER_DAY);
        Some(format!(
            "{} {:02}:{:02}",
            day.as_str(),
            seconds / 3600,
            seconds / 60 % 60
        ))
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Zone {}

impl std::fmt::Debug for Zone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Zone({})", self.name())
    }
}

impl std::fmt::Display for Zone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Zone {
    type Err = String;

    fn from_str(s: &str) -> Result<Zone, String> {
        Zone::parse(s)
    }
}

/// A day as the report tables key it, `YYYY-MM-DD`, held inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Day([u8; 10]);

impl Day {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// Exactly `YYYY-MM-DD`, a real date.
    fn parse(s: &[u8]) -> Option<Day> {
        let bytes: [u8; 10] = s.try_into().ok()?;
        date_fields(&bytes)?;
        Some(Day(bytes))
    }

    /// The day `days` after 1970-01-01, for years 0 to 9999.
    fn from_days(days: i64) -> Option<Day> {
        let (y, m, d) = civil_from_days(days);
        if !(0..=9999).contains(&y) {
            return None;
        }
        let mut out = *b"0000-00-00";
        let y = y as u16;
        out[0] = b'0' + (y / 1000) as u8;
        out[1] = b'0' + (y / 100 % 10) as u8;
        out[2] = b'0' + (y / 10 % 10) as u8;
        out[3] = b'0' + (y % 10) as u8;
        out[5] = b'0' + m / 10;
        out[6] = b'0' + m % 10;
        out[8] = b'0' + d / 10;
        out[9] = b'0' + d % 10;
        Some(Day(out))
    }
}

impl std::fmt::Debug for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Day({})", self.as_str())
    }
}

/// Seconds since the epoch of an RFC 3339 time. The stored form (`…T08:15:00.000Z`) is
/// read by hand; any other offset goes through jiff's parser.
fn unix_seconds(s: &[u8]) -> Option<i64> {
    let fixed = s.len() >= 20
        && s[10] == b'T'
        && s[13] == b':'
        && s[16] == b':'
        && s[s.len() - 1] == b'Z'
        && match &s[19..s.len() - 1] {
            [] => true,
            [b'.', digits @ ..] => !digits.is_empty() && digits.iter().all(u8::is_ascii_digit),
            _ => false,
        };
    if fixed {
        let (y, m, d) = date_fields(&s[..10])?;
        let (h, min, sec) = (num(&s[11..13])?, num(&s[14..16])?, num(&s[17..19])?);
        if h > 23 || min > 59 || sec > 59 {
            return None;
        }
        let days = days_from_civil(i64::from(y), m, d);
        return Some(
            days * SECONDS_PER_DAY + i64::from(h) * 3600 + i64::from(min) * 60 + i64::from(sec),
        );
    }
    let text = std::str::from_utf8(s).ok()?;
    text.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

/// `YYYY-MM-DD` as numbers, if it is a real date.
fn date_fields(s: &[u8]) -> Option<(u16, u8, u8)> {
    if s.len() != 10 || s[4] != b'-' || s[7] != b'-' {
        return None;
    }
    let y = u16::from(num(&s[0..2])?) * 100 + u16::from(num(&s[2..4])?);
    let (m, d) = (num(&s[5..7])?, num(&s[8..10])?);
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let last = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=last).contains(&d).then_some((y, m, d))
}

/// Two ASCII digits.
fn num(s: &[u8]) -> Option<u8> {
    match s {
        [a @ b'0'..=b'9', b @ b'0'..=b'9'] => Some((a - b'0') * 10 + (b - b'0')),
        _ => None,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u8, d: u8) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `days` after 1970-01-01: the inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn zone(name: &str) -> Zone {
        Zone::parse(name).unwrap()
    }

    fn day(z: &Zone, at: &str) -> String {
        z.local_day(at.as_bytes())
            .map(|d| d.as_str().to_owned())
            .unwrap_or_else(|| format!("none for {at}"))
    }

    fn start(z: &Zone, d: Date) -> String {
        z.start_of(d).unwrap().to_stored()
    }

    #[test]
    fn wall_clocks_read_stored_times_in_the_zone() {
        let auckland = zone("Pacific/Auckland");
        assert_eq!(
            auckland.wall_clock("2026-12-04T23:00:00.000Z").as_deref(),
            Some("2026-12-05 12:00"),
            "noon on the 5th at UTC+13"
        );
        assert_eq!(
            zone("America/New_York")
                .wall_clock("2026-03-08T07:30:59Z")
                .as_deref(),
            Some("2026-03-08 03:30"),
            "just after the spring-forward gap (UTC-4)"
        );
        assert_eq!(
            Zone::utc()
                .wall_clock("2026-01-02T03:04:05.678Z")
                .as_deref(),
            Some("2026-01-02 03:04")
        );
        assert_eq!(
            auckland.wall_clock("2026-12-05").as_deref(),
            Some("2026-12-05"),
            "a bare date is its own day"
        );
        assert_eq!(auckland.wall_clock("soon"), None);
    }

    #[test]
    fn names_are_iana_names_in_any_case() {
        assert_eq!(zone("america/new_york").name(), "America/New_York");
        assert_eq!(zone("UTC"), Zone::utc());
        assert_eq!(zone("utc").name(), "UTC");
        assert_eq!(zone("Asia/Kolkata").to_string(), "Asia/Kolkata");
        for bad in [
            "Mars/Olympus_Mons",
            "",
            "+05:30",
            "EST5EDT,M3.2.0,M11.1.0",
            "Etc/Unknown",
        ] {
            let err = Zone::parse(bad).unwrap_err();
            assert!(err.contains("IANA name"), "{bad}: {err}");
        }
    }

    #[test]
    fn new_york_days_follow_daylight_saving() {
        let ny = zone("America/New_York");
        // 2026-03-08: clocks jump from 02:00 EST (-5) to 03:00 EDT (-4).
        assert_eq!(day(&ny, "2026-03-01T02:00:00.000Z"), "2026-02-28");
        assert_eq!(day(&ny, "2026-03-08T04:59:59.999Z"), "2026-03-07");
        assert_eq!(day(&ny, "2026-03-08T05:00:00.000Z"), "2026-03-08");
        assert_eq!(day(&ny, "2026-03-09T03:59:59.000Z"), "2026-03-08");
        assert_eq!(day(&ny, "2026-03-09T04:00:00.000Z"), "2026-03-09");
        assert_eq!(
            start(&ny, date!(2026 - 03 - 08)),
            "2026-03-08T05:00:00.000Z"
        );
        assert_eq!(
            start(&ny, date!(2026 - 03 - 09)),
            "2026-03-09T04:00:00.000Z"
        );
        // November: back to EST, a 25-hour day.
        assert_eq!(
            start(&ny, date!(2026 - 11 - 01)),
            "2026-11-01T04:00:00.000Z"
        );
        assert_eq!(
            start(&ny, date!(2026 - 11 - 02)),
            "2026-11-02T05:00:00.000Z"
        );
        assert_eq!(day(&ny, "2026-11-02T04:59:59.000Z"), "2026-11-01");
    }

    #[test]
    fn berlin_days_follow_daylight_saving() {
        let berlin = zone("Europe/Berlin");
        // 2026-03-29 01:00 UTC: CET (+1) becomes CEST (+2).
        assert_eq!(
            start(&berlin, date!(2026 - 03 - 29)),
            "2026-03-28T23:00:00.000Z"
        );
        assert_eq!(
            start(&berlin, date!(2026 - 03 - 30)),
            "2026-03-29T22:00:00.000Z"
        );
        assert_eq!(day(&berlin, "2026-03-29T21:59:59.000Z"), "2026-03-29");
        assert_eq!(day(&berlin, "2026-03-29T22:00:00.000Z"), "2026-03-30");
        // 2026-10-25 01:00 UTC: back to CET.
        assert_eq!(day(&berlin, "2026-10-25T22:59:59.000Z"), "2026-10-25");
        assert_eq!(day(&berlin, "2026-10-25T23:00:00.000Z"), "2026-10-26");
    }

    #[test]
    fn kolkata_is_half_an_hour_off_the_hour() {
        let kolkata = zone("Asia/Kolkata");
        assert_eq!(day(&kolkata, "2026-02-28T18:29:59.000Z"), "2026-02-28");
        assert_eq!(day(&kolkata, "2026-02-28T18:30:00.000Z"), "2026-03-01");
        assert_eq!(
            start(&kolkata, date!(2026 - 03 - 01)),
            "2026-02-28T18:30:00.000Z"
        );
        let kathmandu = zone("Asia/Kathmandu"); // +05:45
        assert_eq!(day(&kathmandu, "2026-02-28T18:14:59Z"), "2026-02-28");
        assert_eq!(day(&kathmandu, "2026-02-28T18:15:00Z"), "2026-03-01");
    }

    #[test]
    fn a_day_whose_midnight_is_skipped_starts_after_the_gap() {
        // Chile springs forward at 24:00 on the first Saturday of September: 2026-09-06
        // starts at 01:00 (-03), which is 04:00 UTC.
        let santiago = zone("America/Santiago");
        assert_eq!(
            start(&santiago, date!(2026 - 09 - 06)),
            "2026-09-06T04:00:00.000Z"
        );
        assert_eq!(day(&santiago, "2026-09-06T03:59:59Z"), "2026-09-05");
        assert_eq!(day(&santiago, "2026-09-06T04:00:00Z"), "2026-09-06");
    }

    #[test]
    fn today_and_date_of_agree_with_local_day() {
        let auckland = zone("Pacific/Auckland");
        let at = Timestamp::parse("2026-03-01T11:00:00Z").unwrap();
        assert_eq!(auckland.date_of(at), date!(2026 - 03 - 02));
        assert_eq!(Zone::utc().date_of(at), date!(2026 - 03 - 01));
        let now = Timestamp::now();
        let expected = auckland.local_day(now.to_stored().as_bytes()).unwrap();
        let local = auckland.date_of(now);
        let formatted = format!(
            "{:04}-{:02}-{:02}",
            local.year(),
            local.month() as u8,
            local.day()
        );
        assert_eq!(formatted, expected.as_str());
    }

    #[test]
    fn other_spellings_of_a_time_and_bare_dates() {
        let utc = Zone::utc();
        let ny = zone("America/New_York");
        assert_eq!(day(&utc, "2026-03-01T02:00:00Z"), "2026-03-01");
        assert_eq!(day(&utc, "2026-03-01T02:00:00.123456Z"), "2026-03-01");
        assert_eq!(day(&utc, "2026-03-01T02:00:00+05:00"), "2026-02-28");
        assert_eq!(day(&ny, "2026-03-01T02:00:00+05:00"), "2026-02-28");
        assert_eq!(day(&ny, "2026-02-28T22:00:00-05:00"), "2026-02-28");
        assert_eq!(
            day(&ny, "2026-03-01"),
            "2026-03-01",
            "a date is its own day"
        );
        for bad in [
            "",
            "yesterday",
            "2026-02-30",
            "2026-02-30T10:00:00Z",
            "2026-03-01T24:00:00Z",
            "2026-03-01T10:00:00.Z",
            "2026-03-01T10:00:00",
            "2026-13-01T10:00:00Z",
        ] {
            assert!(ny.local_day(bad.as_bytes()).is_none(), "{bad}");
        }
    }

    /// The hand-written path against jiff, over forty years in zones with every kind of
    /// offset (negative, positive, half and quarter hours, DST in either hemisphere).
    #[test]
    fn local_day_matches_jiff_everywhere() {
        for name in [
            "UTC",
            "America/New_York",
            "America/Los_Angeles",
            "Europe/Berlin",
            "Asia/Kolkata",
            "Asia/Kathmandu",
            "Pacific/Auckland",
            "Pacific/Chatham",
            "Australia/Lord_Howe",
            "America/St_Johns",
            "Pacific/Kiritimati",
        ] {
            let z = zone(name);
            let tz = TimeZone::get(name).unwrap();
            // 2000-01-01 to 2040, in steps of 7 h 13 min 17 s so every hour of the day and
            // every transition's neighbourhood is visited.
            let mut t = 946_684_800_i64;
            while t < 2_208_988_800 {
                let ts = jiff::Timestamp::from_second(t).unwrap();
                let stored = Timestamp::from_unix(t).unwrap().to_stored();
                let expected = tz.to_datetime(ts).date().to_string();
                assert_eq!(day(&z, &stored), expected, "{name} at {stored}");
                t += 7 * 3600 + 13 * 60 + 17;
            }
        }
    }

    #[test]
    fn civil_days_round_trip() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }
}
