//! Every example in README.md runs verbatim: an example that stops working
//! fails CI.
//!
//! **Shell blocks** (```sh, ```bash) run in bash with the built binary on
//! `PATH`, a throwaway `HOME`, and fixed time and ids (see `tests/doc`).
//! What a block is, an HTML comment on the line right above it says, where
//! a reader of the README's source sees it too:
//!
//! - no comment: each command is an example of its own, run on a fresh
//!   copy of the fixture the `--help` examples use (`doc::fixture`), in
//!   `~/ops`, after the setup steps its beginning calls for
//!   (`doc::setup_for`, shared with `--help`'s examples);
//! - `<!-- in order -->`: the commands are one session, typed one after
//!   another on one copy of the fixture; each sees what the ones before it
//!   did. A comment line after a blank line is prose; one that is a step
//!   taken outside the shell (merging the pull request on the forge) is done
//!   as `outside_step` says;
//! - `<!-- in order, new HOME -->`: the same, from an empty `HOME` with
//!   nothing but the binary (Install and Quick start, as a new user
//!   types them); all such blocks share one `HOME`, in README order. `cargo`
//!   there has nothing left to build, and `cargo run --example demo` runs the
//!   demo `cargo test` built;
//! - `<!-- not run: REASON -->`: not run, for the reason given.
//!
//! A `# ` line right below a command (no blank line between) is output the
//! command must print, as `doc::shows` matches it (`…` matches anything,
//! blanks any blanks).
//!
//! **File blocks**: a ```toml block says which file it is, `<!-- file: KIND
//! -->`, and is parsed by that file's own parser: `config`, `config
//! section` (added to a config `incident init` wrote), `incident.toml`,
//! `incident.toml section`, `event`, `hooks`, `mapping`. A ```json block
//! parses as JSON; with `<!-- output of: COMMAND -->` every key it shows is
//! one COMMAND really prints (run as an example is). `<!-- abbreviated -->`
//! says that `...` stands for what the block leaves out: such a block is not
//! parsed as it stands, but with those `...` removed, and its keys checked
//! when it names its command. A ```text block with `<!-- output of: COMMAND
//! -->` is output COMMAND prints, each line exactly (columns too). Every
//! other block (```text listings, ```yaml) is shown, not checked.

mod doc;
mod support;

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use doc::{Ran, cargo_function, join_continuations, run_script, shows};

const README: &str = include_str!("../README.md");

/// What the HTML comment above a block says about it.
#[derive(Debug, Default)]
struct Marks {
    not_run: Option<String>,
    in_order: bool,
    new_home: bool,
    abbreviated: bool,
    file: Option<String>,
    output_of: Option<String>,
}

#[derive(Debug)]
struct Block {
    /// Line of the opening fence, 1-based.
    line: usize,
    lang: String,
    marks: Marks,
    /// The block's text, without the fence's indentation.
    text: String,
}

impl Block {
    fn place(&self) -> String {
        format!("README.md:{}", self.line)
    }
}

/// One line (or `\`-joined lines) of a shell block.
#[derive(Debug, Clone)]
enum Item {
    Command {
        text: String,
        /// `# ` lines right below it: what it prints.
        expected: Vec<String>,
    },
    /// A comment on its own, after a blank line.
    Prose(String),
}

fn marks(comments: &[&str], line: usize) -> Marks {
    let mut marks = Marks::default();
    for comment in comments {
        let inner = comment
            .trim()
            .trim_start_matches("<!--")
            .trim_end_matches("-->")
            .trim();
        if let Some(reason) = inner.strip_prefix("not run:") {
            marks.not_run = Some(reason.trim().to_string());
        } else if inner == "in order" {
            marks.in_order = true;
        } else if inner == "in order, new HOME" {
            marks.in_order = true;
            marks.new_home = true;
        } else if inner == "abbreviated" {
            marks.abbreviated = true;
        } else if let Some(kind) = inner.strip_prefix("file:") {
            marks.file = Some(kind.trim().to_string());
        } else if let Some(command) = inner.strip_prefix("output of:") {
            marks.output_of = Some(command.trim().to_string());
        } else {
            panic!("README.md:{line}: a comment the README runner does not know: {comment}");
        }
    }
    marks
}

