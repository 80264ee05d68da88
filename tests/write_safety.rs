//! The write path leaves nothing behind when it fails, and keeps the
//! repository as git keeps it: a disk that fills up at any step of a write,
//! the group's permissions, git's ownership check, temporary files of a
//! killed command, special files where incident keeps its own.

mod support;

use std::process::Command;

use support::Repo;

/// Run `script` with `sh` in a private mount namespace (a user namespace
/// when not root), where `mount -t tmpfs` works. `None` (with the reason
/// printed) when this machine allows neither.
fn in_mount_namespace(repo: &Repo, script: &str) -> Option<String> {
    let mut cmd = Command::new("unshare");
    support::base_env(&mut cmd, &repo.home());
    let out = cmd
        .args(["-Urm", "sh", "-c", script])
        .env("DISK", repo.home().join("small-disk"))
        .env("ERR", repo.home().join("stderr.txt"))
        .env("BIN", env!("CARGO_BIN_EXE_incident"))
        .env("INCIDENT_NOW", support::NOW)
        .output()
        .expect("unshare (util-linux) runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // unshare itself refused (no user namespaces), or the mount did.
    if stdout.contains("NO-MOUNT") || stderr.starts_with("unshare:") {
        println!(
            "SKIPPED: cannot mount a small tmpfs here (needs root or user namespaces): {stderr}"
        );
        return None;
    }
    assert!(out.status.success(), "{stdout}\n{stderr}");
    Some(stdout)
}

/// Every step of `update`, `declare` and `resolve` (with its draft on a
/// review branch) meets a full disk in turn (the
/// free space grows by one page from one round to the next): each failure
/// leaves the working tree, the index and `.git` as they were (no empty
/// event file or `incident.toml`, no temporary file), and the next command
/// works.
#[test]
fn a_disk_full_at_any_step_leaves_nothing_behind() {
    let repo = Repo::empty();
    std::fs::create_dir_all(repo.home().join("small-disk")).unwrap();
    let script = r#"
set -u
mount -t tmpfs -o size=6m tmpfs "$DISK" || { echo "NO-MOUNT"; exit 0; }
cd "$DISK"
"$BIN" init repo >/dev/null || exit 10
cd repo
id=$("$BIN" --format json declare "Full disk" -s SEV3 | sed -n 's/.*"id": *"\([0-9a-z]*\)".*/\1/p' | head -1)
state() {
  git rev-parse HEAD; git ls-files -s
  git -c core.fsmonitor=false status --porcelain=v1 --untracked-files=all --ignored 2>/dev/null
  git for-each-ref; find .git/logs -type f -empty
  find incidents .git -maxdepth 1 -newer .git/HEAD -name 'incident*' ! -name incident.lock ! -name incident
  find incidents -type d | sort
}
for command in update declare resolve; do
  for pages in $(seq 0 24); do
    [ $command = resolve ] && rid=$("$BIN" --format json declare "Resolve $pages" -s SEV2 | sed -n 's/.*"id": *"\([0-9a-z]*\)".*/\1/p' | head -1)
    i=0; while [ $i -lt $pages ]; do i=$((i+1)); dd if=/dev/zero of="$DISK/keep$i" bs=4k count=1 2>/dev/null; done
    before=$(state)
    dd if=/dev/zero of="$DISK/filler" bs=4k >/dev/null 2>&1
    dd if=/dev/zero of="$DISK/filler2" bs=512 >/dev/null 2>&1
    rm -f "$DISK"/keep*
    case $command in
      update) "$BIN" update "$id" -m "try $pages" >/dev/null 2>"$ERR" ;;
      declare) "$BIN" declare "Try $pages" -s SEV3 >/dev/null 2>"$ERR" ;;
      resolve) "$BIN" resolve "$rid" --resolution "try $pages" >/dev/null 2>"$ERR" ;;
    esac
    rc=$?
    rm -f "$DISK/filler" "$DISK/filler2"
    if [ $rc -ne 0 ]; then
      echo "FULL $command $pages"
      grep -q "the disk is full" "$ERR" || { echo "MESSAGE $command $pages: $(cat "$ERR")"; }
      after=$(state)
      [ "$after" = "$before" ] || { echo "LEFT $command $pages:"; echo "$before"; echo "----"; echo "$after"; }
    else
      echo "FITS $command $pages"
    fi
    # The incident is never blocked afterwards.
    "$BIN" update "$id" -m "after $command $pages" >/dev/null 2>"$ERR" || echo "BLOCKED $command $pages: $(cat "$ERR")"
  done
