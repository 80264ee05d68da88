use clap_complete::Shell;
use incident::Result;

use crate::cli::Context;

/// Print a shell completion script.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  incident completions bash \\\n      > ~/.local/share/bash-completion/completions/incident\n  incident completions zsh > ~/.zfunc/_incident\n  incident completions fish > ~/.config/fish/completions/incident.fish"
)]
pub struct Args {
    /// The shell: bash, zsh, fish, elvish or powershell.
    pub shell: Shell,
}

pub fn run(context: &Context, args: Args, mut command: clap::Command) -> Result<()> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "incident", &mut out);
    context.print(&String::from_utf8_lossy(&out))
}
