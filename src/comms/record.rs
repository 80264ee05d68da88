//! `incident comms ID`: record one update to an audience, in one commit.

use std::collections::BTreeMap;

use crate::comms::{self, PUBLIC};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::event::{Change, Communication, Event};
use crate::model::incident::Incident;
use crate::ops::{
    commit_message, event_file_path, event_id, new_event_prefix, one_line, parse_past_time,
    require_name, require_text,
};
use crate::store::write::{Committed, FileWrite, Plan};
use crate::store::{DECLARATION_FILE, EVENTS_DIR, Store};
use crate::time::{self, Timestamp, Zone};

/// What one `incident comms ID` call records.
#[derive(Debug, Default, Clone)]
pub struct CommsRequest {
    pub audience: String,
    /// Public status; default: the one that matches the incident's state.
    pub status: Option<String>,
    pub text: String,
    /// The incident's public name; the first public update needs one.
    pub public_title: Option<String>,
    /// (component, state) as typed.
    pub components: Vec<(String, String)>,
    /// `20m` (after the update), a time, or `none`; default from the cadence.
    pub next_update: Option<String>,
    /// Whether data was lost: a resolving public update must say.
    pub data_loss: Option<bool>,
    /// When it was posted; default now.
    pub at: Option<String>,
    /// The public impact (none, minor, major, critical); default: from the
    /// component states.
    pub impact: Option<String>,
}

#[derive(Debug)]
pub struct CommsOutcome {
    pub incident: Incident,
    pub event: Event,
    pub committed: Committed,
    /// Component states the update took from the incident's services or
    /// resolution, because none were given.
    pub defaulted_components: bool,
}

pub fn record(
    store: &Store,
    query: &str,
    request: &CommsRequest,
    now: Timestamp,
) -> Result<CommsOutcome> {
    let config = store.config()?;
    let zone = config.zone();
    let at = match &request.at {
        Some(t) => parse_past_time(t, now, &zone)?,
        None => now,
    };
    let mut incident_id: Option<String> = None;
    let mut prefix: Option<String> = None;
    let (committed, (incident, event, defaulted)) = store.commit_with(now, |attempt| {
        let tree = attempt.tree.ok_or_else(|| Error::NotFound {
            query: query.into(),
        })?;
        // Retries must find the same incident even if a new one now shares the prefix.
        let folder = store.find(tree, incident_id.as_deref().unwrap_or(query))?;
        incident_id = Some(folder.id.clone());
        let (declaration, mut events) = store.read_files(tree, &folder)?;
        let before = Incident::replay(&config, &folder.path, &declaration, &events);
        let (update, defaulted) = plan(&config, &zone, &before, request, at)?;
        // The event id stays the same from one attempt to the next.
        let prefix = match &prefix {
            Some(p) => p.clone(),
            None => prefix.insert(new_event_prefix(&now)?).clone(),
        };
        let change = Change::Comms(update);
        let event = Event {
            id: event_id(&prefix, &change),
            at,
            recorded_at: now,
            stated: request.at.is_some(),
            seq: events
                .iter()
                .map(|e| e.seq)
                .max()
                .map_or(0, |s| s.saturating_add(1)),
            author: attempt.identity.author.clone(),
            change,
        };
        let file = FileWrite {
            path: event_file_path(&folder.path, &event),
            content: event.to_toml()?.into_bytes(),
        };
        let message = message_for(&before, &event, request.at.is_some(), &zone);
        events.push(event.clone());
        let after = Incident::replay(&config, &folder.path, &declaration, &events);
        Ok((
            Plan {
                message,
                files: vec![file],
                guard: vec![
                    format!("{}/{DECLARATION_FILE}", folder.path),
                    format!("{}/{EVENTS_DIR}", folder.path),
                ],
            },
            (after, event, defaulted),
        ))
    })?;
    Ok(CommsOutcome {
        incident,
        event,
        committed,
        defaulted_components: defaulted,
    })
}

/// Refuse a request whose text is still to be written (before the editor
/// opens) for what `record` would refuse it for, so nobody types an update
/// that a missing flag then throws away.
pub fn check_before_text(
    store: &Store,
    query: &str,
    request: &CommsRequest,
    now: Timestamp,
) -> Result<()> {
    let config = store.config()?;
    let zone = config.zone();
    let at = match &request.at {
        Some(t) => parse_past_time(t, now, &zone)?,
        None => now,
    };
    let tree = store.head_tree()?.ok_or_else(|| Error::NotFound {
        query: query.into(),
    })?;
    let folder = store.find(&tree, query)?;
    let incident = store.load(&config, &tree, &folder)?;
    let probe = CommsRequest {
        text: "(the text to be written)".into(),
        ..request.clone()
    };
    plan(&config, &zone, &incident, &probe, at).map(|_| ())
}

