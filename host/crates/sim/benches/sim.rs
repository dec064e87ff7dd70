//! Simulation throughput: body-steps per second (bodies × steps / time, one
//! step = 4 sub-steps) of the CPU backend on one thread and on every core,
//! and of the GPU backend, for batches of worlds × bodies, printed as
//! markdown. Each timed step is one `step_batch` over all worlds, the way
//! the room scheduler calls it (on the GPU: upload and read-back included).
//!
//! First it lists the adapters found and what `sim.backend = auto` picks on
//! this machine (`sim::select_backend`, the server's own code path: with
//! only a software adapter such as Mesa lavapipe, the CPU). The table's
//! ratios are `cpu/cpu1` (all threads against one) and `gpu/cpu` (the GPU
//! against the CPU backend on all threads, the alternative `auto` weighs).
//!
//! `scripts/bench-sim.sh`, or `cargo bench -p arcade-sim --bench sim`. Settings:
//! - `ARCADE_SIM_BENCH_CASES`: e.g. `1x1000,100x1000` (worlds x bodies);
//!   default: all of [`CASES`].
//! - `ARCADE_SIM_BENCH_BACKENDS`: any of `cpu1` (one thread), `cpu` (every
//!   core), `gpu` (the adapter `GpuBackend::new` opens, software or not);
//!   default `cpu1,cpu,gpu`.
//! - `ARCADE_SIM_BENCH_BODY_STEPS`: body-steps to time per case, backend and
//!   round (default 20 million; each case takes 2 to 200 steps).
//! - `ARCADE_SIM_BENCH_ROUNDS`: rounds per case (default 3). The backends
//!   take turns, round after round, and each one's fastest round is shown:
//!   on a shared machine other processes' bursts then slow every backend
//!   alike or none, rather than skewing the ratios. The load average at the
//!   start is printed for the same reason.

use std::time::{Duration, Instant};

use arcade_sim::{
    BackendPreference, CpuBackend, GpuBackend, SimBackend, Vec2, World, WorldConfig, default_threads,
    describe_adapters, select_backend,
};

/// (worlds, bodies per world).
const CASES: [(usize, usize); 6] =
    [(1, 1_000), (1, 100_000), (100, 1_000), (1_000, 1_000), (100, 10_000), (1_000, 10_000)];
const DT: f32 = 1.0 / 30.0;

/// A falling gas with the default contact budget (the tests' `falling_gas`
/// reserves 16 records per body, too much for 10 million bodies).
fn world(seed: u64, bodies: usize) -> World {
    arcade_test_support::worlds::gas(seed, bodies, 5.0, |bounds| WorldConfig {
        gravity: Vec2::new(0.0, -9.81),
        ..WorldConfig::new(bounds)
    })
}

struct Measurement {
    steps: usize,
    elapsed: Duration,
}

impl Measurement {
    fn body_steps_per_second(&self, bodies: usize) -> f64 {
        (bodies * self.steps) as f64 / self.elapsed.as_secs_f64()
    }

    fn millis_per_step(&self) -> f64 {
        self.elapsed.as_secs_f64() * 1e3 / self.steps as f64
    }
}

/// One warm-up step (buffer allocation, first dispatch, pool start), then
/// `steps` timed ones.
fn measure(backend: &mut dyn SimBackend, template: &[World], steps: usize) -> Result<Measurement, String> {
    let mut worlds = template.to_vec();
    let mut batch: Vec<&mut World> = worlds.iter_mut().collect();
    backend.step_batch(&mut batch, DT).map_err(|e| e.to_string())?;
    let started = Instant::now();
    for _ in 0..steps {
        backend.step_batch(&mut batch, DT).map_err(|e| e.to_string())?;
    }
    Ok(Measurement { steps, elapsed: started.elapsed() })
}

fn env_list(name: &str) -> Option<Vec<String>> {
    std::env::var(name)
        .ok()
        .map(|value| value.split(',').map(|item| item.trim().to_lowercase()).filter(|item| !item.is_empty()).collect())
}

fn cases() -> Vec<(usize, usize)> {
    let Some(list) = env_list("ARCADE_SIM_BENCH_CASES") else { return CASES.to_vec() };
    list.iter()
        .map(|case| {
            let (worlds, bodies) = case.split_once('x').unwrap_or_else(|| panic!("case {case:?} is not WORLDSxBODIES"));
            (worlds.parse().expect("worlds"), bodies.parse().expect("bodies"))
        })
        .collect()
}

/// A backend under test and the label of its table columns.
struct Contender {
    label: &'static str,
    backend: Box<dyn SimBackend>,
}

