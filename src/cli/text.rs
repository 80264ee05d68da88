//! Text people type: from a flag, standard input (`-`), a file (`-F`) or
//! their editor (`-e`), chosen as git chooses it; and kept in a file under
//! `.git/incident/` when a command refuses it, so nothing typed is lost.

use std::io::{IsTerminal, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use incident::comms::templates::strip_comments;
use incident::{Error, Result};

use super::Context;

/// A text a command was given, for keeping when the command is refused.
pub struct Typed {
    /// `NOTE`, `RESOLUTION`, `REASON`, `SUMMARY`: names the kept file.
    pub label: &'static str,
    pub text: String,
    /// The flag that takes the text back: `-F` for the command's main
    /// text, else a flag that reads standard input (`--summary -`).
    pub flag: &'static str,
}

impl Typed {
    /// The text given for one flag, if any, as a list to keep.
    pub fn given(label: &'static str, flag: &'static str, text: Option<String>) -> Vec<Typed> {
        text.into_iter()
            .map(|text| Typed { label, text, flag })
            .collect()
    }
}

/// Read `-` as standard input (once per command); anything else as given.
pub fn value(given: Option<String>, stdin_used: &mut bool) -> Result<Option<String>> {
    match given {
        Some(dash) if dash == "-" => {
            if *stdin_used {
                return Err(Error::Usage {
                    message: "only one text can come from standard input ('-')".into(),
                });
            }
            *stdin_used = true;
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|source| Error::Io {
                    path: PathBuf::from("<stdin>"),
                    source,
                })?;
            Ok(Some(trim_final_newline(text)))
        }
        other => Ok(other),
    }
}

/// Every value of a repeatable text flag, `-` read from standard input.
pub fn values(given: Vec<String>, stdin_used: &mut bool) -> Result<Vec<String>> {
    given
        .into_iter()
        .map(|v| value(Some(v), stdin_used).map(Option::unwrap_or_default))
        .collect()
}

/// `-F FILE` (`-F -` is standard input).
pub fn file(path: &Path, stdin_used: &mut bool) -> Result<String> {
    if path == Path::new("-") {
        return Ok(value(Some("-".into()), stdin_used)?.unwrap_or_default());
    }
    // Any readable file: `-F <(cmd)` and `-F /dev/stdin` are pipes.
    let metadata = std::fs::metadata(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if metadata.is_dir() {
        return Err(Error::InvalidInput {
            message: format!("{} is a folder; -F takes a file", path.display()),
        });
    }
    std::fs::read_to_string(path)
        .map(trim_final_newline)
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
}

fn trim_final_newline(mut text: String) -> String {
    while text.ends_with('\n') || text.ends_with('\r') {
        text.pop();
    }
    text
}

/// The editor git would run: `git var GIT_EDITOR` gives exactly git's
/// choice (GIT_EDITOR, core.editor, VISUAL, EDITOR, then vi); without a
/// git executable the same order, minus core.editor.
pub fn git_editor(dir: &Path) -> String {
    let from_git = Process::new("git")
        .arg("var")
        .arg("GIT_EDITOR")
        .current_dir(dir)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|editor| !editor.is_empty());
    from_git.unwrap_or_else(|| {
        ["GIT_EDITOR", "VISUAL", "EDITOR"]
            .iter()
            .filter_map(|k| std::env::var(k).ok())
            .find(|v| !v.trim().is_empty())
            .unwrap_or_else(|| "vi".into())
    })
}

/// What an editor left: whether it exited well, and the file's text.
pub struct Edited {
    pub editor: String,
    pub status: std::process::ExitStatus,
    pub text: String,
}

/// Write `initial` to `file` and open it in `editor` (see [`git_editor`]);
/// the file stays (the caller removes it once its text is recorded).
pub fn open_in_editor(editor: &str, file: &Path, initial: &str) -> Result<Edited> {
    let io = |source| Error::Io {
        path: file.to_path_buf(),
        source,
    };
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    std::fs::write(file, initial).map_err(io)?;
    let status = super::prompt::run_editor(
        Process::new("sh")
            .arg("-c")
            .arg(format!("{editor} \"$@\""))
            .arg(editor)
            .arg(file),
    )
    .map_err(io)?;
    if status.signal() == Some(libc::SIGINT) && std::io::stderr().is_terminal() {
        // What follows goes below the terminal's "^C".
        eprintln!();
    }
    let text = std::fs::read_to_string(file).map_err(io)?;
    Ok(Edited {
        editor: editor.to_string(),
        status,
        text,
    })
}

impl Edited {
    /// Ctrl-C (SIGINT) ended the editor: the person cancelled.
    pub fn interrupted(&self) -> bool {
        self.status.signal() == Some(libc::SIGINT) || self.status.code() == Some(130)
    }

    /// Why nothing was recorded: the editor was interrupted (exit 130, as
    /// for any cancel) or failed.
    pub fn failure(&self, nothing: &str) -> Error {
        if self.interrupted() {
            return Error::Cancelled;
        }
        Error::InvalidInput {
            message: format!(
                "the editor '{}' failed ({}); {nothing}",
                self.editor, self.status
            ),
        }
    }
}

