//! Fixes for what a QA walk found: tables that did not fit 80 columns,
//! CSV export without formula escaping, and messages that said too little
//! or the wrong thing.

mod support;

use support::{Repo, on_a_terminal};

fn assert_fits(drawn: &str, command: &str) {
    for line in drawn.lines() {
        assert!(
            line.chars().count() <= 80,
            "{command}: {} columns: {line:?}\n{drawn}",
            line.chars().count()
        );
    }
}

/// Whether `text` stands whole on one of the lines drawn.
fn on_one_line(drawn: &str, text: &str) -> bool {
    drawn.lines().any(|line| line.contains(text))
}

/// Three incidents with long titles and a long commander name, one of them
/// resolved after 1h 30m, one with a public update due.
fn busy_repo() -> (Repo, String, String) {
    let mut repo = Repo::init();
    repo.now = "2026-12-01T21:00:00Z".into();
    let open = repo.declare(&[
        "Checkout latency above 2s for the payments and checkout services in EU",
        "-s",
        "SEV2",
        "--started-at",
        "19:25",
        "--commander",
        "alice-the-incident-commander",
    ]);
    let resolved = repo.declare(&[
        "Database replication lag on the primary cluster after the failover",
        "-s",
        "SEV1",
        "--started-at",
        "18:00",
        "--commander",
        "bob",
    ]);
    repo.ok(&["resolve", &resolved, "-r", "failed back", "--at", "19:30"]);
    repo.ok(&[
        "update",
        &open,
        "--status",
        "investigating",
        "-m",
        "looking",
    ]);
    repo.ok(&[
        "comms",
        &open,
        "--audience",
        "public",
        "--public-title",
        "Slow checkout",
        "-m",
        "We are looking into slow checkouts",
        "--at",
        "20:56",
    ]);
    (repo, open, resolved)
}

#[test]
fn list_fits_80_columns_with_times_and_durations_whole() {
    let (repo, _, _) = busy_repo();
    for command in ["list --all", "list --all -P", "list"] {
        let drawn = on_a_terminal(&repo, 80, &[], command);
        assert_fits(&drawn, command);
        assert!(on_one_line(&drawn, "Dec 01 19:25"), "{command}\n{drawn}");
        assert!(on_one_line(&drawn, "1h 35m open"), "{command}\n{drawn}");
        if command.contains("--all") {
            assert!(on_one_line(&drawn, "lasted 1h 30m"), "{command}\n{drawn}");
        }
        assert!(
            drawn
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .contains("Checkout latency above 2s for the payments and checkout services in EU"),
            "{drawn}"
        );
    }
}

#[test]
fn log_fits_80_columns_with_commit_times_and_paths_whole() {
    let (repo, open, _) = busy_repo();
    let drawn = on_a_terminal(&repo, 80, &[], &format!("log {open}"));
    assert_fits(&drawn, "log");
    assert!(on_one_line(&drawn, "2026-12-01 21:00"), "{drawn}");
    assert!(on_one_line(&drawn, "+ incident.toml"), "{drawn}");
    // Each event file's path stands whole on a line of its own.
    let events = drawn
        .lines()
        .filter(|l| l.trim_start().starts_with("+ events/") && l.trim_end().ends_with(".toml"))
        .count();
    assert_eq!(events, 3, "{drawn}");
}

#[test]
fn comms_due_fits_the_terminal_with_times_whole() {
    let (repo, _, _) = busy_repo();
    for columns in [80, 64] {
        let drawn = on_a_terminal(&repo, columns, &[], "comms due --all");
        for line in drawn.lines() {
            assert!(line.chars().count() <= usize::from(columns), "{drawn}");
        }
        assert!(
            on_one_line(&drawn, "21:01 UTC   in 1m"),
            "{columns}\n{drawn}"
        );
    }
}

#[test]
fn export_csv_escapes_formulas_as_list_does() {
    let repo = Repo::init();
    repo.declare(&["=HYPERLINK(\"x\")", "-s", "SEV3"]);
    let file = repo.sibling("export.csv");
    repo.ok(&[
        "--format",
        "csv",
        "export",
        "--output",
        file.to_str().expect("path"),
    ]);
    let exported = std::fs::read_to_string(&file).expect("export written");
    let listed = repo.ok(&["list", "--all", "--format", "csv"]);
    let cell = "\"'=HYPERLINK(\"\"x\"\")\"";
    assert!(listed.contains(cell), "{listed}");
    assert!(exported.contains(cell), "{exported}");
    assert!(!exported.contains(",\"=HYPERLINK"), "{exported}");
}

#[test]
fn actions_with_no_items_says_so() {
    let repo = Repo::init();
    let all = repo.ok(&["actions", "--all"]);
    assert_eq!(
        all,
        "No action items: `incident action add ID TEXT` records one.\n"
    );
    let open = repo.ok(&["actions"]);
    assert!(open.starts_with("No open action items"), "{open}");
    // Data formats stay data.
    let json = repo.ok(&["--format", "json", "actions", "--all"]);
    assert_eq!(json.trim(), "[]");
}

