//! The end-to-end harness: spawn the real `arcade` binary on a free port with
//! a fresh data dir, and talk to it over HTTP ([`Server`]) and WebSocket
//! ([`WsClient`]); or build the same app in this process and call its router
//! ([`InProcess`]). The API calls the tests make ([`Api`]) go through either.
//!
//! Paths: the binary is the one Cargo built for this test
//! (`CARGO_BIN_EXE_arcade`); the plugins are those `arcade-test-plugins`
//! built (`examples/` and `fixtures/`); the Lambda handlers are built on
//! first use ([`workspace_binary`]). Nothing needs building beforehand.
//!
//! Compiled plugins are cached across servers: every fresh data dir is seeded
//! with the `cache/*.cwasm` artifacts earlier servers produced (the registry
//! keys them by content hash and engine), so a server starts in well under a
//! second once each plugin has been compiled once.

mod in_process;
pub mod lambda_api;
pub mod terraform;
pub mod ws;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use in_process::InProcess;
pub use reqwest::Method;
pub use reqwest::StatusCode;
pub use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;
pub use ws::WsClient;

/// The admin token `arcade serve` accepts when none is configured.
pub const ADMIN_TOKEN: &str = "arcade-dev-admin";
/// How long a server may take to print its listening line.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Upper bound for any single HTTP request of a test.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Held by the tests that load the whole machine (the 2,000-game ladder,
/// compiling Python and JavaScript interpreters) and by the one that
/// measures latency under load (the soak), so none runs beside another: on
/// 2 cores the soak's honest round trips would measure the ladder's bots.
pub async fn machine_to_myself() -> tokio::sync::MutexGuard<'static, ()> {
    static HEAVY: std::sync::OnceLock<tokio::sync::Mutex<()>> = std::sync::OnceLock::new();
    HEAVY.get_or_init(|| tokio::sync::Mutex::new(())).lock().await
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("host/ has a parent").to_path_buf()
}

/// The target dir this test was built into (`<target>/<profile>/arcade`).
pub fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_arcade")).ancestors().nth(2).expect("<target>/<profile>/arcade").to_path_buf()
}

/// The `arcade` binary under test: the one Cargo built for these tests, or
/// `ARCADE_TEST_SERVER_BIN` (the benchmarks run a release server from a
/// debug test build).
pub fn arcade_bin() -> PathBuf {
    std::env::var_os("ARCADE_TEST_SERVER_BIN")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_arcade")), PathBuf::from)
}

/// The binary `package` builds (a Lambda handler): built with this test's
/// cargo, profile and target dir on first use in this process, then reused.
pub fn workspace_binary(package: &'static str) -> PathBuf {
    package_binary(package, package)
}

/// The binary `bin` of `package`, built as [`workspace_binary`] builds.
pub fn package_binary(package: &'static str, bin: &str) -> PathBuf {
    static BUILT: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_arcade")).parent().expect("<target>/<profile>").to_path_buf();
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !built.contains(&package) {
        let mut command = std::process::Command::new(env!("CARGO"));
        command.current_dir(workspace_root()).args(["build", "--quiet", "-p", package, "--target-dir"]);
        command.arg(target_dir());
        if bin_dir.file_name().is_some_and(|profile| profile == "release") {
            command.arg("--release");
        }
        let status = command.status().unwrap_or_else(|e| panic!("running cargo build -p {package}: {e}"));
        assert!(status.success(), "cargo build -p {package} failed: {status}");
        built.push(package);
    }
    bin_dir.join(bin)
}

/// A command running the `arcade` binary with none of the test process's
/// `ARCADE_*` variables (the server reads every one of them as config and
/// refuses unknown keys such as `ARCADE_BIN`).
pub fn arcade_command() -> std::process::Command {
    let mut command = std::process::Command::new(arcade_bin());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ARCADE_") {
            command.env_remove(key);
        }
    }
    command.stdin(Stdio::null());
    command
}

