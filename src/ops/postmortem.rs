//! `incident postmortem ID`: write or refresh an incident's postmortem from
//! a template, in one commit.

use git2::Tree;

use super::{commit_message, one_line};
use crate::config::Config;
use crate::error::{Error, Result, io_err};
use crate::model::action::Action;
use crate::model::event::{Change, Declaration, Event};
use crate::model::incident::Incident;
use crate::ops::action::read_actions;
use crate::ops::update::UpdateContext;
use crate::render::postmortem::{
    BUILTIN_TEMPLATES, PostmortemInput, SeveritySpan, TemplateSource, header_template, refresh,
    render,
};
use crate::store::write::{Committed, FileWrite, Plan};
use crate::store::{DATA_DIR, FolderRef, Store, read_blob};
use crate::time::Timestamp;
use crate::tomlfile;

/// The postmortem's file name in an incident's folder.
pub const POSTMORTEM_FILE: &str = "postmortem.md";
/// Where a repository keeps its own templates.
pub const TEMPLATES_DIR: &str = "incidents/templates";

pub fn postmortem_path(folder: &str) -> String {
    format!("{folder}/{POSTMORTEM_FILE}")
}

fn repo_template_path(name: &str) -> String {
    format!("{TEMPLATES_DIR}/postmortem-{name}.md")
}

/// Names of every template: built in, plus the repository's own.
pub fn template_names(store: &Store, tree: Option<&Tree<'_>>) -> Result<Vec<String>> {
    let mut names: Vec<String> = BUILTIN_TEMPLATES
        .iter()
        .map(|(n, _, _)| n.to_string())
        .collect();
    let mut add = |file: &str| {
        if let Some(name) = file
            .strip_prefix("postmortem-")
            .and_then(|f| f.strip_suffix(".md"))
            && !names.iter().any(|n| n == name)
        {
            names.push(name.to_string());
        }
    };
    if let Ok(entries) = std::fs::read_dir(store.workdir().join(TEMPLATES_DIR)) {
        for entry in entries.flatten() {
            add(&entry.file_name().to_string_lossy());
        }
    }
    if let Some(tree) = tree
        && let Some(dir) = crate::store::subtree(&store.repo, tree, TEMPLATES_DIR)?
    {
        for entry in dir.iter() {
            if let Ok(name) = entry.name() {
                add(name);
            }
        }
    }
    Ok(names)
}

/// A template by name: the repository's file (working tree first, then
/// HEAD, like the config) or the built-in one.
pub fn load_template(store: &Store, tree: Option<&Tree<'_>>, name: &str) -> Result<TemplateSource> {
    let valid_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid_name {
        let path = repo_template_path(name);
        let on_disk = store.workdir().join(&path);
        let bytes = match std::fs::read(&on_disk) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => tree
                .map(|t| read_blob(&store.repo, t, &path))
                .transpose()?
                .flatten(),
            Err(e) => return Err(io_err(on_disk)(e)),
        };
        if let Some(bytes) = bytes {
            return Ok(TemplateSource {
                name: name.to_string(),
                text: tomlfile::text(&path, &bytes)?.to_string(),
                file: path,
            });
        }
        if let Some((_, file, text)) = BUILTIN_TEMPLATES.iter().find(|(n, _, _)| *n == name) {
            return Ok(TemplateSource {
                name: name.to_string(),
                file: format!("{file} (built in)"),
                text: text.to_string(),
            });
        }
    }
    Err(Error::Unknown {
        what: "template",
        given: name.to_string(),
        valid: template_names(store, tree)?,
    })
}

/// Time at each severity, from declaration to resolution (or the last event).
pub fn severity_spans(
    declaration: &Declaration,
    events: &[Event],
    incident: &Incident,
) -> Vec<SeveritySpan> {
    let mut ordered: Vec<&Event> = events.iter().collect();
    ordered.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    let end = incident
        .milestone("resolved")
        .or_else(|| incident.timeline.last().map(|e| e.at))
        .unwrap_or(declaration.declared_at);
    let mut spans = Vec::new();
    let mut current = (declaration.severity.clone(), declaration.declared_at);
    for event in ordered {
        if let Change::Severity { to, .. } = &event.change {
            if event.at > end {
                break;
            }
            spans.push(SeveritySpan {
                severity: current.0.clone(),
                from: current.1,
                to: event.at,
            });
            current = (to.clone(), event.at);
        }
    }
    spans.push(SeveritySpan {
        severity: current.0,
        from: current.1,
        to: end.max(current.1),
    });
    spans
}

/// Render a fresh postmortem for an incident in `tree`.
pub fn render_for(
    store: &Store,
    config: &Config,
    tree: &Tree<'_>,
    folder: &FolderRef,
    template: &TemplateSource,
) -> Result<(Incident, Vec<Action>, String)> {
    let (declaration, events) = store.read_files(tree, folder)?;
    let incident = Incident::replay(config, &folder.path, &declaration, &events);
    let actions = read_actions(store, tree, folder)?;
    let spans = severity_spans(&declaration, &events, &incident);
    let text = render(
        template,
        &PostmortemInput {
            incident: &incident,
            config,
            actions: &actions,
            severities: &spans,
        },
    )?;
    Ok((incident, actions, text))
}

/// What `incident postmortem ID` was asked to do.
#[derive(Debug, Default, Clone)]
pub struct PostmortemRequest {
    /// Template name; default from the config by severity (or, on refresh,
    /// the one the document names).
    pub template: Option<String>,
    /// Update the generated blocks of an existing postmortem.
    pub refresh: bool,
    /// Let a person edit the text before it is committed.
    pub edit: bool,
}

