//! `incident init`: make a folder an incident repository.

use std::path::{Path, PathBuf};

use git2::{Repository, RepositoryInitOptions};

use super::commit_message;
use crate::config::DEFAULT_CONFIG;
use crate::error::{Result, io_err};
use crate::store::write::{FileWrite, Plan};
use crate::store::{CONFIG_PATH, Store, read_blob};
use crate::time::Timestamp;

#[derive(Debug)]
pub struct InitOutcome {
    /// The repository's working tree.
    pub workdir: PathBuf,
    /// Whether `git init` ran because there was no repository.
    pub created_repository: bool,
    /// The commit that added the config; `None` when it was there already.
    pub commit: Option<git2::Oid>,
    pub branch: String,
    pub warnings: Vec<String>,
}

/// Create the repository if needed and commit the default config, or do
/// nothing when the config is committed already.
pub fn init(path: &Path, now: Timestamp) -> Result<InitOutcome> {
    std::fs::create_dir_all(path).map_err(io_err(path))?;
    let created_repository = match Repository::discover(path) {
        Ok(_) => false,
        Err(e) if e.code() == git2::ErrorCode::NotFound => {
            let mut options = RepositoryInitOptions::new();
            options.initial_head(&default_branch());
            Repository::init_opts(path, &options)?;
            true
        }
        Err(e) => return Err(e.into()),
    };
    let store = Store::open(path)?;
    let branch = store.ensure_writable()?;
    let committed = store
        .head_tree()?
        .map(|tree| read_blob(&store.repo, &tree, CONFIG_PATH))
        .transpose()?
        .flatten()
        .is_some();
    if committed {
        return Ok(InitOutcome {
            workdir: store.workdir().to_path_buf(),
            created_repository,
            commit: None,
            branch: branch.trim_start_matches("refs/heads/").to_string(),
            warnings: Vec::new(),
        });
    }
    let (committed, ()) = store.commit_with(now, |_| {
        Ok((
            Plan {
                message: commit_message(
                    "Initialise incident repository",
                    &[
                        "Adds incidents/config.toml: severities, lifecycle, milestones and roles."
                            .into(),
                    ],
                    &[("Incident-Event", "init".into())],
                ),
                files: vec![FileWrite {
                    path: CONFIG_PATH.into(),
                    content: DEFAULT_CONFIG.as_bytes().to_vec(),
                }],
                guard: vec![CONFIG_PATH.into()],
            },
            (),
        ))
    })?;
    Ok(InitOutcome {
        workdir: store.workdir().to_path_buf(),
        created_repository,
        commit: Some(committed.commit),
        branch: committed.branch,
        warnings: committed.warnings,
    })
}

/// `init.defaultBranch` from the user's git config, else `main`.
fn default_branch() -> String {
    git2::Config::open_default()
        .and_then(|c| c.get_string("init.defaultBranch"))
        .ok()
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| "main".into())
}
