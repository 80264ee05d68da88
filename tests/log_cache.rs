//! `incident log` keeps git's answer in `.git/incident/log-v1/` and, when
//! HEAD has moved on by single-parent commits, asks git about the new ones
//! only. Whatever the history does next (more commits, a merge, a reset, an
//! amend, a replace ref, a changed config, a damaged cache), what `log`
//! prints is what `git log` lists and what `log` prints with no cache.

mod support;

use std::path::PathBuf;

use support::Repo;

fn folder(repo: &Repo) -> String {
    repo.git(&["ls-files", "incidents/*/incident.toml"])
        .trim()
        .trim_end_matches("/incident.toml")
        .to_string()
}

fn cache_dir(repo: &Repo) -> PathBuf {
    repo.path.join(".git/incident/log-v1")
}

fn cache_files(repo: &Repo) -> Vec<PathBuf> {
    match std::fs::read_dir(cache_dir(repo)) {
        Ok(entries) => entries.map(|e| e.expect("entry").path()).collect(),
        Err(_) => Vec::new(),
    }
}

/// `log`'s JSON with whatever cache there is, checked against git and
/// against `log` with the cache removed (which is put back as it was).
fn checked_log(repo: &Repo, id: &str) -> serde_json::Value {
    let cached = repo.ok(&["--format", "json", "log", id]);
    let listed: Vec<String> = serde_json::from_str::<serde_json::Value>(&cached)
        .expect("json")
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["commit"].as_str().expect("commit").to_string())
        .collect();
    let expected: Vec<String> = repo
        .git(&[
            "log",
            "--topo-order",
            "--format=%H",
            "HEAD",
            "--",
            &folder(repo),
        ])
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(listed, expected, "log lists what git log lists");
    let kept = repo.sibling("kept-log-cache");
    let _ = std::fs::remove_dir_all(&kept);
    if cache_dir(repo).exists() {
        std::fs::rename(cache_dir(repo), &kept).expect("move the cache aside");
    }
    let fresh = repo.ok(&["--format", "json", "log", id]);
    let _ = std::fs::remove_dir_all(cache_dir(repo));
    if kept.exists() {
        std::fs::rename(&kept, cache_dir(repo)).expect("put the cache back");
    }
    assert_eq!(
        cached, fresh,
        "the cache changes nothing of what log prints"
    );
    serde_json::from_str(&cached).expect("json")
}

fn commit_code(repo: &Repo, name: &str) {
    std::fs::write(repo.path.join(name), format!("{name}\n")).expect("write");
    repo.git(&["add", name]);
    repo.git(&["commit", "-q", "-m", &format!("code {name}")]);
}

