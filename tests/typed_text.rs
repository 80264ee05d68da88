//! What people type is never lost, and what they said fixed an incident
//! stays its resolution: `close` does not replace it; every refusal of
//! `update` and `comms` after the text is known keeps it; Ctrl-C in the
//! editor, or a run killed while it was open, keeps what the editor wrote.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use support::Repo;

fn kept(repo: &Repo, name: &str) -> String {
    std::fs::read_to_string(repo.path.join(".git/incident").join(name))
        .unwrap_or_else(|e| panic!("{name} was not kept: {e}"))
}

/// An executable script in the repository's temporary folder.
fn script(repo: &Repo, name: &str, body: &str) -> PathBuf {
    let path = repo.sibling(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn with_editor(repo: &Repo, editor: &Path, args: &[&str]) -> std::process::Output {
    repo.command()
        .env("GIT_EDITOR", editor)
        .args(args)
        .output()
        .expect("run incident")
}

/// Refused with `code`, nothing committed, the kept file named with the
/// way to reuse it.
fn refused_keeping(repo: &Repo, code: i32, args: &[&str], file: &str, reuse: &str) -> String {
    let before = repo.state();
    let err = repo.fails(code, args);
    assert_eq!(repo.state(), before, "{args:?} changed the repository");
    assert!(
        err.contains(&format!("{reuse} .git/incident/{file}")),
        "{err}"
    );
    err
}

/// A SEV2 incident resolved with a resolution, its postmortem written in
/// the editor on its review branch.
fn resolved_with_postmortem(repo: &Repo) -> String {
    let id = repo.declare(&["db down", "-s", "SEV2"]);
    repo.ok(&["resolve", &id, "-r", "rolled back payments to 1.41"]);
    id
}

fn fill_in_postmortem(repo: &Repo, id: &str) {
    let fill = script(
        repo,
        "fill.sh",
        "sed -i 's/^> TODO:.*/We wrote this by hand./' \"$1\"\n",
    );
    let out = with_editor(repo, &fill, &["postmortem", id, "--edit"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn close_after_the_postmortem_is_published_keeps_the_resolution() {
    let repo = Repo::init();
    let id = resolved_with_postmortem(&repo);
    fill_in_postmortem(&repo, &id);
    // The pull request merged, at the tests' clock.
    let mut merge = std::process::Command::new("git");
    support::base_env(&mut merge, &repo.home());
    let merged = merge
        .current_dir(&repo.path)
        .env("GIT_AUTHOR_DATE", support::NOW)
        .env("GIT_COMMITTER_DATE", support::NOW)
        .args(["merge", "-q", "--no-ff", &format!("postmortem/{id}")])
        .args(["-m", "Postmortem"])
        .status()
        .unwrap();
    assert!(merged.success());
    repo.ok(&["close", &id]);
    let shown = repo.show(&id);
    assert_eq!(shown["status"], "closed", "{shown}");
    assert_eq!(
        shown["resolution"], "rolled back payments to 1.41",
        "{shown}"
    );
    let text = repo.ok(&["show", &id]);
    assert!(
        text.contains("Resolution   rolled back payments to 1.41"),
        "{text}"
    );
    // The closing text stays in the timeline, as a comment.
    assert!(
        text.contains("→ closed: postmortem published on main"),
        "{text}"
    );
}

#[test]
fn a_forced_close_keeps_the_resolution_and_records_the_reason() {
    let repo = Repo::init();
    let id = resolved_with_postmortem(&repo);
    repo.ok(&[
        "close",
        &id,
        "--force",
        "--reason",
        "postmortem done in a doc",
    ]);
    let shown = repo.show(&id);
    assert_eq!(shown["status"], "closed", "{shown}");
    assert_eq!(
        shown["resolution"], "rolled back payments to 1.41",
        "{shown}"
    );
    let text = repo.ok(&["show", &id]);
    assert!(
        text.contains("→ closed: postmortem done in a doc"),
        "{text}"
    );
}

#[test]
fn the_close_refusal_reads_as_one_sentence_per_blocker() {
    let repo = Repo::init();
    let id = resolved_with_postmortem(&repo);
    // A draft nobody reviewed that does not pass the check yet.
    let err = repo.fails(1, &["close", &id]);
    assert!(
        err.contains("and merge the pull request; its postmortem does not pass"),
        "{err}"
    );
    assert!(!err.contains(".;"), "{err}");
}

#[test]
fn an_unknown_state_keeps_the_note_and_names_the_state_meant() {
    let repo = Repo::init();
    let id = repo.declare(&["x", "-s", "SEV4"]);
    let err = refused_keeping(
        &repo,
        1,
        &[
            "update",
            &id,
            "--status",
            "mitgated",
            "-m",
            "rolled back to 1.41",
        ],
        "REJECTED_NOTE",
        "-F",
    );
    assert!(err.contains("unknown state 'mitgated'"), "{err}");
    assert!(err.contains("did you mean 'mitigated'?"), "{err}");
    assert_eq!(kept(&repo, "REJECTED_NOTE"), "rolled back to 1.41\n");
    repo.ok(&[
        "update",
        &id,
        "--status",
        "mitigated",
        "-F",
        ".git/incident/REJECTED_NOTE",
    ]);
    assert_eq!(support::notes(&repo.show(&id)), ["rolled back to 1.41"]);
}

#[test]
fn resolved_without_a_resolution_keeps_the_note() {
    let repo = Repo::init();
    let id = repo.declare(&["x", "-s", "SEV4"]);
    let err = refused_keeping(
        &repo,
        2,
        &[
            "update",
            &id,
            "--status",
            "resolved",
            "-m",
            "errors are gone",
        ],
        "REJECTED_NOTE",
        "-F",
    );
    assert!(err.contains("--reason TEXT"), "{err}");
    assert_eq!(kept(&repo, "REJECTED_NOTE"), "errors are gone\n");
}

#[test]
fn status_closed_in_update_keeps_the_note() {
    let repo = Repo::init();
    let id = repo.declare(&["x", "-s", "SEV4"]);
    let err = refused_keeping(
        &repo,
        2,
        &["update", &id, "--status", "closed", "-m", "all done"],
        "REJECTED_NOTE",
        "-F",
    );
    assert!(err.contains("incident close"), "{err}");
    assert_eq!(kept(&repo, "REJECTED_NOTE"), "all done\n");
}

#[test]
fn an_unknown_audience_keeps_the_update() {
    let repo = Repo::init();
    let id = repo.declare(&["x", "-s", "SEV2"]);
    let err = refused_keeping(
        &repo,
        1,
        &[
            "comms",
            &id,
            "--audience",
            "publc",
            "-m",
            "We are looking into it.",
        ],
        "REJECTED_COMMS",
        "-F",
    );
    assert!(err.contains("did you mean 'public'?"), "{err}");
    assert_eq!(kept(&repo, "REJECTED_COMMS"), "We are looking into it.\n");
}

#[test]
fn ctrl_c_in_the_editor_keeps_what_it_wrote() {
    let repo = Repo::init();
    let id = repo.declare(&["x", "-s", "SEV4"]);
    // Ctrl-C on a terminal signals the whole foreground process group:
    // this command, the shell it starts and the editor.
    let editor = script(
        &repo,
        "interrupted.sh",
        "printf 'the cache was cold\\n' > \"$1\"\nkill -INT 0\nsleep 5\n",
    );
    let before = repo.state();
    let out = repo
        .command()
        .env("GIT_EDITOR", &editor)
        .args(["update", &id, "-e"])
        .process_group(0)
        .output()
        .expect("run incident");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert_eq!(repo.state(), before);
    assert!(err.contains("nothing was recorded"), "{err}");
    assert!(err.contains("-F .git/incident/REJECTED_NOTE"), "{err}");
    assert_eq!(kept(&repo, "REJECTED_NOTE"), "the cache was cold\n");
    assert!(!repo.path.join(".git/incident/NOTE_EDITMSG").exists());
    repo.ok(&["update", &id, "-F", ".git/incident/REJECTED_NOTE"]);
    assert_eq!(support::notes(&repo.show(&id)), ["the cache was cold"]);
}

#[test]
fn a_note_left_in_the_editor_file_is_kept_before_the_next_edit() {
    let repo = Repo::init();
    let id = repo.declare(&["x", "-s", "SEV4"]);
    // A run killed while its editor was open left its text behind.
    let left = repo.path.join(".git/incident/NOTE_EDITMSG");
    std::fs::create_dir_all(left.parent().unwrap()).unwrap();
    std::fs::write(&left, "half a note\n# Write the note above.\n").unwrap();
    let editor = script(&repo, "write.sh", "printf 'a new note\\n' > \"$1\"\n");
    let out = with_editor(&repo, &editor, &["update", &id, "-e"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("-F .git/incident/REJECTED_NOTE"), "{err}");
    assert_eq!(kept(&repo, "REJECTED_NOTE"), "half a note\n");
    assert_eq!(support::notes(&repo.show(&id)), ["a new note"]);
    // A left-over template holds nothing: no warning, nothing kept.
    std::fs::remove_file(repo.path.join(".git/incident/REJECTED_NOTE")).unwrap();
    std::fs::write(&left, "\n# Write the note above.\n").unwrap();
    let out = with_editor(&repo, &editor, &["update", &id, "-e"]);
    assert!(out.status.success());
    assert!(!repo.path.join(".git/incident/REJECTED_NOTE").exists());
}
