//! Archival of finished games.
//!
//! A finished game becomes a [`GameRecord`]; the room code hands it to the
//! [`Archiver`] (`submit`), which spools it durably and writes it in batches
//! to an [`ArchiveSink`]. Sinks are chosen by URL with [`open_sink`]:
//!
//! | URL | backend |
//! | --- | --- |
//! | `file:///var/lib/arcade/archive` or a plain path | [`fs::FsSink`] (embedded default) |
//! | `postgres://user@host:port/db` | `postgres::PgSink` (feature `postgres`) |
//! | `s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1` | `s3::S3Sink` (feature `s3`) |
//!
//! Every sink is idempotent: writing a game id that is already archived is
//! harmless (the first record of a game id wins, no error, no duplicate).

pub mod archiver;
mod backoff;
mod catalog;
mod durable_file;
pub mod fs;
pub mod keys;
pub mod listing;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod record;
pub mod retention;
#[cfg(feature = "s3")]
pub mod s3;
mod segment;
mod settings;
pub mod spool;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;

pub use archiver::{Archiver, ArchiverConfig, FlushReport};
pub use listing::{GameSummary, ListFilter, Page, PageRequest};
pub use record::{EventRecord, FinalViews, GameRecord, LogEntry, LogKind, PluginRef, RECORD_FORMAT_VERSION};
pub use settings::{ArchiveSettings, PgPoolSettings};

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("invalid game record: {0}")]
    InvalidRecord(String),
    #[error("corrupt archived record: {0}")]
    Corrupt(String),
    #[error("invalid page cursor {0:?}")]
    InvalidCursor(String),
    #[error("archive I/O error at {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{backend} archive: {message}")]
    Backend { backend: &'static str, message: String },
    #[error("the archive spool is full ({used} of {limit} bytes); archival is falling behind")]
    SpoolFull { used: u64, limit: u64 },
    #[error("archive configuration: {0}")]
    Config(String),
    #[error("the archiver has stopped")]
    Stopped,
    #[error("archive task failed: {0}")]
    Internal(String),
}

impl ArchiveError {
    pub(crate) fn from_join(e: tokio::task::JoinError) -> Self {
        ArchiveError::Internal(e.to_string())
    }
}

/// Where finished games are stored. Implementations are idempotent per
/// game id and safe to share between tasks.
#[async_trait]
pub trait ArchiveSink: Send + Sync {
    /// Short name for logs and metrics: `filesystem`, `postgres`, `s3`.
    fn backend(&self) -> &'static str;

    /// Stores the records durably; games already archived are skipped.
    /// All-or-nothing is not promised: after an error the caller retries the
    /// whole batch, which idempotency makes safe.
    async fn write_batch(&self, records: &[GameRecord]) -> Result<(), ArchiveError>;

    /// [`write_batch`](Self::write_batch) for records whose storage form
    /// the caller already made: `compressed[i]` is
    /// `records[i].to_compressed()` (the archiver has it from its spool). A
    /// sink that stores that form takes it as it is instead of compressing
    /// each record again; the default ignores it.
    async fn write_compressed_batch(&self, records: &[GameRecord], compressed: &[Vec<u8>]) -> Result<(), ArchiveError> {
        let _ = compressed;
        self.write_batch(records).await
    }

    /// The archived record of a game.
    async fn get(&self, game_id: &str) -> Result<Option<GameRecord>, ArchiveError>;

    /// Archived games matching `filter`, newest first, one page at a time.
    async fn list(&self, filter: &ListFilter, page: &PageRequest) -> Result<Page, ArchiveError>;

    /// Erasure of a deleted account: every archived game `player` played
    /// names `pseudonym` instead, everywhere in its record and its listing
    /// ([`GameRecord::pseudonymised`]), so the games keep replaying and
    /// nothing finds the old id. How many games changed; doing it again
    /// changes none.
    async fn pseudonymise(&self, player: &str, pseudonym: &str) -> Result<u64, ArchiveError>;

