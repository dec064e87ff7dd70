//! Server configuration: embedded defaults, then an optional TOML file, then
//! `ARCADE_*` environment variables (nested keys with `__`, e.g.
//! `ARCADE_LIMITS__MAX_ROOMS=5000`). The defaults need no external service.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use arcade_archive::ArchiveSettings;
use arcade_journal::JournalSettings;
use arcade_telemetry::LogFormat;

/// Top-level config keys (what `ARCADE_*` variables may set).
const CONFIG_SECTIONS: &[&str] = &[
    "listen",
    "admin_listen",
    "data_dir",
    "preload_dir",
    "admin_token",
    "log_format",
    "limits",
    "journal",
    "archive",
    "sim",
    "cluster",
    "matchmaking",
    "ladder",
    "rate_limits",
    "auth",
    "testing",
];

/// The token `arcade serve` accepts for admin calls unless one is configured.
pub const DEV_ADMIN_TOKEN: &str = "arcade-dev-admin";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// A second listener for the admin routes (`POST /v1/plugins`,
    /// `/admin/*`); set, the public listener answers them 404 and only this
    /// one accepts the admin token. Keep it off the Ingress.
    pub admin_listen: Option<SocketAddr>,
    /// Where published plugins and compiled artifacts are stored.
    pub data_dir: PathBuf,
    /// Plugins in this directory are published at start (e.g. the examples).
    pub preload_dir: Option<PathBuf>,
    /// Bearer token for admin calls (publishing plugins).
    pub admin_token: String,
    /// `text` or `json` logs.
    pub log_format: LogFormat,
    pub limits: Limits,
    pub journal: JournalSettings,
    pub archive: ArchiveSettings,
    pub sim: SimSettings,
    pub cluster: ClusterSettings,
    pub matchmaking: MatchmakingSettings,
    pub ladder: LadderSettings,
    pub rate_limits: arcade_cluster::ratelimit::RateLimits,
    pub auth: AuthSettings,
    pub testing: TestingSettings,
}

/// Player accounts and sessions (`/v1/auth/*`, `/v1/account`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// `postgres://...` for accounts shared by the nodes of a cluster;
    /// empty: an embedded SQLite file, `<data_dir>/identity.sqlite`.
    pub database_url: String,
    /// `iss` and `aud` of the access tokens this server issues and accepts.
    pub issuer: String,
    pub audience: String,
    /// HMAC keys of the access tokens: the first signs, every one verifies
    /// (add the new key first, drop the old one after `access_ttl_secs`).
    /// Secrets of at least 32 bytes, the same on every node. Empty: a key
    /// generated once and kept in `<data_dir>/auth-signing-key` (one node
    /// only: refused with `cluster.redis_url`). An empty string (an unset
    /// optional secret in Kubernetes) is an empty list.
    #[serde(deserialize_with = "keys_or_empty")]
    pub signing_keys: Vec<SigningKeySettings>,
    pub access_ttl_secs: u64,
    pub refresh_ttl_secs: u64,
    /// argon2id cost of stored passwords (OWASP's minimum by default).
    pub password_memory_kib: u32,
    pub password_iterations: u32,
    pub password_parallelism: u32,
    /// An external identity provider (OpenID Connect): its `iss`, the `aud`
    /// its tokens carry for this game, and where its keys are published.
    /// All three or none.
    pub oidc_issuer: String,
    pub oidc_audience: String,
    pub oidc_jwks_url: String,
    /// How often this node reloads the ban list (a ban made on another node
    /// takes effect here within this long).
    pub ban_refresh_ms: u64,
}

/// One access-token key (`kid` travels in the token's header).
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningKeySettings {
    pub kid: String,
    pub secret: String,
}

impl std::fmt::Debug for SigningKeySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeySettings").field("kid", &self.kid).field("secret", &"<redacted>").finish()
    }
}

fn keys_or_empty<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<SigningKeySettings>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum KeysOrText {
        Keys(Vec<SigningKeySettings>),
        Text(String),
    }
    match KeysOrText::deserialize(deserializer)? {
        KeysOrText::Keys(keys) => Ok(keys),
        KeysOrText::Text(text) if text.trim().is_empty() => Ok(Vec::new()),
        KeysOrText::Text(_) => Err(serde::de::Error::custom(
            "auth.signing_keys: a list of {kid, secret}, e.g. [{kid=\"k1\", secret=\"...\"}]",
        )),
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            database_url: String::new(),
            issuer: "arcade".into(),
            audience: "arcade".into(),
            signing_keys: Vec::new(),
            access_ttl_secs: 15 * 60,
            refresh_ttl_secs: 30 * 24 * 3600,
            password_memory_kib: 19 * 1024,
            password_iterations: 2,
            password_parallelism: 1,
            oidc_issuer: String::new(),
            oidc_audience: String::new(),
            oidc_jwks_url: String::new(),
            ban_refresh_ms: 1000,
        }
    }
}

