//! git's configuration as git itself computes it.
//!
//! libgit2 reads the usual files but none of git's environment forms
//! (`GIT_CONFIG_GLOBAL`, `GIT_CONFIG_SYSTEM`, `GIT_CONFIG_NOSYSTEM`,
//! `GIT_CONFIG_COUNT`/`KEY_n`/`VALUE_n`, `GIT_CONFIG_PARAMETERS` from
//! `git -c`) and not every `includeIf` condition. So the effective config is
//! read once per command from `git config --list -z --show-scope
//! --show-origin`: every value, with the scope and file it came from, exactly
//! as git resolved them. It costs one short process (about 2 ms).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `system`, `global`, `local`, `worktree` or `command`.
    pub scope: String,
    /// `file:PATH`, `command line:`, `blob:...`.
    pub origin: String,
}

#[derive(Debug, Clone)]
struct Entry {
    /// Section and name lower-cased, subsection as written: `includeif.gitdir:~/x/.path`.
    key: String,
    /// `None` for a key written without `=` (a boolean true).
    value: Option<String>,
    origin: Origin,
}

/// The effective configuration, in git's order (later entries win).
#[derive(Debug, Clone, Default)]
pub struct GitConfig {
    entries: Vec<Entry>,
}

impl GitConfig {
    /// Read the config git uses in the repository at `git_dir` (with
    /// `workdir` as the folder it runs in), or outside any repository when
    /// `git_dir` is `None`.
    pub fn load(git_dir: Option<&Path>, workdir: &Path) -> Result<GitConfig> {
        let mut command = Command::new("git");
        command
            .args(["config", "--list", "-z", "--show-scope", "--show-origin"])
            .current_dir(workdir)
            .stdin(Stdio::null());
        match git_dir {
            Some(dir) => {
                command.env("GIT_DIR", dir).env("GIT_WORK_TREE", workdir);
            }
            None => {
                command.env_remove("GIT_DIR").env_remove("GIT_WORK_TREE");
            }
        }
        let output = command.output().map_err(|source| Error::GitCommand {
            command: "git config --list".into(),
            detail: format!("cannot run git: {source}"),
        })?;
        // Outside a repository and with no config at all, git exits 0 with
        // nothing; a broken config file exits 128 with git's message.
        if !output.status.success() {
            return Err(Error::GitCommand {
                command: "git config --list".into(),
                detail: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            });
        }
        Ok(GitConfig::parse(&output.stdout))
    }

    /// Parse `git config --list -z --show-scope --show-origin` output:
    /// `SCOPE\0ORIGIN\0KEY\nVALUE\0` (or `KEY\0` for a key without value).
    pub fn parse(bytes: &[u8]) -> GitConfig {
        let mut entries = Vec::new();
        let mut fields = bytes.split(|b| *b == 0);
        while let (Some(scope), Some(origin), Some(pair)) =
            (fields.next(), fields.next(), fields.next())
        {
            let text = String::from_utf8_lossy(pair);
            let (key, value) = match text.split_once('\n') {
                Some((key, value)) => (key.to_string(), Some(value.to_string())),
                None => (text.to_string(), None),
            };
            entries.push(Entry {
                key,
                value,
                origin: Origin {
                    scope: String::from_utf8_lossy(scope).into_owned(),
                    origin: String::from_utf8_lossy(origin).into_owned(),
                },
            });
        }
        GitConfig { entries }
    }

    /// A config made of `key=value` pairs, for tests.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> GitConfig {
        GitConfig {
            entries: pairs
                .iter()
                .map(|(key, value)| Entry {
                    key: normalize(key),
                    value: Some(value.to_string()),
                    origin: Origin {
                        scope: "command".into(),
                        origin: "command line:".into(),
                    },
                })
                .collect(),
        }
    }

    fn last(&self, key: &str) -> Option<&Entry> {
        let key = normalize(key);
        self.entries.iter().rev().find(|e| e.key == key)
    }

    /// Whether the key is set at all (even without a value).
    pub fn contains(&self, key: &str) -> bool {
        self.last(key).is_some()
    }

    /// The last value of `key`, as git's `git config KEY` prints it; a key
    /// without value reads as `None` here (see [`GitConfig::bool`]).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.last(key).and_then(|e| e.value.as_deref())
    }

    /// Every value of a multi-valued key, in order.
    pub fn get_all(&self, key: &str) -> Vec<&str> {
        let key = normalize(key);
        self.entries
            .iter()
            .filter(|e| e.key == key)
            .filter_map(|e| e.value.as_deref())
            .collect()
    }

    /// Where the effective value of `key` came from.
    pub fn origin(&self, key: &str) -> Option<&Origin> {
        self.last(key).map(|e| &e.origin)
    }

    /// A boolean as git reads it: no value, `true`, `yes`, `on` or a
    /// non-zero number is true; empty, `false`, `no`, `off` or 0 is false.
    pub fn bool(&self, key: &str) -> Result<Option<bool>> {
        let Some(entry) = self.last(key) else {
            return Ok(None);
        };
        match &entry.value {
            None => Ok(Some(true)),
            Some(value) => parse_bool(value)
                .map(Some)
                .ok_or_else(|| Error::GitConfigValue {
                    key: key.to_string(),
                    value: value.clone(),
                    origin: describe_origin(&entry.origin),
                    expected: "a boolean (true/false, yes/no, on/off, 1/0)".into(),
                }),
        }
    }

    /// Every setting with its scope and origin, as bytes: what a cache of
    /// git's output keys on, so that any change of config misses it.
    pub fn settings_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for entry in &self.entries {
            for field in [
                entry.origin.scope.as_str(),
                entry.origin.origin.as_str(),
                entry.key.as_str(),
            ] {
                out.extend_from_slice(field.as_bytes());
                out.push(0);
            }
            match &entry.value {
                Some(value) => {
                    out.push(b'=');
                    out.extend_from_slice(value.as_bytes());
                }
                None => out.push(b'-'),
            }
            out.push(0);
        }
        out
    }

    /// A path value: `~/` expands to the home folder, as `git config --type=path` does.
    pub fn path(&self, key: &str) -> Option<PathBuf> {
        let value = self.get(key)?;
        if value.is_empty() {
            return None;
        }
        Some(expand_home(value))
    }
}

