//! Files the write path reads and writes, opened so that nothing can hang
//! or surprise it: never a FIFO, socket or device (opening a FIFO blocks
//! until someone opens its other end, while incident holds git's
//! `index.lock`), never through a symbolic link; files in `.git` get the
//! permissions `core.sharedRepository` asks for, as git gives its own.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::gitconfig::GitConfig;
use crate::error::{Error, Result, io_err};

/// The kind of a file that is not a regular file, for messages.
fn kind_of(meta: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    if kind.is_dir() {
        "a folder"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_block_device() || kind.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

fn not_regular(path: &Path, meta: &fs::Metadata) -> Error {
    Error::InvalidInput {
        message: format!(
            "{} is {}, not a regular file; incident reads and writes only regular files there: move it away and run the command again",
            path.display(),
            kind_of(meta)
        ),
    }
}

/// Open without blocking on a FIFO and without following a final symbolic link.
fn open_flags() -> i32 {
    libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_CLOEXEC
}

/// Open `path` with `options` plus flags that never block on a FIFO nor
/// follow a final symbolic link, and refuse anything but a regular file.
/// `None` when it does not exist (and `options` does not create it).
pub(crate) fn open_checked(path: &Path, options: &mut OpenOptions) -> Result<Option<File>> {
    let file = match options.custom_flags(open_flags()).open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        // ENXIO: a FIFO nobody reads; ELOOP: a symbolic link; EISDIR: a folder.
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::ENXIO) | Some(libc::ELOOP) | Some(libc::EISDIR)
            ) =>
        {
            let meta = fs::symlink_metadata(path).map_err(io_err(path))?;
            return Err(not_regular(path, &meta));
        }
        Err(e) => return Err(io_err(path)(e)),
    };
    let meta = file.metadata().map_err(io_err(path))?;
    if !meta.is_file() {
        return Err(not_regular(path, &meta));
    }
    Ok(Some(file))
}

/// A regular file opened for reading; `None` when there is none. A FIFO,
/// device, socket or symbolic link at `path` is an error.
pub fn open_regular(path: &Path) -> Result<Option<File>> {
    open_checked(path, OpenOptions::new().read(true))
}

/// The bytes of a regular file; `None` when there is none. A FIFO, device,
/// socket or symbolic link at `path` is an error, and is never opened for long.
pub fn read_regular(path: &Path) -> Result<Option<Vec<u8>>> {
    let Some(file) = open_regular(path)? else {
        return Ok(None);
    };
    let meta = file.metadata().map_err(io_err(path))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    (&file).read_to_end(&mut bytes).map_err(io_err(path))?;
    Ok(Some(bytes))
}

/// A file's bytes: mapped, or read into memory where mapping fails. Only
/// for files git replaces by renaming a new file over them, never by
/// rewriting them in place (the index, commit-graph files).
pub enum FileBytes {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(map) => map,
            FileBytes::Owned(bytes) => bytes,
        }
    }
}

/// The bytes of `file` (opened from `path`), mapped where it can be.
pub fn map_or_read(file: &File, path: &Path) -> Result<FileBytes> {
    // SAFETY: see `FileBytes`: such a file is replaced, never changed, so
    // the mapped pages stay what was read.
    match unsafe { memmap2::Mmap::map(file) } {
        Ok(map) => Ok(FileBytes::Mapped(map)),
        Err(_) => Ok(FileBytes::Owned(read_regular(path)?.unwrap_or_default())),
    }
}

