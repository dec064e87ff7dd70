//! One room: a tokio task that owns the room's sandbox and is the only code
//! that touches it. Commands (join, leave, act, watch) arrive on a channel and
//! are handled one at a time, so actions are applied in arrival order.
//! Real-time games also get their ticks through that channel, from the
//! process-wide tick scheduler (`crate::ticker`), which batches the physics
//! steps of all rooms due in a tick.
//!
//! Durability: every accepted change (room created, seat taken, action
//! applied) is in the journal before anyone is told about it, and a finished
//! game is handed to the archiver (durably spooled) before the room closes
//! its journal entries. [`restore`] rebuilds a room from its journal entries
//! after a crash.
//!
//! After every change each watcher gets a `state` message rendered for them:
//! players get their own view and only the events addressed to them,
//! spectators the spectator view. A watcher that cannot keep up is dropped
//! (it reconnects and gets the full state again), so one slow client never
//! stalls a room.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::Instrument;

use crate::registry::PluginVersion;
use crate::replay::reapply;
use crate::sandbox::{ActionError, Audience, Event, Fault, Sandbox, SandboxEngine, StartError, Viewer};
use crate::ticker::{Batch, Ticked, Ticker};
use arcade_archive::Archiver;
use arcade_archive::record::{
    EventAudience, EventRecord, FinalViews, GameRecord, LogEntry, LogKind, PluginRef, RECORD_FORMAT_VERSION,
    seat_token_sha256,
};
use arcade_journal::{AfterDurable, Entry, Journal, RecoveredRoom};
use arcade_protocol::clock::now_ms;
use arcade_protocol::seed::Seed;
use arcade_protocol::{EventOut, RoomStatus, ServerMsg};
use arcade_telemetry::metrics::{ActionOutcome, Metrics, PluginCall};
use subtle::ConstantTimeEq;

/// Queue depth of a watcher before it is considered too slow and dropped.
const WATCHER_QUEUE: usize = 64;
/// Commands queued per room before callers wait.
const COMMAND_QUEUE: usize = 256;

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

/// A seat claimed by a player.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Seat {
    pub player: String,
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
}

#[derive(Debug, thiserror::Error)]
pub enum RoomError {
    #[error("all {0} seats are taken")]
    Full(u32),
    #[error("the name {0:?} is already seated in this room")]
    NameTaken(String),
    #[error("player names must be 1-32 characters without control characters")]
    InvalidName,
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
            RoomError::NameTaken(_) => "name_taken",
            RoomError::InvalidName => "invalid_name",
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

enum Command {
    Join {
        name: String,
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
    commands: mpsc::Sender<Command>,
    /// Set by the room once it is over: the scheduler stops ticking it.
    ticks_done: Arc<AtomicBool>,
    /// Seat token -> player, kept by the room: requests are authenticated
    /// before they are counted or queued.
    seats: SeatTokens,
}

/// The seat tokens of a room and their players, shared by the room and its handles.
#[derive(Clone, Default)]
struct SeatTokens(Arc<std::sync::RwLock<Vec<Seat>>>);

impl SeatTokens {
    fn player_of(&self, token: &str) -> Option<String> {
        let seats = self.0.read().unwrap_or_else(|e| e.into_inner());
        seats.iter().find(|s| bool::from(s.token.as_bytes().ct_eq(token.as_bytes()))).map(|s| s.player.clone())
    }

    fn set(&self, seated: &[Seat]) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = seated.to_vec();
    }
}

impl RoomHandle {
    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, RoomError> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(make(reply)).await.map_err(|_| RoomError::Closed)?;
        answer.await.map_err(|_| RoomError::Closed)
    }

