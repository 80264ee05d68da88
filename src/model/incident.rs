//! An incident's current state, derived by replaying its events.
//!
//! Every clone applies the same rule to the same files, and so agrees on
//! the state. Two kinds of times meet here: times a person *stated*
//! (`--at`, `--milestone NAME=TIME`, a hand edit of `at`) and times nobody
//! stated, where the tool wrote down the moment it was told (an event file
//! whose `at` equals its `recorded_at`, unless its `stated` field says
//! otherwise). A stated time is a fact. An unstated one is a fact only as
//! long as nothing recorded later contradicts it: at 3 a.m. people type
//! what happened first and when it happened afterwards.
//!
//! **Status changes** form a chain that starts with the declared status.
//! The chain is built by taking the status changes in the order they were
//! recorded (the Lamport counter `seq`, then `recorded_at`, then the event
//! id, the same on every clone) and placing each one:
//!
//! - without a stated time, at the end: it happened when it was written
//!   down, after everything recorded before it;
//! - with a stated time at or after the end of the chain, at the end;
//! - with a stated time before the end of the chain, as the next step of
//!   the chain (*catch-up*: `update --status identified` now, then
//!   `update --status mitigated --at 03:40`) when the lifecycle allows that
//!   step, it is no reopen, and no stated time of the chain lies after it;
//!   the changes before it whose times nobody stated are then taken as no
//!   later than it (*assumed*);
//! - otherwise, where its stated time puts it (*writing history down*: a
//!   scribe typing the steps in the order they remember them).
//!
//! A status change whose time nobody stated and whose recording time lies
//! before a stated time already in the chain (a clock behind) is taken as
//! no earlier than that; unstated times after it are taken as no later
//! than it (a clock ahead). So clock skew between clones never blocks a
//! status change; the tool says what it assumed.
//!
//! A stated milestone of a state (`--milestone identified=03:20`) gives
//! the last change into that state its time: "record the state now and its
//! real time later". So does a stated time for a milestone that a status
//! change set or implied and that the same command wrote with it, at its
//! time (`ack` writes the move to investigating and `acknowledged`
//! together; `--milestone acknowledged=02:55` afterwards times both). The
//! same command means the same person, the same recording second and the
//! same time, nothing recorded in between. The milestone events and notes
//! of that command move with it.
//!
//! Milestones a status change sets get its time; when that time is
//! assumed, so is the milestone, and no duration is measured from or to
//! it. Other fields take the value of the last event, ordered
//! by stated time, that set them. Transitions that the lifecycle does not
//! allow (possible after two clones merge) are applied anyway and reported
//! as anomalies, for `incident check` to point out.
//!
//! The declared status was entered at the declaration. An incident
//! declared after work on it had moved it on (its first status change
//! happened before the declaration) entered it when it was detected, if
//! somebody stated that time and it came first; otherwise no later than
//! the first change (assumed).
//!
//! The timeline lists every event at its effective time (ties in recording
//! order, the declaration first).

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

/// How the time of a status change (or of a milestone set without a time)
/// is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timing {
    /// Stated by a person: `--at`, `--milestone NAME=TIME`, a hand edit.
    Stated,
    /// Nobody stated it: the moment it was written down, and nothing
    /// recorded later contradicts that.
    Recorded,
    /// Written down without a time at `recorded_at`, but `by` (a state or
    /// milestone) was recorded after it with an earlier time: so it
    /// happened no later than that.
    NoLaterThan { by: String, recorded_at: Timestamp },
    /// Written down without a time at `recorded_at`, by a clock behind the
    /// time stated for `by`, which came before it: taken as no earlier.
    NoEarlierThan { by: String, recorded_at: Timestamp },
    /// The declared status of an incident declared (at `declared_at`) after
    /// work on it had moved it on: it was entered when the incident was
    /// detected, a stated time.
    Detected { declared_at: Timestamp },
    /// A change whose state's `milestone` was then cleared: the record says
    /// the state was reached, not when (an import whose source says
    /// "resolved" without a time places it after its last stated time).
    Unknown { milestone: String },
}

impl Timing {
    /// A time somebody stated or the tool saw happen, not one it assumed.
    pub fn is_fact(&self) -> bool {
        matches!(
            self,
            Timing::Stated | Timing::Recorded | Timing::Detected { .. }
        )
    }

    /// The state or milestone an assumed time was taken from.
    pub fn assumed_from(&self) -> Option<&str> {
        match self {
            Timing::NoLaterThan { by, .. } | Timing::NoEarlierThan { by, .. } => Some(by),
            _ => None,
        }
    }

    /// For people: why this time is assumed (empty for facts).
    pub fn explain(&self, zone: &Zone) -> String {
        match self {
            Timing::Stated | Timing::Recorded => String::new(),
            Timing::Detected { declared_at } => format!(
                "from detection (declared later, {})",
                zone.compact(declared_at)
            ),
            Timing::NoLaterThan { by, recorded_at } => format!(
                "assumed: no later than {by} (typed {} without a time)",
                zone.compact(recorded_at)
            ),
            Timing::NoEarlierThan { by, recorded_at } => format!(
                "assumed: no earlier than {by} (typed {} by a clock behind)",
                zone.compact(recorded_at)
            ),
            Timing::Unknown { milestone } => {
                format!("unknown: the record says it happened, not when ({milestone} unset)")
            }
        }
    }
}

