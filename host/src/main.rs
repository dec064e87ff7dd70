//! The `arcade` command: run the server, manage plugins, play locally.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use arcade_archive::GameRecord;
use arcade_host::config::{Config, DEV_ADMIN_TOKEN};
use arcade_host::play::{PlayOptions, play};
use arcade_host::registry::Registry;
use arcade_host::replay;
use arcade_host::sandbox::SandboxEngine;
use arcade_host::server;
use arcade_sim::{BackendPreference, Stepper};
use arcade_telemetry::LogFormat;

/// mimalloc instead of glibc's malloc: the server allocates and frees small
/// buffers (frames, JSON, views) on many threads, where glibc spent ~12% of
/// its CPU (`_int_malloc`, `malloc_consolidate`, … in the lifecycle profile).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "arcade", version, about = "WebAssembly game rules, served")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the game server.
    Serve {
        /// TOML config file (defaults are built in; ARCADE_* variables override).
        #[arg(long, short)]
        config: Option<PathBuf>,
        #[arg(long)]
        listen: Option<SocketAddr>,
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Publish every .wasm in this directory at start.
        #[arg(long)]
        preload: Option<PathBuf>,
        #[arg(long, value_parser = ["text", "json"])]
        log_format: Option<String>,
    },
    /// Start a game project (rules, tests, the SDK, the build profile) in
    /// a new directory `NAME`, which builds and publishes anywhere.
    New {
        /// The game's name: 1 to 64 of a-z 0-9 -, starting with a letter.
        name: String,
        #[arg(long, value_enum, default_value = "rust")]
        lang: arcade_host::scaffold::Lang,
        /// Where to create the project directory.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Publish, list or validate plugins.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Re-run an archived game in a fresh sandbox and check that it ends
    /// exactly as recorded (same status, same final views).
    Replay {
        /// A game id (looked up in the archive) or a replay file.
        game: String,
        /// Archive URL; default: `<data_dir>/archive`.
        #[arg(long, env = "ARCADE_ARCHIVE__URL")]
        archive: Option<String>,
        /// Where the published plugins are (`<data_dir>/plugins`).
        #[arg(long, env = "ARCADE_DATA_DIR", default_value = "arcade-data")]
        data_dir: PathBuf,
        /// Physics backend for real-time games: `auto`, `gpu` or `cpu`. A
        /// game replays bit for bit on the backend it ran on (the server's
        /// `sim.backend`); only probed when the game has physics.
        #[arg(long, env = "ARCADE_SIM__BACKEND", default_value = "auto")]
        sim_backend: BackendPreference,
    },
    /// Play a game in the terminal against random-move bots.
    Play {
        /// A game name (looked up in --plugins-dir) or a .wasm file.
        game: String,
        #[arg(long, default_value = "target/plugins/examples")]
        plugins_dir: PathBuf,
        /// Let bots play every seat.
        #[arg(long)]
        bots_only: bool,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        players: Option<u32>,
    },
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Upload a component to a running server, with its browser UI module
    /// (`ui/index.js` of the current directory when there is one).
    Publish {
        file: PathBuf,
        /// The game's UI module (an ES module exporting `mount`, docs/game-ui.md).
        #[arg(long, conflicts_with = "no_ui")]
        ui: Option<PathBuf>,
        /// Publish the rules only, even when `ui/index.js` exists.
        #[arg(long)]
        no_ui: bool,
        #[arg(long, env = "ARCADE_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
        #[arg(long, env = "ARCADE_ADMIN_TOKEN", default_value = DEV_ADMIN_TOKEN)]
        token: String,
        /// The linear memory each room of this plugin may use, in MiB (the
        /// server's default when absent; at most its `max_room_memory_bytes`).
        #[arg(long)]
        memory_limit_mib: Option<u32>,
    },
    /// List the plugins of a running server.
    List {
        #[arg(long, env = "ARCADE_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
    },
    /// Check a component locally: contract, imports, game info.
    Validate { file: PathBuf },
    /// Conformance: play seeded games with random legal moves and check
    /// determinism, legal actions, secrets in views and refusals.
    Check {
        file: PathBuf,
        /// Games per player count (the minimum and the maximum).
        #[arg(long, default_value_t = 10)]
        games: u32,
        /// Run its rooms with this memory limit, in MiB, as `plugin publish
        /// --memory-limit-mib` would on a server (default: the default 16).
        #[arg(long)]
        memory_limit_mib: Option<u32>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { config, listen, data_dir, preload, log_format } => {
            let mut cfg = Config::load(config.as_deref())?;
            if let Some(listen) = listen {
                cfg.listen = listen;
            }
            if let Some(dir) = data_dir {
                cfg.data_dir = dir;
            }
            if let Some(dir) = preload {
                cfg.preload_dir = Some(dir);
            }
            if let Some(format) = log_format {
                cfg.log_format = if format == "json" { LogFormat::Json } else { LogFormat::Text };
            }
            arcade_telemetry::init(cfg.log_format);
            tokio::runtime::Runtime::new()?.block_on(server::serve(cfg))
        }
        Command::New { name, lang, dir } => {
            let files = arcade_host::scaffold::new_project(&dir, &name, lang)?;
            let root = dir.join(&name);
            let next = arcade_host::scaffold::next_steps(lang);
            println!("created {} ({} files): cd {} && {next}", root.display(), files.len(), root.display());
            Ok(())
        }
        Command::Plugin { command } => plugin_command(command),
        Command::Replay { game, archive, data_dir, sim_backend } => {
            arcade_telemetry::init(LogFormat::Text);
            tokio::runtime::Runtime::new()?.block_on(replay_command(&game, archive, &data_dir, sim_backend))
        }
        Command::Play { game, plugins_dir, bots_only, seed, players } => {
            arcade_telemetry::init(LogFormat::Text);
            let human = !bots_only && std::io::stdin().is_terminal();
            let options = PlayOptions { game: &game, plugins_dir: &plugins_dir, human, seed, players };
            play(options, &mut std::io::stdin().lock(), &mut std::io::stdout())?;
            Ok(())
        }
    }
}

