//! Real incident records (Jenkins infrastructure status pages, cState
//! Markdown) recorded through the CLI, quirks included.

mod support;

use std::collections::BTreeMap;

use chrono::Datelike;

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

/// A githubstatus.com incident, as the fixture keeps it.
struct Status {
    name: String,
    impact: String,
    created: i64,
    started: i64,
    resolved: i64,
    investigating: i64,
    services: Vec<String>,
}

fn seconds(value: &serde_json::Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .timestamp()
}

fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn github_status() -> Vec<Status> {
    let dir = format!(
        "{}/tests/fixtures/github-status-timelines",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut all: Vec<Status> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|path| {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            let updates = v["incident_updates"].as_array().unwrap();
            Status {
                name: v["name"].as_str().unwrap().to_string(),
                impact: v["impact"].as_str().unwrap().to_string(),
                created: seconds(&v["created_at"]),
                started: seconds(&v["started_at"]),
                resolved: seconds(&v["resolved_at"]),
                investigating: updates
                    .iter()
                    .filter(|u| u["status"] == "investigating")
                    .map(|u| seconds(&u["created_at"]))
                    .min()
                    .unwrap(),
                services: v["components"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap().to_string())
                    .collect(),
            }
        })
        .collect();
    all.sort_by_key(|s| (s.started, s.resolved));
    all
}

/// numpy.percentile's default (linear between closest ranks), rounded.
fn percentile(values: &[i64], p: f64) -> Option<i64> {
    let mut v = values.to_vec();
    v.sort_unstable();
    let last = v.len().checked_sub(1)?;
    let h = last as f64 * p / 100.0;
    let (low, high) = (v[h.floor() as usize], v[h.ceil() as usize]);
    Some((low as f64 + (h - h.floor()) * (high - low) as f64).round() as i64)
}

fn summary_of(values: &[i64], excluded: serde_json::Value) -> serde_json::Value {
    let total: u64 = excluded
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    serde_json::json!({
        "n": values.len(),
        "median_seconds": percentile(values, 50.0),
        "p90_seconds": percentile(values, 90.0),
        "mean_seconds": (!values.is_empty()).then(|| {
            (values.iter().sum::<i64>() as f64 / values.len() as f64).round() as i64
        }),
        "excluded": total,
        "excluded_by_reason": excluded,
    })
}

/// Eighteen githubstatus.com incidents recorded as an importer would (as
/// historical, with their stated times), and the report's figures against
/// the same figures computed here straight from the fixture.
#[test]
fn report_figures_match_a_computation_from_the_status_page() {
    let mut repo = Repo::init();
    let config = repo.path.join("incidents/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    // Whatever zone `init` wrote: status pages give UTC.
    let utc: String = text
        .lines()
        .map(|l| {
            if l.starts_with("timezone = ") {
                "timezone = \"UTC\""
            } else {
                l
            }
        })
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&config, utc).unwrap();
    if !repo.git(&["status", "--porcelain"]).is_empty() {
        repo.git(&["commit", "-qam", "times in UTC"]);
    }
    let incidents = github_status();
    assert_eq!(incidents.len(), 18);
    for s in &incidents {
        let severity = match s.impact.as_str() {
            "critical" => "SEV1",
            "major" => "SEV2",
            _ => "SEV3",
        };
        let (created, started) = (rfc3339(s.created), rfc3339(s.started));
        let mut args = vec![
            s.name.as_str(),
            "--severity",
            severity,
            "--historical",
            "--at",
            &created,
            "--started-at",
            &started,
        ];
        for service in &s.services {
            args.extend(["--service", service.as_str()]);
        }
        let id = repo.declare(&args);
        let investigating = rfc3339(s.investigating);
        repo.ok(&[
            "update",
            &id,
            "--status",
            "investigating",
            "--at",
            &investigating,
        ]);
        let resolved = rfc3339(s.resolved);
        repo.ok(&[
            "resolve",
            &id,
            "--resolution",
            "see status page",
            "--at",
            &resolved,
        ]);
    }
    repo.now = "2023-10-06T00:00:00Z".into();
    let out = repo.ok(&[
        "--format",
        "json",
        "report",
        "--since",
        "2023-09-04",
        "--until",
        "2023-09-25",
    ]);
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    let m = &r["metrics"];
    let n = incidents.len() as u64;
    assert_eq!(m["incidents"], n);
    assert_eq!(m["historical"], n);
    // Nobody stated when any was detected or acknowledged: no time to
    // detect, acknowledge or declare, each left out as assumed.
    let assumed = serde_json::json!({"milestone_assumed": n});
    for figure in [
        "time_to_detect",
        "time_to_acknowledge",
        "time_to_declare",
        "time_to_mitigate",
    ] {
        assert_eq!(m[figure], summary_of(&[], assumed.clone()), "{figure}");
    }
    let resolve: Vec<i64> = incidents.iter().map(|s| s.resolved - s.started).collect();
    assert_eq!(
        m["time_to_resolve"],
        summary_of(&resolve, serde_json::json!({}))
    );
    // Investigating: from the first investigating update to resolved.
    let investigating: Vec<i64> = incidents
        .iter()
        .map(|s| s.resolved - s.investigating)
        .collect();
    assert_eq!(
        m["time_in_state"]["investigating"],
        summary_of(&investigating, serde_json::json!({}))
    );
    // Time between incidents, per service: each service's incidents by
    // start; a pair of incidents that follow each other on several
    // services is one gap.
    let mut pairs = std::collections::BTreeSet::new();
    let mut services: Vec<&String> = incidents.iter().flat_map(|s| &s.services).collect();
    services.sort();
    services.dedup();
    for service in services {
        let mine: Vec<usize> = (0..incidents.len())
            .filter(|&i| incidents[i].services.contains(service))
            .collect();
        for pair in mine.windows(2) {
            pairs.insert((pair[0], pair[1]));
        }
    }
    let mut gaps = Vec::new();
    let mut overlapping = 0;
    for (before, next) in pairs {
        let gap = incidents[next].started - incidents[before].resolved;
        if gap < 0 {
            overlapping += 1;
        } else {
            gaps.push(gap);
        }
    }
    let excluded = if overlapping > 0 {
        serde_json::json!({"out_of_order": overlapping})
    } else {
        serde_json::json!({})
    };
    assert_eq!(m["time_between_incidents"], summary_of(&gaps, excluded));
    // Historical: no postmortem overdue, no recording lag.
    assert_eq!(m["postmortems_overdue"], 0);
    assert_eq!(m["recording_lag"]["n"], 0);
    assert_eq!(
        m["recording_lag"]["excluded_by_reason"]["historical"],
        3 * n
    );
    // Incidents per ISO week of their start.
    let mut weeks = std::collections::BTreeMap::new();
    for s in &incidents {
        let week = chrono::DateTime::from_timestamp(s.started, 0)
            .unwrap()
            .iso_week();
        *weeks
            .entry(format!("{}-W{:02}", week.year(), week.week()))
            .or_insert(0u64) += 1;
    }
    let reported: std::collections::BTreeMap<String, u64> = r["incidents_per_week"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["week"].as_str().unwrap().to_string(),
                w["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(reported, weeks);
}
