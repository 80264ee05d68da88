//! Where incidents live in the repository, and reading them from git trees.
//!
//! Layout (all under one folder, so the tool touches nothing else):
//!
//! ```text
//! incidents/config.toml
//! incidents/<year>/<month>/<id>-<slug>/incident.toml
//! incidents/<year>/<month>/<id>-<slug>/events/<recorded>-<random>-<kind>.toml
//! ```
//!
//! Incidents are sharded by the month they were declared in, so that no tree
//! grows with the number of incidents ever declared: every write rewrites,
//! and every history scan reads, only small trees.

pub mod checkout;
pub mod commit;
pub mod derived;
mod dropped;
pub mod files;
mod folder_cache;
pub mod gitconfig;
pub mod githooks;
pub mod gitindex;
pub mod gitrefs;
pub mod identity;
pub mod ownfiles;
pub mod remote;
pub mod signing;
pub mod write;

use std::path::{Path, PathBuf};

use git2::{ObjectType, Repository, Tree};

use crate::config::Config;
use crate::error::{Error, Result, io_err};
use crate::model::event::{Declaration, Event};
use crate::model::id;
use crate::model::incident::Incident;
use crate::tomlfile;
use folder_cache::FolderCache;

/// The folder that holds everything incident writes.
pub const DATA_DIR: &str = "incidents";
/// The config file, relative to the repository root.
pub const CONFIG_PATH: &str = "incidents/config.toml";
pub const DECLARATION_FILE: &str = "incident.toml";
pub const EVENTS_DIR: &str = "events";

/// An incident's folder, found by listing trees.
#[derive(Debug, Clone)]
pub struct FolderRef {
    pub id: String,
    pub slug: String,
    /// Repository-relative path with `/` separators.
    pub path: String,
    /// The folder's tree id and the root tree it was listed in: reading
    /// that root's folder then needs no lookup from the root down.
    pub listed_in: Option<(git2::Oid, git2::Oid)>,
}

/// The same folder, wherever it was listed.
impl PartialEq for FolderRef {
    fn eq(&self, other: &Self) -> bool {
        (&self.id, &self.slug, &self.path) == (&other.id, &other.slug, &other.path)
    }
}

impl Eq for FolderRef {}

/// An incident folder with the incident read from it, or why it could not be.
pub type LoadedFolder = (FolderRef, Result<Incident>);

impl FolderRef {
    /// The folder's tree id, when it was listed in `root`.
    pub fn tree_id(&self, root: &Tree<'_>) -> Option<git2::Oid> {
        self.listed_in
            .filter(|(listed_root, _)| *listed_root == root.id())
            .map(|(_, folder)| folder)
    }

    /// The folder's tree in `root`.
    pub fn tree_in<'r>(&self, repo: &'r Repository, root: &Tree<'_>) -> Result<Option<Tree<'r>>> {
        match self.listed_in {
            // (A cache file damaged by hand names no tree: looked up then.)
            Some((listed_root, folder)) if listed_root == root.id() => match repo.find_tree(folder)
            {
                Ok(tree) => Ok(Some(tree)),
                Err(_) => subtree(repo, root, &self.path),
            },
            _ => subtree(repo, root, &self.path),
        }
    }
}

/// An incident repository: a git repository with `incidents/config.toml`.
pub struct Store {
    pub repo: Repository,
    workdir: PathBuf,
    /// The folder the command was started in (for hooks' `GIT_PREFIX`).
    opened_from: PathBuf,
    /// git's effective config, read on first use (see `commit.rs`).
    git_config: std::cell::OnceCell<gitconfig::GitConfig>,
    /// The month listing cache, read on first use.
    folder_cache: std::cell::RefCell<Option<FolderCache>>,
    /// `--no-verify`, `-S`, `--no-gpg-sign`.
    commit_options: commit::CommitOptions,
}

