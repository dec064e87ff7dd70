#!/usr/bin/env bash
# Cold start and size of the packaged Lambda handlers: builds them
# (scripts/build-lambda.sh), then runs the measurement tests of tests/all
# (`cold_start_to_first_response_is_measured` in lambda.rs and
# lambda_matchmaker.rs) against `<target>/lambda/arcade-{archiver,matchmaker}/bootstrap`
# with the local Runtime API and the services of scripts/services.sh
# (PostgreSQL and S3 for the archiver, Redis for the matchmaker; started if
# needed, left running). Prints each binary's size and spawn -> first /next
# and spawn -> first response.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
[[ "$TARGET_DIR" = /* ]] || TARGET_DIR="$PWD/$TARGET_DIR"

scripts/build-lambda.sh "$@" archiver matchmaker
scripts/services.sh start
eval "$(scripts/services.sh env)"
ARCADE_LAMBDA_ARCHIVER_BIN="$TARGET_DIR/lambda/arcade-archiver/bootstrap" \
ARCADE_LAMBDA_MATCHMAKER_BIN="$TARGET_DIR/lambda/arcade-matchmaker/bootstrap" \
    cargo test "$@" -p arcade-host --test all cold_start_to_first_response_is_measured -- --nocapture --test-threads 1 2>&1 |
    grep -E "^lambda |test result|panicked|FAILED"
