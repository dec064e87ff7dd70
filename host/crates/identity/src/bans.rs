//! [`BanList`]: the bans in force, held in memory so checking a session
//! costs a hash lookup and never a database round trip. The host calls
//! [`BanList::refresh`] about once a second on every node, so a ban made on
//! one node stops the account's sessions everywhere within seconds (the
//! node that banned applies it at once).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use arcade_protocol::clock::UnixMillis;

use crate::account::AccountId;
use crate::error::AuthError;
use crate::store::{Ban, IdentityStore};

/// The reason of the ban that stops a deleted account's tokens (a ban
/// without end, written by the deletion).
pub(crate) const DELETED_REASON: &str = "account deleted";

/// A ban as the snapshot keeps it.
#[derive(Clone, Copy, Debug)]
struct Banned {
    /// `None`: permanent.
    until_ms: Option<UnixMillis>,
    /// The account was deleted (its ban is the deletion's).
    deleted: bool,
}

impl Banned {
    fn of(ban: &Ban) -> Banned {
        Banned { until_ms: ban.until_ms, deleted: ban.reason == DELETED_REASON }
    }

    fn active_at(&self, now_ms: UnixMillis) -> bool {
        self.until_ms.is_none_or(|until| until > now_ms)
    }
}

/// Account id → its ban.
type Snapshot = HashMap<String, Banned>;

/// A snapshot of the active bans.
#[derive(Clone)]
pub struct BanList {
    store: Arc<dyn IdentityStore>,
    snapshot: Arc<RwLock<Arc<Snapshot>>>,
}

impl std::fmt::Debug for BanList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BanList").field("banned", &self.len()).finish_non_exhaustive()
    }
}

impl BanList {
    /// An empty list over `store` (call [`BanList::refresh`] to load it).
    pub fn new(store: Arc<dyn IdentityStore>) -> BanList {
        BanList { store, snapshot: Arc::default() }
    }

    /// Replaces the snapshot with the bans the store has in force now;
    /// how many there are.
    pub async fn refresh(&self) -> Result<usize, AuthError> {
        let bans = self.store.active_bans(arcade_protocol::clock::now_ms()).await?;
        let snapshot: Snapshot = bans.iter().map(|ban| (ban.account.as_str().to_string(), Banned::of(ban))).collect();
        let count = snapshot.len();
        *self.snapshot.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(snapshot);
        Ok(count)
    }

    /// Applies a ban to this node's snapshot at once.
    pub(crate) fn insert(&self, ban: &Ban) {
        self.update(|map| {
            map.insert(ban.account.as_str().to_string(), Banned::of(ban));
        });
    }

    /// Lifts a ban in this node's snapshot at once.
    pub(crate) fn remove(&self, account: &AccountId) {
        self.update(|map| {
            map.remove(account.as_str());
        });
    }

    fn update(&self, change: impl FnOnce(&mut Snapshot)) {
        let mut guard = self.snapshot.write().unwrap_or_else(|e| e.into_inner());
        let mut next = Snapshot::clone(&guard);
        change(&mut next);
        *guard = Arc::new(next);
    }

    /// `Err(AccountBanned)` when `account` is banned at `now_ms`.
    pub fn check(&self, account: &AccountId, now_ms: UnixMillis) -> Result<(), AuthError> {
        let snapshot = self.snapshot.read().unwrap_or_else(|e| e.into_inner());
        match snapshot.get(account.as_str()) {
            Some(banned) if banned.active_at(now_ms) => Err(AuthError::AccountBanned { until_ms: banned.until_ms }),
            _ => Ok(()),
        }
    }

    /// The accounts banned at `now_ms`.
    pub fn banned_at(&self, now_ms: UnixMillis) -> std::collections::HashSet<String> {
        let snapshot = self.snapshot.read().unwrap_or_else(|e| e.into_inner());
        snapshot.iter().filter(|(_, banned)| banned.active_at(now_ms)).map(|(account, _)| account.clone()).collect()
    }

    /// The deleted accounts (banned for good by their deletion): other
    /// nodes learn of a deletion through them.
    pub fn deleted(&self) -> std::collections::HashSet<String> {
        let snapshot = self.snapshot.read().unwrap_or_else(|e| e.into_inner());
        snapshot.iter().filter(|(_, banned)| banned.deleted).map(|(account, _)| account.clone()).collect()
    }

    /// How many bans the snapshot holds.
    pub fn len(&self) -> usize {
        self.snapshot.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
