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
use crate::error::{Error, Result};
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

/// Trees already loaded: walking backwards, the parent's trees of one
/// incident commit are the commit's own trees at the next one.
struct TreeMemo<'r> {
    repo: &'r Repository,
    trees: HashMap<Oid, Tree<'r>>,
}

/// Past this many trees the memo starts afresh (bounded memory).
const MEMO_LIMIT: usize = 64;

impl<'r> TreeMemo<'r> {
    fn get(&mut self, id: Oid) -> Result<Tree<'r>> {
        if let Some(t) = self.trees.get(&id) {
            return Ok(t.clone());
        }
        if self.trees.len() >= MEMO_LIMIT {
            self.trees.clear();
        }
        let tree = self.repo.find_tree(id)?;
        self.trees.insert(id, tree.clone());
        Ok(tree)
    }
}

fn entry_tree(tree: &Tree<'_>, name: &str) -> Option<Oid> {
    tree.get_name(name)
        .filter(|e| e.kind() == Some(ObjectType::Tree))
        .map(|e| e.id())
}

/// git's order of tree entries: by name, as if a tree's name ended in `/`.
fn git_order(a: &git2::TreeEntry<'_>, b: &git2::TreeEntry<'_>) -> std::cmp::Ordering {
    let (x, y) = (a.name_bytes(), b.name_bytes());
    let n = x.len().min(y.len());
    x[..n].cmp(&y[..n]).then_with(|| {
        let next = |name: &[u8], e: &git2::TreeEntry<'_>| match name.get(n) {
            Some(c) => *c,
            None if e.kind() == Some(ObjectType::Tree) => b'/',
            None => 0,
        };
        next(x, a).cmp(&next(y, b))
    })
}

