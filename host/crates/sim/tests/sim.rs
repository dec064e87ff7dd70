//! The simulation engine through its public API, on both backends: CPU/GPU
//! agreement, conservation and containment, contacts, sensors and static
//! bodies, and batching many worlds into one GPU submission.
//!
//! GPU parts need a wgpu adapter (Mesa lavapipe in CI: `scripts/setup.sh`).
//! Without one they fail, unless `ARCADE_SIM_ALLOW_NO_GPU=1` lets them skip.

use arcade_sim::{Aabb, BodyDesc, Contact, CpuBackend, FLAG_SENSOR, SimBackend, SimError, Vec2, World, WorldConfig};
use arcade_test_support::worlds::{falling_gas, gas};

const DT: f32 = 1.0 / 60.0;

/// Every backend to run a scenario on.
fn backends() -> Vec<Box<dyn SimBackend>> {
    let cpu: Box<dyn SimBackend> = Box::new(CpuBackend::new());
    std::iter::once(cpu).chain(gpu_only::gpu()).collect()
}

fn run(backend: &mut dyn SimBackend, world: &mut World, steps: usize) {
    for _ in 0..steps {
        backend.step(world, DT).unwrap();
    }
}

fn momentum(world: &World) -> Vec2 {
    world
        .bodies()
        .iter()
        .fold(Vec2::ZERO, |sum, b| Vec2::new(sum.x + b.mass * b.velocity.x, sum.y + b.mass * b.velocity.y))
}

fn distance(a: Vec2, b: Vec2) -> f32 {
    (a.x - b.x).hypot(a.y - b.y)
}

/// Sum of |m·v|: the scale momentum errors are measured against.
fn momentum_scale(world: &World) -> f32 {
    world.bodies().iter().map(|b| b.mass * b.velocity.x.hypot(b.velocity.y)).sum()
}

#[test]
fn momentum_is_conserved_without_gravity_away_from_walls() {
    for mut backend in backends() {
        // A 400-body gas on a 36×36 lattice, 15 units from every wall: in
        // 120 steps (2 s at up to ~2.8 units/s, a bit more after being hit by
        // a heavier body) none gets within 5 units of a wall, but many collide.
        let mut lattice = Aabb::new(Vec2::ZERO, Vec2::ZERO);
        let mut world = gas(7, 400, 2.0, |bounds| {
            lattice = bounds;
            WorldConfig::new(Aabb::new(Vec2::new(-15.0, -15.0), Vec2::new(bounds.max.x + 15.0, bounds.max.y + 15.0)))
        });
        let (before, scale) = (momentum(&world), momentum_scale(&world));
        let inner = Aabb::new(Vec2::new(-10.0, -10.0), Vec2::new(lattice.max.x + 10.0, lattice.max.y + 10.0));
        let mut contacts = 0;
        for _ in 0..120 {
            backend.step(&mut world, DT).unwrap();
            contacts += world.contacts().len();
        }
        assert!(world.bodies().iter().all(|b| inner.contains_circle(b.position, b.radius)), "a body reached the walls");
        assert!(contacts > 100, "{}: only {contacts} contacts", backend.name());
        // f32 sums of ~400 terms: relative error well under 1e-4.
        let drift = distance(momentum(&world), before);
        assert!(drift <= 1e-4 * scale, "{}: momentum drifted by {drift} (scale {scale})", backend.name());
    }
}

#[test]
fn bodies_stay_within_bounds() {
    for mut backend in backends() {
        let mut world = gas(11, 300, 40.0, |bounds| WorldConfig {
            gravity: Vec2::new(3.0, -30.0),
            substeps: 2,
            ..WorldConfig::new(bounds)
        });
        let bounds = world.config().bounds;
        // Rounding can leave a body a hair past a wall it was clamped to.
        let tolerance = 1e-4;
        let slack = Aabb::new(
            Vec2::new(bounds.min.x - tolerance, bounds.min.y - tolerance),
            Vec2::new(bounds.max.x + tolerance, bounds.max.y + tolerance),
        );
        for step in 0..150 {
            backend.step(&mut world, DT).unwrap();
            for body in world.bodies() {
                assert!(
                    slack.contains_circle(body.position, body.radius),
                    "{}: step {step}: {body:?} left {bounds:?}",
                    backend.name()
                );
            }
        }
    }
}

