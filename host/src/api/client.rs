//! The browser client served at `/`: static HTML, JS and CSS compiled into
//! the binary (no CDN, no build step at run time). The files are in
//! `client/`: `index.html`, `app.js` (lobby, matchmaking, boards, the room
//! WebSocket with reconnects) and `style.css`.

use std::sync::Arc;

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::routing::get;

use super::App;

const INDEX_HTML: &str = include_str!("client/index.html");
const APP_JS: &str = include_str!("client/app.js");
const STYLE_CSS: &str = include_str!("client/style.css");

/// A static file: its content type, and `no-cache` so that a browser
/// revalidates after the server is upgraded.
fn file(content_type: &'static str, body: &'static str) -> ([(axum::http::HeaderName, &'static str); 2], &'static str) {
    ([(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")], body)
}

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(|| async { file("text/html; charset=utf-8", INDEX_HTML) }))
        .route("/app.js", get(|| async { file("text/javascript; charset=utf-8", APP_JS) }))
        .route("/style.css", get(|| async { file("text/css; charset=utf-8", STYLE_CSS) }))
}
