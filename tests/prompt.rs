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
