//! Retention of archived games (`archive::retention`) with a controlled
//! clock: the filesystem archive (segments deleted, index consistent after
//! a reopen, a crash after the cutoff was recorded) and PostgreSQL (the real
//! server of `scripts/services.sh`: events deleted with their game, more
//! expired games than one delete batch), S3 (the S3-protocol server: the
//! lifecycle rule deletes objects, the sink forgets the games it lists), and
//! the background job counting what it expired in its metric.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use arcade_archive::fs::{FsExpiry, FsSink};
use arcade_archive::postgres::PgSink;
use arcade_archive::retention::{self, RetentionPolicy};
use arcade_archive::s3::S3Sink;
use arcade_archive::{ArchiveSink, GameRecord, ListFilter, PageRequest};
use arcade_telemetry::metrics::Metrics;
use arcade_test_support::records::{BASE_MS, DAY_MS, GameShape, game_record};
use arcade_test_support::services::TestServices;

const POLICY: RetentionPolicy = RetentionPolicy { days: 90, interval: Duration::from_secs(3600), batch: 1000 };

/// A game completed `days` (may be fractional) after `BASE_MS`.
fn game_on_day(id: &str, days: f64) -> GameRecord {
    let shape = GameShape { completed_at_ms: BASE_MS + (days * DAY_MS as f64) as u64, ..GameShape::default() };
    game_record(id, &shape)
}

/// "Now" such that games completed before day `day` have expired under `POLICY`.
fn now_expiring_before_day(day: f64) -> u64 {
    BASE_MS + ((day + f64::from(POLICY.days)) * DAY_MS as f64) as u64
}

async fn listed_ids(sink: &dyn ArchiveSink) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut page = PageRequest::first(2);
    loop {
        let listed = sink.list(&ListFilter::default(), &page).await.unwrap();
        ids.extend(listed.games.iter().map(|g| g.game_id.clone()));
        match listed.next {
            Some(next) => page.after = Some(next),
            None => return ids,
        }
    }
}

/// `get` returns exactly `kept` (their full records) and nothing of `gone`;
/// the listing holds exactly `kept`.
async fn assert_archive_holds(sink: &dyn ArchiveSink, kept: &[&GameRecord], gone: &[&GameRecord]) {
    for game in kept {
        assert_eq!(sink.get(&game.game_id).await.unwrap().as_ref(), Some(*game), "{} is kept", game.game_id);
    }
    for game in gone {
        assert_eq!(sink.get(&game.game_id).await.unwrap(), None, "{} has expired", game.game_id);
    }
    let expected: BTreeSet<String> = kept.iter().map(|g| g.game_id.clone()).collect();
    assert_eq!(listed_ids(sink).await, expected);
}

