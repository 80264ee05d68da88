//! `incident postmortem check`: what CI runs on a postmortem pull request.
//!
//! Errors: a required section (one the template gives a prompt) is missing,
//! still holds its prompt or is empty; template placeholders remain; the
//! timeline is empty; an action item has no owner or no due date; the action
//! items block does not list the items the merge publishes (before
//! publication: the repository's; once published: those of the commit that
//! brought the text to the default branch).
//! Warnings: phrasing that blames a person. Every problem names file and line.

use git2::Tree;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::action::replay as replay_actions;
use crate::ops::postmortem::{
    IncidentFiles, folders_with_postmortem, load_template, postmortem_path, render_files,
};
use crate::ops::publication::{Arrival, default_tree, text_arrival};
use crate::ops::review_branch::ReviewBranch;
use crate::render::postmortem::{PROMPT_MARK, TemplateSource, blocks, header_template};
use crate::store::{FolderRef, Store, read_blob};
use crate::tomlfile;

pub use crate::model::problem::{Level, Problem};

/// Phrases that put blame on a person, and the blameless way to say it.
const BLAME_PHRASES: &[&str] = &[
    "'s fault",
    "’s fault",
    "human error",
    "should have known",
    "should have noticed",
    "should have caught",
    "should've known",
    "careless",
    "negligen",
    "incompetent",
    "screwed up",
    "messed up",
    "failed to notice",
    "didn't bother",
    "to blame",
    "blame on",
];

const BLAME_HINT: &str = "blameless wording describes what the system and process allowed, for example \"the deploy tool did not ask for confirmation\" rather than who erred";

const PLACEHOLDERS: &[&str] = &[
    "{{",
    "}}",
    "{%",
    "%}",
    "TBD",
    "FIXME",
    "XXX",
    "<placeholder>",
];

/// Which incidents to check.
#[derive(Debug, Clone)]
pub enum Targets {
    Ids(Vec<String>),
    All,
    /// Incidents whose folder differs between this revision and HEAD.
    ChangedSince(String),
}

fn heading(line: &str) -> Option<(usize, String)> {
    let trimmed = line.trim_end();
    let level = trimmed.chars().take_while(|c| *c == '#').count();
    if level == 0 || level > 6 || !trimmed[level..].starts_with(' ') {
        return None;
    }
    Some((level, trimmed[level..].trim().to_string()))
}

fn normalise(title: &str) -> String {
    title.trim().to_lowercase()
}

/// Lines (0-based) inside generated blocks, markers included.
fn generated_mask(lines: usize, found: &[crate::render::postmortem::Block]) -> Vec<bool> {
    let mut mask = vec![false; lines];
    for block in found {
        for flag in mask.iter_mut().take(block.end + 1).skip(block.begin) {
            *flag = true;
        }
    }
    mask
}

/// Headings of a rendered template that hold a prompt: the required sections.
fn required_sections(rendered: &str) -> Vec<String> {
    let mut required: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    for line in rendered.lines() {
        if let Some((level, title)) = heading(line) {
            current = (level >= 2).then_some(title);
        } else if line.trim_start().starts_with(PROMPT_MARK)
            && let Some(title) = &current
            && !required.iter().any(|r| normalise(r) == normalise(title))
        {
            required.push(title.clone());
        }
    }
    required
}

