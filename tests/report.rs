//! `incident report` through the real binary, on repositories built with
//! the real commands and back-dated times; every figure is checked against
//! a value computed by hand in the comments.

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use support::{Repo, base_env};

/// Report time: Tuesday of ISO week 48, so the default period is 2026-W47
/// (Mon 2026-11-16 00:00 to Mon 2026-11-23 00:00 UTC).
const REPORT_NOW: &str = "2026-11-24T10:00:00Z";

fn at(repo: &mut Repo, now: &str) {
    repo.now = now.to_string();
}

/// git with a fixed commit time.
fn git_at(repo: &Repo, dir: &Path, when: &str, args: &[&str]) -> String {
    let mut cmd = Command::new("git");
    base_env(&mut cmd, &repo.home());
    let out = cmd
        .current_dir(dir)
        .env("GIT_AUTHOR_DATE", when)
        .env("GIT_COMMITTER_DATE", when)
        .args(args)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn report_json(repo: &mut Repo, args: &[&str]) -> Value {
    at(repo, REPORT_NOW);
    let mut all = vec!["--format", "json", "report"];
    all.extend_from_slice(args);
    serde_json::from_str(&repo.ok(&all)).expect("report json")
}

fn summary(
    n: u64,
    median: Option<i64>,
    p90: Option<i64>,
    mean: Option<i64>,
    excluded: Value,
) -> Value {
    let total: u64 = excluded
        .as_object()
        .map(|o| o.values().map(|v| v.as_u64().unwrap()).sum())
        .unwrap_or(0);
    json!({
        "n": n,
        "median_seconds": median,
        "p90_seconds": p90,
        "mean_seconds": mean,
        "excluded": total,
        "excluded_by_reason": excluded,
    })
}

/// Incidents A–F (see each comment), deployments deploy-1..3.
fn scenario() -> (Repo, Vec<String>) {
    let mut repo = Repo::init();
    std::fs::OpenOptions::new()
        .append(true)
        .open(repo.path.join("incidents/config.toml"))
        .and_then(|mut f| {
            std::io::Write::write_all(&mut f, b"\n[deployments]\ntag_pattern = \"deploy-*\"\n")
        })
        .unwrap();
    repo.git(&["add", "incidents/config.toml"]);
    git_at(
        &repo,
        &repo.path.clone(),
        "2026-11-01T00:00:00Z",
        &["commit", "-q", "-m", "deployments"],
    );
    // Deployments: code commits tagged in W47 (deploy-1, deploy-2, deploy-3) and one before.
    for (i, when) in [
        "2026-11-09T08:00:00Z",
        "2026-11-16T08:00:00Z",
        "2026-11-17T08:00:00Z",
        "2026-11-18T08:00:00Z",
    ]
    .iter()
    .enumerate()
    {
        std::fs::write(repo.path.join("app.txt"), format!("v{i}\n")).unwrap();
        repo.git(&["add", "app.txt"]);
        git_at(
            &repo,
            &repo.path.clone(),
            when,
            &["commit", "-q", "-m", &format!("deploy {i}")],
        );
        git_at(
            &repo,
            &repo.path.clone(),
            when,
            &["tag", &format!("deploy-{i}")],
        );
    }

    // F (previous window): SEV2 api, started 11-10 09:00, declared 10:00,
    // resolved 11:00; postmortem published 11-12 10:00.
    at(&mut repo, "2026-11-10T10:00:00Z");
    let f = repo.declare(&[
        "F",
        "-s",
        "SEV2",
        "--service",
        "api",
        "--started-at",
        "2026-11-10 09:00",
    ]);
    at(&mut repo, "2026-11-10T11:00:00Z");
    repo.ok(&["resolve", &f, "--resolution", "fixed"]);
    at(&mut repo, "2026-11-12T10:00:00Z");
    repo.ok(&["update", &f, "--milestone", "postmortem_published"]);

    // A: SEV1 api, started 11-16 10:00, detected 10:10, declared 10:20,
    // acknowledged 10:30, mitigated 11:00 (written down 11:05), resolved 12:00.
    // Caused by deploy-1.
    at(&mut repo, "2026-11-16T10:20:00Z");
    let a = repo.declare(&[
        "A",
        "-s",
        "SEV1",
        "--service",
        "api",
        "--started-at",
        "2026-11-16 10:00",
        "--detected-at",
        "2026-11-16 10:10",
    ]);
    at(&mut repo, "2026-11-16T10:30:00Z");
    repo.ok(&["ack", &a]);
    at(&mut repo, "2026-11-16T11:05:00Z");
    repo.ok(&[
        "update",
        &a,
        "--status",
        "mitigated",
        "--at",
        "2026-11-16 11:00",
        "--caused-by",
        "deploy-1",
    ]);
    at(&mut repo, "2026-11-16T12:00:00Z");
    repo.ok(&["resolve", &a, "--resolution", "rolled back"]);

    // B: SEV2 api, started 11-18 09:00, detected 09:05, declared 09:15,
    // resolved 13:00 but written down only the next morning at 09:00 (20 h late).
    // Caused by the commit that deploy-3 points at (named by its id).
    at(&mut repo, "2026-11-18T09:15:00Z");
    let b = repo.declare(&[
        "B",
        "-s",
        "SEV2",
        "--service",
        "api",
        "--started-at",
        "2026-11-18 09:00",
        "--detected-at",
        "2026-11-18 09:05",
    ]);
    let deploy3 = repo
        .git(&["rev-parse", "deploy-3^{commit}"])
        .trim()
        .to_string();
    at(&mut repo, "2026-11-19T09:00:00Z");
    repo.ok(&[
        "resolve",
        &b,
        "--at",
        "2026-11-18 13:00",
        "--resolution",
        "fixed",
    ]);
    repo.ok(&[
        "update",
        &b,
        "--caused-by",
        &deploy3[..12],
        "--at",
        "2026-11-18 13:00",
    ]);

    // E: SEV3 api, a false alarm: cancelled, so left out of every figure.
    at(&mut repo, "2026-11-19T10:00:00Z");
    let e = repo.declare(&["E", "-s", "SEV3", "--service", "api"]);
    at(&mut repo, "2026-11-19T10:30:00Z");
    repo.ok(&["cancel", &e, "--reason", "false alarm"]);

    // C: SEV1 db, still open: started 11-20 07:30, detected 07:45,
    // declared 08:00, acknowledged 08:10.
    at(&mut repo, "2026-11-20T08:00:00Z");
    let c = repo.declare(&[
        "C",
        "-s",
        "SEV1",
        "--service",
        "db",
        "--started-at",
        "2026-11-20 07:30",
        "--detected-at",
        "2026-11-20 07:45",
    ]);
    at(&mut repo, "2026-11-20T08:10:00Z");
    repo.ok(&["ack", &c]);

    // D: SEV2 db, started 09:00, detected 09:30, declared 10:00, resolved
    // 11:00; then someone edits `started_at` by hand to 12:00, after
    // `detected` and `resolved`: out of order.
    at(&mut repo, "2026-11-21T10:00:00Z");
    let d = repo.declare(&[
        "D",
        "-s",
        "SEV2",
        "--service",
        "db",
        "--started-at",
        "2026-11-21 09:00",
        "--detected-at",
        "2026-11-21 09:30",
    ]);
    at(&mut repo, "2026-11-21T11:00:00Z");
    repo.ok(&["resolve", &d, "--resolution", "fixed"]);
    let folder = repo.show(&d)["folder"].as_str().unwrap().to_string();
    let file = repo.path.join(&folder).join("incident.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let edited = text.replace(
        "started_at = 2026-11-21T09:00:00Z",
        "started_at = 2026-11-21T12:00:00Z",
    );
    assert_ne!(text, edited, "{text}");
    std::fs::write(&file, edited).unwrap();
    repo.git(&["add", "-A", "incidents"]);
    git_at(
        &repo,
        &repo.path.clone(),
        "2026-11-22T09:00:00Z",
        &["commit", "-q", "-m", "fix start time by hand"],
    );
    (repo, vec![a, b, c, d, e, f])
}

#[test]
fn figures_match_hand_computed_values() {
    let (mut repo, _) = scenario();
    let r = report_json(&mut repo, &[]);
    assert_eq!(r["period"]["label"], "2026-W47");
    assert_eq!(r["period"]["since"], "2026-11-16T00:00:00+00:00");
    assert_eq!(r["period"]["until"], "2026-11-23T00:00:00+00:00");
    let m = &r["metrics"];
    // A, B, C, D started in W47; E is cancelled.
    assert_eq!(m["incidents"], 4);
    assert_eq!(m["ignored"], json!({"cancelled": 1}));
    // Percentiles interpolate between closest ranks (numpy's default): the
    // p90 of n sorted values sits at position 0.9 (n − 1).
    // Detect: A 600, B 300, C 900; D out of order. p90 at 1.8: 600 + 0.8·300.
    assert_eq!(
        m["time_to_detect"],
        summary(
            3,
            Some(600),
            Some(840),
            Some(600),
            json!({"out_of_order": 1})
        )
    );
    // Acknowledge: A 1200, C 1500; B and D were only resolved, which
    // implies `acknowledged` without anybody stating it: assumed, left out.
    assert_eq!(
        m["time_to_acknowledge"],
        summary(
            2,
            Some(1350),
            Some(1470),
            Some(1350),
            json!({"milestone_assumed": 2})
        )
    );
    // Declare: A 600, B 600, C 900, D 1800: median (600 + 900) / 2, p90 at
    // 2.7: 900 + 0.7·900.
    assert_eq!(
        m["time_to_declare"],
        summary(4, Some(750), Some(1530), Some(975), json!({}))
    );
    // Mitigate: A 3600; B and D implied (assumed); C still open.
    assert_eq!(
        m["time_to_mitigate"],
        summary(
            1,
            Some(3600),
            Some(3600),
            Some(3600),
            json!({"milestone_assumed": 2, "still_open": 1})
        )
    );
    // Resolve: A 7200, B 14400; C still open; D out of order. p90 at 0.9:
    // 7200 + 0.9·7200.
    let two_left_out = json!({"out_of_order": 1, "still_open": 1});
    assert_eq!(
        m["time_to_resolve"],
        summary(2, Some(10800), Some(13680), Some(10800), two_left_out)
    );
    // Between, per service: api F resolved 11-10 11:00 → A started 11-16 10:00 = 514800,
    // A resolved 11-16 12:00 → B started 11-18 09:00 = 162000; db: C still open → D.
    assert_eq!(
        m["time_between_incidents"],
        summary(
            2,
            Some(338400),
            Some(479520),
            Some(338400),
            json!({"still_open": 1})
        )
    );
    // States: triage A 600, B 13500, C 600, D 3600; investigating A 1800, C still
    // in it; mitigated A 3600. Resolved is not an open state: not timed.
    assert_eq!(
        m["time_in_state"]["triage"],
        summary(4, Some(2100), Some(10530), Some(4575), json!({}))
    );
    assert!(m["time_in_state"].get("resolved").is_none());
    assert_eq!(
        m["time_in_state"]["investigating"],
        summary(
            1,
            Some(1800),
            Some(1800),
            Some(1800),
            json!({"still_open": 1})
        )
    );
    assert_eq!(
        m["time_in_state"]["mitigated"],
        summary(1, Some(3600), Some(3600), Some(3600), json!({}))
    );
    assert_eq!(m["open_at_end"], 1);
    // Postmortems: none of A–D published; C still open. Overdue at the end
    // of W47: A (SEV1, due 3 days after 11-16 12:00). F was published.
    assert_eq!(
        m["postmortem_lead_time"],
        summary(
            0,
            None,
            None,
            None,
            json!({"milestone_missing": 3, "still_open": 1})
        )
    );
    assert_eq!(m["postmortems_overdue"], 1);
    // Recording lag of declarations and events stated in W47 (E left out);
    // `ack` writes two events (status, milestone), `update --status X
    // --caused-by Y` two (status, cause):
    // A: declaration 0, ack 0 0, mitigated 300, cause 300, resolved 0;
    // B: declaration 0, resolved 72000 (late), cause 72000 (late);
    // C: declaration 0, ack 0 0; D: declaration 0, resolved 0.
    // 14 values: ten 0, 300, 300, 72000, 72000. Median at 6.5: 0; p90 at
    // 11.7: 300 + 0.7·71700 = 50490; mean 144600 / 14 = 10328.6.
    let lag = &m["recording_lag"];
    assert_eq!(lag["n"], 14, "{lag}");
    assert_eq!(lag["median_seconds"], 0);
    assert_eq!(lag["p90_seconds"], 50490);
    assert_eq!(lag["mean_seconds"], 10329);
    assert_eq!(lag["late"], 2);
    // Deployments in W47: deploy-1, deploy-2, deploy-3; failed: deploy-1 (by
    // tag), deploy-3 (by commit).
    let cfr = &m["change_failure_rate"];
    assert_eq!(cfr["deployments"], 3);
    assert_eq!(cfr["failed"], 2);
    assert_eq!(cfr["rate"], 0.6667);
    assert_eq!(cfr["failed_tags"], json!(["deploy-1", "deploy-3"]));
    // No action items in this scenario (see action_items_opened_done_and_overdue).
    assert_eq!(
        m["action_items"],
        json!({"available": true, "opened": 0, "done": 0, "done_within_due": 0, "dropped": 0,
               "open_at_end": 0, "overdue": 0})
    );
    assert_eq!(
        r["incidents_per_week"],
        json!([{"week": "2026-W47", "count": 4}])
    );
    // The four weeks before, but only from the day the record starts: the
    // earliest incident, F, started 11-10 (the config was committed later,
    // on 11-24): 11-10 to 11-16, 6/7 of a week. F only (resolve 7200),
    // postmortem lead 169200 (47 h).
    assert_eq!(r["previous"]["since"], "2026-11-10T00:00:00+00:00");
    assert_eq!(r["previous"]["until"], "2026-11-16T00:00:00+00:00");
    assert_eq!(r["previous"]["periods"], 0.8571);
    let p = &r["previous_metrics"];
    assert_eq!(p["incidents"], 1);
    assert_eq!(
        p["time_to_resolve"],
        summary(1, Some(7200), Some(7200), Some(7200), json!({}))
    );
    assert_eq!(
        p["postmortem_lead_time"],
        summary(1, Some(169200), Some(169200), Some(169200), json!({}))
    );
    // deploy-0 (11-09) lies before the record starts.
    assert_eq!(p["change_failure_rate"]["deployments"], 0);
    // 4 incidents now against 1 in 0.857 weeks: if the rate had not
    // changed, each of the 5 would fall now with p = 1 / (1 + 6/7) = 7/13;
    // 4 of 5 is not unlikely then (two-sided binomial p = 0.3824).
    assert_eq!(
        r["comparison"]["incidents"],
        json!({"test": "poisson_rate", "n": 4, "previous_n": 1, "p_value": 0.3824, "verdict": "noise"})
    );
    assert_eq!(r["comparison"]["time_to_resolve"]["verdict"], "too_few");
    assert_eq!(r["trend"].as_array().unwrap().len(), 12);
    assert_eq!(
        r["trend"][11],
        json!({"week": "2026-W47", "recorded": true, "incidents": 4,
               "median_time_to_resolve_seconds": 10800})
    );
    // Distributions of the period: resolve A 2 h, B 4 h; mitigate A 1 h.
    let buckets = |key: &str| -> Vec<u64> {
        r["distributions"][key]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["count"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(buckets("time_to_resolve"), [0, 0, 1, 1, 0, 0]);
    assert_eq!(buckets("time_to_mitigate"), [0, 0, 1, 0, 0, 0]);
    assert_eq!(
        r["distributions"]["time_to_resolve"][3]["bucket"],
        "< 1 day"
    );
    // Per service and trend week: api F in W46, A and B in W47; db C, D in W47.
    let mut api = vec![0; 12];
    api[10] = 1;
    api[11] = 2;
    let mut db = vec![0; 12];
    db[11] = 2;
    assert_eq!(r["trend_by_service"], json!({"api": api, "db": db}));
    // Nothing started after W47 up to the report (11-24).
    assert_eq!(r["after_period"]["incidents"], 0);
    assert_eq!(
        r["trend"][10],
        json!({"week": "2026-W46", "recorded": true, "incidents": 1,
               "median_time_to_resolve_seconds": 7200})
    );
}

#[test]
fn breakdown_by_severity_and_service() {
    let (mut repo, _) = scenario();
    let r = report_json(&mut repo, &["--by", "severity"]);
    let sev = &r["by"]["severity"];
    // SEV1: A 7200, C still open. SEV2: B 14400, D out of order.
    assert_eq!(
        sev["SEV1"]["time_to_resolve"],
        summary(
            1,
            Some(7200),
            Some(7200),
            Some(7200),
            json!({"still_open": 1})
        )
    );
    assert_eq!(
        sev["SEV2"]["time_to_resolve"],
        summary(
            1,
            Some(14400),
            Some(14400),
            Some(14400),
            json!({"out_of_order": 1})
        )
    );
    assert_eq!(sev["SEV3"]["incidents"], 0);
    assert_eq!(sev["SEV3"]["ignored"], json!({"cancelled": 1}));
    assert_eq!(sev["SEV1"]["open_at_end"], 1);
    assert_eq!(sev["SEV5"]["incidents"], 0);
    // SEV2 failed deployments: only deploy-3 (B); deploy-1 was A's (SEV1).
    assert_eq!(
        sev["SEV2"]["change_failure_rate"]["failed_tags"],
        json!(["deploy-3"])
    );

    let r = report_json(&mut repo, &["--by", "service"]);
    let svc = &r["by"]["service"];
    assert_eq!(svc["api"]["incidents"], 2);
    assert_eq!(
        svc["api"]["time_to_resolve"],
        summary(2, Some(10800), Some(13680), Some(10800), json!({}))
    );
    assert_eq!(
        svc["db"]["time_to_resolve"],
        summary(
            0,
            None,
            None,
            None,
            json!({"out_of_order": 1, "still_open": 1})
        )
    );
    assert_eq!(
        svc["api"]["time_between_incidents"],
        summary(2, Some(338400), Some(479520), Some(338400), json!({}))
    );
}

#[test]
fn every_format_renders_and_output_is_byte_identical() {
    let (mut repo, _) = scenario();
    at(&mut repo, REPORT_NOW);
    for format in ["table", "markdown", "json", "csv", "html"] {
        let first = repo.ok(&["--format", format, "report", "--by", "severity"]);
        let second = repo.ok(&["--format", format, "report", "--by", "severity"]);
        assert_eq!(first, second, "{format}");
        assert!(first.contains("SEV1"), "{format}: {first}");
    }
    let md = repo.ok(&["--format", "markdown", "report"]);
    assert!(
        md.contains(
            "| Time to resolve | [2](#time-to-resolve) | 3h 00m | 3h 48m | 3h 00m | 2 (1 out of order, 1 still open) |"
        ),
        "{md}"
    );
    assert!(md.contains("`started → resolved`"), "{md}");
    // On standard output (a CI job summary) nothing beside the report
    // exists: the charts are text, never inline SVG that viewers strip.
    assert_eq!(md.matches("<svg").count(), 0, "{md}");
    assert!(md.contains("```text\nIncidents per week"), "{md}");
    let html = repo.ok(&["--format", "html", "report"]);
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    // Trend, weekly median, two distributions, the service heat map.
    assert_eq!(html.matches("<svg").count(), 5);
    let csv = repo.ok(&["--format", "csv", "report"]);
    assert!(
        csv.contains("all,time_to_resolve,2,10800,13680,10800,2,out_of_order=1;still_open=1,"),
        "{csv}"
    );
    repo.ok(&[
        "--format",
        "markdown",
        "report",
        "--output",
        "reports/2026-W47.md",
    ]);
    // With --output, the charts are SVG files beside the report, linked as images.
    let written = std::fs::read_to_string(repo.path.join("reports/2026-W47.md")).unwrap();
    assert!(
        written.contains("![Incidents per week](2026-W47-incidents-per-week.svg)"),
        "{written}"
    );
    assert!(!written.contains("<svg"));
    for chart in [
        "time-to-resolve",
        "time-to-mitigate",
        "time-to-resolve-distribution",
        "services-by-week",
    ] {
        let file = format!("2026-W47-{chart}.svg");
        assert!(written.contains(&format!("]({file})")), "{written}");
        assert!(repo.path.join("reports").join(&file).is_file(), "{file}");
    }
    let chart =
        std::fs::read_to_string(repo.path.join("reports/2026-W47-time-to-resolve.svg")).unwrap();
    assert!(chart.starts_with("<svg"), "{chart}");
    assert!(chart.contains("Median time to resolve"), "{chart}");
    let head = |t: &str| t.lines().take(12).collect::<Vec<_>>().join("\n");
    assert_eq!(head(&written), head(&md));
    repo.ok(&["--format", "json", "report", "--output", "out.json"]);
    assert_eq!(
        std::fs::read_to_string(repo.path.join("out.json")).unwrap(),
        repo.ok(&["--format", "json", "report"])
    );
}

#[test]
fn periods_and_bad_input() {
    let (mut repo, _) = scenario();
    let week = report_json(&mut repo, &["--week", "2026-W46"]);
    assert_eq!(week["metrics"]["incidents"], 1);
    let last = report_json(&mut repo, &["--last", "2w"]);
    assert_eq!(last["period"]["since"], "2026-11-09T00:00:00+00:00");
    assert_eq!(last["metrics"]["incidents"], 5);
    let range = report_json(
        &mut repo,
        &["--since", "2026-11-18", "--until", "2026-11-21"],
    );
    assert_eq!(range["metrics"]["incidents"], 2);
    let err = repo.fails(1, &["report", "--week", "2026-W99"]);
    assert!(err.contains("is not an ISO week"), "{err}");
    let err = repo.fails(1, &["report", "--last", "soon"]);
    assert!(err.contains("not a length"), "{err}");
    let err = repo.fails(1, &["report", "--as-of", "no-such-thing-at-all"]);
    assert!(err.contains("neither a revision nor a time"), "{err}");
}

#[test]
fn as_of_an_earlier_commit_equals_a_checkout_of_it() {
    let (mut repo, ids) = scenario();
    // The commit that resolved B (11-19 09:00): C and D did not exist yet.
    let log = repo.git(&["log", "--first-parent", "--format=%H %s"]);
    let resolve_b = log
        .lines()
        .find(|l| l.contains(&ids[1]) && l.to_lowercase().contains("resolve"))
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    let as_of = report_json(&mut repo, &["--as-of", &resolve_b]);
    assert_eq!(as_of["as_of"]["commit"], resolve_b.as_str());
    assert_eq!(as_of["metrics"]["incidents"], 2);
    assert_eq!(as_of["metrics"]["time_to_resolve"]["n"], 2);

    let clone = repo.sibling("checkout");
    repo.git(&[
        "clone",
        "-q",
        repo.path.to_str().unwrap(),
        clone.to_str().unwrap(),
    ]);
    support::git_in(&clone, &repo.home(), &["reset", "-q", "--hard", &resolve_b]);
    at(&mut repo, REPORT_NOW);
    let there: Value =
        serde_json::from_str(&repo.ok_in(&clone, &["--format", "json", "report"])).unwrap();
    // Tags are not part of a commit: compare everything else.
    let strip = |v: &Value| {
        let mut v = v.clone();
        v["as_of"] = Value::Null;
        v["metrics"]["change_failure_rate"] = Value::Null;
        v["previous_metrics"]["change_failure_rate"] = Value::Null;
        v
    };
    assert_eq!(strip(&as_of), strip(&there));

    // A time names the last commit at or before it, as git log --until does.
    let expected = repo.git(&[
        "log",
        "--first-parent",
        "-1",
        "--until=2026-11-18T12:00:00Z",
        "--format=%H",
    ]);
    let by_time = report_json(&mut repo, &["--as-of", "2026-11-18 12:00"]);
    assert_eq!(by_time["as_of"]["commit"], expected.trim());
    assert_eq!(by_time["metrics"]["incidents"], 2);
    assert_eq!(by_time["metrics"]["time_to_resolve"]["n"], 1);
    // A commit off the first-parent line is refused.
    repo.git(&["switch", "-q", "-c", "side"]);
    std::fs::write(repo.path.join("side.txt"), "x\n").unwrap();
    repo.git(&["add", "side.txt"]);
    repo.git(&["commit", "-q", "-m", "side"]);
    let side = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    repo.git(&["switch", "-q", "main"]);
    let err = repo.fails(1, &["report", "--as-of", &side]);
    assert!(err.contains("not on the first-parent line"), "{err}");
}

fn verbose(repo: &Repo) -> (String, String) {
    let out = repo.run(&["--format", "json", "report", "-v"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn warm_cache_equals_cold_run_after_fetch_rebase_and_deletion() {
    let (mut repo, _) = scenario();
    at(&mut repo, REPORT_NOW);
    let cache = repo.path.join(".git/incident/report-cache-v1");
    let (cold, note) = verbose(&repo);
    assert!(note.contains(" 0 from the cache"), "{note}");
    assert!(cache.is_file());
    let (warm, note) = verbose(&repo);
    assert!(note.contains(" 0 read from git"), "{note}");
    assert_eq!(cold, warm);

    // A clone that fetches new commits: the cache covers the old ones.
    let clone = repo.sibling("clone");
    repo.git(&[
        "clone",
        "-q",
        repo.path.to_str().unwrap(),
        clone.to_str().unwrap(),
    ]);
    repo.ok_in(&clone, &["--format", "json", "report"]);
    at(&mut repo, "2026-11-22T10:00:00Z");
    repo.declare(&[
        "G",
        "-s",
        "SEV3",
        "--service",
        "web",
        "--started-at",
        "2026-11-22 09:00",
    ]);
    at(&mut repo, REPORT_NOW);
    support::git_in(&clone, &repo.home(), &["pull", "-q", "--ff-only"]);
    let warm_clone = repo.ok_in(&clone, &["--format", "json", "report"]);
    std::fs::remove_file(clone.join(".git/incident/report-cache-v1")).unwrap();
    let cold_clone = repo.ok_in(&clone, &["--format", "json", "report"]);
    assert_eq!(warm_clone, cold_clone);
    let v: Value = serde_json::from_str(&warm_clone).unwrap();
    assert_eq!(v["metrics"]["incidents"], 5);

    // Rewrite history: drop G and the hand edit, then record something else.
    repo.git(&["reset", "-q", "--hard", "HEAD~2"]);
    at(&mut repo, "2026-11-22T11:00:00Z");
    repo.declare(&[
        "H",
        "-s",
        "SEV4",
        "--service",
        "web",
        "--started-at",
        "2026-11-22 10:00",
    ]);
    at(&mut repo, REPORT_NOW);
    let (after_rebase, _) = verbose(&repo);
    std::fs::remove_file(&cache).unwrap();
    let (cold_again, note) = verbose(&repo);
    assert!(note.contains(" 0 from the cache"), "{note}");
    assert_eq!(after_rebase, cold_again);
    // A damaged cache is ignored and rewritten.
    std::fs::write(&cache, b"garbage").unwrap();
    let (after_damage, _) = verbose(&repo);
    assert_eq!(after_damage, cold_again);
}

/// The incident files are read through gitoxide, the history through
/// libgit2: both must find the objects wherever git keeps them (loose,
/// packed with deltas, in a linked worktree's common directory, behind
/// `objects/info/alternates`).
#[test]
fn objects_are_found_packed_in_worktrees_and_through_alternates() {
    let (mut repo, _) = scenario();
    at(&mut repo, REPORT_NOW);
    let state = repo.path.join(".git/incident");
    let loose = repo.ok(&["--format", "json", "report"]);
    let v: Value = serde_json::from_str(&loose).unwrap();
    assert_eq!(v["metrics"]["incidents"], 4);

    repo.git(&["repack", "-adq"]);
    std::fs::remove_dir_all(&state).unwrap();
    assert_eq!(repo.ok(&["--format", "json", "report"]), loose);

    // git's commit-graph (what `git gc` writes) lists the commits instead
    // of their objects; a split one, and commits newer than it, too.
    repo.git(&["commit-graph", "write", "--reachable"]);
    std::fs::remove_dir_all(&state).unwrap();
    assert_eq!(repo.ok(&["--format", "json", "report"]), loose);
    std::fs::remove_file(repo.path.join(".git/objects/info/commit-graph")).unwrap();
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    repo.git(&["reset", "-q", "--hard", "HEAD~3"]);
    repo.git(&["commit-graph", "write", "--reachable", "--split"]);
    repo.git(&["reset", "-q", "--hard", &head]);
    std::fs::remove_dir_all(&state).unwrap();
    assert_eq!(repo.ok(&["--format", "json", "report"]), loose);
    std::fs::remove_dir_all(repo.path.join(".git/objects/info/commit-graphs")).unwrap();

    let worktree = repo.sibling("worktree");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "other",
        worktree.to_str().unwrap(),
    ]);
    std::fs::remove_dir_all(&state).unwrap();
    assert_eq!(
        repo.ok_in(&worktree, &["--format", "json", "report"]),
        loose
    );

    let shared = repo.sibling("shared");
    repo.git(&[
        "clone",
        "-q",
        "--shared",
        repo.path.to_str().unwrap(),
        shared.to_str().unwrap(),
    ]);
    assert!(shared.join(".git/objects/info/alternates").is_file());
    assert_eq!(repo.ok_in(&shared, &["--format", "json", "report"]), loose);
}

#[test]
fn squash_merged_branch_keeps_stated_times_and_shows_recording_lag() {
    let mut repo = Repo::init();
    at(&mut repo, "2026-11-16T10:00:00Z");
    let id = repo.declare(&[
        "S",
        "-s",
        "SEV2",
        "--service",
        "api",
        "--started-at",
        "2026-11-16 09:00",
    ]);
    repo.git(&["switch", "-q", "-c", "fix"]);
    at(&mut repo, "2026-11-16T10:30:00Z");
    repo.ok(&["ack", &id]);
    at(&mut repo, "2026-11-16T12:00:00Z");
    repo.ok(&["resolve", &id, "--resolution", "fixed"]);
    repo.git(&["switch", "-q", "main"]);
    repo.git(&["merge", "-q", "--squash", "fix"]);
    // Merged two days later.
    git_at(
        &repo,
        &repo.path.clone(),
        "2026-11-18T12:00:00Z",
        &["commit", "-q", "-m", "squash fix"],
    );
    repo.git(&["branch", "-q", "-D", "fix"]);
    let r = report_json(&mut repo, &[]);
    let m = &r["metrics"];
    // Durations from stated times: resolve 09:00 → 12:00. Nobody said when
    // it was detected (assumed: the declaration), so no time to acknowledge.
    assert_eq!(
        m["time_to_resolve"],
        summary(1, Some(10800), Some(10800), Some(10800), json!({}))
    );
    assert_eq!(
        m["time_to_acknowledge"],
        summary(0, None, None, None, json!({"milestone_assumed": 1}))
    );
    // Recording lag: declaration 0; the two ack events (10:30) and the
    // resolve event (12:00) reached main with the squash commit on 11-18
    // 12:00: 178200, 178200 and 172800. Median (172800 + 178200) / 2,
    // mean 529200 / 4 = 132300.
    let lag = &m["recording_lag"];
    assert_eq!(lag["n"], 4, "{lag}");
    assert_eq!(lag["median_seconds"], 175500);
    assert_eq!(lag["p90_seconds"], 178200);
    assert_eq!(lag["mean_seconds"], 132300);
    assert_eq!(lag["late"], 3);
}

#[test]
fn shallow_clone_warns_and_strict_fails() {
    let (mut repo, _) = scenario();
    at(&mut repo, REPORT_NOW);
    let clone = repo.sibling("shallow");
    let url = format!("file://{}", repo.path.display());
    repo.git(&["clone", "-q", "--depth", "1", &url, clone.to_str().unwrap()]);
    let out = repo.run_in(&clone, &["--format", "json", "report"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning: this is a shallow clone"), "{err}");
    assert!(
        err.contains("git fetch --unshallow") && err.contains("fetch-depth: 0"),
        "{err}"
    );
    let err = repo.fails(1, &["-C", clone.to_str().unwrap(), "report", "--strict"]);
    assert!(err.contains("shallow clone"), "{err}");
    // After unshallowing, the figures equal the full clone's.
    support::git_in(&clone, &repo.home(), &["fetch", "-q", "--unshallow"]);
    let full = repo.ok(&["--format", "json", "report"]);
    let out = repo.run_in(&clone, &["--format", "json", "report"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut a: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut b: Value = serde_json::from_str(&full).unwrap();
    // The clone has the tags too (fetched), but compare without them to be safe.
    a["metrics"]["change_failure_rate"] = Value::Null;
    b["metrics"]["change_failure_rate"] = Value::Null;
    a["previous_metrics"]["change_failure_rate"] = Value::Null;
    b["previous_metrics"]["change_failure_rate"] = Value::Null;
    assert_eq!(a, b);
}

#[test]
fn old_configs_without_report_sections_still_work() {
    let mut repo = Repo::init();
    let r = report_json(&mut repo, &[]);
    assert_eq!(r["metrics"]["incidents"], 0);
    assert_eq!(r["metrics"]["change_failure_rate"]["available"], false);
    assert_eq!(
        r["metrics"]["time_to_resolve"],
        summary(0, None, None, None, json!({}))
    );
    // A configured metric with an unknown milestone is refused.
    std::fs::OpenOptions::new()
        .append(true)
        .open(repo.path.join("incidents/config.toml"))
        .and_then(|mut f| {
            std::io::Write::write_all(
                &mut f,
                b"\n[metrics]\ntime_to_resolve = { from = \"started\", to = \"fixed\" }\n",
            )
        })
        .unwrap();
    let err = repo.fails(1, &["report"]);
    assert!(
        err.contains("metrics.time_to_resolve") && err.contains("unknown milestone 'fixed'"),
        "{err}"
    );
}

#[test]
fn action_items_opened_done_and_overdue() {
    let mut repo = Repo::init();
    // Y, in the previous window: one item due 11-12, never done.
    at(&mut repo, "2026-11-10T10:00:00Z");
    let y = repo.declare(&["Y", "-s", "SEV2", "--service", "api"]);
    repo.ok(&["action", "add", &y, "old", "--due", "2026-11-12"]);
    // X in W47: four items added 11-16.
    at(&mut repo, "2026-11-16T10:00:00Z");
    let x = repo.declare(&["X", "-s", "SEV2", "--service", "api"]);
    // Items are numbered by creation time: add them a minute apart.
    for (n, due) in [
        (1, Some("2026-11-18")),
        (2, Some("2026-11-20")),
        (3, Some("2026-11-25")),
        (4, None),
    ] {
        at(&mut repo, &format!("2026-11-16T11:0{n}:00Z"));
        let text = format!("a{n}");
        let mut args = vec!["action", "add", &x, &text];
        if let Some(due) = due {
            args.extend(["--due", due]);
        }
        repo.ok(&args);
    }
    // a1 done in time, a4 dropped, a2 done a day late; a3 stays open.
    at(&mut repo, "2026-11-17T10:00:00Z");
    repo.ok(&["action", "done", &format!("{x}/1")]);
    at(&mut repo, "2026-11-19T10:00:00Z");
    repo.ok(&[
        "action",
        "drop",
        &format!("{x}/4"),
        "--reason",
        "not needed",
    ]);
    at(&mut repo, "2026-11-21T10:00:00Z");
    repo.ok(&["action", "done", &format!("{x}/2")]);
    let r = report_json(&mut repo, &[]);
    assert_eq!(
        r["metrics"]["action_items"],
        json!({"available": true, "opened": 4, "done": 2, "done_within_due": 1, "dropped": 1,
               "open_at_end": 2, "overdue": 1})
    );
    // The four weeks before: Y's item added 11-10, open and overdue on 11-16.
    assert_eq!(
        r["previous_metrics"]["action_items"],
        json!({"available": true, "opened": 1, "done": 0, "done_within_due": 0, "dropped": 0,
               "open_at_end": 1, "overdue": 1})
    );
    at(&mut repo, REPORT_NOW);
    let table = repo.ok(&["report"]);
    assert!(table.contains("Action items overdue"), "{table}");
}

#[test]
fn postmortem_published_by_the_merge_that_brought_its_review() {
    let mut repo = Repo::init();
    at(&mut repo, "2026-11-16T10:00:00Z");
    let p = repo.declare(&[
        "P",
        "-s",
        "SEV1",
        "--service",
        "api",
        "--started-at",
        "2026-11-16 09:00",
    ]);
    at(&mut repo, "2026-11-16T12:00:00Z");
    repo.ok(&["resolve", &p, "--resolution", "fixed"]);
    let folder = repo.show(&p)["folder"].as_str().unwrap().to_string();
    // Written and put in review on a branch, merged on 11-18 12:00.
    repo.git(&["switch", "-q", "-c", "pm"]);
    std::fs::write(
        repo.path.join(&folder).join("postmortem.md"),
        "# P\n\nSummary.\n",
    )
    .unwrap();
    repo.git(&["add", "-A", "incidents"]);
    git_at(
        &repo,
        &repo.path.clone(),
        "2026-11-17T09:00:00Z",
        &["commit", "-q", "-m", "postmortem"],
    );
    at(&mut repo, "2026-11-17T10:00:00Z");
    repo.ok(&["update", &p, "--status", "postmortem"]);
    repo.git(&["switch", "-q", "main"]);
    git_at(
        &repo,
        &repo.path.clone(),
        "2026-11-18T12:00:00Z",
        &["merge", "-q", "--no-ff", "-m", "Merge postmortem", "pm"],
    );
    let r = report_json(&mut repo, &[]);
    // resolved 11-16 12:00 → merge 11-18 12:00.
    assert_eq!(
        r["metrics"]["postmortem_lead_time"],
        summary(1, Some(172800), Some(172800), Some(172800), json!({}))
    );
    assert_eq!(r["metrics"]["postmortems_overdue"], 0);
    // Before the merge (as of 11-18 00:00) it was not published yet; at the
    // end of W47 it would have been overdue (due 11-19 12:00).
    let before = report_json(&mut repo, &["--as-of", "2026-11-18 00:00"]);
    assert_eq!(before["metrics"]["postmortem_lead_time"]["n"], 0);
    assert_eq!(before["metrics"]["postmortems_overdue"], 1);
}

/// A repository whose config names the zone UTC (reports are about weeks).
fn utc_repo() -> Repo {
    let repo = Repo::init();
    set_zone(&repo, "UTC");
    repo
}

fn set_zone(repo: &Repo, zone: &str) {
    let config = repo.path.join("incidents/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    // Whatever zone `init` wrote.
    let changed: String = text
        .lines()
        .map(|line| {
            if line.starts_with("timezone = ") {
                format!("timezone = \"{zone}\"\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    assert!(changed.contains(&format!("timezone = \"{zone}\"")));
    std::fs::write(&config, changed).unwrap();
    if !repo.git(&["status", "--porcelain"]).is_empty() {
        repo.git(&["commit", "-qam", "zone"]);
    }
}

/// Declare at `declared` (with the given extra arguments) and resolve at `resolved`.
fn declare_resolved(
    repo: &mut Repo,
    title: &str,
    declared: &str,
    resolved: &str,
    extra: &[&str],
) -> String {
    at(repo, &format!("{}Z", declared.replace(' ', "T")));
    let mut args = vec![title];
    if !extra.contains(&"-s") {
        args.extend(["-s", "SEV3"]);
    }
    args.extend_from_slice(extra);
    let id = repo.declare(&args);
    at(repo, &format!("{}Z", resolved.replace(' ', "T")));
    repo.ok(&["resolve", &id, "--resolution", "fixed"]);
    id
}

#[test]
fn assumed_milestones_are_left_out_and_counted() {
    let mut repo = utc_repo();
    // N1: nobody said when it started or was detected (both assumed: the
    // declaration, 11-16 10:00); resolved 12:00.
    declare_resolved(
        &mut repo,
        "N1",
        "2026-11-16 10:00:00",
        "2026-11-16 12:00:00",
        &[],
    );
    // N2: started 09:00, detected 09:30, declared 10:00, resolved 11:00; never
    // acknowledged or mitigated: resolving implies both, nobody stated them.
    let n2 = declare_resolved(
        &mut repo,
        "N2",
        "2026-11-17 10:00:00",
        "2026-11-17 11:00:00",
        &[
            "--started-at",
            "2026-11-17 09:00",
            "--detected-at",
            "2026-11-17 09:30",
        ],
    );
    let r = report_json(&mut repo, &[]);
    let m = &r["metrics"];
    let assumed = |n: u64| json!({"milestone_assumed": n});
    assert_eq!(
        m["time_to_detect"],
        summary(1, Some(1800), Some(1800), Some(1800), assumed(1))
    );
    assert_eq!(
        m["time_to_acknowledge"],
        summary(0, None, None, None, assumed(2))
    );
    assert_eq!(
        m["time_to_declare"],
        summary(1, Some(1800), Some(1800), Some(1800), assumed(1))
    );
    assert_eq!(
        m["time_to_mitigate"],
        summary(0, None, None, None, assumed(2))
    );
    assert_eq!(
        m["time_to_resolve"],
        summary(1, Some(7200), Some(7200), Some(7200), assumed(1))
    );
    // `show` follows the same rule.
    let shown = repo.show(&n2);
    assert!(
        shown["durations"].get("time_to_acknowledge").is_none(),
        "{shown}"
    );
    assert_eq!(shown["durations"]["time_to_resolve"], 7200);
    // The incidents behind the figure say which were left out and why.
    at(&mut repo, REPORT_NOW);
    let md = repo.ok(&["--format", "markdown", "report"]);
    let section = md.split("### Time to acknowledge").nth(1).unwrap();
    assert!(
        section.contains("0 measured, 2 left out (2 milestone assumed)."),
        "{section}"
    );
    assert!(
        section.contains("| left out: milestone assumed |"),
        "{section}"
    );
}

#[test]
fn median_of_an_even_count_is_the_mean_of_the_middle_two() {
    let mut repo = utc_repo();
    // Time to resolve 373 s and 777 s.
    for (day, resolved) in [("16", "10:06:13"), ("17", "10:12:57")] {
        declare_resolved(
            &mut repo,
            "T",
            &format!("2026-11-{day} 10:00:00"),
            &format!("2026-11-{day} {resolved}"),
            &["--started-at", &format!("2026-11-{day} 10:00")],
        );
    }
    let r = report_json(&mut repo, &[]);
    // Median (373 + 777) / 2 = 575; p90 373 + 0.9·404 = 736.6 → 737.
    assert_eq!(
        r["metrics"]["time_to_resolve"],
        summary(2, Some(575), Some(737), Some(575), json!({}))
    );
}

#[test]
fn a_resolved_stint_before_a_reopen_is_not_timed() {
    let mut repo = utc_repo();
    // triage 10:00 → resolved 11:00 → reopened (investigating) 12:00 → resolved 13:00.
    at(&mut repo, "2026-11-16T10:00:00Z");
    let id = repo.declare(&["R", "-s", "SEV3", "--started-at", "2026-11-16 10:00"]);
    at(&mut repo, "2026-11-16T11:00:00Z");
    repo.ok(&["resolve", &id, "--resolution", "looked fixed"]);
    at(&mut repo, "2026-11-16T12:00:00Z");
    repo.ok(&["update", &id, "--status", "investigating", "-m", "back"]);
    at(&mut repo, "2026-11-16T13:00:00Z");
    repo.ok(&["resolve", &id, "--resolution", "fixed"]);
    let r = report_json(&mut repo, &[]);
    let states = &r["metrics"]["time_in_state"];
    assert_eq!(
        states["triage"],
        summary(1, Some(3600), Some(3600), Some(3600), json!({}))
    );
    assert_eq!(
        states["investigating"],
        summary(1, Some(3600), Some(3600), Some(3600), json!({}))
    );
    // The hour it sat resolved before the reopen is not time in a state.
    assert_eq!(states.as_object().unwrap().len(), 2, "{states}");
}

#[test]
fn by_service_gaps_pair_only_that_services_incidents() {
    let mut repo = utc_repo();
    // X (api, db) 11-16 09–10, Y (db) 11-17 09–10, Z (api, db) 11-18 09–10.
    for (title, day, services) in [
        ("X", "16", &["api", "db"][..]),
        ("Y", "17", &["db"][..]),
        ("Z", "18", &["api", "db"][..]),
    ] {
        let mut extra = vec!["--started-at".to_string(), format!("2026-11-{day} 09:00")];
        for s in services {
            extra.extend(["--service".to_string(), s.to_string()]);
        }
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        declare_resolved(
            &mut repo,
            title,
            &format!("2026-11-{day} 09:00:00"),
            &format!("2026-11-{day} 10:00:00"),
            &extra,
        );
    }
    let r = report_json(&mut repo, &["--by", "service"]);
    // api: X → Z, 11-16 10:00 → 11-18 09:00 = 169200. db: X → Y and Y → Z,
    // 82800 each. Before, api's group also paired db's X → Z.
    assert_eq!(
        r["by"]["service"]["api"]["time_between_incidents"],
        summary(1, Some(169200), Some(169200), Some(169200), json!({}))
    );
    assert_eq!(
        r["by"]["service"]["db"]["time_between_incidents"],
        summary(2, Some(82800), Some(82800), Some(82800), json!({}))
    );
    // All incidents: the three gaps.
    assert_eq!(r["metrics"]["time_between_incidents"]["n"], 3);
}

/// Two incidents on `api` that start in the same second (P resolved at
/// 10:00, Q at 12:00) and R two days later, with P and Q given the ids
/// `p_id` and `q_id` afterwards.
fn tied_history(p_id: &str, q_id: &str) -> Repo {
    let mut repo = utc_repo();
    let mut ids = Vec::new();
    for (title, declared, resolved) in [
        ("P", "2026-11-16 09:00:00", "2026-11-16 10:00:00"),
        ("Q", "2026-11-16 09:00:00", "2026-11-16 12:00:00"),
        ("R", "2026-11-18 09:00:00", "2026-11-18 10:00:00"),
    ] {
        ids.push(declare_resolved(
            &mut repo,
            title,
            declared,
            resolved,
            &["--service", "api", "--started-at", &declared[..16]],
        ));
    }
    for (old, new) in [(&ids[0], p_id), (&ids[1], q_id)] {
        let folder = repo.show(old)["folder"].as_str().unwrap().to_string();
        let renamed = folder.replace(&format!("/{old}-"), &format!("/{new}-"));
        repo.git(&["mv", &folder, &renamed]);
        let file = repo.path.join(&renamed).join("incident.toml");
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(
            &file,
            text.replace(&format!("id = \"{old}\""), &format!("id = \"{new}\"")),
        )
        .unwrap();
    }
    repo.git(&["add", "-A", "incidents"]);
    git_at(
        &repo,
        &repo.path.clone(),
        "2026-11-19T09:00:00Z",
        &["commit", "-q", "-m", "renumber"],
    );
    repo
}

#[test]
fn the_same_history_with_other_ids_gives_identical_output() {
    let mut one = tied_history("aaaaaa", "zzzzzz");
    let mut two = tied_history("zzzzzz", "aaaaaa");
    let a = report_json(&mut one, &[]);
    let b = report_json(&mut two, &[]);
    assert_eq!(a, b);
    // P and Q overlap (out of order); the gap to R runs from the later end,
    // Q's 11-16 12:00, to 11-18 09:00: 162000 s.
    assert_eq!(
        a["metrics"]["time_between_incidents"],
        summary(
            1,
            Some(162000),
            Some(162000),
            Some(162000),
            json!({"out_of_order": 1})
        )
    );
    for format in ["json", "table", "csv"] {
        assert_eq!(
            one.ok(&["--format", format, "report", "--by", "service"]),
            two.ok(&["--format", format, "report", "--by", "service"]),
            "{format}"
        );
    }
    // Markdown and HTML list the incidents behind each figure with their
    // ids: with each id written as its incident's title, the same bytes
    // (P and Q, tied on `started`, were listed in the order of their ids).
    let by_title = |repo: &Repo, format: &str| {
        let list: Value =
            serde_json::from_str(&repo.ok(&["--format", "json", "list", "--all"])).unwrap();
        let mut out = repo.ok(&["--format", format, "report", "--by", "service"]);
        for incident in list.as_array().unwrap() {
            let title = format!("<{}>", incident["title"].as_str().unwrap());
            out = out.replace(incident["id"].as_str().unwrap(), &title);
        }
        out
    };
    for format in ["markdown", "html"] {
        let (a, b) = (by_title(&one, format), by_title(&two, format));
        assert!(a.contains("<P>") && a.contains("<Q>"), "{a}");
        assert_eq!(a, b, "{format}");
    }
}

#[test]
fn a_named_zone_is_read_the_same_under_any_tz() {
    let mut repo = Repo::init();
    set_zone(&repo, "America/New_York");
    // Sunday 11-22 22:00 in New York is Monday 03:00 UTC: week 47 there.
    declare_resolved(
        &mut repo,
        "Late Sunday",
        "2026-11-23 03:00:00",
        "2026-11-23 04:00:00",
        &["--started-at", "2026-11-22 22:00"],
    );
    at(&mut repo, REPORT_NOW);
    let run = |tz: &str, format: &str| {
        let out = repo
            .command()
            .env("TZ", tz)
            .args(["--format", format, "report"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let json: Value = serde_json::from_str(&run("UTC", "json")).unwrap();
    assert_eq!(json["period"]["since"], "2026-11-16T00:00:00-05:00");
    assert_eq!(json["metrics"]["incidents"], 1);
    for format in ["json", "table", "markdown", "html", "csv"] {
        let utc = run("UTC", format);
        for tz in ["Asia/Tokyo", "Pacific/Kiritimati", "America/Los_Angeles"] {
            assert_eq!(utc, run(tz, format), "{format} under TZ={tz}");
        }
    }
}

#[test]
fn historical_incidents_expect_no_postmortem_and_no_recording_lag() {
    let mut repo = utc_repo();
    // Entered on 11-24 for an outage of 11-16 10:00–12:00 (SEV1: a
    // postmortem would be due 11-19), and the same outage recorded live.
    at(&mut repo, "2026-11-24T09:00:00Z");
    let old = repo.declare(&[
        "Old outage",
        "-s",
        "SEV1",
        "--historical",
        "--at",
        "2026-11-16 10:00",
        "--started-at",
        "2026-11-16 10:00",
    ]);
    repo.ok(&[
        "resolve",
        &old,
        "--resolution",
        "fixed",
        "--at",
        "2026-11-16 12:00",
    ]);
    declare_resolved(
        &mut repo,
        "Live outage",
        "2026-11-16 10:00:00",
        "2026-11-16 12:00:00",
        &["-s", "SEV1", "--started-at", "2026-11-16 10:00"],
    );
    let r = report_json(&mut repo, &[]);
    let m = &r["metrics"];
    assert_eq!(m["incidents"], 2);
    assert_eq!(m["historical"], 1);
    // Only the live one's postmortem is overdue.
    assert_eq!(m["postmortems_overdue"], 1);
    // The live one's records lag 0 s; the historical one's (its declaration
    // and resolve, written eight days late) are left out, not "late".
    let lag = &m["recording_lag"];
    assert_eq!(lag["late"], 0, "{lag}");
    assert_eq!(lag["excluded_by_reason"]["historical"], 2, "{lag}");
    // Its stated times still measure: both took two hours.
    assert_eq!(m["time_to_resolve"]["n"], 2);
    // Neither has a postmortem: the live one lacks the milestone, the
    // historical one is left out because it is historical (it was
    // milestone_missing, like the live one).
    assert_eq!(
        m["postmortem_lead_time"]["excluded_by_reason"],
        json!({"historical": 1, "milestone_missing": 1})
    );
    at(&mut repo, REPORT_NOW);
    let md = repo.ok(&["--format", "markdown", "report"]);
    let section = md.split("### Historical incidents").nth(1).unwrap();
    assert!(
        section.contains(&format!("| {old} \\(historical\\) | Old outage |")),
        "{section}"
    );
    let lead = md.split("### Postmortem lead time").nth(1).unwrap();
    let lead = lead.split("\n### ").next().unwrap();
    assert!(
        lead.lines()
            .any(|l| l.contains(&format!("| {old} ")) && l.contains("left out: historical")),
        "{lead}"
    );
}

#[test]
fn comparison_says_distinguishable_noise_or_too_few() {
    let mut repo = utc_repo();
    // Five incidents before W47 that took 10 h to resolve, five in W47 that
    // took 1 h. Nobody said when any was detected: no time to detect.
    let before = [
        "2026-10-20",
        "2026-10-27",
        "2026-11-03",
        "2026-11-05",
        "2026-11-10",
    ];
    let during = [
        "2026-11-16",
        "2026-11-17",
        "2026-11-18",
        "2026-11-19",
        "2026-11-20",
    ];
    for day in before {
        let start = format!("{day} 08:00");
        declare_resolved(
            &mut repo,
            "B",
            &format!("{day} 08:00:00"),
            &format!("{day} 18:00:00"),
            &["--started-at", &start],
        );
    }
    for day in during {
        let start = format!("{day} 08:00");
        declare_resolved(
            &mut repo,
            "D",
            &format!("{day} 08:00:00"),
            &format!("{day} 09:00:00"),
            &["--started-at", &start],
        );
    }
    let r = report_json(&mut repo, &[]);
    // The record starts 10-20: 10-20 to 11-16, 27 days of the 28 before.
    assert_eq!(r["previous"]["since"], "2026-10-20T00:00:00+00:00");
    assert_eq!(r["previous"]["periods"], 3.8571);
    // All five now below all five before: 2 of the C(10,5) = 252 splits of
    // the ranks are as extreme, p = 0.0079.
    assert_eq!(
        r["comparison"]["time_to_resolve"],
        json!({"test": "mann_whitney_u", "n": 5, "previous_n": 5, "p_value": 0.0079, "verdict": "distinguishable"})
    );
    assert_eq!(
        r["comparison"]["time_to_detect"],
        json!({"test": "mann_whitney_u", "n": 0, "previous_n": 0, "p_value": null, "verdict": "too_few"})
    );
    // 5 now, 5 in 3.857 weeks before: each of the 10 falls now with
    // p = 7/34 = 0.2059 if nothing changed; P(5 of 10) = 0.0294 and the
    // rarer outcomes (6 to 10 of 10: 0.0074) sum to 0.0368.
    assert_eq!(r["comparison"]["incidents"]["p_value"], 0.0368);
    assert_eq!(r["comparison"]["incidents"]["verdict"], "distinguishable");
    at(&mut repo, REPORT_NOW);
    let table = repo.ok(&["report"]);
    assert!(table.contains("distinguishable (p = 0.008)"), "{table}");
    assert!(table.contains("too few incidents to compare"), "{table}");
    assert!(
        table.contains("Compared with: Tue 20 Oct 2026 to Sun 15 Nov 2026 (3.86 periods:\n  the repository's record starts on 20 Oct 2026)"),
        "{table}"
    );
}

#[test]
fn a_period_before_this_week_points_at_incidents_after_it() {
    // The quick start: a SEV1 declared this week (Tuesday of W48).
    let repo = utc_repo();
    let id = repo.declare(&["Checkout down", "-s", "SEV1"]);
    let out = repo.ok(&["--format", "json", "report", "--last", "4w"]);
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["metrics"]["incidents"], 0);
    assert_eq!(
        r["after_period"],
        json!({"since": "2026-11-23T00:00:00+00:00", "until": "2026-11-24T10:00:00+00:00",
               "incidents": 1, "open": 1, "weeks": [{"week": "2026-W48", "count": 1}]})
    );
    // Nothing was recorded before the period: nothing to compare with.
    assert_eq!(r["previous"]["periods"], 0.0);
    assert_eq!(r["comparison"]["incidents"]["verdict"], "no_history");
    let table = repo.ok(&["report", "--last", "4w"]);
    assert!(
        table.contains("After the period: 1 incident started since (2026-W48 1), 1 still open; see\n  incident report --week 2026-W48."),
        "{table}"
    );
    assert!(table.contains("No comparison"), "{table}");
    let week = repo.ok(&["--format", "markdown", "report", "--week", "2026-W48"]);
    assert!(
        week.contains(&format!("| {id} | Checkout down | SEV1 |")),
        "{week}"
    );
}

#[test]
fn hostile_text_is_escaped_in_every_output() {
    let mut repo = utc_repo();
    let service = "x](https://evil.example)[y";
    let title = "<script>alert(1)</script> [click](https://evil.example)\n# injected";
    declare_resolved(
        &mut repo,
        title,
        "2026-11-16 10:00:00",
        "2026-11-16 11:00:00",
        &[
            "--service",
            service,
            "--service",
            "=HYPERLINK(\"http://evil\")",
            "--started-at",
            "2026-11-16 10:00",
        ],
    );
    at(&mut repo, REPORT_NOW);
    let md = repo.ok(&["--format", "markdown", "report", "--by", "service"]);
    // Text charts are fenced code, where nothing is markup: look outside.
    let outside: String = md.split("```").step_by(2).collect::<Vec<_>>().join("");
    assert!(md.contains("x](https://evil.exa…"), "{md}");
    let md = outside;
    assert!(!md.contains("](https://evil"), "{md}");
    // Every `<` of the title is backslash-escaped: a literal, not a tag.
    assert!(md.contains("\\<script\\>"), "{md}");
    assert!(
        md.match_indices("<script")
            .all(|(i, _)| md[..i].ends_with('\\')),
        "{md}"
    );
    assert!(!md.contains("\n# injected"), "{md}");
    assert!(
        md.contains("x\\]\\(https\\:\\/\\/evil\\.example\\)\\[y"),
        "{md}"
    );
    let html = repo.ok(&["--format", "html", "report", "--by", "service"]);
    assert!(!html.contains("<script"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    let csv = repo.ok(&["--format", "csv", "report", "--by", "service"]);
    assert!(
        csv.contains("\"service==HYPERLINK(\"\"http://evil\"\")\""),
        "{csv}"
    );
    for line in csv.lines() {
        assert!(!line.starts_with('='), "{line}");
    }
}

#[test]
fn by_severity_is_one_table_without_empty_severities() {
    let (mut repo, _) = scenario();
    at(&mut repo, REPORT_NOW);
    let table = repo.ok(&["report", "--by", "severity"]);
    let by = table.split("By severity").nth(1).unwrap();
    let header = by.lines().nth(1).unwrap();
    // SEV3 only has the cancelled false alarm; SEV4 and SEV5 nothing.
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["FIGURE", "SEV1", "SEV2"],
        "{by}"
    );
    // SEV1: A 2 h (C open); SEV2: B 4 h (D out of order).
    assert!(by.contains("Time to resolve"), "{by}");
    let row = by.lines().find(|l| l.contains("Time to resolve")).unwrap();
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>(),
        [
            "Time", "to", "resolve", "2h", "00m", "(1)", "4h", "00m", "(1)"
        ]
    );
    let md = repo.ok(&["--format", "markdown", "report", "--by", "severity"]);
    assert_eq!(md.matches("| FIGURE | SEV1 | SEV2 |").count(), 1, "{md}");
}
