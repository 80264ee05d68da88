//! Dynamic shell completion (clap_complete's CompleteEnv): besides commands
//! and flags, the values only the repository knows: incident ids, action
//! items, severities, states, roles, milestones and postmortem templates.
//! Completion reads only HEAD's folder listing and the config (no incident
//! files, no history), and a problem gives no candidates, never a message.

use std::ffi::OsStr;
use std::path::PathBuf;

use clap_complete::engine::{ArgValueCompleter, CompletionCandidate};
use incident::config::Config;
use incident::store::Store;

/// Attach a completer to each argument of `command` that names something
/// in the repository, by the argument's name, so new commands get them too.
pub fn attach(command: clap::Command, _path: &str) -> clap::Command {
    // mut_args keeps the arguments in place (mut_arg would move a
    // positional argument behind the others).
    command.mut_args(|arg| {
        let completer: fn(&OsStr) -> Vec<CompletionCandidate> = match arg.get_id().as_str() {
            "id" | "ids" | "duplicate_of" => incidents,
            "item" => action_items,
            "severity" | "severities" => severities,
            "status" | "statuses" => states,
            "roles" => roles,
            "milestones" => milestone_settings,
            "clear_milestones" => milestones,
            "template" => templates,
            _ => return arg,
        };
        arg.add(ArgValueCompleter::new(completer))
    })
}

/// The repository the command line being completed is about: `-C DIR`
/// when it has one, else the current folder.
fn store() -> Option<Store> {
    // The shell runs `incident -- incident ARGS...`.
    let args: Vec<String> = std::env::args().skip_while(|a| a != "--").collect();
    let mut dir = PathBuf::from(".");
    for (i, arg) in args.iter().enumerate() {
        if arg == "-C" {
            if let Some(next) = args.get(i + 1) {
                dir = dir.join(next);
            }
        } else if let Some(rest) = arg.strip_prefix("-C")
            && !rest.starts_with('-')
        {
            dir = dir.join(rest);
        }
    }
    Store::open(&dir).ok()
}

fn config() -> Option<Config> {
    store()?.config().ok()
}

fn matching(current: &OsStr, names: Vec<String>, suffix: &str) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy().to_lowercase();
    names
        .into_iter()
        .filter(|n| n.to_lowercase().starts_with(&current))
        .map(|n| CompletionCandidate::new(format!("{n}{suffix}")))
        .collect()
}

/// Incident ids, newest first, with the slug as help; by id prefix, else
/// by slug fragment (as incident itself finds them).
fn incidents(current: &OsStr) -> Vec<CompletionCandidate> {
    incident_ids(current, "")
}

fn incident_ids(current: &OsStr, suffix: &str) -> Vec<CompletionCandidate> {
    let Some(store) = store() else {
        return Vec::new();
    };
    let Ok(Some(tree)) = store.head_tree() else {
        return Vec::new();
    };
    let Ok(folders) = store.folders(&tree) else {
        return Vec::new();
    };
    let current = current.to_string_lossy().to_lowercase();
    let by_id: Vec<_> = folders
        .iter()
        .filter(|f| f.id.starts_with(&current))
        .collect();
    let chosen = if by_id.is_empty() {
        folders
            .iter()
            .filter(|f| f.slug.contains(&current))
            .collect()
    } else {
        by_id
    };
    chosen
        .into_iter()
        .map(|f| {
            CompletionCandidate::new(format!("{}{suffix}", f.id)).help(Some(f.slug.clone().into()))
        })
        .collect()
}

/// `ID/N`: incidents first (`k3f9x2/`), then that incident's items.
fn action_items(current: &OsStr) -> Vec<CompletionCandidate> {
    let text = current.to_string_lossy();
    let Some((query, item)) = text.split_once('/') else {
        return incident_ids(current, "/");
    };
    let items = || -> Option<Vec<CompletionCandidate>> {
        let store = store()?;
        let tree = store.head_tree().ok()??;
        let folder = store.find(&tree, query).ok()?;
        let actions = incident::ops::action::read_actions(&store, &tree, &folder).ok()?;
        Some(
            actions
                .iter()
                .map(|a| (a.number.to_string(), a))
                .filter(|(number, a)| number.starts_with(item) || a.id.starts_with(item))
                .map(|(number, a)| {
                    CompletionCandidate::new(format!("{query}/{number}"))
                        .help(Some(format!("{} ({})", a.text, a.status).into()))
                })
                .collect(),
        )
    };
    items().unwrap_or_default()
}

fn severities(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(config) = config() else {
        return Vec::new();
    };
    let current = current.to_string_lossy().to_lowercase();
    config
        .severities
        .iter()
        .filter(|s| s.name.to_lowercase().starts_with(&current))
        .map(|s| CompletionCandidate::new(&s.name).help(Some(s.description.clone().into())))
        .collect()
}

/// Names from the config; with a suffix `=` (`scribe=`), only before one is typed.
fn config_names(
    current: &OsStr,
    names: fn(&Config) -> Vec<String>,
    suffix: &str,
) -> Vec<CompletionCandidate> {
    if !suffix.is_empty() && current.to_string_lossy().contains(suffix) {
        return Vec::new();
    }
    config().map_or_else(Vec::new, |c| matching(current, names(&c), suffix))
}

fn states(current: &OsStr) -> Vec<CompletionCandidate> {
    config_names(current, Config::state_names, "")
}

/// `--role ROLE=NAME`.
fn roles(current: &OsStr) -> Vec<CompletionCandidate> {
    config_names(current, Config::role_names, "=")
}

fn milestones(current: &OsStr) -> Vec<CompletionCandidate> {
    config_names(current, Config::milestone_names, "")
}

/// `--milestone NAME[=TIME]`.
fn milestone_settings(current: &OsStr) -> Vec<CompletionCandidate> {
    config_names(current, Config::milestone_names, "=")
}

fn templates(current: &OsStr) -> Vec<CompletionCandidate> {
    let names = || -> Option<Vec<String>> {
        let store = store()?;
        let tree = store.head_tree().ok()?;
        incident::ops::postmortem::template_names(&store, tree.as_ref()).ok()
    };
    matching(current, names().unwrap_or_default(), "")
}
