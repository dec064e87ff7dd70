//! Host physics for real-time games (`arcade:game/sim`).
//!
//! Create a [`PhysicsWorld`] in `create`, steer bodies from `apply`, and in
//! `tick` read what the last step did ([`PhysicsWorld::contacts`],
//! [`PhysicsWorld::bodies`]) and call [`PhysicsWorld::request_step`]. The
//! host steps the worlds of every room due in a tick together (one GPU
//! submission) after `tick` returns.
//!
//! The worlds live in the host, so these calls only work inside a
//! component: native rules tests (`testing::Table`) cannot run a game that
//! creates a world — keep the rules that need testing in plain functions,
//! and test the whole game against a server (see `tests/all/realtime.rs`).

pub use crate::bindings::arcade::game::sim::{
    BodySpec, BodyState, Contact, PhysicsWorld, Vec2, WorldConfig,
};

/// Bit of `BodySpec::flags`: report contacts without pushing.
pub const FLAG_SENSOR: u32 = 1;

impl Vec2 {
    pub const ZERO: Vec2 = Vec2 { x: 0.0, y: 0.0 };

    pub fn new(x: f32, y: f32) -> Self {
        Vec2 { x, y }
    }

    pub fn length(self) -> f32 {
        (self.x * self.x + self.y * self.y).sqrt()
    }

    /// The same direction, at most `max` long.
    pub fn clamp_length(self, max: f32) -> Self {
        let len = self.length();
        if len > max && len > 0.0 { Vec2::new(self.x * max / len, self.y * max / len) } else { self }
    }
}
