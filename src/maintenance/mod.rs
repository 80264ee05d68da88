//! Scheduled maintenance (issue 14): a window in which components are under
//! maintenance, shown on the status page. Maintenances are not incidents:
//! they live in `incidents/maintenance/`, one folder each, written once,
//! with later changes (start, complete, cancel) as event files beside, so
//! that clones merge without conflicts, like incidents.
//!
//! ```text
//! incidents/maintenance/<year>/<month>/<id>-<slug>/maintenance.toml
//! incidents/maintenance/<year>/<month>/<id>-<slug>/events/<recorded>-<random>-<kind>.toml
//! ```
//!
//! The month is the one the window starts in (UTC). Everything in these
//! files except the author fields is published on the status page.

pub mod ops;

use git2::{ObjectType, Repository, Tree};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::event::{Person, check_version};
use crate::model::id;
use crate::store::{EVENTS_DIR, for_each_toml, read_blob, subtree};
use crate::time::Timestamp;
use crate::tomlfile::{self, timestamp};

/// The folder of maintenances, inside the incidents folder.
pub const MAINTENANCE_DIR: &str = "incidents/maintenance";
pub const RECORD_FILE: &str = "maintenance.toml";

/// `maintenance.toml`: the maintenance as scheduled.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub version: u32,
    pub id: String,
    pub title: String,
    /// The first public message about it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(with = "timestamp")]
    pub scheduled_for: Timestamp,
    #[serde(with = "timestamp")]
    pub scheduled_until: Timestamp,
    /// Component ids of the config.
    pub components: Vec<String>,
    #[serde(with = "timestamp")]
    pub recorded_at: Timestamp,
    pub author: String,
    #[serde(default)]
    pub author_email: String,
}

/// What happens to a maintenance after it is scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Start,
    Complete,
    Cancel,
}

impl Step {
    pub fn name(self) -> &'static str {
        match self {
            Step::Start => "start",
            Step::Complete => "complete",
            Step::Cancel => "cancel",
        }
    }

    fn parse(name: &str) -> Option<Step> {
        match name {
            "start" => Some(Step::Start),
            "complete" => Some(Step::Complete),
            "cancel" => Some(Step::Cancel),
            _ => None,
        }
    }
}

/// One later change, in `events/`.
#[derive(Debug, Clone, PartialEq)]
pub struct MaintenanceEvent {
    pub id: String,
    pub step: Step,
    pub at: Timestamp,
    pub recorded_at: Timestamp,
    pub seq: u32,
    pub author: Person,
    /// A public message that goes with it.
    pub text: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventFile {
    version: u32,
    kind: String,
    #[serde(with = "timestamp")]
    at: Timestamp,
    #[serde(with = "timestamp")]
    recorded_at: Timestamp,
    #[serde(default)]
    seq: u32,
    author: String,
    #[serde(default)]
    author_email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
}

impl Record {
    pub fn parse(file: &str, text: &str) -> Result<Record> {
        let record: Record = tomlfile::parse(file, text)?;
        check_version(file, text, record.version)?;
        if record.scheduled_until <= record.scheduled_for {
            return Err(Error::Invalid {
                file: file.to_string(),
                line: tomlfile::line_of_key(text, "scheduled_until"),
                field: "scheduled_until".into(),
                message: "the window ends before it starts".into(),
            });
        }
        Ok(record)
    }

    pub fn to_toml(&self) -> Result<String> {
        Ok(format!(
            "# Scheduled maintenance written by `incident maintenance schedule`. Later changes are files in events/.\n{}",
            tomlfile::to_string(self)?
        ))
    }
}

impl MaintenanceEvent {
    pub fn parse(file: &str, id: &str, text: &str) -> Result<MaintenanceEvent> {
        let raw: EventFile = tomlfile::parse(file, text)?;
        check_version(file, text, raw.version)?;
        let step = Step::parse(&raw.kind).ok_or_else(|| Error::Invalid {
            file: file.to_string(),
            line: tomlfile::line_of_key(text, "kind"),
            field: "kind".into(),
            message: format!(
                "unknown maintenance event kind '{}'; known kinds: start, complete, cancel",
                raw.kind
            ),
        })?;
        Ok(MaintenanceEvent {
            id: id.to_string(),
            step,
            at: raw.at,
            recorded_at: raw.recorded_at,
            seq: raw.seq,
            author: Person {
                name: raw.author,
                email: raw.author_email,
            },
            text: raw.text,
        })
    }

