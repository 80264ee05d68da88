//! `incident report`: figures derived from the repository and its
//! first-parent history. Returns data; rendering is in
//! [`crate::render::report`].
//!
//! Every event's own stated time (`at`) is the clock for durations: it
//! survives squash merges and rebases. Commit times are the clock of
//! record for when something was written down (recording lag) and for
//! `--as-of`.

pub mod cache;
pub mod config;
pub mod facts;
pub mod history;
mod objects;
pub mod period;
pub mod stats;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use chrono::Duration;
use git2::{Oid, Repository};
use serde::Serialize;

use self::facts::Facts;
use self::history::History;
use self::period::{Period, PeriodSpec};
use self::stats::{MILESTONE_MISSING, NOT_IN_HISTORY, OUT_OF_ORDER, STILL_OPEN, Sample, Summary};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::{CONFIG_PATH, Store, read_blob};
use crate::time::{Timestamp, Zone};
use crate::tomlfile;

/// How many weeks the trend (and the charts) cover.
pub const TREND_WEEKS: i64 = 12;

/// Break figures down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Severity,
    Service,
}

impl By {
    pub fn name(self) -> &'static str {
        match self {
            By::Severity => "severity",
            By::Service => "service",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ReportRequest {
    pub period: PeriodSpec,
    /// A revision or a time: the report as the branch stood then.
    pub as_of: Option<String>,
    pub by: Option<By>,
    /// Fail (instead of warning) when history-derived figures may be wrong.
    pub strict: bool,
}

/// The commit the report describes.
#[derive(Debug, Clone, Serialize)]
pub struct AsOf {
    pub commit: String,
    pub time: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeriodJson {
    pub label: String,
    pub since: String,
    pub until: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct WeekCount {
    pub week: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrendWeek {
    pub week: String,
    pub incidents: u64,
    pub median_time_to_resolve_seconds: Option<i64>,
}

/// Recording lag: the duration summary plus how many were late.
#[derive(Debug, Clone, Serialize)]
pub struct Lag {
    #[serde(flatten)]
    pub summary: Summary,
    pub late: u64,
    pub late_after_seconds: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangeFailureRate {
    pub available: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub deployments: u64,
    pub failed: u64,
    /// failed ÷ deployments, or null without deployments.
    pub rate: Option<f64>,
    /// The tags of the failed deployments.
    pub failed_tags: Vec<String>,
}

/// Action items of the incidents counted, over the period.
#[derive(Debug, Clone, Serialize)]
pub struct ActionItems {
    pub available: bool,
    /// Added during the period.
    pub opened: u64,
    /// Marked done during the period...
    pub done: u64,
    /// ...of which on or before their due date (or without one).
    pub done_within_due: u64,
    /// Dropped (will not be done) during the period.
    pub dropped: u64,
    /// Open at the end of the period.
    pub open_at_end: u64,
    /// Open at the end of the period and past their due date.
    pub overdue: u64,
}

/// Every figure for one set of incidents and one period.
#[derive(Debug, Clone, Serialize)]
pub struct Metrics {
    /// Incidents whose `started` lies in the period.
    pub incidents: u64,
    pub time_to_detect: Summary,
    pub time_to_acknowledge: Summary,
    pub time_to_declare: Summary,
    pub time_to_mitigate: Summary,
    pub time_to_resolve: Summary,
    pub time_between_incidents: Summary,
    pub time_in_state: BTreeMap<String, Summary>,
    /// Incidents in an open state at the end of the period.
    pub open_at_end: u64,
    pub postmortem_lead_time: Summary,
    /// Postmortems due by the end of the period and not published by then.
    pub postmortems_overdue: u64,
    pub action_items: ActionItems,
    pub recording_lag: Lag,
    pub change_failure_rate: ChangeFailureRate,
    /// Incidents in ignored states (false alarms, duplicates) left out of every figure.
    pub ignored: BTreeMap<String, u64>,
}

/// The whole report: the JSON contract.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub period: PeriodJson,
    pub as_of: Option<AsOf>,
    pub timezone: String,
    pub metrics: Metrics,
    /// The four periods of the same length before `period`.
    pub previous: PeriodJson,
    pub previous_metrics: Metrics,
    pub incidents_per_week: Vec<WeekCount>,
    /// The 12 ISO weeks ending with the period's last week.
    pub trend: Vec<TrendWeek>,
    pub by: BTreeMap<String, BTreeMap<String, Metrics>>,
    /// Start and end milestone of every duration figure, as configured.
    pub definitions: BTreeMap<String, String>,
    #[serde(skip)]
    pub warnings: Vec<String>,
    #[serde(skip)]
    pub history_commits: usize,
    #[serde(skip)]
    pub history_walked: usize,
}

/// A deployment: a tag and when it happened.
#[derive(Debug, Clone)]
struct Deployment {
    tag: String,
    commit: Oid,
    time: Timestamp,
}

struct Context<'a> {
    config: &'a Config,
    zone: Zone,
    deployments: Result<Vec<Deployment>, String>,
    /// Incident cause string → commit id in the deployments repository.
    causes: HashMap<String, Option<Oid>>,
}

pub const SHALLOW_WARNING: &str = "this is a shallow clone: history-derived figures (recording lag, --as-of) may be wrong; \
run `git fetch --unshallow` (in GitHub Actions: `fetch-depth: 0` on actions/checkout; in GitLab CI: GIT_DEPTH: 0)";

/// Build the report.
///
/// A cold run reads every commit of the first-parent line once; callers
/// that care about peak memory can turn off libgit2's object cache first
/// (`git2::opts::enable_caching(false)`, as the CLI does): the walk keeps
/// the few trees it needs itself.
pub fn report(
    store: &Store,
    request: &ReportRequest,
    now: Timestamp,
    progress: history::Progress<'_>,
) -> Result<Report> {
    let repo = &store.repo;
    let head = match repo.head() {
        Ok(h) => h.peel_to_commit()?.id(),
        Err(e)
            if matches!(
                e.code(),
                git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound
            ) =>
        {
            return Err(Error::NotInitialized {
                config: CONFIG_PATH.into(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    let snapshot_path = facts::snapshot_path(repo.commondir());

    // The usual case, a report on HEAD of an unchanged repository, needs
    // neither history nor incident files: the snapshot has it all.
    let mut snapshot = None;
    let mut history_walked = 0;
    let mut tip = head;
    let mut config = None;
    let cache_path = cache::cache_path(repo.commondir());
    // Deleting the per-commit cache forgets the snapshot too.
    if request.as_of.is_none() {
        let head_config = store.config()?;
        if cache_path.is_file() && !repo.is_shallow() {
            snapshot = facts::load_snapshot(&snapshot_path, head, &facts::config_key(&head_config));
        }
        config = Some(head_config);
    }
    if snapshot.is_none() {
        let mut cache = cache::Cache::load(&cache_path);
        let before = cache.entries.len();
        // Read HEAD's incident files on another thread while walking.
        let objects_dir = repo.commondir().join("objects");
        let head_tree = repo.find_commit(head)?.tree_id();
        let (full, raw_head) = std::thread::scope(|scope| {
            let reader = request
                .as_of
                .is_none()
                .then(|| scope.spawn(|| facts::read_raw(&objects_dir, head_tree)));
            let full = history::walk(repo, head, &mut cache, progress);
            let raw = reader.map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(Error::InvalidInput {
                        message: "the incident reader thread failed".into(),
                    })
                })
            });
            (full, raw)
        });
        let full = full?;
        let mut warnings = Vec::new();
        if cache.entries.len() != before {
            let chain: BTreeSet<Oid> = full.chain.iter().map(|(id, _)| *id).collect();
            if cache.entries.len() > 2 * chain.len() + 1024 {
                cache.entries.retain(|id, _| chain.contains(id));
            }
            if let Err(e) = cache.save(&cache_path) {
                warnings.push(format!("could not write the report cache: {e}"));
            }
        }
        // What the walk learned is in `full` now; free the cache's copy
        // before the incidents are reduced (peak memory).
        drop(cache);
        history_walked = full.walked;
        let history = match &request.as_of {
            None => full,
            Some(rev) => {
                tip = as_of_commit(repo, &full, rev, now, store)?;
                let tree = repo.find_commit(tip)?.tree()?;
                let bytes =
                    read_blob(repo, &tree, CONFIG_PATH)?.ok_or_else(|| Error::NotInitialized {
                        config: CONFIG_PATH.into(),
                    })?;
                config = Some(Config::parse(
                    CONFIG_PATH,
                    tomlfile::text(CONFIG_PATH, &bytes)?,
                )?);
                let position = full
                    .chain
                    .iter()
                    .position(|(id, _)| *id == tip)
                    .unwrap_or(0);
                let chain = full.chain[position..].to_vec();
                let on_line: BTreeSet<Oid> = chain.iter().map(|(id, _)| *id).collect();
                // A file's recording commit is the oldest that had it; keep
                // those on the shortened line.
                History {
                    recorded: full
                        .recorded
                        .into_iter()
                        .filter(|(_, r)| on_line.contains(&r.commit))
                        .collect(),
                    chain,
                    walked: full.walked,
                    shallow: full.shallow,
                }
            }
        };
        let Some(config) = &config else {
            return Err(Error::NotInitialized {
                config: CONFIG_PATH.into(),
            });
        };
        let key = facts::config_key(config);
        if !history.shallow && !repo.is_shallow() {
            snapshot = facts::load_snapshot(&snapshot_path, tip, &key);
        }
        if snapshot.is_none() {
            let (raw, read_warnings) = match raw_head {
                Some(raw) if tip == head => raw?,
                _ => facts::read_raw(&objects_dir, repo.find_commit(tip)?.tree_id())?,
            };
            warnings.extend(read_warnings);
            let facts = facts::reduce_all(config, &raw, &history.recorded);
            drop(raw);
            let (commits, shallow) = (history.chain.len(), history.shallow);
            drop(history);
            let fresh = facts::Snapshot {
                commits,
                shallow,
                warnings: warnings.clone(),
                facts,
            };
            // A shallow clone's history is incomplete: keep nothing derived from it.
            let saved = if fresh.shallow || repo.is_shallow() {
                Ok(())
            } else {
                facts::save_snapshot(&snapshot_path, tip, &key, &fresh)
            };
            if let Err(e) = saved {
                warnings.push(format!("could not write the report snapshot: {e}"));
            }
            snapshot = Some(fresh);
        }
    }
    let (Some(snapshot), Some(config)) = (snapshot, config) else {
        return Err(Error::NotInitialized {
            config: CONFIG_PATH.into(),
        });
    };
    let mut warnings = snapshot.warnings.clone();
    if snapshot.shallow || repo.is_shallow() {
        if request.strict {
            return Err(Error::InvalidInput {
                message: format!("--strict: {SHALLOW_WARNING}"),
            });
        }
        warnings.push(SHALLOW_WARNING.to_string());
    }
    config.metrics.validate(&config)?;
    let zone = config.zone();
    let period = request.period.resolve(now, &zone)?;
    let previous = period.previous(&zone);
    let facts = snapshot.facts;
    let tip_time = repo.find_commit(tip)?.committer().when();
    let tip_time = history::commit_time(tip_time.seconds(), tip_time.offset_minutes());

    let deployments = load_deployments(store, &config);
    let mut causes = HashMap::new();
    if let Ok(deploys) = &deployments {
        let deploy_repo = deployment_repo(store, &config).ok();
        let _ = deploys;
        for f in &facts {
            for rev in &f.incident.caused_by {
                let id = deploy_repo
                    .as_ref()
                    .and_then(|r| r.revparse_single(rev).ok())
                    .and_then(|o| o.peel_to_commit().ok())
                    .map(|c| c.id());
                causes.insert(rev.clone(), id);
            }
        }
    }
    let context = Context {
        config: &config,
        zone: zone.clone(),
        deployments,
        causes,
    };
    let all: Vec<&Facts> = facts.iter().collect();
    let metrics = compute(&context, &all, &period);
    let previous_metrics = compute(&context, &all, &previous);
    let counted: Vec<&Facts> = all
        .iter()
        .copied()
        .filter(|f| !ignored(&config, f))
        .collect();

    let mut incidents_per_week = Vec::new();
    let mut monday = period::week_start(&zone, &period.since);
    loop {
        let start = period::week_instant(&zone, monday)?;
        if start >= period.until {
            break;
        }
        let end = period::week_instant(&zone, monday + Duration::days(7))?;
        let count = counted
            .iter()
            .filter(|f| {
                f.incident
                    .milestone("started")
                    .is_some_and(|t| t >= start && t < end && period.contains(&t))
            })
            .count() as u64;
        incidents_per_week.push(WeekCount {
            week: period::week_label(monday),
            count,
        });
        monday += Duration::days(7);
    }

    let last_instant = period.until - Duration::seconds(1);
    let last_monday = period::week_start(&zone, &last_instant.max(period.since));
    let mut trend = Vec::new();
    for back in (0..TREND_WEEKS).rev() {
        let monday = last_monday - Duration::days(7 * back);
        let week = Period {
            since: period::week_instant(&zone, monday)?,
            until: period::week_instant(&zone, monday + Duration::days(7))?,
            label: period::week_label(monday),
        };
        let in_week: Vec<&Facts> = in_period(&counted, &week);
        let mut sample = Sample::default();
        for f in &in_week {
            span_sample(&config, f, &config.metrics.time_to_resolve, &mut sample);
        }
        trend.push(TrendWeek {
            week: week.label.clone(),
            incidents: in_week.len() as u64,
            median_time_to_resolve_seconds: sample.summary().median_seconds,
        });
    }

    let mut by = BTreeMap::new();
    if let Some(dimension) = request.by {
        let mut groups: BTreeMap<String, Vec<&Facts>> = BTreeMap::new();
        match dimension {
            By::Severity => {
                for name in config.severity_names() {
                    groups.insert(name, Vec::new());
                }
                for f in &all {
                    groups
                        .entry(f.incident.severity.clone())
                        .or_default()
                        .push(f);
                }
            }
            By::Service => {
                for f in &all {
                    for service in &f.incident.services {
                        groups.entry(service.clone()).or_default().push(f);
                    }
                }
            }
        }
        let per: BTreeMap<String, Metrics> = groups
            .into_iter()
            .map(|(name, group)| (name, compute(&context, &group, &period)))
            .collect();
        by.insert(dimension.name().to_string(), per);
    }

    let mut definitions = BTreeMap::new();
    for (name, span) in config.metrics.spans() {
        definitions.insert(name.to_string(), format!("{} → {}", span.from, span.to));
    }
    let between = &config.metrics.time_between_incidents;
    definitions.insert(
        "time_between_incidents".into(),
        format!(
            "{} of one incident → {} of the next, per service",
            between.from, between.to
        ),
    );

    let as_of = request.as_of.as_ref().map(|_| AsOf {
        commit: tip.to_string(),
        time: zone.convert(&tip_time).to_rfc3339(),
    });
    let period_json = |p: &Period| PeriodJson {
        label: p.label.clone(),
        since: zone.convert(&p.since).to_rfc3339(),
        until: zone.convert(&p.until).to_rfc3339(),
    };
    Ok(Report {
        period: period_json(&period),
        as_of,
        timezone: zone.name(),
        metrics,
        previous: period_json(&previous),
        previous_metrics,
        incidents_per_week,
        trend,
        by,
        definitions,
        warnings,
        history_commits: snapshot.commits,
        history_walked,
    })
}

/// The commit `--as-of` names: a revision on the first-parent line, or
/// the last commit on that line at or before a time.
fn as_of_commit(
    repo: &Repository,
    history: &History,
    rev: &str,
    now: Timestamp,
    store: &Store,
) -> Result<Oid> {
    if let Ok(object) = repo.revparse_single(rev)
        && let Ok(commit) = object.peel_to_commit()
    {
        let id = commit.id();
        if history.chain.iter().any(|(c, _)| *c == id) {
            return Ok(id);
        }
        return Err(Error::InvalidInput {
            message: format!(
                "--as-of {rev}: commit {} is not on the first-parent line of the current branch",
                &id.to_string()[..10]
            ),
        });
    }
    let zone = store.config()?.zone();
    let when = crate::time::parse_time(rev, now, &zone).map_err(|_| Error::InvalidInput {
        message: format!(
            "--as-of '{rev}' is neither a revision nor a time ({})",
            crate::time::ACCEPTED_FORMS
        ),
    })?;
    history
        .chain
        .iter()
        .find(|(_, t)| *t <= when)
        .map(|(id, _)| *id)
        .ok_or_else(|| Error::InvalidInput {
            message: format!(
                "--as-of {rev}: the branch has no commit at or before {}",
                zone.long(&when)
            ),
        })
}

fn ignored(config: &Config, f: &Facts) -> bool {
    config.metrics.ignore_states.contains(&f.incident.status)
}

fn in_period<'a>(facts: &[&'a Facts], period: &Period) -> Vec<&'a Facts> {
    facts
        .iter()
        .copied()
        .filter(|f| {
            f.incident
                .milestone("started")
                .is_some_and(|t| period.contains(&t))
        })
        .collect()
}

fn span_sample(config: &Config, f: &Facts, span: &config::Span, sample: &mut Sample) {
    let incident = &f.incident;
    let (Some(from), Some(to)) = (incident.milestone(&span.from), incident.milestone(&span.to))
    else {
        sample.exclude(if incident.is_open(config) {
            STILL_OPEN
        } else {
            MILESTONE_MISSING
        });
        return;
    };
    if incident.assumed_from(&span.from, &span.to) || incident.assumed_from(&span.to, &span.from) {
        sample.exclude(MILESTONE_MISSING);
        return;
    }
    let seconds = (to - from).num_seconds();
    if seconds < 0 {
        sample.exclude(OUT_OF_ORDER);
    } else {
        sample.push(seconds);
    }
}

fn compute(context: &Context<'_>, facts: &[&Facts], period: &Period) -> Metrics {
    let config = context.config;
    let mut ignored_counts = BTreeMap::new();
    for f in facts {
        if ignored(config, f)
            && f.incident
                .milestone("started")
                .is_some_and(|t| period.contains(&t))
        {
            *ignored_counts.entry(f.incident.status.clone()).or_insert(0) += 1;
        }
    }
    let counted: Vec<&Facts> = facts
        .iter()
        .copied()
        .filter(|f| !ignored(config, f))
        .collect();
    let current = in_period(&counted, period);
    let summary_of = |span: &config::Span| {
        let mut sample = Sample::default();
        for f in &current {
            span_sample(config, f, span, &mut sample);
        }
        sample.summary()
    };
    let m = &config.metrics;

    // Time between incidents, per service.
    let mut between = Sample::default();
    let mut per_service: BTreeMap<&str, Vec<&Facts>> = BTreeMap::new();
    for f in &counted {
        for service in &f.incident.services {
            per_service.entry(service.as_str()).or_default().push(f);
        }
    }
    for list in per_service.values() {
        // `counted` is sorted by started, so each list is too.
        for pair in list.windows(2) {
            let (prev, next) = (pair[0], pair[1]);
            let Some(next_start) = next.incident.milestone(&m.time_between_incidents.to) else {
                continue;
            };
            if !period.contains(&next_start) {
                continue;
            }
            match prev.incident.milestone(&m.time_between_incidents.from) {
                None if prev.incident.is_open(config) => between.exclude(STILL_OPEN),
                None => between.exclude(MILESTONE_MISSING),
                Some(end) => {
                    let seconds = (next_start - end).num_seconds();
                    if seconds < 0 {
                        between.exclude(OUT_OF_ORDER);
                    } else {
                        between.push(seconds);
                    }
                }
            }
        }
    }

    // Time in each state: completed stints, summed per incident.
    let mut states: BTreeMap<String, Sample> = BTreeMap::new();
    for f in &current {
        let mut totals: BTreeMap<&str, i64> = BTreeMap::new();
        let mut unfinished: Option<&str> = None;
        let mut broken = false;
        for (i, (state, at)) in f.transitions.iter().enumerate() {
            match f.transitions.get(i + 1) {
                Some((_, next)) => {
                    let seconds = (*next - *at).num_seconds();
                    if seconds < 0 {
                        broken = true;
                    }
                    *totals.entry(state.as_str()).or_insert(0) += seconds;
                }
                None if config.is_open(state) => unfinished = Some(state.as_str()),
                None => {}
            }
        }
        if broken {
            let visited: BTreeSet<&str> = f.transitions.iter().map(|(s, _)| s.as_str()).collect();
            for state in visited {
                states
                    .entry(state.to_string())
                    .or_default()
                    .exclude(OUT_OF_ORDER);
            }
            continue;
        }
        if let Some(state) = unfinished {
            totals.remove(state);
            states
                .entry(state.to_string())
                .or_default()
                .exclude(STILL_OPEN);
        }
        for (state, seconds) in totals {
            states.entry(state.to_string()).or_default().push(seconds);
        }
    }

    // Open at the end of the period.
    let open_at_end = counted
        .iter()
        .filter(|f| {
            let state_then = f
                .transitions
                .iter()
                .take_while(|(_, at)| *at < period.until)
                .last()
                .map(|(s, _)| s.as_str());
            state_then.is_some_and(|s| config.is_open(s))
        })
        .count() as u64;

    // Postmortems overdue at the end of the period.
    let postmortems_overdue = counted
        .iter()
        .filter(|f| {
            let Some(days) = m.postmortem_due_days.get(&f.incident.severity) else {
                return false;
            };
            let Some(resolved) = f.incident.milestone(&m.postmortem_lead_time.from) else {
                return false;
            };
            let due = resolved + Duration::days(*days);
            let published = f.incident.milestone(&m.postmortem_lead_time.to);
            due < period.until && published.is_none_or(|p| p >= period.until)
        })
        .count() as u64;

    // Recording lag of every record whose stated time is in the period.
    let mut lag = Sample::default();
    let mut late = 0u64;
    for f in &counted {
        for (at, recorded) in &f.records {
            if !period.contains(at) {
                continue;
            }
            match recorded {
                None => lag.exclude(NOT_IN_HISTORY),
                Some(r) => {
                    let seconds = (*r - *at).num_seconds();
                    if seconds < 0 {
                        lag.exclude(OUT_OF_ORDER);
                    } else {
                        if seconds > m.late_after_seconds {
                            late += 1;
                        }
                        lag.push(seconds);
                    }
                }
            }
        }
    }

    let change_failure_rate = match &context.deployments {
        Err(reason) => ChangeFailureRate {
            available: false,
            reason: Some(reason.clone()),
            deployments: 0,
            failed: 0,
            rate: None,
            failed_tags: Vec::new(),
        },
        Ok(deployments) => {
            let in_period: Vec<&Deployment> = deployments
                .iter()
                .filter(|d| period.contains(&d.time))
                .collect();
            let mut cause_names = BTreeSet::new();
            let mut cause_commits = BTreeSet::new();
            for f in &counted {
                for rev in &f.incident.caused_by {
                    cause_names.insert(rev.as_str());
                    if let Some(Some(id)) = context.causes.get(rev) {
                        cause_commits.insert(*id);
                    }
                }
            }
            let failed_tags: Vec<String> = in_period
                .iter()
                .filter(|d| {
                    cause_names.contains(d.tag.as_str()) || cause_commits.contains(&d.commit)
                })
                .map(|d| d.tag.clone())
                .collect();
            let n = in_period.len() as u64;
            let failed = failed_tags.len() as u64;
            ChangeFailureRate {
                available: true,
                reason: None,
                deployments: n,
                failed,
                rate: (n > 0).then(|| (failed as f64 / n as f64 * 10_000.0).round() / 10_000.0),
                failed_tags,
            }
        }
    };

    let _ = &context.zone;
    Metrics {
        incidents: current.len() as u64,
        time_to_detect: summary_of(&m.time_to_detect),
        time_to_acknowledge: summary_of(&m.time_to_acknowledge),
        time_to_declare: summary_of(&m.time_to_declare),
        time_to_mitigate: summary_of(&m.time_to_mitigate),
        time_to_resolve: summary_of(&m.time_to_resolve),
        time_between_incidents: between.summary(),
        time_in_state: states.into_iter().map(|(k, v)| (k, v.summary())).collect(),
        open_at_end,
        postmortem_lead_time: summary_of(&m.postmortem_lead_time),
        postmortems_overdue,
        action_items: action_items(&context.zone, &counted, period),
        recording_lag: Lag {
            summary: lag.summary(),
            late,
            late_after_seconds: m.late_after_seconds,
        },
        change_failure_rate,
        ignored: ignored_counts,
    }
}

fn action_items(zone: &Zone, counted: &[&Facts], period: &Period) -> ActionItems {
    // As `incident actions` does: overdue when the due day is before today,
    // and "today" at the end of the period is the day the period ends on.
    let end_day = zone.convert(&period.until).date_naive();
    let mut items = ActionItems {
        available: true,
        opened: 0,
        done: 0,
        done_within_due: 0,
        dropped: 0,
        open_at_end: 0,
        overdue: 0,
    };
    for action in counted.iter().flat_map(|f| &f.actions) {
        let created = action.created();
        let finished = action.finished();
        if period.contains(&created) {
            items.opened += 1;
        }
        if let Some(at) = finished.filter(|t| period.contains(t)) {
            match action.status.as_str() {
                "done" => {
                    items.done += 1;
                    let day = zone.convert(&at).date_naive();
                    if action.due().is_none_or(|due| day <= due) {
                        items.done_within_due += 1;
                    }
                }
                "dropped" => items.dropped += 1,
                _ => {}
            }
        }
        let open_then = created < period.until && finished.is_none_or(|t| t >= period.until);
        if open_then {
            items.open_at_end += 1;
            if action.due().is_some_and(|due| due < end_day) {
                items.overdue += 1;
            }
        }
    }
    items
}

fn deployment_repo(store: &Store, config: &Config) -> Result<Repository> {
    match &config.deployments.repository {
        None => Ok(Repository::open(store.repo.path())?),
        Some(path) => {
            let full = store.workdir().join(Path::new(path));
            Repository::open(&full).map_err(|e| Error::InvalidInput {
                message: format!(
                    "{CONFIG_PATH}: deployments.repository '{path}' ({}) cannot be opened: {}",
                    full.display(),
                    e.message()
                ),
            })
        }
    }
}

fn load_deployments(store: &Store, config: &Config) -> Result<Vec<Deployment>, String> {
    let Some(pattern) = &config.deployments.tag_pattern else {
        return Err(format!("no [deployments] tag_pattern in {CONFIG_PATH}"));
    };
    let repo = deployment_repo(store, config).map_err(|e| e.to_string())?;
    let mut found = Vec::new();
    let refs = repo
        .references_glob("refs/tags/*")
        .map_err(|e| e.to_string())?;
    for reference in refs.flatten() {
        let Ok(name) = reference.shorthand().map(str::to_string) else {
            continue;
        };
        if !config::glob_match(pattern, &name) {
            continue;
        }
        let Ok(commit) = reference.peel_to_commit() else {
            continue;
        };
        let when = reference
            .peel_to_tag()
            .ok()
            .and_then(|t| t.tagger().map(|s| s.when()))
            .unwrap_or_else(|| commit.committer().when());
        found.push(Deployment {
            tag: name,
            commit: commit.id(),
            time: history::commit_time(when.seconds(), when.offset_minutes()),
        });
    }
    found.sort_by(|a, b| (a.time, &a.tag).cmp(&(b.time, &b.tag)));
    Ok(found)
}
