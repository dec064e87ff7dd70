//! One room: a tokio task that owns the room's sandbox and is the only code
//! that touches it. Commands (join, leave, act, watch) arrive on a channel and
//! are handled one at a time, so actions are applied in arrival order.
//! Real-time games also get their ticks through that channel, from the
//! process-wide tick scheduler (`crate::ticker`), which batches the physics
//! steps of all rooms due in a tick.
//!
//! Durability: every accepted change (room created, seat taken, action
//! applied) is in the journal before anyone is told about it, and a finished
//! game is handed to the archiver (durably spooled) before the room closes
//! its journal entries. [`restore`] rebuilds a room from its journal entries
//! after a crash.
//!
//! After every change each watcher gets a `state` message rendered for them:
//! players get their own view and only the events addressed to them,
//! spectators the spectator view. A watcher that cannot keep up is dropped
//! (it reconnects and gets the full state again), so one slow client never
//! stalls a room.
//!
//! - [`handle`]: what callers hold ([`RoomHandle`]: join, leave, act,
//!   watch, describe; seat tokens checked without a round trip), what a room
//!   is made of ([`RoomSpec`], [`RoomServices`]) and its errors ([`RoomError`]);
//! - [`actor`]: the room task itself ([`spawn`], [`restore`]): phases,
//!   seats, actions and ticks, journaling, closing;
//! - [`record`]: the game's history (inputs and events) and its final
//!   views, turned into the archive record when the game is over;
//! - [`fanout`]: the watchers and delivering their messages (one render per
//!   distinct viewer, slow watchers dropped, sent once the journal is durable).

mod actor;
mod fanout;
mod handle;
mod record;

use serde_json::value::RawValue;

pub use actor::{restore, spawn};
pub use handle::{Accepted, Lifecycle, Player, RoomError, RoomHandle, RoomInfo, RoomServices, RoomSpec, Seat, Watch};

/// Plugin JSON is checked before it reaches a client.
fn json_or_warn(text: String, what: &str) -> Option<Box<RawValue>> {
    match RawValue::from_string(text) {
        Ok(raw) => Some(raw),
        Err(e) => {
            tracing::warn!(error = %e, "plugin produced an invalid JSON {what}; dropped");
            None
        }
    }
}
