//! `bootstrap` of the matchmaker Lambda (runtime `provided.al2023`): the
//! matchmaking HTTP API behind API Gateway (`http`) and, on an EventBridge
//! schedule, a matching round that creates the matched rooms on the
//! registered host nodes (`handler`). Tickets, the node directory and the
//! players' rate limits are the host nodes' own, in the same Redis under
//! the same keys.
//!
//! A cold start reads the settings (`config`), connects to Redis once and
//! then serves invocations from the Lambda Runtime API until the
//! environment is shut down. Unknown events and panics are reported to the
//! Runtime API as invocation errors; the process keeps serving.

mod config;
mod event;
mod handler;
mod http;

use std::process::ExitCode;
use std::sync::Arc;

use arcade_lambda_common::init_failed;
use lambda_runtime::LambdaEvent;
use serde_json::Value;

use crate::config::Settings;
use crate::handler::Matchmaker;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let settings = match Settings::from_env(|name| std::env::var(name).ok()) {
        Ok(settings) => settings,
        Err(problem) => return init_failed("matchmaker", &problem),
    };
    arcade_telemetry::init(settings.log_format);
    let matchmaker = match Matchmaker::open(&settings).await {
        Ok(matchmaker) => Arc::new(matchmaker),
        Err(problem) => return init_failed("matchmaker", &problem),
    };
    arcade_lambda_common::serve(move |invocation: LambdaEvent<Value>| {
        let matchmaker = matchmaker.clone();
        async move { matchmaker.handle(invocation).await }
    })
    .await
}
