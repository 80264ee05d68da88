//! Fetching and pushing through the `git` executable, as jj does.
//!
//! libgit2 skips a local remote's `pre-receive` and `update` hooks, reads
//! neither `~/.ssh/config` nor every credential helper setup, and reports a
//! hook's refusal as a generic failure. Running `git fetch` and `git push`
//! brings all of git's transport behaviour: the remote's hooks and their
//! messages, ssh configuration, credential helpers, proxies, protocol v2,
//! and the client's own `pre-push` hook. Nothing here ever force-pushes.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use git2::Oid;

use super::Store;
use crate::error::{Error, RemoteFailure, Result};

/// Receives git's progress lines as they arrive, each with the `\r` or
/// `\n` that ends it, ready to print on a terminal. Nothing else git says
/// reaches it: its complaints come back as errors, and a remote's messages
/// in [`PushOutcome`].
pub type Progress<'a> = &'a mut dyn FnMut(&[u8]);

/// How a transfer talks to the person: progress and credential prompts.
#[derive(Default)]
pub struct Transfer<'a> {
    /// `None` keeps git quiet. Set it only when standard error is a terminal.
    pub progress: Option<Progress<'a>>,
    /// Whether git may ask for a password on the terminal.
    pub interactive: bool,
}

/// What happened to one reference in a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefOutcome {
    /// Created or moved forward.
    Updated,
    /// The remote had it already.
    UpToDate,
    /// The remote has commits this push lacks: fetch and build on them.
    NonFastForward,
    /// Refused by the remote (a hook, branch protection) with its reason.
    Rejected { reason: String },
}

#[derive(Debug, Clone)]
pub struct PushOutcome {
    /// (destination ref, outcome) per refspec, as git reported them.
    pub refs: Vec<(String, RefOutcome)>,
    /// Lines the remote printed (`remote: ...`), for example a hook's reason.
    pub remote_messages: Vec<String>,
}

impl PushOutcome {
    /// The first refusal that is not a lost race, with the remote's words.
    pub fn rejection(&self) -> Option<String> {
        self.refs.iter().find_map(|(name, outcome)| match outcome {
            RefOutcome::Rejected { reason } => {
                let mut text = format!("{name}: {reason}");
                for line in &self.remote_messages {
                    text.push_str("\n  remote: ");
                    text.push_str(line);
                }
                Some(text)
            }
            _ => None,
        })
    }

    pub fn non_fast_forward(&self) -> bool {
        self.refs
            .iter()
            .any(|(_, o)| matches!(o, RefOutcome::NonFastForward))
    }
}

