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
//! move the branch. Fetching does
//! update the remote-tracking branch (`origin/main`), as `git fetch` does.

use std::cell::RefCell;
use std::path::PathBuf;

use git2::build::CheckoutBuilder;
use git2::{
    AutotagOption, Cred, CredentialType, Delta, DiffOptions, Direction, ErrorClass, ErrorCode,
    FetchOptions, Oid, PushOptions, Remote, RemoteCallbacks, Repository, StatusOptions,
};

use crate::error::{Error, Result};
use crate::ops::commit_message;
use crate::store::Store;
use crate::store::identity::Identity;
use crate::time::Timestamp;

/// How often to start over when the remote moved between fetch and push.
pub const MAX_ATTEMPTS: u32 = 8;

/// A temporary ref naming the commit being pushed (removed afterwards).
const PUSH_REF: &str = "refs/incident/sync-push";

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
}

pub fn sync(store: &Store, request: &SyncRequest, now: Timestamp) -> Result<SyncOutcome> {
    let repo = &store.repo;
    let branch_ref = store.ensure_writable()?;
    let branch = branch_ref.trim_start_matches("refs/heads/").to_string();
    // Finish any write a killed command left half done, then let other
    // incident commands run while the network is slow: the lock is taken
    // again only to move the branch.
    drop(store.lock_writers()?);
    let remote_name = resolve_remote(repo, &branch, request.remote.as_deref())?;
    let remote_branch = upstream_branch(repo, &branch, &remote_name);
    let mut remote = repo.find_remote(&remote_name)?;
    let url = remote.url().unwrap_or_default().to_string();
    let config = repo.config()?;

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
        let theirs = fetch(
            repo,
            &mut remote,
            &config,
            &remote_name,
            &url,
            &remote_branch,
        )?;
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
                    repo,
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
        let outcome = SyncOutcome {
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
            match push(
                repo,
                &mut remote,
                &config,
                target,
                &remote_name,
                &url,
                &remote_branch,
            )? {
                Pushed::Done => {}
                Pushed::Rejected(_) if attempt < MAX_ATTEMPTS => {
                    // Clones racing each other: spread the next tries out.
                    let mut jitter = [0u8; 1];
                    let _ = getrandom::fill(&mut jitter);
                    let millis = u64::from(attempt) * 20 + u64::from(jitter[0] % 64);
                    std::thread::sleep(std::time::Duration::from_millis(millis));
                    continue;
                }
                Pushed::Rejected(reason) => {
                    return Err(Error::InvalidInput {
                        message: format!(
                            "{remote_name} kept moving while incident tried to push ({MAX_ATTEMPTS} attempts; last refusal: {reason}); nothing was changed here: run `incident sync` again"
                        ),
                    });
                }
            }
            let tracking = format!("refs/remotes/{remote_name}/{remote_branch}");
            repo.reference(&tracking, target, true, "incident sync: push")?;
        }
        if target != local {
            let _lock = store.lock_writers()?;
            if repo.head().ok().and_then(|h| h.target()) != Some(local) {
                // An incident command committed meanwhile: the remote has
                // `target` now; the next round merges the new commit too.
                continue;
            }
            update_worktree(
                repo,
                &branch_ref,
                local,
                target,
                &changed,
                &remote_name,
                &remote_branch,
            )?;
        }
        return Ok(outcome);
    }
    Err(Error::Contention {
        branch: format!("{remote_name}/{remote_branch}"),
        attempts: MAX_ATTEMPTS,
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

/// Authentication the way git does it: the ssh agent, then the usual key
/// files, then git's credential helpers for https. Each is tried once, so a
/// refusal ends the attempt instead of looping.
pub(crate) fn callbacks<'a>(config: &'a git2::Config) -> RemoteCallbacks<'a> {
    let mut callbacks = RemoteCallbacks::new();
    let mut tried_agent = false;
    let mut tried_helper = false;
    let mut tried_default = false;
    let mut keys: Vec<PathBuf> = std::env::var_os("HOME")
        .map(PathBuf::from)
        .map(|home| {
            ["id_ed25519", "id_ecdsa", "id_rsa"]
                .iter()
                .map(|name| home.join(".ssh").join(name))
                .filter(|path| path.is_file())
                .collect()
        })
        .unwrap_or_default();
    keys.reverse();
    callbacks.credentials(move |url, username, allowed| {
        let user = username.unwrap_or("git");
        if allowed.contains(CredentialType::USERNAME) {
            return Cred::username(user);
        }
        if allowed.contains(CredentialType::SSH_KEY) {
            if !tried_agent {
                tried_agent = true;
                if std::env::var_os("SSH_AUTH_SOCK").is_some() {
                    return Cred::ssh_key_from_agent(user);
                }
            }
            if let Some(key) = keys.pop() {
                return Cred::ssh_key(user, None, &key, None);
            }
        }
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) && !tried_helper {
            tried_helper = true;
            if let Ok(cred) = Cred::credential_helper(config, url, username) {
                return Ok(cred);
            }
        }
        if allowed.contains(CredentialType::DEFAULT) && !tried_default {
            tried_default = true;
            return Cred::default();
        }
        Err(git2::Error::new(
            ErrorCode::Auth,
            ErrorClass::Net,
            "no credentials left to try (ssh agent, ~/.ssh keys, git credential helper)",
        ))
    });
    callbacks
}

