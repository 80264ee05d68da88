//! An incident's current state, derived by replaying its events.
//!
//! The rule, which every clone applies to the same files and so agrees on:
//! events are replayed in order of their stated time (`at`), ties broken by
//! a Lamport counter (`seq`: the order they were recorded in), recording
//! time, and event id. Each field takes
//! the value of the last event that set it. Transitions that the lifecycle
//! does not allow (possible after two clones merge) are applied anyway and
//! reported as anomalies, for `incident check` to point out.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::event::{Change, Declaration, Event, Person};
use crate::time::{Timestamp, Zone};

/// Where a milestone's time came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MilestoneSource {
    /// Recorded by a transition into its state, by declaration or set
    /// explicitly: a time somebody stated.
    Recorded,
    /// Not recorded; taken from the named milestone or state. `started` and
    /// `detected` default to the earliest milestone the record proves, and
    /// a transition that implies a milestone (resolving implies `mitigated`
    /// and `acknowledged`) sets it to its own time. Nobody stated either
    /// time, so no duration is measured from or to it.
    Assumed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Milestone {
    pub at: Timestamp,
    pub source: MilestoneSource,
}

impl Milestone {
    pub fn is_recorded(&self) -> bool {
        self.source == MilestoneSource::Recorded
    }
}

/// A duration between two milestones, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Measure {
    /// Both milestones were recorded: seconds from one to the other
    /// (negative when they are out of order).
    Measured(i64),
    /// The named milestone is only assumed: the duration is unknown.
    Assumed(String),
    /// The named milestone is not set (yet).
    Missing(String),
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    pub at: Timestamp,
    pub recorded_at: Timestamp,
    pub kind: String,
    pub author: Person,
    pub text: String,
    /// The event file's id; `None` for the declaration.
    pub event: Option<String>,
}

/// Something odd found while replaying, reported by `incident check`.
#[derive(Debug, Clone, PartialEq)]
pub struct Anomaly {
    pub event: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Incident {
    pub id: String,
    /// Repository-relative folder, e.g. `incidents/2026/11/k3f9x2-db-down`.
    pub folder: String,
    pub title: String,
    pub summary: String,
    pub severity: String,
    pub status: String,
    /// When the current status was entered.
    pub status_since: Timestamp,
    /// When the last status event happened; `None` while the status is the
    /// declared one (which later events may predate: work often starts
    /// before anyone declares).
    pub last_status_change: Option<Timestamp>,
    pub services: Vec<String>,
    pub roles: BTreeMap<String, String>,
    pub links: Vec<String>,
    pub milestones: BTreeMap<String, Milestone>,
    pub declared_by: Person,
    pub resolution: Option<String>,
    pub duplicate_of: Option<String>,
    /// Commits, tags or deployments named as the cause.
    pub caused_by: Vec<String>,
    pub timeline: Vec<TimelineEntry>,
    pub anomalies: Vec<Anomaly>,
    /// Event ids, in replay order.
    pub event_ids: Vec<String>,
    /// Written down after the fact (see [`Declaration::historical`]).
    pub historical: bool,
}

impl Incident {
    /// Replay a declaration and its events (in any order) into the current state.
    pub fn replay(
        config: &Config,
        folder: &str,
        declaration: &Declaration,
        events: &[Event],
    ) -> Incident {
        let mut incident = Incident {
            id: declaration.id.clone(),
            folder: folder.to_string(),
            title: declaration.title.clone(),
            summary: declaration.summary.clone(),
            severity: declaration.severity.clone(),
            status: declaration.status.clone(),
            status_since: declaration.declared_at,
            last_status_change: None,
            services: Vec::new(),
            roles: declaration
                .roles
                .iter()
                .filter(|(_, name)| !name.is_empty())
                .map(|(role, name)| (role.clone(), name.clone()))
                .collect(),
            links: declaration.links.clone(),
            milestones: BTreeMap::new(),
            declared_by: declaration.author(),
            resolution: None,
            duplicate_of: None,
            caused_by: Vec::new(),
            timeline: Vec::new(),
            anomalies: Vec::new(),
            event_ids: Vec::new(),
            historical: declaration.historical,
        };
        for service in &declaration.services {
            incident.add_service(service);
        }
        let recorded = |at: Timestamp| Milestone {
            at,
            source: MilestoneSource::Recorded,
        };
        if let Some(t) = declaration.started_at {
            incident.milestones.insert("started".into(), recorded(t));
        }
        if let Some(t) = declaration.detected_at {
            incident.milestones.insert("detected".into(), recorded(t));
        }
        incident
            .milestones
            .insert("declared".into(), recorded(declaration.declared_at));
        incident.enter_state(
            config,
            &declaration.status.clone(),
            declaration.declared_at,
            false,
        );
        incident.timeline.push(TimelineEntry {
            at: declaration.declared_at,
            recorded_at: declaration.recorded_at,
            kind: "declared".into(),
            author: declaration.author(),
            text: format!(
                "declared {} {}: {}",
                declaration.severity, declaration.status, declaration.title
            ),
            event: None,
        });

        let mut ordered: Vec<&Event> = events.iter().collect();
        ordered.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
        for event in ordered {
            incident.apply(config, event);
        }
        incident.fill_assumed_milestones();
        incident
    }

