//! The journal's cost per action: action throughput of many concurrent
//! rooms driven in-process (no network), with the journal off, on without
//! fsync, and on with fsync per group commit (the default).
//!
//! Run: `cargo bench -p arcade-host --bench journal`.
//! `ARCADE_BENCH_ROOMS` (default 2000) rooms play tic-tac-toe games concurrently.

use std::time::Instant;

use arcade_host::config::Config;
use arcade_host::room::Player;
use arcade_host::room_directory::NewRoom;
use arcade_host::server::build_app;
use arcade_journal::JournalSettings;
use futures_util::future::join_all;

/// Four moves that do not end the game, so the numbers are about journaled
/// actions only (a finished game is also archived, a cost of its own).
const MOVES: [(usize, &str); 4] =
    [(0, r#"{"cell":0}"#), (1, r#"{"cell":3}"#), (0, r#"{"cell":1}"#), (1, r#"{"cell":4}"#)];

async fn throughput(rooms: usize, journal: JournalSettings) -> f64 {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config {
        data_dir: data.path().to_path_buf(),
        preload_dir: Some(arcade_test_plugins::examples_dir()),
        ..Config::default()
    };
    config.limits.max_rooms = rooms as u32 + 16;
    config.journal = journal;
    let app = build_app(config).await.unwrap();
    let plugin = app.registry.resolve("tic-tac-toe", None).unwrap();
    let mut games = Vec::with_capacity(rooms);
    for _ in 0..rooms {
        let new = NewRoom {
            plugin: plugin.clone(),
            config: "{}".into(),
            seats: None,
            players: ["x", "o"].map(|id| Player { id: id.into(), name: id.into() }).into(),
            seed: Some(arcade_protocol::seed::Seed::from_test_number(1)),
            mode: None,
            listed: false,
        };
        games.push(app.rooms.create(new).await.unwrap());
    }
    let start = Instant::now();
    join_all(games.into_iter().map(|(room, seats)| async move {
        for (seat, action) in MOVES {
            room.act(seats[seat].token.clone(), action.to_string()).await.unwrap();
        }
    }))
    .await;
    (rooms * MOVES.len()) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let rooms: usize = std::env::var("ARCADE_BENCH_ROOMS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    // Warm-up: compiles the plugins into the cache and faults in the pool.
    rt.block_on(throughput(rooms.min(500), JournalSettings { enabled: false, ..JournalSettings::default() }));
    let off = rt.block_on(throughput(rooms, JournalSettings { enabled: false, ..JournalSettings::default() }));
    let no_sync = rt.block_on(throughput(rooms, JournalSettings { fsync: false, ..JournalSettings::default() }));
    let synced = rt.block_on(throughput(rooms, JournalSettings::default()));
    println!("journal: {rooms} concurrent rooms, {} actions each", MOVES.len());
    println!("| journal | actions/s | vs. off |");
    println!("|---|---|---|");
    for (label, value) in [("off", off), ("on, no fsync", no_sync), ("on, fsync per group commit (default)", synced)] {
        println!("| {label} | {value:.0} | {:+.1}% |", (value / off - 1.0) * 100.0);
    }
}
