//! Build a demo incident repository with six weeks of realistic, back-dated
//! history (incidents, postmortems, action items), recorded through the same
//! library calls the `incident` commands make, then print the incident list.
//!
//! ```text
//! cargo run --release --example demo -- /tmp/incident-demo
//! cd /tmp/incident-demo && incident list --all
//! ```
//!
//! It needs nothing set up: the repository gets its own `user.name` per
//! responder, and every commit carries the time the event was recorded.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::Duration;
use incident::comms::record::{CommsRequest, record};
use incident::maintenance::Step;
use incident::maintenance::ops::{ScheduleRequest, schedule, step};
use incident::ops::action::{self, AddRequest};
use incident::ops::declare::{DeclareRequest, declare};
use incident::ops::init::init;
use incident::ops::postmortem::{self, PostmortemRequest};
use incident::ops::update::{UpdateRequest, update, update_with};
use incident::render::incident::list;
use incident::render::{Format, Style};
use incident::store::remote::Transfer;
use incident::store::write::{FileWrite, Plan};
use incident::store::{CONFIG_PATH, Store};
use incident::time::{Timestamp, truncate_to_seconds};

/// A small deterministic generator, so the demo tells the same story each run.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn range(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next() % (high - low + 1) as u64) as i64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

const RESPONDERS: &[(&str, &str)] = &[
    ("Alice Moreau", "alice@example.com"),
    ("Bob Okafor", "bob@example.com"),
    ("Carol Chen", "carol@example.com"),
    ("Dmitri Ivanov", "dmitri@example.com"),
    ("Esther Levi", "esther@example.com"),
];

/// (title, services, severity, cause note, fix)
const STORIES: &[(&str, &[&str], &str, &str, &str)] = &[
    (
        "Checkout latency above 2s",
        &["checkout", "payments"],
        "SEV2",
        "connection pool exhausted after deploy 1.42",
        "rolled back payments to 1.41",
    ),
    (
        "Login errors for SSO users",
        &["auth"],
        "SEV2",
        "expired SAML signing certificate",
        "rotated the certificate",
    ),
    (
        "Search results stale",
        &["search"],
        "SEV3",
        "indexer stuck on a poison message",
        "skipped the message and replayed the queue",
    ),
    (
        "Webhook deliveries delayed",
        &["webhooks"],
        "SEV3",
        "worker autoscaling capped at 4 replicas",
        "raised the cap to 12",
    ),
    (
        "API 5xx spike in eu-west",
        &["api"],
        "SEV1",
        "load balancer health checks flapping",
        "drained the bad zone",
    ),
    (
        "Nightly export job failed",
        &["exports"],
        "SEV4",
        "disk full on the export host",
        "cleaned old exports, added retention",
    ),
    (
        "Image uploads failing",
        &["uploads", "storage"],
        "SEV2",
        "object store credentials rotated without rollout",
        "redeployed with new credentials",
    ),
    (
        "Email notifications not sent",
        &["notifications"],
        "SEV3",
        "provider rate limit after a marketing blast",
        "spread sends over an hour",
    ),
    (
        "Dashboard charts empty",
        &["analytics"],
        "SEV4",
        "query timeout after schema change",
        "added the missing index",
    ),
    (
        "Mobile app cannot sync",
        &["api", "sync"],
        "SEV2",
        "breaking change in the sync endpoint",
        "restored the old field",
    ),
];

/// The public name of each story on the status page: the incident's own
/// title is internal.
const PUBLIC_TITLES: &[&str] = &[
    "Slow checkout",
    "Login problems for single sign-on users",
    "Outdated search results",
    "Delayed webhook deliveries",
    "Elevated API error rates in Europe",
    "Delayed data exports",
    "Image uploads failing",
    "Delayed email notifications",
    "Empty dashboard charts",
    "Mobile app sync problems",
];

/// The status page's components and settings, added to the config.
const STATUS_PAGE_CONFIG: &str = r#"
[[component]]
id = "api"
name = "API"
group = "Platform"
description = "REST API used by the apps and integrations"
services = ["api", "sync"]

[[component]]
id = "webhooks"
name = "Webhooks"
group = "Platform"
services = ["webhooks"]

[[component]]
id = "checkout"
name = "Checkout"
group = "Website"
services = ["checkout", "payments"]

[[component]]
id = "login"
name = "Login"
group = "Website"
services = ["auth"]

