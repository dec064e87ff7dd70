//! Archive backends and the archiver against REAL servers: the filesystem,
//! the PostgreSQL and the S3-protocol server (moto) that
//! `scripts/services.sh start` runs. Without them these tests fail and say so.
//!
//! Tests that use PostgreSQL hold `PG_SHARED` for reading; the outage test
//! stops the server and holds it for writing.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use arcade_archive::fs::FsSink;
use arcade_archive::postgres::PgSink;
use arcade_archive::s3::S3Sink;
use arcade_archive::{
    ArchiveError, ArchiveSink, Archiver, ArchiverConfig, GameRecord, ListFilter, PageRequest, open_sink,
};
use arcade_telemetry::metrics::Metrics;
use arcade_test_support::records::{BASE_MS, DAY_MS, GameShape, game_record};
use arcade_test_support::services::TestServices;
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
                mode: None,
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
    // Overlapping batch, with a duplicate inside it: harmless. It comes
    // with each record's storage form, as the archiver delivers from its
    // spool; the sink stores those (games 7..) as they are.
    let mut overlapping = games.clone();
    overlapping.push(games[0].clone());
    let forms: Vec<Vec<u8>> = overlapping.iter().map(|g| g.to_compressed().unwrap()).collect();
    let short = sink.write_compressed_batch(&overlapping, &forms[1..]).await;
    assert!(matches!(short, Err(ArchiveError::Internal(_))), "a form missing: {short:?}");
    assert_eq!(sink.get(&games[11].game_id).await.unwrap(), None, "a refused batch stores nothing");
    sink.write_compressed_batch(&overlapping, &forms).await.unwrap();
    // A different record under an archived id does not replace the first.
    let mut impostor = games[3].clone();
    impostor.seed = arcade_protocol::seed::Seed::SplitMix64(1);
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

/// Account-like ids (erasure renames only opaque ids).
const ANN: &str = "acc_annannannannannannannanna";
const BOB: &str = "acc_bobbobbobbobbobbobbobbobb";
const CID: &str = "acc_cidcidcidcidcidcidcidcidc";
const PSEUDONYM: &str = "del_zzzzzzzzzzzzzzzzzzzzzzzzzz";

/// Erasure, on every backend: each game ANN played names PSEUDONYM instead
/// (reads and listings), the other games are untouched, doing it again
/// changes nothing, and ids that are not opaque are refused. `observer`
/// (another host on the same archive) has read the games before.
async fn check_pseudonymise(sink: &dyn ArchiveSink, observer: Option<&dyn ArchiveSink>) -> Vec<GameRecord> {
    let seatings: [&[&str]; 3] = [&[ANN, BOB], &[BOB, CID], &[CID, ANN]];
    let mut games: Vec<GameRecord> = (0..6u64)
        .map(|i| {
            let shape = GameShape {
                plugin: "tic-tac-toe",
                players: seatings[(i % 3) as usize],
                completed_at_ms: BASE_MS + i * 1_000,
                turns: 4 + i,
                aborted: false,
                mode: None,
            };
            game_record(&format!("erase-{i:02}"), &shape)
        })
        .collect();
    sink.write_batch(&games[..3]).await.unwrap();
    sink.write_batch(&games[3..]).await.unwrap();
    if let Some(observer) = observer {
        let by_ann = ListFilter { plugin: None, player: Some(ANN.into()) };
        assert_eq!(list_all(observer, &by_ann, 10).await.len(), 4, "the observer sees ANN's games");
    }
    assert!(matches!(sink.pseudonymise("ann", PSEUDONYM).await, Err(ArchiveError::InvalidRecord(_))));
    assert!(matches!(sink.pseudonymise(ANN, "del_\"quoted\"").await, Err(ArchiveError::InvalidRecord(_))));

    let played: Vec<&GameRecord> = games.iter().filter(|g| g.players.iter().any(|p| p == ANN)).collect();
    assert_eq!(sink.pseudonymise(ANN, PSEUDONYM).await.unwrap(), played.len() as u64);
    check_pseudonymised(sink, &games).await;
    assert_eq!(sink.pseudonymise(ANN, PSEUDONYM).await.unwrap(), 0, "nothing is left to rename");
    // More games are archived as before, after it.
    let shape = GameShape {
        plugin: "tic-tac-toe",
        players: &[BOB, CID],
        completed_at_ms: BASE_MS + 9_000,
        turns: 3,
        aborted: false,
        mode: None,
    };
    let later = game_record("erase-99", &shape);
    sink.write_batch(std::slice::from_ref(&later)).await.unwrap();
    assert_eq!(sink.get("erase-99").await.unwrap().as_ref(), Some(&later));
    games.push(later);
    games
}

