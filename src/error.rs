//! The library's one error type. Messages say what went wrong; `hint` says
//! how to fix it. The CLI maps each variant to an exit code in one place.

use std::path::PathBuf;

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{} is not inside a git repository", path.display())]
    NotARepository { path: PathBuf },

    #[error("this is not an incident repository: {config} does not exist")]
    NotInitialized { config: String },

    #[error("git refuses the repository at {}: it belongs to another user (git's \"dubious ownership\" check)", path.display())]
    UnsafeRepository { path: PathBuf, fix: Option<String> },

    #[error("the repository at {} is bare; incident needs a working tree", path.display())]
    BareRepository { path: PathBuf },

    #[error("HEAD is detached; incident records on a branch")]
    DetachedHead,

    #[error("a {operation} is in progress")]
    OperationInProgress { operation: String },

    #[error(
        "uncommitted changes to files this command reads or writes:\n{}",
        list_lines(paths)
    )]
    DirtyPaths { paths: Vec<String> },

    #[error("{file}:{line}:{column}: {message}")]
    Parse {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },

    #[error("{file}{}: {field}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        file: String,
        line: Option<usize>,
        field: String,
        message: String,
    },

    #[error("{file}: file is {size} bytes, more than the {limit} bytes incident reads")]
    FileTooLarge {
        file: String,
        size: usize,
        limit: usize,
    },

    #[error("unknown {what} '{given}'; choose one of: {}{}", valid.join(", "), crate::model::id::closest_name(given, valid).map(|name| format!("; did you mean '{name}'?")).unwrap_or_default())]
    Unknown {
        what: &'static str,
        given: String,
        valid: Vec<String>,
    },

    #[error("cannot change status from '{from}' to '{to}'; allowed from '{from}': {}", if allowed.is_empty() { "none (final state)".to_string() } else { allowed.join(", ") })]
    IllegalTransition {
        from: String,
        to: String,
        allowed: Vec<String>,
    },

    #[error("milestone '{later}' ({later_at}) would be before '{earlier}' ({earlier_at})")]
    MilestoneOrder {
        earlier: String,
        earlier_at: String,
        later: String,
        later_at: String,
    },

    /// The record would contradict itself; `fix` is the command that helps.
    #[error("{message}")]
    Contradiction { message: String, fix: String },

    /// A write to an incident in a final state through a short name.
    #[error("incident {id} is {status}; '{query}' names it only by a prefix or part of its title")]
    FinalByPrefix {
        id: String,
        status: String,
        query: String,
    },

    /// `incident comms due` found updates overdue: its answer, not trouble
    /// (exit 1; any error of that command exits 2, as grep's do).
    #[error("{count} update{} overdue", if *count == 1 { " is" } else { "s are" })]
    Overdue { count: usize },

    /// The person cancelled a prompt (Esc, Ctrl-C, or "no").
    #[error("cancelled; nothing was recorded")]
    Cancelled,

    /// A refused command whose typed text was kept in files.
    #[error("{source}")]
    TextKept {
        source: Box<Error>,
        /// (path to show, how to reuse it)
        kept: Vec<(String, String)>,
    },

    #[error("time '{given}' is in the future (now is {now})")]
    FutureTime { given: String, now: String },

    #[error("cannot read time '{input}': {reason}")]
    BadTime { input: String, reason: String },

    #[error("no incident matches '{query}'")]
    NotFound { query: String },

    /// Nothing matches; `closest` describes the incidents it may be a typo of.
    #[error("no incident matches '{query}'{}", if closest.is_empty() { String::new() } else { format!("; did you mean {}?", closest.join(", or ")) })]
    NoMatch { query: String, closest: Vec<String> },

    /// Each candidate described: id, severity, status, date, title.
    #[error("'{query}' matches {} {what}:\n{}", candidates.len(), candidates.iter().map(|c| format!("  {c}")).collect::<Vec<_>>().join("\n"))]
    Ambiguous {
        /// What was looked for, in the plural: `incidents`, `maintenances`.
        what: &'static str,
        query: String,
        candidates: Vec<String>,
    },

    #[error("git does not know who you are: {key} is not set{}", if git_said.is_empty() { String::new() } else { format!(" (git: {git_said})") })]
    MissingIdentity {
        key: &'static str,
        /// git's own reason (`git var GIT_AUTHOR_IDENT`).
        git_said: String,
        /// The file `git config --global` writes.
        global_file: Option<PathBuf>,
    },

    #[error("{command} failed: {detail}")]
    GitCommand { command: String, detail: String },

    #[error("bad git config value {key}={value} in {origin}: expected {expected}")]
    GitConfigValue {
        key: String,
        value: String,
        origin: String,
        expected: String,
    },

    /// A `pre-commit`, `commit-msg` (or `pre-merge-commit`) hook refused:
    /// nothing was committed. Commands that took typed text keep it.
    #[error("the {hook} hook ({}) refused the commit: {status}; nothing was committed", path.display())]
    HookRefused {
        hook: String,
        path: PathBuf,
        status: String,
    },

    #[error("could not sign the commit ({program}): {detail}; nothing was committed")]
    SigningFailed { program: String, detail: String },

    #[error("another incident command holds {}{}", path.display(), holder.as_deref().map(|h| format!(" ({h})")).unwrap_or_default())]
    WriterLockHeld {
        path: PathBuf,
        /// pid, command and since when, as the holder recorded them.
        holder: Option<String>,
        waited_seconds: u64,
    },

    #[error("the disk is full: cannot write {}; nothing was recorded", path.display())]
    DiskFull { path: PathBuf },

    #[error("cannot use the index {}: {reason}", path.display())]
    UnsupportedIndex { path: PathBuf, reason: String },

    #[error("missing {what}: pass {flag}")]
    MissingInput { what: String, flag: String },

    #[error("{message}")]
    Usage { message: String },

    #[error("{message}")]
    InvalidInput { message: String },

    #[error("{} exists{}: another git command is using the index", path.display(), held_for.map(|s| format!(" (for {s} s)")).unwrap_or_default())]
    IndexLocked {
        path: PathBuf,
        held_for: Option<u64>,
    },

    #[error("{} exists{}: another git command is moving that branch", path.display(), held_for.map(|s| format!(" (for {s} s)")).unwrap_or_default())]
    RefLocked {
        path: PathBuf,
        held_for: Option<u64>,
    },

    #[error("{branch} kept moving while incident tried to commit ({attempts} attempts)")]
    Contention { branch: String, attempts: u32 },

    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("could not {action} '{remote}' ({url}): {}", failure.describe(detail))]
    Remote {
        remote: String,
        url: String,
        /// "fetch from", "push to" or "read".
        action: &'static str,
        failure: RemoteFailure,
        /// What git or the remote said.
        detail: String,
    },

    /// Both sides of a review branch changed the same lines.
    #[error(
        "the same lines of {} were changed on {branch} {where_}; nothing was changed{}",
        files.join(", "),
        kept.as_ref().map(|p| format!("; your text is kept in {}", p.display())).unwrap_or_default()
    )]
    ReviewConflict {
        branch: String,
        /// Where the other change is: "here and on origin", "meanwhile".
        where_: String,
        remote: Option<String>,
        files: Vec<String>,
        /// The file that holds text the person typed, when there is one.
        kept: Option<PathBuf>,
    },

    #[error("{}", describe_git(.0))]
    Git(#[from] git2::Error),

    #[error("the repository is damaged or incomplete: {path} (object {object}: .git/objects/{}/{}, or in a pack) cannot be read; git said: {detail}", &object[..2.min(object.len())], &object[2.min(object.len())..])]
    Damaged {
        object: String,
        path: String,
        detail: String,
    },

    /// Reading objects through gitoxide (the report's incident reader).
    #[error("git: {message}")]
    GitRead { message: String },

    // Event hooks, imports and exports (issue 15).
    #[error("{file} {}; its hooks do not run", if *changed { "changed since it was trusted in this clone" } else { "is not trusted in this clone" })]
    HooksNotTrusted { file: String, changed: bool },

    /// `incident hooks run` left events owed.
    #[error("{}", undelivered(*failed, owed, *problems))]
    HooksUndelivered {
        failed: usize,
        /// "hook (N event(s))" of each hook still owed events.
        owed: Vec<String>,
        /// Problems of the hooks files (warned about above).
        problems: usize,
    },

    #[error("could not deliver the webhook to {url}: {detail}")]
    Webhook { url: String, detail: String },

    #[error("{} malformed record(s) in the import, nothing was imported (--strict):\n{}", problems.len(), list_lines(problems))]
    ImportRejected { problems: Vec<String> },
}

