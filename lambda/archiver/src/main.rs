//! `bootstrap` of the archiver Lambda (runtime `provided.al2023`): finished
//! games arriving on SQS (game records, or S3 notifications of record
//! objects) or uploaded to an S3 inbox are written to the PostgreSQL and S3
//! archives (see `sqs`, `message`, `inbox`, `archive`); a daily schedule
//! expires old games from the PostgreSQL archive (`handler`, the hosts'
//! `archive::retention`).
//!
//! A cold start reads the settings (`config`), opens both archives once and
//! then serves invocations from the Lambda Runtime API until the
//! environment is shut down. Handler errors, unknown events and panics are
//! reported to the Runtime API as invocation errors; the process keeps
//! serving (the `lambda` profile keeps unwinding so that the runtime can
//! catch a panic).

mod archive;
mod config;
mod error;
mod event;
mod handler;
mod inbox;
mod message;
mod sqs;

use std::process::ExitCode;
use std::sync::Arc;

use arcade_lambda_common::init_failed;
use lambda_runtime::LambdaEvent;
use serde_json::Value;

use crate::config::Settings;
use crate::handler::Archiver;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let settings = match Settings::from_env(|name| std::env::var(name).ok()) {
        Ok(settings) => settings,
        Err(problem) => return init_failed("archiver", &problem),
    };
    arcade_telemetry::init(settings.log_format);
    let archiver = match Archiver::open(&settings).await {
        Ok(archiver) => Arc::new(archiver),
        Err(problem) => return init_failed("archiver", &problem),
    };
    arcade_lambda_common::serve(move |invocation: LambdaEvent<Value>| {
        let archiver = archiver.clone();
        async move { archiver.handle(invocation).await }
    })
    .await
}
