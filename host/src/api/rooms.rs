//! Room endpoints: create, describe, join, leave and act over HTTP.

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

use super::{ApiError, App, bearer};
use crate::lobby::RoomLocation;
use crate::ratelimit::Policy;
use crate::room::{RoomHandle, RoomInfo, Seat};
use crate::rooms::NewRoom;

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
    /// Seat count (default: the game's minimum, or the number of `players`).
    #[serde(default)]
    seats: Option<u32>,
    /// Players to seat immediately; their tokens are in the response.
    #[serde(default)]
    players: Vec<String>,
    /// Fixed seed (deterministic games for tests and replays).
    #[serde(default)]
    seed: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinRoom {
    name: String,
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
    match app.lobby.locate(id) {
        RoomLocation::Elsewhere(node_url) => {
            let target = request.uri().path_and_query().map_or(path, |pq| pq.as_str());
            ApiError::moved(&format!("{node_url}{target}")).into_response()
        }
        RoomLocation::Lost { node } => ApiError::room_lost(id, &node).into_response(),
        RoomLocation::Unknown => next.run(request).await,
    }
}

fn seat_token(headers: &HeaderMap) -> Result<String, ApiError> {
    bearer(headers).map(str::to_string).ok_or_else(ApiError::missing_token)
}

pub async fn create(
    State(app): State<Arc<App>>,
    body: Result<Json<CreateRoom>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(req) = body?;
    if let Some(first) = req.players.first() {
        app.limit(Policy::Player, first).await?;
    }
    let plugin = app.registry.resolve(&req.game, req.version.as_deref())?;
    let config = req.config.map_or_else(|| "{}".to_string(), |c| c.get().to_string());
    let (handle, seats) =
        app.rooms.create(NewRoom { plugin, config, seats: req.seats, players: req.players, seed: req.seed }).await?;
    let info = handle.describe().await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "room": info, "seats": seats }))))
}

pub async fn describe(State(app): State<Arc<App>>, Path(id): Path<String>) -> Result<Json<RoomInfo>, ApiError> {
    Ok(Json(room(&app, &id)?.describe().await?))
}

pub async fn join(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    body: Result<Json<JoinRoom>, JsonRejection>,
) -> Result<Json<Seat>, ApiError> {
    let room = room(&app, &id)?;
    let Json(req) = body?;
    app.limit(Policy::Player, &req.name).await?;
    Ok(Json(room.join(req.name).await?))
}

pub async fn leave(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let room = room(&app, &id)?;
    room.leave(seat_token(&headers)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/rooms/{id}/actions`: the body is the action JSON itself.
pub async fn act(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let room = room(&app, &id)?;
    let token = seat_token(&headers)?;
    app.limit(Policy::Room, &id).await?;
    let body = body.map_err(|r| ApiError::body(r, "action_too_large"))?;
    let action = parse_action(&body, app.config.limits.max_action_bytes)?;
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