/// Every fenced block of the README, with the comments right above it.
fn blocks(readme: &str) -> Vec<Block> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut found = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        let trimmed = line.trim_start();
        let Some(lang) = trimmed.strip_prefix("```") else {
            index += 1;
            continue;
        };
        let indent = line.len() - trimmed.len();
        let mut comments = Vec::new();
        let mut above = index;
        while above > 0 && lines[above - 1].trim_start().starts_with("<!--") {
            above -= 1;
            comments.push(lines[above]);
        }
        let mut text = String::new();
        let mut end = index + 1;
        while end < lines.len() && lines[end].trim() != "```" {
            let body = lines[end];
            text.push_str(body.get(indent..).unwrap_or(body.trim_start()));
            text.push('\n');
            end += 1;
        }
        assert!(end < lines.len(), "README.md:{}: unclosed block", index + 1);
        found.push(Block {
            line: index + 1,
            lang: lang.trim().to_string(),
            marks: marks(&comments, index + 1),
            text,
        });
        index = end + 1;
    }
    found
}

/// A shell block's commands (continuations joined), their expected output
/// and its prose comments.
fn items(text: &str) -> Vec<Item> {
    let mut items: Vec<Item> = Vec::new();
    let mut pending: Vec<&str> = Vec::new();
    let mut after_command = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if pending.is_empty() && trimmed.starts_with('#') {
            let comment = trimmed.trim_start_matches('#');
            let comment = comment.strip_prefix(' ').unwrap_or(comment);
            match items.last_mut() {
                Some(Item::Command { expected, .. }) if after_command => {
                    expected.push(comment.to_string());
                }
                _ => items.push(Item::Prose(comment.to_string())),
            }
            continue;
        }
        if pending.is_empty() && trimmed.is_empty() {
            after_command = false;
            continue;
        }
        pending.push(line);
        if !trimmed.ends_with('\\') {
            for command in join_continuations(&pending) {
                items.push(Item::Command {
                    text: command,
                    expected: Vec::new(),
                });
            }
            pending.clear();
            after_command = true;
        }
    }
    items
}

fn is_shell(lang: &str) -> bool {
    matches!(lang, "sh" | "bash")
}

/// What the test does for a step the reader takes outside this shell.
fn outside_step(prose: &str) -> Option<&'static str> {
    let table: &[(&str, &str)] = &[(
        // The reviewers merge the postmortem's pull request on the forge.
        "merge the pull request",
        "git clone -q ~/ops.git ~/forge && git -C ~/forge merge -q --no-edit origin/postmortem/k3f9x2 && git -C ~/forge push -q origin main && rm -rf ~/forge",
    )];
    table
        .iter()
        .find(|(start, _)| prose.starts_with(start))
        .map(|(_, step)| *step)
}

/// The expected lines a command's output lacks.
fn missing(output: &str, expected: &[String]) -> Vec<String> {
    expected
        .iter()
        .filter(|line| !shows(output, line))
        .cloned()
        .collect()
}

