use incident::ops::update::{UpdateRequest, update};
use incident::{Error, Result};

use crate::cli::Context;

/// Cancel an incident: a false alarm (--reason), or a duplicate of another
/// incident (--duplicate-of).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident cancel k3f9 --reason \"synthetic check misfired\"\n  incident cancel k3f9 --duplicate-of m7q2"
)]
pub struct Args {
    /// Incident id, unique id prefix, or a fragment of its title's slug.
    pub id: String,
    /// Why it was no incident.
    #[arg(long, value_name = "TEXT", required_unless_present = "duplicate_of")]
    pub reason: Option<String>,
    /// The incident this one duplicates.
    #[arg(long, value_name = "ID", conflicts_with = "reason")]
    pub duplicate_of: Option<String>,
    /// When it was cancelled (default: now).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let (status, verb) = match (&args.reason, &args.duplicate_of) {
        (_, Some(_)) => ("duplicate", "Mark duplicate"),
        (Some(_), None) => ("cancelled", "Cancel"),
        (None, None) => {
            return Err(Error::MissingInput {
                what: "a reason".into(),
                flag: "--reason TEXT or --duplicate-of ID".into(),
            });
        }
    };
    let request = UpdateRequest {
        status: Some(status.into()),
        reason: args.reason,
        duplicate_of: args.duplicate_of,
        at: args.at,
        verb: Some(verb.into()),
        ..UpdateRequest::default()
    };
    let outcome = update(&context.store()?, &args.id, &request, context.now()?)?;
    super::print_update(context, &outcome)
}
