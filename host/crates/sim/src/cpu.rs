//! The CPU backend: the reference implementation of the step algorithm
//! described in `sim/mod.rs`, deterministic. The WGSL kernels in `shaders/`
//! do the same arithmetic in the same order; keep the two in step when
//! changing either.
//!
//! ## Threads
//! A world is always stepped by one thread, start to finish, with buffers
//! ([`Scratch`]) that hold nothing from one world to the next: its result
//! depends on the world and `dt` alone. The worlds of a batch are
//! independent, so a batch of several worlds (and at least
//! [`PARALLEL_MIN_BODIES`] bodies) is spread over a `rayon` pool with one
//! thread per core, each thread with its own [`Scratch`]: the same results,
//! bit for bit, as stepping them one after the other on one thread, which
//! replay relies on (`parallel_and_sequential_batches_are_bit_identical`).
//! The default pool is shared by every CPU backend of the process and built
//! on first use; [`CpuBackend::with_threads`] sets another size (1: no pool).

use std::cell::RefCell;
use std::num::NonZeroUsize;
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;

use super::params::{GridLayout, POSITION_CORRECTION, StepParams};
use super::world::{Aabb, Body, ContactRecord, FLAG_SENSOR, Vec2, World};
use super::{BatchStats, SimBackend, SimError, validate_dt};

/// Smallest batch, in bodies of all its worlds together, worth waking the
/// pool for: below it (about 0.6 ms of work) the batch is stepped on the
/// calling thread.
pub const PARALLEL_MIN_BODIES: usize = 2_048;

/// Position and velocity of one body during a step.
#[derive(Clone, Copy, Debug)]
struct Motion {
    position: Vec2,
    velocity: Vec2,
}

/// Per-body constants during a step.
#[derive(Clone, Copy, Debug)]
struct Shape {
    radius: f32,
    inverse_mass: f32,
    flags: u32,
}

/// Bodies binned by grid cell (counting sort): the bodies of cell `c` are
/// `bodies[start[c]..start[c + 1]]`, in ascending index order.
#[derive(Default)]
struct CellLists {
    start: Vec<u32>,
    bodies: Vec<u32>,
}

impl CellLists {
    fn build(&mut self, grid: &GridLayout, motions: &[Motion]) {
        let cells = grid.cell_count() as usize;
        self.start.clear();
        self.start.resize(cells + 1, 0);
        for motion in motions {
            self.start[grid.cell_index(motion.position) as usize + 1] += 1;
        }
        for cell in 0..cells {
            self.start[cell + 1] += self.start[cell];
        }
        let mut fill = self.start.clone();
        self.bodies.resize(motions.len(), 0);
        for (index, motion) in motions.iter().enumerate() {
            let slot = &mut fill[grid.cell_index(motion.position) as usize];
            self.bodies[*slot as usize] = index as u32;
            *slot += 1;
        }
    }

    fn cell(&self, cell: u32) -> &[u32] {
        &self.bodies[self.start[cell as usize] as usize..self.start[cell as usize + 1] as usize]
    }
}

/// Buffers for stepping one world at a time, reused so that stepping
/// allocates only when worlds grow. Every step overwrites what it reads.
#[derive(Default)]
struct Scratch {
    shapes: Vec<Shape>,
    current: Vec<Motion>,
    next: Vec<Motion>,
    cells: CellLists,
    records: Vec<ContactRecord>,
}

thread_local! {
    /// The scratch buffers of a pool thread (pool threads live as long as
    /// their pool, so these are reused from batch to batch).
    static POOL_SCRATCH: RefCell<Scratch> = RefCell::default();
}

/// Threads of the default pool: one per core the process may use.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// The pool shared by CPU backends of the default size, built on first use;
/// `None` when threads cannot be started (stepping then stays sequential).
fn shared_pool() -> Option<Arc<rayon::ThreadPool>> {
    static SHARED: OnceLock<Option<Arc<rayon::ThreadPool>>> = OnceLock::new();
    SHARED.get_or_init(|| build_pool(default_threads())).clone()
}

fn build_pool(threads: usize) -> Option<Arc<rayon::ThreadPool>> {
    match rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|index| format!("arcade-sim-{index}"))
        .build()
    {
        Ok(pool) => Some(Arc::new(pool)),
        Err(error) => {
            tracing::warn!(%error, threads, "cannot start the physics thread pool; stepping worlds on one thread");
            None
        }
    }
}

/// Steps worlds on the CPU, spreading a batch's worlds over `threads` threads.
pub struct CpuBackend {
    /// For batches stepped on the calling thread.
    scratch: Scratch,
    threads: usize,
    /// Built on the first batch big enough to need it (`threads > 1` only).
    pool: Option<Arc<rayon::ThreadPool>>,
    /// Set once the pool could not be built, so it is not tried again.
    pool_failed: bool,
    parallel_batches: u64,
    description: String,
}

