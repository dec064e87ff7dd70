#!/usr/bin/env bash
# Property-based API tests: schemathesis (PyPI) against the OpenAPI document
# the real `arcade` server serves at /openapi.json. Every operation, every
# phase (examples, coverage, fuzzing, and the stateful phase, which chains
# operations through the document's `links` so that it acts on the room ids,
# seat tokens, ticket ids and secrets the API itself hands out), every check.
# Any failure (a 5xx, a status code or body the document does not describe,
# a schema-valid request refused, a schema-invalid one accepted) fails the
# script.
#
#   scripts/schemathesis.sh [ARCADE_BINARY] [-- EXTRA `st run` OPTIONS]
#
# The binary defaults to $CARGO_TARGET_DIR/debug/arcade (target/ when unset);
# the example plugins are the ones arcade-test-plugins compiles for the tests
# (or ARCADE_EXAMPLES_DIR). schemathesis is installed into a venv under the
# target dir on the first run. The server runs on a port of its choosing on
# 127.0.0.1 with a temporary data dir, the example games preloaded, an admin
# token (given to schemathesis for the admin operations) and rate limits too
# roomy for one client to reach (all its requests come from one address); it
# is stopped and the data dir removed however the run ends.
#
# Two runs against the same server: the examples, coverage and fuzzing
# phases with up to ARCADE_SCHEMATHESIS_MAX_EXAMPLES cases per operation and
# phase (default 100: about 2,200 cases in 20 s here), then the stateful
# phase for ARCADE_SCHEMATHESIS_STATEFUL_SECONDS (default 90: about 1,800
# scenarios and 15,000 requests; with the account routes, 40 of the 61 links
# followed and 24 of the 40 operations reached in that time; left to itself
# it stops after a few seconds, so it gets time, not a count).
# Other knobs: ARCADE_SCHEMATHESIS_SEED (default 1: the same cases every run;
# set another to explore), ARCADE_SCHEMATHESIS_REPORT (a directory: keep the
# JUnit report and a VCR cassette of every request there),
# ARCADE_SCHEMATHESIS_DOCUMENT (an OpenAPI file to test instead of the served
# one: for editing host/src/api/openapi.json without rebuilding the server).
set -euo pipefail

# The repository root and the target dir (root, target_dir).
source "$(dirname "${BASH_SOURCE[0]}")/repo-root.sh"

