//! A plugin version's browser UI (crate::plugin_ui), file by file: its
//! module (`ui/index.js`) and static assets (`ui/<file>`), attached by its
//! publisher (`PUT /v1/plugins/{name}/versions/{version}/ui/{file}`, the
//! body is the file) and served to anyone (`GET` on the same path).
//!
//! Attaching is a publish: the admin token, or a publisher session that
//! owns the name (checked before the body is read, like `POST
//! /v1/plugins`); the version must exist; the module is at most
//! `limits.max_ui_bytes`, the assets together `max_ui_assets_bytes`. A
//! file of a version's UI never changes once attached (`409 ui_conflict`),
//! as its rules never do.
//!
//! Serving: the files are fetched by the board frame, a sandboxed iframe
//! with an opaque origin, so they go out with `Access-Control-Allow-Origin:
//! *` (public, and a module script is a CORS request), `nosniff`, and their
//! SHA-256 as the `ETag`; an asset also with a CSP that sandboxes it and
//! allows nothing, should anyone open it as a page. The module runs only
//! inside that frame: the browser client never loads it into its own page.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::client_ip::ClientIp;
use super::plugins::refused_unread;
use super::{ApiError, App};
use crate::plugin_ui::MODULE_FILE;

/// `PUT /v1/plugins/{name}/versions/{version}/ui/{file}`: `201` and the
/// version's summary when attached, `200` when this file was attached already.
pub async fn attach(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    Path((name, version, file)): Path<(String, String, String)>,
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
    let registry = app.registry.clone();
    let limits = &app.config.limits;
    let (module_max, assets_max) = (limits.max_ui_bytes, (limits.max_ui_assets_bytes, limits.max_ui_assets));
    let (name_, version_, file_) = (name.clone(), version.clone(), file.clone());
    // Writes (and fsyncs) the file: off the async workers.
    let attached = tokio::task::spawn_blocking(move || {
        if file_ == MODULE_FILE {
            registry.attach_ui(&name_, &version_, &source, module_max)
        } else {
            registry.attach_ui_asset(&name_, &version_, &file_, &source, assets_max)
        }
    })
    .await;
    match attached {
        Ok(Ok((summary, created))) => {
            if created {
                tracing::info!(plugin = %name, %version, file, client = %ip.0, "UI file attached");
            }
            let status = if created { StatusCode::CREATED } else { StatusCode::OK };
            (status, Json(summary)).into_response()
        }
        Ok(Err(e)) => ApiError::from(e).into_response(),
        Err(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()).into_response(),
    }
}

/// What an asset opened as a page may do: nothing.
const ASSET_CSP: &str = "default-src 'none'; sandbox";

/// `GET /v1/plugins/{name}/versions/{version}/ui/{file}`: the module or an
/// asset, or `404 ui_not_found` (a version without a UI: the client shows
/// the JSON view).
pub async fn serve(
    State(app): State<Arc<App>>,
    Path((name, version, file)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let found = app.registry.exact(&name, &version)?;
    let not_found =
        || ApiError::new(StatusCode::NOT_FOUND, "ui_not_found", format!("{name}@{version} has no UI {file}"));
    let (sha256, content_type, body, csp) = if file == MODULE_FILE {
        let ui = found.ui().ok_or_else(not_found)?;
        (ui.sha256.clone(), "text/javascript; charset=utf-8", Body::from(ui.source.to_string()), None)
    } else {
        let asset = found.ui_asset(&file).ok_or_else(not_found)?;
        (asset.sha256.clone(), asset.content_type, Body::from(asset.bytes.to_vec()), Some(ASSET_CSP))
    };
    let etag = format!("\"{sha256}\"");
    let mut response = if headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(CONTENT_TYPE, content_type)], body).into_response()
    };
    let headers = response.headers_mut();
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, etag);
    }
    if let Some(csp) = csp {
        headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    }
    Ok(response)
}
