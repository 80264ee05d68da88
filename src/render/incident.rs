//! Incidents, timelines and audit trails in every output format.

use std::collections::BTreeMap;

use comfy_table::Color;
use serde::Serialize;

use super::{Format, Rows, Style, Value, json, markdown_cell, terminal_safe};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::incident::{Incident, MilestoneSource, TimelineEntry};
use crate::ops::history::LogEntry;
use crate::time::human_duration;

/// The JSON contract of `show` (and, without the timeline, of `list`).
#[derive(Debug, Serialize)]
pub struct IncidentJson<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub status: &'a str,
    pub open: bool,
    pub severity: &'a str,
    pub services: &'a [String],
    pub roles: &'a BTreeMap<String, String>,
    /// Milestone name to RFC 3339 time.
    pub milestones: BTreeMap<&'a str, String>,
    /// Milestones not recorded but assumed from another one.
    pub assumed_milestones: Vec<&'a str>,
    /// Duration name to seconds, for the pairs of milestones that are set.
    pub durations: BTreeMap<&'a str, i64>,
    pub summary: &'a str,
    pub links: &'a [String],
    pub resolution: Option<&'a str>,
    pub duplicate_of: Option<&'a str>,
    pub caused_by: &'a [String],
    pub declared_by: &'a str,
    pub folder: &'a str,
    /// Since when a postmortem is due, and the branch its draft is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postmortem_due: Option<PostmortemDueJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<TimelineJson<'a>>>,
}

#[derive(Debug, Serialize)]
pub struct PostmortemDueJson<'a> {
    pub since: String,
    pub branch: &'a str,
}

#[derive(Debug, Serialize)]
pub struct TimelineJson<'a> {
    pub at: String,
    pub kind: &'a str,
    pub author: &'a str,
    pub author_email: &'a str,
    pub text: &'a str,
    pub recorded_at: String,
    pub event: Option<&'a str>,
}

pub fn to_json<'a>(
    incident: &'a Incident,
    config: &Config,
    with_timeline: bool,
) -> IncidentJson<'a> {
    IncidentJson {
        id: &incident.id,
        title: &incident.title,
        status: &incident.status,
        open: incident.is_open(config),
        severity: &incident.severity,
        services: &incident.services,
        roles: &incident.roles,
        milestones: incident
            .milestones
            .iter()
            .map(|(name, m)| (name.as_str(), m.at.to_rfc3339()))
            .collect(),
        assumed_milestones: incident
            .milestones
            .iter()
            .filter(|(_, m)| m.source != MilestoneSource::Recorded)
            .map(|(name, _)| name.as_str())
            .collect(),
        durations: config
            .metrics
            .incident_spans()
            .into_iter()
            .filter_map(|(name, span)| incident.between(&span.from, &span.to).map(|s| (name, s)))
            .collect(),
        summary: &incident.summary,
        links: &incident.links,
        resolution: incident.resolution.as_deref(),
        duplicate_of: incident.duplicate_of.as_deref(),
        caused_by: &incident.caused_by,
        declared_by: &incident.declared_by.name,
        folder: &incident.folder,
        postmortem_due: incident
            .postmortem_due
            .as_ref()
            .map(|due| PostmortemDueJson {
                since: due.since.to_rfc3339(),
                branch: &due.branch,
            }),
        timeline: with_timeline.then(|| timeline_json(&incident.timeline)),
    }
}

fn timeline_json(entries: &[TimelineEntry]) -> Vec<TimelineJson<'_>> {
    entries
        .iter()
        .map(|e| TimelineJson {
            at: e.at.to_rfc3339(),
            kind: &e.kind,
            author: &e.author.name,
            author_email: &e.author.email,
            text: &e.text,
            recorded_at: e.recorded_at.to_rfc3339(),
            event: e.event.as_deref(),
        })
        .collect()
}

fn severity_color(config: &Config, severity: &str) -> Option<Color> {
    match config.severity_rank(severity) {
        0 => Some(Color::Red),
        1 => Some(Color::DarkYellow),
        _ => None,
    }
}

fn status_color(config: &Config, status: &str) -> Option<Color> {
    if config.is_open(status) {
        Some(Color::Yellow)
    } else {
        Some(Color::Green)
    }
}

/// Age of an open incident (since it started), or how long a closed one lasted.
pub fn age_or_duration(incident: &Incident, config: &Config, style: &Style) -> String {
    let Some(started) = incident.milestone("started") else {
        return String::new();
    };
    if incident.is_open(config) {
        format!(
            "{} open",
            human_duration((style.now - started).num_seconds())
        )
    } else {
        match incident.milestone("resolved") {
            Some(resolved) => format!(
                "lasted {}",
                human_duration((resolved - started).num_seconds())
            ),
            None => String::new(),
        }
    }
}

