//! Archive throughput: synthetic finished games sized like the bundled
//! plugins' games (see `benchmark_record` in `arcade-test-support`'s `records`)
//! written in batches into the filesystem archive and the real PostgreSQL
//! and S3-protocol servers of `scripts/services.sh start`, and once more
//! through the `Archiver` (durable spool, then batches) into PostgreSQL and
//! into the filesystem archive. Prints one table row per target (and the
//! cost of encoding a record alone, for scale); every run checks that all
//! games arrived.
//!
//!   scripts/services.sh start && cargo bench -p arcade-archive --bench archive
//!
//! Settings (environment): ARCADE_BENCH_GAMES (20000), ARCADE_BENCH_BATCH
//! (500), ARCADE_BENCH_SUBMITTERS (64 concurrent `submit` callers),
//! ARCADE_BENCH_TARGETS (comma list of `encode,fs,pg,s3,archiver-pg,archiver-fs`;
//! all by default; `archiver-fs` alone needs no services, which is how the
//! files created per game are counted under `strace`, see docs/benchmarks.md).

use std::sync::Arc;
use std::time::{Duration, Instant};

use arcade_archive::fs::FsSink;
use arcade_archive::postgres::PgSink;
use arcade_archive::s3::S3Sink;
use arcade_archive::{ArchiveSink, Archiver, ArchiverConfig, GameRecord, ListFilter, PageRequest};
use arcade_telemetry::metrics::Metrics;
use arcade_test_support::records::benchmark_record;
use arcade_test_support::services::TestServices;
use futures_util::StreamExt;

/// PostgreSQL goal from the issue.
const TARGET_PG_GAMES_PER_SECOND: f64 = 5_000.0;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Row {
    target: &'static str,
    games: usize,
    batch: usize,
    elapsed: Duration,
}

impl Row {
    fn games_per_second(&self) -> f64 {
        self.games as f64 / self.elapsed.as_secs_f64()
    }
}

/// Writes all records in consecutive batches, like the archiver's worker.
async fn write_in_batches(sink: &dyn ArchiveSink, records: &[GameRecord], batch: usize) -> Duration {
    let started = Instant::now();
    for chunk in records.chunks(batch) {
        sink.write_batch(chunk).await.expect("batch write");
    }
    started.elapsed()
}

async fn count_rows(sink: &PgSink) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM completed_games").fetch_one(sink.pool()).await.unwrap()
}

async fn count_listed(sink: &dyn ArchiveSink) -> usize {
    let mut total = 0;
    let mut page = PageRequest::first(1000);
    loop {
        let listed = sink.list(&ListFilter::default(), &page).await.unwrap();
        total += listed.games.len();
        match listed.next {
            Some(next) => page.after = Some(next),
            None => return total,
        }
    }
}

/// Submits every record through an `Archiver` with `submitters` concurrent
/// callers; returns when all were acknowledged (spooled) and when the sink
/// had confirmed all of them.
async fn through_archiver(
    sink: Arc<dyn ArchiveSink>,
    records: &[GameRecord],
    batch: usize,
    submitters: usize,
) -> (Duration, Duration) {
    let spool = tempfile::tempdir().unwrap();
    let config = ArchiverConfig {
        batch_size: batch,
        flush_interval: Duration::from_millis(100),
        ..ArchiverConfig::new(spool.path())
    };
    let archiver = Archiver::start(sink, config, Arc::new(Metrics::default())).await.unwrap();
    let started = Instant::now();
    futures_util::stream::iter(records.iter().cloned().map(|record| archiver.submit(record)))
        .buffer_unordered(submitters)
        .for_each(|submitted| async move { submitted.expect("submit") })
        .await;
    let acknowledged = started.elapsed();
    archiver.flush().await.expect("flush");
    assert_eq!(archiver.waiting(), 0);
    (acknowledged, started.elapsed())
}

fn wanted(target: &str) -> bool {
    match std::env::var("ARCADE_BENCH_TARGETS") {
        Ok(list) if !list.trim().is_empty() => list.split(',').any(|t| t.trim() == target),
        _ => true,
    }
}

