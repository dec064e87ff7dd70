//! Scenarios for the simulation tests and benchmark (arcade-sim's
//! `tests/sim.rs`, `benches/sim.rs`): seeded, reproducible worlds of many
//! bodies.

use arcade_sim::{Aabb, BodyDesc, Vec2, World, WorldConfig};

use crate::rng::Rng;

/// Largest radius `gas` gives a body.
pub const GAS_MAX_RADIUS: f32 = 0.6;

/// A square world of `bodies` circles (radius 0.3-0.6, mass ∝ area) on a
/// jittered lattice (no initial overlap, about 20% of the area covered),
/// moving in random directions at up to `speed` per axis.
pub fn gas(seed: u64, bodies: usize, speed: f32, config: impl FnOnce(Aabb) -> WorldConfig) -> World {
    let pitch = 2.0 * GAS_MAX_RADIUS + 0.6;
    let per_row = (bodies as f32).sqrt().ceil() as usize;
    let side = per_row.max(1) as f32 * pitch;
    let mut world = World::new(config(Aabb::new(Vec2::ZERO, Vec2::new(side, side)))).expect("valid config");
    let mut rng = Rng::new(seed);
    for i in 0..bodies {
        let corner = Vec2::new((i % per_row) as f32 * pitch, (i / per_row) as f32 * pitch);
        let radius = rng.range(0.3, GAS_MAX_RADIUS);
        let position =
            Vec2::new(corner.x + rng.range(radius, pitch - radius), corner.y + rng.range(radius, pitch - radius));
        let velocity = Vec2::new(rng.range(-speed, speed), rng.range(-speed, speed));
        world
            .add_body(BodyDesc::new(position, radius, radius * radius).with_velocity(velocity).with_kind(i as u32 % 3))
            .expect("valid body");
    }
    world
}

/// `gas` with gravity pulling down, 4 sub-steps, restitution 0.8, and room
/// for every contact record of a settled pile.
pub fn falling_gas(seed: u64, bodies: usize) -> World {
    gas(seed, bodies, 5.0, |bounds| WorldConfig {
        gravity: Vec2::new(0.0, -9.81),
        restitution: 0.8,
        max_contacts: 16 * bodies as u32,
        ..WorldConfig::new(bounds)
    })
}
