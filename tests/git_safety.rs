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
        // Where git would guess from the host name, it is told not to.
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "user.useConfigOnly")
        .env("GIT_CONFIG_VALUE_0", "true")
        .args(["declare", "Who am I", "-s", "SEV3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("user.email is not set") && err.contains("git config user.email"),
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

fn hook(repo: &Repo, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = repo.path.join(".git/hooks").join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Commits that changed or deleted a file under incidents/ (event files
/// are only ever added).
fn rewrites(repo: &Repo) -> String {
    repo.git(&[
        "log",
        "--format=",
        "--name-status",
        "--diff-filter=MD",
        "--",
        "incidents/*/events",
    ])
}

/// A pre-commit hook that, once, commits a tree and moves the branch
/// without git's index lock, as a script with `git commit-tree` and `git
/// update-ref` does. `build_tree` sets `$tree`, with `$COPY` a scratch index.
fn race_once_from_pre_commit(repo: &Repo, build_tree: &str, message: &str) {
    hook(
        repo,
        "pre-commit",
        &format!(
            "[ -e {mark} ] && exit 0; touch {mark}\nCOPY={copy}\n{build_tree}\ngit update-ref refs/heads/main $(git commit-tree $tree -p HEAD -m '{message}')",
            mark = repo.home().join("raced").display(),
            copy = repo.home().join("index-copy").display(),
        ),
    );
}

/// Nothing rewritten, nothing left over, and the incident still writable.
fn nothing_rewritten_nor_blocked(repo: &Repo, id: &str) {
    assert_eq!(rewrites(repo), "", "no event file was rewritten");
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=all"]),
        ""
    );
    repo.ok(&["update", id, "-m", "next"]);
}

#[test]
fn a_commit_that_takes_our_staged_files_is_not_repeated_or_rewritten() {
    // Deterministic form of issue 11 #1: between staging and moving the
    // branch, another program commits the index as it is (`git write-tree`
    // on a copy of it, `git commit-tree`, `git update-ref`).
    let repo = Repo::init();
    let id = repo.declare(&["Racing commit-tree", "-s", "SEV3"]);
    race_once_from_pre_commit(
        &repo,
        "cp .git/index $COPY; tree=$(GIT_INDEX_FILE=$COPY git write-tree)",
        "racing commit",
    );
    let before = repo.commit_count();
    let out = repo.run(&["update", &id, "-m", "taken by the racer"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("included these changes; no separate commit was made"),
        "{err}"
    );
    assert_eq!(repo.commit_count(), before + 1, "only the racer's commit");
    assert_eq!(
        repo.git(&["log", "-1", "--format=%s"]).trim(),
        "racing commit"
    );
    assert_eq!(support::notes(&repo.show(&id)), ["taken by the racer"]);
    nothing_rewritten_nor_blocked(&repo, &id);
}

#[test]
fn a_commit_that_takes_part_of_our_files_gets_the_rest_unchanged() {
    let repo = Repo::init();
    let id = repo.declare(&["Half taken", "-s", "SEV3"]);
    race_once_from_pre_commit(
        &repo,
        "first=$(GIT_INDEX_FILE=.git/index git diff --cached --name-only | head -1)\nblob=$(GIT_INDEX_FILE=.git/index git rev-parse \":$first\")\nrm -f $COPY; GIT_INDEX_FILE=$COPY git read-tree HEAD\nGIT_INDEX_FILE=$COPY git update-index --add --cacheinfo 100644,$blob,$first\ntree=$(GIT_INDEX_FILE=$COPY git write-tree)",
        "took one file",
    );
    let before = repo.commit_count();
    let out = repo.run(&[
        "update",
        &id,
        "--status",
        "investigating",
        "-m",
        "two events",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("a concurrent git commit included"), "{err}");
    assert_eq!(
        repo.commit_count(),
        before + 2,
        "the racer's and incident's for the rest"
    );
    let shown = repo.show(&id);
    assert_eq!(shown["status"], "investigating");
    assert_eq!(support::notes(&shown), ["two events"]);
    nothing_rewritten_nor_blocked(&repo, &id);
}

#[test]
fn a_git_commit_loop_and_repacks_beside_updates_lose_nothing() {
    // Timing form of issue 11 #1 (and #19: objects written while
    // `git repack -ad` prunes their folders).
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let repo = Repo::init();
    let id = repo.declare(&["Busy repository", "-s", "SEV3"]);
    std::fs::write(repo.path.join("code.txt"), "0\n").unwrap();
    repo.git(&["add", "code.txt"]);
    repo.git(&["commit", "-q", "-m", "code"]);
    let stop = Arc::new(AtomicBool::new(false));
    let mut helpers = Vec::new();
    for job in ["commit", "commit-all", "repack"] {
        let stop = stop.clone();
        let dir = repo.path.clone();
        let home = repo.home();
        helpers.push(std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let message = format!("{job} {n}");
                let _ = match job {
                    "commit" => git_status(
                        &dir,
                        &home,
                        &["commit", "-q", "--allow-empty", "-m", &message],
                    ),
                    "commit-all" => {
                        std::fs::write(dir.join("code.txt"), format!("{n}\n")).unwrap();
                        git_status(&dir, &home, &["commit", "-q", "-a", "-m", &message])
                    }
                    _ => git_status(&dir, &home, &["repack", "-adq"]),
                };
            }
        }));
    }
    // Two writers of incident's own, each reporting what it recorded.
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let dir = repo.path.clone();
            let id = id.clone();
            let command = move |note: &str| {
                let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_incident"));
                support::base_env(&mut cmd, dir.parent().unwrap());
                cmd.current_dir(&dir)
                    .args(["update", &id, "-m", note])
                    .output()
                    .unwrap()
            };
            std::thread::spawn(move || {
                let started = std::time::Instant::now();
                let mut recorded = Vec::new();
                let mut n = 0;
                while started.elapsed() < std::time::Duration::from_secs(4) {
                    n += 1;
                    let note = format!("writer {w} note {n}");
                    let out = command(&note);
                    let err = String::from_utf8_lossy(&out.stderr).to_string();
                    if out.status.success() {
                        recorded.push(note);
                    } else {
                        // Only git's own lock may refuse a write, never a lost race.
                        assert!(err.contains("index.lock exists"), "{err}");
                    }
                }
                recorded
            })
        })
        .collect();
    let recorded: Vec<String> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    stop.store(true, Ordering::Relaxed);
    for helper in helpers {
        helper.join().unwrap();
    }
    assert!(recorded.len() > 3, "{recorded:?}");
    // git races itself here: a `git commit` writes back the index it read
    // before taking `index.lock`, and the next `git commit -a` may then
    // delete an event. The next write puts such a record back.
    repo.ok(&["update", &id, "-m", "still writable"]);
    let notes = support::notes(&repo.show(&id));
    for note in &recorded {
        assert_eq!(
            notes.iter().filter(|n| *n == note).count(),
            1,
            "{note} in {notes:?}"
        );
    }
    let changed = repo.git(&[
        "log",
        "--format=",
        "--name-status",
        "--diff-filter=M",
        "--",
        "incidents/*/events",
    ]);
    assert_eq!(changed, "", "no event file changed");
    assert_eq!(
        repo.git(&[
            "status",
            "--porcelain",
            "--untracked-files=all",
            "--",
            "incidents"
        ]),
        ""
    );
    repo.git(&["fsck", "--no-dangling"]);
}

