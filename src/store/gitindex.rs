//! git's index file (`.git/index`), read once and rewritten as cheaply as
//! git does: only the entries of incident's own paths change.
//!
//! libgit2 read the whole index twice per command (once for the clean-path
//! check, once for staging), verified its checksum each time (git does not,
//! outside `git fsck`) and re-serialised every entry; on an ops repository
//! with 57,000 entries that was three quarters of `incident update`. Here the
//! file is read once, entries are located by binary search, and a write
//! copies the untouched bytes around the changed entries (versions 2 and 3;
//! version 4 re-encodes its prefix-compressed paths) and appends git's
//! SHA-1 (or the null id under `index.skipHash`).
//!
//! Extensions: the cache tree (`TREE`) is kept, with the folders on the way
//! to each changed path invalidated as git does; resolve-undo (`REUC`), the
//! untracked cache (`UNTR`, which checks folder mtimes, and every changed
//! path changes its folder) and the sparse-index marker (`sdir`) are kept;
//! the end-of-entries and offset tables (`EOIE`, `IEOT`) and the fsmonitor
//! bitmap (`FSMN`), which count entry positions, are dropped for git to
//! rebuild, as are optional extensions git would not know either. A split
//! index (`link`) is reported by [`IndexFile::is_split`]: the caller lets
//! `git update-index` write it.

use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

use git2::Oid;
use sha1::{Digest, Sha1};

use crate::error::{Error, Result};

const SIGNATURE: &[u8; 4] = b"DIRC";
const HEADER_LEN: usize = 12;
const OID_LEN: usize = 20;
/// ctime, mtime, dev, ino, mode, uid, gid, size (4 bytes each), oid, flags.
const FIXED_LEN: usize = 40 + OID_LEN + 2;
const FLAG_EXTENDED: u16 = 0x4000;
const FLAG_ASSUME_VALID: u16 = 0x8000;
const EXT_SKIP_WORKTREE: u16 = 0x4000;
const EXT_INTENT_TO_ADD: u16 = 0x2000;

/// The stat data git keeps per entry (truncated to 32 bits, as git does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stat {
    pub ctime: (u32, u32),
    pub mtime: (u32, u32),
    pub dev: u32,
    pub ino: u32,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u32,
}

impl Stat {
    /// From a file's metadata, with the mode git records for it.
    pub fn from_metadata(meta: &std::fs::Metadata) -> Stat {
        use std::os::unix::fs::MetadataExt;
        let mode = if meta.file_type().is_symlink() {
            0o120000
        } else if meta.mode() & 0o111 != 0 {
            0o100755
        } else {
            0o100644
        };
        Stat {
            ctime: (meta.ctime() as u32, meta.ctime_nsec() as u32),
            mtime: (meta.mtime() as u32, meta.mtime_nsec() as u32),
            dev: meta.dev() as u32,
            ino: meta.ino() as u32,
            mode,
            uid: meta.uid(),
            gid: meta.gid(),
            size: meta.len() as u32,
        }
    }
}

/// One index entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: Vec<u8>,
    pub oid: Oid,
    pub stat: Stat,
    pub stage: u8,
    pub assume_valid: bool,
    pub skip_worktree: bool,
    pub intent_to_add: bool,
}

impl Entry {
    /// A stage-0 entry for a file incident just wrote.
    pub fn new(path: &str, oid: Oid, stat: Stat) -> Entry {
        Entry {
            path: path.as_bytes().to_vec(),
            oid,
            stat,
            stage: 0,
            assume_valid: false,
            skip_worktree: false,
            intent_to_add: false,
        }
    }

    /// A sparse-index folder entry (`dir/`, mode 040000).
    pub fn is_sparse_dir(&self) -> bool {
        self.stat.mode == 0o040000 && self.path.ends_with(b"/")
    }
}

/// Where an entry lies.
#[derive(Debug, Clone)]
struct Located {
    /// Byte range of the whole entry in the file.
    raw: Range<usize>,
    /// Byte range of its path: in the file (v2, v3) or in `paths` (v4).
    path: Range<usize>,
}

/// A change to one path: `Some` puts that stage-0 entry, `None` removes every stage.
pub type Update = (String, Option<Entry>);

// The bytes of an index: mapped (as git maps it), or in memory.
use super::files::FileBytes as Bytes;

