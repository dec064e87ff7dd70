//! The load generator: R rooms × P WebSocket players, each room playing
//! games back to back.
//!
//! Each room's P players sign in once (guest accounts, one device id per
//! player). One game: the first player creates the room with P seats
//! (`POST /v1/rooms` with its session: the answer carries its seat token),
//! the others join it (`POST /v1/rooms/{id}/join`), every player connects to
//! `/v1/rooms/{id}/ws?token=…`, the player the game awaits picks a random
//! entry of its `state`'s `legal_actions` and sends it; the round trip of an
//! action is send → `ack`. When every player has seen the `finished` state
//! the sockets are closed and the room starts its next game. Against a
//! server from before session-seated rooms (a build for A/B runs: no
//! `/v1/auth/guest`, or a creation that seats nobody) rooms are created with
//! the players named in the body, as such servers did.
//!
//! The run has a warm-up (games played, nothing counted), then a measured
//! window: games finished, moves acknowledged, round trips of actions sent,
//! and the server's CPU time ([`crate::server::ServerProcess::cpu_time`],
//! user and system apart) read at both ends of the window. Rooms stop
//! starting games at the end of the window and finish the ones in flight. Failures (HTTP errors, server
//! `error` messages, closed sockets, aborted games, games over the timeout)
//! are counted by kind, never panicked on; the room moves on to a new game.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::server::CpuTimes;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// After a failed game, a room waits this long before the next one (no hot
/// error loop).
const ERROR_BACKOFF: Duration = Duration::from_millis(50);
/// Timeout of one HTTP request.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Rooms × players per room, written `50x2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub rooms: usize,
    pub players: usize,
}

impl FromStr for Shape {
    type Err = String;

    fn from_str(s: &str) -> Result<Shape, String> {
        let (rooms, players) = s.split_once(['x', '×']).ok_or_else(|| format!("{s:?}: expected ROOMSxPLAYERS"))?;
        let rooms: usize = rooms.trim().parse().map_err(|_| format!("{s:?}: bad room count"))?;
        let players: usize = players.trim().parse().map_err(|_| format!("{s:?}: bad player count"))?;
        if rooms == 0 || players == 0 {
            return Err(format!("{s:?}: rooms and players must be at least 1"));
        }
        Ok(Shape { rooms, players })
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}×{}", self.rooms, self.players)
    }
}

/// One run's parameters.
#[derive(Clone, Debug)]
pub struct LoadConfig {
    /// `http://host:port` of the server.
    pub base: String,
    /// Plugin name; any turn-based game whose `legal_actions` list whole actions.
    pub game: String,
    pub shape: Shape,
    /// Played but not counted.
    pub warmup: Duration,
    /// The measured window.
    pub duration: Duration,
    /// A game not finished within this long counts as a `game_timeout` error.
    pub game_timeout: Duration,
    /// Seeds the players' move choices.
    pub seed: u64,
}

/// Reads the server's CPU time; `None` where it cannot (no such process).
pub type CpuProbe = Arc<dyn Fn() -> Option<CpuTimes> + Send + Sync>;

/// What one run measured.
#[derive(Clone, Debug, Default)]
pub struct RunResult {
    /// The measured window's actual length.
    pub window: Duration,
    /// Games finished within the window.
    pub games: u64,
    /// Actions acknowledged within the window.
    pub moves: u64,
    /// Round trips (send → ack, µs) of the actions sent within the window, sorted.
    pub round_trips_us: Vec<u32>,
    /// Room creation requests (µs) sent within the window, sorted.
    pub creates_us: Vec<u32>,
    /// Server CPU time (user + system) over the window.
    pub server_cpu: Option<Duration>,
    /// The part of `server_cpu` spent in the kernel (system time).
    pub server_kernel_cpu: Option<Duration>,
    /// The load generator's own CPU time over the window.
    pub client_cpu: Option<Duration>,
    /// Failures by kind, over the whole run (warm-up and tail included).
    pub errors: BTreeMap<String, u64>,
    /// Games finished over the whole run.
    pub games_total: u64,
    /// Games finished from the start of the run to the end of the window,
    /// and how many of them the archive had (`arcade_archive_games_total`
    /// on `/metrics`) at that moment: a backlog that grows means the
    /// archive path does not keep up, and its cost is not all in the window.
    pub finished_by_end: u64,
    pub archived_by_end: Option<u64>,
}

