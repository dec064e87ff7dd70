//! The browser client at `/`: its files are served, and two players in
//! headless Chromium (tests/browser/two-players.mjs, playwright-core driving
//! Debian's /usr/bin/chromium) find a match and play tic-tac-toe to a win by
//! clicking, through a dropped WebSocket and a page reload; the `--rooms`
//! run also makes a cross-origin call with a seat token in an
//! `Authorization` header from a page on the server's other loopback name.
//!
//!
//! tests/browser/game-uis.mjs plays each example through its own UI module
//! in the sandboxed board frame: arena with the keyboard (a screenshot of
//! its canvas with both ships), high-card-duel by clicking cards and then
//! in the replay viewer to its final position, and a hostile UI module
//! whose every attempt to reach storage, cookies, the page, the network or
//! the top window fails while its board still plays.
//!
//! Needs `scripts/setup.sh --tests` (Chromium, and `npm ci` in tests/browser): the
//! browser tests fail, never skip, when either is missing.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::support::*;

const CHROMIUM: &str = "/usr/bin/chromium";
/// The script has its own 120 s watchdog; this is the backstop.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn browser_dir() -> PathBuf {
    workspace_root().join("tests").join("browser")
}

/// Chromium, node and playwright-core are all there, or the test fails saying how to get them.
fn require_browser_tools() {
    let mut missing = Vec::new();
    if !Path::new(CHROMIUM).is_file() {
        missing.push(format!("{CHROMIUM} (Debian's chromium package)"));
    }
    let playwright = browser_dir().join("node_modules").join("playwright-core");
    if !playwright.is_dir() {
        missing.push(format!("{} (npm ci in tests/browser)", playwright.display()));
    }
    if std::process::Command::new("node").arg("--version").output().is_err() {
        missing.push("node (Debian's nodejs package)".into());
    }
    assert!(missing.is_empty(), "the browser test needs {}: run scripts/setup.sh --tests", missing.join(", "));
}

/// Run `node <script> <server> <args>` in tests/browser; it must exit 0
/// printing `pass` (the server's log is in the failure message).
async fn run_script(server: &Server, script: &str, args: &[&std::ffi::OsStr], pass: &str) {
    require_browser_tools();
    let mut command = tokio::process::Command::new("node");
    command.arg(script).arg(&server.base).args(args).current_dir(browser_dir()).stdin(Stdio::null()).kill_on_drop(true);
    let output = tokio::time::timeout(SCRIPT_TIMEOUT, command.output())
        .await
        .unwrap_or_else(|_| panic!("{script} {args:?} ran over {SCRIPT_TIMEOUT:?}"))
        .unwrap_or_else(|e| panic!("running node {script}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains(pass),
        "{script} {args:?} failed ({}, {pass:?} expected):\n--- stdout\n{stdout}\n--- stderr\n{}\n--- server log\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        server.stderr_log()
    );
}

/// A real PNG screenshot of some size at `path`.
fn assert_png(path: &Path) {
    let png = std::fs::read(path).unwrap_or_else(|e| panic!("no screenshot at {} ({e})", path.display()));
    assert!(png.starts_with(PNG_SIGNATURE), "{} is not a PNG ({} bytes)", path.display(), png.len());
    assert!(png.len() > 1000, "{} is suspiciously small ({} bytes)", path.display(), png.len());
}

/// Run two-players.mjs against a fresh server, then check its screenshot.
async fn two_players(extra: &[&str]) {
    let server = Server::start().await;
    let scratch = fresh_dir("arcade-browser");
    let screenshot = scratch.join("winner.png");
    let mut args = vec![screenshot.as_os_str()];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    run_script(&server, "two-players.mjs", &args, "PASS").await;
    assert_png(&screenshot);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_files_are_served() {
    let server = Server::start().await;
    for (path, content_type, needle) in [
        ("/", "text/html", "<script type=\"module\" src=\"/app.js\">"),
        ("/app.js", "text/javascript", "window.arcade"),
        ("/style.css", "text/css", ".board-frame"),
        ("/modules/room.js", "text/javascript", "export function connect()"),
        ("/modules/board.js", "text/javascript", "export function mountBoard("),
        ("/ui/frame.html", "text/html", "src=\"/ui/frame.js\""),
        ("/ui/frame.js", "text/javascript", "ui.mount(root, api)"),
    ] {
        let response = server.http.get(server.url(path)).send().await.unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        let got = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        assert!(got.starts_with(content_type), "GET {path}: content-type {got:?}, expected {content_type}");
        let body = response.text().await.expect("a body");
        assert!(body.contains(needle), "GET {path} does not contain {needle:?}");
    }
    for path in ["/modules/nope.js", "/modules/games/", "/modules/state.js.map"] {
        let (status, body) = server.send(server.http.get(server.url(path))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "GET {path}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_browsers_find_a_match_and_play_to_a_win() {
    two_players(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_browsers_create_and_join_a_room_and_play_to_a_win() {
    two_players(&["--rooms"]).await;
}

/// Run game-uis.mjs `case` against `server`; returns its output directory.
async fn game_uis(server: &Server, case: &str) -> ScratchDir {
    let out = fresh_dir("arcade-game-uis");
    let args = [out.as_os_str(), std::ffi::OsStr::new(case)];
    run_script(server, "game-uis.mjs", &args, &format!("PASS {case}")).await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arena_is_played_on_its_canvas_with_the_keyboard_to_an_outcome() {
    let server = Server::start().await;
    let out = game_uis(&server, "arena").await;
    assert_png(&out.join("arena.png"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn high_card_duel_is_played_by_clicking_cards_and_replayed_to_its_end() {
    let server = Server::start().await;
    let out = game_uis(&server, "high-card-duel").await;
    assert_png(&out.join("replay.png"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_ui_module_reaches_nothing_outside_its_frame() {
    let server = Server::start().await;
    // Tic-tac-toe 2.0.0 (the latest, so new rooms get it) with the hostile board.
    let (status, published) = server.publish(plugin_bytes("tic-tac-toe-v2")).await;
    assert_eq!(status, StatusCode::CREATED, "{published}");
    let hostile = std::fs::read(browser_dir().join("fixtures/hostile-ui.js")).unwrap();
    let attach = Call::new(reqwest::Method::PUT, "/v1/plugins/tic-tac-toe/versions/2.0.0/ui/index.js")
        .token(Some(ADMIN_TOKEN))
        .body("text/javascript", hostile);
    let (status, attached) = server.call(attach).await;
    assert_eq!(status, StatusCode::CREATED, "{attached}");
    game_uis(&server, "hostile").await;
}
