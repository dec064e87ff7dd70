//! The sandbox: one wasmtime [`Engine`] per process and one `Store` +
//! component instance per room.
//!
//! - [`SandboxEngine`] owns the engine (pooling allocator, epoch interruption), the
//!   linker, and the epoch ticker thread that enforces per-call CPU deadlines.
//!   Of WASI, plugins get only deterministic randomness (seeded from the
//!   room), an empty environment and `exit`; every other allowed WASI import
//!   (console streams, clocks) traps when called.
//! - [`Plugin`] is one compiled, validated plugin version (an `InstancePre`
//!   plus its [`GameInfo`]); instantiating it is the cheap part of room creation.
//! - [`Sandbox`] is one room's instance. Every guest call runs under a fresh
//!   CPU deadline; a trap, deadline or memory-cap hit turns into a [`Fault`],
//!   after which the sandbox refuses further calls (a trapped instance cannot
//!   be re-entered). Faults never escape the room that caused them.
//! - A room's physics worlds (`arcade:game/sim`) live in its store; the
//!   sandbox hands the ones its plugin asked to step to whoever steps them
//!   (see `physics.rs`).

mod physics;
mod state;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, Linker, ResourceAny};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap};

use arcade_protocol::RoomStatus;
use arcade_protocol::seed::Seed;

pub use arcade_protocol::seed::SplitMix64;
pub use physics::{SimLimits, StepRequest, Stepping, worlds_and_dts};
pub use state::RoomState;

/// Host bindings generated from `wit/arcade.wit`.
pub mod bindings {
    wasmtime::component::bindgen!({
        world: "game",
        path: "../wit",
        imports: { "arcade:game/sim": trappable },
    });
}

pub use bindings::arcade::game::types::{ActionError, Audience, Event, GameInfo, Outcome, Score, Status, Viewer};

/// The most address space the instance pool may reserve for memories: a
/// quarter of x86-64's 128 TiB of user address space.
const MAX_POOL_RESERVATION: u64 = 32 << 40;

/// Bytes of a pooled memory or table kept resident (and reset in place)
/// when its room ends. The pool reuses such warm slots first and keeps at
/// most 100 of them unused (wasmtime's `max_unused_warm_slots`), so what
/// stays resident is bounded by the busiest moment's rooms, as before.
const KEEP_RESIDENT_BYTES: usize = 1 << 20;

/// How often the epoch advances; CPU deadlines are rounded up to this.
const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Import namespaces a plugin may use. Anything else (files, sockets, HTTP)
/// is rejected when the plugin is published.
const ALLOWED_IMPORT_PREFIXES: &[&str] = &["arcade:game/", "wasi:io/", "wasi:cli/", "wasi:clocks/", "wasi:random/"];

/// Limits applied to every room's sandbox.
#[derive(Clone, Debug)]
pub struct SandboxLimits {
    /// Most rooms (instances) that may be alive at once; sizes the pool.
    pub max_instances: u32,
    /// Linear-memory cap per room, unless its plugin declared another.
    pub memory_bytes: usize,
    /// The most a plugin may declare (and the size of a pooled memory slot).
    pub max_memory_bytes: usize,
    /// CPU time one guest call may take before it is interrupted.
    pub call_deadline: Duration,
    /// Physics worlds and bodies per room (`arcade:game/sim`).
    pub sim: SimLimits,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            max_instances: 1024,
            memory_bytes: 16 << 20,
            max_memory_bytes: 64 << 20,
            call_deadline: Duration::from_millis(100),
            sim: SimLimits::default(),
        }
    }
}

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("not a valid WebAssembly component: {0}")]
    InvalidComponent(String),
    #[error("the component imports `{0}`, which plugins may not use (no files, network or HTTP)")]
    ForbiddenImport(String),
    #[error("the component does not implement the arcade:game/game world: {0}")]
    WrongWorld(String),
    #[error("invalid game info: {0}")]
    InvalidInfo(String),
    #[error("the plugin failed while describing itself: {0}")]
    Fault(Fault),
    #[error("a memory limit of {asked} bytes is more than this server's most, {most} bytes")]
    MemoryLimitTooLarge { asked: usize, most: usize },
}

