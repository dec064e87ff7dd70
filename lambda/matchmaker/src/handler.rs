//! The function: what a cold start opens once, and how each invocation is
//! dispatched to the HTTP API or to a matching round.

use std::sync::Arc;
use std::time::Duration;

use arcade_cluster::matchmaking::{self, StoreOptions, open_ticket_store};
use arcade_cluster::ratelimit::RateLimiter;
use arcade_cluster::{HttpRoomProvisioner, MatchDriver, NodeTrust, RoundReport, open_node_directory};
use arcade_protocol::clock::now_ms;
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};

use crate::config::Settings;
use crate::event::Event;
use crate::http;
use arcade_lambda_common::EventError;

/// How long a node may take to create a room (as the host nodes allow).
const PROVISION_TIMEOUT: Duration = Duration::from_secs(5);

/// State shared by the invocations of one execution environment.
pub struct Matchmaker {
    pub matchmaker: Arc<matchmaking::Matchmaker>,
    /// Keeps the matches no node could take yet for the next round of this
    /// execution environment.
    driver: MatchDriver,
    pub limiter: RateLimiter,
    pub default_mode: String,
    pub default_region: String,
    /// The authorizer claim naming the player who queues.
    pub player_claim: String,
}

impl Matchmaker {
    /// Connects to Redis (ticket store, node directory, rate limiter,
    /// concurrently: this is cold-start time) under the host nodes' keys.
    pub async fn open(settings: &Settings) -> Result<Matchmaker, String> {
        let url = settings.redis_url.as_str();
        let store_options = StoreOptions { namespace: settings.tickets_namespace(), ..StoreOptions::default() };
        let (nodes_namespace, limits_namespace) = (settings.nodes_namespace(), settings.rate_limit_namespace());
        let trust = NodeTrust { key: settings.cluster_key.clone(), advertise: settings.advertise.clone() };
        let (store, nodes, limiter) = tokio::join!(
            open_ticket_store(url, store_options),
            open_node_directory(url, &nodes_namespace, Some(trust)),
            RateLimiter::redis(url, &limits_namespace, settings.rate_limits.clone()),
        );
        let store = store.map_err(|e| format!("ticket store: {e}"))?;
        let nodes = nodes.map_err(|e| format!("node directory: {e}"))?;
        let limiter = limiter.map_err(|e| format!("rate limiter: {e}"))?;
        let matchmaker = matchmaking::Matchmaker::new(store, settings.queues.clone()).map_err(|e| e.to_string())?;
        let matchmaker = Arc::new(matchmaker);
        let provisioner = Arc::new(HttpRoomProvisioner::new(PROVISION_TIMEOUT, settings.cluster_key.clone()));
        Ok(Matchmaker {
            driver: MatchDriver::new(matchmaker.clone(), nodes, provisioner)
                .with_seat_attempts(settings.max_seat_attempts)
                .with_region_fallback(settings.region_fallback.clone()),
            matchmaker,
            limiter,
            default_mode: settings.default_mode.clone(),
            default_region: settings.default_region.clone(),
            player_claim: settings.player_claim.clone(),
        })
    }

    /// One invocation. Errors are logged and posted by the runtime.
    pub async fn handle(&self, invocation: LambdaEvent<Value>) -> Result<Value, EventError> {
        match Event::classify(invocation.payload)? {
            Event::Http(request) => {
                let answer = http::handle(self, &request).await;
                Ok(answer.into_response(request.format))
            }
            Event::Scheduled => {
                let report = self.driver.run_round(now_ms()).await;
                for error in &report.errors {
                    tracing::warn!(%error, "matching round");
                }
                Ok(report_json(&report))
            }
        }
    }
}

/// What a scheduled round answers.
fn report_json(report: &RoundReport) -> Value {
    json!({
        "waiting": report.waiting,
        "matched": report.matched,
        "seated": report.seated,
        "expired": report.expired,
        "unseated": report.unseated,
        "abandoned": report.abandoned,
        "errors": report.errors,
    })
}
