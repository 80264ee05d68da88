//! `incident report` in a shallow clone (`git clone --depth N`): what the
//! clone's history does not reach is left out with the reason
//! `shallow_clone`, never measured from the clone's oldest commit.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};
use tempfile::TempDir;

/// `git init` and `incident init` (Monday of 2026-W45).
const T_INIT: &str = "2026-11-02T09:00:00Z";
/// Declared and started.
const T_DECLARE: &str = "2026-11-03T10:00:00Z";
const T_RESOLVE: &str = "2026-11-03T12:00:00Z";
/// The postmortem written and put in review.
const T_REVIEW: &str = "2026-11-04T09:00:00Z";
/// The review merged: postmortem lead time 1 d 0 h.
const T_MERGE: &str = "2026-11-04T12:00:00Z";
/// Unrelated commits after the merge: a clone of depth 2 starts at the
/// first, so its edge is 2 h after the publication.
const T_WORK: [&str; 2] = ["2026-11-04T14:00:00Z", "2026-11-05T10:00:00Z"];
/// When the reports run (Tuesday of W46: the default period is W45).
const T_REPORT: &str = "2026-11-10T10:00:00Z";

fn command(program: &str, dir: &Path, now: &str) -> Command {
    let mut cmd = match program {
        "incident" => Command::new(env!("CARGO_BIN_EXE_incident")),
        other => Command::new(other),
    };
    support::base_env(&mut cmd, dir.parent().expect("parent"));
    cmd.current_dir(dir)
        .env("GIT_AUTHOR_DATE", now)
        .env("GIT_COMMITTER_DATE", now)
        .env("INCIDENT_NOW", now);
    cmd
}

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn git(dir: &Path, now: &str, args: &[&str]) -> String {
    let out = command("git", dir, now).args(args).output().expect("git");
    ok(out, &format!("git {args:?}"))
}

fn inc(dir: &Path, now: &str, args: &[&str]) -> String {
    let out = command("incident", dir, now)
        .arg("--no-input")
        .args(args)
        .output()
        .expect("incident");
    ok(out, &format!("incident {args:?}"))
}

/// The report of W45 as JSON, and what it warned about.
fn report(dir: &Path) -> (Value, String) {
    let out = command("incident", dir, T_REPORT)
        .args(["--format", "json", "report", "--week", "2026-W45"])
        .output()
        .expect("incident");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_str(&ok(out, "report")).expect("report JSON");
    (json, stderr)
}

/// A repository with one SEV2 incident whose postmortem was published by
/// a merge commit a day after the resolution, and two commits after it;
/// returns (repository, incident id).
fn published_repo(root: &Path) -> (PathBuf, String) {
    let dir = root.join("origin");
    fs::create_dir_all(&dir).unwrap();
    git(&dir, T_INIT, &["init", "-q", "-b", "main"]);
    inc(&dir, T_INIT, &["init"]);
    let config = dir.join("incidents/config.toml");
    let text = fs::read_to_string(&config).unwrap();
    fs::write(
        &config,
        text + "\n[deployments]\ntag_pattern = \"deploy-*\"\n",
    )
    .unwrap();
    git(&dir, T_INIT, &["commit", "-q", "-am", "Count deployments"]);
    git(&dir, T_INIT, &["tag", "deploy-1"]);
    let declared = inc(
        &dir,
        T_DECLARE,
        &[
            "declare",
            "Checkout errors",
            "--severity",
            "SEV2",
            "--service",
            "checkout",
            "--started-at",
            T_DECLARE,
            "--format",
            "json",
        ],
    );
    let declared: Value = serde_json::from_str(&declared).unwrap();
    let id = declared["id"].as_str().unwrap().to_string();
    inc(
        &dir,
        T_RESOLVE,
        &["resolve", &id, "--resolution", "rolled back"],
    );
    let out = command("incident", &dir, T_REVIEW)
        .env("EDITOR", "sed -i 's/^> TODO:.*/Written by hand./'")
        .args(["--no-input", "postmortem", &id, "--edit"])
        .output()
        .unwrap();
    ok(out, "postmortem --edit");
    inc(&dir, T_REVIEW, &["postmortem", "review", &id]);
    git(
        &dir,
        T_MERGE,
        &[
            "merge",
            "-q",
            "--no-ff",
            "--no-edit",
            &format!("postmortem/{id}"),
        ],
    );
    for (n, when) in T_WORK.iter().enumerate() {
        fs::write(dir.join(format!("work{n}.txt")), "work\n").unwrap();
        git(&dir, when, &["add", "."]);
        git(&dir, when, &["commit", "-q", "-m", "Unrelated work"]);
    }
    git(&dir, T_WORK[1], &["tag", "deploy-2"]);
    (dir, id)
}

