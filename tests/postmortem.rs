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

/// Alice runs incident and it fails; what it printed.
fn fails_with(dir: &Path, now: &str, args: &[&str]) -> String {
    fails(incident_as(dir, "Alice", now, args))
}

/// A repository with the config committed (time zone UTC) and an incident
/// declared and resolved; returns (dir, incident id, incident folder).
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

/// A bare repository `NAME.git` under `root` whose HEAD names `head`, that
/// refuses pushes that are not fast-forwards and logs every update of its
/// branches (so a test can prove no push rewrote one).
fn bare_remote_named(root: &Path, name: &str, head: &str) -> PathBuf {
    let remote = root.join(format!("{name}.git"));
    git(
        root,
        &["init", "-q", "--bare", "-b", head, remote.to_str().unwrap()],
    );
    git(&remote, &["config", "receive.denyNonFastForwards", "true"]);
    git(&remote, &["config", "core.logAllRefUpdates", "always"]);
    remote
}

fn bare_remote(root: &Path) -> PathBuf {
    bare_remote_named(root, "remote", "main")
}

/// A file's text at a revision, if it is there.
fn file_at(dir: &Path, rev: &str, path: &str) -> Option<String> {
    let mut cmd = Command::new("git");
    base_env(&mut cmd, "Alice", T_DECLARE);
    let out = cmd
        .current_dir(dir)
        .args(["show", &format!("{rev}:{path}")])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `incident` with `$EDITOR` set to `editor` (a shell command given the file).
fn edit(dir: &Path, who: &str, now: &str, editor: &str, args: &[&str]) -> Output {
    let mut cmd = Command::cargo_bin("incident").expect("binary built");
    base_env(&mut cmd, who, now);
    cmd.env("EDITOR", editor)
        .current_dir(dir)
        .arg("--no-input")
        .args(args)
        .output()
        .expect("incident runs")
}

/// `incident postmortem ID --edit` with `editor`, which must succeed.
fn edit_postmortem(dir: &Path, who: &str, now: &str, id: &str, editor: &str) {
    ok(edit(dir, who, now, editor, &["postmortem", id, "--edit"]));
}

/// An editor that fills in every prompt.
const FILL_IN: &str = "sed -i 's/^> TODO:.*/We wrote this section by hand./'";

fn show_json(dir: &Path, now: &str, id: &str) -> serde_json::Value {
    serde_json::from_str(&inc(dir, now, &["show", id, "--format", "json"])).expect("show JSON")
}

/// Every update the bare remote logged for `branch` moved it forward.
fn assert_only_fast_forwards(remote: &Path, branch: &str) {
    let log = fs::read_to_string(remote.join("logs/refs/heads").join(branch))
        .unwrap_or_else(|e| panic!("no reflog for {branch}: {e}"));
    assert!(!log.is_empty());
    for line in log.lines() {
        let mut fields = line.split(' ');
        let (old, new) = (fields.next().unwrap(), fields.next().unwrap());
        if old.bytes().all(|b| b == b'0') || new.bytes().all(|b| b == b'0') {
            continue;
        }
        let mut cmd = Command::new("git");
        base_env(&mut cmd, "Alice", T_DECLARE);
        let status = cmd
            .current_dir(remote)
            .args(["merge-base", "--is-ancestor", old, new])
            .status()
            .unwrap();
        assert!(status.success(), "{branch} was rewritten: {line}");
    }
}

/// The draft resolve wrote, then a remote with main pushed to it.
fn shared_repo(root: &Path, severity: &str) -> (PathBuf, PathBuf, String, String) {
    let remote = bare_remote(root);
    let (one, id, folder) = resolved_repo(root, "one", severity);
    git(&one, &["remote", "add", "origin", remote.to_str().unwrap()]);
    git(&one, &["push", "-q", "-u", "origin", "main"]);
    (one, remote, id, folder)
}

/// An incident's draft in review (pushed), and a second clone: (first
/// clone, second clone, remote, id, postmortem path, review branch).
fn in_review(root: &Path) -> (PathBuf, PathBuf, PathBuf, String, String, String) {
    let (one, remote, id, folder) = shared_repo(root, "SEV2");
    inc(&one, T_LATER, &["postmortem", "review", &id, "--push"]);
    let two = clone_as(root, &remote, "two", "Bob", T_LATER);
    let branch = format!("postmortem/{id}");
    (
        one,
        two,
        remote,
        id,
        format!("{folder}/postmortem.md"),
        branch,
    )
}

/// `git pull --no-rebase origin main`.
fn pull_main(dir: &Path, who: &str, now: &str) {
    run_git(
        dir,
        who,
        now,
        &["pull", "-q", "--no-rebase", "origin", "main"],
    );
}

/// A merge commit of `rev` into the current branch, as a forge's button makes.
fn merge_no_ff(dir: &Path, who: &str, now: &str, rev: &str) {
    run_git(dir, who, now, &["merge", "-q", "--no-ff", "--no-edit", rev]);
}

fn clone_as(root: &Path, remote: &Path, name: &str, who: &str, now: &str) -> PathBuf {
    let dir = root.join(name);
    run_git(
        root,
        who,
        now,
        &[
            "clone",
            "-q",
            remote.to_str().unwrap(),
            dir.to_str().unwrap(),
        ],
    );
    dir
}

#[test]
fn the_readme_flow_reviews_the_postmortem_as_a_pull_request_and_the_merge_publishes_it() {
    let root = TempDir::new().unwrap();
    let remote = bare_remote(root.path());
    let (one, id, folder) = resolved_repo(root.path(), "one", "SEV2");
    let pm = format!("{folder}/postmortem.md");
    let branch = format!("postmortem/{id}");

    // resolve: the postmortem is due on main; its draft is on the review
    // branch, built on the resolution, and nowhere in the working tree.
    assert!(!one.join(&pm).exists());
    assert_eq!(git(&one, &["status", "--porcelain"]), "");
    let files = git(&one, &["show", "--name-only", "--format=", "main"]);
    assert!(files.contains("-postmortem_due.toml"), "{files}");
    assert!(files.contains("-status.toml"), "{files}");
    assert!(!files.contains("postmortem.md"), "{files}");
    assert_eq!(
        git(&one, &["rev-parse", &format!("{branch}^")]),
        git(&one, &["rev-parse", "main"])
    );
    let draft = file_at(&one, &branch, &pm).expect("the draft is on the review branch");
    assert!(
        draft.starts_with("<!-- incident postmortem: incident="),
        "{draft}"
    );
    for expected in [
        "| Services | checkout |",
        "| Incident Commander | alice |",
        "| resolved | 2026-11-24 12:00:00 +00:00 |",
        "| time to resolve | started → resolved | 2h 00m |",
        "status triage → resolved: rolled back payments to 1.41",
        "postmortem due: the draft is on branch",
    ] {
        assert!(draft.contains(expected), "{expected} not in {draft}");
    }
    let again = fails_with(&one, T_LATER, &["postmortem", &id]);
    assert!(again.contains("exists already on branch"), "{again}");
    let json = show_json(&one, T_LATER, &id);
    assert_eq!(json["postmortem"]["status"], "draft");
    assert_eq!(json["postmortem"]["review_branch"], branch.as_str());
    assert_eq!(json["postmortem_due"]["branch"], branch.as_str());
    let listed: serde_json::Value =
        serde_json::from_str(&inc(&one, T_LATER, &["list", "--all", "--format", "json"])).unwrap();
    assert_eq!(listed[0]["postmortem_due"]["branch"], branch.as_str());

    // Share main, then write the postmortem in the editor: on the branch.
    git(&one, &["remote", "add", "origin", remote.to_str().unwrap()]);
    git(&one, &["push", "-q", "-u", "origin", "main"]);
    let main_before = git(&one, &["rev-parse", "main"]);
    edit_postmortem(&one, "Alice", T_LATER, &id, FILL_IN);
    assert_eq!(git(&one, &["rev-parse", "main"]), main_before);
    assert_eq!(git(&one, &["status", "--porcelain"]), "");
    let written = file_at(&one, &branch, &pm).unwrap();
    assert!(!written.contains("> TODO:"), "{written}");

    // An action item is recorded on main; refresh brings it to the branch
    // and leaves what people wrote alone.
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
    assert!(file_at(&one, "main", &pm).is_none());
    inc(&one, T_LATER, &["postmortem", &id, "--refresh"]);
    let refreshed = file_at(&one, &branch, &pm).unwrap();
    assert!(
        refreshed.contains("| Alert on queue depth | bob | 2026-12-15 | high | detect | open |"),
        "{refreshed}"
    );
    let human = |t: &str| t.lines().filter(|l| l.contains("by hand")).count();
    assert_eq!(human(&refreshed), human(&written));
    assert!(human(&refreshed) >= 10);
    let nothing = inc(&one, T_LATER, &["postmortem", &id, "--refresh"]);
    assert!(nothing.contains("up to date"), "{nothing}");
    // Checked from main, it is the review branch's text that is checked.
    ok(incident_as(
        &one,
        "Alice",
        T_LATER,
        &["postmortem", "check", &id],
    ));
    git(&one, &["push", "-q", "origin", "main"]);

    // Review: the user's staged and untracked work stays as it was.
    fs::write(one.join("staged.txt"), "mine\n").unwrap();
    git(&one, &["add", "staged.txt"]);
    fs::write(one.join("untracked.txt"), "also mine\n").unwrap();
    let status_before = git(&one, &["status", "--porcelain"]);
    let head_before = git(&one, &["rev-parse", "HEAD"]);
    let review = inc(&one, T_LATER, &["postmortem", "review", &id, "--push"]);
    assert!(
        review.contains(&format!("pushed {branch} to origin")),
        "{review}"
    );
    assert!(
        review.contains(&format!(
            "open a pull request from {branch} into main on origin"
        )),
        "{review}"
    );
    assert_eq!(git(&one, &["status", "--porcelain"]), status_before);
    assert_eq!(git(&one, &["rev-parse", "HEAD"]), head_before);
    assert_eq!(
        git(&one, &["symbolic-ref", "HEAD"]).trim(),
        "refs/heads/main"
    );
    assert_eq!(
        git(&one, &["config", &format!("branch.{branch}.remote")]).trim(),
        "origin"
    );
    let on_branch = git(&one, &["log", "-1", "--format=%B", &branch]);
    assert!(
        on_branch.contains("Incident-Event: postmortem"),
        "{on_branch}"
    );

    // The pull request's diff holds the whole postmortem as added lines.
    git(&one, &["fetch", "-q", "origin"]);
    let range = format!("origin/main...origin/{branch}");
    let changed = git(&one, &["diff", "--name-only", &range]);
    let changed: Vec<&str> = changed.lines().collect();
    assert_eq!(changed.len(), 2, "{changed:?}");
    assert!(changed.contains(&pm.as_str()), "{changed:?}");
    assert!(
        changed.iter().any(|f| f.ends_with("-status.toml")),
        "{changed:?}"
    );
    let diff = git(&one, &["diff", &range, "--", &pm]);
    let text = file_at(&one, &format!("origin/{branch}"), &pm).unwrap();
    let added: Vec<&str> = diff
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .map(|l| &l[1..])
        .collect();
    assert_eq!(added, text.lines().collect::<Vec<_>>());
    assert!(
        !diff
            .lines()
            .any(|l| l.starts_with('-') && !l.starts_with("---"))
    );
    let stat = git(&one, &["diff", "--stat", &range]);
    assert!(
        stat.contains(&format!("{} insertions(+)", text.lines().count() + 9)),
        "{stat}"
    );

    let shown = inc(&one, T_LATER, &["show", &id]);
    assert!(shown.contains("in review on branch"), "{shown}");
    let refused = fails_with(&one, T_LATER, &["close", &id]);
    assert!(refused.contains("in review"), "{refused}");

    // A reviewer commits on the branch with plain git and pushes.
    let bob = clone_as(root.path(), &remote, "bob", "Bob", "2026-11-25T10:00:00Z");
    run_git(
        &bob,
        "Bob",
        "2026-11-25T10:00:00Z",
        &["switch", "-q", &branch],
    );
    let reviewed = fs::read_to_string(bob.join(&pm)).unwrap().replace(
        "## Trigger\n",
        "## Trigger\n\nBob: the deploy of payments 1.42 set it off.\n",
    );
    fs::write(bob.join(&pm), reviewed).unwrap();
    run_git(
        &bob,
        "Bob",
        "2026-11-25T10:00:00Z",
        &["commit", "-q", "-am", "Review: name the trigger"],
    );
    run_git(&bob, "Bob", "2026-11-25T10:00:00Z", &["push", "-q"]);
    let bobs = run_git(&bob, "Bob", T_MERGE, &["rev-parse", "HEAD"]);

    // The author edits again: on top of the reviewer's commit.
    let t_edit = "2026-11-25T11:00:00Z";
    edit_postmortem(
        &one,
        "Alice",
        t_edit,
        &id,
        "sed -i 's/^## Detection$/## Detection\\n\\nAlice: the p99 alert fired at 10:12./'",
    );
    git(&one, &["merge-base", "--is-ancestor", bobs.trim(), &branch]);
    let both = file_at(&one, &branch, &pm).unwrap();
    assert!(
        both.contains("Bob: the deploy") && both.contains("Alice: the p99"),
        "{both}"
    );
    let review = inc(&one, t_edit, &["postmortem", "review", &id, "--push"]);
    assert!(review.contains("pushed"), "{review}");
    let again = inc(&one, t_edit, &["postmortem", "review", &id, "--push"]);
    assert!(again.contains("is up to date"), "{again}");

    // Until the merge, main never held a draft, here or on the remote.
    assert_eq!(git(&one, &["log", "--format=%H", "main", "--", &pm]), "");
    assert_eq!(git(&remote, &["log", "--format=%H", "main", "--", &pm]), "");

    // The reviewer merges with plain git.
    run_git(&bob, "Bob", T_MERGE, &["switch", "-q", "main"]);
    run_git(&bob, "Bob", T_MERGE, &["fetch", "-q", "origin"]);
    run_git(
        &bob,
        "Bob",
        T_MERGE,
        &["merge", "-q", "--ff-only", "origin/main"],
    );
    merge_no_ff(&bob, "Bob", T_MERGE, &format!("origin/{branch}"));
    let merge_commit = run_git(&bob, "Bob", T_MERGE, &["rev-parse", "HEAD"])
        .trim()
        .to_string();
    run_git(&bob, "Bob", T_MERGE, &["push", "-q", "origin", "main"]);

    git(&one, &["reset", "-q"]);
    fs::remove_file(one.join("staged.txt")).unwrap();
    pull_main(&one, "Alice", T_CLOSE);
    let json = show_json(&one, T_CLOSE, &id);
    assert_eq!(json["status"], "postmortem");
    assert_eq!(json["postmortem"]["status"], "published");
    assert_eq!(
        json["postmortem"]["published_in_commit"].as_str(),
        Some(merge_commit.as_str())
    );
    assert_eq!(
        instant(&json["milestones"]["postmortem_published"]),
        instant(&T_MERGE.into())
    );
    // The answer is remembered; without that file it is found again.
    let cache = one.join(".git/incident/publications-v1");
    assert!(cache.exists());
    fs::write(&cache, "garbage\n").unwrap();
    assert_eq!(
        show_json(&one, T_CLOSE, &id)["postmortem"],
        json["postmortem"]
    );
    fs::remove_file(&cache).unwrap();
    assert_eq!(
        show_json(&one, T_CLOSE, &id)["postmortem"],
        json["postmortem"]
    );

    let closed = inc(&one, T_CLOSE, &["close", &id]);
    assert!(closed.contains("postmortem → closed"), "{closed}");
    let published = fs::read_to_string(one.join(&pm)).unwrap();
    assert!(
        published.contains("Bob: the deploy of payments 1.42"),
        "{published}"
    );
    assert!(published.contains("Alice: the p99 alert"), "{published}");
    assert_only_fast_forwards(&remote, &branch);
    assert_only_fast_forwards(&remote, "main");

    // After publication the review branch may go; nothing depends on it.
    git(&one, &["push", "-q", "origin", "--delete", &branch]);
    git(&one, &["branch", "-q", "-D", &branch]);
    let json = show_json(&one, T_CLOSE, &id);
    assert_eq!(json["status"], "closed");
    assert_eq!(json["postmortem"]["status"], "published");
    assert_eq!(
        instant(&json["milestones"]["postmortem_published"]),
        instant(&T_MERGE.into())
    );
    assert!(git(&one, &["status", "--porcelain"]).contains("?? untracked.txt"));
    git(&one, &["fsck", "--no-progress"]);
}

#[derive(Clone, Copy)]
enum Merge {
    Squash,
    Rebase,
}

/// Review, then publish by a squash or a rebase merge made with plain git;
/// show, close and the report agree on when it was published.
fn publish_by(kind: Merge) {
    let root = TempDir::new().unwrap();
    let (one, remote, id, folder) = shared_repo(root.path(), "SEV2");
    let pm = format!("{folder}/postmortem.md");
    let branch = format!("postmortem/{id}");
    edit_postmortem(&one, "Alice", T_LATER, &id, FILL_IN);
    inc(&one, T_LATER, &["postmortem", "review", &id, "--push"]);

    let bob = clone_as(root.path(), &remote, "bob", "Bob", T_MERGE);
    fs::write(bob.join("deploy.txt"), "1.43\n").unwrap();
    run_git(&bob, "Bob", "2026-11-26T15:00:00Z", &["add", "deploy.txt"]);
    run_git(
        &bob,
        "Bob",
        "2026-11-26T15:00:00Z",
        &["commit", "-q", "-m", "Unrelated work"],
    );
    match kind {
        Merge::Squash => {
            run_git(
                &bob,
                "Bob",
                T_MERGE,
                &["merge", "-q", "--squash", &format!("origin/{branch}")],
            );
            run_git(
                &bob,
                "Bob",
                T_MERGE,
                &["commit", "-q", "-m", "Postmortem (#12)"],
            );
        }
        Merge::Rebase => {
            run_git(
                &bob,
                "Bob",
                T_MERGE,
                &["switch", "-q", "-c", "pr", &format!("origin/{branch}")],
            );
            run_git(&bob, "Bob", T_MERGE, &["rebase", "-q", "main"]);
            run_git(&bob, "Bob", T_MERGE, &["switch", "-q", "main"]);
            run_git(&bob, "Bob", T_MERGE, &["merge", "-q", "--ff-only", "pr"]);
        }
    }
    run_git(&bob, "Bob", T_MERGE, &["push", "-q", "origin", "main"]);
    let first_parents = run_git(
        &bob,
        "Bob",
        T_MERGE,
        &["rev-list", "--first-parent", "main"],
    );

    pull_main(&one, "Alice", T_CLOSE);
    let json = show_json(&one, T_CLOSE, &id);
    assert_eq!(json["postmortem"]["status"], "published", "{json}");
    let commit = json["postmortem"]["published_in_commit"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        first_parents.contains(&commit),
        "{commit} not on main's first-parent line"
    );
    if let Merge::Squash = kind {
        assert_eq!(first_parents.lines().next(), Some(commit.as_str()));
    }
    assert_eq!(
        instant(&json["milestones"]["postmortem_published"]),
        instant(&T_MERGE.into())
    );
    // The same answer from git's commit-graph (which `git gc` writes), under
    // commits newer than the graph, with and without the cache.
    let unrelated = |n: usize| {
        fs::write(one.join("notes.txt"), format!("{n}\n")).unwrap();
        run_git(&one, "Alice", T_CLOSE, &["add", "notes.txt"]);
        run_git(&one, "Alice", T_CLOSE, &["commit", "-q", "-m", "Notes"]);
    };
    (0..5).for_each(unrelated);
    run_git(
        &one,
        "Alice",
        T_CLOSE,
        &["commit-graph", "write", "--reachable"],
    );
    assert!(one.join(".git/objects/info/commit-graph").is_file());
    (5..7).for_each(unrelated);
    fs::remove_file(one.join(".git/incident/publications-v1")).unwrap();
    for _ in 0..2 {
        let again = show_json(&one, T_CLOSE, &id);
        assert_eq!(again["postmortem"]["published_in_commit"], commit.as_str());
        assert_eq!(
            again["milestones"]["postmortem_published"],
            json["milestones"]["postmortem_published"]
        );
    }
    // The report: resolved 11-24 12:00 → published 11-26 15:30, before and
    // after close records the milestone.
    let lead = |dir: &Path| {
        let report: serde_json::Value = serde_json::from_str(&inc(
            dir,
            T_CLOSE,
            &["report", "--since", "2026-11-23", "--format", "json"],
        ))
        .unwrap();
        report["metrics"]["postmortem_lead_time"].clone()
    };
    let before = lead(&one);
    assert_eq!(before["n"], 1, "{before}");
    assert_eq!(before["median_seconds"], 185_400, "{before}");
    inc(&one, T_CLOSE, &["close", &id]);
    assert_eq!(lead(&one), before);
    assert!(
        fs::read_to_string(one.join(&pm))
            .unwrap()
            .contains("by hand")
    );
    assert_only_fast_forwards(&remote, &branch);
    assert_only_fast_forwards(&remote, "main");
}

#[test]
fn a_squash_merge_publishes_the_postmortem() {
    publish_by(Merge::Squash);
}

#[test]
fn a_rebase_merge_publishes_the_postmortem() {
    publish_by(Merge::Rebase);
}

#[test]
fn two_clones_edit_the_postmortem_on_the_branch() {
    let root = TempDir::new().unwrap();
    let (one, two, remote, id, pm, branch) = in_review(root.path());

    // Both write at once, neither having seen the other's text.
    edit_postmortem(
        &one,
        "Alice",
        T_LATER,
        &id,
        "sed -i 's/^> TODO: Two or three sentences.*/Alice: checkout was slow for two hours./'",
    );
    // Bob has never had the branch: the tool fetches it.
    edit_postmortem(
        &two,
        "Bob",
        T_LATER,
        &id,
        "sed -i 's/^> TODO: The underlying causes.*/Bob: the pool was too small./'",
    );
    inc(&two, T_LATER, &["postmortem", "review", &id, "--push"]);
    let pushed = inc(&one, T_LATER, &["postmortem", "review", &id, "--push"]);
    assert!(pushed.contains("pushed"), "{pushed}");

    run_git(&two, "Bob", T_LATER, &["fetch", "-q", "origin"]);
    let merged = file_at(&two, &format!("origin/{branch}"), &pm).unwrap();
    assert!(merged.contains("Alice: checkout was slow"), "{merged}");
    assert!(merged.contains("Bob: the pool was too small"), "{merged}");
    let parents = run_git(
        &two,
        "Bob",
        T_LATER,
        &["log", "--format=%P", &format!("origin/{branch}")],
    );
    assert!(
        parents.lines().any(|p| p.split(' ').count() == 2),
        "{parents}"
    );

    // Bob's next edit starts from the combined text.
    edit_postmortem(
        &two,
        "Bob",
        T_CLOSE,
        &id,
        "sed -i 's/^> TODO: The change or event.*/Bob: deploy 1.42./'",
    );
    inc(&two, T_CLOSE, &["postmortem", "review", &id, "--push"]);
    let last = file_at(&two, &branch, &pm).unwrap();
    for line in [
        "Alice: checkout was slow",
        "Bob: the pool",
        "Bob: deploy 1.42.",
    ] {
        assert!(last.contains(line), "{line} not in {last}");
    }
    assert_only_fast_forwards(&remote, &branch);
    git(&one, &["fsck", "--no-progress"]);
    git(&two, &["fsck", "--no-progress"]);
}

#[test]
fn an_edit_is_merged_with_what_was_pushed_while_the_editor_was_open_and_never_lost() {
    let root = TempDir::new().unwrap();
    let (one, two, _remote, id, pm, branch) = in_review(root.path());
    let bob_commits = |find: &str, line: &str| {
        let file = two.join(&pm);
        let text = fs::read_to_string(&file).unwrap();
        let start = text.find(find).unwrap();
        let end = start + text[start..].find('\n').unwrap();
        fs::write(&file, format!("{}{line}{}", &text[..start], &text[end..])).unwrap();
        run_git(&two, "Bob", T_LATER, &["commit", "-q", "-am", line]);
    };
    run_git(&two, "Bob", T_LATER, &["switch", "-q", &branch]);
    bob_commits("> TODO: Two or three sentences", "Bob: a summary.");
    // The editor is open while Bob pushes: different lines merge.
    let script = root.path().join("editor.sh");
    let push_then = |sed: &str| {
        fs::write(
            &script,
            format!(
                "#!/bin/sh\ngit -C {} push -q origin {branch} || exit 9\nsed -i '{sed}' \"$1\"\n",
                two.display()
            ),
        )
        .unwrap();
    };
    push_then("s/^> TODO: Who and what was affected.*/Alice: the impact./");
    let editor = format!("sh {}", script.display());
    let out = edit(
        &one,
        "Alice",
        T_LATER,
        &editor,
        &["postmortem", &id, "--edit"],
    );
    let stderr = String::from_utf8_lossy(&ok_output(out)).into_owned();
    assert!(stderr.contains("were merged"), "{stderr}");
    let text = file_at(&one, &branch, &pm).unwrap();
    assert!(
        text.contains("Bob: a summary.") && text.contains("Alice: the impact."),
        "{text}"
    );

    // The same line: nothing is committed, and what Alice typed is kept.
    inc(&one, T_LATER, &["postmortem", "review", &id, "--push"]);
    run_git(&two, "Bob", T_LATER, &["pull", "-q", "--no-rebase"]);
    bob_commits("> TODO: The change or event", "Bob: the trigger.");
    push_then("s/^> TODO: The change or event.*/Alice: the trigger./");
    let refs_before = git(&one, &["rev-parse", &branch]);
    let state_before = git(&one, &["status", "--porcelain"]);
    let err = fails(edit(
        &one,
        "Alice",
        T_LATER,
        &editor,
        &["postmortem", &id, "--edit"],
    ));
    assert!(err.contains("the same lines of"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    let kept = err
        .split("your text is kept in ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no kept file named in {err}"));
    let kept = kept.trim_end_matches(['.', ';']);
    assert!(
        fs::read_to_string(kept)
            .unwrap()
            .contains("Alice: the trigger.")
    );
    assert!(
        err.contains(&format!("git pull --no-rebase origin {branch}")),
        "{err}"
    );
    assert_eq!(git(&one, &["rev-parse", &branch]), refs_before);
    assert_eq!(git(&one, &["status", "--porcelain"]), state_before);
}

#[test]
fn same_line_changes_stop_review_with_nothing_changed_and_the_hint_combines_them() {
    let root = TempDir::new().unwrap();
    let (one, two, remote, id, pm, branch) = in_review(root.path());
    let summary = |who: &str| {
        format!("sed -i 's/^> TODO: Two or three sentences.*/{who} wrote the summary./'")
    };
    ok(edit(
        &one,
        "Alice",
        T_LATER,
        &summary("Alice"),
        &["postmortem", &id, "--edit"],
    ));
    ok(edit(
        &two,
        "Bob",
        T_LATER,
        &summary("Bob"),
        &["postmortem", &id, "--edit"],
    ));
    inc(&two, T_LATER, &["postmortem", "review", &id, "--push"]);
    let remote_before = git(&remote, &["rev-parse", &branch]);

    fs::write(one.join("mine.txt"), "work in progress\n").unwrap();
    let state = |dir: &Path| {
        format!(
            "{}{}{}",
            git(dir, &["status", "--porcelain", "--untracked-files=all"]),
            git(dir, &["ls-files", "--stage"]),
            git(dir, &["for-each-ref", "refs/heads"])
        )
    };
    let before = state(&one);
    let err = fails_with(&one, T_LATER, &["postmortem", "review", &id, "--push"]);
    assert!(
        err.contains(&format!(
            "the same lines of {pm} were changed on {branch} in this clone and on origin; nothing was changed"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("`git pull --no-rebase origin {branch}`")),
        "{err}"
    );
    assert_eq!(state(&one), before);
    assert_eq!(git(&remote, &["rev-parse", &branch]), remote_before);

    // What the hint says, by hand, then review works again.
    git(&one, &["switch", "-q", &branch]);
    let mut cmd = Command::new("git");
    base_env(&mut cmd, "Alice", T_LATER);
    let pulled = cmd
        .current_dir(&one)
        .args(["pull", "-q", "--no-rebase", "origin", &branch])
        .output()
        .unwrap();
    assert!(!pulled.status.success(), "the pull stops at the conflict");
    let text = fs::read_to_string(one.join(&pm)).unwrap();
    let start = text.find("<<<<<<<").unwrap();
    let end =
        text.find(">>>>>>>").unwrap() + text[text.find(">>>>>>>").unwrap()..].find('\n').unwrap();
    let fixed = format!(
        "{}Alice and Bob wrote the summary.{}",
        &text[..start],
        &text[end..]
    );
    fs::write(one.join(&pm), fixed).unwrap();
    run_git(
        &one,
        "Alice",
        T_LATER,
        &["commit", "-q", "-am", "Combine the summaries"],
    );
    run_git(&one, "Alice", T_LATER, &["push", "-q", "origin", &branch]);
    git(&one, &["switch", "-q", "-"]);
    let review = inc(&one, T_LATER, &["postmortem", "review", &id, "--push"]);
    assert!(review.contains("is up to date"), "{review}");
    assert!(
        file_at(&one, &branch, &pm)
            .unwrap()
            .contains("Alice and Bob wrote the summary.")
    );
    assert_only_fast_forwards(&remote, &branch);
}

#[test]
fn two_incidents_in_review_and_a_late_note_recorded_on_main() {
    let root = TempDir::new().unwrap();
    let (one, remote, first, first_folder) = shared_repo(root.path(), "SEV2");
    let declared = inc(
        &one,
        T_DECLARE,
        &[
            "declare",
            "Login errors",
            "-s",
            "SEV3",
            "--started-at",
            T_DECLARE,
            "--format",
            "json",
        ],
    );
    let json: serde_json::Value = serde_json::from_str(&declared).unwrap();
    let second = json["id"].as_str().unwrap().to_string();
    inc(
        &one,
        T_RESOLVE,
        &[
            "resolve",
            &second,
            "--resolution",
            "restarted the auth pods",
        ],
    );
    git(&one, &["push", "-q", "origin", "main"]);
    for id in [&first, &second] {
        edit_postmortem(&one, "Alice", T_LATER, id, FILL_IN);
        inc(&one, T_LATER, &["postmortem", "review", id, "--push"]);
    }
    // Late news, recorded on main while both are in review.
    inc(
        &one,
        "2026-11-25T10:00:00Z",
        &[
            "update",
            &first,
            "-m",
            "a customer reported failed payments at 11:50",
        ],
    );
    git(&one, &["push", "-q", "origin", "main"]);
    inc(
        &one,
        "2026-11-25T10:05:00Z",
        &["postmortem", &first, "--refresh"],
    );
    inc(
        &one,
        "2026-11-25T10:05:00Z",
        &["postmortem", "review", &first, "--push"],
    );
    let pm = format!("{first_folder}/postmortem.md");
    let text = file_at(&one, &format!("postmortem/{first}"), &pm).unwrap();
    assert!(
        text.contains("a customer reported failed payments at 11:50"),
        "{text}"
    );
    assert!(text.contains("by hand"), "{text}");

    let bob = clone_as(root.path(), &remote, "bob", "Bob", T_MERGE);
    for id in [&first, &second] {
        merge_no_ff(&bob, "Bob", T_MERGE, &format!("origin/postmortem/{id}"));
    }
    run_git(&bob, "Bob", T_MERGE, &["push", "-q", "origin", "main"]);
    pull_main(&one, "Alice", T_CLOSE);
    for id in [&first, &second] {
        assert_eq!(
            show_json(&one, T_CLOSE, id)["postmortem"]["status"],
            "published"
        );
        inc(&one, T_CLOSE, &["close", id]);
    }
    let notes = inc(&one, T_CLOSE, &["timeline", &first]);
    assert!(
        notes.contains("a customer reported failed payments"),
        "{notes}"
    );
    assert_only_fast_forwards(&remote, "main");
}

#[test]
fn check_names_file_and_line_for_each_problem_on_the_review_branch() {
    let root = TempDir::new().unwrap();
    let (dir, id, folder) = resolved_repo(root.path(), "repo", "SEV2");
    let path = dir.join(&folder).join("postmortem.md");
    let relative = format!("{folder}/postmortem.md");
    let branch = format!("postmortem/{id}");

    // Prompts everywhere at first; checked from main, the branch's text.
    let out = fails_with(&dir, T_LATER, &["postmortem", "check", &id]);
    let draft = file_at(&dir, &branch, &relative).unwrap();
    let summary_line = draft
        .lines()
        .position(|l| l.starts_with("> TODO: Two or three sentences"))
        .unwrap()
        + 1;
    assert!(
        out.contains(&format!(
            "{relative}:{summary_line}: error: section 'Summary' still holds its prompt"
        )),
        "{out}"
    );

    // Action items are recorded on main: one without an owner, one written
    // by hand without a due date.
    inc(&dir, T_LATER, &["action", "add", &id, "Add a canary stage"]);
    let actions_dir = dir.join(&folder).join("actions");
    fs::write(
        actions_dir.join("zzzzz.toml"),
        "version = 1\ntext = \"Document the rollback\"\nowner = \"carol\"\ncreated_at = 2026-11-25T09:30:00Z\nauthor = \"Carol\"\n",
    )
    .unwrap();
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "Hand-written action item"]);
    let canary = fs::read_dir(&actions_dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".toml") && n != "zzzzz.toml")
        .unwrap();
    let canary_text_line = line_of(&actions_dir.join(&canary), "text =");

    // The author prefers git: on the review branch, fill it in but drop the
    // Trigger section, leave the Summary prompt, add a placeholder and a
    // phrase that blames a person.
    git(&dir, &["switch", "-q", &branch]);
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

    // On the review branch, the check sees the action items main has.
    let out = fails_with(&dir, T_LATER, &["postmortem", "check", "--all"]);
    let summary_line = line_of(&path, "> TODO: Two or three sentences");
    let detection_line = line_of(&path, "human error");
    let actions_line = line_of(&path, "BEGIN GENERATED actions");
    for expected in [
        format!("{relative}:{summary_line}: error: section 'Summary' still holds its prompt"),
        format!("{relative}:{detection_line}: error: template placeholder 'TBD' left in place"),
        format!("{relative}:{detection_line}: warning: \"human error\" assigns blame to a person"),
        format!("{relative}:{actions_line}: error: the action items block is out of date"),
        format!(
            "{folder}/actions/{canary}:{canary_text_line}: error: action item {id}/{} (#1) has no owner",
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

    let unchanged = incident_as(
        &dir,
        "Alice",
        T_LATER,
        &["postmortem", "check", "--changed-since", "HEAD"],
    );
    assert!(String::from_utf8_lossy(&ok_output(unchanged)).contains("checked 0 postmortems"));
    let changed = fails_with(
        &dir,
        T_LATER,
        &["postmortem", "check", "--changed-since", "main"],
    );
    assert!(changed.contains("checked 1 postmortem: "), "{changed}");
    let bad_rev = fails_with(
        &dir,
        T_LATER,
        &["postmortem", "check", "--changed-since", "nope"],
    );
    assert!(bad_rev.contains("cannot read revision 'nope'"), "{bad_rev}");
    let github = fails_with(
        &dir,
        T_LATER,
        &["postmortem", "check", &id, "--format", "github"],
    );
    assert!(
        github.contains(&format!("::error file={relative},line={summary_line},title=postmortem check::section 'Summary' still holds its prompt")),
        "{github}"
    );
    assert!(
        github.contains(&format!("::warning file={relative},line={detection_line},")),
        "{github}"
    );

    // Back on main: close refuses and says why; --force --reason records it.
    git(&dir, &["switch", "-q", "main"]);
    let refused = fails_with(&dir, T_LATER, &["close", &id]);
    assert!(refused.contains("that nobody has reviewed"), "{refused}");
    assert!(refused.contains("does not pass"), "{refused}");
    let head = git(&dir, &["rev-parse", "HEAD"]);
    let usage = fails_with(&dir, T_LATER, &["close", &id, "--force"]);
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

    // Fixed on the branch, items completed on main, refreshed: only the
    // warning remains, and the exit code is 0.
    git(&dir, &["switch", "-q", &branch]);
    let current = fs::read_to_string(&path).unwrap();
    let prompt = current
        .lines()
        .find(|l| l.starts_with("> TODO:"))
        .unwrap()
        .to_string();
    let fixed = current
        .replace(&prompt, "Checkout was slow for 2 hours.")
        .replace("Details TBD.", "")
        .replace(
            "## Detection",
            "## Trigger\n\nA deploy of payments 1.42.\n\n## Detection",
        );
    fs::write(&path, fixed).unwrap();
    git(&dir, &["commit", "-q", "-am", "Finish the postmortem"]);
    git(&dir, &["switch", "-q", "main"]);
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
    inc(&dir, T_CLOSE, &["postmortem", &id, "--refresh"]);
    let text = ok(incident_as(
        &dir,
        "Alice",
        T_CLOSE,
        &["postmortem", "check", &id],
    ));
    assert!(text.contains("warning: \"human error\""), "{text}");
    assert!(!text.contains("error:"), "{text}");
    assert!(!path.exists());
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
    let bad = fails_with(
        &one,
        T_CLOSE,
        &["action", "drop", &format!("{id}/9"), "--reason", "x"],
    );
    assert!(bad.contains("has no action item '9'"), "{bad}");
    let bad = fails_with(
        &one,
        T_CLOSE,
        &["action", "add", &id, "x", "--due", "next week"],
    );
    assert!(bad.contains("not a date like 2026-12-15"), "{bad}");
    git(&one, &["fsck", "--no-progress"]);
}

#[test]
fn templates_can_be_chosen_overridden_and_report_errors_with_file_and_line() {
    let root = TempDir::new().unwrap();
    // SEV4 needs no postmortem: resolve writes none and records none due.
    let (dir, id, folder) = resolved_repo(root.path(), "repo", "SEV4");
    let relative = format!("{folder}/postmortem.md");
    let branch = format!("postmortem/{id}");
    assert_eq!(git(&dir, &["branch", "--list", "postmortem/*"]), "");
    assert!(
        show_json(&dir, T_LATER, &id)
            .get("postmortem_due")
            .is_none()
    );

    let templates = dir.join("incidents/templates");
    fs::create_dir_all(&templates).unwrap();
    fs::write(
        templates.join("postmortem-broken.md"),
        "# {{ incident.title }}\n\n{{ incident.no_such_field }}\n",
    )
    .unwrap();
    let refs = git(&dir, &["for-each-ref"]);
    let err = fails_with(&dir, T_LATER, &["postmortem", &id, "--template", "broken"]);
    assert!(
        err.contains("incidents/templates/postmortem-broken.md:3: template:"),
        "{err}"
    );
    let err = fails_with(&dir, T_LATER, &["postmortem", &id, "--template", "nope"]);
    assert!(err.contains("unknown template 'nope'"), "{err}");
    assert!(err.contains("sre, lightweight, pagerduty, broken"), "{err}");
    // A template that loops without end stops, quickly and clearly.
    fs::write(
        templates.join("postmortem-loop.md"),
        "# {{ incident.title }}\n{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}\n",
    )
    .unwrap();
    let started = std::time::Instant::now();
    let err = fails_with(&dir, T_LATER, &["postmortem", &id, "--template", "loop"]);
    assert!(
        err.contains("incidents/templates/postmortem-loop.md"),
        "{err}"
    );
    assert!(err.contains("more work than a postmortem needs"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(git(&dir, &["for-each-ref"]), refs);

    // Any incident's postmortem goes to its review branch.
    inc(
        &dir,
        T_LATER,
        &["postmortem", &id, "--template", "pagerduty"],
    );
    assert!(!dir.join(&relative).exists());
    let text = file_at(&dir, &branch, &relative).unwrap();
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
    fs::remove_file(templates.join("postmortem-broken.md")).unwrap();
    fs::remove_file(templates.join("postmortem-loop.md")).unwrap();
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "Our templates"]);
    let (other, other_id, other_folder) = resolved_repo(root.path(), "other", "SEV3");
    let other_text = file_at(
        &other,
        &format!("postmortem/{other_id}"),
        &format!("{other_folder}/postmortem.md"),
    )
    .unwrap();
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
    let branch2 = format!("postmortem/{id2}");
    let relative2 = format!("{folder2}/postmortem.md");
    let own = file_at(&dir2, &branch2, &relative2).unwrap();
    assert!(
        own.contains("# Our own: Checkout latency above 2s"),
        "{own}"
    );

    // --edit runs $EDITOR on the branch's text before its one commit there.
    edit_postmortem(
        &dir2,
        "Alice",
        T_LATER,
        &id2,
        "sed -i 's/> TODO: tell it/The cache expired at once./'",
    );
    let edited = file_at(&dir2, &branch2, &relative2).unwrap();
    assert!(edited.contains("The cache expired at once."), "{edited}");
    assert_eq!(git(&dir2, &["status", "--porcelain"]), "");
    let subject = git(&dir2, &["log", "-1", "--format=%s", &branch2]);
    assert!(
        subject.starts_with("Edit postmortem for incident"),
        "{subject}"
    );
    // A failing editor commits nothing and keeps what was typed.
    let tip = git(&dir2, &["rev-parse", &branch2]);
    let err = fails(edit(
        &dir2,
        "Alice",
        T_LATER,
        "sh -c 'echo typed >> \"$1\"; exit 3' sh",
        &["postmortem", &id2, "--edit"],
    ));
    assert!(err.contains("nothing was committed"), "{err}");
    let kept = err
        .split("your text is kept in ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap_or_else(|| panic!("{err}"));
    assert!(fs::read_to_string(kept.trim()).unwrap().contains("typed"));
    assert_eq!(git(&dir2, &["rev-parse", &branch2]), tip);

    // While the review branch is checked out, it is the person's working
    // copy: incident leaves it to git.
    git(&dir2, &["switch", "-q", &branch2]);
    let before = git(&dir2, &["status", "--porcelain"]);
    let err = String::from_utf8_lossy(
        &edit(
            &dir2,
            "Alice",
            T_LATER,
            "true",
            &["postmortem", &id2, "--edit"],
        )
        .stderr,
    )
    .into_owned();
    assert!(err.contains("is your current branch"), "{err}");
    assert_eq!(git(&dir2, &["rev-parse", &branch2]), tip);
    assert_eq!(git(&dir2, &["status", "--porcelain"]), before);
    git(&dir2, &["switch", "-q", "main"]);

    // A severity that needs no postmortem closes straight from resolved,
    // once nobody's draft is left to strand (the refusal says how).
    let refused = fails_with(&dir2, T_CLOSE, &["close", &id2]);
    assert!(
        refused.contains(&format!("`git branch -D {branch2}`")),
        "{refused}"
    );
    git(&dir2, &["branch", "-q", "-D", &branch2]);
    let closed = inc(&dir2, T_CLOSE, &["close", &id2]);
    assert!(closed.contains("resolved → closed"), "{closed}");
}

#[test]
fn what_the_tool_writes_it_can_read_and_text_cannot_inject_markdown() {
    let root = TempDir::new().unwrap();
    let (dir, id, folder) = resolved_repo(root.path(), "repo", "SEV4");
    let relative = format!("{folder}/postmortem.md");
    let branch = format!("postmortem/{id}");
    // A title with a newline and a heading, and markers, in it.
    inc(
        &dir,
        T_LATER,
        &[
            "update",
            &id,
            "--title",
            "Disk full\n# Injected heading <!-- END GENERATED facts -->",
        ],
    );
    // A timeline far longer than a file incident reads.
    let long = "x".repeat(100_000);
    let mut args = vec!["update", id.as_str()];
    for _ in 0..12 {
        args.extend(["-m", long.as_str()]);
    }
    inc(&dir, T_LATER, &args);
    inc(&dir, T_LATER, &["postmortem", &id]);
    let text = file_at(&dir, &branch, &relative).unwrap();
    assert!(text.len() <= 1024 * 1024, "{} bytes", text.len());
    assert!(text.contains("events left out to keep this file under 1024 KiB"));
    assert!(
        !text.lines().any(|l| l.starts_with("# Injected")),
        "a heading was injected"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("# Postmortem: Disk full \\# Injected heading &lt;!--"))
    );
    let markers = text
        .lines()
        .filter(|l| l.starts_with("<!-- END GENERATED facts"));
    assert_eq!(markers.count(), 1, "{}", &text[..2000]);
    // check, refresh and close read it.
    let checked = fails_with(&dir, T_LATER, &["postmortem", "check", &id]);
    assert!(checked.contains("still holds its prompt"), "{checked}");
    assert!(!checked.contains("bytes incident reads"), "{checked}");
    inc(&dir, T_LATER, &["postmortem", &id, "--refresh"]);
    let refused = fails_with(&dir, T_CLOSE, &["close", &id]);
    assert!(refused.contains("is a draft on branch"), "{refused}");
    let closed = inc(
        &dir,
        T_CLOSE,
        &["close", &id, "--force", "--reason", "kept as a draft"],
    );
    assert!(closed.contains("resolved → closed"), "{closed}");
}

#[test]
fn review_prints_honest_pull_request_addresses() {
    let root = TempDir::new().unwrap();
    let (dir, id, _) = resolved_repo(root.path(), "repo", "SEV1");
    let branch = format!("postmortem/{id}");

    // No remote: say so, and how to add one.
    let out = inc(&dir, T_LATER, &["postmortem", "review", &id]);
    assert!(
        out.contains("add one with `git remote add origin URL`"),
        "{out}"
    );
    assert!(!out.contains("https://"), "{out}");
    let refs = git(&dir, &["for-each-ref", "refs/remotes"]);
    let err = fails_with(&dir, T_LATER, &["postmortem", "review", &id, "--push"]);
    assert!(err.contains("git remote add origin URL"), "{err}");

    // A GitHub remote (served here by a local repository whose default
    // branch is `trunk`, still empty).
    let served = bare_remote_named(root.path(), "served", "trunk");
    git(
        &dir,
        &["remote", "add", "origin", "git@github.com:acme/ops.git"],
    );
    git(
        &dir,
        &[
            "config",
            &format!("url.{}.insteadOf", served.display()),
            "git@github.com:acme/ops.git",
        ],
    );
    let err = fails_with(
        &dir,
        T_LATER,
        &[
            "postmortem",
            "review",
            &id,
            "--push",
            "--remote",
            "upstream",
        ],
    );
    assert!(
        err.contains("no remote named 'upstream' to push to; remotes: origin"),
        "{err}"
    );
    assert_eq!(git(&dir, &["for-each-ref", "refs/remotes"]), refs);

    // Not pushed: no address for a branch the remote does not have.
    let out = inc(&dir, T_LATER, &["postmortem", "review", &id]);
    assert!(
        out.contains(&format!("{branch} is not on origin yet")),
        "{out}"
    );
    assert!(!out.contains("https://"), "{out}");
    let again = inc(&dir, T_LATER, &["postmortem", "review", &id]);
    assert!(again.contains("is up to date"), "{again}");

    // Pushed, but the remote has no default branch yet.
    let out = inc(&dir, T_LATER, &["postmortem", "review", &id, "--push"]);
    assert!(out.contains("has no default branch yet"), "{out}");
    assert!(!out.contains("https://"), "{out}");

    // Against the remote's default branch, as it names it.
    git(&dir, &["push", "-q", "origin", "main:trunk"]);
    let out = inc(&dir, T_LATER, &["postmortem", "review", &id, "--push"]);
    assert!(
        out.contains(&format!(
            "open the pull request: https://github.com/acme/ops/compare/trunk...{branch}?expand=1"
        )),
        "{out}"
    );
    let json: serde_json::Value = serde_json::from_str(&inc(
        &dir,
        T_LATER,
        &["postmortem", "review", &id, "--format", "json"],
    ))
    .unwrap();
    assert_eq!(json["target"], "trunk");
    assert_eq!(json["on_remote"], true);

    // Reviewing from the review branch itself is refused.
    git(&dir, &["switch", "-q", &branch]);
    let err = fails_with(&dir, T_LATER, &["postmortem", "review", &id]);
    assert!(err.contains("you are on the review branch"), "{err}");
    assert_only_fast_forwards(&served, &branch);
}

/// A bare remote made by plain `git init --bare` (no `-b`, no
/// `init.defaultBranch`): its HEAD names `master`, which is never pushed.
fn plain_bare_remote(root: &Path, name: &str) -> PathBuf {
    let remote = root.join(format!("{name}.git"));
    git(root, &["init", "-q", "--bare", remote.to_str().unwrap()]);
    assert_eq!(
        fs::read_to_string(remote.join("HEAD")).unwrap().trim(),
        "ref: refs/heads/master"
    );
    remote
}

fn review_target(dir: &Path, id: &str) -> serde_json::Value {
    let json: serde_json::Value = serde_json::from_str(&inc(
        dir,
        T_LATER,
        &["postmortem", "review", id, "--format", "json"],
    ))
    .unwrap();
    json["target"].clone()
}

#[test]
fn review_targets_the_tracked_branch_when_the_remote_head_names_none() {
    let root = TempDir::new().unwrap();

    // The quick start: `git init --bare`, then `git push -u origin main`.
    let remote = plain_bare_remote(root.path(), "plain");
    let (dir, id, _) = resolved_repo(root.path(), "repo", "SEV2");
    git(&dir, &["remote", "add", "origin", remote.to_str().unwrap()]);
    git(&dir, &["push", "-q", "-u", "origin", "main"]);
    let out = inc(&dir, T_LATER, &["postmortem", "review", &id, "--push"]);
    assert!(
        out.contains(&format!(
            "open a pull request from postmortem/{id} into main on origin"
        )),
        "{out}"
    );
    assert!(!out.contains("no default branch"), "{out}");

    // A branch named neither main nor master: the one it pushes to.
    let remote = plain_bare_remote(root.path(), "other");
    let (dir, id, _) = resolved_repo(root.path(), "trunk-repo", "SEV2");
    git(&dir, &["branch", "-m", "main", "trunk"]);
    git(&dir, &["remote", "add", "origin", remote.to_str().unwrap()]);
    git(&dir, &["push", "-q", "-u", "origin", "trunk"]);
    let out = inc(&dir, T_LATER, &["postmortem", "review", &id, "--push"]);
    assert!(
        out.contains(&format!(
            "open a pull request from postmortem/{id} into trunk on origin"
        )),
        "{out}"
    );
    assert_eq!(review_target(&dir, &id), "trunk");

    // Tracking a branch of another name there: the tracked one.
    git(&dir, &["push", "-q", "-u", "origin", "trunk:production"]);
    assert_eq!(
        git(&dir, &["rev-parse", "--abbrev-ref", "trunk@{upstream}"]).trim(),
        "origin/production"
    );
    assert_eq!(review_target(&dir, &id), "production");
}

/// A commit of an unrelated file on the current branch at `now`.
fn unrelated_commit(dir: &Path, name: &str, now: &str) {
    fs::write(dir.join(name), "work\n").unwrap();
    run_git(dir, "Alice", now, &["add", name]);
    run_git(dir, "Alice", now, &["commit", "-q", "-m", "Unrelated work"]);
}

#[test]
fn a_shallow_clone_never_takes_its_edge_for_the_publication() {
    let root = TempDir::new().unwrap();
    let (one, _remote, id, _folder) = shared_repo(root.path(), "SEV2");
    edit_postmortem(&one, "Alice", T_LATER, &id, FILL_IN);
    inc(&one, T_LATER, &["postmortem", "review", &id]);
    merge_no_ff(&one, "Alice", T_MERGE, &format!("postmortem/{id}"));
    for (n, day) in ["01", "02", "03"].iter().enumerate() {
        unrelated_commit(
            &one,
            &format!("work{n}.txt"),
            &format!("2026-12-{day}T10:00:00Z"),
        );
    }
    let url = format!("file://{}", one.display());
    let clone = |name: &str, depth: &str| {
        run_git(
            root.path(),
            "Bob",
            T_CLOSE,
            &["clone", "-q", "--depth", depth, &url, name],
        );
        root.path().join(name)
    };

    // Deep enough: the walk finds the merge before the clone's edge.
    let deep = clone("deep", "5");
    assert_eq!(
        git(&deep, &["rev-parse", "--is-shallow-repository"]).trim(),
        "true"
    );
    let json = show_json(&deep, T_CLOSE, &id);
    assert_eq!(
        instant(&json["milestones"]["postmortem_published"]),
        instant(&T_MERGE.into())
    );

    // Too shallow: the postmortem is there at the edge (2026-12-02), so
    // when it came is unknown, and show says how to learn it.
    let shallow = clone("shallow", "2");
    let text = inc(&shallow, T_CLOSE, &["show", &id]);
    assert!(
        text.contains("at a time this clone cannot tell") && text.contains("git fetch --unshallow"),
        "{text}"
    );
    assert!(!text.contains("2026-12-02"), "{text}");
    let json = show_json(&shallow, T_CLOSE, &id);
    assert_eq!(json["postmortem"]["status"], "published");
    assert!(json["postmortem"]["published_at"].is_null(), "{json}");
    assert!(
        json["postmortem"]["published_in_commit"].is_null(),
        "{json}"
    );
    assert!(
        json["postmortem"]["published_at_unknown"]
            .as_str()
            .is_some_and(|why| why.contains("shallow clone")),
        "{json}"
    );
    assert!(json["milestones"].get("postmortem_published").is_none());
    // Nothing learned from a truncated walk is remembered.
    assert!(!shallow.join(".git/incident/publications-v1").exists());

    // close refuses rather than record a made-up milestone.
    let head = git(&shallow, &["rev-parse", "HEAD"]);
    let refused = fails_with(&shallow, T_CLOSE, &["close", &id]);
    assert!(
        refused.contains("this clone cannot tell when its postmortem was published")
            && refused.contains("git fetch --unshallow"),
        "{refused}"
    );
    assert_eq!(git(&shallow, &["rev-parse", "HEAD"]), head);

    // Forced, it closes without the milestone, and says so.
    let out = incident_as(
        &shallow,
        "Bob",
        T_CLOSE,
        &[
            "close",
            &id,
            "--force",
            "--reason",
            "closed from a CI checkout",
        ],
    );
    let stderr = String::from_utf8_lossy(&ok_output(out)).into_owned();
    assert!(
        stderr.contains("postmortem_published was not recorded"),
        "{stderr}"
    );
    let json = show_json(&shallow, T_CLOSE, &id);
    assert_eq!(json["status"], "closed");
    assert!(json["milestones"].get("postmortem_published").is_none());
    let closing = git(&shallow, &["show", "--format=", "-p", "HEAD"]);
    assert!(!closing.contains("postmortem_published ="), "{closing}");

    // With the whole history, the true time.
    run_git(&shallow, "Bob", T_CLOSE, &["fetch", "-q", "--unshallow"]);
    let json = show_json(&shallow, T_CLOSE, &id);
    assert_eq!(
        instant(&json["milestones"]["postmortem_published"]),
        instant(&T_MERGE.into())
    );
}

/// Reviewed and pushed, an action item added on main during the review,
/// then Bob squash-merges the review without a refresh: (one, remote, bob,
/// id, postmortem path, review branch).
fn published_without_its_action_item(
    root: &Path,
) -> (PathBuf, PathBuf, PathBuf, String, String, String) {
    let (one, remote, id, folder) = shared_repo(root, "SEV2");
    let branch = format!("postmortem/{id}");
    edit_postmortem(&one, "Alice", T_LATER, &id, FILL_IN);
    inc(&one, T_LATER, &["postmortem", "review", &id, "--push"]);
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
        ],
    );
    git(&one, &["push", "-q", "origin", "main"]);
    let bob = clone_as(root, &remote, "bob", "Bob", T_MERGE);
    run_git(
        &bob,
        "Bob",
        T_MERGE,
        &["merge", "-q", "--squash", &format!("origin/{branch}")],
    );
    run_git(
        &bob,
        "Bob",
        T_MERGE,
        &["commit", "-q", "-m", "Postmortem (#7)"],
    );
    run_git(&bob, "Bob", T_MERGE, &["push", "-q", "origin", "main"]);
    pull_main(&one, "Alice", T_MERGE);
    (
        one,
        remote,
        bob,
        id,
        format!("{folder}/postmortem.md"),
        branch,
    )
}

