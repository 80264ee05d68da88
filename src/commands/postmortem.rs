use std::process::Command as Process;

use incident::ops::postmortem::{PostmortemRequest, write};
use incident::ops::postmortem_check::{Level, Targets, check};
use incident::ops::review::{PostmortemState, review};
use incident::render::Format;
use incident::{Error, Result};

use crate::cli::Context;

/// Write an incident's postmortem from a template, prefilled from the
/// repository; review it as a pull request; check it in CI.
///
/// Generated parts (facts, impact, milestones, timeline, action items) sit
/// between BEGIN/END GENERATED markers: `--refresh` rewrites only those and
/// never touches text people wrote. Templates: sre (default), lightweight,
/// pagerduty, or incidents/templates/postmortem-NAME.md in the repository.
#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Examples:\n  incident postmortem k3f9\n  incident postmortem k3f9 --template pagerduty --edit\n  incident postmortem k3f9 --refresh\n  incident postmortem review k3f9 --push\n  incident postmortem check --changed-since origin/main --format github"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Sub>,
    /// Incident id, unique id prefix, or a fragment of its title's slug.
    #[arg(required = true)]
    pub id: Option<String>,
    /// Template name (default: from the config, by severity).
    #[arg(long, value_name = "NAME")]
    pub template: Option<String>,
    /// Update the generated parts of an existing postmortem.
    #[arg(long)]
    pub refresh: bool,
    /// Open the postmortem in your editor (the one git uses) before committing it.
    #[arg(long)]
    pub edit: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    Review(ReviewArgs),
    Check(CheckArgs),
}

/// Put the postmortem on branch postmortem/<id>, with the incident in state
/// `postmortem`, for review as a pull request. Your current branch, index and
/// working tree stay as they are. Merging the branch publishes it.
#[derive(Debug, clap::Args)]
pub struct ReviewArgs {
    /// Incident id, unique id prefix, or a fragment of its title's slug.
    pub id: String,
    /// Push the branch to the remote.
    #[arg(long)]
    pub push: bool,
    /// The remote to push to (default: the config's, normally origin).
    #[arg(long, value_name = "NAME")]
    pub remote: Option<String>,
}

/// Check postmortems: required sections written, no prompts or template
/// placeholders left, a timeline, action items with owner and due date.
/// Exits 1 on errors; blaming phrases are warnings. With no incident named,
/// checks every postmortem. `--format github` prints GitHub Actions annotations.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Incidents to check.
    #[arg(conflicts_with_all = ["all", "changed_since"])]
    pub ids: Vec<String>,
    /// Check every postmortem.
    #[arg(long)]
    pub all: bool,
    /// Check postmortems of incidents changed since REV (e.g. origin/main).
    #[arg(long, value_name = "REV", conflicts_with = "all")]
    pub changed_since: Option<String>,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    match args.command {
        Some(Sub::Review(review_args)) => run_review(context, review_args),
        Some(Sub::Check(check_args)) => run_check(context, check_args),
        None => run_write(context, args),
    }
}

fn run_write(context: &Context, args: Args) -> Result<()> {
    let id = args.id.ok_or_else(|| Error::Usage {
        message: "name the incident: incident postmortem ID".into(),
    })?;
    let store = context.store()?;
    let request = PostmortemRequest {
        template: args.template,
        refresh: args.refresh,
        edit: args.edit,
    };
    let git_dir = store.repo.path().to_path_buf();
    let mut editor = |path: &str, text: &str| open_editor(context, &git_dir, path, text);
    let outcome = write(&store, &id, &request, context.now()?, &mut editor)?;
    for block in &outcome.missing_blocks {
        context.warn(&format!(
            "{} has no generated block '{block}' any more; it was left out (restore its BEGIN/END GENERATED markers to get it back)",
            outcome.path
        ));
    }
    match &outcome.committed {
        Some(committed) => {
            super::print_warnings(context, committed);
            let verb = if outcome.created { "wrote" } else { "updated" };
            context.print(&format!(
                "{}: {verb} {} (template {}) in commit {}\n",
                outcome.incident.id,
                outcome.path,
                outcome.template,
                &committed.commit.to_string()[..10]
            ))?;
            if outcome.created {
                context.note(&format!(
                    "next: fill in the '> TODO:' sections, commit, then `incident postmortem review {} --push`",
                    outcome.incident.id
                ));
            }
            Ok(())
        }
        None => context.print(&format!(
            "{}: {} is up to date; nothing to commit\n",
            outcome.incident.id, outcome.path
        )),
    }
}

