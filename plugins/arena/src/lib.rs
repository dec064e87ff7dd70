//! # Arena
//!
//! A real-time game (20 ticks per second) on the host's batched physics
//! ([`arcade_sdk::sim`]): each player steers a ship through a field of
//! drifting asteroids. An asteroid that hits a ship costs it a life, after
//! which the ship is shielded for [`SHIELD_TICKS`]; a ship without lives is
//! out (removed from the field). The game ends after `duration_ticks`, or as
//! soon as at most one ship is left when two or more play. Scores are the
//! lives left; the ships with the most win (ties share the win).
//!
//! - Config (all optional): `{"duration_ticks": 600, "asteroids": 200,
//!   "lives": 3, "size": 1000}`: the field is `size` × `size` units.
//! - Action: `{"thrust": {"x": 0.5, "y": -1.0}}` sets the ship's engine
//!   until the next thrust (clamped to length 1; `{"x": 0, "y": 0}` coasts).
//!   Each tick the engine accelerates the ship by `THRUST` × that vector,
//!   up to [`MAX_SPEED`].
//! - View, the same for everyone (nothing is hidden), compact because it is
//!   sent every tick: positions are rounded to whole units and asteroids are
//!   `[x, y, radius]` triples, about 12 bytes each:
//!   `{"tick", "ticks_left", "size", "ships": [{"player", "x", "y", "vx",
//!   "vy", "lives", "shielded", "out"}], "asteroids": [[x, y, r], ...]}`.
//! - Events: `"hit" {"player", "lives"}`, `"out" {"player"}`.
//!
//! The world is created in `create` with asteroid positions and velocities
//! from the room's random stream, so a seed always deals the same field.

use arcade_sdk::prelude::*;
use arcade_sdk::sim::{BodyId, BodySpec, Vec2, World, WorldConfig};
use serde::Deserialize;
use serde_json::{Value, json};

pub const TICK_HZ: u32 = 20;
/// Ticks of invulnerability after a hit.
pub const SHIELD_TICKS: u32 = 10;
/// Engine acceleration at full thrust, units/s².
pub const THRUST: f32 = 300.0;
/// Ships never go faster than this (units/s).
pub const MAX_SPEED: f32 = 250.0;
const SHIP_KIND: u32 = 1;
const ASTEROID_KIND: u32 = 2;
const SHIP_RADIUS: f32 = 15.0;
const SHIP_MASS: f32 = 5.0;
/// Asteroid radii are `MIN_ROCK..MIN_ROCK + ROCK_SPREAD`.
const MIN_ROCK: f32 = 6.0;
const ROCK_SPREAD: f32 = 8.0;
/// Largest initial asteroid speed per axis.
const ROCK_SPEED: f32 = 80.0;

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub duration_ticks: u32,
    pub asteroids: u32,
    pub lives: u32,
    pub size: f32,
}

impl Default for Config {
    fn default() -> Self {
        Config { duration_ticks: 600, asteroids: 200, lives: 3, size: 1000.0 }
    }
}

impl Config {
    fn check(&self) -> Result<(), String> {
        if self.duration_ticks == 0 || self.duration_ticks > 72_000 {
            return Err("duration_ticks must be 1..=72000 (an hour)".into());
        }
        if self.asteroids > 5000 {
            return Err("at most 5000 asteroids".into());
        }
        if !(1..=9).contains(&self.lives) {
            return Err("lives must be 1..=9".into());
        }
        if !(200.0..=10_000.0).contains(&self.size) {
            return Err("size must be 200..=10000".into());
        }
        Ok(())
    }
}

#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct Thrust {
    pub x: f32,
    pub y: f32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub thrust: Thrust,
}

/// One player's ship.
pub struct Ship {
    pub player: String,
    pub body: BodyId,
    pub lives: u32,
    /// Ticks of invulnerability left after a hit.
    pub shield: u32,
    /// Engine setting, length at most 1.
    pub thrust: Vec2,
}

pub struct Arena {
    world: World,
    ships: Vec<Ship>,
    tick: u32,
    duration: u32,
    size: f32,
}

