//! The read caches of `list`, `actions` and `check` in `.git/incident/`:
//! never stale (a hand edit is seen on the next run), never trusted when
//! damaged or not a regular file, never holding anything that depends on
//! "now" or on other folders, and never changing what a command prints.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::Repo;

const CACHES: [&str; 3] = ["list-cache-v1", "actions-cache-v1", "check-cache-v1"];

/// The commands whose output the caches must not change.
const READS: [&[&str]; 4] = [
    &["--format", "json", "list", "--all"],
    &["list", "--all"],
    &["--format", "json", "actions", "--all"],
    &["check"],
];

/// Write a file and commit it with plain git (a hand edit).
fn commit_file(repo: &Repo, path: &str, content: &str) {
    let full = repo.path.join(path);
    std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
    std::fs::write(&full, content).expect("write");
    repo.git(&["add", "-f", "--", path]);
    repo.git(&["commit", "-q", "-m", &format!("hand edit {path}")]);
}

fn folder(repo: &Repo, id: &str) -> String {
    repo.show(id)["folder"]
        .as_str()
        .expect("folder")
        .to_string()
}

fn cache_dir(repo: &Repo) -> PathBuf {
    repo.path.join(".git/incident")
}

/// Run under `timeout` (a command blocked on a FIFO exits 124), with the
/// repository's clock or `now`.
fn run_at(repo: &Repo, now: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new("timeout");
    support::base_env(&mut cmd, &repo.home());
    cmd.current_dir(&repo.path)
        .env("INCIDENT_NOW", now)
        .arg("20")
        .arg(env!("CARGO_BIN_EXE_incident"))
        .args(args);
    let out = cmd.output().expect("run incident");
    assert_ne!(out.status.code(), Some(124), "{args:?} blocked");
    out
}

/// Exit code, stdout and stderr of each read command.
fn reads(repo: &Repo) -> Vec<(Option<i32>, String, String)> {
    READS
        .iter()
        .map(|args| {
            let out = run_at(repo, &repo.now, args);
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        })
        .collect()
}

fn stdout_of(repo: &Repo, args: &[&str]) -> String {
    String::from_utf8_lossy(&run_at(repo, &repo.now, args).stdout).into_owned()
}

fn json_of(repo: &Repo, now: &str, args: &[&str]) -> serde_json::Value {
    let out = run_at(repo, now, args);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: {e}\n{}",
            String::from_utf8_lossy(&out.stderr).into_owned()
        )
    })
}

fn remove_caches(repo: &Repo) {
    for name in CACHES {
        let path = cache_dir(repo).join(name);
        if std::fs::symlink_metadata(&path).is_ok() {
            std::fs::remove_file(&path).expect("remove cache");
        }
    }
}

fn assert_caches_exist(repo: &Repo, names: &[&str]) {
    for name in names {
        let path = cache_dir(repo).join(name);
        assert!(path.is_file(), "{} missing", path.display());
    }
}

/// A repository with a bit of everything `list`, `actions` and `check`
/// show: open and closed incidents, roles, services, milestones set after
/// the fact, a duplicate, a cause, action items open, done and dropped,
/// and problems for `check`.
fn busy_repo() -> (Repo, Vec<String>) {
    let repo = Repo::init();
    let a = repo.declare(&["Checkout errors", "-s", "SEV1", "--no-input"]);
    repo.ok(&[
        "update",
        &a,
        "--status",
        "investigating",
        "--service",
        "checkout",
        "--milestone",
        "started=2026-11-24T08:10:00Z",
        "-m",
        "looking at the load balancer",
    ]);
    repo.ok(&[
        "resolve",
        &a,
        "--resolution",
        "rolled back",
        "--at",
        "09:40",
    ]);
    let b = repo.declare(&["Slow search", "-s", "SEV3", "--no-input"]);
    repo.ok(&[
        "update",
        &b,
        "--caused-by",
        "deadbeefcafe",
        "-m",
        "a deploy?",
    ]);
    let c = repo.declare(&["Search slow again", "-s", "SEV4", "--no-input"]);
    repo.ok(&["cancel", &c, "--duplicate-of", &b]);
    repo.ok(&["action", "add", &a, "alert on 5xx", "--owner", "bob"]);
    repo.ok(&[
        "action",
        "add",
        &a,
        "load test the balancer",
        "--due",
        "2026-11-20",
    ]);
    repo.ok(&[
        "action",
        "add",
        &b,
        "index the title",
        "--due",
        "2026-12-30",
    ]);
    repo.ok(&["action", "done", &format!("{a}/1")]);
    repo.ok(&[
        "action",
        "drop",
        &format!("{b}/1"),
        "--reason",
        "not needed",
    ]);
    // Problems for check: an unknown severity and a stray file.
    let fb = folder(&repo, &b);
    commit_file(
        &repo,
        &format!("{fb}/events/20261124T093000Z-abcdef-severity.toml"),
        "version = 1\nkind = \"severity\"\nat = 2026-11-24T09:30:00Z\nrecorded_at = 2026-11-24T09:30:00Z\nauthor = \"Bob\"\nseverity = \"SEV9\"\n",
    );
    commit_file(&repo, &format!("{fb}/notes.txt"), "scratch\n");
    (repo, vec![a, b, c])
}