fn segment_ids(dir: &Path) -> Vec<u64> {
    let mut ids: Vec<u64> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().unwrap().strip_suffix(".games")?.parse().ok())
        .collect();
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn filesystem_archive_drops_expired_games_and_whole_segments_and_stays_consistent_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    // One segment per batch.
    let open = || FsSink::open_with_segment_bytes(dir.path(), 1);
    let old: Vec<GameRecord> = (0..3).map(|d| game_on_day(&format!("old-{d}"), d as f64)).collect();
    let (day3, day10) = (game_on_day("mixed-3", 3.0), game_on_day("mixed-10", 10.0));
    let new: Vec<GameRecord> = [11.0, 12.0].iter().map(|d| game_on_day(&format!("new-{d}"), *d)).collect();
    {
        let (sink, _) = open().await.unwrap();
        sink.write_batch(&old).await.unwrap(); // segment 1: all old
        sink.write_batch(&[day3.clone(), day10.clone()]).await.unwrap(); // 2: one old, one newer
        sink.write_batch(&new).await.unwrap(); // 3
        assert_eq!(segment_ids(&sink.segments_dir()), [1, 2, 3]);

        // Nothing has expired yet: the job deletes nothing.
        assert_eq!(retention::expire_once(&sink, &POLICY, now_expiring_before_day(0.0)).await.unwrap(), Some(0));
        // Kept forever: the job does nothing at all.
        let forever = RetentionPolicy { days: 0, ..POLICY };
        assert_eq!(retention::expire_once(&sink, &forever, u64::MAX).await.unwrap(), None);

        // Games of days 0-2 expire: segment 1 goes whole. The index keeps
        // their entries (3 dead ones, fewer than the 4 live ones).
        let expired = retention::expire_once(&sink, &POLICY, now_expiring_before_day(2.5)).await.unwrap();
        assert_eq!(expired, Some(3));
        assert_eq!(segment_ids(&sink.segments_dir()), [2, 3]);
        let kept: Vec<&GameRecord> = [&day3, &day10].into_iter().chain(&new).collect();
        assert_archive_holds(&sink, &kept, &old.iter().collect::<Vec<_>>()).await;
    }

    // Reopen: the recorded cutoff keeps the expired games out, although the
    // index still names them (their segment is gone: expired, not stale).
    let (sink, recovery) = open().await.unwrap();
    assert_eq!((recovery.indexed, recovery.expired, recovery.stale, recovery.reindexed), (4, 3, 0, 0));
    let kept: Vec<&GameRecord> = [&day3, &day10].into_iter().chain(&new).collect();
    assert_archive_holds(&sink, &kept, &old.iter().collect::<Vec<_>>()).await;

    // Day 3 expires: segment 2 still holds day 10, so it stays. Dead index
    // entries now outnumber live ones: the index is rewritten.
    let expiry = sink.expire_before(BASE_MS + 5 * DAY_MS).await.unwrap();
    assert_eq!(expiry, FsExpiry { games: 1, segments_deleted: 0, index_rewritten: true });
    assert_eq!(segment_ids(&sink.segments_dir()), [2, 3]);
    // A game older than the cutoff delivered late is expired on arrival.
    let late = game_on_day("late-1", 1.0);
    sink.write_batch(std::slice::from_ref(&late)).await.unwrap();
    let kept: Vec<&GameRecord> = [&day10].into_iter().chain(&new).collect();
    let gone: Vec<&GameRecord> = old.iter().chain([&day3, &late]).collect();
    assert_archive_holds(&sink, &kept, &gone).await;
    drop(sink);

    let (sink, recovery) = open().await.unwrap();
    assert_eq!((recovery.indexed, recovery.expired, recovery.stale, recovery.reindexed), (3, 0, 0, 0));
    assert_archive_holds(&sink, &kept, &gone).await;

    // Everything expires; the newest segment stays (it holds the next id),
    // and a new game goes to a new segment, not a reused id.
    let expired = retention::expire_once(&sink, &POLICY, now_expiring_before_day(100.0)).await.unwrap();
    assert_eq!(expired, Some(3));
    assert_eq!(segment_ids(&sink.segments_dir()), [3]);
    let fresh = game_on_day("fresh-101", 101.0);
    sink.write_batch(std::slice::from_ref(&fresh)).await.unwrap();
    assert_eq!(segment_ids(&sink.segments_dir()), [3, 4]);
    drop(sink);
    let (sink, recovery) = open().await.unwrap();
    assert_eq!((recovery.indexed, recovery.stale, recovery.cuts), (1, 0, 0));
    let gone: Vec<&GameRecord> = old.iter().chain([&day3, &day10, &late]).chain(&new).collect();
    assert_archive_holds(&sink, &[&fresh], &gone).await;
}

