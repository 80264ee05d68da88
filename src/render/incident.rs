//! Incidents, timelines and audit trails in every output format.

use std::collections::BTreeMap;

use comfy_table::Color;
use serde::Serialize;

use super::{Format, Rows, Style, Value, json, markdown_cell, terminal_safe};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::event::Change;
use crate::model::incident::{Incident, Measure, MilestoneSource, TimelineEntry};
use crate::ops::history::LogEntry;
use crate::ops::update::UpdateOutcome;
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
    /// Status changes in effective order, with the time spent in each state
    /// (null when unknown or still running) and why a time is assumed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_changes: Option<Vec<StatusChangeJson<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<TimelineJson<'a>>>,
}

#[derive(Debug, Serialize)]
pub struct PostmortemDueJson<'a> {
    pub since: String,
    pub branch: &'a str,
}

#[derive(Debug, Serialize)]
pub struct StatusChangeJson<'a> {
    pub state: &'a str,
    pub at: String,
    pub seconds_in_state: Option<i64>,
    /// `null` for a stated or recorded time; otherwise why it is assumed.
    pub assumed: Option<String>,
    pub event: Option<&'a str>,
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
    /// `null` when the time is as stated or recorded; else why it is assumed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assumed: Option<String>,
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
        status_changes: with_timeline.then(|| {
            incident
                .time_in_states()
                .into_iter()
                .zip(&incident.transitions)
                .map(|((_, _, measure), t)| StatusChangeJson {
                    state: &t.to,
                    at: t.at.to_rfc3339(),
                    seconds_in_state: match measure {
                        Measure::Measured(seconds) => Some(seconds),
                        _ => None,
                    },
                    assumed: (!t.timing.is_fact()).then(|| t.timing.explain(&config.zone())),
                    event: t.event.as_deref(),
                })
                .collect()
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
            assumed: (!e.timing.is_fact()).then(|| e.timing.explain(&crate::time::Zone::Utc)),
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

/// Age of an open incident (since it started), or how long a closed one
/// lasted (only when both ends were recorded).
pub fn age_or_duration(incident: &Incident, config: &Config, style: &Style) -> String {
    match age_seconds(incident, config, style) {
        Some(age) => format!("{} open", human_duration(age)),
        None if incident.is_open(config) => String::new(),
        None => match duration_seconds(incident) {
            Some(seconds) => format!("lasted {}", human_duration(seconds)),
            None if incident.milestone("resolved").is_some() => "lasted ?".into(),
            None => String::new(),
        },
    }
}

/// Seconds an open incident has been open, since it started.
pub fn age_seconds(incident: &Incident, config: &Config, style: &Style) -> Option<i64> {
    let started = incident.milestone("started")?;
    incident
        .is_open(config)
        .then(|| (style.now - started).num_seconds())
}

/// Seconds from started to resolved, when both were recorded.
pub fn duration_seconds(incident: &Incident) -> Option<i64> {
    incident.between("started", "resolved")
}

/// `incident list`: a table for people; CSV and JSON with durations as
/// numbers of seconds.
pub fn list(
    incidents: &[Incident],
    config: &Config,
    format: Format,
    style: &Style,
) -> Result<String> {
    if format == Format::Json {
        #[derive(Serialize)]
        struct Listed<'a> {
            #[serde(flatten)]
            incident: IncidentJson<'a>,
            age_seconds: Option<i64>,
            duration_seconds: Option<i64>,
        }
        let records: Vec<Listed<'_>> = incidents
            .iter()
            .map(|i| Listed {
                incident: to_json(i, config, false),
                age_seconds: age_seconds(i, config, style),
                duration_seconds: duration_seconds(i),
            })
            .collect();
        return json(&records);
    }
    if format == Format::Csv {
        let mut rows = Rows::new(&[
            "ID",
            "SEV",
            "STATUS",
            "TITLE",
            "STARTED",
            "AGE_SECONDS",
            "DURATION_SECONDS",
            "COMMANDER",
        ]);
        let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
        for incident in incidents {
            rows.push(vec![
                incident.id.as_str().into(),
                incident.severity.as_str().into(),
                incident.status.as_str().into(),
                incident.title.as_str().into(),
                incident
                    .milestone("started")
                    .map(|t| style.zone.convert(&t).to_rfc3339())
                    .unwrap_or_default()
                    .into(),
                number(age_seconds(incident, config, style)).into(),
                number(duration_seconds(incident)).into(),
                incident.commander().unwrap_or("").into(),
            ]);
        }
        return rows.render(format, style);
    }
    // Narrow enough for 80 columns: the title last, wrapping between words.
    let mut rows = Rows::new(&[
        "ID",
        "SEV",
        "STATUS",
        "STARTED",
        "AGE",
        "COMMANDER",
        "TITLE",
    ])
    .wrap_column("TITLE")
    .keep_whole(&["ID", "SEV", "STARTED", "AGE"]);
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
            incident
                .milestone("started")
                .map(|t| started_text(style, &t, format))
                .unwrap_or_default()
                .into(),
            age_or_duration(incident, config, style).into(),
            incident.commander().unwrap_or("").into(),
            first_line(&incident.title).into(),
        ]);
    }
    rows.render(format, style)
}