#[test]
fn list_counts_what_is_over_by_state() {
    let repo = Repo::init();
    let first = repo.declare(&["False alarm on checkout", "-s", "SEV4"]);
    let second = repo.declare(&["Checkout again", "-s", "SEV4"]);
    let third = repo.declare(&["Checkout once more", "-s", "SEV4"]);
    repo.ok(&["cancel", &first, "--reason", "no impact"]);
    repo.ok(&["cancel", &second, "--duplicate-of", &first]);
    repo.ok(&["cancel", &third, "--duplicate-of", &first]);
    let listed = repo.ok(&["list"]);
    assert_eq!(
        listed,
        "No open incidents; 1 cancelled, 2 duplicate: `incident list --all`.\n"
    );
}

#[test]
fn a_component_without_any_configured_says_how_to_add_one() {
    let mut repo = Repo::init();
    repo.now = "2026-11-24T10:00:00Z".into();
    let schedule = [
        "maintenance",
        "schedule",
        "Database upgrade",
        "--from",
        "2026-11-25 02:00",
        "--until",
        "2026-11-25 03:00",
        "--component",
        "api",
        "-m",
        "The API may be slow.",
    ];
    let refused = repo.fails(1, &schedule);
    assert!(
        refused.contains("no components are configured"),
        "{refused}"
    );
    assert!(!refused.contains("choose one of: \n"), "{refused}");
    let id = repo.declare(&["Checkout errors", "-s", "SEV2"]);
    let comms = repo.fails(
        1,
        &[
            "comms",
            &id,
            "--audience",
            "public",
            "--public-title",
            "Checkout errors",
            "--component",
            "api=partial_outage",
            "-m",
            "We are investigating.",
        ],
    );
    assert!(comms.contains("no components are configured"), "{comms}");
    // The snippet the message shows is a config that works as it stands.
    let snippet: String = refused
        .lines()
        .skip_while(|l| *l != "[[component]]")
        .take_while(|l| !l.starts_with("hint:"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(snippet.contains("id = \"api\""), "{refused}");
    let config = repo.path.join("incidents/config.toml");
    let mut text = std::fs::read_to_string(&config).expect("config");
    text.push('\n');
    text.push_str(&snippet);
    std::fs::write(&config, text).expect("write config");
    repo.git(&["commit", "-q", "-am", "Add the api component"]);
    repo.ok(&schedule);
}

/// A repository with the `api` component, for maintenances.
fn with_api_component() -> Repo {
    let repo = Repo::init();
    let config = repo.path.join("incidents/config.toml");
    let mut text = std::fs::read_to_string(&config).expect("config");
    text.push_str("\n[[component]]\nid = \"api\"\nname = \"API\"\n");
    std::fs::write(&config, text).expect("write config");
    repo.git(&["commit", "-q", "-am", "Add the api component"]);
    repo
}

fn schedule(repo: &Repo, day: &str) -> String {
    let out = repo.ok(&[
        "-q",
        "maintenance",
        "schedule",
        "Database upgrade",
        "--from",
        &format!("{day} 02:00"),
        "--until",
        &format!("{day} 03:00"),
        "--component",
        "api",
        "-m",
        "The API may be slow.",
    ]);
    out.trim().to_string()
}

#[test]
fn maintenance_start_by_title_skips_the_completed_one_and_says_maintenances() {
    let mut repo = with_api_component();
    repo.now = "2026-11-24T10:00:00Z".into();
    let first = schedule(&repo, "2026-11-25");
    let second = schedule(&repo, "2026-11-26");
    let third = schedule(&repo, "2026-11-27");
    let ambiguous = repo.fails(1, &["maintenance", "start", "database-upgrade"]);
    assert!(
        ambiguous.contains("'database-upgrade' matches 3 maintenances:"),
        "{ambiguous}"
    );
    assert!(!ambiguous.contains("incidents"), "{ambiguous}");
    repo.now = "2026-11-25T02:30:00Z".into();
    repo.ok(&["maintenance", "complete", &first, "-m", "Done."]);
    repo.ok(&["maintenance", "cancel", &third, "-m", "Not needed."]);
    // Only the second can still start: the title names it.
    let started = repo.ok(&["maintenance", "start", "database-upgrade"]);
    assert!(started.contains(&second), "{started}");
}

#[test]
fn readme_bare_remotes_name_main_so_clones_check_it_out() {
    let readme = include_str!("../README.md");
    let bare: Vec<&str> = readme
        .lines()
        .filter(|l| l.contains("git init") && l.contains("--bare") && !l.contains('`'))
        .collect();
    assert!(!bare.is_empty());
    for line in &bare {
        assert!(line.contains("-b main"), "{line}");
    }
    // As the quick start does it: a teammate's clone checks out main, with
    // no warning about the remote's HEAD.
    let repo = Repo::init();
    let remote = repo.sibling("ops-incidents.git");
    let remote = remote.to_str().expect("path");
    support::git_in(
        &repo.home(),
        &repo.home(),
        &["init", "-q", "--bare", "-b", "main", remote],
    );
    repo.git(&["remote", "add", "origin", remote]);
    repo.git(&["push", "-q", "-u", "origin", "HEAD"]);
    let clone = support::git_status(&repo.home(), &repo.home(), &["clone", remote, "teammate"]);
    assert!(clone.status.success());
    let said = String::from_utf8_lossy(&clone.stderr);
    assert!(!said.contains("nonexistent ref"), "{said}");
    assert!(repo.sibling("teammate/incidents/config.toml").exists());
}

#[test]
fn every_ci_example_installs_incident_from_its_git_url() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let recipes = [
        "github/postmortem-check.yml",
        "gitlab/.gitlab-ci.yml",
        "ci/github-weekly-report.yml",
        "ci/gitlab-weekly-report.yml",
        "status-page/github-pages.yml",
        "status-page/gitlab-pages.yml",
    ];
    for recipe in recipes {
        let text = std::fs::read_to_string(root.join(recipe)).expect(recipe);
        let installs: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("cargo install"))
            .collect();
        assert_eq!(installs.len(), 1, "{recipe}");
        let expected = if recipe.contains("gitlab") {
            "cargo install --locked --git \"$INCIDENT_TOOL_GIT\" incident"
        } else {
            "cargo install --locked --git \"${{ vars.INCIDENT_TOOL_GIT }}\" incident"
        };
        assert!(
            installs[0].trim_end().ends_with(expected),
            "{recipe}: {}",
            installs[0]
        );
    }
}