impl Store {
    /// Open the repository that contains `dir` (like git, searching upwards).
    pub fn open(dir: &Path) -> Result<Store> {
        let repo = discover(dir)?.ok_or_else(|| Error::NotARepository {
            path: dir.to_path_buf(),
        })?;
        let workdir = repo
            .workdir()
            .ok_or_else(|| Error::BareRepository {
                path: repo.path().to_path_buf(),
            })?
            .to_path_buf();
        ownfiles::register(&[repo.path(), repo.commondir()], &workdir, None);
        Ok(Store {
            repo,
            workdir,
            opened_from: dir.to_path_buf(),
            git_config: std::cell::OnceCell::new(),
            folder_cache: std::cell::RefCell::new(None),
            commit_options: commit::CommitOptions::default(),
        })
    }

    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// The tree at HEAD, or `None` on a branch with no commits yet.
    pub fn head_tree(&self) -> Result<Option<Tree<'_>>> {
        match self.repo.head() {
            Ok(head) => Ok(Some(head.peel_to_tree()?)),
            Err(e)
                if matches!(
                    e.code(),
                    git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The config: the working-tree file, so an edit takes effect at once,
    /// or the committed one when the working tree lacks it.
    pub fn config(&self) -> Result<Config> {
        let on_disk = self.workdir.join(CONFIG_PATH);
        if let Ok(meta) = std::fs::symlink_metadata(&on_disk)
            && (meta.file_type().is_symlink() || !meta.is_file())
        {
            return Err(Error::InvalidInput {
                message: format!(
                    "{CONFIG_PATH} is a symbolic link or not a regular file; incident reads only a plain file there"
                ),
            });
        }
        if let Ok(meta) = std::fs::metadata(&on_disk)
            && meta.len() > tomlfile::MAX_FILE_BYTES as u64
        {
            return Err(Error::FileTooLarge {
                file: CONFIG_PATH.into(),
                size: usize::try_from(meta.len()).unwrap_or(usize::MAX),
                limit: tomlfile::MAX_FILE_BYTES,
            });
        }
        match std::fs::read(&on_disk) {
            Ok(bytes) => return Config::parse(CONFIG_PATH, tomlfile::text(CONFIG_PATH, &bytes)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(on_disk)(e)),
        }
        let tree = self.head_tree()?;
        let bytes = tree
            .as_ref()
            .map(|t| read_blob(&self.repo, t, CONFIG_PATH))
            .transpose()?
            .flatten()
            .ok_or_else(|| Error::NotInitialized {
                config: CONFIG_PATH.into(),
            })?;
        Config::parse(CONFIG_PATH, tomlfile::text(CONFIG_PATH, &bytes)?)
    }

    /// Every incident folder in a tree, newest month first. Month folders
    /// seen before come from the listing cache (see [`FolderCache`]).
    pub fn folders(&self, tree: &Tree<'_>) -> Result<Vec<FolderRef>> {
        self.folders_where(tree, "", |_, _| true)
    }

    /// Whether an incident folder in `tree` has the id `id`.
    pub fn has_id(&self, tree: &Tree<'_>, id: &str) -> Result<bool> {
        Ok(!self
            .folders_where(tree, id, |found, _| found == id)?
            .is_empty())
    }

    /// The incident folders whose (id, slug) pass `keep`: paths are built
    /// only for those, so naming one incident stays cheap among thousands.
    fn folders_where(
        &self,
        tree: &Tree<'_>,
        containing: &str,
        keep: impl Fn(&str, &str) -> bool,
    ) -> Result<Vec<FolderRef>> {
        // Loaded once per command: a write names its incident more than once.
        let mut cache = self.folder_cache.borrow_mut();
        let cache = cache.get_or_insert_with(|| FolderCache::load(self.repo.path()));
        let found = list_folders_cached(&self.repo, tree, cache, containing, keep)?;
        cache.save(self.repo.path());
        Ok(found)
    }

    /// Find the one incident a user's query names: its id, a unique id
    /// prefix, or a fragment of the folder's slug. A query that matches
    /// several incidents, by id prefix or slug fragment alike, is
    /// ambiguous: the error lists each with severity, status and date.
    /// One that matches none suggests ids and titles it may be a typo of.
    pub fn find(&self, tree: &Tree<'_>, query: &str) -> Result<FolderRef> {
        let wanted = query.trim().to_ascii_lowercase();
        if wanted.is_empty() {
            return Err(Error::NotFound {
                query: query.into(),
            });
        }
        // An id prefix or a slug fragment: either way in the folder's name.
        let matching = self.folders_where(tree, &wanted, |id, slug| {
            id.starts_with(&wanted) || slug.contains(&wanted)
        })?;
        if let Some(exact) = matching.iter().find(|f| f.id == wanted) {
            return Ok(exact.clone());
        }
        let matches: Vec<&FolderRef> = matching.iter().collect();
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => {
                let folders = self.folders(tree)?;
                let closest = id::closest(&wanted, folders.iter().map(|f| (&*f.id, &*f.slug)));
                let described = closest
                    .iter()
                    .filter_map(|i| folders.get(*i))
                    .map(|f| self.describe(tree, f, true))
                    .collect();
                Err(Error::NoMatch {
                    query: query.into(),
                    closest: described,
                })
            }
            many => Err(Error::Ambiguous {
                what: "incidents",
                query: query.into(),
                candidates: many.iter().map(|f| self.describe(tree, f, false)).collect(),
            }),
        }
    }

    /// One line naming an incident for a person choosing between several:
    /// `k3f9x2  SEV2  investigating  2026-11-24  Checkout latency`, or in
    /// a sentence `k3f9x2 (SEV2, investigating, 'Checkout latency')`.
    pub fn describe(&self, tree: &Tree<'_>, folder: &FolderRef, sentence: bool) -> String {
        let loaded = self
            .config()
            .and_then(|config| Ok((self.load(&config, tree, folder)?, config)));
        let Ok((incident, config)) = loaded else {
            return format!("{}  ({})", folder.id, folder.slug);
        };
        let title = crate::render::terminal_safe(&crate::ops::one_line(&incident.title, 50));
        let day = incident
            .milestone("started")
            .map(|t| config.zone().convert(&t).format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        if sentence {
            format!(
                "{} ({}, {}, '{title}')",
                incident.id, incident.severity, incident.status
            )
        } else {
            format!(
                "{}  {:<5} {:<14} {day}  {title}",
                incident.id, incident.severity, incident.status
            )
        }
    }

    /// Read and replay one incident from a tree.
    pub fn load(&self, config: &Config, tree: &Tree<'_>, folder: &FolderRef) -> Result<Incident> {
        let (declaration, events) = self.read_files(tree, folder)?;
        Ok(Incident::replay(
            config,
            &folder.path,
            &declaration,
            &events,
        ))
    }

    /// Every incident in a tree as `incident list` shows it (see
    /// [`derived::Summary`]: no timeline, status changes, anomalies or
    /// comms updates), each with the error that kept it from loading. The
    /// summaries of folders read before come from `.git/incident/`.
    /// Also a warning when the cache file is no cache file (a FIFO).
    pub fn summaries(
        &self,
        config: &Config,
        tree: &Tree<'_>,
    ) -> Result<(Vec<LoadedFolder>, Option<String>)> {
        let folders = self.folders(tree)?;
        let key = crate::metrics::facts::config_key(config);
        let mut cache = derived::DerivedCache::load(self.repo.path(), "list", &key);
        // Folders not read before: read here, parsed on a second thread.
        let root = tree.id();
        let unread: Vec<(&FolderRef, git2::Oid)> = folders
            .iter()
            .filter_map(|folder| Some((folder, folder.tree_id(tree)?)))
            .filter(|(folder, id)| !cache.has(&folder.path, *id))
            .collect();
        let read = derived::pipelined(
            &self.repo,
            &unread,
            |repo, (folder, _)| {
                let tree = repo.find_tree(root).ok()?;
                read_folder_bytes(repo, &tree, folder).ok()
            },
            |bytes, (folder, _)| {
                let (declaration, events) = parse_folder_bytes(folder, bytes?).ok()?;
                let incident = Incident::replay(config, &folder.path, &declaration, &events);
                Some(derived::Summary::of(&incident))
            },
        );
        for ((folder, id), summary) in unread.iter().zip(read) {
            if let Some(summary) = summary {
                cache.insert(&folder.path, *id, summary);
            }
        }
        // What failed is read again here, for its error.
        let loaded = folders
            .into_iter()
            .map(|folder| {
                let incident = match folder.tree_id(tree) {
                    Some(id) => cache
                        .get_or_derive(&folder.path, id, || {
                            Ok(derived::Summary::of(&self.load(config, tree, &folder)?))
                        })
                        .map(derived::Summary::incident),
                    None => self.load(config, tree, &folder),
                };
                (folder, incident)
            })
            .collect();
        let warning = cache.save();
        Ok((loaded, warning))
    }

    /// The declaration and the events of one incident, unreplayed.
    pub fn read_files(
        &self,
        tree: &Tree<'_>,
        folder: &FolderRef,
    ) -> Result<(Declaration, Vec<Event>)> {
        // A damaged object is named from the repository's root.
        read_folder_files(&self.repo, tree, folder).map_err(|e| e.under(&folder.path))
    }
}

/// [`Store::read_files`] in `repo` (one of a thread's own, say).
fn read_folder_files(
    repo: &Repository,
    tree: &Tree<'_>,
    folder: &FolderRef,
) -> Result<(Declaration, Vec<Event>)> {
    parse_folder_bytes(folder, read_folder_bytes(repo, tree, folder)?)
}

/// The files of an incident folder as read from git, not yet parsed.
pub struct FolderBytes {
    declaration: Vec<u8>,
    /// (event id, repository path, text) of each event file, in tree order.
    events: Vec<(String, String, String)>,
    /// What stopped the reading after the files above: reported after any
    /// error parsing them would be, as a reader that parses as it goes would.
    failed: Option<Error>,
}

fn missing_declaration(folder: &FolderRef) -> Error {
    Error::Invalid {
        file: format!("{}/{DECLARATION_FILE}", folder.path),
        line: None,
        field: DECLARATION_FILE.into(),
        message: "the incident folder has no incident.toml".into(),
    }
}

/// Read (not parse) the declaration and the event files of `folder`.
fn read_folder_bytes(
    repo: &Repository,
    tree: &Tree<'_>,
    folder: &FolderRef,
) -> Result<FolderBytes> {
    // Looked up from the root once; its files from the folder's tree.
    let folder_tree = folder
        .tree_in(repo, tree)?
        .ok_or_else(|| missing_declaration(folder))?;
    let declaration = read_blob(repo, &folder_tree, DECLARATION_FILE)?
        .ok_or_else(|| missing_declaration(folder))?;
    let mut events = Vec::new();
    let events_path = format!("{}/{EVENTS_DIR}", folder.path);
    let failed = match subtree(repo, &folder_tree, EVENTS_DIR) {
        Ok(Some(events_tree)) => {
            for_each_toml(repo, &events_tree, &events_path, |id, file, text| {
                events.push((id.to_string(), file.to_string(), text.to_string()));
                Ok(())
            })
            .err()
        }
        Ok(None) => None,
        Err(e) => Some(e),
    };
    Ok(FolderBytes {
        declaration,
        events,
        failed,
    })
}

/// Parse what [`read_folder_bytes`] read; the first error in file order.
fn parse_folder_bytes(folder: &FolderRef, bytes: FolderBytes) -> Result<(Declaration, Vec<Event>)> {
    let declaration_path = format!("{}/{DECLARATION_FILE}", folder.path);
    let text = tomlfile::text(&declaration_path, &bytes.declaration)?;
    let declaration = Declaration::parse(&declaration_path, text)?;
    if declaration.id != folder.id {
        return Err(Error::Invalid {
            file: declaration_path.clone(),
            line: tomlfile::line_of_key(text, "id"),
            field: "id".into(),
            message: format!(
                "id '{}' does not match the folder's id '{}'",
                declaration.id, folder.id
            ),
        });
    }
    let events = bytes
        .events
        .iter()
        .map(|(id, file, text)| Event::parse(file, id, text))
        .collect::<Result<Vec<Event>>>()?;
    match bytes.failed {
        Some(e) => Err(e),
        None => Ok((declaration, events)),
    }
}

/// The repository containing `dir`, searching upwards as git does; `None`
/// when there is none. Whether a repository another user owns may be used
/// is git's to say (`safe.directory` from any of the places git reads it,
/// `GIT_CONFIG_GLOBAL` and `GIT_CONFIG_COUNT` included, which libgit2's own
/// check does not see): git is asked, and its refusal is the error.
pub fn discover(dir: &Path) -> Result<Option<Repository>> {
    match Repository::discover(dir) {
        Ok(repo) => Ok(Some(repo)),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) if e.code() == git2::ErrorCode::Owner => {
            let output = std::process::Command::new("git")
                .args(["rev-parse", "--git-dir"])
                .current_dir(dir)
                .stdin(std::process::Stdio::null())
                .output()
                .map_err(|source| Error::GitCommand {
                    command: "git rev-parse".into(),
                    detail: format!("cannot run git: {source}"),
                })?;
            if !output.status.success() {
                let git_says = String::from_utf8_lossy(&output.stderr).into_owned();
                // "detected dubious ownership in repository at '/path'"
                let repository = git_says
                    .lines()
                    .find_map(|l| l.split_once("repository at '")?.1.strip_suffix('\''))
                    .map(PathBuf::from);
                return Err(Error::UnsafeRepository {
                    path: repository.unwrap_or_else(|| dir.to_path_buf()),
                    fix: git_says
                        .lines()
                        .map(str::trim)
                        .find(|l| l.starts_with("git config") && l.contains("safe.directory"))
                        .map(str::to_string),
                });
            }
            // git accepts it: so does this process, for every later open.
            // SAFETY: changes a libgit2 global before any other thread uses it.
            unsafe { git2::opts::set_verify_owner_validation(false) }?;
            Ok(Some(Repository::discover(dir)?))
        }
        Err(e) => Err(Error::Git(e)),
    }
}

/// Call `visit(name without .toml, repository path, text)` for each `.toml`
/// file directly in `dir` (whose repository path is `dir_path`).
pub fn for_each_toml(
    repo: &Repository,
    dir: &Tree<'_>,
    dir_path: &str,
    mut visit: impl FnMut(&str, &str, &str) -> Result<()>,
) -> Result<()> {
    for entry in dir.iter() {
        if entry.kind() != Some(ObjectType::Blob) || !entry.name_bytes().ends_with(b".toml") {
            continue;
        }
        // Never skip a record silently: what it says may change the state.
        let Ok(name) = std::str::from_utf8(entry.name_bytes()) else {
            return Err(Error::Invalid {
                file: format!("{dir_path}/{}", entry.name_bytes().escape_ascii()),
                line: None,
                field: "file name".into(),
                message: "not valid UTF-8, so incident cannot read this record; rename or remove it with git (`incident check` lists such files)".into(),
            });
        };
        let Some(stem) = name.strip_suffix(".toml") else {
            continue;
        };
        let file = format!("{dir_path}/{name}");
        let blob = find_named(repo, || repo.find_blob(entry.id()))
            .map_err(crate::error::object_error(entry.id(), &file))?;
        visit(stem, &file, tomlfile::text(&file, blob.content())?)?;
    }
    Ok(())
}

/// A blob's bytes at `path` in `tree`, or `None` when there is none.
pub fn read_blob(repo: &Repository, tree: &Tree<'_>, path: &str) -> Result<Option<Vec<u8>>> {
    let entry = match tree.get_path(Path::new(path)) {
        Ok(entry) => entry,
        Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if entry.kind() != Some(ObjectType::Blob) {
        return Ok(None);
    }
    let blob = find_named(repo, || repo.find_blob(entry.id()))
        .map_err(crate::error::object_error(entry.id(), path))?;
    Ok(Some(blob.content().to_vec()))
}

/// The tree at `path` in `tree`, or `None`.
pub fn subtree<'r>(repo: &'r Repository, tree: &Tree<'_>, path: &str) -> Result<Option<Tree<'r>>> {
    let entry = match tree.get_path(Path::new(path)) {
        Ok(entry) => entry,
        Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if entry.kind() != Some(ObjectType::Tree) {
        return Ok(None);
    }
    let tree = find_named(repo, || repo.find_tree(entry.id()))
        .map_err(crate::error::object_error(entry.id(), path))?;
    Ok(Some(tree))
}

/// How often an object a tree names is looked for again before its absence
/// is called damage (see [`find_named`]).
pub(crate) const OBJECT_RETRIES: u32 = 5;

/// Read an object that a tree in hand names. Not finding it can be a `git
/// repack -ad` in a loop beside us: the pack libgit2 knew was deleted, and
/// the one its own refresh found was replaced again before it was opened.
/// So look again, with the pack folder read anew, a few times over some
/// 300 ms, before the caller calls it damage.
pub(crate) fn find_named<T>(
    repo: &Repository,
    find: impl Fn() -> std::result::Result<T, git2::Error>,
) -> std::result::Result<T, git2::Error> {
    let mut tries = 0;
    loop {
        match find() {
            Err(e) if e.code() == git2::ErrorCode::NotFound && tries < OBJECT_RETRIES => {
                tries += 1;
                look_again(repo, tries);
            }
            outcome => return outcome,
        }
    }
}

/// Wait a little longer for each try (10, 20, 40… ms), then have libgit2
/// read the pack folder anew (see [`find_named`]).
pub(crate) fn look_again(repo: &Repository, tries: u32) {
    std::thread::sleep(std::time::Duration::from_millis(5 << tries));
    if let Ok(odb) = repo.odb() {
        // Failing to refresh leaves the next read to say what is wrong.
        let _ = odb.refresh();
    }
}

/// List `incidents/<yyyy>/<mm>/<id>-<slug>` folders, newest month first.
pub fn list_folders(repo: &Repository, tree: &Tree<'_>) -> Result<Vec<FolderRef>> {
    list_folders_cached(repo, tree, &mut FolderCache::default(), "", |_, _| true)
}

fn list_folders_cached(
    repo: &Repository,
    tree: &Tree<'_>,
    cache: &mut FolderCache,
    containing: &str,
    keep: impl Fn(&str, &str) -> bool,
) -> Result<Vec<FolderRef>> {
    let mut found = Vec::new();
    cache.start_listing();
    let Some(data) = subtree(repo, tree, DATA_DIR)? else {
        return Ok(found);
    };
    let is_number =
        |name: &str, len: usize| name.len() == len && name.bytes().all(|b| b.is_ascii_digit());
    let trees = |t: &Tree<'_>| -> Vec<(String, git2::Oid)> {
        t.iter()
            .filter(|e| e.kind() == Some(ObjectType::Tree))
            .filter_map(|e| e.name().ok().map(|n| (n.to_string(), e.id())))
            .collect()
    };
    for (year, year_id) in trees(&data).into_iter().rev() {
        if !is_number(&year, 4) {
            continue;
        }
        let year_tree = repo.find_tree(year_id)?;
        for (month, month_id) in trees(&year_tree).into_iter().rev() {
            if !is_number(&month, 2) {
                continue;
            }
            if !cache.has(month_id) {
                let names = trees(&repo.find_tree(month_id)?);
                cache.put(month_id, names);
            }
            for (name, folder_id) in cache.get(month_id, containing) {
                if let Some((id, slug)) = id::split_folder_name(name)
                    && keep(id, slug)
                {
                    found.push(FolderRef {
                        id: id.to_string(),
                        slug: slug.to_string(),
                        path: format!("{DATA_DIR}/{year}/{month}/{name}"),
                        // (A line damaged by hand: found by its path.)
                        listed_in: folder_id.oid().map(|folder| (tree.id(), folder)),
                    });
                }
            }
        }
    }
    cache.finish_listing();
    Ok(found)
}
