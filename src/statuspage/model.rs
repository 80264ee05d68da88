//! What the status page shows, derived from the repository at one commit.
//!
//! This is the privacy boundary: the renderers see only these types, and
//! these hold only what is public by definition: the config's components
//! and page settings, the public updates of incidents (their text, public
//! title, public status, component states and promised next update),
//! scheduled maintenances, and times. Incident titles, notes, causes,
//! roles, people, internal and executive updates never get here.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};

use crate::comms::{self, COMPONENT_STATES, PUBLIC};
use crate::config::Config;
use crate::maintenance::{Maintenance, Phase, Step};
use crate::model::incident::Incident;
use crate::time::{Timestamp, Zone};

/// How many days the per-component bars cover.
pub const BAR_DAYS: i64 = 90;

#[derive(Debug, Clone)]
pub struct Page {
    pub id: String,
    pub name: String,
    /// Where the page is published, without a trailing slash; may be empty.
    pub url: String,
    pub zone: Zone,
    /// The moment the page describes: the commit time of the commit built.
    pub as_of: Timestamp,
    /// The latest public change at or before `as_of`.
    pub updated_at: Timestamp,
    pub indicator: &'static str,
    pub description: &'static str,
    pub components: Vec<PageComponent>,
    pub groups: Vec<PageGroup>,
    /// Every public incident, newest first.
    pub incidents: Vec<PageIncident>,
    /// Every maintenance, soonest window last.
    pub maintenances: Vec<PageMaintenance>,
}

#[derive(Debug, Clone)]
pub struct PageComponent {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Group id, when in a group.
    pub group: Option<String>,
    pub position: usize,
    pub status: String,
    pub updated_at: Timestamp,
    pub only_show_if_degraded: bool,
    /// The last [`BAR_DAYS`] days, oldest first.
    pub days: Vec<Day>,
    /// Share of the bar period the component was up, weighting a major
    /// outage fully and a partial outage at 30% (Statuspage's rule).
    pub uptime: f64,
}

#[derive(Debug, Clone)]
pub struct Day {
    pub date: NaiveDate,
    /// The worst state of the day.
    pub state: String,
    /// Public names of the incidents and maintenances of the day.
    pub events: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct PageGroup {
    pub id: String,
    pub name: String,
    pub position: usize,
    pub status: String,
    pub updated_at: Timestamp,
    pub components: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct PageIncident {
    pub id: String,
    pub name: String,
    pub status: String,
    pub impact: &'static str,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub started_at: Timestamp,
    pub monitoring_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    /// Newest first.
    pub updates: Vec<PageUpdate>,
    /// Component ids this incident affected, in config order.
    pub components: Vec<String>,
    /// `Some(link)` once the postmortem is published (the link only when
    /// `[status_page] postmortem_url` is set).
    pub postmortem: Option<Option<String>>,
}

impl PageIncident {
    pub fn unresolved(&self) -> bool {
        self.status != "resolved"
    }
}

#[derive(Debug, Clone)]
pub struct PageUpdate {
    pub id: String,
    pub status: String,
    pub body: String,
    pub at: Timestamp,
    pub next_update: Option<Timestamp>,
    /// (component id, old state, new state).
    pub affected: Vec<(String, String, String)>,
}

#[derive(Debug, Clone)]
pub struct PageMaintenance {
    pub id: String,
    pub name: String,
    /// Phase at `as_of`.
    pub phase: Phase,
    pub scheduled_for: Timestamp,
    pub scheduled_until: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    pub components: Vec<String>,
    /// Newest first.
    pub updates: Vec<PageUpdate>,
}

/// Rank of a component state: higher is worse.
pub fn severity(state: &str) -> usize {
    COMPONENT_STATES
        .iter()
        .position(|s| *s == state)
        .unwrap_or(0)
}

fn worst<'a>(a: &'a str, b: &'a str) -> &'a str {
    if severity(b) > severity(a) { b } else { a }
}

/// The page indicator a component state rolls up to.
fn indicator_of(state: &str) -> &'static str {
    match state {
        "major_outage" => "critical",
        "partial_outage" => "major",
        "degraded_performance" => "minor",
        "under_maintenance" => "maintenance",
        _ => "none",
    }
}

const INDICATORS: [&str; 5] = ["none", "maintenance", "minor", "major", "critical"];

fn worst_indicator(a: &'static str, b: &'static str) -> &'static str {
    let rank = |i: &str| INDICATORS.iter().position(|x| *x == i).unwrap_or(0);
    if rank(b) > rank(a) { b } else { a }
}

