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

/// What the responders wrote in each story's postmortem, by section of the
/// `sre` template. Each write-up is adapted from one of PostHog's public
/// post-mortems (github.com/PostHog/post-mortems, snapshot in
/// /work/shared/datasets/posthog-postmortems), retold for the demo's
/// story: see [`POSTHOG_NOTICE`] for their licence.
struct Writeup {
    /// The PostHog post-mortem it is adapted from.
    source: &'static str,
    summary: &'static str,
    impact: &'static str,
    root_causes: &'static str,
    trigger: &'static str,
    resolution: &'static str,
    detection: &'static str,
    went_well: &'static str,
    went_wrong: &'static str,
    lucky: &'static str,
    messaging: &'static str,
}

/// The licence of the PostHog post-mortems the write-ups are adapted from
/// (MIT): the demo repository carries it in `docs/postmortem-sources.md`.
const POSTHOG_NOTICE: &str = r#"# Sources of the demo's postmortems

The written parts of this demo's postmortems are adapted from PostHog's
public post-mortems, <https://github.com/PostHog/post-mortems> (commit
4712e41007b66f9df5230d3fc1fa8588c253d623), under this licence:

MIT License

Copyright (c) 2024 PostHog

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"#;

/// Where the demo repository keeps [`POSTHOG_NOTICE`].
const SOURCES_PATH: &str = "docs/postmortem-sources.md";

