//! Committing incident's files without touching anything else.
//!
//! The commit's tree is HEAD's tree with only our files replaced, built
//! object by object (never from the user's index, which may hold their
//! staged work). Our own files are then written to the working tree and
//! their entries (only theirs) to the index, the commit object is made (git
//! hooks and signing: see [`super::commit`]), and last the branch moves with
//! a compare-and-swap on its old value. If another writer moved it first,
//! the step is redone on top of the new HEAD.
//!
//! Why the index comes before the branch, and why under git's own
//! `index.lock`, held from before the index is read until the branch has
//! moved (or our files are restored): `git commit` reads HEAD, then the
//! index, and only then takes `index.lock`, failing if it cannot. Had the
//! branch moved before our entries were in the index, a racing commit could
//! record the reverse of ours; with our entries staged first, a commit that
//! saw our new HEAD also saw our entries. Holding the lock across every
//! attempt means no `git commit` can take half of our files between two
//! attempts. A writer that commits without the index lock (`git commit-tree
//! $(git write-tree)` on a copy of the index, then `git update-ref`) may
//! still take our staged files: the next attempt then finds them in HEAD,
//! byte for byte as staged, and neither rewrites nor re-plans them (event
//! files are never rewritten).
//!
//! Crash safety: writers of this tool take a lock (released by the kernel
//! when a process dies) and keep a journal of the paths they touch, with the
//! blob each was given, and of the commit the branch is about to move to.
//! The next writer puts those paths back as HEAD has them, except a file
//! whose content is no longer what incident wrote (someone typed into it:
//! it stays, only its index entry is restored); removes the `index.lock` the
//! killed writer held (its content says so, with its pid); and removes a
//! branch lock only when it holds the journal's commit id. So a killed
//! command leaves either its whole commit or nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use git2::{FileMode, ObjectType, Oid, Repository, RepositoryState, Tree};

use super::Store;
use super::commit::{CommitKind, CommitRequest, NewCommit, retry_object_write, run_git};
use super::dropped::Restore;
use super::files::{self, SharedRepository};
use super::gitindex::{Entry, IndexFile, Stat, Update};
use super::gitrefs::{self, RefOutcome};
use super::identity::Identity;
use crate::error::{Error, Result, io_err};
use crate::time::Timestamp;

/// Temporary files in `.git` named after the process that made them.
const DEAD_WRITERS_TEMP_FILES: &[&str] = &["incident-ref-", "incident-next-index-"];
/// How often to redo a commit whose branch moved underneath it.
const MAX_ATTEMPTS: u32 = 50;
const LOCK_FILE: &str = "incident.lock";
const JOURNAL_FILE: &str = "incident-journal";
const JOURNAL_HEADER: &str = "incident-journal 2";
const INDEX_TEMP_FILE: &str = "incident-index.tmp";
const INDEX_LOCK_TEMP_FILE: &str = "incident-index-lock.tmp";
/// About ten seconds of waiting for a git command to let go of `index.lock`.
const INDEX_LOCK_WAIT: Duration = Duration::from_secs(10);
/// How long a writer waits for another incident writer, unless
/// `INCIDENT_LOCK_TIMEOUT` (seconds) says otherwise.
const WRITER_LOCK_WAIT: Duration = Duration::from_secs(30);

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
    /// The files to write; none means there is nothing to commit (another
    /// writer recorded it already), and no commit is made.
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
    /// Things that went wrong after the commit landed (it stays), or that
    /// git would also have said (a hook ignored as not executable).
    pub warnings: Vec<String>,
    /// False when the plan had nothing to write: `commit` is HEAD as it was.
    pub made: bool,
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

