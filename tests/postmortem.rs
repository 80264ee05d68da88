//! Postmortems, reviews, publication, close and action items, driven
//! through the real binary on temporary repositories with a local bare
//! remote and a cleared environment.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;
use tempfile::TempDir;

const T_DECLARE: &str = "2026-11-24T10:00:00Z";
const T_RESOLVE: &str = "2026-11-24T12:00:00Z";
const T_LATER: &str = "2026-11-25T09:00:00Z";
const T_MERGE: &str = "2026-11-26T15:30:00+00:00";
const T_CLOSE: &str = "2026-11-27T09:00:00Z";

fn base_env(cmd: &mut Command, who: &str, now: &str) {
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("TZ", "UTC")
        .env("GIT_AUTHOR_NAME", who)
        .env(
            "GIT_AUTHOR_EMAIL",
            format!("{}@example.com", who.to_lowercase()),
        )
        .env("GIT_COMMITTER_NAME", who)
        .env(
            "GIT_COMMITTER_EMAIL",
            format!("{}@example.com", who.to_lowercase()),
        )
        .env("GIT_AUTHOR_DATE", now)
        .env("GIT_COMMITTER_DATE", now)
        .env("INCIDENT_NOW", now);
}

fn run_git(dir: &Path, who: &str, now: &str, args: &[&str]) -> String {
    let mut cmd = Command::new("git");
    base_env(&mut cmd, who, now);
    let out = cmd.current_dir(dir).args(args).output().expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn git(dir: &Path, args: &[&str]) -> String {
    run_git(dir, "Alice", T_DECLARE, args)
}

fn incident_as(dir: &Path, who: &str, now: &str, args: &[&str]) -> Output {
    let mut cmd = Command::cargo_bin("incident").expect("binary built");
    base_env(&mut cmd, who, now);
    cmd.env("EDITOR", "false")
        .current_dir(dir)
        .arg("--no-input")
        .args(args)
        .output()
        .expect("incident runs")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "expected success:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Standard error of a successful run.
fn ok_output(out: Output) -> Vec<u8> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stderr
}

fn fails(out: Output) -> String {
    assert!(
        !out.status.success(),
        "expected failure:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn inc(dir: &Path, now: &str, args: &[&str]) -> String {
    ok(incident_as(dir, "Alice", now, args))
}

/// A repository with the config committed (time zone UTC) and an incident
/// declared and resolved; returns (dir, incident id, incident folder).
/// An empty bare repository `remote.git` under `root`, default branch main.
fn bare_remote(root: &Path) -> PathBuf {
    let remote = root.join("remote.git");
    git(
        root,
        &[
            "init",
            "-q",
            "--bare",
            "-b",
            "main",
            remote.to_str().unwrap(),
        ],
    );
    remote
}

fn resolved_repo(root: &Path, name: &str, severity: &str) -> (PathBuf, String, String) {
    let dir = root.join(name);
    fs::create_dir_all(&dir).unwrap();
    git(&dir, &["init", "-q", "-b", "main"]);
    inc(&dir, T_DECLARE, &["init"]);
    // init names the machine's zone (TZ=UTC here).
    let config = fs::read_to_string(dir.join("incidents/config.toml")).unwrap();
    assert!(config.contains("\ntimezone = \"UTC\"\n"), "{config}");
    let declared = inc(
        &dir,
        T_DECLARE,
        &[
            "declare",
            "Checkout latency above 2s",
            "--severity",
            severity,
            "--service",
            "checkout",
            "--commander",
            "alice",
            "--started-at",
            T_DECLARE,
            "--format",
            "json",
        ],
    );
    let json: serde_json::Value = serde_json::from_str(&declared).expect("declare prints JSON");
    let id = json["id"].as_str().expect("id").to_string();
    let folder = json["folder"].as_str().expect("folder").to_string();
    inc(
        &dir,
        T_RESOLVE,
        &[
            "resolve",
            &id,
            "--resolution",
            "rolled back payments to 1.41",
        ],
    );
    (dir, id, folder)
}

/// Replace every prompt with text a person wrote.
fn fill_in(path: &Path) {
    let text = fs::read_to_string(path).unwrap();
    let filled: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with("> TODO:") {
                "We wrote this section by hand.".to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    fs::write(path, filled.join("\n") + "\n").unwrap();
}

/// A JSON string holding an RFC 3339 time, as an instant.
fn instant(value: &serde_json::Value) -> chrono::DateTime<chrono::Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a time: {value}"));
    chrono::DateTime::parse_from_rfc3339(text)
        .expect("RFC 3339")
        .to_utc()
}

fn line_of(path: &Path, needle: &str) -> usize {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in {}", path.display()))
        + 1
}

#[test]
fn review_merge_in_another_clone_publishes_and_close_succeeds() {
    let root = TempDir::new().unwrap();
    let remote = bare_remote(root.path());
    let (one, id, folder) = resolved_repo(root.path(), "one", "SEV2");
    let postmortem = one.join(&folder).join("postmortem.md");

    // resolve wrote the postmortem in the same commit as the resolution.
    let files = git(&one, &["show", "--name-only", "--format=", "HEAD"]);
    assert!(files.contains("postmortem.md"), "{files}");
    assert!(files.contains("-status.toml"), "{files}");
    let text = fs::read_to_string(&postmortem).unwrap();
    assert!(
        text.starts_with("<!-- incident postmortem: incident="),
        "{text}"
    );
    assert!(text.contains("| Services | checkout |"), "{text}");
    assert!(text.contains("| Incident Commander | alice |"), "{text}");
    assert!(
        text.contains("| resolved | 2026-11-24 12:00:00 +00:00 |"),
        "{text}"
    );
    assert!(
        text.contains("| time to resolve | started → resolved | 2h 00m |"),
        "{text}"
    );
    assert!(
        text.contains("status triage → resolved: rolled back payments to 1.41"),
        "{text}"
    );
    let again = fails(incident_as(&one, "Alice", T_LATER, &["postmortem", &id]));
    assert!(again.contains("exists already"), "{again}");

    // People write; an action item arrives; refresh updates only generated parts.
    fill_in(&postmortem);
    git(&one, &["commit", "-q", "-am", "Write the postmortem"]);
    inc(
        &one,
        T_LATER,
        &[
            "action",
            "add",
            &id,
            "Alert on queue depth",
            "--owner",
            "bob",
            "--due",
            "2026-12-15",
            "--priority",
            "high",
            "--type",
            "detect",
        ],
    );
    let before_refresh = fs::read_to_string(&postmortem).unwrap();
    inc(&one, T_LATER, &["postmortem", &id, "--refresh"]);
    let refreshed = fs::read_to_string(&postmortem).unwrap();
    assert!(
        refreshed.contains("| Alert on queue depth | bob | 2026-12-15 | high | detect | open |"),
        "{refreshed}"
    );
    let human = |t: &str| t.lines().filter(|l| l.contains("by hand")).count();
    assert_eq!(human(&refreshed), human(&before_refresh));
    assert!(human(&refreshed) >= 10);
    let nothing = inc(&one, T_LATER, &["postmortem", &id, "--refresh"]);
    assert!(nothing.contains("up to date"), "{nothing}");
    ok(incident_as(
        &one,
        "Alice",
        T_LATER,
        &["postmortem", "check", &id],
    ));

    // Review: a branch and a push, the user's work untouched.
    git(&one, &["remote", "add", "origin", remote.to_str().unwrap()]);
    git(&one, &["push", "-q", "-u", "origin", "main"]);
    fs::write(one.join("staged.txt"), "mine\n").unwrap();
    git(&one, &["add", "staged.txt"]);
    fs::write(one.join("untracked.txt"), "also mine\n").unwrap();
    let status_before = git(&one, &["status", "--porcelain"]);
    let head_before = git(&one, &["rev-parse", "HEAD"]);
    let review = inc(&one, T_LATER, &["postmortem", "review", &id, "--push"]);
    assert!(review.contains(&format!("postmortem/{id}")), "{review}");
    assert!(review.contains("pushed"), "{review}");
    assert_eq!(git(&one, &["status", "--porcelain"]), status_before);
    assert_eq!(git(&one, &["rev-parse", "HEAD"]), head_before);
    assert_eq!(
        git(&one, &["symbolic-ref", "HEAD"]).trim(),
        "refs/heads/main"
    );
    git(&one, &["fsck", "--no-progress"]);
    let remote_refs = git(root.path(), &["ls-remote", remote.to_str().unwrap()]);
    assert!(
        remote_refs.contains(&format!("refs/heads/postmortem/{id}")),
        "{remote_refs}"
    );
    let on_branch = git(
        &one,
        &[
            "show",
            &format!("postmortem/{id}"),
            "--name-only",
            "--format=%B",
        ],
    );
    assert!(
        on_branch.contains("Incident-Event: postmortem"),
        "{on_branch}"
    );
    let shown = inc(&one, T_LATER, &["show", &id]);
    assert!(shown.contains("in review on branch"), "{shown}");
    let refused = fails(incident_as(&one, "Alice", T_LATER, &["close", &id]));
    assert!(refused.contains("in review"), "{refused}");

    // A colleague merges the branch with plain git in another clone.
    let two = root.path().join("two");
    run_git(
        root.path(),
        "Bob",
        T_MERGE,
        &[
            "clone",
            "-q",
            remote.to_str().unwrap(),
            two.to_str().unwrap(),
        ],
    );
    fs::write(two.join("unrelated.txt"), "deploy notes\n").unwrap();
    run_git(&two, "Bob", T_MERGE, &["add", "unrelated.txt"]);
    run_git(
        &two,
        "Bob",
        "2026-11-26T15:00:00+00:00",
        &["commit", "-q", "-m", "Unrelated work"],
    );
    run_git(
        &two,
        "Bob",
        T_MERGE,
        &[
            "merge",
            "-q",
            "--no-edit",
            &format!("origin/postmortem/{id}"),
        ],
    );
    let merge_commit = run_git(&two, "Bob", T_MERGE, &["rev-parse", "HEAD"])
        .trim()
        .to_string();
    let merge_time = run_git(&two, "Bob", T_MERGE, &["log", "-1", "--format=%cI"])
        .trim()
        .to_string();
    run_git(&two, "Bob", T_MERGE, &["push", "-q", "origin", "main"]);

    // Back in the first clone: pull, and the repository knows it is published.
    git(&one, &["reset", "-q"]);
    fs::remove_file(one.join("staged.txt")).unwrap();
    run_git(
        &one,
        "Alice",
        T_CLOSE,
        &["pull", "-q", "--no-rebase", "origin", "main"],
    );
    let json: serde_json::Value =
        serde_json::from_str(&inc(&one, T_CLOSE, &["show", &id, "--format", "json"])).unwrap();
    assert_eq!(json["status"], "postmortem");
    assert_eq!(json["postmortem"]["status"], "published");
    assert_eq!(
        json["postmortem"]["published_in_commit"].as_str(),
        Some(merge_commit.as_str())
    );
    assert_eq!(
        instant(&json["milestones"]["postmortem_published"]),
        instant(&merge_time.as_str().into())
    );
    let shown = inc(&one, T_CLOSE, &["show", &id]);
    assert!(shown.contains("published on main"), "{shown}");
    assert!(shown.contains(&merge_commit[..10]), "{shown}");

    let closed = inc(&one, T_CLOSE, &["close", &id]);
    assert!(closed.contains("postmortem → closed"), "{closed}");
    let json: serde_json::Value =
        serde_json::from_str(&inc(&one, T_CLOSE, &["show", &id, "--format", "json"])).unwrap();
    assert_eq!(json["status"], "closed");
    assert_eq!(
        instant(&json["milestones"]["postmortem_published"]),
        instant(&merge_time.as_str().into())
    );
    assert!(git(&one, &["status", "--porcelain"]).contains("?? untracked.txt"));
    git(&one, &["fsck", "--no-progress"]);
}

#[test]
fn check_names_file_and_line_for_each_problem() {
    let root = TempDir::new().unwrap();
    let (dir, id, folder) = resolved_repo(root.path(), "repo", "SEV2");
    let path = dir.join(&folder).join("postmortem.md");
    let relative = format!("{folder}/postmortem.md");

    // Prompts everywhere at first.
    let out = fails(incident_as(
        &dir,
        "Alice",
        T_LATER,
        &["postmortem", "check", &id],
    ));
    let summary_line = line_of(&path, "> TODO: Two or three sentences");
    assert!(
        out.contains(&format!(
            "{relative}:{summary_line}: error: section 'Summary' still holds its prompt"
        )),
        "{out}"
    );

    // Fill it in, but drop the Trigger section, leave the Summary prompt,
    // add a placeholder and a phrase that blames a person.
    let summary_prompt = fs::read_to_string(&path)
        .unwrap()
        .lines()
        .find(|l| l.starts_with("> TODO: Two or three sentences"))
        .unwrap()
        .to_string();
    fill_in(&path);
    let text = fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let trigger = lines.iter().position(|l| l == "## Trigger").unwrap();
    lines.drain(trigger..trigger + 4);
    let summary = lines.iter().position(|l| l == "## Summary").unwrap();
    lines[summary + 2] = summary_prompt;
    let detection = lines.iter().position(|l| l == "## Detection").unwrap();
    lines[detection + 2] = "It was human error: Bob should have known. Details TBD.".into();
    fs::write(&path, lines.join("\n") + "\n").unwrap();
    git(&dir, &["commit", "-q", "-am", "Half-written postmortem"]);

    // One action item without an owner, one written by hand without a due date.
    inc(&dir, T_LATER, &["action", "add", &id, "Add a canary stage"]);
    let actions_dir = dir.join(&folder).join("actions");
    fs::write(
        actions_dir.join("zzzzz.toml"),
        "version = 1\ntext = \"Document the rollback\"\nowner = \"carol\"\ncreated_at = 2026-11-25T09:30:00Z\nauthor = \"Carol\"\n",
    )
    .unwrap();
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "Hand-written action item"]);

    let out = fails(incident_as(
        &dir,
        "Alice",
        T_LATER,
        &["postmortem", "check", "--all"],
    ));
    let summary_line = line_of(&path, "> TODO: Two or three sentences");
    let detection_line = line_of(&path, "human error");
    let canary = fs::read_dir(&actions_dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".toml") && n != "zzzzz.toml")
        .unwrap();
    for expected in [
        format!("{relative}:{summary_line}: error: section 'Summary' still holds its prompt"),
        format!("{relative}:{detection_line}: error: template placeholder 'TBD' left in place"),
        format!("{relative}:{detection_line}: warning: \"human error\" assigns blame to a person"),
        format!(
            "{folder}/actions/{canary}:{}: error: action item {id}/{} (#1) has no owner",
            line_of(&actions_dir.join(&canary), "text ="),
            canary.trim_end_matches(".toml")
        ),
        format!(
            "{folder}/actions/zzzzz.toml:2: error: action item {id}/zzzzz (#2) has no due date"
        ),
    ] {
        assert!(out.contains(&expected), "missing '{expected}' in:\n{out}");
    }
    assert!(
        out.contains("error: required section 'Trigger' is missing"),
        "{out}"
    );
    assert!(out.contains(&format!("{relative}:")), "{out}");

    let unchanged = incident_as(
        &dir,
        "Alice",
        T_LATER,
        &["postmortem", "check", "--changed-since", "HEAD"],
    );
    assert!(String::from_utf8_lossy(&ok_output(unchanged)).contains("checked 0 postmortems"));
    let changed = fails(incident_as(
        &dir,
        "Alice",
        T_LATER,
        &["postmortem", "check", "--changed-since", "HEAD~2"],
    ));
    assert!(changed.contains("checked 1 postmortem: "), "{changed}");
    let bad_rev = fails(incident_as(
        &dir,
        "Alice",
        T_LATER,
        &["postmortem", "check", "--changed-since", "nope"],
    ));
    assert!(bad_rev.contains("cannot read revision 'nope'"), "{bad_rev}");

    let github = fails(incident_as(
        &dir,
        "Alice",
        T_LATER,
        &["postmortem", "check", &id, "--format", "github"],
    ));
    assert!(
        github.contains(&format!("::error file={relative},line={summary_line},title=postmortem check::section 'Summary' still holds its prompt")),
        "{github}"
    );
    assert!(
        github.contains(&format!("::warning file={relative},line={detection_line},")),
        "{github}"
    );

    // close refuses and says why; --force --reason records the override.
    let refused = fails(incident_as(&dir, "Alice", T_LATER, &["close", &id]));
    assert!(refused.contains("has not been reviewed"), "{refused}");
    assert!(refused.contains("does not pass"), "{refused}");
    let head = git(&dir, &["rev-parse", "HEAD"]);
    let usage = fails(incident_as(
        &dir,
        "Alice",
        T_LATER,
        &["close", &id, "--force"],
    ));
    assert!(usage.contains("--reason"), "{usage}");
    assert_eq!(git(&dir, &["rev-parse", "HEAD"]), head);
    inc(
        &dir,
        T_CLOSE,
        &[
            "close",
            &id,
            "--force",
            "--reason",
            "postmortem kept in the vendor's tracker",
        ],
    );
    let timeline = inc(&dir, T_CLOSE, &["timeline", &id]);
    assert!(timeline.contains("closed with --force"), "{timeline}");
    assert!(timeline.contains("vendor's tracker"), "{timeline}");

    // Fixed: only the warning remains, and the exit code is 0.
    let mut fixed = fs::read_to_string(&path).unwrap().replace(
        &fs::read_to_string(&path)
            .unwrap()
            .lines()
            .find(|l| l.starts_with("> TODO:"))
            .unwrap()
            .to_string(),
        "Checkout was slow for 2 hours.",
    );
    fixed = fixed.replace("Details TBD.", "").replace(
        "## Detection",
        "## Trigger\n\nA deploy of payments 1.42.\n\n## Detection",
    );
    fs::write(&path, fixed).unwrap();
    inc(
        &dir,
        T_CLOSE,
        &["action", "edit", &format!("{id}/1"), "--owner", "dave"],
    );
    inc(
        &dir,
        T_CLOSE,
        &[
            "action",
            "edit",
            &format!("{id}/zzzzz"),
            "--due",
            "2027-01-15",
        ],
    );
    let out = incident_as(&dir, "Alice", T_CLOSE, &["postmortem", "check", &id]);
    let text = ok(out);
    assert!(text.contains("warning: \"human error\""), "{text}");
    assert!(!text.contains("error:"), "{text}");
}

