//! Who is committing, and when: the same sources, in the same order, as
//! `git var GIT_AUTHOR_IDENT` and `git var GIT_COMMITTER_IDENT`.
//!
//! Names and e-mails come from `GIT_AUTHOR_*` / `GIT_COMMITTER_*`, then
//! `author.*` / `committer.*`, then `user.*` in git's effective config (see
//! [`super::gitconfig`]), then `EMAIL`. When those leave something unset,
//! git itself decides (it may guess from the system, or refuse): incident
//! asks `git var`, so the answer, and the refusal, are git's.

use std::path::Path;
use std::process::{Command, Stdio};

use chrono::DateTime;
use git2::{Repository, Signature, Time};

use super::gitconfig::{self, GitConfig};
use crate::error::{Error, Result};
use crate::model::event::Person;
use crate::time::Timestamp;

/// Author and committer of the next commit.
#[derive(Debug, Clone)]
pub struct Identity {
    pub author: Person,
    pub author_time: Timestamp,
    pub committer: Person,
    pub committer_time: Timestamp,
}

#[derive(Clone, Copy)]
enum Role {
    Author,
    Committer,
}

impl Role {
    fn env(self, what: &str) -> String {
        match self {
            Role::Author => format!("GIT_AUTHOR_{what}"),
            Role::Committer => format!("GIT_COMMITTER_{what}"),
        }
    }

    fn config(self, what: &str) -> String {
        match self {
            Role::Author => format!("author.{what}"),
            Role::Committer => format!("committer.{what}"),
        }
    }

    fn git_var(self) -> &'static str {
        match self {
            Role::Author => "GIT_AUTHOR_IDENT",
            Role::Committer => "GIT_COMMITTER_IDENT",
        }
    }
}

impl Identity {
    /// Resolve the identity in `repo`, reading git's config for it.
    pub fn resolve(repo: &Repository, now: Timestamp) -> Result<Identity> {
        let workdir = repo.workdir().unwrap_or(repo.path());
        let config = GitConfig::load(Some(repo.path()), workdir)?;
        Identity::from_config(&config, repo.path(), workdir, now)
    }

    /// Resolve from an effective config already read; `git var` runs (in
    /// `workdir`, on `git_dir`) only when the config and environment leave
    /// a name or e-mail unset.
    pub fn from_config(
        config: &GitConfig,
        git_dir: &Path,
        workdir: &Path,
        now: Timestamp,
    ) -> Result<Identity> {
        let (author, author_time) = person(config, Role::Author, git_dir, workdir, now)?;
        let (committer, committer_time) = person(config, Role::Committer, git_dir, workdir, now)?;
        Ok(Identity {
            author,
            author_time,
            committer,
            committer_time,
        })
    }

    pub fn author_signature(&self) -> Result<Signature<'static>> {
        signature(&self.author, &self.author_time)
    }

    pub fn committer_signature(&self) -> Result<Signature<'static>> {
        signature(&self.committer, &self.committer_time)
    }

    /// The environment that makes git use exactly this identity and these
    /// dates (for `git commit-tree` and for hooks, which git gives the author's).
    pub fn author_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GIT_AUTHOR_NAME", self.author.name.clone()),
            ("GIT_AUTHOR_EMAIL", self.author.email.clone()),
            ("GIT_AUTHOR_DATE", git_date(&self.author_time)),
        ]
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = self.author_env();
        env.extend([
            ("GIT_COMMITTER_NAME", self.committer.name.clone()),
            ("GIT_COMMITTER_EMAIL", self.committer.email.clone()),
            ("GIT_COMMITTER_DATE", git_date(&self.committer_time)),
        ]);
        env
    }
}

/// `@1700000000 +0100`: git's internal date form.
pub fn git_date(at: &Timestamp) -> String {
    let offset = at.offset().local_minus_utc() / 60;
    let sign = if offset < 0 { '-' } else { '+' };
    let offset = offset.abs();
    format!(
        "@{} {sign}{:02}{:02}",
        at.timestamp(),
        offset / 60,
        offset % 60
    )
}

fn person(
    config: &GitConfig,
    role: Role,
    git_dir: &Path,
    workdir: &Path,
    now: Timestamp,
) -> Result<(Person, Timestamp)> {
    // An environment variable that is set counts even when empty, as in git.
    let env = |key: &str| std::env::var(key).ok();
    let config_value = |key: &str| config.get(key).map(str::to_string);
    let name = env(&role.env("NAME"))
        .or_else(|| config_value(&role.config("name")))
        .or_else(|| config_value("user.name"));
    let email = env(&role.env("EMAIL"))
        .or_else(|| config_value(&role.config("email")))
        .or_else(|| config_value("user.email"))
        .or_else(|| env("EMAIL").filter(|e| !e.is_empty()));
    let date_var = role.env("DATE");
    // git reads more date forms than parse_git_date; those it leaves to git.
    let date = match env(&date_var) {
        Some(text) => parse_git_date(&text),
        None => Some(now),
    };
    let name = name.map(|n| strip_crud(&n)).filter(|n| !n.is_empty());
    let email = email.map(|e| strip_crud(&e)).filter(|e| !e.is_empty());
    if let (Some(name), Some(email), Some(date)) = (&name, &email, date) {
        return Ok((
            Person {
                name: name.clone(),
                email: email.clone(),
            },
            date,
        ));
    }
    let missing = if email.is_none() {
        "user.email"
    } else {
        "user.name"
    };
    let (person, git_time) = ask_git(role, git_dir, workdir, missing)?;
    let time = match (env(&date_var), git_time) {
        (Some(_), Some(time)) => time,
        _ => now,
    };
    Ok((person, time))
}

