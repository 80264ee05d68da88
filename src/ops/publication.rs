//! Whether and when a postmortem was published, and what `show` and
//! `close` say about its review.
//!
//! Published means the postmortem is on the default branch: in this flow
//! no unreviewed draft ever is (it lives on its review branch until the
//! review merges). The publishing commit is the first-parent commit of the
//! default branch that brought it there: a merge commit, a squash commit, or
//! the last of the commits a rebase merge put there. Finding it means
//! finding the oldest first-parent commit since which the postmortem (and,
//! when there is one, the review's status event) has been there, which
//! `show` must not pay for in reading every commit: a `postmortem_published`
//! milestone that `close` recorded answers without history; otherwise the
//! line is bisected (see [`first_parents`]: listed from git's commit-graph
//! where there is one, about 2·log₂(n) trees read), and the answer is kept
//! in `.git/incident/publications-v1` with the tip it was checked at, where
//! the next search stops. Deleting that file is always safe. Bisection
//! rests on a publication staying published: a postmortem taken off the
//! branch and put back counts from one of its arrivals.
//!
//! A shallow clone may not hold the publishing commit: when the walk reaches
//! the edge of the clone's history with the postmortem still there, the
//! publication time is unknown (never the edge commit's time), and nothing
//! learned from that walk is remembered.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use git2::{Commit, Oid, Tree};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::event::{Change, Event};
use crate::model::incident::Incident;
use crate::ops::first_parents::{self, LineEnd};
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
    pub published: PublishedAt,
}

/// When a postmortem reached the default branch, as far as this clone can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishedAt {
    /// The commit that brought it (when this clone knows it) and that
    /// commit's committer time, or the milestone `close` recorded.
    Known { commit: Option<Oid>, at: Timestamp },
    /// This clone's history ends before the commit that brought it.
    Unknown(HistoryEdge),
}

/// Where a walk back through the default branch ran out of history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryEdge {
    /// The oldest commit of the branch this clone has on that line.
    pub commit: Oid,
    /// A shallow clone (else the parent is missing: a damaged clone).
    pub shallow: bool,
}

impl HistoryEdge {
    /// Why `what` is unknown, and how to learn it.
    pub fn explain(&self, branch: &str, what: &str) -> String {
        let commit = &self.commit.to_string()[..10];
        if self.shallow {
            format!(
                "this is a shallow clone whose history of {branch} ends at commit {commit} with the postmortem already there, so {what} is unknown; run `git fetch --unshallow` to fetch the rest of the history"
            )
        } else {
            format!(
                "the parent of commit {commit} on {branch} is missing from this repository, so {what} is unknown; `git fsck` says what else is missing"
            )
        }
    }
}

impl Publication {
    /// The publication time, when this clone knows it.
    pub fn at(&self) -> Option<Timestamp> {
        match self.published {
            PublishedAt::Known { at, .. } => Some(at),
            PublishedAt::Unknown(_) => None,
        }
    }

    /// The publishing commit, when this clone knows it.
    pub fn commit(&self) -> Option<Oid> {
        match self.published {
            PublishedAt::Known { commit, .. } => commit,
            PublishedAt::Unknown(_) => None,
        }
    }

    /// Why the publication time is unknown, when it is.
    pub fn unknown_time(&self) -> Option<String> {
        match self.published {
            PublishedAt::Known { .. } => None,
            PublishedAt::Unknown(edge) => Some(edge.explain(
                &self.branch,
                "the commit that published it (and so its time)",
            )),
        }
    }
}

/// Where a walk back through the default branch ended: at the commit it
/// looked for, or at the edge of this clone's history before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    Commit(Oid),
    Edge(HistoryEdge),
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

/// One remembered walk: a publication, or the arrival of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Remembered {
    id: String,
    branch: String,
    /// What the walk looked for: the review event's file name, or `-`, for
    /// the publication; `text:<blob id>` for the arrival of that text.
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

const TEXT_MARKER: &str = "text:";

impl Remembered {
    /// Whether two entries answer the same question (about different tips).
    fn same_question(&self, id: &str, branch: &str, marker: &str) -> bool {
        self.id == id
            && self.branch == branch
            && self.marker.starts_with(TEXT_MARKER) == marker.starts_with(TEXT_MARKER)
    }
}

