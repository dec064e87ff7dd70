//! Where tickets and matches live: the [`TicketStore`] trait (its backends
//! are opened by URL with `matchmaking::open_ticket_store`).
//!
//! The store guarantees what the match function alone cannot when several
//! nodes (or Lambda invocations) match the same queue at once: a match is
//! committed only if every one of its tickets is still waiting, atomically,
//! so no ticket is ever in two matches and a cancelled ticket never plays.

use std::time::Duration;

use async_trait::async_trait;

use super::MatchmakingError;
use super::secret::SecretHash;
use super::ticket::{MatchResult, RoomAssignment, Ticket, TicketView};

/// Settings shared by the store backends.
#[derive(Clone, Debug, PartialEq)]
pub struct StoreOptions {
    /// Prefix of every Redis key (`arcade:mm` gives `arcade:mm:ticket:<id>`);
    /// lets several deployments or tests share one Redis.
    pub namespace: String,
    /// How long matched, expired and cancelled tickets and their matches
    /// stay pollable.
    pub retention: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { namespace: "arcade:mm".into(), retention: Duration::from_secs(600) }
    }
}

/// Storage of tickets and matches. Implementations are safe to share
/// between tasks, and every method is atomic on its own.
#[async_trait]
pub trait TicketStore: Send + Sync {
    /// Short name for logs and metrics: `memory`, `redis`.
    fn backend(&self) -> &'static str;

    /// Adds a waiting ticket that expires after `ttl`, with the hash of its
    /// secret. Fails with `PlayerAlreadyQueued` when a party member waits in
    /// another ticket, `DuplicateTicket` when the id exists.
    async fn create(&self, ticket: &Ticket, secret: &SecretHash, ttl: Duration) -> Result<(), MatchmakingError>;

    /// The ticket and its status (with the match, if matched) and its secret
    /// hash; `None` once unknown or past retention. Callers check the
    /// secret ([`TicketRecord::admits`]) before showing any of it.
    async fn get(&self, ticket_id: &str) -> Result<Option<TicketRecord>, MatchmakingError>;

    /// Marks the tickets of a match without a room `failed` (the match is
    /// given up: its room could not be created) and forgets the match's
    /// claim for recovery; returns the tickets it failed. A match that got
    /// its room meanwhile is left alone (returns nothing).
    async fn fail_match(&self, match_id: &str) -> Result<Vec<String>, MatchmakingError>;

    /// Cancels a waiting ticket: `TicketNotFound`, or `NotWaiting` when it
    /// is already matched, expired or cancelled.
    async fn cancel(&self, ticket_id: &str) -> Result<(), MatchmakingError>;

    /// A consistent snapshot of the waiting tickets of one queue, in no
    /// particular order.
    async fn waiting(&self, game: &str, mode: &str) -> Result<Vec<Ticket>, MatchmakingError>;

    /// Stores each match whose tickets are all still waiting and marks them
    /// matched, each match atomically; returns the matches committed.
    /// Matches that lost a ticket (to another node's match, a cancel or an
    /// expiry) are dropped, and their other tickets stay waiting.
    async fn commit_matches(&self, matches: Vec<MatchResult>) -> Result<Vec<MatchResult>, MatchmakingError>;

    /// Marks the given tickets of a queue expired if they are still
    /// waiting; returns those it expired.
    async fn expire(&self, game: &str, mode: &str, ticket_ids: &[String]) -> Result<Vec<String>, MatchmakingError>;

    /// Attaches (or replaces) the room of a match; returns the updated match.
    async fn assign(&self, match_id: &str, assignment: &RoomAssignment) -> Result<MatchResult, MatchmakingError>;

    /// A match with its assignment, if any.
    async fn get_match(&self, match_id: &str) -> Result<Option<MatchResult>, MatchmakingError>;

    /// Takes or renews `holder`'s lease on running the matching rounds of a
    /// queue, for `ttl`; `false` while another holder's lease runs. One
    /// round at a time per queue: the others would snapshot the same
    /// tickets only to lose the claims.
    async fn lease_rounds(&self, game: &str, mode: &str, holder: &str, ttl: Duration)
    -> Result<bool, MatchmakingError>;

    /// Claims up to `most` matches that have had no room for longer than
    /// `age` (the driver that formed them stopped, or no node could take
    /// them), for another try: a claimed match is not claimed again for
    /// another `age`.
    async fn claim_unassigned(&self, age: Duration, most: usize) -> Result<Vec<MatchResult>, MatchmakingError>;

    /// Tells every process subscribed to this store that these tickets got
    /// their room, so their watchers look at once. Best effort: watchers
    /// also poll.
    async fn announce_seated(&self, ticket_ids: &[String]) -> Result<(), MatchmakingError>;

    /// The announcements, each a batch of ticket ids, until the connection
    /// behind them drops (subscribe again then).
    async fn seated_announcements(&self) -> Result<SeatedAnnouncements, MatchmakingError>;
}

/// A ticket as stored: what its party may see, and the hash of its secret.
#[derive(Clone, Debug, PartialEq)]
pub struct TicketRecord {
    pub view: TicketView,
    /// `None` for a ticket stored without one (by an older version): no
    /// secret opens it.
    pub secret: Option<SecretHash>,
}

impl TicketRecord {
    /// Whether `presented` is this ticket's secret (constant time).
    pub fn admits(&self, presented: &str) -> bool {
        self.secret.is_some_and(|hash| hash.admits(presented))
    }
}

/// A stream of batches of newly seated ticket ids.
pub type SeatedAnnouncements = futures_util::stream::BoxStream<'static, Vec<String>>;
