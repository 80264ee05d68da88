//! Whether and when a postmortem was published, and what `show` and
//! `close` say about its review.
//!
//! Published means the postmortem is on the default branch: in this flow
//! no unreviewed draft ever is (it lives on its review branch until the
//! review merges). The publishing commit is the first-parent commit of the
//! default branch that brought it there: a merge commit, a squash commit, or
//! the last of the commits a rebase merge put there. Finding it means
//! walking back from the branch's tip while the postmortem (and, when there
//! is one, the review's status event) is there, which `show` must not pay
//! every time: a `postmortem_published` milestone that `close` recorded
//! answers without history, and otherwise the answer is kept in
//! `.git/incident/publications-v1` with the tip it was checked at, where the
//! next walk stops. Deleting that file is always safe.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use git2::{Commit, Oid, Tree};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::event::{Change, Event};
use crate::model::incident::Incident;
use crate::ops::postmortem::postmortem_path;
use crate::ops::review::REVIEW_STATE;
use crate::ops::review_branch::ReviewBranch;
use crate::store::{DATA_DIR, EVENTS_DIR, FolderRef, Store};
use crate::time::Timestamp;

/// The milestone publication sets.
pub const PUBLISHED_MILESTONE: &str = "postmortem_published";
const CACHE_FILE: &str = "incident/publications-v1";

/// When and where a postmortem reached the default branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    pub branch: String,
    /// The commit that brought it, when this clone knows it.
    pub commit: Option<Oid>,
    /// The committer time of that commit (or the milestone `close` recorded).
    pub at: Timestamp,
}

/// What a repository knows about an incident's postmortem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostmortemState {
    None,
    /// Due (`resolve` recorded it), and no draft has been written yet.
    Due {
        branch: String,
    },
    /// On the current branch but neither on the default branch nor on a
    /// review branch (written on a branch of one's own).
    Draft {
        path: String,
    },
    /// The draft and its revisions on the review branch; `on_remote` when
    /// the remote has the branch (as last fetched).
    InReview {
        path: String,
        branch: String,
        on_remote: bool,
    },
    Published {
        path: String,
        publication: Publication,
    },
}

pub fn commit_time(commit: &Commit<'_>) -> Timestamp {
    let time = commit.time();
    let offset = FixedOffset::east_opt(time.offset_minutes() * 60)
        .or_else(|| FixedOffset::east_opt(0))
        .unwrap_or_else(|| DateTime::UNIX_EPOCH.fixed_offset().timezone());
    DateTime::from_timestamp(time.seconds(), 0)
        .unwrap_or_default()
        .with_timezone(&offset)
}

/// The default branch's name and tip: the config's `default_branch`, else
/// the remote's HEAD, else `init.defaultBranch`, `main` or `master`. The
/// local branch when there is one, else the remote-tracking one.
pub fn default_branch(store: &Store, config: &Config) -> Result<Option<(String, Oid)>> {
    let repo = &store.repo;
    let remote = &config.postmortem.remote;
    let mut candidates = Vec::new();
    if !config.postmortem.default_branch.trim().is_empty() {
        candidates.push(config.postmortem.default_branch.trim().to_string());
    } else {
        if let Ok(reference) = repo.find_reference(&format!("refs/remotes/{remote}/HEAD"))
            && let Ok(Some(target)) = reference.symbolic_target()
            && let Some(name) = target.strip_prefix(&format!("refs/remotes/{remote}/"))
        {
            candidates.push(name.to_string());
        }
        if let Ok(name) = repo
            .config()
            .and_then(|c| c.get_string("init.defaultBranch"))
        {
            candidates.push(name);
        }
        candidates.push("main".into());
        candidates.push("master".into());
    }
    for name in candidates {
        for reference in [
            format!("refs/heads/{name}"),
            format!("refs/remotes/{remote}/{name}"),
        ] {
            if let Ok(found) = repo.find_reference(&reference)
                && let Ok(commit) = found.peel_to_commit()
            {
                return Ok(Some((name, commit.id())));
            }
        }
    }
    Ok(None)
}

