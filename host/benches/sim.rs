//! Simulation throughput: body-steps per second (bodies × steps / time, one
//! step = 4 sub-steps) of the CPU and GPU backends for batches of worlds × bodies,
//! printed as a markdown table. Each timed step is one `step_batch` over all
//! worlds, the way the room scheduler calls it, upload and read-back included.
//!
//! `scripts/bench-sim.sh`, or `cargo bench -p arcade-host --bench sim`. Settings:
//! - `ARCADE_SIM_BENCH_CASES`: e.g. `1x1000,100x1000` (worlds x bodies);
//!   default: all of [`CASES`].
//! - `ARCADE_SIM_BENCH_BACKENDS`: `cpu`, `gpu` or `cpu,gpu` (default).
//! - `ARCADE_SIM_BENCH_BODY_STEPS`: body-steps to time per case and backend
//!   (default 20 million; each case takes 2 to 200 steps).

#[path = "../tests/sim_support/mod.rs"]
mod sim_support;

use std::time::{Duration, Instant};

use arcade_host::sim::{CpuBackend, GpuBackend, SimBackend, Vec2, World, WorldConfig};

/// (worlds, bodies per world).
const CASES: [(usize, usize); 6] =
    [(1, 1_000), (1, 100_000), (100, 1_000), (1_000, 1_000), (100, 10_000), (1_000, 10_000)];
const DT: f32 = 1.0 / 30.0;

/// A falling gas with the default contact budget (the tests' `falling_gas`
/// reserves 16 records per body, too much for 10 million bodies).
fn world(seed: u64, bodies: usize) -> World {
    sim_support::gas(seed, bodies, 5.0, |bounds| WorldConfig {
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

/// One warm-up step (buffer allocation, first dispatch), then `steps` timed ones.
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

fn main() {
    // `cargo bench` passes `--bench`; this harness takes no arguments.
    let body_steps: usize =
        std::env::var("ARCADE_SIM_BENCH_BODY_STEPS").ok().map_or(20_000_000, |v| v.parse().expect("a number"));
    let wanted = env_list("ARCADE_SIM_BENCH_BACKENDS").unwrap_or_else(|| vec!["cpu".into(), "gpu".into()]);
    let mut backends: Vec<Box<dyn SimBackend>> = Vec::new();
    if wanted.iter().any(|b| b == "cpu") {
        backends.push(Box::new(CpuBackend::new()));
    }
    if wanted.iter().any(|b| b == "gpu") {
        match GpuBackend::new() {
            Ok(gpu) => backends.push(Box::new(gpu)),
            Err(error) => eprintln!("GPU backend unavailable: {error}"),
        }
    }
    for backend in &backends {
        println!("- {}: {}", backend.name(), backend.device());
    }
    println!();
    let mut header = "| worlds × bodies | steps |".to_string();
    let mut rule = "|---|---|".to_string();
    for backend in &backends {
        header += &format!(" {0} Mbody-steps/s | {0} ms/step |", backend.name());
        rule += "---|---|";
    }
    if backends.len() == 2 {
        header += " gpu/cpu |";
        rule += "---|";
    }
    println!("{header}\n{rule}");

    for (world_count, bodies_per_world) in cases() {
        let total = world_count * bodies_per_world;
        let steps = (body_steps / total).clamp(2, 200);
        let template: Vec<World> = (0..world_count).map(|i| world(i as u64, bodies_per_world)).collect();
        let mut row = format!("| {world_count} × {bodies_per_world} | {steps} |");
        let mut rates = Vec::new();
        for backend in backends.iter_mut() {
            match measure(backend.as_mut(), &template, steps) {
                Ok(m) => {
                    row += &format!(" {:.2} | {:.1} |", m.body_steps_per_second(total) / 1e6, m.millis_per_step());
                    rates.push(m.body_steps_per_second(total));
                }
                Err(error) => {
                    eprintln!("{} {world_count}×{bodies_per_world}: {error}", backend.name());
                    row += " n/a | n/a |";
                }
            }
        }
        if backends.len() == 2 {
            row += &match rates[..] {
                [cpu, gpu] => format!(" {:.2}× |", gpu / cpu),
                _ => " n/a |".to_string(),
            };
        }
        println!("{row}");
    }
}
