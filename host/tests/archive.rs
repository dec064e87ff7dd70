//! Archive backends and the archiver against REAL servers: the filesystem,
//! the PostgreSQL and the S3-protocol server (moto) that
//! `scripts/services.sh start` runs. Without them these tests fail and say so.
//!
//! Tests that use PostgreSQL hold `PG_SHARED` for reading; the outage test
//! stops the server and holds it for writing.

mod support;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use arcade_host::archive::fs::FsSink;
use arcade_host::archive::postgres::PgSink;
use arcade_host::archive::s3::S3Sink;
use arcade_host::archive::{
    ArchiveError, ArchiveSink, Archiver, ArchiverConfig, GameRecord, ListFilter, PageRequest, open_sink,
};
use arcade_host::metrics::Metrics;
use support::records::{BASE_MS, DAY_MS, GameShape, game_record};
use support::services::TestServices;
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

static PG_SHARED: RwLock<()> = RwLock::const_new(());

async fn pg_shared() -> RwLockReadGuard<'static, ()> {
    PG_SHARED.read().await
}

async fn pg_exclusive() -> RwLockWriteGuard<'static, ()> {
    PG_SHARED.write().await
}

/// Twelve games over two days, two plugins, three players, one aborted.
fn sample_games() -> Vec<GameRecord> {
    let seatings: [&[&str]; 3] = [&["ann", "bob"], &["bob", "cid"], &["cid", "ann"]];
    (0..12u64)
        .map(|i| {
            let shape = GameShape {
                plugin: if i % 2 == 0 { "tic-tac-toe" } else { "connect-four" },
                players: seatings[(i % 3) as usize],
                // Two games share each completion time, exercising the id tiebreak.
                completed_at_ms: BASE_MS + (i / 2) * (DAY_MS / 5),
                turns: 3 + i,
                aborted: i == 7,
            };
            game_record(&format!("game-{i:02}"), &shape)
        })
        .collect()
}

/// Game ids of `games` matching `filter`, in listing order (newest first).
fn expected_ids(games: &[GameRecord], filter: &ListFilter) -> Vec<String> {
    let mut matching: Vec<&GameRecord> = games
        .iter()
        .filter(|g| filter.plugin.as_ref().is_none_or(|p| *p == g.plugin.name))
        .filter(|g| filter.player.as_ref().is_none_or(|p| g.players.contains(p)))
        .collect();
    matching.sort_by(|a, b| (b.completed_at_ms, &b.game_id).cmp(&(a.completed_at_ms, &a.game_id)));
    matching.into_iter().map(|g| g.game_id.clone()).collect()
}

/// Every page of a listing, checking page sizes and cursors.
async fn list_all(sink: &dyn ArchiveSink, filter: &ListFilter, limit: usize) -> Vec<String> {
    let mut ids = Vec::new();
    let mut page_request = PageRequest::first(limit);
    loop {
        let page = sink.list(filter, &page_request).await.unwrap();
        assert!(page.games.len() <= limit, "a page holds at most {limit} games");
        ids.extend(page.games.iter().map(|g| g.game_id.clone()));
        match page.next {
            Some(cursor) => {
                assert_eq!(page.games.len(), limit, "only full pages have a next cursor");
                page_request.after = Some(cursor);
            }
            None => return ids,
        }
        assert!(ids.len() <= 100, "paging does not terminate: {ids:?}");
    }
}

