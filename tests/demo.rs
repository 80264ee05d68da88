//! The demo repository (`cargo run --example demo -- DIR`) shows the tool
//! as a team uses it: its published postmortems are written up and pass
//! `incident postmortem check`, and the texts adapted from PostHog's
//! public post-mortems carry their licence.

mod doc;
mod support;

use std::path::Path;

/// Run `script` in bash in `dir`, as the README's reader would; its
/// output, and whether it succeeded.
fn run(home: &Path, dir: &Path, script: &str) -> (bool, String) {
    let out = doc::shell(home, dir)
        .arg("-c")
        .arg(script)
        .output()
        .expect("bash");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn the_demos_published_postmortems_are_written_up_and_pass_check() {
    let tmp = tempfile::TempDir::new().expect("temp dir");
    let home = tmp.path();
    let demo = home.join("incident-demo");
    let (built, out) = run(
        home,
        home,
        &format!(
            "env -u INCIDENT_IDS '{}' '{}'",
            doc::demo_binary().display(),
            demo.display()
        ),
    );
    assert!(built, "{out}");

    let (passed, checked) = run(home, &demo, "incident postmortem check --all");
    assert!(passed, "{checked}");
    let count = checked
        .lines()
        .find_map(|l| l.strip_prefix("checked "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or_else(|| panic!("no count in {checked}"));
    assert!(count >= 5, "{checked}");
    assert!(checked.contains(": 0 errors, 0 warnings"), "{checked}");

    // Every published one says where its text comes from, and the
    // repository holds that source's licence.
    let (_, published) = run(
        home,
        &demo,
        "git ls-files 'incidents/*/postmortem.md' | xargs grep -L \"Adapted for this demo from PostHog's public post-mortem\"",
    );
    assert_eq!(published, "", "postmortems without their source");
    let (_, listed) = run(home, &demo, "git ls-files 'incidents/*/postmortem.md'");
    assert_eq!(listed.lines().count(), count, "{listed}");
    let notice =
        std::fs::read_to_string(demo.join("docs/postmortem-sources.md")).expect("the notice");
    assert!(
        notice.contains("Copyright (c) 2024 PostHog")
            && notice.contains("Permission is hereby granted, free of charge"),
        "{notice}"
    );
    let (_, clean) = run(home, &demo, "git status --porcelain");
    assert_eq!(clean, "", "the demo leaves a clean working tree");
}
