//! This tool's own JSON Lines export (`incident export`), imported back
//! file for file: each record's `text` (or `base64`) is written at its
//! `path`, so export → import → export gives the same bytes. `derived`
//! records are recomputed, never read. An incident whose id is here
//! already is skipped (imported before); the config is written only over
//! the untouched default one, and other repository-wide files (templates,
//! hooks) only where there is none.

use std::collections::BTreeMap;

use base64::Engine;
use serde::Deserialize;

use super::{ImportReport, ImportRequest, Problem, SourceKind, read_text};
use crate::config::{Config, DEFAULT_CONFIG};
use crate::error::{Error, Result};
use crate::export::{EXPORT_FORMAT, EXPORT_VERSION};
use crate::maintenance::{
    MAINTENANCE_DIR, MaintenanceEvent, RECORD_FILE, Record as MaintenanceRecord,
};
use crate::model::event::{Declaration, Event};
use crate::model::id;
use crate::ops::commit_message;
use crate::store::write::FileWrite;
use crate::store::{CONFIG_PATH, DATA_DIR, DECLARATION_FILE, EVENTS_DIR, Store};
use crate::time::Timestamp;

/// (line number in the export, path, content) of one file record.
type FileLine = (usize, String, Vec<u8>);

#[derive(Debug, Deserialize)]
struct Line {
    record: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    base64: Option<String>,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    version: Option<u32>,
}

/// A path an export may name: under `incidents/`, plain components only.
fn safe_path(path: &str) -> bool {
    path.starts_with(&format!("{DATA_DIR}/"))
        && !path.contains('\\')
        && path.split('/').all(|c| {
            !c.is_empty()
                && c != "."
                && c != ".."
                && !c.eq_ignore_ascii_case(".git")
                && !c.chars().any(char::is_control)
        })
}

/// (`<base>/YYYY/MM/<id>-<slug>`, the id) of a path inside an incident
/// folder (base `incidents`) or a maintenance folder (`incidents/maintenance`).
fn folder_of(base: &str, path: &str) -> Option<(String, String)> {
    let (folder, _) = crate::export::folder_under(base, path)?;
    let name = folder.rsplit('/').next()?;
    let (id, _) = id::split_folder_name(name)?;
    Some((folder.clone(), id.to_string()))
}

