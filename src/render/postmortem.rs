//! Postmortem documents from templates, their generated blocks, and action
//! item listings.
//!
//! A postmortem is Markdown. The parts incident fills in from the repository
//! sit between `<!-- BEGIN GENERATED name ... -->` and `<!-- END GENERATED
//! name -->`; `--refresh` replaces only what is between such markers, so
//! text people wrote anywhere else is never touched.

use chrono::NaiveDate;
use comfy_table::Color;
use minijinja::AutoEscape;
use serde::Serialize;

use super::escape::markdown_text;
use super::{Format, Rows, Style, Value, json, markdown_cell};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::action::Action;
use crate::model::incident::{Incident, MilestoneSource};
use crate::templates::{self, Family};
use crate::time::{Timestamp, Zone, human_duration};
use crate::tomlfile::MAX_FILE_BYTES;

/// Built-in templates: (name, file in the source tree, text).
pub const BUILTIN_TEMPLATES: &[(&str, &str, &str)] = &[
    (
        "sre",
        "templates/postmortem-sre.md",
        include_str!("../../templates/postmortem-sre.md"),
    ),
    (
        "lightweight",
        "templates/postmortem-lightweight.md",
        include_str!("../../templates/postmortem-lightweight.md"),
    ),
    (
        "pagerduty",
        "templates/postmortem-pagerduty.md",
        include_str!("../../templates/postmortem-pagerduty.md"),
    ),
];

pub const BEGIN_MARK: &str = "<!-- BEGIN GENERATED ";
pub const END_MARK: &str = "<!-- END GENERATED ";
/// The first line of every postmortem, naming incident and template.
pub const HEADER_MARK: &str = "<!-- incident postmortem:";
/// A line that starts with this is a prompt for people.
pub const PROMPT_MARK: &str = "> TODO:";

pub use crate::templates::TemplateSource;

/// The postmortem templates.
pub const TEMPLATES: Family = Family {
    prefix: "postmortem",
    what: "template",
    builtin: BUILTIN_TEMPLATES,
};

/// Time spent at one severity.
#[derive(Debug, Clone)]
pub struct SeveritySpan {
    pub severity: String,
    pub from: Timestamp,
    pub to: Timestamp,
}

/// What a template can use.
#[derive(Debug, Serialize)]
struct TemplateContext<'a> {
    incident: IncidentData<'a>,
    zone: String,
    impact: Impact,
    roles: Vec<RoleData>,
    responders: Vec<String>,
    milestones: Vec<MilestoneData>,
    durations: Vec<DurationData>,
    timeline: Vec<TimelineData>,
    actions: Vec<ActionData>,
    tables: Tables,
    template: &'a str,
}

#[derive(Debug, Serialize)]
struct IncidentData<'a> {
    id: &'a str,
    title: &'a str,
    severity: &'a str,
    severity_description: String,
    status: &'a str,
    services: &'a [String],
    summary: &'a str,
    resolution: Option<&'a str>,
    links: &'a [String],
    caused_by: &'a [String],
    folder: &'a str,
    declared_by: &'a str,
}

#[derive(Debug, Serialize)]
struct Impact {
    start: String,
    end: String,
    duration: String,
}

#[derive(Debug, Serialize)]
struct RoleData {
    role: String,
    description: String,
    person: String,
}

#[derive(Debug, Serialize)]
struct MilestoneData {
    name: String,
    time: String,
    after_previous: String,
    assumed: bool,
}

#[derive(Debug, Serialize)]
struct DurationData {
    name: String,
    from: String,
    to: String,
    value: String,
}

#[derive(Debug, Serialize)]
struct TimelineData {
    time: String,
    kind: String,
    author: String,
    text: String,
}

#[derive(Debug, Serialize)]
struct ActionData {
    number: usize,
    id: String,
    text: String,
    owner: String,
    due: String,
    priority: String,
    kind: String,
    status: String,
    link: String,
}

/// Ready-made Markdown: marked safe, so the Markdown escaping of every
/// other value leaves it as it is.
#[derive(Debug, Serialize)]
struct Tables {
    facts: minijinja::Value,
    milestones: minijinja::Value,
    durations: minijinja::Value,
    timeline: minijinja::Value,
    actions: minijinja::Value,
    severities: minijinja::Value,
}