impl Default for CpuBackend {
    fn default() -> Self {
        CpuBackend::new()
    }
}

impl CpuBackend {
    /// A backend using every core ([`default_threads`]).
    pub fn new() -> Self {
        CpuBackend::with_threads(default_threads())
    }

    /// A backend stepping a batch's worlds on `threads` threads (0 counts
    /// as 1; 1 steps everything on the calling thread).
    pub fn with_threads(threads: usize) -> Self {
        let threads = threads.max(1);
        let plural = if threads == 1 { "" } else { "s" };
        CpuBackend {
            scratch: Scratch::default(),
            threads,
            pool: None,
            pool_failed: false,
            parallel_batches: 0,
            description: format!("host CPU ({threads} thread{plural})"),
        }
    }

    /// Adds why this backend was chosen to [`SimBackend::device`] (shown in
    /// `/health/ready` and `arcade_sim_backend_info`).
    pub fn with_note(mut self, note: &str) -> Self {
        self.description = format!("{}; {note}", self.description);
        self
    }

    /// Threads a batch is spread over.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Batches stepped on the pool so far (the others ran on the calling thread).
    pub fn parallel_batches(&self) -> u64 {
        self.parallel_batches
    }

    /// The pool for a batch of `worlds` worlds and `bodies` bodies, or
    /// `None` to step it on the calling thread.
    fn pool_for(&mut self, worlds: usize, bodies: usize) -> Option<Arc<rayon::ThreadPool>> {
        if self.threads == 1 || worlds < 2 || bodies < PARALLEL_MIN_BODIES || self.pool_failed {
            return None;
        }
        if self.pool.is_none() {
            self.pool = if self.threads == default_threads() { shared_pool() } else { build_pool(self.threads) };
            self.pool_failed = self.pool.is_none();
        }
        self.pool.clone()
    }
}

impl Scratch {
    fn step_world(&mut self, world: &mut World, dt: f32) {
        let params = StepParams::new(world, dt);
        self.load(world.bodies());
        self.records.clear();
        let mut seen = 0u32;
        for _ in 0..params.substeps {
            integrate(&mut self.current, &self.shapes, &params);
            self.cells.build(&params.grid, &self.current);
            self.resolve(&params, &mut seen);
            std::mem::swap(&mut self.current, &mut self.next);
        }
        for (body, motion) in world.bodies_mut().iter_mut().zip(&self.current) {
            body.position = motion.position;
            body.velocity = motion.velocity;
        }
        world.finish_step(&self.records, seen);
    }

    fn load(&mut self, bodies: &[Body]) {
        self.shapes.clear();
        self.shapes.extend(bodies.iter().map(|b| Shape {
            radius: b.radius,
            inverse_mass: b.inverse_mass(),
            flags: b.flags,
        }));
        self.current.clear();
        self.current.extend(bodies.iter().map(|b| Motion { position: b.position, velocity: b.velocity }));
        self.next.resize(bodies.len(), Motion { position: Vec2::ZERO, velocity: Vec2::ZERO });
    }

    /// Jacobi pass: every body computes its own correction from its
    /// neighbours' `current` state and writes `next`. Contact records are
    /// counted in `seen` (this step so far) and kept up to `max_contacts`.
    fn resolve(&mut self, params: &StepParams, seen: &mut u32) {
        let grid = &params.grid;
        for index in 0..self.current.len() {
            let (shape, motion) = (self.shapes[index], self.current[index]);
            let (column, row) = grid.cell_coords(motion.position);
            let mut correction = Correction::default();
            for neighbour_row in row.saturating_sub(1)..=(row + 1).min(grid.rows - 1) {
                for neighbour_column in column.saturating_sub(1)..=(column + 1).min(grid.cols - 1) {
                    for &other in self.cells.cell(neighbour_row * grid.cols + neighbour_column) {
                        let other = other as usize;
                        if other == index {
                            continue;
                        }
                        let touch = correction.add_pair(
                            index < other,
                            (shape, motion),
                            (self.shapes[other], self.current[other]),
                            params.restitution,
                        );
                        if touch && index < other {
                            if *seen < params.max_contacts {
                                self.records.push(ContactRecord { first: index as u32, second: other as u32 });
                            }
                            *seen = seen.saturating_add(1);
                        }
                    }
                }
            }
            self.next[index] = correction.apply(shape, motion, &params.bounds, params.restitution);
        }
    }
}

