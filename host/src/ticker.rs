//! The tick scheduler: drives every real-time room (`tick_hz > 0`) and
//! batches their physics.
//!
//! One task per tick rate. Each tick it tells every registered room to run
//! its plugin's `tick`; each room hands over the physics worlds its plugin
//! asked to step (or nothing), the scheduler steps all of them in one
//! `step_batch` (one GPU submission) on a blocking thread, and gives every
//! room its own worlds back. Rooms then broadcast their new state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio::time::MissedTickBehavior;

use crate::metrics::Metrics;
use crate::room::RoomHandle;
use crate::sandbox::Stepping;
use crate::sim::{SimBackend, step_by_dt};

/// One room's worlds for this tick's batch, and where to send them back.
pub struct Submission {
    pub worlds: Stepping,
    pub back: oneshot::Sender<Stepping>,
}

pub struct Ticker {
    backend: Arc<Mutex<Box<dyn SimBackend>>>,
    backend_name: &'static str,
    device: String,
    metrics: Arc<Metrics>,
    /// Rooms per tick rate; a group's task starts with its first room.
    groups: Mutex<HashMap<u32, Arc<Mutex<Vec<RoomHandle>>>>>,
}

impl Ticker {
    pub fn new(backend: Box<dyn SimBackend>, metrics: Arc<Metrics>) -> Arc<Self> {
        let (backend_name, device) = (backend.name(), backend.device().to_string());
        metrics.sim_backend(backend_name, &device);
        Arc::new(Ticker {
            backend: Arc::new(Mutex::new(backend)),
            backend_name,
            device,
            metrics,
            groups: Mutex::default(),
        })
    }

    pub fn backend_name(&self) -> &'static str {
        self.backend_name
    }

    pub fn device(&self) -> &str {
        &self.device
    }

    /// Drive `room` at `tick_hz` from now on (until the room goes away).
    pub fn register(self: &Arc<Self>, tick_hz: u32, room: RoomHandle) {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        let group = groups.entry(tick_hz).or_insert_with(|| {
            let rooms = Arc::new(Mutex::new(Vec::new()));
            tokio::spawn(self.clone().run_group(tick_hz, rooms.clone()));
            rooms
        });
        group.lock().unwrap_or_else(|e| e.into_inner()).push(room);
    }

    async fn run_group(self: Arc<Self>, tick_hz: u32, rooms: Arc<Mutex<Vec<RoomHandle>>>) {
        let period = Duration::from_secs(1) / tick_hz;
        let dt_ms = period.as_millis() as u32;
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            let (batch, mut submissions) = mpsc::unbounded_channel();
            rooms.lock().unwrap_or_else(|e| e.into_inner()).retain(|room| room.tick(dt_ms, batch.clone()));
            drop(batch);
            // Every room submits once or drops its sender: the channel then ends.
            let mut received = Vec::new();
            while let Some(submission) = submissions.recv().await {
                received.push(submission);
            }
            if received.iter().any(|s| !s.worlds.is_empty()) {
                self.step(received).await;
            } else {
                for submission in received {
                    let _ = submission.back.send(submission.worlds);
                }
            }
        }
    }

    /// Step every submitted world as one batch, then hand each room its own.
    async fn step(&self, mut received: Vec<Submission>) {
        let backend = self.backend.clone();
        let started = Instant::now();
        let outcome = tokio::task::spawn_blocking(move || {
            let mut backend = backend.lock().unwrap_or_else(|e| e.into_inner());
            let before = backend.submissions();
            let worlds = received.iter_mut().flat_map(|s| s.worlds.iter_mut()).map(|(_, world, dt)| (world, *dt));
            let stepped = step_by_dt(backend.as_mut(), worlds);
            (received, stepped, backend.submissions() - before)
        })
        .await;
        let Ok((received, stepped, submissions)) = outcome else {
            tracing::error!("the physics batch task failed");
            return;
        };
        match stepped {
            Ok(stats) => self.metrics.sim_batch(stats.worlds, submissions, started.elapsed()),
            Err(e) => tracing::error!(error = %e, "physics batch failed; worlds keep their state"),
        }
        for submission in received {
            let _ = submission.back.send(submission.worlds);
        }
    }
}
