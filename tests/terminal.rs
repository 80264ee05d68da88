//! Terminal conventions: the pager, -q, which --format each command takes,
//! colour rules, man pages, shell completion, escaping for terminals and
//! spreadsheets, and the time zone `init` writes.

mod support;

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::Repo;

fn on_a_pty(command: Command) -> String {
    let mut session =
        rexpect::session::spawn_command(command, Some(20_000)).expect("spawn on a pty");
    session.exp_eof().expect("exits")
}

/// A pager that writes its environment and what it reads to `log`.
fn fake_pager(dir: &Path, log: &Path) -> PathBuf {
    let script = dir.join("fake-pager");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n{{ echo \"LESS=$LESS LV=$LV ARGS=$*\"; cat; }} > '{}'\n",
            log.display()
        ),
    )
    .expect("write pager");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    script
}

fn repo_with_incident() -> (Repo, String) {
    let repo = Repo::init();
    let id = repo.declare(&[
        "Checkout latency above 2s",
        "-s",
        "SEV1",
        "--commander",
        "alice",
    ]);
    (repo, id)
}

#[test]
fn long_output_goes_through_gits_pager_on_a_terminal_only() {
    let (repo, id) = repo_with_incident();
    let log = repo.home().join("pager.log");
    let pager = fake_pager(&repo.home(), &log);

    // GIT_PAGER, with LESS and LV set as git sets them; colour goes to the pager.
    let mut command = repo.command();
    command
        .args(["list"])
        .env("TERM", "xterm")
        .env("GIT_PAGER", &pager);
    on_a_pty(command);
    let paged = std::fs::read_to_string(&log).expect("the pager ran");
    assert!(paged.starts_with("LESS=FRX LV=-c"), "{paged}");
    assert!(paged.contains(&id) && paged.contains('\u{1b}'), "{paged}");
    std::fs::remove_file(&log).unwrap();

    // A LESS of the user's own is kept.
    let mut command = repo.command();
    command
        .args(["show", &id])
        .env("TERM", "xterm")
        .env("LESS", "S")
        .env("GIT_PAGER", &pager);
    on_a_pty(command);
    let paged = std::fs::read_to_string(&log).expect("the pager ran");
    assert!(paged.starts_with("LESS=S LV=-c"), "{paged}");
    assert!(paged.contains("Timeline"), "{paged}");
    std::fs::remove_file(&log).unwrap();

    // core.pager, run through the shell as git runs it (it has arguments).
    repo.git(&[
        "config",
        "core.pager",
        &format!("{} --from-core", pager.display()),
    ]);
    let mut command = repo.command();
    command.args(["timeline", &id]).env("TERM", "xterm");
    on_a_pty(command);
    let paged = std::fs::read_to_string(&log).expect("core.pager ran");
    assert!(
        paged.starts_with("LESS=FRX LV=-c ARGS=--from-core"),
        "{paged}"
    );
    std::fs::remove_file(&log).unwrap();

    // Never through a pipe, with -P or --no-pager, or with pager.incident=false.
    let piped = repo.ok(&["list"]);
    assert!(piped.contains(&id) && !log.exists(), "{piped}");
    for flag in ["-P", "--no-pager"] {
        let mut command = repo.command();
        command.args([flag, "log", &id]).env("TERM", "xterm");
        let shown = on_a_pty(command);
        assert!(
            shown.contains("Declare SEV1") && !log.exists(),
            "{flag}: {shown}"
        );
    }
    repo.git(&["config", "pager.incident", "false"]);
    let mut command = repo.command();
    command.args(["list"]).env("TERM", "xterm");
    let shown = on_a_pty(command);
    assert!(shown.contains(&id) && !log.exists(), "{shown}");

    // pager.incident as a command; commands that write never page.
    repo.git(&[
        "config",
        "pager.incident",
        &format!("{} --from-pager-incident", pager.display()),
    ]);
    let mut command = repo.command();
    command
        .args(["update", &id, "-m", "x"])
        .env("TERM", "xterm");
    on_a_pty(command);
    assert!(!log.exists(), "update does not page");
    let mut command = repo.command();
    command.args(["list"]).env("TERM", "xterm");
    on_a_pty(command);
    let paged = std::fs::read_to_string(&log).expect("pager.incident ran");
    assert!(paged.contains("ARGS=--from-pager-incident"), "{paged}");

    // A pager that cannot start: a warning, and the output all the same.
    repo.git(&["config", "--unset", "pager.incident"]);
    repo.git(&["config", "--unset", "core.pager"]);
    let mut command = repo.command();
    command
        .args(["list"])
        .env("TERM", "xterm")
        .env("GIT_PAGER", "/nonexistent/pager");
    let shown = on_a_pty(command);
    assert!(
        shown.contains("cannot run the pager '/nonexistent/pager'") && shown.contains(&id),
        "{shown}"
    );
    // GIT_PAGER=cat means no pager, as in git.
    let mut command = repo.command();
    command
        .args(["list"])
        .env("TERM", "xterm")
        .env("GIT_PAGER", "cat");
    assert!(on_a_pty(command).contains(&id));
}

