//! The HTTP and WebSocket API (axum on hyper).
//!
//! - `plugins`: list, inspect and publish plugin versions;
//! - `rooms`: create, inspect, join, leave, act;
//! - `ws`: the per-room WebSocket (players and spectators);
//! - `matchmaking`: tickets (create, poll, cancel, WebSocket notification);
//! - `games`: archived games and replay files;
//! - `ops`: health, metrics and the OpenAPI document;
//! - `client`: the browser client at `/`.
//!
//! Every error is a JSON body with a machine-readable code ([`ApiError`]).

mod client;
mod error;
mod games;
mod matchmaking;
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
use crate::lobby::Lobby;
use crate::metrics::Metrics;
use crate::ratelimit::{Policy, RateLimitError};
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
    /// Matchmaking, the cluster and rate limits.
    pub lobby: Arc<Lobby>,
}

impl App {
    pub fn new(
        config: Config,
        registry: Arc<Registry>,
        services: Arc<RoomServices>,
        archive: Arc<dyn ArchiveSink>,
        lobby: Lobby,
    ) -> Arc<Self> {
        let rooms = Rooms::new(
            services.clone(),
            config.limits.max_rooms,
            Duration::from_secs(config.limits.finished_room_grace_secs),
            lobby.room_id_prefix().map(str::to_string),
        );
        lobby.open_queues(&registry);
        let lobby = Arc::new(lobby);
        Arc::new(App { config, registry, rooms, metrics: services.metrics.clone(), services, archive, lobby })
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(app: Arc<App>) -> Router {
    let limits = &app.config.limits;
    let api = Router::new()
        .route("/v1/plugins", get(plugins::list))
        .route("/v1/plugins", post(plugins::publish).layer(DefaultBodyLimit::max(limits.max_upload_bytes)))
        .route("/v1/plugins/{name}", get(plugins::versions))
        .route("/v1/rooms", post(rooms::create))
        .route("/v1/rooms/{id}", get(rooms::describe))
        .route("/v1/rooms/{id}/join", post(rooms::join))
        .route("/v1/rooms/{id}/leave", post(rooms::leave))
        .route("/v1/rooms/{id}/actions", post(rooms::act).layer(DefaultBodyLimit::max(limits.max_action_bytes)))
        .route("/v1/rooms/{id}/ws", get(ws::upgrade))
        .route("/v1/matchmaking/queues", get(matchmaking::queues))
        .route("/v1/matchmaking/tickets", post(matchmaking::create))
        .route("/v1/matchmaking/tickets/{id}", get(matchmaking::get).delete(matchmaking::cancel))
        .route("/v1/matchmaking/tickets/{id}/ws", get(matchmaking::watch))
        .route("/v1/cluster/nodes", get(ops::nodes))
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
        .layer(axum::middleware::from_fn_with_state(app.clone(), rooms::route_to_owner))
        .with_state(app);

    // Tokens travel as bearer headers, never cookies: any origin may call
    // (a page served by one node talks to the node that runs its room).
    api.layer(tower_http::cors::CorsLayer::permissive())
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let id = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", request_id = %id, method = %request.method(), uri = %request.uri())
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

impl App {
    /// Counts one request of `key` under `policy`; 429 when over the limit.
    /// When the shared limiter is unreachable the request goes through.
    pub async fn limit(&self, policy: Policy, key: &str) -> Result<(), ApiError> {
        match self.lobby.limiter.check(policy, key).await {
            Ok(()) => Ok(()),
            Err(RateLimitError::Limited(retry_after)) => {
                self.metrics.count_rate_limited(policy);
                Err(ApiError::rate_limited(policy, retry_after))
            }
            Err(e) => {
                tracing::warn!(error = %e, %policy, "rate limiter unavailable; letting the request through");
                Ok(())
            }
        }
    }
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
    headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}
