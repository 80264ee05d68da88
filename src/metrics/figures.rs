//! Every figure for one set of incidents and one period, and, for the
//! reported period, the incidents behind each figure.
//!
//! No figure depends on the order incidents are listed in, nor on their
//! (random) ids: where an order matters (time between incidents), it is
//! an order of their times.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate};
use git2::Oid;

use super::facts::{ActionFact, Facts, PUBLISHED, Secs};
use super::period::Period;
use super::stats::{
    HISTORICAL, MILESTONE_ASSUMED, MILESTONE_MISSING, NOT_IN_HISTORY, OUT_OF_ORDER, SHALLOW_CLONE,
    STILL_OPEN, Sample,
};
use super::{ActionItems, ChangeFailureRate, Lag, Metrics};
use crate::config::Config;
use crate::model::incident::Measure;
use crate::time::{Timestamp, Zone};

/// A deployment: a tag and when it happened.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub tag: String,
    pub commit: Oid,
    pub time: Secs,
}

/// What every computation shares.
pub struct Context<'a> {
    pub config: &'a Config,
    pub zone: Zone,
    pub deployments: Result<Vec<Deployment>, String>,
    /// The deployments repository is a shallow clone whose history starts
    /// then: it lacks the tags of earlier deployments.
    pub deployments_since: Option<Secs>,
    /// Incident cause string → commit id in the deployments repository.
    pub causes: HashMap<String, Option<Oid>>,
}

/// An instant as a timestamp in UTC.
pub fn instant(secs: Secs) -> Timestamp {
    DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .fixed_offset()
}

/// `[since, until)` in seconds.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub since: Secs,
    pub until: Secs,
}

impl Window {
    pub fn of(period: &Period) -> Window {
        Window {
            since: period.since.timestamp(),
            until: period.until.timestamp(),
        }
    }

    pub fn contains(&self, t: Secs) -> bool {
        t >= self.since && t < self.until
    }
}

/// The incident a line of a trace is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Traced {
    pub id: String,
    pub title: String,
    pub severity: String,
    pub historical: bool,
}

impl Traced {
    fn of(f: &Facts) -> Traced {
        Traced {
            id: f.incident.id.clone(),
            title: f.incident.title.clone(),
            severity: f.incident.severity.to_string(),
            historical: f.incident.historical,
        }
    }
}

/// What one incident contributed to a figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contribution {
    /// A duration, in seconds.
    Seconds(i64),
    /// Left out, and why (a reason of [`super::stats`]).
    LeftOut(&'static str),
    /// Counted (figures that count incidents).
    Counted,
}

/// An action item in a trace, as it stood at the end of the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracedAction {
    /// Its number among the incident's items.
    pub number: u32,
    pub text: String,
    pub due: Option<NaiveDate>,
    /// `open`, `done` or `dropped` at the end of the period.
    pub state: String,
    /// When it was done or dropped, if by the end of the period.
    pub finished: Option<Secs>,
}

/// One line of a trace: an incident, the two times a duration runs
/// between (when it has them), and what it contributed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceRow {
    pub incident: Traced,
    /// Time between incidents: the incident before, whose end starts it,
    /// and the services the two share, in name order.
    pub previous: Option<Traced>,
    pub service: Option<String>,
    /// Recording lag: what the record records (`declared`, `status resolved`, ...).
    pub record: Option<String>,
    /// Action items: the item.
    pub action: Option<TracedAction>,
    pub from: Option<Secs>,
    pub to: Option<Secs>,
    pub value: Contribution,
}

/// The incidents behind one figure, and the two milestones it runs between.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FigureTrace {
    pub from: String,
    pub to: String,
    pub rows: Vec<TraceRow>,
}

/// Figure key → its trace.
pub type Traces = BTreeMap<String, FigureTrace>;

