//! Real incident records (Jenkins infrastructure status pages, cState
//! Markdown) recorded through the CLI, quirks included.

mod support;

use std::collections::BTreeMap;

use support::Repo;

/// The front matter of a cState incident: `key: value` lines and `affected` items.
fn front_matter(name: &str) -> (BTreeMap<String, String>, Vec<String>) {
    let path = format!(
        "{}/tests/fixtures/jenkins-status/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let block = text.split("---").nth(1).unwrap();
    let mut fields = BTreeMap::new();
    let mut affected = Vec::new();
    for line in block.lines() {
        if let Some(item) = line.trim().strip_prefix("- ") {
            affected.push(item.to_string());
        } else if let Some((key, value)) = line.split_once(':')
            && !line.starts_with('#')
        {
            fields.insert(
                key.trim().to_string(),
                value.trim().trim_matches('"').to_string(),
            );
        }
    }
    (fields, affected)
}

/// Record one cState incident: declared when it started, resolved when it was.
fn record(repo: &Repo, name: &str) -> (String, std::process::Output) {
    let (fields, affected) = front_matter(name);
    let severity = match fields["severity"].as_str() {
        "down" => "SEV2",
        "disrupted" => "SEV3",
        _ => "SEV4",
    };
    let mut args = vec![
        fields["title"].as_str(),
        "--severity",
        severity,
        "--at",
        fields["date"].as_str(),
        "--started-at",
        fields["date"].as_str(),
    ];
    for service in &affected {
        args.extend(["--service", service.as_str()]);
    }
    let id = repo.declare(&args);
    let resolved = repo.run(&[
        "resolve",
        &id,
        "--resolution",
        "see status page",
        "--at",
        &fields["resolvedWhen"],
    ]);
    (id, resolved)
}

#[test]
fn real_status_page_incidents_with_their_quirks() {
    let repo = Repo::init();
    // cState writes zone-less times in UTC; init named the zone of TZ=UTC.
    let config = std::fs::read_to_string(repo.path.join("incidents/config.toml")).unwrap();
    assert!(config.contains("\ntimezone = \"UTC\"\n"), "{config}");

    let (id, resolved) = record(&repo, "2026-06-11-postgres-public-db-upgrade.md");
    assert!(
        resolved.status.success(),
        "{}",
        String::from_utf8_lossy(&resolved.stderr)
    );
    let shown = repo.show(&id);
    assert_eq!(shown["services"].as_array().unwrap().len(), 4);
    assert_eq!(shown["durations"]["time_to_resolve"], 30 * 60);

    // Resolution time without a zone: read in the configured zone.
    let (id, resolved) = record(&repo, "2021-12-15-jira-outage.md");
    assert!(
        resolved.status.success(),
        "{}",
        String::from_utf8_lossy(&resolved.stderr)
    );
    assert_eq!(
        repo.show(&id)["milestones"]["resolved"],
        "2021-12-15T16:05:00+00:00"
    );

    // Resolved three days before it started: refused, naming both milestones,
    // and nothing written.
    let before_count = repo.commit_count();
    let (id, resolved) = record(&repo, "2021-09-23-puppet-outage.md");
    assert_eq!(resolved.status.code(), Some(1));
    let err = String::from_utf8_lossy(&resolved.stderr);
    assert!(
        err.contains("'resolved'") && err.contains("before"),
        "{err}"
    );
    assert_eq!(
        repo.commit_count(),
        before_count + 1,
        "only the declaration landed"
    );
    assert_eq!(repo.show(&id)["status"], "triage");
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}
