//! `incident postmortem review ID [--push]`: put the postmortem in review
//! as a pull request, and the address that opens one.
//!
//! The draft is on the review branch already (see [`super::review_branch`]):
//! review adds the status event that moves the incident to `postmortem`
//! (in review), brings the generated parts up to date, and with `--push`
//! pushes the branch (never forced, its upstream set) after building on
//! whatever reviewers pushed. Merging the branch into the default branch,
//! by any means, publishes the postmortem (see [`super::publication`]).

use git2::Oid;

use super::{commit_message, event_file_path, event_id, new_event_prefix, one_line};
use crate::error::{Error, Result};
use crate::model::event::{Change, Event};
use crate::model::incident::Incident;
use crate::ops::postmortem::{IncidentFiles, load_template, postmortem_path, render_files};
use crate::ops::publication::default_tree;
use crate::ops::review_branch::{Base, ReviewBranch, no_remote_error};
use crate::render::postmortem::{header_template, refresh};
use crate::store::Store;
use crate::store::identity::Identity;
use crate::store::remote::{self, Transfer};
use crate::store::write::FileWrite;
use crate::time::Timestamp;

pub use crate::ops::publication::{PostmortemState, Publication, default_branch, state};
pub use crate::ops::review_branch::review_branch;

/// The state a reviewed postmortem puts its incident in.
pub const REVIEW_STATE: &str = "postmortem";
/// The state `incident close` puts an incident in.
pub const CLOSED_STATE: &str = "closed";

#[derive(Debug)]
pub struct ReviewOutcome {
    pub incident: Incident,
    pub branch: String,
    /// The new commit on the review branch; `None` when it had everything.
    pub commit: Option<Oid>,
    /// The remote the branch is shared through (the repository has it).
    pub remote: Option<String>,
    /// Pushed to the remote in this run.
    pub pushed: bool,
    /// The remote has the branch (as last fetched or pushed).
    pub on_remote: bool,
    /// Commits on the local branch that the remote's lacks.
    pub unpushed: usize,
    /// The remote's default branch, as the remote names it (else, when its
    /// HEAD names no branch it has, the one the current branch tracks or
    /// pushes to there, or the one postmortems publish to): what the pull
    /// request targets. `None` when it could not be asked or has none yet.
    pub target: Option<String>,
    /// The address that opens the pull request, for forges incident knows,
    /// only when the remote has the branch.
    pub pull_request_url: Option<String>,
    pub warnings: Vec<String>,
}

