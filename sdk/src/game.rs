//! The `Game` trait a plugin implements, plus constructors for the contract's
//! data types that keep plugin code short.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{ActionError, Audience, Event, GameInfo, Outcome, Status, Viewer};

/// The rules of one game. One value of the implementing type is one room's state.
///
/// The SDK has already checked, before [`Game::apply`] is called, that the
/// player is seated and the game is not over, and it has parsed the action
/// JSON into [`Game::Action`] (a parse failure is [`ActionError::Malformed`]).
pub trait Game: Sized + 'static {
    /// Room configuration, parsed from the creator's JSON ("{}" when none).
    type Config: DeserializeOwned;
    /// One player action, parsed from the client's JSON.
    type Action: DeserializeOwned;

    /// Static description: name, version, player counts, tick rate.
    fn info() -> GameInfo;

    /// Start a game for `players` (seat order). Randomness must come from
    /// [`crate::random_u64`] (already seeded with `seed`).
    fn create(config: Self::Config, players: &[String], seed: u64) -> Result<Self, String>;

    /// Apply one action. On `Err` the state must be unchanged.
    fn apply(&mut self, player: &str, action: Self::Action) -> Result<Vec<Event>, ActionError>;

    /// What `viewer` may see. Never include another player's secrets.
    fn view(&self, viewer: &Viewer) -> serde_json::Value;

    /// Whose turn it is, or how the game ended.
    fn status(&self) -> Status;

    /// Legal actions for `player` (hints for bots and clients). Default: none listed.
    fn legal_actions(&self, _player: &str) -> Vec<serde_json::Value> {
        Vec::new()
    }

    /// Advance a real-time game (only called when `info().tick_hz > 0`).
    fn tick(&mut self, _dt_ms: u32) -> Vec<Event> {
        Vec::new()
    }
}

impl GameInfo {
    /// Info for a turn-based game (`tick_hz` = 0).
    pub fn turn_based(name: &str, version: &str, description: &str, min: u32, max: u32) -> Self {
        GameInfo {
            name: name.into(),
            version: version.into(),
            description: description.into(),
            min_players: min,
            max_players: max,
            tick_hz: 0,
        }
    }

    /// Info for a real-time game: `tick` is called `tick_hz` times a second.
    pub fn real_time(name: &str, version: &str, description: &str, min: u32, max: u32, tick_hz: u32) -> Self {
        GameInfo { tick_hz, ..Self::turn_based(name, version, description, min, max) }
    }
}

impl Event {
    /// An event every player and spectator sees.
    pub fn public(kind: &str, data: &impl Serialize) -> Self {
        Self::for_audience(kind, data, Audience::Everyone)
    }

    /// An event only `players` see (e.g. the cards dealt to one player).
    pub fn private(kind: &str, data: &impl Serialize, players: &[&str]) -> Self {
        let only = players.iter().map(|p| p.to_string()).collect();
        Self::for_audience(kind, data, Audience::Only(only))
    }

    pub fn for_audience(kind: &str, data: &impl Serialize, audience: Audience) -> Self {
        Event { kind: kind.into(), data: serde_json::to_string(data).unwrap_or_else(|_| "null".into()), audience }
    }

    /// Whether `viewer` may see this event.
    pub fn visible_to(&self, viewer: &Viewer) -> bool {
        match (&self.audience, viewer) {
            (Audience::Everyone, _) => true,
            (Audience::Only(_), Viewer::Spectator) => false,
            (Audience::AllExcept(_), Viewer::Spectator) => true,
            (Audience::Only(who), Viewer::Player(p)) => who.contains(p),
            (Audience::AllExcept(who), Viewer::Player(p)) => !who.contains(p),
        }
    }
}

impl Status {
    /// A finished game with one winner and no scores.
    pub fn winner(player: &str) -> Self {
        Status::Finished(Outcome {
            winners: vec![player.into()],
            scores: Vec::new(),
            summary: format!("{player} wins"),
        })
    }

    /// A finished game without a winner.
    pub fn draw() -> Self {
        Status::Finished(Outcome { winners: Vec::new(), scores: Vec::new(), summary: "draw".into() })
    }

    pub fn is_finished(&self) -> bool {
        matches!(self, Status::Finished(_) | Status::Aborted(_))
    }

    /// The winners when finished, `None` while running or aborted.
    pub fn winners(&self) -> Option<&[String]> {
        match self {
            Status::Finished(o) => Some(&o.winners),
            _ => None,
        }
    }
}
