//! Reviewing a postmortem as a pull request, and finding out from history
//! when it was published.
//!
//! `incident postmortem review ID` commits the postmortem and a status event
//! (`postmortem`: in review) on the branch `postmortem/<id>`, built object by
//! object from that branch's tree (or HEAD's, for a new branch): the user's
//! current branch, index and working tree are not touched. Merging that
//! branch into the default branch, by any means, brings the status event
//! with it; the first commit on the default branch's first-parent history
//! that contains the event is the one that published the postmortem.

use std::path::Path;

use chrono::{DateTime, FixedOffset};
use git2::{Commit, Oid, Repository};

use super::{commit_message, event_id, new_event_prefix, one_line};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::event::{Change, Event};
use crate::model::incident::Incident;
use crate::ops::postmortem::postmortem_path;
use crate::store::identity::Identity;
use crate::store::write::{FileWrite, write_tree};
use crate::store::{EVENTS_DIR, FolderRef, Store, read_blob};
use crate::time::Timestamp;

/// The state a reviewed postmortem puts its incident in.
pub const REVIEW_STATE: &str = "postmortem";

/// `postmortem/<id>`.
pub fn review_branch(id: &str) -> String {
    format!("postmortem/{id}")
}

/// When and where a postmortem reached the default branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    pub branch: String,
    pub commit: Oid,
    /// The committer time of that commit.
    pub at: Timestamp,
}

/// What a repository knows about an incident's postmortem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostmortemState {
    None,
    /// Written on the current branch, not (yet) in review.
    Draft {
        path: String,
    },
    /// A review branch exists.
    InReview {
        path: String,
        branch: String,
    },
    Published {
        path: String,
        publication: Publication,
    },
}

fn commit_time(commit: &Commit<'_>) -> Timestamp {
    let time = commit.time();
    let offset = FixedOffset::east_opt(time.offset_minutes() * 60)
        .or_else(|| FixedOffset::east_opt(0))
        .unwrap_or_else(|| DateTime::UNIX_EPOCH.fixed_offset().timezone());
    DateTime::from_timestamp(time.seconds(), 0)
        .unwrap_or_default()
        .with_timezone(&offset)
}

/// The default branch's name and tip: the config's `default_branch`, else
/// the remote's HEAD, else `init.defaultBranch`, `main` or `master`. The
/// local branch when there is one, else the remote-tracking one.
pub fn default_branch(store: &Store, config: &Config) -> Result<Option<(String, Oid)>> {
    let repo = &store.repo;
    let remote = &config.postmortem.remote;
    let mut candidates = Vec::new();
    if !config.postmortem.default_branch.trim().is_empty() {
        candidates.push(config.postmortem.default_branch.trim().to_string());
    } else {
        if let Ok(reference) = repo.find_reference(&format!("refs/remotes/{remote}/HEAD"))
            && let Ok(Some(target)) = reference.symbolic_target()
            && let Some(name) = target.strip_prefix(&format!("refs/remotes/{remote}/"))
        {
            candidates.push(name.to_string());
        }
        if let Ok(name) = repo
            .config()
            .and_then(|c| c.get_string("init.defaultBranch"))
        {
            candidates.push(name);
        }
        candidates.push("main".into());
        candidates.push("master".into());
    }
    for name in candidates {
        for reference in [
            format!("refs/heads/{name}"),
            format!("refs/remotes/{remote}/{name}"),
        ] {
            if let Ok(found) = repo.find_reference(&reference)
                && let Ok(commit) = found.peel_to_commit()
            {
                return Ok(Some((name, commit.id())));
            }
        }
    }
    Ok(None)
}

