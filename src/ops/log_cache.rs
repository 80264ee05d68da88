//! What `incident log` learned from git, kept for the next run.
//!
//! `git log -- FOLDER` walks the whole history: half a second at 100,000
//! commits. Its answer for one tip never changes, since commits never do,
//! so it is kept in `.git/incident/log-v1/`, one file per folder, with the
//! tip it is for and a key of everything else that shapes git's output:
//! the arguments, git's whole config, the `GIT_*` environment and the git
//! program itself.
//!
//! When HEAD has moved on from the kept tip by commits of one parent each
//! (what `update`, `declare` and a fast-forward over a linear branch make),
//! git is asked about the new commits only (`TIP ^KEPT`). That is exact: a
//! single-parent commit is shown when it differs from its parent, whatever
//! the parent's side of the walk, and a chain of them is listed before
//! everything it descends from, so the new commits come first and the kept
//! answer follows unchanged. A merge among the new commits (where git's
//! history simplification depends on which parents the walk may enter), a
//! tip that is not a descendant, or a longer way back than
//! [`LINEAR_STEPS`] means the whole walk again. Replace refs, grafts and a
//! shallow boundary change what a commit's parents are without changing the
//! commit, so in such a repository nothing is kept.
//!
//! Deleting the folder is always safe; a damaged file is not trusted.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use git2::{ObjectType, Oid, Repository};
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::store::{Store, ownfiles};

const CACHE_DIR: &str = "incident/log-v1";
const MAGIC: &str = "incident log cache v1";
/// How many single-parent commits back from HEAD the kept tip is looked for.
const LINEAR_STEPS: usize = 1000;

/// A kept answer: git's output for `tip`, that of the walk and that of
/// the listing of the merges' files.
pub(crate) struct Kept {
    pub tip: Oid,
    pub walk: Vec<u8>,
    pub merges: Vec<u8>,
}

/// Whether git's answers may be kept in this repository at all.
pub(crate) fn allowed(store: &Store) -> bool {
    let repo = &store.repo;
    if repo.is_shallow()
        || std::env::var_os("GIT_GRAFT_FILE").is_some()
        || std::env::var_os("GIT_REPLACE_REF_BASE").is_some()
        || repo.commondir().join("info/grafts").exists()
    {
        return false;
    }
    match repo.references_glob("refs/replace/*") {
        Ok(mut refs) => refs.next().is_none(),
        Err(_) => false,
    }
}

/// The key of everything but the tip that shapes git's output.
pub(crate) fn key(store: &Store, args: &[String]) -> Result<String> {
    let mut hasher = Sha256::new();
    for arg in args {
        hasher.update(arg.as_bytes());
        hasher.update([0]);
    }
    hasher.update(b"\0config\0");
    hasher.update(store.git_config()?.settings_bytes());
    hasher.update(b"\0git\0");
    hasher.update(git_program().as_bytes());
    hasher.update(b"\0environment\0");
    let mut environment: Vec<_> = std::env::vars_os()
        .filter(|(name, _)| name.as_encoded_bytes().starts_with(b"GIT_"))
        .collect();
    environment.sort();
    for (name, value) in environment {
        hasher.update(name.as_encoded_bytes());
        hasher.update([b'=']);
        hasher.update(value.as_encoded_bytes());
        hasher.update([0]);
    }
    Ok(hex(&hasher.finalize()))
}

