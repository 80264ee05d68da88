//! Escaping, one function per context, shared by everything that writes
//! text from the repository into a document: reports, postmortems, the
//! status page and Markdown tables. Text in incident files is whatever
//! people typed (or a hostile merge brought in); none of it may open a tag,
//! a link or a heading it did not ask for.

use super::terminal_safe;

/// Whether XML 1.0 allows a character at all (escaped or not).
fn xml_allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Text for HTML element content and quoted attribute values. Characters
/// that neither HTML nor XML allow (controls, noncharacters) become U+FFFD.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if !xml_allowed(c) || (c.is_control() && c != '\n' && c != '\t') => {
                out.push('\u{FFFD}')
            }
            c => out.push(c),
        }
    }
    out
}

/// Text for XML (feeds): the same rules as HTML, which are XML's too.
pub fn xml(text: &str) -> String {
    html(text)
}

/// Inline Markdown for documents nobody edits by hand (reports): every
/// ASCII punctuation character backslash-escaped (CommonMark allows that
/// for all of them), so a text can open no link, emphasis, code span,
/// heading, table cell or HTML tag, and no autolink forms (`www.`,
/// `https:`); line breaks and other control characters become spaces.
pub fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
            out.push(c);
        } else if c.is_control() {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// Inline Markdown for documents people read raw and edit in a pull
/// request (postmortems, tables): only what Markdown would act on is
/// escaped, so "rolled back to 1.41" stays as typed. One line, no HTML, no
/// links, emphasis, code, table cells or headings it did not ask for (a
/// title "x\n# y" stays in its heading).
pub fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in terminal_safe(&text.replace(['\n', '\r'], " ")).chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    // A value put at the start of a line must not make it a list item,
    // quote or setext underline.
    let lead = out.trim_start();
    let offset = out.len() - lead.len();
    if lead.starts_with(['-', '+', '=']) {
        out.insert(offset, '\\');
    } else {
        let digits = lead.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && lead[digits..].starts_with(['.', ')']) {
            out.insert(offset + digits, '\\');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_markup_quotes_and_controls() {
        assert_eq!(
            html("<script>\"a\" & 'b'</script>\u{1}\u{FFFE}"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;\u{FFFD}\u{FFFD}"
        );
        assert_eq!(html("line\nnext"), "line\nnext");
    }

    #[test]
    fn markdown_opens_nothing() {
        assert_eq!(
            markdown("[x](javascript:1) <b> # h"),
            "\\[x\\]\\(javascript\\:1\\) \\<b\\> \\# h"
        );
        assert_eq!(markdown("a\nb"), "a b");
    }

    #[test]
    fn markdown_text_escapes_what_markdown_acts_on_and_nothing_else() {
        assert_eq!(
            markdown_text("Disk full\n# Injected <!-- END GENERATED facts -->"),
            "Disk full \\# Injected &lt;!-- END GENERATED facts --&gt;"
        );
        assert_eq!(markdown_text("- a list?"), "\\- a list?");
        assert_eq!(markdown_text("1. first"), "1\\. first");
        assert_eq!(
            markdown_text("[x](javascript:1) *b* `c`|d"),
            "\\[x\\](javascript:1) \\*b\\* \\`c\\`\\|d"
        );
        assert_eq!(
            markdown_text("rolled back payments to 1.41"),
            "rolled back payments to 1.41"
        );
    }
}
