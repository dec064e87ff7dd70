//! **Deliberately hostile test fixture — never publish for real players.**
//!
//! `spinner` looks like an ordinary two-player turn-based game (`info` and
//! `create` behave), so it passes publish-time validation; but the first
//! action applied, whatever it is and whoever sends it, spins forever. The
//! server must cut it off (epoch/fuel deadline) and keep serving other rooms.

use arcade_sdk::prelude::*;
use serde_json::{Value, json};

/// A "game" whose first action never returns.
pub struct Spinner {
    players: Vec<String>,
}

impl Game for Spinner {
    type Config = Value;
    /// Any JSON value is accepted (e.g. `{}`).
    type Action = Value;

    fn info() -> GameInfo {
        GameInfo::turn_based(
            "spinner",
            "1.0.0",
            "Test fixture: the first action loops forever.",
            2,
            2,
        )
    }

    fn create(_config: Value, players: &[String], _seed: u64) -> Result<Self, String> {
        Ok(Spinner {
            players: players.to_vec(),
        })
    }

    fn apply(&mut self, _player: &str, _action: Value) -> Result<Vec<Event>, ActionError> {
        // `black_box` hides the counter from the optimiser, so the loop is
        // really executed instead of being folded away.
        let mut spins = 0u64;
        loop {
            spins = std::hint::black_box(spins.wrapping_add(1));
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

arcade_sdk::export_game!(Spinner);
