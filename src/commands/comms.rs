use std::io::Read;

use incident::comms::record::{CommsRequest, check_before_text, next_update_time, record};
use incident::comms::render::{Chat, chat, due_list};
use incident::comms::templates::{self, TemplateInput};
use incident::comms::{self, PUBLIC};
use incident::render::Format;
use incident::{Error, Result};

use crate::cli::text::{self, Typed};
use crate::cli::{Context, prompt};

/// Post an update about an incident to an audience: `public` (the status
/// page), `internal` (the company) or `exec` (executives). Each update is
/// one commit; it says when the next one is due (by default from the
/// cadence in the config: PagerDuty's guidelines).
///
/// The text comes from -m TEXT (repeatable; `-m -` reads standard input),
/// -F FILE, or your editor prefilled from a template (--template initial,
/// update, resolved, tactical, executive; or incidents/templates/comms-NAME.md).
/// Only public updates reach the status page; the first one names the
/// incident there (--public-title): its own title stays internal.
#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Examples:\n  incident comms k3f9 --audience public --status investigating \\\n      --public-title \"Checkout errors\" --component api=partial_outage \\\n      -m \"We are investigating errors at checkout.\"\n  incident comms k3f9 --audience public --status identified \\\n      -m \"We found the cause and are fixing it.\" --next-update 20m\n  incident comms k3f9 --audience exec --template executive\n  incident comms k3f9 --audience public --status resolved --data-loss no \\\n      -m \"Checkout works again.\"\n  incident comms k3f9 --render slack\n  incident comms due --format json"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Sub>,
    /// Incident id, unique id prefix, or a fragment of its title's slug.
    #[arg(required = true)]
    pub id: Option<String>,
    /// Who the update is for (the config's audiences: public, internal, exec).
    #[arg(short, long)]
    pub audience: Option<String>,
    /// Public status: investigating, identified, monitoring or resolved
    /// (default: the one that matches the incident's state).
    #[arg(long)]
    pub status: Option<String>,
    /// The update's text (repeatable: paragraphs; `-` reads standard input).
    #[arg(short = 'm', long = "message", value_name = "TEXT")]
    pub messages: Vec<String>,
    /// Read the text from FILE (`-`: standard input).
    #[arg(
        short = 'F',
        long = "file",
        value_name = "FILE",
        conflicts_with = "messages"
    )]
    pub file: Option<std::path::PathBuf>,
    /// Write the text in your editor, starting from this template.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["messages", "file"])]
    pub template: Option<String>,
    /// The incident's name on the status page (needed by the first public update).
    #[arg(long, value_name = "TEXT")]
    pub public_title: Option<String>,
    /// A component's state: operational, degraded_performance, partial_outage,
    /// major_outage, under_maintenance (or degraded, partial, major) (repeatable).
    #[arg(long = "component", value_name = "ID=STATE", value_parser = component_setting)]
    pub components: Vec<(String, String)>,
    /// When the next update is due: 20m, 1h, a time, or `none` (default: the cadence).
    #[arg(long, value_name = "WHEN")]
    pub next_update: Option<String>,
    /// Whether data was lost: yes or no (a resolving public update must say).
    #[arg(long, value_name = "yes|no", value_parser = yes_no)]
    pub data_loss: Option<bool>,
    /// The incident's public impact: none, minor, major or critical
    /// (default: from the component states its public updates set).
    #[arg(long, value_name = "IMPACT")]
    pub impact: Option<String>,
    /// When it was posted, to write it down afterwards (default: now).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Print the update (the latest one, or the one just posted) for a chat tool.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub render: Option<RenderArg>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RenderArg {
    Slack,
    Markdown,
    Text,
}

#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    Due(DueArgs),
}

/// List incidents whose next update is overdue, per audience (for a shell
/// prompt or a CI cron job). Open incidents owe updates by the cadence or
/// by what the last update promised; an incident that is over owes the
/// public its resolution post. Historical incidents (imported) owe nothing
/// until something new happens on them.
///
/// Exit codes, as grep's: 0 nothing is overdue, 1 an update is overdue,
/// 2 it could not tell (an error: not a repository, an unreadable file).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  incident comms due\n  incident comms due --all --format json")]
pub struct DueArgs {
    /// Also list updates that are due but not overdue yet.
    #[arg(long)]
    pub all: bool,
}

