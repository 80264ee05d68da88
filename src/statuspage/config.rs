//! `[status_page]`: what the built page calls itself and where it lives.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::time::Zone;
use crate::tomlfile;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusPageConfig {
    /// The page's name, in its title and in `page.name`.
    #[serde(default = "default_name")]
    pub name: String,
    /// `page.id` in the JSON (default: a slug of the name).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Where the page is published; `--base-url` overrides it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// Zone for times on the HTML pages ("local" is not allowed: the page
    /// must not depend on the machine that built it).
    #[serde(default = "default_zone")]
    pub timezone: String,
    /// Address of a published postmortem, `{id}` standing for the incident
    /// id; unset: the page says one was published, without a link.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub postmortem_url: String,
}

impl Default for StatusPageConfig {
    fn default() -> Self {
        StatusPageConfig {
            name: default_name(),
            id: String::new(),
            url: String::new(),
            timezone: default_zone(),
            postmortem_url: String::new(),
        }
    }
}

fn default_name() -> String {
    "Status".into()
}

fn default_zone() -> String {
    "UTC".into()
}

impl StatusPageConfig {
    pub fn zone(&self) -> Zone {
        Zone::parse(&self.timezone)
            .filter(|z| *z != Zone::Local)
            .unwrap_or(Zone::Utc)
    }

    pub fn page_id(&self) -> String {
        if self.id.is_empty() {
            let slug = crate::model::id::slugify(&self.name);
            if slug.is_empty() {
                "status".into()
            } else {
                slug
            }
        } else {
            self.id.clone()
        }
    }
}

/// Whether a URL may be published as a link: absolute http(s), without
/// characters that would need escaping to stay one token.
pub fn is_web_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && url.len() > "https://".len()
        && !url.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | '`' | '\\')
        })
}

/// Validate `[status_page]`; called from [`Config::parse`].
pub fn validate(config: &Config, file: &str, text: &str) -> Result<()> {
    let page = &config.status_page;
    let invalid = |field: &str, message: String| Error::Invalid {
        file: file.to_string(),
        line: tomlfile::line_of_key(text, field.rsplit('.').next().unwrap_or(field)),
        field: field.to_string(),
        message,
    };
    if matches!(Zone::parse(&page.timezone), None | Some(Zone::Local)) {
        return Err(invalid(
            "status_page.timezone",
            format!(
                "'{}' is not a fixed zone; use \"UTC\" or an IANA name such as \"Europe/Berlin\" (the page must look the same wherever it is built)",
                page.timezone
            ),
        ));
    }
    if !page.url.is_empty() && !is_web_url(&page.url) {
        return Err(invalid(
            "status_page.url",
            format!("'{}' is not an http:// or https:// address", page.url),
        ));
    }
    if !page.postmortem_url.is_empty() && !is_web_url(&page.postmortem_url.replace("{id}", "x")) {
        return Err(invalid(
            "status_page.postmortem_url",
            format!(
                "'{}' is not an http:// or https:// address",
                page.postmortem_url
            ),
        ));
    }
    if !page.id.is_empty() && crate::model::id::slugify(&page.id) != page.id {
        return Err(invalid(
            "status_page.id",
            format!(
                "'{}' is not a slug; use lowercase letters, digits and '-'",
                page.id
            ),
        ));
    }
    Ok(())
}
