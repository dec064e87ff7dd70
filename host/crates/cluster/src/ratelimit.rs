//! Rate limiting of players, rooms and WebSocket connections.
//!
//! Four [`Policy`]s, each a quota of N requests per period with a burst of
//! N (60 per minute allows 60 at once, then one a second):
//!
//! | policy | key | default |
//! | --- | --- | --- |
//! | [`Policy::Player`] | player id | 60 per minute |
//! | [`Policy::Room`] | room id and seat (actions of one seat) | 10 per second |
//! | [`Policy::WsMessages`] | connection id | 5 per second |
//! | [`Policy::Ip`] | client IP address | 120 per minute |
//!
//! Callers authenticate first, validate next and count last, so a request
//! that is refused for a bad credential or bad input spends nobody's
//! budget but the sender's IP (`Ip` counts room creation, joins, tickets and
//! failed authentications).
//!
//! Backends: [`memory`] (the `governor` crate, this process only) and
//! `redis` (feature `redis`: a GCRA Lua script, so the player limit holds
//! across all nodes sharing the Redis). Rooms and WebSocket connections live
//! on one node, so their limits are always kept in memory.
//!
//! A refused request gets [`RateLimitError::Limited`] with the time after
//! which a retry succeeds (HTTP 429 with `Retry-After`, or a WebSocket error
//! frame); [`WsFloodGuard`] disconnects a client that keeps flooding.

pub mod memory;
#[cfg(feature = "redis")]
pub mod redis;

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use memory::MemoryRateLimiter;
#[cfg(feature = "redis")]
pub use redis::RedisRateLimiter;

/// What is being limited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// HTTP requests of one player.
    Player,
    /// Actions sent to one room.
    Room,
    /// Messages on one WebSocket connection.
    WsMessages,
    /// Unauthenticated requests (room creation, joins, tickets) and failed
    /// authentications from one IP address.
    Ip,
}

impl Policy {
    pub const ALL: [Policy; 4] = [Policy::Player, Policy::Room, Policy::WsMessages, Policy::Ip];

    pub fn name(self) -> &'static str {
        match self {
            Policy::Player => "player",
            Policy::Room => "room",
            Policy::WsMessages => "ws_messages",
            Policy::Ip => "ip",
        }
    }

    /// Limits of things that live on a single node need no shared state: a
    /// WebSocket connection, and a room (every request for a room is served
    /// by the node that runs it), which keeps a Redis round trip off the
    /// action path. An IP's limit is kept by each node it reaches, so a
    /// flood of refusals costs no Redis round trip.
    pub fn is_node_local(self) -> bool {
        matches!(self, Policy::Room | Policy::WsMessages | Policy::Ip)
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The configurable limits (e.g. a `[rate_limits]` config section).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    pub player_per_minute: u32,
    pub room_per_second: u32,
    pub ws_messages_per_second: u32,
    /// Unauthenticated requests and failed authentications per IP address.
    pub ip_per_minute: u32,
    /// Refused WebSocket messages in a row before the connection is closed.
    pub ws_violations_before_disconnect: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            player_per_minute: 60,
            room_per_second: 10,
            ws_messages_per_second: 5,
            ip_per_minute: 120,
            ws_violations_before_disconnect: 10,
        }
    }
}

impl RateLimits {
    pub fn validate(&self) -> Result<(), RateLimitError> {
        for policy in Policy::ALL {
            if self.quota(policy).burst == 0 {
                return Err(RateLimitError::Config(format!("the {policy} limit must be at least 1")));
            }
        }
        if self.ws_violations_before_disconnect == 0 {
            return Err(RateLimitError::Config("ws_violations_before_disconnect must be at least 1".into()));
        }
        Ok(())
    }

    pub fn quota(&self, policy: Policy) -> Quota {
        match policy {
            Policy::Player => Quota { burst: self.player_per_minute, period: Duration::from_secs(60) },
            Policy::Room => Quota { burst: self.room_per_second, period: Duration::from_secs(1) },
            Policy::WsMessages => Quota { burst: self.ws_messages_per_second, period: Duration::from_secs(1) },
            Policy::Ip => Quota { burst: self.ip_per_minute, period: Duration::from_secs(60) },
        }
    }
}

/// `burst` requests per `period`: all at once, then one every `period / burst`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    pub burst: u32,
    pub period: Duration,
}

impl Quota {
    /// The time one request's allowance takes to come back.
    pub fn emission_interval(&self) -> Duration {
        self.period / self.burst.max(1)
    }
}

/// How long to wait before the next request is allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds for an HTTP `Retry-After` header: rounded up, at least 1.
    pub fn header_seconds(&self) -> u64 {
        (self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0)).max(1)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RateLimitError {
    #[error("rate limited: retry after {} ms", .0.0.as_millis())]
    Limited(RetryAfter),
    /// The shared backend did not answer; the caller decides whether to let
    /// the request through.
    #[error("rate limiter unavailable: {0}")]
    Unavailable(String),
    #[error("rate limit configuration: {0}")]
    Config(String),
}

impl RateLimitError {
    pub fn retry_after(&self) -> Option<RetryAfter> {
        match self {
            RateLimitError::Limited(retry_after) => Some(*retry_after),
            _ => None,
        }
    }
}

/// The rate limiter of a node.
pub enum RateLimiter {
    /// Everything in this process.
    Memory(MemoryRateLimiter),
    /// Player limits in Redis, shared by all nodes; node-local limits in memory.
    #[cfg(feature = "redis")]
    Redis { shared: RedisRateLimiter, local: MemoryRateLimiter },
}

impl RateLimiter {
    pub fn in_memory(limits: RateLimits) -> Result<Self, RateLimitError> {
        Ok(RateLimiter::Memory(MemoryRateLimiter::new(limits)?))
    }

