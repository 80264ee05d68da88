//! On an 80-column terminal every table and line fits: long text wraps
//! (a URL breaks into pieces, nothing is cut off), values stay whole, and
//! a column with no room left goes on lines of its own under each row.

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

/// `text` with every space and line break taken out, to find wrapped text.
fn joined(text: &str) -> String {
    text.split_whitespace().collect()
}

const NOTE_URL: &str = "https://grafana.example.com/d/abcdef123456/checkout-latency?orgId=1&from=now-6h&to=now&var-service=checkout-payments-api";
const LINK: &str = "https://dashboards.example.com/d/payments-overview-2026/checkout?orgId=1&refresh=30s&var-region=eu-west-1";

fn long_incident() -> (Repo, String) {
    let mut repo = Repo::init();
    repo.now = "2026-11-24T04:30:00Z".into();
    let id = repo.declare(&[
        "Checkout latency above 2s for the payments and checkout services",
        "-s",
        "SEV2",
        "--started-at",
        "02:40",
        "--commander",
        "alice",
        "--summary",
        "p99 above 2s since the 02:40 deploy, affecting all card payments in the EU region",
    ]);
    repo.ok(&["ack", &id, "--at", "02:55"]);
    repo.ok(&[
        "update",
        &id,
        "-m",
        &format!("see {NOTE_URL}"),
        "--link",
        LINK,
    ]);
    repo.ok(&[
        "action",
        "add",
        &id,
        "Alert on connection pool saturation for every payments service database",
        "--owner",
        "bob-the-builder",
        "--priority",
        "medium",
        "--type",
        "investigate",
    ]);
    repo.ok(&["action", "add", &id, "Runbook for pool exhaustion"]);
    repo.ok(&[
        "resolve",
        &id,
        "-r",
        "rolled back payments to 1.41 and restarted the connection pool on every node",
    ]);
    (repo, id)
}

#[test]
fn every_line_fits_80_columns_and_nothing_is_cut_off() {
    let (repo, id) = long_incident();
    for command in [
        format!("show {id}"),
        format!("timeline {id}"),
        "actions --all".to_string(),
        "list --all".to_string(),
    ] {
        let drawn = on_a_terminal(&repo, 80, &[], &command);
        assert_fits(&drawn, &command);
        let all = joined(&drawn);
        if !command.starts_with("actions") && !command.starts_with("list") {
            assert!(all.contains(NOTE_URL), "{command}: URL lost\n{drawn}");
            assert!(all.contains(LINK), "{command}: link lost\n{drawn}");
        }
        if command.starts_with("actions") {
            // Item references and owners stay whole; the text is all there.
            let reference = format!("{id}/");
            assert!(
                drawn
                    .split_whitespace()
                    .filter(|w| w.starts_with(&reference))
                    .count()
                    == 2,
                "{drawn}"
            );
            // No room for every column whole: the owner breaks at a hyphen.
            assert!(
                drawn.contains("bob-the-") && drawn.lines().any(|l| l.trim() == "builder"),
                "{drawn}"
            );
            assert!(drawn.contains("investigate"), "{drawn}");
            assert!(
                drawn.contains("Alert on connection pool saturation"),
                "{drawn}"
            );
        }
        if command.starts_with("list") {
            assert!(
                drawn.contains("Checkout latency above 2s for the payments"),
                "{drawn}"
            );
        }
    }
}

#[test]
fn columns_wins_over_the_terminal_width_as_for_git() {
    let (repo, id) = long_incident();
    let wide = on_a_terminal(&repo, 160, &[], &format!("timeline {id}"));
    assert!(wide.lines().any(|l| l.chars().count() > 80), "{wide}");
    let narrowed = on_a_terminal(&repo, 160, &[("COLUMNS", "80")], &format!("timeline {id}"));
    assert_fits(&narrowed, "COLUMNS=80 timeline");
    // Piped, nothing is wrapped: one line per event, for grep.
    let piped = repo.ok(&["timeline", &id]);
    assert!(piped.contains(NOTE_URL), "{piped}");
}