/// With `README_TRANSCRIPT=FILE`, every command and what it printed is
/// added to FILE: to read the README's examples beside their real output.
fn transcript(block: &Block, command: &str, output: &str) {
    use std::io::Write;
    let Ok(path) = std::env::var("README_TRANSCRIPT") else {
        return;
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("README_TRANSCRIPT");
    writeln!(file, "{} $ {command}\n{output}", block.place()).expect("write transcript");
}

/// Run blocks in order in one shell each; `Err` says what failed.
fn run_in_order(home: &Path, dir: &Path, block: &Block) -> Result<Vec<Ran>, String> {
    let items = items(&block.text);
    let mut commands = Vec::new();
    let mut expected = Vec::new();
    for item in &items {
        match item {
            Item::Command { text, expected: e } => {
                commands.push(text.clone());
                expected.push(e.clone());
            }
            Item::Prose(prose) => {
                if let Some(step) = outside_step(prose) {
                    commands.push(format!("{step} >/dev/null 2>&1"));
                    expected.push(Vec::new());
                }
            }
        }
    }
    let ran = run_script(home, dir, &cargo_function(), &commands);
    for r in &ran {
        transcript(block, &r.command, &r.output);
    }
    for (result, expected) in ran.iter().zip(&expected) {
        if result.status != 0 {
            return Err(format!(
                "{}: `{}` exited {}:\n{}",
                block.place(),
                result.command,
                result.status,
                result.output
            ));
        }
        let lacking = missing(&result.output, expected);
        if !lacking.is_empty() {
            return Err(format!(
                "{}: `{}` should print {lacking:?}, printed:\n{}",
                block.place(),
                result.command,
                result.output
            ));
        }
    }
    if ran.len() != commands.len() {
        return Err(format!(
            "{}: a command did not run: {:?}",
            block.place(),
            ran.last().map(|r| (&r.command, &r.output))
        ));
    }
    Ok(ran)
}

/// An abbreviated block with its `...` placeholders taken out, as JSON.
fn lenient_json(text: &str) -> Result<serde_json::Value, serde_json::Error> {
    let mut text = text.to_string();
    // `{...}`, `{...same as metrics...}`, `[...]`: an empty object or list.
    for (open, close) in [("{...", '}'), ("[...", ']')] {
        while let Some(start) = text.find(open) {
            let end = text[start..]
                .find(close)
                .map_or(text.len(), |i| start + i + 1);
            let empty = if close == '}' { "{}" } else { "[]" };
            text.replace_range(start..end, empty);
        }
    }
    let text = text.replace("\"...\": \"...\"", "").replace("...", "");
    // Commas the removals left next to another comma or a bracket.
    let chars: Vec<char> = text.chars().collect();
    let mut clean = String::new();
    let mut last = ' ';
    for (at, &c) in chars.iter().enumerate() {
        if c == ',' {
            let next = chars[at + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(last, '{' | '[' | ',') || matches!(next, Some(',' | '}' | ']')) {
                continue;
            }
        }
        if !c.is_whitespace() {
            last = c;
        }
        clean.push(c);
    }
    serde_json::from_str(&clean)
}

/// Keys `documented` shows that `real` does not have, as paths.
fn unknown_keys(
    documented: &serde_json::Value,
    real: &serde_json::Value,
    path: &str,
) -> Vec<String> {
    use serde_json::Value;
    match (documented, real) {
        // An empty object is a map (by reason, state, service) that holds
        // nothing in this run; the documented entries are examples.
        (Value::Object(_), Value::Object(real)) if real.is_empty() => Vec::new(),
        (Value::Object(doc), Value::Object(real)) => doc
            .iter()
            .flat_map(|(key, value)| match real.get(key) {
                Some(actual) => unknown_keys(value, actual, &format!("{path}.{key}")),
                None => vec![format!("{path}.{key}")],
            })
            .collect(),
        (Value::Array(doc), Value::Array(real)) => match real.first() {
            Some(first) => doc
                .iter()
                .flat_map(|value| unknown_keys(value, first, &format!("{path}[]")))
                .collect(),
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Parse a ```toml block with the parser of the file it says it is.
fn check_toml(block: &Block, template: &Path, scratch: &Path) -> Result<(), String> {
    use incident::model::event::{Declaration, Event};
    let place = block.place();
    let text = &block.text;
    let fixture_file = |pattern: &str| -> String {
        let out = std::process::Command::new("git")
            .args(["ls-files", pattern])
            .current_dir(template.join("ops"))
            .output()
            .expect("git ls-files");
        let path = String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or_else(|| panic!("fixture has no {pattern}"))
            .to_string();
        std::fs::read_to_string(template.join("ops").join(path)).expect("fixture file")
    };
    let result = match block.marks.file.as_deref() {
        Some("config") => incident::config::Config::parse(&place, text).map(drop),
        Some("config section") => {
            let config = fixture_file("incidents/config.toml");
            incident::config::Config::parse(&place, &format!("{config}\n{text}")).map(drop)
        }
        Some("incident.toml") => Declaration::parse(&place, text).map(drop),
        Some("incident.toml section") => {
            let record = fixture_file("incidents/*/incident.toml");
            Declaration::parse(&place, &format!("{record}\n{text}")).map(drop)
        }
        Some("event") => Event::parse(&place, "20261124T034110Z-7h3k2m-status", text).map(drop),
        Some("hooks") => {
            incident::hooks::config::parse(&place, text, incident::hooks::config::Origin::Clone)
                .map(drop)
        }
        Some("mapping") => {
            let path = scratch.join(format!("mapping-{}.toml", block.line));
            std::fs::write(&path, text).expect("write mapping");
            incident::import::mapping::Mapping::load(&path).map(drop)
        }
        Some(other) => {
            return Err(format!(
                "{place}: `file: {other}` is no kind the runner knows"
            ));
        }
        None => {
            return Err(format!(
                "{place}: a toml block says which file it is (`<!-- file: KIND -->` above it)"
            ));
        }
    };
    result.map_err(|e| format!("{place}: does not parse as {:?}: {e}", block.marks.file))
}

/// Run `command` as an example, on a fresh copy of the fixture.
fn output_of(template: &Path, home: &Path, command: &str) -> String {
    doc::copy_fixture(template, home);
    let out = doc::run_example(home, command);
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

fn check_json(block: &Block, template: &Path, home: &Path) -> Result<(), String> {
    let place = block.place();
    let documented = if block.marks.abbreviated {
        if block.marks.output_of.is_none() {
            return Ok(());
        }
        lenient_json(&block.text)
    } else {
        serde_json::from_str(&block.text)
    }
    .map_err(|e| format!("{place}: not JSON: {e}"))?;
    let Some(command) = &block.marks.output_of else {
        return Ok(());
    };
    let printed = output_of(template, home, command);
    let real: serde_json::Value = serde_json::from_str(&printed)
        .map_err(|e| format!("{place}: `{command}` printed no JSON ({e}):\n{printed}"))?;
    let unknown = unknown_keys(&documented, &real, "");
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{place}: `{command}` prints no {unknown:?}; it printed:\n{printed}"
        ))
    }
}

fn check_text(block: &Block, template: &Path, home: &Path) -> Result<(), String> {
    let Some(command) = &block.marks.output_of else {
        return Ok(());
    };
    let printed = output_of(template, home, command);
    let expected: Vec<String> = block
        .text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    // Line for line, columns and all.
    let lacking: Vec<&String> = expected
        .iter()
        .filter(|line| !printed.lines().any(|l| l.trim_end() == line.trim_end()))
        .collect();
    if lacking.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}: `{command}` does not print {lacking:?}; it printed:\n{printed}",
            block.place()
        ))
    }
}

/// One thing to check, run on one of two threads.
enum Job<'a> {
    Command {
        block: &'a Block,
        text: String,
        expected: Vec<String>,
    },
    InOrder(&'a Block),
    Json(&'a Block),
    Text(&'a Block),
}

#[test]
fn every_readme_block_runs_or_parses() {
    let all = blocks(README);
    let tmp = tempfile::TempDir::new().expect("temp dir");
    let template = tmp.path().join("template");
    std::fs::create_dir_all(&template).expect("mkdir");
    doc::fixture(&template);

    let mut failures = Vec::new();
    let mut jobs = Vec::new();
    let mut skipped = Vec::new();
    for block in &all {
        if let Some(reason) = &block.marks.not_run {
            skipped.push(format!("{}: {reason}", block.place()));
            continue;
        }
        match block.lang.as_str() {
            lang if is_shell(lang) => {
                if block.marks.new_home {
                    // install_and_quick_start_run_verbatim runs these.
                } else if block.marks.in_order {
                    jobs.push(Job::InOrder(block));
                } else {
                    for item in items(&block.text) {
                        if let Item::Command { text, expected } = item {
                            jobs.push(Job::Command {
                                block,
                                text,
                                expected,
                            });
                        }
                    }
                }
            }
            "toml" => {
                if let Err(e) = check_toml(block, &template, tmp.path()) {
                    failures.push(e);
                }
            }
            "json" => jobs.push(Job::Json(block)),
            "text" => jobs.push(Job::Text(block)),
            "yaml" => {}
            other => failures.push(format!(
                "{}: a ```{other} block; the runner knows sh, bash, toml, json, text and yaml",
                block.place()
            )),
        }
    }

    let next = AtomicUsize::new(0);
    let failed = Mutex::new(Vec::new());
    let count = jobs.len();
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    let Some(job) = jobs.get(n) else { break };
                    let home = tmp.path().join(format!("run{n}"));
                    let result = match job {
                        Job::Command {
                            block,
                            text,
                            expected,
                        } => {
                            doc::copy_fixture(&template, &home);
                            let out = doc::run_example(&home, text);
                            let printed = String::from_utf8_lossy(&out.stdout).into_owned()
                                + &String::from_utf8_lossy(&out.stderr);
                            transcript(block, text, &printed);
                            let lacking = missing(&printed, expected);
                            if !out.status.success() {
                                Err(format!(
                                    "{}: `{text}` exited {:?}:\n{printed}",
                                    block.place(),
                                    out.status.code()
                                ))
                            } else if !lacking.is_empty() {
                                Err(format!(
                                    "{}: `{text}` should print {lacking:?}, printed:\n{printed}",
                                    block.place()
                                ))
                            } else {
                                Ok(())
                            }
                        }
                        Job::InOrder(block) => {
                            doc::copy_fixture(&template, &home);
                            run_in_order(&home, &home.join("ops"), block).map(drop)
                        }
                        Job::Json(block) => check_json(block, &template, &home),
                        Job::Text(block) => check_text(block, &template, &home),
                    };
                    if let Err(e) = result {
                        failed.lock().expect("lock").push(e);
                    }
                }
            });
        }
    });
    failures.extend(failed.into_inner().expect("lock"));
    println!(
        "{count} commands and blocks checked; not run:\n{}",
        skipped.join("\n")
    );
    assert!(count > 80, "found only {count} examples");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn install_and_quick_start_run_verbatim() {
    let tmp = tempfile::TempDir::new().expect("temp dir");
    let home = tmp.path();
    let mut ran = Vec::new();
    for block in blocks(README) {
        if block.marks.new_home && block.marks.not_run.is_none() {
            match run_in_order(home, home, &block) {
                Ok(r) => ran.extend(r),
                Err(e) => panic!("{e}"),
            }
        }
    }
    assert!(
        home.join(".local/share/bash-completion/completions/incident")
            .is_file()
    );
    assert!(home.join(".local/share/man/man1/incident.1").is_file());
    let output = |prefix: &str| {
        ran.iter()
            .find(|r| r.command.starts_with(prefix))
            .map(|r| r.output.clone())
            .unwrap_or_else(|| panic!("no command {prefix}"))
    };
    // The demo is in its own folder, the responder's repository in another.
    assert!(output("incident list --all").contains("SEV1"));
    assert!(output("incident show image-uploads").contains("Image uploads failing"));
    let show = output("incident show checkout");
    assert!(show.contains("resolved"), "{show}");
    // Catch-up: the identification typed without a time is assumed, and
    // the note says how to record its real time.
    let mitigated = output("incident update checkout --status mitigated");
    assert!(
        mitigated.contains("--milestone") && mitigated.contains("identified=TIME"),
        "{mitigated}"
    );
    let ops = home.join("ops-incidents");
    let git = |args: &[&str]| {
        let out = doc::shell(home, &ops)
            .arg("-c")
            .arg(format!("git {}", args.join(" ")))
            .output()
            .expect("git");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // The push and the review both reached the remote.
    let remote = git(&["ls-remote", "origin"]);
    assert!(remote.contains("refs/heads/main"), "{remote}");
    assert!(remote.contains("refs/heads/postmortem/k3f9x2"), "{remote}");
    let demo = doc::shell(home, &home.join("incident-demo"))
        .args(["-c", "incident --format json show k3f9"])
        .output()
        .expect("incident");
    assert!(
        !demo.status.success(),
        "the quick start's incident is not in the demo"
    );
    println!(
        "{}",
        ran.iter()
            .map(|r| format!("$ {}\n{}", r.command, r.output))
            .collect::<String>()
    );
}