/// An index file, read once.
pub struct IndexFile {
    pub path: PathBuf,
    bytes: Bytes,
    version: u32,
    entries: Vec<Located>,
    /// Decoded paths of a version-4 index.
    paths: Vec<u8>,
    /// (signature, byte range of the data) of each extension.
    extensions: Vec<([u8; 4], Range<usize>)>,
    /// The index file's own mtime: entries not older than it are "racy".
    pub mtime: Option<(i64, i64)>,
}

fn be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn be16(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

impl IndexFile {
    /// An index with no entries (a repository whose index was never written).
    pub fn empty(path: &Path) -> IndexFile {
        IndexFile {
            path: path.to_path_buf(),
            bytes: Bytes::Owned(Vec::new()),
            version: 2,
            entries: Vec::new(),
            paths: Vec::new(),
            extensions: Vec::new(),
            mtime: None,
        }
    }

    /// Read the index at `path`; a missing file is an empty index. The file
    /// is mapped, not copied: git replaces an index by renaming a new file
    /// over it, never by rewriting it in place.
    pub fn read(path: &Path) -> Result<IndexFile> {
        use std::os::unix::fs::MetadataExt;
        let Some(file) = super::files::open_regular(path)? else {
            return Ok(IndexFile::empty(path));
        };
        let meta = file.metadata().map_err(crate::error::io_err(path))?;
        // Mapped: see above; the caller holds index.lock while it writes.
        let bytes = super::files::map_or_read(&file, path)?;
        let mut index = IndexFile::parse(path, bytes)?;
        index.mtime = Some((meta.mtime(), meta.mtime_nsec()));
        Ok(index)
    }

    fn parse(path: &Path, bytes: Bytes) -> Result<IndexFile> {
        let bad = |reason: String| Error::UnsupportedIndex {
            path: path.to_path_buf(),
            reason,
        };
        if bytes.len() < HEADER_LEN + OID_LEN || &bytes[..4] != SIGNATURE {
            return Err(bad("it is not a git index (no DIRC header)".into()));
        }
        let version = be32(&bytes, 4);
        if !(2..=4).contains(&version) {
            return Err(bad(format!(
                "index version {version} is unknown to incident"
            )));
        }
        let count = be32(&bytes, 8) as usize;
        let end = bytes.len() - OID_LEN;
        let mut entries = Vec::with_capacity(count);
        let mut paths = Vec::new();
        let mut at = HEADER_LEN;
        let mut previous: Range<usize> = 0..0;
        for _ in 0..count {
            let start = at;
            if at + FIXED_LEN > end {
                return Err(bad("it ends in the middle of an entry".into()));
            }
            let flags = be16(&bytes, at + FIXED_LEN - 2);
            at += FIXED_LEN;
            if flags & FLAG_EXTENDED != 0 {
                if version < 3 {
                    return Err(bad("a version-2 entry has extended flags".into()));
                }
                at += 2;
            }
            let path_range = if version == 4 {
                let (strip, used) = read_varint(&bytes[at..end])
                    .ok_or_else(|| bad("a path prefix length is corrupt".into()))?;
                at += used;
                let nul = memchr::memchr(0, &bytes[at..end])
                    .ok_or_else(|| bad("a path is not terminated".into()))?;
                let keep = previous
                    .len()
                    .checked_sub(strip as usize)
                    .ok_or_else(|| bad("a path prefix length is corrupt".into()))?;
                let begin = paths.len();
                paths.extend_from_within(previous.start..previous.start + keep);
                paths.extend_from_slice(&bytes[at..at + nul]);
                at += nul + 1;
                let range = begin..paths.len();
                previous = range.clone();
                range
            } else {
                let nul = memchr::memchr(0, &bytes[at..end])
                    .ok_or_else(|| bad("a path is not terminated".into()))?;
                let range = at..at + nul;
                // Entries are padded with NULs to a multiple of eight bytes.
                at = start + ((at - start + nul + 8) & !7);
                range
            };
            if at > end {
                return Err(bad("it ends in the middle of an entry".into()));
            }
            entries.push(Located {
                raw: start..at,
                path: path_range,
            });
        }
        let mut extensions = Vec::new();
        while at + 8 <= end {
            let mut signature = [0u8; 4];
            signature.copy_from_slice(&bytes[at..at + 4]);
            let size = be32(&bytes, at + 4) as usize;
            let data = at + 8..at + 8 + size;
            if data.end > end {
                return Err(bad("an extension runs past the end of the file".into()));
            }
            let mandatory = signature[0].is_ascii_lowercase();
            if mandatory && &signature != b"link" && &signature != b"sdir" {
                return Err(bad(format!(
                    "it has the extension '{}', which incident does not know",
                    String::from_utf8_lossy(&signature)
                )));
            }
            extensions.push((signature, data.clone()));
            at = data.end;
        }
        Ok(IndexFile {
            path: path.to_path_buf(),
            bytes,
            version,
            entries,
            paths,
            extensions,
            mtime: None,
        })
    }

    /// A split index (`core.splitIndex`): its entries live partly in a
    /// shared index file, and git writes it.
    pub fn is_split(&self) -> bool {
        self.extensions.iter().any(|(s, _)| s == b"link")
    }

    /// A sparse index (`sdir`): folders outside the sparse checkout are single entries.
    pub fn is_sparse(&self) -> bool {
        self.extensions.iter().any(|(s, _)| s == b"sdir")
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn path_of(&self, located: &Located) -> &[u8] {
        if self.version == 4 {
            &self.paths[located.path.clone()]
        } else {
            &self.bytes[located.path.clone()]
        }
    }

    /// The entry at position `i`.
    pub fn entry(&self, i: usize) -> Entry {
        let located = &self.entries[i];
        let b = &self.bytes;
        let at = located.raw.start;
        let flags = be16(b, at + FIXED_LEN - 2);
        let extended = if flags & FLAG_EXTENDED != 0 {
            be16(b, at + FIXED_LEN)
        } else {
            0
        };
        Entry {
            path: self.path_of(located).to_vec(),
            oid: Oid::from_bytes(&b[at + 40..at + 40 + OID_LEN]).unwrap_or(Oid::ZERO_SHA1),
            stat: Stat {
                ctime: (be32(b, at), be32(b, at + 4)),
                mtime: (be32(b, at + 8), be32(b, at + 12)),
                dev: be32(b, at + 16),
                ino: be32(b, at + 20),
                mode: be32(b, at + 24),
                uid: be32(b, at + 28),
                gid: be32(b, at + 32),
                size: be32(b, at + 36),
            },
            stage: ((flags >> 12) & 3) as u8,
            assume_valid: flags & FLAG_ASSUME_VALID != 0,
            skip_worktree: extended & EXT_SKIP_WORKTREE != 0,
            intent_to_add: extended & EXT_INTENT_TO_ADD != 0,
        }
    }

    /// The first position whose path is not less than `path` (git's order:
    /// bytes, then stage; every stage of a path sits together).
    fn lower_bound(&self, path: &[u8]) -> usize {
        self.entries
            .partition_point(|located| self.path_of(located) < path)
    }

    /// Positions of every entry (any stage) for exactly `path`.
    pub fn find(&self, path: &str) -> Range<usize> {
        let start = self.lower_bound(path.as_bytes());
        let mut end = start;
        while end < self.entries.len() && self.path_of(&self.entries[end]) == path.as_bytes() {
            end += 1;
        }
        start..end
    }

    /// Positions of the entries for `path` itself and everything below it
    /// as a folder (`path/...`).
    pub fn under(&self, path: &str) -> Range<usize> {
        let exact = self.find(path);
        if !exact.is_empty() {
            return exact;
        }
        let prefix = format!("{path}/");
        let start = self.lower_bound(prefix.as_bytes());
        let mut end = start;
        while end < self.entries.len()
            && self
                .path_of(&self.entries[end])
                .starts_with(prefix.as_bytes())
        {
            end += 1;
        }
        start..end
    }

    /// The sparse-index folder entry that covers `path`, if any.
    pub fn sparse_dir_covering(&self, path: &str) -> Option<Entry> {
        if !self.is_sparse() {
            return None;
        }
        let mut prefix = String::new();
        for component in path.split('/') {
            prefix.push_str(component);
            prefix.push('/');
            let found = self.find(&prefix);
            if !found.is_empty() {
                let entry = self.entry(found.start);
                if entry.is_sparse_dir() {
                    return Some(entry);
                }
            }
        }
        None
    }

    /// Write this index with `updates` applied to `target` (a file the caller
    /// then renames into place). `skip_hash` writes the null checksum, as
    /// git does under `index.skipHash`.
    pub fn write_with(&self, updates: &[Update], target: &Path, skip_hash: bool) -> Result<()> {
        let file = super::files::write_regular(target, &[], 0o666)?;
        let mut out = Hashed::new(std::io::BufWriter::with_capacity(1 << 16, file), skip_hash);
        self.emit(updates, &mut out)
            .and_then(|()| out.finish())
            .and_then(|mut w| w.flush())
            .map_err(crate::error::io_err(target))
    }

    /// The new file's bytes.
    pub fn serialize(&self, updates: &[Update], skip_hash: bool) -> Vec<u8> {
        let mut out = Hashed::new(Vec::with_capacity(self.bytes.len() + 256), skip_hash);
        // Writing to memory cannot fail.
        let _ = self.emit(updates, &mut out);
        out.finish().unwrap_or_default()
    }

    fn emit<W: Write>(&self, updates: &[Update], out: &mut Hashed<W>) -> std::io::Result<()> {
        let mut updates: Vec<&Update> = updates.iter().collect();
        updates.sort_by(|a, b| a.0.cmp(&b.0));
        updates.dedup_by(|later, earlier| later.0 == earlier.0);
        // The new entry list: runs of untouched positions and new entries.
        enum Piece<'a> {
            Keep(Range<usize>),
            New(&'a Entry),
        }
        let mut pieces = Vec::new();
        let mut next = 0;
        let mut count = 0usize;
        for (path, change) in &updates {
            let existing = self.find(path);
            if existing.start > next {
                pieces.push(Piece::Keep(next..existing.start));
                count += existing.start - next;
            }
            next = existing.end.max(next);
            if let Some(entry) = change {
                pieces.push(Piece::New(entry));
                count += 1;
            }
        }
        if next < self.entries.len() {
            pieces.push(Piece::Keep(next..self.entries.len()));
            count += self.entries.len() - next;
        }
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(SIGNATURE);
        header.extend_from_slice(&self.version.to_be_bytes());
        header.extend_from_slice(&(count as u32).to_be_bytes());
        out.put(&header)?;
        let mut previous: Vec<u8> = Vec::new();
        let mut scratch = Vec::new();
        for piece in &pieces {
            match piece {
                Piece::Keep(range) if self.version != 4 => {
                    if !range.is_empty() {
                        let bytes = self.entries[range.start].raw.start
                            ..self.entries[range.end - 1].raw.end;
                        out.put(&self.bytes[bytes])?;
                    }
                }
                Piece::Keep(range) => {
                    for located in &self.entries[range.clone()] {
                        let path = self.path_of(located);
                        let extended = be16(&self.bytes, located.raw.start + FIXED_LEN - 2)
                            & FLAG_EXTENDED
                            != 0;
                        let fixed_end =
                            located.raw.start + FIXED_LEN + if extended { 2 } else { 0 };
                        scratch.clear();
                        scratch.extend_from_slice(&self.bytes[located.raw.start..fixed_end]);
                        push_v4_path(&mut scratch, &previous, path);
                        out.put(&scratch)?;
                        previous.clear();
                        previous.extend_from_slice(path);
                    }
                }
                Piece::New(entry) => {
                    scratch.clear();
                    encode(&mut scratch, entry, self.version, &previous);
                    out.put(&scratch)?;
                    if self.version == 4 {
                        previous.clear();
                        previous.extend_from_slice(&entry.path);
                    }
                }
            }
        }
        let changed: Vec<&str> = updates.iter().map(|(p, _)| p.as_str()).collect();
        for (signature, data) in &self.extensions {
            let kept = match signature {
                b"TREE" => Some(invalidate_cache_tree(&self.bytes[data.clone()], &changed)),
                b"REUC" | b"UNTR" | b"sdir" | b"link" => Some(self.bytes[data.clone()].to_vec()),
                _ => None,
            };
            if let Some(kept) = kept {
                out.put(signature)?;
                out.put(&(kept.len() as u32).to_be_bytes())?;
                out.put(&kept)?;
            }
        }
        Ok(())
    }

    /// Whether the file ends in the null checksum (written under `index.skipHash`).
    pub fn skips_hash(&self) -> bool {
        self.bytes.len() >= OID_LEN && self.bytes[self.bytes.len() - OID_LEN..] == [0u8; OID_LEN]
    }
}

/// A whole index of `entries` (sorted here), version 2, or 3 when an entry
/// needs extended flags; with git's checksum.
pub fn serialize_full(entries: &mut [Entry]) -> Vec<u8> {
    entries.sort_by(|a, b| a.path.cmp(&b.path).then(a.stage.cmp(&b.stage)));
    let version: u32 = if entries.iter().any(|e| e.skip_worktree || e.intent_to_add) {
        3
    } else {
        2
    };
    let mut out = Vec::with_capacity(HEADER_LEN + entries.len() * 96 + OID_LEN);
    out.extend_from_slice(SIGNATURE);
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    for entry in entries.iter() {
        encode(&mut out, entry, version, &[]);
    }
    let digest = Sha1::digest(&out);
    out.extend_from_slice(&digest);
    out
}

/// A writer that hashes what passes through it, for git's trailing checksum.
struct Hashed<W: Write> {
    inner: W,
    hasher: Option<Sha1>,
}

impl<W: Write> Hashed<W> {
    fn new(inner: W, skip_hash: bool) -> Hashed<W> {
        Hashed {
            inner,
            hasher: (!skip_hash).then(Sha1::new),
        }
    }

    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if let Some(hasher) = &mut self.hasher {
            hasher.update(bytes);
        }
        self.inner.write_all(bytes)
    }

    /// Append the checksum (or the null id) and hand back the writer.
    fn finish(mut self) -> std::io::Result<W> {
        let trailer: [u8; OID_LEN] = match self.hasher.take() {
            Some(hasher) => hasher.finalize().into(),
            None => [0u8; OID_LEN],
        };
        self.inner.write_all(&trailer)?;
        Ok(self.inner)
    }
}

/// Append one entry in the on-disk form of `version`.
fn encode(out: &mut Vec<u8>, entry: &Entry, version: u32, previous: &[u8]) {
    let start = out.len();
    let s = &entry.stat;
    for value in [
        s.ctime.0, s.ctime.1, s.mtime.0, s.mtime.1, s.dev, s.ino, s.mode, s.uid, s.gid, s.size,
    ] {
        out.extend_from_slice(&value.to_be_bytes());
    }
    out.extend_from_slice(entry.oid.as_bytes());
    let extended = (entry.skip_worktree || entry.intent_to_add) && version >= 3;
    let mut flags = (entry.path.len().min(0xfff) as u16) | (u16::from(entry.stage & 3) << 12);
    if entry.assume_valid {
        flags |= FLAG_ASSUME_VALID;
    }
    if extended {
        flags |= FLAG_EXTENDED;
    }
    out.extend_from_slice(&flags.to_be_bytes());
    if extended {
        let mut more = 0u16;
        if entry.skip_worktree {
            more |= EXT_SKIP_WORKTREE;
        }
        if entry.intent_to_add {
            more |= EXT_INTENT_TO_ADD;
        }
        out.extend_from_slice(&more.to_be_bytes());
    }
    if version == 4 {
        push_v4_path(out, previous, &entry.path);
    } else {
        out.extend_from_slice(&entry.path);
        let len = out.len() - start;
        let padded = (len + 8) & !7;
        out.resize(start + padded, 0);
    }
}

/// A version-4 path: how many bytes of the previous path to drop, then the rest.
fn push_v4_path(out: &mut Vec<u8>, previous: &[u8], path: &[u8]) {
    let common = previous
        .iter()
        .zip(path)
        .take_while(|(a, b)| a == b)
        .count();
    write_varint(out, (previous.len() - common) as u64);
    out.extend_from_slice(&path[common..]);
    out.push(0);
}

/// git's offset varint (varint.c): big-endian groups of 7 bits, each
/// continuation adding one.
fn read_varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut iter = bytes.iter();
    let mut c = *iter.next()?;
    let mut value = u64::from(c & 0x7f);
    let mut used = 1;
    while c & 0x80 != 0 {
        c = *iter.next()?;
        value = value.checked_add(1)?.checked_shl(7)? | u64::from(c & 0x7f);
        used += 1;
    }
    Some((value, used))
}

