//! The files of one incident: `incident.toml`, written once at declaration,
//! and one file per timeline event under `events/`, never rewritten.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::time::Timestamp;
use crate::tomlfile::{self, timestamp};

/// Newest record format this build reads and the one it writes.
pub const FORMAT_VERSION: u32 = 1;

/// Who did something, from git's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Person {
    pub name: String,
    pub email: String,
}

/// `incident.toml`: the incident as declared.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Declaration {
    pub version: u32,
    pub id: String,
    pub title: String,
    pub severity: String,
    pub status: String,
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    /// When the incident was declared (normally the same as `recorded_at`;
    /// earlier when a past incident is written down afterwards).
    #[serde(with = "timestamp")]
    pub declared_at: Timestamp,
    #[serde(
        default,
        with = "timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub started_at: Option<Timestamp>,
    #[serde(
        default,
        with = "timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub detected_at: Option<Timestamp>,
    /// When the record was written: the clock of the machine that wrote it.
    #[serde(with = "timestamp")]
    pub recorded_at: Timestamp,
    pub author: String,
    #[serde(default)]
    pub author_email: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub roles: BTreeMap<String, String>,
    /// Written down long after the fact (old history, an import): no
    /// postmortem is expected, and the lag between the stated times and the
    /// commits that recorded them means nothing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub historical: bool,
    /// Where an imported incident came from (`incident import`): the same
    /// source and id are never imported twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}

/// The system an imported incident came from and its id there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// `statuspage`, `cstate`, `csv`, ...
    pub system: String,
    pub id: String,
}

impl Declaration {
    pub fn parse(file: &str, text: &str) -> Result<Declaration> {
        let declaration: Declaration = tomlfile::parse(file, text)?;
        check_version(file, text, declaration.version)?;
        Ok(declaration)
    }

    pub fn to_toml(&self) -> Result<String> {
        Ok(format!(
            "# Incident record written by `incident declare`. Later changes are files in events/.\n{}",
            tomlfile::to_string(self)?
        ))
    }

    pub fn author(&self) -> Person {
        Person {
            name: self.author.clone(),
            email: self.author_email.clone(),
        }
    }
}

/// What one event changes.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Moves the incident to another state. `text` is the resolution or the
    /// reason given; `duplicate_of` names the original incident.
    Status {
        to: String,
        from: Option<String>,
        text: Option<String>,
        duplicate_of: Option<String>,
    },
    Severity {
        to: String,
        from: Option<String>,
    },
    Note {
        text: String,
    },
    /// Assigns a role (`name: None` leaves it unassigned).
    Role {
        role: String,
        name: Option<String>,
        from: Option<String>,
    },
    Service {
        name: String,
        removed: bool,
    },
    Link {
        url: String,
    },
    /// Sets a milestone (`time: None` clears it).
    Milestone {
        name: String,
        time: Option<Timestamp>,
    },
    Title {
        title: String,
    },
    Summary {
        text: String,
    },
    /// Names a commit, tag or deployment that caused the incident.
    Cause {
        rev: String,
    },
    /// A postmortem is due (recorded by `resolve`): its draft lives on the
    /// review branch `branch`, never on this one, until the review merges.
    PostmortemDue {
        branch: String,
    },
    /// An update to an audience: the status page, the company, executives
    /// (issue 14; derived state in `crate::comms`).
    Comms(Communication),
}

/// What one stakeholder update says.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Communication {
    /// `public` (the status page), `internal`, `exec`, or another audience of the config.
    pub audience: String,
    /// The public status: investigating, identified, monitoring, resolved.
    pub status: Option<String>,
    pub text: String,
    /// The incident's name on the status page (its own title stays internal).
    pub title: Option<String>,
    /// Component id to state (operational, degraded_performance, ...).
    pub components: BTreeMap<String, String>,
    /// When the next update to this audience is due.
    pub next_update: Option<Timestamp>,
    /// A resolving public update says whether data was lost.
    pub data_loss: Option<bool>,
    /// The public impact stated (Statuspage's: none, minor, major,
    /// critical); without one the status page derives it from components.
    pub impact: Option<String>,
}