impl RunResult {
    pub fn games_per_sec(&self) -> f64 {
        self.games as f64 / self.window.as_secs_f64().max(1e-9)
    }

    pub fn moves_per_sec(&self) -> f64 {
        self.moves as f64 / self.window.as_secs_f64().max(1e-9)
    }

    /// Server CPU per finished game.
    pub fn cpu_per_game(&self) -> Option<Duration> {
        per(self.server_cpu?, self.games)
    }

    /// Server CPU in the kernel per finished game.
    pub fn kernel_cpu_per_game(&self) -> Option<Duration> {
        per(self.server_kernel_cpu?, self.games)
    }

    /// Server CPU per acknowledged move.
    pub fn cpu_per_move(&self) -> Option<Duration> {
        per(self.server_cpu?, self.moves)
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Round trip at quantile `q` (0..=1).
    pub fn round_trip(&self, q: f64) -> Option<Duration> {
        quantile(&self.round_trips_us, q)
    }
}

pub(crate) fn per(total: Duration, count: u64) -> Option<Duration> {
    (count > 0).then(|| Duration::from_secs_f64(total.as_secs_f64() / count as f64))
}

/// Nearest-rank quantile of sorted microsecond samples.
pub fn quantile(sorted_us: &[u32], q: f64) -> Option<Duration> {
    if sorted_us.is_empty() {
        return None;
    }
    let rank = ((sorted_us.len() as f64 * q).ceil() as usize).clamp(1, sorted_us.len());
    Some(Duration::from_micros(sorted_us[rank - 1] as u64))
}

/// What every room task shares.
struct Shared {
    http: reqwest::Client,
    base: String,
    ws_base: String,
    game: String,
    players: usize,
    measure_from: Instant,
    measure_until: Instant,
    game_timeout: Duration,
    errors: Mutex<BTreeMap<String, u64>>,
    finished: AtomicU64,
}

impl Shared {
    fn in_window(&self, t: Instant) -> bool {
        t >= self.measure_from && t < self.measure_until
    }

    fn count_error(&self, kind: String) {
        if let Ok(mut errors) = self.errors.lock() {
            *errors.entry(kind).or_default() += 1;
        }
    }
}

/// One room's tallies.
#[derive(Default)]
struct Tally {
    games: u64,
    games_total: u64,
    moves: u64,
    round_trips_us: Vec<u32>,
    creates_us: Vec<u32>,
}

/// Runs the load against `config.base` and returns the measurements.
/// `server_cpu` is read at the start and end of the measured window.
pub async fn run(config: &LoadConfig, server_cpu: CpuProbe) -> anyhow::Result<RunResult> {
    let http = reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(config.shape.rooms * 2)
        .timeout(HTTP_TIMEOUT)
        .build()?;
    let start = Instant::now();
    let shared = Arc::new(Shared {
        http,
        base: config.base.trim_end_matches('/').to_string(),
        ws_base: config.base.trim_end_matches('/').replacen("http", "ws", 1),
        game: config.game.clone(),
        players: config.shape.players,
        measure_from: start + config.warmup,
        measure_until: start + config.warmup + config.duration,
        game_timeout: config.game_timeout,
        errors: Mutex::default(),
        finished: AtomicU64::new(0),
    });

    // Reads both CPU clocks at the window's two ends.
    let sampler = {
        let shared = shared.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(shared.measure_from.into()).await;
            let (server0, client0, t0) = (server_cpu(), crate::server::own_cpu_time(), Instant::now());
            tokio::time::sleep_until(shared.measure_until.into()).await;
            let (server1, client1, t1) = (server_cpu(), crate::server::own_cpu_time(), Instant::now());
            let finished = shared.finished.load(Ordering::Relaxed);
            let archived = archived_games(&shared).await;
            let diff = |a: Option<CpuTimes>, b: Option<CpuTimes>| Some(b?.since(&a?));
            (diff(server0, server1), diff(client0, client1).map(|c| c.total()), t1 - t0, finished, archived)
        })
    };

    let mut rooms = Vec::with_capacity(config.shape.rooms);
    for index in 0..config.shape.rooms {
        let shared = shared.clone();
        let seed = config.seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        rooms.push(tokio::spawn(room_loop(index, seed, shared)));
    }

    let (server, client_cpu, window, finished_by_end, archived_by_end) = sampler.await?;
    let mut result = RunResult {
        window,
        server_cpu: server.map(|s| s.total()),
        server_kernel_cpu: server.map(|s| s.system),
        client_cpu,
        finished_by_end,
        archived_by_end,
        ..RunResult::default()
    };
    for room in rooms {
        match room.await {
            Ok(tally) => {
                result.games += tally.games;
                result.games_total += tally.games_total;
                result.moves += tally.moves;
                result.round_trips_us.extend(tally.round_trips_us);
                result.creates_us.extend(tally.creates_us);
            }
            Err(e) => shared.count_error(format!("room_task_failed: {e}")),
        }
    }
    result.round_trips_us.sort_unstable();
    result.creates_us.sort_unstable();
    result.errors = shared.errors.lock().map(|e| e.clone()).unwrap_or_default();
    Ok(result)
}

