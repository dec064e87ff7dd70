#!/usr/bin/env bash
# One-time machine setup the build and tests need, idempotent:
# the wasm32-wasip2 Rust target for plugins, and Mesa's software Vulkan
# driver (lavapipe) for the simulation's GPU backend and its tests.
set -euo pipefail
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
fi

# Lavapipe ICD and the Vulkan loader; `apt-get update` only if the install
# fails without it (stale or empty package lists).
if ! compgen -G '/usr/share/vulkan/icd.d/lvp_icd*.json' >/dev/null \
    || ! compgen -G '/usr/lib/*/libvulkan.so.1' >/dev/null; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    vulkan_packages=(mesa-vulkan-drivers libvulkan1)
    $sudo apt-get install -y -q "${vulkan_packages[@]}" \
        || { $sudo apt-get update -q && $sudo apt-get install -y -q "${vulkan_packages[@]}"; }
fi