fn component_setting(text: &str) -> std::result::Result<(String, String), String> {
    match text.split_once('=') {
        Some((id, state)) if !id.trim().is_empty() && !state.trim().is_empty() => {
            Ok((id.trim().to_string(), state.trim().to_string()))
        }
        _ => Err(format!(
            "'{text}' is not ID=STATE (for example api=partial_outage)"
        )),
    }
}

fn yes_no(text: &str) -> std::result::Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" => Ok(true),
        "no" | "n" | "false" | "none" => Ok(false),
        _ => Err(format!("'{text}' is not yes or no")),
    }
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    match args.command {
        Some(Sub::Due(due)) => run_due(context, due),
        None => run_update(context, args),
    }
}

fn read_stdin() -> Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|source| Error::Io {
            path: "<stdin>".into(),
            source,
        })?;
    Ok(text)
}

/// The text from -m or -F, if given.
fn given_text(args: &Args) -> Result<Option<String>> {
    if let Some(file) = &args.file {
        let text = if file.as_os_str() == "-" {
            read_stdin()?
        } else {
            std::fs::read_to_string(file).map_err(|source| Error::Io {
                path: file.clone(),
                source,
            })?
        };
        return Ok(Some(text.trim().to_string()));
    }
    if args.messages.is_empty() {
        return Ok(None);
    }
    let mut parts = Vec::new();
    for message in &args.messages {
        parts.push(if message == "-" {
            read_stdin()?
        } else {
            message.clone()
        });
    }
    Ok(Some(
        parts
            .iter()
            .map(|p| p.trim())
            .collect::<Vec<_>>()
            .join("\n\n"),
    ))
}

