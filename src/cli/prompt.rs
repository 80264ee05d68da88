//! Asking for missing values on a terminal, and refusing to ask elsewhere.

use dialoguer::theme::ColorfulTheme;
use dialoguer::{Input, Select};
use incident::{Error, Result};

use super::Context;

fn prompt_failed(e: dialoguer::Error) -> Error {
    Error::InvalidInput {
        message: format!("could not read from the terminal: {e}"),
    }
}

/// A value the user must give: asked for on a terminal, else an error that
/// names the flag.
pub fn text(context: &Context, given: Option<String>, what: &str, flag: &str) -> Result<String> {
    if let Some(value) = given {
        return Ok(value);
    }
    if !context.interactive {
        return Err(Error::MissingInput {
            what: what.into(),
            flag: flag.into(),
        });
    }
    Input::<String>::with_theme(&ColorfulTheme::default())
        .with_prompt(what)
        .interact_text()
        .map_err(prompt_failed)
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
                "{what} (one of {})",
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
    let index = Select::with_theme(&ColorfulTheme::default())
        .with_prompt(what)
        .items(&items)
        .default(0)
        .interact()
        .map_err(prompt_failed)?;
    Ok(choices[index].0.clone())
}
