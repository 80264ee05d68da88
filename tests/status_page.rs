//! `incident status-page build`: the static page, its JSON, feeds and
//! badge, through the real binary on real repositories.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::Repo;

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// A repository with components (names may be hostile) and page settings, committed.
fn repo_with(components: &[(&str, &str, &str)], page_name: &str) -> Repo {
    let repo = Repo::init();
    let config = repo.path.join("incidents/config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    for (id, name, services) in components {
        text.push_str(&format!(
            "\n[[component]]\nid = \"{id}\"\nname = {}\ngroup = {}\ndescription = {}\nservices = [\"{services}\"]\n",
            toml_string(name),
            toml_string(&format!("Group of {name}")),
            toml_string(&format!("About {name}")),
        ));
    }
    text.push_str(&format!(
        "\n[status_page]\nname = {}\ntimezone = \"UTC\"\n",
        toml_string(page_name)
    ));
    std::fs::write(&config, text).unwrap();
    repo.git(&["commit", "-qam", "components"]);
    repo
}

fn standard_repo() -> Repo {
    repo_with(
        &[("api", "API", "api"), ("web", "Website", "web")],
        "Example Status",
    )
}

/// Build into a new folder; returns it.
fn build(repo: &Repo, extra: &[&str]) -> PathBuf {
    let out = repo.home().join(format!("site-{}", next()));
    let mut args = vec!["status-page", "build", "--output", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    repo.ok(&args);
    out
}

fn next() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

/// Every file of a built tree, by relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn json(dir: &Path, file: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}\n{text}"))
}

fn text(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// An empty commit at a given time: moves the page's clock.
fn tick(repo: &Repo, date: &str) {
    let mut cmd = Command::new("git");
    support::base_env(&mut cmd, &repo.home());
    let status = cmd
        .current_dir(&repo.path)
        .env("GIT_COMMITTER_DATE", date)
        .env("GIT_AUTHOR_DATE", date)
        .args(["commit", "-q", "--allow-empty", "-m", "tick"])
        .status()
        .unwrap();
    assert!(status.success());
}

const ENDPOINTS: &[&str] = &[
    "summary.json",
    "status.json",
    "components.json",
    "incidents.json",
    "incidents/unresolved.json",
    "scheduled-maintenances.json",
    "scheduled-maintenances/upcoming.json",
    "scheduled-maintenances/active.json",
];

fn schema_for(definition: &str) -> jsonschema::Validator {
    let path = format!(
        "{}/tests/schemas/statuspage-v2.schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    schema["$ref"] =
        serde_json::Value::String(format!("#/$defs/{}", definition.replace('/', "~1")));
    jsonschema::validator_for(&schema).unwrap()
}

/// Every endpoint parses and matches the schema written from Statuspage's public API.
fn validate_api(dir: &Path) {
    for endpoint in ENDPOINTS {
        let value = json(dir, &format!("api/v2/{endpoint}"));
        let validator = schema_for(endpoint);
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{endpoint}: {errors:#?}\n{value:#}");
        assert!(value["page"]["id"].is_string(), "{endpoint}");
    }
    let badge = json(dir, "api/badge.json");
    assert!(schema_for("badge.json").is_valid(&badge), "{badge}");
    for feed in ["history.atom", "history.rss"] {
        let feed_text = text(dir, feed);
        roxmltree::Document::parse(&feed_text)
            .unwrap_or_else(|e| panic!("{feed}: {e}\n{feed_text}"));
    }
}

#[test]
fn the_schema_accepts_real_statuspage_json() {
    let dir = format!(
        "{}/tests/fixtures/github-status",
        env!("CARGO_MANIFEST_DIR")
    );
    let validator = schema_for("incident.json");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let value: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&value)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
            checked += 1;
        }
    }
    assert_eq!(checked, 3);
    // And it is not a schema that accepts anything.
    let mut broken: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{}/tests/fixtures/github-status/0lj0pn2vkw9x.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    broken["incident"]["impact"] = "catastrophic".into();
    assert!(!validator.is_valid(&broken));
    broken["incident"].as_object_mut().unwrap().remove("impact");
    assert!(!validator.is_valid(&broken));
}

