//! What read commands derive from each incident folder (`list`'s
//! summaries, `actions`' items, `check`'s findings), kept in
//! `.git/incident/*-cache-v1` by the folder's path and tree id.
//!
//! A tree id names its content, so an entry is never stale: an incident
//! changed in any way (by incident, by hand, by a merge) has a new tree id
//! and is read again. What the value also depends on is in the file's
//! stamp: the config, this very build of incident (its size and time, so a
//! rebuilt binary with another replay never trusts an older file) and the
//! time zone. The file carries a checksum of its body; a file that is
//! missing, of another stamp, damaged or not a regular file (a FIFO must
//! not hang the command) is ignored and rewritten. Entries not asked for in
//! the last run are dropped. Deleting the files is always safe.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use git2::{ObjectType, Oid, Repository};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::model::action::Action;
use crate::model::event::Person;
use crate::model::incident::{Incident, Milestone, MilestoneSource, PostmortemDue};
use crate::store::ownfiles;
use crate::time::Timestamp;

/// Bump when what any of the caches stores changes meaning.
const FORMAT: u32 = 1;

/// One cache file: values by folder path, each valid for one tree id.
pub struct DerivedCache<T> {
    file: PathBuf,
    /// `None` when this build cannot name itself: nothing is then read or saved.
    stamp: Option<String>,
    entries: HashMap<String, Entry<T>>,
    changed: bool,
    /// Why the file could not be read (a FIFO in its place), for a warning.
    unreadable: Option<String>,
}

struct Entry<T> {
    tree: Oid,
    value: T,
    used: bool,
}

impl<T: Serialize + DeserializeOwned> DerivedCache<T> {
    /// The cache `name` (`list`, `actions`, `check`) in `git_dir`, valid for
    /// values derived under `depends_on` (for example the config's key).
    pub fn load(git_dir: &Path, name: &str, depends_on: &str) -> DerivedCache<T> {
        let file = git_dir.join(format!("incident/{name}-cache-v{FORMAT}"));
        let stamp = build_identity().map(|build| {
            // Times shown in the local zone (`timezone = "local"`) follow these.
            let zone = format!(
                "{} {}",
                std::env::var("TZ").unwrap_or_default(),
                local_zone_file()
            );
            hash(format!("{name}\n{FORMAT}\n{build}\n{zone}\n{depends_on}").as_bytes())
        });
        let mut unreadable = None;
        let entries = stamp
            .as_deref()
            .and_then(|stamp| match ownfiles::read(&file) {
                Ok(bytes) => read_entries(bytes?, stamp),
                Err(e) => {
                    unreadable = Some(format!("the {name} cache was skipped: {e}"));
                    None
                }
            })
            .unwrap_or_default();
        DerivedCache {
            file,
            stamp,
            entries,
            changed: false,
            unreadable,
        }
    }

    /// The value for the folder at `path` whose tree is `tree`: from the
    /// file when it holds one for that tree, else `derive`d and kept
    /// (errors are returned, never kept).
    pub fn get_or_derive(
        &mut self,
        path: &str,
        tree: Oid,
        derive: impl FnOnce() -> Result<T>,
    ) -> Result<&T> {
        let fresh = match self.entries.get(path) {
            Some(entry) if entry.tree == tree => None,
            _ => Some(derive()?),
        };
        if let Some(value) = fresh {
            self.insert(path, tree, value);
        }
        let entry =
            self.entries
                .get_mut(path)
                .ok_or_else(|| crate::error::Error::InvalidInput {
                    message: format!("internal error: no cache entry for {path}"),
                })?;
        entry.used = true;
        Ok(&entry.value)
    }

    /// Whether the file holds a value for the folder at `path` whose tree
    /// is `tree`.
    pub fn has(&self, path: &str, tree: Oid) -> bool {
        self.entries.get(path).is_some_and(|e| e.tree == tree)
    }

    /// Keep `value`, derived now for the folder at `path` whose tree is `tree`.
    pub fn insert(&mut self, path: &str, tree: Oid, value: T) {
        self.changed = true;
        self.entries.insert(
            path.to_string(),
            Entry {
                tree,
                value,
                used: true,
            },
        );
    }

    /// The value for the folder at `path` whose tree is `tree`, if held.
    pub fn get(&mut self, path: &str, tree: Oid) -> Option<&T> {
        let entry = self.entries.get_mut(path).filter(|e| e.tree == tree)?;
        entry.used = true;
        Some(&entry.value)
    }

