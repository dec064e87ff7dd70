//! The crash-safe room journal.
//!
//! Every change a player was told about (room created, seat taken, action
//! accepted, tick) is appended here *before* the player is answered. All
//! rooms share one writer thread and one active segment file; the writer
//! takes whatever has queued up, writes it in one go and syncs once (group
//! commit), then wakes every waiting room. A batch nobody waits for (a
//! `Closed` entry, a tick nobody watches) is written but not synced: the
//! next waited-for batch's sync covers it, and losing it in a crash only
//! means a finished room is rebuilt and archived again (idempotent). On
//! start, [`Journal::open`] reads all segments back, cuts a torn or corrupt
//! tail (and logs what it cut), and returns the rooms that were not closed
//! so the host can rebuild them by replaying their entries.
//!
//! Segments rotate at `segment_bytes`. A room's `Closed` entry is written
//! only once the game is over and its record is durably in the archive
//! spool (or, for a room that never started, once it ended), so a closed
//! room needs no recovery. A segment other than the active one is deleted
//! once every room with entries in it is closed *and* every older segment
//! holding entries of the rooms it closes is gone: deleting the segment
//! with a room's `Closed` entry first would bring the room back on the next
//! start. Deletions go oldest first, each made durable (directory fsync)
//! before the next, so a crash cannot keep an older segment and lose a
//! newer one. [`Segments`] keeps this bookkeeping for the writer and for
//! recovery.

mod format;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

pub use format::Entry;

use arcade_protocol::PluginRef;
use arcade_protocol::seed::Seed;

/// Most entries written in one group commit.
const MAX_BATCH: usize = 4096;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JournalSettings {
    /// Journal accepted actions (turning it off trades crash safety for speed).
    pub enabled: bool,
    /// Sync to disk once per group commit (off: rely on the OS page cache).
    pub fsync: bool,
    /// Rotate segments at this size.
    pub segment_bytes: u64,
    /// When the last group commit held at least `commit_siblings` requests
    /// (many rooms writing), the next one first waits this long for more to
    /// join it: fewer syncs for the same entries, at the cost of this much
    /// latency under load; a lone room never waits (PostgreSQL's
    /// `commit_delay` / `commit_siblings`). 0: never wait.
    pub commit_delay_us: u64,
    pub commit_siblings: usize,
}

impl Default for JournalSettings {
    fn default() -> Self {
        JournalSettings {
            enabled: true,
            fsync: true,
            segment_bytes: 64 << 20,
            commit_delay_us: 1000,
            commit_siblings: 4,
        }
    }
}

#[derive(Clone, Debug, thiserror::Error)]
#[error("journal write failed: {0}")]
pub struct JournalError(String);

/// A room found unfinished in the journal.
#[derive(Debug)]
pub struct RecoveredRoom {
    pub room: String,
    pub plugin: PluginRef,
    pub config: String,
    pub seats: u32,
    pub seed: Seed,
    pub created_at_ms: u64,
    /// A matchmade room's mode.
    pub mode: Option<String>,
    /// Shown in the open-rooms listing.
    pub listed: bool,
    /// Its `Joined`, `Left`, `Action` and `Tick` entries, in order.
    pub log: Vec<Entry>,
}

/// What [`Journal::open`] found.
#[derive(Debug, Default)]
pub struct Recovery {
    pub rooms: Vec<RecoveredRoom>,
    /// Human-readable reports of damaged tails that were cut.
    pub cuts: Vec<String>,
    /// How many of those cuts took entries that had been acknowledged: the
    /// damage was not at the end of the newest segment (valid records
    /// followed it, or a later segment exists), so it is not a write torn
    /// by a crash before its sync but data lost after it.
    pub acknowledged_cuts: usize,
    pub entries_read: usize,
}

/// Runs on the writer thread once a request (and everything queued before
/// it) is on disk, with the outcome of the write.
pub type AfterDurable = Box<dyn FnOnce(Result<(), JournalError>) + Send>;

struct Request {
    /// Framed entry; empty for a barrier (see [`Journal::after_pending`]).
    bytes: Vec<u8>,
    room: String,
    closes: bool,
    done: Option<AfterDurable>,
}

/// A handle to the journal writer; cheap to clone.
#[derive(Clone)]
pub struct Journal {
    requests: mpsc::UnboundedSender<Request>,
}

