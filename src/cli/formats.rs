//! Which `--format` values each command can print. Each command has its
//! own `--format` that takes only the values the command honours (which
//! its `--help` and man page then list); the top level's takes any, and
//! `check` refuses the others when they were given before the command's
//! name.

use std::ffi::OsStr;

use clap::ValueEnum;
use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::ErrorKind;
use incident::{Error, Result};

use super::FormatArg::{self, Csv, Github, Html, Json, Jsonl, Markdown, Table};

/// Commands that print a line for people or a JSON record.
const PEOPLE_JSON: &[FormatArg] = &[Table, Json];
/// Commands that print data.
const DATA: &[FormatArg] = &[Table, Json, Csv, Markdown];
/// Checks: problems as lines, JSON or GitHub Actions annotations.
const CHECKS: &[FormatArg] = &[Table, Json, Github];

/// The formats of each command, by its path of subcommand names; a
/// parent's entry covers subcommands without one of their own. A new
/// command adds its line here (a test fails for a command without one).
const FORMATS: &[(&str, &[FormatArg])] = &[
    ("init", PEOPLE_JSON),
    ("declare", PEOPLE_JSON),
    ("update", PEOPLE_JSON),
    ("ack", PEOPLE_JSON),
    ("resolve", PEOPLE_JSON),
    ("reopen", PEOPLE_JSON),
    ("cancel", PEOPLE_JSON),
    ("close", PEOPLE_JSON),
    ("list", DATA),
    ("show", &[Table, Json, Markdown]),
    ("timeline", DATA),
    ("log", DATA),
    ("report", &[Table, Json, Csv, Markdown, Html]),
    ("completions", &[]),
    ("man", &[]),
    ("postmortem", &[Table]),
    ("postmortem review", PEOPLE_JSON),
    ("postmortem check", CHECKS),
    ("action", PEOPLE_JSON),
    ("actions", DATA),
    ("check", CHECKS),
    ("sync", PEOPLE_JSON),
    ("comms", PEOPLE_JSON),
    ("maintenance", PEOPLE_JSON),
    ("status-page", PEOPLE_JSON),
    ("hooks", PEOPLE_JSON),
    ("import", PEOPLE_JSON),
    // JSON Lines when no --format is given.
    ("export", &[Jsonl, Csv]),
];

/// The entry that covers `path` ("postmortem review"), if any.
fn entry(path: &str) -> Option<&'static [FormatArg]> {
    let mut path = path;
    loop {
        if let Some((_, formats)) = FORMATS.iter().find(|(name, _)| *name == path) {
            return Some(formats);
        }
        path = path.rsplit_once(' ')?.0;
    }
}

/// The formats `incident PATH` accepts (only the default table for a
/// command nobody declared: refusing is safer than printing the wrong thing).
pub fn accepted(path: &str) -> &'static [FormatArg] {
    entry(path).unwrap_or(&[Table])
}

/// `--format` given before the command's name, checked against the command.
pub fn check(path: &str, given: Option<FormatArg>) -> Result<()> {
    match given {
        Some(format) if !accepted(path).contains(&format) => Err(Error::Usage {
            message: refusal(path, &name(format)),
        }),
        _ => Ok(()),
    }
}

fn name(format: FormatArg) -> String {
    format
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

fn refusal(path: &str, given: &str) -> String {
    let formats = accepted(path);
    if formats.is_empty() {
        format!("`incident {path}` takes no --format (it was given '{given}')")
    } else {
        format!(
            "`incident {path}` cannot print '{given}': its --format values are {}",
            formats
                .iter()
                .map(|f| name(*f))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// The command at `path` gets its own `--format`, taking only its values
/// (the top level's takes any, for `incident --format json declare ...`).
pub fn add_option(command: clap::Command, path: &str) -> clap::Command {
    if command.get_arguments().any(|a| a.get_id() == "format") {
        return command;
    }
    let formats = accepted(path);
    command.arg(
        clap::Arg::new("format")
            .long("format")
            .value_name("FORMAT")
            .help("Output format (default: table)")
            .help_heading(super::GLOBAL)
            .value_parser(Parser {
                path: path.to_string(),
                formats,
            })
            .hide(formats.is_empty()),
    )
}

/// The `--format` given, after the command's name or before it.
pub fn given(matches: &clap::ArgMatches) -> Option<FormatArg> {
    let mut found = None;
    let mut current = Some(matches);
    while let Some(level) = current {
        if let Ok(Some(format)) = level.try_get_one::<FormatArg>("format") {
            found = Some(*format);
        }
        current = level.subcommand().map(|(_, sub)| sub);
    }
    found
}

/// A `--format` value parser that knows its command's formats.
#[derive(Clone)]
struct Parser {
    path: String,
    formats: &'static [FormatArg],
}

impl TypedValueParser for Parser {
    type Value = FormatArg;

    fn parse_ref(
        &self,
        command: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> std::result::Result<FormatArg, clap::Error> {
        let text = value.to_string_lossy();
        FormatArg::from_str(&text, false)
            .ok()
            .filter(|f| self.formats.contains(f))
            .ok_or_else(|| {
                clap::Error::raw(
                    ErrorKind::InvalidValue,
                    format!("{}\n", refusal(&self.path, &text)),
                )
                .with_cmd(command)
            })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            self.formats.iter().filter_map(|f| f.to_possible_value()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(command: &clap::Command, prefix: &str, out: &mut Vec<String>) {
        for sub in command.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            let path = format!("{prefix}{}", sub.get_name());
            paths(sub, &format!("{path} "), out);
            out.push(path);
        }
    }

    #[test]
    fn every_command_declares_its_formats() {
        let mut all = Vec::new();
        paths(&super::super::command(), "", &mut all);
        assert!(all.len() > 20, "{all:?}");
        for path in all {
            assert!(
                entry(&path).is_some(),
                "`incident {path}` has no line in FORMATS (src/cli/formats.rs)"
            );
        }
    }

    #[test]
    fn refusals_name_the_accepted_formats() {
        assert!(check("list", Some(Csv)).is_ok());
        assert!(check("list", None).is_ok());
        let message = check("list", Some(Html)).unwrap_err().to_string();
        assert!(message.contains("table, json, csv, markdown"), "{message}");
        assert_eq!(accepted("action add"), PEOPLE_JSON);
        assert_eq!(accepted("postmortem check"), CHECKS);
        assert!(check("man", Some(Table)).is_err());
    }
}
