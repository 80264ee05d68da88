use incident::Result;
use incident::ops::update::{UpdateRequest, update};

use crate::cli::Context;

/// Reopen a resolved incident: impact came back.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident reopen k3f9 --reason \"errors are back after the cache expired\""
)]
pub struct Args {
    /// Incident id, unique id prefix, or a fragment of its title's slug.
    pub id: String,
    /// Why it is reopened.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// When impact came back (default: now).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let request = UpdateRequest {
        reopen: true,
        reason: args.reason,
        at: args.at,
        verb: Some("Reopen".into()),
        ..UpdateRequest::default()
    };
    let outcome = update(&context.store()?, &args.id, &request, context.now()?)?;
    super::print_update(context, &outcome)
}
