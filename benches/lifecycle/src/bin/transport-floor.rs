//! The transport floor: a stand-in server that answers the lifecycle load
//! generator with the same exchanges as `arcade serve` — guest sign-in,
//! `POST /v1/rooms`, `POST /v1/rooms/{id}/join`, one WebSocket per seat with
//! `welcome`, `state` (view, status, events, legal actions) and `ack`
//! messages of the same shape and size — through the same libraries (tokio,
//! axum, hyper, tungstenite, mimalloc), and nothing else: tic-tac-toe in
//! plain Rust, no plugin, no journal, no archive, no accounts, no limits, no
//! metrics, no logs.
//!
//! Its server CPU per game is what the game's HTTP and WebSocket traffic
//! alone costs on this machine: the part of `arcade serve`'s cost per game
//! that no change behind the protocol can remove (docs/benchmarks.md,
//! "Ninth run"). Not a server: it checks nothing and keeps every room in
//! memory until both sockets close.
//!
//!   arcade-transport-floor --listen 127.0.0.1:8080
//!   arcade-lifecycle-bench --server floor=<this binary's path> …
//!
//! The generator starts it as `<binary> serve --listen ADDR …` like
//! `arcade` and waits for the same `arcade listening on URL` line; every
//! argument other than `--listen ADDR` is ignored.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One room: the board and each seat's outgoing queue once it connected.
struct Room {
    players: Vec<String>,
    tokens: Vec<String>,
    board: [u8; 9],
    turn: usize,
    seq: u64,
    finished: bool,
    outboxes: Vec<Option<mpsc::UnboundedSender<String>>>,
    closed: usize,
}

#[derive(Default)]
struct Floor {
    rooms: Mutex<HashMap<String, Arc<Mutex<Room>>>>,
    next: AtomicU64,
}

impl Floor {
    /// 16 hex digits, like the server's room ids (a seat token is two).
    fn id(&self) -> String {
        format!("{:016x}", self.next.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    fn token(&self) -> String {
        self.id() + &self.id()
    }
}

type Shared = Arc<Floor>;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut listen = "127.0.0.1:8080".to_string();
    while let Some(arg) = args.next() {
        if arg == "--listen" {
            listen = args.next().ok_or_else(|| anyhow::anyhow!("--listen needs an address"))?;
        }
    }
    tokio::runtime::Runtime::new()?.block_on(async move {
        let app = Router::new()
            .route("/health/ready", get(|| async { "ok" }))
            .route("/health/live", get(|| async { "ok" }))
            .route("/v1/auth/guest", post(guest))
            .route("/v1/rooms", post(create))
            .route("/v1/rooms/{id}/join", post(join))
            .route("/v1/rooms/{id}/ws", get(connect))
            .with_state(Shared::default());
        let listener = tokio::net::TcpListener::bind(&listen).await?;
        println!("arcade listening on http://{}", listener.local_addr()?);
        loop {
            let (socket, _) = listener.accept().await?;
            socket.set_nodelay(true)?;
            let service = hyper_util::service::TowerToHyperService::new(app.clone());
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(socket);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).with_upgrades().await;
            });
        }
    })
}

/// A new account per sign-in (the generator signs each player in once).
async fn guest(State(floor): State<Shared>, Json(_body): Json<Value>) -> Json<Value> {
    let account = format!("acc_{:026x}", floor.next.fetch_add(1, Ordering::Relaxed));
    Json(json!({ "access_token": format!("{account}.{}", floor.token()), "token_type": "Bearer", "expires_in": 900 }))
}

/// The bearer token's first part is the account id (as long as the
/// server's `acc_…` ids).
fn player_of(headers: &axum::http::HeaderMap) -> String {
    let token = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    token.trim_start_matches("Bearer ").split('.').next().unwrap_or("").to_string()
}

async fn create(State(floor): State<Shared>, headers: axum::http::HeaderMap, Json(body): Json<Value>) -> Json<Value> {
    let seats = body["seats"].as_u64().unwrap_or(2).clamp(1, 2) as usize;
    let (id, token) = (floor.id(), floor.token());
    let player = player_of(&headers);
    let room = Room {
        players: vec![player.clone()],
        tokens: vec![token.clone()],
        board: [0; 9],
        turn: 0,
        seq: 0,
        finished: false,
        outboxes: vec![None; seats],
        closed: 0,
    };
    floor.rooms.lock().unwrap().insert(id.clone(), Arc::new(Mutex::new(room)));
    Json(json!({
        "room": {
            "game": "tic-tac-toe", "hash": "0".repeat(64), "id": id, "names": { player.clone(): player },
            "seats": seats, "seq": 0, "status": { "seated": [player], "seats": seats, "state": "waiting_for_players" },
            "version": "1.0.0", "watchers": 0,
        },
        "seats": [{ "name": player, "player": player, "token": token }],
    }))
}

