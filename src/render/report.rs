//! `incident report` as text: a table for terminals, Markdown and HTML with
//! definitions, charts (SVG from plotters; text on standard output, where
//! a Markdown viewer has no files to show) and the incidents behind every
//! figure, CSV and JSON for programs. Same report in, same bytes out.
//!
//! Every text that came from the repository (titles, services,
//! severities, states, tags) is escaped for the output it goes into.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Timelike};
use plotters::prelude::*;

use super::{Format, Rows, Style, Value, escape, json, terminal_safe};
use crate::error::{Error, Result};
use crate::metrics::figures::{BUCKETS, Contribution, FigureTrace, TraceRow, Traced, instant};
use crate::metrics::stats::{Comparison, EMPTY, Summary, Verdict};
use crate::metrics::{Metrics, Report};
use crate::time::{Zone, human_duration};

/// Output format of a report: the shared formats plus HTML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Table,
    Json,
    Csv,
    Markdown,
    Html,
}

impl ReportFormat {
    pub fn from_format(format: Format, html: bool) -> ReportFormat {
        if html {
            return ReportFormat::Html;
        }
        match format {
            Format::Table => ReportFormat::Table,
            Format::Json => ReportFormat::Json,
            Format::Csv => ReportFormat::Csv,
            Format::Markdown => ReportFormat::Markdown,
        }
    }
}

// --- Escaping, one function per context.

/// A label inside a chart or a fenced text block: no control characters
/// (not even escaped, XML forbids most), no backticks (they would end a
/// fence), at most `max` characters.
fn chart_label(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() || c == '`' { ' ' } else { c })
        .collect();
    if clean.chars().count() > max {
        let cut: String = clean.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        clean
    }
}

