//! The real Redis of the matchmaking and rate-limit tests and of the
//! matchmaking benchmark (included there with `#[path]`), plus synthetic
//! ticket requests. Start Redis with `scripts/services.sh start` and
//! `eval "$(scripts/services.sh env)"`; without ARCADE_TEST_REDIS_URL the
//! tests fail and say so.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use arcade_host::matchmaking::TicketRequest;

const HOW_TO_START: &str = "these tests need a real Redis: run `scripts/services.sh start` and \
     `eval \"$(scripts/services.sh env)\"` (or start redis-server and export \
     ARCADE_TEST_REDIS_URL=redis://127.0.0.1:PORT/), then re-run them";

/// The Redis URL from ARCADE_TEST_REDIS_URL; panics with how to start one.
pub fn redis_url() -> String {
    std::env::var("ARCADE_TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| panic!("ARCADE_TEST_REDIS_URL is not set: {HOW_TO_START}"))
}

/// A key prefix no other test (or test run) uses.
pub fn fresh_namespace(what: &str) -> String {
    format!("arcade-test:{what}:{}", uuid::Uuid::new_v4().simple())
}

/// A plain connection, to inspect keys.
pub async fn connection() -> redis::aio::MultiplexedConnection {
    let url = redis_url();
    let client = redis::Client::open(url.as_str()).unwrap();
    // Other tests may keep this Redis busy with large replies for a moment.
    let config = redis::AsyncConnectionConfig::new().set_response_timeout(Some(Duration::from_secs(10)));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .unwrap_or_else(|e| panic!("cannot reach Redis at {url}: {e}; {HOW_TO_START}"))
}

/// Deletes every key of `namespace`.
pub async fn delete_namespace(namespace: &str) {
    let mut con = connection().await;
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{namespace}:*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut con)
            .await
            .unwrap();
        if !keys.is_empty() {
            redis::cmd("UNLINK").arg(&keys).query_async::<()>(&mut con).await.unwrap();
        }
        if next == 0 {
            return;
        }
        cursor = next;
    }
}

/// xorshift64*: reproducible synthetic players without a dependency.
pub struct Prng(pub u64);

impl Prng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

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
    let mut rng = Prng(seed | 1);
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
