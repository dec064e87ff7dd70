//! The `Archiver`: delivers finished games to an `ArchiveSink` in the
//! background, at least once.
//!
//! `submit` compresses the record and appends it to the local spool, an
//! append-only log whose writer thread group-commits every game submitted
//! meanwhile with one write and one `fdatasync` (see `spool`); it returns
//! once the game is on disk, so an acknowledged game survives a crash or a
//! sink outage. `submit_lazily` is for a caller that keeps the game safe
//! itself until told the record is on disk (rooms, whose journal holds the
//! whole game): it does not wait, and the spool syncs such games together.
//! The spool's writer then hands the game to a worker task
//! through a bounded queue; the worker groups games in batches
//! (`batch_size`, or whatever waited `flush_interval`) and writes them to
//! the sink; only after the sink confirmed a batch does it append the
//! batch's acknowledgement to the spool, so a restart re-delivers exactly
//! the games without one. A failed batch is retried with capped exponential
//! backoff. When the queue is full, or at start for games a previous run
//! left, the worker loads games from the spool directly (the "backlog"), so
//! the queue never blocks callers and memory stays bounded; only a full
//! spool refuses a game.

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::backoff::Backoff;
use super::record::GameRecord;
use super::spool::{AfterSync, Put, Spool};
use super::{ArchiveError, ArchiveSink};
use arcade_telemetry::metrics::Metrics;

/// Archiver settings; `ArchiverConfig::new` gives the defaults.
#[derive(Clone, Debug)]
pub struct ArchiverConfig {
    /// Local directory of games not yet confirmed by the sink.
    pub spool_dir: PathBuf,
    /// Most games per sink write.
    pub batch_size: usize,
    /// Longest a game waits for its batch to fill.
    pub flush_interval: Duration,
    /// Games held in memory for the worker; more wait in the spool only.
    pub queue_capacity: usize,
    /// Bytes of compressed games the spool may hold before `submit` fails.
    pub spool_limit_bytes: u64,
    /// First wait after a failed batch; doubles up to `retry_max`.
    pub retry_initial: Duration,
    pub retry_max: Duration,
}

impl ArchiverConfig {
    pub fn new(spool_dir: impl Into<PathBuf>) -> Self {
        ArchiverConfig {
            spool_dir: spool_dir.into(),
            batch_size: 500,
            flush_interval: Duration::from_secs(1),
            queue_capacity: 4096,
            spool_limit_bytes: 1 << 30,
            retry_initial: Duration::from_millis(200),
            retry_max: Duration::from_secs(30),
        }
    }
}

/// Result of `Archiver::flush`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlushReport {
    /// Games the sink confirmed during the flush.
    pub delivered: usize,
    /// Games still in the spool afterwards (submitted during the flush, or unreadable).
    pub waiting: usize,
}

enum Control {
    Flush(oneshot::Sender<Result<FlushReport, ArchiveError>>),
    /// Games were spooled without being queued.
    Backlog,
}

struct Shared {
    spool: Spool,
    /// Set when the spool holds games the worker has not queued.
    backlog: Arc<AtomicBool>,
    metrics: Arc<Metrics>,
}

impl Shared {
    fn update_depth_gauge(&self) {
        self.metrics.archive_queue_depth.set(self.spool.depth() as i64);
    }
}

/// Handle to the background archiver; dropping it stops the worker (games
/// not yet delivered stay in the spool for the next start).
pub struct Archiver {
    shared: Arc<Shared>,
    control: mpsc::UnboundedSender<Control>,
    worker: tokio::task::JoinHandle<()>,
}