/// Check one incident's postmortem. The working-tree file is read when it
/// exists (so people can check before committing), else the one in `tree`,
/// else the one on the incident's review branch. Timeline and action items
/// are read from `tree` and the default branch together: items added on
/// the default branch during the review count.
pub fn check_folder(
    store: &Store,
    config: &Config,
    tree: &Tree<'_>,
    folder: &FolderRef,
) -> Result<Vec<Problem>> {
    let path = postmortem_path(&folder.path);
    let on_disk = store.workdir().join(&path);
    let mut bytes = match std::fs::symlink_metadata(&on_disk) {
        Ok(meta) if meta.is_file() => std::fs::read(&on_disk).ok(),
        _ => None,
    };
    if bytes.is_none() {
        bytes = read_blob(&store.repo, tree, &path)?;
    }
    let branch = ReviewBranch::new(store, &folder.id, &config.postmortem.remote);
    let tip = branch.tip().ok();
    let branch_tree = match &tip {
        Some(tip) if bytes.is_none() => tip.tree(store)?,
        _ => None,
    };
    if let Some(branch_tree) = &branch_tree {
        bytes = read_blob(&store.repo, branch_tree, &path)?;
    }
    let default_tree = default_tree(store, config)?;
    let mut trees = vec![tree];
    trees.extend(default_tree.as_ref().filter(|t| t.id() != tree.id()));
    trees.extend(branch_tree.as_ref());
    let published = match &default_tree {
        Some(t) => read_blob(&store.repo, t, &path)?,
        None => None,
    };
    let mut problems = Vec::new();
    let error = |line: usize, message: String, hint: Option<String>| Problem {
        level: Level::Error,
        file: path.clone(),
        line: Some(line),
        message,
        hint,
    };
    let Some(bytes) = bytes else {
        problems.push(error(
            1,
            format!("incident {} has no postmortem", folder.id),
            Some(format!("write it with `incident postmortem {}`", folder.id)),
        ));
        return Ok(problems);
    };
    // The text the default branch publishes, not a revision of it.
    let is_published = published.as_deref() == Some(bytes.as_slice());
    let text = tomlfile::text(&path, &bytes)?;
    let lines: Vec<&str> = text.lines().collect();
    let found_blocks = match blocks(&path, text) {
        Ok(found) => found,
        Err(Error::Invalid { line, message, .. }) => {
            problems.push(error(line.unwrap_or(1), message, None));
            Vec::new()
        }
        Err(e) => return Err(e),
    };
    let generated = generated_mask(lines.len(), &found_blocks);
    let files = IncidentFiles::read(store, &trees, folder)?;
    let incident = files.incident(config, folder);
    let template_name = header_template(text)
        .unwrap_or_else(|| config.postmortem_template(&incident.severity).to_string());
    let (required, template_blocks) = match load_template(store, Some(tree), &template_name)
        .and_then(|template| {
            render_files(config, folder, &files, &template).map(|(_, _, text)| (template, text))
        }) {
        Ok((template, rendered)) => {
            let fresh = blocks("(rendered template)", &rendered)?;
            if let (Some(mine), Some(theirs)) = (
                found_blocks.iter().find(|b| b.name == "actions"),
                fresh.iter().find(|b| b.name == "actions"),
            ) {
                let listed = &lines[mine.begin + 1..mine.end];
                let rendered_lines: Vec<&str> = rendered.lines().collect();
                if listed != &rendered_lines[theirs.begin + 1..theirs.end] {
                    let problem = if is_published {
                        published_actions_problem(store, config, folder, &template, listed)?
                    } else {
                        // Until it is published, the action items listed
                        // must be the ones the repository has: the merge
                        // publishes the list as it stands then.
                        Some(Problem {
                            level: Level::Error,
                            file: path.clone(),
                            line: None,
                            message: "the action items block is out of date: the repository's action items have changed since it was written".into(),
                            hint: Some(format!(
                                "run `incident postmortem {} --refresh`, so that the published postmortem lists them as they are",
                                folder.id
                            )),
                        })
                    };
                    problems.extend(problem.map(|p| Problem {
                        line: Some(mine.begin + 1),
                        ..p
                    }));
                }
            }
            let names = fresh.into_iter().map(|b| b.name).collect::<Vec<_>>();
            (required_sections(&rendered), names)
        }
        Err(e) => {
            problems.push(error(
                1,
                format!("cannot render template '{template_name}': {e}"),
                None,
            ));
            (Vec::new(), Vec::new())
        }
    };

    // Sections of the document: (heading line index, title, level).
    let sections: Vec<(usize, String)> = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| !generated[*i])
        .filter_map(|(i, l)| heading(l).map(|(_, t)| (i, t)))
        .collect();
    let mut last_found_line = 1;
    for title in &required {
        match sections
            .iter()
            .find(|(_, t)| normalise(t) == normalise(title))
        {
            Some((index, _)) => {
                last_found_line = index + 1;
                let end = sections
                    .iter()
                    .map(|(i, _)| *i)
                    .find(|i| i > index)
                    .unwrap_or(lines.len());
                let body_has_text = (index + 1..end).any(|i| {
                    let line = lines[i].trim();
                    !generated[i]
                        && !line.is_empty()
                        && !line.starts_with("<!--")
                        && !line.starts_with(PROMPT_MARK)
                });
                let has_prompt =
                    (index + 1..end).any(|i| lines[i].trim_start().starts_with(PROMPT_MARK));
                if !body_has_text && !has_prompt {
                    problems.push(error(
                        index + 1,
                        format!("required section '{title}' is empty"),
                        Some("write the section, or say why it does not apply".into()),
                    ));
                }
            }
            None => problems.push(error(
                last_found_line,
                format!("required section '{title}' is missing"),
                Some(format!("add a '## {title}' heading with its text")),
            )),
        }
    }
    let mut section = String::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some((_, title)) = heading(line) {
            section = title;
        }
        if generated[i] {
            continue;
        }
        if line.trim_start().starts_with(PROMPT_MARK) {
            problems.push(error(
                i + 1,
                format!(
                    "section '{section}' still holds its prompt: {}",
                    line.trim()
                ),
                Some("replace the '> TODO:' line with what happened".into()),
            ));
            continue;
        }
        if let Some(marker) = PLACEHOLDERS.iter().find(|p| line.contains(*p)) {
            problems.push(error(
                i + 1,
                format!("template placeholder '{marker}' left in place"),
                Some("replace it with the real text".into()),
            ));
        }
        let lower = line.to_lowercase();
        if let Some(phrase) = BLAME_PHRASES.iter().find(|p| lower.contains(*p)) {
            problems.push(Problem {
                level: Level::Warning,
                file: path.clone(),
                line: Some(i + 1),
                message: format!(
                    "\"{}\" assigns blame to a person",
                    phrase.trim_start_matches(['\'', '’'])
                ),
                hint: Some(BLAME_HINT.into()),
            });
        }
    }
    if template_blocks.iter().any(|b| b == "timeline") {
        match found_blocks.iter().find(|b| b.name == "timeline") {
            None => problems.push(error(
                last_found_line,
                "the generated timeline block is missing".into(),
                Some(format!(
                    "restore the BEGIN/END GENERATED timeline markers and run `incident postmortem {} --refresh`",
                    folder.id
                )),
            )),
            Some(block) => {
                let rows = (block.begin + 1..block.end)
                    .filter(|i| lines[*i].trim_start().starts_with('|'))
                    .count();
                // Two table lines are the header and its rule.
                if rows <= 2 {
                    problems.push(error(
                        block.begin + 1,
                        "the timeline is empty".into(),
                        Some(format!("run `incident postmortem {} --refresh`", folder.id)),
                    ));
                }
            }
        }
    }
    for action in replay_actions(&folder.id, &files.actions) {
        if action.status == "dropped" {
            continue;
        }
        // From the tree that has it: on a review branch that is the default branch's.
        let action_text = trees
            .iter()
            .find_map(|t| read_blob(&store.repo, t, &action.file).ok().flatten())
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default();
        let line_of = |key: &str| tomlfile::line_of_key(&action_text, key).unwrap_or(1);
        let reference = format!("{}/{}", folder.id, action.id);
        if action.owner.is_none() {
            problems.push(Problem {
                level: Level::Error,
                file: action.file.clone(),
                line: Some(line_of("text")),
                message: format!("action item {reference} (#{}) has no owner", action.number),
                hint: Some(format!("incident action edit {reference} --owner NAME")),
            });
        }
        if action.due.is_none() {
            problems.push(Problem {
                level: Level::Error,
                file: action.file.clone(),
                line: Some(line_of("text")),
                message: format!(
                    "action item {reference} (#{}) has no due date",
                    action.number
                ),
                hint: Some(format!("incident action edit {reference} --due YYYY-MM-DD")),
            });
        }
    }
    problems.sort_by(|a, b| a.file.cmp(&b.file).then(a.line.cmp(&b.line)));
    Ok(problems)
}

