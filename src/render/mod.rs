//! Turning incidents into text: tables for people, JSON and CSV for
//! programs, Markdown for documents. Returns strings; never prints.

pub mod incident;
pub mod problems;
// Postmortems and action items (issue 3).
pub mod postmortem;
pub mod report;

use comfy_table::{Cell, Color, ContentArrangement, LineStyle, Table, TableStyle};

/// Columns with a rule under the header and nothing else: easy to read, easy to grep.
const TABLE_STYLE: TableStyle =
    TableStyle::new().header_separator(LineStyle::none().fill('─').junction('─'));

use crate::error::{Error, Result};
use crate::time::{Timestamp, Zone};

/// Output formats offered wherever output is data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
    Markdown,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Markdown => "markdown",
        }
    }
}

/// How to show things: colours on or off, the zone for times, and now (for ages).
#[derive(Debug, Clone)]
pub struct Style {
    pub color: bool,
    pub zone: Zone,
    pub now: Timestamp,
}

/// A value in a table, with an optional colour for terminals.
#[derive(Debug, Clone)]
pub struct Value {
    pub text: String,
    pub color: Option<Color>,
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value { text, color: None }
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value {
            text: text.to_string(),
            color: None,
        }
    }
}

/// Rows with headers, shown as a table, CSV or Markdown.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    /// The column that may wrap on a narrow terminal; default the widest.
    pub wrap: Option<usize>,
}

impl Rows {
    pub fn new(headers: &[&str]) -> Rows {
        Rows {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            wrap: None,
        }
    }

    /// Let this column (by header) wrap on a narrow terminal, and no other.
    pub fn wrap_column(mut self, header: &str) -> Rows {
        self.wrap = self.headers.iter().position(|h| h == header);
        self
    }

    pub fn push(&mut self, row: Vec<Value>) {
        self.rows.push(row);
    }

    pub fn render(&self, format: Format, style: &Style) -> Result<String> {
        match format {
            Format::Table => Ok(self.table(style)),
            Format::Csv => self.csv(),
            Format::Markdown => Ok(self.markdown()),
            Format::Json => Err(Error::Usage {
                message: "internal: JSON is rendered from records, not rows".into(),
            }),
        }
    }

    fn table(&self, style: &Style) -> String {
        let mut table = Table::new();
        table
            .load_style(TABLE_STYLE)
            .set_header(self.headers.iter().map(Cell::new));
        // Wrap to the terminal's width only when it reports a usable one: a
        // pseudo-terminal of zero columns would squeeze every cell to a letter.
        let arrangement = match table.width() {
            Some(width) if width >= 40 => ContentArrangement::Dynamic,
            _ => ContentArrangement::Disabled,
        };
        let dynamic = matches!(arrangement, ContentArrangement::Dynamic);
        table.set_content_arrangement(arrangement);
        if style.color {
            table.enforce_styling();
        }
        for row in &self.rows {
            table.add_row(row.iter().map(|value| {
                let cell = Cell::new(terminal_safe(&value.text));
                match (style.color, value.color) {
                    (true, Some(color)) => cell.fg(color),
                    _ => cell,
                }
            }));
        }
        if dynamic {
            // Only one column wraps, between words: times, ids, item
            // references and states stay whole on a narrow terminal.
            let width = |text: &str| text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
            let widest = (0..self.headers.len()).max_by_key(|&i| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .map(|v| width(&v.text))
                    .max()
                    .unwrap_or(0)
            });
            let wrapping = self.wrap.or(widest);
            for (index, column) in table.column_iter_mut().enumerate() {
                if Some(index) != wrapping {
                    column.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
                }
            }
        }
        // Cells are padded to their column; lines end without spaces.
        let mut text: String = table
            .to_string()
            .lines()
            .map(|line| format!("{}\n", line.trim_end()))
            .collect();
        if text.is_empty() {
            text.push('\n');
        }
        text
    }

    fn csv(&self) -> Result<String> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let fail = |e: csv::Error| Error::InvalidInput {
            message: format!("cannot write CSV: {e}"),
        };
        writer.write_record(&self.headers).map_err(fail)?;
        for row in &self.rows {
            writer
                .write_record(row.iter().map(|v| v.text.as_str()))
                .map_err(fail)?;
        }
        let bytes = writer.into_inner().map_err(|e| Error::InvalidInput {
            message: format!("cannot write CSV: {e}"),
        })?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn markdown(&self) -> String {
        let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
        let mut text = line(self.headers.iter().map(|h| markdown_cell(h)).collect());
        text.push_str(&line(
            self.headers.iter().map(|_| "---".to_string()).collect(),
        ));
        for row in &self.rows {
            text.push_str(&line(row.iter().map(|v| markdown_cell(&v.text)).collect()));
        }
        text
    }
}

/// Text safe in a Markdown table cell: pipes escaped, lines joined with `<br>`.
pub fn markdown_cell(text: &str) -> String {
    terminal_safe(text)
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('\n', "<br>")
}

/// Control characters shown as escapes, so stored text cannot drive the
/// terminal (an ESC in a note must not repaint the screen).
pub fn terminal_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Serialise a record as pretty JSON with a final newline.
pub fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string_pretty(value)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| Error::InvalidInput {
            message: format!("cannot write JSON: {e}"),
        })
}
