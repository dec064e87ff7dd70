//! Plugin endpoints: list, versions of one plugin, publish and yank (admin).
//!
//! Publishing checks the admin token, or a session with the `publisher` (or
//! `admin`) role, before it reads a byte of the upload (a stranger's upload
//! is refused 401/403 while it is still being sent); a publisher may
//! publish a name nobody has published (and then owns it) or a name it
//! owns (403 `not_owner` otherwise, decided once the component names
//! itself, before anything is kept). It
//! then takes one of `limits.max_concurrent_publishes` places (none free:
//! 503 `publish_busy`), then reads the body up to `max_upload_bytes` within
//! [`UPLOAD_TIMEOUT`]. With `Prefer: respond-async` it answers `202` once
//! the body has arrived and compiles in the background ([`uploads`]).
//!
//! Yanking (`POST /v1/plugins/{name}/versions/{version}/yank`, undone by
//! `DELETE` on the same path) stops new rooms on a version: rooms asking for
//! it get `410 plugin_version_yanked`, "latest" and the matchmaking queues
//! move to the highest version not yanked (`410 plugin_yanked` when none is
//! left), rooms already on it finish, and its bytes stay for replays. Like a
//! publish, it applies to the node that receives it, and survives restarts.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::http::header::{CONNECTION, LOCATION, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::auth::context;
use super::client_ip::ClientIp;
use super::{ApiError, App, require_admin, uploads};
use crate::registry::PluginSummary;
use arcade_identity::Session;

pub async fn list(State(app): State<Arc<App>>) -> Json<Vec<PluginSummary>> {
    Json(app.registry.list())
}

pub async fn versions(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
) -> Result<Json<Vec<PluginSummary>>, ApiError> {
    Ok(Json(app.registry.versions(&name)?))
}

/// `POST /v1/plugins/{name}/versions/{version}/yank` (admin).
pub async fn yank(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<PluginSummary>, ApiError> {
    set_yanked(&app, &headers, name, version, true).await
}

/// `DELETE /v1/plugins/{name}/versions/{version}/yank` (admin): un-yank.
pub async fn unyank(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<PluginSummary>, ApiError> {
    set_yanked(&app, &headers, name, version, false).await
}

async fn set_yanked(
    app: &Arc<App>,
    headers: &HeaderMap,
    name: String,
    version: String,
    yanked: bool,
) -> Result<Json<PluginSummary>, ApiError> {
    require_admin(app, headers)?;
    let registry = app.registry.clone();
    // Writes (and fsyncs) the marker file: off the async workers.
    let (summary, changed) =
        tokio::task::spawn_blocking(move || registry.set_yanked(&name, &version, yanked))
            .await
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))??;
    if changed {
        // The queues' players per match follow the latest version not yanked.
        app.node_agent.open_queues(&app.registry);
        let action = if yanked { "yanked" } else { "un-yanked" };
        tracing::warn!(plugin = %summary.name, version = %summary.version, hash = %summary.hash, "plugin version {action}");
    }
    Ok(Json(summary))
}

/// RFC 7240's request header (`Prefer: respond-async`).
const PREFER: HeaderName = HeaderName::from_static("prefer");

