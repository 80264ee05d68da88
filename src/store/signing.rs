//! Signed commits, made by git itself.
//!
//! git signs with OpenPGP (`gpg`), SSH (`ssh-keygen -Y sign`) or X.509
//! (`gpgsm`), chosen by `gpg.format`, with the key from `user.signingKey`
//! (for SSH also `gpg.ssh.defaultKeyCommand`, literal `key::` keys and the
//! agent), the programs from `gpg.program`, `gpg.<format>.program`. Rather
//! than re-implementing each of those rules, a commit that must be signed is
//! made by `git commit-tree TREE -p PARENT... -S[KEY]`, with the message on
//! its standard input and the author and committer (names, e-mails and the
//! dates incident chose) in its environment: the object is exactly what
//! `git commit -S` would write. An unsigned commit stays in-process (no
//! process started), byte for byte the same object `git commit-tree` makes.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use git2::Oid;

use super::gitconfig::GitConfig;
use super::identity::Identity;
use crate::error::{Error, Result};

/// What the command line says about signing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SignMode {
    /// Neither `-S` nor `--no-gpg-sign`: `commit.gpgSign` decides.
    #[default]
    Config,
    /// `-S` / `--gpg-sign[=KEYID]`: sign, with this key or git's default one.
    Key(Option<String>),
    /// `--no-gpg-sign`.
    Off,
}

/// Whether the next commit is signed, and with which `-S` argument.
pub fn signing_argument(config: &GitConfig, mode: &SignMode) -> Result<Option<String>> {
    Ok(match mode {
        SignMode::Off => None,
        SignMode::Key(None) => Some("-S".into()),
        SignMode::Key(Some(key)) if key.is_empty() => Some("-S".into()),
        SignMode::Key(Some(key)) => Some(format!("-S{key}")),
        SignMode::Config => match config.bool("commit.gpgSign")? {
            Some(true) => Some("-S".into()),
            _ => None,
        },
    })
}

/// The program git will run to sign, for messages.
pub fn signing_program(config: &GitConfig) -> String {
    let format = config
        .get("gpg.format")
        .unwrap_or("openpgp")
        .to_ascii_lowercase();
    let configured = match format.as_str() {
        "ssh" => config.get("gpg.ssh.program"),
        "x509" => config.get("gpg.x509.program"),
        _ => config
            .get("gpg.openpgp.program")
            .or(config.get("gpg.program")),
    };
    let default = match format.as_str() {
        "ssh" => "ssh-keygen",
        "x509" => "gpgsm",
        _ => "gpg",
    };
    format!("{} ({format})", configured.unwrap_or(default))
}

/// `git commit-tree`, signing with `sign` (`-S` or `-SKEY`).
#[allow(clippy::too_many_arguments)]
pub fn commit_with_git(
    git_dir: &Path,
    workdir: &Path,
    config: &GitConfig,
    tree: Oid,
    parents: &[Oid],
    message: &str,
    identity: &Identity,
    sign: &str,
) -> Result<Oid> {
    let mut command = Command::new("git");
    command.arg("commit-tree").arg(tree.to_string());
    for parent in parents {
        command.arg("-p").arg(parent.to_string());
    }
    command
        .arg(sign)
        .current_dir(workdir)
        .env("GIT_DIR", git_dir)
        .envs(identity.env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let failed = |detail: String| Error::SigningFailed {
        program: signing_program(config),
        detail,
    };
    let mut child = command
        .spawn()
        .map_err(|e| failed(format!("cannot run git: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(message.as_bytes())
            .map_err(|e| failed(format!("cannot pass the message to git: {e}")))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|e| failed(format!("git did not finish: {e}")))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if output.status.success()
        && let Ok(oid) = Oid::from_str(stdout.trim())
    {
        return Ok(oid);
    }
    let said: Vec<String> = String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| !l.starts_with("[GNUPG:]") && !l.trim().is_empty())
        .map(|l| {
            l.trim_start_matches("error: ")
                .trim_start_matches("fatal: ")
                .to_string()
        })
        .collect();
    Err(failed(if said.is_empty() {
        format!("git commit-tree exited with {}", output.status)
    } else {
        said.join("; ")
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_config() {
        let on = GitConfig::from_pairs(&[("commit.gpgsign", "true")]);
        let off = GitConfig::default();
        assert_eq!(
            signing_argument(&on, &SignMode::Config).unwrap().as_deref(),
            Some("-S")
        );
        assert_eq!(signing_argument(&on, &SignMode::Off).unwrap(), None);
        assert_eq!(signing_argument(&off, &SignMode::Config).unwrap(), None);
        assert_eq!(
            signing_argument(&off, &SignMode::Key(Some("ABC".into())))
                .unwrap()
                .as_deref(),
            Some("-SABC")
        );
        let ssh = GitConfig::from_pairs(&[("gpg.format", "ssh")]);
        assert_eq!(signing_program(&ssh), "ssh-keygen (ssh)");
    }
}
