//! What the history walk learned per commit, kept under `.git/` so the next
//! report reads no history it has read before.
//!
//! Keyed by commit id: a commit's first parent and content never change,
//! so an entry stays true forever; a rebase or a fetch only adds commits
//! that are not in the cache yet. The file starts with a format version; a
//! file of another version, or one that does not parse, is ignored and
//! rewritten.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use git2::Oid;

use super::wire::{Reader, put_len, put_str, write_atomically};
use crate::error::Result;

const MAGIC: &[u8] = b"incident report cache\n";
/// Bump when what is stored per commit changes meaning.
pub const CACHE_VERSION: u32 = 1;
pub const CACHE_FILE: &str = "incident/report-cache-v1";

/// What one commit did on the first-parent line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitDelta {
    pub parent: Option<Oid>,
    /// Committer time, seconds since the epoch.
    pub time: i64,
    /// Committer UTC offset in minutes.
    pub offset_minutes: i32,
    /// Files under the incidents folder that this commit added (relative to
    /// its first parent).
    pub added: Vec<String>,
}

/// Hashes an object id by folding its bytes: ids are already uniformly
/// spread digests, so SipHash's work (about 1% of a cold report) buys
/// nothing here.
#[derive(Debug, Default, Clone, Copy)]
pub struct OidHasher(u64);

impl std::hash::Hasher for OidHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(23) ^ u64::from_le_bytes(word);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A map keyed by object id.
pub type OidMap<V> = HashMap<Oid, V, std::hash::BuildHasherDefault<OidHasher>>;

/// The cache in memory: what the file held, and what this run read.
/// Sorted vectors instead of a hash map (a third of the memory at 300,000
/// commits, and no rehashing while a cold walk fills it); this run's
/// commits are kept as positions on the line, their parents being the
/// next commit on it.
#[derive(Debug, Default)]
pub struct Cache {
    /// From the file, sorted by commit id.
    loaded: Vec<(Oid, CommitDelta)>,
    fresh: Fresh,
}

/// What this run read from git, in the order of the line.
#[derive(Debug, Default)]
pub struct Fresh {
    pub commits: Vec<FreshCommit>,
    /// Files each commit added: (index into `commits`, paths), only for
    /// the commits that added some.
    pub added: Vec<(u32, Vec<String>)>,
}

/// One commit this run read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreshCommit {
    /// Position on the line (0: the tip).
    pub line_index: u32,
    pub time: i64,
    pub offset_minutes: i16,
    /// False for a commit cut off by a shallow clone: never saved.
    pub keep: bool,
}

/// Where the cache lives for a repository (shared by its worktrees).
pub fn cache_path(git_common_dir: &Path) -> PathBuf {
    git_common_dir.join(CACHE_FILE)
}

impl Cache {
    /// Read the cache; a missing, old or damaged file gives an empty cache.
    pub fn load(path: &Path) -> Cache {
        match crate::store::ownfiles::read(path) {
            Ok(Some(bytes)) => decode(&bytes).unwrap_or_default(),
            _ => Cache::default(),
        }
    }

    /// What the file said about a commit.
    pub fn get(&self, id: &Oid) -> Option<&CommitDelta> {
        self.loaded
            .binary_search_by(|(k, _)| k.cmp(id))
            .ok()
            .map(|i| &self.loaded[i].1)
    }

    /// Add a commit this run read from git.
    pub fn add(&mut self, commit: FreshCommit, added: Vec<String>) {
        if !added.is_empty() {
            self.fresh
                .added
                .push((self.fresh.commits.len() as u32, added));
        }
        self.fresh.commits.push(commit);
    }

    /// This run read commits the file did not have.
    pub fn grew(&self) -> bool {
        self.fresh.commits.iter().any(|c| c.keep)
    }

