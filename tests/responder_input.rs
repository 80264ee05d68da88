//! What the responder types reaches the record, or is kept: `-` reads
//! standard input for every reason, `-F` reads pipes, and a command refused
//! before it starts (identity, git config, repository state) keeps the text
//! and asks for nothing.

mod support;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use support::Repo;

/// Run `command` with `input` on its standard input.
fn with_stdin(mut command: Command, input: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn incident");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn kept(repo: &Repo, name: &str) -> String {
    std::fs::read_to_string(repo.path.join(".git/incident").join(name))
        .unwrap_or_else(|e| panic!("{name} was not kept: {e}"))
}

#[test]
fn a_reason_given_as_dash_is_read_from_standard_input() {
    let repo = Repo::init();
    let id = repo.declare(&["Queue backlog", "-s", "SEV2"]);
    repo.ok(&["resolve", &id, "-r", "drained the queue"]);

    let mut close = repo.command();
    close.args(["close", &id, "--force", "--reason", "-"]);
    let out = with_stdin(close, "postmortem held in the vendor's tracker\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let timeline = repo.ok(&["--format", "json", "timeline", &id]);
    assert!(
        timeline.contains("postmortem held in the vendor's tracker"),
        "{timeline}"
    );
    assert!(!timeline.contains("\"-\""), "{timeline}");

    let id = repo.declare(&["Disk full", "-s", "SEV4"]);
    repo.ok(&["action", "add", &id, "Alert on disk use"]);
    let mut drop = repo.command();
    drop.args(["action", "drop", &format!("{id}/1"), "--reason", "-"]);
    let out = with_stdin(drop, "superseded by the storage rewrite\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let actions = repo.ok(&["--format", "json", "actions", "--all"]);
    assert!(
        actions.contains("superseded by the storage rewrite"),
        "{actions}"
    );
    assert!(!actions.contains("\"-\""), "{actions}");
}

#[test]
fn a_refused_item_change_keeps_its_reason() {
    let repo = Repo::init();
    let id = repo.declare(&["Disk full", "-s", "SEV4"]);
    let before = repo.state();
    let err = repo.fails(
        1,
        &[
            "action",
            "drop",
            &format!("{id}/7"),
            "--reason",
            "nobody needs it",
        ],
    );
    assert_eq!(repo.state(), before);
    assert!(err.contains(".git/incident/REJECTED_REASON"), "{err}");
    assert_eq!(kept(&repo, "REJECTED_REASON"), "nobody needs it\n");
}

#[test]
fn f_reads_pipes_and_dev_stdin() {
    let repo = Repo::init();
    let id = repo.declare(&["Queue backlog", "-s", "SEV3"]);
    // bash's process substitution hands incident a FIFO.
    let bin = env!("CARGO_BIN_EXE_incident");
    let mut bash = Command::new("bash");
    support::base_env(&mut bash, &repo.home());
    let out = bash
        .current_dir(&repo.path)
        .env("INCIDENT_NOW", &repo.now)
        .arg("-c")
        .arg(format!(
            "'{bin}' update {id} -F <(printf 'from a process\\n')"
        ))
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut update = repo.command();
    update.args(["update", &id, "-F", "/dev/stdin"]);
    let out = with_stdin(update, "from standard input\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        support::notes(&repo.show(&id)),
        ["from a process", "from standard input"]
    );
    let err = repo.fails(1, &["update", &id, "-F", "."]);
    assert!(err.contains("is a folder"), "{err}");
}

#[test]
fn an_update_refused_before_it_starts_keeps_its_note() {
    let repo = Repo::init();
    let id = repo.declare(&["Queue backlog", "-s", "SEV3"]);
    let before = repo.state();

    // No identity anywhere.
    let mut update = repo.command();
    update
        .env_remove("GIT_AUTHOR_NAME")
        .env_remove("GIT_AUTHOR_EMAIL")
        .env_remove("GIT_COMMITTER_NAME")
        .env_remove("GIT_COMMITTER_EMAIL")
        .env("EMAIL", "")
        .args(["update", &id, "-m", "consumers restarted"]);
    let out = update.output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("REJECTED_NOTE"), "{err}");
    assert_eq!(kept(&repo, "REJECTED_NOTE"), "consumers restarted\n");
    assert_eq!(repo.state(), before);

    // A git config git itself cannot read.
    let config = repo.path.join(".git/config");
    let good = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{good}[core\n")).unwrap();
    let out = repo.run(&["ack", &id, "-m", "second responder here"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("config"), "{err}");
    assert!(err.contains("-F .git/incident/REJECTED_NOTE"), "{err}");
    assert_eq!(kept(&repo, "REJECTED_NOTE"), "second responder here\n");
    std::fs::write(&config, good).unwrap();

    // The hinted reuse works.
    repo.ok(&["ack", &id, "-F", ".git/incident/REJECTED_NOTE"]);
    assert_eq!(support::notes(&repo.show(&id)), ["second responder here"]);
}

#[test]
fn a_repository_incident_cannot_write_to_is_refused_before_any_prompt() {
    let repo = Repo::init();
    let id = repo.declare(&["Queue backlog", "-s", "SEV3"]);
    repo.git(&["checkout", "-q", "--detach"]);
    // On a terminal, with nothing given: refused before asking for a
    // title, an incident or a resolution.
    for args in [
        vec!["declare"],
        vec!["update", "-m", "typed"],
        vec!["resolve", &id],
        vec!["cancel", &id, "-e"],
    ] {
        let mut command = repo.command();
        command.args(&args).env("TERM", "xterm");
        let mut session =
            rexpect::session::spawn_command(command, Some(20_000)).expect("spawn on a pty");
        let told = session.exp_eof().expect("exits without asking");
        assert!(told.contains("HEAD is detached"), "{args:?}: {told}");
        assert!(
            !told.contains("Title")
                && !told.contains("Resolution")
                && !told.contains("Queue backlog"),
            "{args:?} asked: {told}"
        );
    }
    assert_eq!(kept(&repo, "REJECTED_NOTE"), "typed\n");
}
