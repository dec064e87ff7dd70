//! Filesystem archive, the embedded default backend.
//!
//! Layout under the root directory:
//! - `games/<id:016>.games`: append-only segment files (framing in
//!   [`super::segment`], magic `ARCA`); each frame is one game:
//!   `summary length (u32 LE) | GameSummary JSON | compressed record`, so a
//!   segment describes itself. A batch is one write and one `fdatasync`;
//!   a segment is closed at `SEGMENT_BYTES` (or the size given to
//!   [`FsSink::open_with_segment_bytes`]) and a new one started.
//! - `index.log`: the index, a segment-framed file (magic `ARCI`) of
//!   `{segment, offset, len, summary}` JSON entries, appended and synced
//!   after the batch's games; loaded into memory for `get` (game id →
//!   segment, offset, length) and `list` (summaries by plugin, player and
//!   completion time).
//!
//! - `retention.json`: `{"expired_before_ms": N}`, written (atomically) by
//!   the first expiry: games completed before N are expired.
//!
//! Retention ([`ArchiveSink::expire`]): expiring games completed before a
//! cutoff first makes the cutoff durable in `retention.json` (the commit
//! point: from then on those games are skipped when the index and the
//! segments are read, so a crash cannot bring them back), then drops them
//! from memory (gone from `get` and `list`), then deletes every segment none
//! of whose games is left (whole files, one directory sync; the newest
//! segment stays, so segment ids are never reused). A segment holding both
//! expired and live games stays until its last game expires. The index
//! keeps the entries of expired games until they outnumber the live ones;
//! then it is rewritten (atomically) with the live ones only, so its
//! rewriting costs O(1) per expired game. Games older than the cutoff that
//! arrive later (a long-delayed delivery) are expired on arrival: not
//! written.
//!
//! Erasure ([`ArchiveSink::pseudonymise`]): a deleted account's games are
//! appended again with the account's id renamed, with their index entries
//! (a later entry or frame of a game supersedes an earlier one); then their
//! old frames become tombstones (same length, zero payload: no game) in a
//! copy of their segment that replaces it atomically, so no other frame
//! moves; then the index is rewritten without the old summaries. A crash
//! between the steps leaves the renamed records in force.
//!
//! Recovery on open: the index is read up to its first damaged frame (the
//! rest is cut); entries pointing past the end of their segment are dropped
//! (and the index rewritten); every segment is scanned from the end of its
//! last indexed game, so games written before a crash cut their index
//! entries short are indexed again and a torn segment tail is cut. A missing
//! index is rebuilt by scanning every segment.
//!
//! The previous layout (`games/<yyyy-mm-dd>/<game_id>.json.zst` files and
//! `index.jsonl`) is migrated once on open: its games are appended to the
//! segments, then its files are removed. One process owns a root directory
//! at a time.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::catalog::Catalog;
use super::durable_file::{is_temp_file, write_atomic};
use super::keys::{game_id_of_file_name, validate_game_id};
use super::listing::{GameSummary, ListFilter, Page, PageRequest};
use super::record::{GameRecord, check_erasure_ids, compress_all};
use super::segment::{self, Appender, FrameAt, HEADER_LEN, Kind};
use super::{ArchiveError, ArchiveSink, new_game_indices, storage_forms, validate_batch};

const GAMES_DIR: &str = "games";
const INDEX_FILE: &str = "index.log";
const RETENTION_FILE: &str = "retention.json";
/// The index of the one-file-per-game layout.
const OLD_INDEX_FILE: &str = "index.jsonl";
const SEGMENT_KIND: Kind = Kind { magic: *b"ARCA", version: 1, extension: "games" };
const INDEX_KIND: Kind = Kind { magic: *b"ARCI", version: 1, extension: "log" };
/// A segment that reached this size takes no more games.
pub const SEGMENT_BYTES: u64 = 64 << 20;

