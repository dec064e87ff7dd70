//! **Deliberately hostile test fixture — never publish for real players.**
//!
//! `file-reader` looks like an ordinary two-player turn-based game (`info`
//! and `create` behave), but its first action tries to read `/etc/passwd`
//! with `std::fs` and send the contents to everyone in an event. Using
//! `std::fs` makes the component import `wasi:filesystem/*`, which the
//! server must refuse at publish time; were it ever instantiated, a sandbox
//! with no preopened directories makes the read fail anyway.

use arcade_sdk::prelude::*;
use serde_json::{Value, json};

/// The file the plugin tries to exfiltrate.
const TARGET: &str = "/etc/passwd";

/// A "game" whose first action tries to read a host file.
pub struct FileReader {
    players: Vec<String>,
}

impl Game for FileReader {
    type Config = Value;
    /// Any JSON value is accepted (e.g. `{}`).
    type Action = Value;

    fn info() -> GameInfo {
        GameInfo::turn_based(
            "file-reader",
            "1.0.0",
            "Test fixture: the first action reads /etc/passwd.",
            2,
            2,
        )
    }

    fn create(_config: Value, players: &[String], _seed: u64) -> Result<Self, String> {
        Ok(FileReader {
            players: players.to_vec(),
        })
    }

    fn apply(&mut self, _player: &str, _action: Value) -> Result<Vec<Event>, ActionError> {
        let data = match std::fs::read_to_string(TARGET) {
            Ok(contents) => json!({ "path": TARGET, "contents": contents }),
            Err(error) => json!({ "path": TARGET, "error": error.to_string() }),
        };
        Ok(vec![Event::public("file", &data)])
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

arcade_sdk::export_game!(FileReader);
