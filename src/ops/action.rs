//! `incident action` and `incident actions`: action items, one file per item
//! and per change, so clones adding or changing items merge without conflict.

use chrono::{Duration, NaiveDate};
use git2::Tree;

use super::{commit_message, one_line, require_name, require_text};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::action::{
    ACTION_ID_LENGTH, ACTIONS_DIR, Action, ActionChange, ActionFile, ActionRecord, PRIORITIES,
    TYPES, next_seq, replay,
};
use crate::model::event::FORMAT_VERSION;
use crate::model::id;
use crate::model::incident::Incident;
use crate::store::derived::{CachedAction, DerivedCache};
use crate::store::write::{Committed, FileWrite, Plan};
use crate::store::{FolderRef, Store, for_each_toml, subtree};
use crate::time::Timestamp;

/// The action items of one incident, read from a tree.
pub fn read_actions(store: &Store, tree: &Tree<'_>, folder: &FolderRef) -> Result<Vec<Action>> {
    Ok(replay(&folder.id, &read_records(store, tree, folder)?))
}

/// The files of one incident's action items, as they are in a tree.
pub fn read_records(
    store: &Store,
    tree: &Tree<'_>,
    folder: &FolderRef,
) -> Result<Vec<ActionRecord>> {
    let dir = format!("{}/{ACTIONS_DIR}", folder.path);
    let Some(folder_tree) = folder.tree_in(&store.repo, tree)? else {
        return Ok(Vec::new());
    };
    let Some(actions_tree) = subtree(&store.repo, &folder_tree, ACTIONS_DIR)? else {
        return Ok(Vec::new());
    };
    let mut records = Vec::new();
    for_each_toml(&store.repo, &actions_tree, &dir, |action_id, file, text| {
        let item = ActionFile::parse(file, text)?;
        let mut changes = Vec::new();
        let changes_path = format!("{dir}/{action_id}");
        if let Some(changes_tree) = subtree(&store.repo, &actions_tree, action_id)? {
            for_each_toml(
                &store.repo,
                &changes_tree,
                &changes_path,
                |change_id, change_file, text| {
                    changes.push((
                        change_id.to_string(),
                        ActionChange::parse(change_file, text)?,
                    ));
                    Ok(())
                },
            )?;
        }
        records.push(ActionRecord {
            id: action_id.to_string(),
            file: file.to_string(),
            item,
            changes,
        });
        Ok(())
    })?;
    Ok(records)
}

/// The item `id` as replaying `records` gives it.
fn replayed(incident: &str, records: &[ActionRecord], id: &str) -> Result<Action> {
    replay(incident, records)
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(|| Error::InvalidInput {
            message: format!("internal error: action item {incident}/{id} did not replay"),
        })
}

/// Every action item in a tree, with problems in unreadable incidents
/// returned as warnings. The items of folders read before come from
/// `.git/incident/` (see [`DerivedCache`]): most incidents have none, and
/// knowing that spares reading their trees.
pub fn all_actions(store: &Store, tree: &Tree<'_>) -> Result<(Vec<Action>, Vec<String>)> {
    let mut actions = Vec::new();
    let mut warnings = Vec::new();
    let mut cache = DerivedCache::<Vec<CachedAction>>::load(store.repo.path(), "actions", "");
    for folder in store.folders(tree)? {
        let found = match folder.tree_id(tree) {
            Some(id) => cache
                .get_or_derive(&folder.path, id, || {
                    let found = read_actions(store, tree, &folder)?;
                    Ok(found.iter().map(CachedAction::of).collect())
                })
                .map(|cached| cached.iter().map(CachedAction::action).collect()),
            None => read_actions(store, tree, &folder),
        };
        match found {
            Ok(found) => actions.extend(found),
            Err(e) => warnings.push(format!("skipping action items of {}: {e}", folder.path)),
        }
    }
    warnings.extend(cache.save());
    Ok((actions, warnings))
}