pub struct FsSink {
    root: PathBuf,
    state: Arc<Mutex<FsState>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Location {
    segment: u64,
    offset: u64,
    len: u32,
}

impl Location {
    fn frame(&self) -> FrameAt {
        FrameAt { offset: self.offset, len: self.len }
    }

    fn end(&self) -> u64 {
        self.frame().end()
    }
}

/// One line of the index.
#[derive(Serialize, Deserialize)]
struct IndexEntry {
    #[serde(flatten)]
    at: Location,
    summary: GameSummary,
}

struct FsState {
    games_dir: PathBuf,
    catalog: Catalog,
    locations: HashMap<String, Location>,
    readers: HashMap<u64, Arc<File>>,
    /// The segment new games go to; `None` until one is needed.
    active: Option<Appender>,
    index: Appender,
    index_path: PathBuf,
    /// Games completed before this (unix ms) are expired (`retention.json`).
    expired_before_ms: u64,
    /// Index entries of expired games, dropped when the index is rewritten.
    dead_index_entries: usize,
    segment_bytes: u64,
}

/// `retention.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetentionState {
    expired_before_ms: u64,
}

fn read_retention(root: &Path) -> Result<RetentionState, ArchiveError> {
    let path = root.join(RETENTION_FILE);
    match fs::read(&path) {
        // Written atomically, so damage is not a torn write: refuse to guess
        // (ignoring it would bring expired games back).
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| ArchiveError::Corrupt(format!("{}: {e}; fix or remove it", path.display()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(RetentionState::default()),
        Err(e) => Err(io_error(&path)(e)),
    }
}

/// What one expiry did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FsExpiry {
    pub games: u64,
    /// Segment files deleted.
    pub segments_deleted: usize,
    /// Whether the index was rewritten without the expired games' entries.
    pub index_rewritten: bool,
}

/// What opening the archive found and repaired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FsRecovery {
    pub indexed: usize,
    /// Games found in segments past their index (a crash between the writes).
    pub reindexed: usize,
    /// Index entries dropped because their segment does not hold them.
    pub stale: usize,
    /// Damaged segment or index tails cut.
    pub cuts: usize,
    /// Games moved from the one-file-per-game layout.
    pub migrated: usize,
    /// Games skipped because they had expired (see `retention.json`).
    pub expired: usize,
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> ArchiveError + '_ {
    move |source| ArchiveError::Io { path: path.to_path_buf(), source }
}

impl FsSink {
    /// Opens (creating if needed) the archive at `root`, repairing its index.
    pub async fn open(root: impl Into<PathBuf>) -> Result<FsSink, ArchiveError> {
        Ok(FsSink::open_reporting(root).await?.0)
    }

    /// `open`, also telling what recovery did.
    pub async fn open_reporting(root: impl Into<PathBuf>) -> Result<(FsSink, FsRecovery), ArchiveError> {
        FsSink::open_with_segment_bytes(root, SEGMENT_BYTES).await
    }

    /// `open_reporting` with segments closed at `segment_bytes` instead of
    /// `SEGMENT_BYTES` (tests: many small segments).
    pub async fn open_with_segment_bytes(
        root: impl Into<PathBuf>,
        segment_bytes: u64,
    ) -> Result<(FsSink, FsRecovery), ArchiveError> {
        let root = root.into();
        let opened_root = root.clone();
        let (state, recovery) = tokio::task::spawn_blocking(move || open_state(&opened_root, segment_bytes))
            .await
            .map_err(ArchiveError::from_join)??;
        Ok((FsSink { root, state: Arc::new(Mutex::new(state)) }, recovery))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn index_path(&self) -> PathBuf {
        self.root.join(INDEX_FILE)
    }

    /// Where the segment files are.
    pub fn segments_dir(&self) -> PathBuf {
        self.root.join(GAMES_DIR)
    }

    /// Expires the games completed before `cutoff_ms` (see the module docs);
    /// a cutoff at or before an earlier one expires no more games but
    /// finishes deleting what an interrupted expiry left.
    pub async fn expire_before(&self, cutoff_ms: u64) -> Result<FsExpiry, ArchiveError> {
        let mut state = self.state.clone().lock_owned().await;
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || expire_games(&root, &mut state, cutoff_ms))
            .await
            .map_err(ArchiveError::from_join)?
    }
}

