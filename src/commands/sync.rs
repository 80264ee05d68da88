use std::io::Write;

use incident::Result;
use incident::ops::sync::{Integration, SyncOutcome, SyncRequest, sync_with};
use incident::render::Format;
use incident::store::remote::Transfer;

use crate::cli::Context;

/// Share this clone's records: fetch, integrate, push.
///
/// Fast-forwards when it can; otherwise makes a merge commit (never
/// rewrites commits others may have), then pushes. When the remote moved on
/// meanwhile it starts over, a few times. Incident records never conflict
/// (one file per event); a file edited by hand on the same lines in two
/// clones, such as a postmortem, stops sync with the repository unchanged.
/// Plain `git pull` and `git push` remain equally valid.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident sync\n  incident sync --remote upstream\n  incident sync --dry-run   # fetch and say what would happen"
)]
pub struct Args {
    /// Remote to sync with (default: the branch's upstream, origin, or the only remote).
    #[arg(long, value_name = "NAME")]
    pub remote: Option<String>,
    /// Fetch and say what would happen, changing no branch or file.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let store = context.store()?;
    let request = SyncRequest {
        remote: args.remote,
        dry_run: args.dry_run,
    };
    // git's own progress lines, passed through as git would print them.
    let mut show_progress = |bytes: &[u8]| {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(bytes).and_then(|()| err.flush());
    };
    let mut transfer = Transfer {
        progress: if context.shows_progress() {
            Some(&mut show_progress)
        } else {
            None
        },
        interactive: context.interactive,
    };
    let outcome = sync_with(&store, &request, context.now()?, &mut transfer)?;
    if context.format == Format::Json {
        return context.print(&incident::render::json(&outcome)?);
    }
    context.confirm(&describe(&outcome))
}

fn describe(o: &SyncOutcome) -> String {
    let mut text = summary(o);
    if let Some(upstream) = &o.upstream_set {
        text.push_str(&format!(
            "branch '{}' set up to track '{upstream}'\n",
            o.branch
        ));
    }
    text
}

fn summary(o: &SyncOutcome) -> String {
    let remote = format!("{}/{}", o.remote, o.remote_branch);
    let (would, pushes) = if o.dry_run {
        ("would ", "would push")
    } else {
        ("", "pushed")
    };
    let commits = |n: usize| format!("{n} commit{}", if n == 1 { "" } else { "s" });
    let files = |n: usize| format!("{n} file{}", if n == 1 { "" } else { "s" });
    let head = o.head.chars().take(10).collect::<String>();
    let integrated = match &o.integration {
        Integration::UpToDate if o.sent == 0 => {
            return format!("{} is up to date with {remote} ({head})\n", o.branch);
        }
        Integration::UpToDate => format!("{remote} has nothing new"),
        Integration::NewBranch => format!(
            "{remote} does not exist yet; {} it as `git push -u {} {}` does",
            if o.dry_run {
                "would create"
            } else {
                "creating"
            },
            o.remote,
            o.branch
        ),
        Integration::FastForward => format!(
            "{}fast-forward {} to {remote}: {} received, {} updated",
            would,
            o.branch,
            commits(o.received),
            files(o.updated_files)
        ),
        Integration::Merge { .. } => format!(
            "{} {remote} into {}: {} received, {} updated",
            if o.dry_run { "would merge" } else { "merged" },
            o.branch,
            commits(o.received),
            files(o.updated_files)
        ),
        Integration::Conflict { paths } => {
            return format!(
                "sync would stop: these files changed on the same lines here and on {remote}:\n{}\n",
                paths
                    .iter()
                    .map(|p| format!("  {p}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    };
    let pushed = if o.sent > 0 {
        format!("; {pushes} {} to {remote}", commits(o.sent))
    } else {
        String::new()
    };
    format!("{integrated}{pushed} ({} now at {head})\n", o.branch)
}
