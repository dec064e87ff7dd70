//! Trust between the nodes of a cluster (and the matchmaker Lambda): the
//! cluster secret, and what it signs.
//!
//! - Internal requests (`POST /internal/v1/rooms`) carry
//!   `X-Arcade-Timestamp` (Unix ms) and `X-Arcade-Signature`, the hex
//!   HMAC-SHA256 under the cluster secret of
//!   `arcade-request-v1\n<METHOD>\n<path>\n<timestamp>\n<body>`. A request is
//!   accepted within [`REQUEST_WINDOW_MS`] of its timestamp, once: the
//!   [`ReplayGuard`] remembers the signatures it has seen for that long.
//! - Node records in the directory are signed the same way over
//!   `arcade-node-record-v1\n<record JSON>`, so a record written into Redis
//!   by anyone without the secret is refused when read.
//!
//! Signatures are compared in constant time (`Mac::verify_slice`).

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::ClusterError;

/// The header with the request's time (Unix ms).
pub const TIMESTAMP_HEADER: &str = "x-arcade-timestamp";
/// The header with the request's signature (hex).
pub const SIGNATURE_HEADER: &str = "x-arcade-signature";
/// How far a signed request's timestamp may be from the receiver's clock.
pub const REQUEST_WINDOW_MS: u64 = 30_000;
/// The shortest cluster secret accepted.
pub const MIN_SECRET_BYTES: usize = 32;

type HmacSha256 = Hmac<Sha256>;

/// The cluster secret, ready to sign and verify.
#[derive(Clone)]
pub struct ClusterKey {
    secret: Vec<u8>,
}

impl fmt::Debug for ClusterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClusterKey(..)")
    }
}

/// Why a signed request was refused (all HTTP 401).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestAuthError {
    #[error("unsigned request: send {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}")]
    Unsigned,
    #[error("the request's timestamp is missing, malformed or more than {REQUEST_WINDOW_MS} ms from now")]
    Stale,
    #[error("the request's signature does not match")]
    BadSignature,
    #[error("this signed request was already received")]
    Replayed,
}

impl RequestAuthError {
    /// The machine-readable code for API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            RequestAuthError::Unsigned => "missing_signature",
            RequestAuthError::Stale => "stale_request",
            RequestAuthError::BadSignature => "invalid_signature",
            RequestAuthError::Replayed => "replayed_request",
        }
    }
}

impl ClusterKey {
    /// The key of `secret`; refuses one shorter than [`MIN_SECRET_BYTES`].
    pub fn new(secret: &str) -> Result<ClusterKey, ClusterError> {
        let secret = secret.trim();
        if secret.len() < MIN_SECRET_BYTES {
            return Err(ClusterError::Config(format!(
                "the cluster secret must be at least {MIN_SECRET_BYTES} bytes (e.g. `openssl rand -hex 32`)"
            )));
        }
        if secret.contains("REPLACE-ME") {
            return Err(ClusterError::Config(
                "the cluster secret is still the manifests' placeholder: generate one (`openssl rand -hex 32`)".into(),
            ));
        }
        Ok(ClusterKey { secret: secret.as_bytes().to_vec() })
    }

    fn mac(&self, domain: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("HMAC takes a key of any length");
        mac.update(domain.as_bytes());
        mac
    }

    fn request_mac(&self, method: &str, path: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
        let mut mac = self.mac("arcade-request-v1\n");
        for part in [method, path, timestamp] {
            mac.update(part.as_bytes());
            mac.update(b"\n");
        }
        mac.update(body);
        mac
    }