/// One room: games back to back until the window ends.
async fn room_loop(index: usize, seed: u64, shared: Arc<Shared>) -> Tally {
    let names: Vec<String> = (0..shared.players).map(|p| format!("r{index}p{p}")).collect();
    let mut rng = Rng::new(seed);
    let mut tally = Tally::default();
    let mut players = loop {
        match sign_in(&shared, &names).await {
            Ok(players) => break players,
            Err(kind) => {
                shared.count_error(kind);
                if Instant::now() >= shared.measure_until {
                    return tally;
                }
                tokio::time::sleep(ERROR_BACKOFF).await;
            }
        }
    };
    while Instant::now() < shared.measure_until {
        match tokio::time::timeout(shared.game_timeout, one_game(&shared, &players, &mut rng, &mut tally)).await {
            Ok(Ok(())) => {
                shared.finished.fetch_add(1, Ordering::Relaxed);
                tally.games_total += 1;
                if shared.in_window(Instant::now()) {
                    tally.games += 1;
                }
            }
            Ok(Err(kind)) if kind == SEATED_NOBODY => players = Players::Named(names.clone()),
            Ok(Err(kind)) => {
                shared.count_error(kind);
                tokio::time::sleep(ERROR_BACKOFF).await;
            }
            Err(_) => shared.count_error("game_timeout".to_string()),
        }
    }
    tally
}

/// The archive's game count from the server's `/metrics`, if it has one.
async fn archived_games(shared: &Shared) -> Option<u64> {
    let response = shared.http.get(format!("{}/metrics", shared.base)).send().await.ok()?;
    let text = response.text().await.ok()?;
    let mut total = None;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("arcade_archive_games_total") else { continue };
        if !(rest.starts_with(' ') || rest.starts_with('{')) {
            continue;
        }
        let value: f64 = rest.rsplit(' ').next()?.parse().ok()?;
        total = Some(total.unwrap_or(0) + value as u64);
    }
    total
}

/// A creation with a session that seated nobody: the server names players
/// in the body instead.
const SEATED_NOBODY: &str = "create_seated_nobody";

/// A room's players: their access tokens, or their names for a server
/// from before session-seated rooms.
enum Players {
    Sessions(Vec<String>),
    Named(Vec<String>),
}

/// Signs every player in as a guest (one device id per player name).
async fn sign_in(shared: &Shared, names: &[String]) -> Result<Players, String> {
    let mut sessions = Vec::with_capacity(names.len());
    for name in names {
        let device = format!("arcade-bench-device-{name}");
        let (status, body) = post(shared, "/v1/auth/guest", None, &json!({ "device_id": device }), "sign_in").await?;
        if status == 404 && sessions.is_empty() {
            return Ok(Players::Named(names.to_vec()));
        }
        let token = body["access_token"].as_str().ok_or_else(|| format!("sign_in_{status}"))?;
        sessions.push(token.to_string());
    }
    Ok(Players::Sessions(sessions))
}

