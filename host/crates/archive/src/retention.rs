//! Retention of archived games: games completed more than
//! `archive.retention_days` days ago are deleted from the archive (0 keeps
//! them forever).
//!
//! The server runs [`spawn`]: a background task that calls
//! [`expire_once`] at start and then every `archive.retention_interval_secs`.
//! Each backend deletes in its own way ([`ArchiveSink::expire`]): the
//! filesystem archive durably records the cutoff, then drops whole segments
//! (`fs`); PostgreSQL deletes `completed_games` rows in batches of
//! `archive.retention_batch`, their `game_events` rows going with them
//! (`ON DELETE CASCADE`); in S3 the bucket's lifecycle rule deletes the
//! objects (Terraform `archive_retention_days`, which should match) and the
//! sink drops the games from its in-memory listing. Expired games
//! are counted in `arcade_archive_games_expired_total`, failed runs in
//! `arcade_archive_retention_failures_total` (retried at the next interval).
//!
//! The clock is a parameter ([`expire_once`] takes "now"), so tests expire
//! games without waiting for them to age.

use std::sync::Arc;
use std::time::Duration;

use super::{ArchiveError, ArchiveSink};
use arcade_telemetry::metrics::Metrics;

pub const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// How long archived games are kept, and how the job runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Days a game is kept after its completion; 0 keeps games forever.
    pub days: u32,
    /// Time between two runs of the job.
    pub interval: Duration,
    /// Most games one delete statement removes (PostgreSQL).
    pub batch: usize,
}

impl RetentionPolicy {
    /// The `archive.retention_*` settings, checked.
    pub fn from_settings(settings: &crate::ArchiveSettings) -> Result<RetentionPolicy, ArchiveError> {
        if settings.retention_interval_secs == 0 || settings.retention_batch == 0 {
            return Err(ArchiveError::Config(
                "archive.retention_interval_secs and archive.retention_batch must be at least 1".into(),
            ));
        }
        Ok(RetentionPolicy {
            days: settings.retention_days,
            interval: Duration::from_secs(settings.retention_interval_secs),
            batch: settings.retention_batch,
        })
    }

    /// Games completed before this instant (unix ms) have expired at
    /// `now_ms`; `None` when games are kept forever.
    pub fn cutoff_ms(&self, now_ms: u64) -> Option<u64> {
        (self.days > 0).then(|| now_ms.saturating_sub(u64::from(self.days) * DAY_MS))
    }
}

/// One run of the job at `now_ms`: deletes the games that have expired by
/// then. `Ok(None)`: nothing to do here (games kept forever, or the
/// backend's storage expires them itself).
pub async fn expire_once(
    sink: &dyn ArchiveSink,
    policy: &RetentionPolicy,
    now_ms: u64,
) -> Result<Option<u64>, ArchiveError> {
    let Some(cutoff_ms) = policy.cutoff_ms(now_ms) else { return Ok(None) };
    sink.expire(cutoff_ms, policy.batch).await
}

/// Starts the retention job (unless games are kept forever): one run now,
/// then one every `policy.interval`, with the system clock.
pub fn spawn(
    sink: Arc<dyn ArchiveSink>,
    policy: RetentionPolicy,
    metrics: Arc<Metrics>,
) -> Option<tokio::task::JoinHandle<()>> {
    if policy.days == 0 {
        tracing::info!("archive retention off (archive.retention_days = 0): archived games are kept forever");
        return None;
    }
    let backend = sink.backend();
    Some(tokio::spawn(async move {
        let mut ticks = tokio::time::interval(policy.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let started = std::time::Instant::now();
            let now_ms =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
            match expire_once(sink.as_ref(), &policy, now_ms).await {
                Ok(Some(games)) => {
                    metrics.archive_games_expired.inc_by(games);
                    if games > 0 {
                        tracing::info!(
                            backend,
                            games,
                            days = policy.days,
                            seconds = started.elapsed().as_secs_f64(),
                            "archive retention: expired games deleted"
                        );
                    }
                }
                Ok(None) => {
                    tracing::info!(
                        backend,
                        days = policy.days,
                        "archive retention: this backend's storage expires games by itself; the job stops"
                    );
                    return;
                }
                Err(e) => {
                    metrics.archive_retention_failures.inc();
                    tracing::error!(backend, error = %e, "archive retention run failed; retried at the next interval");
                }
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_is_the_configured_days_before_now_and_zero_days_keeps_forever() {
        let policy = RetentionPolicy { days: 90, interval: Duration::from_secs(3600), batch: 1000 };
        let now = 200 * DAY_MS + 5;
        assert_eq!(policy.cutoff_ms(now), Some(110 * DAY_MS + 5));
        assert_eq!(policy.cutoff_ms(DAY_MS), Some(0), "no underflow near the epoch");
        assert_eq!(RetentionPolicy { days: 0, ..policy }.cutoff_ms(now), None);
    }

    #[test]
    fn settings_default_to_90_days_hourly_and_refuse_zero_interval_or_batch() {
        let settings = crate::ArchiveSettings::default();
        let policy = RetentionPolicy::from_settings(&settings).unwrap();
        assert_eq!(policy, RetentionPolicy { days: 90, interval: Duration::from_secs(3600), batch: 1000 });
        let zero_interval = crate::ArchiveSettings { retention_interval_secs: 0, ..settings.clone() };
        assert!(matches!(RetentionPolicy::from_settings(&zero_interval), Err(ArchiveError::Config(_))));
        let zero_batch = crate::ArchiveSettings { retention_batch: 0, ..settings };
        assert!(matches!(RetentionPolicy::from_settings(&zero_batch), Err(ArchiveError::Config(_))));
    }
}