/// Why talking to a remote failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteFailure {
    /// The network, the host or the repository could not be reached.
    Unreachable,
    /// The remote refused the credentials.
    AuthRefused,
    /// A local-path remote names a folder that does not exist.
    PathMissing,
    /// The remote's folder exists but holds no git repository.
    NotARepository,
    /// A hook (the remote's or the local `pre-push`) refused.
    Rejected,
    /// The branch asked for is not on the remote.
    NoSuchBranch,
}

impl RemoteFailure {
    fn describe(self, detail: &str) -> String {
        let what = match self {
            RemoteFailure::Unreachable => "the remote could not be reached",
            RemoteFailure::AuthRefused => "authentication was refused",
            RemoteFailure::PathMissing => "the remote's path does not exist",
            RemoteFailure::NotARepository => "the remote is not a git repository",
            RemoteFailure::Rejected => "the push was rejected",
            RemoteFailure::NoSuchBranch => "the remote has no such branch",
        };
        if detail.is_empty() {
            what.to_string()
        } else {
            format!(
                "{what}:\n{}",
                list_lines(&detail.lines().map(str::to_string).collect::<Vec<_>>())
            )
        }
    }
}

fn undelivered(failed: usize, owed: &[String], problems: usize) -> String {
    let mut parts = Vec::new();
    if failed > 0 {
        parts.push(format!("{failed} delivery(ies) failed"));
    }
    if problems > 0 && owed.is_empty() {
        parts.push("a hooks file has problems (see the warnings above)".into());
    }
    if !owed.is_empty() {
        parts.push(format!("events stay owed to {}", owed.join(", ")));
    }
    parts.join("; ")
}

