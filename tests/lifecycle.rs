//! The incident lifecycle through the real binary: init, declare, update and
//! its shortcuts, list, show, timeline, log.

mod support;

use support::{NOW, Repo};

#[test]
fn init_creates_a_repository_and_is_idempotent() {
    let repo = Repo::empty();
    let out = repo.ok(&["init"]);
    assert!(out.contains("created a git repository"), "{out}");
    assert!(repo.path.join("incidents/config.toml").is_file());
    assert_eq!(repo.commit_count(), 1);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    let branch = repo.git(&["symbolic-ref", "--short", "HEAD"]);
    assert_eq!(branch.trim(), "main");

    let again = repo.ok(&["init"]);
    assert!(again.contains("nothing changed"), "{again}");
    assert_eq!(repo.commit_count(), 1);
    repo.git(&["fsck", "--strict"]);
}

#[test]
fn init_inside_an_existing_repository_keeps_to_its_folder() {
    let repo = Repo::empty();
    repo.git(&["init", "-q", "-b", "trunk"]);
    std::fs::write(repo.path.join("deploy.sh"), "echo hi\n").unwrap();
    repo.git(&["add", "deploy.sh"]);
    repo.git(&["commit", "-q", "-m", "ops code"]);
    std::fs::write(repo.path.join("deploy.sh"), "echo changed\n").unwrap();
    repo.git(&["add", "deploy.sh"]);
    std::fs::write(repo.path.join("scratch.txt"), "mine\n").unwrap();
    let before = repo.git(&["status", "--porcelain"]);

    let out = repo.ok(&["init"]);
    assert!(!out.contains("created a git repository"), "{out}");
    assert_eq!(repo.git(&["status", "--porcelain"]), before);
    let files = repo.git(&["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(files.trim(), "incidents/config.toml");
    assert_eq!(
        repo.git(&["symbolic-ref", "--short", "HEAD"]).trim(),
        "trunk"
    );
}

#[test]
fn declare_records_one_commit_with_trailers() {
    let repo = Repo::init();
    let id = repo.declare(&[
        "Checkout latency above 2s",
        "--severity",
        "sev2",
        "--service",
        "checkout",
        "--service",
        "payments",
        "--commander",
        "alice",
        "--summary",
        "p99 above 2s",
        "--started-at",
        "2026-11-24 09:40",
        "--detected-at",
        "09:45",
        "--role",
        "scribe=bob",
    ]);
    assert_eq!(id.len(), 6);
    assert_eq!(repo.commit_count(), 2);
    let message = repo.git(&["log", "-1", "--format=%B"]);
    assert!(
        message.starts_with(&format!(
            "Declare SEV2 incident {id}: Checkout latency above 2s"
        )),
        "{message}"
    );
    let trailers = repo.git(&["log", "-1", "--format=%(trailers:only,unfold)"]);
    assert!(
        trailers.contains(&format!("Incident: {id}\n")),
        "{trailers}"
    );
    assert!(
        trailers.contains("Incident-Event: declared\n"),
        "{trailers}"
    );
    assert!(
        trailers.contains("Incident-At: 2026-11-24T10:00:00+00:00"),
        "{trailers}"
    );
    let files = repo.git(&["show", "--name-only", "--format=", "HEAD"]);
    assert!(
        files.trim().starts_with(&format!(
            "incidents/2026/11/{id}-checkout-latency-above-2s/incident.toml"
        )),
        "{files}"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "");

    let shown = repo.show(&id);
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["title"], "Checkout latency above 2s");
    assert_eq!(shown["status"], "triage");
    assert_eq!(shown["severity"], "SEV2");
    assert_eq!(
        shown["services"],
        serde_json::json!(["checkout", "payments"])
    );
    assert_eq!(shown["roles"]["commander"], "alice");
    assert_eq!(shown["roles"]["scribe"], "bob");
    assert_eq!(shown["milestones"]["started"], "2026-11-24T09:40:00+00:00");
    assert_eq!(shown["milestones"]["detected"], "2026-11-24T09:45:00+00:00");
    assert_eq!(shown["milestones"]["declared"], NOW.replace('Z', "+00:00"));
    assert_eq!(shown["durations"]["time_to_detect"], 300);
    assert_eq!(shown["timeline"][0]["kind"], "declared");
    assert_eq!(shown["timeline"][0]["author"], "Alice Example");
}

#[test]
fn a_whole_incident_from_declaration_to_resolution() {
    let mut repo = Repo::init();
    repo.now = "2026-11-24T03:05:00Z".into();
    let id = repo.declare(&["Payments failing", "-s", "SEV1", "--started-at", "02:58"]);
    repo.now = "2026-11-24T03:07:00Z".into();
    repo.ok(&["ack", &id, "-m", "paged, looking"]);
    repo.now = "2026-11-24T03:20:00Z".into();
    repo.ok(&[
        "update",
        &id,
        "--status",
        "identified",
        "-m",
        "bad deploy 1.42",
        "--commander",
        "bob",
    ]);
    repo.now = "2026-11-24T03:31:00Z".into();
    repo.ok(&[
        "update",
        &id,
        "--status",
        "mitigated",
        "--at",
        "03:30",
        "--link",
        "https://ci.example/42",
    ]);
    repo.now = "2026-11-24T04:00:00Z".into();
    repo.ok(&["resolve", &id, "--resolution", "rolled back to 1.41"]);

    let shown = repo.show(&id);
    assert_eq!(shown["status"], "resolved");
    assert_eq!(shown["open"], false);
    assert_eq!(shown["roles"]["commander"], "bob");
    assert_eq!(shown["resolution"], "rolled back to 1.41");
    assert_eq!(shown["links"], serde_json::json!(["https://ci.example/42"]));
    let m = &shown["milestones"];
    assert_eq!(m["started"], "2026-11-24T02:58:00+00:00");
    assert_eq!(m["acknowledged"], "2026-11-24T03:07:00+00:00");
    assert_eq!(m["identified"], "2026-11-24T03:20:00+00:00");
    assert_eq!(m["mitigated"], "2026-11-24T03:30:00+00:00");
    assert_eq!(m["resolved"], "2026-11-24T04:00:00+00:00");
    assert_eq!(shown["durations"]["time_to_resolve"], 62 * 60);
    assert_eq!(shown["durations"]["time_to_mitigate"], 32 * 60);
    assert_eq!(shown["assumed_milestones"], serde_json::json!(["detected"]));
    // 1 init + 1 declare + 4 updates, each exactly one commit.
    assert_eq!(repo.commit_count(), 6);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");

    repo.now = "2026-11-24T05:00:00Z".into();
    repo.ok(&["reopen", &id, "--reason", "errors are back"]);
    let shown = repo.show(&id);
    assert_eq!(shown["status"], "investigating");
    assert!(shown["milestones"].get("resolved").is_none(), "{shown}");
    assert_eq!(shown["resolution"], serde_json::Value::Null);
}

#[test]
fn timeline_is_sorted_by_event_time_not_recording_time() {
    let mut repo = Repo::init();
    let id = repo.declare(&["Queue backlog", "-s", "SEV3", "--started-at", "09:00"]);
    repo.now = "2026-11-24T10:30:00Z".into();
    repo.ok(&[
        "update",
        &id,
        "-m",
        "written late, happened early",
        "--at",
        "09:30",
    ]);
    repo.ok(&["update", &id, "-m", "written now"]);
    let timeline: serde_json::Value =
        serde_json::from_str(&repo.ok(&["--format", "json", "timeline", &id])).unwrap();
    let texts: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    // The back-dated note happened before the declaration recorded at
    // 10:00, so it comes first, although it was written down later.
    assert_eq!(texts[0], "written late, happened early");
    assert_eq!(timeline[1]["kind"], "declared");
    assert_eq!(texts[2], "written now");
    assert_eq!(timeline[0]["at"], "2026-11-24T09:30:00+00:00");
    assert_eq!(timeline[0]["recorded_at"], "2026-11-24T10:30:00+00:00");
}

#[test]
fn shortcuts_cancel_and_duplicate() {
    let repo = Repo::init();
    let first = repo.declare(&["Login errors", "-s", "SEV3"]);
    let second = repo.declare(&["Users cannot log in", "-s", "SEV3"]);
    let third = repo.declare(&["Synthetic check red", "-s", "SEV4"]);
    repo.ok(&["cancel", &second, "--duplicate-of", &first]);
    repo.ok(&["cancel", &third, "--reason", "the check itself was broken"]);
    assert_eq!(repo.show(&second)["status"], "duplicate");
    assert_eq!(repo.show(&second)["duplicate_of"], first.as_str());
    assert_eq!(repo.show(&third)["status"], "cancelled");
    assert_eq!(
        repo.show(&third)["resolution"],
        "the check itself was broken"
    );
    let err = repo.fails(1, &["cancel", &first, "--duplicate-of", &first]);
    assert!(err.contains("duplicate of itself"), "{err}");
    let err = repo.fails(1, &["reopen", &third]);
    assert!(
        err.contains("cannot change status from 'cancelled'"),
        "{err}"
    );
}

#[test]
fn ack_twice_is_refused() {
    let repo = Repo::init();
    let id = repo.declare(&["Disk full", "-s", "SEV3"]);
    repo.ok(&["ack", &id]);
    let before = repo.state();
    let err = repo.fails(1, &["ack", &id]);
    assert!(err.contains("acknowledged already"), "{err}");
    assert_eq!(repo.state(), before);
}

#[test]
fn prefixes_and_slug_fragments_name_incidents() {
    let repo = Repo::init();
    let a = repo.declare(&["Checkout latency", "-s", "SEV3"]);
    let b = repo.declare(&["Checkout errors", "-s", "SEV3"]);
    assert_eq!(repo.show(&a[..5])["id"], a.as_str());
    assert_eq!(repo.show("latency")["id"], a.as_str());
    assert_eq!(repo.show("errors")["id"], b.as_str());
    let err = repo.fails(1, &["show", "checkout"]);
    assert!(err.contains("'checkout' matches 2 incidents"), "{err}");
    assert!(err.contains(&a) && err.contains(&b), "{err}");
    assert!(
        err.contains("Checkout latency") && err.contains("Checkout errors"),
        "{err}"
    );
    let err = repo.fails(1, &["show", "nothing-like-this"]);
    assert!(err.contains("no incident matches"), "{err}");
}

#[test]
fn list_filters_and_formats() {
    let mut repo = Repo::init();
    repo.now = "2026-11-20T10:00:00Z".into();
    let old = repo.declare(&["Old outage", "-s", "SEV1", "--service", "api"]);
    repo.ok(&["resolve", &old, "--resolution", "fixed"]);
    repo.now = NOW.into();
    let open = repo.declare(&[
        "Fresh outage",
        "-s",
        "SEV2",
        "--service",
        "web",
        "--commander",
        "carol",
    ]);

    let table = repo.ok(&["list"]);
    assert!(table.contains(&open) && !table.contains(&old), "{table}");
    assert!(table.contains("carol"), "{table}");
    assert!(
        !table.contains('\u{1b}'),
        "no colour off a terminal: {table:?}"
    );

    let all = repo.ok(&["list", "--all", "--format", "csv"]);
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(
        lines[0],
        "ID,SEV,STATUS,TITLE,STARTED,AGE_SECONDS,DURATION_SECONDS,COMMANDER"
    );
    assert_eq!(lines.len(), 3, "{all}");
    assert!(lines[1].starts_with(&open), "open first: {all}");
    // Durations are numbers of seconds, not "lasted 1h 28m".
    let open_row: Vec<&str> = lines[1].split(',').collect();
    assert!(open_row[5].parse::<i64>().is_ok(), "{all}");
    assert!(!all.contains("lasted") && !all.contains(" open"), "{all}");

    let json: serde_json::Value = serde_json::from_str(&repo.ok(&[
        "list",
        "--all",
        "--severity",
        "SEV1",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(json[0]["id"], old.as_str());

    let by_service = repo.ok(&["list", "--all", "--service", "web"]);
    assert!(by_service.contains(&open) && !by_service.contains(&old));
    let since = repo.ok(&["list", "--all", "--since", "2026-11-22"]);
    assert!(since.contains(&open) && !since.contains(&old));
    let until = repo.ok(&["list", "--all", "--until", "2026-11-22"]);
    assert!(!until.contains(&open) && until.contains(&old));
    let resolved = repo.ok(&["list", "--status", "resolved"]);
    assert!(resolved.contains(&old) && !resolved.contains(&open));

    let markdown = repo.ok(&["list", "--all", "--format", "markdown"]);
    assert!(markdown.starts_with("| ID | SEV | STATUS |"), "{markdown}");
    assert!(markdown.lines().nth(1).unwrap().starts_with("| --- |"));

    let coloured = repo.ok(&["list", "--color", "always"]);
    assert!(
        coloured.contains('\u{1b}'),
        "--color always colours: {coloured:?}"
    );
}

#[test]
fn log_shows_the_audit_trail() {
    let repo = Repo::init();
    let id = repo.declare(&["Cache stampede", "-s", "SEV3"]);
    repo.ok(&["update", &id, "-m", "first note"]);
    let log: serde_json::Value =
        serde_json::from_str(&repo.ok(&["--format", "json", "log", &id])).unwrap();
    let entries = log.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert!(
        entries[0]["subject"]
            .as_str()
            .unwrap()
            .starts_with(&format!("Update incident {id}"))
    );
    assert_eq!(entries[0]["author"], "Alice Example");
    assert_eq!(entries[0]["files"][0]["change"], "added");
    assert!(
        entries[0]["files"][0]["path"]
            .as_str()
            .unwrap()
            .starts_with("events/")
    );
    assert_eq!(entries[1]["files"][0]["path"], "incident.toml");
    let head = repo.git(&["rev-parse", "HEAD"]);
    assert_eq!(entries[0]["commit"], head.trim());
    let table = repo.ok(&["log", &id]);
    assert!(table.contains("Declare SEV3 incident"), "{table}");
}

#[test]
fn log_lists_the_commits_git_log_lists_whatever_the_users_log_config() {
    let repo = Repo::init();
    let id = repo.declare(&["Café checkout: merged history", "-s", "SEV3"]);
    // A side branch and the main line both change the incident, then merge.
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.ok(&["update", &id, "-m", "on the side branch"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.ok(&["update", &id, "-m", "on main"]);
    repo.git(&["merge", "-q", "--no-edit", "side"]);
    // A code commit in between changes nothing of the incident's.
    std::fs::write(repo.path.join("app.txt"), "code\n").unwrap();
    repo.git(&["add", "app.txt"]);
    repo.git(&["commit", "-q", "-m", "code change"]);
    // Settings that change what git log prints, as a user may have them.
    for (key, value) in [
        ("log.showSignature", "true"),
        ("i18n.logOutputEncoding", "ISO-8859-1"),
        ("diff.relative", "true"),
        ("color.ui", "always"),
        ("diff.renames", "copies"),
    ] {
        repo.git(&["config", key, value]);
    }
    let folder = repo
        .git(&["ls-files", "incidents/*/incident.toml"])
        .trim()
        .trim_end_matches("/incident.toml")
        .to_string();
    let expected: Vec<String> = repo
        .git(&["log", "--topo-order", "--format=%H", "HEAD", "--", &folder])
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(expected.len(), 4, "declare, two updates and the merge");
    let log: serde_json::Value =
        serde_json::from_str(&repo.ok(&["--format", "json", "log", &id])).unwrap();
    let listed: Vec<String> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["commit"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, expected, "{log:#}");
    // The merge's files are those it changed from its first parent.
    let merge = &log.as_array().unwrap()[0];
    assert!(
        merge["subject"].as_str().unwrap().starts_with("Merge"),
        "{merge}"
    );
    let files = merge["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{merge}");
    assert!(files[0]["path"].as_str().unwrap().starts_with("events/"));
    assert_eq!(files[0]["change"], "added");
    let declared = &log.as_array().unwrap()[3];
    assert!(
        declared["subject"].as_str().unwrap().contains("Café"),
        "{declared}"
    );
}

#[test]
fn help_completions_and_man_page() {
    let repo = Repo::empty();
    for command in [
        "declare", "update", "ack", "resolve", "reopen", "cancel", "list", "show", "timeline",
        "log", "init",
    ] {
        let help = repo.ok(&[command, "--help"]);
        assert!(
            help.contains("Examples:"),
            "{command} --help has a worked example:\n{help}"
        );
    }
    let bash = repo.ok(&["completions", "bash"]);
    // The script asks incident itself at each Tab (tests/terminal.rs completes with it).
    assert!(
        bash.contains("COMPLETE=\"bash\"") && bash.contains("-F _clap_complete_incident incident"),
        "{bash}"
    );
    let man = repo.ok(&["man"]);
    assert!(man.contains(".TH incident"), "{man}");
    let err = repo.fails(2, &["declare", "--no-such-flag"]);
    assert!(err.contains("--no-such-flag"), "{err}");
}

#[test]
fn dash_c_runs_as_if_started_elsewhere() {
    let repo = Repo::init();
    let elsewhere = repo.home();
    let path = repo.path.to_str().unwrap();
    let out = repo
        .command_in(&elsewhere)
        .args([
            "-C",
            path,
            "--format",
            "json",
            "declare",
            "From afar",
            "-s",
            "SEV4",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = repo.ok_in(&elsewhere, &["-C", path, "list"]);
    assert!(listed.contains("From afar"), "{listed}");
    // From a subfolder, the repository is found upwards, as git finds it.
    let sub = repo.path.join("incidents");
    assert!(repo.ok_in(&sub, &["list"]).contains("From afar"));
}

#[test]
fn log_in_a_shallow_clone_warns() {
    let repo = Repo::init();
    let id = repo.declare(&["Shallow history", "-s", "SEV3"]);
    repo.ok(&["update", &id, "-m", "second commit"]);
    let shallow = repo.sibling("shallow");
    support::git_in(
        &repo.home(),
        &repo.home(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &format!("file://{}", repo.path.display()),
            shallow.to_str().unwrap(),
        ],
    );
    let out = repo.run_in(&shallow, &["log", &id]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("shallow") && err.contains("git fetch --unshallow"),
        "{err}"
    );
    let out = repo.run(&["log", &id]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("shallow"));
}

#[test]
fn a_one_week_report_says_one_week() {
    let repo = Repo::init();
    let json: serde_json::Value =
        serde_json::from_str(&repo.ok(&["report", "--last", "1w", "--format", "json"])).unwrap();
    let label = json["period"]["label"].as_str().unwrap();
    assert!(label.starts_with("1 week "), "{label}");
    let json: serde_json::Value =
        serde_json::from_str(&repo.ok(&["report", "--last", "1d", "--format", "json"])).unwrap();
    assert!(
        json["period"]["label"]
            .as_str()
            .unwrap()
            .starts_with("1 day ")
    );
}
