//! Writing a batch of games to every archive (PostgreSQL and S3) and saying,
//! per game, whether it is stored everywhere.
//!
//! Each sink first gets the whole batch in one `write_batch` (one
//! transaction in PostgreSQL, one manifest in S3). If that fails, the sink
//! gets each game on its own, concurrently, so one poison record (say, JSON
//! PostgreSQL rejects) fails only its own message. Sinks are idempotent per
//! game id, so writing a game again, in a retry or a re-delivered message,
//! stores nothing twice.

use std::sync::Arc;

use arcade_archive::{ArchiveSink, GameRecord};
use futures_util::future::join_all;

pub struct Archive {
    sinks: Vec<Arc<dyn ArchiveSink>>,
}

/// Per game of a batch: `None` if every sink stored it, else why not.
pub type Outcomes = Vec<Option<String>>;

impl Archive {
    pub fn new(sinks: Vec<Arc<dyn ArchiveSink>>) -> Archive {
        Archive { sinks }
    }

    /// Stores `records` in every sink (the sinks in parallel).
    pub async fn write(&self, records: &[GameRecord]) -> Outcomes {
        let mut outcomes = vec![None; records.len()];
        if records.is_empty() {
            return outcomes;
        }
        for sink_outcomes in join_all(self.sinks.iter().map(|sink| write_to(sink.as_ref(), records))).await {
            for (outcome, failure) in outcomes.iter_mut().zip(sink_outcomes) {
                if outcome.is_none() {
                    *outcome = failure;
                }
            }
        }
        outcomes
    }
}

async fn write_to(sink: &dyn ArchiveSink, records: &[GameRecord]) -> Outcomes {
    let backend = sink.backend();
    let error = match sink.write_batch(records).await {
        Ok(()) => return vec![None; records.len()],
        Err(error) => error,
    };
    if records.len() == 1 {
        return vec![Some(format!("{backend}: {error}"))];
    }
    tracing::warn!(backend, games = records.len(), %error, "batch write failed; writing its games one by one");
    let singles = records.iter().map(|record| sink.write_batch(std::slice::from_ref(record)));
    join_all(singles).await.into_iter().map(|result| result.err().map(|e| format!("{backend}: {e}"))).collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use arcade_archive::{ArchiveError, ListFilter, Page, PageRequest};

    use super::*;
    use crate::message::tests::record;

    /// Fails every write that contains `poison`; remembers what it stored.
    struct Picky {
        poison: &'static str,
        stored: Mutex<Vec<String>>,
    }

    #[async_trait::async_trait]
    impl ArchiveSink for Picky {
        fn backend(&self) -> &'static str {
            "picky"
        }
        async fn write_batch(&self, records: &[GameRecord]) -> Result<(), ArchiveError> {
            if records.iter().any(|r| r.game_id == self.poison) {
                return Err(ArchiveError::InvalidRecord(format!("{} is poison", self.poison)));
            }
            self.stored.lock().unwrap().extend(records.iter().map(|r| r.game_id.clone()));
            Ok(())
        }
        async fn get(&self, _: &str) -> Result<Option<GameRecord>, ArchiveError> {
            unreachable!("the archiver only writes")
        }
        async fn list(&self, _: &ListFilter, _: &PageRequest) -> Result<Page, ArchiveError> {
            unreachable!("the archiver only writes")
        }
        async fn pseudonymise(&self, _: &str, _: &str) -> Result<u64, ArchiveError> {
            unreachable!("the archiver only writes")
        }
    }

    #[tokio::test]
    async fn a_poison_record_fails_alone_in_the_sink_that_rejects_it() {
        let first = Arc::new(Picky { poison: "g-2", stored: Mutex::default() });
        let second = Arc::new(Picky { poison: "none", stored: Mutex::default() });
        let archive = Archive::new(vec![first.clone(), second.clone()]);
        let games = [record("g-1"), record("g-2"), record("g-3")];

        let outcomes = archive.write(&games).await;
        assert_eq!(outcomes[0], None);
        assert_eq!(outcomes[1].as_deref(), Some("picky: invalid game record: g-2 is poison"));
        assert_eq!(outcomes[2], None);
        assert_eq!(*first.stored.lock().unwrap(), ["g-1", "g-3"]);
        assert_eq!(*second.stored.lock().unwrap(), ["g-1", "g-2", "g-3"]);
        assert!(archive.write(&[]).await.is_empty());
    }
}