fn list_lines(items: &[String]) -> String {
    items
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Error {
    /// A short suggestion that tells the user how to get going again.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Error::NotARepository { .. } | Error::NotInitialized { .. } => {
                "run `incident init` to make this an incident repository, or pass -C DIR to point at one".into()
            }
            Error::BareRepository { .. } => "run incident in a clone that has a working tree".into(),
            Error::Git(_) | Error::Damaged { .. } | Error::GitRead { .. } if self.is_damage() => "`git fsck --full` lists what is damaged or missing; get it back from another clone (`git fetch`, or copy the object file from one), then run the command again".into(),
            Error::UnsafeRepository { path, fix } => format!(
                "if you trust it, mark it safe as git says: `{}` (or through GIT_CONFIG_GLOBAL or GIT_CONFIG_COUNT/KEY/VALUE, which git and incident read alike)",
                fix.clone().unwrap_or_else(|| format!(
                    "git config --global --add safe.directory {}",
                    path.display()
                ))
            ),
            Error::DetachedHead => "check out a branch first, for example `git switch main`".into(),
            Error::OperationInProgress { operation } => match operation.as_str() {
                "bisect" => "end the bisect first (`git bisect reset`)".into(),
                other => format!("finish or abort the {other} first (`git {other} --continue` or `git {other} --abort`)"),
            },
            Error::DirtyPaths { .. } => {
                "commit those changes (`git commit`) or set them aside (`git stash`) and run the command again".into()
            }
            Error::Parse { file, .. } => return file_hint(file, None),
            Error::Invalid { file, field, .. } => return file_hint(file, Some(field)),
            Error::FileTooLarge { .. } => "that file is not one incident wrote; move it out of the incidents folder".into(),
            Error::Unknown { what, .. } if *what == "severity" || *what == "state" || *what == "role" => {
                "the valid names come from incidents/config.toml; add a new one there if you need it".into()
            }
            Error::Unknown { what, .. } if *what == "component" => {
                "components are the [[component]] entries of incidents/config.toml; add one there if you need it".into()
            }
            Error::IllegalTransition { .. } => {
                "allowed transitions are listed under [[state]] in incidents/config.toml".into()
            }
            Error::MilestoneOrder { .. } => {
                "check the times; to correct a milestone recorded earlier use `incident update ID --milestone NAME=TIME`".into()
            }
            Error::Contradiction { fix, .. } => fix.clone(),
            Error::FinalByPrefix { id, .. } => format!(
                "to write to it all the same, name it in full: {id} (on a terminal incident asks instead)"
            ),
            Error::TextKept { source, kept } => {
                let mut lines: Vec<String> = source.hint().into_iter().collect();
                for (path, reuse) in kept {
                    lines.push(format!("what you typed is kept in {path}; reuse it with {reuse}"));
                }
                lines.join("\nhint: ")
            }
            Error::NoMatch { .. } => "`incident list --all` shows every incident and its id".into(),
            Error::FutureTime { .. } => "times up to one minute ahead are accepted; check the date and time zone".into(),
            Error::BadTime { .. } => crate::time::ACCEPTED_FORMS.into(),
            Error::NotFound { .. } => "`incident list --all` shows every incident and its id".into(),
            Error::Ambiguous { .. } => "type more characters of the id, or the whole id".into(),
            Error::MissingIdentity { key, global_file, .. } => identity_hint(key, global_file.as_deref()),
            Error::GitConfigValue { key, .. } => format!("fix it with `git config {key} VALUE` in the file named, as git itself would refuse it too"),
            Error::HookRefused { hook, .. } => format!(
                "the hook's output is above; fix what it reports and run the command again, or skip the pre-commit and commit-msg hooks with --no-verify, as `git commit --no-verify` does{}",
                if hook == "commit-msg" || hook == "pre-commit" { "" } else { " (the hook runs for every commit)" }
            ),
            Error::SigningFailed { .. } => "`git config --show-origin --get-regexp '^(gpg|user\\.signingkey|commit\\.gpgsign)'` shows the signing settings; check that `git commit -S` works here, or pass --no-gpg-sign to commit unsigned".into(),
            Error::WriterLockHeld { waited_seconds, holder, .. } => format!(
                "waited {waited_seconds} s; {}",
                if holder.is_some() { "if that process is stopped (Ctrl-Z), resume it with `fg` or `kill -CONT PID`; if it hangs, end it with `kill PID`; then run the command again" } else { "wait for the other incident command to finish, then run the command again" }
            ),
            Error::DiskFull { .. } => "free some space on that disk (`df -h` shows how much is left) and run the command again".into(),
            Error::UnsupportedIndex { .. } => "`git status` rewrites the index in a form incident reads (for a newer index format: `git update-index --index-version 4`); then run the command again".into(),
            Error::Contention { .. } => "another program keeps committing; try again in a moment".into(),
            Error::Remote { remote, failure, url, .. } => match failure {
                RemoteFailure::Unreachable => format!(
                    "nothing was changed, and everything recorded is safe in this clone; check the network and the remote's URL (`git remote -v`), then try again (`git fetch {remote}` shows git's own view)"
                ),
                RemoteFailure::AuthRefused => "nothing was changed; for ssh, check that your key is loaded (`ssh-add -l`) and accepted by the server; for https, that git's credential helper has a valid token".into(),
                RemoteFailure::PathMissing => format!(
                    "nothing was changed; point the remote at an existing repository: `git remote set-url {remote} PATH` (create one with `git init --bare PATH`)"
                ),
                RemoteFailure::NotARepository => format!(
                    "nothing was changed; make {url} a repository to share through (`git init --bare {url}`), or point the remote at the right one: `git remote set-url {remote} URL`"
                ),
                RemoteFailure::Rejected => "nothing was changed on the remote; the lines above say why it refused".into(),
                RemoteFailure::NoSuchBranch => format!("`git ls-remote {remote}` lists the branches it has"),
            },
            Error::HooksNotTrusted { .. } => {
                "read what the hooks run (`cat incidents/hooks.toml` and the files its hooks name), then run `incident hooks trust` to let them run in this clone".into()
            }
            Error::HooksUndelivered { .. } => "each hook's mark stays before what it did not take: fix the hook (or trust it), then run `incident hooks run` again; in CI, push the marks back (`git push origin 'refs/incident/*'`)".into(),
            Error::Webhook { .. } => "the event stays queued; `incident hooks retry` sends it again".into(),
            Error::ImportRejected { .. } => "fix those records, or leave out --strict to import the others and skip them".into(),
            Error::ReviewConflict { branch, remote, kept, .. } => {
                let mut steps = vec![format!("`git switch {branch}`")];
                if let Some(remote) = remote {
                    steps.push(format!("`git pull --no-rebase {remote} {branch}`"));
                }
                steps.push("fix the lines between <<<<<<< and >>>>>>>".into());
                steps.push("`git commit -a`".into());
                if let Some(remote) = remote {
                    steps.push(format!("`git push {remote} {branch}`"));
                }
                steps.push("`git switch -`".into());
                let mut hint = format!("combine them with git: {}", steps.join(", "));
                if let Some(kept) = kept {
                    let id = branch.rsplit('/').next().unwrap_or(branch);
                    hint.push_str(&format!(
                        "; or run `incident postmortem {id} --edit` again and copy your changes over from {}",
                        kept.display()
                    ));
                }
                hint
            }
            Error::RefLocked { path, .. } => format!(
                "nothing was recorded; wait for that git command to finish and run the command again; if none is running (it crashed), delete {}",
                path.display()
            ),
            Error::IndexLocked { path, .. } => format!(
                "wait for that git command to finish; if none is running (it crashed), delete {}",
                path.display()
            ),
            _ => return None,
        })
    }
}

