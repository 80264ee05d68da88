//! Atlassian Statuspage incidents JSON: the public `/api/v2/incidents.json`
//! (`{"page": ..., "incidents": [...]}`), one incident per file
//! (`{"page": ..., "incident": {...}}`, as status-history archives keep
//! them), a bare list, or the manager API's export. A folder imports every
//! `.json` file in it.
//!
//! An incident becomes: declared at `created_at`, impact started at
//! `started_at`, one status change per change of state in its
//! `incident_updates` (the move to resolved at `resolved_at`, the figure
//! Statuspage itself reports), and each update as a public update at its
//! `display_at` (the time the page showed; `created_at` is when it was
//! typed, years later for migrated history); the components are its
//! services, `impact` its severity and the impact its first public update
//! states, and `postmortem_body` a note. Bodies that hold HTML (history
//! migrated into Statuspage) are imported as their plain text.

use std::path::Path;

use serde_json::Value;

use super::html_text;
use super::mapping::Mapping;
use super::times;
use super::{Parsed, Problem, Record, Step, input_files, read_text};
use crate::config::Config;
use crate::error::Result;
use crate::time::{Timestamp, Zone};

/// Statuspage's impact → severity, unless the mapping says otherwise.
const SEVERITIES: &[(&str, &str)] = &[
    ("critical", "SEV1"),
    ("major", "SEV2"),
    ("minor", "SEV3"),
    ("none", "SEV4"),
    ("maintenance", "SEV5"),
];

/// Statuspage's incident and maintenance states → the default lifecycle's.
const STATES: &[(&str, &str)] = &[
    ("investigating", "investigating"),
    ("identified", "identified"),
    ("monitoring", "mitigated"),
    ("resolved", "resolved"),
    ("postmortem", "postmortem"),
    ("scheduled", ""),
    ("in_progress", "investigating"),
    ("verifying", "mitigated"),
    ("completed", "resolved"),
];

pub fn parse(path: &Path, config: &Config, mapping: &Mapping) -> Result<Parsed> {
    let mut parsed = Parsed::default();
    let zone = mapping.zone(Zone::Utc);
    for file in input_files(path, "json")? {
        let name = file.display().to_string();
        let text = match read_text(&file) {
            Ok(text) => text,
            Err(problem) => {
                parsed.problems.push(problem);
                continue;
            }
        };
        let document: Value = match serde_json::from_str(&text) {
            Ok(value) => value,
            Err(e) => {
                parsed.problems.push(Problem {
                    file: name,
                    line: Some(e.line()),
                    message: format!("not valid JSON: {e}"),
                });
                continue;
            }
        };
        let incidents: Vec<&Value> = match &document {
            Value::Array(items) => items.iter().collect(),
            Value::Object(object) => match (object.get("incident"), object.get("incidents")) {
                (Some(one), _) => vec![one],
                (None, Some(Value::Array(many))) => many.iter().collect(),
                _ if object.contains_key("incident_updates") => vec![&document],
                _ => {
                    parsed.problems.push(Problem {
                        file: name,
                        line: Some(1),
                        message: "no Statuspage incidents here: expected \"incident\", \"incidents\" or a list of incidents".into(),
                    });
                    continue;
                }
            },
            _ => Vec::new(),
        };
        for incident in incidents {
            match record(incident, &name, &text, config, mapping, &zone) {
                Ok(record) => parsed.records.push(record),
                Err(problem) => parsed.problems.push(problem),
            }
        }
    }
    let _ = config;
    Ok(parsed)
}

