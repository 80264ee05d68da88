//! The HTML pages: readable without JavaScript (there is none), every
//! text escaped, and a Content-Security-Policy that would stop a script
//! even if escaping failed.

use std::collections::BTreeMap;

use super::escape::{href, html};
use super::model::{Page, PageComponent, PageIncident, PageMaintenance, PageUpdate};
use crate::comms::state_label;
use crate::maintenance::Phase;
use crate::time::Timestamp;

const STYLE: &str = "
body{font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:860px;margin:0 auto;padding:24px 16px 48px}
header h1{font-size:1.6em;margin:0 0 16px}header h1 a{color:inherit;text-decoration:none}
a{color:#1f5fbf}
.banner{border-radius:6px;padding:14px 18px;color:#fff;font-weight:600;font-size:1.15em;margin-bottom:8px}
.updated{color:#5b6475;font-size:.85em;margin:0 0 24px}
section{background:#fff;border:1px solid #dde1e8;border-radius:6px;margin:0 0 20px;padding:4px 18px 12px}
section>h2{font-size:1.1em;margin:14px 0 8px}
.component{border-top:1px solid #eceef2;padding:10px 0}
.component:first-of-type{border-top:0}
.row{display:flex;justify-content:space-between;gap:12px;flex-wrap:wrap}
.name{font-weight:600}.desc{color:#5b6475;font-size:.85em}
.group{font-weight:700;margin:12px 0 0;color:#3a4254}
.bars{display:flex;gap:1px;margin:6px 0 2px;height:26px}
.bars span{flex:1;border-radius:1px;min-width:2px}
.legend{display:flex;justify-content:space-between;color:#8a92a3;font-size:.75em}
.incident{border-top:1px solid #eceef2;padding:10px 0}
.incident:first-of-type{border-top:0}
.incident h3{font-size:1.05em;margin:4px 0}
.update{margin:8px 0 0 0;padding-left:12px;border-left:3px solid #dde1e8}
.update h4{margin:0;font-size:.95em}
.body{white-space:pre-wrap;margin:2px 0}
.meta,.next,time{color:#5b6475;font-size:.85em}
.next{font-weight:600;color:#3a4254}
.label{font-weight:700}
.empty{color:#5b6475}
footer{color:#5b6475;font-size:.85em;text-align:center}
.s-operational{background:#2fcc66}.s-degraded_performance{background:#f1c40f}
.s-partial_outage{background:#e67e22}.s-major_outage{background:#e74c3c}
.s-under_maintenance{background:#3498db}
.t-operational{color:#1e9e4d}.t-degraded_performance{color:#b7950b}.t-partial_outage{color:#c0641a}
.t-major_outage{color:#c0392b}.t-under_maintenance{color:#2479b5}
.i-none{background:#2fcc66}.i-minor{background:#e5b50b}.i-major{background:#e67e22}
.i-critical{background:#e74c3c}.i-maintenance{background:#3498db}
";

/// Nothing but inline style: no script, no frame, no form, no remote anything.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub struct Html<'a> {
    page: &'a Page,
    names: BTreeMap<&'a str, &'a str>,
}

impl<'a> Html<'a> {
    pub fn new(page: &'a Page) -> Html<'a> {
        Html {
            page,
            names: page
                .components
                .iter()
                .map(|c| (c.id.as_str(), c.name.as_str()))
                .collect(),
        }
    }

    /// `2026-11-24 03:15 UTC` in the page's zone.
    fn when(&self, t: &Timestamp) -> String {
        let zone = &self.page.zone;
        format!(
            "<time datetime=\"{}\">{} {}</time>",
            super::json::time(t),
            zone.short(t),
            html(&zone.name())
        )
    }

    fn layout(&self, root: &str, title: &str, body: &str) -> String {
        let page = self.page;
        let feed = |kind: &str, file: &str| {
            format!(
                "<link rel=\"alternate\" type=\"application/{kind}+xml\" title=\"{}\" href=\"{root}{file}\">",
                html(&page.name),
            )
        };
        let canonical = if page.url.is_empty() {
            String::new()
        } else {
            format!("<link rel=\"canonical\" href=\"{}\">\n", href(&page.url))
        };
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n{canonical}{}\n{}\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n<header><h1><a href=\"{root}index.html\">{}</a></h1></header>\n{body}<footer><p><a href=\"{root}history/index.html\">Incident history</a> · <a href=\"{root}history.atom\">Atom</a> · <a href=\"{root}history.rss\">RSS</a> · <a href=\"{root}api/v2/summary.json\">API</a></p></footer>\n</main>\n</body>\n</html>\n",
            html(title),
            feed("atom", "history.atom"),
            feed("rss", "history.rss"),
            html(&page.name),
        )
    }

    fn banner(&self) -> String {
        format!(
            "<div class=\"banner i-{}\">{}</div>\n<p class=\"updated\">Last updated {}</p>\n",
            self.page.indicator,
            html(self.page.description),
            self.when(&self.page.updated_at)
        )
    }

    fn component_name(&self, id: &str) -> String {
        html(self.names.get(id).copied().unwrap_or(id))
    }

    fn update(&self, update: &PageUpdate, next: bool) -> String {
        let mut out = format!(
            "<div class=\"update\">\n<h4><span class=\"label\">{}</span> {}</h4>\n<p class=\"body\">{}</p>\n",
            html(&status_label(&update.status)),
            self.when(&update.at),
            html(&update.body)
        );
        if !update.affected.is_empty() {
            let list: Vec<String> = update
                .affected
                .iter()
                .map(|(id, _, state)| {
                    format!(
                        "{} (<span class=\"t-{state}\">{}</span>)",
                        self.component_name(id),
                        html(state_label(state))
                    )
                })
                .collect();
            out.push_str(&format!(
                "<p class=\"meta\">Affected: {}</p>\n",
                list.join(", ")
            ));
        }
        if next && let Some(due) = &update.next_update {
            out.push_str(&format!(
                "<p class=\"next\">Next update by {}</p>\n",
                self.when(due)
            ));
        }
        out.push_str("</div>\n");
        out
    }

    fn incident(&self, incident: &PageIncident, root: &str, heading: &str) -> String {
        let mut out = format!(
            "<div class=\"incident\">\n<{heading}><a href=\"{root}incidents/{}.html\">{}</a></{heading}>\n",
            incident.id,
            html(&incident.name)
        );
        for (index, update) in incident.updates.iter().enumerate() {
            out.push_str(&self.update(update, index == 0 && incident.unresolved()));
        }
        out.push_str("</div>\n");
        out
    }

    fn maintenance(&self, m: &PageMaintenance, root: &str) -> String {
        let components: Vec<String> = m
            .components
            .iter()
            .map(|c| self.component_name(c))
            .collect();
        let mut out = format!(
            "<div class=\"incident\">\n<h3><a href=\"{root}maintenance/{}.html\">{}</a></h3>\n<p class=\"meta\">{}: {} to {}{}</p>\n",
            m.id,
            html(&m.name),
            html(phase_label(m.phase)),
            self.when(&m.scheduled_for),
            self.when(&m.scheduled_until),
            if components.is_empty() {
                String::new()
            } else {
                format!(" · {}", components.join(", "))
            }
        );
        for update in &m.updates {
            out.push_str(&self.update(update, false));
        }
        out.push_str("</div>\n");
        out
    }

    fn component(&self, c: &PageComponent) -> String {
        let mut bars = String::new();
        for day in &c.days {
            let mut title = format!("{}: {}", day.date, state_label(&day.state));
            if !day.events.is_empty() {
                title.push_str(&format!(" ({})", day.events.join("; ")));
            }
            bars.push_str(&format!(
                "<span class=\"s-{}\" title=\"{}\"></span>",
                day.state,
                html(&title)
            ));
        }
        format!(
            "<div class=\"component\">\n<div class=\"row\"><span class=\"name\">{}</span><span class=\"t-{}\">{}</span></div>\n{}<div class=\"bars\" role=\"img\" aria-label=\"{} days of {}\">{bars}</div>\n<div class=\"legend\"><span>{} days ago</span><span>{:.2}% uptime</span><span>Today</span></div>\n</div>\n",
            html(&c.name),
            c.status,
            html(state_label(&c.status)),
            if c.description.is_empty() {
                String::new()
            } else {
                format!("<div class=\"desc\">{}</div>\n", html(&c.description))
            },
            c.days.len(),
            html(&c.name),
            c.days.len(),
            c.uptime * 100.0,
        )
    }

    pub fn index(&self) -> String {
        let page = self.page;
        let root = "";
        let mut body = self.banner();
        let active: Vec<&PageIncident> = page.incidents.iter().filter(|i| i.unresolved()).collect();
        if !active.is_empty() {
            body.push_str("<section id=\"active-incidents\">\n<h2>Active incidents</h2>\n");
            for incident in active {
                body.push_str(&self.incident(incident, root, "h3"));
            }
            body.push_str("</section>\n");
        }
        for (phase, title, id) in [
            (
                Phase::InProgress,
                "Maintenance in progress",
                "active-maintenance",
            ),
            (
                Phase::Scheduled,
                "Scheduled maintenance",
                "upcoming-maintenance",
            ),
        ] {
            let list: Vec<&PageMaintenance> = page
                .maintenances
                .iter()
                .filter(|m| m.phase == phase)
                .collect();
            if !list.is_empty() {
                body.push_str(&format!("<section id=\"{id}\">\n<h2>{title}</h2>\n"));
                for m in list {
                    body.push_str(&self.maintenance(m, root));
                }
                body.push_str("</section>\n");
            }
        }
        body.push_str("<section id=\"components\">\n<h2>Components</h2>\n");
        if page.components.is_empty() {
            body.push_str("<p class=\"empty\">No components are configured.</p>\n");
        }
        let mut group_shown: Vec<&str> = Vec::new();
        for component in &page.components {
            if component.only_show_if_degraded && component.status == "operational" {
                continue;
            }
            if let Some(group) = &component.group
                && !group_shown.contains(&group.as_str())
                && let Some(found) = page.groups.iter().find(|g| &g.id == group)
            {
                group_shown.push(group);
                body.push_str(&format!(
                    "<div class=\"group\">{}</div>\n",
                    html(&found.name)
                ));
            }
            body.push_str(&self.component(component));
        }
        body.push_str("</section>\n");
        let since = page.as_of - chrono::Duration::days(14);
        body.push_str("<section id=\"past-incidents\">\n<h2>Past incidents (14 days)</h2>\n");
        let past: Vec<&PageIncident> = page
            .incidents
            .iter()
            .filter(|i| !i.unresolved() && i.created_at >= since)
            .collect();
        if past.is_empty() {
            body.push_str("<p class=\"empty\">No incidents reported.</p>\n");
        }
        for incident in past {
            body.push_str(&self.incident(incident, root, "h3"));
        }
        body.push_str(&format!(
            "<p><a href=\"{root}history/index.html\">All past incidents and maintenance</a></p>\n</section>\n"
        ));
        self.layout(root, &page.name, &body)
    }

    pub fn incident_page(&self, incident: &PageIncident) -> String {
        let root = "../";
        let mut body = format!(
            "<section>\n<h2>{}</h2>\n<p class=\"meta\">{} · impact: {} · started {}{}</p>\n",
            html(&incident.name),
            html(&status_label(&incident.status)),
            html(incident.impact),
            self.when(&incident.started_at),
            match &incident.resolved_at {
                Some(t) => format!(" · resolved {}", self.when(t)),
                None => String::new(),
            }
        );
        if !incident.components.is_empty() {
            let names: Vec<String> = incident
                .components
                .iter()
                .map(|c| self.component_name(c))
                .collect();
            body.push_str(&format!(
                "<p class=\"meta\">Components: {}</p>\n",
                names.join(", ")
            ));
        }
        match &incident.postmortem {
            Some(Some(link)) => body.push_str(&format!(
                "<p><a href=\"{}\">Read the postmortem</a></p>\n",
                href(link)
            )),
            Some(None) => body.push_str("<p class=\"meta\">A postmortem has been published.</p>\n"),
            None => {}
        }
        for (index, update) in incident.updates.iter().enumerate() {
            body.push_str(&self.update(update, index == 0 && incident.unresolved()));
        }
        body.push_str("</section>\n");
        self.layout(
            root,
            &format!("{} · {}", incident.name, self.page.name),
            &body,
        )
    }

    pub fn maintenance_page(&self, m: &PageMaintenance) -> String {
        let root = "../";
        let body = format!("<section>\n{}</section>\n", self.maintenance(m, root));
        self.layout(root, &format!("{} · {}", m.name, self.page.name), &body)
    }

    /// `history/YYYY-MM.html` for every month with an incident or a
    /// maintenance, and `history/index.html` listing them.
    pub fn history(&self) -> Vec<(String, String)> {
        let zone = &self.page.zone;
        let month = |t: &Timestamp| zone.convert(t).format("%Y-%m").to_string();
        let mut months: BTreeMap<String, (Vec<&PageIncident>, Vec<&PageMaintenance>)> =
            BTreeMap::new();
        for incident in &self.page.incidents {
            months
                .entry(month(&incident.created_at))
                .or_default()
                .0
                .push(incident);
        }
        for m in &self.page.maintenances {
            months.entry(month(&m.scheduled_for)).or_default().1.push(m);
        }
        let root = "../";
        let mut files = Vec::new();
        let mut index = String::from("<section>\n<h2>Incident history</h2>\n");
        if months.is_empty() {
            index.push_str("<p class=\"empty\">No incidents reported.</p>\n");
        }
        let keys: Vec<String> = months.keys().cloned().collect();
        for (position, (key, (incidents, maintenances))) in months.iter().enumerate().rev() {
            index.push_str(&format!(
                "<p><a href=\"{key}.html\">{key}</a> <span class=\"meta\">{} incident{}, {} maintenance{}</span></p>\n",
                incidents.len(),
                if incidents.len() == 1 { "" } else { "s" },
                maintenances.len(),
                if maintenances.len() == 1 { "" } else { "s" },
            ));
            let mut body = format!("<section>\n<h2>{key}</h2>\n");
            if !incidents.is_empty() {
                body.push_str("<h3>Incidents</h3>\n");
            }
            for incident in incidents {
                body.push_str(&self.incident(incident, root, "h4"));
            }
            if !maintenances.is_empty() {
                body.push_str("<h3>Maintenance</h3>\n");
            }
            for m in maintenances.iter().rev() {
                body.push_str(&self.maintenance(m, root));
            }
            let mut nav = Vec::new();
            if position > 0 {
                nav.push(format!(
                    "<a href=\"{0}.html\">← {0}</a>",
                    keys[position - 1]
                ));
            }
            nav.push("<a href=\"index.html\">All months</a>".to_string());
            if let Some(next) = keys.get(position + 1) {
                nav.push(format!("<a href=\"{next}.html\">{next} →</a>"));
            }
            body.push_str(&format!("<p>{}</p>\n</section>\n", nav.join(" · ")));
            files.push((
                format!("history/{key}.html"),
                self.layout(root, &format!("{key} · {}", self.page.name), &body),
            ));
        }
        index.push_str("</section>\n");
        files.push((
            "history/index.html".into(),
            self.layout(root, &format!("History · {}", self.page.name), &index),
        ));
        files
    }
}

/// `Identified`, `In progress`.
pub fn status_label(status: &str) -> String {
    let text = status.replace('_', " ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn phase_label(phase: Phase) -> &'static str {
    match phase {
        Phase::Scheduled => "Scheduled",
        Phase::InProgress => "In progress",
        Phase::Completed => "Completed",
        Phase::Cancelled => "Cancelled",
    }
}