    /// Write the entries used in this run, when anything changed. A cache
    /// that cannot be written is left alone: the next run derives again.
    /// The warning to show when the file was no cache file (a FIFO).
    pub fn save(self) -> Option<String> {
        if self.unreadable.is_some() {
            return self.unreadable;
        }
        let stamp = self.stamp.as_ref()?;
        let unused = self.entries.values().any(|e| !e.used);
        if !self.changed && !unused {
            return None;
        }
        let mut kept: Vec<(&String, String, &T)> = self
            .entries
            .iter()
            .filter(|(path, e)| e.used && !path.contains('\n'))
            .map(|(path, e)| (path, e.tree.to_string(), &e.value))
            .collect();
        kept.sort_by(|a, b| a.0.cmp(b.0));
        let Ok(body) = serde_json::to_vec(&kept) else {
            return None;
        };
        // A cache: one that cannot be written (a FIFO or a link in its
        // place, a full disk) is only slower next time.
        let _ = ownfiles::write_with(&self.file, |out| {
            write!(out, "{HEADER}\n{stamp}\n{}\n", checksum(&body))?;
            out.write_all(&body)
        });
        None
    }
}

const HEADER: &str = "incident derived cache";

/// The entries of a cache file's `bytes`, if it is of this stamp and its
/// body matches its checksum.
fn read_entries<T: DeserializeOwned>(
    bytes: Vec<u8>,
    stamp: &str,
) -> Option<HashMap<String, Entry<T>>> {
    let mut lines = bytes.splitn(4, |b| *b == b'\n');
    let (header, file_stamp, checksum, body) =
        (lines.next()?, lines.next()?, lines.next()?, lines.next()?);
    if header != HEADER.as_bytes()
        || file_stamp != stamp.as_bytes()
        || checksum != self::checksum(body).as_bytes()
    {
        return None;
    }
    let kept: Vec<(String, String, T)> = serde_json::from_slice(body).ok()?;
    kept.into_iter()
        .map(|(path, tree, value)| {
            let tree = Oid::from_str(&tree).ok()?;
            Some((
                path,
                Entry {
                    tree,
                    value,
                    used: false,
                },
            ))
        })
        .collect()
}

/// git's object hash of `bytes`, in hex.
fn hash(bytes: &[u8]) -> String {
    Oid::hash_object(ObjectType::Blob, bytes)
        .map(|oid| oid.to_string())
        .unwrap_or_default()
}

/// What names the machine's zone when `TZ` does not: the target of
/// `/etc/localtime`, or, when it is a copied file, its size and time.
fn local_zone_file() -> String {
    let path = Path::new("/etc/localtime");
    if let Ok(target) = std::fs::read_link(path) {
        return format!("-> {}", target.display());
    }
    std::fs::metadata(path)
        .map(|meta| {
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{} {modified}", meta.len())
        })
        .unwrap_or_default()
}

/// A checksum of a cache body, against damage (not against tampering:
/// whoever can write `.git` can write the objects too). SipHash with fixed
/// keys: several times faster than git's collision-detecting SHA-1 on the
/// megabytes of a large repository's cache. Its algorithm may change with
/// the Rust version, but the build is in the stamp.
#[allow(deprecated)]
fn checksum(bytes: &[u8]) -> String {
    use std::hash::Hasher;
    let mut hasher = std::hash::SipHasher::new();
    hasher.write(bytes);
    format!("{:016x} {}", hasher.finish(), bytes.len())
}

/// This build of incident: its version, and the size and modification time
/// of the running binary.
fn build_identity() -> Option<&'static str> {
    static IDENTITY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    IDENTITY
        .get_or_init(|| {
            let exe = std::env::current_exe().ok()?;
            let meta = std::fs::metadata(exe).ok()?;
            let modified = meta
                .modified()
                .ok()?
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?;
            Some(format!(
                "{} {} {}",
                env!("CARGO_PKG_VERSION"),
                meta.len(),
                modified.as_nanos()
            ))
        })
        .as_deref()
}

/// Folders derived in one run below which threads are not worth starting.
const THREAD_MIN_ITEMS: usize = 64;

