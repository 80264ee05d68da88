//! Escaping for every context the status page writes text into.

pub use crate::render::escape::{html, xml};

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
