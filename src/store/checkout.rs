//! Checking out what `incident sync` integrated, so that a killed sync
//! leaves nothing behind.
//!
//! Sync writes the files an integration changed into the working tree with
//! libgit2's checkout (which applies `.gitattributes` filters and updates
//! those files' index entries), then moves the branch. Before the first
//! file is written, a journal in the git folder names the branch, both
//! commits and every path; it goes once the branch has moved. A killed sync
//! leaves the journal, and the next incident writer, which holds the writer
//! lock, puts those paths back as HEAD has them: HEAD is either commit
//! (the branch moved or it did not), so that is right in both cases. A file
//! whose content is neither side's was written by someone after the crash,
//! and stays as it is.
//!
//! This is the commit path's journal (`store/write.rs`) for a different
//! kind of write: its paths are arbitrary project files, not incident's
//! own, and they are put back through checkout so filters apply.

use std::fs;
use std::path::{Path, PathBuf};

use git2::build::CheckoutBuilder;
use git2::{DiffOptions, ErrorCode, Oid, Tree};

use super::Store;
use crate::error::{Error, Result, io_err};

const JOURNAL_FILE: &str = "incident-sync-journal";
const JOURNAL_HEADER: &str = "incident sync checkout";

/// One integration to check out: the branch moves from `from` to `to`, and
/// `paths` (repository-relative, as git stores them) are the files that differ.
pub struct Integration<'a> {
    pub branch_ref: &'a str,
    pub from: Oid,
    pub to: Oid,
    pub paths: &'a [Vec<u8>],
    /// The reflog message of the branch's move.
    pub reflog: &'a str,
}

impl Store {
    /// Write `integration.paths` as `to` has them, then move the branch
    /// from `from` to `to` (a compare-and-swap). The caller holds the
    /// writer lock and has checked that the user changed none of the paths.
    /// `false` when the branch had moved meanwhile (someone committed);
    /// then, as on any error, the paths are back as HEAD has them.
    pub fn check_out_integration(&self, integration: &Integration<'_>) -> Result<bool> {
        let journal = Journal::new(self.repo.path());
        if !integration.paths.is_empty() {
            journal.write(integration)?;
        }
        let outcome = self.check_out_and_move(integration);
        if !matches!(outcome, Ok(true)) && !integration.paths.is_empty() {
            // Should putting back fail, the journal stays for the next writer.
            self.put_back(integration.from, integration.to, integration.paths)?;
        }
        journal.remove()?;
        outcome
    }

