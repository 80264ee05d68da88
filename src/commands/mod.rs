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

use std::path::PathBuf;

use incident::ops::update::{UpdateContext, UpdateOutcome, UpdateRequest, update_with};
use incident::render::Format;
use incident::store::Store;
use incident::store::write::{Committed, FileWrite};
use incident::{Error, Result};

use crate::cli::text::{self, Typed};
use crate::cli::{Context, prompt};

/// Notes, the git way: `-m TEXT` (`-m -` reads standard input), `-F FILE`,
/// `-e` for the editor.
#[derive(Debug, clap::Args)]
pub struct NoteArgs {
    /// A timeline note (repeatable; `-m -` reads it from standard input).
    #[arg(short = 'm', long = "note", value_name = "TEXT")]
    pub notes: Vec<String>,
    /// A timeline note from a file (repeatable; `-F -` reads standard input).
    #[arg(short = 'F', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Write the note in your editor (the one git uses).
    #[arg(short = 'e', long)]
    pub edit: bool,
}

impl NoteArgs {
    /// The notes given, files and editor included.
    pub fn read(
        self,
        context: &Context,
        store: &Store,
        stdin_used: &mut bool,
    ) -> Result<Vec<String>> {
        let mut notes = text::values(self.notes, stdin_used)?;
        for file in &self.files {
            notes.push(text::file(file, stdin_used)?);
        }
        if self.edit {
            notes.push(text::edit(
                context,
                store.repo.path(),
                "NOTE",
                "the note",
                "",
            )?);
        }
        Ok(notes)
    }
}

/// The typed texts of a request, to keep if it is refused. `main` names
/// the one `-F` gives back.
pub fn typed(request: &UpdateRequest, main: &'static str) -> Vec<Typed> {
    let flag = |label: &'static str, other: &'static str| if label == main { "-F" } else { other };
    let mut typed = Vec::new();
    if !request.notes.is_empty() {
        typed.push(Typed {
            label: "NOTE",
            text: request.notes.join("\n\n"),
            flag: flag("NOTE", "-m"),
        });
    }
    if let Some(reason) = &request.reason {
        let label = if request.status.as_deref() == Some("resolved") {
            "RESOLUTION"
        } else {
            "REASON"
        };
        typed.push(Typed {
            label,
            text: reason.clone(),
            flag: flag(label, "--reason"),
        });
    }
    if let Some(summary) = &request.summary {
        typed.push(Typed {
            label: "SUMMARY",
            text: summary.clone(),
            flag: flag("SUMMARY", "--summary"),
        });
    }
    typed
}

/// Record an update: on a terminal, a write to a closed or cancelled
/// incident named by a prefix is confirmed first; a refused command keeps
/// what was typed under `.git/incident/` and says how to reuse it.
pub fn record(
    context: &Context,
    store: &Store,
    query: &str,
    request: &UpdateRequest,
    main_text: &'static str,
    extra: &dyn Fn(&UpdateContext<'_>) -> Result<Vec<FileWrite>>,
) -> Result<UpdateOutcome> {
    let now = context.now()?;
    let result = match update_with(store, query, request, now, extra) {
        Err(Error::FinalByPrefix { id, status, .. }) if context.interactive => {
            if prompt::confirm(
                context,
                &format!("Incident {id} is {status}. Write to it all the same?"),
            )? {
                update_with(store, &id, request, now, extra)
            } else {
                Err(Error::Cancelled)
            }
        }
        other => other,
    };
    result.map_err(|e| text::keep_all(store.repo.path(), &typed(request, main_text), e))
}

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
    context.confirm(&line)?;
    for notice in notices {
        context.note(&format!("note: {notice}"));
    }
    Ok(())
}

/// Before anything is asked or typed: git must know who is recording.
pub fn check_identity(context: &Context, store: &Store) -> Result<()> {
    incident::store::identity::Identity::resolve(&store.repo, context.now()?).map(|_| ())
}

/// Before anything is asked or typed: a repository incident can record in
/// (git can read it, HEAD on a branch, no merge or rebase under way) and
/// an identity git knows. A refusal keeps the texts already given on the
/// command line (`given`), as every later refusal does.
pub fn open_for_writing(
    context: &Context,
    given: &UpdateRequest,
    main: &'static str,
) -> Result<Store> {
    let typed = typed(&given_on_command_line(given), main);
    let keep = |git_dir: Option<&std::path::Path>, error: Error| match git_dir {
        Some(git_dir) => text::keep_all(git_dir, &typed, error),
        None => error,
    };
    let store = context
        .store()
        .map_err(|e| keep(text::git_dir_near(&context.dir).as_deref(), e))?;
    store
        .ensure_writable()
        .and_then(|_| check_identity(context, &store))
        .map_err(|e| keep(Some(store.repo.path()), e))?;
    Ok(store)
}

/// The texts of `typed` given on the command line: `-` (standard input,
/// not read yet) left out.
fn given_on_command_line(typed: &UpdateRequest) -> UpdateRequest {
    let mut given = typed.clone();
    given.notes.retain(|n| n != "-");
    given.reason = given.reason.filter(|r| r != "-");
    given.summary = given.summary.filter(|r| r != "-");
    given
}

/// Before anything is asked or typed: the incident must exist, once.
/// Texts already given on the command line (`typed`, with `-` for
/// standard input left out) are kept if it does not.
pub fn check_incident(
    store: &Store,
    query: &str,
    typed: &UpdateRequest,
    main: &'static str,
) -> Result<()> {
    let tree = store.head_tree()?.ok_or_else(|| Error::NotFound {
        query: query.into(),
    })?;
    store
        .find(&tree, query)
        .map(|_| ())
        .map_err(|e| keep_given(store, typed, main, e))
}

/// A refusal before the texts are read: keep those given on the command
/// line (`-` for standard input left out) and say how to reuse them.
pub fn keep_given(store: &Store, given: &UpdateRequest, main: &'static str, error: Error) -> Error {
    let given = given_on_command_line(given);
    text::keep_all(store.repo.path(), &typed(&given, main), error)
}

/// A command's main text: `--flag TEXT` (`-` reads standard input),
/// `-F FILE`, or `-e` for the editor (starting from what was given).
pub fn main_text(
    context: &Context,
    store: &Store,
    (given, file, edit): (Option<String>, Option<PathBuf>, bool),
    (label, what): (&'static str, &str),
    stdin_used: &mut bool,
) -> Result<Option<String>> {
    let mut value = text::value(given, stdin_used)?;
    if let Some(path) = &file {
        value = Some(text::file(path, stdin_used)?);
    }
    if edit {
        let written = text::edit(
            context,
            store.repo.path(),
            label,
            what,
            value.as_deref().unwrap_or(""),
        )?;
        value = Some(written);
    }
    Ok(value)
}

/// The checks and the reason of `cancel` and `reopen`: repository,
/// identity and incident first, then the reason (`--reason`, `-F`, `-e`).
pub fn reason_for(
    context: &Context,
    id: &str,
    source: (Option<String>, Option<PathBuf>, bool),
    what: &str,
) -> Result<(Store, Option<String>)> {
    let given = UpdateRequest {
        reason: source.0.clone(),
        ..UpdateRequest::default()
    };
    let store = open_for_writing(context, &given, "REASON")?;
    check_incident(&store, id, &given, "REASON")?;
    let reason = main_text(context, &store, source, ("REASON", what), &mut false)?;
    Ok((store, reason))
}