/// Find the item `reference` names among an incident's items: its id, a
/// unique id prefix, or its number (`#N` or `N`).
pub fn find_action<'a>(
    incident: &str,
    actions: &'a [Action],
    reference: &str,
) -> Result<&'a Action> {
    let wanted = reference
        .trim()
        .trim_start_matches('#')
        .to_ascii_lowercase();
    let listing = || {
        actions
            .iter()
            .map(|a| {
                format!(
                    "  {}/{} (#{})  {}",
                    incident,
                    a.id,
                    a.number,
                    one_line(&a.text, 60)
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    if wanted.is_empty() {
        return Err(Error::Usage {
            message: "name an action item as ID/N, for example k3f9x2/1 or k3f9x2/ab3de".into(),
        });
    }
    if let Some(exact) = actions.iter().find(|a| a.id == wanted) {
        return Ok(exact);
    }
    // Digits alone are a display number, never an id prefix: ids always
    // hold a letter, and `ID/9` must not pick an item whose id starts with 9.
    let by_number = wanted.bytes().all(|b| b.is_ascii_digit());
    let matches: Vec<&Action> = if by_number {
        let number = wanted.parse::<usize>().unwrap_or(usize::MAX);
        actions.iter().filter(|a| a.number == number).collect()
    } else {
        actions
            .iter()
            .filter(|a| a.id.starts_with(&wanted))
            .collect()
    };
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(Error::InvalidInput {
            message: if actions.is_empty() {
                format!("incident {incident} has no action items")
            } else {
                format!(
                    "incident {incident} has no action item '{reference}'; its items:\n{}",
                    listing()
                )
            },
        }),
        _ => Err(Error::InvalidInput {
            message: format!(
                "'{reference}' matches several action items of {incident}; type more of the id:\n{}",
                listing()
            ),
        }),
    }
}

/// Split `ID/N` into incident and item reference.
pub fn split_reference(reference: &str) -> Result<(&str, &str)> {
    match reference.rsplit_once('/') {
        Some((incident, item)) if !incident.trim().is_empty() && !item.trim().is_empty() => {
            Ok((incident, item))
        }
        _ => Err(Error::Usage {
            message: format!(
                "'{reference}' is not ID/N: name the incident and the action item, for example k3f9x2/1 or k3f9x2/ab3de"
            ),
        }),
    }
}

/// What `incident action add` asks for.
#[derive(Debug, Default, Clone)]
pub struct AddRequest {
    pub text: String,
    pub owner: Option<String>,
    /// `YYYY-MM-DD`; default from the severity's SLO.
    pub due: Option<String>,
    pub priority: Option<String>,
    pub kind: Option<String>,
    pub link: Option<String>,
}

/// What `incident action edit` changes; `Some("")` clears owner or link.
#[derive(Debug, Default, Clone)]
pub struct EditRequest {
    pub text: Option<String>,
    pub owner: Option<String>,
    pub due: Option<String>,
    pub priority: Option<String>,
    pub kind: Option<String>,
    pub link: Option<String>,
}

#[derive(Debug)]
pub struct ActionOutcome {
    pub incident: Incident,
    pub action: Action,
    pub committed: Committed,
}

fn check_choice(what: &str, given: &str, valid: &[&str]) -> Result<String> {
    let lower = given.trim().to_ascii_lowercase();
    if valid.contains(&lower.as_str()) {
        Ok(lower)
    } else {
        Err(Error::InvalidInput {
            message: format!("unknown {what} '{given}'; valid: {}", valid.join(", ")),
        })
    }
}

fn check_due(given: &str) -> Result<String> {
    NaiveDate::parse_from_str(given.trim(), "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| Error::InvalidInput {
            message: format!("due date '{given}' is not a date like 2026-12-15"),
        })
}

/// Today's date in the config's zone.
pub fn today(config: &Config, now: Timestamp) -> NaiveDate {
    config.zone().convert(&now).date_naive()
}

/// The default due date for an item added now to an incident of `severity`.
pub fn default_due(config: &Config, severity: &str, now: Timestamp) -> Option<NaiveDate> {
    config
        .action_due_days(severity)
        .map(|days| today(config, now) + Duration::days(i64::from(days)))
}

/// `incident action add`: one new file, one commit.
pub fn add(
    store: &Store,
    query: &str,
    request: &AddRequest,
    now: Timestamp,
) -> Result<ActionOutcome> {
    let config = store.config()?;
    require_text("action item", "the TEXT argument", &request.text)?;
    let owner = request
        .owner
        .as_deref()
        .map(|o| require_name("owner", o))
        .transpose()?;
    let due = request.due.as_deref().map(check_due).transpose()?;
    let priority = request
        .priority
        .as_deref()
        .map(|p| check_choice("priority", p, PRIORITIES))
        .transpose()?;
    let kind = request
        .kind
        .as_deref()
        .map(|k| check_choice("type", k, TYPES))
        .transpose()?;
    let link = request
        .link
        .as_deref()
        .map(|l| require_name("link", l))
        .transpose()?;
    let mut incident_id: Option<String> = None;
    let mut chosen: Option<String> = None;
    let (committed, (incident, action)) = store.commit_with(now, |attempt| {
        let tree = attempt.tree.ok_or_else(|| Error::NotFound {
            query: query.into(),
        })?;
        let folder = store.find(tree, incident_id.as_deref().unwrap_or(query))?;
        incident_id = Some(folder.id.clone());
        let incident = store.load(&config, tree, &folder)?;
        let mut records = read_records(store, tree, &folder)?;
        // The id stays the same from one attempt to the next (see commit_with).
        let action_id = match chosen.take() {
            Some(id) => id,
            None => loop {
                let candidate = id::random_id(ACTION_ID_LENGTH)?;
                if !records.iter().any(|r| r.id == candidate)
                    && !candidate.bytes().all(|b| b.is_ascii_digit())
                {
                    break candidate;
                }
            },
        };
        chosen = Some(action_id.clone());
        let due = due.clone().or_else(|| {
            default_due(&config, &incident.severity, now).map(|d| d.format("%Y-%m-%d").to_string())
        });
        let item = ActionFile {
            version: FORMAT_VERSION,
            text: request.text.clone(),
            owner: owner.clone(),
            due,
            priority: priority.clone(),
            kind: kind.clone(),
            link: link.clone(),
            created_at: now,
            seq: Some(next_seq(records.iter().map(|r| r.item.seq))),
            author: attempt.identity.author.name.clone(),
            author_email: attempt.identity.author.email.clone(),
        };
        let file = format!("{}/{ACTIONS_DIR}/{action_id}.toml", folder.path);
        records.push(ActionRecord {
            id: action_id.clone(),
            file: file.clone(),
            item: item.clone(),
            changes: Vec::new(),
        });
        // Numbered as every later read numbers it.
        let action = replayed(&folder.id, &records, &action_id)?;
        let mut body = vec![format!("Action: {}", one_line(&request.text, 200))];
        if let Some(owner) = &owner {
            body.push(format!("Owner: {owner}"));
        }
        if let Some(due) = &item.due {
            body.push(format!("Due: {due}"));
        }
        let message = commit_message(
            &format!(
                "Add action item {}/{action_id}: {}",
                folder.id, request.text
            ),
            &body,
            &[
                ("Incident", folder.id.clone()),
                ("Incident-Event", "action-added".into()),
                ("Incident-Action", action_id.clone()),
            ],
        );
        Ok((
            Plan {
                message,
                files: vec![FileWrite {
                    path: file.clone(),
                    content: item.to_toml()?.into_bytes(),
                }],
                guard: vec![file],
            },
            (incident, action),
        ))
    })?;
    Ok(ActionOutcome {
        incident,
        action,
        committed,
    })
}

/// A change to an existing item: `done`, `dropped`, `reopened` or `edit`.
#[derive(Debug, Clone)]
pub enum ChangeRequest {
    Done { note: Option<String> },
    Drop { reason: String },
    Reopen { reason: Option<String> },
    Edit(EditRequest),
}

/// `incident action done|drop|reopen|edit ID/N`: one new change file, one commit.
pub fn change(
    store: &Store,
    reference: &str,
    request: &ChangeRequest,
    now: Timestamp,
) -> Result<ActionOutcome> {
    let config = store.config()?;
    let (query, item_ref) = split_reference(reference)?;
    let mut resolved: Option<(String, String)> = None;
    let mut change_random: Option<String> = None;
    let (committed, (incident, action)) = store.commit_with(now, |attempt| {
        let tree = attempt.tree.ok_or_else(|| Error::NotFound { query: query.into() })?;
        let (incident_query, action_query) = match &resolved {
            Some((i, a)) => (i.as_str(), a.as_str()),
            None => (query, item_ref),
        };
        let folder = store.find(tree, incident_query)?;
        let incident = store.load(&config, tree, &folder)?;
        let mut records = read_records(store, tree, &folder)?;
        let actions = replay(&folder.id, &records);
        let action = find_action(&folder.id, &actions, action_query)?.clone();
        resolved = Some((folder.id.clone(), action.id.clone()));
        let item_record = records
            .iter_mut()
            .find(|r| r.id == action.id)
            .ok_or_else(|| Error::InvalidInput {
                message: format!("internal error: action item {} has no file", action.id),
            })?;
        let mut record = ActionChange {
            version: FORMAT_VERSION,
            kind: String::new(),
            at: now,
            seq: Some(next_seq(item_record.changes.iter().map(|(_, c)| c.seq))),
            author: attempt.identity.author.name.clone(),
            author_email: attempt.identity.author.email.clone(),
            reason: None,
            text: None,
            owner: None,
            due: None,
            priority: None,
            kind_of_item: None,
            link: None,
        };
        let verb = match request {
            ChangeRequest::Done { note } => {
                if action.status == "done" {
                    return Err(Error::InvalidInput {
                        message: format!("action item {}/{} is done already", folder.id, action.id),
                    });
                }
                if let Some(note) = note {
                    require_text("note", "--note", note)?;
                }
                record.kind = "done".into();
                record.reason = note.clone();
                "Complete"
            }
            ChangeRequest::Drop { reason } => {
                require_text("reason", "--reason TEXT", reason)?;
                if action.status == "dropped" {
                    return Err(Error::InvalidInput {
                        message: format!("action item {}/{} is dropped already", folder.id, action.id),
                    });
                }
                record.kind = "dropped".into();
                record.reason = Some(reason.clone());
                "Drop"
            }
            ChangeRequest::Reopen { reason } => {
                if action.is_open() {
                    return Err(Error::InvalidInput {
                        message: format!("action item {}/{} is open already", folder.id, action.id),
                    });
                }
                record.kind = "reopened".into();
                record.reason = reason.clone();
                "Reopen"
            }
            ChangeRequest::Edit(edit) => {
                record.kind = "edit".into();
                if let Some(text) = &edit.text {
                    require_text("action item", "--text", text)?;
                    record.text = Some(text.clone());
                }
                if let Some(owner) = &edit.owner {
                    record.owner = Some(if owner.trim().is_empty() {
                        String::new()
                    } else {
                        require_name("owner", owner)?
                    });
                }
                record.due = edit.due.as_deref().map(check_due).transpose()?;
                record.priority = edit
                    .priority
                    .as_deref()
                    .map(|p| check_choice("priority", p, PRIORITIES))
                    .transpose()?;
                record.kind_of_item = edit.kind.as_deref().map(|k| check_choice("type", k, TYPES)).transpose()?;
                if let Some(link) = &edit.link {
                    record.link = Some(if link.trim().is_empty() {
                        String::new()
                    } else {
                        require_name("link", link)?
                    });
                }
                if record.text.is_none()
                    && record.owner.is_none()
                    && record.due.is_none()
                    && record.priority.is_none()
                    && record.kind_of_item.is_none()
                    && record.link.is_none()
                {
                    return Err(Error::Usage {
                        message: "nothing to change: give --text, --owner, --due, --priority, --type or --link".into(),
                    });
                }
                "Edit"
            }
        };
        // The name stays the same from one attempt to the next (see commit_with).
        let random = match &change_random {
            Some(r) => r.clone(),
            None => id::random_id(6)?,
        };
        change_random = Some(random.clone());
        let change_id = format!(
            "{}-{random}-{}",
            now.with_timezone(&chrono::Utc).format("%Y%m%dT%H%M%SZ"),
            record.kind
        );
        let file = format!("{}/{ACTIONS_DIR}/{}/{change_id}.toml", folder.path, action.id);
        item_record.changes.push((change_id.clone(), record.clone()));
        let after = replayed(&folder.id, &records, &action.id)?;
        let mut body = Vec::new();
        if let Some(reason) = &record.reason {
            body.push(format!("Reason: {}", one_line(reason, 200)));
        }
        let message = commit_message(
            &format!("{verb} action item {}/{}: {}", folder.id, action.id, action.text),
            &body,
            &[
                ("Incident", folder.id.clone()),
                ("Incident-Event", format!("action-{}", record.kind)),
                ("Incident-Action", action.id.clone()),
            ],
        );
        Ok((
            Plan {
                message,
                files: vec![FileWrite {
                    path: file.clone(),
                    content: record.to_toml()?.into_bytes(),
                }],
                guard: vec![file],
            },
            (incident, after),
        ))
    })?;
    Ok(ActionOutcome {
        incident,
        action,
        committed,
    })
}

/// Which items `incident actions` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    Open,
    Overdue,
    All,
}

