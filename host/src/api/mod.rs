//! The HTTP and WebSocket API (axum on hyper).
//!
//! - `plugins`: list, inspect and publish plugin versions;
//! - `rooms`: create, inspect, join, leave, act;
//! - `ws`: the per-room WebSocket (players and spectators);
//! - `games`: archived games and replay files;
//! - `ops`: health, metrics and the OpenAPI document;
//! - `client`: the browser client at `/`.
//!
//! Every error is a JSON body with a machine-readable code ([`ApiError`]).

mod client;
mod error;
mod games;
mod ops;
mod plugins;
mod rooms;
mod ws;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderName, Request, StatusCode};
use axum::routing::{get, post};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use error::ApiError;

use crate::archive::ArchiveSink;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::room::RoomServices;
use crate::rooms::Rooms;

/// Shared state of all handlers.
pub struct App {
    pub config: Config,
    pub registry: Arc<Registry>,
    pub rooms: Rooms,
    pub metrics: Arc<Metrics>,
    pub services: Arc<RoomServices>,
    /// Where finished games are read from.
    pub archive: Arc<dyn ArchiveSink>,
}

impl App {
    pub fn new(
        config: Config,
        registry: Arc<Registry>,
        services: Arc<RoomServices>,
        archive: Arc<dyn ArchiveSink>,
    ) -> Arc<Self> {
        let rooms = Rooms::new(
            services.clone(),
            config.limits.max_rooms,
            Duration::from_secs(config.limits.finished_room_grace_secs),
        );
        Arc::new(App { config, registry, rooms, metrics: services.metrics.clone(), services, archive })
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(app: Arc<App>) -> Router {
    let limits = &app.config.limits;
    let api = Router::new()
        .route("/v1/plugins", get(plugins::list))
        .route(
            "/v1/plugins",
            post(plugins::publish).layer(DefaultBodyLimit::max(limits.max_upload_bytes)),
        )
        .route("/v1/plugins/{name}", get(plugins::versions))
        .route("/v1/rooms", post(rooms::create))
        .route("/v1/rooms/{id}", get(rooms::describe))
        .route("/v1/rooms/{id}/join", post(rooms::join))
        .route("/v1/rooms/{id}/leave", post(rooms::leave))
        .route(
            "/v1/rooms/{id}/actions",
            post(rooms::act).layer(DefaultBodyLimit::max(limits.max_action_bytes)),
        )
        .route("/v1/rooms/{id}/ws", get(ws::upgrade))
        .route("/v1/games", get(games::list))
        .route("/v1/games/{id}", get(games::get))
        .route("/v1/games/{id}/replay", get(games::replay_file))
        .route("/admin/archive/flush", post(games::flush))
        .route("/health/live", get(ops::live))
        .route("/health/ready", get(ops::ready))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .merge(client::routes())
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint") })
        .with_state(app);

    api.layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let id = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", request_id = %id, method = %request.method(), uri = %request.uri())
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// Admin calls carry `Authorization: Bearer <admin token>`.
fn require_admin(app: &App, headers: &HeaderMap) -> Result<(), ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::missing_token)?;
    if token != app.config.admin_token {
        return Err(ApiError::invalid_token("admin"));
    }
    Ok(())
}

/// The bearer token of a request, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}