#[test]
fn log_after_new_commits_merges_resets_and_amends_is_git_logs() {
    let repo = Repo::init();
    let id = repo.declare(&["Queue backlog", "-s", "SEV2"]);
    assert_eq!(checked_log(&repo, &id).as_array().unwrap().len(), 1);
    assert_eq!(cache_files(&repo).len(), 1, "the answer is kept");

    // A line of single-parent commits: the new ones are asked about.
    repo.ok(&["update", &id, "-m", "first note"]);
    commit_code(&repo, "a.txt");
    repo.ok(&["update", &id, "-m", "second note"]);
    assert_eq!(checked_log(&repo, &id).as_array().unwrap().len(), 3);
    // The same tip again, answered from the cache alone.
    assert_eq!(checked_log(&repo, &id).as_array().unwrap().len(), 3);

    // A merge among the new commits: the whole walk again.
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.ok(&["update", &id, "-m", "on the side branch"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.ok(&["update", &id, "-m", "on main"]);
    repo.git(&["merge", "-q", "--no-edit", "side"]);
    commit_code(&repo, "b.txt");
    let log = checked_log(&repo, &id);
    assert_eq!(log.as_array().unwrap().len(), 6, "{log:#}");
    assert!(log[0]["subject"].as_str().unwrap().starts_with("Merge"));

    // A merge of a branch that changed the folder and changed it back:
    // git hides the branch's commits (the merge is the same as its first
    // parent there), which asking about the new commits alone would not.
    repo.git(&["checkout", "-q", "-b", "back-and-forth"]);
    repo.ok(&["update", &id, "-m", "soon taken back"]);
    repo.git(&["revert", "--no-edit", "HEAD"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["merge", "-q", "--no-ff", "--no-edit", "back-and-forth"]);
    assert_eq!(checked_log(&repo, &id).as_array().unwrap().len(), 6);

    // Back to an older tip, then a different line from there.
    repo.git(&["reset", "-q", "--hard", "HEAD~3"]);
    assert_eq!(checked_log(&repo, &id).as_array().unwrap().len(), 4);
    repo.ok(&["update", &id, "-m", "after the reset"]);
    repo.git(&["commit", "-q", "--amend", "-m", "the same note, reworded"]);
    let log = checked_log(&repo, &id);
    assert_eq!(log.as_array().unwrap().len(), 5);
    assert_eq!(log[0]["subject"], "the same note, reworded");
}

#[test]
fn a_merge_that_takes_back_an_older_record_is_walked_whole() {
    let repo = Repo::init();
    let id = repo.declare(&["Stale cache", "-s", "SEV3"]);
    repo.ok(&["update", &id, "-m", "first note"]);
    commit_code(&repo, "a.txt");
    repo.ok(&["update", &id, "-m", "second note"]);
    assert_eq!(checked_log(&repo, &id).as_array().unwrap().len(), 3);
    // A merge of the tip with an older commit of its own line, whose
    // folder is that older commit's: git follows that parent alone, so the
    // second note's commit is left out. Asking git about the commits since
    // the kept tip would list the merge and keep the second note.
    let folder = folder(&repo);
    let older = repo.git(&["rev-parse", "HEAD~1"]);
    let older = older.trim();
    repo.git(&["rm", "-r", "-q", "--", &folder]);
    repo.git(&["checkout", older, "--", &folder]);
    let tree = repo.git(&["write-tree"]);
    let merge = repo.git(&[
        "commit-tree",
        tree.trim(),
        "-p",
        "HEAD",
        "-p",
        older,
        "-m",
        "Merge an older record back",
    ]);
    repo.git(&["reset", "-q", "--hard", merge.trim()]);
    let log = checked_log(&repo, &id);
    assert_eq!(log.as_array().unwrap().len(), 2, "{log:#}");
}

#[test]
fn a_replace_ref_a_changed_config_or_a_damaged_cache_is_never_answered_from_it() {
    let repo = Repo::init();
    let id = repo.declare(&["Disk pressure", "-s", "SEV3"]);
    repo.ok(&["update", &id, "-m", "first note"]);
    repo.ok(&["update", &id, "-m", "second note"]);
    assert_eq!(checked_log(&repo, &id).as_array().unwrap().len(), 3);

    // A config that changes git's output: the order of a commit's files.
    let folder = folder(&repo);
    std::fs::write(repo.path.join(format!("{folder}/notes.md")), "b\n").unwrap();
    std::fs::write(repo.path.join(format!("{folder}/about.md")), "a\n").unwrap();
    repo.git(&["add", "-f", &folder]);
    repo.git(&["commit", "-q", "-m", "two files by hand"]);
    let before = checked_log(&repo, &id);
    assert_eq!(before[0]["files"][0]["path"], "about.md");
    std::fs::write(repo.path.join(".git/order"), "*/notes.md\n*\n").unwrap();
    repo.git(&["config", "diff.orderFile", ".git/order"]);
    let after = checked_log(&repo, &id);
    assert_eq!(after[0]["files"][0]["path"], "notes.md", "{after:#}");

    // A replace ref cuts the history below the second note.
    let second = repo.git(&["rev-parse", "HEAD~1"]);
    repo.git(&["replace", "--graft", second.trim()]);
    let log = checked_log(&repo, &id);
    assert_eq!(log.as_array().unwrap().len(), 2, "{log:#}");
    std::fs::remove_dir_all(cache_dir(&repo)).unwrap();
    checked_log(&repo, &id);
    assert!(
        cache_files(&repo).is_empty(),
        "nothing is kept beside a replace ref"
    );
    repo.git(&["replace", "-d", second.trim()]);
    assert_eq!(checked_log(&repo, &id).as_array().unwrap().len(), 4);

    // A damaged cache file is not trusted, and is written again.
    for file in cache_files(&repo) {
        let mut bytes = std::fs::read(&file).unwrap();
        let last = bytes.len() - 2;
        bytes[last] ^= 0x20;
        std::fs::write(&file, bytes).unwrap();
    }
    assert_eq!(checked_log(&repo, &id).as_array().unwrap().len(), 4);
    for file in cache_files(&repo) {
        std::fs::write(&file, "incident log cache v1\n").unwrap();
    }
    assert_eq!(checked_log(&repo, &id).as_array().unwrap().len(), 4);
}

#[test]
fn the_same_commit_is_answered_without_a_walk_until_another_git_runs() {
    let repo = Repo::init();
    let id = repo.declare(&["Slow builds", "-s", "SEV3"]);
    repo.ok(&["update", &id, "-m", "first note"]);
    assert_eq!(checked_log(&repo, &id).as_array().unwrap().len(), 2);
    // Another git first on PATH: a wrapper that notes each command it runs.
    let real = String::from_utf8(
        std::process::Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .expect("find git")
            .stdout,
    )
    .expect("utf-8");
    let bin = repo.sibling("other-git");
    std::fs::create_dir_all(&bin).unwrap();
    let noted = repo.sibling("git-commands");
    let wrapper = bin.join("git");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            noted.display(),
            real.trim()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let walks = || {
        std::fs::read_to_string(&noted)
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains(" log "))
            .count()
    };
    let run = || {
        let out = repo
            .command()
            .env("PATH", &path)
            .args(["--format", "json", "log", &id])
            .output()
            .expect("run incident");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let first = run();
    assert_eq!(walks(), 1, "another git: the kept answer is not used");
    let second = run();
    assert_eq!(walks(), 1, "the same commit and git: no walk");
    assert_eq!(first, second);
}