/// Texts moved out of the way by [`rescue_leftover`] in this run, which a
/// later [`keep`] must not overwrite.
static RESCUED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Before an editor file is written afresh: a text an earlier run left in
/// it (killed while the editor was open, or the terminal closed) is kept
/// as `REJECTED_<LABEL>`, never overwritten; returns where, if anywhere.
/// `strip` takes a file's text to what counts (comments left out); a file
/// that says no more than `initial` holds nothing to keep.
pub fn rescue_leftover(
    git_dir: &Path,
    file: &Path,
    label: &str,
    initial: &str,
    strip: &dyn Fn(&str) -> String,
) -> Option<PathBuf> {
    let left = std::fs::read_to_string(file).ok()?;
    let text = strip(&left);
    if text.trim().is_empty() || text.trim() == strip(initial).trim() {
        return None;
    }
    let dir = git_dir.join("incident");
    let mut path = dir.join(format!("REJECTED_{label}"));
    if path.exists() {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        path = dir.join(format!("REJECTED_{label}.{stamp}"));
    }
    incident::store::ownfiles::write(&path, format!("{}\n", text.trim()).as_bytes()).ok()?;
    let _ = std::fs::remove_file(file);
    if let Ok(mut rescued) = RESCUED.lock() {
        rescued.push(path.clone());
    }
    Some(path)
}

/// Let a person write `what` in their editor, starting from `initial`.
/// Lines starting with `#` are dropped, as git does. An editor that fails
/// leaves the text in a file the error names; an empty text is refused.
pub fn edit(
    context: &Context,
    git_dir: &Path,
    label: &'static str,
    what: &str,
    initial: &str,
) -> Result<String> {
    let file = git_dir.join("incident").join(format!("{label}_EDITMSG"));
    let template = format!(
        "{initial}\n# Write {what} above. Lines starting with '#' are left out;\n# an empty text records nothing.\n"
    );
    if let Some(path) = rescue_leftover(git_dir, &file, label, &template, &strip_comments) {
        let path = shown(&path);
        context.warn(&format!(
            "{} held text an earlier run left unrecorded; it is kept in {path} (reuse it with -F {path})",
            shown(&file)
        ));
    }
    let edited = open_in_editor(&git_editor(&context.dir), &file, &template)?;
    let text = strip_comments(&edited.text);
    if !edited.status.success() {
        let failed = edited.failure("nothing was recorded");
        if text.is_empty() {
            let _ = std::fs::remove_file(&file);
            return Err(failed);
        }
        let typed = [Typed {
            label,
            text,
            flag: "-F",
        }];
        let error = keep_all(git_dir, &typed, failed);
        if matches!(error, Error::TextKept { .. }) {
            let _ = std::fs::remove_file(&file);
        }
        return Err(error);
    }
    let _ = std::fs::remove_file(&file);
    if text.is_empty() {
        return Err(Error::InvalidInput {
            message: format!("{what} is empty; nothing was recorded"),
        });
    }
    Ok(text)
}

/// The git folder of the repository around `dir`, found without git (whose
/// config may be what is broken): `GIT_DIR`, else the nearest `.git`
/// folder or `gitdir:` file, or a bare repository, upwards from `dir`.
pub fn git_dir_near(dir: &Path) -> Option<PathBuf> {
    if let Some(git_dir) = std::env::var_os("GIT_DIR") {
        return Some(dir.join(git_dir));
    }
    let bare = |d: &Path| d.join("HEAD").is_file() && d.join("objects").is_dir();
    dir.ancestors().find_map(|folder| {
        let dot_git = folder.join(".git");
        if dot_git.is_dir() {
            return Some(dot_git);
        }
        if let Ok(file) = std::fs::read_to_string(&dot_git) {
            let target = file.strip_prefix("gitdir:")?.trim();
            return Some(folder.join(target));
        }
        bare(folder).then(|| folder.to_path_buf())
    })
}

/// Keep a refused text in `.git/incident/REJECTED_<LABEL>` (beside it
/// when that holds a text rescued in this run).
pub fn keep(git_dir: &Path, label: &str, text: &str) -> Result<PathBuf> {
    let dir = git_dir.join("incident");
    let path = dir.join(format!("REJECTED_{label}"));
    let bytes = format!("{text}\n");
    let rescued = RESCUED.lock().is_ok_and(|r| r.contains(&path));
    let written = if rescued {
        Err(Error::InvalidInput {
            message: "holds a rescued text".into(),
        })
    } else {
        incident::store::ownfiles::write(&path, bytes.as_bytes())
    };
    match written {
        Ok(()) => Ok(path),
        // Something that is no regular file there (a FIFO): beside it.
        Err(_) => {
            let beside = dir.join(format!("REJECTED_{label}.{}", std::process::id()));
            incident::store::ownfiles::write(&beside, bytes.as_bytes())?;
            Ok(beside)
        }
    }
}

/// Keep every typed text of a refused command and say in the error how
/// to reuse it. Errors about the input itself keep it all the same: the
/// next try reuses the text with a fixed flag.
pub fn keep_all(git_dir: &Path, typed: &[Typed], error: Error) -> Error {
    let mut kept = Vec::new();
    for t in typed {
        if t.text.trim().is_empty() {
            continue;
        }
        if let Ok(path) = keep(git_dir, t.label, &t.text) {
            let path = shown(&path);
            let reuse = if t.flag == "-F" {
                format!("-F {path}")
            } else {
                format!("{} - < {path}", t.flag)
            };
            kept.push((path, reuse));
        }
    }
    if kept.is_empty() {
        return error;
    }
    Error::TextKept {
        source: Box::new(error),
        kept,
    }
}

/// A path as the person can type it from where they are: relative to the
/// current folder when it lies below it.
pub fn shown(path: &Path) -> String {
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    std::env::current_dir()
        .ok()
        .and_then(|cwd| std::fs::canonicalize(cwd).ok())
        .and_then(|cwd| absolute.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or(absolute)
        .display()
        .to_string()
}
