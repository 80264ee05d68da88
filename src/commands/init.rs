use std::path::PathBuf;

use incident::Result;
use incident::render::Format;

use crate::cli::Context;

/// Make a folder an incident repository.
///
/// Runs `git init` where there is no repository yet. Inside an existing
/// repository (an ops or service repository) everything incident writes goes
/// into the `incidents/` folder. Writes a commented `incidents/config.toml`
/// (severities, lifecycle, milestones, roles, time zone, ids) and commits it.
/// Running it again changes nothing.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident init                 # here\n  incident init ~/ops-incidents  # a new repository\n  incident -C ~/src/ops init     # inside an existing repository"
)]
pub struct Args {
    /// Folder to initialise (default: the current folder).
    pub path: Option<PathBuf>,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let path = match args.path {
        Some(path) if path.is_absolute() => path,
        Some(path) => context.dir.join(path),
        None => context.dir.clone(),
    };
    let outcome = incident::ops::init::init(&path, context.now()?, &context.commit_options)?;
    for warning in &outcome.warnings {
        context.warn(warning);
    }
    let workdir = outcome.workdir.display();
    if context.format == Format::Json {
        #[derive(serde::Serialize)]
        struct Out {
            repository: String,
            created_repository: bool,
            commit: Option<String>,
            already_initialised: bool,
        }
        return context.print(&incident::render::json(&Out {
            repository: workdir.to_string(),
            created_repository: outcome.created_repository,
            commit: outcome.commit.map(|c| c.to_string()),
            already_initialised: outcome.commit.is_none(),
        })?);
    }
    match outcome.commit {
        None => context.confirm(&format!(
            "{workdir} is an incident repository already (incidents/config.toml is committed); nothing changed\n"
        )),
        Some(commit) => {
            let created = if outcome.created_repository { "created a git repository and " } else { "" };
            context.confirm(&format!(
                "Initialised incident repository in {workdir}: {created}committed incidents/config.toml on {} ({})\nNext: edit incidents/config.toml to suit your team, or declare: incident declare \"TITLE\" --severity SEV3\n",
                outcome.branch,
                &commit.to_string()[..10]
            ))
        }
    }
}
