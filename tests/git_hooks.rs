//! The repository's git hooks run around every commit incident makes, as
//! around `git commit`: pre-commit on exactly the commit's files,
//! prepare-commit-msg and commit-msg on the message, post-commit after.

mod support;

use std::path::Path;

use support::Repo;

fn hook(repo: &Repo, name: &str, body: &str) {
    let dir = repo.path.join(".git/hooks");
    std::fs::create_dir_all(&dir).unwrap();
    write_hook(&dir.join(name), body);
}

fn write_hook(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A user with staged, modified and untracked work of their own.
fn with_user_work(repo: &Repo) {
    std::fs::write(repo.path.join("app.env"), "TOKEN=none\n").unwrap();
    repo.git(&["add", "app.env"]);
    repo.git(&["commit", "-q", "-m", "app"]);
    std::fs::write(repo.path.join("app.env"), "TOKEN=AKIAIOSFODNN7EXAMPLE\n").unwrap();
    repo.git(&["add", "app.env"]);
    std::fs::write(repo.path.join("scratch.txt"), "mine\n").unwrap();
}

#[test]
fn pre_commit_sees_exactly_the_commit_not_the_users_index() {
    let repo = Repo::init();
    with_user_work(&repo);
    let log = repo.home().join("pre-commit.log");
    hook(
        &repo,
        "pre-commit",
        &format!(
            "{{ echo \"index=$GIT_INDEX_FILE\"; echo \"editor=$GIT_EDITOR\"; echo \"author=$GIT_AUTHOR_NAME <$GIT_AUTHOR_EMAIL> $GIT_AUTHOR_DATE\"; echo \"cwd=$(pwd)\"; git diff --cached --name-status; }} > {}",
            log.display()
        ),
    );
    let before = repo.git(&["status", "--porcelain=v1", "--untracked-files=all"]);
    let id = repo.declare(&["Seen by the hook", "-s", "SEV3"]);
    let seen = std::fs::read_to_string(&log).unwrap();
    let folder = repo.show(&id)["folder"].as_str().unwrap().to_string();
    assert!(
        seen.contains(&format!("A\t{folder}/incident.toml")),
        "{seen}"
    );
    assert!(
        !seen.contains("app.env"),
        "the user's staged file is not in the commit: {seen}"
    );
    assert!(seen.contains("editor=:"), "{seen}");
    assert!(
        seen.contains("author=Alice Example <alice@example.com> @1795514400 +0000"),
        "{seen}"
    );
    assert!(
        seen.contains(&format!(
            "cwd={}",
            repo.path.canonicalize().unwrap().display()
        )),
        "{seen}"
    );
    let index_line = seen.lines().find(|l| l.starts_with("index=")).unwrap();
    assert!(
        index_line.contains(".git/") && !index_line.ends_with(".git/index"),
        "{seen}"
    );
    // The temporary index is gone, the user's work is as it was.
    assert_eq!(
        repo.git(&["status", "--porcelain=v1", "--untracked-files=all"]),
        before
    );
    assert!(std::fs::read_dir(repo.path.join(".git")).unwrap().all(|e| {
        !e.unwrap()
            .file_name()
            .to_string_lossy()
            .contains("next-index")
    }));
}

#[test]
fn a_secret_scanner_blocks_a_secret_in_a_note_and_only_that() {
    let repo = Repo::init();
    with_user_work(&repo);
    hook(
        &repo,
        "pre-commit",
        "if git diff --cached | grep -q AKIA; then echo 'secret scanner: AWS key found' >&2; exit 1; fi",
    );
    // The user's staged file holds a key, but it is not in incident's commit.
    let id = repo.declare(&["Key rotation", "-s", "SEV3"]);
    let before = repo.state();
    let commits = repo.commit_count();
    let err = repo.fails(
        1,
        &["update", &id, "-m", "leaked AKIAIOSFODNN7EXAMPLE in logs"],
    );
    assert!(err.contains("secret scanner: AWS key found"), "{err}");
    assert!(
        err.contains("the pre-commit hook") && err.contains("refused"),
        "{err}"
    );
    assert!(
        err.contains("nothing was committed") && err.contains("--no-verify"),
        "{err}"
    );
    assert_eq!(
        repo.state(),
        before,
        "index, working tree and HEAD as they were"
    );
    assert_eq!(repo.commit_count(), commits);
    assert!(support::notes(&repo.show(&id)).is_empty());
    // --no-verify skips it, as `git commit --no-verify` does.
    repo.ok(&[
        "--no-verify",
        "update",
        &id,
        "-m",
        "leaked AKIAIOSFODNN7EXAMPLE in logs",
    ]);
    assert_eq!(repo.commit_count(), commits + 1);
}

#[test]
fn commit_msg_rewrites_the_message_and_can_refuse_it() {
    let repo = Repo::init();
    let args = repo.home().join("prepare.args");
    hook(
        &repo,
        "prepare-commit-msg",
        &format!("echo \"$(basename \"$1\") $2\" > {}", args.display()),
    );
    hook(
        &repo,
        "commit-msg",
        "grep -q 'forbidden' \"$1\" && { echo 'commit-msg: forbidden word' >&2; exit 1; }\nprintf '\\nReviewed-by: the hook\\n\\n\\n' >> \"$1\"",
    );
    let id = repo.declare(&["Rewritten", "-s", "SEV3"]);
    let message = repo.git(&["log", "-1", "--format=%B"]);
    assert!(message.contains("Reviewed-by: the hook"), "{message}");
    assert!(
        message.ends_with("the hook\n\n"),
        "cleaned up as git does: {message:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&args).unwrap(),
        "COMMIT_EDITMSG message\n"
    );
    let before = repo.state();
    let err = repo.fails(1, &["update", &id, "-m", "a forbidden note"]);
    assert!(err.contains("commit-msg: forbidden word"), "{err}");
    assert!(err.contains("the commit-msg hook"), "{err}");
    assert_eq!(repo.state(), before);
    // --no-verify skips commit-msg too (not prepare-commit-msg, as in git).
    std::fs::remove_file(&args).unwrap();
    repo.ok(&["update", &id, "--no-verify", "-m", "a forbidden note"]);
    assert!(args.exists());
    let message = repo.git(&["log", "-1", "--format=%B"]);
    assert!(!message.contains("Reviewed-by"), "{message}");
}

#[test]
fn post_commit_runs_after_the_branch_moved_and_cannot_undo_it() {
    let repo = Repo::init();
    let seen = repo.home().join("post.log");
    hook(
        &repo,
        "post-commit",
        &format!(
            "git log -1 --format=%s > {}; echo post-commit output; exit 3",
            seen.display()
        ),
    );
    let out = repo
        .command()
        .args([
            "--format",
            "json",
            "declare",
            "After the fact",
            "-s",
            "SEV4",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    // git sends a hook's output to standard error: JSON stays clean.
    serde_json::from_str::<serde_json::Value>(&stdout).expect("json on stdout");
    assert!(stderr.contains("post-commit output"), "{stderr}");
    assert!(
        std::fs::read_to_string(&seen)
            .unwrap()
            .contains("After the fact"),
        "the hook saw the new commit"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn hooks_come_from_core_hooks_path_and_must_be_executable() {
    let repo = Repo::init();
    let marker = repo.home().join("ran");
    write_hook(
        &repo.path.join("ci/hooks/pre-commit"),
        &format!("echo \"$GIT_PREFIX\" >> {}", marker.display()),
    );
    repo.git(&["config", "core.hooksPath", "ci/hooks"]);
    std::fs::create_dir_all(repo.path.join("sub")).unwrap();
    repo.ok_in(
        &repo.path.join("sub"),
        &["declare", "From a subfolder", "-s", "SEV4"],
    );
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "sub/\n");
    // A hook file without the executable bit is ignored, with git's hint.
    let plain = repo.path.join(".git/hooks/commit-msg");
    std::fs::create_dir_all(plain.parent().unwrap()).unwrap();
    std::fs::write(&plain, "#!/bin/sh\nexit 1\n").unwrap();
    repo.git(&["config", "--unset", "core.hooksPath"]);
    let out = repo.run(&["declare", "Plain file", "-s", "SEV4"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("hook was ignored because it is not set as executable"),
        "{err}"
    );
}

#[test]
fn a_hook_that_stages_other_files_is_refused() {
    let repo = Repo::init();
    std::fs::write(repo.path.join("other.txt"), "x\n").unwrap();
    hook(&repo, "pre-commit", "git add other.txt");
    let before = repo.state();
    let err = repo.fails(1, &["declare", "Sneaky hook", "-s", "SEV4"]);
    assert!(
        err.contains("staged files that are not incident's (other.txt)"),
        "{err}"
    );
    assert_eq!(repo.state(), before);
}
