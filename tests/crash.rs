//! A short run of scripts/crash-test.sh: ten commands killed with SIGKILL
//! at random moments, each followed by the script's checks (git fsck,
//! all-or-nothing, the next command not blocked, no stray index entries,
//! `incident check` clean). The full run is `scripts/crash-test.sh 200`.

use std::process::Command;

#[test]
fn ten_random_kills_lose_and_garble_nothing() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/crash-test.sh");
    let out = Command::new("bash")
        .arg(script)
        .args(["10", "40"])
        .env("INCIDENT_BIN", env!("CARGO_BIN_EXE_incident"))
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("crash test: 10 runs") && stdout.contains("failures: 0"),
        "{stdout}"
    );
}