/// Statuspage's descriptions of the indicators.
pub fn describe(indicator: &str) -> &'static str {
    match indicator {
        "critical" => "Major System Outage",
        "major" => "Partial System Outage",
        "minor" => "Minor Service Outage",
        "maintenance" => "Service Under Maintenance",
        _ => "All Systems Operational",
    }
}

/// A span during which a component was in a state.
struct Span {
    component: String,
    state: String,
    from: Timestamp,
    to: Timestamp,
    name: String,
}

/// Inputs of one build.
pub struct Sources<'a> {
    pub config: &'a Config,
    pub incidents: &'a [Incident],
    pub maintenances: &'a [Maintenance],
    /// Incident ids whose postmortem is published at the commit.
    pub published_postmortems: &'a BTreeSet<String>,
    pub as_of: Timestamp,
    pub base_url: &'a str,
}

pub fn build(sources: &Sources<'_>) -> Page {
    let config = sources.config;
    let as_of = sources.as_of;
    let known: BTreeSet<&str> = config.components.iter().map(|c| c.id.as_str()).collect();
    let mut spans: Vec<Span> = Vec::new();
    let mut incidents: Vec<PageIncident> = Vec::new();
    let mut touched: BTreeMap<String, Timestamp> = BTreeMap::new();
    for incident in sources.incidents {
        if let Some(page_incident) = public_incident(sources, incident, &known, &mut spans) {
            for update in &page_incident.updates {
                for (component, _, _) in &update.affected {
                    let entry = touched.entry(component.clone()).or_insert(update.at);
                    *entry = (*entry).max(update.at);
                }
            }
            incidents.push(page_incident);
        }
    }
    incidents.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));

    let mut maintenances = Vec::new();
    for maintenance in sources.maintenances {
        let page_maintenance = public_maintenance(maintenance, as_of, &known);
        let begun = maintenance.began_at();
        let ended = maintenance.ended_at();
        let ran = !(maintenance.phase(ended) == Phase::Cancelled && begun >= ended);
        if ran && begun <= as_of {
            for component in &page_maintenance.components {
                spans.push(Span {
                    component: component.clone(),
                    state: "under_maintenance".into(),
                    from: begun,
                    to: ended.min(as_of),
                    name: page_maintenance.name.clone(),
                });
            }
        }
        for component in &page_maintenance.components {
            let entry = touched
                .entry(component.clone())
                .or_insert(page_maintenance.updated_at);
            *entry = (*entry).max(page_maintenance.updated_at);
        }
        maintenances.push(page_maintenance);
    }

    let mut updated_at = incidents
        .iter()
        .map(|i| i.updated_at)
        .chain(maintenances.iter().map(|m| m.updated_at))
        .max()
        .unwrap_or(as_of);
    updated_at = updated_at.min(as_of);

    // Current component states: the worst an unresolved incident or an
    // active maintenance gives it.
    let mut current: BTreeMap<String, String> = BTreeMap::new();
    for incident in incidents.iter().filter(|i| i.unresolved()) {
        for (component, state) in latest_states(incident) {
            let entry = current
                .entry(component)
                .or_insert_with(|| "operational".into());
            *entry = worst(entry, &state).to_string();
        }
    }
    for maintenance in maintenances.iter().filter(|m| m.phase == Phase::InProgress) {
        for component in &maintenance.components {
            let entry = current
                .entry(component.clone())
                .or_insert_with(|| "operational".into());
            *entry = worst(entry, "under_maintenance").to_string();
        }
    }

    let zone = config.status_page.zone();
    let today = zone.convert(&as_of).date_naive();
    let mut components = Vec::new();
    let mut groups: Vec<PageGroup> = Vec::new();
    for (index, component) in config.components.iter().enumerate() {
        let status = current
            .get(&component.id)
            .cloned()
            .unwrap_or_else(|| "operational".into());
        let group = (!component.group.trim().is_empty()).then(|| group_id(&component.group));
        let component_updated = touched.get(&component.id).copied().unwrap_or(updated_at);
        if let Some(group_id) = &group {
            match groups.iter_mut().find(|g| &g.id == group_id) {
                Some(existing) => {
                    existing.status = worst(&existing.status, &status).to_string();
                    existing.updated_at = existing.updated_at.max(component_updated);
                    existing.components.push(component.id.clone());
                }
                None => groups.push(PageGroup {
                    id: group_id.clone(),
                    name: component.group.trim().to_string(),
                    position: index + 1,
                    status: status.clone(),
                    updated_at: component_updated,
                    components: vec![component.id.clone()],
                }),
            }
        }
        let (days, uptime) = bars(&spans, &component.id, today, &zone, as_of);
        components.push(PageComponent {
            id: component.id.clone(),
            name: component.name.clone(),
            description: component.description.clone(),
            group,
            position: index + 1,
            status,
            updated_at: component_updated,
            only_show_if_degraded: component.only_show_if_degraded,
            days,
            uptime,
        });
    }

    let mut indicator = "none";
    for component in &components {
        indicator = worst_indicator(indicator, indicator_of(&component.status));
    }
    // An unresolved incident that names no component still turns the banner.
    for incident in incidents.iter().filter(|i| i.unresolved()) {
        if latest_states(incident).is_empty() {
            indicator = worst_indicator(indicator, "minor");
        }
    }
    let page = &config.status_page;
    let url = if sources.base_url.is_empty() {
        page.url.trim_end_matches('/').to_string()
    } else {
        sources.base_url.trim_end_matches('/').to_string()
    };
    Page {
        id: page.page_id(),
        name: page.name.clone(),
        url,
        zone,
        as_of,
        updated_at,
        indicator,
        description: describe(indicator),
        components,
        groups,
        incidents,
        maintenances,
    }
}

