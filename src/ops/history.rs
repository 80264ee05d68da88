//! `incident log`: an incident's audit trail from git history.

use chrono::DateTime;

use crate::error::{Error, Result};
use crate::model::event::Person;
use crate::store::{FolderRef, Store};
use crate::time::Timestamp;

/// One commit that changed an incident's folder.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub commit: String,
    pub author: Person,
    pub time: Timestamp,
    pub subject: String,
    /// (change, path relative to the incident folder): `added`, `modified`, `deleted`.
    pub files: Vec<(String, String)>,
}

/// Commits that changed the folder, newest first, as `git log -- FOLDER`
/// lists them: git's own history simplification (a merge is listed only
/// when its result differs from every parent), its grafts, replace refs
/// and shallow boundary, and its speed (git reads the commit-graph, which
/// libgit2 does not). A merge's files are those changed from its first
/// parent.
pub fn log(store: &Store, folder: &FolderRef) -> Result<Vec<LogEntry>> {
    if store.repo.head().ok().and_then(|h| h.target()).is_none() {
        return Ok(Vec::new());
    }
    let mut command = store.git_command();
    command
        .args([
            "--literal-pathspecs",
            "log",
            "--topo-order",
            "-z",
            "--no-renames",
        ])
        .args(["--diff-merges=first-parent", "--name-status", "--no-color"])
        // The user's log.showSignature would print gpg's output among the
        // records, and i18n.logOutputEncoding re-encode them.
        .args(["--no-show-signature", "--encoding=UTF-8"])
        .arg(format!(
            "--format={RECORD}%H{FIELD}%an{FIELD}%ae{FIELD}%cI{FIELD}%s"
        ))
        .args(["HEAD", "--", &folder.path]);
    let shown = format!("git log -- {}", folder.path);
    let output = command.output().map_err(|e| Error::GitCommand {
        command: shown.clone(),
        detail: format!("could not run git ({e}); install git and make sure it is on PATH"),
    })?;
    if !output.status.success() {
        return Err(Error::GitCommand {
            command: shown,
            detail: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    parse_log(&String::from_utf8_lossy(&output.stdout), &folder.path).ok_or_else(|| {
        Error::GitCommand {
            command: shown,
            detail: "its output was not in the format asked for".into(),
        }
    })
}

/// Starts each commit in the output of `log`.
const RECORD: &str = "%x1e";
/// Separates the fields of a commit's line.
const FIELD: &str = "%x1f";

/// The commits of `git log -z --name-status` with `log`'s format.
fn parse_log(text: &str, folder: &str) -> Option<Vec<LogEntry>> {
    let prefix = format!("{folder}/");
    let mut entries = Vec::new();
    for record in text.split('\u{1e}').filter(|r| !r.is_empty()) {
        let (header, rest) = record.split_once('\0').unwrap_or((record, ""));
        let mut fields = header.splitn(5, '\u{1f}');
        let (commit, name, email, time, subject) = (
            fields.next()?,
            fields.next()?,
            fields.next()?,
            fields.next()?,
            fields.next()?,
        );
        let mut files = Vec::new();
        let mut parts = rest.trim_start_matches('\n').split('\0');
        while let (Some(status), Some(path)) = (parts.next(), parts.next()) {
            let change = match status {
                "A" => "added",
                "D" => "deleted",
                _ => "modified",
            };
            let path = path.strip_prefix(&prefix).unwrap_or(path);
            files.push((change.to_string(), path.to_string()));
        }
        entries.push(LogEntry {
            commit: commit.to_string(),
            author: Person {
                name: name.to_string(),
                email: email.to_string(),
            },
            time: DateTime::parse_from_rfc3339(time).ok()?,
            subject: subject.to_string(),
            files,
        });
    }
    Some(entries)
}
