//! The config's sections for stakeholder updates: audiences, cadence rules
//! and the status page's components.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::tomlfile;

/// The audience whose updates reach the status page.
pub const PUBLIC: &str = "public";

/// A public update's status, as Atlassian Statuspage and cState name them.
pub const PUBLIC_STATUSES: [&str; 4] = ["investigating", "identified", "monitoring", "resolved"];

/// Component states, least severe first.
pub const COMPONENT_STATES: [&str; 5] = [
    "operational",
    "under_maintenance",
    "degraded_performance",
    "partial_outage",
    "major_outage",
];

/// `[[component]]`: a part of the service as the status page names it.
/// Everything here is published.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Stable slug: `--component ID=STATE` and the JSON use it.
    pub id: String,
    pub name: String,
    /// Components with the same group are shown together under its name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The incident services that affect it: a public update of an incident
    /// on one of them that names no component sets this one.
    #[serde(default)]
    pub services: Vec<String>,
    /// Hide it on the page while it is operational.
    #[serde(default)]
    pub only_show_if_degraded: bool,
}

/// `[comms]`: who gets updates, and how often.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommsConfig {
    #[serde(rename = "audience", default = "default_audiences")]
    pub audiences: Vec<Audience>,
    #[serde(rename = "cadence", default = "default_cadence")]
    pub cadence: Vec<Cadence>,
}

