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
//! node. In a cluster each node lists the rooms it runs.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
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

/// One listed room.
#[derive(Serialize)]
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
    let Query(query) = query?;
    if !(1..=MAX_LIMIT).contains(&query.limit) {
        let message = format!("limit is 1 to {MAX_LIMIT}");
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_limit", message));
    }
    let after = query.after.as_deref().map(parse_cursor).transpose()?;
    app.limit(Policy::Ip, &ip.0).await?;
    let page = app.rooms.listed(query.game.as_deref(), query.state, after, query.limit);
    let next = match page.rooms.last() {
        Some(last) if page.more => Some(format!("{}.{}", last.lobby.created_at_ms, last.id)),
        _ => None,
    };
    Ok(Json(ListedPage { rooms: page.rooms.iter().map(ListedRoom::from).collect(), next }))
}