[[component]]
id = "search"
name = "Search"
group = "Website"
services = ["search"]

[[component]]
id = "uploads"
name = "Uploads"
group = "Website"
services = ["uploads", "storage"]

[[component]]
id = "notifications"
name = "Email notifications"
services = ["notifications"]

[status_page]
name = "Example Status"
timezone = "UTC"
postmortem_url = "https://example.com/postmortems/{id}"
"#;

fn add_status_page_config(store: &Store, now: Timestamp) -> incident::Result<()> {
    let path = store.workdir().join(CONFIG_PATH);
    let mut text = std::fs::read_to_string(&path).map_err(|source| incident::Error::Io {
        path: path.clone(),
        source,
    })?;
    text.push_str(STATUS_PAGE_CONFIG);
    store.commit_with(now, |_| {
        Ok((
            Plan {
                message: "Status page components\n".into(),
                files: vec![FileWrite {
                    path: CONFIG_PATH.into(),
                    content: text.clone().into_bytes(),
                }],
                guard: Vec::new(),
            },
            (),
        ))
    })?;
    Ok(())
}

/// A public update at `time`.
fn post(
    store: &Store,
    id: &str,
    time: Timestamp,
    status: &str,
    text: &str,
    title: Option<&str>,
) -> incident::Result<()> {
    let request = CommsRequest {
        audience: "public".into(),
        status: Some(status.into()),
        text: text.into(),
        public_title: title.map(str::to_string),
        data_loss: (status == "resolved").then_some(false),
        ..CommsRequest::default()
    };
    record(store, id, &request, time)?;
    Ok(())
}

fn at(base: Timestamp, minutes: i64) -> Timestamp {
    base + Duration::minutes(minutes)
}

/// What a reviewer's merge of the pull request does: a merge commit of
/// postmortem/<id> on the current branch, then the working tree checked out.
fn merge_review(store: &Store, id: &str, when: Timestamp) -> incident::Result<()> {
    let repo = &store.repo;
    let branch = repo
        .find_reference(&format!("refs/heads/postmortem/{id}"))?
        .peel_to_commit()?;
    let head = repo.head()?.peel_to_commit()?;
    let mut index = repo.merge_commits(&head, &branch, None)?;
    let tree = repo.find_tree(index.write_tree_to(repo)?)?;
    let time = git2::Time::new(when.timestamp(), 0);
    let reviewer = git2::Signature::new("Carol Chen", "carol@example.com", &time)?;
    repo.commit(
        Some("HEAD"),
        &reviewer,
        &reviewer,
        &format!("Merge branch 'postmortem/{id}': reviewed postmortem"),
        &tree,
        &[&head, &branch],
    )?;
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))?;
    Ok(())
}

fn as_identity(store: &mut Store, who: (&str, &str)) -> incident::Result<()> {
    let mut config = store.repo.config()?;
    config.set_str("user.name", who.0)?;
    config.set_str("user.email", who.1)?;
    // The store read git's config once; the next commit reads it again.
    store.forget_git_config();
    Ok(())
}

