//! Per-room store data: what a plugin can reach from inside its sandbox.
//!
//! A plugin sees exactly the `arcade:game/host` imports (log, the room's
//! random stream) and a WASI context with nothing in it: no preopened
//! directories, no environment or arguments, no sockets, clocks frozen at
//! zero and WASI randomness derived from the room seed. Its memory is capped
//! by [`MemoryCap`]; its stderr is captured so a panic message can be shown
//! as the reason a room was aborted.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use super::bindings::arcade::game::{host, types};

/// Bytes of plugin stderr kept per room (enough for a panic message).
const STDERR_CAPTURE: usize = 4096;
/// Longest plugin log line passed to the host log.
const MAX_LOG_LINE: usize = 1024;

/// The `wasmtime::Store` data of one room.
pub struct RoomState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(super) memory: MemoryCap,
    rng: SplitMix64,
    stderr: MemoryOutputPipe,
    /// Room id (or another label) attached to the plugin's log lines.
    label: Arc<str>,
}

impl RoomState {
    pub fn new(label: Arc<str>, seed: u64, memory_bytes: usize) -> Self {
        let stderr = MemoryOutputPipe::new(STDERR_CAPTURE);
        let wasi = WasiCtx::builder()
            .stderr(stderr.clone())
            .secure_random(SplitMix64::new(seed ^ 0x5EC0_4E5E_C0DE_0001))
            .insecure_random(SplitMix64::new(seed ^ 0x1A5E_C0DE_0000_0002))
            .insecure_random_seed(u128::from(seed))
            .wall_clock(FrozenClock)
            .monotonic_clock(FrozenClock)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        RoomState {
            wasi,
            table: ResourceTable::new(),
            memory: MemoryCap { max_bytes: memory_bytes, exceeded: false },
            rng: SplitMix64::new(seed),
            stderr,
            label,
        }
    }

    /// The first panic line the plugin wrote to stderr, if any.
    pub(super) fn panic_message(&self) -> Option<String> {
        let bytes = self.stderr.contents();
        let text = String::from_utf8_lossy(&bytes);
        let start = text.find("panicked at")?;
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        Some(text[line_start..].trim().replace('\n', " "))
    }
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
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.exceeded = true;
            wasmtime::bail!("room memory limit of {} bytes exceeded", self.max_bytes);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(maximum.is_none_or(|max| desired <= max))
    }
}

/// splitmix64: the room's deterministic random stream. The SDK's native test
/// harness uses the same algorithm (`sdk/src/host.rs`), so rules tests and
/// the server see the same numbers for the same seed.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl rand_core::TryRng for SplitMix64 {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.next_u64() as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next_u64())
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

/// Plugins get no time: both WASI clocks read zero forever.
struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::SplitMix64;

    #[test]
    fn splitmix_matches_reference_values() {
        // Reference: splitmix64 seeded with 0 (Vigna's published generator).
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }
}
