//! Packing a batch of worlds into the flat arrays the kernels read (bodies,
//! cells and contact slots of all worlds back to back, with a per-world
//! offset table), and unpacking the results into the worlds. Pure CPU code;
//! the struct layouts mirror `shaders/common.wgsl`.

use bytemuck::{Pod, Zeroable};

use crate::params::StepParams;
use crate::world::{ContactRecord, FLAG_SENSOR, Vec2, World};

/// `struct World` in the shaders: one world's settings and offsets.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct GpuWorld {
    pub bounds_min: [f32; 2],
    pub bounds_max: [f32; 2],
    pub gravity: [f32; 2],
    pub grid_origin: [f32; 2],
    pub inverse_cell_size: f32,
    pub grid_cols: u32,
    pub grid_rows: u32,
    pub cell_offset: u32,
    pub body_offset: u32,
    pub body_count: u32,
    pub substeps: u32,
    pub substep_dt: f32,
    pub restitution: f32,
    pub contact_offset: u32,
    pub contact_capacity: u32,
    pub _pad: u32,
}

/// `struct Shape` in the shaders.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct GpuShape {
    pub radius: f32,
    pub inverse_mass: f32,
    /// World index << 1 | 1 for sensors.
    pub world_and_sensor: u32,
}

/// `struct Globals` in the shaders.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct GpuGlobals {
    pub substep: u32,
    pub body_total: u32,
    pub cell_total: u32,
    pub scan_block_count: u32,
}

/// A position or velocity (`vec2<f32>`).
pub type GpuVec2 = [f32; 2];

/// A batch flattened for upload.
#[derive(Default)]
pub struct PackedBatch {
    pub worlds: Vec<GpuWorld>,
    pub shapes: Vec<GpuShape>,
    pub positions: Vec<GpuVec2>,
    pub velocities: Vec<GpuVec2>,
    pub cell_total: u32,
    pub contact_total: u32,
    pub max_substeps: u32,
}

impl PackedBatch {
    /// Refills `self` from `worlds` (keeps the allocations).
    pub fn pack(&mut self, worlds: &[&mut World], dt: f32) -> Result<(), String> {
        self.worlds.clear();
        self.shapes.clear();
        self.positions.clear();
        self.velocities.clear();
        let (mut cell_total, mut contact_total, mut max_substeps) = (0u64, 0u64, 0u32);
        if worlds.len() > (u32::MAX >> 1) as usize {
            return Err(format!("{} worlds exceed the 31-bit world index", worlds.len()));
        }
        for (world_index, world) in worlds.iter().enumerate() {
            let params = StepParams::new(world, dt);
            self.worlds.push(GpuWorld {
                bounds_min: [params.bounds.min.x, params.bounds.min.y],
                bounds_max: [params.bounds.max.x, params.bounds.max.y],
                gravity: [params.gravity.x, params.gravity.y],
                grid_origin: [params.grid.origin.x, params.grid.origin.y],
                inverse_cell_size: params.grid.inverse_cell_size,
                grid_cols: params.grid.cols,
                grid_rows: params.grid.rows,
                cell_offset: to_u32(cell_total, "grid cells")?,
                body_offset: to_u32(self.shapes.len() as u64, "bodies")?,
                body_count: to_u32(world.bodies().len() as u64, "bodies")?,
                substeps: params.substeps,
                substep_dt: params.substep_dt,
                restitution: params.restitution,
                contact_offset: to_u32(contact_total, "contact slots")?,
                contact_capacity: params.max_contacts,
                _pad: 0,
            });
            for body in world.bodies() {
                self.shapes.push(GpuShape {
                    radius: body.radius,
                    inverse_mass: body.inverse_mass(),
                    world_and_sensor: (world_index as u32) << 1 | u32::from(body.flags & FLAG_SENSOR != 0),
                });
                self.positions.push([body.position.x, body.position.y]);
                self.velocities.push([body.velocity.x, body.velocity.y]);
            }
            cell_total += params.grid.cell_count() as u64;
            contact_total += params.max_contacts as u64;
            max_substeps = max_substeps.max(params.substeps);
        }
        to_u32(self.shapes.len() as u64, "bodies")?;
        self.cell_total = to_u32(cell_total, "grid cells")?;
        self.contact_total = to_u32(contact_total, "contact slots")?;
        self.max_substeps = max_substeps;
        Ok(())
    }

    pub fn body_total(&self) -> u32 {
        self.shapes.len() as u32
    }
}

fn to_u32(value: u64, what: &str) -> Result<u32, String> {
    u32::try_from(value).map_err(|_| format!("{value} {what} exceed the 32-bit index range"))
}

/// What the kernels produced for the whole batch.
pub struct BatchResults<'a> {
    pub positions: &'a [GpuVec2],
    pub velocities: &'a [GpuVec2],
    pub contact_counts: &'a [u32],
    pub contacts: &'a [[u32; 2]],
}

