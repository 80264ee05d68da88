//! Every commit incident makes is signed exactly as git would sign it, with
//! a real OpenPGP key and a real SSH key made here, and checked by the real
//! `git verify-commit`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::Repo;

/// A GnuPG home with one ed25519 signing key, no passphrase.
struct Gpg {
    home: PathBuf,
    fingerprint: String,
}

impl Gpg {
    fn new(repo: &Repo) -> Gpg {
        let home = repo.home().join("gnupg");
        std::fs::create_dir_all(&home).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
        let gpg = |args: &[&str]| {
            let out = Command::new("gpg")
                .env("GNUPGHOME", &home)
                .args(["--batch", "--quiet", "--passphrase", ""])
                .args(args)
                .output()
                .expect("gpg is installed (.ci/run installs gnupg)");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        };
        gpg(&[
            "--quick-gen-key",
            "Alice Example <alice@example.com>",
            "ed25519",
            "sign",
            "never",
        ]);
        let listing = gpg(&["--list-secret-keys", "--with-colons"]);
        let fingerprint = listing
            .lines()
            .find_map(|l| {
                l.strip_prefix("fpr:")
                    .map(|r| r.trim_matches(':').to_string())
            })
            .unwrap();
        Gpg { home, fingerprint }
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", &self.home)
            .args(["--kill", "gpg-agent"])
            .output();
    }
}

fn run(repo: &Repo, gnupg: &Path, args: &[&str]) -> std::process::Output {
    repo.command()
        .env("GNUPGHOME", gnupg)
        .args(args)
        .output()
        .unwrap()
}

