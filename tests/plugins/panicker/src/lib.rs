//! **Deliberately hostile test fixture — never publish for real players.**
//!
//! `panicker` looks like an ordinary two-player turn-based game (`info` and
//! `create` behave), so it passes publish-time validation; but the first
//! action applied, whatever it is and whoever sends it, panics. Plugins are
//! built with `panic = "abort"`, so the component traps and the server must
//! treat the instance as dead (rebuild or abort the room).

use arcade_sdk::prelude::*;
use serde_json::{Value, json};

/// A "game" whose first action panics.
pub struct Panicker {
    players: Vec<String>,
}

impl Game for Panicker {
    type Config = Value;
    /// Any JSON value is accepted (e.g. `{}`).
    type Action = Value;

    fn info() -> GameInfo {
        GameInfo::turn_based(
            "panicker",
            "1.0.0",
            "Test fixture: the first action panics.",
            2,
            2,
        )
    }

    fn create(_config: Value, players: &[String], _seed: u64) -> Result<Self, String> {
        Ok(Panicker {
            players: players.to_vec(),
        })
    }

    fn apply(&mut self, _player: &str, _action: Value) -> Result<Vec<Event>, ActionError> {
        panic!("deliberate panic")
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

arcade_sdk::export_game!(Panicker);
