//! Smoke tests of the lifecycle benchmark (`benches/lifecycle`): a few
//! seconds of 2 rooms × 2 WebSocket players against the server under test,
//! and against the transport floor the benchmark compares it with. They
//! check that games are played to the end and that the report is sane;
//! they assert no speed.

use std::time::Duration;

use arcade_lifecycle_bench::report::{self, Run};
use arcade_lifecycle_bench::{LoadConfig, ServerOptions, Shape, run_against};

use crate::support::{arcade_bin, examples_dir, package_binary};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lifecycle_benchmark_plays_two_rooms_back_to_back() {
    two_rooms_back_to_back(arcade_bin()).await;
}

/// The floor answers what the generator asks of a server (the same
/// messages as `arcade serve`): its games are played to the end, no error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_transport_floor_plays_the_same_games() {
    let floor = tokio::task::spawn_blocking(|| package_binary("arcade-lifecycle-bench", "arcade-transport-floor"))
        .await
        .expect("building the floor");
    two_rooms_back_to_back(floor).await;
}

async fn two_rooms_back_to_back(binary: std::path::PathBuf) {
    let options = ServerOptions { binary, plugins: examples_dir(), data_parent: None, extra_env: Vec::new() };
    let shape = Shape { rooms: 2, players: 2 };
    let result = run_against(&options, |base| LoadConfig {
        base: base.to_string(),
        game: "tic-tac-toe".to_string(),
        shape,
        warmup: Duration::from_millis(500),
        duration: Duration::from_secs(3),
        game_timeout: Duration::from_secs(30),
        seed: 7,
    })
    .await
    .expect("the benchmark runs");
    let run = Run { label: "debug".to_string(), shape, round: 0, result };
    println!("{}", report::line(&run));
    let r = &run.result;

    assert!(r.errors.is_empty(), "errors: {:?}", r.errors);
    assert!(r.games > 0, "no game finished in the window");
    assert!(r.games_total >= r.games);
    // Tic-tac-toe takes 5 to 9 moves; the window cuts at most one game per
    // room at each end.
    let rooms = shape.rooms as u64;
    assert!(r.moves >= 5 * r.games.saturating_sub(2 * rooms), "{} moves for {} games", r.moves, r.games);
    assert!(r.moves <= 9 * (r.games + 2 * rooms), "{} moves for {} games", r.moves, r.games);
    assert!(!r.round_trips_us.is_empty());
    let (p50, p99, max) = (r.round_trip(0.5).unwrap(), r.round_trip(0.99).unwrap(), r.round_trip(1.0).unwrap());
    assert!(p50 <= p99 && p99 <= max, "p50 {p50:?} p99 {p99:?} max {max:?}");
    assert!(max < Duration::from_secs(30));
    let cpu = r.server_cpu.expect("the server's CPU time is readable");
    assert!(cpu > Duration::ZERO && cpu < r.window * 64, "server CPU {cpu:?} over {:?}", r.window);
    // A server on sockets spends some of it in the kernel, never all of it.
    let kernel = r.server_kernel_cpu.expect("the server's system time is readable");
    assert!(kernel > Duration::ZERO && kernel < cpu, "kernel {kernel:?} of {cpu:?}");
    let per_game = r.cpu_per_game().unwrap();
    assert!(per_game > Duration::ZERO && per_game < Duration::from_secs(10), "{per_game:?} per game");
    assert!(r.window > Duration::from_millis(2900) && r.window < Duration::from_secs(10), "window {:?}", r.window);

    let table = report::table(std::slice::from_ref(&run));
    assert!(table.contains("| 2×2 | debug | 1 |"), "{table}");
}
