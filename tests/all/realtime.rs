//! Real-time games on the host's batched physics: the arena plugin played by
//! two WebSocket clients at its fixed tick rate, and many rooms' physics
//! stepped as one GPU submission per tick (Mesa's software Vulkan in CI).

use std::time::{Duration, Instant};

use crate::support::*;

/// `arcade_<name>` (a counter's `_total`, or a histogram's `_sum`/`_count`) from a scrape.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arena_plays_over_websockets_at_its_tick_rate() {
    let server = Server::start().await;
    let config = json!({ "duration_ticks": 60, "asteroids": 300 });
    let room = server.create_room(&json!({ "game": "arena", "players": ["ann", "bob"], "config": config })).await;
    let mut ann = server.ws(&room.id, Some(room.token("ann"))).await;
    let mut bob = server.ws(&room.id, Some(room.token("bob"))).await;

    // Over one second of ann's state messages, while both steer (every
    // accepted action also sends a state), count the distinct ticks.
    let window = Instant::now();
    let mut ticks: Vec<u64> = Vec::new();
    while window.elapsed() < Duration::from_secs(1) {
        let message = ann.next_json().await;
        if message["type"] != "state" {
            continue;
        }
        let tick = message["view"]["tick"].as_u64().expect("a tick");
        if ticks.last() != Some(&tick) {
            ticks.push(tick);
            if tick % 4 == 0 {
                ann.send_action("t", &json!({ "thrust": { "x": 1.0, "y": 0.0 } })).await;
                bob.send_action("t", &json!({ "thrust": { "x": 0.0, "y": -1.0 } })).await;
            }
        }
    }
    assert!((14..=26).contains(&ticks.len()), "20 Hz means about 20 ticks a second, got {ticks:?}");
    assert!(ticks.windows(2).all(|w| w[0] < w[1]), "ticks only move forward: {ticks:?}");

    let end = ann.until_over().await;
    assert_eq!(end["status"]["state"], "finished", "{end}");
    let scores = &end["status"]["scores"];
    assert!(scores["ann"].is_i64() && scores["bob"].is_i64(), "{end}");
    // Time runs out at tick 60, unless one ship is out of lives first.
    let last_tick = end["view"]["tick"].as_u64().expect("a tick");
    assert!(last_tick == 60 || end["view"]["ships"].as_array().unwrap().iter().any(|s| s["out"] == true), "{end}");
    assert!(!end["status"]["winners"].as_array().unwrap().is_empty(), "{end}");
    assert!(end["view"]["asteroids"].as_array().is_some_and(|a| !a.is_empty()), "{end}");
    assert_eq!(bob.until_over().await["status"], end["status"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_due_in_a_tick_share_one_gpu_submission() {
    let server = Server::start().await;
    let (_, ready) = server.get("/health/ready").await;
    assert_eq!(ready["sim"]["backend"], "gpu", "the tests run on a Vulkan device (lavapipe in CI): {ready}");

    let rooms: Vec<Room> = futures_util::future::join_all((0..8).map(|i| {
        let request = json!({ "game": "arena", "players": [format!("p{i}")], "seed": 1000 + i,
                              "config": { "duration_ticks": 400, "asteroids": 100 } });
        let server = &server;
        async move { server.create_room(&request).await }
    }))
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let tick_of = |info: &Value| info["status"]["state"].clone();
    let before = server.metrics().await;
    let first = server.room_info(&rooms[0].id).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = server.metrics().await;
    assert_eq!(tick_of(&first), "playing");

    let submissions = metric(&after, "arcade_sim_submissions_total") - metric(&before, "arcade_sim_submissions_total");
    let batches = metric(&after, "arcade_sim_batch_worlds_count") - metric(&before, "arcade_sim_batch_worlds_count");
    let worlds = metric(&after, "arcade_sim_batch_worlds_sum") - metric(&before, "arcade_sim_batch_worlds_sum");
    // About 20 ticks in the second: one submission per tick for all 8 rooms,
    // not one per room.
    assert!((10.0..=26.0).contains(&batches), "batches in 1 s at 20 Hz: {batches}");
    assert_eq!(submissions, batches, "one GPU submission per batch");
    assert!(worlds >= 7.0 * batches, "each batch holds every room's world: {worlds} worlds in {batches} batches");

    // Each room got its own results back: different seeds, different fields.
    let mut fields = Vec::new();
    for room in &rooms {
        let mut spectator = server.ws(&room.id, None).await;
        let state = spectator.next_of_type("state").await;
        assert!(state["view"]["tick"].as_u64().unwrap_or(0) > 10, "{state}");
        fields.push(state["view"]["asteroids"].clone());
    }
    for (i, a) in fields.iter().enumerate() {
        for b in &fields[i + 1..] {
            assert_ne!(a, b, "two rooms show the same asteroid field");
        }
    }
}
