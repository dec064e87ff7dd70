//! The archiver's local spool: one compressed record file per game
//! (`<game_id>.json.zst`), durable (fsynced file and directory) before a
//! submission is acknowledged, removed once the sink has the game. Its total
//! size is bounded; a full spool refuses new games. Unreadable files are
//! moved to `corrupt/` so they never block delivery.
//!
//! All methods do blocking file I/O; call them from blocking tasks.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::ArchiveError;
use super::durable_file::{remove_temp_files, sync_dir, write_atomic};
use super::keys::{game_id_of_file_name, record_file_name};
use super::record::GameRecord;

const CORRUPT_DIR: &str = "corrupt";

pub struct Spool {
    dir: PathBuf,
    limit_bytes: u64,
    state: Mutex<SpoolState>,
}

#[derive(Default)]
struct SpoolState {
    entries: HashMap<String, Entry>,
    used_bytes: u64,
}

struct Entry {
    bytes: u64,
    /// False while the file is being written.
    durable: bool,
}

/// What `Spool::put` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Put {
    Stored,
    /// The game was already waiting in the spool.
    AlreadySpooled,
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> ArchiveError + '_ {
    move |source| ArchiveError::Io { path: path.to_path_buf(), source }
}

impl Spool {
    /// Opens (creating if needed) the spool directory and takes stock of the
    /// games waiting in it.
    pub fn open(dir: impl Into<PathBuf>, limit_bytes: u64) -> Result<Spool, ArchiveError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        remove_temp_files(&dir).map_err(io_error(&dir))?;
        let mut state = SpoolState::default();
        for entry in fs::read_dir(&dir).map_err(io_error(&dir))? {
            let entry = entry.map_err(io_error(&dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(game_id) = game_id_of_file_name(&name) else { continue };
            let bytes = entry.metadata().map_err(io_error(&dir))?.len();
            state.used_bytes += bytes;
            state.entries.insert(game_id.to_string(), Entry { bytes, durable: true });
        }
        Ok(Spool { dir, limit_bytes, state: Mutex::new(state) })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, SpoolState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn path_of(&self, game_id: &str) -> PathBuf {
        self.dir.join(record_file_name(game_id))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
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
        self.state().entries.get(game_id).is_some_and(|e| e.durable)
    }

    /// Ids of the games durably waiting.
    pub fn waiting_ids(&self) -> Vec<String> {
        self.state().entries.iter().filter(|(_, e)| e.durable).map(|(id, _)| id.clone()).collect()
    }

    /// Stores a compressed record durably, unless the game is already
    /// spooled; fails with `SpoolFull` when it does not fit.
    pub fn put(&self, game_id: &str, compressed: &[u8]) -> Result<Put, ArchiveError> {
        let bytes = compressed.len() as u64;
        {
            let mut state = self.state();
            if state.entries.contains_key(game_id) {
                return Ok(Put::AlreadySpooled);
            }
            if state.used_bytes + bytes > self.limit_bytes {
                return Err(ArchiveError::SpoolFull { used: state.used_bytes, limit: self.limit_bytes });
            }
            state.used_bytes += bytes;
            state.entries.insert(game_id.to_string(), Entry { bytes, durable: false });
        }
        let path = self.path_of(game_id);
        let written = write_atomic(&path, compressed).and_then(|()| sync_dir(&self.dir));
        let mut state = self.state();
        match written {
            Ok(()) => {
                state.entries.get_mut(game_id).expect("reserved above").durable = true;
                Ok(Put::Stored)
            }
            Err(e) => {
                state.entries.remove(game_id);
                state.used_bytes -= bytes;
                Err(io_error(&path)(e))
            }
        }
    }

    /// Reads a waiting game. `Ok(None)` when it is no longer spooled.
    pub fn read(&self, game_id: &str) -> Result<Option<GameRecord>, ArchiveError> {
        let path = self.path_of(game_id);
        match fs::read(&path) {
            Ok(bytes) => GameRecord::from_compressed(&bytes).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&path)(e)),
        }
    }

    /// Forgets a delivered game (a missing file is fine: at-least-once).
    pub fn remove(&self, game_id: &str) -> Result<(), ArchiveError> {
        let path = self.path_of(game_id);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(&path)(e)),
        }
        self.forget(game_id);
        Ok(())
    }

    /// Moves an unreadable file to `corrupt/` and forgets it.
    pub fn quarantine(&self, game_id: &str) -> Result<PathBuf, ArchiveError> {
        let corrupt_dir = self.dir.join(CORRUPT_DIR);
        fs::create_dir_all(&corrupt_dir).map_err(io_error(&corrupt_dir))?;
        let target = corrupt_dir.join(record_file_name(game_id));
        let path = self.path_of(game_id);
        fs::rename(&path, &target).map_err(io_error(&path))?;
        self.forget(game_id);
        Ok(target)
    }

    fn forget(&self, game_id: &str) {
        let mut state = self.state();
        if let Some(entry) = state.entries.remove(game_id) {
            state.used_bytes -= entry.bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_durable_and_reopened_with_its_contents() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path(), 10).unwrap();
        assert_eq!(spool.put("a", b"12345").unwrap(), Put::Stored);
        assert_eq!(spool.put("a", b"12345").unwrap(), Put::AlreadySpooled);
        assert!(matches!(spool.put("b", b"123456"), Err(ArchiveError::SpoolFull { used: 5, limit: 10 })));
        assert_eq!(spool.put("c", b"12345").unwrap(), Put::Stored);
        assert_eq!((spool.depth(), spool.used_bytes()), (2, 10));

        let reopened = Spool::open(dir.path(), 10).unwrap();
        let mut ids = reopened.waiting_ids();
        ids.sort();
        assert_eq!((ids, reopened.used_bytes()), (vec!["a".to_string(), "c".to_string()], 10));
        assert!(matches!(reopened.read("a"), Err(ArchiveError::Corrupt(_))));
        reopened.quarantine("a").unwrap();
        reopened.remove("c").unwrap();
        reopened.remove("c").unwrap();
        assert_eq!((reopened.depth(), reopened.used_bytes()), (0, 0));
        assert!(dir.path().join("corrupt/a.json.zst").exists());
        assert_eq!(reopened.read("c").unwrap(), None);
    }
}