/// The newest status event into the review state, as a path in the folder.
fn review_event_path(
    store: &Store,
    tree: &git2::Tree<'_>,
    folder: &FolderRef,
) -> Result<Option<String>> {
    let (_, events) = match store.read_files(tree, folder) {
        Ok(found) => found,
        Err(Error::Invalid { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut reviews: Vec<&Event> = events
        .iter()
        .filter(|e| matches!(&e.change, Change::Status { to, .. } if to == REVIEW_STATE))
        .collect();
    reviews.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    Ok(reviews
        .last()
        .map(|e| format!("{}/{EVENTS_DIR}/{}.toml", folder.path, e.id)))
}

fn has_path(tree: &git2::Tree<'_>, path: &str) -> bool {
    tree.get_path(Path::new(path)).is_ok()
}

/// Whether, when and by which commit the postmortem reached the default
/// branch. Walks first parents back from the branch's tip while the review
/// event is there: the last such commit brought it in.
pub fn publication(
    store: &Store,
    config: &Config,
    folder: &FolderRef,
) -> Result<Option<Publication>> {
    let Some((branch, tip)) = default_branch(store, config)? else {
        return Ok(None);
    };
    let repo = &store.repo;
    let tip = repo.find_commit(tip)?;
    let tip_tree = tip.tree()?;
    if !has_path(&tip_tree, &postmortem_path(&folder.path)) {
        return Ok(None);
    }
    let Some(event_path) = review_event_path(store, &tip_tree, folder)? else {
        return Ok(None);
    };
    let mut publishing = tip;
    while let Ok(parent) = publishing.parent(0) {
        if !has_path(&parent.tree()?, &event_path) {
            break;
        }
        publishing = parent;
    }
    Ok(Some(Publication {
        branch,
        commit: publishing.id(),
        at: commit_time(&publishing),
    }))
}

/// The postmortem's state, for `show` and `close`.
pub fn state(
    store: &Store,
    config: &Config,
    tree: &git2::Tree<'_>,
    folder: &FolderRef,
) -> Result<PostmortemState> {
    let path = postmortem_path(&folder.path);
    if let Some(publication) = publication(store, config, folder)? {
        return Ok(PostmortemState::Published { path, publication });
    }
    let branch = review_branch(&folder.id);
    let remote = &config.postmortem.remote;
    let on_branch = [
        format!("refs/heads/{branch}"),
        format!("refs/remotes/{remote}/{branch}"),
    ]
    .iter()
    .any(|r| store.repo.find_reference(r).is_ok());
    if on_branch {
        return Ok(PostmortemState::InReview { path, branch });
    }
    if has_path(tree, &path) {
        return Ok(PostmortemState::Draft { path });
    }
    Ok(PostmortemState::None)
}

#[derive(Debug)]
pub struct ReviewOutcome {
    pub incident: Incident,
    pub branch: String,
    /// The new commit on the review branch; `None` when it had everything.
    pub commit: Option<Oid>,
    pub created_branch: bool,
    /// The remote pushed to.
    pub pushed: Option<String>,
    /// The address that opens a pull request, for forges incident knows.
    pub pull_request_url: Option<String>,
    /// The branch the pull request should target.
    pub target: String,
}

/// `incident postmortem review ID [--push] [--remote NAME]`.
pub fn review(
    store: &Store,
    query: &str,
    now: Timestamp,
    push: bool,
    remote: Option<&str>,
) -> Result<ReviewOutcome> {
    let config = store.config()?;
    let repo = &store.repo;
    let head_tree = store.head_tree()?.ok_or_else(|| Error::NotFound {
        query: query.into(),
    })?;
    let folder = store.find(&head_tree, query)?;
    let path = postmortem_path(&folder.path);
    let content = read_blob(repo, &head_tree, &path)?.ok_or_else(|| Error::InvalidInput {
        message: format!(
            "incident {} has no committed postmortem ({path}); write it first with `incident postmortem {}`",
            folder.id, folder.id
        ),
    })?;
    store.ensure_clean(std::slice::from_ref(&path), &[])?;
    let remote_name = remote.unwrap_or(&config.postmortem.remote).to_string();
    let branch = review_branch(&folder.id);
    let branch_ref = format!("refs/heads/{branch}");
    let on_branch = repo
        .find_reference("HEAD")
        .ok()
        .and_then(|h| h.symbolic_target().ok().flatten().map(str::to_string));
    if on_branch.as_deref() == Some(branch_ref.as_str()) {
        return Err(Error::InvalidInput {
            message: format!(
                "you are on the review branch {branch}; review from the branch the incident was recorded on (for example `git switch main`), or commit and push here directly"
            ),
        });
    }
    let remote_url = repo
        .find_remote(&remote_name)
        .ok()
        .and_then(|r| r.url().ok().map(str::to_string));
    if push && remote_url.is_none() {
        let remotes: Vec<String> = repo
            .remotes()?
            .iter()
            .filter_map(|r| r.ok().flatten())
            .map(str::to_string)
            .collect();
        return Err(Error::InvalidInput {
            message: format!(
                "no remote named '{remote_name}' to push to; remotes: {}",
                if remotes.is_empty() {
                    "none".into()
                } else {
                    remotes.join(", ")
                }
            ),
        });
    }
    let identity = Identity::resolve(repo, now)?;
    let existing = repo
        .find_reference(&branch_ref)
        .ok()
        .and_then(|r| r.target());
    let base = match existing {
        Some(tip) => repo.find_commit(tip)?,
        None => repo.head()?.peel_to_commit()?,
    };
    let base_tree = base.tree()?;
    let (declaration, events) = store.read_files(&base_tree, &folder)?;
    let before = Incident::replay(&config, &folder.path, &declaration, &events);
    let mut files = Vec::new();
    if read_blob(repo, &base_tree, &path)?.as_deref() != Some(content.as_slice()) {
        files.push(FileWrite {
            path: path.clone(),
            content: content.clone(),
        });
    }
    let mut all = events.clone();
    if before.status != REVIEW_STATE {
        let allowed = config
            .state(&before.status)
            .map(|s| s.next.clone())
            .unwrap_or_default();
        if config.state(REVIEW_STATE).is_none() || !allowed.iter().any(|s| s == REVIEW_STATE) {
            return Err(Error::IllegalTransition {
                from: before.status.clone(),
                to: REVIEW_STATE.into(),
                allowed,
            });
        }
        let change = Change::Status {
            to: REVIEW_STATE.into(),
            from: Some(before.status.clone()),
            text: None,
            duplicate_of: None,
        };
        let event = Event {
            id: event_id(&new_event_prefix(&now)?, &change),
            at: now.max(before.status_since),
            recorded_at: now,
            stated: false,
            seq: events
                .iter()
                .map(|e| e.seq)
                .max()
                .map_or(0, |s| s.saturating_add(1)),
            author: identity.author.clone(),
            change,
        };
        files.push(FileWrite {
            path: format!("{}/{EVENTS_DIR}/{}.toml", folder.path, event.id),
            content: event.to_toml()?.into_bytes(),
        });
        all.push(event);
    }
    let incident = Incident::replay(&config, &folder.path, &declaration, &all);
    let mut commit = None;
    if !files.is_empty() {
        let tree_id = write_tree(repo, Some(&base_tree), &files)?;
        let tree = repo.find_tree(tree_id)?;
        let subject = format!(
            "Postmortem for incident {} in review: {}",
            folder.id,
            one_line(&incident.title, 60)
        );
        let message = commit_message(
            &subject,
            &[format!(
                "Merging this branch publishes the postmortem ({path}); the merge time becomes the postmortem_published milestone."
            )],
            &[
                ("Incident", folder.id.clone()),
                ("Incident-Event", REVIEW_STATE.into()),
                ("Incident-At", now.to_rfc3339()),
            ],
        );
        let new = repo.commit(
            None,
            &identity.author_signature()?,
            &identity.committer_signature()?,
            &message,
            &tree,
            &[&base],
        )?;
        let log = format!("incident: {subject}");
        match existing {
            Some(old) => repo.reference_matching(&branch_ref, new, true, old, &log)?,
            None => repo.reference(&branch_ref, new, false, &log)?,
        };
        commit = Some(new);
    }
    let target = default_branch(store, &config)?
        .map(|(name, _)| name)
        .unwrap_or_else(|| "main".into());
    let mut pushed = None;
    if push {
        push_branch(repo, &remote_name, &branch)?;
        pushed = Some(remote_name.clone());
    }
    Ok(ReviewOutcome {
        incident,
        branch: branch.clone(),
        commit,
        created_branch: existing.is_none(),
        pushed,
        pull_request_url: remote_url.and_then(|url| pull_request_url(&url, &branch, &target)),
        target,
    })
}

/// Push one branch with git's usual credentials: ssh agent, credential
/// helpers, default credentials.
fn push_branch(repo: &Repository, remote_name: &str, branch: &str) -> Result<()> {
    let mut remote = repo.find_remote(remote_name)?;
    let mut rejected: Option<String> = None;
    let config = repo.config()?;
    {
        let mut callbacks = super::sync::callbacks(&config);
        callbacks.push_update_reference(|name, status| {
            if let Some(status) = status {
                rejected = Some(format!("{name}: {status}"));
            }
            Ok(())
        });
        let mut options = git2::PushOptions::new();
        options.remote_callbacks(callbacks);
        let spec = format!("refs/heads/{branch}:refs/heads/{branch}");
        remote.push(&[spec.as_str()], Some(&mut options)).map_err(|e| Error::InvalidInput {
            message: format!(
                "could not push {branch} to '{remote_name}': {}; the branch is committed locally, push it with `git push {remote_name} {branch}`",
                e.message()
            ),
        })?;
    }
    if let Some(reason) = rejected {
        return Err(Error::InvalidInput {
            message: format!("the remote '{remote_name}' refused the push: {reason}"),
        });
    }
    Ok(())
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Host and repository path of a remote URL, in https, ssh or scp form.
fn host_and_path(url: &str) -> Option<(String, String)> {
    let url = url.trim();
    let (host, path) = if let Some((scheme, rest)) = url.split_once("://") {
        if !matches!(
            scheme,
            "https" | "http" | "ssh" | "git" | "git+ssh" | "ssh+git"
        ) {
            return None;
        }
        let (authority, path) = rest.split_once('/')?;
        (authority.rsplit('@').next()?.to_string(), path.to_string())
    } else {
        let (authority, path) = url.split_once(':')?;
        if authority.contains('/') || path.starts_with("//") {
            return None;
        }
        (authority.rsplit('@').next()?.to_string(), path.to_string())
    };
    let host = host.split(':').next()?.to_ascii_lowercase();
    let host = host.strip_prefix("ssh.").unwrap_or(&host).to_string();
    let path = path
        .trim_matches('/')
        .trim_end_matches(".git")
        .trim_matches('/')
        .to_string();
    (!host.is_empty() && path.contains('/')).then_some((host, path))
}

/// The web address that opens a pull (merge) request from `branch` into
/// `target`, for GitHub, GitLab and Bitbucket remotes.
pub fn pull_request_url(remote_url: &str, branch: &str, target: &str) -> Option<String> {
    let (host, path) = host_and_path(remote_url)?;
    if host.contains("github") {
        Some(format!(
            "https://{host}/{path}/compare/{target}...{branch}?expand=1"
        ))
    } else if host.contains("gitlab") {
        Some(format!(
            "https://{host}/{path}/-/merge_requests/new?{}={}&{}={}",
            encode("merge_request[source_branch]"),
            encode(branch),
            encode("merge_request[target_branch]"),
            encode(target)
        ))
    } else if host.contains("bitbucket") {
        Some(format!(
            "https://{host}/{path}/pull-requests/new?source={}&dest={}",
            encode(branch),
            encode(target)
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_request_urls_for_each_forge_and_url_form() {
        let gh = "https://github.com/acme/ops/compare/main...postmortem/k3f9x2?expand=1";
        for url in [
            "https://github.com/acme/ops.git",
            "https://user@github.com/acme/ops",
            "git@github.com:acme/ops.git",
            "ssh://git@github.com/acme/ops.git",
            "ssh://git@ssh.github.com:443/acme/ops.git",
        ] {
            assert_eq!(
                pull_request_url(url, "postmortem/k3f9x2", "main").as_deref(),
                Some(gh),
                "{url}"
            );
        }
        assert_eq!(
            pull_request_url(
                "git@gitlab.com:group/sub/ops.git",
                "postmortem/k3f9x2",
                "main"
            )
            .as_deref(),
            Some(
                "https://gitlab.com/group/sub/ops/-/merge_requests/new?merge_request%5Bsource_branch%5D=postmortem%2Fk3f9x2&merge_request%5Btarget_branch%5D=main"
            )
        );
        assert_eq!(
            pull_request_url(
                "https://bitbucket.org/team/ops.git",
                "postmortem/k3f9x2",
                "master"
            )
            .as_deref(),
            Some(
                "https://bitbucket.org/team/ops/pull-requests/new?source=postmortem%2Fk3f9x2&dest=master"
            )
        );
        assert_eq!(
            pull_request_url("/srv/git/ops.git", "postmortem/x", "main"),
            None
        );
        assert_eq!(
            pull_request_url("https://git.example.com/acme/ops", "postmortem/x", "main"),
            None
        );
    }
}
