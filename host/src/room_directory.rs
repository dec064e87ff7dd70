//! The room directory: creates rooms (enforcing `max_rooms`), restores the
//! rooms the journal found unfinished (no more than `max_rooms`), finds
//! rooms by id, and forgets them when their task ends.
//!
//! `max_rooms` bounds live rooms (waiting for players or playing: they hold
//! a sandbox and take CPU). A finished room only keeps its final state for
//! late reconnects during its grace period; at most `max_finished` of them
//! stay, and beyond that the oldest leave memory early (their games are in
//! the archive). Finished rooms never keep a new game from starting: a
//! node playing short games back to back finishes far more games within
//! one grace period than it has live rooms.
//!
//! A creation is checked whole before anything is journaled (seat count,
//! player names, the config, a free slot), so a refused request leaves no
//! room behind, not even after a restart. The config is checked by starting
//! the game (its `create`) with placeholders for the open seats; a config a
//! game build accepted for a seat count is remembered
//! ([`AcceptedConfigs`]), so rooms made the same way do not start the game
//! twice.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::registry::{PluginVersion, Registry};
use crate::room::{self, Lifecycle, Player, RoomError, RoomHandle, RoomServices, RoomSpec, Seat};
use crate::room_runtime;
use crate::sandbox::{FaultKind, StartError};
use arcade_journal::RecoveredRoom;
use arcade_protocol::clock::now_ms;
use arcade_protocol::seed::Seed;
use arcade_telemetry::metrics::PluginCall;

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("the server holds its maximum of {0} rooms; try again later")]
    TooManyRooms(u32),
    #[error("the server is shutting down and takes no new rooms")]
    Draining,
    #[error("no room for another game on this server right now: {0}")]
    NoCapacity(String),
    #[error("{game} takes {min}..={max} players, not {seats}")]
    InvalidSeats { game: String, seats: u32, min: u32, max: u32 },
    #[error("the game refused this config: {0}")]
    InvalidConfig(String),
    #[error("{0}")]
    InvalidName(#[from] arcade_protocol::names::InvalidName),
    #[error("the player {0:?} is given twice")]
    DuplicateName(String),
    #[error(transparent)]
    Room(#[from] RoomError),
}

/// What a creator asks for.
pub struct NewRoom {
    pub plugin: Arc<PluginVersion>,
    /// JSON config for the game ("{}" when none).
    pub config: String,
    /// Seat count; defaults to the game's minimum.
    pub seats: Option<u32>,
    /// Players to seat at once (their tokens are returned).
    pub players: Vec<Player>,
    /// Fixed seed (test mode only); a fresh secret otherwise.
    pub seed: Option<Seed>,
    /// A matchmade room's mode (its game is rated on that board); `None`
    /// for a room players made themselves (unrated).
    pub mode: Option<String>,
    /// Shown in the open-rooms listing (the creator's choice).
    pub listed: bool,
}

/// Which listed rooms a listing wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Listing {
    /// Seats open: to join.
    Waiting,
    /// Every seat taken, not over: to watch.
    Playing,
}

/// A page of listed rooms: oldest first, after the cursor `(created_at_ms,
/// id)`.
pub struct ListedPage {
    pub rooms: Vec<RoomHandle>,
    /// More rooms follow the last one.
    pub more: bool,
}

/// How long rooms live: waiting for players, and after the game for late
/// reconnects (and how many finished rooms stay that long).
#[derive(Clone, Copy, Debug)]
pub struct RoomLifetimes {
    pub waiting_ttl: Duration,
    pub finished_grace: Duration,
    /// Finished rooms kept at most; beyond it the oldest leave before their grace ends.
    pub max_finished: u32,
}

pub struct RoomDirectory {
    services: Arc<RoomServices>,
    /// The node id new room ids carry, in a cluster.
    id_prefix: Option<String>,
    max_rooms: u32,
    lifetimes: RoomLifetimes,
    directory: Arc<RwLock<Directory>>,
    accepted_configs: AcceptedConfigs,
    /// Set on shutdown: no new rooms.
    draining: AtomicBool,
}

