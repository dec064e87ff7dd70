//! A small WebSocket client for room connections (tokio-tungstenite).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

/// How long to wait for any one message.
pub const WS_TIMEOUT: Duration = Duration::from_secs(10);

/// The server's close code for "another node runs this room".
pub const CLOSE_MOVED: u16 = 4307;

/// A connection to `/v1/rooms/{id}/ws`.
pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The first message of the connection.
    pub welcome: Value,
    /// Every JSON message received so far, in order (the welcome included).
    pub log: Vec<Value>,
}

/// How a connection ended.
#[derive(Debug)]
pub enum Ended {
    /// The server sent a close frame.
    Closed(Option<CloseFrame>),
    /// The stream ended or failed without a close frame.
    Dropped(#[allow(dead_code)] String),
}

impl WsClient {
    /// Connect and read the `welcome`; an HTTP refusal of the upgrade is
    /// returned as `(status, JSON body)`.
    pub async fn connect(url: &str) -> Result<WsClient, (StatusCode, Value)> {
        let connected = tokio::time::timeout(WS_TIMEOUT, connect_async(url))
            .await
            .unwrap_or_else(|_| panic!("WebSocket connect to {url} timed out"));
        let stream = match connected {
            Ok((stream, _)) => stream,
            Err(Error::Http(response)) => {
                let status = StatusCode::from_u16(response.status().as_u16()).expect("an HTTP status");
                let body = match response.body() {
                    Some(bytes) => serde_json::from_slice(bytes)
                        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into())),
                    None => Value::Null,
                };
                return Err((status, body));
            }
            Err(e) => panic!("WebSocket connect to {url}: {e}"),
        };
        let mut client = WsClient { stream, welcome: Value::Null, log: Vec::new() };
        // Another node runs the room: close 4307 with that node's base URL.
        let welcome = match client.next_frame().await {
            Ok(text) => serde_json::from_str::<Value>(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")),
            Err(Ended::Closed(Some(frame))) if u16::from(frame.code) == CLOSE_MOVED => {
                return Err((StatusCode::TEMPORARY_REDIRECT, serde_json::json!({ "moved": frame.reason.as_str() })));
            }
            Err(ended) => panic!("the connection to {url} ended before the welcome: {ended:?}"),
        };
        client.log.push(welcome.clone());
        assert_eq!(welcome["type"], "welcome", "the first message must be the welcome: {welcome}");
        client.welcome = welcome;
        Ok(client)
    }

    /// [`WsClient::connect`], following a 4307 close to the node that runs
    /// the room (same path and query); returns the client and the URL used.
    pub async fn connect_following(url: &str) -> Result<(WsClient, String), (StatusCode, Value)> {
        match Self::connect(url).await {
            Err((StatusCode::TEMPORARY_REDIRECT, moved)) => {
                let node = moved["moved"].as_str().expect("a node URL").replacen("http://", "ws://", 1);
                let path = &url[url.find("/v1/").expect("a /v1/ URL")..];
                let target = format!("{node}{path}");
                Self::connect(&target).await.map(|client| (client, target))
            }
            other => other.map(|client| (client, url.to_string())),
        }
    }

    /// The next text frame (pings and pongs skipped), or how the connection ended.
    pub async fn next_frame(&mut self) -> Result<String, Ended> {
        loop {
            let next = tokio::time::timeout(WS_TIMEOUT, self.stream.next()).await.unwrap_or_else(|_| {
                panic!("no WebSocket message within {WS_TIMEOUT:?}; received so far: {:#?}", self.log)
            });
            match next {
                Some(Ok(Message::Text(text))) => return Ok(text.to_string()),
                Some(Ok(Message::Close(frame))) => return Err(Ended::Closed(frame)),
                Some(Ok(Message::Binary(bytes))) => panic!("unexpected binary frame ({} bytes)", bytes.len()),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(Ended::Dropped(e.to_string())),
                None => return Err(Ended::Dropped("the stream ended".into())),
            }
        }
    }