/// Writes the read-back state and contact records into the worlds.
pub fn unpack(worlds: &mut [&mut World], packed: &PackedBatch, results: &BatchResults<'_>) {
    let mut records = Vec::new();
    for ((world, layout), &seen) in worlds.iter_mut().zip(&packed.worlds).zip(results.contact_counts) {
        let first_body = layout.body_offset as usize;
        let states = results.positions[first_body..].iter().zip(&results.velocities[first_body..]);
        for (body, (&[px, py], &[vx, vy])) in world.bodies_mut().iter_mut().zip(states) {
            body.position = Vec2::new(px, py);
            body.velocity = Vec2::new(vx, vy);
        }
        let kept = seen.min(layout.contact_capacity) as usize;
        let first_contact = layout.contact_offset as usize;
        records.clear();
        records.extend(
            results.contacts[first_contact..first_contact + kept]
                .iter()
                .map(|&[first, second]| ContactRecord { first, second }),
        );
        world.finish_step(&records, seen);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{Aabb, BodyDesc, WorldConfig};

    fn world(bodies: usize, max_contacts: u32, substeps: u32) -> World {
        let bounds = Aabb::new(Vec2::new(0.0, 0.0), Vec2::new(100.0, 100.0));
        let mut world = World::new(WorldConfig { max_contacts, substeps, ..WorldConfig::new(bounds) }).unwrap();
        for i in 0..bodies {
            world.add_body(BodyDesc::new(Vec2::new(1.0 + i as f32, 2.0), 0.5, 1.0)).unwrap();
        }
        world
    }

    #[test]
    fn offsets_place_worlds_back_to_back() {
        let (mut a, mut b, mut c) = (world(3, 10, 2), world(0, 5, 7), world(2, 1, 1));
        let mut packed = PackedBatch::default();
        packed.pack(&[&mut a, &mut b, &mut c], 0.1).unwrap();
        let offsets: Vec<_> = packed.worlds.iter().map(|w| (w.body_offset, w.body_count, w.contact_offset)).collect();
        assert_eq!(offsets, [(0, 3, 0), (3, 0, 10), (3, 2, 15)]);
        let cells: Vec<_> = packed.worlds.iter().map(|w| (w.cell_offset, w.grid_cols * w.grid_rows)).collect();
        assert_eq!(cells[1].0, cells[0].0 + cells[0].1);
        assert_eq!(cells[2].0, cells[1].0 + cells[1].1);
        assert_eq!(packed.cell_total, cells[2].0 + cells[2].1);
        assert_eq!((packed.body_total(), packed.contact_total, packed.max_substeps), (5, 16, 7));
        assert_eq!(packed.shapes.iter().map(|s| s.world_and_sensor >> 1).collect::<Vec<_>>(), [0, 0, 0, 2, 2]);
        assert_eq!((packed.positions[3], packed.velocities[3]), ([1.0, 2.0], [0.0, 0.0]));
        assert_eq!(packed.worlds[1].substep_dt, 0.1 / 7.0);
    }

    #[test]
    fn sensor_flag_rides_in_bit_zero_of_the_world_index() {
        let (mut a, mut b) = (world(1, 1, 1), world(1, 1, 1));
        b.add_body(BodyDesc::new(Vec2::new(50.0, 50.0), 1.0, 0.0).with_flags(FLAG_SENSOR | 0b100)).unwrap();
        let mut packed = PackedBatch::default();
        packed.pack(&[&mut a, &mut b], 0.1).unwrap();
        let packed_shapes: Vec<_> = packed.shapes.iter().map(|s| (s.world_and_sensor, s.inverse_mass)).collect();
        assert_eq!(packed_shapes, [(0, 1.0), (1 << 1, 1.0), (1 << 1 | 1, 0.0)]);
    }

    #[test]
    fn unpack_routes_results_to_their_worlds() {
        let (mut a, mut b) = (world(2, 4, 1), world(2, 4, 1));
        let mut packed = PackedBatch::default();
        packed.pack(&[&mut a, &mut b], 0.1).unwrap();
        let results = BatchResults {
            positions: &[[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]],
            velocities: &[[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 1.0]],
            contact_counts: &[1, 6],
            contacts: &[[0, 1], [0, 0], [0, 0], [0, 0], [0, 1], [1, 0], [0, 1], [0, 1]],
        };
        unpack(&mut [&mut a, &mut b], &packed, &results);
        assert_eq!(a.bodies()[1].position, Vec2::new(2.0, 2.0));
        assert_eq!(b.bodies()[0].velocity, Vec2::new(1.0, 0.0));
        assert_eq!(b.bodies()[1].position, Vec2::new(4.0, 4.0));
        assert_eq!((a.contacts().len(), a.contacts_overflowed()), (1, false));
        assert_eq!((b.contacts().len(), b.contacts_overflowed()), (1, true));
    }
}
