//! `incident check`: validate every file of the incidents folder at HEAD.
//!
//! Reads the committed tree only (not history, not the working tree), so it
//! is fast and says the same on every clone at the same commit. Nothing is
//! followed or written: a symbolic link is reported, never read through.

use std::collections::{BTreeMap, BTreeSet};

use git2::{ObjectType, Repository, Tree};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::action::{ACTIONS_DIR, ActionChange, ActionFile};
use crate::model::event::{Change, Declaration, Event};
use crate::model::id;
use crate::model::incident::Incident;
pub use crate::model::problem::{Level, Problem};
use crate::ops::check_objects::{Entry, Objects, ReadAhead};
use crate::ops::postmortem::TEMPLATES_DIR;
use crate::store::derived::DerivedCache;
use crate::store::{CONFIG_PATH, DATA_DIR, DECLARATION_FILE, EVENTS_DIR, Store};
use crate::tomlfile;

/// What `incident check` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckReport {
    /// The commit checked.
    pub commit: String,
    pub incidents: usize,
    pub events: usize,
    pub problems: Vec<Problem>,
    /// About incident's own files (a FIFO where its cache is), not the
    /// repository's: shown, never counted as problems.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl CheckReport {
    pub fn errors(&self) -> usize {
        self.problems
            .iter()
            .filter(|p| p.level == Level::Error)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.problems
            .iter()
            .filter(|p| p.level == Level::Warning)
            .count()
    }
}

/// Link target modes in git trees.
const MODE_LINK: i32 = 0o120000;
const MODE_COMMIT: i32 = 0o160000;

/// Check the repository at HEAD.
pub fn check(store: &Store) -> Result<CheckReport> {
    let head = store.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let Some(head) = head else {
        return Err(Error::NotInitialized {
            config: CONFIG_PATH.into(),
        });
    };
    let tree = head.tree()?;
    let mut checker = Checker::new(&store.repo);
    let config = checker.config(&tree)?;
    let mut incidents = Vec::new();
    let mut warnings = Vec::new();
    if let Some(data) = crate::store::subtree(&store.repo, &tree, DATA_DIR)? {
        let key = crate::metrics::facts::config_key(&config);
        let mut cache = DerivedCache::load(store.repo.path(), "check", &key);
        checker.walk_data(&store.repo, &data, &config, &mut cache, &mut incidents)?;
        warnings.extend(cache.save());
    }
    let events = incidents.iter().map(|i| i.findings.events).sum();
    checker.validate(&store.repo, &incidents);
    let mut problems = checker.problems;
    problems.sort_by(|a, b| {
        (&a.file, a.line, a.level, &a.message).cmp(&(&b.file, b.line, b.level, &b.message))
    });
    problems.dedup();
    Ok(CheckReport {
        commit: head.id().to_string(),
        incidents: incidents.len(),
        events,
        problems,
        warnings,
    })
}

/// One incident folder as read from the tree.
struct Folder {
    path: String,
    id: String,
    /// Year and month of the folder path.
    shard: (String, String),
    declaration: Option<(Declaration, String)>,
    /// Events that parsed, with their text (for line numbers).
    events: Vec<(Event, String)>,
}

/// What checking one incident folder found on its own: a function of the
/// folder's path, its tree and the config, so it is cached by tree id.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Findings {
    /// Events that parsed.
    events: usize,
    problems: Vec<Problem>,
    /// References that other folders and objects must satisfy.
    references: Vec<Reference>,
}

/// Something an event names outside its own folder, checked on every run.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Reference {
    file: String,
    line: Option<usize>,
    target: Target,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
enum Target {
    /// `duplicate_of`: another incident's id, which must exist.
    Incident(String),
    /// `caused_by`: a commit (when it looks like one) in this repository.
    Cause(String),
}

/// A folder whose findings are not in the cache: its place among the
/// folders checked, its tree, and the year and month of its path.
struct Unread {
    at: usize,
    tree: git2::Oid,
    shard: (String, String),
}

/// A folder checked, with its id from the folder name.
struct Checked {
    path: String,
    id: String,
    findings: Findings,
}

struct Checker<'r> {
    /// Where the trees and blobs checked come from.
    objects: &'r dyn Objects,
    problems: Vec<Problem>,
    references: Vec<Reference>,
}

