//! **Deliberately hostile test fixture — never publish for real players.**
//!
//! `memory-bomb` looks like an ordinary two-player turn-based game (`info`
//! and `create` behave), so it passes publish-time validation; but the first
//! action applied, whatever it is and whoever sends it, allocates 1 MiB
//! chunks forever and keeps them all alive. The server's memory limit must
//! stop it (the allocation fails and the instance traps).

use arcade_sdk::prelude::*;
use serde_json::{Value, json};

/// Size of each allocation.
const CHUNK: usize = 1 << 20;

/// A "game" whose first action eats all the memory it can get.
pub struct MemoryBomb {
    players: Vec<String>,
}

impl Game for MemoryBomb {
    type Config = Value;
    /// Any JSON value is accepted (e.g. `{}`).
    type Action = Value;

    fn info() -> GameInfo {
        GameInfo::turn_based(
            "memory-bomb",
            "1.0.0",
            "Test fixture: the first action allocates forever.",
            2,
            2,
        )
    }

    fn create(_config: Value, players: &[String], _seed: u64) -> Result<Self, String> {
        Ok(MemoryBomb {
            players: players.to_vec(),
        })
    }

    fn apply(&mut self, _player: &str, _action: Value) -> Result<Vec<Event>, ActionError> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            // Touch every chunk and pass it through `black_box` so neither the
            // allocation nor the hoard can be optimised away.
            let chunk = std::hint::black_box(vec![0xA5u8; CHUNK]);
            hoard.push(chunk);
            std::hint::black_box(&mut hoard);
        }
    }

    fn view(&self, _viewer: &Viewer) -> Value {
        json!({ "players": self.players })
    }

    fn status(&self) -> Status {
        Status::Awaiting(vec![self.players[0].clone()])
    }

    fn legal_actions(&self, _player: &str) -> Vec<Value> {
        vec![json!({})]
    }
}

arcade_sdk::export_game!(MemoryBomb);
