use std::path::PathBuf;

use incident::Result;
use incident::ops::update::UpdateRequest;

use crate::cli::Context;

/// Reopen a resolved incident: impact came back.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident reopen k3f9 --reason \"errors are back after the cache expired\""
)]
pub struct Args {
    /// Incident id, unique id prefix, or a fragment of its title's slug.
    pub id: String,
    /// Why it is reopened (`-` reads it from standard input).
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
    /// When impact came back (default: now).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub at: Option<String>,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let (store, reason) = super::reason_for(
        context,
        &args.id,
        (args.reason, args.file, args.edit),
        "why it is reopened",
    )?;

    let request = UpdateRequest {
        reopen: true,
        reason,
        at: args.at,
        verb: Some("Reopen".into()),
        ..UpdateRequest::default()
    };
    let outcome = super::record(context, &store, &args.id, &request, "REASON", &|_| {
        Ok(Vec::new())
    })?;
    super::print_update(context, &outcome)
}
