//! The one way incident makes a commit object: git's hooks around it,
//! signed as git would sign it.
//!
//! [`Store::create_commit`] runs, unless `--no-verify`, the `pre-commit`
//! hook (`pre-merge-commit` for a merge) on a temporary index holding
//! exactly the commit's tree (as `git commit -- PATHS` does, so a secret
//! scanner that reads `git diff --cached` sees what is committed, not the
//! user's index); then `prepare-commit-msg` and, unless `--no-verify`,
//! `commit-msg` on `.git/COMMIT_EDITMSG` (which may rewrite the message);
//! then writes the object, signed when `commit.gpgSign` or `-S` ask for it
//! (see [`super::signing`]). It touches no ref, no index and no working
//! tree: [`Store::commit_onto`] adds the compare-and-swap of a ref and the
//! `post-commit` hook, for a commit with any parents onto any ref;
//! `commit_with` (write.rs) wraps it with the files of the working tree.
//!
//! With no hooks and no signing configured, nothing but the object is
//! written and no process is started.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use git2::{ErrorClass, Oid, TreeWalkMode, TreeWalkResult};

use super::Store;
use super::files::{self, SharedRepository};
use super::gitconfig::GitConfig;
use super::githooks::{self, Found, GitHooks};
use super::gitindex::{self, Entry, IndexFile, Stat};
use super::gitrefs::{self, RefOutcome, RefUpdate};
use super::identity::Identity;
use super::signing::{self, SignMode};
use crate::error::{Error, Result, io_err};
use crate::time::Timestamp;

/// The command line's say in how commits are made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitOptions {
    /// `--no-verify`: skip the `pre-commit` and `commit-msg` hooks, as git does.
    pub no_verify: bool,
    pub sign: SignMode,
}

/// A plain commit or a merge (which runs `pre-merge-commit`, not `pre-commit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitKind {
    Commit,
    Merge,
}

/// What to commit.
pub struct CommitRequest<'a> {
    pub tree: Oid,
    pub parents: Vec<Oid>,
    pub message: String,
    pub identity: &'a Identity,
    pub kind: CommitKind,
    /// Paths a `pre-commit` hook may change (as git takes a hook's `git
    /// add`); a hook that stages anything else is refused.
    pub own_paths: &'a [String],
    /// The user's index, whose stat data the hooks' temporary index reuses
    /// (so that `git status` in a hook does not hash every file).
    pub index: Option<&'a IndexFile>,
}

/// A commit object, not yet on any ref.
#[derive(Debug, Clone)]
pub struct NewCommit {
    pub id: Oid,
    /// Its tree: the request's, or what a `pre-commit` hook made of it.
    pub tree: Oid,
    /// Its message, after the message hooks and git's cleanup.
    pub message: String,
    /// Hooks that were ignored, and the like.
    pub warnings: Vec<String>,
}

/// The result of [`Store::commit_onto`].
#[derive(Debug, Clone)]
pub enum Onto {
    Committed(NewCommit),
    /// The ref was not at the expected commit (or was locked): nothing moved.
    Moved,
}

impl Store {
    /// Apply the command line's `--no-verify`, `-S` and `--no-gpg-sign`.
    pub fn with_commit_options(mut self, options: CommitOptions) -> Store {
        self.commit_options = options;
        self
    }

    pub fn commit_options(&self) -> &CommitOptions {
        &self.commit_options
    }

    /// git's effective config, read once per command.
    pub fn git_config(&self) -> Result<&GitConfig> {
        if let Some(config) = self.git_config.get() {
            return Ok(config);
        }
        let loaded = GitConfig::load(Some(self.repo.path()), self.workdir())?;
        Ok(self.git_config.get_or_init(|| loaded))
    }

    /// Read git's config again at the next use (after changing it).
    pub fn forget_git_config(&mut self) {
        self.git_config = std::cell::OnceCell::new();
    }

    /// Who commits now, as git would say.
    pub fn identity(&self, now: Timestamp) -> Result<Identity> {
        Identity::from_config(self.git_config()?, self.repo.path(), self.workdir(), now)
    }

    pub fn git_hooks(&self) -> Result<GitHooks> {
        Ok(GitHooks::new(
            self.git_config()?,
            self.repo.commondir(),
            self.workdir(),
            &self.opened_from,
        ))
    }

    pub fn shared_repository(&self) -> Result<SharedRepository> {
        let shared = SharedRepository::from_config(self.git_config()?)?;
        super::ownfiles::register(
            &[self.repo.path(), self.repo.commondir()],
            self.workdir(),
            Some(shared),
        );
        Ok(shared)
    }