#[derive(Debug)]
pub struct PostmortemOutcome {
    pub incident: Incident,
    pub path: String,
    pub template: String,
    /// `None` when nothing changed.
    pub committed: Option<Committed>,
    pub created: bool,
    /// Generated blocks of the template that the document no longer has.
    pub missing_blocks: Vec<String>,
}

/// Write, refresh or edit a postmortem. `editor` gets the text and returns
/// the edited text (called only with `request.edit`, before committing).
pub fn write(
    store: &Store,
    query: &str,
    request: &PostmortemRequest,
    now: Timestamp,
    editor: &mut dyn FnMut(&str, &str) -> Result<String>,
) -> Result<PostmortemOutcome> {
    let config = store.config()?;
    let tree = store.head_tree()?.ok_or_else(|| Error::NotFound {
        query: query.into(),
    })?;
    let folder = store.find(&tree, query)?;
    let path = postmortem_path(&folder.path);
    store.ensure_writable()?;
    store.ensure_clean(std::slice::from_ref(&path), &[])?;
    let existing = read_blob(&store.repo, &tree, &path)?
        .map(|bytes| tomlfile::text(&path, &bytes).map(str::to_string))
        .transpose()?;
    if existing.is_some() && !request.refresh && !request.edit {
        return Err(Error::InvalidInput {
            message: format!(
                "{path} exists already; `--refresh` updates its generated parts, `--edit` opens it in your editor"
            ),
        });
    }
    let incident_now = store.load(&config, &tree, &folder)?;
    let template_name = match (&request.template, &existing) {
        (Some(name), _) => name.clone(),
        (None, Some(text)) => header_template(text).unwrap_or_else(|| {
            config
                .postmortem_template(&incident_now.severity)
                .to_string()
        }),
        (None, None) => config
            .postmortem_template(&incident_now.severity)
            .to_string(),
    };
    let template = load_template(store, Some(&tree), &template_name)?;
    let mut missing_blocks = Vec::new();
    let (incident, mut content) = match &existing {
        None => {
            let (incident, _, text) = render_for(store, &config, &tree, &folder, &template)?;
            (incident, text)
        }
        Some(text) if request.refresh => {
            let (incident, _, fresh) = render_for(store, &config, &tree, &folder, &template)?;
            let (refreshed, missing) = refresh(&path, text, &fresh)?;
            missing_blocks = missing;
            (incident, refreshed)
        }
        Some(text) => (incident_now, text.clone()),
    };
    if request.edit {
        content = editor(&path, &content)?;
    }
    if existing.as_deref() == Some(content.as_str()) {
        return Ok(PostmortemOutcome {
            incident,
            path,
            template: template.name,
            committed: None,
            created: false,
            missing_blocks,
        });
    }
    let base_blob = existing.clone();
    let created = existing.is_none();
    let verb = if created {
        "Write"
    } else if request.refresh {
        "Refresh"
    } else {
        "Edit"
    };
    let message = commit_message(
        &format!(
            "{verb} postmortem for incident {}: {}",
            incident.id,
            one_line(&incident.title, 60)
        ),
        &[format!("Template: {}", template.name)],
        &[
            ("Incident", incident.id.clone()),
            ("Incident-Event", "postmortem".into()),
        ],
    );
    let (committed, ()) = store.commit_with(now, |attempt| {
        let current = match attempt.tree {
            Some(t) => {
                read_blob(&store.repo, t, &path)?.map(|b| String::from_utf8_lossy(&b).into_owned())
            }
            None => None,
        };
        if current != base_blob {
            return Err(Error::InvalidInput {
                message: format!(
                    "{path} changed in another commit meanwhile; run the command again"
                ),
            });
        }
        Ok((
            Plan {
                message: message.clone(),
                files: vec![FileWrite {
                    path: path.clone(),
                    content: content.clone().into_bytes(),
                }],
                guard: vec![path.clone()],
            },
            (),
        ))
    })?;
    Ok(PostmortemOutcome {
        incident,
        path,
        template: template.name,
        committed: Some(committed),
        created,
        missing_blocks,
    })
}

/// The postmortem file for an incident that `resolve` should write along
/// with the resolution: `None` when the severity needs none, or one exists.
pub fn for_resolution(store: &Store, context: &UpdateContext<'_>) -> Result<Option<FileWrite>> {
    let (config, tree, folder, after) =
        (context.config, context.tree, context.folder, context.after);
    if !after.needs_postmortem(config) || config.is_open(&after.status) {
        return Ok(None);
    }
    let path = postmortem_path(&folder.path);
    if read_blob(&store.repo, tree, &path)?.is_some() || store.workdir().join(&path).exists() {
        return Ok(None);
    }
    let template = load_template(
        store,
        Some(tree),
        config.postmortem_template(&after.severity),
    )?;
    let actions = read_actions(store, tree, folder)?;
    let spans = severity_spans(context.declaration, context.events, after);
    let text = render(
        &template,
        &PostmortemInput {
            incident: after,
            config,
            actions: &actions,
            severities: &spans,
        },
    )?;
    Ok(Some(FileWrite {
        path,
        content: text.into_bytes(),
    }))
}

/// Every incident folder in `tree` that has a postmortem.
pub fn folders_with_postmortem(store: &Store, tree: &Tree<'_>) -> Result<Vec<FolderRef>> {
    let mut found = Vec::new();
    for folder in store.folders(tree)? {
        if tree
            .get_path(std::path::Path::new(&postmortem_path(&folder.path)))
            .is_ok()
        {
            found.push(folder);
        }
    }
    Ok(found)
}

/// Whether `path` lies inside the incidents folder.
pub fn is_incident_path(path: &str) -> bool {
    path.starts_with(&format!("{DATA_DIR}/"))
}