/// Switches for tests and tools, all off by default: none of them belongs
/// on a server that faces players.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TestingSettings {
    /// Accept a `seed` in `POST /v1/rooms` (deterministic games for tests).
    /// Off, a client-chosen seed is refused (403 `client_seed_not_allowed`):
    /// whoever chooses the seed knows every hidden card.
    pub client_seeds: bool,
}

/// Many nodes behind one Redis. Without `redis_url` the node is alone and
/// keeps tickets, rate limits and its node record in memory.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterSettings {
    /// `redis://host:port/db` shared by every node of the cluster; empty: a
    /// single node.
    pub redis_url: String,
    /// Prefix of every Redis key; the nodes of one cluster share it.
    pub namespace: String,
    /// This node's id (lowercase letters, digits, `-`; at most 32); empty:
    /// generated once and kept in `<data_dir>/node-id`, so a restarted node
    /// takes its rooms back.
    pub node_id: String,
    /// The URL players and other nodes reach this node at; empty:
    /// `http://<listen address>` as bound.
    pub advertise_url: String,
    /// Rooms the matchmaker may place here; 0: `limits.max_rooms`.
    pub capacity: u32,
    pub heartbeat_interval_ms: u64,
    /// A node that has not heartbeated for this long is gone.
    pub node_ttl_ms: u64,
    /// Shared by the nodes of a cluster and the matchmaker Lambda (at least
    /// 32 bytes; `ARCADE_CLUSTER__SECRET`): signs node records and internal
    /// room-creation calls. Required with `redis_url`; unused alone.
    pub secret: String,
    /// Hosts a node may advertise its URL on (players are redirected there
    /// with their tokens): CIDR networks, addresses, names or `.suffix`es;
    /// empty: any host (records are still signed). See `cluster::advertise`.
    pub allowed_advertise_hosts: Vec<String>,
    /// The region this node serves (`eu-west-1`: lowercase letters, digits,
    /// `-`), in its node record: matches of a region get rooms on its nodes
    /// first. Empty (the default): every region (a cluster without regions).
    pub region: String,
    /// Where matches go when their region has no node with room: region →
    /// regions to try next, in order; `"*"` (last) for any other region,
    /// e.g. `{ eu = ["us"], us = ["eu", "*"] }`. A region not listed (the
    /// default: none) never falls back: its matches wait for room. Give every
    /// node the same table (whichever node runs a round places its matches).
    pub region_fallback: std::collections::BTreeMap<String, Vec<String>>,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        ClusterSettings {
            redis_url: String::new(),
            namespace: "arcade".into(),
            node_id: String::new(),
            advertise_url: String::new(),
            capacity: 0,
            heartbeat_interval_ms: 1000,
            node_ttl_ms: 5000,
            secret: String::new(),
            allowed_advertise_hosts: Vec::new(),
            region: String::new(),
            region_fallback: Default::default(),
        }
    }
}

/// Matchmaking queues: every published game gets one queue of
/// `default_mode`, matching `players_per_match` = the game's minimum
/// players, with the other rules from `rules`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchmakingSettings {
    pub default_mode: String,
    /// The region of tickets that give no latencies.
    pub default_region: String,
    /// How often this node runs a matching round.
    pub round_interval_ms: u64,
    pub rules: arcade_cluster::matchmaking::MatchRules,
    /// Rounds in which a match's room creation may fail before the match is
    /// given up and its tickets become `failed`.
    pub max_seat_attempts: u32,
    /// The rating system of a game's boards, by game name (`weng_lin` or
    /// `glicko2`); games not named: `weng_lin`, which rates any number of
    /// players and draws.
    pub rating_systems: std::collections::BTreeMap<String, arcade_ladder::RatingSystem>,
}

impl Default for MatchmakingSettings {
    fn default() -> Self {
        MatchmakingSettings {
            default_mode: "standard".into(),
            default_region: "local".into(),
            round_interval_ms: 100,
            rules: Default::default(),
            max_seat_attempts: 3,
            rating_systems: Default::default(),
        }
    }
}

/// Ratings and leaderboards: how a node keeps its ladder in step with an
/// archive other nodes (or the archiver Lambda) write to as well.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LadderSettings {
    /// How often the node reads the newest archived games it has not
    /// counted (0: never; a filesystem archive is this node's alone and is
    /// never read back).
    pub sync_interval_ms: u64,
    /// How far back from the newest game it counted each read looks for
    /// games that arrived late (another node's spool catching up).
    pub sync_window_ms: u64,
    /// Score boards games declare (`[[ladder.score_boards]]`: `game`,
    /// `mode`, `name`, `kind` = `best` or `total`, `order` = `desc` or
    /// `asc`), each all time, weekly and monthly.
    pub score_boards: Vec<arcade_ladder::ScoreBoardSpec>,
}

