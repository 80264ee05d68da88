//! What the real git sees: only the tool's own paths change, concurrent
//! writers lose nothing, unsafe repository states are refused.

mod support;

use std::process::Stdio;

use support::{Repo, git_in, git_status};

#[test]
fn the_users_staged_and_untracked_work_is_left_alone() {
    let repo = Repo::init();
    std::fs::write(repo.path.join("notes.md"), "draft\n").unwrap();
    repo.git(&["add", "notes.md"]);
    repo.git(&["commit", "-q", "-m", "notes"]);
    std::fs::write(repo.path.join("notes.md"), "staged edit\n").unwrap();
    repo.git(&["add", "notes.md"]);
    std::fs::write(repo.path.join("notes.md"), "staged edit\nplus unstaged\n").unwrap();
    std::fs::write(repo.path.join("untracked.txt"), "mine\n").unwrap();
    let before = repo.git(&["status", "--porcelain=v1", "--untracked-files=all"]);
    assert_eq!(before, "MM notes.md\n?? untracked.txt\n");
    let staged_blob = repo.git(&["rev-parse", ":notes.md"]);

    let id = repo.declare(&["Staged work stays staged", "-s", "SEV3"]);
    repo.ok(&["update", &id, "-m", "note"]);
    repo.ok(&["resolve", &id, "--resolution", "done"]);

    assert_eq!(
        repo.git(&["status", "--porcelain=v1", "--untracked-files=all"]),
        before
    );
    assert_eq!(repo.git(&["rev-parse", ":notes.md"]), staged_blob);
    // The commits hold only incident files, never the staged notes.md.
    let touched = repo.git(&["log", "--format=", "--name-only", "-3"]);
    assert!(
        touched
            .lines()
            .filter(|l| !l.is_empty())
            .all(|l| l.starts_with("incidents/")),
        "{touched}"
    );
    repo.git(&["fsck", "--strict"]);
    // The working tree holds what HEAD holds for our files.
    assert_eq!(repo.git(&["diff", "HEAD", "--stat", "--", "incidents"]), "");
}