#[test]
fn a_published_postmortem_must_list_its_action_items_and_a_new_review_fixes_it() {
    let root = TempDir::new().unwrap();
    let (one, remote, bob, id, pm, branch) = published_without_its_action_item(root.path());
    assert!(
        fs::read_to_string(one.join(&pm))
            .unwrap()
            .contains("No action items yet")
    );

    // check on main and close both catch it, and say what fixes it.
    let block = line_of(&one.join(&pm), "BEGIN GENERATED actions");
    let checked = fails_with(&one, T_CLOSE, &["postmortem", "check", &id]);
    assert!(
        checked.contains(&format!(
            "{pm}:{block}: error: the published action items block does not list the incident's action items as they stood when this text reached main"
        )),
        "{checked}"
    );
    assert!(
        checked.contains(&format!("incident postmortem {id} --refresh")),
        "{checked}"
    );
    let refused = fails_with(&one, T_CLOSE, &["close", &id]);
    assert!(
        refused.contains("does not pass `incident postmortem check` (1 error)")
            && refused.contains("--refresh"),
        "{refused}"
    );

    // The refresh starts a new review from main; the old branch (which the
    // remote still has) is in its history, so the push is a fast-forward.
    let old_tip = git(&one, &["rev-parse", &format!("origin/{branch}")]);
    let main_before = git(&one, &["rev-parse", "main"]);
    inc(&one, T_CLOSE, &["postmortem", &id, "--refresh"]);
    assert_eq!(git(&one, &["rev-parse", "main"]), main_before);
    git(
        &one,
        &["merge-base", "--is-ancestor", old_tip.trim(), &branch],
    );
    git(&one, &["merge-base", "--is-ancestor", "main", &branch]);
    // The pull request shows the fix and nothing already published.
    let numstat = git(&one, &["diff", "--numstat", &format!("main...{branch}")]);
    assert_eq!(numstat, format!("3\t1\t{pm}\n"));
    let review = inc(&one, T_CLOSE, &["postmortem", "review", &id, "--push"]);
    assert!(
        review.contains(&format!("pushed {branch} to origin")),
        "{review}"
    );
    git(&one, &["fetch", "-q", "origin"]);
    let changed = git(
        &one,
        &[
            "diff",
            "--name-only",
            &format!("origin/main...origin/{branch}"),
        ],
    );
    assert_eq!(
        changed,
        format!("{pm}\n"),
        "no status event: the review was before"
    );
    assert_eq!(show_json(&one, T_CLOSE, &id)["status"], "postmortem");
    let again = fails_with(&one, T_CLOSE, &["postmortem", &id]);
    assert!(again.contains("is published already"), "{again}");

    // Bob squash-merges the new round; the check passes, and an item done
    // after publication does not make the published list wrong.
    let t_fix = "2026-11-27T08:00:00Z";
    run_git(&bob, "Bob", t_fix, &["fetch", "-q", "origin"]);
    run_git(
        &bob,
        "Bob",
        t_fix,
        &["pull", "-q", "--no-rebase", "origin", "main"],
    );
    run_git(
        &bob,
        "Bob",
        t_fix,
        &["merge", "-q", "--squash", &format!("origin/{branch}")],
    );
    run_git(
        &bob,
        "Bob",
        t_fix,
        &[
            "commit",
            "-q",
            "-m",
            "Postmortem: list the action items (#8)",
        ],
    );
    run_git(&bob, "Bob", t_fix, &["push", "-q", "origin", "main"]);
    pull_main(&one, "Alice", T_CLOSE);
    let published = fs::read_to_string(one.join(&pm)).unwrap();
    assert!(
        published.contains("| Alert on queue depth | bob | 2026-12-15 |"),
        "{published}"
    );
    inc(&one, T_CLOSE, &["postmortem", "check", &id]);
    inc(&one, T_CLOSE, &["action", "done", &format!("{id}/1")]);
    inc(&one, T_CLOSE, &["postmortem", "check", &id]);
    inc(&one, T_CLOSE, &["postmortem", "check", "--all"]);
    // A second review round published it again: the milestone is the first.
    let closed = inc(&one, T_CLOSE, &["close", &id]);
    assert!(closed.contains("postmortem → closed"), "{closed}");
    assert_eq!(
        instant(&show_json(&one, T_CLOSE, &id)["milestones"]["postmortem_published"]),
        instant(&T_MERGE.into())
    );
    assert_only_fast_forwards(&remote, &branch);
    assert_only_fast_forwards(&remote, "main");
}

