//! The archiver's local spool: an append-only log of finished games in
//! segment files (`<id:016>.spool`, framing in [`super::segment`]), written
//! by one writer thread with group commit: every game submitted while the
//! previous write was in flight goes out in one write and one `fdatasync`,
//! and each `put` resolves once its game is on disk. A `put_lazily` (a
//! room whose journal keeps the game meanwhile) is written with the next
//! group commit but synced only within [`LAZY_SYNC_INTERVAL`], or sooner by
//! another put's sync: under load one sync covers the games of many rooms
//! instead of one each. A game's frame is
//! `b'G' | id length (u8) | game id | compressed record`.
//!
//! Delivery is acknowledged in the same log: after the sink confirmed a
//! batch the archiver appends one ack frame (`b'A'`, then each game id as
//! `length (u8) | id`), synced by whatever sync comes next: an ack lost in
//! a crash only means its games are delivered again. On open every segment
//! is read back in order (a torn tail is cut and logged), games without an
//! ack are waiting again and are re-delivered (at least once; sinks are
//! idempotent by game id).
//!
//! Segments rotate at `segment_bytes`. A segment is deleted once it and
//! every older segment hold no waiting game (acks only ever follow the games
//! they name, so deleting oldest-first never loses an ack that still
//! matters); when no game waits at all, every segment is deleted and the
//! active one is emptied back to its header, so a spool that keeps up
//! creates no file at all. The size bound counts the compressed bytes of
//! waiting games; a full spool refuses new ones. A game whose stored record
//! does not decode is copied to `corrupt/<game_id>.json.zst` and
//! acknowledged, so it never blocks delivery.
//!
//! Files of the old layout (one `<game_id>.json.zst` per game) found on
//! open are moved into the log once and removed.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

use super::ArchiveError;
use super::durable_file::{remove_temp_files, write_atomic};
use super::keys::{game_id_of_file_name, record_file_name, validate_game_id};
use super::record::GameRecord;
use super::segment::{self, Appender, FrameAt, HEADER_LEN, Kind};

const CORRUPT_DIR: &str = "corrupt";
const KIND: Kind = Kind { magic: *b"ARCS", version: 1, extension: "spool" };
const GAME: u8 = b'G';
const ACK: u8 = b'A';
/// Most requests written in one group commit.
const MAX_BATCH: usize = 4096;
/// Segment size at which the writer moves to a new segment.
pub const DEFAULT_SEGMENT_BYTES: u64 = 8 << 20;
/// Longest a lazily put game waits for its sync.
pub const LAZY_SYNC_INTERVAL: std::time::Duration = std::time::Duration::from_millis(50);

/// Called on the writer thread with each game, and its compressed record
/// as `put` got it, once it is durable.
pub type OnDurable = Box<dyn Fn(GameRecord, Vec<u8>) + Send>;

pub struct Spool {
    dir: PathBuf,
    limit_bytes: u64,
    state: Arc<Mutex<State>>,
    requests: mpsc::Sender<Request>,
    recovery: Recovery,
}

/// What opening the spool found and repaired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Games waiting from a previous run.
    pub waiting: usize,
    /// Torn or damaged tails cut, and bytes cut.
    pub cuts: usize,
    pub cut_bytes: u64,
    /// Cuts that took acknowledged data (damage before the end of the log).
    pub acknowledged_cuts: usize,
    /// Games imported from the one-file-per-game layout.
    pub imported_files: usize,
}

#[derive(Default)]
struct State {
    entries: HashMap<String, Entry>,
    used_bytes: u64,
    segments: BTreeMap<u64, SegmentState>,
}

struct SegmentState {
    /// Games in this segment not yet acknowledged.
    waiting: usize,
    reader: Arc<File>,
}

struct Entry {
    /// Compressed record bytes (what the size bound counts).
    bytes: u64,
    /// Where it is stored; `None` while it is being written.
    at: Option<Location>,
}

#[derive(Clone, Copy)]
struct Location {
    segment: u64,
    frame: FrameAt,
}

/// Runs on the writer thread once a lazily put game is on disk (synced),
/// with the outcome.
pub type AfterSync = Box<dyn FnOnce(Result<(), ArchiveError>) + Send>;

/// Who hears about a put, and when.
enum PutDone {
    /// Synced with this group commit; the caller waits.
    Now(oneshot::Sender<Result<(), ArchiveError>>),
    /// Written now, synced within [`LAZY_SYNC_INTERVAL`] (or by an earlier
    /// sync someone else needs); the callback runs then.
    Lazily(AfterSync),
}