fn clone(root: &Path, from: &Path, name: &str, depth: Option<&str>) -> PathBuf {
    let url = format!("file://{}", from.display());
    let mut args = vec!["clone", "-q"];
    if let Some(depth) = depth {
        args.extend(["--depth", depth]);
    }
    args.extend([url.as_str(), name]);
    git(root, T_REPORT, &args);
    root.join(name)
}

#[test]
fn a_shallow_clone_leaves_out_what_its_history_does_not_reach() {
    let root = TempDir::new().unwrap();
    let (origin, _id) = published_repo(root.path());

    // The whole history: lead time 1 d 0 h, every record's lag measured,
    // and the record starts the day `incident init` ran.
    let full = clone(root.path(), &origin, "full", None);
    let (r, stderr) = report(&full);
    assert!(!stderr.contains("shallow"), "{stderr}");
    let m = &r["metrics"];
    assert_eq!(m["postmortem_lead_time"]["n"], 1, "{m}");
    assert_eq!(m["postmortem_lead_time"]["median_seconds"], 86_400);
    assert_eq!(m["postmortem_lead_time"]["excluded"], 0);
    // Declaration, resolution and review status: all recorded at once.
    assert_eq!(m["recording_lag"]["n"], 3, "{}", m["recording_lag"]);
    assert_eq!(m["recording_lag"]["excluded"], 0);
    assert_eq!(r["period"]["covered"]["since"], "2026-11-02T00:00:00+00:00");
    assert_eq!(r["period"]["not_covered"], json!([]));
    assert_eq!(m["change_failure_rate"]["deployments"], 2, "{m}");

    // Depth 2: the clone starts at the first unrelated commit, 2 h after
    // the merge, with the postmortem, the incident and the config there.
    let shallow = clone(root.path(), &origin, "shallow", Some("2"));
    assert_eq!(
        git(
            &shallow,
            T_REPORT,
            &["rev-parse", "--is-shallow-repository"]
        )
        .trim(),
        "true"
    );
    let (r, stderr) = report(&shallow);
    let m = &r["metrics"];
    assert_eq!(
        m["postmortem_lead_time"],
        json!({
            "n": 0, "median_seconds": null, "p90_seconds": null, "mean_seconds": null,
            "excluded": 1, "excluded_by_reason": {"shallow_clone": 1},
        }),
        "{m}"
    );
    let lag = &m["recording_lag"];
    assert_eq!(lag["n"], 0, "{lag}");
    assert_eq!(
        lag["excluded_by_reason"],
        json!({"shallow_clone": 3}),
        "{lag}"
    );
    // Not an overdue postmortem either: it is published, when is not here.
    assert_eq!(m["postmortems_overdue"], 0);
    // The record may start before the clone's history: the days before
    // the first incident are not here, rather than not recorded.
    assert_eq!(r["period"]["covered"]["since"], "2026-11-03T00:00:00+00:00");
    assert_eq!(
        r["period"]["not_covered"],
        json!([{
            "since": "2026-11-02T00:00:00+00:00",
            "until": "2026-11-03T00:00:00+00:00",
            "reason": "shallow_clone",
        }])
    );
    assert!(
        stderr.contains("git fetch --unshallow")
            && stderr.contains("fetch-depth: 0")
            && stderr.contains("when 1 postmortem was published (postmortem lead time")
            && stderr.contains("when 3 records were committed (recording lag)")
            && stderr.contains("when the record starts"),
        "{stderr}"
    );
    // The clone has no tag of a deployment before its history starts.
    let cfr = &m["change_failure_rate"];
    assert_eq!(cfr["available"], false, "{cfr}");
    assert!(
        cfr["reason"]
            .as_str()
            .is_some_and(|r| r.contains("shallow clone") && r.contains("4 Nov 2026")),
        "{cfr}"
    );
    // --as-of before the clone's history: refused, saying why.
    let out = command("incident", &shallow, T_REPORT)
        .args(["report", "--as-of", T_MERGE])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && stderr.contains("in this shallow clone")
            && stderr.contains("git fetch --unshallow"),
        "{stderr}"
    );
    // --strict refuses.
    let out = command("incident", &shallow, T_REPORT)
        .args(["report", "--week", "2026-W45", "--strict"])
        .output()
        .unwrap();
    assert!(!out.status.success());

    // Traceable: the Markdown report lists the incident as left out.
    let md = inc(
        &shallow,
        T_REPORT,
        &["report", "--week", "2026-W45", "--format", "markdown"],
    );
    assert!(md.contains("shallow clone"), "{md}");
    assert!(!md.contains("1d 2h"), "{md}");

    // Deep enough to reach the merge: measured as in the full clone.
    let deep = clone(root.path(), &origin, "deep", Some("4"));
    let (r, _) = report(&deep);
    let lead = &r["metrics"]["postmortem_lead_time"];
    assert_eq!(lead["n"], 1, "{lead}");
    assert_eq!(lead["median_seconds"], 86_400);
}