#[test]
fn action_items_from_two_clones_merge_without_conflict() {
    let root = TempDir::new().unwrap();
    let remote = bare_remote(root.path());
    let (one, id, _) = resolved_repo(root.path(), "one", "SEV1");
    git(&one, &["remote", "add", "origin", remote.to_str().unwrap()]);
    git(&one, &["push", "-q", "-u", "origin", "main"]);
    let two = root.path().join("two");
    git(
        root.path(),
        &[
            "clone",
            "-q",
            remote.to_str().unwrap(),
            two.to_str().unwrap(),
        ],
    );

    let added_one = ok(incident_as(
        &one,
        "Alice",
        T_LATER,
        &[
            "action",
            "add",
            &id,
            "Alert on queue depth",
            "--owner",
            "alice",
        ],
    ));
    // SEV1: due four weeks after today by default.
    assert!(added_one.contains("due 2026-12-23"), "{added_one}");
    ok(incident_as(
        &two,
        "Bob",
        "2026-11-25T09:05:00Z",
        &[
            "action",
            "add",
            &id,
            "Canary for payments",
            "--owner",
            "bob",
            "--due",
            "2026-12-01",
        ],
    ));
    run_git(&one, "Alice", T_LATER, &["push", "-q", "origin", "main"]);
    run_git(
        &two,
        "Bob",
        "2026-11-25T09:10:00Z",
        &["pull", "-q", "--no-rebase", "--no-edit", "origin", "main"],
    );
    run_git(
        &two,
        "Bob",
        "2026-11-25T09:10:00Z",
        &["push", "-q", "origin", "main"],
    );
    run_git(
        &one,
        "Alice",
        "2026-11-25T09:20:00Z",
        &["pull", "-q", "--no-rebase", "origin", "main"],
    );

    for dir in [&one, &two] {
        let json: serde_json::Value = serde_json::from_str(&inc(
            dir,
            "2026-12-05T00:00:00Z",
            &["actions", "--all", "--format", "json"],
        ))
        .unwrap();
        let texts: Vec<&str> = json
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["text"].as_str().unwrap())
            .collect();
        assert_eq!(texts.len(), 2, "{json}");
        assert!(
            texts.contains(&"Alert on queue depth") && texts.contains(&"Canary for payments"),
            "{json}"
        );
    }
    // Overdue first, highlighted by status; done items leave the open list.
    let table = inc(&one, "2026-12-05T00:00:00Z", &["actions", "--overdue"]);
    assert!(
        table.contains("overdue") && table.contains("Canary for payments"),
        "{table}"
    );
    assert!(!table.contains("Alert on queue depth"), "{table}");
    inc(
        &one,
        "2026-12-05T00:00:00Z",
        &["action", "done", &format!("{id}/2")],
    );
    let open = inc(
        &one,
        "2026-12-05T00:00:00Z",
        &["actions", "--format", "csv"],
    );
    assert!(
        open.starts_with("ACTION,#,STATUS,DUE,OWNER,PRIORITY,TYPE,TEXT"),
        "{open}"
    );
    assert!(
        open.contains("Alert on queue depth") && !open.contains("Canary"),
        "{open}"
    );
    let bad = fails(incident_as(
        &one,
        "Alice",
        T_CLOSE,
        &["action", "drop", &format!("{id}/9"), "--reason", "x"],
    ));
    assert!(bad.contains("has no action item '9'"), "{bad}");
    let bad = fails(incident_as(
        &one,
        "Alice",
        T_CLOSE,
        &["action", "add", &id, "x", "--due", "next week"],
    ));
    assert!(bad.contains("not a date like 2026-12-15"), "{bad}");
    git(&one, &["fsck", "--no-progress"]);
}

