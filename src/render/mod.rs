//! Turning incidents into text: tables for people, JSON and CSV for
//! programs, Markdown for documents. Returns strings; never prints.

pub mod escape;
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
    /// Columns (by header) whose cells never break: times, durations, ids.
    pub whole: Vec<String>,
    /// The wrapping column goes under each row as soon as its words would
    /// break (file paths), not only when it has no readable room left.
    pub under_before_breaking: bool,
}

impl Rows {
    pub fn new(headers: &[&str]) -> Rows {
        Rows {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            wrap: None,
            whole: Vec::new(),
            under_before_breaking: false,
        }
    }

    /// Let this column (by header) wrap on a narrow terminal, and no other.
    pub fn wrap_column(mut self, header: &str) -> Rows {
        self.wrap = self.headers.iter().position(|h| h == header);
        self
    }

    /// Put the wrapping column under each row, rather than break its
    /// words, when the terminal is too narrow for it.
    pub fn under_before_breaking(mut self) -> Rows {
        self.under_before_breaking = true;
        self
    }

    /// Never break a cell of these columns (by header), however narrow the
    /// terminal: a time, a duration or a reference is read whole.
    pub fn keep_whole(mut self, headers: &[&str]) -> Rows {
        self.whole = headers.iter().map(|h| h.to_string()).collect();
        self
    }

    fn is_whole(&self, index: usize) -> bool {
        self.headers
            .get(index)
            .is_some_and(|h| self.whole.contains(h))
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
        let Some(width) = terminal_width() else {
            if !style.color
                && let Some(plain) = self.draw_plain()
            {
                return plain;
            }
            return self.draw(style, None, true, &self.rows);
        };
        let widths = self.column_widths(width);
        // A wrapping column squeezed below a readable width goes on lines
        // of its own, under each row.
        if let (Some(chosen), Some(narrowed)) = (self.wrap, &widths)
            && narrowed[chosen] < self.readable_width(chosen)
        {
            return self.stacked(style, chosen, width);
        }
        self.draw(style, widths.as_deref(), true, &self.rows)
    }

