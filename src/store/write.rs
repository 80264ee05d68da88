//! Committing incident's files without touching anything else.
//!
//! The commit's tree is HEAD's tree with only our files replaced, built
//! object by object (never from the user's index, which may hold their
//! staged work). Our own files are then written to the working tree and
//! their entries (only theirs) to the index, and last the branch moves with
//! a compare-and-swap on its old value. If another writer moved it first,
//! our files are put back as HEAD has them and the whole step is redone on
//! top of the new HEAD.
//!
//! Why the index comes before the branch, and why under git's own
//! `index.lock`: a plain `git commit` commits whatever the index holds. Had
//! the branch moved before our entries were in the index, a racing commit
//! could record the reverse of ours; had we staged without the lock, it
//! could commit our files while we put them back. Holding `index.lock` from
//! staging until the branch has moved (or our files are restored) makes git
//! wait for us, or us for git, exactly as two git commands wait for each other.
//!
//! Crash safety: writers of this tool take a lock (released by the kernel
//! when a process dies) and keep a journal of the paths they touch, and of
//! the `index.lock` they hold, until the branch has moved. The next writer
//! puts those paths back as HEAD has them and removes that stale
//! `index.lock`, so a killed command leaves either its whole commit or nothing.

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
const INDEX_TEMP_FILE: &str = "incident-index.tmp";
const INDEX_LOCK_TEMP_FILE: &str = "incident-index-lock.tmp";
/// About ten seconds of waiting for a git command to let go of `index.lock`.
const INDEX_LOCK_ATTEMPTS: u32 = 120;

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
    /// 1 for the first attempt; more when another writer got there first.
    pub number: u32,
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
            RepositoryState::ApplyMailbox | RepositoryState::ApplyMailboxOrRebase => Some("am"),
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
    /// first, so validation always sees the state it commits on top of; it
    /// should keep the names of new files from one attempt to the next
    /// (`Attempt::number` says which one it is), so that files a racing
    /// `git commit` picked up are not recorded twice.
    pub fn commit_with<T>(
        &self,
        now: Timestamp,
        mut plan: impl FnMut(&Attempt<'_>) -> Result<(Plan, T)>,
    ) -> Result<(Committed, T)> {
        let branch = self.ensure_writable()?;
        let identity = Identity::resolve(&self.repo, now)?;
        let _lock = WriterLock::acquire(&self.repo.path().join(LOCK_FILE))?;
        self.recover()?;
        let journal = Journal::new(self.repo.path());
        // Paths an earlier attempt staged; they stay staged across attempts.
        let mut staged: Vec<String> = Vec::new();
        let outcome = self.attempts(&branch, &identity, now, &journal, &mut staged, &mut plan);
        if outcome.is_err() && !staged.is_empty() {
            let lock = IndexLock::acquire(self.repo.path())?;
            self.restore_to_head(&lock, &staged)?;
            lock.release()?;
        }
        journal.remove()?;
        outcome
    }

    fn attempts<T>(
        &self,
        branch: &str,
        identity: &Identity,
        now: Timestamp,
        journal: &Journal,
        staged: &mut Vec<String>,
        plan: &mut impl FnMut(&Attempt<'_>) -> Result<(Plan, T)>,
    ) -> Result<(Committed, T)> {
        let author = identity.author_signature()?;
        let committer = identity.committer_signature()?;
        let short_branch = branch.trim_start_matches("refs/heads/").to_string();
        for number in 1..=MAX_ATTEMPTS {
            let head = match self.repo.head() {
                Ok(head) => Some(head.peel_to_commit()?),
                Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => None,
                Err(e) => return Err(e.into()),
            };
            let base = head.as_ref().map(|c| c.tree()).transpose()?;
            let (plan, value) = plan(&Attempt {
                tree: base.as_ref(),
                identity,
                now,
                number,
            })?;
            self.ensure_clean(&plan.guard, staged)?;
            for file in &plan.files {
                self.ensure_inside_worktree(&file.path)?;
            }
            let tree_id = write_tree(&self.repo, base.as_ref(), &plan.files)?;
            let tree = self.repo.find_tree(tree_id)?;
            let paths: Vec<String> = plan.files.iter().map(|f| f.path.clone()).collect();
            // A racing commit may have taken our staged files already.
            if number > 1
                && let Some(taken) = self.commit_containing(&tree, &paths)?
            {
                return Ok((
                    Committed {
                        commit: taken,
                        branch: short_branch,
                        warnings: vec![format!(
                            "a concurrent git commit ({}) included these changes; no separate commit was made",
                            &taken.to_string()[..10]
                        )],
                    },
                    value,
                ));
            }
            let parents: Vec<&git2::Commit<'_>> = head.iter().collect();
            let commit =
                self.repo
                    .commit(None, &author, &committer, &plan.message, &tree, &parents)?;
            let index_lock = IndexLock::acquire(self.repo.path())?;
            let stale: Vec<String> = staged
                .iter()
                .filter(|p| !paths.contains(p))
                .cloned()
                .collect();
            for path in &paths {
                if !staged.contains(path) {
                    staged.push(path.clone());
                }
            }
            journal.write(staged, branch, commit)?;
            if !stale.is_empty() {
                self.restore_to_head(&index_lock, &stale)?;
                staged.retain(|p| !stale.contains(p));
            }
            self.stage(&index_lock, &tree, &paths)?;
            let subject = plan.message.lines().next().unwrap_or_default();
            let moved = match &head {
                Some(parent) => self.repo.reference_matching(
                    branch,
                    commit,
                    true,
                    parent.id(),
                    &format!("commit: {subject}"),
                ),
                None => self.repo.reference(
                    branch,
                    commit,
                    false,
                    &format!("commit (initial): {subject}"),
                ),
            };
            index_lock.release()?;
            match moved {
                Ok(_) => {
                    staged.clear();
                    return Ok((
                        Committed {
                            commit,
                            branch: short_branch,
                            warnings: Vec::new(),
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
                    std::thread::sleep(backoff(number));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Contention {
            branch: branch.to_string(),
            attempts: MAX_ATTEMPTS,
        })
    }

    /// Take incident's writer lock and finish any write a killed process
    /// left half done: for commands such as `sync` that move the branch
    /// themselves. The lock is held until the value is dropped.
    pub fn lock_writers(&self) -> Result<WriterLock> {
        let lock = WriterLock::acquire(&self.repo.path().join(LOCK_FILE))?;
        self.recover()?;
        Ok(lock)
    }

    /// Refuse a path whose folders (or the file itself) are symbolic links
    /// in the working tree: writing through them could land outside the
    /// repository.
    fn ensure_inside_worktree(&self, path: &str) -> Result<()> {
        let mut current = self.workdir().to_path_buf();
        for component in path.split('/') {
            current.push(component);
            match fs::symlink_metadata(&current) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(Error::InvalidInput {
                        message: format!(
                            "refusing to write {path}: {} is a symbolic link, which could lead outside the repository; replace it with a real folder",
                            current.display()
                        ),
                    });
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(io_err(&current)(e)),
            }
        }
        Ok(())
    }

    /// Refuse when any of `paths` (files or folders) differs between HEAD,
    /// the index and the working tree, except the files in `ours` (staged by
    /// an earlier attempt of this very command).
    pub fn ensure_clean(&self, paths: &[String], ours: &[String]) -> Result<()> {
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
            .filter(|p| !ours.contains(p))
            .collect();
        if dirty.is_empty() {
            Ok(())
        } else {
            Err(Error::DirtyPaths { paths: dirty })
        }
    }

    /// Write our files from `tree` into the working tree and the index,
    /// touching no other index entry.
    fn stage(&self, lock: &IndexLock, tree: &Tree<'_>, paths: &[String]) -> Result<()> {
        let mut entries = Vec::new();
        for path in paths {
            self.ensure_inside_worktree(path)?;
        }
        for path in paths {
            let entry = tree.get_path(Path::new(path))?;
            let blob = self.repo.find_blob(entry.id())?;
            let target = self.workdir().join(path);
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
            fs::write(&target, blob.content()).map_err(io_err(&target))?;
            entries.push(index_entry(&target, path, entry.id())?);
        }
        self.write_index(lock, |index| {
            for entry in &entries {
                index.add(entry)?;
            }
            Ok(())
        })
    }

    /// Put `paths` back as HEAD has them, in the working tree and the index:
    /// undoes a `stage` whose commit did not land.
    fn restore_to_head(&self, lock: &IndexLock, paths: &[String]) -> Result<()> {
        let tree = self.head_tree()?;
        let mut entries = Vec::new();
        let mut absent = Vec::new();
        for path in paths {
            let target = self.workdir().join(path);
            let found = match &tree {
                Some(tree) => match tree.get_path(Path::new(path)) {
                    Ok(entry) => Some(entry.id()),
                    Err(e) if e.code() == ErrorCode::NotFound => None,
                    Err(e) => return Err(e.into()),
                },
                None => None,
            };
            match found {
                Some(id) => {
                    let blob = self.repo.find_blob(id)?;
                    if let Some(parent) = target.parent() {
                        fs::create_dir_all(parent).map_err(io_err(parent))?;
                    }
                    fs::write(&target, blob.content()).map_err(io_err(&target))?;
                    entries.push(index_entry(&target, path, id)?);
                }
                None => {
                    match fs::remove_file(&target) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(io_err(&target)(e)),
                    }
                    absent.push(path.clone());
                }
            }
        }
        self.write_index(lock, |index| {
            for entry in &entries {
                index.add(entry)?;
            }
            for path in &absent {
                if index.get_path(Path::new(path), 0).is_some() {
                    index.remove_path(Path::new(path))?;
                }
            }
            Ok(())
        })
    }

    /// The current HEAD, if its tree holds every one of `paths` as `ours` does.
    fn commit_containing(&self, ours: &Tree<'_>, paths: &[String]) -> Result<Option<Oid>> {
        let Ok(head) = self.repo.head().and_then(|h| h.peel_to_commit()) else {
            return Ok(None);
        };
        let theirs = head.tree()?;
        for path in paths {
            let mine = ours.get_path(Path::new(path))?.id();
            match theirs.get_path(Path::new(path)) {
                Ok(entry) if entry.id() == mine => {}
                _ => return Ok(None),
            }
        }
        Ok(Some(head.id()))
    }

    /// Change the index while holding `index.lock`: read `.git/index`,
    /// apply `change`, and replace the file in one rename, so readers see
    /// the old index or the new one, never half of it.
    fn write_index(
        &self,
        _lock: &IndexLock,
        change: impl FnOnce(&mut git2::Index) -> Result<()>,
    ) -> Result<()> {
        let git_dir = self.repo.path();
        let index_path = git_dir.join("index");
        let temp = git_dir.join(INDEX_TEMP_FILE);
        // libgit2 locks the copy while writing it; a killed writer may have
        // left that lock, and nobody else uses this file.
        let temp_lock = git_dir.join(format!("{INDEX_TEMP_FILE}.lock"));
        match fs::remove_file(&temp_lock) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&temp_lock)(e)),
        }
        match fs::copy(&index_path, &temp) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match fs::remove_file(&temp) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&temp)(e)),
            },
            Err(e) => return Err(io_err(&index_path)(e)),
        }
        let mut index = git2::Index::open(&temp)?;
        change(&mut index)?;
        index.write()?;
        fs::rename(&temp, &index_path).map_err(io_err(&index_path))
    }

    /// Undo what a killed writer left: its paths go back to HEAD's version
    /// (acquiring the index lock removes the stale `index.lock` it held), and
    /// a branch lock file it left mid-update, recognised by the commit it
    /// holds, is removed.
    fn recover(&self) -> Result<()> {
        // A killed `incident sync` keeps its own journal (store/checkout.rs).
        self.recover_sync_checkout()?;
        let journal = Journal::new(self.repo.path());
        let Some(interrupted) = journal.read()? else {
            return Ok(());
        };
        if let Some((branch, commit)) = &interrupted.moving {
            let ref_lock = self.repo.commondir().join(format!("{branch}.lock"));
            // libgit2 buffers a reference's content until it renames the
            // lock into place, so a writer killed in between leaves the lock
            // empty: that one is the dead writer's too when it is newer than
            // the journal (found by scripts/crash-test.sh).
            let journal_written = fs::metadata(&journal.path).and_then(|m| m.modified()).ok();
            let made_after_journal = fs::metadata(&ref_lock)
                .and_then(|m| m.modified())
                .is_ok_and(|made| journal_written.is_some_and(|written| made >= written));
            if fs::read_to_string(&ref_lock).is_ok_and(|content| {
                content.trim() == commit.to_string()
                    || (content.trim().is_empty() && made_after_journal)
            }) {
                fs::remove_file(&ref_lock).map_err(io_err(&ref_lock))?;
            }
        }
        let lock = IndexLock::acquire(self.repo.path())?;
        self.restore_to_head(&lock, &interrupted.paths)?;
        lock.release()?;
        journal.remove()
    }
}

