//! Time expressions typed by people, time zones, and how durations are shown.

use chrono::{
    DateTime, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Utc,
};

use crate::error::{Error, Result};

/// Every stored time keeps the UTC offset it was recorded with.
pub type Timestamp = DateTime<FixedOffset>;

/// How far into the future a typed time may be: clocks of two laptops differ.
pub const ALLOWED_SKEW_SECONDS: i64 = 60;

pub const ACCEPTED_FORMS: &str = "accepted forms: RFC 3339 (2026-11-24T03:15:00+01:00 or ...Z), \
'YYYY-MM-DD HH:MM[:SS]', 'YYYY-MM-DD', 'HH:MM' (today; yesterday if that is still ahead), \
'yesterday HH:MM', 'now', and relative times such as '15m ago', '2h ago', '1h30m ago', '3d ago'";

/// The zone times are shown in and typed in, from the config's `timezone`.
#[derive(Debug, Clone, PartialEq)]
pub enum Zone {
    /// The machine's zone (the TZ environment variable, else /etc/localtime).
    Local,
    Utc,
    Named(chrono_tz::Tz),
}

impl Zone {
    pub fn parse(name: &str) -> Option<Zone> {
        match name {
            "local" | "" => Some(Zone::Local),
            "UTC" | "utc" | "Z" => Some(Zone::Utc),
            other => other.parse::<chrono_tz::Tz>().ok().map(Zone::Named),
        }
    }

    pub fn name(&self) -> String {
        match self {
            Zone::Local => "local time".into(),
            Zone::Utc => "UTC".into(),
            Zone::Named(tz) => tz.name().into(),
        }
    }

    /// The same instant, expressed with this zone's offset at that instant.
    pub fn convert(&self, t: &Timestamp) -> Timestamp {
        let utc = t.with_timezone(&Utc);
        let offset = match self {
            Zone::Local => chrono::Local
                .offset_from_utc_datetime(&utc.naive_utc())
                .fix(),
            Zone::Utc => Utc.fix(),
            Zone::Named(tz) => tz.offset_from_utc_datetime(&utc.naive_utc()).fix(),
        };
        utc.with_timezone(&offset)
    }

    /// Wall-clock time in this zone to an instant. In a DST gap it fails; in
    /// an overlap it takes the earlier instant.
    pub fn localize(&self, naive: NaiveDateTime) -> Option<Timestamp> {
        fn pick<T: TimeZone>(r: LocalResult<DateTime<T>>) -> Option<Timestamp> {
            match r {
                LocalResult::Single(t) => Some(t.fixed_offset()),
                LocalResult::Ambiguous(a, _) => Some(a.fixed_offset()),
                LocalResult::None => None,
            }
        }
        match self {
            Zone::Local => pick(chrono::Local.from_local_datetime(&naive)),
            Zone::Utc => pick(Utc.from_local_datetime(&naive)),
            Zone::Named(tz) => pick(tz.from_local_datetime(&naive)),
        }
    }

    /// `2026-11-24 03:15` in this zone.
    pub fn short(&self, t: &Timestamp) -> String {
        self.convert(t).format("%Y-%m-%d %H:%M").to_string()
    }

    /// `2026-11-24 03:15:00 +01:00` in this zone.
    pub fn long(&self, t: &Timestamp) -> String {
        self.convert(t).format("%Y-%m-%d %H:%M:%S %:z").to_string()
    }
}

/// The current time: `INCIDENT_NOW` (RFC 3339) when set, for imports,
/// demos and reproducible tests; the system clock otherwise.
pub fn now() -> Result<Timestamp> {
    match std::env::var("INCIDENT_NOW") {
        Ok(value) if !value.is_empty() => {
            DateTime::parse_from_rfc3339(&value).map_err(|e| Error::BadTime {
                input: value.clone(),
                reason: format!("INCIDENT_NOW must be RFC 3339: {e}"),
            })
        }
        _ => Ok(Utc::now().fixed_offset()),
    }
    .map(truncate_to_seconds)
}

/// Stored times have whole seconds: people read them.
pub fn truncate_to_seconds(t: Timestamp) -> Timestamp {
    t - Duration::nanoseconds(i64::from(t.timestamp_subsec_nanos()))
}

/// Parse a time a person typed. Relative forms count back from `now`; wall
/// clock forms are read in `zone`.
pub fn parse_time(input: &str, now: Timestamp, zone: &Zone) -> Result<Timestamp> {
    let bad = |reason: &str| Error::BadTime {
        input: input.to_string(),
        reason: reason.to_string(),
    };
    let text = input.trim();
    if text.is_empty() {
        return Err(bad("it is empty"));
    }
    let lower = text.to_ascii_lowercase();
    if lower == "now" {
        return Ok(zone.convert(&now));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(truncate_to_seconds(t));
    }
    if let Some(rest) = lower
        .strip_suffix(" ago")
        .or_else(|| lower.strip_suffix("ago"))
    {
        let amount = parse_relative(rest.trim())
            .ok_or_else(|| bad("not a duration like 15m, 2h or 1h30m"))?;
        let then = now
            .checked_sub_signed(amount)
            .filter(|t| chrono::Datelike::year(t) >= 1)
            .ok_or_else(|| bad("that is before the year 1, further back than incident records"))?;
        return Ok(zone.convert(&then));
    }
    let local_now = zone.convert(&now).naive_local();
    let localize = |naive: NaiveDateTime| {
        zone.localize(naive).ok_or_else(|| {
            bad("that wall-clock time does not exist in this time zone (daylight saving gap)")
        })
    };
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return localize(naive);
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return localize(date.and_time(NaiveTime::MIN));
    }
    let (day_offset, clock) = match lower.strip_prefix("yesterday") {
        Some(rest) => (1, rest.trim()),
        None => (0, lower.as_str()),
    };
    if let Some(time) = parse_clock(clock) {
        let today = local_now.date() - Duration::days(day_offset);
        let candidate = localize(today.and_time(time))?;
        // `02:45` typed at 00:30 means last night, not tonight.
        if day_offset == 0 && candidate > now + Duration::seconds(ALLOWED_SKEW_SECONDS) {
            return localize((today - Duration::days(1)).and_time(time));
        }
        return Ok(candidate);
    }
    Err(bad("not a form incident knows"))
}