    /// The index git uses: `GIT_INDEX_FILE` (relative to the top of the
    /// working tree, where git runs), else `.git/index` (of this worktree).
    pub fn index_path(&self) -> PathBuf {
        match std::env::var_os("GIT_INDEX_FILE").filter(|v| !v.is_empty()) {
            Some(path) => {
                let path = PathBuf::from(path);
                if path.is_absolute() {
                    path
                } else {
                    self.workdir().join(path)
                }
            }
            None => self.repo.path().join("index"),
        }
    }

    /// Make the commit object for `request`: hooks first (they may refuse,
    /// and then nothing is written), then the object, signed if asked.
    pub fn create_commit(&self, request: &CommitRequest<'_>) -> Result<NewCommit> {
        let config = self.git_config()?;
        let hooks = self.git_hooks()?;
        let verify = !self.commit_options.no_verify;
        let mut warnings = Vec::new();
        let pre_hook = match request.kind {
            CommitKind::Commit => "pre-commit",
            CommitKind::Merge => "pre-merge-commit",
        };
        let runs = |name: &str| !matches!(hooks.find(name), Found::Missing);
        let wants_pre = verify && runs(pre_hook);
        let wants_prepare = runs("prepare-commit-msg");
        let wants_msg = verify && runs("commit-msg");
        let mut tree = request.tree;
        let mut message = githooks::clean_message(&request.message, config);
        if wants_pre || wants_prepare || wants_msg {
            let temp = TempIndex::write(self, tree, request.index)?;
            let mut env: Vec<(&str, OsString)> = request
                .identity
                .author_env()
                .into_iter()
                .map(|(k, v)| (k, OsString::from(v)))
                .collect();
            env.push(("GIT_INDEX_FILE", temp.path.clone().into_os_string()));
            if wants_pre {
                hooks.run_checked(pre_hook, &[], &env, &mut warnings)?;
                if let Some(changed) = temp.tree_if_changed(self)? {
                    tree = self.accept_hook_changes(pre_hook, request, changed)?;
                }
            }
            if wants_prepare || wants_msg {
                let file = self.repo.path().join("COMMIT_EDITMSG");
                files::write_regular(&file, message.as_bytes(), 0o666)?;
                let source = match request.kind {
                    CommitKind::Commit => "message",
                    CommitKind::Merge => "merge",
                };
                if wants_prepare {
                    hooks.run_checked(
                        "prepare-commit-msg",
                        &[file.as_os_str(), OsStr::new(source)],
                        &env,
                        &mut warnings,
                    )?;
                }
                if wants_msg {
                    hooks.run_checked("commit-msg", &[file.as_os_str()], &env, &mut warnings)?;
                }
                let edited = files::read_regular(&file)?.unwrap_or_default();
                message = githooks::clean_message(&String::from_utf8_lossy(&edited), config);
                if message.trim().is_empty() {
                    return Err(Error::HookRefused {
                        hook: if wants_msg {
                            "commit-msg"
                        } else {
                            "prepare-commit-msg"
                        }
                        .into(),
                        path: hooks.dir().join(if wants_msg {
                            "commit-msg"
                        } else {
                            "prepare-commit-msg"
                        }),
                        status: "it left the commit message empty (git aborts such a commit too)"
                            .into(),
                    });
                }
            }
        }
        let id = match signing::signing_argument(config, &self.commit_options.sign)? {
            Some(sign) => signing::commit_with_git(
                self.repo.path(),
                self.workdir(),
                config,
                tree,
                &request.parents,
                &message,
                request.identity,
                &sign,
            )?,
            None => {
                let author = request.identity.author_signature()?;
                let committer = request.identity.committer_signature()?;
                let tree_object = self.repo.find_tree(tree)?;
                let parents = request
                    .parents
                    .iter()
                    .map(|p| self.repo.find_commit(*p))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
                retry_object_write(self.repo.path(), || {
                    self.repo
                        .commit(None, &author, &committer, &message, &tree_object, &parents)
                })?
            }
        };
        self.adjust_object_dirs(&[id])?;
        self.adjust_new_objects()?;
        Ok(NewCommit {
            id,
            tree,
            message,
            warnings,
        })
    }

