//! The HTTP and WebSocket API (axum on hyper).
//!
//! - `auth`: sign-in, sessions, the caller's account, and the admin routes
//!   for roles, bans and the audit trail;
//! - `plugins`: list, inspect, publish and yank plugin versions;
//! - `rooms`: create, inspect, join, leave, act;
//! - `ws`: the per-room WebSocket (players and spectators);
//! - `matchmaking`: tickets (create, poll, cancel, WebSocket notification);
//! - `parties`: players who queue together;
//! - `games`: archived games and replay files;
//! - `ladder`: leaderboards, ratings and rated-game history;
//! - `ops`: health, metrics and the OpenAPI document;
//! - `red_metrics`: requests counted and timed by route template and status class;
//! - `client`: the browser client at `/`.
//!
//! Every error is a JSON body with a machine-readable code ([`ApiError`]).
//!
//! The admin routes (`POST /v1/plugins`, `/v1/plugins/{name}/versions/{version}/yank`,
//! `/admin/*`) are served by
//! [`router`] unless `admin_listen` is set; then only by [`admin_router`] on
//! that listener, and the public one answers them 404. Logs name requests
//! with their secrets redacted (`redact`). Cross-origin calls may send
//! `Authorization` (listed explicitly: a `*` does not cover it in browsers).

mod auth;
mod client;
mod client_ip;
mod error;
mod games;
mod internal;
pub(crate) mod ladder;
mod lobby;
mod matchmaking;
mod ops;
mod parties;
mod plugin_ui;
mod plugins;
mod red_metrics;
mod redact;
mod rooms;
mod uploads;
mod ws;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderName, Method, Request, StatusCode};
use axum::routing::{any, get, post, put};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use error::ApiError;

use crate::config::Config;
use crate::node_agent::{LocalNode, NodeAgent};
use crate::registry::Registry;
use crate::room::{Player, RoomServices};
use crate::room_directory::{NewRoom, RoomDirectory, RoomLifetimes};
use arcade_archive::ArchiveSink;
use arcade_cluster::matchmaking::SeatAssignment;
use arcade_cluster::ratelimit::{Policy, RateLimitError};
use arcade_telemetry::metrics::Metrics;

/// Shared state of all handlers.
pub struct App {
    pub config: Config,
    pub registry: Arc<Registry>,
    pub rooms: RoomDirectory,
    pub metrics: Arc<Metrics>,
    pub services: Arc<RoomServices>,
    /// Where finished games are read from.
    pub archive: Arc<dyn ArchiveSink>,
    /// Matchmaking, the cluster and rate limits.
    pub node_agent: Arc<NodeAgent>,
    /// Plugin uploads being received or compiled (`limits.max_concurrent_publishes`).
    pub publishes: Arc<tokio::sync::Semaphore>,
    /// Uploads compiling in the background, and the latest finished.
    pub uploads: uploads::Uploads,
    /// Accounts and sessions.
    pub identity: Arc<arcade_identity::Identity>,
    /// Ratings and leaderboards: the archive's rated games, counted as the
    /// archiver stores them (`arcade_ladder::feed`).
    pub ladder: Arc<std::sync::RwLock<arcade_ladder::Ladder>>,
}

