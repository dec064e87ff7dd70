#!/usr/bin/env bash
# Run every test on a fresh machine. The fast tier first (format, lints,
# every crate built alone with its features, unit and doc tests, the static
# infra checks), then the end-to-end tier: the crates' tests against real
# services and tests/all, which starts the real `arcade` server and talks to
# it over HTTP and WebSocket.
#
# It installs what is missing (the wasm32-wasip2 target, Mesa's software
# Vulkan, PostgreSQL/Redis/an S3-protocol server), starts the services on
# loopback for the tests, and stops them afterwards.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh --tests
# Formatting (rustfmt.toml); rustfmt ships with rustup's default profile.
if cargo fmt --version >/dev/null 2>&1; then
    cargo fmt --all --check
else
    echo "test.sh: rustfmt is not installed; skipping the format check" >&2
fi
# Lints: every target of every crate, warnings are errors (the fast tier:
# it fails before the builds and the end-to-end tests start).
if cargo clippy --version >/dev/null 2>&1; then
    cargo clippy --locked --workspace --all-targets -- -D warnings
else
    echo "test.sh: clippy is not installed; skipping the lints" >&2
fi
# Every crate builds alone (no help from another crate's features) with its
# default features, and, where it has features, with none and with each alone.
cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
for p in json.load(sys.stdin)["packages"]:
    features = sorted(f for f in p["features"] if f != "default")
    print(p["name"], "all-targets")
    if features:
        print(p["name"], "")
        for f in features:
            print(p["name"], f)
' | while read -r package features; do
    if [ "$features" = all-targets ]; then
        cargo check --locked --quiet -p "$package" --all-targets
    else
        cargo check --locked --quiet -p "$package" --no-default-features ${features:+--features "$features"}
    fi
done
# Unit tests and doc tests: no services, no server processes.
cargo test --locked --workspace --lib --bins --quiet
cargo test --locked --workspace --doc --quiet
# The Lambdas' log filter (arcade-telemetry without `env-filter`), which the
# workspace-wide run above does not build.
cargo test --locked --quiet -p arcade-telemetry --no-default-features --lib
# Static checks of infra/ (terraform, kubernetes, checkov, hadolint, monitoring,
# compose): offline; installs its tools under the target dir on the first run.
scripts/check-infra.sh

scripts/services.sh start
trap 'scripts/services.sh stop' EXIT
eval "$(scripts/services.sh env)"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"

# The Python and JavaScript SDKs' own tests and the example games' rules
# tests, natively: pytest (from the services' venv) and node --test (one
# pytest run per Python game: each game's module is named `game`).
python="$(dirname "$ARCADE_TEST_COMPONENTIZE_PY")/python"
(cd sdk-py && "$python" -m pytest -q -p no:cacheprovider)
for game in plugins/python/*/; do
    (cd plugins/python && "$python" -m pytest -q -p no:cacheprovider "$(basename "$game")")
done
(cd sdk-js && npm test --silent)

# The end-to-end tier: every integration test target (tests/all starts the
# real `arcade` binary Cargo builds for it, with the plugins
# arcade-test-plugins' build script compiles; the crates' own tests use the
# services; arcade-host's default features turn on the PostgreSQL, S3 and
# Redis tests of the crates below it).
# Two tests hold a latency to a bound: the soak test (tests/all/soak.rs,
# honest players' p99 round trip while an attacker floods the server) and
# room_runtime.rs (/health/live while 20 rooms spin). Beside the other tests
# on this 2-core machine those bounds would measure the other tests' load,
# so they run after the rest, one at a time.
timed=(soak::honest_players_are_unaffected_by_one_attacking_ip
       room_runtime::health_checks_answer_while_twenty_rooms_spin_to_their_cpu_deadline)
skips=()
for test in "${timed[@]}"; do
    skips+=(--skip "$test")
done
cargo test --locked --workspace --test '*' -- --exact "${skips[@]}"
cargo test --locked -p arcade-host --test all -- --exact --test-threads 1 "${timed[@]}"

# The served OpenAPI document against the real server: schemathesis (PyPI),
# every operation, check and phase, the stateful one included (about 2 min;
# scripts/schemathesis.sh says what it relaxes and why). It runs the debug
# `arcade` the tests built, with the example plugins arcade-test-plugins built.
cargo build --locked --quiet -p arcade-host --bin arcade
scripts/schemathesis.sh

# The Lambda handlers as deployed (profile `lambda`: LTO, stripped), each
# held to its size budget (`bootstrap_max_bytes` in its Cargo.toml).
scripts/build-lambda.sh --locked
