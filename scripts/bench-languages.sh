#!/usr/bin/env bash
# What a game costs in each rules language (issue #14): tic-tac-toe written
# in Rust, Python (sdk-py, componentize-py) and JavaScript (sdk-js,
# componentize-js), published to one release `arcade serve` (default
# config), in one run: component size, publish time (the server compiles
# the component before it answers), room creation and one action over HTTP
# (medians of 40), and the server's private memory per idle room (the
# growth of Private_Clean + Private_Dirty over 40 rooms). Prints a Markdown
# table (docs/writing-games.md shows the last one).
#
#   scripts/bench-languages.sh
#
# The harness is the ignored test `what_a_game_costs_in_each_language` in
# tests/all/language_rules.rs (a debug test build), pointed at the release
# server with ARCADE_TEST_SERVER_BIN.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/repo-root.sh"
export CARGO_TARGET_DIR="$target_dir"
cd "$root"
scripts/setup.sh --tests
scripts/services.sh start
trap 'scripts/services.sh stop' EXIT
eval "$(scripts/services.sh env)"
cargo build --locked --quiet --release -p arcade-host --bin arcade
export ARCADE_TEST_SERVER_BIN="$target_dir/release/arcade"
cargo test --locked --quiet -p arcade-host --test all -- --ignored --exact \
    language_rules::what_a_game_costs_in_each_language --nocapture 2>&1 | grep '^|'
