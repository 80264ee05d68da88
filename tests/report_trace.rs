//! `incident report` through the real binary: what each figure counts, the
//! incidents (and records, and action items) listed behind it, and the
//! time a report covers. Figures are checked against values computed by
//! hand in the comments.

mod support;

use serde_json::{Value, json};
use support::Repo;

/// Report time: Tuesday of ISO week 48, so the default period is 2026-W47
/// (Mon 2026-11-16 00:00 to Mon 2026-11-23 00:00 UTC).
const REPORT_NOW: &str = "2026-11-24T10:00:00Z";

fn at(repo: &mut Repo, now: &str) {
    repo.now = now.to_string();
}

/// A repository whose config names UTC, set up (first commit) now.
fn utc_repo() -> Repo {
    let repo = Repo::init();
    let config = repo.path.join("incidents/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let changed: String = text
        .lines()
        .map(|line| match line.starts_with("timezone = ") {
            true => "timezone = \"UTC\"\n".to_string(),
            false => format!("{line}\n"),
        })
        .collect();
    std::fs::write(&config, changed).unwrap();
    if !repo.git(&["status", "--porcelain"]).is_empty() {
        repo.git(&["commit", "-qam", "zone"]);
    }
    repo
}

fn report(repo: &mut Repo, format: &str, args: &[&str]) -> String {
    at(repo, REPORT_NOW);
    let mut all = vec!["--format", format, "report"];
    all.extend_from_slice(args);
    repo.ok(&all)
}

fn report_json(repo: &mut Repo, args: &[&str]) -> Value {
    serde_json::from_str(&report(repo, "json", args)).expect("report json")
}

/// Declare `title` at `declared` (`YYYY-MM-DD HH:MM:SS`, UTC), started
/// then, with `extra` arguments, and resolve it at `resolved`.
fn declare_resolved(
    repo: &mut Repo,
    title: &str,
    declared: &str,
    resolved: &str,
    extra: &[&str],
) -> String {
    let started = format!("{}Z", declared.replace(' ', "T"));
    at(repo, &started);
    let mut args = vec![title, "-s", "SEV3", "--started-at", &started];
    args.extend_from_slice(extra);
    let id = repo.declare(&args);
    at(repo, &format!("{}Z", resolved.replace(' ', "T")));
    repo.ok(&["resolve", &id, "--resolution", "fixed"]);
    id
}

/// The lines of a Markdown report's list behind `heading` (up to the next
/// heading).
fn md_section<'a>(markdown: &'a str, heading: &str) -> Vec<&'a str> {
    markdown
        .lines()
        .skip_while(|l| !(l.starts_with('#') && l.contains(heading)))
        .skip(1)
        .take_while(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with('|') && !l.starts_with("| ---") && !l.starts_with("|---"))
        .collect()
}

#[test]
fn one_gap_per_pair_of_incidents_however_many_services_they_share() {
    let mut repo = utc_repo();
    // X (api, db) 11-16 09–10, then Z (api, db) 11-18 09–10: one pair on
    // both services. W (web) alone on its service.
    let x = declare_resolved(
        &mut repo,
        "X",
        "2026-11-16 09:00:00",
        "2026-11-16 10:00:00",
        &["--service", "api", "--service", "db"],
    );
    declare_resolved(
        &mut repo,
        "W",
        "2026-11-17 09:00:00",
        "2026-11-17 10:00:00",
        &["--service", "web"],
    );
    let z = declare_resolved(
        &mut repo,
        "Z",
        "2026-11-18 09:00:00",
        "2026-11-18 10:00:00",
        &["--service", "db", "--service", "api"],
    );
    // X resolved 11-16 10:00 → Z started 11-18 09:00 = 169200, once; before,
    // once per shared service (n = 2).
    let r = report_json(&mut repo, &["--by", "service"]);
    let one = json!({"n": 1, "median_seconds": 169200, "p90_seconds": 169200,
                     "mean_seconds": 169200, "excluded": 0, "excluded_by_reason": {}});
    assert_eq!(r["metrics"]["time_between_incidents"], one);
    // Each service's own group has its own one gap.
    assert_eq!(r["by"]["service"]["api"]["time_between_incidents"], one);
    assert_eq!(r["by"]["service"]["db"]["time_between_incidents"], one);
    // The list behind the figure: one row, naming both services.
    let md = report(&mut repo, "markdown", &[]);
    let rows = md_section(&md, "Time between incidents");
    assert_eq!(rows.len(), 2, "header and one gap: {rows:?}");
    assert!(
        rows[1].contains(&z) && rows[1].contains(&x) && rows[1].contains(r"api\, db"),
        "{}",
        rows[1]
    );
}