async fn replay_command(
    game: &str,
    archive: Option<String>,
    data_dir: &std::path::Path,
    sim_backend: BackendPreference,
) -> anyhow::Result<()> {
    let record = if std::path::Path::new(game).is_file() {
        GameRecord::from_compressed(&std::fs::read(game)?)?
    } else {
        let url = archive.filter(|u| !u.is_empty()).unwrap_or_else(|| data_dir.join("archive").display().to_string());
        let sink = arcade_archive::open_sink(&url).await?;
        sink.get(game).await?.with_context(|| format!("no game {game:?} in the archive {url}"))?
    };
    let runtime = Arc::new(SandboxEngine::new(Default::default()).map_err(|e| anyhow::anyhow!("{e:#}"))?);
    let registry = Registry::open(runtime.clone(), Some(data_dir))?;
    let plugin = registry.find_by_hash(&record.plugin.hash).with_context(|| {
        format!(
            "plugin {}@{} with hash {} is not in {}",
            record.plugin.name,
            record.plugin.version,
            record.plugin.hash,
            data_dir.join("plugins").display()
        )
    })?;
    match replay::verify(&runtime, &plugin.plugin, &record, &mut Stepper::lazy(sim_backend)) {
        Ok(verified) => {
            println!(
                "verified {}: {}@{}, {} inputs, {} final views identical, outcome {}",
                record.game_id,
                record.plugin.name,
                record.plugin.version,
                verified.inputs,
                verified.views,
                serde_json::to_string(&verified.status)?
            );
            Ok(())
        }
        Err(e) => bail!("replay of {} does NOT match the record: {e}", record.game_id),
    }
}

