use std::io::Read;
use std::time::Duration;

use incident::hooks::config::{self as hook_config, Hook, HookSet, RepositoryTrust};
use incident::hooks::runner::{self, Launch, Run};
use incident::hooks::{MAX_DEPTH, central, current_depth, disabled_by_env, payload, webhook};
use incident::render::{Format, Rows, Value};
use incident::{Error, Result};

use crate::cli::Context;

/// Event hooks: your commands, run after each incident commit with the
/// event as JSON on standard input (Slack, Teams, ntfy, PagerDuty, any
/// webhook).
///
/// Hooks are `[[hook]]` tables in .git/incident/hooks.toml (this clone),
/// ~/.config/incident/hooks.toml (you) and incidents/hooks.toml
/// (versioned, shared with the repository: it runs only after `incident
/// hooks trust` in this clone, and an edit revokes that). --no-hooks or
/// INCIDENT_HOOKS=0 turns them off for a command.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident hooks list\n  incident hooks trust\n  incident hooks test slack --event declared\n  incident hooks run --since HEAD~1        # in CI: notify once per event\n  incident hooks retry"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    List(ListArgs),
    Trust(TrustArgs),
    Test(TestArgs),
    Run(RunArgs),
    Retry(RetryArgs),
    Webhook(WebhookArgs),
}

/// List the hooks, where each is defined and whether it may run.
#[derive(Debug, clap::Args)]
pub struct ListArgs {}

/// Trust incidents/hooks.toml as it is now, in this clone (after reading it).
#[derive(Debug, clap::Args)]
pub struct TrustArgs {}

/// Run one hook now on a sample event: the newest incident's newest event
/// of that kind (or a made-up one), with an id starting `test-`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// The hook's name.
    pub name: String,
    /// Event kind (declared, status, note, ...) or the state of a status change (resolved).
    #[arg(long, value_name = "KIND", default_value = "declared")]
    pub event: String,
}

/// The central notifier: fire hooks for every event that reached this
/// branch after REV, once. A mark per hook (the ref
/// refs/incident/hooks-delivered/HOOK/BRANCH) remembers how far it got, so
/// a second run over the same range fires nothing; it moves only past
/// events the hook took, so what failed (or what a hook that is not
/// trusted missed) is sent by the next run. Exits 1 when a delivery failed
/// or a hook did not run.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Start after this commit (all zeros: from the first commit) for hooks
    /// without a mark of their own; needed the first time.
    #[arg(long, value_name = "REV")]
    pub since: Option<String>,
}

/// Run the queued deliveries of failed hooks again.
#[derive(Debug, clap::Args)]
pub struct RetryArgs {}

/// Send the event on standard input as a webhook signed per Standard
/// Webhooks (webhook-id, webhook-timestamp, webhook-signature). For use as
/// a hook: run = ["incident", "hooks", "webhook", "--url", URL, "--secret-env", "VAR"].
#[derive(Debug, clap::Args)]
pub struct WebhookArgs {
    /// Where to POST.
    #[arg(long)]
    pub url: String,
    /// Environment variable that holds the secret (whsec_ and base64).
    #[arg(long, value_name = "VAR")]
    pub secret_env: String,
    /// Give up after this long.
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub timeout: String,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    match args.command {
        Sub::List(_) => list(context),
        Sub::Trust(_) => trust(context),
        Sub::Test(args) => test(context, args),
        Sub::Run(args) => run_since(context, args),
        Sub::Retry(_) => retry(context),
        Sub::Webhook(args) => send_webhook(context, args),
    }
}

fn list(context: &Context) -> Result<()> {
    let store = context.store()?;
    let set = hook_config::load(&store)?;
    let all: Vec<(&Hook, bool)> = set
        .hooks
        .iter()
        .map(|h| (h, true))
        .chain(set.untrusted.iter().map(|h| (h, false)))
        .collect();
    if context.format == Format::Json {
        let items: Vec<serde_json::Value> = all
            .iter()
            .map(|(h, runs)| {
                serde_json::json!({
                    "name": h.name, "source": h.origin.to_string(), "file": h.file,
                    "on": h.on, "severity": h.severity, "run": h.run,
                    "timeout_seconds": h.timeout.as_secs_f64(), "runs": runs,
                })
            })
            .collect();
        return context.print(&incident::render::json(&items)?);
    }
    if all.is_empty() {
        context.print("No hooks. Add [[hook]] tables to .git/incident/hooks.toml, ~/.config/incident/hooks.toml or incidents/hooks.toml (see README.md, Hooks).\n")?;
        return Ok(());
    }
    let mut rows = Rows::new(&[
        "NAME", "SOURCE", "ON", "SEVERITY", "TIMEOUT", "RUNS", "COMMAND",
    ]);
    for (hook, runs) in &all {
        rows.push(vec![
            Value::from(hook.name.as_str()),
            Value::from(hook.origin.to_string()),
            Value::from(hook.on.join(",")),
            Value::from(if hook.severity.is_empty() {
                "any".to_string()
            } else {
                hook.severity.join(",")
            }),
            Value::from(format!("{}s", hook.timeout.as_secs_f64())),
            Value::from(if *runs {
                "yes"
            } else if hook.origin == hook_config::Origin::Repository
                && set.repository_trust != Some(RepositoryTrust::Trusted)
            {
                "no: not trusted"
            } else {
                "no: its files are not trusted"
            }),
            Value::from(hook.run.join(" ")),
        ]);
    }
    let config = store.config()?;
    context.print(&rows.render(context.format, &context.style(&config)?)?)?;
    for warning in set.untrusted_warnings() {
        context.warn(&warning);
    }
    Ok(())
}