enum Request {
    Put {
        game_id: String,
        record: Box<GameRecord>,
        compressed: Vec<u8>,
        done: PutDone,
    },
    /// Written, never synced on its own: a lost ack only means the game is
    /// delivered again (sinks are idempotent).
    Ack {
        ids: Vec<String>,
        done: oneshot::Sender<Result<(), ArchiveError>>,
    },
}

impl Request {
    fn needs_sync_now(&self) -> bool {
        matches!(self, Request::Put { done: PutDone::Now(_), .. })
    }
}

/// What `Spool::put` did.
pub enum Put {
    /// Being written: resolves once the game is durable (or failed).
    Stored(oneshot::Receiver<Result<(), ArchiveError>>),
    /// The game was already waiting in the spool.
    AlreadySpooled,
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> ArchiveError + '_ {
    move |source| ArchiveError::Io { path: path.to_path_buf(), source }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn encode_game(game_id: &str, compressed: &[u8], out: &mut Vec<u8>) {
    segment::frame_parts(&[&[GAME, game_id.len() as u8], game_id.as_bytes(), compressed], out);
}

fn encode_ack(ids: &[String], out: &mut Vec<u8>) {
    let mut payload = Vec::with_capacity(1 + ids.iter().map(|id| id.len() + 1).sum::<usize>());
    payload.push(ACK);
    for id in ids {
        payload.push(id.len() as u8);
        payload.extend_from_slice(id.as_bytes());
    }
    segment::frame(&payload, out);
}

/// A decoded spool frame.
enum Frame<'a> {
    Game { game_id: &'a str, compressed: &'a [u8] },
    Ack(Vec<&'a str>),
}

/// The length-prefixed game id at `at`, and where it ends.
fn id_at(bytes: &[u8], at: usize) -> Option<(&str, usize)> {
    let len = *bytes.get(at)? as usize;
    let id = std::str::from_utf8(bytes.get(at + 1..at + 1 + len)?).ok()?;
    validate_game_id(id).ok()?;
    Some((id, at + 1 + len))
}

fn decode(payload: &[u8]) -> Option<Frame<'_>> {
    match *payload.first()? {
        GAME => {
            let (game_id, end) = id_at(payload, 1)?;
            Some(Frame::Game { game_id, compressed: &payload[end..] })
        }
        ACK => {
            let mut ids = Vec::new();
            let mut at = 1;
            while at < payload.len() {
                let (id, next) = id_at(payload, at)?;
                ids.push(id);
                at = next;
            }
            Some(Frame::Ack(ids))
        }
        _ => None,
    }
}

impl Spool {
    /// Opens (creating if needed) the spool directory, reads its log back
    /// and starts the writer thread, which calls `on_durable` with every
    /// game `put` stores, once it is on disk.
    pub fn open(dir: impl Into<PathBuf>, limit_bytes: u64, on_durable: OnDurable) -> Result<Spool, ArchiveError> {
        Spool::open_with(dir, limit_bytes, DEFAULT_SEGMENT_BYTES, on_durable)
    }

    pub fn open_with(
        dir: impl Into<PathBuf>,
        limit_bytes: u64,
        segment_bytes: u64,
        on_durable: OnDurable,
    ) -> Result<Spool, ArchiveError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        remove_temp_files(&dir).map_err(io_error(&dir))?;
        let (mut state, mut recovery) = recover(&dir)?;
        let next_id = state.segments.keys().next_back().map_or(1, |id| id + 1);
        let mut active = Appender::create(&KIND, &dir, next_id).map_err(io_error(&KIND.path(&dir, next_id)))?;
        let reader = Arc::new(active.reader().map_err(io_error(&dir))?);
        state.segments.insert(next_id, SegmentState { waiting: 0, reader });
        recovery.imported_files = import_old_files(&dir, &mut state, &mut active)?;
        recovery.waiting = state.entries.len();
        let state = Arc::new(Mutex::new(state));
        let (requests, rx) = mpsc::channel();
        let mut writer = Writer {
            dir: dir.clone(),
            segment_bytes,
            active,
            broken: false,
            state: state.clone(),
            on_durable,
            unsynced_since: None,
            waiting_for_sync: Vec::new(),
        };
        writer.release_finished_segments();
        std::thread::Builder::new()
            .name("arcade-spool".into())
            .spawn(move || writer.run(rx))
            .map_err(io_error(&dir))?;
        Ok(Spool { dir, limit_bytes, state, requests, recovery })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// Games waiting (including ones being written).
    pub fn depth(&self) -> usize {
        self.state().entries.len()
    }

    pub fn used_bytes(&self) -> u64 {
        self.state().used_bytes
    }

    /// Whether the game waits in the spool, durably.
    pub fn holds(&self, game_id: &str) -> bool {
        self.state().entries.get(game_id).is_some_and(|e| e.at.is_some())
    }

