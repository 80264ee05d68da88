//! `incident sync`: fetch, integrate, push.
//!
//! Integration never rewrites a commit: the branch fast-forwards when it
//! can, and otherwise gets a merge commit with the remote's commit as second
//! parent, exactly what `git pull` (merge) or a forge's merge button makes.
//! Incident files merge without conflicts by construction (one file per
//! event); a text conflict can only come from files people edit by hand,
//! such as a postmortem.
//!
//! Order of steps, so that an error leaves the branch, the index and the
//! working tree as they were: fetch; compute the integrated commit in
//! memory; refuse if it would touch files the user has changed; push it;
//! only then, holding incident's writer lock (not held over the network, so
//! recording goes on while a sync waits), check out the changed files and
//! move the branch (journalled, so a killed sync is undone by the next
//! writer: see store/checkout.rs). Fetching does update the remote-tracking
//! branch (`origin/main`), as `git fetch` does.
//!
//! Fetch and push run the `git` executable (store/remote.rs), so the
//! remote's hooks always apply, and authentication, ssh configuration and
//! protocols are git's own.

use git2::{Delta, DiffOptions, ErrorCode, Oid, Repository, StatusOptions};

use crate::error::{Error, RemoteFailure, Result};
use crate::ops::commit_message;
use crate::store::Store;
use crate::store::checkout::Integration as Checkout;
use crate::store::commit::{CommitKind, CommitRequest};
use crate::store::remote::{self, Transfer};
use crate::time::Timestamp;

/// How often to start over when the remote moved between fetch and push.
pub const MAX_ATTEMPTS: u32 = 8;

#[derive(Debug, Clone, Default)]
pub struct SyncRequest {
    /// Remote name; default: the branch's upstream, `origin`, or the only remote.
    pub remote: Option<String>,
    pub dry_run: bool,
}

/// How the local branch and the remote's were (or would be) combined.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Integration {
    /// The remote has no commit this clone lacks.
    UpToDate,
    /// The remote branch does not exist yet; it will be created.
    NewBranch,
    /// This clone had no commit the remote lacks: the branch moved forward.
    FastForward,
    /// Both sides had new commits: a merge commit joins them.
    Merge { commit: Option<String> },
    /// Only in a dry run: the merge would stop on these files.
    Conflict { paths: Vec<String> },
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SyncOutcome {
    pub remote: String,
    pub url: String,
    pub branch: String,
    pub remote_branch: String,
    pub integration: Integration,
    /// Commits received from the remote.
    pub received: usize,
    /// Commits the remote did not have and got (or would get).
    pub sent: usize,
    /// Files of the working tree updated (or that would be).
    pub updated_files: usize,
    /// The branch's commit afterwards.
    pub head: String,
    /// Fetch-integrate-push rounds needed (more than one when the remote
    /// moved meanwhile).
    pub attempts: u32,
    pub dry_run: bool,
    /// Set when this sync gave the branch an upstream (`origin/main`), as
    /// `git push -u` does, because it had none.
    pub upstream_set: Option<String>,
}

pub fn sync(store: &Store, request: &SyncRequest, now: Timestamp) -> Result<SyncOutcome> {
    sync_with(store, request, now, &mut Transfer::default())
}

