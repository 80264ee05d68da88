//! `incident export`: everything the incidents folder holds, losslessly.
//!
//! JSON Lines (UTF-8, one object per line, `\n`, a trailing newline):
//! a header (format version, the exported commit), then the config and the
//! other repository-wide files, then per incident, in order of declaration:
//! the incident, its events in replay order, its postmortem, its action
//! items with their changes, and last a `derived` record with the state
//! the replay gives. Each file's record holds the file as stored (`text`),
//! its fields parsed (`fields`, for programs; generic, so event kinds added
//! later flow through), and the commit that added it to the branch's
//! first-parent line. `incident import jsonl` writes the same files back:
//! export → import → export gives the same bytes apart from the header's
//! commit and the added-in commits.

pub mod csv;

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use git2::{ObjectType, Oid, Tree};
use serde::Serialize;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::metrics::{cache, history};
use crate::model::action::ACTIONS_DIR;
use crate::model::event::{Declaration, Event};
use crate::model::id;
use crate::model::incident::Incident;
use crate::store::{CONFIG_PATH, DATA_DIR, DECLARATION_FILE, EVENTS_DIR, Store};
use crate::tomlfile;

/// Version of the export format (the header's `version`).
pub const EXPORT_VERSION: u32 = 1;
/// The header's `format`.
pub const EXPORT_FORMAT: &str = "incident-export";
const POSTMORTEM_FILE: &str = "postmortem.md";

/// A TOML file's fields as JSON: tables become objects, date-times their
/// RFC 3339 text as TOML wrote it.
pub fn toml_fields(file: &str, text: &str) -> Result<serde_json::Value> {
    let table: toml::Table = tomlfile::parse(file, text)?;
    Ok(toml_to_json(toml::Value::Table(table)))
}

fn toml_to_json(value: toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        toml::Value::String(s) => J::String(s),
        toml::Value::Integer(i) => J::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
        toml::Value::Boolean(b) => J::Bool(b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(items) => J::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => J::Object(
            table
                .into_iter()
                .map(|(k, v)| (k, toml_to_json(v)))
                .collect(),
        ),
    }
}

/// One line of the export.
#[derive(Debug, Serialize)]
pub struct Record {
    /// `header`, `config`, `file`, `incident`, `event`, `postmortem`,
    /// `action`, `action_change` or `derived`.
    pub record: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
    /// The event's or action item's id (its file name without `.toml`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// An event's kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The action item an action change belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The commit that added the file to the branch (header: the exported commit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<serde_json::Value>,
    /// The file as stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A file that is not UTF-8, base64-encoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
    /// Header and derived records.
    #[serde(flatten)]
    pub extra: BTreeMap<&'static str, serde_json::Value>,
}

impl Record {
    fn new(record: &'static str) -> Record {
        Record {
            record,
            incident: None,
            id: None,
            kind: None,
            action: None,
            path: None,
            commit: None,
            fields: None,
            text: None,
            base64: None,
            extra: BTreeMap::new(),
        }
    }
}

/// A blob under `incidents/` and what it is.
struct Blob {
    path: String,
    bytes: Vec<u8>,
}

/// The commit a revision (id, tag, branch, `HEAD~2`) names.
pub fn commit_of(store: &Store, rev: &str) -> Option<Oid> {
    store
        .repo
        .revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .map(|c| c.id())
        .ok()
}

/// The exported commit: HEAD, or `as_of` (a revision).
pub fn resolve_commit(store: &Store, as_of: Option<&str>) -> Result<Oid> {
    commit_of(store, as_of.unwrap_or("HEAD")).ok_or_else(|| Error::InvalidInput {
        message: match as_of {
            Some(rev) => {
                format!("--as-of '{rev}' names no commit here; give a commit id, tag or branch")
            }
            None => "the branch has no commits yet; nothing to export".into(),
        },
    })
}

/// The commit that added each file under `incidents/`, from the
/// first-parent history of `tip` (using the report's per-commit cache).
fn added_in(store: &Store, tip: Oid) -> Result<HashMap<String, history::Recording>> {
    let path = cache::cache_path(store.repo.commondir());
    // A cache that cannot be written only costs time next run.
    let (history, _unsaved) = history::learn(&store.repo, tip, &path, false, &mut |_| {})?;
    Ok(history.recorded)
}