#[tokio::test]
async fn filesystem_archive_finishes_an_expiry_a_crash_interrupted_after_the_cutoff_was_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let old = game_on_day("old", 0.0);
    let new = game_on_day("new", 10.0);
    {
        let (sink, _) = FsSink::open_with_segment_bytes(dir.path(), 1).await.unwrap();
        sink.write_batch(std::slice::from_ref(&old)).await.unwrap();
        sink.write_batch(std::slice::from_ref(&new)).await.unwrap();
    }
    // The state a crash right after the commit point leaves: the cutoff is
    // durable, nothing else happened (the segment of "old" is still there).
    let cutoff = BASE_MS + DAY_MS;
    std::fs::write(dir.path().join("retention.json"), format!("{{\"expired_before_ms\":{cutoff}}}")).unwrap();
    let (sink, recovery) = FsSink::open_with_segment_bytes(dir.path(), 1).await.unwrap();
    assert_eq!((recovery.indexed, recovery.expired), (1, 1));
    assert_archive_holds(&sink, &[&new], &[&old]).await;
    assert_eq!(segment_ids(&sink.segments_dir()), [1, 2]);
    // The next run (same cutoff: no new games) deletes what is left to delete.
    let expiry = sink.expire_before(cutoff).await.unwrap();
    assert_eq!(expiry, FsExpiry { games: 0, segments_deleted: 1, index_rewritten: false });
    assert_eq!(segment_ids(&sink.segments_dir()), [2]);

    // A damaged cutoff file is refused rather than ignored (which would
    // bring expired games back).
    drop(sink);
    std::fs::write(dir.path().join("retention.json"), b"{\"expired_before").unwrap();
    assert!(FsSink::open(dir.path()).await.is_err());
}

#[tokio::test]
async fn postgres_archive_deletes_expired_games_with_their_events_in_batches() {
    let services = TestServices::get();
    let url = services.fresh_database().await;
    let sink = PgSink::connect(&url).await.unwrap();
    // More expired games than one delete batch holds (2 batches and a part).
    let old: Vec<GameRecord> = (0..2_300).map(|i| game_on_day(&format!("old-{i:05}"), i as f64 / 1_000.0)).collect();
    let new: Vec<GameRecord> = (0..5).map(|i| game_on_day(&format!("new-{i}"), 10.0 + i as f64)).collect();
    for chunk in old.chunks(500) {
        sink.write_batch(chunk).await.unwrap();
    }
    sink.write_batch(&new).await.unwrap();
    let events_per_game = new[0].events.len() as i64;
    assert!(events_per_game > 0);
    let count = |sql: &'static str| {
        let pool = sink.pool().clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool).await.unwrap() }
    };
    assert_eq!(count("SELECT count(*) FROM game_events").await, 2_305 * events_per_game);

    let policy = RetentionPolicy { batch: 1_000, ..POLICY };
    assert_eq!(retention::expire_once(&sink, &policy, now_expiring_before_day(0.0)).await.unwrap(), Some(0));
    let expired = retention::expire_once(&sink, &policy, now_expiring_before_day(5.0)).await.unwrap();
    assert_eq!(expired, Some(2_300));
    assert_eq!(count("SELECT count(*) FROM completed_games").await, 5);
    assert_eq!(count("SELECT count(*) FROM game_events").await, 5 * events_per_game, "events went with their games");
    assert_eq!(count("SELECT count(*) FROM game_events WHERE game_id LIKE 'old-%'").await, 0);
    let sample: Vec<&GameRecord> = old.iter().step_by(97).collect();
    assert_archive_holds(&sink, &new.iter().collect::<Vec<_>>(), &sample).await;

    // The cutoff is exclusive: a game completed exactly at it stays.
    let cutoff = new[0].completed_at_ms;
    assert_eq!(sink.expire(cutoff, 1).await.unwrap(), Some(0));
    assert_eq!(sink.expire(cutoff + 1, 1).await.unwrap(), Some(1));
    assert_eq!(sink.get(&new[0].game_id).await.unwrap(), None);
}

#[tokio::test]
async fn the_retention_job_runs_at_start_and_counts_what_it_expired() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Arc::new(FsSink::open(dir.path()).await.unwrap());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let at = |days_ago: u64, id: &str| {
        game_record(id, &GameShape { completed_at_ms: now - days_ago * DAY_MS, ..GameShape::default() })
    };
    let (expired, kept) = (at(91, "ninety-one-days-ago"), at(89, "eighty-nine-days-ago"));
    sink.write_batch(&[expired.clone(), kept.clone()]).await.unwrap();
    let metrics = Arc::new(Metrics::default());
    let job = retention::spawn(sink.clone(), POLICY, metrics.clone()).expect("retention is on");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while metrics.archive_games_expired.get() == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the job did not run at start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    job.abort();
    assert_eq!(metrics.archive_games_expired.get(), 1);
    assert_archive_holds(sink.as_ref(), &[&kept], &[&expired]).await;
    let rendered = metrics.render();
    assert!(rendered.contains("arcade_archive_games_expired_total 1"), "{rendered}");
    assert!(retention::spawn(sink, RetentionPolicy { days: 0, ..POLICY }, metrics).is_none());
}