fn build(dir: &PathBuf) -> incident::Result<()> {
    // INCIDENT_NOW, when set, as for every command: a reproducible demo.
    let today = truncate_to_seconds(incident::time::now()?);
    let start = today - Duration::weeks(6);
    // A fresh machine may have no git identity: give the new repository one
    // before the first commit.
    std::fs::create_dir_all(dir).map_err(|source| incident::Error::Io {
        path: dir.clone(),
        source,
    })?;
    let mut options = git2::RepositoryInitOptions::new();
    options.initial_head("main");
    git2::Repository::init_opts(dir, &options)?;
    let mut store = Store::open(dir)?;
    as_identity(&mut store, RESPONDERS[0])?;
    init(dir, start, &Default::default())?;
    add_status_page_config(&store, start)?;
    let mut dice = Dice(0x5eed_1dea);
    let mut previous: Option<String> = None;
    let count = 16;
    for n in 0..count {
        let story = STORIES[n % STORIES.len()];
        let (title, services, severity, cause, fix) = story;
        let day = (n as i64 * 42) / count as i64;
        let started = at(start, day * 1440 + dice.range(0, 1439));
        let detected = at(started, dice.range(1, 25));
        let declared = at(detected, dice.range(1, 10));
        let commander = dice.pick(RESPONDERS);
        let reporter = dice.pick(RESPONDERS);
        let recent = n >= count - 2;
        let started = if recent {
            today - Duration::minutes(dice.range(40, 300))
        } else {
            started
        };
        let detected = if recent { at(started, 3) } else { detected };
        let declared = if recent { at(detected, 2) } else { declared };

        as_identity(&mut store, *reporter)?;
        let request = DeclareRequest {
            title: title.to_string(),
            severity: severity.to_string(),
            services: services.iter().map(|s| s.to_string()).collect(),
            commander: Some(
                commander
                    .0
                    .split(' ')
                    .next()
                    .unwrap_or("alice")
                    .to_lowercase(),
            ),
            summary: Some(format!("Reported by monitoring: {}.", title.to_lowercase())),
            started_at: Some(started.to_rfc3339()),
            detected_at: Some(detected.to_rfc3339()),
            ..DeclareRequest::default()
        };
        let id = declare(&store, &request, declared)?.incident.id;
        let public = severity == "SEV1" || severity == "SEV2";
        let public_title = PUBLIC_TITLES[n % STORIES.len()];

        // One false alarm and one duplicate, as real queues have.
        if n == 5 {
            as_identity(&mut store, *commander)?;
            let req = UpdateRequest {
                status: Some("cancelled".into()),
                reason: Some("synthetic check misfired; no user impact".into()),
                verb: Some("Cancel".into()),
                ..UpdateRequest::default()
            };
            update(&store, &id, &req, at(declared, 9))?;
            continue;
        }
        if n == 9
            && let Some(original) = &previous
        {
            let req = UpdateRequest {
                status: Some("duplicate".into()),
                duplicate_of: Some(original.clone()),
                verb: Some("Mark duplicate".into()),
                ..UpdateRequest::default()
            };
            update(&store, &id, &req, at(declared, 4))?;
            continue;
        }

        let acked = at(declared, dice.range(1, 8));
        as_identity(&mut store, *commander)?;
        let ack = UpdateRequest {
            acknowledge: true,
            notes: vec!["on it, opening the dashboards".into()],
            verb: Some("Acknowledge".into()),
            ..UpdateRequest::default()
        };
        update(&store, &id, &ack, acked)?;
        // The customer liaison posts in public, executives hear about SEV1s.
        if public {
            post(
                &store,
                &id,
                at(acked, 1),
                "investigating",
                &format!(
                    "We are investigating reports of problems: {}.",
                    public_title.to_lowercase()
                ),
                Some(public_title),
            )?;
        }
        if severity == "SEV1" {
            let exec = CommsRequest {
                audience: "exec".into(),
                text: format!("SEV1 on {}: {cause}; customers affected.", services[0]),
                ..CommsRequest::default()
            };
            record(&store, &id, &exec, at(acked, 2))?;
        }
        let identified = at(acked, dice.range(5, 50));
        let scribe = dice.pick(RESPONDERS);
        let found = UpdateRequest {
            status: Some("identified".into()),
            notes: vec![format!("cause: {cause}")],
            roles: vec![(
                "scribe".into(),
                scribe.0.split(' ').next().unwrap_or("bob").to_lowercase(),
            )],
            ..UpdateRequest::default()
        };
        update(&store, &id, &found, identified)?;
        if public {
            post(
                &store,
                &id,
                at(identified, 1),
                "identified",
                "We have identified the cause and are working on a fix.",
                None,
            )?;
        }
        if recent {
            previous = Some(id);
            continue;
        }
        let mitigated = at(identified, dice.range(3, 40));
        let mitigate = UpdateRequest {
            status: Some("mitigated".into()),
            notes: vec![format!("mitigation: {fix}")],
            ..UpdateRequest::default()
        };
        // Some events are written down after the fact, as happens at 3 a.m.
        let written = if n % 4 == 0 {
            at(mitigated, 95)
        } else {
            mitigated
        };
        update(
            &store,
            &id,
            &UpdateRequest {
                at: Some(mitigated.to_rfc3339()),
                ..mitigate
            },
            written,
        )?;
        let resolved = at(mitigated.max(written), dice.range(10, 120));
        let resolve = UpdateRequest {
            status: Some("resolved".into()),
            reason: Some(fix.to_string()),
            verb: Some("Resolve".into()),
            ..UpdateRequest::default()
        };
        // As `incident resolve` does: SEV1-3 get a postmortem due, with the
        // draft on the review branch postmortem/<id>.
        let due = postmortem::ResolutionPostmortem::default();
        let resolution = update_with(&store, &id, &resolve, resolved, &|c| due.files(&store, c))?;
        due.write_draft(&store, resolution.committed.commit, resolved);
        if public {
            post(
                &store,
                &id,
                resolved,
                "resolved",
                "This incident has been resolved; everything works normally again.",
                None,
            )?;
        }
        if severity == "SEV1" || severity == "SEV2" {
            let raise = UpdateRequest {
                notes: vec!["postmortem owner assigned".into()],
                links: vec![format!("https://status.example.com/incidents/{id}")],
                ..UpdateRequest::default()
            };
            update(&store, &id, &raise, at(resolved, 30))?;
            // The learning half: an action item with an owner and a due
            // date, the postmortem refreshed on its branch, and (for the
            // older ones) the review merged: published.
            let item = AddRequest {
                text: format!("Alert earlier on {}", services[0]),
                owner: Some(
                    commander
                        .0
                        .split(' ')
                        .next()
                        .unwrap_or("alice")
                        .to_lowercase(),
                ),
                kind: Some("detect".into()),
                priority: Some("high".into()),
                ..AddRequest::default()
            };
            action::add(&store, &id, &item, at(resolved, 90))?;
            let keep_text = &mut |_: &str, text: &str| Ok(text.to_string());
            postmortem::write(
                &store,
                &id,
                &PostmortemRequest {
                    refresh: true,
                    ..PostmortemRequest::default()
                },
                at(resolved, 120),
                &mut Transfer::default(),
                keep_text,
            )?;
            let merged = at(resolved, 2 * 24 * 60);
            if merged < today - Duration::days(7) {
                merge_review(&store, &id, merged)?;
            }
        }
        previous = Some(id);
    }
    // Scheduled maintenance: one done last week, one coming up.
    as_identity(&mut store, RESPONDERS[2])?;
    let done = schedule(
        &store,
        &ScheduleRequest {
            title: "Database upgrade".into(),
            description: Some("The API may answer slowly for a few minutes.".into()),
            from: (today - Duration::days(6)).to_rfc3339(),
            until: (today - Duration::days(6) + Duration::hours(1)).to_rfc3339(),
            components: vec!["api".into()],
        },
        today - Duration::days(8),
    )?;
    let id = done.maintenance.record.id.clone();
    step(
        &store,
        &id,
        Step::Start,
        None,
        None,
        today - Duration::days(6),
    )?;
    step(
        &store,
        &id,
        Step::Complete,
        Some("The upgrade is done.".into()),
        None,
        today - Duration::days(6) + Duration::minutes(40),
    )?;
    schedule(
        &store,
        &ScheduleRequest {
            title: "Search index rebuild".into(),
            description: Some("Search results may be incomplete during the rebuild.".into()),
            from: (today + Duration::days(2)).to_rfc3339(),
            until: (today + Duration::days(2) + Duration::hours(2)).to_rfc3339(),
            components: vec!["search".into()],
        },
        today - Duration::minutes(5),
    )?;
    let config = store.config()?;
    let tree = store.head_tree()?;
    let mut incidents = Vec::new();
    if let Some(tree) = &tree {
        for folder in store.folders(tree)? {
            incidents.push(store.load(&config, tree, &folder)?);
        }
    }
    incidents.sort_by_key(|i| std::cmp::Reverse(i.milestone("started")));
    let style = Style {
        color: false,
        zone: config.zone(),
        now: today,
    };
    print!("{}", list(&incidents, &config, Format::Table, &style)?);
    println!(
        "\nDemo repository ready in {} ({} incidents). Try:\n  cd {} && incident list && incident show {}",
        dir.display(),
        incidents.len(),
        dir.display(),
        incidents.first().map(|i| i.id.as_str()).unwrap_or("ID")
    );
    Ok(())
}

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: cargo run --release --example demo -- DIR");
        return ExitCode::from(2);
    };
    if dir.exists()
        && std::fs::read_dir(&dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        eprintln!(
            "error: {} exists and is not empty; pick a new folder",
            dir.display()
        );
        return ExitCode::from(1);
    }
    match build(&dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(1)
        }
    }
}
