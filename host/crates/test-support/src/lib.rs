//! What the host crates' tests and benchmarks share (as wasmtime's
//! `crates/test-util`): the real test services' addresses (PostgreSQL,
//! S3-protocol server, Redis, started by `scripts/services.sh start`), fresh
//! databases, buckets and key namespaces, seeded synthetic data (game
//! records, ticket populations, physics worlds), and a fake OIDC provider.

pub mod oidc;
pub mod records;
pub mod redis;
pub mod rng;
pub mod services;
pub mod tickets;
pub mod worlds;

/// The repository root (this crate is `host/crates/test-support`).
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(3).expect("host/crates/test-support").to_path_buf()
}