impl Error {
    /// The error itself, without the typed text kept beside it.
    pub fn root(&self) -> &Error {
        match self {
            Error::TextKept { source, .. } => source.root(),
            other => other,
        }
    }
}

/// How to fix a file incident could not read: the TOML hint only for
/// TOML files; a template, a generated block or a file name get their own.
fn file_hint(file: &str, field: Option<&str>) -> Option<String> {
    let toml = file.ends_with(".toml");
    Some(match field {
        Some("file name") => "`incident check` lists every such file".into(),
        Some("template") => {
            format!("fix the template {file} at the place named and run the command again")
        }
        Some("generated block") => format!(
            "put the BEGIN/END GENERATED markers in {file} back as they were (`git diff -- {file}` shows what changed), then run the command again"
        ),
        _ if toml && file.starts_with("incidents/") => format!(
            "fix the file by hand (it is plain TOML), commit, and run the command again; `git log -p -- {file}` shows who changed it"
        ),
        _ if toml => "fix the file by hand (it is plain TOML) and run the command again".into(),
        _ => return None,
    })
}

impl Error {
    /// A damaged object's path, named from the repository's root.
    pub(crate) fn under(self, folder: &str) -> Error {
        match self {
            Error::Damaged {
                object,
                path,
                detail,
            } if !path.starts_with(&format!("{folder}/")) => Error::Damaged {
                object,
                path: format!("{folder}/{path}"),
                detail,
            },
            other => other,
        }
    }

