//! Each incident reduced to what the figures need, read straight from the
//! trees of one commit, and the snapshot of them kept for the next run.
//!
//! Times are whole seconds since the epoch: every figure is a difference
//! of instants or a comparison with period bounds, and every time shown is
//! converted to the configured zone, so the offset a time was written with
//! changes nothing.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use git2::{ObjectType, Oid};

use super::history::Recording;
use super::objects::{Listed, Objects, find};
use super::wire::{Reader, put_len, put_opt_i64, put_str, write_atomically};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::action::{self, ACTIONS_DIR, ActionChange, ActionFile, ActionRecord};
use crate::model::event::{Change, Declaration, Event};
use crate::model::id;
use crate::model::incident::{Incident, Measure, MilestoneSource, measure_with};
use crate::ops::postmortem::POSTMORTEM_FILE;
use crate::ops::review::REVIEW_STATE;
use crate::store::{DATA_DIR, DECLARATION_FILE, EVENTS_DIR};
use crate::tomlfile;

/// Seconds since the epoch.
pub type Secs = i64;

/// Names that thousands of incidents share (states, severities, services,
/// milestones), held once.
#[derive(Debug, Default)]
pub struct Names(HashSet<Arc<str>>);

impl Names {
    pub fn get(&mut self, name: &str) -> Arc<str> {
        if let Some(known) = self.0.get(name) {
            return known.clone();
        }
        let name: Arc<str> = Arc::from(name);
        self.0.insert(name.clone());
        name
    }
}

/// One milestone of an incident: when, and, when nobody stated it, what
/// it was assumed from (as [`MilestoneSource::Assumed`] says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MilestoneFact {
    pub name: Arc<str>,
    pub at: Secs,
    pub assumed_from: Option<Arc<str>>,
}

/// An incident's current state: what figures group, filter and measure by.
#[derive(Debug, Clone)]
pub struct Core {
    pub id: String,
    pub title: String,
    pub severity: Arc<str>,
    pub status: Arc<str>,
    pub services: Vec<Arc<str>>,
    pub caused_by: Vec<String>,
    /// Written down after the fact: no postmortem expected, recording lag
    /// meaningless.
    pub historical: bool,
    /// Sorted by name.
    pub milestones: Vec<MilestoneFact>,
    /// `started` (recorded or assumed): what places the incident in a
    /// period, and what lists of facts are sorted by.
    pub started: Option<Secs>,
    /// `postmortem_published` is the time of the commit that brought the
    /// reviewed postmortem, not a time somebody stated.
    pub published_from_history: bool,
    /// The postmortem was published before this shallow clone's history
    /// begins: when is unknown (no `postmortem_published` milestone).
    pub published_before_history: bool,
}

impl Core {
    pub fn milestone_fact(&self, name: &str) -> Option<&MilestoneFact> {
        self.milestones
            .binary_search_by(|m| (*m.name).cmp(name))
            .ok()
            .map(|i| &self.milestones[i])
    }

    pub fn milestone(&self, name: &str) -> Option<Secs> {
        self.milestone_fact(name).map(|m| m.at)
    }

    pub fn is_open(&self, config: &Config) -> bool {
        config.is_open(&self.status)
    }

    /// The duration from one milestone to another, by the model's rule: a
    /// duration with an assumed end is not a measurement.
    pub fn measure(&self, from: &str, to: &str) -> Measure {
        measure_with(
            |name| {
                self.milestone_fact(name)
                    .map(|m| (m.at, m.assumed_from.is_none()))
            },
            from,
            to,
        )
    }
}

/// One incident for the report.
#[derive(Debug, Clone)]
pub struct Facts {
    pub incident: Core,
    /// Status changes in the model's effective order (see
    /// [`Incident::status_changes`]), starting with the declared status:
    /// (state, entered, whether that time is a fact rather than assumed).
    pub transitions: Vec<(Arc<str>, Secs, bool)>,
    /// The declaration and every event (but `postmortem_due`).
    pub records: Vec<Record>,
    pub actions: Vec<ActionFact>,
}

/// A record: the declaration or an event, as recording lag sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its stated time.
    pub at: Secs,
    /// Time of the commit that brought its file onto the branch, if
    /// history has it.
    pub recorded: Option<Secs>,
    /// Recorded before this shallow clone's history begins: when is
    /// unknown (`recorded` is `None`). Never in a saved snapshot, since a
    /// shallow clone's facts are not saved.
    pub before_history: bool,
    /// What it records: `declared`, or the event's kind (`status resolved`,
    /// `milestone mitigated`, `note`, ...), for the lists behind a figure.
    pub what: Arc<str>,
}