    /// Shares the player limit through the Redis at `url`, under
    /// the key prefix `namespace` (e.g. `arcade:rl`).
    #[cfg(feature = "redis")]
    pub async fn redis(url: &str, namespace: &str, limits: RateLimits) -> Result<Self, RateLimitError> {
        let local = MemoryRateLimiter::new(limits.clone())?;
        let shared = RedisRateLimiter::connect(url, namespace, limits).await?;
        Ok(RateLimiter::Redis { shared, local })
    }

    pub fn limits(&self) -> &RateLimits {
        match self {
            RateLimiter::Memory(memory) => memory.limits(),
            #[cfg(feature = "redis")]
            RateLimiter::Redis { local, .. } => local.limits(),
        }
    }

    /// Counts one request of `key` under `policy`: `Ok` if allowed, else
    /// `Limited` with when to retry.
    pub async fn check(&self, policy: Policy, key: &str) -> Result<(), RateLimitError> {
        match self {
            RateLimiter::Memory(memory) => memory.check(policy, key),
            #[cfg(feature = "redis")]
            RateLimiter::Redis { local, .. } if policy.is_node_local() => local.check(policy, key),
            #[cfg(feature = "redis")]
            RateLimiter::Redis { shared, .. } => shared.check(policy, key).await,
        }
    }
}

/// What to do with one WebSocket message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WsVerdict {
    Accept,
    /// Answer with an error frame; the client may send again after this.
    Reject(RetryAfter),
    /// The client keeps flooding: close the connection.
    Disconnect,
}

/// Per connection: turns rate-limit results into verdicts, disconnecting
/// after `ws_violations_before_disconnect` refused messages in a row (a
/// client that merely exceeds the rate now and then is never closed).
#[derive(Clone, Debug)]
pub struct WsFloodGuard {
    consecutive_violations: u32,
    violations_before_disconnect: u32,
}

impl WsFloodGuard {
    pub fn new(limits: &RateLimits) -> Self {
        WsFloodGuard { consecutive_violations: 0, violations_before_disconnect: limits.ws_violations_before_disconnect }
    }

    /// The verdict for a message whose check gave `outcome`. A limiter that
    /// is unavailable does not count against the client.
    pub fn verdict(&mut self, outcome: &Result<(), RateLimitError>) -> WsVerdict {
        match outcome.as_ref().err().and_then(RateLimitError::retry_after) {
            None => {
                self.consecutive_violations = 0;
                WsVerdict::Accept
            }
            Some(retry_after) => {
                self.consecutive_violations += 1;
                if self.consecutive_violations >= self.violations_before_disconnect {
                    WsVerdict::Disconnect
                } else {
                    WsVerdict::Reject(retry_after)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_60_per_minute_10_and_5_per_second() {
        let limits = RateLimits::default();
        assert_eq!(limits.quota(Policy::Player), Quota { burst: 60, period: Duration::from_secs(60) });
        assert_eq!(limits.quota(Policy::Player).emission_interval(), Duration::from_secs(1));
        assert_eq!(limits.quota(Policy::Room).emission_interval(), Duration::from_millis(100));
        assert_eq!(limits.quota(Policy::WsMessages).emission_interval(), Duration::from_millis(200));
        assert!(limits.validate().is_ok());
    }

    #[test]
    fn limits_are_read_from_config_with_defaults_for_the_rest() {
        let limits: RateLimits = serde_json::from_str(r#"{"room_per_second": 20}"#).unwrap();
        assert_eq!(limits, RateLimits { room_per_second: 20, ..RateLimits::default() });
        assert!(serde_json::from_str::<RateLimits>(r#"{"rooms_per_second": 20}"#).is_err(), "typos are refused");
        let zero = RateLimits { ws_messages_per_second: 0, ..RateLimits::default() };
        assert!(matches!(zero.validate(), Err(RateLimitError::Config(_))));
    }

    #[test]
    fn retry_after_header_rounds_up_to_whole_seconds() {
        assert_eq!(RetryAfter(Duration::from_millis(1)).header_seconds(), 1);
        assert_eq!(RetryAfter(Duration::ZERO).header_seconds(), 1);
        assert_eq!(RetryAfter(Duration::from_millis(999)).header_seconds(), 1);
        assert_eq!(RetryAfter(Duration::from_secs(2)).header_seconds(), 2);
        assert_eq!(RetryAfter(Duration::from_millis(2_001)).header_seconds(), 3);
    }

    #[test]
    fn a_flooding_connection_is_closed_after_consecutive_violations() {
        let limits = RateLimits { ws_violations_before_disconnect: 3, ..RateLimits::default() };
        let mut guard = WsFloodGuard::new(&limits);
        let limited = || Err(RateLimitError::Limited(RetryAfter(Duration::from_millis(150))));
        assert_eq!(guard.verdict(&Ok(())), WsVerdict::Accept);
        assert_eq!(guard.verdict(&limited()), WsVerdict::Reject(RetryAfter(Duration::from_millis(150))));
        assert_eq!(guard.verdict(&limited()), WsVerdict::Reject(RetryAfter(Duration::from_millis(150))));
        // An accepted message resets the count: an occasional burst is not a flood.
        assert_eq!(guard.verdict(&Ok(())), WsVerdict::Accept);
        assert_eq!(guard.verdict(&limited()), WsVerdict::Reject(RetryAfter(Duration::from_millis(150))));
        assert_eq!(guard.verdict(&limited()), WsVerdict::Reject(RetryAfter(Duration::from_millis(150))));
        assert_eq!(guard.verdict(&limited()), WsVerdict::Disconnect);
        assert_eq!(guard.verdict(&Err(RateLimitError::Unavailable("down".into()))), WsVerdict::Accept);
    }
}
