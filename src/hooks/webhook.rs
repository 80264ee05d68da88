//! The built-in webhook sender, signed per the Standard Webhooks
//! specification: headers `webhook-id` (the event's id, the same on every
//! retry), `webhook-timestamp` (seconds since the epoch) and
//! `webhook-signature` (`v1,` and the base64 HMAC-SHA256 of
//! `id.timestamp.body` under the shared secret).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};

/// Standard Webhooks secrets are base64 with this prefix (which is optional here).
const SECRET_PREFIX: &str = "whsec_";

/// The key bytes of a Standard Webhooks secret (`whsec_` and base64).
pub fn secret_key(secret: &str) -> Result<Vec<u8>> {
    let encoded = secret.trim();
    let encoded = encoded.strip_prefix(SECRET_PREFIX).unwrap_or(encoded);
    let key = STANDARD.decode(encoded).map_err(|_| Error::InvalidInput {
        message: "the webhook secret is not a Standard Webhooks secret: expected whsec_ followed by base64 (for example one made with `openssl rand -base64 32`)".into(),
    })?;
    if key.is_empty() {
        return Err(Error::InvalidInput {
            message: "the webhook secret is empty".into(),
        });
    }
    Ok(key)
}

/// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// One signed request.
pub struct Request<'a> {
    pub url: &'a str,
    pub id: &'a str,
    pub timestamp: i64,
    pub body: &'a [u8],
    /// `None`: send unsigned (for receivers that do not verify).
    pub key: Option<&'a [u8]>,
    pub timeout: Duration,
}

/// POST the body; the HTTP status on any answer, an error when there was none.
pub fn send(request: &Request<'_>) -> Result<u16> {
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::NativeTls)
        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_global(Some(request.timeout))
        .http_status_as_error(false)
        .user_agent(concat!("incident/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut post = agent
        .post(request.url)
        .header("content-type", "application/json")
        .header("webhook-id", request.id)
        .header("webhook-timestamp", request.timestamp.to_string());
    if let Some(key) = request.key {
        post = post.header(
            "webhook-signature",
            sign(key, request.id, request.timestamp, request.body),
        );
    }
    let response = post.send(request.body).map_err(|e| Error::Webhook {
        url: redact_url(request.url),
        detail: e.to_string(),
    })?;
    Ok(response.status().as_u16())
}

/// A URL fit for messages and logs: no user, password, path or query
/// (Slack and Teams put their secret in the path).
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if scheme.is_empty() {
        host.to_string()
    } else {
        format!("{scheme}://{host}/…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's reference
    /// libraries (their test suite's known signature).
    #[test]
    fn signs_like_the_reference_implementation() {
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let signature = sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_and_urls() {
        assert!(secret_key("not base64 !!").is_err());
        assert_eq!(secret_key("whsec_AAEC").unwrap(), vec![0, 1, 2]);
        assert_eq!(
            redact_url("https://user:pw@hooks.slack.com/services/T0/B0/secret?x=1"),
            "https://hooks.slack.com/…"
        );
    }
}