fn two_body_world(restitution: f32) -> World {
    World::new(WorldConfig {
        restitution,
        ..WorldConfig::new(Aabb::new(Vec2::new(-50.0, -50.0), Vec2::new(50.0, 50.0)))
    })
    .unwrap()
}

#[test]
fn head_on_collision_reports_the_pair_and_swaps_velocities() {
    for mut backend in backends() {
        let mut world = two_body_world(1.0);
        let bystander = world.add_body(BodyDesc::new(Vec2::new(0.0, 30.0), 1.0, 1.0).with_kind(9)).unwrap();
        let left = world
            .add_body(BodyDesc::new(Vec2::new(-5.0, 0.0), 1.0, 2.0).with_velocity(Vec2::new(5.0, 0.0)).with_kind(1))
            .unwrap();
        let right = world
            .add_body(BodyDesc::new(Vec2::new(5.0, 0.0), 1.0, 2.0).with_velocity(Vec2::new(-5.0, 0.0)).with_kind(2))
            .unwrap();
        let mut steps_with_contact = Vec::new();
        for step in 0..60 {
            backend.step(&mut world, DT).unwrap();
            if !world.contacts().is_empty() {
                assert_eq!(
                    world.contacts(),
                    &[Contact { a: left, b: right, kind_a: 1, kind_b: 2 }],
                    "{}",
                    backend.name()
                );
                steps_with_contact.push(step);
            }
        }
        // They meet after (10 - 2) / 10 s = 0.8 s, i.e. in step 48 (0-based).
        assert!(
            steps_with_contact.first().is_some_and(|&s| (47..=49).contains(&s)),
            "{}: {steps_with_contact:?}",
            backend.name()
        );
        assert!(steps_with_contact.len() <= 2, "{}: still touching at {steps_with_contact:?}", backend.name());
        // Equal masses, elastic: velocities are exchanged.
        let (l, r) = (world.body(left).unwrap(), world.body(right).unwrap());
        assert!(
            distance(l.velocity, Vec2::new(-5.0, 0.0)) < 1e-4 && distance(r.velocity, Vec2::new(5.0, 0.0)) < 1e-4,
            "{}: {l:?} {r:?}",
            backend.name()
        );
        assert!(l.position.x < r.position.x - 2.0);
        assert_eq!(world.body(bystander).unwrap().position, Vec2::new(0.0, 30.0));
    }
}

#[test]
fn sensor_reports_contacts_without_pushing() {
    for mut backend in backends() {
        let mut world = two_body_world(1.0);
        let sensor =
            world.add_body(BodyDesc::new(Vec2::new(0.0, 0.0), 2.0, 1.0).with_flags(FLAG_SENSOR).with_kind(5)).unwrap();
        let ship = world
            .add_body(BodyDesc::new(Vec2::new(-6.0, 0.0), 1.0, 1.0).with_velocity(Vec2::new(6.0, 0.0)).with_kind(1))
            .unwrap();
        let mut touching_steps = 0;
        for _ in 0..120 {
            backend.step(&mut world, DT).unwrap();
            if !world.contacts().is_empty() {
                assert_eq!(world.contacts(), &[Contact { a: sensor, b: ship, kind_a: 5, kind_b: 1 }]);
                touching_steps += 1;
            }
        }
        // Overlapping while |x| < 3: 6 units at 6 units/s = 1 s = 60 steps.
        assert!((58..=62).contains(&touching_steps), "{}: {touching_steps}", backend.name());
        let (s, b) = (world.body(sensor).unwrap(), world.body(ship).unwrap());
        assert_eq!((s.position, s.velocity), (Vec2::ZERO, Vec2::ZERO), "{}", backend.name());
        assert!((b.velocity.x - 6.0).abs() < 1e-5 && (b.position.x - 6.0).abs() < 1e-3, "{}: {b:?}", backend.name());
    }
}

