//! One room: a tokio task that owns the room's sandbox and is the only code
//! that touches it. Commands (join, leave, act, watch) arrive on a channel and
//! are handled one at a time, so actions are applied in arrival order.
//!
//! After every change each watcher gets a `state` message rendered for them:
//! players get their own view and only the events addressed to them,
//! spectators the spectator view. A watcher that cannot keep up is dropped
//! (it reconnects and gets the full state again), so one slow client never
//! stalls a room.

use std::sync::Arc;
use std::time::Duration;

use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};

use crate::metrics::{ActionOutcome, Metrics, PluginCall};
use crate::protocol::{EventOut, RoomStatus, ServerMsg};
use crate::registry::PluginVersion;
use crate::sandbox::{ActionError, Event, Fault, Runtime, Sandbox, StartError, Viewer};

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
    pub seed: u64,
    /// How long a finished room stays (for late reconnects) before it leaves memory.
    pub grace: Duration,
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
    pub seed: u64,
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
    Join { name: String, reply: oneshot::Sender<Result<Seat, RoomError>> },
    Leave { token: String, reply: oneshot::Sender<Result<(), RoomError>> },
    Act { token: String, action: String, reply: oneshot::Sender<Result<Accepted, RoomError>> },
    Watch { token: Option<String>, reply: oneshot::Sender<Result<Watch, RoomError>> },
    Describe { reply: oneshot::Sender<RoomInfo> },
}

/// A cheap, cloneable reference to a running room.
#[derive(Clone)]
pub struct RoomHandle {
    pub id: Arc<str>,
    pub plugin: Arc<PluginVersion>,
    commands: mpsc::Sender<Command>,
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

    pub async fn describe(&self) -> Result<RoomInfo, RoomError> {
        self.ask(|reply| Command::Describe { reply }).await
    }
}

/// Start the room task. `players`, when given, are seated at once (and the
/// game started); their seats are returned. `on_exit` runs when the room
/// leaves memory.
pub fn spawn(
    spec: RoomSpec,
    players: Vec<String>,
    runtime: Arc<Runtime>,
    metrics: Arc<Metrics>,
    on_exit: impl FnOnce() + Send + 'static,
) -> Result<(RoomHandle, Vec<Seat>), RoomError> {
    let mut room = Room {
        spec,
        runtime,
        metrics,
        seated: Vec::new(),
        phase: Phase::Lobby,
        seq: 0,
        watchers: Vec::new(),
    };
    let mut seats = Vec::with_capacity(players.len());
    for name in players {
        seats.push(room.join(name)?);
    }
    let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
    let handle = RoomHandle { id: room.spec.id.clone(), plugin: room.spec.plugin.clone(), commands: tx };
    tokio::spawn(async move {
        room.run(rx).await;
        on_exit();
    });
    Ok((handle, seats))
}

enum Phase {
    Lobby,
    Playing(Box<Sandbox>),
    /// Over; the sandbox is kept (when healthy) to render final views.
    Over(RoomStatus, Option<Box<Sandbox>>),
}

struct Watcher {
    player: Option<String>,
    tx: mpsc::Sender<Arc<str>>,
}

struct Room {
    spec: RoomSpec,
    runtime: Arc<Runtime>,
    metrics: Arc<Metrics>,
    seated: Vec<Seat>,
    phase: Phase,
    seq: u64,
    watchers: Vec<Watcher>,
}

