//! Publishes that compile off the request path: `POST /v1/plugins` with
//! `Prefer: respond-async` answers `202 Accepted` once the upload has
//! arrived, and the component compiles in the background (an interpreter of
//! 12 to 18 MB takes seconds to tens of seconds); `GET
//! /v1/plugins/uploads/{hash}` says when the version is ready, or why it
//! failed. Same callers as publishing (the admin token, or a session with the
//! publisher or admin role). The states live on the node that received the
//! upload; the most recent finished ones are kept, and a hash the registry
//! holds is ready whatever this table remembers.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;

use super::{ApiError, App};
use crate::registry::PluginSummary;

/// Finished uploads remembered for their publishers to read.
const KEPT: usize = 64;

/// Where an upload stands.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum UploadState {
    Compiling,
    /// Published: the version's summary.
    Ready {
        plugin: PluginSummary,
    },
    /// Refused: what the synchronous publish would have answered.
    Failed {
        error: UploadError,
    },
}

#[derive(Clone, Debug, Serialize)]
pub struct UploadError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl From<&ApiError> for UploadError {
    fn from(e: &ApiError) -> Self {
        UploadError { status: e.status.as_u16(), code: e.code, message: e.message.clone() }
    }
}

/// The uploads of this node, by component hash.
#[derive(Default)]
pub struct Uploads {
    inner: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    states: HashMap<String, UploadState>,
    /// Finished hashes, oldest first (the ones forgotten first).
    finished: VecDeque<String>,
}

impl Uploads {
    /// Marks `hash` compiling; false when it already is (the first upload's
    /// compile answers for both).
    pub fn start(&self, hash: &str) -> bool {
        let mut table = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if matches!(table.states.get(hash), Some(UploadState::Compiling)) {
            return false;
        }
        table.finished.retain(|h| h != hash);
        table.states.insert(hash.to_string(), UploadState::Compiling);
        true
    }

    pub fn finish(&self, hash: &str, result: Result<PluginSummary, UploadError>) {
        let state = match result {
            Ok(plugin) => UploadState::Ready { plugin },
            Err(error) => UploadState::Failed { error },
        };
        let mut table = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        table.states.insert(hash.to_string(), state);
        table.finished.push_back(hash.to_string());
        while table.finished.len() > KEPT {
            if let Some(oldest) = table.finished.pop_front() {
                table.states.remove(&oldest);
            }
        }
    }

    fn get(&self, hash: &str) -> Option<UploadState> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).states.get(hash).cloned()
    }
}

/// The answer of `GET /v1/plugins/uploads/{hash}`.
#[derive(Serialize)]
pub struct UploadStatus {
    hash: String,
    #[serde(flatten)]
    state: UploadState,
}

/// Where the upload of `hash` stands: `/v1/plugins/uploads/{hash}`.
pub fn status_path(hash: &str) -> String {
    format!("/v1/plugins/uploads/{hash}")
}

/// `GET /v1/plugins/uploads/{hash}` (the publishers' route).
pub async fn status(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(hash): Path<String>,
) -> Result<Json<UploadStatus>, ApiError> {
    super::auth::publisher(&app, &headers)?;
    let state = match app.uploads.get(&hash) {
        Some(state) => state,
        None => match app.registry.find_by_hash(&hash) {
            Some(version) => UploadState::Ready { plugin: version.summary() },
            None => {
                let message = "no upload with this hash on this node";
                return Err(ApiError::new(StatusCode::NOT_FOUND, "upload_not_found", message));
            }
        },
    };
    Ok(Json(UploadStatus { hash, state }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_compiles_once_and_only_the_latest_finished_are_kept() {
        let uploads = Uploads::default();
        assert!(uploads.start("a"));
        assert!(!uploads.start("a"), "already compiling");
        let failed = UploadError { status: 422, code: "invalid_component", message: "no".into() };
        uploads.finish("a", Err(failed));
        assert!(matches!(uploads.get("a"), Some(UploadState::Failed { error }) if error.code == "invalid_component"));
        assert!(uploads.start("a"), "a failed upload may be tried again");
        for i in 0..KEPT + 10 {
            uploads.finish(&format!("h{i}"), Err(UploadError { status: 422, code: "x", message: String::new() }));
        }
        assert!(uploads.get("h0").is_none() && uploads.get(&format!("h{}", KEPT + 9)).is_some());
        assert!(matches!(uploads.get("a"), Some(UploadState::Compiling)), "a compiling upload is never forgotten");
    }
}
