//! Filesystem archive, the embedded default backend.
//!
//! Layout under the root directory:
//! - `games/<yyyy-mm-dd>/<game_id>.json.zst`: one compressed record per game
//!   (UTC completion date), written atomically (temp + fsync + rename);
//! - `index.jsonl`: one `GameSummary` JSON line per game, appended and
//!   fsynced after the batch's records, loaded into memory for get/list.
//!
//! On open the index is checked against the record files: a missing or
//! corrupt index, an entry without its file, or a file without an entry (a
//! crash between the two writes) makes it rebuild the index from the files.
//! One process owns a root directory at a time.

use std::collections::{BTreeSet, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Mutex;

use super::catalog::Catalog;
use super::durable_file::{remove_temp_files, sync_dir, write_atomic};
use super::keys::{UtcDate, game_id_of_file_name, record_file_name, validate_game_id};
use super::listing::{GameSummary, ListFilter, Page, PageRequest};
use super::record::{GameRecord, compress_all};
use super::{ArchiveError, ArchiveSink, new_games, validate_batch};

const GAMES_DIR: &str = "games";
const INDEX_FILE: &str = "index.jsonl";

pub struct FsSink {
    root: PathBuf,
    state: Arc<Mutex<FsState>>,
}

struct FsState {
    catalog: Catalog,
    index: File,
}

/// Where a game's record lives under `root`.
pub fn record_path(root: &Path, game_id: &str, completed_at_ms: u64) -> PathBuf {
    root.join(GAMES_DIR).join(UtcDate::from_unix_ms(completed_at_ms).dashed()).join(record_file_name(game_id))
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> ArchiveError + '_ {
    move |source| ArchiveError::Io { path: path.to_path_buf(), source }
}

impl FsSink {
    /// Opens (creating if needed) the archive at `root`, repairing its index.
    pub async fn open(root: impl Into<PathBuf>) -> Result<FsSink, ArchiveError> {
        let root = root.into();
        let opened_root = root.clone();
        let state =
            tokio::task::spawn_blocking(move || open_state(&opened_root)).await.map_err(ArchiveError::from_join)??;
        Ok(FsSink { root, state: Arc::new(Mutex::new(state)) })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn index_path(&self) -> PathBuf {
        self.root.join(INDEX_FILE)
    }
}

fn open_state(root: &Path) -> Result<FsState, ArchiveError> {
    let games_dir = root.join(GAMES_DIR);
    fs::create_dir_all(&games_dir).map_err(io_error(&games_dir))?;
    let index_path = root.join(INDEX_FILE);
    let (mut catalog, index_intact) = read_index(&index_path)?;
    let on_disk = record_files(&games_dir)?;

    let stale: Vec<String> = catalog
        .summaries()
        .filter(|s| on_disk.get(&s.game_id) != Some(&record_path(root, &s.game_id, s.completed_at_ms)))
        .map(|s| s.game_id.clone())
        .collect();
    for game_id in &stale {
        catalog.remove(game_id);
    }
    let mut recovered = 0;
    for (game_id, path) in &on_disk {
        if catalog.contains(game_id) {
            continue;
        }
        match read_record(path) {
            Ok(record) if record.game_id == *game_id && *path == record_path(root, game_id, record.completed_at_ms) => {
                catalog.insert(GameSummary::from(&record));
                recovered += 1;
            }
            Ok(_) => {
                tracing::warn!(path = %path.display(), "archived record is not where its id and date say; ignored")
            }
            Err(e) => tracing::warn!(path = %path.display(), error = %e, "unreadable archived record; ignored"),
        }
    }
    if !index_intact || !stale.is_empty() || recovered > 0 {
        tracing::info!(
            games = catalog.len(),
            stale = stale.len(),
            recovered,
            index_was_intact = index_intact,
            "rebuilt the filesystem archive index"
        );
        write_atomic(&index_path, index_lines(catalog.summaries()).as_bytes()).map_err(io_error(&index_path))?;
        sync_dir(root).map_err(io_error(root))?;
    }
    let index = OpenOptions::new().append(true).open(&index_path).map_err(io_error(&index_path))?;
    Ok(FsState { catalog, index })
}

/// The catalog in the index file, and whether the file was present and
/// every line parsed.
fn read_index(path: &Path) -> Result<(Catalog, bool), ArchiveError> {
    let mut catalog = Catalog::default();
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((catalog, false)),
        Err(e) => return Err(io_error(path)(e)),
    };
    let mut intact = true;
    for line in BufReader::new(file).split(b'\n') {
        let line = line.map_err(io_error(path))?;
        match serde_json::from_slice::<GameSummary>(&line) {
            Ok(summary) if validate_game_id(&summary.game_id).is_ok() => {
                catalog.insert(summary);
            }
            _ => intact = false,
        }
    }
    if !intact {
        tracing::warn!(path = %path.display(), "the archive index has corrupt lines");
    }
    Ok((catalog, intact))
}

/// Record files by game id, removing temporary files left by a crash.
fn record_files(games_dir: &Path) -> Result<HashMap<String, PathBuf>, ArchiveError> {
    let mut files = HashMap::new();
    for day in fs::read_dir(games_dir).map_err(io_error(games_dir))? {
        let day = day.map_err(io_error(games_dir))?.path();
        if !day.is_dir() {
            continue;
        }
        remove_temp_files(&day).map_err(io_error(&day))?;
        for entry in fs::read_dir(&day).map_err(io_error(&day))? {
            let path = entry.map_err(io_error(&day))?.path();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if let Some(game_id) = game_id_of_file_name(&name) {
                files.insert(game_id.to_string(), path);
            }
        }
    }
    Ok(files)
}

fn read_record(path: &Path) -> Result<GameRecord, ArchiveError> {
    GameRecord::from_compressed(&fs::read(path).map_err(io_error(path))?)
}

fn index_lines<'a>(summaries: impl IntoIterator<Item = &'a GameSummary>) -> String {
    summaries.into_iter().map(|s| serde_json::to_string(s).expect("summaries serialize") + "\n").collect()
}