/// How a plugin call went wrong. The room that owns the sandbox is aborted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct Fault {
    pub kind: FaultKind,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// The call ran past its CPU deadline.
    CpuDeadline,
    /// The plugin tried to grow its memory past the room cap.
    MemoryLimit,
    /// The plugin panicked.
    Panic,
    /// Any other trap (unreachable, out-of-bounds access, stack overflow, ...).
    Trap,
    /// The pool of instances is exhausted (too many live rooms).
    Capacity,
}

impl FaultKind {
    /// Stable machine-readable name (used in API errors and metrics labels).
    pub fn code(self) -> &'static str {
        match self {
            FaultKind::CpuDeadline => "cpu_deadline",
            FaultKind::MemoryLimit => "memory_limit",
            FaultKind::Panic => "panic",
            FaultKind::Trap => "trap",
            FaultKind::Capacity => "capacity",
        }
    }
}

impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a room could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The rules refused the config or players (the plugin's own message).
    #[error("{0}")]
    Rejected(String),
    #[error(transparent)]
    Fault(#[from] Fault),
}

/// The process-wide wasmtime engine, linker and epoch ticker.
pub struct SandboxEngine {
    engine: Engine,
    linker: Linker<RoomState>,
    limits: SandboxLimits,
    deadline_ticks: u64,
    ticker: Option<JoinHandle<()>>,
    stop_ticker: Arc<AtomicBool>,
}

impl SandboxEngine {
    pub fn new(limits: SandboxLimits) -> wasmtime::Result<Self> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        // Small per-memory reservations so that tens of thousands of pooled
        // memories fit in the address space; bounds checks become explicit.
        // A slot holds the largest memory a plugin may declare; each room's
        // own cap is its store's limiter.
        let memory_bytes = limits.max_memory_bytes.max(limits.memory_bytes).next_multiple_of(64 << 10);
        config.memory_reservation(memory_bytes as u64);
        config.memory_guard_size(64 << 10);
        config.memory_reservation_for_growth(0);

        let slots = limits.max_instances + 8; // + a few for publish-time checks
        // The pool reserves address space (not memory) for every slot's
        // memories up front: refuse a configuration that cannot fit.
        let reserved = u64::from(slots) * 2 * (memory_bytes as u64 + (64 << 10));
        if reserved > MAX_POOL_RESERVATION {
            wasmtime::bail!(
                "limits.max_rooms ({}) x limits.max_room_memory_bytes ({memory_bytes}) would reserve {} GiB of address \
                 space for the instance pool, more than {} GiB: lower one of them",
                limits.max_instances,
                reserved >> 30,
                MAX_POOL_RESERVATION >> 30
            );
        }
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(slots)
            .total_core_instances(slots * 8)
            .total_memories(slots * 2)
            .total_tables(slots * 8)
            .max_memory_size(memory_bytes)
            .max_memories_per_component(4)
            .max_tables_per_component(16)
            // componentize-py's `--stub-wasi` Python components hold 38.
            .max_core_instances_per_component(64)
            // A finished room's memories and tables are reset for the next
            // room by rewriting the pages it touched (found with Linux's
            // PAGEMAP_SCAN) instead of `madvise`, up to this much per memory:
            // every `madvise` flushed the other cores' TLBs (an interrupt
            // each), ~6 calls per short game, and the next room then faulted
            // its pages back in. The rest of a larger memory is still released.
            .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
            .table_keep_resident(KEEP_RESIDENT_BYTES)
            .pagemap_scan(Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config)?;

        let mut linker = Linker::new(&engine);
        state::link_inert_wasi(&mut linker)?;
        bindings::Game::add_to_linker::<RoomState, HasSelf<RoomState>>(&mut linker, |s| s)?;

        let stop_ticker = Arc::new(AtomicBool::new(false));
        let ticker = {
            let engine = engine.clone();
            let stop = stop_ticker.clone();
            std::thread::Builder::new().name("arcade-epoch".into()).spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })?
        };
        // A deadline of N ticks fires after between N-1 and N tick periods.
        let deadline_ticks = limits.call_deadline.as_millis().div_ceil(EPOCH_TICK.as_millis()) as u64 + 1;
        Ok(SandboxEngine { engine, linker, limits, deadline_ticks, ticker: Some(ticker), stop_ticker })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn limits(&self) -> &SandboxLimits {
        &self.limits
    }

    /// Compile a component from its binary (tens of milliseconds).
    pub fn compile(&self, wasm: &[u8]) -> Result<Component, LoadError> {
        Component::from_binary(&self.engine, wasm).map_err(|e| LoadError::InvalidComponent(format!("{e:#}")))
    }

    /// Check a compiled component against the contract and read its info.
    /// Whether a plugin may declare `memory_bytes` for its rooms here.
    pub fn check_memory_limit(&self, memory_bytes: usize) -> Result<(), LoadError> {
        let most = self.limits.max_memory_bytes.max(self.limits.memory_bytes);
        if memory_bytes > most {
            return Err(LoadError::MemoryLimitTooLarge { asked: memory_bytes, most });
        }
        Ok(())
    }

    /// [`SandboxEngine::prepare_with_memory`] with the server's default
    /// memory cap.
    pub fn prepare(&self, component: &Component) -> Result<Plugin, LoadError> {
        self.prepare_with_memory(component, None)
    }

    /// Check a component's imports, instantiate it once and read its info;
    /// its rooms get `memory_bytes` of linear memory at most (the plugin's
    /// declaration, within the server's most; `None`: the default).
    pub fn prepare_with_memory(&self, component: &Component, memory_bytes: Option<usize>) -> Result<Plugin, LoadError> {
        let memory_bytes = memory_bytes.unwrap_or(self.limits.memory_bytes);
        self.check_memory_limit(memory_bytes)?;
        for (name, _) in component.component_type().imports(&self.engine) {
            if !ALLOWED_IMPORT_PREFIXES.iter().any(|p| name.starts_with(p)) {
                return Err(LoadError::ForbiddenImport(name.to_string()));
            }
        }
        // Allowed imports Arcade does not provide (console streams, clocks)
        // link as functions that trap: calling one aborts the room.
        let mut linker = self.linker.clone();
        linker.define_unknown_imports_as_traps(component).map_err(|e| LoadError::WrongWorld(format!("{e:#}")))?;
        let pre = linker
            .instantiate_pre(component)
            .and_then(bindings::GamePre::new)
            .map_err(|e| LoadError::WrongWorld(format!("{e:#}")))?;
        let mut probe = Sandbox::store(self, Arc::from("publish-check"), &Seed::SplitMix64(0), memory_bytes);
        let game = pre.instantiate(&mut probe).map_err(|e| LoadError::Fault(classify(e, &probe)))?;
        let info = game.arcade_game_rules().call_info(&mut probe).map_err(|e| LoadError::Fault(classify(e, &probe)))?;
        check_info(&info).map_err(LoadError::InvalidInfo)?;
        Ok(Plugin { pre, info, memory_bytes })
    }
}