/// An action item: when it was added, when it is due, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionFact {
    /// Its number among the incident's items (`incident actions` shows it).
    pub number: u32,
    pub text: String,
    pub created: Secs,
    /// Due date, a day in the configured zone.
    pub due: Option<NaiveDate>,
    /// `open`, `done` or `dropped`.
    pub status: Arc<str>,
    pub finished: Option<Secs>,
}

/// The milestone a published postmortem sets.
pub const PUBLISHED: &str = "postmortem_published";

/// Replay one incident into its facts, with what history says about its
/// files (`recorded`: path → the commit that brought it onto the branch).
pub fn reduce(
    config: &Config,
    raw: &Raw,
    recorded: &HashMap<String, Recording>,
    names: &mut Names,
) -> Facts {
    let Raw {
        folder,
        declaration,
        events,
        actions,
        ..
    } = raw;
    // The oldest commit of a shallow clone did not record what it holds.
    let when = |path: &str| recorded.get(path).filter(|r| !r.at_edge).map(|r| r.time);
    let before_history = |path: &str| recorded.get(path).is_some_and(|r| r.at_edge);
    let incident = Incident::replay(config, folder, declaration, events);
    let actions = action::replay(&declaration.id, actions)
        .into_iter()
        .map(|a| ActionFact {
            number: u32::try_from(a.number).unwrap_or(u32::MAX),
            text: a.text,
            created: a.created_at.timestamp(),
            due: a.due,
            status: names.get(&a.status),
            finished: a.finished_at.map(|t| t.timestamp()),
        })
        .collect();
    let mut ordered: Vec<&Event> = events.iter().collect();
    ordered.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    // The order `show` gives, catch-up entry and clock skew included; a
    // confirmation of the current status continues the same visit.
    let transitions = incident
        .status_changes()
        .iter()
        .filter(|t| t.from.as_deref() != Some(t.to.as_str()))
        .map(|t| (names.get(&t.to), t.at.timestamp(), t.timing.is_fact()))
        .collect();
    let declaration_path = format!("{folder}/{DECLARATION_FILE}");
    let mut records = vec![Record {
        at: declaration.declared_at.timestamp(),
        recorded: when(&declaration_path),
        before_history: before_history(&declaration_path),
        what: names.get("declared"),
    }];
    for event in ordered {
        // `postmortem_due` is written by the tool along with the resolution,
        // not stated by a person: it would count the resolution twice.
        if !matches!(event.change, Change::PostmortemDue { .. }) {
            let path = event_path(folder, &event.id);
            records.push(Record {
                at: event.at.timestamp(),
                recorded: when(&path),
                before_history: before_history(&path),
                what: names.get(&record_kind(&event.change)),
            });
        }
    }
    let mut milestones: Vec<MilestoneFact> = incident
        .milestones
        .iter()
        .map(|(name, m)| MilestoneFact {
            name: names.get(name),
            at: m.at.timestamp(),
            assumed_from: match &m.source {
                MilestoneSource::Recorded => None,
                MilestoneSource::Assumed(from) => Some(names.get(from)),
            },
        })
        .collect();
    let publishing = published_by_history(raw, &incident);
    // All of them there at the edge of a shallow clone: published then or
    // earlier, nobody here can tell when.
    let published_before_history =
        !publishing.is_empty() && publishing.iter().all(|path| before_history(path));
    let published = publishing
        .iter()
        .filter_map(|path| when(path))
        .max()
        .map(|at| MilestoneFact {
            name: names.get(PUBLISHED),
            at,
            assumed_from: None,
        });
    let published_from_history = published.is_some();
    milestones.extend(published);
    milestones.sort_by(|a, b| a.name.cmp(&b.name));
    Facts {
        incident: Core {
            id: incident.id,
            title: incident.title,
            severity: names.get(&incident.severity),
            status: names.get(&incident.status),
            services: incident.services.iter().map(|s| names.get(s)).collect(),
            caused_by: incident.caused_by,
            historical: incident.historical,
            started: milestones
                .iter()
                .find(|m| &*m.name == "started")
                .map(|m| m.at),
            milestones,
            published_from_history,
            published_before_history,
        },
        transitions,
        records,
        actions,
    }
}