/// What the archive holds after ANN's erasure.
async fn check_pseudonymised(sink: &dyn ArchiveSink, games: &[GameRecord]) {
    for game in games {
        let stored = sink.get(&game.game_id).await.unwrap().unwrap_or_else(|| panic!("{} is gone", game.game_id));
        match game.pseudonymised(ANN, PSEUDONYM).unwrap() {
            Some(renamed) => {
                assert_eq!(stored, renamed, "{}", game.game_id);
                assert!(!serde_json::to_string(&stored).unwrap().contains(ANN), "{}", game.game_id);
                assert_eq!(stored.log.len(), game.log.len());
            }
            None => assert_eq!(&stored, game, "{} did not involve ANN", game.game_id),
        }
    }
    let by = |player: &str| ListFilter { plugin: None, player: Some(player.into()) };
    assert_eq!(list_all(sink, &by(ANN), 2).await, Vec::<String>::new(), "nothing is found by the old id");
    let renamed: Vec<GameRecord> = games.iter().filter_map(|g| g.pseudonymised(ANN, PSEUDONYM).unwrap()).collect();
    assert_eq!(list_all(sink, &by(PSEUDONYM), 2).await, expected_ids(&renamed, &by(PSEUDONYM)));
    assert_eq!(list_all(sink, &by(BOB), 2).await, expected_ids(games, &by(BOB)));
}

#[tokio::test]
async fn filesystem_archive_erases_a_player_and_stays_consistent_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let sink = FsSink::open(dir.path()).await.unwrap();
    let games = check_pseudonymise(&sink, None).await;
    drop(sink);
    let (reopened, recovery) = FsSink::open_reporting(dir.path()).await.unwrap();
    assert_eq!((recovery.stale, recovery.cuts), (0, 0), "{recovery:?}");
    check_pseudonymised(&reopened, &games).await;
    let index = std::fs::read(dir.path().join("index.log")).unwrap();
    assert!(!String::from_utf8_lossy(&index).contains(ANN), "the index no longer names the erased id");
}

#[tokio::test]
async fn postgres_archive_erases_a_player() {
    let _pg = pg_shared().await;
    let url = TestServices::get().fresh_database().await;
    let sink = PgSink::connect(&url).await.unwrap();
    let games = check_pseudonymise(&sink, None).await;
    let pool = sink.pool();
    let named = "SELECT count(*) FROM completed_games WHERE players @> ARRAY['acc_annannannannannannannanna']";
    assert_eq!(count(pool, named).await, 0);
    let in_events = "SELECT count(*) FROM game_events WHERE data::text LIKE '%acc_annannannannannannannanna%'";
    assert_eq!(count(pool, in_events).await, 0);
    let events: usize = games.iter().map(|g| g.events.len()).sum();
    assert_eq!(count(pool, "SELECT count(*) FROM game_events").await, events as i64, "every event is still there");
}

#[tokio::test]
async fn s3_archive_erases_a_player_for_every_host() {
    let url = TestServices::get().fresh_s3_url("arcade/erase");
    let sink = S3Sink::open(&url).await.unwrap();
    // Another host that has already read the manifests.
    let other = S3Sink::open(&url).await.unwrap();
    let games = check_pseudonymise(&sink, Some(&other)).await;
    check_pseudonymised(&other, &games).await;
    check_pseudonymised(&S3Sink::open(&url).await.unwrap(), &games).await;
}

#[tokio::test]
async fn filesystem_backend_round_trips_lists_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let sink = FsSink::open(dir.path()).await.unwrap();
    let games = check_backend_contract(&sink).await;

    let segments = files_in(&sink.segments_dir());
    assert_eq!(segments.len(), 1, "games are appended to one segment file, not one file per game: {segments:?}");
    assert!(segments[0].ends_with(".games"), "{segments:?}");
    assert_eq!(files_in(dir.path()), ["index.log"], "the root holds the index only (and games/)");

    drop(sink);
    let (reopened, recovery) = FsSink::open_reporting(dir.path()).await.unwrap();
    assert_eq!((recovery.indexed, recovery.reindexed, recovery.stale, recovery.cuts), (games.len(), 0, 0, 0));
    assert_eq!(list_all(&reopened, &ListFilter::default(), 5).await, expected_ids(&games, &ListFilter::default()));
    assert_eq!(reopened.get(&games[5].game_id).await.unwrap().as_ref(), Some(&games[5]));
}

