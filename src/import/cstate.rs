//! cState status sites (Hugo): one Markdown file per incident under
//! `content/issues/`, with front matter (`title`, `date`, `resolved`,
//! `resolvedWhen`, `severity` down/disrupted/notice, `affected`) and the
//! body's `{{< track "TIME" >}}` shortcodes marking timed updates.
//!
//! An incident becomes: declared and started at `date`, resolved at
//! `resolvedWhen`; the affected systems are its services; each tracked
//! update is a note at its time, and the text before the first one is the
//! summary. Times without a zone are UTC, as cState writes them (a
//! mapping's `timezone` says otherwise).

use std::path::Path;

use super::mapping::Mapping;
use super::times;
use super::{Parsed, Problem, Record, Step, input_files, read_text};
use crate::config::Config;
use crate::error::Result;
use crate::time::{Timestamp, Zone};

/// cState severity → ours, unless the mapping says otherwise.
const SEVERITIES: &[(&str, &str)] = &[("down", "SEV2"), ("disrupted", "SEV3"), ("notice", "SEV4")];

pub fn parse(path: &Path, _config: &Config, mapping: &Mapping) -> Result<Parsed> {
    let mut parsed = Parsed::default();
    let zone = mapping.zone(Zone::Utc);
    for file in input_files(path, "md")? {
        match read_text(&file).and_then(|text| record(&file, &text, mapping, &zone)) {
            Ok(record) => parsed.records.push(record),
            Err(problem) => parsed.problems.push(problem),
        }
    }
    Ok(parsed)
}

/// The front matter's `key: value` pairs (with their lines) and the body.
struct FrontMatter {
    fields: Vec<(String, String, usize)>,
    lists: Vec<(String, Vec<String>)>,
    body: String,
    /// The file's line number of the body's first line.
    body_line: usize,
}

fn front_matter(text: &str) -> Option<FrontMatter> {
    let mut lines = text.lines().enumerate();
    let (_, first) = lines.next()?;
    if first.trim() != "---" {
        return None;
    }
    let mut matter = FrontMatter {
        fields: Vec::new(),
        lists: Vec::new(),
        body: String::new(),
        body_line: 1,
    };
    let mut closed = false;
    let mut body_start = 0;
    for (number, line) in lines.by_ref() {
        if line.trim() == "---" {
            closed = true;
            body_start = number + 1;
            break;
        }
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(item) = trimmed.strip_prefix("- ") {
            if let Some((_, items)) = matter.lists.last_mut() {
                items.push(unquote(item));
            }
            continue;
        }
        if let Some((key, value)) = trimmed.split_once(':') {
            let key = key.trim().to_string();
            let value = value.trim();
            if value.is_empty() {
                matter.lists.push((key, Vec::new()));
            } else if let Some(inline) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
                let items = inline
                    .split(',')
                    .map(unquote)
                    .filter(|s| !s.is_empty())
                    .collect();
                matter.lists.push((key, items));
            } else {
                matter.fields.push((key, unquote(value), number + 1));
            }
        }
    }
    if !closed {
        return None;
    }
    matter.body = text.lines().skip(body_start).collect::<Vec<_>>().join("\n");
    matter.body_line = body_start + 1;
    Some(matter)
}

fn unquote(value: &str) -> String {
    let value = value.trim();
    let value = value.split(" #").next().unwrap_or(value).trim();
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value)
        .to_string()
}

