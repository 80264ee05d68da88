//! Moving a branch as git's files backend does, with a lock that proves
//! whose it is.
//!
//! git (and libgit2) create `refs/heads/NAME.lock` empty and write the new
//! id into it afterwards, so a lock left by a killed process cannot be told
//! from a live one. incident's lock holds the new commit id from the moment
//! it exists (a hard link of a file written beforehand): a lock whose content
//! is the commit in incident's journal is incident's own; any other lock,
//! empty or not, belongs to someone else and is never removed. Otherwise
//! this is git's protocol: take the lock, compare the current value (loose,
//! else `packed-refs`) with the expected one, append the reflog entries
//! (the branch's, and HEAD's when HEAD points at it), rename the lock over
//! the ref.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use git2::{Oid, Repository};

use super::files::{self, SharedRepository};
use super::gitconfig::GitConfig;
use crate::error::{Error, Result, io_err};
use crate::model::event::Person;
use crate::time::Timestamp;

/// What happened to a compare-and-swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefOutcome {
    Updated,
    /// The ref was not at the expected value: someone else moved it.
    Moved,
    /// Someone else holds its lock.
    Locked,
}

/// One ref update.
pub struct RefUpdate<'a> {
    /// `refs/heads/main`.
    pub name: &'a str,
    pub new: Oid,
    /// The value it must have now; `None`: it must not exist.
    pub expected: Option<Oid>,
    /// For the reflog: who and when.
    pub committer: &'a Person,
    pub time: Timestamp,
    /// The reflog message (`commit: subject`).
    pub message: &'a str,
}

/// How long to wait for another process's lock on a ref (git's
/// `core.filesRefLockTimeout` is 100 ms; a little more patience costs nothing).
const LOCK_WAIT: Duration = Duration::from_secs(1);

/// The lock file of a ref.
pub fn lock_path(repo: &Repository, name: &str) -> PathBuf {
    repo.commondir().join(format!("{name}.lock"))
}