/// What list, actions and check print is the same with the caches cold,
/// warm, and deleted again.
#[test]
fn output_with_the_caches_is_output_without_them() {
    let (repo, _) = busy_repo();
    remove_caches(&repo);
    let cold = reads(&repo);
    assert_caches_exist(&repo, &CACHES);
    let warm = reads(&repo);
    assert_eq!(cold, warm);
    remove_caches(&repo);
    assert_eq!(reads(&repo), cold);
    // The outputs are the real ones, not empty ones.
    let listed = json_of(&repo, &repo.now, READS[0]);
    assert_eq!(listed.as_array().map(Vec::len), Some(3), "{listed}");
    let actions = json_of(&repo, &repo.now, READS[2]);
    assert_eq!(actions.as_array().map(Vec::len), Some(3), "{actions}");
    let (code, stdout, stderr) = &cold[3];
    assert_eq!(*code, Some(1), "{stderr}");
    assert!(stdout.contains("unknown severity 'SEV9'"), "{stdout}");
    assert!(
        stdout.contains("notes.txt: warning: unexpected file"),
        "{stdout}"
    );
    assert!(stdout.contains("no commit 'deadbeefcafe'"), "{stdout}");
}

/// A change made with plain git to an incident file, an action item or an
/// event is seen by the next run, with the caches warm.
#[test]
fn hand_edits_are_seen_on_the_next_run() {
    let repo = Repo::init();
    let id = repo.declare(&["Disk full", "-s", "SEV2", "--no-input"]);
    repo.ok(&["action", "add", &id, "add a disk alert", "--owner", "bob"]);
    let before = reads(&repo);
    assert_caches_exist(&repo, &CACHES);
    assert_eq!(before[3].0, Some(0), "{}", before[3].2);

    let dir = folder(&repo, &id);
    let declaration = format!("{dir}/incident.toml");
    let text = std::fs::read_to_string(repo.path.join(&declaration)).expect("declaration");
    assert!(text.contains("title = \"Disk full\""), "{text}");
    commit_file(
        &repo,
        &declaration,
        &text.replace("title = \"Disk full\"", "title = \"Disk full on db-3\""),
    );
    let actions = repo.path.join(&dir).join("actions");
    let item = std::fs::read_dir(&actions)
        .expect("actions")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "toml"))
        .expect("item file");
    let item_text = std::fs::read_to_string(&item).expect("item");
    let item_path = item
        .strip_prefix(&repo.path)
        .expect("in repo")
        .to_string_lossy()
        .into_owned();
    commit_file(
        &repo,
        &item_path,
        &item_text.replace("owner = \"bob\"", "owner = \"carol\""),
    );
    commit_file(
        &repo,
        &format!("{dir}/events/20261124T093000Z-abcdef-severity.toml"),
        "version = 1\nkind = \"severity\"\nat = 2026-11-24T09:30:00Z\nrecorded_at = 2026-11-24T09:30:00Z\nauthor = \"Bob\"\nseverity = \"SEV9\"\n",
    );

    let listed = json_of(&repo, &repo.now, READS[0]);
    assert_eq!(listed[0]["title"], "Disk full on db-3", "{listed}");
    assert_eq!(listed[0]["severity"], "SEV9", "{listed}");
    let table = stdout_of(&repo, &["list", "--all"]);
    assert!(table.contains("Disk full on db-3"), "{table}");
    let items = json_of(&repo, &repo.now, READS[2]);
    assert_eq!(items[0]["owner"], "carol", "{items}");
    let out = run_at(&repo, &repo.now, &["check"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("unknown severity 'SEV9'"), "{stdout}");

    // And what the warm caches say is what a cold run says.
    let warm = reads(&repo);
    remove_caches(&repo);
    assert_eq!(reads(&repo), warm);
}