    pub fn to_toml(&self) -> Result<String> {
        tomlfile::to_string(&EventFile {
            version: crate::model::event::FORMAT_VERSION,
            kind: self.step.name().to_string(),
            at: self.at,
            recorded_at: self.recorded_at,
            seq: self.seq,
            author: self.author.name.clone(),
            author_email: self.author.email.clone(),
            text: self.text.clone(),
        })
    }
}

/// A maintenance's state at some moment, in Statuspage's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Scheduled,
    InProgress,
    Completed,
    /// Cancelled before or while it ran (Statuspage shows it as completed).
    Cancelled,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Scheduled => "scheduled",
            Phase::InProgress => "in_progress",
            Phase::Completed => "completed",
            Phase::Cancelled => "cancelled",
        }
    }
}

/// A maintenance with its events.
#[derive(Debug, Clone)]
pub struct Maintenance {
    pub folder: String,
    pub record: Record,
    /// In order: time, then recording order.
    pub events: Vec<MaintenanceEvent>,
}

impl Maintenance {
    /// The events that happened up to `at`.
    fn steps_until(&self, at: Timestamp) -> impl Iterator<Item = &MaintenanceEvent> {
        self.events.iter().filter(move |e| e.at <= at)
    }

    /// Its phase at `at`: what was recorded, else the window (a maintenance
    /// starts and ends with its window unless someone says otherwise).
    pub fn phase(&self, at: Timestamp) -> Phase {
        let mut phase = None;
        for event in self.steps_until(at) {
            phase = Some(match event.step {
                Step::Start => Phase::InProgress,
                Step::Complete => Phase::Completed,
                Step::Cancel => Phase::Cancelled,
            });
        }
        match phase {
            Some(Phase::Completed) => Phase::Completed,
            Some(Phase::Cancelled) => Phase::Cancelled,
            // Started early (or on time): runs until completed or the window ends.
            Some(_) if at < self.record.scheduled_until => Phase::InProgress,
            _ if at < self.record.scheduled_for => Phase::Scheduled,
            _ if at < self.record.scheduled_until => Phase::InProgress,
            _ => Phase::Completed,
        }
    }

    /// When it ended: completed or cancelled, else the end of its window.
    pub fn ended_at(&self) -> Timestamp {
        self.events
            .iter()
            .find(|e| matches!(e.step, Step::Complete | Step::Cancel))
            .map(|e| e.at)
            .unwrap_or(self.record.scheduled_until)
    }

    /// When it began: started, else the start of its window.
    pub fn began_at(&self) -> Timestamp {
        self.events
            .iter()
            .find(|e| e.step == Step::Start)
            .map(|e| e.at)
            .unwrap_or(self.record.scheduled_for)
    }
}

/// Every maintenance in a tree, soonest window first.
pub fn load_all(repo: &Repository, tree: &Tree<'_>) -> Result<Vec<Maintenance>> {
    let mut found = Vec::new();
    let Some(root) = subtree(repo, tree, MAINTENANCE_DIR)? else {
        return Ok(found);
    };
    for (year, year_tree) in subtrees(repo, &root)? {
        for (month, month_tree) in subtrees(repo, &year_tree)? {
            for (name, folder_tree) in subtrees(repo, &month_tree)? {
                if id::split_folder_name(&name).is_none() {
                    continue;
                }
                let folder = format!("{MAINTENANCE_DIR}/{year}/{month}/{name}");
                found.push(load(repo, &folder_tree, &folder)?);
            }
        }
    }
    found.sort_by(|a, b| {
        (a.record.scheduled_for, &a.record.id).cmp(&(b.record.scheduled_for, &b.record.id))
    });
    Ok(found)
}

