//! # Simulation engine
//!
//! 2D rigid circles in walled worlds, stepped by the host for plugins that
//! need more bodies per tick than they can afford to simulate themselves.
//! A [`World`] holds settings and bodies; a [`SimBackend`] steps many worlds
//! at once ([`SimBackend::step_batch`]), which is how a tick scheduler
//! batches the steps of all rooms due in a tick (on the GPU: one queue
//! submission for the whole batch).
//!
//! ## Algorithm (both backends; `params.rs` holds the shared numbers)
//! Each `step(dt)` runs `substeps` sub-steps of `h = dt / substeps`:
//! 1. integrate (semi-implicit Euler) dynamic bodies: `v += g·h; p += v·h`;
//! 2. bin bodies into a uniform grid (cells ≥ the largest diameter), bodies
//!    of a cell in ascending index order;
//! 3. Jacobi collision pass: every body sums, over the overlapping bodies in
//!    its 3×3 cells, a position correction (its inverse-mass share of
//!    `POSITION_CORRECTION` × overlap) and, for approaching pairs, the
//!    restitution impulse; all of it is read from the state after step 1,
//!    so the result does not depend on processing order. Pairs with a
//!    sensor report a contact but get no response; static bodies (mass 0)
//!    never move; static-static pairs are ignored;
//! 4. walls: a dynamic body is clamped into the bounds and its outward
//!    velocity reflected (× restitution).
//!
//! Contacts are reported per touching pair per sub-step, then de-duplicated
//! into [`World::contacts`].

pub mod batch;
pub mod cpu;
#[cfg(feature = "gpu")]
pub mod gpu;
pub mod params;
pub mod select;
pub mod world;

pub use batch::{Stepped, Stepper};

/// Physics worlds one room may hold at once, by default (`sim.max_worlds_per_room`).
pub const DEFAULT_MAX_WORLDS_PER_ROOM: u32 = 4;
/// Bodies one world may hold, by default (`sim.max_bodies_per_world`).
pub const DEFAULT_MAX_BODIES_PER_WORLD: u32 = 10_000;
pub use cpu::{CpuBackend, PARALLEL_MIN_BODIES, default_threads};
#[cfg(feature = "gpu")]
pub use gpu::GpuBackend;
pub use select::{AdapterKind, BackendPreference, Choice, CpuReason, choose, describe_adapters, select_backend};
pub use world::{Aabb, Body, BodyDesc, BodyId, Contact, FLAG_SENSOR, Vec2, World, WorldConfig};

/// Why a simulation call failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("invalid world: {0}")]
    InvalidWorld(&'static str),
    #[error("invalid body: {0}")]
    InvalidBody(&'static str),
    #[error("no body with id {0}")]
    UnknownBody(BodyId),
    #[error("step length must be finite and > 0, got {0}")]
    InvalidDt(f32),
    #[error("no GPU adapter: {0}")]
    NoAdapter(String),
    #[error("GPU error: {0}")]
    Gpu(String),
    #[error("batch too large for the GPU: {0}")]
    BatchTooLarge(String),
}

/// Totals of one `step_batch` call, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchStats {
    pub worlds: usize,
    pub bodies: usize,
    /// Distinct contacts reported, all worlds together.
    pub contacts: usize,
    /// Worlds whose contact records exceeded their `max_contacts`.
    pub overflowed_worlds: usize,
}

impl BatchStats {
    fn add_world(&mut self, world: &World) {
        self.worlds += 1;
        self.bodies += world.bodies().len();
        self.contacts += world.contacts().len();
        self.overflowed_worlds += usize::from(world.contacts_overflowed());
    }
}

/// Steps worlds. Implementations keep scratch buffers between calls, so keep
/// one backend for the life of the server.
pub trait SimBackend: Send {
    /// `"cpu"` or `"gpu"`.
    fn name(&self) -> &'static str;

    /// What it runs on, for logs and health output (e.g. the GPU adapter).
    fn device(&self) -> &str;

    /// Advances every world by `dt` seconds. Afterwards each world holds its
    /// new positions, velocities and the contacts of this step. On error no
    /// world has been changed.
    fn step_batch(&mut self, worlds: &mut [&mut World], dt: f32) -> Result<BatchStats, SimError>;

    /// Queue submissions made so far (always 0 on the CPU): one per
    /// non-empty `step_batch` on the GPU.
    fn submissions(&self) -> u64;

    /// Steps a single world.
    fn step(&mut self, world: &mut World, dt: f32) -> Result<BatchStats, SimError> {
        self.step_batch(&mut [world], dt)
    }
}

fn validate_dt(dt: f32) -> Result<(), SimError> {
    if dt.is_finite() && dt > 0.0 { Ok(()) } else { Err(SimError::InvalidDt(dt)) }
}