/// Which part of the incidents a computation covers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope<'a> {
    /// `--by service`: time between incidents pairs only this service's.
    pub service: Option<&'a str>,
    /// Collect the incidents behind each figure.
    pub trace: bool,
}

/// A sample that also remembers, when asked, which incident gave what.
struct Collector<'a> {
    sample: Sample,
    trace: Option<&'a mut FigureTrace>,
}

fn ignored(config: &Config, f: &Facts) -> bool {
    config
        .metrics
        .ignore_states
        .iter()
        .any(|s| s.as_str() == &*f.incident.status)
}

/// Incidents whose `started` lies in the window, of facts sorted by
/// `started` (as [`super::facts::sort_facts`] sorts them): found by
/// binary search, not by looking at each.
pub fn in_window<'a>(facts: &[&'a Facts], window: Window) -> Vec<&'a Facts> {
    debug_assert!(facts.is_sorted_by_key(|f| f.incident.started));
    let first = facts.partition_point(|f| f.incident.started < Some(window.since));
    let end = facts.partition_point(|f| f.incident.started < Some(window.until));
    facts[first..end.max(first)].to_vec()
}

/// Facts not in an ignored state.
pub fn counted<'a>(config: &Config, facts: &[&'a Facts]) -> Vec<&'a Facts> {
    facts
        .iter()
        .copied()
        .filter(|f| !ignored(config, f))
        .collect()
}

/// The duration between two milestones of one incident, or why it is left out.
pub fn span_value(config: &Config, f: &Facts, from: &str, to: &str) -> Contribution {
    match f.incident.measure(from, to) {
        Measure::Missing(name) if name == PUBLISHED && f.incident.published_before_history => {
            Contribution::LeftOut(SHALLOW_CLONE)
        }
        Measure::Measured(seconds) if seconds < 0 => Contribution::LeftOut(OUT_OF_ORDER),
        Measure::Measured(seconds) => Contribution::Seconds(seconds),
        Measure::Assumed(_) => Contribution::LeftOut(MILESTONE_ASSUMED),
        Measure::Missing(_) if f.incident.is_open(config) => Contribution::LeftOut(STILL_OPEN),
        Measure::Missing(_) => Contribution::LeftOut(MILESTONE_MISSING),
    }
}

impl Collector<'_> {
    fn add(&mut self, row: TraceRow) {
        match &row.value {
            Contribution::Seconds(s) => self.sample.push(*s),
            Contribution::LeftOut(reason) => self.sample.exclude(reason),
            Contribution::Counted => {}
        }
        if let Some(trace) = self.trace.as_deref_mut() {
            trace.rows.push(row);
        }
    }
}

fn row(f: &Facts, from: Option<Secs>, to: Option<Secs>, value: Contribution) -> TraceRow {
    TraceRow {
        incident: Traced::of(f),
        previous: None,
        service: None,
        record: None,
        action: None,
        from,
        to,
        value,
    }
}

/// A trace to fill, when tracing.
fn slot<'t>(
    traces: &'t mut Option<Traces>,
    key: &str,
    from: &str,
    to: &str,
) -> Option<&'t mut FigureTrace> {
    traces.as_mut().map(|t| {
        let trace = t.entry(key.to_string()).or_default();
        trace.from = from.to_string();
        trace.to = to.to_string();
        trace
    })
}

