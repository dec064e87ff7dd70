//! Lifecycle benchmark of the Arcade server (issue #10, item 7): rooms of
//! WebSocket players playing short games back to back — create the room,
//! connect, random legal moves, finish, next game — against a real
//! `arcade serve` process, reporting games/s, moves/s, action round trips
//! and the server's CPU time per game and per move.
//!
//! - [`server`] starts and measures the `arcade serve` child process;
//! - [`load`] is the load generator;
//! - [`report`] pools runs into the comparison table.
//!
//! The binary (`src/main.rs`) runs several server builds side by side;
//! `scripts/bench-lifecycle.sh` builds a baseline commit and the current
//! tree and calls it. See docs/benchmarks.md.

pub mod load;
pub mod report;
pub mod server;

pub use load::{LoadConfig, RunResult, Shape};
pub use server::{ServerOptions, ServerProcess};

/// The workspace's cargo target dir (`$CARGO_TARGET_DIR`, relative to the
/// workspace when relative; `<workspace>/target` without it).
pub fn target_dir() -> std::path::PathBuf {
    use std::path::{Path, PathBuf};
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        Some(dir) => workspace.join(dir),
        None => workspace.join("target"),
    }
}

use std::sync::Arc;

/// Starts a server, runs the load against it, stops the server.
pub async fn run_against(
    options: &ServerOptions,
    config: impl FnOnce(&str) -> LoadConfig,
) -> anyhow::Result<RunResult> {
    let start = options.clone();
    let server = Arc::new(tokio::task::spawn_blocking(move || ServerProcess::start(&start)).await??);
    let config = config(&server.base);
    let probe = {
        let server = server.clone();
        Arc::new(move || server.cpu_time()) as load::CpuProbe
    };
    let result = load::run(&config, probe).await;
    drop(server);
    result
}
