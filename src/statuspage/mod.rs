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

/// Write a built page to `output`, replacing an earlier build there as a
/// whole: the new tree is written beside it and swapped in, so a failure
/// leaves the old page (or nothing) and never half of one.
pub fn write(built: &Built, output: &Path) -> Result<()> {
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
    let parent = output.parent().unwrap_or(Path::new("/")).to_path_buf();
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
            let empty = std::fs::read_dir(&output)
                .map_err(io_err(&output))?
                .next()
                .is_none();
            if !empty && !output.join(MARKER).is_file() {
                return Err(Error::InvalidInput {
                    message: format!(
                        "refusing to replace {}: it holds files that no status-page build wrote; pick an empty or new folder",
                        output.display()
                    ),
                });
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(&output)(e)),
    }
    std::fs::create_dir_all(&parent).map_err(io_err(&parent))?;
    let suffix = crate::model::id::random_id(8)?;
    let fresh = parent.join(format!(".{name}.incident-new-{suffix}"));
    let result = write_tree(&fresh, &built.files)
        .and_then(|()| swap(&fresh, &output, &parent, &name, &suffix));
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&fresh);
    }
    result
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

fn swap(fresh: &Path, output: &Path, parent: &Path, name: &str, suffix: &str) -> Result<()> {
    if output.exists() {
        let old = parent.join(format!(".{name}.incident-old-{suffix}"));
        std::fs::rename(output, &old).map_err(io_err(output))?;
        if let Err(e) = std::fs::rename(fresh, output) {
            let _ = std::fs::rename(&old, output);
            return Err(io_err(output)(e));
        }
        std::fs::remove_dir_all(&old).map_err(io_err(&old))?;
    } else {
        std::fs::rename(fresh, output).map_err(io_err(output))?;
    }
    Ok(())
}
