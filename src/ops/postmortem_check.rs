//! `incident postmortem check`: what CI runs on a postmortem pull request.
//!
//! Errors: a required section (one the template gives a prompt) is missing,
//! still holds its prompt or is empty; template placeholders remain; the
//! timeline is empty; an action item has no owner or no due date.
//! Warnings: phrasing that blames a person. Every problem names file and line.

use git2::Tree;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::ops::action::read_actions;
use crate::ops::postmortem::{folders_with_postmortem, load_template, postmortem_path, render_for};
use crate::render::postmortem::{PROMPT_MARK, blocks, header_template};
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
/// exists (so people can check before committing), else the one in `tree`.
pub fn check_folder(
    store: &Store,
    config: &Config,
    tree: &Tree<'_>,
    folder: &FolderRef,
) -> Result<Vec<Problem>> {
    let path = postmortem_path(&folder.path);
    let bytes = match std::fs::read(store.workdir().join(&path)) {
        Ok(bytes) => Some(bytes),
        Err(_) => read_blob(&store.repo, tree, &path)?,
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
    let incident = store.load(config, tree, folder)?;
    let template_name = header_template(text)
        .unwrap_or_else(|| config.postmortem_template(&incident.severity).to_string());
    let (required, template_blocks) = match load_template(store, Some(tree), &template_name)
        .and_then(|template| render_for(store, config, tree, folder, &template))
    {
        Ok((_, _, rendered)) => {
            let names = blocks("(rendered template)", &rendered)?
                .into_iter()
                .map(|b| b.name)
                .collect::<Vec<_>>();
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
    for action in read_actions(store, tree, folder)? {
        if action.status == "dropped" {
            continue;
        }
        let action_text =
            std::fs::read_to_string(store.workdir().join(&action.file)).unwrap_or_default();
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
