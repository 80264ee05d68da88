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

/// A resolves while B, not knowing, keeps working: same state on both
/// sides after sync, nothing dropped, and `incident check` flags it.
#[test]
fn scenario_3_and_5_contradicting_clones_and_plain_git_merge() {
    let team = Team::new(&[]);
    let (a, now) = (team.a(), support::NOW);
    let id = declare(&team, &a, now, "Queue backlog");
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
    team.ok(&a, now, &["sync"]);
    // Scenario 5: a copy of B merges with plain `git pull` (a merge, as a
    // forge's merge button makes) instead of incident sync.
    let b_git = team.dir("b-git");
    let out = std::process::Command::new("cp")
        .arg("-a")
        .arg(&b)
        .arg(&b_git)
        .output()
        .expect("cp");
    assert!(out.status.success());
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
    assert!(
        std::process::Command::new("cp")
            .arg("-a")
            .arg(&b)
            .arg(&b_git)
            .status()
            .expect("cp")
            .success()
    );
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
        stderr.contains("could not fetch from 'origin'") && stderr.contains("nothing was changed"),
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
