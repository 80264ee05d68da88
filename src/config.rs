//! The repository's config file: severities, lifecycle, milestones, roles,
//! time zone and id scheme.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::time::Zone;
use crate::tomlfile;

/// The config file's text as `incident init` writes it.
pub const DEFAULT_CONFIG: &str = include_str!("../templates/config.toml");

/// Newest config format this build understands.
pub const CONFIG_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    pub version: u32,
    #[serde(default = "default_timezone")]
    pub timezone: String,
    #[serde(default)]
    pub ids: IdScheme,
    #[serde(rename = "severity", default)]
    pub severities: Vec<Severity>,
    pub lifecycle: Lifecycle,
    #[serde(rename = "state", default)]
    pub states: Vec<State>,
    #[serde(rename = "milestone", default)]
    pub milestones: Vec<MilestoneDef>,
    #[serde(rename = "role", default)]
    pub roles: Vec<Role>,
    // --- postmortems and action items (issue 3) ---
    #[serde(default)]
    pub postmortem: PostmortemConfig,
    #[serde(default)]
    pub actions: ActionsConfig,
    // --- reports (issue 4): optional sections, defaults when absent ---
    #[serde(default)]
    pub metrics: crate::metrics::config::MetricsConfig,
    #[serde(default)]
    pub deployments: crate::metrics::config::DeploymentsConfig,
    // --- stakeholder updates and the status page (issue 14) ---
    #[serde(rename = "component", default)]
    pub components: Vec<crate::comms::config::Component>,
    #[serde(default)]
    pub comms: crate::comms::config::CommsConfig,
    #[serde(default)]
    pub status_page: crate::statuspage::config::StatusPageConfig,
}

/// `[postmortem]`: which incidents need one, from which template, and
/// which branch counts as published.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PostmortemConfig {
    /// Severities whose incidents need a postmortem; `resolve` writes it.
    #[serde(default = "default_postmortem_required")]
    pub required: Vec<String>,
    /// The template used when `templates` names none for the severity.
    #[serde(default = "default_postmortem_template")]
    pub template: String,
    /// Severity name to template name.
    #[serde(default)]
    pub templates: std::collections::BTreeMap<String, String>,
    /// The branch a reviewed postmortem is merged into; empty: the remote's
    /// default branch, else `main` or `master`.
    #[serde(default)]
    pub default_branch: String,
    /// The remote `postmortem review --push` pushes to.
    #[serde(default = "default_remote")]
    pub remote: String,
}

impl Default for PostmortemConfig {
    fn default() -> Self {
        PostmortemConfig {
            required: default_postmortem_required(),
            template: default_postmortem_template(),
            templates: Default::default(),
            default_branch: String::new(),
            remote: default_remote(),
        }
    }
}

fn default_postmortem_required() -> Vec<String> {
    vec!["SEV1".into(), "SEV2".into(), "SEV3".into()]
}

fn default_postmortem_template() -> String {
    "sre".into()
}

fn default_remote() -> String {
    "origin".into()
}

/// `[actions]`: due-date SLOs for action items, in days after they are added.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActionsConfig {
    /// Days until due for severities that `due_days` does not name; 0: no default.
    #[serde(default = "default_due_days")]
    pub default_due_days: u32,
    /// Severity name to days until due.
    #[serde(default = "default_due_days_by_severity")]
    pub due_days: std::collections::BTreeMap<String, u32>,
}

impl Default for ActionsConfig {
    fn default() -> Self {
        ActionsConfig {
            default_due_days: default_due_days(),
            due_days: default_due_days_by_severity(),
        }
    }
}

fn default_due_days() -> u32 {
    56
}

fn default_due_days_by_severity() -> std::collections::BTreeMap<String, u32> {
    [("SEV1".to_string(), 28), ("SEV2".to_string(), 28)]
        .into_iter()
        .collect()
}

impl Config {
    /// Whether incidents of this severity need a postmortem.
    pub fn needs_postmortem(&self, severity: &str) -> bool {
        self.postmortem
            .required
            .iter()
            .any(|s| s.eq_ignore_ascii_case(severity))
    }