/// `incident list`.
pub fn list(
    incidents: &[Incident],
    config: &Config,
    format: Format,
    style: &Style,
) -> Result<String> {
    if format == Format::Json {
        let records: Vec<IncidentJson<'_>> = incidents
            .iter()
            .map(|i| to_json(i, config, false))
            .collect();
        return json(&records);
    }
    let mut rows = Rows::new(&[
        "ID",
        "SEV",
        "STATUS",
        "TITLE",
        "STARTED",
        "AGE",
        "COMMANDER",
    ]);
    for incident in incidents {
        rows.push(vec![
            incident.id.as_str().into(),
            Value {
                text: incident.severity.clone(),
                color: severity_color(config, &incident.severity),
            },
            Value {
                text: incident.status.clone(),
                color: status_color(config, &incident.status),
            },
            first_line(&incident.title).into(),
            incident
                .milestone("started")
                .map(|t| style.zone.short(&t))
                .unwrap_or_default()
                .into(),
            age_or_duration(incident, config, style).into(),
            incident.commander().unwrap_or("").into(),
        ]);
    }
    rows.render(format, style)
}

fn first_line(text: &str) -> String {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default().to_string();
    if lines.next().is_some() {
        format!("{first} …")
    } else {
        first
    }
}

/// `incident show`.
pub fn show(incident: &Incident, config: &Config, format: Format, style: &Style) -> Result<String> {
    match format {
        Format::Json => json(&to_json(incident, config, true)),
        Format::Csv => Err(Error::Usage {
            message:
                "show has no CSV form; use --format json, or `incident timeline ID --format csv`"
                    .into(),
        }),
        Format::Markdown => Ok(show_markdown(incident, config, style)),
        Format::Table => Ok(show_text(incident, config, style)),
    }
}

fn milestone_rows(incident: &Incident, config: &Config, style: &Style) -> Rows {
    let mut rows = Rows::new(&["MILESTONE", "TIME", "AFTER PREVIOUS", "NOTE"]);
    let mut previous = None;
    for (name, milestone) in incident.milestones_in_order(config) {
        let gap = previous
            .map(|p: crate::time::Timestamp| {
                format!("+{}", human_duration((milestone.at - p).num_seconds()))
            })
            .unwrap_or_default();
        let note = match &milestone.source {
            MilestoneSource::Recorded => String::new(),
            MilestoneSource::Assumed(from) => format!("assumed: not recorded, taken from {from}"),
        };
        rows.push(vec![
            name.into(),
            style.zone.long(&milestone.at).into(),
            gap.into(),
            note.into(),
        ]);
        previous = Some(milestone.at);
    }
    rows
}

fn duration_rows(incident: &Incident, config: &Config) -> Rows {
    let mut rows = Rows::new(&["DURATION", "FROM → TO", "VALUE"]);
    for (name, span) in config.metrics.incident_spans() {
        let (from, to) = (&span.from, &span.to);
        let value = incident
            .between(from, to)
            .map(human_duration)
            .unwrap_or_else(|| "not yet".into());
        rows.push(vec![
            name.replace('_', " ").into(),
            format!("{from} → {to}").into(),
            value.into(),
        ]);
    }
    rows
}

fn timeline_rows(incident: &Incident, style: &Style) -> Rows {
    let mut rows = Rows::new(&["TIME", "KIND", "AUTHOR", "WHAT"]);
    for entry in &incident.timeline {
        rows.push(vec![
            style.zone.long(&entry.at).into(),
            entry.kind.as_str().into(),
            entry.author.name.as_str().into(),
            entry.text.as_str().into(),
        ]);
    }
    rows
}

