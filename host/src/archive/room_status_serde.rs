//! Serde for `crate::protocol::RoomStatus` inside archived records.
//!
//! `RoomStatus` only derives `Serialize` (it is sent, never received, on the
//! wire); records must also be read back. This remote definition produces
//! the same JSON shape (`{"state": "finished", ...}`), and the compiler
//! rejects it if the two enums drift apart. Use as
//! `#[serde(with = "room_status_serde::RoomStatusDef")]`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::protocol::RoomStatus;

#[derive(Serialize, Deserialize)]
#[serde(remote = "RoomStatus", tag = "state", rename_all = "snake_case")]
pub enum RoomStatusDef {
    WaitingForPlayers { seated: Vec<String>, seats: u32 },
    Playing { awaiting: Vec<String> },
    Finished { winners: Vec<String>, scores: BTreeMap<String, i64>, summary: String },
    Aborted { code: String, reason: String },
}
