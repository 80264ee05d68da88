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

use super::cache::{Cache, FreshCommit, OidMap};
use super::graph::Graph;
use super::objects::{Entries, Entry, entries, malformed};
use crate::error::{Error, Result};
use crate::store::DATA_DIR;
use crate::time::Timestamp;

/// The commit that added a file to the first-parent line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recording {
    pub commit: Oid,
    /// Its commit time, seconds since the epoch.
    pub time: i64,
    /// `commit` is the oldest of a shallow clone, which seems to add every
    /// file it holds: the file may have been recorded earlier, so `time`
    /// is not when it was.
    pub at_edge: bool,
}

/// What the walk learned.
#[derive(Debug, Default)]
pub struct History {
    /// Repository-relative path → the first commit on the line that had it.
    pub recorded: HashMap<String, Recording>,
    /// First-parent commits from the tip back to the root (or the shallow
    /// boundary), newest first, with their commit times; only when asked
    /// for (`--as-of`).
    pub chain: Vec<(Oid, i64)>,
    /// How many commits the line has.
    pub commits: usize,
    /// Commits whose changes were read from git objects (not the cache).
    pub walked: usize,
    /// The walk stopped at a commit whose parents this clone lacks.
    pub shallow: bool,
}

/// The first-parent line, listed; what each commit added is in the cache.
#[derive(Debug, Default)]
pub struct Walk {
    /// From the tip back.
    pub line: Vec<Oid>,
    pub walked: usize,
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

/// Read a tree object's raw bytes.
fn read_tree<'o>(odb: &'o Odb<'o>, id: Oid) -> Result<OdbObject<'o>> {
    let object = odb.read(id)?;
    if object.kind() != ObjectType::Tree {
        return Err(git2::Error::from_str(&format!(
            "the object {id} is a {}, not a tree",
            object.kind()
        ))
        .into());
    }
    Ok(object)
}

/// Tree objects already read, as raw bytes. Walking backwards, the trees
/// a commit is compared against (its parent's) are the trees the next
/// commit is made of: the memo keeps those of the commit before, and
/// nothing older (bounded memory).
struct TreeMemo<'o> {
    odb: &'o Odb<'o>,
    now: OidMap<Rc<OdbObject<'o>>>,
    before: OidMap<Rc<OdbObject<'o>>>,
}

impl<'o> TreeMemo<'o> {
    fn new(odb: &'o Odb<'o>) -> Self {
        TreeMemo {
            odb,
            now: OidMap::default(),
            before: OidMap::default(),
        }
    }

    fn get(&mut self, id: Oid) -> Result<Rc<OdbObject<'o>>> {
        if let Some(t) = self.now.get(&id) {
            return Ok(t.clone());
        }
        let tree = match self.before.remove(&id) {
            Some(t) => t,
            None => Rc::new(read_tree(self.odb, id)?),
        };
        self.now.insert(id, tree.clone());
        Ok(tree)
    }

    /// The next (older) commit that changes the incidents folder: forget
    /// the trees of the one before.
    fn next_commit(&mut self) {
        std::mem::swap(&mut self.now, &mut self.before);
        self.now.clear();
    }
}

/// The id of the subtree `name` of a raw tree.
fn entry_tree(tree: &[u8], id: Oid, name: &str) -> Result<Option<Oid>> {
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
    malformed(iter.rest, id).map(|()| None)
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

/// `prefix/name`, allocated once (format! costs 1% of a cold report here).
fn join(prefix: &str, name: &str) -> String {
    let mut path = String::with_capacity(prefix.len() + 1 + name.len());
    path.push_str(prefix);
    path.push('/');
    path.push_str(name);
    path
}

/// How many leading bytes `a` and `b` share (compared a block at a time).
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 64;
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + BLOCK <= n && a[i..i + BLOCK] == b[i..i + BLOCK] {
        i += BLOCK;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

/// How many trailing bytes `a` and `b` share (compared a block at a time).
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 64;
    let n = a.len().min(b.len());
    let (a, b) = (&a[a.len() - n..], &b[b.len() - n..]);
    let mut i = 0;
    while i + BLOCK <= n && a[n - i - BLOCK..n - i] == b[n - i - BLOCK..n - i] {
        i += BLOCK;
    }
    while i < n && a[n - i - 1] == b[n - i - 1] {
        i += 1;
    }
    i
}

/// Where the entry of a raw tree that starts at `at` ends.
fn entry_end(data: &[u8], at: usize) -> Option<usize> {
    let nul = at + memchr::memchr(0, data.get(at..)?)?;
    let end = nul + 21;
    (end <= data.len()).then_some(end)
}

/// The entries of a tree with one of look-ahead, and how many bytes of the
/// tree are left from the look-ahead entry on.
struct Cursor<'a> {
    entries: Entries<'a>,
    next: Option<Entry<'a>>,
    left: usize,
}

