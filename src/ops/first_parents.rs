//! The first-parent line of a branch, listed without reading trees, and
//! the search along it for the oldest commit since which a condition on
//! the tree has held.
//!
//! Listing reads git's commit-graph where git would use it (a table of
//! every commit's tree and parents, which `git gc` writes), so a line of
//! 100,000 commits is listed in milliseconds; commits newer than the graph,
//! and every commit of a repository without one, are read as objects. The
//! search then looks at about 2·log₂(n) trees instead of n.

use git2::{Oid, Repository, Tree};

use crate::error::{Error, Result};
use crate::metrics::graph::Graph;
use crate::ops::publication::{HistoryEdge, commit_links, shallow_boundary};

/// Where the listing ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnd {
    /// At a root commit.
    Root,
    /// At the commit the caller asked to stop at (the last listed).
    Stopped,
    /// At the edge of this clone's history (the last listed is the edge).
    Edge(HistoryEdge),
}

/// The line from the tip back, newest first: the commits newer than the
/// graph, read as objects, then the rest as positions in the graph (a
/// listing of 100,000 commits reads only the graph's parent column).
pub struct Line {
    objects: Vec<(Oid, Oid)>,
    positions: Vec<u32>,
    graph: Option<Graph>,
    pub end: LineEnd,
}

impl Line {
    pub fn len(&self) -> usize {
        self.objects.len() + self.positions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The commit and tree ids of the commit at `index` (newest is 0).
    pub fn ids(&self, index: usize) -> Result<(Oid, Oid)> {
        if let Some(ids) = self.objects.get(index) {
            return Ok(*ids);
        }
        match self.positions.get(index - self.objects.len()) {
            Some(at) => self
                .graph
                .as_ref()
                .and_then(|g| g.commit(*at))
                .map(|c| (c.id, c.tree))
                .ok_or_else(damaged_graph),
            None => Err(Error::InvalidInput {
                message: format!("internal: no commit {index} on a line of {}", self.len()),
            }),
        }
    }
}

fn damaged_graph() -> Error {
    Error::InvalidInput {
        message: "git's commit-graph file names a commit it does not hold; run `git commit-graph write --reachable` to write it again".into(),
    }
}

/// Steps along the graph's table before its parent column is copied out
/// (fewer in unit tests, whose lines are short, so both ways are tested).
const STEPS_BEFORE_COLUMN: usize = if cfg!(test) { 64 } else { 4096 };

/// List the first-parent line from `tip`, up to and including `stop` when
/// the line reaches it.
pub fn line(repo: &Repository, tip: Oid, stop: Option<Oid>) -> Result<Line> {
    let odb = repo.odb()?;
    let boundary = shallow_boundary(repo);
    let graph = Graph::open(repo);
    let stop_at = stop.and_then(|id| graph.as_ref()?.find(&id));
    let mut objects = Vec::new();
    let mut positions = Vec::with_capacity(graph.as_ref().map_or(0, Graph::len));
    let mut current = tip;
    let end = 'listing: loop {
        if let Some(g) = &graph
            && let Some(mut at) = g.find(&current)
        {
            // From here on, every parent is in the graph (git writes it from
            // its objects; none is used in a shallow clone). A long walk
            // goes on in the parent column copied out of the table: 0.4 MB
            // per 100,000 commits that stay in cache, where the table's
            // rows made each step a cache miss (15 ms for 70,000 steps).
            let mut column = None;
            loop {
                positions.push(at);
                if Some(at) == stop_at {
                    break 'listing LineEnd::Stopped;
                }
                if column.is_none() && positions.len() == STEPS_BEFORE_COLUMN {
                    column = Some(g.first_parent_column().ok_or_else(damaged_graph)?);
                }
                let parent = match &column {
                    Some(column) => column.first_parent(at),
                    None => g.first_parent(at),
                };
                match parent {
                    Some(Some(parent)) => at = parent,
                    Some(None) => break 'listing LineEnd::Root,
                    None => return Err(damaged_graph()),
                }
            }
        }
        let (tree, parent) = commit_links(repo, &odb, current)?;
        objects.push((current, tree));
        if Some(current) == stop {
            break LineEnd::Stopped;
        }
        // A shallow clone's boundary commits name parents that git treats
        // as absent, whether or not their objects happen to be here.
        if boundary.contains(&current) {
            break LineEnd::Edge(HistoryEdge {
                commit: current,
                shallow: true,
            });
        }
        match parent {
            None => break LineEnd::Root,
            Some(p) if !odb.exists(p) => {
                break LineEnd::Edge(HistoryEdge {
                    commit: current,
                    shallow: repo.is_shallow(),
                });
            }
            Some(p) => current = p,
        }
    };
    Ok(Line {
        objects,
        positions,
        graph,
        end,
    })
}

