use incident::Result;
use incident::render::Format;
use incident::statuspage::{render, write};

use crate::cli::Context;

/// Build the public status page from the repository at a commit.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident status-page build --output _site\n  incident status-page build --output _site \\\n      --base-url https://status.example.com\n  incident status-page build --output /tmp/page-last-week --as-of HEAD~1"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    Build(BuildArgs),
}

/// Write the static page: index.html, incidents/, history/, feeds and the
/// Statuspage v2 JSON API under api/v2/. Only public updates and the
/// config's components and page settings are published. The same commit
/// always gives the same files; the page's clock is the commit's time.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The folder to write (created; what an earlier build wrote there is
    /// replaced, anything else in it is kept).
    #[arg(short, long, value_name = "DIR")]
    pub output: std::path::PathBuf,
    /// Build the page as it was at this commit, tag or branch (default: HEAD).
    #[arg(long, value_name = "REV")]
    pub as_of: Option<String>,
    /// Where the page is published (for feeds, links and the JSON's page.url).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let Sub::Build(args) = args.command;
    let store = context.store()?;
    let built = render(&store, args.as_of.as_deref(), args.base_url.as_deref())?;
    let written = write(&built, &args.output)?;
    let page = &built.page;
    let unresolved = page.incidents.iter().filter(|i| i.unresolved()).count();
    if context.format == Format::Json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            output: String,
            commit: String,
            files: usize,
            indicator: &'a str,
            incidents: usize,
            unresolved: usize,
        }
        return context.print(&incident::render::json(&Out {
            output: args.output.display().to_string(),
            commit: built.commit.to_string(),
            files: built.files.len(),
            indicator: page.indicator,
            incidents: page.incidents.len(),
            unresolved,
        })?);
    }
    let kept = if written.kept.is_empty() {
        String::new()
    } else {
        format!(
            "; kept what a build does not own: {}",
            written.kept.join(", ")
        )
    };
    context.confirm(&format!(
        "wrote {} files to {} from commit {}: {} ({} public incident{}, {} unresolved){kept}\n",
        built.files.len(),
        args.output.display(),
        &built.commit.to_string()[..10],
        page.description,
        page.incidents.len(),
        if page.incidents.len() == 1 { "" } else { "s" },
        unresolved
    ))
}
