//! The rate limiter at its quotas: in memory (governor) and in a REAL Redis
//! (ARCADE_TEST_REDIS_URL, see `scripts/services.sh`), including two
//! limiters on one Redis, like two nodes, enforcing one shared limit.

use std::time::{Duration, Instant};

use arcade_cluster::ratelimit::{Policy, RateLimitError, RateLimiter, RateLimits, RetryAfter};
use arcade_test_support::redis::{delete_namespace, fresh_namespace, redis_url};

async fn redis_limiter(namespace: &str) -> RateLimiter {
    let url = redis_url();
    RateLimiter::redis(&url, namespace, RateLimits::default())
        .await
        .unwrap_or_else(|e| panic!("cannot reach Redis at {url}: {e}; start it with scripts/services.sh start"))
}

/// Sends `attempts` requests as fast as possible, rotating over `limiters`;
/// returns how many were allowed, the first refusal's Retry-After, and the
/// time it took.
async fn burst(
    limiters: &[&RateLimiter],
    policy: Policy,
    key: &str,
    attempts: usize,
) -> (usize, Option<RetryAfter>, Duration) {
    let started = Instant::now();
    let mut allowed = 0;
    let mut first_refusal = None;
    for n in 0..attempts {
        match limiters[n % limiters.len()].check(policy, key).await {
            Ok(()) => allowed += 1,
            Err(RateLimitError::Limited(retry_after)) => {
                first_refusal.get_or_insert(retry_after);
            }
            Err(other) => panic!("{policy} check failed: {other}"),
        }
    }
    (allowed, first_refusal, started.elapsed())
}

/// A burst of `quota` is allowed at once and nothing more, except what
/// the elapsed time replenished; the first refusal waits at most one
/// emission interval.
fn assert_at_quota(
    what: &str,
    (allowed, first_refusal, elapsed): (usize, Option<RetryAfter>, Duration),
    quota: usize,
    interval: Duration,
) {
    let replenished = (elapsed.as_secs_f64() / interval.as_secs_f64()).floor() as usize;
    assert!(
        (quota..=quota + replenished).contains(&allowed),
        "{what}: {allowed} allowed, quota {quota} (+{replenished} replenished in {elapsed:?})"
    );
    let retry_after = first_refusal.unwrap_or_else(|| panic!("{what}: nothing was refused")).0;
    assert!(
        retry_after > Duration::ZERO && retry_after <= interval,
        "{what}: Retry-After {retry_after:?}, interval {interval:?}"
    );
}

#[tokio::test]
async fn in_memory_limits_hold_at_each_quota() {
    let limiter = RateLimiter::in_memory(RateLimits::default()).unwrap();
    assert_at_quota("player", burst(&[&limiter], Policy::Player, "ann", 100).await, 60, Duration::from_secs(1));
    assert_at_quota("room", burst(&[&limiter], Policy::Room, "room-1", 30).await, 10, Duration::from_millis(100));
    assert_at_quota("ws", burst(&[&limiter], Policy::WsMessages, "conn-1", 20).await, 5, Duration::from_millis(200));
    // Other keys are unaffected.
    limiter.check(Policy::Player, "bob").await.unwrap();
}

