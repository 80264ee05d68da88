use incident::Result;
use incident::ops::update::{UpdateRequest, update_with};

use crate::cli::{Context, prompt};

/// Resolve an incident: move it to `resolved` with what fixed it. Severities
/// that need a postmortem get one due, and its prefilled draft is committed
/// to the review branch postmortem/<id> (your branch, index and working tree
/// stay as they are).
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
    let now = context.now()?;
    // Severities that need a postmortem: the resolution's commit records it
    // as due, and the draft goes to its review branch (issue 9).
    let postmortem = incident::ops::postmortem::ResolutionPostmortem::default();
    let outcome = update_with(&store, &args.id, &request, now, &|c| {
        postmortem.files(&store, c)
    })?;
    super::print_update(context, &outcome)?;
    if let Some(draft) = postmortem.write_draft(&store, outcome.committed.commit, now) {
        let id = &outcome.incident.id;
        match (&draft.skipped, draft.commit) {
            (Some(why), _) => context.warn(&format!(
                "the postmortem is due, but its draft could not be written on branch {} ({why}); `incident postmortem {id}` writes it",
                draft.branch
            )),
            (None, Some(commit)) => context.note(&format!(
                "postmortem due: the draft {} is on branch {} (commit {}); write it with `incident postmortem {id} --edit`, then `incident postmortem review {id} --push`",
                draft.path,
                draft.branch,
                &commit.to_string()[..10]
            )),
            (None, None) => context.note(&format!(
                "postmortem due: branch {} has its draft already; `incident postmortem {id} --edit` opens it",
                draft.branch
            )),
        }
    }
    Ok(())
}