#[test]
fn a_review_branch_with_changes_from_after_the_merge_is_not_built_on() {
    let root = TempDir::new().unwrap();
    let (one, _remote, bob, id, pm, branch) = published_without_its_action_item(root.path());
    // Bob pushes a late review commit to the old branch after the merge.
    run_git(&bob, "Bob", T_CLOSE, &["switch", "-q", &branch]);
    let late = fs::read_to_string(bob.join(&pm)).unwrap().replace(
        "## Trigger\n",
        "## Trigger\n\nBob, too late: deploy 1.42.\n",
    );
    fs::write(bob.join(&pm), late).unwrap();
    run_git(
        &bob,
        "Bob",
        T_CLOSE,
        &["commit", "-q", "-am", "Late review"],
    );
    run_git(&bob, "Bob", T_CLOSE, &["push", "-q"]);

    let refs = |dir: &Path| git(dir, &["for-each-ref", "refs/heads"]);
    let before = (refs(&one), one_state(&one));
    let refused = fails_with(&one, T_CLOSE, &["postmortem", &id, "--refresh"]);
    for expected in [
        "holds changes your branch does not have",
        "nothing was changed",
        &format!("`git branch -D {branch}`"),
        &format!("`git push origin --delete {branch}`"),
    ] {
        assert!(refused.contains(expected), "{expected} not in {refused}");
    }
    assert_eq!((refs(&one), one_state(&one)), before);

    // As the message says: without the old branch, a new review from main.
    git(&one, &["push", "-q", "origin", "--delete", &branch]);
    git(&one, &["branch", "-q", "-D", &branch]);
    inc(&one, T_CLOSE, &["postmortem", &id, "--refresh"]);
    assert_eq!(
        git(&one, &["rev-parse", &format!("{branch}^")]),
        git(&one, &["rev-parse", "main"])
    );
    let numstat = git(&one, &["diff", "--numstat", &format!("main...{branch}")]);
    assert_eq!(numstat, format!("3\t1\t{pm}\n"));
}

