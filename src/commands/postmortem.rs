use incident::ops::postmortem::{PostmortemRequest, write};
use incident::ops::postmortem_check::{Level, Targets, check};
use incident::ops::review::{PostmortemState, review};
use incident::render::Format;
use incident::store::remote::Transfer;
use incident::{Error, Result};

use crate::cli::Context;

/// Write an incident's postmortem from a template, prefilled from the
/// repository; review it as a pull request; check it in CI.
///
/// The draft and every revision live on the branch postmortem/<id>, never on
/// your current branch (whose HEAD, index and working tree stay as they
/// are): the remote's copy of that branch is fetched first and built on, so
/// reviewers' commits are kept. Merging the branch publishes the postmortem.
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
    /// Open the review branch's postmortem in your editor (the one git
    /// uses), then commit it there (merged with changes the branch got
    /// meanwhile).
    #[arg(long)]
    pub edit: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    Review(ReviewArgs),
    Check(CheckArgs),
}

/// Put the postmortem in review: on branch postmortem/<id>, move the incident
/// to `postmortem` and refresh the generated parts; with --push, push the
/// branch (never forced; upstream set) on top of what reviewers pushed, and
/// print the address that opens the pull request. Your current branch, index
/// and working tree stay as they are. Merging the branch publishes it.
#[derive(Debug, clap::Args)]
pub struct ReviewArgs {
    /// Incident id, unique id prefix, or a fragment of its title's slug.
    pub id: String,
    /// Push the branch to the remote and set it as its upstream.
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
    let now = context.now()?;
    let edits_dir = store.repo.commondir().join("incident");
    let mut typed: Option<std::path::PathBuf> = None;
    let mut editor = |path: &str, text: &str| {
        let file = edits_dir.join(format!(
            "postmortem-{}-edit-{}.md",
            id.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
            now.format("%Y%m%dT%H%M%S")
        ));
        typed = Some(file.clone());
        open_editor(context, &file, path, text)
    };
    let mut transfer = Transfer {
        progress: None,
        interactive: context.interactive,
    };
    let written = write(&store, &id, &request, now, &mut transfer, &mut editor);
    let outcome = match written {
        Ok(outcome) => {
            if let Some(file) = &typed {
                let _ = std::fs::remove_file(file);
            }
            outcome
        }
        // Never throw away what was typed: the message names the file.
        Err(mut error) => {
            if let Some(file) = typed.filter(|f| f.exists()) {
                match &mut error {
                    Error::ReviewConflict { kept, .. } => *kept = Some(file),
                    _ => context.warn(&format!("your text is kept in {}", file.display())),
                }
            }
            return Err(error);
        }
    };
    for warning in &outcome.warnings {
        context.warn(warning);
    }
    for block in &outcome.missing_blocks {
        context.warn(&format!(
            "{} has no generated block '{block}' any more; it was left out (restore its BEGIN/END GENERATED markers to get it back)",
            outcome.path
        ));
    }
    if outcome.merged {
        context.note(&format!(
            "{} changed on {} while you edited; your changes were merged with those (no lines overlapped)",
            outcome.path, outcome.branch
        ));
    }
    let id = &outcome.incident.id;
    let Some(commit) = outcome.commit else {
        return context.confirm(&format!(
            "{id}: {} on branch {} is up to date; nothing to commit\n",
            outcome.path, outcome.branch
        ));
    };
    let verb = if outcome.created { "wrote" } else { "updated" };
    context.confirm(&format!(
        "{id}: {verb} {} (template {}) on branch {} (your current branch is unchanged) in commit {}\n",
        outcome.path,
        outcome.template,
        outcome.branch,
        &commit.to_string()[..10]
    ))?;
    if outcome.created {
        context.note(&format!(
            "next: `incident postmortem {id} --edit` to fill in the '> TODO:' sections, then `incident postmortem review {id} --push`"
        ));
    }
    Ok(())
}

/// Let a person edit `text` in their editor, in `file` (which the caller
/// removes once the text is committed); the result, or an error when the
/// editor fails.
pub(crate) fn open_editor(
    context: &Context,
    file: &std::path::Path,
    path: &str,
    text: &str,
) -> Result<String> {
    // The editor git would use (GIT_EDITOR, core.editor, VISUAL, EDITOR, vi).
    let editor = crate::cli::text::git_editor(&context.dir);
    context.note(&format!(
        "editing {path} with {editor}; save and quit to commit it"
    ));
    let edited = crate::cli::text::open_in_editor(&editor, file, text)?;
    if !edited.status.success() {
        return Err(Error::InvalidInput {
            message: format!(
                "the editor '{}' failed ({}); nothing was committed",
                edited.editor, edited.status
            ),
        });
    }
    Ok(edited.text)
}

