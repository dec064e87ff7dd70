//! Ticket to room, end to end: players arrive at a steady rate, each queues
//! for tic-tac-toe over HTTP through one of the nodes and follows its ticket
//! WebSocket until the room is assigned. Reports the time from sending the
//! ticket to receiving the room (median, p99, max) and the matches formed
//! per second, with the default matching round interval (100 ms).
//!
//! With `ARCADE_BENCH_REDIS_URL` (or `ARCADE_TEST_REDIS_URL`, as loaded from
//! `scripts/services.sh env`), `ARCADE_BENCH_NODES` (default 3) nodes share
//! it; without, one node keeps everything in memory.
//! `ARCADE_BENCH_PLAYERS` (default 2000), `ARCADE_BENCH_ARRIVALS_PER_SEC`
//! (default 400).
//!
//! Run: `cargo bench -p arcade-host --bench ticket_to_room`.

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use support::{ServerProcess, env_or, guest_token};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn start_nodes() -> (Vec<ServerProcess>, String) {
    let redis = std::env::var("ARCADE_BENCH_REDIS_URL").or_else(|_| std::env::var("ARCADE_TEST_REDIS_URL")).ok();
    let roomy = [
        ("ARCADE_RATE_LIMITS__IP_PER_MINUTE", "100000000".to_string()),
        ("ARCADE_RATE_LIMITS__PLAYER_PER_MINUTE", "100000000".to_string()),
        ("ARCADE_RATE_LIMITS__ROOM_PER_SECOND", "1000000".to_string()),
    ];
    let Some(redis) = redis else {
        return (vec![ServerProcess::start(&roomy)], "1 node, in-memory store".into());
    };
    let count = env_or("ARCADE_BENCH_NODES", 3);
    let namespace = format!("arcade-bench-{}", std::process::id());
    let nodes = (0..count)
        .map(|i| {
            let mut env = roomy.to_vec();
            env.extend([
                ("ARCADE_CLUSTER__REDIS_URL", redis.clone()),
                ("ARCADE_CLUSTER__NAMESPACE", namespace.clone()),
                ("ARCADE_CLUSTER__NODE_ID", format!("bench-{i}")),
                ("ARCADE_CLUSTER__SECRET", format!("{namespace}-cluster-secret-for-the-bench")),
                ("ARCADE_CLUSTER__HEARTBEAT_INTERVAL_MS", "200".into()),
                // The nodes of a cluster share their accounts and token keys.
                ("ARCADE_AUTH__DATABASE_URL", arcade_test_support::services::service_var("ARCADE_TEST_PG_URL")),
                (
                    "ARCADE_AUTH__SIGNING_KEYS",
                    format!("[{{kid=\"k1\", secret=\"{namespace}-token-key-for-the-bench\"}}]"),
                ),
            ]);
            ServerProcess::start(&env)
        })
        .collect();
    (nodes, format!("{count} nodes sharing Redis"))
}

/// Queues `player` (signed in as a guest first, untimed) through `base`;
/// the time until its room is assigned.
async fn ticket_to_room(http: &reqwest::Client, base: &str, player: String) -> Duration {
    let session = guest_token(http, base, &format!("ticket-to-room-{player}")).await;
    let started = Instant::now();
    let response = http
        .post(format!("{base}/v1/matchmaking/tickets"))
        .bearer_auth(session)
        .json(&json!({ "game": "tic-tac-toe" }))
        .send()
        .await
        .expect("POST a ticket");
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    let body: Value = response.json().await.unwrap();
    let ticket = body["ticket"]["id"].as_str().unwrap().to_string();
    let secret = body["secret"].as_str().expect("the ticket secret");
    let url = format!("{}/v1/matchmaking/tickets/{ticket}/ws?token={secret}", base.replacen("http://", "ws://", 1));
    let (mut socket, _) = tokio_tungstenite::connect_async(&url).await.expect("ticket WebSocket");
    while let Some(frame) = socket.next().await {
        if let Message::Text(text) = frame.expect("ticket WebSocket") {
            let update: Value = serde_json::from_str(&text).unwrap();
            if !update["match"]["assignment"].is_null() {
                return started.elapsed();
            }
            assert!(update["status"] == "waiting" || update["status"] == "matched", "{update}");
        }
    }
    panic!("the ticket WebSocket closed before the room");
}

fn main() {
    let players = env_or("ARCADE_BENCH_PLAYERS", 2000) & !1;
    let rate = env_or("ARCADE_BENCH_ARRIVALS_PER_SEC", 400).max(1);
    let (nodes, shape) = start_nodes();
    let bases: Arc<Vec<String>> = Arc::new(nodes.iter().map(|n| n.base.clone()).collect());
    // Let every node see the others before players arrive.
    std::thread::sleep(Duration::from_millis(600));

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let http = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
        let started = Instant::now();
        let tasks: Vec<_> = (0..players)
            .map(|i| {
                let (http, bases) = (http.clone(), bases.clone());
                let arrival = started + Duration::from_secs_f64(i as f64 / rate as f64);
                tokio::spawn(async move {
                    tokio::time::sleep_until(arrival.into()).await;
                    ticket_to_room(&http, &bases[i % bases.len()], format!("p{i}")).await
                })
            })
            .collect();
        let mut waits = Vec::with_capacity(players);
        for task in tasks {
            waits.push(task.await.expect("a player failed"));
        }
        let elapsed = started.elapsed();
        waits.sort();
        println!("ticket_to_room: {shape}, {players} players arriving at {rate}/s, 2-player tic-tac-toe queue");
        println!(
            "  ticket sent -> room assigned: median {:.0} ms, p99 {:.0} ms, max {:.0} ms",
            percentile(&waits, 0.5).as_secs_f64() * 1e3,
            percentile(&waits, 0.99).as_secs_f64() * 1e3,
            waits.last().unwrap().as_secs_f64() * 1e3
        );
        println!(
            "  {} rooms in {:.1} s ({:.0} matches/s)",
            players / 2,
            elapsed.as_secs_f64(),
            (players / 2) as f64 / elapsed.as_secs_f64()
        );
    });
    drop(nodes);
}