fn write_varint(out: &mut Vec<u8>, mut value: u64) {
    let mut buf = [0u8; 16];
    let mut pos = buf.len() - 1;
    buf[pos] = (value & 0x7f) as u8;
    loop {
        value >>= 7;
        if value == 0 {
            break;
        }
        value -= 1;
        pos -= 1;
        buf[pos] = 0x80 | (value & 0x7f) as u8;
    }
    out.extend_from_slice(&buf[pos..]);
}

/// A cache-tree node: `name\0COUNT SUBTREES\n[oid]`, children in order.
struct TreeNode {
    name: Vec<u8>,
    entry_count: i64,
    oid: Option<[u8; OID_LEN]>,
    children: Vec<TreeNode>,
}

fn parse_tree_node(data: &[u8], at: &mut usize) -> Option<TreeNode> {
    let nul = memchr::memchr(0, &data[*at..])?;
    let name = data[*at..*at + nul].to_vec();
    *at += nul + 1;
    let newline = memchr::memchr(b'\n', &data[*at..])?;
    let line = std::str::from_utf8(&data[*at..*at + newline]).ok()?;
    *at += newline + 1;
    let (count, subtrees) = line.split_once(' ')?;
    let entry_count: i64 = count.parse().ok()?;
    let subtrees: usize = subtrees.parse().ok()?;
    let oid = if entry_count >= 0 {
        let mut oid = [0u8; OID_LEN];
        oid.copy_from_slice(data.get(*at..*at + OID_LEN)?);
        *at += OID_LEN;
        Some(oid)
    } else {
        None
    };
    let mut children = Vec::with_capacity(subtrees);
    for _ in 0..subtrees {
        children.push(parse_tree_node(data, at)?);
    }
    Some(TreeNode {
        name,
        entry_count,
        oid,
        children,
    })
}

