//! `incident postmortem ID`: write, refresh or edit an incident's
//! postmortem on its review branch (see [`super::review_branch`]), and the
//! draft `resolve` writes there.
//!
//! The current branch never holds an unreviewed postmortem: `resolve`
//! records there that one is due (a `postmortem_due` event) and commits the
//! prefilled draft to `postmortem/<id>`; every later revision goes to that
//! branch too, until merging it publishes the postmortem.

use std::cell::RefCell;

use git2::{Oid, Tree};

use super::{commit_message, event_file_path, event_id, new_event_prefix, one_line};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::action::{Action, ActionRecord, replay as replay_actions};
use crate::model::event::{Change, Declaration, Event};
use crate::model::incident::Incident;
use crate::ops::action::read_records;
use crate::ops::review_branch::{Checkout, ReviewBranch, Tip, review_branch};
use crate::ops::update::UpdateContext;
use crate::render::postmortem::{
    PostmortemInput, SeveritySpan, TEMPLATES, TemplateSource, header_template, refresh, render,
};
use crate::store::identity::Identity;
use crate::store::remote::Transfer;
use crate::store::write::FileWrite;
use crate::store::{DATA_DIR, FolderRef, Store, read_blob};
use crate::time::Timestamp;
use crate::tomlfile;

/// The postmortem's file name in an incident's folder.
pub const POSTMORTEM_FILE: &str = "postmortem.md";
/// Where a repository keeps its own templates.
pub use crate::templates::TEMPLATES_DIR;

pub fn postmortem_path(folder: &str) -> String {
    format!("{folder}/{POSTMORTEM_FILE}")
}

/// Names of every postmortem template: built in, plus the repository's own.
pub fn template_names(store: &Store, tree: Option<&Tree<'_>>) -> Result<Vec<String>> {
    TEMPLATES.names(store, tree)
}