/// How long an upload may take to arrive once it holds a publishing place.
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// `POST /v1/plugins` with the component bytes as the body.
pub async fn publish(State(app): State<Arc<App>>, ip: ClientIp, request: Request) -> Response {
    let publisher = match super::auth::publisher(&app, request.headers()) {
        Ok(publisher) => publisher,
        Err(refused) => return refused_unread(refused),
    };
    let memory = match memory_limit(request.uri()) {
        Ok(memory) => memory,
        Err(refused) => return refused_unread(refused),
    };
    let Ok(place) = app.publishes.clone().try_acquire_owned() else {
        let mut busy = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "publish_busy",
            format!("{} uploads are being published; retry shortly", app.config.limits.max_concurrent_publishes),
        );
        busy.header = Some((RETRY_AFTER, 1.into()));
        return refused_unread(busy);
    };
    let respond_async = request
        .headers()
        .get_all(PREFER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|p| p.trim().eq_ignore_ascii_case("respond-async")));
    let wasm = match receive(&app, request).await {
        Ok(wasm) => wasm,
        Err(e) => return e.into_response(),
    };
    if !respond_async {
        let published = store(&app, wasm, publisher, memory, ip).await;
        drop(place);
        return match published {
            Ok((status, summary)) => (status, Json(summary)).into_response(),
            Err(e) => e.into_response(),
        };
    }
    // `Prefer: respond-async`: the upload has arrived; it compiles (holding
    // its publishing place) while the publisher polls the status route.
    let hash = crate::registry::sha256_hex(&wasm);
    if app.uploads.start(&hash) {
        let (app, hash) = (app.clone(), hash.clone());
        tokio::spawn(async move {
            let published = store(&app, wasm, publisher, memory, ip).await;
            app.uploads.finish(&hash, published.map(|(_, summary)| summary).map_err(|e| (&e).into()));
            drop(place);
        });
    }
    let location = uploads::status_path(&hash);
    let mut response =
        (StatusCode::ACCEPTED, Json(json!({ "hash": hash, "state": "compiling", "status_url": location })))
            .into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, location);
    }
    response
}

/// `?memory_limit_mib=N`: the linear memory the publisher declares for each
/// of the plugin's rooms (1 MiB up to the server's `max_room_memory_bytes`,
/// which the registry checks); absent, the server's default.
fn memory_limit(uri: &axum::http::Uri) -> Result<Option<usize>, ApiError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Params {
        memory_limit_mib: Option<u32>,
    }
    let invalid = |why: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_memory_limit", why);
    let Query(params) = Query::<Params>::try_from_uri(uri).map_err(|e| invalid(e.body_text()))?;
    match params.memory_limit_mib {
        None => Ok(None),
        Some(0) => Err(invalid("memory_limit_mib must be at least 1".into())),
        Some(mib) => Ok(Some(mib as usize * (1 << 20))),
    }
}

/// The answer to a request refused with its body unread: the connection
/// closes after it, and says so (`Connection: close`), so that the client
/// does not send its next request on it.
pub fn refused_unread(refusal: ApiError) -> Response {
    let mut response = refusal.into_response();
    response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Reads the upload (within [`UPLOAD_TIMEOUT`]).
async fn receive(app: &Arc<App>, request: Request) -> Result<Bytes, ApiError> {
    let wasm = match tokio::time::timeout(UPLOAD_TIMEOUT, Bytes::from_request(request, app)).await {
        Ok(body) => body.map_err(|r| ApiError::body(r, "upload_too_large"))?,
        Err(_) => {
            let message = format!("the upload did not arrive within {} s", UPLOAD_TIMEOUT.as_secs());
            return Err(ApiError::new(StatusCode::REQUEST_TIMEOUT, "upload_timeout", message));
        }
    };
    if wasm.is_empty() {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_component", "the body is empty"));
    }
    Ok(wasm)
}

/// Compiles, checks and keeps an upload: `201` and its summary when the
/// version is new, `200` when these bytes were published already.
async fn store(
    app: &Arc<App>,
    wasm: Bytes,
    publisher: Option<Session>,
    memory: Option<usize>,
    ip: ClientIp,
) -> Result<(StatusCode, PluginSummary), ApiError> {
    let (registry, identity, runtime) = (app.registry.clone(), app.identity.clone(), tokio::runtime::Handle::current());
    let by = publisher.clone();
    // Compiling takes from tens of milliseconds (Rust) to tens of seconds
    // (an interpreter) of CPU: keep it off the async workers (this blocking
    // thread may wait for the ownership check).
    let published = tokio::task::spawn_blocking(move || {
        registry.publish_as(&wasm, memory, |name, exists| match &by {
            None => Ok(()),
            Some(session) => runtime.block_on(identity.authorize_publish(session, name, exists)),
        })
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))??;
    let summary = published.version.summary();
    let status = if published.created {
        app.metrics.plugins_published.inc();
        app.node_agent.open_queues(&app.registry);
        tracing::info!(plugin = %summary.name, version = %summary.version, hash = %summary.hash, "plugin published");
        let account = publisher.as_ref().map(|s| &s.account);
        let context = context(&ip, account);
        app.identity.record_publish(account, &summary.name, &summary.version, &context).await;
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, summary))
}