/// `Section.sub.Name` → `section.sub.name`: git compares section and
/// variable names without case, subsections exactly.
fn normalize(key: &str) -> String {
    match (key.find('.'), key.rfind('.')) {
        (Some(first), Some(last)) if first < last => format!(
            "{}{}{}",
            key[..first].to_ascii_lowercase(),
            &key[first..last],
            key[last..].to_ascii_lowercase()
        ),
        _ => key.to_ascii_lowercase(),
    }
}

/// git's `git_parse_maybe_bool` for a value that was written with `=`.
pub fn parse_bool(value: &str) -> Option<bool> {
    let lower = value.trim().to_ascii_lowercase();
    match lower.as_str() {
        "true" | "yes" | "on" => Some(true),
        "" | "false" | "no" | "off" => Some(false),
        number => number.parse::<i64>().ok().map(|n| n != 0),
    }
}

/// `~/x` and `~` relative to `$HOME`, as git expands paths.
pub fn expand_home(value: &str) -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    match (value.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        (None, Some(home)) if value == "~" => home,
        _ => PathBuf::from(value),
    }
}

/// `file:/home/a/.gitconfig` → `/home/a/.gitconfig`; others as git prints them.
pub fn describe_origin(origin: &Origin) -> String {
    match origin.origin.strip_prefix("file:") {
        Some(path) => path.to_string(),
        None if origin.scope == "command" => {
            "the command line or GIT_CONFIG_COUNT/GIT_CONFIG_KEY_n".into()
        }
        None => origin.origin.clone(),
    }
}

/// The file `git config --global` writes, and whether git can write it:
/// `GIT_CONFIG_GLOBAL` when set, else `~/.gitconfig`, unless only the XDG
/// file (`$XDG_CONFIG_HOME/git/config`, `~/.config/git/config`) exists.
pub fn global_config_file() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("GIT_CONFIG_GLOBAL") {
        return Some(PathBuf::from(path));
    }
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    let dotfile = home.join(".gitconfig");
    let xdg = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("git/config"),
        None => home.join(".config/git/config"),
    };
    if !dotfile.exists() && xdg.exists() {
        Some(xdg)
    } else {
        Some(dotfile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scopes_origins_and_keys_without_values() {
        let raw = b"global\0file:/h/.gitconfig\0user.name\nAda\0local\0file:.git/config\0x.flag\0local\0file:.git/config\0x.empty\n\0command\0command line:\0user.name\nBob\0";
        let config = GitConfig::parse(raw);
        assert_eq!(config.get("user.name"), Some("Bob"));
        assert_eq!(config.get("User.Name"), Some("Bob"));
        assert_eq!(config.origin("user.name").unwrap().scope, "command");
        assert_eq!(config.get_all("user.name"), ["Ada", "Bob"]);
        assert_eq!(config.bool("x.flag").unwrap(), Some(true));
        assert_eq!(config.bool("x.empty").unwrap(), Some(false));
        assert_eq!(config.bool("x.missing").unwrap(), None);
    }

    #[test]
    fn booleans_follow_git() {
        for yes in ["true", "YES", "on", "1", "42"] {
            assert_eq!(parse_bool(yes), Some(true), "{yes}");
        }
        for no in ["false", "No", "off", "0", ""] {
            assert_eq!(parse_bool(no), Some(false), "{no}");
        }
        assert_eq!(parse_bool("maybe"), None);
        let config = GitConfig::from_pairs(&[("commit.gpgSign", "maybe")]);
        assert!(config.bool("commit.gpgsign").is_err());
    }

    #[test]
    fn subsections_keep_their_case() {
        assert_eq!(normalize("Remote.Origin.URL"), "remote.Origin.url");
        assert_eq!(
            normalize("includeIf.gitdir:~/Work/.path"),
            "includeif.gitdir:~/Work/.path"
        );
        assert_eq!(normalize("User.Name"), "user.name");
    }
}