impl Journal {
    /// Recover the journal in `dir` and start the writer on a new segment.
    pub fn open(dir: &Path, config: &JournalSettings) -> std::io::Result<(Journal, Recovery)> {
        std::fs::create_dir_all(dir)?;
        let (recovery, mut segments) = recover(dir)?;
        let next_id = segments.newest().map_or(1, |id| id + 1);
        segments.start(next_id);
        let mut writer = Writer {
            dir: dir.to_path_buf(),
            fsync: config.fsync,
            segment_bytes: config.segment_bytes,
            commit_delay: Duration::from_micros(config.commit_delay_us),
            commit_siblings: config.commit_siblings,
            active_id: next_id,
            active: open_segment(dir, next_id)?,
            active_size: format::HEADER_LEN as u64,
            unsynced: false,
            segments,
        };
        writer.delete_finished_segments();
        let (requests, rx) = mpsc::unbounded_channel();
        std::thread::Builder::new().name("arcade-journal".into()).spawn(move || writer.run(rx))?;
        Ok((Journal { requests }, recovery))
    }

    fn send(&self, entry: &Entry, done: Option<AfterDurable>) -> Result<(), JournalError> {
        let mut bytes = Vec::with_capacity(128);
        format::encode(entry, &mut bytes);
        let request =
            Request { bytes, room: entry.room().to_string(), closes: matches!(entry, Entry::Closed { .. }), done };
        self.requests.send(request).map_err(|_| JournalError("the journal writer stopped".into()))
    }

    /// Append and wait until the entry is on disk (synced, when fsync is on).
    pub async fn append(&self, entry: &Entry) -> Result<(), JournalError> {
        let (done, durable) = oneshot::channel();
        self.send(entry, Some(Box::new(move |result| drop(done.send(result)))))?;
        durable.await.map_err(|_| JournalError("the journal writer stopped".into()))?
    }

    /// Append entries of one room together (one write, one sync) and wait
    /// until all are on disk. Not for `Closed` entries.
    pub async fn append_all(&self, entries: &[Entry]) -> Result<(), JournalError> {
        let Some(first) = entries.first() else { return Ok(()) };
        debug_assert!(entries.iter().all(|e| e.room() == first.room() && !matches!(e, Entry::Closed { .. })));
        let mut bytes = Vec::with_capacity(128 * entries.len());
        for entry in entries {
            format::encode(entry, &mut bytes);
        }
        let (done, durable) = oneshot::channel();
        let request = Request {
            bytes,
            room: first.room().to_string(),
            closes: false,
            done: Some(Box::new(move |result| drop(done.send(result)))),
        };
        self.requests.send(request).map_err(|_| JournalError("the journal writer stopped".into()))?;
        durable.await.map_err(|_| JournalError("the journal writer stopped".into()))?
    }

    /// Append without waiting; `then` runs on the writer thread once the
    /// entry is on disk. Rooms answer players from `then`, so the room task
    /// moves on to its next command while the write is in flight.
    pub fn append_then(&self, entry: &Entry, then: AfterDurable) -> Result<(), JournalError> {
        self.send(entry, Some(then))
    }

    /// Run `then` on the writer thread once everything queued so far is on
    /// disk (no entry is written). Keeps messages to players in journal order.
    pub fn after_pending(&self, then: AfterDurable) {
        let request = Request { bytes: Vec::new(), room: String::new(), closes: false, done: Some(then) };
        if let Err(mpsc::error::SendError(request)) = self.requests.send(request)
            && let Some(then) = request.done
        {
            then(Err(JournalError("the journal writer stopped".into())));
        }
    }

    /// Append without waiting (ticks: nobody is answered for them, and the
    /// single writer keeps them ordered before any later awaited entry).
    pub fn append_later(&self, entry: &Entry) {
        if let Err(e) = self.send(entry, None) {
            tracing::error!(error = %e, "journal append failed");
        }
    }
}

struct Writer {
    dir: PathBuf,
    fsync: bool,
    segment_bytes: u64,
    commit_delay: Duration,
    commit_siblings: usize,
    active_id: u64,
    active: File,
    active_size: u64,
    /// Bytes written to the active segment since its last sync.
    unsynced: bool,
    segments: Segments,
}

/// What each segment on disk still matters for.
#[derive(Debug, Default)]
struct SegmentRooms {
    /// Rooms with entries here that are not closed.
    open: HashSet<String>,
    /// Older segments with entries of rooms this one closes: this one must
    /// outlive them, or those rooms would be recovered as unfinished.
    outlives: BTreeSet<u64>,
}

