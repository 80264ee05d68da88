//! Files incident keeps for itself in git's folder (`.git/incident/`:
//! caches, snapshots, the hook log and queue, kept texts, trust records):
//! one way to read them and one to write them, used by every module.
//!
//! Reading opens nothing but a regular file: a FIFO would block the command
//! until someone writes into it, a device could be anything. Such a file is
//! an error that names it (a cache then counts as absent). Writing goes
//! through a temporary file renamed over the old one, which also replaces a
//! FIFO without opening it; appending (the log) refuses one. Folders and
//! files made get the permissions `core.sharedRepository` asks for, as git
//! gives everything it writes in `.git`, so another member of the group can
//! read and update them.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use super::files::{self, SharedRepository};
use super::gitconfig::GitConfig;
use crate::error::{Result, io_err};

/// A repository opened by this process: its git folders, its working tree,
/// and `core.sharedRepository` once read.
struct Known {
    git_dirs: Vec<PathBuf>,
    workdir: PathBuf,
    shared: Option<SharedRepository>,
}

static KNOWN: Mutex<Vec<Known>> = Mutex::new(Vec::new());
static STARTED: OnceLock<SystemTime> = OnceLock::new();

/// When this process opened its first repository (a little earlier, for
/// file systems that keep times in whole seconds): what it wrote since is
/// newer.
pub fn process_start() -> SystemTime {
    *STARTED.get_or_init(|| SystemTime::now() - Duration::from_secs(2))
}

/// Remember a repository this process opened, so that files written below
/// its git folders get its permissions (read from git's config on first use).
pub fn register(git_dirs: &[&Path], workdir: &Path, shared: Option<SharedRepository>) {
    let Ok(mut known) = KNOWN.lock() else {
        return;
    };
    process_start();
    let git_dirs: Vec<PathBuf> = git_dirs.iter().map(|d| d.to_path_buf()).collect();
    match known.iter_mut().find(|k| k.git_dirs == git_dirs) {
        Some(found) => {
            if shared.is_some() {
                found.shared = shared;
            }
        }
        None => known.push(Known {
            git_dirs,
            workdir: workdir.to_path_buf(),
            shared,
        }),
    }
}

/// `core.sharedRepository` of the repository whose git folder holds `path`
/// (`umask` for a path in none this process opened).
pub fn shared_for(path: &Path) -> Result<SharedRepository> {
    let Ok(mut known) = KNOWN.lock() else {
        return Ok(SharedRepository::Umask);
    };
    let Some(repo) = known
        .iter_mut()
        .find(|k| k.git_dirs.iter().any(|d| path.starts_with(d)))
    else {
        return Ok(SharedRepository::Umask);
    };
    if let Some(shared) = repo.shared {
        return Ok(shared);
    }
    let config = GitConfig::load(repo.git_dirs.first().map(PathBuf::as_path), &repo.workdir)?;
    let shared = SharedRepository::from_config(&config)?;
    repo.shared = Some(shared);
    Ok(shared)
}

/// Give a file written in `.git` (by libgit2, say) the permissions git would.
pub fn adjust(path: &Path) -> Result<()> {
    shared_for(path)?.adjust(path)
}

/// The bytes of a file of incident's own; `None` when there is none. A
/// FIFO, device, socket, folder or symbolic link there is an error naming
/// it, and is never opened for long.
pub fn read(path: &Path) -> Result<Option<Vec<u8>>> {
    files::read_regular(path)
}

/// [`read`] as text (invalid UTF-8 replaced); `None` when absent or unreadable.
pub fn read_text_lossy(path: &Path) -> Option<String> {
    read(path)
        .ok()
        .flatten()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

/// Make `dir` and the folders above it that are missing, each with the
/// permissions git would give it.
pub fn create_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dir(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => shared_for(dir)?.adjust(dir),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_err(dir)(e)),
    }
}

/// Replace the file at `path` with `bytes`, in one rename.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with(path, |out| out.write_all(bytes))
}

/// Replace the file at `path` with what `fill` writes, in one rename: a
/// reader sees the old file or the new one, a failed write (a full disk)
/// leaves the old one and no temporary file.
pub fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<()> {
    // Never replace what someone else put there (a FIFO, a link).
    files::ensure_regular_or_absent(path)?;
    if let Some(dir) = path.parent() {
        create_dir(dir)?;
    }
    let mut temp = path.as_os_str().to_owned();
    temp.push(format!(".{}.tmp", std::process::id()));
    let temp = PathBuf::from(temp);
    let file = files::write_own(&temp, &[], 0o666)?;
    let mut out = BufWriter::new(file);
    let written = fill(&mut out)
        .and_then(|()| out.flush())
        .map_err(io_err(&temp))
        .and_then(|()| shared_for(path)?.adjust(&temp))
        .and_then(|()| fs::rename(&temp, path).map_err(io_err(path)));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

/// Add `bytes` at the end of the file at `path` (made when missing). Anything
/// but a regular file there is refused without blocking.
pub fn append(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        create_dir(dir)?;
    }
    let existed = fs::symlink_metadata(path).is_ok();
    let mut file = files::open_checked(
        path,
        OpenOptions::new().create(true).append(true).mode(0o666),
    )?
    .ok_or_else(|| io_err(path)(std::io::Error::from(std::io::ErrorKind::NotFound)))?;
    if !existed {
        shared_for(path)?.adjust(path)?;
    }
    file.write_all(bytes).map_err(io_err(path))
}
