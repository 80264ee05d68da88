//! `incident import`: the history teams already have, as incidents.
//!
//! Each source (one file per source) turns its files into [`Record`]s: an
//! incident as the source states it, with a timeline of [`Step`]s. This
//! module turns records into incident files, all in one commit:
//!
//! - **historical**: imported incidents are marked historical (no postmortem
//!   expected, left out of recording lag and overdue postmortems);
//! - **idempotent**: each records its source system and id
//!   (`[source]` in `incident.toml`); what is here already is skipped, and a
//!   second run of the same import creates nothing and says so;
//! - **no invented times**: a milestone the source does not state stays
//!   unset. Real data has quirks (resolutions before the start, an impact
//!   start after the first post, skipped states): a stated time that breaks
//!   the lifecycle's order is left unset, with a note in the timeline
//!   saying what the source said, and a status change the lifecycle does not
//!   allow becomes a note; so every import passes `incident check`;
//! - **malformed records** are reported with file and line and the rest is
//!   imported; `--strict` refuses the whole import instead.

pub mod cstate;
pub mod csv;
mod html_text;
pub mod jsonl;
pub mod mapping;
pub mod statuspage;
pub mod times;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::Datelike;
use git2::{Oid, Tree};

use crate::config::Config;
use crate::error::{Error, Result, io_err};
use crate::model::event::{
    Change, Communication, Declaration, Event, FORMAT_VERSION, Person, Source,
};
use crate::model::id;
use crate::model::incident::Incident;
use crate::ops::{commit_message, event_file_path, event_id, new_event_prefix};
use crate::store::write::{FileWrite, Plan};
use crate::store::{DATA_DIR, DECLARATION_FILE, Store};
use crate::time::{Timestamp, truncate_to_seconds};

pub use mapping::Mapping;

/// Where records come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Statuspage,
    Cstate,
    Csv,
    Jsonl,
}

impl SourceKind {
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Statuspage => "statuspage",
            SourceKind::Cstate => "cstate",
            SourceKind::Csv => "csv",
            SourceKind::Jsonl => "jsonl",
        }
    }
}

/// A record that could not be imported, where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// One incident as its source states it.
#[derive(Debug, Clone)]
pub struct Record {
    /// Its id in the source system (the idempotency key with the system).
    pub source_id: String,
    pub file: String,
    pub line: Option<usize>,
    pub title: String,
    /// One of the config's severities (sources map theirs).
    pub severity: String,
    pub services: Vec<String>,
    pub summary: String,
    pub links: Vec<String>,
    pub declared_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub detected_at: Option<Timestamp>,
    /// The timeline, in any order (sorted by time when written; steps with
    /// the same time keep this order).
    pub steps: Vec<Step>,
}

/// One entry of an imported timeline.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The incident moved to a state of the config's lifecycle.
    Status {
        at: Timestamp,
        to: String,
        text: Option<String>,
    },
    Note {
        at: Timestamp,
        text: String,
    },
    /// An update the source published on its status page: a public
    /// communication (`comms` event), so the status page built from the
    /// repository shows it again.
    Public {
        at: Timestamp,
        /// The public status, when the source's is one of ours.
        status: Option<String>,
        text: String,
        /// The incident's name as the source published it (on the first update).
        title: Option<String>,
        /// The impact the source published (none, minor, major, critical),
        /// so the status page states it again instead of deriving one.
        impact: Option<String>,
    },
    /// A move the source states without saying when (cState's `resolved:
    /// true` without `resolvedWhen`): made at `after`, the last time the
    /// source states, and the state's milestone left unset, so no figure
    /// is built on a time nobody knows.
    StatusAtUnknownTime {
        after: Timestamp,
        to: String,
        /// What the source said, for the note that explains it.
        said: String,
    },
    /// A milestone the source states, set at its time.
    Milestone {
        at: Timestamp,
        name: String,
    },
}

impl Step {
    fn at(&self) -> Timestamp {
        match self {
            Step::Status { at, .. }
            | Step::StatusAtUnknownTime { after: at, .. }
            | Step::Note { at, .. }
            | Step::Public { at, .. }
            | Step::Milestone { at, .. } => *at,
        }
    }
}

/// What a source's parser found.
#[derive(Debug, Default)]
pub struct Parsed {
    pub records: Vec<Record>,
    pub problems: Vec<Problem>,
}

/// `incident import SOURCE PATH [--map FILE] [--dry-run] [--strict]`.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub source: SourceKind,
    pub path: PathBuf,
    pub mapping: Option<PathBuf>,
    pub dry_run: bool,
    pub strict: bool,
}