/// The write-ups of the stories severe enough for a reviewed postmortem,
/// by story title.
const WRITEUPS: &[(&str, Writeup)] = &[
    (
        "Checkout latency above 2s",
        Writeup {
            source: "PostHog Feature Flags Service Outage - September 29, 2025",
            summary: "A database connection timeout reduction in payments 1.42 coincided with elevated load on the writer database. The combination triggered cascading failures in our connection retry logic, and checkout requests queued for connections until p99 latency passed 2 s. Rolling payments back to 1.41 ended the impact.",
            impact: "About one checkout request in five took longer than 2 s and roughly 3% failed with HTTP 504 errors, whatever the customer's basket or payment method; customers retried and no orders were lost.",
            root_causes: "Three compounding factors. The shorter timeout, deployed while the database was under stress, left pods unable to establish connections within the new window. Our retry logic lacked circuit breakers and exponential backoff, so failed connection attempts multiplied and turned a manageable load issue into an exhausted pool. And the timeout was hardcoded rather than externalized as configuration, so changing it needed a full deployment cycle.",
            trigger: "The deploy of payments 1.42, which cut the database connection timeout from 1 s to 300 ms.",
            resolution: "The on-call engineer rolled payments back to 1.41 and latency was normal again within minutes. The connection timeout has moved to runtime configuration, and circuit breakers with exponential backoff are being added before the retry change returns.",
            detection: "The checkout p99 latency alert. An alert on connection-pool wait time would have fired at the first queued request.",
            went_well: "The rollback was one command, and the deploy log made the suspect release obvious.",
            went_wrong: "The coupling of retries and connection creation was not understood, and the pool had never been load-tested under contention.",
            lucky: "It began after the evening peak; at peak every request would have waited for the pool.",
            messaging: "Status page posts as we investigated, identified the cause and resolved it; support had a reply ready for customers asking about double charges (there were none).",
        },
    ),
    (
        "Login errors for SSO users",
        Writeup {
            source: "PostHog Data Processing Delays - Events & Persons Ingestion (November 2025)",
            summary: "Users who sign in with single sign-on could not log in because our SAML signing certificate reached its expiry date, a limit nothing watched. A new certificate, and new metadata sent to the identity providers, restored logins.",
            impact: "Every SSO login failed; password logins and existing sessions kept working. About 40 enterprise customers could not sign in until their identity provider picked up the new metadata. No data was lost.",
            root_causes: "The certificate is a finite resource with a hard limit, and we had no dedicated monitoring for how close to it we were. Its expiry was known only to the people who set it up two years ago.",
            trigger: "The SAML signing certificate expired.",
            resolution: "We issued a new certificate, deployed it to the auth service and published the new metadata; the admins of identity providers that do not refresh metadata were contacted one by one.",
            detection: "The login error-rate alert, soon followed by support tickets. An expiry alert would have warned us weeks ahead.",
            went_well: "Support, auth and infrastructure engineers worked as one team, and the runbook for rotating the certificate worked as written.",
            went_wrong: "Diagnosis took too long: the errors pointed at the identity providers first. And the people normally responsible for customer communications were unavailable, so we had to scramble to find fallbacks.",
            lucky: "It expired at night, when few enterprise users sign in.",
            messaging: "Regular engineer-led status page updates, emails to the admins of affected customers with the steps to refresh our metadata, and a commitment to publish this postmortem.",
        },
    ),
    (
        "API 5xx spike in eu-west",
        Writeup {
            source: "PostHog Feature Flags Service - Multiple Outages (October 2025)",
            summary: "API requests in eu-west failed with 502 and 503 errors: load balancer health checks flapped under CPU pressure, and retries between the load balancer and the service fanned out into more load. Draining the affected zone stopped the errors.",
            impact: "Up to 35% of API requests in eu-west failed; the mobile apps and integrations in Europe saw errors and retries. Other regions were not affected.",
            root_causes: "Nodes in one zone were too small for the pods scheduled on them, and CPU saturation above 90% slowed health-check responses past their one-second timeout. Healthy instances were marked down and up every few seconds, and each retry spawned new concurrent requests. There was no alert on CPU pressure, and the health-check settings came from a template and were never tuned.",
            trigger: "A routine deployment that rescheduled API pods onto the smaller nodes of one eu-west zone.",
            resolution: "We drained the affected zone and scaled up the other two, and the errors stopped. Health checks now allow three seconds and two failures, and the nodes are being right-sized.",
            detection: "The API error-rate alert, a few minutes after the first errors.",
            went_well: "A systematic investigation: the network and platform teams worked together and found the flapping in the load balancer's logs.",
            went_wrong: "Our first fix addressed a symptom (more instances) rather than the cause, and autoscaling fought the drain, adding instances in the bad zone, until we pinned it.",
            lucky: "The largest API customers were outside their business hours.",
            messaging: "Status page posts at each stage, an executive summary once the cause was known, and a note to the largest API customers afterwards.",
        },
    ),
    (
        "Image uploads failing",
        Writeup {
            source: "Post-Mortem: Changes to SDK fetch() wrapper breaking client sites",
            summary: "Image uploads failed because the object store's access keys were rotated while the upload service still used the old ones. A recently introduced manual step in the rotation, rolling the new keys out to services, was not followed, and nothing verified it. Redeploying the service with the new keys fixed it.",
            impact: "Every image upload failed with an error; existing images still loaded. About 2,300 uploads failed and had to be retried by their users.",
            root_causes: "Key rotation is a manual process in the cloud console, separate from deploying the services that use the keys, and there was no verification step to confirm that every service had the new keys before the old ones were revoked.",
            trigger: "The quarterly rotation of the object store's access keys.",
            resolution: "We redeployed the upload service with the new keys from the secret store; uploads worked again at once. The old keys are now revoked only after a grace period.",
            detection: "The upload error-rate alert, minutes after the rotation.",
            went_well: "The rotation had been announced in the ops channel, so the cause was found within minutes.",
            went_wrong: "The redeploy waited for a build, because the service reads its keys only when it starts.",
            lucky: "Only the upload service used those keys; the thumbnail workers have their own.",
            messaging: "Two status page posts (investigating, resolved) and an in-app banner asking users to retry their uploads.",
        },
    ),
    (
        "Mobile app cannot sync",
        Writeup {
            source: "PostHog Surveys SDK Bug - October 3, 2025",
            summary: "The mobile apps could not sync because an API release removed a field that older app versions still read. Restoring the field fixed sync for everyone.",
            impact: "Users of app versions older than 5.2, about 30% of mobile users, saw sync errors; the web app was not affected.",
            root_causes: "A version mismatch: customers run the app at whatever version they installed, possibly months old, but the API always serves the latest contract. We lack automated tests that verify a new API release works with older app versions, and review had no way to flag a change that older clients depend on.",
            trigger: "The API release that removed the deprecated field.",
            resolution: "We restored the field in a hotfix release; the apps synced on their next retry.",
            detection: "Support tickets: no monitoring alerted us to the spike in client-side errors, so we learned of it from users.",
            went_well: "Quick mitigation once identified, and support, mobile and API engineers all contributed.",
            went_wrong: "We declared the incident late, missing the chance of a coordinated response and timely customer communication.",
            lucky: "The apps retry sync by themselves, so nobody's changes were lost.",
            messaging: "A status page post and an in-app message asking users to update the app.",
        },
    ),
];