#[test]
fn sixty_four_parallel_writers_lose_nothing() {
    let repo = Repo::init();
    let id = repo.declare(&["Everyone at once", "-s", "SEV1"]);
    let before = repo.commit_count();
    let children: Vec<_> = (0..64)
        .map(|n| {
            repo.command()
                .env("INCIDENT_LOCK_TIMEOUT", "300")
                .args(["update", &id, "-m", &format!("writer {n}")])
                .stdout(Stdio::null())
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
    assert_eq!(repo.commit_count(), before + 64);
    let mut notes = support::notes(&repo.show(&id));
    notes.sort();
    let mut expected: Vec<String> = (0..64).map(|n| format!("writer {n}")).collect();
    expected.sort();
    assert_eq!(notes, expected);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

/// Kill the next incident command in its pre-commit hook (after it staged
/// its files), as a crash would.
fn kill_in_pre_commit(repo: &Repo) {
    let mark = repo.home().join("killed");
    hook(
        repo,
        "pre-commit",
        &format!(
            "[ -e {0} ] && exit 0; touch {0}; kill -9 $PPID; sleep 5",
            mark.display()
        ),
    );
}

#[test]
fn recovery_keeps_text_typed_into_a_crashed_commands_file() {
    let repo = Repo::init();
    let id = repo.declare(&["Draft kept", "-s", "SEV2"]);
    let other = repo.declare(&["Other", "-s", "SEV4"]);
    kill_in_pre_commit(&repo);
    let out = repo.run(&["update", &id, "-m", "what I saw"]);
    assert_eq!(out.status.code(), None, "killed");
    assert!(repo.path.join(".git/incident-journal").exists());
    // The killed command left its event file in the working tree, and the
    // user starts writing in it.
    let status = repo.git(&["status", "--porcelain", "--untracked-files=all"]);
    let path = status
        .lines()
        .find_map(|l| l.strip_prefix("A  ").filter(|p| p.ends_with("-note.toml")))
        .unwrap_or_else(|| panic!("no staged event file: {status}"))
        .to_string();
    let file = repo.path.join(&path);
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("# What I saw at 03:00: the pool was empty.\n");
    std::fs::write(&file, &text).unwrap();
    repo.ok(&["update", &other, "-m", "next command recovers"]);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        text,
        "typed text kept"
    );
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=all"]),
        format!("?? {path}\n"),
        "nothing was recorded, and the file is the user's now"
    );
    assert!(!repo.path.join(".git/index.lock").exists());
    assert!(!repo.path.join(".git/incident-journal").exists());
    assert!(support::notes(&repo.show(&id)).is_empty());
}

#[test]
fn recovery_removes_an_untouched_file_of_a_crashed_command() {
    let repo = Repo::init();
    let id = repo.declare(&["Draft untouched", "-s", "SEV2"]);
    kill_in_pre_commit(&repo);
    let out = repo.run(&["resolve", &id, "--resolution", "fixed"]);
    assert_eq!(out.status.code(), None);
    repo.ok(&["update", &id, "-m", "recovered"]);
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=all"]),
        ""
    );
}

