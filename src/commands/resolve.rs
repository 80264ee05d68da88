use std::path::PathBuf;

use incident::Result;
use incident::ops::postmortem::ResolutionPostmortem;
use incident::ops::update::{UpdateOutcome, UpdateRequest};
use incident::store::Store;

use super::NoteArgs;
use crate::cli::{Context, prompt};

/// Resolve an incident: move it to `resolved` with what fixed it. Severities
/// that need a postmortem get one due, and its prefilled draft is committed
/// to the review branch postmortem/<id> (your branch, index and working tree
/// stay as they are). Without an id, on a terminal, pick from the open
/// incidents.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident resolve k3f9 --resolution \"rolled back payments to 1.41\"\n  incident resolve k3f9 -r \"certificate renewed\" --at \"2026-11-24 04:10\"\n  incident resolve k3f9 -e"
)]
pub struct Args {
    /// Incident id, unique id prefix, or a fragment of its title's slug.
    pub id: Option<String>,
    /// What fixed it (asked for on a terminal when missing; `-` reads it
    /// from standard input).
    #[arg(short, long, value_name = "TEXT")]
    pub resolution: Option<String>,
    /// The resolution from a file (`-F -` reads standard input).
    #[arg(
        short = 'F',
        long = "file",
        value_name = "FILE",
        conflicts_with = "resolution"
    )]
    pub file: Option<PathBuf>,
    /// Write the resolution in your editor (the one git uses).
    #[arg(short = 'e', long)]
    pub edit: bool,
    /// When it was resolved (default: now).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub at: Option<String>,
    /// A timeline note (repeatable; `-m -` reads it from standard input).
    #[arg(short = 'm', long = "note", value_name = "TEXT")]
    pub notes: Vec<String>,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let given = UpdateRequest {
        status: Some("resolved".into()),
        notes: args.notes.clone(),
        reason: args.resolution.clone(),
        ..UpdateRequest::default()
    };
    let store = super::open_for_writing(context, &given, "RESOLUTION")?;
    let id = prompt::incident(context, &store, args.id, "resolve")
        .map_err(|e| super::keep_given(&store, &given, "RESOLUTION", e))?;
    super::check_incident(&store, &id, &given, "RESOLUTION")?;
    let mut stdin_used = false;
    let resolution = super::main_text(
        context,
        &store,
        (args.resolution, args.file, args.edit),
        ("RESOLUTION", "the resolution (what fixed it)"),
        &mut stdin_used,
    )?;
    let notes = NoteArgs {
        notes: args.notes,
        files: Vec::new(),
        edit: false,
    };
    let request = UpdateRequest {
        reason: resolution,
        notes: notes.read(context, &store, &mut stdin_used)?,
        at: args.at,
        verb: Some("Resolve".into()),
        ..UpdateRequest::default()
    };
    let postmortem = ResolutionPostmortem::default();
    let outcome = record_resolution(context, &store, &id, request, "RESOLUTION", &postmortem)?;
    super::print_update(context, &outcome)?;
    after_resolution(context, &store, &postmortem, &outcome)
}

/// The one way into `resolved`, for `resolve` and `update --status
/// resolved` alike: the resolution is required (asked for on a terminal),
/// and where the severity needs a postmortem, the resolution's commit
/// records it as due (issue 9); [`after_resolution`] writes its draft. A
/// refusal keeps what was typed; `main` names the text `-F` gives back.
pub fn record_resolution(
    context: &Context,
    store: &Store,
    id: &str,
    mut request: UpdateRequest,
    main: &'static str,
    postmortem: &ResolutionPostmortem,
) -> Result<UpdateOutcome> {
    request.status = Some("resolved".into());
    let keep = |request: &UpdateRequest, e| {
        crate::cli::text::keep_all(store.repo.path(), &super::typed(request, main), e)
    };
    if request.reason.is_none() && request.at.is_none() {
        // Asking for a resolution of a resolved incident helps nobody.
        let current = || -> Result<Option<(String, String)>> {
            let Some(tree) = store.head_tree()? else {
                return Ok(None);
            };
            let incident = store.load(&store.config()?, &tree, &store.find(&tree, id)?)?;
            Ok(Some((incident.id, incident.status)))
        };
        match current() {
            Ok(Some((id, status))) if status == "resolved" => {
                let refused = incident::Error::InvalidInput {
                    message: format!("incident {id} is already 'resolved'"),
                };
                return Err(keep(&request, refused));
            }
            Ok(_) => {}
            Err(e) => return Err(keep(&request, e)),
        }
    }
    if request.reason.is_none() {
        let flag = if main == "RESOLUTION" {
            "--resolution TEXT"
        } else {
            "--reason TEXT"
        };
        let asked = prompt::text(context, None, "Resolution (what fixed it)", flag);
        request.reason = Some(asked.map_err(|e| keep(&request, e))?);
    }
    super::record(context, store, id, &request, main, &|c| {
        postmortem.files(store, c)
    })
}

/// Once the resolution is committed: the postmortem's draft goes to its
/// review branch (your branch, index and working tree stay as they are).
pub fn after_resolution(
    context: &Context,
    store: &Store,
    postmortem: &ResolutionPostmortem,
    outcome: &UpdateOutcome,
) -> Result<()> {
    if let Some(draft) = postmortem.write_draft(store, outcome.committed.commit, context.now()?) {
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