/// The tree of the default branch's tip, if there is a default branch.
pub fn default_tree<'r>(store: &'r Store, config: &Config) -> Result<Option<Tree<'r>>> {
    match default_branch(store, config)? {
        Some((_, tip)) => Ok(Some(store.repo.find_commit(tip)?.tree()?)),
        None => Ok(None),
    }
}

/// The newest status event into the review state, as a path in the folder.
fn review_event_path(store: &Store, tree: &Tree<'_>, folder: &FolderRef) -> Result<Option<String>> {
    let (_, events) = match store.read_files(tree, folder) {
        Ok(found) => found,
        Err(Error::Invalid { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut reviews: Vec<&Event> = events
        .iter()
        .filter(|e| matches!(&e.change, Change::Status { to, .. } if to == REVIEW_STATE))
        .collect();
    reviews.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    Ok(reviews
        .last()
        .map(|e| format!("{}/{EVENTS_DIR}/{}.toml", folder.path, e.id)))
}

fn has_path(tree: &Tree<'_>, path: &str) -> bool {
    tree.get_path(Path::new(path)).is_ok()
}

/// One remembered publication.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Remembered {
    id: String,
    branch: String,
    /// The review event's file name, or `-`: what the walk looked for.
    marker: String,
    commit: Oid,
    /// The tip at which `commit` was last known to be the publishing one.
    verified_at: Oid,
}

fn cache_path(store: &Store) -> PathBuf {
    store.repo.commondir().join(CACHE_FILE)
}

fn read_cache(path: &Path) -> Vec<Remembered> {
    let Ok(text) = fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split(' ');
            let remembered = Remembered {
                id: fields.next()?.to_string(),
                branch: fields.next()?.to_string(),
                marker: fields.next()?.to_string(),
                commit: Oid::from_str(fields.next()?).ok()?,
                verified_at: Oid::from_str(fields.next()?).ok()?,
            };
            fields.next().is_none().then_some(remembered)
        })
        .collect()
}

/// Remember `entry` (replacing the incident's old one); a cache that
/// cannot be written is only slower next time.
fn remember(path: &Path, entry: Remembered) {
    let mut all = read_cache(path);
    all.retain(|r| !(r.id == entry.id && r.branch == entry.branch));
    all.push(entry);
    let text: String = all
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {} {}\n",
                r.id, r.branch, r.marker, r.commit, r.verified_at
            )
        })
        .collect();
    // A cache: one that cannot be written is only slower next time.
    let _ = crate::store::ownfiles::write(path, text.as_bytes());
}

/// A commit's tree and first parent, read from its raw object (cheaper than
/// libgit2's parsed commits, which a long walk pays for every commit).
fn commit_links(
    repo: &git2::Repository,
    odb: &git2::Odb<'_>,
    id: Oid,
) -> Result<(Oid, Option<Oid>)> {
    let object = odb.read(id)?;
    let mut tree = None;
    let mut parent = None;
    for line in object.data().split(|&b| b == b'\n') {
        if line.is_empty() {
            break;
        }
        let hex = |rest: &[u8]| {
            std::str::from_utf8(rest)
                .ok()
                .and_then(|t| Oid::from_str(t).ok())
        };
        if let Some(rest) = line.strip_prefix(b"tree ") {
            tree = hex(rest);
        } else if let Some(rest) = line.strip_prefix(b"parent ")
            && parent.is_none()
        {
            parent = hex(rest);
        }
    }
    match tree {
        Some(tree) => Ok((tree, parent)),
        None => {
            let commit = repo.find_commit(id)?;
            Ok((commit.tree_id(), commit.parent_id(0).ok()))
        }
    }
}

/// The id of the `incidents` entry of a tree, read from its raw object.
fn incidents_tree(odb: &git2::Odb<'_>, tree: Oid) -> Result<Option<Oid>> {
    let object = odb.read(tree)?;
    let mut rest = object.data();
    // Entries: `<mode> <name>\0<20-byte id>`.
    while let Some(nul) = rest.iter().position(|&b| b == 0) {
        let (head, tail) = rest.split_at(nul);
        let Some(id) = tail.get(1..21) else { break };
        if head.split(|&b| b == b' ').nth(1) == Some(DATA_DIR.as_bytes()) {
            return Ok(Oid::from_bytes(id).ok());
        }
        rest = &tail[21..];
    }
    Ok(None)
}

