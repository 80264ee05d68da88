//! The one commit function other parts of incident use (sync's merge
//! commits, review-branch commits): any parents, any ref, no index or
//! working tree touched, hooks and signing as for every commit.

mod support;

use incident::store::Store;
use incident::store::commit::{CommitKind, CommitRequest, Onto};
use support::Repo;

/// Run `f` with the test environment applied to this process (the library
/// reads git's config through `git`, which inherits it).
fn with_test_env<T>(repo: &Repo, f: impl FnOnce() -> T) -> T {
    let mut reference = std::process::Command::new("true");
    support::base_env(&mut reference, &repo.home());
    for (key, value) in reference.get_envs() {
        // SAFETY: this test binary runs this one test; nothing reads the
        // environment concurrently.
        unsafe {
            match value {
                Some(value) => std::env::set_var(key, value),
                None => std::env::remove_var(key),
            }
        }
    }
    f()
}

#[test]
fn a_merge_commit_onto_another_ref_with_hooks_and_a_compare_and_swap() {
    let repo = Repo::init();
    repo.declare(&["Main line", "-s", "SEV3"]);
    repo.git(&["branch", "side", "HEAD~1"]);
    repo.git(&["checkout", "-q", "side"]);
    std::fs::write(repo.path.join("side.txt"), "side\n").unwrap();
    repo.git(&["add", "side.txt"]);
    repo.git(&["commit", "-q", "-m", "side work"]);
    repo.git(&["checkout", "-q", "main"]);
    let log = repo.home().join("hooks.log");
    for name in [
        "pre-merge-commit",
        "pre-commit",
        "prepare-commit-msg",
        "commit-msg",
        "post-commit",
    ] {
        let hook = repo.path.join(".git/hooks").join(name);
        std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
        std::fs::write(
            &hook,
            format!("#!/bin/sh\necho \"{name} $2\" >> {}\n", log.display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let main = repo.git(&["rev-parse", "main"]).trim().to_string();
    let side = repo.git(&["rev-parse", "side"]).trim().to_string();
    let merged_tree = {
        let out = repo.git(&["merge-tree", "--write-tree", "main", "side"]);
        out.lines().next().unwrap().to_string()
    };
    let before = repo.state();
    let outcome = with_test_env(&repo, || {
        let store = Store::open(&repo.path).unwrap();
        let identity = store.identity(incident::time::now().unwrap()).unwrap();
        let request = CommitRequest {
            tree: git2::Oid::from_str(&merged_tree).unwrap(),
            parents: vec![
                git2::Oid::from_str(&side).unwrap(),
                git2::Oid::from_str(&main).unwrap(),
            ],
            message: "Merge main into side\n".into(),
            identity: &identity,
            kind: CommitKind::Merge,
            own_paths: &[],
            index: None,
        };
        let wrong = git2::Oid::from_str(&main).unwrap();
        let moved = store
            .commit_onto(
                "refs/heads/side",
                Some(wrong),
                &request,
                "merge main: Merge made by incident",
            )
            .unwrap();
        assert!(
            matches!(moved, Onto::Moved),
            "the compare-and-swap saw side is not at main"
        );
        store
            .commit_onto(
                "refs/heads/side",
                Some(git2::Oid::from_str(&side).unwrap()),
                &request,
                "merge main: Merge made by incident",
            )
            .unwrap()
    });
    let Onto::Committed(commit) = outcome else {
        panic!("not committed");
    };
    assert_eq!(
        repo.git(&["rev-parse", "side"]).trim(),
        commit.id.to_string()
    );
    assert_eq!(
        repo.git(&["log", "-1", "--format=%P", "side"]).trim(),
        format!("{side} {main}")
    );
    assert_eq!(
        repo.git(&["reflog", "-1", "--format=%gs", "side"]).trim(),
        "merge main: Merge made by incident"
    );
    // HEAD, index and working tree untouched; hooks as `git merge` runs them.
    assert_eq!(repo.state(), before);
    let hooks = std::fs::read_to_string(&log).unwrap();
    assert!(
        hooks.contains("pre-merge-commit") && !hooks.contains("pre-commit "),
        "{hooks}"
    );
    assert!(
        hooks.contains("prepare-commit-msg merge") && hooks.contains("commit-msg"),
        "{hooks}"
    );
    assert!(
        !hooks.contains("post-commit"),
        "git merge runs post-merge, not post-commit: {hooks}"
    );
    repo.git(&["fsck", "--strict"]);
}