    /// Commits in the file and kept from this run.
    pub fn len(&self) -> usize {
        self.loaded.len() + self.fresh.commits.iter().filter(|c| c.keep).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The file's entries (sorted by id) and what this run read. Consumes
    /// the cache, so that the walk can take the paths over without
    /// copying them.
    pub fn into_parts(self) -> (Vec<(Oid, CommitDelta)>, Fresh) {
        (self.loaded, self.fresh)
    }

    /// Write the cache atomically (a temporary file renamed over the old
    /// one), keeping only the commits `keep` accepts. `line` is the walk's
    /// line, which this run's commits are positions on.
    pub fn save(&self, path: &Path, line: &[Oid], keep: &dyn Fn(&Oid) -> bool) -> Result<()> {
        // (id, parent, time, offset, added)
        type Entry<'a> = (Oid, Option<Oid>, i64, i32, &'a [String]);
        let mut added = self.fresh.added.iter().peekable();
        let mut all: Vec<Entry<'_>> = self
            .loaded
            .iter()
            .map(|(id, d)| (*id, d.parent, d.time, d.offset_minutes, &d.added[..]))
            .collect();
        for (i, c) in self.fresh.commits.iter().enumerate() {
            let paths = match added.peek() {
                Some((at, paths)) if *at as usize == i => {
                    added.next();
                    &paths[..]
                }
                _ => &[][..],
            };
            let index = c.line_index as usize;
            if c.keep
                && let Some(id) = line.get(index)
            {
                let parent = line.get(index + 1).copied();
                all.push((*id, parent, c.time, i32::from(c.offset_minutes), paths));
            }
        }
        all.retain(|e| keep(&e.0));
        all.sort_unstable_by_key(|e| e.0);
        // Written as it is encoded, not gathered in memory first.
        write_atomically(path, |out| {
            out.write_all(MAGIC)?;
            out.write_all(&CACHE_VERSION.to_le_bytes())?;
            out.write_all(&(all.len() as u64).to_le_bytes())?;
            for (id, parent, time, offset, paths) in all {
                out.write_all(id.as_bytes())?;
                match parent {
                    Some(p) => {
                        out.write_all(&[1])?;
                        out.write_all(p.as_bytes())?;
                    }
                    None => out.write_all(&[0])?,
                }
                out.write_all(&time.to_le_bytes())?;
                out.write_all(&offset.to_le_bytes())?;
                put_len(out, paths.len())?;
                for path in paths {
                    put_str(out, path)?;
                }
            }
            Ok(())
        })
    }
}

fn decode(bytes: &[u8]) -> Option<Cache> {
    let mut r = Reader::new(bytes);
    if r.take(MAGIC.len())? != MAGIC || r.u32()? != CACHE_VERSION {
        return None;
    }
    let count = usize::try_from(r.u64()?).ok()?;
    let mut entries = Vec::with_capacity(count.min(bytes.len() / 32));
    for _ in 0..count {
        let id = r.oid()?;
        let parent = match r.u8()? {
            0 => None,
            1 => Some(r.oid()?),
            _ => return None,
        };
        let time = r.i64()?;
        let offset_minutes = r.i32()?;
        let n = r.len()?;
        let mut added = Vec::with_capacity(n);
        for _ in 0..n {
            added.push(r.str()?.to_string());
        }
        entries.push((
            id,
            CommitDelta {
                parent,
                time,
                offset_minutes,
                added,
            },
        ));
    }
    // Written sorted; a file that is not is not ours.
    if !r.done() || !entries.is_sorted_by(|a, b| a.0 < b.0) {
        return None;
    }
    Some(Cache {
        loaded: entries,
        fresh: Fresh::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c");
        let mut cache = Cache::default();
        let id = Oid::from_str("0123456789012345678901234567890123456789").unwrap();
        let other = Oid::from_str("0023456789012345678901234567890123456789").unwrap();
        let commit = |line_index, keep| FreshCommit {
            line_index,
            time: 42,
            offset_minutes: -60,
            keep,
        };
        cache.add(commit(0, true), vec!["incidents/a".into()]);
        cache.add(commit(1, false), Vec::new());
        assert!(cache.grew());
        cache.save(&path, &[id, other], &|_| true).unwrap();
        let loaded = Cache::load(&path);
        // A commit's parent is the next one on the line.
        let delta = CommitDelta {
            parent: Some(other),
            time: 42,
            offset_minutes: -60,
            added: vec!["incidents/a".into()],
        };
        assert_eq!(loaded.get(&id), Some(&delta));
        // Commits cut off by a shallow clone are not kept.
        assert_eq!(loaded.get(&other), None);
        assert_eq!(loaded.len(), 1);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.pop();
        std::fs::write(&path, &bytes).unwrap();
        assert!(Cache::load(&path).is_empty());
    }
}