/// `incident postmortem review ID [--push] [--remote NAME]`.
pub fn review(
    store: &Store,
    query: &str,
    now: Timestamp,
    push: bool,
    remote: Option<&str>,
    transfer: &mut Transfer<'_>,
) -> Result<ReviewOutcome> {
    let config = store.config()?;
    let repo = &store.repo;
    let head_tree = store.head_tree()?.ok_or_else(|| Error::NotFound {
        query: query.into(),
    })?;
    let folder = store.find(&head_tree, query)?;
    let path = postmortem_path(&folder.path);
    let remote_name = remote.unwrap_or(&config.postmortem.remote).to_string();
    let branch = ReviewBranch::new(store, &folder.id, &remote_name);
    let on_branch = repo
        .find_reference("HEAD")
        .ok()
        .and_then(|h| h.symbolic_target().ok().flatten().map(str::to_string));
    if on_branch.as_deref() == Some(branch.reference.as_str()) {
        return Err(Error::InvalidInput {
            message: format!(
                "you are on the review branch {}; review from the branch the incident was recorded on (for example `git switch main`), or commit and push here with git",
                branch.name
            ),
        });
    }
    if push && branch.remote.is_none() {
        return Err(no_remote_error(store, &remote_name, "push"));
    }
    branch.ensure_movable()?;
    let mut warnings = Vec::new();
    if push {
        branch.fetch(transfer)?;
    } else {
        branch.fetch_or_warn(transfer, &mut warnings);
    }
    let start = repo.head()?.peel_to_commit()?.id();
    let tip = branch.tip_from(start, &path)?;
    let no_draft = || Error::InvalidInput {
        message: format!(
            "incident {} has no draft postmortem on branch {}; write it with `incident postmortem {}`",
            folder.id, branch.name, folder.id
        ),
    };
    let branch_tree = tip.tree(store)?.ok_or_else(no_draft)?;
    let text = tip.text(store, &path)?.ok_or_else(no_draft)?;
    let mut files = IncidentFiles::read(store, &[&head_tree, &branch_tree], &folder)?;
    let before = files.incident(&config, &folder);
    let mut writes = Vec::new();
    let identity = Identity::resolve(repo, now)?;
    // A new round of a published postmortem, or a review after the incident
    // was closed, changes the text only: the incident's review was before.
    let published = default_tree(store, &config)?
        .is_some_and(|tree| tree.get_path(std::path::Path::new(&path)).is_ok());
    if before.status != REVIEW_STATE && before.status != CLOSED_STATE && !published {
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
            seq: files
                .events
                .iter()
                .map(|e| e.seq)
                .max()
                .map_or(0, |s| s.saturating_add(1)),
            author: identity.author.clone(),
            change,
        };
        writes.push(FileWrite {
            path: event_file_path(&folder.path, &event),
            content: event.to_toml()?.into_bytes(),
        });
        files.events.push(event);
    }
    let incident = files.incident(&config, &folder);
    // The generated parts as the repository is now, so reviewers see the
    // timeline and action items the merge would publish.
    let template_name = header_template(&text)
        .unwrap_or_else(|| config.postmortem_template(&incident.severity).to_string());
    let refreshed = load_template(store, Some(&head_tree), &template_name)
        .and_then(|template| render_files(&config, &folder, &files, &template))
        .and_then(|(_, _, fresh)| refresh(&path, &text, &fresh));
    match refreshed {
        Ok((fresh, _)) if fresh != text => writes.push(FileWrite {
            path: path.clone(),
            content: fresh.into_bytes(),
        }),
        Ok(_) => {}
        Err(e) => warnings.push(format!(
            "the generated parts of {path} were left as they are: {e}"
        )),
    }
    let subject = format!(
        "Postmortem for incident {} in review: {}",
        folder.id,
        one_line(&incident.title, 60)
    );
    let message = commit_message(
        &subject,
        &[format!(
            "Merging this branch publishes the postmortem ({path}); the time of the commit that brings it to the default branch becomes the postmortem_published milestone."
        )],
        &[
            ("Incident", folder.id.clone()),
            ("Incident-Event", REVIEW_STATE.into()),
            ("Incident-At", now.to_rfc3339()),
        ],
    );
    if writes.is_empty() && matches!(tip.base, Base::NewRound(_)) {
        return Err(Error::InvalidInput {
            message: format!(
                "the postmortem of incident {} is published, and {} holds nothing new to review: change it with `incident postmortem {} --edit` (or `--refresh`), which starts a new review from your current branch, then run this again",
                folder.id, branch.name, folder.id
            ),
        });
    }
    let commit = branch.commit(&tip, start, &writes, &message, &identity)?;
    if push {
        branch.push(&identity, transfer)?;
    }
    let local = branch.local()?;
    let remote_tip = if push { local } else { branch.remote_tip()? };
    let unpushed = match (local, remote_tip) {
        (Some(l), Some(r)) if l != r => repo.graph_ahead_behind(l, r)?.0,
        (Some(_), None) => 1,
        _ => 0,
    };
    let on_remote = remote_tip.is_some();
    let mut target = None;
    let mut pull_request_url = None;
    if let (true, Some(remote)) = (on_remote, &branch.remote) {
        match remote::default_branch(store, remote, transfer) {
            Ok(Some(found)) => target = Some(found),
            Ok(None) => target = fallback_target(store, &config, remote, transfer)?,
            Err(e) => warnings.push(format!(
                "could not ask {remote} for its default branch: {}",
                e.to_string().lines().next().unwrap_or_default()
            )),
        }
        if let Some(target) = &target {
            pull_request_url = pull_request_url_for(store, remote, &branch.name, target);
        }
    }
    Ok(ReviewOutcome {
        incident,
        branch: branch.name.clone(),
        commit,
        remote: branch.remote.clone(),
        pushed: push,
        on_remote,
        unpushed,
        target,
        pull_request_url,
        warnings,
    })
}

