//! The templates documents are rendered from (postmortems, stakeholder
//! updates): built into the binary, or the repository's own
//! `incidents/templates/<family>-NAME.md`, found in the working tree first,
//! then at HEAD, like the config. Every render is bounded in work, so a
//! template with loops over loops fails with a message instead of writing
//! megabytes for minutes.

use git2::Tree;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::store::{Store, read_blob};
use crate::tomlfile;

/// Where a repository keeps its own templates.
pub const TEMPLATES_DIR: &str = "incidents/templates";

/// The work one render may do: about this many template instructions, or
/// 64 times as many bytes of data made (see minijinja's fuel).
pub const FUEL: u64 = 500_000;

/// A template's text and the file name errors should point at.
#[derive(Debug, Clone)]
pub struct TemplateSource {
    pub name: String,
    /// `incidents/templates/postmortem-x.md` or `templates/postmortem-x.md (built in)`.
    pub file: String,
    pub text: String,
}

/// One family of templates.
pub struct Family {
    /// File names start with it: `postmortem`, `comms`.
    pub prefix: &'static str,
    /// What errors call one: "template", "comms template".
    pub what: &'static str,
    /// (name, file in the source tree, text) of the built-in ones.
    pub builtin: &'static [(&'static str, &'static str, &'static str)],
}

impl Family {
    /// `incidents/templates/<prefix>-<name>.md`.
    pub fn path(&self, name: &str) -> String {
        format!("{TEMPLATES_DIR}/{}-{name}.md", self.prefix)
    }

    /// Every name: built in, then the repository's own (working tree and HEAD).
    pub fn names(&self, store: &Store, tree: Option<&Tree<'_>>) -> Result<Vec<String>> {
        let mut names: Vec<String> = self.builtin.iter().map(|(n, _, _)| n.to_string()).collect();
        let prefix = format!("{}-", self.prefix);
        let mut add = |file: &str| {
            if let Some(name) = file
                .strip_prefix(&prefix)
                .and_then(|f| f.strip_suffix(".md"))
                && !names.iter().any(|n| n == name)
            {
                names.push(name.to_string());
            }
        };
        if let Ok(entries) = std::fs::read_dir(store.workdir().join(TEMPLATES_DIR)) {
            for entry in entries.flatten() {
                add(&entry.file_name().to_string_lossy());
            }
        }
        if let Some(tree) = tree
            && let Some(dir) = crate::store::subtree(&store.repo, tree, TEMPLATES_DIR)?
        {
            for entry in dir.iter() {
                if let Ok(name) = entry.name() {
                    add(name);
                }
            }
        }
        Ok(names)
    }

    /// A template by name: the repository's file (working tree first, then
    /// `tree`) or the built-in one.
    pub fn load(
        &self,
        store: &Store,
        tree: Option<&Tree<'_>>,
        name: &str,
    ) -> Result<TemplateSource> {
        let plain = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if plain {
            let path = self.path(name);
            let on_disk = store.workdir().join(&path);
            let bytes = match crate::store::files::read_regular(&on_disk) {
                Ok(Some(bytes)) => Some(bytes),
                Ok(None) => tree
                    .map(|t| read_blob(&store.repo, t, &path))
                    .transpose()?
                    .flatten(),
                Err(e) => return Err(e),
            };
            if let Some(bytes) = bytes {
                return Ok(TemplateSource {
                    name: name.to_string(),
                    text: tomlfile::text(&path, &bytes)?.to_string(),
                    file: path,
                });
            }
            if let Some((_, file, text)) = self.builtin.iter().find(|(n, _, _)| *n == name) {
                return Ok(TemplateSource {
                    name: name.to_string(),
                    file: format!("{file} (built in)"),
                    text: text.to_string(),
                });
            }
        }
        Err(Error::Unknown {
            what: self.what,
            given: name.to_string(),
            valid: self.names(store, tree)?,
        })
    }
}

/// An environment with the rules every template follows: an unknown name
/// is an error (not an empty string), and the work is bounded.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env
}

/// Render `template` with `context` in `env`; errors name the template's
/// file and line. `limit` is what the output is for, said when a template
/// runs out of work ("a postmortem").
pub fn render(
    env: &mut Environment<'_>,
    template: &TemplateSource,
    context: impl Serialize,
    limit: &str,
) -> Result<String> {
    let error = |e: minijinja::Error| Error::Invalid {
        file: template.file.clone(),
        line: e.line(),
        field: "template".into(),
        message: match (e.kind(), e.detail()) {
            (minijinja::ErrorKind::OutOfFuel, _) => format!(
                "the template does more work than {limit} needs (more than {FUEL} steps, or far more text than the {} bytes incident reads); look for loops over loops",
                tomlfile::MAX_FILE_BYTES
            ),
            (kind, Some(detail)) => format!("{kind}: {detail}"),
            (kind, None) => kind.to_string(),
        },
    };
    env.add_template_owned(template.name.clone(), template.text.clone())
        .map_err(error)?;
    env.get_template(&template.name)
        .map_err(error)?
        .render(minijinja::value::Serde(&context))
        .map_err(error)
}
