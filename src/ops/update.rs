//! `incident update` and its shortcuts: append timeline events in one commit.

use super::{
    commit_message, event_file_path, event_id, event_trailer, new_event_prefix, one_line,
    parse_past_time, require_name, require_text,
};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::event::{Change, Event};
use crate::model::incident::Incident;
use crate::store::write::{Committed, FileWrite, Plan};
use crate::store::{DECLARATION_FILE, EVENTS_DIR, Store};
use crate::time::{Timestamp, Zone};

/// Everything one `incident update` call may record. Times are typed
/// expressions, read in the config's zone.
#[derive(Debug, Default, Clone)]
pub struct UpdateRequest {
    pub status: Option<String>,
    /// Resolution, cancellation reason or other text for the status change.
    pub reason: Option<String>,
    pub duplicate_of: Option<String>,
    /// Acknowledge: set the `acknowledged` milestone and leave triage.
    pub acknowledge: bool,
    /// Reopen: go back to the first open state the current state allows.
    pub reopen: bool,
    pub severity: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    /// (role, person); an empty person leaves the role unassigned.
    pub roles: Vec<(String, String)>,
    pub add_services: Vec<String>,
    pub remove_services: Vec<String>,
    pub links: Vec<String>,
    /// Commits, tags or deployments that caused the incident.
    pub caused_by: Vec<String>,
    /// (milestone, time); no time means `at`.
    pub milestones: Vec<(String, Option<String>)>,
    pub clear_milestones: Vec<String>,
    pub notes: Vec<String>,
    /// When it happened; default now.
    pub at: Option<String>,
    /// The verb of the commit subject ("Resolve", "Acknowledge"...).
    pub verb: Option<String>,
}

#[derive(Debug)]
pub struct UpdateOutcome {
    pub before: Incident,
    pub incident: Incident,
    pub events: Vec<Event>,
    pub committed: Committed,
}

pub fn update(
    store: &Store,
    query: &str,
    request: &UpdateRequest,
    now: Timestamp,
) -> Result<UpdateOutcome> {
    update_with(store, query, request, now, &|_| Ok(Vec::new()))
}

/// What an [`update_with`] hook sees: the incident's files and its state after the update.
pub struct UpdateContext<'a> {
    pub config: &'a Config,
    pub tree: &'a git2::Tree<'a>,
    pub folder: &'a crate::store::FolderRef,
    pub declaration: &'a crate::model::event::Declaration,
    /// Every event, the new ones included.
    pub events: &'a [Event],
    pub after: &'a Incident,
}

