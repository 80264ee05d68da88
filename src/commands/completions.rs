use clap_complete::Shell;
use clap_complete::env::Shells;
use incident::{Error, Result};

use crate::cli::Context;

/// Print a shell completion script. It asks incident itself at each Tab,
/// so besides commands and flags it completes incident ids (by prefix or
/// by a fragment of the title), action items (ID/N), severities, states,
/// roles, milestones and postmortem templates of the repository at hand.
///
/// The same script comes from `COMPLETE=SHELL incident`, which is what
/// shells load at startup without a file: `source <(COMPLETE=bash incident)`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident completions bash \\\n      > ~/.local/share/bash-completion/completions/incident\n  incident completions zsh > ~/.zfunc/_incident\n  incident completions fish > ~/.config/fish/completions/incident.fish\n  echo 'source <(COMPLETE=bash incident)' >> ~/.bashrc"
)]
pub struct Args {
    /// The shell: bash, zsh, fish, elvish or powershell.
    pub shell: Shell,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let name = args.shell.to_string();
    let shells = Shells::builtins();
    let shell = shells.completer(&name).ok_or_else(|| Error::Usage {
        message: format!("no completion for the shell '{name}'"),
    })?;
    let mut out = Vec::new();
    shell
        .write_registration("COMPLETE", "incident", "incident", &completer(), &mut out)
        .map_err(|source| Error::Io {
            path: "<completion script>".into(),
            source,
        })?;
    context.print(&String::from_utf8_lossy(&out))
}

/// The program the script runs at each Tab: this one, by the name it was
/// started with (a path made absolute), as `COMPLETE=SHELL incident` does.
fn completer() -> String {
    let started_as = std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "incident".into());
    let path = if started_as.components().count() > 1 {
        std::path::absolute(&started_as).unwrap_or(started_as)
    } else {
        started_as
    };
    path.to_string_lossy().into_owned()
}