impl App {
    pub fn new(
        config: Config,
        registry: Arc<Registry>,
        services: Arc<RoomServices>,
        archive: Arc<dyn ArchiveSink>,
        node_agent: NodeAgent,
        identity: Arc<arcade_identity::Identity>,
        ladder: Arc<std::sync::RwLock<arcade_ladder::Ladder>>,
    ) -> Arc<Self> {
        let lifetimes = RoomLifetimes {
            waiting_ttl: Duration::from_secs(config.limits.waiting_room_ttl_secs),
            finished_grace: Duration::from_secs(config.limits.finished_room_grace_secs),
            max_finished: config.limits.max_finished_rooms,
        };
        let rooms = RoomDirectory::new(
            services.clone(),
            config.limits.max_rooms,
            lifetimes,
            node_agent.room_id_prefix().map(str::to_string),
        );
        node_agent.open_queues(&registry);
        let node_agent = Arc::new(node_agent);
        let publishes = Arc::new(tokio::sync::Semaphore::new(config.limits.max_concurrent_publishes.max(1)));
        let uploads = uploads::Uploads::default();
        let metrics = services.metrics.clone();
        Arc::new(App {
            config,
            registry,
            rooms,
            metrics,
            services,
            archive,
            node_agent,
            publishes,
            uploads,
            identity,
            ladder,
        })
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The admin routes (admin token required).
fn admin_routes(app: &App) -> Router<Arc<App>> {
    Router::new()
        .route("/v1/plugins", post(plugins::publish).layer(DefaultBodyLimit::max(app.config.limits.max_upload_bytes)))
        .route(UPLOAD_PATH, get(uploads::status))
        .route("/admin/archive/flush", post(games::flush))
        .route(YANK_PATH, post(plugins::yank).delete(plugins::unyank))
        .route("/admin/accounts/{id}/roles/{role}", put(auth::grant_role).delete(auth::revoke_role))
        .route("/admin/accounts/{id}/ban", put(auth::ban).delete(auth::unban))
        .route("/admin/bans", get(auth::bans))
        .route("/admin/audit", get(auth::audit))
        .route("/admin/leaderboards/{game}/{mode}/{board}/reset", post(ladder::reset))
}

/// Another node's lobby asks for this node's listed rooms (a nonce, so no
/// two such calls sign alike).
const INTERNAL_LISTED_PATH: &str = "/internal/v1/rooms/listed/{nonce}";

/// Where a background publish stands.
const UPLOAD_PATH: &str = "/v1/plugins/uploads/{hash}";

/// A file of a plugin version's UI (`index.js`, the module, or an asset):
/// attach (`PUT`, publishers) and fetch (`GET`, anyone).
const UI_PATH: &str = "/v1/plugins/{name}/versions/{version}/ui/{file}";

/// `PUT` on [`UI_PATH`]: attaching a UI file is publishing.
fn attach_ui(app: &App) -> axum::routing::MethodRouter<Arc<App>> {
    let limits = &app.config.limits;
    put(plugin_ui::attach).layer(DefaultBodyLimit::max(limits.max_ui_bytes.max(limits.max_ui_assets_bytes)))
}

/// Yank (`POST`) or un-yank (`DELETE`) a plugin version.
const YANK_PATH: &str = "/v1/plugins/{name}/versions/{version}/yank";

/// What the public listener answers on the admin routes: them, or 404 when
/// they have a listener of their own.
fn public_admin_routes(app: &App) -> Router<Arc<App>> {
    if app.config.admin_listen.is_none() {
        return admin_routes(app);
    }
    Router::new()
        .route("/v1/plugins", post(admin_elsewhere))
        .route("/admin/{*rest}", any(admin_elsewhere))
        .route(YANK_PATH, any(admin_elsewhere))
        .route(UPLOAD_PATH, any(admin_elsewhere))
}

/// 404 for an admin route on the public listener, its body unread.
async fn admin_elsewhere() -> axum::response::Response {
    plugins::refused_unread(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint"))
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

/// The admin listener (`admin_listen`): the admin routes only.
pub fn admin_router(app: Arc<App>) -> Router {
    let red = red_metrics::RedLayer::new(app.metrics.clone());
    let admin = admin_routes(&app).route(UI_PATH, attach_ui(&app)).fallback(not_found).with_state(app);
    with_request_logs(admin.layer(red))
}

/// The public listener.
pub fn router(app: Arc<App>) -> Router {
    let limits = &app.config.limits;
    let red = red_metrics::RedLayer::new(app.metrics.clone());
    let api = Router::new()
        .route("/v1/plugins", get(plugins::list))
        .merge(public_admin_routes(&app))
        .route("/v1/plugins/{name}", get(plugins::versions))
        .route(UI_PATH, {
            let attach = if app.config.admin_listen.is_none() { attach_ui(&app) } else { put(admin_elsewhere) };
            get(plugin_ui::serve).merge(attach)
        })
        .route("/v1/auth/guest", post(auth::guest))
        .route("/v1/auth/register", post(auth::register))
        .route("/v1/auth/login", post(auth::login))
        .route("/v1/auth/external", post(auth::external))
        .route("/v1/auth/refresh", post(auth::refresh))
        .route("/v1/auth/logout", post(auth::logout))
        .route("/v1/account", get(auth::me).patch(auth::update).delete(auth::delete))
        .route("/v1/account/links", post(auth::link))
        .route("/v1/rooms", get(lobby::list).post(rooms::create))
        .route("/v1/rooms/{id}", get(rooms::describe))
        .route("/v1/rooms/{id}/join", post(rooms::join))
        .route("/v1/rooms/{id}/leave", post(rooms::leave))
        .route("/v1/rooms/{id}/actions", post(rooms::act).layer(DefaultBodyLimit::max(limits.max_action_bytes)))
        .route("/v1/rooms/{id}/ws", get(ws::upgrade))
        .route("/v1/parties", post(parties::create))
        .route("/v1/parties/{id}", get(parties::get))
        .route("/v1/parties/{id}/join", post(parties::join))
        .route("/v1/parties/{id}/leave", post(parties::leave))
        .route("/v1/matchmaking/queues", get(matchmaking::queues))
        .route("/v1/matchmaking/tickets", post(matchmaking::create))
        .route("/v1/matchmaking/tickets/{id}", get(matchmaking::get).delete(matchmaking::cancel))
        .route("/v1/matchmaking/tickets/{id}/ws", get(matchmaking::watch))
        .route("/v1/cluster/nodes", get(ops::nodes))
        .route(arcade_cluster::provision::INTERNAL_ROOMS_PATH, post(internal::create_room))
        .route(INTERNAL_LISTED_PATH, get(lobby::list_here))
        .route("/v1/games", get(games::list))
        .route("/v1/games/{id}", get(games::get))
        .route("/v1/games/{id}/replay", get(games::replay_file))
        .route("/v1/games/{id}/frames", get(games::frames))
        .route("/v1/leaderboards/{game}/{mode}", get(ladder::board))
        .route("/v1/leaderboards/{game}/{mode}/{board}", get(ladder::score_board))
        .route("/v1/players/{id}/ratings", get(ladder::ratings))
        .route("/v1/players/{id}/games", get(ladder::history))
        .route("/health/live", get(ops::live))
        .route("/health/ready", get(ops::ready))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .merge(client::routes())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(app.clone(), rooms::route_to_owner))
        .with_state(app);

    // Outermost of the per-route layers: CORS preflights are counted too.
    with_request_logs(api.layer(cors()).layer(red))
}

/// Tokens travel as bearer headers (or a WebSocket's query), never cookies:
/// any origin may call (a page served by one node talks to the node that
/// runs its room). Headers and methods are listed: browsers do not apply a
/// wildcard `Access-Control-Allow-Headers` to `Authorization`.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::OPTIONS])
        .allow_headers([AUTHORIZATION, CONTENT_TYPE, REQUEST_ID])
        .expose_headers([REQUEST_ID, RETRY_AFTER, LOCATION])
        .max_age(Duration::from_secs(600))
}

/// Request ids and one span per request, named with its secrets redacted
/// (no headers). The span is at debug level: at the default `info`, a
/// request costs no span and no formatting (`RUST_LOG=tower_http=debug,arcade_host=debug`
/// shows every request with its id).
fn with_request_logs(router: Router) -> Router {
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            // Fields are evaluated only when the span is enabled.
            tracing::debug_span!(
                "request",
                request_id = %request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-"),
                method = %request.method(),
                uri = %redact::loggable_uri(request.uri())
            )
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// The node agent's view of this node: its rooms, and a match's room made here
/// (for this node's matching rounds and for the signed internal route).
#[async_trait::async_trait]
impl LocalNode for App {
    fn rooms_open(&self) -> u32 {
        self.rooms.live() as u32
    }

    fn is_draining(&self) -> bool {
        self.rooms.is_draining()
    }

    async fn create_match_room(
        &self,
        game: &str,
        mode: Option<String>,
        players: Vec<String>,
    ) -> Result<(String, Vec<SeatAssignment>), (u16, String)> {
        let plugin = self.registry.resolve(game, None).map_err(|e| {
            let refused = ApiError::from(e);
            (refused.status.as_u16(), refused.message)
        })?;
        let players = self.match_players(players).await;
        let new = NewRoom { plugin, config: "{}".into(), seats: None, players, seed: None, mode, listed: false };
        let (handle, seats) = self.rooms.create(new).await.map_err(|e| (503, e.to_string()))?;
        Ok((
            handle.id.to_string(),
            seats.into_iter().map(|s| SeatAssignment { player: s.player, token: s.token }).collect(),
        ))
    }
}
impl App {
    /// A match's players by account id, with their display names (the id
    /// itself for an id no account has).
    async fn match_players(&self, ids: Vec<String>) -> Vec<Player> {
        let accounts: Vec<arcade_identity::AccountId> =
            ids.iter().filter_map(|id| arcade_identity::AccountId::parse(id)).collect();
        let names: std::collections::HashMap<String, String> = match self.identity.display_names(&accounts).await {
            Ok(names) => names.into_iter().map(|(id, name)| (id.as_str().to_string(), name)).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "reading display names failed; showing account ids");
                Default::default()
            }
        };
        ids.into_iter().map(|id| Player { name: names.get(&id).cloned().unwrap_or_else(|| id.clone()), id }).collect()
    }

    /// Counts one request of `key` under `policy`; 429 when over the limit.
    /// When the shared limiter is unreachable the request goes through.
    pub async fn limit(&self, policy: Policy, key: &str) -> Result<(), ApiError> {
        match self.node_agent.limiter.check(policy, key).await {
            Ok(()) => Ok(()),
            Err(RateLimitError::Limited(retry_after)) => {
                self.metrics.count_rate_limited(policy.name());
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
    if !same_secret(token, &app.config.admin_token) {
        return Err(ApiError::invalid_token("admin"));
    }
    Ok(())
}

/// Compares the SHA-256 digests of two secrets with no early exit: how long
/// it takes says nothing about how much of a guess was right.
fn same_secret(given: &str, expected: &str) -> bool {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    let (given, expected) = (Sha256::digest(given.as_bytes()), Sha256::digest(expected.as_bytes()));
    given.as_slice().ct_eq(expected.as_slice()).into()
}

/// The bearer token of a request, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}