impl Default for CommsConfig {
    fn default() -> Self {
        CommsConfig {
            audiences: default_audiences(),
            cadence: default_cadence(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Audience {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// `[[comms.cadence]]`: how often an audience hears about incidents of
/// some severities. Durations are written like `5m`, `1h`, `1h30m`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cadence {
    pub audience: String,
    /// Severities the rule applies to.
    pub severities: Vec<String>,
    /// The first update is due this long after the declaration
    /// (default: `every`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    /// The second update (the one that scopes the incident) is due this long
    /// after the first (default: `every`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scoping: Option<String>,
    /// Then an update at least this often...
    pub every: String,
    /// ...until this long after the first update...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_after: Option<String>,
    /// ...and from then on this often ("long incident" mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_every: Option<String>,
}

fn default_audiences() -> Vec<Audience> {
    [
        (PUBLIC, "customers, on the status page"),
        ("internal", "the company: support, sales, other teams"),
        ("exec", "executives: current status, overview, next steps"),
    ]
    .into_iter()
    .map(|(name, description)| Audience {
        name: name.into(),
        description: description.into(),
    })
    .collect()
}

/// PagerDuty's external communication guidelines: the first public post
/// within 5 minutes, a scoping post 5 minutes later, then at least every 20
/// minutes for the first 2 hours, then hourly; executive summaries about
/// every 30 minutes for SEV1.
fn default_cadence() -> Vec<Cadence> {
    vec![
        Cadence {
            audience: PUBLIC.into(),
            severities: vec!["SEV1".into(), "SEV2".into()],
            first: Some("5m".into()),
            scoping: Some("5m".into()),
            every: "20m".into(),
            long_after: Some("2h".into()),
            long_every: Some("1h".into()),
        },
        Cadence {
            audience: "exec".into(),
            severities: vec!["SEV1".into()],
            first: Some("30m".into()),
            scoping: None,
            every: "30m".into(),
            long_after: None,
            long_every: None,
        },
    ]
}

/// A cadence duration in seconds; the config was validated, so a bad one
/// cannot reach here, but it still gives `None` rather than a panic.
pub fn seconds(text: &str) -> Option<i64> {
    crate::time::parse_relative(text)
        .map(|d| d.num_seconds())
        .filter(|s| *s > 0)
}

impl Cadence {
    fn applies(&self, audience: &str, severity: &str) -> bool {
        self.audience == audience
            && self
                .severities
                .iter()
                .any(|s| s.eq_ignore_ascii_case(severity))
    }
}

impl Config {
    /// The cadence rule for an audience and a severity, if there is one.
    pub fn cadence(&self, audience: &str, severity: &str) -> Option<&Cadence> {
        self.comms
            .cadence
            .iter()
            .find(|c| c.applies(audience, severity))
    }

    pub fn audience_names(&self) -> Vec<String> {
        self.comms
            .audiences
            .iter()
            .map(|a| a.name.clone())
            .collect()
    }

    pub fn check_audience(&self, given: &str) -> Result<String> {
        Config::canonical("audience", given, self.audience_names())
    }

    pub fn component(&self, id: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.id == id)
    }

    pub fn check_component(&self, given: &str) -> Result<String> {
        if self.components.is_empty() {
            // "choose one of: " with nothing after it helps nobody.
            let id: String = given
                .trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                .collect();
            let id = if id.is_empty() { "api".into() } else { id };
            return Err(Error::InvalidInput {
                message: format!(
                    "unknown component '{given}': no components are configured; add one to \
                     incidents/config.toml and commit it, then run this again:\n\n\
                     [[component]]\nid = \"{id}\"\nname = \"{id}\"   # as the status page shows it\n\
                     services = []   # optional: incidents on these services affect it"
                ),
            });
        }
        Config::canonical(
            "component",
            given,
            self.components.iter().map(|c| c.id.clone()).collect(),
        )
    }
}

/// Validate the sections above; called from [`Config::parse`].
pub fn validate(config: &Config, file: &str, text: &str) -> Result<()> {
    let invalid = |field: &str, message: String| Error::Invalid {
        file: file.to_string(),
        line: tomlfile::line_of_key(text, field.rsplit('.').next().unwrap_or(field)),
        field: field.to_string(),
        message,
    };
    let plain = |name: &str| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    };
    let audiences = config.audience_names();
    if !audiences.iter().any(|a| a == PUBLIC) {
        return Err(invalid(
            "comms.audience",
            format!("the audience '{PUBLIC}' (the status page) is required"),
        ));
    }
    for (index, name) in audiences.iter().enumerate() {
        if !plain(name) {
            return Err(invalid(
                "comms.audience.name",
                format!("'{name}' is not a plain name; use lowercase letters, digits, '-' and '_'"),
            ));
        }
        if audiences[..index].contains(name) {
            return Err(invalid(
                "comms.audience.name",
                format!("'{name}' is defined twice"),
            ));
        }
    }
    for rule in &config.comms.cadence {
        if !audiences.contains(&rule.audience) {
            return Err(invalid(
                "comms.cadence.audience",
                format!(
                    "unknown audience '{}'; audiences: {}",
                    rule.audience,
                    audiences.join(", ")
                ),
            ));
        }
        for severity in &rule.severities {
            if config.check_severity(severity).is_err() {
                return Err(invalid(
                    "comms.cadence.severities",
                    format!(
                        "unknown severity '{severity}'; severities: {}",
                        config.severity_names().join(", ")
                    ),
                ));
            }
        }
        let durations = [
            ("first", rule.first.as_deref()),
            ("scoping", rule.scoping.as_deref()),
            ("every", Some(rule.every.as_str())),
            ("long_after", rule.long_after.as_deref()),
            ("long_every", rule.long_every.as_deref()),
        ];
        for (field, value) in durations {
            if let Some(value) = value
                && seconds(value).is_none()
            {
                return Err(invalid(
                    &format!("comms.cadence.{field}"),
                    format!("'{value}' is not a duration such as 5m, 1h or 1h30m"),
                ));
            }
        }
    }
    for (index, component) in config.components.iter().enumerate() {
        if !plain(&component.id) {
            return Err(invalid(
                "component.id",
                format!(
                    "'{}' is not a slug; use lowercase letters, digits, '-' and '_'",
                    component.id
                ),
            ));
        }
        if config.components[..index]
            .iter()
            .any(|c| c.id == component.id)
        {
            return Err(invalid(
                "component.id",
                format!("'{}' is defined twice", component.id),
            ));
        }
        if component.name.trim().is_empty() {
            return Err(invalid(
                "component.name",
                format!("component '{}' needs a name", component.id),
            ));
        }
    }
    Ok(())
}
