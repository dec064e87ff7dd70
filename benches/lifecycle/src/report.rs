//! Results: one line per run while the benchmark goes, then a Markdown table
//! per shape with every server's runs pooled (totals over all rounds; round
//! trip quantiles over all samples) and, for every server after the first,
//! a ratio row `LABEL ÷ FIRST` (below 1 for costs and round trips is
//! better, above 1 for games/s and moves/s). Each run is also available as
//! a JSON object for `--json`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use crate::load::{RunResult, Shape, per, quantile};

/// One run, labelled.
#[derive(Clone, Debug)]
pub struct Run {
    pub label: String,
    pub shape: Shape,
    pub round: usize,
    pub result: RunResult,
}

/// Every run of one server at one shape, pooled.
#[derive(Clone, Debug, Default)]
pub struct Pooled {
    pub runs: usize,
    pub window: Duration,
    pub games: u64,
    pub moves: u64,
    pub server_cpu: Option<Duration>,
    pub server_kernel_cpu: Option<Duration>,
    pub round_trips_us: Vec<u32>,
    pub errors: u64,
}

impl Pooled {
    pub fn of<'a>(runs: impl IntoIterator<Item = &'a RunResult>) -> Pooled {
        let mut pooled =
            Pooled { server_cpu: Some(Duration::ZERO), server_kernel_cpu: Some(Duration::ZERO), ..Pooled::default() };
        for r in runs {
            pooled.runs += 1;
            pooled.window += r.window;
            pooled.games += r.games;
            pooled.moves += r.moves;
            pooled.server_cpu = pooled.server_cpu.zip(r.server_cpu).map(|(a, b)| a + b);
            pooled.server_kernel_cpu = pooled.server_kernel_cpu.zip(r.server_kernel_cpu).map(|(a, b)| a + b);
            pooled.round_trips_us.extend_from_slice(&r.round_trips_us);
            pooled.errors += r.error_count();
        }
        pooled.round_trips_us.sort_unstable();
        pooled
    }

    fn values(&self) -> [Option<f64>; 8] {
        let secs = self.window.as_secs_f64().max(1e-9);
        let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1e3);
        let us = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1e6);
        [
            Some(self.games as f64 / secs),
            Some(self.moves as f64 / secs),
            ms(self.server_cpu.and_then(|c| per(c, self.games))),
            ms(self.server_kernel_cpu.and_then(|c| per(c, self.games))),
            us(self.server_cpu.and_then(|c| per(c, self.moves))),
            ms(quantile(&self.round_trips_us, 0.50)),
            ms(quantile(&self.round_trips_us, 0.99)),
            ms(quantile(&self.round_trips_us, 1.0)),
        ]
    }
}

const HEADER: &str = "| shape (rooms × players) | server | runs | games/s | moves/s | server CPU / game | of which kernel | server CPU / move | round trip p50 | p99 | max | errors |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n";

/// The Markdown tables, one block per shape in the order first run.
pub fn table(runs: &[Run]) -> String {
    let mut shapes: Vec<Shape> = Vec::new();
    let mut labels: Vec<&str> = Vec::new();
    for run in runs {
        if !shapes.contains(&run.shape) {
            shapes.push(run.shape);
        }
        if !labels.contains(&run.label.as_str()) {
            labels.push(&run.label);
        }
    }
    let mut out = String::from(HEADER);
    for shape in shapes {
        let mut pooled: BTreeMap<usize, Pooled> = BTreeMap::new();
        for (i, label) in labels.iter().enumerate() {
            let of_label = runs.iter().filter(|r| r.shape == shape && r.label == *label).map(|r| &r.result);
            let p = Pooled::of(of_label);
            if p.runs > 0 {
                pooled.insert(i, p);
            }
        }
        for (&i, p) in &pooled {
            let [games, moves, cpu_game, kernel_game, cpu_move, p50, p99, max] = p.values();
            let _ = writeln!(
                out,
                "| {shape} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                labels[i],
                p.runs,
                num(games, 1, ""),
                num(moves, 0, ""),
                num(cpu_game, 2, " ms"),
                num(kernel_game, 2, " ms"),
                num(cpu_move, 0, " µs"),
                num(p50, 2, " ms"),
                num(p99, 2, " ms"),
                num(max, 1, " ms"),
                p.errors
            );
        }
        let Some((&first, reference)) = pooled.iter().next() else { continue };
        let reference = reference.values();
        for (&i, p) in pooled.iter().skip(1) {
            let ratios: Vec<String> = p
                .values()
                .iter()
                .zip(reference.iter())
                .map(|(v, r)| match (v, r) {
                    (Some(v), Some(r)) if *r > 0.0 => format!("{:.2}×", v / r),
                    _ => "–".to_string(),
                })
                .collect();
            let _ = writeln!(out, "| {shape} | **{} ÷ {}** | | {} | |", labels[i], labels[first], ratios.join(" | "));
        }
    }
    out
}

