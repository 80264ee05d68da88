//! Bad input gets a clear error, a non-zero exit code, and nothing is written.

mod support;

use support::Repo;

/// Run a command that must fail with `code`, check that the repository did
/// not change, and return stderr.
fn refused(repo: &Repo, code: i32, args: &[&str]) -> String {
    let before = repo.state();
    let err = repo.fails(code, args);
    assert_eq!(
        repo.state(),
        before,
        "incident {args:?} changed the repository"
    );
    err
}

#[test]
fn missing_flags_are_named_without_a_terminal() {
    let repo = Repo::init();
    let err = refused(&repo, 2, &["declare", "No severity"]);
    assert!(
        err.contains("--severity") && err.contains("SEV1, SEV2"),
        "{err}"
    );
    let err = refused(&repo, 2, &["declare", "--severity", "SEV1"]);
    assert!(err.contains("missing title"), "{err}");
    let id = repo.declare(&["x", "-s", "SEV3"]);
    let err = refused(&repo, 2, &["resolve", &id]);
    assert!(err.contains("--resolution"), "{err}");
    let err = refused(&repo, 2, &["update", &id]);
    assert!(err.contains("nothing to record"), "{err}");
    // CI=true means never prompt, even with --no-input absent.
    let out = repo
        .command()
        .env("CI", "true")
        .args(["declare", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn unknown_names_list_the_valid_ones() {
    let repo = Repo::init();
    let err = refused(&repo, 1, &["declare", "x", "-s", "SEV9"]);
    assert!(
        err.contains("unknown severity 'SEV9'; choose one of: SEV1, SEV2, SEV3, SEV4, SEV5"),
        "{err}"
    );
    let id = repo.declare(&["x", "-s", "SEV3"]);
    let err = refused(&repo, 1, &["update", &id, "--status", "panicking"]);
    assert!(
        err.contains("unknown state 'panicking'") && err.contains("investigating"),
        "{err}"
    );
    let err = refused(&repo, 1, &["update", &id, "--role", "wizard=merlin"]);
    assert!(
        err.contains("unknown role 'wizard'") && err.contains("commander, deputy, scribe"),
        "{err}"
    );
    let err = refused(&repo, 1, &["update", &id, "--milestone", "lunch=12:00"]);
    assert!(err.contains("unknown milestone 'lunch'"), "{err}");
}

#[test]
fn illegal_transitions_list_the_allowed_ones() {
    let repo = Repo::init();
    let id = repo.declare(&["x", "-s", "SEV3"]);
    repo.ok(&["resolve", &id, "--resolution", "done"]);
    let err = refused(&repo, 1, &["update", &id, "--status", "mitigated"]);
    assert!(
        err.contains("cannot change status from 'resolved' to 'mitigated'; allowed from 'resolved': postmortem, closed, investigating"),
        "{err}"
    );
    let err = refused(&repo, 1, &["update", &id, "--status", "resolved"]);
    assert!(err.contains("already 'resolved'"), "{err}");
}

#[test]
fn milestones_out_of_order_name_both() {
    let repo = Repo::init();
    let id = repo.declare(&["x", "-s", "SEV3", "--started-at", "09:00"]);
    let err = refused(&repo, 1, &["update", &id, "--milestone", "mitigated=08:30"]);
    assert!(
        err.contains("milestone 'mitigated'") && err.contains("before 'started'"),
        "{err}"
    );
    let err = refused(
        &repo,
        1,
        &[
            "declare",
            "y",
            "-s",
            "SEV3",
            "--started-at",
            "09:30",
            "--detected-at",
            "09:10",
        ],
    );
    assert!(
        err.contains("'detected'") && err.contains("'started'"),
        "{err}"
    );
    // A status change stated before the current one is history written
    // down: it goes in where its time puts it, and says so.
    repo.ok(&["update", &id, "--status", "identified", "--at", "09:40"]);
    let out = repo.run(&["update", &id, "--status", "mitigated", "--at", "09:20"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("goes in before the change to 'identified'")
            && err.contains("stays 'identified'"),
        "{err}"
    );
    assert_eq!(repo.show(&id)["status"], "identified");
    // One the lifecycle does not allow there is refused, saying how to fix it.
    let err = refused(
        &repo,
        1,
        &["update", &id, "--status", "triage", "--at", "09:30"],
    );
    assert!(
        err.contains("from 'mitigated'") && err.contains("to 'triage'"),
        "{err}"
    );
    assert!(err.contains("--at TIME"), "{err}");
}

#[test]
fn times_in_the_future_or_unreadable_are_refused() {
    let repo = Repo::init();
    let id = repo.declare(&["x", "-s", "SEV3"]);
    let err = refused(
        &repo,
        1,
        &["update", &id, "-m", "x", "--at", "2026-11-24T10:05:00Z"],
    );
    assert!(err.contains("is in the future"), "{err}");
    // Thirty seconds of clock skew are fine.
    repo.ok(&[
        "update",
        &id,
        "-m",
        "skewed",
        "--at",
        "2026-11-24T10:00:30Z",
    ]);
    let err = refused(
        &repo,
        1,
        &["update", &id, "-m", "x", "--at", "half past nine"],
    );
    assert!(err.contains("cannot read time 'half past nine'"), "{err}");
    assert!(
        err.contains("accepted forms: RFC 3339") && err.contains("'15m ago'"),
        "{err}"
    );
    let err = refused(
        &repo,
        1,
        &[
            "declare",
            "x",
            "-s",
            "SEV3",
            "--started-at",
            "yesterday-ish",
        ],
    );
    assert!(err.contains("accepted forms"), "{err}");
}

#[test]
fn hand_edited_files_that_do_not_parse_name_file_line_and_column() {
    let repo = Repo::init();
    let id = repo.declare(&["x", "-s", "SEV3"]);
    repo.ok(&["update", &id, "-m", "a note"]);
    let folder = repo.show(&id)["folder"].as_str().unwrap().to_string();
    let events = repo.path.join(&folder).join("events");
    let event = std::fs::read_dir(&events)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let name = event.file_name().unwrap().to_str().unwrap().to_string();
    let text = std::fs::read_to_string(&event).unwrap();
    std::fs::write(&event, text.replacen("kind = \"note\"", "kind = \"note", 1)).unwrap();
    repo.git(&["commit", "-qam", "hand edit gone wrong"]);
    let line = text.lines().position(|l| l.starts_with("kind")).unwrap() + 1;
    let err = refused(&repo, 1, &["update", &id, "-m", "more"]);
    assert!(
        err.contains(&format!("{folder}/events/{name}:{line}:")),
        "{err}"
    );
    let err = refused(&repo, 1, &["show", &id]);
    assert!(err.contains(&format!("events/{name}:{line}:")), "{err}");
    // `list` carries on and warns about the broken incident.
    let out = repo.run(&["list"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: skipping"));

    let config = repo.path.join("incidents/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("initial = \"triage\"", "initial = \"nowhere\""),
    )
    .unwrap();
    let err = repo.fails(1, &["list"]);
    assert!(
        err.contains("incidents/config.toml:") && err.contains("lifecycle.initial"),
        "{err}"
    );
}

#[test]
fn hostile_text_is_stored_safely_and_round_trips_exactly() {
    let repo = Repo::init();
    let long = "x".repeat(10 * 1024);
    let texts = [
        "../../../etc/passwd".to_string(),
        "line one\nline two\r\nline three".to_string(),
        "bell \u{0007} escape \u{001b}[31m red \u{007f} delete".to_string(),
        long,
        "🔥🚒 everything is on fire 🔥".to_string(),
        "שגיאה בשרת \u{202e}reversed\u{202c} مرحبا".to_string(),
        "quotes \" ' \\ and \"\"\" triple".to_string(),
    ];
    for text in &texts {
        let id = repo.declare(&[text, "-s", "SEV4", "--summary", text]);
        repo.ok(&["update", &id, "-m", text]);
        let shown = repo.show(&id);
        assert_eq!(shown["title"].as_str().unwrap(), text);
        assert_eq!(shown["summary"].as_str().unwrap(), text);
        assert_eq!(support::notes(&shown), [text.as_str()]);
        let folder = shown["folder"].as_str().unwrap();
        let name = folder.rsplit('/').next().unwrap();
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "unsafe folder name {folder:?}"
        );
        assert!(folder.starts_with("incidents/2026/11/"), "{folder}");
        // Terminal output never carries the raw escape character.
        let table = repo.ok(&["show", &id]);
        assert!(!table.contains('\u{1b}'), "raw ESC reached the terminal");
    }
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    repo.git(&["fsck", "--strict"]);
    let tracked = repo.git(&["ls-files"]);
    assert!(
        tracked.lines().all(|l| l.starts_with("incidents/")),
        "{tracked}"
    );
}