/// What an import did (or, with `--dry-run`, would do).
#[derive(Debug, Default)]
pub struct ImportReport {
    pub source: &'static str,
    /// Records found in the input.
    pub found: usize,
    /// (id, title) of the incidents imported.
    pub imported: Vec<(String, String)>,
    /// Records that were imported before (same source and id).
    pub already: usize,
    /// (id, title) of the maintenances imported (jsonl only).
    pub maintenances: Vec<(String, String)>,
    /// Maintenances whose id is here already (jsonl only).
    pub maintenances_already: usize,
    pub events: usize,
    /// Files written (incident files, events, and for jsonl the others).
    pub files: usize,
    pub problems: Vec<Problem>,
    /// Stated times left unset and states not applied, per incident.
    pub adjustments: Vec<String>,
    /// Stated times that had a fraction of a second, stored to the whole
    /// second (records keep times to the second).
    pub fractions_dropped: usize,
    pub warnings: Vec<String>,
    pub commit: Option<Oid>,
    pub dry_run: bool,
}

/// Run an import.
pub fn import(store: &Store, request: &ImportRequest, now: Timestamp) -> Result<ImportReport> {
    let config = store.config()?;
    let mapping = match &request.mapping {
        Some(path) => Mapping::load(path)?,
        None => Mapping::default(),
    };
    if request.source == SourceKind::Jsonl {
        return jsonl::import(store, &config, request, now);
    }
    let parsed = match request.source {
        SourceKind::Statuspage => statuspage::parse(&request.path, &config, &mapping)?,
        SourceKind::Cstate => cstate::parse(&request.path, &config, &mapping)?,
        SourceKind::Csv => csv::parse(&request.path, &config, &mapping)?,
        SourceKind::Jsonl => unreachable_jsonl()?,
    };
    let system = mapping
        .system
        .clone()
        .unwrap_or_else(|| request.source.name().to_string());
    let mut report = ImportReport {
        source: request.source.name(),
        found: parsed.records.len() + parsed.problems.len(),
        problems: parsed.problems,
        dry_run: request.dry_run,
        ..ImportReport::default()
    };
    let head = store.head_tree()?;
    let known = existing_sources(store, head.as_ref())?;
    let mut taken: BTreeSet<String> = match &head {
        Some(tree) => store.folders(tree)?.into_iter().map(|f| f.id).collect(),
        None => BTreeSet::new(),
    };
    let identity = crate::store::identity::Identity::resolve(&store.repo, now)?;
    let mut files = Vec::new();
    let mut months = BTreeSet::new();
    let mut seen_here: BTreeSet<String> = BTreeSet::new();
    for record in parsed.records {
        if known.contains(&(system.clone(), record.source_id.clone())) {
            report.already += 1;
            continue;
        }
        if !seen_here.insert(record.source_id.clone()) {
            report.problems.push(Problem {
                file: record.file.clone(),
                line: record.line,
                message: format!(
                    "a second record with the id '{}'; only the first is imported",
                    record.source_id
                ),
            });
            continue;
        }
        let incident_id = loop {
            let candidate = id::random_id(config.ids.length)?;
            if !taken.contains(&candidate) {
                break candidate;
            }
        };
        match build(
            &config,
            &system,
            &record,
            &incident_id,
            now,
            &identity.author,
        ) {
            Ok(built) => {
                taken.insert(incident_id.clone());
                months.insert(built.month.clone());
                report.events += built.events;
                report.fractions_dropped += built.fractions_dropped;
                report.adjustments.extend(
                    built
                        .adjustments
                        .iter()
                        .map(|a| format!("{incident_id} ({}): {a}", record.source_id)),
                );
                report.imported.push((incident_id, record.title.clone()));
                files.extend(built.files);
            }
            Err(problem) => report.problems.push(problem),
        }
    }
    report.files = files.len();
    if request.strict && !report.problems.is_empty() {
        return Err(Error::ImportRejected {
            problems: report.problems.iter().map(ToString::to_string).collect(),
        });
    }
    if request.dry_run || files.is_empty() {
        return Ok(report);
    }
    let message = import_message(&report, &request.path);
    let guard: Vec<String> = months.into_iter().collect();
    let committed = commit_import(store, now, &message, &files, &guard, &|attempt| {
        if attempt.number > 1 {
            // Another writer committed meanwhile: it must not have imported
            // the same records or taken one of our ids.
            let now_known = existing_sources(store, attempt.tree)?;
            let ours: BTreeSet<&String> = report.imported.iter().map(|(id, _)| id).collect();
            let clash = match attempt.tree {
                Some(tree) => store
                    .folders(tree)?
                    .into_iter()
                    .any(|f| ours.contains(&f.id)),
                None => false,
            };
            if clash || now_known.len() != known.len() {
                return Err(Error::InvalidInput {
                    message: "another import or declaration was committed at the same time; run the import again (it skips what is here already)".into(),
                });
            }
        }
        Ok(())
    })?;
    report.warnings.extend(committed.warnings);
    report.commit = Some(committed.commit);
    Ok(report)
}