impl<'a> Cursor<'a> {
    fn new(rest: &'a [u8]) -> Self {
        let mut entries = entries(rest);
        let next = entries.next();
        Cursor {
            entries,
            next,
            left: rest.len(),
        }
    }

    fn advance(&mut self) -> Option<Entry<'a>> {
        let current = self.next;
        self.left = self.entries.rest.len();
        self.next = self.entries.next();
        current
    }
}

/// Blobs under `new` that `old` lacks, as paths under `prefix`. Both trees
/// list their entries in git's order, so one merge pass pairs them up.
///
/// Trees of one commit and its parent mostly differ in one entry: entries
/// wholly inside the bytes both trees start with are the same and are
/// skipped unread, and the pass stops as soon as what is left of both
/// trees is the same bytes (the end they share).
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
    let new_data = new_tree.data();
    let old_data = old_tree.as_ref().map_or(&[][..], |t| t.data());
    let (mut start, mut tail) = (0, 0);
    if old_tree.is_some() {
        let same = common_prefix(new_data, old_data);
        while let Some(end) = entry_end(new_data, start).filter(|&end| end <= same) {
            start = end;
        }
        tail = common_suffix(new_data, old_data);
    }
    let mut new_entries = entries(new_data.get(start..).unwrap_or_default());
    let mut old_entries = Cursor::new(old_data.get(start..).unwrap_or_default());
    loop {
        let left = new_entries.rest.len();
        if left <= tail && left == old_entries.left {
            // The rest of both trees is the same bytes.
            return Ok(());
        }
        let Some(entry) = new_entries.next() else {
            break;
        };
        // Skip old entries that sort before this one (deleted files).
        while old_entries
            .next
            .is_some_and(|o| git_order(&o, &entry) == std::cmp::Ordering::Less)
        {
            old_entries.advance();
        }
        let before = if old_entries.next.is_some_and(|o| o.name == entry.name) {
            old_entries.advance()
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
            added_blobs(memo, entry.oid()?, old_sub, &join(prefix, name), out)?;
        } else if entry.is_blob() && before.is_none_or(|b| !b.is_blob()) {
            out.push(join(prefix, name));
        }
    }
    malformed(new_entries.rest, new)
}

/// A first-parent commit the cache does not know yet.
#[derive(Debug, Clone, Copy)]
struct Pending {
    /// Position on the line.
    index: u32,
    id: Oid,
    tree: Oid,
    parent: Option<Oid>,
    time: i64,
    offset_minutes: i32,
    /// The parent is missing from this clone (shallow boundary).
    cut_off: bool,
}

/// The files each of a run of consecutive pending commits (newest first)
/// added.
fn deltas(repo: &Repository, run: &[Pending]) -> Result<Vec<Vec<String>>> {
    let odb = repo.odb()?;
    let mut memo = TreeMemo::new(&odb);
    let mut out = Vec::with_capacity(run.len());
    // The incidents tree of the previous (newer) commit's parent, when known.
    let mut carried: Option<(Oid, Option<Oid>)> = None;
    for (i, p) in run.iter().enumerate() {
        let here = match carried {
            Some((id, inc)) if id == p.id => inc,
            _ => entry_tree(read_tree(&odb, p.tree)?.data(), p.tree, DATA_DIR)?,
        };
        let parent_tree = match p.parent {
            None => None,
            Some(parent) => match run.get(i + 1) {
                Some(next) if next.id == parent => Some(next.tree),
                _ => Some(repo.find_commit(parent)?.tree_id()),
            },
        };
        // Root trees are read once each (the parent's incidents tree id is
        // carried to the next commit) and not kept.
        let before = match parent_tree {
            Some(t) => entry_tree(read_tree(&odb, t)?.data(), t, DATA_DIR)?,
            None => None,
        };
        let mut added = Vec::new();
        if let Some(here) = here.filter(|&here| Some(here) != before) {
            added_blobs(&mut memo, here, before, DATA_DIR, &mut added)?;
            // Commits in between that leave the incidents folder alone keep
            // its trees: the next commit that changes it starts from them.
            memo.next_commit();
        }
        added.sort();
        if let Some(parent) = p.parent {
            carried = Some((parent, before));
        }
        out.push(added);
    }
    Ok(out)
}