/// What every backend must do: store, return, list, filter, page, and
/// ignore re-archived games.
async fn check_backend_contract(sink: &dyn ArchiveSink) -> Vec<GameRecord> {
    let games = sample_games();
    sink.write_batch(&games[..7]).await.unwrap();
    // Overlapping batch, with a duplicate inside it: harmless.
    let mut overlapping = games.clone();
    overlapping.push(games[0].clone());
    sink.write_batch(&overlapping).await.unwrap();
    // A different record under an archived id does not replace the first.
    let mut impostor = games[3].clone();
    impostor.seed = arcade_host::seed::Seed::SplitMix64(1);
    sink.write_batch(&[impostor]).await.unwrap();

    for game in &games {
        assert_eq!(sink.get(&game.game_id).await.unwrap().as_ref(), Some(game), "get {}", game.game_id);
    }
    assert_eq!(sink.get("game-99").await.unwrap(), None);
    assert_eq!(sink.get("../etc/passwd").await.unwrap(), None);

    let filters = [
        ListFilter::default(),
        ListFilter { plugin: Some("tic-tac-toe".into()), player: None },
        ListFilter { plugin: None, player: Some("ann".into()) },
        ListFilter { plugin: Some("connect-four".into()), player: Some("cid".into()) },
        ListFilter { plugin: Some("no-such-game".into()), player: None },
    ];
    for filter in &filters {
        let expected = expected_ids(&games, filter);
        for limit in [1, 3, 5, 100] {
            assert_eq!(list_all(sink, filter, limit).await, expected, "{filter:?}, pages of {limit}");
        }
    }
    let first = sink.list(&ListFilter::default(), &PageRequest::first(2)).await.unwrap();
    let summary = &first.games[0];
    let newest = games.iter().find(|g| g.game_id == summary.game_id).unwrap();
    assert_eq!(
        (summary.winners.as_slice(), summary.players.as_slice(), summary.started_at_ms, summary.outcome.as_str()),
        (newest.winners(), newest.players.as_slice(), newest.started_at_ms, newest.outcome())
    );
    let bad_cursor = PageRequest { limit: 2, after: Some("not-a-cursor".into()) };
    assert!(matches!(sink.list(&ListFilter::default(), &bad_cursor).await, Err(ArchiveError::InvalidCursor(_))));
    games
}

#[tokio::test]
async fn filesystem_backend_round_trips_lists_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let sink = FsSink::open(dir.path()).await.unwrap();
    let games = check_backend_contract(&sink).await;

    let files: BTreeSet<String> = walk_files(&dir.path().join("games"));
    let expected: BTreeSet<String> = games
        .iter()
        .map(|g| {
            let date = arcade_host::archive::keys::UtcDate::from_unix_ms(g.completed_at_ms).dashed();
            format!("{date}/{}.json.zst", g.game_id)
        })
        .collect();
    assert_eq!(files, expected, "one file per game under games/<yyyy-mm-dd>/");
    let index = std::fs::read_to_string(sink.index_path()).unwrap();
    assert_eq!(index.lines().count(), games.len(), "one index line per game");

    drop(sink);
    let reopened = FsSink::open(dir.path()).await.unwrap();
    assert_eq!(list_all(&reopened, &ListFilter::default(), 5).await, expected_ids(&games, &ListFilter::default()));
}

fn walk_files(games_dir: &std::path::Path) -> BTreeSet<String> {
    let mut files = BTreeSet::new();
    for day in std::fs::read_dir(games_dir).unwrap() {
        let day = day.unwrap().path();
        for file in std::fs::read_dir(&day).unwrap() {
            let name = file.unwrap().file_name().to_string_lossy().into_owned();
            files.insert(format!("{}/{name}", day.file_name().unwrap().to_string_lossy()));
        }
    }
    files
}