#[test]
fn a_hung_writer_is_named_and_a_dead_ones_locks_are_broken() {
    let repo = Repo::init();
    let id = repo.declare(&["Hung writer", "-s", "SEV3"]);
    let started = repo.home().join("hook-started");
    let pid_file = repo.home().join("hook-pid");
    hook(
        &repo,
        "pre-commit",
        &format!(
            "[ -e {0} ] && exit 0; echo $$ > {1}; touch {0}; exec sleep 60",
            started.display(),
            pid_file.display()
        ),
    );
    let mut hung = repo
        .command()
        .args(["update", &id, "-m", "hangs in its hook"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !started.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the hook never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let waited = std::time::Instant::now();
    let out = repo
        .command()
        .env("INCIDENT_LOCK_TIMEOUT", "1")
        .args(["update", &id, "-m", "waits"])
        .output()
        .unwrap();
    assert!(waited.elapsed() < std::time::Duration::from_secs(15));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("another incident command holds"), "{err}");
    assert!(err.contains(&format!("pid {}", hung.id())), "{err}");
    assert!(err.contains("update") && err.contains("since "), "{err}");
    assert!(err.contains("kill -CONT"), "{err}");
    // Its holder dies: the kernel frees the writer lock, and the next
    // writer removes the index.lock and files it left.
    hung.kill().unwrap();
    hung.wait().unwrap();
    if let Ok(pid) = std::fs::read_to_string(&pid_file) {
        let _ = std::process::Command::new("kill").arg(pid.trim()).status();
    }
    assert!(
        repo.path.join(".git/index.lock").exists(),
        "the dead writer's lock"
    );
    repo.ok(&["update", &id, "-m", "after the hung one"]);
    assert!(!repo.path.join(".git/index.lock").exists());
    assert_eq!(support::notes(&repo.show(&id)), ["after the hung one"]);
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=all"]),
        ""
    );
}