fn record(
    path: &Path,
    text: &str,
    mapping: &Mapping,
    zone: &Zone,
) -> std::result::Result<Record, Problem> {
    let file = path.display().to_string();
    let problem = |line: Option<usize>, message: String| Problem {
        file: file.clone(),
        line,
        message,
    };
    let matter = front_matter(text).ok_or_else(|| {
        problem(
            Some(1),
            "no front matter: a cState incident starts with a block between two '---' lines".into(),
        )
    })?;
    let field = |key: &str| {
        matter
            .fields
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, line)| (v.clone(), *line))
    };
    let time = |key: &str| -> std::result::Result<Option<Timestamp>, Problem> {
        match field(key) {
            None => Ok(None),
            Some((value, line)) => times::parse(&value, zone, None)
                .map(Some)
                .ok_or_else(|| problem(Some(line), format!("{key}: '{value}' is not a time"))),
        }
    };
    let (title, _) = field("title").ok_or_else(|| problem(Some(1), "no title".into()))?;
    let date = time("date")?.ok_or_else(|| problem(Some(1), "no date".into()))?;
    let severity = field("severity")
        .map(|(v, _)| v)
        .unwrap_or_else(|| "notice".into());
    let resolved = field("resolved").is_some_and(|(v, _)| v.eq_ignore_ascii_case("true"));
    let services = matter
        .lists
        .iter()
        .find(|(k, _)| k == "affected")
        .map(|(_, items)| items.clone())
        .unwrap_or_default();
    let (summary, tracked) = split_tracked(&matter.body, zone)
        .map_err(|(offset, message)| problem(Some(matter.body_line + offset), message))?;
    // A cState site is a public status page: the text before the first
    // track was its first post, and every track an update.
    let first_post = (!summary.trim().is_empty()).then(|| (date, summary.clone()));
    let mut steps: Vec<Step> = first_post
        .into_iter()
        .chain(tracked)
        .enumerate()
        .map(|(index, (at, text))| Step::Public {
            at,
            status: None,
            text,
            title: (index == 0).then(|| title.clone()),
            impact: None,
        })
        .collect();
    let resolved_to = || {
        mapping
            .status("resolved", &[])
            .unwrap_or_else(|| "resolved".into())
    };
    if resolved {
        match time("resolvedWhen")? {
            Some(at) => steps.push(Step::Status {
                at,
                to: resolved_to(),
                text: None,
            }),
            None => steps.push(Step::StatusAtUnknownTime {
                after: steps.iter().map(Step::at).max().unwrap_or(date).max(date),
                to: resolved_to(),
                said: "the source says it was resolved (resolved: true, no resolvedWhen)".into(),
            }),
        }
    }
    Ok(Record {
        source_id: path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        file: file.clone(),
        line: Some(1),
        title,
        severity: mapping.severity(&severity, SEVERITIES),
        services,
        summary,
        links: Vec::new(),
        declared_at: date,
        started_at: Some(date),
        detected_at: None,
        steps,
    })
}

/// The text before the first `{{< track "TIME" >}}`, and each tracked
/// update; or, for a track whose time does not parse, its line in the body
/// (from 0) and what is wrong: merging its text into another update would
/// date it wrongly.
type Tracked = (String, Vec<(Timestamp, String)>);
fn split_tracked(body: &str, zone: &Zone) -> std::result::Result<Tracked, (usize, String)> {
    let mut summary = String::new();
    let mut updates: Vec<(Timestamp, String)> = Vec::new();
    let mut rest = body;
    let mut current: Option<Timestamp> = None;
    loop {
        let next = rest.find("{{<").filter(|&i| {
            rest[i..]
                .trim_start_matches("{{<")
                .trim_start()
                .starts_with("track")
        });
        let (text, after) = match next {
            Some(i) => (&rest[..i], Some(&rest[i..])),
            None => (rest, None),
        };
        match current {
            Some(at) => updates.push((at, text.trim().to_string())),
            None => summary.push_str(text),
        }
        let Some(after) = after else { break };
        let Some(end) = after.find(">}}") else {
            break;
        };
        let shortcode = &after[..end];
        let stated = shortcode.split('"').nth(1).unwrap_or_default();
        current = times::parse(stated, zone, None);
        if current.is_none() {
            let line = body[..body.len() - after.len()].matches('\n').count();
            return Err((
                line,
                format!(
                    "track: '{stated}' is not a time (use \"YYYY-MM-DD HH:MM:SS\", as cState does)"
                ),
            ));
        }
        rest = &after[end + 3..];
    }
    updates.retain(|(_, text)| !text.is_empty());
    Ok((summary.trim().to_string(), updates))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_and_tracks() {
        let text = "---\ntitle: \"DNS down\"\ndate: 2024-01-01 09:00:00\nresolved: true\nresolvedWhen: 2024-01-01 10:00:00\nseverity: down\naffected:\n  - API\n  - Web\n---\nWe are looking.\n{{< track \"2024-01-01 09:30:00\" >}}\nFound it.\n";
        let zone = Zone::parse("UTC").unwrap();
        let record = record(Path::new("dns.md"), text, &Mapping::default(), &zone).unwrap();
        assert_eq!(record.title, "DNS down");
        assert_eq!(record.services, ["API", "Web"]);
        assert_eq!(record.severity, "SEV2");
        assert_eq!(record.summary, "We are looking.");
        assert_eq!(record.steps.len(), 3);
        assert!(
            matches!(&record.steps[0], Step::Public { text, title: Some(t), .. } if text == "We are looking." && t == "DNS down")
        );
        assert!(
            matches!(&record.steps[1], Step::Public { text, title: None, .. } if text == "Found it.")
        );
    }
}
