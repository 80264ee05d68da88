use incident::render::incident::show;
use incident::{Error, Result};

use crate::cli::Context;

/// Show everything about one incident: fields, roles, links, milestones
/// with the durations between them, and the timeline sorted by event time.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident show k3f9\n  incident show checkout-latency --format json | jq .milestones\n  incident show k3f9 --format markdown > k3f9.md"
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
    let mut incident = store.load(&config, &tree, &folder)?;
    // Postmortem publication, found in history (issue 3).
    let postmortem =
        super::postmortem::add_publication(&store, &config, &tree, &folder, &mut incident)?;
    let text = show(&incident, &config, context.format, &context.style(&config)?)?;
    context.print(&super::postmortem::with_state(
        context,
        &config,
        &postmortem,
        text,
    )?)
}