fn num(v: Option<f64>, decimals: usize, unit: &str) -> String {
    match v {
        Some(v) => format!("{v:.decimals$}{unit}"),
        None => "–".to_string(),
    }
}

/// One line per run, for the progress output.
pub fn line(run: &Run) -> String {
    let r = &run.result;
    let ms = |d: Option<Duration>| d.map_or("–".to_string(), |d| format!("{:.2} ms", d.as_secs_f64() * 1e3));
    let mut text = format!(
        "{} {} round {}: {} games ({:.1}/s), {} moves ({:.0}/s) in {:.1} s; server CPU {} per game ({} in the kernel), {} per move; \
         round trip p50 {} p99 {} max {}; create p50 {}; client CPU {}",
        run.label,
        run.shape,
        run.round + 1,
        r.games,
        r.games_per_sec(),
        r.moves,
        r.moves_per_sec(),
        r.window.as_secs_f64(),
        ms(r.cpu_per_game()),
        ms(r.kernel_cpu_per_game()),
        r.cpu_per_move().map_or("–".to_string(), |d| format!("{:.0} µs", d.as_secs_f64() * 1e6)),
        ms(r.round_trip(0.5)),
        ms(r.round_trip(0.99)),
        ms(r.round_trip(1.0)),
        ms(quantile(&r.creates_us, 0.5)),
        r.client_cpu.map_or("–".to_string(), |d| format!("{:.2} s", d.as_secs_f64())),
    );
    if let Some(archived) = r.archived_by_end {
        let _ = write!(text, "; archived {archived} of {} games by the end", r.finished_by_end);
    }
    if !r.errors.is_empty() {
        let _ = write!(text, "; errors {:?}", r.errors);
    }
    text
}

/// One run as JSON (durations in milliseconds).
pub fn json(run: &Run) -> Value {
    let r = &run.result;
    let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1e3);
    json!({
        "label": run.label,
        "rooms": run.shape.rooms,
        "players": run.shape.players,
        "round": run.round + 1,
        "window_s": r.window.as_secs_f64(),
        "games": r.games,
        "games_total": r.games_total,
        "moves": r.moves,
        "finished_by_end": r.finished_by_end,
        "archived_by_end": r.archived_by_end,
        "games_per_s": r.games_per_sec(),
        "moves_per_s": r.moves_per_sec(),
        "server_cpu_ms": ms(r.server_cpu),
        "server_kernel_cpu_ms": ms(r.server_kernel_cpu),
        "client_cpu_ms": ms(r.client_cpu),
        "server_cpu_per_game_ms": ms(r.cpu_per_game()),
        "server_kernel_cpu_per_game_ms": ms(r.kernel_cpu_per_game()),
        "server_cpu_per_move_ms": ms(r.cpu_per_move()),
        "round_trip_ms": {
            "p50": ms(r.round_trip(0.5)),
            "p99": ms(r.round_trip(0.99)),
            "max": ms(r.round_trip(1.0)),
            "samples": r.round_trips_us.len(),
        },
        "create_ms": { "p50": ms(quantile(&r.creates_us, 0.5)), "p99": ms(quantile(&r.creates_us, 0.99)) },
        "errors": r.errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(games: u64, (cpu_ms, kernel_ms): (u64, u64), rtts: &[u32]) -> RunResult {
        RunResult {
            window: Duration::from_secs(10),
            games,
            moves: games * 8,
            round_trips_us: rtts.to_vec(),
            server_cpu: Some(Duration::from_millis(cpu_ms)),
            server_kernel_cpu: Some(Duration::from_millis(kernel_ms)),
            ..RunResult::default()
        }
    }

    #[test]
    fn table_pools_rounds_and_divides_by_the_first_server() {
        let shape = Shape { rooms: 1, players: 2 };
        let runs = vec![
            Run { label: "base".into(), shape, round: 0, result: result(100, (700, 200), &[40_000, 50_000]) },
            Run { label: "new".into(), shape, round: 0, result: result(200, (140, 60), &[1_000, 2_000]) },
            Run { label: "base".into(), shape, round: 1, result: result(100, (700, 200), &[45_000]) },
            Run { label: "new".into(), shape, round: 1, result: result(200, (140, 60), &[1_500]) },
        ];
        let text = table(&runs);
        assert!(text.contains("| 1×2 | base | 2 | 10.0 | 80 | 7.00 ms | 2.00 ms |"), "{text}");
        assert!(text.contains("| 1×2 | new | 2 | 20.0 | 160 | 0.70 ms | 0.30 ms |"), "{text}");
        // games/s doubled, CPU per game a tenth, in the kernel 0.15×.
        assert!(text.contains("| **new ÷ base** | | 2.00× | 2.00× | 0.10× | 0.15× | 0.10× |"), "{text}");
    }
}