/// The configs game builds accepted at a trial start, by seat count. A
/// room created with open seats is started for real only when its last
/// seat is taken; to refuse a bad config at creation all the same, the
/// directory starts the game once with placeholders for the open seats and
/// throws that instance away. Rooms made the same way (the same build,
/// seat count and config: most rooms of a lobby) then skip that trial: an
/// instance and a run of the game's `create` per room.
///
/// Only acceptances are remembered, never refusals or faults. What is
/// remembered is a pre-check, as the trial itself is: the real start still
/// runs `create` with the real players, and a refusal there ends the room
/// as aborted (`start_rejected`). Bounded: configs over
/// [`AcceptedConfigs::MAX_CONFIG_BYTES`] are not remembered, and at
/// [`AcceptedConfigs::MAX_ENTRIES`] everything is forgotten at once.
#[derive(Default)]
struct AcceptedConfigs(Mutex<HashSet<String>>);

impl AcceptedConfigs {
    const MAX_ENTRIES: usize = 4096;
    const MAX_CONFIG_BYTES: usize = 1024;

    /// The entry for `config` of the build `hash` with `seats` seats, if
    /// such a config may be remembered.
    fn key(hash: &str, seats: u32, config: &str) -> Option<String> {
        (config.len() <= Self::MAX_CONFIG_BYTES).then(|| format!("{hash}/{seats}/{config}"))
    }

    fn set(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn contains(&self, key: &str) -> bool {
        self.set().contains(key)
    }

    fn remember(&self, key: String) {
        let mut set = self.set();
        if set.len() >= Self::MAX_ENTRIES {
            set.clear();
        }
        set.insert(key);
    }
}

#[derive(Default)]
struct Directory {
    /// Every room in memory, live or finished.
    rooms: HashMap<Arc<str>, RoomHandle>,
    /// Slots taken by rooms being created (journaling their first entries).
    reserved: u32,
    /// The finished rooms still in memory.
    finished: HashSet<Arc<str>>,
    /// `finished` in the order the games ended, oldest first; ids of rooms
    /// that have left since are skipped when met.
    finished_order: VecDeque<Arc<str>>,
}

impl Directory {
    /// Slots of `max_rooms` in use: live rooms and creations under way.
    fn occupied(&self) -> u32 {
        self.live() + self.reserved
    }

    /// Rooms waiting for players or playing. (A room whose game ended
    /// while it was being created is counted finished before it is listed.)
    fn live(&self) -> u32 {
        self.rooms.len().saturating_sub(self.finished.len()) as u32
    }

    /// `id`'s game is over: count it finished, and when more than `max`
    /// finished rooms are in memory tell the oldest to leave now. A room
    /// whose game ended while it was being created is not listed yet and
    /// has no handle to tell: it stays counted finished (so that, once
    /// listed, it is not taken for a live room) and the next oldest leaves
    /// instead; it is told to leave by a later game's end.
    fn game_over(&mut self, id: Arc<str>, max: u32) {
        if !self.finished.insert(id.clone()) {
            return;
        }
        self.finished_order.push_back(id);
        let mut next = 0;
        while self.finished.len() > max as usize && next < self.finished_order.len() {
            let candidate = &self.finished_order[next];
            let room = self.finished.contains(candidate).then(|| self.rooms.get(candidate)).flatten();
            let Some(room) = room else {
                next += 1; // already gone, or not listed yet
                continue;
            };
            room.leave_memory();
            if let Some(oldest) = self.finished_order.remove(next) {
                self.finished.remove(&oldest);
            }
        }
        // Rooms leave in about the order their games ended: drop the ids
        // of those already gone from the front.
        while self.finished_order.front().is_some_and(|id| !self.finished.contains(id)) {
            self.finished_order.pop_front();
        }
    }

    /// `id` has left memory.
    fn left(&mut self, id: &Arc<str>) {
        self.rooms.remove(id);
        self.finished.remove(id);
    }
}

impl RoomDirectory {
    pub fn new(
        services: Arc<RoomServices>,
        max_rooms: u32,
        lifetimes: RoomLifetimes,
        id_prefix: Option<String>,
    ) -> Self {
        RoomDirectory {
            services,
            id_prefix,
            max_rooms,
            lifetimes,
            directory: Arc::default(),
            accepted_configs: AcceptedConfigs::default(),
            draining: AtomicBool::new(false),
        }
    }