impl Change {
    pub fn kind(&self) -> &'static str {
        match self {
            Change::Status { .. } => "status",
            Change::Severity { .. } => "severity",
            Change::Note { .. } => "note",
            Change::Role { .. } => "role",
            Change::Service { .. } => "service",
            Change::Link { .. } => "link",
            Change::Milestone { .. } => "milestone",
            Change::Title { .. } => "title",
            Change::Summary { .. } => "summary",
            Change::Cause { .. } => "cause",
            Change::Comms(_) => "comms",
            Change::PostmortemDue { .. } => "postmortem_due",
        }
    }
}

/// One timeline event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// File name without `.toml`: unique, and sortable by recording time.
    pub id: String,
    /// When it happened: stated by whoever recorded it, or (see `stated`)
    /// the recording time.
    pub at: Timestamp,
    /// When it was written down.
    pub recorded_at: Timestamp,
    /// Whether a person stated `at` (`--at`, a hand edit). When nobody did,
    /// `at` is the recording time, and the replay may move a status change
    /// earlier when a change recorded after it states an earlier time (see
    /// `model::incident`). In files: the field `stated`, written only when
    /// it differs from what `at != recorded_at` says, so older files and
    /// hand-edited times keep their meaning.
    pub stated: bool,
    /// A Lamport counter: one more than the highest `seq` of the incident's
    /// events when it was written, so events with the same stated time
    /// replay in the order they were recorded, on every clone.
    pub seq: u32,
    pub author: Person,
    pub change: Change,
}

/// An event file as it is on disk: the kind names which fields matter.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventFile {
    version: u32,
    kind: String,
    #[serde(with = "timestamp")]
    at: Timestamp,
    #[serde(with = "timestamp")]
    recorded_at: Timestamp,
    #[serde(default, skip_serializing_if = "is_zero")]
    seq: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stated: Option<bool>,
    author: String,
    #[serde(default)]
    author_email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    service: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    removed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    milestone: Option<String>,
    #[serde(
        default,
        with = "timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    duplicate_of: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    caused_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    // comms (issue 14): audience, status, title, text and these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    audience: Option<String>,
    #[serde(
        default,
        with = "timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    next_update: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data_loss: Option<bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    components: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    impact: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Refuse a record whose format version this build does not know.
pub(crate) fn check_version(file: &str, text: &str, version: u32) -> Result<()> {
    if version == 0 || version > FORMAT_VERSION {
        return Err(Error::Invalid {
            file: file.to_string(),
            line: tomlfile::line_of_key(text, "version"),
            field: "version".into(),
            message: format!(
                "format version {version} is not one this incident reads (1 to {FORMAT_VERSION}); upgrade incident"
            ),
        });
    }
    Ok(())
}