/// Y (11-10, before W47) with one item due 11-12 never done; X (W47) with
/// a1 due 11-18 done 11-17 and a2 due 11-20 done 11-21, and a note about
/// 11-16 12:00 written down on 11-19 12:00.
fn actions_and_a_late_note() -> (Repo, String, String) {
    let mut repo = utc_repo();
    at(&mut repo, "2026-11-10T10:00:00Z");
    let y = repo.declare(&["Y", "-s", "SEV3", "--started-at", "2026-11-10 10:00"]);
    repo.ok(&["action", "add", &y, "Old item", "--due", "2026-11-12"]);
    at(&mut repo, "2026-11-16T10:00:00Z");
    let x = repo.declare(&["X", "-s", "SEV3", "--started-at", "2026-11-16 10:00"]);
    at(&mut repo, "2026-11-16T11:01:00Z");
    repo.ok(&["action", "add", &x, "First", "--due", "2026-11-18"]);
    at(&mut repo, "2026-11-16T11:02:00Z");
    repo.ok(&["action", "add", &x, "Second", "--due", "2026-11-20"]);
    at(&mut repo, "2026-11-17T10:00:00Z");
    repo.ok(&["action", "done", &format!("{x}/1")]);
    at(&mut repo, "2026-11-19T12:00:00Z");
    repo.ok(&[
        "update",
        &x,
        "-m",
        "written late",
        "--at",
        "2026-11-16 12:00",
    ]);
    at(&mut repo, "2026-11-21T10:00:00Z");
    repo.ok(&["action", "done", &format!("{x}/2")]);
    (repo, x, y)
}

#[test]
fn overdue_action_items_count_every_incidents_items_as_readme_says() {
    let (mut repo, x, y) = actions_and_a_late_note();
    let r = report_json(&mut repo, &[]);
    // Y started before W47, but its item is open and overdue at W47's end:
    // overdue counts it (and open_at_end), as `incident actions --overdue`
    // lists it. Opened and done: X's two, a1 in time, a2 a day late.
    assert_eq!(
        r["metrics"]["action_items"],
        json!({"available": true, "opened": 2, "done": 2, "done_within_due": 1, "dropped": 0,
               "open_at_end": 1, "overdue": 1})
    );
    at(&mut repo, "2026-11-23T00:00:00Z");
    let listed = repo.ok(&["actions", "--overdue"]);
    assert!(listed.contains("Old item"), "{listed}");
    // The items behind each count, in every list with its incident (ids
    // `ID/N` as `incident action done` takes them; Markdown escapes "/").
    let md = report(&mut repo, "markdown", &[]);
    let overdue = md_section(&md, "Action items overdue");
    assert_eq!(overdue.len(), 2, "{overdue:?}");
    assert!(
        overdue[1].contains(&format!(r"{y}\/1")) && overdue[1].contains("Old item"),
        "{}",
        overdue[1]
    );
    assert!(overdue[1].contains("| 2026-11-12 |"), "{}", overdue[1]);
    // The definition beside the figure says so.
    assert!(md.contains("of any incident, whenever it started"), "{md}");
    let opened = md_section(&md, "Action items opened");
    assert_eq!(opened.len(), 3, "{opened:?}");
    assert!(opened[1].contains(&format!(r"{x}\/1")), "{opened:?}");
    assert!(opened[2].contains(&format!(r"{x}\/2")), "{opened:?}");
    let in_time = md_section(&md, "Action items done in time");
    assert_eq!(in_time.len(), 2, "{in_time:?}");
    assert!(in_time[1].contains(&format!(r"{x}\/1")), "{in_time:?}");
    // HTML lists the same items.
    let html = report(&mut repo, "html", &[]);
    assert!(html.contains(&format!("{y}/1")) && html.contains("Old item"));
}