/// Every blob under `incidents/` in `tree`, by path.
fn blobs(store: &Store, tree: &Tree<'_>) -> Result<Vec<Blob>> {
    let mut found = Vec::new();
    let Some(data) = crate::store::subtree(&store.repo, tree, DATA_DIR)? else {
        return Ok(found);
    };
    let mut failure = None;
    let mut not_utf8 = None;
    let walked = data.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        // Before its kind: a folder's name is checked before its files.
        let Ok(name) = entry.name() else {
            not_utf8 = Some(format!(
                "{DATA_DIR}/{dir}{}",
                String::from_utf8_lossy(entry.name_bytes())
            ));
            return git2::TreeWalkResult::Abort;
        };
        if entry.kind() != Some(ObjectType::Blob) {
            return git2::TreeWalkResult::Ok;
        }
        match store.repo.find_blob(entry.id()) {
            Ok(blob) => found.push(Blob {
                path: format!("{DATA_DIR}/{dir}{name}"),
                bytes: blob.content().to_vec(),
            }),
            Err(e) => {
                failure = Some(e);
                return git2::TreeWalkResult::Abort;
            }
        }
        git2::TreeWalkResult::Ok
    });
    // A record the export cannot name in JSON is refused, never left out.
    if let Some(path) = not_utf8 {
        return Err(Error::InvalidInput {
            message: format!(
                "cannot export '{path}' (bytes that are not UTF-8 shown as �): its name is not UTF-8, and the export would lose it; rename it with `git mv` to a UTF-8 name, commit, and export again"
            ),
        });
    }
    walked?;
    if let Some(e) = failure {
        return Err(e.into());
    }
    Ok(found)
}

/// Where a path sits: (incident folder, path inside it), or `None` for
/// repository-wide files.
pub(crate) fn incident_folder(path: &str) -> Option<(String, String)> {
    folder_under(DATA_DIR, path)
}

/// (`<base>/YYYY/MM/<id>-<slug>`, the path inside it) of a path in such a
/// folder under `base` (the incidents folder, or the maintenance folder).
pub(crate) fn folder_under(base: &str, path: &str) -> Option<(String, String)> {
    let rest = path.strip_prefix(base)?.strip_prefix('/')?;
    let mut parts = rest.splitn(4, '/');
    let (year, month, folder, inner) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if digits(year, 4) && digits(month, 2) && id::split_folder_name(folder).is_some() {
        Some((format!("{base}/{year}/{month}/{folder}"), inner.to_string()))
    } else {
        None
    }
}

/// Everything one incident folder holds.
#[derive(Default)]
struct FolderFiles {
    declaration: Option<Blob>,
    events: Vec<Blob>,
    postmortem: Option<Blob>,
    /// Action item files and their change files.
    actions: Vec<Blob>,
    other: Vec<Blob>,
}