pub fn group_id(name: &str) -> String {
    let slug = crate::model::id::slugify(name);
    format!(
        "group-{}",
        if slug.is_empty() { "components" } else { &slug }
    )
}

/// Each component's state by the incident's latest public update.
fn latest_states(incident: &PageIncident) -> BTreeMap<String, String> {
    let mut states = BTreeMap::new();
    for update in incident.updates.iter().rev() {
        for (component, _, new) in &update.affected {
            states.insert(component.clone(), new.clone());
        }
    }
    states
}

/// The public side of one incident; `None` when it was never public.
fn public_incident(
    sources: &Sources<'_>,
    incident: &Incident,
    known: &BTreeSet<&str>,
    spans: &mut Vec<Span>,
) -> Option<PageIncident> {
    let config = sources.config;
    let public = comms::public_state(incident)?;
    let mut states: BTreeMap<String, String> = BTreeMap::new();
    let mut updates = Vec::new();
    let mut monitoring_at = None;
    let mut resolved_at = None;
    let mut status = comms::PUBLIC_STATUSES[0].to_string();
    let mut worst_state = "operational".to_string();
    // The impact a public update stated (the latest), over the derived one.
    let mut stated_impact: Option<&'static str> = None;
    let mut components: BTreeSet<String> = BTreeSet::new();
    // (component, state, since)
    let mut open_spans: BTreeMap<String, (String, Timestamp)> = BTreeMap::new();
    let close = |spans: &mut Vec<Span>,
                 component: &str,
                 until: Timestamp,
                 open: &mut BTreeMap<String, (String, Timestamp)>| {
        if let Some((state, since)) = open.remove(component)
            && state != "operational"
        {
            spans.push(Span {
                component: component.to_string(),
                state,
                from: since,
                to: until,
                name: public.title.clone(),
            });
        }
    };
    for (event, update) in comms::updates(incident, Some(PUBLIC)) {
        if event.at > sources.as_of {
            continue;
        }
        if let Some(s) = &update.status {
            status = s.clone();
        }
        if let Some(impact) = &update.impact {
            stated_impact = comms::IMPACTS.iter().copied().find(|i| i == impact);
        }
        if status == "monitoring" && monitoring_at.is_none() {
            monitoring_at = Some(event.at);
        }
        if status == "resolved" {
            resolved_at.get_or_insert(event.at);
        } else {
            resolved_at = None;
        }
        let mut affected = Vec::new();
        for (component, new) in &update.components {
            if !known.contains(component.as_str()) {
                continue;
            }
            let old = states
                .get(component)
                .cloned()
                .unwrap_or_else(|| "operational".into());
            close(spans, component, event.at, &mut open_spans);
            open_spans.insert(component.clone(), (new.clone(), event.at));
            states.insert(component.clone(), new.clone());
            worst_state = worst(&worst_state, new).to_string();
            components.insert(component.clone());
            affected.push((component.clone(), old, new.clone()));
        }
        updates.push(PageUpdate {
            id: event.id.clone(),
            status: status.clone(),
            body: comms::published_text(update),
            at: event.at,
            next_update: update.next_update,
            affected,
        });
    }
    let first = updates.first()?.at;
    let mut last = updates.last().map_or(first, |u| u.at);
    // Over inside (resolved, cancelled) though the public was not told: the
    // page says resolved, as of when it ended, and its components recover.
    if status != "resolved" && !incident.is_open(config) && incident.status_since <= sources.as_of {
        status = "resolved".into();
        let ended = incident
            .milestone("resolved")
            .unwrap_or(incident.status_since)
            .max(last);
        resolved_at = Some(ended);
        last = ended;
    }
    let end = resolved_at.unwrap_or(sources.as_of);
    let open: Vec<String> = open_spans.keys().cloned().collect();
    for component in open {
        close(spans, &component, end, &mut open_spans);
    }
    let started_at = incident
        .milestones
        .get("started")
        .filter(|m| m.is_recorded())
        .map(|m| m.at)
        .filter(|t| *t < first)
        .unwrap_or(first);
    updates.reverse();
    let postmortem = sources
        .published_postmortems
        .contains(&incident.id)
        .then(|| {
            let pattern = &config.status_page.postmortem_url;
            (!pattern.is_empty()).then(|| pattern.replace("{id}", &incident.id))
        });
    Some(PageIncident {
        id: incident.id.clone(),
        name: public.title,
        status,
        impact: stated_impact.unwrap_or_else(|| indicator_of(&worst_state)),
        created_at: first,
        updated_at: last,
        started_at,
        monitoring_at,
        resolved_at,
        updates,
        components: config
            .components
            .iter()
            .filter(|c| components.contains(&c.id))
            .map(|c| c.id.clone())
            .collect(),
        postmortem,
    })
}

