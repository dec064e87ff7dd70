//! What an account is: its stable id ([`AccountId`], random 128 bits,
//! `acc_` + 26 base32 characters, never reused), its [`Roles`], the
//! [`Account`] profile row, and the random identifiers the crate mints
//! (account ids, refresh families, deletion pseudonyms).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::AuthError;

/// `n` random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes
}

/// 128 random bits as 26 lowercase RFC 4648 base32 characters (the first
/// carries the top 3 bits).
pub(crate) fn random_base32_128() -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let value = u128::from_be_bytes(random_bytes::<16>());
    (0..26).map(|i| ALPHABET[((value >> (5 * (25 - i))) & 31) as usize] as char).collect()
}

/// A random family id for a chain of refresh tokens (the session id, `sid`).
pub(crate) fn new_family_id() -> String {
    format!("ses_{}", random_base32_128())
}

/// `prefix` then 26 lowercase base32 characters: the form of the random
/// ids this crate makes.
pub(crate) fn is_prefixed_base32(text: &str, prefix: &str) -> bool {
    text.strip_prefix(prefix).is_some_and(|body| {
        body.len() == 26 && body.bytes().all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
    })
}

/// A random pseudonym that replaces a deleted account's id elsewhere (in
/// archived games): `del_` + 26 lowercase base32 characters, as long as an
/// account id and as opaque.
pub fn new_pseudonym() -> String {
    format!("del_{}", random_base32_128())
}

/// The stable id of an account: `acc_` + 26 lowercase base32 characters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(String);

impl AccountId {
    const PREFIX: &'static str = "acc_";

    /// A new random id (128 bits from the OS).
    pub fn generate() -> AccountId {
        AccountId(format!("{}{}", Self::PREFIX, random_base32_128()))
    }

    /// Parses the text form, refusing anything that is not one.
    pub fn parse(text: &str) -> Option<AccountId> {
        is_prefixed_base32(text, Self::PREFIX).then(|| AccountId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps a value read back from the store (which only holds ids this
    /// type produced).
    pub(crate) fn from_stored(text: String) -> AccountId {
        AccountId(text)
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", self.0)
    }
}

/// What an account may do beyond playing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Player,
    Publisher,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Player, Role::Publisher, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Player => "player",
            Role::Publisher => "publisher",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Result<Role, AuthError> {
        Role::ALL.into_iter().find(|r| r.as_str() == text).ok_or_else(|| AuthError::InvalidRole(text.into()))
    }

    fn bit(self) -> u8 {
        match self {
            Role::Player => 1,
            Role::Publisher => 2,
            Role::Admin => 4,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of [`Role`]s. Stored as `player,admin`; in tokens as a JSON array.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Roles(u8);

impl Roles {
    /// What a new account gets.
    pub const DEFAULT: Roles = Roles(1);
    pub const NONE: Roles = Roles(0);

    pub fn contains(self, role: Role) -> bool {
        self.0 & role.bit() != 0
    }

    pub fn with(self, role: Role) -> Roles {
        Roles(self.0 | role.bit())
    }

    pub fn without(self, role: Role) -> Roles {
        Roles(self.0 & !role.bit())
    }

    pub fn iter(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |r| self.contains(*r))
    }

    /// The stored form: role names joined by commas (empty for none).
    pub fn to_stored(self) -> String {
        self.iter().map(Role::as_str).collect::<Vec<_>>().join(",")
    }

    /// Parses the stored form.
    pub fn from_stored(text: &str) -> Result<Roles, AuthError> {
        text.split(',')
            .filter(|s| !s.is_empty())
            .try_fold(Roles::NONE, |roles, name| Ok(roles.with(Role::parse(name)?)))
    }
}

impl fmt::Debug for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl FromIterator<Role> for Roles {
    fn from_iter<I: IntoIterator<Item = Role>>(iter: I) -> Roles {
        iter.into_iter().fold(Roles::NONE, Roles::with)
    }
}

impl Serialize for Roles {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter().map(Role::as_str))
    }
}

impl<'de> Deserialize<'de> for Roles {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Roles, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Roles;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of role names")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Roles, A::Error> {
                let mut roles = Roles::NONE;
                while let Some(name) = seq.next_element::<std::borrow::Cow<'de, str>>()? {
                    roles = roles.with(Role::parse(&name).map_err(serde::de::Error::custom)?);
                }
                Ok(roles)
            }
        }
        deserializer.deserialize_seq(Visitor)
    }
}

/// An account's profile as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub display_name: String,
    pub roles: Roles,
    pub created_at_ms: u64,
    /// Deleted accounts keep their row (the id is never reused) with a
    /// blank name, no roles and no credentials.
    pub deleted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_random_and_parse_back() {
        let a = AccountId::generate();
        let b = AccountId::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 30);
        assert_eq!(AccountId::parse(a.as_str()), Some(a.clone()));
        for bad in [
            "",
            "acc_",
            "acc_ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "usr_abcdefghijklmnopqrstuvwxyz",
            "acc_abcdefghijklmnopqrstuvwxy1",
        ] {
            assert_eq!(AccountId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn roles_round_trip_stored_and_json() {
        let roles = Roles::DEFAULT.with(Role::Admin);
        assert_eq!(roles.to_stored(), "player,admin");
        assert_eq!(Roles::from_stored("player,admin").unwrap(), roles);
        assert_eq!(Roles::from_stored("").unwrap(), Roles::NONE);
        assert!(Roles::from_stored("root").is_err());
        let json = serde_json::to_string(&roles).unwrap();
        assert_eq!(json, r#"["player","admin"]"#);
        assert_eq!(serde_json::from_str::<Roles>(&json).unwrap(), roles);
        assert!(serde_json::from_str::<Roles>(r#"["god"]"#).is_err());
        assert!(!roles.without(Role::Admin).contains(Role::Admin));
    }
}
