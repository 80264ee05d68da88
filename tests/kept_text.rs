//! Nothing typed is lost: every refusal keeps the text the person typed in
//! .git/incident/ and says how to reuse it, and the reuse works.

mod support;

use support::Repo;

fn kept(repo: &Repo, name: &str) -> String {
    std::fs::read_to_string(repo.path.join(".git/incident").join(name))
        .unwrap_or_else(|e| panic!("{name} was not kept: {e}"))
}

/// Refused with `code`, nothing written, and the error names the file.
fn refused_keeping(repo: &Repo, code: i32, args: &[&str], file: &str) -> String {
    let before = repo.state();
    let err = repo.fails(code, args);
    assert_eq!(repo.state(), before, "{args:?} changed the repository");
    assert!(err.contains(&format!(".git/incident/{file}")), "{err}");
    err
}

#[test]
fn an_illegal_transition_keeps_the_note_and_the_reason() {
    let repo = Repo::init();
    let id = repo.declare(&["x", "-s", "SEV4"]);
    repo.ok(&["resolve", &id, "-r", "done"]);
    let err = refused_keeping(
        &repo,
        1,
        &[
            "update",
            &id,
            "--status",
            "triage",
            "-m",
            "a long note\nwith two lines",
            "--reason",
            "why",
        ],
        "REJECTED_NOTE",
    );
    assert!(err.contains("-F .git/incident/REJECTED_NOTE"), "{err}");
    assert!(
        err.contains("--reason - < .git/incident/REJECTED_REASON"),
        "{err}"
    );
    assert_eq!(
        kept(&repo, "REJECTED_NOTE"),
        "a long note\nwith two lines\n"
    );
    assert_eq!(kept(&repo, "REJECTED_REASON"), "why\n");
    repo.ok(&["update", &id, "-F", ".git/incident/REJECTED_NOTE"]);
    assert_eq!(
        support::notes(&repo.show(&id)),
        ["a long note\nwith two lines"]
    );
}

#[test]
fn a_resolution_refused_for_its_time_is_kept() {
    let repo = Repo::init();
    let id = repo.declare(&["x", "-s", "SEV3", "--started-at", "09:00"]);
    refused_keeping(
        &repo,
        1,
        &[
            "resolve",
            &id,
            "-r",
            "rolled back the deploy",
            "--at",
            "08:30",
        ],
        "REJECTED_RESOLUTION",
    );
    assert_eq!(
        kept(&repo, "REJECTED_RESOLUTION"),
        "rolled back the deploy\n"
    );
    repo.ok(&[
        "resolve",
        &id,
        "-F",
        ".git/incident/REJECTED_RESOLUTION",
        "--at",
        "09:30",
    ]);
    assert_eq!(repo.show(&id)["resolution"], "rolled back the deploy");
}

#[test]
fn a_reason_for_an_unknown_incident_is_kept() {
    let repo = Repo::init();
    refused_keeping(
        &repo,
        1,
        &["cancel", "nope42", "--reason", "synthetic check misfired"],
        "REJECTED_REASON",
    );
    assert_eq!(kept(&repo, "REJECTED_REASON"), "synthetic check misfired\n");
}

#[test]
fn a_summary_refused_with_its_declaration_is_kept() {
    let repo = Repo::init();
    let err = refused_keeping(
        &repo,
        1,
        &[
            "declare",
            "Login errors",
            "-s",
            "SEV9",
            "--summary",
            "SSO users cannot log in",
        ],
        "REJECTED_SUMMARY",
    );
    assert!(err.contains("-F .git/incident/REJECTED_SUMMARY"), "{err}");
    repo.ok(&[
        "declare",
        "Login errors",
        "-s",
        "SEV3",
        "-F",
        ".git/incident/REJECTED_SUMMARY",
    ]);
    let list: serde_json::Value =
        serde_json::from_str(&repo.ok(&["--format", "json", "list"])).unwrap();
    assert_eq!(list[0]["summary"], "SSO users cannot log in");
}

#[test]
fn an_editor_that_fails_keeps_what_was_written() {
    let repo = Repo::init();
    let id = repo.declare(&["x", "-s", "SEV3"]);
    let before = repo.state();
    let out = repo
        .command()
        .env(
            "GIT_EDITOR",
            "f() { printf 'written in the editor\\n' > \"$1\"; exit 3; }; f",
        )
        .args(["update", &id, "-e"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(repo.state(), before);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("-F .git/incident/REJECTED_NOTE"), "{err}");
    assert_eq!(kept(&repo, "REJECTED_NOTE"), "written in the editor\n");
}

#[test]
fn the_editor_is_the_one_git_would_use() {
    let repo = Repo::init();
    let id = repo.declare(&["x", "-s", "SEV3"]);
    // core.editor wins over VISUAL and EDITOR, as in git.
    repo.git(&[
        "config",
        "core.editor",
        "f() { printf 'from core.editor\\n' > \"$1\"; }; f",
    ]);
    let out = repo
        .command()
        .env("VISUAL", "false")
        .env("EDITOR", "false")
        .args(["resolve", &id, "-e"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(repo.show(&id)["resolution"], "from core.editor");
}

#[test]
fn text_comes_from_standard_input_and_files() {
    use std::io::Write;
    let repo = Repo::init();
    let id = repo.declare(&["x", "-s", "SEV3"]);
    let mut child = repo
        .command()
        .args(["update", &id, "-m", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"from a pipe\nsecond line\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(
        support::notes(&repo.show(&id)),
        ["from a pipe\nsecond line"]
    );
    let err = repo.fails(1, &["update", &id, "-F", "no-such-file.txt"]);
    assert!(err.contains("no-such-file.txt"), "{err}");
}

#[test]
fn ack_on_an_acknowledged_incident_records_the_note() {
    let repo = Repo::init();
    let id = repo.declare(&["x", "-s", "SEV3"]);
    repo.ok(&["ack", &id]);
    let out = repo.run(&["ack", &id, "-m", "second responder here"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("was acknowledged already"), "{err}");
    assert_eq!(support::notes(&repo.show(&id)), ["second responder here"]);
    // Without a note there is nothing to record.
    repo.fails(1, &["ack", &id]);
}

#[test]
fn update_status_resolved_runs_the_rules_of_resolve() {
    let repo = Repo::init();
    let id = repo.declare(&["x", "-s", "SEV2"]);
    let err = repo.fails(2, &["update", &id, "--status", "resolved"]);
    assert!(err.contains("--reason"), "{err}");
    let out = repo.run(&[
        "update",
        &id,
        "--status",
        "resolved",
        "--reason",
        "rolled back",
    ]);
    assert!(out.status.success());
    let shown = repo.show(&id);
    assert_eq!(shown["resolution"], "rolled back");
    // SEV2 needs a postmortem: due in the same commit, with its draft on
    // the review branch, as resolve does.
    assert_eq!(
        shown["postmortem_due"]["branch"],
        format!("postmortem/{id}")
    );
    let files = repo.git(&["show", "--name-only", "--format=", "HEAD"]);
    assert!(files.contains("-postmortem_due.toml"), "{files}");
    let draft = repo.git(&[
        "show",
        "--name-only",
        "--format=",
        &format!("postmortem/{id}"),
    ]);
    assert!(draft.contains("postmortem.md"), "{draft}");
    let err = repo.fails(2, &["update", &id, "--status", "closed"]);
    assert!(err.contains("incident close"), "{err}");
    let other = repo.declare(&["y", "-s", "SEV3"]);
    let err = repo.fails(2, &["update", &other, "--status", "cancelled"]);
    assert!(err.contains("--reason"), "{err}");
}
