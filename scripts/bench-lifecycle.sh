#!/usr/bin/env bash
# Lifecycle benchmark, side by side (issue #10, item 7): the servers built at
# the BASE_REFs against the server built from the current working tree, both in
# release, under the same load (benches/lifecycle: R rooms × P WebSocket
# players playing tic-tac-toe games back to back, default config with the
# journal and fsync on, rate limits raised). Prints a Markdown table with
# ratios new ÷ base; docs/benchmarks.md explains the columns.
#
#   scripts/bench-lifecycle.sh [BASE_REF...] [GENERATOR ARGS...]
#
# BASE_REFs default to 54d9f32 (main when issue #10 was filed, the issue's
# "today's main") and 309ac17 (main right before the speed work of #10,
# "before #10"); each base is labelled by its short hash and the table's
# ratio rows divide by the first one. Extra arguments go to
# the generator (`--help` lists them), e.g. `--shape 10x2` or
# `--server-env ARCADE_JOURNAL__FSYNC=false`.
#
# Environment: DURATION (measured seconds per run, default 30), WARMUP (2),
# ROUNDS (2: base, new, base, new at each shape), SHAPES ("1x2 50x2"),
# FLOOR=1 to run the transport floor as well (benches/lifecycle/src/bin/
# transport-floor.rs: the same HTTP and WebSocket exchanges with no game
# behind them), between the bases and the new server.
#
# How: each BASE_REF is checked out in a git worktree, target/bench-base-<hash>
# (kept for the next run), and built into the same CARGO_TARGET_DIR as the
# current tree, so registry dependencies are shared and only the workspace
# crates compile again; its `release/arcade` is copied to
# <target>/lifecycle-bench/arcade-<hash> (reused while it exists) before the
# current tree is built. Plugins are built if missing. Each run starts a
# fresh server process with a fresh data dir; results also go to
# <target>/lifecycle-bench/last-run.{md,jsonl}.
set -euo pipefail

# The repository root and the target dir (root, target_dir).
source "$(dirname "${BASH_SOURCE[0]}")/repo-root.sh"
export CARGO_TARGET_DIR="$target_dir"

# "main when #10 was filed" (the issue's "today's main": no TCP_NODELAY,
# a file per finished game) and "before #10" (main right before the speed
# work, with #9's hardening and its TCP_NODELAY on accepted sockets).
default_bases=(54d9f32 309ac1720a6455c670aeeecbd3126702bb0d8d02)
base_refs=()
while [[ $# -gt 0 && "$1" != -* ]]; do
    base_refs+=("$1")
    shift
done
[[ ${#base_refs[@]} -gt 0 ]] || base_refs=("${default_bases[@]}")

out="$target_dir/lifecycle-bench"
mkdir -p "$out"
new_bin="$out/arcade-new"
server_args=()

for base_ref in "${base_refs[@]}"; do
    base_commit="$(git rev-parse --verify "${base_ref}^{commit}")"
    short="${base_commit:0:7}"
    base_bin="$out/arcade-$short"
    if [[ ! -x "$base_bin" ]]; then
        worktree="$root/target/bench-base-$short"
        if [[ ! -e "$worktree/.git" ]]; then
            mkdir -p "$root/target"
            git worktree add --detach "$worktree" "$base_commit"
        fi
        echo "bench-lifecycle: building the base server ($base_commit) in $worktree" >&2
        (cd "$worktree" && cargo build --release --locked -p arcade-host --bin arcade)
        cp "$target_dir/release/arcade" "$base_bin.tmp"
        mv "$base_bin.tmp" "$base_bin"
        built_base=1
    fi
    server_args+=(--server "$short=$base_bin")
done

# The workspace crates of a base worktree and of this tree share their
# artifacts' names (Cargo hashes a path crate's id relative to its
# workspace), and the base's sources are newer than this tree's: Cargo
# would take the base's artifacts as up to date. Remove them first.
if [[ -n "${built_base:-}" ]]; then
    cargo metadata --no-deps --format-version 1 |
        python3 -c 'import json, sys; print(" ".join("-p " + p["name"] for p in json.load(sys.stdin)["packages"]))' |
        xargs cargo clean --release --quiet
fi

echo "bench-lifecycle: building the current tree ($(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . || echo ' + uncommitted changes'))" >&2
cargo build --release -p arcade-host -p arcade-lifecycle-bench --bin arcade --bin arcade-lifecycle-bench \
    --bin arcade-transport-floor
cp "$target_dir/release/arcade" "$new_bin.tmp"
mv "$new_bin.tmp" "$new_bin"

if [[ ! -f "$target_dir/plugins/examples/tic-tac-toe.wasm" ]]; then
    scripts/build-plugins.sh
fi

if [[ "${FLOOR:-0}" == 1 ]]; then
    server_args+=(--server "floor=$target_dir/release/arcade-transport-floor")
fi

shape_args=()
for shape in ${SHAPES:-1x2 50x2}; do
    shape_args+=(--shape "$shape")
done

"$target_dir/release/arcade-lifecycle-bench" \
    "${server_args[@]}" --server "new=$new_bin" \
    --plugins "$target_dir/plugins/examples" \
    "${shape_args[@]}" \
    --duration "${DURATION:-30}" --warmup "${WARMUP:-2}" --rounds "${ROUNDS:-2}" \
    --json "$out/last-run.jsonl" "$@" | tee "$out/last-run.md"
