//! `arcade plugin check FILE`: a conformance run any plugin, in any
//! language, must pass before it faces players. It plays seeded games with
//! random legal moves in the server's sandbox and checks what the contract
//! promises beyond types:
//!
//! - **determinism**: each game played twice with the same seed and moves
//!   gives the same events, statuses and views at every step;
//! - **legal actions**: every action `legal-actions` lists is accepted, and
//!   each game finishes within a move budget;
//! - **secrets**: what a private event tells its players (its payload, and
//!   each distinctive part of it: a string of 8 or more characters, a list of
//!   3 or more items, an object of 2 or more fields) is in no other viewer's
//!   view (other players, spectators) right after it happened;
//! - **refusals**: a malformed action is `malformed`, a stranger's is
//!   `not-a-player`, a seated player's out of turn is `not-your-turn`, any
//!   action after the end is `game-over`, and a refused action changes
//!   nothing.
//!
//! The secrets check is a heuristic (a view may legitimately show what an
//! event said privately to someone else only if it also became public); it
//! finds the usual leak, a view that shows every hand.

use std::sync::Arc;

use crate::sandbox::{ActionError, Event, Fault, Plugin, Sandbox, SandboxEngine, SplitMix64, Viewer, visible_to};
use crate::sandbox::{Audience, worlds_and_dts};
use arcade_protocol::RoomStatus;
use arcade_protocol::seed::Seed;
use arcade_sim::Stepper;

/// How a run is shaped.
#[derive(Clone, Copy, Debug)]
pub struct CheckOptions {
    /// Games per player count (the game's minimum and, if different, its maximum).
    pub games: u32,
    /// Moves (and ticks) one game may take before it counts as endless.
    pub max_moves: u32,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions { games: 10, max_moves: 2_000 }
    }
}