impl Default for LadderSettings {
    fn default() -> Self {
        LadderSettings { sync_interval_ms: 2_000, sync_window_ms: 600_000, score_boards: Vec::new() }
    }
}

/// Physics for real-time games (`arcade:game/sim`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimSettings {
    /// `auto` (the GPU when an adapter is found, else the CPU), `gpu`
    /// (still the CPU, with a warning, when none is found) or `cpu`.
    pub backend: arcade_sim::BackendPreference,
    /// Physics worlds one room may hold at once.
    pub max_worlds_per_room: u32,
    /// Bodies one world may hold (worlds live in host memory, outside the
    /// plugin's memory cap).
    pub max_bodies_per_world: u32,
}

impl Default for SimSettings {
    fn default() -> Self {
        SimSettings {
            backend: Default::default(),
            max_worlds_per_room: arcade_sim::DEFAULT_MAX_WORLDS_PER_ROOM,
            max_bodies_per_world: arcade_sim::DEFAULT_MAX_BODIES_PER_WORLD,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Live rooms at once (waiting for players or playing); finished rooms
    /// do not count (`max_finished_rooms`).
    pub max_rooms: u32,
    /// Finished rooms kept in memory for late reconnects (their final
    /// state, about 10 KiB each); beyond it the oldest leave before
    /// `finished_room_grace_secs` ends (their games are in the archive).
    pub max_finished_rooms: u32,
    /// Linear-memory cap of one room's plugin instance, unless its plugin
    /// declared another when it was published.
    pub room_memory_bytes: usize,
    /// The largest cap a plugin may declare (`memory_limit_mib` at publish;
    /// an interpreter such as CPython starts at about 12 MiB).
    pub max_room_memory_bytes: usize,
    /// CPU time one plugin call may take.
    pub call_deadline_ms: u64,
    /// Largest action accepted (JSON text).
    pub max_action_bytes: usize,
    /// Largest WebSocket message accepted; bigger ones close the connection (1009).
    pub max_ws_message_bytes: usize,
    /// Largest plugin upload.
    pub max_upload_bytes: usize,
    /// Largest browser UI module of a plugin version (docs/game-ui.md).
    pub max_ui_bytes: usize,
    /// The static assets of a version's UI together, at most.
    pub max_ui_assets_bytes: usize,
    /// Static assets of a version's UI, at most.
    pub max_ui_assets: usize,
    /// Most inputs of an archived game the replay viewer re-runs
    /// (`GET /v1/games/{id}/frames`); longer games are `422 replay_too_long`.
    pub max_replay_inputs: usize,
    /// How long a finished room stays in memory for late reconnects.
    pub finished_room_grace_secs: u64,
    /// How long a room may wait for its players; then it expires
    /// (`aborted/expired`, journaled as closed) and frees its slot.
    pub waiting_room_ttl_secs: u64,
    /// Largest room config (JSON text); bigger ones get 413 `config_too_large`.
    pub max_config_bytes: usize,
    /// Behind a proxy that appends the client's address to
    /// `X-Forwarded-For` (the Kubernetes Ingress): per-IP limits use that
    /// address instead of the proxy's. Off by default (a client could
    /// otherwise choose its own IP).
    pub trust_forwarded_for: bool,
    /// On SIGTERM, how long live games may run on before the server exits
    /// (they are in the journal and resume on the next start).
    pub drain_deadline_secs: u64,
    /// Open TCP connections at once, per listener; one more is answered 503
    /// `server_busy` and closed.
    pub max_connections: usize,
    /// Open TCP connections from one peer address, per listener; one more is
    /// answered 503 `too_many_connections` and closed. 0: no per-address cap
    /// (behind a proxy every client shares the proxy's address: cap there).
    pub max_connections_per_ip: usize,
    /// A request's headers must arrive within this long of the connection
    /// opening or of the previous response, else the connection is closed
    /// (half-sent requests, and idle keep-alive connections).
    pub header_read_timeout_ms: u64,
    /// The server pings every WebSocket this often.
    pub ws_ping_interval_ms: u64,
    /// A WebSocket that sends nothing (not even a pong) for this long is
    /// closed with code 4408.
    pub ws_idle_timeout_ms: u64,
    /// Plugin uploads received and compiled at once; one more gets 503
    /// `publish_busy`.
    pub max_concurrent_publishes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            admin_listen: None,
            data_dir: PathBuf::from("arcade-data"),
            preload_dir: None,
            admin_token: DEV_ADMIN_TOKEN.to_string(),
            log_format: LogFormat::Text,
            limits: Limits::default(),
            journal: JournalSettings::default(),
            archive: ArchiveSettings::default(),
            sim: SimSettings::default(),
            cluster: ClusterSettings::default(),
            matchmaking: MatchmakingSettings::default(),
            ladder: LadderSettings::default(),
            rate_limits: Default::default(),
            auth: Default::default(),
            testing: TestingSettings::default(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_rooms: 16_384,
            max_finished_rooms: 16_384,
            room_memory_bytes: 16 << 20,
            max_room_memory_bytes: 64 << 20,
            call_deadline_ms: 100,
            max_action_bytes: 4 << 10,
            max_ws_message_bytes: 64 << 10,
            max_upload_bytes: 32 << 20,
            max_ui_bytes: 512 << 10,
            max_ui_assets_bytes: 2 << 20,
            max_ui_assets: 64,
            max_replay_inputs: 20_000,
            finished_room_grace_secs: 120,
            waiting_room_ttl_secs: 300,
            max_config_bytes: 16 << 10,
            trust_forwarded_for: false,
            drain_deadline_secs: 60,
            max_connections: 10_000,
            max_connections_per_ip: 256,
            header_read_timeout_ms: 10_000,
            ws_ping_interval_ms: 20_000,
            ws_idle_timeout_ms: 60_000,
            max_concurrent_publishes: 2,
        }
    }
}

impl Config {
    /// Defaults, then `file` (if any), then `ARCADE_*` variables.
    // figment's own error (large) is the answer: it names the key and the
    // source of a bad setting, and `figment::Jail` tests expect it.
    #[allow(clippy::result_large_err)]
    pub fn load(file: Option<&Path>) -> Result<Config, figment::Error> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(figment::Error::from(format!("config file {} not found", file.display())));
            }
            figment = figment.merge(Toml::file(file));
        }
        // Only variables naming a config section: `ARCADE_SERVER` and the
        // like belong to other tools (the CLI, the tests).
        let env = Env::prefixed("ARCADE_").split("__").filter(|key| {
            let section = key.as_str().split('.').next().unwrap_or_default();
            CONFIG_SECTIONS.iter().any(|s| section.eq_ignore_ascii_case(s))
        });
        figment.merge(env).extract()
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail closures return figment::Error
mod tests {
    use super::*;

