//! The review branch `postmortem/<id>`: the only place a postmortem's draft
//! and its revisions live until the review merges into the default branch.
//!
//! It is written object by object (blobs, trees, commits, then the branch
//! with a compare-and-swap on its old value), never through a checkout, so
//! the user's HEAD, index and working tree stay as they were. Before it is
//! written or pushed, the remote's copy is fetched and built on: commits a
//! reviewer pushed are merged in (a merge commit, as `git pull` makes), and
//! when both sides changed the same lines nothing changes and the error says
//! how to combine them. Pushes are never forced.
//!
//! Once everything the branch holds is on the current branch (its review
//! merged: by a merge commit, a squash or a rebase), that review is done.
//! The next change starts a new round of review from the current branch:
//! a merge commit whose tree is the current branch's, with the old branch
//! as a parent, so the pull request shows only the new changes and pushing
//! stays a fast-forward of whatever the remote still has.

use std::fs;
use std::path::{Path, PathBuf};

use git2::{ErrorCode, Oid, Tree};

use crate::error::{Error, RemoteFailure, Result};
use crate::store::commit::{CommitKind, CommitRequest};
use crate::store::gitrefs::RefOutcome;
use crate::store::identity::Identity;
use crate::store::remote::{self, Transfer};
use crate::store::write::{FileWrite, write_tree};
use crate::store::{Store, read_blob};

/// How often a push that lost a race with a reviewer's push is redone.
const PUSH_ATTEMPTS: u32 = 5;

/// `postmortem/<id>`.
pub fn review_branch(id: &str) -> String {
    format!("postmortem/{id}")
}

/// One incident's review branch, here and on the remote.
pub struct ReviewBranch<'s> {
    store: &'s Store,
    /// `postmortem/<id>`.
    pub name: String,
    /// `refs/heads/postmortem/<id>`.
    pub reference: String,
    /// The remote it is shared through, when the repository has that remote.
    pub remote: Option<String>,
    /// The remote asked for, whether the repository has it or not.
    wanted_remote: String,
    /// `refs/remotes/<remote>/postmortem/<id>`, what the last fetch saw.
    tracking: Option<String>,
}

/// What to build on: the branch as this clone and the remote have it.
#[derive(Debug, Clone)]
pub struct Tip {
    /// The local branch when it was read: the compare-and-swap's old value.
    pub local: Option<Oid>,
    /// The remote's, as last fetched.
    pub remote: Option<Oid>,
    pub base: Base,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// No branch yet, here or on the remote.
    None,
    /// One commit has everything (the two agree, or one contains the other).
    Commit(Oid),
    /// The two diverged and merge cleanly into this tree (not committed yet).
    Merge(Oid),
    /// The branch's review is done (the current branch, this commit, holds
    /// all of it): a change starts a new round from here.
    NewRound(Oid),
}

/// Where the branch is checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checkout {
    Nowhere,
    /// In this working tree: HEAD is the review branch.
    Here,
    /// In another working tree (`git worktree`), which moving it would leave behind.
    Elsewhere(PathBuf),
}

impl Tip {
    /// The tree to build on, if there is a branch.
    pub fn tree<'r>(&self, store: &'r Store) -> Result<Option<Tree<'r>>> {
        let repo = &store.repo;
        Ok(match self.base {
            Base::None => None,
            Base::Commit(commit) | Base::NewRound(commit) => {
                Some(repo.find_commit(commit)?.tree()?)
            }
            Base::Merge(tree) => Some(repo.find_tree(tree)?),
        })
    }

    /// A file's text on the branch.
    pub fn text(&self, store: &Store, path: &str) -> Result<Option<String>> {
        let Some(tree) = self.tree(store)? else {
            return Ok(None);
        };
        read_blob(&store.repo, &tree, path)?
            .map(|bytes| crate::tomlfile::text(path, &bytes).map(str::to_string))
            .transpose()
    }
}

/// Make one commit object. Every commit on a review branch is made here:
/// the one place to sign it and run commit hooks as `git commit` does.
pub fn make_commit(
    store: &Store,
    identity: &Identity,
    message: &str,
    tree: Oid,
    parents: &[Oid],
) -> Result<Oid> {
    let kind = if parents.len() > 1 {
        CommitKind::Merge
    } else {
        CommitKind::Commit
    };
    Ok(store
        .create_commit(&CommitRequest {
            tree,
            parents: parents.to_vec(),
            message: message.to_string(),
            identity,
            kind,
            own_paths: &[],
            index: None,
        })?
        .id)
}