/// The `git` that PATH finds, by path, size and modification time: a
/// new git (whose output could differ) misses the cache.
fn git_program() -> String {
    let Some(path) = std::env::var_os("PATH") else {
        return String::new();
    };
    std::env::split_paths(&path)
        .map(|dir| dir.join("git"))
        .find_map(|program| {
            let meta = std::fs::metadata(&program).ok()?;
            let modified = meta
                .modified()
                .ok()?
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?;
            // What exec finds: the first executable file of that name.
            let runnable = meta.is_file() && meta.permissions().mode() & 0o111 != 0;
            runnable.then(|| {
                format!(
                    "{} {} {}",
                    program.display(),
                    meta.len(),
                    modified.as_nanos()
                )
            })
        })
        .unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn path_for(store: &Store, folder: &str) -> PathBuf {
    let name = hex(&Sha256::digest(folder.as_bytes())[..16]);
    store.repo.commondir().join(CACHE_DIR).join(name)
}

/// The kept answer for `folder` under `key`, if there is a sound one.
pub(crate) fn read(store: &Store, folder: &str, key: &str) -> Option<Kept> {
    let bytes = ownfiles::read(&path_for(store, folder)).ok()??;
    parse(&bytes, folder, key)
}

fn parse(bytes: &[u8], folder: &str, key: &str) -> Option<Kept> {
    let mut rest = bytes;
    let mut line = || {
        let end = memchr::memchr(b'\n', rest)?;
        let (text, after) = rest.split_at(end);
        rest = &after[1..];
        std::str::from_utf8(text).ok()
    };
    if line()? != MAGIC
        || line()?.strip_prefix("folder ")? != folder
        || line()?.strip_prefix("key ")? != key
    {
        return None;
    }
    let tip = Oid::from_str(line()?.strip_prefix("tip ")?).ok()?;
    let walk_length: usize = line()?.strip_prefix("walk ")?.parse().ok()?;
    let sum = line()?.strip_prefix("sha256 ")?.to_string();
    if hex(&Sha256::digest(rest)) != sum || walk_length > rest.len() {
        return None;
    }
    let (walk, merges) = rest.split_at(walk_length);
    Some(Kept {
        tip,
        walk: walk.to_vec(),
        merges: merges.to_vec(),
    })
}

/// Keep git's answer; a cache that cannot be written is only slower next
/// time.
pub(crate) fn save(store: &Store, folder: &str, key: &str, kept: &Kept) {
    let bytes = file(folder, key, &kept.tip.to_string(), &kept.walk, &kept.merges);
    let _ = ownfiles::write(&path_for(store, folder), &bytes);
}

fn file(folder: &str, key: &str, tip: &str, walk: &[u8], merges: &[u8]) -> Vec<u8> {
    let mut body = walk.to_vec();
    body.extend_from_slice(merges);
    let sum = hex(&Sha256::digest(&body));
    let mut bytes = format!(
        "{MAGIC}\nfolder {folder}\nkey {key}\ntip {tip}\nwalk {}\nsha256 {sum}\n",
        walk.len()
    )
    .into_bytes();
    bytes.extend_from_slice(&body);
    bytes
}

/// Whether `kept` is reached from `tip` through commits of one parent each
/// (`tip` included), in at most [`LINEAR_STEPS`] steps.
pub(crate) fn linear_since(repo: &Repository, tip: Oid, kept: Oid) -> bool {
    let Ok(odb) = repo.odb() else {
        return false;
    };
    let mut id = tip;
    for _ in 0..LINEAR_STEPS {
        match only_parent(&odb, id) {
            Some(parent) if parent == kept => return true,
            Some(parent) => id = parent,
            None => return false,
        }
    }
    false
}

/// A commit's parent when it has exactly one.
fn only_parent(odb: &git2::Odb<'_>, id: Oid) -> Option<Oid> {
    let object = odb.read(id).ok()?;
    if object.kind() != ObjectType::Commit {
        return None;
    }
    let mut parents = object
        .data()
        .split(|&b| b == b'\n')
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.strip_prefix(b"parent "));
    let first = parents.next()?;
    if parents.next().is_some() {
        return None;
    }
    Oid::from_str(std::str::from_utf8(first).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIP: &str = "0123456789abcdef0123456789abcdef01234567";
    const FOLDER: &str = "incidents/2026/01/ab";

    #[test]
    fn a_sound_file_is_read_back() {
        let bytes = file(FOLDER, "k", TIP, b"\x1eone\0two\n", b"\x1emerge");
        let kept = parse(&bytes, FOLDER, "k").expect("kept");
        assert_eq!(kept.tip.to_string(), TIP);
        assert_eq!(kept.walk, b"\x1eone\0two\n");
        assert_eq!(kept.merges, b"\x1emerge");
    }

    #[test]
    fn another_folder_key_or_a_damaged_file_is_not_trusted() {
        let bytes = file(FOLDER, "k", TIP, b"walk", b"merges");
        assert!(parse(&bytes, "incidents/2026/01/ac", "k").is_none());
        assert!(parse(&bytes, FOLDER, "other").is_none());
        assert!(parse(&bytes[..bytes.len() - 1], FOLDER, "k").is_none());
        let mut longer = bytes.clone();
        longer.push(b'x');
        assert!(parse(&longer, FOLDER, "k").is_none());
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(parse(&flipped, FOLDER, "k").is_none());
        assert!(parse(&file(FOLDER, "k", "not-hex", b"walk", b""), FOLDER, "k").is_none());
        let text = String::from_utf8(bytes).unwrap();
        let too_long = text.replace("walk 4\n", "walk 99\n");
        assert!(parse(too_long.as_bytes(), FOLDER, "k").is_none());
        assert!(parse(b"", FOLDER, "k").is_none());
    }
}