/// What a commit object says about itself, parsed from its raw bytes.
struct CommitHeader {
    tree: Oid,
    first_parent: Option<Oid>,
    parent_count: usize,
    /// `parent_count` is what the object says, not what libgit2 makes of
    /// it (which gives a shallow clone's boundary commits none).
    parents_as_written: bool,
    time: i64,
    offset_minutes: i32,
}

/// A SHA-1 object id written as 40 hexadecimal digits.
fn hex_oid(hex: &[u8]) -> Option<Oid> {
    if hex.len() != 40 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut bytes = [0u8; 20];
    for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Oid::from_bytes(&bytes).ok()
}

/// The header of a raw commit object (`tree`, `parent`, `committer`
/// lines), or `None` when it is not in the usual form (the caller then
/// asks libgit2). The committer's time and offset are read as libgit2
/// reads them: an offset that does not parse, or that is out of range,
/// counts as zero.
fn parse_commit(data: &[u8]) -> Option<CommitHeader> {
    let mut tree = None;
    let mut first_parent = None;
    let mut parent_count = 0;
    let mut committer = None;
    for line in data.split(|&b| b == b'\n') {
        if line.is_empty() {
            break;
        }
        if let Some(hex) = line.strip_prefix(b"tree ") {
            tree = Some(hex_oid(hex)?);
        } else if let Some(hex) = line.strip_prefix(b"parent ") {
            if parent_count == 0 {
                first_parent = Some(hex_oid(hex)?);
            }
            parent_count += 1;
        } else if let Some(rest) = line.strip_prefix(b"committer ") {
            committer = Some(rest);
        }
    }
    // `Name <email> 1700000000 +0100`
    let committer = committer?;
    let after_email = committer.get(committer.iter().rposition(|&b| b == b'>')? + 1..)?;
    let mut fields = after_email.split(|&b| b == b' ').filter(|f| !f.is_empty());
    let time: i64 = std::str::from_utf8(fields.next()?).ok()?.parse().ok()?;
    let offset_minutes = match fields.next() {
        None => 0,
        Some(tz) => {
            let (sign, digits) = tz.split_first()?;
            if !matches!(sign, b'+' | b'-')
                || digits.len() != 4
                || !digits.iter().all(u8::is_ascii_digit)
            {
                return None;
            }
            let value: i32 = std::str::from_utf8(digits).ok()?.parse().ok()?;
            let (hours, minutes) = (value / 100, value % 100);
            if hours > 14 || minutes > 59 {
                0
            } else if *sign == b'-' {
                -(hours * 60 + minutes)
            } else {
                hours * 60 + minutes
            }
        }
    };
    Some(CommitHeader {
        tree: tree?,
        first_parent,
        parent_count,
        parents_as_written: true,
        time,
        offset_minutes,
    })
}