fn record(
    incident: &Value,
    file: &str,
    text: &str,
    _config: &Config,
    mapping: &Mapping,
    zone: &Zone,
) -> std::result::Result<Record, Problem> {
    let string = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let id = string(incident, "id");
    let line = id.as_deref().and_then(|id| line_of(text, id));
    let problem = |message: String| Problem {
        file: file.to_string(),
        line,
        message,
    };
    let id = id.ok_or_else(|| problem("an incident without an \"id\"".into()))?;
    let time = |v: &Value, key: &str| -> std::result::Result<Option<Timestamp>, Problem> {
        match v.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => times::parse(s, zone, None)
                .map(Some)
                .ok_or_else(|| problem(format!("{key}: '{s}' is not a time"))),
            Some(other) => Err(problem(format!("{key}: {other} is not a time"))),
        }
    };
    let title = string(incident, "name").unwrap_or_default();
    let created_at = time(incident, "created_at")?
        .ok_or_else(|| problem(format!("incident {id} has no created_at")))?;
    let status = string(incident, "status").unwrap_or_default();
    let impact = string(incident, "impact").unwrap_or_else(|| "none".into());
    let mut services: Vec<String> = incident
        .get("components")
        .and_then(Value::as_array)
        .map(|c| c.iter().filter_map(|c| string(c, "name")).collect())
        .unwrap_or_default();
    let mut steps = Vec::new();
    let mut updates: Vec<(Timestamp, &Value)> = Vec::new();
    for update in incident
        .get("incident_updates")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        // `display_at` is the time the page shows (a back-dated or migrated
        // update was created later); `created_at` only when it is missing.
        let at = match time(update, "display_at")? {
            Some(at) => at,
            None => time(update, "created_at")?.ok_or_else(|| {
                problem(format!(
                    "an update of incident {id} has neither display_at nor created_at"
                ))
            })?,
        };
        updates.push((at, update));
        for component in update
            .get("affected_components")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = string(component, "name")
                && !services.contains(&name)
            {
                services.push(name);
            }
        }
    }
    updates.sort_by_key(|(at, _)| *at);
    let resolved_at = time(incident, "resolved_at")?;
    let final_resolved =
        mapping.status(&status, STATES).as_deref() == Some("resolved") || status == "postmortem";
    let mut resolved_placed = false;
    let last_resolved_update = updates.iter().rposition(|(_, u)| {
        mapping
            .status(&string(u, "status").unwrap_or_default(), STATES)
            .as_deref()
            == Some("resolved")
    });
    for (index, (at, update)) in updates.iter().enumerate() {
        let state = string(update, "status").unwrap_or_default();
        // The incident's impact goes on its first update, as the page's
        // own statement (a later `comms --impact` overrides it).
        let body = string(update, "body").unwrap_or_default();
        steps.push(public_update(
            *at,
            &state,
            &html_text::to_text(&body).unwrap_or(body),
            (index == 0).then(|| (title.clone(), published_impact(&impact))),
        ));
        if let Some(to) = mapping.status(&state, STATES) {
            // The move to resolved that stands happened at `resolved_at`.
            let at = match resolved_at {
                Some(resolved) if Some(index) == last_resolved_update && final_resolved => {
                    resolved_placed = true;
                    resolved
                }
                _ => *at,
            };
            steps.push(Step::Status { at, to, text: None });
        }
    }
    if final_resolved
        && !resolved_placed
        && let Some(resolved) = resolved_at
    {
        steps.push(Step::Status {
            at: resolved,
            to: "resolved".into(),
            text: None,
        });
    }
    if let Some(body) = string(incident, "postmortem_body").filter(|b| !b.trim().is_empty()) {
        let body = html_text::to_text(&body).unwrap_or(body);
        let at = time(incident, "postmortem_published_at")?
            .or(time(incident, "updated_at")?)
            .unwrap_or(created_at);
        steps.push(Step::Note {
            at,
            text: format!("Postmortem (published on the status page):\n\n{body}"),
        });
    }
    let mut links = Vec::new();
    if let Some(link) = string(incident, "shortlink").filter(|l| l.starts_with("https://")) {
        links.push(link);
    }
    Ok(Record {
        source_id: id,
        file: file.to_string(),
        line,
        title,
        severity: mapping.severity(&impact, SEVERITIES),
        services,
        summary: String::new(),
        links,
        declared_at: created_at,
        started_at: time(incident, "started_at")?,
        detected_at: None,
        steps,
    })
}

/// One incident update as the public update it was: its status when it
/// is one of the public statuses (investigating, identified, monitoring,
/// resolved), else none (a `postmortem` or maintenance update).
fn public_update(
    at: Timestamp,
    status: &str,
    body: &str,
    first: Option<(String, Option<String>)>,
) -> Step {
    let (title, impact) = match first {
        Some((title, impact)) => (Some(title), impact),
        None => (None, None),
    };
    Step::Public {
        at,
        status: crate::comms::PUBLIC_STATUSES
            .contains(&status)
            .then(|| status.to_string()),
        text: body.to_string(),
        title,
        impact,
    }
}

/// The incident's impact as a public update states it: Statuspage's
/// none/minor/major/critical (a maintenance's `maintenance` is no incident
/// impact: the page derives that one).
fn published_impact(impact: &str) -> Option<String> {
    crate::comms::IMPACTS
        .contains(&impact)
        .then(|| impact.to_string())
}

/// The line of `"id": "<id>"` in the file, for messages.
fn line_of(text: &str, id: &str) -> Option<usize> {
    let needle = format!("\"{id}\"");
    text.lines()
        .position(|l| l.contains("\"id\"") && l.contains(&needle))
        .map(|n| n + 1)
}
