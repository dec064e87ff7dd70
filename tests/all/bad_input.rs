//! Every documented error code, provoked through the public API: the HTTP
//! status and `error.code` (or the WebSocket error frame) are checked, and
//! the server must stay healthy afterwards.
//!
//! The HTTP cases run in this process ([`InProcess`]): each builds the app
//! `arcade serve` builds, on a fresh data dir, and calls its router. The
//! cases that need a socket run on one `arcade serve` process that they
//! share ([`websocket_cases_share_one_server`]):
//! - a refused WebSocket upgrade (404 on an unknown room, 403 on a foreign
//!   token): an upgrade needs hyper's connection; called through the router,
//!   axum refuses it (426) before the handler looks at the room or token;
//! - error frames on an open WebSocket (not your turn, not JSON, wrong
//!   shape, too large, a spectator acting), and the 1009 close of a message
//!   over `max_ws_message_bytes`, which only a socket carries.
//!
//! Each of those cases makes its own rooms and connections, and the server's
//! limits are the defaults (per-address limits roomy), so they run at once.

use std::sync::Arc;
use std::time::Duration;

use crate::support::ws::Ended;
use crate::support::*;
use arcade_host::config::Limits;

/// A tic-tac-toe room with alice (X, to move) and bob seated.
async fn playing_room(server: &impl Api) -> Room {
    server.create_room(&json!({ "game": "tic-tac-toe", "players": ["alice", "bob"] })).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_room_is_room_not_found() {
    let server = InProcess::start().await;
    let room = playing_room(&server).await;
    let token = room.token("alice");
    assert_error(&server.get("/v1/rooms/nonexistent").await, 404, "room_not_found");
    assert_error(&server.try_join("nonexistent", "carol").await, 404, "room_not_found");
    assert_error(&server.act("nonexistent", token, &json!({ "cell": 0 })).await, 404, "room_not_found");
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_plugin_is_plugin_not_found() {
    let server = InProcess::start().await;
    assert_error(&server.try_create_room(&json!({ "game": "chess" })).await, 404, "plugin_not_found");
    let unknown_version = json!({ "game": "tic-tac-toe", "version": "9.9.9" });
    assert_error(&server.try_create_room(&unknown_version).await, 404, "plugin_not_found");
    assert_error(&server.get("/v1/plugins/chess").await, 404, "plugin_not_found");
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seat_token_missing_is_missing_token() {
    let server = InProcess::start().await;
    let room = playing_room(&server).await;
    assert_error(&server.act_raw(&room.id, None, r#"{"cell":0}"#).await, 401, "missing_token");
    let leave = server.post_raw(&format!("/v1/rooms/{}/leave", room.id), None, "application/json", "").await;
    assert_error(&leave, 401, "missing_token");
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_seat_token_is_invalid_token() {
    let server = InProcess::start().await;
    let room = playing_room(&server).await;
    let other = playing_room(&server).await;
    // A real token, but of another room.
    let foreign = other.token("alice");
    assert_error(&server.act(&room.id, foreign, &json!({ "cell": 0 })).await, 403, "invalid_token");
    assert_error(&server.act(&room.id, "not-a-token", &json!({ "cell": 0 })).await, 403, "invalid_token");
    assert_eq!(server.room_info(&room.id).await["seq"], 0);
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_needs_the_admin_token() {
    let server = InProcess::start_empty().await;
    let wasm = plugin_bytes("tic-tac-toe");
    assert_error(&server.publish_as(Some("arcade-dev-admin-nope"), wasm.clone()).await, 403, "invalid_token");
    assert_error(&server.publish_as(None, wasm).await, 401, "missing_token");
    assert_eq!(server.get("/v1/plugins").await, (StatusCode::OK, json!([])), "nothing was published");
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acting_out_of_turn_is_not_your_turn() {
    let server = InProcess::start().await;
    let room = playing_room(&server).await;
    assert_error(&server.act(&room.id, room.token("bob"), &json!({ "cell": 0 })).await, 409, "not_your_turn");
    assert_eq!(server.room_info(&room.id).await["seq"], 0);
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_that_is_not_json_is_malformed_json() {
    let server = InProcess::start().await;
    let room = playing_room(&server).await;
    assert_error(&server.act_raw(&room.id, Some(room.token("alice")), r#"{"cell":"#).await, 400, "malformed_json");
    assert_error(&server.act_raw(&room.id, Some(room.token("alice")), "").await, 400, "malformed_json");
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_body_that_is_not_json_is_malformed_json() {
    let server = InProcess::start().await;
    let alice = server.player("alice").await.access_token;
    let answer = server.post_raw("/v1/rooms", Some(&alice), "application/json", r#"{"game":"#).await;
    assert_error(&answer, 400, "malformed_json");
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_body_of_the_wrong_shape_is_invalid_request() {
    let server = InProcess::start().await;
    for body in [json!({ "game": 7 }), json!({ "name": "tic-tac-toe" }), json!({ "game": "tic-tac-toe", "seats": -1 })]
    {
        assert_error(&server.try_create_room(&body).await, 422, "invalid_request");
    }
    // Players other than the caller cannot be named: the caller is seated.
    let typed = json!({ "game": "tic-tac-toe", "players": ["alice", "bob"] });
    assert_error(&server.post_as("alice", "/v1/rooms", &typed).await, 422, "invalid_request");
    server.assert_healthy().await;
}

/// Rooms and tickets act for a player: no session, no service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_and_tickets_need_a_session() {
    let server = InProcess::start().await;
    let room = playing_room(&server).await;
    let create = server.post("/v1/rooms", &json!({ "game": "tic-tac-toe" })).await;
    assert_error(&create, 401, "missing_token");
    let join = server.post(&format!("/v1/rooms/{}/join", room.id), &json!({})).await;
    assert_error(&join, 401, "missing_token");
    let ticket = server.post("/v1/matchmaking/tickets", &json!({ "game": "tic-tac-toe" })).await;
    assert_error(&ticket, 401, "missing_token");
    let forged = server.post_raw("/v1/rooms", Some("a.b.c"), "application/json", r#"{"game":"tic-tac-toe"}"#).await;
    assert_error(&forged, 401, "token_malformed");
    assert_eq!(server.room_info(&room.id).await["seq"], 0);
    server.assert_healthy().await;
}

/// Another account's session holds no seat here: `not_seated`, and nothing moves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acting_with_another_accounts_session_is_not_seated() {
    let server = InProcess::start().await;
    let room = playing_room(&server).await;
    let carol = server.player("carol").await.access_token;
    assert_error(&server.act(&room.id, &carol, &json!({ "cell": 0 })).await, 403, "not_seated");
    let leave = server.post_raw(&format!("/v1/rooms/{}/leave", room.id), Some(&carol), "application/json", "").await;
    assert_error(&leave, 403, "not_seated");
    // alice's own session acts for her seat, with no seat token.
    let alice = server.player("alice").await.access_token;
    let (status, accepted) = server.act(&room.id, &alice, &json!({ "cell": 0 })).await;
    assert_eq!((status, &accepted["seq"]), (StatusCode::OK, &json!(1)), "{accepted}");
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_of_the_wrong_shape_is_malformed_action() {
    let server = InProcess::start().await;
    let room = playing_room(&server).await;
    let alice = room.token("alice");
    for action in [json!({ "celll": 4 }), json!({ "cell": "4" }), json!(4)] {
        assert_error(&server.act(&room.id, alice, &action).await, 422, "malformed_action");
    }
    assert_eq!(server.room_info(&room.id).await["seq"], 0);
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn occupied_cell_is_illegal_action() {
    let server = InProcess::start().await;
    let room = playing_room(&server).await;
    let (status, accepted) = server.act(&room.id, room.token("alice"), &json!({ "cell": 4 })).await;
    assert_eq!((status, &accepted["seq"]), (StatusCode::OK, &json!(1)), "{accepted}");
    assert_eq!(accepted["status"], json!({ "state": "playing", "awaiting": [room.id_of("bob")] }));
    assert_error(&server.act(&room.id, room.token("bob"), &json!({ "cell": 4 })).await, 422, "illegal_action");
    assert_error(&server.act(&room.id, room.token("bob"), &json!({ "cell": 9 })).await, 422, "illegal_action");
    let info = server.room_info(&room.id).await;
    assert_eq!((&info["seq"], &info["status"]["awaiting"]), (&json!(1), &json!([room.id_of("bob")])), "{info}");
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_over_the_limit_is_action_too_large() {
    let server = InProcess::start().await;
    let room = playing_room(&server).await;
    // Over the default 4 KiB action limit, under the 64 KiB WebSocket message limit.
    let big = json!({ "cell": 0, "padding": "x".repeat(5000) });
    assert_error(&server.act(&room.id, room.token("alice"), &big).await, 413, "action_too_large");
    assert_eq!(server.room_info(&room.id).await["seq"], 0);
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_that_is_not_a_component_is_invalid_component() {
    let server = InProcess::start_empty().await;
    assert_error(&server.publish("not wasm").await, 422, "invalid_component");
    assert_error(&server.publish(Vec::<u8>::new()).await, 422, "invalid_component");
    // A core module header is not a component either.
    assert_error(&server.publish(b"\0asm\x01\0\0\0".to_vec()).await, 422, "invalid_component");
    assert_eq!(server.get("/v1/plugins").await, (StatusCode::OK, json!([])));
    server.assert_healthy().await;
}

/// Refused once the body passes the limit, the rest unread. That such an
/// answer reaches a client still sending (the accept loop closes without a
/// reset) is tested over a socket in `hardening_connections`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_over_the_limit_is_upload_too_large() {
    let server = InProcess::start_with(|config| config.limits.max_upload_bytes = 1000).await;
    assert_error(&server.publish(plugin_bytes("panicker")).await, 413, "upload_too_large");
    assert_error(&server.get("/v1/plugins/panicker").await, 404, "plugin_not_found");
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_over_the_limit_are_too_many_rooms() {
    let server = InProcess::start_with(|config| config.limits.max_rooms = 2).await;
    playing_room(&server).await;
    server.create_room(&json!({ "game": "connect-four" })).await;
    assert_error(&server.try_create_room(&json!({ "game": "tic-tac-toe" })).await, 503, "too_many_rooms");
    server.assert_healthy().await;
}

/// `max_rooms` bounds live rooms: games played back to back never find
/// the slots taken by finished ones (a node finishes far more short games
/// within one grace period than it has live rooms), and at most
/// `max_finished_rooms` finished rooms stay for late reconnects, the
/// oldest leaving first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_rooms_leave_the_slots_to_new_games_and_only_the_newest_stay() {
    let server = InProcess::start_with(|config| {
        config.limits.max_rooms = 2;
        config.limits.max_finished_rooms = 3;
    })
    .await;
    let mut finished = Vec::new();
    for _ in 0..6 {
        let room = playing_room(&server).await;
        for (player, cell) in [("alice", 0), ("bob", 3), ("alice", 1), ("bob", 4), ("alice", 2)] {
            let (status, body) = server.act(&room.id, room.token(player), &json!({ "cell": cell })).await;
            assert_eq!(status, StatusCode::OK, "{player} playing {cell} in {}: {body}", room.id);
        }
        finished.push(room.id);
    }
    let (older, newest) = finished.split_at(3);
    for id in newest {
        assert_eq!(server.room_info(id).await["status"]["state"], "finished");
    }
    // The older rooms are told to leave as newer games end; they go at once.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    for id in older {
        while server.get(&format!("/v1/rooms/{id}")).await.0 != StatusCode::NOT_FOUND {
            assert!(std::time::Instant::now() < deadline, "finished room {id} is still in memory");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let (status, ready) = server.get("/health/ready").await;
    assert_eq!((status, &ready["rooms"], &ready["finished_rooms"]), (StatusCode::OK, &json!(0), &json!(3)), "{ready}");

    // Live rooms still count: two games in play fill the node.
    playing_room(&server).await;
    playing_room(&server).await;
    assert_error(&server.try_create_room(&json!({ "game": "tic-tac-toe" })).await, 503, "too_many_rooms");
    let (_, ready) = server.get("/health/ready").await;
    assert_eq!((&ready["rooms"], &ready["finished_rooms"]), (&json!(2), &json!(3)), "{ready}");
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seat_count_outside_the_game_range_is_invalid_seats() {
    let server = InProcess::start().await;
    for body in [
        json!({ "game": "tic-tac-toe", "seats": 3 }),
        json!({ "game": "tic-tac-toe", "seats": 1 }),
        json!({ "game": "tic-tac-toe", "seats": 0, "players": ["a"] }),
    ] {
        assert_error(&server.try_create_room(&body).await, 422, "invalid_seats");
    }
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_a_full_room_is_room_full() {
    let server = InProcess::start().await;
    let room = playing_room(&server).await;
    assert_error(&server.try_join(&room.id, "carol").await, 409, "room_full");
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_and_act_errors_before_the_game_starts() {
    let server = InProcess::start().await;
    let room = server.create_room(&json!({ "game": "tic-tac-toe" })).await;
    let alice = server.join(&room.id, "alice").await;
    // Joining again is no second seat: the same seat, the same token.
    assert_eq!(server.join(&room.id, "alice").await, alice);
    assert_eq!(server.room_info(&room.id).await["status"]["seated"].as_array().map(Vec::len), Some(1));
    assert_error(&server.act(&room.id, &alice, &json!({ "cell": 0 })).await, 409, "game_not_started");
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_endpoint_is_not_found() {
    let server = InProcess::start().await;
    assert_error(&server.get("/v1/nothing-here").await, 404, "not_found");
    assert_error(&server.post("/v2/rooms", &json!({ "game": "tic-tac-toe" })).await, 404, "not_found");
    server.assert_healthy().await;
}

/// The cases below, at once on one `arcade serve`; each case that fails
/// prints its panic, and the test names them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_cases_share_one_server() {
    let server = Arc::new(Server::start().await);
    macro_rules! spawn_each {
        ($($case:ident),* $(,)?) => { [$((stringify!($case), tokio::spawn($case(server.clone())))),*] };
    }
    let cases = spawn_each![
        upgrade_on_an_unknown_room_is_room_not_found,
        upgrade_with_a_foreign_seat_token_is_invalid_token,
        acting_out_of_turn_over_websocket_is_not_your_turn,
        websocket_message_that_is_not_json_is_malformed_json,
        action_of_the_wrong_shape_over_websocket_is_malformed_action,
        action_over_the_limit_over_websocket_is_action_too_large,
        websocket_message_over_the_limit_closes_the_connection_with_1009,
        spectator_acting_over_websocket_gets_spectator,
        a_session_alone_reconnects_to_its_seat,
    ];
    let mut failed = Vec::new();
    for (name, case) in cases {
        if case.await.is_err() {
            failed.push(name);
        }
    }
    assert!(failed.is_empty(), "these WebSocket cases failed (their panics are above): {failed:?}");
    server.assert_healthy().await;
}

async fn upgrade_on_an_unknown_room_is_room_not_found(server: Arc<Server>) {
    match server.try_ws("nonexistent", None).await {
        Err(refused) => assert_error(&refused, 404, "room_not_found"),
        Ok(client) => panic!("upgraded on an unknown room: {}", client.welcome),
    }
    server.assert_healthy().await;
}

async fn upgrade_with_a_foreign_seat_token_is_invalid_token(server: Arc<Server>) {
    let room = playing_room(&*server).await;
    // A real token, but of another room.
    let other = playing_room(&*server).await;
    let foreign = other.token("alice");
    match server.try_ws(&room.id, Some(foreign)).await {
        Err(refused) => assert_error(&refused, 403, "invalid_token"),
        Ok(client) => panic!("upgraded with a foreign token: {}", client.welcome),
    }
    assert_eq!(server.room_info(&room.id).await["seq"], 0);
    server.assert_healthy().await;
}

async fn acting_out_of_turn_over_websocket_is_not_your_turn(server: Arc<Server>) {
    let room = playing_room(&*server).await;
    let mut bob = server.ws(&room.id, Some(room.token("bob"))).await;
    bob.refused("early", &json!({ "cell": 0 }), "not_your_turn").await;
    assert_eq!(server.room_info(&room.id).await["seq"], 0);
    server.assert_healthy().await;
}

async fn websocket_message_that_is_not_json_is_malformed_json(server: Arc<Server>) {
    let room = playing_room(&*server).await;
    let mut alice = server.ws(&room.id, Some(room.token("alice"))).await;
    alice.send_text(r#"{"type":"action","id":"x","action":{"cell":"#).await;
    let reply = alice.next_reply().await;
    assert_eq!((&reply["type"], &reply["code"]), (&json!("error"), &json!("malformed_json")), "{reply}");
    // JSON, but not a client message.
    alice.send_text(r#"{"type":"dance"}"#).await;
    let reply = alice.next_reply().await;
    assert_eq!(reply["code"], "invalid_message", "{reply}");
    alice.ack("still-usable", &json!({ "cell": 0 })).await;
    server.assert_healthy().await;
}

async fn action_of_the_wrong_shape_over_websocket_is_malformed_action(server: Arc<Server>) {
    let room = playing_room(&*server).await;
    let alice = room.token("alice");
    let mut ws = server.ws(&room.id, Some(alice)).await;
    ws.refused("shape", &json!({ "column": 4 }), "malformed_action").await;
    assert_eq!(server.room_info(&room.id).await["seq"], 0);
    server.assert_healthy().await;
}

async fn action_over_the_limit_over_websocket_is_action_too_large(server: Arc<Server>) {
    let room = playing_room(&*server).await;
    // Over the default 4 KiB action limit, under the 64 KiB WebSocket message limit.
    let big = json!({ "cell": 0, "padding": "x".repeat(5000) });
    let mut alice = server.ws(&room.id, Some(room.token("alice"))).await;
    alice.refused("big", &big, "action_too_large").await;
    // The connection stays open and usable.
    assert_eq!(alice.ack("small", &json!({ "cell": 0 })).await, 1);
    server.assert_healthy().await;
}

async fn websocket_message_over_the_limit_closes_the_connection_with_1009(server: Arc<Server>) {
    let room = playing_room(&*server).await;
    let mut alice = server.ws(&room.id, Some(room.token("alice"))).await;
    alice.next_of_type("state").await;
    // The server runs with the default limit (the other cases send 5 KB messages).
    let padding = "x".repeat(Limits::default().max_ws_message_bytes);
    let huge = json!({ "type": "action", "id": "huge", "action": { "cell": 0, "padding": padding } });
    alice.send_text(huge.to_string()).await;
    match alice.until_end().await {
        Ended::Closed(Some(frame)) => assert_eq!(u16::from(frame.code), 1009, "close frame {frame:?}"),
        other => panic!("expected a close frame with code 1009, got {other:?}; messages: {:#?}", alice.log),
    }
    assert!(alice.log.iter().all(|m| m["type"] != "ack"), "the oversized action was not applied");
    assert_eq!(server.room_info(&room.id).await["seq"], 0);
    // The seat is still usable from a new connection.
    let mut again = server.ws(&room.id, Some(room.token("alice"))).await;
    assert_eq!(again.welcome["you"], room.id_of("alice"));
    let state = again.next_of_type("state").await;
    assert_eq!((&state["seq"], &state["status"]["awaiting"]), (&json!(0), &json!([room.id_of("alice")])), "{state}");
    server.assert_healthy().await;
}

/// A new device has the session, not the seat token: it is enough.
async fn a_session_alone_reconnects_to_its_seat(server: Arc<Server>) {
    let room = playing_room(&*server).await;
    let alice = server.player("alice").await;
    let mut socket = server.ws(&room.id, Some(&alice.access_token)).await;
    assert_eq!(socket.welcome["you"], alice.id);
    assert_eq!(socket.ack("from-a-new-device", &json!({ "cell": 4 })).await, 1);
    server.assert_healthy().await;
}

async fn spectator_acting_over_websocket_gets_spectator(server: Arc<Server>) {
    let room = playing_room(&*server).await;
    // No token at all: refused before the upgrade.
    match server.try_ws(&room.id, None).await {
        Err(refused) => assert_error(&refused, 401, "missing_token"),
        Ok(client) => panic!("upgraded without a token: {}", client.welcome),
    }
    // Another account's session watches as a spectator.
    let mut spectator = server.ws(&room.id, None).await;
    assert_eq!(spectator.welcome["you"], Value::Null);
    assert_eq!(spectator.welcome["names"][room.id_of("alice")], "alice", "{}", spectator.welcome);
    spectator.refused("watch-only", &json!({ "cell": 0 }), "spectator").await;
    assert_eq!(server.room_info(&room.id).await["seq"], 0);
    server.assert_healthy().await;
}