/// Definitions mark names as `code`: kept in Markdown, `<code>` in HTML.
fn html_definition(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in escape::html(text).split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str("<code>");
            out.push_str(part);
            out.push_str("</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// What a GitHub or GitLab heading's anchor is: lower case, letters,
/// digits, `-` and `_` kept, spaces as `-`, everything else dropped.
fn anchor(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// An id for an HTML element from a figure key.
fn html_id(key: &str) -> String {
    let safe: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("fig-{safe}")
}

// --- The figures, as rows.

/// How a figure compares with the earlier periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A duration: medians compare.
    Duration,
    /// A count over the period: compare with the average per period.
    Flow,
    /// A state at the end of the period: compare with its value when the
    /// period began (the end of the earlier periods).
    Stock,
    /// Change failure rate.
    Rate,
}

/// One row of the figures table.
struct Figure {
    key: String,
    label: String,
    definition: String,
    kind: Kind,
    current: Cell,
    previous: Cell,
}

enum Cell {
    Duration(Summary),
    Count(u64),
    Rate(Option<f64>, u64, u64),
    Unavailable(String),
    /// The repository records none of the period: not a zero.
    NoRecord,
}

/// Reads one duration figure out of a period's metrics.
type SummaryOf = fn(&Metrics) -> &Summary;

/// The duration figures with a definition from the config: key, label, getter.
const SPANS: [(&str, &str, SummaryOf); 7] = [
    ("time_to_detect", "Time to detect", |m| &m.time_to_detect),
    ("time_to_acknowledge", "Time to acknowledge", |m| {
        &m.time_to_acknowledge
    }),
    ("time_to_declare", "Time to declare", |m| &m.time_to_declare),
    ("time_to_mitigate", "Time to mitigate", |m| {
        &m.time_to_mitigate
    }),
    ("time_to_resolve", "Time to resolve", |m| &m.time_to_resolve),
    ("time_between_incidents", "Time between incidents", |m| {
        &m.time_between_incidents
    }),
    ("postmortem_lead_time", "Postmortem lead time", |m| {
        &m.postmortem_lead_time
    }),
];

fn figures(report: &Report, metrics: &Metrics, previous: Option<&Metrics>) -> Vec<Figure> {
    let def = |k: &str| {
        report
            .definitions
            .get(k)
            .map(|d| format!("`{d}`"))
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    let mut duration =
        |key: &str, label: &str, definition: String, get: &dyn Fn(&Metrics) -> Summary| {
            out.push(Figure {
                key: key.into(),
                label: label.into(),
                definition,
                kind: Kind::Duration,
                current: Cell::Duration(get(metrics)),
                previous: previous
                    .map_or(Cell::Unavailable(String::new()), |p| Cell::Duration(get(p))),
            });
        };
    for (key, label, get) in SPANS {
        duration(key, label, def(key), &|m| get(m).clone());
    }
    duration(
        "recording_lag",
        "Recording lag",
        "stated time of an event → the commit that recorded it on this branch (historical incidents left out)".into(),
        &|m| m.recording_lag.summary.clone(),
    );
    let mut states: Vec<&String> = metrics.time_in_state.keys().collect();
    if let Some(p) = previous {
        for k in p.time_in_state.keys() {
            if !states.contains(&k) {
                states.push(k);
            }
        }
    }
    states.sort();
    for state in states {
        let get = |m: &Metrics| {
            m.time_in_state
                .get(state)
                .cloned()
                .unwrap_or_else(|| EMPTY.clone())
        };
        out.push(Figure {
            key: format!("time_in_state.{state}"),
            label: format!("Time in {state}"),
            definition: format!("entering `{state}` → the next status change, summed per incident"),
            kind: Kind::Duration,
            current: Cell::Duration(get(metrics)),
            previous: previous.map_or(Cell::Unavailable(String::new()), |p| Cell::Duration(get(p))),
        });
    }
    let mut count =
        |key: &str, label: &str, definition: &str, kind: Kind, get: &dyn Fn(&Metrics) -> u64| {
            out.push(Figure {
                key: key.into(),
                label: label.into(),
                definition: definition.into(),
                kind,
                current: Cell::Count(get(metrics)),
                previous: previous
                    .map_or(Cell::Unavailable(String::new()), |p| Cell::Count(get(p))),
            });
        };
    count(
        "incidents",
        "Incidents",
        "incidents whose `started` lies in the period",
        Kind::Flow,
        &|m| m.incidents,
    );
    count(
        "historical",
        "Historical incidents",
        "of those, recorded as historical (written down after the fact: no postmortem expected, no recording lag)",
        Kind::Flow,
        &|m| m.historical,
    );
    count(
        "open_at_end",
        "Open at end of period",
        "incidents in an open state at the end of the period",
        Kind::Stock,
        &|m| m.open_at_end,
    );
    count(
        "postmortems_overdue",
        "Postmortems overdue",
        "postmortem required and due (`resolved` + due days for the severity) by the end of the period, and not published by then; historical incidents expect none",
        Kind::Stock,
        &|m| m.postmortems_overdue,
    );
    count(
        "late_recorded_events",
        "Events recorded late",
        "events and declarations whose recording lag exceeds `late_after_seconds`",
        Kind::Flow,
        &|m| m.recording_lag.late,
    );
    let cfr = |m: &Metrics| {
        let c = &m.change_failure_rate;
        if c.available {
            Cell::Rate(c.rate, c.failed, c.deployments)
        } else {
            Cell::Unavailable(c.reason.clone().unwrap_or_default())
        }
    };
    out.push(Figure {
        key: "change_failure_rate".into(),
        label: "Change failure rate".into(),
        definition: "deployments named as the cause of an incident ÷ deployments (tags matching `[deployments] tag_pattern`) in the period".into(),
        kind: Kind::Rate,
        current: cfr(metrics),
        previous: previous.map_or(Cell::Unavailable(String::new()), cfr),
    });
    let mut actions =
        |key: &str, label: &str, definition: &str, kind: Kind, get: &dyn Fn(&Metrics) -> u64| {
            out.push(Figure {
                key: format!("action_items.{key}"),
                label: label.into(),
                definition: definition.into(),
                kind,
                current: Cell::Count(get(metrics)),
                previous: previous
                    .map_or(Cell::Unavailable(String::new()), |p| Cell::Count(get(p))),
            });
        };
    actions(
        "opened",
        "Action items opened",
        "action items (of any incident) added during the period",
        Kind::Flow,
        &|m| m.action_items.opened,
    );
    actions(
        "done",
        "Action items done",
        "action items (of any incident) marked done during the period",
        Kind::Flow,
        &|m| m.action_items.done,
    );
    actions(
        "done_within_due",
        "Action items done in time",
        "of those done, how many on or before their due date (or without one)",
        Kind::Flow,
        &|m| m.action_items.done_within_due,
    );
    actions(
        "overdue",
        "Action items overdue",
        "action items (of any incident, whenever it started) open at the end of the period whose due date is before the day it ends on",
        Kind::Stock,
        &|m| m.action_items.overdue,
    );
    for figure in &mut out {
        if !metrics.available {
            figure.current = Cell::NoRecord;
        }
        if previous.is_some_and(|p| !p.available) {
            figure.previous = Cell::NoRecord;
        }
    }
    out
}

fn opt_duration(v: Option<i64>) -> String {
    v.map(human_duration).unwrap_or_else(|| "–".into())
}

/// "2 (1 still open, 1 out of order)".
fn reasons_text(s: &Summary) -> String {
    let reasons: Vec<String> = s
        .excluded_by_reason
        .iter()
        .map(|(k, v)| format!("{v} {}", k.replace('_', " ")))
        .collect();
    reasons.join(", ")
}

fn excluded_text(s: &Summary) -> String {
    if s.excluded == 0 {
        return "0".into();
    }
    format!("{} ({})", s.excluded, reasons_text(s))
}

/// What a figure says for time the repository does not record.
const NO_RECORD: &str = "no record";

/// `n`, `median`, `p90`, `mean` cells.
fn cells(cell: &Cell) -> [String; 4] {
    match cell {
        Cell::Duration(s) => [
            s.n.to_string(),
            opt_duration(s.median_seconds),
            opt_duration(s.p90_seconds),
            opt_duration(s.mean_seconds),
        ],
        Cell::Count(c) => [c.to_string(), String::new(), String::new(), String::new()],
        Cell::Rate(rate, failed, n) => [
            n.to_string(),
            rate.map(|r| format!("{:.1}% ({failed} of {n})", r * 100.0))
                .unwrap_or_else(|| "– (no deployments)".into()),
            String::new(),
            String::new(),
        ],
        Cell::Unavailable(_) => ["–".into(), "n/a".into(), String::new(), String::new()],
        Cell::NoRecord => [
            NO_RECORD.into(),
            String::new(),
            String::new(),
            String::new(),
        ],
    }
}

fn left_out_cell(cell: &Cell, with_reasons: bool) -> String {
    match cell {
        Cell::Duration(s) if with_reasons => excluded_text(s),
        Cell::Duration(s) => s.excluded.to_string(),
        _ => String::new(),
    }
}

/// How many periods of the report's length the earlier window covers.
fn earlier_periods(report: &Report) -> f64 {
    report.previous.periods.unwrap_or(4.0)
}

/// The earlier value and the change.
fn change(report: &Report, figure: &Figure) -> (String, String) {
    let periods = earlier_periods(report);
    match (&figure.current, &figure.previous) {
        (Cell::Duration(c), Cell::Duration(p)) => {
            let change = match (c.median_seconds, p.median_seconds) {
                (Some(a), Some(b)) => {
                    let d = a - b;
                    if d >= 0 {
                        format!("+{}", human_duration(d))
                    } else {
                        human_duration(d)
                    }
                }
                _ => "–".into(),
            };
            (opt_duration(p.median_seconds), change)
        }
        (Cell::Count(_), Cell::Count(_)) if figure.kind == Kind::Flow && periods <= 0.0 => {
            ("–".into(), "–".into())
        }
        (Cell::Count(c), Cell::Count(p)) if figure.kind == Kind::Flow => {
            let per = *p as f64 / periods;
            let d = *c as f64 - per;
            (format!("{per:.2}"), format!("{d:+.2}"))
        }
        (Cell::Count(c), Cell::Count(p)) => {
            let d = *c as i64 - *p as i64;
            (p.to_string(), format!("{d:+}"))
        }
        (_, Cell::NoRecord) => (NO_RECORD.into(), "–".into()),
        (Cell::Rate(Some(c), _, _), Cell::Rate(Some(p), _, _)) => (
            format!("{:.1}%", p * 100.0),
            format!("{:+.1} points", (c - p) * 100.0),
        ),
        _ => ("–".into(), "–".into()),
    }
}

/// Whether a change is distinguishable from noise, in words.
fn verdict_text(comparison: Option<&Comparison>) -> String {
    let Some(c) = comparison else {
        return String::new();
    };
    let p = |p: Option<f64>| p.map(|p| format!("{p:.3}")).unwrap_or_default();
    match c.verdict {
        Verdict::TooFew => "too few incidents to compare".into(),
        Verdict::NoHistory => "no earlier record".into(),
        Verdict::Noise => format!("noise (p = {})", p(c.p_value)),
        Verdict::Distinguishable => format!("distinguishable (p = {})", p(c.p_value)),
    }
}

// --- Dates.

/// A time the report wrote as RFC 3339 (in the configured zone).
fn parse(text: &str) -> Option<DateTime<chrono::FixedOffset>> {
    DateTime::parse_from_rfc3339(text).ok()
}

/// A period in plain dates: `Mon 16 Nov 2026 to Sun 22 Nov 2026` when it
/// runs from midnight to midnight (the end is exclusive, so the last day
/// shown is the one before), with times otherwise.
pub fn plain_range(since: &str, until: &str) -> String {
    let (Some(a), Some(b)) = (parse(since), parse(until)) else {
        return format!("{since} to {until}");
    };
    let midnight = |t: &DateTime<chrono::FixedOffset>| t.num_seconds_from_midnight() == 0;
    if midnight(&a) && midnight(&b) {
        let last = b - Duration::days(1);
        if last.date_naive() <= a.date_naive() {
            return a.format("%a %-d %b %Y").to_string();
        }
        format!(
            "{} to {}",
            a.format("%a %-d %b %Y"),
            last.format("%a %-d %b %Y")
        )
    } else {
        format!(
            "{} to {}",
            a.format("%a %-d %b %Y %H:%M"),
            b.format("%a %-d %b %Y %H:%M")
        )
    }
}

/// The header lines: title, period, comparison, as-of commit.
fn header(report: &Report) -> (String, Vec<String>) {
    let title = format!("Incident report {}", report.period.label);
    let mut lines = vec![format!(
        "Period: {} ({})",
        plain_range(&report.period.since, &report.period.until),
        report.timezone
    )];
    lines.extend(coverage_line(report));
    // How many of the report's periods the earlier window spans (when the
    // period is cut short by now, `previous.periods` counts covered parts).
    let seconds = |since: &str, until: &str| match (parse(since), parse(until)) {
        (Some(a), Some(b)) => (b - a).num_seconds() as f64,
        _ => 0.0,
    };
    let length = seconds(&report.period.since, &report.period.until);
    let periods = match earlier_periods(report) {
        p if p <= 0.0 || length <= 0.0 => p,
        _ => seconds(&report.previous.since, &report.previous.until) / length,
    };
    let earlier = plain_range(&report.previous.since, &report.previous.until);
    if matches!(report.period.covered, Some(None)) {
        lines.push("No comparison: the repository records none of the period.".into());
    } else if periods <= 0.0 {
        lines.push("No comparison: the repository records no incident before the period.".into());
    } else if periods >= 3.9999 {
        lines.push(format!("Compared with: {earlier} (the 4 periods before)"));
    } else {
        lines.push(format!("Compared with: {earlier} ({periods:.2} periods:"));
        let start = parse(&report.previous.since)
            .map(|t| t.format("%-d %b %Y").to_string())
            .unwrap_or_default();
        lines.push(format!("  the repository's record starts on {start})"));
    }
    if let Some(as_of) = &report.as_of {
        lines.push(format!("As of commit {} ({})", as_of.commit, as_of.time));
    }
    (title, lines)
}

/// What of the period the figures cover, when not all of it: time before
/// the repository's record, or that has not happened, is not a quiet time.
fn coverage_line(report: &Report) -> Option<String> {
    let covered = report.period.covered.as_ref()?;
    let gaps = report.period.not_covered.as_deref().unwrap_or_default();
    let Some(c) = covered else {
        let reason = report
            .metrics
            .reason
            .as_deref()
            .unwrap_or("the repository records none of the period");
        return Some(format!(
            "No record: {reason}; every figure says \"{NO_RECORD}\", not zero."
        ));
    };
    if gaps.is_empty() {
        return None;
    }
    let left: Vec<String> = gaps
        .iter()
        .map(|g| {
            let why = match g.reason {
                "before_record" => "before the repository's record",
                "shallow_clone" => "before this shallow clone's history",
                _ => "not happened yet",
            };
            format!("{} ({why})", plain_range(&g.since, &g.until))
        })
        .collect();
    Some(format!(
        "Figures cover {} ({:.0}% of the period); no record of {}.",
        plain_range(&c.since, &c.until),
        c.fraction * 100.0,
        left.join(" and ")
    ))
}

/// "After the period" note: incidents a period that ended before this
/// week would hide.
fn after_note(report: &Report) -> Option<String> {
    let after = report.after_period.as_ref().filter(|a| a.incidents > 0)?;
    let weeks: Vec<String> = after
        .weeks
        .iter()
        .map(|w| format!("{} {}", w.week, w.count))
        .collect();
    let last = after
        .weeks
        .last()
        .map(|w| w.week.clone())
        .unwrap_or_default();
    Some(format!(
        "After the period: {} incident{} started since ({}), {} still open; see `incident report --week {last}`.",
        after.incidents,
        if after.incidents == 1 { "" } else { "s" },
        weeks.join(", "),
        after.open
    ))
}

fn unavailable_notes(report: &Report, metrics: &Metrics) -> Vec<String> {
    figures(report, metrics, None)
        .into_iter()
        .filter_map(|f| match f.current {
            Cell::Unavailable(reason) => Some(format!("{}: not available: {reason}", f.label)),
            _ => None,
        })
        .collect()
}

// --- Terminal table.

/// A line of at most 80 columns, the rest on indented lines.
fn wrap80(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while rest.chars().count() > 80 {
        let limit = rest.char_indices().nth(80).map_or(rest.len(), |(i, _)| i);
        let Some(cut) = rest[..limit].rfind(' ').filter(|&c| c > 2) else {
            break;
        };
        out.push_str(&rest[..cut]);
        out.push_str("\n  ");
        rest = &rest[cut + 1..];
    }
    out.push_str(rest);
    out
}

fn table(report: &Report, style: &Style) -> Result<String> {
    let (title, lines) = header(report);
    let lines: Vec<String> = lines.iter().map(|l| wrap80(l)).collect();
    let mut text = format!("{title}\n{}\n\n", lines.join("\n"));
    let list = figures(report, &report.metrics, Some(&report.previous_metrics));
    let mut now = Rows::new(&["FIGURE", "N", "MEDIAN", "P90", "MEAN", "LEFT OUT"]);
    for f in &list {
        let mut row: Vec<Value> = vec![f.label.clone().into()];
        row.extend(cells(&f.current).into_iter().map(Value::from));
        row.push(left_out_cell(&f.current, false).into());
        now.push(row);
    }
    text.push_str(&now.render(Format::Table, style)?);
    let left_out: Vec<String> = list
        .iter()
        .filter_map(|f| match &f.current {
            Cell::Duration(s) if s.excluded > 0 => {
                Some(format!("  {}: {}", f.label, reasons_text(s)))
            }
            _ => None,
        })
        .collect();
    if !left_out.is_empty() {
        text.push_str("Left out:\n");
        text.push_str(&terminal_safe(&left_out.join("\n")));
        text.push('\n');
    }
    for note in unavailable_notes(report, &report.metrics) {
        text.push_str(&wrap80(&terminal_safe(&note)));
        text.push('\n');
    }
    text.push('\n');
    let changes = change_rows(report, &list);
    if !changes.rows.is_empty() {
        text.push_str(&changes.render(Format::Table, style)?);
    }
    text.push_str("\nIncidents per week: ");
    let weeks: Vec<String> = report
        .incidents_per_week
        .iter()
        .map(|w| format!("{} {}", w.week, w.count))
        .collect();
    match weeks.is_empty() {
        true => text.push_str(NO_RECORD),
        // Within 80 columns, as the notes are, and never inside a week.
        false => {
            let mut column = "Incidents per week: ".len();
            for (i, week) in weeks.iter().enumerate() {
                let last = i + 1 == weeks.len();
                let item = if last {
                    week.clone()
                } else {
                    format!("{week},")
                };
                if i > 0 {
                    if column + 1 + item.chars().count() > 80 {
                        text.push_str("\n ");
                        column = 1;
                    }
                    text.push(' ');
                    column += 1;
                }
                text.push_str(&item);
                column += item.chars().count();
            }
        }
    }
    text.push('\n');
    if let Some(note) = after_note(report) {
        text.push_str(&format!("{}\n", wrap80(&note.replace('`', ""))));
    }
    for (dimension, groups) in &report.by {
        text.push_str(&format!("\nBy {dimension}\n"));
        let (headers, rows) = pivot(report, groups, &plain);
        // A column per group fits 80 columns up to four groups; more get a
        // row each, with the main figures.
        if headers.len() <= 5 {
            text.push_str(&to_rows((headers, rows)).render(Format::Table, style)?);
        } else {
            text.push_str(&group_rows(groups).render(Format::Table, style)?);
            text.push_str("(every figure per group: --format markdown, html, csv or json)\n");
        }
    }
    Ok(text)
}

/// The comparison with the earlier periods, one row per figure that has one.
fn change_rows(report: &Report, list: &[Figure]) -> Rows {
    let mut rows = Rows::new(&["CHANGE", "BEFORE", "CHANGE", "BEYOND NOISE?"]);
    rows.headers[0] = "FIGURE".into();
    for f in list {
        if matches!(f.current, Cell::Unavailable(_) | Cell::NoRecord) {
            continue;
        }
        let (before, change) = change(report, f);
        rows.push(vec![
            f.label.clone().into(),
            before.into(),
            change.into(),
            verdict_text(report.comparison.get(&f.key)).into(),
        ]);
    }
    rows
}

/// `--by`: one table, a column per group with incidents in the period.
/// `esc` escapes what came from the repository (group names, states).
fn pivot(
    report: &Report,
    groups: &BTreeMap<String, Metrics>,
    esc: &dyn Fn(&str) -> String,
) -> (Vec<String>, Vec<Vec<String>>) {
    let shown: Vec<(&String, &Metrics)> = groups.iter().filter(|(_, m)| shown(m)).collect();
    let mut headers = vec!["FIGURE".to_string()];
    headers.extend(shown.iter().map(|(name, _)| esc(name)));
    let per_group: Vec<BTreeMap<String, Figure>> = shown
        .iter()
        .map(|(_, m)| {
            figures(report, m, None)
                .into_iter()
                .map(|f| (f.key.clone(), f))
                .collect()
        })
        .collect();
    let mut rows = Vec::new();
    if per_group.is_empty() {
        return (headers, rows);
    }
    // Every group is a part of all incidents: the rows of the whole report.
    for figure in figures(report, &report.metrics, None) {
        let mut row = vec![label_for(&figure, esc)];
        for group in &per_group {
            row.push(match group.get(&figure.key).map(|f| &f.current) {
                None => "–".to_string(),
                Some(Cell::Duration(s)) if s.n == 0 => "–".to_string(),
                Some(Cell::Duration(s)) => {
                    format!("{} ({})", opt_duration(s.median_seconds), s.n)
                }
                Some(other) => cells(other)[..2]
                    .iter()
                    .filter(|c| !c.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" "),
            });
        }
        rows.push(row);
    }
    (headers, rows)
}

/// Whether `--by` shows a group: groups with nothing in the period and
/// nothing outstanding add only zeros. One rule for every format.
fn shown(m: &Metrics) -> bool {
    m.incidents > 0 || m.open_at_end > 0 || m.postmortems_overdue > 0 || m.action_items.overdue > 0
}

/// `--by` with many groups: one row per group with incidents in the
/// period or outstanding work, the main figures as columns.
fn group_rows(groups: &BTreeMap<String, Metrics>) -> Rows {
    let mut rows = Rows::new(&[
        "GROUP",
        "INCIDENTS",
        "TO MITIGATE",
        "TO RESOLVE",
        "OPEN",
        "PM OVERDUE",
    ]);
    let median = |s: &Summary| match s.n {
        0 => "–".to_string(),
        n => format!("{} ({n})", opt_duration(s.median_seconds)),
    };
    for (name, m) in groups.iter().filter(|(_, m)| shown(m)) {
        rows.push(vec![
            name.clone().into(),
            m.incidents.to_string().into(),
            median(&m.time_to_mitigate).into(),
            median(&m.time_to_resolve).into(),
            m.open_at_end.to_string().into(),
            m.postmortems_overdue.to_string().into(),
        ]);
    }
    rows
}

/// A figure's label; a state's name in it came from the config.
fn label_for(figure: &Figure, esc: &dyn Fn(&str) -> String) -> String {
    match figure.key.strip_prefix("time_in_state.") {
        Some(state) => format!("Time in {}", esc(state)),
        None => figure.label.clone(),
    }
}

fn plain(text: &str) -> String {
    text.to_string()
}

/// Plain-text headers and rows as [`Rows`] for the terminal table.
fn to_rows((headers, rows): (Vec<String>, Vec<Vec<String>>)) -> Rows {
    Rows {
        headers,
        rows: rows
            .into_iter()
            .map(|r| r.into_iter().map(Value::from).collect())
            .collect(),
        wrap: None,
        whole: Vec::new(),
        under_before_breaking: false,
    }
}

// --- CSV.

fn csv(report: &Report) -> Result<String> {
    let mut rows = Rows::new(&[
        "group",
        "figure",
        "n",
        "median_seconds",
        "p90_seconds",
        "mean_seconds",
        "excluded",
        "excluded_reasons",
        "value",
    ]);
    let mut add = |group: &str, metrics: &Metrics| {
        for figure in figures(report, metrics, None) {
            let mut row: Vec<String> = vec![group.to_string(), figure.key.clone()];
            let opt = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
            match &figure.current {
                Cell::Duration(s) => row.extend([
                    s.n.to_string(),
                    opt(s.median_seconds),
                    opt(s.p90_seconds),
                    opt(s.mean_seconds),
                    s.excluded.to_string(),
                    s.excluded_by_reason
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(";"),
                    String::new(),
                ]),
                Cell::Count(c) => {
                    row.push(c.to_string());
                    row.extend(std::iter::repeat_n(String::new(), 5));
                    row.push(c.to_string());
                }
                Cell::Rate(rate, _, n) => {
                    row.push(n.to_string());
                    row.extend(std::iter::repeat_n(String::new(), 5));
                    row.push(rate.map(|r| r.to_string()).unwrap_or_default());
                }
                Cell::Unavailable(_) => {
                    row.extend(std::iter::repeat_n(String::new(), 6));
                    row.push("not available".into());
                }
                Cell::NoRecord => {
                    row.extend(std::iter::repeat_n(String::new(), 6));
                    row.push(NO_RECORD.into());
                }
            }
            // Rows::render escapes each cell (render::csv_cell), as every CSV.
            rows.push(row.iter().map(|c| Value::from(c.as_str())).collect());
        }
    };
    add("all", &report.metrics);
    for (dimension, groups) in &report.by {
        for (name, metrics) in groups {
            add(&format!("{dimension}={name}"), metrics);
        }
    }
    for week in &report.incidents_per_week {
        let mut row: Vec<Value> = vec![
            "all".into(),
            format!("incidents_per_week.{}", week.week).into(),
        ];
        row.extend(std::iter::repeat_n(Value::from(""), 6));
        row.push(week.count.to_string().into());
        rows.push(row);
    }
    rows.render(
        Format::Csv,
        &Style {
            color: false,
            zone: Zone::Utc,
            now: chrono::DateTime::UNIX_EPOCH.fixed_offset(),
        },
    )
}

// --- Markdown.

/// A Markdown table; cells are Markdown already (escape with [`md`]).
fn md_table(headers: &[String], rows: &[Vec<String>]) -> String {
    let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
    let mut text = line(headers);
    text.push_str(&line(&vec!["---".to_string(); headers.len()]));
    for row in rows {
        text.push_str(&line(row));
    }
    text
}

/// How the Markdown shows its charts.
enum Charts {
    /// Text drawings in fenced blocks: standard output, where nothing
    /// beside the report exists (`$GITHUB_STEP_SUMMARY`, a terminal).
    Text,
    /// Images linked by these file names.
    Files(Vec<(String, String)>),
}

pub fn render(report: &Report, format: ReportFormat, style: &Style) -> Result<String> {
    match format {
        ReportFormat::Json => json(report),
        ReportFormat::Table => table(report, style),
        ReportFormat::Csv => csv(report),
        ReportFormat::Markdown => markdown(report, style, &Charts::Text),
        ReportFormat::Html => html(report, style),
    }
}

/// A chart written as its own file beside a Markdown report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartFile {
    pub name: String,
    pub svg: String,
}

/// Render a Markdown report whose charts are separate SVG files named
/// `<stem>-<chart>.svg`, linked as images: GitHub and GitLab show linked
/// SVG files but strip inline SVG.
pub fn markdown_with_chart_files(
    report: &Report,
    style: &Style,
    stem: &str,
) -> Result<(String, Vec<ChartFile>)> {
    let files: Vec<ChartFile> = charts(report)?
        .into_iter()
        .map(|chart| ChartFile {
            name: format!("{stem}-{}.svg", chart.name),
            svg: chart.svg,
        })
        .collect();
    let links = Charts::Files(
        charts_meta(report)
            .into_iter()
            .zip(&files)
            .map(|((_, title), file)| (title.to_string(), file.name.clone()))
            .collect(),
    );
    Ok((markdown(report, style, &links)?, files))
}

/// How the figures table of Markdown or HTML writes its cells.
struct Cells<'a> {
    /// Text from the repository.
    escape: &'a dyn Fn(&str) -> String,
    /// N as a link to the figure's incidents.
    link: &'a dyn Fn(&Figure, &str) -> String,
    verdict: &'a dyn Fn(String) -> String,
    definition: &'a dyn Fn(&str) -> String,
}

fn figure_headers() -> Vec<String> {
    [
        "Figure",
        "N",
        "Median",
        "P90",
        "Mean",
        "Left out",
        "Before",
        "Change",
        "Beyond noise?",
        "Definition",
    ]
    .map(String::from)
    .to_vec()
}

/// The rows of the figures table; the cells other than the label,
/// verdict and definition are the report's own digits and words.
fn figure_table(report: &Report, out: &Cells<'_>) -> Vec<Vec<String>> {
    let list = figures(report, &report.metrics, Some(&report.previous_metrics));
    list.iter()
        .map(|f| {
            let [n, median, p90, mean] = cells(&f.current);
            let n = if report.traces.contains_key(&f.key) {
                (out.link)(f, &n)
            } else {
                n
            };
            let (before, change) = change(report, f);
            vec![
                label_for(f, out.escape),
                n,
                median,
                p90,
                mean,
                left_out_cell(&f.current, true),
                before,
                change,
                (out.verdict)(verdict_text(report.comparison.get(&f.key))),
                (out.definition)(&f.definition),
            ]
        })
        .collect()
}

fn markdown(report: &Report, style: &Style, charts: &Charts) -> Result<String> {
    let zone = &style.zone;
    let (title, lines) = header(report);
    // The header is the report's own text (dates, the zone's name).
    let mut text = format!("# {title}\n\n");
    for line in &lines {
        text.push_str(&format!("{line}  \n"));
    }
    text.push_str("Every duration shows how many incidents it covers (N; follow it to the incidents) and how many were left out, and why.\n\n");
    let rows = figure_table(
        report,
        &Cells {
            escape: &escape::markdown,
            link: &|f, n| format!("[{n}](#{})", anchor(&f.label)),
            verdict: &|v| v,
            definition: &definition_md,
        },
    );
    text.push_str(&md_table(&figure_headers(), &rows));
    for note in unavailable_notes(report, &report.metrics) {
        text.push_str(&format!("\n{}\n", escape::markdown(&note)));
    }
    if let Some(note) = after_note(report) {
        text.push_str(&format!("\n{note}\n"));
    }
    text.push_str("\n## Incidents per week\n\n");
    let week_rows: Vec<Vec<String>> = report
        .incidents_per_week
        .iter()
        .map(|w| vec![w.week.clone(), w.count.to_string()])
        .collect();
    text.push_str(&md_table(&["Week".into(), "Incidents".into()], &week_rows));

    text.push_str("\n## Distributions\n\nTime to mitigate and time to resolve of the incidents of the period, in buckets that grow about fourfold.\n\n");
    match charts {
        Charts::Text => {
            for (key, title) in [
                ("time_to_mitigate", "Time to mitigate"),
                ("time_to_resolve", "Time to resolve"),
            ] {
                let bars: Vec<(String, Option<u64>, bool)> = report
                    .distributions
                    .get(key)
                    .map(|b| {
                        b.iter()
                            .map(|b| (b.bucket.clone(), Some(b.count), false))
                            .collect()
                    })
                    .unwrap_or_default();
                text.push_str(&text_bars(title, &bars));
            }
        }
        Charts::Files(files) => {
            for (title, name) in files.iter().filter(|(t, _)| t.starts_with("Time to")) {
                text.push_str(&format!("![{title}]({name})\n\n"));
            }
        }
    }
    text.push_str(&format!(
        "\n## Last {} weeks\n\nIncidents per ISO week of `started`, and the weekly median time to resolve; the weeks of the period are marked.\n\n",
        report.trend.len()
    ));
    let marked = period_weeks(report);
    match charts {
        Charts::Text => {
            let bars: Vec<(String, Option<u64>, bool)> = report
                .trend
                .iter()
                .map(|w| {
                    let count = w.recorded.then_some(w.incidents);
                    (w.week.clone(), count, marked.contains(&w.week))
                })
                .collect();
            text.push_str(&text_bars("Incidents per week (◀ the period)", &bars));
            let medians: Vec<String> = report
                .trend
                .iter()
                .map(|w| {
                    let median = match w.recorded {
                        true => opt_duration(w.median_time_to_resolve_seconds),
                        false => NO_RECORD.into(),
                    };
                    format!(
                        "{} {median}{}",
                        w.week,
                        if marked.contains(&w.week) { " ◀" } else { "" }
                    )
                })
                .collect();
            text.push_str(&format!(
                "```text\nMedian time to resolve per week\n{}\n```\n\n",
                medians.join("\n")
            ));
        }
        Charts::Files(files) => {
            for (title, name) in files
                .iter()
                .filter(|(t, _)| t.starts_with("Incidents per week") || t.starts_with("Median"))
            {
                text.push_str(&format!("![{title}]({name})\n\n"));
            }
        }
    }
    if !report.trend_by_service.is_empty() {
        text.push_str("\n## Incidents per service and week\n\n");
        match charts {
            Charts::Text => text.push_str(&text_heat_map(report)),
            Charts::Files(files) => {
                for (title, name) in files
                    .iter()
                    .filter(|(t, _)| t.starts_with("Incidents per service"))
                {
                    text.push_str(&format!("![{title}]({name})\n\n"));
                }
            }
        }
    }
    for (dimension, groups) in &report.by {
        text.push_str(&format!("\n## By {dimension}\n\n"));
        let (headers, rows) = pivot(report, groups, &escape::markdown);
        text.push_str(&md_table(&headers, &rows));
    }
    text.push_str("\n## The incidents behind each figure\n");
    for (label, key, trace) in traces_in_order(report) {
        text.push_str(&format!("\n### {}\n\n", escape::markdown(&label)));
        text.push_str(&trace_summary(trace));
        text.push_str("\n\n");
        if trace.rows.is_empty() {
            continue;
        }
        let (headers, rows) = trace_table(key, trace, zone, &escape::markdown);
        text.push_str(&md_table(&headers, &rows));
    }
    Ok(text)
}

/// A definition in a Markdown table cell: the report's own words, with
/// names from the config in `code` spans (no backticks, pipes or control
/// characters inside, which would end the span or the cell).
fn definition_md(definition: &str) -> String {
    definition
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                let inner: String = part
                    .chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .collect();
                format!("`{}`", inner.replace('|', "\\|"))
            } else {
                part.to_string()
            }
        })
        .collect()
}

