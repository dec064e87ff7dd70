//! Room endpoints: create, describe, join, leave and act over HTTP.
//!
//! Creating and joining need a session and seat its account only (the
//! account id is the plugin's player id, its display name what others
//! see). Leaving and acting take the seat token the join answered, or the
//! session alone (a new device needs nothing else); either stops working
//! when the account is banned. Every handler authenticates first (checked
//! in memory, without a trip to the room), validates next, and counts rate
//! limits last: a bad token or a bad body spends only the sender's IP
//! budget, never a player's or a seat's.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::Request;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{Path, State};
use axum::http::header::UPGRADE;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::auth::Caller;
use super::client_ip::ClientIp;
use super::{ApiError, App, bearer};
use crate::node_agent::RoomLocation;
use crate::room::{Player, RoomHandle, RoomInfo, Seat};
use crate::room_directory::NewRoom;
use arcade_cluster::ratelimit::Policy;
use arcade_protocol::seed::Seed;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRoom {
    /// Plugin name.
    game: String,
    /// Exact version; the latest when absent.
    #[serde(default)]
    version: Option<String>,
    /// Game config, passed to the plugin as JSON.
    #[serde(default)]
    config: Option<Box<RawValue>>,
    /// Seat count (default: the game's minimum).
    #[serde(default, deserialize_with = "arcade_protocol::whole_number::option")]
    seats: Option<u32>,
    /// Seat the caller at once (default); `false` opens every seat.
    #[serde(default = "seat_the_caller")]
    join: bool,
    /// Fixed seed: only where the server runs with `testing.client_seeds`.
    #[serde(default)]
    seed: Option<ClientSeed>,
    /// Show the room in the open-rooms listing (`GET /v1/rooms`) while it
    /// waits for players and while it is played (default: not listed).
    #[serde(default)]
    listed: bool,
}

/// A seed a test chose: a number, or a recorded seed's text form.
#[derive(Deserialize)]
#[serde(untagged)]
enum ClientSeed {
    Number(#[serde(deserialize_with = "arcade_protocol::whole_number::of")] u64),
    Text(String),
}

impl ClientSeed {
    fn into_seed(self) -> Result<Seed, ApiError> {
        match self {
            ClientSeed::Number(n) => Ok(Seed::from_test_number(n)),
            ClientSeed::Text(text) => {
                Seed::parse(&text).map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_seed", e))
            }
        }
    }
}

fn seat_the_caller() -> bool {
    true
}

fn room(app: &App, id: &str) -> Result<RoomHandle, ApiError> {
    app.rooms.get(id).ok_or_else(|| ApiError::room_not_found(id))
}

/// Middleware: a request for a room another node runs is redirected there
/// (307, same path and query), one for a room of a lost node gets 410.
/// WebSocket upgrades pass through: `ws::upgrade` answers them.
pub async fn route_to_owner(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let Some(id) = path.strip_prefix("/v1/rooms/").and_then(|rest| rest.split('/').next()).filter(|id| !id.is_empty())
    else {
        return next.run(request).await;
    };
    if app.rooms.get(id).is_some() || request.headers().contains_key(UPGRADE) {
        return next.run(request).await;
    }
    match app.node_agent.locate(id) {
        RoomLocation::Elsewhere(node_url) => {
            let target = request.uri().path_and_query().map_or(path, |pq| pq.as_str());
            ApiError::moved(&format!("{node_url}{target}")).into_response()
        }
        RoomLocation::Lost { node } => ApiError::room_lost(id, &node).into_response(),
        RoomLocation::Unknown => next.run(request).await,
    }
}

/// The player a session seats: its account id and the display name its
/// token carries (a rename reaches tokens at the next refresh): no store
/// round trip on a player's request.
fn player_of(caller: &Caller) -> Player {
    Player { id: caller.0.account.to_string(), name: caller.0.name.clone() }
}

/// `POST /v1/rooms`: checked (config size, seed, plugin), then counted
/// against the caller's IP and account; the creation itself checks the
/// config with the game before anything is kept.
pub async fn create(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    caller: Caller,
    body: Result<Json<CreateRoom>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(req) = body?;
    let config = req.config.map_or_else(|| "{}".to_string(), |c| c.get().to_string());
    let max_config = app.config.limits.max_config_bytes;
    if config.len() > max_config {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "config_too_large",
            format!("room configs are limited to {max_config} bytes, got {}", config.len()),
        ));
    }
    let seed = match req.seed {
        Some(_) if !app.config.testing.client_seeds => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "client_seed_not_allowed",
                "this server draws every room's seed itself (clients may choose one only in test mode)",
            ));
        }
        Some(seed) => Some(seed.into_seed()?),
        None => None,
    };
    let plugin = app.registry.resolve(&req.game, req.version.as_deref())?;
    app.limit(Policy::Ip, &ip.0).await?;
    app.limit(Policy::Player, caller.0.account.as_str()).await?;
    let players = if req.join { vec![player_of(&caller)] } else { Vec::new() };
    let (handle, seats) = app
        .rooms
        .create(NewRoom { plugin, config, seats: req.seats, players, seed, mode: None, listed: req.listed })
        .await?;
    let info = handle.describe().await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "room": info, "seats": seats }))))
}

