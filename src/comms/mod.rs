//! Stakeholder updates (issue 14): `comms` events for an audience (the
//! public status page, the company, executives), the cadence that says when
//! the next one is due, the templates they are written from, and their text
//! for chat tools.
//!
//! An update is an ordinary event file (`kind = "comms"`), appended like
//! every other, so clones merge without conflicts; everything here is
//! derived from the incident's replayed events.

pub mod config;
pub mod record;
pub mod render;
pub mod templates;

use std::collections::BTreeMap;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::event::{Communication, Event};
use crate::model::incident::Incident;
use crate::time::Timestamp;
use crate::tomlfile;

pub use config::{COMPONENT_STATES, PUBLIC, PUBLIC_STATUSES};

/// An incident's public impact, in Statuspage's words, least first.
pub const IMPACTS: [&str; 4] = ["none", "minor", "major", "critical"];

/// Check the fields of a `comms` event file (see [`crate::model::event`]).
pub fn parse_event_fields(file: &str, text: &str, update: Communication) -> Result<Communication> {
    let invalid = |key: &str, message: String| Error::Invalid {
        file: file.to_string(),
        line: tomlfile::line_of_key(text, key),
        field: key.to_string(),
        message,
    };
    if let Some(status) = &update.status
        && !PUBLIC_STATUSES.contains(&status.as_str())
    {
        return Err(invalid(
            "status",
            format!(
                "unknown public status '{status}'; use one of: {}",
                PUBLIC_STATUSES.join(", ")
            ),
        ));
    }
    if let Some(impact) = &update.impact
        && !IMPACTS.contains(&impact.as_str())
    {
        return Err(invalid(
            "impact",
            format!(
                "unknown impact '{impact}'; use one of: {}",
                IMPACTS.join(", ")
            ),
        ));
    }
    for (component, state) in &update.components {
        if !COMPONENT_STATES.contains(&state.as_str()) {
            return Err(invalid(
                component,
                format!(
                    "unknown state '{state}' for component '{component}'; use one of: {}",
                    COMPONENT_STATES.join(", ")
                ),
            ));
        }
    }
    Ok(update)
}

/// The line an update gets in the incident's timeline.
pub fn timeline_text(update: &Communication) -> String {
    let mut details: Vec<String> = update.status.iter().cloned().collect();
    details.extend(update.components.iter().map(|(c, s)| format!("{c}={s}")));
    let details = if details.is_empty() {
        String::new()
    } else {
        format!(" ({})", details.join(", "))
    };
    format!("{} update{details}: {}", update.audience, update.text)
}

/// An incident's updates to one audience (or all), in replay order.
pub fn updates<'a>(
    incident: &'a Incident,
    audience: Option<&'a str>,
) -> impl Iterator<Item = (&'a Event, &'a Communication)> + 'a {
    incident
        .comms
        .iter()
        .filter_map(move |event| match &event.change {
            crate::model::event::Change::Comms(update)
                if audience.is_none_or(|a| a == update.audience) =>
            {
                Some((event, update))
            }
            _ => None,
        })
}

/// What the public has been told about an incident, from its public updates.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicState {
    /// The latest public title given.
    pub title: String,
    /// The latest public status.
    pub status: String,
    /// Each component's latest state in this incident's updates.
    pub components: BTreeMap<String, String>,
    pub first_at: Timestamp,
    pub last_at: Timestamp,
}

/// `None` when nothing was ever said in public about the incident.
pub fn public_state(incident: &Incident) -> Option<PublicState> {
    let mut state: Option<PublicState> = None;
    for (event, update) in updates(incident, Some(PUBLIC)) {
        let current = state.get_or_insert_with(|| PublicState {
            title: String::new(),
            status: PUBLIC_STATUSES[0].to_string(),
            components: BTreeMap::new(),
            first_at: event.at,
            last_at: event.at,
        });
        if let Some(title) = &update.title {
            current.title = title.clone();
        }
        if let Some(status) = &update.status {
            current.status = status.clone();
        }
        for (component, value) in &update.components {
            current.components.insert(component.clone(), value.clone());
        }
        current.last_at = event.at;
    }
    state
}

/// The public status that matches the incident's own state: what a public
/// update says when it is not told.
pub fn default_public_status(config: &Config, incident: &Incident) -> &'static str {
    if !incident.is_open(config) {
        return "resolved";
    }
    match incident.status.as_str() {
        "identified" => "identified",
        "mitigated" => "monitoring",
        _ => "investigating",
    }
}

/// Why an update is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DueReason {
    /// Nothing was said to this audience yet.
    First,
    /// The last update promised the next one by then.
    Promised,
    /// The cadence asks for one (the last update promised nothing).
    Cadence,
    /// The incident is over, and the public was not told.
    Resolution,
}

