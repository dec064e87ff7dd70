//! Crash-safe whole-file writes for the rare files that are not segments
//! (a rebuilt archive index, a quarantined spooled game): a file is written
//! under a temporary name, fsynced and renamed into place, so a reader sees
//! either nothing or the whole file. The caller fsyncs the directory to make
//! the new name itself durable.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// Prefix of temporary files; leftovers of a crash are removed on open.
pub const TEMP_PREFIX: &str = ".tmp-";

/// Writes `bytes` to `path` atomically (temp file + fsync + rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().ok_or_else(|| io::Error::other("a file path needs a parent directory"))?;
    let name = path.file_name().ok_or_else(|| io::Error::other("a file path needs a file name"))?;
    let temp = dir.join(format!("{TEMP_PREFIX}{}-{}", name.to_string_lossy(), uuid::Uuid::new_v4().simple()));
    let written = (|| {
        let mut file = File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

pub fn is_temp_file(file_name: &str) -> bool {
    file_name.starts_with(TEMP_PREFIX)
}

/// Removes temporary files a crash left in `dir`; returns how many.
pub fn remove_temp_files(dir: &Path) -> io::Result<usize> {
    let mut removed = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if is_temp_file(&entry.file_name().to_string_lossy()) {
            fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.bin");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        fs::write(dir.path().join(format!("{TEMP_PREFIX}a.bin-x")), b"torn").unwrap();
        assert_eq!(remove_temp_files(dir.path()).unwrap(), 1);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