/// Everything a postmortem is filled with.
pub struct PostmortemInput<'a> {
    pub incident: &'a Incident,
    pub config: &'a Config,
    pub actions: &'a [Action],
    pub severities: &'a [SeveritySpan],
}

fn md_table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut table = Rows::new(headers);
    for row in rows {
        table.push(row.into_iter().map(Value::from).collect());
    }
    table.markdown().trim_end().to_string()
}

fn milestone_table(
    incident: &Incident,
    config: &Config,
    zone: &Zone,
) -> (String, Vec<MilestoneData>) {
    let mut data = Vec::new();
    let mut previous: Option<&crate::model::incident::Milestone> = None;
    for (name, milestone) in incident.milestones_in_order(config) {
        data.push(MilestoneData {
            name: name.to_string(),
            time: zone.long(&milestone.at),
            // No gap is measured from or to an assumed time.
            after_previous: previous
                .filter(|p| p.is_recorded() && milestone.is_recorded())
                .map(|p| format!("+{}", human_duration((milestone.at - p.at).num_seconds())))
                .unwrap_or_default(),
            assumed: milestone.source != MilestoneSource::Recorded,
        });
        previous = Some(milestone);
    }
    let rows = data
        .iter()
        .map(|m| {
            vec![
                m.name.clone(),
                m.time.clone(),
                m.after_previous.clone(),
                if m.assumed {
                    "assumed (not recorded)".into()
                } else {
                    String::new()
                },
            ]
        })
        .collect();
    (
        md_table(&["Milestone", "Time", "After previous", "Note"], rows),
        data,
    )
}

fn action_rows(incident: &str, actions: &[Action]) -> Vec<ActionData> {
    actions
        .iter()
        .map(|a| ActionData {
            number: a.number,
            id: format!("{incident}/{}", a.id),
            text: a.text.clone(),
            owner: a.owner.clone().unwrap_or_default(),
            due: a
                .due
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            priority: a.priority.clone().unwrap_or_default(),
            kind: a.kind.clone().unwrap_or_default(),
            status: a.status.clone(),
            link: a.link.clone().unwrap_or_default(),
        })
        .collect()
}

/// Render a postmortem from a template. The result starts with a header line
/// naming incident and template, which `--refresh` and `check` read.
///
/// Every text from the repository is escaped for Markdown (a title cannot
/// start a heading or close a generated block); the ready-made tables are
/// Markdown already. The result is a file incident can read back: at most
/// [`MAX_FILE_BYTES`] long, with the timeline shortened (its first and last
/// events kept) when the whole of it would not fit. The template's work is
/// bounded too: a template that loops without end, or writes far more than
/// that, stops with an error naming it.
pub fn render(template: &TemplateSource, input: &PostmortemInput<'_>) -> Result<String> {
    let total = input.incident.timeline.len();
    let mut keep = total;
    loop {
        let text = render_keeping(template, input, keep)?;
        if text.len() <= MAX_FILE_BYTES {
            return Ok(text);
        }
        if keep == 0 {
            return Err(Error::Invalid {
                file: template.file.clone(),
                line: None,
                field: "template".into(),
                message: format!(
                    "the postmortem would be {} bytes, more than the {MAX_FILE_BYTES} bytes incident reads; write less from the template (loops over loops?)",
                    text.len()
                ),
            });
        }
        // Shrink in proportion to the excess, and by at least a tenth.
        let fitting = (keep as u128 * MAX_FILE_BYTES as u128 / text.len() as u128) as usize;
        keep = fitting.min(keep - keep.div_ceil(10)).saturating_sub(1);
    }
}