fn show_text(incident: &Incident, config: &Config, style: &Style) -> String {
    let mut out = String::new();
    let field = |out: &mut String, name: &str, value: &str| {
        if !value.is_empty() {
            out.push_str(&format!("{name:<13}{}\n", terminal_safe(value)));
        }
    };
    out.push_str(&format!(
        "{}  {}\n\n",
        incident.id,
        terminal_safe(&incident.title)
    ));
    let severity = config
        .severities
        .iter()
        .find(|s| s.name == incident.severity)
        .map(|s| format!("{} ({})", s.name, s.description))
        .unwrap_or_else(|| incident.severity.clone());
    field(&mut out, "Severity", &severity);
    let open = if incident.is_open(config) {
        "open"
    } else {
        "not open"
    };
    field(
        &mut out,
        "Status",
        &format!(
            "{} since {} ({open})",
            incident.status,
            style.zone.long(&incident.status_since)
        ),
    );
    field(&mut out, "Services", &incident.services.join(", "));
    // Stakeholder updates (issue 14).
    if let Some(due) = crate::comms::due_line(config, incident, style.now) {
        field(&mut out, "Comms", &due);
    }
    field(&mut out, "Summary", &incident.summary);
    field(
        &mut out,
        "Resolution",
        incident.resolution.as_deref().unwrap_or(""),
    );
    field(
        &mut out,
        "Duplicate",
        incident.duplicate_of.as_deref().unwrap_or(""),
    );
    field(&mut out, "Caused by", &incident.caused_by.join(", "));
    field(&mut out, "Declared by", &incident.declared_by.name);
    field(&mut out, "Folder", &incident.folder);
    if !incident.roles.is_empty() {
        out.push_str("\nRoles\n");
        for (role, person) in &incident.roles {
            out.push_str(&format!("  {role:<12}{}\n", terminal_safe(person)));
        }
    }
    if !incident.links.is_empty() {
        out.push_str("\nLinks\n");
        for link in &incident.links {
            out.push_str(&format!("  {}\n", terminal_safe(link)));
        }
    }
    out.push_str(&format!("\nMilestones (times in {})\n", style.zone.name()));
    out.push_str(&milestone_rows(incident, config, style).table(style));
    out.push_str("\nDurations\n");
    out.push_str(&duration_rows(incident, config).table(style));
    out.push_str("\nTimeline\n");
    out.push_str(&timeline_rows(incident, style).table(style));
    for anomaly in &incident.anomalies {
        out.push_str(&format!(
            "\nwarning: {} (event {})\n",
            anomaly.message, anomaly.event
        ));
    }
    out
}

fn show_markdown(incident: &Incident, config: &Config, style: &Style) -> String {
    let mut out = format!("# {}: {}\n\n", incident.id, markdown_cell(&incident.title));
    let mut facts = Rows::new(&["Field", "Value"]);
    facts.push(vec!["Severity".into(), incident.severity.as_str().into()]);
    facts.push(vec![
        "Status".into(),
        format!(
            "{} since {}",
            incident.status,
            style.zone.long(&incident.status_since)
        )
        .into(),
    ]);
    facts.push(vec!["Services".into(), incident.services.join(", ").into()]);
    for (role, person) in &incident.roles {
        facts.push(vec![role.as_str().into(), person.as_str().into()]);
    }
    if !incident.summary.is_empty() {
        facts.push(vec!["Summary".into(), incident.summary.as_str().into()]);
    }
    if let Some(resolution) = &incident.resolution {
        facts.push(vec!["Resolution".into(), resolution.as_str().into()]);
    }
    for link in &incident.links {
        facts.push(vec!["Link".into(), link.as_str().into()]);
    }
    out.push_str(&facts.markdown());
    out.push_str(&format!(
        "\n## Milestones\n\nTimes in {}.\n\n",
        style.zone.name()
    ));
    out.push_str(&milestone_rows(incident, config, style).markdown());
    out.push_str("\n## Durations\n\n");
    out.push_str(&duration_rows(incident, config).markdown());
    out.push_str("\n## Timeline\n\n");
    out.push_str(&timeline_rows(incident, style).markdown());
    out
}

/// `incident timeline`.
pub fn timeline(incident: &Incident, format: Format, style: &Style) -> Result<String> {
    match format {
        Format::Json => json(&timeline_json(&incident.timeline)),
        other => timeline_rows(incident, style).render(other, style),
    }
}

#[derive(Serialize)]
struct LogJson<'a> {
    commit: &'a str,
    author: &'a str,
    author_email: &'a str,
    time: String,
    subject: &'a str,
    files: Vec<FileJson<'a>>,
}

#[derive(Serialize)]
struct FileJson<'a> {
    change: &'a str,
    path: &'a str,
}

/// `incident log`.
pub fn log(entries: &[LogEntry], format: Format, style: &Style) -> Result<String> {
    if format == Format::Json {
        let records: Vec<LogJson<'_>> = entries
            .iter()
            .map(|e| LogJson {
                commit: &e.commit,
                author: &e.author.name,
                author_email: &e.author.email,
                time: e.time.to_rfc3339(),
                subject: &e.subject,
                files: e
                    .files
                    .iter()
                    .map(|(change, path)| FileJson { change, path })
                    .collect(),
            })
            .collect();
        return json(&records);
    }
    let mut rows = Rows::new(&["COMMIT", "COMMITTED", "AUTHOR", "SUBJECT", "FILES"]);
    for entry in entries {
        let files = entry
            .files
            .iter()
            .map(|(change, path)| format!("{} {path}", change_sign(change)))
            .collect::<Vec<_>>()
            .join("\n");
        rows.push(vec![
            entry.commit[..10.min(entry.commit.len())].into(),
            style.zone.long(&entry.time).into(),
            entry.author.name.as_str().into(),
            entry.subject.as_str().into(),
            files.into(),
        ]);
    }
    rows.render(format, style)
}

fn change_sign(change: &str) -> &'static str {
    match change {
        "added" => "+",
        "deleted" => "-",
        _ => "~",
    }
}