fn subtrees<'r>(repo: &'r Repository, tree: &Tree<'_>) -> Result<Vec<(String, Tree<'r>)>> {
    let mut out = Vec::new();
    for entry in tree.iter() {
        if entry.kind() == Some(ObjectType::Tree)
            && let Ok(name) = entry.name()
        {
            out.push((name.to_string(), repo.find_tree(entry.id())?));
        }
    }
    Ok(out)
}

/// One maintenance folder.
pub fn load(repo: &Repository, tree: &Tree<'_>, folder: &str) -> Result<Maintenance> {
    let file = format!("{folder}/{RECORD_FILE}");
    let bytes = read_blob(repo, tree, RECORD_FILE)?.ok_or_else(|| Error::Invalid {
        file: file.clone(),
        line: None,
        field: RECORD_FILE.into(),
        message: "the maintenance folder has no maintenance.toml".into(),
    })?;
    let text = tomlfile::text(&file, &bytes)?;
    let record = Record::parse(&file, text)?;
    let folder_id = folder
        .rsplit('/')
        .next()
        .and_then(id::split_folder_name)
        .map(|(id, _)| id);
    if folder_id != Some(record.id.as_str()) {
        return Err(Error::Invalid {
            file: file.clone(),
            line: tomlfile::line_of_key(text, "id"),
            field: "id".into(),
            message: format!(
                "id '{}' does not match the folder's id '{}'",
                record.id,
                folder_id.unwrap_or_default()
            ),
        });
    }
    let mut events = Vec::new();
    if let Some(dir) = subtree(repo, tree, EVENTS_DIR)? {
        for_each_toml(
            repo,
            &dir,
            &format!("{folder}/{EVENTS_DIR}"),
            |id, file, text| {
                events.push(MaintenanceEvent::parse(file, id, text)?);
                Ok(())
            },
        )?;
    }
    events.sort_by(|a, b| {
        (a.at, a.seq, a.recorded_at, &a.id).cmp(&(b.at, b.seq, b.recorded_at, &b.id))
    });
    Ok(Maintenance {
        folder: folder.to_string(),
        record,
        events,
    })
}

/// The one maintenance a query names: an id, a unique id prefix, or a
/// fragment of its folder's slug.
pub fn find<'a>(all: &'a [Maintenance], query: &str) -> Result<&'a Maintenance> {
    find_for(all, query, |_| true)
}

/// The maintenance `query` names, as [`find`], preferring among several
/// that match the ones `usable` accepts (those a step can apply to: a
/// completed maintenance is not one to start). Several usable ones are
/// ambiguous; a single match is returned even when unusable, so that the
/// step can say why it cannot apply.
pub fn find_for<'a>(
    all: &'a [Maintenance],
    query: &str,
    usable: impl Fn(&Maintenance) -> bool,
) -> Result<&'a Maintenance> {
    let wanted = query.trim().to_ascii_lowercase();
    let not_found = || Error::InvalidInput {
        message: format!(
            "no scheduled maintenance matches '{query}'; `incident maintenance list` shows them"
        ),
    };
    if wanted.is_empty() {
        return Err(not_found());
    }
    if let Some(exact) = all.iter().find(|m| m.record.id == wanted) {
        return Ok(exact);
    }
    let mut matches: Vec<&Maintenance> = all
        .iter()
        .filter(|m| m.record.id.starts_with(&wanted))
        .collect();
    if matches.is_empty() {
        matches = all
            .iter()
            .filter(|m| {
                m.folder
                    .rsplit('/')
                    .next()
                    .and_then(id::split_folder_name)
                    .is_some_and(|(_, slug)| slug.contains(&wanted))
            })
            .collect();
    }
    if matches.len() > 1 && matches.iter().any(|m| usable(m)) {
        matches.retain(|m| usable(m));
    }
    match matches.as_slice() {
        [] => Err(not_found()),
        [one] => Ok(one),
        many => Err(Error::Ambiguous {
            what: "maintenances",
            query: query.into(),
            candidates: many
                .iter()
                .map(|m| {
                    format!(
                        "{}  {}  {}",
                        m.record.id,
                        // The window as it was scheduled, to tell apart
                        // maintenances of one title.
                        m.record.scheduled_for.format("%Y-%m-%d %H:%M %:z"),
                        m.record.title
                    )
                })
                .collect(),
        }),
    }
}
