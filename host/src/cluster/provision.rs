//! Creating a match's room on a chosen node.

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

use super::nodes::NodeInfo;
use crate::matchmaking::{MatchResult, RoomAssignment, SeatAssignment};

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The node did not answer (down, or the network): try another.
    #[error("node {node} unreachable: {message}")]
    Unreachable { node: String, message: String },
    /// The node answered with an error (full, draining, unknown game...).
    #[error("node {node} refused the room ({status}): {body}")]
    Refused { node: String, status: u16, body: String },
}

/// Creates the room of a match on a node, seating every player of the match
/// in order; returns the room and the seat tokens.
#[async_trait]
pub trait RoomProvisioner: Send + Sync {
    async fn create_room(&self, node: &NodeInfo, matched: &MatchResult) -> Result<RoomAssignment, ProvisionError>;
}

/// Creates rooms through a node's public API (`POST /v1/rooms`).
pub struct HttpRoomProvisioner {
    client: reqwest::Client,
}

impl HttpRoomProvisioner {
    pub fn new(timeout: Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .no_proxy()
            .build()
            .expect("an HTTP client without TLS always builds");
        HttpRoomProvisioner { client }
    }
}

#[derive(Deserialize)]
struct Created {
    room: CreatedRoom,
    seats: Vec<SeatAssignment>,
}

#[derive(Deserialize)]
struct CreatedRoom {
    id: String,
}

#[async_trait]
impl RoomProvisioner for HttpRoomProvisioner {
    async fn create_room(&self, node: &NodeInfo, matched: &MatchResult) -> Result<RoomAssignment, ProvisionError> {
        let unreachable =
            |e: reqwest::Error| ProvisionError::Unreachable { node: node.id.clone(), message: e.to_string() };
        let body = serde_json::json!({ "game": matched.game, "players": matched.players });
        let response = self
            .client
            .post(format!("{}/v1/rooms", node.url.trim_end_matches('/')))
            .json(&body)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        let text = response.text().await.map_err(unreachable)?;
        if !status.is_success() {
            return Err(ProvisionError::Refused { node: node.id.clone(), status: status.as_u16(), body: text });
        }
        let created: Created = serde_json::from_str(&text).map_err(|e| ProvisionError::Refused {
            node: node.id.clone(),
            status: status.as_u16(),
            body: format!("unexpected answer ({e}): {text}"),
        })?;
        Ok(RoomAssignment { room_id: created.room.id, node_url: node.url.clone(), seats: created.seats })
    }
}
