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

pub const ACCEPTED_FORMS: &str = "accepted forms: RFC 3339 (2026-11-24T03:15:00+01:00, ...Z, \
fractions of a second kept), 'YYYY-MM-DD HH:MM[:SS]', 'YYYY-MM-DD', 'HH:MM' or '3:40pm' (today; \
yesterday if that is still ahead), 'today HH:MM', 'yesterday HH:MM' or 'HH:MM yesterday', 'now', \
and relative times such as '15m ago', '15m', '-15m', '2h ago', '1h30m ago', '3d ago'";

/// The zone times are shown in and typed in, from the config's `timezone`.
#[derive(Debug, Clone, PartialEq)]
pub enum Zone {
    /// The machine's zone (the TZ environment variable, else /etc/localtime).
    Local,
    Utc,
    Named(chrono_tz::Tz),
}

impl Zone {
    /// A zone by name; `None` for what names none (also an empty name:
    /// it is not a request for the machine's zone, "local" is).
    pub fn parse(name: &str) -> Option<Zone> {
        match name {
            "local" => Some(Zone::Local),
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

    /// `2026-11-24 03:15` in this zone, with seconds when there are some.
    pub fn compact(&self, t: &Timestamp) -> String {
        let local = self.convert(t);
        if local.format("%S").to_string() == "00" && local.timestamp_subsec_nanos() == 0 {
            local.format("%Y-%m-%d %H:%M").to_string()
        } else {
            local.format("%Y-%m-%d %H:%M:%S").to_string()
        }
    }

    /// `2026-11-24 03:15:00 +01:00` in this zone.
    pub fn long(&self, t: &Timestamp) -> String {
        self.convert(t).format("%Y-%m-%d %H:%M:%S %:z").to_string()
    }

    /// The zone as people read it after a time: `UTC`, `Europe/Berlin`,
    /// or the machine's offset at that instant (`UTC+01:00`).
    pub fn label(&self, t: &Timestamp) -> String {
        match self {
            Zone::Utc => "UTC".into(),
            Zone::Named(tz) => tz.name().into(),
            Zone::Local => match self.convert(t).offset().local_minus_utc() {
                0 => "UTC".into(),
                _ => format!("UTC{}", self.convert(t).format("%:z")),
            },
        }
    }

    /// An instant echoed back to the person who typed it, with the day, so
    /// that `--at 15:40` meaning yesterday is visible: `03:40 today (UTC)`,
    /// `15:40 yesterday (UTC)`, `2026-11-20 14:00 (UTC)`. Seconds only
    /// when there are some.
    pub fn describe(&self, t: &Timestamp, now: &Timestamp) -> String {
        let local = self.convert(t);
        let clock = if local.timestamp_subsec_nanos() != 0 {
            local.format("%H:%M:%S%.f").to_string()
        } else if local.format("%S").to_string() != "00" {
            local.format("%H:%M:%S").to_string()
        } else {
            local.format("%H:%M").to_string()
        };
        let today = self.convert(now).date_naive();
        let day = local.date_naive();
        let when = if day == today {
            format!("{clock} today")
        } else if Some(day) == today.pred_opt() {
            format!("{clock} yesterday")
        } else {
            format!("{} {clock}", day.format("%Y-%m-%d"))
        };
        format!("{when} ({})", self.label(t))
    }

    /// The shortest form a person can type that [`parse_time`] reads back
    /// as exactly `t` at `now`: `02:57` today, else `2026-11-23 02:57` (with
    /// seconds when there are some), else RFC 3339. For commands incident
    /// suggests.
    pub fn typeable(&self, t: &Timestamp, now: &Timestamp) -> String {
        let local = self.convert(t);
        let seconds = if local.format("%S").to_string() == "00" {
            ""
        } else {
            ":%S"
        };
        [
            local.format(&format!("%H:%M{seconds}")).to_string(),
            local
                .format(&format!("%Y-%m-%d %H:%M{seconds}"))
                .to_string(),
        ]
        .into_iter()
        .find(|form| parse_time(form, *now, self).is_ok_and(|back| back == *t))
        .unwrap_or_else(|| t.to_rfc3339())
    }
}

/// The machine's time zone as an IANA name, for configs that every clone
/// reads alike: from `TZ` (a name, `:Name`, or a path into a zoneinfo
/// folder; empty means UTC), else the target of `/etc/localtime`, else
/// `/etc/timezone`. `None` when the zone has no name (a POSIX rule such as
/// `CET-1CEST` in `TZ`, or a copied `/etc/localtime`).
pub fn machine_zone_name() -> Option<String> {
    match std::env::var("TZ") {
        Ok(tz) => zone_name(&tz),
        Err(std::env::VarError::NotUnicode(_)) => None,
        Err(std::env::VarError::NotPresent) => std::fs::read_link("/etc/localtime")
            .ok()
            .and_then(|target| zone_name(&target.to_string_lossy()))
            .or_else(|| {
                std::fs::read_to_string("/etc/timezone")
                    .ok()
                    .and_then(|text| zone_name(text.trim()))
            }),
    }
}

/// An IANA name for what `TZ` or a zoneinfo path says, if it names one.
fn zone_name(spec: &str) -> Option<String> {
    let spec = spec.trim().trim_start_matches(':');
    let name = match spec.rfind("zoneinfo/") {
        Some(at) => &spec[at + "zoneinfo/".len()..],
        None => spec,
    };
    let name = name
        .trim_start_matches("posix/")
        .trim_start_matches("right/");
    match name {
        "" | "UTC" | "Etc/UTC" | "UCT" | "Etc/UCT" | "Universal" | "Etc/Universal" | "Zulu"
        | "Etc/Zulu" => Some("UTC".into()),
        _ => name
            .parse::<chrono_tz::Tz>()
            .ok()
            .map(|tz| tz.name().to_string()),
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
        // Fractions of a second someone typed are kept: they said them.
        return Ok(t);
    }
    // `15m ago`, and as people also write it, `15m` and `-15m`.
    let relative = lower
        .strip_suffix(" ago")
        .or_else(|| lower.strip_suffix("ago"))
        .or_else(|| lower.strip_prefix('-'))
        .map(str::trim)
        .or_else(|| {
            (lower.starts_with(|c: char| c.is_ascii_digit()) && parse_relative(&lower).is_some())
                .then_some(lower.as_str())
        });
    if let Some(rest) = relative {
        let amount =
            parse_relative(rest).ok_or_else(|| bad("not a duration like 15m, 2h or 1h30m"))?;
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
    // `yesterday 03:40`, `03:40 yesterday`, `today 03:40`, `03:40`.
    let (day, clock) = if let Some(rest) = lower
        .strip_prefix("yesterday")
        .or_else(|| lower.strip_suffix("yesterday"))
    {
        (Some(1), rest.trim())
    } else if let Some(rest) = lower
        .strip_prefix("today")
        .or_else(|| lower.strip_suffix("today"))
    {
        (Some(0), rest.trim())
    } else {
        (None, lower.as_str())
    };
    if let Some(time) = parse_clock(clock) {
        let today = local_now.date() - Duration::days(day.unwrap_or(0));
        let candidate = localize(today.and_time(time))?;
        // `02:45` typed at 00:30 means last night, not tonight; `today
        // 23:00` means today (and is refused if it is still ahead).
        if day.is_none() && candidate > now + Duration::seconds(ALLOWED_SKEW_SECONDS) {
            return localize((today - Duration::days(1)).and_time(time));
        }
        return Ok(candidate);
    }
    Err(bad("not a form incident knows"))
}

/// `03:40`, `03:40:15`, `3:40pm`, `3pm`, `3:40 am`.
fn parse_clock(text: &str) -> Option<NaiveTime> {
    let text = text.trim();
    let twelve_hour = |suffix: &str| -> Option<NaiveTime> {
        let clock = text.strip_suffix(suffix)?.trim();
        let (hour, minute) = match clock.split_once(':') {
            Some((h, m)) if m.len() == 2 => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
            None => (clock.parse::<u32>().ok()?, 0),
            _ => return None,
        };
        if !(1..=12).contains(&hour) {
            return None;
        }
        let hour = (hour % 12) + if suffix == "pm" { 12 } else { 0 };
        NaiveTime::from_hms_opt(hour, minute, 0)
    };
    twelve_hour("am")
        .or_else(|| twelve_hour("pm"))
        .or_else(|| NaiveTime::parse_from_str(text, "%H:%M").ok())
        .or_else(|| NaiveTime::parse_from_str(text, "%H:%M:%S").ok())
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
    fn machine_zones_are_named_as_iana_zones() {
        assert_eq!(zone_name("").as_deref(), Some("UTC"));
        assert_eq!(zone_name("Etc/UTC").as_deref(), Some("UTC"));
        assert_eq!(
            zone_name(":Europe/Berlin").as_deref(),
            Some("Europe/Berlin")
        );
        assert_eq!(
            zone_name("/usr/share/zoneinfo/America/Los_Angeles").as_deref(),
            Some("America/Los_Angeles")
        );
        assert_eq!(
            zone_name("../usr/share/zoneinfo/posix/Asia/Tokyo").as_deref(),
            Some("Asia/Tokyo")
        );
        assert_eq!(zone_name("CET-1CEST,M3.5.0,M10.5.0/3"), None);
        assert_eq!(zone_name("/etc/localtime-copy"), None);
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
        for (typed, expected) in [
            ("3:40am", "2026-11-24T03:40:00Z"),
            ("9:05 AM", "2026-11-24T09:05:00Z"),
            ("3:40pm", "2026-11-23T15:40:00Z"),
            ("12:15am", "2026-11-24T00:15:00Z"),
            ("today 03:40", "2026-11-24T03:40:00Z"),
            ("03:40 yesterday", "2026-11-23T03:40:00Z"),
            ("10m", "2026-11-24T09:50:00Z"),
            ("-10m", "2026-11-24T09:50:00Z"),
            ("-1h30m", "2026-11-24T08:30:00Z"),
        ] {
            assert_eq!(
                parse_time(typed, now, &utc).unwrap(),
                at(expected),
                "{typed}"
            );
        }
        // Said today: still ahead means ahead, not yesterday.
        assert_eq!(
            parse_time("today 11:30", now, &utc).unwrap(),
            at("2026-11-24T11:30:00Z")
        );
        assert!(parse_time("13:00pm", now, &utc).is_err());
    }

    #[test]
    fn fractions_of_a_second_are_kept() {
        let now = at("2026-11-24T10:00:00Z");
        let t = parse_time("2026-11-24T03:15:00.250Z", now, &Zone::Utc).unwrap();
        assert_eq!(t.timestamp_subsec_millis(), 250);
    }

    #[test]
    fn instants_are_echoed_with_the_day() {
        let now = at("2026-11-24T10:00:00Z");
        let utc = Zone::Utc;
        assert_eq!(
            utc.describe(&at("2026-11-24T03:40:00Z"), &now),
            "03:40 today (UTC)"
        );
        assert_eq!(
            utc.describe(&at("2026-11-23T15:40:00Z"), &now),
            "15:40 yesterday (UTC)"
        );
        assert_eq!(
            utc.describe(&at("2026-11-20T14:00:05Z"), &now),
            "2026-11-20 14:00:05 (UTC)"
        );
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        assert_eq!(
            berlin.describe(&at("2026-11-23T23:30:00Z"), &now),
            "00:30 today (Europe/Berlin)"
        );
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