/// A postmortem with its prompts answered, as the responders would edit it.
/// `repeat`: the story happened before, with its action items still open.
fn write_up(title: &str, text: &str, repeat: bool, reviewed: bool) -> incident::Result<String> {
    let Some((_, writeup)) = WRITEUPS.iter().find(|(t, _)| *t == title) else {
        return Err(incident::Error::InvalidInput {
            message: format!("the demo has no postmortem write-up for '{title}'"),
        });
    };
    let mut section = String::new();
    let mut out = String::new();
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix('#') {
            section = heading.trim_start_matches('#').trim().to_lowercase();
        }
        let answer = match section.as_str() {
            _ if !line.starts_with("> TODO:") => None,
            "summary" => Some(writeup.summary.to_string()),
            "impact" => Some(writeup.impact.to_string()),
            "root causes" if repeat => Some(format!(
                "{} It happened again because the action items from the first time were still open.",
                writeup.root_causes
            )),
            "root causes" => Some(writeup.root_causes.to_string()),
            "trigger" => Some(writeup.trigger.to_string()),
            "resolution" => Some(writeup.resolution.to_string()),
            "detection" => Some(writeup.detection.to_string()),
            "what went well" => Some(writeup.went_well.to_string()),
            "what went wrong" => Some(writeup.went_wrong.to_string()),
            "where we got lucky" => Some(writeup.lucky.to_string()),
            "messaging" => Some(writeup.messaging.to_string()),
            _ => None,
        };
        let line = match answer {
            Some(answer) => answer,
            None if reviewed && line.starts_with("Status: Draft.") => {
                line.replacen("Status: Draft.", "Status: Reviewed.", 1)
            }
            None if line.starts_with("Status: Draft.") => {
                line.replacen("Status: Draft.", "Status: In review.", 1)
            }
            None => line.to_string(),
        };
        out.push_str(&line);
        out.push('\n');
        if line.starts_with("<!-- END GENERATED links") && !text.contains(SOURCES_PATH) {
            out.push_str(&format!(
                "\nAdapted for this demo from PostHog's public post-mortem \"{}\" (MIT licence, see {SOURCES_PATH}).\n",
                writeup.source
            ));
        }
    }
    Ok(out)
}

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
    commit_file(store, now, CONFIG_PATH, &text, "Status page components\n")
}

/// One commit that writes `text` to `path`.
fn commit_file(
    store: &Store,
    now: Timestamp,
    path: &str,
    text: &str,
    message: &str,
) -> incident::Result<()> {
    store.commit_with(now, |_| {
        Ok((
            Plan {
                message: message.into(),
                files: vec![FileWrite {
                    path: path.into(),
                    content: text.as_bytes().to_vec(),
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
    commit_file(
        &store,
        start,
        SOURCES_PATH,
        POSTHOG_NOTICE,
        "Sources and licence of the demo's postmortem texts\n",
    )?;
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
            // The commander writes it up (the generated parts refreshed to
            // list the item), a reviewer merges it two days later.
            let merged = at(resolved, 2 * 24 * 60);
            let reviewed = merged < today - Duration::days(7);
            let repeat = n >= STORIES.len();
            let fill = &mut |_: &str, text: &str| write_up(title, text, repeat, reviewed);
            postmortem::write(
                &store,
                &id,
                &PostmortemRequest {
                    refresh: true,
                    edit: true,
                    ..PostmortemRequest::default()
                },
                at(resolved, 120),
                &mut Transfer::default(),
                fill,
            )?;
            if reviewed {
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
