//! Matchmaking endpoints: queue the caller (a session is required; the
//! ticket's party is the caller's account, never names from the body),
//! poll or cancel its ticket, and a
//! WebSocket that reports the ticket until it is final (matched with a
//! room, expired, cancelled or failed). Tickets live in the shared store, so
//! any node answers for any ticket.
//!
//! Queueing answers the ticket's secret, once; polling, cancelling and the
//! WebSocket need it back as `Authorization: Bearer <secret>` (the WebSocket
//! also takes `?token=<secret>`, as browsers cannot set its headers). No
//! secret: 401 `missing_token`; a wrong one: 404 `ticket_not_found`, exactly
//! as for an unknown ticket, so a stranger learns nothing about it.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};

use super::auth::Caller;
use super::client_ip::ClientIp;
use super::{ApiError, App, bearer};
use crate::registry::ResolveError;
use arcade_cluster::matchmaking::{MatchmakingError, QueueKey, QueueRequest, TicketStatus, TicketView};
use arcade_cluster::ratelimit::Policy;

/// How often the ticket WebSocket looks at the store unprompted. It looks at
/// once when the store announces the ticket seated (from whichever node or
/// Lambda ran the round); polling covers lost announcements.
const TICKET_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// `POST /v1/matchmaking/tickets`: checked first, then counted against the
/// caller's IP and account (a refused request spends neither).
pub async fn create(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    caller: Caller,
    body: Result<Json<QueueRequest>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(request) = body?;
    let lobby = &app.node_agent;
    let party_id = request.party_id.clone();
    let party = super::parties::queued_party(&app, &caller, party_id.as_deref()).await?;
    let mut request = request.for_party(party).with_defaults(lobby.default_mode(), lobby.default_region());
    // The party's rating is its players' ladder ratings (what a client
    // sends is ignored): the mean, as a party's rating always was.
    request.rating = {
        let ladder = app.ladder.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let board = arcade_ladder::BoardKey::new(&request.game, &request.mode);
        let sum: f64 = request.party.iter().map(|p| ladder.rating_for_matchmaking(&board, p)).sum();
        sum / request.party.len().max(1) as f64
    };
    lobby.matchmaker.check(&request)?;
    // Every version yanked: its matches would get no room.
    if let Err(yanked @ ResolveError::AllYanked(_)) = app.registry.resolve(&request.game, None) {
        return Err(yanked.into());
    }
    app.limit(Policy::Ip, &ip.0).await?;
    app.limit(Policy::Player, caller.0.account.as_str()).await?;
    let created = lobby.matchmaker.submit(request).await?;
    super::parties::record_ticket(&app, party_id.as_deref(), &created).await?;
    Ok((StatusCode::CREATED, Json(created.created_json())))
}

/// The ticket secret a request presents as its bearer token.
fn ticket_secret(headers: &HeaderMap) -> Result<&str, ApiError> {
    bearer(headers).filter(|secret| !secret.is_empty()).ok_or_else(ApiError::missing_token)
}

/// `GET /v1/matchmaking/tickets/{id}`, for the holder of the ticket's secret.
pub async fn get(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<TicketView>, ApiError> {
    let secret = ticket_secret(&headers)?;
    Ok(Json(app.node_agent.matchmaker.status(&id, secret).await?))
}

/// `DELETE /v1/matchmaking/tickets/{id}`, for the holder of the ticket's
/// secret: counts against the party leader's rate limit once the secret is
/// checked (a stranger cannot spend it).
pub async fn cancel(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let secret = ticket_secret(&headers)?;
    let view = app.node_agent.matchmaker.status(&id, secret).await?;
    if let Some(leader) = view.ticket.party.first() {
        app.limit(Policy::Player, leader).await?;
    }
    app.node_agent.matchmaker.cancel(&id, secret).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/matchmaking/queues`: the open queues.
pub async fn queues(State(app): State<Arc<App>>) -> Json<Vec<QueueKey>> {
    Json(app.node_agent.matchmaker.queues())
}

#[derive(serde::Deserialize)]
pub struct WatchQuery {
    token: Option<String>,
}

/// `GET /v1/matchmaking/tickets/{id}/ws?token=<secret>` (or the bearer
/// header): `{"type":"ticket", ...}` now and after every change; closed once
/// the ticket is final. The secret is checked before upgrading, so a bad one
/// is a plain HTTP error.
pub async fn watch(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    query: Result<Query<WatchQuery>, QueryRejection>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query?;
    let ws = ws?;
    let secret = match query.token.filter(|token| !token.is_empty()) {
        Some(token) => token,
        None => ticket_secret(&headers)?.to_string(),
    };
    let first = app.node_agent.matchmaker.status(&id, &secret).await?;
    Ok(ws.on_upgrade(move |socket| watch_ticket(socket, app, id, secret, first)))
}

async fn watch_ticket(socket: WebSocket, app: Arc<App>, id: String, secret: String, mut view: TicketView) {
    let (mut sink, mut stream) = socket.split();
    let mut seated = app.node_agent.watch_ticket(&id);
    // Seated between the first look and the subscription: look again.
    if let Ok(now) = app.node_agent.matchmaker.status(&id, &secret).await {
        view = now;
    }
    let mut sent: Option<TicketView> = None;
    loop {
        if sent.as_ref() != Some(&view) {
            let mut frame = serde_json::to_value(&view).unwrap_or_default();
            frame["type"] = "ticket".into();
            if sink.send(Message::Text(frame.to_string().into())).await.is_err() {
                return;
            }
            sent = Some(view.clone());
        }
        if is_final(&view.status) {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(TICKET_POLL_INTERVAL) => {}
            _ = seated.changed() => {}
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Close(_))) => {
                    // Answer the client's close (RFC 6455 §5.5.1): closing the sink sends the echo the library queued.
                    let _ = sink.close().await;
                    return;
                }
                None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
        match app.node_agent.matchmaker.status(&id, &secret).await {
            Ok(now) => view = now,
            // Gone past its retention: nothing more will come.
            Err(MatchmakingError::TicketNotFound(_)) => break,
            Err(e) => tracing::debug!(ticket = %id, error = %e, "ticket watch"),
        }
    }
    let _ = sink.send(Message::Close(None)).await;
}

/// Nothing more will happen to the ticket.
fn is_final(status: &TicketStatus) -> bool {
    match status {
        TicketStatus::Waiting => false,
        TicketStatus::Matched(result) => result.assignment.is_some(),
        TicketStatus::Expired | TicketStatus::Cancelled | TicketStatus::Failed => true,
    }
}