#[test]
fn eight_concurrent_updates_all_land() {
    let repo = Repo::init();
    let id = repo.declare(&["Many hands", "-s", "SEV2"]);
    let before = repo.commit_count();
    let children: Vec<_> = (0..8)
        .map(|n| {
            repo.command()
                .args(["update", &id, "-m", &format!("note {n}")])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(repo.commit_count(), before + 8);
    let shown = repo.show(&id);
    let mut notes = support::notes(&shown);
    notes.sort();
    assert_eq!(
        notes,
        (0..8).map(|n| format!("note {n}")).collect::<Vec<_>>()
    );
    // History is linear: every commit has one parent, none was lost.
    assert_eq!(
        repo.git(&["rev-list", "--merges", "--count", "HEAD"])
            .trim(),
        "0"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    repo.git(&["fsck", "--strict"]);
}

#[test]
fn refuses_detached_head() {
    let repo = Repo::init();
    let id = repo.declare(&["Detached", "-s", "SEV3"]);
    repo.git(&["checkout", "-q", "--detach"]);
    let before = repo.state();
    let err = repo.fails(1, &["update", &id, "-m", "x"]);
    assert!(
        err.contains("HEAD is detached") && err.contains("git switch"),
        "{err}"
    );
    assert_eq!(repo.state(), before);
}

/// Branches `main` (checked out) and `other` that change f.txt differently.
fn conflicting_branches(repo: &Repo) {
    std::fs::write(repo.path.join("f.txt"), "base\n").unwrap();
    repo.git(&["add", "f.txt"]);
    repo.git(&["commit", "-q", "-m", "base"]);
    repo.git(&["checkout", "-q", "-b", "other"]);
    std::fs::write(repo.path.join("f.txt"), "other\n").unwrap();
    repo.git(&["commit", "-q", "-am", "other"]);
    repo.git(&["checkout", "-q", "main"]);
    std::fs::write(repo.path.join("f.txt"), "main\n").unwrap();
    repo.git(&["commit", "-q", "-am", "main"]);
}

#[test]
fn refuses_during_a_merge() {
    let repo = Repo::init();
    let id = repo.declare(&["Merging", "-s", "SEV3"]);
    conflicting_branches(&repo);
    let merge = git_status(&repo.path, &repo.home(), &["merge", "other"]);
    assert!(!merge.status.success(), "the merge conflicts");
    let before = repo.state();
    let err = repo.fails(1, &["update", &id, "-m", "x"]);
    assert!(
        err.contains("a merge is in progress") && err.contains("git merge --abort"),
        "{err}"
    );
    assert_eq!(repo.state(), before);
}

#[test]
fn refuses_during_a_cherry_pick() {
    let repo = Repo::init();
    let id = repo.declare(&["Picking", "-s", "SEV3"]);
    conflicting_branches(&repo);
    let pick = git_status(&repo.path, &repo.home(), &["cherry-pick", "other"]);
    assert!(!pick.status.success());
    let err = repo.fails(1, &["update", &id, "-m", "x"]);
    assert!(err.contains("a cherry-pick is in progress"), "{err}");
}

#[test]
fn refuses_uncommitted_edits_to_the_incidents_files() {
    let repo = Repo::init();
    let id = repo.declare(&["Hand edit", "-s", "SEV3"]);
    let folder = repo.show(&id)["folder"].as_str().unwrap().to_string();
    let file = repo.path.join(&folder).join("incident.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("Hand edit", "Hand edited")).unwrap();
    let before = repo.state();
    let err = repo.fails(1, &["update", &id, "-m", "x"]);
    assert!(err.contains("uncommitted changes"), "{err}");
    assert!(err.contains(&format!("{folder}/incident.toml")), "{err}");
    assert!(err.contains("git stash"), "{err}");
    assert_eq!(repo.state(), before);
    // Other incidents are not blocked by it.
    repo.declare(&["Unrelated", "-s", "SEV4"]);
}

#[test]
fn refuses_a_folder_that_is_no_incident_repository() {
    let repo = Repo::empty();
    repo.git(&["init", "-q"]);
    let err = repo.fails(1, &["list"]);
    assert!(
        err.contains("incidents/config.toml does not exist") && err.contains("incident init"),
        "{err}"
    );
    let outside = Repo::empty();
    let err = outside.fails(1, &["declare", "x", "-s", "SEV1"]);
    assert!(
        err.contains("not inside a git repository") && err.contains("incident init"),
        "{err}"
    );
}

#[test]
fn missing_identity_is_a_clear_error() {
    let repo = Repo::init();
    let before = repo.state();
    let out = repo
        .command()
        .env_remove("GIT_AUTHOR_NAME")
        .env_remove("GIT_AUTHOR_EMAIL")
        .env_remove("GIT_COMMITTER_NAME")
        .env_remove("GIT_COMMITTER_EMAIL")
        .args(["declare", "Who am I", "-s", "SEV3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("user.name is not set") && err.contains("git config --global user.name"),
        "{err}"
    );
    assert_eq!(repo.state(), before);
}

#[test]
fn two_clones_recording_offline_merge_without_conflict() {
    let repo = Repo::init();
    let id = repo.declare(&["Shared incident", "-s", "SEV2"]);
    let home = repo.home();
    let remote = repo.sibling("remote.git");
    git_in(
        &home,
        &home,
        &[
            "clone",
            "-q",
            "--bare",
            repo.path.to_str().unwrap(),
            remote.to_str().unwrap(),
        ],
    );
    let a = repo.sibling("a");
    let b = repo.sibling("b");
    git_in(
        &home,
        &home,
        &["clone", "-q", remote.to_str().unwrap(), a.to_str().unwrap()],
    );
    git_in(
        &home,
        &home,
        &["clone", "-q", remote.to_str().unwrap(), b.to_str().unwrap()],
    );

    repo.ok_in(
        &a,
        &["update", &id, "-m", "from clone a", "--severity", "SEV1"],
    );
    repo.ok_in(
        &b,
        &["update", &id, "-m", "from clone b", "--role", "scribe=bob"],
    );
    repo.ok_in(
        &b,
        &["declare", "Declared in b at the same moment", "-s", "SEV4"],
    );
    repo.ok_in(
        &a,
        &["declare", "Declared in a at the same moment", "-s", "SEV4"],
    );

    git_in(&a, &home, &["push", "-q", "origin", "main"]);
    git_in(
        &b,
        &home,
        &["pull", "-q", "--no-rebase", "--no-edit", "origin", "main"],
    );
    git_in(&b, &home, &["push", "-q", "origin", "main"]);
    git_in(
        &a,
        &home,
        &["pull", "-q", "--no-rebase", "--no-edit", "origin", "main"],
    );

    for clone in [&a, &b] {
        let shown: serde_json::Value =
            serde_json::from_str(&repo.ok_in(clone, &["--format", "json", "show", &id])).unwrap();
        let mut notes = support::notes(&shown);
        notes.sort();
        assert_eq!(notes, ["from clone a", "from clone b"], "{shown}");
        assert_eq!(shown["severity"], "SEV1");
        assert_eq!(shown["roles"]["scribe"], "bob");
        let list: serde_json::Value =
            serde_json::from_str(&repo.ok_in(clone, &["--format", "json", "list", "--all"]))
                .unwrap();
        assert_eq!(
            list.as_array().unwrap().len(),
            3,
            "both declarations kept: {list}"
        );
        git_in(clone, &home, &["fsck", "--strict"]);
        assert_eq!(git_in(clone, &home, &["status", "--porcelain"]), "");
    }
}

#[test]
fn races_with_plain_git_commits_lose_nothing() {
    let repo = Repo::init();
    let id = repo.declare(&["Racing git", "-s", "SEV3"]);
    let before = repo.commit_count();
    let updates: Vec<_> = (0..6)
        .map(|n| {
            repo.command()
                .args(["update", &id, "-m", &format!("race {n}")])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    // Plain git commits racing for the same branch: git itself gives up when
    // it loses the race, incident must not.
    let mut git_commits = 0;
    for n in 0..6 {
        let out = git_status(
            &repo.path,
            &repo.home(),
            &["commit", "-q", "--allow-empty", "-m", &format!("git {n}")],
        );
        if out.status.success() {
            git_commits += 1;
        }
    }
    // A git commit that ran between staging and the branch moving may have
    // committed an update's files; that update then says so and makes no
    // commit of its own, and nothing is recorded twice.
    let mut own_commits = 0;
    for child in updates {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        if !stderr.contains("included these changes") {
            own_commits += 1;
        }
    }
    assert_eq!(repo.commit_count(), before + own_commits + git_commits);
    let mut notes = support::notes(&repo.show(&id));
    notes.sort();
    assert_eq!(
        notes,
        (0..6).map(|n| format!("race {n}")).collect::<Vec<_>>()
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    repo.git(&["fsck", "--strict"]);
}

#[test]
fn a_killed_writer_leaves_its_whole_commit_or_nothing() {
    let repo = Repo::init();
    let id = repo.declare(&["Killed mid-write", "-s", "SEV3"]);
    // Spread the kills over one and a half times what an update takes on
    // this machine now, so some land before the commit and some after.
    let started = std::time::Instant::now();
    repo.ok(&["update", &id, "-m", "timing"]);
    let duration = started.elapsed();
    let mut landed = 0;
    for round in 0..30u32 {
        let before = repo.commit_count();
        let mut child = repo
            .command()
            .args(["update", &id, "-m", &format!("kill {round}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(duration * round / 20);
        let _ = child.kill();
        let _ = child.wait();
        // The next command finishes or undoes what the killed one left.
        repo.ok(&["update", &id, "-m", &format!("after {round}")]);
        let after = repo.commit_count();
        assert!(after == before + 1 || after == before + 2, "round {round}");
        landed += after - before - 1;
        assert_eq!(
            repo.git(&["status", "--porcelain", "--untracked-files=all"]),
            "",
            "round {round}"
        );
        assert!(!repo.path.join(".git/index.lock").exists(), "round {round}");
        let notes = support::notes(&repo.show(&id));
        let killed = format!("kill {round}");
        assert_eq!(
            notes.iter().filter(|n| **n == killed).count(),
            after - before - 1,
            "round {round}"
        );
    }
    repo.git(&["fsck", "--strict"]);
    // Both outcomes happened: some writers finished before the kill, some not.
    assert!(landed > 0 && landed < 30, "landed {landed} of 30");
}
