//! `incident status-page build`: a static status page built from the
//! repository at one commit (issue 14).
//!
//! Everything comes from that commit's tree, never from the working tree,
//! so `--as-of REV` rebuilds an old page, and the same commit always gives
//! the same bytes: the page's clock is the commit's time, and nothing of
//! the machine that builds it (time, zone, paths) gets in.
//!
//! Output, all static and readable without JavaScript:
//!
//! ```text
//! index.html  incidents/<id>.html  maintenance/<id>.html
//! history/index.html  history/YYYY-MM.html  history.atom  history.rss
//! api/v2/{summary,status,components,incidents}.json  api/v2/incidents/unresolved.json
//! api/v2/scheduled-maintenances.json (+ /upcoming.json, /active.json)  api/badge.json
//! ```

pub mod config;
pub mod escape;
pub mod feed;
pub mod html;
pub mod json;
pub mod model;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use git2::Oid;

use crate::config::Config;
use crate::error::{Error, Result, io_err};
use crate::ops::postmortem::postmortem_path;
use crate::ops::review::REVIEW_STATE;
use crate::store::{CONFIG_PATH, Store, read_blob};
use crate::time::Timestamp;
use crate::tomlfile;

/// A file every build writes: how a folder is recognised as an earlier build.
const MARKER: &str = "api/v2/summary.json";

/// The built page, in memory.
pub struct Built {
    pub commit: Oid,
    pub page: model::Page,
    /// Path under the output folder to contents, in path order.
    pub files: BTreeMap<String, Vec<u8>>,
}

/// Build the page for a commit (default HEAD) without writing anything.
pub fn render(store: &Store, rev: Option<&str>, base_url: Option<&str>) -> Result<Built> {
    let repo = &store.repo;
    let rev = rev.unwrap_or("HEAD");
    let commit = repo
        .revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .map_err(|_| Error::InvalidInput {
            message: format!(
                "'{rev}' names no commit here; give a commit, tag or branch (`git log --oneline` lists commits)"
            ),
        })?;
    let tree = commit.tree()?;
    let config_bytes =
        read_blob(repo, &tree, CONFIG_PATH)?.ok_or_else(|| Error::NotInitialized {
            config: format!("{CONFIG_PATH} at {}", &commit.id().to_string()[..10]),
        })?;
    let config = Config::parse(CONFIG_PATH, tomlfile::text(CONFIG_PATH, &config_bytes)?)?;
    let base_url = base_url.map(str::trim).filter(|u| !u.is_empty());
    if let Some(url) = base_url
        && !config::is_web_url(url)
    {
        return Err(Error::InvalidInput {
            message: format!(
                "--base-url '{url}' is not an http:// or https:// address without spaces or quotes"
            ),
        });
    }
    let mut incidents = Vec::new();
    let mut published = BTreeSet::new();
    for folder in store.folders(&tree)? {
        let incident = store.load(&config, &tree, &folder)?;
        let reviewed = incident.milestones.contains_key("postmortem_published")
            || incident.status == REVIEW_STATE
            || incident.status == "closed";
        if reviewed
            && tree
                .get_path(Path::new(&postmortem_path(&folder.path)))
                .is_ok()
        {
            published.insert(incident.id.clone());
        }
        incidents.push(incident);
    }
    let maintenances = crate::maintenance::load_all(repo, &tree)?;
    let time = commit.time();
    let as_of: Timestamp =
        crate::metrics::history::commit_time(time.seconds(), time.offset_minutes());
    let page = model::build(&model::Sources {
        config: &config,
        incidents: &incidents,
        maintenances: &maintenances,
        published_postmortems: &published,
        as_of,
        base_url: base_url.unwrap_or(""),
    });
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let pages = html::Html::new(&page);
    files.insert("index.html".into(), pages.index().into_bytes());
    for incident in &page.incidents {
        files.insert(
            format!("incidents/{}.html", incident.id),
            pages.incident_page(incident).into_bytes(),
        );
    }
    for maintenance in &page.maintenances {
        files.insert(
            format!("maintenance/{}.html", maintenance.id),
            pages.maintenance_page(maintenance).into_bytes(),
        );
    }
    for (path, text) in pages.history() {
        files.insert(path, text.into_bytes());
    }
    files.insert("history.atom".into(), feed::atom(&page).into_bytes());
    files.insert("history.rss".into(), feed::rss(&page).into_bytes());
    for (path, text) in json::Api::new(&page).files()? {
        files.insert(path, text.into_bytes());
    }
    Ok(Built {
        commit: commit.id(),
        page,
        files,
    })
}

/// What a build owns in its output folder: these top-level files and
/// folders (whole). Everything else there (a `.git` of a gh-pages
/// worktree, `CNAME`, `.nojekyll`) is the user's and is kept.
pub const OWNED_FILES: &[&str] = &["index.html", "history.atom", "history.rss"];
pub const OWNED_FOLDERS: &[&str] = &["api", "history", "incidents", "maintenance"];