/// Runs `arcade ARGS` (in the workspace root) to completion, within 10 minutes.
pub async fn run_arcade(args: &[&str]) -> std::process::Output {
    let mut command = tokio::process::Command::from(arcade_command());
    command.args(args).current_dir(workspace_root()).kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(600), command.output())
        .await
        .unwrap_or_else(|_| panic!("arcade {args:?} timed out"))
        .unwrap_or_else(|e| panic!("running arcade {args:?}: {e}"))
}

/// A finished command's exit code and output, for assertion messages.
pub fn describe(output: &std::process::Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub use arcade_test_plugins::{examples_dir, plugin_path};

pub fn plugin_bytes(name: &str) -> Vec<u8> {
    let path = plugin_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Every test client connects from 127.0.0.1: per-address limits (rates and
/// connections) are roomy unless a test sets them ([`InProcess`] sets the
/// same rate limits; it has no connections to limit).
const ROOMY_RATE_LIMITS: [(&str, &str); 5] = [
    ("ARCADE_LIMITS__MAX_CONNECTIONS_PER_IP", "100000"),
    ("ARCADE_RATE_LIMITS__IP_PER_MINUTE", "1000000"),
    ("ARCADE_RATE_LIMITS__PLAYER_PER_MINUTE", "1000000"),
    ("ARCADE_RATE_LIMITS__ROOM_PER_SECOND", "100000"),
    ("ARCADE_RATE_LIMITS__WS_MESSAGES_PER_SECOND", "100000"),
];

/// A test service's address (`scripts/services.sh` starts them and writes
/// the variables): from the environment or the script's env file.
pub use arcade_test_support::services::{TestServices, service_var};

/// `prefix-<unique suffix>`: ids, namespaces and names no other test uses.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", unique_suffix())
}

/// A name suffix unique to this call in this process and across processes.
fn unique_suffix() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}-{n}-{nanos}", std::process::id())
}

/// A new empty directory under the system temp dir, unique to this call,
/// removed with everything in it when dropped (tests write journals and
/// archives of tens of MiB: a test run must leave nothing behind).
pub fn fresh_dir(prefix: &str) -> ScratchDir {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", unique_suffix()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    ScratchDir(dir)
}

/// A directory owned by a test; see [`fresh_dir`].
pub struct ScratchDir(PathBuf);

impl std::ops::Deref for ScratchDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `arcade serve`; killed (and its temp dir removed) on drop.
pub struct Server {
    /// `http://127.0.0.1:PORT`, as the server printed it.
    pub base: String,
    /// The admin listener's base URL, when `ARCADE_ADMIN_LISTEN` is set.
    pub admin_base: Option<String>,
    pub http: reqwest::Client,
    /// Players signed in through [`Api::player`].
    players: TestPlayers,
    child: Child,
    dir: PathBuf,
    /// The dir when this server owns it (not for servers restarted on a
    /// dir the test owns): removed on drop, after the server has exited.
    owned_dir: Option<ScratchDir>,
}

/// The answer to a room creation.
#[derive(Debug, Clone)]
pub struct Room {
    pub id: String,
    /// The room info of the `201` answer.
    pub info: Value,
    /// `(display name, seat token)` of the players seated at creation.
    pub seats: Vec<(String, String)>,
    /// `(display name, account id)` of the same players.
    pub ids: Vec<(String, String)>,
}

impl Room {
    pub fn token(&self, player: &str) -> &str {
        self.seats
            .iter()
            .find(|(p, _)| p == player)
            .map(|(_, t)| t.as_str())
            .unwrap_or_else(|| panic!("{player} was not seated at creation: {:?}", self.seats))
    }

    /// The account id (the plugin's player id) of the player named `player`.
    pub fn id_of(&self, player: &str) -> &str {
        self.ids
            .iter()
            .find(|(p, _)| p == player)
            .map(|(_, id)| id.as_str())
            .unwrap_or_else(|| panic!("{player} was not seated at creation: {:?}", self.ids))
    }
}

/// A signed-in test player: a guest account renamed to its test name.
#[derive(Clone, Debug)]
pub struct TestPlayer {
    /// The account id: the plugin's player id.
    pub id: String,
    pub access_token: String,
}

