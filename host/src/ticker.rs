//! The tick scheduler: drives every real-time room (`tick_hz > 0`) and
//! batches their physics.
//!
//! One task per tick rate, started with the first room of that rate, so all
//! rooms of a rate tick together. Each tick the task sends every registered
//! room a tick command through the room's own command queue (ticks and
//! actions stay in one order). The room runs its plugin's `tick` and hands
//! over the physics worlds its plugin asked to step, or nothing. Once every
//! room has answered, or the tick's period is over, the scheduler steps all
//! handed-over worlds in one [`Stepper::step`] (one GPU submission for the
//! whole tick) on a blocking thread and gives every room its own worlds
//! back; the rooms then broadcast their new state.
//!
//! A room that answers after that deadline steps its worlds alone
//! ([`Ticker::step_alone`]): every tick's steps are taken, before the room
//! does anything else, which is what replay relies on. Crash recovery steps
//! replayed ticks with the same stepper ([`Ticker::step_now`]), so a
//! recovered game continues on the backend it ran on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio::time::MissedTickBehavior;

use crate::sandbox::{Stepping, worlds_and_dts};
use arcade_sim::{SimError, Stepped, Stepper};
use arcade_telemetry::metrics::Metrics;

/// One room's worlds for this tick's batch, and where to send them back.
pub struct Submission {
    worlds: Stepping,
    back: oneshot::Sender<Stepping>,
}

/// The sending side of one tick's batch, handed to each room with its tick.
pub type Batch = mpsc::UnboundedSender<Submission>;

/// What the scheduler ticks: a room (`room::RoomHandle`), seen only through
/// this trait so the scheduler does not depend on the room.
pub trait Ticked: Send + Sync {
    /// Tick with `dt_ms` and this tick's `batch`; `false` once it wants no
    /// more ticks (the scheduler forgets it).
    fn tick(&self, dt_ms: u32, batch: Batch) -> bool;
}

/// The rooms of one tick rate.
type TickGroup = Vec<Arc<dyn Ticked>>;

pub struct Ticker {
    physics: Arc<Mutex<Stepper>>,
    backend_name: &'static str,
    device: String,
    metrics: Arc<Metrics>,
    /// Rooms per tick rate; a group's task starts with its first room.
    groups: Mutex<HashMap<u32, Arc<Mutex<TickGroup>>>>,
}

impl Ticker {
    pub fn new(mut stepper: Stepper, metrics: Arc<Metrics>) -> Arc<Self> {
        let (backend_name, device) = (stepper.name(), stepper.device());
        metrics.sim_backend(backend_name, &device);
        Arc::new(Ticker {
            physics: Arc::new(Mutex::new(stepper)),
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

    /// Drive `room` at `tick_hz` from now on (until it stops taking ticks).
    pub fn register(self: &Arc<Self>, tick_hz: u32, room: Arc<dyn Ticked>) {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        let group = groups.entry(tick_hz).or_insert_with(|| {
            let rooms = Arc::new(Mutex::new(Vec::new()));
            tokio::spawn(self.clone().run_group(tick_hz, rooms.clone()));
            rooms
        });
        group.lock().unwrap_or_else(|e| e.into_inner()).push(room);
    }

    async fn run_group(self: Arc<Self>, tick_hz: u32, rooms: Arc<Mutex<TickGroup>>) {
        let period = Duration::from_secs(1) / tick_hz;
        let dt_ms = period.as_millis() as u32;
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            // Measured from now: after a late tick, rooms still get a full period.
            let deadline = tokio::time::Instant::now() + period;
            let (batch, submissions) = mpsc::unbounded_channel();
            rooms.lock().unwrap_or_else(|e| e.into_inner()).retain(|room| room.tick(dt_ms, batch.clone()));
            drop(batch);
            let received = gather(submissions, deadline).await;
            if !received.is_empty() {
                self.step_batch(received).await;
            }
        }
    }

    /// Room side: hand `worlds` to this tick's `batch` and wait for them to
    /// come back stepped. A room too late for the batch steps alone.
    pub async fn submit(&self, batch: Batch, worlds: Stepping) -> Result<Stepping, SimError> {
        let (back, stepped) = oneshot::channel();
        let sent = batch.send(Submission { worlds, back });
        drop(batch);
        match sent {
            Ok(()) => stepped.await.map_err(|_| SimError::Gpu("the physics batch of this tick failed".into())),
            Err(mpsc::error::SendError(late)) => {
                self.metrics.sim_late_rooms_total.inc();
                self.step_alone(late.worlds).await
            }
        }
    }

    /// Step one room's worlds outside any batch (on a blocking thread).
    pub async fn step_alone(&self, mut worlds: Stepping) -> Result<Stepping, SimError> {
        let physics = self.physics.clone();
        let started = Instant::now();
        let (worlds, stepped) = tokio::task::spawn_blocking(move || {
            let stepped = lock(&physics).step(worlds_and_dts(&mut worlds));
            (worlds, stepped)
        })
        .await
        .map_err(|e| SimError::Gpu(format!("the physics step task failed: {e}")))?;
        self.record(&stepped?, started.elapsed());
        Ok(worlds)
    }

    /// Step worlds on the calling thread (crash recovery replaying ticks).
    pub fn step_now(&self, worlds: &mut Stepping) -> Result<(), SimError> {
        let started = Instant::now();
        let stepped = lock(&self.physics).step(worlds_and_dts(worlds))?;
        self.record(&stepped, started.elapsed());
        Ok(())
    }

    /// Step every submitted world as one batch, then hand each room its own.
    /// If stepping fails, the rooms get nothing back and abort.
    async fn step_batch(&self, mut received: Vec<Submission>) {
        let physics = self.physics.clone();
        let started = Instant::now();
        let outcome = tokio::task::spawn_blocking(move || {
            let stepped = lock(&physics).step(received.iter_mut().flat_map(|s| worlds_and_dts(&mut s.worlds)));
            (received, stepped)
        })
        .await;
        match outcome {
            Ok((received, Ok(stepped))) => {
                self.record(&stepped, started.elapsed());
                for submission in received {
                    let _ = submission.back.send(submission.worlds);
                }
            }
            Ok((received, Err(error))) => {
                tracing::error!(%error, rooms = received.len(), "physics batch failed; its rooms abort");
            }
            Err(error) => tracing::error!(%error, "the physics batch task failed; its rooms abort"),
        }
    }

    fn record(&self, stepped: &Stepped, took: Duration) {
        if stepped.stats.worlds > 0 {
            self.metrics.sim_batch(stepped.stats.worlds, stepped.submissions, took);
        }
        self.metrics.sim_fallbacks_total.inc_by(u64::from(stepped.fallbacks));
    }
}

/// This tick's submissions: every room submits once or drops its sender (the
/// channel then ends), or the deadline passes and the stragglers are shut
/// out (their `submit` steps alone).
async fn gather(
    mut submissions: mpsc::UnboundedReceiver<Submission>,
    deadline: tokio::time::Instant,
) -> Vec<Submission> {
    let mut received = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, submissions.recv()).await {
            Ok(Some(submission)) => received.push(submission),
            Ok(None) => return received,
            Err(_) => {
                submissions.close();
                while let Ok(submission) = submissions.try_recv() {
                    received.push(submission);
                }
                return received;
            }
        }
    }
}

