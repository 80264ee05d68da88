//! Argument parsing, the shared context of commands, output, and the one
//! place that turns errors into messages and exit codes.

pub mod complete;
pub mod formats;
pub mod pager;
pub mod prompt;
pub mod text;

use std::cell::RefCell;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use incident::config::Config;
use incident::render::{Format, Style, for_terminal};
use incident::store::Store;
use incident::store::commit::CommitOptions;
use incident::store::signing::SignMode;
use incident::time::{self, Timestamp};
use incident::{Error, Result};

use crate::commands;

/// Exit codes, as documented in README.md.
pub const EXIT_OK: u8 = 0;
/// A user or data error: bad input, refused change, unreadable file.
pub const EXIT_ERROR: u8 = 1;
/// A usage error: unknown flag, missing argument (clap uses 2 as well).
pub const EXIT_USAGE: u8 = 2;
/// A prompt was cancelled (Esc, Ctrl-C or no): 128 + SIGINT, as shells say.
pub const EXIT_CANCELLED: u8 = 130;

const ABOUT: &str = "Incident management from the command line, with git as the database.";

const EXAMPLES: &str = "\
Examples:
  incident init
  incident declare \"Checkout latency above 2s\" --severity SEV2 \\
      --service checkout --commander alice
  incident ack k3f9
  incident update k3f9 --status identified -m \"bad deploy of payments 1.42\"
  incident resolve k3f9 --resolution \"rolled back to 1.41\"
  incident list --all
  incident show k3f9

Exit codes: 0 success, 1 user or data error, 2 usage error.";

/// The heading of the options every command takes, listed after its own.
pub(crate) const GLOBAL: &str = "Global options";

#[derive(Debug, Parser)]
#[command(name = "incident", version, about = ABOUT, after_help = EXAMPLES, propagate_version = true)]
pub struct Cli {
    /// Run as if incident was started in DIR (like `git -C DIR`).
    #[arg(short = 'C', global = true, value_name = "DIR", help_heading = GLOBAL)]
    pub dir: Option<PathBuf>,

    /// Output format (default: table); each command takes those it can
    /// print, listed in its --help (it has its own --format).
    #[arg(long, value_enum, help_heading = GLOBAL)]
    pub format: Option<FormatArg>,

    /// When to colour output: auto means on a terminal, unless NO_COLOR is set
    /// (CLICOLOR_FORCE=1 colours off a terminal too, CLICOLOR=0 never).
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN", help_heading = GLOBAL)]
    pub color: ColorWhen,

    /// Never prompt; fail and name the missing flag instead (also when CI is set or without a terminal).
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub no_input: bool,

    /// Run no event hooks after this command's commit (also INCIDENT_HOOKS=0).
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub no_hooks: bool,

    /// Print no confirmations and no hints (such as "next: ..."); data, warnings and errors still print.
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub quiet: bool,

    /// Never page long output (by default list, show, timeline, log, report
    /// and actions go through git's pager on a terminal).
    #[arg(short = 'P', long, global = true, help_heading = GLOBAL)]
    pub no_pager: bool,

    /// Skip the repository's pre-commit and commit-msg git hooks, as `git commit --no-verify`.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub no_verify: bool,

    /// Sign the commit (with KEYID, else git's default key), as `git commit -S`.
    #[arg(short = 'S', long = "gpg-sign", global = true, help_heading = GLOBAL, value_name = "KEYID", num_args = 0..=1, require_equals = true, default_missing_value = "", overrides_with = "no_gpg_sign")]
    pub gpg_sign: Option<String>,

    /// Do not sign the commit, even with commit.gpgSign set.
    #[arg(long, global = true, overrides_with = "gpg_sign")]
    pub no_gpg_sign: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// For people: tables and lines of text.
    Table,
    Json,
    Csv,
    Markdown,
    /// GitHub Actions annotations.
    Github,
    /// One self-contained HTML page.
    Html,
    /// JSON Lines (incident export only; other commands print JSON).
    Jsonl,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Init(commands::init::Args),
    Declare(commands::declare::Args),
    Update(commands::update::Args),
    Ack(commands::ack::Args),
    Resolve(commands::resolve::Args),
    Reopen(commands::reopen::Args),
    Cancel(commands::cancel::Args),
    List(commands::list::Args),
    Show(commands::show::Args),
    Timeline(commands::timeline::Args),
    Log(commands::log::Args),
    Report(commands::report::Args),
    Completions(commands::completions::Args),
    Man(commands::man::Args),
    // Postmortems, reviews and action items (issue 3).
    Postmortem(commands::postmortem::Args),
    Action(commands::action::Args),
    Actions(commands::actions::Args),
    Close(commands::close::Args),
    // Sharing and checking (issue 5).
    Check(commands::check::Args),
    Sync(commands::sync::Args),
    // Event hooks, imports and exports (issue 15).
    Hooks(commands::hooks::Args),
    Import(commands::import::Args),
    Export(commands::export::Args),
    // Stakeholder updates, maintenance and the status page (issue 14).
    Comms(commands::comms::Args),
    Maintenance(commands::maintenance::Args),
    StatusPage(commands::status_page::Args),
}

