//! Problems that checks find in the repository's files.

/// How bad a problem is: errors make a check fail, warnings do not.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
        }
    }
}

/// One problem, tied to a file and, where known, a line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Problem {
    pub level: Level,
    /// Repository-relative path with `/` separators.
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
    /// How to fix it, where there is more to say than the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}
