//! The ladder fed by the archive: [`LadderSink`] wraps the archive sink the
//! archiver (the host's, or the archiver Lambda's) writes to and counts every
//! game once the sink has stored it, so a game is rated exactly when it is
//! archived, and [`rebuild`] counts every game an archive holds (at start,
//! or to check the live ladder against the archive).

use std::sync::{Arc, RwLock};

use async_trait::async_trait;

use crate::ladder::{Counting, Ladder};
use arcade_archive::listing::{ListFilter, Page, PageRequest};
use arcade_archive::record::GameRecord;
use arcade_archive::{ArchiveError, ArchiveSink};

/// Games per listing page while rebuilding.
const REBUILD_PAGE: usize = 1000;

/// An archive sink that counts what it stores on a ladder.
pub struct LadderSink {
    inner: Arc<dyn ArchiveSink>,
    ladder: Arc<RwLock<Ladder>>,
}

impl LadderSink {
    pub fn new(inner: Arc<dyn ArchiveSink>, ladder: Arc<RwLock<Ladder>>) -> Self {
        LadderSink { inner, ladder }
    }

    /// Counts stored records (a game stored twice counts once).
    fn count(&self, records: &[GameRecord]) {
        let mut ladder = self.ladder.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        for record in records {
            ladder.count_record(record);
        }
    }
}

#[async_trait]
impl ArchiveSink for LadderSink {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    /// Counted only once stored: a failed batch is retried whole, and a game
    /// stored twice (a re-delivery) counts once.
    async fn write_batch(&self, records: &[GameRecord]) -> Result<(), ArchiveError> {
        self.inner.write_batch(records).await?;
        self.count(records);
        Ok(())
    }

    async fn write_compressed_batch(&self, records: &[GameRecord], compressed: &[Vec<u8>]) -> Result<(), ArchiveError> {
        self.inner.write_compressed_batch(records, compressed).await?;
        self.count(records);
        Ok(())
    }

    async fn get(&self, game_id: &str) -> Result<Option<GameRecord>, ArchiveError> {
        self.inner.get(game_id).await
    }

    async fn list(&self, filter: &ListFilter, page: &PageRequest) -> Result<Page, ArchiveError> {
        self.inner.list(filter, page).await
    }

    /// The ladder renames the player as the archive does, so a rebuild from
    /// the archive still gives the same boards.
    async fn pseudonymise(&self, player: &str, pseudonym: &str) -> Result<u64, ArchiveError> {
        let changed = self.inner.pseudonymise(player, pseudonym).await?;
        self.ladder.write().unwrap_or_else(|poisoned| poisoned.into_inner()).rename(player, pseudonym);
        Ok(changed)
    }

    async fn expire(&self, cutoff_ms: u64, batch: usize) -> Result<Option<u64>, ArchiveError> {
        self.inner.expire(cutoff_ms, batch).await
    }
}

/// Counts every rated game `archive` holds on `ladder` (games it counted
/// already count once); returns how many games it read.
pub async fn rebuild(archive: &dyn ArchiveSink, ladder: &RwLock<Ladder>) -> Result<usize, ArchiveError> {
    read_newest(archive, ladder, |_| false, false).await
}

/// Counts the games `archive` holds that `ladder` has not seen, newest
/// first, down to `window_ms` before the newest game it saw: what other
/// writers of a shared archive (other nodes, the archiver Lambda) stored
/// since the last call, including games that arrived late within the
/// window. Returns how many records it read.
pub async fn catch_up(
    archive: &dyn ArchiveSink,
    ladder: &RwLock<Ladder>,
    window_ms: u64,
) -> Result<usize, ArchiveError> {
    let since = read(ladder).newest_seen_ms().saturating_sub(window_ms);
    let read_records = read_newest(archive, ladder, |completed_at_ms| completed_at_ms < since, true).await?;
    ladder.write().unwrap_or_else(|poisoned| poisoned.into_inner()).forget_unrated_before(since);
    Ok(read_records)
}

