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
//!
//! Trust covers what a hook runs, too: every file of the working tree that
//! a hook's argv names (`run = ["sh", "scripts/notify.sh"]`), whichever
//! file defined the hook, is trusted by its SHA-256 with the versioned
//! file; a hook whose files changed (a `git pull`) does not run until they
//! are trusted again. And untrusted content never touches trusted hooks:
//! a broken versioned file, or one that reuses a trusted hook's name, is a
//! warning, never an error that stops the others.

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
    /// Hooks that may not run (yet): of the versioned file while it is not
    /// trusted, or naming files of the working tree that are not.
    pub untrusted: Vec<Hook>,
    pub repository_trust: Option<RepositoryTrust>,
    /// Files of the working tree that hooks run and that are not trusted
    /// as they are now (new, or changed since they were trusted).
    pub untrusted_files: Vec<String>,
    /// Problems of the versioned file, which never stop other hooks.
    pub warnings: Vec<String>,
}

impl HookSet {
    /// Find a hook by name among those that may run.
    pub fn find(&self, name: &str) -> Result<&Hook> {
        if let Some(hook) = self.hooks.iter().find(|h| h.name == name) {
            return Ok(hook);
        }
        if let Some(hook) = self.untrusted.iter().find(|h| h.name == name) {
            let file_untrusted = hook.origin == Origin::Repository
                && self.repository_trust != Some(RepositoryTrust::Trusted);
            return Err(Error::HooksNotTrusted {
                file: if file_untrusted {
                    REPOSITORY_FILE.into()
                } else {
                    self.untrusted_files.join(", ")
                },
                changed: file_untrusted && self.repository_trust == Some(RepositoryTrust::Changed),
            });
        }
        Err(Error::Unknown {
            what: "hook",
            given: name.to_string(),
            valid: self.hooks.iter().map(|h| h.name.clone()).collect(),
        })
    }