#[tokio::test]
async fn redis_limits_hold_at_each_quota() {
    let namespace = fresh_namespace("rl-quota");
    let limiter = redis_limiter(&namespace).await;
    assert_at_quota("player", burst(&[&limiter], Policy::Player, "ann", 100).await, 60, Duration::from_secs(1));
    assert_at_quota("room", burst(&[&limiter], Policy::Room, "room-1", 30).await, 10, Duration::from_millis(100));
    limiter.check(Policy::Player, "bob").await.unwrap();
    delete_namespace(&namespace).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_redis_share_the_limit() {
    let namespace = fresh_namespace("rl-shared");
    let (node_a, node_b) = (redis_limiter(&namespace).await, redis_limiter(&namespace).await);
    // One player's requests arrive through both nodes: 60 per minute in total, not per node.
    let through_both = burst(&[&node_a, &node_b], Policy::Player, "ann", 120).await;
    assert_at_quota("player via two nodes", through_both, 60, Duration::from_secs(1));
    let refused = node_b.check(Policy::Player, "ann").await.unwrap_err();
    let header = refused.retry_after().unwrap().header_seconds();
    assert_eq!(header, 1, "Retry-After: {header}");

    // Concurrently from both nodes, another player gets 60 per minute in total.
    let (only_a, only_b) = ([&node_a], [&node_b]);
    let (a, b) = tokio::join!(burst(&only_a, Policy::Player, "bob", 50), burst(&only_b, Policy::Player, "bob", 50));
    let elapsed = a.2.max(b.2);
    let replenished = elapsed.as_secs() as usize;
    assert!((60..=60 + replenished).contains(&(a.0 + b.0)), "{} + {} allowed in {elapsed:?}", a.0, b.0);

    // A room runs on one node: its limit is that node's, not Redis's.
    let (a, b) = tokio::join!(burst(&only_a, Policy::Room, "room-9", 15), burst(&only_b, Policy::Room, "room-9", 15));
    assert!(a.0 >= 10 && b.0 >= 10, "each node keeps its own room limit: {} and {}", a.0, b.0);
    delete_namespace(&namespace).await;
}

#[tokio::test]
async fn waiting_the_retry_after_is_enough() {
    let namespace = fresh_namespace("rl-retry");
    let shared = redis_limiter(&namespace).await;
    let local = RateLimiter::in_memory(RateLimits::default()).unwrap();
    for limiter in [&shared, &local] {
        let (_, refusal, _) = burst(&[limiter], Policy::Player, "ann", 62).await;
        tokio::time::sleep(refusal.unwrap().0 + Duration::from_millis(5)).await;
        limiter.check(Policy::Player, "ann").await.expect("allowed again after Retry-After");
        assert!(limiter.check(Policy::Player, "ann").await.is_err(), "but only one more");
    }
    delete_namespace(&namespace).await;
}

#[tokio::test]
async fn websocket_limits_stay_on_the_node_and_redis_keys_expire() {
    let namespace = fresh_namespace("rl-local");
    let (node_a, node_b) = (redis_limiter(&namespace).await, redis_limiter(&namespace).await);
    // A connection lives on one node: each node counts its own connections.
    assert_at_quota(
        "ws on A",
        burst(&[&node_a], Policy::WsMessages, "conn-1", 10).await,
        5,
        Duration::from_millis(200),
    );
    assert_at_quota(
        "ws on B",
        burst(&[&node_b], Policy::WsMessages, "conn-1", 10).await,
        5,
        Duration::from_millis(200),
    );

    node_a.check(Policy::Player, "ann").await.unwrap();
    let mut con = arcade_test_support::redis::connection().await;
    let pttl: i64 = redis::cmd("PTTL").arg(format!("{namespace}:player:ann")).query_async(&mut con).await.unwrap();
    assert!((1..=1_000).contains(&pttl), "a key lives one interval (1 s) after one request, not {pttl} ms");
    let ws_keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{namespace}:ws_messages:*")).query_async(&mut con).await.unwrap();
    assert!(ws_keys.is_empty(), "WebSocket limits are not stored in Redis: {ws_keys:?}");
    delete_namespace(&namespace).await;
}

#[tokio::test]
async fn an_unreachable_redis_is_reported_not_ignored() {
    // Port 1 on loopback: nothing listens there.
    let refused = RateLimiter::redis("redis://127.0.0.1:1/", "arcade:rl", RateLimits::default()).await;
    assert!(matches!(refused, Err(RateLimitError::Unavailable(_))));
}

#[tokio::test]
async fn a_limit_too_high_to_matter_still_works_in_redis() {
    // 100 million per minute: the emission interval rounds to 0 µs.
    let namespace = fresh_namespace("rl-huge");
    let limits = RateLimits { player_per_minute: 100_000_000, ..RateLimits::default() };
    let limiter = RateLimiter::redis(&redis_url(), &namespace, limits).await.unwrap();
    for _ in 0..100 {
        limiter.check(Policy::Player, "ann").await.expect("allowed, and no Redis error");
    }
    delete_namespace(&namespace).await;
}