SCHEMATHESIS_VERSION=4.32.5
venv="$target_dir/.schemathesis/venv"
binary="$target_dir/debug/arcade"
if [ $# -gt 0 ] && [ "$1" != -- ]; then
    binary="$1"
    shift
fi
[ "${1:-}" != -- ] || shift
extra_args=("$@")
case "$binary" in
    /*) ;;
    *) binary="$caller_dir/$binary" ;;
esac
# The example games arcade-test-plugins compiled for the tests (no second
# build); ARCADE_EXAMPLES_DIR chooses another directory.
examples="${ARCADE_EXAMPLES_DIR:-$(CARGO_TARGET_DIR="$target_dir" cargo run --locked --quiet -p arcade-test-plugins)}"
max_examples="${ARCADE_SCHEMATHESIS_MAX_EXAMPLES:-100}"
stateful_seconds="${ARCADE_SCHEMATHESIS_STATEFUL_SECONDS:-90}"
seed="${ARCADE_SCHEMATHESIS_SEED:-1}"

log() { echo "schemathesis.sh: $*" >&2; }
die() { log "$*"; exit 1; }

[ -x "$binary" ] || die "no arcade binary at $binary: cargo build -p arcade-host --bin arcade (or pass its path)"
[ -f "$examples/tic-tac-toe.wasm" ] || die "no example plugins in $examples"

if [ "$("$venv/bin/st" --version 2>/dev/null)" != "st, version $SCHEMATHESIS_VERSION" ]; then
    log "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/arcade-schemathesis.XXXXXX")"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

admin_token="schemathesis-admin-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"

# Only this script's ARCADE_* variables reach the server (it reads every one
# as config and refuses unknown keys).
server_env=(env)
while IFS='=' read -r name _; do
    case "$name" in ARCADE_*) server_env+=(-u "$name") ;; esac
done < <(env)
server_env+=(
    ARCADE_ADMIN_TOKEN="$admin_token"
    # One client, one address: limits no single client reaches.
    ARCADE_LIMITS__MAX_CONNECTIONS_PER_IP=100000
    ARCADE_RATE_LIMITS__IP_PER_MINUTE=1000000
    ARCADE_RATE_LIMITS__PLAYER_PER_MINUTE=1000000
    ARCADE_RATE_LIMITS__ROOM_PER_SECOND=100000
    ARCADE_RATE_LIMITS__WS_MESSAGES_PER_SECOND=100000
)
mkfifo "$work/stdout"
"${server_env[@]}" "$binary" serve --listen 127.0.0.1:0 --data-dir "$work/data" --preload "$examples" \
    >"$work/stdout" 2>"$work/server.log" </dev/null &
server_pid=$!
exec 3<"$work/stdout"
base=""
while IFS= read -r -t 60 line <&3; do
    case "$line" in "arcade listening on "*)
        base="${line#arcade listening on }"
        break
        ;;
    esac
done
[ -n "$base" ] || die "the server did not start; its log:
$(cat "$work/server.log")"
# A player's session for the operations that need one (rooms, tickets,
# parties, the account): a guest account of its own.
session="$(curl -sf -X POST "$base/v1/auth/guest" -H 'content-type: application/json' \
    -d "{\"device_id\":\"schemathesis-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')" ||
    die "no guest session from $base"
# Keep draining its stdout so that it never blocks on a full pipe.
cat <&3 >/dev/null &
exec 3<&-
log "server $base (pid $server_pid), schemathesis $SCHEMATHESIS_VERSION, $max_examples examples per operation, seed $seed"

# The run's configuration beyond the defaults (all checks on):
# - Positive (schema-valid) requests may be refused for the state of what
#   they name, as by default (401/403/404/409/429) and with 410 (a yanked
#   plugin version, a room whose node is gone); where a game or queue rule
#   applies that no schema can state (a game's config, seat range or move
#   rules, what a component or a UI module is, the server's configured
#   memory cap, a UI's asset budget, a queue's party size and latency limit),
#   also with that rule's 400/422, and scripts/schemathesis_hooks.py checks
#   that such a refusal names the rule.
# - The WebSocket routes answer a handshake with 101 Switching Protocols.
# - Three checks are off in the stateful phase, where they misread this API:
#   the seat tokens and ticket secrets there come from the responses (the
#   document's links), and `ignored_auth` counts a credential it did not
#   get from its configuration as generated and expects it refused (refusing
#   missing and wrong ones is checked in the other phases and in tests/all);
#   `use_after_free` expects a DELETE to remove, and the API's only such
#   resource, a ticket, stays readable with status `cancelled` once
#   cancelled (as documented); `ensure_resource_availability` expects what a
#   POST created to stay, but a party is gone once its leader leaves (a
#   POST, which the phase reaches through links it infers), and a deleted
#   account takes its parties with it (tests/all/parties.rs and the
#   identity store scenarios check both).
cat >"$work/schemathesis.toml" <<EOF
seed = $seed
workers = 1
hooks = "$root/scripts/schemathesis_hooks.py"
[cache]
enabled = false
[generation]
max-examples = $max_examples
[phases.stateful]
max-steps = 12
[phases.stateful.checks.ignored_auth]
enabled = false
[phases.stateful.checks.use_after_free]
enabled = false
[phases.stateful.checks.ensure_resource_availability]
enabled = false
[checks]
enabled = true
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", 401, 403, 404, 409, 410, 429, "5xx"]
[auth.openapi.adminToken]
bearer = "\${ARCADE_SCHEMATHESIS_ADMIN_TOKEN}"
[auth.openapi.session]
bearer = "\${ARCADE_SCHEMATHESIS_SESSION}"

[[operations]]
include-operation-id = ["createRoom", "act", "publishPlugin"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", 401, 403, 404, 409, 410, 422, 429, "5xx"]
[[operations]]
include-operation-id = "attachPluginUi"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", 401, 403, 404, 409, 410, 413, 422, 429, "5xx"]
[[operations]]
include-operation-id = "createTicket"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", 400, 401, 403, 404, 409, 410, 429, "5xx"]
[[operations]]
include-operation-id = ["roomSocket", "watchTicket"]
checks.not_a_server_error.expected-statuses = [101, "2xx", "3xx", "4xx"]
checks.positive_data_acceptance.expected-statuses = [101, "2xx", "3xx", 401, 403, 404, 409, 410, 429, "5xx"]
EOF
report_args=()
if [ -n "${ARCADE_SCHEMATHESIS_REPORT:-}" ]; then
    mkdir -p "$ARCADE_SCHEMATHESIS_REPORT"
    report_args=(--report junit,vcr --report-dir "$ARCADE_SCHEMATHESIS_REPORT")
fi

location=("$base/openapi.json")
if [ -n "${ARCADE_SCHEMATHESIS_DOCUMENT:-}" ]; then
    location=("$(cd "$caller_dir" && realpath "$ARCADE_SCHEMATHESIS_DOCUMENT")" --url "$base")
fi

export PYTHONDONTWRITEBYTECODE=1
started=$SECONDS
status=0
run_st() {
    ARCADE_SCHEMATHESIS_ADMIN_TOKEN="$admin_token" ARCADE_SCHEMATHESIS_SESSION="$session" \
        "$venv/bin/st" --config-file "$work/schemathesis.toml" run "${location[@]}" "$@" \
        "${report_args[@]}" "${extra_args[@]}" || status=1
}
run_st --phases examples,coverage,fuzzing
run_st --phases stateful --max-time "$stateful_seconds"
log "schemathesis finished in $((SECONDS - started)) s with status $status"
if ! kill -0 "$server_pid" 2>/dev/null; then
    log "the server exited during the run; its log:"
    cat "$work/server.log" >&2
    status=1
fi
exit "$status"