#[test]
fn quiet_drops_confirmations_and_hints_but_not_data_or_errors() {
    let repo = Repo::init();
    let out = repo.run(&["-q", "declare", "Login errors", "-s", "SEV3"]);
    let id = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(id.len(), 6, "declare -q prints the id alone: {id:?}");
    assert!(out.stderr.is_empty(), "no next: hint");
    let loud = repo.run(&["declare", "Other", "-s", "SEV3"]);
    assert!(String::from_utf8_lossy(&loud.stderr).contains("next: incident ack"));

    for args in [
        vec!["-q", "update", &id, "-m", "looking"],
        vec!["ack", &id, "--quiet"],
        vec![
            "-q",
            "action",
            "add",
            &id,
            "Alert on queue depth",
            "--owner",
            "bob",
        ],
    ] {
        let out = repo.run(&args);
        assert!(out.status.success(), "{args:?}");
        assert!(
            out.stdout.is_empty() && out.stderr.is_empty(),
            "{args:?}: {out:?}"
        );
    }
    // Data still prints, and JSON is data.
    assert!(repo.ok(&["-q", "list"]).contains(&id));
    assert!(
        repo.ok(&["-q", "--format", "json", "update", &id, "-m", "x"])
            .contains("\"commit\"")
    );
    let err = repo.fails(1, &["-q", "update", "nosuch", "-m", "x"]);
    assert!(err.contains("error: no incident matches 'nosuch'"), "{err}");
}

#[test]
fn each_command_takes_only_the_formats_it_can_print() {
    let repo = Repo::init();
    let cases: &[(&[&str], &str, &str)] = &[
        (&["init"], "csv", "table, json"),
        (&["declare", "T", "-s", "SEV3"], "csv", "table, json"),
        (&["update", "x", "-m", "n"], "csv", "table, json"),
        (&["ack", "x"], "markdown", "table, json"),
        (&["resolve", "x", "--resolution", "r"], "csv", "table, json"),
        (&["reopen", "x"], "csv", "table, json"),
        (&["cancel", "x", "--reason", "r"], "html", "table, json"),
        (&["close", "x"], "markdown", "table, json"),
        (&["list"], "html", "table, json, csv, markdown"),
        (&["show", "x"], "csv", "table, json, markdown"),
        (&["timeline", "x"], "html", "table, json, csv, markdown"),
        (&["log", "x"], "github", "table, json, csv, markdown"),
        (&["report"], "github", "table, json, csv, markdown, html"),
        (&["postmortem", "x"], "json", "table"),
        (&["postmortem", "review", "x"], "csv", "table, json"),
        (&["postmortem", "check"], "csv", "table, json, github"),
        (&["action", "add", "x", "t"], "csv", "table, json"),
        (&["action", "done", "x/1"], "markdown", "table, json"),
        (&["actions"], "html", "table, json, csv, markdown"),
        (&["check"], "markdown", "table, json, github"),
        (&["sync"], "csv", "table, json"),
    ];
    let before = repo.state();
    for (args, format, accepted) in cases {
        let path: Vec<&str> = args
            .iter()
            .take_while(|a| a.chars().all(|c| c.is_ascii_lowercase()) && a.len() > 1)
            .copied()
            .collect();
        let name = format!("`incident {}`", path.join(" "));
        // After the command's name: clap refuses it while parsing.
        let mut after: Vec<&str> = args.to_vec();
        after.extend(["--format", format]);
        let err = repo.fails(2, &after);
        assert!(
            err.contains(&format!(
                "{name} cannot print '{format}': its --format values are {accepted}\n"
            )),
            "{after:?}: {err}"
        );
        // Before it: the same refusal.
        let mut before_name = vec!["--format", format];
        before_name.extend(args.iter());
        let err = repo.fails(2, &before_name);
        assert!(
            err.contains(&format!("{name} cannot print '{format}'")),
            "{before_name:?}: {err}"
        );
        // Its help lists what it takes.
        let mut help = path.clone();
        help.push("-h");
        let text = repo
            .ok(&help)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            text.contains(&format!(
                "--format <FORMAT> Output format (default: table) [possible values: {accepted}]"
            )),
            "{help:?}: {text}"
        );
    }
    for args in [["man", "--format", "json"], ["--format", "table", "man"]] {
        let err = repo.fails(2, &args);
        assert!(err.contains("`incident man` takes no --format"), "{err}");
    }
    assert_eq!(repo.state(), before, "refusals write nothing");
}

