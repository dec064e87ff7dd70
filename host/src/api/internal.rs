//! The internal API other nodes of the cluster (and the matchmaker Lambda)
//! call, never players: `POST /internal/v1/rooms` creates a matched room
//! here. Every call is signed with the cluster secret (see
//! `cluster::auth`): unsigned, badly signed, stale or replayed calls are 401
//! (`missing_signature`, `invalid_signature`, `stale_request`,
//! `replayed_request`). A node without a cluster (no secret) serves no
//! internal route (404). The Ingress exposes only `/v1`, so this route is
//! reachable inside the cluster's network only.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;

use super::{ApiError, App};
use crate::node_agent::LocalNode;
use arcade_cluster::provision::{INTERNAL_ROOMS_PATH, RoomOrder};

/// Checks a signed internal call (`signed`: the path, with its query, the
/// caller signed): `alone` on a node without a cluster, 401 with the
/// reason (counted, logged) when the signature does not hold.
pub(super) fn check_signed(
    app: &App,
    method: &str,
    signed: &str,
    headers: &HeaderMap,
    body: &[u8],
    alone: ApiError,
) -> Result<(), ApiError> {
    match app.node_agent.authenticate_internal(method, signed, headers, body) {
        None => Err(alone),
        Some(Err(refused)) => {
            app.metrics.internal_requests_refused.inc();
            tracing::warn!(code = refused.code(), error = %refused, "internal request refused");
            Err(ApiError::new(StatusCode::UNAUTHORIZED, refused.code(), refused.to_string()))
        }
        Some(Ok(())) => Ok(()),
    }
}

/// `POST /internal/v1/rooms` with a signed [`RoomOrder`]: 201
/// `{"room": {"id": ...}, "seats": [{"player", "token"}, ...]}`.
pub async fn create_room(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let alone = ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint");
    check_signed(&app, "POST", INTERNAL_ROOMS_PATH, &headers, &body, alone)?;
    let order: RoomOrder = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", format!("not a room order: {e}")))?;
    let (room_id, seats) =
        app.create_match_room(&order.game, order.mode, order.players).await.map_err(|(status, message)| {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let code = if status == StatusCode::NOT_FOUND { "plugin_not_found" } else { "room_not_created" };
            ApiError::new(status, code, message)
        })?;
    tracing::debug!(match_id = %order.match_id, room = %room_id, "room created for a match");
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "room": { "id": room_id }, "seats": seats }))))
}
