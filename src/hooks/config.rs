//! Where hooks are defined, and whether they may run.
//!
//! Three files, in this order, each a list of `[[hook]]` tables:
//!
//! - per clone, `.git/incident/hooks.toml`: trusted (nobody else can put it there);
//! - per user, `~/.config/incident/hooks.toml` (`$XDG_CONFIG_HOME`): trusted;
//! - versioned, `incidents/hooks.toml`: arrives with `git pull`, so it never
//!   runs until someone runs `incident hooks trust` in this clone, and any
//!   edit revokes that trust (its SHA-256 is what is trusted, as direnv does).
//!   Cloning a stranger's repository never runs their code.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::state_dir;
use crate::error::{Error, Result, io_err};
use crate::store::Store;
use crate::tomlfile;

/// The versioned hooks file, relative to the repository root.
pub const REPOSITORY_FILE: &str = "incidents/hooks.toml";
/// The trust record for the versioned file, in `.git/incident/`.
const TRUST_FILE: &str = "hooks-trust";
/// A hook that says nothing about its timeout gets this long.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// Where a hook was defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Clone,
    User,
    Repository,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Clone => "clone",
            Origin::User => "user",
            Origin::Repository => "repository",
        })
    }
}

/// One `[[hook]]` table.
#[derive(Debug, Clone)]
pub struct Hook {
    pub name: String,
    /// Event kinds (`declared`, `status`, `note`, ...), states a status
    /// change moves to (`resolved`), or `*` for every event.
    pub on: Vec<String>,
    /// Severities of the incident (empty: any).
    pub severity: Vec<String>,
    /// The program and its arguments; no shell. `incident` as the program
    /// means this very binary.
    pub run: Vec<String>,
    pub timeout: Duration,
    pub origin: Origin,
    /// The file it came from, for messages.
    pub file: String,
}

impl Hook {
    /// Whether this hook wants an event of `kind` (with `trailer`, the new
    /// state of a status change) on an incident of `severity`.
    pub fn wants(&self, kind: &str, trailer: &str, severity: &str) -> bool {
        let on = self
            .on
            .iter()
            .any(|k| k == "*" || k == kind || k == trailer);
        let severity_ok = self.severity.is_empty()
            || self
                .severity
                .iter()
                .any(|s| s.eq_ignore_ascii_case(severity));
        on && severity_ok
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HooksFile {
    #[serde(default)]
    #[allow(dead_code)]
    version: Option<u32>,
    #[serde(default, rename = "hook")]
    hooks: Vec<RawHook>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHook {
    name: String,
    on: Vec<String>,
    #[serde(default)]
    severity: Vec<String>,
    run: Vec<String>,
    #[serde(default)]
    timeout: Option<String>,
}

/// The state of trust in the versioned hooks file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepositoryTrust {
    /// There is no `incidents/hooks.toml`.
    Absent,
    Trusted,
    /// Nobody trusted it in this clone.
    NotTrusted,
    /// It was trusted, then it changed.
    Changed,
}

/// Every hook that may run, and what was left out.
#[derive(Debug, Default)]
pub struct HookSet {
    pub hooks: Vec<Hook>,
    /// Hooks of the versioned file that may not run (yet).
    pub untrusted: Vec<Hook>,
    pub repository_trust: Option<RepositoryTrust>,
}

impl HookSet {
    /// Find a hook by name among those that may run.
    pub fn find(&self, name: &str) -> Result<&Hook> {
        if let Some(hook) = self.hooks.iter().find(|h| h.name == name) {
            return Ok(hook);
        }
        if self.untrusted.iter().any(|h| h.name == name) {
            return Err(Error::HooksNotTrusted {
                file: REPOSITORY_FILE.into(),
                changed: self.repository_trust == Some(RepositoryTrust::Changed),
            });
        }
        Err(Error::Unknown {
            what: "hook",
            given: name.to_string(),
            valid: self.hooks.iter().map(|h| h.name.clone()).collect(),
        })
    }

    /// A warning for people when the versioned file holds hooks that do not run.
    pub fn untrusted_warning(&self) -> Option<String> {
        if self.untrusted.is_empty() {
            return None;
        }
        let why = match self.repository_trust {
            Some(RepositoryTrust::Changed) => "changed since it was trusted",
            _ => "is not trusted in this clone",
        };
        Some(format!(
            "{REPOSITORY_FILE} {why}, so its {} hook(s) did not run; review it, then run `incident hooks trust`",
            self.untrusted.len()
        ))
    }
}

/// The per-clone hooks file.
pub fn clone_file(store: &Store) -> PathBuf {
    state_dir(store).join("hooks.toml")
}

/// The per-user hooks file: `$XDG_CONFIG_HOME/incident/hooks.toml`, else
/// `~/.config/incident/hooks.toml`.
pub fn user_file() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(std::env::var_os("HOME").filter(|h| !h.is_empty())?).join(".config"),
    };
    Some(base.join("incident").join("hooks.toml"))
}