#[test]
fn templates_can_be_chosen_overridden_and_report_errors_with_file_and_line() {
    let root = TempDir::new().unwrap();
    // SEV4 needs no postmortem: resolve writes none.
    let (dir, id, folder) = resolved_repo(root.path(), "repo", "SEV4");
    let path = dir.join(&folder).join("postmortem.md");
    assert!(!path.exists());

    let templates = dir.join("incidents/templates");
    fs::create_dir_all(&templates).unwrap();
    fs::write(
        templates.join("postmortem-broken.md"),
        "# {{ incident.title }}\n\n{{ incident.no_such_field }}\n",
    )
    .unwrap();
    let head = git(&dir, &["rev-parse", "HEAD"]);
    let err = fails(incident_as(
        &dir,
        "Alice",
        T_LATER,
        &["postmortem", &id, "--template", "broken"],
    ));
    assert!(
        err.contains("incidents/templates/postmortem-broken.md:3: template:"),
        "{err}"
    );
    let err = fails(incident_as(
        &dir,
        "Alice",
        T_LATER,
        &["postmortem", &id, "--template", "nope"],
    ));
    assert!(err.contains("unknown template 'nope'"), "{err}");
    assert!(err.contains("sre, lightweight, pagerduty, broken"), "{err}");
    assert_eq!(git(&dir, &["rev-parse", "HEAD"]), head);
    assert!(!path.exists());

    inc(
        &dir,
        T_LATER,
        &["postmortem", &id, "--template", "pagerduty"],
    );
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains("template=pagerduty"), "{text}");
    assert!(
        text.contains("## Contributing Factors") && text.contains("### External"),
        "{text}"
    );
    assert!(
        text.contains(
            "| SEV4 | 2026-11-24 10:00:00 +00:00 | 2026-11-24 12:00:00 +00:00 | 2h 00m |"
        ),
        "{text}"
    );

    // A repository template overrides the built-in one of the same name.
    fs::write(
        templates.join("postmortem-lightweight.md"),
        "# Our own: {{ incident.title }}\n\n## What happened\n\n> TODO: tell it\n\n<!-- BEGIN GENERATED timeline -->\n{{ tables.timeline }}\n<!-- END GENERATED timeline -->\n",
    )
    .unwrap();
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "Our templates"]);
    let (other, _, other_folder) = resolved_repo(root.path(), "other", "SEV3");
    let other_text = fs::read_to_string(other.join(&other_folder).join("postmortem.md")).unwrap();
    assert!(
        other_text.contains("template=lightweight"),
        "SEV3 uses the lightweight template: {other_text}"
    );

    let (dir2, id2, folder2) = resolved_repo(root.path(), "third", "SEV4");
    fs::create_dir_all(dir2.join("incidents/templates")).unwrap();
    fs::copy(
        templates.join("postmortem-lightweight.md"),
        dir2.join("incidents/templates/postmortem-lightweight.md"),
    )
    .unwrap();
    git(&dir2, &["add", "-A"]);
    git(&dir2, &["commit", "-q", "-m", "Our templates"]);
    inc(
        &dir2,
        T_LATER,
        &["postmortem", &id2, "--template", "lightweight"],
    );
    let own = fs::read_to_string(dir2.join(&folder2).join("postmortem.md")).unwrap();
    assert!(
        own.contains("# Our own: Checkout latency above 2s"),
        "{own}"
    );

    // --edit runs $EDITOR on the text before the one commit.
    let mut cmd = Command::cargo_bin("incident").unwrap();
    base_env(&mut cmd, "Alice", T_LATER);
    let out = cmd
        .current_dir(&dir2)
        .env(
            "EDITOR",
            "sed -i 's/> TODO: tell it/The cache expired at once./'",
        )
        .args(["postmortem", &id2, "--edit"])
        .output()
        .unwrap();
    ok(out);
    let edited = fs::read_to_string(dir2.join(&folder2).join("postmortem.md")).unwrap();
    assert!(edited.contains("The cache expired at once."), "{edited}");
    assert_eq!(git(&dir2, &["status", "--porcelain"]), "");
    let subject = git(&dir2, &["log", "-1", "--format=%s"]);
    assert!(
        subject.starts_with("Edit postmortem for incident"),
        "{subject}"
    );

    // A severity that needs no postmortem closes straight from resolved.
    let closed = inc(&dir2, T_CLOSE, &["close", &id2]);
    assert!(closed.contains("resolved → closed"), "{closed}");
}