/// What every command gets: where to work, how to print, whether to ask.
pub struct Context {
    pub dir: PathBuf,
    pub format: Format,
    pub color: bool,
    pub interactive: bool,
    /// `--format github`: GitHub Actions annotations where a command has them.
    pub github_annotations: bool,
    /// `--format html` (for `incident report`; `format` is Markdown then).
    pub html: bool,
    /// `--no-hooks`.
    pub no_hooks: bool,
    /// Commits this command made, for the hooks (see `commands::committed`).
    commits: std::cell::RefCell<Vec<git2::Oid>>,
    /// `-q`: no confirmations, no hints.
    pub quiet: bool,
    /// Standard output is a terminal: control characters are shown escaped.
    terminal: bool,
    stderr_terminal: bool,
    output: RefCell<pager::Output>,
    /// `--no-verify`, `-S`, `--no-gpg-sign`.
    pub commit_options: CommitOptions,
}

impl Context {
    fn from_cli(cli: &Cli, path: &str, format: Option<FormatArg>) -> Context {
        let stdout_tty = std::io::stdout().is_terminal();
        let stderr_tty = std::io::stderr().is_terminal();
        let env = |key: &str| std::env::var(key).ok();
        let color = colour(cli.color, stdout_tty, env);
        let interactive =
            !cli.no_input && !running_in_ci() && std::io::stdin().is_terminal() && stderr_tty;
        let dir = cli.dir.clone().unwrap_or_else(|| PathBuf::from("."));
        let format = format.unwrap_or(FormatArg::Table);
        let pages = stdout_tty && !cli.no_pager && pager::PAGED.contains(&path);
        Context {
            format: match format {
                FormatArg::Table => Format::Table,
                FormatArg::Json => Format::Json,
                FormatArg::Csv => Format::Csv,
                FormatArg::Markdown => Format::Markdown,
                FormatArg::Github => Format::Table,
                FormatArg::Html => Format::Markdown,
                FormatArg::Jsonl => Format::Json,
            },
            color,
            interactive,
            github_annotations: format == FormatArg::Github,
            html: format == FormatArg::Html,
            quiet: cli.quiet,
            terminal: stdout_tty,
            stderr_terminal: stderr_tty,
            output: RefCell::new(if pages {
                pager::Output::PagerWanted(dir.clone())
            } else {
                pager::Output::Stdout
            }),
            dir,
            no_hooks: cli.no_hooks,
            commits: std::cell::RefCell::new(Vec::new()),
            commit_options: CommitOptions {
                no_verify: cli.no_verify,
                sign: match (&cli.gpg_sign, cli.no_gpg_sign) {
                    (_, true) => SignMode::Off,
                    (Some(key), false) if key.is_empty() => SignMode::Key(None),
                    (Some(key), false) => SignMode::Key(Some(key.clone())),
                    (None, false) => SignMode::Config,
                },
            },
        }
    }

    /// Note a commit this command made: its events go to the hooks once
    /// the command is done.
    pub fn record_commit(&self, commit: git2::Oid) {
        self.commits.borrow_mut().push(commit);
    }

    pub fn take_commits(&self) -> Vec<git2::Oid> {
        std::mem::take(&mut *self.commits.borrow_mut())
    }

    pub fn store(&self) -> Result<Store> {
        Store::open(&self.dir).map(|store| store.with_commit_options(self.commit_options.clone()))
    }

    pub fn now(&self) -> Result<Timestamp> {
        time::now()
    }

    pub fn style(&self, config: &Config) -> Result<Style> {
        Ok(Style {
            color: self.color,
            zone: config.zone(),
            now: self.now()?,
        })
    }

    /// Print to standard output (through the pager where there is one). On
    /// a terminal, control characters from stored text cannot reach it raw.
    pub fn print(&self, text: &str) -> Result<()> {
        let safe;
        let text = if self.terminal {
            // Only tables are coloured: other formats keep no escape at all.
            safe = for_terminal(text, self.color && self.format == Format::Table);
            safe.as_str()
        } else {
            text
        };
        self.output
            .borrow_mut()
            .write(text.as_bytes())
            .map_err(|source| Error::Io {
                path: PathBuf::from("<stdout>"),
                source,
            })
    }

