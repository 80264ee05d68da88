use incident::Result;
use incident::ops::update::{UpdateRequest, update_with};

use crate::cli::{Context, prompt};

/// Resolve an incident: move it to `resolved` with what fixed it.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident resolve k3f9 --resolution \"rolled back payments to 1.41\"\n  incident resolve k3f9 --resolution \"certificate renewed\" --at \"2026-11-24 04:10\""
)]
pub struct Args {
    /// Incident id, unique id prefix, or a fragment of its title's slug.
    pub id: String,
    /// What fixed it (asked for on a terminal when missing).
    #[arg(short, long, value_name = "TEXT")]
    pub resolution: Option<String>,
    /// When it was resolved (default: now).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// A timeline note (repeatable).
    #[arg(short = 'm', long = "note", value_name = "TEXT")]
    pub notes: Vec<String>,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let resolution = prompt::text(
        context,
        args.resolution,
        "Resolution (what fixed it)",
        "--resolution TEXT",
    )?;
    let request = UpdateRequest {
        status: Some("resolved".into()),
        reason: Some(resolution),
        notes: args.notes,
        at: args.at,
        verb: Some("Resolve".into()),
        ..UpdateRequest::default()
    };
    let store = context.store()?;
    // Severities that need a postmortem get it in the same commit (issue 3).
    let postmortem = |c: &incident::ops::update::UpdateContext<'_>| {
        Ok(incident::ops::postmortem::for_resolution(&store, c)?
            .into_iter()
            .collect())
    };
    let outcome = update_with(&store, &args.id, &request, context.now()?, &postmortem)?;
    super::print_update(context, &outcome)?;
    if let Some(path) = super::postmortem::written_with(&store, &outcome) {
        context.note(&format!(
            "wrote the postmortem {path}; fill it in, then `incident postmortem review {} --push`",
            outcome.incident.id
        ));
    }
    Ok(())
}