fn public_maintenance(
    maintenance: &Maintenance,
    as_of: Timestamp,
    known: &BTreeSet<&str>,
) -> PageMaintenance {
    let record = &maintenance.record;
    let mut updates = vec![PageUpdate {
        id: format!("{}-scheduled", record.id),
        status: "scheduled".into(),
        body: if record.description.trim().is_empty() {
            format!("Scheduled maintenance: {}", record.title)
        } else {
            record.description.clone()
        },
        at: record.recorded_at,
        next_update: None,
        affected: Vec::new(),
    }];
    let mut updated_at = record.recorded_at;
    for event in maintenance.events.iter().filter(|e| e.at <= as_of) {
        let (status, default) = match event.step {
            Step::Start => ("in_progress", "The scheduled maintenance is in progress."),
            Step::Complete => ("completed", "The scheduled maintenance has been completed."),
            Step::Cancel => ("completed", "The scheduled maintenance has been cancelled."),
        };
        let body = match (&event.text, event.step) {
            (Some(text), Step::Cancel) => format!("Cancelled: {text}"),
            (Some(text), _) => text.clone(),
            (None, _) => default.to_string(),
        };
        updates.push(PageUpdate {
            id: event.id.clone(),
            status: status.into(),
            body,
            at: event.at,
            next_update: None,
            affected: Vec::new(),
        });
        updated_at = updated_at.max(event.at);
    }
    let phase = maintenance.phase(as_of);
    // The window passing is a change too, when nobody recorded one.
    for boundary in [record.scheduled_for, record.scheduled_until] {
        if boundary <= as_of && phase != Phase::Cancelled {
            updated_at = updated_at.max(boundary.min(maintenance.ended_at()));
        }
    }
    updates.reverse();
    let started_at = matches!(phase, Phase::InProgress | Phase::Completed)
        .then(|| maintenance.began_at())
        .filter(|t| *t <= as_of);
    let ended_at = matches!(phase, Phase::Completed | Phase::Cancelled)
        .then(|| maintenance.ended_at().min(as_of));
    PageMaintenance {
        id: record.id.clone(),
        name: record.title.clone(),
        phase,
        scheduled_for: record.scheduled_for,
        scheduled_until: record.scheduled_until,
        created_at: record.recorded_at,
        updated_at: updated_at.min(as_of.max(record.recorded_at)),
        started_at,
        ended_at,
        components: record
            .components
            .iter()
            .filter(|c| known.contains(c.as_str()))
            .cloned()
            .collect(),
        updates,
    }
}