    /// Retention (see `retention`): deletes the games completed before
    /// `cutoff_ms` (unix ms), at most `batch` per delete statement where
    /// the backend deletes row by row, and returns how many it deleted; once
    /// it returns they are gone from `get` and `list`. `None` (the default):
    /// the backend's storage expires games by itself and the sink keeps
    /// nothing to forget. S3 forgets them (its lifecycle rule deletes them).
    async fn expire(&self, cutoff_ms: u64, batch: usize) -> Result<Option<u64>, ArchiveError> {
        let _ = (cutoff_ms, batch);
        Ok(None)
    }
}

/// Opens the sink a URL names (see the module docs).
pub async fn open_sink(url: &str) -> Result<Arc<dyn ArchiveSink>, ArchiveError> {
    open(url, &crate::PgPoolSettings::default(), None).await
}

/// [`open_sink`] for the server: a PostgreSQL pool sized and timed by
/// `[archive.postgres]`, its gauges in `metrics`.
pub async fn open_sink_with(
    url: &str,
    postgres: &crate::PgPoolSettings,
    metrics: &arcade_telemetry::metrics::Metrics,
) -> Result<Arc<dyn ArchiveSink>, ArchiveError> {
    open(url, postgres, Some(metrics)).await
}

#[cfg_attr(not(feature = "postgres"), allow(unused_variables))]
async fn open(
    url: &str,
    postgres: &crate::PgPoolSettings,
    metrics: Option<&arcade_telemetry::metrics::Metrics>,
) -> Result<Arc<dyn ArchiveSink>, ArchiveError> {
    let scheme = url.split_once("://").map(|(scheme, _)| scheme.to_ascii_lowercase());
    match scheme.as_deref() {
        None => Ok(Arc::new(fs::FsSink::open(url).await?)),
        Some("file") => {
            let path = url::Url::parse(url)
                .ok()
                .and_then(|u| u.to_file_path().ok())
                .ok_or_else(|| ArchiveError::Config(format!("{url:?} is not an absolute file URL")))?;
            Ok(Arc::new(fs::FsSink::open(path).await?))
        }
        #[cfg(feature = "postgres")]
        Some("postgres" | "postgresql") => Ok(Arc::new(postgres::PgSink::connect_with(url, postgres, metrics).await?)),
        #[cfg(feature = "s3")]
        Some("s3") => Ok(Arc::new(s3::S3Sink::open(url).await?)),
        Some(other) => Err(ArchiveError::Config(format!(
            "unsupported archive URL scheme {other:?} (file, postgres and s3 are known; postgres and s3 need their cargo features)"
        ))),
    }
}

/// Checks every record of a batch before a sink touches storage.
pub(crate) fn validate_batch(records: &[GameRecord]) -> Result<(), ArchiveError> {
    records.iter().try_for_each(GameRecord::validate)
}

/// The records of a batch to store, as indices into `records`: the first
/// of each game id, minus the ones `already_archived` knows.
pub(crate) fn new_game_indices(records: &[GameRecord], already_archived: impl Fn(&str) -> bool) -> Vec<usize> {
    let mut seen = HashSet::new();
    (0..records.len())
        .filter(|&i| seen.insert(records[i].game_id.as_str()) && !already_archived(&records[i].game_id))
        .collect()
}

/// The storage form of `records[i]` for each of `indices`: the caller's
/// (`given`, see [`ArchiveSink::write_compressed_batch`]) where it made
/// them, compressed here otherwise.
pub(crate) fn storage_forms(
    records: &[GameRecord],
    indices: &[usize],
    given: Option<&[Vec<u8>]>,
) -> Result<Vec<Vec<u8>>, ArchiveError> {
    match given {
        Some(given) if given.len() == records.len() => Ok(indices.iter().map(|&i| given[i].clone()).collect()),
        Some(given) => Err(ArchiveError::Internal(format!(
            "a batch of {} records came with {} compressed forms",
            records.len(),
            given.len()
        ))),
        None => record::compress_all(&indices.iter().map(|&i| &records[i]).collect::<Vec<_>>()),
    }
}
