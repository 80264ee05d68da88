//! Problems found by checks, for people (`FILE:LINE: error: message`) and
//! as GitHub Actions annotations.

use crate::model::problem::Problem;

/// One line per problem (and an indented hint line where there is one), or
/// with `github`, one workflow command per problem titled `title`.
pub fn problems(problems: &[Problem], title: &str, github: bool) -> String {
    let mut out = String::new();
    for problem in problems {
        let level = problem.level.name();
        if github {
            let mut properties = format!("file={}", escape_property(&problem.file));
            if let Some(line) = problem.line {
                properties.push_str(&format!(",line={line}"));
            }
            let mut message = problem.message.clone();
            if let Some(hint) = &problem.hint {
                message.push_str(&format!(" (hint: {hint})"));
            }
            out.push_str(&format!(
                "::{level} {properties},title={title}::{}\n",
                escape_data(&message)
            ));
        } else {
            let line = problem.line.map(|l| format!(":{l}")).unwrap_or_default();
            out.push_str(&format!(
                "{}{line}: {level}: {}\n",
                problem.file, problem.message
            ));
            if let Some(hint) = &problem.hint {
                out.push_str(&format!("  hint: {hint}\n"));
            }
        }
    }
    out
}

/// GitHub's workflow-command escaping for message text.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub's workflow-command escaping for property values.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}
