//! The `incident` binary: parse arguments, run one command, map errors to
//! exit codes. Everything else lives in the library.

mod cli;
mod commands;

fn main() -> std::process::ExitCode {
    cli::main()
}
