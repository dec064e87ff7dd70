//! Rate limits on one node, at the configured defaults' shape: actions per
//! room (HTTP 429 with `Retry-After`), messages per WebSocket connection
//! (error frames, then a 1008 close for a client that keeps flooding).
//! Limits shared by several nodes are in `cluster.rs`.

use std::time::Duration;

use crate::support::ws::Ended;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_gets_429_with_retry_after_past_its_action_rate() {
    let server = Server::start_with(&[("ARCADE_RATE_LIMITS__ROOM_PER_SECOND", "3")]).await;
    let room = server.create_room(&json!({ "game": "tic-tac-toe", "players": ["ann", "bob"] })).await;
    // Illegal actions count too: the limit protects the room, whatever is sent.
    let mut statuses = Vec::new();
    let mut refusal = None;
    for _ in 0..6 {
        let response = server
            .http
            .post(server.url(&format!("/v1/rooms/{}/actions", room.id)))
            .bearer_auth(room.token("bob"))
            .json(&json!({ "cell": 0 }))
            .send()
            .await
            .expect("POST an action");
        statuses.push(response.status().as_u16());
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            refusal = Some(response);
            break;
        }
    }
    assert_eq!(statuses, [409, 409, 409, 429], "3 per second, then 429 (bob is not awaited: 409)");
    let refusal = refusal.unwrap();
    assert_eq!(refusal.headers()["retry-after"], "1");
    let body: Value = refusal.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");

    // After the Retry-After, the room takes actions again.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (status, body) = server.act(&room.id, room.token("ann"), &json!({ "cell": 4 })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(server.metrics().await.contains("arcade_rate_limited_total{policy=\"room\"}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_websocket_gets_error_frames_then_is_closed() {
    let server = Server::start_with(&[
        ("ARCADE_RATE_LIMITS__WS_MESSAGES_PER_SECOND", "5"),
        ("ARCADE_RATE_LIMITS__WS_VIOLATIONS_BEFORE_DISCONNECT", "4"),
    ])
    .await;
    let room = server.create_room(&json!({ "game": "tic-tac-toe", "players": ["ann", "bob"] })).await;
    let mut bob = server.ws(&room.id, Some(room.token("bob"))).await;
    for i in 0..20 {
        bob.send_action(&format!("f{i}"), &json!({ "cell": 0 })).await;
    }
    let mut codes = Vec::new();
    let ended = loop {
        match bob.next_frame().await {
            Ok(text) => {
                let frame: Value = serde_json::from_str(&text).unwrap();
                if frame["type"] == "error" {
                    codes.push(frame["code"].as_str().unwrap().to_string());
                }
            }
            Err(ended) => break ended,
        }
    };
    let Ended::Closed(Some(close)) = ended else { panic!("not closed by the server: {ended:?}") };
    assert_eq!(u16::from(close.code), 1008, "policy violation: {close:?}");
    // 5 messages within the rate (refused by the game: not bob's turn),
    // then 3 rate-limit errors, and the 4th violation in a row closes.
    assert_eq!(codes[..5], ["not_your_turn"; 5], "{codes:?}");
    assert_eq!(codes[5..], ["rate_limited"; 3], "{codes:?}");

    // A polite client on the same room is unaffected.
    let mut ann = server.ws(&room.id, Some(room.token("ann"))).await;
    assert_eq!(ann.ack("a1", &json!({ "cell": 4 })).await, 1);
}
