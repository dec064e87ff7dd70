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
    let watcher = server.player("watcher").await.access_token;
    let (spectator, _) = open_ws(&server.ws_url(&format!("/v1/rooms/{}/ws?token={watcher}", room.id))).await;
    assert_eq!(u16::from(close_and_expect_echo(spectator, 1000).await.code), 1000);

    // The ticket WebSocket (a lone tic-tac-toe player stays waiting).
    let (status, created) = server.post_as("carol", "/v1/matchmaking/tickets", &json!({ "game": "tic-tac-toe" })).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (id, secret) = (str_at(&created["ticket"], "id"), str_at(&created, "secret"));
    let (watcher, first) = open_ws(&server.ws_url(&format!("/v1/matchmaking/tickets/{id}/ws?token={secret}"))).await;
    assert_eq!(first["type"], "ticket", "{first}");
    assert_eq!(u16::from(close_and_expect_echo(watcher, 1001).await.code), 1001);
    server.assert_healthy().await;
}

/// `host:port` of a base URL.
fn addr_of(base: &str) -> String {
    base.trim_start_matches("http://").trim_end_matches('/').to_string()
}

/// Reads what the server sends until it closes the connection or `within`
/// passes; returns the text and whether it closed.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (String, bool) {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&received).into_owned(), true),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&received).into_owned(), false),
        }
    }
}

/// [`read_until_closed`], as bytes.
async fn read_until_closed_bytes(stream: &mut TcpStream, within: Duration) -> (Vec<u8>, bool) {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (received, true),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
            Err(_) => return (received, false),
        }
    }
}

/// Reads one HTTP response head (and what came with it) within `within`.
async fn read_response_head(stream: &mut TcpStream, within: Duration) -> String {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    while !received.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
            Err(_) => panic!("no response within {within:?}; got so far: {:?}", String::from_utf8_lossy(&received)),
        }
    }
    // The body of a short answer comes in the same read or just after.
    if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buf)).await {
        received.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&received).into_owned()
}