/// The per-day bars of one component and its uptime over them.
fn bars(
    spans: &[Span],
    component: &str,
    today: NaiveDate,
    zone: &Zone,
    as_of: Timestamp,
) -> (Vec<Day>, f64) {
    let first_day = today - Duration::days(BAR_DAYS - 1);
    let start_of = |day: NaiveDate| {
        zone.localize(day.and_time(chrono::NaiveTime::MIN))
            .unwrap_or(as_of)
    };
    let period_start = start_of(first_day);
    let mut days = Vec::new();
    for offset in 0..BAR_DAYS {
        let date = first_day + Duration::days(offset);
        let (from, to) = (start_of(date), start_of(date + Duration::days(1)));
        let mut state = "operational".to_string();
        let mut events: Vec<String> = Vec::new();
        for span in spans.iter().filter(|s| s.component == component) {
            if span.from < to && span.to > from {
                state = worst(&state, &span.state).to_string();
                if !events.contains(&span.name) {
                    events.push(span.name.clone());
                }
            }
        }
        days.push(Day {
            date,
            state,
            events,
        });
    }
    let total = (as_of - period_start).num_seconds().max(1) as f64;
    let down = downtime(spans, component, period_start, as_of);
    (days, (1.0 - down / total).clamp(0.0, 1.0))
}

/// Seconds of downtime of one component between `from` and `to`, a major
/// outage counting fully and a partial one at 30%. Where incidents overlap,
/// each moment counts once, at the worst state any of them gives it: two
/// incidents on one component in the same hour are one hour of outage.
fn downtime(spans: &[Span], component: &str, from: Timestamp, to: Timestamp) -> f64 {
    let weight = |state: &str| match state {
        "major_outage" => 1.0,
        "partial_outage" => 0.3,
        _ => 0.0,
    };
    let mine: Vec<(Timestamp, Timestamp, f64)> = spans
        .iter()
        .filter(|s| s.component == component)
        .map(|s| (s.from.max(from), s.to.min(to), weight(&s.state)))
        .filter(|(start, end, w)| end > start && *w > 0.0)
        .collect();
    let mut cuts: Vec<Timestamp> = mine.iter().flat_map(|(s, e, _)| [*s, *e]).collect();
    cuts.sort();
    cuts.dedup();
    cuts.windows(2)
        .map(|pair| {
            let worst = mine
                .iter()
                .filter(|(s, e, _)| *s <= pair[0] && *e >= pair[1])
                .map(|(_, _, w)| *w)
                .fold(0.0, f64::max);
            worst * (pair[1] - pair[0]).num_seconds() as f64
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(state: &str, from: &str, to: &str) -> Span {
        let at = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap();
        Span {
            component: "api".into(),
            state: state.into(),
            from: at(from),
            to: at(to),
            name: "x".into(),
        }
    }

    #[test]
    fn overlapping_incidents_count_each_moment_once_at_the_worst_state() {
        let at = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap();
        let (from, to) = (at("2026-11-24T00:00:00Z"), at("2026-11-25T00:00:00Z"));
        // Two major outages over the same hour are one hour, not two.
        let same_hour = [
            span(
                "major_outage",
                "2026-11-24T10:00:00Z",
                "2026-11-24T11:00:00Z",
            ),
            span(
                "major_outage",
                "2026-11-24T10:00:00Z",
                "2026-11-24T11:00:00Z",
            ),
        ];
        assert_eq!(downtime(&same_hour, "api", from, to), 3600.0);
        // A partial outage 10:00-12:00 and a major one 11:00-11:30 inside it:
        // 1.5 h at 30% plus 0.5 h fully.
        let nested = [
            span(
                "partial_outage",
                "2026-11-24T10:00:00Z",
                "2026-11-24T12:00:00Z",
            ),
            span(
                "major_outage",
                "2026-11-24T11:00:00Z",
                "2026-11-24T11:30:00Z",
            ),
        ];
        assert!((downtime(&nested, "api", from, to) - (0.3 * 5400.0 + 1800.0)).abs() < 1e-6);
        // Clipped to the period; other components and states do not count.
        let edges = [
            span(
                "major_outage",
                "2026-11-23T23:00:00Z",
                "2026-11-24T01:00:00Z",
            ),
            span(
                "degraded_performance",
                "2026-11-24T05:00:00Z",
                "2026-11-24T06:00:00Z",
            ),
            Span {
                component: "web".into(),
                ..span(
                    "major_outage",
                    "2026-11-24T05:00:00Z",
                    "2026-11-24T06:00:00Z",
                )
            },
        ];
        assert_eq!(downtime(&edges, "api", from, to), 3600.0);
    }
}