    /// A confirmation of what a command did, on standard output; `-q` drops it.
    pub fn confirm(&self, text: &str) -> Result<()> {
        if self.quiet { Ok(()) } else { self.print(text) }
    }

    /// Whether to pass on git's progress output: as git does, only when
    /// standard error is a terminal, and never in CI.
    pub fn shows_progress(&self) -> bool {
        std::io::stderr().is_terminal() && !running_in_ci()
    }

    /// A line for people on standard error: progress, hints; `-q` drops it.
    pub fn note(&self, text: &str) {
        if !self.quiet {
            self.to_stderr(text);
        }
    }

    pub fn warn(&self, text: &str) {
        self.to_stderr(&format!("warning: {text}"));
    }

    /// Standard error for people; into the pager while one shows the
    /// output on the same terminal, as git does, so it is not overwritten.
    fn to_stderr(&self, text: &str) {
        let line = format!("{}\n", fit_stderr(&for_terminal(text, false)));
        let mut output = self.output.borrow_mut();
        if self.stderr_terminal && output.is_pager() {
            let _ = output.write(line.as_bytes());
        } else {
            eprint!("{line}");
        }
    }

    /// Wait for the pager to be quit.
    fn finish(&self) {
        self.output.borrow_mut().finish();
    }
}

/// `CI` set to anything but empty, `false` or `0`: never prompt, no progress.
fn running_in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Whether to colour: `--color always|never` wins; for auto, NO_COLOR
/// (non-empty) means never, then CLICOLOR_FORCE (non-empty, not 0) means
/// always, CLICOLOR=0 never, else on a terminal that is not TERM=dumb (the
/// order of clap, cargo and anstream).
fn colour(when: ColorWhen, terminal: bool, env: impl Fn(&str) -> Option<String>) -> bool {
    let set = |key: &str| env(key).filter(|v| !v.is_empty());
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto if set("NO_COLOR").is_some() => false,
        ColorWhen::Auto if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") => true,
        ColorWhen::Auto if set("CLICOLOR").is_some_and(|v| v == "0") => false,
        ColorWhen::Auto => terminal && env("TERM").as_deref() != Some("dumb"),
    }
}

/// The command line's definition, as parsing, `--help`, man pages and
/// completion see it: each command's `--format` with its own values, and
/// completers for names the repository knows.
pub fn command() -> clap::Command {
    finish_command(Cli::command())
}

/// `command()` for man pages: without the `help` subcommand.
pub fn command_for_manual() -> clap::Command {
    finish_command(Cli::command().disable_help_subcommand(true))
}

fn finish_command(command: clap::Command) -> clap::Command {
    each_subcommand(command, "", &|sub, path| {
        complete::attach(formats::add_option(sub, path), path)
    })
}

/// Apply `change` to every subcommand, deepest first, with its path of names.
fn each_subcommand(
    command: clap::Command,
    prefix: &str,
    change: &dyn Fn(clap::Command, &str) -> clap::Command,
) -> clap::Command {
    let names: Vec<String> = command
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .filter(|n| n != "help")
        .collect();
    let mut command = command;
    for name in names {
        let path = format!("{prefix}{name}");
        command = command.mut_subcommand(&name, |sub| {
            change(each_subcommand(sub, &format!("{path} "), change), &path)
        });
    }
    command
}

/// `postmortem review` for `incident postmortem review ...`.
fn subcommand_path(matches: &clap::ArgMatches) -> String {
    let mut names = Vec::new();
    let mut current = matches;
    while let Some((name, sub)) = current.subcommand() {
        names.push(name);
        current = sub;
    }
    names.join(" ")
}