/// An upload of `announced` bytes whose first KiB only is sent: the
/// connection, and the response head if one comes within `within`.
async fn start_upload(server: &Server, token: Option<&str>, announced: usize) -> TcpStream {
    let mut stream = TcpStream::connect(addr_of(&server.base)).await.expect("connecting");
    let auth = token.map(|t| format!("authorization: Bearer {t}\r\n")).unwrap_or_default();
    let head = format!(
        "POST /v1/plugins HTTP/1.1\r\nhost: arcade\r\ncontent-type: application/wasm\r\n{auth}content-length: {announced}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("sending the head");
    stream.write_all(&[0u8; 1024]).await.expect("sending the first KiB");
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_anonymous_upload_is_refused_before_its_body_is_read_and_publishes_are_bounded() {
    let server = Server::start_with(&[("ARCADE_LIMITS__MAX_CONCURRENT_PUBLISHES", "1")]).await;

    // 16 MB announced, 1 KiB sent, the rest never: the refusal comes anyway.
    let mut anonymous = start_upload(&server, None, 16_000_000).await;
    let answer = read_response_head(&mut anonymous, Duration::from_secs(3)).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "an anonymous upload must be refused at once: {answer}");
    assert!(answer.contains("missing_token"), "{answer}");
    let mut wrong = start_upload(&server, Some("not-the-admin-token"), 16_000_000).await;
    let answer = read_response_head(&mut wrong, Duration::from_secs(3)).await;
    assert!(answer.starts_with("HTTP/1.1 403") && answer.contains("invalid_token"), "{answer}");

    // An admin upload still arriving holds the only publishing place.
    let wasm = plugin_bytes("tic-tac-toe");
    let mut slow = start_upload(&server, Some(ADMIN_TOKEN), wasm.len() + 1024).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let busy = server.publish(wasm.clone()).await;
    assert_error(&busy, 503, "publish_busy");
    // It finishes (1 KiB of zeros then a component is no component: 422),
    // and the place is free again.
    slow.write_all(&wasm).await.expect("sending the rest");
    let answer = read_response_head(&mut slow, Duration::from_secs(10)).await;
    assert!(answer.starts_with("HTTP/1.1 422"), "{answer}");
    let (status, body) = server.publish(wasm).await;
    assert!(status.is_success(), "publishing once the place is free: {status} {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_development_admin_token_is_refused_off_loopback() {
    let dir = fresh_dir("arcade-devtoken");
    let output = tokio::task::spawn_blocking({
        let data = dir.join("data");
        move || {
            let mut command = arcade_command();
            command.args(["serve", "--listen", "0.0.0.0:0", "--data-dir"]).arg(&data);
            command.output().expect("running arcade serve")
        }
    });
    let output = tokio::time::timeout(Duration::from_secs(30), output).await.expect("arcade serve must exit").unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "serving 0.0.0.0 with the development token must fail: {stderr}");
    assert!(
        stderr.contains("development admin token") && stderr.contains("ARCADE_ADMIN_TOKEN"),
        "the error must say why and what to do: {stderr}"
    );
    assert!(!String::from_utf8_lossy(&output.stdout).contains("arcade listening"), "it must not have listened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_admin_listener_the_public_port_has_no_admin_routes() {
    let server = Server::start_with(&[("ARCADE_ADMIN_LISTEN", "127.0.0.1:0")]).await;
    let admin = server.admin_base.clone().expect("the server printed its admin listener");
    assert_ne!(admin, server.base);
    let wasm = plugin_bytes("connect-four");
    // A refused upload's connection is closed with its body unread (no
    // reuse), and a big body still being sent could meet a reset before the
    // answer is read: refused uploads here are small.
    let head = wasm[..64].to_vec();
    let http = reqwest::Client::builder().no_proxy().pool_max_idle_per_host(0).build().expect("a client");

    // The public port: the admin token opens nothing.
    let public_publish =
        http.post(server.url("/v1/plugins")).bearer_auth(ADMIN_TOKEN).header("content-type", "application/wasm");
    assert_error(&server.send(public_publish.body(head.clone())).await, 404, "not_found");
    let flush = http.post(server.url("/admin/archive/flush")).bearer_auth(ADMIN_TOKEN);
    assert_error(&server.send(flush).await, 404, "not_found");
    let (status, plugins) = server.get("/v1/plugins").await;
    assert_eq!(status, StatusCode::OK, "listing stays public: {plugins}");

    // The admin port: publishing and flushing work, with the token only.
    let publish = |token: Option<&str>, body: &Vec<u8>| {
        let mut request =
            http.post(format!("{admin}/v1/plugins")).header("content-type", "application/wasm").body(body.clone());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request
    };
    assert_error(&server.send(publish(None, &head)).await, 401, "missing_token");
    let (status, body) = server.send(publish(Some(ADMIN_TOKEN), &wasm)).await;
    assert!(status.is_success(), "publishing on the admin port: {status} {body}");
    let (status, body) =
        server.send(server.http.post(format!("{admin}/admin/archive/flush")).bearer_auth(ADMIN_TOKEN)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // and nothing else.
    assert_error(&server.send(server.http.get(format!("{admin}/v1/rooms/x"))).await, 404, "not_found");
}

/// A TCP connection to `server` from the loopback address `from`.
async fn connect_from(server: &Server, from: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket.bind(format!("{from}:0").parse().expect("an address")).expect("binding a loopback source address");
    socket.connect(addr_of(&server.base).parse().expect("the server address")).await.expect("connecting")
}

/// One keep-alive `GET /health/live` on `stream`; the response head.
async fn live(stream: &mut TcpStream) -> String {
    stream.write_all(b"GET /health/live HTTP/1.1\r\nhost: arcade\r\n\r\n").await.expect("sending a request");
    read_response_head(stream, Duration::from_secs(5)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_capped_per_address_and_in_all() {
    let server =
        Server::start_with(&[("ARCADE_LIMITS__MAX_CONNECTIONS_PER_IP", "4"), ("ARCADE_LIMITS__MAX_CONNECTIONS", "6")])
            .await;

    // One address takes its four connections, each serving requests.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut stream = connect_from(&server, "127.0.0.1").await;
        let answer = live(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        held.push(stream);
    }
    // The fifth is refused with a code, and closed.
    let mut fifth = connect_from(&server, "127.0.0.1").await;
    let (answer, closed) = read_until_closed(&mut fifth, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 503") && answer.contains("too_many_connections"), "{answer}");
    assert!(closed, "a refused connection is closed");

    // Another address still gets in; the ones held still work.
    let mut other = connect_from(&server, "127.0.0.2").await;
    assert!(live(&mut other).await.starts_with("HTTP/1.1 200"));
    assert!(live(&mut held[0]).await.starts_with("HTTP/1.1 200"));
    // Six in all: a third address is refused by the global cap.
    let mut sixth = connect_from(&server, "127.0.0.2").await;
    assert!(live(&mut sixth).await.starts_with("HTTP/1.1 200"));
    let mut seventh = connect_from(&server, "127.0.0.3").await;
    let (answer, _) = read_until_closed(&mut seventh, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 503") && answer.contains("server_busy"), "{answer}");

    // A connection that closes gives its place back.
    drop(held.pop());
    drop(sixth);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = connect_from(&server, "127.0.0.1").await;
    assert!(live(&mut again).await.starts_with("HTTP/1.1 200"), "the address has a free place again");
    drop(again);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let metrics = server.metrics().await;
    assert!(
        metrics.contains(r#"arcade_tcp_connections_refused_total{listener="public",reason="too_many_connections"} 1"#)
            && metrics.contains(r#"arcade_tcp_connections_refused_total{listener="public",reason="server_busy"} 1"#),
        "{metrics}"
    );
    // 3 held + the other + this scrape's own connection.
    assert!(metrics.contains(r#"arcade_tcp_connections_open{listener="public"} 5"#), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_and_idle_connections_are_closed() {
    let server = Server::start_with(&[("ARCADE_LIMITS__HEADER_READ_TIMEOUT_MS", "500")]).await;

    // A request whose headers never end.
    let started = Instant::now();
    let mut half = TcpStream::connect(addr_of(&server.base)).await.expect("connecting");
    half.write_all(b"GET /health/live HTTP/1.1\r\nhost: arcade\r\nx-slow: ").await.expect("sending half a request");
    let (answer, closed) = read_until_closed(&mut half, Duration::from_secs(5)).await;
    assert!(closed, "a half-sent request must be closed after the header timeout (got {answer:?})");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(400) && took < Duration::from_secs(3), "closed after {took:?}");

    // A keep-alive connection that goes quiet after a response.
    let mut idle = TcpStream::connect(addr_of(&server.base)).await.expect("connecting");
    assert!(live(&mut idle).await.starts_with("HTTP/1.1 200"));
    let (_, closed) = read_until_closed(&mut idle, Duration::from_secs(3)).await;
    assert!(closed, "an idle keep-alive connection must be closed");
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_that_answers_nothing_is_closed_and_one_that_answers_pings_stays() {
    let server = Server::start_with(&[
        ("ARCADE_LIMITS__WS_PING_INTERVAL_MS", "200"),
        ("ARCADE_LIMITS__WS_IDLE_TIMEOUT_MS", "1000"),
    ])
    .await;
    let room = server.create_room(&json!({ "game": "tic-tac-toe", "players": ["alice", "bob"] })).await;
    let watcher = server.player("watcher").await.access_token;
    let spectate = server.ws_url(&format!("/v1/rooms/{}/ws?token={watcher}", room.id));

    // A spectator that reads nothing (so never answers a ping). Its socket
    // is read raw afterwards: a WebSocket client would try to answer the
    // pings first and fail on the closed connection.
    let (mut silent, _) = open_ws(&spectate).await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let tokio_tungstenite::MaybeTlsStream::Plain(raw) = silent.get_mut() else { panic!("a plain TCP stream") };
    let (bytes, closed) = read_until_closed_bytes(raw, Duration::from_secs(5)).await;
    assert!(closed, "the idle spectator's connection must be closed");
    let pings = bytes.windows(2).filter(|w| w == &[0x89, 0x00]).count();
    assert!(pings >= 2, "the server pinged before giving up: {bytes:02x?}");
    // An unmasked close frame (0x88) carrying code 4408 (0x1138).
    let close = bytes.windows(4).any(|w| w[0] == 0x88 && w[2..] == [0x11, 0x38]);
    assert!(close, "a close frame with code 4408: {bytes:02x?}");

    // One that keeps reading answers the pings and stays past the timeout.
    let (mut alive, _) = open_ws(&spectate).await;
    let until = Instant::now() + Duration::from_millis(2500);
    while Instant::now() < until {
        match tokio::time::timeout(Duration::from_secs(1), alive.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => panic!("a responsive client was closed: {frame:?}"),
            Ok(Some(Err(e))) => panic!("a responsive client's connection failed: {e}"),
            Ok(None) => panic!("a responsive client's connection ended"),
            _ => {}
        }
    }
    assert_eq!(u16::from(close_and_expect_echo(alive, 1000).await.code), 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seat_tokens_and_ticket_secrets_never_reach_the_logs() {
    let server = Server::start_with(&[("RUST_LOG", "debug")]).await;
    let room = server.create_room(&json!({ "game": "tic-tac-toe", "players": ["alice", "bob"] })).await;
    let (alice, bob) = (room.token("alice").to_string(), room.token("bob").to_string());

    // Tokens in WebSocket queries, in bearer headers, right and wrong.
    let mut socket = server.ws(&room.id, Some(&alice)).await;
    socket.ack("m0", &json!({ "cell": 4 })).await;
    let (status, body) = server.act(&room.id, &bob, &json!({ "cell": 0 })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let wrong = "wrong-seat-token-0123456789abcdef";
    assert!(server.try_ws(&room.id, Some(wrong)).await.is_err());
    let (status, created) = server.post_as("carol", "/v1/matchmaking/tickets", &json!({ "game": "tic-tac-toe" })).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (id, secret) = (str_at(&created["ticket"], "id"), str_at(&created, "secret"));
    let (watcher, _) = open_ws(&server.ws_url(&format!("/v1/matchmaking/tickets/{id}/ws?token={secret}"))).await;
    let (status, _) =
        server.send(server.http.get(server.url(&format!("/v1/matchmaking/tickets/{id}"))).bearer_auth(&secret)).await;
    assert_eq!(status, StatusCode::OK);
    close_and_expect_echo(watcher, 1000).await;
    socket.close().await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let log = server.stderr_log();
    assert!(log.contains("token=REDACTED"), "the request spans name the redacted URI: {log}");
    for (what, secret) in [
        ("alice's seat token", &alice),
        ("bob's", &bob),
        ("a wrong token", &wrong.to_string()),
        ("the ticket secret", &secret),
    ] {
        assert!(!log.contains(secret.as_str()), "{what} is in the log:\n{log}");
    }
    assert!(!log.to_lowercase().contains("bearer"), "an Authorization header is in the log:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflights_name_the_authorization_header() {
    let server = Server::start().await;
    let preflight = server
        .http
        .request(reqwest::Method::OPTIONS, server.url("/v1/rooms/some-room/actions"))
        .header("origin", "http://game.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization,content-type")
        .send()
        .await
        .expect("a preflight");
    assert!(preflight.status().is_success(), "preflight: {}", preflight.status());
    let header = |name: &str| {
        preflight.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase()
    };
    // Browsers do not apply a `*` to Authorization: it must be named.
    let allowed = header("access-control-allow-headers");
    assert!(allowed.split(',').any(|h| h.trim() == "authorization"), "allow-headers: {allowed:?}");
    assert!(!allowed.contains('*'), "allow-headers: {allowed:?}");
    let methods = header("access-control-allow-methods");
    for method in ["get", "post", "delete"] {
        assert!(methods.split(',').any(|m| m.trim() == method), "allow-methods {methods:?} lacks {method}");
    }
    assert!(!methods.contains('*'), "allow-methods: {methods:?}");
    assert_eq!(header("access-control-allow-origin"), "*");
}
