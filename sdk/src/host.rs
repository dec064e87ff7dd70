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

    /// Plugins have no console: report panics through the host log, where
    /// the host picks the message up as the reason the room was aborted.
    pub fn install_panic_hook() {
        static HOOK: std::sync::Once = std::sync::Once::new();
        HOOK.call_once(|| {
            std::panic::set_hook(Box::new(|info| {
                let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(no message)".into());
                host::log(LogLevel::Error, &format!("panicked at {location}: {message}"));
            }));
        });
    }
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
    /// Native tests keep Rust's own panic output.
    pub fn install_panic_hook() {}
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

/// Prepare the host services for a new room: reset the native random
/// stream (the test harness), and report panics through the host log.
pub(crate) fn prepare_room(seed: u64) {
    imp::install_panic_hook();
    imp::seed(seed)
}
