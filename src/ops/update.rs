//! `incident update` and its shortcuts: append timeline events in one commit.

use super::{
    commit_message, event_file_path, event_id, event_trailer, new_event_prefix, one_line,
    parse_past_time, require_name, require_text,
};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::event::{Change, Event, Person};
use crate::model::incident::{Incident, MilestoneSource, Timing};
use crate::ops::check::unsettled_contradictions;
use crate::store::write::{Committed, FileWrite, Plan};
use crate::store::{DECLARATION_FILE, EVENTS_DIR, Store};
use crate::time::{Timestamp, Zone};

/// Everything one `incident update` call may record. Times are typed
/// expressions, read in the config's zone.
#[derive(Debug, Default, Clone)]
pub struct UpdateRequest {
    pub status: Option<String>,
    /// Resolution, cancellation reason or other text for the status change.
    pub reason: Option<String>,
    pub duplicate_of: Option<String>,
    /// Acknowledge: set the `acknowledged` milestone and leave triage.
    pub acknowledge: bool,
    /// Reopen: go back to the first open state the current state allows.
    pub reopen: bool,
    pub severity: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    /// (role, person); an empty person leaves the role unassigned.
    pub roles: Vec<(String, String)>,
    pub add_services: Vec<String>,
    pub remove_services: Vec<String>,
    pub links: Vec<String>,
    /// Commits, tags or deployments that caused the incident.
    pub caused_by: Vec<String>,
    /// (milestone, time); no time means `at`.
    pub milestones: Vec<(String, Option<String>)>,
    pub clear_milestones: Vec<String>,
    pub notes: Vec<String>,
    /// When it happened; default now.
    pub at: Option<String>,
    /// The verb of the commit subject ("Resolve", "Acknowledge"...).
    pub verb: Option<String>,
}

#[derive(Debug)]
pub struct UpdateOutcome {
    pub before: Incident,
    pub incident: Incident,
    pub events: Vec<Event>,
    pub committed: Committed,
    /// When the recorded events happened, and whether a person stated it.
    pub at: Timestamp,
    pub stated: bool,
    /// Things the person should know: what was assumed, what was skipped.
    pub notices: Vec<String>,
}

pub fn update(
    store: &Store,
    query: &str,
    request: &UpdateRequest,
    now: Timestamp,
) -> Result<UpdateOutcome> {
    update_with(store, query, request, now, &|_| Ok(Vec::new()))
}

/// What an [`update_with`] hook sees: the incident's files and its state after the update.
pub struct UpdateContext<'a> {
    pub config: &'a Config,
    pub tree: &'a git2::Tree<'a>,
    pub folder: &'a crate::store::FolderRef,
    pub declaration: &'a crate::model::event::Declaration,
    /// Every event, the new ones included.
    pub events: &'a [Event],
    pub after: &'a Incident,
}