    /// Whether it says the repository's objects are damaged or missing.
    pub(crate) fn is_damage(&self) -> bool {
        match self {
            Error::Git(error) => is_damage(error),
            Error::Damaged { .. } => true,
            Error::GitRead { message } => DAMAGE_WORDS
                .iter()
                .any(|w| message.to_ascii_lowercase().contains(w)),
            _ => false,
        }
    }
}

/// For reading object `id`, which holds `path`: a damaged object's error
/// names both.
pub(crate) fn object_error(id: git2::Oid, path: &str) -> impl FnOnce(git2::Error) -> Error + '_ {
    move |error| {
        if is_damage(&error) {
            Error::Damaged {
                object: id.to_string(),
                path: path.to_string(),
                detail: error.message().trim_end_matches('.').to_string(),
            }
        } else {
            Error::Git(error)
        }
    }
}

/// What libgit2 and gitoxide say of damaged or missing objects.
const DAMAGE_WORDS: &[&str] = &[
    "corrupt",
    "failed to decompress",
    "failed to parse",
    "failed to inflate",
    "invalid object",
    "object not found",
    "bad packfile",
    "short read",
    "decompress",
];

/// Whether libgit2 failed because the repository's objects or index are
/// damaged or missing (rather than because of what was asked).
fn is_damage(error: &git2::Error) -> bool {
    let message = error.message().to_ascii_lowercase();
    matches!(
        error.class(),
        git2::ErrorClass::Odb | git2::ErrorClass::Zlib | git2::ErrorClass::Object
    ) || DAMAGE_WORDS.iter().any(|needle| message.contains(needle))
}

