//! `bootstrap` of the archiver Lambda (runtime `provided.al2023`): finished
//! games arriving on SQS or uploaded to an S3 inbox are written to the
//! PostgreSQL and S3 archives (see `sqs`, `inbox`, `archive`).
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

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

use crate::config::Settings;
use crate::handler::Archiver;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let settings = match Settings::from_env(|name| std::env::var(name).ok()) {
        Ok(settings) => settings,
        Err(problem) => return init_failed(&problem),
    };
    arcade_host::telemetry::init(settings.log_format);
    let archiver = match Archiver::open(&settings).await {
        Ok(archiver) => Arc::new(archiver),
        Err(problem) => return init_failed(&problem),
    };
    let handler = service_fn(move |invocation: LambdaEvent<Value>| {
        let archiver = archiver.clone();
        async move { archiver.handle(invocation).await }
    });
    match lambda_runtime::run(handler).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the Lambda runtime stopped");
            ExitCode::FAILURE
        }
    }
}

/// An unusable configuration: exiting makes Lambda report `Runtime.ExitError`
/// with this line in the function's log.
fn init_failed(problem: &str) -> ExitCode {
    eprintln!("arcade archiver: cannot start: {problem}");
    ExitCode::FAILURE
}
