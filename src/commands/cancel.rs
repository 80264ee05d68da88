use std::path::PathBuf;

use incident::ops::update::UpdateRequest;
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
    /// Why it was no incident (`-` reads it from standard input).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// The reason from a file (`-F -` reads standard input).
    #[arg(
        short = 'F',
        long = "file",
        value_name = "FILE",
        conflicts_with = "reason"
    )]
    pub file: Option<PathBuf>,
    /// Write the reason in your editor (the one git uses).
    #[arg(short = 'e', long)]
    pub edit: bool,
    /// The incident this one duplicates.
    #[arg(long, value_name = "ID", conflicts_with_all = ["reason", "file", "edit"])]
    pub duplicate_of: Option<String>,
    /// When it was cancelled (default: now).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub at: Option<String>,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let (store, reason) = super::reason_for(
        context,
        &args.id,
        (args.reason, args.file, args.edit),
        "why it was no incident",
    )?;

    let (status, verb) = match (&reason, &args.duplicate_of) {
        (_, Some(_)) => ("duplicate", "Mark duplicate"),
        (Some(_), None) => ("cancelled", "Cancel"),
        (None, None) => {
            return Err(Error::MissingInput {
                what: "a reason".into(),
                flag: "--reason TEXT (or -F FILE, -e) or --duplicate-of ID".into(),
            });
        }
    };
    let request = UpdateRequest {
        status: Some(status.into()),
        reason,
        duplicate_of: args.duplicate_of,
        at: args.at,
        verb: Some(verb.into()),
        ..UpdateRequest::default()
    };
    let outcome = super::record(context, &store, &args.id, &request, "REASON", &|_| {
        Ok(Vec::new())
    })?;
    super::print_update(context, &outcome)
}
