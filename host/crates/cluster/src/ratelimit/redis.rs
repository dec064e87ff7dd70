//! The shared rate limiter: GCRA in a Lua script (ratelimit/gcra.lua), so
//! every node sharing the Redis enforces one limit per key, atomically and
//! by the Redis server's clock. One round trip per check; a key costs one
//! string that expires once it is back at a full burst.

use std::time::Duration;

use ::redis::Script;
use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{Policy, RateLimitError, RateLimits, RetryAfter};

/// A check sits on every request's path: when Redis is slow or gone, say so
/// quickly and let the caller decide.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(250);
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(1);
const CONNECT_RETRIES: usize = 1;

pub struct RedisRateLimiter {
    connection: ConnectionManager,
    namespace: String,
    limits: RateLimits,
    gcra: Script,
}

impl RedisRateLimiter {
    /// Connects to `url`; keys are `<namespace>:<policy>:<key>`.
    pub async fn connect(url: &str, namespace: &str, limits: RateLimits) -> Result<Self, RateLimitError> {
        let unavailable = |e: ::redis::RedisError| RateLimitError::Unavailable(e.to_string());
        let client = crate::redis_client::open(url).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_connection_timeout(Some(CONNECTION_TIMEOUT))
            .set_number_of_retries(CONNECT_RETRIES);
        let connection = ConnectionManager::new_with_config(client, config).await.map_err(unavailable)?;
        Self::with_connection(connection, namespace, limits)
    }

    /// A limiter over an existing connection (e.g. shared with other Redis users).
    pub fn with_connection(
        connection: ConnectionManager,
        namespace: &str,
        limits: RateLimits,
    ) -> Result<Self, RateLimitError> {
        limits.validate()?;
        Ok(RedisRateLimiter {
            connection,
            namespace: namespace.to_string(),
            limits,
            gcra: Script::new(include_str!("gcra.lua")),
        })
    }

    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// Counts one request of `key` under `policy`, across all nodes.
    pub async fn check(&self, policy: Policy, key: &str) -> Result<(), RateLimitError> {
        let quota = self.limits.quota(policy);
        let wait_micros: u64 = self
            .gcra
            .key(format!("{}:{policy}:{key}", self.namespace))
            .arg(quota.emission_interval().as_micros() as u64)
            .arg(quota.burst)
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(|e| RateLimitError::Unavailable(e.to_string()))?;
        match wait_micros {
            0 => Ok(()),
            micros => Err(RateLimitError::Limited(RetryAfter(Duration::from_micros(micros)))),
        }
    }
}
