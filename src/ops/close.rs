//! `incident close ID`: close an incident whose postmortem is published and
//! passes the check; `--force --reason` records the override instead.
//!
//! A postmortem somebody started (a draft, or one in review) keeps even an
//! incident that needs none from closing: closed, it would be stranded.
//! When this clone cannot tell when the postmortem was published (a shallow
//! clone), `close` refuses rather than record a made-up milestone; forced,
//! it closes without recording `postmortem_published`.

use super::update::{UpdateOutcome, UpdateRequest, update};
use crate::error::{Error, Result};
use crate::model::incident::{Incident, MilestoneSource};
use crate::ops::postmortem_check::{Level, Problem, check_folder};
use crate::ops::publication::PUBLISHED_MILESTONE;
use crate::ops::review::{PostmortemState, Publication, state};
use crate::store::Store;
use crate::time::Timestamp;

#[derive(Debug, Default, Clone)]
pub struct CloseRequest {
    /// Close even without a published, passing postmortem.
    pub force: bool,
    /// Why (required with `force`).
    pub reason: Option<String>,
}

#[derive(Debug)]
pub struct CloseOutcome {
    pub update: UpdateOutcome,
    pub publication: Option<Publication>,
    /// What `force` overrode, one line each.
    pub overridden: Vec<String>,
    /// Why `postmortem_published` was not recorded although the postmortem
    /// is published: this clone cannot tell when (a shallow clone).
    pub milestone_unknown: Option<String>,
}

/// Why an incident cannot be closed yet.
struct Blocker {
    /// One line: what the timeline note and the override warning say.
    summary: String,
    /// Lines listed under it (the check's problems).
    details: Vec<String>,
    /// What to do about it.
    hint: Option<String>,
}

impl Blocker {
    fn new(summary: String, hint: Option<String>) -> Blocker {
        Blocker {
            summary,
            details: Vec::new(),
            hint,
        }
    }

    fn full(&self) -> String {
        let mut text = self.summary.clone();
        if !self.details.is_empty() {
            text.push_str(":\n");
            text.push_str(&self.details.join("\n"));
        }
        if let Some(hint) = &self.hint {
            text.push_str(if self.details.is_empty() { "; " } else { "\n" });
            text.push_str(hint);
        }
        text
    }
}

/// What keeps the postmortem from being done, if anything. `needed`: the
/// severity asks for one, or one became due. A postmortem somebody started
/// counts even when none is needed: closing would strand it.
fn postmortem_blockers(
    state: &PostmortemState,
    incident: &Incident,
    needed: bool,
    remote: &str,
) -> Vec<Blocker> {
    let id = &incident.id;
    let unneeded = if needed {
        String::new()
    } else {
        format!(
            " ({} incidents need none, but this one was started)",
            incident.severity
        )
    };
    let or_drop = |branch: &str| {
        (!needed).then(|| {
            format!(
                "; if nobody wants it, delete its branch first: `git branch -D {branch}` (and `git push {remote} --delete {branch}` when the remote has it)"
            )
        })
    };
    match state {
        PostmortemState::Published { publication, .. } => publication
            .unknown_time()
            .map(|why| {
                Blocker::new(
                    "this clone cannot tell when its postmortem was published".into(),
                    Some(format!("{why}; then close it again")),
                )
            })
            .into_iter()
            .collect(),
        PostmortemState::None | PostmortemState::Due { .. } if needed => vec![Blocker::new(
            format!(
                "it has no postmortem yet ({} incidents need one)",
                incident.severity
            ),
            Some(format!(
                "`incident postmortem {id}` writes the draft on its review branch"
            )),
        )],
        PostmortemState::None | PostmortemState::Due { .. } => Vec::new(),
        PostmortemState::Draft { path } => vec![Blocker::new(
            format!(
                "its postmortem ({path}) is on this branch but not on the default branch{unneeded}"
            ),
            Some("merge it there through a review".into()),
        )],
        PostmortemState::InReview {
            branch,
            on_remote: false,
            ..
        } => vec![Blocker::new(
            format!(
                "its postmortem is a draft on branch {branch} that nobody has reviewed{unneeded}"
            ),
            Some(format!(
                "run `incident postmortem review {id} --push` and merge the pull request{}",
                or_drop(branch).unwrap_or_default()
            )),
        )],
        PostmortemState::InReview { branch, .. } => vec![Blocker::new(
            format!(
                "its postmortem is in review on branch {branch} and has not reached the default branch yet{unneeded}"
            ),
            Some(format!(
                "merge the pull request (and pull) first{}",
                or_drop(branch).unwrap_or_default()
            )),
        )],
    }
}

