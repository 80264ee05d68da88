//! `incident export --format csv`: one row per incident for spreadsheets,
//! with every milestone of the config as a column (RFC 3339). A milestone
//! that was only assumed is left empty and named in `assumed_milestones`,
//! so a duration computed in the sheet is always between stated times.

use crate::error::Result;
use crate::model::incident::Incident;
use crate::store::Store;

/// The CSV export of the incidents at `as_of` (default HEAD).
pub fn export(store: &Store, as_of: Option<&str>) -> Result<String> {
    let commit = super::resolve_commit(store, as_of)?;
    let tree = store.repo.find_commit(commit)?.tree()?;
    let config = match crate::store::read_blob(&store.repo, &tree, crate::store::CONFIG_PATH)? {
        Some(bytes) => crate::config::Config::parse(
            crate::store::CONFIG_PATH,
            crate::tomlfile::text(crate::store::CONFIG_PATH, &bytes)?,
        )?,
        None => store.config()?,
    };
    let mut incidents: Vec<(Incident, Option<crate::model::event::Source>)> = Vec::new();
    for folder in store.folders(&tree)? {
        let (declaration, events) = store.read_files(&tree, &folder)?;
        let source = declaration.source.clone();
        incidents.push((
            Incident::replay(&config, &folder.path, &declaration, &events),
            source,
        ));
    }
    incidents.sort_by(|a, b| {
        (a.0.milestone("declared"), &a.0.id).cmp(&(b.0.milestone("declared"), &b.0.id))
    });
    let spans = config.metrics.incident_spans();
    let mut header: Vec<String> = [
        "id",
        "title",
        "severity",
        "status",
        "open",
        "historical",
        "services",
        "commander",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(config.milestones.iter().map(|m| m.name.clone()));
    header.push("assumed_milestones".into());
    header.extend(spans.iter().map(|(name, _)| format!("{name}_seconds")));
    header.extend(
        [
            "resolution",
            "duplicate_of",
            "caused_by",
            "links",
            "summary",
            "source_system",
            "source_id",
            "folder",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    // The same cells as every other CSV: a leading `'` keeps a title such
    // as `=HYPERLINK(...)` from running as a formula.
    let mut text = crate::render::csv_line(header.iter().map(String::as_str));
    for (incident, source) in &incidents {
        let mut row: Vec<String> = vec![
            incident.id.clone(),
            incident.title.clone(),
            incident.severity.clone(),
            incident.status.clone(),
            incident.is_open(&config).to_string(),
            incident.historical.to_string(),
            incident.services.join("; "),
            incident.commander().unwrap_or_default().to_string(),
        ];
        let mut assumed = Vec::new();
        for definition in &config.milestones {
            match incident.milestones.get(&definition.name) {
                Some(m) if m.is_recorded() => row.push(m.at.to_rfc3339()),
                Some(_) => {
                    assumed.push(definition.name.clone());
                    row.push(String::new());
                }
                None => row.push(String::new()),
            }
        }
        row.push(assumed.join("; "));
        for (_, span) in &spans {
            row.push(
                incident
                    .between(&span.from, &span.to)
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
            );
        }
        row.push(incident.resolution.clone().unwrap_or_default());
        row.push(incident.duplicate_of.clone().unwrap_or_default());
        row.push(incident.caused_by.join("; "));
        row.push(incident.links.join(" "));
        row.push(incident.summary.clone());
        row.push(
            source
                .as_ref()
                .map(|s| s.system.clone())
                .unwrap_or_default(),
        );
        row.push(source.as_ref().map(|s| s.id.clone()).unwrap_or_default());
        row.push(incident.folder.clone());
        text.push_str(&crate::render::csv_line(row.iter().map(String::as_str)));
    }
    Ok(text)
}
