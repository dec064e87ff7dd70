//! The physics test double for native builds: what [`super::World`] runs on
//! in a plugin's `cargo test`, where there is no host to call.
//!
//! It follows the host engine's rules (`host/crates/sim/src/lib.rs`): per sub-step,
//! semi-implicit Euler, then one Jacobi pass over touching pairs (position
//! correction by inverse-mass share, restitution impulse for approaching
//! pairs, sensors report contacts only, static bodies never move), then the
//! walls; contacts de-duplicated per step. It checks every pair instead of
//! using a grid and keeps every contact, so it is small and slow (fine for
//! a few hundred bodies) and agrees with the server to float tolerance, not
//! bit for bit. Worlds are stepped by [`crate::testing::Table::tick`], after
//! the game's tick, like the host's tick scheduler does.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use super::{BodySpec, BodyState, Contact, FLAG_SENSOR, Vec2, WorldConfig};

/// Share of a pair's overlap removed per sub-step (the host's `POSITION_CORRECTION`).
const POSITION_CORRECTION: f32 = 0.8;
/// Contact records kept per step unless a world asks for another number.
const DEFAULT_MAX_CONTACTS: u32 = 1024;

struct Body {
    id: u32,
    position: Vec2,
    velocity: Vec2,
    radius: f32,
    inverse_mass: f32,
    kind: u32,
    flags: u32,
}

impl Body {
    fn state(&self) -> BodyState {
        BodyState {
            id: self.id,
            position: self.position,
            velocity: self.velocity,
            radius: self.radius,
            kind: self.kind,
        }
    }
}

struct State {
    config: WorldConfig,
    bodies: Vec<Body>,
    next_id: u32,
    contacts: Vec<Contact>,
    overflowed: bool,
    steps: u64,
    requested: Option<f32>,
}

thread_local! {
    /// Worlds created on this thread that no [`Adopted`] list has taken yet.
    static CREATED: RefCell<Vec<Weak<RefCell<State>>>> = const { RefCell::new(Vec::new()) };
}

/// The worlds of one test table: it adopts the worlds its game creates and
/// steps the ones that asked for a step.
#[derive(Default)]
pub(crate) struct Adopted(Vec<Weak<RefCell<State>>>);

impl Adopted {
    /// Take the worlds created since the last call (by this table's game:
    /// a test thread drives one call at a time).
    pub(crate) fn adopt_new(&mut self) {
        CREATED.with(|created| self.0.append(&mut created.borrow_mut()));
    }

    /// Step every live world that asked for a step; forget dropped ones.
    pub(crate) fn step_requested(&mut self) {
        self.adopt_new();
        self.0.retain(|world| match world.upgrade() {
            Some(state) => {
                let mut state = state.borrow_mut();
                if let Some(dt) = state.requested.take() {
                    state.step(dt);
                }
                true
            }
            None => false,
        });
    }
}

/// The native [`super::World`]: same calls as the host resource.
pub(crate) struct NativeWorld(Rc<RefCell<State>>);

impl NativeWorld {
    pub(crate) fn create(config: WorldConfig) -> Result<Self, String> {
        let (min, max) = (config.min, config.max);
        if !(finite(min) && finite(max) && max.x > min.x && max.y > min.y) {
            return Err("invalid world: bounds must be finite with max > min".into());
        }
        if !finite(config.gravity) {
            return Err("invalid world: gravity must be finite".into());
        }
        if !(1..=64).contains(&config.substeps) {
            return Err("invalid world: substeps must be 1..=64".into());
        }
        if !(0.0..=1.0).contains(&config.restitution) {
            return Err("invalid world: restitution must be within 0..=1".into());
        }
        let max_contacts = if config.max_contacts == 0 { DEFAULT_MAX_CONTACTS } else { config.max_contacts };
        let state = Rc::new(RefCell::new(State {
            config: WorldConfig { max_contacts, ..config },
            bodies: Vec::new(),
            next_id: 0,
            contacts: Vec::new(),
            overflowed: false,
            steps: 0,
            requested: None,
        }));
        CREATED.with(|created| created.borrow_mut().push(Rc::downgrade(&state)));
        Ok(NativeWorld(state))
    }

