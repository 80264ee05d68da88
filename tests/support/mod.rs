//! Test support: temporary repositories driven through the real binary under
//! a cleared environment (no global git config, fixed zone, fixed clock).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// The fixed "now" of every test unless a test says otherwise.
pub const NOW: &str = "2026-11-24T10:00:00Z";

pub struct Repo {
    _tmp: TempDir,
    pub path: PathBuf,
    pub now: String,
}

/// The environment every command runs with: nothing from the machine that
/// could change the outcome.
pub fn base_env(cmd: &mut Command, home: &Path) {
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("TZ", "UTC")
        .env("LANG", "C.UTF-8")
        .env("GIT_AUTHOR_NAME", "Alice Example")
        .env("GIT_AUTHOR_EMAIL", "alice@example.com")
        .env("GIT_COMMITTER_NAME", "Alice Example")
        .env("GIT_COMMITTER_EMAIL", "alice@example.com");
}

impl Repo {
    /// A fresh incident repository made by `incident init`.
    pub fn init() -> Repo {
        let repo = Repo::empty();
        repo.ok(&["init"]);
        repo
    }

    /// An empty folder, no repository yet.
    pub fn empty() -> Repo {
        let tmp = TempDir::new().expect("temp dir");
        let path = tmp.path().join("repo");
        std::fs::create_dir_all(&path).expect("mkdir");
        Repo {
            _tmp: tmp,
            path,
            now: NOW.to_string(),
        }
    }

    /// Another working copy in the same temporary folder.
    pub fn sibling(&self, name: &str) -> PathBuf {
        self.path.parent().expect("parent").join(name)
    }

    pub fn home(&self) -> PathBuf {
        self.path.parent().expect("parent").to_path_buf()
    }

    pub fn command(&self) -> Command {
        self.command_in(&self.path)
    }

    pub fn command_in(&self, dir: &Path) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_incident"));
        base_env(&mut cmd, &self.home());
        cmd.current_dir(dir).env("INCIDENT_NOW", &self.now);
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run incident")
    }

    pub fn run_in(&self, dir: &Path, args: &[&str]) -> Output {
        self.command_in(dir)
            .args(args)
            .output()
            .expect("run incident")
    }

    /// Run and require success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "incident {args:?} failed ({:?}):\nstdout: {}\nstderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    pub fn ok_in(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.run_in(dir, args);
        assert!(
            out.status.success(),
            "incident {args:?} in {} failed:\n{}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Run, require failure with `code`; returns stderr.
    pub fn fails(&self, code: i32, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "incident {args:?}: expected exit {code}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).expect("utf-8 stderr")
    }

    /// Declare an incident and return its id.
    pub fn declare(&self, args: &[&str]) -> String {
        let mut all = vec!["--format", "json", "declare"];
        all.extend_from_slice(args);
        let out = self.ok(&all);
        let value: serde_json::Value = serde_json::from_str(&out).expect("declare json");
        value["id"].as_str().expect("id").to_string()
    }

    pub fn show(&self, id: &str) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["--format", "json", "show", id])).expect("show json")
    }

    pub fn git(&self, args: &[&str]) -> String {
        git_in(&self.path, &self.home(), args)
    }

    /// HEAD, index and working-tree status: equal before and after a
    /// refused command means nothing was written.
    pub fn state(&self) -> String {
        let head = self.git(&["rev-parse", "--verify", "-q", "HEAD"]);
        let status = self.git(&["status", "--porcelain=v1", "--untracked-files=all"]);
        let index = self.git(&["ls-files", "--stage"]);
        format!("HEAD {head}\nSTATUS\n{status}\nINDEX\n{index}")
    }

    pub fn commit_count(&self) -> usize {
        self.git(&["rev-list", "--count", "HEAD"])
            .trim()
            .parse()
            .expect("count")
    }
}

pub fn git_in(dir: &Path, home: &Path, args: &[&str]) -> String {
    let mut cmd = Command::new("git");
    base_env(&mut cmd, home);
    let out = cmd.current_dir(dir).args(args).output().expect("run git");
    // `rev-parse --verify -q` fails quietly on an unborn branch; callers of
    // other commands want to know about failures.
    if !out.status.success() && !args.contains(&"-q") {
        panic!(
            "git {args:?} failed in {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8(out.stdout).expect("utf-8 git output")
}

pub fn git_status(dir: &Path, home: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new("git");
    base_env(&mut cmd, home);
    cmd.current_dir(dir).args(args).output().expect("run git")
}

/// The texts of the notes in a `show --format json` timeline, in order.
pub fn notes(shown: &serde_json::Value) -> Vec<String> {
    shown["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["kind"] == "note")
        .map(|e| e["text"].as_str().expect("text").to_string())
        .collect()
}

/// What a command drew on a terminal of `columns` columns, with `env`.
pub fn on_a_terminal(repo: &Repo, columns: u16, env: &[(&str, &str)], args: &str) -> String {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_incident"));
    let mut bash = std::process::Command::new("bash");
    base_env(&mut bash, &repo.home());
    bash.env("INCIDENT_NOW", &repo.now)
        .env("TERM", "xterm")
        .env("NO_COLOR", "1")
        .current_dir(&repo.path)
        .args([
            "-c",
            &format!(
                "stty cols {columns} rows 60; {} '{}' --no-pager {args}",
                // After stty, bash sets COLUMNS from the terminal: given here.
                env.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                bin.display()
            ),
        ]);
    let mut session = rexpect::session::spawn_command(bash, Some(20_000)).expect("pty");
    let drawn = session.exp_eof().expect("exits");
    // The pty's bytes may come back one char each: decode them as UTF-8.
    let bytes: Option<Vec<u8>> = drawn
        .chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect();
    bytes
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or(drawn)
        .replace('\r', "")
}
