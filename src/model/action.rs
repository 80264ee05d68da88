//! Action items: follow-up work from a postmortem, with owners and due dates.
//!
//! Stored so that clones never conflict: each item is one file written once,
//! `actions/<item-id>.toml`, and each later change (done, dropped, edited)
//! is one more file, `actions/<item-id>/<recorded>-<random>-<kind>.toml`.
//! The item's current state is the replay of its changes. Item ids are
//! random, so two clones adding items at once never pick the same one.
//!
//! Items and changes carry `seq`, a Lamport counter like events': one more
//! than the highest `seq` of the incident's items (of the item's changes)
//! when written. Replay orders as events do, by time and then by `seq`, so
//! items added in the same second keep the numbers `action add` printed,
//! and a change made after another in the same second replays after it.
//! Files without `seq` (older ones, hand-written ones) count as 0.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::event::{Person, check_version};
use crate::time::Timestamp;
use crate::tomlfile::{self, timestamp};

/// Folder of action items inside an incident's folder.
pub const ACTIONS_DIR: &str = "actions";
/// Length of an action item's random id.
pub const ACTION_ID_LENGTH: usize = 5;

pub const PRIORITIES: &[&str] = &["high", "medium", "low"];
/// Kinds of action item (from the PagerDuty and Google SRE guides).
pub const TYPES: &[&str] = &["investigate", "mitigate", "repair", "detect", "prevent"];

/// `actions/<id>.toml`: the item as it was added.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionFile {
    pub version: u32,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(with = "timestamp")]
    pub created_at: Timestamp,
    /// Recording order among the incident's items; absent in older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    pub author: String,
    #[serde(default)]
    pub author_email: String,
}

/// `actions/<id>/<change>.toml`: one change to an item.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionChange {
    pub version: u32,
    /// `done`, `dropped`, `reopened` or `edit`.
    pub kind: String,
    #[serde(with = "timestamp")]
    pub at: Timestamp,
    /// Recording order among the item's changes; absent in older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    pub author: String,
    #[serde(default)]
    pub author_email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind_of_item: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

pub const CHANGE_KINDS: &[&str] = &["done", "dropped", "reopened", "edit"];

/// An action item's state after replaying its changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// Random id, the file name without `.toml`.
    pub id: String,
    pub incident: String,
    /// 1-based position among the incident's items, by creation time: for
    /// display and as a shorthand that is unambiguous in one clone.
    pub number: usize,
    pub text: String,
    pub owner: Option<String>,
    pub due: Option<NaiveDate>,
    pub priority: Option<String>,
    pub kind: Option<String>,
    pub link: Option<String>,
    /// `open`, `done` or `dropped`.
    pub status: String,
    pub reason: Option<String>,
    pub created_at: Timestamp,
    /// When it was done or dropped.
    pub finished_at: Option<Timestamp>,
    pub author: Person,
    /// Repository path of the item's file.
    pub file: String,
}

impl Action {
    pub fn is_open(&self) -> bool {
        self.status == "open"
    }

    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.is_open() && self.due.is_some_and(|d| d < today)
    }
}

/// Parse a `YYYY-MM-DD` date from a file, naming file and line when bad.
pub fn parse_due(file: &str, text: &str, value: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|e| Error::Invalid {
        file: file.to_string(),
        line: tomlfile::line_of_key(text, "due"),
        field: "due".into(),
        message: format!("'{value}' is not a date like 2026-12-15: {e}"),
    })
}

impl ActionFile {
    pub fn parse(file: &str, text: &str) -> Result<ActionFile> {
        let parsed: ActionFile = tomlfile::parse(file, text)?;
        check_version(file, text, parsed.version)?;
        if let Some(due) = &parsed.due {
            parse_due(file, text, due)?;
        }
        Ok(parsed)
    }

    pub fn to_toml(&self) -> Result<String> {
        Ok(format!(
            "# Action item written by `incident action add`. Changes are files in the folder of the same name.\n{}",
            tomlfile::to_string(self)?
        ))
    }
}

impl ActionChange {
    pub fn parse(file: &str, text: &str) -> Result<ActionChange> {
        let parsed: ActionChange = tomlfile::parse(file, text)?;
        check_version(file, text, parsed.version)?;
        if !CHANGE_KINDS.contains(&parsed.kind.as_str()) {
            return Err(Error::Invalid {
                file: file.to_string(),
                line: tomlfile::line_of_key(text, "kind"),
                field: "kind".into(),
                message: format!(
                    "unknown change '{}'; known: {}",
                    parsed.kind,
                    CHANGE_KINDS.join(", ")
                ),
            });
        }
        if let Some(due) = &parsed.due {
            parse_due(file, text, due)?;
        }
        Ok(parsed)
    }

    pub fn to_toml(&self) -> Result<String> {
        tomlfile::to_string(self)
    }
}

/// One item's files, as read from a tree.
#[derive(Debug, Clone)]
pub struct ActionRecord {
    pub id: String,
    pub file: String,
    pub item: ActionFile,
    /// (change id, change), in any order.
    pub changes: Vec<(String, ActionChange)>,
}