#[test]
fn a_late_commit_on_a_review_merged_by_a_merge_commit_is_not_built_on() {
    let root = TempDir::new().unwrap();
    let (one, remote, id, folder) = shared_repo(root.path(), "SEV2");
    let (branch, pm) = (
        format!("postmortem/{id}"),
        format!("{folder}/postmortem.md"),
    );
    edit_postmortem(&one, "Alice", T_LATER, &id, FILL_IN);
    inc(&one, T_LATER, &["postmortem", "review", &id, "--push"]);
    merge_no_ff(&one, "Alice", T_MERGE, &format!("origin/{branch}"));
    git(&one, &["push", "-q", "origin", "main"]);
    // Bob pushes a review commit to the merged branch afterwards.
    let bob = clone_as(root.path(), &remote, "bob", "Bob", T_CLOSE);
    run_git(&bob, "Bob", T_CLOSE, &["switch", "-q", &branch]);
    let late = fs::read_to_string(bob.join(&pm)).unwrap().replace(
        "## Trigger\n",
        "## Trigger\n\nBob, too late: deploy 1.42.\n",
    );
    fs::write(bob.join(&pm), late).unwrap();
    run_git(
        &bob,
        "Bob",
        T_CLOSE,
        &["commit", "-q", "-am", "Late review"],
    );
    run_git(&bob, "Bob", T_CLOSE, &["push", "-q"]);

    let refs = |dir: &Path| git(dir, &["for-each-ref", "refs/heads"]);
    let before = (refs(&one), one_state(&one));
    let refused = fails_with(&one, T_CLOSE, &["postmortem", &id, "--refresh"]);
    assert!(
        refused.contains("holds changes your branch does not have"),
        "{refused}"
    );
    assert_eq!((refs(&one), one_state(&one)), before);
}

