//! `incident declare`: record a new incident in one commit.

use std::collections::BTreeMap;

use chrono::Datelike;

use super::{commit_message, parse_past_time, require_name, require_text};
use crate::error::{Error, Result};
use crate::model::event::{Declaration, FORMAT_VERSION};
use crate::model::id;
use crate::model::incident::Incident;
use crate::store::write::{Committed, FileWrite, Plan};
use crate::store::{DATA_DIR, DECLARATION_FILE, Store};
use crate::time::Timestamp;

/// What a responder said when declaring. Times are typed expressions.
#[derive(Debug, Default, Clone)]
pub struct DeclareRequest {
    pub title: String,
    pub severity: String,
    pub services: Vec<String>,
    pub commander: Option<String>,
    /// Other roles as (role, person).
    pub roles: Vec<(String, String)>,
    pub summary: Option<String>,
    pub status: Option<String>,
    pub started_at: Option<String>,
    pub detected_at: Option<String>,
    /// When it was declared, for writing down a past incident; default now.
    pub declared_at: Option<String>,
    pub links: Vec<String>,
    /// Written down long after the fact: no postmortem expected.
    pub historical: bool,
}

#[derive(Debug)]
pub struct DeclareOutcome {
    pub incident: Incident,
    pub committed: Committed,
}

pub fn declare(store: &Store, request: &DeclareRequest, now: Timestamp) -> Result<DeclareOutcome> {
    let config = store.config()?;
    let zone = config.zone();
    require_text("title", "a title (the first argument)", &request.title)?;
    let severity = config.check_severity(&request.severity)?;
    let status = match &request.status {
        Some(s) => config.check_state(s)?,
        None => config.lifecycle.initial.clone(),
    };
    let time = |input: &Option<String>| {
        input
            .as_deref()
            .map(|t| parse_past_time(t, now, &zone))
            .transpose()
    };
    let declared_at = time(&request.declared_at)?.unwrap_or(now);
    let started_at = time(&request.started_at)?;
    let detected_at = time(&request.detected_at)?;
    let mut services = Vec::new();
    for service in &request.services {
        let service = require_name("service", service)?;
        if !services.contains(&service) {
            services.push(service);
        }
    }
    let mut roles = BTreeMap::new();
    if let Some(commander) = &request.commander {
        roles.insert(
            "commander".to_string(),
            require_name("commander", commander)?,
        );
    }
    for (role, person) in &request.roles {
        roles.insert(config.check_role(role)?, require_name(role, person)?);
    }
    for link in &request.links {
        require_name("link", link)?;
    }
    let slug = id::slugify(&request.title);

    // The id stays the same from one attempt to the next (see commit_with).
    let mut chosen: Option<String> = None;
    let (committed, incident) = store.commit_with(now, |attempt| {
        // One scan of the listing cache per candidate, not 10,000 folders
        // listed to test one id.
        let taken = |candidate: &str| match attempt.tree {
            Some(tree) => store.has_id(tree, candidate),
            None => Ok(false),
        };
        // On a retry the id may be at HEAD already: a racing git commit took
        // our staged files, which commit_with then notices.
        let incident_id = match chosen.take() {
            Some(id) => id,
            None => match id::handed_out(taken)? {
                Some(given) => given,
                None => loop {
                    let candidate = id::random_id(config.ids.length)?;
                    if !taken(&candidate)? {
                        break candidate;
                    }
                },
            },
        };
        chosen = Some(incident_id.clone());
        let folder = format!(
            "{DATA_DIR}/{:04}/{:02}/{}",
            declared_at.with_timezone(&chrono::Utc).year(),
            declared_at.with_timezone(&chrono::Utc).month(),
            id::folder_name(&incident_id, &slug)
        );
        let identity = attempt.identity;
        let declaration = Declaration {
            version: FORMAT_VERSION,
            id: incident_id.clone(),
            title: request.title.clone(),
            severity: severity.clone(),
            status: status.clone(),
            services: services.clone(),
            summary: request.summary.clone().unwrap_or_default(),
            declared_at,
            started_at,
            detected_at,
            recorded_at: now,
            author: identity.author.name.clone(),
            author_email: identity.author.email.clone(),
            links: request.links.clone(),
            roles: roles.clone(),
            historical: request.historical,
            source: None,
        };
        let incident = Incident::replay(&config, &folder, &declaration, &[]);
        incident
            .ensure_milestone_order(&config, None, &zone)
            .map_err(order_fix)?;
        let path = format!("{folder}/{DECLARATION_FILE}");
        let mut body = vec![format!("Title: {}", super::one_line(&request.title, 500))];
        if !services.is_empty() {
            body.push(format!("Services: {}", services.join(", ")));
        }
        if let Some(commander) = roles.get("commander") {
            body.push(format!("Commander: {commander}"));
        }
        let message = commit_message(
            &format!(
                "Declare {severity} incident {incident_id}: {}",
                request.title
            ),
            &body,
            &[
                ("Incident", incident_id.clone()),
                ("Incident-Event", "declared".into()),
                ("Incident-At", declared_at.to_rfc3339()),
            ],
        );
        Ok((
            Plan {
                message,
                files: vec![FileWrite {
                    path: path.clone(),
                    content: declaration.to_toml()?.into_bytes(),
                }],
                guard: vec![folder],
            },
            incident,
        ))
    })?;
    Ok(DeclareOutcome {
        incident,
        committed,
    })
}

/// A milestone-order refusal at declaration names the flags to correct.
fn order_fix(error: Error) -> Error {
    let Error::MilestoneOrder { earlier, later, .. } = &error else {
        return error;
    };
    let flag = |name: &str| match name {
        "started" => "--started-at".to_string(),
        "detected" => "--detected-at".to_string(),
        "declared" => "--at".to_string(),
        other => format!("'{other}'"),
    };
    Error::Contradiction {
        fix: format!(
            "check the times: {} must not be later than {}",
            flag(earlier),
            flag(later)
        ),
        message: error.to_string(),
    }
}