/// For a published postmortem whose action items block differs from the
/// items as they are now (items done or added since are fine): the error
/// when it does not list them as they stood in the commit that brought its
/// text to the default branch either, or a warning when this clone's
/// history does not reach that commit.
fn published_actions_problem(
    store: &Store,
    config: &Config,
    folder: &FolderRef,
    template: &TemplateSource,
    listed: &[&str],
) -> Result<Option<Problem>> {
    let path = postmortem_path(&folder.path);
    let Some((branch, arrival)) = text_arrival(store, config, folder)? else {
        return Ok(None);
    };
    let commit = match arrival {
        Arrival::Commit(commit) => commit,
        Arrival::Edge(edge) => {
            return Ok(Some(Problem {
                level: Level::Warning,
                file: path,
                line: None,
                message: format!(
                    "cannot check that the action items block lists the items as they stood when it was published: {}",
                    edge.explain(&branch, "the commit that published this text")
                ),
                hint: None,
            }));
        }
    };
    let then = store.repo.find_commit(commit)?.tree()?;
    let files = IncidentFiles::read(store, &[&then], folder)?;
    let (_, _, rendered) = render_files(config, folder, &files, template)?;
    let rendered_lines: Vec<&str> = rendered.lines().collect();
    let matches = blocks("(rendered template)", &rendered)?
        .iter()
        .find(|b| b.name == "actions")
        .is_none_or(|b| listed == &rendered_lines[b.begin + 1..b.end]);
    Ok((!matches).then(|| Problem {
        level: Level::Error,
        file: path,
        line: None,
        message: format!(
            "the published action items block does not list the incident's action items as they stood when this text reached {branch} (commit {})",
            &commit.to_string()[..10]
        ),
        hint: Some(format!(
            "run `incident postmortem {id} --refresh`: it starts a new review of the published postmortem on postmortem/{id}; merging that review publishes the items as they are",
            id = folder.id
        )),
    }))
}