#[test]
fn help_lists_a_commands_own_options_before_the_global_ones() {
    let repo = Repo::empty();
    for path in [
        &["declare"][..],
        &["list"],
        &["report"],
        &["postmortem", "review"],
        &["action", "add"],
    ] {
        let mut args = path.to_vec();
        args.push("--help");
        let help = repo.ok(&args);
        let own = help.find("\nOptions:\n").expect("own options");
        let global = help.find("\nGlobal options:\n").expect("global options");
        assert!(own < global, "{path:?}: {help}");
        for flag in [
            "-C <DIR>",
            "--color <WHEN>",
            "--quiet",
            "--no-pager",
            "--format <FORMAT>",
        ] {
            let at = help
                .find(flag)
                .unwrap_or_else(|| panic!("{flag} in {help}"));
            assert!(at > global, "{path:?}: {flag} is a global option: {help}");
        }
    }
}

#[test]
fn colour_rules_no_color_clicolor_and_always() {
    let (repo, _) = repo_with_incident();
    let list = |env: &[(&str, &str)], args: &[&str]| {
        let mut command = repo.command();
        command.args(args).arg("list");
        for (k, v) in env {
            command.env(k, v);
        }
        String::from_utf8(command.output().unwrap().stdout).unwrap()
    };
    // --color always wins over NO_COLOR, with real colours and no empty codes.
    let always = list(&[("NO_COLOR", "1")], &["--color", "always"]);
    assert!(always.contains("\u{1b}[38;5;9m"), "{always:?}");
    assert!(
        !always.contains("\u{1b}[m"),
        "no empty escape codes: {always:?}"
    );
    // CLICOLOR_FORCE colours off a terminal; NO_COLOR beats it; 0 is off.
    assert!(list(&[("CLICOLOR_FORCE", "1")], &[]).contains("\u{1b}[38;5;9m"));
    assert!(!list(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], &[]).contains('\u{1b}'));
    assert!(!list(&[("CLICOLOR_FORCE", "0")], &[]).contains('\u{1b}'));
    assert!(!list(&[("CLICOLOR_FORCE", "1")], &["--color", "never"]).contains('\u{1b}'));
    // On a terminal: CLICOLOR=0 and TERM=dumb turn colour off.
    for env in [
        [("TERM", "xterm"), ("CLICOLOR", "0")],
        [("TERM", "dumb"), ("X", "")],
    ] {
        let mut command = repo.command();
        command.args(["-P", "list"]);
        for (k, v) in env {
            command.env(k, v);
        }
        let shown = on_a_pty(command);
        assert!(
            shown.contains("SEV1") && !shown.contains('\u{1b}'),
            "{env:?}: {shown:?}"
        );
    }
}

