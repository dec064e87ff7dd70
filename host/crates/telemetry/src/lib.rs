//! Structured logging with `tracing`: human-readable text or JSON lines,
//! filtered by `RUST_LOG` (default `info`). Spans carry the request id
//! (`x-request-id`) and the room id, so every line can be correlated.
//!
//! [`metrics`]: the Prometheus registry and every metric family of a node.

pub mod metrics;

use tracing_subscriber::EnvFilter;

use serde::{Deserialize, Serialize};

/// How log lines are written (`log_format` in the config).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