    fn check_out_and_move(&self, integration: &Integration<'_>) -> Result<bool> {
        if !integration.paths.is_empty() {
            let tree = self.repo.find_commit(integration.to)?.tree()?;
            let mut builder = CheckoutBuilder::new();
            builder.safe().disable_pathspec_match(true);
            for path in integration.paths {
                builder.path(path.as_slice());
            }
            self.repo
                .checkout_tree(tree.as_object(), Some(&mut builder))?;
        }
        match self.repo.reference_matching(
            integration.branch_ref,
            integration.to,
            true,
            integration.from,
            integration.reflog,
        ) {
            Ok(_) => Ok(true),
            Err(e) if matches!(e.code(), ErrorCode::Modified | ErrorCode::Locked) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Finish what a killed sync left: put its paths back as HEAD has them.
    /// Runs under the writer lock, before any other write.
    pub(crate) fn recover_sync_checkout(&self) -> Result<()> {
        let journal = Journal::new(self.repo.path());
        let Some(interrupted) = journal.read()? else {
            return Ok(());
        };
        self.put_back(interrupted.from, interrupted.to, &interrupted.paths)?;
        journal.remove()
    }

    /// Make each of `paths` what HEAD has, in the working tree and the
    /// index, where the working tree holds either side's version; leave
    /// files with any other content alone.
    fn put_back(&self, from: Oid, to: Oid, paths: &[Vec<u8>]) -> Result<()> {
        let head = self.head_tree()?;
        let mut ours: Vec<&Vec<u8>> = Vec::new();
        let mut unmatched = paths.iter().collect::<Vec<_>>();
        for side in [from, to] {
            let tree = match self.repo.find_commit(side) {
                Ok(commit) => commit.tree()?,
                Err(e) if e.code() == ErrorCode::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            let differ = self.differ_from_workdir(&tree, &unmatched)?;
            let (same, other): (Vec<&Vec<u8>>, Vec<&Vec<u8>>) =
                unmatched.iter().partition(|p| !differ.contains(**p));
            ours.extend(same);
            unmatched = other;
        }
        // Checkout writes each file in place: a kill in the middle of one
        // leaves the start of `to`'s content.
        if let Ok(tree) = self.repo.find_commit(to).and_then(|c| c.tree()) {
            for path in unmatched {
                if self.is_start_of(&tree, path)? {
                    ours.push(path);
                }
            }
        }
        let mut restore = Vec::new();
        let mut remove = Vec::new();
        for path in ours {
            let in_head = match &head {
                Some(tree) => match tree.get_path(&path_of(path)) {
                    Ok(_) => true,
                    Err(e) if e.code() == ErrorCode::NotFound => false,
                    Err(e) => return Err(e.into()),
                },
                None => false,
            };
            if in_head {
                restore.push(path);
            } else {
                remove.push(path);
            }
        }
        if let (Some(tree), false) = (&head, restore.is_empty()) {
            let mut builder = CheckoutBuilder::new();
            builder.force().disable_pathspec_match(true);
            for path in &restore {
                builder.path(path.as_slice());
            }
            self.repo
                .checkout_tree(tree.as_object(), Some(&mut builder))?;
        }
        if !remove.is_empty() {
            self.remove_files(&remove)?;
        }
        Ok(())
    }

    /// Whether the working-tree file at `path` is a regular file holding
    /// the first bytes (maybe none) of `tree`'s version.
    fn is_start_of(&self, tree: &Tree<'_>, path: &[u8]) -> Result<bool> {
        let entry = match tree.get_path(&path_of(path)) {
            Ok(entry) => entry,
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        let file = self.workdir().join(path_of(path));
        match fs::symlink_metadata(&file) {
            Ok(meta) if meta.is_file() => {}
            _ => return Ok(false),
        }
        let Ok(blob) = self.repo.find_blob(entry.id()) else {
            return Ok(false);
        };
        let written = fs::read(&file).map_err(io_err(&file))?;
        Ok(blob.content().starts_with(&written))
    }

    /// Of `paths`, those whose working-tree content (after git's filters)
    /// differs from `tree`'s, a file absent on one side included.
    fn differ_from_workdir(&self, tree: &Tree<'_>, paths: &[&Vec<u8>]) -> Result<Vec<Vec<u8>>> {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        let mut options = DiffOptions::new();
        options
            .include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(true)
            .include_typechange(true)
            .disable_pathspec_match(true);
        for path in paths {
            options.pathspec(path.as_slice());
        }
        let diff = self
            .repo
            .diff_tree_to_workdir(Some(tree), Some(&mut options))?;
        let mut differ = Vec::new();
        for delta in diff.deltas() {
            for file in [delta.old_file(), delta.new_file()] {
                if let Some(path) = file.path_bytes() {
                    differ.push(path.to_vec());
                }
            }
        }
        Ok(differ)
    }

    /// Delete files HEAD does not have (and their index entries), and the
    /// folders that leaves empty.
    fn remove_files(&self, paths: &[&Vec<u8>]) -> Result<()> {
        for path in paths {
            let file = self.workdir().join(path_of(path));
            match fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&file)(e)),
            }
            let mut folder = file.parent();
            while let Some(dir) = folder.filter(|d| *d != self.workdir()) {
                if fs::remove_dir(dir).is_err() {
                    break;
                }
                folder = dir.parent();
            }
        }
        let mut index = self.repo.index()?;
        index.read(false)?;
        let mut changed = false;
        for path in paths {
            let path = path_of(path);
            if index.get_path(&path, 0).is_some() {
                index.remove_path(&path)?;
                changed = true;
            }
        }
        if changed {
            index.write()?;
        }
        Ok(())
    }
}

#[cfg(unix)]
fn path_of(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn path_of(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

/// `.git/incident-sync-journal`: a header, `from`, `to`, then one path a
/// line, each byte outside printable ASCII (and `%`) written as `%XX`.
struct Journal {
    path: PathBuf,
}

struct Interrupted {
    from: Oid,
    to: Oid,
    paths: Vec<Vec<u8>>,
}

impl Journal {
    fn new(git_dir: &Path) -> Journal {
        Journal {
            path: git_dir.join(JOURNAL_FILE),
        }
    }

    fn write(&self, integration: &Integration<'_>) -> Result<()> {
        let mut text = format!(
            "{JOURNAL_HEADER}\nbranch {}\nfrom {}\nto {}\n",
            integration.branch_ref, integration.from, integration.to
        );
        for path in integration.paths {
            text.push_str(&escape(path));
            text.push('\n');
        }
        let temp = self.path.with_extension("tmp");
        let file = super::files::write_own(&temp, text.as_bytes(), 0o666)?;
        super::ownfiles::shared_for(&temp)?.adjust(&temp)?;
        file.sync_all().map_err(io_err(&temp))?;
        fs::rename(&temp, &self.path).map_err(io_err(&self.path))
    }

    fn read(&self) -> Result<Option<Interrupted>> {
        let Some(text) = super::files::read_regular(&self.path)? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&text);
        let mut lines = text.lines();
        let unreadable = || Error::InvalidInput {
            message: format!(
                "{} is not a journal this version of incident wrote; if no incident sync is running, delete it",
                self.path.display()
            ),
        };
        let field = |line: Option<&str>, name: &str| -> Result<Oid> {
            line.and_then(|l| l.strip_prefix(name))
                .and_then(|l| l.strip_prefix(' '))
                .and_then(|id| Oid::from_str(id).ok())
                .ok_or_else(unreadable)
        };
        if lines.next() != Some(JOURNAL_HEADER) {
            return Err(unreadable());
        }
        lines
            .next()
            .filter(|l| l.starts_with("branch "))
            .ok_or_else(unreadable)?;
        let from = field(lines.next(), "from")?;
        let to = field(lines.next(), "to")?;
        let paths = lines
            .filter(|l| !l.is_empty())
            .map(unescape)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(unreadable)?;
        Ok(Some(Interrupted { from, to, paths }))
    }

    fn remove(&self) -> Result<()> {
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&self.path)(e)),
        }
    }
}

fn escape(path: &[u8]) -> String {
    let mut out = String::with_capacity(path.len());
    for &byte in path {
        if (0x21..0x7f).contains(&byte) && byte != b'%' {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn unescape(line: &str) -> Option<Vec<u8>> {
    let bytes = line.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_paths_survive_any_bytes() {
        for path in [
            b"incidents/2026/11/k3f9x2-db/events/a.toml".to_vec(),
            b"docs/with space/100%.md".to_vec(),
            b"odd\nname\xff".to_vec(),
        ] {
            assert_eq!(unescape(&escape(&path)), Some(path.clone()));
            assert!(!escape(&path).contains('\n'));
        }
        assert_eq!(unescape("bad%G1"), None);
    }
}
