//! The templates updates are written from: built in (`templates/comms-*.md`)
//! or the repository's own `incidents/templates/comms-NAME.md`.

use git2::Tree;
use serde::Serialize;

use crate::comms::{self, PUBLIC};
use crate::config::Config;
use crate::error::Result;
use crate::model::incident::Incident;
use crate::store::Store;
use crate::templates::{Family, TemplateSource};
use crate::time::{Timestamp, human_duration};

/// (name, file, text) of the built-in templates.
pub const BUILTIN: &[(&str, &str, &str)] = &[
    (
        "initial",
        "templates/comms-initial.md",
        include_str!("../../templates/comms-initial.md"),
    ),
    (
        "update",
        "templates/comms-update.md",
        include_str!("../../templates/comms-update.md"),
    ),
    (
        "resolved",
        "templates/comms-resolved.md",
        include_str!("../../templates/comms-resolved.md"),
    ),
    (
        "tactical",
        "templates/comms-tactical.md",
        include_str!("../../templates/comms-tactical.md"),
    ),
    (
        "executive",
        "templates/comms-executive.md",
        include_str!("../../templates/comms-executive.md"),
    ),
];

/// The template an update starts from when none is named: the first public
/// post, a public update, the resolution; tactical for the company,
/// executive for executives.
pub fn default_template(incident: &Incident, audience: &str, status: Option<&str>) -> &'static str {
    match audience {
        PUBLIC if status == Some("resolved") => "resolved",
        PUBLIC if comms::public_state(incident).is_none() => "initial",
        PUBLIC => "update",
        "exec" => "executive",
        _ => "tactical",
    }
}

/// The stakeholder-update templates.
pub const TEMPLATES: Family = Family {
    prefix: "comms",
    what: "comms template",
    builtin: BUILTIN,
};

/// A template by name: the repository's file (working tree first, then
/// HEAD, like the config) or the built-in one.
pub fn load(store: &Store, tree: Option<&Tree<'_>>, name: &str) -> Result<TemplateSource> {
    TEMPLATES.load(store, tree, name)
}

#[derive(Serialize)]
struct ComponentVar {
    id: String,
    name: String,
    state: String,
    label: &'static str,
}

#[derive(Serialize)]
struct IncidentVar<'a> {
    id: &'a str,
    title: &'a str,
    severity: &'a str,
    status: &'a str,
    services: &'a [String],
    summary: &'a str,
    commander: &'a str,
    /// Since impact began, for people ("1h 05m"); empty when unknown.
    age: String,
}

#[derive(Serialize)]
struct PublicVar {
    title: String,
    status: String,
}

#[derive(Serialize)]
struct NoteVar {
    at: String,
    text: String,
}

#[derive(Serialize)]
struct Context<'a> {
    incident: IncidentVar<'a>,
    public: PublicVar,
    audience: &'a str,
    status: &'a str,
    components: Vec<ComponentVar>,
    next_update: String,
    notes: Vec<NoteVar>,
    zone: String,
}

/// What a template is rendered for.
pub struct TemplateInput<'a> {
    pub config: &'a Config,
    pub incident: &'a Incident,
    pub audience: &'a str,
    /// The public status of the update being written.
    pub status: Option<&'a str>,
    /// Components and states the update will set (or, when empty, those the
    /// incident affects now).
    pub components: &'a [(String, String)],
    pub next_update: Option<Timestamp>,
    pub now: Timestamp,
}

/// `03:20 UTC`, or `2026-11-25 03:20 UTC` when it is not today.
pub fn clock(config: &Config, t: &Timestamp, now: &Timestamp) -> String {
    let zone = config.zone();
    let local = zone.convert(t);
    let format = if local.date_naive() == zone.convert(now).date_naive() {
        "%H:%M"
    } else {
        "%Y-%m-%d %H:%M"
    };
    let name = match zone.name().as_str() {
        "local time" if local.offset().local_minus_utc() == 0 => "UTC".to_string(),
        "local time" => local.format("UTC%:z").to_string(),
        other => other.to_string(),
    };
    format!("{} {name}", local.format(format))
}

