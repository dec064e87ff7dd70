#!/usr/bin/env bash
# Build the Lambda handlers (lambda/<name>/, crate arcade-lambda-<name>) for
# the `provided.al2023` runtime: `cargo build --profile lambda` (small: opt
# "z", LTO, stripped), then the executable is packaged under the function's
# name, arcade-<name> (what infra/terraform deploys):
#
#   <target>/lambda/arcade-<name>/bootstrap       the function's entry point
#   <target>/lambda/arcade-<name>/bootstrap.zip   the deployment package
#
# for this machine's architecture and libc (glibc; al2023 has glibc 2.34).
# Each handler's `bootstrap` has a size budget, `[package.metadata.arcade]
# bootstrap_max_bytes` in its Cargo.toml (their sizes when #11 was filed:
# a larger binary starts colder); a build over it fails.
# Cross builds (arm64/Graviton, or musl) use cargo-lambda or cargo-zigbuild:
# see docs/serverless.md.
#
#   scripts/build-lambda.sh [--locked] [name...]   (default: every lambda/*/ with a src/main.rs)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TARGET_DIR="${CARGO_TARGET_DIR:-target}"

cargo_flags=()
names=()
for arg in "$@"; do
    case "$arg" in
    --locked | --frozen | --offline) cargo_flags+=("$arg") ;;
    -*) echo "usage: $0 [--locked] [name...]" >&2; exit 2 ;;
    *) names+=("$arg") ;;
    esac
done
if [ ${#names[@]} -eq 0 ]; then
    # Every handler binary (lambda/common is their shared library).
    for main in lambda/*/src/main.rs; do names+=("$(basename "$(dirname "$(dirname "$main")")")"); done
fi

# "<crate> <budget>" per handler crate that declares one.
budgets="$(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
for p in json.load(sys.stdin)["packages"]:
    budget = ((p.get("metadata") or {}).get("arcade") or {}).get("bootstrap_max_bytes")
    if budget:
        print(p["name"], budget)
')"

over=()
for name in "${names[@]}"; do
    crate="arcade-lambda-$name"
    # No dependency check here: each handler depends on the crate it runs
    # (archiver → arcade-archive, matchmaker → arcade-cluster), which do not
    # depend on wasmtime, wgpu or axum; the compiler keeps it so.
    cargo build "${cargo_flags[@]}" -p "$crate" --profile lambda
    out="$TARGET_DIR/lambda/arcade-$name"
    mkdir -p "$out"
    cp "$TARGET_DIR/lambda/$crate" "$out/bootstrap"
    rm -f "$out/bootstrap.zip"
    if command -v zip >/dev/null; then
        (cd "$out" && zip -q -X bootstrap.zip bootstrap)
    else
        python3 - "$out" <<'EOF'
import os, stat, sys, zipfile
out = sys.argv[1]
info = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
info.external_attr = (stat.S_IFREG | 0o755) << 16  # Lambda runs it: keep it executable
info.compress_type = zipfile.ZIP_DEFLATED
with open(os.path.join(out, "bootstrap"), "rb") as f, zipfile.ZipFile(os.path.join(out, "bootstrap.zip"), "w") as z:
    z.writestr(info, f.read())
EOF
    fi
    size="$(stat -c %s "$out/bootstrap")"
    budget="$(awk -v crate="$crate" '$1 == crate { print $2 }' <<<"$budgets")"
    echo "build-lambda: $out/bootstrap $size bytes (budget ${budget:-none}), bootstrap.zip $(stat -c %s "$out/bootstrap.zip") bytes"
    if [ -n "$budget" ] && [ "$size" -gt "$budget" ]; then
        over+=("$crate: $size bytes > $budget")
    fi
done
if [ ${#over[@]} -gt 0 ]; then
    printf 'build-lambda: over its size budget (bootstrap_max_bytes): %s\n' "${over[@]}" >&2
    exit 1
fi