    /// Ids of the games durably waiting, oldest first.
    pub fn waiting_ids(&self) -> Vec<String> {
        let state = self.state();
        let mut waiting: Vec<(u64, u64, &String)> =
            state.entries.iter().filter_map(|(id, e)| e.at.map(|at| (at.segment, at.frame.offset, id))).collect();
        waiting.sort_unstable();
        waiting.into_iter().map(|(_, _, id)| id.clone()).collect()
    }

    /// Queues a game's compressed record for the next group commit, unless
    /// it is already spooled; fails with `SpoolFull` when it does not fit.
    pub fn put(&self, record: GameRecord, compressed: Vec<u8>) -> Result<Put, ArchiveError> {
        let (done, durable) = oneshot::channel();
        Ok(match self.enqueue(record, compressed, PutDone::Now(done))? {
            None => Put::Stored(durable),
            Some(_) => Put::AlreadySpooled,
        })
    }

    /// Queues a game without waiting for a sync of its own: it is written
    /// with the next group commit and synced within [`LAZY_SYNC_INTERVAL`]
    /// (sooner when a [`Spool::put`] syncs); `then` runs on the writer
    /// thread once it is on disk, at once when the game was already
    /// spooled. For callers that keep the game safe elsewhere meanwhile (the
    /// room journal). Fails with `SpoolFull` when it does not fit.
    pub fn put_lazily(&self, record: GameRecord, compressed: Vec<u8>, then: AfterSync) -> Result<(), ArchiveError> {
        if let Some(PutDone::Lazily(then)) = self.enqueue(record, compressed, PutDone::Lazily(then))? {
            then(Ok(()));
        }
        Ok(())
    }

    /// Queues a put; gives `done` back when the game is already spooled.
    fn enqueue(&self, record: GameRecord, compressed: Vec<u8>, done: PutDone) -> Result<Option<PutDone>, ArchiveError> {
        let bytes = compressed.len() as u64;
        let game_id = record.game_id.clone();
        {
            let mut state = self.state();
            if state.entries.contains_key(&game_id) {
                return Ok(Some(done));
            }
            if state.used_bytes + bytes > self.limit_bytes {
                return Err(ArchiveError::SpoolFull { used: state.used_bytes, limit: self.limit_bytes });
            }
            state.used_bytes += bytes;
            state.entries.insert(game_id.clone(), Entry { bytes, at: None });
        }
        let request = Request::Put { game_id: game_id.clone(), record: Box::new(record), compressed, done };
        if self.requests.send(request).is_err() {
            let mut state = self.state();
            state.entries.remove(&game_id);
            state.used_bytes -= bytes;
            return Err(ArchiveError::Stopped);
        }
        Ok(None)
    }

    /// Reads a waiting game. `Ok(None)` when it is no longer spooled.
    pub fn read(&self, game_id: &str) -> Result<Option<GameRecord>, ArchiveError> {
        Ok(self.read_stored(game_id)?.map(|(record, _)| record))
    }

    /// Reads a waiting game and its compressed record as spooled.
    pub fn read_stored(&self, game_id: &str) -> Result<Option<(GameRecord, Vec<u8>)>, ArchiveError> {
        let Some((at, reader)) = self.locate(game_id) else { return Ok(None) };
        let payload = match segment::read_frame(&reader, at.frame) {
            Ok(payload) => payload,
            Err(_) if !self.holds(game_id) => return Ok(None),
            Err(e) => return Err(ArchiveError::Corrupt(format!("spooled game {game_id:?}: {e}"))),
        };
        match decode(&payload) {
            Some(Frame::Game { game_id: stored, compressed }) if stored == game_id => {
                Ok(Some((GameRecord::from_compressed(compressed)?, compressed.to_vec())))
            }
            _ => Err(ArchiveError::Corrupt(format!("spooled game {game_id:?}: its frame holds something else"))),
        }
    }

    fn locate(&self, game_id: &str) -> Option<(Location, Arc<File>)> {
        let state = self.state();
        let at = state.entries.get(game_id)?.at?;
        Some((at, state.segments.get(&at.segment)?.reader.clone()))
    }

    /// Records that the sink has these games; resolves once the ack is on
    /// disk. Ids no longer waiting are ignored (at-least-once).
    pub fn acknowledge(&self, ids: Vec<String>) -> oneshot::Receiver<Result<(), ArchiveError>> {
        let (done, acked) = oneshot::channel();
        if let Err(mpsc::SendError(Request::Ack { done, .. })) = self.requests.send(Request::Ack { ids, done }) {
            let _ = done.send(Err(ArchiveError::Stopped));
        }
        acked
    }