#[test]
fn fifos_where_incident_reads_or_writes_are_refused_not_opened() {
    let repo = Repo::init();
    let id = repo.declare(&["Pipes", "-s", "SEV4"]);
    let folder = repo.show(&id)["folder"].as_str().unwrap().to_string();
    let mkfifo = |path: &std::path::Path| {
        assert!(
            std::process::Command::new("mkfifo")
                .arg(path)
                .status()
                .unwrap()
                .success()
        );
    };
    let bounded = |args: &[&str]| {
        let mut child = repo
            .command()
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let mut err = String::new();
                use std::io::Read;
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                return (status.code(), err);
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("incident {args:?} hangs on a FIFO");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    };
    mkfifo(&repo.path.join(&folder).join("postmortem.md"));
    // The draft goes to the review branch: the FIFO in the working tree is
    // never opened, and the command does not hang on it.
    let (code, err) = bounded(&["postmortem", &id]);
    assert_eq!(code, Some(0), "{err}");
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::symlink_metadata(repo.path.join(&folder).join("postmortem.md"))
            .unwrap()
            .file_type()
            .is_fifo()
    );
    assert!(!repo.path.join(".git/index.lock").exists());
    std::fs::remove_file(repo.path.join(&folder).join("postmortem.md")).unwrap();
    for inside in ["incident-journal", "incident.lock"] {
        let path = repo.path.join(".git").join(inside);
        let _ = std::fs::remove_file(&path);
        mkfifo(&path);
        let (code, err) = bounded(&["update", &id, "-m", "x"]);
        assert_eq!(code, Some(1), "{inside}: {err}");
        assert!(err.contains("FIFO"), "{inside}: {err}");
        std::fs::remove_file(&path).unwrap();
    }
    repo.ok(&["update", &id, "-m", "fine again"]);
}

#[test]
fn recovery_never_removes_another_processs_branch_lock() {
    let repo = Repo::init();
    let id = repo.declare(&["Live lock", "-s", "SEV3"]);
    kill_in_pre_commit(&repo);
    assert_eq!(
        repo.run(&["update", &id, "-m", "killed"]).status.code(),
        None
    );
    // Meanwhile a git command holds the branch's lock (empty, as git's are at first).
    let lock = repo.path.join(".git/refs/heads/main.lock");
    std::fs::write(&lock, "").unwrap();
    let before = repo.git(&["rev-parse", "HEAD"]);
    let err = repo.fails(1, &["update", &id, "-m", "blocked by git"]);
    assert!(
        err.contains("main.lock exists") && err.contains("moving that branch"),
        "{err}"
    );
    assert!(lock.exists(), "the other process's lock stays");
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), before);
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=all"]),
        ""
    );
    std::fs::remove_file(&lock).unwrap();
    repo.ok(&["update", &id, "-m", "after git let go"]);
    assert_eq!(support::notes(&repo.show(&id)), ["after git let go"]);
}

#[test]
fn eight_concurrent_inits_make_one_commit() {
    let repo = Repo::empty();
    let target = repo.path.join("ops");
    let children: Vec<_> = (0..8)
        .map(|_| {
            repo.command()
                .arg("init")
                .arg(&target)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
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
    let count = git_in(&target, &repo.home(), &["rev-list", "--count", "HEAD"]);
    assert_eq!(count.trim(), "1");
    assert_eq!(
        git_in(&target, &repo.home(), &["symbolic-ref", "--short", "HEAD"]).trim(),
        "main"
    );
    git_in(&target, &repo.home(), &["fsck", "--strict"]);
    assert_eq!(
        git_in(&target, &repo.home(), &["status", "--porcelain"]),
        ""
    );
}
