//! What the history walk learned per commit, kept under `.git/` so the next
//! report reads no history it has read before.
//!
//! Keyed by commit id: a commit's first parent and content never change,
//! so an entry stays true forever; a rebase or a fetch only adds commits
//! that are not in the cache yet. The file starts with a format version; a
//! file of another version, or one that does not parse, is ignored and
//! rewritten.

use std::collections::HashMap;
use std::fs;
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

#[derive(Debug, Default)]
pub struct Cache {
    pub entries: OidMap<CommitDelta>,
}

/// Where the cache lives for a repository (shared by its worktrees).
pub fn cache_path(git_common_dir: &Path) -> PathBuf {
    git_common_dir.join(CACHE_FILE)
}

impl Cache {
    /// Read the cache; a missing, old or damaged file gives an empty cache.
    pub fn load(path: &Path) -> Cache {
        match fs::read(path) {
            Ok(bytes) => decode(&bytes).unwrap_or_default(),
            Err(_) => Cache::default(),
        }
    }

    /// Write the cache atomically (a temporary file renamed over the old one).
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut ids: Vec<&Oid> = self.entries.keys().collect();
        ids.sort();
        // Written as it is encoded, not gathered in memory first.
        write_atomically(path, |out| {
            out.write_all(MAGIC)?;
            out.write_all(&CACHE_VERSION.to_le_bytes())?;
            out.write_all(&(ids.len() as u64).to_le_bytes())?;
            for id in ids {
                let delta = &self.entries[id];
                out.write_all(id.as_bytes())?;
                match delta.parent {
                    Some(p) => {
                        out.write_all(&[1])?;
                        out.write_all(p.as_bytes())?;
                    }
                    None => out.write_all(&[0])?,
                }
                out.write_all(&delta.time.to_le_bytes())?;
                out.write_all(&delta.offset_minutes.to_le_bytes())?;
                put_len(out, delta.added.len())?;
                for path in &delta.added {
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
    let mut entries =
        OidMap::with_capacity_and_hasher(count.min(bytes.len() / 32), Default::default());
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
        entries.insert(
            id,
            CommitDelta {
                parent,
                time,
                offset_minutes,
                added,
            },
        );
    }
    if !r.done() {
        return None;
    }
    Some(Cache { entries })
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
        cache.entries.insert(
            id,
            CommitDelta {
                parent: Some(id),
                time: 42,
                offset_minutes: -60,
                added: vec!["incidents/a".into()],
            },
        );
        cache.save(&path).unwrap();
        assert_eq!(Cache::load(&path).entries, cache.entries);
        let mut bytes = fs::read(&path).unwrap();
        bytes.pop();
        fs::write(&path, &bytes).unwrap();
        assert!(Cache::load(&path).entries.is_empty());
    }
}
