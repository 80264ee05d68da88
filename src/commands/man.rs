use std::path::{Path, PathBuf};

use incident::{Error, Result};

use crate::cli::Context;

/// Print a man page (roff), or write every page to a folder: incident(1)
/// and one per command, such as incident-declare(1) and
/// incident-postmortem-review(1), as the top page refers to them.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident man --output ~/.local/share/man/man1 && man incident-declare\n  incident man > ~/.local/share/man/man1/incident.1\n  incident man postmortem review | man -l -"
)]
pub struct Args {
    /// The command whose page to print, such as `declare` or `postmortem review` (default: incident(1)).
    #[arg(value_name = "COMMAND", conflicts_with = "output")]
    pub command: Vec<String>,
    /// Write incident.1 and a page per command into DIR (created if missing).
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
}

pub fn run(context: &Context, args: Args, mut command: clap::Command) -> Result<()> {
    // Building names the subcommands' pages: incident-declare, ...
    command.build();
    if let Some(dir) = &args.output {
        let written = write_all(command, dir)?;
        return context.confirm(&format!(
            "wrote {} man pages to {}\n",
            written.len(),
            dir.display()
        ));
    }
    let mut page = command;
    for name in &args.command {
        page = page
            .find_subcommand(name)
            .cloned()
            .ok_or_else(|| Error::Usage {
                message: format!(
                    "`incident {}` is no command; `incident --help` lists them",
                    args.command.join(" ")
                ),
            })?;
    }
    context.print(&String::from_utf8_lossy(&render(page)?))
}

fn render(command: clap::Command) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let extra = command
        .get_after_long_help()
        .or_else(|| command.get_after_help())
        .map(|text| text.to_string());
    let has_options = command.get_arguments().any(|a| !a.is_hide_set());
    let has_subcommands = command.get_subcommands().any(|s| !s.is_hide_set());
    let has_version = command.get_version().is_some() || command.get_long_version().is_some();
    let man =
        clap_mangen::Man::new(command).source(format!("incident {}", env!("CARGO_PKG_VERSION")));
    // clap_mangen's own sections, but the examples as written: it would
    // fill and justify them as prose, changing the text between quotes.
    let io = |source| Error::Io {
        path: "<man page>".into(),
        source,
    };
    man.render_title(&mut out).map_err(io)?;
    man.render_name_section(&mut out).map_err(io)?;
    man.render_synopsis_section(&mut out).map_err(io)?;
    man.render_description_section(&mut out).map_err(io)?;
    if has_options {
        man.render_options_section(&mut out).map_err(io)?;
    }
    if has_subcommands {
        man.render_subcommands_section(&mut out).map_err(io)?;
    }
    if let Some(text) = extra {
        out.extend(examples_section(&text).into_bytes());
    }
    if has_version {
        man.render_version_section(&mut out).map_err(io)?;
    }
    Ok(out)
}

/// `after_help` ("Examples:" and command lines) as a roff section shown
/// line for line (`.nf`), escaped so man prints each character as typed.
fn examples_section(text: &str) -> String {
    let (heading, body) = match text.strip_prefix("Examples:\n") {
        Some(rest) => ("EXAMPLES", rest),
        None => ("EXTRA", text),
    };
    // Indented 3 instead of the section's 7, without the help's own 2, so
    // that a 78-column example line fits 80 columns here too.
    let indent = body
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut roff = format!(".SH {heading}\n.in 3n\n.nf\n");
    for line in body.lines() {
        let line = line.get(indent..).unwrap_or(line.trim_start());
        let escaped = line
            .replace('\\', "\\e")
            .replace('-', "\\-")
            .replace('\'', "\\(aq")
            .replace('"', "\\(dq")
            .replace('~', "\\(ti")
            .replace('^', "\\(ha")
            .replace('`', "\\(ga");
        // A leading `.` would be read as a request.
        roff.push_str(if escaped.starts_with('.') { "\\&" } else { "" });
        roff.push_str(&escaped);
        roff.push('\n');
    }
    roff.push_str(".fi\n.in\n");
    roff
}

/// Every page of `command` and its subcommands, as `NAME.1` files in `dir`.
fn write_all(command: clap::Command, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    let mut pending = vec![command];
    while let Some(page) = pending.pop() {
        pending.extend(page.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
        let name = page.get_display_name().unwrap_or(page.get_name());
        let file = dir.join(format!("{name}.1"));
        std::fs::write(&file, render(page.clone())?).map_err(|source| Error::Io {
            path: file.clone(),
            source,
        })?;
        written.push(file);
    }
    Ok(written)
}