#[test]
fn a_man_page_per_command() {
    let repo = Repo::empty();
    let dir = repo.home().join("man1");
    let out = repo.ok(&["man", "--output", dir.to_str().unwrap()]);
    assert!(
        out.starts_with("wrote ") && out.contains(" man pages to "),
        "{out}"
    );
    // Every page a page refers to exists, down to nested commands.
    let mut referred = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for reference in text.lines().filter_map(|l| l.strip_suffix("(1)")) {
            let name = reference.replace("\\-", "-");
            assert!(dir.join(format!("{name}.1")).exists(), "{name}(1)");
            referred.push(name);
        }
    }
    for page in [
        "incident-declare",
        "incident-postmortem-review",
        "incident-action-done",
    ] {
        assert!(referred.iter().any(|r| r == page), "{page} in {referred:?}");
    }
    for page in [
        "incident-declare.1",
        "incident-postmortem-review.1",
        "incident-action-add.1",
    ] {
        let text = std::fs::read_to_string(dir.join(page)).unwrap();
        let title = page.trim_end_matches(".1");
        assert!(
            text.contains(&format!("\n.TH {title} 1 ")),
            "{page}: {text}"
        );
        assert!(text.contains("GLOBAL OPTIONS"), "{page}");
        // man renders it without complaint.
        let rendered = Command::new("man")
            .args(["-l", "--warnings", dir.join(page).to_str().unwrap()])
            .env("MANWIDTH", "80")
            .env("MAN_KEEP_FORMATTING", "0")
            .env("PAGER", "cat")
            .env("MANPAGER", "cat")
            .output();
        if let Ok(rendered) = rendered {
            // Bold and underline as overstrikes: keep the letters.
            let mut shown = String::new();
            for c in String::from_utf8_lossy(&rendered.stdout).chars() {
                if c == '\u{8}' {
                    shown.pop();
                } else {
                    shown.push(c);
                }
            }
            let warnings = String::from_utf8_lossy(&rendered.stderr);
            assert!(rendered.status.success(), "{page}: {warnings}");
            assert!(
                shown.contains("NAME") && shown.contains(title),
                "{page}: {shown}"
            );
            assert!(!warnings.contains("warning"), "{page}: {warnings}");
            if page == "incident-declare.1" {
                // The examples as --help has them, to copy: not filled
                // and justified as prose.
                for example in [
                    "\n   incident declare \"Login errors\" -s SEV3 --format json",
                    "--summary \"p99 above 2s since the 02:40 deploy\" --started-at 02:40\n",
                ] {
                    assert!(shown.contains(example), "{page}: {shown}");
                }
            }
        }
    }
    // One page to standard output.
    let page = repo.ok(&["man", "postmortem", "review"]);
    assert!(
        page.contains("\n.TH incident-postmortem-review 1 "),
        "{page}"
    );
    let err = repo.fails(2, &["man", "nosuch"]);
    assert!(err.contains("`incident nosuch` is no command"), "{err}");
}

