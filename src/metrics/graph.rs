//! git's commit-graph file (`objects/info/commit-graph`, or a chain of
//! them under `objects/info/commit-graphs/`), which `git gc` and `git
//! maintenance` write: each commit's tree, parents and commit time in a
//! table, so the history walk reads no commit objects for the commits it
//! covers. Format: git's Documentation/gitformat-commit-graph.txt.
//!
//! Used only where git would use it (not in a shallow clone, nor with
//! grafts, replace refs or `core.commitGraph = false`). Commits newer than
//! the file are read as objects. The file has no committer time zone:
//! times read from it carry none (every figure is a difference of
//! instants, shown in the configured zone).

use std::path::Path;

use git2::{Oid, Repository};

const SIGNATURE: &[u8] = b"CGPH";
const OIDF: u32 = u32::from_be_bytes(*b"OIDF");
const OIDL: u32 = u32::from_be_bytes(*b"OIDL");
const CDAT: u32 = u32::from_be_bytes(*b"CDAT");
/// A parent slot that holds no parent.
const NO_PARENT: u32 = 0x7000_0000;

/// A parent slot's position, `None` when it holds no parent.
fn parent_in(slot: u32) -> Option<u32> {
    (slot != NO_PARENT).then_some(slot)
}
const CDAT_WIDTH: usize = 36;

use crate::store::files::FileBytes as Bytes;

/// One graph file, parsed enough to find its tables.
struct Layer {
    data: Bytes,
    count: u32,
    fanout: usize,
    oids: usize,
    commits: usize,
}

/// The commit-graph of a repository: its layers, base first; a commit's
/// position counts across them.
pub struct Graph {
    layers: Vec<Layer>,
}

/// What the graph says about one commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphCommit {
    pub id: Oid,
    pub tree: Oid,
    /// Position of the first parent.
    pub first_parent: Option<u32>,
    pub has_parents: bool,
    /// Committer time, seconds since the epoch.
    pub time: i64,
}

fn be32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn be64(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(data.get(at..at + 8)?.try_into().ok()?))
}

impl Layer {
    fn parse(data: Bytes) -> Option<Layer> {
        // Header: signature, version 1, hash version 1 (SHA-1), chunks, bases.
        if data.get(..4)? != SIGNATURE || data[4] != 1 || data[5] != 1 {
            return None;
        }
        let chunks = usize::from(*data.get(6)?);
        let (mut fanout, mut oids, mut commits) = (None, None, None);
        for i in 0..chunks {
            let entry = 8 + 12 * i;
            let id = be32(&data, entry)?;
            let offset = usize::try_from(be64(&data, entry + 4)?).ok()?;
            match id {
                OIDF => fanout = Some(offset),
                OIDL => oids = Some(offset),
                CDAT => commits = Some(offset),
                _ => {}
            }
        }
        let (fanout, oids, commits) = (fanout?, oids?, commits?);
        let count = be32(&data, fanout + 4 * 255)?;
        let n = count as usize;
        // Every table lies inside the file.
        if data.len() < oids + 20 * n || data.len() < commits + CDAT_WIDTH * n {
            return None;
        }
        Some(Layer {
            data,
            count,
            fanout,
            oids,
            commits,
        })
    }

    fn oid(&self, local: u32) -> Option<Oid> {
        let at = self.oids + 20 * local as usize;
        Oid::from_bytes(self.data.get(at..at + 20)?).ok()
    }

    fn find(&self, id: &Oid) -> Option<u32> {
        let bytes = id.as_bytes();
        let first = usize::from(bytes[0]);
        let low = if first == 0 {
            0
        } else {
            be32(&self.data, self.fanout + 4 * (first - 1))?
        };
        let high = be32(&self.data, self.fanout + 4 * first)?.min(self.count);
        let (mut low, mut high) = (low, high);
        while low < high {
            let middle = low + (high - low) / 2;
            let at = self.oids + 20 * middle as usize;
            match self.data.get(at..at + 20)?.cmp(bytes) {
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
                std::cmp::Ordering::Equal => return Some(middle),
            }
        }
        None
    }
}

