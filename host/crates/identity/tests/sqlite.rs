//! Every store scenario (`common/scenarios.rs`) against the embedded
//! SQLite store, a fresh file in a temporary directory per test.

mod common;

async fn sqlite_store() -> common::TestStore {
    let dir = tempfile::tempdir().unwrap();
    let store = arcade_identity::SqliteStore::open(dir.path().join("identity.db")).await.unwrap();
    common::TestStore { store: std::sync::Arc::new(store), guard: Box::new(dir) }
}

store_tests!(sqlite_store().await);

/// The file reopens with its data (migrations run once) and is in WAL mode.
#[tokio::test]
async fn the_store_file_reopens_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("identity.db");
    let account = {
        let store: std::sync::Arc<dyn arcade_identity::IdentityStore> =
            std::sync::Arc::new(arcade_identity::SqliteStore::open(&path).await.unwrap());
        let id = common::identity(&store, None);
        id.register("frank", "franks password", &arcade_identity::Context::default()).await.unwrap().session.account
    };
    let store: std::sync::Arc<dyn arcade_identity::IdentityStore> =
        std::sync::Arc::new(arcade_identity::SqliteStore::open(&path).await.unwrap());
    let id = common::identity(&store, None);
    let again = id.sign_in_password("frank", "franks password", &arcade_identity::Context::default()).await.unwrap();
    assert_eq!(again.session.account, account);
    assert!(dir.path().join("identity.db-wal").exists(), "WAL mode");
}