/// The index of the oldest commit of `line` such that `holds` is true of
/// it and of every commit newer than it, given that it holds at the tip
/// (index 0), and assuming that once it stops holding going back it never
/// holds again (what is published stays published). Gallops back from the
/// tip, then bisects: about 2·log₂(n) trees are read.
pub fn oldest_holding(
    repo: &Repository,
    line: &Line,
    holds: &dyn Fn(&Tree<'_>) -> bool,
) -> Result<usize> {
    let test = |index: usize| -> Result<bool> {
        let tree = repo.find_tree(line.ids(index)?.1)?;
        Ok(holds(&tree))
    };
    let mut good = 0;
    let mut step = 1;
    let mut bad = loop {
        let probe = good + step;
        if probe >= line.len() {
            break line.len();
        }
        if test(probe)? {
            good = probe;
            step *= 2;
        } else {
            break probe;
        }
    };
    while bad - good > 1 {
        let middle = good + (bad - good) / 2;
        if test(middle)? {
            good = middle;
        } else {
            bad = middle;
        }
    }
    Ok(good)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// A line of `n` commits (oldest first) where `marker` is in the tree
    /// from commit `from` on; the commit ids, oldest first.
    fn history(repo: &Repository, n: usize, from: usize) -> Vec<Oid> {
        let signature =
            git2::Signature::new("A", "a@b", &git2::Time::new(1_700_000_000, 0)).unwrap();
        let mut ids: Vec<Oid> = Vec::new();
        for i in 0..n {
            let mut builder = repo.treebuilder(None).unwrap();
            let code = repo.blob(format!("{i}").as_bytes()).unwrap();
            builder.insert("code", code, 0o100644).unwrap();
            if i >= from {
                builder.insert("marker", code, 0o100644).unwrap();
            }
            let tree = repo.find_tree(builder.write().unwrap()).unwrap();
            let parents: Vec<git2::Commit<'_>> = ids
                .last()
                .map(|p| repo.find_commit(*p).unwrap())
                .into_iter()
                .collect();
            let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
            let id = repo
                .commit(Some("HEAD"), &signature, &signature, "c", &tree, &parents)
                .unwrap();
            ids.push(id);
        }
        ids
    }

    fn oldest(repo: &Repository, tip: Oid) -> Oid {
        let line = line(repo, tip, None).unwrap();
        let holds = |tree: &Tree<'_>| tree.get_path(Path::new("marker")).is_ok();
        line.ids(oldest_holding(repo, &line, &holds).unwrap())
            .unwrap()
            .0
    }

    /// Gallop and bisection find the commit a walk finds, wherever it is on
    /// the line, with and without git's commit-graph, and with commits newer
    /// than the graph.
    #[test]
    fn the_search_finds_the_first_commit_of_the_stretch() {
        for from in [0, 1, 2, 5, 63, 64, 65, 150, 298, 299] {
            let dir = tempfile::tempdir().unwrap();
            let repo = Repository::init(dir.path()).unwrap();
            let ids = history(&repo, 300, from);
            let tip = *ids.last().unwrap();
            assert_eq!(oldest(&repo, tip), ids[from], "from {from}, no graph");
            let written = std::process::Command::new("git")
                .args(["commit-graph", "write", "--reachable"])
                .current_dir(dir.path())
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .status()
                .unwrap();
            assert!(written.success());
            let graph = Graph::open(&repo).unwrap();
            assert_eq!(graph.len(), 300);
            assert_eq!(oldest(&repo, tip), ids[from], "from {from}, graph");
            let line = line(&repo, tip, Some(ids[100])).unwrap();
            assert_eq!(line.end, LineEnd::Stopped);
            assert_eq!(line.len(), 200);
            assert_eq!(line.ids(199).unwrap().0, ids[100]);
        }
    }
}