/// What an event records, in a few words: its kind, and for status,
/// severity and milestone changes what it changed to.
fn record_kind(change: &Change) -> String {
    match change {
        Change::Status { to, .. } => format!("status {to}"),
        Change::Severity { to, .. } => format!("severity {to}"),
        Change::Milestone { name, .. } => format!("milestone {name}"),
        other => other.kind().to_string(),
    }
}

fn event_path(folder: &str, event: &str) -> String {
    format!("{folder}/{EVENTS_DIR}/{event}.toml")
}

/// The files whose recording commits may have published the postmortem,
/// until `incident close` records `postmortem_published`: as `incident
/// show` says, the later of the first-parent commits that brought
/// postmortem.md onto the branch (drafts live on their review branch,
/// never here) and its review's status change to `postmortem` (which the
/// older flow, with drafts on the branch, brought in last).
fn published_by_history(raw: &Raw, incident: &Incident) -> Vec<String> {
    if !raw.has_postmortem || incident.milestones.contains_key(PUBLISHED) {
        return Vec::new();
    }
    let review = raw
        .events
        .iter()
        .filter(|e| matches!(&e.change, Change::Status { to, .. } if to == REVIEW_STATE))
        .max_by(|a, b| a.order_key().cmp(&b.order_key()))
        .map(|e| event_path(&raw.folder, &e.id));
    std::iter::once(format!("{}/{POSTMORTEM_FILE}", raw.folder))
        .chain(review)
        .collect()
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

/// Read and reduce every incident under `incidents/<yyyy>/<mm>/` of the
/// tree `root`, going from tree to tree by id (never looking paths up
/// from the root again), with what history says about each of its files;
/// each incident's files are dropped once it is reduced. Sorted (see
/// [`sort_facts`]). Incidents that do not parse are skipped with a
/// warning.
pub fn read_facts(
    repo: &git2::Repository,
    root: Oid,
    config: &Config,
    recorded: &HashMap<String, Recording>,
) -> Result<(Vec<Facts>, Vec<String>)> {
    let mut objects = Objects::new(repo)?;
    let mut names = Names::default();
    let mut facts = Vec::new();
    let mut warnings = Vec::new();
    let Some(data) = subtrees(&mut objects, root)?
        .into_iter()
        .find(|(name, _)| name == DATA_DIR)
    else {
        return Ok((facts, warnings));
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
                    Ok(raw) => facts.push(reduce(config, &raw, recorded, &mut names)),
                    Err(e) => warnings.push(format!("skipping {folder}: {e}")),
                }
            }
        }
    }
    facts.shrink_to_fit();
    sort_facts(&mut facts);
    Ok((facts, warnings))
}

