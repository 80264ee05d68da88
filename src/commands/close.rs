use incident::Result;
use incident::ops::close::{CloseRequest, close};

use crate::cli::Context;

/// Close an incident. Incidents whose severity needs a postmortem close only
/// once it is published (merged into the default branch) and passes
/// `incident postmortem check`; `--force --reason` overrides that and records
/// the override in the timeline.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident close k3f9\n  incident close k3f9 --force \\\n      --reason \"postmortem held in the vendor's tracker\""
)]
pub struct Args {
    /// Incident id, unique id prefix, or a fragment of its title's slug.
    pub id: String,
    /// Close without a published, passing postmortem.
    #[arg(long, requires = "reason")]
    pub force: bool,
    /// Why (required with --force).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let store = context.store()?;
    let outcome = close(
        &store,
        &args.id,
        &CloseRequest {
            force: args.force,
            reason: args.reason,
        },
        context.now()?,
    )?;
    for overridden in &outcome.overridden {
        context.warn(&format!("closed anyway: {overridden}"));
    }
    if let Some(why) = &outcome.milestone_unknown {
        context.warn(&format!("postmortem_published was not recorded: {why}"));
    }
    super::print_update(context, &outcome.update)
}