    /// Copies an unreadable game's stored bytes to `corrupt/` and
    /// acknowledges it, so it leaves the log. Call from a blocking context.
    pub fn quarantine(&self, game_id: &str) -> Result<PathBuf, ArchiveError> {
        let corrupt_dir = self.dir.join(CORRUPT_DIR);
        fs::create_dir_all(&corrupt_dir).map_err(io_error(&corrupt_dir))?;
        let target = corrupt_dir.join(record_file_name(game_id));
        let bytes = match self.locate(game_id) {
            Some((at, reader)) => {
                let mut bytes = vec![0u8; at.frame.len as usize];
                reader.read_exact_at(&mut bytes, at.frame.offset).map(|()| bytes).unwrap_or_default()
            }
            None => return Ok(target),
        };
        let stored = decode(bytes.get(segment::FRAME_LEN..).unwrap_or_default())
            .and_then(|frame| match frame {
                Frame::Game { compressed, .. } => Some(compressed.to_vec()),
                Frame::Ack(_) => None,
            })
            .unwrap_or(bytes);
        write_atomic(&target, &stored).map_err(io_error(&target))?;
        self.acknowledge(vec![game_id.to_string()]).blocking_recv().map_err(|_| ArchiveError::Stopped)??;
        Ok(target)
    }
}

/// Reads every segment in order; cuts damaged tails; returns the games not
/// acknowledged.
fn recover(dir: &Path) -> Result<(State, Recovery), ArchiveError> {
    let ids = KIND.list(dir).map_err(io_error(dir))?;
    let mut state = State::default();
    let mut recovery = Recovery::default();
    for &id in &ids {
        let path = KIND.path(dir, id);
        let bytes = fs::read(&path).map_err(io_error(&path))?;
        let (frames, damage) = segment::scan(&KIND, &bytes, 0);
        if let Some((offset, why)) = damage {
            let newest = Some(&id) == ids.last();
            let report = format!(
                "spool segment {}: cut {} bytes at offset {offset} ({why}); kept {} frames",
                path.display(),
                bytes.len() as u64 - offset,
                frames.len()
            );
            if !newest || segment::valid_frame_after(&bytes, 0, offset) {
                tracing::error!("{report}: acknowledged games were lost (damage before the end of the spool)");
                recovery.acknowledged_cuts += 1;
            } else {
                tracing::warn!("{report}: a write torn before it was synced (never acknowledged)");
            }
            recovery.cuts += 1;
            recovery.cut_bytes += bytes.len() as u64 - offset;
            if offset == 0 {
                fs::rename(&path, path.with_extension("corrupt")).map_err(io_error(&path))?;
                continue;
            }
            segment::truncate(&path, offset).map_err(io_error(&path))?;
        }
        let reader = Arc::new(File::open(&path).map_err(io_error(&path))?);
        state.segments.insert(id, SegmentState { waiting: 0, reader });
        for frame in frames {
            match decode(frame.payload(&bytes, 0)) {
                Some(Frame::Game { game_id, compressed }) => {
                    if state.entries.contains_key(game_id) {
                        continue;
                    }
                    let at = Location { segment: id, frame };
                    state.entries.insert(game_id.to_string(), Entry { bytes: compressed.len() as u64, at: Some(at) });
                    state.used_bytes += compressed.len() as u64;
                    state.segments.get_mut(&id).expect("inserted above").waiting += 1;
                }
                Some(Frame::Ack(acked)) => acked.into_iter().for_each(|game_id| forget(&mut state, game_id)),
                None => {
                    tracing::warn!(segment = %path.display(), offset = frame.offset, "unknown spool frame; skipped")
                }
            }
        }
    }
    Ok((state, recovery))
}

/// Drops an acknowledged game from the in-memory state.
fn forget(state: &mut State, game_id: &str) {
    let Some(at) = state.entries.get(game_id).and_then(|e| e.at) else { return };
    let entry = state.entries.remove(game_id).expect("looked up above");
    state.used_bytes -= entry.bytes;
    if let Some(segment) = state.segments.get_mut(&at.segment) {
        segment.waiting -= 1;
    }
}