impl Archiver {
    /// Opens the spool and starts the worker, which first re-submits every
    /// game a previous run left in the spool.
    pub async fn start(
        sink: Arc<dyn ArchiveSink>,
        config: ArchiverConfig,
        metrics: Arc<Metrics>,
    ) -> Result<Archiver, ArchiveError> {
        if config.batch_size == 0 || config.queue_capacity == 0 {
            return Err(ArchiveError::Config("archiver batch size and queue capacity must be at least 1".into()));
        }
        let (records_tx, records_rx) = mpsc::channel(config.queue_capacity);
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        let backlog = Arc::new(AtomicBool::new(false));
        let on_durable = {
            let (backlog, control) = (backlog.clone(), control_tx.clone());
            // Runs on the spool's writer thread once a game is on disk.
            Box::new(move |record: GameRecord, compressed: Vec<u8>| match records_tx.try_send((record, compressed)) {
                Ok(()) | Err(TrySendError::Closed(_)) => {}
                Err(TrySendError::Full(_)) => {
                    backlog.store(true, Ordering::SeqCst);
                    let _ = control.send(Control::Backlog);
                }
            })
        };
        let (dir, limit) = (config.spool_dir.clone(), config.spool_limit_bytes);
        let spool = tokio::task::spawn_blocking(move || Spool::open(dir, limit, on_durable))
            .await
            .map_err(ArchiveError::from_join)??;
        let left_over = spool.depth();
        if left_over > 0 {
            let recovery = spool.recovery();
            tracing::info!(
                games = left_over,
                imported_files = recovery.imported_files,
                cut_bytes = recovery.cut_bytes,
                spool = %spool.dir().display(),
                "re-submitting spooled games"
            );
            backlog.store(true, Ordering::SeqCst);
        }
        let shared = Arc::new(Shared { spool, backlog, metrics });
        shared.update_depth_gauge();
        let worker = Worker {
            backoff: Backoff::new(config.retry_initial, config.retry_max),
            sink,
            shared: shared.clone(),
            records: records_rx,
            control: control_rx,
            pending: VecDeque::new(),
            pending_compressed: VecDeque::new(),
            queued_ids: HashSet::new(),
            oldest_since: None,
            retry_at: None,
            config,
        };
        let worker = tokio::spawn(worker.run());
        Ok(Archiver { shared, control: control_tx, worker })
    }

    /// Accepts a finished game for archival. Returns once the game is
    /// durably spooled (it will reach the sink even across restarts and
    /// outages). Re-submitting a waiting game is a no-op. Fails for an
    /// invalid record, a full spool (`SpoolFull`) or a local I/O error.
    pub async fn submit(&self, record: GameRecord) -> Result<(), ArchiveError> {
        record.validate()?;
        if self.shared.spool.holds(&record.game_id) {
            return Ok(());
        }
        let (record, compressed) = tokio::task::spawn_blocking(move || {
            let compressed = record.to_compressed()?;
            Ok::<_, ArchiveError>((record, compressed))
        })
        .await
        .map_err(ArchiveError::from_join)??;
        // The spool's writer announces the game to the worker once it is
        // durable, so a caller that stops waiting cannot leave it unannounced.
        let durable = match self.shared.spool.put(record, compressed)? {
            Put::AlreadySpooled => return Ok(()),
            Put::Stored(durable) => durable,
        };
        self.shared.update_depth_gauge();
        let stored = durable.await.map_err(|_| ArchiveError::Stopped)?;
        self.shared.update_depth_gauge();
        stored
    }

    /// Accepts a finished game for archival without waiting for the disk,
    /// for a caller that keeps the game safe meanwhile (the room journal
    /// keeps a finished room until its record is durable): the record is
    /// compressed here, written with the spool's next group commit and
    /// synced within [`super::spool::LAZY_SYNC_INTERVAL`]; `then` runs on
    /// the spool's writer thread once it is on disk (at once for a game
    /// already spooled). Fails at once, without calling `then`, for an
    /// invalid record or a full spool.
    pub fn submit_lazily(&self, record: GameRecord, then: AfterSync) -> Result<(), ArchiveError> {
        record.validate()?;
        let compressed = record.to_compressed()?;
        self.shared.spool.put_lazily(record, compressed, then)?;
        self.shared.update_depth_gauge();
        Ok(())
    }

    /// Delivers every game spooled so far now, in batches, and waits for it.
    /// Fails with the sink's error if a batch fails (the games stay spooled
    /// and are retried with backoff).
    pub async fn flush(&self) -> Result<FlushReport, ArchiveError> {
        let (reply, answer) = oneshot::channel();
        self.control.send(Control::Flush(reply)).map_err(|_| ArchiveError::Stopped)?;
        answer.await.map_err(|_| ArchiveError::Stopped)?
    }

