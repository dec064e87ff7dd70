//! Many host nodes behind one Redis: who is alive, where rooms go, and how a
//! formed match gets its room.
//!
//! - [`nodes`]: the [`NodeDirectory`] every node heartbeats into with a TTL
//!   (address, region, capacity, load); [`MemoryNodeDirectory`] for one node,
//!   `redis` (feature `redis`) for many. A node that stops heartbeating
//!   drops out within the TTL; its rooms are lost until it comes back and
//!   rebuilds them from its journal.
//! - [`placement`]: the pure choice of a node for each new room: a node of
//!   the match's region (`cluster.region`), else of its fallback regions in
//!   the configured order ([`RegionPolicy`], `cluster.region_fallback`);
//!   within those, by load relative to capacity.
//! - [`provision`]: creating a match's room on the chosen node
//!   ([`RoomProvisioner`]; over HTTP for other nodes).
//! - [`matching`]: the [`MatchDriver`], one matching round over every queue:
//!   match, place, provision, assign. A game server runs it on a timer, the
//!   matchmaker Lambda on a schedule.
//! - [`room_ids`]: room ids name the node that runs the room, so any node
//!   can send a client to the right one.
//! - [`auth`]: the cluster secret ([`ClusterKey`]): signed internal requests
//!   (room provisioning) and signed node records;
//! - [`advertise`]: which hosts a node may advertise its URL on
//!   ([`AdvertisePolicy`]), since players are sent there with their tokens.
//!
//! - [`matchmaking`]: tickets, queues and the match function, in memory or
//!   in Redis;
//! - [`ratelimit`]: request limits per player, room and connection (GCRA;
//!   shared through Redis);
//! - [`redis_client`]: Redis clients opened the one way every user needs.
//!
//! Nothing here needs the sandbox or the HTTP server: the matchmaker Lambda
//! depends on this crate alone.

pub mod advertise;
pub mod auth;
pub mod matching;
pub mod nodes;
pub mod placement;
pub mod provision;
#[cfg(feature = "redis")]
pub mod redis;
pub mod room_ids;

pub mod matchmaking;
pub mod ratelimit;
#[cfg(feature = "redis")]
pub mod redis_client;

pub use advertise::AdvertisePolicy;
pub use auth::{ClusterKey, ReplayGuard, RequestAuthError};
pub use matching::{MatchDriver, RoundReport};
pub use nodes::{MemoryNodeDirectory, NodeDirectory, NodeInfo, NodeTrust};
pub use placement::{RegionPolicy, place_rooms};
pub use provision::{HttpRoomProvisioner, ProvisionError, RoomProvisioner};

/// Opens a directory by URL: `memory:` (this process) or `redis://…`
/// (feature `redis`), with keys under `namespace`. A shared (Redis)
/// directory needs `trust`: its records are signed and checked.
pub async fn open_node_directory(
    url: &str,
    namespace: &str,
    trust: Option<NodeTrust>,
) -> Result<std::sync::Arc<dyn NodeDirectory>, ClusterError> {
    if url.is_empty() || url == "memory:" {
        return Ok(std::sync::Arc::new(MemoryNodeDirectory::default()));
    }
    #[cfg(feature = "redis")]
    if url.starts_with("redis://") || url.starts_with("rediss://") || url.starts_with("redis+unix://") {
        let trust = trust.ok_or_else(|| {
            ClusterError::Config("a shared node directory needs the cluster secret to sign its records".into())
        })?;
        return Ok(std::sync::Arc::new(redis::RedisNodeDirectory::connect(url, namespace, trust).await?));
    }
    let _ = (namespace, trust);
    Err(ClusterError::Config(format!("unsupported node directory URL {url:?}: use memory: or redis://")))
}

/// Errors of the node directory.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("{backend} node directory: {message}")]
    Store { backend: &'static str, message: String },
    #[error("corrupt node record: {0}")]
    Corrupt(String),
    #[error("cluster configuration: {0}")]
    Config(String),
}
