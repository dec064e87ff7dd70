//! Full game loop on loopback: many concurrent tic-tac-toe rooms, each with
//! WebSocket players, against a real `arcade serve` child process.
//!
//! All rooms are created and all players connected before play starts, so
//! the figure "rooms" is the number of rooms live at the same time. Every
//! action's round trip (send → ack) is timed; the report gives median, p99,
//! throughput and the server's resident memory.
//!
//! `ARCADE_BENCH_THINK_MS` (default 0): players wait a random 0..think ms
//! before each move (0 = all rooms play flat out, a saturation test).
//! `ARCADE_BENCH_ROOMS` (default 10000) rooms; `ARCADE_BENCH_WS_PER_ROOM`
//! 2 (both players on WebSocket) or 1 (X on WebSocket, O over HTTP
//! keep-alive). This machine caps a process at 20,000 open files, so
//! 10,000 rooms with two sockets each do not fit in one server process;
//! docs/benchmarks.md reports both shapes.
//!
//! Run: `cargo bench -p arcade-host --bench ws_game_loop`.

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{Barrier, Semaphore};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use support::{ServerProcess, env_or, guest_token};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// X wins on the top row: (seat, cell).
const MOVES: [(usize, u8); 5] = [(0, 0), (1, 3), (0, 1), (1, 4), (0, 2)];

/// The server under test: room limit raised to fit, rate limits out of the
/// way (this measures the game loop, not the limiter).
fn start_server(rooms: usize) -> ServerProcess {
    ServerProcess::start(&[
        ("ARCADE_LIMITS__MAX_ROOMS", (rooms + 100).to_string()),
        ("ARCADE_RATE_LIMITS__PLAYER_PER_MINUTE", "100000000".into()),
        ("ARCADE_RATE_LIMITS__ROOM_PER_SECOND", "1000000".into()),
        ("ARCADE_RATE_LIMITS__WS_MESSAGES_PER_SECOND", "1000000".into()),
        // Since #7 the server caps room creations per IP, connections (all
        // and per IP) and idle WebSockets: this load comes from one address,
        // and players wait silently until every room is set up.
        ("ARCADE_RATE_LIMITS__IP_PER_MINUTE", "100000000".into()),
        ("ARCADE_LIMITS__MAX_CONNECTIONS", "60000".into()),
        ("ARCADE_LIMITS__MAX_CONNECTIONS_PER_IP", "60000".into()),
        ("ARCADE_LIMITS__WS_IDLE_TIMEOUT_MS", "600000".into()),
    ])
}

async fn next_of_type(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let msg = ws.next().await.expect("socket closed").expect("socket error");
        if let Message::Text(text) = msg {
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["type"] == kind {
                return v;
            }
            if v["type"] == "error" {
                panic!("server error: {v}");
            }
        }
    }
}

enum Player {
    Ws(Box<Ws>),
    Http(String),
}

struct Room {
    id: String,
    players: Vec<Player>,
}

impl Room {
    async fn act(&mut self, http: &reqwest::Client, http_slots: &Semaphore, base: &str, seat: usize, cell: u8) {
        let action = json!({ "cell": cell });
        match &mut self.players[seat] {
            Player::Ws(ws) => {
                let msg = json!({ "type": "action", "id": cell, "action": action });
                ws.send(Message::Text(msg.to_string().into())).await.unwrap();
                next_of_type(ws, "ack").await;
            }
            Player::Http(token) => {
                // Bounded: each request in flight holds a connection (a file).
                let _slot = http_slots.acquire().await.unwrap();
                let r = http
                    .post(format!("{base}/v1/rooms/{}/actions", self.id))
                    .bearer_auth(&*token)
                    .json(&action)
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success(), "action failed: {}", r.text().await.unwrap());
            }
        }
    }
}

