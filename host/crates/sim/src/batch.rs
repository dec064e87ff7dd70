//! Taking the steps of one batch: worlds that may ask for different step
//! lengths are grouped by `dt` (one `step_batch`, so one GPU submission, per
//! distinct `dt`; in practice one, since every room of a tick rate asks for
//! the tick's length), and a group the GPU fails to step is stepped on the
//! CPU instead, so the steps a tick requested are always taken.
//!
//! [`Stepper`] is shared by everything that steps plugin worlds: the tick
//! scheduler, crash recovery, `arcade replay` and `arcade play`. That is
//! what makes a replay take exactly the steps the live game took.

use super::{BackendPreference, BatchStats, CpuBackend, SimBackend, SimError, World, select_backend};

/// What one [`Stepper::step`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stepped {
    pub stats: BatchStats,
    /// GPU queue submissions it made (0 on the CPU).
    pub submissions: u64,
    /// `step_batch` calls, one per distinct `dt`.
    pub batches: u32,
    /// Groups the GPU failed to step, which the CPU stepped instead.
    pub fallbacks: u32,
}

/// A backend (chosen now, or on first use) plus the CPU fallback.
pub struct Stepper {
    backend: Option<Box<dyn SimBackend>>,
    /// What to build on first use when `backend` is `None`.
    preference: BackendPreference,
    fallback: CpuBackend,
}

impl Stepper {
    pub fn new(backend: Box<dyn SimBackend>) -> Self {
        Stepper { backend: Some(backend), preference: BackendPreference::Auto, fallback: CpuBackend::new() }
    }

    /// A stepper that selects its backend when it first has worlds to step,
    /// so games without physics never probe for a GPU.
    pub fn lazy(preference: BackendPreference) -> Self {
        Stepper { backend: None, preference, fallback: CpuBackend::new() }
    }

    pub fn cpu() -> Self {
        Stepper::new(Box::new(CpuBackend::new()))
    }

    fn backend(&mut self) -> &mut dyn SimBackend {
        let preference = self.preference;
        self.backend.get_or_insert_with(|| select_backend(preference)).as_mut()
    }

    /// `"cpu"` or `"gpu"` (selecting the backend if it was lazy).
    pub fn name(&mut self) -> &'static str {
        self.backend().name()
    }

    /// The device the backend runs on (selecting it if it was lazy).
    pub fn device(&mut self) -> String {
        self.backend().device().to_string()
    }

    /// Step every world by its own `dt`. Errors only when a world cannot be
    /// stepped on the CPU either (an invalid `dt`); worlds of groups already
    /// stepped keep their step.
    pub fn step<'a>(&mut self, worlds: impl IntoIterator<Item = (&'a mut World, f32)>) -> Result<Stepped, SimError> {
        let groups = groups_by_dt(worlds);
        let mut stepped = Stepped::default();
        if groups.is_empty() {
            return Ok(stepped);
        }
        let preference = self.preference;
        let backend = self.backend.get_or_insert_with(|| select_backend(preference));
        let submissions_before = backend.submissions();
        for (dt, mut group) in groups {
            stepped.batches += 1;
            let stats = match backend.step_batch(&mut group, dt) {
                Ok(stats) => stats,
                Err(error) if backend.name() != "cpu" => {
                    // The GPU backend leaves every world untouched on error.
                    tracing::warn!(%error, worlds = group.len(), "GPU physics batch failed; stepping it on the CPU");
                    stepped.fallbacks += 1;
                    self.fallback.step_batch(&mut group, dt)?
                }
                Err(error) => return Err(error),
            };
            stepped.stats.worlds += stats.worlds;
            stepped.stats.bodies += stats.bodies;
            stepped.stats.contacts += stats.contacts;
            stepped.stats.overflowed_worlds += stats.overflowed_worlds;
        }
        stepped.submissions = backend.submissions() - submissions_before;
        Ok(stepped)
    }
}

/// Worlds grouped by the bits of their `dt`, groups in order of first appearance.
fn groups_by_dt<'a>(worlds: impl IntoIterator<Item = (&'a mut World, f32)>) -> Vec<(f32, Vec<&'a mut World>)> {
    let mut groups: Vec<(f32, Vec<&'a mut World>)> = Vec::new();
    for (world, dt) in worlds {
        match groups.iter_mut().find(|(group_dt, _)| group_dt.to_bits() == dt.to_bits()) {
            Some((_, group)) => group.push(world),
            None => groups.push((dt, vec![world])),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Aabb, BodyDesc, Vec2, WorldConfig};

    fn world(speed: f32) -> World {
        let mut world = World::new(WorldConfig::new(Aabb::new(Vec2::ZERO, Vec2::new(100.0, 100.0)))).unwrap();
        world.add_body(BodyDesc::new(Vec2::new(50.0, 50.0), 1.0, 1.0).with_velocity(Vec2::new(speed, 0.0))).unwrap();
        world
    }

    /// Counts `step_batch` calls and fails every one when told to.
    struct Flaky {
        calls: u64,
        fail: bool,
    }

    impl SimBackend for Flaky {
        fn name(&self) -> &'static str {
            "gpu"
        }
        fn device(&self) -> &str {
            "test double"
        }
        fn step_batch(&mut self, worlds: &mut [&mut World], dt: f32) -> Result<BatchStats, SimError> {
            self.calls += 1;
            if self.fail {
                return Err(SimError::Gpu("device lost".into()));
            }
            CpuBackend::new().step_batch(worlds, dt)
        }
        fn submissions(&self) -> u64 {
            self.calls
        }
    }

    #[test]
    fn one_batch_per_distinct_dt() {
        let mut stepper = Stepper::new(Box::new(Flaky { calls: 0, fail: false }));
        let mut worlds = [world(1.0), world(2.0), world(3.0)];
        let [a, b, c] = &mut worlds;
        let stepped = stepper.step([(a, 0.5), (b, 0.25), (c, 0.5)]).unwrap();
        assert_eq!((stepped.batches, stepped.submissions, stepped.stats.worlds, stepped.fallbacks), (2, 2, 3, 0));
        let x: Vec<f32> = worlds.iter().map(|w| w.bodies()[0].position.x).collect();
        assert_eq!(x, [50.5, 50.5, 51.5]);
    }

    #[test]
    fn a_failed_gpu_batch_is_stepped_on_the_cpu() {
        let mut stepper = Stepper::new(Box::new(Flaky { calls: 0, fail: true }));
        let mut failed = world(4.0);
        let mut reference = world(4.0);
        let stepped = stepper.step([(&mut failed, 0.5)]).unwrap();
        CpuBackend::new().step(&mut reference, 0.5).unwrap();
        assert_eq!(stepped.fallbacks, 1);
        assert_eq!(failed.bodies(), reference.bodies());
        assert_eq!(failed.steps(), 1, "stepped exactly once");
    }

    #[test]
    fn an_invalid_dt_is_an_error_on_the_cpu() {
        let mut stepper = Stepper::cpu();
        let mut w = world(1.0);
        assert!(matches!(stepper.step([(&mut w, f32::NAN)]), Err(SimError::InvalidDt(_))));
        assert_eq!(stepper.step(std::iter::empty()).unwrap(), Stepped::default());
    }
}
