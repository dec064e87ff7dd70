//! What callers hold of a room: the [`RoomHandle`] (commands to the room
//! task, seat tokens checked without a round trip), what a room is made of
//! ([`RoomSpec`], [`RoomServices`]), and the answers and errors of its
//! commands.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::registry::PluginVersion;
use crate::sandbox::{ActionError, SandboxEngine};
use crate::ticker::{Batch, Ticked, Ticker};
use arcade_archive::Archiver;
use arcade_journal::Journal;
use arcade_protocol::RoomStatus;
use arcade_protocol::seed::Seed;
use arcade_telemetry::metrics::Metrics;
use subtle::ConstantTimeEq;

/// Everything needed to run a room.
pub struct RoomSpec {
    pub id: Arc<str>,
    pub plugin: Arc<PluginVersion>,
    pub config: String,
    pub seats: u32,
    /// Secret until the game is over (`arcade_protocol::seed`).
    pub seed: Seed,
    /// How long a room may wait for its players before it expires.
    pub waiting_ttl: Duration,
    /// How long a finished room stays (for late reconnects) before it leaves memory.
    pub grace: Duration,
    pub created_at_ms: u64,
    /// A matchmade room's mode: its game is rated (see `NewRoom::mode`).
    pub mode: Option<String>,
    /// Shown in the open-rooms listing (`GET /v1/rooms`).
    pub listed: bool,
}

/// What every room uses: the sandbox runtime, metrics, and (when enabled)
/// the journal and the archiver.
pub struct RoomServices {
    pub runtime: Arc<SandboxEngine>,
    pub metrics: Arc<Metrics>,
    pub journal: Option<Journal>,
    pub archiver: Option<Arc<Archiver>>,
    /// Drives real-time rooms and batches their physics.
    pub ticker: Arc<Ticker>,
}

/// What a room tells its owner (the room directory) about its life.
pub struct Lifecycle {
    /// Runs once, when the game is over (finished, aborted or expired):
    /// from then on the room only serves its final state to late
    /// reconnects, until its grace ends or [`RoomHandle::leave_memory`].
    pub on_over: Box<dyn FnOnce() + Send>,
    /// Runs when the room has left memory.
    pub on_exit: Box<dyn FnOnce() + Send>,
}

/// Who takes a seat: an account id (the plugin's player id) and the
/// display name other players see.
#[derive(Clone, Debug, PartialEq)]
pub struct Player {
    pub id: String,
    pub name: String,
}

/// A seat claimed by a player, with its room-scoped token.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Seat {
    /// The player's id (an account id).
    pub player: String,
    /// Its display name.
    pub name: String,
    pub token: String,
}

/// A subscription to a room's updates; the first message is the current state.
pub struct Watch {
    pub player: Option<String>,
    pub updates: mpsc::Receiver<Arc<str>>,
}

/// An accepted action.
#[derive(Debug)]
pub struct Accepted {
    pub seq: u64,
    pub status: RoomStatus,
}

/// A snapshot for `GET /v1/rooms/{id}`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RoomInfo {
    pub id: String,
    pub game: String,
    pub version: String,
    pub hash: String,
    pub seats: u32,
    /// The seed, once the game is over (until then it is the room's secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<Seed>,
    pub seq: u64,
    pub status: RoomStatus,
    pub watchers: usize,
    /// The display names of the seated players, by id.
    pub names: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RoomError {
    #[error("all {0} seats are taken")]
    Full(u32),
    #[error("the seat token is not valid for this room")]
    InvalidToken,
    #[error("the game has not started: seats are still open")]
    NotStarted,
    #[error("the game is over")]
    GameOver,
    #[error("{}", action_error_message(.0))]
    Action(ActionError),
    #[error("the room was aborted: {0}")]
    Aborted(String),
    #[error("the room is closed")]
    Closed,
    #[error("the server could not record the change durably: {0}")]
    Storage(String),
}

impl RoomError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            RoomError::Full(_) => "room_full",
            RoomError::InvalidToken => "invalid_token",
            RoomError::NotStarted => "game_not_started",
            RoomError::GameOver => "game_over",
            RoomError::Action(e) => match e {
                ActionError::NotYourTurn => "not_your_turn",
                ActionError::NotAPlayer => "not_a_player",
                ActionError::GameOver => "game_over",
                ActionError::Malformed(_) => "malformed_action",
                ActionError::Illegal(_) => "illegal_action",
            },
            RoomError::Aborted(_) => "room_aborted",
            RoomError::Closed => "room_closed",
            RoomError::Storage(_) => "storage_unavailable",
        }
    }
}

fn action_error_message(e: &ActionError) -> String {
    match e {
        ActionError::NotYourTurn => "it is not your turn".into(),
        ActionError::NotAPlayer => "you are not a player in this room".into(),
        ActionError::GameOver => "the game is over".into(),
        ActionError::Malformed(m) => format!("malformed action: {m}"),
        ActionError::Illegal(m) => format!("illegal action: {m}"),
    }
}

