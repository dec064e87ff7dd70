//! The JSON shapes players see: room status, per-player state updates and the
//! WebSocket message envelope (`{"type": ...}`) in both directions.
//!
//! Views and event data are the plugin's JSON, passed through as raw JSON
//! after the host has checked that they parse.
//!
//! The crate also holds what every other crate of the host needs below it:
//! [`clock`] (the wall clock in Unix milliseconds), [`names`] (player names,
//! NFC-normalised), [`seed`] (room seeds and their ChaCha20 streams) and
//! [`whole_number`] (request integers written `2` or `2.0`, as the OpenAPI
//! document's JSON Schema counts them).

pub mod clock;
pub mod names;
pub mod seed;
pub mod whole_number;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The exact plugin build a game ran on (in journal entries and archived
/// game records).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginRef {
    pub name: String,
    pub version: String,
    /// SHA-256 of the component, lowercase hex.
    pub hash: String,
}

/// Where a room is in its life (also stored in archived game records).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RoomStatus {
    /// Seats are still open; the game starts when the last one is taken.
    WaitingForPlayers {
        seated: Vec<String>,
        seats: u32,
    },
    /// The game runs; these players may act.
    Playing {
        awaiting: Vec<String>,
    },
    Finished {
        winners: Vec<String>,
        scores: BTreeMap<String, i64>,
        summary: String,
    },
    /// The game ended without an outcome. `code` says why: `plugin_aborted`
    /// (the rules gave up), `player_left`, `start_rejected`, or a sandbox
    /// fault (`cpu_deadline`, `memory_limit`, `panic`, `trap`, `capacity`).
    Aborted {
        code: String,
        reason: String,
    },
}

impl RoomStatus {
    pub fn is_over(&self) -> bool {
        matches!(self, RoomStatus::Finished { .. } | RoomStatus::Aborted { .. })
    }

    pub fn aborted(code: &str, reason: impl Into<String>) -> Self {
        RoomStatus::Aborted { code: code.to_string(), reason: reason.into() }
    }
}

/// An event as a viewer receives it (audience already applied).
#[derive(Debug, Serialize)]
pub struct EventOut {
    pub kind: String,
    pub data: Box<RawValue>,
}

/// Messages the server sends on a room WebSocket.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg<'a> {
    /// First message on every connection.
    Welcome {
        room: &'a str,
        game: &'a str,
        version: &'a str,
        /// The player (account id) this connection acts for; `null` for spectators.
        you: Option<&'a str>,
        /// The display name of every seated player, by account id (the
        /// plugin's views and the status name players by id).
        names: &'a BTreeMap<String, String>,
    },
    /// The room changed: this viewer's view, the status, and the events of
    /// the change that this viewer may see. `seq` counts accepted actions.
    State {
        seq: u64,
        status: &'a RoomStatus,
        view: Option<&'a RawValue>,
        events: &'a [EventOut],
        /// Hints for the receiving player when it is their turn.
        legal_actions: &'a [Box<RawValue>],
        /// While seats are open, and in the update after a seat was taken
        /// or given up (the last one starts the game), the display names of
        /// the seated players (who is seated changes only then).
        #[serde(skip_serializing_if = "Option::is_none")]
        names: Option<&'a BTreeMap<String, String>>,
    },
    /// An action was accepted; its state update follows.
    Ack { id: Option<serde_json::Value>, seq: u64 },
    /// A request failed; `code` is machine-readable.
    Error { id: Option<serde_json::Value>, code: &'a str, message: &'a str },
}

impl ServerMsg<'_> {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("server messages serialize")
    }
}

/// Messages a client sends on a room WebSocket.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// Apply `action` (game-specific JSON). `id` is echoed in the ack/error.
    Action {
        #[serde(default)]
        id: Option<serde_json::Value>,
        /// A `RawValue` cannot be read inside an internally tagged enum.
        action: serde_json::Value,
    },
}
