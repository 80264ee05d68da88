//! Repositories set up the way big teams set them up: split index, sparse
//! index (Scalar), sparse checkouts, index version 4, `index.skipHash`, the
//! untracked cache, and `core.sharedRepository=group`. incident writes in
//! each, leaving the index as git would, or refuses with what to do.

mod support;

use std::os::unix::fs::PermissionsExt;

use support::Repo;

/// A repository with code beside the incidents, and the user's own staged,
/// modified and untracked work.
fn ops_repo() -> (Repo, String) {
    let repo = Repo::init();
    for dir in ["app", "deploy"] {
        std::fs::create_dir_all(repo.path.join(dir)).unwrap();
        for n in 0..20 {
            std::fs::write(repo.path.join(format!("{dir}/f{n}.txt")), format!("{n}\n")).unwrap();
        }
    }
    repo.git(&["add", "app", "deploy"]);
    repo.git(&["commit", "-q", "-m", "code"]);
    let id = repo.declare(&["Shaped repository", "-s", "SEV3"]);
    std::fs::write(repo.path.join("app/f1.txt"), "staged\n").unwrap();
    repo.git(&["add", "app/f1.txt"]);
    std::fs::write(repo.path.join("app/f2.txt"), "modified\n").unwrap();
    std::fs::write(repo.path.join("app/new.txt"), "untracked\n").unwrap();
    (repo, id)
}

/// Write twice through incident and check that git sees the user's work as before.
fn writes_keep_the_users_work(repo: &Repo, id: &str) {
    writes_keep_the_users_work_fsck(repo, id, true)
}

/// `fsck`: false for a sparse index, whose cache tree git itself fills
/// with ids of trees it never writes (`git fsck` then reports them after
/// any `git add`, with or without incident).
fn writes_keep_the_users_work_fsck(repo: &Repo, id: &str, fsck: bool) {
    let before = repo.git(&["status", "--porcelain=v1", "--untracked-files=all"]);
    let staged = repo.git(&["rev-parse", ":app/f1.txt"]);
    repo.ok(&["update", id, "-m", "first"]);
    let other = repo.declare(&["Second incident", "-s", "SEV4"]);
    repo.ok(&["update", &other, "-m", "second"]);
    assert_eq!(
        repo.git(&["status", "--porcelain=v1", "--untracked-files=all"]),
        before
    );
    assert_eq!(repo.git(&["rev-parse", ":app/f1.txt"]), staged);
    assert_eq!(support::notes(&repo.show(id)), ["first"]);
    // The index's incident entries are HEAD's, and git can read and use it.
    assert_eq!(
        repo.git(&["diff", "--cached", "--name-only", "--", "incidents"]),
        ""
    );
    assert_eq!(repo.git(&["diff", "--name-only", "--", "incidents"]), "");
    if fsck {
        repo.git(&["fsck", "--no-dangling"]);
    }
    // A plain `git commit` afterwards commits exactly the user's staged file.
    repo.git(&["commit", "-q", "-m", "user's commit"]);
    assert_eq!(
        repo.git(&["show", "--format=", "--name-only", "HEAD"]),
        "app/f1.txt\n"
    );
}

#[test]
fn split_index() {
    let (repo, id) = ops_repo();
    repo.git(&["config", "core.splitIndex", "true"]);
    repo.git(&["update-index", "--split-index"]);
    writes_keep_the_users_work(&repo, &id);
    let shared = std::fs::read_dir(repo.path.join(".git"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("sharedindex.")
        })
        .count();
    assert!(shared >= 1, "the shared index is there");
    let index = std::fs::read(repo.path.join(".git/index")).unwrap();
    assert!(
        index.windows(4).any(|w| w == b"link"),
        "still a split index"
    );
}

#[test]
fn index_version_4_and_skip_hash() {
    let (repo, id) = ops_repo();
    repo.git(&["update-index", "--index-version", "4"]);
    repo.git(&["config", "index.skipHash", "true"]);
    writes_keep_the_users_work(&repo, &id);
    assert_eq!(
        repo.git(&["update-index", "--show-index-version"]).trim(),
        "4"
    );
}