fn owned(name: &str) -> bool {
    OWNED_FILES.contains(&name) || OWNED_FOLDERS.contains(&name)
}

/// What writing a page did.
#[derive(Debug, Default)]
pub struct Written {
    /// Top-level entries of the folder that a build does not own, kept as they were.
    pub kept: Vec<String>,
}

/// Write a built page to `output`. What a build owns (see [`OWNED_FILES`],
/// [`OWNED_FOLDERS`]) is replaced, each entry whole: the new tree is
/// written beside the folder and each owned entry swapped in, so a failure
/// never leaves half of one. Everything else in the folder is kept. A
/// folder that holds an owned entry but no earlier build (no
/// `api/v2/summary.json`) is someone else's: refused, naming the entry.
pub fn write(built: &Built, output: &Path) -> Result<Written> {
    let output = if output.is_absolute() {
        output.to_path_buf()
    } else {
        std::env::current_dir().map_err(io_err("."))?.join(output)
    };
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| Error::InvalidInput {
            message: format!("--output {} names no folder", output.display()),
        })?;
    if let Some(stray) = built
        .files
        .keys()
        .find(|p| !owned(p.split('/').next().unwrap_or_default()))
    {
        return Err(Error::InvalidInput {
            message: format!("internal: the build writes {stray}, which it does not own"),
        });
    }
    let parent = output.parent().unwrap_or(Path::new("/")).to_path_buf();
    let mut written = Written::default();
    let mut existing: Vec<String> = Vec::new();
    match std::fs::symlink_metadata(&output) {
        Ok(meta) if meta.file_type().is_symlink() || !meta.is_dir() => {
            return Err(Error::InvalidInput {
                message: format!(
                    "{} is not a folder; pick a folder for --output",
                    output.display()
                ),
            });
        }
        Ok(_) => {
            for entry in std::fs::read_dir(&output).map_err(io_err(&output))? {
                let entry = entry.map_err(io_err(&output))?;
                existing.push(entry.file_name().to_string_lossy().into_owned());
            }
            existing.sort();
            let earlier_build = output.join(MARKER).is_file();
            if !earlier_build && let Some(first) = existing.iter().find(|n| owned(n)) {
                return Err(Error::InvalidInput {
                    message: format!(
                        "refusing to write into {}: it holds {first}, which a build writes, but no earlier build ({MARKER}); pick an empty or new folder, or move {first} away",
                        output.display()
                    ),
                });
            }
            written.kept = existing.iter().filter(|n| !owned(n)).cloned().collect();
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(&output)(e)),
    }
    std::fs::create_dir_all(&parent).map_err(io_err(&parent))?;
    let suffix = crate::model::id::random_id(8)?;
    let fresh = parent.join(format!(".{name}.incident-new-{suffix}"));
    let result = write_tree(&fresh, &built.files).and_then(|()| {
        if output.exists() {
            let replaced: Vec<&String> = existing.iter().filter(|n| owned(n)).collect();
            swap_owned(
                &fresh,
                &output,
                &replaced,
                &parent.join(format!(".{name}.incident-old-{suffix}")),
            )
        } else {
            std::fs::rename(&fresh, &output).map_err(io_err(&output))
        }
    });
    let _ = std::fs::remove_dir_all(&fresh);
    result.map(|()| written)
}

fn write_tree(root: &Path, files: &BTreeMap<String, Vec<u8>>) -> Result<()> {
    for (path, bytes) in files {
        let file: PathBuf = root.join(path);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        std::fs::write(&file, bytes).map_err(io_err(&file))?;
    }
    Ok(())
}

/// Swap each owned entry of `fresh` into `output`, moving what it replaces
/// (and owned entries the new build no longer has) to `old`, then delete
/// `old`. On a failure the entries moved so far go back.
fn swap_owned(fresh: &Path, output: &Path, replaced: &[&String], old: &Path) -> Result<()> {
    std::fs::create_dir_all(old).map_err(io_err(old))?;
    let mut new_names: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(fresh).map_err(io_err(fresh))? {
        new_names.push(
            entry
                .map_err(io_err(fresh))?
                .file_name()
                .to_string_lossy()
                .into_owned(),
        );
    }
    new_names.sort();
    let mut moved: Vec<(PathBuf, PathBuf)> = Vec::new();
    let step = |from: PathBuf, to: PathBuf, moved: &mut Vec<(PathBuf, PathBuf)>| {
        std::fs::rename(&from, &to).map_err(io_err(&from))?;
        moved.push((from, to));
        Ok::<(), Error>(())
    };
    let mut result = Ok(());
    for name in replaced.iter().map(|n| n.as_str()) {
        result = step(output.join(name), old.join(name), &mut moved);
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() {
        for name in &new_names {
            result = step(fresh.join(name), output.join(name), &mut moved);
            if result.is_err() {
                break;
            }
        }
    }
    if result.is_err() {
        for (from, to) in moved.iter().rev() {
            let _ = std::fs::rename(to, from);
        }
    }
    let _ = std::fs::remove_dir_all(old);
    result
}