/// Compute every figure of `facts` over `period`.
pub fn compute(
    context: &Context<'_>,
    facts: &[&Facts],
    period: &Period,
    scope: Scope<'_>,
) -> (Metrics, Option<Traces>) {
    let config = context.config;
    let window = Window::of(period);
    let mut traces = scope.trace.then(Traces::new);
    let mut ignored_counts = BTreeMap::new();
    for f in in_window(facts, window) {
        if ignored(config, f) {
            *ignored_counts
                .entry(f.incident.status.to_string())
                .or_insert(0) += 1;
        }
    }
    let counted = counted(config, facts);
    let current = in_window(&counted, window);
    let m = &config.metrics;

    let mut spans = BTreeMap::new();
    for (name, span) in m.spans() {
        let mut sample = Collector {
            sample: Sample::default(),
            trace: slot(&mut traces, name, &span.from, &span.to),
        };
        for f in &current {
            let mut value = span_value(config, f, &span.from, &span.to);
            // An incident written down after the fact expects no
            // postmortem, and a publication time taken from its commit is
            // the time of the import: only a stated end counts, and
            // without one the reason is that it is historical.
            if name == "postmortem_lead_time" && f.incident.historical {
                let stated = f
                    .incident
                    .milestone_fact(&span.to)
                    .is_some_and(|m| m.assumed_from.is_none())
                    && !(span.to == PUBLISHED && f.incident.published_from_history);
                if !stated {
                    value = Contribution::LeftOut(HISTORICAL);
                }
            }
            let from = f.incident.milestone(&span.from);
            let to = f.incident.milestone(&span.to);
            sample.add(row(f, from, to, value));
        }
        spans.insert(name, sample.sample.summary());
    }
    let mut span = |name: &str| {
        spans
            .remove(name)
            .unwrap_or_else(|| Sample::default().summary())
    };

    let time_between_incidents = between(context, &counted, window, scope.service, &mut traces);
    let time_in_state = states(config, &current, &mut traces);

    // Open at the end of the period.
    let mut open = slot(&mut traces, "open_at_end", "", "");
    let mut open_at_end = 0;
    for f in &counted {
        let state_then = f
            .transitions
            .iter()
            .take_while(|(_, at, _)| *at < window.until)
            .last()
            .map(|(s, _, _)| &**s);
        if state_then.is_some_and(|s| config.is_open(s)) {
            open_at_end += 1;
            if let Some(trace) = open.as_deref_mut() {
                trace
                    .rows
                    .push(row(f, f.incident.started, None, Contribution::Counted));
            }
        }
    }

    // Postmortems overdue at the end of the period.
    let lead = &m.postmortem_lead_time;
    let mut overdue_trace = slot(&mut traces, "postmortems_overdue", &lead.from, &lead.to);
    let mut postmortems_overdue = 0;
    for f in &counted {
        if f.incident.historical || !config.needs_postmortem(&f.incident.severity) {
            continue;
        }
        let Some(days) = m.postmortem_due_days.get(&*f.incident.severity) else {
            continue;
        };
        let Some(resolved) = f.incident.milestone(&lead.from) else {
            continue;
        };
        let due = resolved + days * 86_400;
        let published = f.incident.milestone(&lead.to);
        // Published before a shallow clone's history: by the end of the
        // period or not, this clone cannot tell (the report warns).
        if due < window.until
            && published.is_none_or(|p| p >= window.until)
            && !f.incident.published_before_history
        {
            postmortems_overdue += 1;
            if let Some(trace) = overdue_trace.as_deref_mut() {
                trace
                    .rows
                    .push(row(f, Some(resolved), Some(due), Contribution::Counted));
            }
        }
    }

    let recording_lag = recording_lag(config, &counted, window, &mut traces);

    if let Some(t) = traces.as_mut() {
        let mut listed = FigureTrace::default();
        let mut historical = FigureTrace::default();
        for f in &current {
            let r = row(f, f.incident.started, None, Contribution::Counted);
            if f.incident.historical {
                historical.rows.push(r.clone());
            }
            listed.rows.push(r);
        }
        t.insert("incidents".into(), listed);
        t.insert("historical".into(), historical);
    }

    let metrics = Metrics {
        available: true,
        reason: None,
        incidents: current.len() as u64,
        time_to_detect: span("time_to_detect"),
        time_to_acknowledge: span("time_to_acknowledge"),
        time_to_declare: span("time_to_declare"),
        time_to_mitigate: span("time_to_mitigate"),
        time_to_resolve: span("time_to_resolve"),
        time_between_incidents,
        time_in_state,
        open_at_end,
        postmortem_lead_time: span("postmortem_lead_time"),
        postmortems_overdue,
        action_items: action_items(&context.zone, &counted, period, &mut traces),
        recording_lag,
        change_failure_rate: change_failure_rate(context, &counted, window),
        ignored: ignored_counts,
        historical: current.iter().filter(|f| f.incident.historical).count() as u64,
    };
    (metrics, traces)
}

