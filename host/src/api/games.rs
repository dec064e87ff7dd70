//! Archived games: list (by plugin / player, paged), fetch one record,
//! download its replay file, and force an archive flush (admin).
//!
//! Who may read what: anyone gets the spectator-safe record (players,
//! outcome, the events spectators saw, the spectator's final view); the
//! full record (seed, inputs, private events, every player's final view)
//! and the replay file go to the game's players (`Authorization: Bearer
//! <their seat token>`) and admins.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;

use super::{ApiError, App, bearer, require_admin};
use arcade_archive::record::GameRecord;
use arcade_archive::{ArchiveError, ListFilter, Page, PageRequest};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    plugin: Option<String>,
    player: Option<String>,
    #[serde(default = "default_limit")]
    limit: usize,
    after: Option<String>,
}

fn default_limit() -> usize {
    50
}

impl From<ArchiveError> for ApiError {
    fn from(e: ArchiveError) -> Self {
        match e {
            ArchiveError::InvalidCursor(_) => ApiError::new(StatusCode::BAD_REQUEST, "invalid_cursor", e.to_string()),
            ArchiveError::InvalidRecord(_) => ApiError::new(StatusCode::BAD_REQUEST, "invalid_game_id", e.to_string()),
            ArchiveError::SpoolFull { .. } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "archive_full", e.to_string())
            }
            _ => ApiError::new(StatusCode::BAD_GATEWAY, "archive_unavailable", e.to_string()),
        }
    }
}

pub async fn list(
    State(app): State<Arc<App>>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Page>, ApiError> {
    let Query(query) = query?;
    let filter = ListFilter { plugin: query.plugin, player: query.player };
    let page = PageRequest { limit: query.limit, after: query.after };
    Ok(Json(app.archive.list(&filter, &page).await?))
}

async fn record(app: &App, id: &str) -> Result<GameRecord, ApiError> {
    app.archive
        .get(id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "game_not_found", format!("no archived game {id:?}")))
}

/// Whether the request may read `record` whole: one of its players (by
/// seat token) or an admin.
fn may_read_full(app: &App, headers: &HeaderMap, record: &GameRecord) -> bool {
    bearer(headers).is_some_and(|token| record.is_player_token(token)) || require_admin(app, headers).is_ok()
}

pub async fn get(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let record = record(&app, &id).await?;
    if may_read_full(&app, &headers, &record) {
        let mut full = serde_json::to_value(&record)
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
        full["visibility"] = "full".into();
        return Ok(Json(full));
    }
    Ok(Json(record.spectator_record()))
}

/// The compressed record (`arcade replay <file>` verifies it): for the
/// game's players and admins only (it holds the seed and every input).
pub async fn replay_file(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let record = record(&app, &id).await?;
    if !may_read_full(&app, &headers, &record) {
        return Err(match bearer(&headers) {
            None => ApiError::missing_token(),
            Some(_) => ApiError::new(
                StatusCode::FORBIDDEN,
                "not_a_player",
                "the replay file is for the game's players and admins; others may read the spectator record",
            ),
        });
    }
    let bytes = record.to_compressed()?;
    let disposition = format!("attachment; filename=\"{id}.arcade-game\"");
    Ok(([(CONTENT_TYPE, "application/octet-stream".to_string()), (CONTENT_DISPOSITION, disposition)], bytes))
}

pub async fn flush(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<impl IntoResponse, ApiError> {
    require_admin(&app, &headers)?;
    let Some(archiver) = &app.services.archiver else {
        return Err(ApiError::new(StatusCode::CONFLICT, "archive_disabled", "archival is not configured"));
    };
    let report = archiver.flush().await?;
    Ok(Json(serde_json::json!({ "delivered": report.delivered, "waiting": report.waiting })))
}