impl<'s> ReviewBranch<'s> {
    /// The review branch of incident `id`, shared through `remote` when the
    /// repository has a remote of that name.
    pub fn new(store: &'s Store, id: &str, remote_name: &str) -> ReviewBranch<'s> {
        let name = review_branch(id);
        let remote = store
            .repo
            .find_remote(remote_name)
            .ok()
            .map(|_| remote_name.to_string());
        ReviewBranch {
            store,
            reference: format!("refs/heads/{name}"),
            tracking: remote
                .as_ref()
                .map(|remote| format!("refs/remotes/{remote}/{name}")),
            remote,
            wanted_remote: remote_name.to_string(),
            name,
        }
    }

    fn target(&self, reference: Option<&str>) -> Result<Option<Oid>> {
        let Some(reference) = reference else {
            return Ok(None);
        };
        match self.store.repo.find_reference(reference) {
            Ok(found) => Ok(Some(found.peel_to_commit()?.id())),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The local branch's commit.
    pub fn local(&self) -> Result<Option<Oid>> {
        self.target(Some(&self.reference))
    }

    /// The remote's commit, as last fetched.
    pub fn remote_tip(&self) -> Result<Option<Oid>> {
        self.target(self.tracking.as_deref())
    }

    /// Whether the branch exists here or (as last fetched) on the remote.
    pub fn exists(&self) -> Result<bool> {
        Ok(self.local()?.is_some() || self.remote_tip()?.is_some())
    }

    /// Fetch the remote's copy into its remote-tracking branch. `false`
    /// when there is no remote or the remote has no such branch (then a
    /// stale remote-tracking copy is forgotten, as `git fetch --prune` does).
    pub fn fetch(&self, transfer: &mut Transfer<'_>) -> Result<bool> {
        let (Some(remote), Some(tracking)) = (&self.remote, &self.tracking) else {
            return Ok(false);
        };
        let spec = format!("+{}:{tracking}", self.reference);
        match remote::fetch(self.store, remote, &[spec], transfer) {
            Ok(()) => Ok(true),
            Err(Error::Remote {
                failure: RemoteFailure::NoSuchBranch,
                ..
            }) => {
                if let Ok(mut stale) = self.store.repo.find_reference(tracking) {
                    stale.delete()?;
                }
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// [`fetch`](Self::fetch), turning a failure into a warning: writing the
    /// branch works offline, and the next push fetches and combines again.
    pub fn fetch_or_warn(&self, transfer: &mut Transfer<'_>, warnings: &mut Vec<String>) {
        if let Err(e) = self.fetch(transfer) {
            let first = e.to_string();
            warnings.push(format!(
                "could not fetch {} from {} ({}); worked on this clone's copy, and `incident postmortem review {} --push` combines it with the remote's",
                self.name,
                self.remote.as_deref().unwrap_or("the remote"),
                first.lines().next().unwrap_or_default(),
                self.name.trim_start_matches("postmortem/"),
            ));
        }
    }

    /// The branch to build on: local and remote combined.
    pub fn tip(&self) -> Result<Tip> {
        let repo = &self.store.repo;
        let local = self.local()?;
        let remote = self.remote_tip()?;
        let base = match (local, remote) {
            (None, None) => Base::None,
            (Some(one), None) | (None, Some(one)) => Base::Commit(one),
            (Some(l), Some(r)) if l == r => Base::Commit(l),
            (Some(l), Some(r)) if repo.graph_descendant_of(l, r)? => Base::Commit(l),
            (Some(l), Some(r)) if repo.graph_descendant_of(r, l)? => Base::Commit(r),
            (Some(l), Some(r)) => Base::Merge(self.merge_tree(l, r)?),
        };
        Ok(Tip {
            local,
            remote,
            base,
        })
    }

    /// The branch to build a change of `path` on, from `current` (the
    /// current branch's commit). As [`tip`](Self::tip), except that once
    /// `current` holds the postmortem and everything the branch holds, the
    /// branch's review is done and a change starts a new round from
    /// `current`. A branch that holds changes `current` lacks and was not
    /// begun from `current`'s line after the postmortem reached it (an old
    /// review with commits pushed after its merge) is refused: which side
    /// is newer is for a person to say.
    pub fn tip_from(&self, current: Oid, path: &str) -> Result<Tip> {
        let repo = &self.store.repo;
        let (local, remote) = (self.local()?, self.remote_tip()?);
        let mut heads: Vec<Oid> = local.into_iter().chain(remote).collect();
        heads.dedup();
        let current_tree = repo.find_commit(current)?.tree()?;
        if heads.is_empty() || current_tree.get_path(Path::new(path)).is_err() {
            return self.tip();
        }
        let mut done = true;
        for &head in &heads {
            if self.holds_all_of(current, &current_tree, head)? {
                continue;
            }
            done = false;
            let begun_after = match repo.merge_base(head, current) {
                Ok(base) => self.on_published_line(current, base, path)?,
                Err(e) if e.code() == ErrorCode::NotFound => false,
                Err(e) => return Err(e.into()),
            };
            if !begun_after {
                return Err(self.stale_error(path));
            }
        }
        if !done {
            return self.tip();
        }
        Ok(Tip {
            local,
            remote,
            base: Base::NewRound(current),
        })
    }

    /// Whether `base` is a commit of `current`'s own (first-parent) line
    /// that holds `path`: a round of review begun from the current branch
    /// once the postmortem was there. An old review's commits reach the
    /// current branch only through a merge's second parent, and a branch
    /// begun before the postmortem reached it forks where there was none.
    fn on_published_line(&self, current: Oid, base: Oid, path: &str) -> Result<bool> {
        let repo = &self.store.repo;
        let mut walk = repo.revwalk()?;
        walk.push(current)?;
        walk.simplify_first_parent()?;
        for commit in walk {
            let commit = commit?;
            if repo
                .find_commit(commit)?
                .tree()?
                .get_path(Path::new(path))
                .is_err()
            {
                return Ok(false);
            }
            if commit == base {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether `current` holds every change `head` made since their merge
    /// base (merged, squashed or rebased there).
    fn holds_all_of(&self, current: Oid, current_tree: &Tree<'_>, head: Oid) -> Result<bool> {
        let repo = &self.store.repo;
        if head == current || repo.graph_descendant_of(current, head)? {
            return Ok(true);
        }
        let base = match repo.merge_base(head, current) {
            Ok(base) => Some(repo.find_commit(base)?.tree()?),
            Err(e) if e.code() == ErrorCode::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        let head_tree = repo.find_commit(head)?.tree()?;
        let diff = repo.diff_tree_to_tree(base.as_ref(), Some(&head_tree), None)?;
        for delta in diff.deltas() {
            let new = delta.new_file();
            let held = match new.path() {
                Some(path) if delta.status() != git2::Delta::Deleted => current_tree
                    .get_path(path)
                    .is_ok_and(|entry| entry.id() == new.id()),
                _ => delta
                    .old_file()
                    .path()
                    .is_some_and(|path| current_tree.get_path(path).is_err()),
            };
            if !held {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn stale_error(&self, path: &str) -> Error {
        let remote = self.remote.as_deref().unwrap_or("origin");
        Error::InvalidInput {
            message: format!(
                "{branch} is from a review begun before {path} reached your current branch, and it holds changes your branch does not have (commits pushed after the merge, or the text changed on both sides since); nothing was changed. To review a change of the published postmortem, delete that branch (`git branch -D {branch}`, and `git push {remote} --delete {branch}` for the remote's copy) and run the command again: it starts a new review from your current branch. To keep its changes instead, merge your branch into it with git (`git switch {branch}`, `git merge -`, fix, `git commit`, `git push`, `git switch -`)",
                branch = self.name
            ),
        }
    }

    /// The first commit of a new round from `start`: `start` itself when
    /// the old branch is in its history, else a merge of the old branch's
    /// heads with the tree of `start` (it holds all of them).
    fn new_round(&self, tip: &Tip, start: Oid, identity: &Identity) -> Result<Oid> {
        let repo = &self.store.repo;
        let mut heads: Vec<Oid> = Vec::new();
        for head in tip.local.into_iter().chain(tip.remote) {
            if head != start && !heads.contains(&head) && !repo.graph_descendant_of(start, head)? {
                heads.push(head);
            }
        }
        if let [a, b] = heads[..] {
            if repo.graph_descendant_of(a, b)? {
                heads.retain(|h| *h != b);
            } else if repo.graph_descendant_of(b, a)? {
                heads.retain(|h| *h != a);
            }
        }
        if heads.is_empty() {
            return Ok(start);
        }
        heads.push(start);
        make_commit(
            self.store,
            identity,
            &format!(
                "Start a new review on {}\n\nThe earlier review on this branch reached the current branch; this merge takes the current branch's files, so the pull request shows only the new changes.\n",
                self.name
            ),
            repo.find_commit(start)?.tree_id(),
            &heads,
        )
    }

    /// The tree that merging the remote's commits into ours gives, or the
    /// files both changed on the same lines.
    fn merge_tree(&self, local: Oid, remote: Oid) -> Result<Oid> {
        let repo = &self.store.repo;
        let mut index =
            repo.merge_commits(&repo.find_commit(local)?, &repo.find_commit(remote)?, None)?;
        if index.has_conflicts() {
            let mut files: Vec<String> = Vec::new();
            for conflict in index.conflicts()? {
                let conflict = conflict?;
                if let Some(entry) = conflict.our.or(conflict.their).or(conflict.ancestor) {
                    let path = String::from_utf8_lossy(&entry.path).into_owned();
                    if !files.contains(&path) {
                        files.push(path);
                    }
                }
            }
            return Err(Error::ReviewConflict {
                branch: self.name.clone(),
                where_: format!(
                    "in this clone and on {}",
                    self.remote.as_deref().unwrap_or("the remote")
                ),
                remote: self.remote.clone(),
                files,
                kept: None,
            });
        }
        Ok(index.write_tree_to(repo)?)
    }

    /// Where the branch is checked out, if anywhere.
    pub fn checkout(&self) -> Result<Checkout> {
        let repo = &self.store.repo;
        let head = repo.find_reference("HEAD")?;
        if head.symbolic_target().ok().flatten() == Some(self.reference.as_str()) {
            return Ok(Checkout::Here);
        }
        let common = repo.commondir();
        let here = fs::canonicalize(repo.path()).unwrap_or_else(|_| repo.path().to_path_buf());
        let mut heads: Vec<(PathBuf, PathBuf)> = vec![(
            common.to_path_buf(),
            common.parent().unwrap_or(common).to_path_buf(),
        )];
        if let Ok(entries) = fs::read_dir(common.join("worktrees")) {
            for entry in entries.flatten() {
                let git_dir = entry.path();
                let place = fs::read_to_string(git_dir.join("gitdir"))
                    .ok()
                    .and_then(|p| Path::new(p.trim()).parent().map(Path::to_path_buf))
                    .unwrap_or_else(|| git_dir.clone());
                heads.push((git_dir, place));
            }
        }
        for (git_dir, place) in heads {
            if fs::canonicalize(&git_dir).is_ok_and(|d| d == here) {
                continue;
            }
            let Ok(text) = fs::read_to_string(git_dir.join("HEAD")) else {
                continue;
            };
            if text.trim().strip_prefix("ref:").map(str::trim) == Some(self.reference.as_str()) {
                return Ok(Checkout::Elsewhere(place));
            }
        }
        Ok(Checkout::Nowhere)
    }

    /// Refuse to move a branch that another working tree has checked out.
    pub fn ensure_movable(&self) -> Result<()> {
        if let Checkout::Elsewhere(place) = self.checkout()? {
            return Err(Error::InvalidInput {
                message: format!(
                    "{} is checked out in {}; commit there with git, or leave that branch there (`git switch -`) and run the command again",
                    self.name,
                    place.display()
                ),
            });
        }
        Ok(())
    }

    /// Commit `files` on top of `tip` (a new branch starts at `start`, the
    /// current branch's commit) and move the branch. A merge of the
    /// remote's commits is committed first. `None` when nothing changed.
    pub fn commit(
        &self,
        tip: &Tip,
        start: Oid,
        files: &[FileWrite],
        message: &str,
        identity: &Identity,
    ) -> Result<Option<Oid>> {
        let repo = &self.store.repo;
        let parent = match tip.base {
            Base::None => start,
            Base::Commit(commit) => commit,
            Base::NewRound(from) => {
                // A new round begins only with a change to review.
                let from_tree = repo.find_commit(from)?.tree()?;
                if files.is_empty() || write_tree(repo, Some(&from_tree), files)? == from_tree.id()
                {
                    return Ok(None);
                }
                self.new_round(tip, from, identity)?
            }
            Base::Merge(tree) => {
                let (Some(local), Some(remote)) = (tip.local, tip.remote) else {
                    return Err(Error::InvalidInput {
                        message: format!(
                            "internal error: a merge of {} without both sides",
                            self.name
                        ),
                    });
                };
                make_commit(
                    self.store,
                    identity,
                    &format!(
                        "Merge {}'s {} into the local one\n\nKeeps the commits pushed to the review branch meanwhile.\n",
                        self.remote.as_deref().unwrap_or("the remote"),
                        self.name
                    ),
                    tree,
                    &[local, remote],
                )?
            }
        };
        let base_tree = repo.find_commit(parent)?.tree()?;
        let mut new_tip = parent;
        if !files.is_empty() {
            let tree = write_tree(repo, Some(&base_tree), files)?;
            if tree != base_tree.id() {
                new_tip = make_commit(self.store, identity, message, tree, &[parent])?;
            }
        }
        if Some(new_tip) == tip.local {
            return Ok(None);
        }
        let subject = message.lines().next().unwrap_or_default();
        let log = format!("incident: {subject}");
        // A compare-and-swap as git's own ref updates do, with the
        // repository's shared permissions and reflog rules.
        match self
            .store
            .move_ref(&self.reference, new_tip, tip.local, identity, &log)?
        {
            RefOutcome::Updated => {
                if new_tip != parent {
                    // As after `git commit`; its exit status is ignored.
                    let mut ignored = Vec::new();
                    self.store.run_post_commit(identity, &mut ignored)?;
                }
                Ok(Some(new_tip))
            }
            RefOutcome::Locked => Err(Error::InvalidInput {
                message: format!(
                    "{} exists: another git command is updating {}; nothing was changed. Run the command again once it is done; if none is running (one was killed), delete that file",
                    crate::store::gitrefs::lock_path(repo, &self.reference).display(),
                    self.name
                ),
            }),
            RefOutcome::Moved => Err(Error::InvalidInput {
                message: format!(
                    "{} changed while incident was writing it (another command?); nothing was changed, run the command again",
                    self.name
                ),
            }),
        }
    }

    /// Push the branch and set it as its upstream, never forced. When a
    /// reviewer pushed since the last fetch, fetch, merge their commits and
    /// push again.
    pub fn push(&self, identity: &Identity, transfer: &mut Transfer<'_>) -> Result<()> {
        let Some(remote) = &self.remote else {
            return Err(no_remote_error(self.store, &self.wanted_remote, "push"));
        };
        let spec = format!("{0}:{0}", self.reference);
        for _ in 0..PUSH_ATTEMPTS {
            let outcome = remote::push(
                self.store,
                remote,
                std::slice::from_ref(&spec),
                true,
                transfer,
            )?;
            if let Some(reason) = outcome.rejection() {
                return Err(Error::Remote {
                    remote: remote.clone(),
                    url: remote::url(self.store, remote)?,
                    action: "push to",
                    failure: RemoteFailure::Rejected,
                    detail: reason,
                });
            }
            if !outcome.non_fast_forward() {
                return Ok(());
            }
            self.fetch(transfer)?;
            let tip = self.tip()?;
            if let Some(start) = tip.local.or(tip.remote) {
                self.commit(&tip, start, &[], "", identity)?;
            }
        }
        Err(Error::Contention {
            branch: format!("{remote}/{}", self.name),
            attempts: PUSH_ATTEMPTS,
        })
    }
}

/// What to say when there is no remote to share the review branch through.
pub fn no_remote_error(store: &Store, wanted: &str, action: &str) -> Error {
    let remotes: Vec<String> = store
        .repo
        .remotes()
        .map(|names| {
            names
                .iter()
                .filter_map(|r| r.ok().flatten())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Error::InvalidInput {
        message: if remotes.is_empty() {
            format!(
                "this repository has no remote to {action} the review branch to; add one with `git remote add origin URL` (the repository on GitHub, GitLab, Bitbucket or Gitea), then run the command again"
            )
        } else {
            format!(
                "no remote named '{wanted}' to {action} to; remotes: {} (pick one with --remote NAME, or set `remote` under [postmortem] in incidents/config.toml)",
                remotes.join(", ")
            )
        },
    }
}