/// The ISO weeks the period covers.
fn period_weeks(report: &Report) -> Vec<String> {
    report
        .incidents_per_week
        .iter()
        .map(|w| w.week.clone())
        .collect()
}

/// Horizontal bars in a fenced text block.
/// Bars of counts; a count of none (time not recorded) says so.
fn text_bars(title: &str, bars: &[(String, Option<u64>, bool)]) -> String {
    const WIDTH: u64 = 40;
    let max = bars.iter().filter_map(|b| b.1).max().unwrap_or(0).max(1);
    let label_width = bars.iter().map(|b| b.0.chars().count()).max().unwrap_or(0);
    let mut text = format!("```text\n{title}\n");
    for (label, value, marked) in bars {
        let length = (value.unwrap_or(0) * WIDTH).div_ceil(max) as usize;
        let pad = label_width - label.chars().count();
        let value = value.map_or_else(|| NO_RECORD.to_string(), |v| v.to_string());
        text.push_str(&format!(
            "{}{} │{} {value}{}\n",
            chart_label(label, 24),
            " ".repeat(pad),
            "█".repeat(length),
            if *marked { " ◀" } else { "" }
        ));
    }
    text.push_str("```\n\n");
    text
}

/// Services × weeks as a grid of counts in a fenced text block.
fn text_heat_map(report: &Report) -> String {
    let names: Vec<String> = report
        .trend_by_service
        .keys()
        .map(|s| chart_label(s, 20))
        .collect();
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .max(7);
    let mut text = format!("```text\n{:width$}", "service");
    for w in &report.trend {
        let week = w.week.split_once("-W").map_or(w.week.as_str(), |(_, n)| n);
        text.push_str(&format!(" {week:>3}"));
    }
    text.push('\n');
    for (name, counts) in names.iter().zip(report.trend_by_service.values()) {
        let pad = width - name.chars().count();
        text.push_str(&format!("{name}{}", " ".repeat(pad)));
        for c in counts {
            let cell = if *c == 0 {
                ".".to_string()
            } else {
                c.to_string()
            };
            text.push_str(&format!(" {cell:>3}"));
        }
        text.push('\n');
    }
    text.push_str("```\n\n");
    text
}

