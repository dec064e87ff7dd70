#!/usr/bin/env bash
# Run the Arcade server on a fresh machine with embedded defaults
# (http://127.0.0.1:8080, data in ./arcade-data, admin token arcade-dev-admin)
# and the example games loaded: tic-tac-toe, connect-four, high-card-duel.
# Extra arguments go to `arcade serve` (e.g. --listen 0.0.0.0:8080, which needs
# ARCADE_ADMIN_TOKEN set: the development token is refused off loopback).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
scripts/build-plugins.sh
target_dir="${CARGO_TARGET_DIR:-target}"
exec cargo run --release -p arcade-host --bin arcade -- serve --preload "$target_dir/plugins/examples" "$@"
