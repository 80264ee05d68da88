use std::path::PathBuf;

use incident::Result;
use incident::ops::declare::{DeclareRequest, declare};
use incident::render::Format;

use crate::cli::text::{self, Typed};
use crate::cli::{Context, prompt, role_assignment};

/// Declare an incident: record it in one commit and print its id.
///
/// On a terminal, a missing title or severity is asked for. With
/// --no-input, with CI set, or without a terminal, incident never asks and
/// names the missing flag instead.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident declare \"Checkout latency above 2s\" --severity SEV2 \\\n      --service checkout --service payments --commander alice \\\n      --summary \"p99 above 2s since the 02:40 deploy\" --started-at 02:40\n  incident declare \"Login errors\" -s SEV3 --format json   # prints {\"id\": ...}\n  incident declare \"DNS outage last Friday\" -s SEV2 \\\n      --at \"2026-11-20 14:00\" --started-at \"2026-11-20 13:52\""
)]
pub struct Args {
    /// What is wrong, in a few words.
    pub title: Option<String>,
    /// Severity, one of the config's (SEV1 most severe .. SEV5).
    #[arg(short, long)]
    pub severity: Option<String>,
    /// Affected service (repeat for several).
    #[arg(long = "service", value_name = "NAME")]
    pub services: Vec<String>,
    /// Incident commander.
    #[arg(long, value_name = "NAME")]
    pub commander: Option<String>,
    /// Another role, such as scribe=bob or comms=carol (repeatable).
    #[arg(long = "role", value_name = "ROLE=NAME", value_parser = role_assignment)]
    pub roles: Vec<(String, String)>,
    /// A few sentences on impact and what is known (`-` reads standard input).
    #[arg(long)]
    pub summary: Option<String>,
    /// The summary from a file (`-F -` reads standard input).
    #[arg(
        short = 'F',
        long = "file",
        value_name = "FILE",
        conflicts_with = "summary"
    )]
    pub file: Option<PathBuf>,
    /// Write the summary in your editor (the one git uses).
    #[arg(short = 'e', long)]
    pub edit: bool,
    /// Initial state (default: the config's initial state, triage).
    #[arg(long)]
    pub status: Option<String>,
    /// When impact began (default: when it was detected).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub started_at: Option<String>,
    /// When someone or something noticed (default: now).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub detected_at: Option<String>,
    /// When it was declared, to write down a past incident (default: now).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub at: Option<String>,
    /// A link: dashboard, chat channel, ticket (repeatable).
    #[arg(long = "link", value_name = "URL")]
    pub links: Vec<String>,
    /// Record an incident from old history: no postmortem is expected, and
    /// the report leaves it out of recording lag and overdue postmortems.
    #[arg(long)]
    pub historical: bool,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    // Repository, config and identity first: nobody types a title to learn
    // that git does not know who they are.
    let given = incident::ops::update::UpdateRequest {
        summary: args.summary.clone(),
        ..Default::default()
    };
    let store = super::open_for_writing(context, &given, "SUMMARY")?;
    let config = store.config()?;
    let mut stdin_used = false;
    let title = prompt::text(
        context,
        args.title,
        "Title",
        "a title as the first argument",
    )?;
    let severities: Vec<(String, String)> = config
        .severities
        .iter()
        .map(|s| (s.name.clone(), s.description.clone()))
        .collect();
    let severity = prompt::choice(
        context,
        args.severity,
        "Severity",
        "--severity",
        &severities,
    )?;
    let summary = super::main_text(
        context,
        &store,
        (args.summary, args.file, args.edit),
        ("SUMMARY", "the summary (impact and what is known)"),
        &mut stdin_used,
    )?;
    let request = DeclareRequest {
        title,
        severity,
        services: args.services,
        commander: args.commander,
        roles: args.roles,
        summary: summary.clone(),
        status: args.status,
        started_at: args.started_at,
        detected_at: args.detected_at,
        declared_at: args.at,
        links: args.links,
        historical: args.historical,
    };
    let now = context.now()?;
    let typed: Vec<Typed> = summary
        .into_iter()
        .map(|text| Typed {
            label: "SUMMARY",
            text,
            flag: "-F",
        })
        .collect();
    let outcome =
        declare(&store, &request, now).map_err(|e| text::keep_all(store.repo.path(), &typed, e))?;
    super::committed(context, &outcome.committed);
    let incident = &outcome.incident;
    if context.format == Format::Json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            id: &'a str,
            folder: &'a str,
            commit: String,
        }
        return context.print(&incident::render::json(&Out {
            id: &incident.id,
            folder: &incident.folder,
            commit: outcome.committed.commit.to_string(),
        })?);
    }
    if context.quiet {
        // What a script wants: `id=$(incident -q declare ...)`.
        return context.print(&format!("{}\n", incident.id));
    }
    context.print(&format!(
        "Declared {} incident {}: {}\n",
        incident.severity,
        incident.id,
        incident::render::terminal_safe(&incident.title)
    ))?;
    let style = context.style(&config)?;
    let mut times = Vec::new();
    for name in ["started", "detected", "declared"] {
        if let Some(m) = incident.milestones.get(name).filter(|m| m.is_recorded()) {
            times.push(format!("{name} {}", style.zone.describe(&m.at, &now)));
        }
    }
    context.note(&times.join(", "));
    context.note(&format!(
        "next: incident ack {}   # or: incident update {} -m \"what you see\"",
        incident.id, incident.id
    ));
    Ok(())
}