/// `Nov 24 03:40` this year, `2025-11-24` before; the full time in Markdown.
fn started_text(style: &Style, t: &crate::time::Timestamp, format: Format) -> String {
    use chrono::Datelike;
    let local = style.zone.convert(t);
    if format == Format::Markdown {
        style.zone.short(t)
    } else if local.year() == style.zone.convert(&style.now).year() {
        local.format("%b %d %H:%M").to_string()
    } else {
        local.format("%Y-%m-%d").to_string()
    }
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
    let mut rows = Rows::new(&["MILESTONE", "TIME", "AFTER PREVIOUS", "NOTE"])
        .keep_whole(&["TIME", "AFTER PREVIOUS"]);
    let mut previous: Option<&crate::model::incident::Milestone> = None;
    for (name, milestone) in incident.milestones_in_order(config) {
        // No gap is measured from or to an assumed time.
        let gap = previous
            .filter(|p| p.is_recorded() && milestone.is_recorded())
            .map(|p| format!("+{}", human_duration((milestone.at - p.at).num_seconds())))
            .unwrap_or_default();
        rows.push(vec![
            name.into(),
            style.zone.compact(&milestone.at).into(),
            gap.into(),
            milestone_note(incident, config, style, name).into(),
        ]);
        previous = Some(milestone);
    }
    rows
}

/// Why a milestone's time is assumed; empty when somebody recorded it.
pub fn milestone_note(incident: &Incident, config: &Config, style: &Style, name: &str) -> String {
    let Some(milestone) = incident.milestones.get(name) else {
        return String::new();
    };
    let MilestoneSource::Assumed(from) = &milestone.source else {
        return String::new();
    };
    // Written down without a time, and placed earlier by the replay.
    if let Some(timing) = incident.milestone_timing.get(name) {
        return timing.explain(&style.zone);
    }
    let _ = config;
    if incident.milestone(from) == Some(milestone.at) {
        format!("assumed: not recorded, taken from {from}")
    } else {
        format!("assumed: not recorded, no later than {from}")
    }
}

/// A duration for people: the time, or why it is unknown.
fn measure_text(incident: &Incident, config: &Config, measure: Measure) -> String {
    match measure {
        Measure::Measured(seconds) => human_duration(seconds),
        Measure::Assumed(name) => format!("unknown ({name} assumed)"),
        Measure::Missing(name) if incident.is_open(config) => format!("not yet ({name})"),
        Measure::Missing(name) => format!("unknown: no {name}"),
    }
}

fn duration_rows(incident: &Incident, config: &Config) -> Rows {
    let mut rows = Rows::new(&["DURATION", "FROM → TO", "VALUE"]).keep_whole(&["VALUE"]);
    for (name, span) in config.metrics.incident_spans() {
        let (from, to) = (&span.from, &span.to);
        let value = measure_text(incident, config, incident.measure(from, to));
        rows.push(vec![
            name.replace('_', " ").into(),
            format!("{from} → {to}").into(),
            value.into(),
        ]);
    }
    rows
}

/// The hint under tables that show assumed times.
fn assumed_hint(incident: &Incident) -> Option<String> {
    let assumed: Vec<&str> = incident
        .milestones
        .iter()
        .filter(|(_, m)| !m.is_recorded())
        .map(|(name, _)| name.as_str())
        .collect();
    if assumed.is_empty() {
        return None;
    }
    let options: Vec<String> = assumed
        .iter()
        .map(|name| format!("--milestone {name}=TIME"))
        .collect();
    let command = format!("  incident update {} {}", incident.id, options.join(" "));
    // Several milestones: one per line, so the command fits 80 columns.
    let command = if command.chars().count() > 78 {
        format!(
            "  incident update {} {}",
            incident.id,
            options.join(" \\\n      ")
        )
    } else {
        command
    };
    let head = format!("Assumed ({}): no measurements.", assumed.join(", "));
    let gap = if head.chars().count() > 52 { '\n' } else { ' ' };
    Some(format!("{head}{gap}Record the real times with\n{command}"))
}

