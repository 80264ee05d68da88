use incident::Result;
use incident::maintenance::ops::{ScheduleRequest, schedule, step};
use incident::maintenance::{Step, load_all};
use incident::render::{Format, Rows};

use crate::cli::Context;

/// Scheduled maintenance for the status page: a window in which components
/// are under maintenance. It changes their state only inside its window
/// (or between `start` and `complete`), never before.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident maintenance schedule \"Database upgrade\" --component api \\\n      --from \"2026-11-25 02:00\" --until \"2026-11-25 03:00\" \\\n      -m \"The API may be slow.\"\n  incident maintenance list\n  incident maintenance start database-upgrade\n  incident maintenance complete database-upgrade -m \"The upgrade is done.\"\n  incident maintenance cancel database-upgrade -m \"Postponed to next week.\""
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    Schedule(ScheduleArgs),
    Start(StepArgs),
    Complete(StepArgs),
    Cancel(StepArgs),
    List(ListArgs),
}

/// Schedule a maintenance window (one commit). Times: 'YYYY-MM-DD HH:MM',
/// RFC 3339, 'in 2h', or 'HH:MM' (the next such time), in the config's zone.
#[derive(Debug, clap::Args)]
pub struct ScheduleArgs {
    /// Its public title.
    pub title: String,
    /// When the window opens.
    #[arg(long, value_name = "TIME")]
    pub from: String,
    /// When the window closes.
    #[arg(long, value_name = "TIME")]
    pub until: String,
    /// A component under maintenance (repeatable; [[component]] ids).
    #[arg(long = "component", value_name = "ID", required = true)]
    pub components: Vec<String>,
    /// The public message that announces it.
    #[arg(short = 'm', long = "message", value_name = "TEXT")]
    pub message: Option<String>,
}

/// Start, complete or cancel a maintenance (one commit).
#[derive(Debug, clap::Args)]
pub struct StepArgs {
    /// Maintenance id, unique id prefix, or a fragment of its title's slug.
    pub id: String,
    /// A public message that goes with it.
    #[arg(short = 'm', long = "message", value_name = "TEXT")]
    pub message: Option<String>,
    /// When it happened (default: now).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

/// List maintenances, soonest window first, with their state now.
#[derive(Debug, clap::Args)]
pub struct ListArgs {}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let store = context.store()?;
    let now = context.now()?;
    let (outcome, verb) = match args.command {
        Sub::Schedule(a) => (
            schedule(
                &store,
                &ScheduleRequest {
                    title: a.title,
                    description: a.message,
                    from: a.from,
                    until: a.until,
                    components: a.components,
                },
                now,
            )?,
            "scheduled",
        ),
        Sub::Start(a) => (
            step(&store, &a.id, Step::Start, a.message, a.at.as_deref(), now)?,
            "started",
        ),
        Sub::Complete(a) => (
            step(
                &store,
                &a.id,
                Step::Complete,
                a.message,
                a.at.as_deref(),
                now,
            )?,
            "completed",
        ),
        Sub::Cancel(a) => (
            step(&store, &a.id, Step::Cancel, a.message, a.at.as_deref(), now)?,
            "cancelled",
        ),
        Sub::List(_) => return list(context, &store),
    };
    super::print_warnings(context, &outcome.committed);
    let record = &outcome.maintenance.record;
    if context.format == Format::Json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            id: &'a str,
            status: &'a str,
            folder: &'a str,
            commit: String,
        }
        return context.print(&incident::render::json(&Out {
            id: &record.id,
            status: outcome.maintenance.phase(now).name(),
            folder: &outcome.maintenance.folder,
            commit: outcome.committed.commit.to_string(),
        })?);
    }
    if context.quiet {
        // As `declare`: `id=$(incident -q maintenance schedule ...)`.
        return match verb {
            "scheduled" => context.print(&format!("{}\n", record.id)),
            _ => Ok(()),
        };
    }
    let zone = store.config()?.zone();
    context.print(&format!(
        "{verb} maintenance {}: {} ({} to {}) in commit {}\n",
        record.id,
        record.title,
        zone.short(&record.scheduled_for),
        zone.short(&record.scheduled_until),
        &outcome.committed.commit.to_string()[..10]
    ))
}

fn list(context: &Context, store: &incident::store::Store) -> Result<()> {
    let config = store.config()?;
    let style = context.style(&config)?;
    let all = match store.head_tree()? {
        Some(tree) => load_all(&store.repo, &tree)?,
        None => Vec::new(),
    };
    if context.format == Format::Json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            id: &'a str,
            title: &'a str,
            status: &'a str,
            scheduled_for: String,
            scheduled_until: String,
            components: &'a [String],
        }
        let records: Vec<Out<'_>> = all
            .iter()
            .map(|m| Out {
                id: &m.record.id,
                title: &m.record.title,
                status: m.phase(style.now).name(),
                scheduled_for: m.record.scheduled_for.to_rfc3339(),
                scheduled_until: m.record.scheduled_until.to_rfc3339(),
                components: &m.record.components,
            })
            .collect();
        return context.print(&incident::render::json(&records)?);
    }
    let mut rows = Rows::new(&["ID", "STATUS", "FROM", "UNTIL", "COMPONENTS", "TITLE"])
        .wrap_column("TITLE")
        .keep_whole(&["ID", "FROM", "UNTIL"]);
    for m in &all {
        rows.push(vec![
            m.record.id.as_str().into(),
            m.phase(style.now).name().replace('_', " ").into(),
            style.zone.short(&m.record.scheduled_for).into(),
            style.zone.short(&m.record.scheduled_until).into(),
            m.record.components.join(", ").into(),
            m.record.title.as_str().into(),
        ]);
    }
    if all.is_empty() {
        context.note("no maintenance is scheduled");
        return Ok(());
    }
    context.print(&rows.render(context.format, &style)?)
}
