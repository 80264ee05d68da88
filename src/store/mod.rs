//! Where incidents live in the repository, and reading them from git trees.
//!
//! Layout (all under one folder, so the tool touches nothing else):
//!
//! ```text
//! incidents/config.toml
//! incidents/<year>/<month>/<id>-<slug>/incident.toml
//! incidents/<year>/<month>/<id>-<slug>/events/<recorded>-<random>-<kind>.toml
//! ```
//!
//! Incidents are sharded by the month they were declared in, so that no tree
//! grows with the number of incidents ever declared: every write rewrites,
//! and every history scan reads, only small trees.

pub mod commit;
pub mod files;
pub mod gitconfig;
pub mod githooks;
pub mod gitindex;
pub mod gitrefs;
pub mod identity;
pub mod remote;
pub mod signing;
pub mod write;

use std::path::{Path, PathBuf};

use git2::{ObjectType, Repository, Tree};

use crate::config::Config;
use crate::error::{Error, Result, io_err};
use crate::model::event::{Declaration, Event};
use crate::model::id;
use crate::model::incident::Incident;
use crate::tomlfile;

/// The folder that holds everything incident writes.
pub const DATA_DIR: &str = "incidents";
/// The config file, relative to the repository root.
pub const CONFIG_PATH: &str = "incidents/config.toml";
pub const DECLARATION_FILE: &str = "incident.toml";
pub const EVENTS_DIR: &str = "events";

/// An incident's folder, found by listing trees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderRef {
    pub id: String,
    pub slug: String,
    /// Repository-relative path with `/` separators.
    pub path: String,
}

/// An incident repository: a git repository with `incidents/config.toml`.
pub struct Store {
    pub repo: Repository,
    workdir: PathBuf,
    /// The folder the command was started in (for hooks' `GIT_PREFIX`).
    opened_from: PathBuf,
    /// git's effective config, read on first use (see `commit.rs`).
    git_config: std::cell::OnceCell<gitconfig::GitConfig>,
    /// `--no-verify`, `-S`, `--no-gpg-sign`.
    commit_options: commit::CommitOptions,
}

