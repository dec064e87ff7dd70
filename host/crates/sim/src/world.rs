//! The data a simulation world holds between steps: its settings, its bodies
//! (in a stable index order both backends iterate in) and the contacts of the
//! last step. Backends read and write the bodies in place; everything else
//! (ids, validation, contact bookkeeping) lives here so they share it.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::SimError;

/// A 2D vector (x to the right, y up).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Vec2 {
    pub x: f32,
    pub y: f32,
}

impl Vec2 {
    pub const ZERO: Vec2 = Vec2 { x: 0.0, y: 0.0 };

    pub const fn new(x: f32, y: f32) -> Self {
        Vec2 { x, y }
    }

    fn is_finite(self) -> bool {
        self.x.is_finite() && self.y.is_finite()
    }
}

/// An axis-aligned box: the walls of a world.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Aabb {
    pub min: Vec2,
    pub max: Vec2,
}

impl Aabb {
    pub const fn new(min: Vec2, max: Vec2) -> Self {
        Aabb { min, max }
    }

    pub fn width(&self) -> f32 {
        self.max.x - self.min.x
    }

    pub fn height(&self) -> f32 {
        self.max.y - self.min.y
    }

    /// Whether a circle lies entirely inside the box (touching the walls counts).
    pub fn contains_circle(&self, center: Vec2, radius: f32) -> bool {
        center.x - radius >= self.min.x
            && center.x + radius <= self.max.x
            && center.y - radius >= self.min.y
            && center.y + radius <= self.max.y
    }
}

/// Settings fixed when a world is created.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorldConfig {
    /// The walls; bodies are kept inside.
    pub bounds: Aabb,
    /// Acceleration applied to every dynamic body, in units/s².
    pub gravity: Vec2,
    /// Sub-steps per `step`: each integrates `dt / substeps` and resolves
    /// collisions once. More sub-steps: fewer missed or deep collisions.
    pub substeps: u32,
    /// Bounciness of body-body and body-wall collisions, 0 (none) to 1 (elastic).
    pub restitution: f32,
    /// Most contact records kept per step (one record per touching pair per
    /// sub-step, before de-duplication). Beyond it, `contacts_overflowed()`.
    pub max_contacts: u32,
}

/// `max_contacts` unless a world asks for another.
pub const DEFAULT_MAX_CONTACTS: u32 = 1024;
/// Highest accepted `substeps`.
pub const MAX_SUBSTEPS: u32 = 64;

impl WorldConfig {
    /// A world with these walls, no gravity, 4 sub-steps and elastic collisions.
    pub fn new(bounds: Aabb) -> Self {
        WorldConfig { bounds, gravity: Vec2::ZERO, substeps: 4, restitution: 1.0, max_contacts: DEFAULT_MAX_CONTACTS }
    }

    fn validate(&self) -> Result<(), SimError> {
        let b = &self.bounds;
        if !(b.min.is_finite() && b.max.is_finite() && b.width() > 0.0 && b.height() > 0.0) {
            return Err(SimError::InvalidWorld("bounds must be finite with max > min"));
        }
        if !self.gravity.is_finite() {
            return Err(SimError::InvalidWorld("gravity must be finite"));
        }
        if !(1..=MAX_SUBSTEPS).contains(&self.substeps) {
            return Err(SimError::InvalidWorld("substeps must be 1..=64"));
        }
        if !(0.0..=1.0).contains(&self.restitution) {
            return Err(SimError::InvalidWorld("restitution must be within 0..=1"));
        }
        Ok(())
    }
}

/// Flag bit: the body reports contacts but neither pushes nor is pushed.
pub const FLAG_SENSOR: u32 = 1;

/// Identifies a body within its world; never reused by that world.
pub type BodyId = u32;

