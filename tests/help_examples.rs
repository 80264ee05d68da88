//! Every example in every `--help` runs verbatim, each on a fresh copy of
//! one fixture: a repository with the incidents the examples name
//! (k3f9x2 "Checkout latency above 2s", m7q2ab), remotes `origin` and
//! `upstream`, a tag `v1.4`, and a notes.txt. Some examples need the
//! incident in a later state first (a resolved incident to reopen); those
//! steps are listed in `setup_for`. No example line is longer than 78
//! characters, so none wraps on an 80-column terminal.

mod doc;
mod support;

use std::path::Path;
use std::process::Command;

use doc::join_continuations;

fn incident_help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_incident"))
        .args(args)
        .arg("--help")
        .env("COLUMNS", "200")
        .output()
        .expect("run incident --help");
    assert!(out.status.success(), "incident {args:?} --help");
    String::from_utf8(out.stdout).expect("utf-8 help")
}

/// Subcommand names listed under "Commands:".
fn subcommands(help: &str) -> Vec<String> {
    let Some(start) = help.find("\nCommands:\n") else {
        return Vec::new();
    };
    help[start + 11..]
        .lines()
        .take_while(|l| l.starts_with("  "))
        // Names sit at two spaces; wrapped descriptions further in.
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// The example lines under "Examples:" (lines ending in `\` joined).
fn examples(help: &str) -> (Vec<String>, Vec<String>) {
    let Some(start) = help.find("Examples:\n") else {
        return (Vec::new(), Vec::new());
    };
    let lines: Vec<&str> = help[start + 10..]
        .lines()
        .take_while(|l| l.starts_with("  "))
        .collect();
    let long = lines
        .iter()
        .filter(|l| l.chars().count() > 78)
        .map(|l| l.to_string())
        .collect();
    let mut commands: Vec<&str> = Vec::new();
    let mut joined = Vec::new();
    for line in lines {
        let text = line.trim_start();
        if text.starts_with("incident ") || !commands.is_empty() {
            commands.push(text);
            if !text.trim_end().ends_with('\\') {
                joined.extend(join_continuations(&commands));
                commands.clear();
            }
        }
    }
    (joined, long)
}

const SHARED_HOOKS: &str = "printf '[[hook]]\\nname = \"slack\"\\non = [\"*\"]\\nrun = [\"true\"]\\n' > incidents/hooks.toml && git add incidents/hooks.toml && git commit -qm 'Shared hooks'";
const API_COMPONENT: &str = "printf '\\n[[component]]\\nid = \"api\"\\nname = \"API\"\\nservices = [\"checkout\"]\\n' >> incidents/config.toml && git commit -qam 'API component'";
const FIRST_POST: &str = "incident comms k3f9x2 --audience public --status investigating --public-title 'Checkout errors' -m 'We are looking into errors at checkout.'";
const MAINTENANCE: &str = "incident maintenance schedule 'Database upgrade' --component api --from '2026-11-25 02:00' --until '2026-11-25 03:00'";

/// Commands that put the fixture into the state an example needs.
fn setup_for(example: &str) -> Vec<&'static str> {
    let resolved = "incident resolve k3f9x2 -r 'restarted the pool'";
    let table: &[(&str, &[&str])] = &[
        ("incident reopen", &[resolved]),
        (
            "incident close k3f9\u{0}",
            &["incident update k3f9x2 --severity SEV4", resolved],
        ),
        ("incident close k3f9 --force", &[resolved]),
        ("incident postmortem k3f9 --refresh", &[resolved]),
        ("incident postmortem review", &[resolved]),
        (
            "incident action ",
            &[
                "incident action add k3f9x2 'Alert on pool saturation' --owner bob",
                "incident action add k3f9x2 'Load test the pool' --owner carol",
            ],
        ),
        ("incident -C ~/src/ops", &["git init -q ~/src/ops"]),
        ("incident completions zsh", &["mkdir -p ~/.zfunc"]),
        (
            "incident completions fish",
            &["mkdir -p ~/.config/fish/completions"],
        ),
        (
            "incident completions bash",
            &["mkdir -p ~/.local/share/bash-completion/completions"],
        ),
        ("incident man", &["mkdir -p ~/.local/share/man/man1"]),
        // Hooks the team shares, in the repository (trusted per clone).
        ("incident hooks", &[SHARED_HOOKS]),
        ("incident hooks test", &["incident hooks trust"]),
        // Histories to import: real public ones, and an export's CSV.
        (
            "incident import statuspage incidents.json",
            &[concat!(
                "cp ",
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/github-status/00lscqwb6ht5.json incidents.json"
            )],
        ),
        (
            "incident import cstate site/content/issues/",
            &[concat!(
                "mkdir -p site/content/issues && cp ",
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/jenkins-status/*.md site/content/issues/"
            )],
        ),
        (
            "incident import csv pagerduty.csv",
            &[concat!(
                "cp ",
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/import/pagerduty.csv ",
                env!("CARGO_MANIFEST_DIR"),
                "/examples/import/pagerduty.toml ."
            )],
        ),
        (
            "incident -C ~/copy import",
            &[
                "incident export --output ~/all.jsonl",
                "incident init ~/copy",
            ],
        ),
        // A status-page component, and the first public update.
        ("incident comms k3f9", &[API_COMPONENT]),
        (
            "incident comms k3f9 --audience public --status identified",
            &[FIRST_POST],
        ),
        (
            "incident comms k3f9 --audience public --status resolved",
            &[FIRST_POST],
        ),
        ("incident comms k3f9 --render", &[FIRST_POST]),
        ("incident maintenance", &[API_COMPONENT]),
        ("incident maintenance start", &[MAINTENANCE]),
        (
            "incident maintenance complete",
            &[MAINTENANCE, "incident maintenance start database-upgrade"],
        ),
        ("incident maintenance cancel", &[MAINTENANCE]),
    ];
    let key = format!("{example}\u{0}");
    table
        .iter()
        .filter(|(prefix, _)| key.starts_with(prefix))
        .flat_map(|(_, steps)| steps.iter().copied())
        .collect()
}

/// The fixture every example starts from, under `home`.
fn fixture(home: &Path) {
    let script = [
        "git init -q --bare ops.git",
        "mkdir ops && cd ops",
        "incident init >/dev/null",
        "git remote add origin ../ops.git && git remote add upstream ../ops.git",
        "incident declare 'Checkout latency above 2s' -s SEV2 --service checkout --commander alice --started-at 02:40 >/dev/null 2>&1",
        "incident declare 'Payments timing out' -s SEV3 --service payments >/dev/null 2>&1",
        "git tag v1.4",
        "git push -q -u origin main",
        "printf 'the pool ran dry at 02:40\\n' > notes.txt",
    ]
    .join(" && ");
    let out = doc::shell(home, home)
        .arg("-c")
        .arg(script)
        .output()
        .expect("fixture");
    assert!(
        out.status.success(),
        "fixture: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_help_example_runs_verbatim() {
    let mut paths: Vec<Vec<String>> = vec![Vec::new()];
    let mut index = 0;
    while index < paths.len() {
        let path = paths[index].clone();
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        for sub in subcommands(&incident_help(&args)) {
            let mut child = path.clone();
            child.push(sub);
            paths.push(child);
        }
        index += 1;
    }
    let tmp = tempfile::TempDir::new().expect("temp dir");
    let template = tmp.path().join("template");
    std::fs::create_dir_all(&template).expect("mkdir");
    fixture(&template);

    let mut failures = Vec::new();
    let mut count = 0;
    for path in &paths {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let (found, long) = examples(&incident_help(&args));
        for line in long {
            failures.push(format!(
                "incident {} --help: wraps at 80 columns: {line}",
                path.join(" ")
            ));
        }
        for example in found {
            count += 1;
            let home = tmp.path().join(format!("run{count}"));
            let copied = Command::new("cp")
                .args(["-a"])
                .arg(&template)
                .arg(&home)
                .status()
                .expect("cp");
            assert!(copied.success());
            let mut script = setup_for(&example)
                .iter()
                .map(|s| format!("{s} >/dev/null 2>&1 || exit 99\n"))
                .collect::<String>();
            script.push_str(&example);
            let out = doc::shell(&home, &home.join("ops"))
                .arg("-c")
                .arg(format!("set -o pipefail\n{script}"))
                .output()
                .expect("bash");
            if !out.status.success() {
                failures.push(format!(
                    "incident {} --help: `{example}` exited {:?}:\n{}{}",
                    path.join(" "),
                    out.status.code(),
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
    }
    println!("{count} examples ran");
    assert!(count > 40, "found only {count} examples");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