/// A ship-asteroid contact costs a life unless the ship is shielded or out.
/// Returns whether the ship lost a life.
pub fn take_hit(ship: &mut Ship) -> bool {
    if ship.lives == 0 || ship.shield > 0 {
        return false;
    }
    ship.lives -= 1;
    ship.shield = SHIELD_TICKS;
    true
}

/// Whether the game is over: time is up, or (with several players) at most
/// one ship is left.
pub fn is_over(ships: &[Ship], tick: u32, duration: u32) -> bool {
    let alive = ships.iter().filter(|s| s.lives > 0).count();
    tick >= duration || (ships.len() > 1 && alive <= 1)
}

/// The players with the most lives left.
pub fn leaders(ships: &[Ship]) -> Vec<String> {
    let best = ships.iter().map(|s| s.lives).max().unwrap_or(0);
    ships.iter().filter(|s| s.lives == best).map(|s| s.player.clone()).collect()
}

/// The velocity after one tick of `thrust` (length ≤ 1), capped at `MAX_SPEED`.
pub fn accelerate(velocity: Vec2, thrust: Vec2, dt: f32) -> Vec2 {
    let sped_up = Vec2::new(velocity.x + thrust.x * THRUST * dt, velocity.y + thrust.y * THRUST * dt);
    sped_up.clamp_length(MAX_SPEED)
}

/// A uniform value in `0..1` from the room's random stream.
fn random_unit() -> f32 {
    (random_u64() >> 40) as f32 / (1u64 << 24) as f32
}

impl Arena {
    /// Ships on a ring around the centre, facing nothing yet.
    fn launch_ships(world: &World, players: &[String], size: f32, lives: u32) -> Result<Vec<Ship>, String> {
        let centre = size / 2.0;
        players
            .iter()
            .enumerate()
            .map(|(i, player)| {
                let angle = i as f32 / players.len() as f32 * std::f32::consts::TAU;
                let at = Vec2::new(centre + 0.15 * size * angle.cos(), centre + 0.15 * size * angle.sin());
                let body = world.add_body(BodySpec::new(at, SHIP_RADIUS, SHIP_MASS).with_kind(SHIP_KIND))?;
                Ok(Ship { player: player.clone(), body, lives, shield: 0, thrust: Vec2::ZERO })
            })
            .collect()
    }

    /// Asteroids anywhere but the middle (where the ships start).
    fn scatter_asteroids(world: &World, count: u32, size: f32) -> Result<(), String> {
        let (centre, clear) = (size / 2.0, 0.25 * size);
        for _ in 0..count {
            let radius = MIN_ROCK + ROCK_SPREAD * random_unit();
            let mut at = Vec2::new(size * random_unit(), size * random_unit());
            for _ in 0..16 {
                if (at.x - centre).hypot(at.y - centre) > clear {
                    break;
                }
                at = Vec2::new(size * random_unit(), size * random_unit());
            }
            let velocity =
                Vec2::new(ROCK_SPEED * (2.0 * random_unit() - 1.0), ROCK_SPEED * (2.0 * random_unit() - 1.0));
            let rock =
                BodySpec::new(at, radius, radius * radius / 20.0).with_velocity(velocity).with_kind(ASTEROID_KIND);
            world.add_body(rock)?;
        }
        Ok(())
    }

    /// Hits from the contacts of the last step.
    fn collect_hits(&mut self, events: &mut Vec<Event>) {
        for contact in self.world.contacts() {
            let ship_body = match (contact.kind_a, contact.kind_b) {
                (SHIP_KIND, ASTEROID_KIND) => contact.a,
                (ASTEROID_KIND, SHIP_KIND) => contact.b,
                _ => continue,
            };
            let Some(ship) = self.ships.iter_mut().find(|s| s.body == ship_body && s.lives > 0) else { continue };
            if take_hit(ship) {
                events.push(Event::public("hit", &json!({ "player": ship.player, "lives": ship.lives })));
                if ship.lives == 0 {
                    self.world.remove_body(ship.body);
                    events.push(Event::public("out", &json!({ "player": ship.player })));
                }
            }
        }
    }

    fn run_engines(&self, dt: f32) {
        for ship in self.ships.iter().filter(|s| s.lives > 0 && s.thrust != Vec2::ZERO) {
            if let Some(state) = self.world.body(ship.body) {
                self.world.set_velocity(ship.body, accelerate(state.velocity, ship.thrust, dt));
            }
        }
    }
}

