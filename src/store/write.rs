//! Committing incident's files without touching anything else.
//!
//! The commit's tree is HEAD's tree with only our files replaced, built
//! object by object (never from the user's index, which may hold their
//! staged work). The branch moves with a compare-and-swap on its old value,
//! so a concurrent writer is detected and the whole step is redone on top
//! of the new HEAD. Then only our own entries of the user's index and
//! working tree are updated, so `git status` stays as it was.
//!
//! Crash safety: writers of this tool take a lock (released by the kernel
//! when a process dies) and keep a journal naming the commit and its paths
//! between moving the branch and updating index and working tree. The next
//! writer finishes an interrupted update from the journal.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use git2::{ErrorCode, FileMode, Oid, Repository, RepositoryState, StatusOptions, Tree};

use super::Store;
use super::identity::Identity;
use crate::error::{Error, Result, io_err};
use crate::time::Timestamp;

/// How often to redo a commit whose branch moved underneath it.
const MAX_ATTEMPTS: u32 = 50;
const LOCK_FILE: &str = "incident.lock";
const JOURNAL_FILE: &str = "incident-journal";

/// A file to write, with a repository-relative path using `/`.
#[derive(Debug, Clone)]
pub struct FileWrite {
    pub path: String,
    pub content: Vec<u8>,
}

/// What one command commits.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The whole commit message: subject, body, trailers.
    pub message: String,
    pub files: Vec<FileWrite>,
    /// Files and folders the command read or writes: they must have no
    /// uncommitted changes, or the commit would contradict what the user sees.
    pub guard: Vec<String>,
}

/// The result of a commit.
#[derive(Debug, Clone)]
pub struct Committed {
    pub commit: Oid,
    pub branch: String,
    /// Things that went wrong after the commit landed (it stays).
    pub warnings: Vec<String>,
}

/// Context handed to a plan on each attempt.
pub struct Attempt<'a> {
    /// HEAD's tree, `None` on an unborn branch.
    pub tree: Option<&'a Tree<'a>>,
    pub identity: &'a Identity,
    pub now: Timestamp,
}

impl Store {
    /// Refuse states in which a commit would surprise the user.
    pub fn ensure_writable(&self) -> Result<String> {
        let operation = match self.repo.state() {
            RepositoryState::Clean => None,
            RepositoryState::Merge => Some("merge"),
            RepositoryState::Revert | RepositoryState::RevertSequence => Some("revert"),
            RepositoryState::CherryPick | RepositoryState::CherryPickSequence => {
                Some("cherry-pick")
            }
            RepositoryState::Bisect => Some("bisect"),
            RepositoryState::Rebase
            | RepositoryState::RebaseInteractive
            | RepositoryState::RebaseMerge => Some("rebase"),
            RepositoryState::ApplyMailbox | RepositoryState::ApplyMailboxOrRebase => Some("git am"),
        };
        if let Some(operation) = operation {
            return Err(Error::OperationInProgress {
                operation: operation.into(),
            });
        }
        self.branch_ref()
    }

    /// The branch HEAD points at (`refs/heads/...`), born or not.
    fn branch_ref(&self) -> Result<String> {
        let head = self.repo.find_reference("HEAD")?;
        match head.symbolic_target().ok().flatten() {
            Some(target) => Ok(target.to_string()),
            None => Err(Error::DetachedHead),
        }
    }

