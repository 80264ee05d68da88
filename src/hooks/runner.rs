//! Running hooks: one process per hook and event, argv and no shell, the
//! event on standard input, a timeout. Every run is a line in
//! `.git/incident/hooks.log` (hook name, event, outcome, duration: never
//! the command line, its output or the environment, which may hold
//! secrets); a failed run is queued in `.git/incident/hooks-queue/` for
//! `incident hooks retry`.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::config::{Hook, HookSet};
use super::payload::{Delivery, json_error};
use super::{ENV_DEPTH, state_dir};
use crate::error::{Error, Result, io_err};
use crate::store::{Store, ownfiles};
use crate::time::Timestamp;

const LOG_FILE: &str = "hooks.log";
const QUEUE_DIR: &str = "hooks-queue";
/// Lines of a failed hook's output shown in the warning.
const OUTPUT_LINES: usize = 5;

/// How hook processes are started.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// This binary: what `incident` as a hook's program means.
    pub program_self: Option<PathBuf>,
    /// Nesting depth of this process (hooks get one more).
    pub depth: u32,
}

/// How one run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    Succeeded,
    /// Exit code (`None`: killed by a signal) and the last lines of output.
    Failed {
        code: Option<i32>,
        output: String,
    },
    TimedOut,
    /// The program could not be started.
    NotStarted {
        reason: String,
    },
}

/// One hook run on one event.
#[derive(Debug, Clone)]
pub struct Run {
    pub hook: String,
    pub delivery: String,
    pub incident: String,
    pub ending: Ending,
    pub elapsed: Duration,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.ending == Ending::Succeeded
    }

    /// One line for people: what went wrong.
    pub fn describe(&self) -> String {
        let what = match &self.ending {
            Ending::Succeeded => "succeeded".to_string(),
            Ending::Failed {
                code: Some(code), ..
            } => format!("failed with exit code {code}"),
            Ending::Failed { code: None, .. } => "was killed by a signal".to_string(),
            Ending::TimedOut => format!(
                "did not finish within its timeout ({:.1}s) and was stopped",
                self.elapsed.as_secs_f64()
            ),
            Ending::NotStarted { reason } => format!("could not be started: {reason}"),
        };
        format!(
            "hook '{}' {what} (event {} of incident {})",
            self.hook, self.delivery, self.incident
        )
    }
}

/// Run one hook on one delivery.
pub fn run(store: &Store, hook: &Hook, delivery: &Delivery, launch: &Launch) -> Result<Run> {
    let started = Instant::now();
    let dir = state_dir(store);
    ownfiles::create_dir(&dir)?;
    let output_path = dir.join(format!("hook-output-{}.tmp", std::process::id()));
    let output = File::create(&output_path).map_err(io_err(&output_path))?;
    let ending = spawn_and_wait(store, hook, delivery, launch, &output, &output_path);
    drop(output);
    let _ = fs::remove_file(&output_path);
    Ok(Run {
        hook: hook.name.clone(),
        delivery: delivery.id.clone(),
        incident: delivery.incident.clone(),
        ending: ending?,
        elapsed: started.elapsed(),
    })
}

fn spawn_and_wait(
    store: &Store,
    hook: &Hook,
    delivery: &Delivery,
    launch: &Launch,
    output: &File,
    output_path: &Path,
) -> Result<Ending> {
    let program = match (&launch.program_self, hook.run[0].as_str()) {
        (Some(me), "incident") => me.clone(),
        (_, other) => PathBuf::from(other),
    };
    let mut command = Command::new(&program);
    command
        .args(&hook.run[1..])
        .current_dir(store.workdir())
        .stdin(Stdio::piped())
        .stdout(output.try_clone().map_err(io_err(output_path))?)
        .stderr(output.try_clone().map_err(io_err(output_path))?)
        .env("INCIDENT_ID", &delivery.incident)
        .env("INCIDENT_EVENT", &delivery.trailer)
        .env("INCIDENT_COMMIT", &delivery.commit)
        .env(ENV_DEPTH, (launch.depth + 1).to_string());
    // Its own process group, so a timeout stops what the hook started too.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            return Ok(Ending::NotStarted {
                reason: format!("{}: {e}", hook.run[0]),
            });
        }
    };
    // A hook that never reads its input must not block us.
    let writer = child.stdin.take().map(|mut stdin| {
        let body = delivery.body.clone().into_bytes();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&body);
        })
    });
    let deadline = Instant::now() + hook.timeout;
    let mut pause = Duration::from_millis(2);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => break None,
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(e) => return Err(io_err(&program)(e)),
        }
    };
    let ending = match status {
        Some(status) if status.success() => Ending::Succeeded,
        Some(status) => Ending::Failed {
            code: status.code(),
            output: tail(output_path),
        },
        None => {
            stop(&mut child);
            Ending::TimedOut
        }
    };
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    Ok(ending)
}

/// Kill the hook and everything in its process group.
fn stop(child: &mut std::process::Child) {
    #[cfg(unix)]
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) on the process group we created for this child.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The last lines of a hook's output.
fn tail(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut file) = File::open(path) {
        let length = file.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = file.seek(SeekFrom::Start(length.saturating_sub(4096)));
        let mut bytes = Vec::new();
        let _ = file.read_to_end(&mut bytes);
        text = String::from_utf8_lossy(&bytes).into_owned();
    }
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(OUTPUT_LINES)..].join("\n")
}

