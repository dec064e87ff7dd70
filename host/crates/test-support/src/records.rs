//! Synthetic game records shaped like the project's plugins' games: one
//! action and one small public event per turn (`{"player", "mark", "cell"}`
//! as tic-tac-toe emits), a board in the final views.

use std::collections::BTreeMap;

use arcade_archive::record::EventAudience;
use arcade_archive::{EventRecord, FinalViews, GameRecord, LogEntry, LogKind, PluginRef, RECORD_FORMAT_VERSION};
use arcade_protocol::RoomStatus;
use arcade_protocol::seed::Seed;
use serde_json::json;

/// 2024-11-22T00:00:00Z
pub const BASE_MS: u64 = 1_732_233_600_000;
pub const DAY_MS: u64 = 86_400_000;
const MARKS: [&str; 2] = ["X", "O"];

/// What a synthetic game looks like.
#[derive(Clone, Debug)]
pub struct GameShape<'a> {
    pub plugin: &'a str,
    pub players: &'a [&'a str],
    pub completed_at_ms: u64,
    pub turns: u64,
    pub aborted: bool,
    /// A matchmade game's mode (rated), or `None`.
    pub mode: Option<&'a str>,
}

impl Default for GameShape<'_> {
    fn default() -> Self {
        GameShape {
            plugin: "tic-tac-toe",
            players: &["ann", "bob"],
            completed_at_ms: BASE_MS,
            turns: 9,
            aborted: false,
            mode: None,
        }
    }
}

pub fn game_record(game_id: &str, shape: &GameShape) -> GameRecord {
    let players: Vec<String> = shape.players.iter().map(|p| p.to_string()).collect();
    let started_at_ms = shape.completed_at_ms - shape.turns * 1_500 - 1_000;
    let turn_at = |turn: u64| started_at_ms + 1_000 + turn * 1_500;
    let player_of = |turn: u64| players[(turn as usize) % players.len()].clone();
    let log = (0..shape.turns)
        .map(|turn| LogEntry {
            seq: turn + 1,
            at_ms: turn_at(turn),
            kind: if turn % 5 == 4 {
                LogKind::Tick { dt_ms: 100 }
            } else {
                LogKind::Action { player: player_of(turn), action: json!({"cell": turn % 9}).to_string() }
            },
        })
        .collect();
    let events = (0..shape.turns)
        .map(|turn| EventRecord {
            seq: turn + 1,
            at_ms: turn_at(turn),
            kind: "move".into(),
            data: json!({"player": player_of(turn), "mark": MARKS[(turn % 2) as usize], "cell": turn % 9}).to_string(),
            audience: EventAudience::Everyone,
        })
        .collect();
    let status = if shape.aborted {
        RoomStatus::aborted("player_left", format!("{} left", players[0]))
    } else {
        let winner = player_of(shape.turns);
        RoomStatus::Finished {
            winners: vec![winner.clone()],
            scores: players.iter().map(|p| (p.clone(), i64::from(*p == winner))).collect::<BTreeMap<_, _>>(),
            summary: format!("{winner} wins"),
        }
    };
    GameRecord {
        format_version: RECORD_FORMAT_VERSION,
        game_id: game_id.into(),
        room_id: format!("room-{game_id}"),
        plugin: PluginRef { name: shape.plugin.into(), version: "1.2.0".into(), hash: "5e".repeat(32) },
        config: json!({"board": 3, "timer_ms": 30_000}).to_string(),
        players: players.clone(),
        seed: Seed::SplitMix64(0xDEAD_BEEF_0000_0000 ^ shape.completed_at_ms),
        seat_token_sha256: Default::default(),
        log,
        events,
        started_at_ms,
        completed_at_ms: shape.completed_at_ms,
        mode: shape.mode.map(str::to_string),
        status,
        final_views: FinalViews {
            players: players.iter().map(|p| (p.clone(), json!({"you": p, "board": board(shape.turns)}))).collect(),
            spectator: json!({"board": board(shape.turns)}),
        },
    }
}

fn board(turn: u64) -> serde_json::Value {
    json!((0..9).map(|cell| if cell <= turn { ["x", "o"][(cell % 2) as usize] } else { "" }).collect::<Vec<_>>())
}

/// A game for throughput measurements, sized like the bundled plugins'
/// games: two players, 9 turns (tic-tac-toe), 25 (connect-four) or 17
/// (high-card duel: 10 plays, 2 deals, 5 reveals), one aborted in 50.
pub fn benchmark_record(n: u64) -> GameRecord {
    const PLAYERS: [&str; 6] = ["ann", "bob", "cid", "dee", "eve", "fay"];
    const PLUGINS: [(&str, u64); 3] = [("tic-tac-toe", 9), ("connect-four", 25), ("high-card-duel", 17)];
    let seat = (n % 5) as usize;
    let players = &PLAYERS[seat..seat + 2];
    let (plugin, turns) = PLUGINS[(n % 3) as usize];
    let shape = GameShape {
        plugin,
        players,
        completed_at_ms: BASE_MS + n * 37,
        turns,
        aborted: n.is_multiple_of(50),
        mode: None,
    };
    game_record(&format!("bench-{n:08}"), &shape)
}
