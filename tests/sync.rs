//! `incident sync` with several clones of a local bare remote, checked
//! against what real `git` sees, and against plain `git pull`.

mod support;

use std::path::{Path, PathBuf};

use support::{Repo, git_in, git_status};

/// A bare remote and clones of it, all in one temporary folder.
struct Team {
    repo: Repo,
    remote: PathBuf,
}

impl Team {
    /// `a` (the Repo's own folder) is initialised and synced to a new bare
    /// remote; `others` are cloned from it.
    fn new(others: &[&str]) -> Team {
        let repo = Repo::init();
        let remote = repo.sibling("remote.git");
        git_in(
            &repo.home(),
            &repo.home(),
            &["init", "-q", "--bare", "-b", "main", "remote.git"],
        );
        repo.git(&[
            "remote",
            "add",
            "origin",
            remote.to_str().expect("utf-8 path"),
        ]);
        let out = repo.ok(&["sync"]);
        assert!(out.contains("does not exist yet"), "{out}");
        let team = Team { repo, remote };
        for name in others {
            team.clone_as(name);
        }
        team
    }

    fn clone_as(&self, name: &str) -> PathBuf {
        let home = self.repo.home();
        git_in(&home, &home, &["clone", "-q", "remote.git", name]);
        home.join(name)
    }

    fn a(&self) -> PathBuf {
        self.repo.path.clone()
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.repo.sibling(name)
    }