    /// The template name for a severity.
    pub fn postmortem_template(&self, severity: &str) -> &str {
        self.postmortem
            .templates
            .iter()
            .find(|(s, _)| s.eq_ignore_ascii_case(severity))
            .map(|(_, t)| t.as_str())
            .unwrap_or(&self.postmortem.template)
    }

    /// Days until an action item of an incident of this severity is due.
    pub fn action_due_days(&self, severity: &str) -> Option<u32> {
        let days = self
            .actions
            .due_days
            .iter()
            .find(|(s, _)| s.eq_ignore_ascii_case(severity))
            .map(|(_, d)| *d)
            .unwrap_or(self.actions.default_due_days);
        (days > 0).then_some(days)
    }
}

fn default_timezone() -> String {
    "local".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdScheme {
    #[serde(default = "default_id_length")]
    pub length: usize,
}

impl Default for IdScheme {
    fn default() -> Self {
        IdScheme {
            length: default_id_length(),
        }
    }
}

fn default_id_length() -> usize {
    6
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Severity {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Lifecycle {
    pub initial: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub open: bool,
    #[serde(default)]
    pub next: Vec<String>,
    #[serde(default)]
    pub milestone: Option<String>,
    #[serde(default)]
    pub implies: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MilestoneDef {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub not_before: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

impl Config {
    /// Parse and validate a config file's text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Config> {
        let config: Config = tomlfile::parse(file, text)?;
        config.validate(file, text)?;
        Ok(config)
    }

    fn validate(&self, file: &str, text: &str) -> Result<()> {
        let invalid = |field: &str, message: String| Error::Invalid {
            file: file.to_string(),
            line: tomlfile::line_of_key(text, field.rsplit('.').next().unwrap_or(field)),
            field: field.to_string(),
            message,
        };
        if self.version > CONFIG_VERSION {
            return Err(invalid(
                "version",
                format!(
                    "version {} is newer than this incident understands ({CONFIG_VERSION}); upgrade incident",
                    self.version
                ),
            ));
        }
        if Zone::parse(&self.timezone).is_none() {
            let what = match self.timezone.trim() {
                "" => "no time zone (empty)".to_string(),
                _ => format!("unknown time zone '{}'", self.timezone),
            };
            return Err(invalid(
                "timezone",
                format!(
                    "{what}; use \"local\" (this machine's zone), \"UTC\" or an IANA name such as \"Europe/Berlin\""
                ),
            ));
        }
        if !(4..=16).contains(&self.ids.length) {
            return Err(invalid(
                "ids.length",
                format!("{} is out of range; use 4 to 16", self.ids.length),
            ));
        }
        if self.severities.is_empty() {
            return Err(invalid(
                "severity",
                "at least one [[severity]] is needed".into(),
            ));
        }
        for (what, names) in [
            ("severity", self.severity_names()),
            ("state", self.state_names()),
            ("milestone", self.milestone_names()),
            ("role", self.role_names()),
        ] {
            let mut seen = std::collections::BTreeSet::new();
            for name in &names {
                if !is_plain_name(name) {
                    return Err(invalid(
                        &format!("{what}.name"),
                        format!("'{name}' is not a plain name; use letters, digits, '-' and '_'"),
                    ));
                }
                if !seen.insert(name) {
                    return Err(invalid(
                        &format!("{what}.name"),
                        format!("'{name}' is defined twice"),
                    ));
                }
            }
        }
        if self.state(&self.lifecycle.initial).is_none() {
            return Err(invalid(
                "lifecycle.initial",
                format!(
                    "'{}' is not a [[state]]; states: {}",
                    self.lifecycle.initial,
                    self.state_names().join(", ")
                ),
            ));
        }
        let milestones = self.milestone_names();
        for state in &self.states {
            for next in &state.next {
                if self.state(next).is_none() {
                    return Err(invalid(
                        "next",
                        format!("state '{}' lists unknown next state '{next}'", state.name),
                    ));
                }
            }
            for milestone in state.milestone.iter().chain(&state.implies) {
                if !milestones.contains(milestone) {
                    return Err(invalid(
                        "milestone",
                        format!(
                            "state '{}' names unknown milestone '{milestone}'",
                            state.name
                        ),
                    ));
                }
            }
        }
        for milestone in &self.milestones {
            for other in &milestone.not_before {
                if !milestones.contains(other) {
                    return Err(invalid(
                        "not_before",
                        format!(
                            "milestone '{}' names unknown milestone '{other}'",
                            milestone.name
                        ),
                    ));
                }
            }
        }
        for required in ["started", "detected", "declared"] {
            if !milestones.iter().any(|m| m == required) {
                return Err(invalid(
                    "milestone",
                    format!("the milestone '{required}' is required"),
                ));
            }
        }
        if self.role("commander").is_none() {
            return Err(invalid("role", "the role 'commander' is required".into()));
        }
        crate::comms::config::validate(self, file, text)?;
        crate::statuspage::config::validate(self, file, text)
    }

    pub fn zone(&self) -> Zone {
        Zone::parse(&self.timezone).unwrap_or(Zone::Local)
    }

    pub fn severity_names(&self) -> Vec<String> {
        self.severities.iter().map(|s| s.name.clone()).collect()
    }

    pub fn state_names(&self) -> Vec<String> {
        self.states.iter().map(|s| s.name.clone()).collect()
    }

    pub fn milestone_names(&self) -> Vec<String> {
        self.milestones.iter().map(|s| s.name.clone()).collect()
    }

    pub fn role_names(&self) -> Vec<String> {
        self.roles.iter().map(|s| s.name.clone()).collect()
    }

    pub fn state(&self, name: &str) -> Option<&State> {
        self.states.iter().find(|s| s.name == name)
    }

    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.name == name)
    }

    /// Index in the severity list: 0 is the most severe.
    pub fn severity_rank(&self, name: &str) -> usize {
        self.severities
            .iter()
            .position(|s| s.name == name)
            .unwrap_or(self.severities.len())
    }

    pub fn is_open(&self, state: &str) -> bool {
        self.state(state).is_some_and(|s| s.open)
    }

    /// Check a name against a list from the config, case-insensitively, and
    /// return the spelling the config uses.
    pub fn canonical(what: &'static str, given: &str, valid: Vec<String>) -> Result<String> {
        valid
            .iter()
            .find(|v| v.eq_ignore_ascii_case(given.trim()))
            .cloned()
            .ok_or_else(|| Error::Unknown {
                what,
                given: given.to_string(),
                valid,
            })
    }

    pub fn check_severity(&self, given: &str) -> Result<String> {
        Config::canonical("severity", given, self.severity_names())
    }

    pub fn check_state(&self, given: &str) -> Result<String> {
        Config::canonical("state", given, self.state_names())
    }

    pub fn check_role(&self, given: &str) -> Result<String> {
        Config::canonical("role", given, self.role_names())
    }

    pub fn check_milestone(&self, given: &str) -> Result<String> {
        Config::canonical("milestone", given, self.milestone_names())
    }

    /// Milestones set by states that are not open: a reopen clears them.
    pub fn closing_milestones(&self) -> Vec<String> {
        self.states
            .iter()
            .filter(|s| !s.open)
            .filter_map(|s| s.milestone.clone())
            .collect()
    }
}

fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_config_is_valid() {
        let config = Config::parse("(built-in)", DEFAULT_CONFIG).unwrap();
        assert_eq!(
            config.severity_names(),
            ["SEV1", "SEV2", "SEV3", "SEV4", "SEV5"]
        );
        assert!(config.is_open("triage"));
        assert!(!config.is_open("resolved"));
        assert_eq!(config.closing_milestones(), ["resolved", "closed"]);
    }

    #[test]
    fn unknown_references_name_the_field_and_line() {
        let text = DEFAULT_CONFIG.replace("initial = \"triage\"", "initial = \"nope\"");
        let err = Config::parse("incidents/config.toml", &text).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("lifecycle.initial"), "{message}");
        assert!(message.contains("incidents/config.toml:"), "{message}");
    }

    #[test]
    fn names_are_matched_case_insensitively() {
        let config = Config::parse("(built-in)", DEFAULT_CONFIG).unwrap();
        assert_eq!(config.check_severity("sev2").unwrap(), "SEV2");
        assert!(matches!(
            config.check_state("bogus"),
            Err(Error::Unknown { .. })
        ));
    }
}