/// `POST path` with a JSON body (and a bearer token): the status and the JSON answer.
async fn post(
    shared: &Shared,
    path: &str,
    token: Option<&str>,
    body: &Value,
    what: &str,
) -> Result<(u16, Value), String> {
    let mut request = shared.http.post(format!("{}{path}", shared.base)).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|e| format!("{what}_request: {}", error_kind(&e)))?;
    let status = response.status().as_u16();
    let body: Value = response.json().await.map_err(|_| format!("{what}_body_{status}"))?;
    Ok((status, body))
}

/// An answer that must be a success: its body, else the error kind.
fn success(answer: (u16, Value), what: &str) -> Result<Value, String> {
    let (status, body) = answer;
    if !(200..300).contains(&status) {
        return Err(format!("{what}_{status}_{}", body["error"]["code"].as_str().unwrap_or("?")));
    }
    Ok(body)
}

/// The room's seat tokens: created by the first player (P seats), joined
/// by the others; or, without accounts, created with every player named.
async fn seat_tokens(shared: &Shared, players: &Players, tally: &mut Tally) -> Result<(String, Vec<String>), String> {
    let sent = Instant::now();
    let (count, created) = match players {
        Players::Sessions(sessions) => {
            let body = json!({ "game": shared.game, "seats": sessions.len() });
            (sessions.len(), post(shared, "/v1/rooms", Some(&sessions[0]), &body, "create").await?)
        }
        Players::Named(names) => {
            let body = json!({ "game": shared.game, "players": names });
            (names.len(), post(shared, "/v1/rooms", None, &body, "create").await?)
        }
    };
    let body = success(created, "create")?;
    if shared.in_window(sent) {
        tally.creates_us.push(micros(sent.elapsed()));
    }
    let room = body["room"]["id"].as_str().ok_or("create_answer_without_room_id")?.to_string();
    let mut tokens: Vec<String> = body["seats"]
        .as_array()
        .ok_or("create_answer_without_seats")?
        .iter()
        .filter_map(|seat| seat["token"].as_str().map(str::to_string))
        .collect();
    if let Players::Sessions(sessions) = players {
        if tokens.is_empty() {
            return Err(SEATED_NOBODY.to_string());
        }
        for session in &sessions[1..] {
            let joined = post(shared, &format!("/v1/rooms/{room}/join"), Some(session), &json!({}), "join").await?;
            let seat = success(joined, "join")?;
            tokens.push(seat["token"].as_str().ok_or("join_answer_without_token")?.to_string());
        }
    }
    if tokens.len() != count {
        return Err("create_answer_seat_count".to_string());
    }
    Ok((room, tokens))
}

/// Create a room, connect its players, play it to the end.
async fn one_game(shared: &Shared, players: &Players, rng: &mut Rng, tally: &mut Tally) -> Result<(), String> {
    let (room, tokens) = seat_tokens(shared, players, tally).await?;

    let sockets = futures_util::future::try_join_all(tokens.iter().map(|token| {
        let url = format!("{}/v1/rooms/{room}/ws?token={token}", shared.ws_base);
        async move {
            // `true`: TCP_NODELAY on the client side, as browsers and Node's `ws` do.
            tokio_tungstenite::connect_async_with_config(url, None, true)
                .await
                .map(|(ws, _)| ws)
                .map_err(|e| format!("ws_connect: {}", ws_error_kind(&e)))
        }
    }))
    .await?;

    let players = sockets.into_iter().map(|ws| play(shared, ws, Rng::new(rng.next())));
    for outcome in futures_util::future::try_join_all(players).await? {
        tally.moves += outcome.moves;
        tally.round_trips_us.extend(outcome.round_trips_us);
    }
    Ok(())
}