/// [`render`] with at most `keep` timeline events (the first and last ones).
fn render_keeping(
    template: &TemplateSource,
    input: &PostmortemInput<'_>,
    keep: usize,
) -> Result<String> {
    let incident = input.incident;
    let config = input.config;
    let zone = config.zone();
    let (milestones_table, milestones) = milestone_table(incident, config, &zone);
    let durations: Vec<DurationData> = config
        .metrics
        .incident_spans()
        .into_iter()
        .map(|(name, span)| DurationData {
            name: name.replace('_', " "),
            from: span.from.clone(),
            to: span.to.clone(),
            value: match incident.measure(&span.from, &span.to) {
                crate::model::incident::Measure::Measured(seconds) => human_duration(seconds),
                crate::model::incident::Measure::Assumed(name) => {
                    format!("unknown ({name} assumed)")
                }
                crate::model::incident::Measure::Missing(_) => "not recorded".into(),
            },
        })
        .collect();
    let durations_table = md_table(
        &["Duration", "From → to", "Value"],
        durations
            .iter()
            .map(|d| {
                vec![
                    d.name.clone(),
                    format!("{} → {}", d.from, d.to),
                    d.value.clone(),
                ]
            })
            .collect(),
    );
    let entry = |e: &crate::model::incident::TimelineEntry| TimelineData {
        time: zone.long(&e.at),
        kind: e.kind.clone(),
        author: e.author.name.clone(),
        text: e.text.clone(),
    };
    let all = &incident.timeline;
    let timeline: Vec<TimelineData> = if keep >= all.len() {
        all.iter().map(entry).collect()
    } else {
        let head = keep.div_ceil(2);
        let tail = keep - head;
        let mut list: Vec<TimelineData> = all[..head].iter().map(entry).collect();
        list.push(TimelineData {
            time: "…".into(),
            kind: "omitted".into(),
            author: String::new(),
            text: format!(
                "{} events left out to keep this file under {} KiB; `incident timeline {}` lists them all",
                all.len() - keep,
                MAX_FILE_BYTES / 1024,
                incident.id
            ),
        });
        list.extend(all[all.len() - tail..].iter().map(entry));
        list
    };
    let timeline_table = md_table(
        &[
            &format!("Time ({})", zone.name()),
            "Event",
            "Author",
            "What",
        ],
        timeline
            .iter()
            .map(|t| {
                vec![
                    t.time.clone(),
                    t.kind.clone(),
                    t.author.clone(),
                    t.text.clone(),
                ]
            })
            .collect(),
    );
    let actions = action_rows(&incident.id, input.actions);
    let actions_table = if actions.is_empty() {
        format!(
            "No action items yet. Add them with `incident action add {} \"TEXT\" --owner NAME`, then refresh.",
            incident.id
        )
    } else {
        md_table(
            &[
                "#", "Id", "Action", "Owner", "Due", "Priority", "Type", "Status",
            ],
            actions
                .iter()
                .map(|a| {
                    let text = if a.link.is_empty() {
                        a.text.clone()
                    } else {
                        format!("{} ({})", a.text, a.link)
                    };
                    vec![
                        a.number.to_string(),
                        a.id.clone(),
                        text,
                        a.owner.clone(),
                        a.due.clone(),
                        a.priority.clone(),
                        a.kind.clone(),
                        a.status.clone(),
                    ]
                })
                .collect(),
        )
    };
    let severities_table = md_table(
        &["Severity", "From", "To", "Time"],
        input
            .severities
            .iter()
            .map(|s| {
                vec![
                    s.severity.clone(),
                    zone.long(&s.from),
                    zone.long(&s.to),
                    human_duration((s.to - s.from).num_seconds()),
                ]
            })
            .collect(),
    );
    // An assumed end or start is marked, and no duration is built on it.
    let end_name = if incident.milestone("mitigated").is_some() {
        "mitigated"
    } else {
        "resolved"
    };
    let shown = |name: &str| match incident.milestones.get(name) {
        Some(m) if m.is_recorded() => zone.long(&m.at),
        Some(m) => format!("{} (assumed)", zone.long(&m.at)),
        None => "not recorded".into(),
    };
    let impact = Impact {
        start: shown("started"),
        end: shown(end_name),
        duration: match incident.measure("started", end_name) {
            crate::model::incident::Measure::Measured(seconds) => human_duration(seconds),
            crate::model::incident::Measure::Assumed(name) => {
                format!(
                    "unknown: {name} is assumed; record it with `incident update {} --milestone {name}=TIME`",
                    incident.id
                )
            }
            crate::model::incident::Measure::Missing(_) => "unknown".into(),
        },
    };
    let roles: Vec<RoleData> = incident
        .roles
        .iter()
        .map(|(role, person)| RoleData {
            role: role.clone(),
            description: config
                .role(role)
                .map(|r| {
                    r.description
                        .split(':')
                        .next()
                        .unwrap_or_default()
                        .trim()
                        .to_string()
                })
                .unwrap_or_default(),
            person: person.clone(),
        })
        .collect();
    let mut responders: Vec<String> = Vec::new();
    for entry in &incident.timeline {
        if !entry.author.name.is_empty() && !responders.contains(&entry.author.name) {
            responders.push(entry.author.name.clone());
        }
    }
    let severity_description = config
        .severities
        .iter()
        .find(|s| s.name == incident.severity)
        .map(|s| s.description.clone())
        .unwrap_or_default();
    let mut facts = vec![
        vec!["Incident".to_string(), incident.id.clone()],
        vec!["Title".into(), incident.title.clone()],
        vec![
            "Severity".into(),
            if severity_description.is_empty() {
                incident.severity.clone()
            } else {
                format!("{} ({severity_description})", incident.severity)
            },
        ],
        vec![
            "Services".into(),
            if incident.services.is_empty() {
                "none recorded".into()
            } else {
                incident.services.join(", ")
            },
        ],
    ];
    for role in &roles {
        let label = if role.description.is_empty() {
            role.role.clone()
        } else {
            role.description.clone()
        };
        facts.push(vec![label, role.person.clone()]);
    }
    facts.push(vec![
        "Impact".into(),
        format!("{} to {} ({})", impact.start, impact.end, impact.duration),
    ]);
    if let Some(resolution) = &incident.resolution {
        facts.push(vec!["Resolution".into(), resolution.clone()]);
    }
    facts.push(vec![
        "Declared by".into(),
        incident.declared_by.name.clone(),
    ]);
    let facts_table = md_table(&["Field", "Value"], facts);

    let context = TemplateContext {
        incident: IncidentData {
            id: &incident.id,
            title: &incident.title,
            severity: &incident.severity,
            severity_description,
            status: &incident.status,
            services: &incident.services,
            summary: &incident.summary,
            resolution: incident.resolution.as_deref(),
            links: &incident.links,
            caused_by: &incident.caused_by,
            folder: &incident.folder,
            declared_by: &incident.declared_by.name,
        },
        zone: zone.name(),
        impact,
        roles,
        responders,
        milestones,
        durations,
        timeline,
        actions,
        tables: Tables {
            facts: minijinja::Value::from_safe_string(facts_table),
            milestones: minijinja::Value::from_safe_string(milestones_table),
            durations: minijinja::Value::from_safe_string(durations_table),
            timeline: minijinja::Value::from_safe_string(timeline_table),
            actions: minijinja::Value::from_safe_string(actions_table),
            severities: minijinja::Value::from_safe_string(severities_table),
        },
        template: &template.name,
    };
    let mut env = templates::environment();
    env.set_auto_escape_callback(|_| AutoEscape::Custom("markdown".into()));
    env.set_formatter(|out, _state, value| {
        let text = value.to_string();
        if value.is_safe() {
            out.write_str(&text)
        } else {
            out.write_str(&markdown_text(&text))
        }
        .map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "cannot write"))
    });
    env.add_filter("cell", |text: String| {
        minijinja::Value::from_safe_string(markdown_cell(&text))
    });
    env.add_filter("url", |text: String| url_or_text(&text));
    let body = templates::render(&mut env, template, &context, "a postmortem")?;
    Ok(format!(
        "{HEADER_MARK} incident={} template={} -->\n{}\n",
        incident.id,
        template.name,
        body.trim_matches('\n')
    ))
}

