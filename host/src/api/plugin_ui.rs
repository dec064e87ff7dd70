//! A plugin version's browser UI module (crate::plugin_ui): attached by
//! its publisher (`PUT /v1/plugins/{name}/versions/{version}/ui`, the body
//! is the module), served to anyone (`GET` on the same path).
//!
//! Attaching is a publish: the admin token, or a publisher session that
//! owns the name (checked before the body is read, like `POST
//! /v1/plugins`); the version must exist; the module is at most
//! `limits.max_ui_bytes`. A version's UI never changes once attached (`409
//! ui_conflict`), as its rules never do.
//!
//! Serving: the module is fetched by the board frame, a sandboxed iframe
//! with an opaque origin, so it goes out with `Access-Control-Allow-Origin:
//! *` (it is public, and a module script is a CORS request), `nosniff`,
//! and its SHA-256 as the `ETag`. It runs only inside that frame: the
//! browser client never loads it into its own page.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::client_ip::ClientIp;
use super::plugins::refused_unread;
use super::{ApiError, App};

/// `PUT /v1/plugins/{name}/versions/{version}/ui`: `201` and the version's
/// summary when attached, `200` when this module was attached already.
pub async fn attach(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    Path((name, version)): Path<(String, String)>,
    request: Request,
) -> Response {
    let publisher = match super::auth::publisher(&app, request.headers()) {
        Ok(publisher) => publisher,
        Err(refused) => return refused_unread(refused),
    };
    if let Err(missing) = app.registry.exact(&name, &version) {
        return refused_unread(missing.into());
    }
    if let Some(session) = &publisher
        && let Err(refused) = app.identity.authorize_publish(session, &name, true).await
    {
        return refused_unread(refused.into());
    }
    let source = match Bytes::from_request(request, &app).await {
        Ok(source) => source,
        Err(rejection) => return ApiError::body(rejection, "ui_too_large").into_response(),
    };
    let (registry, max) = (app.registry.clone(), app.config.limits.max_ui_bytes);
    let (name_, version_) = (name.clone(), version.clone());
    // Writes (and fsyncs) the module: off the async workers.
    let attached = tokio::task::spawn_blocking(move || registry.attach_ui(&name_, &version_, &source, max)).await;
    match attached {
        Ok(Ok((summary, created))) => {
            if created {
                let ui = summary.ui.as_ref().map(|ui| ui.sha256.as_str()).unwrap_or_default();
                tracing::info!(plugin = %name, %version, ui, client = %ip.0, "UI module attached");
            }
            let status = if created { StatusCode::CREATED } else { StatusCode::OK };
            (status, Json(summary)).into_response()
        }
        Ok(Err(e)) => ApiError::from(e).into_response(),
        Err(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()).into_response(),
    }
}

/// `GET /v1/plugins/{name}/versions/{version}/ui`: the module, or `404
/// ui_not_found` for a version without one (the client shows the JSON view).
pub async fn serve(
    State(app): State<Arc<App>>,
    Path((name, version)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let found = app.registry.exact(&name, &version)?;
    let ui = found.ui().ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "ui_not_found", format!("{name}@{version} has no UI module"))
    })?;
    let etag = format!("\"{}\"", ui.sha256);
    let common = [
        (ACCESS_CONTROL_ALLOW_ORIGIN, "*".to_string()),
        (X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        (CACHE_CONTROL, "no-cache".to_string()),
        (ETAG, etag.clone()),
    ];
    if headers.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    let body = ui.source.to_string();
    Ok((common, [(CONTENT_TYPE, "text/javascript; charset=utf-8")], body).into_response())
}
