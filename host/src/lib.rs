//! # Arcade host
//!
//! Runs game rules published as WebAssembly components, one sandboxed
//! instance per room, and serves players over HTTP and WebSocket. The crates
//! below it (in `host/crates/`, see docs/architecture.md) hold what does not
//! need the sandbox or the HTTP server:
//! `arcade-protocol` (wire and record types, clock, names, seeds),
//! `arcade-telemetry` (logs, metrics), `arcade-journal`, `arcade-archive`,
//! `arcade-cluster` (matchmaking, rate limits, nodes, placement) and
//! `arcade-sim` (batched physics), `arcade-identity` (accounts, sessions).
//! This crate is the game server itself:
//!
//! - [`sandbox`]: the wasmtime engine, one store + instance per room, limits and faults;
//! - [`registry`]: published plugin versions, content-addressed on disk;
//! - [`plugin_ui`]: a version's browser UI module (what is accepted as one);
//! - [`room`] / [`room_directory`] / [`room_runtime`]: the room actor, the
//!   room directory, and what every room shares (journal, archive, metrics);
//! - [`ticker`]: real-time rooms' ticks and their simulation batches;
//! - [`replay`]: deterministic re-execution of journals and archived games;
//! - [`conformance`]: `arcade plugin check`, what every plugin must pass;
//! - [`node_agent`]: what a game server runs of the cluster (heartbeats,
//!   matching rounds, room routing);
//! - [`accounts`]: the identity service opened from the config, ban reloads;
//! - [`api`]: HTTP + WebSocket;
//! - [`server`], [`config`], [`play`]: running it;
//! - [`scaffold`]: `arcade new`, a game project with a copy of the SDK.
pub mod accounts;
pub mod api;
pub mod config;
pub mod conformance;
pub mod node_agent;
pub mod play;
pub mod plugin_ui;
pub mod registry;
pub mod replay;
pub mod room;
pub mod room_directory;
pub mod room_runtime;
pub mod sandbox;
pub mod scaffold;
pub mod server;
pub mod ticker;