    /// Rebuild the rooms the journal found unfinished, up to `max_rooms`
    /// (the rest stay in the journal for a node with room for them, counted
    /// in `rooms_not_restored_total`). A room whose plugin version is gone
    /// (or has other bytes) is skipped with an error log; a yanked version
    /// still serves the rooms that were on it.
    pub async fn restore(&self, recovered: Vec<RecoveredRoom>, registry: &Registry) -> usize {
        let mut restored = 0;
        let total = recovered.len();
        for room in recovered {
            if restored >= self.max_rooms as usize {
                let left = total - restored;
                tracing::error!(left, max_rooms = self.max_rooms, "journal holds more unfinished rooms than max_rooms");
                self.services.metrics.rooms_not_restored.inc_by(left as u64);
                break;
            }
            // By its bytes (name and version come from them): yanked or not.
            let plugin = match registry.find_by_hash(&room.plugin.hash) {
                Some(p) => p,
                _ => {
                    tracing::error!(room = %room.room, plugin = ?room.plugin, "plugin of a recovered room is not in the registry; room dropped");
                    continue;
                }
            };
            let id: Arc<str> = Arc::from(room.room.as_str());
            let lifetimes = (self.lifetimes.finished_grace, self.lifetimes.waiting_ttl);
            let handle =
                room::restore(room, plugin, lifetimes, self.services.clone(), self.lifecycle(id.clone())).await;
            self.drive_if_real_time(&handle);
            self.directory().rooms.insert(id, handle);
            self.services.metrics.rooms_active.inc();
            restored += 1;
        }
        restored
    }

    /// Real-time rooms tick from the shared scheduler (batched physics).
    fn drive_if_real_time(&self, handle: &RoomHandle) {
        let tick_hz = handle.plugin.plugin.info().tick_hz;
        if tick_hz > 0 {
            self.services.ticker.register(tick_hz, Arc::new(handle.clone()));
        }
    }

    fn directory(&self) -> std::sync::RwLockWriteGuard<'_, Directory> {
        self.directory.write().unwrap_or_else(|e| e.into_inner())
    }

    /// What room `id` reports: its game is over (it stops counting
    /// against `max_rooms`), and it has left memory (it is forgotten).
    fn lifecycle(&self, id: Arc<str>) -> Lifecycle {
        let (directory, max_finished) = (self.directory.clone(), self.lifetimes.max_finished);
        let on_over = {
            let (directory, id) = (directory.clone(), id.clone());
            Box::new(move || directory.write().unwrap_or_else(|e| e.into_inner()).game_over(id, max_finished))
        };
        let metrics = self.services.metrics.clone();
        let on_exit = Box::new(move || {
            directory.write().unwrap_or_else(|e| e.into_inner()).left(&id);
            metrics.rooms_active.dec();
        });
        Lifecycle { on_over, on_exit }
    }

