//! Per-room store data: what a plugin can reach from inside its sandbox.
//!
//! A plugin sees exactly the `arcade:game/host` imports (log, the room's
//! random stream) and, of WASI, only what cannot leak or block: randomness
//! derived from the room's secret seed (`arcade_protocol::seed`) (so `HashMap` works and stays deterministic),
//! an empty environment, and `exit`. Its memory is capped by [`MemoryCap`].
//! Plugins that import `arcade:game/sim` also get physics worlds, held here
//! (see `physics.rs`).
//! The SDK's panic hook reports a panic through the host log; that message
//! becomes the reason the room was aborted.

use std::sync::Arc;

use wasmtime::ResourceLimiter;
use wasmtime::component::{Linker, ResourceTable};
use wasmtime_wasi::cli::{WasiCli, WasiCliView};
use wasmtime_wasi::p2::bindings::{cli, random};
use wasmtime_wasi::random::WasiRandom;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::arcade::game::{host, types};
use super::physics::{SimLimits, Worlds};
use arcade_protocol::seed::{Seed, SeededRng, Stream};

/// Prefix of the SDK panic hook's log line (see `sdk/src/host.rs`).
const PANIC_PREFIX: &str = "panicked at";
/// Longest plugin log line passed to the host log.
const MAX_LOG_LINE: usize = 1024;

/// The `wasmtime::Store` data of one room.
pub struct RoomState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(super) memory: MemoryCap,
    rng: SeededRng,
    /// The panic message the plugin logged, if it panicked.
    panic: Option<String>,
    /// Physics worlds the plugin created (`arcade:game/sim`).
    pub(super) worlds: Worlds,
    /// Room id (or another label) attached to the plugin's log lines.
    label: Arc<str>,
}

impl RoomState {
    pub fn new(label: Arc<str>, seed: &Seed, memory_bytes: usize, sim: SimLimits) -> Self {
        let insecure_seed = match seed {
            Seed::SplitMix64(n) => u128::from(*n),
            Seed::ChaCha20(_) => {
                let mut derived = seed.stream(Stream::Derived);
                derived.next_u64(); // the first draw is the plugin's `create` seed
                (u128::from(derived.next_u64()) << 64) | u128::from(derived.next_u64())
            }
        };
        let wasi = WasiCtx::builder()
            .secure_random(seed.stream(Stream::WasiSecure))
            .insecure_random(seed.stream(Stream::WasiInsecure))
            .insecure_random_seed(insecure_seed)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        RoomState {
            wasi,
            table: ResourceTable::new(),
            memory: MemoryCap { max_bytes: memory_bytes, exceeded: false },
            rng: seed.stream(Stream::Plugin),
            panic: None,
            worlds: Worlds::new(sim),
            label,
        }
    }

    /// The panic message the plugin reported before it trapped, if any.
    pub(super) fn panic_message(&self) -> Option<String> {
        self.panic.clone()
    }
}

/// Link the WASI interfaces that are safe and deterministic for plugins:
/// seeded randomness, the (empty) environment, and exit.
pub(super) fn link_inert_wasi(linker: &mut Linker<RoomState>) -> wasmtime::Result<()> {
    random::random::add_to_linker::<RoomState, WasiRandom>(linker, |s| s.wasi.random())?;
    random::insecure::add_to_linker::<RoomState, WasiRandom>(linker, |s| s.wasi.random())?;
    random::insecure_seed::add_to_linker::<RoomState, WasiRandom>(linker, |s| s.wasi.random())?;
    cli::environment::add_to_linker::<RoomState, WasiCli>(linker, |s| s.cli())?;
    cli::exit::add_to_linker::<RoomState, WasiCli>(linker, |s| s.cli())?;
    Ok(())
}

impl WasiView for RoomState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl host::Host for RoomState {
    fn log(&mut self, level: host::LogLevel, message: String) {
        let mut message = message;
        if message.len() > MAX_LOG_LINE {
            let mut cut = MAX_LOG_LINE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
        }
        let room = &*self.label;
        if level == host::LogLevel::Error && message.starts_with(PANIC_PREFIX) {
            self.panic = Some(message.clone());
        }
        match level {
            host::LogLevel::Debug => tracing::debug!(room, plugin_log = %message),
            host::LogLevel::Info => tracing::info!(room, plugin_log = %message),
            host::LogLevel::Warn => tracing::warn!(room, plugin_log = %message),
            host::LogLevel::Error => tracing::error!(room, plugin_log = %message),
        }
    }

    fn random_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }
}

impl types::Host for RoomState {}

/// Caps one room's linear memory; remembers that the cap was hit so the
/// resulting trap can be reported as `memory_limit`.
pub struct MemoryCap {
    max_bytes: usize,
    pub(super) exceeded: bool,
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.exceeded = true;
            wasmtime::bail!("room memory limit of {} bytes exceeded", self.max_bytes);
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(maximum.is_none_or(|max| desired <= max))
    }
}