#[test]
fn untracked_cache_stays_right() {
    let (repo, id) = ops_repo();
    repo.git(&["config", "core.untrackedCache", "true"]);
    repo.git(&["update-index", "--untracked-cache"]);
    repo.git(&["status", "--porcelain"]);
    writes_keep_the_users_work(&repo, &id);
    // The untracked cache is still there and still sees new files.
    std::fs::write(repo.path.join("app/later.txt"), "x\n").unwrap();
    assert!(
        repo.git(&["status", "--porcelain"])
            .contains("?? app/later.txt")
    );
}

#[test]
fn sparse_index_including_the_incidents() {
    let (repo, id) = ops_repo();
    repo.git(&["sparse-checkout", "init", "--cone", "--sparse-index"]);
    repo.git(&["sparse-checkout", "set", "incidents", "app"]);
    assert!(
        !repo.path.join("deploy").exists(),
        "deploy/ is outside the cone"
    );
    writes_keep_the_users_work_fsck(&repo, &id, false);
    assert_eq!(
        repo.git(&["ls-files", "--sparse", "deploy/"]).trim(),
        "deploy/"
    );
}

#[test]
fn sparse_checkout_without_the_incidents_is_refused_with_what_to_do() {
    let (repo, id) = ops_repo();
    repo.git(&["sparse-checkout", "set", "app"]);
    assert!(!repo.path.join("incidents").exists());
    let before = repo.state();
    let err = repo.fails(1, &["update", &id, "-m", "outside the cone"]);
    assert!(err.contains("outside your sparse checkout"), "{err}");
    assert!(err.contains("git sparse-checkout add incidents"), "{err}");
    assert!(!err.contains("uncommitted changes"), "{err}");
    assert_eq!(repo.state(), before);
    repo.git(&["sparse-checkout", "add", "incidents"]);
    repo.ok(&["update", &id, "-m", "inside now"]);
}

#[test]
fn shared_repository_group_permissions() {
    let repo = Repo::empty();
    repo.git(&["init", "-q", "--shared=group", "-b", "main"]);
    let run = |args: &[&str]| {
        // With the usual umask, only core.sharedRepository makes files group-writable.
        let mut cmd = std::process::Command::new("sh");
        support::base_env(&mut cmd, &repo.home());
        let out = cmd
            .current_dir(&repo.path)
            .env("INCIDENT_NOW", support::NOW)
            .arg("-c")
            .arg("umask 022; exec \"$0\" \"$@\"")
            .arg(env!("CARGO_BIN_EXE_incident"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["init"]);
    run(&["declare", "Shared", "-s", "SEV3"]);
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o7777;
    let git = repo.path.join(".git");
    assert_eq!(
        mode(&git.join("incident.lock")) & 0o060,
        0o060,
        "incident.lock"
    );
    assert_eq!(mode(&git.join("index")) & 0o060, 0o060, "index");
    assert_eq!(mode(&git.join("refs/heads/main")) & 0o060, 0o060, "branch");
    assert_eq!(
        mode(&git.join("logs/refs/heads/main")) & 0o060,
        0o060,
        "reflog"
    );
    let mut dirs = 0;
    for entry in std::fs::read_dir(git.join("objects")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.len() == 2 {
            dirs += 1;
            assert_eq!(
                mode(&path) & 0o2070,
                0o2070,
                "objects/{name}: {:o}",
                mode(&path)
            );
        }
    }
    assert!(dirs > 3, "objects were written as loose objects");
}

#[test]
fn the_cache_tree_stays_true() {
    // git keeps a tree id per folder in the index (the cache tree); `git
    // write-tree` and `git commit` trust every id it has not invalidated.
    let repo = Repo::init();
    std::fs::create_dir_all(repo.path.join("app/deep")).unwrap();
    std::fs::write(repo.path.join("app/deep/a.txt"), "a\n").unwrap();
    repo.git(&["add", "app"]);
    repo.git(&["commit", "-q", "-m", "code"]);
    let id = repo.declare(&["Cache tree", "-s", "SEV3"]);
    repo.git(&[
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "fills the cache tree",
    ]);
    for n in 0..3 {
        repo.ok(&["update", &id, "-m", &format!("note {n}")]);
        assert_eq!(
            repo.git(&["write-tree"]),
            repo.git(&["rev-parse", "HEAD^{tree}"]),
            "after update {n}"
        );
    }
    repo.declare(&["Another month's folder", "-s", "SEV4"]);
    assert_eq!(
        repo.git(&["write-tree"]),
        repo.git(&["rev-parse", "HEAD^{tree}"])
    );
}
