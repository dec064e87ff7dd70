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
            "Rooms in memory (waiting, playing or in their grace period)",
            rooms_active.clone(),
        );
        registry.register("rooms_created", "Rooms created", rooms_created.clone());
        registry.register("rooms_expired", "Rooms that expired waiting for players", rooms_expired.clone());
        registry.register(
            "rooms_not_restored",
            "Unfinished rooms left in the journal at start because the node was at max_rooms",
            rooms_not_restored.clone(),
        );
        registry.register("connections_active", "Open WebSocket connections", connections_active.clone());
        registry.register("actions", "Player actions by outcome", actions.clone());
        registry.register("plugin_call_seconds", "Latency of calls into plugins", plugin_call_seconds.clone());
        registry.register("sandbox_faults", "Rooms aborted by a sandbox fault, by kind", sandbox_faults.clone());
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

    /// Counts a request or message refused by the `policy` rate limit.
    pub fn count_rate_limited(&self, policy: crate::ratelimit::Policy) {
        self.rate_limited.get_or_create(&PolicyLabel { policy: policy.name() }).inc();
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

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}
