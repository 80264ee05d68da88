//! Asking for missing values on a terminal, and refusing to ask elsewhere.
//! Esc or Ctrl-C at any prompt cancels cleanly: the cursor comes back and
//! nothing is recorded.

use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Select};
use incident::config::Config;
use incident::model::incident::Incident;
use incident::store::Store;
use incident::{Error, Result};

use super::Context;

/// Show the cursor again: dialoguer hides it while a list is open.
fn restore_terminal() {
    let _ = console::Term::stderr().show_cursor();
}

fn prompt_failed(e: dialoguer::Error) -> Error {
    restore_terminal();
    let dialoguer::Error::IO(io) = &e;
    if io.kind() == std::io::ErrorKind::Interrupted {
        // The message goes below the question, not after it.
        let _ = console::Term::stderr().write_line("");
        return Error::Cancelled;
    }
    Error::InvalidInput {
        message: format!("could not read from the terminal: {e}"),
    }
}

/// Ctrl-C while a prompt has the terminal in raw mode arrives as a key
/// (and the prompt returns a cancel); outside raw mode as SIGINT: show the
/// cursor, exit 130. While a prompt or the editor runs, SIGINT is theirs
/// (see [`ignoring_interrupts`], [`run_editor`]).
pub fn on_interrupt_restore_cursor() {
    let _ = ctrlc::set_handler(|| {
        restore_terminal();
        eprintln!();
        std::process::exit(i32::from(super::EXIT_CANCELLED));
    });
}

const INTERRUPTS: [libc::c_int; 2] = [libc::SIGINT, libc::SIGQUIT];

/// Run `work` with SIGINT (and SIGQUIT) ignored by this process: at a
/// prompt, the Ctrl-C key comes back as a cancel that keeps what was
/// given (console raises SIGINT too, whose handler would run late, on its
/// own thread, and race that answer). Returns the dispositions it saved.
pub fn ignoring_interrupts<T>(work: impl FnOnce(&[libc::sigaction]) -> T) -> T {
    // SAFETY: sigaction with initialised structs; the dispositions saved
    // here are put back below, whatever `work` returns.
    let saved: Vec<libc::sigaction> = INTERRUPTS
        .iter()
        .map(|&signal| unsafe {
            let mut ignore: libc::sigaction = std::mem::zeroed();
            ignore.sa_sigaction = libc::SIG_IGN;
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(signal, &ignore, &mut old);
            old
        })
        .collect();
    let result = work(&saved);
    for (signal, old) in INTERRUPTS.iter().zip(&saved) {
        // SAFETY: restores a disposition sigaction gave back above.
        unsafe {
            libc::sigaction(*signal, old, std::ptr::null_mut());
        }
    }
    result
}

/// Run the editor and wait for it, as git does: Ctrl-C goes to the editor
/// (which gets the signals as this command had them), while this command
/// ignores it, sees how the editor ended, and keeps what it wrote.
pub fn run_editor(
    command: &mut std::process::Command,
) -> std::io::Result<std::process::ExitStatus> {
    use std::os::unix::process::CommandExt;
    ignoring_interrupts(|saved| {
        let ignored: Vec<bool> = saved
            .iter()
            .map(|s| s.sa_sigaction == libc::SIG_IGN)
            .collect();
        // SAFETY: between fork and exec only sigaction, which is
        // async-signal-safe, on a struct prepared in the closure.
        unsafe {
            command.pre_exec(move || {
                for (signal, ignored) in INTERRUPTS.iter().zip(&ignored) {
                    let mut back: libc::sigaction = std::mem::zeroed();
                    back.sa_sigaction = if *ignored {
                        libc::SIG_IGN
                    } else {
                        libc::SIG_DFL
                    };
                    libc::sigaction(*signal, &back, std::ptr::null_mut());
                }
                Ok(())
            });
        }
        command.status()
    })
}

/// A value the user must give: asked for on a terminal, else an error that
/// names the flag.
pub fn text(context: &Context, given: Option<String>, what: &str, flag: &str) -> Result<String> {
    if let Some(value) = given {
        return Ok(value);
    }
    if !context.interactive {
        return Err(Error::MissingInput {
            what: what.to_lowercase(),
            flag: flag.into(),
        });
    }
    ignoring_interrupts(|_| read_line(what))
        .map_err(|e| prompt_failed(dialoguer::Error::IO(e)))?
        .ok_or(Error::Cancelled)
}