/// A postmortem template by name: the repository's file (working tree
/// first, then HEAD, like the config) or the built-in one.
pub fn load_template(store: &Store, tree: Option<&Tree<'_>>, name: &str) -> Result<TemplateSource> {
    TEMPLATES.load(store, tree, name)
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

/// An incident's files as several trees hold them together: the current
/// branch (where the timeline and action items are recorded) and its review
/// branch. Event and action files are never rewritten, so their union is
/// what merging the branches gives.
#[derive(Debug, Clone)]
pub struct IncidentFiles {
    pub declaration: Declaration,
    pub events: Vec<Event>,
    pub actions: Vec<ActionRecord>,
}

impl IncidentFiles {
    /// Read from `trees` (the first must hold the incident; the others may not).
    pub fn read(store: &Store, trees: &[&Tree<'_>], folder: &FolderRef) -> Result<IncidentFiles> {
        let mut files: Option<IncidentFiles> = None;
        for tree in trees {
            let (declaration, events) = match store.read_files(tree, folder) {
                Ok(found) => found,
                Err(_) if files.is_some() => continue,
                Err(e) => return Err(e),
            };
            let actions = read_records(store, tree, folder)?;
            match &mut files {
                None => {
                    files = Some(IncidentFiles {
                        declaration,
                        events,
                        actions,
                    })
                }
                Some(all) => {
                    for event in events {
                        if !all.events.iter().any(|e| e.id == event.id) {
                            all.events.push(event);
                        }
                    }
                    for action in actions {
                        match all.actions.iter_mut().find(|a| a.id == action.id) {
                            Some(known) => {
                                for change in action.changes {
                                    if !known.changes.iter().any(|(id, _)| *id == change.0) {
                                        known.changes.push(change);
                                    }
                                }
                            }
                            None => all.actions.push(action),
                        }
                    }
                }
            }
        }
        files.ok_or_else(|| Error::NotFound {
            query: folder.id.clone(),
        })
    }

    pub fn incident(&self, config: &Config, folder: &FolderRef) -> Incident {
        Incident::replay(config, &folder.path, &self.declaration, &self.events)
    }
}

/// Render a fresh postmortem from an incident's files.
pub fn render_files(
    config: &Config,
    folder: &FolderRef,
    files: &IncidentFiles,
    template: &TemplateSource,
) -> Result<(Incident, Vec<Action>, String)> {
    let incident = files.incident(config, folder);
    let actions = replay_actions(&folder.id, &files.actions);
    let spans = severity_spans(&files.declaration, &files.events, &incident);
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

/// Render a fresh postmortem for an incident as `trees` hold it together.
pub fn render_for(
    store: &Store,
    config: &Config,
    trees: &[&Tree<'_>],
    folder: &FolderRef,
    template: &TemplateSource,
) -> Result<(Incident, Vec<Action>, String)> {
    render_files(
        config,
        folder,
        &IncidentFiles::read(store, trees, folder)?,
        template,
    )
}

/// A three-way merge of a text, as `git merge-file` does it: `None` when
/// both sides changed the same lines.
pub fn merge_text(path: &str, base: &str, ours: &str, theirs: &str) -> Result<Option<String>> {
    fn input<'t>(path: &str, text: &'t str) -> git2::MergeFileInput<'t> {
        let mut input = git2::MergeFileInput::new();
        input.content(text.as_bytes()).path(path);
        input
    }
    let (base, ours, theirs) = (input(path, base), input(path, ours), input(path, theirs));
    let merged = git2::merge_file(&base, &ours, &theirs, None)?;
    if !merged.is_automergeable() {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(merged.content()).into_owned()))
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
    /// The review branch (`postmortem/<id>`).
    pub branch: String,
    /// The new commit on it; `None` when nothing changed.
    pub commit: Option<Oid>,
    pub created: bool,
    /// Generated blocks of the template that the document no longer has.
    pub missing_blocks: Vec<String>,
    /// The edit was merged with changes the branch got while the editor was open.
    pub merged: bool,
    pub warnings: Vec<String>,
}

/// The editor: gets the path and the text, returns the edited text.
pub type Editor<'a> = &'a mut dyn FnMut(&str, &str) -> Result<String>;

fn commit_subject(verb: &str, incident: &Incident) -> String {
    format!(
        "{verb} postmortem for incident {}: {}",
        incident.id,
        one_line(&incident.title, 60)
    )
}

fn postmortem_message(verb: &str, incident: &Incident, template: &str, branch: &str) -> String {
    commit_message(
        &commit_subject(verb, incident),
        &[
            format!("Template: {template}"),
            format!("The postmortem is reviewed on {branch}; merging that branch publishes it."),
        ],
        &[
            ("Incident", incident.id.clone()),
            ("Incident-Event", "postmortem".into()),
        ],
    )
}

fn verb(created: bool, request: &PostmortemRequest) -> &'static str {
    if created {
        "Draft"
    } else if request.refresh && !request.edit {
        "Refresh"
    } else {
        "Edit"
    }
}

/// The text as a person ends up with it: refreshed, rendered or edited.
struct Planned {
    incident: Incident,
    template: String,
    content: String,
    missing_blocks: Vec<String>,
}

