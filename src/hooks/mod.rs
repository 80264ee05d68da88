//! Event hooks: the user's commands, run after incident's commit with the
//! event as JSON on standard input (git's `post-commit` model: a hook can
//! not change the outcome, the commit always stands).
//!
//! Not to be confused with *git* hooks (`pre-commit` and friends), which
//! git runs and which live in `.git/hooks/`.
//!
//! - [`config`]: where hooks are defined, and trusting the versioned file.
//! - [`payload`]: what a hook gets, built from the files a commit added.
//! - [`runner`]: running one hook with a timeout, the log and the retry queue.
//! - [`webhook`]: the built-in sender, signed per Standard Webhooks.

pub mod central;
pub mod config;
pub mod payload;
pub mod runner;
pub mod webhook;

use std::path::PathBuf;

use crate::store::Store;

/// Environment variable that turns hooks off (`INCIDENT_HOOKS=0`).
pub const ENV_SWITCH: &str = "INCIDENT_HOOKS";
/// How deep hooks may nest: a hook runs `incident update`, whose hooks run
/// another command, and so on. Past this depth hooks are skipped, so a hook
/// that records an event on the incident that triggered it cannot loop.
pub const MAX_DEPTH: u32 = 3;
/// Set for every hook process: its nesting depth (1 for a hook of a command
/// a person ran).
pub const ENV_DEPTH: &str = "INCIDENT_HOOK_DEPTH";

/// Whether the environment switched hooks off.
pub fn disabled_by_env() -> bool {
    std::env::var(ENV_SWITCH).is_ok_and(|v| {
        let v = v.trim().to_ascii_lowercase();
        v == "0" || v == "false" || v == "off" || v == "no"
    })
}

/// The nesting depth of this process: 0 unless a hook started it.
pub fn current_depth() -> u32 {
    std::env::var(ENV_DEPTH)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// `.git/incident/` of the clone (shared by its worktrees): the per-clone
/// hooks file, the trust file, the log and the queue live there.
pub fn state_dir(store: &Store) -> PathBuf {
    store.repo.commondir().join("incident")
}