#[tokio::test]
async fn filesystem_index_is_rebuilt_when_missing_corrupt_or_behind() {
    let dir = tempfile::tempdir().unwrap();
    let games = sample_games();
    let all = ListFilter::default();
    let index_path = {
        let sink = FsSink::open(dir.path()).await.unwrap();
        sink.write_batch(&games).await.unwrap();
        sink.index_path()
    };
    let expected = expected_ids(&games, &all);

    // A torn last line and garbage.
    let mut text = std::fs::read_to_string(&index_path).unwrap();
    text.truncate(text.len() - 20);
    std::fs::write(&index_path, text + "\n{not json\n").unwrap();
    let sink = FsSink::open(dir.path()).await.unwrap();
    assert_eq!(list_all(&sink, &all, 4).await, expected);
    drop(sink);

    // Missing.
    std::fs::remove_file(&index_path).unwrap();
    let sink = FsSink::open(dir.path()).await.unwrap();
    assert_eq!(list_all(&sink, &all, 4).await, expected);
    assert_eq!(std::fs::read_to_string(&index_path).unwrap().lines().count(), games.len());
    drop(sink);

    // Behind its files (a crash between the record and the index append),
    // with a leftover temporary file, and an entry whose file is gone.
    let lines: Vec<String> = std::fs::read_to_string(&index_path).unwrap().lines().map(String::from).collect();
    std::fs::write(&index_path, lines[..5].join("\n") + "\n").unwrap();
    let gone: GameRecord = {
        let summary: arcade_host::archive::GameSummary = serde_json::from_str(&lines[0]).unwrap();
        games.iter().find(|g| g.game_id == summary.game_id).unwrap().clone()
    };
    let gone_path = arcade_host::archive::fs::record_path(dir.path(), &gone.game_id, gone.completed_at_ms);
    std::fs::remove_file(&gone_path).unwrap();
    let temp = gone_path.with_file_name(".tmp-game-xx.json.zst-1234");
    std::fs::write(&temp, b"torn").unwrap();
    let sink = FsSink::open(dir.path()).await.unwrap();
    let without_gone: Vec<String> = expected.iter().filter(|id| **id != gone.game_id).cloned().collect();
    assert_eq!(list_all(&sink, &all, 4).await, without_gone);
    assert!(!temp.exists(), "temporary files of a crash are removed");
    assert_eq!(sink.get(&gone.game_id).await.unwrap(), None);
    // And it can be archived again.
    sink.write_batch(std::slice::from_ref(&gone)).await.unwrap();
    assert_eq!(sink.get(&gone.game_id).await.unwrap(), Some(gone));
}

async fn count(pool: &sqlx::PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn postgres_migrations_create_tables_and_indexes() {
    let _pg = pg_shared().await;
    let services = TestServices::get();
    let sink = PgSink::connect(&services.fresh_database().await).await.unwrap();
    sink.ensure_schema().await.unwrap();
    let pool = sink.pool();

    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name IN ('completed_games', 'game_events')",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let has = |table: &str, column: &str, data_type: &str| {
        columns.iter().any(|(t, c, d)| t == table && c == column && d == data_type)
    };
    for (column, data_type) in [
        ("game_id", "text"),
        ("room_id", "text"),
        ("plugin_name", "text"),
        ("plugin_version", "text"),
        ("plugin_hash", "text"),
        ("config", "jsonb"),
        ("players", "ARRAY"),
        ("seed", "text"), // "chacha20-v1:<hex>", or the number of a splitmix64 game (migration 0002)
        ("started_at", "timestamp with time zone"),
        ("completed_at", "timestamp with time zone"),
        ("duration_ms", "bigint"),
        ("winners", "ARRAY"),
        ("final_scores", "jsonb"),
        ("status", "text"),
        ("record", "bytea"),
    ] {
        assert!(has("completed_games", column, data_type), "completed_games.{column} {data_type}: {columns:?}");
    }
    for (column, data_type) in [
        ("game_id", "text"),
        ("seq", "bigint"),
        ("type", "text"),
        ("data", "jsonb"),
        ("at", "timestamp with time zone"),
    ] {
        assert!(has("game_events", column, data_type), "game_events.{column} {data_type}");
    }

    let indexes: Vec<(String, String)> =
        sqlx::query_as("SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = 'public'")
            .fetch_all(pool)
            .await
            .unwrap();
    let index = |name: &str| indexes.iter().find(|(n, _)| n == name).map(|(_, def)| def.clone());
    assert!(index("completed_games_pkey").unwrap().contains("(game_id)"));
    assert!(index("game_events_pkey").unwrap().contains("(game_id, seq)"));
    assert!(index("completed_games_room_id_idx").unwrap().contains("(room_id)"));
    assert!(index("completed_games_completed_at_idx").unwrap().contains("(completed_at DESC"));
    assert!(index("completed_games_winners_idx").unwrap().contains("USING gin (winners)"));

    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(applied.first(), Some(&1), "migration 0001 is recorded");
}