/// One line typed at `what: `, with backspace; Enter ends it, Esc cancels
/// or Ctrl-C cancels (`None`).
fn read_line(what: &str) -> std::io::Result<Option<String>> {
    use console::{Key, Term, style};
    let term = Term::stderr();
    term.write_str(&format!(
        "{} {} ",
        style("?").yellow(),
        style(format!("{what}:")).bold()
    ))?;
    let mut line = String::new();
    loop {
        match term.read_key_raw()? {
            Key::Enter if !line.trim().is_empty() => break,
            // Ctrl-C as a key: cancelled like Esc, so what the command
            // was given is kept on the way out.
            Key::Escape | Key::CtrlC => {
                term.write_line("")?;
                return Ok(None);
            }
            Key::Backspace if line.pop().is_some() => term.clear_chars(1)?,
            Key::Char(c) if !c.is_control() => {
                line.push(c);
                term.write_str(&c.to_string())?;
            }
            _ => {}
        }
    }
    term.write_line("")?;
    Ok(Some(line))
}

/// One of `choices` (name, description): a selection list on a terminal.
pub fn choice(
    context: &Context,
    given: Option<String>,
    what: &str,
    flag: &str,
    choices: &[(String, String)],
) -> Result<String> {
    if let Some(value) = given {
        return Ok(value);
    }
    if !context.interactive {
        return Err(Error::MissingInput {
            what: format!(
                "{} (one of {})",
                what.to_lowercase(),
                choices
                    .iter()
                    .map(|c| c.0.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            flag: flag.into(),
        });
    }
    let items: Vec<String> = choices
        .iter()
        .map(|(name, description)| format!("{name}  {description}"))
        .collect();
    let index = select(what, &items)?;
    Ok(choices[index].0.clone())
}

/// A list to pick from; Esc cancels.
fn select(what: &str, items: &[String]) -> Result<usize> {
    // One row per item: dialoguer redraws by items, so an item that wraps
    // on a narrow terminal leaves its extra rows behind.
    let columns = console::Term::stderr()
        .size_checked()
        .map_or(80, |(_, columns)| usize::from(columns));
    let fitted: Vec<String> = items
        .iter()
        .map(|item| console::truncate_str(item, columns.saturating_sub(3), "…").into_owned())
        .collect();
    let picked = ignoring_interrupts(|_| {
        Select::with_theme(&ColorfulTheme::default())
            .with_prompt(what)
            .items(&fitted)
            .default(0)
            .interact_opt()
    })
    .map_err(prompt_failed)?;
    restore_terminal();
    picked.ok_or(Error::Cancelled)
}

/// Yes or no on a terminal (Esc is no); never asked elsewhere.
pub fn confirm(context: &Context, question: &str) -> Result<bool> {
    if !context.interactive {
        return Ok(false);
    }
    let answer = ignoring_interrupts(|_| {
        Confirm::with_theme(&ColorfulTheme::default())
            .with_prompt(question)
            .default(false)
            .interact_opt()
    })
    .map_err(prompt_failed)?;
    restore_terminal();
    Ok(answer.unwrap_or(false))
}

/// The incident a command is about: as given, or on a terminal picked from
/// the open incidents (most severe, then oldest, first; a single one is
/// confirmed). Without a terminal a missing id is a usage error.
pub fn incident(
    context: &Context,
    store: &Store,
    given: Option<String>,
    verb: &str,
) -> Result<String> {
    if let Some(id) = given {
        return Ok(id);
    }
    if !context.interactive {
        return Err(Error::MissingInput {
            what: "the incident".into(),
            flag: "its id, an id prefix or part of its title as the first argument".into(),
        });
    }
    let config = store.config()?;
    let mut open: Vec<Incident> = Vec::new();
    if let Some(tree) = store.head_tree()? {
        for folder in store.folders(&tree)? {
            if let Ok(incident) = store.load(&config, &tree, &folder)
                && incident.is_open(&config)
            {
                open.push(incident);
            }
        }
    }
    by_severity_then_age(&mut open, &config);
    let describe = |i: &Incident| {
        format!(
            "{}  {:<5} {:<14} {}",
            i.id,
            i.severity,
            i.status,
            incident::render::terminal_safe(&incident::ops::one_line(&i.title, 50))
        )
    };
    match open.as_slice() {
        [] => Err(Error::InvalidInput {
            message: format!(
                "no open incident to {verb}; name one (`incident list --all` shows them all)"
            ),
        }),
        [only] => {
            if confirm(context, &format!("{verb} {}?", describe(only)))? {
                Ok(only.id.clone())
            } else {
                Err(Error::Cancelled)
            }
        }
        many => {
            let items: Vec<String> = many.iter().map(describe).collect();
            let index = select(&format!("Which incident to {verb}?"), &items)?;
            Ok(many[index].id.clone())
        }
    }
}

/// Open incidents as responders want them: most severe first, then the
/// oldest (longest open) first.
pub fn by_severity_then_age(incidents: &mut [Incident], config: &Config) {
    incidents.sort_by(|a, b| {
        config
            .severity_rank(&a.severity)
            .cmp(&config.severity_rank(&b.severity))
            .then(a.milestone("started").cmp(&b.milestone("started")))
            .then(a.id.cmp(&b.id))
    });
}