/// A link as a Markdown autolink `<URL>` when it is one, else escaped text.
fn url_or_text(text: &str) -> minijinja::Value {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !matches!(c, '<' | '>' | '`'));
    let scheme = text.split_once("://").is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    if plain && scheme {
        minijinja::Value::from_safe_string(format!("<{text}>"))
    } else {
        minijinja::Value::from_safe_string(markdown_text(text))
    }
}

/// The template a postmortem was written from, from its header line.
pub fn header_template(text: &str) -> Option<String> {
    let line = text
        .lines()
        .take(3)
        .find(|l| l.trim_start().starts_with(HEADER_MARK))?;
    line.split_whitespace()
        .find_map(|word| word.strip_prefix("template="))
        .map(|t| t.trim_end_matches("-->").to_string())
        .filter(|t| !t.is_empty())
}

/// One generated block: its name and the 0-based lines of its markers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub name: String,
    pub begin: usize,
    pub end: usize,
}

fn marker_name(line: &str, mark: &str) -> Option<String> {
    let rest = line.trim().strip_prefix(mark)?;
    let name: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// The generated blocks of a document; `file` names it in errors.
pub fn blocks(file: &str, text: &str) -> Result<Vec<Block>> {
    let mut found = Vec::new();
    let mut open: Option<(String, usize)> = None;
    for (index, line) in text.lines().enumerate() {
        if let Some(name) = marker_name(line, BEGIN_MARK) {
            if let Some((outer, at)) = &open {
                return Err(Error::Invalid {
                    file: file.into(),
                    line: Some(index + 1),
                    field: "generated block".into(),
                    message: format!(
                        "block '{name}' begins inside block '{outer}' (begun on line {})",
                        at + 1
                    ),
                });
            }
            open = Some((name, index));
        } else if let Some(name) = marker_name(line, END_MARK) {
            match open.take() {
                Some((begun, at)) if begun == name => found.push(Block {
                    name,
                    begin: at,
                    end: index,
                }),
                _ => {
                    return Err(Error::Invalid {
                        file: file.into(),
                        line: Some(index + 1),
                        field: "generated block".into(),
                        message: format!(
                            "END GENERATED {name} has no matching BEGIN GENERATED {name}"
                        ),
                    });
                }
            }
        }
    }
    if let Some((name, at)) = open {
        return Err(Error::Invalid {
            file: file.into(),
            line: Some(at + 1),
            field: "generated block".into(),
            message: format!("block '{name}' has no END GENERATED {name} line"),
        });
    }
    Ok(found)
}

/// Replace the inside of each generated block of `existing` with the same
/// block of `fresh`; every other line stays as it was. Returns the new text
/// and the names of fresh blocks that `existing` no longer has.
pub fn refresh(file: &str, existing: &str, fresh: &str) -> Result<(String, Vec<String>)> {
    let old_lines: Vec<&str> = existing.lines().collect();
    let new_lines: Vec<&str> = fresh.lines().collect();
    let old_blocks = blocks(file, existing)?;
    let new_blocks = blocks("(rendered template)", fresh)?;
    let mut out: Vec<&str> = Vec::new();
    let mut cursor = 0;
    for block in &old_blocks {
        out.extend_from_slice(&old_lines[cursor..=block.begin]);
        match new_blocks.iter().find(|b| b.name == block.name) {
            Some(new) => out.extend_from_slice(&new_lines[new.begin + 1..new.end]),
            None => out.extend_from_slice(&old_lines[block.begin + 1..block.end]),
        }
        cursor = block.end;
    }
    out.extend_from_slice(&old_lines[cursor.min(old_lines.len())..]);
    let missing = new_blocks
        .iter()
        .filter(|b| !old_blocks.iter().any(|o| o.name == b.name))
        .map(|b| b.name.clone())
        .collect();
    let mut text = out.join("\n");
    if existing.ends_with('\n') || existing.is_empty() {
        text.push('\n');
    }
    Ok((text, missing))
}

/// The JSON record of one action item.
#[derive(Debug, Serialize)]
pub struct ActionJson<'a> {
    pub reference: String,
    pub id: &'a str,
    pub incident: &'a str,
    pub number: usize,
    pub text: &'a str,
    pub owner: Option<&'a str>,
    /// `YYYY-MM-DD`.
    pub due: Option<String>,
    pub priority: Option<&'a str>,
    #[serde(rename = "type")]
    pub kind: Option<&'a str>,
    pub link: Option<&'a str>,
    pub status: &'a str,
    pub reason: Option<&'a str>,
    pub overdue: bool,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub author: &'a str,
    pub file: &'a str,
}

