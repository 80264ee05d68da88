use std::io::IsTerminal;
use std::path::PathBuf;

use incident::metrics::period::PeriodSpec;
use incident::metrics::{By, ReportRequest, report};
use incident::render::report::{ReportFormat, markdown_with_chart_files, render};
use incident::{Error, Result};

use crate::cli::Context;

/// Figures from the repository and its history: time to detect, acknowledge,
/// declare, mitigate and resolve, time between incidents, incidents per
/// week, open incidents, time in each state, postmortems, recording lag
/// and change failure rate. Each duration shows n, median, p90 and mean,
/// and how many incidents were left out and why.
///
/// Default period: the last complete ISO week, compared with the four weeks
/// before it. Same repository and arguments give the same bytes.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident report\n  incident report --week 2026-W47 --format markdown --output 2026-W47.md\n  incident report --last 4w --by severity --format json\n  incident report --since 2026-10-01 --until 2026-11-01 --by service\n  incident report --as-of v1.4 --format json\n\nFormats: table, markdown, json, csv, html (--format html)."
)]
pub struct Args {
    /// An ISO week, such as 2026-W47.
    #[arg(long, value_name = "YYYY-Www", conflicts_with_all = ["last", "since", "until"])]
    pub week: Option<String>,
    /// The last complete weeks or days (4w, 14d), or hours up to now (12h).
    #[arg(long, value_name = "LENGTH", conflicts_with_all = ["since", "until"])]
    pub last: Option<String>,
    /// Start of the period (any time form incident accepts).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// End of the period, exclusive (default: now).
    #[arg(long, value_name = "TIME", requires = "since")]
    pub until: Option<String>,
    /// The report as the branch stood at a commit (revision on the
    /// first-parent line) or at a time.
    #[arg(long, value_name = "REV|TIME")]
    pub as_of: Option<String>,
    /// Break every figure down by severity or service.
    #[arg(long, value_enum)]
    pub by: Option<ByArg>,
    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Fail when history-derived figures may be wrong (shallow clone).
    #[arg(long)]
    pub strict: bool,
    /// Say on standard error how much history was read and how much came from the cache.
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ByArg {
    Severity,
    Service,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let store = context.store()?;
    let now = context.now()?;
    let period = match (&args.week, &args.last, &args.since) {
        (Some(week), _, _) => PeriodSpec::Week(week.clone()),
        (_, Some(last), _) => PeriodSpec::Last(last.clone()),
        (_, _, Some(since)) => PeriodSpec::Range {
            since: since.clone(),
            until: args.until.clone(),
        },
        _ => PeriodSpec::LastWeek,
    };
    let request = ReportRequest {
        period,
        as_of: args.as_of.clone(),
        by: args.by.map(|b| match b {
            ByArg::Severity => By::Severity,
            ByArg::Service => By::Service,
        }),
        strict: args.strict,
        trace: matches!(
            ReportFormat::from_format(context.format, context.html),
            ReportFormat::Markdown | ReportFormat::Html
        ),
    };
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
    let bar = (std::io::stderr().is_terminal() && !ci).then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar
    });
    let mut progress = |done: usize| {
        if let Some(bar) = &bar {
            bar.set_message(format!("reading history: {done} commits"));
            bar.tick();
        }
    };
    // The history walk keeps the trees it needs; libgit2's own object
    // cache would only hold every commit it passed (hundreds of MB on a
    // long history).
    git2::opts::enable_caching(false);
    // libgit2 maps pack files in windows of 1 GB, up to 8 GB, and keeps
    // them: every page a cold run touches stays resident (the whole pack,
    // tens of MB here). Windows of 8 MB, at most 32 MB mapped, bound that;
    // the walk reads the pack mostly in order, so few are remapped (17
    // more mmap calls on the 100,000-commit benchmark).
    // SAFETY: these only set libgit2's global limits; no other thread
    // uses libgit2 yet, and the values are valid sizes.
    unsafe {
        // Limits are a tuning, not a requirement: ignore a refusal.
        let _ = git2::opts::set_mwindow_size(8 << 20);
        let _ = git2::opts::set_mwindow_mapped_limit(32 << 20);
    }
    let result = report(&store, &request, now, &mut progress);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let report = result?;
    for warning in &report.warnings {
        context.warn(warning);
    }
    if args.verbose {
        context.note(&format!(
            "history: {} commits on the first-parent line, {} read from git, {} from the cache",
            report.history_commits,
            report.history_walked,
            report.history_commits - report.history_walked
        ));
    }
    let config = store.config()?;
    let format = ReportFormat::from_format(context.format, context.html);
    let style = context.style(&config)?;
    let style = incident::render::Style {
        color: false,
        ..style
    };
    let Some(path) = &args.output else {
        return context.print(&render(&report, format, &style)?);
    };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let write = |file: &std::path::Path, text: &str| {
        std::fs::write(file, text).map_err(|source| Error::Io {
            path: file.to_path_buf(),
            source,
        })
    };
    if format == ReportFormat::Markdown {
        // Charts as SVG files beside the report, linked as images.
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "report".into());
        let (text, charts) = markdown_with_chart_files(&report, &style, &stem)?;
        for chart in charts {
            let file = dir.map_or_else(|| PathBuf::from(&chart.name), |d| d.join(&chart.name));
            write(&file, &chart.svg)?;
        }
        return write(path, &text);
    }
    write(path, &render(&report, format, &style)?)
}