    /// The next message, which must be JSON (recorded in [`WsClient::log`]).
    pub async fn next_json(&mut self) -> Value {
        match self.next_frame().await {
            Ok(text) => {
                let value: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("a server message is not JSON ({e}): {text}"));
                self.log.push(value.clone());
                value
            }
            Err(ended) => {
                panic!("the WebSocket ended ({ended:?}) while a message was expected; received: {:#?}", self.log)
            }
        }
    }

    /// Skip messages until one of type `kind` (`"state"`, `"ack"`, ...).
    pub async fn next_of_type(&mut self, kind: &str) -> Value {
        loop {
            let message = self.next_json().await;
            if message["type"] == kind {
                return message;
            }
        }
    }

    /// Skip states until one for which `matches` holds.
    pub async fn state_where(&mut self, matches: impl Fn(&Value) -> bool) -> Value {
        loop {
            let state = self.next_of_type("state").await;
            if matches(&state) {
                return state;
            }
        }
    }

    /// Skip states until one whose status is `finished` or `aborted`.
    pub async fn until_over(&mut self) -> Value {
        self.state_where(|s| matches!(s["status"]["state"].as_str(), Some("finished" | "aborted"))).await
    }

    pub async fn send_text(&mut self, text: impl Into<String>) {
        self.stream.send(Message::text(text.into())).await.expect("sending a WebSocket message");
    }

    pub async fn send_action(&mut self, id: &str, action: &Value) {
        self.send_text(json!({ "type": "action", "id": id, "action": action }).to_string()).await;
    }

    /// Send an action; `Err` if the connection is gone.
    pub async fn try_send_action(&mut self, id: &str, action: &Value) -> Result<(), String> {
        let text = json!({ "type": "action", "id": id, "action": action }).to_string();
        self.stream.send(Message::text(text)).await.map_err(|e| e.to_string())
    }

    /// The next `ack` or `error`, or `None` if the connection ends first.
    pub async fn try_next_reply(&mut self) -> Option<Value> {
        loop {
            let text = self.next_frame().await.ok()?;
            let message: Value = serde_json::from_str(&text).ok()?;
            self.log.push(message.clone());
            if matches!(message["type"].as_str(), Some("ack" | "error")) {
                return Some(message);
            }
        }
    }

    /// The next `ack` or `error`, skipping state updates.
    pub async fn next_reply(&mut self) -> Value {
        loop {
            let message = self.next_json().await;
            if matches!(message["type"].as_str(), Some("ack" | "error")) {
                return message;
            }
        }
    }

    /// Send an action and return its `ack` or `error`.
    pub async fn act(&mut self, id: &str, action: &Value) -> Value {
        self.send_action(id, action).await;
        let reply = self.next_reply().await;
        assert_eq!(reply["id"], id, "a reply to another message: {reply}");
        reply
    }

    /// Send an action that must be accepted; returns the acked `seq`.
    pub async fn ack(&mut self, id: &str, action: &Value) -> u64 {
        let reply = self.act(id, action).await;
        assert_eq!(reply["type"], "ack", "action {action} ({id}) was refused: {reply}");
        reply["seq"].as_u64().unwrap_or_else(|| panic!("an ack without seq: {reply}"))
    }

    /// Send an action that must be refused with `code`; returns the error frame.
    pub async fn refused(&mut self, id: &str, action: &Value, code: &str) -> Value {
        let reply = self.act(id, action).await;
        assert_eq!((reply["type"].as_str(), reply["code"].as_str()), (Some("error"), Some(code)), "{reply}");
        reply
    }

    /// Read until the connection ends, returning how (messages are logged).
    pub async fn until_end(&mut self) -> Ended {
        loop {
            match self.next_frame().await {
                Ok(text) => self.log.push(serde_json::from_str(&text).unwrap_or(Value::String(text))),
                Err(ended) => return ended,
            }
        }
    }

    /// The `state` messages received so far.
    pub fn states(&self) -> impl Iterator<Item = &Value> {
        self.log.iter().filter(|m| m["type"] == "state")
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}
