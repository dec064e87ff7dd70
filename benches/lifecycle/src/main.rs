//! `arcade-lifecycle-bench`: runs the lifecycle load (see the library docs)
//! against one or more `arcade` builds, alternating between them, and prints
//! a Markdown table with ratios against the first.
//!
//! ```text
//! arcade-lifecycle-bench --server base=/path/to/old/arcade --server new=/path/to/arcade \
//!     --shape 1x2 --shape 50x2 --duration 30 --rounds 2
//! ```
//!
//! Order: for each shape, `--rounds` times, every server once in the order
//! given (base, new, base, new, …), each on a fresh process and data dir.
//! `scripts/bench-lifecycle.sh` builds the servers and calls this.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;

use arcade_lifecycle_bench::report::{self, Run};
use arcade_lifecycle_bench::{LoadConfig, ServerOptions, Shape, run_against, target_dir};

#[derive(Parser, Debug)]
#[command(version, about = "Lifecycle benchmark: rooms × WebSocket players playing games back to back")]
struct Args {
    /// A server build to measure, `LABEL=PATH` to its `arcade` binary;
    /// repeat to compare (ratios are against the first). Default:
    /// `new=<target>/release/arcade`.
    #[arg(long = "server", value_name = "LABEL=PATH")]
    servers: Vec<String>,
    /// Plugin directory to preload (default `<target>/plugins/examples`).
    #[arg(long)]
    plugins: Option<PathBuf>,
    /// Rooms × WebSocket players per room, e.g. `50x2`; repeatable.
    #[arg(long = "shape", value_name = "ROOMSxPLAYERS", default_values = ["1x2", "50x2"])]
    shapes: Vec<Shape>,
    /// Measured seconds per run.
    #[arg(long, default_value_t = 30.0)]
    duration: f64,
    /// Seconds played before the measurement starts.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Runs of every server at every shape (alternating between servers).
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Plugin (game) name.
    #[arg(long, default_value = "tic-tac-toe")]
    game: String,
    /// A game not finished in this many seconds counts as an error.
    #[arg(long, default_value_t = 30.0)]
    game_timeout: f64,
    /// Seed of the players' move choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Extra server setting `ARCADE_…=VALUE` (e.g. `ARCADE_JOURNAL__FSYNC=false`); repeatable.
    #[arg(long = "server-env", value_name = "KEY=VALUE")]
    server_env: Vec<String>,
    /// Where the servers' fresh data dirs go (default: the system temp dir).
    #[arg(long)]
    data_parent: Option<PathBuf>,
    /// Also write every run as a JSON line to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let servers: Vec<(String, PathBuf)> = if args.servers.is_empty() {
        vec![("new".to_string(), target_dir().join("release/arcade"))]
    } else {
        args.servers
            .iter()
            .map(|s| {
                let (label, path) =
                    s.split_once('=').with_context(|| format!("--server {s:?}: expected LABEL=PATH"))?;
                Ok((label.to_string(), PathBuf::from(path)))
            })
            .collect::<anyhow::Result<_>>()?
    };
    for (label, path) in &servers {
        if !path.is_file() {
            bail!("server {label}: no executable at {}", path.display());
        }
    }
    let extra_env = args
        .server_env
        .iter()
        .map(|kv| {
            let (k, v) = kv.split_once('=').with_context(|| format!("--server-env {kv:?}: expected KEY=VALUE"))?;
            Ok((k.to_string(), v.to_string()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let plugins = args.plugins.clone().unwrap_or_else(|| target_dir().join("plugins/examples"));
    let mut json_out = match &args.json {
        Some(path) => Some(std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?),
        None => None,
    };

    eprintln!(
        "lifecycle: {} × {} rounds × shapes {}; {} s warm-up + {} s measured per run; game {}",
        servers.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>().join(", "),
        args.rounds,
        args.shapes.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", "),
        args.warmup,
        args.duration,
        args.game
    );
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let mut runs = Vec::new();
    for &shape in &args.shapes {
        for round in 0..args.rounds {
            for (label, binary) in &servers {
                let options = ServerOptions {
                    binary: binary.clone(),
                    plugins: plugins.clone(),
                    data_parent: args.data_parent.clone(),
                    extra_env: extra_env.clone(),
                };
                let result = runtime
                    .block_on(run_against(&options, |base| LoadConfig {
                        base: base.to_string(),
                        game: args.game.clone(),
                        shape,
                        warmup: Duration::from_secs_f64(args.warmup),
                        duration: Duration::from_secs_f64(args.duration),
                        game_timeout: Duration::from_secs_f64(args.game_timeout),
                        seed: args.seed.wrapping_add(round as u64),
                    }))
                    .with_context(|| format!("{label} at {shape}, round {}", round + 1))?;
                let run = Run { label: label.clone(), shape, round, result };
                eprintln!("{}", report::line(&run));
                if let Some(out) = &mut json_out {
                    writeln!(out, "{}", report::json(&run))?;
                }
                runs.push(run);
            }
        }
    }
    println!("{}", report::table(&runs));
    Ok(())
}
