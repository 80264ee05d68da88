//! `incident import` through the real binary: each source, the real public
//! datasets in ../shared/datasets (figures checked against the data
//! itself), idempotency, --dry-run, malformed records, --strict.

mod support;

use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};
use serde_json::Value;
use support::Repo;

fn datasets() -> PathBuf {
    // The shared datasets beside the project (CI has a copy there too).
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    for candidate in [
        here.join("../shared/datasets"),
        here.join("../../shared/datasets"),
    ] {
        if candidate.is_dir() {
            return candidate;
        }
    }
    PathBuf::from("/work/shared/datasets")
}

/// A repository whose config reads and shows UTC (cState's convention).
fn utc_repo() -> Repo {
    let repo = Repo::init();
    // Under TZ=UTC, `incident init` names the zone UTC: times without a
    // zone in the sources are read in it.
    let config = std::fs::read_to_string(repo.path.join("incidents/config.toml")).unwrap();
    assert!(config.contains("\ntimezone = \"UTC\"\n"), "{config}");
    repo
}

fn import_json(repo: &Repo, args: &[&str]) -> Value {
    let mut all = vec!["--format", "json", "import"];
    all.extend_from_slice(args);
    serde_json::from_str(&repo.ok(&all)).expect("import json")
}

fn check_is_clean(repo: &Repo) {
    let out = repo.run(&["check"]);
    assert!(
        out.status.success(),
        "incident check: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(": 0 errors, 0 warnings"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A percentile as numpy's default and Excel's PERCENTILE.INC compute it
/// (linear between the closest ranks), rounded to the second.
fn percentile(sorted: &[i64], p: f64) -> i64 {
    let position = p * (sorted.len() - 1) as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    let fraction = position - low as f64;
    (sorted[low] as f64 + (sorted[high] - sorted[low]) as f64 * fraction).round() as i64
}

/// (n, median, p90, mean), computed straight from the values.
fn figures(mut values: Vec<i64>) -> (usize, i64, i64, i64) {
    values.sort();
    let mean = (values.iter().sum::<i64>() as f64 / values.len() as f64).round() as i64;
    (
        values.len(),
        percentile(&values, 0.5),
        percentile(&values, 0.9),
        mean,
    )
}

fn report(repo: &Repo) -> Value {
    let out = repo.ok(&[
        "--format",
        "json",
        "report",
        "--since",
        "2000-01-01",
        "--until",
        "2026-11-01",
    ]);
    serde_json::from_str::<Value>(&out).unwrap()["metrics"].clone()
}

/// A cState time as the data writes it, read independently of incident:
/// zone-less times are UTC, hours may have one digit.
fn cstate_time(text: &str) -> DateTime<FixedOffset> {
    let text = text.trim().trim_matches('"');
    let (body, offset) = match text.rfind(['+', '-']).filter(|&p| p > 10) {
        Some(p) => (&text[..p], &text[p..]),
        None => (text, "+00:00"),
    };
    let body = body.replace('T', " ");
    let (date, time) = body.split_once(' ').unwrap();
    let time = if time.len() == 7 {
        format!("0{time}")
    } else {
        time.to_string()
    };
    let naive =
        NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M:%S").unwrap();
    let minutes: i32 =
        offset[1..3].parse::<i32>().unwrap() * 60 + offset[4..6].parse::<i32>().unwrap();
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    FixedOffset::east_opt(sign * minutes * 60)
        .unwrap()
        .from_local_datetime(&naive)
        .unwrap()
}

#[test]
fn the_jenkins_cstate_site_imports_with_the_figures_its_data_gives() {
    let repo = utc_repo();
    let dir = datasets().join("jenkins-status/content/issues");
    let before = repo.commit_count();
    let report_json = import_json(&repo, &["cstate", dir.to_str().unwrap()]);
    assert_eq!(report_json["found"], 297);
    assert_eq!(report_json["imported"].as_array().unwrap().len(), 297);
    assert_eq!(report_json["problems"], Value::Array(vec![]));
    assert_eq!(
        repo.commit_count(),
        before + 1,
        "one commit for the whole import"
    );
    let subject = repo.git(&["log", "-1", "--format=%s"]);
    assert_eq!(subject.trim(), "Import 297 incidents from cstate (issues)");
    check_is_clean(&repo);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");

    // What the data gives: time to resolve = resolvedWhen - date; a
    // resolution before the start is no duration.
    let mut durations = Vec::new();
    let mut before_start = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let field = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{key}:")))
                .map(str::trim)
                .unwrap()
                .to_string()
        };
        let seconds =
            (cstate_time(&field("resolvedWhen")) - cstate_time(&field("date"))).num_seconds();
        if seconds < 0 {
            before_start += 1;
        } else {
            durations.push(seconds);
        }
    }
    assert_eq!(before_start, 8);
    let (n, median, p90, mean) = figures(durations);
    let metrics = report(&repo);
    assert_eq!(metrics["incidents"], 297);
    let ttr = &metrics["time_to_resolve"];
    assert_eq!(
        (
            ttr["n"].as_u64().unwrap() as usize,
            ttr["median_seconds"].as_i64().unwrap(),
            ttr["p90_seconds"].as_i64().unwrap(),
            ttr["mean_seconds"].as_i64().unwrap()
        ),
        (n, median, p90, mean)
    );
    assert_eq!(ttr["excluded_by_reason"]["milestone_missing"], before_start);

    // The three incidents of tests/real_data.rs, as that test expects them.
    let shown = |source: &str| {
        let csv = repo.ok(&["export", "--format", "csv"]);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let headers = reader.headers().unwrap().clone();
        let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
        let row = reader
            .records()
            .map(|r| r.unwrap())
            .find(|r| &r[column("source_id")] == source)
            .unwrap();
        repo.show(&row[column("id")])
    };
    let postgres = shown("2026-06-11-postgres-public-db-upgrade");
    assert_eq!(postgres["services"].as_array().unwrap().len(), 4);
    assert_eq!(postgres["durations"]["time_to_resolve"], 30 * 60);
    let jira = shown("2021-12-15-jira-outage");
    assert_eq!(jira["milestones"]["resolved"], "2021-12-15T16:05:00+00:00");
    let puppet = shown("2021-09-23-puppet-outage");
    assert_eq!(puppet["status"], "resolved");
    assert!(puppet["milestones"]["resolved"].is_null(), "{puppet}");
    let notes = support::notes(&puppet);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("2021-09-20 13:00") && n.contains("left unset")),
        "{notes:?}"
    );

    // Again: nothing new, no commit, and it says so.
    let head = repo.git(&["rev-parse", "HEAD"]);
    let again = repo.ok(&["import", "cstate", dir.to_str().unwrap()]);
    assert!(
        again.contains("Nothing to import: all 297 incident(s) from cstate were imported before"),
        "{again}"
    );
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), head);
}