/// Time between incidents, per service: `resolved` of one incident →
/// `started` of the next one on the same service, counted when the next
/// one started in the window. Incidents of a service are taken in order of
/// their start, then end: two that tie on both are interchangeable, so the
/// pairs do not depend on which is listed first.
fn between(
    context: &Context<'_>,
    counted: &[&Facts],
    window: Window,
    only: Option<&str>,
    traces: &mut Option<Traces>,
) -> super::stats::Summary {
    let config = context.config;
    let span = &config.metrics.time_between_incidents;
    let mut per_service: BTreeMap<&str, Vec<&Facts>> = BTreeMap::new();
    for f in counted {
        for service in &f.incident.services {
            if only.is_none_or(|o| o == &**service) {
                per_service.entry(service).or_default().push(f);
            }
        }
    }
    let mut sample = Collector {
        sample: Sample::default(),
        trace: slot(traces, "time_between_incidents", &span.from, &span.to),
    };
    // What orders a service's incidents: everything the figure reads.
    let key = |f: &Facts| {
        let fact = |name: &str| {
            f.incident
                .milestone_fact(name)
                .map(|m| (m.at, m.assumed_from.is_some()))
        };
        (fact(&span.to), fact(&span.from), f.incident.is_open(config))
    };
    // One gap per pair of incidents, however many services they share:
    // the services are listed with it.
    let mut gaps: Vec<TraceRow> = Vec::new();
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    for (service, list) in per_service.iter_mut() {
        list.sort_by_cached_key(|f| key(f));
        for pair in list.windows(2) {
            let (prev, next) = (pair[0], pair[1]);
            let Some(start) = next.incident.milestone_fact(&span.to) else {
                continue;
            };
            if !window.contains(start.at) {
                continue;
            }
            let pair_key = (prev.incident.id.as_str(), next.incident.id.as_str());
            if let Some(&i) = seen.get(&pair_key) {
                if let Some(listed) = gaps[i].service.as_mut() {
                    listed.push_str(", ");
                    listed.push_str(service);
                }
                continue;
            }
            let end = prev.incident.milestone_fact(&span.from);
            let value = match end {
                None if prev.incident.is_open(config) => Contribution::LeftOut(STILL_OPEN),
                None => Contribution::LeftOut(MILESTONE_MISSING),
                Some(end) if end.assumed_from.is_some() || start.assumed_from.is_some() => {
                    Contribution::LeftOut(MILESTONE_ASSUMED)
                }
                Some(end) if start.at < end.at => Contribution::LeftOut(OUT_OF_ORDER),
                Some(end) => Contribution::Seconds(start.at - end.at),
            };
            seen.insert(pair_key, gaps.len());
            gaps.push(TraceRow {
                incident: Traced::of(next),
                previous: Some(Traced::of(prev)),
                service: Some(service.to_string()),
                record: None,
                action: None,
                from: end.map(|e| e.at),
                to: Some(start.at),
                value,
            });
        }
    }
    // Listed by time: when the next one started, then when the one before ended.
    gaps.sort_by_key(|a| (a.to, a.from));
    for gap in gaps {
        sample.add(gap);
    }
    sample.sample.summary()
}