/// One status change in effective order; the first is the declared status.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The state before; `None` for the declared status.
    pub from: Option<String>,
    pub to: String,
    pub at: Timestamp,
    pub timing: Timing,
    /// The event file's id; `None` for the declaration.
    pub event: Option<String>,
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    /// When it happened, as the replay places it.
    pub at: Timestamp,
    pub recorded_at: Timestamp,
    pub kind: String,
    pub author: Person,
    pub text: String,
    /// The event file's id; `None` for the declaration.
    pub event: Option<String>,
    /// How `at` is known.
    pub timing: Timing,
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
    /// For milestones set at a time written down without one and then
    /// moved by the replay: how that time is known.
    pub milestone_timing: BTreeMap<String, Timing>,
    pub declared_by: Person,
    pub resolution: Option<String>,
    pub duplicate_of: Option<String>,
    /// Commits, tags or deployments named as the cause.
    pub caused_by: Vec<String>,
    /// Sorted by when things happened (ties in recording order).
    pub timeline: Vec<TimelineEntry>,
    /// Status changes in effective order, starting with the declared status.
    pub transitions: Vec<Transition>,
    pub anomalies: Vec<Anomaly>,
    /// Event ids, in recording order.
    pub event_ids: Vec<String>,
    /// Written down after the fact (see [`Declaration::historical`]).
    pub historical: bool,
    /// Stakeholder updates (`comms` events), in replay order; `crate::comms`
    /// derives cadence and public state from them.
    pub comms: Vec<Event>,
    /// Set when a postmortem became due (see [`Change::PostmortemDue`]).
    pub postmortem_due: Option<PostmortemDue>,
}

/// A postmortem is owed: since when, and the branch its draft is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostmortemDue {
    pub since: Timestamp,
    pub branch: String,
}

/// What a link of the status chain is.
#[derive(Debug, Clone, Copy)]
enum Link<'a> {
    /// The declared status.
    Declared,
    /// A status change into the state.
    Status(&'a Event, &'a str),
    /// A milestone set without a stated time: it moves with the chain.
    Milestone(&'a Event, &'a str),
}

#[derive(Debug, Clone)]
struct Entry<'a> {
    link: Link<'a>,
    at: Timestamp,
    recorded_at: Timestamp,
    stated: bool,
    timing: Timing,
}

impl Entry<'_> {
    /// The state entered, for status links.
    fn state<'s>(&'s self, declared: &'s str) -> Option<&'s str> {
        match self.link {
            Link::Declared => Some(declared),
            Link::Status(_, to) => Some(to),
            Link::Milestone(..) => None,
        }
    }

    /// The name an assumption refers to: the state or milestone.
    fn label<'s>(&'s self, declared: &'s str) -> &'s str {
        match self.link {
            Link::Declared => declared,
            Link::Status(_, name) | Link::Milestone(_, name) => name,
        }
    }
}

/// A milestone event written by the same command as a status change.
#[derive(Debug, Clone, Copy)]
struct Companion<'a> {
    milestone_event: &'a str,
    milestone: &'a str,
    status_event: &'a str,
}

/// The status chain being built, in effective order.
struct Chain<'a> {
    config: &'a Config,
    declared: &'a str,
    entries: Vec<Entry<'a>>,
    /// Milestone events that gave a status change its time.
    pins: Vec<&'a str>,
    /// Milestones written by the command that wrote a status change
    /// (`ack`: the move to investigating and `acknowledged`).
    companions: Vec<Companion<'a>>,
    anomalies: Vec<Anomaly>,
}

