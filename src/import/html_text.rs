//! Plain text of the HTML some status-page exports hold in update bodies.
//!
//! Statuspage bodies are plain text, except history migrated into it
//! (githubstatus.com's updates before 2018 are `<ul><li><strong>time
//! </strong> - text</li>…</ul>`). incident records and the status page hold
//! plain text, which the page escapes, so tags would show as `<li>`. Only
//! the tags such bodies use are read; any other `<` is text (`latency < 2s`).

/// The text of `body` when it holds HTML markup; `None` when it is plain.
pub fn to_text(body: &str) -> Option<String> {
    if !holds_markup(body) {
        return None;
    }
    let mut out = String::new();
    // The link target of an open `<a>`, and where its text starts.
    let mut link: Option<(String, usize)> = None;
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        push_text(&mut out, &rest[..open]);
        let after = &rest[open..];
        let Some((tag, len)) = read_tag(after) else {
            out.push('<');
            rest = &after[1..];
            continue;
        };
        rest = &after[len..];
        match (tag.name.as_str(), tag.closing) {
            ("br", _) => out.push('\n'),
            ("p" | "div" | "ul" | "ol", _) => paragraph_break(&mut out),
            ("li", false) => {
                line_break(&mut out);
                out.push_str("- ");
            }
            ("a", false) => link = tag.href.map(|href| (href, out.len())),
            ("a", true) => {
                // A break inside the link may have trimmed below `start`.
                if let Some((href, start)) = link.take()
                    && out.get(start..).unwrap_or_default().trim() != href
                {
                    out.push_str(&format!(" ({href})"));
                }
            }
            _ => {}
        }
    }
    push_text(&mut out, rest);
    Some(out.trim().to_string())
}

/// Tags these bodies use, as `<name` followed by `>`, a space or `/`.
const TAGS: &[&str] = &[
    "a", "b", "br", "code", "div", "em", "i", "li", "ol", "p", "span", "strong", "u", "ul",
];

fn holds_markup(body: &str) -> bool {
    body.match_indices('<')
        .any(|(at, _)| read_tag(&body[at..]).is_some())
}

struct Tag {
    name: String,
    closing: bool,
    href: Option<String>,
}

/// The tag `text` starts with, and its length in bytes.
fn read_tag(text: &str) -> Option<(Tag, usize)> {
    let end = text.find('>')?;
    let inner = &text[1..end];
    let (closing, inner) = match inner.strip_prefix('/') {
        Some(inner) => (true, inner),
        None => (false, inner),
    };
    let inner = inner.trim_end_matches('/').trim_end();
    let name_end = inner
        .find(|c: char| c.is_ascii_whitespace())
        .unwrap_or(inner.len());
    let name = inner[..name_end].to_ascii_lowercase();
    if !TAGS.contains(&name.as_str()) {
        return None;
    }
    let href = attribute(&inner[name_end..], "href").map(|h| decode_entities(&h));
    Some((
        Tag {
            name,
            closing,
            href,
        },
        end + 1,
    ))
}

/// The value of a quoted attribute.
fn attribute(attributes: &str, name: &str) -> Option<String> {
    let at = attributes.find(&format!("{name}="))? + name.len() + 1;
    let value = &attributes[at..];
    let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &value[1..];
    value.find(quote).map(|end| value[..end].to_string())
}

fn push_text(out: &mut String, text: &str) {
    out.push_str(&decode_entities(text));
}

fn line_break(out: &mut String) {
    let trimmed = out.trim_end_matches([' ', '\t']).len();
    out.truncate(trimmed);
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

fn paragraph_break(out: &mut String) {
    line_break(out);
    if !out.is_empty() && !out.ends_with("\n\n") {
        out.push('\n');
    }
}

/// `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&nbsp;` and numeric
/// references; anything else stays as written.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let decoded = after.find(';').filter(|end| *end <= 10).and_then(|end| {
            let name = &after[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some(' '),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, end + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &after[len..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_left_alone() {
        assert_eq!(to_text("latency < 2s & rising"), None);
        assert_eq!(to_text("We are investigating."), None);
    }

    #[test]
    fn migrated_lists_become_lines() {
        let body = "<ul><li><strong>2010-07-29 02:06:00</strong> - Moving search &amp; more.</li><li><strong>2010-07-29 02:43:00</strong> - Back. <a href=\"http://github.com/blog/680\">More</a></li></ul>";
        assert_eq!(
            to_text(body).unwrap(),
            "- 2010-07-29 02:06:00 - Moving search & more.\n- 2010-07-29 02:43:00 - Back. More (http://github.com/blog/680)"
        );
    }

    #[test]
    fn a_link_whose_text_is_its_target_is_written_once() {
        assert_eq!(
            to_text("See <a href='https://x.test/a'>https://x.test/a</a><br>Thanks").unwrap(),
            "See https://x.test/a\nThanks"
        );
    }

    #[test]
    fn breaks_inside_a_link_never_cut_below_it() {
        assert_eq!(
            to_text("  <a href=\"https://x.test\"><p></a>").unwrap(),
            "(https://x.test)"
        );
    }

    #[test]
    fn unknown_tags_and_entities_stay_text() {
        assert_eq!(
            to_text("<p>a <script>x</script> &bogus; &#233;</p>").unwrap(),
            "a <script>x</script> &bogus; é"
        );
    }
}
