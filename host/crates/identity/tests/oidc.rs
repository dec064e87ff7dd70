//! The OIDC verifier alone (no store): how often it goes to the provider
//! and what an unreachable provider means.

mod common;

use std::time::Duration;

use arcade_identity::{AuthError, OidcConfig, OidcVerifier};
use common::{FakeProvider, PROVIDER_AUDIENCE, PROVIDER_ISSUER, ProviderKey};

fn verifier(url: &str, min_refetch_interval: Duration) -> OidcVerifier {
    let mut config = OidcConfig::new(PROVIDER_ISSUER, PROVIDER_AUDIENCE, url);
    config.min_refetch_interval = min_refetch_interval;
    config.fetch_timeout = Duration::from_secs(2);
    OidcVerifier::new(config).unwrap()
}

#[tokio::test]
async fn unknown_key_ids_refetch_at_most_once_per_interval() {
    let key1 = ProviderKey::generate("k1");
    let provider = FakeProvider::start(&[&key1]).await;
    let verifier = verifier(&provider.url, Duration::from_secs(3600));

    let identity = verifier.verify(&key1.id_token("sub-1", serde_json::json!({}))).await.unwrap();
    assert_eq!((identity.issuer.as_str(), identity.subject.as_str()), (PROVIDER_ISSUER, "sub-1"));
    assert_eq!(identity.name.as_deref(), Some("Provider User"));
    assert_eq!(provider.fetches(), 1, "the first token fetches the keys");

    // A flood of made-up key ids: no further fetch within the interval.
    for i in 0..20 {
        let token = ProviderKey::generate(&format!("made-up-{i}")).id_token("sub-1", serde_json::json!({}));
        assert_eq!(verifier.verify(&token).await.unwrap_err(), AuthError::TokenUnknownKey);
    }
    assert_eq!(provider.fetches(), 1);
    // Known keys keep working from the cache.
    verifier.verify(&key1.id_token("sub-2", serde_json::json!({}))).await.unwrap();
    assert_eq!(provider.fetches(), 1);
    // An explicit fetch picks up a rotation whatever the interval.
    let key2 = ProviderKey::generate("k2");
    provider.publish(&[&key1, &key2]);
    assert_eq!(verifier.fetch().await.unwrap(), 2);
    verifier.verify(&key2.id_token("sub-3", serde_json::json!({}))).await.unwrap();
}

#[tokio::test]
async fn malformed_and_keyless_tokens_are_refused_without_a_fetch() {
    let key1 = ProviderKey::generate("k1");
    let provider = FakeProvider::start(&[&key1]).await;
    let verifier = verifier(&provider.url, Duration::ZERO);
    assert_eq!(verifier.verify("not-a-jwt").await.unwrap_err(), AuthError::TokenMalformed);
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("k1".into());
    let hs = jsonwebtoken::encode(
        &header,
        &serde_json::json!({"sub": "x"}),
        &jsonwebtoken::EncodingKey::from_secret(b"s").unwrap(),
    );
    assert_eq!(verifier.verify(&hs.unwrap()).await.unwrap_err(), AuthError::TokenAlgorithmRefused);
    assert_eq!(provider.fetches(), 0);
    let no_sub = key1.sign(&serde_json::json!({"iss": PROVIDER_ISSUER, "aud": PROVIDER_AUDIENCE, "exp": u64::MAX / 2}));
    assert_eq!(verifier.verify(&no_sub).await.unwrap_err(), AuthError::TokenMalformed);
}

#[tokio::test]
async fn an_unreachable_provider_is_unavailable_not_a_bad_token() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let verifier = verifier(&format!("http://127.0.0.1:{port}/jwks.json"), Duration::ZERO);
    let token = ProviderKey::generate("k1").id_token("sub-1", serde_json::json!({}));
    let error = verifier.verify(&token).await.unwrap_err();
    assert!(matches!(error, AuthError::OidcUnavailable(_)), "{error:?}");
    assert_eq!((error.code(), error.http_status()), ("oidc_unavailable", 503));
}
