//! Records that a racing git command dropped from the index or from HEAD
//! are put back by the next write, never left to block the incident
//! (issue 11 #1: `git commit` writes back the index it read before it took
//! `index.lock`, so the user's next `git commit -a` deletes the event).

mod support;

use support::Repo;

/// The event file the last incident commit added.
fn last_event(repo: &Repo) -> String {
    let added = repo.git(&["log", "-1", "--format=", "--name-only", "--diff-filter=A"]);
    added
        .lines()
        .find(|l| l.contains("/events/"))
        .expect("an event file")
        .to_string()
}

fn stderr_of(repo: &Repo, args: &[&str]) -> String {
    let out = repo.run(args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{args:?}: {err}");
    err
}

#[test]
fn an_event_deleted_by_the_users_next_commit_is_committed_again() {
    let repo = Repo::init();
    let id = repo.declare(&["Dropped note", "-s", "SEV3"]);
    repo.ok(&["update", &id, "-m", "first note"]);
    let event = last_event(&repo);
    let recorded_in = repo
        .git(&["rev-parse", "--short=10", "HEAD"])
        .trim()
        .to_string();
    // The shape the race leaves: the index lost the entry, the file stays,
    // and the user's next commit records the deletion.
    repo.git(&["rm", "-q", "--cached", &event]);
    repo.git(&["commit", "-q", "-m", "code change"]);
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=all"]),
        format!("?? {event}\n")
    );

    let err = stderr_of(&repo, &["update", &id, "-m", "second note"]);
    assert!(err.contains("committed again"), "{err}");
    assert!(err.contains(&event), "{err}");
    assert_eq!(
        support::notes(&repo.show(&id)),
        ["first note", "second note"]
    );
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=all"]),
        ""
    );
    // One commit puts the record back, byte for byte, and says why.
    let message = repo.git(&["log", "-1", "--skip=1", "--format=%B"]);
    assert!(message.starts_with("Restore records"), "{message}");
    assert!(message.contains(&recorded_in), "{message}");
    assert_eq!(
        repo.git(&["diff", "--name-status", "HEAD~2", "HEAD~1"]),
        format!("A\t{event}\n")
    );
    assert_eq!(
        repo.git(&["rev-parse", &format!("HEAD:{event}")]),
        repo.git(&["rev-parse", &format!("HEAD~3:{event}")])
    );
    repo.git(&["fsck", "--no-dangling"]);
}

#[test]
fn an_index_entry_dropped_by_a_racing_git_command_is_put_back() {
    let repo = Repo::init();
    let id = repo.declare(&["Dropped entry", "-s", "SEV3"]);
    repo.ok(&["update", &id, "-m", "first note"]);
    let event = last_event(&repo);
    repo.git(&["rm", "-q", "--cached", &event]);
    let head = repo.git(&["rev-parse", "HEAD"]);

    let err = stderr_of(&repo, &["update", &id, "-m", "second note"]);
    assert!(err.contains("put back the index entries"), "{err}");
    // No commit of its own: HEAD had the record all along.
    assert_eq!(repo.git(&["rev-parse", "HEAD~1"]), head);
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=all"]),
        ""
    );
    assert_eq!(
        support::notes(&repo.show(&id)),
        ["first note", "second note"]
    );
}

#[test]
fn an_event_file_that_differs_from_its_record_is_still_refused() {
    let repo = Repo::init();
    let id = repo.declare(&["Edited after deletion", "-s", "SEV3"]);
    repo.ok(&["update", &id, "-m", "first note"]);
    let event = last_event(&repo);
    repo.git(&["rm", "-q", "--cached", &event]);
    repo.git(&["commit", "-q", "-m", "drop it"]);
    // Someone's own text now: never committed on their behalf.
    let file = repo.path.join(&event);
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("# my own words\n");
    std::fs::write(&file, &text).unwrap();
    let head = repo.git(&["rev-parse", "HEAD"]);

    let err = repo.fails(1, &["update", &id, "-m", "second note"]);
    assert!(err.contains(&event), "{err}");
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}