async fn join(
    State(floor): State<Shared>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Json<Value>, StatusCode> {
    let room = floor.rooms.lock().unwrap().get(&id).cloned().ok_or(StatusCode::NOT_FOUND)?;
    let token = floor.token();
    let player = player_of(&headers);
    let mut room = room.lock().unwrap();
    if room.players.len() == room.outboxes.len() {
        return Err(StatusCode::CONFLICT);
    }
    room.players.push(player.clone());
    room.tokens.push(token.clone());
    Ok(Json(json!({ "player": player, "name": player, "token": token })))
}

#[derive(serde::Deserialize)]
struct Token {
    token: String,
}

async fn connect(
    State(floor): State<Shared>,
    Path(id): Path<String>,
    Query(query): Query<Token>,
    upgrade: WebSocketUpgrade,
) -> Result<axum::response::Response, StatusCode> {
    let room = floor.rooms.lock().unwrap().get(&id).cloned().ok_or(StatusCode::NOT_FOUND)?;
    let seat = room.lock().unwrap().tokens.iter().position(|t| *t == query.token).ok_or(StatusCode::UNAUTHORIZED)?;
    Ok(upgrade.on_upgrade(move |socket| session(floor, id, room, seat, socket)))
}

async fn session(floor: Shared, id: String, room: Arc<Mutex<Room>>, seat: usize, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    {
        let mut room = room.lock().unwrap();
        let names: serde_json::Map<String, Value> = room.players.iter().map(|p| (p.clone(), json!(p))).collect();
        let welcome = json!({ "type": "welcome", "room": id, "game": "tic-tac-toe", "version": "1.0.0", "you": room.players[seat], "names": names });
        let _ = tx.send(welcome.to_string());
        room.outboxes[seat] = Some(tx);
        if room.outboxes.iter().all(Option::is_some) {
            broadcast(&room, None);
        }
    }
    // Like the server's sessions: everything queued goes out in one write.
    let writer = tokio::spawn(async move {
        while let Some(text) = rx.recv().await {
            let mut sent = sink.feed(Message::Text(text.into())).await;
            while let (true, Ok(more)) = (sent.is_ok(), rx.try_recv()) {
                sent = sink.feed(Message::Text(more.into())).await;
            }
            if sent.is_err() || sink.flush().await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    while let Some(Ok(message)) = stream.next().await {
        let Message::Text(text) = message else {
            if matches!(message, Message::Close(_)) {
                break;
            }
            continue;
        };
        let Ok(message) = serde_json::from_str::<Value>(&text) else { continue };
        let cell = message["action"]["cell"].as_u64().map(|c| c as usize);
        let mut room = room.lock().unwrap();
        let legal = !room.finished && room.turn == seat && cell.is_some_and(|c| c < 9 && room.board[c] == 0);
        let Some(outbox) = room.outboxes[seat].clone() else { break };
        if !legal {
            let error = json!({ "type": "error", "id": message["id"], "code": "illegal", "message": "illegal move" });
            let _ = outbox.send(error.to_string());
            continue;
        }
        let cell = cell.unwrap_or(0);
        room.board[cell] = seat as u8 + 1;
        room.seq += 1;
        room.turn = 1 - room.turn.min(1);
        room.finished = winner(&room.board).is_some() || room.board.iter().all(|&c| c != 0);
        let _ = outbox.send(json!({ "type": "ack", "id": message["id"], "seq": room.seq }).to_string());
        broadcast(&room, Some((seat, cell)));
    }
    {
        let mut room_now = room.lock().unwrap();
        room_now.outboxes[seat] = None;
        room_now.closed += 1;
        if room_now.closed == room_now.outboxes.len() {
            floor.rooms.lock().unwrap().remove(&id);
        }
    }
    let _ = writer.await;
}

const LINES: [[usize; 3]; 8] = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 3, 6], [1, 4, 7], [2, 5, 8], [0, 4, 8], [2, 4, 6]];

fn winner(board: &[u8; 9]) -> Option<u8> {
    LINES
        .iter()
        .find(|l| board[l[0]] != 0 && board[l[0]] == board[l[1]] && board[l[1]] == board[l[2]])
        .map(|l| board[l[0]])
}

/// Every seat's `state`: the board, the status, the move's event and, for
/// the seat to move, its legal actions.
fn broadcast(room: &Room, moved: Option<(usize, usize)>) {
    let mark = |seat: usize| ["X", "O"][seat.min(1)];
    let board: Vec<Value> =
        room.board.iter().map(|&c| if c == 0 { Value::Null } else { mark(c as usize - 1).into() }).collect();
    let status = match (room.finished, winner(&room.board)) {
        (true, Some(w)) => {
            json!({ "state": "finished", "outcome": { "winners": [room.players[w as usize - 1]], "scores": [], "summary": "three in a row" } })
        }
        (true, None) => json!({ "state": "finished", "outcome": { "winners": [], "scores": [], "summary": "draw" } }),
        _ => json!({ "state": "playing", "awaiting": [room.players[room.turn]] }),
    };
    let players: serde_json::Map<String, Value> =
        room.players.iter().enumerate().map(|(seat, p)| (mark(seat).to_string(), json!(p))).collect();
    let view = json!({ "board": board, "next": room.players[room.turn], "players": players, "rules_version": "1.0.0" });
    let events: Vec<Value> = moved
        .map(|(seat, cell)| json!({ "kind": "move", "data": { "player": room.players[seat], "mark": mark(seat), "cell": cell } }))
        .into_iter()
        .collect();
    for (seat, outbox) in room.outboxes.iter().enumerate() {
        let Some(outbox) = outbox else { continue };
        let legal: Vec<Value> = if !room.finished && seat == room.turn {
            (0..9).filter(|&c| room.board[c] == 0).map(|c| json!({ "cell": c })).collect()
        } else {
            Vec::new()
        };
        let state = json!({ "type": "state", "seq": room.seq, "status": status, "view": view, "events": events, "legal_actions": legal });
        let _ = outbox.send(state.to_string());
    }
}