/// Fetch the remote branch; its commit, or `None` when it does not exist.
fn fetch(
    repo: &Repository,
    remote: &mut Remote<'_>,
    config: &git2::Config,
    name: &str,
    url: &str,
    remote_branch: &str,
) -> Result<Option<Oid>> {
    let mut options = FetchOptions::new();
    options.remote_callbacks(callbacks(config));
    options.download_tags(AutotagOption::None);
    let refspec = format!("+refs/heads/{remote_branch}:refs/remotes/{name}/{remote_branch}");
    remote
        .fetch(
            &[refspec.as_str()],
            Some(&mut options),
            Some("incident sync: fetch"),
        )
        .map_err(|e| remote_error(e, "fetch from", name, url))?;
    let wanted = format!("refs/heads/{remote_branch}");
    if let Ok(heads) = remote.list() {
        return Ok(heads.iter().find(|h| h.name() == wanted).map(|h| h.oid()));
    }
    // The advertisement is gone: the fetch updated the tracking branch.
    Ok(repo
        .find_reference(&format!("refs/remotes/{name}/{remote_branch}"))
        .ok()
        .and_then(|r| r.target()))
}

enum MergeResult {
    /// The merge commit (`None` in a dry run).
    Merged(Option<Oid>),
    Conflict(Vec<String>),
}

