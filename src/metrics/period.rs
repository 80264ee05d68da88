//! Report periods: ISO weeks, the last N weeks or days, or explicit bounds,
//! all read in the configured time zone.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};

use crate::error::{Error, Result};
use crate::time::{self, Timestamp, Zone};

/// What the user asked for.
#[derive(Debug, Clone, Default)]
pub enum PeriodSpec {
    /// The last complete ISO week.
    #[default]
    LastWeek,
    /// `2026-W47`.
    Week(String),
    /// `4w` (complete ISO weeks), `14d` (complete days), `12h` (up to now).
    Last(String),
    Range {
        since: String,
        until: Option<String>,
    },
}

/// A half-open interval `[since, until)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub since: Timestamp,
    pub until: Timestamp,
    /// `2026-W47`, `4 weeks to 2026-W47`, or the two dates.
    pub label: String,
}

impl Period {
    pub fn contains(&self, t: &Timestamp) -> bool {
        *t >= self.since && *t < self.until
    }

    /// The four periods of the same length just before this one.
    pub fn previous(&self, zone: &Zone) -> Period {
        self.previous_within(zone, None, None)
    }

    /// The four periods of the same length just before this one, but not
    /// before the day `record_start` falls on (in `zone`) nor after `now`:
    /// a comparison with time the repository does not record, or that has
    /// not happened yet, would compare with zeros nobody measured. Empty
    /// (since = until) when nothing of it is recorded.
    pub fn previous_within(
        &self,
        zone: &Zone,
        record_start: Option<Timestamp>,
        now: Option<Timestamp>,
    ) -> Period {
        let length = self.until - self.since;
        let until = now.map_or(self.since, |now| self.since.min(now));
        let mut since = self.since - length * 4;
        if let Some(day) = record_start.and_then(|start| record_day(zone, start)) {
            since = since.max(day);
        }
        let since = since.min(until);
        Period {
            since,
            until,
            label: format!("{} to {}", zone.short(&since), zone.short(&until)),
        }
    }

    /// The part of this period the figures can cover: from the day the
    /// repository's record starts (in `zone`) at the earliest, up to `now` (exclusive)
    /// at the latest; with what is left out, and why.
    pub fn coverage(
        &self,
        zone: &Zone,
        record_start: Option<Timestamp>,
        now: Timestamp,
    ) -> Coverage {
        let mut since = self.since;
        let mut until = self.until;
        let mut gaps = Vec::new();
        if let Some(day) = record_start.and_then(|start| record_day(zone, start))
            && day > since
        {
            gaps.push(Gap {
                since,
                until: day.min(until),
                reason: GapReason::BeforeRecord,
            });
            since = day.min(until);
        }
        if now < until {
            let from = now.max(since);
            gaps.push(Gap {
                since: from,
                until,
                reason: GapReason::AfterNow,
            });
            until = from;
        }
        let covered = (until > since).then(|| Period {
            since,
            until,
            label: self.label.clone(),
        });
        Coverage { covered, gaps }
    }
}

/// Why part of a period is left out of its figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapReason {
    /// Before the day the repository's record starts: nobody recorded it.
    BeforeRecord,
    /// Before the history of a shallow clone, which starts with the record
    /// already there: it may be recorded, but not here.
    BeforeHistory,
    /// After now: it has not happened yet.
    AfterNow,
}

impl GapReason {
    pub fn name(self) -> &'static str {
        match self {
            GapReason::BeforeRecord => "before_record",
            GapReason::BeforeHistory => "shallow_clone",
            GapReason::AfterNow => "after_now",
        }
    }
}

/// A part of a period that its figures do not cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub since: Timestamp,
    pub until: Timestamp,
    pub reason: GapReason,
}

/// What of a period the figures cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// The covered part; none when the period lies wholly before the
    /// record or after now.
    pub covered: Option<Period>,
    /// The parts left out, in order.
    pub gaps: Vec<Gap>,
}

/// Midnight (in `zone`) of the day the repository's record starts.
pub fn record_day(zone: &Zone, start: Timestamp) -> Option<Timestamp> {
    midnight(zone, zone.convert(&start).date_naive()).ok()
}

fn midnight(zone: &Zone, date: NaiveDate) -> Result<Timestamp> {
    zone.localize(date.and_time(NaiveTime::MIN))
        .ok_or_else(|| Error::InvalidInput {
            message: format!("midnight of {date} does not exist in {}", zone.name()),
        })
}

pub fn week_label(date: NaiveDate) -> String {
    let week = date.iso_week();
    format!("{}-W{:02}", week.year(), week.week())
}