/// [`update`], committing the files `extra` returns in the same commit
/// (`resolve` adds the postmortem this way).
pub fn update_with(
    store: &Store,
    query: &str,
    request: &UpdateRequest,
    now: Timestamp,
    extra: &dyn Fn(&UpdateContext<'_>) -> Result<Vec<FileWrite>>,
) -> Result<UpdateOutcome> {
    let config = store.config()?;
    let zone = config.zone();
    let at = match &request.at {
        Some(t) => parse_past_time(t, now, &zone)?,
        None => now,
    };
    let mut incident_id: Option<String> = None;
    // Event ids stay the same from one attempt to the next (see commit_with).
    let mut prefixes: Vec<String> = Vec::new();
    let (committed, (before, incident, events)) = store.commit_with(now, |attempt| {
        let tree = attempt.tree.ok_or_else(|| Error::NotFound {
            query: query.into(),
        })?;
        // The first attempt resolves what the user typed; retries must find
        // the same incident even if a new one now shares the prefix.
        let folder = store.find(tree, incident_id.as_deref().unwrap_or(query))?;
        incident_id = Some(folder.id.clone());
        let (declaration, mut all) = store.read_files(tree, &folder)?;
        let before = Incident::replay(&config, &folder.path, &declaration, &all);
        let author = attempt.identity.author.clone();
        let changes = plan_changes(store, tree, &config, &zone, &before, request, at, now)?;
        let next_seq = all
            .iter()
            .map(|e| e.seq)
            .max()
            .map_or(0, |s| s.saturating_add(1));
        let mut events = Vec::new();
        for (offset, change) in (0u32..).zip(changes) {
            let position = offset as usize;
            if prefixes.len() <= position {
                prefixes.push(new_event_prefix(&now)?);
            }
            events.push(Event {
                id: event_id(&prefixes[position], &change),
                at,
                recorded_at: now,
                stated: request.at.is_some(),
                seq: next_seq.saturating_add(offset),
                author: author.clone(),
                change,
            });
        }
        all.extend(events.iter().cloned());
        let after = Incident::replay(&config, &folder.path, &declaration, &all);
        after.ensure_milestone_order(&config, Some(&before), &zone)?;
        let mut files = Vec::new();
        for event in &events {
            files.push(FileWrite {
                path: event_file_path(&folder.path, event),
                content: event.to_toml()?.into_bytes(),
            });
        }
        files.extend(extra(&UpdateContext {
            config: &config,
            tree,
            folder: &folder,
            declaration: &declaration,
            events: &all,
            after: &after,
        })?);
        let message = message_for(&before, &events, request, at, &zone);
        Ok((
            Plan {
                message,
                files,
                guard: vec![
                    format!("{}/{DECLARATION_FILE}", folder.path),
                    format!("{}/{EVENTS_DIR}", folder.path),
                ],
            },
            (before, after, events),
        ))
    })?;
    Ok(UpdateOutcome {
        before,
        incident,
        events,
        committed,
    })
}

/// Turn a request into validated changes against the incident as it is.
#[allow(clippy::too_many_arguments)]
fn plan_changes(
    store: &Store,
    tree: &git2::Tree<'_>,
    config: &Config,
    zone: &Zone,
    incident: &Incident,
    request: &UpdateRequest,
    at: Timestamp,
    now: Timestamp,
) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    if let Some(title) = &request.title {
        require_text("title", "--title", title)?;
        if *title != incident.title {
            changes.push(Change::Title {
                title: title.clone(),
            });
        }
    }
    if let Some(summary) = &request.summary
        && *summary != incident.summary
    {
        changes.push(Change::Summary {
            text: summary.clone(),
        });
    }
    if let Some(severity) = &request.severity {
        let severity = config.check_severity(severity)?;
        if severity != incident.severity {
            changes.push(Change::Severity {
                to: severity,
                from: Some(incident.severity.clone()),
            });
        }
    }

    let mut milestones: Vec<(String, Option<Timestamp>)> = Vec::new();
    let mut target = match &request.status {
        Some(status) => Some(config.check_state(status)?),
        None => None,
    };
    if request.reopen {
        if incident.is_open(config) {
            return Err(Error::InvalidInput {
                message: format!(
                    "incident {} is still open ({}); nothing to reopen",
                    incident.id, incident.status
                ),
            });
        }
        let allowed = config
            .state(&incident.status)
            .map(|s| s.next.clone())
            .unwrap_or_default();
        target = Some(
            allowed
                .iter()
                .find(|s| config.is_open(s))
                .cloned()
                .ok_or_else(|| Error::IllegalTransition {
                    from: incident.status.clone(),
                    to: "an open state".into(),
                    allowed: allowed.clone(),
                })?,
        );
    }
    if request.acknowledge {
        if let Some(when) = incident
            .milestones
            .get("acknowledged")
            .filter(|m| m.source == crate::model::incident::MilestoneSource::Recorded)
        {
            return Err(Error::InvalidInput {
                message: format!(
                    "incident {} was acknowledged already, at {}",
                    incident.id,
                    zone.long(&when.at)
                ),
            });
        }
        milestones.push(("acknowledged".into(), Some(at)));
        let leaves_triage = incident.status == config.lifecycle.initial;
        let next_open = config
            .state(&incident.status)
            .and_then(|s| s.next.iter().find(|n| config.is_open(n)).cloned());
        if target.is_none() && leaves_triage {
            target = next_open;
        }
    }
    if let Some(to) = target {
        if to == incident.status {
            return Err(Error::InvalidInput {
                message: format!("incident {} is already '{to}'", incident.id),
            });
        }
        let allowed = config
            .state(&incident.status)
            .map(|s| s.next.clone())
            .unwrap_or_default();
        if !allowed.contains(&to) {
            return Err(Error::IllegalTransition {
                from: incident.status.clone(),
                to,
                allowed,
            });
        }
        if let Some(last) = incident.last_status_change
            && at < last
        {
            return Err(Error::StatusBackdated {
                at: zone.long(&at),
                current: incident.status.clone(),
                current_at: zone.long(&last),
            });
        }
        let duplicate_of = match &request.duplicate_of {
            Some(query) => {
                let original = store.find(tree, query)?;
                if original.id == incident.id {
                    return Err(Error::InvalidInput {
                        message: "an incident cannot be a duplicate of itself".into(),
                    });
                }
                Some(original.id)
            }
            None => None,
        };
        if let Some(reason) = &request.reason {
            require_text("reason", "--reason / --resolution", reason)?;
        }
        changes.push(Change::Status {
            to,
            from: Some(incident.status.clone()),
            text: request.reason.clone(),
            duplicate_of,
        });
    } else if request.reason.is_some() || request.duplicate_of.is_some() {
        return Err(Error::Usage {
            message: "a reason or --duplicate-of goes with a status change; add --status".into(),
        });
    }

    for (role, person) in &request.roles {
        let role = config.check_role(role)?;
        let current = incident.roles.get(&role).cloned();
        let name = if person.trim().is_empty() {
            None
        } else {
            Some(require_name(&role, person)?)
        };
        if name != current {
            changes.push(Change::Role {
                role,
                name,
                from: current,
            });
        }
    }
    for service in &request.add_services {
        let name = require_name("service", service)?;
        if !incident.services.contains(&name) {
            changes.push(Change::Service {
                name,
                removed: false,
            });
        }
    }
    for service in &request.remove_services {
        let name = require_name("service", service)?;
        if !incident.services.contains(&name) {
            return Err(Error::InvalidInput {
                message: format!(
                    "incident {} has no service '{name}'; its services: {}",
                    incident.id,
                    incident.services.join(", ")
                ),
            });
        }
        changes.push(Change::Service {
            name,
            removed: true,
        });
    }
    for url in &request.links {
        let url = require_name("link", url)?;
        if !incident.links.contains(&url) {
            changes.push(Change::Link { url });
        }
    }
    for rev in &request.caused_by {
        let rev = require_name("--caused-by", rev)?;
        if !incident.caused_by.contains(&rev) {
            changes.push(Change::Cause { rev });
        }
    }
    for (name, time) in &request.milestones {
        let name = config.check_milestone(name)?;
        let time = match time {
            Some(t) => parse_past_time(t, now, zone)?,
            None => at,
        };
        milestones.push((name, Some(time)));
    }
    for name in &request.clear_milestones {
        milestones.push((config.check_milestone(name)?, None));
    }
    for (name, time) in milestones {
        changes.push(Change::Milestone { name, time });
    }
    for note in &request.notes {
        require_text("note", "--note / -m", note)?;
        changes.push(Change::Note { text: note.clone() });
    }
    if changes.is_empty() {
        return Err(Error::Usage {
            message: format!(
                "nothing to record for incident {}: the request changes nothing (give --status, --note, --severity, --role, --milestone, ...)",
                incident.id
            ),
        });
    }
    Ok(changes)
}

