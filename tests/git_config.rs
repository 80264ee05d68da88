//! git's configuration rules, which libgit2 alone does not follow: the
//! identity (and every other setting) comes from the same places as for
//! `git var GIT_AUTHOR_IDENT`.

mod support;

use std::process::Command;

use support::Repo;

const IDENTITY_VARS: [&str; 6] = [
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_COMMITTER_DATE",
];

/// incident with no identity in the environment, and `env` added.
fn incident(repo: &Repo, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    without_identity(repo.command())
        .envs(env.iter().copied())
        .args(args)
        .output()
        .unwrap()
}

fn without_identity(mut cmd: Command) -> Command {
    for var in IDENTITY_VARS {
        cmd.env_remove(var);
    }
    cmd
}

fn assert_success(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `git var GIT_AUTHOR_IDENT` under the same environment, without its date.
fn git_ident(repo: &Repo, env: &[(&str, &str)], var: &str) -> String {
    let mut cmd = Command::new("git");
    support::base_env(&mut cmd, &repo.home());
    let out = without_identity(cmd)
        .envs(env.iter().copied())
        .current_dir(&repo.path)
        .args(["var", var])
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    text.rsplitn(3, ' ').nth(2).unwrap().to_string()
}

fn last_author_and_committer(repo: &Repo) -> (String, String) {
    let out = repo.git(&["log", "-1", "--format=%an <%ae>%n%cn <%ce>"]);
    let mut lines = out.lines();
    (lines.next().unwrap().into(), lines.next().unwrap().into())
}

fn declare_ok(repo: &Repo, env: &[(&str, &str)], title: &str) {
    let out = incident(repo, env, &["declare", title, "-s", "SEV4"]);
    assert_success(&out);
}

#[test]
fn identity_from_git_config_global() {
    let repo = Repo::init();
    let global = repo.home().join("team.gitconfig");
    std::fs::write(
        &global,
        "[user]\n\tname = Grace Global\n\temail = grace@example.com\n",
    )
    .unwrap();
    let env = [("GIT_CONFIG_GLOBAL", global.to_str().unwrap())];
    declare_ok(&repo, &env, "Global identity");
    let (author, committer) = last_author_and_committer(&repo);
    assert_eq!(author, "Grace Global <grace@example.com>");
    assert_eq!(committer, author);
    assert_eq!(git_ident(&repo, &env, "GIT_AUTHOR_IDENT"), author);
}

#[test]
fn identity_from_git_config_system_unless_nosystem() {
    let repo = Repo::init();
    let system = repo.home().join("system.gitconfig");
    std::fs::write(
        &system,
        "[user]\n\tname = Sam System\n\temail = sam@example.com\n",
    )
    .unwrap();
    let path = system.to_str().unwrap();
    let out = without_identity(repo.command())
        .env_remove("GIT_CONFIG_NOSYSTEM")
        .env("GIT_CONFIG_SYSTEM", path)
        .args(["declare", "System identity", "-s", "SEV4"])
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(
        last_author_and_committer(&repo).0,
        "Sam System <sam@example.com>"
    );
    // GIT_CONFIG_NOSYSTEM (set by the test environment) hides it again.
    let before = repo.state();
    let out = incident(
        &repo,
        &[
            ("GIT_CONFIG_SYSTEM", path),
            ("GIT_CONFIG_COUNT", "1"),
            ("GIT_CONFIG_KEY_0", "user.useConfigOnly"),
            ("GIT_CONFIG_VALUE_0", "true"),
        ],
        &["declare", "No system identity", "-s", "SEV4"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(repo.state(), before);
}

#[test]
fn identity_from_git_config_count_key_value() {
    let repo = Repo::init();
    let env = [
        ("GIT_CONFIG_COUNT", "2"),
        ("GIT_CONFIG_KEY_0", "user.name"),
        ("GIT_CONFIG_VALUE_0", "Casey Count"),
        ("GIT_CONFIG_KEY_1", "user.email"),
        ("GIT_CONFIG_VALUE_1", "casey@example.com"),
    ];
    declare_ok(&repo, &env, "Env config");
    assert_eq!(
        last_author_and_committer(&repo).0,
        "Casey Count <casey@example.com>"
    );
}

#[test]
fn include_if_gitdir_is_followed() {
    let repo = Repo::init();
    let work = repo.home().join("work.gitconfig");
    std::fs::write(
        &work,
        "[user]\n\tname = Wes Work\n\temail = wes@work.example\n",
    )
    .unwrap();
    let global = repo.home().join("global.gitconfig");
    std::fs::write(
        &global,
        format!(
            "[user]\n\tname = Pat Personal\n\temail = pat@home.example\n[includeIf \"gitdir:{}/\"]\n\tpath = {}\n",
            repo.path.display(),
            work.display()
        ),
    )
    .unwrap();
    declare_ok(
        &repo,
        &[("GIT_CONFIG_GLOBAL", global.to_str().unwrap())],
        "Included identity",
    );
    assert_eq!(
        last_author_and_committer(&repo).0,
        "Wes Work <wes@work.example>"
    );
}

#[test]
fn author_and_committer_variables_and_sections() {
    let repo = Repo::init();
    repo.git(&["config", "user.name", "Una User"]);
    repo.git(&["config", "user.email", "una@example.com"]);
    repo.git(&["config", "committer.name", "Cora Committer"]);
    let env = [
        ("GIT_AUTHOR_EMAIL", "ada@example.com"),
        ("GIT_AUTHOR_DATE", "@1700000000 +0130"),
        ("GIT_COMMITTER_DATE", "2023-11-14T22:13:20Z"),
    ];
    declare_ok(&repo, &env, "Mixed identity");
    let (author, committer) = last_author_and_committer(&repo);
    assert_eq!(author, "Una User <ada@example.com>");
    assert_eq!(committer, "Cora Committer <una@example.com>");
    assert_eq!(git_ident(&repo, &env, "GIT_AUTHOR_IDENT"), author);
    assert_eq!(git_ident(&repo, &env, "GIT_COMMITTER_IDENT"), committer);
    let dates = repo.git(&["log", "-1", "--format=%ad|%cd", "--date=raw"]);
    assert_eq!(dates.trim(), "1700000000 +0130|1700000000 +0000");
    // The incident records the author too.
    let list = repo.ok(&["--format", "json", "list"]);
    assert!(list.contains("Una User"), "{list}");
}

#[test]
fn missing_identity_names_the_file_git_would_write() {
    let repo = Repo::init();
    let global = repo.home().join("config/git-global");
    let before = repo.state();
    // user.useConfigOnly: git refuses to guess from the host name, here as anywhere.
    let env = [
        ("GIT_CONFIG_GLOBAL", global.to_str().unwrap()),
        ("GIT_CONFIG_COUNT", "1"),
        ("GIT_CONFIG_KEY_0", "user.useConfigOnly"),
        ("GIT_CONFIG_VALUE_0", "true"),
    ];
    let out = incident(&repo, &env, &["declare", "Who am I", "-s", "SEV3"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("git does not know who you are: user.email is not set"),
        "{err}"
    );
    assert!(
        err.contains("auto-detection is disabled"),
        "git's own reason: {err}"
    );
    assert!(
        err.contains(&format!(
            "git config --global user.email \"...\"` (git writes {})",
            global.display()
        )),
        "{err}"
    );
    assert_eq!(repo.state(), before);
    // With /dev/null as the global file, the hint does not send the user in a circle.
    let out = incident(
        &repo,
        &[
            ("GIT_CONFIG_COUNT", "1"),
            ("GIT_CONFIG_KEY_0", "user.useConfigOnly"),
            ("GIT_CONFIG_VALUE_0", "true"),
        ],
        &["declare", "Who am I", "-s", "SEV3"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("GIT_CONFIG_GLOBAL is /dev/null") && err.contains("`git config user.email"),
        "{err}"
    );
}

#[test]
fn git_guesses_an_identity_only_where_git_itself_would() {
    // Without any configuration git may build an e-mail from the user and
    // host names; incident takes exactly git's verdict, either way.
    let repo = Repo::init();
    let mut cmd = Command::new("git");
    support::base_env(&mut cmd, &repo.home());
    let git = without_identity(cmd)
        .current_dir(&repo.path)
        .args(["var", "GIT_AUTHOR_IDENT"])
        .output()
        .unwrap();
    let out = incident(&repo, &[], &["declare", "Guessed", "-s", "SEV4"]);
    assert_eq!(
        out.status.success(),
        git.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if git.status.success() {
        let ident = String::from_utf8(git.stdout).unwrap();
        let expected = ident.rsplitn(3, ' ').nth(2).unwrap().to_string();
        assert_eq!(last_author_and_committer(&repo).0, expected);
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        let git_err = String::from_utf8_lossy(&git.stderr);
        let reason = git_err
            .lines()
            .last()
            .unwrap()
            .trim_start_matches("fatal: ");
        assert!(err.contains(reason), "{err} / {git_err}");
    }
}

#[test]
fn hooks_path_and_signing_settings_come_from_env_config_too() {
    let repo = Repo::init();
    let marker = repo.home().join("hook-ran");
    let hooks = repo.home().join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let hook = hooks.join("pre-commit");
    std::fs::write(&hook, format!("#!/bin/sh\ntouch {}\n", marker.display())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = repo
        .command()
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "core.hooksPath")
        .env("GIT_CONFIG_VALUE_0", hooks.to_str().unwrap())
        .args(["declare", "Env hooks", "-s", "SEV4"])
        .output()
        .unwrap();
    assert_success(&out);
    assert!(marker.exists());
    // commit.gpgSign from the environment with a signer that fails: refused.
    let before = repo.state();
    let out = repo
        .command()
        .env("GIT_CONFIG_COUNT", "2")
        .env("GIT_CONFIG_KEY_0", "commit.gpgSign")
        .env("GIT_CONFIG_VALUE_0", "true")
        .env("GIT_CONFIG_KEY_1", "gpg.program")
        .env("GIT_CONFIG_VALUE_1", "false")
        .args(["declare", "Env signing", "-s", "SEV4"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("could not sign the commit (false (openpgp))")
    );
    assert_eq!(repo.state(), before);
}
