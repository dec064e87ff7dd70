//! Plugin work runs on threads of its own: rooms spinning to their CPU
//! deadline together do not stall the threads that answer HTTP.

use std::time::{Duration, Instant};

use futures_util::future::join_all;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_checks_answer_while_twenty_rooms_spin_to_their_cpu_deadline() {
    let server = Server::start().await;
    assert_eq!(server.publish(plugin_bytes("spinner")).await.0, StatusCode::CREATED);
    let mut rooms = Vec::new();
    for _ in 0..20 {
        rooms.push(server.create_room(&json!({ "game": "spinner", "players": ["a", "b"] })).await);
    }
    // Every room's next call spins until its deadline (100 ms of CPU each,
    // 2 s of CPU in all on this 2-core machine), all at once.
    let action = json!({});
    let spins = join_all(rooms.iter().map(|room| server.act(&room.id, room.token("a"), &action)));
    let probes = async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let mut latencies = Vec::new();
        for _ in 0..40 {
            let started = Instant::now();
            let (status, _) = server.get("/health/live").await;
            latencies.push(started.elapsed());
            assert_eq!(status, StatusCode::OK);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        latencies
    };
    let (answers, mut latencies) = tokio::join!(spins, probes);
    for (status, body) in &answers {
        assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (410, Some("room_aborted")), "{body}");
    }
    latencies.sort();
    let (median, p95, max) = (latencies[20], latencies[37], latencies[39]);
    eprintln!("/health/live while 20 rooms spin: median {median:?} p95 {p95:?} max {max:?}");
    // On one shared runtime, the health check waited for the spinning rooms
    // (hundreds of milliseconds); here it waits only for a CPU time slice.
    assert!(p95 < Duration::from_millis(20), "p95 {p95:?} (median {median:?}, max {max:?})");
    assert!(max < Duration::from_millis(250), "max {max:?}");
    let info = server.room_info(&rooms[0].id).await;
    assert_eq!(info["status"]["code"], "cpu_deadline", "{info}");
}
