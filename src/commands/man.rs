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
    clap_mangen::Man::new(command)
        .source(format!("incident {}", env!("CARGO_PKG_VERSION")))
        .render(&mut out)
        .map_err(|source| Error::Io {
            path: "<man page>".into(),
            source,
        })?;
    Ok(out)
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
