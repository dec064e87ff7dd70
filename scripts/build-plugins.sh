#!/usr/bin/env bash
# Build every plugin component (example games and hostile test fixtures) for
# wasm32-wasip2 with the workspace's `plugin` profile and collect them under
#   $TARGET/plugins/examples/{tic-tac-toe,connect-four,high-card-duel,arena}.wasm
#   with each game's browser UI beside it (plugins/<game>/ui/index.js as
#   <game>.ui.js, the other files of plugins/<game>/ui/ in <game>.ui/)
#   $TARGET/plugins/fixtures/{spinner,memory-bomb,panicker,file-reader,tic-tac-toe-v2}.wasm
# where $TARGET is $CARGO_TARGET_DIR, or target/ in the repository root.
# Runs from any directory; extra arguments are passed to both cargo builds
# (e.g. --locked, --offline).
set -euo pipefail

# The repository root and the target dir (root, target_dir).
source "$(dirname "${BASH_SOURCE[0]}")/repo-root.sh"

triple=wasm32-wasip2
examples=(tic-tac-toe connect-four high-card-duel arena)
fixtures=(spinner memory-bomb panicker file-reader)

if ! rustup target list --installed | grep -qx "$triple"; then
    rustup target add "$triple" >/dev/null
fi

packages=()
for crate in "${examples[@]}" "${fixtures[@]}"; do
    packages+=(-p "$crate")
done
CARGO_TARGET_DIR="$target_dir" cargo build --target "$triple" --profile plugin "${packages[@]}" "$@"

# The v2 build of tic-tac-toe (identical rules, version 2.0.0) goes to its own
# target dir so that it does not overwrite the v1 artifact.
CARGO_TARGET_DIR="$target_dir/plugin-v2" \
    cargo build --target "$triple" --profile plugin -p tic-tac-toe --features v2 "$@"

out="$target_dir/plugins"
mkdir -p "$out/examples" "$out/fixtures"
artifact() { # <target dir> <crate>: cargo names the file after the lib, with '_'
    echo "$1/$triple/plugin/${2//-/_}.wasm"
}
for crate in "${examples[@]}"; do
    cp "$(artifact "$target_dir" "$crate")" "$out/examples/$crate.wasm"
    cp "$root/plugins/$crate/ui/index.js" "$out/examples/$crate.ui.js"
    rm -rf "$out/examples/$crate.ui"
    for asset in "$root/plugins/$crate/ui/"*; do
        if [[ "$(basename "$asset")" != index.js ]]; then
            mkdir -p "$out/examples/$crate.ui"
            cp "$asset" "$out/examples/$crate.ui/"
        fi
    done
done
for crate in "${fixtures[@]}"; do
    cp "$(artifact "$target_dir" "$crate")" "$out/fixtures/$crate.wasm"
done
cp "$(artifact "$target_dir/plugin-v2" tic-tac-toe)" "$out/fixtures/tic-tac-toe-v2.wasm"

echo "plugins written to $out"
