//! Matchmaking throughput and latency, in memory and against the real Redis
//! of `scripts/services.sh start` (ARCADE_TEST_REDIS_URL):
//!
//! 1. throughput: 100,000 waiting tickets (4-player matches, solos and
//!    duos, three regions), one `run_once`: tickets matched per second,
//!    for the match function alone and through each store (snapshot, match,
//!    atomic claim);
//! 2. latency: tickets arrive at a steady rate while `run_once` runs every
//!    100 ms; the time from a ticket's creation to its committed match
//!    (p50 / p99 / max).
//!
//!   scripts/services.sh start && eval "$(scripts/services.sh env)"
//!   cargo bench -p arcade-cluster --bench matchmaking
//!
//! Settings (environment): ARCADE_BENCH_TICKETS (100000),
//! ARCADE_BENCH_ARRIVALS_PER_SEC (1000), ARCADE_BENCH_ARRIVAL_SECS (10).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arcade_cluster::matchmaking::redis::RedisTicketStore;
use arcade_cluster::matchmaking::{
    MatchRules, Matchmaker, MemoryTicketStore, QueueKey, StoreOptions, Ticket, TicketRequest, TicketStore, plan_matches,
};
use arcade_protocol::clock::now_ms;
use arcade_test_support::redis::{delete_namespace, fresh_namespace, redis_url};
use arcade_test_support::tickets::{Population, synthetic_requests};
use futures_util::StreamExt;

const ROUND_INTERVAL: Duration = Duration::from_millis(100);
const SUBMITTERS: usize = 64;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn rules() -> MatchRules {
    MatchRules {
        players_per_match: 4,
        initial_rating_window: 100.0,
        window_growth_per_sec: 20.0,
        max_window: 600.0,
        max_latency_ms: 150,
        ticket_ttl_secs: 300,
    }
}

fn population() -> Population {
    Population { duo_every: 4, rating_low: 1_000.0, rating_range: 2_000, all_regions: false }
}

#[derive(Clone, Copy, Debug)]
enum Backend {
    Memory,
    Redis,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Memory => "memory",
            Backend::Redis => "redis",
        }
    }
}

/// A matchmaker for the `arena`/`ranked` queue on a fresh store; returns
/// the Redis namespace to clean up.
async fn matchmaker(backend: Backend) -> (Arc<Matchmaker>, Option<String>) {
    let options = StoreOptions { namespace: fresh_namespace("mm-bench"), retention: Duration::from_secs(600) };
    let (store, namespace): (Arc<dyn TicketStore>, _) = match backend {
        Backend::Memory => (Arc::new(MemoryTicketStore::new(options.retention)), None),
        Backend::Redis => {
            let namespace = options.namespace.clone();
            (
                Arc::new(RedisTicketStore::connect(&redis_url(), options).await.expect("connect to Redis")),
                Some(namespace),
            )
        }
    };
    (Arc::new(Matchmaker::new(store, [(QueueKey::new("arena", "ranked"), rules())]).unwrap()), namespace)
}

struct ThroughputRow {
    what: String,
    waiting: usize,
    matched_tickets: usize,
    elapsed: Duration,
}

/// The pure match function over `tickets` (best of three runs).
fn matcher_alone(tickets: &[Ticket], now: u64) -> ThroughputRow {
    let mut best: Option<ThroughputRow> = None;
    for _ in 0..3 {
        let started = Instant::now();
        let plan = plan_matches(tickets, now, &rules());
        let elapsed = started.elapsed();
        let matched_tickets = plan.matches.iter().map(|m| m.tickets.len()).sum();
        if best.as_ref().is_none_or(|b| elapsed < b.elapsed) {
            best = Some(ThroughputRow {
                what: "match function alone".into(),
                waiting: tickets.len(),
                matched_tickets,
                elapsed,
            });
        }
    }
    best.unwrap()
}

/// The bulk pool was created evenly over the minute after `base_ms`.
fn bulk_created_at(base_ms: u64, n: usize, total: usize) -> u64 {
    base_ms + (n as u64 * 60_000) / total as u64
}

