//! Host services (`arcade:game/host`) as plain functions. Inside a component
//! they call the host; in native builds (rules tests) they use a local
//! stream with the same algorithm, so tests see the same dice as the server.

use crate::LogLevel;

#[cfg(target_arch = "wasm32")]
mod imp {
    use crate::LogLevel;
    use crate::bindings::arcade::game::host;

    pub fn random_u64() -> u64 {
        host::random_u64()
    }
    pub fn log(level: LogLevel, message: &str) {
        host::log(level, message)
    }
    pub fn seed(_seed: u64) {}
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use std::cell::Cell;

    use crate::LogLevel;

    thread_local! {
        static STATE: Cell<u64> = const { Cell::new(0) };
    }

    /// splitmix64, identical to the host's `room::rng` stream.
    pub fn random_u64() -> u64 {
        STATE.with(|s| {
            let next = s.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
            s.set(next);
            let mut z = next;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        })
    }
    pub fn log(level: LogLevel, message: &str) {
        eprintln!("[plugin {level:?}] {message}");
    }
    pub fn seed(seed: u64) {
        STATE.with(|s| s.set(seed));
    }
}

/// The next value of the room's deterministic random stream.
pub fn random_u64() -> u64 {
    imp::random_u64()
}

/// A uniformly distributed index in `0..n` (`n` > 0) from the room stream.
pub fn random_below(n: usize) -> usize {
    (random_u64() % n as u64) as usize
}

/// Log a line in the host's log (never shown to players).
pub fn log(level: LogLevel, message: &str) {
    imp::log(level, message)
}

/// Reset the native random stream (the test harness calls this per room).
pub(crate) fn seed_native_stream(seed: u64) {
    imp::seed(seed)
}