/// The players a harness has signed in, by name.
#[derive(Default)]
pub struct TestPlayers(std::sync::Mutex<std::collections::HashMap<String, TestPlayer>>);

impl Server {
    /// A server with the example games preloaded.
    pub async fn start() -> Server {
        Self::launch(true, &[]).await
    }

    /// A server (examples preloaded) on `dir`, which outlives it: start
    /// another on the same dir to test what survives a restart.
    pub async fn start_in(dir: &Path, env: &[(&str, &str)]) -> Server {
        Self::launch_in(dir.to_path_buf(), None, true, env).await
    }

    /// A server with the example games preloaded and extra `ARCADE_*` variables.
    pub async fn start_with(env: &[(&str, &str)]) -> Server {
        Self::launch(true, env).await
    }

    /// A server with no plugin at all.
    pub async fn start_empty() -> Server {
        Self::launch(false, &[]).await
    }

    async fn launch(preload: bool, env: &[(&str, &str)]) -> Server {
        let dir = fresh_dir("arcade-e2e");
        Self::launch_in(dir.to_path_buf(), Some(dir), preload, env).await
    }

    async fn launch_in(dir: PathBuf, owned_dir: Option<ScratchDir>, preload: bool, env: &[(&str, &str)]) -> Server {
        let data = dir.join("data");
        seed_compile_cache(&data);
        let stderr = std::fs::File::create(dir.join("stderr.log")).expect("creating the stderr log");
        let mut command = arcade_command();
        command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(&data);
        if preload {
            let examples = plugin_path("tic-tac-toe").parent().expect("a plugin dir").to_path_buf();
            command.arg("--preload").arg(examples);
        }
        // Rate and connection limits are tested on their own: other tests
        // get roomy ones unless they set them.
        command.envs(ROOMY_RATE_LIMITS);
        command.envs(env.iter().copied()).stdout(Stdio::piped()).stderr(stderr);
        let mut child = tokio::process::Command::from(command)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", arcade_bin().display()));

        let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let mut admin_base = None;
        let listening = tokio::time::timeout(START_TIMEOUT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                // Printed before the public line when there is an admin listener.
                if let Some(url) = line.strip_prefix("arcade admin listening on ") {
                    admin_base = Some(url.trim().to_string());
                }
                if let Some(url) = line.strip_prefix("arcade listening on ") {
                    return Some(url.trim().to_string());
                }
            }
            None
        })
        .await;
        let base = match listening {
            Ok(Some(base)) => base,
            failed => {
                let _ = child.start_kill();
                let why = if failed.is_err() { "timed out after 30 s" } else { "stdout closed" };
                panic!(
                    "arcade serve never printed `arcade listening on http://...` ({why}); env {env:?}; stderr:\n{}",
                    read_log(&dir)
                );
            }
        };
        // Keep draining stdout (the plugin list) so the server never blocks on it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let http = reqwest::Client::builder().no_proxy().timeout(HTTP_TIMEOUT).build().expect("an HTTP client");
        Server { base, admin_base, http, players: TestPlayers::default(), child, dir, owned_dir }
    }

    /// The server's data dir (journal, archive, plugins).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// What the server has logged so far.
    pub fn stderr_log(&self) -> String {
        read_log(&self.dir)
    }

    /// Send a signal (`"TERM"`, `"KILL"`, ...) to the server.
    /// The server process's id.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("the server is running")
    }

    pub fn signal(&self, signal: &str) {
        let pid = self.pid().to_string();
        let status = std::process::Command::new("kill").args(["-s", signal, &pid]).status().expect("running kill");
        assert!(status.success(), "kill -s {signal} {pid} failed");
    }

    /// Wait for the server process to exit on its own.
    pub async fn wait_for_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        tokio::time::timeout(timeout, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("the server did not exit within {timeout:?}:\n{}", self.stderr_log()))
            .expect("waiting for the server")
    }

    /// SIGKILL the server (no shutdown code runs) and wait until its port is closed.
    pub async fn kill(&self) {
        self.signal("KILL");
        for _ in 0..100 {
            if self.http.get(self.url("/health/live")).send().await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the server still answers after SIGKILL");
    }

    /// Deliver every finished game to the archive now.
    pub async fn flush_archive(&self) {
        let request = self.http.post(self.url("/admin/archive/flush")).bearer_auth(ADMIN_TOKEN);
        let (status, body) = self.send(request).await;
        assert_eq!(status, StatusCode::OK, "flush failed: {body}");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("{}{path}", self.base.replacen("http://", "ws://", 1))
    }

    /// Send a request; the body is parsed by [`json_body`].
    pub async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.unwrap_or_else(|e| panic!("request to {} failed: {e}", self.base));
        let status = response.status();
        let bytes = response.bytes().await.expect("reading a response body");
        (status, json_body(&bytes))
    }

    /// A WebSocket on a room (a player with `token`, else a spectator: the
    /// session of a player named `spectator`); the `welcome` has been read.
    pub async fn ws(&self, room: &str, token: Option<&str>) -> WsClient {
        let spectator = match token {
            Some(_) => None,
            None => Some(self.player("spectator").await.access_token),
        };
        match self.try_ws(room, token.or(spectator.as_deref())).await {
            Ok(client) => client,
            Err((status, body)) => panic!("WebSocket upgrade on room {room} refused: {status} {body}"),
        }
    }

    /// Like [`Server::ws`], but an HTTP refusal of the upgrade is returned.
    pub async fn try_ws(&self, room: &str, token: Option<&str>) -> Result<WsClient, (StatusCode, Value)> {
        let mut path = format!("/v1/rooms/{room}/ws");
        if let Some(token) = token {
            path = format!("{path}?token={token}");
        }
        WsClient::connect(&self.ws_url(&path)).await
    }

    pub async fn metrics(&self) -> String {
        let response = self.http.get(self.url("/metrics")).send().await.expect("GET /metrics");
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.expect("metrics text")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        // Reap it, so that it no longer writes into the dir about to go.
        for _ in 0..250 {
            if !matches!(self.child.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        save_compile_cache(&self.dir.join("data"));
        if std::thread::panicking() {
            eprintln!("---- arcade server log ({}) ----\n{}", self.base, read_log(&self.dir));
        }
        drop(self.owned_dir.take());
    }
}

/// One API request, as both harnesses send it ([`Api::call`]).
#[derive(Debug)]
pub struct Call {
    pub method: Method,
    /// Path and query, e.g. `/v1/rooms/{id}`.
    pub path: String,
    /// Sent as `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// The content type and the bytes of the body.
    pub body: Option<(String, Vec<u8>)>,
}

impl Call {
    pub fn new(method: Method, path: impl Into<String>) -> Call {
        Call { method, path: path.into(), token: None, body: None }
    }

    pub fn token(self, token: Option<&str>) -> Call {
        Call { token: token.map(str::to_string), ..self }
    }

    pub fn body(self, content_type: &str, body: impl Into<Vec<u8>>) -> Call {
        Call { body: Some((content_type.to_string(), body.into())), ..self }
    }
}

/// The API calls the tests make, the same over either harness: a [`Server`]
/// sends each [`Call`] over HTTP, an [`InProcess`] app through its router.
pub trait Api: Sync {
    /// Send `call`; the answer's body is parsed by [`json_body`].
    fn call(&self, call: Call) -> impl Future<Output = (StatusCode, Value)> + Send;

    /// The players signed in on this server so far.
    fn players(&self) -> &TestPlayers;

    /// The account named `name` here: the first time, a guest sign-in
    /// (device `arcade-test-device-<name>`) renamed to `name`, and a
    /// refresh for a token that carries the new name (rooms seat an account
    /// under its token's name).
    async fn player(&self, name: &str) -> TestPlayer {
        if let Some(known) = self.players().0.lock().unwrap().get(name) {
            return known.clone();
        }
        let device = json!({ "device_id": format!("arcade-test-device-{name}") });
        let (status, first) = self.post("/v1/auth/guest", &device).await;
        assert!(status.is_success(), "guest sign-in for {name}: {status} {first}");
        let rename = Call::new(Method::PATCH, "/v1/account")
            .token(Some(&str_at(&first, "access_token")))
            .body("application/json", json!({ "display_name": name }).to_string());
        let (status, renamed) = self.call(rename).await;
        assert_eq!(status, StatusCode::OK, "renaming {name}: {renamed}");
        let (status, signed) = self.post("/v1/auth/refresh", &json!({ "refresh_token": first["refresh_token"] })).await;
        assert_eq!(status, StatusCode::OK, "refreshing {name}: {signed}");
        assert_eq!(signed["account"]["display_name"], name, "{signed}");
        let player = TestPlayer { id: str_at(&signed["account"], "id"), access_token: str_at(&signed, "access_token") };
        self.players().0.lock().unwrap().insert(name.to_string(), player.clone());
        player
    }

    /// `POST path` with `body`, as the player named `name`.
    async fn post_as(&self, name: &str, path: &str, body: &Value) -> (StatusCode, Value) {
        let token = self.player(name).await.access_token;
        self.post_raw(path, Some(&token), "application/json", body.to_string()).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Call::new(Method::GET, path)).await
    }

    /// `GET path` with `Authorization: Bearer <token>` (an archived game's
    /// full record needs a player's seat token or the admin token).
    async fn get_as(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.call(Call::new(Method::GET, path).token(Some(token))).await
    }

    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.post_raw(path, None, "application/json", body.to_string()).await
    }

    /// `POST` raw bytes (with an optional bearer token and content type).
    async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: impl Into<Vec<u8>> + Send,
    ) -> (StatusCode, Value) {
        self.call(Call::new(Method::POST, path).token(token).body(content_type, body)).await
    }

    /// Publish component bytes with the admin token.
    async fn publish(&self, wasm: impl Into<Vec<u8>> + Send) -> (StatusCode, Value) {
        self.publish_as(Some(ADMIN_TOKEN), wasm).await
    }

    async fn publish_as(&self, token: Option<&str>, wasm: impl Into<Vec<u8>> + Send) -> (StatusCode, Value) {
        self.post_raw("/v1/plugins", token, "application/wasm", wasm).await
    }

    /// `request` with `"players": [names]`: the first player creates the
    /// room (seated; as many seats as players unless `seats` says), the
    /// others join it in order; the answer is the creation's, its `seats`
    /// holding every seat taken and its `room` as it is after the joins.
    /// Without players, a player named `host` creates the room with every
    /// seat open. A refused join is the answer.
    async fn try_create_room(&self, request: &Value) -> (StatusCode, Value) {
        let mut request = request.clone();
        let players: Vec<String> = match request.as_object_mut().and_then(|r| r.remove("players")) {
            Some(Value::Array(names)) => names.iter().map(|n| n.as_str().expect("player names").to_string()).collect(),
            _ => Vec::new(),
        };
        if players.is_empty() && request.get("join").is_none() {
            request["join"] = json!(false);
        }
        if !players.is_empty() && request.get("seats").is_none() {
            request["seats"] = json!(players.len());
        }
        let creator = players.first().map_or("host", String::as_str);
        let (status, mut body) = self.post_as(creator, "/v1/rooms", &request).await;
        if status != StatusCode::CREATED {
            return (status, body);
        }
        let room = str_at(&body["room"], "id");
        for name in players.iter().skip(1) {
            let (status, seat) = self.try_join(&room, name).await;
            if status != StatusCode::OK {
                return (status, seat);
            }
            body["seats"].as_array_mut().expect("seats").push(seat);
        }
        if players.len() > 1 {
            body["room"] = self.room_info(&room).await;
        }
        (status, body)
    }

    /// Create a room, which must succeed (201).
    async fn create_room(&self, request: &Value) -> Room {
        let (status, body) = self.try_create_room(request).await;
        assert_eq!(status, StatusCode::CREATED, "creating a room with {request}: {body}");
        let id = body["room"]["id"].as_str().unwrap_or_else(|| panic!("no room id in {body}")).to_string();
        let seats = body["seats"].as_array().unwrap_or_else(|| panic!("no seats in {body}"));
        Room {
            id,
            info: body["room"].clone(),
            seats: seats.iter().map(|s| (str_at(s, "name"), str_at(s, "token"))).collect(),
            ids: seats.iter().map(|s| (str_at(s, "name"), str_at(s, "player"))).collect(),
        }
    }

    /// `POST /v1/rooms/{room}/join` as the player named `name`.
    async fn try_join(&self, room: &str, name: &str) -> (StatusCode, Value) {
        self.post_as(name, &format!("/v1/rooms/{room}/join"), &json!({})).await
    }

    /// Join a room, which must succeed; returns the seat token.
    async fn join(&self, room: &str, name: &str) -> String {
        let (status, body) = self.try_join(room, name).await;
        assert_eq!(status, StatusCode::OK, "{name} joining {room}: {body}");
        assert_eq!(body["name"], name, "{body}");
        str_at(&body, "token")
    }

    /// `POST /v1/rooms/{room}/actions` with `action` serialized as the body.
    async fn act(&self, room: &str, token: &str, action: &Value) -> (StatusCode, Value) {
        self.act_raw(room, Some(token), action.to_string()).await
    }

    async fn act_raw(&self, room: &str, token: Option<&str>, body: impl Into<Vec<u8>> + Send) -> (StatusCode, Value) {
        self.post_raw(&format!("/v1/rooms/{room}/actions"), token, "application/json", body).await
    }

    /// `GET /v1/rooms/{room}`, which must succeed.
    async fn room_info(&self, room: &str) -> Value {
        let (status, body) = self.get(&format!("/v1/rooms/{room}")).await;
        assert_eq!(status, StatusCode::OK, "room {room}: {body}");
        body
    }

    /// Polls matchmaking ticket `id` with its `secret` until its match has
    /// a room: the ticket's view then. A ticket is `waiting`, then for a
    /// moment `matched` with no assignment while its room is being
    /// created, then `matched` with one; any other state fails, and so
    /// does no room within `within`.
    async fn ticket_with_room(&self, id: &str, secret: &str, within: Duration) -> Value {
        let deadline = std::time::Instant::now() + within;
        loop {
            let (status, view) = self.get_as(secret, &format!("/v1/matchmaking/tickets/{id}")).await;
            assert_eq!(status, StatusCode::OK, "ticket {id}: {view}");
            if !view["match"]["assignment"].is_null() {
                assert_eq!(view["status"], "matched", "ticket {id}: {view}");
                return view;
            }
            assert!(view["status"] == "waiting" || view["status"] == "matched", "ticket {id}: {view}");
            assert!(std::time::Instant::now() < deadline, "no room for ticket {id} within {within:?}: {view}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The server answers liveness and readiness.
    async fn assert_healthy(&self) {
        assert_eq!(self.get("/health/live").await, (StatusCode::OK, json!({ "status": "live" })));
        let (status, ready) = self.get("/health/ready").await;
        assert_eq!((status, &ready["status"]), (StatusCode::OK, &json!("ready")), "{ready}");
    }
}

impl Api for Server {
    fn players(&self) -> &TestPlayers {
        &self.players
    }

    async fn call(&self, call: Call) -> (StatusCode, Value) {
        let mut request = self.http.request(call.method, self.url(&call.path));
        if let Some(token) = &call.token {
            request = request.bearer_auth(token);
        }
        if let Some((content_type, body)) = call.body {
            request = request.header("content-type", content_type).body(body);
        }
        self.send(request).await
    }
}

/// A response body as JSON: `null` when empty, a string when not JSON.
pub fn json_body(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into()))
    }
}