    /// A `pre-commit` hook that `git add`ed files: its versions of our own
    /// paths are taken (as git would); anything else it staged is refused.
    fn accept_hook_changes(
        &self,
        hook: &str,
        request: &CommitRequest<'_>,
        changed: Oid,
    ) -> Result<Oid> {
        if changed == request.tree {
            return Ok(changed);
        }
        let ours = self.repo.find_tree(request.tree)?;
        let theirs = self.repo.find_tree(changed)?;
        let diff = self
            .repo
            .diff_tree_to_tree(Some(&ours), Some(&theirs), None)?;
        let foreign: Vec<String> = diff
            .deltas()
            .filter_map(|d| {
                d.new_file()
                    .path()
                    .or(d.old_file().path())
                    .map(|p| p.to_string_lossy().into_owned())
            })
            .filter(|p| !request.own_paths.contains(p))
            .collect();
        if foreign.is_empty() {
            return Ok(changed);
        }
        Err(Error::InvalidInput {
            message: format!(
                "the {hook} hook staged files that are not incident's ({}); incident commits only its own files, so nothing was committed; run the command again with --no-verify, or make the hook leave other files alone",
                foreign.join(", ")
            ),
        })
    }

    /// Create the commit and move `ref_name` from `expected` to it, with the
    /// reflog entry `reflog` (`commit: subject`), then run `post-commit` (for a
    /// plain commit). Touches no index and no working tree.
    pub fn commit_onto(
        &self,
        ref_name: &str,
        expected: Option<Oid>,
        request: &CommitRequest<'_>,
        reflog: &str,
    ) -> Result<Onto> {
        let mut commit = self.create_commit(request)?;
        match self.move_ref(ref_name, commit.id, expected, request.identity, reflog)? {
            RefOutcome::Updated => {
                if request.kind == CommitKind::Commit {
                    self.run_post_commit(request.identity, &mut commit.warnings)?;
                }
                Ok(Onto::Committed(commit))
            }
            RefOutcome::Moved | RefOutcome::Locked => Ok(Onto::Moved),
        }
    }

    /// Compare-and-swap a ref, as git's files backend does (see [`gitrefs`]).
    pub fn move_ref(
        &self,
        ref_name: &str,
        new: Oid,
        expected: Option<Oid>,
        identity: &Identity,
        reflog: &str,
    ) -> Result<RefOutcome> {
        gitrefs::compare_and_swap(
            &self.repo,
            self.git_config()?,
            self.shared_repository()?,
            &RefUpdate {
                name: ref_name,
                new,
                expected,
                committer: &identity.committer,
                time: identity.committer_time,
                message: reflog,
            },
        )
    }

    /// `post-commit`, after the branch moved; its exit status is ignored, as by git.
    pub fn run_post_commit(&self, identity: &Identity, warnings: &mut Vec<String>) -> Result<()> {
        let hooks = self.git_hooks()?;
        if matches!(hooks.find("post-commit"), Found::Missing) {
            return Ok(());
        }
        let mut env: Vec<(&str, OsString)> = identity
            .author_env()
            .into_iter()
            .map(|(k, v)| (k, OsString::from(v)))
            .collect();
        env.push(("GIT_INDEX_FILE", self.index_path().into_os_string()));
        hooks.run("post-commit", &[], &env, warnings)?;
        Ok(())
    }

    /// git, in this repository (the user's environment restored).
    pub(crate) fn git_command(&self) -> Command {
        let mut command = Command::new("git");
        command
            .current_dir(self.workdir())
            .env("GIT_DIR", self.repo.path())
            .stdin(Stdio::null());
        command
    }

    /// Objects (and their folders) written for these ids get
    /// `core.sharedRepository`'s permissions, as git gives its own (libgit2
    /// leaves them to the umask).
    pub(crate) fn adjust_object_dirs(&self, ids: &[Oid]) -> Result<()> {
        let shared = self.shared_repository()?;
        if shared == SharedRepository::Umask {
            return Ok(());
        }
        let objects = self.repo.commondir().join("objects");
        for id in ids {
            let hex = id.to_string();
            let dir = objects.join(&hex[..2]);
            if dir.is_dir() {
                shared.adjust(&dir)?;
                let file = dir.join(&hex[2..]);
                if file.is_file() {
                    shared.adjust(&file)?;
                }
            }
        }
        Ok(())
    }

    /// Every object this process wrote (trees of a merge, blobs and trees
    /// of a review branch, packs fetched) gets `core.sharedRepository`'s
    /// permissions: the object folders changed since the process started
    /// are looked through, and the files this user owns in them adjusted.
    pub(crate) fn adjust_new_objects(&self) -> Result<()> {
        let shared = self.shared_repository()?;
        if shared == SharedRepository::Umask {
            return Ok(());
        }
        let objects = self.repo.commondir().join("objects");
        let since = super::ownfiles::process_start();
        let entries = match fs::read_dir(&objects) {
            Ok(entries) => entries,
            Err(_) => return Ok(()),
        };
        for folder in entries.flatten() {
            let name = folder.file_name();
            let name = name.to_string_lossy();
            let is_fanout = name.len() == 2 && name.bytes().all(|b| b.is_ascii_hexdigit());
            if !(is_fanout || name == "pack") {
                continue;
            }
            let dir = folder.path();
            let changed = fs::metadata(&dir)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= since);
            if !changed {
                continue;
            }
            shared.adjust(&dir)?;
            for file in fs::read_dir(&dir).map_err(io_err(&dir))?.flatten() {
                let recent = file
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t >= since);
                if recent && file.file_type().is_ok_and(|t| t.is_file()) {
                    shared.adjust(&file.path())?;
                }
            }
        }
        Ok(())
    }
}