/// What the run found: the checks that passed and the failures, each
/// naming its game.
#[derive(Debug, Default)]
pub struct Report {
    pub games: u32,
    pub moves: u64,
    /// Private events whose secrets were looked for in other views.
    pub private_events: u64,
    pub failures: Vec<String>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// One step of a game as every viewer saw it.
#[derive(Debug, PartialEq)]
struct Step {
    acted: String,
    events: Vec<(String, String, String)>,
    status: String,
    views: Vec<String>,
}

/// Runs the conformance checks on a prepared plugin.
pub fn check(runtime: &SandboxEngine, plugin: &Plugin, options: CheckOptions) -> Report {
    let info = plugin.info().clone();
    let mut counts = vec![info.min_players];
    if info.max_players != info.min_players {
        counts.push(info.max_players);
    }
    let mut report = Report::default();
    for count in counts {
        let players: Vec<String> = (1..=count).map(|i| format!("player-{i}")).collect();
        for game in 0..options.games {
            let seed = u64::from(game) + 1;
            let label = format!("{count} players, seed {seed}");
            report.games += 1;
            let first = play(runtime, plugin, &players, seed, options, &mut report, &label);
            let second = play(runtime, plugin, &players, seed, options, &mut Report::default(), &label);
            match (first, second) {
                (Ok(a), Ok(b)) => {
                    report.moves += a.len() as u64;
                    if let Some(at) = a.iter().zip(&b).position(|(x, y)| x != y).or((a.len() != b.len()).then_some(0)) {
                        report.failures.push(format!(
                            "{label}: not deterministic: the second run differs at step {at} ({:?} then {:?})",
                            a.get(at).map(|s| &s.acted),
                            b.get(at).map(|s| &s.acted)
                        ));
                    }
                }
                (Err(e), _) | (_, Err(e)) => report.failures.push(format!("{label}: {e}")),
            }
        }
    }
    report
}

fn start(runtime: &SandboxEngine, plugin: &Plugin, players: &[String], seed: u64) -> Result<Sandbox, String> {
    plugin
        .start(runtime, Arc::from("conformance"), "{}", players, &Seed::from_test_number(seed))
        .map_err(|e| format!("the game did not start: {e}"))
}

fn fault(e: Fault) -> String {
    format!("the plugin faulted: {e}")
}

/// Every viewer's view, players first, then a spectator's.
fn views(room: &mut Sandbox, players: &[String]) -> Result<Vec<String>, String> {
    let mut viewers: Vec<Viewer> = players.iter().cloned().map(Viewer::Player).collect();
    viewers.push(Viewer::Spectator);
    viewers.iter().map(|v| room.view(v).map_err(fault)).collect()
}

/// Plays one game with random legal moves; its steps. Contract breaches
/// other than faults are added to the report's failures.
fn play(
    runtime: &SandboxEngine,
    plugin: &Plugin,
    players: &[String],
    seed: u64,
    options: CheckOptions,
    report: &mut Report,
    label: &str,
) -> Result<Vec<Step>, String> {
    let tick_ms = 1000u32.checked_div(plugin.info().tick_hz);
    let mut room = start(runtime, plugin, players, seed)?;
    let mut dice = SplitMix64::new(seed ^ 0xC0FF_EE00);
    let mut physics = Stepper::cpu();
    let mut steps = Vec::new();
    let mut refusals_checked = false;
    for _ in 0..options.max_moves {
        let status = RoomStatus::from(room.status().map_err(fault)?);
        let RoomStatus::Playing { awaiting } = &status else {
            check_game_over(&mut room, players, &mut report.failures, label)?;
            return Ok(steps);
        };
        if !refusals_checked {
            refusals_checked = true;
            check_refusals(&mut room, players, awaiting, &mut report.failures, label)?;
        }
        let (acted, events) = match awaiting.first() {
            Some(player) => {
                let legal = room.legal_actions(player).map_err(fault)?;
                if legal.is_empty() && tick_ms.is_none() {
                    return Err(format!("{player} is awaited but has no legal action"));
                }
                if legal.is_empty() {
                    (String::new(), Vec::new())
                } else {
                    let action = legal[(dice.next_u64() % legal.len() as u64) as usize].clone();
                    match room.apply(player, &action).map_err(fault)? {
                        Ok(events) => (format!("{player}: {action}"), events),
                        Err(e) => {
                            report
                                .failures
                                .push(format!("{label}: {player}'s listed legal action {action} was refused: {e:?}"));
                            return Ok(steps);
                        }
                    }
                }
            }
            None if tick_ms.is_some() => (String::new(), Vec::new()),
            None => return Err("the game is playing but awaits nobody".into()),
        };
        let mut events = events;
        if let Some(dt_ms) = tick_ms {
            events.extend(room.tick(dt_ms).map_err(fault)?);
            room.step_requested_worlds(|worlds| physics.step(worlds_and_dts(worlds)).map(|_| ())).map_err(fault)?;
        }
        let status = RoomStatus::from(room.status().map_err(fault)?);
        let views = views(&mut room, players)?;
        if !status.is_over() {
            report.private_events += check_secrets(&events, players, &views, &mut report.failures, label, steps.len());
        }
        steps.push(Step {
            acted,
            events: events.iter().map(|e| (e.kind.clone(), e.data.clone(), format!("{:?}", e.audience))).collect(),
            status: serde_json::to_string(&status).unwrap_or_default(),
            views,
        });
    }
    Err(format!("the game did not finish within {} moves", options.max_moves))
}

/// The refusals a game must make at its first turn, none of which may
/// change anything.
fn check_refusals(
    room: &mut Sandbox,
    players: &[String],
    awaiting: &[String],
    failures: &mut Vec<String>,
    label: &str,
) -> Result<(), String> {
    let before = (room.status().map_err(fault).map(|s| format!("{s:?}"))?, views(room, players)?);
    let some_action = match awaiting.first() {
        Some(player) => room.legal_actions(player).map_err(fault)?.into_iter().next(),
        None => None,
    };
    let mut expect = |player: &str, action: &str, want: fn(&ActionError) -> bool, name: &str| -> Result<(), String> {
        match room.apply(player, action).map_err(fault)? {
            Err(e) if want(&e) => {}
            other => failures.push(format!("{label}: {name} expected for {player}'s {action:?}, got {other:?}")),
        }
        Ok(())
    };
    let first = &players[0];
    expect(first, "{not json", |e| matches!(e, ActionError::Malformed(_)), "malformed")?;
    if let Some(action) = &some_action {
        expect("a-stranger", action, |e| matches!(e, ActionError::NotAPlayer), "not-a-player")?;
        if let Some(idle) = players.iter().find(|p| !awaiting.contains(p)) {
            expect(idle, action, |e| matches!(e, ActionError::NotYourTurn), "not-your-turn")?;
        }
    }
    let after = (room.status().map_err(fault).map(|s| format!("{s:?}"))?, views(room, players)?);
    if before != after {
        failures.push(format!("{label}: a refused action changed the game"));
    }
    Ok(())
}

fn check_game_over(
    room: &mut Sandbox,
    players: &[String],
    failures: &mut Vec<String>,
    label: &str,
) -> Result<(), String> {
    let action = room.legal_actions(&players[0]).map_err(fault)?.into_iter().next().unwrap_or_else(|| "{}".into());
    match room.apply(&players[0], &action).map_err(fault)? {
        Err(ActionError::GameOver) => {}
        other => failures.push(format!("{label}: game-over expected for an action after the end, got {other:?}")),
    }
    Ok(())
}

/// Private events' distinctive parts must not show in the views of those
/// who may not see the event; how many private events there were.
fn check_secrets(
    events: &[Event],
    players: &[String],
    views: &[String],
    failures: &mut Vec<String>,
    label: &str,
    step: usize,
) -> u64 {
    let private: Vec<&Event> = events.iter().filter(|e| !matches!(e.audience, Audience::Everyone)).collect();
    for event in &private {
        let Ok(payload) = serde_json::from_str::<serde_json::Value>(&event.data) else { continue };
        let mut secrets = Vec::new();
        distinctive_parts(&payload, &mut secrets);
        let viewers = players.iter().cloned().map(Viewer::Player).chain([Viewer::Spectator]);
        for (viewer, view) in viewers.zip(views) {
            if visible_to(event, &viewer) {
                continue;
            }
            if let Some(secret) = secrets.iter().find(|s| view.contains(s.as_str())) {
                failures.push(format!(
                    "{label}: step {step}: the {:?} event's {secret} (private) shows in {viewer:?}'s view",
                    event.kind
                ));
            }
        }
    }
    private.len() as u64
}

fn distinctive_parts(value: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    let distinctive = match value {
        Value::String(s) => s.chars().count() >= 8,
        Value::Array(items) => items.len() >= 3,
        Value::Object(fields) => fields.len() >= 2,
        _ => false,
    };
    if distinctive {
        out.push(value.to_string());
    }
    match value {
        Value::Array(items) => items.iter().for_each(|v| distinctive_parts(v, out)),
        Value::Object(fields) => fields.values().for_each(|v| distinctive_parts(v, out)),
        _ => {}
    }
}
