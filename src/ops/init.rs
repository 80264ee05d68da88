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
    let (config_text, zone_warning) = config_for_this_machine();
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
                    content: config_text.as_bytes().to_vec(),
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
        warnings: zone_warning.into_iter().chain(committed.warnings).collect(),
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

/// The default config with the machine's time zone by name, so that every
/// clone reads `--at 03:15` as the same instant and prints the same times
/// (`local` would mean each machine's own zone); UTC, with a warning, when
/// the machine's zone has no IANA name.
fn config_for_this_machine() -> (String, Option<String>) {
    const LINE: &str = "\ntimezone = \"UTC\"\n";
    let (zone, warning) = match crate::time::machine_zone_name() {
        Some(zone) => (zone, None),
        None => (
            "UTC".to_string(),
            Some(
                "this machine's time zone has no IANA name (TZ holds a rule); wrote timezone = \"UTC\" in incidents/config.toml: set your team's zone there, such as \"Europe/Berlin\""
                    .to_string(),
            ),
        ),
    };
    let text = DEFAULT_CONFIG.replacen(LINE, &format!("\ntimezone = \"{zone}\"\n"), 1);
    (text, warning)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_template_names_its_zone_once() {
        assert_eq!(
            crate::config::DEFAULT_CONFIG
                .matches("\ntimezone = \"UTC\"\n")
                .count(),
            1
        );
    }
}
