//! Records a concurrent git command dropped after incident committed them.
//!
//! `git commit` reads the index before it takes `index.lock` and, even when
//! its commit then fails, writes back the index it read. So a `git commit`
//! racing an incident write can put back an index without the event file
//! incident just committed (the file stays in the working tree), and the
//! user's next `git commit -a` then commits the event's deletion. git does
//! this to its own concurrent commits too. An event file is never rewritten
//! and never deleted by incident, so such a file, byte for byte what an
//! earlier commit recorded, is put back by the next write instead of
//! blocking the incident as "uncommitted changes".

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use git2::{Commit, ObjectType, Oid, Tree};

use super::Store;
use super::commit::{CommitKind, CommitRequest};
use super::gitindex::{IndexFile, Update};
use super::gitrefs::{self, RefOutcome};
use super::identity::Identity;
use super::write::{self, FileWrite};
use crate::error::{Error, Result};

/// How far back a dropped record is looked for, in first-parent commits.
const SEARCH_DEPTH: usize = 500;

/// What a racing git command dropped of the records under some paths.
#[derive(Debug, Default)]
pub struct Dropped {
    /// In HEAD and in the working tree as HEAD has them, missing from the
    /// index: their index entries go back.
    pub unstaged: Vec<(String, Oid)>,
    /// Deleted by a commit since the one that recorded them, still in the
    /// working tree as recorded: committed again.
    pub deleted: Vec<Restored>,
}

/// A record committed again.
#[derive(Debug, Clone)]
pub struct Restored {
    pub file: FileWrite,
    /// The commit that recorded it.
    pub recorded_in: Oid,
}

/// What [`Store::restore_dropped`] did.
pub enum Restore {
    /// Nothing was dropped.
    Nothing,
    /// Put back, with the warning to show.
    Done(String),
    /// The branch moved before the restoring commit landed: look again.
    Raced,
}

impl Dropped {
    pub fn is_empty(&self) -> bool {
        self.unstaged.is_empty() && self.deleted.is_empty()
    }
}

/// Only the files incident writes once and never changes.
fn is_record(path: &str) -> bool {
    path.starts_with("incidents/")
        && path.ends_with(".toml")
        && (path.contains("/events/") || path.contains("/actions/"))
}

impl Store {
    /// The records under `guard` that a racing git command dropped from the
    /// index or from HEAD (see the module's comment).
    pub(crate) fn dropped_records(
        &self,
        index: &IndexFile,
        head: Option<&Commit<'_>>,
        guard: &[String],
    ) -> Result<Dropped> {
        let mut dropped = Dropped::default();
        let Some(head) = head else {
            return Ok(dropped);
        };
        let tree = head.tree()?;
        for path in guard {
            let mut committed = BTreeMap::new();
            write::collect_tree(&self.repo, &tree, path, &mut committed)?;
            let staged: BTreeMap<String, Oid> = index
                .under(path)
                .map(|i| {
                    let entry = index.entry(i);
                    (String::from_utf8_lossy(&entry.path).into_owned(), entry.oid)
                })
                .collect();
            for (file, (oid, _)) in &committed {
                if is_record(file)
                    && !staged.contains_key(file)
                    && self.working_blob(file)?.is_some_and(|(id, _)| id == *oid)
                {
                    dropped.unstaged.push((file.clone(), *oid));
                }
            }
            for file in write::untracked_files(self.workdir(), path)? {
                if !is_record(&file) || committed.contains_key(&file) {
                    continue;
                }
                let Some((id, content)) = self.working_blob(&file)? else {
                    continue;
                };
                // Staged with other content is the user's work. Staged as it
                // is on disk, it was put back by an earlier try of this very
                // restore whose commit lost a race: taken again.
                if staged.get(&file).is_some_and(|staged| *staged != id) {
                    continue;
                }
                if let Some(recorded_in) = self.recorded_before(head, &file, id)? {
                    dropped.deleted.push(Restored {
                        file: FileWrite {
                            path: file,
                            content,
                        },
                        recorded_in,
                    });
                }
            }
        }
        Ok(dropped)
    }

