#!/usr/bin/env bash
# Simulation benchmark: body-steps per second of the CPU and GPU backends
# for 1-1000 worlds of 1,000-100,000 bodies, as a markdown table (with the
# device names). Without a GPU it measures Mesa lavapipe (software Vulkan).
# Choose cases with ARCADE_SIM_BENCH_CASES=1x1000,100x1000 (worlds x bodies),
# backends with ARCADE_SIM_BENCH_BACKENDS=cpu,gpu, the timed work per case
# with ARCADE_SIM_BENCH_BODY_STEPS (default 20000000); see host/benches/sim.rs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
cargo bench --locked -p arcade-host --bench sim "$@"
