//! `incident hooks run --since REV`: the central notifier. Run in one place
//! (CI on the default branch), it fires the hooks for every event that
//! reached the branch after REV, so each event notifies once, however many
//! clones recorded or pulled it.
//!
//! Marks remember how far it got, as refs (so they can be pushed and
//! fetched like any other: `git push origin 'refs/incident/*'`, for CI jobs
//! that start from a fresh clone):
//!
//! - per hook, `refs/incident/hooks-delivered/<hook>/<branch>`: every event
//!   up to that commit reached the hook. It moves only past events the hook
//!   took: at a failure the hook stops (later events wait, in order) and
//!   the next run sends again from the commit that failed. A hook that may
//!   not run (not trusted) keeps its mark where it was, so what it missed
//!   stays owed until it is trusted.
//! - per branch, `refs/incident/hooks-notified/<branch>`: the tip of the
//!   last run, where a hook seen for the first time starts.
//!
//! Delivery is at least once: a commit with several events that failed
//! half-way sends its first events again; the event id is the idempotency
//! key receivers drop duplicates by (as Standard Webhooks says).

use std::collections::BTreeMap;

use git2::Oid;

use super::config::{Hook, HookSet};
use super::payload::{self, Delivery};
use super::runner::{self, Launch, Run};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::Store;
use crate::time::Timestamp;

const MARK_PREFIX: &str = "refs/incident/hooks-notified/";
const HOOK_MARK_PREFIX: &str = "refs/incident/hooks-delivered/";
const OWED_PREFIX: &str = "refs/incident/hooks-owed/";

/// The current branch's name.
fn branch(store: &Store) -> Result<String> {
    let head = store.repo.find_reference("HEAD")?;
    Ok(head
        .symbolic_target()
        .ok()
        .flatten()
        .ok_or(Error::DetachedHead)?
        .trim_start_matches("refs/heads/")
        .to_string())
}

/// The branch's mark.
fn mark_ref(branch: &str) -> String {
    format!("{MARK_PREFIX}{branch}")
}

/// One hook's mark on the branch; a hook name that is no valid ref part
/// (spaces, `..`, `~`...) is named by a hash of it.
fn hook_ref(hook: &str, branch: &str) -> String {
    let plain = format!("{HOOK_MARK_PREFIX}{hook}/{branch}");
    if git2::Reference::is_valid_name(&plain) {
        return plain;
    }
    use sha2::Digest;
    let digest: String = sha2::Sha256::digest(hook.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{HOOK_MARK_PREFIX}h-{digest}/{branch}")
}

/// Where a range starts: after a commit, or at the root (everything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    Root,
    After(Oid),
}

impl Start {
    pub fn short(self) -> String {
        match self {
            Start::Root => "the root".into(),
            Start::After(id) => id.to_string()[..10].to_string(),
        }
    }
}

/// `--since REV`: a revision, or all zeros (what GitHub's `event.before`
/// is on the first push of a branch), which means from the root.
pub fn since(store: &Store, rev: &str) -> Result<Start> {
    let trimmed = rev.trim();
    if !trimmed.is_empty() && trimmed.chars().all(|c| c == '0') {
        return Ok(Start::Root);
    }
    crate::export::commit_of(store, trimmed)
        .map(Start::After)
        .ok_or_else(|| Error::InvalidInput {
            message: format!(
                "--since '{rev}' names no commit here; give a commit id, tag or branch (in CI, the commit before the push; all zeros means from the first commit)"
            ),
        })
}

/// What a central run did.
#[derive(Debug, Default)]
pub struct Notified {
    /// Distinct events and commits looked at, across the hooks' ranges.
    pub events: usize,
    pub commits: usize,
    /// The earliest start among the hooks.
    pub start: Option<Start>,
    /// Some hook started from its own mark rather than from --since.
    pub from_mark: bool,
    pub runs: Vec<Run>,
    /// (hook, events it is still owed): hooks that failed or may not run.
    pub owed: Vec<(String, usize)>,
}

impl Notified {
    pub fn failed(&self) -> usize {
        self.runs.iter().filter(|r| !r.ok()).count()
    }
}

/// A mark that still lies on the branch: the tip or one of its ancestors.
fn on_branch(store: &Store, name: &str, tip: Oid) -> Option<Oid> {
    let mark = store.repo.find_reference(name).ok()?.target()?;
    (mark == tip || store.repo.graph_descendant_of(tip, mark).unwrap_or(false)).then_some(mark)
}

/// A hook's marks: delivered up to a commit, or (when it took nothing
/// since the first commit) owed from the root commit on.
struct HookMarks {
    delivered: String,
    owed: String,
}

impl HookMarks {
    fn new(hook: &str, branch: &str) -> HookMarks {
        let delivered = hook_ref(hook, branch);
        let owed = delivered.replacen(HOOK_MARK_PREFIX, OWED_PREFIX, 1);
        HookMarks { delivered, owed }
    }

