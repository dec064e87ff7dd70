//! Structured logging with `tracing`: human-readable text or JSON lines,
//! filtered by `RUST_LOG` (default `info`; with the `env-filter` feature,
//! tracing's full directive syntax, else `target=level` directives). Spans carry the request id
//! (`x-request-id`) and the room id, so every line can be correlated.
//!
//! [`metrics`]: the Prometheus registry and every metric family of a node.

pub mod metrics;

use serde::{Deserialize, Serialize};

/// How log lines are written (`log_format` in the config).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

pub fn init(format: LogFormat) {
    use tracing_subscriber::{Layer, layer::SubscriberExt, util::SubscriberInitExt};
    let lines = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let lines = match format {
        LogFormat::Json => lines.json().with_current_span(true).with_span_list(false).boxed(),
        LogFormat::Text => lines.boxed(),
    };
    let _ = tracing_subscriber::registry().with(lines.with_filter(filter_from_env())).try_init();
}

/// `RUST_LOG`'s directives, or `info` when it is unset or does not parse.
#[cfg(feature = "env-filter")]
fn filter_from_env() -> tracing_subscriber::EnvFilter {
    use tracing_subscriber::EnvFilter;
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}

/// `RUST_LOG` as `target=level` directives and a default level (no regex
/// engine in the binary), or `info` when it is unset or does not parse.
#[cfg(not(feature = "env-filter"))]
fn filter_from_env() -> tracing_subscriber::filter::Targets {
    targets(std::env::var("RUST_LOG").ok().as_deref())
}

#[cfg(not(feature = "env-filter"))]
fn targets(directives: Option<&str>) -> tracing_subscriber::filter::Targets {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    directives
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
}

// Run by scripts/test.sh with `--no-default-features` (the Lambdas' build).
#[cfg(all(test, not(feature = "env-filter")))]
mod tests {
    use super::targets;
    use tracing::Level;

    #[test]
    fn rust_log_directives_set_the_default_and_per_target_levels() {
        let filter = targets(Some("warn,arcade_cluster=debug"));
        assert!(filter.would_enable("arcade_cluster::matchmaking", &Level::DEBUG));
        assert!(!filter.would_enable("arcade_cluster", &Level::TRACE));
        assert!(filter.would_enable("lambda_runtime", &Level::WARN));
        assert!(!filter.would_enable("lambda_runtime", &Level::INFO));
    }

    #[test]
    fn unset_or_unparsable_rust_log_means_info() {
        for directives in [None, Some("arcade=verbose-please")] {
            let filter = targets(directives);
            assert!(filter.would_enable("arcade_cluster", &Level::INFO), "{directives:?}");
            assert!(!filter.would_enable("arcade_cluster", &Level::DEBUG), "{directives:?}");
        }
    }
}