impl Room {
    async fn run(&mut self, mut commands: mpsc::Receiver<Command>) {
        let span = tracing::info_span!("room", room = %self.spec.id, game = %self.spec.plugin.name);
        let _guard = span.enter();
        let tick_hz = self.spec.plugin.plugin.info().tick_hz;
        let tick_period = Duration::from_secs(1) / tick_hz.max(1);
        let mut ticker = tokio::time::interval(tick_period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut evict_at: Option<Instant> = None;
        loop {
            if evict_at.is_none() && matches!(self.phase, Phase::Over(..)) {
                evict_at = Some(Instant::now() + self.spec.grace);
            }
            let ticking = tick_hz > 0 && matches!(self.phase, Phase::Playing(_));
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.handle(command),
                    None => break,
                },
                _ = ticker.tick(), if ticking => self.tick(tick_period),
                _ = tokio::time::sleep_until(evict_at.unwrap_or_else(Instant::now)), if evict_at.is_some() => break,
            }
        }
        tracing::debug!("room left memory");
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::Join { name, reply } => {
                let result = self.join(name);
                let _ = reply.send(result);
            }
            Command::Leave { token, reply } => {
                let _ = reply.send(self.leave(&token));
            }
            Command::Act { token, action, reply } => {
                let _ = reply.send(self.act(&token, &action));
            }
            Command::Watch { token, reply } => {
                let _ = reply.send(self.watch(token));
            }
            Command::Describe { reply } => {
                let _ = reply.send(self.describe());
            }
        }
    }

    fn player_of(&self, token: &str) -> Result<String, RoomError> {
        self.seated
            .iter()
            .find(|s| s.token == token)
            .map(|s| s.player.clone())
            .ok_or(RoomError::InvalidToken)
    }

    fn join(&mut self, name: String) -> Result<Seat, RoomError> {
        if name.is_empty() || name.chars().count() > 32 || name.chars().any(char::is_control) {
            return Err(RoomError::InvalidName);
        }
        if !matches!(self.phase, Phase::Lobby) || self.seated.len() as u32 >= self.spec.seats {
            return Err(RoomError::Full(self.spec.seats));
        }
        if self.seated.iter().any(|s| s.player == name) {
            return Err(RoomError::NameTaken(name));
        }
        let seat = Seat { player: name, token: new_token() };
        self.seated.push(seat.clone());
        if self.seated.len() as u32 == self.spec.seats {
            self.start();
        }
        self.broadcast(&[]);
        Ok(seat)
    }

    fn start(&mut self) {
        let players: Vec<String> = self.seated.iter().map(|s| s.player.clone()).collect();
        let started = self.metrics.time(PluginCall::start, || {
            self.spec.plugin.plugin.start(
                &self.runtime,
                self.spec.id.clone(),
                &self.spec.config,
                &players,
                self.spec.seed,
            )
        });
        self.phase = match started {
            Ok(sandbox) => {
                tracing::info!(players = ?players, "game started");
                Phase::Playing(Box::new(sandbox))
            }
            Err(StartError::Rejected(reason)) => {
                Phase::Over(RoomStatus::aborted("start_rejected", reason), None)
            }
            Err(StartError::Fault(fault)) => Phase::Over(self.fault_status(&fault), None),
        };
        self.refresh_status();
    }

    fn leave(&mut self, token: &str) -> Result<(), RoomError> {
        let player = self.player_of(token)?;
        match &self.phase {
            Phase::Lobby => self.seated.retain(|s| s.token != token),
            Phase::Playing(_) => {
                self.phase = Phase::Over(
                    RoomStatus::aborted("player_left", format!("{player} left the game")),
                    None,
                );
                tracing::info!(%player, "player left; room aborted");
            }
            Phase::Over(..) => return Ok(()),
        }
        self.broadcast(&[]);
        Ok(())
    }

    fn act(&mut self, token: &str, action: &str) -> Result<Accepted, RoomError> {
        let player = self.player_of(token)?;
        let result = match &mut self.phase {
            Phase::Lobby => Err(RoomError::NotStarted),
            Phase::Over(RoomStatus::Aborted { reason, .. }, _) => Err(RoomError::Aborted(reason.clone())),
            Phase::Over(..) => Err(RoomError::GameOver),
            Phase::Playing(sandbox) => {
                let applied = self.metrics.time(PluginCall::apply, || sandbox.apply(&player, action));
                match applied {
                    Ok(Ok(events)) => {
                        self.seq += 1;
                        self.refresh_status();
                        self.broadcast(&events);
                        return Ok(Accepted { seq: self.seq, status: self.status() });
                    }
                    Ok(Err(rejection)) => Err(RoomError::Action(rejection)),
                    Err(fault) => {
                        self.abort(&fault);
                        Err(RoomError::Aborted(fault.to_string()))
                    }
                }
            }
        };
        self.metrics.action(ActionOutcome::rejected);
        result
    }

    fn tick(&mut self, period: Duration) {
        let Phase::Playing(sandbox) = &mut self.phase else { return };
        let dt_ms = period.as_millis() as u32;
        match self.metrics.time(PluginCall::tick, || sandbox.tick(dt_ms)) {
            Ok(events) => {
                self.refresh_status();
                self.broadcast(&events);
            }
            Err(fault) => self.abort(&fault),
        }
    }

    fn fault_status(&self, fault: &Fault) -> RoomStatus {
        self.metrics.fault(fault.kind.code());
        tracing::warn!(fault = %fault, "room aborted by a sandbox fault");
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
                    tracing::info!(?status, "game over");
                    let Phase::Playing(sandbox) = std::mem::replace(&mut self.phase, Phase::Lobby) else {
                        unreachable!()
                    };
                    self.phase = Phase::Over(status, Some(sandbox));
                } else {
                    self.metrics.action(ActionOutcome::accepted);
                }
            }
            Err(fault) => self.phase = Phase::Over(self.fault_status(&fault), None),
        }
    }

    fn status(&mut self) -> RoomStatus {
        match &mut self.phase {
            Phase::Lobby => RoomStatus::WaitingForPlayers {
                seated: self.seated.iter().map(|s| s.player.clone()).collect(),
                seats: self.spec.seats,
            },
            Phase::Over(status, _) => status.clone(),
            Phase::Playing(sandbox) => match sandbox.status() {
                Ok(status) => status.into(),
                Err(fault) => RoomStatus::aborted(fault.kind.code(), fault.message),
            },
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
        let _ = tx.try_send(Arc::from(welcome));
        let status = self.status();
        let _ = tx.try_send(self.render(&status, player.as_deref(), &[]));
        self.watchers.push(Watcher { player: player.clone(), tx });
        Ok(Watch { player, updates: rx })
    }

    fn describe(&mut self) -> RoomInfo {
        RoomInfo {
            id: self.spec.id.to_string(),
            game: self.spec.plugin.name.clone(),
            version: self.spec.plugin.version.to_string(),
            hash: self.spec.plugin.hash.clone(),
            seats: self.spec.seats,
            seed: self.spec.seed,
            seq: self.seq,
            status: self.status(),
            watchers: self.watchers.len(),
        }
    }

    /// Send every watcher its own rendering of the current state.
    fn broadcast(&mut self, events: &[Event]) {
        self.watchers.retain(|w| !w.tx.is_closed());
        if self.watchers.is_empty() {
            return;
        }
        let status = self.status();
        // Render once per distinct viewer (all spectators share one message).
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
            if self.watchers[i].tx.try_send(message).is_err() {
                tracing::debug!(player = ?self.watchers[i].player, "watcher too slow; dropped");
            }
        }
        self.watchers.retain(|w| !w.tx.is_closed() && w.tx.capacity() > 0);
    }

    /// One viewer's `state` message.
    fn render(&mut self, status: &RoomStatus, player: Option<&str>, events: &[Event]) -> Arc<str> {
        let viewer = match player {
            Some(p) => Viewer::Player(p.to_string()),
            None => Viewer::Spectator,
        };
        let sandbox = match &mut self.phase {
            Phase::Playing(s) | Phase::Over(_, Some(s)) => Some(s),
            _ => None,
        };
        let mut view = None;
        let mut legal_actions = Vec::new();
        if let Some(sandbox) = sandbox {
            view = self
                .metrics
                .time(PluginCall::view, || sandbox.view(&viewer))
                .ok()
                .and_then(|v| json_or_warn(v, "view"));
            let awaited = matches!(status, RoomStatus::Playing { awaiting } if player.is_some_and(|p| awaiting.iter().any(|a| a == p)));
            if awaited && let (Some(p), Ok(actions)) = (player, sandbox.legal_actions(player.unwrap_or_default())) {
                let _ = p;
                legal_actions = actions.into_iter().filter_map(|a| json_or_warn(a, "legal action")).collect();
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