fn run_update(context: &Context, args: Args) -> Result<()> {
    let id = args.id.clone().ok_or_else(|| Error::Usage {
        message: "name the incident: incident comms ID".into(),
    })?;
    let store = context.store()?;
    let text = given_text(&args)?;
    if text.is_none() && args.template.is_none() {
        if let Some(format) = args.render {
            return print_latest(context, &store, &id, args.audience.as_deref(), format);
        }
        if !context.interactive {
            return Err(Error::MissingInput {
                what: "the update's text".into(),
                flag: "-m TEXT, -F FILE or --template NAME".into(),
            });
        }
    }
    // A refusal from here on keeps the text given (REJECTED_COMMS).
    let keep = |e| match &text {
        Some(t) => text::keep_all(store.repo.path(), &typed(t), e),
        None => e,
    };
    let config = store.config().map_err(keep)?;
    let audiences: Vec<(String, String)> = config
        .comms
        .audiences
        .iter()
        .map(|a| (a.name.clone(), a.description.clone()))
        .collect();
    let audience = prompt::choice(
        context,
        args.audience.clone(),
        "Audience",
        "--audience NAME",
        &audiences,
    )
    .map_err(keep)?;
    let audience = config.check_audience(&audience).map_err(keep)?;
    let now = context.now().map_err(keep)?;
    let mut status = args.status.clone();
    // The resolved template is the resolving post: it resolves.
    if args.template.as_deref() == Some("resolved") && audience == PUBLIC {
        match status.as_deref().map(|s| s.trim().to_ascii_lowercase()) {
            None => status = Some("resolved".into()),
            Some(s) if s == "resolved" => {}
            Some(other) => {
                return Err(keep(Error::Usage {
                    message: format!(
                        "--template resolved is the resolving post, not a '{other}' update: leave out --status, or choose another template"
                    ),
                }));
            }
        }
    }
    let mut request = CommsRequest {
        audience,
        status,
        text: text.clone().unwrap_or_default(),
        public_title: args.public_title.clone(),
        components: args.components.clone(),
        next_update: args.next_update.clone(),
        data_loss: args.data_loss,
        at: args.at.clone(),
        impact: args.impact.clone(),
    };
    if text.is_none() {
        // Refused before anyone types, not after.
        check_before_text(&store, &id, &request, now)?;
        let (written, unedited) = edit_from_template(
            context,
            &store,
            &config,
            &id,
            &request.audience,
            request.status.as_deref(),
            &args,
            now,
        )?;
        if written.is_empty() {
            return Err(Error::InvalidInput {
                message: "the text is empty; nothing was recorded".into(),
            });
        }
        request.text = written;
        if let Some(placeholder) = unedited {
            let refused = Error::InvalidInput {
                message: format!(
                    "the text still has the template's placeholder {placeholder}: write it, or delete the line; nothing was recorded"
                ),
            };
            return Err(text::keep_all(
                store.repo.path(),
                &typed(&request.text),
                refused,
            ));
        }
    }
    let outcome = record(&store, &id, &request, now)
        .map_err(|e| text::keep_all(store.repo.path(), &typed(&request.text), e))?;
    super::committed(context, &outcome.committed);
    let incident::model::event::Change::Comms(update) = &outcome.event.change else {
        return Ok(());
    };
    if let Some(format) = args.render {
        return context.print(&chat(
            &config,
            &outcome.incident,
            &outcome.event,
            update,
            chat_format(format),
            &now,
        ));
    }
    if context.format == Format::Json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            id: &'a str,
            audience: &'a str,
            status: Option<&'a str>,
            components: &'a std::collections::BTreeMap<String, String>,
            next_update: Option<String>,
            at: String,
            event: &'a str,
            commit: String,
        }
        return context.print(&incident::render::json(&Out {
            id: &outcome.incident.id,
            audience: &update.audience,
            status: update.status.as_deref(),
            components: &update.components,
            next_update: update.next_update.map(|t| t.to_rfc3339()),
            at: outcome.event.at.to_rfc3339(),
            event: &outcome.event.id,
            commit: outcome.committed.commit.to_string(),
        })?);
    }
    let status = update
        .status
        .as_deref()
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    let next = match update.next_update {
        Some(t) => format!("; next update due {}", templates::clock(&config, &t, &now)),
        None => String::new(),
    };
    // The time it was recorded at, as `update` says it (an `--at` typo shows).
    context.confirm(&format!(
        "{}: posted {} update{status}\n  at {}, in commit {}{next}\n",
        outcome.incident.id,
        update.audience,
        config.zone().describe(&outcome.event.at, &now),
        &outcome.committed.commit.to_string()[..10],
    ))?;
    if outcome.defaulted_components {
        let list: Vec<String> = update
            .components
            .iter()
            .map(|(c, s)| format!("{c}={s}"))
            .collect();
        context.note(&format!(
            "components set from the incident's services: {} (give --component ID=STATE to say otherwise)",
            list.join(", ")
        ));
    }
    Ok(())
}

/// Whatever was typed survives a refusal (`.git/incident/REJECTED_COMMS`).
fn typed(text: &str) -> [Typed; 1] {
    [Typed {
        label: "COMMS",
        text: text.to_string(),
        flag: "-F",
    }]
}

fn chat_format(format: RenderArg) -> Chat {
    match format {
        RenderArg::Slack => Chat::Slack,
        RenderArg::Markdown => Chat::Markdown,
        RenderArg::Text => Chat::Text,
    }
}

