//! Each incident reduced to what the figures need, read straight from the
//! trees of one commit, and the snapshot of them kept for the next run.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid};
use serde::{Deserialize, Serialize};

use super::history::{Recording, commit_time};
use super::objects::{Listed, Objects, find};
use crate::config::Config;
use crate::error::{Error, Result, io_err};
use crate::model::action::{self, ACTIONS_DIR, ActionChange, ActionFile, ActionRecord};
use crate::model::event::{Change, Declaration, Event};
use crate::model::id;
use crate::model::incident::{Incident, MilestoneSource};
use crate::ops::postmortem::POSTMORTEM_FILE;
use crate::ops::review::REVIEW_STATE;
use crate::store::{DATA_DIR, DECLARATION_FILE, EVENTS_DIR};
use crate::time::Timestamp;
use crate::tomlfile;

/// An incident's current state: what figures group, filter and measure by.
#[derive(Debug, Clone)]
pub struct Core {
    pub id: String,
    pub severity: String,
    pub status: String,
    pub services: Vec<String>,
    pub caused_by: Vec<String>,
    /// Milestone → (time, the milestone it was assumed from when nobody set it).
    pub milestones: BTreeMap<String, (Timestamp, Option<String>)>,
}

impl Core {
    pub fn milestone(&self, name: &str) -> Option<Timestamp> {
        self.milestones.get(name).map(|m| m.0)
    }

    pub fn is_open(&self, config: &Config) -> bool {
        config.is_open(&self.status)
    }

    /// Whether milestone `name` was assumed from `other`, directly or through others.
    pub fn assumed_from(&self, name: &str, other: &str) -> bool {
        let mut current = name;
        for _ in 0..16 {
            match self.milestones.get(current).and_then(|m| m.1.as_deref()) {
                Some(from) if from == other => return true,
                Some(from) => current = from,
                None => return false,
            }
        }
        false
    }
}

/// One incident for the report.
#[derive(Debug, Clone)]
pub struct Facts {
    pub incident: Core,
    /// Status changes in replay order, starting with the declared status.
    pub transitions: Vec<(String, Timestamp)>,
    /// The declaration and every event: (stated time, time of the commit
    /// that brought the file onto the branch, if history has it).
    pub records: Vec<(Timestamp, Option<Timestamp>)>,
    pub actions: Vec<ActionFact>,
}

/// An action item: when it was added, when it is due, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionFact {
    pub created: (i64, i32),
    /// Due date, `YYYY-MM-DD` (a day in the configured zone).
    pub due: Option<String>,
    /// `open`, `done` or `dropped`.
    pub status: String,
    pub finished: Option<(i64, i32)>,
}

impl ActionFact {
    pub fn created(&self) -> Timestamp {
        unwire(self.created)
    }

    pub fn finished(&self) -> Option<Timestamp> {
        self.finished.map(unwire)
    }

    pub fn due(&self) -> Option<chrono::NaiveDate> {
        self.due
            .as_deref()
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    }
}

/// The milestone a published postmortem sets.
pub const PUBLISHED: &str = "postmortem_published";