/// Validate a request against the incident as it is.
fn plan(
    config: &Config,
    zone: &Zone,
    incident: &Incident,
    request: &CommsRequest,
    at: Timestamp,
) -> Result<(Communication, bool)> {
    let audience = config.check_audience(&request.audience)?;
    require_text(
        "update text",
        "-m TEXT, -F FILE or --template NAME",
        &request.text,
    )?;
    let public = audience == PUBLIC;
    let only_public = |flag: &str| Error::Usage {
        message: format!("{flag} goes with public updates (--audience {PUBLIC})"),
    };
    if !public {
        for (given, flag) in [
            (request.status.is_some(), "--status"),
            (!request.components.is_empty(), "--component"),
            (request.public_title.is_some(), "--public-title"),
            (request.data_loss.is_some(), "--data-loss"),
            (request.impact.is_some(), "--impact"),
        ] {
            if given {
                return Err(only_public(flag));
            }
        }
    }
    let status = if public {
        Some(match &request.status {
            Some(given) => Config::canonical(
                "public status",
                given,
                comms::PUBLIC_STATUSES
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            )?,
            None => comms::default_public_status(config, incident).to_string(),
        })
    } else {
        None
    };
    let resolving = status.as_deref() == Some("resolved");
    let title = match &request.public_title {
        Some(title) => Some(require_name("--public-title", title)?),
        None => None,
    };
    let untitled = comms::public_state(incident).is_none_or(|p| p.title.is_empty());
    if public && title.is_none() && untitled {
        return Err(Error::MissingInput {
            what: format!(
                "the public title of incident {} (the first public update names it on the status page; its own title stays internal)",
                incident.id
            ),
            flag: "--public-title TEXT".into(),
        });
    }
    if resolving && request.data_loss.is_none() {
        return Err(Error::MissingInput {
            what: "whether data was lost (a resolving public update must say)".into(),
            flag: "--data-loss no (or --data-loss yes)".into(),
        });
    }
    if request.data_loss.is_some() && !resolving {
        return Err(Error::Usage {
            message: "--data-loss goes with the resolving public update (--status resolved)".into(),
        });
    }
    let impact = match &request.impact {
        Some(given) => Some(Config::canonical(
            "impact",
            given,
            comms::IMPACTS.iter().map(|s| s.to_string()).collect(),
        )?),
        None => None,
    };
    let mut components = BTreeMap::new();
    for (component, state) in &request.components {
        components.insert(
            config.check_component(component)?,
            comms::component_state(state)?,
        );
    }
    let mut defaulted = false;
    if public && components.is_empty() {
        components =
            comms::default_components(config, incident, status.as_deref().unwrap_or_default());
        defaulted = !components.is_empty();
    }
    let next_update = match request.next_update.as_deref().map(str::trim) {
        Some("none") => None,
        Some(_) if resolving => {
            return Err(Error::Usage {
                message: "a resolving update promises no next one; leave out --next-update".into(),
            });
        }
        Some(given) => Some(next_update_time(given, at, zone)?),
        None if resolving => None,
        None => comms::cadence_next(config, incident, &audience, at),
    };
    Ok((
        Communication {
            audience,
            status,
            text: request.text.clone(),
            title,
            components,
            next_update,
            data_loss: request.data_loss,
            impact,
        },
        defaulted,
    ))
}

/// `20m` (after the update), or a time (RFC 3339, `YYYY-MM-DD HH:MM`, or
/// `HH:MM`: the next such time after the update).
pub fn next_update_time(given: &str, at: Timestamp, zone: &Zone) -> Result<Timestamp> {
    let bad = |reason: &str| Error::BadTime {
        input: given.to_string(),
        reason: reason.to_string(),
    };
    let relative = given.strip_prefix("in ").unwrap_or(given);
    let t = if let Some(span) = time::parse_relative(relative) {
        at + span
    } else if let Ok(clock) = chrono::NaiveTime::parse_from_str(given, "%H:%M") {
        let day = zone.convert(&at).date_naive();
        let missing = || bad("that wall-clock time does not exist in this time zone");
        let today = zone.localize(day.and_time(clock)).ok_or_else(missing)?;
        if today > at {
            today
        } else {
            zone.localize((day + chrono::Duration::days(1)).and_time(clock))
                .ok_or_else(missing)?
        }
    } else {
        time::parse_time(given, at, zone)?
    };
    if t <= at {
        return Err(bad(
            "the next update must come after this one; give a duration such as 20m or a later time",
        ));
    }
    Ok(t)
}

fn message_for(before: &Incident, event: &Event, backdated: bool, zone: &Zone) -> String {
    let Change::Comms(update) = &event.change else {
        return String::new();
    };
    let what = match &update.status {
        Some(status) => format!("{} update ({status})", update.audience),
        None => format!("{} update", update.audience),
    };
    let subject = format!("Post {what} for incident {}: {}", before.id, before.title);
    let mut body = vec![format!("Text: {}", one_line(&update.text, 200))];
    if let Some(next) = update.next_update {
        body.push(format!("Next update due {}.", zone.long(&next)));
    }
    if backdated {
        body.push(format!("Posted at {}.", zone.long(&event.at)));
    }
    commit_message(
        &subject,
        &body,
        &[
            ("Incident", before.id.clone()),
            ("Incident-Event", "comms".into()),
            ("Incident-Audience", update.audience.clone()),
            ("Incident-At", event.at.to_rfc3339()),
        ],
    )
}