/// The export as JSON Lines.
pub fn jsonl(store: &Store, as_of: Option<&str>) -> Result<String> {
    let commit = resolve_commit(store, as_of)?;
    let tree = store.repo.find_commit(commit)?.tree()?;
    let added = added_in(store, commit)?;
    let config_text = crate::store::read_blob(&store.repo, &tree, CONFIG_PATH)?;
    let config = match &config_text {
        Some(bytes) => Config::parse(CONFIG_PATH, tomlfile::text(CONFIG_PATH, bytes)?)?,
        None => {
            return Err(Error::NotInitialized {
                config: CONFIG_PATH.into(),
            });
        }
    };
    let added_by = |path: &str| added.get(path).map(|r| r.commit.to_string());

    let mut repository_files = Vec::new();
    let mut folders: BTreeMap<String, FolderFiles> = BTreeMap::new();
    let mut config_blob = None;
    for blob in blobs(store, &tree)? {
        if blob.path == CONFIG_PATH {
            config_blob = Some(blob);
            continue;
        }
        let Some((folder, inner)) = incident_folder(&blob.path) else {
            repository_files.push(blob);
            continue;
        };
        let files = folders.entry(folder).or_default();
        let in_events = inner
            .strip_prefix(EVENTS_DIR)
            .and_then(|r| r.strip_prefix('/'))
            .is_some_and(|r| !r.contains('/') && r.ends_with(".toml"));
        if inner == DECLARATION_FILE {
            files.declaration = Some(blob);
        } else if in_events {
            files.events.push(blob);
        } else if inner == POSTMORTEM_FILE {
            files.postmortem = Some(blob);
        } else if inner.starts_with(&format!("{ACTIONS_DIR}/")) && inner.ends_with(".toml") {
            files.actions.push(blob);
        } else {
            files.other.push(blob);
        }
    }

    let mut out = String::new();
    let mut push = |record: &Record| -> Result<()> {
        out.push_str(&serde_json::to_string(record).map_err(json_error)?);
        out.push('\n');
        Ok(())
    };
    let mut header = Record::new("header");
    header.commit = Some(commit.to_string());
    header
        .extra
        .insert("format", serde_json::Value::from(EXPORT_FORMAT));
    header
        .extra
        .insert("version", serde_json::Value::from(EXPORT_VERSION));
    header
        .extra
        .insert("incidents", serde_json::Value::from(folders.len()));
    push(&header)?;
    if let Some(blob) = config_blob {
        push(&file_record("config", &blob, added_by(&blob.path), true))?;
    }
    for blob in &repository_files {
        push(&file_record("file", blob, added_by(&blob.path), false))?;
    }

    // Incidents in order of declaration (then id), as a replay would meet them.
    let mut ordered = Vec::new();
    for (folder, files) in folders {
        let parsed = files.declaration.as_ref().map(|blob| {
            tomlfile::text(&blob.path, &blob.bytes)
                .and_then(|text| Declaration::parse(&blob.path, text))
        });
        let key = match &parsed {
            Some(Ok(d)) => (Some(d.declared_at), d.id.clone()),
            _ => (None, folder.clone()),
        };
        ordered.push((key, folder, files, parsed));
    }
    ordered.sort_by(|a, b| a.0.cmp(&b.0));
    for ((_, incident_id), folder, files, parsed) in ordered {
        let incident_id = id::split_folder_name(folder.rsplit('/').next().unwrap_or_default())
            .map(|(id, _)| id.to_string())
            .unwrap_or(incident_id);
        let with_incident = |mut record: Record| {
            record.incident = Some(incident_id.clone());
            record
        };
        if let Some(blob) = &files.declaration {
            push(&with_incident(file_record(
                "incident",
                blob,
                added_by(&blob.path),
                true,
            )))?;
        }
        // Events in replay order; files that do not parse go last, by name.
        let mut events: Vec<(Option<Event>, &Blob, String)> = files
            .events
            .iter()
            .map(|blob| {
                let stem = blob
                    .path
                    .rsplit('/')
                    .next()
                    .and_then(|n| n.strip_suffix(".toml"))
                    .unwrap_or_default()
                    .to_string();
                let event = tomlfile::text(&blob.path, &blob.bytes)
                    .ok()
                    .and_then(|text| Event::parse(&blob.path, &stem, text).ok());
                (event, blob, stem)
            })
            .collect();
        events.sort_by(|a, b| match (&a.0, &b.0) {
            (Some(x), Some(y)) => x.order_key().cmp(&y.order_key()),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.2.cmp(&b.2),
        });
        for (event, blob, stem) in &events {
            let mut record = with_incident(file_record("event", blob, added_by(&blob.path), true));
            record.id = Some(stem.clone());
            record.kind = event.as_ref().map(|e| e.change.kind().to_string());
            push(&record)?;
        }
        if let Some(blob) = &files.postmortem {
            push(&with_incident(file_record(
                "postmortem",
                blob,
                added_by(&blob.path),
                false,
            )))?;
        }
        let mut actions: Vec<&Blob> = files.actions.iter().collect();
        // The item's own file before its folder of changes, then by name.
        actions.sort_by(|a, b| {
            a.path
                .trim_end_matches(".toml")
                .cmp(b.path.trim_end_matches(".toml"))
        });
        for blob in actions {
            let inner = incident_folder(&blob.path)
                .map(|(_, inner)| inner)
                .unwrap_or_default();
            let parts: Vec<&str> = inner.split('/').collect();
            let mut record = match parts.as_slice() {
                [_, item] => {
                    let mut r = file_record("action", blob, added_by(&blob.path), true);
                    r.id = Some(item.trim_end_matches(".toml").to_string());
                    r
                }
                [_, item, change] => {
                    let mut r = file_record("action_change", blob, added_by(&blob.path), true);
                    r.action = Some((*item).to_string());
                    r.id = Some(change.trim_end_matches(".toml").to_string());
                    r
                }
                _ => file_record("file", blob, added_by(&blob.path), false),
            };
            record.incident = Some(incident_id.clone());
            push(&record)?;
        }
        for blob in &files.other {
            push(&with_incident(file_record(
                "file",
                blob,
                added_by(&blob.path),
                false,
            )))?;
        }
        push(&with_incident(derived(&config, &folder, parsed, &events)))?;
    }
    Ok(out)
}

/// The state the replay gives, marked derived: never imported, always
/// recomputed from the records before it.
fn derived(
    config: &Config,
    folder: &str,
    declaration: Option<Result<Declaration>>,
    events: &[(Option<Event>, &Blob, String)],
) -> Record {
    let mut record = Record::new("derived");
    record
        .extra
        .insert("derived", serde_json::Value::Bool(true));
    match declaration {
        Some(Ok(declaration)) if events.iter().all(|(e, _, _)| e.is_some()) => {
            let all: Vec<Event> = events.iter().filter_map(|(e, _, _)| e.clone()).collect();
            let incident = Incident::replay(config, folder, &declaration, &all);
            let state = crate::render::incident::to_json(&incident, config, false);
            record.extra.insert(
                "state",
                serde_json::to_value(&state).unwrap_or(serde_json::Value::Null),
            );
        }
        Some(Err(e)) => {
            record
                .extra
                .insert("error", serde_json::Value::from(e.to_string()));
        }
        _ => {
            record.extra.insert(
                "error",
                serde_json::Value::from(
                    "the folder has no readable incident.toml or an event file does not parse; `incident check` names it",
                ),
            );
        }
    }
    record
}

fn file_record(kind: &'static str, blob: &Blob, commit: Option<String>, toml: bool) -> Record {
    let mut record = Record::new(kind);
    record.path = Some(blob.path.clone());
    record.commit = commit;
    match std::str::from_utf8(&blob.bytes) {
        Ok(text) => {
            if toml {
                record.fields = toml_fields(&blob.path, text).ok();
            }
            record.text = Some(text.to_string());
        }
        Err(_) => {
            record.base64 = Some(base64::engine::general_purpose::STANDARD.encode(&blob.bytes));
        }
    }
    record
}

fn json_error(e: serde_json::Error) -> Error {
    Error::InvalidInput {
        message: format!("internal error: cannot write JSON: {e}"),
    }
}
