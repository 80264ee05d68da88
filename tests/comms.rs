//! `incident comms`: stakeholder updates through the real binary.

mod support;

use support::Repo;

const COMPONENTS: &str = r#"
[[component]]
id = "api"
name = "API"
group = "Platform"
services = ["api"]

[[component]]
id = "web"
name = "Website"
services = ["web"]
"#;

/// An initialised repository with two components committed.
fn repo_with_components() -> Repo {
    let repo = Repo::init();
    let config = repo.path.join("incidents/config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(COMPONENTS);
    std::fs::write(&config, text).unwrap();
    repo.git(&["commit", "-qam", "components"]);
    repo
}

fn at(repo: &mut Repo, now: &str) {
    repo.now = now.to_string();
}

/// The comms event files of the last commit, as TOML text.
fn last_event(repo: &Repo) -> String {
    let files = repo.git(&["show", "--name-only", "--format=", "HEAD"]);
    let file = files.lines().find(|l| l.ends_with("-comms.toml")).unwrap();
    repo.git(&["show", &format!("HEAD:{file}")])
}

#[test]
fn an_incidents_life_with_public_and_exec_updates() {
    let mut repo = repo_with_components();
    at(&mut repo, "2026-11-24T03:00:00Z");
    let id = repo.declare(&["Primary DB failover loop", "-s", "SEV1", "--service", "api"]);

    // Nothing said yet: the first public post is due 5 minutes after declaring.
    at(&mut repo, "2026-11-24T03:04:00Z");
    let shown = repo.ok(&["show", &id]);
    assert!(
        shown.contains("first public update due 03:05 UTC (in 1m)"),
        "{shown}"
    );
    repo.ok(&["comms", "due"]);
    at(&mut repo, "2026-11-24T03:06:00Z");
    let err = repo.fails(1, &["comms", "due"]);
    assert!(err.contains("1 update is overdue"), "{err}");

    // The first public update must name the incident in public.
    let before = repo.state();
    let err = repo.fails(
        2,
        &[
            "comms",
            &id,
            "--audience",
            "public",
            "-m",
            "We are investigating.",
        ],
    );
    assert!(err.contains("--public-title"), "{err}");
    assert_eq!(repo.state(), before, "a refused update writes nothing");

    let out = repo.ok(&[
        "comms",
        &id,
        "--audience",
        "public",
        "--public-title",
        "API errors",
        "-m",
        "We are investigating errors on the API.",
    ]);
    assert!(
        out.contains("posted public update (investigating)"),
        "{out}"
    );
    assert!(out.contains("next update due 03:11 UTC"), "{out}");
    let event = last_event(&repo);
    assert!(event.contains("kind = \"comms\""), "{event}");
    assert!(event.contains("audience = \"public\""), "{event}");
    assert!(event.contains("title = \"API errors\""), "{event}");
    assert!(
        event.contains("next_update = 2026-11-24T03:11:00Z"),
        "{event}"
    );
    // From the incident's service, at SEV1: a major outage.
    assert!(
        event.contains("[components]\napi = \"major_outage\""),
        "{event}"
    );
    let message = repo.git(&["log", "-1", "--format=%B"]);
    assert!(message.contains("Incident-Event: comms"), "{message}");
    assert!(message.contains("Incident-Audience: public"), "{message}");
    assert_eq!(repo.git(&["status", "--porcelain"]), "");

    // The scoping post comes 5 minutes later; then every 20 minutes.
    at(&mut repo, "2026-11-24T03:10:00Z");
    repo.ok(&[
        "comms",
        &id,
        "-a",
        "public",
        "--status",
        "identified",
        "--component",
        "api=partial",
        "-m",
        "We found the cause and are fixing it.",
    ]);
    let event = last_event(&repo);
    assert!(event.contains("status = \"identified\""), "{event}");
    assert!(event.contains("api = \"partial_outage\""), "{event}");
    assert!(
        event.contains("next_update = 2026-11-24T03:30:00Z"),
        "{event}"
    );
    let shown = repo.ok(&["show", &id]);
    assert!(
        shown.contains("next public update due 03:30 UTC (in 20m)"),
        "{shown}"
    );

    // Executives: every 30 minutes for SEV1.
    repo.ok(&[
        "comms",
        &id,
        "--audience",
        "exec",
        "-m",
        "Checkout is degraded; fix under way.",
    ]);
    let event = last_event(&repo);
    assert!(
        event.contains("next_update = 2026-11-24T03:40:00Z"),
        "{event}"
    );
    assert!(!event.contains("status ="), "{event}");

    let due: serde_json::Value =
        serde_json::from_str(&repo.ok(&["--format", "json", "comms", "due", "--all"])).unwrap();
    let audiences: Vec<(&str, &str)> = due
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["audience"].as_str().unwrap(), d["due"].as_str().unwrap()))
        .collect();
    assert_eq!(
        audiences,
        [
            ("public", "2026-11-24T03:30:00+00:00"),
            ("exec", "2026-11-24T03:40:00+00:00")
        ]
    );

    // The timeline has them all (it is internal).
    let shown = repo.show(&id);
    let kinds: Vec<&str> = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["declared", "comms", "comms", "comms"]);

    // Resolving in public must say whether data was lost.
    at(&mut repo, "2026-11-24T03:40:00Z");
    let before = repo.state();
    let err = repo.fails(
        2,
        &[
            "comms", &id, "-a", "public", "--status", "resolved", "-m", "Fixed.",
        ],
    );
    assert!(err.contains("whether data was lost"), "{err}");
    assert!(err.contains("--data-loss"), "{err}");
    assert_eq!(repo.state(), before);
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
        "The API works normally again.",
    ]);
    let event = last_event(&repo);
    assert!(event.contains("data_loss = false"), "{event}");
    assert!(event.contains("api = \"operational\""), "{event}");
    assert!(!event.contains("next_update"), "{event}");
    // Public resolved, the incident still open: the exec summary is still owed.
    let due: serde_json::Value =
        serde_json::from_str(&repo.ok(&["--format", "json", "comms", "due", "--all"])).unwrap();
    assert_eq!(due.as_array().unwrap().len(), 1, "{due}");
    assert_eq!(due[0]["audience"], "exec");
    repo.ok(&["resolve", &id, "--resolution", "replaced the bad replica"]);
    repo.ok(&["comms", "due", "--all"]);
    let check = repo.run(&["check"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let fsck = repo.git(&["fsck", "--no-progress"]);
    assert!(!fsck.contains("error"), "{fsck}");
}

#[test]
fn cadence_goes_to_long_incident_mode_after_two_hours() {
    let mut repo = repo_with_components();
    at(&mut repo, "2026-11-24T01:00:00Z");
    let id = repo.declare(&["Long one", "-s", "SEV2", "--service", "web"]);
    let post = |repo: &Repo| {
        repo.ok(&[
            "comms",
            &id,
            "-a",
            "public",
            "--public-title",
            "Website slow",
            "-m",
            "Still on it.",
        ]);
        last_event(repo)
    };
    let first = post(&repo);
    assert!(
        first.contains("next_update = 2026-11-24T01:05:00Z"),
        "{first}"
    );
    // SEV2: the web component by its service, as a partial outage.
    assert!(first.contains("web = \"partial_outage\""), "{first}");
    at(&mut repo, "2026-11-24T01:05:00Z");
    assert!(post(&repo).contains("next_update = 2026-11-24T01:25:00Z"));
    at(&mut repo, "2026-11-24T03:05:00Z");
    let event = post(&repo);
    assert!(
        event.contains("next_update = 2026-11-24T04:05:00Z"),
        "{event}"
    );
    // A promise overrides the cadence; `none` promises nothing.
    at(&mut repo, "2026-11-24T03:10:00Z");
    repo.ok(&[
        "comms",
        &id,
        "-a",
        "public",
        "-m",
        "x",
        "--next-update",
        "45m",
    ]);
    assert!(last_event(&repo).contains("next_update = 2026-11-24T03:55:00Z"));
    repo.ok(&[
        "comms",
        &id,
        "-a",
        "public",
        "-m",
        "x",
        "--next-update",
        "04:30",
    ]);
    assert!(last_event(&repo).contains("next_update = 2026-11-24T04:30:00Z"));
    let err = repo.fails(
        1,
        &[
            "comms",
            &id,
            "-a",
            "public",
            "-m",
            "x",
            "--next-update",
            "10m ago",
        ],
    );
    assert!(
        err.contains("cannot read time") || err.contains("after this one"),
        "{err}"
    );
}

#[test]
fn bad_requests_say_what_to_fix_and_write_nothing() {
    let mut repo = repo_with_components();
    at(&mut repo, "2026-11-24T03:00:00Z");
    let id = repo.declare(&["Something", "-s", "SEV3"]);
    let before = repo.state();
    for (args, code, needle) in [
        (
            vec!["-a", "press", "-m", "x"],
            1,
            "unknown audience 'press'",
        ),
        (
            vec!["-a", "exec", "--status", "identified", "-m", "x"],
            2,
            "--status goes with public updates",
        ),
        (
            vec![
                "-a",
                "public",
                "--public-title",
                "T",
                "--component",
                "db=down",
                "-m",
                "x",
            ],
            1,
            "unknown component 'db'",
        ),
        (
            vec![
                "-a",
                "public",
                "--public-title",
                "T",
                "--component",
                "api=broken",
                "-m",
                "x",
            ],
            1,
            "unknown component state 'broken'",
        ),
        (
            vec![
                "-a",
                "public",
                "--public-title",
                "T",
                "--status",
                "fixed",
                "-m",
                "x",
            ],
            1,
            "unknown public status 'fixed'",
        ),
        (
            vec![
                "-a",
                "public",
                "--public-title",
                "T",
                "--data-loss",
                "no",
                "-m",
                "x",
            ],
            2,
            "--data-loss goes with",
        ),
        (
            vec!["-a", "public", "--public-title", "T", "-m", "  "],
            2,
            "update text",
        ),
        (
            vec!["-a", "public", "--public-title", "T"],
            2,
            "-m TEXT, -F FILE or --template NAME",
        ),
    ] {
        let mut all = vec!["comms", id.as_str()];
        all.extend(args.iter());
        let err = repo.fails(code, &all);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert_eq!(repo.state(), before);
}

#[test]
fn text_from_stdin_files_and_a_template_in_the_editor() {
    let mut repo = repo_with_components();
    at(&mut repo, "2026-11-24T03:00:00Z");
    let id = repo.declare(&[
        "Login fails",
        "-s",
        "SEV1",
        "--service",
        "api",
        "--summary",
        "SSO login returns 500",
    ]);
    let out = repo
        .command()
        .args(["comms", &id, "-a", "internal", "-m", "-"])
        .write_stdin_text("from standard input\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(last_event(&repo).contains("text = \"from standard input\""));
    let file = repo.home().join("update.txt");
    std::fs::write(&file, "from a file\n").unwrap();
    repo.ok(&["comms", &id, "-a", "internal", "-F", file.to_str().unwrap()]);
    assert!(last_event(&repo).contains("text = \"from a file\""));

    // The editor gets the template prefilled; comment lines are dropped.
    let seen = repo.home().join("seen.txt");
    let editor = repo.home().join("editor.sh");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\ncp \"$1\" {}\necho 'Added by the editor.' >> \"$1\"\n",
            seen.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    at(&mut repo, "2026-11-24T03:02:00Z");
    let out = repo
        .command()
        .env("EDITOR", &editor)
        .args([
            "comms",
            &id,
            "-a",
            "public",
            "--public-title",
            "Login problems",
            "--template",
            "initial",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let prefill = std::fs::read_to_string(&seen).unwrap();
    assert!(
        prefill.contains("PUBLISHED on the status page"),
        "{prefill}"
    );
    assert!(
        prefill.contains("We are investigating problems with API."),
        "{prefill}"
    );
    assert!(
        prefill.contains("We will post an update by 03:07 UTC."),
        "{prefill}"
    );
    let event = last_event(&repo);
    assert!(!event.contains("# "), "{event}");
    assert!(event.contains("Added by the editor."), "{event}");

    // Executive summary: current status, overview, next steps.
    repo.command()
        .env("EDITOR", &editor)
        .args(["comms", &id, "-a", "exec", "--template", "executive"])
        .output()
        .unwrap();
    let prefill = std::fs::read_to_string(&seen).unwrap();
    for part in [
        "**Current status:**",
        "**Overview:** SSO login returns 500",
        "**Next steps:**",
        "Next summary by 03:32 UTC.",
    ] {
        assert!(prefill.contains(part), "{part}: {prefill}");
    }
    // A repository template overrides the built-in one.
    std::fs::create_dir_all(repo.path.join("incidents/templates")).unwrap();
    std::fs::write(
        repo.path.join("incidents/templates/comms-tactical.md"),
        "Ours: {{ incident.id }}\n",
    )
    .unwrap();
    repo.command()
        .env("EDITOR", &editor)
        .args(["comms", &id, "-a", "internal", "--template", "tactical"])
        .output()
        .unwrap();
    assert!(
        std::fs::read_to_string(&seen)
            .unwrap()
            .contains(&format!("Ours: {id}"))
    );
    // An editor that leaves nothing records nothing.
    let before = repo.git(&["rev-parse", "HEAD"]);
    let out = repo
        .command()
        .env("EDITOR", "sh -c ': > \"$1\"' --")
        .args(["comms", &id, "-a", "internal", "--template", "tactical"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), before);
}

#[test]
fn the_latest_update_renders_for_chat_tools() {
    let mut repo = repo_with_components();
    at(&mut repo, "2026-11-24T03:00:00Z");
    let id = repo.declare(&["Internal name", "-s", "SEV2", "--service", "api"]);
    repo.ok(&[
        "comms",
        &id,
        "-a",
        "public",
        "--public-title",
        "API <errors> & timeouts",
        "--status",
        "identified",
        "-m",
        "Fix *rolling* out <soon>.",
    ]);
    let slack = repo.ok(&["comms", &id, "--render", "slack"]);
    assert_eq!(
        slack,
        format!(
            "*Public update · Identified* {id}: API &lt;errors&gt; &amp; timeouts\n\nFix *rolling* out &lt;soon&gt;.\n\n_API: Partial outage_\n\n_Posted 03:00 UTC · next update by 03:05 UTC_\n"
        )
    );
    let markdown = repo.ok(&["comms", &id, "--render", "markdown", "-a", "public"]);
    assert!(
        markdown.starts_with("**Public update · Identified**"),
        "{markdown}"
    );
    assert!(markdown.contains("- API: Partial outage"), "{markdown}");
    let text = repo.ok(&["comms", &id, "--render", "text"]);
    assert!(text.contains("Fix *rolling* out <soon>."), "{text}");
    assert!(!text.contains("Internal name"), "{text}");
    let err = repo.fails(1, &["comms", &id, "--render", "text", "-a", "exec"]);
    assert!(err.contains("no exec update yet"), "{err}");
}

/// `Command` with text on standard input.
trait WriteStdin {
    fn write_stdin_text(&mut self, text: &str) -> std::process::Output;
}

impl WriteStdin for std::process::Command {
    fn write_stdin_text(&mut self, text: &str) -> std::process::Output {
        use std::io::Write;
        let mut child = self
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }
}

/// A repository's own comms template is bounded like a postmortem's: one
/// with loops over loops stops with a message naming it, fast, and
/// nothing is committed.
#[test]
fn a_runaway_comms_template_stops_with_a_message() {
    let repo = repo_with_components();
    let id = repo.declare(&["Login fails", "-s", "SEV2", "--service", "api"]);
    std::fs::create_dir_all(repo.path.join("incidents/templates")).unwrap();
    std::fs::write(
        repo.path.join("incidents/templates/comms-update.md"),
        "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}\n",
    )
    .unwrap();
    let before = repo.commit_count();
    let out = repo
        .command()
        .env("GIT_EDITOR", "true")
        .args(["comms", &id, "-a", "internal", "--template", "update"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("incidents/templates/comms-update.md")
            && err.contains("more work than an update needs"),
        "{err}"
    );
    assert_eq!(repo.commit_count(), before);
}

/// `--impact` states the incident's public impact: the status page shows
/// it instead of the one the component states give, the latest stated one
/// wins, and an unknown impact or a non-public update with one is refused.
#[test]
fn a_stated_impact_reaches_the_status_page() {
    let mut repo = repo_with_components();
    at(&mut repo, "2026-11-24T03:00:00Z");
    let id = repo.declare(&["Checkout slow", "-s", "SEV3", "--service", "api"]);
    let impact = |repo: &Repo| {
        let site = repo.home().join("site");
        repo.ok(&["status-page", "build", "--output", site.to_str().unwrap()]);
        let built: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(site.join("api/v2/incidents.json")).unwrap(),
        )
        .unwrap();
        built["incidents"][0]["impact"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let before = repo.state();
    for (args, needle) in [
        (
            vec!["-a", "public", "--public-title", "Slow", "--impact", "huge"],
            "unknown impact 'huge'",
        ),
        (vec!["-a", "exec", "--impact", "minor"], "--impact"),
    ] {
        let mut all = vec!["comms", id.as_str()];
        all.extend(args);
        all.extend(["-m", "x"]);
        let out = repo.run(&all);
        assert!(!out.status.success(), "{all:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{all:?}: {stderr}");
        assert_eq!(repo.state(), before, "a refused update writes nothing");
    }
    repo.ok(&[
        "comms",
        &id,
        "-a",
        "public",
        "--public-title",
        "Slow checkout",
        "--component",
        "api=degraded",
        "-m",
        "Checkout is slow.",
    ]);
    assert_eq!(impact(&repo), "minor", "derived from degraded_performance");
    at(&mut repo, "2026-11-24T03:10:00Z");
    repo.ok(&[
        "comms",
        &id,
        "-a",
        "public",
        "--impact",
        "critical",
        "-m",
        "Checkout fails for all.",
    ]);
    assert!(last_event(&repo).contains("impact = \"critical\""));
    assert_eq!(impact(&repo), "critical");
    at(&mut repo, "2026-11-24T03:20:00Z");
    repo.ok(&[
        "comms", &id, "-a", "public", "--impact", "major", "-m", "Better.",
    ]);
    assert_eq!(impact(&repo), "major", "the latest stated impact wins");
}

/// An editor script that records that it ran and appends a line.
fn appending_editor(repo: &Repo, line: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let ran = repo.home().join("editor-ran");
    let editor = repo.home().join("append.sh");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\ntouch {}\necho '{line}' >> \"$1\"\n",
            ran.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    (editor, ran)
}

/// What is typed in the editor is never lost: a refusal the flags already
/// give comes before the editor opens, one that only the text gives (a
/// template placeholder left unedited) keeps the text for `-F`. The
/// resolved template resolves.
#[test]
fn editor_text_survives_refusals_and_the_resolved_template_resolves() {
    let mut repo = repo_with_components();
    at(&mut repo, "2026-11-24T03:00:00Z");
    let id = repo.declare(&["Login fails", "-s", "SEV2", "--service", "api"]);
    repo.ok(&[
        "comms",
        &id,
        "-a",
        "public",
        "--public-title",
        "Login problems",
        "-m",
        "Looking.",
    ]);
    let (editor, ran) = appending_editor(&repo, "Typed with care.");
    let comms = |repo: &Repo, args: &[&str]| {
        repo.command()
            .env("EDITOR", &editor)
            .args(["comms", id.as_str()])
            .args(args)
            .output()
            .unwrap()
    };

    // Missing --data-loss: refused before anyone types.
    let before = repo.state();
    let out = comms(&repo, &["-a", "public", "--template", "resolved"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--data-loss"));
    assert!(
        !ran.exists(),
        "the editor must not open for a refused update"
    );
    assert_eq!(repo.state(), before);
    let out = comms(
        &repo,
        &[
            "-a",
            "public",
            "--template",
            "resolved",
            "--status",
            "identified",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--template resolved"));
    assert!(!ran.exists());

    // A placeholder left in: refused, the text kept for -F.
    let out = comms(&repo, &["-a", "exec", "--template", "executive"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("placeholder [what happened and who is affected, in two sentences]"),
        "{stderr}"
    );
    assert_eq!(repo.state(), before);
    let kept = repo.path.join(".git/incident/REJECTED_COMMS");
    let text = std::fs::read_to_string(&kept).unwrap();
    assert!(text.contains("Typed with care."), "{text}");
    assert!(stderr.contains("-F "), "{stderr}");
    // The kept text, edited, goes through.
    std::fs::write(
        &kept,
        text.replace(
            "[what happened and who is affected, in two sentences]",
            "Logins fail for a third of users.",
        )
        .replace(
            "[what happens next, and what decisions are needed]",
            "a rollback at 04:00",
        ),
    )
    .unwrap();
    repo.ok(&["comms", &id, "-a", "exec", "-F", kept.to_str().unwrap()]);
    assert!(last_event(&repo).contains("Typed with care."));

    // An editor that fails: what it saved is kept all the same.
    let failing = repo.home().join("failing.sh");
    std::fs::write(
        &failing,
        "#!/bin/sh\necho 'Half a thought.' >> \"$1\"\nexit 3\n",
    )
    .unwrap();
    std::fs::set_permissions(
        &failing,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    std::fs::remove_file(&kept).unwrap();
    let before = repo.state();
    let out = repo
        .command()
        .env("EDITOR", &failing)
        .args([
            "comms",
            id.as_str(),
            "-a",
            "internal",
            "--template",
            "tactical",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("failed") && stderr.contains("-F "),
        "{stderr}"
    );
    assert!(
        std::fs::read_to_string(&kept)
            .unwrap()
            .contains("Half a thought.")
    );
    assert_eq!(repo.state(), before);

    // The resolved template posts a resolution.
    at(&mut repo, "2026-11-24T03:30:00Z");
    let out = comms(
        &repo,
        &[
            "-a",
            "public",
            "--template",
            "resolved",
            "--data-loss",
            "no",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let event = last_event(&repo);
    assert!(event.contains("status = \"resolved\""), "{event}");
    assert!(
        event.contains("This incident has been resolved."),
        "{event}"
    );
}

/// `--render` output is pasted into chat tools and printed on a terminal:
/// no control character reaches it, and no link, image or mention in the
/// text opens in the target.
#[test]
fn rendered_updates_let_no_control_characters_or_links_through() {
    let mut repo = repo_with_components();
    at(&mut repo, "2026-11-24T03:00:00Z");
    let id = repo.declare(&["Internal name", "-s", "SEV2", "--service", "api"]);
    repo.ok(&[
        "comms",
        &id,
        "-a",
        "public",
        "--public-title",
        "Errors [here](javascript:alert(1))",
        "-m",
        "Red \u{1b}[31malert\u{1b}[0m and \u{7} bell.\nSee [the docs](javascript:alert(1)) ![x](https://evil.example/p.png) <!channel> <https://evil.example|ok>",
    ]);
    for format in ["slack", "markdown", "text"] {
        let out = repo.ok(&["comms", &id, "--render", format]);
        assert!(
            !out.chars().any(|c| c.is_control() && c != '\n'),
            "{format}: {out:?}"
        );
        assert!(
            out.contains("u{1b}"),
            "{format}: the ESC shown, not sent: {out:?}"
        );
    }
    let markdown = repo.ok(&["comms", &id, "--render", "markdown"]);
    for opened in ["[the docs](", "![x](", "[here](", "<!channel>", "<https://"] {
        assert!(!markdown.contains(opened), "{opened}: {markdown}");
    }
    assert!(
        markdown.contains("\\[the docs\\](javascript:alert(1))"),
        "{markdown}"
    );
    let slack = repo.ok(&["comms", &id, "--render", "slack"]);
    for opened in ["<!channel>", "<https://"] {
        assert!(!slack.contains(opened), "{opened}: {slack}");
    }
    assert!(slack.contains("&lt;!channel&gt;"), "{slack}");
}

/// `-q` drops the confirmations of comms, maintenance and status-page
/// commands as it does elsewhere; `-q maintenance schedule` prints only
/// the new id, as `-q declare` does.
#[test]
fn quiet_drops_confirmations_of_comms_maintenance_and_status_page() {
    let mut repo = repo_with_components();
    at(&mut repo, "2026-11-24T03:00:00Z");
    let id = repo.declare(&["Login fails", "-s", "SEV2", "--service", "api"]);
    let out = repo.ok(&[
        "-q",
        "comms",
        &id,
        "-a",
        "public",
        "--public-title",
        "Login",
        "-m",
        "Looking.",
    ]);
    assert_eq!(out, "");
    let scheduled = repo.ok(&[
        "-q",
        "maintenance",
        "schedule",
        "Upgrade",
        "--from",
        "2026-11-25 02:00",
        "--until",
        "2026-11-25 03:00",
        "--component",
        "api",
    ]);
    let maintenance = scheduled.trim();
    assert!(
        !maintenance.is_empty() && !maintenance.contains(' '),
        "only the id: {scheduled:?}"
    );
    assert_eq!(repo.ok(&["-q", "maintenance", "start", maintenance]), "");
    assert_eq!(repo.ok(&["-q", "maintenance", "cancel", maintenance]), "");
    let site = repo.home().join("site");
    assert_eq!(
        repo.ok(&[
            "-q",
            "status-page",
            "build",
            "--output",
            site.to_str().unwrap()
        ]),
        ""
    );
    assert!(site.join("api/v2/summary.json").is_file());
    // Without -q they say what they did.
    assert!(repo.ok(&["maintenance", "list"]).contains("Upgrade"));
}

/// `comms --at` says the time it recorded, as `update --at` does, so a
/// mistyped time shows at once (and JSON gives it as `at`).
#[test]
fn comms_at_echoes_the_time_it_recorded() {
    let mut repo = repo_with_components();
    at(&mut repo, "2026-11-24T03:30:00Z");
    let id = repo.declare(&[
        "Login fails",
        "-s",
        "SEV2",
        "--service",
        "api",
        "--at",
        "03:00",
    ]);
    let out = repo.ok(&[
        "comms",
        &id,
        "-a",
        "public",
        "--public-title",
        "Login",
        "--at",
        "03:10",
        "-m",
        "Looking.",
    ]);
    assert!(out.contains("at 03:10 today (UTC)"), "{out}");
    let json: serde_json::Value = serde_json::from_str(&repo.ok(&[
        "--format", "json", "comms", &id, "-a", "internal", "--at", "03:20", "-m", "x",
    ]))
    .unwrap();
    assert_eq!(json["at"], "2026-11-24T03:20:00+00:00", "{json}");
}
