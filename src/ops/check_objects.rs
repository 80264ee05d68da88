//! The git objects `check` reads: from the repository, or, for one
//! incident folder, read ahead on the calling thread while another thread
//! checks the folder read before it (libgit2 serialises pack reads, so two
//! threads that each read and check are little faster than one; a reader
//! and a checker side by side are).

use std::borrow::Cow;
use std::collections::HashMap;

use git2::{ObjectType, Oid, Repository, TreeEntry};

use crate::error::{Error, Result};
use crate::model::action::ACTIONS_DIR;
use crate::store::EVENTS_DIR;

/// One entry of a tree, as `check` looks at it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The name, invalid UTF-8 replaced (which `check` reports).
    pub name: String,
    pub kind: Option<ObjectType>,
    pub filemode: i32,
    pub id: Oid,
}

impl Entry {
    pub fn of(entry: &TreeEntry<'_>) -> Entry {
        Entry {
            name: String::from_utf8_lossy(entry.name_bytes()).into_owned(),
            kind: entry.kind(),
            filemode: entry.filemode(),
            id: entry.id(),
        }
    }

    pub fn is_tree(&self) -> bool {
        self.kind == Some(ObjectType::Tree)
    }

    fn is_toml_blob(&self) -> bool {
        self.kind == Some(ObjectType::Blob) && self.name.ends_with(".toml")
    }
}

/// Where trees and blobs come from.
pub(crate) trait Objects {
    fn tree(&self, id: Oid) -> Result<Vec<Entry>>;
    fn blob(&self, id: Oid) -> Result<Cow<'_, [u8]>>;
}

impl Objects for Repository {
    fn tree(&self, id: Oid) -> Result<Vec<Entry>> {
        Ok(self.find_tree(id)?.iter().map(|e| Entry::of(&e)).collect())
    }

    fn blob(&self, id: Oid) -> Result<Cow<'_, [u8]>> {
        Ok(Cow::Owned(self.find_blob(id)?.content().to_vec()))
    }
}

/// The trees and TOML files of one incident folder, read ahead: every
/// object the folder's check asks for (the folder, `events/`, `actions/`
/// and its change folders, and each `.toml` file in them).
#[derive(Debug, Default)]
pub(crate) struct ReadAhead {
    trees: HashMap<Oid, Vec<Entry>>,
    blobs: HashMap<Oid, Vec<u8>>,
}

impl ReadAhead {
    pub fn read(repo: &Repository, folder: Oid) -> Result<ReadAhead> {
        let mut ahead = ReadAhead::default();
        let top = ahead.read_tree(repo, folder)?;
        for entry in &top {
            if entry.is_tree() && (entry.name == EVENTS_DIR || entry.name == ACTIONS_DIR) {
                for inner in ahead.read_tree(repo, entry.id)? {
                    if inner.is_tree() && entry.name == ACTIONS_DIR {
                        ahead.read_tree(repo, inner.id)?;
                    }
                }
            }
        }
        Ok(ahead)
    }

    /// Read a tree and the TOML files directly in it.
    fn read_tree(&mut self, repo: &Repository, id: Oid) -> Result<Vec<Entry>> {
        let entries = Objects::tree(repo, id)?;
        for entry in entries.iter().filter(|e| e.is_toml_blob()) {
            let blob = repo.find_blob(entry.id)?;
            self.blobs.insert(entry.id, blob.content().to_vec());
        }
        self.trees.insert(id, entries.clone());
        Ok(entries)
    }
}

impl Objects for ReadAhead {
    fn tree(&self, id: Oid) -> Result<Vec<Entry>> {
        self.trees.get(&id).cloned().ok_or_else(|| not_read(id))
    }

    fn blob(&self, id: Oid) -> Result<Cow<'_, [u8]>> {
        self.blobs
            .get(&id)
            .map(|bytes| Cow::Borrowed(bytes.as_slice()))
            .ok_or_else(|| not_read(id))
    }
}

/// An object the folder's check asked for that was not read ahead: the
/// folder is then checked again from the repository.
fn not_read(id: Oid) -> Error {
    Error::Git(git2::Error::from_str(&format!(
        "object {id} was not read ahead"
    )))
}