/// Let a person edit `text` in their editor; the result, or an error when
/// the editor fails.
fn open_editor(
    context: &Context,
    git_dir: &std::path::Path,
    path: &str,
    text: &str,
) -> Result<String> {
    // The editor git would use (GIT_EDITOR, core.editor, VISUAL, EDITOR, vi).
    let editor = crate::cli::text::git_editor(&context.dir);
    let file = git_dir.join("INCIDENT_POSTMORTEM.md");
    let io = |source| Error::Io {
        path: file.clone(),
        source,
    };
    std::fs::write(&file, text).map_err(io)?;
    context.note(&format!(
        "editing {path} with {editor}; save and quit to commit it"
    ));
    let status = Process::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$@\""))
        .arg(&editor)
        .arg(&file)
        .status()
        .map_err(io)?;
    let edited = std::fs::read_to_string(&file).map_err(io);
    let _ = std::fs::remove_file(&file);
    if !status.success() {
        return Err(Error::InvalidInput {
            message: format!("the editor '{editor}' failed ({status}); nothing was committed"),
        });
    }
    edited
}

fn run_review(context: &Context, args: ReviewArgs) -> Result<()> {
    let store = context.store()?;
    let outcome = review(
        &store,
        &args.id,
        context.now()?,
        args.push,
        args.remote.as_deref(),
    )?;
    if context.format == Format::Json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            id: &'a str,
            branch: &'a str,
            commit: Option<String>,
            pushed: Option<&'a str>,
            target: &'a str,
            pull_request_url: Option<&'a str>,
        }
        return context.print(&incident::render::json(&Out {
            id: &outcome.incident.id,
            branch: &outcome.branch,
            commit: outcome.commit.map(|c| c.to_string()),
            pushed: outcome.pushed.as_deref(),
            target: &outcome.target,
            pull_request_url: outcome.pull_request_url.as_deref(),
        })?);
    }
    let mut text = match outcome.commit {
        Some(commit) => format!(
            "{}: postmortem in review on branch {} (commit {}; your branch is unchanged)\n",
            outcome.incident.id,
            outcome.branch,
            &commit.to_string()[..10]
        ),
        None => format!(
            "{}: branch {} is up to date\n",
            outcome.incident.id, outcome.branch
        ),
    };
    if let Some(remote) = &outcome.pushed {
        text.push_str(&format!("pushed {} to {remote}\n", outcome.branch));
    }
    match &outcome.pull_request_url {
        Some(url) => text.push_str(&format!("open the pull request: {url}\n")),
        None if outcome.pushed.is_some() => text.push_str(&format!(
            "open a pull request from {} into {}\n",
            outcome.branch, outcome.target
        )),
        None => text.push_str(&format!(
            "push it with `incident postmortem review {} --push`, or `git push origin {}`\n",
            outcome.incident.id, outcome.branch
        )),
    }
    context.print(&text)
}

