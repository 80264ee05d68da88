//! The listing cache of month folders, `.git/incident/folders-v2`.
//!
//! It holds the names and tree ids of the subfolders of month trees, by the
//! month tree's id: naming an incident then reads one small file and the
//! year trees instead of every month's tree, and reading an incident starts
//! at its folder's tree. A tree id names its content, so an entry is never
//! stale; months not seen in the last listing are dropped. Deleting the
//! file is always safe, and a file that cannot be read or written is
//! ignored.
//!
//! The file is one block per month, `tree <month tree id>` and then a line
//! `<folder tree id> <folder name>` per folder. It is read as it is: a
//! month's lines are split only when that month is listed, and a folder's
//! tree id is parsed only for the folders the caller keeps. So at 10,000
//! incidents naming one costs a read of the file, not 10,000 parsed and
//! allocated entries (and every write names its incident twice).

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use git2::Oid;

use super::ownfiles;

const FILE: &str = "incident/folders-v2";
const HEADER: &[u8] = b"incident folder listing v2\n";
const MONTH: &[u8] = b"tree ";

#[derive(Debug, Default)]
pub struct FolderCache {
    /// The file as read.
    text: Vec<u8>,
    /// Months in the file: the byte range of their folder lines in `text`.
    stored: HashMap<Oid, Range<usize>>,
    /// Months read from their trees in this process.
    fresh: HashMap<Oid, Vec<(String, Oid)>>,
    /// Months listed since [`FolderCache::start_listing`].
    used: std::collections::HashSet<Oid>,
    /// Whether the file no longer says what this cache holds.
    changed: bool,
}

/// A folder line's (name, tree id).
fn entry(line: &[u8]) -> Option<(&str, FolderId<'_>)> {
    let space = memchr::memchr(b' ', line)?;
    let name = std::str::from_utf8(&line[space + 1..]).ok()?;
    Some((name, FolderId::Hex(&line[..space])))
}

/// A folder's tree id as the cache holds it: parsed on request.
pub enum FolderId<'a> {
    Hex(&'a [u8]),
    Parsed(Oid),
}

impl FolderId<'_> {
    /// `None` for a line damaged by hand.
    pub fn oid(&self) -> Option<Oid> {
        match self {
            FolderId::Hex(hex) => std::str::from_utf8(hex)
                .ok()
                .and_then(|h| Oid::from_str(h).ok()),
            FolderId::Parsed(oid) => Some(*oid),
        }
    }
}

impl FolderCache {
    pub fn load(git_dir: &Path) -> FolderCache {
        let mut cache = FolderCache::default();
        let Some(text) = ownfiles::read(&git_dir.join(FILE)).ok().flatten() else {
            return cache;
        };
        if !text.starts_with(HEADER) {
            return cache;
        }
        // Month lines start a block; folder lines start with a hex id, so
        // "\ntree " is only ever a month line.
        let body = HEADER.len();
        let mut starts: Vec<usize> = Vec::new();
        if text[body..].starts_with(MONTH) {
            starts.push(body);
        }
        starts.extend(memchr::memmem::find_iter(&text[body..], b"\ntree ").map(|at| body + at + 1));
        for (n, &start) in starts.iter().enumerate() {
            let block_end = starts.get(n + 1).copied().unwrap_or(text.len());
            let line_end =
                memchr::memchr(b'\n', &text[start..block_end]).map_or(block_end, |at| start + at);
            let month = std::str::from_utf8(&text[start + MONTH.len()..line_end])
                .ok()
                .and_then(|hex| Oid::from_str(hex).ok());
            if let Some(month) = month {
                cache
                    .stored
                    .insert(month, (line_end + 1).min(block_end)..block_end);
            }
        }
        cache.text = text;
        cache
    }

    /// Forget which months were listed: a listing marks those it uses, and
    /// [`FolderCache::finish_listing`] drops the rest.
    pub fn start_listing(&mut self) {
        self.used.clear();
    }

    pub fn has(&self, month: Oid) -> bool {
        self.stored.contains_key(&month) || self.fresh.contains_key(&month)
    }

