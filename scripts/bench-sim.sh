#!/usr/bin/env bash
# Simulation benchmark (host/crates/sim/benches/sim.rs): lists the GPU adapters, says
# which backend `sim.backend = auto` picks here (a software adapter such as
# Mesa lavapipe loses to the CPU), then body-steps per second of the CPU
# backend on one thread (`cpu1`) and on every core (`cpu`) and of the GPU
# backend, for 1-1000 worlds of 1,000-100,000 bodies, as a markdown table
# with the ratios cpu/cpu1 and gpu/cpu. Without a GPU, `gpu` is lavapipe.
# Choose cases with ARCADE_SIM_BENCH_CASES=1x1000,100x1000 (worlds x bodies),
# backends with ARCADE_SIM_BENCH_BACKENDS=cpu1,cpu,gpu, the timed work per
# case with ARCADE_SIM_BENCH_BODY_STEPS (default 20000000) and the rounds
# (fastest shown) with ARCADE_SIM_BENCH_ROUNDS (default 3).
#
#   scripts/bench-sim.sh
#   ARCADE_SIM_BENCH_CASES=100x1000 ARCADE_SIM_BENCH_BACKENDS=cpu1,cpu scripts/bench-sim.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
cargo bench --locked -p arcade-sim --bench sim "$@"