pub fn reduce(config: &Config, raw: &Raw, recorded: &HashMap<String, Recording>) -> Facts {
    let Raw {
        folder,
        declaration,
        events,
        actions,
        has_postmortem,
    } = raw;
    let (folder, declaration, events) = (folder.as_str(), declaration, events.as_slice());
    let incident = Incident::replay(config, folder, declaration, events);
    let actions = action::replay(&declaration.id, actions)
        .into_iter()
        .map(|a| ActionFact {
            created: wire(&a.created_at),
            due: a.due.map(|d| d.format("%Y-%m-%d").to_string()),
            status: a.status,
            finished: a.finished_at.as_ref().map(wire),
        })
        .collect();
    let mut ordered: Vec<&Event> = events.iter().collect();
    ordered.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    let mut transitions = vec![(declaration.status.clone(), declaration.declared_at)];
    let when = |path: String| recorded.get(&path).map(|r| r.time);
    let mut records = vec![(
        declaration.declared_at,
        when(format!("{folder}/{DECLARATION_FILE}")),
    )];
    for event in ordered {
        // `postmortem_due` is written by the tool along with the resolution,
        // not stated by a person: it would count the resolution twice.
        if !matches!(event.change, Change::PostmortemDue { .. }) {
            records.push((
                event.at,
                when(format!("{folder}/{EVENTS_DIR}/{}.toml", event.id)),
            ));
        }
        if let Change::Status { to, .. } = &event.change
            && transitions.last().is_some_and(|(s, _)| s != to)
        {
            transitions.push((to.clone(), event.at));
        }
    }
    let mut milestones: BTreeMap<String, (Timestamp, Option<String>)> = incident
        .milestones
        .iter()
        .map(|(name, m)| {
            let from = match &m.source {
                MilestoneSource::Recorded => None,
                MilestoneSource::Assumed(from) => Some(from.clone()),
            };
            (name.clone(), (m.at, from))
        })
        .collect();
    // Not recorded yet (`incident close` records it): as `incident show`
    // does, a postmortem is published by the first-parent commit that
    // brought it onto the branch (drafts live on their review branch, never
    // here), or, when the review's status change to `postmortem` came later
    // (the older flow kept drafts on the branch), by the one that brought that.
    if *has_postmortem && !milestones.contains_key(PUBLISHED) {
        let review = events
            .iter()
            .filter(|e| matches!(&e.change, Change::Status { to, .. } if to == REVIEW_STATE))
            .max_by(|a, b| a.order_key().cmp(&b.order_key()));
        let document = recorded.get(&format!("{folder}/{POSTMORTEM_FILE}"));
        let review =
            review.and_then(|e| recorded.get(&format!("{folder}/{EVENTS_DIR}/{}.toml", e.id)));
        if let Some(r) = [document, review]
            .into_iter()
            .flatten()
            .max_by_key(|r| r.time)
        {
            milestones.insert(PUBLISHED.to_string(), (r.time, None));
        }
    }
    Facts {
        incident: Core {
            id: incident.id,
            severity: incident.severity,
            status: incident.status,
            services: incident.services,
            caused_by: incident.caused_by,
            milestones,
        },
        transitions,
        records,
        actions,
    }
}

/// The subtrees of a tree, by name.
fn subtrees(objects: &mut Objects, id: Oid) -> Result<Vec<(String, Oid)>> {
    Ok(objects
        .listing(id)?
        .into_iter()
        .filter(|e| e.is_tree)
        .map(|e| (e.name, e.id))
        .collect())
}

/// The files of one incident, unreplayed.
#[derive(Debug, Clone)]
pub struct Raw {
    pub folder: String,
    pub declaration: Declaration,
    pub events: Vec<Event>,
    pub actions: Vec<ActionRecord>,
    /// The folder has a `postmortem.md`.
    pub has_postmortem: bool,
}

/// Read every incident under `incidents/<yyyy>/<mm>/` of the tree `root`,
/// going from tree to tree by id (never looking paths up from the root
/// again). It reads through gitoxide (see [`super::objects`]), so it runs
/// on another thread beside the libgit2 history walk without either
/// waiting for the other. Incidents that do not parse are skipped with a
/// warning.
pub fn read_raw(objects_dir: &Path, root: Oid) -> Result<(Vec<Raw>, Vec<String>)> {
    let mut objects = Objects::open(objects_dir)?;
    let mut found = Vec::new();
    let mut warnings = Vec::new();
    let Some(data) = subtrees(&mut objects, root)?
        .into_iter()
        .find(|(name, _)| name == DATA_DIR)
    else {
        return Ok((found, warnings));
    };
    let is_number =
        |name: &str, len: usize| name.len() == len && name.bytes().all(|b| b.is_ascii_digit());
    for (year, year_id) in subtrees(&mut objects, data.1)? {
        if !is_number(&year, 4) {
            continue;
        }
        for (month, month_id) in subtrees(&mut objects, year_id)? {
            if !is_number(&month, 2) {
                continue;
            }
            for (name, folder_id) in subtrees(&mut objects, month_id)? {
                let Some((folder_incident_id, _)) = id::split_folder_name(&name) else {
                    continue;
                };
                let folder = format!("{DATA_DIR}/{year}/{month}/{name}");
                match read_one(&mut objects, folder_id, &folder, folder_incident_id) {
                    Ok(mut raw) => {
                        raw.folder = folder;
                        found.push(raw)
                    }
                    Err(e) => warnings.push(format!("skipping {folder}: {e}")),
                }
            }
        }
    }
    Ok((found, warnings))
}

/// Replay and reduce what [`read_raw`] read, sorted by `started`, then id.
pub fn reduce_all(
    config: &Config,
    raw: &[Raw],
    recorded: &HashMap<String, Recording>,
) -> Vec<Facts> {
    let mut facts: Vec<Facts> = raw
        .iter()
        .map(|raw| reduce(config, raw, recorded))
        .collect();
    facts.sort_by(|a, b| {
        (a.incident.milestone("started"), &a.incident.id)
            .cmp(&(b.incident.milestone("started"), &b.incident.id))
    });
    facts
}

