//! Reading and writing the TOML files incident keeps, with errors that name
//! file, line and column.

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Largest file incident will read: records are small, and a huge file in
/// the incidents folder is a mistake, not data.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;

/// Bytes to text, refusing what is too large or not UTF-8.
pub fn text<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Error::FileTooLarge {
            file: file.to_string(),
            size: bytes.len(),
            limit: MAX_FILE_BYTES,
        });
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_column(bytes, e.valid_up_to());
        Error::Parse {
            file: file.to_string(),
            line,
            column,
            message: "the file is not valid UTF-8".into(),
        }
    })
}

/// Parse a TOML document into `T`; errors point at the offending spot.
pub fn parse<T: DeserializeOwned>(file: &str, text: &str) -> Result<T> {
    if let Some(offset) = too_deep(text) {
        let (line, column) = line_column(text.as_bytes(), offset);
        return Err(Error::Parse {
            file: file.to_string(),
            line,
            column,
            message: format!("arrays or tables nested more than {MAX_NESTING} levels deep"),
        });
    }
    toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        let (line, column) = line_column(text.as_bytes(), offset);
        Error::Parse {
            file: file.to_string(),
            line,
            column,
            message: explain(e.message().trim(), text, offset),
        }
    })
}

/// The parser's message, or a plainer one where it guessed wrong: an
/// unquoted word that starts like `nan` or `inf` reads as a bad float
/// ("invalid float, expected `nan`") where text without quotes is meant.
fn explain(message: &str, text: &str, offset: usize) -> String {
    let bare_word = message.starts_with("invalid float, expected `nan`")
        || message.starts_with("invalid float, expected `inf`");
    if !bare_word {
        return message.to_string();
    }
    let word: String = text
        .get(offset..)
        .unwrap_or_default()
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | ']' | '}' | '#'))
        .collect();
    format!(
        "`{word}` is not a TOML value: write text in quotes (\"{word}\") and a time as 2026-11-24T03:15:00Z"
    )
}

/// Deepest nesting of arrays and inline tables incident accepts: its own
/// files nest two or three levels, and the parser recurses per level, so a
/// hostile file nested thousands deep could overflow the stack.
pub const MAX_NESTING: usize = 64;

