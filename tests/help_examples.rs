//! Every example in every `--help` runs verbatim, each on a fresh copy of
//! one fixture (`doc::fixture`: a repository with the incidents the
//! examples name, k3f9x2 "Checkout latency above 2s" and m7q2ab, remotes
//! `origin` and `upstream`, a tag `v1.4`, and a notes.txt). Some examples
//! need the incident in a later state first (a resolved incident to
//! reopen); those steps are listed in `doc::setup_for`, which README.md's
//! examples share. No example line is longer than 78 characters, so none
//! wraps on an 80-column terminal.

mod doc;
mod support;

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
    doc::fixture(&template);

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
            doc::copy_fixture(&template, &home);
            let out = doc::run_example(&home, &example);
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