fn ok(repo: &Repo, gnupg: &Path, args: &[&str]) -> String {
    let out = run(repo, gnupg, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn git(repo: &Repo, gnupg: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new("git");
    support::base_env(&mut cmd, &repo.home());
    cmd.env("GNUPGHOME", gnupg)
        .current_dir(&repo.path)
        .args(args)
        .output()
        .unwrap()
}

fn signature_states(repo: &Repo, gnupg: &Path, count: usize) -> String {
    let out = git(
        repo,
        gnupg,
        &["log", "--format=%G? %s", &format!("-{count}")],
    );
    String::from_utf8(out.stdout).unwrap()
}

fn declare(repo: &Repo, gnupg: &Path, title: &str) -> String {
    let out = ok(
        repo,
        gnupg,
        &["--format", "json", "declare", title, "-s", "SEV2"],
    );
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    value["id"].as_str().unwrap().to_string()
}

#[test]
fn openpgp_signs_every_commit_as_git_would() {
    let repo = Repo::init();
    let gpg = Gpg::new(&repo);
    repo.git(&["config", "commit.gpgSign", "true"]);
    repo.git(&["config", "user.signingKey", &gpg.fingerprint]);
    let id = declare(&repo, &gpg.home, "Signed declaration");
    ok(&repo, &gpg.home, &["update", &id, "-m", "signed note"]);
    ok(
        &repo,
        &gpg.home,
        &["resolve", &id, "--resolution", "signed fix"],
    );
    let states = signature_states(&repo, &gpg.home, 4);
    let lines: Vec<&str> = states.lines().collect();
    assert!(lines[..3].iter().all(|l| l.starts_with("G ")), "{states}");
    assert!(
        lines[3].starts_with("N Initialise"),
        "init ran before signing was configured: {states}"
    );
    let verified = git(&repo, &gpg.home, &["verify-commit", "HEAD"]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    // The identity and dates are incident's, not the signing time.
    let who = repo.git(&["log", "-1", "--format=%an <%ae> %at|%cn <%ce> %ct"]);
    assert_eq!(
        who.trim(),
        "Alice Example <alice@example.com> 1795514400|Alice Example <alice@example.com> 1795514400"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    // --no-gpg-sign countermands commit.gpgSign.
    ok(
        &repo,
        &gpg.home,
        &["--no-gpg-sign", "update", &id, "-m", "unsigned"],
    );
    assert!(signature_states(&repo, &gpg.home, 1).starts_with("N "));
}

#[test]
fn ssh_signing_with_gpg_format_ssh() {
    let repo = Repo::init();
    let key = repo.home().join("id_ed25519");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f"])
        .arg(&key)
        .output()
        .expect("ssh-keygen is installed (.ci/run installs openssh-client)");
    assert!(made.status.success());
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let allowed = repo.home().join("allowed_signers");
    std::fs::write(&allowed, format!("alice@example.com {public}")).unwrap();
    repo.git(&["config", "gpg.format", "ssh"]);
    repo.git(&[
        "config",
        "user.signingKey",
        key.with_extension("pub").to_str().unwrap(),
    ]);
    repo.git(&[
        "config",
        "gpg.ssh.allowedSignersFile",
        allowed.to_str().unwrap(),
    ]);
    let home = repo.home();
    // No commit.gpgSign: -S asks for it, as with `git commit -S`.
    let out = ok(
        &repo,
        &home,
        &[
            "-S",
            "--format",
            "json",
            "declare",
            "SSH signed",
            "-s",
            "SEV3",
        ],
    );
    let id = serde_json::from_str::<serde_json::Value>(&out).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    ok(
        &repo,
        &home,
        &["update", &id, "--gpg-sign", "-m", "also signed"],
    );
    ok(&repo, &home, &["update", &id, "-m", "not asked to sign"]);
    let states = signature_states(&repo, &home, 3);
    let lines: Vec<&str> = states.lines().collect();
    assert!(lines[0].starts_with("N "), "{states}");
    assert!(
        lines[1].starts_with("G ") && lines[2].starts_with("G "),
        "{states}"
    );
    let verified = git(&repo, &home, &["verify-commit", "HEAD~1"]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
}

#[test]
fn a_signing_failure_commits_nothing_and_says_what_failed() {
    let repo = Repo::init();
    let id = repo.declare(&["Unsignable", "-s", "SEV3"]);
    repo.git(&["config", "commit.gpgSign", "true"]);
    repo.git(&["config", "user.signingKey", "nobody@example.com"]);
    let home = repo.home().join("empty-gnupg");
    std::fs::create_dir_all(&home).unwrap();
    let before = repo.state();
    let out = run(&repo, &home, &["update", &id, "-m", "must be signed"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("could not sign the commit (gpg (openpgp))"),
        "{err}"
    );
    assert!(err.contains("gpg failed to sign the data"), "{err}");
    assert!(
        err.contains("nothing was committed") && err.contains("--no-gpg-sign"),
        "{err}"
    );
    assert_eq!(repo.state(), before);
    assert!(support::notes(&repo.show(&id)).is_empty());
    let _ = Command::new("gpgconf")
        .env("GNUPGHOME", &home)
        .args(["--kill", "gpg-agent"])
        .output();
}

#[test]
fn a_key_named_on_the_command_line_is_used() {
    let repo = Repo::init();
    let gpg = Gpg::new(&repo);
    // A configured key that does not exist: -SKEYID wins, as in git.
    repo.git(&["config", "user.signingKey", "nobody@example.com"]);
    let sign = format!("--gpg-sign={}", gpg.fingerprint);
    ok(
        &repo,
        &gpg.home,
        &[&sign, "declare", "Named key", "-s", "SEV4"],
    );
    let out = git(&repo, &gpg.home, &["log", "-1", "--format=%G? %GF"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("G {}", gpg.fingerprint)
    );
}

/// The sync's merge commit and the review branch's commits are the tool's
/// commits too: signed like every other, as the closing check
/// (`git log --format='%G? %s'` after declare/update/resolve/sync/review).
#[test]
fn sync_merges_and_review_branch_commits_are_signed() {
    let repo = Repo::init();
    let gpg = Gpg::new(&repo);
    let remote = repo.sibling("shared.git");
    support::git_in(
        &repo.home(),
        &repo.home(),
        &["init", "-q", "--bare", "-b", "main", "shared.git"],
    );
    repo.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
    repo.git(&["config", "commit.gpgSign", "true"]);
    repo.git(&["config", "user.signingKey", &gpg.fingerprint]);
    let id = declare(&repo, &gpg.home, "Signed everywhere");
    ok(&repo, &gpg.home, &["sync"]);
    // A teammate records on their own clone and pushes with plain git.
    let other = repo.sibling("other");
    support::git_in(
        &repo.home(),
        &repo.home(),
        &[
            "clone",
            "-q",
            remote.to_str().unwrap(),
            other.to_str().unwrap(),
        ],
    );
    repo.command_in(&other)
        .args(["update", &id, "-m", "from the other clone", "--no-gpg-sign"])
        .output()
        .unwrap();
    support::git_in(&other, &repo.home(), &["push", "-q", "origin", "main"]);
    // Here: an update, then a sync that must merge.
    ok(&repo, &gpg.home, &["update", &id, "-m", "from here"]);
    ok(&repo, &gpg.home, &["sync"]);
    let merge = signature_states(&repo, &gpg.home, 1);
    assert!(
        merge.starts_with("G Merge origin/main into main"),
        "{merge}"
    );
    // The review branch: the draft written by resolve and the review commit.
    ok(&repo, &gpg.home, &["resolve", &id, "--resolution", "fixed"]);
    ok(&repo, &gpg.home, &["postmortem", "review", &id, "--push"]);
    let branch = format!("postmortem/{id}");
    let log = git(&repo, &gpg.home, &["log", "--format=%G? %s", "-2", &branch]);
    let log = String::from_utf8(log.stdout).unwrap();
    assert_eq!(log.lines().count(), 2, "{log}");
    assert!(log.lines().all(|l| l.starts_with("G ")), "{log}");
    let verified = git(&repo, &gpg.home, &["verify-commit", &branch]);
    assert!(verified.status.success());
    println!("{}", signature_states(&repo, &gpg.home, 6) + &log);
}