fn write_tree_node(out: &mut Vec<u8>, node: &TreeNode) {
    out.extend_from_slice(&node.name);
    out.push(0);
    out.extend_from_slice(format!("{} {}\n", node.entry_count, node.children.len()).as_bytes());
    if let (true, Some(oid)) = (node.entry_count >= 0, node.oid) {
        out.extend_from_slice(&oid);
    }
    for child in &node.children {
        write_tree_node(out, child);
    }
}

/// git's `cache_tree_invalidate_path`: every folder on the way to the path
/// loses its tree id (and a subtree at the path itself goes).
fn invalidate(node: &mut TreeNode, path: &[u8]) {
    node.entry_count = -1;
    node.oid = None;
    match memchr::memchr(b'/', path) {
        Some(slash) => {
            let (name, rest) = (&path[..slash], &path[slash + 1..]);
            if let Some(child) = node.children.iter_mut().find(|c| c.name == name) {
                invalidate(child, rest);
            }
        }
        None => node.children.retain(|c| c.name != path),
    }
}

/// The `TREE` extension with `paths` invalidated; an unreadable one is
/// replaced by an invalid root, which git rebuilds. One pass that copies
/// the nodes it leaves alone (an ops repository has thousands of folders);
/// the rare path that names a folder of the cache tree takes the slow way.
fn invalidate_cache_tree(data: &[u8], paths: &[&str]) -> Vec<u8> {
    invalidate_in_one_pass(data, paths).unwrap_or_else(|| invalidate_parsed(data, paths))
}