/// Submits all requests through `SUBMITTERS` concurrent callers.
async fn submit_all(mm: &Arc<Matchmaker>, requests: Vec<TicketRequest>, base_ms: u64) -> Duration {
    let started = Instant::now();
    let total = requests.len();
    futures_util::stream::iter(requests.into_iter().enumerate())
        .map(|(n, request)| {
            let mm = mm.clone();
            async move { mm.submit_at(request, bulk_created_at(base_ms, n, total)).await.expect("submit") }
        })
        .buffer_unordered(SUBMITTERS)
        .for_each(|_| async {})
        .await;
    started.elapsed()
}

/// One `run_once` at `now_ms` over a queue holding all `requests`.
async fn one_round(
    backend: Backend,
    requests: &[TicketRequest],
    base_ms: u64,
    now_ms: u64,
) -> (ThroughputRow, Duration) {
    let (mm, namespace) = matchmaker(backend).await;
    let submit_time = submit_all(&mm, requests.to_vec(), base_ms).await;
    let started = Instant::now();
    let round = mm.run_once("arena", "ranked", now_ms).await.expect("run_once");
    let elapsed = started.elapsed();
    assert_eq!(round.waiting, requests.len(), "the snapshot holds every ticket");
    assert_eq!(round.contended, 0, "no other node competes");
    if let Some(namespace) = namespace {
        delete_namespace(&namespace).await;
    }
    let matched_tickets = round.matches.iter().map(|m| m.tickets.len()).sum();
    let what = format!("run_once, {} store", backend.name());
    (ThroughputRow { what, waiting: requests.len(), matched_tickets, elapsed }, submit_time)
}

struct LatencyRow {
    backend: Backend,
    arrivals_per_sec: usize,
    tickets: usize,
    matched: usize,
    /// Ticket creation to committed match, sorted.
    waits_ms: Vec<u64>,
    slowest_round: Duration,
}

impl LatencyRow {
    fn percentile(&self, p: f64) -> u64 {
        if self.waits_ms.is_empty() {
            return 0;
        }
        let rank = ((p / 100.0) * self.waits_ms.len() as f64).ceil() as usize;
        self.waits_ms[rank.clamp(1, self.waits_ms.len()) - 1]
    }
}

/// Tickets arrive at `per_sec` for `seconds` while a round runs every
/// 100 ms (and two seconds more, so late arrivals can be matched).
async fn steady_arrivals(backend: Backend, per_sec: usize, seconds: usize) -> LatencyRow {
    let (mm, namespace) = matchmaker(backend).await;
    let total = per_sec * seconds;
    let requests = synthetic_requests(&format!("steady-{}", backend.name()), total, 31, population());
    let arriving = Arc::new(AtomicBool::new(true));
    let created_at: Arc<Mutex<HashMap<String, u64>>> = Arc::default();

    let matcher = {
        let (mm, arriving, created_at) = (mm.clone(), arriving.clone(), created_at.clone());
        tokio::spawn(async move {
            let mut waits_ms = Vec::new();
            let mut slowest_round = Duration::ZERO;
            let mut ticker = tokio::time::interval(ROUND_INTERVAL);
            let mut drain_rounds = 20;
            while drain_rounds > 0 {
                ticker.tick().await;
                if !arriving.load(Ordering::Relaxed) {
                    drain_rounds -= 1;
                }
                let started = Instant::now();
                let round = mm.run_once("arena", "ranked", now_ms()).await.expect("run_once");
                slowest_round = slowest_round.max(started.elapsed());
                let matched_at = now_ms();
                let created_at = created_at.lock().unwrap();
                for ticket_id in round.matches.iter().flat_map(|m| &m.tickets) {
                    waits_ms.push(matched_at.saturating_sub(created_at[ticket_id]));
                }
            }
            (waits_ms, slowest_round)
        })
    };

    // Arrivals in 10 ms steps, catching up if a step was late.
    let started = Instant::now();
    let mut next = 0;
    let mut ticker = tokio::time::interval(Duration::from_millis(10));
    while next < total {
        ticker.tick().await;
        let due = ((started.elapsed().as_secs_f64() * per_sec as f64) as usize + 1).min(total);
        let batch: Vec<TicketRequest> = requests[next..due].to_vec();
        next = due;
        futures_util::stream::iter(batch)
            .map(|request| {
                let mm = mm.clone();
                async move { mm.submit(request).await.expect("submit") }
            })
            .buffer_unordered(SUBMITTERS)
            .for_each(|created| {
                created_at.lock().unwrap().insert(created.ticket.id, created.ticket.created_at_ms);
                async {}
            })
            .await;
    }
    arriving.store(false, Ordering::Relaxed);
    let (mut waits_ms, slowest_round) = matcher.await.expect("matcher task");
    waits_ms.sort_unstable();
    if let Some(namespace) = namespace {
        delete_namespace(&namespace).await;
    }
    LatencyRow { backend, arrivals_per_sec: per_sec, tickets: total, matched: waits_ms.len(), waits_ms, slowest_round }
}

