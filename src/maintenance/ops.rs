//! `incident maintenance schedule|start|complete|cancel`: one commit each.

use chrono::Datelike;

use super::{
    MAINTENANCE_DIR, Maintenance, MaintenanceEvent, Phase, RECORD_FILE, Record, Step, find_for,
    load_all,
};
use crate::error::{Error, Result};
use crate::model::event::FORMAT_VERSION;
use crate::model::id;
use crate::ops::{commit_message, new_event_prefix, one_line, parse_past_time, require_name};
use crate::store::write::{Committed, FileWrite, Plan};
use crate::store::{EVENTS_DIR, Store};
use crate::time::{self, Timestamp, Zone};

#[derive(Debug, Default, Clone)]
pub struct ScheduleRequest {
    pub title: String,
    pub description: Option<String>,
    /// Times as typed: `2026-11-25 02:00`, RFC 3339, `in 2h`, `HH:MM` (the next such time).
    pub from: String,
    pub until: String,
    pub components: Vec<String>,
}

#[derive(Debug)]
pub struct MaintenanceOutcome {
    pub maintenance: Maintenance,
    pub committed: Committed,
}

/// A window time: absolute, `in 2h` (from now), or `HH:MM` (the next such
/// time). Windows may lie ahead, unlike the times of events.
pub fn parse_window_time(given: &str, now: Timestamp, zone: &Zone) -> Result<Timestamp> {
    let text = given.trim();
    if let Some(span) = text
        .strip_prefix("in ")
        .or_else(|| text.strip_prefix('+'))
        .and_then(time::parse_relative)
    {
        return Ok(now + span);
    }
    if let Ok(clock) = chrono::NaiveTime::parse_from_str(text, "%H:%M") {
        let day = zone.convert(&now).date_naive();
        for offset in 0..2 {
            if let Some(t) = zone.localize((day + chrono::Duration::days(offset)).and_time(clock))
                && t > now
            {
                return Ok(t);
            }
        }
    }
    time::parse_time(text, now, zone)
}

pub fn schedule(
    store: &Store,
    request: &ScheduleRequest,
    now: Timestamp,
) -> Result<MaintenanceOutcome> {
    let config = store.config()?;
    let zone = config.zone();
    let title = require_name("title", &request.title)?;
    let scheduled_for = parse_window_time(&request.from, now, &zone)?;
    let scheduled_until = parse_window_time(&request.until, now, &zone)?;
    if scheduled_until <= scheduled_for {
        return Err(Error::InvalidInput {
            message: format!(
                "the window ends ({}) before it starts ({}); check --from and --until",
                zone.long(&scheduled_until),
                zone.long(&scheduled_for)
            ),
        });
    }
    if request.components.is_empty() {
        return Err(Error::MissingInput {
            what: "the components under maintenance".into(),
            flag: "--component ID (repeatable; [[component]] in incidents/config.toml)".into(),
        });
    }
    let mut components = Vec::new();
    for component in &request.components {
        let component = config.check_component(component)?;
        if !components.contains(&component) {
            components.push(component);
        }
    }
    let slug = id::slugify(&title);
    let mut chosen: Option<String> = None;
    let (committed, maintenance) = store.commit_with(now, |attempt| {
        let taken = match attempt.tree {
            Some(tree) => load_all(&store.repo, tree)?,
            None => Vec::new(),
        };
        let maintenance_id = match chosen.take() {
            Some(id) => id,
            None => loop {
                let candidate = id::random_id(config.ids.length)?;
                if !taken.iter().any(|m| m.record.id == candidate) {
                    break candidate;
                }
            },
        };
        chosen = Some(maintenance_id.clone());
        let utc = scheduled_for.with_timezone(&chrono::Utc);
        let folder = format!(
            "{MAINTENANCE_DIR}/{:04}/{:02}/{}",
            utc.year(),
            utc.month(),
            id::folder_name(&maintenance_id, &slug)
        );
        let record = Record {
            version: FORMAT_VERSION,
            id: maintenance_id.clone(),
            title: title.clone(),
            description: request.description.clone().unwrap_or_default(),
            scheduled_for,
            scheduled_until,
            components: components.clone(),
            recorded_at: now,
            author: attempt.identity.author.name.clone(),
            author_email: attempt.identity.author.email.clone(),
        };
        let message = commit_message(
            &format!("Schedule maintenance {maintenance_id}: {title}"),
            &[
                format!(
                    "Window: {} to {}",
                    zone.long(&scheduled_for),
                    zone.long(&scheduled_until)
                ),
                format!("Components: {}", components.join(", ")),
            ],
            &[
                ("Maintenance", maintenance_id.clone()),
                ("Maintenance-Event", "scheduled".into()),
                ("Maintenance-At", scheduled_for.to_rfc3339()),
            ],
        );
        let file = FileWrite {
            path: format!("{folder}/{RECORD_FILE}"),
            content: record.to_toml()?.into_bytes(),
        };
        Ok((
            Plan {
                message,
                files: vec![file],
                guard: vec![folder.clone()],
            },
            Maintenance {
                folder,
                record,
                events: Vec::new(),
            },
        ))
    })?;
    Ok(MaintenanceOutcome {
        maintenance,
        committed,
    })
}