/// By `started`, then by every other milestone (in name order), then
/// title, severity, state and services: the order incidents are listed
/// in, and the order [`super::figures::in_window`] relies on. Ids
/// (random) come last, only between incidents that agree on all of that
/// and so list the same: the same history recorded with other ids lists
/// the same way.
pub fn sort_facts(facts: &mut [Facts]) {
    fn times(c: &Core) -> impl Iterator<Item = (&str, Secs, bool)> {
        c.milestones
            .iter()
            .map(|m| (&*m.name, m.at, m.assumed_from.is_some()))
    }
    facts.sort_by(|a, b| {
        let (a, b) = (&a.incident, &b.incident);
        a.started
            .cmp(&b.started)
            .then_with(|| times(a).cmp(times(b)))
            .then_with(|| {
                (&a.title, &a.severity, &a.status, &a.services).cmp(&(
                    &b.title,
                    &b.severity,
                    &b.status,
                    &b.services,
                ))
            })
            .then_with(|| a.id.cmp(&b.id))
    });
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

/// Bump when what the snapshot holds changes meaning (3: binary, milestone
/// sources as the model gives them, implied milestones assumed; 4: status
/// changes in the model's effective order, with whether each time is a
/// fact; 5: what each record is, action items' numbers and texts, facts
/// ordered without ids; 6: a change whose milestone was cleared after it
/// is no fact).
pub const SNAPSHOT_VERSION: u32 = 6;
pub const SNAPSHOT_FILE: &str = "incident/report-snapshot-v6";
/// Snapshots of earlier versions, removed when a new one is written.
const OLD_SNAPSHOT_FILES: &[&str] = &[
    "incident/report-snapshot-v1.json",
    "incident/report-snapshot-v3",
    "incident/report-snapshot-v4",
    "incident/report-snapshot-v5",
];
const SNAPSHOT_MAGIC: &[u8] = b"incident report snapshot\n";

/// What a report needs besides the config, for one commit.
pub struct Snapshot {
    pub commits: usize,
    pub shallow: bool,
    pub warnings: Vec<String>,
    /// When the repository started recording incidents: the commit that
    /// added the config file.
    pub set_up: Option<Secs>,
    /// `set_up` is the oldest commit of a shallow clone, which has the
    /// config file already: the record starts then or earlier. Never in a
    /// saved snapshot, since a shallow clone's facts are not saved.
    pub set_up_before_history: bool,
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
    let bytes = crate::store::ownfiles::read(path).ok()??;
    decode_snapshot(&bytes, commit, config)
}

fn decode_snapshot(bytes: &[u8], commit: Oid, config: &str) -> Option<Snapshot> {
    let mut r = Reader::new(bytes);
    if r.take(SNAPSHOT_MAGIC.len())? != SNAPSHOT_MAGIC
        || r.u32()? != SNAPSHOT_VERSION
        || r.oid()? != commit
        || r.str()? != config
    {
        return None;
    }
    let commits = usize::try_from(r.u64()?).ok()?;
    let shallow = r.u8()? != 0;
    let set_up = r.opt_i64()?;
    let warnings = (0..r.len()?)
        .map(|_| r.str().map(str::to_string))
        .collect::<Option<Vec<_>>>()?;
    let names = (0..r.len()?)
        .map(|_| r.str().map(Arc::<str>::from))
        .collect::<Option<Vec<_>>>()?;
    let name = |r: &mut Reader<'_>| names.get(r.u32()? as usize).cloned();
    let count = r.len()?;
    let mut facts = Vec::with_capacity(count);
    for _ in 0..count {
        let id = r.str()?.to_string();
        let title = r.str()?.to_string();
        let severity = name(&mut r)?;
        let status = name(&mut r)?;
        let flags = r.u8()?;
        let services = (0..r.len()?).map(|_| name(&mut r)).collect::<Option<_>>()?;
        let caused_by = (0..r.len()?)
            .map(|_| r.str().map(str::to_string))
            .collect::<Option<_>>()?;
        let milestones: Vec<MilestoneFact> = (0..r.len()?)
            .map(|_| {
                let name_of = name(&mut r)?;
                let at = r.i64()?;
                let assumed_from = match r.u32()? {
                    0 => None,
                    i => Some(names.get(i as usize - 1)?.clone()),
                };
                Some(MilestoneFact {
                    name: name_of,
                    at,
                    assumed_from,
                })
            })
            .collect::<Option<_>>()?;
        let transitions = (0..r.len()?)
            .map(|_| Some((name(&mut r)?, r.i64()?, r.u32()? != 0)))
            .collect::<Option<_>>()?;
        let records = (0..r.len()?)
            .map(|_| {
                Some(Record {
                    at: r.i64()?,
                    recorded: r.opt_i64()?,
                    before_history: false,
                    what: name(&mut r)?,
                })
            })
            .collect::<Option<_>>()?;
        let actions = (0..r.len()?)
            .map(|_| {
                let number = r.u32()?;
                let text = r.str()?.to_string();
                let created = r.i64()?;
                let due = match r.i32()? {
                    i32::MIN => None,
                    days => Some(NaiveDate::from_num_days_from_ce_opt(days)?),
                };
                Some(ActionFact {
                    number,
                    text,
                    created,
                    due,
                    status: name(&mut r)?,
                    finished: r.opt_i64()?,
                })
            })
            .collect::<Option<_>>()?;
        facts.push(Facts {
            incident: Core {
                id,
                title,
                severity,
                status,
                services,
                caused_by,
                historical: flags & 1 != 0,
                started: milestones
                    .iter()
                    .find(|m| &*m.name == "started")
                    .map(|m| m.at),
                milestones,
                published_from_history: flags & 2 != 0,
                published_before_history: flags & 4 != 0,
            },
            transitions,
            records,
            actions,
        });
    }
    r.done().then_some(Snapshot {
        commits,
        shallow,
        warnings,
        set_up,
        set_up_before_history: false,
        facts,
    })
}

/// The shared names of the facts, numbered in the order first seen.
fn name_table(facts: &[Facts]) -> (Vec<&Arc<str>>, HashMap<&str, u32>) {
    fn add<'f>(
        table: &mut Vec<&'f Arc<str>>,
        index: &mut HashMap<&'f str, u32>,
        name: &'f Arc<str>,
    ) {
        if !index.contains_key(&**name) {
            index.insert(name, table.len() as u32);
            table.push(name);
        }
    }
    let mut table = Vec::new();
    let mut index: HashMap<&str, u32> = HashMap::new();
    for f in facts {
        let core = &f.incident;
        let mut names: Vec<&Arc<str>> = vec![&core.severity, &core.status];
        names.extend(&core.services);
        for m in &core.milestones {
            names.push(&m.name);
            names.extend(&m.assumed_from);
        }
        names.extend(f.transitions.iter().map(|(s, _, _)| s));
        names.extend(f.records.iter().map(|r| &r.what));
        names.extend(f.actions.iter().map(|a| &a.status));
        for name in names {
            add(&mut table, &mut index, name);
        }
    }
    (table, index)
}