/// Moves `<game_id>.json.zst` files of the old layout into the active
/// segment (one write, one sync), then removes them.
fn import_old_files(dir: &Path, state: &mut State, active: &mut Appender) -> Result<usize, ArchiveError> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_error(dir))? {
        let entry = entry.map_err(io_error(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(game_id) = game_id_of_file_name(&name) {
            files.push((game_id.to_string(), entry.path()));
        }
    }
    if files.is_empty() {
        return Ok(0);
    }
    let mut buffer = Vec::new();
    let mut frames = Vec::new();
    for (game_id, path) in &files {
        let compressed = fs::read(path).map_err(io_error(path))?;
        if state.entries.contains_key(game_id) {
            continue;
        }
        let start = buffer.len() as u64;
        encode_game(game_id, &compressed, &mut buffer);
        frames.push((game_id.clone(), compressed.len() as u64, start, buffer.len() as u64 - start));
    }
    let path = KIND.path(dir, active.id);
    let base = active.append(&buffer, true).map_err(|e| io_error(&path)(e.source))?;
    let segment = state.segments.get_mut(&active.id).expect("the active segment is known");
    segment.waiting += frames.len();
    for (game_id, bytes, start, len) in frames {
        let frame = FrameAt { offset: base + start, len: len as u32 };
        state.entries.insert(game_id, Entry { bytes, at: Some(Location { segment: active.id, frame }) });
        state.used_bytes += bytes;
    }
    for (_, path) in &files {
        fs::remove_file(path).map_err(io_error(path))?;
    }
    segment::sync_dir(dir).map_err(io_error(dir))?;
    tracing::info!(games = files.len(), spool = %dir.display(), "moved spooled game files into the spool log");
    Ok(files.len())
}

struct Writer {
    dir: PathBuf,
    segment_bytes: u64,
    active: Appender,
    /// A failed write could not be cut off: move to a new segment first.
    broken: bool,
    state: Arc<Mutex<State>>,
    on_durable: OnDurable,
    /// When the first write not yet synced was made.
    unsynced_since: Option<std::time::Instant>,
    /// Lazy puts written but not yet synced.
    waiting_for_sync: Vec<AfterSync>,
}

impl Writer {
    fn run(mut self, requests: mpsc::Receiver<Request>) {
        let mut buffer = Vec::with_capacity(64 << 10);
        loop {
            let next = match self.unsynced_since {
                Some(since) => {
                    let wait = (since + LAZY_SYNC_INTERVAL).saturating_duration_since(std::time::Instant::now());
                    requests.recv_timeout(wait)
                }
                None => requests.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
            };
            let first = match next {
                Ok(request) => request,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.sync_written();
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match requests.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            if self.broken || self.active.len() >= self.segment_bytes {
                self.rotate();
            }
            buffer.clear();
            let mut starts = Vec::with_capacity(batch.len());
            for request in &batch {
                starts.push(buffer.len() as u64);
                match request {
                    Request::Put { game_id, compressed, .. } => encode_game(game_id, compressed, &mut buffer),
                    Request::Ack { ids, .. } if !ids.is_empty() => encode_ack(ids, &mut buffer),
                    Request::Ack { .. } => {}
                }
            }
            starts.push(buffer.len() as u64);
            let sync_now = batch.iter().any(Request::needs_sync_now);
            let written = self.active.append(&buffer, sync_now);
            let segment_id = self.active.id;
            let mut state = lock(&self.state);
            let result = match written {
                Ok(base) => {
                    for (i, request) in batch.iter().enumerate() {
                        match request {
                            Request::Put { game_id, .. } => {
                                let frame =
                                    FrameAt { offset: base + starts[i], len: (starts[i + 1] - starts[i]) as u32 };
                                if let Some(entry) = state.entries.get_mut(game_id) {
                                    entry.at = Some(Location { segment: segment_id, frame });
                                    if let Some(segment) = state.segments.get_mut(&segment_id) {
                                        segment.waiting += 1;
                                    }
                                }
                            }
                            Request::Ack { ids, .. } => ids.iter().for_each(|id| forget(&mut state, id)),
                        }
                    }
                    Ok(())
                }
                Err(e) => {
                    tracing::error!(error = %e.source, "spool write failed");
                    self.broken = e.segment_unusable;
                    for request in &batch {
                        if let Request::Put { game_id, .. } = request
                            && let Some(entry) = state.entries.remove(game_id)
                        {
                            state.used_bytes -= entry.bytes;
                        }
                    }
                    Err((e.source.kind(), e.source.to_string()))
                }
            };
            drop(state);
            if result.is_ok() {
                if sync_now {
                    // This sync covered every lazily written game before it.
                    self.tell_synced(Ok(()));
                } else if !buffer.is_empty() {
                    self.unsynced_since.get_or_insert_with(std::time::Instant::now);
                }
            }
            self.release_finished_segments();
            let path = KIND.path(&self.dir, segment_id);
            for request in batch {
                let outcome = result.clone().map_err(|(kind, message)| ArchiveError::Io {
                    path: path.clone(),
                    source: io::Error::new(kind, message),
                });
                match request {
                    Request::Put { record, compressed, done, .. } => {
                        // Announced before the caller hears back, so a flush
                        // it starts next finds the game.
                        if outcome.is_ok() {
                            (self.on_durable)(*record, compressed);
                        }
                        match done {
                            PutDone::Now(done) => drop(done.send(outcome)),
                            PutDone::Lazily(then) if outcome.is_ok() && !sync_now => {
                                self.unsynced_since.get_or_insert_with(std::time::Instant::now);
                                self.waiting_for_sync.push(then);
                            }
                            PutDone::Lazily(then) => then(outcome),
                        }
                    }
                    Request::Ack { done, .. } => {
                        let _ = done.send(outcome);
                    }
                }
            }
        }
        self.sync_written();
    }

    /// Syncs what was written without a sync and tells the lazy puts waiting for it.
    fn sync_written(&mut self) {
        if self.unsynced_since.is_none() {
            return;
        }
        let synced = self.active.sync();
        if let Err(e) = &synced {
            tracing::error!(error = %e, "spool sync failed");
            self.broken = true;
        }
        self.tell_synced(synced);
    }

    /// Everything written so far was synced (or the sync failed): nothing
    /// is left unsynced, and the lazy puts waiting for it hear the outcome.
    fn tell_synced(&mut self, synced: io::Result<()>) {
        self.unsynced_since = None;
        let path = KIND.path(&self.dir, self.active.id);
        for then in std::mem::take(&mut self.waiting_for_sync) {
            then(
                synced.as_ref().map(|_| ()).map_err(|e| ArchiveError::Io {
                    path: path.clone(),
                    source: io::Error::new(e.kind(), e.to_string()),
                }),
            );
        }
    }

    fn rotate(&mut self) {
        self.sync_written();
        let id = self.active.id + 1;
        let created = Appender::create(&KIND, &self.dir, id).and_then(|a| Ok((a.reader()?, a)));
        match created {
            Ok((reader, appender)) => {
                self.active = appender;
                self.broken = false;
                lock(&self.state).segments.insert(id, SegmentState { waiting: 0, reader: Arc::new(reader) });
            }
            Err(e) => tracing::error!(error = %e, "spool segment rotation failed; continuing in the current segment"),
        }
    }

    /// Deletes segments no waiting game needs: the oldest ones while they
    /// hold none, or all of them (the active one emptied) when none waits.
    fn release_finished_segments(&mut self) {
        let mut state = lock(&self.state);
        let nothing_waits = state.entries.is_empty();
        let mut done = Vec::new();
        for (&id, segment) in &state.segments {
            if id == self.active.id {
                continue;
            }
            if segment.waiting > 0 && !nothing_waits {
                break; // newer segments may hold acks this one's games need
            }
            done.push(id);
        }
        for id in &done {
            state.segments.remove(id);
        }
        drop(state);
        for id in done {
            if let Err(e) = fs::remove_file(KIND.path(&self.dir, id)) {
                tracing::warn!(segment = id, error = %e, "could not delete a delivered spool segment");
            }
        }
        if nothing_waits && self.active.len() > HEADER_LEN as u64 {
            // Every game in it is delivered: nothing is left to sync.
            self.sync_written();
            if let Err(e) = self.active.reset() {
                tracing::warn!(error = %e, "could not empty the delivered spool segment");
                self.broken = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{FinalViews, PluginRef, RECORD_FORMAT_VERSION};
    use arcade_protocol::RoomStatus;
    use arcade_protocol::seed::Seed;

    fn game(id: &str) -> GameRecord {
        GameRecord {
            format_version: RECORD_FORMAT_VERSION,
            game_id: id.into(),
            room_id: "r".into(),
            plugin: PluginRef { name: "tic-tac-toe".into(), version: "1.0.0".into(), hash: "ab".repeat(32) },
            config: "{}".into(),
            players: vec!["ann".into()],
            seed: Seed::SplitMix64(7),
            seat_token_sha256: Default::default(),
            log: vec![],
            events: vec![],
            started_at_ms: 1,
            completed_at_ms: 2,
            mode: None,
            status: RoomStatus::aborted("player_left", "ann left"),
            final_views: FinalViews::default(),
        }
    }

    /// Opens a spool whose durable games land in the returned channel.
    fn open(dir: &Path, limit: u64, segment_bytes: u64) -> (Spool, std::sync::mpsc::Receiver<String>) {
        let (tx, rx) = std::sync::mpsc::channel();
        let tx = Mutex::new(tx);
        let on_durable: OnDurable = Box::new(move |record, _| drop(lock_sender(&tx).send(record.game_id)));
        (Spool::open_with(dir, limit, segment_bytes, on_durable).unwrap(), rx)
    }

    fn lock_sender<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
        m.lock().unwrap()
    }

    fn put(spool: &Spool, id: &str) {
        let record = game(id);
        let compressed = record.to_compressed().unwrap();
        match spool.put(record, compressed).unwrap() {
            Put::Stored(durable) => durable.blocking_recv().unwrap().unwrap(),
            Put::AlreadySpooled => panic!("{id} was spooled already"),
        }
    }

    fn ack(spool: &Spool, ids: &[&str]) {
        spool.acknowledge(ids.iter().map(|s| s.to_string()).collect()).blocking_recv().unwrap().unwrap();
    }

    fn sorted(mut ids: Vec<String>) -> Vec<String> {
        ids.sort();
        ids
    }

    fn segment_files(dir: &Path) -> Vec<u64> {
        KIND.list(dir).unwrap()
    }

    #[test]
    fn group_committed_games_are_announced_bounded_and_readable() {
        let dir = tempfile::tempdir().unwrap();
        let size = game("a").to_compressed().unwrap().len() as u64;
        let (spool, durable) = open(dir.path(), size * 5 / 2, DEFAULT_SEGMENT_BYTES);
        // Submitted together: one group commit.
        let pending: Vec<_> = ["a", "b"]
            .iter()
            .map(|id| match spool.put(game(id), game(id).to_compressed().unwrap()).unwrap() {
                Put::Stored(durable) => durable,
                Put::AlreadySpooled => unreachable!(),
            })
            .collect();
        assert!(matches!(spool.put(game("a"), vec![1]).unwrap(), Put::AlreadySpooled));
        assert!(matches!(spool.put(game("c"), vec![0; size as usize]), Err(ArchiveError::SpoolFull { .. })));
        for p in pending {
            p.blocking_recv().unwrap().unwrap();
        }
        assert_eq!(sorted(vec![durable.recv().unwrap(), durable.recv().unwrap()]), ["a", "b"]);
        assert_eq!((spool.depth(), spool.used_bytes()), (2, 2 * size));
        assert_eq!(spool.read("b").unwrap(), Some(game("b")));
        assert_eq!(spool.waiting_ids(), ["a", "b"], "oldest first");
        assert_eq!(spool.read("zz").unwrap(), None);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "one segment file, no file per game");
    }

    #[test]
    fn games_without_an_ack_are_delivered_again_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (spool, _) = open(dir.path(), 1 << 20, DEFAULT_SEGMENT_BYTES);
            for id in ["a", "b", "c", "d"] {
                put(&spool, id);
            }
            ack(&spool, &["b", "d", "unknown"]);
            assert_eq!(spool.waiting_ids(), ["a", "c"]);
            // Dropped without further acks, like a crash.
        }
        let (spool, _) = open(dir.path(), 1 << 20, DEFAULT_SEGMENT_BYTES);
        assert_eq!(spool.recovery().waiting, 2);
        assert_eq!(spool.waiting_ids(), ["a", "c"]);
        assert_eq!(spool.read("c").unwrap(), Some(game("c")));
        assert_eq!(spool.used_bytes(), 2 * game("a").to_compressed().unwrap().len() as u64);
        // A game delivered and then submitted again waits again.
        ack(&spool, &["a"]);
        put(&spool, "a");
        drop(spool);
        let (spool, _) = open(dir.path(), 1 << 20, DEFAULT_SEGMENT_BYTES);
        assert_eq!(sorted(spool.waiting_ids()), ["a", "c"]);
    }

    #[test]
    fn lazy_puts_are_announced_at_once_and_told_durable_by_the_next_sync() {
        let dir = tempfile::tempdir().unwrap();
        let (told_tx, told) = std::sync::mpsc::channel();
        let lazily = |spool: &Spool, id: &str| {
            let tx = Mutex::new(told_tx.clone());
            let id = id.to_string();
            let record = game(&id);
            let compressed = record.to_compressed().unwrap();
            spool
                .put_lazily(record, compressed, Box::new(move |result| drop(lock_sender(&tx).send((id, result)))))
                .unwrap();
        };
        let wait = std::time::Duration::from_secs(10);
        {
            let (spool, announced) = open(dir.path(), 1 << 20, DEFAULT_SEGMENT_BYTES);
            lazily(&spool, "a");
            // The worker hears of it once it is written, as for any put.
            assert_eq!(announced.recv_timeout(wait).unwrap(), "a");
            // A put that syncs makes the lazy one durable too, and says so first.
            put(&spool, "b");
            let (id, result) = told.try_recv().expect("the sync for b covered a");
            assert_eq!(id, "a");
            result.unwrap();
            // Alone, a lazy put is synced within the interval.
            lazily(&spool, "c");
            let (id, result) = told.recv_timeout(wait).unwrap();
            assert_eq!(id, "c");
            result.unwrap();
            // One already spooled is on disk: told at once.
            lazily(&spool, "a");
            assert_eq!(told.try_recv().unwrap().0, "a");
            assert_eq!(sorted(spool.waiting_ids()), ["a", "b", "c"]);
        }
        let (spool, _) = open(dir.path(), 1 << 20, DEFAULT_SEGMENT_BYTES);
        assert_eq!(sorted(spool.waiting_ids()), ["a", "b", "c"]);
        assert_eq!(spool.read("c").unwrap(), Some(game("c")));
    }

    #[test]
    fn a_torn_tail_is_cut_and_only_the_unsynced_game_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (spool, _) = open(dir.path(), 1 << 20, DEFAULT_SEGMENT_BYTES);
            put(&spool, "a");
            put(&spool, "b");
        }
        let newest = *segment_files(dir.path()).last().unwrap();
        let path = KIND.path(dir.path(), newest);
        let full = fs::metadata(&path).unwrap().len();
        // A write of game "b" torn at a crash (never acknowledged).
        let file = fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(full - 5).unwrap();
        let (spool, _) = open(dir.path(), 1 << 20, DEFAULT_SEGMENT_BYTES);
        let recovery = spool.recovery().clone();
        assert_eq!((recovery.cuts, recovery.acknowledged_cuts, recovery.waiting), (1, 0, 1));
        assert_eq!(spool.waiting_ids(), ["a"]);
        assert_eq!(spool.read("a").unwrap(), Some(game("a")));
        put(&spool, "b");
        drop(spool);

        // Damage in an older segment, with valid data after it: reported as
        // acknowledged games lost; what precedes it survives.
        let (spool, _) = open(dir.path(), 1 << 20, DEFAULT_SEGMENT_BYTES);
        assert_eq!(sorted(spool.waiting_ids()), ["a", "b"]);
        drop(spool);
        let oldest = KIND.path(dir.path(), segment_files(dir.path())[0]);
        let mut bytes = fs::read(&oldest).unwrap();
        let last = bytes.len() - 3;
        bytes[last] ^= 0xff;
        fs::write(&oldest, &bytes).unwrap();
        let (spool, _) = open(dir.path(), 1 << 20, DEFAULT_SEGMENT_BYTES);
        assert_eq!(spool.recovery().acknowledged_cuts, 1);
        assert!(!spool.waiting_ids().is_empty());
    }

    #[test]
    fn delivered_segments_are_deleted_oldest_first_and_an_empty_spool_keeps_one_empty_segment() {
        let dir = tempfile::tempdir().unwrap();
        let size = game("a").to_compressed().unwrap().len() as u64;
        // Every game fills a segment: each put after the first rotates.
        let (spool, _) = open(dir.path(), 1 << 20, size);
        for id in ["a", "b", "c", "d"] {
            put(&spool, id);
        }
        assert_eq!(segment_files(dir.path()).len(), 4);
        // "b" delivered, "a" not: the oldest segment still waits, so nothing goes.
        ack(&spool, &["b"]);
        let before = segment_files(dir.path());
        assert_eq!(before.len(), 5, "four games and the ack: {before:?}");
        // "a" delivered: the segments of "a" and "b" go; "c"'s stays.
        ack(&spool, &["a"]);
        let after = segment_files(dir.path());
        assert_eq!(after, before[2..], "{before:?} → {after:?}");
        ack(&spool, &["c", "d"]);
        let files = segment_files(dir.path());
        assert_eq!(files.len(), 1, "only the active segment is left: {files:?}");
        assert_eq!(fs::metadata(KIND.path(dir.path(), files[0])).unwrap().len(), HEADER_LEN as u64, "and it is empty");
        assert_eq!((spool.depth(), spool.used_bytes()), (0, 0));
        drop(spool);
        let (spool, _) = open(dir.path(), 1 << 20, size);
        assert_eq!(spool.depth(), 0);
        assert_eq!(segment_files(dir.path()).len(), 1, "a restart replaces the empty segment");
    }

    #[test]
    fn old_game_files_are_moved_into_the_log_and_corrupt_games_quarantined() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(record_file_name("old")), game("old").to_compressed().unwrap()).unwrap();
        fs::write(dir.path().join(record_file_name("bad")), b"not a record").unwrap();
        let (spool, _) = open(dir.path(), 1 << 20, DEFAULT_SEGMENT_BYTES);
        assert_eq!(spool.recovery().imported_files, 2);
        assert!(!dir.path().join(record_file_name("old")).exists());
        assert_eq!(spool.read("old").unwrap(), Some(game("old")));
        assert!(matches!(spool.read("bad"), Err(ArchiveError::Corrupt(_))));
        let moved = spool.quarantine("bad").unwrap();
        assert_eq!(fs::read(moved).unwrap(), b"not a record");
        assert_eq!(spool.waiting_ids(), ["old"]);
        drop(spool);
        let (spool, _) = open(dir.path(), 1 << 20, DEFAULT_SEGMENT_BYTES);
        assert_eq!(spool.waiting_ids(), ["old"], "the quarantine is acknowledged durably");
    }
}