/// Two guests (X creates the room and takes the first seat, O joins it);
/// their seat tokens play.
async fn open_room(http: &reqwest::Client, base: &str, index: usize, ws_per_room: usize) -> Room {
    let x = guest_token(http, base, &format!("ws-game-loop-x-{index:06}")).await;
    let o = guest_token(http, base, &format!("ws-game-loop-o-{index:06}")).await;
    let created: Value = http
        .post(format!("{base}/v1/rooms"))
        .bearer_auth(&x)
        .json(&json!({ "game": "tic-tac-toe" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["room"]["id"].as_str().unwrap().to_string();
    let joined: Value =
        http.post(format!("{base}/v1/rooms/{id}/join")).bearer_auth(&o).send().await.unwrap().json().await.unwrap();
    let seats = [&created["seats"][0], &joined];
    let ws_base = base.replacen("http", "ws", 1);
    let mut players = Vec::new();
    for (seat, s) in seats.into_iter().enumerate() {
        let token = s["token"].as_str().unwrap_or_else(|| panic!("no seat token: {s}")).to_string();
        if seat < ws_per_room {
            let (mut ws, _) =
                tokio_tungstenite::connect_async(format!("{ws_base}/v1/rooms/{id}/ws?token={token}")).await.unwrap();
            next_of_type(&mut ws, "state").await;
            players.push(Player::Ws(Box::new(ws)));
        } else {
            players.push(Player::Http(token));
        }
    }
    Room { id, players }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let rooms = env_or("ARCADE_BENCH_ROOMS", 10_000);
    let ws_per_room = env_or("ARCADE_BENCH_WS_PER_ROOM", 1).clamp(1, 2);
    let think_ms = env_or("ARCADE_BENCH_THINK_MS", 0) as u64;
    let server = start_server(rooms);
    let base = server.base.clone();
    let idle_rss = server.rss_mib();
    let server = &server;

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let http = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
        let connect_limit = Arc::new(Semaphore::new(64));
        let http_slots = Arc::new(Semaphore::new(256));
        let all_connected = Arc::new(Barrier::new(rooms + 1));
        let setup = Instant::now();
        let mut tasks = Vec::with_capacity(rooms);
        for index in 0..rooms {
            let (http, base, limit, barrier) = (http.clone(), base.clone(), connect_limit.clone(), all_connected.clone());
            let http_slots = http_slots.clone();
            let mut dice = (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            tasks.push(tokio::spawn(async move {
                let permit = limit.acquire().await.unwrap();
                let mut room = open_room(&http, &base, index, ws_per_room).await;
                drop(permit);
                barrier.wait().await;
                let mut latencies = Vec::with_capacity(MOVES.len());
                for (seat, cell) in MOVES {
                    if think_ms > 0 {
                        dice ^= dice << 13;
                        dice ^= dice >> 7;
                        dice ^= dice << 17;
                        tokio::time::sleep(Duration::from_millis(dice % think_ms)).await;
                    }
                    let t = Instant::now();
                    room.act(&http, &http_slots, &base, seat, cell).await;
                    latencies.push(t.elapsed());
                }
                // Every WebSocket player sees the final state.
                for player in &mut room.players {
                    if let Player::Ws(ws) = player {
                        loop {
                            let state = next_of_type(ws, "state").await;
                            if state["status"]["state"] == "finished" {
                                assert_eq!(state["status"]["winners"], json!(["x"]));
                                break;
                            }
                        }
                    }
                }
                latencies
            }));
        }
        all_connected.wait().await;
        let setup_time = setup.elapsed();
        let live_rss = server.rss_mib();
        let play = Instant::now();
        let mut latencies = Vec::new();
        for t in tasks {
            latencies.extend(t.await.unwrap());
        }
        let play_time = play.elapsed();
        latencies.sort();
        println!("ws_game_loop: {rooms} concurrent tic-tac-toe rooms, {ws_per_room} WebSocket player(s) per room, think time 0..{think_ms} ms");
        println!("  setup (create + connect all): {:.1} s", setup_time.as_secs_f64());
        println!("  server RSS: idle {idle_rss:.0} MiB, all rooms live {live_rss:.0} MiB ({:.1} KiB per room)",
            (live_rss - idle_rss) * 1024.0 / rooms as f64);
        println!("  actions: {} in {:.2} s = {:.0} actions/s", latencies.len(), play_time.as_secs_f64(),
            latencies.len() as f64 / play_time.as_secs_f64());
        println!("  action round trip: median {:.2} ms, p99 {:.2} ms",
            percentile(&latencies, 0.5).as_secs_f64() * 1e3, percentile(&latencies, 0.99).as_secs_f64() * 1e3);
    });
}