/// An index entry for a file just written, with its stat data, so git
/// sees it as clean without reading it again.
fn index_entry(file: &Path, path: &str, id: Oid) -> Result<git2::IndexEntry> {
    let meta = fs::metadata(file).map_err(io_err(file))?;
    #[cfg(unix)]
    let (ctime, mtime, dev, ino, uid, gid) = {
        use std::os::unix::fs::MetadataExt;
        // The index stores 32-bit fields; git truncates the same way.
        (
            git2::IndexTime::new(meta.ctime() as i32, meta.ctime_nsec() as u32),
            git2::IndexTime::new(meta.mtime() as i32, meta.mtime_nsec() as u32),
            meta.dev() as u32,
            meta.ino() as u32,
            meta.uid(),
            meta.gid(),
        )
    };
    #[cfg(not(unix))]
    let (ctime, mtime, dev, ino, uid, gid) = (
        git2::IndexTime::new(0, 0),
        git2::IndexTime::new(0, 0),
        0,
        0,
        0,
        0,
    );
    Ok(git2::IndexEntry {
        ctime,
        mtime,
        dev,
        ino,
        mode: u32::from(i32::from(FileMode::Blob) as u16),
        uid,
        gid,
        file_size: meta.len() as u32,
        id,
        flags: path.len().min(0xfff) as u16,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    })
}

