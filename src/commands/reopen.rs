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
    let store = context.store()?;
    super::check_identity(context, &store)?;
    let given = UpdateRequest {
        reason: args.reason.clone(),
        ..UpdateRequest::default()
    };
    super::check_incident(&store, &args.id, &given, "REASON")?;
    let reason = super::main_text(
        context,
        &store,
        (args.reason, args.file, args.edit),
        ("REASON", "why it is reopened"),
        &mut false,
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
