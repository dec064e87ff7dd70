//! The matchmaker's settings, read once per cold start from the function's
//! environment:
//!
//! | variable | meaning |
//! | --- | --- |
//! | `ARCADE_REDIS_URL` | the cluster's Redis, `redis://host:6379` or `rediss://:token@host:6379` (required) |
//! | `ARCADE_CLUSTER_NAMESPACE` | the host nodes' `cluster.namespace` (default `arcade`): tickets under `<ns>:mm`, nodes under `<ns>:nodes`, rate limits under `<ns>:rl` |
//! | `ARCADE_MM_QUEUES` | JSON list of queues, `[{"game":"tic-tac-toe","mode":"standard","players_per_match":2}]`, other `MatchRules` fields optional (required) |
//! | `ARCADE_MM_DEFAULT_MODE` | mode of tickets (and queues) that give none (default `standard`) |
//! | `ARCADE_MM_DEFAULT_REGION` | region of tickets that give no latencies (default `local`) |
//! | `ARCADE_RATE_LIMITS__PLAYER_PER_MINUTE` | the player request limit, as the hosts' (default 60) |
//! | `ARCADE_CLUSTER_SECRET` | the host nodes' `cluster.secret`, at least 32 bytes (required): checks node records, signs room creation |
//! | `ARCADE_CLUSTER_ALLOWED_ADVERTISE_HOSTS` | comma-separated, as the nodes' `cluster.allowed_advertise_hosts` (default: any) |
//! | `ARCADE_MM_MAX_SEAT_ATTEMPTS` | rounds a match's room creation may fail before it is given up (default 3) |
//! | `ARCADE_MM_REGION_FALLBACK` | JSON, as the nodes' `cluster.region_fallback`: `{"eu":["us","*"]}` (default: no region falls back) |
//! | `ARCADE_MM_PLAYER_CLAIM` | the claim of the API Gateway JWT authorizer that holds the player's account id (default `sub`) |
//! | `AWS_LAMBDA_LOG_FORMAT` | `JSON` for JSON log lines (Lambda's advanced logging), else text |
//!
//! The namespaces are derived exactly as a host node derives them from its
//! `cluster.namespace` (`NodeAgent::open`), so the function and the nodes share
//! tickets, the node directory and the players' rate limits.

use arcade_cluster::matchmaking::{MatchRules, QueueKey, QueueSpec};
use arcade_cluster::ratelimit::RateLimits;
use arcade_cluster::{AdvertisePolicy, ClusterKey, RegionPolicy};
use arcade_telemetry::LogFormat;

pub const REDIS_URL: &str = "ARCADE_REDIS_URL";
pub const CLUSTER_NAMESPACE: &str = "ARCADE_CLUSTER_NAMESPACE";
pub const QUEUES: &str = "ARCADE_MM_QUEUES";
pub const DEFAULT_MODE: &str = "ARCADE_MM_DEFAULT_MODE";
pub const DEFAULT_REGION: &str = "ARCADE_MM_DEFAULT_REGION";
pub const PLAYER_PER_MINUTE: &str = "ARCADE_RATE_LIMITS__PLAYER_PER_MINUTE";
pub const CLUSTER_SECRET: &str = "ARCADE_CLUSTER_SECRET";
pub const ALLOWED_ADVERTISE_HOSTS: &str = "ARCADE_CLUSTER_ALLOWED_ADVERTISE_HOSTS";
pub const MAX_SEAT_ATTEMPTS: &str = "ARCADE_MM_MAX_SEAT_ATTEMPTS";
pub const REGION_FALLBACK: &str = "ARCADE_MM_REGION_FALLBACK";
pub const PLAYER_CLAIM: &str = "ARCADE_MM_PLAYER_CLAIM";

#[derive(Clone, Debug)]
pub struct Settings {
    pub redis_url: String,
    pub namespace: String,
    pub queues: Vec<(QueueKey, MatchRules)>,
    pub default_mode: String,
    pub default_region: String,
    pub rate_limits: RateLimits,
    pub log_format: LogFormat,
    pub cluster_key: ClusterKey,
    pub advertise: AdvertisePolicy,
    pub max_seat_attempts: u32,
    pub region_fallback: RegionPolicy,
    /// The authorizer claim naming the player who queues.
    pub player_claim: String,
}