/// What bash completes for the last word of `line`, with the script
/// `incident completions bash` prints.
fn bash_completes(repo: &Repo, dir: &Path, words: &[&str]) -> (Vec<String>, String) {
    let script = repo.home().join("incident.bash");
    std::fs::write(&script, repo.ok(&["completions", "bash"])).unwrap();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let current = words.last().unwrap();
    let previous = words[words.len() - 2];
    let program = format!(
        "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_TYPE=9\nCOMP_LINE='{}'\nCOMP_POINT=${{#COMP_LINE}}\n_clap_complete_incident incident '{current}' '{previous}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script.display(),
        quoted.join(" "),
        words.len() - 1,
        words.join(" "),
    );
    let mut command = Command::new("bash");
    support::base_env(&mut command, &repo.home());
    let out = command
        .current_dir(dir)
        .args(["--norc", "-c", &program])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    (
        stdout
            .lines()
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn bash_completes_ids_items_severities_states_and_roles() {
    let (repo, id) = repo_with_incident();
    let other = repo.declare(&["DB failover stuck", "-s", "SEV2"]);
    repo.ok(&["action", "add", &id, "Alert on queue depth"]);
    let here = repo.path.clone();
    let (all, _) = bash_completes(&repo, &here, &["incident", "show", ""]);
    let ids: Vec<&String> = all.iter().filter(|c| !c.starts_with('-')).collect();
    assert_eq!(ids.len(), 2, "{all:?}");
    assert!(ids.contains(&&id) && ids.contains(&&other), "{ids:?}");
    let (one, _) = bash_completes(&repo, &here, &["incident", "ack", &id[..3]]);
    assert_eq!(one, std::slice::from_ref(&id));
    // A fragment of the title finds the id, as incident itself does.
    let (by_slug, _) = bash_completes(&repo, &here, &["incident", "update", "failover"]);
    assert_eq!(by_slug, std::slice::from_ref(&other));
    let (sevs, _) = bash_completes(
        &repo,
        &here,
        &["incident", "declare", "x", "--severity", "SEV"],
    );
    assert_eq!(sevs, ["SEV1", "SEV2", "SEV3", "SEV4", "SEV5"]);
    let (states, _) = bash_completes(&repo, &here, &["incident", "update", &id, "--status", "mi"]);
    assert_eq!(states, ["mitigated"]);
    let (roles, _) = bash_completes(&repo, &here, &["incident", "update", &id, "--role", "scr"]);
    assert_eq!(roles, ["scribe="]);
    let (items, _) = bash_completes(
        &repo,
        &here,
        &["incident", "action", "done", &format!("{id}/")],
    );
    assert_eq!(items, [format!("{id}/1")]);
    let (templates, _) = bash_completes(
        &repo,
        &here,
        &["incident", "postmortem", &id, "--template", "s"],
    );
    assert_eq!(templates, ["sre"]);
    // -C names the repository; commands and flags complete too.
    let elsewhere = repo.home();
    let (with_c, _) = bash_completes(
        &repo,
        &elsewhere,
        &[
            "incident",
            "-C",
            here.to_str().unwrap(),
            "timeline",
            &other[..2],
        ],
    );
    assert!(with_c.contains(&other), "{with_c:?}");
    let (commands, _) = bash_completes(&repo, &here, &["incident", "time"]);
    assert_eq!(commands, ["timeline"]);
    // Outside a repository: nothing, and not a word on stderr.
    let (nothing, stderr) = bash_completes(&repo, &elsewhere, &["incident", "show", ""]);
    assert!(
        nothing.iter().all(|c| c.starts_with('-')) && stderr.is_empty(),
        "{nothing:?} {stderr}"
    );
}

#[test]
fn init_names_the_time_zone_and_check_warns_about_local() {
    for (tz, written, warned) in [
        ("America/Los_Angeles", "America/Los_Angeles", false),
        (":Europe/Berlin", "Europe/Berlin", false),
        ("", "UTC", false),
        ("CET-1CEST,M3.5.0,M10.5.0/3", "UTC", true),
    ] {
        let repo = Repo::empty();
        let out = repo.command().arg("init").env("TZ", tz).output().unwrap();
        assert!(out.status.success());
        let config = std::fs::read_to_string(repo.path.join("incidents/config.toml")).unwrap();
        assert!(
            config.contains(&format!("\ntimezone = \"{written}\"\n")),
            "{tz}: {config}"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            stderr.contains("has no IANA name"),
            warned,
            "{tz}: {stderr}"
        );
    }

    // With a named zone, a laptop in another zone prints the same report.
    let (repo, id) = repo_with_incident();
    repo.ok(&["resolve", &id, "--resolution", "rolled back"]);
    let report = |tz: &str| {
        let out = repo
            .command()
            .args(["--format", "json", "report", "--last", "4w"])
            .env("TZ", tz)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(report("UTC"), report("America/Los_Angeles"));

    // A repository that says "local" keeps working; check warns.
    let path = repo.path.join("incidents/config.toml");
    let config = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        config.replace("timezone = \"UTC\"", "timezone = \"local\""),
    )
    .unwrap();
    repo.git(&["commit", "-qam", "local time"]);
    repo.ok(&["show", &id]);
    let out = repo.ok(&["check"]);
    let line = config
        .lines()
        .position(|l| l.starts_with("timezone"))
        .unwrap()
        + 1;
    assert!(
        out.contains(&format!(
            "incidents/config.toml:{line}: warning: timezone = \"local\""
        )),
        "{out}"
    );
}

#[test]
fn csv_cells_cannot_start_formulas_and_terminals_get_no_raw_escapes() {
    let repo = Repo::init();
    let id = repo.declare(&[
        "=HYPERLINK(\"http://evil\",\"x\")",
        "-s",
        "SEV3",
        "--commander",
        "@bob",
    ]);
    repo.ok(&[
        "update",
        &id,
        "-m",
        "+cmd|' /C calc'!A0",
        "--note=-2+3",
        "-m",
        "\tx",
    ]);
    repo.ok(&["action", "add", &id, "@SUM(A1:A9)", "--owner=-carol"]);
    let list = repo.ok(&["list", "--format", "csv"]);
    assert!(
        list.contains(",\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\","),
        "{list}"
    );
    assert!(list.trim_end().ends_with(",'@bob"), "{list}");
    let timeline = repo.ok(&["timeline", &id, "--format", "csv"]);
    for cell in ["'+cmd|' /C calc'!A0", "'-2+3", "'\tx"] {
        assert!(
            timeline.contains(&format!(",{cell}\n")),
            "{cell:?} in {timeline}"
        );
    }
    let actions = repo.ok(&["actions", "--format", "csv"]);
    assert!(
        actions.contains(",'-carol,") && actions.contains(",'@SUM(A1:A9)\n"),
        "{actions}"
    );
    // JSON keeps the text as it is.
    assert_eq!(repo.show(&id)["title"], "=HYPERLINK(\"http://evil\",\"x\")");

    // Escape sequences in stored text reach a terminal escaped, in every format.
    repo.declare(&["Screen \u{1b}[2J\u{1b}]0;owned\u{7} cleared", "-s", "SEV4"]);
    for format in ["csv", "markdown", "table"] {
        let mut command = repo.command();
        command
            .args(["-P", "--format", format, "list"])
            .env("TERM", "xterm");
        let shown = on_a_pty(command);
        // (Markdown escapes the backslashes and brackets once more.)
        let shown = shown
            .replace("\\\\", "\\")
            .replace("\\[", "[")
            .replace("\\]", "]");
        assert!(
            shown.contains("Screen \\u{1b}[2J\\u{1b}]0;owned\\u{7} cleared"),
            "{format}: {shown:?}"
        );
        assert!(
            !shown.contains("\u{1b}[2J") && !shown.contains('\u{7}'),
            "{format}: {shown:?}"
        );
    }
    // In a file, CSV is the data.
    let file = repo.ok(&["list", "--format", "csv"]);
    assert!(file.contains("Screen \u{1b}[2J"), "{file:?}");
    // Messages too.
    let err = repo.fails(1, &["show", "\u{1b}[2Jnosuch"]);
    assert!(
        err.contains("\\u{1b}[2Jnosuch") && !err.contains('\u{1b}'),
        "{err:?}"
    );
}

#[test]
fn action_numbers_stay_as_printed_when_added_in_one_second() {
    let repo = Repo::init();
    let id = repo.declare(&["DB down", "-s", "SEV2"]);
    // INCIDENT_NOW is fixed: every item is added in the same second.
    let mut printed = Vec::new();
    for n in 1..=8 {
        let out: serde_json::Value = serde_json::from_str(&repo.ok(&[
            "--format",
            "json",
            "action",
            "add",
            &id,
            &format!("item {n}"),
        ]))
        .unwrap();
        assert_eq!(out["number"], n, "{out}");
        printed.push((n, out["id"].as_str().unwrap().to_string()));
    }
    let listed: serde_json::Value =
        serde_json::from_str(&repo.ok(&["actions", "--format", "json"])).unwrap();
    for (n, item) in &printed {
        let found = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == item.as_str())
            .unwrap();
        assert_eq!(found["number"], *n, "{listed}");
        assert_eq!(found["text"], format!("item {n}"));
    }
    // done ID/N closes the item that was printed with N.
    for n in [3, 7, 1] {
        let out = repo.ok(&["action", "done", &format!("{id}/{n}")]);
        assert!(out.contains(&format!("(#{n}) done: item {n} ")), "{out}");
    }
    // done then reopen, reopen then done, in one second: the last one wins.
    let out = repo.ok(&["action", "reopen", &format!("{id}/3")]);
    assert!(
        out.contains("reopened: item 3") && out.contains(", open)"),
        "{out}"
    );
    repo.ok(&["action", "done", &format!("{id}/3")]);
    repo.ok(&["action", "reopen", &format!("{id}/3")]);
    repo.ok(&["action", "drop", &format!("{id}/3"), "--reason", "moot"]);
    let listed: serde_json::Value =
        serde_json::from_str(&repo.ok(&["actions", "--all", "--format", "json"])).unwrap();
    let status = |n: u64| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["number"] == n)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status(3), "dropped");
    assert_eq!(status(7), "done");
    assert_eq!(status(2), "open");
}

#[test]
fn an_event_file_named_in_invalid_utf8_is_never_skipped_silently() {
    let (repo, id) = repo_with_incident();
    let folder = repo.show(&id)["folder"].as_str().unwrap().to_string();
    let events = repo.path.join(&folder).join("events");
    std::fs::create_dir_all(&events).unwrap();
    let name = std::ffi::OsStr::from_bytes(b"20261124T093000Z-aaaaaa-\xffstatus.toml");
    std::fs::write(
        events.join(name),
        "version = 1\nkind = \"status\"\nat = 2026-11-24T09:30:00Z\nrecorded_at = 2026-11-24T09:30:00Z\nauthor = \"Bob\"\nstatus = \"resolved\"\nfrom = \"triage\"\n",
    )
    .unwrap();
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "hostile name"]);
    let err = repo.fails(1, &["show", &id]);
    assert!(
        err.contains(&format!(
            "{folder}/events/20261124T093000Z-aaaaaa-\\xffstatus.toml: file name: not valid UTF-8"
        )),
        "{err}"
    );
}