fn run_check(context: &Context, args: CheckArgs) -> Result<()> {
    let store = context.store()?;
    let targets = if let Some(rev) = args.changed_since {
        Targets::ChangedSince(rev)
    } else if args.ids.is_empty() || args.all {
        Targets::All
    } else {
        Targets::Ids(args.ids)
    };
    let (checked, problems) = check(&store, &targets)?;
    let errors = problems.iter().filter(|p| p.level == Level::Error).count();
    let warnings = problems.len() - errors;
    let out = if context.format == Format::Json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            checked: usize,
            errors: usize,
            warnings: usize,
            problems: &'a [incident::ops::postmortem_check::Problem],
        }
        incident::render::json(&Out {
            checked,
            errors,
            warnings,
            problems: &problems,
        })?
    } else {
        incident::render::problems::problems(
            &problems,
            "postmortem check",
            context.github_annotations,
        )
    };
    context.print(&out)?;
    if context.format != Format::Json {
        context.note(&format!(
            "checked {checked} postmortem{}: {errors} error{}, {warnings} warning{}",
            if checked == 1 { "" } else { "s" },
            if errors == 1 { "" } else { "s" },
            if warnings == 1 { "" } else { "s" },
        ));
    }
    if errors > 0 {
        return Err(Error::InvalidInput {
            message: format!(
                "postmortem check failed with {errors} error{}",
                if errors == 1 { "" } else { "s" }
            ),
        });
    }
    Ok(())
}

/// The postmortem path when `resolve` wrote one in its commit.
pub fn written_with(
    store: &incident::store::Store,
    outcome: &incident::ops::update::UpdateOutcome,
) -> Option<String> {
    let path = incident::ops::postmortem::postmortem_path(&outcome.incident.folder);
    let commit = store.repo.find_commit(outcome.committed.commit).ok()?;
    let parent = commit.parent(0).ok()?.tree().ok()?;
    let here = commit.tree().ok()?;
    let at = |t: &git2::Tree<'_>| t.get_path(std::path::Path::new(&path)).ok().map(|e| e.id());
    (at(&here).is_some() && at(&parent).is_none()).then_some(path)
}

/// For `show`: the postmortem's state, with `postmortem_published` taken
/// from the commit that brought it to the default branch.
pub fn add_publication(
    store: &incident::store::Store,
    config: &incident::config::Config,
    tree: &git2::Tree<'_>,
    folder: &incident::store::FolderRef,
    incident: &mut incident::model::incident::Incident,
) -> Result<PostmortemState> {
    let state = incident::ops::review::state(store, config, tree, folder)?;
    if let PostmortemState::Published { publication, .. } = &state {
        incident.milestones.insert(
            "postmortem_published".into(),
            incident::model::incident::Milestone {
                at: publication.at,
                source: incident::model::incident::MilestoneSource::Recorded,
            },
        );
    }
    Ok(state)
}

/// For `show`: the postmortem's state added to its output (a line in a
/// table, a section in Markdown, a `postmortem` object in JSON).
pub fn with_state(
    context: &Context,
    config: &incident::config::Config,
    state: &PostmortemState,
    text: String,
) -> Result<String> {
    let zone = config.zone();
    let (status, path, branch, publication) = match state {
        PostmortemState::None => return Ok(text),
        PostmortemState::Draft { path } => ("draft", path, None, None),
        PostmortemState::InReview { path, branch } => ("in_review", path, Some(branch), None),
        PostmortemState::Published { path, publication } => {
            ("published", path, None, Some(publication))
        }
    };
    match context.format {
        Format::Json => {
            let mut value: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| Error::InvalidInput {
                    message: format!("internal error: show printed invalid JSON: {e}"),
                })?;
            if let Some(object) = value.as_object_mut() {
                object.insert(
                    "postmortem".into(),
                    serde_json::json!({
                        "status": status,
                        "path": path,
                        "review_branch": branch,
                        "published_on": publication.map(|p| p.branch.clone()),
                        "published_at": publication.map(|p| p.at.to_rfc3339()),
                        "published_in_commit": publication.map(|p| p.commit.to_string()),
                    }),
                );
            }
            incident::render::json(&value)
        }
        Format::Csv => Ok(text),
        format => {
            let line = match (branch, publication) {
                (Some(branch), _) => format!("{path} in review on branch {branch}"),
                (_, Some(p)) => format!(
                    "{path} published on {} at {} (commit {})",
                    p.branch,
                    zone.long(&p.at),
                    &p.commit.to_string()[..10]
                ),
                _ => format!("draft in {path} (not yet in review)"),
            };
            Ok(if format == Format::Markdown {
                format!("{text}\n## Postmortem\n\n{line}\n")
            } else {
                format!("{text}\nPostmortem   {line}\n")
            })
        }
    }
}