fn one_state(dir: &Path) -> String {
    format!(
        "{}{}",
        git(dir, &["status", "--porcelain", "--untracked-files=all"]),
        git(dir, &["rev-parse", "HEAD"])
    )
}

#[test]
fn a_postmortem_nobody_needed_keeps_the_incident_open_until_published_or_forced() {
    let root = TempDir::new().unwrap();
    let (one, id, _folder) = resolved_repo(root.path(), "one", "SEV4");
    let branch = format!("postmortem/{id}");
    inc(&one, T_LATER, &["postmortem", &id]);
    let head = git(&one, &["rev-parse", "HEAD"]);
    let refused = fails_with(&one, T_CLOSE, &["close", &id]);
    for expected in [
        format!("its postmortem is a draft on branch {branch} that nobody has reviewed"),
        "SEV4 incidents need none".to_string(),
        format!("`git branch -D {branch}`"),
        "--force --reason".to_string(),
    ] {
        assert!(refused.contains(&expected), "{expected} not in {refused}");
    }
    assert_eq!(git(&one, &["rev-parse", "HEAD"]), head);

    // Forced, it closes; the review still works for the closed incident,
    // without a status change, and merging it publishes it.
    let out = incident_as(
        &one,
        "Alice",
        T_CLOSE,
        &["close", &id, "--force", "--reason", "review later"],
    );
    let stderr = String::from_utf8_lossy(&ok_output(out)).into_owned();
    assert!(
        stderr.contains("closed anyway: its postmortem is a draft"),
        "{stderr}"
    );
    edit_postmortem(&one, "Alice", T_CLOSE, &id, FILL_IN);
    let review = inc(&one, T_CLOSE, &["postmortem", "review", &id]);
    assert!(
        review.contains("postmortem in review on branch"),
        "{review}"
    );
    let changed = git(&one, &["diff", "--name-only", &format!("main...{branch}")]);
    assert!(!changed.contains("-status.toml"), "{changed}");
    merge_no_ff(&one, "Alice", T_CLOSE, &branch);
    let json = show_json(&one, T_CLOSE, &id);
    assert_eq!(json["status"], "closed");
    assert_eq!(json["postmortem"]["status"], "published");

    // Without a draft, an incident that needs none closes directly.
    let (two, other, _) = resolved_repo(root.path(), "two", "SEV4");
    inc(&two, T_CLOSE, &["close", &other]);

    // The way to drop it names the remote the config pushes reviews to.
    let (four, fourth, _) = resolved_repo(root.path(), "four", "SEV4");
    let config = four.join("incidents/config.toml");
    let text = fs::read_to_string(&config).unwrap();
    assert!(text.contains("\nremote = \"origin\"\n"), "{text}");
    fs::write(
        &config,
        text.replace("\nremote = \"origin\"\n", "\nremote = \"upstream\"\n"),
    )
    .unwrap();
    git(&four, &["commit", "-q", "-am", "Reviews go to upstream"]);
    inc(&four, T_LATER, &["postmortem", &fourth]);
    let refused = fails_with(&four, T_CLOSE, &["close", &fourth]);
    assert!(
        refused.contains(&format!("`git push upstream --delete postmortem/{fourth}`")),
        "{refused}"
    );

    // Reviewed and merged before closing: close works, and records when.
    let (three, third, _) = resolved_repo(root.path(), "three", "SEV4");
    inc(&three, T_LATER, &["postmortem", &third]);
    edit_postmortem(&three, "Alice", T_LATER, &third, FILL_IN);
    inc(&three, T_LATER, &["postmortem", "review", &third]);
    merge_no_ff(&three, "Alice", T_MERGE, &format!("postmortem/{third}"));
    let closed = inc(&three, T_CLOSE, &["close", &third]);
    assert!(closed.contains("postmortem → closed"), "{closed}");
    assert_eq!(
        instant(&show_json(&three, T_CLOSE, &third)["milestones"]["postmortem_published"]),
        instant(&T_MERGE.into())
    );
}