fn trust(context: &Context) -> Result<()> {
    let store = context.store()?;
    let trusted = hook_config::trust(&store)?;
    let mut out = String::new();
    for hook in &trusted.hooks {
        out.push_str(&format!(
            "  {}: on {} runs {}\n",
            hook.name,
            hook.on.join(","),
            hook.run.join(" ")
        ));
    }
    let verb = if trusted.already {
        "was trusted already"
    } else {
        "is trusted now"
    };
    if let Some(digest) = &trusted.digest {
        out.push_str(&format!(
            "{} {verb} in this clone (sha256 {}…); {} hook(s).\n",
            hook_config::REPOSITORY_FILE,
            &digest[..12],
            trusted.hooks.len()
        ));
    }
    for (file, digest) in &trusted.files {
        out.push_str(&format!(
            "{file} (run by a hook) {verb} (sha256 {}…).\n",
            &digest[..12]
        ));
    }
    out.push_str("Any edit to these files revokes this.\n");
    context.print(&out)
}

fn launch() -> Launch {
    Launch {
        program_self: std::env::current_exe().ok(),
        depth: current_depth(),
    }
}

fn test(context: &Context, args: TestArgs) -> Result<()> {
    let store = context.store()?;
    let config = store.config()?;
    let set = hook_config::load(&store)?;
    let hook = set.find(&args.name)?;
    let delivery = payload::sample(
        &store,
        &config,
        &args.event,
        context.now()?,
        &payload::repo_name(&store),
    )?;
    let run = runner::run(&store, hook, &delivery, &launch())?;
    if run.ok() {
        context.print(&format!(
            "hook '{}' succeeded in {:.2}s on a test '{}' event of incident {} ({})\n",
            hook.name,
            run.elapsed.as_secs_f64(),
            args.event,
            delivery.incident,
            delivery.id
        ))
    } else {
        Err(Error::InvalidInput {
            message: with_output(&run),
        })
    }
}

/// A failed run's description with the last lines of its output.
fn with_output(run: &Run) -> String {
    with_output_after(run, "")
}

fn with_output_after(run: &Run, after: &str) -> String {
    let mut text = run.describe();
    text.push_str(after);
    if let runner::Ending::Failed { output, .. } = &run.ending
        && !output.is_empty()
    {
        for line in output.lines() {
            text.push_str(&format!("\n  | {}", incident::render::terminal_safe(line)));
        }
    }
    text
}

fn report_failures(context: &Context, runs: &[Run]) {
    for run in runs.iter().filter(|r| !r.ok()) {
        context.warn(&with_output_after(
            run,
            "; queued for `incident hooks retry` (log: .git/incident/hooks.log)",
        ));
    }
}

fn run_since(context: &Context, args: RunArgs) -> Result<()> {
    let store = context.store()?;
    let config = store.config()?;
    let set = hook_config::load(&store)?;
    let warnings = set.untrusted_warnings();
    for warning in &warnings {
        context.warn(warning);
    }
    let since = args
        .since
        .as_deref()
        .map(|rev| central::since(&store, rev))
        .transpose()?;
    if context.no_hooks {
        return context.confirm("--no-hooks: no hook ran and no mark moved\n");
    }
    let notified = central::notify(&store, &config, &set, since, &launch(), context.now()?)?;
    for run in notified.runs.iter().filter(|r| !r.ok()) {
        context.warn(&with_output_after(
            run,
            "; it and the events after it stay owed to this hook: the next `incident hooks run` sends them again",
        ));
    }
    let from = if notified.from_mark {
        " (from the hooks' marks: earlier events were delivered before)"
    } else {
        ""
    };
    context.print(&format!(
        "{} event(s) in {} commit(s) after {}{from}: {} hook run(s), {} failed\n",
        notified.events,
        notified.commits,
        notified
            .start
            .map(central::Start::short)
            .unwrap_or_default(),
        notified.runs.len(),
        notified.failed()
    ))?;
    // Exit 1 when something is owed (CI shows it) or a hooks file has a
    // problem (what it owes is unknown); an untrusted hook with nothing in
    // the range owes nothing: its warning says what to do.
    let failed = notified.failed();
    let owed: Vec<String> = notified
        .owed
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(hook, n)| format!("{hook} ({n} event(s))"))
        .collect();
    if failed > 0 || !owed.is_empty() || !set.warnings.is_empty() {
        return Err(Error::HooksUndelivered {
            failed,
            owed,
            problems: set.warnings.len(),
        });
    }
    Ok(())
}