pub fn close(
    store: &Store,
    query: &str,
    request: &CloseRequest,
    now: Timestamp,
) -> Result<CloseOutcome> {
    let config = store.config()?;
    let tree = store.head_tree()?.ok_or_else(|| Error::NotFound {
        query: query.into(),
    })?;
    let folder = store.find(&tree, query)?;
    let incident = store.load(&config, &tree, &folder)?;
    if request.force
        && request
            .reason
            .as_deref()
            .is_none_or(|r| r.trim().is_empty())
    {
        return Err(Error::MissingInput {
            what: "the reason for closing without a published postmortem".into(),
            flag: "--reason TEXT".into(),
        });
    }
    // A postmortem is needed when the severity asks for one, or when one
    // became due (a later severity change does not waive it).
    let needed = incident.needs_postmortem(&config) || incident.postmortem_due.is_some();
    let state = state(store, &config, &tree, &folder, &incident)?;
    let mut blockers = postmortem_blockers(&state, &incident, needed, &config.postmortem.remote);
    let publication = match state {
        PostmortemState::Published { publication, .. } => Some(publication),
        _ => None,
    };
    if needed {
        let errors: Vec<Problem> = check_folder(store, &config, &tree, &folder)?
            .into_iter()
            .filter(|p| p.level == Level::Error)
            .collect();
        if !errors.is_empty() {
            let mut blocker = Blocker::new(
                format!(
                    "its postmortem does not pass `incident postmortem check` ({} error{})",
                    errors.len(),
                    if errors.len() == 1 { "" } else { "s" }
                ),
                None,
            );
            blocker.details = errors
                .iter()
                .map(|p| {
                    let line = p.line.map(|l| format!(":{l}")).unwrap_or_default();
                    let hint = p
                        .hint
                        .as_ref()
                        .map(|h| format!(" ({h})"))
                        .unwrap_or_default();
                    format!("  {}{line}: {}{hint}", p.file, p.message)
                })
                .collect();
            blockers.push(blocker);
        }
    }
    if !blockers.is_empty() && !request.force {
        return Err(Error::InvalidInput {
            message: format!(
                "incident {} cannot be closed yet: {}\n(to close it anyway: --force --reason TEXT, which records the override in the timeline)",
                incident.id,
                blockers
                    .iter()
                    .map(Blocker::full)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        });
    }
    let mut milestones = Vec::new();
    let mut milestone_unknown = None;
    if let Some(p) = &publication {
        let recorded = incident
            .milestones
            .get(PUBLISHED_MILESTONE)
            .filter(|m| m.source == MilestoneSource::Recorded)
            .map(|m| m.at);
        match p.at() {
            Some(at)
                if recorded != Some(at)
                    && config
                        .milestone_names()
                        .iter()
                        .any(|m| m == PUBLISHED_MILESTONE) =>
            {
                milestones.push((PUBLISHED_MILESTONE.to_string(), Some(at.to_rfc3339())));
            }
            Some(_) => {}
            // Forced past an unknown time: closed, and no time is made up.
            None => milestone_unknown = p.unknown_time(),
        }
    }
    let summaries: Vec<String> = blockers.iter().map(|b| b.summary.clone()).collect();
    let mut notes = Vec::new();
    if request.force && !summaries.is_empty() {
        let mut note = format!("closed with --force although {}", summaries.join("; "));
        if milestone_unknown.is_some() {
            note.push_str(&format!("; {PUBLISHED_MILESTONE} was not recorded"));
        }
        notes.push(note);
    }
    let reason = match (&request.reason, &publication) {
        (Some(reason), _) => Some(reason.clone()),
        (None, Some(p)) => Some(match p.commit() {
            Some(commit) => format!(
                "postmortem published on {} in commit {}",
                p.branch,
                &commit.to_string()[..10]
            ),
            None => format!("postmortem published on {}", p.branch),
        }),
        (None, None) => None,
    };
    let outcome = update(
        store,
        &folder.id,
        &UpdateRequest {
            status: Some("closed".into()),
            reason,
            milestones,
            notes,
            verb: Some("Close".into()),
            ..UpdateRequest::default()
        },
        now,
    )?;
    Ok(CloseOutcome {
        update: outcome,
        publication,
        overridden: if request.force { summaries } else { Vec::new() },
        milestone_unknown,
    })
}
