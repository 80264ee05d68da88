//! An update as text ready to paste into a chat tool: Slack's mrkdwn,
//! Markdown (Teams, Mattermost, GitHub) or plain text.

use crate::comms::{self, PUBLIC};
use crate::config::Config;
use crate::model::event::{Communication, Event};
use crate::model::incident::Incident;
use crate::time::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chat {
    Slack,
    Markdown,
    Text,
}

/// Slack's three characters that must be escaped in mrkdwn (so a text
/// opens no `<url|link>` or `<!channel>` mention), and no control
/// character (an ESC would reach the terminal it is printed on).
fn slack_escape(text: &str) -> String {
    crate::render::terminal_safe(
        &text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;"),
    )
}

/// Markdown that opens nothing the writer did not type as text: no link
/// (`[x](javascript:...)`), image, emphasis, code, heading, list, HTML or
/// control character; paragraphs kept, each line escaped on its own.
fn markdown_escape(text: &str) -> String {
    text.split('\n')
        .map(crate::render::escape::markdown_text)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The update as a chat message.
pub fn chat(
    config: &Config,
    incident: &Incident,
    event: &Event,
    update: &Communication,
    format: Chat,
    now: &Timestamp,
) -> String {
    let escape = |text: &str| match format {
        Chat::Slack => slack_escape(text),
        Chat::Markdown => markdown_escape(text),
        Chat::Text => crate::render::terminal_safe(text),
    };
    let strong = |text: &str| match format {
        Chat::Slack => format!("*{text}*"),
        Chat::Markdown => format!("**{text}**"),
        Chat::Text => text.to_string(),
    };
    let quiet = |text: &str| match format {
        Chat::Slack | Chat::Markdown => format!("_{text}_"),
        Chat::Text => text.to_string(),
    };
    let public = update.audience == PUBLIC;
    let title = if public {
        comms::public_state(incident)
            .map(|p| p.title)
            .unwrap_or_default()
    } else {
        incident.title.clone()
    };
    let mut label = format!("{} update", capitalise(&update.audience));
    if let Some(status) = &update.status {
        label.push_str(&format!(" · {}", capitalise(status)));
    }
    let mut out = format!(
        "{} {}\n",
        strong(&escape(&label)),
        escape(&format!("{}: {title}", incident.id))
    );
    out.push('\n');
    out.push_str(&escape(&comms::published_text(update)));
    out.push('\n');
    let components: Vec<String> = update
        .components
        .iter()
        .map(|(id, state)| {
            let name = config
                .component(id)
                .map_or(id.as_str(), |c| c.name.as_str());
            format!("{}: {}", escape(name), comms::state_label(state))
        })
        .collect();
    if !components.is_empty() {
        out.push('\n');
        match format {
            Chat::Markdown => {
                for line in &components {
                    out.push_str(&format!("- {line}\n"));
                }
            }
            _ => out.push_str(&format!("{}\n", quiet(&components.join(" · ")))),
        }
    }
    let mut footer = format!("Posted {}", comms::templates::clock(config, &event.at, now));
    if let Some(next) = update.next_update {
        footer.push_str(&format!(
            " · next update by {}",
            comms::templates::clock(config, &next, now)
        ));
    }
    out.push('\n');
    out.push_str(&quiet(&footer));
    out.push('\n');
    out
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `incident comms due`: one row per update owed.
pub fn due_list(
    config: &Config,
    dues: &[(&Incident, comms::Due)],
    format: crate::render::Format,
    style: &crate::render::Style,
) -> crate::Result<String> {
    use crate::render::{Format, Rows, Value};
    if format == Format::Json {
        #[derive(serde::Serialize)]
        struct DueJson<'a> {
            id: &'a str,
            title: &'a str,
            severity: &'a str,
            status: &'a str,
            audience: &'a str,
            due: String,
            reason: comms::DueReason,
            overdue: bool,
            /// Seconds past due (negative: still ahead).
            overdue_seconds: i64,
            last_update: Option<String>,
        }
        let records: Vec<DueJson<'_>> = dues
            .iter()
            .map(|(incident, due)| DueJson {
                id: &incident.id,
                title: &incident.title,
                severity: &incident.severity,
                status: &incident.status,
                audience: &due.audience,
                due: due.due.to_rfc3339(),
                reason: due.reason,
                overdue: due.due < style.now,
                overdue_seconds: (style.now - due.due).num_seconds(),
                last_update: due.last_update.map(|t| t.to_rfc3339()),
            })
            .collect();
        return crate::render::json(&records);
    }
    let mut rows = Rows::new(&["ID", "SEV", "AUDIENCE", "DUE", "", "LAST UPDATE", "TITLE"])
        .wrap_column("TITLE")
        .keep_whole(&["ID", "DUE", "", "LAST UPDATE"]);
    for (incident, due) in dues {
        let seconds = (style.now - due.due).num_seconds();
        let state = if seconds > 0 {
            Value {
                text: format!("overdue {}", crate::time::human_duration(seconds)),
                color: Some(comfy_table::Color::Red),
            }
        } else {
            format!("in {}", crate::time::human_duration(-seconds)).into()
        };
        rows.push(vec![
            incident.id.as_str().into(),
            incident.severity.as_str().into(),
            due.audience.as_str().into(),
            comms::templates::clock(config, &due.due, &style.now).into(),
            state,
            due.last_update
                .map(|t| comms::templates::clock(config, &t, &style.now))
                .unwrap_or_else(|| "never".into())
                .into(),
            incident.title.as_str().into(),
        ]);
    }
    rows.render(format, style)
}