impl Drop for SandboxEngine {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
    }
}

/// Names are registry keys and URL segments: keep them simple.
fn check_info(info: &GameInfo) -> Result<(), String> {
    let name_ok = !info.name.is_empty()
        && info.name.len() <= 64
        && info.name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && info.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !name_ok {
        return Err(format!("name {:?} must be 1-64 of [a-z0-9-], starting with a letter or digit", info.name));
    }
    semver::Version::parse(&info.version)
        .map_err(|e| format!("version {:?} is not semantic versioning: {e}", info.version))?;
    if info.min_players == 0 || info.min_players > info.max_players || info.max_players > 64 {
        return Err(format!(
            "player counts {}..={} must satisfy 1 <= min <= max <= 64",
            info.min_players, info.max_players
        ));
    }
    if info.tick_hz > 120 {
        return Err(format!("tick-hz {} is above the maximum of 120", info.tick_hz));
    }
    Ok(())
}

/// One compiled, validated plugin version.
pub struct Plugin {
    pre: bindings::GamePre<RoomState>,
    info: GameInfo,
    /// Each room's linear-memory cap.
    memory_bytes: usize,
}

impl Plugin {
    pub fn info(&self) -> &GameInfo {
        &self.info
    }

    /// The linear memory each of its rooms may use at most.
    pub fn memory_bytes(&self) -> usize {
        self.memory_bytes
    }