    pub(crate) fn add_body(&self, spec: BodySpec) -> Result<u32, String> {
        let mut state = self.0.borrow_mut();
        let (min, max) = (state.config.min, state.config.max);
        if !(finite(spec.position) && finite(spec.velocity)) {
            return Err("invalid body: position and velocity must be finite".into());
        }
        if !(spec.radius > 0.0 && 2.0 * spec.radius <= (max.x - min.x).min(max.y - min.y)) {
            return Err("invalid body: radius must be positive and fit inside the bounds".into());
        }
        if !(spec.mass >= 0.0 && spec.mass.is_finite()) {
            return Err("invalid body: mass must be finite and >= 0".into());
        }
        let id = state.next_id;
        state.next_id += 1;
        state.bodies.push(Body {
            id,
            position: spec.position,
            velocity: spec.velocity,
            radius: spec.radius,
            inverse_mass: if spec.mass > 0.0 { 1.0 / spec.mass } else { 0.0 },
            kind: spec.kind,
            flags: spec.flags,
        });
        Ok(id)
    }

    pub(crate) fn remove_body(&self, id: u32) -> bool {
        let mut state = self.0.borrow_mut();
        let index = state.bodies.iter().position(|b| b.id == id);
        // Like the host: the last body takes the removed one's index.
        index.map(|i| state.bodies.swap_remove(i)).is_some()
    }

    fn with_body(&self, id: u32, value: Vec2, f: impl FnOnce(&mut Body)) -> bool {
        let mut state = self.0.borrow_mut();
        match state.bodies.iter_mut().find(|b| b.id == id) {
            Some(body) if finite(value) => {
                f(body);
                true
            }
            _ => false,
        }
    }

    pub(crate) fn apply_impulse(&self, id: u32, impulse: Vec2) -> bool {
        self.with_body(id, impulse, |b| {
            b.velocity.x += impulse.x * b.inverse_mass;
            b.velocity.y += impulse.y * b.inverse_mass;
        })
    }

    pub(crate) fn set_velocity(&self, id: u32, velocity: Vec2) -> bool {
        self.with_body(id, velocity, |b| b.velocity = velocity)
    }

    pub(crate) fn set_position(&self, id: u32, position: Vec2) -> bool {
        self.with_body(id, position, |b| b.position = position)
    }

    pub(crate) fn body(&self, id: u32) -> Option<BodyState> {
        self.0.borrow().bodies.iter().find(|b| b.id == id).map(Body::state)
    }

    pub(crate) fn bodies(&self) -> Vec<BodyState> {
        self.0.borrow().bodies.iter().map(Body::state).collect()
    }

    pub(crate) fn contacts(&self) -> Vec<Contact> {
        self.0.borrow().contacts.clone()
    }

    pub(crate) fn contacts_overflowed(&self) -> bool {
        self.0.borrow().overflowed
    }

    pub(crate) fn steps(&self) -> u64 {
        self.0.borrow().steps
    }

    pub(crate) fn request_step(&self, dt: f32) {
        assert!(dt.is_finite() && dt > 0.0 && dt <= 1.0, "request-step: dt must be within (0, 1] seconds, got {dt}");
        self.0.borrow_mut().requested = Some(dt);
    }
}