impl Event {
    /// Parse an event file; `id` is its file name without `.toml`.
    pub fn parse(file: &str, id: &str, text: &str) -> Result<Event> {
        let raw: EventFile = tomlfile::parse(file, text)?;
        check_version(file, text, raw.version)?;
        let missing = |field: &str| Error::Invalid {
            file: file.to_string(),
            line: tomlfile::line_of_key(text, "kind"),
            field: field.to_string(),
            message: format!("a '{}' event needs the field '{field}'", raw.kind),
        };
        let change = match raw.kind.as_str() {
            "status" => Change::Status {
                to: raw.status.clone().ok_or_else(|| missing("status"))?,
                from: raw.from.clone(),
                text: raw.text.clone(),
                duplicate_of: raw.duplicate_of.clone(),
            },
            "severity" => Change::Severity {
                to: raw.severity.clone().ok_or_else(|| missing("severity"))?,
                from: raw.from.clone(),
            },
            "note" => Change::Note {
                text: raw.text.clone().ok_or_else(|| missing("text"))?,
            },
            "role" => Change::Role {
                role: raw.role.clone().ok_or_else(|| missing("role"))?,
                name: raw.name.clone(),
                from: raw.from.clone(),
            },
            "service" => Change::Service {
                name: raw.service.clone().ok_or_else(|| missing("service"))?,
                removed: raw.removed,
            },
            "link" => Change::Link {
                url: raw.url.clone().ok_or_else(|| missing("url"))?,
            },
            "milestone" => Change::Milestone {
                name: raw.milestone.clone().ok_or_else(|| missing("milestone"))?,
                time: raw.time,
            },
            "title" => Change::Title {
                title: raw.title.clone().ok_or_else(|| missing("title"))?,
            },
            "summary" => Change::Summary {
                text: raw.text.clone().ok_or_else(|| missing("text"))?,
            },
            "cause" => Change::Cause {
                rev: raw.caused_by.clone().ok_or_else(|| missing("caused_by"))?,
            },
            "comms" => Change::Comms(crate::comms::parse_event_fields(
                file,
                text,
                Communication {
                    audience: raw.audience.clone().ok_or_else(|| missing("audience"))?,
                    status: raw.status.clone(),
                    text: raw.text.clone().ok_or_else(|| missing("text"))?,
                    title: raw.title.clone(),
                    components: raw.components.clone(),
                    next_update: raw.next_update,
                    data_loss: raw.data_loss,
                    impact: raw.impact.clone(),
                },
            )?),
            "postmortem_due" => Change::PostmortemDue {
                branch: raw.branch.clone().ok_or_else(|| missing("branch"))?,
            },
            other => {
                return Err(Error::Invalid {
                    file: file.to_string(),
                    line: tomlfile::line_of_key(text, "kind"),
                    field: "kind".into(),
                    message: format!(
                        "unknown event kind '{other}'; known kinds: status, severity, note, role, service, link, milestone, title, summary, cause, comms, postmortem_due"
                    ),
                });
            }
        };
        Ok(Event {
            id: id.to_string(),
            at: raw.at,
            recorded_at: raw.recorded_at,
            stated: raw.stated.unwrap_or(raw.at != raw.recorded_at),
            seq: raw.seq,
            author: Person {
                name: raw.author,
                email: raw.author_email,
            },
            change,
        })
    }

    pub fn to_toml(&self) -> Result<String> {
        let mut raw = EventFile {
            version: FORMAT_VERSION,
            kind: self.change.kind().to_string(),
            at: self.at,
            recorded_at: self.recorded_at,
            seq: self.seq,
            stated: (self.stated != (self.at != self.recorded_at)).then_some(self.stated),
            author: self.author.name.clone(),
            author_email: self.author.email.clone(),
            ..EventFile::default()
        };
        match &self.change {
            Change::Status {
                to,
                from,
                text,
                duplicate_of,
            } => {
                raw.status = Some(to.clone());
                raw.from = from.clone();
                raw.text = text.clone();
                raw.duplicate_of = duplicate_of.clone();
            }
            Change::Severity { to, from } => {
                raw.severity = Some(to.clone());
                raw.from = from.clone();
            }
            Change::Note { text } | Change::Summary { text } => raw.text = Some(text.clone()),
            Change::Role { role, name, from } => {
                raw.role = Some(role.clone());
                raw.name = name.clone();
                raw.from = from.clone();
            }
            Change::Service { name, removed } => {
                raw.service = Some(name.clone());
                raw.removed = *removed;
            }
            Change::Link { url } => raw.url = Some(url.clone()),
            Change::Milestone { name, time } => {
                raw.milestone = Some(name.clone());
                raw.time = *time;
            }
            Change::Title { title } => raw.title = Some(title.clone()),
            Change::Cause { rev } => raw.caused_by = Some(rev.clone()),
            Change::Comms(c) => {
                raw.audience = Some(c.audience.clone());
                raw.status = c.status.clone();
                raw.text = Some(c.text.clone());
                raw.title = c.title.clone();
                raw.components = c.components.clone();
                raw.next_update = c.next_update;
                raw.data_loss = c.data_loss;
                raw.impact = c.impact.clone();
            }
            Change::PostmortemDue { branch } => raw.branch = Some(branch.clone()),
        }
        tomlfile::to_string(&raw)
    }