// --- The incidents behind each figure.

/// Traces in the order of the figures table, with their labels.
fn traces_in_order(report: &Report) -> Vec<(String, &str, &FigureTrace)> {
    let mut out = Vec::new();
    for f in figures(report, &report.metrics, None) {
        if let Some((key, trace)) = report.traces.get_key_value(&f.key) {
            out.push((f.label, key.as_str(), trace));
        }
    }
    out
}

/// "3 measured, 2 left out (1 still open, 1 out of order)."
fn trace_summary(trace: &FigureTrace) -> String {
    let mut measured = 0;
    let mut counted = 0;
    let mut left: BTreeMap<&str, usize> = BTreeMap::new();
    for row in &trace.rows {
        match row.value {
            Contribution::Seconds(_) => measured += 1,
            Contribution::Counted => counted += 1,
            Contribution::LeftOut(reason) => *left.entry(reason).or_insert(0) += 1,
        }
    }
    if trace.rows.is_empty() {
        return "None.".into();
    }
    if counted > 0 {
        let noun = match trace.rows.first().is_some_and(|r| r.action.is_some()) {
            true => "action item",
            false => "incident",
        };
        return format!("{counted} {noun}{}.", if counted == 1 { "" } else { "s" });
    }
    let mut text = format!("{measured} measured");
    if !left.is_empty() {
        let reasons: Vec<String> = left
            .iter()
            .map(|(k, v)| format!("{v} {}", k.replace('_', " ")))
            .collect();
        text.push_str(&format!(
            ", {} left out ({})",
            left.values().sum::<usize>(),
            reasons.join(", ")
        ));
    }
    text.push('.');
    text
}

