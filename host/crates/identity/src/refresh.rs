//! Refresh tokens: 256 random bits, base64url, handed to the client once
//! and stored only as their SHA-256. Each use rotates the token within its
//! family; the rotation rules themselves are the store's (atomic) and the
//! service's (what a reuse revokes).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A refresh token as the client holds it. Debug does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken(String);

impl RefreshToken {
    /// A new random token.
    pub fn generate() -> RefreshToken {
        RefreshToken(URL_SAFE_NO_PAD.encode(crate::account::random_bytes::<32>()))
    }

    /// Wraps what a client sent.
    pub fn from_client(text: impl Into<String>) -> RefreshToken {
        RefreshToken(text.into())
    }

    /// The text to send to the client.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the store keeps: the SHA-256 of the token, hex.
    pub fn hash(&self) -> String {
        sha256_hex(self.0.as_bytes())
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken(<redacted>)")
    }
}

/// SHA-256, lowercase hex (refresh tokens, device ids).
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_256_bit_and_hashed() {
        let a = RefreshToken::generate();
        let b = RefreshToken::generate();
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(a.expose()).unwrap().len(), 32);
        assert_eq!(a.hash().len(), 64);
        assert_eq!(a.hash(), RefreshToken::from_client(a.expose()).hash());
        assert_eq!(format!("{a:?}"), "RefreshToken(<redacted>)");
    }
}
