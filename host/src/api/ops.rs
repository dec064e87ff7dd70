//! Operations endpoints: liveness, readiness, Prometheus metrics, OpenAPI.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use super::App;

/// The OpenAPI 3.1 description of the HTTP API.
pub const OPENAPI: &str = include_str!("openapi.json");

pub async fn live() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "live" }))
}

pub async fn ready(State(app): State<Arc<App>>) -> impl IntoResponse {
    Json(serde_json::json!({
        "status": "ready",
        "plugins": app.registry.list().len(),
        "rooms": app.rooms.len(),
        "max_rooms": app.config.limits.max_rooms,
    }))
}

pub async fn metrics(State(app): State<Arc<App>>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        app.metrics.render(),
    )
}

pub async fn openapi() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], OPENAPI)
}
