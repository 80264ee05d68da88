//! The repository's git hooks, run as `git commit` runs them.
//!
//! A hook is an executable file in `core.hooksPath` (relative to the top of
//! the working tree; `~/` expands) or else in `.git/hooks`. git runs it in
//! the top folder of the working tree with no standard input and its
//! standard output sent to standard error, with `GIT_INDEX_FILE`,
//! `GIT_EDITOR=:` (no editor is opened), `GIT_PREFIX` and the author
//! (`GIT_AUTHOR_NAME`, `_EMAIL`, `_DATE`) in the environment; a file that
//! is not executable is ignored with a hint. (These are *git* hooks; the
//! event hooks for chat tools are elsewhere.)

use std::ffi::{OsStr, OsString};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use super::gitconfig::GitConfig;
use crate::error::{Error, Result};

/// Where to look for hooks, and how to run them.
#[derive(Debug, Clone)]
pub struct GitHooks {
    dir: PathBuf,
    workdir: PathBuf,
    /// `GIT_PREFIX`: the starting folder relative to the top, with a trailing `/`.
    prefix: String,
}

/// What is at a hook's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Runnable(PathBuf),
    /// There, but not executable: git ignores it and says so.
    NotExecutable(PathBuf),
    Missing,
}

impl GitHooks {
    pub fn new(
        config: &GitConfig,
        common_dir: &Path,
        workdir: &Path,
        started_in: &Path,
    ) -> GitHooks {
        let dir = match config.path("core.hooksPath") {
            Some(path) if path.is_absolute() => path,
            Some(path) => workdir.join(path),
            None => common_dir.join("hooks"),
        };
        let prefix = std::fs::canonicalize(started_in)
            .ok()
            .zip(std::fs::canonicalize(workdir).ok())
            .and_then(|(from, top)| {
                from.strip_prefix(&top)
                    .ok()
                    .map(|p| p.to_string_lossy().into_owned())
            })
            .filter(|p| !p.is_empty())
            .map(|p| format!("{p}/"))
            .unwrap_or_default();
        GitHooks {
            dir,
            workdir: workdir.to_path_buf(),
            prefix,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The hook called `name`, if there is one git would run.
    pub fn find(&self, name: &str) -> Found {
        use std::os::unix::fs::PermissionsExt;
        let path = self.dir.join(name);
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() && meta.permissions().mode() & 0o111 != 0 => {
                Found::Runnable(path)
            }
            Ok(meta) if meta.is_file() => Found::NotExecutable(path),
            _ => Found::Missing,
        }
    }

    /// Run a hook with `args` and extra environment; `Ok(None)` when there is
    /// no hook, else its exit status.
    pub fn run(
        &self,
        name: &str,
        args: &[&OsStr],
        env: &[(&str, OsString)],
        warnings: &mut Vec<String>,
    ) -> Result<Option<ExitStatus>> {
        let path = match self.find(name) {
            Found::Runnable(path) => path,
            Found::NotExecutable(path) => {
                warnings.push(format!(
                    "the '{}' hook was ignored because it is not set as executable (as git does; `chmod +x` it to run it)",
                    path.display()
                ));
                return Ok(None);
            }
            Found::Missing => return Ok(None),
        };
        let spawn = |program: &Path, shell: bool| -> std::io::Result<ExitStatus> {
            let mut command = if shell {
                let mut c = Command::new("/bin/sh");
                c.arg(program);
                c
            } else {
                Command::new(program)
            };
            command
                .args(args)
                .current_dir(&self.workdir)
                .env("GIT_EDITOR", ":")
                .env("GIT_PREFIX", &self.prefix)
                .stdin(Stdio::null())
                .stdout(stderr_for_child()?);
            for (key, value) in env {
                command.env(key, value);
            }
            command.status()
        };
        let status = match spawn(&path, false) {
            // A script without `#!`: git runs it with the shell.
            Err(e) if e.raw_os_error() == Some(libc::ENOEXEC) => spawn(&path, true),
            other => other,
        }
        .map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        Ok(Some(status))
    }

    /// Run a hook that may refuse: a non-zero exit is [`Error::HookRefused`].
    pub fn run_checked(
        &self,
        name: &str,
        args: &[&OsStr],
        env: &[(&str, OsString)],
        warnings: &mut Vec<String>,
    ) -> Result<()> {
        match self.run(name, args, env, warnings)? {
            Some(status) if !status.success() => Err(Error::HookRefused {
                hook: name.to_string(),
                path: self.dir.join(name),
                status: describe_status(status),
            }),
            _ => Ok(()),
        }
    }
}

fn describe_status(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("it exited with {code}"),
        (None, Some(signal)) => format!("it was killed by signal {signal}"),
        _ => "it failed".into(),
    }
}

/// Our standard error, for a child's standard output (git sends hooks'
/// output there, so that a command's own output stays clean).
fn stderr_for_child() -> std::io::Result<Stdio> {
    Ok(Stdio::from(std::io::stderr().as_fd().try_clone_to_owned()?))
}

/// git's message cleanup for a commit message given with `-m`/`-F`
/// (`commit.cleanup`: `whitespace` by default, `strip` also drops comment
/// lines, `verbatim` changes nothing): no trailing spaces, no leading,
/// trailing or repeated blank lines, one final newline.
pub fn clean_message(message: &str, config: &GitConfig) -> String {
    let mode = config
        .get("commit.cleanup")
        .unwrap_or("default")
        .to_ascii_lowercase();
    if mode == "verbatim" {
        return message.to_string();
    }
    let comment = match config
        .get("core.commentChar")
        .or(config.get("core.commentString"))
    {
        Some(c) if !c.is_empty() && c != "auto" => c.to_string(),
        _ => "#".to_string(),
    };
    let strip_comments = mode == "strip";
    let mut out = String::new();
    let mut pending_blank = false;
    for line in message.lines() {
        if strip_comments && line.starts_with(&comment) {
            continue;
        }
        let line = line.trim_end();
        if line.is_empty() {
            pending_blank = !out.is_empty();
            continue;
        }
        if pending_blank {
            out.push('\n');
            pending_blank = false;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_cleaned_as_git_cleans_them() {
        let config = GitConfig::default();
        assert_eq!(
            clean_message("\n\nSubject  \n\n\n\nBody\n# kept\n\n", &config),
            "Subject\n\nBody\n# kept\n"
        );
        let strip = GitConfig::from_pairs(&[("commit.cleanup", "strip")]);
        assert_eq!(clean_message("S\n# gone\nB\n", &strip), "S\nB\n");
        let verbatim = GitConfig::from_pairs(&[("commit.cleanup", "verbatim")]);
        assert_eq!(clean_message("S  \n\n\n", &verbatim), "S  \n\n\n");
        assert_eq!(clean_message("\n \n", &config), "");
    }
}
