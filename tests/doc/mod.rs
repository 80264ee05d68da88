//! Running documented shell examples verbatim: README.md blocks and the
//! examples of every `--help`, in bash, with the real binary on `PATH`, a
//! throwaway `HOME`, fixed time and ids, and nothing from the machine.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// "Now" for documented examples: the README's and `--help`'s times
/// (`02:40`, `--at 03:40`, `2026-11-24 04:10`) lie before it.
pub const DOC_NOW: &str = "2026-11-24T04:30:00Z";

/// The ids documentation uses, handed out in this order.
pub const DOC_IDS: &str = "k3f9x2 m7q2ab";

/// Commands joined from lines ending in `\`, in order.
pub fn join_continuations(lines: &[&str]) -> Vec<String> {
    let mut commands = Vec::new();
    let mut current = String::new();
    for line in lines {
        let trimmed = line.trim_end();
        if let Some(head) = trimmed.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
        } else {
            current.push_str(trimmed);
            commands.push(std::mem::take(&mut current).trim().to_string());
        }
    }
    if !current.trim().is_empty() {
        commands.push(current.trim().to_string());
    }
    commands
}

/// The folder holding the binary under test, for `PATH`.
pub fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_incident"))
        .parent()
        .expect("bin dir")
        .to_path_buf()
}

/// The demo example's binary, built if `cargo test` did not build it.
pub fn demo_binary() -> PathBuf {
    let path = bin_dir().join("examples").join("demo");
    if !path.is_file() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "--example", "demo"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo build --example demo");
        assert!(status.success(), "building the demo failed");
    }
    path
}

/// What the documentation's reader has: git, the tools of a usual
/// machine, `incident` on `PATH`, and a `HOME` of their own.
pub fn shell(home: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new("bash");
    let path = format!(
        "{}:{}:{}",
        bin_dir().display(),
        home.join(".local/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    crate::support::base_env(&mut cmd, home);
    cmd.env("PATH", path)
        .env("INCIDENT_NOW", DOC_NOW)
        .env("INCIDENT_IDS", DOC_IDS)
        // An editor that writes a line, for `-e` and `--edit`.
        .env(
            "GIT_EDITOR",
            "f() { printf 'restarted the connection pool\\n' > \"$1\"; }; f",
        )
        .env(
            "EDITOR",
            "f() { printf 'restarted the connection pool\\n' >> \"$1\"; }; f",
        )
        .current_dir(dir);
    cmd
}

/// `cargo` as the documentation uses it, inside the test: the binary and
/// the demo are built already, so `cargo build`/`install` have nothing to
/// do and `cargo run --example demo -- DIR` runs the built demo.
pub fn cargo_function() -> String {
    format!(
        r#"cargo() {{
  case "$*" in
    "build --release"|"install --path ."*) ;;
    "run --release --example demo -- "*) shift 5; env -u INCIDENT_IDS "{demo}" "$@" ;;
    *) echo "cargo $* is not one the documentation should need" >&2; return 1 ;;
  esac
}}
"#,
        demo = demo_binary().display()
    )
}

/// One command's run: what it printed (stdout and stderr) and its status.
pub struct Ran {
    pub command: String,
    pub output: String,
    pub status: i32,
}

/// Run commands one after another in one bash (so `cd` and `export`
/// carry over), stopping at the first failure.
pub fn run_script(home: &Path, dir: &Path, prelude: &str, commands: &[String]) -> Vec<Ran> {
    let mut script = String::from("set -o pipefail\n");
    script.push_str(prelude);
    for (n, command) in commands.iter().enumerate() {
        script.push_str(&format!(
            "printf '\\n@@BEGIN {n}\\n'\n{command}\nstatus=$?\nprintf '\\n@@END {n} %s\\n' \"$status\"\nif [ \"$status\" != 0 ]; then exit \"$status\"; fi\n"
        ));
    }
    // stderr goes to stdout, in order, so each command's messages stay with it.
    let out = shell(home, dir)
        .arg("-c")
        .arg(format!("exec 2>&1\n{script}"))
        .output();
    let text = String::from_utf8_lossy(&out.expect("run bash").stdout).into_owned();
    let mut ran = Vec::new();
    for (n, command) in commands.iter().enumerate() {
        let begin = format!("@@BEGIN {n}\n");
        let Some(start) = text.find(&begin).map(|i| i + begin.len()) else {
            break;
        };
        let end_marker = format!("\n@@END {n} ");
        let (output, status) = match text[start..].find(&end_marker) {
            Some(end) => {
                let rest = &text[start + end + end_marker.len()..];
                let status = rest
                    .lines()
                    .next()
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(-1);
                (text[start..start + end].to_string(), status)
            }
            None => (text[start..].to_string(), -1),
        };
        ran.push(Ran {
            command: command.clone(),
            output,
            status,
        });
    }
    ran
}

/// `expected` (a documented output line, `…` matching anything) occurs in `output`.
pub fn shows(output: &str, expected: &str) -> bool {
    let parts: Vec<&str> = expected.split('…').map(str::trim).collect();
    output.lines().any(|line| {
        let mut rest = line;
        parts.iter().all(|part| match rest.find(part) {
            Some(i) => {
                rest = &rest[i + part.len()..];
                true
            }
            None => false,
        })
    })
}