/// What `World::add_body` takes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BodyDesc {
    pub position: Vec2,
    pub velocity: Vec2,
    pub radius: f32,
    /// 0 makes the body static: no gravity, never moved by collisions.
    pub mass: f32,
    /// Game-defined type (ship, asteroid, ...), echoed in contacts.
    pub kind: u32,
    /// `FLAG_*` bits.
    pub flags: u32,
}

impl BodyDesc {
    /// A dynamic, non-sensor body of kind 0 at rest.
    pub fn new(position: Vec2, radius: f32, mass: f32) -> Self {
        BodyDesc { position, velocity: Vec2::ZERO, radius, mass, kind: 0, flags: 0 }
    }

    pub fn with_velocity(self, velocity: Vec2) -> Self {
        BodyDesc { velocity, ..self }
    }

    pub fn with_kind(self, kind: u32) -> Self {
        BodyDesc { kind, ..self }
    }

    pub fn with_flags(self, flags: u32) -> Self {
        BodyDesc { flags, ..self }
    }
}

/// A body as stored in a world.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Body {
    pub id: BodyId,
    pub position: Vec2,
    pub velocity: Vec2,
    pub radius: f32,
    pub mass: f32,
    pub kind: u32,
    pub flags: u32,
}

impl Body {
    /// 1/mass, or 0 for a static body: how much an impulse moves it.
    pub fn inverse_mass(&self) -> f32 {
        if self.mass > 0.0 { 1.0 / self.mass } else { 0.0 }
    }

    pub fn is_static(&self) -> bool {
        self.mass == 0.0
    }
}

/// Two bodies that touched during the last step (`a < b`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Contact {
    pub a: BodyId,
    pub b: BodyId,
    pub kind_a: u32,
    pub kind_b: u32,
}

/// One touching pair seen by a backend in one sub-step, as indices into
/// `World::bodies()`. A backend collects these and hands them to
/// `World::finish_step`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ContactRecord {
    pub first: u32,
    pub second: u32,
}

/// A simulated space: walls, bodies, and the contacts of the last step.
#[derive(Clone, Debug)]
pub struct World {
    config: WorldConfig,
    bodies: Vec<Body>,
    index_of: HashMap<BodyId, usize>,
    next_id: BodyId,
    contacts: Vec<Contact>,
    contacts_overflowed: bool,
    steps: u64,
}

impl World {
    pub fn new(config: WorldConfig) -> Result<Self, SimError> {
        config.validate()?;
        Ok(World {
            config,
            bodies: Vec::new(),
            index_of: HashMap::new(),
            next_id: 0,
            contacts: Vec::new(),
            contacts_overflowed: false,
            steps: 0,
        })
    }

    pub fn config(&self) -> &WorldConfig {
        &self.config
    }

    /// Adds a body and returns its id. The radius must be positive and the
    /// body must fit between the walls (it may start outside; the next step
    /// pushes it in).
    pub fn add_body(&mut self, desc: BodyDesc) -> Result<BodyId, SimError> {
        let bounds = &self.config.bounds;
        if !(desc.position.is_finite() && desc.velocity.is_finite()) {
            return Err(SimError::InvalidBody("position and velocity must be finite"));
        }
        if !(desc.radius > 0.0 && 2.0 * desc.radius <= bounds.width().min(bounds.height())) {
            return Err(SimError::InvalidBody("radius must be positive and fit inside the bounds"));
        }
        if !(desc.mass >= 0.0 && desc.mass.is_finite()) {
            return Err(SimError::InvalidBody("mass must be finite and >= 0"));
        }
        let id = self.next_id;
        self.next_id = id.checked_add(1).ok_or(SimError::InvalidBody("body ids exhausted"))?;
        self.index_of.insert(id, self.bodies.len());
        self.bodies.push(Body {
            id,
            position: desc.position,
            velocity: desc.velocity,
            radius: desc.radius,
            mass: desc.mass,
            kind: desc.kind,
            flags: desc.flags,
        });
        Ok(id)
    }