#[test]
fn static_bodies_never_move_and_bounce_others() {
    for mut backend in backends() {
        let mut world = World::new(WorldConfig {
            gravity: Vec2::new(0.0, -10.0),
            restitution: 0.5,
            ..WorldConfig::new(Aabb::new(Vec2::new(-20.0, -20.0), Vec2::new(20.0, 20.0)))
        })
        .unwrap();
        let pillar =
            world.add_body(BodyDesc::new(Vec2::new(0.0, 0.0), 2.0, 0.0).with_velocity(Vec2::new(1.0, 0.0))).unwrap();
        let other_pillar = world.add_body(BodyDesc::new(Vec2::new(1.0, 0.0), 2.0, 0.0)).unwrap();
        let ball = world.add_body(BodyDesc::new(Vec2::new(0.0, 5.0), 0.5, 1.0)).unwrap();
        let mut bounced = false;
        for _ in 0..90 {
            backend.step(&mut world, DT).unwrap();
            bounced |= world.body(ball).unwrap().velocity.y > 0.5;
            // Overlapping static bodies are scenery: never a contact.
            assert!(world.contacts().iter().all(|c| (c.a, c.b) != (pillar, other_pillar)));
        }
        assert!(bounced, "{}: the ball never bounced off the pillar", backend.name());
        assert_eq!(world.body(pillar).unwrap().position, Vec2::new(0.0, 0.0));
        assert_eq!(world.body(other_pillar).unwrap().position, Vec2::new(1.0, 0.0));
        assert!(world.body(ball).unwrap().position.y > 2.0, "{}: the ball fell through", backend.name());
    }
}

#[test]
fn free_fall_matches_semi_implicit_euler_closed_form() {
    for mut backend in backends() {
        let mut world = World::new(WorldConfig {
            gravity: Vec2::new(0.0, -9.81),
            substeps: 3,
            ..WorldConfig::new(Aabb::new(Vec2::new(-1000.0, -1000.0), Vec2::new(1000.0, 1000.0)))
        })
        .unwrap();
        let id =
            world.add_body(BodyDesc::new(Vec2::new(0.0, 100.0), 1.0, 1.0).with_velocity(Vec2::new(2.0, 0.0))).unwrap();
        run(backend.as_mut(), &mut world, 60);
        // After n sub-steps of h: v = g·h·n, y = y0 + g·h²·n(n+1)/2.
        let (n, h, g) = (180.0f64, DT as f64 / 3.0, -9.81f64);
        let body = world.body(id).unwrap();
        assert!((body.velocity.y as f64 - g * h * n).abs() < 1e-3, "{}: {body:?}", backend.name());
        assert!(
            (body.position.y as f64 - (100.0 + g * h * h * n * (n + 1.0) / 2.0)).abs() < 1e-3,
            "{}: {body:?}",
            backend.name()
        );
        assert!((body.position.x - 2.0).abs() < 1e-4);
    }
}

#[test]
fn contact_overflow_is_flagged() {
    for mut backend in backends() {
        let bounds = Aabb::new(Vec2::new(0.0, 0.0), Vec2::new(10.0, 10.0));
        let mut world = World::new(WorldConfig { max_contacts: 4, ..WorldConfig::new(bounds) }).unwrap();
        for i in 0..10 {
            world.add_body(BodyDesc::new(Vec2::new(4.0 + 0.2 * i as f32, 5.0), 1.0, 1.0)).unwrap();
        }
        backend.step(&mut world, DT).unwrap();
        assert!(world.contacts_overflowed(), "{}", backend.name());
        assert!(
            !world.contacts().is_empty() && world.contacts().len() <= 4,
            "{}: {:?}",
            backend.name(),
            world.contacts()
        );
    }
}

#[test]
fn cpu_backend_is_deterministic() {
    let mut results = (0..2).map(|_| {
        let mut world = falling_gas(3, 300);
        run(&mut CpuBackend::new(), &mut world, 60);
        world
    });
    let (first, second) = (results.next().unwrap(), results.next().unwrap());
    assert_eq!(first.bodies(), second.bodies());
    assert_eq!(first.contacts(), second.contacts());
}

#[test]
fn invalid_step_length_is_rejected_without_touching_worlds() {
    for mut backend in backends() {
        let mut world = falling_gas(1, 10);
        let before = world.bodies().to_vec();
        for dt in [0.0, -1.0, f32::NAN, f32::INFINITY] {
            assert!(matches!(backend.step(&mut world, dt), Err(SimError::InvalidDt(_))));
        }
        assert_eq!(world.bodies(), before.as_slice());
        assert_eq!((world.steps(), backend.submissions()), (0, 0));
    }
}