#[test]
fn recording_lag_lists_the_records_behind_it() {
    let (mut repo, x, _) = actions_and_a_late_note();
    let r = report_json(&mut repo, &[]);
    let lag = &r["metrics"]["recording_lag"];
    // The note of 11-16 12:00 was committed 11-19 12:00: 259200 s late.
    assert_eq!(lag["late"], 1, "{lag}");
    let md = report(&mut repo, "markdown", &[]);
    let late = md_section(&md, "Events recorded late");
    assert_eq!(late.len(), 2, "{late:?}");
    assert!(
        late[1].contains(&x) && late[1].contains("note") && late[1].contains("3d"),
        "{}",
        late[1]
    );
    // Every record behind the figure: as many rows as n and excluded say.
    let rows = md_section(&md, "Recording lag");
    let total = lag["n"].as_u64().unwrap() + lag["excluded"].as_u64().unwrap();
    assert!(total >= 2, "{lag}");
    assert_eq!(rows.len() as u64, total + 1, "{rows:?}");
    assert!(
        rows.iter()
            .any(|r| r.contains(&x) && r.contains("declared")),
        "{rows:?}"
    );
    // The figure's N links to that list.
    assert!(md.contains("](#recording-lag)"), "{md}");
}

#[test]
fn by_groups_are_shown_by_one_rule_in_every_format() {
    let mut repo = utc_repo();
    // `old` has no incident in W47, only an item overdue at its end.
    at(&mut repo, "2026-11-09T10:00:00Z");
    let old = repo.declare(&["Old", "-s", "SEV3", "--service", "old"]);
    repo.ok(&["action", "add", &old, "Backfill", "--due", "2026-11-12"]);
    at(&mut repo, "2026-11-09T11:00:00Z");
    repo.ok(&["resolve", &old, "--resolution", "fixed"]);
    // Five services with an incident in W47: the terminal table gets a row
    // per group.
    for (n, service) in ["a", "b", "c", "d", "e"].iter().enumerate() {
        declare_resolved(
            &mut repo,
            &format!("On {service}"),
            &format!("2026-11-{} 09:00:00", n + 16),
            &format!("2026-11-{} 10:00:00", n + 16),
            &["--service", service],
        );
    }
    let table = report(&mut repo, "table", &["--by", "service"]);
    let md = report(&mut repo, "markdown", &["--by", "service"]);
    let by = table.split("By service").nth(1).unwrap();
    assert!(
        by.lines().any(|l| l.trim_start().starts_with("old ")),
        "{by}"
    );
    assert!(md.contains("| old |") || md.contains(" old |"), "{md}");
}