/// `git var GIT_AUTHOR_IDENT`: git's own answer, with its guesses and its refusal.
fn ask_git(
    role: Role,
    git_dir: &Path,
    workdir: &Path,
    missing: &'static str,
) -> Result<(Person, Option<Timestamp>)> {
    let output = Command::new("git")
        .args(["var", role.git_var()])
        .current_dir(workdir)
        .env("GIT_DIR", git_dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| Error::GitCommand {
            command: format!("git var {}", role.git_var()),
            detail: format!("cannot run git: {source}"),
        })?;
    let text = String::from_utf8_lossy(&output.stdout);
    if output.status.success()
        && let Some(parsed) = parse_ident(text.trim())
    {
        return Ok(parsed);
    }
    let said = String::from_utf8_lossy(&output.stderr);
    let reason = said
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("fatal: "))
        .unwrap_or("")
        .to_string();
    if reason.contains("date") {
        return Err(Error::BadTime {
            input: std::env::var(role.env("DATE")).unwrap_or_default(),
            reason: format!(
                "{} is not a date git understands (git: {reason})",
                role.env("DATE")
            ),
        });
    }
    let key = if reason.contains("name") {
        "user.name"
    } else if reason.contains("email") {
        "user.email"
    } else {
        missing
    };
    Err(Error::MissingIdentity {
        key,
        git_said: reason,
        global_file: gitconfig::global_config_file(),
    })
}

/// `Name <email> 1700000000 +0100`.
fn parse_ident(text: &str) -> Option<(Person, Option<Timestamp>)> {
    let (name, rest) = text.split_once('<')?;
    let (email, date) = rest.split_once('>')?;
    let name = name.trim().to_string();
    if name.is_empty() || email.trim().is_empty() {
        return None;
    }
    Some((
        Person {
            name,
            email: email.trim().to_string(),
        },
        parse_git_date(date.trim()),
    ))
}

/// git's ident cleanup: no `<`, `>` or newlines inside, and no leading or
/// trailing whitespace or `.,:;<>"\'` ("crud").
fn strip_crud(text: &str) -> String {
    let is_crud = |c: char| {
        (c as u32) <= 32 || matches!(c, '.' | ',' | ':' | ';' | '<' | '>' | '"' | '\\' | '\'')
    };
    text.trim_matches(is_crud)
        .chars()
        .filter(|c| !matches!(c, '<' | '>' | '\n'))
        .collect()
}

fn signature(person: &Person, at: &Timestamp) -> Result<Signature<'static>> {
    let time = Time::new(at.timestamp(), at.offset().local_minus_utc() / 60);
    Ok(Signature::new(&person.name, &person.email, &time)?)
}

/// The date forms git accepts in `GIT_*_DATE`: `@1700000000 +0100`,
/// `1700000000 +0100`, RFC 2822 and ISO 8601.
pub fn parse_git_date(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    let raw = text.strip_prefix('@').unwrap_or(text);
    let mut parts = raw.split_whitespace();
    if let (Some(seconds), offset) = (parts.next(), parts.next())
        && let Ok(seconds) = seconds.parse::<i64>()
    {
        let offset = match offset {
            Some(o) => parse_offset(o)?,
            None => 0,
        };
        let zone = chrono::FixedOffset::east_opt(offset)?;
        return DateTime::from_timestamp(seconds, 0).map(|t| t.with_timezone(&zone));
    }
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_rfc2822(text))
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S %z"))
        .ok()
}

fn parse_offset(text: &str) -> Option<i32> {
    let (sign, digits) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let digits = digits.replace(':', "");
    if digits.len() != 4 {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    Some(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_git_date_forms() {
        let expected = DateTime::parse_from_rfc3339("2023-11-14T23:13:20+01:00").unwrap();
        assert_eq!(parse_git_date("@1700000000 +0100"), Some(expected));
        assert_eq!(parse_git_date("1700000000 +01:00"), Some(expected));
        assert_eq!(parse_git_date("2023-11-14T23:13:20+01:00"), Some(expected));
        assert_eq!(
            parse_git_date("Tue, 14 Nov 2023 23:13:20 +0100"),
            Some(expected)
        );
        assert_eq!(parse_git_date("yesterday-ish"), None);
        assert_eq!(git_date(&expected), "@1700000000 +0100");
        let west = DateTime::parse_from_rfc3339("2023-11-14T12:43:20-09:30").unwrap();
        assert_eq!(git_date(&west), "@1700000000 -0930");
    }

    #[test]
    fn idents_are_cleaned_as_git_does() {
        assert_eq!(strip_crud("  Ada <Lovelace>. "), "Ada Lovelace");
        assert_eq!(strip_crud("<ada@example.com>"), "ada@example.com");
        let (person, time) = parse_ident("Ada L <ada@example.com> 1700000000 +0100").unwrap();
        assert_eq!(person.name, "Ada L");
        assert_eq!(person.email, "ada@example.com");
        assert_eq!(time.unwrap().timestamp(), 1_700_000_000);
    }
}