pub fn action_json(a: &Action, today: NaiveDate) -> ActionJson<'_> {
    ActionJson {
        reference: format!("{}/{}", a.incident, a.id),
        id: &a.id,
        incident: &a.incident,
        number: a.number,
        text: &a.text,
        owner: a.owner.as_deref(),
        due: a.due.map(|d| d.format("%Y-%m-%d").to_string()),
        priority: a.priority.as_deref(),
        kind: a.kind.as_deref(),
        link: a.link.as_deref(),
        status: &a.status,
        reason: a.reason.as_deref(),
        overdue: a.is_overdue(today),
        created_at: a.created_at.to_rfc3339(),
        finished_at: a.finished_at.map(|t| t.to_rfc3339()),
        author: &a.author.name,
        file: &a.file,
    }
}

/// `incident actions`: table, JSON, CSV or Markdown.
pub fn actions(list: &[Action], today: NaiveDate, format: Format, style: &Style) -> Result<String> {
    if format == Format::Json {
        let records: Vec<ActionJson<'_>> = list.iter().map(|a| action_json(a, today)).collect();
        return json(&records);
    }
    let mut rows = Rows::new(&[
        "ACTION", "#", "STATUS", "DUE", "OWNER", "PRIORITY", "TYPE", "TEXT",
    ])
    .wrap_column("TEXT")
    .keep_whole(&["ACTION", "#", "DUE"]);
    for action in list {
        let overdue = action.is_overdue(today);
        let red = |text: String| Value {
            text,
            color: overdue.then_some(Color::Red),
        };
        rows.push(vec![
            format!("{}/{}", action.incident, action.id).into(),
            action.number.to_string().into(),
            red(if overdue {
                "overdue".into()
            } else {
                action.status.clone()
            }),
            red(action
                .due
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default()),
            action.owner.clone().unwrap_or_default().into(),
            action.priority.clone().unwrap_or_default().into(),
            action.kind.clone().unwrap_or_default().into(),
            action.text.clone().into(),
        ]);
    }
    rows.render(format, style)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_replaces_only_generated_blocks() {
        let existing = "<!-- incident postmortem: incident=x template=sre -->\n# T\n<!-- BEGIN GENERATED a: note -->\nold\n<!-- END GENERATED a -->\nhuman text\n<!-- BEGIN GENERATED gone -->\nkeep\n<!-- END GENERATED gone -->\ntail\n";
        let fresh = "# T2\n<!-- BEGIN GENERATED a -->\nnew 1\nnew 2\n<!-- END GENERATED a -->\nprompt\n<!-- BEGIN GENERATED extra -->\nx\n<!-- END GENERATED extra -->\n";
        let (text, missing) = refresh("p.md", existing, fresh).unwrap();
        assert_eq!(
            text,
            "<!-- incident postmortem: incident=x template=sre -->\n# T\n<!-- BEGIN GENERATED a: note -->\nnew 1\nnew 2\n<!-- END GENERATED a -->\nhuman text\n<!-- BEGIN GENERATED gone -->\nkeep\n<!-- END GENERATED gone -->\ntail\n"
        );
        assert_eq!(missing, ["extra"]);
        assert_eq!(header_template(existing).as_deref(), Some("sre"));
    }

    #[test]
    fn text_is_escaped_for_markdown() {
        assert_eq!(
            url_or_text("https://grafana/d/checkout_p99").to_string(),
            "<https://grafana/d/checkout_p99>"
        );
        assert_eq!(url_or_text("not a <url>").to_string(), "not a &lt;url&gt;");
    }

    #[test]
    fn broken_markers_name_the_line() {
        let err = blocks("p.md", "a\n<!-- BEGIN GENERATED a -->\nb\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("p.md:2:"), "{err}");
        let err = blocks("p.md", "<!-- END GENERATED a -->\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("p.md:1:"), "{err}");
    }
}
