//! Prometheus metrics of the host, served at `/metrics`.
//!
//! Names (all prefixed `arcade_`): `rooms_active`, `rooms_created_total`,
//! `rooms_expired_total`, `rooms_not_restored_total`,
//! `connections_active`, `actions_total{outcome}`, `plugin_call_seconds{call}`,
//! `sandbox_faults_total{kind}`, `plugins_published_total`, `archive_*`
//! (with `archive_games_expired_total` and `archive_retention_failures_total`
//! of retention),
//! `sim_submissions_total`, `sim_batch_worlds`, `sim_batch_seconds`,
//! `sim_backend_info{backend,device}`, `sim_fallbacks_total`,
//! `sim_late_rooms_total`, `tcp_connections_open{listener}`,
//! `tcp_connections_refused_total{listener,reason}`, `journal_cuts_total{entries}`,
//! `matches_region_fallbacks_total{from,to}` (matches seated outside their
//! full region: `from` the match's region, `to` the node's).
//!
//! RED metrics of the HTTP API (`api::red_metrics`):
//! `http_requests_total{route,method,status}` and
//! `http_request_duration_seconds{route,method,status}`, where `route` is the
//! route template (`/v1/rooms/{id}`, never the raw path; `unmatched` for any
//! path no route serves), `method` one of a fixed set and `status` the class
//! (`1xx` .. `5xx`: errors are `status="5xx"`); room WebSocket data frames
//! `ws_messages_total{direction}` (`in`, `out`) and the server-side round
//! trip of a client frame to its `ack`/`error`, `ws_action_round_trip_seconds`.
//! The PostgreSQL archive's pool: `archive_pg_pool_*` (zero with another
//! backend).

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum ActionOutcome {
    accepted,
    rejected,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: ActionOutcome,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum PluginCall {
    start,
    apply,
    view,
    status,
    tick,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabel {
    pub call: PluginCall,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FaultLabel {
    pub kind: String,
}

pub struct Metrics {
    registry: Registry,
    pub rooms_active: Gauge,
    pub rooms_created: Counter,
    /// Rooms that waited for players past `limits.waiting_room_ttl_secs`.
    pub rooms_expired: Counter,
    /// Unfinished rooms the journal held beyond `limits.max_rooms` at start.
    pub rooms_not_restored: Counter,
    pub connections_active: Gauge,
    pub actions: Family<OutcomeLabel, Counter>,
    pub plugin_call_seconds: Family<CallLabel, Histogram>,
    pub sandbox_faults: Family<FaultLabel, Counter>,
    pub plugins_published: Counter,
    /// Finished games accepted by the archiver and not yet confirmed by its sink.
    pub archive_queue_depth: Gauge,
    /// Latency of one archive batch write (successful or not).
    pub archive_batch_seconds: Histogram,
    /// Archive batch writes that failed (and will be retried).
    pub archive_failures_total: Counter,
    /// Games confirmed by the archive sink.
    pub archive_games_total: Counter,
    /// Archived games deleted by retention (`archive.retention_days`).
    pub archive_games_expired: Counter,
    /// Retention runs that failed (retried at the next interval).
    pub archive_retention_failures: Counter,
    /// GPU queue submissions made for plugin physics (one per batch on the GPU).
    pub sim_submissions_total: Counter,
    /// Worlds stepped per physics batch (its sum counts world-steps).
    pub sim_batch_worlds: Histogram,
    /// Wall time of one physics batch.
    pub sim_batch_seconds: Histogram,
    /// 1 for the backend in use, labelled with its name and device.
    pub sim_backend_info: Family<BackendLabel, Gauge>,
    /// Physics batches the GPU failed to step, stepped on the CPU instead.
    pub sim_fallbacks_total: Counter,
    /// Room ticks whose worlds missed their tick's batch and were stepped alone.
    pub sim_late_rooms_total: Counter,
    /// Live nodes in the cluster as of this node's last heartbeat.
    pub nodes_live: Gauge,
    /// Nodes this node noticed had stopped heartbeating.
    pub nodes_lost: Counter,
    /// Matches formed by this node's matching rounds.
    pub matches_formed: Counter,
    /// Tickets this node's matching rounds expired.
    pub tickets_expired: Counter,
    /// Node records refused when read (forged, malformed, or advertising a
    /// host that is not allowed).
    pub node_records_rejected: Counter,
    /// Internal (node-to-node) requests refused: unsigned, badly signed,
    /// stale or replayed.
    pub internal_requests_refused: Counter,
    /// Matches given up after their room creation failed too often (their
    /// tickets became `failed`).
    pub matches_abandoned: Counter,
    /// Matches this node's rounds seated outside their region because it had
    /// no room, by match region and node region.
    pub matches_region_fallbacks: Family<RegionFallbackLabel, Counter>,
    /// Requests and WebSocket messages refused by a rate limit, by policy.
    pub rate_limited: Family<PolicyLabel, Counter>,
    /// Open TCP connections (HTTP, and WebSockets upgraded from them), by listener.
    pub tcp_connections_open: Family<ListenerLabel, Gauge>,
    /// TCP connections refused at a connection cap, by listener and reason.
    pub tcp_connections_refused: Family<RefusalLabel, Counter>,
    /// Damaged journal tails cut at start, by whether they held acknowledged entries.
    pub journal_cuts: Family<JournalCutLabel, Counter>,
    /// HTTP requests answered, by route template, method and status class.
    pub http_requests: Family<HttpLabels, Counter>,
    /// Time from a request reaching the router to its response head.
    pub http_request_seconds: Family<HttpLabels, Histogram>,
    /// Data frames received on room WebSockets (`ws_messages_total{direction="in"}`).
    pub ws_messages_in: Counter,
    /// Data frames sent on room WebSockets (`ws_messages_total{direction="out"}`).
    pub ws_messages_out: Counter,
    /// From receiving a client's frame on a room WebSocket to writing its answer.
    pub ws_action_round_trip_seconds: Histogram,
    /// The PostgreSQL archive's connection pool.
    pub pg_pool: PgPoolMetrics,
    /// Gauges read from their source just before each render.
    refreshers: std::sync::Mutex<Vec<Box<dyn Fn() + Send + Sync>>>,
}

/// Gauges and timings of the PostgreSQL archive's connection pool
/// (`archive_pg_pool_*`). Cloned handles share their values; the default is
/// unregistered (a sink without a server's metrics).
#[derive(Clone, Debug)]
pub struct PgPoolMetrics {
    /// `archive.postgres.max_connections`.
    pub max_connections: Gauge,
    /// Connections lent out (read at each render).
    pub in_use: Gauge,
    /// Open connections not lent out (read at each render).
    pub idle: Gauge,
    /// Operations waiting for a connection right now.
    pub waiting: Gauge,
    /// Time spent waiting for a connection, timed-out waits included.
    pub acquire_seconds: Histogram,
    /// Waits that reached `archive.postgres.acquire_timeout_ms`.
    pub acquire_timeouts: Counter,
}

impl Default for PgPoolMetrics {
    fn default() -> Self {
        PgPoolMetrics {
            max_connections: Gauge::default(),
            in_use: Gauge::default(),
            idle: Gauge::default(),
            waiting: Gauge::default(),
            acquire_seconds: Histogram::new(SECONDS_BUCKETS),
            acquire_timeouts: Counter::default(),
        }
    }
}

/// Latency buckets of the HTTP, WebSocket and pool histograms: from 100 µs
/// to 10 s, with 100 ms (the design's p95 target) a bucket boundary.
const SECONDS_BUCKETS: [f64; 16] =
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Labels of the HTTP RED metrics: nothing a client chooses freely, so a
/// stranger cannot add series (bounded by routes x methods x classes).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub route: RouteLabel,
    /// `GET`, `POST`, `DELETE`, `PUT`, `PATCH`, `HEAD`, `OPTIONS` or `other`.
    pub method: &'static str,
    /// `1xx`, `2xx`, `3xx`, `4xx` or `5xx`.
    pub status: &'static str,
}

/// The route template a request matched (`/v1/rooms/{id}`), or `unmatched`.
#[derive(Clone, Debug)]
pub struct RouteLabel(Option<std::sync::Arc<str>>);

impl RouteLabel {
    pub const UNMATCHED: &'static str = "unmatched";

    /// The label of a request that matched `template` (`None`: no route).
    pub fn new(template: Option<&str>) -> Self {
        Self(template.map(std::sync::Arc::from))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_deref().unwrap_or(Self::UNMATCHED)
    }
}

impl std::hash::Hash for RouteLabel {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq for RouteLabel {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RouteLabel {}

impl EncodeLabelValue for RouteLabel {
    fn encode(&self, encoder: &mut prometheus_client::encoding::LabelValueEncoder) -> Result<(), std::fmt::Error> {
        std::fmt::Write::write_str(encoder, self.as_str())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DirectionLabel {
    /// `in` (client to server) or `out`.
    pub direction: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RegionFallbackLabel {
    /// The match's region (a key of `cluster.region_fallback`).
    pub from: String,
    /// The region of the node that got the room.
    pub to: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JournalCutLabel {
    /// `acknowledged` (entries players were told about were lost) or
    /// `unacknowledged` (a write torn by a crash before its sync).
    pub entries: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ListenerLabel {
    /// `public` or `admin`.
    pub listener: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusalLabel {
    pub listener: &'static str,
    /// `server_busy` (the global cap) or `too_many_connections` (the per-address cap).
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PolicyLabel {
    pub policy: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BackendLabel {
    pub backend: String,
    pub device: String,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("arcade");
        let rooms_active = Gauge::default();
        let rooms_created = Counter::default();
        let rooms_expired = Counter::default();
        let rooms_not_restored = Counter::default();
        let connections_active = Gauge::default();
        let actions = Family::<OutcomeLabel, Counter>::default();
        let plugin_call_seconds =
            Family::<CallLabel, Histogram>::new_with_constructor(|| Histogram::new(exponential_buckets(1e-6, 4.0, 12)));
        let sandbox_faults = Family::<FaultLabel, Counter>::default();
        let plugins_published = Counter::default();
        let archive_queue_depth = Gauge::default();
        let archive_batch_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        let archive_failures_total = Counter::default();
        let archive_games_total = Counter::default();
        let archive_games_expired = Counter::default();
        let archive_retention_failures = Counter::default();
        let sim_submissions_total = Counter::default();
        let sim_batch_worlds = Histogram::new(exponential_buckets(1.0, 2.0, 14));
        let sim_batch_seconds = Histogram::new(exponential_buckets(1e-5, 2.0, 20));
        let sim_backend_info = Family::<BackendLabel, Gauge>::default();
        let sim_fallbacks_total = Counter::default();
        let sim_late_rooms_total = Counter::default();
        registry.register(
            "rooms_active",
            "RoomDirectory in memory (waiting, playing or in their grace period)",
            rooms_active.clone(),
        );
        registry.register("rooms_created", "RoomDirectory created", rooms_created.clone());
        registry.register("rooms_expired", "RoomDirectory that expired waiting for players", rooms_expired.clone());
        registry.register(
            "rooms_not_restored",
            "Unfinished rooms left in the journal at start because the node was at max_rooms",
            rooms_not_restored.clone(),
        );
        registry.register("connections_active", "Open WebSocket connections", connections_active.clone());
        registry.register("actions", "Player actions by outcome", actions.clone());
        registry.register("plugin_call_seconds", "Latency of calls into plugins", plugin_call_seconds.clone());
        registry.register(
            "sandbox_faults",
            "RoomDirectory aborted by a sandbox fault, by kind",
            sandbox_faults.clone(),
        );
        registry.register("plugins_published", "Plugin versions published", plugins_published.clone());
        registry.register(
            "archive_queue_depth",
            "Finished games waiting in the archive spool",
            archive_queue_depth.clone(),
        );
        registry.register("archive_batch_seconds", "Latency of archive batch writes", archive_batch_seconds.clone());
        registry.register("archive_failures", "Failed archive batch writes (retried)", archive_failures_total.clone());
        registry.register("archive_games", "Games written to the archive", archive_games_total.clone());
        registry.register(
            "archive_games_expired",
            "Archived games deleted by retention (archive.retention_days)",
            archive_games_expired.clone(),
        );
        registry.register(
            "archive_retention_failures",
            "Archive retention runs that failed (retried at the next interval)",
            archive_retention_failures.clone(),
        );
        registry.register(
            "sim_submissions",
            "GPU queue submissions of physics steps (0 on the CPU backend)",
            sim_submissions_total.clone(),
        );
        registry.register("sim_batch_worlds", "Worlds stepped per physics batch", sim_batch_worlds.clone());
        registry.register("sim_batch_seconds", "Wall time of one physics batch", sim_batch_seconds.clone());
        registry.register("sim_backend_info", "The physics backend in use", sim_backend_info.clone());
        registry.register(
            "sim_fallbacks",
            "Physics batches the GPU failed and the CPU stepped",
            sim_fallbacks_total.clone(),
        );
        registry.register(
            "sim_late_rooms",
            "Room ticks that missed their physics batch and stepped alone",
            sim_late_rooms_total.clone(),
        );
        let nodes_live = Gauge::default();
        let nodes_lost = Counter::default();
        let matches_formed = Counter::default();
        let tickets_expired = Counter::default();
        let node_records_rejected = Counter::default();
        let internal_requests_refused = Counter::default();
        let matches_abandoned = Counter::default();
        let rate_limited = Family::<PolicyLabel, Counter>::default();
        registry.register("cluster_nodes_live", "Live nodes in the cluster", nodes_live.clone());
        registry.register("cluster_nodes_lost", "Nodes noticed to have stopped heartbeating", nodes_lost.clone());
        registry.register("matches_formed", "Matches formed by this node's matching rounds", matches_formed.clone());
        registry.register("tickets_expired", "Tickets expired by this node's matching rounds", tickets_expired.clone());
        registry.register(
            "cluster_node_records_rejected",
            "Node records refused when read: forged, malformed or advertising a host not allowed",
            node_records_rejected.clone(),
        );
        registry.register(
            "cluster_internal_requests_refused",
            "Internal requests refused: unsigned, badly signed, stale or replayed",
            internal_requests_refused.clone(),
        );
        registry.register(
            "matches_abandoned",
            "Matches given up after their room creation kept failing",
            matches_abandoned.clone(),
        );
        registry.register(
            "rate_limited",
            "Requests and WebSocket messages refused by a rate limit",
            rate_limited.clone(),
        );
        let tcp_connections_open = Family::<ListenerLabel, Gauge>::default();
        let tcp_connections_refused = Family::<RefusalLabel, Counter>::default();
        registry.register(
            "tcp_connections_open",
            "Open TCP connections (HTTP and upgraded WebSockets), by listener",
            tcp_connections_open.clone(),
        );
        registry.register(
            "tcp_connections_refused",
            "TCP connections refused at a connection cap, by listener and reason",
            tcp_connections_refused.clone(),
        );
        let matches_region_fallbacks = Family::<RegionFallbackLabel, Counter>::default();
        registry.register(
            "matches_region_fallbacks",
            "Matches seated outside their region because it had no room, by match region (from) and node region (to)",
            matches_region_fallbacks.clone(),
        );
        let journal_cuts = Family::<JournalCutLabel, Counter>::default();
        registry.register(
            "journal_cuts",
            "Damaged journal tails cut at start, by whether they held acknowledged entries",
            journal_cuts.clone(),
        );
        let http_requests = Family::<HttpLabels, Counter>::default();
        let http_request_seconds =
            Family::<HttpLabels, Histogram>::new_with_constructor(|| Histogram::new(SECONDS_BUCKETS));
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status class",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from a request reaching the router to its response head, by route template, method and status class",
            http_request_seconds.clone(),
        );
        let ws_messages = Family::<DirectionLabel, Counter>::default();
        let ws_messages_in = ws_messages.get_or_create_owned(&DirectionLabel { direction: "in" });
        let ws_messages_out = ws_messages.get_or_create_owned(&DirectionLabel { direction: "out" });
        registry.register("ws_messages", "Data frames on room WebSockets, by direction", ws_messages);
        let ws_action_round_trip_seconds = Histogram::new(SECONDS_BUCKETS);
        registry.register(
            "ws_action_round_trip_seconds",
            "From receiving a client frame on a room WebSocket to writing its ack or error",
            ws_action_round_trip_seconds.clone(),
        );
        let pg_pool = PgPoolMetrics::default();
        registry.register(
            "archive_pg_pool_max_connections",
            "Configured size of the PostgreSQL archive's pool (archive.postgres.max_connections)",
            pg_pool.max_connections.clone(),
        );
        registry.register("archive_pg_pool_in_use", "PostgreSQL archive connections lent out", pg_pool.in_use.clone());
        registry.register(
            "archive_pg_pool_idle",
            "Open PostgreSQL archive connections not lent out",
            pg_pool.idle.clone(),
        );
        registry.register(
            "archive_pg_pool_waiting",
            "Operations waiting for a PostgreSQL archive connection",
            pg_pool.waiting.clone(),
        );
        registry.register(
            "archive_pg_pool_acquire_seconds",
            "Time spent waiting for a PostgreSQL archive connection",
            pg_pool.acquire_seconds.clone(),
        );
        registry.register(
            "archive_pg_pool_acquire_timeouts",
            "Waits for a PostgreSQL archive connection that reached archive.postgres.acquire_timeout_ms",
            pg_pool.acquire_timeouts.clone(),
        );
        Metrics {
            registry,
            rooms_active,
            rooms_created,
            rooms_expired,
            rooms_not_restored,
            connections_active,
            actions,
            plugin_call_seconds,
            sandbox_faults,
            plugins_published,
            archive_queue_depth,
            archive_batch_seconds,
            archive_failures_total,
            archive_games_total,
            archive_games_expired,
            archive_retention_failures,
            sim_submissions_total,
            sim_batch_worlds,
            sim_batch_seconds,
            sim_backend_info,
            sim_fallbacks_total,
            sim_late_rooms_total,
            nodes_live,
            nodes_lost,
            matches_formed,
            tickets_expired,
            node_records_rejected,
            internal_requests_refused,
            matches_abandoned,
            matches_region_fallbacks,
            rate_limited,
            tcp_connections_open,
            tcp_connections_refused,
            journal_cuts,
            http_requests,
            http_request_seconds,
            ws_messages_in,
            ws_messages_out,
            ws_action_round_trip_seconds,
            pg_pool,
            refreshers: std::sync::Mutex::new(Vec::new()),
        }
    }
}

impl Metrics {
    /// Counts `matches` seated on nodes of region `to` because their region
    /// `from` had no room.
    pub fn count_region_fallbacks(&self, from: &str, to: &str, matches: u64) {
        let label = RegionFallbackLabel { from: from.to_string(), to: to.to_string() };
        self.matches_region_fallbacks.get_or_create(&label).inc_by(matches);
    }

    /// Counts a request or message refused by the rate limit named `policy`
    /// (`ratelimit::Policy::name`).
    pub fn count_rate_limited(&self, policy: &'static str) {
        self.rate_limited.get_or_create(&PolicyLabel { policy }).inc();
    }

    /// Time a plugin call.
    pub fn time<T>(&self, call: PluginCall, f: impl FnOnce() -> T) -> T {
        let start = std::time::Instant::now();
        let out = f();
        self.plugin_call_seconds.get_or_create(&CallLabel { call }).observe(start.elapsed().as_secs_f64());
        out
    }

    pub fn sim_backend(&self, backend: &str, device: &str) {
        self.sim_backend_info.get_or_create(&BackendLabel { backend: backend.into(), device: device.into() }).set(1);
    }

    pub fn sim_batch(&self, worlds: usize, submissions: u64, took: std::time::Duration) {
        self.sim_submissions_total.inc_by(submissions);
        self.sim_batch_worlds.observe(worlds as f64);
        self.sim_batch_seconds.observe(took.as_secs_f64());
    }

    pub fn fault(&self, kind: &str) {
        self.sandbox_faults.get_or_create(&FaultLabel { kind: kind.to_string() }).inc();
    }

    pub fn action(&self, outcome: ActionOutcome) {
        self.actions.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    /// Counts one answered HTTP request and its latency (`api::red_metrics`).
    pub fn http_request(&self, labels: HttpLabels, took: std::time::Duration) {
        self.http_request_seconds.get_or_create(&labels).observe(took.as_secs_f64());
        self.http_requests.get_or_create(&labels).inc();
    }

    /// A client frame on a room WebSocket answered: its `ack` or `error`
    /// written `took` after the frame arrived.
    pub fn ws_answered(&self, took: std::time::Duration) {
        self.ws_messages_in.inc();
        self.ws_messages_out.inc();
        self.ws_action_round_trip_seconds.observe(took.as_secs_f64());
    }

    /// Runs `refresh` before each render: for gauges whose source is read,
    /// not counted (the PostgreSQL pool's open and idle connections).
    pub fn refresh_on_render(&self, refresh: impl Fn() + Send + Sync + 'static) {
        self.refreshers.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(Box::new(refresh));
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        for refresh in self.refreshers.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter() {
            refresh();
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}