/// Which segments exist and which rooms keep them, for the writer and for
/// recovery: the same rules whether entries are being written or read back.
#[derive(Debug, Default)]
struct Segments {
    segments: BTreeMap<u64, SegmentRooms>,
    /// Open rooms: the segments they have entries in, ascending.
    rooms: HashMap<String, Vec<u64>>,
}

impl Segments {
    fn start(&mut self, id: u64) {
        self.segments.entry(id).or_default();
    }

    fn newest(&self) -> Option<u64> {
        self.segments.keys().next_back().copied()
    }

    /// An entry (not `Closed`) of `room` is in segment `id`.
    fn wrote(&mut self, id: u64, room: &str) {
        let segment = self.segments.entry(id).or_default();
        if !segment.open.contains(room) {
            segment.open.insert(room.to_string());
            self.rooms.entry(room.to_string()).or_default().push(id);
        }
    }

    /// `room`'s `Closed` entry is in segment `id`.
    fn closed(&mut self, id: u64, room: &str) {
        let Some(written) = self.rooms.remove(room) else { return };
        for older in written {
            if let Some(segment) = self.segments.get_mut(&older) {
                segment.open.remove(room);
            }
            if older != id {
                self.segments.entry(id).or_default().outlives.insert(older);
            }
        }
    }

    /// Segments that may be deleted now, oldest first, assuming each is
    /// deleted before the next is considered.
    fn deletable(&self, active: u64) -> Vec<u64> {
        let mut deleted = Vec::new();
        for (&id, segment) in &self.segments {
            let older_gone = || segment.outlives.iter().all(|o| !self.segments.contains_key(o) || deleted.contains(o));
            if id != active && segment.open.is_empty() && older_gone() {
                deleted.push(id);
            }
        }
        deleted
    }

    fn remove(&mut self, id: u64) {
        self.segments.remove(&id);
    }
}

impl Writer {
    fn run(mut self, mut requests: mpsc::UnboundedReceiver<Request>) {
        let mut buffer = Vec::with_capacity(64 << 10);
        let mut previous_batch = 0;
        while let Some(first) = requests.blocking_recv() {
            // Under load (many rooms in the last group commit) wait a moment
            // for more to join this one (see `JournalSettings::commit_delay_us`).
            if self.fsync && self.commit_delay > Duration::ZERO && previous_batch >= self.commit_siblings {
                std::thread::sleep(self.commit_delay);
            }
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match requests.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            previous_batch = batch.len();
            buffer.clear();
            for request in &batch {
                buffer.extend_from_slice(&request.bytes);
            }
            // Only a waiter needs the sync: a batch of entries nobody waits
            // for (`Closed`, ticks nobody watches) rides the next sync.
            let someone_waits = batch.iter().any(|request| request.done.is_some());
            let result = self
                .active
                .write_all(&buffer)
                .and_then(|()| {
                    self.unsynced = true;
                    if someone_waits { self.sync() } else { Ok(()) }
                })
                .map_err(|e| JournalError(e.to_string()));
            if let Err(e) = &result {
                tracing::error!(error = %e, "journal write failed");
            }
            self.active_size += buffer.len() as u64;
            let mut closed_any = false;
            for request in &batch {
                if request.bytes.is_empty() {
                    continue; // a barrier
                }
                if request.closes {
                    closed_any = true;
                    self.segments.closed(self.active_id, &request.room);
                } else {
                    self.segments.wrote(self.active_id, &request.room);
                }
            }
            if self.active_size >= self.segment_bytes {
                self.rotate();
            }
            if closed_any {
                self.delete_finished_segments();
            }
            for request in batch {
                if let Some(done) = request.done {
                    done(result.clone());
                }
            }
        }
        if let Err(e) = self.sync() {
            tracing::error!(error = %e, "journal sync at shutdown failed");
        }
    }

    /// Make everything written so far durable (when fsync is on).
    fn sync(&mut self) -> std::io::Result<()> {
        if self.fsync && self.unsynced {
            self.active.sync_data()?;
        }
        self.unsynced = false;
        Ok(())
    }

    fn rotate(&mut self) {
        if let Err(e) = self.sync() {
            tracing::error!(error = %e, "journal sync before rotation failed");
        }
        let id = self.active_id + 1;
        match open_segment(&self.dir, id) {
            Ok(file) => {
                self.active = file;
                self.active_id = id;
                self.active_size = format::HEADER_LEN as u64;
                self.segments.start(id);
            }
            Err(e) => tracing::error!(error = %e, "journal rotation failed; continuing in the current segment"),
        }
    }