/// Seconds between two Statuspage times, truncated to whole seconds as incident stores them.
fn statuspage_seconds(text: &str) -> i64 {
    DateTime::parse_from_rfc3339(text).unwrap().timestamp()
}

#[test]
fn the_githubstatus_statuspage_history_imports_with_the_durations_its_data_gives() {
    let repo = utc_repo();
    let dir = datasets().join("github-status/incidents");
    let report_json = import_json(&repo, &["statuspage", dir.to_str().unwrap()]);
    assert_eq!(report_json["found"], 1282);
    assert_eq!(report_json["imported"].as_array().unwrap().len(), 1282);
    assert_eq!(report_json["problems"], Value::Array(vec![]));
    check_is_clean(&repo);
    // 832 updates of history migrated into Statuspage are HTML lists:
    // recorded as their text, never as tags the status page would show.
    let tags = std::process::Command::new("git")
        .args(["grep", "-l", "-E", "<(li|ul|strong)>", "--", "incidents"])
        .current_dir(&repo.path)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&tags.stdout), "");
    assert!(
        repo.git(&[
            "grep",
            "-c",
            "-F",
            "-e",
            "- 2010-07-29 02:06:00 - ",
            "--",
            "incidents"
        ])
        .contains(":1"),
    );

    // What the data gives per incident: resolved_at - started_at, where the
    // stated start is not after the first post (created_at).
    let mut expected = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let document: Value =
            serde_json::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap();
        let incident = &document["incident"];
        let created = statuspage_seconds(incident["created_at"].as_str().unwrap());
        let started = incident["started_at"]
            .as_str()
            .map(statuspage_seconds)
            .filter(|s| *s <= created);
        let resolved = incident["resolved_at"].as_str().map(statuspage_seconds);
        let duration = match (started, resolved) {
            (Some(s), Some(r)) if r >= s => Some(r - s),
            _ => None,
        };
        expected.insert(incident["id"].as_str().unwrap().to_string(), duration);
    }
    let csv = repo.ok(&["export", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let mut got = std::collections::BTreeMap::new();
    for row in reader.records() {
        let row = row.unwrap();
        assert_eq!(&row[column("historical")], "true");
        assert_eq!(&row[column("source_system")], "statuspage");
        let value = &row[column("time_to_resolve_seconds")];
        got.insert(
            row[column("source_id")].to_string(),
            (!value.is_empty()).then(|| value.parse::<i64>().unwrap()),
        );
    }
    assert_eq!(got, expected);
    let with_duration: Vec<i64> = expected.values().flatten().copied().collect();
    assert_eq!(with_duration.len(), 1276);
    assert_eq!(report(&repo)["incidents"], 1282);

    // One incident in detail: its updates are public updates again (so the
    // status page built from the repository shows them), its states status
    // changes.
    let row_of = |source: &str| {
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        reader
            .records()
            .map(|r| r.unwrap())
            .find(|r| &r[column("source_id")] == source)
            .unwrap()
    };
    let shown = repo.show(&row_of("00km0kwpz23b")[column("id")]);
    assert_eq!(shown["durations"]["time_to_resolve"], 4203);
    assert_eq!(shown["severity"], "SEV3");
    assert_eq!(shown["links"][0], "https://stspg.io/xh2z5s3wq1b8");
    let updates: Vec<&str> = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "comms")
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(updates.len(), 4, "{updates:?}");
    assert!(
        updates[0].contains("investigating") && updates[0].contains("We are investigating reports"),
        "{updates:?}"
    );
    assert!(support::notes(&shown).is_empty());
    let statuses: Vec<&str> = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "status")
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "status triage → investigating",
            "status investigating → resolved"
        ]
    );
}