fn write_new_records(root: &Path, state: &mut FsState, records: &[GameRecord]) -> Result<(), ArchiveError> {
    let fresh = new_games(records, |id| state.catalog.contains(id));
    if fresh.is_empty() {
        return Ok(());
    }
    let compressed = compress_all(&fresh)?;
    let mut dirs = BTreeSet::new();
    for (record, bytes) in fresh.iter().zip(compressed) {
        let path = record_path(root, &record.game_id, record.completed_at_ms);
        let dir = path.parent().expect("record paths have a day directory").to_path_buf();
        if dirs.insert(dir.clone()) {
            fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        }
        write_atomic(&path, &bytes).map_err(io_error(&path))?;
    }
    let games_dir = root.join(GAMES_DIR);
    for dir in dirs.iter().chain([&games_dir]) {
        sync_dir(dir).map_err(io_error(dir))?;
    }
    let summaries: Vec<GameSummary> = fresh.iter().map(|r| GameSummary::from(*r)).collect();
    let index_path = root.join(INDEX_FILE);
    state.index.write_all(index_lines(&summaries).as_bytes()).map_err(io_error(&index_path))?;
    state.index.sync_data().map_err(io_error(&index_path))?;
    for summary in summaries {
        state.catalog.insert(summary);
    }
    Ok(())
}

#[async_trait]
impl ArchiveSink for FsSink {
    fn backend(&self) -> &'static str {
        "filesystem"
    }

    async fn write_batch(&self, records: &[GameRecord]) -> Result<(), ArchiveError> {
        validate_batch(records)?;
        let mut state = self.state.clone().lock_owned().await;
        let (root, records) = (self.root.clone(), records.to_vec());
        tokio::task::spawn_blocking(move || write_new_records(&root, &mut state, &records))
            .await
            .map_err(ArchiveError::from_join)?
    }

    async fn get(&self, game_id: &str) -> Result<Option<GameRecord>, ArchiveError> {
        let path = match self.state.lock().await.catalog.get(game_id) {
            Some(summary) => record_path(&self.root, game_id, summary.completed_at_ms),
            None => return Ok(None),
        };
        let record =
            tokio::task::spawn_blocking(move || read_record(&path)).await.map_err(ArchiveError::from_join)??;
        Ok(Some(record))
    }

    async fn list(&self, filter: &ListFilter, page: &PageRequest) -> Result<Page, ArchiveError> {
        self.state.lock().await.catalog.list(filter, page)
    }
}