pub fn main() -> ExitCode {
    if std::env::var_os("COMPLETE").is_some_and(|v| !v.is_empty() && v != "0") {
        // A shell asks for completions: read the repository as quickly as
        // any read-only command does.
        trust_the_object_store();
    }
    clap_complete::CompleteEnv::with_factory(command).complete();
    let matches = command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let path = subcommand_path(&matches);
    trust_the_object_store();
    if let Err(error) = formats::check(&path, cli.format) {
        return ExitCode::from(report(&error));
    }
    let context = Context::from_cli(&cli, &path, formats::given(&matches));
    if context.interactive {
        prompt::on_interrupt_restore_cursor();
    }
    let result = match cli.command {
        Command::Init(args) => commands::init::run(&context, args),
        Command::Declare(args) => commands::declare::run(&context, args),
        Command::Update(args) => commands::update::run(&context, args),
        Command::Ack(args) => commands::ack::run(&context, args),
        Command::Resolve(args) => commands::resolve::run(&context, args),
        Command::Reopen(args) => commands::reopen::run(&context, args),
        Command::Cancel(args) => commands::cancel::run(&context, args),
        Command::List(args) => commands::list::run(&context, args),
        Command::Show(args) => commands::show::run(&context, args),
        Command::Timeline(args) => commands::timeline::run(&context, args),
        Command::Log(args) => commands::log::run(&context, args),
        Command::Report(args) => commands::report::run(&context, args),
        Command::Completions(args) => commands::completions::run(&context, args),
        Command::Man(args) => commands::man::run(&context, args, command_for_manual()),
        // Postmortems, reviews and action items (issue 3).
        Command::Postmortem(args) => commands::postmortem::run(&context, args),
        Command::Action(args) => commands::action::run(&context, args),
        Command::Actions(args) => commands::actions::run(&context, args),
        Command::Close(args) => commands::close::run(&context, args),
        // Sharing and checking (issue 5).
        Command::Check(args) => commands::check::run(&context, args),
        Command::Sync(args) => commands::sync::run(&context, args),
        // Event hooks, imports and exports (issue 15).
        Command::Hooks(args) => commands::hooks::run(&context, args),
        Command::Import(args) => commands::import::run(&context, args),
        Command::Export(args) => commands::export::run(&context, args),
        // Stakeholder updates, maintenance and the status page (issue 14).
        Command::Comms(args) => commands::comms::run(&context, args),
        Command::Maintenance(args) => commands::maintenance::run(&context, args),
        Command::StatusPage(args) => commands::status_page::run(&context, args),
    };
    // The commit stands whatever happened after it: its hooks run.
    commands::hooks::after_command(&context);
    // Errors come after the pager is quit, where they stay readable.
    context.finish();
    match result {
        Ok(()) => ExitCode::from(EXIT_OK),
        // `comms due` answers like grep: 1 means overdue, so trouble is 2.
        Err(error) if path == "comms due" && !matches!(error, Error::Overdue { .. }) => {
            report(&error);
            ExitCode::from(EXIT_USAGE)
        }
        Err(error) => ExitCode::from(report(&error)),
    }
}

/// Like git itself, read objects without recomputing the SHA-1 of each:
/// libgit2 does by default, and that was half of `incident list` on
/// 10,000 incidents and a quarter of a cold report. (zlib's checksum still
/// catches most damage; `git fsck` verifies the hashes.) And keep parsed
/// trees of any size in libgit2's object cache, not only those under 4 kB:
/// a month's folder of incidents is bigger, and commands that read many
/// incidents went back to it for each (15% of `incident list`).
fn trust_the_object_store() {
    git2::opts::strict_hash_verification(false);
    // SAFETY: called first thing in main, before any other thread exists;
    // a refusal only leaves libgit2's default limit.
    unsafe {
        let _ = git2::opts::set_cache_object_limit(git2::ObjectType::Tree, 1 << 20);
    }
}

/// Print an error with its hint and choose the exit code.
fn report(error: &Error) -> u8 {
    if let Error::Io { source, .. } = error
        && source.kind() == std::io::ErrorKind::BrokenPipe
    {
        // `incident list | head`: the reader has what it wanted.
        return EXIT_OK;
    }
    // Messages quote names and text from files: no raw control characters.
    let error_line = format!("error: {}", for_terminal(&error.to_string(), false));
    eprintln!("{}", fit_stderr(&error_line));
    if let Some(hint) = error.hint() {
        eprintln!(
            "{}",
            fit_stderr(&format!("hint: {}", for_terminal(&hint, false)))
        );
    }
    match error.root() {
        Error::Usage { .. } | Error::MissingInput { .. } => EXIT_USAGE,
        // As a shell does for Ctrl-C.
        Error::Cancelled => EXIT_CANCELLED,
        _ => EXIT_ERROR,
    }
}

/// Messages on a terminal, wrapped between words to its width (at most
/// 100 columns), continuation lines indented under the text after
/// `note: `, `hint: `...; a command in backticks is never split. Off a
/// terminal, as they are.
pub fn fit_stderr(text: &str) -> String {
    if !std::io::stderr().is_terminal() {
        return text.to_string();
    }
    let width = console::Term::stderr()
        .size_checked()
        .map_or(80, |(_, columns)| usize::from(columns))
        .clamp(40, 100);
    wrap(text, width)
}