/// Semi-implicit Euler for dynamic bodies: velocity first, then position
/// with the new velocity. (Shader: `integrate`.)
fn integrate(motions: &mut [Motion], shapes: &[Shape], params: &StepParams) {
    let (gravity, h) = (params.gravity, params.substep_dt);
    for (motion, shape) in motions.iter_mut().zip(shapes) {
        if shape.inverse_mass > 0.0 {
            motion.velocity.x += gravity.x * h;
            motion.velocity.y += gravity.y * h;
            motion.position.x += motion.velocity.x * h;
            motion.position.y += motion.velocity.y * h;
        }
    }
}

/// Sum of the position and velocity changes a body takes from its
/// neighbours in one sub-step. (Shader: `collide`.)
#[derive(Default)]
struct Correction {
    position: Vec2,
    velocity: Vec2,
}

impl Correction {
    /// Adds the response to one neighbour; returns whether the two touch
    /// (a contact to report). `lower_index` breaks the tie when both centres
    /// coincide, so the two bodies pick opposite normals.
    fn add_pair(
        &mut self,
        lower_index: bool,
        (shape, motion): (Shape, Motion),
        (other_shape, other): (Shape, Motion),
        restitution: f32,
    ) -> bool {
        let delta = Vec2::new(motion.position.x - other.position.x, motion.position.y - other.position.y);
        let distance_squared = delta.x * delta.x + delta.y * delta.y;
        let reach = shape.radius + other_shape.radius;
        let inverse_mass_sum = shape.inverse_mass + other_shape.inverse_mass;
        if distance_squared >= reach * reach || inverse_mass_sum == 0.0 {
            return false;
        }
        if (shape.flags | other_shape.flags) & FLAG_SENSOR != 0 || shape.inverse_mass == 0.0 {
            return true;
        }
        let distance = distance_squared.sqrt();
        let normal = if distance > 0.0 {
            Vec2::new(delta.x / distance, delta.y / distance)
        } else {
            Vec2::new(if lower_index { -1.0 } else { 1.0 }, 0.0)
        };
        let share = shape.inverse_mass / inverse_mass_sum;
        let push = (reach - distance) * POSITION_CORRECTION * share;
        self.position.x += normal.x * push;
        self.position.y += normal.y * push;
        let approach =
            (motion.velocity.x - other.velocity.x) * normal.x + (motion.velocity.y - other.velocity.y) * normal.y;
        if approach < 0.0 {
            let bounce = (1.0 + restitution) * approach * share;
            self.velocity.x -= normal.x * bounce;
            self.velocity.y -= normal.y * bounce;
        }
        true
    }

    /// The body's state after this sub-step: corrections, then the walls.
    fn apply(&self, shape: Shape, motion: Motion, bounds: &Aabb, restitution: f32) -> Motion {
        if shape.inverse_mass == 0.0 {
            return motion;
        }
        let mut position = Vec2::new(motion.position.x + self.position.x, motion.position.y + self.position.y);
        let mut velocity = Vec2::new(motion.velocity.x + self.velocity.x, motion.velocity.y + self.velocity.y);
        bounce_off_walls(
            &mut position.x,
            &mut velocity.x,
            bounds.min.x + shape.radius,
            bounds.max.x - shape.radius,
            restitution,
        );
        bounce_off_walls(
            &mut position.y,
            &mut velocity.y,
            bounds.min.y + shape.radius,
            bounds.max.y - shape.radius,
            restitution,
        );
        Motion { position, velocity }
    }
}

/// Keeps one coordinate within `[low, high]`, reflecting the velocity that
/// points out. (Shader: `bounce_off_walls`.)
fn bounce_off_walls(position: &mut f32, velocity: &mut f32, low: f32, high: f32, restitution: f32) {
    if *position < low {
        *position = low;
        if *velocity < 0.0 {
            *velocity = -*velocity * restitution;
        }
    }
    if *position > high {
        *position = high;
        if *velocity > 0.0 {
            *velocity = -*velocity * restitution;
        }
    }
}

impl SimBackend for CpuBackend {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn device(&self) -> &str {
        &self.description
    }

    fn step_batch(&mut self, worlds: &mut [&mut World], dt: f32) -> Result<BatchStats, SimError> {
        validate_dt(dt)?;
        let bodies = worlds.iter().map(|world| world.bodies().len()).sum();
        match self.pool_for(worlds.len(), bodies) {
            Some(pool) => {
                // One task per world (rayon splits the slice and balances by
                // stealing); a world never moves between threads mid-step.
                pool.install(|| {
                    worlds.par_iter_mut().with_max_len(1).for_each(|world| {
                        POOL_SCRATCH.with_borrow_mut(|scratch| scratch.step_world(world, dt));
                    })
                });
                self.parallel_batches += 1;
            }
            None => {
                for world in worlds.iter_mut() {
                    self.scratch.step_world(world, dt);
                }
            }
        }
        let mut stats = BatchStats::default();
        for world in worlds.iter() {
            stats.add_world(world);
        }
        Ok(stats)
    }

