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
pub mod figures;
pub(crate) mod graph;
pub mod history;
mod objects;
pub mod period;
pub mod stats;
mod wire;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use chrono::Duration;
use git2::{Oid, Repository};
use serde::Serialize;

use self::facts::{Facts, Secs, Snapshot};
use self::figures::{Context, Deployment, Scope, Traces, Window};
use self::history::History;
use self::period::{Period, PeriodSpec};
use self::stats::{Comparison, Summary};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::{CONFIG_PATH, Store, read_blob};
use crate::time::Timestamp;
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
    /// Collect the incidents behind each figure ([`Report::traces`]), for
    /// the outputs that list them.
    pub trace: bool,
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
    /// The earlier periods: how many times the covered length of the
    /// report's period they cover (four when the period is covered whole
    /// and the record reaches back that far; less where the record starts
    /// later; more when the period is cut short by now).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub periods: Option<f64>,
    /// The reported period: the part of it the figures cover (null when
    /// none: it lies wholly before the repository's record or after now)...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub covered: Option<Option<CoveredJson>>,
    /// ...and the parts they do not, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_covered: Option<Vec<GapJson>>,
}

/// The part of a period its figures cover.
#[derive(Debug, Clone, Serialize)]
pub struct CoveredJson {
    pub since: String,
    pub until: String,
    /// Covered length ÷ the period's length.
    pub fraction: f64,
}

