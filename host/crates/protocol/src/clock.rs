//! The wall clock, in the one unit the platform stores and sends: whole
//! milliseconds since the Unix epoch ([`UnixMillis`]). Journal entries,
//! archived records, tickets, matches and node heartbeats all read it here,
//! so none of them reaches into another module for the time.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub type UnixMillis = u64;

/// Now, in [`UnixMillis`] (0 if the system clock is set before 1970).
pub fn now_ms() -> UnixMillis {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}
