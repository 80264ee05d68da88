//! `incident export` through the real binary, and the round trip
//! export → import into an empty repository → export.

mod support;

use serde_json::Value;
use support::Repo;

/// A repository with every kind of file: config edits, a template, shared
/// hooks, events of many kinds, a postmortem, action items.
fn rich_repo() -> (Repo, String) {
    let repo = Repo::init();
    let config = repo.path.join("incidents/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("timezone = \"UTC\"", "timezone = \"Europe/Berlin\"")
            + "\n[[component]]\nid = \"checkout\"\nname = \"Checkout\"\nservices = [\"checkout\"]\n",
    )
    .unwrap();
    std::fs::create_dir_all(repo.path.join("incidents/templates")).unwrap();
    std::fs::write(
        repo.path.join("incidents/templates/postmortem-short.md"),
        "# {{ incident.title }}\n\n## Summary\n\n> TODO: what happened\n",
    )
    .unwrap();
    std::fs::write(
        repo.path.join("incidents/hooks.toml"),
        "[[hook]]\nname = \"n\"\non = [\"*\"]\nrun = [\"true\"]\n",
    )
    .unwrap();
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "team config"]);
    let id = repo.declare(&[
        "Checkout \"latency\" ü",
        "-s",
        "SEV2",
        "--service",
        "checkout",
        "--commander",
        "alice",
        "--started-at",
        "2026-11-24 08:40",
        "--link",
        "https://grafana/d/1",
    ]);
    repo.ok(&["ack", &id, "--at", "2026-11-24 09:00"]);
    repo.ok(&[
        "update",
        &id,
        "--status",
        "identified",
        "-m",
        "line one\nline two",
        "--role",
        "scribe=bob",
        "--at",
        "2026-11-24 09:10",
    ]);
    repo.ok(&[
        "update",
        &id,
        "--severity",
        "SEV1",
        "--caused-by",
        "v1.42",
        "--summary",
        "pool exhausted",
        "--at",
        "2026-11-24 09:20",
    ]);
    repo.ok(&[
        "resolve",
        &id,
        "--resolution",
        "rolled back",
        "--at",
        "2026-11-24 09:40",
    ]);
    repo.ok(&[
        "action",
        "add",
        &id,
        "Alert on pool size",
        "--owner",
        "bob",
        "--due",
        "2026-12-15",
    ]);
    repo.ok(&["action", "done", &format!("{id}/1")]);
    // The review merges: the postmortem reaches the default branch.
    repo.git(&[
        "merge",
        "--no-ff",
        "-q",
        "-m",
        "Publish the postmortem",
        &format!("postmortem/{id}"),
    ]);
    let other = repo.declare(&["Login errors", "-s", "SEV4"]);
    repo.ok(&["cancel", &other, "--reason", "false alarm"]);
    // Public updates and a maintenance with its events.
    repo.ok(&[
        "comms",
        &id,
        "-a",
        "public",
        "--status",
        "resolved",
        "--public-title",
        "Checkout errors",
        "--data-loss",
        "no",
        "-m",
        "Checkout works again.",
    ]);
    let out = repo.ok(&[
        "--format",
        "json",
        "maintenance",
        "schedule",
        "Database upgrade",
        "--from",
        "2026-11-25 02:00",
        "--until",
        "2026-11-25 03:00",
        "--component",
        "checkout",
        "-m",
        "The API may be slow.",
    ]);
    let maintenance: Value = serde_json::from_str(&out).unwrap();
    let maintenance = maintenance["id"].as_str().unwrap().to_string();
    repo.ok(&["maintenance", "start", &maintenance]);
    repo.ok(&["maintenance", "complete", &maintenance, "-m", "Done."]);
    (repo, id)
}

