//! Hostile repositories: each bad input gives a clear error or warning,
//! never a panic, never a write outside the repository.

mod support;

use std::path::Path;

use support::Repo;

const NOTE: &str = "version = 1\nkind = \"note\"\nat = 2026-11-24T09:30:00Z\nrecorded_at = 2026-11-24T09:30:00Z\nauthor = \"Bob\"\ntext = \"hello\"\n";

fn commit_file(repo: &Repo, path: &str, content: &[u8]) {
    let full = repo.path.join(path);
    std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
    std::fs::write(&full, content).expect("write");
    repo.git(&["add", "-f", "--", path]);
    repo.git(&["commit", "-q", "-m", &format!("hostile {path}")]);
}

fn setup() -> (Repo, String, String) {
    let repo = Repo::init();
    let id = repo.declare(&["DB down", "--severity", "SEV2", "--no-input"]);
    let folder = repo.show(&id)["folder"]
        .as_str()
        .expect("folder")
        .to_string();
    (repo, id, folder)
}

/// Exit code, stdout and stderr; never a panic (exit 101) or a signal.
fn run(repo: &Repo, args: &[&str]) -> (i32, String, String) {
    let out = repo.run(args);
    let code = out.status.code().expect("exited normally, not by a signal");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_ne!(code, 101, "panicked: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

/// `incident report` reads every incident at HEAD: a bad one is skipped
/// with a warning that names it and says why, and the report still prints.
fn report_skips(repo: &Repo, folder: &str, why: &str) {
    let (code, stdout, stderr) = run(repo, &["--format", "json", "report"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("skipping {folder}: ")) && stderr.contains(why),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert!(report["metrics"].is_object(), "{stdout}");
}

#[test]
fn invalid_utf8_in_config_and_event() {
    let (repo, id, folder) = setup();
    let event = format!("{folder}/events/20261124T093000Z-aaaaaa-note.toml");
    let mut bytes = NOTE.as_bytes().to_vec();
    bytes.extend_from_slice(b"# \xff\xfe broken\n");
    commit_file(&repo, &event, &bytes);
    let (code, _, stderr) = run(&repo, &["show", &id]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!("{event}:7:")) && stderr.contains("not valid UTF-8"),
        "{stderr}"
    );
    let (code, stdout, _) = run(&repo, &["check"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains(&format!("{event}:7: error: the file is not valid UTF-8")),
        "{stdout}"
    );
    report_skips(&repo, &folder, "not valid UTF-8");

    let mut config = std::fs::read(repo.path.join("incidents/config.toml")).expect("config");
    config.extend_from_slice(b"\n# \xc3\x28\n");
    commit_file(&repo, "incidents/config.toml", &config);
    let (code, _, stderr) = run(&repo, &["list"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("incidents/config.toml:") && stderr.contains("not valid UTF-8"),
        "{stderr}"
    );
    let (code, stdout, _) = run(&repo, &["check"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("incidents/config.toml:") && stdout.contains("not valid UTF-8"),
        "{stdout}"
    );
    let (code, _, stderr) = run(&repo, &["report"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("incidents/config.toml:") && stderr.contains("not valid UTF-8"),
        "{stderr}"
    );
    let before = repo.state();
    let (code, _, _) = run(&repo, &["update", &id, "-m", "x"]);
    assert_eq!(code, 1);
    assert_eq!(repo.state(), before);
}

#[test]
fn a_fifty_megabyte_file() {
    let (repo, id, folder) = setup();
    let event = format!("{folder}/events/20261124T093000Z-aaaaaa-note.toml");
    let mut big = NOTE.replace("text = \"hello\"\n", "text = \"").into_bytes();
    big.resize(50 * 1024 * 1024, b'x');
    big.extend_from_slice(b"\"\n");
    commit_file(&repo, &event, &big);
    let (code, _, stderr) = run(&repo, &["show", &id]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&event) && stderr.contains("more than the 1048576 bytes"),
        "{stderr}"
    );
    let (code, stdout, _) = run(&repo, &["check"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains(&format!("{event}: error:")) && stdout.contains("bytes"),
        "{stdout}"
    );
    report_skips(&repo, &folder, "more than the 1048576 bytes");
    // A 50 MB config in the working tree is refused before it is read.
    let config = repo.path.join("incidents/config.toml");
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(&config)
        .expect("open");
    file.set_len(50 * 1024 * 1024).expect("grow");
    let (code, _, stderr) = run(&repo, &["list"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("incidents/config.toml: file is 52428800 bytes"),
        "{stderr}"
    );
}

#[test]
fn deeply_nested_toml() {
    let (repo, id, folder) = setup();
    let event = format!("{folder}/events/20261124T093000Z-aaaaaa-note.toml");
    let deep = format!(
        "{NOTE}extra = {}1{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    commit_file(&repo, &event, deep.as_bytes());
    let (code, _, stderr) = run(&repo, &["show", &id]);
    assert_eq!(code, 1);
    assert!(stderr.contains("nested more than 64 levels"), "{stderr}");
    let (code, stdout, _) = run(&repo, &["check"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains(&format!(
            "{event}:7: error: arrays or tables nested more than 64 levels"
        )),
        "{stdout}"
    );
    report_skips(&repo, &folder, "nested more than 64 levels");
    // Brackets inside strings are text, not nesting.
    let text = format!(
        "{}text = \"{}\"\n",
        NOTE.replace("text = \"hello\"\n", ""),
        "[".repeat(1000)
    );
    let event2 = format!("{folder}/events/20261124T093100Z-bbbbbb-note.toml");
    std::fs::remove_file(repo.path.join(&event)).expect("rm");
    repo.git(&["rm", "-q", "--cached", "--", &event]);
    commit_file(&repo, &event2, text.as_bytes());
    let (code, stdout, stderr) = run(&repo, &["check"]);
    assert_eq!(code, 0, "{stdout}{stderr}");

    let config = std::fs::read_to_string(repo.path.join("incidents/config.toml")).expect("config");
    let deep = format!(
        "{config}\nx = {}{}\n",
        "{a=".repeat(50_000),
        "}".repeat(50_000)
    );
    std::fs::write(repo.path.join("incidents/config.toml"), deep).expect("write");
    let (code, _, stderr) = run(&repo, &["list"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("incidents/config.toml:") && stderr.contains("nested"),
        "{stderr}"
    );
}

#[test]
fn an_event_file_in_the_wrong_folder() {
    let (repo, id, folder) = setup();
    commit_file(
        &repo,
        "incidents/2026/11/20261124T093000Z-aaaaaa-note.toml",
        NOTE.as_bytes(),
    );
    commit_file(
        &repo,
        &format!("{folder}/events/sub/20261124T093100Z-bbbbbb-note.toml"),
        NOTE.as_bytes(),
    );
    let (code, stdout, _) = run(&repo, &["check"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains(
            "incidents/2026/11/20261124T093000Z-aaaaaa-note.toml: error: event file outside"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{folder}/events/sub: warning: unexpected folder")),
        "{stdout}"
    );
    // The incident itself still reads and updates.
    repo.ok(&["update", &id, "-m", "still fine"]);
    assert_eq!(repo.show(&id)["status"], "triage");
}

#[test]
fn a_symlink_in_the_incidents_folder_pointing_outside() {
    let repo = Repo::init();
    let outside = repo.sibling("outside");
    std::fs::create_dir_all(outside.join("11")).expect("mkdir");
    std::fs::write(outside.join("secret.toml"), NOTE).expect("write");
    // incidents/2026 is a link out of the repository: a declaration in
    // November 2026 would land outside if the link were followed.
    std::os::unix::fs::symlink(&outside, repo.path.join("incidents/2026")).expect("symlink");
    std::os::unix::fs::symlink(
        outside.join("secret.toml"),
        repo.path.join("incidents/linked.toml"),
    )
    .expect("symlink");
    repo.git(&["add", "incidents/2026", "incidents/linked.toml"]);
    repo.git(&["commit", "-q", "-m", "links"]);
    let listing = || {
        let mut names: Vec<String> = walk(&outside);
        names.sort();
        names
    };
    let before_outside = listing();
    let before = repo.state();
    let (code, _, stderr) = run(
        &repo,
        &["declare", "DB down", "--severity", "SEV2", "--no-input"],
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert_eq!(listing(), before_outside, "nothing written outside");
    assert_eq!(repo.state(), before, "nothing committed");
    let (code, stdout, _) = run(&repo, &["check"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("incidents/2026: error: symbolic link"),
        "{stdout}"
    );
    assert!(
        stdout.contains("incidents/linked.toml: error: symbolic link"),
        "{stdout}"
    );
    // A linked config is refused, not read through.
    std::fs::rename(
        repo.path.join("incidents/config.toml"),
        outside.join("config.toml"),
    )
    .expect("mv");
    std::os::unix::fs::symlink(
        outside.join("config.toml"),
        repo.path.join("incidents/config.toml"),
    )
    .expect("symlink");
    let (code, _, stderr) = run(&repo, &["list"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("symbolic link"), "{stderr}");
    let (code, _, stderr) = run(&repo, &["report"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("symbolic link"), "{stderr}");
}

#[test]
fn file_names_with_dot_dot() {
    let (repo, id, folder) = setup();
    commit_file(
        &repo,
        &format!("{folder}/events/20261124T093000Z-aaaaaa-note..toml"),
        NOTE.as_bytes(),
    );
    commit_file(&repo, &format!("{folder}/events/...toml"), NOTE.as_bytes());
    commit_file(
        &repo,
        "incidents/2026/11/zzzzzz-../incident.toml",
        b"not toml at all",
    );
    let (code, stdout, _) = run(&repo, &["check"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains(&format!(
            "{folder}/events/...toml: warning: file name contains '..'"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("incidents/2026/11/zzzzzz-../incident.toml:1: error:"),
        "{stdout}"
    );
    let (code, _, _) = run(&repo, &["list", "--all"]);
    assert!(code == 0 || code == 1);
    report_skips(
        &repo,
        "incidents/2026/11/zzzzzz-..",
        "incidents/2026/11/zzzzzz-../incident.toml:1:",
    );
    // Commands write new files inside the incident's folder only.
    let outside = repo.home();
    let before: Vec<String> = std::fs::read_dir(&outside)
        .expect("ls")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let (code, _, stderr) = run(&repo, &["update", &id, "-m", "after the dots"]);
    assert_eq!(code, 0, "{stderr}");
    let after: Vec<String> = std::fs::read_dir(&outside)
        .expect("ls")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(before, after);
}

/// git with its standard input.
fn git_with_input(repo: &Repo, args: &[&str], input: &[u8]) -> String {
    use std::io::Write;
    let mut cmd = std::process::Command::new("git");
    support::base_env(&mut cmd, &repo.home());
    let mut child = cmd
        .current_dir(&repo.path)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("git");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write");
    let out = child.wait_with_output().expect("git");
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_string()
}

/// A tree object that does not parse (written with `--literally`, as a
/// broken tool or a disk error could leave it): the report stops with an
/// error that says so, never a panic, and writes no cache.
#[test]
fn a_corrupt_tree_object_stops_the_report() {
    let (repo, _, _) = setup();
    let ok = run(&repo, &["report"]);
    assert_eq!(ok.0, 0, "{}", ok.2);
    std::fs::remove_dir_all(repo.path.join(".git/incident")).expect("rm cache");
    let garbage = git_with_input(
        &repo,
        &["hash-object", "-t", "tree", "--literally", "-w", "--stdin"],
        b"100644 no-nul-and-no-id",
    );
    // Rebuild HEAD's tree with incidents/2026/11 replaced by the garbage.
    let mut child = garbage.clone();
    for (parent, name) in [
        ("incidents/2026", "11"),
        ("incidents", "2026"),
        ("", "incidents"),
    ] {
        let listing = repo.git(&["ls-tree", &format!("HEAD:{parent}")]);
        let replaced: String = listing
            .lines()
            .map(|line| {
                let (meta, entry) = line.split_once('\t').expect("tab");
                if entry == name {
                    format!("040000 tree {}\t{entry}\n", child.trim())
                } else {
                    format!("{meta}\t{entry}\n")
                }
            })
            .collect();
        child = git_with_input(&repo, &["mktree"], replaced.as_bytes());
    }
    let commit = repo.git(&["commit-tree", child.trim(), "-p", "HEAD", "-m", "corrupt"]);
    repo.git(&["update-ref", "HEAD", commit.trim()]);
    let (code, _, stderr) = run(&repo, &["report"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!("the tree object {garbage} is malformed"))
            && stderr.contains("git fsck"),
        "{stderr}"
    );
    assert!(!repo.path.join(".git/incident/report-cache-v1").exists());
}

fn walk(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("ls").flatten() {
        let path = entry.path();
        found.push(path.display().to_string());
        if path.is_dir() && !path.is_symlink() {
            found.extend(walk(&path));
        }
    }
    found
}