/// Remember `entry` (replacing the incident's old one of its kind); a
/// cache that cannot be written is only slower next time.
fn remember(path: &Path, entry: Remembered) {
    let mut all = read_cache(path);
    all.retain(|r| !r.same_question(&entry.id, &entry.branch, &entry.marker));
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
pub(crate) fn commit_links(
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

/// The commits at the edge of a shallow clone's history: git's list of
/// them, `shallow` in the repository's git directory (none when absent).
pub(crate) fn shallow_boundary(repo: &git2::Repository) -> Vec<Oid> {
    if !repo.is_shallow() {
        return Vec::new();
    }
    fs::read_to_string(repo.commondir().join("shallow"))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| Oid::from_str(line.trim()).ok())
        .collect()
}

/// Walk first parents back from `tip` while `keep` holds for each commit's
/// tree: the last such commit is the answer. Commits whose `incidents` tree
/// is the one of the commit after them are passed without a look inside.
/// Stops early at `known` (a tip where the answer was `answer`), and says
/// so when it reaches the edge of this clone's history (a shallow clone)
/// with `keep` still holding: the answer is older than what is here.
fn walk(
    store: &Store,
    tip: Oid,
    keep: &dyn Fn(&Tree<'_>) -> bool,
    known: Option<(Oid, Oid)>,
) -> Result<Arrival> {
    let repo = &store.repo;
    let odb = repo.odb()?;
    let boundary = shallow_boundary(repo);
    let (tree, mut parent) = commit_links(repo, &odb, tip)?;
    let mut publishing = tip;
    let mut incidents = incidents_tree(&odb, tree)?;
    loop {
        if let Some((verified_at, answer)) = known
            && publishing == verified_at
        {
            return Ok(Arrival::Commit(answer));
        }
        // A shallow clone's boundary commits name parents that git treats
        // as absent, whether or not their objects happen to be here.
        if boundary.contains(&publishing) {
            return Ok(Arrival::Edge(HistoryEdge {
                commit: publishing,
                shallow: true,
            }));
        }
        let Some(candidate) = parent else {
            break;
        };
        if !odb.exists(candidate) {
            return Ok(Arrival::Edge(HistoryEdge {
                commit: publishing,
                shallow: repo.is_shallow(),
            }));
        }
        let (tree, next) = commit_links(repo, &odb, candidate)?;
        let here = incidents_tree(&odb, tree)?;
        if here.is_none() {
            break;
        }
        if here != incidents && !keep(&repo.find_tree(tree)?) {
            break;
        }
        incidents = here;
        publishing = candidate;
        parent = next;
    }
    Ok(Arrival::Commit(publishing))
}

/// A search back from `tip` (given what the cache knows: a tip where the
/// answer was known, and that answer) with its answer kept in the cache for
/// the next time, unless the search ran out of history.
fn remembered(
    store: &Store,
    folder: &FolderRef,
    branch: &str,
    tip: Oid,
    marker: String,
    search: impl FnOnce(Option<(Oid, Oid)>) -> Result<Arrival>,
) -> Result<Arrival> {
    let cache = cache_path(store);
    let known = read_cache(&cache)
        .into_iter()
        .find(|r| r.same_question(&folder.id, branch, &marker))
        .filter(|r| r.marker == marker && store.repo.find_commit(r.commit).is_ok())
        .map(|r| (r.verified_at, r.commit));
    let arrival = search(known)?;
    if let Arrival::Commit(commit) = arrival
        && known != Some((tip, commit))
    {
        remember(
            &cache,
            Remembered {
                id: folder.id.clone(),
                branch: branch.to_string(),
                marker,
                commit,
                verified_at: tip,
            },
        );
    }
    Ok(arrival)
}

/// The oldest first-parent commit from which `keep` has held up to `tip`,
/// found by bisecting the line (see [`first_parents`]): a publication
/// stays on the branch, so `keep` holds on one stretch back from the tip.
/// Reaching `known`'s tip, where the answer was known, answers at once.
fn bisected(
    store: &Store,
    tip: Oid,
    keep: &dyn Fn(&Tree<'_>) -> bool,
    known: Option<(Oid, Oid)>,
) -> Result<Arrival> {
    let repo = &store.repo;
    let line = first_parents::line(repo, tip, known.map(|(verified_at, _)| verified_at))?;
    let oldest = first_parents::oldest_holding(repo, &line, keep)?;
    let at_end = oldest + 1 == line.len();
    Ok(match (at_end, line.end, known) {
        (true, LineEnd::Stopped, Some((_, answer))) => Arrival::Commit(answer),
        (true, LineEnd::Edge(edge), _) => Arrival::Edge(edge),
        _ => Arrival::Commit(line.ids(oldest)?.0),
    })
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
    let event = review_event_path(store, &tip_tree, folder)?;
    let marker = event
        .as_deref()
        .and_then(|e| e.rsplit('/').next())
        .unwrap_or("-")
        .to_string();
    if let Some(milestone) = incident.milestones.get(PUBLISHED_MILESTONE)
        && milestone.is_recorded()
    {
        let commit = read_cache(&cache_path(store))
            .into_iter()
            .find(|r| r.same_question(&folder.id, &branch, &marker))
            .map(|r| r.commit);
        return Ok(Some(Publication {
            branch,
            published: PublishedAt::Known {
                commit,
                at: milestone.at,
            },
        }));
    }
    let mut markers = vec![path];
    markers.extend(event);
    let keep = |tree: &Tree<'_>| markers.iter().all(|m| has_path(tree, m));
    let search = |known| bisected(store, tip, &keep, known);
    let published = match remembered(store, folder, &branch, tip, marker, search)? {
        Arrival::Commit(commit) => PublishedAt::Known {
            commit: Some(commit),
            at: commit_time(&repo.find_commit(commit)?),
        },
        Arrival::Edge(edge) => PublishedAt::Unknown(edge),
    };
    Ok(Some(Publication { branch, published }))
}

/// The commit of the default branch that brought the postmortem's text as
/// it is there now (the first-parent commit since which the file has not
/// changed): the action items as they stood then are the ones the
/// published text must list. `None` when the default branch has no
/// postmortem for the incident.
pub fn text_arrival(
    store: &Store,
    config: &Config,
    folder: &FolderRef,
) -> Result<Option<(String, Arrival)>> {
    let Some((branch, tip)) = default_branch(store, config)? else {
        return Ok(None);
    };
    let path = postmortem_path(&folder.path);
    let Ok(entry) = store
        .repo
        .find_commit(tip)?
        .tree()?
        .get_path(Path::new(&path))
    else {
        return Ok(None);
    };
    let blob = entry.id();
    let keep = |tree: &Tree<'_>| {
        tree.get_path(Path::new(&path))
            .is_ok_and(|found| found.id() == blob)
    };
    let marker = format!("{TEXT_MARKER}{blob}");
    // A text can come back (a revert of an edit): walked commit by commit.
    let search = |known| walk(store, tip, &keep, known);
    let arrival = remembered(store, folder, &branch, tip, marker, search)?;
    Ok(Some((branch, arrival)))
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