    /// Commit what `plan` returns as one commit on the current branch.
    /// `plan` runs again on the new HEAD whenever another writer got there
    /// first, so validation always sees the state it commits on top of.
    pub fn commit_with<T>(
        &self,
        now: Timestamp,
        mut plan: impl FnMut(&Attempt<'_>) -> Result<(Plan, T)>,
    ) -> Result<(Committed, T)> {
        let branch = self.ensure_writable()?;
        let identity = Identity::resolve(&self.repo, now)?;
        let _lock = WriterLock::acquire(&self.repo.path().join(LOCK_FILE))?;
        self.recover()?;
        let author = identity.author_signature()?;
        let committer = identity.committer_signature()?;
        for attempt in 1..=MAX_ATTEMPTS {
            let head = match self.repo.head() {
                Ok(head) => Some(head.peel_to_commit()?),
                Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => None,
                Err(e) => return Err(e.into()),
            };
            let base = head.as_ref().map(|c| c.tree()).transpose()?;
            let (plan, value) = plan(&Attempt {
                tree: base.as_ref(),
                identity: &identity,
                now,
            })?;
            self.ensure_clean(&plan.guard)?;
            let tree_id = write_tree(&self.repo, base.as_ref(), &plan.files)?;
            let tree = self.repo.find_tree(tree_id)?;
            let parents: Vec<&git2::Commit<'_>> = head.iter().collect();
            let commit =
                self.repo
                    .commit(None, &author, &committer, &plan.message, &tree, &parents)?;
            let paths: Vec<String> = plan.files.iter().map(|f| f.path.clone()).collect();
            let journal = Journal::new(self.repo.path());
            journal.write(commit, &paths)?;
            let subject = plan.message.lines().next().unwrap_or_default();
            let moved = match &head {
                Some(parent) => self.repo.reference_matching(
                    &branch,
                    commit,
                    true,
                    parent.id(),
                    &format!("commit: {subject}"),
                ),
                None => self.repo.reference(
                    &branch,
                    commit,
                    false,
                    &format!("commit (initial): {subject}"),
                ),
            };
            match moved {
                Ok(_) => {
                    let warnings = match self.update_worktree(&tree, &paths) {
                        Ok(()) => {
                            journal.remove()?;
                            Vec::new()
                        }
                        Err(e) => vec![format!(
                            "committed, but could not update the working tree and index ({e}); the next incident command will finish it"
                        )],
                    };
                    return Ok((
                        Committed {
                            commit,
                            branch: branch.trim_start_matches("refs/heads/").to_string(),
                            warnings,
                        },
                        value,
                    ));
                }
                Err(e)
                    if matches!(
                        e.code(),
                        ErrorCode::Modified | ErrorCode::Locked | ErrorCode::Exists
                    ) =>
                {
                    journal.remove()?;
                    std::thread::sleep(backoff(attempt));
                }
                Err(e) => {
                    journal.remove()?;
                    return Err(e.into());
                }
            }
        }
        Err(Error::Contention {
            branch,
            attempts: MAX_ATTEMPTS,
        })
    }

    /// Refuse when any of `paths` (files or folders) differs between HEAD,
    /// the index and the working tree.
    pub fn ensure_clean(&self, paths: &[String]) -> Result<()> {
        if paths.is_empty() {
            return Ok(());
        }
        let mut options = StatusOptions::new();
        options
            .include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .exclude_submodules(true);
        for path in paths {
            options.pathspec(path);
        }
        let statuses = self.repo.statuses(Some(&mut options))?;
        let dirty: Vec<String> = statuses
            .iter()
            .filter(|s| s.status() != git2::Status::CURRENT && !s.status().is_ignored())
            .filter_map(|s| s.path().ok().map(str::to_string))
            .collect();
        if dirty.is_empty() {
            Ok(())
        } else {
            Err(Error::DirtyPaths { paths: dirty })
        }
    }

    /// Write our files from `tree` into the working tree and the index,
    /// touching no other index entry.
    fn update_worktree(&self, tree: &Tree<'_>, paths: &[String]) -> Result<()> {
        for path in paths {
            let entry = tree.get_path(Path::new(path))?;
            let blob = self.repo.find_blob(entry.id())?;
            let target = self.workdir().join(path);
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
            fs::write(&target, blob.content()).map_err(io_err(&target))?;
        }
        let mut last_error = None;
        for attempt in 1..=20 {
            let mut index = self.repo.index()?;
            index.read(true)?;
            for path in paths {
                index.add_path(Path::new(path))?;
            }
            match index.write() {
                Ok(()) => return Ok(()),
                Err(e) if e.code() == ErrorCode::Locked => {
                    last_error = Some(e);
                    std::thread::sleep(backoff(attempt));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(last_error.map(Error::Git).unwrap_or(Error::Contention {
            branch: "index".into(),
            attempts: 20,
        }))
    }

    /// Finish a write that a killed process left half done.
    fn recover(&self) -> Result<()> {
        let journal = Journal::new(self.repo.path());
        let Some((commit, paths)) = journal.read()? else {
            return Ok(());
        };
        let head = self.repo.head().ok().and_then(|h| h.target());
        if head == Some(commit) {
            let tree = self.repo.find_commit(commit)?.tree()?;
            self.update_worktree(&tree, &paths)?;
        }
        journal.remove()
    }
}

fn backoff(attempt: u32) -> Duration {
    let mut jitter = [0u8; 1];
    let _ = getrandom::fill(&mut jitter);
    Duration::from_millis(u64::from(attempt.min(10)) * 5 + u64::from(jitter[0] % 20))
}

/// HEAD's tree with `files` added or replaced; only the trees on the way to
/// each file are rewritten.
pub fn write_tree(repo: &Repository, base: Option<&Tree<'_>>, files: &[FileWrite]) -> Result<Oid> {
    let mut blobs = Vec::new();
    for file in files {
        let components: Vec<&str> = file.path.split('/').collect();
        if components
            .iter()
            .any(|c| c.is_empty() || *c == "." || *c == ".." || *c == ".git")
        {
            return Err(Error::InvalidInput {
                message: format!("refusing to write the unsafe path '{}'", file.path),
            });
        }
        blobs.push((components, repo.blob(&file.content)?));
    }
    build_tree(repo, base, &blobs)
}

fn build_tree(
    repo: &Repository,
    base: Option<&Tree<'_>>,
    files: &[(Vec<&str>, Oid)],
) -> Result<Oid> {
    let mut builder = repo.treebuilder(base)?;
    let mut nested: BTreeMap<&str, Vec<(Vec<&str>, Oid)>> = BTreeMap::new();
    for (components, blob) in files {
        match components.as_slice() {
            [name] => {
                builder.insert(name, *blob, FileMode::Blob.into())?;
            }
            [first, rest @ ..] => nested
                .entry(first)
                .or_default()
                .push((rest.to_vec(), *blob)),
            [] => {}
        }
    }
    for (name, children) in nested {
        let existing = match base.and_then(|t| t.get_name(name)) {
            Some(entry) if entry.kind() == Some(git2::ObjectType::Tree) => {
                Some(repo.find_tree(entry.id())?)
            }
            _ => None,
        };
        let subtree = build_tree(repo, existing.as_ref(), &children)?;
        builder.insert(name, subtree, FileMode::Tree.into())?;
    }
    Ok(builder.write()?)
}

/// An exclusive lock among incident's own writers. `flock` is released by
/// the kernel when the process dies, so a killed command never blocks the next.
struct WriterLock {
    _file: File,
}

impl WriterLock {
    fn acquire(path: &Path) -> Result<WriterLock> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(io_err(path))?;
        file.lock().map_err(io_err(path))?;
        Ok(WriterLock { _file: file })
    }
}

/// The commit whose working-tree update is under way, and its paths.
struct Journal {
    path: PathBuf,
}

impl Journal {
    fn new(git_dir: &Path) -> Journal {
        Journal {
            path: git_dir.join(JOURNAL_FILE),
        }
    }

    fn write(&self, commit: Oid, paths: &[String]) -> Result<()> {
        let temp = self.path.with_extension("tmp");
        let mut file = File::create(&temp).map_err(io_err(&temp))?;
        let mut text = format!("{commit}\n");
        for path in paths {
            text.push_str(path);
            text.push('\n');
        }
        file.write_all(text.as_bytes()).map_err(io_err(&temp))?;
        file.sync_all().map_err(io_err(&temp))?;
        fs::rename(&temp, &self.path).map_err(io_err(&self.path))
    }

    fn read(&self) -> Result<Option<(Oid, Vec<String>)>> {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&self.path)(e)),
        };
        let mut lines = text.lines();
        let commit = lines.next().and_then(|l| Oid::from_str(l.trim()).ok());
        match commit {
            // A journal cut short by a crash: nothing reliable to finish.
            None => {
                self.remove()?;
                Ok(None)
            }
            Some(commit) => Ok(Some((
                commit,
                lines
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect(),
            ))),
        }
    }

    fn remove(&self) -> Result<()> {
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&self.path)(e)),
        }
    }
}