/// An export without what may differ: the header's commit and each record's added-in commit.
fn without_commits(export: &str) -> String {
    export
        .lines()
        .map(|line| {
            let mut record: Value = serde_json::from_str(line).unwrap();
            record.as_object_mut().unwrap().remove("commit");
            serde_json::to_string(&record).unwrap()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn export_import_export_is_byte_identical_apart_from_commits() {
    let (repo, id) = rich_repo();
    let first = repo.ok(&["export"]);
    assert!(first.ends_with('\n'));
    let records: Vec<Value> = first
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records[0]["record"], "header");
    assert_eq!(records[0]["format"], "incident-export");
    assert_eq!(records[0]["version"], 1);
    assert_eq!(
        records[0]["commit"],
        repo.git(&["rev-parse", "HEAD"]).trim()
    );
    assert_eq!(records[1]["record"], "config");
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| r["record"].as_str().unwrap())
        .collect();
    for kind in [
        "file",
        "incident",
        "event",
        "postmortem",
        "action",
        "action_change",
        "derived",
    ] {
        assert!(kinds.contains(&kind), "no {kind} record: {kinds:?}");
    }
    // Every file record names the commit that added it, as git sees it.
    for record in records.iter().filter(|r| r["path"].is_string()) {
        let path = record["path"].as_str().unwrap();
        let added = repo.git(&[
            "log",
            "--first-parent",
            "--diff-filter=A",
            "--format=%H",
            "--",
            path,
        ]);
        assert_eq!(record["commit"], added.trim(), "{path}");
    }
    // Events in replay order, with their fields.
    let events: Vec<&Value> = records
        .iter()
        .filter(|r| r["record"] == "event" && r["incident"] == id.as_str())
        .collect();
    let ats: Vec<&str> = events
        .iter()
        .map(|e| e["fields"]["at"].as_str().unwrap())
        .collect();
    let mut sorted = ats.clone();
    sorted.sort();
    assert_eq!(ats, sorted);
    let derived = records
        .iter()
        .find(|r| r["record"] == "derived" && r["incident"] == id.as_str())
        .unwrap();
    assert_eq!(derived["derived"], true);
    assert_eq!(derived["state"]["status"], "resolved");
    assert_eq!(derived["state"]["severity"], "SEV1");

    let file = repo.home().join("all.jsonl");
    repo.ok(&["export", "--output", file.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), first);

    // Into an empty repository.
    let copy = Repo::init();
    let before = copy.commit_count();
    let imported = copy.run(&["import", "jsonl", file.to_str().unwrap()]);
    assert!(imported.status.success(), "{imported:?}");
    let out = String::from_utf8_lossy(&imported.stdout);
    assert!(
        out.contains("Imported 2 incident(s)") && out.contains("and 1 maintenance(s)"),
        "{out}"
    );
    assert!(!out.contains("marked historical"), "{out}");
    let err = String::from_utf8_lossy(&imported.stderr);
    assert!(!err.contains("skipped"), "{err}");
    let maintenance_files = first
        .lines()
        .filter(|l| l.contains("\"path\":\"incidents/maintenance/"))
        .count();
    assert_eq!(
        maintenance_files, 3,
        "the maintenance, its start... : {first}"
    );
    assert_eq!(copy.commit_count(), before + 1);
    let second = copy.ok(&["export"]);
    assert_ne!(first, second, "the commits differ");
    assert_eq!(without_commits(&first), without_commits(&second));
    let check = copy.run(&["check"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert_eq!(copy.git(&["status", "--porcelain"]), "");
    // The shared hooks came along, untrusted.
    assert!(copy.ok(&["hooks", "list"]).contains("no: not trusted"));
    // Again: nothing new.
    let again = copy.ok(&["import", "jsonl", file.to_str().unwrap()]);
    assert!(
        again.contains("Nothing to import: all 2 incident(s) from jsonl were imported before"),
        "{again}"
    );
}

#[test]
fn export_as_of_a_commit_and_as_csv() {
    let (repo, id) = rich_repo();
    let commits: Vec<String> = repo
        .git(&["log", "--format=%H"])
        .lines()
        .map(str::to_string)
        .collect();
    // As the branch stood before the second incident and the action items
    // (after them: cancel, a public update and three maintenance commits).
    let then = &commits[8];
    let old = repo.ok(&["export", "--as-of", then]);
    let records: Vec<Value> = old
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records[0]["commit"], then.as_str());
    assert_eq!(
        records.iter().filter(|r| r["record"] == "incident").count(),
        1
    );
    assert!(!records.iter().any(|r| r["record"] == "action"));
    let err = repo.fails(1, &["export", "--as-of", "no-such-rev"]);
    assert!(
        err.contains("--as-of 'no-such-rev' names no commit"),
        "{err}"
    );

    let csv = repo.ok(&["--format", "csv", "export"]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    for column in [
        "id",
        "started",
        "detected",
        "declared",
        "acknowledged",
        "mitigated",
        "resolved",
        "closed",
        "assumed_milestones",
        "time_to_resolve_seconds",
    ] {
        assert!(headers.contains(&column.to_string()), "{headers:?}");
    }
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let row = rows.iter().find(|r| r[col("id")] == id).unwrap();
    assert_eq!(&row[col("started")], "2026-11-24T08:40:00+01:00");
    assert_eq!(&row[col("resolved")], "2026-11-24T09:40:00+01:00");
    assert_eq!(&row[col("time_to_resolve_seconds")], "3600");
    // Never a time nobody stated: detected was only assumed.
    assert_eq!(&row[col("detected")], "");
    assert!(row[col("assumed_milestones")].contains("detected"));
}

/// A file under incidents/ whose name is not UTF-8 cannot be named in
/// JSON: the export refuses, naming it, instead of leaving it out.
#[test]
fn export_refuses_file_names_that_are_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let repo = Repo::init();
    let id = repo.declare(&["Disk full", "-s", "SEV3"]);
    let shown = repo.show(&id);
    let events = repo
        .path
        .join(shown["folder"].as_str().unwrap())
        .join("events");
    std::fs::create_dir_all(&events).unwrap();
    let name = std::ffi::OsStr::from_bytes(b"20261124T030000Z-abcd-note-\xff.toml");
    std::fs::write(events.join(name), "text = \"odd\"\n").unwrap();
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "a hand-made file"]);
    let before = repo.state();
    let err = repo.fails(1, &["export"]);
    assert!(
        err.contains("-note-\u{fffd}.toml") && err.contains("not UTF-8") && err.contains("git mv"),
        "{err}"
    );
    let output = repo.home().join("out.jsonl");
    repo.fails(1, &["export", "--output", output.to_str().unwrap()]);
    assert!(!output.exists(), "nothing half-written");
    assert_eq!(repo.state(), before);
}