fn main() {
    let tickets = setting("ARCADE_BENCH_TICKETS", 100_000);
    let per_sec = setting("ARCADE_BENCH_ARRIVALS_PER_SEC", 1_000);
    let seconds = setting("ARCADE_BENCH_ARRIVAL_SECS", 10);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    redis_url(); // fail early, with instructions, when Redis is not configured

    // Created over one minute, matched 10 s after the last arrival.
    let (base_ms, now_ms) = (1_700_000_000_000, 1_700_000_070_000);
    let requests = synthetic_requests("bulk", tickets, 17, population());
    let pool: Vec<Ticket> = requests
        .iter()
        .cloned()
        .enumerate()
        .map(|(n, request)| request.into_ticket(format!("t{n:07}"), bulk_created_at(base_ms, n, tickets)))
        .collect();

    let mut rows = vec![matcher_alone(&pool, now_ms)];
    let mut submit_rates = Vec::new();
    for backend in [Backend::Memory, Backend::Redis] {
        let (row, submit_time) = runtime.block_on(one_round(backend, &requests, base_ms, now_ms));
        submit_rates.push((backend, tickets as f64 / submit_time.as_secs_f64()));
        rows.push(row);
    }

    println!("\n### Matchmaking throughput ({tickets} waiting tickets, 4-player matches, solos and duos, 3 regions)\n");
    println!("| what | waiting | tickets matched | time | tickets matched / s |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for row in &rows {
        println!(
            "| {} | {} | {} | {:.1} ms | {:.0} |",
            row.what,
            row.waiting,
            row.matched_tickets,
            row.elapsed.as_secs_f64() * 1e3,
            row.matched_tickets as f64 / row.elapsed.as_secs_f64()
        );
    }
    for (backend, rate) in submit_rates {
        println!("\nsubmit into the {} store: {rate:.0} tickets / s ({SUBMITTERS} concurrent callers)", backend.name());
    }

    let latencies: Vec<LatencyRow> = [Backend::Memory, Backend::Redis]
        .into_iter()
        .map(|backend| runtime.block_on(steady_arrivals(backend, per_sec, seconds)))
        .collect();
    println!("\n### Ticket to match ({per_sec} tickets / s for {seconds} s, run_once every 100 ms)\n");
    println!("| store | arrivals / s | tickets | matched | p50 | p99 | max | slowest round |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for row in &latencies {
        println!(
            "| {} | {} | {} | {} | {} ms | {} ms | {} ms | {:.1} ms |",
            row.backend.name(),
            row.arrivals_per_sec,
            row.tickets,
            row.matched,
            row.percentile(50.0),
            row.percentile(99.0),
            row.waits_ms.last().copied().unwrap_or(0),
            row.slowest_round.as_secs_f64() * 1e3
        );
    }
}