/// Blobs under `new` that `old` lacks, as paths under `prefix`. Both trees
/// list their entries in git's order, so one merge pass pairs them up.
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
    let mut old_entries = old_tree
        .as_ref()
        .map(|t| t.iter())
        .into_iter()
        .flatten()
        .peekable();
    for entry in new_tree.iter() {
        // Skip old entries that sort before this one (deleted files).
        while old_entries
            .peek()
            .is_some_and(|o| git_order(o, &entry) == std::cmp::Ordering::Less)
        {
            old_entries.next();
        }
        let before = if old_entries
            .peek()
            .is_some_and(|o| o.name_bytes() == entry.name_bytes())
        {
            old_entries.next()
        } else {
            None
        };
        if before.as_ref().is_some_and(|b| b.id() == entry.id()) {
            continue;
        }
        let Ok(name) = entry.name() else { continue };
        match entry.kind() {
            Some(ObjectType::Tree) => {
                let old_sub = before
                    .filter(|b| b.kind() == Some(ObjectType::Tree))
                    .map(|b| b.id());
                added_blobs(memo, entry.id(), old_sub, &format!("{prefix}/{name}"), out)?;
            }
            Some(ObjectType::Blob) if before.is_none_or(|b| b.kind() != Some(ObjectType::Blob)) => {
                out.push(format!("{prefix}/{name}"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// A first-parent commit the cache does not know yet.
#[derive(Debug, Clone, Copy)]
struct Pending {
    id: Oid,
    tree: Oid,
    parent: Option<Oid>,
    time: i64,
    offset_minutes: i32,
    /// The parent is missing from this clone (shallow boundary).
    cut_off: bool,
}

/// The deltas of a run of consecutive pending commits (newest first), read
/// with a repository handle of this thread's own.
fn deltas(git_dir: &std::path::Path, run: &[Pending]) -> Result<Vec<(Oid, CommitDelta)>> {
    let repo = Repository::open(git_dir)?;
    let mut memo = TreeMemo {
        repo: &repo,
        trees: HashMap::new(),
    };
    let mut out = Vec::with_capacity(run.len());
    // The incidents tree of the previous (newer) commit's parent, when known.
    let mut carried: Option<(Oid, Option<Oid>)> = None;
    for (i, p) in run.iter().enumerate() {
        let here = match carried {
            Some((id, inc)) if id == p.id => inc,
            _ => {
                let root = memo.get(p.tree)?;
                entry_tree(&root, DATA_DIR)
            }
        };
        let parent_tree = match p.parent {
            None => None,
            Some(parent) => match run.get(i + 1) {
                Some(next) if next.id == parent => Some(next.tree),
                _ => Some(repo.find_commit(parent)?.tree_id()),
            },
        };
        let before = match parent_tree {
            Some(t) => {
                let root = memo.get(t)?;
                entry_tree(&root, DATA_DIR)
            }
            None => None,
        };
        let mut added = Vec::new();
        if let Some(here) = here {
            added_blobs(&mut memo, here, before, DATA_DIR, &mut added)?;
        }
        added.sort();
        if let Some(parent) = p.parent {
            carried = Some((parent, before));
        }
        out.push((
            p.id,
            CommitDelta {
                parent: p.parent,
                time: p.time,
                offset_minutes: p.offset_minutes,
                added,
            },
        ));
    }
    Ok(out)
}

/// Walk the first-parent line from `tip`, using and extending `cache`.
///
/// Commits the cache lacks are listed first; their changes are then read
/// on as many threads as the machine has cores (up to four), each with its
/// own repository handle, on contiguous runs of the line.
pub fn walk(
    repo: &Repository,
    tip: Oid,
    cache: &mut Cache,
    progress: Progress<'_>,
) -> Result<History> {
    let mut history = History::default();
    let shallow_repo = repo.is_shallow();

    // 1. The line, from the cache where it knows the commits.
    let mut line: Vec<Oid> = Vec::new();
    let mut pending: Vec<Pending> = Vec::new();
    let odb = repo.odb()?;
    let mut current = Some(tip);
    while let Some(id) = current {
        line.push(id);
        if line.len().is_multiple_of(4096) {
            progress(line.len());
        }
        if let Some(delta) = cache.entries.get(&id) {
            current = delta.parent;
            continue;
        }
        let commit = repo.find_commit(id)?;
        let parent = if commit.parent_count() > 0 {
            match commit.parent_id(0) {
                Ok(p) if !shallow_repo || odb.exists(p) => Some(p),
                Ok(_) => None,
                Err(e) if e.code() == git2::ErrorCode::NotFound => None,
                Err(e) => return Err(e.into()),
            }
        } else {
            None
        };
        let when = commit.committer().when();
        // A commit cut off by a shallow clone looks like a root that added
        // everything: true only for this clone, so it is never cached.
        let cut_off = parent.is_none() && (commit.parent_count() > 0 || shallow_repo);
        pending.push(Pending {
            id,
            tree: commit.tree_id(),
            parent,
            time: when.seconds(),
            offset_minutes: when.offset_minutes(),
            cut_off,
        });
        current = parent;
    }

    // 2. What the pending commits added, in parallel runs.
    let mut uncached: HashMap<Oid, CommitDelta> = HashMap::new();
    if !pending.is_empty() {
        // INCIDENT_REPORT_THREADS overrides the number of reader threads.
        let threads = std::env::var("INCIDENT_REPORT_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1)
            })
            .clamp(1, 4)
            .min(pending.len().div_ceil(256).max(1));
        let size = pending.len().div_ceil(threads);
        let git_dir = repo.path().to_path_buf();
        let results: Vec<Result<Vec<(Oid, CommitDelta)>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = pending
                .chunks(size)
                .map(|run| {
                    let git_dir = &git_dir;
                    scope.spawn(move || deltas(git_dir, run))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(Error::InvalidInput {
                            message: "a history reader thread failed".into(),
                        })
                    })
                })
                .collect()
        });
        for (result, run) in results.into_iter().zip(pending.chunks(size)) {
            for ((id, delta), p) in result?.into_iter().zip(run) {
                history.walked += 1;
                if p.cut_off {
                    history.shallow = true;
                    // Keep it out of the cache but use it for this run.
                    uncached.insert(id, delta);
                } else {
                    cache.entries.insert(id, delta);
                }
            }
        }
    }

    // 3. From the tip back: each file's recording commit is the oldest.
    for id in line {
        match cache.entries.get(&id).or_else(|| uncached.get(&id)) {
            Some(delta) => apply(&mut history, id, delta),
            None => {
                return Err(Error::InvalidInput {
                    message: format!("internal: commit {id} was not read"),
                });
            }
        }
    }
    Ok(history)
}

fn apply(history: &mut History, id: Oid, delta: &CommitDelta) {
    let time = commit_time(delta.time, delta.offset_minutes);
    history.chain.push((id, time));
    for path in &delta.added {
        history
            .recorded
            .insert(path.clone(), Recording { commit: id, time });
    }
}
