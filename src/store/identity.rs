//! Who is committing, and when: the same sources git itself uses.

use chrono::DateTime;
use git2::{Repository, Signature, Time};

use crate::error::{Error, Result};
use crate::model::event::Person;
use crate::time::Timestamp;

/// Author and committer of the next commit.
pub struct Identity {
    pub author: Person,
    pub author_time: Timestamp,
    pub committer: Person,
    pub committer_time: Timestamp,
}

impl Identity {
    /// Names and e-mails from `GIT_AUTHOR_*` / `GIT_COMMITTER_*` or
    /// `user.name` / `user.email`; times from `GIT_AUTHOR_DATE` /
    /// `GIT_COMMITTER_DATE` or `now`.
    pub fn resolve(repo: &Repository, now: Timestamp) -> Result<Identity> {
        let config = repo.config()?;
        let from_config = |key: &'static str| -> Result<String> {
            match config.get_string(key) {
                Ok(value) if !value.trim().is_empty() => Ok(value),
                _ => Err(Error::MissingIdentity { key }),
            }
        };
        let env = |key: &str| std::env::var(key).ok().filter(|v| !v.trim().is_empty());
        let person = |name_var: &str, email_var: &str| -> Result<Person> {
            Ok(Person {
                name: match env(name_var) {
                    Some(name) => name,
                    None => from_config("user.name")?,
                },
                email: match env(email_var) {
                    Some(email) => email,
                    None => from_config("user.email")?,
                },
            })
        };
        let time = |var: &str| -> Result<Timestamp> {
            match env(var) {
                Some(text) => parse_git_date(&text).ok_or_else(|| Error::BadTime {
                    input: text,
                    reason: format!("{var} is not a date git understands"),
                }),
                None => Ok(now),
            }
        };
        Ok(Identity {
            author: person("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL")?,
            author_time: time("GIT_AUTHOR_DATE")?,
            committer: person("GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL")?,
            committer_time: time("GIT_COMMITTER_DATE")?,
        })
    }

    pub fn author_signature(&self) -> Result<Signature<'static>> {
        signature(&self.author, &self.author_time)
    }

    pub fn committer_signature(&self) -> Result<Signature<'static>> {
        signature(&self.committer, &self.committer_time)
    }
}

fn signature(person: &Person, at: &Timestamp) -> Result<Signature<'static>> {
    let time = Time::new(at.timestamp(), at.offset().local_minus_utc() / 60);
    Ok(Signature::new(&person.name, &person.email, &time)?)
}

/// The date forms git accepts in `GIT_*_DATE`: `@1700000000 +0100`,
/// `1700000000 +0100`, RFC 2822 and ISO 8601.
pub fn parse_git_date(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    let raw = text.strip_prefix('@').unwrap_or(text);
    let mut parts = raw.split_whitespace();
    if let (Some(seconds), offset) = (parts.next(), parts.next())
        && let Ok(seconds) = seconds.parse::<i64>()
    {
        let offset = match offset {
            Some(o) => parse_offset(o)?,
            None => 0,
        };
        let zone = chrono::FixedOffset::east_opt(offset)?;
        return DateTime::from_timestamp(seconds, 0).map(|t| t.with_timezone(&zone));
    }
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_rfc2822(text))
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S %z"))
        .ok()
}

fn parse_offset(text: &str) -> Option<i32> {
    let (sign, digits) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let digits = digits.replace(':', "");
    if digits.len() != 4 {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    Some(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_git_date_forms() {
        let expected = DateTime::parse_from_rfc3339("2023-11-14T23:13:20+01:00").unwrap();
        assert_eq!(parse_git_date("@1700000000 +0100"), Some(expected));
        assert_eq!(parse_git_date("1700000000 +01:00"), Some(expected));
        assert_eq!(parse_git_date("2023-11-14T23:13:20+01:00"), Some(expected));
        assert_eq!(
            parse_git_date("Tue, 14 Nov 2023 23:13:20 +0100"),
            Some(expected)
        );
        assert_eq!(parse_git_date("yesterday-ish"), None);
    }
}