#[test]
fn a_time_zone_that_names_none_is_an_error_not_local_time() {
    let mut repo = utc_repo();
    declare_resolved(
        &mut repo,
        "X",
        "2026-11-16 09:00:00",
        "2026-11-16 10:00:00",
        &[],
    );
    let config = repo.path.join("incidents/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("timezone = "))
        .unwrap()
        + 1;
    for zone in ["", "Mars/Olympus"] {
        std::fs::write(
            &config,
            text.replace("timezone = \"UTC\"", &format!("timezone = \"{zone}\"")),
        )
        .unwrap();
        repo.git(&["commit", "-qam", "zone"]);
        let before = repo.state();
        at(&mut repo, REPORT_NOW);
        // Before, an empty zone was read as the machine's zone, silently.
        let err = repo.fails(1, &["report"]);
        assert!(
            err.contains(&format!("incidents/config.toml:{line}: timezone: "))
                && err.contains("\"Europe/Berlin\"")
                && err.contains("\"local\" (this machine's zone)"),
            "{err}"
        );
        if zone.is_empty() {
            assert!(err.contains("no time zone (empty)"), "{err}");
        }
        assert_eq!(repo.state(), before);
    }
}

/// X started 11-02 09:00 (before the repository was set up, on 11-24, as
/// an import would have it), Y 11-24 09:00, still open.
fn record_from_november_2nd() -> Repo {
    let mut repo = utc_repo();
    declare_resolved(
        &mut repo,
        "X",
        "2026-11-02 09:00:00",
        "2026-11-02 10:00:00",
        &[],
    );
    at(&mut repo, "2026-11-24T09:00:00Z");
    repo.declare(&["Y", "-s", "SEV3", "--started-at", "2026-11-24 09:00"]);
    repo
}

#[test]
fn time_before_the_record_or_after_now_is_no_record_not_zero() {
    let mut repo = record_from_november_2nd();
    // W44 (10-26 to 11-02) lies wholly before the record, which starts on
    // the day of X, 11-02: nothing is measured, and nothing is compared.
    let r = report_json(&mut repo, &["--week", "2026-W44"]);
    assert_eq!(r["metrics"]["available"], false, "{}", r["metrics"]);
    assert!(
        r["metrics"]["reason"]
            .as_str()
            .unwrap()
            .contains("before the repository's record, which starts on 2 Nov 2026"),
        "{}",
        r["metrics"]["reason"]
    );
    assert_eq!(r["period"]["covered"], Value::Null);
    assert_eq!(
        r["period"]["not_covered"],
        json!([{"since": "2026-10-26T00:00:00+00:00", "until": "2026-11-02T00:00:00+00:00",
                "reason": "before_record"}])
    );
    assert_eq!(r["previous"]["periods"], 0.0);
    assert_eq!(r["comparison"]["incidents"]["verdict"], "no_history");
    let table = report(&mut repo, "table", &["--week", "2026-W44"]);
    assert!(
        table.contains("No record: the period lies before"),
        "{table}"
    );
    let incidents = table.lines().find(|l| l.contains(" Incidents ")).unwrap();
    assert!(incidents.contains("no record"), "{table}");
    assert!(table.contains("Incidents per week: no record"), "{table}");
    let csv = report(&mut repo, "csv", &["--week", "2026-W44"]);
    assert!(csv.contains("all,incidents,,,,,,,no record"), "{csv}");
    let md = report(&mut repo, "markdown", &["--week", "2026-W44"]);
    assert!(md.contains("No record: "), "{md}");

    // W50 has not begun (now is 11-24): no record either, and no
    // comparison with the weeks before it, which were not lived through.
    let r = report_json(&mut repo, &["--week", "2026-W50"]);
    assert_eq!(r["metrics"]["available"], false);
    assert!(
        r["metrics"]["reason"]
            .as_str()
            .unwrap()
            .contains("has not begun"),
        "{}",
        r["metrics"]["reason"]
    );
    assert_eq!(r["period"]["not_covered"][0]["reason"], "after_now");
    assert_eq!(r["previous"]["periods"], 0.0);
    assert_eq!(r["previous_metrics"]["available"], false);
    let table = report(&mut repo, "table", &["--week", "2026-W50"]);
    assert!(
        table.contains("No record: the period has not begun"),
        "{table}"
    );
    assert!(
        table.contains("No comparison: the repository records none of the period."),
        "{table}"
    );
}

#[test]
fn a_period_partly_recorded_covers_and_compares_only_what_is_recorded() {
    let mut repo = record_from_november_2nd();
    // The last 4 weeks, 10-26 to 11-23: the record covers 11-02 to 11-23,
    // 21 of 28 days; X is in it.
    let r = report_json(&mut repo, &["--last", "4w"]);
    assert_eq!(r["metrics"]["available"], true);
    assert_eq!(r["metrics"]["incidents"], 1);
    assert_eq!(
        r["period"]["covered"],
        json!({"since": "2026-11-02T00:00:00+00:00", "until": "2026-11-23T00:00:00+00:00",
               "fraction": 0.75})
    );
    assert_eq!(r["period"]["not_covered"][0]["reason"], "before_record");
    // Nothing recorded before: no comparison.
    assert_eq!(r["previous"]["periods"], 0.0);
    let table = report(&mut repo, "table", &["--last", "4w"]);
    assert!(
        table.contains("Figures cover Mon 2 Nov 2026 to Sun 22 Nov 2026 (75% of the period)"),
        "{table}"
    );

    // This week, W48, up to now (11-24 10:00, inclusive): Y counts; the
    // rest of the week has not happened. The 21 recorded days before are
    // compared per length of what is covered: 1814400 s / 122401 s, to
    // four decimals.
    let r = report_json(&mut repo, &["--week", "2026-W48"]);
    assert_eq!(r["metrics"]["incidents"], 1);
    assert_eq!(r["metrics"]["open_at_end"], 1);
    assert_eq!(
        r["period"]["covered"],
        json!({"since": "2026-11-23T00:00:00+00:00", "until": "2026-11-24T10:00:01+00:00",
               "fraction": 0.2024})
    );
    assert_eq!(
        r["period"]["not_covered"],
        json!([{"since": "2026-11-24T10:00:01+00:00", "until": "2026-11-30T00:00:00+00:00",
                "reason": "after_now"}])
    );
    assert_eq!(r["previous"]["since"], "2026-11-02T00:00:00+00:00");
    assert_eq!(r["previous"]["until"], "2026-11-23T00:00:00+00:00");
    assert_eq!(r["previous"]["periods"], 14.8234);
    // Incidents per week of what the period covers: W48 alone.
    assert_eq!(
        r["incidents_per_week"],
        json!([{"week": "2026-W48", "count": 1}])
    );
    // The 12-week trend, W37 to W48: up to W44 before the record.
    let recorded: Vec<bool> = r["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["recorded"].as_bool().unwrap())
        .collect();
    assert_eq!(
        recorded,
        [vec![false; 8], vec![true; 4]].concat(),
        "{}",
        r["trend"]
    );
    let md = report(&mut repo, "markdown", &["--week", "2026-W48"]);
    assert!(md.contains("2026-W44 │ no record\n"), "{md}");
    assert!(md.contains("2026-W46 │ 0\n"), "{md}");
    // Compared with the three recorded weeks before, not "4 periods".
    assert!(
        md.contains("Compared with: Mon 2 Nov 2026 to Sun 22 Nov 2026 (3.00 periods:"),
        "{md}"
    );
    assert!(
        md.contains("the repository's record starts on 2 Nov 2026)"),
        "{md}"
    );
    assert!(md.contains("2026-W44 no record\n"), "{md}");
    // The charts grey the eight weeks before the record: no zero bars.
    let html = report(&mut repo, "html", &["--week", "2026-W48"]);
    let bars = html
        .split("</svg>")
        .find(|svg| svg.contains("Incidents per week"))
        .expect("the incidents-per-week chart");
    assert!(bars.contains("grey: no record"), "{bars}");
    assert_eq!(bars.matches(r##"fill="#D2D2D2""##).count(), 8, "{bars}");
    let table = report(&mut repo, "table", &["--week", "2026-W48"]);
    let words = table.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains(
            "no record of Tue 24 Nov 2026 10:00 to Mon 30 Nov 2026 00:00 (not happened yet)"
        ),
        "{table}"
    );
}