async fn run() {
    let games = setting("ARCADE_BENCH_GAMES", 20_000);
    let batch = setting("ARCADE_BENCH_BATCH", 500);
    let submitters = setting("ARCADE_BENCH_SUBMITTERS", 64);
    let records: Vec<GameRecord> = (0..games as u64).map(benchmark_record).collect();
    let json_bytes: usize = records.iter().map(|r| serde_json::to_vec(r).unwrap().len()).sum();
    let stored_bytes: usize = records.iter().map(|r| r.to_compressed().unwrap().len()).sum();
    println!(
        "{games} synthetic games: {} B of JSON each on average, {} B compressed",
        json_bytes / games,
        stored_bytes / games
    );

    let mut rows = Vec::new();
    let mut pg_rate = None;
    if wanted("encode") {
        let started = Instant::now();
        for record in &records {
            std::hint::black_box(record.to_compressed().unwrap());
        }
        rows.push(Row { target: "encode only (1 core)", games, batch: 1, elapsed: started.elapsed() });
    }

    if wanted("fs") {
        let dir = tempfile::tempdir().unwrap();
        let sink = FsSink::open(dir.path()).await.unwrap();
        let elapsed = write_in_batches(&sink, &records, batch).await;
        assert_eq!(count_listed(&FsSink::open(dir.path()).await.unwrap()).await, games, "every game is archived");
        rows.push(Row { target: "filesystem (sink batches)", games, batch, elapsed });
    }

    if wanted("pg") {
        let services = TestServices::get();
        let pg = Arc::new(PgSink::connect(&services.fresh_database().await).await.unwrap());
        pg.ensure_schema().await.unwrap();
        let elapsed = write_in_batches(pg.as_ref(), &records, batch).await;
        assert_eq!(count_rows(&pg).await, games as i64, "every game is in PostgreSQL");
        let postgres = Row { target: "postgres (sink batches)", games, batch, elapsed };
        pg_rate = Some(postgres.games_per_second());
        rows.push(postgres);
    }

    if wanted("s3") {
        let services = TestServices::get();
        let s3_url = services.fresh_s3_url("bench");
        let elapsed = write_in_batches(&S3Sink::open(&s3_url).await.unwrap(), &records, batch).await;
        // A fresh sink sees the games through the manifests only.
        assert_eq!(count_listed(&S3Sink::open(&s3_url).await.unwrap()).await, games, "every game is in S3");
        rows.push(Row { target: "s3/moto (sink batches)", games, batch, elapsed });
    }

    if wanted("archiver-pg") {
        let services = TestServices::get();
        let pg_via_archiver = Arc::new(PgSink::connect(&services.fresh_database().await).await.unwrap());
        pg_via_archiver.ensure_schema().await.unwrap();
        let (acknowledged, delivered) = through_archiver(pg_via_archiver.clone(), &records, batch, submitters).await;
        assert_eq!(count_rows(&pg_via_archiver).await, games as i64);
        rows.push(Row { target: "archiver submit (spooled)", games, batch, elapsed: acknowledged });
        rows.push(Row { target: "archiver → postgres", games, batch, elapsed: delivered });
    }

    if wanted("archiver-fs") {
        let dir = tempfile::tempdir().unwrap();
        let sink = Arc::new(FsSink::open(dir.path()).await.unwrap());
        let (acknowledged, delivered) = through_archiver(sink.clone(), &records, batch, submitters).await;
        assert_eq!(count_listed(sink.as_ref()).await, games, "every game is archived");
        rows.push(Row { target: "archiver submit (fs run)", games, batch, elapsed: acknowledged });
        rows.push(Row { target: "archiver → filesystem", games, batch, elapsed: delivered });
    }

    println!("\n| target                     |  games | batch | seconds |  games/s |");
    println!("|----------------------------|-------:|------:|--------:|---------:|");
    for row in &rows {
        println!(
            "| {:<26} | {:>6} | {:>5} | {:>7.2} | {:>8.0} |",
            row.target,
            row.games,
            row.batch,
            row.elapsed.as_secs_f64(),
            row.games_per_second()
        );
    }
    if let Some(pg_rate) = pg_rate {
        let verdict = if pg_rate >= TARGET_PG_GAMES_PER_SECOND { "met" } else { "NOT met" };
        println!("\nPostgreSQL target of {TARGET_PG_GAMES_PER_SECOND:.0} games/s: {verdict} ({pg_rate:.0} games/s)");
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument that is not ours skips the run.
    if std::env::args().skip(1).any(|a| !a.starts_with("--") && a != "archive") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(run());
}