impl Settings {
    /// Reads the settings through `env` (`std::env::var` in the binary).
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let set = |name: &str| env(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let required = |name: &str| set(name).ok_or_else(|| format!("{name} is not set"));
        let or_default = |name: &str, default: &str| set(name).unwrap_or_else(|| default.to_string());

        let redis_url = required(REDIS_URL)?;
        if !["redis://", "rediss://", "redis+unix://"].iter().any(|scheme| redis_url.starts_with(scheme)) {
            return Err(format!("{REDIS_URL} must be a redis:// or rediss:// URL"));
        }
        let default_mode = or_default(DEFAULT_MODE, "standard");
        let queues = QueueSpec::parse_list(&required(QUEUES)?, &default_mode).map_err(|e| format!("{QUEUES}: {e}"))?;
        let mut rate_limits = RateLimits::default();
        if let Some(limit) = set(PLAYER_PER_MINUTE) {
            rate_limits.player_per_minute =
                limit.parse().map_err(|_| format!("{PLAYER_PER_MINUTE} must be a whole number, not {limit:?}"))?;
        }
        rate_limits.validate().map_err(|e| e.to_string())?;
        let cluster_key = ClusterKey::new(&required(CLUSTER_SECRET)?).map_err(|e| format!("{CLUSTER_SECRET}: {e}"))?;
        let hosts: Vec<String> = set(ALLOWED_ADVERTISE_HOSTS)
            .map(|list| list.split(',').map(str::trim).filter(|h| !h.is_empty()).map(String::from).collect())
            .unwrap_or_default();
        let advertise = AdvertisePolicy::new(&hosts).map_err(|e| format!("{ALLOWED_ADVERTISE_HOSTS}: {e}"))?;
        let max_seat_attempts = match set(MAX_SEAT_ATTEMPTS) {
            None => 3,
            Some(n) => n
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{MAX_SEAT_ATTEMPTS} must be a whole number above 0, not {n:?}"))?,
        };
        let region_fallback = match set(REGION_FALLBACK) {
            None => RegionPolicy::default(),
            Some(json) => RegionPolicy::from_json(&json).map_err(|e| format!("{REGION_FALLBACK}: {e}"))?,
        };
        let json_logs = env("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
        Ok(Settings {
            redis_url,
            namespace: or_default(CLUSTER_NAMESPACE, "arcade"),
            queues,
            default_mode,
            default_region: or_default(DEFAULT_REGION, "local"),
            rate_limits,
            log_format: if json_logs { LogFormat::Json } else { LogFormat::Text },
            cluster_key,
            advertise,
            max_seat_attempts,
            region_fallback,
            player_claim: or_default(PLAYER_CLAIM, "sub"),
        })
    }

    /// Tickets and matches, as `NodeAgent::open` names them.
    pub fn tickets_namespace(&self) -> String {
        format!("{}:mm", self.namespace)
    }

    /// The node directory.
    pub fn nodes_namespace(&self) -> String {
        format!("{}:nodes", self.namespace)
    }

    /// The shared rate limits.
    pub fn rate_limit_namespace(&self) -> String {
        format!("{}:rl", self.namespace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    const QUEUE: &str = r#"[{"game":"tic-tac-toe","mode":"standard","players_per_match":2}]"#;
    const SECRET: &str = "a-cluster-secret-of-at-least-32-bytes";

    #[test]
    fn defaults_follow_the_host_nodes() {
        let settings = Settings::from_env(env(&[
            (REDIS_URL, "redis://127.0.0.1:6379"),
            (QUEUES, QUEUE),
            (CLUSTER_SECRET, SECRET),
        ]))
        .unwrap();
        assert_eq!(settings.namespace, "arcade");
        assert_eq!(
            (settings.tickets_namespace(), settings.nodes_namespace(), settings.rate_limit_namespace()),
            ("arcade:mm".to_string(), "arcade:nodes".to_string(), "arcade:rl".to_string())
        );
        assert_eq!((settings.default_mode.as_str(), settings.default_region.as_str()), ("standard", "local"));
        assert_eq!(settings.queues[0].0, QueueKey::new("tic-tac-toe", "standard"));
        assert_eq!(settings.rate_limits, RateLimits::default());
        assert!(matches!(settings.log_format, LogFormat::Text));
        assert_eq!(settings.max_seat_attempts, 3);
        assert_eq!(settings.advertise, AdvertisePolicy::any());
        assert_eq!(settings.region_fallback, RegionPolicy::default());
    }

    #[test]
    fn everything_can_be_set() {
        let settings = Settings::from_env(env(&[
            (REDIS_URL, "rediss://:token@cache:6379"),
            (CLUSTER_NAMESPACE, "prod"),
            (QUEUES, r#"[{"game":"arena","players_per_match":4}]"#),
            (DEFAULT_MODE, "ranked"),
            (DEFAULT_REGION, "eu-west-1"),
            (PLAYER_PER_MINUTE, "600"),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
            (CLUSTER_SECRET, SECRET),
            (ALLOWED_ADVERTISE_HOSTS, "10.0.0.0/8, .svc.cluster.local"),
            (MAX_SEAT_ATTEMPTS, "5"),
            (REGION_FALLBACK, r#"{"eu-west-1": ["us-east-1", "*"]}"#),
        ]))
        .unwrap();
        assert_eq!(settings.tickets_namespace(), "prod:mm");
        assert_eq!(settings.queues[0].0, QueueKey::new("arena", "ranked"));
        assert_eq!(settings.default_region, "eu-west-1");
        assert_eq!(settings.rate_limits.player_per_minute, 600);
        assert!(matches!(settings.log_format, LogFormat::Json));
        assert_eq!(settings.max_seat_attempts, 5);
        assert!(settings.advertise.check("http://10.1.2.3:8080").is_ok());
        assert!(settings.advertise.check("http://evil.example:8080").is_err());
        assert_eq!(settings.region_fallback.tier("eu-west-1", "us-east-1"), Some(1));
        assert_eq!(settings.region_fallback.tier("eu-west-1", "ap-south-1"), Some(2));
        assert_eq!(settings.region_fallback.tier("us-east-1", "eu-west-1"), None);
    }

    #[test]
    fn missing_or_bad_settings_are_named() {
        let cases: [(&'static [(&'static str, &'static str)], &str); 10] = [
            (&[(QUEUES, QUEUE), (CLUSTER_SECRET, SECRET)], REDIS_URL),
            (&[(REDIS_URL, "redis://r"), (QUEUES, " "), (CLUSTER_SECRET, SECRET)], QUEUES),
            (&[(REDIS_URL, "http://r"), (QUEUES, QUEUE), (CLUSTER_SECRET, SECRET)], REDIS_URL),
            (
                &[(REDIS_URL, "redis://r"), (QUEUES, "[{\"game\":\"x\",\"players\":2}]"), (CLUSTER_SECRET, SECRET)],
                "unknown field",
            ),
            (
                &[(REDIS_URL, "redis://r"), (QUEUES, QUEUE), (PLAYER_PER_MINUTE, "0"), (CLUSTER_SECRET, SECRET)],
                "player",
            ),
            (&[(REDIS_URL, "redis://r"), (QUEUES, QUEUE)], CLUSTER_SECRET),
            (&[(REDIS_URL, "redis://r"), (QUEUES, QUEUE), (CLUSTER_SECRET, "short")], CLUSTER_SECRET),
            (
                &[
                    (REDIS_URL, "redis://r"),
                    (QUEUES, QUEUE),
                    (CLUSTER_SECRET, SECRET),
                    (ALLOWED_ADVERTISE_HOSTS, "a b"),
                ],
                ALLOWED_ADVERTISE_HOSTS,
            ),
            (
                &[(REDIS_URL, "redis://r"), (QUEUES, QUEUE), (CLUSTER_SECRET, SECRET), (MAX_SEAT_ATTEMPTS, "0")],
                MAX_SEAT_ATTEMPTS,
            ),
            (
                &[
                    (REDIS_URL, "redis://r"),
                    (QUEUES, QUEUE),
                    (CLUSTER_SECRET, SECRET),
                    (REGION_FALLBACK, r#"{"eu":["eu"]}"#),
                ],
                REGION_FALLBACK,
            ),
        ];
        for (vars, mention) in cases {
            let problem = Settings::from_env(env(vars)).unwrap_err();
            assert!(problem.contains(mention), "{vars:?}: {problem} should mention {mention}");
        }
    }
}
