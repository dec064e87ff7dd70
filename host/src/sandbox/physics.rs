//! The `arcade:game/sim` import: physics worlds held in a room's store.
//!
//! A plugin creates worlds and edits bodies through these calls; stepping is
//! deferred: `request-step` marks a world, and after the plugin's `tick` the
//! room takes every marked world out ([`Worlds::take_requested`]), hands
//! them to the tick scheduler (`crate::ticker`), which steps the worlds of
//! all rooms due in that tick as one batch, and puts them back
//! ([`Worlds::put_back`]). While a world is out the room runs no plugin code
//! (it waits for the batch), so the plugin never finds it missing.
//!
//! The worlds live in host memory, outside the plugin's memory cap, so a
//! room gets at most [`SimLimits::worlds`] worlds of at most
//! [`SimLimits::bodies`] bodies each.

use wasmtime::component::Resource;

use super::RoomState;
use super::bindings::arcade::game::sim::{
    BodySpec, BodyState, Contact as WitContact, Host, HostPhysicsWorld, PhysicsWorld, Vec2 as WitVec2,
    WorldConfig as WitWorldConfig,
};
use arcade_sim::{Aabb, Body, BodyDesc, SimError, Vec2, World, WorldConfig};

/// How much simulation one room may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimLimits {
    /// Live worlds per room.
    pub worlds: usize,
    /// Bodies per world.
    pub bodies: usize,
}

impl Default for SimLimits {
    /// The server's defaults (`[sim]` in the config).
    fn default() -> Self {
        SimLimits {
            worlds: arcade_sim::DEFAULT_MAX_WORLDS_PER_ROOM as usize,
            bodies: arcade_sim::DEFAULT_MAX_BODIES_PER_WORLD as usize,
        }
    }
}

/// One world taken out of a room for a step: its handle, the world, and the
/// step length the plugin asked for.
pub struct StepRequest {
    pub(crate) handle: u32,
    pub world: World,
    pub dt: f32,
}

/// The worlds a room hands over after one tick.
pub type Stepping = Vec<StepRequest>;

/// `(world, dt)` pairs of a hand-over, as `Stepper::step` takes them.
pub fn worlds_and_dts(stepping: &mut Stepping) -> impl Iterator<Item = (&mut World, f32)> {
    stepping.iter_mut().map(|request| (&mut request.world, request.dt))
}

/// The worlds of one room, by resource handle (the slot index).
pub struct Worlds {
    slots: Vec<Option<Slot>>,
    limits: SimLimits,
}

struct Slot {
    /// `None` while the world is out for a step.
    world: Option<World>,
    /// The step the plugin asked for, until the world is taken out.
    requested_dt: Option<f32>,
}

impl Worlds {
    pub fn new(limits: SimLimits) -> Self {
        Worlds { slots: Vec::new(), limits }
    }

    /// Take out every world whose plugin asked for a step, in handle order.
    pub fn take_requested(&mut self) -> Stepping {
        let mut out = Vec::new();
        for (handle, slot) in self.slots.iter_mut().enumerate() {
            if let Some(slot) = slot
                && let Some(dt) = slot.requested_dt
                && let Some(world) = slot.world.take()
            {
                slot.requested_dt = None;
                out.push(StepRequest { handle: handle as u32, world, dt });
            }
        }
        out
    }

    /// Put worlds back after their step.
    pub fn put_back(&mut self, stepped: Stepping) {
        for StepRequest { handle, world, .. } in stepped {
            if let Some(Some(slot)) = self.slots.get_mut(handle as usize) {
                slot.world = Some(world);
            }
        }
    }

    /// Step the requested worlds right away with `step` (replay, crash
    /// recovery, `arcade play`: no other room shares the batch).
    pub fn step_requested(&mut self, step: impl FnOnce(&mut Stepping) -> Result<(), SimError>) -> Result<(), SimError> {
        let mut stepping = self.take_requested();
        if stepping.is_empty() {
            return Ok(());
        }
        let stepped = step(&mut stepping);
        self.put_back(stepping);
        stepped
    }

    fn live(&self) -> usize {
        self.slots.iter().filter(|slot| slot.is_some()).count()
    }

    /// The world behind a handle. Handles come from the component model's
    /// resource table, so they always name a live slot; the world is only
    /// missing while it is out for a step, when no plugin code runs.
    fn get(&mut self, handle: &Resource<PhysicsWorld>) -> wasmtime::Result<&mut World> {
        match self.slots.get_mut(handle.rep() as usize) {
            Some(Some(Slot { world: Some(world), .. })) => Ok(world),
            _ => Err(wasmtime::format_err!("physics world {} is not available", handle.rep())),
        }
    }
}