#[test]
fn the_override_note_names_what_was_overridden_and_quiet_edits_print_nothing() {
    let root = TempDir::new().unwrap();
    let (one, id, folder) = resolved_repo(root.path(), "one", "SEV2");
    let out = edit(
        &one,
        "Alice",
        T_LATER,
        "sed -i 's/^> TODO: Two or three sentences.*/Checkout was slow./'",
        &["-q", "postmortem", &id, "--edit"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let written = file_at(
        &one,
        &format!("postmortem/{id}"),
        &format!("{folder}/postmortem.md"),
    );
    assert!(written.unwrap().contains("Checkout was slow."));

    inc(
        &one,
        T_CLOSE,
        &["close", &id, "--force", "--reason", "tracked elsewhere"],
    );
    let json = show_json(&one, T_CLOSE, &id);
    let notes: Vec<&str> = json["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "note")
        .filter_map(|e| e["text"].as_str())
        .collect();
    let note = notes
        .iter()
        .find(|n| n.starts_with("closed with --force although"))
        .unwrap_or_else(|| panic!("no override note in {notes:?}"));
    assert!(
        note.contains("its postmortem does not pass `incident postmortem check` (")
            && note.contains(" errors)"),
        "{note}"
    );
    assert!(!note.trim_end().ends_with(':'), "{note}");
}