/// What incident has put into the index and working tree and not yet committed.
type Staged = BTreeMap<String, Oid>;

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
    /// commit picked up are recognised and not recorded twice.
    pub fn commit_with<T>(
        &self,
        now: Timestamp,
        mut plan: impl FnMut(&Attempt<'_>) -> Result<(Plan, T)>,
    ) -> Result<(Committed, T)> {
        let branch = self.ensure_writable()?;
        let identity = self.identity(now)?;
        let shared = self.shared_repository()?;
        let _lock = WriterLock::acquire(&self.repo.path().join(LOCK_FILE), shared)?;
        self.recover()?;
        let journal = Journal::new(self.repo.path());
        let mut session = Session {
            staged: Staged::new(),
            index_lock: None,
        };
        let outcome = self.attempts(&branch, &identity, now, &journal, &mut session, &mut plan);
        let mut cleanup = Ok(());
        if outcome.is_err() && !session.staged.is_empty() {
            let paths: Vec<(String, Option<Oid>)> = session
                .staged
                .iter()
                .map(|(p, o)| (p.clone(), Some(*o)))
                .collect();
            cleanup = self.restore_to_head(&paths);
        }
        if let Some(lock) = session.index_lock.take() {
            lock.release()?;
        }
        // When the undo fails too (a full disk), the journal stays for the
        // next writer to finish it, and the first failure is the one to tell.
        if let Err(cleanup_error) = cleanup {
            return Err(outcome.err().unwrap_or(cleanup_error));
        }
        journal.remove()?;
        let (mut committed, value) = outcome?;
        if committed.made {
            self.run_post_commit(&identity, &mut committed.warnings)?;
        }
        Ok((committed, value))
    }

    fn attempts<T>(
        &self,
        branch: &str,
        identity: &Identity,
        now: Timestamp,
        journal: &Journal,
        session: &mut Session,
        plan: &mut impl FnMut(&Attempt<'_>) -> Result<(Plan, T)>,
    ) -> Result<(Committed, T)> {
        let short_branch = branch.trim_start_matches("refs/heads/").to_string();
        let mut previous: Option<(Plan, T)> = None;
        let mut warnings = Vec::new();
        // Restores made by this command; a bound, as git may keep racing.
        let mut restored = 0;
        for number in 1..=MAX_ATTEMPTS {
            let head = gitrefs::read_ref(&self.repo, branch)?;
            let head_commit = head.map(|h| self.repo.find_commit(h)).transpose()?;
            let base = head_commit.as_ref().map(|c| c.tree()).transpose()?;
            // What a racing commit took of the files staged last time.
            let (plan, value) = match (
                previous.take(),
                taken(&self.repo, base.as_ref(), &session.staged)?,
            ) {
                (Some((_, value)), Taken::All) if !session.staged.is_empty() => {
                    session.staged.clear();
                    let taken = head.ok_or(Error::Contention {
                        branch: branch.to_string(),
                        attempts: number,
                    })?;
                    return Ok((
                        Committed {
                            commit: taken,
                            branch: short_branch,
                            warnings: vec![format!(
                                "a concurrent git commit ({}) included these changes; no separate commit was made",
                                &taken.to_string()[..10]
                            )],
                            made: false,
                        },
                        value,
                    ));
                }
                (Some((mut frozen, value)), Taken::Some(paths)) => {
                    // Those files are recorded as staged; the rest is
                    // committed as it was, never re-planned or rewritten.
                    frozen.files.retain(|f| !paths.contains(&f.path));
                    warnings.push(format!(
                        "a concurrent git commit included {}; the rest is committed separately",
                        paths.join(", ")
                    ));
                    (frozen, value)
                }
                (_, Taken::Conflict(path)) => {
                    return Err(Error::InvalidInput {
                        message: format!(
                            "another program committed {path} with content other than what incident was writing; incident never rewrites a recorded file, so it stopped and recorded nothing more; `git log -p -- {path}` shows that commit"
                        ),
                    });
                }
                _ => {
                    let attempt = Attempt {
                        tree: base.as_ref(),
                        identity,
                        now,
                        number,
                    };
                    // An object missing while `git repack -ad` runs is
                    // mostly a pack replaced under libgit2: look again
                    // (see `find_named`) before calling it damage.
                    let mut tries = 0;
                    loop {
                        match plan(&attempt) {
                            Err(e) if e.is_damage() && tries < 2 => {
                                tries += 1;
                                super::look_again(&self.repo, tries);
                            }
                            outcome => break outcome?,
                        }
                    }
                }
            };
            if plan.files.is_empty() {
                if !session.staged.is_empty() {
                    // An earlier attempt staged files this one no longer needs.
                    let paths: Vec<(String, Option<Oid>)> = session
                        .staged
                        .iter()
                        .map(|(p, o)| (p.clone(), Some(*o)))
                        .collect();
                    self.restore_to_head(&paths)?;
                    session.staged.clear();
                }
                return Ok((
                    Committed {
                        commit: head.unwrap_or(Oid::ZERO_SHA1),
                        branch: short_branch,
                        warnings,
                        made: false,
                    },
                    value,
                ));
            }
            for file in &plan.files {
                self.ensure_inside_worktree(&file.path)?;
            }
            let (tree_id, blobs, trees) =
                write_tree_with_blobs(&self.repo, base.as_ref(), &plan.files)?;
            self.adjust_object_dirs(&blobs)?;
            self.adjust_object_dirs(&trees)?;
            if session.index_lock.is_none() {
                session.index_lock = Some(IndexLock::acquire(&self.index_path())?);
            }
            let paths: Vec<String> = plan.files.iter().map(|f| f.path.clone()).collect();
            let mut journaled = session.staged.clone();
            journaled.extend(paths.iter().cloned().zip(blobs.iter().copied()));
            journal.write(&journaled, branch, None)?;
            let stale: Vec<(String, Option<Oid>)> = session
                .staged
                .iter()
                .filter(|(p, _)| !paths.contains(p))
                .map(|(p, o)| (p.clone(), Some(*o)))
                .collect();
            if !stale.is_empty() {
                self.restore_to_head(&stale)?;
                for (path, _) in &stale {
                    session.staged.remove(path);
                }
            }
            // Read once, under the lock: nobody else writes it until we let go.
            let index = IndexFile::read(&self.index_path())?;
            self.ensure_not_sparse(&index, &paths, &plan.guard)?;
            let ours: Vec<String> = session.staged.keys().cloned().collect();
            let clean = self.check_clean(&index, &plan.guard, &ours);
            if matches!(clean, Err(Error::DirtyPaths { .. })) && restored < 3 && ours.is_empty() {
                // Records a racing git command dropped look like
                // uncommitted changes: put them back, then plan again.
                match self.restore_dropped(branch, &plan.guard, identity, &mut warnings)? {
                    Restore::Done(warning) => {
                        warnings.push(warning);
                        restored += 1;
                        continue;
                    }
                    Restore::Raced => continue,
                    Restore::Nothing => {}
                }
            }
            clean?;
            // Counted as staged before they are written: a write cut short
            // (a full disk) is then undone like any failed attempt.
            session
                .staged
                .extend(paths.iter().cloned().zip(blobs.iter().copied()));
            let files: Vec<(&str, Oid, &[u8])> = plan
                .files
                .iter()
                .zip(&blobs)
                .map(|(f, b)| (f.path.as_str(), *b, f.content.as_slice()))
                .collect();
            self.stage(&index, &files)?;
            let request = CommitRequest {
                tree: tree_id,
                parents: head.into_iter().collect(),
                message: plan.message.clone(),
                identity,
                kind: CommitKind::Commit,
                own_paths: &paths,
                index: Some(&index),
            };
            let commit = self.commit_own(&request, &mut warnings, &mut session.staged)?;
            journal.write(&session.staged, branch, Some(commit.id))?;
            let subject = commit.message.lines().next().unwrap_or_default();
            let reflog = match head {
                Some(_) => format!("commit: {subject}"),
                None => format!("commit (initial): {subject}"),
            };
            match self.move_ref(branch, commit.id, head, identity, &reflog)? {
                RefOutcome::Updated => {
                    session.staged.clear();
                    return Ok((
                        Committed {
                            commit: commit.id,
                            branch: short_branch,
                            warnings,
                            made: true,
                        },
                        value,
                    ));
                }
                RefOutcome::Locked => {
                    let path = gitrefs::lock_path(&self.repo, branch);
                    let held_for = fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| SystemTime::now().duration_since(t).ok())
                        .map(|d| d.as_secs());
                    return Err(Error::RefLocked { path, held_for });
                }
                RefOutcome::Moved => {
                    previous = Some((plan, value));
                    std::thread::sleep(backoff(number));
                }
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
        let lock =
            WriterLock::acquire(&self.repo.path().join(LOCK_FILE), self.shared_repository()?)?;
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
    /// an earlier attempt of this very command). Reads only those paths'
    /// entries of the index. Only under the writer lock (no other incident
    /// writer is half-way through a file): leftovers go (`remove_leftover`).
    fn check_clean(&self, index: &IndexFile, paths: &[String], ours: &[String]) -> Result<()> {
        if paths.is_empty() {
            return Ok(());
        }
        if index.is_split() {
            return self.check_clean_with_git(paths, ours);
        }
        let config = self.git_config()?;
        let trust_ctime = config.bool("core.trustctime")?.unwrap_or(true);
        let check_stat = config.get("core.checkStat") != Some("minimal");
        let file_mode = config.bool("core.fileMode")?.unwrap_or(true);
        let head = self.head_tree()?;
        let mut dirty = BTreeSet::new();
        for guard in paths {
            let mut committed: BTreeMap<String, (Oid, i32)> = BTreeMap::new();
            if let Some(tree) = &head {
                collect_tree(&self.repo, tree, guard, &mut committed)?;
            }
            let mut staged: BTreeMap<String, Entry> = BTreeMap::new();
            for i in index.under(guard) {
                let entry = index.entry(i);
                let path = String::from_utf8_lossy(&entry.path).into_owned();
                if entry.stage != 0 {
                    dirty.insert(path.clone());
                }
                staged.insert(path, entry);
            }
            for (path, (oid, mode)) in &committed {
                match staged.get(path) {
                    Some(entry) if entry.oid == *oid && entry.stat.mode == *mode as u32 => {}
                    _ => {
                        dirty.insert(path.clone());
                    }
                }
            }
            for (path, entry) in &staged {
                if !committed.contains_key(path) {
                    dirty.insert(path.clone());
                    continue;
                }
                if entry.skip_worktree || entry.assume_valid {
                    continue;
                }
                let racy_limit = index.mtime;
                if !worktree_matches(
                    &self.workdir().join(path),
                    entry,
                    racy_limit,
                    trust_ctime,
                    check_stat,
                    file_mode,
                )? {
                    dirty.insert(path.clone());
                }
            }
            // Untracked files, as `git status` lists them (not ignored ones).
            for path in untracked_files(self.workdir(), guard)? {
                if staged.contains_key(&path) || self.repo.status_should_ignore(Path::new(&path))? {
                    continue;
                }
                if !self.remove_leftover(&path)? {
                    dirty.insert(path);
                }
            }
        }
        let dirty: Vec<String> = dirty.into_iter().filter(|p| !ours.contains(p)).collect();
        if dirty.is_empty() {
            Ok(())
        } else {
            Err(Error::DirtyPaths { paths: dirty })
        }
    }

    /// Remove `path`, untracked, when it is an empty event file or
    /// `incident.toml` that an older incident left when a full disk cut its
    /// write short (before it took such writes back): nobody typed into an
    /// empty file with a name only incident makes, and it blocked the
    /// incident as an uncommitted change. Whether it was removed.
    fn remove_leftover(&self, path: &str) -> Result<bool> {
        let file = self.workdir().join(path);
        let empty = fs::symlink_metadata(&file).is_ok_and(|m| m.is_file() && m.len() == 0);
        if !(empty && is_tool_file_name(path)) {
            return Ok(false);
        }
        files::remove_if_present(&file)?;
        Ok(true)
    }

    /// A split index: ask `git status` about exactly these paths.
    fn check_clean_with_git(&self, paths: &[String], ours: &[String]) -> Result<()> {
        let mut command = self.git_command();
        command
            .args([
                "status",
                "--porcelain=v1",
                "-z",
                "--untracked-files=all",
                "--ignore-submodules=all",
                "--no-renames",
                "--",
            ])
            .args(paths)
            .env("GIT_OPTIONAL_LOCKS", "0");
        let output = run_git(&mut command, "git status")?;
        let dirty: Vec<String> = output
            .split(|b| *b == 0)
            .filter(|record| record.len() > 3)
            .map(|record| String::from_utf8_lossy(&record[3..]).into_owned())
            .filter(|p| !ours.contains(p))
            .collect();
        if dirty.is_empty() {
            Ok(())
        } else {
            Err(Error::DirtyPaths { paths: dirty })
        }
    }

    /// Refuse paths git keeps out of this working tree (a sparse checkout,
    /// or a sparse index, that excludes them): writing them would fill the
    /// folders the user asked git to leave out.
    fn ensure_not_sparse(
        &self,
        index: &IndexFile,
        paths: &[String],
        guard: &[String],
    ) -> Result<()> {
        let sparse = index.is_sparse()
            || self
                .git_config()?
                .bool("core.sparseCheckout")?
                .unwrap_or(false);
        if !sparse {
            return Ok(());
        }
        let config_path = super::CONFIG_PATH.to_string();
        for path in paths
            .iter()
            .chain(guard)
            .chain(std::iter::once(&config_path))
        {
            let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
            let excluded = index.sparse_dir_covering(path).is_some()
                || index.under(path).any(|i| index.entry(i).skip_worktree)
                || (!parent.is_empty()
                    && index.under(parent).any(|i| index.entry(i).skip_worktree));
            if excluded {
                return Err(Error::InvalidInput {
                    message: format!(
                        "{path} is outside your sparse checkout (git sparse-checkout), so incident cannot write it here; nothing was changed. Add the incidents folder with `git sparse-checkout add {}` and run the command again",
                        super::DATA_DIR
                    ),
                });
            }
        }
        Ok(())
    }

    /// Write our files into the working tree and their entries (only
    /// theirs) into the index.
    fn stage(&self, index: &IndexFile, files: &[(&str, Oid, &[u8])]) -> Result<()> {
        let mut updates: Vec<Update> = Vec::new();
        for (path, oid, content) in files {
            self.ensure_inside_worktree(path)?;
            let target = self.workdir().join(path);
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
            files::write_regular(&target, content, 0o666)?;
            updates.push(self.entry_for(path, *oid)?);
        }
        self.write_index(index, &updates)
    }

    /// An index entry for the working-tree file at `path`, whose content is
    /// `oid`, with its stat data as it is now.
    pub(super) fn entry_for(&self, path: &str, oid: Oid) -> Result<Update> {
        let full = self.workdir().join(path);
        let meta = fs::symlink_metadata(&full).map_err(io_err(&full))?;
        Ok((
            path.to_string(),
            Some(Entry::new(path, oid, Stat::from_metadata(&meta))),
        ))
    }

    /// Make the commit of `request`, with the hooks' warnings; when a
    /// pre-commit hook changed the tool's own files, stage its versions.
    pub(super) fn commit_own(
        &self,
        request: &CommitRequest<'_>,
        warnings: &mut Vec<String>,
        staged: &mut Staged,
    ) -> Result<NewCommit> {
        let commit = self.create_commit(request)?;
        warnings.extend(commit.warnings.iter().cloned());
        if commit.tree != request.tree {
            self.restage_from_tree(&commit.tree, request.own_paths, staged)?;
        }
        Ok(commit)
    }

    /// A pre-commit hook changed some of our files: stage its versions.
    pub(super) fn restage_from_tree(
        &self,
        tree: &Oid,
        paths: &[String],
        staged: &mut Staged,
    ) -> Result<()> {
        let tree = self.repo.find_tree(*tree)?;
        let index = IndexFile::read(&self.index_path())?;
        let mut files = Vec::new();
        for path in paths {
            let entry = tree.get_path(Path::new(path))?;
            let blob = self.repo.find_blob(entry.id())?;
            files.push((path.as_str(), entry.id(), blob.content().to_vec()));
            staged.insert(path.clone(), entry.id());
        }
        let files: Vec<(&str, Oid, &[u8])> = files
            .iter()
            .map(|(p, o, c)| (*p, *o, c.as_slice()))
            .collect();
        self.stage(&index, &files)
    }

    /// Replace the index with `index` plus `updates`, in one rename (readers
    /// see the old index or the new one, never half of it), while holding
    /// `index.lock`. A split index is written by `git update-index`.
    pub(super) fn write_index(&self, index: &IndexFile, updates: &[Update]) -> Result<()> {
        if updates.is_empty() {
            return Ok(());
        }
        let index_path = self.index_path();
        let temp = self.repo.path().join(INDEX_TEMP_FILE);
        let shared = self.shared_repository()?;
        if index.is_split() {
            return self.write_split_index(&index_path, &temp, updates);
        }
        let config = self.git_config()?;
        let skip_hash = match config.bool("index.skipHash")? {
            Some(skip) => skip,
            None => config.bool("feature.manyFiles")?.unwrap_or(false),
        };
        let written = index
            .write_with(updates, &temp, skip_hash)
            .and_then(|()| shared.adjust(&temp))
            .and_then(|()| fs::rename(&temp, &index_path).map_err(io_err(&index_path)));
        if written.is_err() {
            // A full disk: no half-written index left in .git.
            let _ = fs::remove_file(&temp);
        }
        written
    }

    fn write_split_index(&self, index_path: &Path, temp: &Path, updates: &[Update]) -> Result<()> {
        fs::copy(index_path, temp).map_err(io_err(index_path))?;
        let mut input = String::new();
        for (path, change) in updates {
            match change {
                Some(entry) => {
                    input.push_str(&format!("{:o} {}\t{path}\n", entry.stat.mode, entry.oid))
                }
                None => input.push_str(&format!("0 {}\t{path}\n", Oid::ZERO_SHA1)),
            }
        }
        let mut command = self.git_command();
        command
            .args(["update-index", "--index-info"])
            .env("GIT_INDEX_FILE", temp)
            .stdin(Stdio::piped());
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::GitCommand {
                command: "git update-index".into(),
                detail: e.to_string(),
            })?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(input.as_bytes()).map_err(io_err(temp))?;
        }
        let output = child.wait_with_output().map_err(io_err(temp))?;
        if !output.status.success() {
            return Err(Error::GitCommand {
                command: "git update-index --index-info".into(),
                detail: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            });
        }
        fs::rename(temp, index_path).map_err(io_err(index_path))
    }

    /// Put `paths` back as HEAD has them, in the working tree and the index:
    /// undoes a `stage` whose commit did not land. `Some(blob)` is what
    /// incident wrote there; a file whose content is no longer that, nor the
    /// start of it (a write cut short), was edited since: it keeps its
    /// content, and only its index entry goes back.
    fn restore_to_head(&self, paths: &[(String, Option<Oid>)]) -> Result<()> {
        let tree = self.head_tree()?;
        let index = IndexFile::read(&self.index_path())?;
        let mut updates: Vec<Update> = Vec::new();
        for (path, written) in paths {
            let target = self.workdir().join(path);
            let found = match &tree {
                Some(tree) => match tree.get_path(Path::new(path)) {
                    Ok(entry) if entry.kind() == Some(ObjectType::Blob) => {
                        Some((entry.id(), entry.filemode()))
                    }
                    Ok(_) => None,
                    Err(e) if e.code() == git2::ErrorCode::NotFound => None,
                    Err(e) => return Err(e.into()),
                },
                None => None,
            };
            let on_disk = match files::read_regular(&target) {
                Ok(bytes) => bytes,
                // A FIFO or folder there now: not ours to touch.
                Err(_) => {
                    updates.push((
                        path.clone(),
                        found.map(|(id, mode)| head_entry(path, id, mode)),
                    ));
                    continue;
                }
            };
            let disk_id = on_disk
                .as_ref()
                .map(|b| Oid::hash_object(ObjectType::Blob, b))
                .transpose()?;
            let ours = match (disk_id, written) {
                (None, _) => true,
                (Some(disk), Some(written)) if disk == *written => true,
                // Killed while writing it: the file holds the start of ours.
                (Some(_), Some(written)) => self.repo.find_blob(*written).is_ok_and(|blob| {
                    on_disk
                        .as_ref()
                        .is_some_and(|bytes| blob.content().starts_with(bytes))
                }),
                // An old journal without blob ids: keep anything that is not HEAD's.
                (Some(disk), None) => Some(disk) == found.map(|(id, _)| id),
            };
            match (found, ours) {
                (Some((id, mode)), true) if disk_id == Some(id) => {
                    // Already HEAD's content: only the index entry may differ.
                    if !index_has(&index, path, id) {
                        let meta = fs::symlink_metadata(&target).map_err(io_err(&target))?;
                        let mut stat = Stat::from_metadata(&meta);
                        stat.mode = mode as u32;
                        updates.push((path.clone(), Some(Entry::new(path, id, stat))));
                    }
                }
                (Some((id, mode)), true) => {
                    let blob = self.repo.find_blob(id)?;
                    if let Some(parent) = target.parent() {
                        fs::create_dir_all(parent).map_err(io_err(parent))?;
                    }
                    files::write_regular(&target, blob.content(), 0o666)?;
                    let meta = fs::symlink_metadata(&target).map_err(io_err(&target))?;
                    let mut stat = Stat::from_metadata(&meta);
                    stat.mode = mode as u32;
                    updates.push((path.clone(), Some(Entry::new(path, id, stat))));
                }
                (None, true) => {
                    files::remove_if_present(&target)?;
                    self.remove_empty_folders(tree.as_ref(), path);
                    if !index.find(path).is_empty() {
                        updates.push((path.clone(), None));
                    }
                }
                (found, false) => {
                    if !found.is_some_and(|(id, _)| index_has(&index, path, id)) {
                        updates.push((
                            path.clone(),
                            found.map(|(id, mode)| head_entry(path, id, mode)),
                        ));
                    }
                }
            }
        }
        // Nothing to change in the index (the write failed before it was
        // staged): leave it alone, which also works on a full disk.
        self.write_index(&index, &updates)
    }

    /// Remove the folders above `path` that are empty now and that HEAD
    /// does not have (incident made them for a file it took back).
    fn remove_empty_folders(&self, head: Option<&Tree<'_>>, path: &str) {
        let mut folder = path;
        while let Some((parent, _)) = folder.rsplit_once('/') {
            folder = parent;
            let in_head = head.is_some_and(|t| t.get_path(Path::new(folder)).is_ok());
            // `remove_dir` refuses a folder that is not empty.
            if in_head || fs::remove_dir(self.workdir().join(folder)).is_err() {
                return;
            }
        }
    }

    /// Undo what a killed writer left: its paths go back to HEAD's version
    /// (acquiring the index lock removes the stale `index.lock` it held), and
    /// the branch lock it left mid-update, recognised by the commit it
    /// holds, is removed. Nothing else is: another process's lock (empty or
    /// not) stays.
    fn recover(&self) -> Result<()> {
        // Temporary files named by the pid of a process that is gone.
        files::remove_dead_temp_files(self.repo.path(), DEAD_WRITERS_TEMP_FILES)?;
        // A killed `incident sync` keeps its own journal (store/checkout.rs).
        self.recover_sync_checkout()?;
        let journal = Journal::new(self.repo.path());
        let Some(interrupted) = journal.read()? else {
            return Ok(());
        };
        if let Some((branch, commit)) = &interrupted.moving {
            let ref_lock = gitrefs::lock_path(&self.repo, branch);
            if files::read_regular(&ref_lock)
                .ok()
                .flatten()
                .is_some_and(|content| {
                    String::from_utf8_lossy(&content).trim() == commit.to_string()
                })
            {
                files::remove_if_present(&ref_lock)?;
            }
        }
        let lock = IndexLock::acquire(&self.index_path())?;
        let outcome = self.restore_to_head(&interrupted.paths);
        lock.release()?;
        outcome?;
        journal.remove()
    }
}

/// `incidents/YYYY/MM/<folder>/incident.toml`, or an event file there
/// named as incident names them (`events/20261124T100000Z-k3f9x2-note.toml`).
fn is_tool_file_name(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let in_incident =
        |p: &[&str]| p.len() >= 4 && p[0] == super::DATA_DIR && digits(p[1], 4) && digits(p[2], 2);
    match parts.as_slice() {
        [.., name] if parts.len() == 5 && in_incident(&parts) => *name == super::DECLARATION_FILE,
        [.., events, name]
            if parts.len() == 6 && in_incident(&parts) && *events == super::EVENTS_DIR =>
        {
            let Some(stem) = name.strip_suffix(".toml") else {
                return false;
            };
            let mut pieces = stem.splitn(3, '-');
            let (Some(time), Some(random), Some(kind)) =
                (pieces.next(), pieces.next(), pieces.next())
            else {
                return false;
            };
            let time_ok = time.len() == 16
                && digits(&time[..8], 8)
                && &time[8..9] == "T"
                && digits(&time[9..15], 6)
                && time.ends_with('Z');
            time_ok
                && random.len() == 6
                && random
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
                && !kind.is_empty()
                && kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        }
        _ => false,
    }
}

/// Whether the index has `path` at stage 0 with blob `id`, and nothing else.
fn index_has(index: &IndexFile, path: &str, id: Oid) -> bool {
    let found = index.find(path);
    found.len() == 1 && {
        let entry = index.entry(found.start);
        entry.stage == 0 && entry.oid == id
    }
}

/// An index entry for HEAD's version of a file whose content on disk is not
/// HEAD's: no stat data, so git compares the content.
fn head_entry(path: &str, id: Oid, mode: i32) -> Entry {
    Entry::new(
        path,
        id,
        Stat {
            mode: mode as u32,
            ..Stat::default()
        },
    )
}

/// What the lock and the staged files of one `commit_with` are.
struct Session {
    staged: Staged,
    index_lock: Option<IndexLock>,
}

/// How much of what incident staged a racing commit recorded.
enum Taken {
    /// Nothing (or nothing was staged).
    None,
    /// Every staged file, exactly as staged.
    All,
    /// These files, exactly as staged; the others not at all.
    Some(Vec<String>),
    /// This file, with other content.
    Conflict(String),
}

fn taken(repo: &Repository, head: Option<&Tree<'_>>, staged: &Staged) -> Result<Taken> {
    let (Some(head), false) = (head, staged.is_empty()) else {
        return Ok(Taken::None);
    };
    let mut recorded = Vec::new();
    for (path, ours) in staged {
        match head.get_path(Path::new(path)) {
            Ok(entry) if entry.id() == *ours => recorded.push(path.clone()),
            Ok(_) => {
                // A file incident only ever adds was replaced: never rewrite it.
                let _ = repo;
                return Ok(Taken::Conflict(path.clone()));
            }
            Err(e) if e.code() == git2::ErrorCode::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(if recorded.is_empty() {
        Taken::None
    } else if recorded.len() == staged.len() {
        Taken::All
    } else {
        Taken::Some(recorded)
    })
}

/// Every blob at or below `path` in `tree`.
pub(super) fn collect_tree(
    repo: &Repository,
    tree: &Tree<'_>,
    path: &str,
    out: &mut BTreeMap<String, (Oid, i32)>,
) -> Result<()> {
    let entry = match tree.get_path(Path::new(path)) {
        Ok(entry) => entry,
        Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    match entry.kind() {
        Some(ObjectType::Tree) => {
            let subtree = repo.find_tree(entry.id())?;
            subtree.walk(git2::TreeWalkMode::PreOrder, |root, child| {
                if child.kind() != Some(ObjectType::Tree)
                    && let Ok(name) = child.name()
                {
                    out.insert(
                        format!("{path}/{root}{name}"),
                        (child.id(), child.filemode()),
                    );
                }
                git2::TreeWalkResult::Ok
            })?;
        }
        _ => {
            out.insert(path.to_string(), (entry.id(), entry.filemode()));
        }
    }
    Ok(())
}

/// Whether the working-tree file matches its index entry, as `git status`
/// decides: by stat data when it is trustworthy, else by content.
fn worktree_matches(
    file: &Path,
    entry: &Entry,
    index_mtime: Option<(i64, i64)>,
    trust_ctime: bool,
    check_stat: bool,
    file_mode: bool,
) -> Result<bool> {
    let meta = match fs::symlink_metadata(file) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io_err(file)(e)),
    };
    let disk = Stat::from_metadata(&meta);
    let is_link = entry.stat.mode == 0o120000;
    if meta.file_type().is_symlink() != is_link
        || !(meta.is_file() || meta.file_type().is_symlink())
    {
        return Ok(false);
    }
    if file_mode && !is_link && disk.mode != entry.stat.mode {
        return Ok(false);
    }
    let s = &entry.stat;
    let stat_same = s.mtime == disk.mtime
        && s.size == disk.size
        && (!trust_ctime || s.ctime == disk.ctime)
        && (!check_stat
            || (s.ino == disk.ino && s.dev == disk.dev && s.uid == disk.uid && s.gid == disk.gid));
    let racy = index_mtime
        .is_none_or(|(secs, nanos)| (i64::from(s.mtime.0), i64::from(s.mtime.1)) >= (secs, nanos));
    if stat_same && !racy {
        return Ok(true);
    }
    let content = if is_link {
        use std::os::unix::ffi::OsStrExt;
        fs::read_link(file)
            .map_err(io_err(file))?
            .as_os_str()
            .as_bytes()
            .to_vec()
    } else {
        match files::read_regular(file) {
            Ok(Some(bytes)) => bytes,
            _ => return Ok(false),
        }
    };
    Ok(Oid::hash_object(ObjectType::Blob, &content)? == entry.oid)
}

/// Regular files and symbolic links at or below `path` in the working
/// tree (FIFOs and such are no files git tracks), repository-relative.
pub(super) fn untracked_files(workdir: &Path, path: &str) -> Result<Vec<String>> {
    let mut found = Vec::new();
    let start = workdir.join(path);
    let meta = match fs::symlink_metadata(&start) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(io_err(&start)(e)),
    };
    if !meta.is_dir() {
        if meta.is_file() || meta.file_type().is_symlink() {
            found.push(path.to_string());
        }
        return Ok(found);
    }
    let mut pending = vec![(start, path.to_string())];
    while let Some((dir, relative)) = pending.pop() {
        for item in fs::read_dir(&dir).map_err(io_err(&dir))? {
            let item = item.map_err(io_err(&dir))?;
            let name = item.file_name().to_string_lossy().into_owned();
            let child = format!("{relative}/{name}");
            let kind = item.file_type().map_err(io_err(item.path()))?;
            if kind.is_dir() {
                if name != ".git" {
                    pending.push((item.path(), child));
                }
            } else if kind.is_file() || kind.is_symlink() {
                found.push(child);
            }
        }
    }
    Ok(found)
}

/// git's own `index.lock`, held as git holds it: while it exists, no git
/// command writes the index (or commits from it), and we wait for theirs.
///
/// Ours says whose it is (a marker, the pid, the command, since when), and
/// it only ever exists while its creator holds the writer lock: so one
/// found by a process that holds the writer lock, whose pid is gone, was
/// left by a killed writer and is removed.
struct IndexLock {
    path: PathBuf,
    released: bool,
}

/// How our `index.lock` starts; git's own hold index data ("DIRC...").
const INDEX_LOCK_MARKER: &[u8] = b"incident: held while writing its own files\n";

impl IndexLock {
    /// Create `index.lock` with its content in one step (a hard link of a
    /// prepared file), so no half-made lock is ever seen.
    fn acquire(index: &Path) -> Result<IndexLock> {
        let path = PathBuf::from(format!("{}.lock", index.display()));
        let dir = index.parent().unwrap_or(Path::new("."));
        let prepared = dir.join(INDEX_LOCK_TEMP_FILE);
        let mut content = INDEX_LOCK_MARKER.to_vec();
        content.extend_from_slice(holder_description().as_bytes());
        files::write_own(&prepared, &content, 0o666)?;
        super::ownfiles::shared_for(&prepared)?.adjust(&prepared)?;
        let started = Instant::now();
        let mut attempt = 0;
        let outcome = loop {
            attempt += 1;
            match fs::hard_link(&prepared, &path) {
                Ok(()) => {
                    break Ok(IndexLock {
                        path: path.clone(),
                        released: false,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let existing = files::read_regular(&path)
                        .ok()
                        .flatten()
                        .unwrap_or_default();
                    if existing.starts_with(INDEX_LOCK_MARKER) {
                        // A killed writer's: only holders of the writer lock
                        // make one, and we hold it now.
                        let _ = fs::remove_file(&path);
                        continue;
                    }
                    if started.elapsed() >= INDEX_LOCK_WAIT {
                        let held_for = fs::metadata(&path)
                            .and_then(|m| m.modified())
                            .ok()
                            .and_then(|t| SystemTime::now().duration_since(t).ok())
                            .map(|d| d.as_secs());
                        break Err(Error::IndexLocked {
                            path: path.clone(),
                            held_for,
                        });
                    }
                    std::thread::sleep(backoff(attempt));
                }
                Err(e) => break Err(io_err(&path)(e)),
            }
        };
        files::remove_if_present(&prepared)?;
        outcome
    }

    fn release(mut self) -> Result<()> {
        self.released = true;
        files::remove_if_present(&self.path)
    }
}

impl Drop for IndexLock {
    fn drop(&mut self) {
        if !self.released {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// `pid 123\nsince 2026-11-24T10:00:00Z\ncommand incident update ...\n`.
fn holder_description() -> String {
    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let command: Vec<String> = std::env::args().collect();
    let command = crate::ops::one_line(&command.join(" "), 200);
    format!(
        "pid {}\nsince {since}\ncommand {command}\n",
        std::process::id()
    )
}

/// "pid 123, `incident update …`, since 10:00:03 UTC (42 s ago)".
fn describe_holder(content: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(content);
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
    };
    let pid = field("pid ")?;
    let mut description = format!("pid {pid}");
    if let Some(command) = field("command ") {
        description.push_str(&format!(", `{command}`"));
    }
    if let Some(since) = field("since ") {
        let ago = chrono::DateTime::parse_from_rfc3339(&since)
            .ok()
            .map(|t| (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds());
        description.push_str(&format!(", since {since}"));
        if let Some(ago) = ago {
            description.push_str(&format!(" ({ago} s ago)"));
        }
    }
    if let Ok(pid) = pid.parse::<u32>()
        && !files::process_alive(pid)
    {
        description.push_str(", a process that no longer runs");
    }
    Some(description)
}

fn backoff(attempt: u32) -> Duration {
    let mut jitter = [0u8; 1];
    let _ = getrandom::fill(&mut jitter);
    Duration::from_millis(u64::from(attempt.min(10)) * 5 + u64::from(jitter[0] % 20))
}

/// HEAD's tree with `files` added or replaced; only the trees on the way to
/// each file are rewritten.
pub fn write_tree(repo: &Repository, base: Option<&Tree<'_>>, files: &[FileWrite]) -> Result<Oid> {
    write_tree_with_blobs(repo, base, files).map(|(tree, _, _)| tree)
}

/// [`write_tree`], also returning each file's blob id.
/// (Also the trees written, whose folders may need shared permissions.)
pub(super) fn write_tree_with_blobs(
    repo: &Repository,
    base: Option<&Tree<'_>>,
    files: &[FileWrite],
) -> Result<(Oid, Vec<Oid>, Vec<Oid>)> {
    let mut blobs = Vec::new();
    for file in files {
        let components: Vec<&str> = file.path.split('/').collect();
        if components
            .iter()
            .any(|c| c.is_empty() || *c == "." || *c == ".." || c.eq_ignore_ascii_case(".git"))
        {
            return Err(Error::InvalidInput {
                message: format!("refusing to write the unsafe path '{}'", file.path),
            });
        }
        let blob = retry_object_write(repo.path(), || repo.blob(&file.content))?;
        blobs.push((components, blob));
    }
    let mut trees = Vec::new();
    let tree = build_tree(repo, base, &blobs, &mut trees)?;
    let blobs: Vec<Oid> = blobs.into_iter().map(|(_, b)| b).collect();
    Ok((tree, blobs, trees))
}

fn build_tree(
    repo: &Repository,
    base: Option<&Tree<'_>>,
    files: &[(Vec<&str>, Oid)],
    written: &mut Vec<Oid>,
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
        let subtree = build_tree(repo, existing.as_ref(), &children, written)?;
        builder.insert(name, subtree, FileMode::Tree.into())?;
    }
    let tree = retry_object_write(repo.path(), || builder.write())?;
    written.push(tree);
    Ok(tree)
}

/// An exclusive lock among incident's own writers. `flock` is released by
/// the kernel when the process dies, so a killed command never blocks the
/// next; a stopped or hung one blocks it for a bounded time, after which the
/// error names it (pid, command, since when: the holder writes them into the
/// lock file).
pub struct WriterLock {
    _file: File,
}

impl WriterLock {
    fn acquire(path: &Path, shared: SharedRepository) -> Result<WriterLock> {
        files::ensure_regular_or_absent(path)?;
        let existed = path.exists();
        let flags = libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        let (file, writable) = match OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o666)
            .custom_flags(flags)
            .open(path)
        {
            Ok(file) => (file, true),
            // Made by another member of a shared repository without group
            // write access: a read-only descriptor can hold the lock as well.
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => (
                OpenOptions::new()
                    .read(true)
                    .custom_flags(flags)
                    .open(path)
                    .map_err(io_err(path))?,
                false,
            ),
            Err(e) => return Err(io_err(path)(e)),
        };
        if !file.metadata().map_err(io_err(path))?.is_file() {
            files::ensure_regular_or_absent(path)?;
        }
        if !existed {
            shared.adjust(path)?;
        }
        let wait = std::env::var("INCIDENT_LOCK_TIMEOUT")
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map_or(WRITER_LOCK_WAIT, Duration::from_secs_f64);
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {
                    if started.elapsed() >= wait {
                        let mut content = Vec::new();
                        let _ = (&file).read_to_end(&mut content);
                        return Err(Error::WriterLockHeld {
                            path: path.to_path_buf(),
                            holder: describe_holder(&content),
                            waited_seconds: started.elapsed().as_secs(),
                        });
                    }
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis((attempt * 5).min(100)));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io_err(path)(e)),
            }
        }
        if writable {
            // Who holds it, for a writer that has to wait.
            let _ = file.set_len(0);
            let _ = (&file).write_all(holder_description().as_bytes());
        }
        Ok(WriterLock { _file: file })
    }
}

/// The paths a writer has touched and not yet committed (with the blob it
/// gave each), and the commit it is about to move the branch to.
struct Journal {
    path: PathBuf,
}

/// What a killed writer's journal says.
struct Interrupted {
    paths: Vec<(String, Option<Oid>)>,
    /// (branch, commit) of the compare-and-swap it was about to make.
    moving: Option<(String, Oid)>,
}

impl Journal {
    fn new(git_dir: &Path) -> Journal {
        Journal {
            path: git_dir.join(JOURNAL_FILE),
        }
    }

    fn write(&self, paths: &Staged, branch: &str, commit: Option<Oid>) -> Result<()> {
        let temp = self.path.with_extension("tmp");
        let mut text = format!("{JOURNAL_HEADER}\n");
        match commit {
            Some(commit) => text.push_str(&format!("moving {branch} {commit}\n")),
            None => text.push_str(&format!("staging {branch}\n")),
        }
        for (path, blob) in paths {
            text.push_str(&format!("{blob} {path}\n"));
        }
        // No fsync, as git does not sync the index or refs by default: the
        // journal guards against a killed process, whose writes the kernel keeps.
        files::write_own(&temp, text.as_bytes(), 0o666)?;
        // Another member of the group may have to finish it.
        super::ownfiles::shared_for(&temp)?.adjust(&temp)?;
        fs::rename(&temp, &self.path).map_err(io_err(&self.path))
    }

    fn read(&self) -> Result<Option<Interrupted>> {
        let text = match files::read_regular(&self.path)? {
            Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            None => return Ok(None),
        };
        let mut interrupted = Interrupted {
            paths: Vec::new(),
            moving: None,
        };
        let versioned = text.starts_with(JOURNAL_HEADER);
        for line in text.lines().filter(|l| !l.is_empty()) {
            if line == JOURNAL_HEADER || line.starts_with("staging ") {
                continue;
            }
            if let Some((branch, commit)) = line
                .strip_prefix("moving ")
                .and_then(|rest| rest.split_once(' '))
            {
                interrupted.moving = Oid::from_str(commit.trim())
                    .ok()
                    .map(|c| (branch.to_string(), c));
                continue;
            }
            match line.split_once(' ') {
                Some((blob, path)) if versioned => {
                    interrupted
                        .paths
                        .push((path.to_string(), Oid::from_str(blob).ok()));
                }
                _ => interrupted.paths.push((line.to_string(), None)),
            }
        }
        Ok(Some(interrupted))
    }

    fn remove(&self) -> Result<()> {
        files::remove_if_present(&self.path)
    }
}