fn message_for(
    before: &Incident,
    events: &[Event],
    request: &UpdateRequest,
    at: Timestamp,
    zone: &Zone,
) -> String {
    let describe = |change: &Change| match change {
        Change::Status { to, .. } => format!("status {} → {to}", before.status),
        Change::Severity { to, .. } => format!("severity {} → {to}", before.severity),
        Change::Note { .. } => "note".into(),
        Change::Role { role, name, .. } => {
            format!("{role} {}", name.as_deref().unwrap_or("unassigned"))
        }
        Change::Service { name, removed } => {
            format!("{} service {name}", if *removed { "remove" } else { "add" })
        }
        Change::Link { .. } => "link".into(),
        Change::Milestone { name, time } => match time {
            Some(_) => format!("milestone {name}"),
            None => format!("clear milestone {name}"),
        },
        Change::Title { .. } => "title".into(),
        Change::Summary { .. } => "summary".into(),
        Change::Cause { rev } => format!("caused by {rev}"),
    };
    let mut parts: Vec<String> = Vec::new();
    for event in events {
        let part = describe(&event.change);
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    let subject = match &request.verb {
        Some(verb) => format!("{verb} incident {}: {}", before.id, before.title),
        None => format!("Update incident {}: {}", before.id, parts.join(", ")),
    };
    let mut body = Vec::new();
    if request.verb.is_some() {
        body.push(format!("Changes: {}", parts.join(", ")));
    }
    for event in events {
        match &event.change {
            Change::Note { text } => body.push(format!("Note: {}", one_line(text, 200))),
            Change::Status {
                text: Some(text), ..
            } => body.push(format!("Reason: {}", one_line(text, 200))),
            _ => {}
        }
    }
    if request.at.is_some() {
        body.push(format!("Happened at {}.", zone.long(&at)));
    }
    let mut trailers = vec![("Incident", before.id.clone())];
    for event in events {
        trailers.push(("Incident-Event", event_trailer(&event.change)));
    }
    trailers.push(("Incident-At", at.to_rfc3339()));
    commit_message(&subject, &body, &trailers)
}