#[test]
fn a_shallow_clone_that_reaches_the_root_knows_when_the_record_starts() {
    let root = TempDir::new().unwrap();
    let dir = root.path().join("origin");
    fs::create_dir_all(&dir).unwrap();
    git(&dir, T_INIT, &["init", "-q", "-b", "main"]);
    inc(&dir, T_INIT, &["init"]);
    // A long side branch, merged after the incident: a clone of depth 4
    // cuts it off, while its first-parent line reaches the root.
    git(&dir, T_INIT, &["switch", "-q", "-c", "side"]);
    for n in 0..4 {
        fs::write(dir.join(format!("side{n}.txt")), "side\n").unwrap();
        git(&dir, T_INIT, &["add", "."]);
        git(&dir, T_INIT, &["commit", "-q", "-m", "Side work"]);
    }
    git(&dir, T_INIT, &["switch", "-q", "main"]);
    let declared = inc(
        &dir,
        T_DECLARE,
        &[
            "declare",
            "Queue stuck",
            "--severity",
            "SEV4",
            "--started-at",
            T_DECLARE,
            "--format",
            "json",
        ],
    );
    let id = serde_json::from_str::<Value>(&declared).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    inc(
        &dir,
        T_RESOLVE,
        &["resolve", &id, "--resolution", "restarted"],
    );
    git(
        &dir,
        T_MERGE,
        &["merge", "-q", "--no-ff", "--no-edit", "side"],
    );
    let shallow = clone(root.path(), &dir, "shallow", Some("4"));
    assert!(
        fs::read_to_string(shallow.join(".git/shallow")).is_ok_and(|s| !s.is_empty()),
        "the side branch is cut off"
    );
    let (r, stderr) = report(&shallow);
    // Shallow, but nothing this report needs is beyond its history.
    assert!(
        stderr.contains("shallow clone") && !stderr.contains("when the record starts"),
        "{stderr}"
    );
    assert_eq!(r["period"]["covered"]["since"], "2026-11-02T00:00:00+00:00");
    assert_eq!(r["period"]["not_covered"], json!([]));
    let lag = &r["metrics"]["recording_lag"];
    assert_eq!(lag["excluded"], 0, "{lag}");
    assert!(lag["n"].as_u64().unwrap() >= 2, "{lag}");
}