/// Segment frame payload → (summary, compressed record).
fn decode_game(payload: &[u8]) -> Option<(GameSummary, &[u8])> {
    let len = u32::from_le_bytes(payload.get(..4)?.try_into().ok()?) as usize;
    let summary: GameSummary = serde_json::from_slice(payload.get(4..4 + len)?).ok()?;
    validate_game_id(&summary.game_id).ok()?;
    Some((summary, &payload[4 + len..]))
}

fn encode_game(summary: &GameSummary, compressed: &[u8], out: &mut Vec<u8>) {
    let json = serde_json::to_vec(summary).expect("summaries serialize");
    segment::frame_parts(&[&(json.len() as u32).to_le_bytes(), &json, compressed], out);
}

fn encode_index(entries: &[IndexEntry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * 320);
    for entry in entries {
        segment::frame(&serde_json::to_vec(entry).expect("index entries serialize"), &mut out);
    }
    out
}

/// The valid entries of the index file and how many bytes of it are valid;
/// `None` when it is missing or not an index.
fn read_index(path: &Path) -> Result<Option<(Vec<IndexEntry>, u64, bool)>, ArchiveError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(path)(e)),
    };
    let (frames, damage) = segment::scan(&INDEX_KIND, &bytes, 0);
    if matches!(damage, Some((0, _))) {
        tracing::warn!(path = %path.display(), "the archive index is not an index; rebuilding it");
        return Ok(None);
    }
    let mut entries = Vec::with_capacity(frames.len());
    let mut valid_end = HEADER_LEN as u64;
    for frame in &frames {
        match serde_json::from_slice::<IndexEntry>(frame.payload(&bytes, 0)) {
            Ok(entry) if validate_game_id(&entry.summary.game_id).is_ok() => entries.push(entry),
            _ => break,
        }
        valid_end = frame.end();
    }
    let damaged = valid_end < bytes.len() as u64;
    if damaged {
        tracing::warn!(path = %path.display(), cut = bytes.len() as u64 - valid_end, "the archive index has a damaged tail; cutting it");
    }
    Ok(Some((entries, valid_end, damaged)))
}

