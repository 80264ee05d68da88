//! Event hooks through the real binary: what a hook gets, trust of the
//! versioned file, failures and timeouts, nesting, the central notifier
//! and the signed webhook.

mod support;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use support::Repo;

/// A hook that appends its stdin (one JSON line) and its INCIDENT_* environment to `log`.
fn recorder(name: &str, on: &str, log: &Path) -> String {
    format!(
        "[[hook]]\nname = \"{name}\"\non = [{on}]\nrun = [\"sh\", \"-c\", \"cat >> \\\"$0\\\"; echo >> \\\"$0\\\"; echo \\\"$INCIDENT_ID $INCIDENT_EVENT $INCIDENT_COMMIT\\\" >> \\\"$0.env\\\"\", \"{}\"]\n",
        log.display()
    )
}

fn clone_hooks(repo: &Repo, text: &str) {
    let dir = repo.path.join(".git/incident");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hooks.toml"), text).unwrap();
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("hook input is JSON"))
        .collect()
}

/// Check `value` against the parts of JSON Schema our schema uses.
fn conforms(schema: &Value, value: &Value, at: &str) {
    if let Some(kind) = schema.get("type") {
        let kinds: Vec<&str> = match kind {
            Value::String(k) => vec![k.as_str()],
            Value::Array(ks) => ks.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let ok = kinds.iter().any(|k| match *k {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            _ => false,
        });
        assert!(ok, "{at}: {value} is not {kinds:?}");
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        let text = value.as_str().unwrap_or_default();
        if pattern == "^[0-9a-f]{40}$" {
            assert!(
                text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit()),
                "{at}: {text}"
            );
        } else if pattern.starts_with("^incident") {
            assert!(text.starts_with("incident."), "{at}: {text}");
        }
    }
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for key in required.iter().filter_map(Value::as_str) {
            assert!(value.get(key).is_some(), "{at}: missing '{key}' in {value}");
        }
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    if let (Some(properties), Some(object)) = (properties, value.as_object()) {
        for (key, item) in object {
            match properties.get(key) {
                Some(sub) => conforms(sub, item, &format!("{at}.{key}")),
                None => assert_ne!(
                    schema.get("additionalProperties"),
                    Some(&Value::Bool(false)),
                    "{at}: unexpected '{key}'"
                ),
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            conforms(items, item, &format!("{at}[{i}]"));
        }
    }
    if let (Some(extra), Some(object)) = (
        schema.get("additionalProperties").filter(|v| v.is_object()),
        value.as_object(),
    ) {
        for (key, item) in object {
            conforms(extra, item, &format!("{at}.{key}"));
        }
    }
}

fn schema() -> Value {
    let path = format!(
        "{}/schemas/hook-event.schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn head(repo: &Repo) -> String {
    repo.git(&["rev-parse", "HEAD"]).trim().to_string()
}

#[test]
fn a_recorder_hook_gets_each_event_as_json_matching_the_schema() {
    let repo = Repo::init();
    let log = repo.home().join("events.jsonl");
    clone_hooks(&repo, &recorder("recorder", "\"*\"", &log));
    let id = repo.declare(&["Checkout down", "-s", "SEV2", "--service", "checkout"]);
    let declared_commit = head(&repo);
    repo.ok(&["update", &id, "--status", "identified", "-m", "bad deploy"]);
    let update_commit = head(&repo);

    let events = lines(&log);
    assert_eq!(events.len(), 3, "{events:?}");
    let schema = schema();
    for event in &events {
        conforms(&schema, event, "$");
    }
    assert_eq!(events[0]["type"], "incident.declared");
    assert_eq!(events[0]["id"], format!("declared-{id}"));
    assert_eq!(events[0]["commit"], declared_commit);
    assert_eq!(events[0]["data"]["incident"]["services"][0], "checkout");
    // One commit, two events: status then note, each with its file name as id.
    let kinds: Vec<&str> = events[1..]
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["incident.status", "incident.note"]);
    for event in &events[1..] {
        assert_eq!(event["commit"], update_commit);
        let file = event["data"]["file"].as_str().unwrap();
        assert!(
            file.ends_with(&format!("{}.toml", event["id"].as_str().unwrap())),
            "{file}"
        );
        assert!(repo.path.join(file).is_file());
        assert_eq!(event["data"]["incident"]["status"], "identified");
    }
    assert_eq!(events[1]["data"]["event"]["status"], "identified");
    assert_eq!(events[1]["data"]["event"]["from"], "triage");
    assert_eq!(events[2]["data"]["event"]["text"], "bad deploy");
    let env = std::fs::read_to_string(log.with_extension("jsonl.env")).unwrap();
    assert_eq!(
        env.lines().collect::<Vec<_>>(),
        [
            format!("{id} declared {declared_commit}"),
            format!("{id} identified {update_commit}"),
            format!("{id} note {update_commit}"),
        ]
    );
    // Filters: a SEV1-only hook on resolved does not run for this SEV2.
    let other = repo.home().join("sev1.jsonl");
    clone_hooks(
        &repo,
        &format!(
            "{}{}severity = [\"SEV1\"]\n",
            recorder("recorder", "\"*\"", &log),
            recorder("sev1", "\"resolved\"", &other)
        ),
    );
    repo.ok(&["resolve", &id, "--resolution", "rolled back"]);
    assert!(!other.exists());
    // Resolving a SEV2 records two events: the resolution and the postmortem due.
    let seen = lines(&log);
    assert_eq!(seen.len(), 5);
    assert_eq!(seen[3]["type"], "incident.status");
    assert_eq!(seen[4]["type"], "incident.postmortem_due");
    // --no-hooks and INCIDENT_HOOKS=0.
    repo.ok(&["--no-hooks", "update", &id, "-m", "quiet"]);
    let out = repo
        .command()
        .env("INCIDENT_HOOKS", "0")
        .args(["update", &id, "-m", "quiet too"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(lines(&log).len(), 5);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn versioned_hooks_run_only_once_trusted_and_an_edit_revokes_trust() {
    let repo = Repo::init();
    let log = repo.home().join("events.jsonl");
    std::fs::write(
        repo.path.join("incidents/hooks.toml"),
        recorder("shared", "\"declared\"", &log),
    )
    .unwrap();
    repo.git(&["add", "incidents/hooks.toml"]);
    repo.git(&["commit", "-qm", "shared hooks"]);

    let out = repo.run(&["declare", "First", "-s", "SEV3"]);
    assert!(out.status.success());
    assert!(!log.exists(), "an untrusted hook ran");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("incidents/hooks.toml is not trusted in this clone"),
        "{err}"
    );
    let listed = repo.ok(&["hooks", "list"]);
    assert!(listed.contains("no: not trusted"), "{listed}");
    let refused = repo.fails(1, &["hooks", "test", "shared"]);
    assert!(refused.contains("incident hooks trust"), "{refused}");

    let trusted = repo.ok(&["hooks", "trust"]);
    assert!(
        trusted.contains("is trusted now") && trusted.contains("shared"),
        "{trusted}"
    );
    repo.declare(&["Second", "-s", "SEV3"]);
    assert_eq!(lines(&log).len(), 1);

    // Someone edits the file (as a pull would): trust is gone.
    let edited = format!(
        "{}\n# edited\n",
        std::fs::read_to_string(repo.path.join("incidents/hooks.toml")).unwrap()
    );
    std::fs::write(repo.path.join("incidents/hooks.toml"), edited).unwrap();
    repo.git(&["commit", "-qam", "edit hooks"]);
    let out = repo.run(&["declare", "Third", "-s", "SEV3"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("changed since it was trusted"));
    assert_eq!(lines(&log).len(), 1);
    repo.ok(&["hooks", "trust"]);
    repo.declare(&["Fourth", "-s", "SEV3"]);
    assert_eq!(lines(&log).len(), 2);
}

#[test]
fn failing_and_hanging_hooks_leave_the_commit_warn_log_and_queue_for_retry() {
    let repo = Repo::init();
    let flag = repo.home().join("receiver-up");
    let delivered = repo.home().join("delivered.jsonl");
    // The token in argv stands for a secret: it must never reach the log.
    clone_hooks(
        &repo,
        &format!(
            "[[hook]]\nname = \"flaky\"\non = [\"declared\"]\nrun = [\"sh\", \"-c\", \"test -e \\\"$1\\\" || {{ echo receiver down >&2; exit 7; }}; cat >> \\\"$2\\\"\", \"sh\", \"{}\", \"{}\", \"token-s3cr3t\"]\n\
             [[hook]]\nname = \"hangs\"\non = [\"declared\"]\ntimeout = \"300ms\"\nrun = [\"sh\", \"-c\", \"sleep 30; echo late\"]\n",
            flag.display(),
            delivered.display()
        ),
    );
    let before = repo.commit_count();
    let started = std::time::Instant::now();
    let out = repo.run(&["declare", "Flaky receiver", "-s", "SEV2"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(repo.commit_count(), before + 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: hook 'flaky' failed with exit code 7"),
        "{err}"
    );
    assert!(err.contains("receiver down"), "{err}");
    assert!(
        err.contains("warning: hook 'hangs' did not finish within its timeout"),
        "{err}"
    );
    assert!(err.contains("incident hooks retry"), "{err}");
    let log = std::fs::read_to_string(repo.path.join(".git/incident/hooks.log")).unwrap();
    assert!(log.contains("failed exit=7 hook=flaky"), "{log}");
    assert!(log.contains("timeout hook=hangs"), "{log}");
    assert!(
        !log.contains("token-s3cr3t") && !log.contains("receiver down"),
        "{log}"
    );
    let queue = std::fs::read_dir(repo.path.join(".git/incident/hooks-queue"))
        .unwrap()
        .count();
    assert_eq!(queue, 2);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");

    // The receiver is back; the hanging hook is fixed.
    std::fs::write(&flag, "").unwrap();
    clone_hooks(
        &repo,
        &std::fs::read_to_string(repo.path.join(".git/incident/hooks.toml"))
            .unwrap()
            .replace("sleep 30; echo late", "true"),
    );
    let retried = repo.ok(&["hooks", "retry"]);
    assert!(
        retried.contains("2 queued delivery(ies) sent, 0 still queued"),
        "{retried}"
    );
    let got = lines(&delivered);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["type"], "incident.declared");
    assert_eq!(
        repo.ok(&["hooks", "retry"]).trim(),
        "0 queued delivery(ies) sent, 0 still queued"
    );
}

#[test]
fn a_hook_that_records_on_its_own_incident_commits_and_nesting_stops() {
    let repo = Repo::init();
    // On every event, record a note on the same incident: without a limit
    // this would never end. (argv has no shell: `sh -c` passes the id.)
    clone_hooks(
        &repo,
        "[[hook]]\nname = \"echo\"\non = [\"*\"]\nrun = [\"sh\", \"-c\", \"exec \\\"$0\\\" update \\\"$INCIDENT_ID\\\" -m 'seen by the hook'\", \"INCIDENT_BIN\"]\n"
            .replace("INCIDENT_BIN", env!("CARGO_BIN_EXE_incident"))
            .as_str(),
    );
    let before = repo.commit_count();
    let out = repo.run(&["declare", "Loop", "-s", "SEV3"]);
    assert!(out.status.success());
    // The declaration, then one note per nesting level (3), then hooks stop.
    assert_eq!(repo.commit_count(), before + 4);
    let id = repo.ok(&["--format", "json", "list"]);
    let id: Value = serde_json::from_str(&id).unwrap();
    let shown = repo.show(id[0]["id"].as_str().unwrap());
    assert_eq!(support::notes(&shown).len(), 3);
    let log = std::fs::read_to_string(repo.path.join(".git/incident/hooks.log")).unwrap();
    assert_eq!(
        log.lines().filter(|l| l.contains(" ok hook=echo")).count(),
        3,
        "{log}"
    );
    let check = repo.run(&["check"]);
    assert!(check.status.success());
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn hooks_run_since_notifies_each_event_once() {
    let repo = Repo::init();
    let start = head(&repo);
    let log = repo.home().join("central.jsonl");
    // Responders' clones record with hooks off; CI notifies centrally.
    let quiet = |args: &[&str]| {
        let out = repo
            .command()
            .env("INCIDENT_HOOKS", "0")
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    clone_hooks(&repo, &recorder("central", "\"*\"", &log));
    let id = quiet(&["--format", "json", "declare", "Queue backlog", "-s", "SEV2"]);
    let id: Value = serde_json::from_str(&id).unwrap();
    let id = id["id"].as_str().unwrap().to_string();
    quiet(&["ack", &id]);
    assert!(!log.exists());

    let first = repo.ok(&["hooks", "run", "--since", &start]);
    assert!(first.starts_with("3 event(s) in 2 commit(s)"), "{first}");
    let ids: Vec<String> = lines(&log)
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[0], format!("declared-{id}"));
    // The same range again: the mark says it was done.
    let again = repo.ok(&["hooks", "run", "--since", &start]);
    assert!(again.starts_with("0 event(s) in 0 commit(s)"), "{again}");
    assert_eq!(lines(&log).len(), 3);
    // A new event: only it, with or without --since.
    quiet(&["update", &id, "-m", "draining"]);
    repo.ok(&["hooks", "run"]);
    let all = lines(&log);
    assert_eq!(all.len(), 4);
    assert_eq!(all[3]["type"], "incident.note");
    let mark = repo.git(&["rev-parse", "refs/incident/hooks-notified/main"]);
    assert_eq!(mark.trim(), head(&repo));
}

/// `INCIDENT_NOW` as the real clock reads it: the reference verifier
/// refuses timestamps more than five minutes off.
fn real_now() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let out = Command::new("date")
        .args(["-u", "-d", &format!("@{seconds}"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn the_webhook_sender_signs_per_standard_webhooks() {
    let mut repo = Repo::init();
    repo.now = real_now();
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let received = repo.home().join("received.jsonl");
    let receiver = format!(
        "{}/tests/fixtures/hooks/webhook_receiver.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut server = Command::new("python3")
        .args([receiver.as_str(), received.to_str().unwrap(), secret, "2"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut port = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();
    let url = format!("http://127.0.0.1:{}/hooks/incident", port.trim());
    clone_hooks(
        &repo,
        &format!(
            "[[hook]]\nname = \"webhook\"\non = [\"declared\", \"status\"]\nrun = [\"incident\", \"hooks\", \"webhook\", \"--url\", \"{url}\", \"--secret-env\", \"WEBHOOK_SECRET\"]\n"
        ),
    );
    let out = repo
        .command()
        .env("WEBHOOK_SECRET", secret)
        .args(["--format", "json", "declare", "Signed", "-s", "SEV1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = id["id"].as_str().unwrap().to_string();
    // A wrong secret: the receiver refuses, the hook fails and is queued.
    let out = repo
        .command()
        .env("WEBHOOK_SECRET", "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .args(["ack", &id])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("hook 'webhook' failed"));
    let _ = server.wait();

    let got = lines(&received);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0]["verified"], true, "{:?}", got[0]);
    assert_ne!(got[0]["verified_by_package"], Value::String(String::new()));
    if !got[0]["verified_by_package"].is_null() {
        assert_eq!(got[0]["verified_by_package"], true, "{:?}", got[0]);
    }
    assert_eq!(got[0]["id"], format!("declared-{id}"));
    assert_eq!(got[0]["body"]["id"], format!("declared-{id}"));
    assert_eq!(got[0]["content_type"], "application/json");
    assert!(got[0]["signature"].as_str().unwrap().starts_with("v1,"));
    assert_eq!(got[1]["verified"], false);
    assert_eq!(got[1]["body"]["type"], "incident.status");
    let queued: Vec<PathBuf> = std::fs::read_dir(repo.path.join(".git/incident/hooks-queue"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(queued.len(), 1);
}

#[test]
fn hooks_test_sends_a_sample_event() {
    let repo = Repo::init();
    let log = repo.home().join("test.jsonl");
    clone_hooks(&repo, &recorder("try", "\"declared\"", &log));
    let none = repo.fails(1, &["hooks", "test", "try"]);
    assert!(none.contains("declare one first"), "{none}");
    repo.ok(&["--no-hooks", "declare", "Sample", "-s", "SEV4"]);
    let out = repo.ok(&["hooks", "test", "try", "--event", "declared"]);
    assert!(out.contains("hook 'try' succeeded"), "{out}");
    let got = lines(&log);
    assert_eq!(got.len(), 1);
    assert!(got[0]["id"].as_str().unwrap().starts_with("test-"));
    conforms(&schema(), &got[0], "$");
    let out = repo.ok(&["hooks", "test", "try", "--event", "resolved"]);
    assert!(out.contains("succeeded"), "{out}");
    assert_eq!(lines(&log)[1]["type"], "incident.status");
    let unknown = repo.fails(1, &["hooks", "test", "nope"]);
    assert!(unknown.contains("unknown hook 'nope'"), "{unknown}");
}

/// Trust covers what a hook runs: a script of the repository that a
/// trusted hook names changes upstream, and after `git pull` the hook does
/// not run until it is trusted again.
#[test]
fn trust_covers_the_scripts_hooks_run_and_a_pull_that_changes_one_revokes_it() {
    let repo = Repo::init();
    let log = repo.home().join("notified.txt");
    std::fs::create_dir_all(repo.path.join("scripts")).unwrap();
    let script = |text: &str| format!("cat > /dev/null; echo {text} >> \"{}\"\n", log.display());
    std::fs::write(repo.path.join("scripts/notify.sh"), script("reviewed")).unwrap();
    std::fs::write(
        repo.path.join("incidents/hooks.toml"),
        "[[hook]]\nname = \"notify\"\non = [\"*\"]\nrun = [\"sh\", \"scripts/notify.sh\"]\n",
    )
    .unwrap();
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "shared hook and its script"]);
    let upstream = repo.sibling("upstream.git");
    repo.git(&["clone", "-q", "--bare", ".", upstream.to_str().unwrap()]);
    repo.git(&["remote", "add", "origin", upstream.to_str().unwrap()]);
    repo.git(&["fetch", "-q", "origin"]);
    repo.git(&["branch", "-q", "--set-upstream-to=origin/main"]);

    let trusted = repo.ok(&["hooks", "trust"]);
    assert!(trusted.contains("scripts/notify.sh"), "{trusted}");
    let id = repo.declare(&["Mirror down", "-s", "SEV3"]);
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "reviewed\n");

    // Someone else changes the script upstream; this clone pulls it.
    let other = repo.sibling("other");
    support::git_in(
        &repo.home(),
        &repo.home(),
        &[
            "clone",
            "-q",
            upstream.to_str().unwrap(),
            other.to_str().unwrap(),
        ],
    );
    std::fs::write(other.join("scripts/notify.sh"), script("NEW CODE")).unwrap();
    support::git_in(
        &other,
        &repo.home(),
        &["commit", "-qam", "change the script"],
    );
    support::git_in(&other, &repo.home(), &["push", "-q", "origin", "main"]);
    repo.git(&["pull", "-q", "--no-rebase"]);

    let out = repo.run(&["update", &id, "-m", "after the pull"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("notify")
            && err.contains("scripts/notify.sh")
            && err.contains("incident hooks trust"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "reviewed\n",
        "the changed script ran without trust"
    );
    let listed = repo.ok(&["hooks", "list"]);
    assert!(listed.contains("its files are not trusted"), "{listed}");
    assert!(
        repo.fails(1, &["hooks", "test", "notify"])
            .contains("scripts/notify.sh")
    );

    // The same holds for a hook of your own that runs a file of the repository.
    std::fs::remove_file(repo.path.join("incidents/hooks.toml")).unwrap();
    repo.git(&["commit", "-qam", "no shared hooks"]);
    clone_hooks(
        &repo,
        "[[hook]]\nname = \"mine\"\non = [\"*\"]\nrun = [\"sh\", \"./scripts/../scripts/notify.sh\"]\n",
    );
    repo.ok(&["update", &id, "-m", "own hook, untrusted script"]);
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "reviewed\n");
    repo.ok(&["hooks", "trust"]);
    repo.ok(&["update", &id, "-m", "trusted now"]);
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "reviewed\nNEW CODE\n"
    );
}

/// Untrusted content never affects trusted hooks: a broken versioned file,
/// or one that reuses the name of a hook of yours, is a warning, and yours
/// run as before.
#[test]
fn an_untrusted_versioned_file_cannot_switch_off_or_shadow_trusted_hooks() {
    let repo = Repo::init();
    let log = repo.home().join("mine.jsonl");
    let config_dir = repo.home().join(".config/incident");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("hooks.toml"),
        recorder("slack", "\"*\"", &log),
    )
    .unwrap();

    for (what, versioned) in [
        ("invalid TOML", "[[hook\nname = \"x\"\n".to_string()),
        (
            "a name of mine",
            "[[hook]]\nname = \"slack\"\non = [\"*\"]\nrun = [\"sh\", \"-c\", \"echo shadowed\"]\n"
                .to_string(),
        ),
    ] {
        std::fs::write(repo.path.join("incidents/hooks.toml"), versioned).unwrap();
        repo.git(&["add", "-A"]);
        repo.git(&["commit", "-qm", what]);
        let before = lines(&log).len();
        let out = repo.run(&["declare", what, "-s", "SEV3"]);
        assert!(out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("warning:") && err.contains("incidents/hooks.toml"),
            "{what}: {err}"
        );
        assert!(!err.contains("hooks did not run:"), "{what}: {err}");
        assert_eq!(lines(&log).len(), before + 1, "{what}: my hook did not run");
        let listed = repo.ok(&["--format", "json", "hooks", "list"]);
        let listed: Value = serde_json::from_str(&listed).unwrap();
        let mine = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["name"] == "slack" && h["source"] == "user")
            .unwrap();
        assert_eq!(mine["runs"], true, "{what}: {listed}");
    }
    // Even once trusted, the versioned hook does not replace mine.
    repo.ok(&["hooks", "trust"]);
    let out = repo.run(&["declare", "after trust", "-s", "SEV3"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("is defined in"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("shadowed"));
    assert_eq!(lines(&log).len(), 3);
}

/// The central notifier loses nothing: a hook that is not trusted, or that
/// fails, keeps its mark before what it did not take, the run exits 1, and
/// the next run sends exactly what is owed; all zeros (GitHub's
/// `event.before` on a first push) means from the first commit.
#[test]
fn hooks_run_moves_marks_only_past_what_was_delivered() {
    let repo = Repo::init();
    let start = head(&repo);
    let quiet = |args: &[&str]| {
        let out = repo
            .command()
            .env("INCIDENT_HOOKS", "0")
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let shared = repo.home().join("shared.jsonl");
    std::fs::write(
        repo.path.join("incidents/hooks.toml"),
        recorder("shared", "\"*\"", &shared),
    )
    .unwrap();
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "shared hooks"]);
    let id = quiet(&["-q", "declare", "Queue backlog", "-s", "SEV2"]);
    let id = id.trim().to_string();
    quiet(&["ack", &id]);

    // Not trusted: nothing runs, the run fails, the events stay owed.
    let err = repo.fails(1, &["hooks", "run", "--since", &start]);
    assert!(err.contains("not trusted"), "{err}");
    assert!(
        err.contains("events stay owed to shared (3 event(s))"),
        "{err}"
    );
    assert!(!shared.exists());
    repo.ok(&["hooks", "trust"]);
    let out = repo.ok(&["hooks", "run"]);
    assert!(out.contains("3 hook run(s), 0 failed"), "{out}");
    assert_eq!(lines(&shared).len(), 3);

    // A failing hook: the others go on, it stops at its first failure,
    // nothing is queued in this (throwaway) clone, and the next run sends
    // what it missed, in order, and nothing twice.
    let up = repo.home().join("receiver-up");
    let flaky = repo.home().join("flaky.jsonl");
    clone_hooks(
        &repo,
        &format!(
            "[[hook]]\nname = \"flaky\"\non = [\"*\"]\nrun = [\"sh\", \"-c\", \"test -e \\\"$1\\\" || exit 7; cat >> \\\"$2\\\"; echo >> \\\"$2\\\"\", \"sh\", \"{}\", \"{}\"]\n",
            up.display(),
            flaky.display()
        ),
    );
    quiet(&["update", &id, "-m", "draining"]);
    quiet(&["update", &id, "-m", "drained"]);
    let err = repo.fails(1, &["hooks", "run"]);
    assert!(
        err.contains("hook 'flaky' failed with exit code 7"),
        "{err}"
    );
    assert!(err.contains("1 delivery(ies) failed"), "{err}");
    assert!(err.contains("flaky (2 event(s))"), "{err}");
    assert_eq!(lines(&shared).len(), 5);
    assert!(!repo.path.join(".git/incident/hooks-queue").exists());
    std::fs::write(&up, "").unwrap();
    let out = repo.ok(&["hooks", "run"]);
    assert!(out.contains("2 hook run(s), 0 failed"), "{out}");
    let texts: Vec<String> = lines(&flaky)
        .iter()
        .map(|e| e["data"]["event"]["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(texts, ["draining", "drained"]);
    assert_eq!(lines(&shared).len(), 5);
    assert!(repo.ok(&["hooks", "run"]).contains("0 hook run(s)"));

    // A fresh clone in CI, first push of the branch: all zeros is the root.
    let ci = repo.sibling("ci");
    support::git_in(
        &repo.home(),
        &repo.home(),
        &[
            "clone",
            "-q",
            repo.path.to_str().unwrap(),
            ci.to_str().unwrap(),
        ],
    );
    let central = repo.home().join("central.jsonl");
    std::fs::create_dir_all(ci.join(".git/incident")).unwrap();
    std::fs::write(
        ci.join(".git/incident/hooks.toml"),
        recorder("central", "\"*\"", &central),
    )
    .unwrap();
    repo.ok_in(&ci, &["hooks", "trust"]);
    let out = repo.run_in(
        &ci,
        &[
            "hooks",
            "run",
            "--since",
            "0000000000000000000000000000000000000000",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(lines(&central).len(), 5);
    assert_eq!(lines(&central)[0]["id"], format!("declared-{id}"));
}

/// Action item commands fire hooks as README says: `incident.action`, with
/// the trailer's name (`action-added`, `action-done`, `action-dropped`) in
/// INCIDENT_EVENT and as a filter, once each through `hooks run --since`.
#[test]
fn action_item_commands_fire_hooks() {
    let repo = Repo::init();
    let id = repo.declare(&["Pool exhausted", "-s", "SEV2"]);
    let log = repo.home().join("actions.jsonl");
    let done_log = repo.home().join("done.jsonl");
    clone_hooks(
        &repo,
        &format!(
            "{}{}",
            recorder("all", "\"action\"", &log),
            recorder("done-only", "\"action-done\"", &done_log)
        ),
    );
    let start = head(&repo);
    repo.ok(&[
        "action",
        "add",
        &id,
        "Alert on pool saturation",
        "--owner",
        "bob",
    ]);
    repo.ok(&["action", "add", &id, "Load test the pool"]);
    repo.ok(&["action", "done", &format!("{id}/1")]);
    repo.ok(&[
        "action",
        "drop",
        &format!("{id}/2"),
        "--reason",
        "covered by 1",
    ]);
    let schema = schema();
    let events = lines(&log);
    assert_eq!(events.len(), 4, "{events:?}");
    for event in &events {
        conforms(&schema, event, "event");
        assert_eq!(event["type"], "incident.action");
        assert!(
            repo.path
                .join(event["data"]["file"].as_str().unwrap())
                .is_file()
        );
    }
    assert_eq!(
        events[0]["data"]["event"]["text"],
        "Alert on pool saturation"
    );
    assert_eq!(events[2]["data"]["event"]["kind"], "done");
    let env = std::fs::read_to_string(log.with_extension("jsonl.env")).unwrap();
    let fired: Vec<&str> = env.lines().map(|l| l.split(' ').nth(1).unwrap()).collect();
    assert_eq!(
        fired,
        [
            "action-added",
            "action-added",
            "action-done",
            "action-dropped"
        ]
    );
    assert_eq!(lines(&done_log).len(), 1);

    // The central notifier sends the same events, once.
    let central = repo.home().join("central.jsonl");
    clone_hooks(&repo, &recorder("central", "\"action\"", &central));
    repo.ok(&["hooks", "run", "--since", &start]);
    repo.ok(&["hooks", "run", "--since", &start]);
    let sent = lines(&central);
    assert_eq!(sent.len(), 4, "{sent:?}");
    let ids = |events: &[Value]| -> Vec<String> {
        events
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&sent), ids(&events), "the same idempotency keys");
}

/// An untrusted shared hook with no event in the range owes nothing: the
/// run warns and exits 0 (the `hooks --help` example in a fresh clone); a
/// hooks file that does not parse still fails the run.
#[test]
fn hooks_run_with_nothing_owed_succeeds_with_a_warning() {
    let repo = Repo::init();
    std::fs::write(
        repo.path.join("incidents/hooks.toml"),
        "[[hook]]\nname = \"slack\"\non = [\"*\"]\nrun = [\"true\"]\n",
    )
    .unwrap();
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "shared hooks"]);
    let out = repo.run(&["hooks", "run", "--since", "HEAD~1"]);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not trusted"), "{stderr}");
    clone_hooks(&repo, "[[hook]\nname = ");
    let err = repo.fails(1, &["hooks", "run", "--since", "HEAD~1"]);
    assert!(err.contains("hooks.toml:1:"), "{err}");
}