    fn add_service(&mut self, service: &str) {
        if !self.services.iter().any(|s| s == service) {
            self.services.push(service.to_string());
        }
    }

    /// Record the milestones that entering `state` at `at` implies.
    fn enter_state(&mut self, config: &Config, state: &str, at: Timestamp, reopening: bool) {
        if reopening {
            for milestone in config.closing_milestones() {
                self.milestones.remove(&milestone);
            }
            self.resolution = None;
            self.duplicate_of = None;
        }
        let Some(definition) = config.state(state) else {
            return;
        };
        if let Some(milestone) = &definition.milestone {
            self.milestones.insert(
                milestone.clone(),
                Milestone {
                    at,
                    source: MilestoneSource::Recorded,
                },
            );
        }
        for implied in &definition.implies {
            self.milestones.entry(implied.clone()).or_insert(Milestone {
                at,
                source: MilestoneSource::Assumed(state.to_string()),
            });
        }
    }

    fn apply(&mut self, config: &Config, event: &Event) {
        self.event_ids.push(event.id.clone());
        let text = match &event.change {
            Change::Status {
                to,
                text,
                duplicate_of,
                ..
            } => {
                let from = self.status.clone();
                if from != *to {
                    let allowed = config
                        .state(&from)
                        .map(|s| s.next.clone())
                        .unwrap_or_default();
                    if !allowed.contains(to) {
                        self.anomalies.push(Anomaly {
                            event: event.id.clone(),
                            message: format!(
                                "status went from '{from}' to '{to}', which the lifecycle does not allow (concurrent edits in two clones?)"
                            ),
                        });
                    }
                }
                let reopening = !config.is_open(&from) && config.is_open(to);
                self.status = to.clone();
                self.status_since = event.at;
                self.last_status_change = Some(event.at);
                self.enter_state(config, to, event.at, reopening);
                // The text of a closing transition is its resolution (or the
                // reason for cancelling); on other transitions it is a comment.
                if let Some(reason) = text
                    && !config.is_open(to)
                {
                    self.resolution = Some(reason.clone());
                }
                if duplicate_of.is_some() {
                    self.duplicate_of = duplicate_of.clone();
                }
                let mut line = format!("status {from} → {to}");
                if let Some(original) = duplicate_of {
                    line.push_str(&format!(" (duplicate of {original})"));
                }
                if let Some(reason) = text {
                    line.push_str(&format!(": {reason}"));
                }
                line
            }
            Change::Severity { to, .. } => {
                let line = format!("severity {} → {to}", self.severity);
                self.severity = to.clone();
                line
            }
            Change::Note { text } => text.clone(),
            Change::Role { role, name, .. } => {
                let previous = self.roles.get(role).cloned();
                let line = match (previous.as_deref(), name.as_deref()) {
                    (Some(old), Some(new)) => format!("{role}: {old} → {new}"),
                    (None, Some(new)) => format!("{role}: {new}"),
                    (Some(old), None) => format!("{role}: {old} stepped down"),
                    (None, None) => format!("{role}: unassigned"),
                };
                match name {
                    Some(new) if !new.is_empty() => {
                        self.roles.insert(role.clone(), new.clone());
                    }
                    _ => {
                        self.roles.remove(role);
                    }
                }
                line
            }
            Change::Service { name, removed } => {
                if *removed {
                    self.services.retain(|s| s != name);
                    format!("service removed: {name}")
                } else {
                    self.add_service(name);
                    format!("service added: {name}")
                }
            }
            Change::Link { url } => {
                if !self.links.contains(url) {
                    self.links.push(url.clone());
                }
                format!("link: {url}")
            }
            Change::Milestone { name, time } => match time {
                Some(t) => {
                    self.milestones.insert(
                        name.clone(),
                        Milestone {
                            at: *t,
                            source: MilestoneSource::Recorded,
                        },
                    );
                    if *t == event.at {
                        format!("milestone {name}")
                    } else {
                        format!("milestone {name} set to {}", config.zone().long(t))
                    }
                }
                None => {
                    self.milestones.remove(name);
                    format!("milestone {name} cleared")
                }
            },
            Change::Title { title } => {
                self.title = title.clone();
                format!("title: {title}")
            }
            Change::Summary { text } => {
                self.summary = text.clone();
                format!("summary: {text}")
            }
            Change::Cause { rev } => {
                if !self.caused_by.contains(rev) {
                    self.caused_by.push(rev.clone());
                }
                format!("caused by {rev}")
            }
        };
        self.timeline.push(TimelineEntry {
            at: event.at,
            recorded_at: event.recorded_at,
            kind: event.change.kind().to_string(),
            author: event.author.clone(),
            text,
            event: Some(event.id.clone()),
        });
    }