    /// Warnings for people: hooks that do not run, and why; problems of
    /// the versioned file.
    pub fn untrusted_warnings(&self) -> Vec<String> {
        let mut warnings = self.warnings.clone();
        let from_file = self
            .untrusted
            .iter()
            .filter(|h| h.origin == Origin::Repository)
            .count();
        let file_untrusted = matches!(
            self.repository_trust,
            Some(RepositoryTrust::NotTrusted | RepositoryTrust::Changed)
        );
        if file_untrusted && from_file > 0 {
            let why = match self.repository_trust {
                Some(RepositoryTrust::Changed) => "changed since it was trusted",
                _ => "is not trusted in this clone",
            };
            warnings.push(format!(
                "{REPOSITORY_FILE} {why}, so its {from_file} hook(s) did not run; review it, then run `incident hooks trust`"
            ));
        }
        if !self.untrusted_files.is_empty() {
            let names: Vec<&str> = self
                .untrusted
                .iter()
                .filter(|h| h.origin != Origin::Repository || !file_untrusted)
                .map(|h| h.name.as_str())
                .collect();
            if !names.is_empty() {
                warnings.push(format!(
                    "hook(s) {} did not run: {} in the working tree {} not trusted as {} now (new or changed, as by a `git pull`); review, then run `incident hooks trust`",
                    names.join(", "),
                    self.untrusted_files.join(", "),
                    if self.untrusted_files.len() == 1 { "is" } else { "are" },
                    if self.untrusted_files.len() == 1 { "it is" } else { "they are" },
                ));
            }
        }
        warnings
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

/// Read every hooks file; the versioned one's hooks run only when trusted,
/// and a hook that names files of the working tree only while those are.
///
/// The per-clone and per-user files are yours: an error in them is an
/// error. The versioned file is not: a problem in it is a warning, and its
/// hooks never replace or stop a hook of yours.
pub fn load(store: &Store) -> Result<HookSet> {
    let mut set = HookSet::default();
    let mut trusted: Vec<Hook> = Vec::new();
    let clone = clone_file(store);
    if let Some(text) = read_plain(&clone)? {
        trusted.extend(parse(&clone.display().to_string(), &text, Origin::Clone)?);
    }
    if let Some(user) = user_file()
        && let Some(text) = read_plain(&user)?
    {
        trusted.extend(parse(&user.display().to_string(), &text, Origin::User)?);
    }
    for (index, hook) in trusted.iter().enumerate() {
        if let Some(first) = trusted[..index].iter().find(|h| h.name == hook.name) {
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
    }
    let record = read_trust(store)?;
    let mut versioned = Vec::new();
    let versioned_path = store.workdir().join(REPOSITORY_FILE);
    match read_plain(&versioned_path) {
        Err(e) => {
            set.warnings
                .push(format!("{e}; its hooks do not run, yours do"));
            set.repository_trust = Some(RepositoryTrust::NotTrusted);
        }
        Ok(None) => set.repository_trust = Some(RepositoryTrust::Absent),
        Ok(Some(text)) => {
            let trust = match &record {
                Some(lines) if lines.matches(REPOSITORY_FILE, &digest(text.as_bytes())) => {
                    RepositoryTrust::Trusted
                }
                Some(lines) if lines.names(REPOSITORY_FILE) => RepositoryTrust::Changed,
                _ => RepositoryTrust::NotTrusted,
            };
            set.repository_trust = Some(trust);
            match parse(REPOSITORY_FILE, &text, Origin::Repository) {
                Ok(hooks) => versioned = hooks,
                Err(e) => set
                    .warnings
                    .push(format!("{e}; its hooks do not run, yours do")),
            }
        }
    }
    // A versioned hook never shadows one of yours, nor an earlier one.
    let mut kept: Vec<Hook> = Vec::new();
    for hook in versioned {
        if let Some(first) = trusted.iter().chain(&kept).find(|h| h.name == hook.name) {
            set.warnings.push(format!(
                "{REPOSITORY_FILE}: a hook named '{}' is defined in {} already, so this one is left out; rename it",
                hook.name, first.file
            ));
            continue;
        }
        kept.push(hook);
    }
    let file_trusted = set.repository_trust == Some(RepositoryTrust::Trusted);
    for hook in trusted.into_iter().chain(kept) {
        let mut runs = hook.origin != Origin::Repository || file_trusted;
        for (path, bytes) in working_tree_files(store, &hook) {
            let ok = record
                .as_ref()
                .is_some_and(|r| r.matches(&path, &digest(&bytes)));
            if !ok {
                runs = false;
                if !set.untrusted_files.contains(&path) {
                    set.untrusted_files.push(path);
                }
            }
        }
        if runs {
            set.hooks.push(hook);
        } else {
            set.untrusted.push(hook);
        }
    }
    Ok(set)
}

/// The files of the working tree (outside `.git`) that a hook's argv
/// names, as repository-relative paths, with their content: what trust
/// must cover besides the hooks file. Each argument counts, and the value
/// of an `--option=VALUE` argument; folders do not (a program that loads
/// code from the working tree by itself, as `python -m`, is not seen).
pub fn working_tree_files(store: &Store, hook: &Hook) -> Vec<(String, Vec<u8>)> {
    let root = store.workdir();
    let git_dir = store.repo.path();
    let mut found: Vec<(String, Vec<u8>)> = Vec::new();
    let skip_program = hook.run.first().is_some_and(|p| p == "incident");
    for (index, argument) in hook.run.iter().enumerate() {
        if index == 0 && skip_program {
            continue;
        }
        let mut candidates = vec![argument.as_str()];
        if let Some((_, value)) = argument.split_once('=') {
            candidates.push(value);
        }
        for candidate in candidates {
            let Some(relative) = inside(root, candidate) else {
                continue;
            };
            let path = root.join(&relative);
            if path.starts_with(git_dir)
                || std::fs::canonicalize(&path)
                    .is_ok_and(|p| std::fs::canonicalize(git_dir).is_ok_and(|g| p.starts_with(g)))
            {
                continue;
            }
            let name = relative.to_string_lossy().into_owned();
            if found.iter().any(|(n, _)| *n == name) {
                continue;
            }
            // A file, or a link to one; what it holds now is what is trusted.
            if let Ok(bytes) = std::fs::read(&path)
                && std::fs::metadata(&path).is_ok_and(|m| m.is_file())
            {
                found.push((name, bytes));
            }
        }
    }
    found
}

/// `candidate` as a path relative to `root`, when it names one inside it
/// (lexically: `..` that leaves the root, or an absolute path elsewhere,
/// names nothing inside).
fn inside(root: &Path, candidate: &str) -> Option<PathBuf> {
    use std::path::Component;
    if candidate.trim().is_empty() {
        return None;
    }
    let given = Path::new(candidate);
    let relative = if given.is_absolute() {
        given
            .strip_prefix(root)
            .ok()
            .map(Path::to_path_buf)
            .or_else(|| {
                let canonical = std::fs::canonicalize(root).ok()?;
                given.strip_prefix(&canonical).ok().map(Path::to_path_buf)
            })?
    } else {
        given.to_path_buf()
    };
    let mut parts: Vec<std::ffi::OsString> = Vec::new();
    for component in relative.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_os_string()),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(parts.iter().collect())
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

fn digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn trust_path(store: &Store) -> PathBuf {
    state_dir(store).join(TRUST_FILE)
}

/// The trust file: one `sha256:<hex> <path>` line per trusted file.
struct TrustRecord(Vec<(String, String)>);

impl TrustRecord {
    fn matches(&self, path: &str, digest: &str) -> bool {
        self.0.iter().any(|(d, p)| p == path && d == digest)
    }

    fn names(&self, path: &str) -> bool {
        self.0.iter().any(|(_, p)| p == path)
    }
}

/// `None` when nothing was ever trusted in this clone.
fn read_trust(store: &Store) -> Result<Option<TrustRecord>> {
    let path = trust_path(store);
    let recorded = match std::fs::read_to_string(&path) {
        Ok(recorded) => recorded,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(&path)(e)),
    };
    Ok(Some(TrustRecord(
        recorded
            .lines()
            .filter_map(|line| {
                let (digest, file) = line.trim().split_once(' ')?;
                Some((
                    digest.strip_prefix("sha256:")?.to_string(),
                    file.to_string(),
                ))
            })
            .collect(),
    )))
}

/// What `incident hooks trust` trusted.
#[derive(Debug)]
pub struct Trusted {
    /// The versioned file's hooks (empty without one).
    pub hooks: Vec<Hook>,
    /// The versioned file's digest, when there is one.
    pub digest: Option<String>,
    /// Files of the working tree that hooks run, with their digests.
    pub files: Vec<(String, String)>,
    /// It was all trusted already with this content.
    pub already: bool,
}

/// Trust the versioned hooks file as it is now in the working tree, and
/// every file of the working tree that a hook (of any hooks file) runs.
pub fn trust(store: &Store) -> Result<Trusted> {
    let versioned = store.workdir().join(REPOSITORY_FILE);
    let text = read_plain(&versioned)?;
    let mut hooks = match &text {
        Some(text) => parse(REPOSITORY_FILE, text, Origin::Repository)?,
        None => Vec::new(),
    };
    // What runs: every hook of every file (yours are read as `load` reads them).
    let mut all: Vec<Hook> = hooks.clone();
    let clone = clone_file(store);
    if let Some(own) = read_plain(&clone)? {
        all.extend(parse(&clone.display().to_string(), &own, Origin::Clone)?);
    }
    if let Some(user) = user_file()
        && let Some(own) = read_plain(&user)?
    {
        all.extend(parse(&user.display().to_string(), &own, Origin::User)?);
    }
    let mut lines: Vec<(String, String)> = Vec::new();
    let digest_of_file = text.as_ref().map(|t| digest(t.as_bytes()));
    if let Some(d) = &digest_of_file {
        lines.push((d.clone(), REPOSITORY_FILE.to_string()));
    }
    let mut files = Vec::new();
    for hook in &all {
        for (path, bytes) in working_tree_files(store, hook) {
            if lines.iter().any(|(_, p)| *p == path) {
                continue;
            }
            let d = digest(&bytes);
            files.push((path.clone(), d.clone()));
            lines.push((d, path));
        }
    }
    if lines.is_empty() {
        return Err(Error::InvalidInput {
            message: format!(
                "there is nothing to trust: no {REPOSITORY_FILE}, and no hook runs a file of the working tree; hooks of your own go in .git/incident/hooks.toml or ~/.config/incident/hooks.toml, which need no trust"
            ),
        });
    }
    let record = read_trust(store)?;
    let already = record
        .is_some_and(|r| r.0.len() == lines.len() && lines.iter().all(|(d, p)| r.matches(p, d)));
    if !already {
        let dir = state_dir(store);
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let path = trust_path(store);
        let temp = path.with_extension("tmp");
        let body: String = lines
            .iter()
            .map(|(d, p)| format!("sha256:{d} {p}\n"))
            .collect();
        std::fs::write(&temp, body).map_err(io_err(&temp))?;
        std::fs::rename(&temp, &path).map_err(io_err(&path))?;
    }
    hooks.retain(|h| h.origin == Origin::Repository);
    Ok(Trusted {
        hooks,
        digest: digest_of_file,
        files,
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
