//! What a hook gets: one delivery per record a commit added (a declaration,
//! an event file, an action item or a change to one), generic over event kinds: the event is its file's
//! fields as they are in its TOML, so kinds added later flow through.
//!
//! The JSON shape (`schemas/hook-event.schema.json`):
//! `{"type": "incident.<kind>", "id": <event file name>, "timestamp": <the
//! event's stated time>, "repo": ..., "commit": ..., "data": {"incident":
//! <state after the commit, as `incident show --format json` without the
//! timeline>, "event": <the event file's fields>, "file": <its path>}}`.

use std::collections::BTreeMap;
use std::path::Path;

use git2::{Delta, DiffOptions, Oid, Tree};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::export::toml_fields;
use crate::model::action::{ACTIONS_DIR, ActionChange, ActionFile};
use crate::model::incident::Incident;
use crate::model::{event::Event, id};
use crate::store::{DATA_DIR, DECLARATION_FILE, EVENTS_DIR, FolderRef, Store, read_blob};
use crate::time::Timestamp;

/// One event for the hooks, ready to send.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivery {
    /// The idempotency key: the event file's name without `.toml`
    /// (`declared-<incident id>` for a declaration).
    pub id: String,
    /// `declared`, or the event's kind (`status`, `note`, ...).
    pub kind: String,
    /// What the commit trailer `Incident-Event` says: the new state of a
    /// status change, otherwise the kind (`INCIDENT_EVENT`).
    pub trailer: String,
    pub incident: String,
    pub severity: String,
    pub historical: bool,
    pub commit: String,
    /// The JSON document on the hook's standard input.
    pub body: String,
}

#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "type")]
    kind: String,
    id: &'a str,
    timestamp: String,
    repo: &'a str,
    commit: &'a str,
    data: Data<'a>,
}

#[derive(Serialize)]
struct Data<'a> {
    incident: crate::render::incident::IncidentJson<'a>,
    event: serde_json::Value,
    file: &'a str,
}

/// The repository as hooks name it: its `origin` (or only) remote's URL
/// without credentials, else the working tree's path.
pub fn repo_name(store: &Store) -> String {
    let remotes = store.repo.remotes().ok();
    let names: Vec<String> = remotes
        .iter()
        .flat_map(|r| {
            r.iter()
                .filter_map(|n| n.ok().flatten().map(str::to_string))
        })
        .collect();
    let chosen = names
        .iter()
        .find(|n| *n == "origin")
        .or_else(|| names.first());
    if let Some(name) = chosen
        && let Ok(remote) = store.repo.find_remote(name)
        && let Ok(url) = remote.url()
    {
        return without_credentials(url);
    }
    let path = store.workdir().display().to_string();
    path.trim_end_matches('/').to_string()
}

/// `https://user:token@host/x` → `https://host/x`.
fn without_credentials(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = authority.rsplit('@').next().unwrap_or_default();
            format!("{scheme}://{host}{path}")
        }
        None => url.to_string(),
    }
}

/// A record file a commit added, by what it is.
enum Added {
    Declaration {
        folder: String,
    },
    Event {
        folder: String,
        stem: String,
    },
    /// `actions/<item>.toml` (`change: None`) or `actions/<item>/<change>.toml`.
    Action {
        folder: String,
        item: String,
        change: Option<String>,
    },
}

/// What a commit added to one incident's folder.
#[derive(Default)]
struct AddedToFolder {
    declared: bool,
    events: Vec<String>,
    /// (item, change) in path order.
    actions: Vec<(String, Option<String>)>,
}

fn classify(path: &str) -> Option<Added> {
    let rest = path.strip_prefix(DATA_DIR)?.strip_prefix('/')?;
    let parts: Vec<&str> = rest.split('/').collect();
    let folder = |n: usize| format!("{DATA_DIR}/{}", parts[..n].join("/"));
    let is_incident_folder = |name: &str| id::split_folder_name(name).is_some();
    match parts.as_slice() {
        [_, _, name, file] if *file == DECLARATION_FILE && is_incident_folder(name) => {
            Some(Added::Declaration { folder: folder(3) })
        }
        [_, _, name, dir, file] if *dir == EVENTS_DIR && is_incident_folder(name) => {
            file.strip_suffix(".toml").map(|stem| Added::Event {
                folder: folder(3),
                stem: stem.to_string(),
            })
        }
        [_, _, name, dir, file] if *dir == ACTIONS_DIR && is_incident_folder(name) => {
            file.strip_suffix(".toml").map(|item| Added::Action {
                folder: folder(3),
                item: item.to_string(),
                change: None,
            })
        }
        [_, _, name, dir, item, file] if *dir == ACTIONS_DIR && is_incident_folder(name) => {
            file.strip_suffix(".toml").map(|change| Added::Action {
                folder: folder(3),
                item: item.to_string(),
                change: Some(change.to_string()),
            })
        }
        _ => None,
    }
}

