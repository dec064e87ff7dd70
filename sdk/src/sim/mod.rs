//! Host physics for real-time games (`arcade:game/sim`): 2D circles in a
//! walled box, stepped by the server (on its GPU when it has one) for all
//! rooms of a tick together.
//!
//! Create a [`World`] in [`Game::create`](crate::Game::create), steer bodies
//! from `apply`, and in `tick` read what the last step did
//! ([`World::contacts`], [`World::bodies`]) and call [`World::request_step`].
//! A step never runs inside a call: the host runs the requested steps after
//! `tick` returns and before the room's state goes to the players, so views
//! show the new positions, and the next `tick` sees the step's contacts.
//!
//! ```
//! use arcade_sdk::sim::{BodySpec, Vec2, World, WorldConfig};
//!
//! let world = World::new(WorldConfig::new(Vec2::ZERO, Vec2::new(100.0, 100.0))).unwrap();
//! let ball = world.add_body(BodySpec::new(Vec2::new(50.0, 50.0), 1.0, 1.0).with_velocity(Vec2::new(10.0, 0.0))).unwrap();
//! world.request_step(0.05); // stepped after this tick
//! assert_eq!(world.body(ball).unwrap().position.x, 50.0, "not yet");
//! ```
//!
//! In native builds (`cargo test` of a plugin) there is no host: [`World`]
//! is then backed by a small pure-Rust stepper with the same rules (see
//! `native.rs`), and [`crate::testing::Table::tick`] takes the requested
//! steps after the game's tick, as a server would. It is a test double:
//! positions agree with the server's to float tolerance, not bit for bit.

#[cfg(not(target_arch = "wasm32"))]
mod native;

pub use crate::bindings::arcade::game::sim::{BodySpec, BodyState, Contact, Vec2, WorldConfig};
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native::Adopted;

/// Bit of [`BodySpec::flags`]: the body reports contacts but neither pushes
/// nor is pushed.
pub const FLAG_SENSOR: u32 = 1;

/// Identifies a body within its world; never reused by that world.
pub type BodyId = u32;

#[cfg(target_arch = "wasm32")]
type Inner = crate::bindings::arcade::game::sim::PhysicsWorld;
#[cfg(not(target_arch = "wasm32"))]
type Inner = native::NativeWorld;

/// A physics world held by the host for this room. Dropping it frees it.
pub struct World {
    inner: Inner,
}

impl World {
    /// A new, empty world; fails on an invalid config or when the room
    /// already holds the server's maximum of worlds.
    pub fn new(config: WorldConfig) -> Result<World, String> {
        Inner::create(config).map(|inner| World { inner })
    }

    /// Adds a body; fails on invalid values or when the world is full.
    pub fn add_body(&self, body: BodySpec) -> Result<BodyId, String> {
        self.inner.add_body(body)
    }

    /// False when there is no such body.
    pub fn remove_body(&self, id: BodyId) -> bool {
        self.inner.remove_body(id)
    }

    /// Adds `impulse / mass` to the body's velocity (static bodies ignore
    /// it). False for an unknown body or a non-finite impulse.
    pub fn apply_impulse(&self, id: BodyId, impulse: Vec2) -> bool {
        self.inner.apply_impulse(id, impulse)
    }

    pub fn set_velocity(&self, id: BodyId, velocity: Vec2) -> bool {
        self.inner.set_velocity(id, velocity)
    }

    pub fn set_position(&self, id: BodyId, position: Vec2) -> bool {
        self.inner.set_position(id, position)
    }

    pub fn body(&self, id: BodyId) -> Option<BodyState> {
        self.inner.body(id)
    }

    pub fn bodies(&self) -> Vec<BodyState> {
        self.inner.bodies()
    }

    /// Pairs that touched during the last completed step, each once, sorted.
    pub fn contacts(&self) -> Vec<Contact> {
        self.inner.contacts()
    }

    /// The last step saw more contact records than `max_contacts`.
    pub fn contacts_overflowed(&self) -> bool {
        self.inner.contacts_overflowed()
    }

    /// Steps completed so far.
    pub fn steps(&self) -> u64 {
        self.inner.steps()
    }

    /// Step by `dt` seconds (0 < dt <= 1) after the current tick, or the next
    /// one when called outside `tick`. At most one step per tick: asking
    /// again only changes `dt`. An invalid `dt` aborts the room (a panic in
    /// native tests).
    pub fn request_step(&self, dt: f32) {
        self.inner.request_step(dt)
    }
}

impl Vec2 {
    pub const ZERO: Vec2 = Vec2 { x: 0.0, y: 0.0 };

    pub const fn new(x: f32, y: f32) -> Self {
        Vec2 { x, y }
    }

    pub fn length(self) -> f32 {
        self.x.hypot(self.y)
    }

    pub fn scale(self, factor: f32) -> Self {
        Vec2::new(self.x * factor, self.y * factor)
    }

    /// The same direction, at most `max` long.
    pub fn clamp_length(self, max: f32) -> Self {
        let length = self.length();
        if length > max && length > 0.0 { self.scale(max / length) } else { self }
    }
}

impl WorldConfig {
    /// Walls from `min` to `max`, no gravity, 4 sub-steps, elastic
    /// collisions, the default contact budget.
    pub fn new(min: Vec2, max: Vec2) -> Self {
        WorldConfig { min, max, gravity: Vec2::ZERO, substeps: 4, restitution: 1.0, max_contacts: 0 }
    }
}

impl BodySpec {
    /// A dynamic (mass > 0) or static (mass 0) body at rest, of kind 0.
    pub fn new(position: Vec2, radius: f32, mass: f32) -> Self {
        BodySpec { position, velocity: Vec2::ZERO, radius, mass, kind: 0, flags: 0 }
    }

    pub fn with_velocity(self, velocity: Vec2) -> Self {
        BodySpec { velocity, ..self }
    }

    pub fn with_kind(self, kind: u32) -> Self {
        BodySpec { kind, ..self }
    }

    pub fn with_flags(self, flags: u32) -> Self {
        BodySpec { flags, ..self }
    }
}
