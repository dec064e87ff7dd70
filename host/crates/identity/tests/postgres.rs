//! Every store scenario (`common/scenarios.rs`) against PostgreSQL: the
//! real server `scripts/services.sh start` runs, a fresh database per test.
//! Built with `--features postgres` only.

mod common;

use arcade_test_support::services::TestServices;

async fn pg_store() -> common::TestStore {
    let url = TestServices::get().fresh_database().await;
    let store = arcade_identity::PgStore::connect(&url).await.unwrap();
    common::TestStore { store: std::sync::Arc::new(store), guard: Box::new(()) }
}

store_tests!(pg_store().await);

/// The identity migrations keep their own table, so they share a database
/// with the archive's (`_sqlx_migrations`) and run once.
#[tokio::test]
async fn migrations_are_recorded_apart_and_run_once() {
    let url = TestServices::get().fresh_database().await;
    arcade_identity::PgStore::connect(&url).await.unwrap();
    arcade_identity::PgStore::connect(&url).await.unwrap();
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await.unwrap();
    let applied: i64 =
        sqlx::query_scalar("SELECT count(*) FROM _identity_migrations").fetch_one(&mut conn).await.unwrap();
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres")).unwrap().count();
    assert_eq!(applied, migrations as i64, "each migration applied once");
    let sqlx_table: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text").fetch_one(&mut conn).await.unwrap();
    assert_eq!(sqlx_table, None);
}
