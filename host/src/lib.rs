//! # Arcade host
//!
//! Runs game rules published as WebAssembly components, one sandboxed
//! instance per room, and serves players over HTTP and WebSocket.
pub mod api;
pub mod config;
pub mod metrics;
pub mod protocol;
pub mod registry;
pub mod room;
pub mod rooms;
pub mod sandbox;
pub mod server;
pub mod telemetry;
pub mod play;