fn contenders(wanted: &[String]) -> Vec<Contender> {
    let mut contenders = Vec::new();
    for label in ["cpu1", "cpu", "gpu"] {
        if !wanted.iter().any(|w| w == label) {
            continue;
        }
        let backend: Box<dyn SimBackend> = match label {
            "cpu1" => Box::new(CpuBackend::with_threads(1)),
            "cpu" => Box::new(CpuBackend::new()),
            _ => match GpuBackend::new() {
                Ok(gpu) => Box::new(gpu),
                Err(error) => {
                    eprintln!("GPU backend unavailable: {error}");
                    continue;
                }
            },
        };
        contenders.push(Contender { label, backend });
    }
    contenders
}

fn main() {
    // `cargo bench` passes `--bench`; this harness takes no arguments.
    let body_steps: usize =
        std::env::var("ARCADE_SIM_BENCH_BODY_STEPS").ok().map_or(20_000_000, |v| v.parse().expect("a number"));
    let rounds: usize = std::env::var("ARCADE_SIM_BENCH_ROUNDS").ok().map_or(3, |v| v.parse().expect("a number"));
    let wanted =
        env_list("ARCADE_SIM_BENCH_BACKENDS").unwrap_or_else(|| vec!["cpu1".into(), "cpu".into(), "gpu".into()]);

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    println!("- cores: {}; load average at start: {load}; fastest of {rounds} rounds", default_threads());
    let adapters = describe_adapters();
    if adapters.is_empty() {
        println!("- adapters: none");
    }
    for adapter in adapters {
        println!("- adapter: {adapter}");
    }
    let auto = select_backend(BackendPreference::Auto);
    println!("- `sim.backend = auto` picks: **{}** — {}", auto.name(), auto.device());
    drop(auto);

    let mut contenders = contenders(&wanted);
    for contender in &contenders {
        println!("- {}: {}", contender.label, contender.backend.device());
    }
    println!();
    let position = |label: &str| contenders.iter().position(|c| c.label == label);
    // (numerator, denominator) column pairs shown as ratios.
    let ratios: Vec<(usize, usize)> =
        [("cpu", "cpu1"), ("gpu", "cpu")].iter().filter_map(|&(a, b)| Some((position(a)?, position(b)?))).collect();
    let mut header = "| worlds × bodies | steps |".to_string();
    let mut rule = "|---|---|".to_string();
    for contender in &contenders {
        header += &format!(" {0} Mbody-steps/s | {0} ms/step |", contender.label);
        rule += "---|---|";
    }
    for &(a, b) in &ratios {
        header += &format!(" {}/{} |", contenders[a].label, contenders[b].label);
        rule += "---|";
    }
    println!("{header}\n{rule}");

    for (world_count, bodies_per_world) in cases() {
        let total = world_count * bodies_per_world;
        let steps = (body_steps / total).clamp(2, 200);
        let template: Vec<World> = (0..world_count).map(|i| world(i as u64, bodies_per_world)).collect();
        let mut row = format!("| {world_count} × {bodies_per_world} | {steps} |");
        // Each contender's fastest round; `None` once one of its rounds failed.
        let mut best: Vec<Option<Measurement>> = contenders.iter().map(|_| None).collect();
        let mut failed = vec![false; contenders.len()];
        for _ in 0..rounds.max(1) {
            for (index, contender) in contenders.iter_mut().enumerate() {
                if failed[index] {
                    continue;
                }
                match measure(contender.backend.as_mut(), &template, steps) {
                    Ok(m) if best[index].as_ref().is_none_or(|b| m.elapsed < b.elapsed) => best[index] = Some(m),
                    Ok(_) => {}
                    Err(error) => {
                        eprintln!("{} {world_count}×{bodies_per_world}: {error}", contender.label);
                        (failed[index], best[index]) = (true, None);
                    }
                }
            }
        }
        let mut rates: Vec<Option<f64>> = Vec::new();
        for m in &best {
            match m {
                Some(m) => {
                    row += &format!(" {:.2} | {:.1} |", m.body_steps_per_second(total) / 1e6, m.millis_per_step());
                    rates.push(Some(m.body_steps_per_second(total)));
                }
                None => {
                    row += " n/a | n/a |";
                    rates.push(None);
                }
            }
        }
        for &(a, b) in &ratios {
            row += &match (rates[a], rates[b]) {
                (Some(a), Some(b)) => format!(" {:.2}× |", a / b),
                _ => " n/a |".to_string(),
            };
        }
        println!("{row}");
    }
}
