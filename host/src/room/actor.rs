//! The room task: the only code that touches a room's sandbox. It takes
//! one command at a time (join, leave, act, watch, describe, tick), moves
//! the room through its phases (seating, playing, over), journals every
//! accepted change before anyone hears of it, and archives the finished
//! game before closing its journal entries. [`spawn`] starts a new room;
//! [`restore`] rebuilds one from its journal entries after a crash.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::Instrument;

use super::fanout::{Outbox, Watchers};
use super::handle::{
    Accepted, Command, Lifecycle, LobbyFacts, Player, RoomError, RoomHandle, RoomInfo, RoomServices, RoomSpec, Seat,
    SeatTokens, Watch, new_token,
};
use super::json_or_warn;
use super::record::{FinalViewsText, GameLog};
use crate::registry::PluginVersion;
use crate::replay::reapply;
use crate::sandbox::{Event, Fault, Sandbox, StartError, Viewer};
use crate::ticker::Batch;
use arcade_archive::record::{GameRecord, LogEntry, LogKind, PluginRef};
use arcade_archive::spool::AfterSync;
use arcade_journal::{AfterDurable, Entry, RecoveredRoom};
use arcade_protocol::clock::now_ms;
use arcade_protocol::{EventOut, RoomStatus, ServerMsg};
use arcade_telemetry::metrics::{ActionOutcome, Metrics, PluginCall};

/// Commands queued per room before callers wait.
const COMMAND_QUEUE: usize = 256;

/// Start a new room: journal its creation, seat `players` (starting the
/// game when they fill every seat), then run its task, which reports to
/// `lifecycle` when its game is over and when it leaves memory. The caller
/// has validated `players` (names, distinct, no more than the seats) and
/// the config: nothing journaled here is refused afterwards. `started` is
/// the game already started for exactly these players (when they fill
/// every seat), used instead of starting it again.
pub async fn spawn(
    spec: RoomSpec,
    players: Vec<Player>,
    started: Option<Box<Sandbox>>,
    services: Arc<RoomServices>,
    lifecycle: Lifecycle,
) -> Result<(RoomHandle, Vec<Seat>), RoomError> {
    let mut room = Room::new(spec, services, lifecycle.on_over);
    room.started = started;
    let plugin = &room.spec.plugin;
    let created = Entry::Created {
        room: room.spec.id.to_string(),
        plugin: PluginRef { name: plugin.name.clone(), version: plugin.version.to_string(), hash: plugin.hash.clone() },
        config: room.spec.config.clone(),
        seats: room.spec.seats,
        seed: room.spec.seed.clone(),
        at_ms: room.spec.created_at_ms,
        mode: room.spec.mode.clone(),
        listed: room.spec.listed,
    };
    // The room and its first seats are journaled together: one sync.
    let at_ms = room.spec.created_at_ms;
    let seats: Vec<Seat> =
        players.into_iter().map(|Player { id, name }| Seat { player: id, name, token: new_token() }).collect();
    let mut entries = vec![created];
    entries.extend(seats.iter().map(|seat| joined(&room.spec.id, seat, at_ms)));
    if let Some(journal) = room.services.journal.clone() {
        journal.append_all(&entries).await.map_err(|e| RoomError::Storage(e.to_string()))?;
    }
    for seat in &seats {
        room.seat(seat.clone(), at_ms);
    }
    room.close_if_over().await;
    Ok((room.run_in_background(lifecycle.on_exit), seats))
}

/// A finished game's record did not reach the spool. Its journal entries
/// stay (no `Closed`): a restart rebuilds the game and archives it again.
fn not_archived(error: &arcade_archive::ArchiveError) {
    tracing::error!(%error, "finished game could not be archived; it stays in the journal");
}

/// The journal entry of `seat` taken in `room`.
fn joined(room: &str, seat: &Seat, at_ms: u64) -> Entry {
    Entry::Joined {
        room: room.to_string(),
        player: seat.player.clone(),
        name: seat.name.clone(),
        token: seat.token.clone(),
        at_ms,
    }
}