/// Time in each state, for the states that are open (the response):
/// from entering one to the next status change, summed per incident. A
/// state the incident is still in is `still_open`. States that are not
/// open (resolved, postmortem, closed, ...) are not timed, not even a
/// resolved stint that ended in a reopen: nobody works on an incident
/// believed fixed, and postmortems have their own figure.
fn states(
    config: &Config,
    current: &[&Facts],
    traces: &mut Option<Traces>,
) -> BTreeMap<String, super::stats::Summary> {
    let mut samples: BTreeMap<String, Sample> = BTreeMap::new();
    let mut rows: BTreeMap<String, Vec<TraceRow>> = BTreeMap::new();
    let mut add = |state: &str, f: &Facts, value: Contribution| {
        let sample = samples.entry(state.to_string()).or_default();
        match value {
            Contribution::Seconds(s) => sample.push(s),
            Contribution::LeftOut(reason) => sample.exclude(reason),
            Contribution::Counted => {}
        }
        rows.entry(state.to_string())
            .or_default()
            .push(row(f, None, None, value));
    };
    for f in current {
        let mut totals: BTreeMap<&str, i64> = BTreeMap::new();
        // States with a visit whose start or end nobody stated (catch-up
        // entry, clock skew): their time is unknown, as `show` says.
        let mut assumed: BTreeSet<&str> = BTreeSet::new();
        let mut unfinished: Option<&str> = None;
        let mut broken = false;
        for (i, (state, at, fact)) in f.transitions.iter().enumerate() {
            if !config.is_open(state) {
                continue;
            }
            match f.transitions.get(i + 1) {
                Some((_, _, next_fact)) if !fact || !next_fact => {
                    assumed.insert(state);
                }
                Some((_, next, _)) => {
                    let seconds = next - at;
                    broken |= seconds < 0;
                    *totals.entry(state).or_insert(0) += seconds;
                }
                None => unfinished = Some(state),
            }
        }
        if broken {
            let visited: BTreeSet<&str> = f
                .transitions
                .iter()
                .map(|(s, _, _)| &**s)
                .filter(|s| config.is_open(s))
                .collect();
            for state in visited {
                add(state, f, Contribution::LeftOut(OUT_OF_ORDER));
            }
            continue;
        }
        if let Some(state) = unfinished {
            totals.remove(state);
            assumed.remove(state);
            add(state, f, Contribution::LeftOut(STILL_OPEN));
        }
        for state in assumed {
            totals.remove(state);
            add(state, f, Contribution::LeftOut(MILESTONE_ASSUMED));
        }
        for (state, seconds) in totals {
            add(state, f, Contribution::Seconds(seconds));
        }
    }
    if let Some(t) = traces.as_mut() {
        for (state, rows) in rows {
            t.insert(
                format!("time_in_state.{state}"),
                FigureTrace {
                    from: state.clone(),
                    to: "next status change".into(),
                    rows,
                },
            );
        }
    }
    samples.into_iter().map(|(k, v)| (k, v.summary())).collect()
}

/// Recording lag of every record whose stated time is in the window;
/// records of historical incidents are left out. Traced: every record
/// behind the figure (measured or left out, and why), and those recorded
/// late, by stated time.
fn recording_lag(
    config: &Config,
    counted: &[&Facts],
    window: Window,
    traces: &mut Option<Traces>,
) -> Lag {
    let m = &config.metrics;
    let mut lag = Sample::default();
    let mut late = 0u64;
    let mut all_rows = Vec::new();
    let mut late_rows = Vec::new();
    let tracing = traces.is_some();
    for f in counted {
        for record in &f.records {
            if !window.contains(record.at) {
                continue;
            }
            let value = match record.recorded {
                _ if f.incident.historical => Contribution::LeftOut(HISTORICAL),
                None if record.before_history => Contribution::LeftOut(SHALLOW_CLONE),
                None => Contribution::LeftOut(NOT_IN_HISTORY),
                Some(r) if r < record.at => Contribution::LeftOut(OUT_OF_ORDER),
                Some(r) => Contribution::Seconds(r - record.at),
            };
            let is_late = match value {
                Contribution::Seconds(seconds) => {
                    lag.push(seconds);
                    seconds > m.late_after_seconds
                }
                Contribution::LeftOut(reason) => {
                    lag.exclude(reason);
                    false
                }
                Contribution::Counted => false,
            };
            late += u64::from(is_late);
            if tracing {
                let traced = TraceRow {
                    record: Some(record.what.to_string()),
                    ..row(f, Some(record.at), record.recorded, value)
                };
                if is_late {
                    late_rows.push(traced.clone());
                }
                all_rows.push(traced);
            }
        }
    }
    if let Some(t) = traces.as_mut() {
        let by_time = |r: &TraceRow| (r.from, r.to, r.record.clone(), r.incident.title.clone());
        for (key, mut rows) in [
            ("late_recorded_events", late_rows),
            ("recording_lag", all_rows),
        ] {
            rows.sort_by_cached_key(by_time);
            t.insert(
                key.into(),
                FigureTrace {
                    from: "stated time".into(),
                    to: "commit".into(),
                    rows,
                },
            );
        }
    }
    Lag {
        summary: lag.summary(),
        late,
        late_after_seconds: m.late_after_seconds,
    }
}

