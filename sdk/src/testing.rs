//! A native test harness: play a game in `cargo test` without a server.
//!
//! [`Table`] runs the same code path as the component export (config
//! parsing, seat and game-over checks, JSON actions and views) and the same
//! random stream as the host, so a rules test predicts what a server does.
//! Games with physics ([`crate::sim`]) run on the SDK's native test double:
//! [`Table::tick`] takes the steps the game requested after its tick, as the
//! server does, with results that match the server's to float tolerance.

use serde::Serialize;

use crate::adapter::RoomAdapter;
use crate::sim::Adopted;
use crate::{ActionError, Event, Game, Status, Viewer};

/// One room of game `G`, driven directly.
pub struct Table<G: Game> {
    room: RoomAdapter<G>,
    /// The physics worlds the game created.
    worlds: Adopted,
}

impl<G: Game> Table<G> {
    /// Seat `players` with an empty config (`{}`) and the given seed.
    pub fn start(players: &[&str], seed: u64) -> Result<Self, String> {
        Self::start_with(players, seed, &serde_json::json!({}))
    }

    /// Seat `players` with a config value.
    pub fn start_with(players: &[&str], seed: u64, config: &impl Serialize) -> Result<Self, String> {
        let config = serde_json::to_string(config).map_err(|e| e.to_string())?;
        let players = players.iter().map(|p| p.to_string()).collect();
        let room = RoomAdapter::start(&config, players, seed)?;
        let mut worlds = Adopted::default();
        worlds.adopt_new();
        Ok(Table { room, worlds })
    }

    /// Apply an action given as a JSON value.
    pub fn act(&mut self, player: &str, action: serde_json::Value) -> Result<Vec<Event>, ActionError> {
        self.act_raw(player, &action.to_string())
    }

    /// Apply an action given as raw text (to test malformed input).
    pub fn act_raw(&mut self, player: &str, action: &str) -> Result<Vec<Event>, ActionError> {
        let applied = self.room.apply_json(player, action);
        self.worlds.adopt_new();
        applied
    }

    /// `player`'s view, parsed.
    pub fn view_of(&self, player: &str) -> serde_json::Value {
        self.view(&Viewer::Player(player.into()))
    }

    /// The spectator view, parsed.
    pub fn spectator_view(&self) -> serde_json::Value {
        self.view(&Viewer::Spectator)
    }

    fn view(&self, viewer: &Viewer) -> serde_json::Value {
        serde_json::from_str(&self.room.view_json(viewer)).expect("views are JSON")
    }

    pub fn status(&self) -> Status {
        self.room.current_status()
    }

    /// Legal actions for `player`, parsed.
    pub fn legal_actions(&self, player: &str) -> Vec<serde_json::Value> {
        self.room.legal(player).iter().map(|a| serde_json::from_str(a).expect("legal actions are JSON")).collect()
    }

    /// One tick of `dt_ms`, then the physics steps the game requested.
    pub fn tick(&mut self, dt_ms: u32) -> Vec<Event> {
        let events = self.room.advance(dt_ms);
        self.worlds.step_requested();
        events
    }

    /// The player(s) the game waits for (empty when finished).
    pub fn awaiting(&self) -> Vec<String> {
        match self.status() {
            Status::Awaiting(p) => p,
            _ => Vec::new(),
        }
    }
}
