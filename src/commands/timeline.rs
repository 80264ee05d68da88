use incident::render::incident::timeline;
use incident::{Error, Result};

use crate::cli::Context;

/// Print an incident's timeline, sorted by when things happened.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident timeline k3f9\n  incident timeline k3f9 --format csv > timeline.csv"
)]
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
    let incident = store.load(&config, &tree, &folder)?;
    context.print(&timeline(
        &incident,
        context.format,
        &context.style(&config)?,
    )?)
}