fn change_failure_rate(
    context: &Context<'_>,
    counted: &[&Facts],
    window: Window,
) -> ChangeFailureRate {
    let deployments = match &context.deployments {
        Err(reason) => {
            return ChangeFailureRate {
                available: false,
                reason: Some(reason.clone()),
                deployments: 0,
                failed: 0,
                rate: None,
                failed_tags: Vec::new(),
            };
        }
        Ok(deployments) => deployments,
    };
    if let Some(since) = context.deployments_since.filter(|&s| window.since < s) {
        return ChangeFailureRate {
            available: false,
            reason: Some(format!(
                "the deployments repository is a shallow clone whose history starts on {}, without the tags of earlier deployments: run `git fetch --unshallow` there",
                context.zone.convert(&instant(since)).format("%-d %b %Y")
            )),
            deployments: 0,
            failed: 0,
            rate: None,
            failed_tags: Vec::new(),
        };
    }
    let in_window: Vec<&Deployment> = deployments
        .iter()
        .filter(|d| window.contains(d.time))
        .collect();
    let mut cause_names = BTreeSet::new();
    let mut cause_commits = BTreeSet::new();
    for f in counted {
        for rev in &f.incident.caused_by {
            cause_names.insert(rev.as_str());
            if let Some(Some(id)) = context.causes.get(rev) {
                cause_commits.insert(*id);
            }
        }
    }
    let failed_tags: Vec<String> = in_window
        .iter()
        .filter(|d| cause_names.contains(d.tag.as_str()) || cause_commits.contains(&d.commit))
        .map(|d| d.tag.clone())
        .collect();
    let n = in_window.len() as u64;
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

/// Action items of every incident counted (not in an ignored state),
/// whenever the incident started: what was added, done and dropped during
/// the period, and what was open, and overdue, at its end. Traced: the
/// items behind opened, done, done in time and overdue.
fn action_items(
    zone: &Zone,
    counted: &[&Facts],
    period: &Period,
    traces: &mut Option<Traces>,
) -> ActionItems {
    // As `incident actions` does: overdue when the due day is before today,
    // and "today" at the end of the period is the day the period ends on.
    let window = Window::of(period);
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
    let tracing = traces.is_some();
    // Each row with what orders it: oldest due date first (none last),
    // then in the order added.
    type Listed = ((bool, Option<NaiveDate>, Secs), TraceRow);
    let mut lists: [(&str, Vec<Listed>); 4] = [
        ("action_items.opened", Vec::new()),
        ("action_items.done", Vec::new()),
        ("action_items.done_within_due", Vec::new()),
        ("action_items.overdue", Vec::new()),
    ];
    let mut list = |index: usize, f: &Facts, action: &ActionFact| {
        if !tracing {
            return;
        }
        let finished = action.finished.filter(|t| *t < window.until);
        let traced = TracedAction {
            number: action.number,
            text: action.text.clone(),
            due: action.due,
            state: if finished.is_some() {
                action.status.to_string()
            } else {
                "open".into()
            },
            finished,
        };
        let r = TraceRow {
            action: Some(traced),
            ..row(f, Some(action.created), finished, Contribution::Counted)
        };
        let order = (action.due.is_none(), action.due, action.created);
        lists[index].1.push((order, r));
    };
    for f in counted {
        for action in &f.actions {
            if window.contains(action.created) {
                items.opened += 1;
                list(0, f, action);
            }
            if let Some(at) = action.finished.filter(|t| window.contains(*t)) {
                match &*action.status {
                    "done" => {
                        items.done += 1;
                        list(1, f, action);
                        let day = zone.convert(&instant(at)).date_naive();
                        if action.due.is_none_or(|due| day <= due) {
                            items.done_within_due += 1;
                            list(2, f, action);
                        }
                    }
                    "dropped" => items.dropped += 1,
                    _ => {}
                }
            }
            let open_then =
                action.created < window.until && action.finished.is_none_or(|t| t >= window.until);
            if open_then {
                items.open_at_end += 1;
                if action.due.is_some_and(|due| due < end_day) {
                    items.overdue += 1;
                    list(3, f, action);
                }
            }
        }
    }
    if let Some(t) = traces.as_mut() {
        for (key, mut rows) in lists {
            rows.sort_by_key(|(order, _)| *order);
            t.insert(
                key.into(),
                FigureTrace {
                    from: "added".into(),
                    to: "finished".into(),
                    rows: rows.into_iter().map(|(_, r)| r).collect(),
                },
            );
        }
    }
    items
}

/// Incidents per ISO week of `started`, for the weeks starting at
/// `mondays` (each week until the next Monday, the last until `end`):
/// each incident is placed once, by binary search (not weeks × incidents).
pub fn per_week<'a>(facts: &[&'a Facts], week_starts: &[Secs], end: Secs) -> Vec<Vec<&'a Facts>> {
    let mut weeks = vec![Vec::new(); week_starts.len()];
    let Some(&first) = week_starts.first() else {
        return weeks;
    };
    for f in facts {
        let Some(t) = f.incident.started else {
            continue;
        };
        if t < first || t >= end {
            continue;
        }
        let index = week_starts.partition_point(|&s| s <= t) - 1;
        weeks[index].push(*f);
    }
    weeks
}