/// Monday of the ISO week that holds `t` (in `zone`).
pub fn week_start(zone: &Zone, t: &Timestamp) -> NaiveDate {
    let date = zone.convert(t).date_naive();
    date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
}

/// The start of an ISO week as an instant.
pub fn week_instant(zone: &Zone, monday: NaiveDate) -> Result<Timestamp> {
    midnight(zone, monday)
}

fn parse_week(text: &str) -> Result<NaiveDate> {
    let bad = || Error::InvalidInput {
        message: format!("'{text}' is not an ISO week; write it like 2026-W47"),
    };
    let upper = text.trim().to_ascii_uppercase();
    let (year, week) = upper.split_once("-W").ok_or_else(bad)?;
    let year: i32 = year.parse().map_err(|_| bad())?;
    let week: u32 = week.parse().map_err(|_| bad())?;
    NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).ok_or_else(bad)
}

impl PeriodSpec {
    pub fn resolve(&self, now: Timestamp, zone: &Zone) -> Result<Period> {
        match self {
            PeriodSpec::LastWeek => {
                let monday = week_start(zone, &now) - Duration::days(7);
                Ok(Period {
                    since: midnight(zone, monday)?,
                    until: midnight(zone, monday + Duration::days(7))?,
                    label: week_label(monday),
                })
            }
            PeriodSpec::Week(text) => {
                let monday = parse_week(text)?;
                Ok(Period {
                    since: midnight(zone, monday)?,
                    until: midnight(zone, monday + Duration::days(7))?,
                    label: week_label(monday),
                })
            }
            PeriodSpec::Last(text) => {
                let bad = || Error::InvalidInput {
                    message: format!("'{text}' is not a length like 4w, 14d or 12h"),
                };
                let trimmed = text.trim().to_ascii_lowercase();
                let digits: String = trimmed.chars().take_while(char::is_ascii_digit).collect();
                let unit = &trimmed[digits.len()..];
                let count: i64 = digits.parse().map_err(|_| bad())?;
                if count <= 0 || count > 10_000 {
                    return Err(bad());
                }
                match unit {
                    "w" | "week" | "weeks" => {
                        let end = week_start(zone, &now);
                        let start = end - Duration::days(7 * count);
                        Ok(Period {
                            since: midnight(zone, start)?,
                            until: midnight(zone, end)?,
                            label: format!(
                                "{count} week{} {} to {}",
                                if count == 1 { "" } else { "s" },
                                week_label(start),
                                week_label(end - Duration::days(1))
                            ),
                        })
                    }
                    "d" | "day" | "days" => {
                        let end = zone.convert(&now).date_naive();
                        let start = end - Duration::days(count);
                        Ok(Period {
                            since: midnight(zone, start)?,
                            until: midnight(zone, end)?,
                            label: format!(
                                "{count} day{} {start} to {}",
                                if count == 1 { "" } else { "s" },
                                end - Duration::days(1)
                            ),
                        })
                    }
                    _ => {
                        let length = time::parse_relative(&trimmed).ok_or_else(bad)?;
                        let since = now - length;
                        Ok(Period {
                            since,
                            until: now,
                            label: format!("{} to {}", zone.short(&since), zone.short(&now)),
                        })
                    }
                }
            }
            PeriodSpec::Range { since, until } => {
                let since = time::parse_time(since, now, zone)?;
                let until = match until {
                    Some(u) => time::parse_time(u, now, zone)?,
                    None => now,
                };
                if until <= since {
                    return Err(Error::InvalidInput {
                        message: format!(
                            "--until ({}) must be after --since ({})",
                            zone.long(&until),
                            zone.long(&since)
                        ),
                    });
                }
                Ok(Period {
                    since,
                    until,
                    label: format!("{} to {}", zone.short(&since), zone.short(&until)),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn weeks() {
        let now = at("2026-11-24T08:50:00Z");
        let p = PeriodSpec::LastWeek.resolve(now, &Zone::Utc).unwrap();
        assert_eq!(p.label, "2026-W47");
        assert_eq!(p.since, at("2026-11-16T00:00:00Z"));
        assert_eq!(p.until, at("2026-11-23T00:00:00Z"));
        let w = PeriodSpec::Week("2026-w47".into())
            .resolve(now, &Zone::Utc)
            .unwrap();
        assert_eq!(w, p);
        let l = PeriodSpec::Last("4w".into())
            .resolve(now, &Zone::Utc)
            .unwrap();
        assert_eq!(l.since, at("2026-10-26T00:00:00Z"));
        assert_eq!(p.previous(&Zone::Utc).since, at("2026-10-19T00:00:00Z"));
        assert!(
            PeriodSpec::Week("2026-W60".into())
                .resolve(now, &Zone::Utc)
                .is_err()
        );
    }
}