fn encode_snapshot(
    out: &mut impl Write,
    commit: Oid,
    config: &str,
    snapshot: &Snapshot,
) -> std::io::Result<()> {
    let (table, index) = name_table(&snapshot.facts);
    let name = |out: &mut dyn Write, n: &str| out.write_all(&index[n].to_le_bytes());
    out.write_all(SNAPSHOT_MAGIC)?;
    out.write_all(&SNAPSHOT_VERSION.to_le_bytes())?;
    out.write_all(commit.as_bytes())?;
    put_str(out, config)?;
    out.write_all(&(snapshot.commits as u64).to_le_bytes())?;
    out.write_all(&[u8::from(snapshot.shallow)])?;
    put_opt_i64(out, snapshot.set_up)?;
    put_len(out, snapshot.warnings.len())?;
    for w in &snapshot.warnings {
        put_str(out, w)?;
    }
    put_len(out, table.len())?;
    for n in &table {
        put_str(out, n)?;
    }
    put_len(out, snapshot.facts.len())?;
    for f in &snapshot.facts {
        let core = &f.incident;
        put_str(out, &core.id)?;
        put_str(out, &core.title)?;
        name(out, &core.severity)?;
        name(out, &core.status)?;
        out.write_all(&[u8::from(core.historical)
            | u8::from(core.published_from_history) << 1
            | u8::from(core.published_before_history) << 2])?;
        put_len(out, core.services.len())?;
        for s in &core.services {
            name(out, s)?;
        }
        put_len(out, core.caused_by.len())?;
        for c in &core.caused_by {
            put_str(out, c)?;
        }
        put_len(out, core.milestones.len())?;
        for m in &core.milestones {
            name(out, &m.name)?;
            out.write_all(&m.at.to_le_bytes())?;
            let from = m.assumed_from.as_ref().map_or(0, |n| index[&**n] + 1);
            out.write_all(&from.to_le_bytes())?;
        }
        put_len(out, f.transitions.len())?;
        for (state, at, fact) in &f.transitions {
            name(out, state)?;
            out.write_all(&at.to_le_bytes())?;
            out.write_all(&u32::from(*fact).to_le_bytes())?;
        }
        put_len(out, f.records.len())?;
        for record in &f.records {
            out.write_all(&record.at.to_le_bytes())?;
            put_opt_i64(out, record.recorded)?;
            name(out, &record.what)?;
        }
        put_len(out, f.actions.len())?;
        for a in &f.actions {
            out.write_all(&a.number.to_le_bytes())?;
            put_str(out, &a.text)?;
            out.write_all(&a.created.to_le_bytes())?;
            let due = a.due.map_or(i32::MIN, |d| d.num_days_from_ce());
            out.write_all(&due.to_le_bytes())?;
            name(out, &a.status)?;
            put_opt_i64(out, a.finished)?;
        }
    }
    Ok(())
}

pub fn save_snapshot(path: &Path, commit: Oid, config: &str, snapshot: &Snapshot) -> Result<()> {
    write_atomically(path, |out| encode_snapshot(out, commit, config, snapshot))?;
    if let Some(git_dir) = path.parent().and_then(Path::parent) {
        for old in OLD_SNAPSHOT_FILES {
            let _ = fs::remove_file(git_dir.join(old));
        }
    }
    Ok(())
}
