use incident::Result;
use incident::ops::close::{CloseRequest, close};

use crate::cli::Context;
use crate::cli::text::{self, Typed};

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
    /// Why (required with --force; `-` reads standard input).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let given = incident::ops::update::UpdateRequest {
        reason: args.reason.clone(),
        ..Default::default()
    };
    let store = super::open_for_writing(context, &given, "REASON")?;
    let reason = text::value(args.reason, &mut false)?;
    let typed = Typed::given("REASON", "--reason", reason.clone());
    let outcome = close(
        &store,
        &args.id,
        &CloseRequest {
            force: args.force,
            reason,
        },
        context.now()?,
    )
    .map_err(|e| text::keep_all(store.repo.path(), &typed, e))?;
    for overridden in &outcome.overridden {
        context.warn(&format!("closed anyway: {overridden}"));
    }
    if let Some(why) = &outcome.milestone_unknown {
        context.warn(&format!("postmortem_published was not recorded: {why}"));
    }
    super::print_update(context, &outcome.update)
}
