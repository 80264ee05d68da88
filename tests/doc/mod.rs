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

/// The documentation reader's editor (see `shell`).
const DOC_EDITOR: &str = "f() { if grep -q '^## ' \"$1\"; then sed -i 's/^> TODO:.*/The pool ran dry after the 1.42 deploy./' \"$1\"; printf '\\nReviewed by bob.\\n' >> \"$1\"; else printf 'restarted the connection pool\\n' > \"$1\"; fi; }; f";

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
        // An editor that writes a line, for `-e` and `--edit`; on a
        // Markdown document (a postmortem) it answers every `> TODO:`
        // prompt, as its author would, and adds a line.
        .env("GIT_EDITOR", DOC_EDITOR)
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

/// `expected` (a documented output line, `…` matching anything) occurs in
/// `output`; a run of blanks matches any run of blanks (columns).
pub fn shows(output: &str, expected: &str) -> bool {
    let squeeze = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let parts: Vec<String> = expected.split('…').map(squeeze).collect();
    output.lines().map(squeeze).any(|line| {
        let mut rest = line.as_str();
        parts.iter().all(|part| match rest.find(part) {
            Some(i) => {
                rest = &rest[i + part.len()..];
                true
            }
            None => false,
        })
    })
}

/// The fixture every documented example starts from, under `home`: the
/// repository `~/ops` with the incidents the examples name (k3f9x2
/// "Checkout latency above 2s", SEV2, started 02:40; m7q2ab "Payments
/// timing out"), remotes `origin` and `upstream` (the bare `~/ops.git`),
/// a tag `v1.4`, and a notes.txt. Examples run in `~/ops`.
pub fn fixture(home: &Path) {
    let script = [
        "git init -q --bare --initial-branch=main ops.git",
        "mkdir ops && cd ops",
        "incident init >/dev/null",
        "git remote add origin ../ops.git && git remote add upstream ../ops.git",
        "incident declare 'Checkout latency above 2s' -s SEV2 --service checkout --commander alice --started-at 02:40 >/dev/null 2>&1",
        "incident declare 'Payments timing out' -s SEV3 --service payments >/dev/null 2>&1",
        "git tag v1.4",
        "git push -q -u origin main",
        "printf 'the pool ran dry at 02:40\\n' > notes.txt",
    ]
    .join(" && ");
    let out = shell(home, home)
        .arg("-c")
        .arg(script)
        .output()
        .expect("fixture");
    assert!(
        out.status.success(),
        "fixture: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh copy of a fixture made by `fixture` (`cp -a`: cheaper than
/// building it again for every example).
pub fn copy_fixture(template: &Path, home: &Path) {
    let copied = Command::new("cp")
        .arg("-a")
        .arg(template)
        .arg(home)
        .status()
        .expect("cp");
    assert!(copied.success(), "cp -a {}", template.display());
}

/// Run one documented example in `~/ops` of a fixture copy at `home`,
/// after the steps `setup_for` lists for it (quietly; a failing step
/// exits 99, so a broken setup is not mistaken for a broken example).
pub fn run_example(home: &Path, example: &str) -> std::process::Output {
    let mut script = String::from("set -o pipefail\n");
    for step in setup_for(example) {
        script.push_str(&format!(
            "{{ {step}\n}} >/dev/null 2>&1 || {{ echo 'setup failed: {}' >&2; exit 99; }}\n",
            step.replace('\'', "'\\''")
        ));
    }
    script.push_str(example);
    script.push('\n');
    shell(home, &home.join("ops"))
        .arg("-c")
        .arg(script)
        .output()
        .expect("bash")
}

const SHARED_HOOKS: &str = "printf '[[hook]]\\nname = \"slack\"\\non = [\"*\"]\\nrun = [\"true\"]\\n' > incidents/hooks.toml && git add incidents/hooks.toml && git commit -qm 'Shared hooks'";
const API_COMPONENT: &str = "printf '\\n[[component]]\\nid = \"api\"\\nname = \"API\"\\nservices = [\"checkout\"]\\n' >> incidents/config.toml && git commit -qam 'API component'";
const FIRST_POST: &str = "incident comms k3f9x2 --audience public --status investigating --public-title 'Checkout errors' -m 'We are looking into errors at checkout.'";
const MAINTENANCE: &str = "incident maintenance schedule 'Database upgrade' --component api --from '2026-11-25 02:00' --until '2026-11-25 03:00'";
const RESOLVED: &str = "incident resolve k3f9x2 -r 'restarted the pool'";
/// An incident through its whole response, for the examples that show one.
const RESPONDED: &str = "incident update k3f9x2 --role scribe=bob --service payments --milestone detected=02:52 --link https://grafana/d/checkout --caused-by v1.4 && incident ack k3f9x2 --at 02:55 && incident update k3f9x2 --status identified --at 03:20 && incident update k3f9x2 --status mitigated --at 03:40 && incident resolve k3f9x2 --resolution 'rolled back' --at 04:10";
/// A signing key git is set up to use, as a reader who signs has.
const SIGNING_KEY: &str = "mkdir -p ~/.ssh && ssh-keygen -q -t ed25519 -N '' -C alice -f ~/.ssh/id_ed25519 && git config gpg.format ssh && git config user.signingKey ~/.ssh/id_ed25519.pub";

/// Commands that put the fixture into the state an example needs (a
/// resolved incident to reopen, say), keyed by the example's beginning; a
/// key ending in NUL is the whole example. Shared by the README's examples
/// and `--help`'s: the same example needs the same state wherever it is
/// documented.
pub fn setup_for(example: &str) -> Vec<&'static str> {
    let table: &[(&str, &[&str])] = &[
        ("incident reopen", &[RESOLVED]),
        ("incident show k3f9 --format json", &[RESPONDED]),
        // README's outputs: a list, a commit message, an error, what is owed.
        ("incident list\u{0}", &["incident ack k3f9x2"]),
        (
            "git log -1 --format=%B\u{0}",
            &[
                "incident update k3f9x2 --status mitigated --at 04:00",
                "incident resolve k3f9 --resolution 'rolled back payments to 1.41' --at 04:10",
            ],
        ),
        ("incident update k3f9 --status mitigated\u{0}", &[RESOLVED]),
        (
            "incident comms due --all\u{0}",
            &[
                "incident update k3f9x2 --severity SEV1",
                "incident comms k3f9x2 --audience public --status investigating --public-title 'Checkout errors' -m 'Looking into it.' --at 04:21",
            ],
        ),
        (
            "incident close k3f9\u{0}",
            &["incident update k3f9x2 --severity SEV4", RESOLVED],
        ),
        ("incident close k3f9 --force", &[RESOLVED]),
        ("incident postmortem k3f9 --refresh", &[RESOLVED]),
        ("incident postmortem review", &[RESOLVED]),
        (
            "incident action ",
            &[
                "incident action add k3f9x2 'Alert on pool saturation' --owner bob",
                "incident action add k3f9x2 'Load test the pool' --owner carol",
            ],
        ),
        ("incident -C ~/src/ops", &["git init -q ~/src/ops"]),
        ("incident completions zsh", &["mkdir -p ~/.zfunc"]),
        (
            "incident completions fish",
            &["mkdir -p ~/.config/fish/completions"],
        ),
        (
            "incident completions bash",
            &["mkdir -p ~/.local/share/bash-completion/completions"],
        ),
        ("incident man", &["mkdir -p ~/.local/share/man/man1"]),
        // Hooks the team shares, in the repository (trusted per clone).
        ("incident hooks", &[SHARED_HOOKS]),
        ("incident hooks test", &["incident hooks trust"]),
        // The central notifier in CI: the hooks trusted in the job, and the
        // commit before the push (`$BEFORE`), or a previous run's mark.
        ("incident hooks run", &["incident hooks trust"]),
        (
            "incident hooks run --since \"$BEFORE\"",
            &["BEFORE=$(git rev-list --max-parents=0 HEAD)"],
        ),
        (
            "incident hooks run\u{0}",
            &["incident hooks run --since HEAD~1"],
        ),
        ("incident -S ", &[SIGNING_KEY]),
        // Histories to import: real public ones, and an export's CSV.
        (
            "incident import statuspage incidents.json",
            &[concat!(
                "cp ",
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/github-status/00lscqwb6ht5.json incidents.json"
            )],
        ),
        (
            "incident import statuspage status-archive/",
            &[concat!(
                "mkdir status-archive && cp ",
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/github-status/*.json status-archive/"
            )],
        ),
        (
            "incident import jsonl all.jsonl",
            &[
                "incident export --output ~/all.jsonl",
                "incident init ~/new && cd ~/new && mv ~/all.jsonl .",
            ],
        ),
        (
            "incident import cstate site/content/issues/",
            &[concat!(
                "mkdir -p site/content/issues && cp ",
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/jenkins-status/20*.md site/content/issues/"
            )],
        ),
        (
            "incident import csv pagerduty.csv",
            &[concat!(
                "cp ",
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/import/pagerduty.csv ",
                env!("CARGO_MANIFEST_DIR"),
                "/examples/import/pagerduty.toml ."
            )],
        ),
        (
            "incident -C ~/copy import",
            &[
                "incident export --output ~/all.jsonl",
                "incident init ~/copy",
            ],
        ),
        // A status-page component, and the first public update.
        ("incident comms k3f9", &[API_COMPONENT]),
        (
            "incident comms k3f9 --audience public --status identified",
            &[FIRST_POST],
        ),
        (
            "incident comms k3f9 --audience public --status resolved",
            &[FIRST_POST],
        ),
        ("incident comms k3f9 --render", &[FIRST_POST]),
        (
            "incident comms k3f9 --audience internal -F update.txt",
            &["printf 'Checkout is slow; payments are fine.\\n' > update.txt"],
        ),
        ("incident maintenance", &[API_COMPONENT]),
        ("incident maintenance list", &[MAINTENANCE]),
        ("incident maintenance start", &[MAINTENANCE]),
        (
            "incident maintenance complete",
            &[MAINTENANCE, "incident maintenance start database-upgrade"],
        ),
        ("incident maintenance cancel", &[MAINTENANCE]),
    ];
    let key = format!("{}\u{0}", without_comment(example));
    table
        .iter()
        .filter(|(prefix, _)| key.starts_with(prefix))
        .flat_map(|(_, steps)| steps.iter().copied())
        .collect()
}

/// A command without its trailing `# comment` (a `#` after a blank,
/// outside quotes), as bash reads it.
pub fn without_comment(command: &str) -> &str {
    let mut quote = None;
    let mut previous = ' ';
    for (at, c) in command.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if previous.is_whitespace() => return command[..at].trim_end(),
            _ => {}
        }
        previous = c;
    }
    command.trim_end()
}
