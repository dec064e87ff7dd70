//! What a game server runs of matchmaking and clustering: this node's
//! identity, its heartbeat into the node directory (noticing lost nodes),
//! a matching round on a timer (per queue, on whichever node holds the
//! queue's lease), one queue per published game, rooms for matches created
//! here directly (other nodes over HTTP), the seated-ticket announcements
//! that wake this node's ticket WebSockets, where a room that is not here
//! lives, and the rate limiter.
//!
//! Alone (no `cluster.redis_url`), the node keeps all of it in memory and is
//! the only node rooms are placed on; with Redis, every node shares tickets,
//! the player rate limit and the node directory.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use futures_util::StreamExt;
use tokio::sync::watch;

use crate::api::App;
use crate::cluster::room_ids::{self, is_valid_node_id};
use crate::cluster::{
    HttpRoomProvisioner, MatchDriver, NodeDirectory, NodeInfo, ProvisionError, RoomProvisioner, open_node_directory,
};
use crate::config::Config;
use crate::journal::now_ms;
use crate::matchmaking::{
    MatchResult, MatchRules, Matchmaker, QueueKey, RoomAssignment, SeatAssignment, StoreOptions, open_ticket_store,
};
use crate::ratelimit::RateLimiter;
use crate::registry::Registry;
use crate::rooms::NewRoom;

/// The shortest lease on a queue's matching rounds.
const ROUND_LEASE_MIN: Duration = Duration::from_secs(3);

/// Where a room that this node does not run is.
pub enum RoomLocation {
    /// On the live node at this base URL.
    Elsewhere(String),
    /// Its node stopped heartbeating: lost until that node comes back.
    Lost { node: String },
    /// No such room.
    Unknown,
}

pub struct Lobby {
    node_id: String,
    /// Room ids carry the node id only in a cluster.
    clustered: bool,
    /// Set when the listener is bound.
    url: OnceLock<String>,
    capacity: u32,
    heartbeat_interval: Duration,
    node_ttl: Duration,
    round_interval: Duration,
    default_mode: String,
    default_region: String,
    rules: MatchRules,
    pub matchmaker: Arc<Matchmaker>,
    pub limiter: RateLimiter,
    directory: Arc<dyn NodeDirectory>,
    /// The live nodes as of the last heartbeat.
    live: RwLock<Vec<NodeInfo>>,
    /// Ticket id → a signal to the ticket WebSockets here waiting for its
    /// room, raised by the store's seated announcements (from any node).
    ticket_watchers: Mutex<HashMap<String, watch::Sender<()>>>,
}

impl Lobby {
    /// Connects the stores the config names (Redis) or makes in-memory ones.
    pub async fn open(config: &Config) -> anyhow::Result<Lobby> {
        let cluster = &config.cluster;
        let redis = cluster.redis_url.trim();
        let clustered = !redis.is_empty();
        let node_id = node_id(config)?;
        let store_url = if clustered { redis } else { "memory:" };
        let store_options = StoreOptions { namespace: format!("{}:mm", cluster.namespace), ..StoreOptions::default() };
        let store = open_ticket_store(store_url, store_options).await.context("opening the ticket store")?;
        let directory = open_node_directory(store_url, &format!("{}:nodes", cluster.namespace))
            .await
            .context("opening the node directory")?;
        #[cfg(feature = "redis")]
        let limiter = if clustered {
            RateLimiter::redis(redis, &format!("{}:rl", cluster.namespace), config.rate_limits.clone()).await
        } else {
            RateLimiter::in_memory(config.rate_limits.clone())
        };
        #[cfg(not(feature = "redis"))]
        let limiter = RateLimiter::in_memory(config.rate_limits.clone());
        let limiter = limiter.context("the rate limiter")?;
        let matchmaking = &config.matchmaking;
        Ok(Lobby {
            node_id,
            clustered,
            url: OnceLock::new(),
            capacity: if cluster.capacity == 0 { config.limits.max_rooms } else { cluster.capacity },
            heartbeat_interval: Duration::from_millis(cluster.heartbeat_interval_ms.max(10)),
            node_ttl: Duration::from_millis(cluster.node_ttl_ms.max(cluster.heartbeat_interval_ms * 2)),
            round_interval: Duration::from_millis(matchmaking.round_interval_ms.max(1)),
            default_mode: matchmaking.default_mode.clone(),
            default_region: matchmaking.default_region.clone(),
            rules: matchmaking.rules.clone(),
            matchmaker: Arc::new(Matchmaker::new(store, [])?),
            limiter,
            directory,
            live: RwLock::default(),
            ticket_watchers: Mutex::default(),
        })
    }

    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// The node id that new room ids carry (`None` when alone).
    pub fn room_id_prefix(&self) -> Option<&str> {
        self.clustered.then_some(self.node_id.as_str())
    }