/// git's own `index.lock`, held as git holds it: while it exists, no git
/// command writes the index (or commits from it), and we wait for theirs.
///
/// Ours carries a marker, and it only ever exists while its creator holds
/// the writer lock: so one found by a process that holds the writer lock
/// was left by a killed writer, and is removed.
struct IndexLock {
    path: PathBuf,
    released: bool,
}

/// What our `index.lock` holds; git's own hold index data ("DIRC...").
const INDEX_LOCK_MARKER: &[u8] = b"incident: held while writing its own files\n";

impl IndexLock {
    /// Create `index.lock` with the marker in one step (a hard link of a
    /// prepared file), so no half-made lock is ever seen.
    fn acquire(git_dir: &Path) -> Result<IndexLock> {
        let path = git_dir.join("index.lock");
        let prepared = git_dir.join(INDEX_LOCK_TEMP_FILE);
        fs::write(&prepared, INDEX_LOCK_MARKER).map_err(io_err(&prepared))?;
        let mut outcome = Err(Error::IndexLocked { path: path.clone() });
        for attempt in 1..=INDEX_LOCK_ATTEMPTS {
            match fs::hard_link(&prepared, &path) {
                Ok(()) => {
                    outcome = Ok(IndexLock {
                        path: path.clone(),
                        released: false,
                    });
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if fs::read(&path).is_ok_and(|content| content == INDEX_LOCK_MARKER) {
                        // A killed writer's: nobody else makes one while we hold the writer lock.
                        let _ = fs::remove_file(&path);
                        continue;
                    }
                    std::thread::sleep(backoff(attempt));
                }
                Err(e) => {
                    outcome = Err(io_err(&path)(e));
                    break;
                }
            }
        }
        fs::remove_file(&prepared).map_err(io_err(&prepared))?;
        outcome
    }