impl Store {
    /// Open the repository that contains `dir` (like git, searching upwards).
    pub fn open(dir: &Path) -> Result<Store> {
        let repo = Repository::discover(dir).map_err(|e| match e.code() {
            git2::ErrorCode::NotFound => Error::NotARepository {
                path: dir.to_path_buf(),
            },
            _ => Error::Git(e),
        })?;
        let workdir = repo
            .workdir()
            .ok_or_else(|| Error::BareRepository {
                path: repo.path().to_path_buf(),
            })?
            .to_path_buf();
        Ok(Store {
            repo,
            workdir,
            opened_from: dir.to_path_buf(),
            git_config: std::cell::OnceCell::new(),
            commit_options: commit::CommitOptions::default(),
        })
    }

    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// The tree at HEAD, or `None` on a branch with no commits yet.
    pub fn head_tree(&self) -> Result<Option<Tree<'_>>> {
        match self.repo.head() {
            Ok(head) => Ok(Some(head.peel_to_tree()?)),
            Err(e)
                if matches!(
                    e.code(),
                    git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The config: the working-tree file, so an edit takes effect at once,
    /// or the committed one when the working tree lacks it.
    pub fn config(&self) -> Result<Config> {
        let on_disk = self.workdir.join(CONFIG_PATH);
        if let Ok(meta) = std::fs::symlink_metadata(&on_disk)
            && (meta.file_type().is_symlink() || !meta.is_file())
        {
            return Err(Error::InvalidInput {
                message: format!(
                    "{CONFIG_PATH} is a symbolic link or not a regular file; incident reads only a plain file there"
                ),
            });
        }
        if let Ok(meta) = std::fs::metadata(&on_disk)
            && meta.len() > tomlfile::MAX_FILE_BYTES as u64
        {
            return Err(Error::FileTooLarge {
                file: CONFIG_PATH.into(),
                size: usize::try_from(meta.len()).unwrap_or(usize::MAX),
                limit: tomlfile::MAX_FILE_BYTES,
            });
        }
        match std::fs::read(&on_disk) {
            Ok(bytes) => return Config::parse(CONFIG_PATH, tomlfile::text(CONFIG_PATH, &bytes)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(on_disk)(e)),
        }
        let tree = self.head_tree()?;
        let bytes = tree
            .as_ref()
            .map(|t| read_blob(&self.repo, t, CONFIG_PATH))
            .transpose()?
            .flatten()
            .ok_or_else(|| Error::NotInitialized {
                config: CONFIG_PATH.into(),
            })?;
        Config::parse(CONFIG_PATH, tomlfile::text(CONFIG_PATH, &bytes)?)
    }

    /// Every incident folder in a tree, newest month first.
    pub fn folders(&self, tree: &Tree<'_>) -> Result<Vec<FolderRef>> {
        list_folders(&self.repo, tree)
    }

    /// Find the one incident a user's query names: an id, a unique id
    /// prefix, or a fragment of the folder's slug.
    pub fn find(&self, tree: &Tree<'_>, query: &str) -> Result<FolderRef> {
        let folders = self.folders(tree)?;
        let wanted = query.trim().to_ascii_lowercase();
        if wanted.is_empty() {
            return Err(Error::NotFound {
                query: query.into(),
            });
        }
        if let Some(exact) = folders.iter().find(|f| f.id == wanted) {
            return Ok(exact.clone());
        }
        let mut matches: Vec<&FolderRef> = folders
            .iter()
            .filter(|f| f.id.starts_with(&wanted))
            .collect();
        if matches.is_empty() {
            matches = folders
                .iter()
                .filter(|f| f.slug.contains(&wanted))
                .collect();
        }
        match matches.as_slice() {
            [] => Err(Error::NotFound {
                query: query.into(),
            }),
            [one] => Ok((*one).clone()),
            many => {
                let config = self.config()?;
                let candidates = many
                    .iter()
                    .map(|f| {
                        let title = self
                            .load(&config, tree, f)
                            .map(|i| i.title)
                            .unwrap_or_else(|_| f.slug.clone());
                        (f.id.clone(), title)
                    })
                    .collect();
                Err(Error::Ambiguous {
                    query: query.into(),
                    candidates,
                })
            }
        }
    }

    /// Read and replay one incident from a tree.
    pub fn load(&self, config: &Config, tree: &Tree<'_>, folder: &FolderRef) -> Result<Incident> {
        let (declaration, events) = self.read_files(tree, folder)?;
        Ok(Incident::replay(
            config,
            &folder.path,
            &declaration,
            &events,
        ))
    }

    /// The declaration and the events of one incident, unreplayed.
    pub fn read_files(
        &self,
        tree: &Tree<'_>,
        folder: &FolderRef,
    ) -> Result<(Declaration, Vec<Event>)> {
        let declaration_path = format!("{}/{DECLARATION_FILE}", folder.path);
        let missing = || Error::Invalid {
            file: declaration_path.clone(),
            line: None,
            field: DECLARATION_FILE.into(),
            message: "the incident folder has no incident.toml".into(),
        };
        // Looked up from the root once; its files from the folder's tree.
        let folder_tree = subtree(&self.repo, tree, &folder.path)?.ok_or_else(missing)?;
        let bytes = read_blob(&self.repo, &folder_tree, DECLARATION_FILE)?.ok_or_else(missing)?;
        let declaration = Declaration::parse(
            &declaration_path,
            tomlfile::text(&declaration_path, &bytes)?,
        )?;
        if declaration.id != folder.id {
            return Err(Error::Invalid {
                file: declaration_path.clone(),
                line: tomlfile::line_of_key(tomlfile::text(&declaration_path, &bytes)?, "id"),
                field: "id".into(),
                message: format!(
                    "id '{}' does not match the folder's id '{}'",
                    declaration.id, folder.id
                ),
            });
        }
        let mut events = Vec::new();
        let events_path = format!("{}/{EVENTS_DIR}", folder.path);
        if let Some(events_tree) = subtree(&self.repo, &folder_tree, EVENTS_DIR)? {
            for_each_toml(
                &self.repo,
                &events_tree,
                &events_path,
                |event_id, file, text| {
                    events.push(Event::parse(file, event_id, text)?);
                    Ok(())
                },
            )?;
        }
        Ok((declaration, events))
    }
}

/// Call `visit(name without .toml, repository path, text)` for each `.toml`
/// file directly in `dir` (whose repository path is `dir_path`).
pub fn for_each_toml(
    repo: &Repository,
    dir: &Tree<'_>,
    dir_path: &str,
    mut visit: impl FnMut(&str, &str, &str) -> Result<()>,
) -> Result<()> {
    for entry in dir.iter() {
        let Ok(name) = entry.name() else { continue };
        let Some(stem) = name.strip_suffix(".toml") else {
            continue;
        };
        if entry.kind() != Some(ObjectType::Blob) {
            continue;
        }
        let file = format!("{dir_path}/{name}");
        let blob = repo.find_blob(entry.id())?;
        visit(stem, &file, tomlfile::text(&file, blob.content())?)?;
    }
    Ok(())
}

/// A blob's bytes at `path` in `tree`, or `None` when there is none.
pub fn read_blob(repo: &Repository, tree: &Tree<'_>, path: &str) -> Result<Option<Vec<u8>>> {
    let entry = match tree.get_path(Path::new(path)) {
        Ok(entry) => entry,
        Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if entry.kind() != Some(ObjectType::Blob) {
        return Ok(None);
    }
    Ok(Some(repo.find_blob(entry.id())?.content().to_vec()))
}

/// The tree at `path` in `tree`, or `None`.
pub fn subtree<'r>(repo: &'r Repository, tree: &Tree<'_>, path: &str) -> Result<Option<Tree<'r>>> {
    let entry = match tree.get_path(Path::new(path)) {
        Ok(entry) => entry,
        Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if entry.kind() != Some(ObjectType::Tree) {
        return Ok(None);
    }
    Ok(Some(repo.find_tree(entry.id())?))
}

/// List `incidents/<yyyy>/<mm>/<id>-<slug>` folders, newest month first.
pub fn list_folders(repo: &Repository, tree: &Tree<'_>) -> Result<Vec<FolderRef>> {
    let mut found = Vec::new();
    let Some(data) = subtree(repo, tree, DATA_DIR)? else {
        return Ok(found);
    };
    let is_number =
        |name: &str, len: usize| name.len() == len && name.bytes().all(|b| b.is_ascii_digit());
    let trees = |t: &Tree<'_>| -> Vec<(String, git2::Oid)> {
        t.iter()
            .filter(|e| e.kind() == Some(ObjectType::Tree))
            .filter_map(|e| e.name().ok().map(|n| (n.to_string(), e.id())))
            .collect()
    };
    for (year, year_id) in trees(&data).into_iter().rev() {
        if !is_number(&year, 4) {
            continue;
        }
        let year_tree = repo.find_tree(year_id)?;
        for (month, month_id) in trees(&year_tree).into_iter().rev() {
            if !is_number(&month, 2) {
                continue;
            }
            let month_tree = repo.find_tree(month_id)?;
            for (name, _) in trees(&month_tree) {
                if let Some((id, slug)) = id::split_folder_name(&name) {
                    found.push(FolderRef {
                        id: id.to_string(),
                        slug: slug.to_string(),
                        path: format!("{DATA_DIR}/{year}/{month}/{name}"),
                    });
                }
            }
        }
    }
    Ok(found)
}
