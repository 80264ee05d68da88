//! Argument parsing, the shared context of commands, output, and the one
//! place that turns errors into messages and exit codes.

pub mod prompt;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use incident::config::Config;
use incident::render::{Format, Style};
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

const ABOUT: &str = "Incident management from the command line, with git as the database.";

const EXAMPLES: &str = "\
Examples:
  incident init
  incident declare \"Checkout latency above 2s\" --severity SEV2 --service checkout --commander alice
  incident ack k3f9
  incident update k3f9 --status identified -m \"bad deploy of payments 1.42\"
  incident resolve k3f9 --resolution \"rolled back to 1.41\"
  incident list --all
  incident show k3f9

Exit codes: 0 success, 1 user or data error, 2 usage error.";

#[derive(Debug, Parser)]
#[command(name = "incident", version, about = ABOUT, after_help = EXAMPLES, propagate_version = true)]
pub struct Cli {
    /// Run as if incident was started in DIR (like `git -C DIR`).
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Output format for commands that print data.
    #[arg(long, global = true, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,

    /// When to colour output: auto means on a terminal, unless NO_COLOR is set.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    pub color: ColorWhen,

    /// Never prompt; fail and name the missing flag instead (also when CI is set or without a terminal).
    #[arg(long, global = true)]
    pub no_input: bool,

    /// Skip the repository's pre-commit and commit-msg git hooks, as `git commit --no-verify`.
    #[arg(long, global = true)]
    pub no_verify: bool,

    /// Sign the commit (with KEYID, else git's default key), as `git commit -S`.
    #[arg(short = 'S', long = "gpg-sign", global = true, value_name = "KEYID", num_args = 0..=1, require_equals = true, default_missing_value = "", overrides_with = "no_gpg_sign")]
    pub gpg_sign: Option<String>,

    /// Do not sign the commit, even with commit.gpgSign set.
    #[arg(long, global = true, overrides_with = "gpg_sign")]
    pub no_gpg_sign: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Table,
    Json,
    Csv,
    Markdown,
    /// GitHub Actions annotations (for `check` and `postmortem check`; a table elsewhere).
    Github,
    /// HTML (incident report only; other commands print Markdown).
    Html,
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
    /// `--no-verify`, `-S`, `--no-gpg-sign`.
    pub commit_options: CommitOptions,
}

impl Context {
    fn from_cli(cli: &Cli) -> Context {
        let stdout_tty = std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match cli.color {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => stdout_tty && !no_color,
        };
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
        let interactive = !cli.no_input
            && !ci
            && std::io::stdin().is_terminal()
            && std::io::stderr().is_terminal();
        Context {
            dir: cli.dir.clone().unwrap_or_else(|| PathBuf::from(".")),
            format: match cli.format {
                FormatArg::Table => Format::Table,
                FormatArg::Json => Format::Json,
                FormatArg::Csv => Format::Csv,
                FormatArg::Markdown => Format::Markdown,
                FormatArg::Github => Format::Table,
                FormatArg::Html => Format::Markdown,
            },
            color,
            interactive,
            github_annotations: matches!(cli.format, FormatArg::Github),
            html: matches!(cli.format, FormatArg::Html),
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

    /// Print to standard output.
    pub fn print(&self, text: &str) -> Result<()> {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|source| Error::Io {
                path: PathBuf::from("<stdout>"),
                source,
            })
    }

    /// A line for people on standard error: progress, hints, warnings.
    pub fn note(&self, text: &str) {
        eprintln!("{text}");
    }

    pub fn warn(&self, text: &str) {
        eprintln!("warning: {text}");
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    skip_certificate_loading(&cli.command);
    trust_the_object_store();
    let context = Context::from_cli(&cli);
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
        Command::Completions(args) => commands::completions::run(&context, args, Cli::command()),
        Command::Man(args) => commands::man::run(&context, args, Cli::command()),
        // Postmortems, reviews and action items (issue 3).
        Command::Postmortem(args) => commands::postmortem::run(&context, args),
        Command::Action(args) => commands::action::run(&context, args),
        Command::Actions(args) => commands::actions::run(&context, args),
        Command::Close(args) => commands::close::run(&context, args),
        // Sharing and checking (issue 5).
        Command::Check(args) => commands::check::run(&context, args),
        Command::Sync(args) => commands::sync::run(&context, args),
    };
    match result {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(error) => ExitCode::from(report(&error)),
    }
}

/// libgit2 initialises OpenSSL when a command first opens the repository,
/// and OpenSSL then parses every CA certificate of the system bundle: about
/// 20 ms, a doubling of a typical command's time. Only commands that talk to
/// a remote need them; the others point OpenSSL at an empty bundle.
fn skip_certificate_loading(command: &Command) {
    let talks_to_remotes = matches!(command, Command::Sync(_) | Command::Postmortem(_));
    if !talks_to_remotes {
        // Hooks and the programs git runs get the user's value back.
        incident::store::githooks::note_overridden_environment(vec![(
            "SSL_CERT_FILE".into(),
            std::env::var_os("SSL_CERT_FILE"),
        )]);
        // SAFETY: called first thing in main, before any other thread exists.
        unsafe { std::env::set_var("SSL_CERT_FILE", "/dev/null") };
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
    eprintln!("error: {error}");
    if let Some(hint) = error.hint() {
        eprintln!("hint: {hint}");
    }
    match error {
        Error::Usage { .. } | Error::MissingInput { .. } => EXIT_USAGE,
        _ => EXIT_ERROR,
    }
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