fn retry(context: &Context) -> Result<()> {
    let store = context.store()?;
    let set = hook_config::load(&store)?;
    let retried = runner::retry(&store, &set, &launch(), context.now()?)?;
    for run in retried.runs.iter().filter(|r| !r.ok()) {
        context.warn(&with_output(run));
    }
    for name in &retried.missing_hooks {
        context.warn(&format!(
            "hook '{name}' is not defined (or not trusted) any more; its queued events stay in .git/incident/hooks-queue/"
        ));
    }
    let ok = retried.runs.iter().filter(|r| r.ok()).count();
    context.print(&format!(
        "{ok} queued delivery(ies) sent, {} still queued\n",
        retried.still_queued
    ))
}

fn send_webhook(context: &Context, args: WebhookArgs) -> Result<()> {
    if !(args.url.starts_with("https://") || args.url.starts_with("http://")) {
        return Err(Error::Usage {
            message: format!(
                "--url '{}' must start with https:// or http://",
                webhook::redact_url(&args.url)
            ),
        });
    }
    let timeout: Duration =
        hook_config::parse_timeout(&args.timeout).map_err(|message| Error::Usage { message })?;
    let secret = std::env::var(&args.secret_env).unwrap_or_default();
    if secret.trim().is_empty() {
        return Err(Error::InvalidInput {
            message: format!(
                "the environment variable {} (--secret-env) is not set; put the webhook secret (whsec_...) there",
                args.secret_env
            ),
        });
    }
    let key = webhook::secret_key(&secret)?;
    let mut body = Vec::new();
    std::io::stdin()
        .read_to_end(&mut body)
        .map_err(|source| Error::Io {
            path: "<stdin>".into(),
            source,
        })?;
    let id = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_string))
        .ok_or_else(|| Error::InvalidInput {
            message: "standard input is not a hook event (a JSON object with an \"id\"); run this as a hook, or pipe an event into it".into(),
        })?;
    let timestamp = context.now()?.timestamp();
    let status = webhook::send(&webhook::Request {
        url: &args.url,
        id: &id,
        timestamp,
        body: &body,
        key: Some(&key),
        timeout,
    })?;
    if (200..300).contains(&status) {
        context.note(&format!(
            "webhook {id} delivered to {} (HTTP {status})",
            webhook::redact_url(&args.url)
        ));
        Ok(())
    } else {
        Err(Error::Webhook {
            url: webhook::redact_url(&args.url),
            detail: format!("the receiver answered HTTP {status}"),
        })
    }
}

/// After a command: fire the hooks for the commits it made (the one place
/// every committing command passes through; see `commands::committed`).
pub fn after_command(context: &Context) {
    let commits = context.take_commits();
    if commits.is_empty() || context.no_hooks || disabled_by_env() {
        return;
    }
    let depth = current_depth();
    if depth >= MAX_DEPTH {
        context.warn(&format!(
            "hooks did not run: this command was started by a hook {depth} levels deep (at most {MAX_DEPTH}), which stops hooks from triggering each other forever"
        ));
        return;
    }
    if let Err(e) = fire(context, &commits) {
        context.warn(&format!("the commit stands, but hooks did not run: {e}"));
    }
}

fn fire(context: &Context, commits: &[git2::Oid]) -> Result<()> {
    let store = context.store()?;
    let set: HookSet = hook_config::load(&store)?;
    for warning in set.untrusted_warnings() {
        context.warn(&warning);
    }
    if set.hooks.is_empty() {
        return Ok(());
    }
    let config = store.config()?;
    let repo = payload::repo_name(&store);
    let mut deliveries = Vec::new();
    for commit in commits {
        deliveries.extend(payload::for_commit(&store, &config, *commit, &repo)?);
    }
    let fired = runner::fire(&store, &set, &deliveries, &launch(), context.now()?)?;
    report_failures(context, &fired.runs);
    Ok(())
}
