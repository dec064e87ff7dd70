//! Archived games: list (by plugin / player, paged), fetch one record,
//! download its replay file, re-run one as the spectator's frames for the
//! replay viewer, and force an archive flush (admin).
//!
//! Who may read what: anyone gets the spectator-safe record (players,
//! outcome, the events spectators saw, the spectator's final view); the
//! full record (seed, inputs, private events, every player's final view)
//! and the replay file go to the game's players (`Authorization: Bearer
//! <their seat token>`) and admins. The frames (`GET /v1/games/{id}/frames`)
//! are what a live spectator was sent, input by input, so anyone may read
//! them; a re-run costs the server a sandbox and CPU, so each request is
//! counted against the caller's address, runs off the async workers, and
//! games over `limits.max_replay_inputs` inputs are refused.

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

/// `GET /v1/games/{id}/frames`: the game re-run with its recorded build,
/// keeping the spectator's view, status and events after each input.
pub async fn frames(
    State(app): State<Arc<App>>,
    ip: super::client_ip::ClientIp,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    app.limit(arcade_cluster::ratelimit::Policy::Ip, &ip.0).await?;
    let record = record(&app, &id).await?;
    let plugin = app.registry.find_by_hash(&record.plugin.hash).ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "plugin_not_available",
            format!(
                "{}@{} (the build this game ran on) is not on this server",
                record.plugin.name, record.plugin.version
            ),
        )
    })?;
    let (runtime, max) = (app.registry.runtime().clone(), app.config.limits.max_replay_inputs);
    let (frames, record) = tokio::task::spawn_blocking(move || {
        let mut physics = arcade_sim::Stepper::cpu();
        (crate::replay::spectator_frames(&runtime, &plugin.plugin, &record, &mut physics, max), record)
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    let frames = frames.map_err(|e| match e {
        crate::replay::ReplayError::TooLong { .. } => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "replay_too_long", e.to_string())
        }
        other => ApiError::new(StatusCode::CONFLICT, "replay_failed", other.to_string()),
    })?;
    // Display names as they are now (a deleted account's pseudonym has none).
    let ids: Vec<_> = record.players.iter().filter_map(|p| arcade_identity::AccountId::parse(p)).collect();
    let names: serde_json::Map<String, serde_json::Value> = match app.identity.display_names(&ids).await {
        Ok(names) => names.into_iter().map(|(id, name)| (id.to_string(), name.into())).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "replay frames without display names");
            serde_json::Map::new()
        }
    };
    Ok(Json(serde_json::json!({
        "game_id": record.game_id,
        "plugin": record.plugin,
        "players": record.players,
        "names": names,
        "status": record.status,
        "frames": frames,
    })))
}