/// Items across all incidents, filtered, overdue first, then by due date.
pub fn list(
    store: &Store,
    filter: Filter,
    owner: Option<&str>,
    now: Timestamp,
) -> Result<(Vec<Action>, Vec<String>)> {
    let config = store.config()?;
    let today = today(&config, now);
    let Some(tree) = store.head_tree()? else {
        return Ok((Vec::new(), Vec::new()));
    };
    let (mut actions, warnings) = all_actions(store, &tree)?;
    actions.retain(|a| match filter {
        Filter::Open => a.is_open(),
        Filter::Overdue => a.is_overdue(today),
        Filter::All => true,
    });
    if let Some(owner) = owner {
        let wanted = owner.trim().to_lowercase();
        actions.retain(|a| {
            a.owner
                .as_deref()
                .is_some_and(|o| o.to_lowercase() == wanted)
        });
    }
    actions.sort_by(|a, b| {
        b.is_overdue(today)
            .cmp(&a.is_overdue(today))
            .then(
                a.due
                    .unwrap_or(NaiveDate::MAX)
                    .cmp(&b.due.unwrap_or(NaiveDate::MAX)),
            )
            .then(a.incident.cmp(&b.incident))
            .then(a.number.cmp(&b.number))
    });
    Ok((actions, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, number: usize) -> Action {
        Action {
            id: id.into(),
            incident: "k3f9x2".into(),
            number,
            text: format!("item {number}"),
            owner: None,
            due: None,
            priority: None,
            kind: None,
            link: None,
            status: "open".into(),
            reason: None,
            created_at: chrono::DateTime::UNIX_EPOCH.fixed_offset(),
            finished_at: None,
            author: crate::model::event::Person::default(),
            file: String::new(),
        }
    }

    #[test]
    fn digits_name_a_number_and_letters_an_id() {
        let actions = [item("9q3a4", 1), item("ab3de", 2)];
        assert_eq!(find_action("k3f9x2", &actions, "2").unwrap().id, "ab3de");
        assert_eq!(find_action("k3f9x2", &actions, "#1").unwrap().id, "9q3a4");
        assert_eq!(find_action("k3f9x2", &actions, "9q").unwrap().id, "9q3a4");
        // Not the item whose id starts with 9.
        assert!(find_action("k3f9x2", &actions, "9").is_err());
    }
}
