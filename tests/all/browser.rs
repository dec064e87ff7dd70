//! The browser client at `/`: its files are served, and two players in
//! headless Chromium (tests/browser/two-players.mjs, playwright-core driving
//! Debian's /usr/bin/chromium) find a match and play tic-tac-toe to a win by
//! clicking, through a dropped WebSocket and a page reload; the `--rooms`
//! run also makes a cross-origin call with a seat token in an
//! `Authorization` header from a page on the server's other loopback name.
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

/// Run two-players.mjs against a fresh server; returns the screenshot's bytes.
async fn two_players(extra: &[&str]) -> Vec<u8> {
    require_browser_tools();
    let server = Server::start().await;
    let scratch = fresh_dir("arcade-browser");
    let screenshot = scratch.join("winner.png");
    let mut command = tokio::process::Command::new("node");
    command
        .arg("two-players.mjs")
        .arg(&server.base)
        .arg(&screenshot)
        .args(extra)
        .current_dir(browser_dir())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(SCRIPT_TIMEOUT, command.output())
        .await
        .unwrap_or_else(|_| panic!("two-players.mjs {extra:?} ran over {SCRIPT_TIMEOUT:?}"))
        .expect("running node two-players.mjs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "two-players.mjs {extra:?} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    assert!(stdout.contains("PASS"), "two-players.mjs exited 0 without PASS:\n{stdout}\n{stderr}");
    let png = std::fs::read(&screenshot)
        .unwrap_or_else(|e| panic!("no screenshot at {} ({e}); output:\n{stdout}", screenshot.display()));
    assert!(png.starts_with(PNG_SIGNATURE), "the screenshot is not a PNG ({} bytes)", png.len());
    assert!(png.len() > 1000, "the screenshot is suspiciously small ({} bytes)", png.len());
    png
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_files_are_served() {
    let server = Server::start().await;
    for (path, content_type, needle) in [
        ("/", "text/html", "<script type=\"module\" src=\"/app.js\">"),
        ("/app.js", "text/javascript", "window.arcade"),
        ("/style.css", "text/css", "#board"),
        ("/modules/room.js", "text/javascript", "export function connect()"),
        ("/modules/games/tic-tac-toe.js", "text/javascript", "export function draw("),
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