/// A failed delivery waiting for `incident hooks retry`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Queued {
    pub hook: String,
    pub delivery: Delivery,
    pub attempts: u32,
    pub last_failure: String,
}

fn queue_dir(store: &Store) -> PathBuf {
    state_dir(store).join(QUEUE_DIR)
}

fn queue_path(store: &Store, hook: &str, delivery: &str) -> PathBuf {
    queue_dir(store).join(format!("{delivery}.{hook}.json"))
}

fn enqueue(store: &Store, entry: &Queued) -> Result<()> {
    let path = queue_path(store, &entry.hook, &entry.delivery.id);
    let text = serde_json::to_string_pretty(entry).map_err(json_error)?;
    ownfiles::write(&path, text.as_bytes())
}

/// Every queued delivery, oldest file name first.
pub fn queued(store: &Store) -> Result<Vec<(PathBuf, Queued)>> {
    let dir = queue_dir(store);
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(&dir)(e)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let path = entry.map_err(io_err(&dir))?.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let Some(text) = ownfiles::read(&path)? else {
            continue;
        };
        let text = String::from_utf8_lossy(&text);
        let queued: Queued = serde_json::from_str(&text).map_err(|e| Error::Parse {
            file: path.display().to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        found.push((path, queued));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

fn log(store: &Store, now: Timestamp, run: &Run, commit: &str) -> Result<()> {
    let path = state_dir(store).join(LOG_FILE);
    let outcome = match &run.ending {
        Ending::Succeeded => "ok".to_string(),
        Ending::Failed {
            code: Some(code), ..
        } => format!("failed exit={code}"),
        Ending::Failed { code: None, .. } => "failed signal".to_string(),
        Ending::TimedOut => "timeout".to_string(),
        Ending::NotStarted { .. } => "not-started".to_string(),
    };
    let line = format!(
        "{} {outcome} hook={} event={} incident={} commit={} {:.3}s\n",
        now.to_rfc3339(),
        run.hook,
        run.delivery,
        run.incident,
        &commit[..commit.len().min(12)],
        run.elapsed.as_secs_f64()
    );
    ownfiles::append(&path, line.as_bytes())
}

/// What firing hooks did.
#[derive(Debug, Default)]
pub struct Fired {
    pub runs: Vec<Run>,
    /// Deliveries no hook wanted, or of historical incidents.
    pub skipped: usize,
}

impl Fired {
    pub fn failures(&self) -> impl Iterator<Item = &Run> {
        self.runs.iter().filter(|r| !r.ok())
    }
}

/// Run every hook that wants each delivery, in order; log each run and
/// queue the failures. Historical records (imports) notify nobody.
pub fn fire(
    store: &Store,
    hooks: &HookSet,
    deliveries: &[Delivery],
    launch: &Launch,
    now: Timestamp,
) -> Result<Fired> {
    let mut fired = Fired::default();
    for delivery in deliveries {
        let wanted: Vec<&Hook> = hooks
            .hooks
            .iter()
            .filter(|_| !delivery.historical)
            .filter(|h| h.wants(&delivery.kind, &delivery.trailer, &delivery.severity))
            .collect();
        if wanted.is_empty() {
            fired.skipped += 1;
        }
        for hook in wanted {
            let run = run_logged(store, hook, delivery, launch, now)?;
            if !run.ok() {
                enqueue(
                    store,
                    &Queued {
                        hook: hook.name.clone(),
                        delivery: delivery.clone(),
                        attempts: 1,
                        last_failure: run.describe(),
                    },
                )?;
            }
            fired.runs.push(run);
        }
    }
    Ok(fired)
}

pub(crate) fn run_logged(
    store: &Store,
    hook: &Hook,
    delivery: &Delivery,
    launch: &Launch,
    now: Timestamp,
) -> Result<Run> {
    let run = run(store, hook, delivery, launch)?;
    log(store, now, &run, &delivery.commit)?;
    Ok(run)
}

/// What `incident hooks retry` did.
#[derive(Debug, Default)]
pub struct Retried {
    pub runs: Vec<Run>,
    /// Queued for hooks that are gone or no longer trusted: kept.
    pub missing_hooks: Vec<String>,
    pub still_queued: usize,
}

/// Run each queued delivery again; remove the ones that succeed.
pub fn retry(store: &Store, hooks: &HookSet, launch: &Launch, now: Timestamp) -> Result<Retried> {
    let mut retried = Retried::default();
    for (path, mut entry) in queued(store)? {
        let Some(hook) = hooks.hooks.iter().find(|h| h.name == entry.hook) else {
            if !retried.missing_hooks.contains(&entry.hook) {
                retried.missing_hooks.push(entry.hook.clone());
            }
            retried.still_queued += 1;
            continue;
        };
        let run = run_logged(store, hook, &entry.delivery, launch, now)?;
        if run.ok() {
            fs::remove_file(&path).map_err(io_err(&path))?;
        } else {
            entry.attempts += 1;
            entry.last_failure = run.describe();
            enqueue(store, &entry)?;
            retried.still_queued += 1;
        }
        retried.runs.push(run);
    }
    Ok(retried)
}