/// One player's tally for one game.
struct PlayerOutcome {
    moves: u64,
    round_trips_us: Vec<u32>,
}

/// Plays one seat until the game finishes: a random legal action whenever a
/// new `state` lists some for this player, one action in flight at a time.
async fn play(shared: &Shared, mut ws: Ws, mut rng: Rng) -> Result<PlayerOutcome, String> {
    let mut outcome = PlayerOutcome { moves: 0, round_trips_us: Vec::new() };
    let mut in_flight: Option<(u64, Instant)> = None;
    let mut acted_on_seq: Option<u64> = None;
    let mut next_id: u64 = 0;
    loop {
        let text = match ws.next().await {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(frame))) => {
                return Err(format!("ws_closed_by_server_{}", frame.map_or(0, |f| u16::from(f.code))));
            }
            Some(Ok(_)) => continue, // pings are answered by tungstenite
            Some(Err(e)) => return Err(format!("ws_read: {}", ws_error_kind(&e))),
            None => return Err("ws_eof".to_string()),
        };
        let Ok(message) = serde_json::from_str::<Value>(&text) else {
            return Err("bad_server_message".to_string());
        };
        match message["type"].as_str() {
            Some("ack") => {
                if let Some((id, sent)) = in_flight
                    && message["id"].as_u64() == Some(id)
                {
                    in_flight = None;
                    if shared.in_window(sent) {
                        outcome.round_trips_us.push(micros(sent.elapsed()));
                    }
                    if shared.in_window(Instant::now()) {
                        outcome.moves += 1;
                    }
                }
            }
            Some("error") => {
                return Err(format!("server_error_{}", message["code"].as_str().unwrap_or("?")));
            }
            Some("state") => match message["status"]["state"].as_str() {
                Some("finished") => {
                    let _ = ws.close(None).await;
                    return Ok(outcome);
                }
                Some("aborted") => {
                    return Err(format!("aborted_{}", message["status"]["code"].as_str().unwrap_or("?")));
                }
                _ => {
                    let seq = message["seq"].as_u64();
                    let legal = message["legal_actions"].as_array().filter(|a| !a.is_empty());
                    if let (None, Some(legal)) = (in_flight, legal)
                        && (seq.is_none() || seq != acted_on_seq)
                    {
                        let action = &legal[rng.below(legal.len())];
                        next_id += 1;
                        let frame = json!({ "type": "action", "id": next_id, "action": action }).to_string();
                        let sent = Instant::now();
                        ws.send(Message::Text(frame.into()))
                            .await
                            .map_err(|e| format!("ws_send: {}", ws_error_kind(&e)))?;
                        in_flight = Some((next_id, sent));
                        acted_on_seq = seq;
                    }
                }
            },
            _ => {} // welcome, and anything newer
        }
    }
}

fn micros(d: Duration) -> u32 {
    d.as_micros().min(u32::MAX as u128) as u32
}

fn error_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else {
        "other"
    }
}

fn ws_error_kind(e: &tokio_tungstenite::tungstenite::Error) -> &'static str {
    use tokio_tungstenite::tungstenite::Error;
    match e {
        Error::ConnectionClosed | Error::AlreadyClosed => "closed",
        Error::Io(_) => "io",
        Error::Protocol(_) => "protocol",
        Error::Http(_) => "http_refused",
        _ => "other",
    }
}

/// xorshift64*: move choices, reproducible from the seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_parse() {
        assert_eq!("50x2".parse(), Ok(Shape { rooms: 50, players: 2 }));
        assert_eq!("1×2".parse(), Ok(Shape { rooms: 1, players: 2 }));
        assert!("0x2".parse::<Shape>().is_err());
        assert!("50".parse::<Shape>().is_err());
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let samples: Vec<u32> = (1..=100).collect();
        assert_eq!(quantile(&samples, 0.5), Some(Duration::from_micros(50)));
        assert_eq!(quantile(&samples, 0.99), Some(Duration::from_micros(99)));
        assert_eq!(quantile(&samples, 1.0), Some(Duration::from_micros(100)));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