/// [`update`], committing the files `extra` returns in the same commit
/// (`resolve` adds the postmortem this way).
pub fn update_with(
    store: &Store,
    query: &str,
    request: &UpdateRequest,
    now: Timestamp,
    extra: &dyn Fn(&UpdateContext<'_>) -> Result<Vec<FileWrite>>,
) -> Result<UpdateOutcome> {
    let config = store.config()?;
    let zone = config.zone();
    let at = match &request.at {
        Some(t) => parse_past_time(t, now, &zone)?,
        None => now,
    };
    let mut incident_id: Option<String> = None;
    // Event ids stay the same from one attempt to the next (see commit_with).
    let mut prefixes: Vec<String> = Vec::new();
    let (committed, (before, incident, events, notices)) = store.commit_with(now, |attempt| {
        let tree = attempt.tree.ok_or_else(|| Error::NotFound {
            query: query.into(),
        })?;
        // The first attempt resolves what the user typed; retries must find
        // the same incident even if a new one now shares the prefix.
        let folder = store.find(tree, incident_id.as_deref().unwrap_or(query))?;
        incident_id = Some(folder.id.clone());
        let (declaration, mut all) = store.read_files(tree, &folder)?;
        let draft = Draft {
            store,
            tree,
            config: &config,
            folder: &folder.path,
            declaration: &declaration,
            author: &attempt.identity.author,
            now,
            suggest_fix: true,
        };
        let Drafted {
            before,
            after,
            events,
            notices,
        } = draft.prepare(&all, query, request, at, &mut prefixes)?;
        all.extend(events.iter().cloned());
        let mut files = Vec::new();
        for event in &events {
            files.push(FileWrite {
                path: event_file_path(&folder.path, event),
                content: event.to_toml()?.into_bytes(),
            });
        }
        files.extend(extra(&UpdateContext {
            config: &config,
            tree,
            folder: &folder,
            declaration: &declaration,
            events: &all,
            after: &after,
        })?);
        let message = message_for(&before, &events, request, at, &zone);
        Ok((
            Plan {
                message,
                files,
                guard: vec![
                    format!("{}/{DECLARATION_FILE}", folder.path),
                    format!("{}/{EVENTS_DIR}", folder.path),
                ],
            },
            (before, after, events, notices),
        ))
    })?;
    Ok(UpdateOutcome {
        before,
        incident,
        events,
        committed,
        at,
        stated: request.at.is_some(),
        notices,
    })
}

/// What one update is planned against: the incident's files at HEAD.
#[derive(Clone, Copy)]
struct Draft<'a> {
    store: &'a Store,
    tree: &'a git2::Tree<'a>,
    config: &'a Config,
    folder: &'a str,
    declaration: &'a crate::model::event::Declaration,
    author: &'a Person,
    now: Timestamp,
    /// Whether a refusal looks for the command that fixes it (not while
    /// trying such a command, so that the search ends).
    suggest_fix: bool,
}

/// The incident before and after a planned update, and its new events.
struct Drafted {
    before: Incident,
    after: Incident,
    events: Vec<Event>,
    notices: Vec<String>,
}