/// Names of the plain files in `dir`, sorted.
fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn file_len(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

fn cut_to(path: &std::path::Path, len: u64) {
    std::fs::OpenOptions::new().write(true).open(path).unwrap().set_len(len).unwrap();
}

fn append_bytes(path: &std::path::Path, bytes: &[u8]) {
    use std::io::Write;
    std::fs::OpenOptions::new().append(true).open(path).unwrap().write_all(bytes).unwrap();
}

async fn assert_has_all(sink: &FsSink, games: &[GameRecord]) {
    assert_eq!(list_all(sink, &ListFilter::default(), 4).await, expected_ids(games, &ListFilter::default()));
    for game in games {
        assert_eq!(sink.get(&game.game_id).await.unwrap().as_ref(), Some(game), "get {}", game.game_id);
    }
}

#[tokio::test]
async fn filesystem_index_is_rebuilt_after_a_crash_mid_append_or_when_missing_or_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let games = sample_games();
    let (first, second) = games.split_at(6);
    let (index_path, segment_path, index_after_first, segment_after_first) = {
        let sink = FsSink::open(dir.path()).await.unwrap();
        sink.write_batch(first).await.unwrap();
        let segment = sink.segments_dir().join(&files_in(&sink.segments_dir())[0]);
        let sizes = (file_len(&sink.index_path()), file_len(&segment));
        sink.write_batch(second).await.unwrap();
        (sink.index_path(), segment, sizes.0, sizes.1)
    };
    let (index_full, segment_full) = (file_len(&index_path), file_len(&segment_path));

    // A crash in the middle of appending a batch: a torn frame at the end
    // of the segment, no index entry for it.
    append_bytes(&segment_path, &[200, 1, 0, 0, 7, 7, 7, 7, 1, 2, 3]);
    let (sink, recovery) = FsSink::open_reporting(dir.path()).await.unwrap();
    assert_eq!((recovery.cuts, recovery.reindexed), (1, 0));
    assert_eq!(file_len(&segment_path), segment_full, "the torn tail is cut");
    assert_has_all(&sink, &games).await;
    drop(sink);

    // A crash between the segment write and the index append: the second
    // batch is in the segment, its index entries are not (one torn).
    cut_to(&index_path, index_after_first + 9);
    let (sink, recovery) = FsSink::open_reporting(dir.path()).await.unwrap();
    assert_eq!((recovery.indexed, recovery.reindexed), (first.len(), second.len()));
    assert_eq!(file_len(&index_path), index_full, "the recovered entries are indexed again");
    assert_has_all(&sink, &games).await;
    drop(sink);

    // Missing, then not an index at all: rebuilt from the segments.
    std::fs::remove_file(&index_path).unwrap();
    let (sink, recovery) = FsSink::open_reporting(dir.path()).await.unwrap();
    assert_eq!(recovery.reindexed, games.len());
    assert_has_all(&sink, &games).await;
    drop(sink);
    std::fs::write(&index_path, b"{not an index\n").unwrap();
    assert_has_all(&FsSink::open(dir.path()).await.unwrap(), &games).await;

    // Index entries past the end of their segment (the segment lost its
    // tail): dropped, and those games can be archived again.
    cut_to(&segment_path, segment_after_first);
    let (sink, recovery) = FsSink::open_reporting(dir.path()).await.unwrap();
    assert_eq!(recovery.stale, second.len());
    assert_has_all(&sink, first).await;
    assert_eq!(sink.get(&second[0].game_id).await.unwrap(), None);
    sink.write_batch(second).await.unwrap();
    drop(sink);
    assert_has_all(&FsSink::open(dir.path()).await.unwrap(), &games).await;
}

#[tokio::test]
async fn filesystem_archive_of_the_one_file_per_game_layout_is_migrated_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let games = sample_games();
    let mut index = String::new();
    for game in &games {
        let day =
            dir.path().join("games").join(arcade_archive::keys::UtcDate::from_unix_ms(game.completed_at_ms).dashed());
        std::fs::create_dir_all(&day).unwrap();
        std::fs::write(day.join(format!("{}.json.zst", game.game_id)), game.to_compressed().unwrap()).unwrap();
        index += &(serde_json::to_string(&arcade_archive::GameSummary::from(game)).unwrap() + "\n");
    }
    std::fs::write(dir.path().join("index.jsonl"), index).unwrap();
    let (sink, recovery) = FsSink::open_reporting(dir.path()).await.unwrap();
    assert_eq!(recovery.migrated, games.len());
    assert_has_all(&sink, &games).await;
    assert_eq!(files_in(dir.path()), ["index.log"], "the old index is gone");
    let left: Vec<_> = std::fs::read_dir(sink.segments_dir()).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(
        left.iter().all(|p| p.is_file() && p.extension().is_some_and(|e| e == "games")),
        "old files are gone: {left:?}"
    );
    drop(sink);
    let (reopened, recovery) = FsSink::open_reporting(dir.path()).await.unwrap();
    assert_eq!((recovery.migrated, recovery.indexed), (0, games.len()));
    assert_has_all(&reopened, &games).await;
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

