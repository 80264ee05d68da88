//! One file per subcommand: its arguments (whose doc comments are the help
//! text) and a `run` function that calls the library and prints.

pub mod ack;
pub mod cancel;
pub mod check;
pub mod completions;
pub mod declare;
pub mod init;
pub mod list;
pub mod log;
pub mod man;
pub mod reopen;
pub mod report;
pub mod resolve;
pub mod show;
pub mod sync;
pub mod timeline;
pub mod update;

// Postmortems, reviews and action items (issue 3).
pub mod action;
pub mod actions;
pub mod close;
pub mod postmortem;

// Event hooks, imports and exports (issue 15).
pub mod export;
pub mod hooks;
pub mod import;
// Stakeholder updates, maintenance and the status page (issue 14).
pub mod comms;
pub mod maintenance;
pub mod status_page;

use incident::Result;
use incident::ops::update::UpdateOutcome;
use incident::render::Format;
use incident::store::write::Committed;

use crate::cli::Context;

/// Warnings from a commit that landed but left something to finish.
pub fn print_warnings(context: &Context, committed: &Committed) {
    for warning in &committed.warnings {
        context.warn(warning);
    }
}

/// A command committed: print the commit's warnings and hand the commit to
/// the event hooks, which run when the command is done. Every command that
/// records events calls this once per commit (the hooks' one opt-in line).
pub fn committed(context: &Context, committed: &Committed) {
    print_warnings(context, committed);
    context.record_commit(committed.commit);
}

/// What every update-like command prints: one line for people, or JSON.
pub fn print_update(context: &Context, outcome: &UpdateOutcome) -> Result<()> {
    committed(context, &outcome.committed);
    let incident = &outcome.incident;
    if context.format == Format::Json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            id: &'a str,
            status: &'a str,
            severity: &'a str,
            events: Vec<&'a str>,
            commit: String,
        }
        return context.print(&incident::render::json(&Out {
            id: &incident.id,
            status: &incident.status,
            severity: &incident.severity,
            events: outcome.events.iter().map(|e| e.id.as_str()).collect(),
            commit: outcome.committed.commit.to_string(),
        })?);
    }
    let count = outcome.events.len();
    let status = if outcome.before.status != incident.status {
        format!("{} → {}", outcome.before.status, incident.status)
    } else {
        incident.status.clone()
    };
    context.confirm(&format!(
        "{}: recorded {count} event{} ({status}, {}) in commit {}\n",
        incident.id,
        if count == 1 { "" } else { "s" },
        incident.severity,
        &outcome.committed.commit.to_string()[..10],
    ))
}
