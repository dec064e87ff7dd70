//! The CPU backend: the reference implementation of the step algorithm
//! described in `sim/mod.rs`, single-threaded and deterministic. The WGSL
//! kernels in `shaders/` do the same arithmetic in the same order; keep the
//! two in step when changing either.

use super::params::{GridLayout, POSITION_CORRECTION, StepParams};
use super::world::{Aabb, Body, ContactRecord, FLAG_SENSOR, Vec2, World};
use super::{BatchStats, SimBackend, SimError, validate_dt};

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

/// Reusable buffers, so stepping allocates only when worlds grow.
#[derive(Default)]
pub struct CpuBackend {
    shapes: Vec<Shape>,
    current: Vec<Motion>,
    next: Vec<Motion>,
    cells: CellLists,
    records: Vec<ContactRecord>,
}

impl CpuBackend {
    pub fn new() -> Self {
        CpuBackend::default()
    }

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
        "host CPU (single thread)"
    }

    fn step_batch(&mut self, worlds: &mut [&mut World], dt: f32) -> Result<BatchStats, SimError> {
        validate_dt(dt)?;
        let mut stats = BatchStats::default();
        for world in worlds.iter_mut() {
            self.step_world(world, dt);
            stats.add_world(world);
        }
        Ok(stats)
    }

    fn submissions(&self) -> u64 {
        0
    }
}
