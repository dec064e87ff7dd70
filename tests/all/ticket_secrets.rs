//! Ticket secrets (issue 9, item 1): a queued player's seat cannot be
//! stolen. The exploit, step by step, against a real server: a stranger
//! learns the victim's ticket id from a `409 player_already_queued`, then
//! reads the ticket (and with it the victim's seat token), watches it over
//! its WebSocket and cancels it. Each step is refused now; only the holder
//! of the secret answered at creation can do any of it.

use std::time::Duration;

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::support::*;

const TICKETS: &str = "/v1/matchmaking/tickets";

/// `method` on a ticket with an optional bearer token.
async fn ticket_call(server: &Server, method: reqwest::Method, id: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut request = server.http.request(method, server.url(&format!("{TICKETS}/{id}")));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    server.send(request).await
}

/// Opens the ticket WebSocket at `path_and_query`: the first frame, or the
/// HTTP status of a refused upgrade.
async fn watch(server: &Server, path_and_query: &str) -> Result<Value, StatusCode> {
    match tokio_tungstenite::connect_async(server.ws_url(path_and_query)).await {
        Ok((mut socket, _)) => loop {
            match tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("a frame") {
                Some(Ok(Message::Text(text))) => return Ok(serde_json::from_str(&text).expect("JSON")),
                Some(Ok(_)) => continue,
                other => panic!("the ticket WebSocket ended: {other:?}"),
            }
        },
        Err(tungstenite::Error::Http(response)) => Err(response.status()),
        Err(e) => panic!("connecting to the ticket WebSocket: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_can_neither_find_read_watch_nor_cancel_a_queued_players_ticket() {
    // Ann waits alone (tic-tac-toe needs two) until Bob queues.
    let server = Server::start_with(&[("ARCADE_MATCHMAKING__ROUND_INTERVAL_MS", "50")]).await;

    let (status, created) = server.post_as("ann", TICKETS, &json!({ "game": "tic-tac-toe" })).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = str_at(&created["ticket"], "id");
    let secret = str_at(&created, "secret");
    assert!(secret.len() >= 32, "a secret of 128 bits or more: {secret}");

    // 1. Queueing ann again does not name her ticket.
    let (status, refusal) = server.post_as("ann", TICKETS, &json!({ "game": "tic-tac-toe" })).await;
    assert_error(&(status, refusal.clone()), 409, "player_already_queued");
    assert!(!refusal.to_string().contains(&id), "the 409 gives the holder's ticket id away: {refusal}");

    // 2. Reading it: no secret is 401, a wrong one reads as an unknown ticket.
    assert_error(&ticket_call(&server, reqwest::Method::GET, &id, None).await, 401, "missing_token");
    let wrong = ticket_call(&server, reqwest::Method::GET, &id, Some("not-the-secret")).await;
    assert_error(&wrong, 404, "ticket_not_found");
    let unknown = ticket_call(&server, reqwest::Method::GET, "0123456789abcdef", Some("not-the-secret")).await;
    assert_eq!(
        wrong.1["error"]["message"].as_str().unwrap().replace(&id, "ID"),
        unknown.1["error"]["message"].as_str().unwrap().replace("0123456789abcdef", "ID"),
        "a stranger cannot tell an existing ticket from an unknown one"
    );

    // 3. Watching it: refused before the upgrade, with the token or without.
    assert_eq!(watch(&server, &format!("{TICKETS}/{id}/ws")).await, Err(StatusCode::UNAUTHORIZED));
    assert_eq!(watch(&server, &format!("{TICKETS}/{id}/ws?token=guess")).await, Err(StatusCode::NOT_FOUND));

    // 4. Cancelling it.
    assert_error(&ticket_call(&server, reqwest::Method::DELETE, &id, None).await, 401, "missing_token");
    assert_error(&ticket_call(&server, reqwest::Method::DELETE, &id, Some("guess")).await, 404, "ticket_not_found");
    let (status, view) = ticket_call(&server, reqwest::Method::GET, &id, Some(&secret)).await;
    assert_eq!((status, &view["status"]), (StatusCode::OK, &json!("waiting")), "{view}");
    assert!(view.get("secret").is_none(), "the secret is answered once, at creation: {view}");

    // The victim is matched: another player's secret does not open her
    // ticket, and so not her seat token.
    let (status, bob) = server.post_as("bob", TICKETS, &json!({ "game": "tic-tac-toe" })).await;
    assert_eq!(status, StatusCode::CREATED, "{bob}");
    let bob_secret = str_at(&bob, "secret");
    let seated = server.ticket_with_room(&id, &secret, Duration::from_secs(90)).await;
    let token = str_at(&seated["match"]["assignment"]["seats"][0], "token");
    let (status, across) = ticket_call(&server, reqwest::Method::GET, &id, Some(&bob_secret)).await;
    assert_error(&(status, across.clone()), 404, "ticket_not_found");
    assert!(!across.to_string().contains(&token), "{across}");

    // The owner watches with `?token=` and sees the room.
    let first = watch(&server, &format!("{TICKETS}/{id}/ws?token={secret}")).await.expect("the owner may watch");
    assert_eq!((&first["type"], &first["status"]), (&json!("ticket"), &json!("matched")), "{first}");
    assert_error(&ticket_call(&server, reqwest::Method::DELETE, &id, Some(&secret)).await, 409, "ticket_not_waiting");
}
