//! **Deliberately hostile test fixtures — never publish for real players.**
//!
//! Every fixture is a [`Hostile`] game: an ordinary-looking two-player
//! turn-based game (`info` and `create` behave, so it passes publish-time
//! validation) whose first applied action, whatever it is and whoever sends
//! it, runs the fixture's [`Misbehaviour`]. The server must contain each one
//! to its own room.

use std::marker::PhantomData;

use arcade_sdk::prelude::*;
use serde_json::{Value, json};

/// What a fixture does instead of playing.
pub trait Misbehaviour: 'static {
    const NAME: &'static str;
    const DESCRIPTION: &'static str;
    /// Runs on the first action; most fixtures never return.
    fn misbehave() -> Vec<Event>;
}

/// A "game" that runs `M::misbehave` on its first action.
pub struct Hostile<M> {
    players: Vec<String>,
    misbehaviour: PhantomData<M>,
}

impl<M: Misbehaviour> Game for Hostile<M> {
    type Config = Value;
    /// Any JSON value is accepted (e.g. `{}`).
    type Action = Value;

    fn info() -> GameInfo {
        GameInfo::turn_based(M::NAME, "1.0.0", M::DESCRIPTION, 2, 2)
    }

    fn create(_config: Value, players: &[String], _seed: u64) -> Result<Self, String> {
        Ok(Hostile { players: players.to_vec(), misbehaviour: PhantomData })
    }

    fn apply(&mut self, _player: &str, _action: Value) -> Result<Vec<Event>, ActionError> {
        Ok(M::misbehave())
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
