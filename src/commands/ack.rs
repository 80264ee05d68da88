use incident::Result;
use incident::ops::update::{UpdateRequest, update};

use crate::cli::Context;

/// Acknowledge an incident: record the `acknowledged` milestone and, from
/// triage, start investigating.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident ack k3f9\n  incident ack k3f9 --at 03:07 -m \"paged, looking\""
)]
pub struct Args {
    /// Incident id, unique id prefix, or a fragment of its title's slug.
    pub id: String,
    /// When it was acknowledged (default: now).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// A timeline note (repeatable).
    #[arg(short = 'm', long = "note", value_name = "TEXT")]
    pub notes: Vec<String>,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let request = UpdateRequest {
        acknowledge: true,
        notes: args.notes,
        at: args.at,
        verb: Some("Acknowledge".into()),
        ..UpdateRequest::default()
    };
    let outcome = update(&context.store()?, &args.id, &request, context.now()?)?;
    super::print_update(context, &outcome)
}