impl State {
    fn step(&mut self, dt: f32) {
        let config = self.config;
        let h = dt / config.substeps as f32;
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        let mut seen = 0u32;
        for _ in 0..config.substeps {
            for body in self.bodies.iter_mut().filter(|b| b.inverse_mass > 0.0) {
                body.velocity.x += config.gravity.x * h;
                body.velocity.y += config.gravity.y * h;
                body.position.x += body.velocity.x * h;
                body.position.y += body.velocity.y * h;
            }
            let before: Vec<(Vec2, Vec2)> = self.bodies.iter().map(|b| (b.position, b.velocity)).collect();
            for i in 0..self.bodies.len() {
                let (mut push, mut bounce) = (Vec2::ZERO, Vec2::ZERO);
                for j in 0..self.bodies.len() {
                    if i == j {
                        continue;
                    }
                    let (me, other) = (&self.bodies[i], &self.bodies[j]);
                    let (delta, reach) = (sub(before[i].0, before[j].0), me.radius + other.radius);
                    let inverse_mass_sum = me.inverse_mass + other.inverse_mass;
                    if delta.x * delta.x + delta.y * delta.y >= reach * reach || inverse_mass_sum == 0.0 {
                        continue;
                    }
                    if i < j {
                        seen += 1;
                        pairs.push((i, j));
                    }
                    if (me.flags | other.flags) & FLAG_SENSOR != 0 || me.inverse_mass == 0.0 {
                        continue;
                    }
                    let distance = delta.length();
                    let normal = if distance > 0.0 {
                        delta.scale(1.0 / distance)
                    } else {
                        Vec2::new(if i < j { -1.0 } else { 1.0 }, 0.0)
                    };
                    let share = me.inverse_mass / inverse_mass_sum;
                    push = add(push, normal.scale((reach - distance) * POSITION_CORRECTION * share));
                    let approach = dot(sub(before[i].1, before[j].1), normal);
                    if approach < 0.0 {
                        bounce = sub(bounce, normal.scale((1.0 + config.restitution) * approach * share));
                    }
                }
                let body = &mut self.bodies[i];
                if body.inverse_mass > 0.0 {
                    body.position = add(before[i].0, push);
                    body.velocity = add(before[i].1, bounce);
                    keep_inside(body, &config);
                }
            }
        }
        let mut contacts: Vec<Contact> = pairs
            .iter()
            .map(|&(i, j)| {
                let (a, b) = (&self.bodies[i], &self.bodies[j]);
                let (a, b) = if a.id < b.id { (a, b) } else { (b, a) };
                Contact { a: a.id, b: b.id, kind_a: a.kind, kind_b: b.kind }
            })
            .collect();
        contacts.sort_by_key(|c| (c.a, c.b));
        contacts.dedup_by_key(|c| (c.a, c.b));
        self.contacts = contacts;
        self.overflowed = seen > config.max_contacts;
        self.steps += 1;
    }
}

/// Clamp into the walls, reflecting the outward velocity (× restitution).
fn keep_inside(body: &mut Body, config: &WorldConfig) {
    let r = body.radius;
    let axes = [
        (&mut body.position.x, &mut body.velocity.x, config.min.x + r, config.max.x - r),
        (&mut body.position.y, &mut body.velocity.y, config.min.y + r, config.max.y - r),
    ];
    for (position, velocity, low, high) in axes {
        if *position < low {
            *position = low;
            if *velocity < 0.0 {
                *velocity = -*velocity * config.restitution;
            }
        }
        if *position > high {
            *position = high;
            if *velocity > 0.0 {
                *velocity = -*velocity * config.restitution;
            }
        }
    }
}

fn finite(v: Vec2) -> bool {
    v.x.is_finite() && v.y.is_finite()
}

fn add(a: Vec2, b: Vec2) -> Vec2 {
    Vec2::new(a.x + b.x, a.y + b.y)
}

fn sub(a: Vec2, b: Vec2) -> Vec2 {
    Vec2::new(a.x - b.x, a.y - b.y)
}