    pub async fn create(&self, new: NewRoom) -> Result<(RoomHandle, Vec<Seat>), CreateError> {
        let info = new.plugin.plugin.info();
        let seats = new.seats.unwrap_or(info.min_players.max(new.players.len() as u32));
        if seats < info.min_players || seats > info.max_players || new.players.len() as u32 > seats {
            return Err(CreateError::InvalidSeats {
                game: info.name.clone(),
                seats,
                min: info.min_players,
                max: info.max_players,
            });
        }
        let mut players: Vec<Player> = Vec::with_capacity(new.players.len());
        for player in new.players {
            let id = arcade_protocol::names::player_name(&player.id)?;
            if players.iter().any(|p| p.id == id) {
                return Err(CreateError::DuplicateName(id));
            }
            let name = arcade_protocol::names::player_name(&player.name).unwrap_or_else(|_| id.clone());
            players.push(Player { id, name });
        }
        let seed = new.seed.unwrap_or_else(Seed::generate);
        let id: Arc<str> = Arc::from(arcade_cluster::room_ids::new_room_id(self.id_prefix.as_deref()));
        // Check the config now, with the players given and placeholders for
        // open seats, so a game that refuses it never becomes a room, unless
        // this build already accepted it for as many seats. When the players
        // fill every seat this is the game's real start, kept for the room.
        // Plugin code runs on the room runtime, never on I/O threads.
        let seats_open = (players.len() as u32) < seats;
        let accepted_key = AcceptedConfigs::key(&new.plugin.hash, seats, &new.config);
        let known_good = seats_open && accepted_key.as_deref().is_some_and(|key| self.accepted_configs.contains(key));
        let started = if known_good {
            None
        } else {
            self.trial_start(&new.plugin, &new.config, &id, &players, seats, &seed).await?
        };
        if let (false, Some(key)) = (known_good, accepted_key) {
            self.accepted_configs.remember(key);
        }
        {
            // Reserve the slot first so concurrent creations cannot overshoot.
            let mut directory = self.directory();
            if self.is_draining() {
                return Err(CreateError::Draining);
            }
            if directory.occupied() >= self.max_rooms {
                return Err(CreateError::TooManyRooms(self.max_rooms));
            }
            directory.reserved += 1;
        }
        let spec = RoomSpec {
            id: id.clone(),
            plugin: new.plugin,
            config: new.config,
            seats,
            seed,
            waiting_ttl: self.lifetimes.waiting_ttl,
            grace: self.lifetimes.finished_grace,
            created_at_ms: now_ms(),
            mode: new.mode,
            listed: new.listed,
        };
        let spawned =
            room_runtime::spawn(room::spawn(spec, players, started, self.services.clone(), self.lifecycle(id.clone())))
                .await
                .unwrap_or(Err(RoomError::Closed));
        let mut directory = self.directory();
        directory.reserved -= 1;
        let (handle, seats) = spawned?;
        self.drive_if_real_time(&handle);
        directory.rooms.insert(id, handle.clone());
        self.services.metrics.rooms_active.inc();
        self.services.metrics.rooms_created.inc();
        Ok((handle, seats))
    }

    /// Start the game with `players` and placeholders for the open seats:
    /// the sandbox when every seat is taken (the room's real start), none
    /// when seats are open (the instance only checked the config), or why
    /// the game cannot become a room.
    async fn trial_start(
        &self,
        plugin: &Arc<PluginVersion>,
        config: &str,
        id: &Arc<str>,
        players: &[Player],
        seats: u32,
        seed: &Seed,
    ) -> Result<Option<Box<crate::sandbox::Sandbox>>, CreateError> {
        let mut trial_players: Vec<String> = players.iter().map(|p| p.id.clone()).collect();
        trial_players.extend((players.len() as u32 + 1..=seats).map(|i| format!("seat-{i}")));
        let trial = {
            let (plugin, runtime, id, config, seed) =
                (plugin.clone(), self.services.runtime.clone(), id.clone(), config.to_string(), seed.clone());
            let metrics = self.services.metrics.clone();
            room_runtime::spawn(async move {
                metrics.time(PluginCall::start, || plugin.plugin.start(&runtime, id, &config, &trial_players, &seed))
            })
            .await
            .map_err(|_| CreateError::Room(RoomError::Closed))?
        };
        match trial {
            Ok(sandbox) => Ok((players.len() as u32 == seats).then(|| Box::new(sandbox))),
            Err(StartError::Rejected(reason)) => Err(CreateError::InvalidConfig(reason)),
            Err(StartError::Fault(fault)) if fault.kind == FaultKind::Capacity => {
                Err(CreateError::NoCapacity(fault.to_string()))
            }
            Err(StartError::Fault(fault)) => Err(CreateError::InvalidConfig(fault.to_string())),
        }
    }

    pub fn get(&self, id: &str) -> Option<RoomHandle> {
        self.directory.read().unwrap_or_else(|e| e.into_inner()).rooms.get(id).cloned()
    }