/// Refuse anything at `path` that is not a regular file (a missing file is fine).
pub fn ensure_regular_or_absent(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(meta) => Err(not_regular(path, &meta)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// Write `bytes` to the regular file at `path`, creating it (with `mode`
/// before the umask) when missing. Opening never blocks and never follows a
/// symbolic link; anything but a regular file there is refused untouched.
pub fn write_regular(path: &Path, bytes: &[u8], mode: u32) -> Result<File> {
    write_checked(path, bytes, mode, false)
}

/// [`write_regular`] for a file incident owns outright (a temporary file,
/// a lock's content, a journal): when the write fails after the file was
/// opened (a full disk), the file is removed, so no empty or half-written
/// file is left behind. Something else found there is refused untouched.
pub fn write_own(path: &Path, bytes: &[u8], mode: u32) -> Result<File> {
    write_checked(path, bytes, mode, true)
}

fn write_checked(path: &Path, bytes: &[u8], mode: u32, remove_on_failure: bool) -> Result<File> {
    let file = open_checked(
        path,
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(mode),
    )?
    .ok_or_else(|| io_err(path)(std::io::Error::from(std::io::ErrorKind::NotFound)))?;
    let written = file.set_len(0).and_then(|()| (&file).write_all(bytes));
    if let Err(error) = written {
        if remove_on_failure {
            let _ = fs::remove_file(path);
        }
        return Err(io_err(path)(error));
    }
    Ok(file)
}

/// Remove a file, if it is there.
pub fn remove_if_present(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// `core.sharedRepository`, as git reads it (`git_config_perm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SharedRepository {
    /// `umask`/`false`: permissions as the umask leaves them.
    #[default]
    Umask,
    /// `group`/`true`: group-writable (0660, folders g+s).
    Group,
    /// `all`/`world`/`everybody`: also readable by others (0664).
    Everybody,
    /// An octal mode such as `0640`: exactly those bits.
    Exact(u32),
}

impl SharedRepository {
    pub fn from_config(config: &GitConfig) -> Result<SharedRepository> {
        let key = "core.sharedRepository";
        if !config.contains(key) {
            return Ok(SharedRepository::Umask);
        }
        let Some(value) = config.get(key) else {
            return Ok(SharedRepository::Group);
        };
        Ok(match value {
            "umask" => SharedRepository::Umask,
            "group" => SharedRepository::Group,
            "all" | "world" | "everybody" => SharedRepository::Everybody,
            other => match u32::from_str_radix(other, 8) {
                Ok(0) => SharedRepository::Umask,
                Ok(1) => SharedRepository::Group,
                Ok(2) => SharedRepository::Everybody,
                Ok(mode) if mode & 0o600 == 0o600 => SharedRepository::Exact(mode & 0o666),
                Ok(_) => {
                    return Err(Error::GitConfigValue {
                        key: key.into(),
                        value: other.into(),
                        origin: config
                            .origin(key)
                            .map(super::gitconfig::describe_origin)
                            .unwrap_or_default(),
                        expected: "a mode the owner can read and write (0600 or more)".into(),
                    });
                }
                Err(_) => match config.bool(key)? {
                    Some(true) => SharedRepository::Group,
                    _ => SharedRepository::Umask,
                },
            },
        })
    }

    /// git's `calc_shared_perm` and `adjust_shared_perm`.
    fn mode_for(self, old: u32, is_dir: bool) -> u32 {
        let (mut tweak, exact) = match self {
            SharedRepository::Umask => return old,
            SharedRepository::Group => (0o660, false),
            SharedRepository::Everybody => (0o664, false),
            SharedRepository::Exact(mode) => (mode, true),
        };
        if old & 0o200 == 0 {
            tweak &= !0o222;
        }
        if old & 0o100 != 0 {
            tweak |= (tweak & 0o444) >> 2;
        }
        let mut mode = if exact {
            (old & !0o777) | tweak
        } else {
            old | tweak
        };
        if is_dir {
            mode |= (mode & 0o444) >> 2;
            mode |= libc::S_ISGID;
        }
        mode
    }

    /// Give a file or folder incident created in `.git` the permissions git
    /// would (only ones this process owns can change).
    pub fn adjust(self, path: &Path) -> Result<()> {
        if self == SharedRepository::Umask {
            return Ok(());
        }
        let meta = fs::symlink_metadata(path).map_err(io_err(path))?;
        let old = meta.mode() & 0o7777;
        let new = self.mode_for(old, meta.is_dir());
        if new != old && meta.uid() == unsafe { libc::geteuid() } {
            fs::set_permissions(path, fs::Permissions::from_mode(new)).map_err(io_err(path))?;
        }
        Ok(())
    }
}

/// Whether the file system holding `path` has (almost) no room left: tells
/// a full disk apart from other failures that libgit2 reports vaguely.
pub fn disk_is_full(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    let mut stats = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: a valid NUL-terminated path and a buffer of the right type.
    if unsafe { libc::statvfs(c_path.as_ptr(), stats.as_mut_ptr()) } != 0 {
        return false;
    }
    // SAFETY: statvfs returned 0, so it filled the buffer.
    let stats = unsafe { stats.assume_init() };
    // The field types differ between platforms.
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
    let free = stats.f_bavail as u64 * stats.f_frsize as u64;
    free < 64 * 1024 || stats.f_favail == 0
}

/// A git2 error while writing into `git_dir`, told apart from a full disk.
pub fn git_write_error(git_dir: &Path) -> impl Fn(git2::Error) -> Error + '_ {
    move |error| {
        if disk_is_full(git_dir) {
            Error::DiskFull {
                path: git_dir.join("objects"),
            }
        } else {
            Error::Git(error)
        }
    }
}

/// Remove the files in `dir` named `<prefix><pid>...` whose process no
/// longer runs: what a killed command left (a live one's stay).
pub fn remove_dead_temp_files(dir: &Path, prefixes: &[&str]) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    for item in entries {
        let item = item.map_err(io_err(dir))?;
        let name = item.file_name();
        let name = name.to_string_lossy();
        let pid = prefixes.iter().find_map(|prefix| {
            let digits: String = name
                .strip_prefix(prefix)?
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse::<u32>().ok()
        });
        if let Some(pid) = pid
            && pid != std::process::id()
            && !process_alive(pid)
            && item.file_type().is_ok_and(|t| t.is_file())
        {
            remove_if_present(&item.path())?;
        }
    }
    Ok(())
}

/// Whether a process with this id runs (on this machine).
pub fn process_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_permissions_follow_git() {
        let group = SharedRepository::Group;
        assert_eq!(group.mode_for(0o644, false), 0o664);
        assert_eq!(group.mode_for(0o444, false), 0o444);
        assert_eq!(group.mode_for(0o755, true), 0o2775);
        let all = SharedRepository::Everybody;
        assert_eq!(all.mode_for(0o600, false), 0o664);
        let exact = SharedRepository::Exact(0o640);
        assert_eq!(exact.mode_for(0o644, false), 0o640);
        assert_eq!(exact.mode_for(0o755, true), 0o2750);
    }

    #[test]
    fn reads_refuse_fifos_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        assert!(read_regular(&fifo).is_err());
        assert!(write_regular(&fifo, b"x", 0o644).is_err());
        assert!(ensure_regular_or_absent(&fifo).is_err());
        assert_eq!(read_regular(&dir.path().join("none")).unwrap(), None);
        let file = dir.path().join("file");
        write_regular(&file, b"longer text", 0o644).unwrap();
        write_regular(&file, b"short", 0o644).unwrap();
        assert_eq!(read_regular(&file).unwrap().unwrap(), b"short");
    }
}