#[tokio::test]
async fn postgres_backend_round_trips_lists_and_is_idempotent() {
    let _pg = pg_shared().await;
    let services = TestServices::get();
    let url = services.fresh_database().await;
    let sink = PgSink::connect(&url).await.unwrap();
    let games = check_backend_contract(&sink).await;
    let pool = sink.pool();

    let total_events: usize = games.iter().map(|g| g.events.len()).sum();
    assert_eq!(count(pool, "SELECT count(*) FROM completed_games").await, games.len() as i64);
    assert_eq!(count(pool, "SELECT count(*) FROM game_events").await, total_events as i64);
    sink.write_batch(&games).await.unwrap();
    assert_eq!(count(pool, "SELECT count(*) FROM completed_games").await, games.len() as i64, "no duplicate rows");
    assert_eq!(count(pool, "SELECT count(*) FROM game_events").await, total_events as i64, "no duplicate events");

    // The queryable columns carry the record's values.
    let game = games.iter().find(|g| g.game_id == "game-04").unwrap();
    let row: (Vec<String>, Vec<String>, String, i64, i64, String, serde_json::Value, String) = sqlx::query_as(
        "SELECT players, winners, status, duration_ms,
                arcade_timestamptz_to_unix_ms(started_at), seed::text, final_scores, config::text
         FROM completed_games WHERE game_id = 'game-04'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(row.0, game.players);
    assert_eq!(row.1, game.winners());
    assert_eq!((row.2.as_str(), row.3, row.4), ("finished", game.duration_ms() as i64, game.started_at_ms as i64));
    assert_eq!(row.5, game.seed.to_text(), "seeds are stored exactly (u64 seeds of old games too)");
    assert_eq!(row.6, serde_json::to_value(game.scores().unwrap()).unwrap());
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&row.7).unwrap(),
        serde_json::from_str::<serde_json::Value>(&game.config).unwrap()
    );
    let aborted_scores: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT final_scores FROM completed_games WHERE game_id = 'game-07'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(aborted_scores, None);
    let event: (String, serde_json::Value, i64) = sqlx::query_as(
        "SELECT type, data, arcade_timestamptz_to_unix_ms(at) FROM game_events WHERE game_id = 'game-04' AND seq = 2",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let recorded = &game.events[1];
    assert_eq!(event, (recorded.kind.clone(), serde_json::from_str(&recorded.data).unwrap(), recorded.at_ms as i64));

    // open_sink picks this backend by URL.
    let by_url = open_sink(&url).await.unwrap();
    assert_eq!(by_url.backend(), "postgres");
    assert_eq!(by_url.get("game-04").await.unwrap().as_ref(), Some(game));
}

#[tokio::test]
async fn s3_backend_round_trips_lists_and_is_idempotent() {
    let services = TestServices::get();
    let url = services.fresh_s3_url("arcade/games");
    let sink = S3Sink::open(&url).await.unwrap();
    let games = check_backend_contract(&sink).await;

    let objects = list_keys(&sink).await;
    let record_keys: BTreeSet<String> = objects.iter().filter(|k| !k.contains("/manifests/")).cloned().collect();
    let expected: BTreeSet<String> =
        games.iter().map(|g| sink.location().record_key(&g.game_id, g.completed_at_ms)).collect();
    assert_eq!(record_keys, expected, "one object per game under <prefix>/<yyyy>/<mm>/<dd>/");
    assert!(expected.iter().all(|k| k.starts_with("arcade/games/2024/11/")), "{expected:?}");
    let manifests = objects.len() - record_keys.len();
    assert_eq!(manifests, 2, "one manifest per batch that archived new games");

    // Same batch again: no new object, no new manifest.
    sink.write_batch(&games).await.unwrap();
    assert_eq!(list_keys(&sink).await, objects);

    // Object metadata carries plugin and winners.
    let game = &games[4];
    let head = sink
        .client()
        .head_object()
        .bucket(&sink.location().bucket)
        .key(sink.location().record_key(&game.game_id, game.completed_at_ms))
        .send()
        .await
        .unwrap();
    let metadata = head.metadata().unwrap();
    assert_eq!(metadata.get("plugin").map(String::as_str), Some("tic-tac-toe"));
    assert_eq!(metadata.get("winners"), Some(&game.winners().join(",")));

    // A second sink (another host, or after a restart) finds every game
    // through the manifests.
    let reopened = open_sink(&url).await.unwrap();
    assert_eq!(reopened.backend(), "s3");
    assert_eq!(reopened.get(&game.game_id).await.unwrap().as_ref(), Some(game));
    assert_eq!(
        list_all(reopened.as_ref(), &ListFilter::default(), 5).await,
        expected_ids(&games, &ListFilter::default())
    );
}