/// Open the editor on a template prefilled from the incident; the text
/// saved, and the first of the template's placeholders still in it.
#[allow(clippy::too_many_arguments)]
fn edit_from_template(
    context: &Context,
    store: &incident::store::Store,
    config: &incident::config::Config,
    query: &str,
    audience: &str,
    status: Option<&str>,
    args: &Args,
    now: incident::time::Timestamp,
) -> Result<(String, Option<String>)> {
    let tree = store.head_tree()?.ok_or_else(|| Error::NotFound {
        query: query.into(),
    })?;
    let folder = store.find(&tree, query)?;
    let incident = store.load(config, &tree, &folder)?;
    let status = if audience == PUBLIC {
        Some(match status {
            Some(s) => s.trim().to_ascii_lowercase(),
            None => comms::default_public_status(config, &incident).to_string(),
        })
    } else {
        None
    };
    let name = match &args.template {
        Some(name) => name.clone(),
        None => templates::default_template(&incident, audience, status.as_deref()).to_string(),
    };
    let template = templates::load(store, Some(&tree), &name)?;
    let at = match &args.at {
        Some(t) => incident::ops::parse_past_time(t, now, &config.zone())?,
        None => now,
    };
    let next_update = match args.next_update.as_deref().map(str::trim) {
        Some("none") => None,
        Some(given) => Some(next_update_time(given, at, &config.zone())?),
        None if status.as_deref() == Some("resolved") => None,
        None => comms::cadence_next(config, &incident, audience, at),
    };
    let mut components = Vec::new();
    for (id, state) in &args.components {
        components.push((config.check_component(id)?, comms::component_state(state)?));
    }
    let draft = templates::render(
        &template,
        &TemplateInput {
            config,
            incident: &incident,
            audience,
            status: status.as_deref(),
            components: &components,
            next_update,
            now,
        },
    )?;
    let prefill = format!(
        "{}{}",
        templates::editor_header(&incident, audience, &name),
        draft.text
    );
    // Kept under .git/ until the update is read back, as git keeps COMMIT_EDITMSG.
    let file = store
        .repo
        .path()
        .join("incident")
        .join(format!("COMMS_EDITMSG-{audience}.md"));
    // A text an earlier run left there (killed while the editor was open)
    // is kept before the file is written afresh.
    let strip = |t: &str| templates::strip_comments(t);
    if let Some(path) = text::rescue_leftover(store.repo.path(), &file, "COMMS", &prefill, &strip) {
        let path = text::shown(&path);
        context.warn(&format!(
            "{} held an update an earlier run left unrecorded; it is kept in {path} (reuse it with -F {path})",
            text::shown(&file)
        ));
    }
    let editor = text::git_editor(&context.dir);
    context.note(&format!(
        "editing the {audience} update with {editor}; save and quit to post it"
    ));
    let edited = text::open_in_editor(&editor, &file, &prefill)?;
    let _ = std::fs::remove_file(&file);
    let saved = templates::strip_comments(&edited.text);
    if !edited.status.success() {
        // What was written so far is kept, as for any other refusal.
        let failed = edited.failure("nothing was recorded");
        return Err(text::keep_all(store.repo.path(), &typed(&saved), failed));
    }
    let unedited = draft.unedited(&saved).map(str::to_string);
    Ok((saved, unedited))
}

fn print_latest(
    context: &Context,
    store: &incident::store::Store,
    query: &str,
    audience: Option<&str>,
    format: RenderArg,
) -> Result<()> {
    let config = store.config()?;
    let tree = store.head_tree()?.ok_or_else(|| Error::NotFound {
        query: query.into(),
    })?;
    let folder = store.find(&tree, query)?;
    let incident = store.load(&config, &tree, &folder)?;
    let audience = audience.map(|a| config.check_audience(a)).transpose()?;
    let Some((event, update)) = comms::updates(&incident, audience.as_deref()).last() else {
        return Err(Error::InvalidInput {
            message: format!(
                "incident {} has no {}update yet; post one with `incident comms {} --audience NAME -m TEXT`",
                incident.id,
                audience.map(|a| format!("{a} ")).unwrap_or_default(),
                incident.id
            ),
        });
    };
    context.print(&chat(
        &config,
        &incident,
        event,
        update,
        chat_format(format),
        &context.now()?,
    ))
}

fn run_due(context: &Context, args: DueArgs) -> Result<()> {
    let store = context.store()?;
    let config = store.config()?;
    let style = context.style(&config)?;
    let mut incidents = Vec::new();
    if let Some(tree) = store.head_tree()? {
        for folder in store.folders(&tree)? {
            incidents.push(store.load(&config, &tree, &folder)?);
        }
    }
    let all = comms::all_dues(&config, &incidents);
    let overdue = all.iter().filter(|(_, d)| d.due < style.now).count();
    let shown: Vec<_> = all
        .into_iter()
        .filter(|(_, d)| args.all || d.due < style.now)
        .collect();
    if shown.is_empty() && context.format != Format::Json {
        context.note(if args.all {
            "no update is owed"
        } else {
            "no update is overdue"
        });
    } else {
        context.print(&due_list(&config, &shown, context.format, &style)?)?;
    }
    if overdue > 0 {
        return Err(Error::Overdue { count: overdue });
    }
    Ok(())
}
