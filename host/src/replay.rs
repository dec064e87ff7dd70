//! Deterministic replay: a game is fully described by its plugin (by hash),
//! config, players, seed and ordered input log, so running the log again in
//! a fresh sandbox must reproduce the same status and views.
//!
//! [`reapply`] is shared by crash recovery (rebuilding live rooms from the
//! journal) and [`verify`], which backs `arcade replay`: it re-runs an
//! archived [`GameRecord`] and reports any difference, which means the
//! plugin is not deterministic (or the record was altered).
//!
//! [`spectator_frames`] backs the browser client's replay viewer: the same
//! re-run, keeping what a spectator saw after each input (view, status and
//! the events addressed to spectators), which is what live spectators were
//! sent, so nothing in it is secret.
//!
//! Real-time games: every replayed tick is followed by the physics steps it
//! requested, taken by a [`Stepper`] like the live tick scheduler's.

use std::sync::Arc;

use crate::sandbox::{Event, Fault, Plugin, Sandbox, SandboxEngine, Stepping, Viewer, visible_to, worlds_and_dts};
use arcade_archive::record::{GameRecord, LogEntry, LogKind};
use arcade_protocol::RoomStatus;
use arcade_sim::{SimError, Stepper};

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("the game could not start again: {0}")]
    Start(String),
    #[error("input #{seq} ({input}) was refused on replay: {reason}")]
    Refused { seq: u64, input: String, reason: String },
    #[error("the sandbox faulted on replay: {0}")]
    Fault(#[from] Fault),
    #[error("replay differs from the record: {0}")]
    Mismatch(String),
    #[error("the game has {inputs} inputs; a replay shows at most {max}")]
    TooLong { inputs: usize, max: usize },
}

/// Apply every entry of `log` to `sandbox`; each must be accepted again.
/// After a tick, the physics worlds the plugin asked to step are stepped
/// with `step` before the next entry, as the live room did (see
/// `crate::ticker`). A game replays bit for bit when `step` runs the backend
/// the game ran on (the CPU backend, or the same GPU and driver); on another
/// backend positions agree only within float tolerance, and any rule that
/// depends on them (a hit, an outcome) may differ. `on_applied` sees each
/// entry with the events it produced.
pub fn reapply(
    sandbox: &mut Sandbox,
    log: &[LogEntry],
    mut step: impl FnMut(&mut Stepping) -> Result<(), SimError>,
    mut on_applied: impl FnMut(&LogEntry, &[Event]),
) -> Result<(), ReplayError> {
    for entry in log {
        let events = match &entry.kind {
            LogKind::Action { player, action } => sandbox.apply(player, action)?.map_err(|e| ReplayError::Refused {
                seq: entry.seq,
                input: format!("{player}: {action}"),
                reason: format!("{e:?}"),
            })?,
            LogKind::Tick { dt_ms } => {
                let events = sandbox.tick(*dt_ms as u32)?;
                sandbox.step_requested_worlds(&mut step)?;
                events
            }
        };
        on_applied(entry, &events);
    }
    Ok(())
}

/// What a successful verification checked.
#[derive(Debug)]
pub struct Verified {
    pub inputs: usize,
    pub views: usize,
    pub status: RoomStatus,
}

/// Re-run `record` with `plugin` (which must be the recorded build),
/// stepping physics with `physics`, and compare the final status and every
/// final view with the record.
pub fn verify(
    runtime: &SandboxEngine,
    plugin: &Plugin,
    record: &GameRecord,
    physics: &mut Stepper,
) -> Result<Verified, ReplayError> {
    let label: Arc<str> = Arc::from(format!("replay-{}", record.game_id));
    let mut sandbox = plugin
        .start(runtime, label, &record.config, &record.players, &record.seed)
        .map_err(|e| ReplayError::Start(e.to_string()))?;
    reapply(&mut sandbox, &record.log, |worlds| physics.step(worlds_and_dts(worlds)).map(|_| ()), |_, _| {})?;
    let status = RoomStatus::from(sandbox.status()?);
    if status != record.status {
        return Err(ReplayError::Mismatch(format!(
            "final status {} != recorded {}",
            serde_json::to_string(&status).unwrap_or_default(),
            serde_json::to_string(&record.status).unwrap_or_default()
        )));
    }
    let mut views = 0;
    for (player, recorded) in &record.final_views.players {
        compare_view(&mut sandbox, Viewer::Player(player.clone()), recorded, player)?;
        views += 1;
    }
    compare_view(&mut sandbox, Viewer::Spectator, &record.final_views.spectator, "the spectator")?;
    Ok(Verified { inputs: record.log.len(), views: views + 1, status })
}