fn read_one(
    objects: &mut Objects,
    folder_id: Oid,
    folder: &str,
    folder_incident_id: &str,
) -> Result<Raw> {
    let tree = objects.listing(folder_id)?;
    let path = format!("{folder}/{DECLARATION_FILE}");
    let entry = find(&tree, DECLARATION_FILE)
        .filter(|e| e.is_blob)
        .ok_or_else(|| Error::Invalid {
            file: path.clone(),
            line: None,
            field: DECLARATION_FILE.into(),
            message: "the incident folder has no incident.toml".into(),
        })?;
    let blob = objects.blob(entry.id)?;
    let declaration = Declaration::parse(&path, tomlfile::text(&path, blob)?)?;
    if declaration.id != folder_incident_id {
        return Err(Error::Invalid {
            file: path,
            line: None,
            field: "id".into(),
            message: format!(
                "id '{}' does not match the folder's id '{folder_incident_id}'",
                declaration.id
            ),
        });
    }
    let mut events = Vec::new();
    if let Some(events_entry) = find(&tree, EVENTS_DIR).filter(|e| e.is_tree) {
        for entry in objects.listing(events_entry.id)? {
            let Some(event_id) = entry.name.strip_suffix(".toml") else {
                continue;
            };
            if !entry.is_blob {
                continue;
            }
            let file = format!("{folder}/{EVENTS_DIR}/{}", entry.name);
            let blob = objects.blob(entry.id)?;
            events.push(Event::parse(&file, event_id, tomlfile::text(&file, blob)?)?);
        }
    }
    let actions = read_action_records(objects, &tree, folder)?;
    Ok(Raw {
        folder: folder.to_string(),
        declaration,
        events,
        actions,
        has_postmortem: find(&tree, POSTMORTEM_FILE).is_some(),
    })
}

/// The action items under `actions/` of an incident's folder tree
/// (`actions/<id>.toml` and their changes in `actions/<id>/`).
fn read_action_records(
    objects: &mut Objects,
    folder_tree: &[Listed],
    folder: &str,
) -> Result<Vec<ActionRecord>> {
    let mut records = Vec::new();
    let Some(dir) = find(folder_tree, ACTIONS_DIR).filter(|e| e.is_tree) else {
        return Ok(records);
    };
    let dir_tree = objects.listing(dir.id)?;
    let base = format!("{folder}/{ACTIONS_DIR}");
    for entry in &dir_tree {
        let name = &entry.name;
        let Some(action_id) = name.strip_suffix(".toml") else {
            continue;
        };
        if !entry.is_blob {
            continue;
        }
        let file = format!("{base}/{name}");
        let blob = objects.blob(entry.id)?;
        let item = ActionFile::parse(&file, tomlfile::text(&file, blob)?)?;
        let mut changes = Vec::new();
        if let Some(sub) = find(&dir_tree, action_id).filter(|e| e.is_tree) {
            for change in objects.listing(sub.id)? {
                let change_name = &change.name;
                let Some(change_id) = change_name.strip_suffix(".toml") else {
                    continue;
                };
                if !change.is_blob {
                    continue;
                }
                let change_file = format!("{base}/{action_id}/{change_name}");
                let blob = objects.blob(change.id)?;
                let parsed =
                    ActionChange::parse(&change_file, tomlfile::text(&change_file, blob)?)?;
                changes.push((change_id.to_string(), parsed));
            }
        }
        records.push(ActionRecord {
            id: action_id.to_string(),
            file,
            item,
            changes,
        });
    }
    Ok(records)
}

// --- The snapshot: the facts of the last report, keyed by commit and config.

pub const SNAPSHOT_VERSION: u32 = 3;
pub const SNAPSHOT_FILE: &str = "incident/report-snapshot-v1.json";

type Wire = (i64, i32);

fn wire(t: &Timestamp) -> Wire {
    (t.timestamp(), t.offset().local_minus_utc() / 60)
}

fn unwire(w: Wire) -> Timestamp {
    commit_time(w.0, w.1)
}

#[derive(Serialize, Deserialize)]
struct FactsWire {
    id: String,
    severity: String,
    status: String,
    services: Vec<String>,
    caused_by: Vec<String>,
    milestones: Vec<(String, Wire, Option<String>)>,
    transitions: Vec<(String, Wire)>,
    records: Vec<(Wire, Option<Wire>)>,
    actions: Vec<ActionFact>,
}