fn incident_cell(t: &Traced) -> String {
    if t.historical {
        format!("{} (historical)", t.id)
    } else {
        t.id.clone()
    }
}

fn contribution_text(value: &Contribution) -> String {
    match value {
        Contribution::Seconds(s) => human_duration(*s),
        Contribution::LeftOut(reason) => format!("left out: {}", reason.replace('_', " ")),
        Contribution::Counted => String::new(),
    }
}

/// The headers and rows (plain text, to be escaped for the output) of
/// one figure's incidents.
/// `esc` escapes what came from the repository (ids, titles, severities,
/// milestone names); times and durations are the report's own text.
fn trace_table(
    key: &str,
    trace: &FigureTrace,
    zone: &Zone,
    esc: &dyn Fn(&str) -> String,
) -> (Vec<String>, Vec<Vec<String>>) {
    let time = |t: Option<i64>| {
        t.map(|t| zone.short(&instant(t)))
            .unwrap_or_else(|| "–".into())
    };
    let base = |row: &TraceRow| {
        vec![
            esc(&incident_cell(&row.incident)),
            esc(&row.incident.title),
            esc(&row.incident.severity),
        ]
    };
    let (from, to) = (esc(&trace.from), esc(&trace.to));
    let mut headers: Vec<String> = ["Incident", "Title", "Severity"].map(String::from).to_vec();
    let rows: Vec<Vec<String>> = if key == "time_between_incidents" {
        headers.extend([
            "Service".to_string(),
            "After".to_string(),
            from,
            to,
            "Gap".to_string(),
        ]);
        trace
            .rows
            .iter()
            .map(|row| {
                let mut cells = base(row);
                cells.push(esc(row.service.as_deref().unwrap_or_default()));
                cells.push(
                    row.previous
                        .as_ref()
                        .map(|p| esc(&incident_cell(p)))
                        .unwrap_or_default(),
                );
                cells.push(time(row.from));
                cells.push(time(row.to));
                cells.push(contribution_text(&row.value));
                cells
            })
            .collect()
    } else if matches!(key, "recording_lag" | "late_recorded_events") {
        headers.extend(["Record".to_string(), from, to, "Lag".to_string()]);
        trace
            .rows
            .iter()
            .map(|row| {
                let mut cells = base(row);
                cells.push(esc(row.record.as_deref().unwrap_or_default()));
                cells.push(time(row.from));
                cells.push(time(row.to));
                cells.push(contribution_text(&row.value));
                cells
            })
            .collect()
    } else if key.starts_with("action_items.") {
        headers.extend(["Item", "Action", "Due", "Added", "At end of period"].map(String::from));
        trace
            .rows
            .iter()
            .map(|row| {
                let mut cells = base(row);
                let Some(action) = &row.action else {
                    return cells;
                };
                cells.push(esc(&format!("{}/{}", row.incident.id, action.number)));
                cells.push(esc(&action.text));
                cells.push(
                    action
                        .due
                        .map_or_else(|| "–".into(), |d| d.format("%Y-%m-%d").to_string()),
                );
                cells.push(time(row.from));
                cells.push(match action.finished {
                    Some(at) => format!("{} {}", esc(&action.state), time(Some(at))),
                    None => esc(&action.state),
                });
                cells
            })
            .collect()
    } else if key.starts_with("time_in_state.") {
        headers.push("Time".into());
        trace
            .rows
            .iter()
            .map(|row| {
                let mut cells = base(row);
                cells.push(contribution_text(&row.value));
                cells
            })
            .collect()
    } else if matches!(key, "incidents" | "historical" | "open_at_end") {
        headers.push("started".into());
        trace
            .rows
            .iter()
            .map(|row| {
                let mut cells = base(row);
                cells.push(time(row.from));
                cells
            })
            .collect()
    } else if key == "postmortems_overdue" {
        headers.extend([from, "due".into()]);
        trace
            .rows
            .iter()
            .map(|row| {
                let mut cells = base(row);
                cells.push(time(row.from));
                cells.push(time(row.to));
                cells
            })
            .collect()
    } else {
        headers.extend([from, to, "Duration".into()]);
        trace
            .rows
            .iter()
            .map(|row| {
                let mut cells = base(row);
                cells.push(time(row.from));
                cells.push(time(row.to));
                cells.push(contribution_text(&row.value));
                cells
            })
            .collect()
    };
    (headers, rows)
}