    /// Removes a body; the last body takes its index.
    pub fn remove_body(&mut self, id: BodyId) -> Result<Body, SimError> {
        let index = self.index_of.remove(&id).ok_or(SimError::UnknownBody(id))?;
        let removed = self.bodies.swap_remove(index);
        if let Some(moved) = self.bodies.get(index) {
            self.index_of.insert(moved.id, index);
        }
        Ok(removed)
    }

    /// Adds `impulse / mass` to a dynamic body's velocity (static bodies ignore it).
    pub fn apply_impulse(&mut self, id: BodyId, impulse: Vec2) -> Result<(), SimError> {
        if !impulse.is_finite() {
            return Err(SimError::InvalidBody("impulse must be finite"));
        }
        let body = self.body_mut(id)?;
        let inverse_mass = body.inverse_mass();
        body.velocity.x += impulse.x * inverse_mass;
        body.velocity.y += impulse.y * inverse_mass;
        Ok(())
    }

    /// Overrides a body's velocity (steering).
    pub fn set_velocity(&mut self, id: BodyId, velocity: Vec2) -> Result<(), SimError> {
        if !velocity.is_finite() {
            return Err(SimError::InvalidBody("velocity must be finite"));
        }
        self.body_mut(id)?.velocity = velocity;
        Ok(())
    }

    /// Moves a body (teleport, or moving a static obstacle).
    pub fn set_position(&mut self, id: BodyId, position: Vec2) -> Result<(), SimError> {
        if !position.is_finite() {
            return Err(SimError::InvalidBody("position must be finite"));
        }
        self.body_mut(id)?.position = position;
        Ok(())
    }

    pub fn body(&self, id: BodyId) -> Option<&Body> {
        self.index_of.get(&id).map(|&index| &self.bodies[index])
    }

    fn body_mut(&mut self, id: BodyId) -> Result<&mut Body, SimError> {
        let index = *self.index_of.get(&id).ok_or(SimError::UnknownBody(id))?;
        Ok(&mut self.bodies[index])
    }

    /// All bodies, in the index order the backends process them in.
    pub fn bodies(&self) -> &[Body] {
        &self.bodies
    }

    /// For backends: positions and velocities are written back in place.
    pub(crate) fn bodies_mut(&mut self) -> &mut [Body] {
        &mut self.bodies
    }

    /// Pairs that touched at any sub-step of the last step, each once, sorted.
    pub fn contacts(&self) -> &[Contact] {
        &self.contacts
    }

