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

/// 503 while draining, so load balancers stop sending new players.
pub async fn ready(State(app): State<Arc<App>>) -> impl IntoResponse {
    let (code, status) = if app.rooms.is_draining() {
        (axum::http::StatusCode::SERVICE_UNAVAILABLE, "draining")
    } else {
        (axum::http::StatusCode::OK, "ready")
    };
    let body = Json(serde_json::json!({
        "status": status,
        "plugins": app.registry.list().len(),
        "rooms": app.rooms.live(),
        "max_rooms": app.config.limits.max_rooms,
        "finished_rooms": app.rooms.finished(),
        "sim": { "backend": app.services.ticker.backend_name(), "device": app.services.ticker.device() },
        "ladder": if app.ladder.read().unwrap_or_else(|poisoned| poisoned.into_inner()).is_rebuilt() { "ready" } else { "rebuilding" },
    }));
    (code, body)
}

pub async fn metrics(State(app): State<Arc<App>>) -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], app.metrics.render())
}

pub async fn openapi() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], OPENAPI)
}

/// `GET /v1/cluster/nodes`: this node's id and the live nodes as of its
/// last heartbeat.
pub async fn nodes(State(app): State<Arc<App>>) -> impl IntoResponse {
    Json(serde_json::json!({ "node": app.node_agent.node_id(), "nodes": app.node_agent.live_nodes() }))
}
