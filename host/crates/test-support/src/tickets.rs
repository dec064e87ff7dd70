//! Synthetic matchmaking populations: reproducible ticket requests for the
//! matchmaking tests and benchmarks.

use std::collections::BTreeMap;

use arcade_cluster::matchmaking::TicketRequest;

use crate::rng::Rng;

/// The shape of a synthetic population.
#[derive(Clone, Copy, Debug)]
pub struct Population {
    /// One party in `duo_every` is a duo, the rest solos.
    pub duo_every: u64,
    /// Ratings are uniform in `rating_low .. rating_low + rating_range`.
    pub rating_low: f64,
    pub rating_range: u64,
    /// Each ticket measures all three regions, or two of them (then a group
    /// of three tickets may share none).
    pub all_regions: bool,
}

/// `count` requests for `arena`/`ranked` with unique player names
/// `<prefix>-<n>-<m>`.
pub fn synthetic_requests(prefix: &str, count: usize, seed: u64, population: Population) -> Vec<TicketRequest> {
    let mut rng = Rng::new(seed);
    let regions = ["eu-west-1", "us-east-1", "ap-south-1"];
    (0..count)
        .map(|n| {
            let size = if rng.below(population.duo_every) == 0 { 2 } else { 1 };
            let skipped = if population.all_regions { usize::MAX } else { rng.below(3) as usize };
            let latencies: BTreeMap<String, u32> = regions
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skipped)
                .map(|(_, region)| (region.to_string(), 15 + rng.below(100) as u32))
                .collect();
            TicketRequest {
                game: "arena".into(),
                mode: "ranked".into(),
                party: (0..size).map(|m| format!("{prefix}-{n}-{m}")).collect(),
                rating: population.rating_low + rng.below(population.rating_range) as f64,
                latencies,
            }
        })
        .collect()
}