    pub fn default_mode(&self) -> &str {
        &self.default_mode
    }

    pub fn default_region(&self) -> &str {
        &self.default_region
    }

    /// The live nodes as of the last heartbeat.
    pub fn live_nodes(&self) -> Vec<NodeInfo> {
        self.live.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Opens the default queue of every published game (again after a
    /// publish: a new version may change the player count).
    pub fn open_queues(&self, registry: &Registry) {
        for plugin in registry.list() {
            let rules = MatchRules { players_per_match: plugin.min_players.max(1) as usize, ..self.rules.clone() };
            if let Err(e) = self.matchmaker.open_queue(QueueKey::new(&plugin.name, &self.default_mode), rules) {
                tracing::warn!(game = %plugin.name, error = %e, "no matchmaking queue for this game");
            }
        }
    }

    /// Where room `id` is, when it is not on this node.
    pub fn locate(&self, id: &str) -> RoomLocation {
        let Some(node) = room_ids::node_of(id) else { return RoomLocation::Unknown };
        if !self.clustered || node == self.node_id {
            return RoomLocation::Unknown;
        }
        match self.live_nodes().into_iter().find(|n| n.id == node) {
            Some(live) => RoomLocation::Elsewhere(live.url),
            None => RoomLocation::Lost { node: node.to_string() },
        }
    }

    /// Starts the heartbeat, the matching rounds and the seated-ticket
    /// announcements, now that the node is reachable at `url`.
    pub async fn start(app: Arc<App>, url: String) {
        let lobby = app.lobby.clone();
        let _ = lobby.url.set(url);
        lobby.heartbeat(&app).await;
        tokio::spawn(heartbeats(app.clone()));
        tokio::spawn(matching_rounds(app));
        tokio::spawn(seated_announcements(lobby));
    }

    /// A signal that changes when ticket `id` is announced seated.
    pub fn watch_ticket(&self, id: &str) -> watch::Receiver<()> {
        let mut watchers = self.ticket_watchers.lock().unwrap_or_else(|e| e.into_inner());
        watchers.entry(id.to_string()).or_insert_with(|| watch::channel(()).0).subscribe()
    }

    /// Raises the signals of the announced tickets watched here, and forgets
    /// the signals nobody watches any more.
    fn wake_ticket_watchers(&self, seated: &[String]) {
        let mut watchers = self.ticket_watchers.lock().unwrap_or_else(|e| e.into_inner());
        for id in seated {
            if let Some(signal) = watchers.get(id) {
                signal.send_replace(());
            }
        }
        watchers.retain(|_, signal| signal.receiver_count() > 0);
    }

    /// Leaves the directory (after draining): placement stops at once
    /// instead of after the TTL.
    pub async fn leave(&self) {
        if let Err(e) = self.directory.leave(&self.node_id).await {
            tracing::warn!(error = %e, "could not leave the node directory");
        }
    }

    fn record(&self, app: &App) -> NodeInfo {
        NodeInfo {
            id: self.node_id.clone(),
            url: self.url.get().cloned().unwrap_or_default(),
            capacity: self.capacity,
            rooms: app.rooms.len() as u32,
            draining: app.rooms.is_draining(),
            heartbeat_at_ms: now_ms(),
        }
    }

    /// Refreshes this node's record, notices lost nodes, reads the live ones.
    async fn heartbeat(&self, app: &App) {
        if let Err(e) = self.directory.heartbeat(&self.record(app), self.node_ttl).await {
            tracing::warn!(error = %e, "heartbeat failed");
            return;
        }
        match self.directory.prune().await {
            Ok(lost) => {
                for node in lost {
                    tracing::warn!(%node, "node lost: it stopped heartbeating; its rooms are lost until it comes back");
                    app.metrics.nodes_lost.inc();
                }
            }
            Err(e) => tracing::warn!(error = %e, "pruning the node directory failed"),
        }
        match self.directory.live_nodes().await {
            Ok(live) => {
                app.metrics.nodes_live.set(live.len() as i64);
                *self.live.write().unwrap_or_else(|e| e.into_inner()) = live;
            }
            Err(e) => tracing::warn!(error = %e, "listing live nodes failed"),
        }
    }
}

/// Follows the store's seated announcements for this node's ticket
/// WebSockets; subscribes again after a lost connection (the WebSockets poll
/// meanwhile).
async fn seated_announcements(lobby: Arc<Lobby>) {
    loop {
        match lobby.matchmaker.store().seated_announcements().await {
            Ok(mut batches) => {
                while let Some(seated) = batches.next().await {
                    lobby.wake_ticket_watchers(&seated);
                }
                tracing::warn!("seated announcements ended; subscribing again");
            }
            Err(e) => tracing::warn!(error = %e, "cannot follow seated announcements; ticket WebSockets poll"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn heartbeats(app: Arc<App>) {
    let mut interval = tokio::time::interval(app.lobby.heartbeat_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        app.lobby.heartbeat(&app).await;
    }
}

async fn matching_rounds(app: Arc<App>) {
    let provisioner =
        LocalFirstProvisioner { app: app.clone(), remote: HttpRoomProvisioner::new(Duration::from_secs(5)) };
    // One node runs each queue's rounds; another takes over within the
    // lease when it stops (a round of 100,000 Redis tickets takes ~2 s).
    let lease = (app.lobby.round_interval * 10).max(ROUND_LEASE_MIN);
    let driver = MatchDriver::new(app.lobby.matchmaker.clone(), app.lobby.directory.clone(), Arc::new(provisioner))
        .with_round_lease(app.lobby.node_id.clone(), lease);
    let mut interval = tokio::time::interval(app.lobby.round_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if app.rooms.is_draining() {
            continue;
        }
        let report = driver.run_round(now_ms()).await;
        app.metrics.matches_formed.inc_by(report.matched as u64);
        app.metrics.tickets_expired.inc_by(report.expired as u64);
        for error in &report.errors {
            tracing::warn!(%error, "matching round");
        }
    }
}

/// Creates rooms placed on this node directly, others over HTTP.
struct LocalFirstProvisioner {
    app: Arc<App>,
    remote: HttpRoomProvisioner,
}

#[async_trait]
impl RoomProvisioner for LocalFirstProvisioner {
    async fn create_room(&self, node: &NodeInfo, matched: &MatchResult) -> Result<RoomAssignment, ProvisionError> {
        if node.id != self.app.lobby.node_id {
            return self.remote.create_room(node, matched).await;
        }
        let refused = |status: u16, body: String| ProvisionError::Refused { node: node.id.clone(), status, body };
        let plugin = self.app.registry.resolve(&matched.game, None).map_err(|e| refused(404, e.to_string()))?;
        let new = NewRoom { plugin, config: "{}".into(), seats: None, players: matched.players.clone(), seed: None };
        let (handle, seats) = self.app.rooms.create(new).await.map_err(|e| refused(503, e.to_string()))?;
        Ok(RoomAssignment {
            room_id: handle.id.to_string(),
            node_url: node.url.clone(),
            seats: seats.into_iter().map(|s| SeatAssignment { player: s.player, token: s.token }).collect(),
        })
    }
}

/// The configured node id, or the one kept in `<data_dir>/node-id` (made
/// on first start).
fn node_id(config: &Config) -> anyhow::Result<String> {
    let configured = config.cluster.node_id.trim();
    if !configured.is_empty() {
        anyhow::ensure!(
            is_valid_node_id(configured),
            "cluster.node_id {configured:?}: use 1 to {} lowercase letters, digits and '-'",
            room_ids::MAX_NODE_ID_LEN
        );
        return Ok(configured.to_string());
    }
    let file = config.data_dir.join("node-id");
    if let Ok(kept) = std::fs::read_to_string(&file) {
        let kept = kept.trim();
        anyhow::ensure!(is_valid_node_id(kept), "{}: not a node id: {kept:?}", file.display());
        return Ok(kept.to_string());
    }
    let made = format!("n-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    write_node_id(&file, &made)?;
    Ok(made)
}

fn write_node_id(file: &Path, id: &str) -> anyhow::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(file, format!("{id}\n")).with_context(|| format!("writing {}", file.display()))
}
