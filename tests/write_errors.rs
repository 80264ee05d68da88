//! Failures of the write path say what happened and change nothing: a full
//! disk, a time too far back to store.

mod support;

use std::process::Command;

use support::Repo;

#[test]
fn a_full_disk_says_so_and_records_nothing() {
    // A 4 MB tmpfs in a private mount namespace (unprivileged, through a
    // user namespace), filled up between two commands.
    let repo = Repo::empty();
    let mount = repo.home().join("small-disk");
    std::fs::create_dir_all(&mount).unwrap();
    let script = r#"
set -u
mount -t tmpfs -o size=4m tmpfs "$DISK" || { echo "NO-MOUNT"; exit 0; }
cd "$DISK"
"$BIN" init repo >/dev/null || exit 10
cd repo
id=$("$BIN" --format json declare "Full disk" -s SEV3 | sed -n 's/.*"id": *"\([0-9a-z]*\)".*/\1/p' | head -1)
state() { git rev-parse HEAD; git status --porcelain=v1 --untracked-files=all; git ls-files -s; }
dd if=/dev/zero of="$DISK/filler" bs=4k >/dev/null 2>&1
before=$(state)
"$BIN" update "$id" -m "no room for this" 2>"$ERR"
echo "RC=$?"
echo "STDERR=$(cat "$ERR")"
[ "$(state)" = "$before" ] && echo "UNCHANGED" || { echo "CHANGED"; state; }
rm -f "$DISK/filler"
"$BIN" update "$id" -m "room again" >/dev/null && echo "AFTER-OK"
git fsck --no-dangling >/dev/null 2>&1 && echo "FSCK-OK"
echo "LOST=$("$BIN" --format json show "$id" | grep -c 'no room for this')"
echo "KEPT=$("$BIN" --format json show "$id" | grep -c 'room again')"
"#;
    let mut cmd = Command::new("unshare");
    support::base_env(&mut cmd, &repo.home());
    let out = cmd
        .args(["-Urm", "sh", "-c", script])
        .env("DISK", &mount)
        .env("ERR", repo.home().join("stderr.txt"))
        .env("BIN", env!("CARGO_BIN_EXE_incident"))
        .env("INCIDENT_NOW", support::NOW)
        .output()
        .expect("unshare (util-linux) runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        !stdout.contains("NO-MOUNT"),
        "this machine cannot mount a tmpfs in a user namespace: {stderr}"
    );
    assert!(stdout.contains("RC=1"), "{stdout}");
    assert!(stdout.contains("the disk is full"), "{stdout}");
    assert!(
        !stdout.contains("no error") && !stdout.contains("index does not contain"),
        "{stdout}"
    );
    assert!(stdout.contains("UNCHANGED"), "{stdout}");
    assert!(
        stdout.contains("AFTER-OK") && stdout.contains("FSCK-OK"),
        "{stdout}"
    );
    assert!(
        stdout.contains("LOST=0") && stdout.contains("KEPT=1"),
        "{stdout}"
    );
}

#[test]
fn a_time_too_far_back_is_a_clear_error() {
    let repo = Repo::init();
    let id = repo.declare(&["Ancient", "-s", "SEV4"]);
    let before = repo.state();
    let err = repo.fails(1, &["update", &id, "--at", "100000000h ago", "-m", "x"]);
    assert!(err.contains("before the year 1"), "{err}");
    assert!(!err.contains("internal error"), "{err}");
    assert_eq!(repo.state(), before);
}