impl Graph {
    /// The repository's commit-graph, when git would use one.
    pub fn open(repo: &Repository) -> Option<Graph> {
        if repo.is_shallow() {
            return None;
        }
        let config = repo.config().ok()?;
        if config.get_bool("core.commitGraph").ok() == Some(false) {
            return None;
        }
        let common = repo.commondir();
        if common.join("info/grafts").exists() {
            return None;
        }
        if repo
            .references_glob("refs/replace/*")
            .ok()?
            .next()
            .is_some()
        {
            return None;
        }
        let info = common.join("objects/info");
        let chain = info.join("commit-graphs/commit-graph-chain");
        let layers = if chain.is_file() {
            let text = std::fs::read_to_string(&chain).ok()?;
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|hash| {
                    read_layer(&info.join(format!("commit-graphs/graph-{}.graph", hash.trim())))
                })
                .collect::<Option<Vec<Layer>>>()?
        } else {
            vec![read_layer(&info.join("commit-graph"))?]
        };
        Some(Graph { layers })
    }

    /// The position of a commit, if the graph has it.
    pub fn find(&self, id: &Oid) -> Option<u32> {
        let mut base = 0u32;
        for layer in &self.layers {
            if let Some(local) = layer.find(id) {
                return base.checked_add(local);
            }
            base = base.checked_add(layer.count)?;
        }
        None
    }

    /// How many commits the graph holds.
    pub fn len(&self) -> usize {
        self.layers.iter().map(|l| l.count as usize).sum()
    }

    /// The position of the first parent of the commit at `position`
    /// (`Some(None)` for a root), reading only the graph's parent column.
    pub fn first_parent(&self, position: u32) -> Option<Option<u32>> {
        let (layer, local) = self.layer(position)?;
        let first = be32(
            &layer.data,
            layer.commits + CDAT_WIDTH * local as usize + 20,
        )?;
        Some(parent_in(first))
    }

    /// Every commit's first-parent position (`NO_PARENT` for a root), by
    /// position: the parent column read in one sequential pass, for walks
    /// too long to follow through the table itself, where each step is a
    /// cache miss into a table of 36-byte rows.
    pub fn first_parent_column(&self) -> Option<FirstParents> {
        let mut column = Vec::with_capacity(self.len());
        for layer in &self.layers {
            let rows = layer
                .data
                .get(layer.commits..layer.commits + CDAT_WIDTH * layer.count as usize)?;
            column.extend(
                rows.chunks_exact(CDAT_WIDTH)
                    .map(|row| u32::from_be_bytes([row[20], row[21], row[22], row[23]])),
            );
        }
        Some(FirstParents(column))
    }

    /// The layer that holds a position, and the position in it.
    fn layer(&self, position: u32) -> Option<(&Layer, u32)> {
        let mut local = position;
        let layer = self.layers.iter().find(|layer| {
            if local < layer.count {
                true
            } else {
                local -= layer.count;
                false
            }
        })?;
        Some((layer, local))
    }

    /// The commit at a position.
    pub fn commit(&self, position: u32) -> Option<GraphCommit> {
        let (layer, local) = self.layer(position)?;
        let at = layer.commits + CDAT_WIDTH * local as usize;
        let row = layer.data.get(at..at + CDAT_WIDTH)?;
        let tree = Oid::from_bytes(&row[..20]).ok()?;
        // Parent slots at 20 and 24 (the second, and any more, do not matter here).
        let first = be32(row, 20)?;
        let word = be64(row, 28)?;
        // The low 34 bits are the commit time; the high 30 the generation.
        let time = (word & ((1 << 34) - 1)) as i64;
        Some(GraphCommit {
            id: layer.oid(local)?,
            tree,
            first_parent: parent_in(first),
            has_parents: first != NO_PARENT,
            time,
        })
    }
}

/// The graph's first-parent column (see [`Graph::first_parent_column`]).
pub struct FirstParents(Vec<u32>);

impl FirstParents {
    /// As [`Graph::first_parent`].
    pub fn first_parent(&self, position: u32) -> Option<Option<u32>> {
        let first = *self.0.get(position as usize)?;
        Some(parent_in(first))
    }
}

fn read_layer(path: &Path) -> Option<Layer> {
    // Never blocks on a FIFO; git replaces a graph file, never rewrites it.
    let file = crate::store::files::open_regular(path).ok()??;
    Layer::parse(crate::store::files::map_or_read(&file, path).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// git with a committer time (seconds and zone, as git reads them).
    fn git(dir: &Path, when: &str, args: &[&str]) {
        let out = Command::new("git")
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "A")
            .env("GIT_AUTHOR_EMAIL", "a@b")
            .env("GIT_COMMITTER_NAME", "A")
            .env("GIT_COMMITTER_EMAIL", "a@b")
            .env("GIT_AUTHOR_DATE", when)
            .env("GIT_COMMITTER_DATE", when)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The graph says what the commit objects say, single file and chain.
    #[test]
    fn graph_agrees_with_the_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        let now = "1700000000 +0000";
        git(path, now, &["init", "-q", "-b", "main"]);
        for i in 0..5 {
            std::fs::write(path.join("f"), format!("{i}\n")).unwrap();
            git(path, now, &["add", "f"]);
            let when = format!("{} +0130", 1_700_000_000 + i * 3600);
            git(path, &when, &["commit", "-q", "-m", "c"]);
            if i == 2 {
                git(
                    path,
                    now,
                    &["commit-graph", "write", "--reachable", "--split"],
                );
            }
        }
        let repo = Repository::open(path).unwrap();
        // Only the first three commits are in the (split) graph so far.
        let check = |graph: &Graph, expect_in: usize| {
            let mut walk = repo.revwalk().unwrap();
            walk.push_head().unwrap();
            let ids: Vec<Oid> = walk.map(|r| r.unwrap()).collect();
            let mut found = 0;
            let column = graph.first_parent_column().unwrap();
            for id in ids {
                let Some(position) = graph.find(&id) else {
                    continue;
                };
                found += 1;
                let c = graph.commit(position).unwrap();
                let commit = repo.find_commit(id).unwrap();
                assert_eq!(c.id, id);
                assert_eq!(c.tree, commit.tree_id());
                assert_eq!(c.time, commit.time().seconds());
                assert_eq!(c.has_parents, commit.parent_count() > 0);
                assert_eq!(
                    c.first_parent.and_then(|p| graph.commit(p)).map(|p| p.id),
                    commit.parent_id(0).ok()
                );
                assert_eq!(column.first_parent(position), graph.first_parent(position));
            }
            assert_eq!(column.first_parent(graph.len() as u32), None);
            assert_eq!(found, expect_in);
        };
        check(&Graph::open(&repo).unwrap(), 3);
        git(
            path,
            now,
            &["commit-graph", "write", "--reachable", "--split"],
        );
        check(&Graph::open(&repo).unwrap(), 5);
        std::fs::remove_dir_all(path.join(".git/objects/info/commit-graphs")).unwrap();
        git(path, now, &["commit-graph", "write", "--reachable"]);
        check(&Graph::open(&repo).unwrap(), 5);
        // git would not use it with commitGraph off.
        git(path, now, &["config", "core.commitGraph", "false"]);
        assert!(Graph::open(&Repository::open(path).unwrap()).is_none());
    }
}
