//! What the commands do, as library calls that return data and never print.

pub mod check;
mod check_objects;
pub mod declare;
pub mod first_parents;
pub mod history;
pub mod init;
mod log_cache;
pub mod sync;
pub mod update;

// Postmortems, reviews and action items (issue 3).
pub mod action;
pub mod close;
pub mod postmortem;
pub mod postmortem_check;
pub mod publication;
pub mod review;
pub mod review_branch;

use crate::error::{Error, Result};
use crate::model::event::{Change, Event};
use crate::model::id;
use crate::store::EVENTS_DIR;
use crate::time::{self, Timestamp, Zone};

/// Longest commit subject line.
const SUBJECT_CHARS: usize = 72;

/// One line, no control characters: for subjects and trailer values.
pub fn one_line(text: &str, max_chars: usize) -> String {
    let mut line = String::new();
    let mut space = false;
    for c in text.chars() {
        if c.is_control() || c.is_whitespace() {
            space = !line.is_empty();
            continue;
        }
        if space {
            line.push(' ');
            space = false;
        }
        line.push(c);
    }
    if line.chars().count() > max_chars {
        let cut: String = line.chars().take(max_chars.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    } else {
        line
    }
}

/// A commit message: subject, optional body, then `Key: value` trailers.
pub fn commit_message(subject: &str, body: &[String], trailers: &[(&str, String)]) -> String {
    let mut message = one_line(subject, SUBJECT_CHARS);
    message.push_str("\n\n");
    if !body.is_empty() {
        for line in body {
            message.push_str(line);
            message.push('\n');
        }
        message.push('\n');
    }
    for (key, value) in trailers {
        message.push_str(&format!("{key}: {}\n", one_line(value, 200)));
    }
    message
}

/// Parse a typed time in the config's zone and refuse it if it lies ahead.
pub fn parse_past_time(input: &str, now: Timestamp, zone: &Zone) -> Result<Timestamp> {
    let t = time::parse_time(input, now, zone)?;
    time::ensure_not_future(&t, &now, zone)?;
    Ok(t)
}

/// Free text from a person: stored exactly, but it must say something.
pub fn require_text(what: &str, flag: &str, text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::MissingInput {
            what: format!("{what} (it is empty)"),
            flag: flag.into(),
        });
    }
    Ok(())
}

/// Short names (services, people): one line, no control characters.
pub fn require_name(what: &str, text: &str) -> Result<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.chars().any(char::is_control) || trimmed.chars().count() > 200
    {
        return Err(Error::InvalidInput {
            message: format!(
                "{what} '{}' must be one line of at most 200 characters",
                text.escape_debug()
            ),
        });
    }
    Ok(trimmed.to_string())
}

/// The trailer value that names what an event did.
pub fn event_trailer(change: &Change) -> String {
    match change {
        Change::Status { to, .. } => to.clone(),
        other => other.kind().to_string(),
    }
}

/// `incidents/.../events/20261124T031502Z-k3f9x2-status.toml`
pub fn event_file_path(folder: &str, event: &Event) -> String {
    format!("{folder}/{EVENTS_DIR}/{}.toml", event.id)
}

/// The first part of a new event id: recording time (so files list in
/// order) and a random part (so clones never collide). The kind is added
/// by `event_id`, so a listing reads well.
pub fn new_event_prefix(recorded_at: &Timestamp) -> Result<String> {
    Ok(format!(
        "{}-{}",
        recorded_at
            .with_timezone(&chrono::Utc)
            .format("%Y%m%dT%H%M%SZ"),
        id::random_id(6)?
    ))
}

/// `20261124T031502Z-k3f9x2-status`
pub fn event_id(prefix: &str, change: &Change) -> String {
    format!("{prefix}-{}", change.kind())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_one_line() {
        assert_eq!(one_line("a\nb\t\u{0007}c  d", 72), "a b c d");
        assert_eq!(one_line(&"x".repeat(100), 10).chars().count(), 10);
    }
}