fn state_rows(incident: &Incident, config: &Config, style: &Style) -> Rows {
    let mut rows = Rows::new(&["STATE", "ENTERED", "TIME IN STATE", "NOTE"])
        .keep_whole(&["ENTERED", "TIME IN STATE"]);
    // `time_in_states` leaves out confirmations of the current status.
    let changes = incident
        .transitions
        .iter()
        .filter(|t| t.from.as_deref() != Some(t.to.as_str()));
    for ((state, entered, measure), transition) in
        incident.time_in_states().into_iter().zip(changes)
    {
        let mut note = transition.timing.explain(&style.zone);
        let value = match measure {
            Measure::Missing(_) if config.is_open(&state) => format!(
                "{} so far",
                human_duration((style.now - entered).num_seconds())
            ),
            Measure::Missing(_) => String::new(),
            Measure::Assumed(next) => {
                if note.is_empty() {
                    note = format!("ends when {next} began, whose time is not known");
                }
                "unknown".into()
            }
            other => measure_text(incident, config, other),
        };
        rows.push(vec![
            state.into(),
            style.zone.compact(&entered).into(),
            value.into(),
            note.into(),
        ]);
    }
    rows
}

const ASSUMED_LEGEND: &str =
    "≤ written down without a time: happened no later than that (≥: no earlier)\n";

/// The timeline in order of when things happened. Tables show the time
/// in the zone without the offset (the heading names the zone), marked
/// `≤` or `≥` when it is assumed; CSV gives RFC 3339 in the zone.
fn timeline_rows(incident: &Incident, style: &Style, format: Format) -> Rows {
    let mut rows = Rows::new(&["TIME", "KIND", "AUTHOR", "WHAT"])
        .wrap_column("WHAT")
        .keep_whole(&["TIME"]);
    for entry in &incident.timeline {
        let time = match format {
            Format::Csv => style.zone.convert(&entry.at).to_rfc3339(),
            Format::Markdown => style.zone.long(&entry.at),
            _ => style.zone.compact(&entry.at),
        };
        let mark = match (&entry.timing, format) {
            (_, Format::Csv) => "",
            (crate::model::incident::Timing::NoLaterThan { .. }, _) => "≤ ",
            (crate::model::incident::Timing::NoEarlierThan { .. }, _) => "≥ ",
            _ => "",
        };
        rows.push(vec![
            format!("{mark}{time}").into(),
            entry.kind.as_str().into(),
            entry.author.name.as_str().into(),
            entry.text.as_str().into(),
        ]);
    }
    rows
}

