//! `incident init`: make a folder an incident repository.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::commit_message;
use crate::config::DEFAULT_CONFIG;
use crate::error::{Error, Result, io_err};
use crate::store::commit::CommitOptions;
use crate::store::gitconfig::GitConfig;
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
/// nothing when the config is committed already. Concurrent inits of one
/// folder make one repository and one commit.
pub fn init(path: &Path, now: Timestamp, options: &CommitOptions) -> Result<InitOutcome> {
    std::fs::create_dir_all(path).map_err(io_err(path))?;
    let created_repository = create_repository(path)?;
    let store = Store::open(path)?.with_commit_options(options.clone());
    let branch = store.ensure_writable()?;
    let done = |store: &Store, branch: String| InitOutcome {
        workdir: store.workdir().to_path_buf(),
        created_repository,
        commit: None,
        branch: branch.trim_start_matches("refs/heads/").to_string(),
        warnings: Vec::new(),
    };
    if has_config(&store, store.head_tree()?.as_ref())? {
        return Ok(done(&store, branch));
    }
    let (config_text, zone_warning) = config_for_this_machine();
    let message = commit_message(
        "Initialise incident repository",
        &["Adds incidents/config.toml: severities, lifecycle, milestones and roles.".into()],
        &[("Incident-Event", "init".into())],
    );
    // Checked again under the writer lock: another init may have committed meanwhile.
    let (committed, ()) = store.commit_with(now, |attempt| {
        let files = if has_config(&store, attempt.tree)? {
            Vec::new()
        } else {
            vec![FileWrite {
                path: CONFIG_PATH.into(),
                content: config_text.as_bytes().to_vec(),
            }]
        };
        Ok((
            Plan {
                message: message.clone(),
                files,
                guard: vec![CONFIG_PATH.into()],
            },
            (),
        ))
    })?;
    if !committed.made {
        return Ok(done(&store, branch));
    }
    Ok(InitOutcome {
        workdir: store.workdir().to_path_buf(),
        created_repository,
        commit: Some(committed.commit),
        branch: committed.branch,
        warnings: zone_warning.into_iter().chain(committed.warnings).collect(),
    })
}

fn has_config(store: &Store, tree: Option<&git2::Tree<'_>>) -> Result<bool> {
    Ok(tree
        .map(|tree| read_blob(&store.repo, tree, CONFIG_PATH))
        .transpose()?
        .flatten()
        .is_some())
}

/// `git init` where there is no repository yet (so templates, hooks from
/// `init.templateDir` and `init.defaultBranch` are git's), under a lock on
/// the folder itself: concurrent `git init`s of one folder fail on each
/// other's config lock.
fn create_repository(path: &Path) -> Result<bool> {
    let folder = std::fs::File::open(path).map_err(io_err(path))?;
    folder.lock().map_err(io_err(path))?;
    if crate::store::discover(path)?.is_some() {
        return Ok(false);
    }
    let config = GitConfig::load(None, path)?;
    let branch = config
        .get("init.defaultBranch")
        .filter(|b| !b.trim().is_empty())
        .unwrap_or("main")
        .to_string();
    let mut command = Command::new("git");
    command
        .args(["init", "-q", "--initial-branch", &branch])
        .arg(".")
        .current_dir(path)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .stdin(Stdio::null());
    let output = command.output().map_err(|e| Error::GitCommand {
        command: "git init".into(),
        detail: e.to_string(),
    })?;
    if !output.status.success() {
        return Err(Error::GitCommand {
            command: "git init".into(),
            detail: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(true)
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
