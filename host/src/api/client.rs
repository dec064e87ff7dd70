//! The browser client served at `/`: static HTML, JS and CSS compiled into
//! the binary (no CDN, no build step at run time).

use std::sync::Arc;

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;

use super::App;

const INDEX_HTML: &str = include_str!("client/index.html");

pub fn routes() -> Router<Arc<App>> {
    Router::new().route("/", get(|| async { ([(CONTENT_TYPE, "text/html; charset=utf-8")], INDEX_HTML) }))
}