/// Commit an import's files in one commit; `recheck` runs on each attempt.
pub(crate) fn commit_import(
    store: &Store,
    now: Timestamp,
    message: &str,
    files: &[FileWrite],
    guard: &[String],
    recheck: &dyn Fn(&crate::store::write::Attempt<'_>) -> Result<()>,
) -> Result<crate::store::write::Committed> {
    let (committed, ()) = store.commit_with(now, |attempt| {
        recheck(attempt)?;
        Ok((
            Plan {
                message: message.to_string(),
                files: files.to_vec(),
                guard: guard.to_vec(),
            },
            (),
        ))
    })?;
    Ok(committed)
}

fn unreachable_jsonl() -> Result<Parsed> {
    Err(Error::InvalidInput {
        message: "internal: jsonl imports are handled separately".into(),
    })
}

/// The subject and body of an import's commit.
fn import_message(report: &ImportReport, path: &Path) -> String {
    let source_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let subject = format!(
        "Import {} incident{} from {} ({source_name})",
        report.imported.len(),
        if report.imported.len() == 1 { "" } else { "s" },
        report.source
    );
    let mut body = vec![format!(
        "Found {} record(s): {} imported with {} event(s), {} imported before, {} malformed.",
        report.found,
        report.imported.len(),
        report.events,
        report.already,
        report.problems.len()
    )];
    if !report.adjustments.is_empty() {
        body.push(format!(
            "{} stated time(s) or state(s) that break the lifecycle were left out and noted in the timelines.",
            report.adjustments.len()
        ));
    }
    if report.fractions_dropped > 0 {
        body.push(format!(
            "{} stated time(s) had a fraction of a second, stored to the whole second.",
            report.fractions_dropped
        ));
    }
    body.push("Imported incidents are marked historical.".into());
    commit_message(
        &subject,
        &body,
        &[
            ("Incident-Import", report.source.to_string()),
            ("Incident-Imported", report.imported.len().to_string()),
        ],
    )
}

/// (system, id) of every imported incident in `tree`.
pub fn existing_sources(
    store: &Store,
    tree: Option<&Tree<'_>>,
) -> Result<BTreeSet<(String, String)>> {
    let mut found = BTreeSet::new();
    let Some(tree) = tree else {
        return Ok(found);
    };
    for folder in store.folders(tree)? {
        let path = format!("{}/{DECLARATION_FILE}", folder.path);
        let Some(bytes) = crate::store::read_blob(&store.repo, tree, &path)? else {
            continue;
        };
        // A broken incident.toml is `incident check`'s business, not the import's.
        let Ok(text) = crate::tomlfile::text(&path, &bytes) else {
            continue;
        };
        if let Ok(declaration) = Declaration::parse(&path, text)
            && let Some(source) = declaration.source
        {
            found.insert((source.system, source.id));
        }
    }
    Ok(found)
}

/// The files of one record.
struct Built {
    files: Vec<FileWrite>,
    events: usize,
    adjustments: Vec<String>,
    fractions_dropped: usize,
    /// `incidents/YYYY/MM`, for the guard.
    month: String,
}

/// Turn a record into an incident's files, keeping to the lifecycle.
fn build(
    config: &Config,
    system: &str,
    record: &Record,
    incident_id: &str,
    now: Timestamp,
    author: &Person,
) -> std::result::Result<Built, Problem> {
    let problem = |message: String| Problem {
        file: record.file.clone(),
        line: record.line,
        message,
    };
    let zone = config.zone();
    if record.title.trim().is_empty() {
        return Err(problem("the incident has no title".into()));
    }
    let severity = config
        .check_severity(&record.severity)
        .map_err(|e| problem(format!("{e}; map it with [severity] in a --map file")))?;
    let mut services = Vec::new();
    for service in &record.services {
        let service =
            crate::ops::require_name("service", service).map_err(|e| problem(e.to_string()))?;
        if !services.contains(&service) {
            services.push(service);
        }
    }
    let future = |at: &Timestamp| *at > now + chrono::Duration::minutes(1);
    if future(&record.declared_at) {
        return Err(problem(format!(
            "the incident is dated {}, in the future",
            zone.long(&record.declared_at)
        )));
    }
    // Records keep times to the second; the report says how many lost a fraction.
    let fractions_dropped = std::cell::Cell::new(0usize);
    let to_second = |at: Timestamp| {
        let whole = truncate_to_seconds(at);
        if whole != at {
            fractions_dropped.set(fractions_dropped.get() + 1);
        }
        whole
    };
    let declared_at = to_second(record.declared_at);
    let mut adjustments = Vec::new();
    let mut notes: Vec<(Timestamp, String)> = Vec::new();
    let mut stated = |name: &str, value: Option<Timestamp>, adjustments: &mut Vec<String>| {
        let value = value.map(to_second)?;
        if value > declared_at {
            let text = format!(
                "the source says {name} at {}, after the incident was posted at {}; left unset",
                zone.long(&value),
                zone.long(&declared_at)
            );
            adjustments.push(text.clone());
            notes.push((declared_at, text));
            None
        } else {
            Some(value)
        }
    };
    let started_at = stated("impact started", record.started_at, &mut adjustments);
    let detected_at = stated("it was detected", record.detected_at, &mut adjustments);

    // The timeline, in time order, kept to the lifecycle.
    let mut steps: Vec<Step> = record.steps.clone();
    steps.sort_by_key(Step::at);
    let mut changes: Vec<(Timestamp, Change)> = Vec::new();
    let mut state = config.lifecycle.initial.clone();
    let lifecycle_state = |to: &str| {
        config.check_state(to).map_err(|e| {
            problem(format!(
                "{e}; map the source's states with [status] in a --map file"
            ))
        })
    };
    for step in steps {
        let at = to_second(step.at());
        if future(&at) {
            return Err(problem(format!(
                "a timeline entry is dated {}, in the future",
                zone.long(&at)
            )));
        }
        match step {
            Step::Note { text, .. } => changes.push((at, Change::Note { text })),
            Step::Public {
                status,
                text,
                title,
                impact,
                ..
            } => changes.push((
                at,
                Change::Comms(Communication {
                    audience: crate::comms::PUBLIC.to_string(),
                    status,
                    text,
                    title,
                    impact,
                    ..Communication::default()
                }),
            )),
            Step::Milestone { name, .. } => {
                let name = config
                    .check_milestone(&name)
                    .map_err(|e| problem(e.to_string()))?;
                changes.push((
                    at,
                    Change::Milestone {
                        name,
                        time: Some(at),
                    },
                ));
            }
            Step::StatusAtUnknownTime { to, said, .. } => {
                let to = lifecycle_state(&to)?;
                if to == state {
                    continue;
                }
                if !config.state(&state).is_some_and(|s| s.next.contains(&to)) {
                    let line = format!(
                        "{said}, not when; the lifecycle does not allow '{to}' from '{state}', where the timeline ends; not applied"
                    );
                    adjustments.push(line.clone());
                    changes.push((at, Change::Note { text: line }));
                    continue;
                }
                let milestone = config.state(&to).and_then(|s| s.milestone.clone());
                let mut text = format!(
                    "{said}, not when: moved to '{to}' after the last time it states, {}",
                    zone.long(&at)
                );
                if let Some(milestone) = &milestone {
                    text.push_str(&format!("; the {milestone} time is unknown, left unset"));
                }
                adjustments.push(text.clone());
                changes.push((at, Change::Note { text }));
                changes.push((
                    at,
                    Change::Status {
                        to: to.clone(),
                        from: Some(state.clone()),
                        text: None,
                        duplicate_of: None,
                    },
                ));
                state = to;
                if let Some(name) = milestone {
                    changes.push((at, Change::Milestone { name, time: None }));
                }
            }
            Step::Status { to, text, .. } => {
                let to = lifecycle_state(&to)?;
                if to == state {
                    if let Some(text) = text {
                        changes.push((at, Change::Note { text }));
                    }
                    continue;
                }
                let allowed = config.state(&state).is_some_and(|s| s.next.contains(&to));
                if !allowed {
                    let line = format!(
                        "the source moved it to '{to}' at {}, which the lifecycle does not allow from '{state}'; not applied",
                        zone.long(&at)
                    );
                    adjustments.push(line.clone());
                    changes.push((at, Change::Note { text: line }));
                    continue;
                }
                changes.push((
                    at,
                    Change::Status {
                        to: to.clone(),
                        from: Some(state.clone()),
                        text,
                        duplicate_of: None,
                    },
                ));
                state = to;
            }
        }
    }
    for (at, text) in notes {
        changes.insert(0, (at, Change::Note { text }));
    }

    let folder = format!(
        "{DATA_DIR}/{:04}/{:02}/{}",
        declared_at.with_timezone(&chrono::Utc).year(),
        declared_at.with_timezone(&chrono::Utc).month(),
        id::folder_name(incident_id, &id::slugify(&record.title))
    );
    let mut declaration = Declaration {
        version: FORMAT_VERSION,
        id: incident_id.to_string(),
        title: record.title.clone(),
        severity,
        status: config.lifecycle.initial.clone(),
        services,
        summary: record.summary.clone(),
        declared_at,
        started_at,
        detected_at,
        recorded_at: now,
        author: author.name.clone(),
        author_email: author.email.clone(),
        links: record.links.clone(),
        roles: BTreeMap::new(),
        historical: true,
        source: Some(Source {
            system: system.to_string(),
            id: record.source_id.clone(),
        }),
    };
    let make_events = |changes: &[(Timestamp, Change)]| -> Result<Vec<Event>> {
        let mut events = Vec::new();
        for (seq, (at, change)) in (0u32..).zip(changes) {
            events.push(Event {
                id: event_id(&new_event_prefix(&now)?, change),
                at: *at,
                recorded_at: now,
                // Times from the source system are what it stated.
                stated: true,
                seq,
                author: author.clone(),
                change: change.clone(),
            });
        }
        Ok(events)
    };
    let mut events = make_events(&changes).map_err(|e| problem(e.to_string()))?;
    // Stated milestones that break the order (a resolution before the
    // start): leave the later-named one unset, and say so.
    for _ in 0..8 {
        let incident = Incident::replay(config, &folder, &declaration, &events);
        let Some((earlier, later)) = incident.milestone_violations(config).into_iter().next()
        else {
            break;
        };
        let (drop, other) = if later == "declared" {
            (earlier, later)
        } else {
            (later, earlier)
        };
        let show = |name: &str| {
            incident
                .milestone(name)
                .map(|t| zone.long(&t))
                .unwrap_or_default()
        };
        let text = format!(
            "the source says {drop} at {}, before {other} at {}; {drop} left unset",
            show(&drop),
            show(&other)
        );
        adjustments.push(text.clone());
        let last = events.iter().map(|e| e.at).max().unwrap_or(declared_at);
        match drop.as_str() {
            "started" => declaration.started_at = None,
            "detected" => declaration.detected_at = None,
            _ => changes.push((
                last,
                Change::Milestone {
                    name: drop.clone(),
                    time: None,
                },
            )),
        }
        changes.push((last, Change::Note { text }));
        events = make_events(&changes).map_err(|e| problem(e.to_string()))?;
    }
    let incident = Incident::replay(config, &folder, &declaration, &events);
    if !incident.milestone_violations(config).is_empty() || !incident.anomalies.is_empty() {
        return Err(problem(
            "its times cannot be put in an order the lifecycle accepts".into(),
        ));
    }
    let mut files = vec![FileWrite {
        path: format!("{folder}/{DECLARATION_FILE}"),
        content: declaration
            .to_toml()
            .map_err(|e| problem(e.to_string()))?
            .into_bytes(),
    }];
    for event in &events {
        files.push(FileWrite {
            path: event_file_path(&folder, event),
            content: event
                .to_toml()
                .map_err(|e| problem(e.to_string()))?
                .into_bytes(),
        });
    }
    let month = folder
        .rsplit_once('/')
        .map_or(DATA_DIR, |(month, _)| month)
        .to_string();
    Ok(Built {
        files,
        events: events.len(),
        adjustments,
        fractions_dropped: fractions_dropped.get(),
        month,
    })
}

/// The files a source path names: the file itself, or the files in the
/// folder (not recursive) whose names end in `extension`, sorted.
pub fn input_files(path: &Path, extension: &str) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path).map_err(io_err(path))?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(io_err(path))? {
        let entry = entry.map_err(io_err(path))?;
        let file = entry.path();
        if file.is_file() && file.extension().is_some_and(|e| e == extension) {
            files.push(file);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(Error::InvalidInput {
            message: format!("{} holds no .{extension} files", path.display()),
        });
    }
    Ok(files)
}

/// A file's text, or a problem naming it.
pub fn read_text(path: &Path) -> std::result::Result<String, Problem> {
    std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string()))
        .map_err(|message| Problem {
            file: path.display().to_string(),
            line: None,
            message,
        })
}
