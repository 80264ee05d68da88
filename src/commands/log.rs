use incident::ops::history;
use incident::render::incident::log;
use incident::{Error, Result};

use crate::cli::Context;

/// The audit trail of one incident from git history: every commit that
/// changed its files, who made it, when, and what it changed.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  incident log k3f9\n  incident log k3f9 --format json")]
pub struct Args {
    /// Incident id, unique id prefix, or a fragment of its title's slug.
    pub id: String,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let store = context.store()?;
    let config = store.config()?;
    let tree = store.head_tree()?.ok_or(Error::NotFound {
        query: args.id.clone(),
    })?;
    let folder = store.find(&tree, &args.id)?;
    if store.repo.is_shallow() {
        // The oldest commit of a shallow clone seems to add every file.
        context.warn(
            "this clone is shallow: history before its oldest commit is missing, so the commit shown as adding the incident may not be the one that did; `git fetch --unshallow` fetches the rest (GitHub Actions: fetch-depth: 0; GitLab CI: GIT_DEPTH: 0)",
        );
    }
    let entries = history::log(&store, &folder)?;
    context.print(&log(&entries, context.format, &context.style(&config)?)?)
}