    fn release(mut self) -> Result<()> {
        self.released = true;
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&self.path)(e)),
        }
    }
}

impl Drop for IndexLock {
    fn drop(&mut self) {
        if !self.released {
            let _ = fs::remove_file(&self.path);
        }
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
            // A file or symbolic link where a folder is needed: replacing it
            // would silently drop it from the repository.
            Some(_) => {
                return Err(Error::InvalidInput {
                    message: format!(
                        "refusing to write into '{name}': the repository has a file or symbolic link there, not a folder; move it away and commit"
                    ),
                });
            }
            None => None,
        };
        let subtree = build_tree(repo, existing.as_ref(), &children)?;
        builder.insert(name, subtree, FileMode::Tree.into())?;
    }
    Ok(builder.write()?)
}

/// An exclusive lock among incident's own writers. `flock` is released by
/// the kernel when the process dies, so a killed command never blocks the next.
pub struct WriterLock {
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

/// The paths a writer has touched and not yet committed, and the commit it
/// is about to move the branch to.
struct Journal {
    path: PathBuf,
}

/// What a killed writer's journal says.
struct Interrupted {
    paths: Vec<String>,
    /// (branch, commit) of the compare-and-swap it was about to make.
    moving: Option<(String, Oid)>,
}

impl Journal {
    fn new(git_dir: &Path) -> Journal {
        Journal {
            path: git_dir.join(JOURNAL_FILE),
        }
    }

    fn write(&self, paths: &[String], branch: &str, commit: Oid) -> Result<()> {
        let temp = self.path.with_extension("tmp");
        let mut file = File::create(&temp).map_err(io_err(&temp))?;
        let mut text = format!("moving {branch} {commit}\n");
        for path in paths {
            text.push_str(path);
            text.push('\n');
        }
        file.write_all(text.as_bytes()).map_err(io_err(&temp))?;
        file.sync_all().map_err(io_err(&temp))?;
        fs::rename(&temp, &self.path).map_err(io_err(&self.path))
    }

    fn read(&self) -> Result<Option<Interrupted>> {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&self.path)(e)),
        };
        let mut interrupted = Interrupted {
            paths: Vec::new(),
            moving: None,
        };
        for line in text.lines().filter(|l| !l.is_empty()) {
            match line
                .strip_prefix("moving ")
                .and_then(|rest| rest.split_once(' '))
            {
                Some((branch, commit)) => {
                    interrupted.moving = Oid::from_str(commit.trim())
                        .ok()
                        .map(|c| (branch.to_string(), c));
                }
                None => interrupted.paths.push(line.to_string()),
            }
        }
        Ok(Some(interrupted))
    }

    fn remove(&self) -> Result<()> {
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&self.path)(e)),
        }
    }
}
