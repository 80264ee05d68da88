//! `incident report` as text: a table for terminals, Markdown and HTML with
//! definitions and SVG charts, CSV and JSON for programs. Same report in,
//! same bytes out.

use plotters::prelude::*;

use super::{Format, Rows, Style, Value, json, markdown_cell};
use crate::error::{Error, Result};
use crate::metrics::stats::Summary;
use crate::metrics::{Metrics, Report};
use crate::time::human_duration;

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

/// One row of the figures table.
struct Figure {
    key: String,
    label: String,
    definition: String,
    current: Cell,
    previous: Cell,
}

enum Cell {
    Duration(Summary),
    Count(u64),
    Rate(Option<f64>, u64, u64),
    Unavailable(String),
}

/// Reads one duration figure out of a period's metrics.
type SummaryOf = fn(&Metrics) -> &Summary;

fn figures(report: &Report, metrics: &Metrics, previous: Option<&Metrics>) -> Vec<Figure> {
    let def = |k: &str| report.definitions.get(k).cloned().unwrap_or_default();
    let mut out = Vec::new();
    let mut duration =
        |key: &str, label: &str, definition: String, get: &dyn Fn(&Metrics) -> Summary| {
            out.push(Figure {
                key: key.into(),
                label: label.into(),
                definition,
                current: Cell::Duration(get(metrics)),
                previous: previous
                    .map_or(Cell::Unavailable(String::new()), |p| Cell::Duration(get(p))),
            });
        };
    let spans: [(&str, &str, SummaryOf); 7] = [
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
    for (key, label, get) in spans {
        duration(key, label, def(key), &|m| get(m).clone());
    }
    duration(
        "recording_lag",
        "Recording lag",
        "stated time of an event → commit that recorded it on this branch".into(),
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
                .unwrap_or_else(empty_summary)
        };
        out.push(Figure {
            key: format!("time_in_state.{state}"),
            label: format!("Time in {state}"),
            definition: format!("entering '{state}' → the next status change, summed per incident"),
            current: Cell::Duration(get(metrics)),
            previous: previous.map_or(Cell::Unavailable(String::new()), |p| Cell::Duration(get(p))),
        });
    }
    let mut count = |key: &str, label: &str, definition: &str, get: &dyn Fn(&Metrics) -> u64| {
        out.push(Figure {
            key: key.into(),
            label: label.into(),
            definition: definition.into(),
            current: Cell::Count(get(metrics)),
            previous: previous.map_or(Cell::Unavailable(String::new()), |p| Cell::Count(get(p))),
        });
    };
    count(
        "incidents",
        "Incidents",
        "incidents whose `started` lies in the period",
        &|m| m.incidents,
    );
    count(
        "open_at_end",
        "Open at end of period",
        "incidents in an open state at the end of the period",
        &|m| m.open_at_end,
    );
    count(
        "postmortems_overdue",
        "Postmortems overdue",
        "postmortem due (resolved + due days for the severity) by the end of the period and not published by then",
        &|m| m.postmortems_overdue,
    );
    count(
        "late_recorded_events",
        "Events recorded late",
        "events and declarations whose recording lag exceeds late_after_seconds",
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
        definition: "deployments named as the cause of an incident ÷ deployments (tags matching [deployments] tag_pattern) in the period".into(),
        current: cfr(metrics),
        previous: previous.map_or(Cell::Unavailable(String::new()), cfr),
    });
    let mut actions = |key: &str, label: &str, definition: &str, get: &dyn Fn(&Metrics) -> u64| {
        out.push(Figure {
            key: format!("action_items.{key}"),
            label: label.into(),
            definition: definition.into(),
            current: Cell::Count(get(metrics)),
            previous: previous.map_or(Cell::Unavailable(String::new()), |p| Cell::Count(get(p))),
        });
    };
    actions(
        "opened",
        "Action items opened",
        "action items added during the period",
        &|m| m.action_items.opened,
    );
    actions(
        "done",
        "Action items done",
        "action items marked done during the period",
        &|m| m.action_items.done,
    );
    actions(
        "done_within_due",
        "Action items done in time",
        "of those done, how many on or before their due date (or without one)",
        &|m| m.action_items.done_within_due,
    );
    actions(
        "overdue",
        "Action items overdue",
        "action items open at the end of the period whose due date is before the day it ends on",
        &|m| m.action_items.overdue,
    );
    out
}

