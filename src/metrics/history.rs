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
use std::rc::Rc;

use git2::{ObjectType, Odb, OdbObject, Oid, Repository};

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

/// One entry of a tree object, borrowed from its raw bytes.
#[derive(Clone, Copy)]
struct Entry<'a> {
    name: &'a [u8],
    /// The 20 bytes of the entry's object id.
    id: &'a [u8],
    /// The file mode, as the octal digits of the tree object say it.
    mode: u32,
}

const MODE_TYPE: u32 = 0o170000;

impl Entry<'_> {
    fn is_tree(&self) -> bool {
        self.mode & MODE_TYPE == 0o040000
    }
    /// A file (or symlink): what libgit2 calls a blob entry.
    fn is_blob(&self) -> bool {
        !self.is_tree() && self.mode & MODE_TYPE != 0o160000
    }
    fn oid(&self) -> Result<Oid> {
        Ok(Oid::from_bytes(self.id)?)
    }
}

/// The entries of a raw tree object (`<octal mode> <name>\0<20-byte id>`
/// each), parsed in place instead of by libgit2 so that no entry is
/// allocated or copied. Stops at the first malformed entry;
/// whoever reads a tree to its end checks that nothing is left
/// ([`malformed`]).
struct Entries<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Entries<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        let rest = self.rest;
        let space = rest.iter().position(|&b| b == b' ')?;
        let nul = space + 1 + rest.get(space + 1..)?.iter().position(|&b| b == 0)?;
        let id = rest.get(nul + 1..nul + 21)?;
        let mut mode = 0u32;
        for &digit in rest.get(..space)? {
            if !(b'0'..=b'7').contains(&digit) || mode > 0o7777777 {
                return None;
            }
            mode = mode * 8 + u32::from(digit - b'0');
        }
        let name = rest.get(space + 1..nul)?;
        self.rest = rest.get(nul + 21..)?;
        Some(Entry { name, id, mode })
    }
}

fn entries(data: &[u8]) -> Entries<'_> {
    Entries { rest: data }
}

/// The error for a tree object whose entries do not parse to its end.
fn malformed(rest: &[u8]) -> Result<()> {
    if rest.is_empty() {
        Ok(())
    } else {
        Err(git2::Error::from_str("failed to parse a tree object: malformed entry").into())
    }
}

/// Tree objects already read, as raw bytes. Walking backwards, the trees
/// a commit is compared against (its parent's) are the trees the next
/// commit is made of: the memo keeps those of the commit before, and
/// nothing older (bounded memory).
struct TreeMemo<'o> {
    odb: &'o Odb<'o>,
    now: HashMap<Oid, Rc<OdbObject<'o>>>,
    before: HashMap<Oid, Rc<OdbObject<'o>>>,
}

impl<'o> TreeMemo<'o> {
    fn new(odb: &'o Odb<'o>) -> Self {
        TreeMemo {
            odb,
            now: HashMap::new(),
            before: HashMap::new(),
        }
    }

    fn get(&mut self, id: Oid) -> Result<Rc<OdbObject<'o>>> {
        if let Some(t) = self.now.get(&id) {
            return Ok(t.clone());
        }
        let tree = match self.before.remove(&id) {
            Some(t) => t,
            None => {
                let object = self.odb.read(id)?;
                if object.kind() != ObjectType::Tree {
                    return Err(git2::Error::from_str(&format!(
                        "the object {id} is a {}, not a tree",
                        object.kind()
                    ))
                    .into());
                }
                Rc::new(object)
            }
        };
        self.now.insert(id, tree.clone());
        Ok(tree)
    }

    /// The next (older) commit: forget the trees of the one before.
    fn next_commit(&mut self) {
        std::mem::swap(&mut self.now, &mut self.before);
        self.now.clear();
    }
}

/// The id of the subtree `name` of a raw tree.
fn entry_tree(tree: &[u8], name: &str) -> Result<Option<Oid>> {
    let mut iter = entries(tree);
    for entry in iter.by_ref() {
        if entry.name == name.as_bytes() {
            return if entry.is_tree() {
                entry.oid().map(Some)
            } else {
                Ok(None)
            };
        }
    }
    malformed(iter.rest).map(|()| None)
}

/// git's order of tree entries: by name, as if a tree's name ended in `/`.
fn git_order(a: &Entry<'_>, b: &Entry<'_>) -> std::cmp::Ordering {
    let (x, y) = (a.name, b.name);
    let n = x.len().min(y.len());
    x[..n].cmp(&y[..n]).then_with(|| {
        let next = |name: &[u8], e: &Entry<'_>| match name.get(n) {
            Some(c) => *c,
            None if e.is_tree() => b'/',
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
        .map(|t| entries(t.data()))
        .into_iter()
        .flatten()
        .peekable();
    let mut new_entries = entries(new_tree.data());
    for entry in new_entries.by_ref() {
        // Skip old entries that sort before this one (deleted files).
        while old_entries
            .peek()
            .is_some_and(|o| git_order(o, &entry) == std::cmp::Ordering::Less)
        {
            old_entries.next();
        }
        let before = if old_entries.peek().is_some_and(|o| o.name == entry.name) {
            old_entries.next()
        } else {
            None
        };
        if before.is_some_and(|b| b.id == entry.id) {
            continue;
        }
        let Ok(name) = std::str::from_utf8(entry.name) else {
            continue;
        };
        if entry.is_tree() {
            let old_sub = before
                .filter(|b| b.is_tree())
                .map(|b| b.oid())
                .transpose()?;
            added_blobs(
                memo,
                entry.oid()?,
                old_sub,
                &format!("{prefix}/{name}"),
                out,
            )?;
        } else if entry.is_blob() && before.is_none_or(|b| !b.is_blob()) {
            out.push(format!("{prefix}/{name}"));
        }
    }
    malformed(new_entries.rest)
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
    let odb = repo.odb()?;
    let mut memo = TreeMemo::new(&odb);
    let mut out = Vec::with_capacity(run.len());
    // The incidents tree of the previous (newer) commit's parent, when known.
    let mut carried: Option<(Oid, Option<Oid>)> = None;
    for (i, p) in run.iter().enumerate() {
        let here = match carried {
            Some((id, inc)) if id == p.id => inc,
            _ => entry_tree(memo.get(p.tree)?.data(), DATA_DIR)?,
        };
        let parent_tree = match p.parent {
            None => None,
            Some(parent) => match run.get(i + 1) {
                Some(next) if next.id == parent => Some(next.tree),
                _ => Some(repo.find_commit(parent)?.tree_id()),
            },
        };
        let before = match parent_tree {
            Some(t) => entry_tree(memo.get(t)?.data(), DATA_DIR)?,
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
        memo.next_commit();
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