fn open_state(root: &Path, segment_bytes: u64) -> Result<(FsState, FsRecovery), ArchiveError> {
    let games_dir = root.join(GAMES_DIR);
    fs::create_dir_all(&games_dir).map_err(io_error(&games_dir))?;
    let index_path = root.join(INDEX_FILE);
    let mut recovery = FsRecovery::default();
    let expired_before_ms = read_retention(root)?.expired_before_ms;
    let segment_ids = SEGMENT_KIND.list(&games_dir).map_err(io_error(&games_dir))?;
    let mut sizes: HashMap<u64, u64> = HashMap::new();
    for &id in &segment_ids {
        let path = SEGMENT_KIND.path(&games_dir, id);
        sizes.insert(id, fs::metadata(&path).map_err(io_error(&path))?.len());
    }

    let mut catalog = Catalog::default();
    let mut locations = HashMap::new();
    let mut indexed_end: HashMap<u64, u64> = HashMap::new();
    let (index_entries, index_valid_end, index_damaged) = read_index(&index_path)?.unwrap_or_default();
    let mut rewrite_index = index_valid_end == 0;
    let mut dead_index_entries = 0;
    for entry in index_entries {
        let fits = sizes.get(&entry.at.segment).is_some_and(|size| entry.at.offset + u64::from(entry.at.len) <= *size)
            && entry.at.offset >= HEADER_LEN as u64;
        if entry.summary.completed_at_ms < expired_before_ms {
            // Expired; its segment may be gone. Counted as indexed so the
            // scan below does not read it again.
            if fits {
                let end = indexed_end.entry(entry.at.segment).or_default();
                *end = (*end).max(entry.at.offset + u64::from(entry.at.len));
            }
            dead_index_entries += 1;
            recovery.expired += 1;
            continue;
        }
        if !fits {
            recovery.stale += 1;
            rewrite_index = true;
            continue;
        }
        let end = indexed_end.entry(entry.at.segment).or_default();
        *end = (*end).max(entry.at.offset + u64::from(entry.at.len));
        // A later entry of a game is its rewritten record (`pseudonymise`).
        locations.insert(entry.summary.game_id.clone(), entry.at);
        catalog.upsert(entry.summary);
    }
    recovery.indexed = catalog.len();
    if recovery.stale > 0 {
        tracing::warn!(stale = recovery.stale, "archive index entries past the end of their segments dropped");
    }

    // Games past the indexed part of each segment, and torn tails.
    let mut unindexed = Vec::new();
    let mut readers = HashMap::new();
    for (position, &id) in segment_ids.iter().enumerate() {
        let path = SEGMENT_KIND.path(&games_dir, id);
        let file = File::open(&path).map_err(io_error(&path))?;
        let size = sizes[&id];
        let from = indexed_end.get(&id).copied().unwrap_or(0);
        if size > from {
            let mut bytes = vec![0u8; (size - from) as usize];
            use std::os::unix::fs::FileExt;
            file.read_exact_at(&mut bytes, from).map_err(io_error(&path))?;
            let (frames, damage) = segment::scan(&SEGMENT_KIND, &bytes, from);
            for frame in &frames {
                let Some((summary, _)) = decode_game(frame.payload(&bytes, from)) else { continue };
                if summary.completed_at_ms < expired_before_ms {
                    recovery.expired += 1;
                    continue;
                }
                // Past the index, a game already catalogued is its rewritten
                // record, appended before a crash cut the index short.
                let at = Location { segment: id, offset: frame.offset, len: frame.len };
                locations.insert(summary.game_id.clone(), at);
                catalog.upsert(summary.clone());
                unindexed.push(IndexEntry { at, summary });
                recovery.reindexed += 1;
            }
            if let Some((offset, why)) = damage {
                recovery.cuts += 1;
                let newest = position + 1 == segment_ids.len();
                let report = format!(
                    "archive segment {}: cut {} bytes at offset {offset} ({why})",
                    path.display(),
                    size - offset
                );
                if !newest || segment::valid_frame_after(&bytes, from, offset) {
                    tracing::error!("{report}: archived games were lost");
                } else {
                    tracing::warn!("{report}: a write torn before it was synced");
                }
                if offset == 0 {
                    fs::rename(&path, path.with_extension("corrupt")).map_err(io_error(&path))?;
                    sizes.remove(&id);
                    continue;
                }
                segment::truncate(&path, offset).map_err(io_error(&path))?;
                sizes.insert(id, offset);
            }
        }
        readers.insert(id, Arc::new(file));
    }

    let index = if rewrite_index {
        let (index, games) = write_index(root, &index_path, &catalog, &locations)?;
        if index_valid_end > 0 || recovery.stale > 0 || games > 0 {
            tracing::info!(games, stale = recovery.stale, "rebuilt the filesystem archive index");
        }
        dead_index_entries = 0;
        index
    } else {
        if index_damaged {
            recovery.cuts += 1;
            segment::truncate(&index_path, index_valid_end).map_err(io_error(&index_path))?;
        }
        let mut index = reopen_index(&index_path, index_valid_end)?;
        if !unindexed.is_empty() {
            tracing::info!(games = unindexed.len(), "indexed archived games a crash left out of the index");
            index.append(&encode_index(&unindexed), true).map_err(|e| io_error(&index_path)(e.source))?;
        }
        index
    };

    let active = match segment_ids.iter().rev().find(|id| sizes.contains_key(id)) {
        Some(&id) if sizes[&id] < segment_bytes => {
            Some(Appender::reopen(&SEGMENT_KIND, &games_dir, id, sizes[&id]).map_err(io_error(&games_dir))?)
        }
        _ => None,
    };
    let mut state = FsState {
        games_dir,
        catalog,
        locations,
        readers,
        active,
        index,
        index_path,
        expired_before_ms,
        dead_index_entries,
        segment_bytes,
    };
    recovery.migrated = migrate_old_layout(root, &mut state)?;
    Ok((state, recovery))
}

