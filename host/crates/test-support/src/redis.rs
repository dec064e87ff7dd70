//! The real Redis of the matchmaking and rate-limit tests and benchmarks:
//! its URL, fresh key namespaces, a plain connection to inspect keys. Start
//! Redis with `scripts/services.sh start`; without ARCADE_TEST_REDIS_URL (in
//! the environment or the script's env file) the tests fail and say so.

use std::time::Duration;

use crate::services::HOW_TO_START;

/// The Redis URL (`ARCADE_TEST_REDIS_URL`); panics with how to start one.
pub fn redis_url() -> String {
    crate::services::service_var("ARCADE_TEST_REDIS_URL")
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
