use incident::Result;
use incident::ops::action::{Filter, list, today};
use incident::render::Format;
use incident::render::postmortem::actions;

use crate::cli::Context;

/// List action items across all incidents: open ones by default, overdue
/// first (highlighted on a terminal), then by due date.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident actions\n  incident actions --overdue\n  incident actions --owner bob --format csv\n  incident actions --all --format json"
)]
pub struct Args {
    /// Open items (the default).
    #[arg(long, conflicts_with_all = ["overdue", "all"])]
    pub open: bool,
    /// Only open items past their due date.
    #[arg(long, conflicts_with = "all")]
    pub overdue: bool,
    /// Every item: open, done and dropped.
    #[arg(short, long)]
    pub all: bool,
    /// Only items this person owns.
    #[arg(long, value_name = "NAME")]
    pub owner: Option<String>,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let store = context.store()?;
    let config = store.config()?;
    let style = context.style(&config)?;
    let filter = if args.all {
        Filter::All
    } else if args.overdue {
        Filter::Overdue
    } else {
        Filter::Open
    };
    let (items, warnings) = list(&store, filter, args.owner.as_deref(), style.now)?;
    for warning in warnings {
        context.warn(&warning);
    }
    if items.is_empty() && context.format == Format::Table {
        // As `list` does: say so, rather than print a header alone.
        let which = match filter {
            Filter::All => "",
            Filter::Overdue => "overdue ",
            Filter::Open => "open ",
        };
        let whose = match &args.owner {
            Some(owner) => format!(" owned by {owner}"),
            None => String::new(),
        };
        let next = match filter {
            Filter::All if args.owner.is_none() => ": `incident action add ID TEXT` records one",
            Filter::All => "",
            _ => ": `incident actions --all` lists every item",
        };
        return context.print(&format!("No {which}action items{whose}{next}.\n"));
    }
    context.print(&actions(
        &items,
        today(&config, style.now),
        context.format,
        &style,
    )?)
}