fn reopen_index(path: &Path, len: u64) -> Result<Appender, ArchiveError> {
    Appender::reopen_path(path, len).map_err(io_error(path))
}

/// Replaces the index (atomically) with the entries of the catalogued
/// games, in segment order; returns its appender and how many it holds.
fn write_index(
    root: &Path,
    index_path: &Path,
    catalog: &Catalog,
    locations: &HashMap<String, Location>,
) -> Result<(Appender, usize), ArchiveError> {
    let mut all: Vec<IndexEntry> = locations
        .iter()
        .map(|(id, at)| IndexEntry { at: *at, summary: catalog.get(id).expect("catalogued").clone() })
        .collect();
    all.sort_by_key(|e| (e.at.segment, e.at.offset));
    let mut bytes = INDEX_KIND.header().to_vec();
    bytes.extend_from_slice(&encode_index(&all));
    write_atomic(index_path, &bytes).map_err(io_error(index_path))?;
    segment::sync_dir(root).map_err(io_error(root))?;
    Ok((reopen_index(index_path, bytes.len() as u64)?, all.len()))
}

/// Retention, in the order the module docs give.
fn expire_games(root: &Path, state: &mut FsState, cutoff_ms: u64) -> Result<FsExpiry, ArchiveError> {
    let mut expiry = FsExpiry::default();
    if cutoff_ms > state.expired_before_ms {
        let expired = state.catalog.completed_before(cutoff_ms);
        let path = root.join(RETENTION_FILE);
        let bytes = serde_json::to_vec(&RetentionState { expired_before_ms: cutoff_ms }).expect("serializes");
        write_atomic(&path, &bytes).map_err(io_error(&path))?;
        segment::sync_dir(root).map_err(io_error(root))?;
        state.expired_before_ms = cutoff_ms;
        for game_id in &expired {
            state.catalog.remove(game_id);
            state.locations.remove(game_id);
        }
        state.dead_index_entries += expired.len();
        expiry.games = expired.len() as u64;
    }

    let mut live_segments: std::collections::HashSet<u64> = state.locations.values().map(|at| at.segment).collect();
    if let Some(newest) = state.readers.keys().max() {
        live_segments.insert(*newest); // holds the next id; the active segment, if any
    }
    let mut dead: Vec<u64> = state.readers.keys().filter(|id| !live_segments.contains(id)).copied().collect();
    dead.sort_unstable();
    for id in &dead {
        let path = SEGMENT_KIND.path(&state.games_dir, *id);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(&path)(e)),
        }
        state.readers.remove(id);
        expiry.segments_deleted += 1;
    }
    if !dead.is_empty() {
        segment::sync_dir(&state.games_dir).map_err(io_error(&state.games_dir))?;
    }

    if state.dead_index_entries > state.catalog.len() {
        let (index, _) = write_index(root, &state.index_path, &state.catalog, &state.locations)?;
        state.index = index;
        state.dead_index_entries = 0;
        expiry.index_rewritten = true;
    }
    if expiry != FsExpiry::default() {
        tracing::info!(
            games = expiry.games,
            segments_deleted = expiry.segments_deleted,
            index_rewritten = expiry.index_rewritten,
            expired_before_ms = state.expired_before_ms,
            "expired archived games"
        );
    }
    Ok(expiry)
}