fn lock(physics: &Mutex<Stepper>) -> std::sync::MutexGuard<'_, Stepper> {
    physics.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::StepRequest;
    use arcade_sim::{Aabb, BodyDesc, Vec2, World, WorldConfig};

    /// One room's hand-over: a world with one body at `x` moving at 1 unit/s.
    fn worlds(x: f32) -> Stepping {
        let mut world = World::new(WorldConfig::new(Aabb::new(Vec2::ZERO, Vec2::new(100.0, 10.0)))).unwrap();
        world.add_body(BodyDesc::new(Vec2::new(x, 5.0), 0.5, 1.0).with_velocity(Vec2::new(1.0, 0.0))).unwrap();
        vec![StepRequest { handle: 0, world, dt: 0.5 }]
    }

    fn x_and_steps(stepping: &Stepping) -> (f32, u64) {
        (stepping[0].world.bodies()[0].position.x, stepping[0].world.steps())
    }

    #[tokio::test]
    async fn a_tick_steps_every_room_once_in_one_batch_and_a_late_room_alone() {
        let metrics = Arc::new(Metrics::default());
        let ticker = Ticker::new(Stepper::cpu(), metrics.clone());
        let (batch, submissions) = mpsc::unbounded_channel();
        let rooms: Vec<_> = (0..3)
            .map(|i| {
                let (ticker, batch) = (ticker.clone(), batch.clone());
                tokio::spawn(async move { ticker.submit(batch, worlds(10.0 * (i + 1) as f32)).await.unwrap() })
            })
            .collect();
        // A fourth room holds its sender past the deadline, then submits.
        let late = {
            let (ticker, batch) = (ticker.clone(), batch.clone());
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                ticker.submit(batch, worlds(50.0)).await.unwrap()
            })
        };
        drop(batch);
        let deadline = tokio::time::Instant::now() + Duration::from_millis(100);
        let received = gather(submissions, deadline).await;
        assert_eq!(received.len(), 3);
        ticker.step_batch(received).await;
        for (i, room) in rooms.into_iter().enumerate() {
            assert_eq!(
                x_and_steps(&room.await.unwrap()),
                (10.0 * (i + 1) as f32 + 0.5, 1),
                "room {i} got its own world back"
            );
        }
        assert_eq!(x_and_steps(&late.await.unwrap()), (50.5, 1));
        assert_eq!(metrics.sim_late_rooms_total.get(), 1);
        let rendered = metrics.render();
        let batches = rendered.lines().find_map(|l| l.strip_prefix("arcade_sim_batch_worlds_count ")).unwrap();
        let worlds = rendered.lines().find_map(|l| l.strip_prefix("arcade_sim_batch_worlds_sum ")).unwrap();
        assert_eq!((batches, worlds), ("2", "4.0"), "a batch of three, and the late room alone");
    }
}
