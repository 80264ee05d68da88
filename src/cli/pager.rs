//! Long output through a pager on a terminal, as git does it: the same
//! choice of pager (`pager.incident`, then `git var GIT_PAGER`: GIT_PAGER,
//! core.pager, PAGER, less), `LESS=FRX` and `LV=-c` unless set, the pager
//! run directly or through `sh -c` as git runs it, and never when standard
//! output is not a terminal. The pager starts with the first output, so a
//! command that prints nothing (or fails first) starts none.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

/// Commands whose output can be longer than a screen.
pub const PAGED: &[&str] = &["list", "show", "timeline", "log", "report", "actions"];

/// Where a command's standard output goes.
pub enum Output {
    Stdout,
    /// A pager is wanted; it starts with the first output. The repository
    /// folder, for git's configuration.
    PagerWanted(PathBuf),
    Pager(Pager),
}

impl Output {
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Output::PagerWanted(dir) = self {
            *self = match choose(dir) {
                None => Output::Stdout,
                Some(command) => match Pager::start(&command) {
                    Ok(pager) => Output::Pager(pager),
                    Err(e) => {
                        eprintln!(
                            "warning: cannot run the pager '{command}' ({e}); printing without it"
                        );
                        Output::Stdout
                    }
                },
            };
        }
        match self {
            Output::Pager(pager) => pager.write(bytes),
            _ => {
                let mut out = io::stdout().lock();
                out.write_all(bytes).and_then(|()| out.flush())
            }
        }
    }

    pub fn is_pager(&self) -> bool {
        matches!(self, Output::Pager(_))
    }

    /// Wait for the pager, as git does before it exits.
    pub fn finish(&mut self) {
        if let Output::Pager(pager) = std::mem::replace(self, Output::Stdout) {
            pager.finish();
        }
    }
}

/// The pager git would use in `dir`, or `None` for none: `pager.incident`
/// (as for a `git incident` command: false pages with nothing, a command
/// pages with it), else `git var GIT_PAGER`; `cat` or empty means none.
pub fn choose(dir: &Path) -> Option<String> {
    if let Some(value) = git(dir, &["config", "--get", "pager.incident"]) {
        match git_bool(&value) {
            Some(false) => return None,
            Some(true) => {}
            None => return usable(value),
        }
    }
    let pager = git(dir, &["var", "GIT_PAGER"]).unwrap_or_else(|| {
        // No git to ask: its order without core.pager.
        ["GIT_PAGER", "PAGER"]
            .iter()
            .find_map(|k| std::env::var(k).ok())
            .unwrap_or_else(|| "less".into())
    });
    usable(pager)
}

fn usable(pager: String) -> Option<String> {
    let pager = pager.trim();
    (!pager.is_empty() && pager != "cat").then(|| pager.to_string())
}

/// A boolean as git reads one (a key without a value is true).
fn git_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// What a git command prints, or `None` when it fails or git is missing.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output.status.success().then(|| {
        String::from_utf8_lossy(&output.stdout)
            .trim_end_matches(['\n', '\r'])
            .to_string()
    })
}

/// A running pager reading what the command prints.
pub struct Pager {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Pager {
    fn start(command: &str) -> io::Result<Pager> {
        // git runs a pager with shell syntax through `sh -c`, any other directly.
        const SHELL_CHARACTERS: &[char] = &[
            '|', '&', ';', '<', '>', '(', ')', '$', '`', '\\', '"', '\'', ' ', '\t', '\n', '*',
            '?', '[', '#', '~', '=', '%',
        ];
        let mut process = if command.contains(SHELL_CHARACTERS) {
            let mut shell = Command::new("sh");
            shell.arg("-c").arg(command);
            shell
        } else {
            Command::new(command)
        };
        for (key, value) in [("LESS", "FRX"), ("LV", "-c")] {
            if std::env::var_os(key).is_none() {
                process.env(key, value);
            }
        }
        let mut child = process.stdin(Stdio::piped()).spawn()?;
        let stdin = child.stdin.take();
        // Ctrl-C and Ctrl-\ are for the pager now; incident stops when the
        // pager quits (its next write fails), and never leaves the pager
        // behind on the terminal. git does the same.
        // SAFETY: signal() with SIG_IGN installs no handler code; the pager
        // was started before, so it keeps the default dispositions.
        unsafe {
            libc::signal(libc::SIGINT, libc::SIG_IGN);
            libc::signal(libc::SIGQUIT, libc::SIG_IGN);
        }
        Ok(Pager { child, stdin })
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.stdin {
            Some(stdin) => stdin.write_all(bytes).and_then(|()| stdin.flush()),
            None => Err(io::ErrorKind::BrokenPipe.into()),
        }
    }

    fn finish(mut self) {
        drop(self.stdin.take());
        // The pager's exit status is the user's business (q, or an error it showed).
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_booleans_and_commands_are_told_apart() {
        assert_eq!(git_bool("false"), Some(false));
        assert_eq!(git_bool("Off"), Some(false));
        assert_eq!(git_bool(""), Some(true));
        assert_eq!(git_bool("less -S"), None);
        assert_eq!(usable("cat".into()), None);
        assert_eq!(usable("  ".into()), None);
        assert_eq!(usable("less -S".into()).as_deref(), Some("less -S"));
    }
}