/// Moves the games of the one-file-per-game layout into segments, then
/// removes its files. Safe to repeat after a crash (games already in the
/// catalog are skipped).
fn migrate_old_layout(root: &Path, state: &mut FsState) -> Result<usize, ArchiveError> {
    let old_index = root.join(OLD_INDEX_FILE);
    let mut files = Vec::new();
    let mut day_dirs = Vec::new();
    for day in fs::read_dir(&state.games_dir).map_err(io_error(&state.games_dir))? {
        let day = day.map_err(io_error(&state.games_dir))?.path();
        if !day.is_dir() {
            continue;
        }
        for entry in fs::read_dir(&day).map_err(io_error(&day))? {
            let path = entry.map_err(io_error(&day))?.path();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if let Some(game_id) = game_id_of_file_name(&name) {
                files.push((game_id.to_string(), path));
            } else if is_temp_file(&name) {
                fs::remove_file(&path).map_err(io_error(&path))?;
            }
        }
        day_dirs.push(day);
    }
    if files.is_empty() && day_dirs.is_empty() && !old_index.exists() {
        return Ok(0);
    }
    let mut migrated = Vec::new();
    for (game_id, path) in &files {
        if state.catalog.contains(game_id) {
            continue;
        }
        let bytes = fs::read(path).map_err(io_error(path))?;
        match GameRecord::from_compressed(&bytes) {
            Ok(record) if record.game_id == *game_id => migrated.push((GameSummary::from(&record), bytes)),
            Ok(_) => tracing::warn!(path = %path.display(), "archived record file names another game; not migrated"),
            Err(e) => tracing::warn!(path = %path.display(), error = %e, "unreadable archived record; not migrated"),
        }
    }
    let count = migrated.len();
    append_games(state, migrated)?;
    for (_, path) in &files {
        fs::remove_file(path).map_err(io_error(path))?;
    }
    for day in &day_dirs {
        let _ = fs::remove_dir(day); // leaves a directory with unrelated files
    }
    if old_index.exists() {
        fs::remove_file(&old_index).map_err(io_error(&old_index))?;
    }
    segment::sync_dir(&state.games_dir).map_err(io_error(&state.games_dir))?;
    segment::sync_dir(root).map_err(io_error(root))?;
    tracing::info!(games = count, "migrated the one-file-per-game archive layout into segments");
    Ok(count)
}

/// Appends games (summary, compressed record) to the active segment with
/// one write and one sync, then their index entries likewise.
fn append_games(state: &mut FsState, games: Vec<(GameSummary, Vec<u8>)>) -> Result<(), ArchiveError> {
    if games.is_empty() {
        return Ok(());
    }
    if state.active.as_ref().is_none_or(|a| a.len() >= state.segment_bytes) {
        let id = state.readers.keys().max().map_or(1, |id| id + 1);
        let path = SEGMENT_KIND.path(&state.games_dir, id);
        let appender = Appender::create(&SEGMENT_KIND, &state.games_dir, id).map_err(io_error(&path))?;
        state.readers.insert(id, Arc::new(appender.reader().map_err(io_error(&path))?));
        state.active = Some(appender);
    }
    let active = state.active.as_mut().expect("ensured above");
    let mut buffer = Vec::with_capacity(games.iter().map(|(_, c)| c.len() + 400).sum());
    let mut spans = Vec::with_capacity(games.len());
    for (summary, compressed) in &games {
        let start = buffer.len() as u64;
        encode_game(summary, compressed, &mut buffer);
        spans.push((start, (buffer.len() as u64 - start) as u32));
    }
    let segment_path = SEGMENT_KIND.path(&state.games_dir, active.id);
    let appended = active.append(&buffer, true);
    let base = match appended {
        Ok(base) => base,
        Err(e) => {
            if e.segment_unusable {
                state.active = None; // the next batch starts a new segment
            }
            return Err(io_error(&segment_path)(e.source));
        }
    };
    let segment = active.id;
    let entries: Vec<IndexEntry> = games
        .into_iter()
        .zip(spans)
        .map(|((summary, _), (start, len))| IndexEntry { at: Location { segment, offset: base + start, len }, summary })
        .collect();
    state.index.append(&encode_index(&entries), true).map_err(|e| io_error(&state.index_path)(e.source))?;
    for entry in entries {
        state.locations.insert(entry.summary.game_id.clone(), entry.at);
        state.catalog.upsert(entry.summary);
    }
    Ok(())
}