async fn list_keys(sink: &S3Sink) -> BTreeSet<String> {
    let listed = sink.client().list_objects_v2().bucket(&sink.location().bucket).send().await.unwrap();
    assert!(!listed.is_truncated().unwrap_or(false));
    listed.contents().iter().filter_map(|o| o.key().map(String::from)).collect()
}

#[tokio::test]
async fn open_sink_chooses_the_backend_by_url() {
    let dir = tempfile::tempdir().unwrap();
    let plain = open_sink(dir.path().join("plain").to_str().unwrap()).await.unwrap();
    assert_eq!(plain.backend(), "filesystem");
    let file_url = format!("file://{}", dir.path().join("url").display());
    assert_eq!(open_sink(&file_url).await.unwrap().backend(), "filesystem");
    assert!(dir.path().join("url/games").is_dir());
    for bad in ["ftp://example/archive", "file://relative/path"] {
        assert!(matches!(open_sink(bad).await, Err(ArchiveError::Config(_))), "{bad}");
    }
}

// ------------------------------------------------------------- the archiver

fn fast_config(spool: &std::path::Path) -> ArchiverConfig {
    ArchiverConfig {
        batch_size: 8,
        flush_interval: Duration::from_millis(50),
        retry_initial: Duration::from_millis(50),
        retry_max: Duration::from_millis(400),
        ..ArchiverConfig::new(spool)
    }
}

fn numbered_games(prefix: &str, count: u64) -> Vec<GameRecord> {
    (0..count)
        .map(|i| {
            game_record(
                &format!("{prefix}-{i:03}"),
                &GameShape { completed_at_ms: BASE_MS + i, ..GameShape::default() },
            )
        })
        .collect()
}

async fn eventually<F: Future<Output = bool>>(what: &str, timeout: Duration, mut check: impl FnMut() -> F) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn spool_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map(|entries| entries.filter(|e| e.as_ref().unwrap().path().is_file()).count()).unwrap_or(0)
}

/// `arcade_<name> <value>` from the Prometheus text.
fn metric(metrics: &Metrics, name: &str) -> f64 {
    let text = metrics.render();
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("arcade_{name} ")))
        .unwrap_or_else(|| panic!("metric {name} missing in:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn archiver_delivers_in_batches_and_empties_the_spool() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Arc::new(FsSink::open(dir.path().join("archive")).await.unwrap());
    let metrics = Arc::new(Metrics::default());
    let spool = dir.path().join("spool");
    let archiver = Archiver::start(sink.clone(), fast_config(&spool), metrics.clone()).await.unwrap();
    let games = numbered_games("batched", 20);
    for game in &games {
        archiver.submit(game.clone()).await.unwrap();
    }
    // Re-submitting is harmless.
    archiver.submit(games[0].clone()).await.unwrap();
    eventually("the spool to empty", Duration::from_secs(10), || async { archiver.waiting() == 0 }).await;
    assert_eq!(spool_files(&spool), 0);
    for game in &games {
        assert_eq!(sink.get(&game.game_id).await.unwrap().as_ref(), Some(game));
    }
    assert_eq!(list_all(sink.as_ref(), &ListFilter::default(), 100).await.len(), games.len());
    assert!(metric(&metrics, "archive_games_total") >= 20.0);
    assert!(metric(&metrics, "archive_batch_seconds_count") >= 3.0, "20 games in batches of at most 8");
    assert_eq!(metric(&metrics, "archive_queue_depth"), 0.0);
    assert_eq!(metric(&metrics, "archive_failures_total"), 0.0);
}

#[tokio::test]
async fn archiver_moves_a_backlog_larger_than_its_queue() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Arc::new(FsSink::open(dir.path().join("archive")).await.unwrap());
    let config = ArchiverConfig { queue_capacity: 2, batch_size: 3, ..fast_config(&dir.path().join("spool")) };
    let archiver = Archiver::start(sink.clone(), config, Arc::new(Metrics::default())).await.unwrap();
    let games = numbered_games("backlog", 40);
    let submits = games.iter().map(|g| archiver.submit(g.clone()));
    for result in futures_util::future::join_all(submits).await {
        result.unwrap();
    }
    eventually("the backlog to drain", Duration::from_secs(20), || async { archiver.waiting() == 0 }).await;
    assert_eq!(list_all(sink.as_ref(), &ListFilter::default(), 100).await.len(), games.len());
}