/// A cache file cut short, filled with garbage, emptied or replaced by a
/// FIFO is ignored: the commands say what they say without it (of a FIFO,
/// with a warning), and none blocks.
#[test]
fn damaged_caches_and_fifos_are_ignored() {
    let (repo, _) = busy_repo();
    remove_caches(&repo);
    let expected = reads(&repo);
    assert_caches_exist(&repo, &CACHES);
    let originals: Vec<Vec<u8>> = CACHES
        .iter()
        .map(|name| std::fs::read(cache_dir(&repo).join(name)).expect("cache"))
        .collect();
    type Damage<'a> = (&'a str, &'a dyn Fn(&[u8]) -> Vec<u8>);
    let damages: [Damage<'_>; 5] = [
        ("truncated", &|bytes| bytes[..bytes.len() / 2].to_vec()),
        ("one byte short", &|bytes| bytes[..bytes.len() - 1].to_vec()),
        ("empty", &|_| Vec::new()),
        ("garbage", &|bytes| vec![0xff; bytes.len()]),
        ("body changed", &|bytes| {
            // Same length, a changed byte near the end: only the checksum
            // tells.
            let mut changed = bytes.to_vec();
            let at = changed.len() - 3;
            changed[at] = if changed[at] == b'1' { b'2' } else { b'1' };
            changed
        }),
    ];
    for (what, damage) in damages {
        for (name, original) in CACHES.iter().zip(&originals) {
            std::fs::write(cache_dir(&repo).join(name), damage(original)).expect("damage");
        }
        assert_eq!(reads(&repo), expected, "cache {what}");
    }
    // FIFOs where the caches are: read as absent, left alone, no blocking.
    remove_caches(&repo);
    for name in CACHES {
        mkfifo(&cache_dir(&repo).join(name));
    }
    // The same output; each command says its cache was skipped, and why.
    let with_fifos = reads(&repo);
    for ((code, out, err), (want_code, want_out, _)) in with_fifos.iter().zip(&expected) {
        assert_eq!((code, out), (want_code, want_out), "FIFOs");
        assert!(
            err.contains("cache was skipped") && err.contains("is a FIFO"),
            "{err}"
        );
    }
    for name in CACHES {
        use std::os::unix::fs::FileTypeExt;
        let kind = std::fs::symlink_metadata(cache_dir(&repo).join(name))
            .expect("still there")
            .file_type();
        assert!(kind.is_fifo(), "{name} replaced");
    }
}

fn mkfifo(path: &Path) {
    let fifo = std::ffi::CString::new(path.to_str().expect("utf-8 path")).expect("path");
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
}

/// Ages, "lasted", overdue: computed at every run from the clock, never
/// kept in a cache filled at another time.
#[test]
fn what_depends_on_now_is_not_cached() {
    let repo = Repo::init();
    let open = repo.declare(&["Queue backlog", "-s", "SEV2", "--no-input"]);
    repo.ok(&[
        "update",
        &open,
        "--milestone",
        "started=2026-11-24T09:00:00Z",
        "-m",
        "x",
    ]);
    repo.ok(&["action", "add", &open, "drain tool", "--due", "2026-11-30"]);
    let early = "2026-11-24T10:00:00Z";
    let late = "2026-12-02T10:00:00Z";

    let listed = json_of(&repo, early, READS[0]);
    assert_eq!(listed[0]["age_seconds"], 3600, "{listed}");
    assert_caches_exist(&repo, &CACHES[..1]);
    let listed = json_of(&repo, late, READS[0]);
    assert_eq!(listed[0]["age_seconds"], 3600 + 8 * 86400, "{listed}");

    let overdue = |now: &str| json_of(&repo, now, &["--format", "json", "actions", "--overdue"]);
    assert_eq!(overdue(early).as_array().map(Vec::len), Some(0));
    assert_eq!(overdue(late).as_array().map(Vec::len), Some(1));
    assert_eq!(overdue(early).as_array().map(Vec::len), Some(0));
}