/// The GPU backend, and the tests only it can run.
#[cfg(feature = "gpu")]
mod gpu_only {
    use super::*;
    use arcade_sim::{AdapterKind, BackendPreference, GpuBackend, select_backend};

    /// The GPU backend, or `None` (skip) when there is no adapter and
    /// `ARCADE_SIM_ALLOW_NO_GPU=1`; without that variable a missing adapter fails.
    pub fn gpu() -> Option<Box<dyn SimBackend>> {
        match GpuBackend::new() {
            Ok(gpu) => Some(Box::new(gpu)),
            Err(error) if std::env::var("ARCADE_SIM_ALLOW_NO_GPU").as_deref() == Ok("1") => {
                eprintln!("skipping the GPU backend: {error}");
                None
            }
            Err(error) => panic!("{error}: install Mesa lavapipe (scripts/setup.sh) or set ARCADE_SIM_ALLOW_NO_GPU=1"),
        }
    }

    /// Largest position and velocity difference between two copies of a world.
    fn max_difference(a: &World, b: &World) -> (f32, f32) {
        assert_eq!(a.bodies().len(), b.bodies().len());
        a.bodies().iter().zip(b.bodies()).fold((0.0f32, 0.0f32), |(dp, dv), (x, y)| {
            assert_eq!(x.id, y.id);
            (dp.max(distance(x.position, y.position)), dv.max(distance(x.velocity, y.velocity)))
        })
    }

    /// The two backends do the same arithmetic in the same order (cells sorted by
    /// body index on the GPU too), but not bit for bit: the GPU compiler may fuse
    /// multiply-adds and its sqrt/division may round differently (Vulkan allows a
    /// few ULP). So states are compared after every step from the same start
    /// (one step's error must stay near f32 rounding: 1e-3 units in a 40-unit
    /// world, against body radii of 0.3-0.6), while the free run of 200 steps,
    /// where collisions amplify those rounding differences like any chaotic
    /// billiard, is compared on aggregates: total momentum, kinetic energy and
    /// the centre of mass within 1% of their scale at the start.
    #[test]
    fn cpu_and_gpu_agree_on_500_bodies_over_200_steps() {
        let Some(mut gpu) = gpu() else { return };
        let mut cpu = CpuBackend::new();
        let start = falling_gas(42, 500);
        let (mut on_cpu, mut on_gpu) = (start.clone(), start.clone());
        let (mut worst_position, mut worst_velocity, mut contacts, mut contact_mismatches) = (0.0f32, 0.0f32, 0, 0);
        for _ in 0..200 {
            let mut stepped_on_gpu = on_cpu.clone();
            cpu.step(&mut on_cpu, DT).unwrap();
            gpu.step(&mut stepped_on_gpu, DT).unwrap();
            gpu.step(&mut on_gpu, DT).unwrap();
            let (dp, dv) = max_difference(&on_cpu, &stepped_on_gpu);
            (worst_position, worst_velocity) = (worst_position.max(dp), worst_velocity.max(dv));
            assert!(!on_cpu.contacts_overflowed() && !stepped_on_gpu.contacts_overflowed());
            contacts += on_cpu.contacts().len();
            // A pair exactly at touching distance may count on one backend only.
            contact_mismatches += on_cpu.contacts().iter().filter(|c| !stepped_on_gpu.contacts().contains(c)).count();
            contact_mismatches += stepped_on_gpu.contacts().iter().filter(|c| !on_cpu.contacts().contains(c)).count();
        }
        eprintln!(
            "per step: position {worst_position:e}, velocity {worst_velocity:e}; contacts {contacts}, mismatched {contact_mismatches}"
        );
        assert!(worst_position <= 1e-3, "one step diverged by {worst_position} units");
        assert!(worst_velocity <= 1e-2, "one step diverged by {worst_velocity} units/s");
        assert!(contacts > 500, "the scenario must collide a lot ({contacts} contacts)");
        assert!(contact_mismatches * 1000 <= contacts, "{contact_mismatches} of {contacts} contacts differ");

        let energy = |w: &World| {
            w.bodies().iter().map(|b| 0.5 * b.mass * (b.velocity.x.powi(2) + b.velocity.y.powi(2))).sum::<f32>()
        };
        let centre = |w: &World| {
            let mass: f32 = w.bodies().iter().map(|b| b.mass).sum();
            let weighted = w
                .bodies()
                .iter()
                .fold(Vec2::ZERO, |s, b| Vec2::new(s.x + b.mass * b.position.x, s.y + b.mass * b.position.y));
            Vec2::new(weighted.x / mass, weighted.y / mass)
        };
        eprintln!("free run: largest difference (position, velocity) {:?}", max_difference(&on_cpu, &on_gpu));
        let side = start.config().bounds.width();
        let scale = momentum_scale(&start);
        assert!(distance(momentum(&on_cpu), momentum(&on_gpu)) <= 0.01 * scale);
        assert!((energy(&on_cpu) - energy(&on_gpu)).abs() <= 0.01 * energy(&start));
        assert!(distance(centre(&on_cpu), centre(&on_gpu)) <= 0.01 * side);
    }

