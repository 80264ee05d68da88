use incident::{Error, Result};

use crate::cli::Context;

/// Print the man page (roff).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident man > ~/.local/share/man/man1/incident.1 && man incident"
)]
pub struct Args {}

pub fn run(context: &Context, _args: Args, command: clap::Command) -> Result<()> {
    let mut out = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut out)
        .map_err(|source| Error::Io {
            path: "<man page>".into(),
            source,
        })?;
    context.print(&String::from_utf8_lossy(&out))
}