/// What check says about references to other incidents and about ids is
/// worked out on every run: an unchanged folder whose duplicate_of target
/// was removed, or whose id another folder now also has, is reported.
#[test]
fn problems_across_incidents_are_not_cached_per_folder() {
    let repo = Repo::init();
    let original = repo.declare(&["Search down", "-s", "SEV2", "--no-input"]);
    let copy = repo.declare(&["Search down too", "-s", "SEV3", "--no-input"]);
    repo.ok(&["cancel", &copy, "--duplicate-of", &original]);
    let out = run_at(&repo, &repo.now, &["check"]);
    assert_eq!(out.status.code(), Some(0));
    assert_caches_exist(&repo, &CACHES[2..]);

    // Another folder with the original's id, in another month.
    let fo = folder(&repo, &original);
    let name = Path::new(&fo).file_name().expect("name").to_string_lossy();
    let twin = format!("incidents/2025/01/{name}");
    let declaration =
        std::fs::read_to_string(repo.path.join(&fo).join("incident.toml")).expect("declaration");
    commit_file(&repo, &format!("{twin}/incident.toml"), &declaration);
    let out = run_at(&repo, &repo.now, &["check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("{fo}: error: incident id is not unique")),
        "{stdout}"
    );

    // Both removed: the duplicate points at nothing.
    repo.git(&["rm", "-q", "-r", "--", &fo, &twin]);
    repo.git(&["commit", "-q", "-m", "remove the original"]);
    let out = run_at(&repo, &repo.now, &["check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "duplicate_of: no incident has the id '{original}'"
        )),
        "{stdout}"
    );
}