/// Move `update.name` to `update.new` if it is at `update.expected`.
pub fn compare_and_swap(
    repo: &Repository,
    config: &GitConfig,
    shared: SharedRepository,
    update: &RefUpdate<'_>,
) -> Result<RefOutcome> {
    let common = repo.commondir();
    let ref_path = common.join(update.name);
    let lock = lock_path(repo, update.name);
    if let Some(parent) = ref_path.parent() {
        create_dirs(common, parent, shared)?;
    }
    let prepared = repo
        .path()
        .join(format!("incident-ref-{}.tmp", std::process::id()));
    files::write_own(&prepared, format!("{}\n", update.new).as_bytes(), 0o666)?;
    shared.adjust(&prepared)?;
    let started = std::time::Instant::now();
    let linked = loop {
        match fs::hard_link(&prepared, &lock) {
            Ok(()) => break Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if started.elapsed() >= LOCK_WAIT {
                    break Ok(false);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => break Err(io_err(&lock)(e)),
        }
    };
    files::remove_if_present(&prepared)?;
    if !linked? {
        return Ok(RefOutcome::Locked);
    }
    let outcome = swap_locked(repo, config, shared, update, &ref_path, &lock);
    if !matches!(outcome, Ok(RefOutcome::Updated)) {
        files::remove_if_present(&lock)?;
    }
    outcome
}

fn swap_locked(
    repo: &Repository,
    config: &GitConfig,
    shared: SharedRepository,
    update: &RefUpdate<'_>,
    ref_path: &Path,
    lock: &Path,
) -> Result<RefOutcome> {
    let current = read_ref(repo, update.name)?;
    if current != update.expected {
        return Ok(RefOutcome::Moved);
    }
    let line = reflog_line(update, current);
    if should_log(repo, config, update.name)? {
        append_reflog(repo.commondir(), update.name, &line, shared)?;
    }
    let head_points_here = repo
        .find_reference("HEAD")
        .ok()
        .and_then(|h| h.symbolic_target().ok().flatten().map(|t| t == update.name))
        .unwrap_or(false);
    if head_points_here && should_log(repo, config, "HEAD")? {
        append_reflog(repo.path(), "HEAD", &line, shared)?;
    }
    fs::rename(lock, ref_path).map_err(io_err(ref_path))?;
    Ok(RefOutcome::Updated)
}

/// The value of a ref: its loose file, else its line in `packed-refs`.
pub fn read_ref(repo: &Repository, name: &str) -> Result<Option<Oid>> {
    let common = repo.commondir();
    let loose = common.join(name);
    match files::read_regular(&loose) {
        Ok(Some(bytes)) => {
            let text = String::from_utf8_lossy(&bytes);
            let text = text.trim();
            return match Oid::from_str(text) {
                Ok(oid) if text.len() == 40 => Ok(Some(oid)),
                _ => Err(Error::InvalidInput {
                    message: format!(
                        "{} does not hold a commit id (a symbolic ref?); incident moves only plain branches",
                        loose.display()
                    ),
                }),
            };
        }
        Ok(None) => {}
        // A folder there (refs/heads/a when refs/heads/a/b exists) means no such ref.
        Err(_) if loose.is_dir() => return Ok(None),
        Err(e) => return Err(e),
    }
    let packed = common.join("packed-refs");
    let Some(bytes) = files::read_regular(&packed)? else {
        return Ok(None);
    };
    let needle = format!(" {name}\n");
    let finder = memchr::memmem::Finder::new(needle.as_bytes());
    for at in finder.find_iter(&bytes) {
        if at >= 40 && (at == 40 || bytes[at - 41] == b'\n') {
            let hex = String::from_utf8_lossy(&bytes[at - 40..at]);
            if let Ok(oid) = Oid::from_str(&hex) {
                return Ok(Some(oid));
            }
        }
    }
    Ok(None)
}

/// git's `core.logAllRefUpdates`: an existing reflog is always appended
/// to; otherwise branches, remote-tracking branches, notes and HEAD are
/// logged unless it is false (the default is true outside bare repositories).
fn should_log(repo: &Repository, config: &GitConfig, name: &str) -> Result<bool> {
    let log_dir = if name == "HEAD" {
        repo.path()
    } else {
        repo.commondir()
    };
    if log_dir.join("logs").join(name).is_file() {
        return Ok(true);
    }
    let setting = config
        .get("core.logAllRefUpdates")
        .map(str::to_ascii_lowercase);
    let always = setting.as_deref() == Some("always");
    let on = match setting.as_deref() {
        Some("always") => true,
        Some(_) => config.bool("core.logAllRefUpdates")?.unwrap_or(true),
        None => !repo.is_bare(),
    };
    Ok(always
        || (on
            && (name == "HEAD"
                || name.starts_with("refs/heads/")
                || name.starts_with("refs/remotes/")
                || name.starts_with("refs/notes/"))))
}

fn reflog_line(update: &RefUpdate<'_>, old: Option<Oid>) -> String {
    let offset = update.time.offset().local_minus_utc() / 60;
    let sign = if offset < 0 { '-' } else { '+' };
    let offset = offset.abs();
    // git's copy_reflog_msg: whitespace runs become one space, none trails.
    let message = update
        .message
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "{} {} {} <{}> {} {sign}{:02}{:02}\t{message}\n",
        old.unwrap_or(Oid::ZERO_SHA1),
        update.new,
        update.committer.name,
        update.committer.email,
        update.time.timestamp(),
        offset / 60,
        offset % 60,
    )
}

fn append_reflog(base: &Path, name: &str, line: &str, shared: SharedRepository) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = base.join("logs").join(name);
    if let Some(parent) = path.parent() {
        create_dirs(base, parent, shared)?;
    }
    let existed = path.exists();
    files::ensure_regular_or_absent(&path)?;
    let mut file = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o666)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(&path)
        .map_err(io_err(&path))?;
    let length = file.metadata().map(|m| m.len()).unwrap_or(0);
    if let Err(error) = file.write_all(line.as_bytes()) {
        // A full disk: no new empty log, no half a line in an old one.
        if existed {
            let _ = file.set_len(length);
        } else {
            let _ = fs::remove_file(&path);
        }
        return Err(io_err(&path)(error));
    }
    if !existed {
        shared.adjust(&path)?;
    }
    Ok(())
}

/// `mkdir -p` below `base`, each new folder with the shared permissions.
pub fn create_dirs(base: &Path, dir: &Path, shared: SharedRepository) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut missing = Vec::new();
    let mut current = dir;
    while !current.is_dir() && current != base {
        missing.push(current.to_path_buf());
        match current.parent() {
            Some(parent) => current = parent,
            None => break,
        }
    }
    for folder in missing.iter().rev() {
        match fs::create_dir(folder) {
            Ok(()) => shared.adjust(folder)?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_err(folder)(e)),
        }
    }
    Ok(())
}