    /// Delete the segments nothing needs any more (see the module docs),
    /// oldest first, each durably before the next. A segment that cannot be
    /// deleted stays known (and so keeps the newer ones that must outlive
    /// it); the next pass tries again.
    fn delete_finished_segments(&mut self) {
        let deletable = self.segments.deletable(self.active_id);
        // The `Closed` entries that free these segments must be on disk
        // before the rooms' other entries go.
        if !deletable.is_empty()
            && let Err(e) = self.sync()
        {
            tracing::warn!(error = %e, "journal sync before deleting segments failed");
            return;
        }
        for id in deletable {
            let removed = std::fs::remove_file(segment_path(&self.dir, id))
                .or_else(|e| if e.kind() == std::io::ErrorKind::NotFound { Ok(()) } else { Err(e) })
                .and_then(|()| if self.fsync { File::open(&self.dir)?.sync_all() } else { Ok(()) });
            if let Err(e) = removed {
                tracing::warn!(segment = id, error = %e, "could not delete a finished journal segment");
                return;
            }
            self.segments.remove(id);
            tracing::debug!(segment = id, "deleted a finished journal segment");
        }
    }
}

fn segment_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:016}.journal"))
}

fn open_segment(dir: &Path, id: u64) -> std::io::Result<File> {
    let mut file = OpenOptions::new().create_new(true).append(true).open(segment_path(dir, id))?;
    file.write_all(&format::header())?;
    file.sync_all()?;
    File::open(dir)?.sync_all()?; // make the new directory entry durable
    Ok(file)
}