/// The config is part of every cache's stamp: a severity removed from it
/// makes check report the incidents that use it, folders unchanged.
#[test]
fn a_config_change_is_seen_by_check() {
    let repo = Repo::init();
    repo.declare(&["Cosmetic glitch", "-s", "SEV5", "--no-input"]);
    let out = run_at(&repo, &repo.now, &["check"]);
    assert_eq!(out.status.code(), Some(0));
    let config = std::fs::read_to_string(repo.path.join("incidents/config.toml")).expect("config");
    let sev5 = "[[severity]]\nname = \"SEV5\"\n";
    let start = config.find(sev5).expect("SEV5 in config");
    let end = config[start + sev5.len()..]
        .find("\n\n")
        .map_or(config.len(), |e| start + sev5.len() + e + 2);
    let edited = format!("{}{}", &config[..start], &config[end..]);
    commit_file(&repo, "incidents/config.toml", &edited);
    let out = run_at(&repo, &repo.now, &["check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("unknown severity 'SEV5'"), "{stdout}");
}

/// Enough folders that a cold run reads them on several threads: what
/// each folder gives is still its own, in the same order, cold and warm.
#[test]
fn many_folders_read_on_threads_give_the_same_output() {
    let repo = Repo::init();
    let first = repo.declare(&["Template", "-s", "SEV3", "--no-input"]);
    let dir = folder(&repo, &first);
    let declaration =
        std::fs::read_to_string(repo.path.join(&dir).join("incident.toml")).expect("declaration");
    let month = Path::new(&dir).parent().expect("month");
    let alphabet = b"0123456789abcdefghjkmnpqrstvwxyz";
    let mut ids = Vec::new();
    for n in 0..300usize {
        let id = format!(
            "zzzz{}{}",
            alphabet[n / 32 % 32] as char,
            alphabet[n % 32] as char
        );
        let mut text = declaration
            .replace(&format!("\"{first}\""), &format!("\"{id}\""))
            .replace("\"Template\"", &format!("\"Copy {n}\""));
        // Every seventh an unknown severity, for check to find.
        if n % 7 == 0 {
            text = text.replace("\"SEV3\"", "\"SEV8\"");
        }
        let path = month.join(format!("{id}-copy-{n}")).join("incident.toml");
        let full = repo.path.join(&path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(&full, text).expect("write");
        ids.push(id);
    }
    repo.git(&["add", "-f", "--", "incidents"]);
    repo.git(&["commit", "-q", "-m", "many copies"]);
    remove_caches(&repo);
    let cold = reads(&repo);
    let warm = reads(&repo);
    assert_eq!(cold, warm);
    let listed = json_of(&repo, &repo.now, READS[0]);
    let listed = listed.as_array().expect("list");
    assert_eq!(listed.len(), 301);
    for (n, id) in ids.iter().enumerate() {
        let found = listed.iter().find(|i| i["id"] == id.as_str()).expect(id);
        assert_eq!(found["title"], format!("Copy {n}"));
        let severity = if n % 7 == 0 { "SEV8" } else { "SEV3" };
        assert_eq!(found["severity"], severity, "{found}");
    }
    let (code, stdout, stderr) = &cold[3];
    assert_eq!(*code, Some(1), "{stderr}");
    assert_eq!(
        stdout.matches("unknown severity 'SEV8'").count(),
        300usize.div_ceil(7),
        "{stdout}"
    );
    for (n, id) in ids.iter().enumerate().filter(|(n, _)| n % 7 == 0) {
        assert!(
            stdout.contains(&format!("/{id}-copy-{n}/incident.toml:")),
            "{stdout}"
        );
    }
    assert!(stderr.contains("checked 301 incidents"), "{stderr}");

    // Every other copy renamed by hand: the cache entries of the rest must
    // be their own, or a folder shows twice and another not at all.
    for n in (0..300usize).step_by(2) {
        let path = month
            .join(format!("{}-copy-{n}", ids[n]))
            .join("incident.toml");
        let full = repo.path.join(&path);
        let text = std::fs::read_to_string(&full).expect("read");
        let renamed = text.replace(&format!("\"Copy {n}\""), &format!("\"Renamed {n}\""));
        std::fs::write(&full, renamed).expect("write");
    }
    repo.git(&["commit", "-q", "-a", "-m", "rename half"]);
    let listed = json_of(&repo, &repo.now, READS[0]);
    let listed = listed.as_array().expect("list");
    assert_eq!(listed.len(), 301);
    for (n, id) in ids.iter().enumerate() {
        let found: Vec<_> = listed.iter().filter(|i| i["id"] == id.as_str()).collect();
        assert_eq!(found.len(), 1, "{id}: {found:?}");
        let title = if n % 2 == 0 { "Renamed" } else { "Copy" };
        assert_eq!(found[0]["title"], format!("{title} {n}"));
    }
}

/// With `timezone = "local"`, check's messages show times in the machine's
/// zone: a cache filled under one `TZ` is not used under another.
#[test]
fn the_local_zone_is_part_of_the_stamp() {
    let repo = Repo::init();
    let id = repo.declare(&["Clock skew", "-s", "SEV3", "--no-input"]);
    repo.ok(&[
        "update",
        &id,
        "--milestone",
        "started=2026-11-24T09:00:00Z",
        "-m",
        "x",
    ]);
    let dir = folder(&repo, &id);
    commit_file(
        &repo,
        &format!("{dir}/events/20261124T093000Z-abcdef-milestone.toml"),
        "version = 1\nkind = \"milestone\"\nat = 2026-11-24T09:30:00Z\nrecorded_at = 2026-11-24T09:30:00Z\nauthor = \"Bob\"\nmilestone = \"detected\"\ntime = 2026-11-24T05:00:00Z\n",
    );
    let config = std::fs::read_to_string(repo.path.join("incidents/config.toml")).expect("config");
    commit_file(
        &repo,
        "incidents/config.toml",
        &config.replace("timezone = \"UTC\"", "timezone = \"local\""),
    );
    let check_in = |tz: &str| {
        let out = repo
            .command()
            .env("TZ", tz)
            .arg("check")
            .output()
            .expect("check");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let utc = check_in("UTC");
    assert!(utc.contains("(2026-11-24 05:00:00 +00:00)"), "{utc}");
    let tokyo = check_in("Asia/Tokyo");
    assert!(tokyo.contains("(2026-11-24 14:00:00 +09:00)"), "{tokyo}");
    assert_eq!(check_in("UTC"), utc);
}