/// A part of the period its figures do not cover.
#[derive(Debug, Clone, Serialize)]
pub struct GapJson {
    pub since: String,
    pub until: String,
    /// `before_record` (the repository's record starts later),
    /// `shallow_clone` (before the history of this shallow clone, which
    /// starts with the record already there) or `after_now` (it has not
    /// happened yet).
    pub reason: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct WeekCount {
    pub week: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrendWeek {
    pub week: String,
    /// False for a week wholly before the repository's record or after
    /// now: its zeros are not measured.
    pub recorded: bool,
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
    /// False when the repository records none of the period (it lies
    /// before the record starts, or after now): then every figure below is
    /// empty, not measured, and `reason` says why.
    pub available: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
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
    /// Of `incidents`, those recorded as historical (written down after the fact).
    pub historical: u64,
}

/// How many durations fall in one bucket of a distribution.
#[derive(Debug, Clone, Serialize)]
pub struct BucketCount {
    pub bucket: String,
    pub count: u64,
}

/// Incidents that started after the period, up to now: a period that
/// ends before this week hides them otherwise.
#[derive(Debug, Clone, Serialize)]
pub struct AfterPeriod {
    pub since: String,
    pub until: String,
    pub incidents: u64,
    /// Of those, how many are open now.
    pub open: u64,
    pub weeks: Vec<WeekCount>,
}

/// The whole report: the JSON contract.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub period: PeriodJson,
    pub as_of: Option<AsOf>,
    pub timezone: String,
    pub metrics: Metrics,
    /// The four periods of the same length before `period`, from where the
    /// repository's record starts at the earliest.
    pub previous: PeriodJson,
    pub previous_metrics: Metrics,
    pub incidents_per_week: Vec<WeekCount>,
    /// The 12 ISO weeks ending with the period's last week.
    pub trend: Vec<TrendWeek>,
    pub by: BTreeMap<String, BTreeMap<String, Metrics>>,
    /// Start and end milestone of every duration figure, as configured.
    pub definitions: BTreeMap<String, String>,
    /// Per figure: is the change from the earlier periods distinguishable from noise?
    pub comparison: BTreeMap<String, Comparison>,
    /// Time to mitigate and time to resolve of the period, in log-scaled buckets.
    pub distributions: BTreeMap<String, Vec<BucketCount>>,
    /// Incidents per service in each week of `trend`.
    pub trend_by_service: BTreeMap<String, Vec<u64>>,
    /// Incidents that started after the period (when it ended before now).
    pub after_period: Option<AfterPeriod>,
    /// The incidents behind each figure of `metrics` (Markdown and HTML
    /// list them; not in JSON, which holds no ids, so that the same
    /// history recorded twice gives the same JSON).
    #[serde(skip)]
    pub traces: Traces,
    #[serde(skip)]
    pub warnings: Vec<String>,
    #[serde(skip)]
    pub history_commits: usize,
    #[serde(skip)]
    pub history_walked: usize,
}

/// How to get the history a shallow clone lacks.
const UNSHALLOW: &str = "run `git fetch --unshallow` for the whole history (in GitHub Actions: `fetch-depth: 0` on actions/checkout; in GitLab CI: GIT_DEPTH: 0)";

/// The shallow-clone warning, naming what this report left out.
fn shallow_warning(snapshot: &Snapshot) -> String {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let publications = snapshot
        .facts
        .iter()
        .filter(|f| f.incident.published_before_history)
        .count();
    let records = snapshot
        .facts
        .iter()
        .flat_map(|f| &f.records)
        .filter(|r| r.before_history)
        .count();
    let mut left_out = Vec::new();
    if publications > 0 {
        left_out.push(format!(
            "when {publications} postmortem{} {} published (postmortem lead time, overdue postmortems)",
            plural(publications),
            if publications == 1 { "was" } else { "were" }
        ));
    }
    if records > 0 {
        left_out.push(format!(
            "when {records} record{} {} committed (recording lag)",
            plural(records),
            if records == 1 { "was" } else { "were" }
        ));
    }
    if snapshot.set_up_before_history {
        left_out.push("when the record starts (the period covered)".to_string());
    }
    let what = if left_out.is_empty() {
        "what figures would take from it".to_string()
    } else {
        left_out.join(", ")
    };
    format!(
        "this is a shallow clone: history before its oldest commit is not here, so the report leaves out as `shallow_clone` {what}, and --as-of reaches no further back; {UNSHALLOW}"
    )
}

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
    let loaded = load(store, request, now, progress)?;
    let repo = &store.repo;
    let Loaded {
        snapshot,
        config,
        tip,
        history_walked,
    } = loaded;
    let mut warnings = snapshot.warnings.clone();
    if snapshot.shallow || repo.is_shallow() {
        if request.strict {
            return Err(Error::InvalidInput {
                message: format!("--strict: {}", shallow_warning(&snapshot)),
            });
        }
        warnings.push(shallow_warning(&snapshot));
    }
    config.metrics.validate(&config)?;
    let zone = config.zone();
    let tip_time = repo.find_commit(tip)?.committer().when();
    let tip_time = history::commit_time(tip_time.seconds(), tip_time.offset_minutes());
    let deployments = load_deployments(store, &config);
    let mut causes = HashMap::new();
    if deployments.is_ok() {
        let deploy_repo = deployment_repo(store, &config).ok();
        for f in &snapshot.facts {
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
        zone,
        deployments,
        deployments_since: deployment_repo(store, &config)
            .ok()
            .and_then(|r| shallow_since(&r)),
        causes,
    };
    let mut report = assemble(&context, &snapshot, request, now)?;
    report.as_of = request.as_of.as_ref().map(|_| AsOf {
        commit: tip.to_string(),
        time: context.zone.convert(&tip_time).to_rfc3339(),
    });
    report.warnings = warnings;
    report.history_commits = snapshot.commits;
    report.history_walked = history_walked;
    Ok(report)
}

/// The facts a report is made of, and the config and commit they are of.
struct Loaded {
    snapshot: Snapshot,
    config: Config,
    tip: Oid,
    history_walked: usize,
}

/// The facts of HEAD (or of `--as-of`): from the snapshot when it is of
/// that commit and config, else from the incident files and the history.
fn load(
    store: &Store,
    request: &ReportRequest,
    now: Timestamp,
    progress: history::Progress<'_>,
) -> Result<Loaded> {
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
    let cache_path = cache::cache_path(repo.commondir());

    // The usual case, a report on HEAD of an unchanged repository, needs
    // neither history nor incident files: the snapshot has it all.
    // Deleting the per-commit cache forgets the snapshot too.
    let head_config = match request.as_of {
        None => Some(store.config()?),
        Some(_) => None,
    };
    let not_initialized = || Error::NotInitialized {
        config: CONFIG_PATH.into(),
    };
    let cached = head_config
        .as_ref()
        .filter(|_| cache_path.is_file() && !repo.is_shallow())
        .and_then(|config| facts::load_snapshot(&snapshot_path, head, &facts::config_key(config)));
    if let Some(snapshot) = cached {
        return Ok(Loaded {
            snapshot,
            config: head_config.ok_or_else(not_initialized)?,
            tip: head,
            history_walked: 0,
        });
    }

    let mut warnings = Vec::new();
    let (full, unsaved) =
        history::learn(repo, head, &cache_path, request.as_of.is_some(), progress)?;
    if let Some(e) = unsaved {
        warnings.push(format!("could not write the report cache: {e}"));
    }
    let history_walked = full.walked;
    let (tip, config, history) = match &request.as_of {
        None => (head, head_config.ok_or_else(not_initialized)?, full),
        Some(rev) => {
            let tip = as_of_commit(repo, &full, rev, now, store)?;
            let tree = repo.find_commit(tip)?.tree()?;
            let bytes =
                read_blob(repo, &tree, CONFIG_PATH)?.ok_or_else(|| Error::NotInitialized {
                    config: CONFIG_PATH.into(),
                })?;
            let config = Config::parse(CONFIG_PATH, tomlfile::text(CONFIG_PATH, &bytes)?)?;
            let position = full
                .chain
                .iter()
                .position(|(id, _)| *id == tip)
                .unwrap_or(0);
            let chain = full.chain[position..].to_vec();
            let on_line: BTreeSet<Oid> = chain.iter().map(|(id, _)| *id).collect();
            // A file's recording commit is the oldest that had it; keep
            // those on the shortened line.
            let history = History {
                recorded: full
                    .recorded
                    .into_iter()
                    .filter(|(_, r)| on_line.contains(&r.commit))
                    .collect(),
                commits: chain.len(),
                chain,
                walked: full.walked,
                shallow: full.shallow,
            };
            (tip, config, history)
        }
    };
    let key = facts::config_key(&config);
    if !history.shallow
        && !repo.is_shallow()
        && let Some(snapshot) = facts::load_snapshot(&snapshot_path, tip, &key)
    {
        return Ok(Loaded {
            snapshot,
            config,
            tip,
            history_walked,
        });
    }
    let set_up = history.recorded.get(CONFIG_PATH);
    let set_up_before_history = set_up.is_some_and(|r| r.at_edge);
    let set_up = set_up.map(|r| r.time);
    let (facts, read_warnings) = facts::read_facts(
        repo,
        repo.find_commit(tip)?.tree_id(),
        &config,
        &history.recorded,
    )?;
    warnings.extend(read_warnings);
    let snapshot = facts::Snapshot {
        commits: history.commits,
        shallow: history.shallow,
        warnings,
        set_up,
        set_up_before_history,
        facts,
    };
    drop(history);
    // A shallow clone's history is incomplete: keep nothing derived from it.
    if !snapshot.shallow
        && !repo.is_shallow()
        && let Err(e) = facts::save_snapshot(&snapshot_path, tip, &key, &snapshot)
    {
        let mut snapshot = snapshot;
        snapshot
            .warnings
            .push(format!("could not write the report snapshot: {e}"));
        return Ok(Loaded {
            snapshot,
            config,
            tip,
            history_walked,
        });
    }
    Ok(Loaded {
        snapshot,
        config,
        tip,
        history_walked,
    })
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The figures of a report from its facts.
fn assemble(
    context: &Context<'_>,
    snapshot: &Snapshot,
    request: &ReportRequest,
    now: Timestamp,
) -> Result<Report> {
    let config = context.config;
    let zone = &context.zone;
    let period = request.period.resolve(now, zone)?;
    let facts = &snapshot.facts;
    let all: Vec<&Facts> = facts.iter().collect();
    let counted = figures::counted(config, &all);

    // Figures cover only time the repository records: from the day it was
    // set up, or of its earliest incident if that is earlier (imports), up
    // to now. Time nobody recorded, or that has not happened, is not a
    // quiet time.
    let earliest = facts.iter().filter_map(|f| f.incident.started).min();
    let record_start = [snapshot.set_up, earliest]
        .into_iter()
        .flatten()
        .min()
        .map(figures::instant);
    // Up to and including now: an incident declared this second counts.
    let record_end = now + Duration::seconds(1);
    let mut coverage = period.coverage(zone, record_start, record_end);
    // A shallow clone whose oldest commit has the config file already: the
    // record starts then or earlier, and whether time before the record
    // start found here was recorded is not here to tell.
    let history_cut = snapshot.set_up_before_history;
    if history_cut {
        for gap in &mut coverage.gaps {
            if gap.reason == period::GapReason::BeforeRecord {
                gap.reason = period::GapReason::BeforeHistory;
            }
        }
    }
    let record_day = record_start
        .and_then(|start| period::record_day(zone, start))
        .map(|day| day.timestamp());
    let covered = coverage.covered.clone();
    let empty_at = |at: Timestamp| Period {
        since: at,
        until: at,
        label: format!("{} to {}", zone.short(&at), zone.short(&at)),
    };
    let previous = match &covered {
        Some(_) => period.previous_within(zone, record_start, Some(record_end)),
        None => empty_at(period.since),
    };
    let covered_seconds = covered
        .as_ref()
        .map_or(0, |c| (c.until - c.since).num_seconds());
    let periods = if previous.until > previous.since && covered_seconds > 0 {
        (previous.until - previous.since).num_seconds() as f64 / covered_seconds as f64
    } else {
        0.0
    };
    let not_recorded = match &record_start {
        Some(start) if history_cut => format!(
            "the period lies before {}, and this shallow clone cannot tell whether the repository recorded it: its history starts on {}; run `git fetch --unshallow` to fetch the rest",
            zone.convert(start).format("%-d %b %Y"),
            snapshot
                .set_up
                .map(|s| zone
                    .convert(&figures::instant(s))
                    .format("%-d %b %Y")
                    .to_string())
                .unwrap_or_default()
        ),
        Some(start) => format!(
            "the period lies before the repository's record, which starts on {}",
            zone.convert(start).format("%-d %b %Y")
        ),
        None => "the repository records nothing".to_string(),
    };
    let uncovered_reason = if period.since >= record_end {
        format!(
            "the period has not begun: it starts {}, after now ({})",
            zone.short(&period.since),
            zone.short(&now)
        )
    } else {
        not_recorded
    };
    let nothing_before = "the repository records nothing before the period".to_string();

    let (metrics, traces) = match &covered {
        Some(window) => figures::compute(
            context,
            &all,
            window,
            Scope {
                service: None,
                trace: request.trace,
            },
        ),
        None => (unavailable(context, &uncovered_reason), None),
    };
    let previous_metrics = if periods > 0.0 {
        figures::compute(context, &all, &previous, Scope::default()).0
    } else if covered.is_some() {
        unavailable(context, &nothing_before)
    } else {
        unavailable(context, &uncovered_reason)
    };

    // Incidents per week of the covered part, each incident placed once.
    let incidents_per_week = match &covered {
        None => Vec::new(),
        Some(c) => {
            let window = Window::of(c);
            let weeks = figures::week_starts(zone, period::week_start(zone, &c.since), c.until);
            let starts: Vec<Secs> = weeks.iter().map(|(s, _)| *s).collect();
            let in_period = figures::in_window(&counted, window);
            figures::per_week(&in_period, &starts, window.until)
                .iter()
                .zip(&weeks)
                .map(|(list, (_, label))| WeekCount {
                    week: label.clone(),
                    count: list.len() as u64,
                })
                .collect()
        }
    };

    // The trend: 12 weeks ending with the last week the period covers
    // (this week, for a period that has not begun).
    let last_instant = match &covered {
        Some(c) => (c.until - Duration::seconds(1)).max(c.since),
        None if period.since >= record_end => now,
        None => (period.until - Duration::seconds(1)).max(period.since),
    };
    let last_monday = period::week_start(zone, &last_instant);
    let first_monday = last_monday - Duration::days(7 * (TREND_WEEKS - 1));
    let trend_end = period::week_instant(zone, last_monday + Duration::days(7))?;
    let trend_weeks = figures::week_starts(zone, first_monday, trend_end);
    let trend_starts: Vec<Secs> = trend_weeks.iter().map(|(s, _)| *s).collect();
    let per_trend_week = figures::per_week(&counted, &trend_starts, trend_end.timestamp());
    let span = &config.metrics.time_to_resolve;
    let mut trend = Vec::new();
    let mut trend_by_service: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (i, (list, (_, label))) in per_trend_week.iter().zip(&trend_weeks).enumerate() {
        let mut sample = stats::Sample::default();
        for f in list {
            match figures::span_value(config, f, &span.from, &span.to) {
                figures::Contribution::Seconds(s) => sample.push(s),
                figures::Contribution::LeftOut(reason) => sample.exclude(reason),
                figures::Contribution::Counted => {}
            }
            for service in &f.incident.services {
                trend_by_service
                    .entry(service.to_string())
                    .or_insert_with(|| vec![0; trend_weeks.len()])[i] += 1;
            }
        }
        let week_start = trend_starts[i];
        let week_end = trend_starts
            .get(i + 1)
            .copied()
            .unwrap_or(trend_end.timestamp());
        let recorded =
            week_end > record_day.unwrap_or(Secs::MIN) && week_start < record_end.timestamp();
        trend.push(TrendWeek {
            week: label.clone(),
            recorded,
            incidents: list.len() as u64,
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
                        .entry(f.incident.severity.to_string())
                        .or_default()
                        .push(f);
                }
            }
            By::Service => {
                for f in &all {
                    for service in &f.incident.services {
                        groups.entry(service.to_string()).or_default().push(f);
                    }
                }
            }
        }
        let per: BTreeMap<String, Metrics> = groups
            .into_iter()
            .map(|(name, group)| {
                let scope = Scope {
                    service: (dimension == By::Service).then_some(name.as_str()),
                    trace: false,
                };
                let metrics = match &covered {
                    Some(window) => figures::compute(context, &group, window, scope).0,
                    None => unavailable(context, &uncovered_reason),
                };
                (name, metrics)
            })
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

    let has_history = periods > 0.0;
    let mut comparison = BTreeMap::new();
    for (key, now_values, before) in duration_figures(&metrics, &previous_metrics) {
        comparison.insert(
            key,
            stats::compare_durations(&now_values.values, &before.values, has_history),
        );
    }
    comparison.insert(
        "incidents".to_string(),
        stats::compare_counts(metrics.incidents, previous_metrics.incidents, periods),
    );

    let mut distributions = BTreeMap::new();
    for (key, summary) in [
        ("time_to_mitigate", &metrics.time_to_mitigate),
        ("time_to_resolve", &metrics.time_to_resolve),
    ] {
        let counts = figures::bucket_counts(&summary.values);
        distributions.insert(
            key.to_string(),
            figures::BUCKETS
                .iter()
                .zip(counts)
                .map(|((_, label), count)| BucketCount {
                    bucket: label.to_string(),
                    count,
                })
                .collect(),
        );
    }

    let after_period = (period.until <= now).then(|| {
        let after = Window {
            since: period.until.timestamp(),
            until: now.timestamp() + 1,
        };
        let later = figures::in_window(&counted, after);
        let weeks = figures::week_starts(
            zone,
            period::week_start(zone, &period.until),
            now + Duration::seconds(1),
        );
        let starts: Vec<Secs> = weeks.iter().map(|(s, _)| *s).collect();
        AfterPeriod {
            since: zone.convert(&period.until).to_rfc3339(),
            until: zone.convert(&now).to_rfc3339(),
            incidents: later.len() as u64,
            open: later.iter().filter(|f| f.incident.is_open(config)).count() as u64,
            weeks: figures::per_week(&later, &starts, after.until)
                .iter()
                .zip(&weeks)
                .filter(|(list, _)| !list.is_empty())
                .map(|(list, (_, label))| WeekCount {
                    week: label.clone(),
                    count: list.len() as u64,
                })
                .collect(),
        }
    });

    let period_json = |p: &Period, periods: Option<f64>| PeriodJson {
        label: p.label.clone(),
        since: zone.convert(&p.since).to_rfc3339(),
        until: zone.convert(&p.until).to_rfc3339(),
        periods,
        covered: None,
        not_covered: None,
    };
    let length = (period.until - period.since).num_seconds().max(1);
    let mut period_out = period_json(&period, None);
    period_out.covered = Some(covered.as_ref().map(|c| CoveredJson {
        since: zone.convert(&c.since).to_rfc3339(),
        until: zone.convert(&c.until).to_rfc3339(),
        fraction: round4(covered_seconds as f64 / length as f64),
    }));
    period_out.not_covered = Some(
        coverage
            .gaps
            .iter()
            .map(|g| GapJson {
                since: zone.convert(&g.since).to_rfc3339(),
                until: zone.convert(&g.until).to_rfc3339(),
                reason: g.reason.name(),
            })
            .collect(),
    );
    Ok(Report {
        period: period_out,
        as_of: None,
        timezone: zone.name(),
        metrics,
        previous: period_json(&previous, Some(round4(periods))),
        previous_metrics,
        incidents_per_week,
        trend,
        by,
        definitions,
        comparison,
        distributions,
        trend_by_service,
        after_period,
        traces: traces.unwrap_or_default(),
        warnings: Vec::new(),
        history_commits: 0,
        history_walked: 0,
    })
}

/// The figures of a period the repository does not record: empty, and
/// marked as not available, with the reason.
fn unavailable(context: &Context<'_>, reason: &str) -> Metrics {
    let nothing = Period {
        since: figures::instant(0),
        until: figures::instant(0),
        label: String::new(),
    };
    let (mut metrics, _) = figures::compute(context, &[], &nothing, Scope::default());
    metrics.available = false;
    metrics.reason = Some(reason.to_string());
    metrics.action_items.available = false;
    metrics.change_failure_rate.available = false;
    metrics.change_failure_rate.reason = Some(reason.to_string());
    metrics
}

/// Every duration figure of two periods' metrics, by key.
pub fn duration_figures<'m>(
    now: &'m Metrics,
    before: &'m Metrics,
) -> Vec<(String, &'m Summary, &'m Summary)> {
    let empty = &stats::EMPTY;
    let mut out: Vec<(String, &Summary, &Summary)> = vec![
        (
            "time_to_detect".into(),
            &now.time_to_detect,
            &before.time_to_detect,
        ),
        (
            "time_to_acknowledge".into(),
            &now.time_to_acknowledge,
            &before.time_to_acknowledge,
        ),
        (
            "time_to_declare".into(),
            &now.time_to_declare,
            &before.time_to_declare,
        ),
        (
            "time_to_mitigate".into(),
            &now.time_to_mitigate,
            &before.time_to_mitigate,
        ),
        (
            "time_to_resolve".into(),
            &now.time_to_resolve,
            &before.time_to_resolve,
        ),
        (
            "time_between_incidents".into(),
            &now.time_between_incidents,
            &before.time_between_incidents,
        ),
        (
            "postmortem_lead_time".into(),
            &now.postmortem_lead_time,
            &before.postmortem_lead_time,
        ),
        (
            "recording_lag".into(),
            &now.recording_lag.summary,
            &before.recording_lag.summary,
        ),
    ];
    let states: BTreeSet<&String> = now
        .time_in_state
        .keys()
        .chain(before.time_in_state.keys())
        .collect();
    for state in states {
        out.push((
            format!("time_in_state.{state}"),
            now.time_in_state.get(state).unwrap_or(empty),
            before.time_in_state.get(state).unwrap_or(empty),
        ));
    }
    out
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
        .find(|(_, t)| *t <= when.timestamp())
        .map(|(id, _)| *id)
        .ok_or_else(|| Error::InvalidInput {
            message: format!(
                "--as-of {rev}: the branch has no commit at or before {}{}",
                zone.long(&when),
                if history.shallow {
                    " in this shallow clone; run `git fetch --unshallow` to fetch the rest of its history"
                } else {
                    ""
                }
            ),
        })
}

/// Where a shallow clone's history starts: the newest of its edge commits
/// (by commit time). `None` for a complete repository.
fn shallow_since(repo: &Repository) -> Option<Secs> {
    crate::ops::publication::shallow_boundary(repo)
        .into_iter()
        .filter_map(|id| repo.find_commit(id).ok())
        .map(|c| c.time().seconds())
        .max()
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
            time: when.seconds(),
        });
    }
    found.sort_by(|a, b| (a.time, &a.tag).cmp(&(b.time, &b.tag)));
    Ok(found)
}