/// A template rendered for the editor: its text, and the placeholders
/// (`{{ fill("what the responders need") }}`, shown as `[what the
/// responders need]`) the person must replace before the update is posted.
pub struct Draft {
    pub text: String,
    pub placeholders: Vec<String>,
}

impl Draft {
    /// The first placeholder still in the text a person saved.
    pub fn unedited<'a>(&'a self, saved: &str) -> Option<&'a str> {
        self.placeholders
            .iter()
            .find(|p| saved.contains(p.as_str()))
            .map(String::as_str)
    }
}

/// Render a template into the text an editor is prefilled with.
pub fn render(template: &TemplateSource, input: &TemplateInput<'_>) -> Result<Draft> {
    let incident = input.incident;
    let config = input.config;
    let public = comms::public_state(incident);
    let mut components: Vec<(String, String)> = input.components.to_vec();
    if components.is_empty() {
        components = public
            .as_ref()
            .map(|p| p.components.clone().into_iter().collect())
            .unwrap_or_default();
    }
    if components.is_empty() {
        components = comms::default_components(config, incident, input.status.unwrap_or(""))
            .into_iter()
            .collect();
    }
    let components = components
        .into_iter()
        .filter_map(|(id, state)| {
            config.component(&id).map(|c| ComponentVar {
                id: id.clone(),
                name: c.name.clone(),
                label: comms::state_label(&state),
                state,
            })
        })
        .collect();
    let zone = config.zone();
    let notes: Vec<&crate::model::incident::TimelineEntry> = incident
        .timeline
        .iter()
        .filter(|e| e.kind == "note")
        .collect();
    let context = Context {
        incident: IncidentVar {
            id: &incident.id,
            title: &incident.title,
            severity: &incident.severity,
            status: &incident.status,
            services: &incident.services,
            summary: &incident.summary,
            commander: incident.commander().unwrap_or(""),
            age: incident
                .milestone("started")
                .map(|s| human_duration((input.now - s).num_seconds()))
                .unwrap_or_default(),
        },
        public: PublicVar {
            title: public.as_ref().map(|p| p.title.clone()).unwrap_or_default(),
            status: public
                .as_ref()
                .map(|p| p.status.clone())
                .unwrap_or_default(),
        },
        audience: input.audience,
        status: input.status.unwrap_or(""),
        components,
        next_update: input
            .next_update
            .map(|t| clock(config, &t, &input.now))
            .unwrap_or_default(),
        notes: notes[notes.len().saturating_sub(5)..]
            .iter()
            .map(|e| NoteVar {
                at: zone.convert(&e.at).format("%H:%M").to_string(),
                text: e.text.clone(),
            })
            .collect(),
        zone: zone.name(),
    };
    let placeholders = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut env = crate::templates::environment();
    let seen = placeholders.clone();
    env.add_function("fill", move |hint: String| {
        let shown = format!("[{hint}]");
        if let Ok(mut seen) = seen.lock() {
            seen.push(shown.clone());
        }
        shown
    });
    let text = crate::templates::render(&mut env, template, &context, "an update")?;
    drop(env);
    let placeholders = placeholders
        .lock()
        .map(|mut p| std::mem::take(&mut *p))
        .unwrap_or_default();
    Ok(Draft {
        text: format!("{}\n", text.trim()),
        placeholders,
    })
}

/// The lines an editor shows above the text; removed again afterwards.
pub fn editor_header(incident: &Incident, audience: &str, template: &str) -> String {
    let mut header = format!(
        "# {audience} update for incident {} (template {template}).\n",
        incident.id
    );
    if audience == PUBLIC {
        header.push_str(
            "# This text is PUBLISHED on the status page: no internal names, causes or guesses at a time of repair.\n",
        );
    }
    header.push_str("# Lines starting with '#' are removed; an empty text records nothing.\n");
    header
}

/// The text a person saved: without comment lines, trimmed.
pub fn strip_comments(text: &str) -> String {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}