/// Rebuild a room the journal found unfinished: restore seats and tokens,
/// re-apply its inputs in a fresh sandbox, and run it again.
pub async fn restore(
    recovered: RecoveredRoom,
    plugin: Arc<PluginVersion>,
    (grace, waiting_ttl): (Duration, Duration),
    services: Arc<RoomServices>,
    lifecycle: Lifecycle,
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
        mode: recovered.mode,
        listed: recovered.listed,
    };
    let mut room = Room::new(spec, services, lifecycle.on_over);
    let mut inputs = Vec::new();
    for entry in recovered.log {
        match entry {
            Entry::Joined { player, name, token, at_ms, .. } => {
                let name = if name.is_empty() { player.clone() } else { name };
                room.seat(Seat { player, name, token }, at_ms)
            }
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
    room.run_in_background(lifecycle.on_exit)
}

enum Phase {
    Seating,
    Playing(Box<Sandbox>),
    /// Over; the sandbox is kept (when healthy) to render final views.
    Over(RoomStatus, Option<Box<FinalViewsText>>),
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
    watchers: Watchers,
    /// The inputs and events of the game so far (for its archive record).
    history: GameLog,
    /// The game's record was archived and its journal entries closed.
    closed: bool,
    /// Set by the journal writer when a write this room handed off failed.
    journal_failed: Arc<AtomicBool>,
    /// Shared with the room's handles: set once the game is over.
    ticks_done: Arc<AtomicBool>,
    /// Shared with the room's handles: set once the game is over (the
    /// scheduler's flag is only set at the next tick).
    over: Arc<AtomicBool>,
    /// Tells the directory the game is over (taken when called).
    on_over: Option<Box<dyn FnOnce() + Send>>,
    /// Who is seated changed since the last broadcast: its `state`
    /// messages carry the names (the last seat starts the game, and the
    /// players seated earlier learn that player's name from that update).
    names_changed: bool,
}

impl Room {
    fn new(spec: RoomSpec, services: Arc<RoomServices>, on_over: Box<dyn FnOnce() + Send>) -> Self {
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
            watchers: Watchers::default(),
            history: GameLog::default(),
            closed: false,
            journal_failed: Arc::default(),
            ticks_done: Arc::default(),
            over: Arc::default(),
            on_over: Some(on_over),
            names_changed: false,
        }
    }

    fn run_in_background(mut self, on_exit: Box<dyn FnOnce() + Send>) -> RoomHandle {
        let leave_now = Arc::new(tokio::sync::Notify::new());
        let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
        let handle = RoomHandle {
            id: self.spec.id.clone(),
            plugin: self.spec.plugin.clone(),
            commands: tx,
            ticks_done: self.ticks_done.clone(),
            seats: self.seat_tokens.clone(),
            lobby: LobbyFacts {
                listed: self.spec.listed,
                seats: self.spec.seats,
                created_at_ms: self.spec.created_at_ms,
            },
            over: self.over.clone(),
            leave_now: leave_now.clone(),
        };
        let span = tracing::info_span!("room", room = %self.spec.id, game = %self.spec.plugin.name);
        crate::room_runtime::spawn(
            async move {
                self.run(rx, &leave_now).await;
                on_exit();
            }
            .instrument(span),
        );
        handle
    }

    fn is_over(&self) -> bool {
        matches!(self.phase, Phase::Over(..))
    }

    async fn run(&mut self, mut commands: mpsc::Receiver<Command>, leave_now: &tokio::sync::Notify) {
        let mut evict_at: Option<Instant> = None;
        let waited_ms = now_ms().saturating_sub(self.spec.created_at_ms);
        let expire_at = Instant::now() + self.spec.waiting_ttl.saturating_sub(Duration::from_millis(waited_ms));
        loop {
            if evict_at.is_none() && self.is_over() {
                self.report_over();
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
                () = leave_now.notified(), if evict_at.is_some() => break,
            }
        }
        tracing::debug!("room left memory");
    }

    async fn handle(&mut self, command: Command) {
        match command {
            Command::Join { player, reply } => {
                let _ = reply.send(self.join(player).await);
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

    /// Once the game is over, hand its record to the archive before anyone
    /// hears about the end (so a flush or a restart right after the last
    /// ack finds it: in the spool, or in the journal to archive again).
    async fn close_if_over(&mut self) {
        if self.is_over() && !self.closed {
            self.close().await;
        }
        if self.is_over() {
            self.report_over();
        }
    }

    /// The game is over: the handles and the directory learn it (once),
    /// before anyone is answered, so a player's next room never finds this
    /// one still counted live.
    fn report_over(&mut self) {
        self.over.store(true, Ordering::Relaxed);
        if let Some(on_over) = self.on_over.take() {
            on_over();
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

    async fn join(&mut self, player: Player) -> Result<Seat, RoomError> {
        if let Some(seat) = self.seated.iter().find(|s| s.player == player.id) {
            return Ok(seat.clone());
        }
        if !matches!(self.phase, Phase::Seating) || self.seated.len() as u32 >= self.spec.seats {
            return Err(RoomError::Full(self.spec.seats));
        }
        let seat = Seat { player: player.id, name: player.name, token: new_token() };
        let at_ms = now_ms();
        self.journal(&joined(&self.spec.id, &seat, at_ms)).await?;
        self.seat(seat.clone(), at_ms);
        self.close_if_over().await;
        self.broadcast(&[]);
        Ok(seat)
    }

    /// Take a seat (already validated and journaled); start when full.
    fn seat(&mut self, seat: Seat, at_ms: u64) {
        self.seated.push(seat);
        self.names_changed = true;
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
        self.history.started_at_ms = Some(at_ms);
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
        self.names_changed = true;
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
    /// Actions advance `seq` (the number players see).
    fn record(&mut self, at_ms: u64, kind: LogKind, events: &[Event]) {
        if matches!(kind, LogKind::Action { .. }) {
            self.seq += 1;
        }
        self.history.record(at_ms, kind, events);
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

    /// The game is over: archive its record, then close its journal entries
    /// so a restart does not rebuild it.
    ///
    /// With the journal on, the room does not wait for the archive's disk:
    /// the journal already holds everything the game was, so the record is
    /// spooled lazily and the room's `Closed` entry is written once the
    /// record is durable. A crash in between rebuilds the game from the
    /// journal and archives it again (the archive keeps one copy per game
    /// id). Without a journal the record itself must be on disk first.
    async fn close(&mut self) {
        self.closed = true;
        let closed = Entry::Closed { room: self.spec.id.to_string() };
        let journal = self.services.journal.clone();
        let Some((archiver, record)) = self.services.archiver.clone().zip(self.game_record()) else {
            if let Some(journal) = journal {
                journal.append_later(&closed);
            }
            return;
        };
        let archived = match journal {
            Some(journal) => {
                let then: AfterSync = Box::new(move |durable| match durable {
                    Ok(()) => journal.append_later(&closed),
                    Err(e) => not_archived(&e),
                });
                archiver.submit_lazily(record, then)
            }
            None => archiver.submit(record).await,
        };
        if let Err(e) = archived {
            not_archived(&e);
        }
    }

    /// The archive record of a game that started and is over.
    fn game_record(&mut self) -> Option<GameRecord> {
        let Phase::Over(status, views) = &self.phase else { return None };
        self.history.take_record(&self.spec, &self.seated, status, views.as_deref())
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
        let plugin = &self.spec.plugin;
        let welcome = ServerMsg::Welcome {
            room: &self.spec.id,
            game: &plugin.name,
            version: &plugin.version.to_string(),
            you: player.as_deref(),
            names: &self.names(),
        }
        .to_json();
        let status = self.status();
        let state = self.render(&status, player.as_deref(), &[]);
        let (link, updates) = self.watchers.add(player.clone());
        self.deliver(Outbox::to(&link, [Arc::from(welcome), state]));
        Ok(Watch { player, updates })
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
            names: self.names(),
        }
    }

    /// The display names of the seated players, by id.
    fn names(&self) -> BTreeMap<String, String> {
        self.seated.iter().map(|s| (s.player.clone(), s.name.clone())).collect()
    }

    /// Send every watcher its own rendering of the current state.
    fn broadcast(&mut self, events: &[Event]) {
        let outbox = self.render_all(events);
        self.names_changed = false;
        self.deliver(outbox);
    }

    /// Each watcher's rendering of the current state.
    fn render_all(&mut self, events: &[Event]) -> Outbox {
        let mut watchers = std::mem::take(&mut self.watchers);
        let mut status = None;
        let outbox = watchers.render_all(|viewer| {
            let status = status.get_or_insert_with(|| self.status());
            self.render(status, viewer, events)
        });
        self.watchers = watchers;
        outbox
    }

    /// Send now, or, with the journal on, once everything journaled so far
    /// is durable (see [`Outbox::deliver`]).
    fn deliver(&self, outbox: Outbox) {
        outbox.deliver(self.services.journal.as_ref());
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
        let names = (matches!(self.phase, Phase::Seating) || self.names_changed).then(|| self.names());
        let message = ServerMsg::State {
            seq: self.seq,
            status,
            view: view.as_deref(),
            events: &events,
            legal_actions: &legal_actions,
            names: names.as_ref(),
        };
        Arc::from(message.to_json())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::registry::Registry;
    use crate::sandbox::SandboxEngine;
    use crate::ticker::Ticker;
    use arcade_protocol::seed::Seed;

    /// A tic-tac-toe room of two seats on real services (the sandbox, the
    /// plugin the build script compiled; no journal, no archiver), with
    /// `players` seated at creation.
    async fn tic_tac_toe(players: &[&str]) -> (RoomHandle, Vec<Seat>) {
        let engine = Arc::new(SandboxEngine::new(Default::default()).expect("a sandbox engine"));
        let registry = Registry::open(engine.clone(), None).expect("a registry");
        let wasm = std::fs::read(arcade_test_plugins::plugin_path("tic-tac-toe")).expect("the tic-tac-toe plugin");
        let plugin = registry.publish(&wasm).expect("publishing tic-tac-toe").version;
        let metrics = Arc::new(Metrics::default());
        let ticker = Ticker::new(arcade_sim::Stepper::cpu(), metrics.clone());
        let services = Arc::new(RoomServices { runtime: engine, metrics, journal: None, archiver: None, ticker });
        let spec = RoomSpec {
            id: Arc::from("room-under-test"),
            plugin,
            config: "{}".into(),
            seats: 2,
            seed: Seed::SplitMix64(7),
            waiting_ttl: Duration::from_secs(60),
            grace: Duration::from_secs(60),
            created_at_ms: now_ms(),
            mode: None,
            listed: false,
        };
        let lifecycle = Lifecycle { on_over: Box::new(|| {}), on_exit: Box::new(|| {}) };
        spawn(spec, players.iter().map(|p| player(p)).collect(), None, services, lifecycle).await.expect("a room")
    }

    /// A player whose display name is its id, capitalised.
    fn player(id: &str) -> Player {
        Player { id: id.to_string(), name: id[..1].to_uppercase() + &id[1..] }
    }

    fn cell(n: u32) -> String {
        format!(r#"{{"cell":{n}}}"#)
    }

    async fn next_state(watch: &mut Watch) -> serde_json::Value {
        let message = tokio::time::timeout(Duration::from_secs(5), watch.updates.recv())
            .await
            .expect("a message within 5 s")
            .expect("the room is still there");
        let message: serde_json::Value = serde_json::from_str(&message).expect("JSON");
        assert_eq!(message["type"], "state", "{message}");
        message
    }

    #[tokio::test]
    async fn the_game_starts_when_the_last_seat_is_taken_and_a_third_player_is_refused() {
        let (room, seats) = tic_tac_toe(&["alice"]).await;
        let info = room.describe().await.unwrap();
        assert!(matches!(info.status, RoomStatus::WaitingForPlayers { ref seated, seats: 2 } if seated == &["alice"]));
        let refused = room.act(seats[0].token.clone(), cell(0)).await.unwrap_err();
        assert_eq!(refused.code(), "game_not_started");
        let again = room.join(player("alice")).await.unwrap();
        assert_eq!(again.token, seats[0].token, "joining again gives the seat back");
        let bob = room.join(player("bob")).await.unwrap();
        assert_eq!((bob.player.as_str(), bob.name.as_str()), ("bob", "Bob"));
        assert_eq!(room.authenticate(&bob.token).unwrap(), "bob");
        assert_eq!(room.seat_token_of("bob"), Some(bob.token.clone()));
        let info = room.describe().await.unwrap();
        assert!(matches!(info.status, RoomStatus::Playing { .. }));
        assert_eq!(info.names.get("bob").map(String::as_str), Some("Bob"));
        assert_eq!(room.join(player("carol")).await.unwrap_err().code(), "room_full");
        assert_eq!(room.join(player("bob")).await.unwrap().token, bob.token, "a seated player rejoins while playing");
        assert!(room.describe().await.unwrap().seed.is_none(), "the seed is secret while the game runs");
    }

    #[tokio::test]
    async fn actions_apply_in_turn_and_a_refused_one_changes_nothing() {
        let (room, seats) = tic_tac_toe(&["alice", "bob"]).await;
        let (alice, bob) = (seats[0].token.clone(), seats[1].token.clone());
        assert_eq!(room.act(bob.clone(), cell(0)).await.unwrap_err().code(), "not_your_turn");
        assert_eq!(room.act("not-a-token".into(), cell(0)).await.unwrap_err().code(), "invalid_token");
        assert_eq!(room.act(alice.clone(), "{".into()).await.unwrap_err().code(), "malformed_action");
        assert_eq!(room.describe().await.unwrap().seq, 0, "refusals change nothing");
        assert_eq!(room.act(alice.clone(), cell(4)).await.unwrap().seq, 1);
        assert_eq!(room.act(bob.clone(), cell(4)).await.unwrap_err().code(), "illegal_action");
        assert_eq!(room.act(bob, cell(0)).await.unwrap().seq, 2);
    }

    #[tokio::test]
    async fn a_won_game_is_over_for_everyone_and_reveals_its_seed() {
        let (room, seats) = tic_tac_toe(&["alice", "bob"]).await;
        let (alice, bob) = (seats[0].token.clone(), seats[1].token.clone());
        let mut spectator = room.watch(None).await.unwrap();
        assert_eq!(spectator.player, None);
        // X takes the top row.
        for (token, n) in [(&alice, 0), (&bob, 3), (&alice, 1), (&bob, 4)] {
            room.act(token.clone(), cell(n)).await.unwrap();
        }
        let last = room.act(alice.clone(), cell(2)).await.unwrap();
        assert!(matches!(last.status, RoomStatus::Finished { ref winners, .. } if winners == &["alice"]), "{last:?}");
        assert_eq!(room.act(bob, cell(5)).await.unwrap_err().code(), "game_over");
        let info = room.describe().await.unwrap();
        assert_eq!(info.seq, 5);
        assert!(matches!(info.seed, Some(Seed::SplitMix64(7))), "the seed is public once the game is over");
        // The spectator saw the welcome, the state when it joined, then every move.
        let welcome = spectator.updates.recv().await.unwrap();
        assert!(welcome.contains(r#""type":"welcome""#), "{welcome}");
        let mut seqs = Vec::new();
        for _ in 0..6 {
            seqs.push(next_state(&mut spectator).await["seq"].as_u64().unwrap());
        }
        assert_eq!(seqs, [0, 1, 2, 3, 4, 5]);
    }

    #[tokio::test]
    async fn players_watch_as_themselves_and_a_wrong_token_cannot_watch() {
        let (room, seats) = tic_tac_toe(&["alice", "bob"]).await;
        let mut alice = room.watch(Some(seats[0].token.clone())).await.unwrap();
        assert_eq!(alice.player.as_deref(), Some("alice"));
        let welcome: serde_json::Value = serde_json::from_str(&alice.updates.recv().await.unwrap()).unwrap();
        assert_eq!(welcome["you"], "alice");
        assert_eq!(welcome["names"], serde_json::json!({ "alice": "Alice", "bob": "Bob" }));
        let state = next_state(&mut alice).await;
        assert!(!state["legal_actions"].as_array().unwrap().is_empty(), "alice is to move: {state}");
        let forged = room.watch(Some("forged".into())).await;
        assert_eq!(forged.err().map(|e| e.code()), Some("invalid_token"));
        assert_eq!(room.describe().await.unwrap().watchers, 1);
    }

    #[tokio::test]
    async fn leaving_frees_a_seat_while_seating_and_aborts_a_running_game() {
        let (room, seats) = tic_tac_toe(&["alice"]).await;
        room.leave(seats[0].token.clone()).await.unwrap();
        assert!(room.authenticate(&seats[0].token).is_err(), "the seat token is gone with the seat");
        let carol = room.join(player("carol")).await.unwrap();
        let dave = room.join(player("dave")).await.unwrap();
        assert!(matches!(room.describe().await.unwrap().status, RoomStatus::Playing { .. }));
        room.leave(dave.token).await.unwrap();
        let status = room.describe().await.unwrap().status;
        assert!(matches!(status, RoomStatus::Aborted { ref code, .. } if code == "player_left"), "{status:?}");
        assert_eq!(room.act(carol.token, cell(0)).await.unwrap_err().code(), "room_aborted");
    }
}