/// The duration buckets of the distributions: upper bound (exclusive) in
/// seconds and label; the last is open-ended.
pub const BUCKETS: &[(Option<i64>, &str)] = &[
    (Some(15 * 60), "< 15 min"),
    (Some(3600), "< 1 h"),
    (Some(4 * 3600), "< 4 h"),
    (Some(86_400), "< 1 day"),
    (Some(7 * 86_400), "< 1 week"),
    (None, "longer"),
];

/// How many of `values` fall in each of [`BUCKETS`].
pub fn bucket_counts(values: &[i64]) -> Vec<u64> {
    let mut counts = vec![0u64; BUCKETS.len()];
    for &v in values {
        let index = BUCKETS
            .iter()
            .position(|(upper, _)| upper.is_none_or(|u| v < u))
            .unwrap_or(BUCKETS.len() - 1);
        counts[index] += 1;
    }
    counts
}

/// Midnight starting each ISO week from `first` (a Monday) while before `end`.
pub fn week_starts(zone: &Zone, first: chrono::NaiveDate, end: Timestamp) -> Vec<(Secs, String)> {
    let mut out = Vec::new();
    let mut monday = first;
    while let Ok(start) = super::period::week_instant(zone, monday) {
        if start >= end {
            break;
        }
        out.push((start.timestamp(), super::period::week_label(monday)));
        monday += Duration::days(7);
    }
    out
}