/// `finish(read(item))` for each of `items`, in order, with the reading on
/// the calling thread (the only one that uses `repo`) and the finishing on
/// another, so that parsing one folder overlaps reading the next. libgit2
/// serialises pack reads across threads, so readers on every core measured
/// no faster than one; a reader and a parser side by side are.
pub fn pipelined<I: Sync, R: Send, T: Send>(
    repo: &Repository,
    items: &[I],
    read: impl Fn(&Repository, &I) -> R,
    finish: impl Fn(R, &I) -> T + Sync,
) -> Vec<T> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 || items.len() < THREAD_MIN_ITEMS {
        return items
            .iter()
            .map(|item| finish(read(repo, item), item))
            .collect();
    }
    let finish = &finish;
    std::thread::scope(|scope| {
        // Handed over in batches: a wake-up of the parser per item cost a
        // tenth of a cold `check` in context switches. Bounded: a reader
        // far ahead of the parser would only hold memory.
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<(usize, R)>>(8);
        let parser = scope.spawn(move || {
            receive
                .into_iter()
                .flatten()
                .map(|(at, raw)| finish(raw, &items[at]))
                .collect::<Vec<T>>()
        });
        let mut handed = 0;
        let mut batch = Vec::with_capacity(PIPELINE_BATCH);
        for (at, item) in items.iter().enumerate() {
            batch.push((at, read(repo, item)));
            if batch.len() == PIPELINE_BATCH || at + 1 == items.len() {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(PIPELINE_BATCH));
                if send.send(full).is_err() {
                    break;
                }
                handed = at + 1;
            }
        }
        drop(send);
        match parser.join() {
            Ok(mut done) if done.len() == handed => {
                // Anything the parser did not take (it stopped) is done here.
                done.extend(
                    items[handed..]
                        .iter()
                        .map(|item| finish(read(repo, item), item)),
                );
                done
            }
            Ok(_) | Err(_) => items
                .iter()
                .map(|item| finish(read(repo, item), item))
                .collect(),
        }
    })
}

/// Items read before the parser is handed them.
const PIPELINE_BATCH: usize = 32;

/// `derive` applied to each of `items`, in order. Many items are split
/// over the machine's cores (at most 4), each thread with its own handle on
/// the repository in `git_dir` (a [`Repository`] is not shared between
/// threads); the calling thread uses `repo`. A thread that cannot open the
/// repository leaves its share to the calling thread.
pub fn map_in_threads<I: Sync, T: Send>(
    repo: &Repository,
    items: &[I],
    derive: impl Fn(&Repository, &I) -> T + Sync,
) -> Vec<T> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(4).min(items.len() / THREAD_MIN_ITEMS).max(1);
    if threads == 1 {
        return items.iter().map(|item| derive(repo, item)).collect();
    }
    let git_dir = repo.path();
    let size = items.len().div_ceil(threads);
    let mut chunks = items.chunks(size);
    let first = chunks.next().unwrap_or_default();
    let derive = &derive;
    std::thread::scope(|scope| {
        let others: Vec<_> = chunks
            .map(|chunk| {
                scope.spawn(move || {
                    let repo = Repository::open(git_dir).ok()?;
                    Some(
                        chunk
                            .iter()
                            .map(|item| derive(&repo, item))
                            .collect::<Vec<T>>(),
                    )
                })
            })
            .collect();
        let mut all: Vec<T> = first.iter().map(|item| derive(repo, item)).collect();
        for (n, handle) in others.into_iter().enumerate() {
            let chunk = items.chunks(size).nth(n + 1).unwrap_or_default();
            match handle.join().ok().flatten() {
                Some(done) => all.extend(done),
                None => all.extend(chunk.iter().map(|item| derive(repo, item))),
            }
        }
        all
    })
}

/// A time as (seconds, nanoseconds, UTC offset in seconds): exactly what
/// was derived, offset included, with nothing to parse.
mod exact_time {
    use chrono::{DateTime, FixedOffset};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::time::Timestamp;

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        (
            t.timestamp(),
            t.timestamp_subsec_nanos(),
            t.offset().local_minus_utc(),
        )
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let (seconds, nanos, offset) = <(i64, u32, i32)>::deserialize(d)?;
        let offset = FixedOffset::east_opt(offset)
            .ok_or_else(|| serde::de::Error::custom("offset out of range"))?;
        DateTime::from_timestamp(seconds, nanos)
            .map(|t| t.with_timezone(&offset))
            .ok_or_else(|| serde::de::Error::custom("time out of range"))
    }

    pub mod option {
        use super::*;

        #[derive(Serialize, Deserialize)]
        struct Wrapped(#[serde(with = "super")] Timestamp);

        pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
            t.map(Wrapped).serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
            Ok(Option::<Wrapped>::deserialize(d)?.map(|Wrapped(t)| t))
        }
    }
}

/// An incident as `list` shows it: what [`Incident::replay`] gave, less the
/// timeline, the status changes, the anomalies, the comms updates and how
/// assumed times are known (which `list` never shows).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    id: String,
    folder: String,
    title: String,
    summary: String,
    severity: String,
    status: String,
    #[serde(with = "exact_time")]
    status_since: Timestamp,
    #[serde(with = "exact_time::option")]
    last_status_change: Option<Timestamp>,
    services: Vec<String>,
    roles: BTreeMap<String, String>,
    links: Vec<String>,
    /// Name, time, and the milestone or state an assumed one comes from.
    milestones: Vec<(String, SummaryTime, Option<String>)>,
    declared_by: Person,
    resolution: Option<String>,
    duplicate_of: Option<String>,
    caused_by: Vec<String>,
    historical: bool,
    postmortem_due: Option<(SummaryTime, String)>,
}