/// Files under `incidents/` that `commit` added relative to its first parent.
fn added_files(store: &Store, commit: &git2::Commit<'_>) -> Result<Vec<String>> {
    let tree = commit.tree()?;
    let parent_tree = match commit.parents().next() {
        Some(parent) => Some(parent.tree()?),
        None => None,
    };
    let mut options = DiffOptions::new();
    options.pathspec(DATA_DIR);
    let diff =
        store
            .repo
            .diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), Some(&mut options))?;
    Ok(diff
        .deltas()
        .filter(|d| d.status() == Delta::Added)
        .filter_map(|d| {
            d.new_file()
                .path()
                .and_then(Path::to_str)
                .map(str::to_string)
        })
        .collect())
}

/// The deliveries for what `commit` added, in replay order per incident.
pub fn for_commit(
    store: &Store,
    config: &Config,
    commit: Oid,
    repo: &str,
) -> Result<Vec<Delivery>> {
    let commit = store.repo.find_commit(commit)?;
    let tree = commit.tree()?;
    let mut by_folder: BTreeMap<String, AddedToFolder> = BTreeMap::new();
    for path in added_files(store, &commit)? {
        match classify(&path) {
            Some(Added::Declaration { folder }) => {
                by_folder.entry(folder).or_default().declared = true
            }
            Some(Added::Event { folder, stem }) => {
                by_folder.entry(folder).or_default().events.push(stem);
            }
            Some(Added::Action {
                folder,
                item,
                change,
            }) => by_folder
                .entry(folder)
                .or_default()
                .actions
                .push((item, change)),
            None => {}
        }
    }
    let commit_id = commit.id().to_string();
    let mut deliveries = Vec::new();
    for (path, added) in by_folder {
        let AddedToFolder {
            declared,
            events: stems,
            actions,
        } = added;
        let Some((id, slug)) = path.rsplit('/').next().and_then(id::split_folder_name) else {
            continue;
        };
        let folder = FolderRef {
            id: id.to_string(),
            slug: slug.to_string(),
            path: path.clone(),
            listed_in: None,
        };
        let (declaration, events) = store.read_files(&tree, &folder)?;
        let incident = Incident::replay(config, &folder.path, &declaration, &events);
        let state = crate::render::incident::to_json(&incident, config, false);
        let mut new_events: Vec<&Event> = events.iter().filter(|e| stems.contains(&e.id)).collect();
        new_events.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
        let mut push = |kind: &str,
                        trailer: String,
                        delivery_id: String,
                        at: &Timestamp,
                        file: String|
         -> Result<()> {
            let text = read_text(store, &tree, &file)?;
            let envelope = Envelope {
                kind: format!("incident.{kind}"),
                id: &delivery_id,
                timestamp: at.to_rfc3339(),
                repo,
                commit: &commit_id,
                data: Data {
                    incident: crate::render::incident::to_json(&incident, config, false),
                    event: toml_fields(&file, &text)?,
                    file: &file,
                },
            };
            deliveries.push(Delivery {
                id: delivery_id.clone(),
                kind: kind.to_string(),
                trailer,
                incident: incident.id.clone(),
                severity: state.severity.to_string(),
                historical: incident.historical,
                commit: commit_id.clone(),
                body: serde_json::to_string(&envelope).map_err(json_error)?,
            });
            Ok(())
        };
        if declared {
            push(
                "declared",
                "declared".into(),
                format!("declared-{}", incident.id),
                &declaration.declared_at,
                format!("{path}/{DECLARATION_FILE}"),
            )?;
        }
        for event in new_events {
            push(
                event.change.kind(),
                crate::ops::event_trailer(&event.change),
                event.id.clone(),
                &event.at,
                crate::ops::event_file_path(&path, event),
            )?;
        }
        // Action items: kind `action`, the trailer says which change
        // (`action-added`, `action-done`, ...), as the commit's does.
        for (item, change) in actions {
            let (file, trailer, delivery_id, at) = match &change {
                None => {
                    let file = format!("{path}/{ACTIONS_DIR}/{item}.toml");
                    let text = read_text(store, &tree, &file)?;
                    let added: ActionFile = crate::tomlfile::parse(&file, &text)?;
                    let id = format!("action-added-{}-{item}", incident.id);
                    (file, "action-added".to_string(), id, added.created_at)
                }
                Some(change) => {
                    let file = format!("{path}/{ACTIONS_DIR}/{item}/{change}.toml");
                    let text = read_text(store, &tree, &file)?;
                    let changed: ActionChange = crate::tomlfile::parse(&file, &text)?;
                    let trailer = format!("action-{}", changed.kind);
                    (file, trailer, change.clone(), changed.at)
                }
            };
            push("action", trailer, delivery_id, &at, file)?;
        }
    }
    Ok(deliveries)
}

