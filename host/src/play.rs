//! `arcade play <game>`: play a local game in the terminal against
//! random-move bots (or watch bots play each other), with no server.
//! It uses the same sandbox as the server, so it is also a quick way for a
//! designer to try a freshly built plugin.

use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};

use crate::registry::Registry;
use crate::sandbox::{SandboxEngine, SandboxLimits, SplitMix64, Viewer, worlds_and_dts};
use arcade_protocol::RoomStatus;
use arcade_sim::Stepper;

pub struct PlayOptions<'a> {
    /// A `.wasm` file, or a game name looked up in `plugins_dir`.
    pub game: &'a str,
    pub plugins_dir: &'a Path,
    /// Seat a human in the first seat (otherwise bots only).
    pub human: bool,
    pub seed: u64,
    pub players: Option<u32>,
}

/// Play one game; returns the final status.
pub fn play(options: PlayOptions<'_>, input: &mut dyn BufRead, out: &mut dyn Write) -> anyhow::Result<RoomStatus> {
    let runtime = Arc::new(
        SandboxEngine::new(SandboxLimits { max_instances: 4, ..SandboxLimits::default() })
            .map_err(|e| anyhow::anyhow!("{e:#}"))?,
    );
    let registry = Registry::open(runtime.clone(), None)?;
    let path = if options.game.ends_with(".wasm") {
        Path::new(options.game).to_path_buf()
    } else {
        options.plugins_dir.join(format!("{}.wasm", options.game))
    };
    let wasm = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let plugin = registry.publish(&wasm)?.version;
    let info = plugin.plugin.info();
    let count = options.players.unwrap_or(info.min_players);
    let players: Vec<String> = (0..count)
        .map(|i| if i == 0 && options.human { "you".to_string() } else { format!("bot-{}", i + 1) })
        .collect();
    writeln!(out, "{} {} — {}", info.name, info.version, info.description)?;
    writeln!(out, "players: {}", players.join(", "))?;
    let mut room = plugin
        .plugin
        .start(&runtime, Arc::from("local"), "{}", &players, &arcade_protocol::seed::Seed::SplitMix64(options.seed))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut dice = SplitMix64::new(options.seed ^ 0xB075);
    let mut physics = Stepper::cpu();
    loop {
        let status = RoomStatus::from(room.status()?);
        let RoomStatus::Playing { awaiting } = &status else {
            writeln!(out, "final view: {}", room.view(&Viewer::Spectator)?)?;
            writeln!(out, "game over: {}", serde_json::to_string(&status)?)?;
            return Ok(status);
        };
        let player = awaiting.first().context("the game awaits nobody")?.clone();
        let legal = room.legal_actions(&player)?;
        let action = if options.human && player == "you" {
            writeln!(out, "\nyour view: {}", room.view(&Viewer::Player(player.clone()))?)?;
            writeln!(out, "legal: {}", legal.join("  "))?;
            write!(out, "your action (JSON, or a number to pick a legal one)> ")?;
            out.flush()?;
            let mut line = String::new();
            if input.read_line(&mut line)? == 0 {
                bail!("input closed");
            }
            let line = line.trim();
            match line.parse::<usize>() {
                Ok(i) if i < legal.len() => legal[i].clone(),
                _ => line.to_string(),
            }
        } else {
            if legal.is_empty() {
                bail!("{player} has no listed legal actions; bots cannot play this game");
            }
            legal[(dice.next_u64() % legal.len() as u64) as usize].clone()
        };
        match room.apply(&player, &action)? {
            Ok(events) => {
                let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
                writeln!(out, "{player}: {action} -> {}", kinds.join(", "))?;
            }
            Err(e) => writeln!(out, "{player}: {action} refused: {e:?}")?,
        }
        if let Some(dt_ms) = 1000u32.checked_div(info.tick_hz) {
            // One tick per move, then the physics steps it asked for (as a server does).
            room.tick(dt_ms)?;
            room.step_requested_worlds(|worlds| physics.step(worlds_and_dts(worlds)).map(|_| ()))?;
        }
    }
}