    fn submissions(&self) -> u64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BodyDesc, WorldConfig};

    /// A dense, falling, colliding world: `bodies` circles packed on a
    /// lattice with pseudo-random jitter and velocities from `seed`.
    fn pile(seed: u64, bodies: usize, substeps: u32) -> World {
        let per_row = (bodies as f32).sqrt().ceil() as usize;
        let side = per_row as f32 * 1.5 + 1.0;
        let config = WorldConfig {
            gravity: Vec2::new(0.0, -9.81),
            substeps,
            restitution: 0.7,
            max_contacts: 16 * bodies as u32,
            ..WorldConfig::new(Aabb::new(Vec2::ZERO, Vec2::new(side, side)))
        };
        let mut world = World::new(config).unwrap();
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut unit = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32
        };
        for i in 0..bodies {
            let corner = Vec2::new((i % per_row) as f32 * 1.5, (i / per_row) as f32 * 1.5);
            let position = Vec2::new(corner.x + 0.6 + 0.3 * unit(), corner.y + 0.6 + 0.3 * unit());
            let velocity = Vec2::new(8.0 * unit() - 4.0, 8.0 * unit() - 4.0);
            world.add_body(BodyDesc::new(position, 0.4 + 0.3 * unit(), 1.0).with_velocity(velocity)).unwrap();
        }
        world
    }

    /// Every float of every body as bits, so `-0.0` vs `0.0` or a NaN would differ.
    fn bits(world: &World) -> Vec<[u32; 4]> {
        world
            .bodies()
            .iter()
            .map(|b| [b.position.x.to_bits(), b.position.y.to_bits(), b.velocity.x.to_bits(), b.velocity.y.to_bits()])
            .collect()
    }

    #[test]
    fn parallel_and_sequential_batches_are_bit_identical() {
        // Worlds of different sizes and sub-steps, more than one per thread,
        // one empty: 4 threads (whatever the machine has) against 1.
        let start: Vec<World> =
            (0..13u64).map(|i| pile(i, [0, 50, 400, 120, 700][i as usize % 5], 1 + i as u32 % 4)).collect();
        assert!(start.iter().map(|w| w.bodies().len()).sum::<usize>() >= PARALLEL_MIN_BODIES);
        let (mut on_pool, mut on_one_thread) = (start.clone(), start);
        let (mut parallel, mut sequential) = (CpuBackend::with_threads(4), CpuBackend::with_threads(1));
        let mut contacts = 0;
        for step in 0..40 {
            let dt = if step % 2 == 0 { 1.0 / 60.0 } else { 1.0 / 20.0 };
            let a = parallel.step_batch(&mut on_pool.iter_mut().collect::<Vec<_>>(), dt).unwrap();
            let b = sequential.step_batch(&mut on_one_thread.iter_mut().collect::<Vec<_>>(), dt).unwrap();
            assert_eq!(a, b, "step {step}");
            for (index, (x, y)) in on_pool.iter().zip(&on_one_thread).enumerate() {
                assert_eq!(bits(x), bits(y), "step {step}: world {index}");
                assert_eq!(x.contacts(), y.contacts(), "step {step}: world {index}");
                assert_eq!(x.contacts_overflowed(), y.contacts_overflowed(), "step {step}: world {index}");
            }
            contacts += a.contacts;
        }
        assert!(contacts > 1_000, "the scenario must collide ({contacts} contacts)");
        assert_eq!((parallel.parallel_batches(), sequential.parallel_batches()), (40, 0));
        assert_eq!(parallel.device(), "host CPU (4 threads)");
    }

    #[test]
    fn small_or_single_world_batches_stay_on_the_calling_thread() {
        let mut backend = CpuBackend::with_threads(4);
        let mut small: Vec<World> = (0..3).map(|i| pile(i, 100, 2)).collect();
        backend.step_batch(&mut small.iter_mut().collect::<Vec<_>>(), 0.1).unwrap();
        let mut big = pile(9, PARALLEL_MIN_BODIES, 2);
        backend.step(&mut big, 0.1).unwrap();
        assert_eq!(backend.parallel_batches(), 0);
        assert_eq!(small.iter().chain([&big]).map(World::steps).collect::<Vec<_>>(), [1, 1, 1, 1]);
    }

    #[test]
    fn zero_threads_means_one_and_a_note_is_shown_in_the_device() {
        let backend = CpuBackend::with_threads(0).with_note("auto: skipped llvmpipe");
        assert_eq!(backend.threads(), 1);
        assert_eq!(backend.device(), "host CPU (1 thread); auto: skipped llvmpipe");
        assert!(CpuBackend::new().threads() >= 1);
    }
}