impl Game for Arena {
    type Config = Config;
    type Action = Action;

    fn info() -> GameInfo {
        GameInfo::real_time(
            "arena",
            "1.0.0",
            "Steer your ship through an asteroid field; the last ship flying wins.",
            1,
            4,
            TICK_HZ,
        )
    }

    fn create(config: Config, players: &[String], _seed: u64) -> Result<Self, String> {
        config.check()?;
        let size = config.size;
        let world =
            World::new(WorldConfig { restitution: 0.9, ..WorldConfig::new(Vec2::ZERO, Vec2::new(size, size)) })?;
        let ships = Self::launch_ships(&world, players, size, config.lives)?;
        Self::scatter_asteroids(&world, config.asteroids, size)?;
        Ok(Arena { world, ships, tick: 0, duration: config.duration_ticks, size })
    }

    fn apply(&mut self, player: &str, action: Action) -> Result<Vec<Event>, ActionError> {
        let ship = self.ships.iter_mut().find(|s| s.player == player).ok_or(ActionError::NotAPlayer)?;
        if ship.lives == 0 {
            return Err(ActionError::Illegal("your ship is out".into()));
        }
        let Thrust { x, y } = action.thrust;
        if !(x.is_finite() && y.is_finite()) {
            return Err(ActionError::Malformed("thrust must be finite".into()));
        }
        ship.thrust = Vec2::new(x, y).clamp_length(1.0);
        Ok(Vec::new())
    }

    fn tick(&mut self, dt_ms: u32) -> Vec<Event> {
        let dt = dt_ms as f32 / 1000.0;
        self.tick += 1;
        for ship in &mut self.ships {
            ship.shield = ship.shield.saturating_sub(1);
        }
        let mut events = Vec::new();
        self.collect_hits(&mut events);
        if !is_over(&self.ships, self.tick, self.duration) {
            self.run_engines(dt);
            self.world.request_step(dt);
        }
        events
    }

    fn view(&self, _viewer: &Viewer) -> Value {
        let bodies = self.world.bodies();
        let ships: Vec<Value> = self
            .ships
            .iter()
            .map(|ship| {
                let body = bodies.iter().find(|b| b.id == ship.body && ship.lives > 0);
                let round = |f: fn(&arcade_sdk::sim::BodyState) -> f32| body.map(|b| f(b).round() as i32);
                json!({
                    "player": ship.player,
                    "x": round(|b| b.position.x),
                    "y": round(|b| b.position.y),
                    "vx": round(|b| b.velocity.x),
                    "vy": round(|b| b.velocity.y),
                    "lives": ship.lives,
                    "shielded": ship.shield > 0,
                    "out": ship.lives == 0,
                })
            })
            .collect();
        let asteroids: Vec<[i32; 3]> = bodies
            .iter()
            .filter(|b| b.kind == ASTEROID_KIND)
            .map(|b| [b.position.x.round() as i32, b.position.y.round() as i32, b.radius.round() as i32])
            .collect();
        json!({
            "tick": self.tick,
            "ticks_left": self.duration.saturating_sub(self.tick),
            "size": self.size,
            "ships": ships,
            "asteroids": asteroids,
        })
    }

    fn status(&self) -> Status {
        if is_over(&self.ships, self.tick, self.duration) {
            let winners = leaders(&self.ships);
            Status::Finished(Outcome {
                summary: format!("{} after {} ticks", winners.join(", "), self.tick),
                scores: self
                    .ships
                    .iter()
                    .map(|s| Score { player: s.player.clone(), points: i64::from(s.lives) })
                    .collect(),
                winners,
            })
        } else {
            Status::Awaiting(self.ships.iter().filter(|s| s.lives > 0).map(|s| s.player.clone()).collect())
        }
    }

    fn legal_actions(&self, player: &str) -> Vec<Value> {
        if !self.ships.iter().any(|s| s.player == player && s.lives > 0) {
            return Vec::new();
        }
        [(1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0), (0.0, 0.0)]
            .iter()
            .map(|(x, y)| json!({ "thrust": { "x": x, "y": y } }))
            .collect()
    }
}

arcade_sdk::export_game!(Arena);

#[cfg(test)]
mod tests;
