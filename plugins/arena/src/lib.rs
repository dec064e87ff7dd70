//! # Arena
//!
//! A real-time game (20 ticks per second) on the host's batched physics:
//! each player steers a ship through a field of drifting asteroids. Every
//! asteroid that hits a ship costs it a life (then the ship is shielded for
//! [`SHIELD_TICKS`]); a ship with no lives left is out. The game ends when at
//! most one ship is left (with two or more players) or after
//! `duration_ticks`; the ships with the most lives left win. Scores = lives.
//!
//! - Config: `{"duration_ticks": 600, "asteroids": 200}` (both optional).
//! - Action: `{"thrust": {"x": 0.5, "y": -1.0}}`, clamped to length 1; it is
//!   an impulse on the ship, applied at once.
//! - View (everyone sees everything; positions rounded to whole units):
//!   `{"tick", "ticks_left", "ships": [{"player", "x", "y", "lives", "out"}],
//!   "asteroids": [[x, y, r], ...]}`.
//! - Events: `"hit" {"player", "lives"}`, `"out" {"player"}`.

use arcade_sdk::prelude::*;
use arcade_sdk::sim::{BodySpec, PhysicsWorld, Vec2, WorldConfig};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const TICK_HZ: u32 = 20;
pub const SIZE: f32 = 1000.0;
pub const LIVES: u32 = 3;
pub const SHIELD_TICKS: u32 = 10;
const SHIP_KIND: u32 = 1;
const ASTEROID_KIND: u32 = 2;
const SHIP_RADIUS: f32 = 15.0;
const THRUST_IMPULSE: f32 = 400.0;

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub duration_ticks: u32,
    pub asteroids: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config { duration_ticks: 600, asteroids: 200 }
    }
}

#[derive(Deserialize, Serialize, Clone, Copy)]
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
    pub body: u32,
    pub lives: u32,
    /// Ticks of invulnerability left after a hit.
    pub shield: u32,
}

pub struct Arena {
    world: PhysicsWorld,
    ships: Vec<Ship>,
    tick: u32,
    duration: u32,
}

/// A ship-asteroid contact costs a life unless the ship is shielded or out.
/// Returns whether the ship lost a life. (Pure rule, unit-tested natively.)
pub fn take_hit(ship: &mut Ship) -> bool {
    if ship.lives == 0 || ship.shield > 0 {
        return false;
    }
    ship.lives -= 1;
    ship.shield = SHIELD_TICKS;
    true
}

/// Whether the game is over: time is up, or (with several players) at most one ship is left.
pub fn is_over(ships: &[Ship], tick: u32, duration: u32) -> bool {
    let alive = ships.iter().filter(|s| s.lives > 0).count();
    tick >= duration || (ships.len() > 1 && alive <= 1)
}

/// The players with the most lives left.
pub fn leaders(ships: &[Ship]) -> Vec<String> {
    let best = ships.iter().map(|s| s.lives).max().unwrap_or(0);
    ships.iter().filter(|s| s.lives == best).map(|s| s.player.clone()).collect()
}

fn random_unit() -> f32 {
    (random_u64() >> 40) as f32 / (1u64 << 24) as f32
}

impl Game for Arena {
    type Config = Config;
    type Action = Action;

    fn info() -> GameInfo {
        GameInfo {
            tick_hz: TICK_HZ,
            ..GameInfo::turn_based("arena", "1.0.0", "Steer your ship through an asteroid field; last ship flying wins.", 1, 4)
        }
    }

    fn create(config: Config, players: &[String], _seed: u64) -> Result<Self, String> {
        if config.duration_ticks == 0 || config.asteroids > 5000 {
            return Err("duration_ticks must be > 0 and asteroids at most 5000".into());
        }
        let world = PhysicsWorld::new(WorldConfig {
            min: Vec2::ZERO,
            max: Vec2::new(SIZE, SIZE),
            gravity: Vec2::ZERO,
            substeps: 4,
            restitution: 0.9,
        });
        let mut ships = Vec::with_capacity(players.len());
        for (i, player) in players.iter().enumerate() {
            let angle = i as f32 / players.len() as f32 * std::f32::consts::TAU;
            let position = Vec2::new(SIZE / 2.0 + 120.0 * angle.cos(), SIZE / 2.0 + 120.0 * angle.sin());
            let body = world.add_body(BodySpec {
                position,
                velocity: Vec2::ZERO,
                radius: SHIP_RADIUS,
                mass: 5.0,
                kind: SHIP_KIND,
                flags: 0,
            })?;
            ships.push(Ship { player: player.clone(), body, lives: LIVES, shield: 0 });
        }
        for _ in 0..config.asteroids {
            let radius = 6.0 + 8.0 * random_unit();
            // Keep the middle clear so nobody is hit at tick 0.
            let (mut x, mut y) = (SIZE * random_unit(), SIZE * random_unit());
            if (x - SIZE / 2.0).abs() < 200.0 && (y - SIZE / 2.0).abs() < 200.0 {
                x = (x + SIZE / 2.0) % SIZE;
                y = (y + SIZE / 2.0) % SIZE;
            }
            let velocity = Vec2::new(160.0 * (random_unit() - 0.5), 160.0 * (random_unit() - 0.5));
            world.add_body(BodySpec {
                position: Vec2::new(x, y),
                velocity,
                radius,
                mass: radius * radius / 20.0,
                kind: ASTEROID_KIND,
                flags: 0,
            })?;
        }
        Ok(Arena { world, ships, tick: 0, duration: config.duration_ticks })
    }