fn empty_summary() -> Summary {
    crate::metrics::stats::Sample::default().summary()
}

fn opt_duration(v: Option<i64>) -> String {
    v.map(human_duration).unwrap_or_else(|| "–".into())
}

fn excluded_text(s: &Summary) -> String {
    if s.excluded == 0 {
        return "0".into();
    }
    let reasons: Vec<String> = s
        .excluded_by_reason
        .iter()
        .map(|(k, v)| format!("{v} {}", k.replace('_', " ")))
        .collect();
    format!("{} ({})", s.excluded, reasons.join(", "))
}

/// `n`, `median`, `p90`, `mean`, `excluded` cells.
fn cells(cell: &Cell) -> [String; 5] {
    match cell {
        Cell::Duration(s) => [
            s.n.to_string(),
            opt_duration(s.median_seconds),
            opt_duration(s.p90_seconds),
            opt_duration(s.mean_seconds),
            excluded_text(s),
        ],
        Cell::Count(c) => [
            c.to_string(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ],
        Cell::Rate(rate, failed, n) => [
            n.to_string(),
            rate.map(|r| format!("{:.1}% ({failed} of {n})", r * 100.0))
                .unwrap_or_else(|| "– (no deployments)".into()),
            String::new(),
            String::new(),
            String::new(),
        ],
        Cell::Unavailable(_) => [
            "–".into(),
            "n/a".into(),
            String::new(),
            String::new(),
            String::new(),
        ],
    }
}

/// The previous-periods value and the change, per period of the report's length.
fn change(current: &Cell, previous: &Cell) -> (String, String) {
    match (current, previous) {
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
            (format!("median {}", opt_duration(p.median_seconds)), change)
        }
        (Cell::Count(c), Cell::Count(p)) => {
            // The previous window is four periods long: compare per period.
            let per = *p as f64 / 4.0;
            let d = *c as f64 - per;
            (format!("{per:.2} per period"), format!("{d:+.2}"))
        }
        (Cell::Rate(Some(c), _, _), Cell::Rate(Some(p), _, _)) => (
            format!("{:.1}%", p * 100.0),
            format!("{:+.1} points", (c - p) * 100.0),
        ),
        _ => ("–".into(), "–".into()),
    }
}

fn header(report: &Report) -> Vec<String> {
    let mut lines = vec![format!(
        "Incident report {} ({} to {}, {})",
        report.period.label, report.period.since, report.period.until, report.timezone
    )];
    if let Some(as_of) = &report.as_of {
        lines.push(format!("As of commit {} ({})", as_of.commit, as_of.time));
    }
    lines.push(format!(
        "Compared with the four periods before: {} to {}",
        report.previous.since, report.previous.until
    ));
    lines
}

/// "Figure: not available because ..." lines for figures the table shows as n/a.
fn unavailable_notes(report: &Report, metrics: &Metrics) -> Vec<String> {
    figures(report, metrics, None)
        .into_iter()
        .filter_map(|f| match f.current {
            Cell::Unavailable(reason) => Some(format!("{}: not available: {reason}", f.label)),
            _ => None,
        })
        .collect()
}

fn figure_rows(
    report: &Report,
    metrics: &Metrics,
    previous: Option<&Metrics>,
    definitions: bool,
) -> Rows {
    let mut headers = vec!["FIGURE", "N", "MEDIAN", "P90", "MEAN", "EXCLUDED"];
    if previous.is_some() {
        headers.extend(["PREVIOUS 4", "CHANGE"]);
    }
    if definitions {
        headers.push("DEFINITION");
    }
    let mut rows = Rows::new(&headers);
    for figure in figures(report, metrics, previous) {
        let mut row: Vec<Value> = vec![figure.label.clone().into()];
        row.extend(cells(&figure.current).into_iter().map(Value::from));
        if previous.is_some() {
            let (p, c) = change(&figure.current, &figure.previous);
            row.push(p.into());
            row.push(c.into());
        }
        if definitions {
            row.push(figure.definition.clone().into());
        }
        rows.push(row);
    }
    rows
}

/// A chart written as its own file beside a Markdown report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartFile {
    pub name: String,
    pub svg: String,
}

