//! The dashboard's query: a period of whole local days (`--timezone`) and, for managers,
//! one rep.

use time::{Date, Duration, Month};

use crate::auth::actor::Actor;
use crate::auth::permissions::{DashboardScope, dashboard_scope};
use crate::domain::clock;
use crate::error::{AppError, AppResult, Violations};

/// Days a period may span: three years of daily rollup rows are still a few thousand.
pub const MAX_DAYS: i64 = 3 * 366;
/// The default period: the last 30 days, today included.
pub const DEFAULT_DAYS: i64 = 30;

/// What the caller asked for, parsed and checked against the role table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    pub to: Date,
    /// `None`: the whole team (managers and admins only).
    pub owner_id: Option<String>,
    /// Whether money figures may be shown.
    pub money: bool,
}

impl Period {
    /// Parses `from`, `to` (`YYYY-MM-DD`, inclusive) and `owner_id`; unknown parameters are
    /// refused like everywhere else in the API. `today` is the instance's current date.
    pub fn parse(raw: &[(String, String)], actor: &Actor, today: Date) -> AppResult<Period> {
        let mut v = Violations::new();
        let (mut from, mut to, mut owner_id) = (None, None, None);
        for (key, value) in raw {
            match key.as_str() {
                "from" => from = parse_day(&mut v, "from", value),
                "to" => to = parse_day(&mut v, "to", value),
                "owner_id" if !value.is_empty() => owner_id = Some(value.clone()),
                "owner_id" => {}
                _ => v.add(key.clone(), "unknown parameter"),
            }
        }
        let to = to.unwrap_or(today);
        let from = from.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
        if from > to {
            v.add("from", "must not be after to");
        } else if (to - from).whole_days() >= MAX_DAYS {
            v.add(
                "from",
                format!("the period may span at most {MAX_DAYS} days"),
            );
        }
        v.into_result()?;
        let (owner_id, money) = scope(actor, owner_id)?;
        Ok(Period {
            from,
            to,
            owner_id,
            money,
        })
    }

    /// The first day of the 12-month trend: the first of the month eleven months before `to`.
    pub fn trend_from(&self) -> Date {
        let (mut year, mut month) = (self.to.year(), self.to.month() as u8);
        for _ in 0..11 {
            if month == 1 {
                year -= 1;
                month = 12;
            } else {
                month -= 1;
            }
        }
        Month::try_from(month)
            .ok()
            .and_then(|m| Date::from_calendar_date(year, m, 1).ok())
            .unwrap_or(self.from)
    }
}

/// Whose figures the caller may see, by the role table: managers pick, sales get their
/// own (someone else's is a 403), support their own and no money.
fn scope(actor: &Actor, asked: Option<String>) -> AppResult<(Option<String>, bool)> {
    let own = |asked: Option<String>| match asked {
        Some(id) if id != actor.user_id => Err(AppError::Forbidden(
            "You may only see your own figures.".into(),
        )),
        _ => Ok(Some(actor.user_id.clone())),
    };
    match dashboard_scope(actor.role) {
        DashboardScope::TeamOrRep => Ok((asked, true)),
        DashboardScope::Own => Ok((own(asked)?, true)),
        DashboardScope::OwnTasksNoMoney => Ok((own(asked)?, false)),
    }
}

fn parse_day(v: &mut Violations, field: &str, raw: &str) -> Option<Date> {
    match clock::parse_day(raw) {
        Some(d) if (2000..=2199).contains(&d.year()) => Some(d),
        _ => {
            v.add(field, "must be a date YYYY-MM-DD between 2000 and 2199");
            None
        }
    }
}

/// The key ranges of the report tables that cover the days `from..=to` exactly: whole
/// months as month keys (`m2026-03`), the days before and after them as day keys.
pub fn spans(from: Date, to: Date) -> Vec<(String, String)> {
    let first_full = if from.day() == 1 {
        from
    } else {
        next_month(from)
    };
    // The first day after the last whole month.
    let tail = if next_month(to) == to.next_day().unwrap_or(to) {
        next_month(to)
    } else {
        to.replace_day(1).unwrap_or(to)
    };
    if first_full >= tail {
        return vec![(day_string(from), day_string(to))];
    }
    let mut out = Vec::new();
    if from < first_full {
        out.push((day_string(from), day_string(first_full - Duration::days(1))));
    }
    out.push((month_key(first_full), month_key(tail - Duration::days(1))));
    if tail <= to {
        out.push((day_string(tail), day_string(to)));
    }
    out
}