/// [`sync`], with git's progress and prompts as `transfer` allows.
pub fn sync_with(
    store: &Store,
    request: &SyncRequest,
    now: Timestamp,
    transfer: &mut Transfer<'_>,
) -> Result<SyncOutcome> {
    let repo = &store.repo;
    let branch_ref = store.ensure_writable()?;
    let branch = branch_ref.trim_start_matches("refs/heads/").to_string();
    // Finish any write a killed command left half done, then let other
    // incident commands run while the network is slow: the lock is taken
    // again only to move the branch.
    drop(store.lock_writers()?);
    let remote_name = resolve_remote(repo, &branch, request.remote.as_deref())?;
    let remote_branch = upstream_branch(repo, &branch, &remote_name);
    let url = remote::url(store, &remote_name)?;

    for attempt in 1..=MAX_ATTEMPTS {
        let local = repo
            .head()
            .ok()
            .and_then(|h| h.target())
            .ok_or_else(|| Error::InvalidInput {
                message: format!(
                    "branch '{branch}' has no commits yet; get the remote's history with `git pull {remote_name} {remote_branch}` first"
                ),
            })?;
        let theirs = fetch(store, &remote_name, &remote_branch, transfer)?;
        if let Some(theirs) = theirs {
            ensure_related(
                repo,
                local,
                theirs,
                &remote_name,
                &url,
                &remote_branch,
                &branch,
            )?;
        }
        let (ahead, behind) = match theirs {
            Some(theirs) => repo.graph_ahead_behind(local, theirs)?,
            None => (count_commits(repo, local)?, 0),
        };
        let (integration, target) = match theirs {
            None => (Integration::NewBranch, local),
            Some(_) if behind == 0 => (Integration::UpToDate, local),
            Some(theirs) if ahead == 0 => (Integration::FastForward, theirs),
            Some(theirs) => {
                match merge(
                    store,
                    local,
                    theirs,
                    &remote_name,
                    &remote_branch,
                    &branch,
                    now,
                    request.dry_run,
                )? {
                    MergeResult::Conflict(paths) if request.dry_run => {
                        (Integration::Conflict { paths }, local)
                    }
                    MergeResult::Conflict(paths) => {
                        return Err(Error::InvalidInput {
                            message: conflict_message(&remote_name, &remote_branch, &paths),
                        });
                    }
                    MergeResult::Merged(commit) => (
                        Integration::Merge {
                            commit: commit.map(|c| c.to_string()),
                        },
                        commit.unwrap_or(local),
                    ),
                }
            }
        };
        let changed = if matches!(
            integration,
            Integration::FastForward | Integration::Merge { commit: Some(_) }
        ) {
            changed_paths(repo, local, target)?
        } else if matches!(integration, Integration::Merge { commit: None }) {
            // Dry run: the files the remote's side changed since the base.
            let base = repo.merge_base(local, theirs.unwrap_or(local))?;
            changed_paths(repo, base, theirs.unwrap_or(local))?
        } else {
            Vec::new()
        };
        let sent = if matches!(integration, Integration::Merge { .. }) {
            ahead + 1
        } else if matches!(integration, Integration::Conflict { .. }) {
            0
        } else {
            ahead
        };
        let mut outcome = SyncOutcome {
            remote: remote_name.clone(),
            url: url.clone(),
            branch: branch.clone(),
            remote_branch: remote_branch.clone(),
            integration: integration.clone(),
            received: behind,
            sent,
            updated_files: changed.len(),
            head: target.to_string(),
            attempts: attempt,
            dry_run: request.dry_run,
            upstream_set: None,
        };
        let dirty = modified_paths(repo, &changed)?;
        if !dirty.is_empty() {
            return Err(Error::InvalidInput {
                message: format!(
                    "sync stopped: integrating {remote_name}/{remote_branch} would change files you have modified and not committed:\n{}\nnothing was changed; commit (`git commit`) or set aside (`git stash`) those changes, then run `incident sync` again",
                    dirty
                        .iter()
                        .map(|p| format!("  {p}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            });
        }
        if request.dry_run {
            return Ok(outcome);
        }
        if theirs != Some(target) {
            if push(store, &remote_name, &url, &remote_branch, target, transfer)?
                == Pushed::LostRace
            {
                if attempt == MAX_ATTEMPTS {
                    break;
                }
                // Clones racing each other: spread the next tries out.
                let mut jitter = [0u8; 1];
                let _ = getrandom::fill(&mut jitter);
                let millis = u64::from(attempt) * 20 + u64::from(jitter[0] % 64);
                std::thread::sleep(std::time::Duration::from_millis(millis));
                continue;
            }
            let tracking = format!("refs/remotes/{remote_name}/{remote_branch}");
            repo.reference(&tracking, target, true, "incident sync: push")?;
        }
        if target != local {
            let _lock = store.lock_writers()?;
            // An incident command or a plain `git commit` may have committed
            // meanwhile: the remote has `target` now, and the next round
            // merges the new commit too.
            if repo.head().ok().and_then(|h| h.target()) != Some(local) {
                continue;
            }
            let moved = store.check_out_integration(&Checkout {
                branch_ref: &branch_ref,
                from: local,
                to: target,
                paths: &changed,
                reflog: &format!("incident sync: integrate {remote_name}/{remote_branch}"),
            })?;
            if !moved {
                continue;
            }
        }
        outcome.upstream_set = set_upstream(repo, &branch, &remote_name, &remote_branch)?;
        return Ok(outcome);
    }
    Err(Error::InvalidInput {
        message: format!(
            "{remote_name}/{remote_branch} or {branch} here kept moving while incident tried to sync ({MAX_ATTEMPTS} attempts: other clones pushed, or commits were made here, each time); nothing was changed here: run `incident sync` again"
        ),
    })
}

/// The remote to use: the one asked for, the branch's upstream, `origin`,
/// or the only one.
fn resolve_remote(repo: &Repository, branch: &str, requested: Option<&str>) -> Result<String> {
    let names = repo.remotes()?;
    let remotes: Vec<String> = (0..names.len())
        .filter_map(|i| names.get(i).ok().flatten())
        .map(str::to_string)
        .collect();
    if let Some(name) = requested {
        if remotes.iter().any(|r| r == name) {
            return Ok(name.to_string());
        }
        return Err(Error::InvalidInput {
            message: if remotes.is_empty() {
                format!(
                    "there is no remote named '{name}' (this repository has no remotes); add it with `git remote add {name} URL`"
                )
            } else {
                format!(
                    "there is no remote named '{name}'; remotes: {}; add one with `git remote add {name} URL`",
                    remotes.join(", ")
                )
            },
        });
    }
    let upstream = repo
        .config()?
        .get_string(&format!("branch.{branch}.remote"))
        .ok()
        .filter(|r| remotes.contains(r));
    if let Some(upstream) = upstream {
        return Ok(upstream);
    }
    match remotes.as_slice() {
        [] => Err(Error::InvalidInput {
            message: "this repository has no remote to sync with; add one with `git remote add origin URL` (a path to a bare repository, an ssh or an https URL), then run `incident sync` again".into(),
        }),
        [only] => Ok(only.clone()),
        many if many.iter().any(|r| r == "origin") => Ok("origin".into()),
        many => Err(Error::InvalidInput {
            message: format!(
                "this repository has several remotes ({}) and branch '{branch}' has no upstream; choose one with `incident sync --remote NAME`",
                many.join(", ")
            ),
        }),
    }
}

/// The remote branch: the upstream's when it is on this remote, else the same name.
fn upstream_branch(repo: &Repository, branch: &str, remote: &str) -> String {
    let Ok(config) = repo.config() else {
        return branch.to_string();
    };
    let same_remote = config
        .get_string(&format!("branch.{branch}.remote"))
        .is_ok_and(|r| r == remote);
    match config.get_string(&format!("branch.{branch}.merge")) {
        Ok(merge) if same_remote => merge.trim_start_matches("refs/heads/").to_string(),
        _ => branch.to_string(),
    }
}

enum MergeResult {
    /// The merge commit (`None` in a dry run).
    Merged(Option<Oid>),
    Conflict(Vec<String>),
}

#[allow(clippy::too_many_arguments)]
fn merge(
    store: &Store,
    local: Oid,
    theirs: Oid,
    remote: &str,
    remote_branch: &str,
    branch: &str,
    now: Timestamp,
    dry_run: bool,
) -> Result<MergeResult> {
    let repo = &store.repo;
    let ours = repo.find_commit(local)?;
    let their_commit = repo.find_commit(theirs)?;
    let mut index = repo.merge_commits(&ours, &their_commit, None)?;
    if index.has_conflicts() {
        let mut paths: Vec<String> = index
            .conflicts()?
            .flatten()
            .filter_map(|c| c.our.or(c.their).or(c.ancestor))
            .map(|entry| String::from_utf8_lossy(&entry.path).into_owned())
            .collect();
        paths.sort();
        paths.dedup();
        return Ok(MergeResult::Conflict(paths));
    }
    if dry_run {
        return Ok(MergeResult::Merged(None));
    }
    let tree = index.write_tree_to(repo)?;
    let message = commit_message(
        &format!("Merge {remote}/{remote_branch} into {branch}"),
        &["Combined by `incident sync`: both sides recorded events since they last met.".into()],
        &[],
    );
    // As `git merge` makes it: `pre-merge-commit` and `commit-msg` hooks,
    // signed when the user's configuration (or -S) says so. The object is
    // referenced by no branch yet: the branch moves only after the push.
    let identity = store.identity(now)?;
    let commit = store.create_commit(&CommitRequest {
        tree,
        parents: vec![local, theirs],
        message,
        identity: &identity,
        kind: CommitKind::Merge,
        own_paths: &[],
        index: None,
    })?;
    Ok(MergeResult::Merged(Some(commit.id)))
}

/// Refuse to merge histories with no commit in common, as `git pull` does:
/// the remote is another repository, and merging would bring all of its
/// files into this working tree and this working tree's into it.
#[allow(clippy::too_many_arguments)]
fn ensure_related(
    repo: &Repository,
    local: Oid,
    theirs: Oid,
    remote: &str,
    url: &str,
    remote_branch: &str,
    branch: &str,
) -> Result<()> {
    match repo.merge_base(local, theirs) {
        Ok(_) => Ok(()),
        Err(e) if e.code() == ErrorCode::NotFound => Err(Error::InvalidInput {
            message: format!(
                "sync stopped: {branch} and {remote}/{remote_branch} have no commit in common: '{remote}' ({url}) holds an unrelated history, another repository (git pull refuses too: \"refusing to merge unrelated histories\").\nnothing was changed: your branch, index and working tree are as they were, and nothing was pushed.\nIf '{remote}' is the wrong repository, point it at the team's incident repository: `git remote set-url {remote} URL`. To combine the two histories on purpose: `git pull --allow-unrelated-histories {remote} {remote_branch}`, then `incident sync`"
            ),
        }),
        Err(e) => Err(e.into()),
    }
}

/// Fetch the remote branch into its remote-tracking branch; its commit, or
/// `None` when the remote has no such branch (yet).
fn fetch(
    store: &Store,
    remote: &str,
    remote_branch: &str,
    transfer: &mut Transfer<'_>,
) -> Result<Option<Oid>> {
    let tracking = format!("refs/remotes/{remote}/{remote_branch}");
    let refspec = format!("+refs/heads/{remote_branch}:{tracking}");
    match remote::fetch(store, remote, &[refspec], transfer) {
        Ok(()) => {}
        Err(Error::Remote {
            failure: RemoteFailure::NoSuchBranch,
            ..
        }) => return Ok(None),
        Err(e) => return Err(e),
    }
    match store.repo.refname_to_id(&tracking) {
        Ok(id) => Ok(Some(id)),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Pushed {
    Done,
    /// Another clone pushed first: fetch and integrate again.
    LostRace,
}

/// Push `target` to the remote branch, never forced: the remote takes it
/// only as a fast-forward (or a new branch), atomically. A refusal by the
/// remote (a hook, branch protection) is an error with the remote's words.
fn push(
    store: &Store,
    remote: &str,
    url: &str,
    remote_branch: &str,
    target: Oid,
    transfer: &mut Transfer<'_>,
) -> Result<Pushed> {
    let refspec = format!("{target}:refs/heads/{remote_branch}");
    let outcome = remote::push(store, remote, &[refspec], false, transfer)?;
    if let Some(detail) = outcome.rejection() {
        return Err(Error::Remote {
            remote: remote.to_string(),
            url: url.to_string(),
            action: "push to",
            failure: RemoteFailure::Rejected,
            detail,
        });
    }
    if outcome.non_fast_forward() {
        return Ok(Pushed::LostRace);
    }
    Ok(Pushed::Done)
}

/// Give a branch with no upstream the remote branch it was synced with,
/// as `git push -u` does, so plain `git pull` and `git push` work too.
/// An upstream that is set (to whatever) stays.
fn set_upstream(
    repo: &Repository,
    branch: &str,
    remote: &str,
    remote_branch: &str,
) -> Result<Option<String>> {
    let config = repo.config()?;
    let key = format!("branch.{branch}.remote");
    if config.get_entry(&key).is_ok() {
        return Ok(None);
    }
    let mut local = config.open_level(git2::ConfigLevel::Local)?;
    local.set_str(&key, remote)?;
    local.set_str(
        &format!("branch.{branch}.merge"),
        &format!("refs/heads/{remote_branch}"),
    )?;
    // libgit2 rewrote .git/config with the umask's mode; git keeps it shared.
    crate::store::ownfiles::adjust(&repo.commondir().join("config"))?;
    Ok(Some(format!("{remote}/{remote_branch}")))
}

fn conflict_message(remote: &str, remote_branch: &str, paths: &[String]) -> String {
    format!(
        "sync stopped: these files were changed on the same lines here and on {remote}/{remote_branch}:\n{}\nnothing was changed: your branch, index and working tree are as they were.\nTo combine them by hand: `git pull {remote} {remote_branch}` (git marks the conflicting lines in the files), edit the files, `git add` them, `git commit`, then run `incident sync` again",
        paths
            .iter()
            .map(|p| format!("  {p}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

fn count_commits(repo: &Repository, head: Oid) -> Result<usize> {
    let mut walk = repo.revwalk()?;
    walk.push(head)?;
    Ok(walk.count())
}

/// Paths that differ between two commits' trees, as git stores them.
fn changed_paths(repo: &Repository, from: Oid, to: Oid) -> Result<Vec<Vec<u8>>> {
    let old = repo.find_commit(from)?.tree()?;
    let new = repo.find_commit(to)?.tree()?;
    let mut options = DiffOptions::new();
    options.include_typechange(true);
    let diff = repo.diff_tree_to_tree(Some(&old), Some(&new), Some(&mut options))?;
    let mut paths = Vec::new();
    for delta in diff.deltas() {
        for file in [delta.old_file(), delta.new_file()] {
            if delta.status() == Delta::Added && file.id().is_zero() {
                continue;
            }
            if let Some(path) = file.path_bytes() {
                paths.push(path.to_vec());
            }
        }
    }
    paths.sort();
    paths.dedup();
    Ok(paths)
}

/// Of `paths`, those the user changed: staged, modified, or untracked
/// where the merge would write.
fn modified_paths(repo: &Repository, paths: &[Vec<u8>]) -> Result<Vec<String>> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let mut options = StatusOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(true)
        .exclude_submodules(true)
        .disable_pathspec_match(true);
    for path in paths {
        options.pathspec(path.as_slice());
    }
    let statuses = repo.statuses(Some(&mut options))?;
    Ok(statuses
        .iter()
        .filter(|s| s.status() != git2::Status::CURRENT)
        .map(|s| String::from_utf8_lossy(s.path_bytes()).into_owned())
        .collect())
}