#[test]
fn an_empty_page_has_every_endpoint_and_empty_arrays() {
    let repo = Repo::init();
    let out = build(&repo, &[]);
    validate_api(&out);
    let summary = json(&out, "api/v2/summary.json");
    assert_eq!(summary["incidents"], serde_json::json!([]));
    assert_eq!(summary["scheduled_maintenances"], serde_json::json!([]));
    assert_eq!(summary["status"]["indicator"], "none");
    assert_eq!(summary["status"]["description"], "All Systems Operational");
    assert!(text(&out, "index.html").contains("No incidents reported."));
    assert!(out.join("history/index.html").is_file());
}

#[test]
fn an_incident_with_updates_components_and_a_maintenance() {
    let mut repo = standard_repo();
    repo.now = "2026-11-24T03:00:00Z".into();
    let id = repo.declare(&[
        "Primary failover loop",
        "-s",
        "SEV2",
        "--service",
        "api",
        "--started-at",
        "02:50",
    ]);
    repo.now = "2026-11-24T03:04:00Z".into();
    repo.ok(&[
        "comms",
        &id,
        "-a",
        "public",
        "--public-title",
        "API errors",
        "-m",
        "We are investigating errors on the API.",
    ]);
    repo.now = "2026-11-24T03:20:00Z".into();
    repo.ok(&[
        "comms",
        &id,
        "-a",
        "public",
        "--status",
        "identified",
        "--component",
        "api=degraded",
        "-m",
        "Cause found.",
    ]);
    repo.ok(&[
        "maintenance",
        "schedule",
        "Website upgrade",
        "--from",
        "2026-11-25 02:00",
        "--until",
        "2026-11-25 03:00",
        "--component",
        "web",
        "-m",
        "The website will be read-only.",
    ]);
    let out = build(&repo, &["--base-url", "https://status.example.com/"]);
    validate_api(&out);
    let summary = json(&out, "api/v2/summary.json");
    assert_eq!(summary["page"]["url"], "https://status.example.com");
    assert_eq!(summary["page"]["updated_at"], "2026-11-24T03:20:00.000Z");
    assert_eq!(summary["status"]["indicator"], "minor");
    let incident = &summary["incidents"][0];
    assert_eq!(incident["id"], id.as_str());
    assert_eq!(incident["name"], "API errors");
    assert_eq!(incident["status"], "identified");
    assert_eq!(incident["impact"], "major");
    assert_eq!(incident["started_at"], "2026-11-24T02:50:00.000Z");
    assert_eq!(incident["created_at"], "2026-11-24T03:04:00.000Z");
    assert_eq!(
        incident["shortlink"],
        format!("https://status.example.com/incidents/{id}.html")
    );
    let updates = incident["incident_updates"].as_array().unwrap();
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[0]["body"], "Cause found.");
    assert_eq!(
        updates[0]["affected_components"][0]["old_status"],
        "partial_outage"
    );
    assert_eq!(
        updates[0]["affected_components"][0]["new_status"],
        "degraded_performance"
    );
    let components: BTreeMap<String, String> = summary["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(components["api"], "degraded_performance");
    assert_eq!(components["web"], "operational");
    assert_eq!(components["group-group-of-api"], "degraded_performance");
    assert_eq!(summary["scheduled_maintenances"][0]["status"], "scheduled");
    assert_eq!(
        summary["scheduled_maintenances"][0]["scheduled_for"],
        "2026-11-25T02:00:00.000Z"
    );
    assert_eq!(
        json(&out, "api/v2/scheduled-maintenances/upcoming.json")["scheduled_maintenances"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        json(&out, "api/v2/scheduled-maintenances/active.json")["scheduled_maintenances"],
        serde_json::json!([])
    );
    let badge = json(&out, "api/badge.json");
    assert_eq!(badge["message"], "minor outage");

    let index = text(&out, "index.html");
    for part in [
        "API errors",
        "Cause found.",
        "Next update by",
        "Website upgrade",
        "Degraded performance",
        "% uptime",
    ] {
        assert!(index.contains(part), "{part}");
    }
    assert!(!index.contains("<script"), "no script at all");
    assert!(index.contains("Content-Security-Policy"));
    let page = text(&out, &format!("incidents/{id}.html"));
    assert!(page.contains("We are investigating errors on the API."));
    assert!(out.join("history/2026-11.html").is_file());
    let atom = text(&out, "history.atom");
    assert!(
        atom.contains(&format!(
            "<id>urn:incident:example-status:incident:{id}</id>"
        )),
        "{atom}"
    );
    assert!(atom.contains(&format!("https://status.example.com/incidents/{id}.html")));

    // Resolved: the public post closes it, the components recover.
    repo.now = "2026-11-24T03:40:00Z".into();
    repo.ok(&[
        "comms",
        &id,
        "-a",
        "public",
        "--status",
        "resolved",
        "--data-loss",
        "no",
        "-m",
        "Fixed.",
    ]);
    let out = build(&repo, &[]);
    validate_api(&out);
    let summary = json(&out, "api/v2/summary.json");
    assert_eq!(summary["incidents"], serde_json::json!([]));
    assert_eq!(summary["status"]["indicator"], "none");
    let all = json(&out, "api/v2/incidents.json");
    assert_eq!(all["incidents"][0]["status"], "resolved");
    assert_eq!(
        all["incidents"][0]["resolved_at"],
        "2026-11-24T03:40:00.000Z"
    );
    assert_eq!(
        all["incidents"][0]["incident_updates"][0]["body"],
        "Fixed.\n\nNo data was lost."
    );
    assert_eq!(all["page"]["url"], "");
}

#[test]
fn resolving_returns_components_to_operational_unless_another_incident_affects_them() {
    let mut repo = standard_repo();
    repo.now = "2026-11-24T03:00:00Z".into();
    let first = repo.declare(&["One", "-s", "SEV1", "--service", "api"]);
    let second = repo.declare(&["Two", "-s", "SEV3", "--service", "api"]);
    repo.ok(&[
        "comms",
        &first,
        "-a",
        "public",
        "--public-title",
        "API down",
        "-m",
        "Down.",
    ]);
    repo.ok(&[
        "comms",
        &second,
        "-a",
        "public",
        "--public-title",
        "API slow",
        "-m",
        "Slow.",
    ]);
    let status = |repo: &Repo| {
        let out = build(repo, &[]);
        let summary = json(&out, "api/v2/summary.json");
        let api = summary["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "api")
            .unwrap()["status"]
            .clone();
        (api, summary["incidents"].as_array().unwrap().len())
    };
    assert_eq!(status(&repo), ("major_outage".into(), 2));
    // Resolved inside, without a public post: the page says resolved, and
    // the other incident still holds the component.
    repo.now = "2026-11-24T03:30:00Z".into();
    repo.ok(&["resolve", &first, "--resolution", "fixed"]);
    assert_eq!(status(&repo), ("degraded_performance".into(), 1));
    let due: serde_json::Value =
        serde_json::from_str(&repo.ok(&["--format", "json", "comms", "due", "--all"])).unwrap();
    assert!(
        due.as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == first.as_str() && d["reason"] == "resolution"),
        "{due}"
    );
    repo.ok(&["resolve", &second, "--resolution", "fixed"]);
    assert_eq!(status(&repo), ("operational".into(), 0));
}

#[test]
fn maintenance_changes_components_only_inside_its_window() {
    let mut repo = standard_repo();
    repo.now = "2026-11-24T10:00:00Z".into();
    let out = repo.ok(&[
        "--format",
        "json",
        "maintenance",
        "schedule",
        "DB move",
        "--from",
        "11:00",
        "--until",
        "in 2h",
        "--component",
        "web",
    ]);
    let id = serde_json::from_str::<serde_json::Value>(&out).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let web = |out: &Path| {
        let summary = json(out, "api/v2/summary.json");
        let web = summary["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "web")
            .unwrap()["status"]
            .clone();
        (web, summary["status"]["indicator"].clone())
    };
    let before = build(&repo, &[]);
    assert_eq!(web(&before), ("operational".into(), "none".into()));
    tick(&repo, "2026-11-24T11:30:00Z");
    let inside = build(&repo, &[]);
    validate_api(&inside);
    assert_eq!(
        web(&inside),
        ("under_maintenance".into(), "maintenance".into())
    );
    assert_eq!(
        json(&inside, "api/v2/scheduled-maintenances/active.json")["scheduled_maintenances"][0]["id"],
        id.as_str()
    );
    tick(&repo, "2026-11-24T12:30:00Z");
    let after = build(&repo, &[]);
    assert_eq!(web(&after), ("operational".into(), "none".into()));
    assert_eq!(
        json(&after, "api/v2/scheduled-maintenances.json")["scheduled_maintenances"][0]["status"],
        "completed"
    );
    // The old page is still there for the asking.
    let again = build(&repo, &["--as-of", "HEAD~1"]);
    assert_eq!(tree(&again), tree(&inside));

    // Started early, completed by hand.
    repo.now = "2026-11-24T12:40:00Z".into();
    let out = repo.ok(&[
        "--format",
        "json",
        "maintenance",
        "schedule",
        "Cache flush",
        "--from",
        "in 1h",
        "--until",
        "in 2h",
        "--component",
        "api",
    ]);
    let second = serde_json::from_str::<serde_json::Value>(&out).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let err = repo.fails(1, &["maintenance", "complete", &second]);
    assert!(err.contains("is scheduled"), "{err}");
    repo.ok(&["maintenance", "start", &second, "-m", "Starting early."]);
    assert_eq!(
        json(&build(&repo, &[]), "api/v2/summary.json")["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "api")
            .unwrap()["status"],
        "under_maintenance"
    );
    repo.now = "2026-11-24T12:50:00Z".into();
    repo.ok(&["maintenance", "complete", &second]);
    let list = repo.ok(&["maintenance", "list"]);
    assert!(list.contains("completed"), "{list}");
    assert!(repo.run(&["check"]).status.success());
}

#[test]
fn only_public_updates_reach_the_page() {
    const CANARY: &str = "CANARY-7f3a";
    let mut repo = standard_repo();
    repo.now = "2026-11-24T03:00:00Z".into();
    let secret = |what: &str| format!("{what} {CANARY}");
    let out = repo
        .command()
        .env("GIT_AUTHOR_NAME", secret("Author"))
        .args([
            "--format",
            "json",
            "declare",
            &secret("Internal title"),
            "-s",
            "SEV1",
            "--service",
            "api",
            "--service",
            &secret("service"),
            "--commander",
            &secret("commander"),
            "--summary",
            &secret("summary"),
            "--link",
            &format!("https://grafana.example.com/{CANARY}"),
            "--role",
            &format!("scribe={CANARY}"),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = serde_json::from_str::<serde_json::Value>(&String::from_utf8(out.stdout).unwrap())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    repo.ok(&[
        "update",
        &id,
        "-m",
        &secret("note"),
        "--caused-by",
        CANARY,
        "--status",
        "identified",
        "--reason",
        &secret("reason"),
    ]);
    repo.ok(&[
        "comms",
        &id,
        "-a",
        "internal",
        "-m",
        &secret("internal update"),
    ]);
    repo.ok(&["comms", &id, "-a", "exec", "-m", &secret("exec update")]);
    let out = repo
        .command()
        .env("GIT_AUTHOR_NAME", secret("Public author"))
        .args([
            "comms",
            &id,
            "-a",
            "public",
            "--public-title",
            "Login problems",
            "-m",
            "We are looking into login errors.",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    repo.now = "2026-11-24T04:00:00Z".into();
    repo.ok(&["resolve", &id, "--resolution", &secret("resolution")]);
    repo.ok(&[
        "action",
        "add",
        &id,
        &secret("action item"),
        "--owner",
        CANARY,
    ]);
    repo.ok(&[
        "maintenance",
        "schedule",
        "Planned work",
        "--from",
        "in 1h",
        "--until",
        "in 2h",
        "--component",
        "web",
    ]);
    // The review merges: the postmortem, canary and all, is on the branch.
    repo.git(&[
        "merge",
        "--no-ff",
        "-q",
        "-m",
        "Publish the postmortem",
        &format!("postmortem/{id}"),
    ]);
    // The canary is in the repository, the postmortem included...
    let grep_repo = Command::new("grep")
        .args(["-rl", CANARY, "incidents"])
        .current_dir(&repo.path)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&grep_repo.stdout).contains("postmortem.md"));
    // ...and nowhere in anything published.
    let out = build(&repo, &["--base-url", "https://status.example.com"]);
    let grep = Command::new("grep")
        .args(["-r", CANARY, out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        grep.status.code(),
        Some(1),
        "leaked: {}",
        String::from_utf8_lossy(&grep.stdout)
    );
    let index = text(&out, &format!("incidents/{id}.html"));
    assert!(
        index.contains("Login problems") && index.contains("We are looking into login errors.")
    );
    validate_api(&out);
}

#[test]
fn the_same_commit_gives_the_same_bytes_and_as_of_rebuilds_the_past() {
    let mut repo = standard_repo();
    repo.now = "2026-11-20T03:00:00Z".into();
    let id = repo.declare(&["Past one", "-s", "SEV2", "--service", "web"]);
    repo.ok(&[
        "comms",
        &id,
        "-a",
        "public",
        "--public-title",
        "Website slow",
        "-m",
        "Investigating.",
    ]);
    let old_commit = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    repo.now = "2026-11-20T04:00:00Z".into();
    repo.ok(&[
        "comms",
        &id,
        "-a",
        "public",
        "--status",
        "resolved",
        "--data-loss",
        "yes",
        "-m",
        "Fixed; some uploads were lost.",
    ]);
    repo.ok(&["resolve", &id, "--resolution", "ok"]);

    let first = build(&repo, &[]);
    // Another clock, another zone, another place: the same bytes.
    let out = repo.home().join("other-site");
    let status = repo
        .command()
        .env("TZ", "America/New_York")
        .env("INCIDENT_NOW", "2027-03-01T12:00:00Z")
        .args(["status-page", "build", "--output", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(status.status.success());
    assert_eq!(tree(&first), tree(&out));
    // Building over an earlier build replaces it whole.
    repo.ok(&[
        "status-page",
        "build",
        "--output",
        out.to_str().unwrap(),
        "--as-of",
        &old_commit,
    ]);
    let summary = json(&out, "api/v2/summary.json");
    assert_eq!(summary["incidents"][0]["status"], "investigating");
    assert!(!out.join("history.atom.tmp").exists());
    // The working tree does not count: an uncommitted config edit changes nothing.
    let config = repo.path.join("incidents/config.toml");
    let committed = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, committed.replace("Example Status", "Edited Name")).unwrap();
    let third = build(&repo, &[]);
    assert_eq!(tree(&first), tree(&third));
    std::fs::write(&config, committed).unwrap();
    // The data-loss statement is part of the published text.
    assert!(
        text(&first, "api/v2/incidents.json")
            .contains("Fixed; some uploads were lost.\\n\\nSome data was lost.")
    );
}

#[test]
fn the_output_folder_is_never_half_written_or_someone_elses() {
    let repo = standard_repo();
    // A folder that holds something a build writes, but no earlier build:
    // someone else's page. Refused, naming the entry; nothing changes.
    let out = repo.home().join("mine");
    std::fs::create_dir_all(out.join("history")).unwrap();
    std::fs::write(out.join("index.html"), "my own page").unwrap();
    std::fs::write(out.join("notes.txt"), "keep me").unwrap();
    let err = repo.fails(
        1,
        &["status-page", "build", "--output", out.to_str().unwrap()],
    );
    assert!(
        err.contains("refusing to write into") && err.contains("it holds history,"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("index.html")).unwrap(),
        "my own page"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "keep me"
    );
    // What a build does not own is kept, in a new folder or an earlier build.
    std::fs::remove_file(out.join("index.html")).unwrap();
    std::fs::remove_dir(out.join("history")).unwrap();
    let said = repo.ok(&["status-page", "build", "--output", out.to_str().unwrap()]);
    assert!(
        said.contains("kept what a build does not own: notes.txt"),
        "{said}"
    );
    assert!(out.join("api/v2/summary.json").is_file());
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "keep me"
    );
    let err = repo.fails(
        1,
        &[
            "status-page",
            "build",
            "--output",
            "x",
            "--base-url",
            "javascript:alert(1)",
        ],
    );
    assert!(err.contains("--base-url"), "{err}");
    let err = repo.fails(
        1,
        &[
            "status-page",
            "build",
            "--output",
            "x",
            "--as-of",
            "no-such-rev",
        ],
    );
    assert!(err.contains("names no commit"), "{err}");
    assert!(!repo.path.join("x").exists());
}

// --- Hostile text: escaped for every context, and no script runs. ---

const XSS_SCRIPT: &str = "<script>document.title='XSS-1'</script>";
const XSS_IMG: &str = "\"><img src=x onerror=\"document.title='XSS-2'\">";
const XSS_ATTR: &str = "' autofocus onfocus='document.title=`XSS-3`' x='";
const XSS_URL: &str = "javascript:document.title='XSS-4'";
const FEED_BREAKER: &str = "]]></content></entry></feed><entry>&amp;\u{1}\u{FFFE}";

fn hostile_repo() -> (Repo, String, String) {
    let mut repo = repo_with(
        &[
            ("api", &format!("API {XSS_IMG}"), "api"),
            ("web", &format!("Web {XSS_ATTR} {XSS_SCRIPT}"), "web"),
        ],
        &format!("Status {XSS_IMG}"),
    );
    repo.now = "2026-11-24T03:00:00Z".into();
    let id = repo.declare(&["x", "-s", "SEV2", "--service", "api", "--service", "web"]);
    let title = format!("{XSS_SCRIPT} {XSS_IMG} {XSS_URL}");
    repo.ok(&[
        "comms",
        &id,
        "-a",
        "public",
        "--public-title",
        &title,
        "-m",
        &format!("{XSS_SCRIPT}\n{XSS_IMG}\n{XSS_ATTR}\n{XSS_URL}\n{FEED_BREAKER}"),
    ]);
    let out = repo.ok(&[
        "--format",
        "json",
        "maintenance",
        "schedule",
        &format!("{XSS_SCRIPT}{XSS_URL}"),
        "--from",
        "2026-11-24 02:00",
        "--until",
        "in 1h",
        "--component",
        "web",
        "-m",
        XSS_IMG,
    ]);
    let maintenance = serde_json::from_str::<serde_json::Value>(&out).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    (repo, id, maintenance)
}

#[test]
fn hostile_text_is_escaped_in_html_xml_and_json() {
    let (repo, id, _) = hostile_repo();
    let out = build(&repo, &["--base-url", "https://status.example.com"]);
    validate_api(&out);
    let summary = json(&out, "api/v2/summary.json");
    assert_eq!(
        summary["incidents"][0]["name"],
        format!("{XSS_SCRIPT} {XSS_IMG} {XSS_URL}"),
        "JSON keeps the text as it is"
    );
    assert!(
        summary["incidents"][0]["incident_updates"][0]["body"]
            .as_str()
            .unwrap()
            .contains(FEED_BREAKER)
    );
    for (path, bytes) in tree(&out) {
        let text = String::from_utf8(bytes).unwrap();
        if path.ends_with(".html") || path.ends_with(".atom") || path.ends_with(".rss") {
            for raw in [
                "<script",
                "<img",
                "onerror=\"",
                "href=\"javascript",
                "\u{1}",
                "\u{FFFE}",
                "]]>",
            ] {
                assert!(!text.contains(raw), "{path} contains {raw:?}");
            }
        }
    }
    for feed in ["history.atom", "history.rss"] {
        let feed_text = text(&out, feed);
        let doc = roxmltree::Document::parse(&feed_text).unwrap();
        let titles: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("title"))
            .filter_map(|n| n.text())
            .collect();
        assert!(
            titles.iter().any(|t| t.contains(XSS_SCRIPT)),
            "{feed}: {titles:?}"
        );
        let entries = doc
            .descendants()
            .filter(|n| n.has_tag_name("entry") || n.has_tag_name("item"))
            .count();
        assert_eq!(entries, 2, "{feed}: the payload added no entry");
    }
    let _ = id;
}

fn chromium() -> Option<PathBuf> {
    for name in [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ] {
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let path = Path::new(dir).join(name);
            if path.is_file() {
                return Some(path);
            }
        }
    }
    None
}

#[test]
fn no_script_runs_in_headless_chromium() {
    let Some(browser) = chromium() else {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        assert!(
            !ci,
            "chromium is needed for this test in CI; .ci/run installs it (apt-get install -y chromium)"
        );
        eprintln!(
            "\n\n*** SKIPPED no_script_runs_in_headless_chromium: chromium is not installed (apt-get install -y chromium) ***\n\n"
        );
        return;
    };
    let (repo, id, maintenance) = hostile_repo();
    let out = build(&repo, &[]);
    let profile = tempfile::TempDir::new().unwrap();
    for page in [
        "index.html".to_string(),
        format!("incidents/{id}.html"),
        format!("maintenance/{maintenance}.html"),
        "history/2026-11.html".into(),
    ] {
        // Without the Content-Security-Policy too: escaping alone must hold.
        let variants: &[bool] = if page == "index.html" {
            &[false, true]
        } else {
            &[true]
        };
        for &strip_csp in variants {
            let mut html = text(&out, &page);
            if strip_csp {
                let start = html
                    .find("<meta http-equiv=\"Content-Security-Policy\"")
                    .unwrap();
                let end = start + html[start..].find('>').unwrap() + 1;
                html.replace_range(start..end, "");
            }
            let file = out.join(page.replace(".html", &format!(".probe-{strip_csp}.html")));
            std::fs::write(&file, &html).unwrap();
            let dom = Command::new(&browser)
                .args([
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--virtual-time-budget=2000",
                ])
                .arg(format!("--user-data-dir={}", profile.path().display()))
                .arg("--dump-dom")
                .arg(format!("file://{}", file.display()))
                .output()
                .unwrap();
            let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
            let title = dom
                .split("<title>")
                .nth(1)
                .and_then(|t| t.split("</title>").next())
                .unwrap_or_default()
                .to_string();
            assert!(!title.is_empty(), "{page}: chromium showed nothing:\n{dom}");
            assert!(title.contains("Status"), "{page}: {title}");
            assert!(
                !title.starts_with("XSS"),
                "{page} (csp stripped: {strip_csp}): a script ran: {title}"
            );
            for element in ["<script", "<img"] {
                assert!(
                    !dom.contains(element),
                    "{page}: an injected {element} element"
                );
            }
            assert!(
                dom.contains("&lt;script&gt;"),
                "{page}: the payload is shown as text"
            );
        }
    }
}

/// A gh-pages worktree (its `.git`, a `CNAME`) holding an earlier build:
/// building again replaces the page and keeps the rest, so the worktree is
/// intact and, for the same commit, unchanged.
#[test]
fn a_build_into_a_gh_pages_worktree_keeps_its_git_and_cname() {
    let repo = standard_repo();
    let site = build(&repo, &[]);
    let ghp = repo.home().join("ghp");
    let sh = |script: &str| {
        let mut command = Command::new("sh");
        support::base_env(&mut command, &repo.home());
        let out = command
            .current_dir(repo.home())
            .args(["-c", script])
            .output()
            .unwrap();
        assert!(out.status.success(), "{script}: {out:?}");
    };
    sh(&format!(
        "cp -r '{}' ghp && (cd ghp && git init -q && echo x > CNAME && git add -A && git commit -qm p)",
        site.display()
    ));
    // A file of an earlier build that this build does not write goes.
    std::fs::create_dir_all(ghp.join("incidents")).unwrap();
    std::fs::write(ghp.join("incidents/gone.html"), "stale").unwrap();
    repo.ok(&["status-page", "build", "--output", ghp.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(ghp.join("CNAME")).unwrap(), "x\n");
    assert!(ghp.join(".git/HEAD").is_file());
    assert!(!ghp.join("incidents/gone.html").exists());
    let status = support::git_in(&ghp, &repo.home(), &["status", "--porcelain"]);
    assert_eq!(status, "", "the worktree changed");
    assert_eq!(
        support::git_in(&ghp, &repo.home(), &["log", "--format=%s"]).trim(),
        "p"
    );
    let mut without_git = tree(&ghp);
    without_git.retain(|path, _| !path.starts_with(".git/") && path != "CNAME");
    assert_eq!(without_git, tree(&site));
    // No temporary folder is left beside it.
    let leftovers: Vec<String> = std::fs::read_dir(repo.home())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("incident-"))
        .collect();
    assert_eq!(leftovers, Vec::<String>::new());
}
