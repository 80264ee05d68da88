//! The first-parent history of the branch: which commit recorded each file
//! of the incidents folder.
//!
//! The walk compares the id of the `incidents` tree of each commit with its
//! first parent's and descends only where ids differ (year, month, incident
//! folder, events), so commits that touch only code cost one tree lookup.
//! Trees loaded as a parent are kept for the next step, where that parent
//! is the commit being looked at. What each commit added is cached per
//! commit id (see [`super::cache`]).

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};
use git2::{ObjectType, Oid, Repository, Tree};

use super::cache::{Cache, CommitDelta};
use crate::error::Result;
use crate::store::DATA_DIR;
use crate::time::Timestamp;

/// The commit that added a file to the first-parent line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recording {
    pub commit: Oid,
    pub time: Timestamp,
}

/// What the walk learned.
#[derive(Debug, Default)]
pub struct History {
    /// Repository-relative path → the first commit on the line that had it.
    pub recorded: HashMap<String, Recording>,
    /// First-parent commits from the tip back to the root (or the shallow
    /// boundary), newest first, with their commit times.
    pub chain: Vec<(Oid, Timestamp)>,
    /// Commits whose changes were read from git objects (not the cache).
    pub walked: usize,
    /// The walk stopped at a commit whose parents this clone lacks.
    pub shallow: bool,
}

/// Progress of a long walk: (commits done, estimate of the total).
pub type Progress<'a> = &'a mut dyn FnMut(usize);

pub fn commit_time(seconds: i64, offset_minutes: i32) -> Timestamp {
    let offset = FixedOffset::east_opt(offset_minutes.saturating_mul(60))
        .or_else(|| FixedOffset::east_opt(0))
        .unwrap_or_else(|| chrono::Utc.fix());
    DateTime::from_timestamp(seconds, 0)
        .unwrap_or_default()
        .with_timezone(&offset)
}

use chrono::Offset;

/// Trees loaded in this step, and the ones loaded in the previous one.
struct TreeMemo<'r> {
    repo: &'r Repository,
    previous: HashMap<Oid, Tree<'r>>,
    current: HashMap<Oid, Tree<'r>>,
}

impl<'r> TreeMemo<'r> {
    fn get(&mut self, id: Oid) -> Result<Tree<'r>> {
        if let Some(t) = self.current.get(&id) {
            return Ok(t.clone());
        }
        let tree = match self.previous.get(&id) {
            Some(t) => t.clone(),
            None => self.repo.find_tree(id)?,
        };
        self.current.insert(id, tree.clone());
        Ok(tree)
    }

    fn next_step(&mut self) {
        self.previous = std::mem::take(&mut self.current);
    }
}

fn entry_tree(tree: &Tree<'_>, name: &str) -> Option<Oid> {
    tree.get_name(name)
        .filter(|e| e.kind() == Some(ObjectType::Tree))
        .map(|e| e.id())
}

/// Blobs under `new` that `old` lacks, as paths under `prefix`.
fn added_blobs(
    memo: &mut TreeMemo<'_>,
    new: Oid,
    old: Option<Oid>,
    prefix: &str,
    out: &mut Vec<String>,
) -> Result<()> {
    if Some(new) == old {
        return Ok(());
    }
    let new_tree = memo.get(new)?;
    let old_tree = old.map(|id| memo.get(id)).transpose()?;
    for entry in new_tree.iter() {
        let Ok(name) = entry.name() else { continue };
        let before = old_tree.as_ref().and_then(|t| t.get_name(name));
        if before.as_ref().is_some_and(|b| b.id() == entry.id()) {
            continue;
        }
        let path = format!("{prefix}/{name}");
        match entry.kind() {
            Some(ObjectType::Tree) => {
                let old_sub = before
                    .filter(|b| b.kind() == Some(ObjectType::Tree))
                    .map(|b| b.id());
                added_blobs(memo, entry.id(), old_sub, &path, out)?;
            }
            Some(ObjectType::Blob) if before.is_none_or(|b| b.kind() != Some(ObjectType::Blob)) => {
                out.push(path);
            }
            _ => {}
        }
    }
    Ok(())
}

/// Walk the first-parent line from `tip`, using and extending `cache`.
pub fn walk(
    repo: &Repository,
    tip: Oid,
    cache: &mut Cache,
    progress: Progress<'_>,
) -> Result<History> {
    let mut history = History::default();
    let mut memo = TreeMemo {
        repo,
        previous: HashMap::new(),
        current: HashMap::new(),
    };
    let shallow_repo = repo.is_shallow();
    let mut current = Some(tip);
    // The incidents tree id of `current`, when the previous step knew it.
    let mut known_incidents: Option<Option<Oid>> = None;
    let incidents_of =
        |memo: &mut TreeMemo<'_>, commit: &git2::Commit<'_>| -> Result<Option<Oid>> {
            let root = memo.get(commit.tree_id())?;
            Ok(entry_tree(&root, DATA_DIR))
        };
    let mut steps = 0usize;
    while let Some(id) = current {
        steps += 1;
        if steps.is_multiple_of(1024) {
            progress(steps);
        }
        if let Some(delta) = cache.entries.get(&id) {
            let time = commit_time(delta.time, delta.offset_minutes);
            history.chain.push((id, time));
            for path in &delta.added {
                history
                    .recorded
                    .insert(path.clone(), Recording { commit: id, time });
            }
            current = delta.parent;
            known_incidents = None;
            continue;
        }
        let commit = repo.find_commit(id)?;
        let here = match known_incidents {
            Some(known) => known,
            None => incidents_of(&mut memo, &commit)?,
        };
        let parent = if commit.parent_count() > 0 {
            match commit.parent(0) {
                Ok(p) => Some(p),
                Err(e) if e.code() == git2::ErrorCode::NotFound => None,
                Err(e) => return Err(e.into()),
            }
        } else {
            None
        };
        let before = match &parent {
            Some(p) => incidents_of(&mut memo, p)?,
            None => None,
        };
        let mut added = Vec::new();
        if let Some(here) = here {
            added_blobs(&mut memo, here, before, DATA_DIR, &mut added)?;
        }
        added.sort();
        let time = commit.committer().when();
        let delta = CommitDelta {
            parent: parent.as_ref().map(|p| p.id()),
            time: time.seconds(),
            offset_minutes: time.offset_minutes(),
            added,
        };
        let at = commit_time(delta.time, delta.offset_minutes);
        history.chain.push((id, at));
        for path in &delta.added {
            history.recorded.insert(
                path.clone(),
                Recording {
                    commit: id,
                    time: at,
                },
            );
        }
        // A commit cut off by a shallow clone looks like a root that added
        // everything: true only for this clone, so it is never cached.
        let cut_off = parent.is_none() && (commit.parent_count() > 0 || shallow_repo);
        if cut_off {
            history.shallow = true;
        } else {
            cache.entries.insert(id, delta);
        }
        history.walked += 1;
        current = parent.as_ref().map(|p| p.id());
        known_incidents = Some(before);
        memo.next_step();
    }
    Ok(history)
}
