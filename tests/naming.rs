//! Naming incidents when tired: prefixes and slug fragments are equally
//! ambiguous, typos get a suggestion, and writes to finished incidents
//! through a short name are refused.

mod support;

use support::Repo;

fn with_ids(repo: &Repo, ids: &str, args: &[&str]) -> String {
    let out = repo
        .command()
        .env("INCIDENT_IDS", ids)
        .args(args)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_prefix_of_one_and_a_slug_fragment_of_another_is_ambiguous() {
    // Issue 11.6: `resolve db` meant "DB failover stuck", not dbvmcr.
    let repo = Repo::init();
    with_ids(
        &repo,
        "dbvmcr",
        &["declare", "Checkout latency", "-s", "SEV2"],
    );
    with_ids(
        &repo,
        "x8yn6h",
        &["declare", "DB failover stuck", "-s", "SEV1"],
    );
    let before = repo.state();
    let err = repo.fails(1, &["resolve", "db", "-r", "failed back"]);
    assert_eq!(repo.state(), before, "nothing was resolved");
    assert!(err.contains("'db' matches 2 incidents"), "{err}");
    for candidate in ["dbvmcr  SEV2  triage", "x8yn6h  SEV1  triage"] {
        assert!(err.contains(candidate), "{candidate}: {err}");
    }
    assert!(
        err.contains("2026-11-24") && err.contains("DB failover stuck"),
        "{err}"
    );
    // The typed resolution is not lost either.
    let kept =
        std::fs::read_to_string(repo.path.join(".git/incident/REJECTED_RESOLUTION")).unwrap();
    assert_eq!(kept, "failed back\n");
    // The whole id, or a longer fragment, is unambiguous.
    repo.ok(&[
        "resolve",
        "db-failover",
        "-F",
        ".git/incident/REJECTED_RESOLUTION",
    ]);
    assert_eq!(repo.show("x8yn6h")["status"], "resolved");
    assert_eq!(repo.show("x8yn6h")["resolution"], "failed back");
    assert_eq!(repo.show("dbvmcr")["status"], "triage");
}

#[test]
fn a_typo_suggests_the_incident_it_may_mean() {
    let repo = Repo::init();
    with_ids(
        &repo,
        "x8yn6h",
        &["declare", "Checkout latency", "-s", "SEV1"],
    );
    repo.ok(&["ack", "x8yn6h"]);
    let err = repo.fails(1, &["show", "x8yb6h"]);
    assert!(
        err.contains("did you mean x8yn6h (SEV1, investigating, 'Checkout latency')"),
        "{err}"
    );
    let err = repo.fails(1, &["show", "chekout"]);
    assert!(err.contains("did you mean x8yn6h"), "{err}");
    let err = repo.fails(1, &["show", "zzzzzz"]);
    assert!(!err.contains("did you mean"), "{err}");
}

#[test]
fn writes_to_a_finished_incident_need_its_whole_id() {
    let repo = Repo::init();
    with_ids(
        &repo,
        "k3f9x2",
        &["declare", "Synthetic check red", "-s", "SEV4"],
    );
    repo.ok(&["cancel", "k3f9", "--reason", "the check itself was broken"]);
    let before = repo.state();
    let err = repo.fails(1, &["update", "k3f9", "-m", "meant the other one"]);
    assert_eq!(repo.state(), before);
    assert!(err.contains("incident k3f9x2 is cancelled"), "{err}");
    assert!(err.contains("name it in full: k3f9x2"), "{err}");
    assert!(err.contains("-F .git/incident/REJECTED_NOTE"), "{err}");
    // Reads take any name; the full id writes.
    repo.ok(&["show", "k3f9"]);
    repo.ok(&["update", "k3f9x2", "-F", ".git/incident/REJECTED_NOTE"]);
    assert!(support::notes(&repo.show("k3f9x2")).contains(&"meant the other one".to_string()));
}

#[test]
fn finding_an_incident_reads_few_month_listings_from_the_cache() {
    let repo = Repo::init();
    let id = repo.declare(&["Cached listing", "-s", "SEV3"]);
    repo.ok(&["show", &id]);
    let cache = repo.path.join(".git/incident/folders-v2");
    let text = std::fs::read_to_string(&cache).expect("cache written");
    assert!(
        text.starts_with("incident folder listing v2\ntree "),
        "{text}"
    );
    assert!(text.contains(&id), "{text}");
    // A damaged or deleted cache is only a slower lookup.
    std::fs::write(&cache, "garbage").unwrap();
    repo.ok(&["show", &id]);
    let damaged = text.replace(
        &text.lines().nth(2).unwrap()[..40],
        "0123456789012345678901234567890123456789",
    );
    std::fs::write(&cache, damaged).unwrap();
    assert!(repo.ok(&["show", &id]).contains("Cached listing"));
    std::fs::remove_file(&cache).unwrap();
    repo.ok(&["update", &id, "-m", "still found"]);
    // A cache entry names a month tree by id: an incident declared since
    // is found, whatever the cache held.
    let second = repo.declare(&["Second one", "-s", "SEV3"]);
    repo.ok(&["show", &second]);
    assert!(std::fs::read_to_string(&cache).unwrap().contains(&second));
}

#[test]
fn an_id_already_taken_is_never_handed_out_again() {
    let repo = Repo::init();
    with_ids(&repo, "k3f9x2", &["declare", "First", "-s", "SEV3"]);
    // "m7q2ab" occurs in this one's slug, not as its id: still free.
    with_ids(
        &repo,
        "abc123",
        &["declare", "Cache m7q2ab down", "-s", "SEV3"],
    );
    let third = with_ids(&repo, "k3f9x2 m7q2ab", &["declare", "Third", "-s", "SEV3"]);
    assert!(third.contains("incident m7q2ab"), "{third}");
    // Every listed id taken: a random one, unlike all of them.
    let fourth = with_ids(
        &repo,
        "k3f9x2,m7q2ab,abc123",
        &["declare", "Fourth", "-s", "SEV3", "--format", "json"],
    );
    let id = serde_json::from_str::<serde_json::Value>(&fourth).expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert!(
        !["k3f9x2", "m7q2ab", "abc123"].contains(&id.as_str()),
        "{id}"
    );
    assert_eq!(repo.show(&id)["title"], "Fourth");
}