#[test]
fn review_prints_the_pull_request_address_and_refuses_bad_remotes() {
    let root = TempDir::new().unwrap();
    let (dir, id, _) = resolved_repo(root.path(), "repo", "SEV1");
    git(
        &dir,
        &["remote", "add", "origin", "git@github.com:acme/ops.git"],
    );
    let refs_before = git(&dir, &["for-each-ref"]);
    let err = fails(incident_as(
        &dir,
        "Alice",
        T_LATER,
        &[
            "postmortem",
            "review",
            &id,
            "--push",
            "--remote",
            "upstream",
        ],
    ));
    assert!(
        err.contains("no remote named 'upstream' to push to; remotes: origin"),
        "{err}"
    );
    assert_eq!(git(&dir, &["for-each-ref"]), refs_before);

    let out = inc(&dir, T_LATER, &["postmortem", "review", &id]);
    assert!(
        out.contains(&format!(
            "https://github.com/acme/ops/compare/main...postmortem/{id}?expand=1"
        )),
        "{out}"
    );
    // Again: nothing new to commit on the branch.
    let again = inc(&dir, T_LATER, &["postmortem", "review", &id]);
    assert!(again.contains("is up to date"), "{again}");
    // Reviewing from the review branch itself is refused.
    git(&dir, &["switch", "-q", &format!("postmortem/{id}")]);
    let err = fails(incident_as(
        &dir,
        "Alice",
        T_LATER,
        &["postmortem", "review", &id],
    ));
    assert!(err.contains("you are on the review branch"), "{err}");
}