/// No duration from a start nobody stated: `show`, the CSV export and the
/// report leave out the six githubstatus incidents whose stated start
/// comes after their first post (the import leaves that start unset), and
/// time to detect altogether, since no source states a detection.
#[test]
fn the_report_leaves_out_durations_from_assumed_starts() {
    let repo = utc_repo();
    let dir = datasets().join("github-status/incidents");
    repo.ok(&["import", "statuspage", dir.to_str().unwrap()]);
    let metrics = report(&repo);
    assert_eq!(metrics["time_to_resolve"]["n"], 1276);
    assert_eq!(metrics["time_to_detect"]["n"], 0);
}

#[test]
fn statuspage_files_with_bad_records_import_the_rest_unless_strict() {
    let repo = utc_repo();
    let dir = datasets().join("github-status/incidents");
    // The public incidents.json shape: several incidents in one file.
    let incidents: Vec<Value> = ["00km0kwpz23b", "00lscqwb6ht5", "00ymkms22sz7"]
        .iter()
        .map(|id| {
            let text = std::fs::read_to_string(dir.join(format!("{id}.json"))).unwrap();
            serde_json::from_str::<Value>(&text).unwrap()["incident"].clone()
        })
        .collect();
    let mut broken = incidents[2].clone();
    broken["created_at"] = Value::from("last Tuesday");
    let document = serde_json::json!({"page": {"id": "kctbh9vrtdwd", "name": "GitHub"}, "incidents": [incidents[0], incidents[1], broken]});
    let file = repo.home().join("incidents.json");
    std::fs::write(&file, serde_json::to_string_pretty(&document).unwrap()).unwrap();
    let file = file.to_str().unwrap();

    let state = repo.state();
    let err = repo.fails(1, &["import", "statuspage", file, "--strict"]);
    assert!(
        err.contains("1 malformed record(s)")
            && err.contains("incidents.json:")
            && err.contains("'last Tuesday' is not a time"),
        "{err}"
    );
    assert_eq!(repo.state(), state, "--strict wrote nothing");

    let dry = repo.ok(&["import", "statuspage", file, "--dry-run"]);
    assert!(dry.contains("Would import 2 incident(s)"), "{dry}");
    assert_eq!(repo.state(), state, "--dry-run wrote nothing");

    let out = repo.run(&["import", "statuspage", file]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = std::fs::read_to_string(repo.home().join("incidents.json"))
        .unwrap()
        .lines()
        .position(|l| l.contains("\"id\": \"00ymkms22sz7\""))
        .unwrap()
        + 1;
    assert!(
        stderr.contains(&format!(
            "incidents.json:{line}: created_at: 'last Tuesday' is not a time"
        )),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Imported 2 incident(s)"));
    check_is_clean(&repo);
    // Fixed and imported again: only the third is new.
    let again = import_json(
        &repo,
        &[
            "statuspage",
            dir.join("00ymkms22sz7.json").to_str().unwrap(),
        ],
    );
    assert_eq!(again["imported"].as_array().unwrap().len(), 1);
    let again = import_json(&repo, &["statuspage", dir.to_str().unwrap(), "--dry-run"]);
    assert_eq!(again["already_imported"], 3);
}

#[test]
fn a_csv_export_imports_with_a_column_mapping() {
    let repo = utc_repo();
    let csv = "Incident Number,Title,Urgency,Service,Created,Acknowledged,Resolved\n\
               PD-1,Checkout errors,high,checkout;payments,15/11/2026 02:40,15/11/2026 02:45,15/11/2026 03:40\n\
               PD-2,Slow search,low,search,16/11/2026 10:00,,16/11/2026 11:30\n\
               PD-3,Bad row,high,search,yesterday-ish,,\n\
               PD-4,Resolved before created,low,search,17/11/2026 10:00,,17/11/2026 09:00\n";
    std::fs::write(repo.home().join("pagerduty.csv"), csv).unwrap();
    std::fs::write(
        repo.home().join("pagerduty.toml"),
        "system = \"pagerduty\"\ntime_format = \"%d/%m/%Y %H:%M\"\ntimezone = \"Europe/Berlin\"\n\n[severity]\nhigh = \"SEV2\"\nlow = \"SEV4\"\n\n[columns]\nid = \"Incident Number\"\ntitle = \"Title\"\nseverity = \"Urgency\"\nservices = \"Service\"\nstarted = \"Created\"\nacknowledged = \"Acknowledged\"\nresolved = \"Resolved\"\n",
    )
    .unwrap();
    let file = repo.home().join("pagerduty.csv");
    let map = repo.home().join("pagerduty.toml");
    let args = [
        "import",
        "csv",
        file.to_str().unwrap(),
        "--map",
        map.to_str().unwrap(),
    ];
    let out = repo.run(&args);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pagerduty.csv:4: column 'Created': 'yesterday-ish' is not a time in the format %d/%m/%Y %H:%M"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Imported 3 incident(s)"));
    check_is_clean(&repo);
    let list: Value =
        serde_json::from_str(&repo.ok(&["--format", "json", "list", "--all"])).unwrap();
    let first = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"] == "Checkout errors")
        .unwrap();
    let shown = repo.show(first["id"].as_str().unwrap());
    // Read in Berlin time (the offset is kept); an hour to resolve, acknowledged as stated.
    assert_eq!(shown["milestones"]["started"], "2026-11-15T02:40:00+01:00");
    assert_eq!(shown["durations"]["time_to_resolve"], 3600);
    assert_eq!(shown["durations"]["time_to_acknowledge"], Value::Null);
    assert_eq!(
        shown["milestones"]["acknowledged"],
        "2026-11-15T02:45:00+01:00"
    );
    assert_eq!(shown["severity"], "SEV2");
    assert_eq!(
        shown["services"],
        serde_json::json!(["checkout", "payments"])
    );
    let toml = std::fs::read_to_string(
        repo.path
            .join(shown["folder"].as_str().unwrap())
            .join("incident.toml"),
    )
    .unwrap();
    assert!(
        toml.contains("historical = true")
            && toml.contains("system = \"pagerduty\"")
            && toml.contains("id = \"PD-1\""),
        "{toml}"
    );
    // Idempotent.
    let again = repo.ok(&args);
    assert!(
        again.contains("Nothing imported from csv (4 found, 3 imported before, 1 malformed)"),
        "{again}"
    );
}

