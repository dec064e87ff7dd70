#!/usr/bin/env bash
# Cold start and size of the packaged Lambda handlers: builds them
# (scripts/build-lambda.sh), then runs the measurement test of tests/all
# against `<target>/lambda/arcade-archiver/bootstrap` with the local Runtime API and
# the services of scripts/services.sh (started if needed, left running).
# Prints binary size and spawn -> first /next and spawn -> first response.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
[[ "$TARGET_DIR" = /* ]] || TARGET_DIR="$PWD/$TARGET_DIR"

scripts/build-lambda.sh "$@" archiver
scripts/services.sh start
eval "$(scripts/services.sh env)"
ARCADE_LAMBDA_ARCHIVER_BIN="$TARGET_DIR/lambda/arcade-archiver/bootstrap" \
    cargo test "$@" -p arcade-tests --test all lambda::cold_start -- --nocapture --test-threads 1 2>&1 |
    grep -E "^lambda |test result|panicked|FAILED"
