//! The room WebSocket: `GET /v1/rooms/{id}/ws?token=TOKEN`, where the
//! token is a seat token or an access token (browsers cannot set headers
//! on a WebSocket). A seat's token, or the session of an account seated in
//! the room, connects as that player (a reconnect resumes the seat, from
//! any device); any other valid session watches as a spectator. No token:
//! 401 `missing_token`. A banned account's actions are refused from the
//! moment the ban reaches this node.
//!
//! Server → client: `welcome`, then `state` after every change, `ack` /
//! `error` for each action. Client → server: `{"type": "action", "id": ...,
//! "action": ...}`. A message over `max_ws_message_bytes` closes the
//! connection with code 1009; an action over `max_action_bytes` gets an
//! `action_too_large` error and the connection stays open.
//!
//! Messages over the per-connection rate get a `rate_limited` error frame;
//! a client that goes on flooding is closed with 1008. A room that another
//! node runs is answered with close code 4307 and that node's base URL.
//!
//! The server pings every `ws_ping_interval_ms`; a connection that sends
//! nothing at all (no pong either) for `ws_idle_timeout_ms` is closed with
//! code 4408, spectators included. A client's close frame is answered with
//! a close frame echoing its code (RFC 6455 §5.5.1).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::time::{Instant, MissedTickBehavior};

use super::rooms::{RoomCredential, parse_action};
use super::{ApiError, App};
use crate::node_agent::RoomLocation;
use crate::room::{RoomHandle, Watch};
use arcade_cluster::ratelimit::{Policy, WsFloodGuard, WsVerdict};
use arcade_protocol::{ClientMsg, ServerMsg};

/// Close code: another node runs the room; the reason is its base URL.
pub const CLOSE_MOVED: u16 = 4307;

/// Close code: nothing was received for `limits.ws_idle_timeout_ms`.
pub const CLOSE_IDLE: u16 = 4408;

/// Frames fed to a socket are written once this much is queued or on the
/// next flush, whichever comes first.
const WRITE_COALESCE_BYTES: usize = 16 << 10;

/// Updates already waiting that are written together with an answer or
/// another update.
const COALESCE_UPDATES: usize = 8;

/// Numbers connections for their message rate limit.
static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(0);

#[derive(Deserialize)]
pub struct WsQuery {
    token: Option<String>,
}

pub async fn upgrade(
    State(app): State<Arc<App>>,
    ip: super::client_ip::ClientIp,
    Path(id): Path<String>,
    query: Result<Query<WsQuery>, QueryRejection>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query?;
    let ws = ws?;
    let Some(room) = app.rooms.get(&id) else {
        return match app.node_agent.locate(&id) {
            // Another node runs it: tell the client where, in the close frame.
            RoomLocation::Elsewhere(node_url) => Ok(ws.on_upgrade(move |socket| redirect(socket, node_url))),
            RoomLocation::Lost { node } => Err(ApiError::room_lost(&id, &node)),
            RoomLocation::Unknown => Err(ApiError::room_not_found(&id)),
        };
    };
    // Check the token before upgrading, so a bad one is a plain HTTP error
    // (and counts against the sender's IP, as for HTTP requests).
    let seat_token = match super::rooms::credential(&app, &room, query.token.as_deref(), &ip).await? {
        RoomCredential::Seat { token, .. } => Some(token),
        RoomCredential::Unseated => None,
    };
    let watch = room.watch(seat_token.clone()).await?;
    let limit = app.config.limits.max_ws_message_bytes;
    // Small buffers: tens of thousands of mostly idle sockets per node. The
    // write buffer only fills between `feed` and `flush` (an `ack` and the
    // `state` behind it leave in one write); it holds no memory while idle.
    Ok(ws
        .read_buffer_size(4 << 10)
        .write_buffer_size(WRITE_COALESCE_BYTES)
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| session(socket, app, room, watch, seat_token)))
}

