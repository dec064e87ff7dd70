//! Parties: players who queue together, each with their own session.
//!
//! `POST /v1/parties` makes the caller the leader of a new party and
//! answers its invite (once); `POST /v1/parties/{id}/join` with the invite
//! adds the caller; `GET /v1/parties/{id}` shows a member the party and the
//! ticket its leader queued (its id and secret, to follow the match);
//! `POST /v1/parties/{id}/leave` takes the caller out (the leader leaving
//! disbands it). A stranger and a wrong invite get `party_not_found`, as
//! for an unknown party. A ticket with `party_id` queues the whole party,
//! and only its leader may queue it.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Caller;
use super::client_ip::ClientIp;
use super::{ApiError, App};
use arcade_cluster::matchmaking::NewTicket;
use arcade_cluster::ratelimit::Policy;
use arcade_identity::{Party, PartyTicket};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinParty {
    invite: String,
}

/// `POST /v1/parties`: 201 `{"party": {...}, "invite": "..."}`.
pub async fn create(State(app): State<Arc<App>>, ip: ClientIp, caller: Caller) -> Result<impl IntoResponse, ApiError> {
    app.limit(Policy::Ip, &ip.0).await?;
    app.limit(Policy::Player, caller.0.account.as_str()).await?;
    let (party, invite) = app.identity.create_party(&caller.0.account).await?;
    Ok((StatusCode::CREATED, Json(json!({ "party": party_json(&app, &party).await, "invite": invite }))))
}

/// `GET /v1/parties/{id}`, for members.
pub async fn get(State(app): State<Arc<App>>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let party = app.identity.party_for(&id, &caller.0.account).await?;
    Ok(Json(party_json(&app, &party).await))
}

/// `POST /v1/parties/{id}/join` with `{"invite": "..."}`.
pub async fn join(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<JoinParty>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(request) = body?;
    app.limit(Policy::Ip, &ip.0).await?;
    app.limit(Policy::Player, caller.0.account.as_str()).await?;
    let party = app.identity.join_party(&id, &request.invite, &caller.0.account).await?;
    Ok(Json(party_json(&app, &party).await))
}

/// `POST /v1/parties/{id}/leave`: 204.
pub async fn leave(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.identity.leave_party(&id, &caller.0.account).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who a ticket queues: the caller alone, or the party it leads (the leader first).
pub async fn queued_party(app: &App, caller: &Caller, party: Option<&str>) -> Result<Vec<String>, ApiError> {
    let Some(party) = party else {
        return Ok(vec![caller.0.account.to_string()]);
    };
    let party = app.identity.party_to_queue(party, &caller.0.account).await?;
    Ok(party.members.iter().map(ToString::to_string).collect())
}

/// Keeps the ticket a party was queued with, for its members to follow.
pub async fn record_ticket(app: &App, party: Option<&str>, ticket: &NewTicket) -> Result<(), ApiError> {
    let Some(party) = party.and_then(arcade_identity::PartyId::parse) else { return Ok(()) };
    let ticket = PartyTicket { id: ticket.ticket.id.to_string(), secret: ticket.secret.as_str().to_string() };
    Ok(app.identity.set_party_ticket(&party, &ticket).await?)
}

async fn party_json(app: &App, party: &Party) -> Value {
    let mut members = Vec::with_capacity(party.members.len());
    for member in &party.members {
        let name = app.identity.account(member).await.ok().flatten().map(|a| a.display_name);
        members.push(json!({ "id": member.as_str(), "display_name": name }));
    }
    json!({
        "id": party.id.as_str(),
        "leader": party.leader.as_str(),
        "members": members,
        "ticket": party.ticket,
        "created_at_ms": party.created_at_ms,
    })
}