fn compare_view(
    sandbox: &mut Sandbox,
    viewer: Viewer,
    recorded: &serde_json::Value,
    who: &str,
) -> Result<(), ReplayError> {
    let text = sandbox.view(&viewer)?;
    let view: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| ReplayError::Mismatch(format!("{who}'s view is not JSON: {e}")))?;
    if &view != recorded {
        return Err(ReplayError::Mismatch(format!("{who}'s final view differs: replayed {view}, recorded {recorded}")));
    }
    Ok(())
}

/// What a spectator saw after one input of a replayed game (the first
/// frame: before any input). `seq` and `at_ms` are the input's.
#[derive(Debug, serde::Serialize)]
pub struct Frame {
    pub seq: u64,
    pub at_ms: u64,
    pub status: RoomStatus,
    pub view: serde_json::Value,
    pub events: Vec<FrameEvent>,
}

#[derive(Debug, serde::Serialize)]
pub struct FrameEvent {
    pub kind: String,
    pub data: serde_json::Value,
}

/// Re-run `record` and keep the spectator's frames, at most `max_inputs`
/// inputs' worth (`TooLong` beyond: the caller bounds what a request may
/// cost). The last frame carries the recorded final status (a game the
/// host aborted ends aborted, whatever the rules said).
pub fn spectator_frames(
    runtime: &SandboxEngine,
    plugin: &Plugin,
    record: &GameRecord,
    physics: &mut Stepper,
    max_inputs: usize,
) -> Result<Vec<Frame>, ReplayError> {
    if record.log.len() > max_inputs {
        return Err(ReplayError::TooLong { inputs: record.log.len(), max: max_inputs });
    }
    let label: Arc<str> = Arc::from(format!("frames-{}", record.game_id));
    let mut sandbox = plugin
        .start(runtime, label, &record.config, &record.players, &record.seed)
        .map_err(|e| ReplayError::Start(e.to_string()))?;
    let mut frames = Vec::with_capacity(record.log.len() + 1);
    frames.push(spectator_frame(&mut sandbox, record.started_at_ms, 0, Vec::new())?);
    for entry in &record.log {
        let mut events = Vec::new();
        reapply(
            &mut sandbox,
            std::slice::from_ref(entry),
            |worlds| physics.step(worlds_and_dts(worlds)).map(|_| ()),
            |_, applied| events = spectator_events(applied),
        )?;
        frames.push(spectator_frame(&mut sandbox, entry.at_ms, entry.seq, events)?);
    }
    if let Some(last) = frames.last_mut() {
        last.status = record.status.clone();
    }
    Ok(frames)
}

fn spectator_events(events: &[Event]) -> Vec<FrameEvent> {
    events
        .iter()
        .filter(|e| visible_to(e, &Viewer::Spectator))
        .map(|e| FrameEvent {
            kind: e.kind.clone(),
            data: serde_json::from_str(&e.data).unwrap_or(serde_json::Value::Null),
        })
        .collect()
}

fn spectator_frame(sandbox: &mut Sandbox, at_ms: u64, seq: u64, events: Vec<FrameEvent>) -> Result<Frame, ReplayError> {
    let text = sandbox.view(&Viewer::Spectator)?;
    let view = serde_json::from_str(&text)
        .map_err(|e| ReplayError::Mismatch(format!("the spectator view is not JSON: {e}")))?;
    Ok(Frame { seq, at_ms, status: RoomStatus::from(sandbox.status()?), view, events })
}