impl Draft<'_> {
    /// Plan `request` on top of `all`, and check that the record it leaves
    /// is consistent: the lifecycle where the replay puts each new status
    /// change, and the order of milestones (refused with the command that
    /// fixes it).
    fn prepare(
        &self,
        all: &[Event],
        query: &str,
        request: &UpdateRequest,
        at: Timestamp,
        prefixes: &mut Vec<String>,
    ) -> Result<Drafted> {
        let config = self.config;
        let zone = config.zone();
        let before = Incident::replay(config, self.folder, self.declaration, all);
        ensure_named_in_full(config, &before, query)?;
        // After a merge contradiction the current state can be confirmed,
        // which settles it (see `incident check`).
        let confirmable = !unsettled_contradictions(&before, all).is_empty();
        let (changes, mut notices) = plan_changes(
            self.store, self.tree, config, &zone, &before, request, at, self.now,
        )?;
        let next_seq = all
            .iter()
            .map(|e| e.seq)
            .max()
            .map_or(0, |s| s.saturating_add(1));
        let mut events = Vec::new();
        for (offset, change) in (0u32..).zip(changes) {
            let position = offset as usize;
            if prefixes.len() <= position {
                prefixes.push(new_event_prefix(&self.now)?);
            }
            events.push(Event {
                id: event_id(&prefixes[position], &change),
                at,
                recorded_at: self.now,
                stated: request.at.is_some(),
                seq: next_seq.saturating_add(offset),
                author: self.author.clone(),
                change,
            });
        }
        let mut with_new = all.to_vec();
        with_new.extend(events.iter().cloned());
        let after = Incident::replay(config, self.folder, self.declaration, &with_new);
        check_placement(
            config,
            &zone,
            (&before, &after),
            &mut events,
            request,
            confirmable,
        )?;
        if let Err(error) = after.ensure_milestone_order(config, Some(&before), &zone) {
            if !self.suggest_fix {
                return Err(error);
            }
            return Err(self.with_order_fix(error, (all, &with_new), request, &before, &after));
        }
        let assumed = newly_assumed(&zone, &before, &after, &self.now);
        let changes = changes_newly_assumed(config, &before, &after, &self.now, &assumed);
        notices.extend(assumed);
        notices.extend(changes);
        Ok(Drafted {
            before,
            after,
            events,
            notices,
        })
    }

    /// A milestone-order refusal, with the one command that fixes it and
    /// that was tried: the other milestone moved to the time this command
    /// gives (and any milestone that move pushes out of order in turn).
    fn with_order_fix(
        &self,
        error: Error,
        (all, with_new): (&[Event], &[Event]),
        request: &UpdateRequest,
        before: &Incident,
        after: &Incident,
    ) -> Error {
        let Error::MilestoneOrder { earlier, later, .. } = &error else {
            return error;
        };
        let (earlier, later) = (earlier.clone(), later.clone());
        let zone = self.config.zone();
        let fallback = |error: Error| Error::Contradiction {
            message: error.to_string(),
            fix: format!(
                "check the times: '{earlier}' must not be later than '{later}'; `incident show {id}` lists the milestones, `incident update {id} --milestone {earlier}=TIME` or `--milestone {later}=TIME` corrects one",
                id = before.id
            ),
        };
        let Some(moves) = self.order_moves(before, after, with_new) else {
            return fallback(error);
        };
        let settings = |list: &[(String, Timestamp)]| {
            list.iter()
                .map(|(name, t)| {
                    let time = zone.typeable(t, &self.now);
                    if time.contains(' ') {
                        format!("--milestone {name}=\"{time}\"")
                    } else {
                        format!("--milestone {name}={time}")
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        let milestones_only = request.status.is_none() && !request.acknowledge && !request.reopen;
        let as_request = |list: &[(String, Timestamp)]| UpdateRequest {
            milestones: list
                .iter()
                .map(|(n, t)| (n.clone(), Some(t.to_rfc3339())))
                .collect(),
            ..UpdateRequest::default()
        };
        let tried = |request: &UpdateRequest, on: &[Event]| {
            let trial = Draft {
                suggest_fix: false,
                ..*self
            };
            trial.prepare(on, &before.id, request, self.now, &mut Vec::new())
        };
        let message = error.to_string();
        if milestones_only {
            // This command's milestones and the moved ones, in one command.
            let mut all_set: Vec<(String, Timestamp)> = request
                .milestones
                .iter()
                .filter_map(|(name, _)| {
                    let name = self.config.check_milestone(name).ok()?;
                    Some((name.clone(), after.milestone(&name)?))
                })
                .collect();
            let mine = all_set.clone();
            all_set.extend(moves);
            let bound_source = mine.clone();
            if tried(&as_request(&all_set), all).is_ok() {
                return Error::Contradiction {
                    message,
                    fix: format!(
                        "check the times; if they are right, move the other milestone with it: `incident update {} {}`",
                        before.id,
                        settings(&all_set)
                    ),
                };
            }
            // Or the other way round: this command's milestone no later
            // (or no earlier) than the one it conflicts with.
            let bound: Vec<(String, Timestamp)> = bound_source
                .into_iter()
                .map(|(name, t)| {
                    let other = if name == earlier { &later } else { &earlier };
                    match before.milestone(other) {
                        Some(limit) if name == earlier || name == later => (name, limit),
                        _ => (name, t),
                    }
                })
                .collect();
            let changes = bound
                .iter()
                .any(|(name, t)| before.milestone(name) != Some(*t));
            if changes && tried(&as_request(&bound), all).is_ok() {
                return Error::Contradiction {
                    message,
                    fix: format!(
                        "check the times; the {} time that fits is `incident update {} {}`",
                        if mine.iter().any(|(n, _)| *n == earlier) {
                            "latest"
                        } else {
                            "earliest"
                        },
                        before.id,
                        settings(&bound)
                    ),
                };
            }
            return fallback(error);
        }
        // A status change: correct the other milestone first, then this
        // command works as typed.
        let Ok(first) = tried(&as_request(&moves), all) else {
            return fallback(error);
        };
        let mut then = all.to_vec();
        then.extend(first.events);
        let request_at = match &request.at {
            Some(t) => parse_past_time(t, self.now, &zone),
            None => Ok(self.now),
        };
        match request_at.and_then(|at| {
            let trial = Draft {
                suggest_fix: false,
                ..*self
            };
            trial.prepare(&then, &before.id, request, at, &mut Vec::new())
        }) {
            Ok(_) => Error::Contradiction {
                message,
                fix: format!(
                    "check the time (--at); if it is right, correct the other milestone first: `incident update {} {}`, then run this command again",
                    before.id,
                    settings(&moves)
                ),
            },
            Err(_) => fallback(error),
        }
    }

    /// The milestones to move so that the order holds again: each one this
    /// command did not set, moved to the time of the one it conflicts with.
    fn order_moves(
        &self,
        before: &Incident,
        after: &Incident,
        with_new: &[Event],
    ) -> Option<Vec<(String, Timestamp)>> {
        let config = self.config;
        let existing = before.milestone_violations(config);
        let ours: Vec<String> = after
            .milestones
            .iter()
            .filter(|(name, m)| before.milestones.get(*name).map(|b| b.at) != Some(m.at))
            .map(|(name, _)| name.clone())
            .collect();
        let mut moves: Vec<(String, Timestamp)> = Vec::new();
        let mut current = after.clone();
        for _ in 0..config.milestones.len() {
            let Some((earlier, later)) = current
                .milestone_violations(config)
                .into_iter()
                .find(|v| !existing.contains(v))
            else {
                return Some(moves);
            };
            let fixed =
                |name: &str| ours.iter().any(|n| n == name) || moves.iter().any(|(n, _)| n == name);
            let (target, to) = match (fixed(&earlier), fixed(&later)) {
                (true, false) => (later, current.milestone(&earlier)?),
                (false, true) => (earlier, current.milestone(&later)?),
                _ => return None,
            };
            moves.retain(|(n, _)| *n != target);
            moves.push((target, to));
            let mut events = with_new.to_vec();
            for (offset, (name, time)) in (0u32..).zip(&moves) {
                events.push(Event {
                    id: format!("order-fix-{offset}"),
                    at: self.now,
                    recorded_at: self.now,
                    stated: false,
                    seq: u32::MAX - 16 + offset,
                    author: self.author.clone(),
                    change: Change::Milestone {
                        name: name.clone(),
                        time: Some(*time),
                    },
                });
            }
            current = Incident::replay(config, self.folder, self.declaration, &events);
        }
        None
    }
}

/// An incident that can never change state again (closed, cancelled, a
/// duplicate) is written to only when named by its whole id: a short
/// prefix typed at 3 a.m. more likely meant an open one.
fn ensure_named_in_full(config: &Config, incident: &Incident, query: &str) -> Result<()> {
    let final_state = config
        .state(&incident.status)
        .is_some_and(|s| !s.open && s.next.is_empty());
    if final_state && query.trim().to_ascii_lowercase() != incident.id {
        return Err(Error::FinalByPrefix {
            id: incident.id.clone(),
            status: incident.status.clone(),
            query: query.to_string(),
        });
    }
    Ok(())
}

/// Where the new status changes landed in the replayed chain: refuse what
/// the lifecycle does not allow there, with the command that helps, and
/// write down the state each one really moved from.
fn check_placement(
    config: &Config,
    zone: &Zone,
    (before, after): (&Incident, &Incident),
    events: &mut [Event],
    request: &UpdateRequest,
    confirmable: bool,
) -> Result<()> {
    let new_ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
    let ours = |id: Option<&str>| id.is_some_and(|id| new_ids.iter().any(|e| e == id));
    let allowed_from = |state: &str| {
        config
            .state(state)
            .map(|s| s.next.clone())
            .unwrap_or_default()
    };
    let legal = |from: &str, to: &str| from == to || allowed_from(from).iter().any(|n| n == to);
    let was_illegal = |from: &str, to: &str, event: Option<&str>| {
        before
            .transitions
            .iter()
            .any(|t| t.event.as_deref() == event && t.from.as_deref() == Some(from) && t.to == to)
    };
    let last = after.transitions.len().saturating_sub(1);
    for (index, transition) in after.transitions.iter().enumerate().skip(1) {
        let from = transition.from.clone().unwrap_or_default();
        let to = &transition.to;
        let event = transition.event.as_deref();
        if ours(event) {
            if from == *to && !(confirmable && index == last) {
                if index == last {
                    return Err(Error::InvalidInput {
                        message: format!("incident {} is already '{to}'", after.id),
                    });
                }
                return Err(Error::Contradiction {
                    message: format!(
                        "incident {} was already '{to}' at {} (since {})",
                        after.id,
                        zone.long(&transition.at),
                        zone.long(&after.transitions[index - 1].at)
                    ),
                    fix: "check the time (--at), or leave --status out to record only the rest"
                        .into(),
                });
            }
            if !config.is_open(to) && config.is_open(&from) {
                require_closing_text(to, request)?;
            }
            for event in events.iter_mut() {
                if Some(event.id.as_str()) == transition.event.as_deref()
                    && let Change::Status { from: stored, .. } = &mut event.change
                {
                    *stored = Some(from.clone());
                }
            }
        }
        if legal(&from, to) || was_illegal(&from, to, event) {
            continue;
        }
        let previous = &after.transitions[index - 1];
        if ours(event) && index == last && request.at.is_none() {
            return Err(Error::IllegalTransition {
                from,
                to: to.clone(),
                allowed: allowed_from(&previous.to),
            });
        }
        let allowed = allowed_from(&from);
        let fix = if ours(event) {
            format!(
                "give the time it really happened: `incident update {} --status {to} --at TIME`; `incident show {}` lists the status changes and their times",
                after.id, after.id
            )
        } else {
            format!(
                "'{from}' cannot be followed by '{to}' at {}: give your change a time after that (--at), or a status that may move on to '{to}'",
                zone.long(&transition.at)
            )
        };
        return Err(Error::Contradiction {
            message: format!(
                "the status would go from '{from}' ({}) to '{to}' ({}), which the lifecycle does not allow; allowed from '{from}': {}",
                zone.long(&previous.at),
                zone.long(&transition.at),
                if allowed.is_empty() {
                    "none (final state)".to_string()
                } else {
                    allowed.join(", ")
                }
            ),
            fix,
        });
    }
    if let Some(anomaly) = after
        .anomalies
        .iter()
        .find(|a| ours(Some(&a.event)) && !before.anomalies.contains(a))
    {
        return Err(Error::Contradiction {
            message: anomaly.message.clone(),
            fix: format!(
                "`incident show {}` lists the status changes and their times; give the milestone a time between its neighbours",
                after.id
            ),
        });
    }
    Ok(())
}

/// Closing an open incident says why: a resolution, the reason it was no
/// incident, or the incident it duplicates; whichever command does it.
fn require_closing_text(to: &str, request: &UpdateRequest) -> Result<()> {
    if request.duplicate_of.is_some() {
        return Ok(());
    }
    if to == "duplicate" {
        return Err(Error::MissingInput {
            what: "the incident this one duplicates".into(),
            flag: "--duplicate-of ID".into(),
        });
    }
    if request.reason.is_none() {
        let what = if to == "resolved" {
            "the resolution (what fixed it)".to_string()
        } else {
            format!("the reason for moving to '{to}'")
        };
        return Err(Error::MissingInput {
            what,
            flag: "--reason TEXT (or `incident resolve ID --resolution TEXT`, `incident cancel ID --reason TEXT`)".into(),
        });
    }
    Ok(())
}

/// Milestones that were facts before this update and are assumed after it:
/// a change recorded now stated an earlier time than they were written
/// down at (catch-up), or a clock is off. Says how to record the real time.
fn newly_assumed(zone: &Zone, before: &Incident, after: &Incident, now: &Timestamp) -> Vec<String> {
    let mut names = Vec::new();
    let mut bound = None;
    for (name, milestone) in &after.milestones {
        let was_fact = before
            .milestones
            .get(name)
            .is_some_and(|m| m.source == MilestoneSource::Recorded);
        if let MilestoneSource::Assumed(by) = &milestone.source
            && was_fact
        {
            names.push(name.clone());
            bound = Some((by.clone(), milestone.at));
        }
    }
    let Some((by, at)) = bound else {
        return Vec::new();
    };
    let settings: Vec<String> = names
        .iter()
        .map(|n| format!("--milestone {n}=TIME"))
        .collect();
    vec![format!(
        "assumed: {} happened no later than {by} ({}), since {} recorded without a time before it; record the real time with `incident update {} {}`",
        names.join(" and "),
        zone.describe(&at, now),
        if names.len() == 1 {
            "it was"
        } else {
            "they were"
        },
        after.id,
        settings.join(" ")
    )]
}

/// Status changes this update turned from facts into assumptions because
/// they were recorded by a clock ahead of this one: each is placed no
/// later than the change this update records. Says so, with the command
/// that records the real time, unless a notice in `told` gives it already.
fn changes_newly_assumed(
    config: &Config,
    before: &Incident,
    after: &Incident,
    now: &Timestamp,
    told: &[String],
) -> Vec<String> {
    let zone = config.zone();
    let was_fact = |event: &str| {
        before
            .status_changes()
            .iter()
            .any(|t| t.event.as_deref() == Some(event) && t.timing.is_fact())
    };
    after
        .status_changes()
        .iter()
        .filter(|t| {
            matches!(t.timing, Timing::NoLaterThan { recorded_at, .. } if recorded_at > *now)
                && t.event.as_deref().is_some_and(was_fact)
        })
        .filter_map(|t| {
            let command = config
                .state(&t.to)
                .and_then(|s| s.milestone.as_deref())
                .map(|m| format!("incident update {} --milestone {m}=TIME", after.id));
            if let Some(command) = &command
                && told.iter().any(|notice| notice.contains(command.as_str()))
            {
                return None;
            }
            let fix = command
                .map(|c| format!("; record its real time with `{c}`"))
                .unwrap_or_default();
            Some(format!(
                "the change to '{}' is placed at {} ({}){fix}",
                t.to,
                zone.describe(&t.at, now),
                t.timing.explain(&zone)
            ))
        })
        .collect()
}

/// Turn a request into validated changes against the incident as it is.
#[allow(clippy::too_many_arguments)]
fn plan_changes(
    store: &Store,
    tree: &git2::Tree<'_>,
    config: &Config,
    zone: &Zone,
    incident: &Incident,
    request: &UpdateRequest,
    at: Timestamp,
    now: Timestamp,
) -> Result<(Vec<Change>, Vec<String>)> {
    let mut changes = Vec::new();
    let mut notices = Vec::new();
    if let Some(title) = &request.title {
        require_text("title", "--title", title)?;
        if *title != incident.title {
            changes.push(Change::Title {
                title: title.clone(),
            });
        }
    }
    if let Some(summary) = &request.summary
        && *summary != incident.summary
    {
        changes.push(Change::Summary {
            text: summary.clone(),
        });
    }
    if let Some(severity) = &request.severity {
        let severity = config.check_severity(severity)?;
        if severity != incident.severity {
            changes.push(Change::Severity {
                to: severity,
                from: Some(incident.severity.clone()),
            });
        }
    }

    let mut milestones: Vec<(String, Option<Timestamp>)> = Vec::new();
    let mut target = match &request.status {
        Some(status) => Some(config.check_state(status)?),
        None => None,
    };
    if request.reopen {
        if incident.is_open(config) {
            return Err(Error::InvalidInput {
                message: format!(
                    "incident {} is still open ({}); nothing to reopen",
                    incident.id, incident.status
                ),
            });
        }
        let allowed = config
            .state(&incident.status)
            .map(|s| s.next.clone())
            .unwrap_or_default();
        target = Some(
            allowed
                .iter()
                .find(|s| config.is_open(s))
                .cloned()
                .ok_or_else(|| Error::IllegalTransition {
                    from: incident.status.clone(),
                    to: "an open state".into(),
                    allowed: allowed.clone(),
                })?,
        );
    }
    // Acknowledged already: say so, and record the rest (a second
    // responder's note is worth keeping).
    let mut acknowledged_already = None;
    if request.acknowledge {
        // Somebody acknowledged it: recorded, or recorded without a time
        // and placed earlier (not merely implied by a later state).
        if let Some(when) = incident.milestones.get("acknowledged").filter(|m| {
            m.source == MilestoneSource::Recorded
                || incident.milestone_timing.contains_key("acknowledged")
        }) {
            if request.at.is_some() && when.at != at {
                // A stated time corrects the acknowledgement (and the move
                // out of triage recorded with it).
                milestones.push(("acknowledged".into(), Some(at)));
                notices.push(format!(
                    "incident {} was acknowledged already, at {}; the acknowledgement is now at {}",
                    incident.id,
                    zone.describe(&when.at, &now),
                    zone.describe(&at, &now)
                ));
            } else {
                acknowledged_already = Some(when.at);
                notices.push(format!(
                    "incident {} was acknowledged already, at {}",
                    incident.id,
                    zone.describe(&when.at, &now)
                ));
            }
        } else {
            milestones.push(("acknowledged".into(), Some(at)));
            let leaves_triage = incident.status == config.lifecycle.initial;
            let next_open = config
                .state(&incident.status)
                .and_then(|s| s.next.iter().find(|n| config.is_open(n)).cloned());
            if target.is_none() && leaves_triage {
                target = next_open;
            }
        }
    }
    if let Some(to) = target {
        // Whether the lifecycle allows it depends on where its time puts
        // it among the status changes: checked after the replay.
        // (A status stated before the current one is history written
        // down, not a reopen; `reopen --at` itself must come after. Without
        // a time, a clock behind the one that resolved it is skew: the
        // replay places the reopen after the resolution, as assumed.)
        if request.reopen
            && request.at.is_some()
            && incident.last_status_change.is_some_and(|last| at < last)
        {
            return Err(Error::Contradiction {
                message: format!(
                    "a reopen at {} would be before the incident became '{}' at {}",
                    zone.long(&at),
                    incident.status,
                    zone.long(&incident.status_since)
                ),
                fix: format!(
                    "reopen with a later time (--at); if it went back to '{to}' before it was {}, record that with `incident update {} --status {to} --at TIME`",
                    incident.status, incident.id
                ),
            });
        }
        let duplicate_of = match &request.duplicate_of {
            Some(query) => {
                let original = store.find(tree, query)?;
                if original.id == incident.id {
                    return Err(Error::InvalidInput {
                        message: "an incident cannot be a duplicate of itself".into(),
                    });
                }
                Some(original.id)
            }
            None => None,
        };
        if let Some(reason) = &request.reason {
            require_text("reason", "--reason / --resolution", reason)?;
        }
        changes.push(Change::Status {
            to,
            from: Some(incident.status.clone()),
            text: request.reason.clone(),
            duplicate_of,
        });
    } else if request.reason.is_some() || request.duplicate_of.is_some() {
        return Err(Error::Usage {
            message: "a reason or --duplicate-of goes with a status change; add --status".into(),
        });
    }

    for (role, person) in &request.roles {
        let role = config.check_role(role)?;
        let current = incident.roles.get(&role).cloned();
        let name = if person.trim().is_empty() {
            None
        } else {
            Some(require_name(&role, person)?)
        };
        if name != current {
            changes.push(Change::Role {
                role,
                name,
                from: current,
            });
        }
    }
    for service in &request.add_services {
        let name = require_name("service", service)?;
        if !incident.services.contains(&name) {
            changes.push(Change::Service {
                name,
                removed: false,
            });
        }
    }
    for service in &request.remove_services {
        let name = require_name("service", service)?;
        if !incident.services.contains(&name) {
            return Err(Error::InvalidInput {
                message: format!(
                    "incident {} has no service '{name}'; its services: {}",
                    incident.id,
                    incident.services.join(", ")
                ),
            });
        }
        changes.push(Change::Service {
            name,
            removed: true,
        });
    }
    for url in &request.links {
        let url = require_name("link", url)?;
        if !incident.links.contains(&url) {
            changes.push(Change::Link { url });
        }
    }
    for rev in &request.caused_by {
        let rev = require_name("--caused-by", rev)?;
        if !incident.caused_by.contains(&rev) {
            changes.push(Change::Cause { rev });
        }
    }
    for (name, time) in &request.milestones {
        let name = config.check_milestone(name)?;
        let time = match time {
            Some(t) => parse_past_time(t, now, zone)?,
            None => at,
        };
        milestones.push((name, Some(time)));
    }
    for name in &request.clear_milestones {
        milestones.push((config.check_milestone(name)?, None));
    }
    for (name, time) in milestones {
        changes.push(Change::Milestone { name, time });
    }
    for note in &request.notes {
        require_text("note", "--note / -m", note)?;
        changes.push(Change::Note { text: note.clone() });
    }
    if changes.is_empty()
        && let Some(when) = acknowledged_already
    {
        return Err(Error::InvalidInput {
            message: format!(
                "incident {} was acknowledged already, at {}",
                incident.id,
                zone.long(&when)
            ),
        });
    }
    if changes.is_empty() {
        return Err(Error::Usage {
            message: format!(
                "nothing to record for incident {}: the request changes nothing (give --status, --note, --severity, --role, --milestone, ...)",
                incident.id
            ),
        });
    }
    Ok((changes, notices))
}

fn message_for(
    before: &Incident,
    events: &[Event],
    request: &UpdateRequest,
    at: Timestamp,
    zone: &Zone,
) -> String {
    let describe = |change: &Change| match change {
        Change::Status { to, .. } => format!("status {} → {to}", before.status),
        Change::Severity { to, .. } => format!("severity {} → {to}", before.severity),
        Change::Note { .. } => "note".into(),
        Change::Role { role, name, .. } => {
            format!("{role} {}", name.as_deref().unwrap_or("unassigned"))
        }
        Change::Service { name, removed } => {
            format!("{} service {name}", if *removed { "remove" } else { "add" })
        }
        Change::Link { .. } => "link".into(),
        Change::Milestone { name, time } => match time {
            Some(_) => format!("milestone {name}"),
            None => format!("clear milestone {name}"),
        },
        Change::Title { .. } => "title".into(),
        Change::Summary { .. } => "summary".into(),
        Change::Cause { rev } => format!("caused by {rev}"),
        Change::Comms(update) => format!("{} update", update.audience),
        Change::PostmortemDue { .. } => "postmortem due".into(),
    };
    let mut parts: Vec<String> = Vec::new();
    for event in events {
        let part = describe(&event.change);
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    let subject = match &request.verb {
        Some(verb) => format!("{verb} incident {}: {}", before.id, before.title),
        None => format!("Update incident {}: {}", before.id, parts.join(", ")),
    };
    let mut body = Vec::new();
    if request.verb.is_some() {
        body.push(format!("Changes: {}", parts.join(", ")));
    }
    for event in events {
        match &event.change {
            Change::Note { text } => body.push(format!("Note: {}", one_line(text, 200))),
            Change::Status {
                text: Some(text), ..
            } => body.push(format!("Reason: {}", one_line(text, 200))),
            _ => {}
        }
    }
    if request.at.is_some() {
        body.push(format!("Happened at {}.", zone.long(&at)));
    }
    let mut trailers = vec![("Incident", before.id.clone())];
    for event in events {
        trailers.push(("Incident-Event", event_trailer(&event.change)));
    }
    trailers.push(("Incident-At", at.to_rfc3339()));
    commit_message(&subject, &body, &trailers)
}