/// Read every segment in order; cut damaged tails; group unfinished rooms.
fn recover(dir: &Path) -> std::io::Result<(Recovery, Segments)> {
    let mut ids: Vec<u64> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_suffix(".journal")?.parse().ok()
        })
        .collect();
    ids.sort_unstable();

    let mut recovery = Recovery::default();
    let mut rooms: BTreeMap<String, RecoveredRoom> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut closed: HashSet<String> = HashSet::new();
    let mut segments = Segments::default();
    for &id in &ids {
        let path = segment_path(dir, id);
        let bytes = std::fs::read(&path)?;
        let (entries, damage) = format::decode(&bytes);
        if let Some((offset, why)) = damage {
            let report = format!(
                "segment {}: cut {} bytes at offset {offset} ({why}); kept {} entries",
                path.display(),
                bytes.len() - offset,
                entries.len()
            );
            let newest = Some(&id) == ids.last();
            if !newest || format::valid_record_after(&bytes, offset).is_some() {
                tracing::error!("{report}: acknowledged entries were lost (damage before the end of the journal)");
                recovery.acknowledged_cuts += 1;
            } else {
                tracing::warn!("{report}: a write torn before it was synced (never acknowledged)");
            }
            recovery.cuts.push(report);
            if offset == 0 {
                std::fs::rename(&path, path.with_extension("corrupt"))?;
                continue;
            }
            let file = OpenOptions::new().write(true).open(&path)?;
            file.set_len(offset as u64)?;
            file.sync_all()?;
        }
        recovery.entries_read += entries.len();
        segments.start(id);
        for entry in entries {
            let room = entry.room().to_string();
            match entry {
                Entry::Created { room, plugin, config, seats, seed, at_ms, mode, listed } => {
                    order.push(room.clone());
                    rooms.insert(
                        room.clone(),
                        RecoveredRoom {
                            room,
                            plugin,
                            config,
                            seats,
                            seed,
                            created_at_ms: at_ms,
                            mode,
                            listed,
                            log: Vec::new(),
                        },
                    );
                }
                Entry::Closed { room } => {
                    segments.closed(id, &room);
                    closed.insert(room);
                    continue;
                }
                other => match rooms.get_mut(&room) {
                    Some(r) => r.log.push(other),
                    None => {
                        // Never recovered, so never closed: it keeps no segment.
                        tracing::warn!(%room, "journal entry for a room without a creation entry; ignored");
                        continue;
                    }
                },
            }
            segments.wrote(id, &room);
        }
    }
    recovery.rooms = order.into_iter().filter(|r| !closed.contains(r)).filter_map(|r| rooms.remove(&r)).collect();
    Ok((recovery, segments))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created(room: &str) -> Entry {
        Entry::Created {
            room: room.into(),
            plugin: PluginRef { name: "g".into(), version: "1.0.0".into(), hash: "h".into() },
            config: "{}".into(),
            seats: 2,
            seed: Seed::from_test_number(7),
            at_ms: 1,
            mode: None,
            listed: false,
        }
    }

    fn action(room: &str, seq: u64) -> Entry {
        Entry::Action { room: room.into(), seq, player: "ann".into(), action: "{}".into(), at_ms: seq }
    }

    fn config() -> JournalSettings {
        JournalSettings { fsync: false, segment_bytes: 1 << 20, ..JournalSettings::default() }
    }

    #[tokio::test]
    async fn entries_appended_together_are_recovered_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let joined = |player: &str| Entry::Joined {
            room: "a".into(),
            player: player.into(),
            name: String::new(),
            token: "t".into(),
            at_ms: 5,
        };
        {
            let (journal, _) = Journal::open(dir.path(), &config()).unwrap();
            journal.append_all(&[created("a"), joined("ann"), joined("bob")]).await.unwrap();
            journal.append(&action("a", 1)).await.unwrap();
        }
        let (_journal, recovery) = Journal::open(dir.path(), &config()).unwrap();
        assert_eq!(recovery.rooms.len(), 1);
        assert_eq!(recovery.rooms[0].log, vec![joined("ann"), joined("bob"), action("a", 1)]);
    }

    #[tokio::test]
    async fn reopening_returns_open_rooms_only() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (journal, recovery) = Journal::open(dir.path(), &config()).unwrap();
            assert!(recovery.rooms.is_empty());
            for e in [created("a"), created("b"), action("a", 1), action("b", 1), Entry::Closed { room: "b".into() }] {
                journal.append(&e).await.unwrap();
            }
        }
        let (_journal, recovery) = Journal::open(dir.path(), &config()).unwrap();
        assert_eq!(recovery.rooms.len(), 1);
        assert_eq!(recovery.rooms[0].room, "a");
        assert_eq!(recovery.rooms[0].log, vec![action("a", 1)]);
        assert!(recovery.cuts.is_empty());
    }

    #[tokio::test]
    async fn an_entry_nobody_waits_for_is_written_and_recovered() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (journal, _) = Journal::open(dir.path(), &JournalSettings { fsync: true, ..config() }).unwrap();
            journal.append(&created("a")).await.unwrap();
            journal.append(&created("b")).await.unwrap();
            journal.append_later(&closed("a")); // written with no sync of its own
            let (done, written) = oneshot::channel();
            journal.after_pending(Box::new(move |result| drop(done.send(result))));
            written.await.unwrap().unwrap();
        }
        let (_journal, recovery) = Journal::open(dir.path(), &config()).unwrap();
        assert_eq!(room_names(&recovery), ["b"]);
    }

    #[tokio::test]
    async fn segments_of_closed_rooms_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let small = JournalSettings { segment_bytes: 200, ..config() };
        let (journal, _) = Journal::open(dir.path(), &small).unwrap();
        journal.append(&created("a")).await.unwrap();
        for seq in 1..20 {
            journal.append(&action("a", seq)).await.unwrap();
        }
        let count = || std::fs::read_dir(dir.path()).unwrap().count();
        assert!(count() > 3, "rotation should have produced several segments");
        journal.append(&Entry::Closed { room: "a".into() }).await.unwrap();
        assert_eq!(count(), 1, "only the active segment is left");
    }

    fn segment_ids(dir: &Path) -> Vec<u64> {
        let mut ids: Vec<u64> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.unwrap().file_name().into_string().unwrap().strip_suffix(".journal")?.parse().ok())
            .collect();
        ids.sort_unstable();
        ids
    }

    fn closed(room: &str) -> Entry {
        Entry::Closed { room: room.into() }
    }

    fn room_names(recovery: &Recovery) -> Vec<&str> {
        recovery.rooms.iter().map(|r| r.room.as_str()).collect()
    }

    /// Segment 1 holds a live room and a room that later closes in segment
    /// 2; segment 2 also holds a third room that closes in segment 3.
    /// Returns the journal directory and the writer, with segment 3 active.
    async fn live_room_beside_closed_ones() -> (tempfile::TempDir, Journal) {
        let dir = tempfile::tempdir().unwrap();
        let encoded = |entries: &[Entry]| {
            let mut bytes = Vec::new();
            entries.iter().for_each(|e| format::encode(e, &mut bytes));
            bytes.len() as u64
        };
        // Segment 1 rotates right after the live room and the closing room are created.
        let segment_bytes = format::HEADER_LEN as u64 + encoded(&[created("live"), created("done")]);
        let (journal, _) = Journal::open(dir.path(), &JournalSettings { segment_bytes, ..config() }).unwrap();
        journal.append(&created("live")).await.unwrap();
        journal.append(&created("done")).await.unwrap();
        assert_eq!(segment_ids(dir.path()), [1, 2]);
        journal.append(&closed("done")).await.unwrap();
        journal.append(&created("next")).await.unwrap();
        let mut seq = 0;
        while segment_ids(dir.path()).len() < 3 {
            seq += 1;
            journal.append(&action("next", seq)).await.unwrap();
        }
        journal.append(&closed("next")).await.unwrap();
        (dir, journal)
    }

    #[tokio::test]
    async fn a_segment_closing_a_room_is_kept_while_an_older_segment_holds_that_rooms_entries() {
        let (dir, journal) = live_room_beside_closed_ones().await;
        // Segment 2's rooms are all closed, but it holds the closing entry of
        // "done", whose creation is in segment 1 (kept for "live"): deleting
        // segment 2 would bring "done" back on the next start.
        assert_eq!(segment_ids(dir.path()), [1, 2, 3]);
        drop(journal);
        let (journal, recovery) = Journal::open(dir.path(), &config()).unwrap();
        assert_eq!(room_names(&recovery), ["live"]);
        assert_eq!(segment_ids(dir.path()), [1, 2, 3, 4], "segment 3 closes a room that began in segment 2");

        // Once the live room closes, every segment but the active one goes.
        journal.append(&closed("live")).await.unwrap();
        assert_eq!(segment_ids(dir.path()), [4]);
        drop(journal);
        let (_journal, recovery) = Journal::open(dir.path(), &config()).unwrap();
        assert!(recovery.rooms.is_empty(), "{:?}", room_names(&recovery));
    }

    #[tokio::test]
    async fn closed_segments_of_finished_rooms_are_removed_and_live_rooms_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let small = JournalSettings { segment_bytes: 1, ..config() }; // every write rotates
        {
            let (journal, _) = Journal::open(dir.path(), &small).unwrap();
            journal.append_all(&[created("live"), action("live", 1)]).await.unwrap(); // segment 1
            journal.append(&created("done")).await.unwrap(); // 2
            journal.append(&action("done", 1)).await.unwrap(); // 3
            journal.append(&action("live", 2)).await.unwrap(); // 4
            assert_eq!(segment_ids(dir.path()), [1, 2, 3, 4, 5]);
            journal.append(&closed("done")).await.unwrap(); // 5, closing "done": 2, 3 and 5 go
            assert_eq!(segment_ids(dir.path()), [1, 4, 6], "segments with a live room stay, and the active one");
        }
        let (journal, recovery) = Journal::open(dir.path(), &small).unwrap();
        assert_eq!(room_names(&recovery), ["live"]);
        assert_eq!(recovery.rooms[0].log, vec![action("live", 1), action("live", 2)]);
        assert_eq!(segment_ids(dir.path()), [1, 4, 7], "the reopened writer starts segment 7; 6 held nothing");
        journal.append(&action("live", 3)).await.unwrap(); // 7
        drop(journal);
        let (_journal, recovery) = Journal::open(dir.path(), &small).unwrap();
        assert_eq!(recovery.rooms[0].log, vec![action("live", 1), action("live", 2), action("live", 3)]);
    }

    #[tokio::test]
    async fn torn_tail_is_cut_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (journal, _) = Journal::open(dir.path(), &config()).unwrap();
            journal.append(&created("a")).await.unwrap();
            journal.append(&action("a", 1)).await.unwrap();
        }
        let segment = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
        let mut file = OpenOptions::new().append(true).open(&segment).unwrap();
        file.write_all(&[200, 0, 0, 0, 1, 2]).unwrap(); // a record header cut short
        drop(file);
        let (_journal, recovery) = Journal::open(dir.path(), &config()).unwrap();
        assert_eq!(recovery.rooms[0].log, vec![action("a", 1)]);
        assert_eq!(recovery.cuts.len(), 1, "{:?}", recovery.cuts);
        assert!(recovery.cuts[0].contains("cut 6 bytes"), "{}", recovery.cuts[0]);
    }
}