    /// Games in the spool (accepted, not yet confirmed by the sink).
    pub fn waiting(&self) -> usize {
        self.shared.spool.depth()
    }

    /// Bytes those games take in the spool (bounded by `spool_limit_bytes`).
    pub fn spooled_bytes(&self) -> u64 {
        self.shared.spool.used_bytes()
    }

    /// Flushes, then stops the worker.
    pub async fn shutdown(self) -> Result<FlushReport, ArchiveError> {
        self.flush().await
    }
}

impl Drop for Archiver {
    fn drop(&mut self) {
        self.worker.abort();
    }
}

struct Worker {
    sink: Arc<dyn ArchiveSink>,
    shared: Arc<Shared>,
    config: ArchiverConfig,
    records: mpsc::Receiver<(GameRecord, Vec<u8>)>,
    control: mpsc::UnboundedReceiver<Control>,
    /// Games in memory, oldest first; the front ones form the next batch.
    pending: VecDeque<GameRecord>,
    /// The compressed record of each pending game, as spooled: the sink
    /// stores it as it is ([`ArchiveSink::write_compressed_batch`]).
    pending_compressed: VecDeque<Vec<u8>>,
    queued_ids: HashSet<String>,
    /// When the oldest pending game arrived.
    oldest_since: Option<Instant>,
    backoff: Backoff,
    /// Set while failing: no batch before this time (unless flushed).
    retry_at: Option<Instant>,
}