/// The first day of the month after `d`'s.
fn next_month(d: Date) -> Date {
    let days = time::util::days_in_month(d.month(), d.year());
    d.replace_day(1).unwrap_or(d) + Duration::days(i64::from(days))
}

fn month_key(d: Date) -> String {
    format!("m{:04}-{:02}", d.year(), d.month() as u8)
}

/// `2026-11-22`, as the report tables store days.
pub fn day_string(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::actor::Via;
    use crate::auth::permissions::Role;
    use time::macros::date;

    fn actor(role: Role) -> Actor {
        Actor {
            user_id: "me".into(),
            role,
            name: "Me".into(),
            email: "me@example.com".into(),
            via: Via::Session {
                session_id: "s".into(),
            },
        }
    }

    fn raw(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_to_the_last_30_days_and_the_team() {
        let p = Period::parse(&[], &actor(Role::Manager), date!(2026 - 11 - 22)).unwrap();
        assert_eq!(p.from, date!(2026 - 10 - 24));
        assert_eq!(p.to, date!(2026 - 11 - 22));
        assert_eq!(p.owner_id, None);
        assert_eq!(p.trend_from(), date!(2025 - 12 - 01));
    }

    #[test]
    fn refuses_bad_dates_reversed_ranges_and_unknown_parameters() {
        let today = date!(2026 - 11 - 22);
        let manager = actor(Role::Manager);
        for bad in [
            raw(&[("from", "2026-13-01")]),
            raw(&[("to", "yesterday")]),
            raw(&[("from", "2026-11-02"), ("to", "2026-11-01")]),
            raw(&[("from", "2016-11-02")]),
            raw(&[("colour", "red")]),
        ] {
            assert!(
                matches!(
                    Period::parse(&bad, &manager, today),
                    Err(AppError::Validation(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn spans_use_whole_months_and_the_days_around_them() {
        let s = |a, b| spans(a, b);
        let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(
            s(date!(2026 - 10 - 24), date!(2026 - 11 - 22)),
            vec![pair("2026-10-24", "2026-11-22")]
        );
        assert_eq!(
            s(date!(2026 - 01 - 15), date!(2026 - 04 - 10)),
            vec![
                pair("2026-01-15", "2026-01-31"),
                pair("m2026-02", "m2026-03"),
                pair("2026-04-01", "2026-04-10")
            ]
        );
        assert_eq!(
            s(date!(2025 - 12 - 01), date!(2026 - 11 - 30)),
            vec![pair("m2025-12", "m2026-11")]
        );
        assert_eq!(
            s(date!(2026 - 02 - 01), date!(2026 - 02 - 28)),
            vec![pair("m2026-02", "m2026-02")]
        );
        assert_eq!(
            s(date!(2026 - 02 - 01), date!(2026 - 02 - 27)),
            vec![pair("2026-02-01", "2026-02-27")]
        );
    }

    #[test]
    fn scopes_follow_the_role_table() {
        let today = date!(2026 - 11 - 22);
        let other = raw(&[("owner_id", "someone")]);
        let p = Period::parse(&other, &actor(Role::Admin), today).unwrap();
        assert_eq!(p.owner_id.as_deref(), Some("someone"));
        let p = Period::parse(&[], &actor(Role::Sales), today).unwrap();
        assert_eq!((p.owner_id.as_deref(), p.money), (Some("me"), true));
        let p = Period::parse(&[], &actor(Role::Support), today).unwrap();
        assert_eq!((p.owner_id.as_deref(), p.money), (Some("me"), false));
        for role in [Role::Sales, Role::Support] {
            assert!(matches!(
                Period::parse(&other, &actor(role), today),
                Err(AppError::Forbidden(_))
            ));
        }
    }
}