    /// Instantiate the plugin for a new room and create the game.
    pub fn start(
        &self,
        runtime: &SandboxEngine,
        label: Arc<str>,
        config: &str,
        players: &[String],
        seed: &Seed,
    ) -> Result<Sandbox, StartError> {
        let mut store = Sandbox::store(runtime, label, seed, self.memory_bytes);
        let game = self.pre.instantiate(&mut store).map_err(|e| classify(e, &store))?;
        let created = game
            .arcade_game_rules()
            .room()
            .call_create(&mut store, config, players, seed.plugin_seed())
            .map_err(|e| classify(e, &store))?;
        let room = created.map_err(StartError::Rejected)?;
        Ok(Sandbox { store, game, room, deadline_ticks: runtime.deadline_ticks, fault: None })
    }
}

/// One room's plugin instance.
pub struct Sandbox {
    store: Store<RoomState>,
    game: bindings::Game,
    room: ResourceAny,
    deadline_ticks: u64,
    fault: Option<Fault>,
}

impl Sandbox {
    fn store(runtime: &SandboxEngine, label: Arc<str>, seed: &Seed, memory_bytes: usize) -> Store<RoomState> {
        let mut store = Store::new(&runtime.engine, RoomState::new(label, seed, memory_bytes, runtime.limits.sim));
        store.limiter(|s| &mut s.memory);
        // Instantiation may run start functions: it gets a deadline too.
        store.set_epoch_deadline(runtime.deadline_ticks);
        store
    }

    /// Run one guest call under a fresh CPU deadline; a failure poisons the sandbox.
    fn call<T>(
        &mut self,
        f: impl FnOnce(&mut Store<RoomState>, &bindings::Game, ResourceAny) -> wasmtime::Result<T>,
    ) -> Result<T, Fault> {
        if let Some(fault) = &self.fault {
            return Err(fault.clone());
        }
        self.store.set_epoch_deadline(self.deadline_ticks);
        f(&mut self.store, &self.game, self.room).map_err(|e| {
            let fault = classify(e, &self.store);
            self.fault = Some(fault.clone());
            fault
        })
    }

    pub fn apply(&mut self, player: &str, action: &str) -> Result<Result<Vec<Event>, ActionError>, Fault> {
        self.call(|s, g, r| g.arcade_game_rules().room().call_apply(s, r, player, action))
    }

    pub fn view(&mut self, viewer: &Viewer) -> Result<String, Fault> {
        self.call(|s, g, r| g.arcade_game_rules().room().call_view(s, r, viewer))
    }

    pub fn status(&mut self) -> Result<Status, Fault> {
        self.call(|s, g, r| g.arcade_game_rules().room().call_status(s, r))
    }

    pub fn legal_actions(&mut self, player: &str) -> Result<Vec<String>, Fault> {
        self.call(|s, g, r| g.arcade_game_rules().room().call_legal_actions(s, r, player))
    }

    pub fn tick(&mut self, dt_ms: u32) -> Result<Vec<Event>, Fault> {
        self.call(|s, g, r| g.arcade_game_rules().room().call_tick(s, r, dt_ms))
    }

    /// Take out the physics worlds the plugin asked to step (after a tick);
    /// the caller steps them and gives them back with [`Sandbox::put_back_worlds`].
    pub fn take_requested_worlds(&mut self) -> Stepping {
        self.store.data_mut().worlds.take_requested()
    }

