//! `incident log`: an incident's audit trail from git history.

use std::io::Write;
use std::process::Stdio;

use chrono::DateTime;
use git2::Oid;

use crate::error::{Error, Result};
use crate::model::event::Person;
use crate::ops::log_cache::{self, Kept};
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
/// when its result differs from every parent, and a side branch is left
/// out where a merge took the other side's version), its grafts, replace
/// refs and shallow boundary, and its speed (git reads the commit-graph,
/// which libgit2 does not). A merge's files are those it changed from its
/// first parent. git's answer is kept for the next run (see [`log_cache`]).
pub fn log(store: &Store, folder: &FolderRef) -> Result<Vec<LogEntry>> {
    let Some(head) = store.repo.head().ok().and_then(|h| h.target()) else {
        return Ok(Vec::new());
    };
    let key = log_cache::allowed(store)
        .then(|| log_cache::key(store, &walk_args()))
        .transpose()?;
    let kept = match &key {
        Some(key) => remembered(store, folder, key, head)?,
        None => asked(store, folder, head, None)?,
    };
    let unreadable = || Error::GitCommand {
        command: shown(folder),
        detail: "its output was not in the format asked for".into(),
    };
    let mut records = parse_records(&kept.walk).ok_or_else(unreadable)?;
    let merge_files = parse_records(&kept.merges).ok_or_else(unreadable)?;
    for record in records.iter_mut().filter(|r| r.merge) {
        if let Some(merge) = merge_files.iter().find(|m| m.commit == record.commit) {
            record.files = merge.files.clone();
        }
    }
    records
        .into_iter()
        .map(|record| record.entry(&folder.path))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(unreadable)
}

/// git's answer for `head`: kept whole for this tip, or kept for an
/// earlier tip that HEAD has moved on from by single-parent commits (git
/// is then asked about those alone), or asked again.
fn remembered(store: &Store, folder: &FolderRef, key: &str, head: Oid) -> Result<Kept> {
    let kept = match log_cache::read(store, &folder.path, key) {
        Some(kept) if kept.tip == head => return Ok(kept),
        Some(kept) if log_cache::linear_since(&store.repo, head, kept.tip) => {
            asked(store, folder, head, Some(kept))?
        }
        _ => asked(store, folder, head, None)?,
    };
    log_cache::save(store, &folder.path, key, &kept);
    Ok(kept)
}

/// Ask git for the commits that changed the folder up to `head` (those
/// since `earlier`'s tip, followed by `earlier`'s, when given), and for the
/// files of the merges among them.
fn asked(store: &Store, folder: &FolderRef, head: Oid, earlier: Option<Kept>) -> Result<Kept> {
    let mut revisions = vec![head.to_string()];
    if let Some(earlier) = &earlier {
        revisions.push(format!("^{}", earlier.tip));
    }
    let mut walk = run_git(store, folder, &walk_args(), &revisions, None)?;
    let new_merges: Vec<String> = parse_records(&walk)
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.merge)
        .map(|r| r.commit)
        .collect();
    let mut merges = if new_merges.is_empty() {
        Vec::new()
    } else {
        let listed = new_merges.join("\n") + "\n";
        run_git(store, folder, &merge_args(), &[], Some(listed.as_bytes()))?
    };
    if let Some(earlier) = earlier {
        walk.extend_from_slice(&earlier.walk);
        merges.extend_from_slice(&earlier.merges);
    }
    Ok(Kept {
        tip: head,
        walk,
        merges,
    })
}

/// Options both git calls share.
const COMMON_ARGS: [&str; 8] = [
    "--literal-pathspecs",
    "log",
    "-z",
    "--no-renames",
    "--name-status",
    "--no-color",
    // The user's log.showSignature would print gpg's output among the
    // records, and i18n.logOutputEncoding re-encode them.
    "--no-show-signature",
    "--encoding=UTF-8",
];

/// The walk: git's default history simplification, which `-m` and the
/// `--diff-merges` forms that show a merge's diff against one parent would
/// turn off (they list a side branch's commits that a merge discarded), so
/// merges show no files here.
fn walk_args() -> Vec<String> {
    let mut args: Vec<String> = COMMON_ARGS.iter().map(|a| a.to_string()).collect();
    args.extend(["--topo-order".to_string(), "--diff-merges=off".to_string()]);
    args.push(format!(
        "--format={RECORD}%H{FIELD}%P{FIELD}%an{FIELD}%ae{FIELD}%cI{FIELD}%s"
    ));
    args
}