    /// Lay out `rows` (and the header) with comfy-table, each cell wrapped
    /// to its column's width here, between words (comfy-table's own
    /// wrapping splits words), and padded to it, so that tables drawn in
    /// parts line up.
    fn draw(
        &self,
        style: &Style,
        widths: Option<&[usize]>,
        header: bool,
        rows: &[Vec<Value>],
    ) -> String {
        let mut table = Table::new();
        table
            .load_style(TABLE_STYLE)
            .set_content_arrangement(ContentArrangement::Disabled);
        if style.color {
            table.enforce_styling();
            // Colour was asked for (`--color always` beats NO_COLOR): without
            // this, crossterm writes empty escape codes when NO_COLOR is set.
            crossterm::style::force_color_output(true);
        }
        let fit = |index: usize, text: &str| match widths {
            Some(widths) => {
                let wrapped = if self.is_whole(index) {
                    text.to_string()
                } else {
                    wrap_words(text, widths[index])
                };
                let (first, rest) = wrapped.split_once('\n').unwrap_or((&wrapped, ""));
                let padded = format!("{first:<width$}", width = widths[index]);
                if rest.is_empty() {
                    padded
                } else {
                    format!("{padded}\n{rest}")
                }
            }
            None => text.to_string(),
        };
        if header {
            table.set_header(
                self.headers
                    .iter()
                    .enumerate()
                    .map(|(i, h)| Cell::new(fit(i, h))),
            );
        }
        for row in rows {
            table.add_row(row.iter().enumerate().map(|(i, value)| {
                let cell = Cell::new(fit(i, &terminal_safe(&value.text)));
                match (style.color, value.color) {
                    (true, Some(color)) => cell.fg(color),
                    _ => cell,
                }
            }));
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

    /// What [`Rows::draw`] lays out with no widths to fit and no colour, for
    /// tables of one line per row: comfy-table takes about 100 ms for
    /// `list --all` of 10,000 incidents, this a few. `None` when a cell has
    /// several lines or a row is short (comfy-table's layout then).
    fn draw_plain(&self) -> Option<String> {
        use unicode_width::UnicodeWidthStr;
        let columns = self.headers.len();
        let body: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| row.iter().map(|v| terminal_safe(&v.text)).collect())
            .collect();
        let lines = std::iter::once(&self.headers).chain(&body);
        let mut widths = vec![0; columns];
        for line in lines.clone() {
            if line.len() != columns || line.iter().any(|c| c.contains(['\n', '\r'])) {
                return None;
            }
            for (width, cell) in widths.iter_mut().zip(line) {
                *width = (*width).max(cell.width());
            }
        }
        let mut out = String::new();
        for (index, line) in lines.enumerate() {
            // Padding of one on each side, and the column border comfy-table
            // leaves blank between columns.
            let mut text = String::new();
            for (cell, width) in line.iter().zip(&widths) {
                text.push(' ');
                text.push_str(cell);
                text.extend(std::iter::repeat_n(' ', width - cell.width() + 2));
            }
            out.push_str(text.trim_end());
            out.push('\n');
            if index == 0 {
                let total = widths
                    .iter()
                    .map(|w| w + 3)
                    .sum::<usize>()
                    .saturating_sub(1);
                out.extend(std::iter::repeat_n('─', total));
                out.push('\n');
            }
        }
        Some(out)
    }

    /// The table without column `chosen`, whose text is written under each
    /// row, indented, wrapped to `width`.
    fn stacked(&self, style: &Style, chosen: usize, width: usize) -> String {
        let without = |cells: &[Value]| {
            let mut cells = cells.to_vec();
            if chosen < cells.len() {
                cells.remove(chosen);
            }
            cells
        };
        let mut headers = self.headers.clone();
        let heading = headers.remove(chosen);
        let rest = Rows {
            headers,
            rows: self.rows.iter().map(|r| without(r)).collect(),
            wrap: None,
            whole: self.whole.clone(),
            under_before_breaking: false,
        };
        let widths = rest
            .column_widths(width)
            .unwrap_or_else(|| rest.natural_widths());
        const INDENT: &str = "     ";
        let room = width.saturating_sub(INDENT.len() + 1);
        let under = |text: &str| -> String {
            wrap_words(&terminal_safe(text), room)
                .lines()
                .map(|line| format!("{INDENT}{line}\n"))
                .collect()
        };
        let drawn = rest.draw(style, Some(&widths), true, &[]);
        let (header, rule) = drawn.split_once('\n').unwrap_or((&drawn, ""));
        let mut out = format!("{header}\n{}{rule}", under(&heading));
        for (row, full) in rest.rows.iter().zip(&self.rows) {
            out.push_str(&rest.draw(style, Some(&widths), false, std::slice::from_ref(row)));
            if let Some(value) = full.get(chosen).filter(|v| !v.text.is_empty()) {
                out.push_str(&under(&value.text));
            }
        }
        out
    }

    /// The narrowest column `index` may be before it goes under each row.
    fn readable_width(&self, index: usize) -> usize {
        let natural = self.natural_widths()[index];
        if !self.under_before_breaking {
            return MIN_WRAPPED.min(natural);
        }
        self.column_texts(index)
            .flat_map(str::split_whitespace)
            .map(|word| word.chars().count())
            .max()
            .unwrap_or(0)
    }

    /// Column `index`'s header and cells.
    fn column_texts(&self, index: usize) -> impl Iterator<Item = &str> {
        std::iter::once(self.headers[index].as_str()).chain(
            self.rows
                .iter()
                .filter_map(move |r| r.get(index))
                .map(|v| v.text.as_str()),
        )
    }

    /// Each column's width with nothing wrapped: its longest line.
    fn natural_widths(&self) -> Vec<usize> {
        (0..self.headers.len())
            .map(|index| {
                self.column_texts(index)
                    .flat_map(str::lines)
                    .map(|line| line.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    }

    /// Column widths that fit `width` terminal columns, narrowing only as
    /// many columns as needed: the chosen one between words, then breaking
    /// its longest words (a URL in a note), then the others between words,
    /// widest first, so that times, ids and item references stay whole as
    /// long as anything else can give; last, whatever fits. `None` when
    /// everything fits as it is.
    fn column_widths(&self, width: usize) -> Option<Vec<usize>> {
        let columns = self.headers.len();
        let cells = |index: usize| {
            std::iter::once(self.headers[index].as_str()).chain(
                self.rows
                    .iter()
                    .filter_map(move |r| r.get(index))
                    .map(|v| v.text.as_str()),
            )
        };
        let longest = |index: usize, split: fn(&str) -> Vec<&str>| {
            cells(index)
                .flat_map(split)
                .map(|w| w.chars().count())
                .max()
                .unwrap_or(0)
        };
        let mut widths = self.natural_widths();
        // A column kept whole gives nothing: its floor is its width.
        let words: Vec<usize> = (0..columns)
            .map(|i| {
                if self.is_whole(i) {
                    widths[i]
                } else {
                    longest(i, |t| t.split_whitespace().collect())
                }
            })
            .collect();
        // One space before the table and two after, three between columns.
        let total =
            |widths: &[usize]| widths.iter().sum::<usize>() + 3 * columns.saturating_sub(1) + 3;
        if total(&widths) <= width {
            return None;
        }
        let mut order: Vec<usize> = (0..columns).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(widths[i]));
        let chosen = self
            .wrap
            .or_else(|| order.iter().copied().find(|&i| !self.is_whole(i)))
            .unwrap_or(order[0]);
        order.retain(|&i| i != chosen);
        let headers: Vec<usize> = (0..columns)
            .map(|i| {
                if self.is_whole(i) {
                    widths[i]
                } else {
                    self.headers[i].chars().count()
                }
            })
            .collect();
        // Each step narrows `index` no further than `floor`.
        let steps = std::iter::once((chosen, words[chosen]))
            .chain(std::iter::once((chosen, words[chosen].min(MIN_WRAPPED))))
            .chain(order.iter().map(|&i| (i, words[i])))
            .chain(std::iter::once((chosen, headers[chosen].max(1))))
            .chain(order.iter().map(|&i| (i, headers[i].max(1))));
        for (index, floor) in steps {
            let excess = total(&widths).saturating_sub(width);
            if excess == 0 {
                break;
            }
            widths[index] = widths[index]
                .saturating_sub(excess)
                .max(floor.min(widths[index]));
        }
        Some(widths)
    }

    fn csv(&self) -> Result<String> {
        let mut text = csv_line(self.headers.iter().map(String::as_str));
        for row in &self.rows {
            text.push_str(&csv_line(row.iter().map(|v| v.text.as_str())));
        }
        Ok(text)
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

/// One CSV record (RFC 4180) with a final newline, every cell made safe to
/// open in a spreadsheet (see `csv_cell`). Every CSV the tool writes is
/// made of these.
pub fn csv_line<'a>(cells: impl Iterator<Item = &'a str>) -> String {
    let mut line = cells.map(csv_cell).collect::<Vec<_>>().join(",");
    line.push('\n');
    line
}

/// A CSV cell a spreadsheet reads as text, as OWASP recommends against
/// formula injection: a cell that begins with `=`, `+`, `-`, `@`, a tab or a
/// carriage return gets a leading `'` (plain numbers such as `-5` excepted),
/// and a cell is quoted when it holds a comma, quote or line break, or a
/// semicolon that would start such a cell where `;` separates cells.
pub fn csv_cell(text: &str) -> String {
    const TRIGGERS: &[char] = &['=', '+', '-', '@', '\t', '\r'];
    let is_number = |t: &str| {
        let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
        !digits.is_empty()
            && digits.split_once('.').map_or_else(
                || digits.bytes().all(|b| b.is_ascii_digit()),
                |(whole, fraction)| {
                    !whole.is_empty()
                        && !fraction.is_empty()
                        && (whole.bytes().chain(fraction.bytes())).all(|b| b.is_ascii_digit())
                },
            )
    };
    let mut cell = String::with_capacity(text.len() + 3);
    if text.starts_with(TRIGGERS) && !is_number(text) {
        cell.push('\'');
    }
    cell.push_str(text);
    let quote = cell.contains([',', '"', '\n', '\r'])
        || cell
            .match_indices(';')
            .any(|(at, _)| cell[at + 1..].starts_with(TRIGGERS));
    if quote {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell
    }
}

/// The narrowest the wrapping column of a table gets before other columns
/// are narrowed: a URL breaks into pieces of this many characters.
const MIN_WRAPPED: usize = 24;

/// The width of the terminal standard output is, when it is one and says
/// a usable width: `COLUMNS` first, as git reads it, then the terminal's
/// own. (A pseudo-terminal of zero columns would squeeze every cell to a
/// letter.)
pub fn terminal_width() -> Option<usize> {
    let terminal = comfy_table::Table::new().width()?;
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok());
    Some(usize::from(columns.unwrap_or(terminal))).filter(|w| *w >= 40)
}

/// Text broken into lines of at most `width` characters between words; a
/// word longer than that (a URL) is broken into pieces that fit.
pub fn wrap_words(text: &str, width: usize) -> String {
    let width = width.max(1);
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph
            .split_whitespace()
            .flat_map(|word| pieces(word, width))
        {
            let length = line.chars().count();
            if length > 0 && length + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            } else if length > 0 {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines.join("\n")
}

/// A word in pieces of at most `width` characters, broken after a `-`,
/// `/`, `&`, `?` or `.` where one lies in the second half of a piece.
pub(crate) fn pieces(word: &str, width: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = word;
    while rest.chars().count() > width {
        let limit = rest
            .char_indices()
            .nth(width)
            .map_or(rest.len(), |(at, _)| at);
        let split = rest[..limit]
            .rfind(['-', '/', '&', '?', '.'])
            .map(|at| at + 1)
            .filter(|&at| rest[..at].chars().count() * 2 > width)
            .unwrap_or(limit);
        pieces.push(&rest[..split]);
        rest = &rest[split..];
    }
    pieces.push(rest);
    pieces
}

/// Text safe in a Markdown table cell: no pipe, link, emphasis or tag it
/// did not ask for (see [`escape::markdown_text`]), lines joined with `<br>`.
pub fn markdown_cell(text: &str) -> String {
    text.split('\n')
        .map(escape::markdown_text)
        .collect::<Vec<_>>()
        .join("<br>")
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

/// Output bound for a terminal, with every control character shown as an
/// escape except newlines, tabs and, when `colours` is set, the colour
/// codes (SGR: `ESC [ digits;... m`) tables are drawn with. Stored text in
/// coloured tables is escaped cell by cell before it gets there.
pub fn for_terminal(text: &str, colours: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\u{1b}' && colours {
            let sgr = rest[1..].strip_prefix('[').and_then(|params| {
                let end = params.find(|p: char| !(p.is_ascii_digit() || p == ';'))?;
                params[end..].starts_with('m').then_some(2 + end + 1)
            });
            if let Some(length) = sgr {
                out.push_str(&rest[..length]);
                rest = &rest[length..];
                continue;
            }
        }
        if c.is_control() && c != '\n' && c != '\t' {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_layout_is_comfy_tables_to_the_byte() {
        let style = Style {
            color: false,
            zone: Zone::Utc,
            now: Timestamp::parse_from_rfc3339("2026-11-24T10:00:00Z").expect("a time"),
        };
        let mut rows = Rows::new(&["ID", "SEV", "EMPTY", "TITLE"]);
        for cells in [
            ["k3f9x2", "SEV1", "", "Checkout latency above 2s"],
            ["a", "", "", "決済 API のエラー 🔥 wide"],
            ["zz9", "SEV12", "", "trailing spaces   "],
            ["e\u{301}t\u{e9}", "SEV3", "", ""],
            ["tab\tinside", "SEV3", "", "=HYPERLINK(\"x\")"],
            ["\u{1b}[31mred", "SEV3", "", "control \u{7}"],
        ] {
            rows.push(cells.iter().map(|c| Value::from(*c)).collect());
        }
        let plain = rows.draw_plain().expect("one line per row");
        assert_eq!(plain, rows.draw(&style, None, true, &rows.rows));
        let mut empty = Rows::new(&["ID", "TITLE"]);
        assert_eq!(
            empty.draw_plain().expect("header only"),
            empty.draw(&style, None, true, &empty.rows)
        );
        // Several lines in a cell: comfy-table's layout.
        empty.push(vec!["x".into(), "two\nlines".into()]);
        assert!(empty.draw_plain().is_none());
    }

    #[test]
    fn csv_cells_cannot_start_formulas() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1+1"), "'+1+1");
        assert_eq!(csv_cell("-2+3"), "'-2+3");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell("\rx"), "\"'\rx\"");
        assert_eq!(csv_cell("-5"), "-5");
        assert_eq!(csv_cell("-1.5"), "-1.5");
        assert_eq!(csv_cell("-"), "'-");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("a;=b"), "\"a;=b\"");
        assert_eq!(csv_cell("x=1;y=2"), "x=1;y=2");
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell(""), "");
    }

    #[test]
    fn terminal_output_keeps_only_colour_codes() {
        let text = "a\u{1b}[31mred\u{1b}[0m\u{1b}]8;;http://x\u{7}b\r\n\tc\u{1b}[2J";
        assert_eq!(
            for_terminal(text, true),
            "a\u{1b}[31mred\u{1b}[0m\\u{1b}]8;;http://x\\u{7}b\\u{d}\n\tc\u{1b}[2J"
                .replace("\u{1b}[2J", "\\u{1b}[2J")
        );
        assert_eq!(for_terminal("x\u{1b}[31my", false), "x\\u{1b}[31my");
    }
}
