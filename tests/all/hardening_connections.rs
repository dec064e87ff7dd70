//! Connections, uploads, the admin token, WebSocket closes, logs and CORS
//! (issue 9, items 7, 8, 9, 11, 14 and 15), each against the real server:
//! the exploit reproduced, then refused.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::support::*;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// Opens a WebSocket and reads its first text frame.
async fn open_ws(url: &str) -> (Socket, Value) {
    let (mut socket, _) =
        tokio_tungstenite::connect_async(url).await.unwrap_or_else(|e| panic!("connecting {url}: {e}"));
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("a first frame") {
            Some(Ok(Message::Text(text))) => return (socket, serde_json::from_str(&text).expect("JSON")),
            Some(Ok(_)) => continue,
            other => panic!("{url} ended before its first frame: {other:?}"),
        }
    }
}

/// Sends a close frame with `code` and returns the close frame the server
/// answers with (text frames in between are skipped); panics when the
/// connection just drops (a client sees 1006).
async fn close_and_expect_echo(mut socket: Socket, code: u16) -> CloseFrame {
    let frame = CloseFrame { code: CloseCode::from(code), reason: "bye".into() };
    socket.send(Message::Close(Some(frame))).await.expect("sending a close frame");
    loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next()).await.expect("an answer to the close") {
            Some(Ok(Message::Close(Some(frame)))) => return frame,
            Some(Ok(Message::Close(None))) => panic!("the server answered the close without a code"),
            Some(Ok(_)) => continue,
            other => panic!("the server dropped the connection instead of answering the close (1006): {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_close_is_answered_with_a_close_frame_on_room_and_ticket_sockets() {
    let server = Server::start().await;
    let room = server.create_room(&json!({ "game": "tic-tac-toe", "players": ["alice", "bob"] })).await;

    // A player and a spectator of the room.
    let url = server.ws_url(&format!("/v1/rooms/{}/ws?token={}", room.id, room.token("alice")));
    let (player, welcome) = open_ws(&url).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    assert_eq!(u16::from(close_and_expect_echo(player, 4000).await.code), 4000);
    let (spectator, _) = open_ws(&server.ws_url(&format!("/v1/rooms/{}/ws", room.id))).await;
    assert_eq!(u16::from(close_and_expect_echo(spectator, 1000).await.code), 1000);

    // The ticket WebSocket (a lone tic-tac-toe player stays waiting).
    let (status, created) =
        server.post("/v1/matchmaking/tickets", &json!({ "game": "tic-tac-toe", "party": ["carol"] })).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (id, secret) = (str_at(&created["ticket"], "id"), str_at(&created, "secret"));
    let (watcher, first) = open_ws(&server.ws_url(&format!("/v1/matchmaking/tickets/{id}/ws?token={secret}"))).await;
    assert_eq!(first["type"], "ticket", "{first}");
    assert_eq!(u16::from(close_and_expect_echo(watcher, 1001).await.code), 1001);
    server.assert_healthy().await;
}
