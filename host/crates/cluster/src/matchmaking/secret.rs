//! Ticket secrets: what proves a caller is the party that created a ticket.
//!
//! Creating a ticket returns a fresh secret (256 bits from the OS, hex) to
//! its creator only; reading, watching or cancelling the ticket needs it
//! back (`Authorization: Bearer <secret>`). The stores keep only its
//! SHA-256 ([`SecretHash`]), and a presented secret is compared with that
//! hash in constant time, so neither a store dump nor response timing gives
//! it away.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Random bytes in a secret (hex-encoded: 64 characters).
const SECRET_BYTES: usize = 32;

/// A ticket's secret, as handed to its creator once.
#[derive(Clone, PartialEq, Eq)]
pub struct TicketSecret(String);

impl TicketSecret {
    /// A new secret from the operating system's random source.
    pub fn generate() -> TicketSecret {
        let mut bytes = [0u8; SECRET_BYTES];
        getrandom::fill(&mut bytes).expect("the operating system's random source is available");
        TicketSecret(hex::encode(bytes))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the store keeps of it.
    pub fn hash(&self) -> SecretHash {
        SecretHash::of(&self.0)
    }
}

/// Never printed, so never logged by accident.
impl fmt::Debug for TicketSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TicketSecret(..)")
    }
}

/// The SHA-256 of a ticket secret: what the ticket stores keep.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    /// The hash of a presented secret (any string: a wrong one simply does
    /// not match).
    pub fn of(secret: &str) -> SecretHash {
        SecretHash(Sha256::digest(secret.as_bytes()).into())
    }

    /// Whether `presented` is the secret of this hash, in time independent
    /// of where the two differ.
    pub fn admits(&self, presented: &str) -> bool {
        SecretHash::of(presented).0.ct_eq(&self.0).into()
    }

    /// Lowercase hex, as stored in Redis.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The stored hex form back; `None` if it is not 64 hex digits.
    pub fn from_hex(text: &str) -> Option<SecretHash> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(SecretHash(bytes))
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretHash({}..)", &self.to_hex()[..8])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_admitted_by_its_hash_only() {
        let secret = TicketSecret::generate();
        assert_eq!(secret.as_str().len(), 64);
        let hash = secret.hash();
        assert!(hash.admits(secret.as_str()));
        assert!(!hash.admits(""));
        assert!(!hash.admits(&secret.as_str()[..63]));
        assert!(!hash.admits(TicketSecret::generate().as_str()));
        assert_ne!(secret, TicketSecret::generate(), "fresh randomness each time");
    }

    #[test]
    fn the_stored_form_round_trips_and_hides_the_secret() {
        let secret = TicketSecret::generate();
        let hash = secret.hash();
        assert_eq!(SecretHash::from_hex(&hash.to_hex()), Some(hash));
        assert_eq!(SecretHash::from_hex("zz"), None);
        assert!(!hash.to_hex().contains(secret.as_str()));
        assert!(!format!("{secret:?}{hash:?}").contains(secret.as_str()));
    }
}