/// Bytes of games and acks in the spool's segment files (their 8-byte
/// headers not counted); 0 once every game is delivered.
fn spooled_on_disk(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "spool"))
                .map(|p| std::fs::metadata(p).unwrap().len().saturating_sub(8))
                .sum()
        })
        .unwrap_or(0)
}

/// Files in the spool directory: segments, never one per game.
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
    assert_eq!(spooled_on_disk(&spool), 0, "delivered segments are deleted or emptied");
    assert_eq!(spool_files(&spool), 1, "one empty active segment");
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
    assert!(spooled_on_disk(spool.path()) > 0, "acknowledged games are on disk");
    assert!(spool_files(spool.path()) <= 2, "in a segment, not a file per game");
    assert_eq!(count(sink.pool(), "SELECT count(*) FROM completed_games").await, 0);

    let metrics = Arc::new(Metrics::default());
    let restarted = Archiver::start(sink.clone(), fast_config(spool.path()), metrics.clone()).await.unwrap();
    assert_eq!(metric(&metrics, "archive_queue_depth"), 15.0);
    eventually("the spooled games to reach PostgreSQL", Duration::from_secs(20), || async { restarted.waiting() == 0 })
        .await;
    assert_eq!(count(sink.pool(), "SELECT count(*) FROM completed_games").await, 15);
    assert_eq!(spooled_on_disk(spool.path()), 0);
    for game in &games {
        assert_eq!(sink.get(&game.game_id).await.unwrap().as_ref(), Some(game));
    }
}

/// A filesystem sink that remembers how each game reached it.
struct Watching {
    inner: FsSink,
    /// Games that came without their compressed record.
    plain: std::sync::atomic::AtomicUsize,
    /// Games that came with it, and those bytes.
    compressed: std::sync::Mutex<Vec<(String, Vec<u8>)>>,
}

#[async_trait::async_trait]
impl ArchiveSink for Watching {
    fn backend(&self) -> &'static str {
        "watching"
    }
    async fn write_batch(&self, records: &[GameRecord]) -> Result<(), ArchiveError> {
        self.plain.fetch_add(records.len(), std::sync::atomic::Ordering::SeqCst);
        self.inner.write_batch(records).await
    }
    async fn write_compressed_batch(&self, records: &[GameRecord], compressed: &[Vec<u8>]) -> Result<(), ArchiveError> {
        let given = records.iter().map(|r| r.game_id.clone()).zip(compressed.iter().cloned());
        self.compressed.lock().unwrap().extend(given);
        self.inner.write_compressed_batch(records, compressed).await
    }
    async fn get(&self, game_id: &str) -> Result<Option<GameRecord>, ArchiveError> {
        self.inner.get(game_id).await
    }
    async fn list(&self, filter: &ListFilter, page: &PageRequest) -> Result<arcade_archive::Page, ArchiveError> {
        self.inner.list(filter, page).await
    }
    async fn pseudonymise(&self, player: &str, pseudonym: &str) -> Result<u64, ArchiveError> {
        self.inner.pseudonymise(player, pseudonym).await
    }
}

/// The archiver compresses a game once: the sink gets the compressed record
/// the spool holds, for games submitted now and for games a restart finds
/// in the spool.
#[tokio::test]
async fn archiver_hands_the_sink_each_games_compressed_record_from_the_spool() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Arc::new(Watching {
        inner: FsSink::open(dir.path().join("archive")).await.unwrap(),
        plain: Default::default(),
        compressed: Default::default(),
    });
    let spool = dir.path().join("spool");
    let games = numbered_games("once", 12);
    {
        let never_due =
            ArchiverConfig { flush_interval: Duration::from_secs(3600), batch_size: 1000, ..fast_config(&spool) };
        let archiver = Archiver::start(sink.clone(), never_due, Arc::new(Metrics::default())).await.unwrap();
        for game in &games[..4] {
            archiver.submit(game.clone()).await.unwrap();
        }
        // Dropped with these four spooled, like a crash.
    }
    let archiver = Archiver::start(sink.clone(), fast_config(&spool), Arc::new(Metrics::default())).await.unwrap();
    for game in &games[4..] {
        archiver.submit(game.clone()).await.unwrap();
    }
    archiver.flush().await.unwrap();
    assert_eq!(sink.plain.load(std::sync::atomic::Ordering::SeqCst), 0, "every game came with its compressed record");
    let given = sink.compressed.lock().unwrap().clone();
    let mut ids: Vec<&str> = given.iter().map(|(id, _)| id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, games.iter().map(|g| g.game_id.as_str()).collect::<Vec<_>>());
    for (id, bytes) in &given {
        let game = games.iter().find(|g| &g.game_id == id).unwrap();
        assert_eq!(&GameRecord::from_compressed(bytes).unwrap(), game, "the bytes given for {id}");
        assert_eq!(sink.get(id).await.unwrap().as_ref(), Some(game));
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
    assert!(spooled_on_disk(spool.path()) > 0);
    assert!(spool_files(spool.path()) <= 2, "in a segment, not a file per game");
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
    assert_eq!(spooled_on_disk(spool.path()), 0);
    assert_eq!(metric(&metrics, "archive_queue_depth"), 0.0);
}

