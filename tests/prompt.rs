//! On a terminal, missing required fields are asked for.

mod support;

use support::Repo;

#[test]
fn declare_asks_for_title_and_severity_on_a_terminal() {
    let repo = Repo::init();
    let mut command = repo.command();
    command.arg("declare").env("TERM", "xterm");
    let mut session =
        rexpect::session::spawn_command(command, Some(20_000)).expect("spawn on a pty");
    session.exp_string("Title").expect("asks for the title");
    session.send_line("Typed at 3 a.m.").expect("type title");
    session
        .exp_string("Severity")
        .expect("asks for the severity");
    session
        .exp_string("SEV1")
        .expect("offers the config's severities");
    // Each item on one row of the terminal (80 columns here), as
    // dialoguer redraws by items.
    // (rexpect reads bytes as Latin-1, so the ellipsis is not matched.)
    session
        .exp_string("liaison with exec")
        .expect("a long item is cut");
    let rest_of_row = session.exp_string("SEV2").expect("the next item");
    assert!(
        !rest_of_row.contains("utive teams"),
        "a long item is cut, not wrapped: {rest_of_row:?}"
    );
    session.exp_string("SEV5").expect("the whole list is drawn");
    // Down twice: SEV3.
    for key in ["j", "j", "\r"] {
        session.send(key).expect("key");
        session.flush().expect("flush");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    session
        .exp_string("Declared SEV3 incident")
        .expect("declares");
    session.exp_eof().expect("exits");
    let list: serde_json::Value =
        serde_json::from_str(&repo.ok(&["--format", "json", "list"])).unwrap();
    assert_eq!(list[0]["title"], "Typed at 3 a.m.");
    assert_eq!(list[0]["severity"], "SEV3");
}

#[test]
fn no_input_never_asks_even_on_a_terminal() {
    let repo = Repo::init();
    let mut command = repo.command();
    command.args(["declare", "--no-input"]).env("TERM", "xterm");
    let mut session =
        rexpect::session::spawn_command(command, Some(20_000)).expect("spawn on a pty");
    session
        .exp_string("missing title")
        .expect("names the missing value");
    session.exp_eof().expect("exits");
}

#[test]
fn colour_on_a_terminal_unless_no_color() {
    let repo = Repo::init();
    repo.declare(&["Coloured", "-s", "SEV1"]);
    let mut command = repo.command();
    // Without the pager (tests/terminal.rs has it): less draws escapes of its own.
    command.args(["--no-pager", "list"]).env("TERM", "xterm");
    let mut session =
        rexpect::session::spawn_command(command, Some(20_000)).expect("spawn on a pty");
    let out = session.exp_eof().expect("exits");
    assert!(out.contains('\u{1b}'), "colour on a terminal: {out:?}");

    let mut command = repo.command();
    command
        .args(["--no-pager", "list"])
        .env("TERM", "xterm")
        .env("NO_COLOR", "1");
    let mut session =
        rexpect::session::spawn_command(command, Some(20_000)).expect("spawn on a pty");
    let out = session.exp_eof().expect("exits");
    assert!(
        out.contains("Coloured") && !out.contains('\u{1b}'),
        "NO_COLOR: {out:?}"
    );
}

fn on_a_terminal(repo: &Repo, args: &[&str]) -> rexpect::session::PtySession {
    let mut command = repo.command();
    command.args(args).env("TERM", "xterm");
    rexpect::session::spawn_command(command, Some(20_000)).expect("spawn on a pty")
}

fn key(session: &mut rexpect::session::PtySession, key: &str) {
    session.send(key).expect("key");
    session.flush().expect("flush");
    std::thread::sleep(std::time::Duration::from_millis(150));
}

#[test]
fn without_an_id_a_terminal_offers_the_open_incidents() {
    let repo = Repo::init();
    let minor = repo.declare(&["Minor thing", "-s", "SEV4"]);
    let major = repo.declare(&["Major outage", "-s", "SEV1"]);
    let mut session = on_a_terminal(&repo, &["ack"]);
    session
        .exp_string("Which incident to acknowledge?")
        .expect("asks which");
    // Most severe first: Enter takes the SEV1 one.
    session.exp_string("Major outage").expect("lists it");
    session.exp_string("Minor thing").expect("lists both");
    key(&mut session, "\r");
    session.exp_string("recorded").expect("acknowledges");
    session.exp_eof().expect("exits");
    assert_eq!(repo.show(&major)["status"], "investigating");
    assert_eq!(repo.show(&minor)["status"], "triage");
    // Without a terminal: a usage error naming the argument.
    let err = repo.fails(2, &["resolve", "-r", "x"]);
    assert!(err.contains("missing the incident"), "{err}");
}

#[test]
fn esc_and_ctrl_c_cancel_cleanly() {
    let repo = Repo::init();
    repo.declare(&["One", "-s", "SEV3"]);
    repo.declare(&["Two", "-s", "SEV3"]);
    let before = repo.state();
    let mut session = on_a_terminal(&repo, &["update", "-m", "typed"]);
    session.exp_string("Which incident").expect("asks");
    key(&mut session, "\u{1b}");
    let out = session.exp_eof().expect("exits");
    assert!(out.contains("cancelled"), "{out:?}");
    assert_eq!(repo.state(), before);

    let mut session = on_a_terminal(&repo, &["resolve"]);
    session.exp_string("Which incident").expect("asks");
    key(&mut session, "\u{3}");
    let out = session.exp_eof().expect("exits");
    // The cursor dialoguer hid is shown again.
    assert!(out.contains("\u{1b}[?25h"), "cursor restored: {out:?}");
    assert_eq!(repo.state(), before);

    // Esc at a text prompt cancels too.
    let mut session = on_a_terminal(&repo, &["declare", "-s", "SEV3"]);
    session.exp_string("Title").expect("asks for the title");
    key(&mut session, "half a ti");
    key(&mut session, "\u{1b}");
    session.exp_eof().expect("exits");
    assert_eq!(repo.state(), before);
}

#[test]
fn identity_is_checked_before_anything_is_asked() {
    let repo = Repo::init();
    let mut command = repo.command();
    command
        .arg("declare")
        .env("TERM", "xterm")
        .env_remove("GIT_AUTHOR_NAME")
        .env_remove("GIT_AUTHOR_EMAIL")
        .env_remove("GIT_COMMITTER_NAME")
        .env_remove("GIT_COMMITTER_EMAIL");
    let mut session =
        rexpect::session::spawn_command(command, Some(20_000)).expect("spawn on a pty");
    let out = session.exp_eof().expect("exits without asking");
    assert!(out.contains("git does not know who you are"), "{out:?}");
    assert!(!out.contains("Title"), "{out:?}");
}

#[test]
fn a_finished_incident_named_by_a_prefix_is_confirmed_on_a_terminal() {
    let repo = Repo::init();
    let id = repo.declare(&["Was a false alarm", "-s", "SEV4"]);
    repo.ok(&["cancel", &id, "--reason", "synthetic check"]);
    let prefix = &id[..3];
    let mut session = on_a_terminal(&repo, &["update", prefix, "-m", "late note"]);
    session.exp_string("is cancelled").expect("asks");
    key(&mut session, "y");
    session.exp_string("recorded").expect("records");
    session.exp_eof().expect("exits");
    assert_eq!(support::notes(&repo.show(&id)), ["late note"]);
}

/// Run a command on an 80-column terminal and return what it drew.
fn at_80_columns(repo: &Repo, args: &str) -> String {
    let mut command = repo.command();
    command.env("TERM", "xterm").env("NO_COLOR", "1").env(
        "PATH",
        format!(
            "{}:{}",
            std::path::Path::new(env!("CARGO_BIN_EXE_incident"))
                .parent()
                .unwrap()
                .display(),
            std::env::var("PATH").unwrap_or_default()
        ),
    );
    let mut bash = std::process::Command::new("bash");
    bash.args([
        "-c",
        &format!("stty cols 80 rows 60; incident --no-pager {args}"),
    ]);
    for (key, value) in command.get_envs() {
        match value {
            Some(v) => bash.env(key, v),
            None => bash.env_remove(key),
        };
    }
    bash.current_dir(&repo.path);
    let mut session = rexpect::session::spawn_command(bash, Some(20_000)).expect("pty");
    session.exp_eof().expect("exits")
}

#[test]
fn tables_fit_80_columns_without_splitting_values() {
    let repo = Repo::init();
    let id = repo.declare(&[
        "Checkout latency above 2s while the payment provider retries every request",
        "-s",
        "SEV2",
        "--started-at",
        "02:40",
        "--commander",
        "alice",
    ]);
    repo.ok(&["ack", &id]);
    repo.ok(&[
        "update",
        &id,
        "--status",
        "mitigated",
        "--at",
        "03:40",
        "-m",
        "rolled back payments to 1.41 and drained the retry queue by hand, which took a while",
    ]);
    for command in [
        format!("show {id}"),
        format!("timeline {id}"),
        "list --all".into(),
    ] {
        let drawn = at_80_columns(&repo, &command);
        for line in drawn.lines() {
            let line = line.trim_end_matches('\r');
            // The pty's bytes come back one char each: rules of '─' are wide.
            if line.contains('\u{e2}') {
                continue;
            }
            assert!(line.chars().count() <= 80, "{command}: {line:?}\n{drawn}");
            let text = line.trim_start();
            // A time never loses its clock or offset to the next line.
            assert!(
                !text.starts_with("+00:00")
                    && !text
                        .starts_with(|c: char| c.is_ascii_digit() && text.get(2..3) == Some(":")),
                "{command}: split value {line:?}\n{drawn}"
            );
        }
        if !command.starts_with("list") {
            assert!(drawn.contains("drained the retry"), "{drawn}");
        }
    }
}