fn parse_clock(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S"))
        .ok()
}

/// `1h30m`, `15m`, `90s`, `2d`, `1w`, also with spaces and long unit names.
pub fn parse_relative(text: &str) -> Option<Duration> {
    let mut total = Duration::zero();
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits_end == 0 {
            return None;
        }
        let number: i64 = rest[..digits_end].parse().ok()?;
        rest = rest[digits_end..].trim_start();
        let unit_end = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        let seconds_per = match unit {
            "s" | "sec" | "secs" | "second" | "seconds" => 1,
            "m" | "min" | "mins" | "minute" | "minutes" => 60,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86_400,
            "w" | "week" | "weeks" => 604_800,
            _ => return None,
        };
        // Checked all the way: `99999999999999w` is an error, not a panic.
        total = total.checked_add(&Duration::try_seconds(number.checked_mul(seconds_per)?)?)?;
        rest = rest[unit_end..].trim_start();
    }
    Some(total)
}

/// Refuse times more than the allowed skew ahead of now.
pub fn ensure_not_future(t: &Timestamp, now: &Timestamp, zone: &Zone) -> Result<()> {
    if *t > *now + Duration::seconds(ALLOWED_SKEW_SECONDS) {
        return Err(Error::FutureTime {
            given: zone.long(t),
            now: zone.long(now),
        });
    }
    Ok(())
}

/// `3d 4h`, `2h 05m`, `12m`, `45s`: the two largest units, for people.
pub fn human_duration(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let s = seconds.unsigned_abs();
    let (d, h, m, sec) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60, s % 60);
    let body = if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m")
    } else {
        format!("{sec}s")
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn huge_relative_times_are_errors_not_panics() {
        // Found by the `time` fuzz target.
        assert_eq!(parse_relative("499999999999913h30m3h"), None);
        let now = at("2026-11-24T10:00:00Z");
        assert!(parse_time("15250284452w ago", now, &Zone::Utc).is_err());
        assert!(parse_time("499999999999913h ago", now, &Zone::Utc).is_err());
    }

    #[test]
    fn parses_every_documented_form() {
        let now = at("2026-11-24T10:00:00Z");
        let utc = Zone::Utc;
        assert_eq!(
            parse_time("2026-11-24T03:15:00+01:00", now, &utc).unwrap(),
            at("2026-11-24T02:15:00Z")
        );
        assert_eq!(
            parse_time("2026-11-24 03:15", now, &utc).unwrap(),
            at("2026-11-24T03:15:00Z")
        );
        assert_eq!(
            parse_time("2026-11-23", now, &utc).unwrap(),
            at("2026-11-23T00:00:00Z")
        );
        assert_eq!(
            parse_time("09:30", now, &utc).unwrap(),
            at("2026-11-24T09:30:00Z")
        );
        assert_eq!(
            parse_time("11:30", now, &utc).unwrap(),
            at("2026-11-23T11:30:00Z")
        );
        assert_eq!(
            parse_time("yesterday 11:30", now, &utc).unwrap(),
            at("2026-11-23T11:30:00Z")
        );
        assert_eq!(
            parse_time("15m ago", now, &utc).unwrap(),
            at("2026-11-24T09:45:00Z")
        );
        assert_eq!(
            parse_time("1h30m ago", now, &utc).unwrap(),
            at("2026-11-24T08:30:00Z")
        );
        assert_eq!(
            parse_time("2 hours ago", now, &utc).unwrap(),
            at("2026-11-24T08:00:00Z")
        );
        assert_eq!(parse_time("now", now, &utc).unwrap(), now);
    }

    #[test]
    fn wall_clock_is_read_in_the_configured_zone() {
        let now = at("2026-11-24T10:00:00Z");
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        let t = parse_time("2026-11-24 03:15", now, &berlin).unwrap();
        assert_eq!(t, at("2026-11-24T02:15:00Z"));
        assert_eq!(t.offset().local_minus_utc(), 3600);
    }

    #[test]
    fn rejects_nonsense_with_the_accepted_forms() {
        let now = at("2026-11-24T10:00:00Z");
        for bad in ["", "tomorrow-ish", "25:99", "15x ago", "2026-13-01"] {
            let err = parse_time(bad, now, &Zone::Utc).unwrap_err();
            assert!(matches!(err, Error::BadTime { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(45), "45s");
        assert_eq!(human_duration(12 * 60), "12m");
        assert_eq!(human_duration(2 * 3600 + 5 * 60), "2h 05m");
        assert_eq!(human_duration(3 * 86_400 + 4 * 3600), "3d 4h");
        assert_eq!(human_duration(-90), "-1m");
    }
}