/// Wrap each line of `text` to `width` columns between words (see [`fit_stderr`]).
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = Vec::new();
    for line in text.lines() {
        let indent = match line.find(": ") {
            Some(i) if i < 12 && !line[..i].contains(' ') => i + 2,
            _ => line.len() - line.trim_start().len(),
        };
        // Words, with `backticked commands` kept whole.
        let mut words: Vec<String> = Vec::new();
        let mut quoted = false;
        for word in line.split(' ') {
            if quoted && let Some(last) = words.last_mut() {
                last.push(' ');
                last.push_str(word);
            } else {
                words.push(word.to_string());
            }
            if word.matches('`').count() % 2 == 1 {
                quoted = !quoted;
            }
        }
        let mut current = String::new();
        for word in words {
            let length = current.chars().count();
            if length > indent && length + 1 + word.chars().count() > width {
                out.push(std::mem::take(&mut current));
                current = " ".repeat(indent);
            } else if !current.is_empty() && !current.chars().all(|c| c == ' ') {
                current.push(' ');
            }
            // A command too long for a line continues as a shell would.
            if indent + word.chars().count() > width && word.starts_with('`') {
                for part in word.split(' ') {
                    let length = current.chars().count();
                    if length > indent + 4 && length + part.chars().count() + 2 > width {
                        current.push('\\');
                        out.push(std::mem::take(&mut current));
                        current = " ".repeat(indent + 4);
                    }
                    current.push_str(part);
                    current.push(' ');
                }
                current.pop();
                continue;
            }
            current.push_str(&word);
        }
        out.push(current);
    }
    out.join("\n")
}

/// Parse `ROLE=NAME` for `--role`.
pub fn role_assignment(text: &str) -> std::result::Result<(String, String), String> {
    match text.split_once('=') {
        Some((role, name)) if !role.trim().is_empty() => {
            Ok((role.trim().to_string(), name.to_string()))
        }
        _ => Err(format!(
            "'{text}' is not ROLE=NAME (for example scribe=bob; scribe= unassigns)"
        )),
    }
}

/// Parse `NAME[=TIME]` for `--milestone`.
pub fn milestone_setting(text: &str) -> std::result::Result<(String, Option<String>), String> {
    match text.split_once('=') {
        Some((name, time)) if !name.trim().is_empty() && !time.trim().is_empty() => {
            Ok((name.trim().to_string(), Some(time.to_string())))
        }
        Some(_) => Err(format!(
            "'{text}' is not NAME or NAME=TIME (for example started=02:40)"
        )),
        None if !text.trim().is_empty() => Ok((text.trim().to_string(), None)),
        None => Err("a milestone name is needed, for example --milestone mitigated".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_follows_flags_then_no_color_then_clicolor() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |key: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(colour(ColorWhen::Auto, true, env(&[])));
        assert!(!colour(ColorWhen::Auto, false, env(&[])));
        assert!(!colour(ColorWhen::Auto, true, env(&[("NO_COLOR", "1")])));
        assert!(colour(ColorWhen::Auto, true, env(&[("NO_COLOR", "")])));
        assert!(colour(ColorWhen::Always, false, env(&[("NO_COLOR", "1")])));
        assert!(colour(
            ColorWhen::Auto,
            false,
            env(&[("CLICOLOR_FORCE", "1")])
        ));
        assert!(!colour(
            ColorWhen::Auto,
            false,
            env(&[("CLICOLOR_FORCE", "0")])
        ));
        assert!(!colour(
            ColorWhen::Auto,
            false,
            env(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")])
        ));
        assert!(!colour(ColorWhen::Auto, true, env(&[("CLICOLOR", "0")])));
        assert!(!colour(
            ColorWhen::Never,
            true,
            env(&[("CLICOLOR_FORCE", "1")])
        ));
        assert!(!colour(ColorWhen::Auto, true, env(&[("TERM", "dumb")])));
    }

    #[test]
    fn messages_wrap_between_words_and_keep_commands_whole() {
        let text = "note: assumed: acknowledged happened no later than mitigated; record it with `incident update k3f9x2 --milestone acknowledged=TIME`";
        let wrapped = super::wrap(text, 60);
        assert!(
            wrapped.lines().all(|l| l.chars().count() <= 60),
            "{wrapped}"
        );
        assert!(
            wrapped.contains("      `incident update k3f9x2 --milestone acknowledged=TIME`"),
            "{wrapped}"
        );
        let long = super::wrap(
            &format!(
                "hint: run `incident update k3f9x2 {}`",
                "--milestone x=TIME ".repeat(5).trim()
            ),
            60,
        );
        assert!(long.lines().all(|l| l.chars().count() <= 60), "{long}");
        assert!(long.contains(" \\\n"), "{long}");
    }
}