impl<'a> Chain<'a> {
    fn new(config: &'a Config, declaration: &'a Declaration) -> Chain<'a> {
        Chain {
            config,
            declared: &declaration.status,
            entries: vec![Entry {
                link: Link::Declared,
                at: declaration.declared_at,
                recorded_at: declaration.recorded_at,
                stated: declaration.declared_at != declaration.recorded_at,
                timing: if declaration.declared_at != declaration.recorded_at {
                    Timing::Stated
                } else {
                    Timing::Recorded
                },
            }],
            pins: Vec::new(),
            companions: Vec::new(),
            anomalies: Vec::new(),
        }
    }

    /// Note which milestone events were written by the command of a status
    /// change, at its time: the status change recorded last before them, by
    /// the same person at the same moment with the same time, nothing else
    /// recorded in between, and the milestone set to that time (`ack`, or
    /// `--milestone NAME` without `=TIME`).
    fn link_companions(&mut self, by_recording: &[&'a Event]) {
        let mut current: Option<&'a Event> = None;
        for &event in by_recording {
            let same_command = |status: &Event| {
                status.recorded_at == event.recorded_at
                    && status.author == event.author
                    && status.at == event.at
                    && status.stated == event.stated
            };
            match &event.change {
                Change::Status { .. } => current = Some(event),
                _ if !current.is_some_and(same_command) => current = None,
                Change::Milestone {
                    name,
                    time: Some(time),
                } if *time == event.at => {
                    if let Some(status) = current {
                        self.companions.push(Companion {
                            milestone_event: &event.id,
                            milestone: name,
                            status_event: &status.id,
                        });
                    }
                }
                _ => {}
            }
        }
    }

    /// Whether milestone `name` was set by the command of status event `status`.
    fn set_with(&self, status: &str, name: &str) -> bool {
        self.companions
            .iter()
            .any(|c| c.status_event == status && c.milestone == name)
    }

    /// The last status link: the current state and when it was entered.
    fn last_state(&self) -> (&str, Timestamp) {
        self.entries
            .iter()
            .rev()
            .find_map(|e| e.state(self.declared).map(|s| (s, e.at)))
            .unwrap_or((self.declared, self.entries[0].at))
    }

    /// The latest stated time in the chain (the declaration never counts:
    /// work often starts before anyone declares).
    fn latest_stated(&self) -> Option<(Timestamp, String)> {
        self.entries
            .iter()
            .skip(1)
            .filter(|e| e.stated)
            .max_by_key(|e| e.at)
            .map(|e| (e.at, e.label(self.declared).to_string()))
    }

    /// Times nobody stated that lie after `at` (among the first `before`
    /// entries) happened no later than it.
    fn clamp(&mut self, at: Timestamp, before: usize, by: &str) {
        for entry in self.entries.iter_mut().take(before) {
            if !entry.stated && entry.at > at {
                entry.at = at;
                entry.timing = Timing::NoLaterThan {
                    by: by.to_string(),
                    recorded_at: entry.recorded_at,
                };
            }
        }
    }

    /// A link whose time nobody stated: it happened when it was written
    /// down, after everything recorded before it.
    fn push_unstated(&mut self, link: Link<'a>, event: &'a Event, at: Timestamp) {
        let label = match link {
            Link::Status(_, name) | Link::Milestone(_, name) => name,
            Link::Declared => self.declared,
        };
        let (at, timing) = match self.latest_stated() {
            Some((stated, by)) if stated > at => (
                stated,
                Timing::NoEarlierThan {
                    by,
                    recorded_at: event.recorded_at,
                },
            ),
            _ => (at, Timing::Recorded),
        };
        let len = self.entries.len();
        self.clamp(at, len, label);
        self.entries.push(Entry {
            link,
            at,
            recorded_at: event.recorded_at,
            stated: false,
            timing,
        });
    }

    fn allows(&self, from: &str, to: &str) -> bool {
        self.config
            .state(from)
            .is_some_and(|s| s.next.iter().any(|n| n == to))
    }

    fn add_status(&mut self, event: &'a Event, to: &'a str) {
        let link = Link::Status(event, to);
        if !event.stated {
            self.push_unstated(link, event, event.at);
            return;
        }
        let t = event.at;
        let (current, current_at) = self.last_state();
        let reopening = !self.config.is_open(current) && self.config.is_open(to);
        let catch_up = self.allows(current, to)
            && !reopening
            && self.latest_stated().is_none_or(|(stated, _)| stated <= t);
        let entry = Entry {
            link,
            at: t,
            recorded_at: event.recorded_at,
            stated: true,
            timing: Timing::Stated,
        };
        if t >= current_at || catch_up {
            let len = self.entries.len();
            self.clamp(t, len, to);
            self.entries.push(entry);
        } else {
            // Writing history down: in where its time puts it, after the
            // declared status and after anything at the same time.
            let position = self
                .entries
                .iter()
                .rposition(|e| e.at <= t)
                .map_or(1, |i| i + 1)
                .max(1);
            self.entries.insert(position, entry);
        }
    }

    /// A stated milestone of a state gives the last change into that state
    /// its time. Returns whether it did.
    ///
    /// So does a stated time for a milestone that the command of a status
    /// change set with it, when the state sets or implies that milestone:
    /// `ack` records the move to investigating and `acknowledged` together,
    /// and `--milestone acknowledged=02:55` afterwards times both. The
    /// milestone events of that command move with it.
    fn pin(&mut self, event: &'a Event, milestone: &str, time: Timestamp) -> bool {
        let config = self.config;
        let declared = self.declared;
        let sets = |e: &Entry<'_>| {
            e.state(declared)
                .and_then(|s| config.state(s))
                .is_some_and(|s| s.milestone.as_deref() == Some(milestone))
        };
        let set_with = |e: &Entry<'_>| match e.link {
            Link::Status(status, to) => {
                self.set_with(&status.id, milestone)
                    && config
                        .state(to)
                        .is_some_and(|s| s.implies.iter().any(|m| m == milestone))
            }
            _ => false,
        };
        let Some(index) = self.entries.iter().rposition(|e| sets(e) || set_with(e)) else {
            return false;
        };
        if sets(&self.entries[index]) {
            self.pins.push(&event.id);
        }
        if let Link::Status(status, _) = self.entries[index].link {
            let companions: Vec<&str> = self
                .companions
                .iter()
                .filter(|c| c.status_event == status.id && c.milestone == milestone)
                .map(|c| c.milestone_event)
                .collect();
            for entry in &mut self.entries {
                if let Link::Milestone(moved, _) = entry.link
                    && companions.contains(&moved.id.as_str())
                {
                    entry.at = time;
                    entry.stated = true;
                    entry.timing = Timing::Stated;
                }
            }
        }
        let entry = &mut self.entries[index];
        entry.at = time;
        entry.stated = true;
        entry.timing = Timing::Stated;
        let state = entry.label(declared).to_string();
        self.clamp(time, index, milestone);
        // The declaration's own time is no bound: an incident declared
        // after the work began entered its declared state earlier.
        let out_of_order = self
            .entries
            .get(1..index)
            .unwrap_or_default()
            .iter()
            .filter(|e| e.stated && e.at > time)
            .chain(self.entries[index + 1..].iter().filter(|e| e.at < time))
            .find(|e| e.state(declared).is_some())
            .map(|e| e.label(declared).to_string());
        if let Some(other) = out_of_order {
            self.anomalies.push(Anomaly {
                event: event.id.clone(),
                message: format!(
                    "milestone '{milestone}' set to {} puts the change to '{state}' out of order with the change to '{other}'",
                    time.to_rfc3339()
                ),
            });
        }
        true
    }
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
            milestone_timing: BTreeMap::new(),
            declared_by: declaration.author(),
            resolution: None,
            duplicate_of: None,
            caused_by: Vec::new(),
            timeline: Vec::new(),
            transitions: Vec::new(),
            anomalies: Vec::new(),
            event_ids: Vec::new(),
            historical: declaration.historical,
            comms: Vec::new(),
            postmortem_due: None,
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

        let mut by_recording: Vec<&Event> = events.iter().collect();
        by_recording.sort_by(|a, b| a.recording_key().cmp(&b.recording_key()));
        incident.event_ids = by_recording.iter().map(|e| e.id.clone()).collect();

        // The status chain, and milestones that move with it.
        let mut chain = Chain::new(config, declaration);
        chain.link_companions(&by_recording);
        for event in &by_recording {
            match &event.change {
                Change::Status { to, .. } => chain.add_status(event, to),
                Change::Milestone {
                    name,
                    time: Some(time),
                } => {
                    if !event.time_stated() {
                        chain.push_unstated(Link::Milestone(event, name), event, *time);
                    } else {
                        chain.pin(event, name, *time);
                    }
                }
                _ => {}
            }
        }
        // The declared status was entered no later than the first change.
        if let Some(first) = chain.entries.get(1).map(|e| e.at)
            && first < chain.entries[0].at
        {
            let by = chain.entries[1].label(chain.declared).to_string();
            let declared = &mut chain.entries[0];
            declared.at = first;
            declared.timing = Timing::NoLaterThan {
                by,
                recorded_at: declaration.recorded_at,
            };
        }
        // Declared after the work had moved on: the declared status lasted
        // from detection, when that was stated and came before.
        let declared = &mut chain.entries[0];
        if matches!(declared.timing, Timing::NoLaterThan { .. })
            && let Some(detected) = stated_detection(declaration, &by_recording)
            && detected <= declared.at
        {
            declared.at = detected;
            declared.timing = Timing::Detected {
                declared_at: declaration.declared_at,
            };
        }
        incident.anomalies.append(&mut chain.anomalies);

        // Effective times of chain links, by event id.
        let mut placed: BTreeMap<&str, (Timestamp, Timing)> = BTreeMap::new();
        for entry in &chain.entries {
            if let Link::Status(event, _) | Link::Milestone(event, _) = entry.link {
                placed.insert(&event.id, (entry.at, entry.timing.clone()));
            }
        }

        // Walk the status chain: state, milestones it sets, resolution.
        let mut from: Option<String> = None;
        let mut status_lines: BTreeMap<&str, String> = BTreeMap::new();
        // The state the incident entered on leaving the open states: only
        // that step's text (or a confirmation of that state) says what fixed
        // it. Texts of later steps between closed states (`close`, its
        // `--force --reason`) are comments, as they always were in the
        // timeline; old records read the same way.
        let mut resolved_in: Option<String> = None;
        for entry in &chain.entries {
            let (to, event, text, duplicate_of) = match entry.link {
                Link::Declared => (declaration.status.as_str(), None, None, None),
                Link::Status(event, to) => match &event.change {
                    Change::Status {
                        text, duplicate_of, ..
                    } => (to, Some(event), text.as_ref(), duplicate_of.as_ref()),
                    _ => continue,
                },
                Link::Milestone(..) => continue,
            };
            if let (Some(previous), Some(event)) = (&from, event)
                && previous != to
                && !chain.allows(previous, to)
            {
                incident.anomalies.push(Anomaly {
                    event: event.id.clone(),
                    message: format!(
                        "status went from '{previous}' to '{to}', which the lifecycle does not allow (concurrent edits in two clones?)"
                    ),
                });
            }
            // A status event that keeps the status (`incident update
            // --status` with the current one, which settles a merge
            // contradiction): the state, when it was entered and its
            // milestones stay as they are.
            let confirming = event.is_some() && from.as_deref() == Some(to);
            if confirming && let Some(event) = event {
                // Confirming the state that set the resolution corrects it.
                if let Some(reason) = text
                    && resolved_in.as_deref() == Some(to)
                {
                    incident.resolution = Some(reason.clone());
                }
                status_lines.insert(
                    &event.id,
                    match text {
                        Some(reason) => format!("status {to} confirmed: {reason}"),
                        None => format!("status {to} confirmed"),
                    },
                );
                incident.last_status_change = Some(entry.at);
                incident.transitions.push(Transition {
                    from: from.clone(),
                    to: to.to_string(),
                    at: entry.at,
                    timing: entry.timing.clone(),
                    event: Some(event.id.clone()),
                });
                continue;
            }
            let reopening = from
                .as_deref()
                .is_some_and(|f| !config.is_open(f) && config.is_open(to));
            incident.enter_state(config, to, entry.at, &entry.timing, reopening);
            // The text of the transition out of the open states is the
            // resolution (or the reason for cancelling); on other
            // transitions, `close` among them, it is a comment.
            if config.is_open(to) {
                resolved_in = None;
            } else if from.as_deref().is_none_or(|f| config.is_open(f)) {
                resolved_in = Some(to.to_string());
            }
            if let Some(reason) = text
                && resolved_in.as_deref() == Some(to)
            {
                incident.resolution = Some(reason.clone());
            }
            if duplicate_of.is_some() {
                incident.duplicate_of = duplicate_of.cloned();
            }
            if let Some(event) = event {
                let previous = from.clone().unwrap_or_default();
                let mut line = format!("status {previous} → {to}");
                if let Some(original) = duplicate_of {
                    line.push_str(&format!(" (duplicate of {original})"));
                }
                if let Some(reason) = text {
                    line.push_str(&format!(": {reason}"));
                }
                status_lines.insert(&event.id, line);
                incident.last_status_change = Some(entry.at);
            }
            incident.status = to.to_string();
            incident.status_since = entry.at;
            incident.transitions.push(Transition {
                from: from.clone(),
                to: to.to_string(),
                at: entry.at,
                timing: entry.timing.clone(),
                event: event.map(|e| e.id.clone()),
            });
            from = Some(to.to_string());
        }

        // Milestones set explicitly, in recording order, unless a status
        // change recorded later set (or, reopening, cleared) them again.
        let recorded_later = |event: &Event, milestone: &str| {
            incident.transitions.iter().skip(1).any(|t| {
                let sets = config
                    .state(&t.to)
                    .is_some_and(|s| s.milestone.as_deref() == Some(milestone));
                let clears = t.from.as_deref().is_some_and(|f| {
                    !config.is_open(f)
                        && config.is_open(&t.to)
                        && config.closing_milestones().iter().any(|m| m == milestone)
                });
                (sets || clears)
                    && t.event.as_deref().is_some_and(|id| {
                        by_recording
                            .iter()
                            .find(|e| e.id == id)
                            .is_some_and(|e| e.recording_key() > event.recording_key())
                    })
            })
        };
        let mut explicit: Vec<(String, Option<(Milestone, Timing)>)> = Vec::new();
        for event in &by_recording {
            let Change::Milestone { name, time } = &event.change else {
                continue;
            };
            if chain.pins.contains(&event.id.as_str()) || recorded_later(event, name) {
                continue;
            }
            let value = time.map(|t| match placed.get(event.id.as_str()) {
                Some((at, timing)) => (milestone_from(*at, timing), timing.clone()),
                None => (
                    Milestone {
                        at: t,
                        source: MilestoneSource::Recorded,
                    },
                    Timing::Stated,
                ),
            });
            explicit.push((name.clone(), value));
        }
        // A state's milestone cleared after the change into it stands: when
        // that change happened is unknown, and no time in a state ends there.
        for (name, _) in explicit.iter().filter(|(_, value)| value.is_none()) {
            let into = incident.transitions.iter_mut().rev().find(|t| {
                config
                    .state(&t.to)
                    .is_some_and(|s| s.milestone.as_deref() == Some(name.as_str()))
            });
            if let Some(transition) = into {
                transition.timing = Timing::Unknown {
                    milestone: name.clone(),
                };
            }
        }
        for (name, value) in explicit {
            match value {
                Some((milestone, timing)) => {
                    incident.milestones.insert(name.clone(), milestone);
                    incident.set_milestone_timing(&name, &timing);
                }
                None => {
                    incident.milestones.remove(&name);
                    incident.milestone_timing.remove(&name);
                }
            }
        }

        // Everything else: the last event by stated time wins.
        let mut by_time: Vec<&Event> = events.iter().collect();
        by_time.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
        for event in by_time {
            incident.apply(config, event, status_lines.get(event.id.as_str()));
        }

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
            timing: if declaration.declared_at != declaration.recorded_at {
                Timing::Stated
            } else {
                Timing::Recorded
            },
        });
        // Events written by one command without a time (a status change
        // and its note) move together: the status change or milestone
        // recorded last before the event (by `seq`) was written by the same
        // person at the same moment, without a time.
        let linked: Vec<(&Event, Option<(Timestamp, Timing)>)> = by_recording
            .iter()
            .filter(|e| {
                matches!(
                    e.change,
                    Change::Status { .. } | Change::Milestone { time: Some(_), .. }
                )
            })
            .map(|e| {
                let moved = (!e.time_stated())
                    .then(|| placed.get(e.id.as_str()).cloned())
                    .flatten();
                (*e, moved)
            })
            .collect();
        for entry in &mut incident.timeline {
            let Some(id) = entry.event.as_deref() else {
                continue;
            };
            let placement = placed.get(id).cloned().or_else(|| {
                let event = by_recording.iter().find(|e| e.id == id)?;
                if event.stated {
                    return None;
                }
                let (link, moved) = linked
                    .iter()
                    .filter(|(link, _)| link.recording_key() < event.recording_key())
                    .max_by_key(|(link, _)| link.recording_key())?;
                (link.recorded_at == event.recorded_at && link.author == event.author)
                    .then(|| moved.clone())
                    .flatten()
            });
            if let Some((at, timing)) = placement {
                entry.at = at;
                entry.timing = timing;
            }
        }
        let position = |entry: &TimelineEntry| {
            entry
                .event
                .as_deref()
                .and_then(|id| incident.event_ids.iter().position(|e| e == id))
                .map_or(0, |p| p + 1)
        };
        let mut keyed: Vec<(usize, TimelineEntry)> = incident
            .timeline
            .drain(..)
            .map(|e| (position(&e), e))
            .collect();
        keyed.sort_by(|a, b| a.1.at.cmp(&b.1.at).then(a.0.cmp(&b.0)));
        incident.timeline = keyed.into_iter().map(|(_, e)| e).collect();

        incident.fill_assumed_milestones();
        incident
    }

    fn add_service(&mut self, service: &str) {
        if !self.services.iter().any(|s| s == service) {
            self.services.push(service.to_string());
        }
    }

    /// Record the milestones that entering `state` at `at` implies.
    fn enter_state(
        &mut self,
        config: &Config,
        state: &str,
        at: Timestamp,
        timing: &Timing,
        reopening: bool,
    ) {
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
            self.milestones
                .insert(milestone.clone(), milestone_from(at, timing));
            self.set_milestone_timing(milestone, timing);
        }
        for implied in &definition.implies {
            self.milestones.entry(implied.clone()).or_insert(Milestone {
                at,
                source: MilestoneSource::Assumed(state.to_string()),
            });
        }
    }

    fn set_milestone_timing(&mut self, name: &str, timing: &Timing) {
        if timing.is_fact() {
            self.milestone_timing.remove(name);
        } else {
            self.milestone_timing
                .insert(name.to_string(), timing.clone());
        }
    }

    /// Fields other than status and milestones, and the timeline line.
    fn apply(&mut self, config: &Config, event: &Event, status_line: Option<&String>) {
        let text = match &event.change {
            Change::Status { .. } => status_line.cloned().unwrap_or_default(),
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
                Some(t) if *t == event.at => format!("milestone {name}"),
                Some(t) => format!("milestone {name} set to {}", config.zone().long(t)),
                None => format!("milestone {name} cleared"),
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
            Change::Comms(update) => {
                self.comms.push(event.clone());
                crate::comms::timeline_text(update)
            }
            Change::PostmortemDue { branch } => {
                self.postmortem_due.get_or_insert(PostmortemDue {
                    since: event.at,
                    branch: branch.clone(),
                });
                format!("postmortem due: the draft is on branch {branch}")
            }
        };
        self.timeline.push(TimelineEntry {
            at: event.at,
            recorded_at: event.recorded_at,
            kind: event.change.kind().to_string(),
            author: event.author.clone(),
            text,
            event: Some(event.id.clone()),
            timing: if event.stated {
                Timing::Stated
            } else {
                Timing::Recorded
            },
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

    /// The status changes in effective order, starting with the declared
    /// status: what time in each state is measured from.
    pub fn status_changes(&self) -> &[Transition] {
        &self.transitions
    }

    /// Time spent in each state visit, in order: (state, entered, seconds
    /// until the next change, or why unknown). The current state's visit
    /// has no end (`Measure::Missing` of the next state).
    pub fn time_in_states(&self) -> Vec<(String, Timestamp, Measure)> {
        // A confirmation of the current status continues the same visit.
        let changes: Vec<&Transition> = self
            .transitions
            .iter()
            .filter(|t| t.from.as_deref() != Some(t.to.as_str()))
            .collect();
        let mut visits = Vec::new();
        for (index, transition) in changes.iter().enumerate() {
            let measure = match changes.get(index + 1) {
                None => Measure::Missing("the next status change".into()),
                Some(_) if !transition.timing.is_fact() => Measure::Assumed(transition.to.clone()),
                Some(next) if !next.timing.is_fact() => Measure::Assumed(next.to.clone()),
                Some(next) => Measure::Measured((next.at - transition.at).num_seconds()),
            };
            visits.push((transition.to.clone(), transition.at, measure));
        }
        visits
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

/// When the incident was detected, if somebody stated it: at declaration
/// or by the last `detected` milestone event with a time of its own.
fn stated_detection(declaration: &Declaration, by_recording: &[&Event]) -> Option<Timestamp> {
    let mut detected = declaration.detected_at;
    for event in by_recording {
        if let Change::Milestone { name, time } = &event.change
            && name == "detected"
        {
            detected = match time {
                Some(t) if event.time_stated() => Some(*t),
                _ => None,
            };
        }
    }
    detected
}

/// A milestone set at a status change's time: assumed when that time is.
fn milestone_from(at: Timestamp, timing: &Timing) -> Milestone {
    Milestone {
        at,
        source: match timing.assumed_from() {
            Some(by) => MilestoneSource::Assumed(by.to_string()),
            None => MilestoneSource::Recorded,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_CONFIG;
    use crate::model::event::FORMAT_VERSION;

    fn at(s: &str) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(&format!("2026-11-24T{s}:00Z")).unwrap()
    }

    fn config() -> Config {
        Config::parse("(built-in)", DEFAULT_CONFIG).unwrap()
    }

    fn declared(recorded: &str) -> Declaration {
        Declaration {
            version: FORMAT_VERSION,
            id: "k3f9x2".into(),
            title: "Checkout latency".into(),
            severity: "SEV2".into(),
            status: "triage".into(),
            services: vec![],
            summary: String::new(),
            declared_at: at(recorded),
            started_at: Some(at("02:40")),
            detected_at: None,
            recorded_at: at(recorded),
            author: "Alice".into(),
            author_email: String::new(),
            links: vec![],
            roles: BTreeMap::new(),
            historical: false,
            source: None,
        }
    }

    /// Events in recording order: (change, stated time or None, recorded).
    fn events(list: &[(Change, Option<&str>, &str)]) -> Vec<Event> {
        list.iter()
            .enumerate()
            .map(|(seq, (change, stated, recorded))| Event {
                id: format!("e{seq:02}"),
                at: at(stated.unwrap_or(recorded)),
                recorded_at: at(recorded),
                stated: stated.is_some(),
                seq: seq as u32,
                author: Person::default(),
                change: change.clone(),
            })
            .collect()
    }

    fn status(to: &str) -> Change {
        Change::Status {
            to: to.into(),
            from: None,
            text: None,
            duplicate_of: None,
        }
    }

    fn milestone(name: &str, time: &str) -> Change {
        Change::Milestone {
            name: name.into(),
            time: Some(at(time)),
        }
    }

    fn chain(incident: &Incident) -> Vec<(String, String, bool)> {
        incident
            .transitions
            .iter()
            .map(|t| {
                (
                    t.to.clone(),
                    t.at.format("%H:%M").to_string(),
                    t.timing.is_fact(),
                )
            })
            .collect()
    }

    fn row(state: &str, time: &str, fact: bool) -> (String, String, bool) {
        (state.into(), time.into(), fact)
    }

    #[test]
    fn catch_up_states_now_then_a_real_time() {
        // The README quick start: states typed at 04:00, then "mitigated at 03:40".
        let all = events(&[
            (status("investigating"), None, "04:00"),
            (milestone("acknowledged", "04:00"), None, "04:00"),
            (status("identified"), None, "04:01"),
            (status("mitigated"), Some("03:40"), "04:02"),
            (status("resolved"), None, "04:05"),
        ]);
        let i = Incident::replay(&config(), "f", &declared("04:00"), &all);
        assert_eq!(i.status, "resolved");
        assert_eq!(
            chain(&i),
            [
                row("triage", "03:40", false),
                row("investigating", "03:40", false),
                row("identified", "03:40", false),
                row("mitigated", "03:40", true),
                row("resolved", "04:05", true),
            ]
        );
        assert!(i.anomalies.is_empty(), "{:?}", i.anomalies);
        assert_eq!(i.measure("started", "mitigated"), Measure::Measured(3600));
        assert_eq!(
            i.measure("detected", "acknowledged"),
            Measure::Assumed("detected".into())
        );
        assert_eq!(
            i.milestones["identified"].source,
            MilestoneSource::Assumed("mitigated".into())
        );
        assert_eq!(
            i.milestones["acknowledged"].source,
            MilestoneSource::Assumed("mitigated".into())
        );
        // The real times given later make the figures facts.
        let mut more = all.clone();
        more.extend(events(&[
            (milestone("identified", "03:20"), Some("04:10"), "04:10"),
            (milestone("acknowledged", "02:55"), Some("04:10"), "04:10"),
        ]));
        for (n, e) in more.iter_mut().enumerate() {
            e.seq = n as u32;
            e.id = format!("e{n:02}");
        }
        let i = Incident::replay(&config(), "f", &declared("04:00"), &more);
        // `ack` wrote the move to investigating with `acknowledged`: the
        // stated acknowledgement times that move too.
        assert_eq!(
            chain(&i),
            [
                row("triage", "02:55", false),
                row("investigating", "02:55", true),
                row("identified", "03:20", true),
                row("mitigated", "03:40", true),
                row("resolved", "04:05", true),
            ]
        );
        assert_eq!(i.milestones["acknowledged"].at, at("02:55"));
        assert!(i.milestones["acknowledged"].is_recorded());
        assert_eq!(
            i.measure("identified", "mitigated"),
            Measure::Measured(1200)
        );
        let ack = i
            .timeline
            .iter()
            .find(|e| e.event.as_deref() == Some("e01"));
        assert_eq!(
            ack.map(|e| (e.at, e.timing.is_fact())),
            Some((at("02:55"), true))
        );
        // Declared at 04:00 after the work began: triage lasted from the
        // stated detection.
        let detected = Declaration {
            detected_at: Some(at("02:52")),
            ..declared("04:00")
        };
        let i = Incident::replay(&config(), "f", &detected, &more);
        assert_eq!(chain(&i)[0], row("triage", "02:52", true));
        assert!(
            i.time_in_states()
                .iter()
                .rev()
                .skip(1)
                .all(|(_, _, m)| matches!(m, Measure::Measured(_))),
            "{:?}",
            i.time_in_states()
        );
    }

    #[test]
    fn a_stated_milestone_times_only_the_status_change_it_was_written_with() {
        // `ack` at 04:00, then a status change and, by the same clock second,
        // a stated `acknowledged` in a command of its own.
        let all = events(&[
            (status("investigating"), None, "04:00"),
            (milestone("acknowledged", "04:00"), None, "04:00"),
            (status("mitigated"), None, "04:05"),
            (milestone("acknowledged", "03:00"), Some("04:05"), "04:05"),
        ]);
        let i = Incident::replay(&config(), "f", &declared("03:50"), &all);
        assert_eq!(
            chain(&i)[1..],
            [
                row("investigating", "03:00", true),
                row("mitigated", "04:05", true)
            ]
        );
        // Resolving implies mitigated; a stated mitigation later does not
        // move the resolution.
        let all = events(&[
            (status("resolved"), None, "04:10"),
            (milestone("mitigated", "03:40"), Some("04:20"), "04:20"),
        ]);
        let i = Incident::replay(&config(), "f", &declared("03:50"), &all);
        assert_eq!(chain(&i)[1], row("resolved", "04:10", true));
        assert_eq!(i.milestones["mitigated"].at, at("03:40"));
    }

    #[test]
    fn closing_texts_do_not_replace_the_resolution() {
        let with_text = |to: &str, text: &str| Change::Status {
            to: to.into(),
            from: None,
            text: Some(text.into()),
            duplicate_of: None,
        };
        let all = events(&[
            (with_text("resolved", "rolled back to 1.41"), None, "04:10"),
            (with_text("postmortem", "in review"), None, "05:00"),
            (with_text("closed", "postmortem published"), None, "06:00"),
        ]);
        let i = Incident::replay(&config(), "f", &declared("03:50"), &all);
        assert_eq!(i.status, "closed");
        assert_eq!(i.resolution.as_deref(), Some("rolled back to 1.41"));
        // Confirming `resolved` corrects it; a reopen clears it, and the
        // next resolution is the new one.
        let all = events(&[
            (with_text("resolved", "rolled back"), None, "04:10"),
            (with_text("resolved", "rolled back to 1.41"), None, "04:20"),
        ]);
        let i = Incident::replay(&config(), "f", &declared("03:50"), &all);
        assert_eq!(i.resolution.as_deref(), Some("rolled back to 1.41"));
        let all = events(&[
            (with_text("resolved", "rolled back"), None, "04:10"),
            (with_text("investigating", "errors again"), None, "04:20"),
            (with_text("resolved", "fixed the pool"), None, "04:30"),
            (with_text("closed", "done in a doc"), None, "05:00"),
        ]);
        let i = Incident::replay(&config(), "f", &declared("03:50"), &all);
        assert_eq!(i.resolution.as_deref(), Some("fixed the pool"));
        // Straight from an open state to closed: that text says what fixed it.
        let all = events(&[(with_text("closed", "fixed upstream"), None, "05:00")]);
        let i = Incident::replay(&config(), "f", &declared("03:50"), &all);
        assert_eq!(i.resolution.as_deref(), Some("fixed upstream"));
    }

    #[test]
    fn history_typed_in_any_order_replays_by_stated_time() {
        let all = events(&[
            (status("resolved"), Some("04:10"), "09:00"),
            (status("mitigated"), Some("03:40"), "09:01"),
            (status("investigating"), Some("02:55"), "09:02"),
            (status("identified"), Some("03:20"), "09:03"),
        ]);
        let i = Incident::replay(&config(), "f", &declared("02:52"), &all);
        assert_eq!(
            chain(&i),
            [
                row("triage", "02:52", true),
                row("investigating", "02:55", true),
                row("identified", "03:20", true),
                row("mitigated", "03:40", true),
                row("resolved", "04:10", true),
            ]
        );
        assert!(i.anomalies.is_empty(), "{:?}", i.anomalies);
        let times: Vec<_> = i.timeline.iter().map(|e| e.at).collect();
        let mut sorted = times.clone();
        sorted.sort();
        assert_eq!(times, sorted);
    }

    #[test]
    fn live_record_keeps_its_times_when_history_is_added() {
        let all = events(&[
            (status("resolved"), None, "04:10"),
            (status("identified"), Some("03:20"), "05:00"),
            (status("mitigated"), Some("03:40"), "05:01"),
        ]);
        let i = Incident::replay(&config(), "f", &declared("02:52"), &all);
        assert_eq!(i.status, "resolved");
        assert_eq!(
            chain(&i),
            [
                row("triage", "02:52", true),
                row("identified", "03:20", true),
                row("mitigated", "03:40", true),
                row("resolved", "04:10", true),
            ]
        );
        // A reopen stated before the resolution is history, not a reopen.
        let all = events(&[
            (status("identified"), None, "03:20"),
            (status("resolved"), None, "04:10"),
            (status("investigating"), Some("03:25"), "05:00"),
        ]);
        let i = Incident::replay(&config(), "f", &declared("02:52"), &all);
        assert_eq!(i.status, "resolved");
        assert_eq!(i.transitions[2].to, "investigating");
    }

    #[test]
    fn clock_skew_never_blocks_and_is_marked() {
        // A clone a day ahead wrote "identified"; one on time resolves.
        let ahead = "2026-11-25T10:00:00Z";
        let mut all = events(&[(status("identified"), None, "10:00")]);
        all[0].at = chrono::DateTime::parse_from_rfc3339(ahead).unwrap();
        all[0].recorded_at = all[0].at;
        all.extend(events(&[(status("resolved"), None, "10:05")]));
        all[1].seq = 1;
        all[1].id = "e01".into();
        let i = Incident::replay(&config(), "f", &declared("09:00"), &all);
        assert_eq!(i.status, "resolved");
        assert_eq!(
            chain(&i)[1..],
            [
                row("identified", "10:05", false),
                row("resolved", "10:05", true)
            ]
        );
        // A clone behind a stated time: placed after it, marked assumed.
        let all = events(&[
            (status("identified"), Some("10:00"), "10:00"),
            (status("resolved"), None, "09:55"),
        ]);
        let i = Incident::replay(&config(), "f", &declared("09:00"), &all);
        assert_eq!(i.status, "resolved");
        assert_eq!(chain(&i)[2], row("resolved", "10:00", false));
    }

    #[test]
    fn old_files_infer_stated_from_the_two_times() {
        // Written before `stated` existed: at == recorded_at means unstated.
        let text = "version = 1\nkind = \"status\"\nstatus = \"mitigated\"\nat = 2026-11-24T03:40:00Z\nrecorded_at = 2026-11-24T04:02:00Z\nauthor = \"a\"\n";
        let event = Event::parse("e.toml", "e", text).unwrap();
        assert!(event.stated);
        let text = text.replace("03:40", "04:02");
        let event = Event::parse("e.toml", "e", &text).unwrap();
        assert!(!event.stated);
        // Only a disagreement is written down.
        assert!(!event.to_toml().unwrap().contains("stated"));
        let said_now = Event {
            stated: true,
            ..event
        };
        let text = said_now.to_toml().unwrap();
        assert!(text.contains("stated = true"), "{text}");
        assert!(Event::parse("e.toml", "e", &text).unwrap().stated);
    }
}