/// The URL a remote fetches from, as git resolves it (`insteadOf` applied).
pub fn url(store: &Store, remote: &str) -> Result<String> {
    let output = git(store)
        .args(["remote", "get-url", "--", remote])
        .stdin(Stdio::null())
        .output()
        .map_err(spawn_error)?;
    if !output.status.success() {
        return Err(Error::InvalidInput {
            message: format!("there is no remote named '{remote}'"),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// `git fetch REMOTE REFSPEC...` without tags.
pub fn fetch(
    store: &Store,
    remote: &str,
    refspecs: &[String],
    transfer: &mut Transfer<'_>,
) -> Result<()> {
    let url = url(store, remote)?;
    check_local_path(store.workdir(), remote, &url, "fetch from")?;
    let mut command = git(store);
    command.args(["fetch", "--no-tags"]);
    command.arg(if transfer.progress.is_some() {
        "--progress"
    } else {
        "--quiet"
    });
    command.arg("--").arg(remote).args(refspecs);
    let run = run(command, transfer)?;
    if run.success {
        return Ok(());
    }
    Err(classify(remote, &url, "fetch from", &run.stderr))
}

/// `git push --porcelain REMOTE REFSPEC...`, never forced. A refusal is an
/// outcome, not an error; an unreachable remote or refused credentials are
/// errors.
pub fn push(
    store: &Store,
    remote: &str,
    refspecs: &[String],
    set_upstream: bool,
    transfer: &mut Transfer<'_>,
) -> Result<PushOutcome> {
    let url = url(store, remote)?;
    check_local_path(store.workdir(), remote, &url, "push to")?;
    let mut command = git(store);
    command.args(["push", "--porcelain"]);
    if set_upstream {
        command.arg("--set-upstream");
    }
    if transfer.progress.is_some() {
        command.arg("--progress");
    }
    command.arg("--").arg(remote).args(refspecs);
    let run = run(command, transfer)?;
    let refs = parse_porcelain(&run.stdout);
    if refs.is_empty() {
        // Nothing was negotiated: the connection, the credentials or a
        // local `pre-push` hook stopped it.
        return Err(classify(remote, &url, "push to", &run.stderr));
    }
    let remote_messages: Vec<String> = run
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("remote: "))
        .map(|l| l.trim_end().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    Ok(PushOutcome {
        refs: lost_races(refs, &remote_messages),
        remote_messages,
    })
}

/// Another push that lands between git's negotiation and the remote's ref
/// update makes the remote fail its compare-and-swap ("cannot lock ref
/// ...: is at X but expected Y", or the other push's lock file): git
/// reports that as `[remote rejected] (failed to update ref)`, but it is
/// a lost race, like a non-fast-forward, not a refusal.
fn lost_races(
    refs: Vec<(String, RefOutcome)>,
    remote_messages: &[String],
) -> Vec<(String, RefOutcome)> {
    let raced = |name: &str| {
        remote_messages.iter().any(|line| {
            line.contains("cannot lock ref")
                && line.contains(name)
                && (line.contains("but expected")
                    || line.contains("File exists")
                    || line.contains("reference already exists"))
        })
    };
    refs.into_iter()
        .map(|(name, outcome)| match outcome {
            RefOutcome::Rejected { reason }
                if (reason.starts_with("failed to update ref")
                    || reason.starts_with("failed to lock"))
                    && raced(&name) =>
            {
                (name, RefOutcome::NonFastForward)
            }
            other => (name, other),
        })
        .collect()
}

/// The commit each of `refs` (`refs/heads/...`) names on the remote;
/// absent ones are left out.
pub fn ls_remote(
    store: &Store,
    remote: &str,
    refs: &[String],
    transfer: &mut Transfer<'_>,
) -> Result<Vec<(String, Oid)>> {
    let url = url(store, remote)?;
    check_local_path(store.workdir(), remote, &url, "read")?;
    let mut command = git(store);
    command.args(["ls-remote", "--", remote]).args(refs);
    let run = run(command, transfer)?;
    if !run.success {
        return Err(classify(remote, &url, "read", &run.stderr));
    }
    Ok(run
        .stdout
        .lines()
        .filter_map(|line| {
            let (id, name) = line.split_once('\t')?;
            Some((name.trim().to_string(), Oid::from_str(id.trim()).ok()?))
        })
        .collect())
}

/// The branch the remote's HEAD names: its default branch, as it calls it
/// (`main`, `trunk`, ...). `None` when it names none yet, as an empty
/// repository does.
pub fn default_branch(
    store: &Store,
    remote: &str,
    transfer: &mut Transfer<'_>,
) -> Result<Option<String>> {
    let url = url(store, remote)?;
    check_local_path(store.workdir(), remote, &url, "read")?;
    let mut command = git(store);
    command.args(["ls-remote", "--symref", "--", remote, "HEAD"]);
    let run = run(command, transfer)?;
    if !run.success {
        return Err(classify(remote, &url, "read", &run.stderr));
    }
    Ok(symref_target(&run.stdout))
}

/// `ref: refs/heads/main\tHEAD` in `git ls-remote --symref` output.
fn symref_target(stdout: &str) -> Option<String> {
    stdout.lines().find_map(|line| {
        let (target, name) = line.strip_prefix("ref: ")?.split_once('\t')?;
        (name.trim() == "HEAD")
            .then(|| target.trim().strip_prefix("refs/heads/"))
            .flatten()
            .map(str::to_string)
    })
}

/// `git` for this repository, with messages in English so they can be read.
fn git(store: &Store) -> Command {
    let mut command = Command::new("git");
    command
        .arg("--git-dir")
        .arg(store.repo.path())
        .current_dir(store.workdir())
        .env("LC_ALL", "C")
        .env("LANGUAGE", "C");
    command
}

struct Run {
    success: bool,
    stdout: String,
    stderr: String,
}

fn spawn_error(source: std::io::Error) -> Error {
    Error::InvalidInput {
        message: format!(
            "could not run git ({source}); incident talks to remotes through the git command, so install git and make sure it is on PATH"
        ),
    }
}

/// Run git, passing its standard error to `progress` as it comes and
/// keeping it to explain a failure.
fn run(mut command: Command, transfer: &mut Transfer<'_>) -> Result<Run> {
    if !transfer.interactive {
        command.env("GIT_TERMINAL_PROMPT", "0");
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn_error)?;
    let mut stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(out) = stdout.as_mut() {
            let _ = out.read_to_end(&mut text);
        }
        text
    });
    let mut stderr = Vec::new();
    if let Some(mut err) = child.stderr.take() {
        let mut chunk = [0u8; 4096];
        // Where the line being received starts in `stderr`.
        let mut line_start = 0;
        loop {
            match err.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    stderr.extend_from_slice(&chunk[..n]);
                    let Some(progress) = transfer.progress.as_mut() else {
                        continue;
                    };
                    while let Some(end) = stderr[line_start..]
                        .iter()
                        .position(|b| *b == b'\r' || *b == b'\n')
                    {
                        let line = &stderr[line_start..=line_start + end];
                        if is_progress(line) {
                            progress(line);
                        }
                        line_start += end + 1;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    }
    let status = child.wait().map_err(spawn_error)?;
    let stdout = reader.join().unwrap_or_default();
    Ok(Run {
        success: status.success(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        // Progress redraws lines with carriage returns: keep the last state.
        stderr: String::from_utf8_lossy(&stderr)
            .split('\n')
            .map(|line| line.rsplit('\r').next().unwrap_or(line))
            .collect::<Vec<_>>()
            .join("\n"),
    })
}

/// git's progress meters, ours or the remote's: `Receiving objects:  45%
/// (9/20)`, `remote: Counting objects: 7, done.` (git runs in English here).
fn is_progress(line: &[u8]) -> bool {
    let line = line.strip_prefix(b"remote: ").unwrap_or(line);
    let Some(colon) = line.iter().position(|b| *b == b':') else {
        return false;
    };
    let (title, rest) = line.split_at(colon);
    title.first().is_some_and(u8::is_ascii_uppercase)
        && title.iter().all(|b| b.is_ascii_alphabetic() || *b == b' ')
        && rest[1..]
            .iter()
            .find(|b| **b != b' ')
            .is_some_and(u8::is_ascii_digit)
}

/// `git push --porcelain` prints `FLAG \t FROM:TO \t SUMMARY` per ref.
fn parse_porcelain(stdout: &str) -> Vec<(String, RefOutcome)> {
    let mut refs = Vec::new();
    for line in stdout.lines() {
        let mut fields = line.splitn(3, '\t');
        let (Some(flag), Some(spec), summary) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let Some(flag) = flag.chars().next().filter(|_| flag.len() == 1) else {
            continue;
        };
        let destination = spec.rsplit(':').next().unwrap_or(spec).to_string();
        let summary = summary.unwrap_or_default().trim().to_string();
        let outcome = match flag {
            ' ' | '*' | '+' | '-' => RefOutcome::Updated,
            '=' => RefOutcome::UpToDate,
            '!' if summary.starts_with("[rejected]") => {
                if [
                    "fetch first",
                    "non-fast-forward",
                    "stale info",
                    "already exists",
                ]
                .iter()
                .any(|r| summary.contains(r))
                {
                    RefOutcome::NonFastForward
                } else {
                    RefOutcome::Rejected { reason: summary }
                }
            }
            '!' => RefOutcome::Rejected {
                reason: summary
                    .trim_start_matches("[remote rejected]")
                    .trim()
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .to_string(),
            },
            _ => continue,
        };
        refs.push((destination, outcome));
    }
    refs
}

/// A remote that names a local folder which is not there: git would say
/// "does not appear to be a git repository"; say what is really wrong.
/// A relative path is git's: from the top of the working tree.
fn check_local_path(base: &Path, remote: &str, url: &str, action: &'static str) -> Result<()> {
    let path = match url.strip_prefix("file://") {
        Some(path) => Some(path),
        None if !url.contains("://") && !is_scp_like(url) => Some(url),
        None => None,
    };
    if let Some(path) = path
        && !base.join(path).exists()
    {
        return Err(Error::Remote {
            remote: remote.to_string(),
            url: url.to_string(),
            action,
            failure: RemoteFailure::PathMissing,
            detail: format!("the folder {path} does not exist"),
        });
    }
    Ok(())
}

/// `user@host:path` or `host:path`, which git reads as ssh.
fn is_scp_like(url: &str) -> bool {
    match url.split_once(':') {
        Some((host, _)) => !host.is_empty() && !host.contains('/'),
        None => false,
    }
}

/// Turn git's complaint into the failure it describes.
fn classify(remote: &str, url: &str, action: &'static str, stderr: &str) -> Error {
    let lower = stderr.to_ascii_lowercase();
    let detail = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let failure = if [
        "authentication failed",
        "permission denied",
        "could not read username",
        "could not read password",
        "invalid username or password",
        "access denied",
        "403",
    ]
    .iter()
    .any(|needle| lower.contains(needle))
    {
        RemoteFailure::AuthRefused
    } else if lower.contains("pre-push hook") || lower.contains("hook declined") {
        RemoteFailure::Rejected
    } else if lower.contains("couldn't find remote ref") {
        RemoteFailure::NoSuchBranch
    } else if (lower.contains("does not appear to be a git repository")
        || lower.contains("not a git repository"))
        && (url.starts_with("file://") || !(url.contains("://") || is_scp_like(url)))
    {
        RemoteFailure::NotARepository
    } else {
        RemoteFailure::Unreachable
    };
    Error::Remote {
        remote: remote.to_string(),
        url: url.to_string(),
        action,
        failure,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_lines_become_outcomes() {
        let out = "To /srv/ops.git\n\
            *\trefs/heads/postmortem/k3f9x2:refs/heads/postmortem/k3f9x2\t[new branch]\n\
            =\trefs/heads/a:refs/heads/a\t[up to date]\n\
            !\trefs/heads/main:refs/heads/main\t[rejected] (fetch first)\n\
            !\trefs/heads/b:refs/heads/b\t[remote rejected] (pre-receive hook declined)\n\
            Done\n";
        let refs = parse_porcelain(out);
        assert_eq!(
            refs,
            vec![
                (
                    "refs/heads/postmortem/k3f9x2".to_string(),
                    RefOutcome::Updated
                ),
                ("refs/heads/a".to_string(), RefOutcome::UpToDate),
                ("refs/heads/main".to_string(), RefOutcome::NonFastForward),
                (
                    "refs/heads/b".to_string(),
                    RefOutcome::Rejected {
                        reason: "pre-receive hook declined".into()
                    }
                ),
            ]
        );
    }

    #[test]
    fn only_progress_meters_are_passed_on() {
        for line in [
            "Receiving objects:  45% (9/20)\r",
            "remote: Counting objects: 100% (7/7), done.\n",
            "Writing objects: 100% (7/7), 28.62 MiB | 28.07 MiB/s, done.\n",
        ] {
            assert!(is_progress(line.as_bytes()), "{line}");
        }
        for line in [
            "fatal: couldn't find remote ref refs/heads/main\n",
            "remote: policy: no pushes today\n",
            "error: failed to push some refs to '/srv/ops.git'\n",
            "To /srv/ops.git\n",
            "\n",
        ] {
            assert!(!is_progress(line.as_bytes()), "{line}");
        }
    }

    #[test]
    fn a_compare_and_swap_lost_on_the_remote_is_a_race() {
        let refs = parse_porcelain(
            "!\trefs/heads/main:refs/heads/main\t[remote rejected] (failed to update ref)\n\
             !\trefs/heads/b:refs/heads/b\t[remote rejected] (failed to update ref)\n",
        );
        let messages = vec![
            "error: cannot lock ref 'refs/heads/main': is at 038bcb7 but expected aa7dfd4"
                .to_string(),
            "error: disk quota exceeded".to_string(),
        ];
        assert_eq!(
            lost_races(refs, &messages),
            vec![
                ("refs/heads/main".to_string(), RefOutcome::NonFastForward),
                (
                    "refs/heads/b".to_string(),
                    RefOutcome::Rejected {
                        reason: "failed to update ref".into()
                    }
                ),
            ]
        );
    }

    #[test]
    fn the_remote_head_names_its_default_branch() {
        let out = "ref: refs/heads/trunk\tHEAD\n86f757e6c1267b206db9205ca18cf882ef918758\tHEAD\n";
        assert_eq!(symref_target(out).as_deref(), Some("trunk"));
        assert_eq!(symref_target(""), None);
    }

    #[test]
    fn local_paths_and_scp_urls_are_told_apart() {
        assert!(is_scp_like("git@github.com:acme/ops.git"));
        assert!(!is_scp_like("/srv/git/ops.git"));
        assert!(!is_scp_like("../ops.git"));
        let here = Path::new("/");
        let err = check_local_path(here, "origin", "/does/not/exist", "fetch from").unwrap_err();
        assert!(err.to_string().contains("/does/not/exist"), "{err}");
        assert!(check_local_path(here, "origin", "git@github.com:acme/ops.git", "push to").is_ok());
        assert!(check_local_path(Path::new("/usr"), "origin", "../usr", "push to").is_ok());
    }
}