/// Walk first parents back from `tip` while every one of `markers` is
/// there: the last such commit brought them. Commits whose `incidents`
/// tree is the one of the commit after them are passed without a look
/// inside. Stops early at `known` (a tip where the answer was `answer`),
/// and at the edge of a shallow clone.
fn walk(store: &Store, tip: Oid, markers: &[String], known: Option<(Oid, Oid)>) -> Result<Oid> {
    let repo = &store.repo;
    let odb = repo.odb()?;
    let (tree, mut parent) = commit_links(repo, &odb, tip)?;
    let mut publishing = tip;
    let mut incidents = incidents_tree(&odb, tree)?;
    loop {
        if let Some((verified_at, answer)) = known
            && publishing == verified_at
        {
            return Ok(answer);
        }
        let Some(candidate) = parent else {
            break;
        };
        let Ok((tree, next)) = commit_links(repo, &odb, candidate) else {
            break;
        };
        let here = incidents_tree(&odb, tree)?;
        if here.is_none() {
            break;
        }
        if here != incidents {
            let tree = repo.find_tree(tree)?;
            if !markers.iter().all(|m| has_path(&tree, m)) {
                break;
            }
        }
        incidents = here;
        publishing = candidate;
        parent = next;
    }
    Ok(publishing)
}

/// Whether, when and by which commit the postmortem reached the default
/// branch. `incident` is the incident as the caller read it: a recorded
/// `postmortem_published` milestone answers without history.
pub fn publication(
    store: &Store,
    config: &Config,
    folder: &FolderRef,
    incident: &Incident,
) -> Result<Option<Publication>> {
    let Some((branch, tip)) = default_branch(store, config)? else {
        return Ok(None);
    };
    let repo = &store.repo;
    let tip_tree = repo.find_commit(tip)?.tree()?;
    let path = postmortem_path(&folder.path);
    if !has_path(&tip_tree, &path) {
        return Ok(None);
    }
    let cache = cache_path(store);
    let remembered = read_cache(&cache)
        .into_iter()
        .find(|r| r.id == folder.id && r.branch == branch);
    if let Some(milestone) = incident.milestones.get(PUBLISHED_MILESTONE)
        && milestone.is_recorded()
    {
        return Ok(Some(Publication {
            branch,
            commit: remembered.map(|r| r.commit),
            at: milestone.at,
        }));
    }
    let event = review_event_path(store, &tip_tree, folder)?;
    let marker = event
        .as_deref()
        .and_then(|e| e.rsplit('/').next())
        .unwrap_or("-")
        .to_string();
    let mut markers = vec![path];
    markers.extend(event);
    let known = remembered
        .filter(|r| r.marker == marker && repo.find_commit(r.commit).is_ok())
        .map(|r| (r.verified_at, r.commit));
    let commit = walk(store, tip, &markers, known)?;
    if known != Some((tip, commit)) {
        remember(
            &cache,
            Remembered {
                id: folder.id.clone(),
                branch: branch.clone(),
                marker,
                commit,
                verified_at: tip,
            },
        );
    }
    Ok(Some(Publication {
        branch,
        commit: Some(commit),
        at: commit_time(&repo.find_commit(commit)?),
    }))
}

/// The postmortem's state, for `show` and `close`; `tree` is HEAD's.
pub fn state(
    store: &Store,
    config: &Config,
    tree: &Tree<'_>,
    folder: &FolderRef,
    incident: &Incident,
) -> Result<PostmortemState> {
    let path = postmortem_path(&folder.path);
    if let Some(publication) = publication(store, config, folder, incident)? {
        return Ok(PostmortemState::Published { path, publication });
    }
    let branch = ReviewBranch::new(store, &folder.id, &config.postmortem.remote);
    let on_remote = branch.remote_tip()?.is_some();
    if on_remote || branch.local()?.is_some() {
        return Ok(PostmortemState::InReview {
            path,
            branch: branch.name,
            on_remote,
        });
    }
    if has_path(tree, &path) {
        return Ok(PostmortemState::Draft { path });
    }
    if let Some(due) = &incident.postmortem_due {
        return Ok(PostmortemState::Due {
            branch: due.branch.clone(),
        });
    }
    Ok(PostmortemState::None)
}
