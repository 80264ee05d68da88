//! Incident and event identifiers, and the slugs in folder names.

use crate::error::{Error, Result};

/// Lowercase letters and digits without i, l, o and u, which people misread.
pub const ID_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Longest slug kept in a folder name.
const MAX_SLUG_CHARS: usize = 40;

/// A random id of `length` characters from the operating system's generator,
/// so that clones declaring offline at the same second still differ.
pub fn random_id(length: usize) -> Result<String> {
    let mut bytes = vec![0u8; length];
    getrandom::fill(&mut bytes).map_err(|e| Error::InvalidInput {
        message: format!("the operating system gave no random numbers: {e}"),
    })?;
    Ok(bytes
        .iter()
        .map(|b| ID_ALPHABET[usize::from(*b) % ID_ALPHABET.len()] as char)
        .collect())
}

/// Whether a string could be an id incident made.
pub fn is_id(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| ID_ALPHABET.contains(&b))
}

/// A folder-safe slug: ASCII letters and digits joined by single dashes.
/// Anything else (`../`, control characters, emoji) is dropped, so a title
/// can never steer where files go.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    let mut pending_dash = false;
    for c in title.chars() {
        let c = fold_accent(c);
        if c.is_ascii_alphanumeric() {
            let dash = pending_dash && !slug.is_empty();
            if slug.len() + usize::from(dash) + 1 > MAX_SLUG_CHARS {
                break;
            }
            if dash {
                slug.push('-');
            }
            pending_dash = false;
            slug.push(c.to_ascii_lowercase());
        } else {
            pending_dash = true;
        }
    }
    // A dash and a letter may have gone past the limit on the last step.
    slug.truncate(MAX_SLUG_CHARS);
    slug.trim_end_matches('-').to_string()
}

fn fold_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        other => other,
    }
}

/// `k3f9x2-checkout-latency`, or just the id when the title has no letters.
pub fn folder_name(id: &str, slug: &str) -> String {
    if slug.is_empty() {
        id.to_string()
    } else {
        format!("{id}-{slug}")
    }
}

/// Split a folder name into id and slug; `None` for folders that are not incidents.
pub fn split_folder_name(name: &str) -> Option<(&str, &str)> {
    let (id, slug) = name.split_once('-').unwrap_or((name, ""));
    is_id(id).then_some((id, slug))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_for_paths() {
        assert_eq!(
            slugify("Checkout latency above 2s"),
            "checkout-latency-above-2s"
        );
        assert_eq!(slugify("../../etc/passwd"), "etc-passwd");
        assert_eq!(slugify("line\nbreak\u{0007}bell"), "line-break-bell");
        assert_eq!(slugify("🔥 DB down 🔥"), "db-down");
        assert_eq!(slugify("שגיאה"), "");
        assert_eq!(slugify("Café crème"), "cafe-creme");
        assert!(slugify(&"a ".repeat(100)).len() <= MAX_SLUG_CHARS);
    }

    #[test]
    fn ids_use_the_alphabet() {
        let id = random_id(6).unwrap();
        assert_eq!(id.len(), 6);
        assert!(is_id(&id));
        assert_ne!(random_id(12).unwrap(), random_id(12).unwrap());
    }

    #[test]
    fn folder_names_round_trip() {
        assert_eq!(
            split_folder_name("k3f9x2-db-down"),
            Some(("k3f9x2", "db-down"))
        );
        assert_eq!(split_folder_name("k3f9x2"), Some(("k3f9x2", "")));
        assert_eq!(split_folder_name("config.toml"), None);
        assert_eq!(split_folder_name("templates"), None);
    }
}
