//! Raw git objects for the report: the tree-entry parser the history walk
//! and the incident reader share, and the reader's handle on the objects.
//!
//! The incident files are read after the history walk, through the same
//! libgit2 object database: one mapping of each pack index (a second
//! library on a second thread mapped every index twice, 40 MB more at
//! 30,000 incidents), and pack windows libgit2 keeps bounded.

use git2::{ObjectType, Odb, Oid};

use crate::error::{Error, Result};

/// A handle on a repository's objects, with the bytes of the last object read.
pub struct Objects<'r> {
    odb: Odb<'r>,
    buffer: Vec<u8>,
}

/// One entry of a tree object, borrowed from its raw bytes.
#[derive(Clone, Copy)]
pub(super) struct Entry<'a> {
    pub(super) name: &'a [u8],
    /// The 20 bytes of the entry's object id.
    pub(super) id: &'a [u8],
    /// The file mode, as the octal digits of the tree object say it.
    pub(super) mode: u32,
}

const MODE_TYPE: u32 = 0o170000;

impl Entry<'_> {
    pub(super) fn is_tree(&self) -> bool {
        self.mode & MODE_TYPE == 0o040000
    }
    /// A file (or symlink): what libgit2 calls a blob entry.
    pub(super) fn is_blob(&self) -> bool {
        !self.is_tree() && self.mode & MODE_TYPE != 0o160000
    }
    pub(super) fn oid(&self) -> Result<Oid> {
        Ok(Oid::from_bytes(self.id)?)
    }
}

/// The entries of a raw tree object (`<octal mode> <name>\0<20-byte id>`
/// each), parsed in place instead of by a git library so that no entry is
/// allocated or copied. Stops at the first malformed entry;
/// whoever reads a tree to its end checks that nothing is left
/// ([`malformed`]).
pub(super) struct Entries<'a> {
    pub(super) rest: &'a [u8],
}

impl<'a> Iterator for Entries<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        let rest = self.rest;
        let space = memchr::memchr(b' ', rest)?;
        let nul = space + 1 + memchr::memchr(0, rest.get(space + 1..)?)?;
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

pub(super) fn entries(data: &[u8]) -> Entries<'_> {
    Entries { rest: data }
}

/// The error for the tree object `id` whose entries do not parse to its end.
pub(super) fn malformed(rest: &[u8], id: Oid) -> Result<()> {
    if rest.is_empty() {
        Ok(())
    } else {
        Err(Error::GitRead {
            message: format!(
                "the tree object {id} is malformed; `git fsck` lists the damaged objects"
            ),
        })
    }
}

/// An entry of a tree, owned.
#[derive(Debug, Clone)]
pub struct Listed {
    pub name: String,
    pub id: Oid,
    pub is_tree: bool,
    /// A file or a symlink.
    pub is_blob: bool,
}

/// The entry named `name` of a listing.
pub fn find<'l>(listing: &'l [Listed], name: &str) -> Option<&'l Listed> {
    listing.iter().find(|e| e.name == name)
}

fn read_error(id: Oid, message: impl std::fmt::Display) -> Error {
    Error::GitRead {
        message: format!("cannot read object {id}: {message}"),
    }
}

impl<'r> Objects<'r> {
    pub fn new(repo: &'r git2::Repository) -> Result<Objects<'r>> {
        Ok(Objects {
            odb: repo.odb()?,
            buffer: Vec::new(),
        })
    }

    /// An object's kind and bytes.
    pub fn read(&mut self, id: Oid) -> Result<(ObjectType, &[u8])> {
        let object = self.odb.read(id).map_err(|e| {
            let message = if e.code() == git2::ErrorCode::NotFound {
                "not in the repository".to_string()
            } else {
                e.message().to_string()
            };
            read_error(id, message)
        })?;
        self.buffer.clear();
        self.buffer.extend_from_slice(object.data());
        Ok((object.kind(), &self.buffer))
    }

    /// A tree object's bytes; another kind of object is an error.
    pub fn tree(&mut self, id: Oid) -> Result<&[u8]> {
        match self.read(id)? {
            (ObjectType::Tree, data) => Ok(data),
            (kind, _) => Err(read_error(id, format!("it is a {kind}, not a tree"))),
        }
    }

    /// A blob's bytes; another kind of object is an error.
    pub fn blob(&mut self, id: Oid) -> Result<&[u8]> {
        match self.read(id)? {
            (ObjectType::Blob, data) => Ok(data),
            (kind, _) => Err(read_error(id, format!("it is a {kind}, not a blob"))),
        }
    }

    /// The entries of a tree whose names are UTF-8 (git2's `name()` gives
    /// no other), in the tree's order.
    pub fn listing(&mut self, id: Oid) -> Result<Vec<Listed>> {
        let data = self.tree(id)?;
        let mut iter = entries(data);
        let mut out = Vec::new();
        for entry in iter.by_ref() {
            let Ok(name) = std::str::from_utf8(entry.name) else {
                continue;
            };
            out.push(Listed {
                name: name.to_string(),
                id: entry.oid()?,
                is_tree: entry.is_tree(),
                is_blob: entry.is_blob(),
            });
        }
        malformed(iter.rest, id)?;
        Ok(out)
    }
}
