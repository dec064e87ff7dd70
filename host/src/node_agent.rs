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
//!
//! In a cluster the nodes trust each other through the cluster secret
//! (`cluster.secret`, required with Redis: the node refuses to start
//! without one): node records are signed and checked, rooms for matches are
//! created on other nodes through their signed internal route (checked here,
//! [`NodeAgent::authenticate_internal`]), and a node advertises only a URL on an
//! allowed host (`cluster.allowed_advertise_hosts`).
//!
//! The node agent sees the game server it runs beside only through
//! [`LocalNode`] (its room count, whether it drains, creating a match's
//! room), which the API's `App` implements: the arrow points from the API
//! down to the node agent, never back.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use futures_util::StreamExt;
use tokio::sync::watch;

use crate::config::Config;
use crate::registry::Registry;
use arcade_cluster::auth::{ReplayGuard, RequestAuthError, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use arcade_cluster::matchmaking::{
    MatchResult, MatchRules, Matchmaker, QueueKey, RoomAssignment, SeatAssignment, StoreOptions, open_ticket_store,
};
use arcade_cluster::provision::INTERNAL_LISTED_ROOMS_PATH;
use arcade_cluster::ratelimit::RateLimiter;
use arcade_cluster::room_ids::{self, is_valid_node_id};
use arcade_cluster::{
    AdvertisePolicy, ClusterKey, HttpRoomProvisioner, MatchDriver, NodeDirectory, NodeInfo, NodeTrust, ProvisionError,
    RegionPolicy, RoomProvisioner, open_node_directory,
};
use arcade_protocol::clock::now_ms;
use arcade_telemetry::metrics::Metrics;

/// The shortest lease on a queue's matching rounds.
const ROUND_LEASE_MIN: Duration = Duration::from_secs(3);

/// How long a lobby listing waits for another node's rooms.
const LISTING_TIMEOUT: Duration = Duration::from_secs(2);

/// What the node agent needs of the game server on this node.
#[async_trait]
pub trait LocalNode: Send + Sync {
    /// Live rooms here (waiting for players or playing), what the node's
    /// capacity (`limits.max_rooms`) bounds; finished rooms do not count.
    fn rooms_open(&self) -> u32;
    /// Whether the node is draining (no new rooms or matches).
    fn is_draining(&self) -> bool;
    /// Creates a match's room here: the game's latest version not yanked,
    /// the default config, `players` seated in order, its game rated on the
    /// board of `mode`. On failure: an HTTP status and why.
    async fn create_match_room(
        &self,
        game: &str,
        mode: Option<String>,
        players: Vec<String>,
    ) -> Result<(String, Vec<SeatAssignment>), (u16, String)>;
}

/// Where a room that this node does not run is.
pub enum RoomLocation {
    /// On the live node at this base URL.
    Elsewhere(String),
    /// Its node stopped heartbeating: lost until that node comes back.
    Lost { node: String },
    /// No such room.
    Unknown,
}

pub struct NodeAgent {
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
    max_seat_attempts: u32,
    /// The region this node serves (`cluster.region`; empty: every region).
    region: String,
    /// Where this node's matching rounds send matches of a full region.
    region_fallback: RegionPolicy,
    /// The cluster secret (in a cluster only).
    cluster_key: Option<ClusterKey>,
    advertise: AdvertisePolicy,
    /// Signed internal requests already accepted.
    replays: ReplayGuard,
    /// Node records refused as of the last heartbeat (for the metric).
    rejected_seen: std::sync::atomic::AtomicU64,
    pub matchmaker: Arc<Matchmaker>,
    pub limiter: RateLimiter,
    directory: Arc<dyn NodeDirectory>,
    /// The live nodes as of the last heartbeat.
    live: RwLock<Vec<NodeInfo>>,
    /// Ticket id → a signal to the ticket WebSockets here waiting for its
    /// room, raised by the store's seated announcements (from any node).
    ticket_watchers: Mutex<HashMap<String, watch::Sender<()>>>,
    /// Asks the other nodes for their listed rooms (in a cluster).
    internal_http: reqwest::Client,
}

impl NodeAgent {
    /// Connects the stores the config names (Redis) or makes in-memory ones.
    pub async fn open(config: &Config) -> anyhow::Result<NodeAgent> {
        let cluster = &config.cluster;
        let redis = cluster.redis_url.trim();
        let clustered = !redis.is_empty();
        let node_id = node_id(config)?;
        let store_url = if clustered { redis } else { "memory:" };
        let advertise = AdvertisePolicy::new(&cluster.allowed_advertise_hosts).map_err(anyhow::Error::msg)?;
        let cluster_key = if clustered {
            anyhow::ensure!(
                !cluster.secret.trim().is_empty(),
                "cluster.redis_url is set but cluster.secret is not: every node of a cluster (and the matchmaker \
                 Lambda) needs the same secret of at least {} bytes, e.g. ARCADE_CLUSTER__SECRET=$(openssl rand -hex 32)",
                arcade_cluster::auth::MIN_SECRET_BYTES
            );
            Some(ClusterKey::new(&cluster.secret).context("cluster.secret")?)
        } else {
            None
        };
        if !cluster.advertise_url.trim().is_empty() {
            advertise
                .check(cluster.advertise_url.trim())
                .map_err(anyhow::Error::msg)
                .context("cluster.advertise_url")?;
        }
        let region = cluster.region.trim().to_string();
        anyhow::ensure!(
            region.is_empty() || arcade_cluster::matchmaking::request::is_valid_region(&region),
            "cluster.region {region:?} is not a region name (lowercase letters, digits and '-', e.g. eu-west-1)"
        );
        let region_fallback = RegionPolicy::new(cluster.region_fallback.clone()).map_err(anyhow::Error::msg)?;
        let trust = cluster_key.clone().map(|key| NodeTrust { key, advertise: advertise.clone() });
        let store_options = StoreOptions { namespace: format!("{}:mm", cluster.namespace), ..StoreOptions::default() };
        let store = open_ticket_store(store_url, store_options).await.context("opening the ticket store")?;
        let directory = open_node_directory(store_url, &format!("{}:nodes", cluster.namespace), trust)
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
        Ok(NodeAgent {
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
            max_seat_attempts: matchmaking.max_seat_attempts.max(1),
            region,
            region_fallback,
            cluster_key,
            advertise,
            replays: ReplayGuard::default(),
            rejected_seen: Default::default(),
            matchmaker: Arc::new(Matchmaker::new(store, [])?),
            limiter,
            directory,
            live: RwLock::default(),
            ticket_watchers: Mutex::default(),
            internal_http: reqwest::Client::builder()
                .timeout(LISTING_TIMEOUT)
                .no_proxy()
                // A node answers itself; a redirect would carry the signed call elsewhere.
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .context("an HTTP client")?,
        })
    }

    /// The other live nodes' answers to `GET
    /// /internal/v1/rooms/listed?{query}` (signed; asked all at once, each
    /// within [`LISTING_TIMEOUT`]), and how many did not answer. Alone:
    /// nothing to ask.
    pub async fn listed_elsewhere(&self, query: &str) -> (Vec<serde_json::Value>, usize) {
        let Some(key) = self.cluster_key.as_ref().filter(|_| self.clustered) else { return (Vec::new(), 0) };
        let others: Vec<NodeInfo> = self.live_nodes().into_iter().filter(|n| n.id != self.node_id).collect();
        let asks = others.iter().map(|node| async move {
            // A nonce: two lobby calls in one millisecond must not sign alike
            // (the receiving node refuses a signature it has seen).
            let path = format!("{INTERNAL_LISTED_ROOMS_PATH}/{}?{query}", uuid::Uuid::new_v4().simple());
            let mut request = self.internal_http.get(format!("{}{path}", node.url.trim_end_matches('/')));
            for (name, value) in key.sign_request("GET", &path, b"", now_ms()) {
                request = request.header(name, value);
            }
            let response = request.send().await.ok().filter(|r| r.status().is_success())?;
            response.json::<serde_json::Value>().await.ok()
        });
        let answers = futures_util::future::join_all(asks).await;
        let missing = answers.iter().filter(|a| a.is_none()).count();
        if missing > 0 {
            tracing::warn!(missing, "nodes did not answer a lobby listing");
        }
        (answers.into_iter().flatten().collect(), missing)
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
    /// publish or a yank: the latest version not yanked, whose rooms the
    /// matches get, may have another player count).
    pub fn open_queues(&self, registry: &Registry) {
        for plugin in registry.list().into_iter().filter(|p| !p.yanked) {
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

    /// Checks a signed internal request (`POST /internal/v1/rooms`) with the
    /// cluster secret: signature, timestamp window, first use. `None` when
    /// this node is alone: it serves no internal route.
    pub fn authenticate_internal(
        &self,
        method: &str,
        path: &str,
        headers: &axum::http::HeaderMap,
        body: &[u8],
    ) -> Option<Result<(), RequestAuthError>> {
        let key = self.cluster_key.as_ref()?;
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let now = now_ms();
        Some(
            key.verify_request(method, path, header(TIMESTAMP_HEADER), header(SIGNATURE_HEADER), body, now)
                .and_then(|(signature, sent_ms)| self.replays.first_use(signature, sent_ms, now)),
        )
    }

    /// Starts the heartbeat, the matching rounds and the seated-ticket
    /// announcements, now that the node is reachable at `url`.
    pub async fn start(lobby: Arc<NodeAgent>, node: Arc<dyn LocalNode>, metrics: Arc<Metrics>, url: String) {
        if lobby.clustered
            && let Err(why) = lobby.advertise.check(&url)
        {
            tracing::error!(%why, "this node's URL is not allowed: the other nodes will refuse its record");
        }
        let _ = lobby.url.set(url);
        lobby.heartbeat(node.as_ref(), &metrics).await;
        tokio::spawn(heartbeats(lobby.clone(), node.clone(), metrics.clone()));
        tokio::spawn(matching_rounds(lobby.clone(), node, metrics));
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

    fn record(&self, node: &dyn LocalNode) -> NodeInfo {
        NodeInfo {
            id: self.node_id.clone(),
            url: self.url.get().cloned().unwrap_or_default(),
            region: self.region.clone(),
            capacity: self.capacity,
            rooms: node.rooms_open(),
            draining: node.is_draining(),
            heartbeat_at_ms: now_ms(),
        }
    }

    /// Refreshes this node's record, notices lost nodes, reads the live ones.
    async fn heartbeat(&self, node: &dyn LocalNode, metrics: &Metrics) {
        if let Err(e) = self.directory.heartbeat(&self.record(node), self.node_ttl).await {
            tracing::warn!(error = %e, "heartbeat failed");
            return;
        }
        match self.directory.prune().await {
            Ok(lost) => {
                for node in lost {
                    tracing::warn!(%node, "node lost: it stopped heartbeating; its rooms are lost until it comes back");
                    metrics.nodes_lost.inc();
                }
            }
            Err(e) => tracing::warn!(error = %e, "pruning the node directory failed"),
        }
        let rejected = self.directory.rejected_records();
        let before = self.rejected_seen.swap(rejected, std::sync::atomic::Ordering::Relaxed);
        metrics.node_records_rejected.inc_by(rejected.saturating_sub(before));
        match self.directory.live_nodes().await {
            Ok(live) => {
                metrics.nodes_live.set(live.len() as i64);
                *self.live.write().unwrap_or_else(|e| e.into_inner()) = live;
            }
            Err(e) => tracing::warn!(error = %e, "listing live nodes failed"),
        }
    }
}

/// Follows the store's seated announcements for this node's ticket
/// WebSockets; subscribes again after a lost connection (the WebSockets poll
/// meanwhile).
async fn seated_announcements(lobby: Arc<NodeAgent>) {
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

async fn heartbeats(lobby: Arc<NodeAgent>, node: Arc<dyn LocalNode>, metrics: Arc<Metrics>) {
    let mut interval = tokio::time::interval(lobby.heartbeat_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        lobby.heartbeat(node.as_ref(), &metrics).await;
    }
}

async fn matching_rounds(lobby: Arc<NodeAgent>, node: Arc<dyn LocalNode>, metrics: Arc<Metrics>) {
    let remote = lobby.cluster_key.clone().map(|key| HttpRoomProvisioner::new(Duration::from_secs(5), key));
    let provisioner = LocalFirstProvisioner { node_id: lobby.node_id.clone(), local: node.clone(), remote };
    // One node runs each queue's rounds; another takes over within the
    // lease when it stops (a round of 100,000 Redis tickets takes ~2 s).
    let lease = (lobby.round_interval * 10).max(ROUND_LEASE_MIN);
    let driver = MatchDriver::new(lobby.matchmaker.clone(), lobby.directory.clone(), Arc::new(provisioner))
        .with_round_lease(lobby.node_id.clone(), lease)
        .with_seat_attempts(lobby.max_seat_attempts)
        .with_region_fallback(lobby.region_fallback.clone());
    let mut interval = tokio::time::interval(lobby.round_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if node.is_draining() {
            continue;
        }
        let report = driver.run_round(now_ms()).await;
        metrics.matches_formed.inc_by(report.matched as u64);
        metrics.tickets_expired.inc_by(report.expired as u64);
        metrics.matches_abandoned.inc_by(report.abandoned as u64);
        for ((from, to), matches) in &report.region_fallbacks {
            metrics.count_region_fallbacks(from, to, *matches as u64);
        }
        for error in &report.errors {
            tracing::warn!(%error, "matching round");
        }
    }
}

/// Creates rooms placed on this node directly, others over their signed
/// internal route (in a cluster: alone, there are no others).
struct LocalFirstProvisioner {
    /// This node's id: rooms placed on it are created through `local`.
    node_id: String,
    local: Arc<dyn LocalNode>,
    remote: Option<HttpRoomProvisioner>,
}

#[async_trait]
impl RoomProvisioner for LocalFirstProvisioner {
    async fn create_room(&self, node: &NodeInfo, matched: &MatchResult) -> Result<RoomAssignment, ProvisionError> {
        let refused = |status: u16, body: String| ProvisionError::Refused { node: node.id.clone(), status, body };
        if node.id != self.node_id {
            return match &self.remote {
                Some(remote) => remote.create_room(node, matched).await,
                None => Err(refused(503, "a node without the cluster secret creates no rooms elsewhere".into())),
            };
        }
        let (room_id, seats) = self
            .local
            .create_match_room(&matched.game, Some(matched.mode.clone()), matched.players.clone())
            .await
            .map_err(|(status, message)| refused(status, message))?;
        Ok(RoomAssignment { room_id, node_url: node.url.clone(), seats })
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
