//! The room runtime: the threads that run plugin code.
//!
//! Room actors, and room creation (which starts the plugin to check the
//! config), run on a tokio runtime of their own, one worker per core, apart
//! from the runtime that serves HTTP and WebSocket connections. A plugin call
//! runs up to its CPU deadline (`limits.call_deadline_ms`) without yielding;
//! on a shared runtime, rooms spinning to their deadline together held every
//! I/O worker and stalled health checks and other players' sockets for
//! hundreds of milliseconds. Here they only compete for CPU, which the
//! operating system shares out in milliseconds.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};
use tokio::task::JoinHandle;

static ROOM_RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The process's room runtime, started on first use and kept for the
/// process's life (a runtime cannot be dropped from async code).
fn runtime() -> &'static Runtime {
    ROOM_RUNTIME.get_or_init(|| {
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("arcade-room")
            .enable_all()
            .build()
            .expect("starting the room runtime")
    })
}

/// Runs `work` (room actors, plugin calls) on the room runtime.
pub fn spawn<F>(work: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    runtime().spawn(work)
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn work_runs_on_room_threads_and_its_result_comes_back() {
        let name = super::spawn(async { std::thread::current().name().map(str::to_string) }).await.unwrap();
        assert_eq!(name.as_deref(), Some("arcade-room"));
    }
}
