//! Escaping for every context the status page writes text into.

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

/// A URL for an `href`: only http(s) and relative paths made by this
/// module are ever linked; anything else becomes `#`. The result still goes
/// through [`html`] for the attribute.
pub fn href(url: &str) -> String {
    let lower = url.trim().to_ascii_lowercase();
    let safe = (lower.starts_with("https://") || lower.starts_with("http://"))
        && crate::statuspage::config::is_web_url(url.trim());
    if safe { html(url.trim()) } else { "#".into() }
}

/// One path segment made of anything: percent-encoded.
pub fn path_segment(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
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
    fn only_web_links_are_linked() {
        assert_eq!(href("javascript:alert(1)"), "#");
        assert_eq!(href(" JaVaScRiPt:alert(1)"), "#");
        assert_eq!(href("data:text/html,x"), "#");
        assert_eq!(href("https://example.com/a\"onmouseover=x"), "#");
        assert_eq!(
            href("https://example.com/p?a=1&b=2"),
            "https://example.com/p?a=1&amp;b=2"
        );
        assert_eq!(path_segment("a b/<c>"), "a%20b%2F%3Cc%3E");
    }
}
