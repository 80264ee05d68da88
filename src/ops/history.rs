//! `incident log`: an incident's audit trail from git history.

use std::path::Path;

use chrono::{DateTime, FixedOffset, Offset};
use git2::{Delta, Oid, Repository, Sort, Tree};

use crate::error::Result;
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

/// Commits that changed the folder, newest first. Like `git log -- FOLDER`:
/// a merge is listed only when its result differs from every parent.
pub fn log(store: &Store, folder: &FolderRef) -> Result<Vec<LogEntry>> {
    let repo = &store.repo;
    let mut walk = repo.revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)?;
    if walk.push_head().is_err() {
        return Ok(Vec::new());
    }
    let mut entries = Vec::new();
    for oid in walk {
        let commit = repo.find_commit(oid?)?;
        let here = folder_id(&commit.tree()?, &folder.path)?;
        let parents: Vec<Option<Oid>> = commit
            .parents()
            .map(|p| {
                p.tree()
                    .map_err(Into::into)
                    .and_then(|t| folder_id(&t, &folder.path))
            })
            .collect::<Result<_>>()?;
        let changed = if parents.is_empty() {
            here.is_some()
        } else {
            parents.iter().all(|p| *p != here)
        };
        if !changed {
            continue;
        }
        let before = parents.first().copied().flatten();
        let time = commit.time();
        let offset =
            FixedOffset::east_opt(time.offset_minutes() * 60).unwrap_or_else(|| chrono::Utc.fix());
        let at = DateTime::from_timestamp(time.seconds(), 0)
            .unwrap_or_default()
            .with_timezone(&offset);
        let author = commit.author();
        entries.push(LogEntry {
            commit: commit.id().to_string(),
            author: Person {
                name: author.name().unwrap_or_default().to_string(),
                email: author.email().unwrap_or_default().to_string(),
            },
            time: at,
            subject: commit
                .summary()
                .ok()
                .flatten()
                .unwrap_or_default()
                .to_string(),
            files: changed_files(repo, before, here)?,
        });
    }
    Ok(entries)
}

fn folder_id(tree: &Tree<'_>, path: &str) -> Result<Option<Oid>> {
    match tree.get_path(Path::new(path)) {
        Ok(entry) => Ok(Some(entry.id())),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn changed_files(
    repo: &Repository,
    before: Option<Oid>,
    after: Option<Oid>,
) -> Result<Vec<(String, String)>> {
    let old = before.map(|id| repo.find_tree(id)).transpose()?;
    let new = after.map(|id| repo.find_tree(id)).transpose()?;
    let diff = repo.diff_tree_to_tree(old.as_ref(), new.as_ref(), None)?;
    let mut files = Vec::new();
    for delta in diff.deltas() {
        let change = match delta.status() {
            Delta::Added => "added",
            Delta::Deleted => "deleted",
            _ => "modified",
        };
        let path = delta
            .new_file()
            .path()
            .or_else(|| delta.old_file().path())
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.push((change.to_string(), path));
    }
    Ok(files)
}