    /// The (name, tree id) of a month's folders (none if unknown) whose
    /// names contain `containing` (all when it is empty), marking the month
    /// as still used. Lines with no space or a name that is not UTF-8 are
    /// skipped: they name no folder incident could read.
    pub fn get(&mut self, month: Oid, containing: &str) -> Vec<(&str, FolderId<'_>)> {
        self.used.insert(month);
        let mut found: Vec<(&str, FolderId<'_>)> = self
            .fresh
            .get(&month)
            .into_iter()
            .flatten()
            .filter(|(name, _)| name.contains(containing))
            .map(|(name, oid)| (name.as_str(), FolderId::Parsed(*oid)))
            .collect();
        let Some(range) = self.stored.get(&month) else {
            return found;
        };
        let block = &self.text[range.clone()];
        if containing.is_empty() {
            found.extend(block.split(|&b| b == b'\n').filter_map(entry));
            return found;
        }
        // Only the lines the text occurs in, found by one scan of the block
        // (a hit in a line's tree id is filtered out by the name test).
        let mut next_line = 0;
        for at in memchr::memmem::find_iter(block, containing.as_bytes()) {
            if at < next_line {
                continue;
            }
            let start = memchr::memrchr(b'\n', &block[..at]).map_or(0, |p| p + 1);
            let end = memchr::memchr(b'\n', &block[at..]).map_or(block.len(), |p| at + p);
            next_line = end + 1;
            if let Some((name, id)) = entry(&block[start..end])
                && name.contains(containing)
            {
                found.push((name, id));
            }
        }
        found
    }

    pub fn put(&mut self, month: Oid, names: Vec<(String, Oid)>) {
        self.changed = true;
        self.used.insert(month);
        self.fresh.insert(month, names);
    }

    /// Drop the months the listing did not use.
    pub fn finish_listing(&mut self) {
        let before = self.stored.len() + self.fresh.len();
        let used = &self.used;
        self.stored.retain(|month, _| used.contains(month));
        self.fresh.retain(|month, _| used.contains(month));
        self.changed |= self.stored.len() + self.fresh.len() != before;
    }

    /// Write the file again if it no longer says what this cache holds.
    pub fn save(&mut self, git_dir: &Path) {
        if !self.changed {
            return;
        }
        let mut out = HEADER.to_vec();
        for (month, range) in &self.stored {
            out.extend_from_slice(format!("tree {month}\n").as_bytes());
            out.extend_from_slice(&self.text[range.clone()]);
            if !out.ends_with(b"\n") {
                out.push(b'\n');
            }
        }
        for (month, names) in &self.fresh {
            out.extend_from_slice(format!("tree {month}\n").as_bytes());
            for (name, folder) in names {
                // Names with a line break cannot be incident folders.
                if !name.contains('\n') {
                    out.extend_from_slice(format!("{folder} {name}\n").as_bytes());
                }
            }
        }
        // A cache: one that cannot be written is only slower next time.
        if ownfiles::write(&git_dir.join(FILE), &out).is_ok() {
            self.changed = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).expect("oid")
    }

    fn listed(cache: &mut FolderCache, month: Oid) -> Vec<(String, Option<Oid>)> {
        listed_containing(cache, month, "")
    }

    fn listed_containing(
        cache: &mut FolderCache,
        month: Oid,
        text: &str,
    ) -> Vec<(String, Option<Oid>)> {
        cache
            .get(month, text)
            .into_iter()
            .map(|(name, id)| (name.to_string(), id.oid()))
            .collect()
    }

    #[test]
    fn what_is_saved_is_read_back_and_unused_months_are_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("incident")).expect("mkdir");
        let mut cache = FolderCache::load(dir.path());
        cache.start_listing();
        cache.put(
            oid(1),
            vec![
                ("k3f9x2-db-down".into(), oid(11)),
                ("m7q2ab-x".into(), oid(12)),
            ],
        );
        cache.put(oid(2), vec![("abc123-a b".into(), oid(21))]);
        cache.put(oid(3), vec![]);
        cache.finish_listing();
        cache.save(dir.path());

        let mut again = FolderCache::load(dir.path());
        assert!(again.has(oid(1)) && again.has(oid(2)) && again.has(oid(3)));
        assert_eq!(
            listed(&mut again, oid(1)),
            vec![
                ("k3f9x2-db-down".to_string(), Some(oid(11))),
                ("m7q2ab-x".to_string(), Some(oid(12)))
            ]
        );
        assert_eq!(
            listed(&mut again, oid(2)),
            vec![("abc123-a b".to_string(), Some(oid(21)))]
        );
        assert_eq!(listed(&mut again, oid(3)), vec![]);
        assert!(listed(&mut again, oid(4)).is_empty());
        // Only names containing the text, whether the text is also in a
        // tree id (0b: oid(11) is 0b0b0b...) or in a name twice.
        assert_eq!(
            listed_containing(&mut again, oid(1), "m7q2"),
            vec![("m7q2ab-x".to_string(), Some(oid(12)))]
        );
        assert!(listed_containing(&mut again, oid(1), "0b").is_empty());
        assert_eq!(listed_containing(&mut again, oid(1), "-").len(), 2);
        assert_eq!(
            listed_containing(&mut again, oid(2), "a"),
            vec![("abc123-a b".to_string(), Some(oid(21)))]
        );
        // Month 3 listed, months 1 and 2 not: only month 3 is kept.
        again.start_listing();
        let _ = listed(&mut again, oid(3));
        again.finish_listing();
        again.save(dir.path());
        let last = FolderCache::load(dir.path());
        assert!(last.has(oid(3)) && !last.has(oid(1)) && !last.has(oid(2)));
    }

    #[test]
    fn damaged_lines_are_skipped_or_give_no_tree_id() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("incident")).expect("mkdir");
        let mut text = format!(
            "incident folder listing v2\ntree nothex\n{} lost\ntree {}\n{} kept\nnot-hex x\nnospace\n",
            oid(9),
            oid(1),
            oid(11)
        )
        .into_bytes();
        text.extend_from_slice(b"00 \xff\n");
        std::fs::write(dir.path().join(FILE), text).expect("write");
        let mut cache = FolderCache::load(dir.path());
        assert_eq!(cache.stored.len(), 1);
        let listed = listed(&mut cache, oid(1));
        assert_eq!(
            listed,
            vec![("kept".to_string(), Some(oid(11))), ("x".to_string(), None)]
        );
        std::fs::write(dir.path().join(FILE), "incident folder listing v1\n").expect("write");
        assert!(FolderCache::load(dir.path()).stored.is_empty());
    }
}