/// Write an object through libgit2, retrying as git does when a concurrent
/// `git gc`/`git repack` removed the object folder between libgit2 making it
/// and renaming the object into it ("failed to rename lockfile"); a full
/// disk is reported as such.
pub(crate) fn retry_object_write<T>(
    git_dir: &Path,
    mut write: impl FnMut() -> std::result::Result<T, git2::Error>,
) -> Result<T> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match write() {
            Ok(value) => return Ok(value),
            Err(e)
                if attempt < 10
                    && matches!(
                        e.class(),
                        ErrorClass::Os | ErrorClass::Odb | ErrorClass::Filesystem
                    )
                    && !files::disk_is_full(git_dir)
                    && (e.message().contains("rename")
                        || e.message().contains("No such file")
                        || e.message().contains("failed to create")) =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5 * attempt));
            }
            Err(e) => return Err(files::git_write_error(git_dir)(e)),
        }
    }
}

/// Run git and return its standard output; a failure carries git's message.
pub(crate) fn run_git(command: &mut Command, what: &str) -> Result<Vec<u8>> {
    let output = command.output().map_err(|e| Error::GitCommand {
        command: what.into(),
        detail: e.to_string(),
    })?;
    if !output.status.success() {
        return Err(Error::GitCommand {
            command: what.into(),
            detail: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(output.stdout)
}

const TEMP_INDEX_PREFIX: &str = "incident-next-index-";

/// The temporary index the hooks see: exactly the commit's tree.
struct TempIndex {
    path: PathBuf,
    written: Vec<u8>,
}

impl TempIndex {
    fn write(store: &Store, tree: Oid, real: Option<&IndexFile>) -> Result<TempIndex> {
        // Those of killed commands (this one has a review branch's
        // commits too, made without the writer lock).
        files::remove_dead_temp_files(store.repo.path(), &[TEMP_INDEX_PREFIX])?;
        let tree = store.repo.find_tree(tree)?;
        let mut entries = Vec::new();
        tree.walk(TreeWalkMode::PreOrder, |root, entry| {
            let mode = entry.filemode() as u32;
            if entry.kind() == Some(git2::ObjectType::Tree) {
                return TreeWalkResult::Ok;
            }
            let mut path = root.as_bytes().to_vec();
            path.extend_from_slice(entry.name_bytes());
            let mut new = Entry {
                path,
                oid: entry.id(),
                stat: Stat {
                    mode,
                    ..Stat::default()
                },
                stage: 0,
                assume_valid: false,
                skip_worktree: false,
                intent_to_add: false,
            };
            if let Some(real) = real
                && let Ok(text) = std::str::from_utf8(&new.path)
            {
                let found = real.find(text);
                if found.len() == 1 {
                    let existing = real.entry(found.start);
                    if existing.oid == new.oid && existing.stage == 0 {
                        new.stat = existing.stat;
                        new.skip_worktree = existing.skip_worktree;
                    }
                }
            }
            entries.push(new);
            TreeWalkResult::Ok
        })?;
        let path = store
            .repo
            .path()
            .join(format!("{TEMP_INDEX_PREFIX}{}", std::process::id()));
        let written = gitindex::serialize_full(&mut entries);
        files::write_own(&path, &written, 0o666)?;
        Ok(TempIndex { path, written })
    }

    /// The tree a hook left in the index, when it changed the index.
    fn tree_if_changed(&self, store: &Store) -> Result<Option<Oid>> {
        let now = files::read_regular(&self.path)?.unwrap_or_default();
        if now == self.written {
            return Ok(None);
        }
        let mut command = store.git_command();
        command.arg("write-tree").env("GIT_INDEX_FILE", &self.path);
        let written = run_git(
            &mut command,
            "git write-tree (of the index a pre-commit hook changed)",
        )?;
        let text = String::from_utf8_lossy(&written);
        Oid::from_str(text.trim())
            .map(Some)
            .map_err(|_| Error::GitCommand {
                command: "git write-tree".into(),
                detail: format!("unexpected output: {text}"),
            })
    }
}

impl Drop for TempIndex {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_file(self.path.with_extension("lock"));
    }
}
