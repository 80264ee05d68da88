//! `incident hooks run --since REV`: the central notifier. Run in one place
//! (CI on the default branch), it fires the hooks for every event that
//! reached the branch after REV, so each event notifies once, however many
//! clones recorded or pulled it. A high-water mark, the ref
//! `refs/incident/hooks-notified/<branch>`, remembers how far it got: a
//! second run over the same range fires nothing. Being a ref, it can be
//! pushed and fetched like any other (`git push origin 'refs/incident/*'`),
//! for CI jobs that start from a fresh clone.

use git2::Oid;

use crate::error::{Error, Result};
use crate::store::Store;

const MARK_PREFIX: &str = "refs/incident/hooks-notified/";

/// The mark's ref for the current branch.
fn mark_ref(store: &Store) -> Result<String> {
    let head = store.repo.find_reference("HEAD")?;
    let branch = head
        .symbolic_target()
        .ok()
        .flatten()
        .ok_or(Error::DetachedHead)?
        .trim_start_matches("refs/heads/")
        .to_string();
    Ok(format!("{MARK_PREFIX}{branch}"))
}

/// The range to notify.
#[derive(Debug)]
pub struct Pending {
    /// First-parent commits after the base, oldest first.
    pub commits: Vec<Oid>,
    /// Where the range starts: REV, or the mark when it is further on.
    pub base: Oid,
    pub tip: Oid,
    /// The mark, when it moved the start past REV.
    pub from_mark: bool,
}

/// The commits to notify: after `since` (a revision), or after the mark
/// when it lies further along the branch.
pub fn pending(store: &Store, since: Option<&str>) -> Result<Pending> {
    let tip = store.repo.head()?.peel_to_commit()?.id();
    let since = since
        .map(|rev| {
            crate::export::commit_of(store, rev).ok_or_else(|| Error::InvalidInput {
                    message: format!(
                        "--since '{rev}' names no commit here; give a commit id, tag or branch (in CI, the commit before the push)"
                    ),
                })
        })
        .transpose()?;
    let mark = store
        .repo
        .find_reference(&mark_ref(store)?)
        .ok()
        .and_then(|r| r.target())
        .filter(|m| *m == tip || store.repo.graph_descendant_of(tip, *m).unwrap_or(false));
    let (base, from_mark) = match (since, mark) {
        (Some(s), Some(m)) if m == s || store.repo.graph_descendant_of(m, s)? => (m, m != s),
        (Some(s), _) => (s, false),
        (None, Some(m)) => (m, true),
        (None, None) => {
            return Err(Error::Usage {
                message: "no high-water mark yet: give --since REV the first time (for example --since HEAD~1, or in CI the commit before the push)".into(),
            });
        }
    };
    Ok(Pending {
        commits: super::payload::commits_since(store, base, tip)?,
        base,
        tip,
        from_mark,
    })
}

/// Record that everything up to `tip` was notified.
pub fn advance(store: &Store, tip: Oid) -> Result<()> {
    store
        .repo
        .reference(&mark_ref(store)?, tip, true, "incident hooks run")?;
    Ok(())
}