fn vec2(v: WitVec2) -> Vec2 {
    Vec2::new(v.x, v.y)
}

fn wit_vec2(v: Vec2) -> WitVec2 {
    WitVec2 { x: v.x, y: v.y }
}

fn body_state(body: &Body) -> BodyState {
    BodyState {
        id: body.id,
        position: wit_vec2(body.position),
        velocity: wit_vec2(body.velocity),
        radius: body.radius,
        kind: body.kind,
    }
}

impl Host for RoomState {}

impl HostPhysicsWorld for RoomState {
    fn create(&mut self, config: WitWorldConfig) -> wasmtime::Result<Result<Resource<PhysicsWorld>, String>> {
        let worlds = &mut self.worlds;
        if worlds.live() >= worlds.limits.worlds {
            return Ok(Err(format!("a room may hold at most {} physics worlds", worlds.limits.worlds)));
        }
        let bounds = Aabb::new(vec2(config.min), vec2(config.max));
        let defaults = WorldConfig::new(bounds);
        let settings = WorldConfig {
            gravity: vec2(config.gravity),
            substeps: config.substeps,
            restitution: config.restitution,
            max_contacts: if config.max_contacts == 0 { defaults.max_contacts } else { config.max_contacts },
            ..defaults
        };
        let world = match World::new(settings) {
            Ok(world) => world,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let slot = Slot { world: Some(world), requested_dt: None };
        // Reuse a dropped slot so handles stay small.
        let handle = match worlds.slots.iter().position(Option::is_none) {
            Some(free) => {
                worlds.slots[free] = Some(slot);
                free
            }
            None => {
                worlds.slots.push(Some(slot));
                worlds.slots.len() - 1
            }
        };
        Ok(Ok(Resource::new_own(handle as u32)))
    }

    fn add_body(&mut self, world: Resource<PhysicsWorld>, body: BodySpec) -> wasmtime::Result<Result<u32, String>> {
        let max_bodies = self.worlds.limits.bodies;
        let world = self.worlds.get(&world)?;
        if world.bodies().len() >= max_bodies {
            return Ok(Err(format!("a physics world may hold at most {max_bodies} bodies")));
        }
        let desc = BodyDesc::new(vec2(body.position), body.radius, body.mass)
            .with_velocity(vec2(body.velocity))
            .with_kind(body.kind)
            .with_flags(body.flags);
        Ok(world.add_body(desc).map_err(|e| e.to_string()))
    }

    fn remove_body(&mut self, world: Resource<PhysicsWorld>, id: u32) -> wasmtime::Result<bool> {
        Ok(self.worlds.get(&world)?.remove_body(id).is_ok())
    }

    fn apply_impulse(&mut self, world: Resource<PhysicsWorld>, id: u32, impulse: WitVec2) -> wasmtime::Result<bool> {
        Ok(self.worlds.get(&world)?.apply_impulse(id, vec2(impulse)).is_ok())
    }

    fn set_velocity(&mut self, world: Resource<PhysicsWorld>, id: u32, velocity: WitVec2) -> wasmtime::Result<bool> {
        Ok(self.worlds.get(&world)?.set_velocity(id, vec2(velocity)).is_ok())
    }

    fn set_position(&mut self, world: Resource<PhysicsWorld>, id: u32, position: WitVec2) -> wasmtime::Result<bool> {
        Ok(self.worlds.get(&world)?.set_position(id, vec2(position)).is_ok())
    }

    fn body(&mut self, world: Resource<PhysicsWorld>, id: u32) -> wasmtime::Result<Option<BodyState>> {
        Ok(self.worlds.get(&world)?.body(id).map(body_state))
    }

    fn bodies(&mut self, world: Resource<PhysicsWorld>) -> wasmtime::Result<Vec<BodyState>> {
        Ok(self.worlds.get(&world)?.bodies().iter().map(body_state).collect())
    }

    fn contacts(&mut self, world: Resource<PhysicsWorld>) -> wasmtime::Result<Vec<WitContact>> {
        let contacts = self.worlds.get(&world)?.contacts();
        Ok(contacts.iter().map(|c| WitContact { a: c.a, b: c.b, kind_a: c.kind_a, kind_b: c.kind_b }).collect())
    }

    fn contacts_overflowed(&mut self, world: Resource<PhysicsWorld>) -> wasmtime::Result<bool> {
        Ok(self.worlds.get(&world)?.contacts_overflowed())
    }

    fn steps(&mut self, world: Resource<PhysicsWorld>) -> wasmtime::Result<u64> {
        Ok(self.worlds.get(&world)?.steps())
    }

    fn request_step(&mut self, world: Resource<PhysicsWorld>, dt: f32) -> wasmtime::Result<()> {
        if !(dt.is_finite() && dt > 0.0 && dt <= 1.0) {
            wasmtime::bail!("request-step: dt must be within (0, 1] seconds, got {dt}");
        }
        self.worlds.get(&world)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn room(limits: SimLimits) -> RoomState {
        RoomState::new(std::sync::Arc::from("test"), &arcade_protocol::seed::Seed::SplitMix64(1), 1 << 20, limits)
    }

    fn config() -> WitWorldConfig {
        let v = |x, y| WitVec2 { x, y };
        WitWorldConfig {
            min: v(0.0, 0.0),
            max: v(10.0, 10.0),
            gravity: v(0.0, 0.0),
            substeps: 2,
            restitution: 1.0,
            max_contacts: 0,
        }
    }

    fn body(x: f32) -> BodySpec {
        let v = |x, y| WitVec2 { x, y };
        BodySpec { position: v(x, 5.0), velocity: v(1.0, 0.0), radius: 0.5, mass: 1.0, kind: 7, flags: 0 }
    }

    fn handle(world: &Resource<PhysicsWorld>) -> Resource<PhysicsWorld> {
        Resource::new_borrow(world.rep())
    }

    #[test]
    fn worlds_and_bodies_are_capped_per_room() {
        let mut state = room(SimLimits { worlds: 2, bodies: 3 });
        let first = state.create(config()).unwrap().unwrap();
        let second = state.create(config()).unwrap().unwrap();
        assert!(state.create(config()).unwrap().is_err(), "a third world is over the limit");
        for x in [1.0, 3.0, 5.0] {
            state.add_body(handle(&first), body(x)).unwrap().unwrap();
        }
        let refused = state.add_body(handle(&first), body(7.0)).unwrap().unwrap_err();
        assert!(refused.contains("at most 3 bodies"), "{refused}");
        HostPhysicsWorld::drop(&mut state, second).unwrap();
        let again = state.create(config()).unwrap().unwrap();
        assert_eq!(again.rep(), 1, "a dropped world's slot is reused");
    }

    #[test]
    fn invalid_configs_and_bodies_are_errors_not_traps() {
        let mut state = room(SimLimits::default());
        assert!(state.create(WitWorldConfig { substeps: 0, ..config() }).unwrap().is_err());
        let world = state.create(config()).unwrap().unwrap();
        assert!(state.add_body(handle(&world), BodySpec { radius: 0.0, ..body(1.0) }).unwrap().is_err());
        assert!(!state.apply_impulse(handle(&world), 42, WitVec2 { x: 1.0, y: 0.0 }).unwrap());
        assert!(state.request_step(handle(&world), f32::NAN).is_err(), "a NaN step traps");
    }

    #[test]
    fn only_requested_worlds_are_taken_out_and_come_back_stepped() {
        let mut state = room(SimLimits::default());
        let (moving, idle) = (state.create(config()).unwrap().unwrap(), state.create(config()).unwrap().unwrap());
        for world in [&moving, &idle] {
            state.add_body(handle(world), body(2.0)).unwrap().unwrap();
        }
        state.request_step(handle(&moving), 0.25).unwrap();
        state.request_step(handle(&moving), 0.5).unwrap(); // the last request wins
        let mut stepping = state.worlds.take_requested();
        assert_eq!(stepping.len(), 1);
        assert_eq!((stepping[0].handle, stepping[0].dt), (moving.rep(), 0.5));
        assert!(state.bodies(handle(&moving)).is_err(), "a world being stepped is out of reach");
        arcade_sim::Stepper::cpu().step(worlds_and_dts(&mut stepping)).unwrap();
        state.worlds.put_back(stepping);
        assert_eq!(state.bodies(handle(&moving)).unwrap()[0].position.x, 2.5);
        assert_eq!(state.steps(handle(&moving)).unwrap(), 1);
        assert_eq!(state.steps(handle(&idle)).unwrap(), 0);
        assert!(state.worlds.take_requested().is_empty(), "a request is served once");
    }
}