/// On a terminal, a long line wraps between words, continuing under
/// column `indent` (a word too long for a line, such as a URL, breaks);
/// elsewhere it stays one line.
pub fn fit_line(line: &str, indent: usize) -> String {
    let Some(width) = super::terminal_width() else {
        return line.to_string();
    };
    let room = width.saturating_sub(indent).max(1);
    // Leading spaces stay: the first word goes after them.
    let body = line.trim_start_matches(' ');
    let mut out = line[..line.len() - body.len()].to_string();
    let lead = out.len();
    for word in body.split(' ').flat_map(|word| super::pieces(word, room)) {
        let length = out.lines().last().unwrap_or_default().chars().count();
        if length > indent && length + 1 + word.chars().count() > width {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
        } else if out.len() > lead {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

fn show_text(incident: &Incident, config: &Config, style: &Style) -> String {
    let mut out = String::new();
    let field = |out: &mut String, name: &str, value: &str| {
        if !value.is_empty() {
            out.push_str(&fit_line(
                &format!("{name:<13}{}", terminal_safe(value)),
                13,
            ));
            out.push('\n');
        }
    };
    out.push_str(&fit_line(
        &format!("{}  {}", incident.id, terminal_safe(&incident.title)),
        incident.id.len() + 2,
    ));
    out.push_str("\n\n");
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
            out.push_str(&fit_line(
                &format!("  {role:<12}{}", terminal_safe(person)),
                14,
            ));
            out.push('\n');
        }
    }
    if !incident.links.is_empty() {
        out.push_str("\nLinks\n");
        for link in &incident.links {
            out.push_str(&fit_line(&format!("  {}", terminal_safe(link)), 2));
            out.push('\n');
        }
    }
    out.push_str(&format!("\nMilestones (times in {})\n", style.zone.name()));
    out.push_str(&milestone_rows(incident, config, style).table(style));
    out.push_str("\nDurations\n");
    out.push_str(&duration_rows(incident, config).table(style));
    out.push_str("\nTime in each state\n");
    out.push_str(&state_rows(incident, config, style).table(style));
    if let Some(hint) = assumed_hint(incident) {
        out.push_str(&format!("\n{hint}\n"));
    }
    out.push_str(&format!("\nTimeline (times in {})\n", style.zone.name()));
    out.push_str(&timeline_rows(incident, style, Format::Table).table(style));
    if incident.timeline.iter().any(|e| !e.timing.is_fact()) {
        out.push_str(ASSUMED_LEGEND);
    }
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
    out.push_str("\n## Time in each state\n\n");
    out.push_str(&state_rows(incident, config, style).markdown());
    if let Some(hint) = assumed_hint(incident) {
        out.push_str(&format!("\n{}\n", markdown_cell(&hint)));
    }
    out.push_str("\n## Timeline\n\n");
    out.push_str(&timeline_rows(incident, style, Format::Markdown).markdown());
    out
}

/// `incident timeline`.
pub fn timeline(incident: &Incident, format: Format, style: &Style) -> Result<String> {
    match format {
        Format::Json => json(&timeline_json(&incident.timeline)),
        Format::Table => {
            let mut text = timeline_rows(incident, style, Format::Table).table(style);
            if incident.timeline.iter().any(|e| !e.timing.is_fact()) {
                text.push_str(ASSUMED_LEGEND);
            }
            Ok(text)
        }
        other => timeline_rows(incident, style, other).render(other, style),
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
    // On a narrow terminal the files go under each commit, one a line.
    let mut rows = Rows::new(&["COMMIT", "COMMITTED", "AUTHOR", "SUBJECT", "FILES"])
        .wrap_column("FILES")
        .under_before_breaking()
        .keep_whole(&["COMMIT", "COMMITTED"]);
    for entry in entries {
        let files = entry
            .files
            .iter()
            .map(|(change, path)| format!("{} {path}", change_sign(change)))
            .collect::<Vec<_>>()
            .join("\n");
        rows.push(vec![
            entry.commit[..10.min(entry.commit.len())].into(),
            match format {
                // The zone's offset is the config's: tables leave it out.
                Format::Table => style.zone.compact(&entry.time),
                _ => style.zone.long(&entry.time),
            }
            .into(),
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

/// What an update recorded, for the person who typed it: one line naming
/// each change and the instant it was recorded at (with the day, in the
/// configured zone), and notes on anything assumed or placed in the past.
pub fn update_summary(outcome: &UpdateOutcome, style: &Style) -> (String, Vec<String>) {
    let zone = &style.zone;
    let when = |t: &crate::time::Timestamp| zone.describe(t, &style.now);
    let mut parts: Vec<String> = Vec::new();
    let mut notes = 0;
    for event in &outcome.events {
        let part = match &event.change {
            Change::Status { to, from, .. } => match from {
                Some(from) => format!("status {from} → {to}"),
                None => format!("status {to}"),
            },
            Change::Severity { to, from } => match from {
                Some(from) => format!("severity {from} → {to}"),
                None => format!("severity {to}"),
            },
            Change::Note { .. } => {
                notes += 1;
                continue;
            }
            Change::Role { role, name, .. } => match name {
                Some(name) => format!("{role} {name}"),
                None => format!("{role} unassigned"),
            },
            Change::Service { name, removed } => {
                format!(
                    "service {name} {}",
                    if *removed { "removed" } else { "added" }
                )
            }
            Change::Link { url } => format!("link {url}"),
            Change::Milestone { name, time } => match time {
                Some(t) if *t == event.at => format!("milestone {name}"),
                Some(t) => format!("milestone {name} at {}", when(t)),
                None => format!("milestone {name} cleared"),
            },
            Change::Title { .. } => "the title".into(),
            Change::Summary { .. } => "the summary".into(),
            Change::Cause { rev } => format!("cause {rev}"),
            Change::PostmortemDue { .. } => "a postmortem due".into(),
            Change::Comms(update) => format!("a {} update", update.audience),
        };
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    match notes {
        0 => {}
        1 => parts.push("a note".into()),
        n => parts.push(format!("{n} notes")),
    }
    let list = match parts.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => "nothing".into(),
    };
    let incident = &outcome.incident;
    let line = format!(
        "{}: recorded {}\n  at {}, in commit {}\n",
        incident.id,
        terminal_safe(&list),
        when(&outcome.at),
        &outcome.committed.commit.to_string()[..10],
    );
    let mut notices: Vec<String> = outcome.notices.clone();
    // A status change that went into the past, before later ones.
    for event in &outcome.events {
        let Change::Status { to, .. } = &event.change else {
            continue;
        };
        let transitions = &incident.transitions;
        let Some(index) = transitions
            .iter()
            .position(|t| t.event.as_deref() == Some(&event.id))
        else {
            continue;
        };
        if let Some(next) = transitions.get(index + 1) {
            notices.push(format!(
                "the change to '{to}' at {} goes in before the change to '{}' at {}: the incident stays '{}'",
                when(&transitions[index].at),
                next.to,
                when(&next.at),
                incident.status
            ));
        }
    }
    (line, notices)
}