fn dot(a: Vec2, b: Vec2) -> f32 {
    a.x * b.x + a.y * b.y
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> (NativeWorld, Adopted) {
        let world = NativeWorld::create(WorldConfig::new(Vec2::ZERO, Vec2::new(20.0, 10.0))).unwrap();
        let mut adopted = Adopted::default();
        adopted.adopt_new();
        (world, adopted)
    }

    fn momentum(world: &NativeWorld, masses: &[f32]) -> Vec2 {
        world.bodies().iter().zip(masses).fold(Vec2::ZERO, |sum, (b, m)| add(sum, b.velocity.scale(*m)))
    }

    #[test]
    fn steps_happen_only_when_requested_and_once() {
        let (world, mut adopted) = world();
        let id =
            world.add_body(BodySpec::new(Vec2::new(5.0, 5.0), 1.0, 1.0).with_velocity(Vec2::new(2.0, 0.0))).unwrap();
        adopted.step_requested();
        assert_eq!((world.steps(), world.body(id).unwrap().position.x), (0, 5.0));
        world.request_step(0.5);
        adopted.step_requested();
        adopted.step_requested();
        assert_eq!((world.steps(), world.body(id).unwrap().position.x), (1, 6.0));
    }

    #[test]
    fn a_head_on_collision_is_a_contact_and_conserves_momentum() {
        let (world, mut adopted) = world();
        let a = world
            .add_body(BodySpec::new(Vec2::new(8.0, 5.0), 1.0, 1.0).with_velocity(Vec2::new(3.0, 0.0)).with_kind(1))
            .unwrap();
        let b = world
            .add_body(BodySpec::new(Vec2::new(12.0, 5.0), 1.0, 2.0).with_velocity(Vec2::new(-1.0, 0.0)).with_kind(2))
            .unwrap();
        let before = momentum(&world, &[1.0, 2.0]);
        let mut touched = Vec::new();
        for _ in 0..30 {
            world.request_step(0.05);
            adopted.step_requested();
            touched.extend(world.contacts());
        }
        assert!(touched.iter().any(|c| (c.a, c.b, c.kind_a, c.kind_b) == (a, b, 1, 2)), "they met");
        let after = momentum(&world, &[1.0, 2.0]);
        assert!((after.x - before.x).abs() < 1e-4 && after.y.abs() < 1e-6, "{before:?} -> {after:?}");
        assert!(world.body(a).unwrap().velocity.x < 0.0, "the light body bounced back");
    }

    #[test]
    fn walls_keep_bodies_in_and_static_bodies_stay() {
        let (world, mut adopted) = world();
        let ball =
            world.add_body(BodySpec::new(Vec2::new(18.0, 5.0), 1.0, 1.0).with_velocity(Vec2::new(40.0, 0.0))).unwrap();
        let post = world.add_body(BodySpec::new(Vec2::new(3.0, 5.0), 1.0, 0.0)).unwrap();
        world.request_step(0.1);
        adopted.step_requested();
        let state = world.body(ball).unwrap();
        assert!(state.position.x <= 19.0, "{state:?}");
        assert!(state.velocity.x < 0.0, "reflected: {state:?}");
        assert_eq!(world.body(post).unwrap().position, Vec2::new(3.0, 5.0));
    }

    #[test]
    fn invalid_input_is_refused() {
        assert!(
            NativeWorld::create(WorldConfig { substeps: 0, ..WorldConfig::new(Vec2::ZERO, Vec2::new(1.0, 1.0)) })
                .is_err()
        );
        let (world, _) = world();
        assert!(world.add_body(BodySpec::new(Vec2::new(1.0, 1.0), 0.0, 1.0)).is_err());
        assert!(!world.apply_impulse(7, Vec2::new(1.0, 0.0)), "no body 7");
        let id = world.add_body(BodySpec::new(Vec2::new(1.0, 1.0), 0.5, 1.0)).unwrap();
        assert!(!world.set_velocity(id, Vec2::new(f32::NAN, 0.0)));
        assert!(world.remove_body(id) && !world.remove_body(id));
    }
}