pub fn import(
    store: &Store,
    config: &Config,
    request: &ImportRequest,
    now: Timestamp,
) -> Result<ImportReport> {
    let file = request.path.display().to_string();
    let text = read_text(&request.path).map_err(|p| Error::InvalidInput {
        message: p.to_string(),
    })?;
    let mut report = ImportReport {
        source: SourceKind::Jsonl.name(),
        dry_run: request.dry_run,
        ..ImportReport::default()
    };
    let problem = |line: usize, message: String| Problem {
        file: file.clone(),
        line: Some(line),
        message,
    };
    // path → (line, bytes), by incident folder and repository-wide.
    let mut folders: BTreeMap<String, (String, Vec<FileLine>)> = BTreeMap::new();
    let mut maintenance_folders: BTreeMap<String, (String, Vec<FileLine>)> = BTreeMap::new();
    let mut repository: Vec<FileLine> = Vec::new();
    let mut header_seen = false;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let line: Line = match serde_json::from_str(raw) {
            Ok(line) => line,
            Err(e) => {
                report
                    .problems
                    .push(problem(number, format!("not a JSON record: {e}")));
                continue;
            }
        };
        if line.record == "header" {
            if line.format.as_deref() != Some(EXPORT_FORMAT)
                || line.version.is_none_or(|v| v == 0 || v > EXPORT_VERSION)
            {
                return Err(Error::InvalidInput {
                    message: format!(
                        "{file}:{number}: not an export this incident reads (format '{EXPORT_FORMAT}', version 1 to {EXPORT_VERSION}); upgrade incident"
                    ),
                });
            }
            header_seen = true;
            continue;
        }
        if !header_seen {
            return Err(Error::InvalidInput {
                message: format!(
                    "{file}:{number}: the first record must be the export's header; is this a file made by `incident export`?"
                ),
            });
        }
        if line.record == "derived" {
            continue;
        }
        let Some(path) = line.path.filter(|p| safe_path(p)) else {
            report.problems.push(problem(
                number,
                format!(
                    "a '{}' record without a path under {DATA_DIR}/, or with '..' in it",
                    line.record
                ),
            ));
            continue;
        };
        let bytes = match (line.text, line.base64) {
            (Some(text), _) => text.into_bytes(),
            (None, Some(encoded)) => {
                match base64::engine::general_purpose::STANDARD.decode(encoded) {
                    Ok(bytes) => bytes,
                    Err(e) => {
                        report
                            .problems
                            .push(problem(number, format!("{path}: base64: {e}")));
                        continue;
                    }
                }
            }
            (None, None) => {
                report
                    .problems
                    .push(problem(number, format!("{path}: the record has no text")));
                continue;
            }
        };
        if let Some((folder, incident_id)) = folder_of(DATA_DIR, &path) {
            folders
                .entry(folder)
                .or_insert_with(|| (incident_id, Vec::new()))
                .1
                .push((number, path, bytes));
        } else if let Some((folder, maintenance_id)) = folder_of(MAINTENANCE_DIR, &path) {
            maintenance_folders
                .entry(folder)
                .or_insert_with(|| (maintenance_id, Vec::new()))
                .1
                .push((number, path, bytes));
        } else {
            repository.push((number, path, bytes));
        }
    }
    if !header_seen {
        return Err(Error::InvalidInput {
            message: format!("{file}: empty; an export starts with a header record"),
        });
    }

    let head = store.head_tree()?;
    let existing: Vec<String> = match &head {
        Some(tree) => store.folders(tree)?.into_iter().map(|f| f.id).collect(),
        None => Vec::new(),
    };
    let mut files: Vec<FileWrite> = Vec::new();
    for (number, path, bytes) in repository {
        let current = match &head {
            Some(tree) => crate::store::read_blob(&store.repo, tree, &path)?,
            None => None,
        };
        let replace = match &current {
            None => true,
            Some(current) if *current == bytes => false,
            Some(current) => path == CONFIG_PATH && current.as_slice() == DEFAULT_CONFIG.as_bytes(),
        };
        if current.as_ref().is_some_and(|c| *c != bytes) && !replace {
            report.warnings.push(format!(
                "{path} differs from the export's (line {number}); kept this repository's"
            ));
        }
        if replace {
            if path == CONFIG_PATH {
                let text = crate::tomlfile::text(&path, &bytes)?;
                if let Err(e) = Config::parse(&path, text) {
                    report.problems.push(problem(number, e.to_string()));
                    continue;
                }
            }
            files.push(FileWrite {
                path,
                content: bytes,
            });
        }
    }
    for (folder, (incident_id, items)) in folders {
        report.found += 1;
        if existing.contains(&incident_id) {
            report.already += 1;
            continue;
        }
        // Every record file of the incident must parse, or none is written.
        let mut declaration: Option<Declaration> = None;
        let mut bad = None;
        let mut events = 0;
        for (number, path, bytes) in &items {
            let inner = &path[folder.len() + 1..];
            let checked = crate::tomlfile::text(path, bytes).and_then(|text| {
                if inner == DECLARATION_FILE {
                    declaration = Some(Declaration::parse(path, text)?);
                } else if let Some(name) = inner.strip_prefix(&format!("{EVENTS_DIR}/")) {
                    let stem = name.trim_end_matches(".toml");
                    Event::parse(path, stem, text)?;
                    events += 1;
                }
                Ok(())
            });
            if let Err(e) = checked {
                bad = Some(problem(*number, e.to_string()));
                break;
            }
        }
        if bad.is_none() && declaration.as_ref().is_none_or(|d| d.id != incident_id) {
            bad = Some(problem(
                items.first().map_or(0, |i| i.0),
                format!("{folder}: no incident.toml with the id '{incident_id}'"),
            ));
        }
        if let Some(bad) = bad {
            report.problems.push(bad);
            continue;
        }
        let title = declaration.map(|d| d.title).unwrap_or_default();
        report.imported.push((incident_id, title));
        report.events += events;
        files.extend(
            items
                .into_iter()
                .map(|(_, path, content)| FileWrite { path, content }),
        );
    }
    let existing_maintenances: Vec<String> = match &head {
        Some(tree) => crate::maintenance::load_all(&store.repo, tree)?
            .into_iter()
            .map(|m| m.record.id)
            .collect(),
        None => Vec::new(),
    };
    for (folder, (maintenance_id, items)) in maintenance_folders {
        if existing_maintenances.contains(&maintenance_id) {
            report.maintenances_already += 1;
            continue;
        }
        match check_maintenance(&folder, &maintenance_id, &items) {
            Ok(title) => {
                report.maintenances.push((maintenance_id, title));
                files.extend(
                    items
                        .into_iter()
                        .map(|(_, path, content)| FileWrite { path, content }),
                );
            }
            Err(bad) => report.problems.push(problem(bad.0, bad.1)),
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
    let _ = config;
    let subject = match report.maintenances.len() {
        0 => format!(
            "Import {} incident{} from an incident export",
            report.imported.len(),
            if report.imported.len() == 1 { "" } else { "s" }
        ),
        n => format!(
            "Import {} incident{} and {n} maintenance{} from an incident export",
            report.imported.len(),
            if report.imported.len() == 1 { "" } else { "s" },
            if n == 1 { "" } else { "s" }
        ),
    };
    let body = vec![format!(
        "Found {} incident(s): {} imported with {} event(s), {} here already; {} maintenance(s) imported, {} here already; {} malformed record(s); {} file(s) written.",
        report.found,
        report.imported.len(),
        report.events,
        report.already,
        report.maintenances.len(),
        report.maintenances_already,
        report.problems.len(),
        report.files
    )];
    let message = commit_message(
        &subject,
        &body,
        &[
            ("Incident-Import", "jsonl".to_string()),
            ("Incident-Imported", report.imported.len().to_string()),
        ],
    );
    let guard: Vec<String> = {
        let mut months: Vec<String> = files
            .iter()
            .map(|f| f.path.split('/').take(3).collect::<Vec<_>>().join("/"))
            .collect();
        months.sort();
        months.dedup();
        months
    };
    let committed = super::commit_import(store, now, &message, &files, &guard, &|_| Ok(()))?;
    report.warnings.extend(committed.warnings);
    report.commit = Some(committed.commit);
    Ok(report)
}

/// Every file of an exported maintenance parses and its record has the
/// folder's id; its title, or (line, problem).
fn check_maintenance(
    folder: &str,
    maintenance_id: &str,
    items: &[FileLine],
) -> std::result::Result<String, (usize, String)> {
    let mut title = None;
    for (number, path, bytes) in items {
        let inner = &path[folder.len() + 1..];
        let checked = crate::tomlfile::text(path, bytes).and_then(|text| {
            if inner == RECORD_FILE {
                let record = MaintenanceRecord::parse(path, text)?;
                if record.id == maintenance_id {
                    title = Some(record.title);
                }
            } else if let Some(name) = inner.strip_prefix(&format!("{EVENTS_DIR}/")) {
                MaintenanceEvent::parse(path, name.trim_end_matches(".toml"), text)?;
            }
            Ok(())
        });
        if let Err(e) = checked {
            return Err((*number, e.to_string()));
        }
    }
    title.ok_or_else(|| {
        (
            items.first().map_or(0, |i| i.0),
            format!("{folder}: no {RECORD_FILE} with the id '{maintenance_id}'"),
        )
    })
}