fn read_text(store: &Store, tree: &Tree<'_>, file: &str) -> Result<String> {
    let bytes = read_blob(&store.repo, tree, file)?.ok_or_else(|| Error::InvalidInput {
        message: format!("internal: {file} is not in the commit"),
    })?;
    Ok(crate::tomlfile::text(file, &bytes)?.to_string())
}

pub(crate) fn json_error(e: serde_json::Error) -> Error {
    Error::InvalidInput {
        message: format!("internal error: cannot write JSON: {e}"),
    }
}

/// First-parent commits after `since` (`None`: from the root) up to `tip`,
/// oldest first: the commits that brought events onto the branch. Stops at
/// `since` or at the first commit `since` already contains (a merge of a
/// side branch).
pub fn commits_since(store: &Store, since: Option<Oid>, tip: Oid) -> Result<Vec<Oid>> {
    let mut line = Vec::new();
    let mut current = Some(tip);
    while let Some(id) = current {
        if let Some(since) = since
            && (id == since || store.repo.graph_descendant_of(since, id)?)
        {
            break;
        }
        line.push(id);
        let commit = store.repo.find_commit(id)?;
        current = commit.parent_ids().next();
    }
    line.reverse();
    Ok(line)
}

/// A made-up delivery for `incident hooks test`: the newest incident and
/// its newest event of that kind (or the declaration), or a sample event
/// with the fields every event has.
pub fn sample(
    store: &Store,
    config: &Config,
    kind: &str,
    now: Timestamp,
    repo: &str,
) -> Result<Delivery> {
    let tree = store.head_tree()?.ok_or_else(no_incident)?;
    let folders = store.folders(&tree)?;
    let folder = folders.first().ok_or_else(no_incident)?;
    let (declaration, events) = store.read_files(&tree, folder)?;
    let incident = Incident::replay(config, &folder.path, &declaration, &events);
    let commit = store.repo.head()?.peel_to_commit()?.id().to_string();
    let stamp = now.with_timezone(&chrono::Utc).format("%Y%m%dT%H%M%SZ");
    let id = format!("test-{stamp}-{kind}");
    let (event, file, trailer, at) = if kind == "declared" {
        let file = format!("{}/{DECLARATION_FILE}", folder.path);
        let text = read_text(store, &tree, &file)?;
        (
            toml_fields(&file, &text)?,
            file,
            "declared".to_string(),
            declaration.declared_at,
        )
    } else {
        let found = incident
            .event_ids
            .iter()
            .rev()
            .filter_map(|eid| events.iter().find(|e| &e.id == eid))
            .find(|e| e.change.kind() == kind || crate::ops::event_trailer(&e.change) == kind);
        match found {
            Some(event) => {
                let file = crate::ops::event_file_path(&folder.path, event);
                let text = read_text(store, &tree, &file)?;
                (
                    toml_fields(&file, &text)?,
                    file,
                    crate::ops::event_trailer(&event.change),
                    event.at,
                )
            }
            None => (
                serde_json::json!({
                    "version": 1,
                    "kind": kind,
                    "at": now.to_rfc3339(),
                    "recorded_at": now.to_rfc3339(),
                    "author": "incident hooks test",
                    "text": "a test event from `incident hooks test`",
                }),
                format!("{}/{EVENTS_DIR}/{id}.toml", folder.path),
                kind.to_string(),
                now,
            ),
        }
    };
    let kind_name = if config.state(kind).is_some() && kind != "declared" {
        "status".to_string()
    } else {
        kind.to_string()
    };
    let state = crate::render::incident::to_json(&incident, config, false);
    let envelope = Envelope {
        kind: format!("incident.{kind_name}"),
        id: &id,
        timestamp: at.to_rfc3339(),
        repo,
        commit: &commit,
        data: Data {
            incident: crate::render::incident::to_json(&incident, config, false),
            event,
            file: &file,
        },
    };
    let body = serde_json::to_string(&envelope).map_err(json_error)?;
    Ok(Delivery {
        id: id.clone(),
        kind: kind_name,
        trailer,
        incident: incident.id.clone(),
        severity: state.severity.to_string(),
        historical: incident.historical,
        commit: commit.clone(),
        body,
    })
}

fn no_incident() -> Error {
    Error::InvalidInput {
        message: "`incident hooks test` sends an event of the newest incident; declare one first (`incident declare ...`)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_stripped() {
        assert_eq!(
            without_credentials("https://bob:token@example.com/ops.git"),
            "https://example.com/ops.git"
        );
        assert_eq!(
            without_credentials("git@example.com:ops.git"),
            "git@example.com:ops.git"
        );
    }
}
