use incident::Result;
use incident::ops::action::{ActionOutcome, AddRequest, ChangeRequest, EditRequest, add, change};
use incident::render::Format;

use crate::cli::Context;
use crate::cli::text::{self, Typed};

/// Action items: follow-up work with an owner and a due date. Name an item
/// as ID/N: the incident and the item's number (#N in listings) or its id.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident action add k3f9 \"Alert on queue depth\" --owner bob \\\n      --due 2026-12-15 --priority high --type detect\n  incident action done k3f9/1\n  incident action drop k3f9/1 --reason \"superseded by the queue rewrite\"\n  incident action edit k3f9/2 --owner carol --due 2027-01-10"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    Add(AddArgs),
    Done(DoneArgs),
    Drop(DropArgs),
    Reopen(ReopenArgs),
    Edit(EditArgs),
}

/// Add an action item (due date default: the severity's SLO in the config).
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// Incident id, unique id prefix, or a fragment of its title's slug.
    pub id: String,
    /// What is to be done.
    pub text: String,
    #[command(flatten)]
    pub fields: ItemFields,
}

/// What `add` sets and `edit` changes besides the text.
#[derive(Debug, clap::Args)]
pub struct ItemFields {
    /// Who owns it.
    #[arg(long, value_name = "NAME")]
    pub owner: Option<String>,
    /// Due date, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub due: Option<String>,
    /// high, medium or low.
    #[arg(long)]
    pub priority: Option<String>,
    /// investigate, mitigate, repair, detect or prevent.
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
    /// Link to the tracker.
    #[arg(long, value_name = "URL")]
    pub link: Option<String>,
}

/// Mark an action item done.
#[derive(Debug, clap::Args)]
pub struct DoneArgs {
    /// ID/N: incident and item number or id.
    pub item: String,
    /// A note on how it was done (`-` reads standard input).
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
}

/// Drop an action item: it will not be done.
#[derive(Debug, clap::Args)]
pub struct DropArgs {
    /// ID/N: incident and item number or id.
    pub item: String,
    /// Why it will not be done (`-` reads standard input).
    #[arg(long, value_name = "TEXT", required = true)]
    pub reason: String,
}

/// Reopen an action item that was done or dropped.
#[derive(Debug, clap::Args)]
pub struct ReopenArgs {
    /// ID/N: incident and item number or id.
    pub item: String,
    /// Why it is open again (`-` reads standard input).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

/// Change an action item's text, owner, due date, priority, type or link
/// (an empty --owner or --link clears it).
#[derive(Debug, clap::Args)]
pub struct EditArgs {
    /// ID/N: incident and item number or id.
    pub item: String,
    /// What is to be done.
    #[arg(long)]
    pub text: Option<String>,
    #[command(flatten)]
    pub fields: ItemFields,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let store = context.store()?;
    let now = context.now()?;
    let (verb, outcome) = match args.command {
        Sub::Add(a) => (
            "added",
            add(
                &store,
                &a.id,
                &AddRequest {
                    text: a.text,
                    owner: a.fields.owner,
                    due: a.fields.due,
                    priority: a.fields.priority,
                    kind: a.fields.kind,
                    link: a.fields.link,
                },
                now,
            )?,
        ),
        Sub::Done(a) => {
            let note = text::value(a.note, &mut false)?;
            let request = ChangeRequest::Done { note: note.clone() };
            let typed = Typed::given("NOTE", "--note", note);
            (
                "done",
                change_keeping(&store, &a.item, &request, typed, now)?,
            )
        }
        Sub::Drop(a) => {
            let reason = text::value(Some(a.reason), &mut false)?.unwrap_or_default();
            let request = ChangeRequest::Drop {
                reason: reason.clone(),
            };
            let typed = Typed::given("REASON", "--reason", Some(reason));
            (
                "dropped",
                change_keeping(&store, &a.item, &request, typed, now)?,
            )
        }
        Sub::Reopen(a) => {
            let reason = text::value(a.reason, &mut false)?;
            let request = ChangeRequest::Reopen {
                reason: reason.clone(),
            };
            let typed = Typed::given("REASON", "--reason", reason);
            (
                "reopened",
                change_keeping(&store, &a.item, &request, typed, now)?,
            )
        }
        Sub::Edit(a) => (
            "edited",
            change(
                &store,
                &a.item,
                &ChangeRequest::Edit(EditRequest {
                    text: a.text,
                    owner: a.fields.owner,
                    due: a.fields.due,
                    priority: a.fields.priority,
                    kind: a.fields.kind,
                    link: a.fields.link,
                }),
                now,
            )?,
        ),
    };
    print(context, verb, &outcome)
}

/// An item change; a refused one keeps what was typed under `.git/incident/`.
fn change_keeping(
    store: &incident::store::Store,
    item: &str,
    request: &ChangeRequest,
    typed: Vec<Typed>,
    now: incident::time::Timestamp,
) -> Result<ActionOutcome> {
    change(store, item, request, now).map_err(|e| text::keep_all(store.repo.path(), &typed, e))
}

fn print(context: &Context, verb: &str, outcome: &ActionOutcome) -> Result<()> {
    super::committed(context, &outcome.committed);
    let action = &outcome.action;
    if context.format == Format::Json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            action: incident::render::postmortem::ActionJson<'a>,
            commit: String,
        }
        let config = store_config(context)?;
        let today = incident::ops::action::today(&config, context.now()?);
        return context.print(&incident::render::json(&Out {
            action: incident::render::postmortem::action_json(action, today),
            commit: outcome.committed.commit.to_string(),
        })?);
    }
    let mut details = Vec::new();
    if let Some(owner) = &action.owner {
        details.push(format!("owner {owner}"));
    }
    if let Some(due) = action.due {
        details.push(format!("due {due}"));
    }
    details.push(action.status.clone());
    context.confirm(&format!(
        "{}/{} (#{}) {verb}: {} ({}) in commit {}\n",
        action.incident,
        action.id,
        action.number,
        action.text,
        details.join(", "),
        &outcome.committed.commit.to_string()[..10]
    ))
}

fn store_config(context: &Context) -> Result<incident::config::Config> {
    context.store()?.config()
}