fn invalidate_in_one_pass(data: &[u8], paths: &[&str]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len());
    // The folder path of the current node, with a trailing `/`.
    let mut prefix: Vec<u8> = Vec::new();
    // For each open node: the prefix length before it, children still to come.
    let mut open: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    loop {
        let start = at;
        let nul = memchr::memchr(0, data.get(at..)?)?;
        let name = &data[at..at + nul];
        at += nul + 1;
        let newline = memchr::memchr(b'\n', data.get(at..)?)?;
        let line = std::str::from_utf8(&data[at..at + newline]).ok()?;
        at += newline + 1;
        let (count, subtrees) = line.split_once(' ')?;
        let count: i64 = count.parse().ok()?;
        let subtrees: usize = subtrees.parse().ok()?;
        let end = at + if count >= 0 { OID_LEN } else { 0 };
        if end > data.len() {
            return None;
        }
        let before = prefix.len();
        if !open.is_empty() {
            prefix.extend_from_slice(name);
            if paths.iter().any(|p| p.as_bytes() == prefix.as_slice()) {
                return None;
            }
            prefix.push(b'/');
        }
        if paths.iter().any(|p| p.as_bytes().starts_with(&prefix)) {
            out.extend_from_slice(name);
            out.push(0);
            out.extend_from_slice(format!("-1 {subtrees}\n").as_bytes());
        } else {
            out.extend_from_slice(&data[start..end]);
        }
        at = end;
        if subtrees > 0 {
            open.push((before, subtrees));
            continue;
        }
        prefix.truncate(before);
        // Close every node whose last child this was.
        loop {
            let Some((len, left)) = open.last_mut() else {
                return (at == data.len()).then_some(out);
            };
            *left -= 1;
            if *left > 0 {
                break;
            }
            let len = *len;
            open.pop();
            prefix.truncate(len);
            if open.is_empty() {
                return (at == data.len()).then_some(out);
            }
        }
    }
}