    /// The headers that sign a request made at `now_ms`.
    pub fn sign_request(&self, method: &str, path: &str, body: &[u8], now_ms: u64) -> [(&'static str, String); 2] {
        let timestamp = now_ms.to_string();
        let signature = hex::encode(self.request_mac(method, path, &timestamp, body).finalize().into_bytes());
        [(TIMESTAMP_HEADER, timestamp), (SIGNATURE_HEADER, signature)]
    }

    /// Checks a request's signature headers at `now_ms`; returns the
    /// signature (for the [`ReplayGuard`]).
    pub fn verify_request<'a>(
        &self,
        method: &str,
        path: &str,
        timestamp: Option<&str>,
        signature: Option<&'a str>,
        body: &[u8],
        now_ms: u64,
    ) -> Result<(&'a str, u64), RequestAuthError> {
        let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
            return Err(RequestAuthError::Unsigned);
        };
        let sent_ms: u64 = timestamp.parse().map_err(|_| RequestAuthError::Stale)?;
        if sent_ms.abs_diff(now_ms) > REQUEST_WINDOW_MS {
            return Err(RequestAuthError::Stale);
        }
        let presented = hex::decode(signature).map_err(|_| RequestAuthError::BadSignature)?;
        self.request_mac(method, path, timestamp, body)
            .verify_slice(&presented)
            .map_err(|_| RequestAuthError::BadSignature)?;
        Ok((signature, sent_ms))
    }

    /// The signature of a node record.
    pub fn sign_record(&self, record: &str) -> String {
        let mut mac = self.mac("arcade-node-record-v1\n");
        mac.update(record.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Whether `signature` is this key's signature of `record`.
    pub fn verify_record(&self, record: &str, signature: &str) -> bool {
        let Ok(presented) = hex::decode(signature) else { return false };
        let mut mac = self.mac("arcade-node-record-v1\n");
        mac.update(record.as_bytes());
        mac.verify_slice(&presented).is_ok()
    }
}

/// Remembers the signatures of accepted requests for the request window, so
/// each signed request is accepted once (a replay within the window is
/// refused; after it, the timestamp is).
#[derive(Default)]
pub struct ReplayGuard {
    /// Signature → until when it is remembered (ms).
    seen: Mutex<HashMap<String, u64>>,
}

impl ReplayGuard {
    /// Records `signature` (of a request sent at `sent_ms`); `Replayed` if
    /// it was seen already.
    pub fn first_use(&self, signature: &str, sent_ms: u64, now_ms: u64) -> Result<(), RequestAuthError> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.retain(|_, until| *until >= now_ms);
        if seen.contains_key(signature) {
            return Err(RequestAuthError::Replayed);
        }
        seen.insert(signature.to_string(), sent_ms + REQUEST_WINDOW_MS);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000_000;

    fn key(secret: &str) -> ClusterKey {
        ClusterKey::new(secret).unwrap()
    }

    fn verify(key: &ClusterKey, headers: &[(&str, String); 2], body: &[u8], now: u64) -> Result<(), RequestAuthError> {
        key.verify_request("POST", "/internal/v1/rooms", Some(&headers[0].1), Some(&headers[1].1), body, now)
            .map(|_| ())
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(ClusterKey::new("too short").is_err());
        assert!(ClusterKey::new("REPLACE-ME-generate-with-openssl-rand-hex-32").is_err(), "the placeholder");
        assert!(ClusterKey::new(&"x".repeat(MIN_SECRET_BYTES)).is_ok());
        assert!(!format!("{:?}", key(&"s".repeat(40))).contains("sss"));
    }

    #[test]
    fn a_request_verifies_only_as_signed_by_the_same_secret_in_the_window() {
        let k = key(&"a".repeat(40));
        let body = br#"{"game":"tic-tac-toe"}"#;
        let headers = k.sign_request("POST", "/internal/v1/rooms", body, NOW);
        assert_eq!(verify(&k, &headers, body, NOW + 1_000), Ok(()));
        assert_eq!(verify(&k, &headers, b"{}", NOW), Err(RequestAuthError::BadSignature), "another body");
        let other_path = k.verify_request("POST", "/v1/rooms", Some(&headers[0].1), Some(&headers[1].1), body, NOW);
        assert_eq!(other_path.err(), Some(RequestAuthError::BadSignature));
        assert_eq!(verify(&key(&"b".repeat(40)), &headers, body, NOW), Err(RequestAuthError::BadSignature));
        assert_eq!(verify(&k, &headers, body, NOW + REQUEST_WINDOW_MS + 1), Err(RequestAuthError::Stale));
        assert_eq!(verify(&k, &headers, body, NOW - REQUEST_WINDOW_MS - 1), Err(RequestAuthError::Stale));
        let unsigned = k.verify_request("POST", "/internal/v1/rooms", None, None, body, NOW);
        assert_eq!(unsigned.err(), Some(RequestAuthError::Unsigned));
        let garbled = k.verify_request("POST", "/internal/v1/rooms", Some("soon"), Some("zz"), body, NOW);
        assert_eq!(garbled.err(), Some(RequestAuthError::Stale));
    }

    #[test]
    fn a_signed_request_is_accepted_once() {
        let guard = ReplayGuard::default();
        assert_eq!(guard.first_use("sig-1", NOW, NOW), Ok(()));
        assert_eq!(guard.first_use("sig-1", NOW, NOW + 10), Err(RequestAuthError::Replayed));
        assert_eq!(guard.first_use("sig-2", NOW, NOW + 10), Ok(()));
        // Forgotten after the window (when the timestamp refuses it anyway).
        assert_eq!(guard.first_use("sig-1", NOW, NOW + REQUEST_WINDOW_MS + 1), Ok(()));
    }

    #[test]
    fn records_verify_only_unchanged_and_under_the_same_secret() {
        let k = key(&"a".repeat(40));
        let record = r#"{"id":"node-a","url":"http://10.0.0.5:8080"}"#;
        let signature = k.sign_record(record);
        assert!(k.verify_record(record, &signature));
        assert!(!k.verify_record(&record.replace("10.0.0.5", "evil.example"), &signature));
        assert!(!key(&"b".repeat(40)).verify_record(record, &signature));
        assert!(!k.verify_record(record, "not hex"));
        // A request signature is not a record signature.
        let headers = k.sign_request("POST", "/", record.as_bytes(), NOW);
        assert!(!k.verify_record(record, &headers[1].1));
    }
}