/// `value[key]` as a string, or a panic naming the value.
/// The value of an unlabelled series in Prometheus text (`/metrics`).
pub fn metric_value(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
}

pub fn str_at(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_else(|| panic!("no string {key:?} in {value}")).to_string()
}

/// Assert an API error answer: the status and `error.code`, with a message.
#[track_caller]
pub fn assert_error(answer: &(StatusCode, Value), status: u16, code: &str) {
    let (got, body) = answer;
    assert_eq!(
        (got.as_u16(), body["error"]["code"].as_str()),
        (status, Some(code)),
        "expected {status} {code}, got {got} {body}"
    );
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "an error needs a message: {body}");
}

/// Every string (values and object keys) in a JSON document.
pub fn json_strings(value: &Value) -> Vec<&str> {
    fn walk<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::String(s) => out.push(s),
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            Value::Object(map) => map.iter().for_each(|(k, v)| {
                out.push(k);
                walk(v, out);
            }),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, &mut out);
    out
}

/// Tic-tac-toe actions for `cells`.
pub fn cells(cells: &[usize]) -> Vec<Value> {
    cells.iter().map(|c| json!({ "cell": c })).collect()
}

/// Play `actions` in turn over WebSocket: action `i` is sent by
/// `players[i % players.len()]` and must be acked.
pub async fn play_in_turn(players: &mut [&mut WsClient], actions: &[Value]) {
    let count = players.len();
    for (i, action) in actions.iter().enumerate() {
        players[i % count].ack(&format!("m{i}"), action).await;
    }
}