/// `[archive.postgres]` is honoured: with one connection, a second operation
/// waits while the first is held (the waiting gauge and the wait time show
/// it); a wait past `acquire_timeout_ms` is a clear error, counted, and the
/// pool serves again once the connection is back. Impossible sizes are
/// refused when the sink opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_pool_size_and_acquire_timeout_come_from_config() {
    use arcade_archive::PgPoolSettings;

    let _pg = pg_shared().await;
    let url = TestServices::get().fresh_database().await;
    let metrics = Metrics::default();
    let settings = PgPoolSettings { max_connections: 1, acquire_timeout_ms: 1500, ..PgPoolSettings::default() };
    let sink = Arc::new(PgSink::connect_with(&url, &settings, Some(&metrics)).await.unwrap());
    assert_eq!(metric(&metrics, "archive_pg_pool_max_connections"), 1.0);

    let held = sink.acquire().await.unwrap();
    assert_eq!(metric(&metrics, "archive_pg_pool_in_use"), 1.0);
    assert_eq!(metric(&metrics, "archive_pg_pool_idle"), 0.0);
    let waited_before = metric(&metrics, "archive_pg_pool_acquire_seconds_sum");
    let reader = tokio::spawn({
        let sink = sink.clone();
        async move { sink.list(&ListFilter::default(), &PageRequest::first(10)).await }
    });
    eventually("the second operation to wait", Duration::from_secs(5), || async {
        metric(&metrics, "archive_pg_pool_waiting") == 1.0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!reader.is_finished(), "the only connection is held: the read waits");
    assert_eq!(metric(&metrics, "archive_pg_pool_waiting"), 1.0);
    drop(held);
    let page = reader.await.unwrap().expect("the read goes through once the connection is back");
    assert!(page.games.is_empty());
    assert_eq!(metric(&metrics, "archive_pg_pool_waiting"), 0.0);
    let waited = metric(&metrics, "archive_pg_pool_acquire_seconds_sum") - waited_before;
    assert!(waited >= 0.4, "the read's wait is timed: {waited} s");
    assert_eq!(metric(&metrics, "archive_pg_pool_acquire_timeouts_total"), 0.0);

    // Held past the acquire timeout: an error that names the setting.
    let held = sink.acquire().await.unwrap();
    let started = std::time::Instant::now();
    let error = sink.get("no-such-game").await.expect_err("no connection within the timeout");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(1400) && took < Duration::from_secs(5), "gave up after {took:?}");
    let message = error.to_string();
    assert!(matches!(error, ArchiveError::Backend { backend: "postgres", .. }), "{error:?}");
    assert!(message.contains("acquire_timeout_ms = 1500 ms") && message.contains("max_connections"), "{message}");
    assert_eq!(metric(&metrics, "archive_pg_pool_acquire_timeouts_total"), 1.0);
    assert_eq!(metric(&metrics, "archive_pg_pool_waiting"), 0.0);
    drop(held);
    assert!(sink.get("no-such-game").await.unwrap().is_none(), "the pool serves again");
    eventually("the connection to be idle again", Duration::from_secs(5), || async {
        metric(&metrics, "archive_pg_pool_in_use") == 0.0 && metric(&metrics, "archive_pg_pool_idle") == 1.0
    })
    .await;

    for (max, min, timeout) in [(0, 0, 1000), (2, 3, 1000), (2, 0, 0)] {
        let bad = PgPoolSettings {
            max_connections: max,
            min_connections: min,
            acquire_timeout_ms: timeout,
            ..PgPoolSettings::default()
        };
        let refused = PgSink::connect_with(&url, &bad, None).await.err();
        assert!(matches!(refused, Some(ArchiveError::Config(_))), "{max}/{min}/{timeout}: {refused:?}");
    }
}