/// The pull request's target when the remote's HEAD names no branch it
/// has (`git init --bare` names `master` even when only `main` was
/// pushed): as git pushes, the branch the current branch tracks on that
/// remote, else its namesake there, else the branch postmortems publish
/// to; the first of them the remote has.
fn fallback_target(
    store: &Store,
    config: &crate::config::Config,
    remote: &str,
    transfer: &mut Transfer<'_>,
) -> Result<Option<String>> {
    let repo = &store.repo;
    let mut candidates = Vec::new();
    if let Ok(head) = repo.head()
        && head.is_branch()
        && let Ok(refname) = head.name()
    {
        let tracks_here = repo
            .branch_upstream_remote(refname)
            .ok()
            .is_some_and(|r| r.as_str().is_ok_and(|r| r == remote));
        if tracks_here
            && let Ok(merge) = repo.branch_upstream_merge(refname)
            && let Some(name) = merge
                .as_str()
                .ok()
                .and_then(|m| m.strip_prefix("refs/heads/"))
        {
            candidates.push(name.to_string());
        }
        if let Some(name) = refname.strip_prefix("refs/heads/") {
            candidates.push(name.to_string());
        }
    }
    if let Some((name, _)) = default_branch(store, config)? {
        candidates.push(name);
    }
    let mut seen = std::collections::HashSet::new();
    candidates.retain(|c| seen.insert(c.clone()));
    if candidates.is_empty() {
        return Ok(None);
    }
    let refs: Vec<String> = candidates
        .iter()
        .map(|c| format!("refs/heads/{c}"))
        .collect();
    let found = remote::ls_remote(store, remote, &refs, transfer)?;
    Ok(candidates
        .into_iter()
        .zip(refs)
        .find(|(_, r)| found.iter().any(|(name, _)| name == r))
        .map(|(c, _)| c))
}

/// The address from the remote's URL as configured, else as git expands
/// it (`insteadOf` rules): either may be the one that names the forge.
fn pull_request_url_for(store: &Store, remote: &str, branch: &str, target: &str) -> Option<String> {
    // libgit2 applies `insteadOf` when it loads a remote: read the config.
    let configured = store
        .repo
        .config()
        .and_then(|c| c.get_string(&format!("remote.{remote}.url")))
        .ok();
    configured
        .into_iter()
        .chain(remote::url(store, remote).ok())
        .find_map(|url| pull_request_url(&url, branch, target))
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
/// `target`, for GitHub, GitLab, Bitbucket and Gitea/Forgejo remotes.
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
    } else if ["gitea", "forgejo", "codeberg"]
        .iter()
        .any(|forge| host.contains(forge))
    {
        Some(format!("https://{host}/{path}/compare/{target}...{branch}"))
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
        for url in [
            "https://codeberg.org/acme/ops.git",
            "git@codeberg.org:acme/ops.git",
        ] {
            assert_eq!(
                pull_request_url(url, "postmortem/k3f9x2", "trunk").as_deref(),
                Some("https://codeberg.org/acme/ops/compare/trunk...postmortem/k3f9x2"),
                "{url}"
            );
        }
        assert_eq!(
            pull_request_url(
                "ssh://git@gitea.example.com:2222/acme/ops.git",
                "postmortem/x",
                "main"
            )
            .as_deref(),
            Some("https://gitea.example.com/acme/ops/compare/main...postmortem/x")
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
