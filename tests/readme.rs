//! README.md's Install and Quick start blocks, run verbatim in bash on a
//! fresh HOME: an example that stops working fails CI. The only lines not
//! run are the system package installs (`sudo ...`); `cargo` has nothing
//! left to build here, and `cargo run --example demo` runs the built demo.
//! A comment line right below a command (`# Declared SEV2 ...`) is output
//! it must print (`…` matches anything).

mod doc;
mod support;

use doc::{Ran, cargo_function, join_continuations, run_script, shows};

/// The ```sh blocks of a `## ` section, as (commands, expected outputs per command).
fn blocks(readme: &str, section: &str) -> Vec<Vec<(String, Vec<String>)>> {
    let start = readme
        .find(&format!("\n## {section}\n"))
        .unwrap_or_else(|| panic!("README.md has no section {section}"));
    let body = &readme[start + section.len() + 5..];
    let body = &body[..body.find("\n## ").unwrap_or(body.len())];
    let mut found = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find("```sh\n") {
        let inner = &rest[open + 6..];
        let close = inner.find("```").expect("closed block");
        let lines: Vec<&str> = inner[..close].lines().collect();
        let mut block: Vec<(String, Vec<String>)> = Vec::new();
        let mut pending: Vec<&str> = Vec::new();
        for line in lines {
            if let Some(expected) = line.strip_prefix("# ") {
                if let Some(last) = block.last_mut() {
                    last.1.push(expected.to_string());
                }
                continue;
            }
            pending.push(line);
            if !line.trim_end().ends_with('\\') {
                for command in join_continuations(&pending) {
                    block.push((command, Vec::new()));
                }
                pending.clear();
            }
        }
        found.push(block);
        rest = &inner[close + 3..];
    }
    found
}

fn run_blocks(home: &std::path::Path, section: &str) -> Vec<Ran> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let mut all = Vec::new();
    for block in blocks(&readme, section) {
        let commands: Vec<String> = block
            .iter()
            .map(|(c, _)| c.clone())
            .filter(|c| !c.starts_with("sudo "))
            .collect();
        let ran = run_script(home, home, &cargo_function(), &commands);
        for ((command, expected), result) in block
            .iter()
            .filter(|(c, _)| !c.starts_with("sudo "))
            .zip(&ran)
        {
            assert_eq!(
                result.status, 0,
                "README {section}: `{command}` failed:\n{}",
                result.output
            );
            for line in expected {
                assert!(
                    shows(&result.output, line),
                    "README {section}: `{command}` should print `{line}`, printed:\n{}",
                    result.output
                );
            }
        }
        assert_eq!(
            ran.len(),
            commands.len(),
            "README {section}: a command did not run: {:?}",
            ran.last().map(|r| (&r.command, &r.output))
        );
        all.extend(ran);
    }
    all
}

#[test]
fn install_and_quick_start_run_verbatim() {
    let tmp = tempfile::TempDir::new().expect("temp dir");
    let home = tmp.path();
    let install = run_blocks(home, "Install");
    assert!(
        home.join(".local/share/bash-completion/completions/incident")
            .is_file()
    );
    assert!(home.join(".local/share/man/man1/incident.1").is_file());
    assert!(!install.is_empty());

    let quick = run_blocks(home, "Quick start");
    let output = |prefix: &str| {
        quick
            .iter()
            .find(|r| r.command.starts_with(prefix))
            .map(|r| r.output.clone())
            .unwrap_or_else(|| panic!("no command {prefix}"))
    };
    // The demo is in its own folder, the responder's repository in another.
    assert!(output("incident list --all").contains("SEV1"));
    assert!(output("incident show image-uploads").contains("Image uploads failing"));
    let show = output("incident show k3f9");
    assert!(show.contains("resolved"), "{show}");
    // Catch-up: the identification typed without a time is assumed, and
    // the note says how to record its real time.
    let mitigated = output("incident update k3f9 --status mitigated");
    assert!(
        mitigated.contains("--milestone") && mitigated.contains("identified=TIME"),
        "{mitigated}"
    );
    let ops = home.join("ops-incidents");
    let git = |args: &[&str]| {
        let out = doc::shell(home, &ops)
            .arg("-c")
            .arg(format!("git {}", args.join(" ")))
            .output()
            .expect("git");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // The push and the review both reached the remote.
    let remote = git(&["ls-remote", "origin"]);
    assert!(remote.contains("refs/heads/main"), "{remote}");
    assert!(remote.contains("refs/heads/postmortem/k3f9x2"), "{remote}");
    let demo = doc::shell(home, &home.join("incident-demo"))
        .args(["-c", "incident --format json show k3f9"])
        .output()
        .expect("incident");
    assert!(
        !demo.status.success(),
        "the quick start's incident is not in the demo"
    );
    println!(
        "{}",
        quick
            .iter()
            .map(|r| format!("$ {}\n{}", r.command, r.output))
            .collect::<String>()
    );
}