impl Worker {
    async fn run(mut self) {
        loop {
            if self.has_room() && self.shared.backlog.load(Ordering::SeqCst) {
                self.load_backlog().await;
            }
            let due = self.due_at();
            tokio::select! {
                biased;
                control = self.control.recv() => match control {
                    Some(Control::Flush(reply)) => {
                        let _ = reply.send(self.flush_all().await);
                    }
                    Some(Control::Backlog) => {}
                    None => return,
                },
                record = self.records.recv(), if self.has_room() => match record {
                    Some((record, compressed)) => self.accept(record, compressed),
                    None => return,
                },
                () = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                    let _ = self.deliver_batch().await;
                }
            }
        }
    }

    fn capacity(&self) -> usize {
        self.config.queue_capacity.max(self.config.batch_size)
    }

    fn has_room(&self) -> bool {
        self.pending.len() < self.capacity()
    }

    /// When the next batch should go out, if any is waiting.
    fn due_at(&self) -> Option<Instant> {
        let oldest_since = self.oldest_since?;
        if self.pending.is_empty() {
            return None;
        }
        Some(match self.retry_at {
            Some(retry_at) => retry_at,
            None if self.pending.len() >= self.config.batch_size => Instant::now(),
            None => oldest_since + self.config.flush_interval,
        })
    }

    fn accept(&mut self, record: GameRecord, compressed: Vec<u8>) {
        // Skip games already pending (queued and found in the backlog) or
        // already delivered (their spool file is gone).
        if self.queued_ids.contains(&record.game_id) || !self.shared.spool.holds(&record.game_id) {
            return;
        }
        self.queued_ids.insert(record.game_id.clone());
        self.pending.push_back(record);
        self.pending_compressed.push_back(compressed);
        self.oldest_since.get_or_insert_with(Instant::now);
    }

    /// Queues spooled games that are not queued yet, as many as fit.
    async fn load_backlog(&mut self) {
        self.shared.backlog.store(false, Ordering::SeqCst);
        let mut ids: Vec<String> =
            self.shared.spool.waiting_ids().into_iter().filter(|id| !self.queued_ids.contains(id)).collect();
        let room = self.capacity() - self.pending.len();
        if ids.len() > room {
            ids.truncate(room);
            self.shared.backlog.store(true, Ordering::SeqCst);
        }
        if ids.is_empty() {
            return;
        }
        let shared = self.shared.clone();
        let loaded = tokio::task::spawn_blocking(move || read_spooled(&shared, ids)).await;
        match loaded {
            Ok(games) => games.into_iter().for_each(|(record, compressed)| self.accept(record, compressed)),
            Err(e) => tracing::error!(error = %e, "reading the archive spool failed"),
        }
    }

    /// Writes the next batch to the sink; on success the games leave the spool.
    async fn deliver_batch(&mut self) -> Result<usize, ArchiveError> {
        let count = self.pending.len().min(self.config.batch_size);
        if count == 0 {
            return Ok(0);
        }
        let batch = &self.pending.make_contiguous()[..count];
        let compressed = &self.pending_compressed.make_contiguous()[..count];
        let started = std::time::Instant::now();
        let written = self.sink.write_compressed_batch(batch, compressed).await;
        let metrics = &self.shared.metrics;
        metrics.archive_batch_seconds.observe(started.elapsed().as_secs_f64());
        if let Err(e) = written {
            metrics.archive_failures_total.inc();
            let delay = self.backoff.next_delay();
            tracing::warn!(
                backend = self.sink.backend(),
                error = %e,
                games = count,
                retry_in_ms = delay.as_millis() as u64,
                "archive batch failed; its games stay spooled"
            );
            self.retry_at = Some(Instant::now() + delay);
            return Err(e);
        }
        let delivered: Vec<String> = self.pending.drain(..count).map(|record| record.game_id).collect();
        self.pending_compressed.drain(..count);
        for game_id in &delivered {
            self.queued_ids.remove(game_id);
        }
        match self.shared.spool.acknowledge(delivered).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, games = count, "could not record a delivered batch in the spool; it will be delivered again")
            }
            Err(_) => tracing::error!("the archive spool writer stopped"),
        }
        metrics.archive_games_total.inc_by(count as u64);
        self.shared.update_depth_gauge();
        self.backoff.reset();
        self.retry_at = None;
        if self.pending.is_empty() {
            self.oldest_since = None;
        }
        Ok(count)
    }

    /// Delivers every game that was spooled when the flush began.
    async fn flush_all(&mut self) -> Result<FlushReport, ArchiveError> {
        // Games submitted before the flush but still queued for the spool's
        // writer (lazy submits do not wait for it) are written and announced
        // before this empty acknowledgement is answered.
        self.shared.spool.acknowledge(Vec::new()).await.map_err(|_| ArchiveError::Stopped)??;
        let targets: HashSet<String> = self.shared.spool.waiting_ids().into_iter().collect();
        let mut delivered = 0;
        loop {
            if self.has_room() && self.shared.backlog.load(Ordering::SeqCst) {
                self.load_backlog().await;
            }
            while self.has_room() {
                match self.records.try_recv() {
                    Ok((record, compressed)) => self.accept(record, compressed),
                    Err(_) => break,
                }
            }
            let unfinished = targets.iter().any(|id| self.shared.spool.holds(id));
            if !unfinished || self.pending.is_empty() {
                break;
            }
            delivered += self.deliver_batch().await?;
        }
        Ok(FlushReport { delivered, waiting: self.shared.spool.depth() })
    }
}

/// Reads spooled games; unreadable files are quarantined, missing ones
/// (delivered meanwhile) skipped.
fn read_spooled(shared: &Shared, ids: Vec<String>) -> Vec<(GameRecord, Vec<u8>)> {
    let mut records = Vec::with_capacity(ids.len());
    for game_id in ids {
        match shared.spool.read_stored(&game_id) {
            Ok(Some(game)) => records.push(game),
            Ok(None) => {}
            Err(ArchiveError::Corrupt(reason)) => {
                shared.metrics.archive_failures_total.inc();
                match shared.spool.quarantine(&game_id) {
                    Ok(path) => {
                        tracing::error!(game_id, reason, moved_to = %path.display(), "corrupt spooled game quarantined")
                    }
                    Err(e) => {
                        tracing::error!(game_id, reason, error = %e, "corrupt spooled game could not be quarantined")
                    }
                }
                shared.update_depth_gauge();
            }
            Err(e) => tracing::warn!(game_id, error = %e, "could not read a spooled game; it stays spooled"),
        }
    }
    records
}