    #[test]
    fn file_then_env_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("arcade.toml", "admin_token = \"from-file\"\n[limits]\nmax_rooms = 7\n")?;
            jail.set_env("ARCADE_LIMITS__MAX_ACTION_BYTES", "99");
            let config = Config::load(Some(Path::new("arcade.toml")))?;
            assert_eq!(config.admin_token, "from-file");
            assert_eq!(config.limits.max_rooms, 7);
            assert_eq!(config.limits.max_action_bytes, 99);
            assert_eq!(config.limits.call_deadline_ms, Limits::default().call_deadline_ms);
            Ok(())
        });
    }

    #[test]
    fn unrelated_arcade_variables_are_ignored() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("ARCADE_SERVER", "http://elsewhere");
            jail.set_env("ARCADE_LISTEN", "127.0.0.1:9999");
            let config = Config::load(None)?;
            assert_eq!(config.listen.port(), 9999);
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail closure returns figment::Error
    fn region_and_fallback_table_from_file_or_env() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "arcade.toml",
                "[cluster]\nregion = \"eu\"\nregion_fallback = { eu = [\"us\", \"*\"] }\n",
            )?;
            let config = Config::load(Some(Path::new("arcade.toml")))?;
            assert_eq!(config.cluster.region, "eu");
            assert_eq!(config.cluster.region_fallback["eu"], ["us", "*"]);
            jail.set_env("ARCADE_CLUSTER__REGION", "us");
            jail.set_env("ARCADE_CLUSTER__REGION_FALLBACK", r#"{us=["eu"], eu=["us"]}"#);
            let config = Config::load(None)?;
            assert_eq!(config.cluster.region, "us");
            assert_eq!(config.cluster.region_fallback.len(), 2);
            assert_eq!(config.cluster.region_fallback["us"], ["eu"]);
            assert!(
                Config::default().cluster.region.is_empty() && Config::default().cluster.region_fallback.is_empty()
            );
            Ok(())
        });
    }

    #[test]
    fn signing_keys_from_env_and_an_empty_secret() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("ARCADE_AUTH__SIGNING_KEYS", r#"[{kid="new", secret="s2"}, {kid="old", secret="s1"}]"#);
            let keys = Config::load(None)?.auth.signing_keys;
            assert_eq!(keys.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(), ["new", "old"]);
            jail.set_env("ARCADE_AUTH__SIGNING_KEYS", "");
            assert!(Config::load(None)?.auth.signing_keys.is_empty());
            jail.set_env("ARCADE_AUTH__SIGNING_KEYS", "oops");
            assert!(Config::load(None).is_err());
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "admin_tokn = \"typo\"\n")?;
            assert!(Config::load(Some(Path::new("bad.toml"))).is_err());
            Ok(())
        });
    }
}