pub async fn describe(State(app): State<Arc<App>>, Path(id): Path<String>) -> Result<Json<RoomInfo>, ApiError> {
    Ok(Json(room(&app, &id)?.describe().await?))
}

/// `POST /v1/rooms/{id}/join`: seats the caller's account (no body); an
/// account already seated gets its seat and token back.
pub async fn join(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Seat>, ApiError> {
    let room = room(&app, &id)?;
    app.limit(Policy::Ip, &ip.0).await?;
    app.limit(Policy::Player, caller.0.account.as_str()).await?;
    Ok(Json(room.join(player_of(&caller)).await?))
}

/// Who a room request's bearer token speaks for.
pub enum RoomCredential {
    /// A seat of the room: its player and seat token.
    Seat { player: String, token: String },
    /// A valid session whose account holds no seat here (a spectator).
    Unseated,
}

/// What a request's token is worth in `room`: a seat token, or an access
/// token (its account's seat, if any). Banned accounts are refused either
/// way. A missing or wrong token counts against the sender's IP (guessing
/// tokens costs the guesser).
pub async fn credential(
    app: &App,
    room: &RoomHandle,
    token: Option<&str>,
    ip: &ClientIp,
) -> Result<RoomCredential, ApiError> {
    let checked = check_credential(app, room, token);
    if checked.is_err() {
        app.limit(Policy::Ip, &ip.0).await?;
    }
    checked
}

/// [`credential`] without counting a refusal against the IP: a socket
/// checks each action's seat with it (its flood guard limits the socket).
pub(super) fn check_credential(app: &App, room: &RoomHandle, token: Option<&str>) -> Result<RoomCredential, ApiError> {
    let token = token.filter(|t| !t.is_empty()).ok_or_else(ApiError::missing_token)?;
    if let Ok(player) = room.authenticate(token) {
        app.identity.check_player(&player)?;
        return Ok(RoomCredential::Seat { player, token: token.to_string() });
    }
    // Seat tokens are hex; anything with a dot is meant as an access token.
    if !token.contains('.') {
        return Err(crate::room::RoomError::InvalidToken.into());
    }
    let session = app.identity.verify(token)?;
    let player = session.account.to_string();
    Ok(match room.seat_token_of(&player) {
        Some(token) => RoomCredential::Seat { player, token },
        None => RoomCredential::Unseated,
    })
}

/// The seat a request acts for: [`credential`], which must be a seat
/// (403 `not_seated` for a session without one).
pub async fn seat(
    app: &App,
    room: &RoomHandle,
    headers: &HeaderMap,
    ip: &ClientIp,
) -> Result<(String, String), ApiError> {
    match credential(app, room, bearer(headers), ip).await? {
        RoomCredential::Seat { player, token } => Ok((player, token)),
        RoomCredential::Unseated => Err(ApiError::not_seated(&room.id)),
    }
}

/// The key of one seat's action limit.
pub fn seat_key(room: &RoomHandle, player: &str) -> String {
    format!("{}/{player}", room.id)
}

pub async fn leave(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let room = room(&app, &id)?;
    let (_, token) = seat(&app, &room, &headers, &ip).await?;
    room.leave(token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/rooms/{id}/actions`: the body is the action JSON itself.
pub async fn act(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let room = room(&app, &id)?;
    let (player, token) = seat(&app, &room, &headers, &ip).await?;
    let body = body.map_err(|r| ApiError::body(r, "action_too_large"))?;
    let action = parse_action(&body, app.config.limits.max_action_bytes)?;
    app.limit(Policy::Room, &seat_key(&room, &player)).await?;
    let accepted = room.act(token, action).await?;
    Ok(Json(serde_json::json!({ "seq": accepted.seq, "status": accepted.status })))
}

/// Size and JSON checks shared by HTTP and WebSocket actions.
pub fn parse_action(bytes: &[u8], max_bytes: usize) -> Result<String, ApiError> {
    if bytes.len() > max_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "action_too_large",
            format!("actions are limited to {max_bytes} bytes, got {}", bytes.len()),
        ));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", "the action is not UTF-8"))?;
    let raw: &RawValue = serde_json::from_str(text).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", format!("the action is not JSON: {e}"))
    })?;
    Ok(raw.get().to_string())
}
