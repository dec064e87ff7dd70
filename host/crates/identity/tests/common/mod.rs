//! What the store tests share: the identity config they run with, the fake
//! OIDC provider of arcade-test-support, and the scenarios themselves, run
//! against each store by `store_tests!`.

#![allow(dead_code)]

pub mod scenarios;

use std::sync::Arc;
use std::time::Duration;

use arcade_identity::{Identity, IdentityConfig, IdentityStore, OidcConfig, PasswordParams, SigningKey, TokenConfig};
pub use arcade_test_support::oidc::{FakeProvider, PROVIDER_AUDIENCE, PROVIDER_ISSUER, ProviderKey};

/// A store and whatever must outlive it (a temporary directory).
pub struct TestStore {
    pub store: Arc<dyn IdentityStore>,
    pub guard: Box<dyn std::any::Any + Send>,
}

pub fn token_config() -> TokenConfig {
    TokenConfig::new(
        "arcade",
        "arcade-players",
        vec![SigningKey::new("k1", b"k1-secret-for-the-tests-0123456789abcdef".to_vec())],
    )
}

/// The config every scenario runs with: cheap argon2 parameters, and the
/// provider at `jwks_url` (keys refetched on any unknown kid).
pub fn config(jwks_url: Option<&str>) -> IdentityConfig {
    let mut config = IdentityConfig::new(token_config());
    config.passwords = PasswordParams::INSECURE_FAST_FOR_TESTS;
    config.oidc = jwks_url.map(|url| {
        let mut oidc = OidcConfig::new(PROVIDER_ISSUER, PROVIDER_AUDIENCE, url);
        oidc.min_refetch_interval = Duration::ZERO;
        oidc
    });
    config
}

pub fn identity(store: &Arc<dyn IdentityStore>, jwks_url: Option<&str>) -> Identity {
    Identity::new(store.clone(), config(jwks_url)).unwrap()
}

/// One `#[tokio::test]` per scenario, each on a fresh store from `$make`
/// (an async expression giving a [`TestStore`]).
#[macro_export]
macro_rules! store_tests {
    ($make:expr) => {
        $crate::store_tests!(@each $make;
            guest_sign_in_is_idempotent_per_device,
            concurrent_guest_sign_ins_make_one_account,
            register_and_login,
            wrong_password_and_unknown_user_look_the_same,
            refresh_rotates_and_reuse_revokes_the_family,
            concurrent_refreshes_of_one_token_let_one_through,
            logout_revokes_the_family,
            bans_block_verify_after_refresh_and_block_refresh,
            roles_are_granted_and_revoked,
            audit_query_filters_and_pages,
            link_a_password_to_a_guest_account,
            display_names_change_and_reach_tokens,
            account_deletion,
            oidc_sign_in_and_provider_key_rotation,
            the_first_publisher_owns_a_plugin_name,
            parties_are_joined_by_invite_and_queued_by_their_leader,
            board_resets_are_kept_once_and_read_back_in_order,
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let test_store: $crate::common::TestStore = $make;
                $crate::common::scenarios::$name(test_store.store.clone()).await;
                drop(test_store);
            }
        )*
    };
}