/// A team moving off Atlassian Statuspage keeps its public history: each
/// imported update is a public update again, at the time the page showed it
/// (`display_at`: one fixture's update was typed in 2018 for a 2010
/// incident), and the incident keeps the impact the page stated, so the
/// status page built from the repository republishes the same incidents.
#[test]
fn an_imported_statuspage_history_is_republished_by_the_status_page() {
    let repo = utc_repo();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/github-status");
    repo.ok(&["import", "statuspage", fixtures.to_str().unwrap()]);
    check_is_clean(&repo);
    let site = repo.home().join("site");
    repo.ok(&["status-page", "build", "--output", site.to_str().unwrap()]);
    let built: Value =
        serde_json::from_str(&std::fs::read_to_string(site.join("api/v2/incidents.json")).unwrap())
            .unwrap();
    // (name, status, impact, [(display time, update status, body)]) of each incident.
    type Published = Vec<(String, String, String, Vec<(i64, String, String)>)>;
    let published = |incident: &Value, body_of: &dyn Fn(&Value) -> String| {
        let updates = incident["incident_updates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                (
                    statuspage_seconds(u["display_at"].as_str().unwrap()),
                    u["status"].as_str().unwrap().to_string(),
                    body_of(u).trim().to_string(),
                )
            })
            .collect();
        (
            incident["name"].as_str().unwrap().to_string(),
            incident["status"].as_str().unwrap().to_string(),
            incident["impact"].as_str().unwrap().to_string(),
            updates,
        )
    };
    let body = |u: &Value| u["body"].as_str().unwrap().to_string();
    let mut republished: Published = built["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| published(i, &body))
        .collect();
    let mut source: Published = Vec::new();
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        source.push(published(&file["incident"], &body));
    }
    for list in [&mut republished, &mut source] {
        list.sort();
        for (_, _, _, updates) in list.iter_mut() {
            updates.sort();
        }
    }
    assert_eq!(source.len(), 3);
    // The data has what this test is about: a back-dated update, and an
    // impact (major) that no component state would give.
    let migrated = source
        .iter()
        .find(|i| i.0.starts_with("Incident on 2010"))
        .unwrap();
    assert_eq!(migrated.2, "major");
    assert_eq!(migrated.3[0].0, statuspage_seconds("2010-03-04T00:29:00Z"));
    // Its body is an HTML list, republished as the text it says (the page
    // holds plain text and escapes it; tags would show).
    assert!(
        migrated.3[0]
            .2
            .starts_with("<ul><li><strong>2010-03-04 00:29:00</strong> - ")
    );
    let as_text = "- 2010-03-04 00:29:00 - We're investigating why users are getting \"No such file or directory - /data/github/current/config/database.yml\" when pushing\n- 2010-03-04 00:39:00 - database.yml is back, we're investigating the cause";
    for incident in source.iter_mut() {
        if incident.0.starts_with("Incident on 2010") {
            incident.3[0].2 = as_text.to_string();
        }
    }
    assert_eq!(republished, source);
}