    /// A page of this node's listed rooms of `game` (any when `None`) in
    /// the state `wanted`, after `after`, at most `limit`. It reads the
    /// handles only (no trip to any room): a scan of the node's rooms.
    pub fn listed(&self, game: Option<&str>, wanted: Listing, after: Option<(u64, &str)>, limit: usize) -> ListedPage {
        let mut rooms: Vec<RoomHandle> = {
            let directory = self.directory.read().unwrap_or_else(|e| e.into_inner());
            directory
                .rooms
                .values()
                .filter(|h| h.lobby.listed && game.is_none_or(|g| h.plugin.name == g))
                .filter(|h| after.is_none_or(|(at, id)| (h.lobby.created_at_ms, &*h.id) > (at, id)))
                .cloned()
                .collect()
        };
        rooms.retain(|h| {
            let open = (h.seated().len() as u32) < h.lobby.seats;
            !h.is_over() && open == (wanted == Listing::Waiting)
        });
        rooms.sort_by(|a, b| (a.lobby.created_at_ms, &*a.id).cmp(&(b.lobby.created_at_ms, &*b.id)));
        let more = rooms.len() > limit;
        rooms.truncate(limit);
        ListedPage { rooms, more }
    }

    /// Rooms in memory, live or finished.
    pub fn len(&self) -> usize {
        self.directory.read().unwrap_or_else(|e| e.into_inner()).rooms.len()
    }

    /// Rooms waiting for players or playing (what `max_rooms` bounds).
    pub fn live(&self) -> usize {
        self.directory.read().unwrap_or_else(|e| e.into_inner()).live() as usize
    }

    /// Finished rooms still in memory for late reconnects (what `max_finished_rooms` bounds).
    pub fn finished(&self) -> usize {
        self.directory.read().unwrap_or_else(|e| e.into_inner()).finished.len()
    }

    /// Stop taking new rooms (shutdown).
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// How many rooms are still waiting for players or playing.
    pub async fn unfinished(&self) -> usize {
        let handles: Vec<RoomHandle> =
            self.directory.read().unwrap_or_else(|e| e.into_inner()).rooms.values().cloned().collect();
        let mut unfinished = 0;
        for handle in handles {
            if handle.describe().await.is_ok_and(|info| !info.status.is_over()) {
                unfinished += 1;
            }
        }
        unfinished
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::{AcceptedConfigs, Directory};

    /// Games that end while their rooms are being created are counted
    /// finished before the rooms are listed; beyond `max` finished rooms
    /// they stay counted (there is no handle to tell them to leave), so
    /// that once listed they do not count as live rooms.
    #[test]
    fn rooms_over_before_they_are_listed_stay_counted_finished() {
        let mut directory = Directory::default();
        for id in ["a", "b", "c"] {
            directory.game_over(id.into(), 1);
        }
        assert_eq!(directory.finished.len(), 3);
        assert_eq!(directory.finished_order.len(), 3);
        directory.game_over("a".into(), 1);
        assert_eq!(directory.finished_order.len(), 3, "a game ends once");
        directory.left(&"a".into());
        directory.game_over("d".into(), 1);
        assert_eq!(directory.finished_order, ["b", "c", "d"].map(std::sync::Arc::<str>::from));
    }

    #[test]
    fn accepted_configs_are_told_apart_by_build_seats_and_config_and_stay_bounded() {
        let accepted = AcceptedConfigs::default();
        let key = AcceptedConfigs::key("build-a", 2, "{}").unwrap();
        assert!(!accepted.contains(&key));
        accepted.remember(key.clone());
        assert!(accepted.contains(&key));
        for other in [("build-b", 2, "{}"), ("build-a", 3, "{}"), ("build-a", 2, "{\"size\":4}")] {
            let other = AcceptedConfigs::key(other.0, other.1, other.2).unwrap();
            assert!(!accepted.contains(&other), "{other}");
        }
        let oversized = "x".repeat(AcceptedConfigs::MAX_CONFIG_BYTES + 1);
        assert_eq!(AcceptedConfigs::key("build-a", 2, &oversized), None);
        for i in 0..AcceptedConfigs::MAX_ENTRIES {
            accepted.remember(format!("build-a/2/{i}"));
        }
        assert!(accepted.set().len() <= AcceptedConfigs::MAX_ENTRIES);
    }
}
