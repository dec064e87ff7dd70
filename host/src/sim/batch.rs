//! Stepping worlds that asked for possibly different step lengths: one
//! `step_batch` per distinct `dt` (in practice one: every room of a tick
//! rate asks for the same). Shared by the tick scheduler and replay.

use super::{BatchStats, SimBackend, SimError, World};

pub fn step_by_dt<'a>(
    backend: &mut dyn SimBackend,
    worlds: impl IntoIterator<Item = (&'a mut World, f32)>,
) -> Result<BatchStats, SimError> {
    let mut groups: Vec<(f32, Vec<&'a mut World>)> = Vec::new();
    for (world, dt) in worlds {
        match groups.iter_mut().find(|(group_dt, _)| group_dt.to_bits() == dt.to_bits()) {
            Some((_, group)) => group.push(world),
            None => groups.push((dt, vec![world])),
        }
    }
    let mut total = BatchStats::default();
    for (dt, mut group) in groups {
        let stats = backend.step_batch(&mut group, dt)?;
        total.worlds += stats.worlds;
        total.bodies += stats.bodies;
        total.contacts += stats.contacts;
        total.overflowed_worlds += stats.overflowed_worlds;
    }
    Ok(total)
}