/// What a report needs besides the config, for one commit.
#[derive(Serialize, Deserialize)]
pub struct SnapshotWire {
    version: u32,
    commit: String,
    config: String,
    commits: usize,
    shallow: bool,
    warnings: Vec<String>,
    facts: Vec<FactsWire>,
}

pub struct Snapshot {
    pub commits: usize,
    pub shallow: bool,
    pub warnings: Vec<String>,
    pub facts: Vec<Facts>,
}

pub fn snapshot_path(git_common_dir: &Path) -> PathBuf {
    git_common_dir.join(SNAPSHOT_FILE)
}

/// A key for the config: facts depend on its lifecycle.
pub fn config_key(config: &Config) -> String {
    let text = serde_json::to_string(config).unwrap_or_default();
    Oid::hash_object(ObjectType::Blob, text.as_bytes())
        .map(|o| o.to_string())
        .unwrap_or_default()
}

/// The snapshot for this commit and config, if the file holds it.
pub fn load_snapshot(path: &Path, commit: Oid, config: &str) -> Option<Snapshot> {
    let bytes = fs::read(path).ok()?;
    let wire: SnapshotWire = serde_json::from_slice(&bytes).ok()?;
    if wire.version != SNAPSHOT_VERSION
        || wire.commit != commit.to_string()
        || wire.config != config
    {
        return None;
    }
    let facts = wire
        .facts
        .into_iter()
        .map(|f| Facts {
            incident: Core {
                id: f.id,
                severity: f.severity,
                status: f.status,
                services: f.services,
                caused_by: f.caused_by,
                milestones: f
                    .milestones
                    .into_iter()
                    .map(|(n, t, a)| (n, (unwire(t), a)))
                    .collect(),
            },
            transitions: f
                .transitions
                .into_iter()
                .map(|(s, t)| (s, unwire(t)))
                .collect(),
            records: f
                .records
                .into_iter()
                .map(|(a, r)| (unwire(a), r.map(unwire)))
                .collect(),
            actions: f.actions,
        })
        .collect();
    Some(Snapshot {
        commits: wire.commits,
        shallow: wire.shallow,
        warnings: wire.warnings,
        facts,
    })
}

/// The wire form of one incident's facts.
fn facts_wire(f: &Facts) -> FactsWire {
    FactsWire {
        id: f.incident.id.clone(),
        severity: f.incident.severity.clone(),
        status: f.incident.status.clone(),
        services: f.incident.services.clone(),
        caused_by: f.incident.caused_by.clone(),
        milestones: f
            .incident
            .milestones
            .iter()
            .map(|(n, (t, a))| (n.clone(), wire(t), a.clone()))
            .collect(),
        transitions: f
            .transitions
            .iter()
            .map(|(s, t)| (s.clone(), wire(t)))
            .collect(),
        records: f
            .records
            .iter()
            .map(|(a, r)| (wire(a), r.as_ref().map(wire)))
            .collect(),
        actions: f.actions.clone(),
    }
}

/// The facts, turned into their wire form one at a time as they are
/// written (no second copy of them all).
struct FactsOut<'a>(&'a [Facts]);

impl Serialize for FactsOut<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(facts_wire))
    }
}

/// [`SnapshotWire`] as written: the same fields, borrowed.
#[derive(Serialize)]
struct SnapshotOut<'a> {
    version: u32,
    commit: String,
    config: &'a str,
    commits: usize,
    shallow: bool,
    warnings: &'a [String],
    facts: FactsOut<'a>,
}

pub fn save_snapshot(path: &Path, commit: Oid, config: &str, snapshot: &Snapshot) -> Result<()> {
    let wire = SnapshotOut {
        version: SNAPSHOT_VERSION,
        commit: commit.to_string(),
        config,
        commits: snapshot.commits,
        shallow: snapshot.shallow,
        warnings: &snapshot.warnings,
        facts: FactsOut(&snapshot.facts),
    };
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let written = fs::File::create(&tmp)
        .map_err(io_err(&tmp))
        .and_then(|file| {
            let mut out = std::io::BufWriter::new(file);
            serde_json::to_writer(&mut out, &wire).map_err(|e| Error::InvalidInput {
                message: format!("cannot write the report snapshot: {e}"),
            })?;
            out.flush().map_err(io_err(&tmp))
        });
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    fs::rename(&tmp, path).map_err(io_err(path))?;
    Ok(())
}
