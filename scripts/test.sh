#!/usr/bin/env bash
# Run every test on a fresh machine: SDK and host unit tests, each plugin's
# rules tests (native), and the end-to-end tests in tests/ that start the
# real `arcade` server and talk to it over HTTP and WebSocket.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
scripts/build-plugins.sh --locked
cargo build --locked -p arcade-host --bin arcade
cargo test --locked --workspace
