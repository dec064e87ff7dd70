//! End-to-end tests of the `arcade` server and CLI: every test drives the
//! real binary over HTTP and WebSocket (see `support`).
//!
//! The binary is the one Cargo built for this test target (package
//! arcade-host), the plugins come from `arcade-test-plugins`' build script:
//! `cargo test -p arcade-host --test all` needs no prebuild, only the test
//! services (`scripts/services.sh start`).

mod support;

mod accounts;
mod archive_backends;
mod bad_input;
mod browser;
mod cli;
mod cluster;
mod drain;
mod durability;
mod game_flow;
mod game_ui;
mod hardening_connections;
mod hardening_rooms;
mod hidden_information;
mod infra_metrics;
mod ladder;
mod lambda;
mod lambda_matchmaker;
mod language_rules;
mod lifecycle_bench;
mod lobby;
mod openapi;
mod parties;

mod rate_limits;
mod realtime;
mod room_runtime;
mod routes;
mod sandbox_faults;
mod soak;
mod ticket_secrets;
mod versions;
mod yank;