    fn start(&self, store: &Store, tip: Oid) -> Option<Start> {
        if let Some(at) = on_branch(store, &self.delivered, tip) {
            return Some(Start::After(at));
        }
        on_branch(store, &self.owed, tip).map(|_| Start::Root)
    }

    /// The hook took everything after `start` and before `commits[taken]`.
    fn record(&self, store: &Store, start: Start, commits: &[Oid], taken: usize) -> Result<()> {
        let done = match taken.checked_sub(1) {
            Some(last) => Some(commits[last]),
            None => match start {
                Start::After(at) => Some(at),
                Start::Root => None,
            },
        };
        match done {
            Some(at) => {
                store
                    .repo
                    .reference(&self.delivered, at, true, "incident hooks run")?;
                if let Ok(mut owed) = store.repo.find_reference(&self.owed) {
                    owed.delete()?;
                }
            }
            None => {
                if let Some(first) = commits.first() {
                    store
                        .repo
                        .reference(&self.owed, *first, true, "incident hooks run: owed")?;
                }
            }
        }
        Ok(())
    }
}

/// A hook and the commits after its start.
struct Plan<'a> {
    hook: &'a Hook,
    may_run: bool,
    marks: HookMarks,
    start: Start,
    commits: Vec<Oid>,
}

fn no_mark() -> Error {
    Error::Usage {
        message: "no high-water mark yet: give --since REV the first time (for example --since HEAD~1, or in CI the commit before the push)".into(),
    }
}

fn commits_after(store: &Store, start: Start, tip: Oid) -> Result<Vec<Oid>> {
    payload::commits_since(
        store,
        match start {
            Start::Root => None,
            Start::After(id) => Some(id),
        },
        tip,
    )
}

/// Fire every hook for the events after its start, in order; move each
/// hook's mark past what it took. `since` is where a hook without a mark
/// of its own starts (else the branch's mark; with neither: a usage error).
pub fn notify(
    store: &Store,
    config: &Config,
    set: &HookSet,
    since: Option<Start>,
    launch: &Launch,
    now: Timestamp,
) -> Result<Notified> {
    let tip = store.repo.head()?.peel_to_commit()?.id();
    let branch = branch(store)?;
    let branch_mark = on_branch(store, &mark_ref(&branch), tip).map(Start::After);
    let mut notified = Notified::default();
    let mut plans: Vec<Plan<'_>> = Vec::new();
    let everyone = set
        .hooks
        .iter()
        .map(|h| (h, true))
        .chain(set.untrusted.iter().map(|h| (h, false)));
    for (hook, may_run) in everyone {
        let marks = HookMarks::new(&hook.name, &branch);
        let own = marks.start(store, tip);
        let start = own.or(since).or(branch_mark).ok_or_else(no_mark)?;
        notified.from_mark |= own.is_some() && since.is_some_and(|s| Some(s) != own);
        plans.push(Plan {
            hook,
            may_run,
            marks,
            start,
            commits: commits_after(store, start, tip)?,
        });
    }
    // The range shown: the longest of the hooks' (or the one asked for).
    let (start, commits) = match plans.iter().max_by_key(|p| p.commits.len()) {
        Some(plan) => (plan.start, plan.commits.clone()),
        None => {
            let start = since.or(branch_mark).ok_or_else(no_mark)?;
            (start, commits_after(store, start, tip)?)
        }
    };
    let repo_name = payload::repo_name(store);
    let mut by_commit: BTreeMap<Oid, Vec<Delivery>> = BTreeMap::new();
    for commit in commits.iter().chain(plans.iter().flat_map(|p| &p.commits)) {
        if !by_commit.contains_key(commit) {
            let deliveries = payload::for_commit(store, config, *commit, &repo_name)?;
            by_commit.insert(*commit, deliveries);
        }
    }
    notified.start = Some(start);
    notified.commits = by_commit.len();
    notified.events = by_commit.values().map(Vec::len).sum();
    for plan in &plans {
        let hook = plan.hook;
        let wanted = |commit: &Oid| -> Vec<&Delivery> {
            by_commit[commit]
                .iter()
                .filter(|d| !d.historical && hook.wants(&d.kind, &d.trailer, &d.severity))
                .collect()
        };
        let mut taken = 0;
        if plan.may_run {
            'commits: for commit in &plan.commits {
                for delivery in wanted(commit) {
                    let run = runner::run_logged(store, hook, delivery, launch, now)?;
                    let ok = run.ok();
                    notified.runs.push(run);
                    if !ok {
                        break 'commits;
                    }
                }
                taken += 1;
            }
        }
        plan.marks.record(store, plan.start, &plan.commits, taken)?;
        let owed: usize = plan.commits[taken..].iter().map(|c| wanted(c).len()).sum();
        if owed > 0 || !plan.may_run {
            notified.owed.push((hook.name.clone(), owed));
        }
    }
    store
        .repo
        .reference(&mark_ref(&branch), tip, true, "incident hooks run")?;
    Ok(notified)
}