done
git fsck --no-dangling >/dev/null 2>&1 && echo "FSCK-OK"
"$BIN" check >/dev/null 2>&1 && echo "CHECK-OK"
"#;
    let Some(stdout) = in_mount_namespace(&repo, script) else {
        return;
    };
    assert!(!stdout.contains("LEFT"), "{stdout}");
    assert!(!stdout.contains("BLOCKED"), "{stdout}");
    assert!(!stdout.contains("MESSAGE"), "{stdout}");
    // Both commands did fail for lack of room, and then fit.
    assert!(stdout.contains("FITS update"), "{stdout}");
    assert!(stdout.contains("FITS declare"), "{stdout}");
    assert!(stdout.contains("FITS resolve"), "{stdout}");
    for command in ["update", "declare", "resolve"] {
        let failed = stdout
            .lines()
            .filter(|l| l.starts_with(&format!("FULL {command} ")))
            .count();
        assert!(
            failed >= 8,
            "{command} failed only {failed} times: {stdout}"
        );
    }
    assert!(
        stdout.contains("FSCK-OK") && stdout.contains("CHECK-OK"),
        "{stdout}"
    );
}

/// Modes of everything below `.git` made after `marker`, as `MODE PATH` lines.
const LIST_MODES: &str =
    r#"find .git -newer "$MARKER" ! -name COMMIT_EDITMSG -printf '%m %y %p\n'"#;

/// With `core.sharedRepository` (`group`, `0640`), and a umask that would
/// keep everything private, every object, folder and file incident writes
/// in `.git` (commits, review-branch objects and refs, caches, kept text)
/// has the mode git gives the same kind of thing in the same repository.
#[test]
fn shared_repository_permissions_are_as_git_makes_them() {
    for shared in ["group", "0640"] {
        let repo = Repo::empty();
        let script = format!(
            r#"
set -eu
umask 077
git init -q --shared={shared} .
# What a writer holds while it commits: its journal and git's index.lock.
printf '#!/bin/sh\nstat -c "%%a f %%n" .git/incident-journal .git/index.lock >> "$MARKER.during"\nexit 0\n' > .git/hooks/pre-commit
chmod +x .git/hooks/pre-commit
touch "$MARKER"
sleep 0.01
"$BIN" init >/dev/null
id=$("$BIN" --format json declare "Shared" -s SEV3 | sed -n 's/.*"id": *"\([0-9a-z]*\)".*/\1/p' | head -1)
"$BIN" update "$id" -m "seen by the group" >/dev/null
"$BIN" resolve "$id" --resolution "restarted" >/dev/null 2>&1
"$BIN" report >/dev/null
"$BIN" list >/dev/null
"$BIN" update nosuchincident -m "typed text" >/dev/null 2>&1 || true
git init -q --bare "$MARKER.remote.git"
git remote add origin "$MARKER.remote.git"
"$BIN" sync >/dev/null
git rev-parse --verify -q "refs/heads/postmortem/$id" >/dev/null || {{ echo "NO-REVIEW-BRANCH"; exit 1; }}
{LIST_MODES} > "$MARKER.incident"
# What git itself makes: an object in a folder of its own, a ref, a ref folder.
echo "made by git" > gitfile && git add gitfile && git commit -q -m "by git"
blob=$(git rev-parse HEAD:gitfile)
git update-ref refs/gitmade/one HEAD
echo "OBJECT $(stat -c %a .git/objects/$(echo $blob | cut -c1-2)/$(echo $blob | cut -c3-))"
echo "FILE $(stat -c %a .git/refs/gitmade/one)"
echo "DIR $(stat -c %a .git/refs/gitmade)"
cat "$MARKER.incident" "$MARKER.during"
"#
        );
        let mut cmd = Command::new("bash");
        support::base_env(&mut cmd, &repo.home());
        let out = cmd
            .args(["-c", &script])
            .current_dir(&repo.path)
            .env("BIN", env!("CARGO_BIN_EXE_incident"))
            .env("MARKER", repo.home().join("marker"))
            .env("INCIDENT_NOW", support::NOW)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let reference = |label: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(label))
                .unwrap()
                .trim()
                .to_string()
        };
        let (object, file, dir) = (reference("OBJECT "), reference("FILE "), reference("DIR "));
        assert_ne!(file, "600", "git itself did not share: {stdout}");
        let mut checked = 0;
        let mut wrong = Vec::new();
        for line in stdout.lines() {
            let mut fields = line.splitn(3, ' ');
            let (Some(mode), Some(kind), Some(path)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            if !path.starts_with(".git/") {
                continue;
            }
            let loose_object =
                path.starts_with(".git/objects/") && path.len() == ".git/objects/xx/".len() + 38;
            let expected = match kind {
                "d" => &dir,
                "f" if loose_object => &object,
                "f" if path.starts_with(".git/incident")
                    || path == ".git/index.lock"
                    || path == ".git/config"
                    || path.starts_with(".git/refs/")
                    || path.starts_with(".git/logs/refs/") =>
                {
                    &file
                }
                _ => continue,
            };
            checked += 1;
            if mode != expected {
                wrong.push(format!("{path}: {mode}, git makes {expected}"));
            }
        }
        for made in [
            ".git/incident/report-cache-v",
            ".git/incident/REJECTED_NOTE",
            ".git/incident/folders-v",
            "refs/heads/postmortem/",
            ".git/incident.lock",
            "f .git/incident-journal",
            "f .git/index.lock",
            "f .git/config",
            "refs/remotes/origin/",
        ] {
            assert!(stdout.contains(made), "{made} not made: {stdout}");
        }
        assert!(checked > 30, "{stdout}");
        assert!(
            wrong.is_empty(),
            "core.sharedRepository={shared}:\n{}",
            wrong.join("\n")
        );
    }
}