// --- HTML.

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#222}\
table{border-collapse:collapse;margin:0.5em 0 1.5em}\
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}\
th{background:#f4f4f4}td.num{white-space:nowrap;text-align:right}\
td.def{color:#555;font-size:90%}p.period{font-size:120%;margin:0}\
code{background:#f4f4f4;padding:0 2px}figure{display:inline-block;margin:0 1em 1em 0}\
.left{color:#a33}";

fn html(report: &Report, style: &Style) -> Result<String> {
    let zone = &style.zone;
    let (title, lines) = header(report);
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{t}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{t}</h1>\n",
        t = escape::html(&title),
    );
    for (i, line) in lines.iter().enumerate() {
        let class = if i == 0 { " class=\"period\"" } else { "" };
        out.push_str(&format!("<p{class}>{}</p>\n", escape::html(line)));
    }
    out.push_str("<p>Every duration shows how many incidents it covers (N: follow it to the incidents) and how many were left out, and why.</p>\n");
    let rows = figure_table(
        report,
        &Cells {
            escape: &escape::html,
            link: &|f, n| format!("<a href=\"#{}\">{n}</a>", html_id(&f.key)),
            // "(p = 0.123)" stays on one line.
            verdict: &|v| escape::html(&v).replace(" = ", "&nbsp;=&nbsp;"),
            definition: &html_definition,
        },
    );
    out.push_str(&html_table(&figure_headers(), &rows));
    for note in unavailable_notes(report, &report.metrics) {
        out.push_str(&format!("<p>{}</p>\n", escape::html(&note)));
    }
    if let Some(note) = after_note(report) {
        out.push_str(&format!(
            "<p><strong>{}</strong></p>\n",
            html_definition(&note)
        ));
    }
    let svgs = charts(report)?;
    let figure = |out: &mut String, name: &str| {
        if let Some(chart) = svgs.iter().find(|c| c.name == name) {
            out.push_str("<figure>\n");
            out.push_str(&chart.svg);
            out.push_str("\n</figure>\n");
        }
    };
    out.push_str("<h2>Distributions</h2>\n<p>Time to mitigate and time to resolve of the incidents of the period.</p>\n");
    figure(&mut out, "time-to-mitigate");
    figure(&mut out, "time-to-resolve-distribution");
    out.push_str(&format!(
        "<h2>Last {} weeks</h2>\n<p>Incidents per ISO week of <code>started</code>, and the weekly median time to resolve; the weeks of the period are marked.</p>\n",
        report.trend.len()
    ));
    figure(&mut out, "incidents-per-week");
    figure(&mut out, "time-to-resolve");
    if !report.trend_by_service.is_empty() {
        out.push_str("<h2>Incidents per service and week</h2>\n");
        figure(&mut out, "services-by-week");
    }
    for (dimension, groups) in &report.by {
        out.push_str(&format!("<h2>By {dimension}</h2>\n"));
        let (headers, rows) = pivot(report, groups, &escape::html);
        out.push_str(&html_table(&headers, &rows));
    }
    out.push_str("<h2>The incidents behind each figure</h2>\n");
    for (label, key, trace) in traces_in_order(report) {
        out.push_str(&format!(
            "<h3 id=\"{}\">{}</h3>\n<p>{}</p>\n",
            html_id(key),
            escape::html(&label),
            escape::html(&trace_summary(trace))
        ));
        if trace.rows.is_empty() {
            continue;
        }
        let (headers, rows) = trace_table(key, trace, zone, &escape::html);
        out.push_str(&html_table(&headers, &rows));
    }
    out.push_str("</body>\n</html>\n");
    Ok(out)
}

/// A table of cells that are HTML already; cells that hold a time, a
/// count or a duration do not wrap.
fn html_table(headers: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table>\n<thead><tr>");
    for h in headers {
        out.push_str(&format!("<th>{h}</th>"));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let numeric = i > 0
                && cell
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit() || c == '–');
            let class = if numeric {
                " class=\"num\""
            } else if headers.get(i).is_some_and(|h| h == "Definition") {
                " class=\"def\""
            } else {
                ""
            };
            out.push_str(&format!("<td{class}>{cell}</td>"));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

// --- Charts.

fn chart_error<E: std::fmt::Display>(e: E) -> Error {
    Error::InvalidInput {
        message: format!("cannot draw chart: {e}"),
    }
}

/// One SVG chart.
pub struct Chart {
    /// File-name part: `incidents-per-week`, ...
    pub name: &'static str,
    pub svg: String,
}

/// The charts a report draws: (file-name part, title), in the order
/// [`charts`] returns them.
fn charts_meta(report: &Report) -> Vec<(&'static str, &'static str)> {
    let mut out = vec![
        ("incidents-per-week", "Incidents per week"),
        ("time-to-resolve", "Median time to resolve"),
        ("time-to-mitigate", "Time to mitigate"),
        ("time-to-resolve-distribution", "Time to resolve"),
    ];
    if !report.trend_by_service.is_empty() {
        out.push(("services-by-week", "Incidents per service and week"));
    }
    out
}

const MARK: RGBColor = RGBColor(255, 236, 179);

/// Every chart of the report, SVG drawn with plotters.
pub fn charts(report: &Report) -> Result<Vec<Chart>> {
    let marked = period_weeks(report);
    let weeks: Vec<String> = report
        .trend
        .iter()
        .map(|w| {
            w.week
                .split_once('-')
                .map_or(w.week.clone(), |(_, wk)| wk.to_string())
        })
        .collect();
    let highlight: Vec<bool> = report
        .trend
        .iter()
        .map(|w| marked.contains(&w.week))
        .collect();
    let unrecorded: Vec<bool> = report.trend.iter().map(|w| !w.recorded).collect();
    let mut out = Vec::new();
    let counts: Vec<u64> = report.trend.iter().map(|w| w.incidents).collect();
    out.push(Chart {
        name: "incidents-per-week",
        svg: bar_chart(
            &with_no_record_key("Incidents per week (shaded: the period", &unrecorded),
            "incidents",
            &weeks,
            &counts,
            &highlight,
            &unrecorded,
        )?,
    });
    out.push(Chart {
        name: "time-to-resolve",
        svg: median_chart(report, &weeks, &highlight)?,
    });
    for (name, key, title) in [
        (
            "time-to-mitigate",
            "time_to_mitigate",
            "Time to mitigate, this period",
        ),
        (
            "time-to-resolve-distribution",
            "time_to_resolve",
            "Time to resolve, this period",
        ),
    ] {
        let buckets = report.distributions.get(key).cloned().unwrap_or_default();
        let labels: Vec<String> = BUCKETS.iter().map(|(_, l)| l.to_string()).collect();
        let values: Vec<u64> = labels
            .iter()
            .map(|l| {
                buckets
                    .iter()
                    .find(|b| &b.bucket == l)
                    .map_or(0, |b| b.count)
            })
            .collect();
        out.push(Chart {
            name,
            svg: bar_chart(
                title,
                "incidents",
                &labels,
                &values,
                &vec![false; labels.len()],
                &vec![false; labels.len()],
            )?,
        });
    }
    if !report.trend_by_service.is_empty() {
        out.push(Chart {
            name: "services-by-week",
            svg: heat_map(report, &weeks, &highlight, &unrecorded)?,
        });
    }
    Ok(out)
}

/// The label of segment `x` of a segmented axis: `labels[x]`.
fn segment_label(labels: &[String], x: &SegmentValue<i32>) -> String {
    match x {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => usize::try_from(*i)
            .ok()
            .and_then(|i| labels.get(i))
            .cloned()
            .unwrap_or_default(),
        SegmentValue::Last => String::new(),
    }
}

/// A shaded band from `low` to `high` behind each highlighted segment.
fn bands<Y: Clone + 'static>(
    highlight: &[bool],
    low: Y,
    high: Y,
) -> Vec<Rectangle<(SegmentValue<i32>, Y)>> {
    bands_of(highlight, low, high, MARK)
}

/// A band of `colour` from `low` to `high` behind each marked segment.
fn bands_of<Y: Clone + 'static>(
    marked: &[bool],
    low: Y,
    high: Y,
    colour: RGBColor,
) -> Vec<Rectangle<(SegmentValue<i32>, Y)>> {
    marked
        .iter()
        .enumerate()
        .filter(|(_, h)| **h)
        .map(|(i, _)| {
            let x = i as i32;
            Rectangle::new(
                [
                    (SegmentValue::Exact(x), low.clone()),
                    (SegmentValue::Exact(x + 1), high.clone()),
                ],
                colour.filled(),
            )
        })
        .collect()
}

/// Weeks with no record are no zeros: they are greyed, with no bar or
/// cell, and the caption says so. `open` is the caption up to its key.
fn with_no_record_key(open: &str, unrecorded: &[bool]) -> String {
    if unrecorded.contains(&true) {
        format!("{open}; grey: no record)")
    } else {
        format!("{open})")
    }
}

const NO_RECORD_GREY: RGBColor = RGBColor(210, 210, 210);

/// Vertical bars, one per label, the highlighted ones on a shaded band;
/// none where `unrecorded`, whose segments are greyed instead.
fn bar_chart(
    title: &str,
    y_desc: &str,
    labels: &[String],
    values: &[u64],
    highlight: &[bool],
    unrecorded: &[bool],
) -> Result<String> {
    let n = labels.len() as i32;
    let max = values.iter().copied().max().unwrap_or(0).max(1) as u32;
    let label = |x: &SegmentValue<i32>| segment_label(labels, x);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(40)
            .build_cartesian_2d((0i32..n.max(1) - 1).into_segmented(), 0u32..max + 1)
            .map_err(chart_error)?;
        chart
            .draw_series(bands(highlight, 0, max + 1))
            .map_err(chart_error)?;
        chart
            .draw_series(bands_of(unrecorded, 0, max + 1, NO_RECORD_GREY))
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(labels.len())
            .x_label_formatter(&label)
            .y_desc(y_desc)
            .draw()
            .map_err(chart_error)?;
        let recorded = |i: &usize| !unrecorded.get(*i).copied().unwrap_or(false);
        chart
            .draw_series(
                values
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| recorded(i))
                    .map(|(i, v)| {
                        let x = i as i32;
                        let mut bar = Rectangle::new(
                            [
                                (SegmentValue::Exact(x), 0),
                                (SegmentValue::Exact(x + 1), *v as u32),
                            ],
                            BLUE.mix(0.6).filled(),
                        );
                        bar.set_margin(0, 0, 4, 4);
                        bar
                    }),
            )
            .map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// The weekly median time to resolve, in hours.
fn median_chart(report: &Report, weeks: &[String], highlight: &[bool]) -> Result<String> {
    let n = weeks.len() as i32;
    let label = |x: &SegmentValue<i32>| segment_label(weeks, x);
    let points: Vec<(SegmentValue<i32>, f64)> = report
        .trend
        .iter()
        .enumerate()
        .filter_map(|(i, w)| {
            w.median_time_to_resolve_seconds
                .map(|s| (SegmentValue::CenterOf(i as i32), s as f64 / 3600.0))
        })
        .collect();
    let max = points.iter().map(|p| p.1).fold(1.0f64, f64::max) * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Median time to resolve (hours)", ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(40)
            .build_cartesian_2d((0i32..n.max(1) - 1).into_segmented(), 0f64..max)
            .map_err(chart_error)?;
        chart
            .draw_series(bands(highlight, 0.0, max))
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(weeks.len())
            .x_label_formatter(&label)
            .y_desc("hours")
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(LineSeries::new(points.iter().cloned(), RED.stroke_width(2)))
            .map_err(chart_error)?;
        chart
            .draw_series(
                points
                    .iter()
                    .map(|p| Circle::new(p.clone(), 3, RED.filled())),
            )
            .map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// Services (rows) × weeks (columns), each cell shaded by its count.
/// Weeks with no record get grey columns and no cells.
fn heat_map(
    report: &Report,
    weeks: &[String],
    highlight: &[bool],
    unrecorded: &[bool],
) -> Result<String> {
    let services: Vec<String> = report
        .trend_by_service
        .keys()
        .map(|s| chart_label(s, 24))
        .collect();
    let rows = services.len() as i32;
    let columns = weeks.len() as i32;
    let max = report
        .trend_by_service
        .values()
        .flatten()
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let height = (60 + 22 * services.len()).min(2000) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, height)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        // The period's weeks marked with a star.
        let marked: Vec<String> = weeks
            .iter()
            .zip(highlight)
            .map(|(w, h)| if *h { format!("{w}*") } else { w.clone() })
            .collect();
        let x_label = |x: &SegmentValue<i32>| segment_label(&marked, x);
        let y_label = |y: &SegmentValue<i32>| segment_label(&services, y);
        let mut chart = ChartBuilder::on(&root)
            .caption(
                with_no_record_key("Incidents per service and week (* the period", unrecorded),
                ("sans-serif", 16),
            )
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(140)
            .build_cartesian_2d(
                (0i32..columns.max(1) - 1).into_segmented(),
                (0i32..rows.max(1) - 1).into_segmented(),
            )
            .map_err(chart_error)?;
        chart
            .draw_series(bands_of(
                unrecorded,
                SegmentValue::Exact(0),
                SegmentValue::Exact(rows.max(1)),
                NO_RECORD_GREY,
            ))
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(weeks.len())
            .y_labels(services.len())
            .x_label_formatter(&x_label)
            .y_label_formatter(&y_label)
            .draw()
            .map_err(chart_error)?;
        let cells: Vec<(i32, i32, u64)> = report
            .trend_by_service
            .values()
            .enumerate()
            .flat_map(|(row, counts)| {
                counts
                    .iter()
                    .enumerate()
                    .filter(|(column, _)| !unrecorded.get(*column).copied().unwrap_or(false))
                    .map(move |(column, c)| (column as i32, row as i32, *c))
            })
            .collect();
        chart
            .draw_series(cells.iter().map(|&(x, y, c)| {
                let shade = if c == 0 {
                    RGBColor(245, 245, 245)
                } else {
                    let t = c as f64 / max as f64;
                    let channel = |light: f64, dark: f64| (light + (dark - light) * t) as u8;
                    RGBColor(
                        channel(198.0, 8.0),
                        channel(219.0, 48.0),
                        channel(239.0, 107.0),
                    )
                };
                let mut cell = Rectangle::new(
                    [
                        (SegmentValue::Exact(x), SegmentValue::Exact(y)),
                        (SegmentValue::Exact(x + 1), SegmentValue::Exact(y + 1)),
                    ],
                    shade.filled(),
                );
                cell.set_margin(1, 1, 1, 1);
                cell
            }))
            .map_err(chart_error)?;
        chart
            .draw_series(cells.iter().filter(|c| c.2 > 0).map(|&(x, y, c)| {
                let dark = c as f64 / max as f64 > 0.5;
                Text::new(
                    c.to_string(),
                    (SegmentValue::CenterOf(x), SegmentValue::CenterOf(y)),
                    ("sans-serif", 12)
                        .into_font()
                        .color(if dark { &WHITE } else { &BLACK }),
                )
            }))
            .map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_context_escapes_hostile_text() {
        let name = "[click](https://evil.example) *x* <b>#1</b>\n# heading";
        let escaped = escape::markdown(name);
        assert_eq!(
            escaped,
            "\\[click\\]\\(https\\:\\/\\/evil\\.example\\) \\*x\\* \\<b\\>\\#1\\<\\/b\\> \\# heading"
        );
        assert_eq!(
            escape::html("<a href='x'>&</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(chart_label("a`\u{1b}b", 10), "a  b");
        assert_eq!(anchor("Time in investigating"), "time-in-investigating");
        assert_eq!(html_definition("`started` → x"), "<code>started</code> → x");
    }

    #[test]
    fn periods_in_plain_dates() {
        assert_eq!(
            plain_range("2026-11-16T00:00:00+00:00", "2026-11-23T00:00:00+00:00"),
            "Mon 16 Nov 2026 to Sun 22 Nov 2026"
        );
        assert_eq!(
            plain_range("2026-11-16T00:00:00+01:00", "2026-11-17T00:00:00+01:00"),
            "Mon 16 Nov 2026"
        );
        assert_eq!(
            plain_range("2026-11-24T00:00:00+00:00", "2026-11-24T10:00:00+00:00"),
            "Tue 24 Nov 2026 00:00 to Tue 24 Nov 2026 10:00"
        );
    }
}