    fn apply(&mut self, player: &str, action: Action) -> Result<Vec<Event>, ActionError> {
        let ship = self.ships.iter().find(|s| s.player == player).ok_or(ActionError::NotAPlayer)?;
        if ship.lives == 0 {
            return Err(ActionError::Illegal("your ship is out".into()));
        }
        let (x, y) = (action.thrust.x, action.thrust.y);
        if !(x.is_finite() && y.is_finite()) {
            return Err(ActionError::Malformed("thrust must be finite".into()));
        }
        let thrust = Vec2::new(x, y).clamp_length(1.0);
        self.world.apply_impulse(ship.body, Vec2::new(thrust.x * THRUST_IMPULSE, thrust.y * THRUST_IMPULSE));
        Ok(Vec::new())
    }

    fn tick(&mut self, dt_ms: u32) -> Vec<Event> {
        self.tick += 1;
        let mut events = Vec::new();
        for ship in &mut self.ships {
            ship.shield = ship.shield.saturating_sub(1);
        }
        for contact in self.world.contacts() {
            let ship_body = match (contact.kind_a, contact.kind_b) {
                (SHIP_KIND, ASTEROID_KIND) => contact.a,
                (ASTEROID_KIND, SHIP_KIND) => contact.b,
                _ => continue,
            };
            let Some(ship) = self.ships.iter_mut().find(|s| s.body == ship_body) else { continue };
            if take_hit(ship) {
                events.push(Event::public("hit", &json!({ "player": ship.player, "lives": ship.lives })));
                if ship.lives == 0 {
                    self.world.remove_body(ship.body);
                    events.push(Event::public("out", &json!({ "player": ship.player })));
                }
            }
        }
        if !is_over(&self.ships, self.tick, self.duration) {
            self.world.request_step(dt_ms as f32 / 1000.0);
        }
        events
    }

    fn view(&self, _viewer: &Viewer) -> Value {
        let bodies = self.world.bodies();
        let ships: Vec<Value> = self
            .ships
            .iter()
            .map(|ship| {
                let at = bodies.iter().find(|b| b.id == ship.body).map(|b| b.position);
                json!({
                    "player": ship.player,
                    "x": at.map(|p| p.x.round()),
                    "y": at.map(|p| p.y.round()),
                    "lives": ship.lives,
                    "out": ship.lives == 0,
                })
            })
            .collect();
        let asteroids: Vec<[i32; 2]> = bodies
            .iter()
            .filter(|b| b.kind == ASTEROID_KIND)
            .map(|b| [b.position.x.round() as i32, b.position.y.round() as i32])
            .collect();
        json!({
            "tick": self.tick,
            "ticks_left": self.duration.saturating_sub(self.tick),
            "ships": ships,
            "asteroids": asteroids,
        })
    }

    fn status(&self) -> Status {
        if is_over(&self.ships, self.tick, self.duration) {
            let winners = leaders(&self.ships);
            Status::Finished(Outcome {
                summary: format!("{} after {} ticks", winners.join(", "), self.tick),
                scores: self.ships.iter().map(|s| Score { player: s.player.clone(), points: i64::from(s.lives) }).collect(),
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
        [(1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)]
            .iter()
            .map(|(x, y)| json!({ "thrust": { "x": x, "y": y } }))
            .collect()
    }
}

arcade_sdk::export_game!(Arena);

#[cfg(test)]
mod tests {
    use super::*;

    fn ship(player: &str, lives: u32) -> Ship {
        Ship { player: player.into(), body: 0, lives, shield: 0 }
    }

    #[test]
    fn a_hit_costs_one_life_then_shields() {
        let mut s = ship("ann", LIVES);
        assert!(take_hit(&mut s));
        assert_eq!((s.lives, s.shield), (LIVES - 1, SHIELD_TICKS));
        assert!(!take_hit(&mut s), "shielded ships are not hit again");
        s.shield = 0;
        assert!(take_hit(&mut s));
        assert_eq!(s.lives, LIVES - 2);
    }

    #[test]
    fn ships_that_are_out_take_no_hits() {
        let mut s = ship("ann", 0);
        assert!(!take_hit(&mut s));
        assert_eq!(s.lives, 0);
    }

    #[test]
    fn the_game_ends_on_time_or_with_one_ship_left() {
        let two = [ship("ann", 2), ship("bob", 1)];
        assert!(!is_over(&two, 10, 100));
        assert!(is_over(&two, 100, 100));
        let one_left = [ship("ann", 2), ship("bob", 0)];
        assert!(is_over(&one_left, 10, 100));
        let solo = [ship("ann", 1)];
        assert!(!is_over(&solo, 10, 100), "a solo game runs until time is up");
    }

    #[test]
    fn most_lives_win_and_ties_share() {
        assert_eq!(leaders(&[ship("ann", 2), ship("bob", 1)]), vec!["ann"]);
        assert_eq!(leaders(&[ship("ann", 2), ship("bob", 2)]), vec!["ann", "bob"]);
    }

    #[test]
    fn config_defaults_and_rejects_unknown_keys() {
        let c: Config = serde_json::from_str("{}").unwrap();
        assert_eq!((c.duration_ticks, c.asteroids), (600, 200));
        assert!(serde_json::from_str::<Config>(r#"{"duration": 5}"#).is_err());
    }
}
