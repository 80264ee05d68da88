//! The optional `[metrics]` and `[deployments]` sections of the config file.
//! Every field has a default, so configs written before reports existed
//! still parse.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{Error, Result};

/// A duration metric: from one milestone to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Span {
    pub from: String,
    pub to: String,
}

fn span(from: &str, to: &str) -> Span {
    Span {
        from: from.into(),
        to: to.into(),
    }
}

/// `[metrics]`: which milestones each figure measures between, and the
/// few thresholds reports use.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    #[serde(default = "d_detect")]
    pub time_to_detect: Span,
    #[serde(default = "d_ack")]
    pub time_to_acknowledge: Span,
    #[serde(default = "d_declare")]
    pub time_to_declare: Span,
    #[serde(default = "d_mitigate")]
    pub time_to_mitigate: Span,
    #[serde(default = "d_resolve")]
    pub time_to_resolve: Span,
    /// End milestone of one incident → start milestone of the next one on the same service.
    #[serde(default = "d_between")]
    pub time_between_incidents: Span,
    #[serde(default = "d_postmortem")]
    pub postmortem_lead_time: Span,
    /// States whose incidents are not incidents (false alarms, duplicates):
    /// left out of every figure and counted separately.
    #[serde(default = "d_ignore")]
    pub ignore_states: Vec<String>,
    /// An event written down more than this many seconds after it happened
    /// counts as recorded late.
    #[serde(default = "d_late")]
    pub late_after_seconds: i64,
    /// Calendar days after `resolved` by which a postmortem is due, per severity.
    #[serde(default = "d_due")]
    pub postmortem_due_days: BTreeMap<String, i64>,
}

fn d_detect() -> Span {
    span("started", "detected")
}
fn d_ack() -> Span {
    span("detected", "acknowledged")
}
fn d_declare() -> Span {
    span("detected", "declared")
}
fn d_mitigate() -> Span {
    span("started", "mitigated")
}
fn d_resolve() -> Span {
    span("started", "resolved")
}
fn d_between() -> Span {
    span("resolved", "started")
}
fn d_postmortem() -> Span {
    span("resolved", "postmortem_published")
}
fn d_ignore() -> Vec<String> {
    vec!["cancelled".into(), "duplicate".into()]
}
fn d_late() -> i64 {
    3600
}
fn d_due() -> BTreeMap<String, i64> {
    BTreeMap::from([("SEV1".to_string(), 3), ("SEV2".to_string(), 7)])
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            time_to_detect: d_detect(),
            time_to_acknowledge: d_ack(),
            time_to_declare: d_declare(),
            time_to_mitigate: d_mitigate(),
            time_to_resolve: d_resolve(),
            time_between_incidents: d_between(),
            postmortem_lead_time: d_postmortem(),
            ignore_states: d_ignore(),
            late_after_seconds: d_late(),
            postmortem_due_days: d_due(),
        }
    }
}

impl MetricsConfig {
    /// The duration metrics as (JSON name, span), in report order.
    pub fn spans(&self) -> Vec<(&'static str, &Span)> {
        vec![
            ("time_to_detect", &self.time_to_detect),
            ("time_to_acknowledge", &self.time_to_acknowledge),
            ("time_to_declare", &self.time_to_declare),
            ("time_to_mitigate", &self.time_to_mitigate),
            ("time_to_resolve", &self.time_to_resolve),
            ("postmortem_lead_time", &self.postmortem_lead_time),
        ]
    }

    /// The durations `show` and postmortems give for one incident: every
    /// span that ends in a milestone of the incident itself, so the same
    /// definitions hold everywhere.
    pub fn incident_spans(&self) -> Vec<(&'static str, &Span)> {
        let mut spans = self.spans();
        spans.retain(|(name, _)| *name != "postmortem_lead_time");
        spans
    }

    /// Refuse milestone names the config does not define.
    pub fn validate(&self, config: &Config) -> Result<()> {
        let known = config.milestone_names();
        let mut all = self.spans();
        all.push(("time_between_incidents", &self.time_between_incidents));
        for (name, span) in all {
            for milestone in [&span.from, &span.to] {
                if !known.contains(milestone) {
                    return Err(Error::Invalid {
                        file: crate::store::CONFIG_PATH.into(),
                        line: None,
                        field: format!("metrics.{name}"),
                        message: format!(
                            "unknown milestone '{milestone}'; milestones: {}",
                            known.join(", ")
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}

/// `[deployments]`: where change failure rate finds deployments.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentsConfig {
    /// Tags whose names match this glob (`*` and `?`) are deployments,
    /// dated by their tagger time (annotated tags) or their commit's time.
    #[serde(default)]
    pub tag_pattern: Option<String>,
    /// Another local repository holding the tags, relative to this
    /// repository's root (default: this repository).
    #[serde(default)]
    pub repository: Option<String>,
}

/// `*` any run of characters, `?` one character, everything else literal.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("deploy-*", "deploy-2026-11-24"));
        assert!(glob_match("v?.*", "v1.2"));
        assert!(!glob_match("deploy-*", "release-1"));
        assert!(glob_match("*", ""));
    }
}
