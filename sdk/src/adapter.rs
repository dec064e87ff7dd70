//! Bridges a [`Game`] to the generated `arcade:game/rules` room resource:
//! JSON in and out, and the checks every game shares (seated player, game over).

use std::cell::RefCell;

use crate::bindings::exports::arcade::game::rules::{GuestRoom, Room};
use crate::{ActionError, Event, Game, Status, Viewer};

/// The exported room resource for game `G` (used by [`crate::export_game!`]).
pub struct RoomAdapter<G: Game> {
    players: Vec<String>,
    game: RefCell<G>,
    /// `game.status()` since the last change: the host asks for the status
    /// after every action, and the next action's game-over check reuses it.
    status: RefCell<Option<Status>>,
}

impl<G: Game> RoomAdapter<G> {
    /// Parse the config and create the game; shared by the component export
    /// and the native test harness.
    pub(crate) fn start(config: &str, players: Vec<String>, seed: u64) -> Result<Self, String> {
        let info = G::info();
        let n = players.len() as u32;
        if n < info.min_players || n > info.max_players {
            return Err(format!("{} needs {}..={} players, got {n}", info.name, info.min_players, info.max_players));
        }
        for (i, p) in players.iter().enumerate() {
            if p.is_empty() || players[..i].contains(p) {
                return Err(format!("player names must be non-empty and distinct, got {p:?}"));
            }
        }
        let config = if config.trim().is_empty() { "{}" } else { config };
        let config: G::Config = serde_json::from_str(config).map_err(|e| format!("invalid config: {e}"))?;
        crate::host::prepare_room(seed);
        let game = G::create(config, &players, seed)?;
        Ok(RoomAdapter { players, game: RefCell::new(game), status: RefCell::new(None) })
    }

    pub(crate) fn apply_json(&self, player: &str, action: &str) -> Result<Vec<Event>, ActionError> {
        if !self.players.iter().any(|p| p == player) {
            return Err(ActionError::NotAPlayer);
        }
        if self.with_status(Status::is_finished) {
            return Err(ActionError::GameOver);
        }
        let action: G::Action = serde_json::from_str(action).map_err(|e| ActionError::Malformed(e.to_string()))?;
        let applied = self.game.borrow_mut().apply(player, action);
        if applied.is_ok() {
            self.status.replace(None);
        }
        applied
    }

    pub(crate) fn view_json(&self, viewer: &Viewer) -> String {
        json_text(&self.game.borrow().view(viewer))
    }

    pub(crate) fn current_status(&self) -> Status {
        self.with_status(Status::clone)
    }

    fn with_status<R>(&self, f: impl FnOnce(&Status) -> R) -> R {
        f(self.status.borrow_mut().get_or_insert_with(|| self.game.borrow().status()))
    }

    pub(crate) fn legal(&self, player: &str) -> Vec<String> {
        self.game.borrow().legal_actions(player).iter().map(json_text).collect()
    }

    pub(crate) fn advance(&self, dt_ms: u32) -> Vec<Event> {
        if self.with_status(Status::is_finished) {
            return Vec::new();
        }
        self.status.replace(None);
        self.game.borrow_mut().tick(dt_ms)
    }
}

impl<G: Game> GuestRoom for RoomAdapter<G> {
    fn create(config: String, players: Vec<String>, seed: u64) -> Result<Room, String> {
        Self::start(&config, players, seed).map(Room::new)
    }
    fn apply(&self, player: String, action: String) -> Result<Vec<Event>, ActionError> {
        self.apply_json(&player, &action)
    }
    fn view(&self, viewer: Viewer) -> String {
        self.view_json(&viewer)
    }
    fn status(&self) -> Status {
        self.current_status()
    }
    fn legal_actions(&self, player: String) -> Vec<String> {
        self.legal(&player)
    }
    fn tick(&self, dt_ms: u32) -> Vec<Event> {
        self.advance(dt_ms)
    }
}

/// `value` as JSON text, written straight into a byte buffer (`to_string`
/// on a `Value` goes through `core::fmt`, a call per token: it was most of
/// a view's cost in the plugin profile, docs/benchmarks.md).
fn json_text(value: &serde_json::Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}