/// Render, refresh or take `existing` as it is, for the request.
fn plan(
    store: &Store,
    config: &Config,
    folder: &FolderRef,
    trees: &[&Tree<'_>],
    request: &PostmortemRequest,
    existing: Option<&str>,
) -> Result<Planned> {
    let path = postmortem_path(&folder.path);
    if existing.is_some() && !request.refresh && !request.edit {
        let published = trees
            .first()
            .is_some_and(|head| head.get_path(std::path::Path::new(&path)).is_ok());
        return Err(Error::InvalidInput {
            message: if published {
                format!(
                    "{path} is published already (it is on your current branch); `--refresh` updates its generated parts, `--edit` opens it in your editor, each in a new review on branch {}",
                    review_branch(&folder.id)
                )
            } else {
                format!(
                    "{path} exists already on branch {}; `--refresh` updates its generated parts, `--edit` opens it in your editor",
                    review_branch(&folder.id)
                )
            },
        });
    }
    let files = IncidentFiles::read(store, trees, folder)?;
    let incident = files.incident(config, folder);
    let template_name = match (&request.template, existing) {
        (Some(name), _) => name.clone(),
        (None, Some(text)) => header_template(text)
            .unwrap_or_else(|| config.postmortem_template(&incident.severity).to_string()),
        (None, None) => config.postmortem_template(&incident.severity).to_string(),
    };
    let template = load_template(store, trees.first().copied(), &template_name)?;
    let mut missing_blocks = Vec::new();
    let content = match existing {
        None => render_files(config, folder, &files, &template)?.2,
        Some(text) if request.refresh => {
            let fresh = render_files(config, folder, &files, &template)?.2;
            let (refreshed, missing) = refresh(&path, text, &fresh)?;
            missing_blocks = missing;
            refreshed
        }
        Some(text) => text.to_string(),
    };
    Ok(Planned {
        incident,
        template: template.name,
        content,
        missing_blocks,
    })
}

/// Write, refresh or edit a postmortem on its review branch. `editor` gets
/// the text and returns the edited text (called only with `request.edit`).
/// The remote's copy of the branch is fetched first and built on.
pub fn write(
    store: &Store,
    query: &str,
    request: &PostmortemRequest,
    now: Timestamp,
    transfer: &mut Transfer<'_>,
    editor: Editor<'_>,
) -> Result<PostmortemOutcome> {
    let config = store.config()?;
    let head_tree = store.head_tree()?.ok_or_else(|| Error::NotFound {
        query: query.into(),
    })?;
    let folder = store.find(&head_tree, query)?;
    let branch = ReviewBranch::new(store, &folder.id, &config.postmortem.remote);
    match branch.checkout()? {
        // incident writes the review branch without a checkout; when it is
        // checked out, it is the person's working copy: git is the tool.
        Checkout::Here => {
            return Err(Error::InvalidInput {
                message: format!(
                    "{} is your current branch: edit {} and `git commit` here, or `git switch -` and run the command again (incident writes the review branch without checking it out)",
                    branch.name,
                    postmortem_path(&folder.path)
                ),
            });
        }
        Checkout::Elsewhere(_) => branch.ensure_movable()?,
        Checkout::Nowhere => {}
    }
    let path = postmortem_path(&folder.path);
    let mut warnings = Vec::new();
    branch.fetch_or_warn(transfer, &mut warnings);
    let start = store.repo.head()?.peel_to_commit()?.id();
    let tip = branch.tip_from(start, &path)?;
    let read = |tip: &Tip| -> Result<Option<String>> {
        match tip.text(store, &path)? {
            Some(text) => Ok(Some(text)),
            // No draft on the branch: a new round of review of the
            // published postmortem starts from the current branch's (as
            // it does once the branch's review is done, see `tip_from`).
            None => read_blob(&store.repo, &head_tree, &path)?
                .map(|bytes| tomlfile::text(&path, &bytes).map(str::to_string))
                .transpose(),
        }
    };
    let existing = read(&tip)?;
    let branch_tree = tip.tree(store)?;
    let mut trees = vec![&head_tree];
    trees.extend(branch_tree.as_ref());
    let planned = plan(
        store,
        &config,
        &folder,
        &trees,
        request,
        existing.as_deref(),
    )?;
    let created = existing.is_none();
    let mut content = planned.content;
    let mut tip = tip;
    let mut merged = false;
    // What the branch holds now: the text to compare with.
    let mut at_tip = existing.clone();
    if request.edit {
        let edited = editor(&path, &content)?;
        // The editor may have been open a long time: build on what the
        // branch holds now, and merge the text if it changed meanwhile.
        branch.fetch_or_warn(transfer, &mut warnings);
        tip = branch.tip_from(start, &path)?;
        at_tip = read(&tip)?;
        content = if at_tip == existing {
            edited
        } else {
            let base = existing.clone().unwrap_or_default();
            let theirs = at_tip.clone().unwrap_or_default();
            match merge_text(&path, &base, &edited, &theirs)? {
                Some(text) => {
                    merged = true;
                    text
                }
                None => {
                    return Err(Error::ReviewConflict {
                        branch: branch.name.clone(),
                        where_: "while the editor was open".into(),
                        remote: branch.remote.clone(),
                        files: vec![path],
                        kept: None,
                    });
                }
            }
        };
    }
    if at_tip.as_deref() == Some(content.as_str()) {
        return Ok(PostmortemOutcome {
            incident: planned.incident,
            path,
            template: planned.template,
            branch: branch.name,
            commit: None,
            created: false,
            missing_blocks: planned.missing_blocks,
            merged,
            warnings,
        });
    }
    check_size(&path, &content)?;
    let identity = Identity::resolve(&store.repo, now)?;
    let message = postmortem_message(
        verb(created, request),
        &planned.incident,
        &planned.template,
        &branch.name,
    );
    let commit = branch.commit(
        &tip,
        start,
        &[FileWrite {
            path: path.clone(),
            content: content.into_bytes(),
        }],
        &message,
        &identity,
    )?;
    Ok(PostmortemOutcome {
        incident: planned.incident,
        path,
        template: planned.template,
        branch: branch.name,
        commit,
        created,
        missing_blocks: planned.missing_blocks,
        merged,
        warnings,
    })
}

/// Refuse to write a postmortem that incident could not read back.
fn check_size(path: &str, content: &str) -> Result<()> {
    if content.len() > tomlfile::MAX_FILE_BYTES {
        return Err(Error::InvalidInput {
            message: format!(
                "{path} would be {} bytes, more than the {} bytes incident reads; nothing was committed: shorten it (supporting material can go in a linked document)",
                content.len(),
                tomlfile::MAX_FILE_BYTES
            ),
        });
    }
    Ok(())
}

/// What `resolve` adds for an incident whose severity needs a postmortem:
/// the `postmortem_due` event (in the resolution's commit) and the draft
/// (afterwards, on the review branch).
pub struct ResolutionPostmortem {
    /// Event ids keep their random part from one attempt to the next.
    prefix: RefCell<Option<String>>,
    draft: RefCell<Option<PendingDraft>>,
}

struct PendingDraft {
    folder: FolderRef,
    template: String,
    incident: Incident,
    text: String,
}

/// The draft `resolve` wrote, or why it did not.
#[derive(Debug)]
pub struct DraftOutcome {
    pub branch: String,
    pub path: String,
    pub template: String,
    /// The commit on the review branch; `None` when the branch had a draft already.
    pub commit: Option<Oid>,
    /// Why no draft was written although one is due.
    pub skipped: Option<String>,
}

impl Default for ResolutionPostmortem {
    fn default() -> Self {
        ResolutionPostmortem {
            prefix: RefCell::new(None),
            draft: RefCell::new(None),
        }
    }
}

impl ResolutionPostmortem {
    /// For [`crate::ops::update::update_with`]: the event file that records
    /// the postmortem as due, when the severity needs one; the draft is
    /// rendered now (a template error stops the resolution) and written by
    /// [`Self::write_draft`] once the resolution is committed.
    pub fn files(&self, store: &Store, context: &UpdateContext<'_>) -> Result<Vec<FileWrite>> {
        let (config, tree, folder, after) =
            (context.config, context.tree, context.folder, context.after);
        *self.draft.borrow_mut() = None;
        if !after.needs_postmortem(config) || config.is_open(&after.status) {
            return Ok(Vec::new());
        }
        let branch = ReviewBranch::new(store, &folder.id, &config.postmortem.remote);
        let mut events = context.events.to_vec();
        let mut files = Vec::new();
        if after.postmortem_due.is_none() {
            let now = after.status_since;
            let recorded = context
                .events
                .iter()
                .map(|e| e.recorded_at)
                .max()
                .unwrap_or(now);
            let change = Change::PostmortemDue {
                branch: branch.name.clone(),
            };
            let prefix = match self.prefix.borrow().clone() {
                Some(prefix) => prefix,
                None => new_event_prefix(&recorded)?,
            };
            *self.prefix.borrow_mut() = Some(prefix.clone());
            let author = context
                .events
                .iter()
                .max_by_key(|e| e.seq)
                .map(|e| e.author.clone())
                .unwrap_or_else(|| context.declaration.author());
            let event = Event {
                id: event_id(&prefix, &change),
                at: now,
                recorded_at: recorded,
                // Its time is the resolution's, stated or not as that was.
                stated: now != recorded,
                seq: events
                    .iter()
                    .map(|e| e.seq)
                    .max()
                    .map_or(0, |s| s.saturating_add(1)),
                author,
                change,
            };
            files.push(FileWrite {
                path: event_file_path(&folder.path, &event),
                content: event.to_toml()?.into_bytes(),
            });
            events.push(event);
        }
        let path = postmortem_path(&folder.path);
        let tip = branch.tip()?;
        let drafted =
            tip.text(store, &path)?.is_some() || read_blob(&store.repo, tree, &path)?.is_some();
        if !drafted {
            let branch_tree = tip.tree(store)?;
            let mut trees = vec![tree];
            trees.extend(branch_tree.as_ref());
            let mut all = IncidentFiles::read(store, &trees, folder)?;
            all.declaration = context.declaration.clone();
            for event in events {
                if !all.events.iter().any(|e| e.id == event.id) {
                    all.events.push(event);
                }
            }
            let template = load_template(
                store,
                Some(tree),
                config.postmortem_template(&after.severity),
            )?;
            let (incident, _, text) = render_files(config, folder, &all, &template)?;
            check_size(&path, &text)?;
            *self.draft.borrow_mut() = Some(PendingDraft {
                folder: folder.clone(),
                template: template.name,
                incident,
                text,
            });
        }
        Ok(files)
    }

    /// Commit the rendered draft on the review branch, starting from the
    /// resolution's commit. The resolution stands whatever happens here:
    /// a draft that could not be written is reported, and
    /// `incident postmortem ID` writes it later.
    pub fn write_draft(&self, store: &Store, start: Oid, now: Timestamp) -> Option<DraftOutcome> {
        let draft = self.draft.borrow_mut().take()?;
        let config = store.config().ok()?;
        let branch = ReviewBranch::new(store, &draft.folder.id, &config.postmortem.remote);
        let path = postmortem_path(&draft.folder.path);
        let mut outcome = DraftOutcome {
            branch: branch.name.clone(),
            path: path.clone(),
            template: draft.template.clone(),
            commit: None,
            skipped: None,
        };
        let written = (|| -> Result<Option<Oid>> {
            if branch.checkout()? != Checkout::Nowhere {
                return Err(Error::InvalidInput {
                    message: format!("{} is checked out", branch.name),
                });
            }
            let identity = Identity::resolve(&store.repo, now)?;
            let tip = branch.tip()?;
            if tip.text(store, &path)?.is_some() {
                return Ok(None);
            }
            let message =
                postmortem_message("Draft", &draft.incident, &draft.template, &branch.name);
            branch.commit(
                &tip,
                start,
                &[FileWrite {
                    path: path.clone(),
                    content: draft.text.into_bytes(),
                }],
                &message,
                &identity,
            )
        })();
        match written {
            Ok(commit) => outcome.commit = commit,
            Err(e) => outcome.skipped = Some(e.to_string()),
        }
        Some(outcome)
    }
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