/// The `seq` for a new item or change: one more than the highest so far.
pub fn next_seq(existing: impl IntoIterator<Item = Option<u64>>) -> u64 {
    existing.into_iter().flatten().max().unwrap_or(0) + 1
}

/// Replay the items of one incident, numbered in the order they were added
/// (creation time, then `seq`, then id).
pub fn replay(incident: &str, records: &[ActionRecord]) -> Vec<Action> {
    let mut ordered: Vec<&ActionRecord> = records.iter().collect();
    ordered.sort_by(|a, b| {
        (a.item.created_at, a.item.seq.unwrap_or(0), &a.id).cmp(&(
            b.item.created_at,
            b.item.seq.unwrap_or(0),
            &b.id,
        ))
    });
    ordered
        .into_iter()
        .enumerate()
        .map(|(index, record)| {
            let item = &record.item;
            let mut action = Action {
                id: record.id.clone(),
                incident: incident.to_string(),
                number: index + 1,
                text: item.text.clone(),
                owner: item.owner.clone(),
                due: item
                    .due
                    .as_deref()
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
                priority: item.priority.clone(),
                kind: item.kind.clone(),
                link: item.link.clone(),
                status: "open".into(),
                reason: None,
                created_at: item.created_at,
                finished_at: None,
                author: Person {
                    name: item.author.clone(),
                    email: item.author_email.clone(),
                },
                file: record.file.clone(),
            };
            let mut changes: Vec<&(String, ActionChange)> = record.changes.iter().collect();
            changes.sort_by(|a, b| {
                (a.1.at, a.1.seq.unwrap_or(0), &a.0).cmp(&(b.1.at, b.1.seq.unwrap_or(0), &b.0))
            });
            for (_, change) in changes {
                match change.kind.as_str() {
                    "done" | "dropped" => {
                        action.status = change.kind.clone();
                        action.reason = change.reason.clone();
                        action.finished_at = Some(change.at);
                    }
                    "reopened" => {
                        action.status = "open".into();
                        action.reason = change.reason.clone();
                        action.finished_at = None;
                    }
                    _ => {
                        if let Some(text) = &change.text {
                            action.text = text.clone();
                        }
                        if let Some(owner) = &change.owner {
                            action.owner = (!owner.is_empty()).then(|| owner.clone());
                        }
                        if let Some(due) = &change.due {
                            action.due = NaiveDate::parse_from_str(due, "%Y-%m-%d").ok();
                        }
                        if let Some(priority) = &change.priority {
                            action.priority = Some(priority.clone());
                        }
                        if let Some(kind) = &change.kind_of_item {
                            action.kind = Some(kind.clone());
                        }
                        if let Some(link) = &change.link {
                            action.link = (!link.is_empty()).then(|| link.clone());
                        }
                    }
                }
            }
            action
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn record(id: &str, created: &str) -> ActionRecord {
        ActionRecord {
            id: id.into(),
            file: format!("x/actions/{id}.toml"),
            item: ActionFile {
                version: 1,
                text: format!("item {id}"),
                owner: Some("bob".into()),
                due: Some("2026-12-15".into()),
                priority: None,
                kind: None,
                link: None,
                created_at: at(created),
                seq: None,
                author: "a".into(),
                author_email: String::new(),
            },
            changes: Vec::new(),
        }
    }

    #[test]
    fn items_are_numbered_by_creation_and_changes_replay_in_order() {
        let mut second = record("bbbbb", "2026-11-24T10:00:00Z");
        let change = |kind: &str, time: &str| ActionChange {
            version: 1,
            kind: kind.into(),
            at: at(time),
            seq: None,
            author: "a".into(),
            author_email: String::new(),
            reason: Some(kind.into()),
            text: None,
            owner: Some(String::new()),
            due: None,
            priority: None,
            kind_of_item: None,
            link: None,
        };
        second
            .changes
            .push(("2".into(), change("reopened", "2026-11-24T12:00:00Z")));
        second
            .changes
            .push(("1".into(), change("done", "2026-11-24T11:00:00Z")));
        let actions = replay("inc", &[second, record("aaaaa", "2026-11-24T09:00:00Z")]);
        assert_eq!(actions[0].id, "aaaaa");
        assert_eq!(actions[0].number, 1);
        assert_eq!(actions[1].status, "open");
        assert_eq!(
            actions[1].owner.as_deref(),
            Some("bob"),
            "only edits change fields"
        );
        let text = record("ccccc", "2026-11-24T09:00:00Z")
            .item
            .to_toml()
            .unwrap();
        let back = ActionFile::parse("f.toml", &text).unwrap();
        assert_eq!(back.due.as_deref(), Some("2026-12-15"));
        let bad = text.replace("2026-12-15", "2026-13-45");
        let err = ActionFile::parse("f.toml", &bad).unwrap_err().to_string();
        assert!(err.starts_with("f.toml:"), "{err}");
        assert!(err.contains("due"), "{err}");
    }
}
