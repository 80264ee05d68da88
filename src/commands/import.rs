use std::path::PathBuf;

use incident::Result;
use incident::import::{ImportReport, ImportRequest, SourceKind, import};
use incident::render::Format;

use crate::cli::Context;

/// Import incident history from another tool, in one commit: Atlassian
/// Statuspage JSON, cState Markdown, a CSV with a column mapping (PagerDuty,
/// Opsgenie, Jira exports) or this tool's own JSON Lines export.
///
/// Imported incidents are marked historical (no postmortem expected) and
/// record their source and id: running the same import again creates
/// nothing and says so. An export (jsonl) comes back file for file as it
/// was exported, maintenances and repository-wide files included. A malformed record is reported with file and line
/// and the rest is imported; --strict refuses the whole import instead.
/// A time the source states that breaks the lifecycle's order (a
/// resolution before the start) is left unset and noted in the timeline.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident import statuspage incidents.json\n  incident import cstate site/content/issues/ --dry-run\n  incident import csv pagerduty.csv --map pagerduty.toml --strict\n  incident export --output ~/all.jsonl        # then, in another repository:\n  incident -C ~/copy import jsonl ~/all.jsonl"
)]
pub struct Args {
    /// Where the records come from.
    #[arg(value_enum)]
    pub source: SourceArg,
    /// A file, or a folder of files (.json, .md or .csv).
    pub path: PathBuf,
    /// A TOML file mapping the source's severities, states, CSV columns and time format.
    #[arg(long = "map", value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Say what would be imported; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Any malformed record fails the whole import.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SourceArg {
    Statuspage,
    Cstate,
    Csv,
    Jsonl,
}

/// Adjustments listed by name before the rest is summed up.
const SHOWN_ADJUSTMENTS: usize = 10;

pub fn run(context: &Context, args: Args) -> Result<()> {
    let store = context.store()?;
    let request = ImportRequest {
        source: match args.source {
            SourceArg::Statuspage => SourceKind::Statuspage,
            SourceArg::Cstate => SourceKind::Cstate,
            SourceArg::Csv => SourceKind::Csv,
            SourceArg::Jsonl => SourceKind::Jsonl,
        },
        path: args.path,
        mapping: args.mapping,
        dry_run: args.dry_run,
        strict: args.strict,
    };
    let report = import(&store, &request, context.now()?)?;
    for warning in &report.warnings {
        context.warn(warning);
    }
    if context.format == Format::Json {
        return context.print(&incident::render::json(&json(&report))?);
    }
    for problem in &report.problems {
        eprintln!("{problem}: skipped");
    }
    for adjustment in report.adjustments.iter().take(SHOWN_ADJUSTMENTS) {
        context.note(&format!("note: {adjustment}"));
    }
    if report.adjustments.len() > SHOWN_ADJUSTMENTS {
        context.note(&format!(
            "note: … and {} more (--format json lists them all)",
            report.adjustments.len() - SHOWN_ADJUSTMENTS
        ));
    }
    if report.fractions_dropped > 0 {
        context.note(&format!(
            "note: {} stated time(s) had a fraction of a second; records keep times to the second, so they were stored without it (12:00:05.730 as 12:00:05)",
            report.fractions_dropped
        ));
    }
    context.print(&summary(&report))
}

fn summary(report: &ImportReport) -> String {
    let count = report.imported.len();
    let maintenances = report.maintenances.len();
    let mut tail = format!(
        "{} found, {} imported before, {} malformed",
        report.found,
        report.already,
        report.problems.len()
    );
    if maintenances > 0 || report.maintenances_already > 0 {
        tail.push_str(&format!(
            "; {} maintenance(s) imported before",
            report.maintenances_already
        ));
    }
    if count == 0 && maintenances == 0 {
        return if report.already > 0 && report.problems.is_empty() {
            format!(
                "Nothing to import: all {} incident(s) from {} were imported before; nothing changed\n",
                report.already, report.source
            )
        } else {
            format!(
                "Nothing imported from {} ({tail}); nothing changed\n",
                report.source
            )
        };
    }
    let what = if maintenances > 0 {
        format!(
            "{count} incident(s) with {} event(s) and {maintenances} maintenance(s)",
            report.events
        )
    } else {
        format!("{count} incident(s) with {} event(s)", report.events)
    };
    // An export comes back as it was; other sources become historical records.
    let marked = if report.source == SourceKind::Jsonl.name() {
        ", file for file as exported"
    } else {
        ", marked historical"
    };
    match (report.dry_run, report.commit) {
        (true, _) | (_, None) => format!(
            "Would import {what} from {} ({tail}); nothing was written (--dry-run)\n",
            report.source
        ),
        (false, Some(commit)) => format!(
            "Imported {what} from {} in commit {} ({tail}){marked}\n",
            report.source,
            &commit.to_string()[..10]
        ),
    }
}

fn json(report: &ImportReport) -> serde_json::Value {
    serde_json::json!({
        "source": report.source,
        "dry_run": report.dry_run,
        "found": report.found,
        "imported": report.imported.iter().map(|(id, title)| serde_json::json!({"id": id, "title": title})).collect::<Vec<_>>(),
        "already_imported": report.already,
        "maintenances": report.maintenances.iter().map(|(id, title)| serde_json::json!({"id": id, "title": title})).collect::<Vec<_>>(),
        "maintenances_already_imported": report.maintenances_already,
        "events": report.events,
        "files": report.files,
        "problems": report.problems.iter().map(|p| serde_json::json!({"file": p.file, "line": p.line, "message": p.message})).collect::<Vec<_>>(),
        "adjustments": report.adjustments,
        "fractions_of_seconds_dropped": report.fractions_dropped,
        "commit": report.commit.map(|c| c.to_string()),
    })
}