#[tokio::test]
async fn archiver_flush_delivers_now_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Arc::new(FsSink::open(dir.path().join("archive")).await.unwrap());
    let config = ArchiverConfig {
        flush_interval: Duration::from_secs(3600),
        batch_size: 1000,
        ..fast_config(&dir.path().join("spool"))
    };
    let archiver = Archiver::start(sink.clone(), config, Arc::new(Metrics::default())).await.unwrap();
    let games = numbered_games("flushed", 5);
    for game in &games {
        archiver.submit(game.clone()).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.get(&games[0].game_id).await.unwrap(), None, "nothing is due before the flush interval");
    let report = archiver.flush().await.unwrap();
    assert_eq!((report.delivered, report.waiting), (5, 0));
    assert_eq!(sink.get(&games[4].game_id).await.unwrap().as_ref(), Some(&games[4]));
    assert_eq!(archiver.flush().await.unwrap().delivered, 0);
}

#[tokio::test]
async fn archiver_refuses_games_when_the_spool_is_full() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Arc::new(FsSink::open(dir.path().join("archive")).await.unwrap());
    let games = numbered_games("full", 4);
    let size = games[0].to_compressed().unwrap().len() as u64;
    let config = ArchiverConfig {
        flush_interval: Duration::from_secs(3600),
        batch_size: 1000,
        spool_limit_bytes: size * 5 / 2,
        ..fast_config(&dir.path().join("spool"))
    };
    let archiver = Archiver::start(sink.clone(), config, Arc::new(Metrics::default())).await.unwrap();
    archiver.submit(games[0].clone()).await.unwrap();
    archiver.submit(games[1].clone()).await.unwrap();
    let refused = archiver.submit(games[2].clone()).await.unwrap_err();
    assert!(matches!(refused, ArchiveError::SpoolFull { .. }), "{refused}");
    assert!(refused.to_string().contains("spool is full"));
    assert_eq!(archiver.waiting(), 2);
    let spooled: u64 = games[..2].iter().map(|g| g.to_compressed().unwrap().len() as u64).sum();
    assert_eq!(archiver.spooled_bytes(), spooled);

    let invalid = GameRecord { game_id: "no/slashes".into(), ..games[3].clone() };
    assert!(matches!(archiver.submit(invalid).await, Err(ArchiveError::InvalidRecord(_))));

    archiver.flush().await.unwrap();
    archiver.submit(games[2].clone()).await.unwrap();
    archiver.submit(games[3].clone()).await.unwrap();
    assert_eq!(archiver.shutdown().await.unwrap().delivered, 2);
    assert_eq!(list_all(sink.as_ref(), &ListFilter::default(), 10).await.len(), 4);
}

