use std::path::PathBuf;

use incident::render::Format;
use incident::{Error, Result};

use crate::cli::Context;

/// Export everything losslessly: JSON Lines (the default, --format jsonl)
/// with a header, the config, and per incident its record, events in
/// replay order, postmortem and action items, each with the commit that
/// added it, then its derived state (marked derived). `incident import
/// jsonl` reads it back into the same files. --format csv gives one row per
/// incident with the milestones as columns, for spreadsheets.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident export > incidents.jsonl\n  incident export --format csv --output incidents.csv\n  incident export --as-of v1.4 --output then.jsonl"
)]
pub struct Args {
    /// Export the branch as it stood at this commit (id, tag or branch).
    #[arg(long, value_name = "REV")]
    pub as_of: Option<String>,
    /// Write to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let store = context.store()?;
    let (text, what) = match context.format {
        Format::Csv => (
            incident::export::csv::export(&store, args.as_of.as_deref())?,
            "CSV",
        ),
        Format::Table | Format::Json => (
            incident::export::jsonl(&store, args.as_of.as_deref())?,
            "JSON Lines",
        ),
        Format::Markdown => {
            return Err(Error::Usage {
                message: "incident export writes --format jsonl (the default) or csv".into(),
            });
        }
    };
    match &args.output {
        None => context.print(&text),
        Some(path) => {
            let temp = path.with_extension("incident-export.tmp");
            std::fs::write(&temp, &text).map_err(|source| Error::Io {
                path: temp.clone(),
                source,
            })?;
            std::fs::rename(&temp, path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            context.note(&format!(
                "exported {} line(s) of {what} to {}",
                text.lines().count(),
                path.display()
            ));
            Ok(())
        }
    }
}