/// Render a Markdown report whose charts are separate SVG files named
/// `<stem>-incidents-per-week.svg` and `<stem>-time-to-resolve.svg`, linked
/// as images: GitHub and GitLab show linked SVG files but strip inline SVG.
pub fn markdown_with_chart_files(
    report: &Report,
    style: &Style,
    stem: &str,
) -> Result<(String, Vec<ChartFile>)> {
    let (incidents, resolve) = charts(report)?;
    let files = vec![
        ChartFile {
            name: format!("{stem}-incidents-per-week.svg"),
            svg: incidents,
        },
        ChartFile {
            name: format!("{stem}-time-to-resolve.svg"),
            svg: resolve,
        },
    ];
    let links = (
        format!("![Incidents per week]({})", files[0].name),
        format!("![Median time to resolve]({})", files[1].name),
    );
    Ok((markdown_inner(report, style, links)?, files))
}

pub fn render(report: &Report, format: ReportFormat, style: &Style) -> Result<String> {
    match format {
        ReportFormat::Json => json(report),
        ReportFormat::Table => {
            let mut text = header(report).join("\n");
            text.push_str("\n\n");
            text.push_str(
                &figure_rows(
                    report,
                    &report.metrics,
                    Some(&report.previous_metrics),
                    false,
                )
                .render(Format::Table, style)?,
            );
            for note in unavailable_notes(report, &report.metrics) {
                text.push_str(&format!("{note}\n"));
            }
            text.push_str("\nIncidents per week: ");
            let weeks: Vec<String> = report
                .incidents_per_week
                .iter()
                .map(|w| format!("{} {}", w.week, w.count))
                .collect();
            text.push_str(&weeks.join(", "));
            text.push('\n');
            for (dimension, groups) in &report.by {
                for (name, metrics) in groups {
                    text.push_str(&format!("\n{dimension} {name}\n"));
                    text.push_str(
                        &figure_rows(report, metrics, None, false).render(Format::Table, style)?,
                    );
                }
            }
            Ok(text)
        }
        ReportFormat::Csv => csv(report),
        ReportFormat::Markdown => markdown(report, style),
        ReportFormat::Html => html(report, style),
    }
}

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
            let mut row: Vec<Value> = vec![group.into(), figure.key.clone().into()];
            let opt = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
            match &figure.current {
                Cell::Duration(s) => {
                    row.extend(
                        [
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
                        ]
                        .map(Value::from),
                    );
                }
                Cell::Count(c) => row.extend(
                    [
                        c.to_string(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                        c.to_string(),
                    ]
                    .map(Value::from),
                ),
                Cell::Rate(rate, _, n) => row.extend(
                    [
                        n.to_string(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                        rate.map(|r| r.to_string()).unwrap_or_default(),
                    ]
                    .map(Value::from),
                ),
                Cell::Unavailable(_) => row.extend(
                    std::iter::repeat_n(Value::from(""), 6).chain([Value::from("not available")]),
                ),
            }
            rows.push(row);
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
            zone: crate::time::Zone::Utc,
            now: chrono::DateTime::UNIX_EPOCH.fixed_offset(),
        },
    )
}

fn markdown(report: &Report, style: &Style) -> Result<String> {
    markdown_inner(report, style, charts(report)?)
}