#[tokio::test]
async fn archiver_spool_survives_a_restart() {
    let _pg = pg_shared().await;
    let services = TestServices::get();
    let sink = Arc::new(PgSink::connect(&services.fresh_database().await).await.unwrap());
    let spool = tempfile::tempdir().unwrap();
    let games = numbered_games("restart", 15);
    {
        let never_due =
            ArchiverConfig { flush_interval: Duration::from_secs(3600), batch_size: 1000, ..fast_config(spool.path()) };
        let archiver = Archiver::start(sink.clone(), never_due, Arc::new(Metrics::default())).await.unwrap();
        for game in &games {
            archiver.submit(game.clone()).await.unwrap();
        }
        assert_eq!(archiver.waiting(), 15);
        // Dropped with everything pending, like a crash.
    }
    assert_eq!(spool_files(spool.path()), 15, "acknowledged games are on disk");
    assert_eq!(count(sink.pool(), "SELECT count(*) FROM completed_games").await, 0);

    let metrics = Arc::new(Metrics::default());
    let restarted = Archiver::start(sink.clone(), fast_config(spool.path()), metrics.clone()).await.unwrap();
    assert_eq!(metric(&metrics, "archive_queue_depth"), 15.0);
    eventually("the spooled games to reach PostgreSQL", Duration::from_secs(20), || async { restarted.waiting() == 0 })
        .await;
    assert_eq!(count(sink.pool(), "SELECT count(*) FROM completed_games").await, 15);
    assert_eq!(spool_files(spool.path()), 0);
    for game in &games {
        assert_eq!(sink.get(&game.game_id).await.unwrap().as_ref(), Some(game));
    }
}

/// Starts PostgreSQL again when dropped, even if the test fails.
struct RestartPostgresOnDrop<'a>(&'a TestServices);

impl Drop for RestartPostgresOnDrop<'_> {
    fn drop(&mut self) {
        self.0.services_script("pg-start");
    }
}

#[tokio::test]
async fn archiver_spools_through_a_postgres_outage_and_delivers_exactly_once() {
    let _pg = pg_exclusive().await;
    let services = TestServices::get();
    let sink = Arc::new(PgSink::connect(&services.fresh_database().await).await.unwrap());
    sink.ensure_schema().await.unwrap();
    let metrics = Arc::new(Metrics::default());
    let spool = tempfile::tempdir().unwrap();
    let archiver = Archiver::start(sink.clone(), fast_config(spool.path()), metrics.clone()).await.unwrap();
    let before = numbered_games("before", 5);
    for game in &before {
        archiver.submit(game.clone()).await.unwrap();
    }
    archiver.flush().await.unwrap();

    services.services_script("pg-stop");
    let restart = RestartPostgresOnDrop(&services);
    let during = numbered_games("outage", 40);
    for game in &during {
        archiver.submit(game.clone()).await.unwrap();
    }
    eventually("failed attempts while PostgreSQL is down", Duration::from_secs(20), || async {
        metric(&metrics, "archive_failures_total") >= 2.0
    })
    .await;
    assert_eq!(archiver.waiting(), 40, "nothing is lost or dropped while the sink is down");
    assert_eq!(spool_files(spool.path()), 40);
    assert!(archiver.flush().await.is_err(), "a flush reports the outage");
    // Re-submitting during the outage adds nothing.
    archiver.submit(during[0].clone()).await.unwrap();
    assert_eq!(archiver.waiting(), 40);

    drop(restart);
    eventually("the spool to drain after PostgreSQL is back", Duration::from_secs(30), || async {
        archiver.waiting() == 0
    })
    .await;
    let pool = sink.pool();
    assert_eq!(count(pool, "SELECT count(*) FROM completed_games").await, 45);
    assert_eq!(count(pool, "SELECT count(*) FROM completed_games WHERE game_id LIKE 'outage-%'").await, 40);
    let events: usize = before.iter().chain(&during).map(|g| g.events.len()).sum();
    assert_eq!(count(pool, "SELECT count(*) FROM game_events").await, events as i64);
    assert_eq!(spool_files(spool.path()), 0);
    assert_eq!(metric(&metrics, "archive_queue_depth"), 0.0);
}
