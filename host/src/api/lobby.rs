//! The open-rooms listing, `GET /v1/rooms?game=&state=waiting|playing`:
//! the rooms their creators listed (`"listed": true` at creation), oldest
//! first and paged, for a lobby to join (`waiting`: seats open) or watch
//! (`playing`).
//!
//! Anyone may call it (a lobby is public; counted against the caller's IP).
//! An entry holds what a room's creator chose to show and what anyone may
//! read of any room (`GET /v1/rooms/{id}`): its id, game, version, seats,
//! the seated players' ids and display names, and when it was created;
//! never a seed, a seat token, a config or a view. It reads the room
//! handles only (no trip to any room): a scan of the listed rooms of this
//! node. In a cluster the node that answers asks every other live node for
//! the same page of its own rooms (`GET /internal/v1/rooms/listed/{nonce}`,
//! signed with the cluster secret, within 2 s) and merges them; a node that
//! does not answer leaves the page `partial`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

use super::client_ip::ClientIp;
use super::{ApiError, App};
use crate::room::RoomHandle;
use crate::room_directory::Listing;
use arcade_cluster::ratelimit::Policy;

/// The most entries one page holds.
const MAX_LIMIT: usize = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this game's rooms.
    game: Option<String>,
    #[serde(default = "waiting")]
    state: Listing,
    #[serde(default = "default_limit")]
    limit: usize,
    /// The `next` of the previous page.
    after: Option<String>,
}

fn waiting() -> Listing {
    Listing::Waiting
}

fn default_limit() -> usize {
    20
}

impl ListQuery {
    /// The same query, for another node.
    fn to_query_string(&self) -> String {
        let encode = |text: &str| utf8_percent_encode(text, NON_ALPHANUMERIC).to_string();
        let state = match self.state {
            Listing::Waiting => "waiting",
            Listing::Playing => "playing",
        };
        let mut query = format!("state={state}&limit={}", self.limit);
        if let Some(game) = &self.game {
            query.push_str(&format!("&game={}", encode(game)));
        }
        if let Some(after) = &self.after {
            query.push_str(&format!("&after={}", encode(after)));
        }
        query
    }

    fn checked(
        query: Result<Query<ListQuery>, QueryRejection>,
    ) -> Result<(ListQuery, Option<(u64, String)>), ApiError> {
        let Query(query) = query?;
        if !(1..=MAX_LIMIT).contains(&query.limit) {
            let message = format!("limit is 1 to {MAX_LIMIT}");
            return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_limit", message));
        }
        let after = query.after.as_deref().map(parse_cursor).transpose()?.map(|(at, id)| (at, id.to_string()));
        Ok((query, after))
    }

    /// A page of this node's rooms.
    fn here(&self, app: &App, after: &Option<(u64, String)>) -> NodePage {
        let after = after.as_ref().map(|(at, id)| (*at, id.as_str()));
        let page = app.rooms.listed(self.game.as_deref(), self.state, after, self.limit);
        NodePage { rooms: page.rooms.iter().map(ListedRoom::from).collect(), more: page.more }
    }
}

/// One listed room.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListedRoom {
    id: String,
    game: String,
    version: String,
    seats: u32,
    /// Seated players: id -> display name.
    names: BTreeMap<String, String>,
    created_at_ms: u64,
}

impl From<&RoomHandle> for ListedRoom {
    fn from(handle: &RoomHandle) -> Self {
        ListedRoom {
            id: handle.id.to_string(),
            game: handle.plugin.name.clone(),
            version: handle.plugin.version.to_string(),
            seats: handle.lobby.seats,
            names: handle.seated().into_iter().collect(),
            created_at_ms: handle.lobby.created_at_ms,
        }
    }
}

#[derive(Serialize)]
pub struct ListedPage {
    rooms: Vec<ListedRoom>,
    /// Pass as `after` for the next page; `null` on the last one.
    next: Option<String>,
    /// Some node of the cluster did not answer: its rooms are missing.
    partial: bool,
}

/// One node's page, as the internal route answers it.
#[derive(Serialize, Deserialize)]
pub struct NodePage {
    rooms: Vec<ListedRoom>,
    more: bool,
}

/// A cursor: `<created_at_ms>.<room id>` of the last room of a page.
fn parse_cursor(cursor: &str) -> Result<(u64, &str), ApiError> {
    let invalid = || ApiError::new(StatusCode::BAD_REQUEST, "invalid_cursor", "not a cursor this listing gave");
    let (at, id) = cursor.split_once('.').ok_or_else(invalid)?;
    Ok((at.parse().map_err(|_| invalid())?, id))
}

/// `GET /v1/rooms`.
pub async fn list(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<ListedPage>, ApiError> {
    let (query, after) = ListQuery::checked(query)?;
    app.limit(Policy::Ip, &ip.0).await?;
    let NodePage { mut rooms, mut more } = query.here(&app, &after);
    let (answers, missing) = app.node_agent.listed_elsewhere(&query.to_query_string()).await;
    for answer in answers {
        match serde_json::from_value::<NodePage>(answer) {
            Ok(page) => {
                rooms.extend(page.rooms);
                more |= page.more;
            }
            Err(e) => tracing::warn!(error = %e, "a node answered a lobby listing with something else"),
        }
    }
    rooms.sort_by(|a, b| (a.created_at_ms, &a.id).cmp(&(b.created_at_ms, &b.id)));
    if rooms.len() > query.limit {
        more = true;
        rooms.truncate(query.limit);
    }
    let next = match rooms.last() {
        Some(last) if more => Some(format!("{}.{}", last.created_at_ms, last.id)),
        _ => None,
    };
    Ok(Json(ListedPage { rooms, next, partial: missing > 0 }))
}

/// `GET /internal/v1/rooms/listed/{nonce}` (signed, from another node):
/// this node's page of its own listed rooms.
pub async fn list_here(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    uri: Uri,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<NodePage>, ApiError> {
    let signed = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    let alone = ApiError::new(StatusCode::NOT_FOUND, "not_clustered", "this node is not in a cluster");
    super::internal::check_signed(&app, "GET", signed, &headers, b"", alone)?;
    let (query, after) = ListQuery::checked(query)?;
    Ok(Json(query.here(&app, &after)))
}
