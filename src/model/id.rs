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

/// Ids to hand out instead of random ones, for reproducible demos, tests
/// and documentation: `INCIDENT_IDS="k3f9x2 m7q2ab"` gives each new
/// incident the first of them not taken yet (then random ids again).
pub const IDS_VARIABLE: &str = "INCIDENT_IDS";

/// The first id of `INCIDENT_IDS` that `taken` says is free, if any.
pub fn handed_out(taken: impl Fn(&str) -> Result<bool>) -> Result<Option<String>> {
    let Ok(list) = std::env::var(IDS_VARIABLE) else {
        return Ok(None);
    };
    for candidate in list.split([' ', ',']).filter(|c| !c.is_empty()) {
        if !is_id(candidate) {
            return Err(Error::InvalidInput {
                message: format!(
                    "{IDS_VARIABLE}: '{candidate}' is not an id (lowercase letters and digits without i, l, o, u)"
                ),
            });
        }
        if !taken(candidate)? {
            return Ok(Some(candidate.to_string()));
        }
    }
    Ok(None)
}

/// Whether a string could be an id incident made.
pub fn is_id(text: &str) -> bool {
    // A match, not a search of ID_ALPHABET: every listing tests each name.
    !text.is_empty()
        && text
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'h' | b'j' | b'k' | b'm' | b'n' | b'p'..=b't' | b'v'..=b'z'))
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

/// Edit distance with adjacent swaps (optimal string alignment): `k3f9`
/// and `k3g9` are 1 apart, and so are `k3f9` and `3kf9`.
fn distance(a: &[char], b: &[char]) -> usize {
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// The one name of `valid` that `given` is a typo of, if exactly one is
/// closest: one edit away (two for names of six or more characters),
/// letter case aside. `mitgated` finds `mitigated`; `SEV9`, one edit from
/// every severity, finds none.
pub fn closest_name<'a>(given: &str, valid: &'a [String]) -> Option<&'a str> {
    let wanted: Vec<char> = given.trim().to_lowercase().chars().collect();
    if wanted.len() < 3 {
        return None;
    }
    let allowed = if wanted.len() >= 6 { 2 } else { 1 };
    let scored: Vec<(usize, &str)> = valid
        .iter()
        .map(|v| {
            let name: Vec<char> = v.to_lowercase().chars().collect();
            (distance(&wanted, &name), v.as_str())
        })
        .filter(|(d, _)| *d <= allowed)
        .collect();
    let best = scored.iter().map(|(d, _)| *d).min()?;
    match scored
        .iter()
        .filter(|(d, _)| *d == best)
        .collect::<Vec<_>>()[..]
    {
        [(_, name)] => Some(name),
        _ => None,
    }
}

/// The incidents (indexes into `names`, as (id, slug)) a query that
/// matched nothing may be a typo of, closest first, at most three: an id
/// or id prefix one edit away (two for queries of six or more characters),
/// or a stretch of the slug as close.
pub fn closest<'a>(query: &str, names: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<usize> {
    let wanted: Vec<char> = query.chars().collect();
    if wanted.len() < 3 {
        return Vec::new();
    }
    let allowed = if wanted.len() >= 6 { 2 } else { 1 };
    let mut found: Vec<(usize, usize)> = Vec::new();
    for (index, (id, slug)) in names.enumerate() {
        let id: Vec<char> = id.chars().collect();
        let prefix = &id[..wanted.len().min(id.len())];
        let mut best = distance(&wanted, prefix).min(distance(&wanted, &id));
        let slug: Vec<char> = slug.chars().collect();
        // Stretches of the slug that start a word, about as long as the query.
        for start in (0..slug.len()).filter(|&i| i == 0 || slug[i - 1] == '-') {
            for len in [
                wanted.len().saturating_sub(1),
                wanted.len(),
                wanted.len() + 1,
            ] {
                if len > 0 && start + len <= slug.len() {
                    best = best.min(distance(&wanted, &slug[start..start + len]));
                }
            }
        }
        if best <= allowed {
            found.push((best, index));
        }
    }
    found.sort();
    found.into_iter().take(3).map(|(_, index)| index).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_made_of_the_alphabet_only() {
        for b in 0..=255u8 {
            let text = (b as char).to_string();
            assert_eq!(is_id(&text), ID_ALPHABET.contains(&b), "{b}");
        }
        assert!(!is_id(""));
        assert!(is_id("k3f9x2") && !is_id("k3f9-2"));
    }

    #[test]
    fn typos_find_their_name() {
        let states: Vec<String> = ["triage", "investigating", "mitigated", "resolved"]
            .map(String::from)
            .into();
        assert_eq!(closest_name("mitgated", &states), Some("mitigated"));
        assert_eq!(closest_name("Resolvd", &states), Some("resolved"));
        assert_eq!(closest_name("panicking", &states), None);
        let severities: Vec<String> = ["SEV1", "SEV2", "SEV3"].map(String::from).into();
        assert_eq!(closest_name("SEV9", &severities), None);
        let audiences: Vec<String> = ["internal", "public"].map(String::from).into();
        assert_eq!(closest_name("publc", &audiences), Some("public"));
    }

    #[test]
    fn typos_find_their_incident() {
        let names = [
            ("x8yn6h", "checkout-latency"),
            ("k3f9x2", "db-failover-stuck"),
            ("m7q2ab", "login-errors"),
        ];
        let find = |q: &str| closest(q, names.iter().copied());
        assert_eq!(find("x8yb6h"), [0]);
        assert_eq!(find("k3g9"), [1]);
        assert_eq!(find("chekout"), [0]);
        assert_eq!(find("failovr"), [1]);
        assert!(find("zzzz").is_empty());
        assert!(find("x8").is_empty());
    }

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