    /// The last step saw more contact records than `max_contacts`: `contacts()`
    /// is then a subset.
    pub fn contacts_overflowed(&self) -> bool {
        self.contacts_overflowed
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Largest body radius (0 without bodies): sizes the broad-phase grid.
    pub fn max_radius(&self) -> f32 {
        self.bodies.iter().map(|b| b.radius).fold(0.0, f32::max)
    }

    /// Called by a backend after it wrote the new positions and velocities:
    /// turns its contact records (at most `max_contacts` of `seen`) into the
    /// step's contact list.
    pub(crate) fn finish_step(&mut self, records: &[ContactRecord], seen: u32) {
        self.contacts.clear();
        self.contacts.extend(records.iter().map(|record| {
            let (first, second) = (&self.bodies[record.first as usize], &self.bodies[record.second as usize]);
            let (a, b) = if first.id < second.id { (first, second) } else { (second, first) };
            Contact { a: a.id, b: b.id, kind_a: a.kind, kind_b: b.kind }
        }));
        self.contacts.sort_unstable();
        self.contacts.dedup();
        self.contacts_overflowed = seen > self.config.max_contacts;
        self.steps += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        World::new(WorldConfig::new(Aabb::new(Vec2::new(0.0, 0.0), Vec2::new(10.0, 10.0)))).unwrap()
    }

    #[test]
    fn ids_survive_removal_of_other_bodies() {
        let mut world = world();
        let ids: Vec<_> =
            (0..4).map(|i| world.add_body(BodyDesc::new(Vec2::new(1.0 + i as f32, 1.0), 0.5, 1.0)).unwrap()).collect();
        let removed = world.remove_body(ids[1]).unwrap();
        assert_eq!(removed.position, Vec2::new(2.0, 1.0));
        assert!(world.body(ids[1]).is_none());
        assert_eq!(world.body(ids[3]).unwrap().position, Vec2::new(4.0, 1.0));
        assert_eq!(world.bodies().len(), 3);
        let fresh = world.add_body(BodyDesc::new(Vec2::new(5.0, 5.0), 0.5, 1.0)).unwrap();
        assert_eq!(fresh, 4, "ids are never reused");
        assert!(matches!(world.remove_body(ids[1]), Err(SimError::UnknownBody(1))));
    }

    #[test]
    fn impulse_divides_by_mass_and_skips_static_bodies() {
        let mut world = world();
        let heavy = world.add_body(BodyDesc::new(Vec2::new(2.0, 2.0), 0.5, 4.0)).unwrap();
        let wall = world.add_body(BodyDesc::new(Vec2::new(5.0, 5.0), 0.5, 0.0)).unwrap();
        world.apply_impulse(heavy, Vec2::new(2.0, -4.0)).unwrap();
        world.apply_impulse(wall, Vec2::new(2.0, -4.0)).unwrap();
        assert_eq!(world.body(heavy).unwrap().velocity, Vec2::new(0.5, -1.0));
        assert_eq!(world.body(wall).unwrap().velocity, Vec2::ZERO);
    }

    #[test]
    fn invalid_worlds_and_bodies_are_rejected() {
        let bounds = Aabb::new(Vec2::new(0.0, 0.0), Vec2::new(10.0, 10.0));
        assert!(World::new(WorldConfig { substeps: 0, ..WorldConfig::new(bounds) }).is_err());
        assert!(World::new(WorldConfig { restitution: 1.5, ..WorldConfig::new(bounds) }).is_err());
        assert!(World::new(WorldConfig::new(Aabb::new(bounds.max, bounds.min))).is_err());
        let mut world = world();
        assert!(world.add_body(BodyDesc::new(Vec2::new(1.0, 1.0), 0.0, 1.0)).is_err());
        assert!(world.add_body(BodyDesc::new(Vec2::new(1.0, 1.0), 6.0, 1.0)).is_err());
        assert!(world.add_body(BodyDesc::new(Vec2::new(f32::NAN, 1.0), 1.0, 1.0)).is_err());
        assert!(world.add_body(BodyDesc::new(Vec2::new(1.0, 1.0), 1.0, -1.0)).is_err());
        assert!(world.bodies().is_empty());
    }

    #[test]
    fn finish_step_orders_dedups_and_flags_overflow() {
        let bounds = Aabb::new(Vec2::new(0.0, 0.0), Vec2::new(10.0, 10.0));
        let mut world = World::new(WorldConfig { max_contacts: 3, ..WorldConfig::new(bounds) }).unwrap();
        for (i, kind) in [7, 8, 9].into_iter().enumerate() {
            world.add_body(BodyDesc::new(Vec2::new(1.0 + i as f32, 1.0), 0.4, 1.0).with_kind(kind)).unwrap();
        }
        world.remove_body(0).unwrap(); // body 2 now sits at index 0
        let records = [ContactRecord { first: 0, second: 1 }, ContactRecord { first: 1, second: 0 }];
        world.finish_step(&records, 2);
        assert_eq!(world.contacts(), &[Contact { a: 1, b: 2, kind_a: 8, kind_b: 9 }]);
        assert!(!world.contacts_overflowed());
        world.finish_step(&records, 4);
        assert!(world.contacts_overflowed());
        assert_eq!(world.steps(), 2);
    }
}