/// Reads the archive newest first, counting the finished games of two or
/// more players the ladder has not seen, until `done` says a game is old
/// enough to stop or the archive ends; with `remember`, the unrated games
/// read are remembered (a sync's window; a rebuild reads each once).
async fn read_newest(
    archive: &dyn ArchiveSink,
    ladder: &RwLock<Ladder>,
    done: impl Fn(u64) -> bool,
    remember: bool,
) -> Result<usize, ArchiveError> {
    let mut page = PageRequest::first(REBUILD_PAGE);
    let mut read_records = 0;
    loop {
        let listed = archive.list(&ListFilter::default(), &page).await?;
        for summary in &listed.games {
            if done(summary.completed_at_ms) {
                return Ok(read_records);
            }
            let wanted = summary.outcome == "finished" && summary.players.len() >= 2;
            if !wanted || read(ladder).knows(&summary.game_id) {
                continue;
            }
            if let Some(record) = archive.get(&summary.game_id).await? {
                let mut ladder = ladder.write().unwrap_or_else(|poisoned| poisoned.into_inner());
                if ladder.count_record(&record) == Counting::NotRated && remember {
                    ladder.remember_unrated(&record.game_id, record.completed_at_ms);
                }
                read_records += 1;
            }
        }
        match listed.next {
            Some(next) => page = PageRequest { limit: REBUILD_PAGE, after: Some(next) },
            None => return Ok(read_records),
        }
    }
}

fn read(ladder: &RwLock<Ladder>) -> std::sync::RwLockReadGuard<'_, Ladder> {
    ladder.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arcade_archive::fs::FsSink;
    use arcade_test_support::records::{BASE_MS, GameShape, game_record};

    const MINUTE: u64 = 60_000;

    fn game(id: &str, at_ms: u64, rated: bool) -> GameRecord {
        let shape = GameShape { completed_at_ms: at_ms, mode: rated.then_some("standard"), ..GameShape::default() };
        game_record(id, &shape)
    }

    #[tokio::test]
    async fn a_sync_counts_what_others_stored_within_its_window_once() {
        let dir = tempfile::tempdir().unwrap();
        let archive = FsSink::open(dir.path()).await.unwrap();
        archive.write_batch(&[game("g-old", BASE_MS, true), game("g-private", BASE_MS + MINUTE, false)]).await.unwrap();
        let ladder = RwLock::new(Ladder::default());
        assert_eq!(rebuild(&archive, &ladder).await.unwrap(), 2, "both read once");
        assert_eq!(read(&ladder).games_counted(), 1, "the private room's game is not rated");
        assert_eq!(read(&ladder).newest_seen_ms(), BASE_MS + MINUTE);

        // Another writer stores a new game, a late one within the window and
        // one from before the window.
        let later = [
            game("g-new", BASE_MS + 30 * MINUTE, true),
            game("g-late", BASE_MS + 25 * MINUTE, true),
            game("g-private-2", BASE_MS + 29 * MINUTE, false),
            game("g-too-late", BASE_MS - 60 * MINUTE, true),
        ];
        archive.write_batch(&later).await.unwrap();
        let window = 10 * MINUTE;
        // Read: the three newer games, and the private game of the rebuild
        // once more (a rebuild remembers no unrated game).
        assert_eq!(catch_up(&archive, &ladder, window).await.unwrap(), 4);
        assert_eq!(read(&ladder).games_counted(), 3, "g-new and g-late counted, g-too-late left for the next start");
        assert_eq!(
            catch_up(&archive, &ladder, window).await.unwrap(),
            0,
            "nothing read twice, the private game remembered"
        );
        assert!(
            read(&ladder).knows("g-private-2") && !read(&ladder).knows("g-private"),
            "remembered within the window only"
        );

        // A restart (a rebuild) counts everything, the late game in its place.
        let rebuilt = RwLock::new(Ladder::default());
        rebuild(&archive, &rebuilt).await.unwrap();
        assert_eq!(read(&rebuilt).games_counted(), 4);
    }
}
