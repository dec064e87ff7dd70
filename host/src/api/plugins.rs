//! Plugin endpoints: list, versions of one plugin, publish (admin).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;

use super::{ApiError, App, require_admin};
use crate::registry::PluginSummary;

pub async fn list(State(app): State<Arc<App>>) -> Json<Vec<PluginSummary>> {
    Json(app.registry.list())
}

pub async fn versions(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
) -> Result<Json<Vec<PluginSummary>>, ApiError> {
    app.registry.resolve(&name, None)?;
    Ok(Json(app.registry.list().into_iter().filter(|p| p.name == name).collect()))
}

/// `POST /v1/plugins` with the component bytes as the body.
pub async fn publish(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    require_admin(&app, &headers)?;
    let wasm = body.map_err(|r| ApiError::body(r, "upload_too_large"))?;
    if wasm.is_empty() {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_component", "the body is empty"));
    }
    let registry = app.registry.clone();
    // Compiling takes tens of milliseconds of CPU: keep it off the async workers.
    let published = tokio::task::spawn_blocking(move || registry.publish(&wasm))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))??;
    let summary = published.version.summary();
    let status = if published.created {
        app.metrics.plugins_published.inc();
        app.lobby.open_queues(&app.registry);
        tracing::info!(plugin = %summary.name, version = %summary.version, hash = %summary.hash, "plugin published");
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(summary)))
}
