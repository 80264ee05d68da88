//! `incident check`: the whole repository at HEAD, one line per problem.

mod support;

use std::path::Path;

use support::Repo;

const NOTE: &str = "version = 1\nkind = \"note\"\nat = 2026-11-24T09:30:00Z\nrecorded_at = 2026-11-24T09:30:00Z\nauthor = \"Bob\"\ntext = \"hello\"\n";

/// Write a file and commit it with plain git.
pub fn commit_file(repo: &Repo, path: &str, content: &[u8]) {
    let full = repo.path.join(path);
    std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
    std::fs::write(&full, content).expect("write");
    repo.git(&["add", "-f", "--", path]);
    repo.git(&["commit", "-q", "-m", &format!("hand edit {path}")]);
}

fn folder(repo: &Repo, id: &str) -> String {
    repo.show(id)["folder"]
        .as_str()
        .expect("folder")
        .to_string()
}

fn check(repo: &Repo, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    let out = repo.run(&all);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_clean_repository_passes() {
    let repo = Repo::init();
    let id = repo.declare(&["DB down", "--severity", "SEV2", "--no-input"]);
    repo.ok(&["update", &id, "-m", "looking", "--severity", "SEV1"]);
    repo.ok(&["resolve", &id, "--resolution", "restarted"]);
    let (code, stdout, stderr) = check(&repo, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(stdout, "");
    assert!(
        // update: note and severity; resolve: status and postmortem_due.
        stderr.contains("checked 1 incident and 4 events"),
        "{stderr}"
    );
    assert!(stderr.contains("0 errors, 0 warnings"), "{stderr}");
}

#[test]
fn every_problem_is_one_line_naming_file_and_line() {
    let repo = Repo::init();
    let a = repo.declare(&["DB down", "--severity", "SEV2", "--no-input"]);
    let b = repo.declare(&["Cache cold", "--severity", "SEV3", "--no-input"]);
    let fa = folder(&repo, &a);
    let fb = folder(&repo, &b);
    let events = format!("{fa}/events");
    // Unknown severity in an event, on line 7.
    commit_file(
        &repo,
        &format!("{events}/20261124T093000Z-aaaaaa-severity.toml"),
        b"version = 1\nkind = \"severity\"\nat = 2026-11-24T09:30:00Z\nrecorded_at = 2026-11-24T09:30:00Z\nauthor = \"Bob\"\nseq = 3\nseverity = \"SEV9\"\n",
    );
    // A TOML syntax error on line 2.
    commit_file(
        &repo,
        &format!("{events}/20261124T093100Z-bbbbbb-note.toml"),
        b"version = 1\nkind = = \"note\"\n",
    );
    // A newer format version.
    commit_file(
        &repo,
        &format!("{events}/20261124T093200Z-cccccc-note.toml"),
        NOTE.replace("version = 1", "version = 7").as_bytes(),
    );
    // duplicate_of naming no incident.
    commit_file(
        &repo,
        &format!("{fb}/events/20261124T093300Z-dddddd-status.toml"),
        b"version = 1\nkind = \"status\"\nat = 2026-11-24T10:00:00Z\nrecorded_at = 2026-11-24T10:00:00Z\nauthor = \"Bob\"\nstatus = \"duplicate\"\nduplicate_of = \"zzzzzz\"\n",
    );
    // Milestones out of order: mitigated before started.
    for (name, milestone, time) in [
        ("eeeeee", "started", "09:50"),
        ("ffffff", "mitigated", "09:00"),
    ] {
        let text = format!(
            "version = 1\nkind = \"milestone\"\nat = 2026-11-24T10:00:00Z\nrecorded_at = 2026-11-24T10:00:00Z\nauthor = \"Bob\"\nmilestone = \"{milestone}\"\ntime = 2026-11-24T{time}:00Z\n"
        );
        commit_file(
            &repo,
            &format!("{fb}/events/20261124T093400Z-{name}-milestone.toml"),
            text.as_bytes(),
        );
    }
    // A cause naming a commit that is not here: a warning.
    commit_file(
        &repo,
        &format!("{fb}/events/20261124T093600Z-gggggg-cause.toml"),
        b"version = 1\nkind = \"cause\"\nat = 2026-11-24T10:00:00Z\nrecorded_at = 2026-11-24T10:00:00Z\nauthor = \"Bob\"\ncaused_by = \"deadbeef12\"\n",
    );
    // An event dropped into the incident folder instead of events/.
    commit_file(
        &repo,
        &format!("{fa}/20261124T093500Z-ffffff-note.toml"),
        NOTE.as_bytes(),
    );
    // A stray file: a warning only.
    commit_file(&repo, "incidents/notes.txt", b"remember the milk\n");
    let before = repo.state();
    let (code, stdout, stderr) = check(&repo, &[]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
    assert!(
        has(&format!(
            "{events}/20261124T093000Z-aaaaaa-severity.toml:7: error: unknown severity 'SEV9'"
        )),
        "{stdout}"
    );
    assert!(
        has(&format!(
            "{events}/20261124T093100Z-bbbbbb-note.toml:2: error:"
        )),
        "{stdout}"
    );
    assert!(
        has(&format!(
            "{events}/20261124T093200Z-cccccc-note.toml:1: error: version: format version 7"
        )),
        "{stdout}"
    );
    assert!(
        has(&format!(
            "{fb}/events/20261124T093300Z-dddddd-status.toml:7: error: duplicate_of: no incident has the id 'zzzzzz'"
        )),
        "{stdout}"
    );
    assert!(
        has(&format!("{fb}/incident.toml: error: milestone 'mitigated'")),
        "{stdout}"
    );
    assert!(
        has(&format!(
            "{fa}/20261124T093500Z-ffffff-note.toml: error: event file outside an incident's events/ folder"
        )),
        "{stdout}"
    );
    assert!(
        has("incidents/notes.txt: warning: unexpected file"),
        "{stdout}"
    );
    assert!(
        has("-gggggg-cause.toml:6: warning: caused_by: no commit 'deadbeef12'"),
        "{stdout}"
    );
    assert!(stderr.contains("error: incident check found"), "{stderr}");
    // Read-only.
    assert_eq!(repo.state(), before);

    let (code, stdout, _) = check(&repo, &["--format", "github"]);
    assert_eq!(code, Some(1));
    assert!(
        stdout.contains(&format!("::error file={events}/20261124T093000Z-aaaaaa-severity.toml,line=7,title=incident check::unknown severity 'SEV9'")),
        "{stdout}"
    );
    assert!(
        stdout.contains("::warning file=incidents/notes.txt,title=incident check::"),
        "{stdout}"
    );

    let out = repo.run(&["--format", "json", "check"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(report["problems"].as_array().expect("problems").len() >= 7);
}

#[test]
fn ids_must_be_unique_and_match_their_folder() {
    let repo = Repo::init();
    let a = repo.declare(&["DB down", "--severity", "SEV2", "--no-input"]);
    let fa = folder(&repo, &a);
    let declaration = std::fs::read(repo.path.join(&fa).join("incident.toml")).expect("read");
    // The same id in a second folder (another month), and a folder whose
    // incident.toml names another id.
    commit_file(
        &repo,
        &format!("incidents/2026/10/{a}-copy/incident.toml"),
        &declaration,
    );
    commit_file(
        &repo,
        "incidents/2026/11/qqqqqq-other/incident.toml",
        &declaration,
    );
    let (code, stdout, _) = check(&repo, &[]);
    assert_eq!(code, Some(1));
    assert!(
        stdout.contains(&format!(
            "{fa}: error: incident id is not unique: also used by incidents/2026/10/{a}-copy"
        )),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("incidents/2026/11/qqqqqq-other/incident.toml:3: error: id '{a}' does not match the folder's id 'qqqqqq'")), "{stdout}");
    assert!(stdout.contains("is under 2026/10"), "{stdout}");
}

#[test]
fn a_broken_config_is_reported_and_the_rest_still_checked() {
    let repo = Repo::init();
    repo.declare(&["DB down", "--severity", "SEV2", "--no-input"]);
    let config = std::fs::read_to_string(repo.path.join("incidents/config.toml")).expect("config");
    commit_file(
        &repo,
        "incidents/config.toml",
        config
            .replace("initial = \"triage\"", "initial = \"nope\"")
            .as_bytes(),
    );
    let (code, stdout, stderr) = check(&repo, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.contains("incidents/config.toml:"), "{stdout}");
    assert!(stdout.contains("lifecycle.initial"), "{stdout}");
    assert!(stderr.contains("checked 1 incident"), "{stderr}");
}

#[test]
fn outside_an_incident_repository_it_says_so() {
    let repo = Repo::empty();
    repo.git(&["init", "-q"]);
    let stderr = repo.fails(1, &["check"]);
    assert!(stderr.contains("not an incident repository"), "{stderr}");
    assert!(Path::new(&repo.path).join(".git").exists());
}

#[test]
fn postmortems_action_items_and_templates_are_known_files() {
    let repo = Repo::init();
    let id = repo.declare(&["DB down", "--severity", "SEV2", "--no-input"]);
    repo.ok(&["resolve", &id, "--resolution", "restarted"]);
    repo.ok(&["action", "add", &id, "add a disk alert", "--owner", "bob"]);
    let fa = folder(&repo, &id);
    commit_file(
        &repo,
        "incidents/templates/postmortem-short.md",
        b"# Summary\n",
    );
    let (code, stdout, stderr) = check(&repo, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stderr.contains("0 errors, 0 warnings"), "{stderr}");
    let actions: Vec<String> = std::fs::read_dir(repo.path.join(&fa).join("actions"))
        .expect("actions")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let item = actions
        .iter()
        .find(|n| n.ends_with(".toml"))
        .expect("an item");
    commit_file(&repo, &format!("{fa}/actions/{item}"), b"owner = bob\n");
    let (code, stdout, _) = check(&repo, &[]);
    assert_eq!(code, Some(1));
    assert!(
        stdout.contains(&format!("{fa}/actions/{item}:1: error:")),
        "{stdout}"
    );
}

#[test]
fn a_file_larger_than_incident_reads_is_one_error_naming_it() {
    let repo = Repo::init();
    let id = repo.declare(&["DB down", "--severity", "SEV2", "--no-input"]);
    let event = format!(
        "{}/events/20261124T093000Z-aaaaaa-note.toml",
        folder(&repo, &id)
    );
    // A valid note padded with a comment past the 1 MiB limit.
    let mut big = NOTE.as_bytes().to_vec();
    big.extend_from_slice(b"# ");
    big.resize(1024 * 1024 + 10, b'x');
    big.push(b'\n');
    commit_file(&repo, &event, &big);
    let (code, stdout, stderr) = check(&repo, &[]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(
        lines[0].starts_with(&format!("{event}: error:")),
        "{stdout}"
    );
    assert!(lines[0].contains("1048587 bytes"), "{stdout}");
}