    /// The order of replay: stated time, then the Lamport counter, then
    /// recording time, then the id (random, and the same on every clone).
    pub fn order_key(&self) -> (Timestamp, u32, Timestamp, &str) {
        (self.at, self.seq, self.recorded_at, &self.id)
    }

    /// The order events were recorded in, the same on every clone: the
    /// Lamport counter, then recording time, then the id.
    pub fn recording_key(&self) -> (u32, Timestamp, &str) {
        (self.seq, self.recorded_at, &self.id)
    }

    /// Whether the time this event sets was stated by a person: its `at`,
    /// or for a milestone an explicit `NAME=TIME` different from `at`.
    pub fn time_stated(&self) -> bool {
        match &self.change {
            Change::Milestone {
                time: Some(time), ..
            } => self.stated || *time != self.at,
            _ => self.stated,
        }
    }
}

impl Default for EventFile {
    fn default() -> Self {
        let epoch = chrono::DateTime::UNIX_EPOCH.fixed_offset();
        EventFile {
            version: FORMAT_VERSION,
            kind: String::new(),
            at: epoch,
            recorded_at: epoch,
            seq: 0,
            stated: None,
            author: String::new(),
            author_email: String::new(),
            status: None,
            severity: None,
            role: None,
            name: None,
            service: None,
            removed: false,
            url: None,
            milestone: None,
            time: None,
            duplicate_of: None,
            title: None,
            caused_by: None,
            branch: None,
            from: None,
            text: None,
            audience: None,
            next_update: None,
            data_loss: None,
            components: BTreeMap::new(),
            impact: None,
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
    fn events_round_trip_through_toml() {
        let hostile = "line one\nline two \u{0007} ../../x \"quoted\" 🔥 שלום \u{202e}";
        let event = Event {
            id: "20261124T031502Z-abc123-note".into(),
            at: at("2026-11-24T03:15:00+01:00"),
            recorded_at: at("2026-11-24T03:16:00+01:00"),
            stated: true,
            seq: 2,
            author: Person {
                name: "Alice".into(),
                email: "alice@example.com".into(),
            },
            change: Change::Note {
                text: hostile.into(),
            },
        };
        let text = event.to_toml().unwrap();
        assert!(text.contains("at = 2026-11-24T03:15:00+01:00"), "{text}");
        let back = Event::parse("x.toml", &event.id, &text).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn unknown_kinds_and_versions_are_reported() {
        let text = "version = 1\nkind = \"dance\"\nat = 2026-11-24T03:15:00Z\nrecorded_at = 2026-11-24T03:15:00Z\nauthor = \"a\"\n";
        let err = Event::parse("e.toml", "e", text).unwrap_err().to_string();
        assert!(
            err.contains("e.toml:2: kind: unknown event kind 'dance'"),
            "{err}"
        );
        let text = text
            .replace("version = 1", "version = 9")
            .replace("dance", "note");
        let err = Event::parse("e.toml", "e", &text).unwrap_err().to_string();
        assert!(err.contains("format version 9"), "{err}");
    }

    #[test]
    fn times_without_offset_are_refused() {
        let text = "version = 1\nkind = \"note\"\ntext = \"x\"\nat = 2026-11-24T03:15:00\nrecorded_at = 2026-11-24T03:15:00Z\nauthor = \"a\"\n";
        let err = Event::parse("e.toml", "e", text).unwrap_err().to_string();
        assert!(err.starts_with("e.toml:4:"), "{err}");
        assert!(err.contains("UTC offset"), "{err}");
    }
}