/// Closes with [`CLOSE_MOVED`] and the owning node's base URL as the reason:
/// reconnect to the same path and query there.
async fn redirect(mut socket: WebSocket, node_url: String) {
    let frame = CloseFrame { code: CLOSE_MOVED, reason: node_url.into() };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

async fn session(socket: WebSocket, app: Arc<App>, room: RoomHandle, mut watch: Watch, token: Option<String>) {
    app.metrics.connections_active.inc();
    let (mut sink, mut stream) = socket.split();
    let max_action = app.config.limits.max_action_bytes;
    let connection = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed).to_string();
    let mut flood_guard = WsFloodGuard::new(app.node_agent.limiter.limits());
    let idle_timeout = Duration::from_millis(app.config.limits.ws_idle_timeout_ms.max(1));
    let ping_every = Duration::from_millis(app.config.limits.ws_ping_interval_ms.max(1));
    let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    // One timer for the idle check, re-armed only when it fires (not on
    // every message): it fires at the earliest possible idle deadline.
    let idle = tokio::time::sleep_until(last_heard + idle_timeout);
    tokio::pin!(idle);
    let close = loop {
        tokio::select! {
            () = &mut idle => {
                let deadline = last_heard + idle_timeout;
                if Instant::now() >= deadline {
                    break Some((CLOSE_IDLE, "idle: nothing received within the idle timeout"));
                }
                idle.as_mut().reset(deadline);
            }
            _ = ping.tick() => {
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    break None;
                }
            }
            update = watch.updates.recv() => match update {
                Some(text) => {
                    // With whatever else already waits (a new socket's
                    // `welcome` and first `state`), in one write.
                    let first = Message::Text(text.as_ref().into());
                    let Ok(sent) = send_with_waiting_updates(&mut sink, first, &mut watch).await else {
                        break None;
                    };
                    app.metrics.ws_messages_out.inc_by(sent as u64 + 1);
                }
                None => break Some((close_code::NORMAL, "the room closed or this client fell behind; reconnect")),
            },
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    last_heard = Instant::now();
                    let checked = app.node_agent.limiter.check(Policy::WsMessages, &connection).await;
                    let reply = match flood_guard.verdict(&checked) {
                        WsVerdict::Accept => handle_text(&app, &room, token.as_deref(), text.as_str(), max_action).await,
                        WsVerdict::Reject(retry_after) => {
                            app.metrics.count_rate_limited(Policy::WsMessages.name());
                            let message = format!("too many messages; retry after {} ms", retry_after.0.as_millis());
                            error_frame(None, "rate_limited", &message)
                        }
                        WsVerdict::Disconnect => break Some((close_code::POLICY, "flooding: too many messages over the rate limit")),
                    };
                    // The answer first, then the states the action caused
                    // (already queued by the room when it answered), in one write.
                    let Ok(sent) = send_with_waiting_updates(&mut sink, Message::Text(reply.into()), &mut watch).await else {
                        break None;
                    };
                    app.metrics.ws_messages_out.inc_by(sent as u64);
                    app.metrics.ws_answered(last_heard.elapsed());
                }
                Some(Ok(Message::Binary(_))) => {
                    last_heard = Instant::now();
                    let reply = error_frame(None, "unsupported_message", "send actions as JSON text frames");
                    if sink.send(Message::Text(reply.into())).await.is_err() {
                        break None;
                    }
                    app.metrics.ws_answered(last_heard.elapsed());
                }
                Some(Ok(Message::Close(_))) => {
                    // Answer with a close frame echoing the client's code:
                    // the library queued that echo; closing the sink sends it.
                    let _ = sink.close().await;
                    break None;
                }
                None => break None,
                Some(Ok(_)) => last_heard = Instant::now(), // pings are answered by the library
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "websocket read failed");
                    let too_big = e.to_string().to_lowercase().contains("too long")
                        || e.to_string().to_lowercase().contains("too big");
                    break too_big.then_some((close_code::SIZE, "message too big"));
                }
            },
        }
    };
    if let Some((code, reason)) = close {
        let _ = sink.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
    }
    app.metrics.connections_active.dec();
}

/// Write `first`, then the updates already waiting for this socket (up to
/// [`COALESCE_UPDATES`]), with one flush: one write for all of them.
/// Returns how many updates went with `first`.
async fn send_with_waiting_updates(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    first: Message,
    watch: &mut Watch,
) -> Result<usize, axum::Error> {
    let updates: Vec<Arc<str>> = std::iter::from_fn(|| watch.updates.try_recv().ok()).take(COALESCE_UPDATES).collect();
    let mut frames = vec![Ok(first)];
    frames.extend(updates.iter().map(|text| Ok(Message::Text(text.as_ref().into()))));
    sink.send_all(&mut futures_util::stream::iter(frames)).await?;
    Ok(updates.len())
}

/// Handle one client text message; returns the ack or error to send back.
async fn handle_text(app: &App, room: &RoomHandle, token: Option<&str>, text: &str, max_action: usize) -> String {
    let message: ClientMsg = match serde_json::from_str(text) {
        Ok(m) => m,
        Err(e) => {
            let code = if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
                "invalid_message"
            } else {
                "malformed_json"
            };
            return error_frame(None, code, &e.to_string());
        }
    };
    match message {
        ClientMsg::Action { id, action } => {
            let Some(token) = token else {
                return error_frame(id, "spectator", "spectators cannot act; only seated players can");
            };
            // The token was checked when the socket opened; the seat may be
            // gone since, or the account banned.
            let player = match super::rooms::check_credential(app, room, Some(token)) {
                Ok(RoomCredential::Seat { player, .. }) => player,
                Ok(RoomCredential::Unseated) => {
                    let e = ApiError::not_seated(&room.id);
                    return error_frame(id, e.code, &e.message);
                }
                Err(e) => return error_frame(id, e.code, &e.message),
            };
            let action = match parse_action(action.to_string().as_bytes(), max_action) {
                Ok(a) => a,
                Err(e) => return error_frame(id, e.code, &e.message),
            };
            if let Err(e) = app.limit(Policy::Room, &super::rooms::seat_key(room, &player)).await {
                return error_frame(id, e.code, &e.message);
            }
            match room.act(token.to_string(), action).await {
                Ok(accepted) => ServerMsg::Ack { id, seq: accepted.seq }.to_json(),
                Err(e) => error_frame(id, e.code(), &e.to_string()),
            }
        }
    }
}

fn error_frame(id: Option<serde_json::Value>, code: &str, message: &str) -> String {
    ServerMsg::Error { id, code, message }.to_json()
}
