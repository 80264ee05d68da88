//! The page in Atlassian Statuspage's public v2 JSON shape, so that
//! aggregators, monitors and Zabbix templates read it unchanged.

use std::collections::BTreeMap;

use serde::Serialize;

use super::model::{Page, PageComponent, PageIncident, PageMaintenance, PageUpdate};
use crate::maintenance::Phase;
use crate::time::Timestamp;

/// RFC 3339 in UTC with milliseconds, as Statuspage writes times.
pub fn time(t: &Timestamp) -> String {
    t.with_timezone(&chrono::Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[derive(Serialize)]
struct PageJson<'a> {
    id: &'a str,
    name: &'a str,
    url: &'a str,
    time_zone: String,
    updated_at: String,
}

#[derive(Serialize)]
struct StatusJson<'a> {
    indicator: &'a str,
    description: &'a str,
}

#[derive(Serialize)]
struct ComponentJson<'a> {
    id: &'a str,
    name: &'a str,
    status: &'a str,
    created_at: String,
    updated_at: String,
    position: usize,
    description: Option<&'a str>,
    showcase: bool,
    start_date: Option<String>,
    group_id: Option<&'a str>,
    page_id: &'a str,
    group: bool,
    only_show_if_degraded: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    components: Option<&'a [String]>,
}

#[derive(Serialize)]
struct AffectedJson<'a> {
    code: &'a str,
    name: &'a str,
    old_status: &'a str,
    new_status: &'a str,
}

#[derive(Serialize)]
struct UpdateJson<'a> {
    id: &'a str,
    status: &'a str,
    body: &'a str,
    incident_id: &'a str,
    created_at: String,
    updated_at: String,
    display_at: String,
    affected_components: Option<Vec<AffectedJson<'a>>>,
    deliver_notifications: bool,
    custom_tweet: Option<String>,
    tweet_id: Option<String>,
}

#[derive(Serialize)]
struct IncidentJson<'a> {
    id: &'a str,
    name: &'a str,
    status: &'a str,
    created_at: String,
    updated_at: String,
    monitoring_at: Option<String>,
    resolved_at: Option<String>,
    impact: &'a str,
    shortlink: String,
    started_at: String,
    page_id: &'a str,
    incident_updates: Vec<UpdateJson<'a>>,
    components: Vec<ComponentJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scheduled_for: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scheduled_until: Option<String>,
}

/// Everything the endpoints are made of, built once.
pub struct Api<'a> {
    page: &'a Page,
    components: BTreeMap<&'a str, &'a PageComponent>,
}

impl<'a> Api<'a> {
    pub fn new(page: &'a Page) -> Api<'a> {
        Api {
            page,
            components: page.components.iter().map(|c| (c.id.as_str(), c)).collect(),
        }
    }

    fn page_json(&self) -> PageJson<'a> {
        PageJson {
            id: &self.page.id,
            name: &self.page.name,
            url: &self.page.url,
            time_zone: match self.page.zone.name().as_str() {
                "UTC" => "Etc/UTC".into(),
                other => other.to_string(),
            },
            updated_at: time(&self.page.updated_at),
        }
    }

