//! The environment of the programs incident starts (git, hooks, editors):
//! the user's own, not what this process changed for libgit2.
//!
//! libgit2 initialises OpenSSL when a command first opens the repository,
//! and OpenSSL then parses every CA certificate of the system bundle: about
//! 20 ms, a doubling of a typical command's time. Commands that never talk
//! to a remote through libgit2 point `SSL_CERT_FILE` at an empty bundle;
//! `git fetch` over https, or a hook that calls curl, must still see the
//! user's value.

use std::ffi::OsString;
use std::process::Command;
use std::sync::OnceLock;

const SSL_CERT_FILE: &str = "SSL_CERT_FILE";

/// The values this process changed, as the user had them (`None`: unset).
static SAVED: OnceLock<Vec<(OsString, Option<OsString>)>> = OnceLock::new();

/// Let libgit2 skip loading CA certificates for this process, remembering
/// the user's setting for child processes.
///
/// # Safety
/// Changes the process environment: call it before any other thread exists.
pub unsafe fn skip_certificate_loading() {
    let _ = SAVED.set(vec![(
        SSL_CERT_FILE.into(),
        std::env::var_os(SSL_CERT_FILE),
    )]);
    // SAFETY: the caller guarantees no other thread exists yet.
    unsafe { std::env::set_var(SSL_CERT_FILE, "/dev/null") };
}

/// Give `command` the user's environment back where this process changed it.
pub fn restore(command: &mut Command) -> &mut Command {
    for (key, value) in SAVED.get().map(Vec::as_slice).unwrap_or_default() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    command
}
