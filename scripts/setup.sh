#!/usr/bin/env bash
# One-time machine setup the build and tests need, idempotent:
# the wasm32-wasip2 Rust target for plugins, and Mesa's software Vulkan
# driver (lavapipe) for the simulation's GPU backend and its tests, and,
# with --tests, Chromium plus playwright-core for the browser client's test.
#
#   scripts/setup.sh [--tests]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
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

[ "${1:-}" = --tests ] || exit 0

# The browser client's end-to-end test (tests/all/browser.rs): Debian's
# Chromium, driven headless by playwright-core from tests/browser (no browser
# download; the lockfile pins the package).
if [ ! -x /usr/bin/chromium ] || ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    browser_packages=()
    [ -x /usr/bin/chromium ] || browser_packages+=(chromium)
    command -v node >/dev/null || browser_packages+=(nodejs)
    command -v npm >/dev/null || browser_packages+=(npm)
    $sudo apt-get install -y -qq "${browser_packages[@]}" >/dev/null \
        || { $sudo apt-get update -qq && $sudo apt-get install -y -qq "${browser_packages[@]}" >/dev/null; }
fi
if [ ! -f tests/browser/node_modules/playwright-core/package.json ]; then
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
# The JavaScript SDK's toolchain (componentize-js, esbuild; jco for its
# types), which builds the JavaScript plugins (plugins/js, tests/plugins-js).
# Installed again whenever the lockfile differs from the one last installed.
if ! cmp -s sdk-js/package-lock.json sdk-js/node_modules/.arcade-installed-lock 2>/dev/null; then
    (cd sdk-js && npm ci --no-audit --no-fund --loglevel=error >/dev/null \
        && cp package-lock.json node_modules/.arcade-installed-lock)
fi