/// Erasure (see the module docs): the player's games are appended again,
/// renamed, and their index entries with them (from here on, reads and a
/// restart find the renamed records: a later entry of a game wins); then
/// the old frames are overwritten with tombstones of the same length, each
/// segment replaced whole (atomically), so no other game moves; then the
/// index is rewritten without the old summaries.
fn pseudonymise_games(root: &Path, state: &mut FsState, player: &str, pseudonym: &str) -> Result<u64, ArchiveError> {
    check_erasure_ids(player, pseudonym)?;
    let mut renamed = Vec::new();
    let mut old_frames: std::collections::BTreeMap<u64, Vec<Location>> = Default::default();
    for game_id in state.catalog.played_by(player) {
        let Some(&at) = state.locations.get(&game_id) else { continue };
        let reader = state.readers.get(&at.segment).ok_or_else(|| {
            ArchiveError::Corrupt(format!("archived game {game_id:?}: segment {} is missing", at.segment))
        })?;
        if let Some(record) = read_game(reader, at, &game_id)?.pseudonymised(player, pseudonym)? {
            renamed.push(record);
            old_frames.entry(at.segment).or_default().push(at);
        }
    }
    if renamed.is_empty() {
        return Ok(0);
    }
    let compressed = compress_all(&renamed)?;
    append_games(state, renamed.iter().map(GameSummary::from).zip(compressed).collect())?;
    for (segment, frames) in old_frames {
        tombstone_frames(state, segment, &frames)?;
    }
    let (index, _) = write_index(root, &state.index_path, &state.catalog, &state.locations)?;
    state.index = index;
    state.dead_index_entries = 0;
    tracing::info!(games = renamed.len(), "archived games pseudonymised");
    Ok(renamed.len() as u64)
}

/// Replaces `frames` of a segment with frames of the same length whose
/// payload is zeros (no game: scans skip them), the segment file replaced
/// whole; the active segment, if it was this one, takes no more games.
fn tombstone_frames(state: &mut FsState, segment: u64, frames: &[Location]) -> Result<(), ArchiveError> {
    let path = SEGMENT_KIND.path(&state.games_dir, segment);
    let mut bytes = fs::read(&path).map_err(io_error(&path))?;
    for at in frames {
        let (start, end) = (at.offset as usize, at.end() as usize);
        let mut tombstone = Vec::with_capacity(at.len as usize);
        segment::frame(&vec![0u8; at.len as usize - segment::FRAME_LEN], &mut tombstone);
        bytes
            .get_mut(start..end)
            .ok_or_else(|| ArchiveError::Corrupt(format!("{}: no frame at {start}..{end}", path.display())))?
            .copy_from_slice(&tombstone);
    }
    write_atomic(&path, &bytes).map_err(io_error(&path))?;
    segment::sync_dir(&state.games_dir).map_err(io_error(&state.games_dir))?;
    state.readers.insert(segment, Arc::new(File::open(&path).map_err(io_error(&path))?));
    if state.active.as_ref().is_some_and(|active| active.id == segment) {
        state.active = None; // its appender writes to the replaced file
    }
    Ok(())
}