fn plugin_command(command: PluginCommand) -> anyhow::Result<()> {
    match command {
        PluginCommand::Check { file, games, memory_limit_mib } => {
            let wasm = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let runtime = SandboxEngine::new(Default::default()).map_err(|e| anyhow::anyhow!("{e:#}"))?;
            let memory = memory_limit_mib.map(|mib| mib as usize * (1 << 20));
            let plugin = runtime.prepare_with_memory(&runtime.compile(&wasm)?, memory)?;
            let options = arcade_host::conformance::CheckOptions { games, ..Default::default() };
            let report = arcade_host::conformance::check(&runtime, &plugin, options);
            let info = plugin.info();
            for failure in &report.failures {
                println!("FAILED {failure}");
            }
            if !report.passed() {
                bail!("{}@{}: {} of the conformance checks failed", info.name, info.version, report.failures.len());
            }
            println!(
                "ok: {}@{}: {} games, {} moves, {} private events: deterministic, every listed legal action \
                 accepted, no private event in another viewer's view, refusals as the contract says",
                info.name, info.version, report.games, report.moves, report.private_events
            );
            Ok(())
        }
        PluginCommand::Validate { file } => {
            let wasm = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let runtime = SandboxEngine::new(Default::default()).map_err(|e| anyhow::anyhow!("{e:#}"))?;
            let component = runtime.compile(&wasm)?;
            let plugin = runtime.prepare(&component)?;
            let info = plugin.info();
            println!(
                "ok: {}@{} ({}..={} players, tick-hz {}), sha256 {}",
                info.name,
                info.version,
                info.min_players,
                info.max_players,
                info.tick_hz,
                arcade_host::registry::sha256_hex(&wasm)
            );
            Ok(())
        }
        PluginCommand::Publish { file, ui, no_ui, server, token, memory_limit_mib } => {
            let wasm = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let ui = match (ui, no_ui) {
                (_, true) => None,
                (Some(path), false) => Some(path),
                (None, false) => Some(PathBuf::from("ui/index.js")).filter(|p| p.is_file()),
            };
            // The module, and the files beside it: its assets.
            let ui_files = ui.map(|module| ui_files(&module)).transpose()?.unwrap_or_default();
            let mut url = endpoint(&server, "/v1/plugins");
            if let Some(mib) = memory_limit_mib {
                url.push_str(&format!("?memory_limit_mib={mib}"));
            }
            let client = reqwest::Client::new();
            let request = client.post(url).bearer_auth(&token).header("content-type", "application/wasm").body(wasm);
            let summary = send(request)?;
            let field = |key: &str| summary.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_string();
            // Assets first: the module, which loads them, is attached last.
            for (file, bytes) in ui_files.into_iter().rev() {
                let path = arcade_host::registry::ui_file_path(&field("name"), &field("version"), &file);
                let request = client.put(endpoint(&server, &path)).bearer_auth(&token).body(bytes);
                send(request)?;
            }
            Ok(())
        }
        PluginCommand::List { server } => send(reqwest::Client::new().get(endpoint(&server, "/v1/plugins"))).map(drop),
    }
}

/// A UI to publish: the module (as `index.js`, last) and the files in its
/// directory beside it (its assets; hidden files skipped), sorted.
fn ui_files(module: &std::path::Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let read = |path: &std::path::Path| std::fs::read(path).with_context(|| format!("reading {}", path.display()));
    let mut files = vec![(arcade_host::plugin_ui::MODULE_FILE.to_string(), read(module)?)];
    let dir = module.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let mut assets = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        if path.is_file() && path != module && !name.starts_with('.') {
            assets.push((name, read(&path)?));
        }
    }
    assets.sort();
    files.extend(assets);
    Ok(files)
}

fn endpoint(server: &str, path: &str) -> String {
    format!("{}{path}", server.trim_end_matches('/'))
}

/// Send a request, print the JSON answer, and fail on an error status.
fn send(request: reqwest::RequestBuilder) -> anyhow::Result<serde_json::Value> {
    let (status, body) = tokio::runtime::Runtime::new()?.block_on(async {
        let response = request.send().await?;
        Ok::<_, reqwest::Error>((response.status(), response.text().await?))
    })?;
    println!("{body}");
    if !status.is_success() {
        bail!("the server answered {status}");
    }
    Ok(serde_json::from_str(&body).unwrap_or(serde_json::Value::Null))
}