    #[test]
    fn batch_of_ten_worlds_is_one_gpu_submission_with_per_world_results() {
        let Some(mut gpu) = gpu() else { return };
        // Different sizes, seeds, gravity, sub-steps, one empty world, one with a
        // removed body: each must come back as if stepped alone on the CPU.
        let mut worlds: Vec<World> = (0..10u64)
            .map(|i| {
                gas(100 + i, [50, 200, 0, 120, 80, 300, 10, 150, 60, 240][i as usize], 1.0 + i as f32, |bounds| {
                    WorldConfig {
                        gravity: Vec2::new(0.0, -(i as f32)),
                        substeps: 1 + i as u32 % 4,
                        restitution: 0.5 + 0.05 * i as f32,
                        ..WorldConfig::new(bounds)
                    }
                })
            })
            .collect();
        worlds[5].remove_body(17).unwrap();
        let mut cpu = CpuBackend::new();
        for step in 0..5 {
            let mut expected = worlds.clone();
            for world in &mut expected {
                cpu.step(world, DT).unwrap();
            }
            let before = gpu.submissions();
            let stats = gpu.step_batch(&mut worlds.iter_mut().collect::<Vec<_>>(), DT).unwrap();
            assert_eq!(gpu.submissions(), before + 1, "step {step}: one submission per batch");
            assert_eq!((stats.worlds, stats.bodies), (10, 1209));
            for (index, (world, expected)) in worlds.iter().zip(&expected).enumerate() {
                // Same tolerance as one step of `cpu_and_gpu_agree_on_500_bodies_over_200_steps`.
                let (dp, dv) = max_difference(world, expected);
                assert!(dp <= 1e-3 && dv <= 1e-2, "step {step}: world {index} differs from its CPU twin by {dp}, {dv}");
                assert_eq!(world.contacts(), expected.contacts(), "step {step}: world {index}");
                assert_eq!(world.steps(), step + 1);
            }
        }
        assert!(worlds[5].body(17).is_none() && worlds[5].body(18).is_some());
        assert!(worlds[2].bodies().is_empty());
    }

    /// `auto` takes a real GPU and passes over a software one (lavapipe in
    /// CI: then the CPU backend's device names the adapter it skipped);
    /// `gpu` takes whatever adapter there is.
    #[test]
    fn auto_selection_takes_a_hardware_gpu_and_never_a_software_one() {
        let hardware = match GpuBackend::new() {
            Ok(gpu) => Some(AdapterKind::from(gpu.adapter_info().device_type).is_hardware()),
            Err(_) => None,
        };
        let auto = select_backend(BackendPreference::Auto);
        let forced = select_backend(BackendPreference::Gpu);
        eprintln!("auto: {} on {}; gpu: {} on {}", auto.name(), auto.device(), forced.name(), forced.device());
        match hardware {
            Some(true) => assert_eq!(auto.name(), "gpu"),
            Some(false) => {
                assert_eq!(auto.name(), "cpu");
                assert!(auto.device().contains("auto: software adapter"), "{}", auto.device());
                assert_eq!(forced.name(), "gpu", "an explicit `gpu` uses the software adapter");
            }
            None => assert_eq!((auto.name(), forced.name()), ("cpu", "cpu")),
        }
        assert_eq!(select_backend(BackendPreference::Cpu).name(), "cpu");
    }
}

#[cfg(not(feature = "gpu"))]
mod gpu_only {
    /// A build without the `gpu` feature has no GPU backend to test.
    pub fn gpu() -> Option<Box<dyn arcade_sim::SimBackend>> {
        None
    }
}