/// The games of `records` this archive does not hold yet (nor has expired),
/// each as its summary and storage form (`compressed`, when the caller made
/// it, see [`ArchiveSink::write_compressed_batch`]): what [`append_games`]
/// writes.
fn new_games(
    state: &FsState,
    records: &[GameRecord],
    compressed: Option<&[Vec<u8>]>,
) -> Result<Vec<(GameSummary, Vec<u8>)>, ArchiveError> {
    let mut fresh = new_game_indices(records, |id| state.catalog.contains(id));
    // Expired on arrival (see the module docs).
    fresh.retain(|&i| records[i].completed_at_ms >= state.expired_before_ms);
    let forms = storage_forms(records, &fresh, compressed)?;
    Ok(fresh.iter().map(|&i| GameSummary::from(&records[i])).zip(forms).collect())
}

fn read_game(reader: &File, at: Location, game_id: &str) -> Result<GameRecord, ArchiveError> {
    let corrupt = |what: String| ArchiveError::Corrupt(format!("archived game {game_id:?}: {what}"));
    let payload = segment::read_frame(reader, at.frame()).map_err(|e| corrupt(e.to_string()))?;
    let (summary, compressed) = decode_game(&payload).ok_or_else(|| corrupt("unreadable segment frame".into()))?;
    if summary.game_id != game_id {
        return Err(corrupt(format!("the index points at game {:?}", summary.game_id)));
    }
    GameRecord::from_compressed(compressed)
}

impl FsSink {
    async fn write(&self, records: &[GameRecord], compressed: Option<&[Vec<u8>]>) -> Result<(), ArchiveError> {
        validate_batch(records)?;
        let mut state = self.state.clone().lock_owned().await;
        let write = match compressed {
            // Compressed by the caller: only the new games' summaries and
            // bytes go to the blocking thread, not copies of the records.
            Some(given) => {
                let games = new_games(&state, records, Some(given))?;
                if games.is_empty() {
                    return Ok(());
                }
                tokio::task::spawn_blocking(move || append_games(&mut state, games))
            }
            // Compressing is work for the blocking thread: the records go there.
            None => {
                let records = records.to_vec();
                tokio::task::spawn_blocking(move || {
                    let games = new_games(&state, &records, None)?;
                    append_games(&mut state, games)
                })
            }
        };
        write.await.map_err(ArchiveError::from_join)?
    }
}

#[async_trait]
impl ArchiveSink for FsSink {
    fn backend(&self) -> &'static str {
        "filesystem"
    }

    async fn write_batch(&self, records: &[GameRecord]) -> Result<(), ArchiveError> {
        self.write(records, None).await
    }

    async fn write_compressed_batch(&self, records: &[GameRecord], compressed: &[Vec<u8>]) -> Result<(), ArchiveError> {
        self.write(records, Some(compressed)).await
    }

    async fn get(&self, game_id: &str) -> Result<Option<GameRecord>, ArchiveError> {
        let (at, reader) = {
            let state = self.state.lock().await;
            match state.locations.get(game_id) {
                Some(at) => (*at, state.readers[&at.segment].clone()),
                None => return Ok(None),
            }
        };
        let game_id = game_id.to_string();
        let record = tokio::task::spawn_blocking(move || read_game(&reader, at, &game_id))
            .await
            .map_err(ArchiveError::from_join)??;
        Ok(Some(record))
    }

    async fn list(&self, filter: &ListFilter, page: &PageRequest) -> Result<Page, ArchiveError> {
        self.state.lock().await.catalog.list(filter, page)
    }

    async fn pseudonymise(&self, player: &str, pseudonym: &str) -> Result<u64, ArchiveError> {
        let mut state = self.state.clone().lock_owned().await;
        let (root, player, pseudonym) = (self.root.clone(), player.to_string(), pseudonym.to_string());
        tokio::task::spawn_blocking(move || pseudonymise_games(&root, &mut state, &player, &pseudonym))
            .await
            .map_err(ArchiveError::from_join)?
    }

    async fn expire(&self, cutoff_ms: u64, _batch: usize) -> Result<Option<u64>, ArchiveError> {
        Ok(Some(self.expire_before(cutoff_ms).await?.games))
    }
}