/// Play to a finish over WebSocket with the game's own hints: at each
/// step the first player (in `players` order) whose state at the current
/// `seq` lists legal actions sends its first one, which must be acked. Each
/// player's final state, in order.
pub async fn play_by_legal_actions(players: &mut [&mut WsClient]) -> Vec<Value> {
    let mut latest: Vec<Value> = vec![Value::Null; players.len()];
    let mut seq = 0;
    loop {
        let mut acted = false;
        for (i, player) in players.iter_mut().enumerate() {
            if latest[i]["seq"].as_u64().is_none_or(|s| s < seq) {
                latest[i] = player.state_where(|s| s["seq"].as_u64().is_some_and(|s| s >= seq)).await;
            }
            if latest[i]["status"]["state"] != "playing" {
                continue;
            }
            if let Some(action) = latest[i]["legal_actions"].as_array().and_then(|a| a.first()).cloned() {
                seq = player.ack(&format!("m{seq}"), &action).await;
                acted = true;
                break;
            }
        }
        if !acted {
            assert!(
                latest.iter().all(|s| s["status"]["state"] != "playing"),
                "nobody has a legal action at seq {seq} and the game is not over: {latest:#?}"
            );
            return latest;
        }
        assert!(seq < 10_000, "no finish after {seq} actions");
    }
}

