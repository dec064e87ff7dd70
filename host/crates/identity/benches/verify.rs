//! The per-request cost of a session check: `Identity::verify` of a valid
//! access token (HS256 signature, claims, the in-memory ban snapshot), and
//! the token check alone (`AccessTokens::verify_at`), for a token checked
//! before (remembered) and for one seen for the first time (verified).
//! Target: ≤ 5 µs median.
//!
//! Run: `cargo bench -p arcade-identity --bench verify`.

use std::hint::black_box;
use std::sync::Arc;

use arcade_identity::{
    AccessTokens, Context, Identity, IdentityConfig, IdentityStore, PasswordParams, SigningKey, SqliteStore,
    TokenConfig,
};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

fn token_config() -> TokenConfig {
    // Two keys, as during a rotation: the first signs.
    TokenConfig::new(
        "arcade",
        "arcade-players",
        vec![
            SigningKey::new("2026-12", b"bench-secret-new-0123456789abcdefghijkl".to_vec()),
            SigningKey::new("2026-11", b"bench-secret-old-0123456789abcdefghijkl".to_vec()),
        ],
    )
}

fn verify(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (identity, token) = runtime.block_on(async {
        let store: Arc<dyn IdentityStore> = Arc::new(SqliteStore::open(dir.path().join("identity.db")).await.unwrap());
        let mut config = IdentityConfig::new(token_config());
        config.passwords = PasswordParams::INSECURE_FAST_FOR_TESTS;
        let identity = Identity::new(store, config).unwrap();
        // A few banned accounts, so the ban lookup is a real one.
        for i in 0..100 {
            let banned =
                identity.sign_in_device(&format!("bench-banned-device-{i:04}"), &Context::default()).await.unwrap();
            identity.ban(&banned.session.account, "bench", None, &Context::default()).await.unwrap();
        }
        identity.refresh_bans().await.unwrap();
        let signed_in = identity.sign_in_device("bench-device-0000000001", &Context::default()).await.unwrap();
        (identity, signed_in.access_token)
    });
    assert!(identity.verify(&token).is_ok());

    let mut group = c.benchmark_group("session");
    group.bench_function("Identity::verify", |b| b.iter(|| identity.verify(black_box(&token)).unwrap()));
    let tokens = AccessTokens::new(&token_config()).unwrap();
    let now_s = arcade_protocol::clock::now_ms() / 1000;
    group.bench_function("AccessTokens::verify_at", |b| b.iter(|| tokens.verify_at(black_box(&token), now_s).unwrap()));
    // A token it has not seen: a fresh one per call (a new session id each,
    // so no two are alike; issued outside the timing).
    let account = arcade_identity::AccountId::generate();
    let issued = std::cell::Cell::new(0u64);
    let issue = || {
        issued.set(issued.get() + 1);
        let sid = format!("ses_bench_{}", issued.get());
        tokens.issue(&account, "bench", arcade_identity::Roles::DEFAULT, &sid, now_s).unwrap().0
    };
    group.bench_function("AccessTokens::verify_at, first sight", |b| {
        b.iter_batched(issue, |fresh| tokens.verify_at(black_box(&fresh), now_s).unwrap(), BatchSize::SmallInput)
    });
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