#[test]
fn maintenance_list_fits_80_columns_with_windows_whole() {
    let mut repo = with_api_component();
    repo.now = "2026-11-24T10:00:00Z".into();
    for day in ["2026-11-25", "2026-11-26"] {
        schedule(&repo, day);
    }
    let drawn = on_a_terminal(&repo, 80, &[], "maintenance list");
    assert_fits(&drawn, "maintenance list");
    assert!(on_one_line(&drawn, "2026-11-25 02:00"), "{drawn}");
    assert!(on_one_line(&drawn, "2026-11-26 03:00"), "{drawn}");
    assert!(on_one_line(&drawn, "Database upgrade"), "{drawn}");
}

#[test]
fn report_weeks_line_fits_80_columns_without_splitting_a_week() {
    let mut repo = Repo::init();
    repo.now = "2026-11-24T10:00:00Z".into();
    for day in [
        "2026-10-06",
        "2026-10-13",
        "2026-10-20",
        "2026-10-27",
        "2026-11-03",
    ] {
        let id = repo.declare(&[
            "Checkout errors",
            "-s",
            "SEV3",
            "--started-at",
            &format!("{day} 09:00"),
        ]);
        repo.ok(&[
            "resolve",
            &id,
            "-r",
            "fixed",
            "--at",
            &format!("{day} 10:00"),
        ]);
    }
    let report = repo.ok(&["report", "--since", "2026-09-28", "--until", "2026-11-23"]);
    let weeks: String = report
        .lines()
        .skip_while(|l| !l.starts_with("Incidents per week: "))
        .take_while(|l| l.starts_with("Incidents per week: ") || l.starts_with("  "))
        .map(|l| format!("{}\n", l))
        .collect();
    assert!(!weeks.is_empty(), "{report}");
    assert_fits(&weeks, "report");
    for line in weeks.lines() {
        assert!(!line.trim_end().ends_with(char::is_alphabetic), "{weeks}");
        assert!(!line.trim_end().ends_with("W"), "{weeks}");
    }
    // Seven weeks, each '2026-Wnn N' whole on one line.
    let whole = weeks
        .split([',', '\n'])
        .filter(|w| {
            w.trim()
                .trim_start_matches("Incidents per week: ")
                .starts_with("2026-W")
        })
        .filter(|w| w.trim().split(' ').count() >= 2)
        .count();
    assert_eq!(whole, 7, "{weeks}");
}

#[test]
fn timeline_keeps_its_times_whole_beside_a_long_author() {
    let mut repo = Repo::init();
    repo.now = "2026-11-24T10:00:00Z".into();
    let id = repo.declare(&["Checkout errors", "-s", "SEV2", "--started-at", "09:00"]);
    let out = repo
        .command()
        .env(
            "GIT_AUTHOR_NAME",
            "Maximiliane-Alexandra-von-Hohenzollern-Sigmaringen",
        )
        .args([
            "update",
            &id,
            "-m",
            "restarted the connection pool on every payments node in the region",
            "--at",
            "09:30",
        ])
        .output()
        .expect("update");
    assert!(out.status.success());
    let drawn = on_a_terminal(&repo, 80, &[], &format!("timeline {id}"));
    assert_fits(&drawn, "timeline");
    assert!(on_one_line(&drawn, "2026-11-24 09:30"), "{drawn}");
}