/// Read a commit's header, from its raw bytes where they are in the usual
/// form, else through libgit2's parser.
fn commit_header(repo: &Repository, odb: &Odb<'_>, id: Oid) -> Result<CommitHeader> {
    let object = odb.read(id)?;
    if object.kind() == ObjectType::Commit
        && let Some(header) = parse_commit(object.data())
    {
        return Ok(header);
    }
    let commit = repo.find_commit(id)?;
    let when = commit.committer().when();
    let first_parent = match commit.parent_id(0) {
        Ok(p) => Some(p),
        Err(e) if e.code() == git2::ErrorCode::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    Ok(CommitHeader {
        tree: commit.tree_id(),
        first_parent,
        parent_count: commit.parent_count(),
        parents_as_written: false,
        time: when.seconds(),
        offset_minutes: when.offset_minutes(),
    })
}

/// Pending commits are read in runs of this many consecutive commits,
/// listed first so that each commit's parent tree is at hand.
const RUN: usize = 2048;

/// Walk the first-parent line from `tip`, using and extending `cache`.
///
/// The line is listed from the cache where it knows the commits; runs of
/// consecutive commits it lacks are read as the listing reaches them. All
/// of it on one thread: libgit2 serialises pack reads through
/// process-wide locks, and reader threads measured slower than one. What
/// the commits recorded is then taken out of the cache by [`recordings`],
/// after the cache is saved.
pub fn walk(
    repo: &Repository,
    tip: Oid,
    cache: &mut Cache,
    progress: Progress<'_>,
) -> Result<Walk> {
    let mut walk = Walk::default();
    let shallow_repo = repo.is_shallow();
    let boundary = crate::ops::publication::shallow_boundary(repo);
    let odb = repo.odb()?;
    let graph = Graph::open(repo);
    // Where the commit being looked at is in the commit-graph, when known.
    let mut position: Option<u32> = None;
    let mut run: Vec<Pending> = Vec::new();
    let mut current = Some(tip);
    while let Some(id) = current {
        walk.line.push(id);
        if walk.line.len().is_multiple_of(4096) {
            progress(walk.line.len());
        }
        if let Some(delta) = cache.get(&id) {
            current = delta.parent;
            position = None;
            continue;
        }
        let from_graph = graph.as_ref().and_then(|g| {
            let at = position.or_else(|| g.find(&id))?;
            let commit = g.commit(at).filter(|c| c.id == id)?;
            let parent = match commit.first_parent {
                Some(p) => Some(g.commit(p)?),
                None => None,
            };
            Some((commit, parent))
        });
        let header = match from_graph {
            Some((commit, parent)) => {
                position = commit.first_parent;
                CommitHeader {
                    tree: commit.tree,
                    first_parent: parent.map(|p| p.id),
                    parent_count: usize::from(commit.has_parents),
                    parents_as_written: true,
                    time: commit.time,
                    // The graph has no time zones; no figure needs them.
                    offset_minutes: 0,
                }
            }
            None => {
                position = None;
                commit_header(repo, &odb, id)?
            }
        };
        let parent = match header.first_parent {
            Some(p) if !shallow_repo || odb.exists(p) => Some(p),
            _ => None,
        };
        // A commit cut off by a shallow clone looks like a root that
        // added everything: true only for this clone, so it is never
        // cached. A true root is not, even where git lists it among the
        // boundary (a clone exactly as deep as the line).
        let cut_off = parent.is_none()
            && (header.parent_count > 0 || (!header.parents_as_written && boundary.contains(&id)));
        run.push(Pending {
            index: (walk.line.len() - 1) as u32,
            id,
            tree: header.tree,
            parent,
            time: header.time,
            offset_minutes: header.offset_minutes,
            cut_off,
        });
        if run.len() == RUN {
            read_run(repo, &run, cache, &mut walk)?;
            run.clear();
        }
        current = parent;
    }
    read_run(repo, &run, cache, &mut walk)?;
    walk.line.shrink_to_fit();
    Ok(walk)
}

/// Read what a run of pending commits added, into the cache.
fn read_run(repo: &Repository, run: &[Pending], cache: &mut Cache, walk: &mut Walk) -> Result<()> {
    if run.is_empty() {
        return Ok(());
    }
    for (added, p) in deltas(repo, run)?.into_iter().zip(run) {
        walk.walked += 1;
        walk.shallow |= p.cut_off;
        let commit = FreshCommit {
            line_index: p.index,
            time: p.time,
            offset_minutes: i16::try_from(p.offset_minutes).unwrap_or(0),
            keep: !p.cut_off,
        };
        cache.add(commit, added);
    }
    Ok(())
}

/// Walk the first-parent line of `tip` with the per-commit cache at
/// `cache_path`, save what the walk learned, and say which commit recorded
/// each file. A cache that cannot be written only costs time next run: its
/// error comes back beside the result.
pub fn learn(
    repo: &Repository,
    tip: Oid,
    cache_path: &std::path::Path,
    keep_chain: bool,
    progress: Progress<'_>,
) -> Result<(History, Option<Error>)> {
    let mut cache = Cache::load(cache_path);
    let walked = walk(repo, tip, &mut cache, progress)?;
    let mut unsaved = None;
    if cache.grew() {
        // A cache that holds many commits no longer on the line (rebased
        // away) keeps only the line's.
        let saved = if cache.len() > 2 * walked.line.len() + 1024 {
            let on_line: std::collections::HashSet<Oid> = walked.line.iter().copied().collect();
            cache.save(cache_path, &walked.line, &|id| on_line.contains(id))
        } else {
            cache.save(cache_path, &walked.line, &|_| true)
        };
        unsaved = saved.err();
    }
    Ok((recordings(cache, walked, keep_chain)?, unsaved))
}

/// From the tip back, the commit that recorded each file: the oldest on
/// the line that had it. Consumes the cache (save it first): its paths
/// move into the result instead of being copied.
pub fn recordings(cache: Cache, walk: Walk, keep_chain: bool) -> Result<History> {
    let (mut loaded, fresh) = cache.into_parts();
    let paths = loaded.iter().map(|(_, d)| d.added.len()).sum::<usize>()
        + fresh.added.iter().map(|(_, a)| a.len()).sum::<usize>();
    let mut history = History {
        recorded: HashMap::with_capacity(paths),
        chain: Vec::with_capacity(if keep_chain { walk.line.len() } else { 0 }),
        commits: walk.line.len(),
        walked: walk.walked,
        shallow: walk.shallow,
    };
    // This run's commits come in the order of the line.
    let mut read = fresh.commits.iter().enumerate().peekable();
    let mut added = fresh.added.into_iter().peekable();
    for (index, id) in walk.line.into_iter().enumerate() {
        let (time, at_edge, paths) = match loaded.binary_search_by(|(k, _)| k.cmp(&id)) {
            Ok(i) => {
                let delta = &mut loaded[i].1;
                (delta.time, false, std::mem::take(&mut delta.added))
            }
            Err(_) => match read.next() {
                Some((n, c)) if c.line_index as usize == index => {
                    let paths = match added.peek() {
                        Some((at, _)) if *at as usize == n => {
                            added.next().map(|(_, p)| p).unwrap_or_default()
                        }
                        _ => Vec::new(),
                    };
                    // Only commits cut off by a shallow clone are not kept.
                    (c.time, !c.keep, paths)
                }
                _ => {
                    return Err(Error::InvalidInput {
                        message: format!("internal: commit {id} was not read"),
                    });
                }
            },
        };
        if keep_chain {
            history.chain.push((id, time));
        }
        for path in paths {
            history.recorded.insert(
                path,
                Recording {
                    commit: id,
                    time,
                    at_edge,
                },
            );
        }
    }
    Ok(history)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_headers_parse_as_libgit2_parses_them() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let tree = repo
            .find_tree(repo.index().unwrap().write_tree().unwrap())
            .unwrap();
        let mut parents: Vec<Oid> = Vec::new();
        for (seconds, offset) in [
            (1_700_000_000, 60),
            (1_600_000_000, -330),
            (5, 0),
            (-7, 840),
        ] {
            let when = git2::Time::new(seconds, offset);
            let sig = git2::Signature::new("A B", "a@b", &when).unwrap();
            let parent_commits: Vec<git2::Commit<'_>> = parents
                .iter()
                .map(|p| repo.find_commit(*p).unwrap())
                .collect();
            let refs: Vec<&git2::Commit<'_>> = parent_commits.iter().collect();
            let id = repo
                .commit(None, &sig, &sig, "m\n\nbody\n", &tree, &refs)
                .unwrap();
            parents.insert(0, id);
            let odb = repo.odb().unwrap();
            let raw = odb.read(id).unwrap();
            let header = parse_commit(raw.data()).unwrap();
            let commit = repo.find_commit(id).unwrap();
            assert_eq!(header.tree, commit.tree_id());
            assert_eq!(header.parent_count, commit.parent_count());
            assert_eq!(header.first_parent, commit.parent_id(0).ok());
            assert_eq!(header.time, commit.committer().when().seconds());
            assert_eq!(
                header.offset_minutes,
                commit.committer().when().offset_minutes()
            );
        }
        // Out of the usual form: left to libgit2.
        assert!(parse_commit(b"tree 0\n").is_none());
        assert_eq!(
            hex_oid(b"0123456789abcdefABCDEF0123456789abcdef01"),
            Oid::from_str("0123456789abcdefabcdef0123456789abcdef01").ok()
        );
        assert!(hex_oid(b"0123456789abcdefABCDEF0123456789abcdef0g").is_none());
        assert!(hex_oid(b"0123").is_none());
        assert!(parse_commit(b"committer A <a> 12 0100\n").is_none());
    }

    #[test]
    fn added_blobs_finds_what_a_full_comparison_finds() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let one = repo.blob(b"1").unwrap();
        let two = repo.blob(b"2").unwrap();
        let mut sub = repo.treebuilder(None).unwrap();
        sub.insert("f", one, 0o100644).unwrap();
        let sub = sub.write().unwrap();
        let names: Vec<String> = (0..200).map(|i| format!("n{i:03}")).collect();
        let tree = |change: &dyn Fn(&mut git2::TreeBuilder<'_>)| {
            let mut b = repo.treebuilder(None).unwrap();
            for n in &names {
                b.insert(n, one, 0o100644).unwrap();
            }
            change(&mut b);
            b.write().unwrap()
        };
        let old = tree(&|_| {});
        let odb = repo.odb().unwrap();
        let cases: Vec<(Oid, Vec<&str>)> = vec![
            // Changed at the start, in the middle and at the end: nothing added.
            (
                tree(&|b| {
                    b.insert("n000", two, 0o100644).unwrap();
                    b.insert("n100", two, 0o100644).unwrap();
                    b.insert("n199", two, 0o100644).unwrap();
                }),
                vec![],
            ),
            // Added first, in the middle, last; one deleted.
            (
                tree(&|b| {
                    b.insert("a", one, 0o100644).unwrap();
                    b.insert("n100x", one, 0o100644).unwrap();
                    b.insert("z", one, 0o100644).unwrap();
                    b.remove("n050").unwrap();
                }),
                vec!["p/a", "p/n100x", "p/z"],
            ),
            // A file that became a folder, and a new folder.
            (
                tree(&|b| {
                    b.insert("n010", sub, 0o040000).unwrap();
                    b.insert("m", sub, 0o040000).unwrap();
                }),
                vec!["p/m/f", "p/n010/f"],
            ),
        ];
        for (new, expected) in cases {
            let mut memo = TreeMemo::new(&odb);
            let mut out = Vec::new();
            added_blobs(&mut memo, new, Some(old), "p", &mut out).unwrap();
            out.sort();
            assert_eq!(out, expected);
        }
        assert_eq!(common_prefix(b"abcx", b"abcy"), 3);
        assert_eq!(common_suffix(b"xabc", b"yyabc"), 3);
        let long: Vec<u8> = (0..1000).map(|i| (i % 251) as u8).collect();
        let mut other = long.clone();
        other[700] ^= 1;
        assert_eq!(common_prefix(&long, &other), 700);
        assert_eq!(common_suffix(&long, &other), 299);
    }

    #[test]
    fn raw_tree_entries_match_libgit2() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let blob = repo.blob(b"x").unwrap();
        let mut sub = repo.treebuilder(None).unwrap();
        sub.insert("f", blob, 0o100644).unwrap();
        let sub = sub.write().unwrap();
        let mut root = repo.treebuilder(None).unwrap();
        root.insert("a.toml", blob, 0o100644).unwrap();
        root.insert("a", sub, 0o040000).unwrap();
        root.insert("run", blob, 0o100755).unwrap();
        root.insert("link", blob, 0o120000).unwrap();
        let root = root.write().unwrap();
        let odb = repo.odb().unwrap();
        let raw = odb.read(root).unwrap();
        let tree = repo.find_tree(root).unwrap();
        let ours: Vec<_> = entries(raw.data())
            .map(|e| (e.name.to_vec(), e.oid().unwrap(), e.is_tree(), e.is_blob()))
            .collect();
        let theirs: Vec<_> = tree
            .iter()
            .map(|e| {
                (
                    e.name_bytes().to_vec(),
                    e.id(),
                    e.kind() == Some(ObjectType::Tree),
                    e.kind() == Some(ObjectType::Blob),
                )
            })
            .collect();
        assert_eq!(ours, theirs);
        let mut all = entries(raw.data());
        all.by_ref().for_each(drop);
        assert!(malformed(all.rest, root).is_ok());
        assert!(malformed(b"100644 x\0short", root).is_err());
        assert_eq!(entry_tree(raw.data(), root, "a").unwrap(), Some(sub));
        assert_eq!(entry_tree(raw.data(), root, "run").unwrap(), None);
        assert!(entry_tree(b"100644 x\0short", root, "y").is_err());
    }
}