/// When the next update to one audience is due.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    pub audience: String,
    pub due: Timestamp,
    pub reason: DueReason,
    /// When this audience last heard something.
    pub last_update: Option<Timestamp>,
}

/// The cadence's interval after the update that made `count` updates, the
/// first of which was at `first_at`, the last at `last_at`.
fn interval(rule: &config::Cadence, count: usize, first_at: Timestamp, last_at: Timestamp) -> i64 {
    let every = config::seconds(&rule.every).unwrap_or(1200);
    if count == 1
        && let Some(scoping) = rule.scoping.as_deref().and_then(config::seconds)
    {
        return scoping;
    }
    if let Some(long_after) = rule.long_after.as_deref().and_then(config::seconds)
        && (last_at - first_at).num_seconds() >= long_after
    {
        return rule
            .long_every
            .as_deref()
            .and_then(config::seconds)
            .unwrap_or(every);
    }
    every
}

/// When the update after one made at `at` is due by the cadence, as if it
/// were added to the incident's updates; `None` without a rule.
pub fn cadence_next(
    config: &Config,
    incident: &Incident,
    audience: &str,
    at: Timestamp,
) -> Option<Timestamp> {
    let rule = config.cadence(audience, &incident.severity)?;
    let earlier: Vec<Timestamp> = updates(incident, Some(audience))
        .map(|(e, _)| e.at)
        .collect();
    let first_at = earlier.first().copied().unwrap_or(at).min(at);
    let seconds = interval(rule, earlier.len() + 1, first_at, at);
    Some(at + chrono::Duration::seconds(seconds))
}

/// When a historical incident (imported, or declared `--historical`) came
/// back to life: the first event recorded after it was written down that
/// also happened after then. `None` while it holds only the history it was
/// written down with.
pub fn live_since(incident: &Incident) -> Option<Timestamp> {
    let written = incident
        .timeline
        .iter()
        .find(|e| e.event.is_none())?
        .recorded_at;
    incident
        .timeline
        .iter()
        .filter(|e| e.event.is_some() && e.recorded_at > written && e.at > written)
        .map(|e| e.at)
        .min()
}

/// The next update due to each audience that is owed one.
///
/// A historical incident owes nobody an update for the history it was
/// written down with: only once something new happens on it (see
/// [`live_since`]), and then counted from that moment, as if it had been
/// declared then; a promise or a post from its history is not a clock.
pub fn dues(config: &Config, incident: &Incident) -> Vec<Due> {
    let mut found = Vec::new();
    let since = if incident.historical {
        match live_since(incident) {
            Some(since) => Some(since),
            None => return found,
        }
    } else {
        None
    };
    if !incident.is_open(config) {
        // The public heard of it, so the public hears that it is over.
        // (A historical one only when it ended, or the public heard of
        // it, after it came back to life: a note on an old incident is no
        // news to the public.)
        if let Some(public) = public_state(incident)
            && public.status != "resolved"
            && since.is_none_or(|s| incident.status_since >= s || public.last_at >= s)
        {
            found.push(Due {
                audience: PUBLIC.into(),
                due: incident.status_since.max(public.last_at),
                reason: DueReason::Resolution,
                last_update: Some(public.last_at),
            });
        }
        return found;
    }
    for audience in config.audience_names() {
        let all: Vec<(&Event, &Communication)> = updates(incident, Some(&audience)).collect();
        if all
            .last()
            .is_some_and(|(_, last)| last.status.as_deref() == Some("resolved"))
        {
            continue;
        }
        let posts: Vec<(&Event, &Communication)> = all
            .into_iter()
            .filter(|(event, _)| since.is_none_or(|s| event.at >= s))
            .collect();
        let rule = config.cadence(&audience, &incident.severity);
        let due = match (posts.last(), rule) {
            (Some((event, last)), rule) => match (last.next_update, rule) {
                (Some(promised), _) => Some((promised, DueReason::Promised, Some(event.at))),
                (None, Some(rule)) => {
                    let first_at = posts[0].0.at;
                    let seconds = interval(rule, posts.len(), first_at, event.at);
                    Some((
                        event.at + chrono::Duration::seconds(seconds),
                        DueReason::Cadence,
                        Some(event.at),
                    ))
                }
                (None, None) => None,
            },
            (None, Some(rule)) => {
                let first = rule
                    .first
                    .as_deref()
                    .and_then(config::seconds)
                    .or_else(|| config::seconds(&rule.every))
                    .unwrap_or(300);
                let declared = since.unwrap_or_else(|| {
                    incident
                        .milestone("declared")
                        .unwrap_or(incident.status_since)
                });
                Some((
                    declared + chrono::Duration::seconds(first),
                    DueReason::First,
                    None,
                ))
            }
            (None, None) => None,
        };
        if let Some((due, reason, last_update)) = due {
            found.push(Due {
                audience,
                due,
                reason,
                last_update,
            });
        }
    }
    found
}

