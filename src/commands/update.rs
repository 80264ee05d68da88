use incident::ops::update::UpdateRequest;
use incident::{Error, Result};

use super::NoteArgs;
use crate::cli::{Context, milestone_setting, prompt, role_assignment, text};

/// Record what happened: status, severity, notes, roles, services, links,
/// milestones. One call is one commit that appends timeline events.
///
/// Times (--at, --milestone NAME=TIME) accept RFC 3339, 'YYYY-MM-DD HH:MM',
/// 'HH:MM' or '3:40pm' (today, in the config's time zone), 'yesterday
/// HH:MM', '15m ago' and '-15m'. Record states as they happen and their real
/// times later, or the other way round: a status with an earlier --at goes
/// where its time puts it. Without an id, on a terminal, pick from the open
/// incidents.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident update k3f9 -m \"error rate back to normal\"\n  incident update k3f9 --status mitigated -m \"rolled back to 1.41\" --at 03:40\n  incident update k3f9 --severity SEV1 --role comms=carol --service payments\n  incident update k3f9 --commander bob -m \"handing over to bob\"\n  incident update k3f9 --milestone started=02:38   # correct a milestone\n  incident update k3f9 -F notes.txt"
)]
pub struct Args {
    /// Incident id, unique id prefix, or a fragment of its title's slug.
    pub id: Option<String>,
    /// Move to this state (the config lists allowed transitions).
    #[arg(long)]
    pub status: Option<String>,
    /// Why, with --status: a resolution, a reason (`-` reads standard input).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// With --status duplicate: the incident this one duplicates.
    #[arg(long, value_name = "ID")]
    pub duplicate_of: Option<String>,
    /// New severity.
    #[arg(short, long)]
    pub severity: Option<String>,
    #[command(flatten)]
    pub note: NoteArgs,
    /// Hand command to someone else.
    #[arg(long, value_name = "NAME")]
    pub commander: Option<String>,
    /// Assign a role, such as scribe=bob; `scribe=` unassigns (repeatable).
    #[arg(long = "role", value_name = "ROLE=NAME", value_parser = role_assignment)]
    pub roles: Vec<(String, String)>,
    /// Add an affected service (repeatable).
    #[arg(long = "service", value_name = "NAME")]
    pub services: Vec<String>,
    /// Remove a service added by mistake (repeatable).
    #[arg(long = "remove-service", value_name = "NAME")]
    pub remove_services: Vec<String>,
    /// Add a link: pull request, dashboard, commit (repeatable).
    #[arg(long = "link", value_name = "URL")]
    pub links: Vec<String>,
    /// A commit, tag or deployment that caused the incident (repeatable).
    #[arg(long = "caused-by", value_name = "REV")]
    pub caused_by: Vec<String>,
    /// Set or correct a milestone; without =TIME it takes --at or now (repeatable).
    #[arg(long = "milestone", value_name = "NAME[=TIME]", value_parser = milestone_setting)]
    pub milestones: Vec<(String, Option<String>)>,
    /// Clear a milestone set by mistake (repeatable).
    #[arg(long = "clear-milestone", value_name = "NAME")]
    pub clear_milestones: Vec<String>,
    /// New title.
    #[arg(long)]
    pub title: Option<String>,
    /// New summary (`-` reads standard input).
    #[arg(long)]
    pub summary: Option<String>,
    /// When it happened, for writing things down afterwards (default: now).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub at: Option<String>,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let given = UpdateRequest {
        status: args.status.clone(),
        notes: args.note.notes.clone(),
        reason: args.reason.clone(),
        summary: args.summary.clone(),
        ..UpdateRequest::default()
    };
    let store = super::open_for_writing(context, &given, "NOTE")?;
    let id = prompt::incident(context, &store, args.id, "update")
        .map_err(|e| super::keep_given(&store, &given, "NOTE", e))?;
    super::check_incident(&store, &id, &given, "NOTE")?;
    // Refused before the editor opens; what was typed is kept all the same.
    let keep_given = |e| super::keep_given(&store, &given, "NOTE", e);
    let config = store.config().map_err(keep_given)?;
    let status = args
        .status
        .map(|s| config.check_state(&s))
        .transpose()
        .map_err(keep_given)?;
    // Each state has one way in, with its rules.
    if status.as_deref() == Some("closed") {
        return Err(keep_given(Error::Usage {
            message: format!(
                "closing checks that the postmortem is published: run `incident close {id}`"
            ),
        }));
    }
    let mut roles = args.roles;
    if let Some(commander) = args.commander {
        roles.insert(0, ("commander".into(), commander));
    }
    let mut stdin_used = false;
    let request = UpdateRequest {
        status: status.clone(),
        reason: text::value(args.reason, &mut stdin_used)?,
        duplicate_of: args.duplicate_of,
        severity: args.severity,
        title: args.title,
        summary: text::value(args.summary, &mut stdin_used)?,
        roles,
        add_services: args.services,
        remove_services: args.remove_services,
        links: args.links,
        caused_by: args.caused_by,
        milestones: args.milestones,
        clear_milestones: args.clear_milestones,
        notes: args.note.read(context, &store, &mut stdin_used)?,
        at: args.at,
        ..UpdateRequest::default()
    };
    if status.as_deref() == Some("resolved") {
        let postmortem = incident::ops::postmortem::ResolutionPostmortem::default();
        let outcome =
            super::resolve::record_resolution(context, &store, &id, request, "NOTE", &postmortem)?;
        super::print_update(context, &outcome)?;
        return super::resolve::after_resolution(context, &store, &postmortem, &outcome);
    }
    let outcome = super::record(context, &store, &id, &request, "NOTE", &|_| Ok(Vec::new()))?;
    super::print_update(context, &outcome)
}
