//! # Arcade host
//!
//! Runs game rules published as WebAssembly components, one sandboxed
//! instance per room, and serves players over HTTP and WebSocket.
//!
//! - [`sandbox`]: the wasmtime engine, one store + instance per room, limits and faults;
//! - [`registry`]: published plugin versions, content-addressed on disk;
//! - [`room`] / [`room_directory`]: the room actor and the room directory;
//! - [`journal`] / [`replay`]: crash safety and deterministic re-execution;
//! - [`archive`]: finished games to the filesystem, PostgreSQL or S3;
//! - [`matchmaking`] / [`ratelimit`]: tickets and matches, request limits;
//! - [`cluster`] / [`node_agent`]: many nodes behind one Redis, and what a game
//!   server runs of it (heartbeats, matching rounds, room routing);
//! - [`sim`]: batched physics for real-time games (wgpu or CPU);
//! - [`api`] / [`protocol`]: HTTP + WebSocket and their JSON shapes;
//! - [`server`], [`config`], [`metrics`], [`telemetry`], [`play`]: running it;
//! - [`clock`]: the wall clock in Unix milliseconds, for every module above;
//! - [`whole_number`]: request-body integers written `2` or `2.0` (as the
//!   OpenAPI document's JSON Schema counts them).
#[cfg(feature = "runtime")]
pub mod api;
pub mod archive;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod journal;
pub mod matchmaking;
pub mod metrics;
pub mod names;
#[cfg(feature = "runtime")]
pub mod node_agent;
#[cfg(feature = "runtime")]
pub mod play;
pub mod protocol;
pub mod ratelimit;
#[cfg(feature = "redis")]
pub mod redis_client;
#[cfg(feature = "runtime")]
pub mod registry;
#[cfg(feature = "runtime")]
pub mod replay;
#[cfg(feature = "runtime")]
pub mod room;
#[cfg(feature = "runtime")]
pub mod room_directory;
#[cfg(feature = "runtime")]
pub mod room_runtime;
#[cfg(feature = "runtime")]
pub mod sandbox;
pub mod seed;
#[cfg(feature = "runtime")]
pub mod server;
pub mod sim;
pub mod telemetry;
#[cfg(feature = "runtime")]
pub mod ticker;
pub mod whole_number;
