//! Parties: players who queue for a match together. The leader creates
//! one and hands out its invite; each member joins with their own session
//! and the invite. A member reads the party (and the ticket the leader
//! queued, to follow the match); a stranger, or a wrong invite, gets
//! `party_not_found` as for an unknown party. An account is in one party at
//! a time; the leader leaving disbands it.

use std::fmt;

use serde::Serialize;

use crate::account::{AccountId, is_prefixed_base32, random_base32_128};

/// The most members a party holds (a match's size limits it further when
/// it is queued).
pub const MAX_PARTY_MEMBERS: usize = 8;

/// A party's id: `pty_` + 26 lowercase base32 characters.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PartyId(String);

impl PartyId {
    const PREFIX: &'static str = "pty_";

    pub fn generate() -> PartyId {
        PartyId(format!("{}{}", Self::PREFIX, random_base32_128()))
    }

    /// Parses the text form; anything else is no party.
    pub fn parse(text: &str) -> Option<PartyId> {
        is_prefixed_base32(text, Self::PREFIX).then(|| PartyId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PartyId({})", self.0)
    }
}

/// The matchmaking ticket a party's leader queued, for its members to follow.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartyTicket {
    pub id: String,
    pub secret: String,
}

/// A party as its members see it.
#[derive(Clone, Debug, PartialEq)]
pub struct Party {
    pub id: PartyId,
    pub leader: AccountId,
    /// Every member, the leader first, then in joining order.
    pub members: Vec<AccountId>,
    pub ticket: Option<PartyTicket>,
    pub created_at_ms: u64,
}

impl Party {
    pub fn has_member(&self, account: &AccountId) -> bool {
        self.members.contains(account)
    }
}

/// A new party's invite: 128 random bits, handed to the leader once.
pub(crate) fn new_invite() -> String {
    format!("inv_{}", random_base32_128())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_strangers_are_refused() {
        let id = PartyId::generate();
        assert_eq!(PartyId::parse(id.as_str()), Some(id.clone()));
        for bad in ["", "pty_", "acc_aaaaaaaaaaaaaaaaaaaaaaaaaa", "pty_AAAAAAAAAAAAAAAAAAAAAAAAAA", "pty_a"] {
            assert_eq!(PartyId::parse(bad), None, "{bad:?}");
        }
        assert_ne!(new_invite(), new_invite());
    }
}