fn markdown_inner(
    report: &Report,
    style: &Style,
    (incidents_svg, resolve_svg): (String, String),
) -> Result<String> {
    let mut text = format!(
        "# Incident report {}\n\n",
        markdown_cell(&report.period.label)
    );
    for line in header(report).iter().skip(1) {
        text.push_str(&format!("{}  \n", markdown_cell(line)));
    }
    text.push_str(&format!(
        "Period: {} to {} ({}). Every duration shows how many incidents it covers (N) and how many were left out, and why.\n\n",
        report.period.since, report.period.until, report.timezone
    ));
    text.push_str(
        &figure_rows(
            report,
            &report.metrics,
            Some(&report.previous_metrics),
            true,
        )
        .render(Format::Markdown, style)?,
    );
    for note in unavailable_notes(report, &report.metrics) {
        text.push_str(&format!("\n{}\n", markdown_cell(&note)));
    }
    text.push_str("\n## Incidents per week\n\n");
    let mut weeks = Rows::new(&["WEEK", "INCIDENTS"]);
    for w in &report.incidents_per_week {
        weeks.push(vec![w.week.clone().into(), w.count.to_string().into()]);
    }
    text.push_str(&weeks.render(Format::Markdown, style)?);
    text.push_str("\n## Last 12 weeks\n\nIncidents per ISO week of `started`, and the weekly median time to resolve.\n\n");
    text.push_str(&incidents_svg);
    text.push_str("\n\n");
    text.push_str(&resolve_svg);
    text.push('\n');
    for (dimension, groups) in &report.by {
        for (name, metrics) in groups {
            text.push_str(&format!(
                "\n## {} {}\n\n",
                markdown_cell(dimension),
                markdown_cell(name)
            ));
            text.push_str(
                &figure_rows(report, metrics, None, false).render(Format::Markdown, style)?,
            );
        }
    }
    Ok(text)
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html_table(rows: &Rows) -> String {
    let mut out = String::from("<table>\n<thead><tr>");
    for h in &rows.headers {
        out.push_str(&format!("<th>{}</th>", escape_html(h)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &rows.rows {
        out.push_str("<tr>");
        for v in row {
            out.push_str(&format!("<td>{}</td>", escape_html(&v.text)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

fn html(report: &Report, _style: &Style) -> Result<String> {
    let (incidents_svg, resolve_svg) = charts(report)?;
    let title = format!("Incident report {}", report.period.label);
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape_html(&title),
        escape_html(&title)
    );
    for line in header(report).iter().skip(1) {
        out.push_str(&format!("<p>{}</p>\n", escape_html(line)));
    }
    out.push_str(&html_table(&figure_rows(
        report,
        &report.metrics,
        Some(&report.previous_metrics),
        true,
    )));
    for note in unavailable_notes(report, &report.metrics) {
        out.push_str(&format!("<p>{}</p>\n", escape_html(&note)));
    }
    out.push_str("<h2>Last 12 weeks</h2>\n");
    out.push_str(&incidents_svg);
    out.push('\n');
    out.push_str(&resolve_svg);
    out.push('\n');
    for (dimension, groups) in &report.by {
        for (name, metrics) in groups {
            out.push_str(&format!(
                "<h2>{} {}</h2>\n",
                escape_html(dimension),
                escape_html(name)
            ));
            out.push_str(&html_table(&figure_rows(report, metrics, None, false)));
        }
    }
    out.push_str("</body>\n</html>\n");
    Ok(out)
}

fn chart_error<E: std::fmt::Display>(e: E) -> Error {
    Error::InvalidInput {
        message: format!("cannot draw chart: {e}"),
    }
}

/// Two SVG charts over the trend weeks: incidents per week (bars) and the
/// weekly median time to resolve in hours (line).
pub fn charts(report: &Report) -> Result<(String, String)> {
    let weeks: Vec<String> = report.trend.iter().map(|w| w.week.clone()).collect();
    let n = weeks.len() as i32;
    // Each week is one segment of the x axis, labelled at its centre.
    let label = move |x: &SegmentValue<i32>| match x {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => usize::try_from(*i)
            .ok()
            .and_then(|i| weeks.get(i))
            .map(|w| {
                w.split_once('-')
                    .map_or(w.clone(), |(_, wk)| wk.to_string())
            })
            .unwrap_or_default(),
        SegmentValue::Last => String::new(),
    };
    let x_range = || (0i32..n.max(1) - 1).into_segmented();

    let mut bars = String::new();
    {
        let max = report
            .trend
            .iter()
            .map(|w| w.incidents)
            .max()
            .unwrap_or(0)
            .max(1) as u32;
        let root = SVGBackend::with_string(&mut bars, (640, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Incidents per week", ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(40)
            .build_cartesian_2d(x_range(), 0u32..max + 1)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(weeks_len(n))
            .x_label_formatter(&label)
            .y_desc("incidents")
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(report.trend.iter().enumerate().map(|(i, w)| {
                let x = i as i32;
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(x), 0),
                        (SegmentValue::Exact(x + 1), w.incidents as u32),
                    ],
                    BLUE.mix(0.6).filled(),
                );
                bar.set_margin(0, 0, 4, 4);
                bar
            }))
            .map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }

    let mut line = String::new();
    {
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
        let root = SVGBackend::with_string(&mut line, (640, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Median time to resolve (hours)", ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(40)
            .build_cartesian_2d(x_range(), 0f64..max)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(weeks_len(n))
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
    Ok((bars, line))
}

fn weeks_len(n: i32) -> usize {
    usize::try_from(n).unwrap_or(0)
}