    /// Give back worlds after their step.
    pub fn put_back_worlds(&mut self, stepped: Stepping) {
        self.store.data_mut().worlds.put_back(stepped);
    }

    /// Step the requested worlds right here with `step` (replay, crash
    /// recovery, `arcade play`: no other room shares the batch). A failure
    /// poisons the sandbox like a trap: its worlds would no longer match a replay.
    pub fn step_requested_worlds(
        &mut self,
        step: impl FnOnce(&mut Stepping) -> Result<(), arcade_sim::SimError>,
    ) -> Result<(), Fault> {
        if let Some(fault) = &self.fault {
            return Err(fault.clone());
        }
        self.store.data_mut().worlds.step_requested(step).map_err(|e| {
            let fault = Fault { kind: FaultKind::Trap, message: format!("physics step failed: {e}") };
            self.fault = Some(fault.clone());
            fault
        })
    }

    /// The fault that killed this sandbox, if any.
    pub fn fault(&self) -> Option<&Fault> {
        self.fault.as_ref()
    }
}

/// Turn a wasmtime error from a guest call into a [`Fault`] with a clear reason.
fn classify(error: wasmtime::Error, store: &Store<RoomState>) -> Fault {
    let state = store.data();
    let (kind, message) = if state.memory.exceeded {
        (FaultKind::MemoryLimit, format!("{:#}", error.root_cause()))
    } else if let Some(panic) = state.panic_message() {
        (FaultKind::Panic, panic)
    } else {
        match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => (FaultKind::CpuDeadline, "the plugin call ran past its CPU deadline".to_string()),
            Some(Trap::AllocationTooLarge) => {
                (FaultKind::Capacity, "no free instance slot (too many live rooms)".to_string())
            }
            Some(trap) => (FaultKind::Trap, format!("wasm trap: {trap}")),
            None => {
                let text = format!("{error:#}");
                if text.contains("maximum concurrent") {
                    (FaultKind::Capacity, text)
                } else if let Some(import) = text.split("unknown import: `").nth(1) {
                    let import = import.split('`').next().unwrap_or(import);
                    let message = format!(
                        "the plugin called `{import}`, which Arcade does not provide to plugins \
                         (no console, clocks, files or network; use the host log)"
                    );
                    (FaultKind::Trap, message)
                } else {
                    (FaultKind::Trap, text)
                }
            }
        }
    };
    Fault { kind, message }
}

/// Whether `viewer` may see `event`, by its audience.
pub fn visible_to(event: &Event, viewer: &Viewer) -> bool {
    match (&event.audience, viewer) {
        (Audience::Everyone, _) => true,
        (Audience::Only(_), Viewer::Spectator) => false,
        (Audience::AllExcept(_), Viewer::Spectator) => true,
        (Audience::Only(who), Viewer::Player(p)) => who.contains(p),
        (Audience::AllExcept(who), Viewer::Player(p)) => !who.contains(p),
    }
}

/// A plugin's status as players see it (`protocol::RoomStatus`).
impl From<Status> for RoomStatus {
    fn from(status: Status) -> Self {
        match status {
            Status::Awaiting(awaiting) => RoomStatus::Playing { awaiting },
            Status::Finished(Outcome { winners, scores, summary }) => RoomStatus::Finished {
                winners,
                scores: scores.into_iter().map(|s| (s.player, s.points)).collect(),
                summary,
            },
            Status::Aborted(reason) => RoomStatus::aborted("plugin_aborted", reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_too_large_for_the_address_space_is_refused_with_the_keys_to_change() {
        let limits = SandboxLimits { max_instances: 1_000_000, ..Default::default() };
        let refused = SandboxEngine::new(limits).err().expect("1,000,000 rooms of 64 MiB do not fit");
        let message = refused.to_string();
        assert!(message.contains("limits.max_rooms") && message.contains("limits.max_room_memory_bytes"), "{message}");
        let fits = SandboxLimits { max_instances: 100_000, ..Default::default() };
        assert!(SandboxEngine::new(fits).is_ok(), "100,000 rooms of 64 MiB fit");
    }
}