fn read_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_else(|e| format!("(no log: {e})"))
}

fn shared_cache_dir() -> PathBuf {
    target_dir().join("arcade-e2e").join("cwasm-cache")
}

/// Copy the shared compiled-plugin artifacts into a new data dir.
fn seed_compile_cache(data: &Path) {
    let cache = data.join("cache");
    std::fs::create_dir_all(&cache).expect("creating the data dir");
    let Ok(entries) = std::fs::read_dir(shared_cache_dir()) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().ends_with(".cwasm") {
            let _ = std::fs::copy(entry.path(), cache.join(name));
        }
    }
}

/// Keep the artifacts a server compiled for the next servers (atomically:
/// tests run in parallel).
fn save_compile_cache(data: &Path) {
    let shared = shared_cache_dir();
    let Ok(entries) = std::fs::read_dir(data.join("cache")) else { return };
    if std::fs::create_dir_all(&shared).is_err() {
        return;
    }
    for entry in entries.flatten() {
        let name = entry.file_name();
        let target = shared.join(&name);
        if !name.to_string_lossy().ends_with(".cwasm") || target.exists() {
            continue;
        }
        let partial = shared.join(format!(".{}-{}.partial", name.to_string_lossy(), unique_suffix()));
        if std::fs::copy(entry.path(), &partial).is_ok() && std::fs::rename(&partial, &target).is_err() {
            let _ = std::fs::remove_file(&partial);
        }
    }
}