/// Whether this test runs as root (needed to make files another user owns).
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A repository owned by another user: git refuses it, and so does
/// incident, naming git's fix; `safe.directory` given the ways git reads it
/// without a `~/.gitconfig` (GIT_CONFIG_COUNT/KEY/VALUE, GIT_CONFIG_GLOBAL)
/// makes git accept it, and incident too.
#[test]
fn safe_directory_is_read_where_git_reads_it() {
    if !is_root() {
        println!("SKIPPED: making a repository another user owns needs root");
        return;
    }
    let repo = Repo::init();
    repo.declare(&["Owned by another user", "-s", "SEV3"]);
    let chown = Command::new("chown")
        .args(["-R", "4321:4321"])
        .arg(&repo.path)
        .status()
        .unwrap();
    assert!(chown.success());
    let path = repo.path.to_str().unwrap().to_string();
    let git = |envs: &[(&str, &str)]| {
        let mut cmd = Command::new("git");
        support::base_env(&mut cmd, &repo.home());
        cmd.current_dir(&repo.path).args(["status", "--porcelain"]);
        cmd.envs(envs.iter().copied()).output().unwrap()
    };
    let incident = |envs: &[(&str, &str)]| {
        let mut cmd = repo.command();
        cmd.args(["list", "--all"]);
        cmd.envs(envs.iter().copied()).output().unwrap()
    };

    // Refused by both, and incident names the command git names.
    let refused = git(&[]);
    assert!(!refused.status.success());
    let git_says = String::from_utf8_lossy(&refused.stderr);
    let fix = git_says
        .lines()
        .map(str::trim)
        .find(|l| l.contains("safe.directory"))
        .unwrap()
        .to_string();
    let out = incident(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("repository at {path}: it belongs to another user")),
        "{stderr}"
    );
    assert!(stderr.contains(&fix), "{stderr}\ngit: {git_says}");
    assert!(!stderr.contains("class=Config"), "{stderr}");

    // Accepted by both through GIT_CONFIG_COUNT...
    let by_env: &[(&str, &str)] = &[
        ("GIT_CONFIG_COUNT", "1"),
        ("GIT_CONFIG_KEY_0", "safe.directory"),
        ("GIT_CONFIG_VALUE_0", &path),
    ];
    assert!(git(by_env).status.success());
    let out = incident(by_env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Owned by another user"));

    // ... and through GIT_CONFIG_GLOBAL.
    let global = repo.home().join("global-config");
    std::fs::write(&global, format!("[safe]\n\tdirectory = {path}\n")).unwrap();
    let by_file: &[(&str, &str)] = &[("GIT_CONFIG_GLOBAL", global.to_str().unwrap())];
    assert!(git(by_file).status.success());
    let out = incident(by_file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `resolve` killed (SIGKILL) while a pre-commit hook runs for the draft
/// postmortem's commit on the review branch leaves its temporary index in
/// `.git`; the next command removes it (its process is gone), and git and
/// `incident check` find everything in order.
#[test]
fn a_killed_draft_commit_leaves_no_temporary_index() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let repo = Repo::init();
    let id = repo.declare(&["Killed during the draft", "-s", "SEV2"]);
    let ready = repo.home().join("hook-running");
    let hook = repo.path.join(".git/hooks/pre-commit");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\n# Only the draft's commit (its index has the postmortem) waits.\ngit ls-files | grep -q postmortem.md || exit 0\ntouch '{}'\nsleep 30\n",
            ready.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut child = repo
        .command()
        .args(["resolve", &id, "--resolution", "rolled back"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !ready.exists() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the draft's pre-commit hook never ran"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let temp_indexes = || -> Vec<String> {
        std::fs::read_dir(repo.path.join(".git"))
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("incident-next-index-"))
            .collect()
    };
    assert_eq!(temp_indexes().len(), 1, "the hook sees a temporary index");
    // The command and its hook, as a terminal's kill would.
    // SAFETY: a signal to the process group this test made.
    unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
    child.wait().unwrap();
    assert_eq!(temp_indexes().len(), 1, "left behind by the killed command");
    std::fs::remove_file(&hook).unwrap();

    repo.ok(&["update", &id, "-m", "after the crash"]);
    assert!(temp_indexes().is_empty(), "{:?}", temp_indexes());
    repo.git(&["fsck", "--no-dangling"]);
    repo.ok(&["check"]);
}

/// FIFOs where incident keeps its own files in `.git/incident/` (report
/// cache and snapshot, kept text, hook log): no command blocks on one;
/// each says what is there, and typed text is kept beside it.
#[test]
fn fifos_in_incidents_own_files_never_block() {
    let repo = Repo::init();
    let id = repo.declare(&["Pipes everywhere", "-s", "SEV3"]);
    let own = repo.path.join(".git/incident");
    // The report's cache and snapshot, whatever their version: as it made them.
    repo.ok(&["report"]);
    let mut names: Vec<String> = std::fs::read_dir(&own)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("report-cache-") || n.starts_with("report-snapshot-"))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    for name in &names {
        std::fs::remove_file(own.join(name)).unwrap();
    }
    names.extend(["REJECTED_NOTE".to_string(), "hooks.log".to_string()]);
    for name in &names {
        let fifo = std::ffi::CString::new(own.join(name).to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    }
    std::fs::write(
        own.join("hooks.toml"),
        "[[hook]]\nname = \"note\"\non = [\"*\"]\nrun = [\"true\"]\n",
    )
    .unwrap();
    // `timeout` ends a command that blocks (exit 124).
    let run = |args: &[&str]| {
        let mut cmd = Command::new("timeout");
        support::base_env(&mut cmd, &repo.home());
        cmd.current_dir(&repo.path)
            .env("INCIDENT_NOW", support::NOW)
            .arg("20")
            .arg(env!("CARGO_BIN_EXE_incident"))
            .args(args);
        let out = cmd.output().unwrap();
        assert_ne!(out.status.code(), Some(124), "{args:?} blocked");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = run(&["report"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        names[..2]
            .iter()
            .all(|name| stderr.contains(&format!("{name} is a FIFO"))),
        "{stderr}"
    );
    let (code, stderr) = run(&["update", "nosuchincident", "-m", "words worth keeping"]);
    assert_eq!(code, Some(1), "{stderr}");
    let kept = stderr
        .split_whitespace()
        .find(|w| w.starts_with(".git/incident/REJECTED_NOTE."))
        .unwrap_or_else(|| panic!("{stderr}"))
        .trim_end_matches(';');
    assert_eq!(
        std::fs::read_to_string(repo.path.join(kept)).unwrap(),
        "words worth keeping\n"
    );
    let (code, stderr) = run(&["update", &id, "-m", "the hook log is a pipe"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("hooks.log is a FIFO"), "{stderr}");
    // The FIFOs are left as they were: not incident's to remove.
    for name in &names {
        use std::os::unix::fs::FileTypeExt;
        let kind = std::fs::symlink_metadata(own.join(name))
            .unwrap()
            .file_type();
        assert!(kind.is_fifo(), "{name}");
    }
}

/// Messages say what is wrong and the way out, and only hints that apply:
/// a remote folder that is no repository is not a network problem; a new
/// remote branch says which git command sync does; damage names the object
/// and `git fsck`; a broken template gets no TOML advice.
#[test]
fn messages_name_the_problem_and_the_command() {
    let repo = Repo::init();
    let id = repo.declare(&["Messages", "-s", "SEV3"]);

    let plain = repo.sibling("plain-folder");
    std::fs::create_dir_all(&plain).unwrap();
    repo.git(&["remote", "add", "origin", plain.to_str().unwrap()]);
    let stderr = repo.fails(1, &["sync"]);
    assert!(stderr.contains("is not a git repository"), "{stderr}");
    assert!(stderr.contains("`git init --bare "), "{stderr}");
    assert!(!stderr.contains("network"), "{stderr}");

    let bare = repo.sibling("remote.git");
    support::git_in(
        &repo.home(),
        &repo.home(),
        &["init", "-q", "--bare", bare.to_str().unwrap()],
    );
    repo.git(&["remote", "set-url", "origin", bare.to_str().unwrap()]);
    let out = repo.run(&["sync"]);
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains(
            "origin/main does not exist yet; creating it as `git push -u origin main` does"
        ),
        "{shown}"
    );

    std::fs::create_dir_all(repo.path.join("incidents/templates")).unwrap();
    std::fs::write(
        repo.path.join("incidents/templates/postmortem-broken.md"),
        "# {{ title }\n",
    )
    .unwrap();
    let stderr = repo.fails(1, &["postmortem", &id, "--template", "broken"]);
    assert!(stderr.contains("postmortem-broken.md:1"), "{stderr}");
    assert!(!stderr.contains("TOML"), "{stderr}");
    std::fs::remove_dir_all(repo.path.join("incidents/templates")).unwrap();

    // An incident.toml's object is damaged: the error names the file and
    // the object's file.
    let listed = repo.git(&["ls-tree", "-r", "HEAD", "--", "incidents"]);
    let (declaration_blob, declaration_path) = listed
        .lines()
        .find(|l| l.ends_with("/incident.toml"))
        .map(|l| {
            let (meta, path) = l.split_once('\t').unwrap();
            (
                meta.split(' ').nth(2).unwrap().to_string(),
                path.to_string(),
            )
        })
        .unwrap();
    let object_file = format!(
        ".git/objects/{}/{}",
        &declaration_blob[..2],
        &declaration_blob[2..]
    );
    let saved = std::fs::read(repo.path.join(&object_file)).unwrap();
    let damaged = repo.path.join(&object_file);
    let mut permissions = std::fs::metadata(&damaged).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&damaged, permissions).unwrap();
    std::fs::write(&damaged, b"not zlib at all").unwrap();
    let stderr = repo.fails(1, &["show", &id]);
    assert!(stderr.contains("damaged or incomplete"), "{stderr}");
    assert!(stderr.contains(&declaration_path), "{stderr}");
    assert!(stderr.contains(&object_file), "{stderr}");
    assert!(stderr.contains("`git fsck --full`"), "{stderr}");
    std::fs::write(&damaged, saved).unwrap();

    // HEAD's tree object goes missing.
    let tree = repo.git(&["rev-parse", "HEAD^{tree}"]);
    let tree = tree.trim();
    let commit = repo.git(&["rev-parse", "HEAD"]);
    let object = repo
        .path
        .join(".git/objects")
        .join(&tree[..2])
        .join(&tree[2..]);
    std::fs::remove_file(&object).unwrap();
    let stderr = repo.fails(1, &["show", &id]);
    assert!(stderr.contains("damaged or incomplete"), "{stderr}");
    assert!(
        stderr.contains(commit.trim()) || stderr.contains(tree),
        "{stderr}"
    );
    assert!(stderr.contains("`git fsck --full`"), "{stderr}");
    assert!(!stderr.contains("class="), "{stderr}");
}

/// The empty event file an older incident left when a full disk cut its
/// write short no longer blocks the incident: the next write removes it.
/// A file of any other name, or with any content, is the user's: it stays,
/// and the write is refused as before.
#[test]
fn an_empty_event_file_left_by_a_full_disk_is_cleared() {
    let repo = Repo::init();
    let id = repo.declare(&["Left over", "-s", "SEV3"]);
    repo.ok(&["update", &id, "-m", "first"]);
    let listed = repo.git(&["ls-files", "incidents"]);
    let folder = listed
        .lines()
        .find_map(|l| l.strip_suffix("/incident.toml"))
        .unwrap()
        .to_string();
    let events = repo.path.join(&folder).join("events");
    let left = events.join("20261124T095959Z-q7w2e9-note.toml");
    std::fs::write(&left, b"").unwrap();
    let typed = events.join("20261124T095958Z-q7w2e8-note.toml");
    std::fs::write(&typed, b"someone typed this\n").unwrap();
    let own = events.join("my-notes.toml");
    std::fs::write(&own, b"").unwrap();

    let stderr = repo.fails(1, &["update", &id, "-m", "blocked by the user's files"]);
    assert!(stderr.contains("my-notes.toml"), "{stderr}");
    assert!(stderr.contains("q7w2e8-note.toml"), "{stderr}");
    assert!(!stderr.contains("q7w2e9"), "{stderr}");
    std::fs::remove_file(&own).unwrap();
    std::fs::remove_file(&typed).unwrap();

    std::fs::write(&left, b"").unwrap();
    repo.ok(&["update", &id, "-m", "after the cleanup"]);
    assert!(!left.exists());
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}
