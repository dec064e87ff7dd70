//! Creating a match's room on a chosen node: over the node's internal
//! route `POST /internal/v1/rooms`, signed with the cluster secret
//! ([`super::auth`]); the node refuses unsigned or badly signed calls.

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

use super::auth::ClusterKey;
use super::nodes::NodeInfo;
use crate::matchmaking::{MatchResult, RoomAssignment, SeatAssignment};
use arcade_protocol::clock::now_ms;

/// The internal room-creation route every node serves.
pub const INTERNAL_ROOMS_PATH: &str = "/internal/v1/rooms";

/// The internal route where a node lists its own listed rooms for the node
/// answering a lobby request (`GET`, the query signed with the path).
pub const INTERNAL_LISTED_ROOMS_PATH: &str = "/internal/v1/rooms/listed";

/// What a node is asked to create for a match. Fields it does not know are
/// ignored: only a node of the cluster can sign an order (checked before it
/// is read), and during a rolling upgrade a newer node may send fields an
/// older one does not know yet (as `mode` was added).
#[derive(Clone, Debug, PartialEq, serde::Serialize, Deserialize)]
pub struct RoomOrder {
    pub game: String,
    /// The match's mode: its room's games are rated on that board (absent
    /// from nodes before ratings: unrated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Seated in this order.
    pub players: Vec<String>,
    /// For the node's logs.
    pub match_id: String,
}

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

/// Creates rooms through a node's internal route, signing each call.
pub struct HttpRoomProvisioner {
    client: reqwest::Client,
    key: ClusterKey,
}

impl HttpRoomProvisioner {
    pub fn new(timeout: Duration, key: ClusterKey) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .no_proxy()
            // A node answers itself; a redirect would carry the signed call elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client without TLS always builds");
        HttpRoomProvisioner { client, key }
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
        let order = RoomOrder {
            game: matched.game.clone(),
            mode: Some(matched.mode.clone()),
            players: matched.players.clone(),
            match_id: matched.match_id.clone(),
        };
        let body = serde_json::to_vec(&order).expect("a room order serializes");
        let mut request = self
            .client
            .post(format!("{}{INTERNAL_ROOMS_PATH}", node.url.trim_end_matches('/')))
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        for (name, value) in self.key.sign_request("POST", INTERNAL_ROOMS_PATH, &body, now_ms()) {
            request = request.header(name, value);
        }
        let response = request.body(body).send().await.map_err(unreachable)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_from_a_newer_or_older_node_still_reads() {
        let newer = r#"{"game":"g","mode":"ranked","players":["a","b"],"match_id":"m","added_later":1}"#;
        let order: RoomOrder = serde_json::from_str(newer).expect("unknown fields are ignored");
        assert_eq!(order.mode.as_deref(), Some("ranked"));
        let older: RoomOrder = serde_json::from_str(r#"{"game":"g","players":["a"],"match_id":"m"}"#).expect("no mode");
        assert_eq!(older.mode, None, "an older node's room is unrated");
    }
}