    /// Put back, in a commit of its own, the records under `guard` that a
    /// racing git command dropped, while the caller holds `index.lock`.
    /// Compared with the branch as it is now: a `git commit` may have moved
    /// it while the caller waited for the lock.
    pub(crate) fn restore_dropped(
        &self,
        branch: &str,
        guard: &[String],
        identity: &Identity,
        warnings: &mut Vec<String>,
    ) -> Result<Restore> {
        let head = gitrefs::read_ref(&self.repo, branch)?
            .map(|id| self.repo.find_commit(id))
            .transpose()?;
        let index = IndexFile::read(&self.index_path())?;
        let dropped = self.dropped_records(&index, head.as_ref(), guard)?;
        let Some(head) = head.filter(|_| !dropped.is_empty()) else {
            return Ok(Restore::Nothing);
        };
        let restaged: Vec<(&str, Oid)> = dropped
            .unstaged
            .iter()
            .map(|(path, oid)| (path.as_str(), *oid))
            .collect();
        let mut updates: Vec<Update> = Vec::new();
        for (path, oid) in &restaged {
            updates.push(self.entry_for(path, *oid)?);
        }
        if dropped.deleted.is_empty() {
            self.write_index(&index, &updates)?;
            return Ok(Restore::Done(format!(
                "put back the index entries of {}, which a concurrent git command dropped",
                restaged
                    .iter()
                    .map(|(p, _)| *p)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let files: Vec<FileWrite> = dropped.deleted.iter().map(|r| r.file.clone()).collect();
        let base = head.tree()?;
        let (tree, blobs, trees) = write::write_tree_with_blobs(&self.repo, Some(&base), &files)?;
        self.adjust_object_dirs(&blobs)?;
        self.adjust_object_dirs(&trees)?;
        for (file, blob) in files.iter().zip(&blobs) {
            updates.push(self.entry_for(&file.path, *blob)?);
        }
        self.write_index(&index, &updates)?;
        let paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
        let index = IndexFile::read(&self.index_path())?;
        let request = CommitRequest {
            tree,
            parents: vec![head.id()],
            message: restore_message(&dropped.deleted),
            identity,
            kind: CommitKind::Commit,
            own_paths: &paths,
            index: Some(&index),
        };
        let commit = self.commit_own(&request, warnings, &mut BTreeMap::new())?;
        let subject = commit.message.lines().next().unwrap_or_default();
        match self.move_ref(
            branch,
            commit.id,
            Some(head.id()),
            identity,
            &format!("commit: {subject}"),
        )? {
            RefOutcome::Updated => {
                self.run_post_commit(identity, warnings)?;
                Ok(Restore::Done(format!(
                    "committed again {} (commit {}), which a concurrent git commit had deleted",
                    paths.join(", "),
                    &commit.id.to_string()[..10]
                )))
            }
            RefOutcome::Locked => Err(Error::RefLocked {
                path: gitrefs::lock_path(&self.repo, branch),
                held_for: None,
            }),
            RefOutcome::Moved => Ok(Restore::Raced),
        }
    }

    /// The blob id and content of a regular file in the working tree.
    fn working_blob(&self, path: &str) -> Result<Option<(Oid, Vec<u8>)>> {
        let full = self.workdir().join(path);
        let regular = fs::symlink_metadata(&full).is_ok_and(|m| m.is_file());
        if !regular {
            return Ok(None);
        }
        let Ok(content) = fs::read(&full) else {
            return Ok(None);
        };
        Ok(Some((
            Oid::hash_object(ObjectType::Blob, &content)?,
            content,
        )))
    }

    /// The newest first-parent ancestor of `head` whose tree has `blob` at
    /// `path`, within [`SEARCH_DEPTH`] commits.
    fn recorded_before(&self, head: &Commit<'_>, path: &str, blob: Oid) -> Result<Option<Oid>> {
        let mut current = head.parent(0).ok();
        for _ in 0..SEARCH_DEPTH {
            let Some(commit) = current else {
                return Ok(None);
            };
            if blob_at(&commit.tree()?, path) == Some(blob) {
                return Ok(Some(commit.id()));
            }
            current = commit.parent(0).ok();
        }
        Ok(None)
    }
}

fn blob_at(tree: &Tree<'_>, path: &str) -> Option<Oid> {
    tree.get_path(Path::new(path)).ok().map(|e| e.id())
}

fn restore_message(restored: &[Restored]) -> String {
    let mut message = String::from(
        "Restore records a concurrent git command dropped\n\n\
         incident never deletes a record. A git command racing an incident\n\
         write put back an index without these, and a later commit deleted\n\
         them; they are committed again as they were recorded:\n\n",
    );
    for record in restored {
        message.push_str(&format!(
            "  {} (recorded in commit {})\n",
            record.file.path,
            &record.recorded_in.to_string()[..10]
        ));
    }
    message
}