/// Imported history owes nobody an update: `comms due` after importing the
/// Jenkins site lists nothing and exits 0. An imported incident owes one
/// only once something new happens on it, counted from then; and the exit
/// code tells "overdue" (1) from "could not tell" (2).
#[test]
fn imported_history_owes_no_update_until_something_new_happens() {
    let mut repo = utc_repo();
    let dir = datasets().join("jenkins-status/content/issues");
    repo.ok(&["import", "cstate", dir.to_str().unwrap()]);
    // One incident still open at the import, from a site of our own.
    let open_site = repo.home().join("open-site");
    std::fs::create_dir_all(&open_site).unwrap();
    std::fs::write(
        open_site.join("2026-11-20-mirror-down.md"),
        "---\ntitle: Mirror down\ndate: 2026-11-20 08:00:00\nresolved: false\nseverity: down\naffected:\n  - mirrors\n---\nThe mirror is down.\n",
    )
    .unwrap();
    repo.ok(&["import", "cstate", open_site.to_str().unwrap()]);

    let due = repo.run(&["--format", "json", "comms", "due", "--all"]);
    assert_eq!(due.status.code(), Some(0), "{due:?}");
    let owed: Value = serde_json::from_slice(&due.stdout).unwrap();
    assert_eq!(owed, serde_json::json!([]));
    assert!(repo.run(&["comms", "due"]).status.success());

    // A note on an old resolved incident is no news to the public.
    let ids: Value =
        serde_json::from_str(&repo.ok(&["--format", "json", "list", "--all"])).unwrap();
    let id_of = |title: &str| {
        ids.as_array()
            .unwrap()
            .iter()
            .find(|i| i["title"] == title)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let old = id_of("PostgreSQL Database upgrade");
    let open = id_of("Mirror down");
    repo.now = "2026-11-24T10:30:00Z".into();
    repo.ok(&["update", &old, "-m", "linked from the new runbook"]);
    assert!(repo.run(&["comms", "due"]).status.success());

    // Work resumes on the open one: its first public update is due five
    // minutes after that (SEV2's cadence), not five minutes after 2026-11-20.
    repo.ok(&["update", &open, "-m", "looking at it again"]);
    let owed: Value =
        serde_json::from_str(&repo.ok(&["--format", "json", "comms", "due", "--all"])).unwrap();
    assert_eq!(owed.as_array().unwrap().len(), 1, "{owed}");
    assert_eq!(owed[0]["id"], open.as_str());
    assert_eq!(owed[0]["reason"], "first");
    assert_eq!(owed[0]["due"], "2026-11-24T10:35:00+00:00");
    assert_eq!(owed[0]["overdue"], false);
    repo.now = "2026-11-24T10:40:00Z".into();
    let stderr = repo.fails(1, &["comms", "due"]);
    assert!(stderr.contains("1 update is overdue"), "{stderr}");

    // An error is not "overdue".
    let outside = repo.home().join("not-a-repo");
    std::fs::create_dir_all(&outside).unwrap();
    let out = repo.run_in(&outside, &["comms", "due"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not inside a git repository"));
}

/// cState's `resolved: true` without `resolvedWhen` resolves the incident,
/// but its resolution time is unknown: the resolved milestone stays unset
/// (no time to resolve is made up), and the timeline says why. A track
/// whose time does not parse is a malformed record (file, line, field),
/// never merged into the update before it.
#[test]
fn cstate_resolutions_without_a_time_and_tracks_that_do_not_parse() {
    let repo = utc_repo();
    let site = repo.home().join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(
        site.join("2024-01-01-mirror.md"),
        "---\ntitle: Mirror down\ndate: 2024-01-01 09:00:00\nresolved: true\nseverity: down\n---\nThe mirror is down.\n{{< track \"2024-01-01 09:30:00\" >}}\nFixed, we think.\n",
    )
    .unwrap();
    let bad = "---\ntitle: Bad track\ndate: 2024-02-01 09:00:00\nresolved: true\nresolvedWhen: 2024-02-01 11:00:00\nseverity: down\n---\nFirst.\n\n{{< track \"2024-02-01 10:00:00\" >}}\nok\n{{< track \"Feb 1st, 10ish\" >}}\nLater.\n";
    std::fs::write(site.join("2024-02-01-bad.md"), bad).unwrap();

    let before = repo.state();
    let err = repo.fails(1, &["import", "cstate", site.to_str().unwrap(), "--strict"]);
    let bad_file = site.join("2024-02-01-bad.md");
    let located = format!(
        "{}:12: track: 'Feb 1st, 10ish' is not a time",
        bad_file.display()
    );
    assert!(err.contains(&located), "{err}");
    assert_eq!(repo.state(), before);

    let out = repo.run(&["import", "cstate", site.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains(&located));
    check_is_clean(&repo);
    let listed: Value =
        serde_json::from_str(&repo.ok(&["--format", "json", "list", "--all"])).unwrap();
    assert_eq!(
        listed.as_array().unwrap().len(),
        1,
        "the bad one is skipped"
    );
    let id = listed[0]["id"].as_str().unwrap().to_string();
    let shown = repo.show(&id);
    assert_eq!(shown["status"], "resolved", "{shown}");
    assert!(shown["milestones"].get("resolved").is_none(), "{shown}");
    let timeline = repo.ok(&["show", &id]);
    assert!(
        timeline.contains("resolved: true, no resolvedWhen"),
        "{timeline}"
    );
    let metrics = report(&repo);
    assert_eq!(metrics["time_to_resolve"]["n"], 0, "{metrics}");
    // Nor is the time in triage (the first state) measured to a made-up end.
    let investigating = &metrics["time_in_state"]["triage"];
    assert_eq!(investigating["n"], 0, "{investigating}");
    assert_eq!(
        investigating["excluded_by_reason"]["milestone_assumed"], 1,
        "{investigating}"
    );
    let shown = repo.ok(&["show", &id]);
    assert!(shown.contains("resolved unset"), "{shown}");
}

/// The CSV's status column is the state the incident is in: a PagerDuty
/// `acknowledged` row is open in investigating, a `resolved` row without a
/// resolution time is resolved with its resolved time left unknown, a
/// status whose milestone the row states is entered then, and a status
/// nobody can map is a malformed row that says how to map it.
#[test]
fn the_csv_status_column_sets_the_state() {
    let repo = utc_repo();
    let csv = "id,title,severity,status,started,mitigated,resolved\n\
               PD-1,Still looking,SEV3,acknowledged,2026-11-15 02:40,,\n\
               PD-2,Fixed at some point,SEV3,resolved,2026-11-16 10:00,,\n\
               PD-3,Mitigated,SEV3,mitigated,2026-11-17 10:00,2026-11-17 10:30,\n\
               PD-4,Resolved with a time,SEV3,resolved,2026-11-18 10:00,,2026-11-18 11:00\n\
               PD-5,Odd state,SEV3,snoozed,2026-11-19 10:00,,\n";
    let file = repo.home().join("export.csv");
    std::fs::write(&file, csv).unwrap();
    let out = repo.run(&["import", "csv", file.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("export.csv:6: ")
            && stderr.contains("'snoozed'")
            && stderr.contains("[status]"),
        "{stderr}"
    );
    check_is_clean(&repo);
    let list: Value =
        serde_json::from_str(&repo.ok(&["--format", "json", "list", "--all"])).unwrap();
    let shown = |title: &str| {
        let id = list
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["title"] == title)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        repo.show(&id)
    };
    assert_eq!(shown("Still looking")["status"], "investigating");
    let unknown = shown("Fixed at some point");
    assert_eq!(unknown["status"], "resolved");
    assert!(unknown["milestones"].get("resolved").is_none(), "{unknown}");
    assert_eq!(unknown["durations"]["time_to_resolve"], Value::Null);
    let mitigated = shown("Mitigated");
    assert_eq!(mitigated["status"], "mitigated");
    assert_eq!(mitigated["durations"]["time_to_mitigate"], 1800);
    let timed = shown("Resolved with a time");
    assert_eq!(timed["status"], "resolved");
    assert_eq!(timed["durations"]["time_to_resolve"], 3600);
}

/// Statuspage's times have milliseconds; records keep times to the
/// second. The import says how many it stored without their fraction
/// (output, JSON, commit message) instead of dropping them silently.
#[test]
fn an_import_says_when_it_drops_fractions_of_a_second() {
    let repo = utc_repo();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/github-status");
    let dry = import_json(
        &repo,
        &["statuspage", fixtures.to_str().unwrap(), "--dry-run"],
    );
    let dropped = dry["fractions_of_seconds_dropped"].as_u64().unwrap();
    assert!(dropped > 0, "{dry}");
    let out = repo.run(&["import", "statuspage", fixtures.to_str().unwrap()]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{dropped} stated time(s) had a fraction of a second"
        )),
        "{stderr}"
    );
    let message = repo.git(&["log", "-1", "--format=%B"]);
    assert!(
        message.contains(&format!(
            "{dropped} stated time(s) had a fraction of a second"
        )),
        "{message}"
    );
    // Whole-second sources say nothing of the kind.
    let site = repo.home().join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(
        site.join("2024-01-01-dns.md"),
        "---\ntitle: DNS\ndate: 2024-01-01 09:00:00\nresolved: true\nresolvedWhen: 2024-01-01 10:00:00\n---\nDown.\n",
    )
    .unwrap();
    let whole = import_json(&repo, &["cstate", site.to_str().unwrap()]);
    assert_eq!(whole["fractions_of_seconds_dropped"], 0, "{whole}");
}
