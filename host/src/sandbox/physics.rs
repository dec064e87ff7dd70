//! The `arcade:game/sim` import: physics worlds owned by a room's store.
//!
//! A plugin creates worlds and edits bodies through these calls; stepping is
//! deferred: `request-step` marks a world, and after the plugin's `tick` the
//! room hands every marked world to the tick scheduler, which steps the
//! worlds of all rooms due in that tick as one batch (see `crate::ticker`),
//! then gives them back. Between those two moments a world is "out" and the
//! room runs no plugin code, so the plugin never sees it missing.

use wasmtime::component::Resource;

use super::RoomState;
use super::bindings::arcade::game::sim::{
    BodySpec, BodyState, Contact as WitContact, Host, HostPhysicsWorld, PhysicsWorld, Vec2 as WitVec2,
    WorldConfig as WitWorldConfig,
};
use crate::sim::{Aabb, BodyDesc, Vec2, World, WorldConfig};

/// Most worlds one room may create.
const MAX_WORLDS: usize = 8;

/// The worlds of one room, by resource handle.
#[derive(Default)]
pub struct Worlds {
    slots: Vec<Option<Slot>>,
}

struct Slot {
    /// `None` while the world is being stepped by the scheduler.
    world: Option<World>,
    /// The step the plugin asked for this tick.
    requested_dt: Option<f32>,
}

/// Worlds taken out for one batch: `(handle, world, dt)`.
pub type Stepping = Vec<(u32, World, f32)>;

impl Worlds {
    /// Take out every world whose plugin asked for a step.
    pub fn take_requested(&mut self) -> Stepping {
        let mut out = Vec::new();
        for (handle, slot) in self.slots.iter_mut().enumerate() {
            if let Some(slot) = slot
                && let Some(dt) = slot.requested_dt.take()
                && let Some(world) = slot.world.take()
            {
                out.push((handle as u32, world, dt));
            }
        }
        out
    }

    /// Put stepped worlds back.
    pub fn put_back(&mut self, stepped: Stepping) {
        for (handle, world, _) in stepped {
            if let Some(Some(slot)) = self.slots.get_mut(handle as usize) {
                slot.world = Some(world);
            }
        }
    }

    fn get(&mut self, handle: &Resource<PhysicsWorld>) -> Option<&mut World> {
        self.slots.get_mut(handle.rep() as usize)?.as_mut()?.world.as_mut()
    }
}

fn vec2(v: WitVec2) -> Vec2 {
    Vec2::new(v.x, v.y)
}

fn wit_vec2(v: Vec2) -> WitVec2 {
    WitVec2 { x: v.x, y: v.y }
}

impl Host for RoomState {}

impl HostPhysicsWorld for RoomState {
    fn new(&mut self, config: WitWorldConfig) -> wasmtime::Result<Resource<PhysicsWorld>> {
        if self.worlds.slots.len() >= MAX_WORLDS {
            wasmtime::bail!("a room may create at most {MAX_WORLDS} physics worlds");
        }
        let settings = WorldConfig {
            bounds: Aabb { min: vec2(config.min), max: vec2(config.max) },
            gravity: vec2(config.gravity),
            substeps: config.substeps,
            restitution: config.restitution,
            ..WorldConfig::new(Aabb { min: vec2(config.min), max: vec2(config.max) })
        };
        let world = World::new(settings).map_err(|e| wasmtime::format_err!("{e}"))?;
        self.worlds.slots.push(Some(Slot { world: Some(world), requested_dt: None }));
        Ok(Resource::new_own(self.worlds.slots.len() as u32 - 1))
    }

    fn add_body(&mut self, world: Resource<PhysicsWorld>, body: BodySpec) -> wasmtime::Result<Result<u32, String>> {
        let Some(world) = self.worlds.get(&world) else { return Ok(Err("no such world".into())) };
        let desc = BodyDesc::new(vec2(body.position), body.radius, body.mass)
            .with_velocity(vec2(body.velocity))
            .with_kind(body.kind)
            .with_flags(body.flags);
        Ok(world.add_body(desc).map_err(|e| e.to_string()))
    }

    fn remove_body(&mut self, world: Resource<PhysicsWorld>, id: u32) -> wasmtime::Result<bool> {
        Ok(self.worlds.get(&world).is_some_and(|w| w.remove_body(id).is_ok()))
    }

    fn apply_impulse(&mut self, world: Resource<PhysicsWorld>, id: u32, impulse: WitVec2) -> wasmtime::Result<bool> {
        Ok(self.worlds.get(&world).is_some_and(|w| w.apply_impulse(id, vec2(impulse)).is_ok()))
    }

    fn set_velocity(&mut self, world: Resource<PhysicsWorld>, id: u32, velocity: WitVec2) -> wasmtime::Result<bool> {
        Ok(self.worlds.get(&world).is_some_and(|w| w.set_velocity(id, vec2(velocity)).is_ok()))
    }

    fn bodies(&mut self, world: Resource<PhysicsWorld>) -> wasmtime::Result<Vec<BodyState>> {
        let Some(world) = self.worlds.get(&world) else { return Ok(Vec::new()) };
        Ok(world
            .bodies()
            .iter()
            .map(|b| BodyState { id: b.id, position: wit_vec2(b.position), velocity: wit_vec2(b.velocity), kind: b.kind })
            .collect())
    }

    fn contacts(&mut self, world: Resource<PhysicsWorld>) -> wasmtime::Result<Vec<WitContact>> {
        let Some(world) = self.worlds.get(&world) else { return Ok(Vec::new()) };
        Ok(world.contacts().iter().map(|c| WitContact { a: c.a, b: c.b, kind_a: c.kind_a, kind_b: c.kind_b }).collect())
    }

    fn steps(&mut self, world: Resource<PhysicsWorld>) -> wasmtime::Result<u64> {
        Ok(self.worlds.get(&world).map_or(0, |w| w.steps()))
    }

    fn request_step(&mut self, world: Resource<PhysicsWorld>, dt: f32) -> wasmtime::Result<()> {
        if !(dt.is_finite() && dt > 0.0 && dt <= 1.0) {
            wasmtime::bail!("request-step: dt must be within (0, 1] seconds, got {dt}");
        }
        if let Some(Some(slot)) = self.worlds.slots.get_mut(world.rep() as usize) {
            slot.requested_dt = Some(dt);
        }
        Ok(())
    }

    fn drop(&mut self, world: Resource<PhysicsWorld>) -> wasmtime::Result<()> {
        if let Some(slot) = self.worlds.slots.get_mut(world.rep() as usize) {
            *slot = None;
        }
        Ok(())
    }
}