impl<'r> Checker<'r> {
    fn new(objects: &'r dyn Objects) -> Checker<'r> {
        Checker {
            objects,
            problems: Vec::new(),
            references: Vec::new(),
        }
    }

    /// Check one incident folder on its own (see [`Findings`]).
    fn folder_findings(
        objects: &'r dyn Objects,
        config: &Config,
        tree: git2::Oid,
        path: &str,
        incident_id: &str,
        shard: (String, String),
    ) -> Result<Findings> {
        let mut checker = Checker::new(objects);
        let folder = checker.read_folder(&objects.tree(tree)?, path, incident_id, shard)?;
        checker.validate_folder(config, &folder);
        Ok(Findings {
            events: folder.events.len(),
            problems: checker.problems,
            references: checker.references,
        })
    }

    fn push(&mut self, level: Level, file: &str, line: Option<usize>, message: impl Into<String>) {
        self.problems.push(Problem {
            level,
            file: file.to_string(),
            line,
            message: message.into(),
            hint: None,
        });
    }

    /// Record a library error about `file` as a problem.
    fn push_error(&mut self, file: &str, error: Error) {
        let (file, line, message) = match error {
            Error::Parse {
                file,
                line,
                column,
                message,
            } => (file, Some(line), format!("{message} (column {column})")),
            Error::Invalid {
                file,
                line,
                field,
                message,
            } => (file, line, format!("{field}: {message}")),
            other => (file.to_string(), None, other.to_string()),
        };
        self.push(Level::Error, &file, line, message);
    }

    /// A blob's text, refusing links, huge files and invalid UTF-8. The blob
    /// is read whole, as `list` and every other reader read it: asking for
    /// its size first costs a second pack lookup per file, about a tenth of
    /// a cold `check`.
    fn text(&mut self, entry: &Entry, path: &str) -> Result<Option<String>> {
        if entry.filemode == MODE_LINK {
            self.push(
                Level::Error,
                path,
                None,
                "is a symbolic link; incident never follows links (it could point outside the repository): replace it with the file itself",
            );
            return Ok(None);
        }
        if entry.kind != Some(ObjectType::Blob) {
            self.push(
                Level::Error,
                path,
                None,
                "should be a file, but is a folder or submodule",
            );
            return Ok(None);
        }
        let blob = self.objects.blob(entry.id)?;
        match tomlfile::text(path, &blob) {
            Ok(text) => Ok(Some(text.to_string())),
            Err(e) => {
                self.push_error(path, e);
                Ok(None)
            }
        }
    }

    fn config(&mut self, tree: &Tree<'_>) -> Result<Config> {
        let entry = match tree.get_path(std::path::Path::new(CONFIG_PATH)) {
            Ok(entry) => entry,
            Err(e) if e.code() == git2::ErrorCode::NotFound => {
                return Err(Error::NotInitialized {
                    config: CONFIG_PATH.into(),
                });
            }
            Err(e) => return Err(e.into()),
        };
        let fallback = |checker: &mut Self| {
            checker.push(
                Level::Warning,
                CONFIG_PATH,
                None,
                "checking the incidents against the built-in default config instead",
            );
            Config::parse("(built-in config)", crate::config::DEFAULT_CONFIG)
        };
        let Some(text) = self.text(&Entry::of(&entry), CONFIG_PATH)? else {
            return fallback(self);
        };
        match Config::parse(CONFIG_PATH, &text) {
            Ok(config) => {
                if config.zone() == crate::time::Zone::Local {
                    self.push(
                        Level::Warning,
                        CONFIG_PATH,
                        crate::tomlfile::line_of_key(&text, "timezone"),
                        "timezone = \"local\" reads `--at 03:15` and shows times in each machine's own zone, so two clones can disagree; name the team's zone, such as timezone = \"UTC\" or \"Europe/Berlin\"",
                    );
                }
                Ok(config)
            }
            Err(e) => {
                self.push_error(CONFIG_PATH, e);
                fallback(self)
            }
        }
    }

    /// `incidents/`: the config, year folders, nothing else.
    fn walk_data(
        &mut self,
        repo: &Repository,
        data: &Tree<'_>,
        config: &Config,
        cache: &mut DerivedCache<Findings>,
        incidents: &mut Vec<Checked>,
    ) -> Result<()> {
        let mut unread: Vec<Unread> = Vec::new();
        for entry in data.iter().map(|e| Entry::of(&e)) {
            let name = entry.name.clone();
            let path = format!("{DATA_DIR}/{name}");
            if name == "config.toml" && entry.kind == Some(ObjectType::Blob) {
                continue;
            }
            if path == crate::hooks::config::REPOSITORY_FILE {
                // Versioned event hooks (issue 15): the file must parse.
                use crate::hooks::config::{Origin, parse};
                if let Some(text) = self.text(&entry, &path)?
                    && let Err(e) = parse(&path, &text, Origin::Repository)
                {
                    self.push_error(&path, e);
                }
                continue;
            }
            if format!("{DATA_DIR}/{name}") == TEMPLATES_DIR && entry.is_tree() {
                // Postmortem templates: Markdown only.
                for template in self.objects.tree(entry.id)? {
                    let template_name = template.name.clone();
                    let template_path = format!("{path}/{template_name}");
                    let markdown = template_name.ends_with(".md")
                        && template.kind == Some(ObjectType::Blob)
                        && template.filemode != MODE_LINK;
                    if markdown {
                        check_name(self, &template_name, &template_path);
                    } else {
                        self.stray(&template, &template_path, None)?;
                    }
                }
                continue;
            }
            if path == crate::maintenance::MAINTENANCE_DIR && entry.is_tree() {
                // Scheduled maintenance (issue 14).
                self.read_maintenance(repo, entry.id, &path)?;
                continue;
            }
            if is_digits(&name, 4) && entry.is_tree() {
                for month_entry in self.objects.tree(entry.id)? {
                    let month = month_entry.name.clone();
                    let month_path = format!("{path}/{month}");
                    let valid_month =
                        is_digits(&month, 2) && matches!(month.parse::<u32>(), Ok(1..=12));
                    if valid_month && month_entry.is_tree() {
                        for folder_entry in self.objects.tree(month_entry.id)? {
                            let folder_name = folder_entry.name.clone();
                            let folder_path = format!("{month_path}/{folder_name}");
                            match id::split_folder_name(&folder_name) {
                                Some((incident_id, _)) if folder_entry.is_tree() => {
                                    let tree = folder_entry.id;
                                    let findings = cache.get(&folder_path, tree).cloned();
                                    if findings.is_none() {
                                        unread.push(Unread {
                                            at: incidents.len(),
                                            tree,
                                            shard: (name.clone(), month.clone()),
                                        });
                                    }
                                    incidents.push(Checked {
                                        path: folder_path,
                                        id: incident_id.to_string(),
                                        findings: findings.unwrap_or_default(),
                                    });
                                }
                                _ => self.stray(&folder_entry, &folder_path, None)?,
                            }
                        }
                    } else {
                        self.stray(&month_entry, &month_path, None)?;
                    }
                }
            } else {
                self.stray(&entry, &path, None)?;
            }
        }
        // Folders not checked before: each folder's objects are read on
        // this thread while another checks the folder read before it.
        let read = |repo: &Repository, unread: &Unread| ReadAhead::read(repo, unread.tree);
        let found = crate::store::derived::pipelined(repo, &unread, read, |ahead, unread| {
            let folder = &incidents[unread.at];
            Checker::folder_findings(
                &ahead?,
                config,
                unread.tree,
                &folder.path,
                &folder.id,
                unread.shard.clone(),
            )
        });
        for (unread, findings) in unread.iter().zip(found) {
            let folder = &mut incidents[unread.at];
            // An error (a damaged object) is found again here, as it was.
            let findings = match findings {
                Ok(findings) => findings,
                Err(_) => Checker::folder_findings(
                    repo,
                    config,
                    unread.tree,
                    &folder.path,
                    &folder.id,
                    unread.shard.clone(),
                )?,
            };
            cache.insert(&folder.path, unread.tree, findings.clone());
            folder.findings = findings;
        }
        Ok(())
    }

    fn read_folder(
        &mut self,
        tree: &[Entry],
        path: &str,
        incident_id: &str,
        shard: (String, String),
    ) -> Result<Folder> {
        let mut folder = Folder {
            path: path.to_string(),
            id: incident_id.to_string(),
            shard,
            declaration: None,
            events: Vec::new(),
        };
        let mut has_declaration = false;
        for entry in tree {
            let name = entry.name.as_str();
            let file = format!("{path}/{name}");
            if name == DECLARATION_FILE {
                has_declaration = true;
                if let Some(text) = self.text(entry, &file)? {
                    match Declaration::parse(&file, &text) {
                        Ok(declaration) => folder.declaration = Some((declaration, text)),
                        Err(e) => self.push_error(&file, e),
                    }
                }
            } else if name == EVENTS_DIR && entry.is_tree() {
                for event_entry in self.objects.tree(entry.id)? {
                    let event_name = event_entry.name.as_str();
                    let event_file = format!("{file}/{event_name}");
                    let stem = event_name.strip_suffix(".toml");
                    match stem {
                        Some(stem)
                            if event_entry.kind == Some(ObjectType::Blob)
                                || event_entry.filemode == MODE_LINK =>
                        {
                            check_name(self, event_name, &event_file);
                            if let Some(text) = self.text(&event_entry, &event_file)? {
                                match Event::parse(&event_file, stem, &text) {
                                    Ok(event) => folder.events.push((event, text)),
                                    Err(e) => self.push_error(&event_file, e),
                                }
                            }
                        }
                        _ => self.stray(&event_entry, &event_file, Some(path))?,
                    }
                }
            } else if name == ACTIONS_DIR && entry.is_tree() {
                let actions = self.objects.tree(entry.id)?;
                self.read_actions(&actions, &file, path)?;
            } else if name.ends_with(".md")
                && entry.kind == Some(ObjectType::Blob)
                && entry.filemode != MODE_LINK
            {
                // Notes and postmortems written by people.
                check_name(self, name, &file);
            } else {
                self.stray(entry, &file, Some(path))?;
            }
        }
        if !has_declaration {
            self.push(
                Level::Error,
                path,
                None,
                format!("incident folder without {DECLARATION_FILE}; restore it from history (`git log -- {path}`) or remove the folder"),
            );
        }
        Ok(folder)
    }

    /// `maintenance/<year>/<month>/<id>-<slug>/`: each maintenance parses.
    fn read_maintenance(&mut self, repo: &Repository, tree: git2::Oid, path: &str) -> Result<()> {
        for year in self.objects.tree(tree)? {
            let year_path = format!("{path}/{}", year.name);
            if !year.is_tree() {
                self.stray(&year, &year_path, None)?;
                continue;
            }
            for month in self.objects.tree(year.id)? {
                let month_path = format!("{year_path}/{}", month.name);
                if !month.is_tree() {
                    self.stray(&month, &month_path, None)?;
                    continue;
                }
                for folder in self.objects.tree(month.id)? {
                    let folder_path = format!("{month_path}/{}", folder.name);
                    if !folder.is_tree() || id::split_folder_name(&folder.name).is_none() {
                        self.stray(&folder, &folder_path, None)?;
                        continue;
                    }
                    let folder_tree = repo.find_tree(folder.id)?;
                    if let Err(e) = crate::maintenance::load(repo, &folder_tree, &folder_path) {
                        self.push_error(&folder_path, e);
                    }
                }
            }
        }
        Ok(())
    }

    /// `actions/<item>.toml` and `actions/<item>/<change>.toml`: each parses.
    fn read_actions(&mut self, tree: &[Entry], dir: &str, incident_folder: &str) -> Result<()> {
        for entry in tree {
            let name = entry.name.as_str();
            let file = format!("{dir}/{name}");
            if name.ends_with(".toml")
                && (entry.kind == Some(ObjectType::Blob) || entry.filemode == MODE_LINK)
            {
                check_name(self, name, &file);
                if let Some(text) = self.text(entry, &file)?
                    && let Err(e) = ActionFile::parse(&file, &text)
                {
                    self.push_error(&file, e);
                }
            } else if entry.is_tree() && tree.iter().any(|e| e.name == format!("{name}.toml")) {
                for change in self.objects.tree(entry.id)? {
                    let change_name = change.name.as_str();
                    let change_file = format!("{file}/{change_name}");
                    let is_file =
                        change.kind == Some(ObjectType::Blob) || change.filemode == MODE_LINK;
                    if change_name.ends_with(".toml") && is_file {
                        check_name(self, change_name, &change_file);
                        if let Some(text) = self.text(&change, &change_file)?
                            && let Err(e) = ActionChange::parse(&change_file, &text)
                        {
                            self.push_error(&change_file, e);
                        }
                    } else {
                        self.stray(&change, &change_file, Some(incident_folder))?;
                    }
                }
            } else {
                self.stray(entry, &file, Some(incident_folder))?;
            }
        }
        Ok(())
    }

    /// Something that is not where incident puts things.
    fn stray(&mut self, entry: &Entry, path: &str, incident_folder: Option<&str>) -> Result<()> {
        let name = entry.name.as_str();
        if !check_name(self, name, path) {
            return Ok(());
        }
        if entry.filemode == MODE_LINK {
            self.push(
                Level::Error,
                path,
                None,
                "symbolic link inside the incidents folder; incident ignores it and never follows it (it could point outside the repository): remove it",
            );
            return Ok(());
        }
        if entry.filemode == MODE_COMMIT {
            self.push(
                Level::Warning,
                path,
                None,
                "submodule inside the incidents folder; incident ignores it",
            );
            return Ok(());
        }
        if entry.kind == Some(ObjectType::Blob)
            && let Some(stem) = name.strip_suffix(".toml")
            && self.looks_like_event(entry, path, stem)?
        {
            let hint = match incident_folder {
                Some(folder) => format!("move it to {folder}/{EVENTS_DIR}/"),
                None => {
                    format!("move it into the {EVENTS_DIR}/ folder of the incident it belongs to")
                }
            };
            self.push(
                Level::Error,
                path,
                None,
                format!("event file outside an incident's {EVENTS_DIR}/ folder, so it is not part of any timeline: {hint}"),
            );
            return Ok(());
        }
        let what = if entry.is_tree() { "folder" } else { "file" };
        self.push(
            Level::Warning,
            path,
            None,
            format!("unexpected {what} in the incidents folder; incident ignores it"),
        );
        Ok(())
    }

    fn looks_like_event(&mut self, entry: &Entry, path: &str, stem: &str) -> Result<bool> {
        if is_event_name(stem) {
            return Ok(true);
        }
        let blob = self.objects.blob(entry.id)?;
        if blob.len() > tomlfile::MAX_FILE_BYTES {
            return Ok(false);
        }
        Ok(std::str::from_utf8(&blob)
            .ok()
            .is_some_and(|text| Event::parse(path, stem, text).is_ok()))
    }

    /// Rules across folders: unique ids, and what events name elsewhere.
    fn validate(&mut self, repo: &Repository, incidents: &[Checked]) {
        let mut by_id: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for folder in incidents {
            by_id
                .entry(folder.id.as_str())
                .or_default()
                .push(folder.path.as_str());
        }
        for folders in by_id.values().filter(|f| f.len() > 1) {
            for path in folders {
                let others: Vec<&str> = folders.iter().copied().filter(|p| p != path).collect();
                self.push(
                    Level::Error,
                    path,
                    None,
                    format!(
                        "incident id is not unique: also used by {}",
                        others.join(", ")
                    ),
                );
            }
        }
        let ids: BTreeSet<&str> = by_id.keys().copied().collect();
        for folder in incidents {
            self.problems
                .extend(folder.findings.problems.iter().cloned());
            for reference in &folder.findings.references {
                let (file, line) = (reference.file.as_str(), reference.line);
                match &reference.target {
                    Target::Incident(original) if !ids.contains(original.as_str()) => {
                        self.push(
                            Level::Error,
                            file,
                            line,
                            format!("duplicate_of: no incident has the id '{original}'"),
                        );
                    }
                    Target::Incident(_) => {}
                    Target::Cause(rev) => self.cause(repo, file, line, rev),
                }
            }
        }
    }

    /// The rules within one folder: names known to the config, milestone
    /// order and contradictions left by merges; references elsewhere are
    /// noted for [`Checker::validate`].
    fn validate_folder(&mut self, config: &Config, folder: &Folder) {
        let Some((declaration, text)) = &folder.declaration else {
            return;
        };
        let file = format!("{}/{DECLARATION_FILE}", folder.path);
        let line = |key: &str| tomlfile::line_of_key(text, key);
        if declaration.id != folder.id {
            self.push(
                Level::Error,
                &file,
                line("id"),
                format!(
                    "id '{}' does not match the folder's id '{}'",
                    declaration.id, folder.id
                ),
            );
        }
        let declared = declaration.declared_at.with_timezone(&chrono::Utc);
        let shard = (
            declared.format("%Y").to_string(),
            declared.format("%m").to_string(),
        );
        if shard != folder.shard {
            self.push(
                Level::Warning,
                &file,
                line("declared_at"),
                format!(
                    "declared in {}/{}, but the folder is under {}/{}",
                    shard.0, shard.1, folder.shard.0, folder.shard.1
                ),
            );
        }
        self.known(
            &file,
            line("severity"),
            "severity",
            &declaration.severity,
            &config.severity_names(),
        );
        self.known(
            &file,
            line("status"),
            "state",
            &declaration.status,
            &config.state_names(),
        );
        for role in declaration.roles.keys() {
            self.known(&file, line(role), "role", role, &config.role_names());
        }
        for (event, text) in &folder.events {
            let event_file = format!("{}/{EVENTS_DIR}/{}.toml", folder.path, event.id);
            let line = |key: &str| tomlfile::line_of_key(text, key);
            match &event.change {
                Change::Status {
                    to, duplicate_of, ..
                } => {
                    self.known(
                        &event_file,
                        line("status"),
                        "state",
                        to,
                        &config.state_names(),
                    );
                    if let Some(original) = duplicate_of {
                        if *original == folder.id {
                            self.push(
                                Level::Error,
                                &event_file,
                                line("duplicate_of"),
                                "duplicate_of: an incident cannot be a duplicate of itself",
                            );
                        } else {
                            self.references.push(Reference {
                                file: event_file.clone(),
                                line: line("duplicate_of"),
                                target: Target::Incident(original.clone()),
                            });
                        }
                    }
                }
                Change::Severity { to, .. } => self.known(
                    &event_file,
                    line("severity"),
                    "severity",
                    to,
                    &config.severity_names(),
                ),
                Change::Role { role, .. } => self.known(
                    &event_file,
                    line("role"),
                    "role",
                    role,
                    &config.role_names(),
                ),
                Change::Milestone { name, .. } => self.known(
                    &event_file,
                    line("milestone"),
                    "milestone",
                    name,
                    &config.milestone_names(),
                ),
                Change::Cause { rev } => self.references.push(Reference {
                    file: event_file.clone(),
                    line: line("caused_by"),
                    target: Target::Cause(rev.clone()),
                }),
                Change::Comms(update) => {
                    self.known(
                        &event_file,
                        line("audience"),
                        "audience",
                        &update.audience,
                        &config.audience_names(),
                    );
                    for component in update.components.keys() {
                        if config.component(component).is_none() {
                            self.push(
                                Level::Warning,
                                &event_file,
                                line(component),
                                format!("component '{component}' is not a [[component]] of incidents/config.toml; the status page leaves it out"),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        let events: Vec<Event> = folder.events.iter().map(|(e, _)| e.clone()).collect();
        let incident = Incident::replay(config, &folder.path, declaration, &events);
        let zone = config.zone();
        for (earlier, later) in incident.milestone_violations(config) {
            let show = |name: &str| {
                incident
                    .milestone(name)
                    .map(|t| zone.long(&t))
                    .unwrap_or_default()
            };
            self.push(
                Level::Error,
                &file,
                None,
                format!(
                    "milestone '{later}' ({}) is before '{earlier}' ({}); correct one with `incident update {} --milestone NAME=TIME`",
                    show(&later),
                    show(&earlier),
                    folder.id
                ),
            );
        }
        for anomaly in unsettled_contradictions(&incident, &events) {
            let event_file = format!("{}/{EVENTS_DIR}/{}.toml", folder.path, anomaly.event);
            let line = folder
                .events
                .iter()
                .find(|(e, _)| e.id == anomaly.event)
                .and_then(|(_, text)| tomlfile::line_of_key(text, "status"));
            self.push(
                Level::Error,
                &event_file,
                line,
                format!(
                    "contradiction: {}; the incident is now '{}' by the replay rule: record the intended state with `incident update {} --status STATE` (`--status {}` confirms the current one)",
                    anomaly.message, incident.status, folder.id, incident.status
                ),
            );
        }
    }

    /// A cause that looks like a commit id should name a commit here
    /// (deployments and tags from elsewhere are fine).
    fn cause(&mut self, repo: &Repository, file: &str, line: Option<usize>, rev: &str) {
        let looks_like_commit =
            (7..=40).contains(&rev.len()) && rev.bytes().all(|b| b.is_ascii_hexdigit());
        if looks_like_commit && repo.revparse_single(rev).is_err() {
            self.push(
                Level::Warning,
                file,
                line,
                format!(
                    "caused_by: no commit '{rev}' in this repository (from another repository, or a shallow clone?)"
                ),
            );
        }
    }

    fn known(
        &mut self,
        file: &str,
        line: Option<usize>,
        what: &str,
        given: &str,
        valid: &[String],
    ) {
        if !valid.iter().any(|v| v == given) {
            self.push(
                Level::Error,
                file,
                line,
                format!(
                    "unknown {what} '{given}'; incidents/config.toml defines: {}",
                    valid.join(", ")
                ),
            );
        }
    }
}

/// The contradictions no later status event settled. A status event
/// settles the contradictions before it when it replays without one and
/// was recorded with a Lamport counter (`seq`) above every event replayed
/// before it: so in a clone that had both sides of the merge, by someone
/// who saw the contradiction and stated the state (`incident update ID
/// --status STATE`, the current state included). The counter cannot tell
/// that apart from a clone that, not having pulled yet, recorded more
/// events than the other side and then changed the status again; that
/// clone's responders were still working on the incident, so their state
/// is the one the replay shows anyway.
pub fn unsettled_contradictions<'a>(
    incident: &'a Incident,
    events: &[Event],
) -> Vec<&'a crate::model::incident::Anomaly> {
    let by_id: BTreeMap<&str, &Event> = events.iter().map(|e| (e.id.as_str(), e)).collect();
    let contradicting: BTreeSet<&str> = incident
        .anomalies
        .iter()
        .map(|a| a.event.as_str())
        .collect();
    // Replay position from which on every earlier contradiction is settled.
    let mut settled_before = 0;
    let mut highest_seq: Option<u32> = None;
    for (position, id) in incident.event_ids.iter().enumerate() {
        let Some(event) = by_id.get(id.as_str()) else {
            continue;
        };
        if matches!(event.change, Change::Status { .. })
            && !contradicting.contains(id.as_str())
            && highest_seq.is_none_or(|seq| event.seq > seq)
        {
            settled_before = position;
        }
        highest_seq = Some(highest_seq.map_or(event.seq, |seq| seq.max(event.seq)));
    }
    incident
        .anomalies
        .iter()
        .filter(|anomaly| {
            incident
                .event_ids
                .iter()
                .position(|id| *id == anomaly.event)
                .is_none_or(|position| position >= settled_before)
        })
        .collect()
}

/// Warn about names that are not plain; `false` when the name is unusable.
fn check_name(checker: &mut Checker<'_>, name: &str, path: &str) -> bool {
    if name.contains('\u{FFFD}') || name.chars().any(char::is_control) {
        checker.push(
            Level::Error,
            path,
            None,
            "file name is not valid UTF-8 or contains control characters; rename it",
        );
        return false;
    }
    if name.contains("..") {
        checker.push(
            Level::Warning,
            path,
            None,
            "file name contains '..'; incident never uses such names as paths: rename it",
        );
    }
    true
}

fn is_digits(name: &str, len: usize) -> bool {
    name.len() == len && name.bytes().all(|b| b.is_ascii_digit())
}

/// `20261124T031502Z-k3f9x2-status`: what `incident` names event files.
pub fn is_event_name(stem: &str) -> bool {
    let mut parts = stem.splitn(3, '-');
    let (Some(time), Some(random), Some(kind)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    time.len() == 16
        && time.as_bytes()[8] == b'T'
        && time.ends_with('Z')
        && id::is_id(random)
        && !kind.is_empty()
        && kind.bytes().all(|b| b.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_are_recognised() {
        assert!(is_event_name("20261124T031502Z-k3f9x2-status"));
        assert!(!is_event_name("notes"));
        assert!(!is_event_name("20261124T031502Z-K3F9X2-status"));
    }
}
