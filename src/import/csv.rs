//! A generic CSV, one row per incident, with a column mapping (`[columns]`
//! in `--map`): PagerDuty, Opsgenie and Jira exports, or this tool's own
//! `incident export --format csv`, whose column names are the defaults.
//!
//! Fields: `id` (required, the source's id), `title`, `severity`,
//! `services` (separated by `;` or `,`), `summary`, `links` (separated by
//! spaces), and times: `declared` (default: `started`, else `detected`),
//! `started`, `detected`, `acknowledged`, `identified`, `mitigated`
//! (milestones), `resolved` and `closed` (status changes), and `status`
//! (the state it is in: PagerDuty's `triggered` and `acknowledged`, or the
//! lifecycle's, or `[status]` in the mapping). Dates are RFC
//! 3339 or `YYYY-MM-DD HH:MM[:SS]`, or `time_format` (chrono strftime);
//! without a zone they are read in `timezone`, else the config's zone.

use std::path::Path;

use super::mapping::Mapping;
use super::times;
use super::{Parsed, Problem, Record, Step, input_files};
use crate::config::Config;
use crate::error::{Result, io_err};
use crate::time::Timestamp;

/// Milestones a column may hold, set as milestones.
const MILESTONES: &[&str] = &["acknowledged", "identified", "mitigated"];

/// PagerDuty's incident states → the default lifecycle's (others: by name,
/// or `[status]` in the mapping).
const STATES: &[(&str, &str)] = &[("triggered", "triage"), ("acknowledged", "investigating")];

pub fn parse(path: &Path, config: &Config, mapping: &Mapping) -> Result<Parsed> {
    let mut parsed = Parsed::default();
    let zone = mapping.zone(config.zone());
    for file in input_files(path, "csv")? {
        let name = file.display().to_string();
        let reader = std::fs::File::open(&file).map_err(io_err(&file))?;
        let mut reader = ::csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(reader);
        let headers = match reader.headers() {
            Ok(h) => h.clone(),
            Err(e) => {
                parsed.problems.push(Problem {
                    file: name,
                    line: Some(1),
                    message: format!("cannot read the header row: {e}"),
                });
                continue;
            }
        };
        let index = |field: &str| {
            let column = mapping.column(field);
            headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(column))
        };
        if index("id").is_none() {
            parsed.problems.push(Problem {
                file: name.clone(),
                line: Some(1),
                message: format!(
                    "no column '{}' for the incident id; name it with [columns] id = \"...\" in a --map file",
                    mapping.column("id")
                ),
            });
            continue;
        }
        for row in reader.records() {
            let row = match row {
                Ok(row) => row,
                Err(e) => {
                    parsed.problems.push(Problem {
                        file: name.clone(),
                        line: e.position().map(|p| p.line() as usize),
                        message: format!("unreadable row: {e}"),
                    });
                    continue;
                }
            };
            let line = row.position().map(|p| p.line() as usize);
            let problem = |message: String| Problem {
                file: name.clone(),
                line,
                message,
            };
            let get = |field: &str| {
                index(field)
                    .and_then(|i| row.get(i))
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
            };
            let time = |field: &str| -> std::result::Result<Option<Timestamp>, Problem> {
                match get(field) {
                    None => Ok(None),
                    Some(value) => times::parse(value, &zone, mapping.time_format.as_deref())
                        .map(Some)
                        .ok_or_else(|| {
                            problem(format!(
                                "column '{}': '{value}' is not a time{}",
                                mapping.column(field),
                                mapping
                                    .time_format
                                    .as_deref()
                                    .map(|f| format!(" in the format {f}"))
                                    .unwrap_or_default()
                            ))
                        }),
                }
            };
            let result = (|| {
                let id = get("id").ok_or_else(|| problem("the id is empty".into()))?;
                let started = time("started")?;
                let detected = time("detected")?;
                let declared = time("declared")?.or(started).or(detected).ok_or_else(|| {
                    problem("no time: the row needs a declared, started or detected time".into())
                })?;
                let mut steps = Vec::new();
                for milestone in MILESTONES {
                    if let Some(at) = time(milestone)? {
                        steps.push(Step::Milestone {
                            at,
                            name: (*milestone).to_string(),
                        });
                    }
                }
                let resolution = get("resolution").map(str::to_string);
                if let Some(at) = time("resolved")? {
                    steps.push(Step::Status {
                        at,
                        to: mapping
                            .status("resolved", &[])
                            .unwrap_or_else(|| "resolved".into()),
                        text: resolution.clone(),
                    });
                }
                if let Some(at) = time("closed")? {
                    steps.push(Step::Status {
                        at,
                        to: mapping
                            .status("closed", &[])
                            .unwrap_or_else(|| "closed".into()),
                        text: None,
                    });
                }
                // The state the row says it is in: entered at its
                // milestone's time when the row states one, else at a time
                // nobody knows (after everything the row states).
                if let Some(to) = get("status").and_then(|s| mapping.status(s, STATES)) {
                    let milestone = config.state(&to).and_then(|s| s.milestone.clone());
                    let stated = match milestone.as_deref() {
                        Some(name) if MILESTONES.contains(&name) => time(name)?,
                        _ => None,
                    };
                    match stated {
                        Some(at) => steps.push(Step::Status { at, to, text: None }),
                        None => steps.push(Step::StatusAtUnknownTime {
                            after: steps.iter().map(Step::at).fold(declared, Timestamp::max),
                            said: format!(
                                "the source says it is {} (column '{}')",
                                get("status").unwrap_or_default(),
                                mapping.column("status")
                            ),
                            to,
                        }),
                    }
                }
                let split = |text: Option<&str>, separators: &[char]| -> Vec<String> {
                    text.map(|t| {
                        t.split(separators)
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default()
                };
                Ok(Record {
                    source_id: id.to_string(),
                    file: name.clone(),
                    line,
                    title: get("title").unwrap_or_default().to_string(),
                    severity: mapping.severity(get("severity").unwrap_or_default(), &[]),
                    services: split(get("services"), &[';', ',']),
                    summary: get("summary").unwrap_or_default().to_string(),
                    links: split(get("links"), &[' ']),
                    declared_at: declared,
                    started_at: started,
                    detected_at: detected,
                    steps,
                })
            })();
            match result {
                Ok(record) => parsed.records.push(record),
                Err(problem) => parsed.problems.push(problem),
            }
        }
    }
    Ok(parsed)
}