/// The S3 objects are deleted by the bucket's lifecycle rule, not by the
/// sink; a running host must stop listing (and reading) what it deleted,
/// also games it learns of later from manifests the rule has not reached.
#[tokio::test]
async fn s3_archive_forgets_expired_games_it_listed_and_does_not_relearn_them() {
    let services = TestServices::get();
    let url = services.fresh_s3_url("games");
    let sink = S3Sink::open(&url).await.unwrap();
    let old: Vec<GameRecord> = (0..3).map(|d| game_on_day(&format!("s3-old-{d}"), d as f64)).collect();
    let new: Vec<GameRecord> = [10.0, 11.0].iter().map(|d| game_on_day(&format!("s3-new-{d}"), *d)).collect();
    sink.write_batch(&old[..2]).await.unwrap();
    sink.write_batch(&new).await.unwrap();
    let all: Vec<&GameRecord> = old[..2].iter().chain(&new).collect();
    assert_archive_holds(&sink, &all, &[]).await;
    let objects_before = list_keys(&sink).await;

    assert_eq!(retention::expire_once(&sink, &POLICY, now_expiring_before_day(0.0)).await.unwrap(), Some(0));
    let expired = retention::expire_once(&sink, &POLICY, now_expiring_before_day(5.0)).await.unwrap();
    assert_eq!(expired, Some(2));
    let gone: Vec<&GameRecord> = old.iter().collect();
    assert_archive_holds(&sink, &new.iter().collect::<Vec<_>>(), &gone).await;
    assert_eq!(list_keys(&sink).await, objects_before, "the sink deletes no object (the lifecycle rule does)");

    // Another host, which has not expired anything, archives an old game
    // late: its manifest does not bring the game back here, and this host
    // does not write an expired game itself.
    let other = S3Sink::open(&url).await.unwrap();
    other.write_batch(std::slice::from_ref(&old[2])).await.unwrap();
    assert_eq!(other.get(&old[2].game_id).await.unwrap().as_ref(), Some(&old[2]));
    assert_archive_holds(&sink, &new.iter().collect::<Vec<_>>(), &gone).await;
    let late = game_on_day("s3-late-4", 4.0);
    sink.write_batch(std::slice::from_ref(&late)).await.unwrap();
    assert_eq!(other.get(&late.game_id).await.unwrap(), None, "an expired game was written");

    // The lifecycle rule deletes the old records and the manifests naming
    // them (emulated here); the sink keeps listing exactly the new games.
    let bucket = &sink.location().bucket;
    for key in list_keys(&sink).await {
        let names_old_game = if key.contains("/manifests/") {
            let body = sink.client().get_object().bucket(bucket).key(&key).send().await.unwrap();
            let manifest = String::from_utf8(body.body.collect().await.unwrap().to_vec()).unwrap();
            old.iter().any(|g| manifest.contains(&g.game_id))
        } else {
            old.iter().any(|g| key.contains(&g.game_id))
        };
        if names_old_game {
            sink.client().delete_object().bucket(bucket).key(&key).send().await.unwrap();
        }
    }
    assert!(!list_keys(&sink).await.iter().any(|k| old.iter().any(|g| k.contains(&g.game_id))));
    assert_archive_holds(&sink, &new.iter().collect::<Vec<_>>(), &gone).await;
    // Later cutoffs expire more; an earlier one does not bring games back.
    assert_eq!(sink.expire(new[1].completed_at_ms, 1).await.unwrap(), Some(1));
    assert_eq!(sink.expire(0, 1).await.unwrap(), Some(0));
    assert_archive_holds(&sink, &[&new[1]], &[&new[0]]).await;
}

async fn list_keys(sink: &S3Sink) -> BTreeSet<String> {
    let listing = sink.client().list_objects_v2().bucket(&sink.location().bucket).send().await.unwrap();
    listing.contents().iter().filter_map(|o| o.key().map(str::to_string)).collect()
}