/// The next update due to one audience.
pub fn next_due(config: &Config, incident: &Incident, audience: &str) -> Option<Due> {
    dues(config, incident)
        .into_iter()
        .find(|d| d.audience == audience)
}

/// Component states a public update sets when it names none: the first
/// update of an incident affects the components of its services, with a
/// state from its severity (the most severe: major outage, the next:
/// partial outage, others: degraded performance); a resolving update
/// returns every component it affected to operational.
pub fn default_components(
    config: &Config,
    incident: &Incident,
    status: &str,
) -> BTreeMap<String, String> {
    let current = public_state(incident)
        .map(|p| p.components)
        .unwrap_or_default();
    if status == "resolved" {
        return current
            .into_iter()
            .filter(|(_, state)| state != "operational")
            .map(|(component, _)| (component, "operational".to_string()))
            .collect();
    }
    if !current.is_empty() {
        return BTreeMap::new();
    }
    let state = match config.severity_rank(&incident.severity) {
        0 => "major_outage",
        1 => "partial_outage",
        _ => "degraded_performance",
    };
    config
        .components
        .iter()
        .filter(|c| c.services.iter().any(|s| incident.services.contains(s)))
        .map(|c| (c.id.clone(), state.to_string()))
        .collect()
}

/// A component state typed by a person: the Statuspage name, or a short
/// form (`degraded`, `partial`, `major`, `outage`, `maintenance`, `ok`).
pub fn component_state(given: &str) -> Result<String> {
    let lower = given.trim().to_ascii_lowercase().replace([' ', '-'], "_");
    let state = match lower.as_str() {
        "ok" | "up" | "operational" => "operational",
        "degraded" | "degraded_performance" => "degraded_performance",
        "partial" | "partial_outage" => "partial_outage",
        "major" | "outage" | "down" | "major_outage" => "major_outage",
        "maintenance" | "under_maintenance" => "under_maintenance",
        _ => {
            return Err(Error::Unknown {
                what: "component state",
                given: given.to_string(),
                valid: COMPONENT_STATES.iter().map(|s| s.to_string()).collect(),
            });
        }
    };
    Ok(state.to_string())
}

/// How a component state reads for people.
pub fn state_label(state: &str) -> &'static str {
    match state {
        "operational" => "Operational",
        "under_maintenance" => "Under maintenance",
        "degraded_performance" => "Degraded performance",
        "partial_outage" => "Partial outage",
        "major_outage" => "Major outage",
        _ => "Unknown",
    }
}

/// The sentence a resolving public update ends with.
pub fn data_loss_sentence(data_loss: bool) -> &'static str {
    if data_loss {
        "Some data was lost."
    } else {
        "No data was lost."
    }
}

/// The text as published: a resolving update's body ends with whether data was lost.
pub fn published_text(update: &Communication) -> String {
    match update.data_loss {
        Some(lost) => format!("{}\n\n{}", update.text.trim_end(), data_loss_sentence(lost)),
        None => update.text.clone(),
    }
}

/// `next public update due 03:20 UTC (in 4m)`, or that it is overdue, for
/// `incident show`; `None` when no public update is owed.
pub fn due_line(config: &Config, incident: &Incident, now: Timestamp) -> Option<String> {
    let due = next_due(config, incident, PUBLIC)?;
    let when = templates::clock(config, &due.due, &now);
    let what = match due.reason {
        DueReason::Resolution => "public resolution post",
        DueReason::First => "first public update",
        _ => "next public update",
    };
    let seconds = (due.due - now).num_seconds();
    Some(if seconds >= 0 {
        format!(
            "{what} due {when} (in {})",
            crate::time::human_duration(seconds)
        )
    } else {
        format!(
            "{what} overdue since {when} ({} ago)",
            crate::time::human_duration(-seconds)
        )
    })
}

/// Every update owed across incidents, soonest first.
pub fn all_dues<'a>(config: &Config, incidents: &'a [Incident]) -> Vec<(&'a Incident, Due)> {
    let mut list: Vec<(&Incident, Due)> = incidents
        .iter()
        .flat_map(|i| dues(config, i).into_iter().map(move |d| (i, d)))
        .collect();
    list.sort_by(|a, b| (a.1.due, &a.0.id, &a.1.audience).cmp(&(b.1.due, &b.0.id, &b.1.audience)));
    list
}
