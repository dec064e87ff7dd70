//! The archive's settings (`[archive]` and `[archive.postgres]` in the
//! server's config; the archiver Lambda reads the same from its
//! environment): where finished games go, how they are batched, how long
//! they are kept, and the PostgreSQL pool.

use serde::{Deserialize, Serialize};

/// Where finished games go, and how they are batched.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArchiveSettings {
    /// `file:///dir` or a path, `postgres://…`, `s3://bucket/prefix?endpoint=…`;
    /// empty: `<data_dir>/archive` on the local filesystem.
    pub url: String,
    pub batch_size: usize,
    pub flush_interval_ms: u64,
    /// Bytes of not-yet-delivered games kept in the local spool.
    pub spool_limit_bytes: u64,
    /// The connection pool of a `postgres://` archive (`[archive.postgres]`).
    pub postgres: PgPoolSettings,
    /// Archived games are deleted this many days after they completed
    /// (default 90; 0: kept forever). Filesystem and PostgreSQL: by the
    /// server's retention job; S3: by the bucket's lifecycle rule (Terraform
    /// `archive_retention_days`, keep the two equal). See `archive::retention`.
    pub retention_days: u32,
    /// Time between two runs of the retention job (default 3600; at least 1).
    pub retention_interval_secs: u64,
    /// Most games one PostgreSQL delete statement removes (default 1000; at least 1).
    pub retention_batch: usize,
}

/// The PostgreSQL archive's connection pool. The archiver writes one batch
/// at a time; `/v1/games` reads take the other connections.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PgPoolSettings {
    /// Connections at most (default 4; at least 1).
    pub max_connections: u32,
    /// Connections kept open even when idle (default 0; at most `max_connections`).
    pub min_connections: u32,
    /// How long an operation waits for a free connection before it fails
    /// with a clear error (default 5000 ms; at least 1).
    pub acquire_timeout_ms: u64,
    /// An idle connection above `min_connections` is closed after this long
    /// (default 600000 = 10 min; 0: never).
    pub idle_timeout_ms: u64,
    /// A connection is closed and replaced after this long (default
    /// 1800000 = 30 min; 0: never).
    pub max_lifetime_ms: u64,
}

impl Default for PgPoolSettings {
    fn default() -> Self {
        PgPoolSettings {
            max_connections: 4,
            min_connections: 0,
            acquire_timeout_ms: 5000,
            idle_timeout_ms: 600_000,
            max_lifetime_ms: 1_800_000,
        }
    }
}

impl Default for ArchiveSettings {
    fn default() -> Self {
        ArchiveSettings {
            url: String::new(),
            batch_size: 500,
            flush_interval_ms: 1000,
            spool_limit_bytes: 1 << 30,
            postgres: PgPoolSettings::default(),
            retention_days: 90,
            retention_interval_secs: 3600,
            retention_batch: 1000,
        }
    }
}
