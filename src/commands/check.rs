use incident::ops::check::{CheckReport, check};
use incident::render::Format;
use incident::{Error, Result};

use crate::cli::Context;

/// Validate the whole repository at HEAD: every file parses, ids are unique,
/// names are known to the config, references resolve, milestones are in
/// order, and merges left no contradictions.
///
/// Prints one line per problem, `FILE:LINE: error: MESSAGE`, and exits 1 when
/// there is an error (warnings alone exit 0). `--format github` prints
/// GitHub Actions annotations instead; `--format json` a report.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident check\n  incident check --format github   # in CI, annotates the pull request"
)]
pub struct Args {}

pub fn run(context: &Context, _args: Args) -> Result<()> {
    let github = context.github_annotations;
    let store = context.store()?;
    let report = check(&store)?;
    for warning in &report.warnings {
        context.warn(warning);
    }
    if context.format == Format::Json && !github {
        context.print(&incident::render::json(&report)?)?;
    } else {
        let out = incident::render::problems::problems(&report.problems, "incident check", github);
        context.print(&out)?;
    }
    context.note(&summary(&report));
    if report.errors() > 0 {
        return Err(Error::InvalidInput {
            message: format!(
                "incident check found {} error{}",
                report.errors(),
                if report.errors() == 1 { "" } else { "s" }
            ),
        });
    }
    Ok(())
}

fn summary(report: &CheckReport) -> String {
    format!(
        "checked {} incident{} and {} event{} at commit {}: {} error{}, {} warning{}",
        report.incidents,
        plural(report.incidents),
        report.events,
        plural(report.events),
        report.commit.chars().take(10).collect::<String>(),
        report.errors(),
        plural(report.errors()),
        report.warnings(),
        plural(report.warnings()),
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