#[allow(clippy::too_many_arguments)]
fn merge(
    repo: &Repository,
    local: Oid,
    theirs: Oid,
    remote: &str,
    remote_branch: &str,
    branch: &str,
    now: Timestamp,
    dry_run: bool,
) -> Result<MergeResult> {
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
    let tree = repo.find_tree(index.write_tree_to(repo)?)?;
    let identity = Identity::resolve(repo, now)?;
    let message = commit_message(
        &format!("Merge {remote}/{remote_branch} into {branch}"),
        &["Combined by `incident sync`: both sides recorded events since they last met.".into()],
        &[],
    );
    let commit = repo.commit(
        None,
        &identity.author_signature()?,
        &identity.committer_signature()?,
        &message,
        &tree,
        &[&ours, &their_commit],
    )?;
    Ok(MergeResult::Merged(Some(commit)))
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

enum Pushed {
    Done,
    /// The remote refused: it moved on since the fetch.
    Rejected(String),
}

fn push(
    repo: &Repository,
    remote: &mut Remote<'_>,
    config: &git2::Config,
    target: Oid,
    name: &str,
    url: &str,
    remote_branch: &str,
) -> Result<Pushed> {
    repo.reference(PUSH_REF, target, true, "incident sync: commit to push")?;
    let result = (|| {
        let refusal: RefCell<Option<String>> = RefCell::new(None);
        let mut push_callbacks = callbacks(config);
        push_callbacks.push_update_reference(|_, status| {
            if let Some(status) = status {
                *refusal.borrow_mut() = Some(status.to_string());
            }
            Ok(())
        });
        let mut options = PushOptions::new();
        options.remote_callbacks(push_callbacks);
        let refspec = format!("{PUSH_REF}:refs/heads/{remote_branch}");
        match remote.push(&[refspec.as_str()], Some(&mut options)) {
            Ok(()) => {}
            // Another clone pushed first, or is pushing right now.
            Err(e) if matches!(e.code(), ErrorCode::NotFastForward | ErrorCode::Locked) => {
                return Ok(Pushed::Rejected(e.message().to_string()));
            }
            Err(e) => return Err(remote_error(e, "push to", name, url)),
        }
        drop(options);
        if let Some(reason) = refusal.into_inner() {
            return Ok(Pushed::Rejected(reason));
        }
        // libgit2 updates a local (file) remote's branch without a
        // compare-and-swap, so a concurrent push could replace ours: make
        // sure the remote has our commit before calling it done.
        let connection = remote
            .connect_auth(Direction::Fetch, Some(callbacks(config)), None)
            .map_err(|e| remote_error(e, "fetch from", name, url))?;
        let wanted = format!("refs/heads/{remote_branch}");
        let now_there = connection
            .list()?
            .iter()
            .find(|h| h.name() == wanted)
            .map(|h| h.oid());
        if now_there == Some(target) {
            Ok(Pushed::Done)
        } else {
            Ok(Pushed::Rejected(
                "another push replaced ours at the same moment".into(),
            ))
        }
    })();
    if let Ok(mut reference) = repo.find_reference(PUSH_REF) {
        let _ = reference.delete();
    }
    result
}

/// Explain a failed fetch or push, and what to do.
fn remote_error(error: git2::Error, what: &str, name: &str, url: &str) -> Error {
    let reason = error.message().trim().to_string();
    let message = if error.code() == ErrorCode::Auth
        || reason.to_ascii_lowercase().contains("authentication")
    {
        format!(
            "could not {what} '{name}' ({url}): authentication was refused: {reason}\nnothing was changed. For ssh, check that your key is loaded (`ssh-add -l`) and accepted by the server; for https, that git's credential helper has a valid token (`git {} {name}` asks for one); then run `incident sync` again",
            if what == "push to" { "push" } else { "fetch" }
        )
    } else if matches!(
        error.class(),
        ErrorClass::Net
            | ErrorClass::Ssh
            | ErrorClass::Http
            | ErrorClass::Ssl
            | ErrorClass::Os
            | ErrorClass::Repository
    ) {
        format!(
            "could not {what} '{name}' ({url}): {reason}\nnothing was changed, and everything recorded is safe in this clone. Check the network and the remote's URL (`git remote -v`), then run `incident sync` again"
        )
    } else {
        format!(
            "could not {what} '{name}' ({url}): {reason}\nnothing was changed; run `incident sync` again, or use `git pull` / `git push` to see git's own message"
        )
    };
    Error::InvalidInput { message }
}

fn count_commits(repo: &Repository, head: Oid) -> Result<usize> {
    let mut walk = repo.revwalk()?;
    walk.push(head)?;
    Ok(walk.count())
}

/// Paths that differ between two commits' trees.
fn changed_paths(repo: &Repository, from: Oid, to: Oid) -> Result<Vec<String>> {
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
                paths.push(String::from_utf8_lossy(path).into_owned());
            }
        }
    }
    paths.sort();
    paths.dedup();
    Ok(paths)
}

/// Of `paths`, those the user changed: staged, modified, or untracked
/// where the merge would write.
fn modified_paths(repo: &Repository, paths: &[String]) -> Result<Vec<String>> {
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
        options.pathspec(path);
    }
    let statuses = repo.statuses(Some(&mut options))?;
    Ok(statuses
        .iter()
        .filter(|s| s.status() != git2::Status::CURRENT)
        .filter_map(|s| s.path().ok().map(str::to_string))
        .collect())
}

/// Check out the changed files (they are unmodified, as checked) and move
/// the branch; put the files back if the branch moved meanwhile.
fn update_worktree(
    repo: &Repository,
    branch_ref: &str,
    from: Oid,
    to: Oid,
    paths: &[String],
    remote: &str,
    remote_branch: &str,
) -> Result<()> {
    let checkout = |commit: Oid, force: bool| -> Result<()> {
        if paths.is_empty() {
            return Ok(());
        }
        let tree = repo.find_commit(commit)?.tree()?;
        let mut builder = CheckoutBuilder::new();
        if force {
            builder.force();
        } else {
            builder.safe();
        }
        builder.disable_pathspec_match(true);
        for path in paths {
            builder.path(path.as_str());
        }
        repo.checkout_tree(tree.as_object(), Some(&mut builder))?;
        Ok(())
    };
    checkout(to, false)?;
    let moved = repo.reference_matching(
        branch_ref,
        to,
        true,
        from,
        &format!("incident sync: integrate {remote}/{remote_branch}"),
    );
    if let Err(e) = moved {
        checkout(from, true)?;
        return Err(Error::InvalidInput {
            message: format!(
                "{branch_ref} moved while incident sync ran ({}); the remote has the merged history, so run `incident sync` again",
                e.message()
            ),
        });
    }
    Ok(())
}