/// Whether `step` can apply to `maintenance` at `at`.
fn allowed(maintenance: &Maintenance, step: Step, at: Timestamp) -> bool {
    let phase = maintenance.phase(at);
    match step {
        // Its window may have opened already: recording when the work
        // really began is still right, once.
        Step::Start => {
            phase == Phase::Scheduled
                || (phase == Phase::InProgress
                    && !maintenance.events.iter().any(|e| e.step == Step::Start))
        }
        Step::Complete => phase == Phase::InProgress,
        Step::Cancel => matches!(phase, Phase::Scheduled | Phase::InProgress),
    }
}

/// Start, complete or cancel a maintenance.
pub fn step(
    store: &Store,
    query: &str,
    step: Step,
    text: Option<String>,
    at: Option<&str>,
    now: Timestamp,
) -> Result<MaintenanceOutcome> {
    let config = store.config()?;
    let zone = config.zone();
    let at = match at {
        Some(t) => parse_past_time(t, now, &zone)?,
        None => now,
    };
    if let Some(text) = &text {
        crate::ops::require_text("message", "-m TEXT", text)?;
    }
    let mut wanted: Option<String> = None;
    let mut prefix: Option<String> = None;
    let (committed, maintenance) = store.commit_with(now, |attempt| {
        let tree = attempt.tree.ok_or_else(|| Error::InvalidInput {
            message: "no maintenance is scheduled yet".into(),
        })?;
        let all = load_all(&store.repo, tree)?;
        let found = find_for(&all, wanted.as_deref().unwrap_or(query), |m| {
            allowed(m, step, at)
        })?;
        wanted = Some(found.record.id.clone());
        let phase = found.phase(at);
        if !allowed(found, step, at) {
            return Err(Error::InvalidInput {
                message: format!(
                    "maintenance {} is {} at {}; cannot {} it",
                    found.record.id,
                    phase.name().replace('_', " "),
                    zone.long(&at),
                    step.name()
                ),
            });
        }
        let prefix = match &prefix {
            Some(p) => p.clone(),
            None => prefix.insert(new_event_prefix(&now)?).clone(),
        };
        let event = MaintenanceEvent {
            id: format!("{prefix}-{}", step.name()),
            step,
            at,
            recorded_at: now,
            seq: found
                .events
                .iter()
                .map(|e| e.seq)
                .max()
                .map_or(0, |s| s.saturating_add(1)),
            author: attempt.identity.author.clone(),
            text: text.clone(),
        };
        let verb = match step {
            Step::Start => "Start",
            Step::Complete => "Complete",
            Step::Cancel => "Cancel",
        };
        let body: Vec<String> = text
            .iter()
            .map(|t| format!("Text: {}", one_line(t, 200)))
            .collect();
        let message = commit_message(
            &format!(
                "{verb} maintenance {}: {}",
                found.record.id, found.record.title
            ),
            &body,
            &[
                ("Maintenance", found.record.id.clone()),
                ("Maintenance-Event", step.name().into()),
                ("Maintenance-At", at.to_rfc3339()),
            ],
        );
        let file = FileWrite {
            path: format!("{}/{EVENTS_DIR}/{}.toml", found.folder, event.id),
            content: event.to_toml()?.into_bytes(),
        };
        let mut after = found.clone();
        after.events.push(event);
        Ok((
            Plan {
                message,
                files: vec![file],
                guard: vec![found.folder.clone()],
            },
            after,
        ))
    })?;
    Ok(MaintenanceOutcome {
        maintenance,
        committed,
    })
}