pub(super) enum Command {
    Join {
        player: Player,
        reply: oneshot::Sender<Result<Seat, RoomError>>,
    },
    Leave {
        token: String,
        reply: oneshot::Sender<Result<(), RoomError>>,
    },
    Act {
        token: String,
        action: String,
        reply: oneshot::Sender<Result<Accepted, RoomError>>,
    },
    Watch {
        token: Option<String>,
        reply: oneshot::Sender<Result<Watch, RoomError>>,
    },
    Describe {
        reply: oneshot::Sender<RoomInfo>,
    },
    /// From the tick scheduler (`crate::ticker`), for real-time games.
    Tick {
        dt_ms: u32,
        batch: Batch,
    },
}

/// A cheap, cloneable reference to a running room.
#[derive(Clone)]
pub struct RoomHandle {
    pub id: Arc<str>,
    pub plugin: Arc<PluginVersion>,
    pub(super) commands: mpsc::Sender<Command>,
    /// Set by the room once it is over: the scheduler stops ticking it.
    pub(super) ticks_done: Arc<AtomicBool>,
    /// Seat token -> player, kept by the room: requests are authenticated
    /// before they are counted or queued.
    pub(super) seats: SeatTokens,
    /// What the open-rooms listing shows without asking the room.
    pub lobby: LobbyFacts,
    /// Set by the room once its game is over (finished or aborted).
    pub(super) over: Arc<AtomicBool>,
    /// Tells a finished room to leave memory before its grace ends.
    pub(super) leave_now: Arc<tokio::sync::Notify>,
}

/// What a room's listing entry is made of, fixed at creation; with
/// [`RoomHandle::seated`] and [`RoomHandle::is_over`] it needs no trip to
/// the room.
#[derive(Clone, Debug)]
pub struct LobbyFacts {
    pub listed: bool,
    pub seats: u32,
    pub created_at_ms: u64,
}

/// The seat tokens of a room and their players, shared by the room and its handles.
#[derive(Clone, Default)]
pub(super) struct SeatTokens(Arc<std::sync::RwLock<Vec<Seat>>>);

impl SeatTokens {
    pub(super) fn player_of(&self, token: &str) -> Option<String> {
        let seats = self.0.read().unwrap_or_else(|e| e.into_inner());
        seats.iter().find(|s| bool::from(s.token.as_bytes().ct_eq(token.as_bytes()))).map(|s| s.player.clone())
    }

    pub(super) fn token_of(&self, player: &str) -> Option<String> {
        let seats = self.0.read().unwrap_or_else(|e| e.into_inner());
        seats.iter().find(|s| s.player == player).map(|s| s.token.clone())
    }

    pub(super) fn set(&self, seated: &[Seat]) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = seated.to_vec();
    }
}

impl RoomHandle {
    /// The seated players' ids and display names, in seat order (no trip
    /// to the room).
    pub fn seated(&self) -> Vec<(String, String)> {
        let seats = self.seats.0.read().unwrap_or_else(|e| e.into_inner());
        seats.iter().map(|s| (s.player.clone(), s.name.clone())).collect()
    }

    /// Whether the game is over (no trip to the room).
    pub fn is_over(&self) -> bool {
        self.over.load(Ordering::Relaxed)
    }

    /// A finished room leaves memory now instead of at the end of its
    /// grace period (the directory keeps only so many finished rooms); a
    /// room still waiting or playing leaves as soon as its game is over.
    pub fn leave_memory(&self) {
        self.leave_now.notify_one();
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, RoomError> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(make(reply)).await.map_err(|_| RoomError::Closed)?;
        answer.await.map_err(|_| RoomError::Closed)
    }

    /// Seat `player`; a player already seated gets its seat back (a new
    /// device reconnects with its session alone).
    pub async fn join(&self, player: Player) -> Result<Seat, RoomError> {
        self.ask(|reply| Command::Join { player, reply }).await?
    }

    pub async fn leave(&self, token: String) -> Result<(), RoomError> {
        self.ask(|reply| Command::Leave { token, reply }).await?
    }

    pub async fn act(&self, token: String, action: String) -> Result<Accepted, RoomError> {
        self.ask(|reply| Command::Act { token, action, reply }).await?
    }

    /// Subscribe as the token's player, or as a spectator without a token.
    pub async fn watch(&self, token: Option<String>) -> Result<Watch, RoomError> {
        self.ask(|reply| Command::Watch { token, reply }).await?
    }

    /// The player a seat token belongs to, without a round trip to the room.
    pub fn authenticate(&self, token: &str) -> Result<String, RoomError> {
        self.seats.player_of(token).ok_or(RoomError::InvalidToken)
    }

    /// The seat token of `player` (an account id), if it is seated here.
    pub fn seat_token_of(&self, player: &str) -> Option<String> {
        self.seats.token_of(player)
    }

    pub async fn describe(&self) -> Result<RoomInfo, RoomError> {
        self.ask(|reply| Command::Describe { reply }).await
    }
}

impl Ticked for RoomHandle {
    /// Ask the room to tick (from the scheduler). `false` once the room is
    /// over or gone; a room with a full queue skips this tick.
    fn tick(&self, dt_ms: u32, batch: Batch) -> bool {
        if self.ticks_done.load(Ordering::Relaxed) {
            return false;
        }
        !matches!(self.commands.try_send(Command::Tick { dt_ms, batch }), Err(mpsc::error::TrySendError::Closed(_)))
    }
}

/// 128 random bits, hex: a seat token.
pub(super) fn new_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
