use incident::Result;
use incident::render::Format;
use incident::render::incident::list;

use crate::cli::{Context, prompt};

/// List incidents: open ones by default, most severe first, then the
/// oldest; with --all, the rest follow, newest first.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident list\n  incident list --all --since \"2026-11-01\" --severity SEV1 --severity SEV2\n  incident list --all --limit 20\n  incident list --all --service checkout --format csv > incidents.csv"
)]
pub struct Args {
    /// Every incident, not only open ones.
    #[arg(short, long)]
    pub all: bool,
    /// Only these states (repeatable; implies --all).
    #[arg(long = "status", value_name = "STATE")]
    pub statuses: Vec<String>,
    /// Only these severities (repeatable).
    #[arg(long = "severity", value_name = "SEV")]
    pub severities: Vec<String>,
    /// Only incidents affecting this service (repeatable).
    #[arg(long = "service", value_name = "NAME")]
    pub services: Vec<String>,
    /// Only incidents that started at or after TIME.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub since: Option<String>,
    /// Only incidents that started before TIME.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub until: Option<String>,
    /// At most N incidents.
    #[arg(short = 'n', long, value_name = "N")]
    pub limit: Option<usize>,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let store = context.store()?;
    let config = store.config()?;
    let style = context.style(&config)?;
    let zone = config.zone();
    let time = |t: &Option<String>| {
        t.as_deref()
            .map(|t| incident::time::parse_time(t, style.now, &zone))
            .transpose()
    };
    let since = time(&args.since)?;
    let until = time(&args.until)?;
    let statuses = args
        .statuses
        .iter()
        .map(|s| config.check_state(s))
        .collect::<Result<Vec<_>>>()?;
    let severities = args
        .severities
        .iter()
        .map(|s| config.check_severity(s))
        .collect::<Result<Vec<_>>>()?;
    let mut incidents = Vec::new();
    if let Some(tree) = store.head_tree()? {
        let (summaries, warning) = store.summaries(&config, &tree)?;
        if let Some(warning) = warning {
            context.warn(&warning);
        }
        for (folder, loaded) in summaries {
            match loaded {
                Ok(incident) => incidents.push(incident),
                Err(e) => context.warn(&format!("skipping {}: {e}", folder.path)),
            }
        }
    }
    let everything = incidents.len();
    // Incidents over, by state in the config's order: `2 resolved, 1 cancelled`.
    let mut over: Vec<String> = config
        .states
        .iter()
        .filter_map(|state| {
            let n = incidents
                .iter()
                .filter(|i| !i.is_open(&config) && i.status == state.name)
                .count();
            (n > 0).then(|| format!("{n} {}", state.name))
        })
        .collect();
    let elsewhere = incidents
        .iter()
        .filter(|i| !i.is_open(&config) && !config.states.iter().any(|s| s.name == i.status))
        .count();
    if elsewhere > 0 {
        over.push(format!("{elsewhere} in states the config does not name"));
    }
    let filtered = !statuses.is_empty()
        || !severities.is_empty()
        || !args.services.is_empty()
        || since.is_some()
        || until.is_some();
    incidents.retain(|i| {
        let started = i.milestone("started");
        (args.all || !statuses.is_empty() || i.is_open(&config))
            && (statuses.is_empty() || statuses.contains(&i.status))
            && (severities.is_empty() || severities.contains(&i.severity))
            && (args.services.is_empty() || args.services.iter().any(|s| i.services.contains(s)))
            && since.is_none_or(|s| started.is_some_and(|t| t >= s))
            && until.is_none_or(|u| started.is_some_and(|t| t < u))
    });
    let (mut open, mut rest): (Vec<_>, Vec<_>) =
        incidents.into_iter().partition(|i| i.is_open(&config));
    prompt::by_severity_then_age(&mut open, &config);
    // Newest first: each start looked up once, not at every comparison.
    rest.sort_by_cached_key(|i| (std::cmp::Reverse(i.milestone("started")), i.id.clone()));
    let mut incidents = open;
    incidents.append(&mut rest);
    if let Some(limit) = args.limit
        && incidents.len() > limit
    {
        context.note(&format!(
            "showing {limit} of {} incidents (--limit)",
            incidents.len()
        ));
        incidents.truncate(limit);
    }
    if incidents.is_empty() && context.format == Format::Table {
        let message = if filtered {
            "No incidents match.".to_string()
        } else if args.all || everything == 0 {
            "No incidents yet: `incident declare TITLE --severity SEV` records one.".to_string()
        } else {
            format!(
                "No open incidents; {}: `incident list --all`.",
                over.join(", ")
            )
        };
        return context.print(&format!("{message}\n"));
    }
    context.print(&list(&incidents, &config, context.format, &style)?)
}
