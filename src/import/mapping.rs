//! `--map mapping.toml`: how a source's values become this repository's.
//!
//! ```toml
//! system = "pagerduty"          # the source system recorded with each incident
//! timezone = "Europe/Berlin"    # for times without a zone
//! time_format = "%d/%m/%Y %H:%M" # chrono strftime, for CSV dates
//!
//! [severity]                    # the source's severity or impact → ours
//! P1 = "SEV1"
//! critical = "SEV1"
//!
//! [status]                      # the source's states → the lifecycle's
//! monitoring = "mitigated"
//!
//! [columns]                     # CSV: field → column header
//! id = "Incident Number"
//! title = "Title"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result, io_err};
use crate::time::Zone;
use crate::tomlfile;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    #[serde(default)]
    pub system: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub time_format: Option<String>,
    #[serde(default)]
    pub severity: BTreeMap<String, String>,
    #[serde(default)]
    pub status: BTreeMap<String, String>,
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
}

impl Mapping {
    pub fn load(path: &Path) -> Result<Mapping> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(io_err(path))?;
        let mapping: Mapping = tomlfile::parse(&file, tomlfile::text(&file, &bytes)?)?;
        if let Some(zone) = &mapping.timezone
            && Zone::parse(zone).is_none()
        {
            return Err(Error::Invalid {
                file,
                line: None,
                field: "timezone".into(),
                message: format!(
                    "unknown time zone '{zone}'; use \"UTC\" or an IANA name such as \"Europe/Berlin\""
                ),
            });
        }
        Ok(mapping)
    }

    /// The zone for times without one: the mapping's, else `default`.
    pub fn zone(&self, default: Zone) -> Zone {
        self.timezone
            .as_deref()
            .and_then(Zone::parse)
            .unwrap_or(default)
    }

    /// A source severity mapped (case-insensitive), else `fallback`'s mapping, else itself.
    pub fn severity(&self, given: &str, defaults: &[(&str, &str)]) -> String {
        lookup(&self.severity, given)
            .or_else(|| {
                defaults
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(given.trim()))
                    .map(|(_, v)| v.to_string())
            })
            .unwrap_or_else(|| given.trim().to_string())
    }

    /// A source state mapped, else the default mapping, else itself.
    pub fn status(&self, given: &str, defaults: &[(&str, &str)]) -> Option<String> {
        let given = given.trim();
        if let Some(found) = lookup(&self.status, given) {
            return (!found.is_empty()).then_some(found);
        }
        match defaults.iter().find(|(k, _)| k.eq_ignore_ascii_case(given)) {
            Some((_, "")) => None,
            Some((_, v)) => Some(v.to_string()),
            None => Some(given.to_ascii_lowercase()),
        }
    }

    /// The CSV column of a field.
    pub fn column<'a>(&'a self, field: &'a str) -> &'a str {
        self.columns.get(field).map_or(field, String::as_str)
    }
}

fn lookup(map: &BTreeMap<String, String>, given: &str) -> Option<String> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(given.trim()))
        .map(|(_, v)| v.clone())
}
