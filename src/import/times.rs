//! Times as sources write them: RFC 3339, and the looser forms real data
//! has (`2021-12-15 16:05:00`, `2021-01-05T9:30:00-00:00`, no zone).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};

use crate::time::{Timestamp, Zone};

/// Parse a source's time; a time without a zone is read in `zone`.
/// `format` is a chrono `strftime` pattern (from a mapping) tried first.
pub fn parse(text: &str, zone: &Zone, format: Option<&str>) -> Option<Timestamp> {
    let text = text.trim().trim_matches('"').trim_matches('\'').trim();
    if text.is_empty() {
        return None;
    }
    if let Some(format) = format {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(t);
        }
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return zone.localize(naive);
        }
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t);
    }
    let (date, rest) = text.split_at(text.find(['T', 't', ' ']).unwrap_or(text.len()));
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let rest = rest.get(1..).unwrap_or_default().trim();
    // Split off a zone: Z, or +HH:MM / -HH:MM after the time.
    let (time, offset) = if let Some(stripped) = rest.strip_suffix(['Z', 'z']) {
        (stripped.trim(), Some("+00:00".to_string()))
    } else if let Some(position) = rest.rfind(['+', '-']).filter(|&p| p > 0) {
        (
            rest[..position].trim(),
            Some(rest[position..].replace(' ', "")),
        )
    } else {
        (rest, None)
    };
    let time = if time.is_empty() {
        NaiveTime::MIN
    } else {
        ["%H:%M:%S%.f", "%H:%M:%S", "%H:%M"]
            .iter()
            .find_map(|f| NaiveTime::parse_from_str(time, f).ok())?
    };
    let naive = date.and_time(time);
    match offset {
        Some(offset) => {
            let text = format!("{}{offset}", naive.format("%Y-%m-%dT%H:%M:%S%.f"));
            DateTime::parse_from_rfc3339(&text).ok()
        }
        None => zone.localize(naive),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_forms() {
        let utc = Zone::parse("UTC").unwrap();
        let p = |s: &str| parse(s, &utc, None).map(|t| t.to_rfc3339());
        assert_eq!(
            p("2021-12-15 16:05:00").as_deref(),
            Some("2021-12-15T16:05:00+00:00")
        );
        assert_eq!(
            p("2021-01-05T9:30:00-00:00").as_deref(),
            Some("2021-01-05T09:30:00+00:00")
        );
        assert_eq!(
            p("2021-01-05T09:30:00+02:00").as_deref(),
            Some("2021-01-05T09:30:00+02:00")
        );
        assert_eq!(
            p("2023-01-10T17:04:42.462Z").as_deref(),
            Some("2023-01-10T17:04:42.462+00:00")
        );
        assert_eq!(
            p("2021-01-05").as_deref(),
            Some("2021-01-05T00:00:00+00:00")
        );
        assert_eq!(p("yesterday"), None);
        let custom =
            parse("15/12/2021 16:05", &utc, Some("%d/%m/%Y %H:%M")).map(|t| t.to_rfc3339());
        assert_eq!(custom.as_deref(), Some("2021-12-15T16:05:00+00:00"));
    }
}