/// A time inside tuples of a [`Summary`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct SummaryTime(#[serde(with = "exact_time")] Timestamp);

impl Summary {
    pub fn of(incident: &Incident) -> Summary {
        Summary {
            id: incident.id.clone(),
            folder: incident.folder.clone(),
            title: incident.title.clone(),
            summary: incident.summary.clone(),
            severity: incident.severity.clone(),
            status: incident.status.clone(),
            status_since: incident.status_since,
            last_status_change: incident.last_status_change,
            services: incident.services.clone(),
            roles: incident.roles.clone(),
            links: incident.links.clone(),
            milestones: incident
                .milestones
                .iter()
                .map(|(name, m)| {
                    let assumed_from = match &m.source {
                        MilestoneSource::Recorded => None,
                        MilestoneSource::Assumed(from) => Some(from.clone()),
                    };
                    (name.clone(), SummaryTime(m.at), assumed_from)
                })
                .collect(),
            declared_by: incident.declared_by.clone(),
            resolution: incident.resolution.clone(),
            duplicate_of: incident.duplicate_of.clone(),
            caused_by: incident.caused_by.clone(),
            historical: incident.historical,
            postmortem_due: incident
                .postmortem_due
                .as_ref()
                .map(|due| (SummaryTime(due.since), due.branch.clone())),
        }
    }

    /// The incident, with empty timeline, status changes, anomalies, event
    /// ids, comms updates and milestone timings.
    pub fn incident(&self) -> Incident {
        Incident {
            id: self.id.clone(),
            folder: self.folder.clone(),
            title: self.title.clone(),
            summary: self.summary.clone(),
            severity: self.severity.clone(),
            status: self.status.clone(),
            status_since: self.status_since,
            last_status_change: self.last_status_change,
            services: self.services.clone(),
            roles: self.roles.clone(),
            links: self.links.clone(),
            milestones: self
                .milestones
                .iter()
                .map(|(name, at, assumed_from)| {
                    let source = match assumed_from {
                        None => MilestoneSource::Recorded,
                        Some(from) => MilestoneSource::Assumed(from.clone()),
                    };
                    (name.clone(), Milestone { at: at.0, source })
                })
                .collect(),
            milestone_timing: BTreeMap::new(),
            declared_by: self.declared_by.clone(),
            resolution: self.resolution.clone(),
            duplicate_of: self.duplicate_of.clone(),
            caused_by: self.caused_by.clone(),
            timeline: Vec::new(),
            transitions: Vec::new(),
            anomalies: Vec::new(),
            event_ids: Vec::new(),
            historical: self.historical,
            comms: Vec::new(),
            postmortem_due: self
                .postmortem_due
                .as_ref()
                .map(|(since, branch)| PostmortemDue {
                    since: since.0,
                    branch: branch.clone(),
                }),
        }
    }
}

/// An action item as replayed, for the `actions` cache.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedAction {
    id: String,
    incident: String,
    number: usize,
    text: String,
    owner: Option<String>,
    /// Days since 1 January of year 1 (chrono's common era).
    due: Option<i32>,
    priority: Option<String>,
    kind: Option<String>,
    link: Option<String>,
    status: String,
    reason: Option<String>,
    #[serde(with = "exact_time")]
    created_at: Timestamp,
    #[serde(with = "exact_time::option")]
    finished_at: Option<Timestamp>,
    author: Person,
    file: String,
}

impl CachedAction {
    pub fn of(action: &Action) -> CachedAction {
        CachedAction {
            id: action.id.clone(),
            incident: action.incident.clone(),
            number: action.number,
            text: action.text.clone(),
            owner: action.owner.clone(),
            due: action.due.map(|d| d.num_days_from_ce()),
            priority: action.priority.clone(),
            kind: action.kind.clone(),
            link: action.link.clone(),
            status: action.status.clone(),
            reason: action.reason.clone(),
            created_at: action.created_at,
            finished_at: action.finished_at,
            author: action.author.clone(),
            file: action.file.clone(),
        }
    }

    pub fn action(&self) -> Action {
        Action {
            id: self.id.clone(),
            incident: self.incident.clone(),
            number: self.number,
            text: self.text.clone(),
            owner: self.owner.clone(),
            due: self.due.and_then(NaiveDate::from_num_days_from_ce_opt),
            priority: self.priority.clone(),
            kind: self.kind.clone(),
            link: self.link.clone(),
            status: self.status.clone(),
            reason: self.reason.clone(),
            created_at: self.created_at,
            finished_at: self.finished_at,
            author: self.author.clone(),
            file: self.file.clone(),
        }
    }
}
