use incident::Result;
use incident::ops::update::UpdateRequest;

use super::NoteArgs;
use crate::cli::{Context, prompt};

/// Acknowledge an incident: record the `acknowledged` milestone and, from
/// triage, start investigating. Acknowledged already: the note is recorded
/// all the same. Without an id, on a terminal, pick from the open incidents.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident ack k3f9\n  incident ack k3f9 --at 03:07 -m \"paged, looking\"\n  incident ack k3f9 -m \"second responder here\""
)]
pub struct Args {
    /// Incident id, unique id prefix, or a fragment of its title's slug.
    pub id: Option<String>,
    /// When it was acknowledged (default: now).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub at: Option<String>,
    #[command(flatten)]
    pub note: NoteArgs,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let given = UpdateRequest {
        notes: args.note.notes.clone(),
        ..UpdateRequest::default()
    };
    let store = super::open_for_writing(context, &given, "NOTE")?;
    let id = prompt::incident(context, &store, args.id, "acknowledge")?;
    super::check_incident(&store, &id, &given, "NOTE")?;
    let mut stdin_used = false;
    let request = UpdateRequest {
        acknowledge: true,
        notes: args.note.read(context, &store, &mut stdin_used)?,
        at: args.at,
        verb: Some("Acknowledge".into()),
        ..UpdateRequest::default()
    };
    let outcome = super::record(context, &store, &id, &request, "NOTE", &|_| Ok(Vec::new()))?;
    super::print_update(context, &outcome)
}