/// Read every hooks file; the versioned one's hooks run only when trusted.
pub fn load(store: &Store) -> Result<HookSet> {
    let mut set = HookSet::default();
    let clone = clone_file(store);
    if let Some(text) = read_plain(&clone)? {
        set.hooks
            .extend(parse(&clone.display().to_string(), &text, Origin::Clone)?);
    }
    if let Some(user) = user_file()
        && let Some(text) = read_plain(&user)?
    {
        set.hooks
            .extend(parse(&user.display().to_string(), &text, Origin::User)?);
    }
    let versioned = store.workdir().join(REPOSITORY_FILE);
    match read_plain(&versioned)? {
        None => set.repository_trust = Some(RepositoryTrust::Absent),
        Some(text) => {
            let hooks = parse(REPOSITORY_FILE, &text, Origin::Repository)?;
            let trust = trust_of(store, &text)?;
            if trust == RepositoryTrust::Trusted {
                set.hooks.extend(hooks);
            } else {
                set.untrusted = hooks;
            }
            set.repository_trust = Some(trust);
        }
    }
    let mut seen: Vec<&Hook> = Vec::new();
    for hook in set.hooks.iter().chain(&set.untrusted) {
        if let Some(first) = seen.iter().find(|h| h.name == hook.name) {
            return Err(Error::Invalid {
                file: hook.file.clone(),
                line: None,
                field: "name".into(),
                message: format!(
                    "a hook named '{}' is defined in {} already; hook names must be unique",
                    hook.name, first.file
                ),
            });
        }
        seen.push(hook);
    }
    Ok(set)
}