    pub async fn join(&self, name: String) -> Result<Seat, RoomError> {
        self.ask(|reply| Command::Join { name, reply }).await?
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

/// Start a new room: journal its creation, seat `players` (starting the
/// game when they fill every seat), then run its task. `on_exit` runs when
/// the room leaves memory. The caller has validated `players` (names,
/// distinct, no more than the seats) and the config: nothing journaled here
/// is refused afterwards. `started` is the game already started for exactly
/// these players (when they fill every seat), used instead of starting it again.
pub async fn spawn(
    spec: RoomSpec,
    players: Vec<String>,
    started: Option<Box<Sandbox>>,
    services: Arc<RoomServices>,
    on_exit: impl FnOnce() + Send + 'static,
) -> Result<(RoomHandle, Vec<Seat>), RoomError> {
    let mut room = Room::new(spec, services);
    room.started = started;
    let plugin = &room.spec.plugin;
    let created = Entry::Created {
        room: room.spec.id.to_string(),
        plugin: PluginRef { name: plugin.name.clone(), version: plugin.version.to_string(), hash: plugin.hash.clone() },
        config: room.spec.config.clone(),
        seats: room.spec.seats,
        seed: room.spec.seed.clone(),
        at_ms: room.spec.created_at_ms,
    };
    // The room and its first seats are journaled together: one sync.
    let at_ms = room.spec.created_at_ms;
    let seats: Vec<Seat> = players.into_iter().map(|player| Seat { player, token: new_token() }).collect();
    let mut entries = vec![created];
    entries.extend(seats.iter().map(|seat| Entry::Joined {
        room: room.spec.id.to_string(),
        player: seat.player.clone(),
        token: seat.token.clone(),
        at_ms,
    }));
    if let Some(journal) = room.services.journal.clone() {
        journal.append_all(&entries).await.map_err(|e| RoomError::Storage(e.to_string()))?;
    }
    for seat in &seats {
        room.seat(seat.clone(), at_ms);
    }
    room.close_if_over().await;
    Ok((room.run_in_background(on_exit), seats))
}

/// Rebuild a room the journal found unfinished: restore seats and tokens,
/// re-apply its inputs in a fresh sandbox, and run it again.
pub async fn restore(
    recovered: RecoveredRoom,
    plugin: Arc<PluginVersion>,
    (grace, waiting_ttl): (Duration, Duration),
    services: Arc<RoomServices>,
    on_exit: impl FnOnce() + Send + 'static,
) -> RoomHandle {
    let spec = RoomSpec {
        id: Arc::from(recovered.room.as_str()),
        plugin,
        config: recovered.config,
        seats: recovered.seats,
        seed: recovered.seed,
        waiting_ttl,
        grace,
        created_at_ms: recovered.created_at_ms,
    };
    let mut room = Room::new(spec, services);
    let mut inputs = Vec::new();
    for entry in recovered.log {
        match entry {
            Entry::Joined { player, token, at_ms, .. } => room.seat(Seat { player, token }, at_ms),
            Entry::Left { token, .. } => room.vacate(&token),
            Entry::Action { seq, player, action, at_ms, .. } => {
                inputs.push(LogEntry { seq, at_ms, kind: LogKind::Action { player, action } })
            }
            Entry::Tick { dt_ms, at_ms, .. } => {
                inputs.push(LogEntry { seq: 0, at_ms, kind: LogKind::Tick { dt_ms: u64::from(dt_ms) } })
            }
            Entry::Created { .. } | Entry::Closed { .. } => {}
        }
    }
    room.reapply_recovered(&inputs);
    tracing::info!(room = %room.spec.id, inputs = inputs.len(), seq = room.seq, status = ?room.status(), "room recovered");
    room.close_if_over().await;
    room.run_in_background(on_exit)
}

enum Phase {
    Seating,
    Playing(Box<Sandbox>),
    /// Over; the sandbox is kept (when healthy) to render final views.
    Over(RoomStatus, Option<Box<FinalViewsText>>),
}

/// Every viewer's last view of a game that ended normally, rendered once
/// when it ended: the room then gives its sandbox (an instance slot and its
/// memory) back at once instead of holding it through the grace period.
struct FinalViewsText {
    players: Vec<(String, Option<Box<RawValue>>)>,
    spectator: Option<Box<RawValue>>,
}

impl FinalViewsText {
    fn render(sandbox: &mut Sandbox, players: &[String]) -> Self {
        let mut view = |viewer: &Viewer| sandbox.view(viewer).ok().and_then(|v| json_or_warn(v, "final view"));
        FinalViewsText {
            players: players.iter().map(|p| (p.clone(), view(&Viewer::Player(p.clone())))).collect(),
            spectator: view(&Viewer::Spectator),
        }
    }

    fn of(&self, player: Option<&str>) -> Option<&RawValue> {
        match player {
            None => self.spectator.as_deref(),
            Some(p) => self.players.iter().find(|(name, _)| name == p).and_then(|(_, v)| v.as_deref()),
        }
    }
}

struct Watcher {
    player: Option<String>,
    link: WatcherLink,
}

/// Where a watcher's messages go; cheap to clone into an [`Outbox`].
#[derive(Clone)]
struct WatcherLink {
    tx: mpsc::Sender<Arc<str>>,
    /// Set when a message could not be queued (the client fell behind);
    /// the room then drops the watcher, which closes its connection.
    lagging: Arc<AtomicBool>,
}

impl WatcherLink {
    fn is_gone(&self) -> bool {
        self.tx.is_closed() || self.lagging.load(Ordering::Relaxed)
    }
}

/// Messages for watchers, delivered together.
#[derive(Default)]
struct Outbox(Vec<(WatcherLink, Arc<str>)>);

impl Outbox {
    fn send(self) {
        for (link, message) in self.0 {
            if link.tx.try_send(message).is_err() {
                link.lagging.store(true, Ordering::Relaxed);
            }
        }
    }
}

struct Room {
    spec: RoomSpec,
    services: Arc<RoomServices>,
    /// Shortcut to `services.metrics`.
    metrics: Arc<Metrics>,
    seated: Vec<Seat>,
    /// The game, started by the creator for the players it seated.
    started: Option<Box<Sandbox>>,
    /// `seated`'s tokens, shared with the handles.
    seat_tokens: SeatTokens,
    phase: Phase,
    /// The plugin's status as of the last change (while `Playing`).
    playing: RoomStatus,
    seq: u64,
    watchers: Vec<Watcher>,
    /// The inputs and events of the game so far (for its archive record).
    log: Vec<LogEntry>,
    events: Vec<EventRecord>,
    started_at_ms: Option<u64>,
    /// The game's record was archived and its journal entries closed.
    closed: bool,
    /// Set by the journal writer when a write this room handed off failed.
    journal_failed: Arc<AtomicBool>,
    /// Shared with the room's handles: set once the game is over.
    ticks_done: Arc<AtomicBool>,
}

impl Room {
    fn new(spec: RoomSpec, services: Arc<RoomServices>) -> Self {
        Room {
            spec,
            metrics: services.metrics.clone(),
            services,
            seated: Vec::new(),
            started: None,
            seat_tokens: SeatTokens::default(),
            phase: Phase::Seating,
            playing: RoomStatus::Playing { awaiting: Vec::new() },
            seq: 0,
            watchers: Vec::new(),
            log: Vec::new(),
            events: Vec::new(),
            started_at_ms: None,
            closed: false,
            journal_failed: Arc::default(),
            ticks_done: Arc::default(),
        }
    }

    fn run_in_background(mut self, on_exit: impl FnOnce() + Send + 'static) -> RoomHandle {
        let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
        let handle = RoomHandle {
            id: self.spec.id.clone(),
            plugin: self.spec.plugin.clone(),
            commands: tx,
            ticks_done: self.ticks_done.clone(),
            seats: self.seat_tokens.clone(),
        };
        let span = tracing::info_span!("room", room = %self.spec.id, game = %self.spec.plugin.name);
        crate::room_runtime::spawn(
            async move {
                self.run(rx).await;
                on_exit();
            }
            .instrument(span),
        );
        handle
    }

    fn is_over(&self) -> bool {
        matches!(self.phase, Phase::Over(..))
    }

    async fn run(&mut self, mut commands: mpsc::Receiver<Command>) {
        let mut evict_at: Option<Instant> = None;
        let waited_ms = now_ms().saturating_sub(self.spec.created_at_ms);
        let expire_at = Instant::now() + self.spec.waiting_ttl.saturating_sub(Duration::from_millis(waited_ms));
        loop {
            if evict_at.is_none() && self.is_over() {
                evict_at = Some(Instant::now() + self.spec.grace);
            }
            let waiting = matches!(self.phase, Phase::Seating);
            tokio::select! {
                _ = tokio::time::sleep_until(expire_at), if waiting => self.expire().await,
                command = commands.recv() => match command {
                    Some(command) => {
                        if self.journal_failed.load(Ordering::SeqCst) && !self.is_over() {
                            self.storage_failed("an earlier journal write failed");
                        }
                        self.handle(command).await
                    }
                    None => break,
                },
                _ = tokio::time::sleep_until(evict_at.unwrap_or_else(Instant::now)), if evict_at.is_some() => break,
            }
        }
        tracing::debug!("room left memory");
    }

    async fn handle(&mut self, command: Command) {
        match command {
            Command::Join { name, reply } => {
                let _ = reply.send(self.join(name).await);
            }
            Command::Leave { token, reply } => {
                let _ = reply.send(self.leave(&token).await);
            }
            Command::Act { token, action, reply } => self.act(&token, &action, reply).await,
            Command::Watch { token, reply } => {
                let _ = reply.send(self.watch(token));
            }
            Command::Describe { reply } => {
                let _ = reply.send(self.describe());
            }
            Command::Tick { dt_ms, batch } => self.tick(dt_ms, batch).await,
        }
    }

    /// Nobody filled the seats in time: the room ends (journaled as closed,
    /// so a restart does not bring it back) and frees its slot.
    async fn expire(&mut self) {
        tracing::debug!(seated = self.seated.len(), "room expired waiting for players");
        self.metrics.rooms_expired.inc();
        let reason = format!("no game started within {} s", self.spec.waiting_ttl.as_secs());
        self.phase = Phase::Over(RoomStatus::aborted("expired", reason), None);
        self.close_if_over().await;
        self.broadcast(&[]);
    }

    /// Once the game is over, archive it before anyone hears about the end
    /// (so a flush or a restart right after the last ack finds it).
    async fn close_if_over(&mut self) {
        if self.is_over() && !self.closed {
            self.close().await;
        }
    }

    /// Write `entry` durably. A failure aborts the room: its memory would
    /// otherwise run ahead of what a restart can rebuild.
    async fn journal(&mut self, entry: &Entry) -> Result<(), RoomError> {
        let Some(journal) = self.services.journal.clone() else { return Ok(()) };
        if let Err(e) = journal.append(entry).await {
            self.storage_failed(&e.to_string());
            return Err(RoomError::Storage(e.to_string()));
        }
        Ok(())
    }

    /// The journal could not record a change this room already made in
    /// memory: the room cannot be rebuilt faithfully, so it ends here.
    fn storage_failed(&mut self, error: &str) {
        self.phase = Phase::Over(RoomStatus::aborted("storage_unavailable", error), None);
        self.broadcast(&[]);
    }

    fn player_of(&self, token: &str) -> Result<String, RoomError> {
        self.seat_tokens.player_of(token).ok_or(RoomError::InvalidToken)
    }

    async fn join(&mut self, name: String) -> Result<Seat, RoomError> {
        let name = arcade_protocol::names::player_name(&name).map_err(|_| RoomError::InvalidName)?;
        if !matches!(self.phase, Phase::Seating) || self.seated.len() as u32 >= self.spec.seats {
            return Err(RoomError::Full(self.spec.seats));
        }
        if self.seated.iter().any(|s| s.player == name) {
            return Err(RoomError::NameTaken(name));
        }
        let seat = Seat { player: name, token: new_token() };
        let at_ms = now_ms();
        let entry = Entry::Joined {
            room: self.spec.id.to_string(),
            player: seat.player.clone(),
            token: seat.token.clone(),
            at_ms,
        };
        self.journal(&entry).await?;
        self.seat(seat.clone(), at_ms);
        self.close_if_over().await;
        self.broadcast(&[]);
        Ok(seat)
    }

    /// Take a seat (already validated and journaled); start when full.
    fn seat(&mut self, seat: Seat, at_ms: u64) {
        self.seated.push(seat);
        self.seat_tokens.set(&self.seated);
        if self.seated.len() as u32 == self.spec.seats {
            self.start(at_ms);
        }
    }

    fn start(&mut self, at_ms: u64) {
        let players: Vec<String> = self.seated.iter().map(|s| s.player.clone()).collect();
        let services = &self.services;
        let started = match self.started.take() {
            Some(sandbox) => Ok(sandbox),
            None => self
                .metrics
                .time(PluginCall::start, || {
                    self.spec.plugin.plugin.start(
                        &services.runtime,
                        self.spec.id.clone(),
                        &self.spec.config,
                        &players,
                        &self.spec.seed,
                    )
                })
                .map(Box::new),
        };
        self.started_at_ms = Some(at_ms);
        self.phase = match started {
            Ok(sandbox) => {
                tracing::debug!(players = ?players, "game started");
                Phase::Playing(sandbox)
            }
            Err(StartError::Rejected(reason)) => Phase::Over(RoomStatus::aborted("start_rejected", reason), None),
            Err(StartError::Fault(fault)) => Phase::Over(self.fault_status(&fault), None),
        };
        self.refresh_status();
    }

    async fn leave(&mut self, token: &str) -> Result<(), RoomError> {
        self.player_of(token)?;
        if self.is_over() {
            return Ok(());
        }
        let at_ms = now_ms();
        let entry = Entry::Left { room: self.spec.id.to_string(), token: token.to_string(), at_ms };
        self.journal(&entry).await?;
        self.vacate(token);
        self.close_if_over().await;
        self.broadcast(&[]);
        Ok(())
    }

    /// Give up a seat (already journaled): frees it while seating, aborts a running game.
    fn vacate(&mut self, token: &str) {
        let Ok(player) = self.player_of(token) else { return };
        match &self.phase {
            Phase::Seating => {
                self.seated.retain(|s| s.token != token);
                self.seat_tokens.set(&self.seated);
            }
            Phase::Playing(_) => {
                tracing::info!(%player, "player left; room aborted");
                self.phase = Phase::Over(RoomStatus::aborted("player_left", format!("{player} left the game")), None);
            }
            Phase::Over(..) => {}
        }
    }

    async fn act(&mut self, token: &str, action: &str, reply: oneshot::Sender<Result<Accepted, RoomError>>) {
        let player = match self.player_of(token) {
            Ok(player) => player,
            Err(e) => return drop(reply.send(Err(e))),
        };
        let refused = match &mut self.phase {
            Phase::Seating => RoomError::NotStarted,
            Phase::Over(RoomStatus::Aborted { reason, .. }, _) => RoomError::Aborted(reason.clone()),
            Phase::Over(..) => RoomError::GameOver,
            Phase::Playing(sandbox) => match self.metrics.time(PluginCall::apply, || sandbox.apply(&player, action)) {
                Ok(Ok(events)) => return self.accept(player, action, events, reply).await,
                Ok(Err(rejection)) => RoomError::Action(rejection),
                Err(fault) => {
                    self.abort(&fault);
                    self.close_if_over().await;
                    RoomError::Aborted(fault.to_string())
                }
            },
        };
        self.metrics.action(ActionOutcome::rejected);
        let _ = reply.send(Err(refused));
    }

    /// An action the plugin applied: journal it, then tell everyone.
    ///
    /// While the game goes on, the room does not wait for the disk: the
    /// journal writer answers the player and sends the new state once the
    /// entry is durable, and the room takes its next command meanwhile. The
    /// action that ends the game waits, because the game is archived after it.
    async fn accept(
        &mut self,
        player: String,
        action: &str,
        events: Vec<Event>,
        reply: oneshot::Sender<Result<Accepted, RoomError>>,
    ) {
        let at_ms = now_ms();
        let seq = self.seq + 1;
        let entry = Entry::Action {
            room: self.spec.id.to_string(),
            seq,
            player: player.clone(),
            action: action.to_string(),
            at_ms,
        };
        self.metrics.action(ActionOutcome::accepted);
        self.record(at_ms, LogKind::Action { player, action: action.to_string() }, &events);
        self.refresh_status();
        let journal = self.services.journal.clone();
        match journal {
            Some(journal) if !self.is_over() => {
                let accepted = Accepted { seq, status: self.status() };
                let outbox = self.render_all(&events);
                let failed = self.journal_failed.clone();
                let then: AfterDurable = Box::new(move |durable| match durable {
                    Ok(()) => {
                        // States first: the mover's socket then finds its
                        // state queued when the ack wakes it and writes both
                        // at once (the socket still sends the ack first).
                        outbox.send();
                        let _ = reply.send(Ok(accepted));
                    }
                    Err(e) => {
                        failed.store(true, Ordering::SeqCst);
                        let _ = reply.send(Err(RoomError::Storage(e.to_string())));
                    }
                });
                if let Err(e) = journal.append_then(&entry, then) {
                    self.storage_failed(&e.to_string());
                }
            }
            _ => {
                let result = self.journal(&entry).await;
                if result.is_ok() {
                    self.close_if_over().await;
                    self.broadcast(&events);
                }
                let _ = reply.send(result.map(|()| Accepted { seq: self.seq, status: self.status() }));
            }
        }
    }

    /// One tick from the scheduler: run the plugin's `tick`, hand the
    /// physics worlds it asked to step to this tick's batch and wait for
    /// them (the room takes no other command meanwhile, exactly as replay
    /// runs a tick and its steps back to back), then tell everyone, so
    /// players see the positions after the step. Dropping `batch` tells the
    /// scheduler this room has nothing to step.
    async fn tick(&mut self, dt_ms: u32, batch: Batch) {
        let Phase::Playing(sandbox) = &mut self.phase else {
            if self.is_over() {
                self.ticks_done.store(true, Ordering::Relaxed);
            }
            return;
        };
        let events = match self.metrics.time(PluginCall::tick, || sandbox.tick(dt_ms)) {
            Ok(events) => events,
            Err(fault) => {
                self.abort(&fault);
                self.close_if_over().await;
                return;
            }
        };
        let at_ms = now_ms();
        if let Some(journal) = &self.services.journal {
            journal.append_later(&Entry::Tick { room: self.spec.id.to_string(), dt_ms, at_ms });
        }
        self.record(at_ms, LogKind::Tick { dt_ms: u64::from(dt_ms) }, &events);
        let Phase::Playing(sandbox) = &mut self.phase else { return };
        let worlds = sandbox.take_requested_worlds();
        if worlds.is_empty() {
            drop(batch);
        } else {
            match self.services.ticker.submit(batch, worlds).await {
                Ok(stepped) => sandbox.put_back_worlds(stepped),
                Err(error) => {
                    // The worlds are lost: the game cannot go on (or be replayed) faithfully.
                    tracing::error!(%error, "physics step failed; room aborted");
                    self.phase = Phase::Over(RoomStatus::aborted("sim_failed", error.to_string()), None);
                }
            }
        }
        self.refresh_status();
        self.close_if_over().await;
        self.broadcast(&events);
    }

    /// Remember an applied input and its events for the archive record.
    /// Actions advance `seq` (the number players see); the log numbers its
    /// entries, actions and ticks alike, in order, as the record requires.
    fn record(&mut self, at_ms: u64, kind: LogKind, events: &[Event]) {
        if matches!(kind, LogKind::Action { .. }) {
            self.seq += 1;
        }
        for event in events {
            self.events.push(EventRecord {
                seq: self.events.len() as u64 + 1,
                at_ms,
                kind: event.kind.clone(),
                data: event.data.clone(),
                audience: match &event.audience {
                    Audience::Everyone => EventAudience::Everyone,
                    Audience::Only(who) => EventAudience::Only(who.clone()),
                    Audience::AllExcept(who) => EventAudience::AllExcept(who.clone()),
                },
            });
        }
        self.log.push(LogEntry { seq: self.log.len() as u64 + 1, at_ms, kind });
    }

    /// Re-apply journaled inputs after a restart (no journaling, no broadcast).
    fn reapply_recovered(&mut self, inputs: &[LogEntry]) {
        let Phase::Playing(sandbox) = &mut self.phase else { return };
        let mut applied = Vec::with_capacity(inputs.len());
        let ticker = &self.services.ticker;
        let result = reapply(
            sandbox,
            inputs,
            |worlds| ticker.step_now(worlds),
            |entry, events| applied.push((entry.clone(), events.to_vec())),
        );
        for (entry, events) in applied {
            self.record(entry.at_ms, entry.kind, &events);
        }
        match result {
            Ok(()) => self.refresh_status(),
            Err(e) => {
                tracing::error!(error = %e, "room could not be rebuilt from its journal");
                self.phase = Phase::Over(RoomStatus::aborted("replay_mismatch", e.to_string()), None);
            }
        }
    }

    /// The game is over: archive its record (durably spooled), then close
    /// its journal entries so a restart does not rebuild it.
    async fn close(&mut self) {
        self.closed = true;
        if let (Some(archiver), Some(record)) = (self.services.archiver.clone(), self.game_record())
            && let Err(e) = archiver.submit(record).await
        {
            // Keep the journal entries: a restart rebuilds the game and archives it again.
            tracing::error!(error = %e, "finished game could not be archived; it stays in the journal");
            return;
        }
        if let Some(journal) = &self.services.journal {
            journal.append_later(&Entry::Closed { room: self.spec.id.to_string() });
        }
    }

    /// The archive record of a game that started and is over.
    fn game_record(&mut self) -> Option<GameRecord> {
        let started_at_ms = self.started_at_ms?;
        let Phase::Over(status, views) = &self.phase else { return None };
        let status = status.clone();
        let players: Vec<String> = self.seated.iter().map(|s| s.player.clone()).collect();
        let mut final_views = FinalViews::default();
        if let Some(views) = views {
            let parse = |view: Option<&RawValue>| {
                view.and_then(|v| serde_json::from_str(v.get()).ok()).unwrap_or(serde_json::Value::Null)
            };
            for player in &players {
                final_views.players.insert(player.clone(), parse(views.of(Some(player))));
            }
            final_views.spectator = parse(views.of(None));
        }
        let completed_at_ms = self.log.last().map_or_else(now_ms, |e| e.at_ms).max(started_at_ms);
        let plugin = &self.spec.plugin;
        Some(GameRecord {
            format_version: RECORD_FORMAT_VERSION,
            game_id: self.spec.id.to_string(),
            room_id: self.spec.id.to_string(),
            plugin: PluginRef {
                name: plugin.name.clone(),
                version: plugin.version.to_string(),
                hash: plugin.hash.clone(),
            },
            config: self.spec.config.clone(),
            players,
            seed: self.spec.seed.clone(),
            seat_token_sha256: self.seated.iter().map(|s| (s.player.clone(), seat_token_sha256(&s.token))).collect(),
            log: std::mem::take(&mut self.log),
            events: std::mem::take(&mut self.events),
            started_at_ms,
            completed_at_ms,
            status,
            final_views,
        })
    }

    fn fault_status(&self, fault: &Fault) -> RoomStatus {
        self.metrics.fault(fault.kind.code());
        // The version, for the operator who yanks it (ArcadeSandboxFaults).
        tracing::warn!(fault = %fault, version = %self.spec.plugin.version, "room aborted by a sandbox fault");
        RoomStatus::aborted(fault.kind.code(), fault.message.clone())
    }

    /// A sandbox fault ends the room; the dead instance is dropped at once.
    fn abort(&mut self, fault: &Fault) {
        self.phase = Phase::Over(self.fault_status(fault), None);
        self.broadcast(&[]);
    }

    /// Ask the plugin for its status; move to `Over` when it finished.
    fn refresh_status(&mut self) {
        let Phase::Playing(sandbox) = &mut self.phase else { return };
        match self.metrics.time(PluginCall::status, || sandbox.status()) {
            Ok(status) => {
                let status = RoomStatus::from(status);
                if status.is_over() {
                    tracing::debug!(?status, "game over");
                    let players: Vec<String> = self.seated.iter().map(|s| s.player.clone()).collect();
                    let views = FinalViewsText::render(sandbox, &players);
                    self.phase = Phase::Over(status, Some(Box::new(views)));
                } else {
                    self.playing = status;
                }
            }
            Err(fault) => self.phase = Phase::Over(self.fault_status(&fault), None),
        }
    }

    fn status(&self) -> RoomStatus {
        match &self.phase {
            Phase::Seating => RoomStatus::WaitingForPlayers {
                seated: self.seated.iter().map(|s| s.player.clone()).collect(),
                seats: self.spec.seats,
            },
            Phase::Playing(_) => self.playing.clone(),
            Phase::Over(status, _) => status.clone(),
        }
    }

    fn watch(&mut self, token: Option<String>) -> Result<Watch, RoomError> {
        let player = token.map(|t| self.player_of(&t)).transpose()?;
        let (tx, rx) = mpsc::channel(WATCHER_QUEUE);
        let plugin = &self.spec.plugin;
        let welcome = ServerMsg::Welcome {
            room: &self.spec.id,
            game: &plugin.name,
            version: &plugin.version.to_string(),
            you: player.as_deref(),
        }
        .to_json();
        let status = self.status();
        let state = self.render(&status, player.as_deref(), &[]);
        let link = WatcherLink { tx, lagging: Arc::default() };
        self.deliver(Outbox(vec![(link.clone(), Arc::from(welcome)), (link.clone(), state)]));
        self.watchers.push(Watcher { player: player.clone(), link });
        Ok(Watch { player, updates: rx })
    }

    fn describe(&mut self) -> RoomInfo {
        RoomInfo {
            id: self.spec.id.to_string(),
            game: self.spec.plugin.name.clone(),
            version: self.spec.plugin.version.to_string(),
            hash: self.spec.plugin.hash.clone(),
            seats: self.spec.seats,
            seed: self.is_over().then(|| self.spec.seed.clone()),
            seq: self.seq,
            status: self.status(),
            watchers: self.watchers.len(),
        }
    }

    /// Send every watcher its own rendering of the current state.
    fn broadcast(&mut self, events: &[Event]) {
        let outbox = self.render_all(events);
        self.deliver(outbox);
    }

    /// Each watcher's rendering of the current state (one render per
    /// distinct viewer; all spectators share one message).
    fn render_all(&mut self, events: &[Event]) -> Outbox {
        self.watchers.retain(|w| !w.link.is_gone());
        let mut outbox = Outbox::default();
        if self.watchers.is_empty() {
            return outbox;
        }
        let status = self.status();
        let mut rendered: Vec<(Option<String>, Arc<str>)> = Vec::new();
        for i in 0..self.watchers.len() {
            let viewer = self.watchers[i].player.clone();
            let message = match rendered.iter().find(|(v, _)| *v == viewer) {
                Some((_, m)) => m.clone(),
                None => {
                    let m = self.render(&status, viewer.as_deref(), events);
                    rendered.push((viewer, m.clone()));
                    m
                }
            };
            let watcher = &self.watchers[i];
            outbox.0.push((watcher.link.clone(), message));
        }
        outbox
    }

    /// Send now, or, with the journal on, once everything journaled so far
    /// is durable, so players never see a change a crash could undo.
    fn deliver(&self, outbox: Outbox) {
        if outbox.0.is_empty() {
            return;
        }
        match &self.services.journal {
            Some(journal) => journal.after_pending(Box::new(move |_| outbox.send())),
            None => outbox.send(),
        }
    }

    /// One viewer's `state` message.
    fn render(&mut self, status: &RoomStatus, player: Option<&str>, events: &[Event]) -> Arc<str> {
        let viewer = match player {
            Some(p) => Viewer::Player(p.to_string()),
            None => Viewer::Spectator,
        };
        let mut view = None;
        let mut legal_actions = Vec::new();
        if let Phase::Over(_, Some(views)) = &self.phase {
            view = views.of(player).map(|v| v.to_owned());
        }
        if let Phase::Playing(sandbox) = &mut self.phase {
            view = self
                .metrics
                .time(PluginCall::view, || sandbox.view(&viewer))
                .ok()
                .and_then(|v| json_or_warn(v, "view"));
            let awaited = match (status, player) {
                (RoomStatus::Playing { awaiting }, Some(p)) => awaiting.iter().any(|a| a == p),
                _ => false,
            };
            if let (true, Some(p)) = (awaited, player) {
                legal_actions = sandbox
                    .legal_actions(p)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|a| json_or_warn(a, "legal action"))
                    .collect();
            }
        }
        let events: Vec<EventOut> = events
            .iter()
            .filter(|e| crate::sandbox::visible_to(e, &viewer))
            .filter_map(|e| {
                json_or_warn(e.data.clone(), "event data").map(|data| EventOut { kind: e.kind.clone(), data })
            })
            .collect();
        let message = ServerMsg::State {
            seq: self.seq,
            status,
            view: view.as_deref(),
            events: &events,
            legal_actions: &legal_actions,
        };
        Arc::from(message.to_json())
    }
}

/// Plugin JSON is checked before it reaches a client.
fn json_or_warn(text: String, what: &str) -> Option<Box<RawValue>> {
    match RawValue::from_string(text) {
        Ok(raw) => Some(raw),
        Err(e) => {
            tracing::warn!(error = %e, "plugin produced an invalid JSON {what}; dropped");
            None
        }
    }
}

/// 128 random bits, hex: a seat token.
fn new_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