    /// Run incident in `dir` at a given time, requiring success.
    fn ok(&self, dir: &Path, now: &str, args: &[&str]) -> String {
        let out = self
            .repo
            .command_in(dir)
            .env("INCIDENT_NOW", now)
            .args(args)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "incident {args:?} in {} failed:\n{}{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// Run incident in `dir`, requiring exit code 1; returns stderr.
    fn fails(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.repo.run_in(dir, args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "incident {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).expect("utf-8")
    }

    fn git(&self, dir: &Path, args: &[&str]) -> String {
        git_in(dir, &self.repo.home(), args)
    }

    fn show(&self, dir: &Path, id: &str) -> serde_json::Value {
        serde_json::from_str(&self.ok(dir, support::NOW, &["--format", "json", "show", id]))
            .expect("json")
    }

    fn timeline(&self, dir: &Path, id: &str) -> serde_json::Value {
        serde_json::from_str(&self.ok(dir, support::NOW, &["--format", "json", "timeline", id]))
            .expect("json")
    }

    /// HEAD, status and index of a clone, and the remote's branch.
    fn state(&self, dir: &Path) -> String {
        format!(
            "HEAD {}STATUS\n{}INDEX\n{}REMOTE {}",
            self.git(dir, &["rev-parse", "HEAD"]),
            self.git(dir, &["status", "--porcelain=v1", "--untracked-files=all"]),
            self.git(dir, &["ls-files", "--stage"]),
            self.git(&self.remote, &["rev-parse", "main"]),
        )
    }

    fn assert_healthy(&self, dir: &Path) {
        self.git(dir, &["fsck", "--no-dangling"]);
        assert_eq!(
            self.git(dir, &["status", "--porcelain"]),
            "",
            "clean in {}",
            dir.display()
        );
    }

    fn write_commit(&self, dir: &Path, path: &str, content: &str) {
        std::fs::write(dir.join(path), content).expect("write");
        self.git(dir, &["add", "--", path]);
        self.git(dir, &["commit", "-q", "-m", &format!("edit {path}")]);
    }
}

fn declare(team: &Team, dir: &Path, now: &str, title: &str) -> String {
    let out = team.ok(
        dir,
        now,
        &[
            "--format",
            "json",
            "declare",
            title,
            "--severity",
            "SEV2",
            "--no-input",
        ],
    );
    let value: serde_json::Value = serde_json::from_str(&out).expect("json");
    value["id"].as_str().expect("id").to_string()
}

fn notes(timeline: &serde_json::Value) -> Vec<String> {
    let mut found: Vec<String> = timeline
        .as_array()
        .expect("array")
        .iter()
        .filter(|e| e["kind"] == "note")
        .map(|e| e["text"].as_str().expect("text").to_string())
        .collect();
    found.sort();
    found
}

#[test]
fn scenario_1_two_clones_add_events_offline() {
    let team = Team::new(&[]);
    let (a, now) = (team.a(), support::NOW);
    let id = declare(&team, &a, now, "Checkout latency");
    team.ok(&a, now, &["sync"]);
    let b = team.clone_as("b");
    team.ok(&a, "2026-11-24T10:05:00Z", &["update", &id, "-m", "from a"]);
    let a_commit = team.git(&a, &["rev-parse", "HEAD"]);
    team.ok(
        &b,
        "2026-11-24T10:06:00Z",
        &["update", &id, "-m", "from b", "--severity", "SEV1"],
    );
    let b_commit = team.git(&b, &["rev-parse", "HEAD"]);
    team.ok(&a, now, &["sync"]);
    let out = team.ok(&b, now, &["sync"]);
    assert!(
        out.contains("merged origin/main into main: 1 commit received, 1 file updated"),
        "{out}"
    );
    let out = team.ok(&a, now, &["sync"]);
    assert!(out.contains("fast-forward main to origin/main"), "{out}");
    // One merge commit; both original commits kept as they were.
    let head = team.git(&a, &["rev-parse", "HEAD"]);
    assert_eq!(head, team.git(&b, &["rev-parse", "HEAD"]));
    assert_eq!(head, team.git(&team.remote, &["rev-parse", "main"]));
    let parents = team.git(&a, &["log", "-1", "--format=%P"]);
    assert_eq!(parents.split_whitespace().count(), 2, "{parents}");
    for commit in [&a_commit, &b_commit] {
        team.git(&a, &["merge-base", "--is-ancestor", commit.trim(), "HEAD"]);
    }
    for dir in [&a, &b] {
        assert_eq!(notes(&team.timeline(dir, &id)), ["from a", "from b"]);
        assert_eq!(team.show(dir, &id)["severity"], "SEV1");
        team.assert_healthy(dir);
        team.ok(dir, now, &["check"]);
    }
    assert_eq!(team.show(&a, &id), team.show(&b, &id));
    // Nothing new: up to date.
    let out = team.ok(&b, now, &["sync"]);
    assert!(out.contains("up to date"), "{out}");
}

#[test]
fn scenario_2_two_clones_declare_in_the_same_second() {
    let team = Team::new(&["b"]);
    let (a, b, now) = (team.a(), team.dir("b"), "2026-11-24T10:07:00Z");
    let one = declare(&team, &a, now, "Same second");
    let two = declare(&team, &b, now, "Same second");
    assert_ne!(one, two);
    team.ok(&a, now, &["sync"]);
    team.ok(&b, now, &["sync"]);
    team.ok(&a, now, &["sync"]);
    for dir in [&a, &b] {
        let list: serde_json::Value =
            serde_json::from_str(&team.ok(dir, now, &["--format", "json", "list", "--all"]))
                .expect("json");
        let mut ids: Vec<&str> = list
            .as_array()
            .expect("list")
            .iter()
            .map(|i| i["id"].as_str().expect("id"))
            .collect();
        ids.sort();
        let mut expected = vec![one.as_str(), two.as_str()];
        expected.sort();
        assert_eq!(ids, expected);
        team.assert_healthy(dir);
    }
}

/// A resolves an incident while B, not knowing, keeps working on it
/// (identified, a note, SEV1); neither has synced since. The incident's id
/// and B's folder.
fn resolved_here_worked_on_there(team: &Team) -> (String, PathBuf) {
    let (a, now) = (team.a(), support::NOW);
    let id = declare(team, &a, now, "Queue backlog");
    team.ok(&a, now, &["sync"]);
    let b = team.clone_as("b");
    team.ok(
        &a,
        "2026-11-24T10:05:00Z",
        &["resolve", &id, "--resolution", "drained"],
    );
    team.ok(
        &b,
        "2026-11-24T10:10:00Z",
        &[
            "update",
            &id,
            "--status",
            "identified",
            "-m",
            "consumer stuck",
            "--severity",
            "SEV1",
        ],
    );
    (id, b)
}

/// `cp -a`: a copy of a clone, as a second person's machine.
fn copy_dir(from: &Path, to: &Path) {
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp");
    assert!(status.success());
}

/// A resolves while B, not knowing, keeps working: same state on both
/// sides after sync, nothing dropped, and `incident check` flags it.
#[test]
fn scenario_3_and_5_contradicting_clones_and_plain_git_merge() {
    let team = Team::new(&[]);
    let (a, now) = (team.a(), support::NOW);
    let (id, b) = resolved_here_worked_on_there(&team);
    team.ok(&a, now, &["sync"]);
    // Scenario 5: a copy of B merges with plain `git pull` (a merge, as a
    // forge's merge button makes) instead of incident sync.
    let b_git = team.dir("b-git");
    copy_dir(&b, &b_git);
    team.ok(&b, now, &["sync"]);
    team.git(
        &b_git,
        &["pull", "-q", "--no-rebase", "--no-edit", "origin", "main"],
    );
    team.ok(&a, now, &["sync"]);
    // The incident's state; not the postmortem's, whose draft branch is
    // local to the clone that resolved until it is pushed.
    let state = |dir: &std::path::Path| {
        let mut shown = team.show(dir, &id);
        shown.as_object_mut().expect("object").remove("postmortem");
        shown
    };
    let shown = state(&a);
    // The replay rule: events in order of stated time; the last status wins.
    assert_eq!(shown["status"], "identified");
    assert_eq!(shown["severity"], "SEV1");
    for dir in [&a, &b, &b_git] {
        assert_eq!(state(dir), shown, "same state in {}", dir.display());
        let timeline = team.timeline(dir, &id);
        assert_eq!(notes(&timeline), ["consumer stuck"]);
        let kinds: Vec<&str> = timeline
            .as_array()
            .expect("a")
            .iter()
            .map(|e| e["kind"].as_str().expect("k"))
            .collect();
        assert_eq!(
            kinds.iter().filter(|k| **k == "status").count(),
            2,
            "{kinds:?}"
        );
        team.assert_healthy(dir);
        let out = team.repo.run_in(dir, &["check"]);
        assert_eq!(out.status.code(), Some(1));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("error: contradiction: status went from 'resolved' to 'identified'"),
            "{stdout}"
        );
        assert!(stdout.contains("-status.toml:"), "{stdout}");
    }
}

#[test]
fn scenario_4_and_5_postmortem_paragraphs_merge_same_lines_stop() {
    let team = Team::new(&[]);
    let (a, now) = (team.a(), support::NOW);
    let id = declare(&team, &a, now, "Disk full");
    let folder = team.show(&a, &id)["folder"]
        .as_str()
        .expect("folder")
        .to_string();
    let postmortem = format!("{folder}/postmortem.md");
    team.write_commit(
        &a,
        &postmortem,
        "# Summary\n\nDisk filled.\n\n# Impact\n\nUploads failed.\n\n# Lessons\n\nMonitor disks.\n",
    );
    team.ok(&a, now, &["sync"]);
    let b = team.clone_as("b");
    team.write_commit(&a, &postmortem, "# Summary\n\nThe log disk filled up.\n\n# Impact\n\nUploads failed.\n\n# Lessons\n\nMonitor disks.\n");
    team.write_commit(&b, &postmortem, "# Summary\n\nDisk filled.\n\n# Impact\n\nUploads failed.\n\n# Lessons\n\nAlert at 80% disk usage.\n");
    let b_git = team.dir("b-git");
    copy_dir(&b, &b_git);
    team.ok(&a, now, &["sync"]);
    team.ok(&b, now, &["sync"]);
    team.git(
        &b_git,
        &["pull", "-q", "--no-rebase", "--no-edit", "origin", "main"],
    );
    let merged = "# Summary\n\nThe log disk filled up.\n\n# Impact\n\nUploads failed.\n\n# Lessons\n\nAlert at 80% disk usage.\n";
    for dir in [&b, &b_git] {
        assert_eq!(
            std::fs::read_to_string(dir.join(&postmortem)).expect("read"),
            merged
        );
        team.assert_healthy(dir);
    }
    team.ok(&a, now, &["sync"]);
    assert_eq!(
        std::fs::read_to_string(a.join(&postmortem)).expect("read"),
        merged
    );

    // The same lines in both clones: sync stops and changes nothing.
    team.write_commit(
        &a,
        &postmortem,
        &merged.replace(
            "The log disk filled up.",
            "The disk of the log host filled.",
        ),
    );
    team.write_commit(
        &b,
        &postmortem,
        &merged.replace("The log disk filled up.", "/var/log reached 100%."),
    );
    team.ok(&a, now, &["sync"]);
    let before = team.state(&b);
    let stderr = team.fails(&b, &["sync"]);
    assert!(stderr.contains("changed on the same lines"), "{stderr}");
    assert!(stderr.contains(&postmortem), "{stderr}");
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert!(stderr.contains("git pull"), "{stderr}");
    assert_eq!(team.state(&b), before);
    team.git(&b, &["fsck", "--no-dangling"]);
    // Dry run says the same, without failing.
    let out = team.ok(&b, now, &["sync", "--dry-run"]);
    assert!(
        out.contains("would stop") && out.contains(&postmortem),
        "{out}"
    );
    assert_eq!(team.state(&b), before);
    // Plain git agrees that this is a conflict.
    let out = git_status(
        &b,
        &team.repo.home(),
        &["pull", "--no-rebase", "--no-edit", "origin", "main"],
    );
    assert!(!out.status.success());
}

#[test]
fn the_users_uncommitted_work_survives_or_sync_refuses() {
    let team = Team::new(&[]);
    let (a, now) = (team.a(), support::NOW);
    let id = declare(&team, &a, now, "Login errors");
    team.write_commit(&a, "notes.txt", "one\n");
    team.write_commit(&a, "staged.txt", "two\n");
    team.ok(&a, now, &["sync"]);
    let b = team.clone_as("b");
    team.ok(&a, "2026-11-24T10:05:00Z", &["update", &id, "-m", "from a"]);
    team.write_commit(&a, "shared.txt", "from a\n");
    team.ok(&a, now, &["sync"]);
    team.ok(&b, "2026-11-24T10:06:00Z", &["update", &id, "-m", "from b"]);
    // B's uncommitted work on unrelated files: modified, staged, untracked.
    std::fs::write(b.join("notes.txt"), "one\nchanged\n").expect("write");
    std::fs::write(b.join("staged.txt"), "two\nstaged\n").expect("write");
    team.git(&b, &["add", "staged.txt"]);
    std::fs::write(b.join("scratch.txt"), "mine\n").expect("write");
    let status = team.git(&b, &["status", "--porcelain"]);
    let out = team.ok(&b, now, &["sync"]);
    assert!(out.contains("merged"), "{out}");
    assert_eq!(team.git(&b, &["status", "--porcelain"]), status);
    assert_eq!(
        std::fs::read_to_string(b.join("shared.txt")).expect("read"),
        "from a\n"
    );
    assert_eq!(notes(&team.timeline(&b, &id)), ["from a", "from b"]);
    assert_eq!(
        team.git(&b, &["diff", "--cached", "--name-only"]),
        "staged.txt\n"
    );

    // Now A changes notes.txt, which B has modified: sync refuses.
    team.write_commit(&a, "notes.txt", "one\nfrom a\n");
    team.ok(&a, now, &["sync"]);
    let before = team.state(&b);
    let stderr = team.fails(&b, &["sync"]);
    assert!(
        stderr.contains("would change files you have modified"),
        "{stderr}"
    );
    assert!(stderr.contains("notes.txt"), "{stderr}");
    assert_eq!(team.state(&b), before);
    assert_eq!(
        std::fs::read_to_string(b.join("notes.txt")).expect("read"),
        "one\nchanged\n"
    );
}

#[test]
fn errors_say_what_happened_and_change_nothing() {
    let repo = Repo::init();
    repo.declare(&["Offline", "--severity", "SEV3", "--no-input"]);
    let before = repo.state();
    let stderr = repo.fails(1, &["sync"]);
    assert!(
        stderr.contains("no remote to sync with") && stderr.contains("git remote add origin"),
        "{stderr}"
    );
    let stderr = repo.fails(1, &["sync", "--remote", "upstream"]);
    assert!(stderr.contains("no remote named 'upstream'"), "{stderr}");
    // A remote that is not there (a path) and one that refuses connections
    // (https on a closed local port): the network is down.
    repo.git(&[
        "remote",
        "add",
        "origin",
        repo.sibling("missing.git").to_str().expect("utf-8"),
    ]);
    repo.git(&[
        "remote",
        "add",
        "web",
        "https://127.0.0.1:9/team/incidents.git",
    ]);
    let before_remote = repo.state();
    let stderr = repo.fails(1, &["sync"]);
    assert!(
        stderr.contains("could not fetch from 'origin'")
            && stderr.contains("missing.git does not exist")
            && stderr.contains("nothing was changed")
            && !stderr.contains("protocol"),
        "{stderr}"
    );
    let stderr = repo.fails(1, &["sync", "--remote", "web"]);
    assert!(
        stderr.contains("could not fetch from 'web'") && stderr.contains("network"),
        "{stderr}"
    );
    assert_eq!(repo.state(), before_remote);
    assert_eq!(before.lines().next(), before_remote.lines().next());
    assert!(
        !repo
            .path
            .join(".git/refs/incident")
            .join("sync-push")
            .exists()
    );
}

#[test]
fn dry_run_says_what_would_happen() {
    let team = Team::new(&["b"]);
    let (a, b, now) = (team.a(), team.dir("b"), support::NOW);
    let id = declare(&team, &a, now, "Dry");
    team.ok(&a, now, &["sync"]);
    team.ok(&b, now, &["sync"]);
    team.ok(&a, "2026-11-24T10:05:00Z", &["update", &id, "-m", "a"]);
    team.ok(&a, now, &["sync"]);
    team.ok(&b, "2026-11-24T10:06:00Z", &["update", &id, "-m", "b"]);
    let before = team.state(&b);
    let out = team.ok(&b, now, &["sync", "--dry-run"]);
    assert!(
        out.contains("would merge origin/main into main: 1 commit received"),
        "{out}"
    );
    assert!(out.contains("would push 2 commits"), "{out}");
    assert_eq!(team.state(&b), before);
    let json: serde_json::Value =
        serde_json::from_str(&team.ok(&b, now, &["--format", "json", "sync", "--dry-run"]))
            .expect("json");
    assert_eq!(json["integration"]["kind"], "merge");
    assert_eq!(json["dry_run"], true);
}

/// Four clones sync at the same moment, three times: the pushes race, the
/// losers start over (fetch, merge, push), and every event arrives everywhere.
#[test]
fn concurrent_syncs_from_four_clones_lose_nothing() {
    let team = Team::new(&[]);
    let (a, now) = (team.a(), support::NOW);
    let id = declare(&team, &a, now, "Everyone at once");
    team.ok(&a, now, &["sync"]);
    let clones = [
        a.clone(),
        team.clone_as("b"),
        team.clone_as("c"),
        team.clone_as("d"),
    ];
    let mut expected = Vec::new();
    let mut retries = 0;
    for round in 0..3 {
        for (n, dir) in clones.iter().enumerate() {
            let note = format!("round {round} from clone {n}");
            team.ok(
                dir,
                &format!("2026-11-24T10:{:02}:00Z", 10 + round * 4 + n),
                &["update", &id, "-m", &note],
            );
            expected.push(note);
        }
        let running: Vec<_> = clones
            .iter()
            .map(|dir| {
                team.repo
                    .command_in(dir)
                    .args(["--format", "json", "sync"])
                    .output_async()
            })
            .collect();
        for child in running {
            let out = child.wait_with_output().expect("wait");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
            retries += outcome["attempts"].as_u64().expect("attempts") - 1;
        }
    }
    for _ in 0..2 {
        for dir in &clones {
            team.ok(dir, now, &["sync"]);
        }
    }
    eprintln!("pushes started over {retries} times");
    expected.sort();
    let head = team.git(&a, &["rev-parse", "HEAD"]);
    for dir in &clones {
        assert_eq!(notes(&team.timeline(dir, &id)), expected);
        assert_eq!(team.git(dir, &["rev-parse", "HEAD"]), head);
        team.assert_healthy(dir);
    }
}

trait OutputAsync {
    fn output_async(&mut self) -> std::process::Child;
}

impl OutputAsync for std::process::Command {
    fn output_async(&mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn")
    }
}

/// A remote whose `pre-receive` (or `update`) hook refuses: sync says so
/// with the hook's words, the remote branch stays, nothing changes here;
/// and a hook is never skipped, whatever the transport.
#[test]
fn the_remotes_hooks_refuse_and_sync_reports_the_refusal() {
    let team = Team::new(&[]);
    let (a, now) = (team.a(), support::NOW);
    let id = declare(&team, &a, now, "Hooks");
    team.ok(&a, now, &["sync"]);
    let daemon = GitDaemon::start(&team.repo.home());
    let urls = [
        ("path", team.remote.to_str().expect("utf-8").to_string()),
        ("file", format!("file://{}", team.remote.display())),
        ("git", daemon.url("remote.git")),
    ];
    for (hook, (transport, url)) in ["pre-receive", "update"].iter().cycle().zip(urls) {
        team.git(&a, &["remote", "set-url", "origin", &url]);
        let script = team.remote.join("hooks").join(hook);
        std::fs::write(
            &script,
            format!("#!/bin/sh\necho \"{hook} says: incidents are frozen today\" >&2\nexit 1\n"),
        )
        .expect("hook");
        make_executable(&script);
        team.ok(
            &a,
            "2026-11-24T10:05:00Z",
            &["update", &id, "-m", transport],
        );
        let remote_before = team.git(&team.remote, &["rev-parse", "main"]);
        let before = team.state(&a);
        // Plain git is refused by the same hook.
        let out = git_status(&a, &team.repo.home(), &["push", "origin", "main"]);
        assert!(!out.status.success(), "git push over {transport}");
        let stderr = team.fails(&a, &["sync"]);
        assert!(
            stderr.contains("the push was rejected")
                && stderr.contains(&format!("{hook} says: incidents are frozen today"))
                && stderr.contains("hook declined"),
            "{transport}: {stderr}"
        );
        assert!(!stderr.contains("kept moving"), "{transport}: {stderr}");
        assert_eq!(
            team.git(&team.remote, &["rev-parse", "main"]),
            remote_before
        );
        assert_eq!(team.state(&a), before, "{transport}");
        std::fs::remove_file(&script).expect("remove hook");
        let out = team.ok(&a, now, &["sync"]);
        assert!(out.contains("pushed 1 commit"), "{transport}: {out}");
        assert_eq!(
            team.git(&team.remote, &["rev-parse", "main"]),
            team.git(&a, &["rev-parse", "HEAD"])
        );
    }
}

/// `git daemon` serving (and accepting pushes to) every repository in a
/// folder on a free local port, stopped when dropped.
struct GitDaemon {
    child: std::process::Child,
    port: u16,
}

impl GitDaemon {
    fn start(base: &Path) -> GitDaemon {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut command = std::process::Command::new("git");
        support::base_env(&mut command, base);
        let child = command
            .args(["daemon", "--reuseaddr", "--listen=127.0.0.1"])
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", base.display()))
            .args(["--export-all", "--enable=receive-pack"])
            .arg(base)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("git daemon");
        let daemon = GitDaemon { child, port };
        // Ready once it answers `git ls-remote`.
        for _ in 0..100 {
            let out = git_status(base, base, &["ls-remote", &daemon.url("remote.git")]);
            if out.status.success() {
                return daemon;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("git daemon did not start on port {port}");
    }

    fn url(&self, repo: &str) -> String {
        format!("git://127.0.0.1:{}/{repo}", self.port)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// Another incident repository, or an unrelated project, as the remote:
/// refused as `git pull` refuses, nothing merged, pushed or checked out.
#[test]
fn unrelated_histories_are_refused_as_git_pull_does() {
    let team = Team::new(&[]);
    let (a, now) = (team.a(), support::NOW);
    declare(&team, &a, now, "Ours");
    team.ok(&a, now, &["sync"]);
    let home = team.repo.home();
    // Another team's incident repository, and a project with a README.
    let other = home.join("other");
    std::fs::create_dir(&other).expect("mkdir");
    // (At another moment: at the same one, both init commits are the same.)
    team.ok(&other, "2026-11-20T09:00:00Z", &["init"]);
    declare(&team, &other, now, "Theirs");
    let project = home.join("project");
    git_in(&home, &home, &["init", "-q", "-b", "main", "project"]);
    std::fs::write(project.join("README.md"), "# Another project\n").expect("write");
    team.git(&project, &["add", "README.md"]);
    team.git(&project, &["commit", "-q", "-m", "Start a project"]);
    for (name, dir) in [("other", &other), ("project", &project)] {
        team.git(&a, &["remote", "add", name, dir.to_str().expect("utf-8")]);
        let theirs_before = team.git(dir, &["rev-parse", "main"]);
        let before = team.state(&a);
        for args in [
            vec!["sync", "--remote", name],
            vec!["sync", "--remote", name, "--dry-run"],
        ] {
            let stderr = team.fails(&a, &args);
            assert!(
                stderr.contains("no commit in common")
                    && stderr.contains("unrelated")
                    && stderr.contains("nothing was changed")
                    && stderr.contains(&format!("git remote set-url {name}"))
                    && stderr.contains("--allow-unrelated-histories"),
                "{stderr}"
            );
            assert_eq!(team.state(&a), before);
            assert_eq!(team.git(dir, &["rev-parse", "main"]), theirs_before);
        }
        assert!(!a.join("README.md").exists());
        // git agrees.
        let out = git_status(
            &a,
            &home,
            &["pull", "--no-rebase", "--no-edit", name, "main"],
        );
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("unrelated histories"));
        assert_eq!(team.state(&a), before);
    }
}

/// A branch with no upstream gets the one it synced with, as `git push -u`
/// gives it, so plain `git push` and `git pull` work afterwards; an
/// upstream that is set stays.
#[test]
fn sync_sets_a_missing_upstream_as_git_push_u_does() {
    let team = Team::new(&[]);
    let (a, now) = (team.a(), support::NOW);
    assert_eq!(
        team.git(&a, &["rev-parse", "--abbrev-ref", "main@{upstream}"]),
        "origin/main\n"
    );
    // A fresh repository pushed by its first sync.
    let repo = Repo::init();
    let remote = repo.sibling("fresh.git");
    git_in(
        &repo.home(),
        &repo.home(),
        &["init", "-q", "--bare", "-b", "main", "fresh.git"],
    );
    repo.git(&["remote", "add", "origin", remote.to_str().expect("utf-8")]);
    let out = repo.ok(&["sync"]);
    assert!(
        out.contains("branch 'main' set up to track 'origin/main'"),
        "{out}"
    );
    let id = repo.declare(&["Upstream", "--severity", "SEV3", "--no-input"]);
    repo.git(&["push", "-q"]);
    assert_eq!(
        git_in(&remote, &repo.home(), &["rev-parse", "main"]),
        repo.git(&["rev-parse", "HEAD"])
    );
    assert!(
        repo.git(&["status", "-sb"])
            .starts_with("## main...origin/main\n")
    );
    let json: serde_json::Value =
        serde_json::from_str(&repo.ok(&["--format", "json", "sync"])).expect("json");
    assert_eq!(json["upstream_set"], serde_json::Value::Null);
    // Synced with another remote: the upstream stays origin's.
    let backup = repo.sibling("backup.git");
    git_in(
        &repo.home(),
        &repo.home(),
        &["init", "-q", "--bare", "-b", "main", "backup.git"],
    );
    repo.git(&["remote", "add", "backup", backup.to_str().expect("utf-8")]);
    repo.ok(&["update", &id, "-m", "to the backup"]);
    let out = repo.ok(&["sync", "--remote", "backup"]);
    assert!(!out.contains("set up to track"), "{out}");
    assert_eq!(
        repo.git(&["rev-parse", "--abbrev-ref", "main@{upstream}"]),
        "origin/main\n"
    );
    let _ = now;
}

/// git's progress on a terminal (standard error), none in a pipe or in CI,
/// and never git's own complaints (an absent branch is sync's to explain).
#[test]
fn progress_shows_on_a_terminal_only() {
    let repo = Repo::init();
    let remote = repo.sibling("remote.git");
    git_in(
        &repo.home(),
        &repo.home(),
        &["init", "-q", "--bare", "-b", "main", "remote.git"],
    );
    repo.git(&["remote", "add", "origin", remote.to_str().expect("utf-8")]);
    // The remote has no branch yet: git's "couldn't find remote ref" stays inside.
    let shown = on_terminal(&repo, None);
    assert!(shown.contains("does not exist yet; creating it"), "{shown}");
    assert!(shown.contains("Writing objects: 100%"), "{shown}");
    assert!(
        !shown.contains("fatal") && !shown.contains("remote ref"),
        "{shown}"
    );
    let id = repo.declare(&["Progress", "--severity", "SEV3", "--no-input"]);
    for ci in [None, Some("true")] {
        repo.ok(&["update", &id, "-m", "more"]);
        let shown = on_terminal(&repo, ci);
        assert!(
            shown.contains("commit to origin/main") || shown.contains("commits to origin/main"),
            "{shown}"
        );
        assert_eq!(
            shown.contains("objects"),
            ci.is_none(),
            "CI={ci:?}: {shown}"
        );
        // A pipe: nothing but the result.
        repo.ok(&["update", &id, "-m", "more"]);
        let out = repo.run(&["sync"]);
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    }
}

/// `incident sync` on a pseudo-terminal (`script`); all it printed.
fn on_terminal(repo: &Repo, ci: Option<&str>) -> String {
    let mut script = std::process::Command::new("script");
    support::base_env(&mut script, &repo.home());
    if let Some(value) = ci {
        script.env("CI", value);
    }
    let out = script
        .current_dir(&repo.path)
        .args([
            "-qec",
            &format!("{} sync", env!("CARGO_BIN_EXE_incident")),
            "/dev/null",
        ])
        .env("INCIDENT_NOW", &repo.now)
        .output()
        .expect("script");
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{shown}");
    shown
}

/// A contradiction left by a merge is an error until someone states the
/// state: `incident update ID --status STATE` as the hint says, the
/// current state included, clears it.
#[test]
fn the_hinted_fix_clears_a_merge_contradiction() {
    let team = Team::new(&[]);
    let (a, now) = (team.a(), support::NOW);
    let (id, b) = resolved_here_worked_on_there(&team);
    team.ok(&a, now, &["sync"]);
    team.ok(&b, now, &["sync"]);
    team.ok(&a, now, &["sync"]);
    let c = team.dir("c");
    copy_dir(&b, &c);
    for dir in [&a, &b, &c] {
        let out = team.repo.run_in(dir, &["check"]);
        assert_eq!(out.status.code(), Some(1));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains(&format!("incident update {id} --status STATE"))
                && stdout.contains("`--status identified` confirms the current one"),
            "{stdout}"
        );
    }
    let before = team.show(&b, &id);
    // In b the current state is the right one: confirm it.
    team.ok(
        &b,
        "2026-11-24T10:20:00Z",
        &["update", &id, "--status", "identified"],
    );
    team.ok(&b, now, &["check"]);
    let after = team.show(&b, &id);
    assert_eq!(after["status"], "identified");
    assert_eq!(
        after["milestones"], before["milestones"],
        "a confirmation moves no milestone"
    );
    // In c it was resolved after all: record that.
    team.ok(
        &c,
        "2026-11-24T10:20:00Z",
        &["update", &id, "--status", "resolved", "--reason", "done"],
    );
    team.ok(&c, now, &["check"]);
    // A confirmation with nothing to confirm is refused as before.
    let stderr = team.fails(&b, &["update", &id, "--status", "identified"]);
    assert!(stderr.contains("already 'identified'"), "{stderr}");
    // Shared, it stays cleared everywhere.
    team.ok(&b, now, &["sync"]);
    team.ok(&a, now, &["sync"]);
    team.ok(&a, now, &["check"]);
}

/// A sync killed while it checks out what it integrated (about 1,500 new
/// event files): the next incident command puts the working tree back as
/// HEAD has it, so neither `update` of that incident nor the next `sync`
/// is blocked, and nothing stray is left for `git status` to show.
#[test]
fn a_sync_killed_during_its_checkout_is_undone_by_the_next_command() {
    let team = Team::new(&[]);
    let (a, now) = (team.a(), support::NOW);
    let id = declare(&team, &a, now, "Many events");
    team.ok(&a, now, &["sync"]);
    let template = team.clone_as("template");
    let folder = team.show(&a, &id)["folder"]
        .as_str()
        .expect("folder")
        .to_string();
    let events = a.join(&folder).join("events");
    std::fs::create_dir_all(&events).expect("mkdir");
    let alphabet = b"0123456789abcdefghjkmnpqrstvwxyz";
    for n in 0..1500usize {
        let name: String = [n / 1024, (n / 32) % 32, n % 32, 7, 7, 7]
            .iter()
            .map(|i| char::from(alphabet[*i % 32]))
            .collect();
        std::fs::write(
            events.join(format!("20261124T100100Z-{name}-note.toml")),
            format!(
                "version = 1\nkind = \"note\"\nat = 2026-11-24T10:01:00Z\nrecorded_at = 2026-11-24T10:01:00Z\nseq = {n}\nauthor = \"Alice Example\"\nauthor_email = \"alice@example.com\"\ntext = \"note {n}\"\n"
            ),
        )
        .expect("write event");
    }
    team.git(&a, &["add", "--", &folder]);
    team.git(&a, &["commit", "-q", "-m", "Import 1,500 notes"]);
    team.ok(&a, now, &["sync"]);
    let remote_head = team.git(&team.remote, &["rev-parse", "main"]);

    let copy = |name: &str| {
        let dir = team.dir(name);
        copy_dir(&template, &dir);
        dir
    };
    let old_head = team.git(&template, &["rev-parse", "HEAD"]);
    let timed = copy("timed");
    let started = std::time::Instant::now();
    team.ok(&timed, now, &["sync"]);
    // Kill after a delay, halving the interval around the checkout: a sync
    // that finished was killed too late, one that changed nothing too early.
    let (mut early, mut late) = (std::time::Duration::ZERO, started.elapsed() * 2);
    let mut hits = 0;
    for run in 0..30 {
        let dir = copy(&format!("run{run}"));
        let mut child = team
            .repo
            .command_in(&dir)
            .arg("sync")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        let delay = (early + late) / 2;
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        let stray = team.git(&dir, &["status", "--porcelain", "--untracked-files=all"]);
        if stray.is_empty() {
            if team.git(&dir, &["rev-parse", "HEAD"]) == old_head {
                early = delay;
            } else {
                late = delay;
            }
            continue;
        }
        hits += 1;
        // The next command, an update of that very incident, recovers.
        team.ok(
            &dir,
            "2026-11-24T10:30:00Z",
            &["update", &id, "-m", "after the crash"],
        );
        assert_eq!(
            team.git(&dir, &["status", "--porcelain", "--untracked-files=all"]),
            "",
            "run {run}: after {stray}"
        );
        assert!(!dir.join(".git/incident-sync-journal").exists());
        team.ok(&dir, now, &["sync"]);
        team.assert_healthy(&dir);
        team.ok(&dir, now, &["check"]);
        team.git(
            &dir,
            &["merge-base", "--is-ancestor", remote_head.trim(), "HEAD"],
        );
        if hits == 2 {
            break;
        }
        // The next kill a little earlier in the checkout.
        late = delay;
    }
    assert!(
        hits > 0,
        "no kill landed in the checkout (between {early:?} and {late:?})"
    );
}

/// A remote added as a relative path is git's: from the top of the working
/// tree, whichever folder sync runs in.
#[test]
fn a_relative_path_remote_works_from_a_subfolder() {
    let repo = Repo::init();
    git_in(
        &repo.home(),
        &repo.home(),
        &["init", "-q", "--bare", "-b", "main", "remote.git"],
    );
    repo.git(&["remote", "add", "origin", "../remote.git"]);
    let out = repo.ok_in(&repo.path.join("incidents"), &["sync"]);
    assert!(out.contains("pushed 1 commit to origin/main"), "{out}");
    repo.git(&["remote", "set-url", "origin", "../gone.git"]);
    let out = repo.run_in(&repo.path.join("incidents"), &["sync"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("../gone.git does not exist"));
}

/// The git that incident runs for the network, and git's hooks, see the
/// user's own environment: an earlier build pointed SSL_CERT_FILE at an
/// empty bundle for itself, which would have broken https remotes.
#[test]
fn git_run_for_the_network_gets_the_users_certificate_settings() {
    let repo = Repo::init();
    let remote = repo.sibling("certs.git");
    git_in(
        &repo.home(),
        &repo.home(),
        &["init", "-q", "--bare", "-b", "main", "certs.git"],
    );
    repo.git(&["remote", "add", "origin", remote.to_str().expect("utf-8")]);
    let seen = repo.sibling("seen-by-pre-push");
    let hook = repo.path.join(".git/hooks/pre-push");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\nprintf '%s' \"${{SSL_CERT_FILE-unset}}\" > '{}'\n",
            seen.display()
        ),
    )
    .expect("hook");
    make_executable(&hook);
    let out = repo
        .command()
        .env("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
        .args(["sync"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(&seen).expect("the pre-push hook ran"),
        "/etc/ssl/certs/ca-certificates.crt"
    );
    // Unset stays unset.
    repo.declare(&["Second", "--severity", "SEV3", "--no-input"]);
    repo.ok(&["sync"]);
    assert_eq!(std::fs::read_to_string(&seen).expect("ran"), "unset");
}
