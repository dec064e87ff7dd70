//! Matchmaking: players queue as parties ("tickets"), a match function groups
//! compatible tickets, and the caller puts each match in a room.
//!
//! Nothing here depends on the game server (sandbox, rooms, HTTP API), so a
//! Lambda handler runs the same code against Redis.
//!
//! - [`ticket`]: tickets, statuses, match results and room assignments (serde);
//! - [`request`]: what a client sends to queue, and its validation;
//! - [`secret`]: the ticket secret only the creator gets, needed to read,
//!   watch or cancel the ticket; the stores keep only its hash;
//! - [`matcher`]: the pure match function and the per-queue [`MatchRules`];
//! - [`store`]: the [`TicketStore`] trait; [`memory`] (embedded default) and
//!   `redis` (feature `redis`, shared by many nodes) implement it;
//! - [`service`]: the [`Matchmaker`], what the HTTP and Lambda front ends call;
//! - [`queues`]: a configured list of queues ([`QueueSpec`], e.g. the Lambda's `ARCADE_MM_QUEUES`).
//!
//! The flow: `submit` a request → `run_once(game, mode, now)` on a timer
//! (any number of nodes at once: a ticket is claimed by one match only) →
//! the caller allocates a room for each returned [`MatchResult`] and calls
//! `assign` → players polling `status` see the room and their seat tokens.

use std::sync::Arc;

mod lane;
pub mod matcher;
pub mod memory;
pub mod queues;
#[cfg(feature = "redis")]
pub mod redis;
pub mod request;
pub mod secret;
pub mod service;
pub mod store;
pub mod ticket;

pub use matcher::{MatchPlan, MatchRules, PlannedMatch, plan_matches};
pub use memory::MemoryTicketStore;
pub use queues::QueueSpec;
pub use request::{DEFAULT_RATING, QueueRequest, TicketRequest, ValidationError};
pub use secret::{SecretHash, TicketSecret};
pub use service::{MatchRound, Matchmaker, NewTicket, QueueKey};
pub use store::{SeatedAnnouncements, StoreOptions, TicketRecord, TicketStore};
pub use ticket::{
    MatchResult, RoomAssignment, SeatAssignment, Ticket, TicketState, TicketStatus, TicketView, UnixMillis,
};

/// Opens a store by URL: `memory:` (this process only) or `redis://host:port/db`
/// (feature `redis`; shared by every node using the same namespace).
pub async fn open_ticket_store(url: &str, options: StoreOptions) -> Result<Arc<dyn TicketStore>, MatchmakingError> {
    if url == "memory:" || url.is_empty() {
        return Ok(Arc::new(memory::MemoryTicketStore::new(options.retention)));
    }
    if url.starts_with("redis://") || url.starts_with("rediss://") || url.starts_with("redis+unix://") {
        #[cfg(feature = "redis")]
        return Ok(Arc::new(redis::RedisTicketStore::connect(url, options).await?));
        #[cfg(not(feature = "redis"))]
        return Err(MatchmakingError::Config(format!(
            "{url}: this build has no Redis support (cargo feature `redis`)"
        )));
    }
    Err(MatchmakingError::Config(format!("unsupported ticket store URL {url:?}: use memory: or redis://")))
}

/// Everything that can go wrong in matchmaking, with the HTTP status a
/// front end should answer ([`MatchmakingError::http_status`]).
#[derive(Debug, thiserror::Error)]
pub enum MatchmakingError {
    #[error("invalid ticket request: {0}")]
    Invalid(#[from] ValidationError),
    #[error("no matchmaking queue for game {game:?} mode {mode:?}")]
    UnknownQueue { game: String, mode: String },
    /// Also the answer to a wrong ticket secret: a stranger cannot tell an
    /// existing ticket from an unknown one.
    #[error("ticket {0} not found")]
    TicketNotFound(String),
    #[error("match {0} not found")]
    MatchNotFound(String),
    #[error("ticket {ticket_id} is {state}, not waiting")]
    NotWaiting { ticket_id: String, state: String },
    /// Never names the ticket that holds the player: knowing a ticket id
    /// must not help anyone but its creator.
    #[error("player {player:?} is already queued")]
    PlayerAlreadyQueued { player: String },
    #[error("ticket id {0} already exists")]
    DuplicateTicket(String),
    #[error("invalid room assignment: {0}")]
    InvalidAssignment(String),
    #[error("matchmaking configuration: {0}")]
    Config(String),
    #[error("{backend} ticket store: {message}")]
    Store { backend: &'static str, message: String },
    #[error("corrupt matchmaking data: {0}")]
    Corrupt(String),
}

impl MatchmakingError {
    /// The machine-readable code for API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            MatchmakingError::Invalid(_) => "invalid_ticket",
            MatchmakingError::UnknownQueue { .. } => "unknown_queue",
            MatchmakingError::TicketNotFound(_) => "ticket_not_found",
            MatchmakingError::MatchNotFound(_) => "match_not_found",
            MatchmakingError::NotWaiting { .. } => "ticket_not_waiting",
            MatchmakingError::PlayerAlreadyQueued { .. } => "player_already_queued",
            MatchmakingError::DuplicateTicket(_) => "duplicate_ticket",
            MatchmakingError::InvalidAssignment(_) => "invalid_assignment",
            MatchmakingError::Config(_) => "matchmaking_config",
            MatchmakingError::Store { .. } => "store_unavailable",
            MatchmakingError::Corrupt(_) => "corrupt_data",
        }
    }

    /// 400 for bad input, 404 for unknown ids and queues, 409 for conflicts
    /// with the ticket's state, 503 when the store is unavailable.
    pub fn http_status(&self) -> u16 {
        match self {
            MatchmakingError::Invalid(_) | MatchmakingError::InvalidAssignment(_) => 400,
            MatchmakingError::UnknownQueue { .. }
            | MatchmakingError::TicketNotFound(_)
            | MatchmakingError::MatchNotFound(_) => 404,
            MatchmakingError::NotWaiting { .. }
            | MatchmakingError::PlayerAlreadyQueued { .. }
            | MatchmakingError::DuplicateTicket(_) => 409,
            MatchmakingError::Store { .. } => 503,
            MatchmakingError::Config(_) | MatchmakingError::Corrupt(_) => 500,
        }
    }
}