/// The incident folders that `targets` names, all with a postmortem
/// (named incidents without one are kept, and reported as such).
pub fn select(store: &Store, tree: &Tree<'_>, targets: &Targets) -> Result<Vec<FolderRef>> {
    match targets {
        Targets::All => folders_with_postmortem(store, tree),
        Targets::Ids(ids) => ids.iter().map(|id| store.find(tree, id)).collect(),
        Targets::ChangedSince(rev) => {
            let old = store
                .repo
                .revparse_single(rev)
                .and_then(|o| o.peel_to_tree())
                .map_err(|e| Error::InvalidInput {
                    message: format!("cannot read revision '{rev}': {}", e.message()),
                })?;
            let id_at = |t: &Tree<'_>, path: &str| {
                t.get_path(std::path::Path::new(path)).ok().map(|e| e.id())
            };
            Ok(folders_with_postmortem(store, tree)?
                .into_iter()
                .filter(|f| id_at(&old, &f.path) != id_at(tree, &f.path))
                .collect())
        }
    }
}

/// Check every selected postmortem.
pub fn check(store: &Store, targets: &Targets) -> Result<(usize, Vec<Problem>)> {
    let config = store.config()?;
    let Some(tree) = store.head_tree()? else {
        return Ok((0, Vec::new()));
    };
    let folders = select(store, &tree, targets)?;
    let mut problems = Vec::new();
    for folder in &folders {
        problems.extend(check_folder(store, &config, &tree, folder)?);
    }
    Ok((folders.len(), problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompted_headings_are_required() {
        let text = "# T\n## Summary\n> TODO: say\n## Timeline\ntable\n## Lessons\n### Went well\n> TODO: x\n";
        assert_eq!(required_sections(text), ["Summary", "Went well"]);
        assert_eq!(heading("## Root Causes"), Some((2, "Root Causes".into())));
        assert_eq!(heading("#hashtag"), None);
    }
}