fn invalidate_parsed(data: &[u8], paths: &[&str]) -> Vec<u8> {
    let mut at = 0;
    let mut root = match parse_tree_node(data, &mut at) {
        Some(root) if at == data.len() => root,
        _ => TreeNode {
            name: Vec::new(),
            entry_count: -1,
            oid: None,
            children: Vec::new(),
        },
    };
    for path in paths {
        invalidate(&mut root, path.as_bytes());
    }
    let mut out = Vec::with_capacity(data.len());
    write_tree_node(&mut out, &root);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_as_git_writes_them() {
        for value in [0u64, 1, 127, 128, 255, 16511, 16512, 1 << 40] {
            let mut out = Vec::new();
            write_varint(&mut out, value);
            assert_eq!(read_varint(&out), Some((value, out.len())), "{value}");
        }
        let mut out = Vec::new();
        write_varint(&mut out, 128);
        assert_eq!(out, [0x80, 0x00]);
    }

    fn node(name: &str, children: Vec<TreeNode>) -> TreeNode {
        TreeNode {
            name: name.as_bytes().to_vec(),
            entry_count: 2 + children.len() as i64,
            oid: Some([name.len() as u8; OID_LEN]),
            children,
        }
    }

    #[test]
    fn one_pass_invalidation_matches_the_parsed_one() {
        let root = node(
            "",
            vec![
                node(
                    "a",
                    vec![node("x", vec![]), node("y", vec![node("deep", vec![])])],
                ),
                node("b", vec![node("z", vec![node("w", vec![])])]),
                node("c", vec![]),
                node("incidents", vec![node("2026", vec![node("11", vec![])])]),
            ],
        );
        let mut data = Vec::new();
        write_tree_node(&mut data, &root);
        for paths in [
            vec!["b/z/w/f.toml"],
            vec!["a/y/g", "c/new/file"],
            vec!["incidents/2026/11/abc-x/events/e.toml", "top.txt"],
            vec!["a/y/deep/f", "a/x/f", "b/f"],
            vec![],
        ] {
            let fast = invalidate_in_one_pass(&data, &paths).expect("one pass");
            assert_eq!(fast, invalidate_parsed(&data, &paths), "{paths:?}");
        }
        assert!(
            invalidate_in_one_pass(&data, &["a/y"]).is_none(),
            "a folder path"
        );
    }

    #[test]
    fn cache_tree_invalidation_keeps_unrelated_folders() {
        let mut data = Vec::new();
        let oid = [7u8; OID_LEN];
        let root = TreeNode {
            name: vec![],
            entry_count: 3,
            oid: Some(oid),
            children: vec![
                TreeNode {
                    name: b"a".to_vec(),
                    entry_count: 1,
                    oid: Some(oid),
                    children: vec![],
                },
                TreeNode {
                    name: b"b".to_vec(),
                    entry_count: 2,
                    oid: Some(oid),
                    children: vec![],
                },
            ],
        };
        write_tree_node(&mut data, &root);
        for out in [
            invalidate_cache_tree(&data, &["b/x.toml"]),
            invalidate_parsed(&data, &["b/x.toml"]),
        ] {
            let mut at = 0;
            let parsed = parse_tree_node(&out, &mut at).unwrap();
            assert_eq!(at, out.len());
            assert_eq!(parsed.entry_count, -1);
            assert_eq!(parsed.children[0].entry_count, 1);
            assert_eq!(parsed.children[1].entry_count, -1);
        }
        assert_eq!(
            invalidate_cache_tree(&data, &["b/x.toml"]),
            invalidate_parsed(&data, &["b/x.toml"])
        );
        // A path naming a folder of the cache tree drops that folder.
        let out = invalidate_cache_tree(&data, &["a"]);
        let mut at = 0;
        let parsed = parse_tree_node(&out, &mut at).unwrap();
        assert_eq!(parsed.children.len(), 1);
    }
}
