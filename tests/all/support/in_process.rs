//! The API in this process: the app `arcade serve` runs, built by the same
//! code ([`build_app`]) on a fresh data dir, and its public router
//! ([`api::router`]) called with `tower::ServiceExt::oneshot`, as axum's
//! `examples/testing` does. No process, no socket, no port.
//!
//! What it does not run: the accept loop (`host/src/server/connections.rs`:
//! connection caps, header-read timeout, lingering close), WebSocket
//! upgrades (they need hyper's connection), and the node agent's background
//! tasks (heartbeats, matching rounds). Tests of those start a [`Server`].
//!
//! Every call comes from [`PEER`], as the accept loop would say
//! (`ConnectInfo`), so per-address limits see an address, not `unknown`.
//! The data dir is seeded with the compiled plugins earlier apps and
//! servers left (see the parent module), and removed on drop.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use std::net::{Ipv4Addr, SocketAddr};
use tower::ServiceExt;

use super::{Api, Call, ScratchDir, StatusCode, TestPlayers, Value, examples_dir, fresh_dir, json_body};
use arcade_host::api;
use arcade_host::config::Config;
use arcade_host::server::build_app;

/// The client address of every in-process call.
pub const PEER: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 40_000);

/// An app built as `arcade serve` builds it, called through its router.
pub struct InProcess {
    router: Router,
    dir: ScratchDir,
    players: TestPlayers,
}

impl InProcess {
    /// The example games preloaded (`arcade serve --preload`).
    pub async fn start() -> InProcess {
        Self::start_with(|_| {}).await
    }

    /// No plugin at all.
    pub async fn start_empty() -> InProcess {
        Self::build(false, |_| {}).await
    }

    /// The example games preloaded, and `configure` applied to the config
    /// (what `ARCADE_*` variables do for a [`Server`]).
    pub async fn start_with(configure: impl FnOnce(&mut Config)) -> InProcess {
        Self::build(true, configure).await
    }

    async fn build(preload: bool, configure: impl FnOnce(&mut Config)) -> InProcess {
        let dir = fresh_dir("arcade-in-process");
        let data = dir.join("data");
        super::seed_compile_cache(&data);
        let mut config = Config { data_dir: data, preload_dir: preload.then(examples_dir), ..Config::default() };
        // The roomy rate limits a `Server` gets (`ROOMY_RATE_LIMITS`): rate
        // limits are tested on their own.
        config.rate_limits.ip_per_minute = 1_000_000;
        config.rate_limits.player_per_minute = 1_000_000;
        config.rate_limits.room_per_second = 100_000;
        config.rate_limits.ws_messages_per_second = 100_000;
        configure(&mut config);
        let app = build_app(config).await.unwrap_or_else(|e| panic!("building the app: {e:#}"));
        InProcess { router: api::router(app), dir, players: TestPlayers::default() }
    }
}

impl Api for InProcess {
    fn players(&self) -> &TestPlayers {
        &self.players
    }

    async fn call(&self, call: Call) -> (StatusCode, Value) {
        let mut request = Request::builder().method(call.method).uri(&call.path);
        if let Some(token) = &call.token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match call.body {
            Some((content_type, bytes)) => {
                request = request.header(CONTENT_TYPE, content_type).header(CONTENT_LENGTH, bytes.len());
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        let mut request = request.body(body).unwrap_or_else(|e| panic!("building a request to {}: {e}", call.path));
        request.extensions_mut().insert(ConnectInfo(PEER));
        let response = match self.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(infallible) => match infallible {},
        };
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("reading a response body");
        (status, json_body(&bytes))
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        // The plugins this app compiled, for the next apps and servers;
        // the dir goes with `self.dir` after the app.
        super::save_compile_cache(&self.dir.join("data"));
    }
}