/// libgit2's error for a person: damage says so and names the object's
/// file; anything else as libgit2 says it.
fn describe_git(error: &git2::Error) -> String {
    if !is_damage(error) {
        return format!("git: {error}");
    }
    let message = error.message().trim_end_matches('.');
    let object = message
        .split(|c: char| !c.is_ascii_hexdigit())
        .find(|word| word.len() == 40);
    match object {
        Some(id) => format!(
            "the repository is damaged or incomplete at object {id}: it (.git/objects/{}/{}, or in a pack) or an object it refers to is missing or corrupt; git said: {message}",
            &id[..2],
            &id[2..]
        ),
        None => format!("the repository is damaged or incomplete; git said: {message}"),
    }
}

/// How to tell git who you are, naming the file git would write.
fn identity_hint(key: &str, global_file: Option<&std::path::Path>) -> String {
    let local = format!("`git config {key} \"...\"` sets it for this repository only");
    let env =
        "GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL and GIT_COMMITTER_NAME/GIT_COMMITTER_EMAIL work too";
    match global_file {
        Some(file) if file == std::path::Path::new("/dev/null") => format!(
            "GIT_CONFIG_GLOBAL is /dev/null, so `git config --global` cannot store it: {local}, or point GIT_CONFIG_GLOBAL at a real file; {env}"
        ),
        Some(file) => format!(
            "set it with `git config --global {key} \"...\"` (git writes {}); {local}; {env}",
            file.display()
        ),
        None => format!("{local}; {env}"),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attach a path to an I/O error.
/// A full disk (or quota) becomes [`Error::DiskFull`], which says so.
pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| {
        if is_disk_full(&source) {
            Error::DiskFull { path }
        } else {
            Error::Io { path, source }
        }
    }
}

/// ENOSPC or EDQUOT.
pub(crate) fn is_disk_full(error: &std::io::Error) -> bool {
    matches!(error.raw_os_error(), Some(28) | Some(122))
        || error.kind() == std::io::ErrorKind::StorageFull
        || error.kind() == std::io::ErrorKind::QuotaExceeded
}