    fn status_json(&self) -> StatusJson<'a> {
        StatusJson {
            indicator: self.page.indicator,
            description: self.page.description,
        }
    }

    fn component(&self, c: &'a PageComponent) -> ComponentJson<'a> {
        ComponentJson {
            id: &c.id,
            name: &c.name,
            status: &c.status,
            created_at: time(&c.updated_at),
            updated_at: time(&c.updated_at),
            position: c.position,
            description: (!c.description.is_empty()).then_some(c.description.as_str()),
            showcase: true,
            start_date: None,
            group_id: c.group.as_deref(),
            page_id: &self.page.id,
            group: false,
            only_show_if_degraded: c.only_show_if_degraded,
            components: None,
        }
    }

    /// Groups and components, by position (a group before its members).
    fn components_json(&self) -> Vec<ComponentJson<'a>> {
        let mut list: Vec<(usize, usize, ComponentJson<'a>)> = Vec::new();
        for group in &self.page.groups {
            list.push((
                group.position,
                0,
                ComponentJson {
                    id: &group.id,
                    name: &group.name,
                    status: &group.status,
                    created_at: time(&group.updated_at),
                    updated_at: time(&group.updated_at),
                    position: group.position,
                    description: None,
                    showcase: false,
                    start_date: None,
                    group_id: None,
                    page_id: &self.page.id,
                    group: true,
                    only_show_if_degraded: false,
                    components: Some(&group.components),
                },
            ));
        }
        for component in &self.page.components {
            list.push((component.position, 1, self.component(component)));
        }
        list.sort_by_key(|(position, order, _)| (*position, *order));
        list.into_iter().map(|(_, _, c)| c).collect()
    }

    fn updates(&self, owner: &'a str, updates: &'a [PageUpdate]) -> Vec<UpdateJson<'a>> {
        updates
            .iter()
            .map(|u| UpdateJson {
                id: &u.id,
                status: &u.status,
                body: &u.body,
                incident_id: owner,
                created_at: time(&u.at),
                updated_at: time(&u.at),
                display_at: time(&u.at),
                affected_components: (!u.affected.is_empty()).then(|| {
                    u.affected
                        .iter()
                        .map(|(code, old, new)| AffectedJson {
                            code,
                            name: self
                                .components
                                .get(code.as_str())
                                .map_or(code.as_str(), |c| c.name.as_str()),
                            old_status: old,
                            new_status: new,
                        })
                        .collect()
                }),
                deliver_notifications: true,
                custom_tweet: None,
                tweet_id: None,
            })
            .collect()
    }

    fn incident(&self, i: &'a PageIncident) -> IncidentJson<'a> {
        IncidentJson {
            id: &i.id,
            name: &i.name,
            status: &i.status,
            created_at: time(&i.created_at),
            updated_at: time(&i.updated_at),
            monitoring_at: i.monitoring_at.as_ref().map(time),
            resolved_at: i.resolved_at.as_ref().map(time),
            impact: i.impact,
            shortlink: self.link(&format!("incidents/{}.html", i.id)),
            started_at: time(&i.started_at),
            page_id: &self.page.id,
            incident_updates: self.updates(&i.id, &i.updates),
            components: self.components_of(&i.components),
            scheduled_for: None,
            scheduled_until: None,
        }
    }

    fn components_of(&self, ids: &'a [String]) -> Vec<ComponentJson<'a>> {
        ids.iter()
            .filter_map(|id| self.components.get(id.as_str()))
            .map(|c| self.component(c))
            .collect()
    }

    fn maintenance(&self, m: &'a PageMaintenance) -> IncidentJson<'a> {
        IncidentJson {
            id: &m.id,
            name: &m.name,
            status: match m.phase {
                Phase::Cancelled => "completed",
                other => other.name(),
            },
            created_at: time(&m.created_at),
            updated_at: time(&m.updated_at),
            monitoring_at: None,
            resolved_at: m.ended_at.as_ref().map(time),
            impact: "maintenance",
            shortlink: self.link(&format!("maintenance/{}.html", m.id)),
            started_at: time(m.started_at.as_ref().unwrap_or(&m.scheduled_for)),
            page_id: &self.page.id,
            incident_updates: self.updates(&m.id, &m.updates),
            components: self.components_of(&m.components),
            scheduled_for: Some(time(&m.scheduled_for)),
            scheduled_until: Some(time(&m.scheduled_until)),
        }
    }

    /// An absolute link where the page's address is known, else relative.
    pub fn link(&self, path: &str) -> String {
        if self.page.url.is_empty() {
            path.to_string()
        } else {
            format!("{}/{path}", self.page.url)
        }
    }

    /// Every endpoint: path under the output folder, and its bytes.
    pub fn files(&self) -> crate::Result<Vec<(String, String)>> {
        #[derive(Serialize)]
        struct Summary<'a> {
            page: PageJson<'a>,
            components: Vec<ComponentJson<'a>>,
            incidents: Vec<IncidentJson<'a>>,
            scheduled_maintenances: Vec<IncidentJson<'a>>,
            status: StatusJson<'a>,
        }
        #[derive(Serialize)]
        struct Status<'a> {
            page: PageJson<'a>,
            status: StatusJson<'a>,
        }
        #[derive(Serialize)]
        struct Components<'a> {
            page: PageJson<'a>,
            components: Vec<ComponentJson<'a>>,
        }
        #[derive(Serialize)]
        struct Incidents<'a> {
            page: PageJson<'a>,
            incidents: Vec<IncidentJson<'a>>,
        }
        #[derive(Serialize)]
        struct Maintenances<'a> {
            page: PageJson<'a>,
            scheduled_maintenances: Vec<IncidentJson<'a>>,
        }
        let page = self.page;
        let unresolved = || {
            page.incidents
                .iter()
                .filter(|i| i.unresolved())
                .map(|i| self.incident(i))
                .collect::<Vec<_>>()
        };
        // Newest window first, as Statuspage lists them.
        let maintenances = |keep: &dyn Fn(&PageMaintenance) -> bool| {
            page.maintenances
                .iter()
                .rev()
                .filter(|m| keep(m))
                .take(50)
                .map(|m| self.maintenance(m))
                .collect::<Vec<_>>()
        };
        let upcoming = |m: &PageMaintenance| m.phase == Phase::Scheduled;
        let active = |m: &PageMaintenance| m.phase == Phase::InProgress;
        Ok(vec![
            (
                "api/v2/summary.json".into(),
                crate::render::json(&Summary {
                    page: self.page_json(),
                    components: self.components_json(),
                    incidents: unresolved(),
                    scheduled_maintenances: maintenances(&|m| upcoming(m) || active(m)),
                    status: self.status_json(),
                })?,
            ),
            (
                "api/v2/status.json".into(),
                crate::render::json(&Status {
                    page: self.page_json(),
                    status: self.status_json(),
                })?,
            ),
            (
                "api/v2/components.json".into(),
                crate::render::json(&Components {
                    page: self.page_json(),
                    components: self.components_json(),
                })?,
            ),
            (
                "api/v2/incidents.json".into(),
                crate::render::json(&Incidents {
                    page: self.page_json(),
                    incidents: page
                        .incidents
                        .iter()
                        .take(50)
                        .map(|i| self.incident(i))
                        .collect(),
                })?,
            ),
            (
                "api/v2/incidents/unresolved.json".into(),
                crate::render::json(&Incidents {
                    page: self.page_json(),
                    incidents: unresolved(),
                })?,
            ),
            (
                "api/v2/scheduled-maintenances.json".into(),
                crate::render::json(&Maintenances {
                    page: self.page_json(),
                    scheduled_maintenances: maintenances(&|_| true),
                })?,
            ),
            (
                "api/v2/scheduled-maintenances/upcoming.json".into(),
                crate::render::json(&Maintenances {
                    page: self.page_json(),
                    scheduled_maintenances: maintenances(&upcoming),
                })?,
            ),
            (
                "api/v2/scheduled-maintenances/active.json".into(),
                crate::render::json(&Maintenances {
                    page: self.page_json(),
                    scheduled_maintenances: maintenances(&active),
                })?,
            ),
            ("api/badge.json".into(), crate::render::json(&self.badge())?),
        ])
    }

    /// A shields.io endpoint badge:
    /// `https://img.shields.io/endpoint?url=<page>/api/badge.json`.
    fn badge(&self) -> Badge<'a> {
        Badge {
            schema_version: 1,
            label: "status",
            message: match self.page.indicator {
                "none" => "operational",
                "maintenance" => "maintenance",
                "minor" => "minor outage",
                "major" => "partial outage",
                _ => "major outage",
            },
            color: match self.page.indicator {
                "none" => "brightgreen",
                "maintenance" => "blue",
                "minor" => "yellow",
                "major" => "orange",
                _ => "red",
            },
        }
    }
}

#[derive(Serialize)]
struct Badge<'a> {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    label: &'a str,
    message: &'a str,
    color: &'a str,
}