/// The listed merges' files against their first parent, without a walk;
/// the merges are read from standard input.
fn merge_args() -> Vec<String> {
    let mut args: Vec<String> = COMMON_ARGS.iter().map(|a| a.to_string()).collect();
    args.extend(
        [
            "--no-walk=unsorted",
            "--stdin",
            "--diff-merges=first-parent",
        ]
        .map(str::to_string),
    );
    args.push(format!(
        "--format={RECORD}%H{FIELD}%P{FIELD}{FIELD}{FIELD}{FIELD}"
    ));
    args
}

fn shown(folder: &FolderRef) -> String {
    format!("git log -- {}", folder.path)
}

/// Run `git ARGS REVISIONS -- FOLDER` (with `input` on its standard
/// input): its standard output.
fn run_git(
    store: &Store,
    folder: &FolderRef,
    args: &[String],
    revisions: &[String],
    input: Option<&[u8]>,
) -> Result<Vec<u8>> {
    let failed = |detail: String| Error::GitCommand {
        command: shown(folder),
        detail,
    };
    let cannot_run = |e: std::io::Error| {
        failed(format!(
            "could not run git ({e}); install git and make sure it is on PATH"
        ))
    };
    let mut command = store.git_command();
    command
        .args(args)
        .args(revisions)
        .args(["--", &folder.path])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if input.is_some() {
        command.stdin(Stdio::piped());
    }
    let mut child = command.spawn().map_err(cannot_run)?;
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        // git reads all of its standard input before it writes anything;
        // one that stopped early says why in its exit status and stderr.
        match stdin.write_all(input) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(cannot_run(e)),
            _ => {}
        }
    }
    let output = child.wait_with_output().map_err(cannot_run)?;
    if !output.status.success() {
        return Err(failed(
            String::from_utf8_lossy(&output.stderr).trim().to_string(),
        ));
    }
    Ok(output.stdout)
}

/// Starts each commit in git's output.
const RECORD: &str = "%x1e";
/// Separates the fields of a commit's line.
const FIELD: &str = "%x1f";

/// One commit of `git log -z --name-status` in this module's format.
struct Record {
    commit: String,
    merge: bool,
    name: String,
    email: String,
    time: String,
    subject: String,
    /// (status letter, path from the top of the repository).
    files: Vec<(String, String)>,
}

impl Record {
    fn entry(self, folder: &str) -> Option<LogEntry> {
        let prefix = format!("{folder}/");
        let files = self
            .files
            .into_iter()
            .map(|(status, path)| {
                let change = match status.as_str() {
                    "A" => "added",
                    "D" => "deleted",
                    _ => "modified",
                };
                let path = path.strip_prefix(&prefix).unwrap_or(&path);
                (change.to_string(), path.to_string())
            })
            .collect();
        Some(LogEntry {
            commit: self.commit,
            author: Person {
                name: self.name,
                email: self.email,
            },
            time: DateTime::parse_from_rfc3339(&self.time).ok()?,
            subject: self.subject,
            files,
        })
    }
}

/// The records of git's output, in order; `None` when it is not in the
/// format asked for.
fn parse_records(bytes: &[u8]) -> Option<Vec<Record>> {
    let text = String::from_utf8_lossy(bytes);
    let mut records = Vec::new();
    for record in text.split('\u{1e}').filter(|r| !r.is_empty()) {
        let (header, rest) = record.split_once('\0').unwrap_or((record, ""));
        let mut fields = header.splitn(6, '\u{1f}');
        let mut field = || fields.next().map(str::to_string);
        let (commit, parents) = (field()?, field()?);
        let (name, email, time, subject) = (field()?, field()?, field()?, field()?);
        let mut files = Vec::new();
        let mut parts = rest.trim_start_matches('\n').split('\0');
        while let (Some(status), Some(path)) = (parts.next(), parts.next()) {
            files.push((status.to_string(), path.to_string()));
        }
        records.push(Record {
            commit,
            merge: parents.split(' ').count() > 1,
            name,
            email,
            time,
            subject,
            files,
        });
    }
    Some(records)
}