/// The byte offset where nesting first exceeds [`MAX_NESTING`], skipping
/// strings and comments.
fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            quote @ (b'"' | b'\'') => {
                let triple = bytes[i..].starts_with(if quote == b'"' { b"\"\"\"" } else { b"'''" });
                let step = if triple { 3 } else { 1 };
                i += step;
                while i < bytes.len() {
                    if quote == b'"' && bytes[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if bytes[i] == quote && (!triple || bytes[i..].starts_with(&[quote; 3])) {
                        i += step - 1;
                        break;
                    }
                    if !triple && bytes[i] == b'\n' {
                        break;
                    }
                    i += 1;
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// 1-based line and column of a byte offset.
pub fn line_column(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

/// The line on which `key = ...` first appears, for errors about a value
/// that parsed but makes no sense.
pub fn line_of_key(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|index| index + 1)
}

/// Serialise to TOML. Only fails on types TOML cannot hold, which would be a
/// bug in incident.
pub fn to_string<T: serde::Serialize>(value: &T) -> Result<String> {
    toml::to_string(value).map_err(|e| Error::InvalidInput {
        message: format!("internal error: cannot write TOML: {e}"),
    })
}

/// Serde adapters that store timestamps as native TOML offset date-times
/// (`at = 2026-11-24T03:15:00+01:00`) rather than as quoted strings.
pub mod timestamp {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::time::Timestamp;

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        let text = t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        let datetime: toml::value::Datetime = text.parse().map_err(serde::ser::Error::custom)?;
        datetime.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let datetime = toml::value::Datetime::deserialize(d)?;
        from_datetime(&datetime).map_err(serde::de::Error::custom)
    }

    pub fn from_datetime(datetime: &toml::value::Datetime) -> Result<Timestamp, String> {
        if datetime.offset.is_none() || datetime.date.is_none() || datetime.time.is_none() {
            return Err(format!(
                "time {datetime} needs a date, a time and a UTC offset, for example 2026-11-24T03:15:00Z or 2026-11-24T03:15:00+01:00"
            ));
        }
        if let Some(t) = direct(datetime) {
            return Ok(t);
        }
        chrono::DateTime::parse_from_rfc3339(&datetime.to_string())
            .map_err(|e| format!("time {datetime}: {e}"))
    }

    /// The usual case built from the parts (no text formatted and parsed
    /// again: a cold report reads tens of thousands of these); anything
    /// unusual (no seconds, a leap second, an out-of-range part) is left
    /// to the RFC 3339 parser and its messages.
    fn direct(datetime: &toml::value::Datetime) -> Option<Timestamp> {
        use chrono::TimeZone;
        let (date, time) = (datetime.date?, datetime.time?);
        let minutes = match datetime.offset? {
            toml::value::Offset::Z => 0,
            toml::value::Offset::Custom { minutes } => i32::from(minutes),
        };
        let second = time.second.filter(|&s| s < 60)?;
        let nanosecond = time.nanosecond.unwrap_or(0);
        let day = chrono::NaiveDate::from_ymd_opt(
            i32::from(date.year),
            u32::from(date.month),
            u32::from(date.day),
        )?;
        let at = day.and_hms_nano_opt(
            u32::from(time.hour),
            u32::from(time.minute),
            u32::from(second),
            nanosecond,
        )?;
        chrono::FixedOffset::east_opt(minutes * 60)?
            .from_local_datetime(&at)
            .single()
    }

    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
            let datetime = Option::<toml::value::Datetime>::deserialize(d)?;
            datetime
                .map(|dt| from_datetime(&dt).map_err(serde::de::Error::custom))
                .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_name_line_and_column() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Doc {
            a: u32,
        }
        let err = parse::<Doc>("x.toml", "\n\na = \"text\"\n").unwrap_err();
        match err {
            Error::Parse { line, column, .. } => assert_eq!((line, column), (3, 5)),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn an_unquoted_word_is_explained_not_taken_for_a_float() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Doc {
            at: toml::value::Datetime,
        }
        for (value, word) in [
            ("nope", "nope"),
            ("null # unknown", "null"),
            ("inform", "inform"),
        ] {
            let text = format!("at = {value}\n");
            match parse::<Doc>("x.toml", &text).unwrap_err() {
                Error::Parse {
                    line,
                    column,
                    message,
                    ..
                } => {
                    assert_eq!((line, column), (1, 6));
                    assert!(
                        message.starts_with(&format!("`{word}` is not a TOML value"))
                            && message.contains(&format!("(\"{word}\")"))
                            && message.contains("2026-11-24T03:15:00Z"),
                        "{message}"
                    );
                }
                other => panic!("{other}"),
            }
        }
    }

    #[test]
    fn timestamps_from_parts_equal_the_rfc3339_parse() {
        for text in [
            "2026-11-24T03:15:00Z",
            "2026-11-24T03:15:00+01:00",
            "2026-11-24T03:15:00-05:30",
            "2026-11-24T03:15:00-00:00",
            "2024-02-29T23:59:59.5+14:00",
            "2026-01-01T00:00:00.000000001-12:00",
            "2026-11-24T03:15:07.120Z",
            "1970-01-01T00:00:00Z",
        ] {
            let datetime: toml::value::Datetime = text.parse().unwrap();
            let expected = chrono::DateTime::parse_from_rfc3339(&datetime.to_string()).unwrap();
            let got = timestamp::from_datetime(&datetime).unwrap();
            assert_eq!(got, expected, "{text}");
            assert_eq!(got.offset(), expected.offset(), "{text}");
            assert_eq!(got.to_rfc3339(), expected.to_rfc3339(), "{text}");
        }
        // Without seconds: refused, as before.
        let datetime: toml::value::Datetime = "2026-11-24T03:15Z".parse().unwrap();
        assert!(timestamp::from_datetime(&datetime).is_err());
    }

    #[test]
    fn finds_key_lines() {
        assert_eq!(line_of_key("a = 1\n  status = \"x\"\n", "status"), Some(2));
        assert_eq!(line_of_key("statuses = 1\n", "status"), None);
    }
}
