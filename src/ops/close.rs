//! `incident close ID`: close an incident whose postmortem is published and
//! passes the check; `--force --reason` records the override instead.

use super::update::{UpdateOutcome, UpdateRequest, update};
use crate::error::{Error, Result};
use crate::model::incident::MilestoneSource;
use crate::ops::postmortem_check::{Level, Problem, check_folder};
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
    /// What `force` overrode.
    pub overridden: Vec<String>,
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
    let mut publication = None;
    let mut blockers = Vec::new();
    // A postmortem is needed when the severity asks for one, or when one
    // became due (a later severity change does not waive it).
    if incident.needs_postmortem(&config) || incident.postmortem_due.is_some() {
        match state(store, &config, &tree, &folder, &incident)? {
            PostmortemState::Published { publication: p, .. } => publication = Some(p),
            PostmortemState::None | PostmortemState::Due { .. } => blockers.push(format!(
                "it has no postmortem yet ({} incidents need one); `incident postmortem {}` writes the draft on its review branch",
                incident.severity, incident.id
            )),
            PostmortemState::Draft { path } => blockers.push(format!(
                "its postmortem ({path}) is on this branch but not on the default branch; merge it there through a review"
            )),
            PostmortemState::InReview {
                branch,
                on_remote: false,
                ..
            } => blockers.push(format!(
                "its postmortem is a draft on branch {branch} that nobody has reviewed; run `incident postmortem review {} --push` and merge the pull request",
                incident.id
            )),
            PostmortemState::InReview { branch, .. } => blockers.push(format!(
                "its postmortem is in review on branch {branch} and has not reached the default branch yet; merge the pull request (and pull) first"
            )),
        }
        let errors: Vec<Problem> = check_folder(store, &config, &tree, &folder)?
            .into_iter()
            .filter(|p| p.level == Level::Error)
            .collect();
        if !errors.is_empty() {
            let listing: Vec<String> = errors
                .iter()
                .map(|p| {
                    let line = p.line.map(|l| format!(":{l}")).unwrap_or_default();
                    format!("  {}{line}: {}", p.file, p.message)
                })
                .collect();
            blockers.push(format!(
                "its postmortem does not pass `incident postmortem check`:\n{}",
                listing.join("\n")
            ));
        }
    }
    if !blockers.is_empty() && !request.force {
        return Err(Error::InvalidInput {
            message: format!(
                "incident {} cannot be closed yet: {}\n(to close it anyway: --force --reason TEXT, which records the override in the timeline)",
                incident.id,
                blockers.join("; ")
            ),
        });
    }
    let mut milestones = Vec::new();
    if let Some(p) = &publication {
        let recorded = incident
            .milestones
            .get("postmortem_published")
            .filter(|m| m.source == MilestoneSource::Recorded)
            .map(|m| m.at);
        if recorded != Some(p.at)
            && config
                .milestone_names()
                .iter()
                .any(|m| m == "postmortem_published")
        {
            milestones.push(("postmortem_published".to_string(), Some(p.at.to_rfc3339())));
        }
    }
    let mut notes = Vec::new();
    if request.force && !blockers.is_empty() {
        notes.push(format!(
            "closed with --force although {}",
            blockers
                .iter()
                .map(|b| b.lines().next().unwrap_or_default().to_string())
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    let reason = match (&request.reason, &publication) {
        (Some(reason), _) => Some(reason.clone()),
        (None, Some(p)) => Some(match p.commit {
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
        overridden: if request.force { blockers } else { Vec::new() },
    })
}