/// A plain file's text, `None` when it does not exist. Symbolic links are
/// refused: a versioned link could point anywhere on this machine.
fn read_plain(path: &Path) -> Result<Option<String>> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() || !meta.is_file() => Err(Error::InvalidInput {
            message: format!(
                "{} is a symbolic link or not a regular file; incident reads hooks only from a plain file",
                path.display()
            ),
        }),
        Ok(meta) if meta.len() > tomlfile::MAX_FILE_BYTES as u64 => Err(Error::FileTooLarge {
            file: path.display().to_string(),
            size: usize::try_from(meta.len()).unwrap_or(usize::MAX),
            limit: tomlfile::MAX_FILE_BYTES,
        }),
        Ok(_) => {
            let Some(bytes) = crate::store::ownfiles::read(path)? else {
                return Ok(None);
            };
            Ok(Some(
                tomlfile::text(&path.display().to_string(), &bytes)?.to_string(),
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// Parse one hooks file.
pub fn parse(file: &str, text: &str, origin: Origin) -> Result<Vec<Hook>> {
    let raw: HooksFile = tomlfile::parse(file, text)?;
    let mut hooks = Vec::new();
    for (index, hook) in raw.hooks.into_iter().enumerate() {
        let line = nth_table_line(text, index);
        let invalid = |field: &str, message: String| Error::Invalid {
            file: file.to_string(),
            line,
            field: field.to_string(),
            message,
        };
        if hook.name.trim().is_empty() || hook.name.chars().any(|c| c.is_control() || c == '/') {
            return Err(invalid(
                "name",
                "a hook needs a name of one line, without '/'".into(),
            ));
        }
        if hook.run.is_empty() || hook.run[0].trim().is_empty() {
            return Err(invalid(
                "run",
                format!(
                    "hook '{}' needs a program to run: run = [\"program\", \"arg\", ...] (no shell)",
                    hook.name
                ),
            ));
        }
        if hook.on.is_empty() {
            return Err(invalid(
                "on",
                format!(
                    "hook '{}' needs the events it runs on, for example on = [\"declared\", \"status\"] (\"*\" for all)",
                    hook.name
                ),
            ));
        }
        let timeout = match &hook.timeout {
            Some(text) => parse_timeout(text).map_err(|message| invalid("timeout", message))?,
            None => DEFAULT_TIMEOUT,
        };
        hooks.push(Hook {
            name: hook.name,
            on: hook.on,
            severity: hook.severity,
            run: hook.run,
            timeout,
            origin,
            file: file.to_string(),
        });
    }
    Ok(hooks)
}

/// The line of the `index`-th `[[hook]]` header.
fn nth_table_line(text: &str, index: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("[[hook]]"))
        .nth(index)
        .map(|(n, _)| n + 1)
}

/// `10s`, `500ms`, `2m`, `1m30s`.
pub fn parse_timeout(text: &str) -> std::result::Result<Duration, String> {
    let bad = || {
        format!("'{text}' is not a timeout; write it like \"10s\", \"500ms\", \"2m\" or \"1m30s\"")
    };
    let mut total = Duration::ZERO;
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let part = match &rest[..unit] {
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" => Duration::from_secs(number.saturating_mul(60)),
            "h" => Duration::from_secs(number.saturating_mul(3600)),
            _ => return Err(bad()),
        };
        rest = &rest[unit..];
        total = total.saturating_add(part);
    }
    if total.is_zero() || total > MAX_TIMEOUT {
        return Err(format!(
            "timeout '{text}' must be more than zero and at most one hour"
        ));
    }
    Ok(total)
}

fn digest(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn trust_path(store: &Store) -> PathBuf {
    state_dir(store).join(TRUST_FILE)
}

fn trust_of(store: &Store, text: &str) -> Result<RepositoryTrust> {
    let path = trust_path(store);
    let recorded = match std::fs::read_to_string(&path) {
        Ok(recorded) => recorded,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(RepositoryTrust::NotTrusted);
        }
        Err(e) => return Err(io_err(&path)(e)),
    };
    let wanted = format!("sha256:{} {REPOSITORY_FILE}", digest(text));
    if recorded.lines().any(|l| l.trim() == wanted) {
        Ok(RepositoryTrust::Trusted)
    } else {
        Ok(RepositoryTrust::Changed)
    }
}

/// What `incident hooks trust` trusted.
#[derive(Debug)]
pub struct Trusted {
    pub hooks: Vec<Hook>,
    pub digest: String,
    /// It was trusted already with this content.
    pub already: bool,
}

/// Trust the versioned hooks file as it is now in the working tree.
pub fn trust(store: &Store) -> Result<Trusted> {
    let versioned = store.workdir().join(REPOSITORY_FILE);
    let text = read_plain(&versioned)?.ok_or_else(|| Error::InvalidInput {
        message: format!(
            "there is no {REPOSITORY_FILE} to trust; hooks of your own go in .git/incident/hooks.toml or ~/.config/incident/hooks.toml, which need no trust"
        ),
    })?;
    let hooks = parse(REPOSITORY_FILE, &text, Origin::Repository)?;
    let already = trust_of(store, &text)? == RepositoryTrust::Trusted;
    let digest = digest(&text);
    if !already {
        let dir = state_dir(store);
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let path = trust_path(store);
        let temp = path.with_extension("tmp");
        std::fs::write(&temp, format!("sha256:{digest} {REPOSITORY_FILE}\n"))
            .map_err(io_err(&temp))?;
        std::fs::rename(&temp, &path).map_err(io_err(&path))?;
    }
    Ok(Trusted {
        hooks,
        digest,
        already,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_timeout("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_timeout("1m30s"), Ok(Duration::from_secs(90)));
        assert!(parse_timeout("10").is_err());
        assert!(parse_timeout("0s").is_err());
        assert!(parse_timeout("2h").is_err());
        assert!(parse_timeout("ten seconds").is_err());
    }

    #[test]
    fn hooks_parse_and_filter() {
        let text = "[[hook]]\nname = \"slack\"\non = [\"declared\", \"resolved\"]\nseverity = [\"SEV1\"]\nrun = [\"notify\"]\ntimeout = \"5s\"\n";
        let hooks = parse("h.toml", text, Origin::User).unwrap();
        assert_eq!(hooks.len(), 1);
        let hook = &hooks[0];
        assert!(hook.wants("declared", "declared", "sev1"));
        assert!(hook.wants("status", "resolved", "SEV1"));
        assert!(!hook.wants("status", "mitigated", "SEV1"));
        assert!(!hook.wants("declared", "declared", "SEV2"));
        let err = parse(
            "h.toml",
            "[[hook]]\nname = \"x\"\non = [\"*\"]\nrun = []\n",
            Origin::User,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("h.toml:1: run:"), "{err}");
    }
}
