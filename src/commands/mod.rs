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

/// What every update-like command prints: one line for people, or JSON.
pub fn print_update(context: &Context, outcome: &UpdateOutcome) -> Result<()> {
    print_warnings(context, &outcome.committed);
    let incident = &outcome.incident;
    if context.format == Format::Json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            id: &'a str,
            status: &'a str,
            severity: &'a str,
            events: Vec<&'a str>,
            commit: String,
            at: String,
            notices: &'a [String],
        }
        return context.print(&incident::render::json(&Out {
            id: &incident.id,
            status: &incident.status,
            severity: &incident.severity,
            events: outcome.events.iter().map(|e| e.id.as_str()).collect(),
            commit: outcome.committed.commit.to_string(),
            at: outcome.at.to_rfc3339(),
            notices: &outcome.notices,
        })?);
    }
    let config = context.store()?.config()?;
    let style = context.style(&config)?;
    let (line, notices) = incident::render::incident::update_summary(outcome, &style);
    context.print(&line)?;
    for notice in notices {
        context.note(&format!("note: {notice}"));
    }
    Ok(())
}