fn run_review(context: &Context, args: ReviewArgs) -> Result<()> {
    let store = context.store()?;
    let mut transfer = Transfer {
        progress: None,
        interactive: context.interactive,
    };
    let outcome = review(
        &store,
        &args.id,
        context.now()?,
        args.push,
        args.remote.as_deref(),
        &mut transfer,
    )?;
    for warning in &outcome.warnings {
        context.warn(warning);
    }
    if context.format == Format::Json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            id: &'a str,
            branch: &'a str,
            commit: Option<String>,
            remote: Option<&'a str>,
            pushed: bool,
            on_remote: bool,
            unpushed: usize,
            target: Option<&'a str>,
            pull_request_url: Option<&'a str>,
        }
        return context.print(&incident::render::json(&Out {
            id: &outcome.incident.id,
            branch: &outcome.branch,
            commit: outcome.commit.map(|c| c.to_string()),
            remote: outcome.remote.as_deref(),
            pushed: outcome.pushed,
            on_remote: outcome.on_remote,
            unpushed: outcome.unpushed,
            target: outcome.target.as_deref(),
            pull_request_url: outcome.pull_request_url.as_deref(),
        })?);
    }
    let id = &outcome.incident.id;
    let branch = &outcome.branch;
    let mut text = match outcome.commit {
        Some(commit) => format!(
            "{id}: postmortem in review on branch {branch} (commit {}; your branch is unchanged)\n",
            &commit.to_string()[..10]
        ),
        None => format!("{id}: branch {branch} is up to date\n"),
    };
    match (&outcome.remote, outcome.on_remote) {
        (None, _) => text.push_str(&format!(
            "this repository has no remote: add one with `git remote add origin URL`, then `incident postmortem review {id} --push`\n"
        )),
        (Some(remote), false) => text.push_str(&format!(
            "{branch} is not on {remote} yet: `incident postmortem review {id} --push` pushes it\n"
        )),
        (Some(remote), true) => {
            if outcome.pushed {
                text.push_str(&format!(
                    "pushed {branch} to {remote} (its upstream)\n"
                ));
            } else if outcome.unpushed > 0 {
                text.push_str(&format!(
                    "{} commit{} on {branch} {} not on {remote} yet: `incident postmortem review {id} --push` adds them to the pull request\n",
                    outcome.unpushed,
                    if outcome.unpushed == 1 { "" } else { "s" },
                    if outcome.unpushed == 1 { "is" } else { "are" },
                ));
            }
            match (&outcome.pull_request_url, &outcome.target) {
                (Some(url), _) => text.push_str(&format!("open the pull request: {url}\n")),
                (None, Some(target)) => text.push_str(&format!(
                    "open a pull request from {branch} into {target} on {remote}\n"
                )),
                (None, None) => text.push_str(&format!(
                    "{remote} has no default branch yet to open a pull request into: push yours first (`git push -u {remote} main`)\n"
                )),
            }
        }
    }
    context.confirm(&text)
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

/// For `show`: the postmortem's state, with `postmortem_published` taken
/// from the commit that brought it to the default branch.
pub fn add_publication(
    store: &incident::store::Store,
    config: &incident::config::Config,
    tree: &git2::Tree<'_>,
    folder: &incident::store::FolderRef,
    incident: &mut incident::model::incident::Incident,
) -> Result<PostmortemState> {
    let state = incident::ops::publication::state(store, config, tree, folder, incident)?;
    if let PostmortemState::Published { publication, .. } = &state {
        // Without the publishing commit there is no time: never a guess.
        if let Some(at) = publication.at() {
            incident.milestones.insert(
                "postmortem_published".into(),
                incident::model::incident::Milestone {
                    at,
                    source: incident::model::incident::MilestoneSource::Recorded,
                },
            );
        }
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
        PostmortemState::Due { branch } => ("due", None, Some(branch), None),
        PostmortemState::Draft { path } => ("draft", Some(path), None, None),
        PostmortemState::InReview {
            path,
            branch,
            on_remote: false,
        } => ("draft", Some(path), Some(branch), None),
        PostmortemState::InReview { path, branch, .. } => {
            ("in_review", Some(path), Some(branch), None)
        }
        PostmortemState::Published { path, publication } => {
            ("published", Some(path), None, Some(publication))
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
                        "published_at": publication.and_then(|p| p.at()).map(|at| at.to_rfc3339()),
                        "published_in_commit": publication.and_then(|p| p.commit()).map(|c| c.to_string()),
                        "published_at_unknown": publication.and_then(|p| p.unknown_time()),
                    }),
                );
            }
            incident::render::json(&value)
        }
        Format::Csv => Ok(text),
        format => {
            let path = path.map(String::as_str).unwrap_or("postmortem.md");
            let line = match (status, branch, publication) {
                ("due", Some(branch), _) => format!(
                    "due; no draft yet (`incident postmortem {}` writes it on branch {branch})",
                    branch.trim_start_matches("postmortem/")
                ),
                ("draft", Some(branch), _) => format!(
                    "draft on branch {branch}, not pushed for review yet (`incident postmortem review {} --push`)",
                    branch.trim_start_matches("postmortem/")
                ),
                (_, Some(branch), _) => format!("{path} in review on branch {branch}"),
                (_, _, Some(p)) => match (p.at(), p.unknown_time()) {
                    (Some(at), _) => {
                        let commit = p
                            .commit()
                            .map(|c| format!(" (commit {})", &c.to_string()[..10]))
                            .unwrap_or_default();
                        format!(
                            "{path} published on {} at {}{commit}",
                            p.branch,
                            zone.long(&at)
                        )
                    }
                    (None, why) => format!(
                        "{path} published on {}, at a time this clone cannot tell: {}",
                        p.branch,
                        why.unwrap_or_default()
                    ),
                },
                _ => format!("draft in {path} on this branch (not on the default branch)"),
            };
            Ok(if format == Format::Markdown {
                format!("{text}\n## Postmortem\n\n{line}\n")
            } else {
                let line =
                    incident::render::incident::fit_line(&format!("Postmortem   {line}"), 13);
                format!("{text}\n{line}\n")
            })
        }
    }
}
