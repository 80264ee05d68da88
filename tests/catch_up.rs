//! Writing an incident down as people really do: the whole incident typed
//! afterwards in shuffled order, each step with `--at`; states typed as
//! they happen and their real times later; and clones whose clocks are
//! off. The timeline, every milestone and the time in each state must
//! match what happened.

mod support;

use serde_json::Value;
use support::Repo;

fn at(hhmm: &str) -> String {
    format!("2026-11-24T{hhmm}:00+00:00")
}

fn timeline(shown: &Value) -> Vec<(String, String)> {
    shown["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|e| {
            (
                e["at"].as_str().unwrap_or_default()[11..16].to_string(),
                e["text"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// (state, entered HH:MM, seconds in state or None, assumed?)
fn states(shown: &Value) -> Vec<(String, String, Option<i64>, bool)> {
    shown["status_changes"]
        .as_array()
        .expect("status_changes")
        .iter()
        .map(|s| {
            (
                s["state"].as_str().unwrap_or_default().to_string(),
                s["at"].as_str().unwrap_or_default()[11..16].to_string(),
                s["seconds_in_state"].as_i64(),
                !s["assumed"].is_null(),
            )
        })
        .collect()
}

fn state(
    name: &str,
    entered: &str,
    seconds: Option<i64>,
    assumed: bool,
) -> (String, String, Option<i64>, bool) {
    (name.into(), entered.into(), seconds, assumed)
}

#[test]
fn an_incident_typed_afterwards_in_shuffled_order_replays_as_it_happened() {
    let mut repo = Repo::init();
    repo.now = "2026-11-24T09:00:00Z".into();
    let id = repo.declare(&[
        "Payment API errors",
        "-s",
        "SEV2",
        "--at",
        "2026-11-24 02:52",
        "--started-at",
        "02:40",
        "--detected-at",
        "02:50",
    ]);
    // The scribe types what they remember, in the order they remember it.
    let steps: &[&[&str]] = &[
        &["resolve", &id, "-r", "restarted the pool", "--at", "04:10"],
        &[
            "update",
            &id,
            "--status",
            "mitigated",
            "--at",
            "03:40",
            "-m",
            "failed over to the replica",
        ],
        &["ack", &id, "--at", "02:55"],
        &[
            "update",
            &id,
            "--status",
            "identified",
            "--at",
            "03:35",
            "-m",
            "pool exhausted again",
        ],
        &[
            "update",
            &id,
            "-m",
            "customers report errors",
            "--at",
            "02:45",
        ],
        &[
            "update",
            &id,
            "--status",
            "identified",
            "--at",
            "03:20",
            "-m",
            "pool exhausted",
        ],
        &[
            "update",
            &id,
            "--status",
            "investigating",
            "--at",
            "03:30",
            "-m",
            "the fix did not hold",
        ],
    ];
    for step in steps {
        repo.ok(step);
    }
    let shown = repo.show(&id);
    assert_eq!(shown["status"], "resolved");
    assert_eq!(shown["resolution"], "restarted the pool");
    let texts: Vec<(String, String)> = timeline(&shown);
    let expected: Vec<(&str, &str)> = vec![
        ("02:45", "customers report errors"),
        ("02:52", "declared SEV2 triage: Payment API errors"),
        ("02:55", "milestone acknowledged"),
        ("03:20", "status triage → identified"),
        ("03:20", "pool exhausted"),
        ("03:30", "status identified → investigating"),
        ("03:30", "the fix did not hold"),
        ("03:35", "status investigating → identified"),
        ("03:35", "pool exhausted again"),
        ("03:40", "status identified → mitigated"),
        ("03:40", "failed over to the replica"),
        ("04:10", "status mitigated → resolved: restarted the pool"),
    ];
    let mut expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    // A SEV2's resolution records its postmortem as due, at the same time.
    expected.push((
        "04:10".into(),
        format!("postmortem due: the draft is on branch postmortem/{id}"),
    ));
    assert_eq!(texts, expected);
    let milestones = &shown["milestones"];
    for (name, time) in [
        ("started", "02:40"),
        ("detected", "02:50"),
        ("declared", "02:52"),
        ("acknowledged", "02:55"),
        ("identified", "03:35"),
        ("mitigated", "03:40"),
        ("resolved", "04:10"),
    ] {
        assert_eq!(milestones[name], at(time), "{name}");
    }
    assert_eq!(shown["assumed_milestones"], serde_json::json!([]));
    assert_eq!(
        states(&shown),
        [
            state("triage", "02:52", Some(28 * 60), false),
            state("identified", "03:20", Some(10 * 60), false),
            state("investigating", "03:30", Some(5 * 60), false),
            state("identified", "03:35", Some(5 * 60), false),
            state("mitigated", "03:40", Some(30 * 60), false),
            state("resolved", "04:10", None, false),
        ]
    );
    let durations = &shown["durations"];
    assert_eq!(durations["time_to_detect"], 600);
    assert_eq!(durations["time_to_acknowledge"], 300);
    assert_eq!(durations["time_to_mitigate"], 3600);
    assert_eq!(durations["time_to_resolve"], 5400);
    // The files say what was stated: nothing but the event files changed,
    // and `incident check` finds nothing to contradict.
    repo.ok(&["check"]);
    let table = repo.ok(&["timeline", &id]);
    println!("{table}");
    // The report replays the same way: the same time in each state.
    let report: serde_json::Value = serde_json::from_str(&repo.ok(&[
        "--format",
        "json",
        "report",
        "--since",
        "2026-11-23",
        "--until",
        "2026-11-25",
    ]))
    .unwrap();
    let in_state = &report["metrics"]["time_in_state"];
    for (state, seconds) in [
        ("triage", 28 * 60),
        ("identified", 15 * 60),
        ("investigating", 5 * 60),
        ("mitigated", 30 * 60),
    ] {
        assert_eq!(in_state[state]["n"], 1, "{state}: {in_state}");
        assert_eq!(
            in_state[state]["median_seconds"], seconds,
            "{state}: {in_state}"
        );
    }
}

#[test]
fn states_typed_now_and_real_times_later_end_as_facts() {
    let mut repo = Repo::init();
    repo.now = "2026-11-24T04:05:00Z".into();
    let id = repo.declare(&["Checkout latency", "-s", "SEV3", "--started-at", "02:40"]);
    repo.ok(&["ack", &id]);
    repo.ok(&[
        "update",
        &id,
        "--status",
        "identified",
        "-m",
        "pool exhausted",
    ]);
    let out = repo.run(&["update", &id, "--status", "mitigated", "--at", "03:40"]);
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("at 03:40 today (UTC)"), "{said}");
    let told = String::from_utf8_lossy(&out.stderr);
    assert!(
        told.contains("no later than mitigated")
            && told.contains("--milestone acknowledged=TIME --milestone identified=TIME"),
        "{told}"
    );
    let shown = repo.show(&id);
    assert_eq!(shown["status"], "mitigated");
    let assumed: Vec<&str> = shown["assumed_milestones"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        assumed.contains(&"identified") && assumed.contains(&"acknowledged"),
        "{assumed:?}"
    );
    // No assumed time is measured: unknown, not 0s.
    assert!(shown["durations"].get("time_to_acknowledge").is_none());
    let text = repo.ok(&["show", &id]);
    assert!(text.contains("unknown (detected assumed)"), "{text}");
    assert!(!text.contains(" 0s"), "{text}");
    // The note typed with the identification moves with it.
    let lines = timeline(&shown);
    let note = lines
        .iter()
        .position(|(_, t)| t == "pool exhausted")
        .unwrap();
    let mitigated = lines
        .iter()
        .position(|(_, t)| t.contains("→ mitigated"))
        .unwrap();
    assert!(note < mitigated, "{lines:?}");
    // The report agrees: visits whose times were assumed are left out,
    // under their own reason, never measured as 0s.
    let report = |repo: &Repo| -> Value {
        serde_json::from_str(&repo.ok(&[
            "--format",
            "json",
            "report",
            "--since",
            "2026-11-23",
            "--until",
            "2026-11-25",
        ]))
        .unwrap()
    };
    let in_state = report(&repo)["metrics"]["time_in_state"].clone();
    assert_eq!(in_state["identified"]["n"], 0, "{in_state}");
    assert_eq!(
        in_state["identified"]["excluded_by_reason"]["milestone_assumed"], 1,
        "{in_state}"
    );

    // The real times, given later, make every figure a fact.
    repo.ok(&[
        "update",
        &id,
        "--milestone",
        "acknowledged=02:55",
        "--milestone",
        "identified=03:20",
    ]);
    let shown = repo.show(&id);
    assert_eq!(shown["milestones"]["identified"], at("03:20"));
    assert_eq!(shown["milestones"]["acknowledged"], at("02:55"));
    let still: Vec<&str> = shown["assumed_milestones"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        !still.contains(&"identified") && !still.contains(&"acknowledged"),
        "{still:?}"
    );
    let visits = states(&shown);
    assert_eq!(visits[2], state("identified", "03:20", Some(1200), false));
    assert_eq!(visits[3], state("mitigated", "03:40", None, false));
    repo.ok(&["resolve", &id, "-r", "rolled back"]);
    assert_eq!(repo.show(&id)["durations"]["time_to_mitigate"], 3600);
    let in_state = report(&repo)["metrics"]["time_in_state"].clone();
    assert_eq!(in_state["identified"]["median_seconds"], 1200, "{in_state}");
}

#[test]
fn a_clock_a_day_ahead_never_blocks_resolving() {
    // Issue 11.8: one write from a machine a day ahead, then the on-time
    // clone resolves (the two clones' files are the same once pulled).
    let mut repo = Repo::init();
    repo.now = "2026-11-24T10:00:00Z".into();
    let id = repo.declare(&["Queue backlog", "-s", "SEV3", "--started-at", "09:40"]);
    repo.now = "2026-11-25T10:00:00Z".into();
    repo.ok(&[
        "update",
        &id,
        "--status",
        "identified",
        "-m",
        "consumer stuck",
    ]);
    repo.now = "2026-11-24T10:05:00Z".into();
    let out = repo.run(&["resolve", &id, "-r", "restarted the consumer"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let told = String::from_utf8_lossy(&out.stderr);
    assert!(told.contains("assumed"), "says what it assumed: {told}");
    let shown = repo.show(&id);
    assert_eq!(shown["status"], "resolved");
    assert_eq!(shown["milestones"]["resolved"], at("10:05"));
    assert_eq!(shown["milestones"]["identified"], at("10:05"));
    let visits = states(&shown);
    assert!(visits[1].3, "identified is assumed: {visits:?}");
    assert!(!visits[2].3, "resolved is a fact: {visits:?}");
    assert_eq!(shown["durations"]["time_to_resolve"], 25 * 60);
    repo.ok(&["check"]);
}

#[test]
fn a_clock_ten_minutes_behind_can_change_status_after_a_teammate() {
    let mut repo = Repo::init();
    repo.now = "2026-11-24T10:00:00Z".into();
    let id = repo.declare(&["Queue backlog", "-s", "SEV3"]);
    repo.ok(&["update", &id, "--status", "identified", "--at", "09:58"]);
    // The teammate's laptop says 09:50.
    repo.now = "2026-11-24T09:50:00Z".into();
    repo.ok(&[
        "update",
        &id,
        "--status",
        "mitigated",
        "-m",
        "drained by hand",
    ]);
    repo.ok(&["resolve", &id, "-r", "consumer restarted"]);
    let shown = repo.show(&id);
    assert_eq!(shown["status"], "resolved");
    let visits = states(&shown);
    let names: Vec<&str> = visits.iter().map(|v| v.0.as_str()).collect();
    assert_eq!(names, ["triage", "identified", "mitigated", "resolved"]);
    // Placed after the stated 09:58, marked as assumed.
    assert_eq!(visits[2].1, "09:58");
    assert!(visits[2].3 && visits[3].3, "{visits:?}");
}

#[test]
fn a_contradiction_names_the_command_that_fixes_it_and_that_command_works() {
    let mut repo = Repo::init();
    repo.now = "2026-11-24T09:00:00Z".into();
    let id = repo.declare(&["Login errors", "-s", "SEV3", "--at", "2026-11-24 02:52"]);
    repo.ok(&[
        "resolve",
        &id,
        "-r",
        "rotated the certificate",
        "--at",
        "04:10",
    ]);
    // Mitigated after it was resolved: the lifecycle does not allow it.
    let err = repo.fails(
        1,
        &[
            "update",
            &id,
            "--status",
            "mitigated",
            "--at",
            "04:20",
            "-m",
            "load shed",
        ],
    );
    let fix = format!("incident update {id} --status mitigated --at TIME");
    assert!(err.contains(&fix), "{err}");
    // The note typed is kept, and the command the hint names works.
    let kept = std::fs::read_to_string(repo.path.join(".git/incident/REJECTED_NOTE")).unwrap();
    assert_eq!(kept, "load shed\n");
    repo.ok(&[
        "update",
        &id,
        "--status",
        "mitigated",
        "--at",
        "03:40",
        "-F",
        ".git/incident/REJECTED_NOTE",
    ]);
    let shown = repo.show(&id);
    assert_eq!(shown["status"], "resolved");
    assert_eq!(shown["milestones"]["mitigated"], at("03:40"));
    assert!(support::notes(&shown).contains(&"load shed".to_string()));
}

#[test]
fn assumed_milestones_are_never_shown_as_measured() {
    // Nobody said when impact started or when it was detected.
    let mut repo = Repo::init();
    let id = repo.declare(&["Checkout latency", "-s", "SEV2"]);
    repo.now = "2026-11-24T11:00:00Z".into();
    repo.ok(&["resolve", &id, "-r", "rolled back"]);
    let shown = repo.ok(&["show", &id]);
    assert!(!shown.contains(" 0s"), "{shown}");
    assert!(shown.contains("unknown (started assumed)"), "{shown}");
    assert!(
        shown.contains("--milestone"),
        "says how to record it: {shown}"
    );
    let folder = repo.show(&id)["folder"].as_str().unwrap().to_string();
    // The draft is on its review branch.
    let postmortem = repo.git(&["show", &format!("postmortem/{id}:{folder}/postmortem.md")]);
    assert!(!postmortem.contains("(0s)"), "{postmortem}");
    assert!(postmortem.contains("(assumed)"), "{postmortem}");
    assert!(postmortem.contains("unknown"), "{postmortem}");
}

#[test]
fn real_times_given_afterwards_time_the_moves_they_were_typed_with() {
    // Declared at 04:00 after the work began; states typed at 04:05, the
    // mitigation with its real time, then the other real times.
    let mut repo = Repo::init();
    repo.now = "2026-11-24T04:00:00Z".into();
    let id = repo.declare(&[
        "Checkout latency",
        "-s",
        "SEV2",
        "--started-at",
        "02:40",
        "--detected-at",
        "02:52",
    ]);
    repo.now = "2026-11-24T04:05:00Z".into();
    repo.ok(&["ack", &id, "-m", "paged, looking"]);
    repo.ok(&["update", &id, "--status", "identified", "-m", "pool"]);
    repo.ok(&["update", &id, "--status", "mitigated", "--at", "03:40"]);
    repo.ok(&[
        "update",
        &id,
        "--milestone",
        "acknowledged=02:55",
        "--milestone",
        "identified=03:20",
    ]);
    let shown = repo.show(&id);
    assert_eq!(
        states(&shown),
        [
            state("triage", "02:52", Some(180), false),
            state("investigating", "02:55", Some(1500), false),
            state("identified", "03:20", Some(1200), false),
            state("mitigated", "03:40", None, false),
        ]
    );
    assert_eq!(shown["assumed_milestones"], serde_json::json!([]));
    for (name, seconds) in [
        ("time_to_detect", 720),
        ("time_to_acknowledge", 180),
        ("time_to_declare", 4080),
        ("time_to_mitigate", 3600),
    ] {
        assert_eq!(shown["durations"][name], seconds, "{name}: {shown}");
    }
    // The timeline agrees with the milestones: what `ack` wrote, its note
    // included, moved to the stated acknowledgement; nothing is assumed.
    let lines = timeline(&shown);
    for text in [
        "status triage → investigating",
        "milestone acknowledged",
        "paged, looking",
    ] {
        assert!(
            lines.contains(&("02:55".to_string(), text.to_string())),
            "{text}: {lines:?}"
        );
    }
    assert!(
        shown["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e.get("assumed").is_none_or(Value::is_null)),
        "{shown}"
    );
    let table = repo.ok(&["show", &id]);
    assert!(
        !table.contains('≤') && !table.contains("unknown"),
        "{table}"
    );
    repo.ok(&["check"]);
}

#[test]
fn catch_up_with_every_real_time_ends_with_every_figure_measured() {
    // README's quick start, at a fixed "now", with the time of detection
    // given as well.
    let mut repo = Repo::init();
    repo.now = "2026-11-24T04:30:00Z".into();
    let id = repo.declare(&[
        "Checkout latency above 2s",
        "--severity",
        "SEV2",
        "--started-at",
        "90m ago",
    ]);
    repo.ok(&["ack", &id]);
    repo.ok(&[
        "update",
        &id,
        "--status",
        "identified",
        "-m",
        "pool exhausted",
    ]);
    repo.ok(&[
        "update",
        &id,
        "--status",
        "mitigated",
        "-m",
        "rolled back",
        "--at",
        "30m ago",
    ]);
    repo.ok(&[
        "update",
        &id,
        "--milestone",
        "detected=88m ago",
        "--milestone",
        "acknowledged=85m ago",
        "--milestone",
        "identified=50m ago",
    ]);
    repo.ok(&[
        "resolve",
        &id,
        "--resolution",
        "rolled back payments to 1.41",
    ]);
    let shown = repo.show(&id);
    let visits = states(&shown);
    assert_eq!(visits.len(), 5, "{visits:?}");
    for visit in &visits[..4] {
        assert!(visit.2.is_some() && !visit.3, "{visits:?}");
    }
    assert_eq!(shown["assumed_milestones"], serde_json::json!([]));
    for name in [
        "time_to_detect",
        "time_to_acknowledge",
        "time_to_declare",
        "time_to_mitigate",
        "time_to_resolve",
    ] {
        assert!(shown["durations"][name].is_i64(), "{name}: {shown}");
    }
}

/// The backticked command of a hint, as arguments (double quotes group).
fn hinted_command(err: &str) -> Vec<String> {
    let start = err.find("`incident ").expect("a command in the hint") + 10;
    let command = &err[start..start + err[start..].find('`').expect("closing backtick")];
    let mut args = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in command.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => args.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    args.push(current);
    args
}

#[test]
fn a_stated_time_on_a_second_ack_corrects_the_acknowledgement() {
    let mut repo = Repo::init();
    repo.now = "2026-11-24T04:00:00Z".into();
    let id = repo.declare(&["Disk full", "-s", "SEV3", "--detected-at", "02:50"]);
    repo.now = "2026-11-24T04:30:00Z".into();
    repo.ok(&["ack", &id]);
    let out = repo.run(&["ack", &id, "--at", "03:07"]);
    let told = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{told}");
    assert!(told.contains("acknowledged already, at 04:30"), "{told}");
    let shown = repo.show(&id);
    assert_eq!(shown["milestones"]["acknowledged"], at("03:07"));
    // The move out of triage that the first `ack` recorded moves with it.
    assert_eq!(
        states(&shown),
        [
            state("triage", "02:50", Some(17 * 60), false),
            state("investigating", "03:07", None, false),
        ]
    );
    assert_eq!(shown["durations"]["time_to_acknowledge"], 17 * 60);
    // With a note as well: both recorded.
    repo.ok(&["ack", &id, "--at", "03:05", "-m", "paged at 03:05"]);
    let shown = repo.show(&id);
    assert_eq!(shown["milestones"]["acknowledged"], at("03:05"));
    assert_eq!(support::notes(&shown), ["paged at 03:05"]);
    // The same time again, or no time, changes nothing: refused as before.
    let err = repo.fails(1, &["ack", &id]);
    assert!(err.contains("acknowledged already"), "{err}");
}

#[test]
fn a_milestone_order_error_gives_the_command_that_fixes_it() {
    let mut repo = Repo::init();
    repo.now = "2026-11-24T04:00:00Z".into();
    let id = repo.declare(&[
        "Checkout latency",
        "-s",
        "SEV2",
        "--started-at",
        "02:40",
        "--detected-at",
        "02:52",
    ]);
    repo.ok(&["ack", &id, "--at", "03:10"]);
    let before = repo.state();
    let err = repo.fails(1, &["update", &id[..4], "--milestone", "started=02:57"]);
    assert_eq!(repo.state(), before);
    assert!(
        err.contains("'detected'") && err.contains("'started'"),
        "{err}"
    );
    assert!(!err.contains(" ID "), "a placeholder: {err}");
    let fix = hinted_command(&err);
    assert_eq!(
        fix,
        [
            "update",
            id.as_str(),
            "--milestone",
            "started=02:57",
            "--milestone",
            "detected=02:57"
        ]
    );
    let fix: Vec<&str> = fix.iter().map(String::as_str).collect();
    repo.ok(&fix);
    let shown = repo.show(&id);
    assert_eq!(shown["milestones"]["started"], at("02:57"));
    assert_eq!(shown["milestones"]["detected"], at("02:57"));

    // A status change whose time breaks the order: correct the other
    // milestone first, then the command works as typed.
    let mitigate = [
        "update",
        id.as_str(),
        "--status",
        "mitigated",
        "--at",
        "02:50",
    ];
    let err = repo.fails(1, &mitigate);
    assert!(err.contains("run this command again"), "{err}");
    let fix = hinted_command(&err);
    let fix: Vec<&str> = fix.iter().map(String::as_str).collect();
    assert!(fix.contains(&"started=02:50"), "{fix:?}");
    repo.ok(&fix);
    repo.ok(&mitigate);
    assert_eq!(repo.show(&id)["milestones"]["mitigated"], at("02:50"));

    // At declaration, the flags to correct.
    let err = repo.fails(
        1,
        &[
            "declare",
            "x",
            "-s",
            "SEV3",
            "--started-at",
            "03:00",
            "--detected-at",
            "02:00",
        ],
    );
    assert!(
        err.contains("--started-at must not be later than --detected-at"),
        "{err}"
    );
}

#[test]
fn a_resolve_from_a_clock_ahead_never_blocks_reopening() {
    let mut repo = Repo::init();
    repo.now = "2026-11-24T04:00:00Z".into();
    let id = repo.declare(&["Disk full", "-s", "SEV4", "--started-at", "03:00"]);
    repo.ok(&["ack", &id, "--at", "03:10"]);
    // A laptop a day ahead resolves it.
    repo.now = "2026-11-25T04:00:00Z".into();
    repo.ok(&["resolve", &id, "-r", "cleaned up"]);
    repo.now = "2026-11-24T04:20:00Z".into();
    // A reopen stated before the resolution is refused, with the fix.
    let err = repo.fails(1, &["reopen", &id, "--reason", "x", "--at", "03:30"]);
    assert!(err.contains("would be before"), "{err}");
    // On time again: the disk fills up again. `reopen` works as
    // `update --status investigating` does, and says what it assumed.
    repo.now = "2026-11-24T04:20:00Z".into();
    let out = repo.run(&["reopen", &id, "--reason", "full again"]);
    let told = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{told}");
    assert!(
        told.contains("the change to 'resolved' is placed at 04:20")
            && told.contains(&format!("incident update {id} --milestone resolved=TIME")),
        "{told}"
    );
    // The real times, typed afterwards: each one is taken.
    repo.ok(&[
        "update",
        &id,
        "--milestone",
        "mitigated=03:40",
        "--milestone",
        "resolved=03:45",
    ]);
    let shown = repo.show(&id);
    assert_eq!(shown["status"], "investigating");
    assert_eq!(shown["milestones"]["mitigated"], at("03:40"));
    assert_eq!(
        states(&shown),
        [
            // Declared after the ack, with no stated detection: assumed.
            state("triage", "03:10", None, true),
            state("investigating", "03:10", Some(35 * 60), false),
            state("resolved", "03:45", Some(35 * 60), false),
            state("investigating", "04:20", None, false),
        ]
    );
}

#[test]
fn an_incident_declared_with_a_stated_time_after_the_work_began_takes_real_times() {
    let mut repo = Repo::init();
    repo.now = "2026-11-24T04:05:00Z".into();
    let id = repo.declare(&[
        "Checkout latency",
        "-s",
        "SEV2",
        "--started-at",
        "02:40",
        "--detected-at",
        "02:52",
        "--at",
        "04:00",
    ]);
    repo.ok(&["ack", &id, "-m", "paged, looking"]);
    repo.ok(&["update", &id, "--status", "identified", "-m", "pool"]);
    repo.ok(&["update", &id, "--status", "mitigated", "--at", "03:40"]);
    repo.ok(&[
        "update",
        &id,
        "--milestone",
        "acknowledged=02:55",
        "--milestone",
        "identified=03:20",
    ]);
    assert_eq!(
        states(&repo.show(&id)),
        [
            state("triage", "02:52", Some(180), false),
            state("investigating", "02:55", Some(1500), false),
            state("identified", "03:20", Some(1200), false),
            state("mitigated", "03:40", None, false),
        ]
    );
    repo.ok(&["check"]);
}