    /// Nobody says when impact started at 3 a.m.; until someone does, take
    /// the earliest moment the record proves: detection happened no later
    /// than the declaration or any recorded milestone, and impact started no
    /// later than detection.
    fn fill_assumed_milestones(&mut self) {
        for name in ["detected", "started"] {
            if self.milestones.contains_key(name) {
                continue;
            }
            let earliest = self
                .milestones
                .iter()
                .filter(|(other, _)| other.as_str() != "started")
                .min_by_key(|(_, m)| m.at)
                .map(|(other, m)| (other.clone(), m.at));
            if let Some((source, at)) = earliest {
                self.milestones.insert(
                    name.to_string(),
                    Milestone {
                        at,
                        source: MilestoneSource::Assumed(source),
                    },
                );
            }
        }
    }

    pub fn milestone(&self, name: &str) -> Option<Timestamp> {
        self.milestones.get(name).map(|m| m.at)
    }

    pub fn is_open(&self, config: &Config) -> bool {
        config.is_open(&self.status)
    }

    /// The commander, if one is assigned.
    pub fn commander(&self) -> Option<&str> {
        self.roles.get("commander").map(String::as_str)
    }

    /// Milestones sorted by time, then by their order in the config.
    pub fn milestones_in_order(&self, config: &Config) -> Vec<(&str, &Milestone)> {
        let position = |name: &str| {
            config
                .milestones
                .iter()
                .position(|m| m.name == name)
                .unwrap_or(usize::MAX)
        };
        let mut list: Vec<(&str, &Milestone)> = self
            .milestones
            .iter()
            .map(|(k, v)| (k.as_str(), v))
            .collect();
        list.sort_by(|a, b| a.1.at.cmp(&b.1.at).then(position(a.0).cmp(&position(b.0))));
        list
    }

    /// Every pair of recorded milestones whose order breaks a `not_before`
    /// rule, as (earlier, later) names: `later` is before `earlier`.
    /// Assumed milestones are consistent by construction and not checked.
    pub fn milestone_violations(&self, config: &Config) -> Vec<(String, String)> {
        let mut found = Vec::new();
        // Latest in lifecycle order first: that is the milestone a person set
        // (resolving at a bad time), not one it implied (acknowledged).
        for definition in config.milestones.iter().rev() {
            let Some(this) = self.milestones.get(&definition.name) else {
                continue;
            };
            if this.source != MilestoneSource::Recorded {
                continue;
            }
            for earlier in &definition.not_before {
                if let Some(other) = self.milestones.get(earlier)
                    && other.source == MilestoneSource::Recorded
                    && this.at < other.at
                {
                    found.push((earlier.clone(), definition.name.clone()));
                }
            }
        }
        found
    }

    /// Fail with the first order violation that `before` did not already have:
    /// a bad hand edit made earlier should not block unrelated updates.
    pub fn ensure_milestone_order(
        &self,
        config: &Config,
        before: Option<&Incident>,
        zone: &Zone,
    ) -> Result<()> {
        let existing = before
            .map(|i| i.milestone_violations(config))
            .unwrap_or_default();
        for (earlier, later) in self.milestone_violations(config) {
            if existing.contains(&(earlier.clone(), later.clone())) {
                continue;
            }
            let show = |name: &str| {
                self.milestone(name)
                    .map(|t| zone.long(&t))
                    .unwrap_or_default()
            };
            return Err(Error::MilestoneOrder {
                earlier_at: show(&earlier),
                later_at: show(&later),
                earlier,
                later,
            });
        }
        Ok(())
    }

    /// Seconds from one milestone to another, when both were recorded: a
    /// duration built on an assumed time is not a measurement.
    pub fn between(&self, from: &str, to: &str) -> Option<i64> {
        match self.measure(from, to) {
            Measure::Measured(seconds) => Some(seconds),
            _ => None,
        }
    }

    /// The duration from one milestone to another, or why it is unknown.
    pub fn measure(&self, from: &str, to: &str) -> Measure {
        measure_with(
            |name| {
                self.milestones
                    .get(name)
                    .map(|m| (m.at.timestamp(), m.is_recorded()))
            },
            from,
            to,
        )
    }

    /// Whether this incident's severity calls for a postmortem: historical
    /// records (written down long after the fact) never do.
    pub fn needs_postmortem(&self, config: &Config) -> bool {
        !self.historical && config.needs_postmortem(&self.severity)
    }
}

/// The duration between two milestones, or why it is unknown: the one rule
/// `show`, postmortems and reports share. `milestone` gives a milestone's
/// time (seconds since the epoch) and whether somebody stated it.
pub fn measure_with(
    milestone: impl Fn(&str) -> Option<(i64, bool)>,
    from: &str,
    to: &str,
) -> Measure {
    let (start, end) = match (milestone(from), milestone(to)) {
        (None, _) => return Measure::Missing(from.to_string()),
        (_, None) => return Measure::Missing(to.to_string()),
        (Some(start), Some(end)) => (start, end),
    };
    if !start.1 {
        return Measure::Assumed(from.to_string());
    }
    if !end.1 {
        return Measure::Assumed(to.to_string());
    }
    Measure::Measured(end.0 - start.0)
}
