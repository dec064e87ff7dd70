//! A fake OpenID Connect provider for the identity tests: a JWKS served
//! over plain HTTP on 127.0.0.1 with EC P-256 keys generated per run, and ID
//! tokens (ES256) signed with them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The `iss` and `aud` of the provider's tokens.
pub const PROVIDER_ISSUER: &str = "https://login.example.test";
pub const PROVIDER_AUDIENCE: &str = "arcade-client";

/// A signing key of the fake provider.
pub struct ProviderKey {
    pub kid: String,
    pub pair: EcdsaKeyPair,
}

impl ProviderKey {
    pub fn generate(kid: &str) -> ProviderKey {
        ProviderKey { kid: kid.to_string(), pair: EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap() }
    }

    /// The public half as a JWK.
    pub fn jwk(&self) -> serde_json::Value {
        let point = self.pair.public_key().as_ref(); // 0x04 || x || y
        serde_json::json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        })
    }

    /// An ES256 token with these claims.
    pub fn sign(&self, claims: &serde_json::Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        let key = EncodingKey::from_ec_der(self.pair.to_pkcs8v1().unwrap().as_ref());
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    /// A valid ID token for `subject`, unless the overrides say otherwise.
    pub fn id_token(&self, subject: &str, overrides: serde_json::Value) -> String {
        let now = arcade_protocol::clock::now_ms() / 1000;
        let mut claims = serde_json::json!({
            "iss": PROVIDER_ISSUER, "aud": PROVIDER_AUDIENCE, "sub": subject,
            "iat": now, "exp": now + 300, "preferred_username": "Provider User",
        });
        for (k, v) in overrides.as_object().unwrap() {
            claims[k] = v.clone();
        }
        self.sign(&claims)
    }
}

/// A JWKS endpoint on 127.0.0.1 serving whatever keys it is given.
pub struct FakeProvider {
    pub url: String,
    keys: Arc<Mutex<Vec<serde_json::Value>>>,
    fetches: Arc<AtomicUsize>,
}

impl FakeProvider {
    pub async fn start(keys: &[&ProviderKey]) -> FakeProvider {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/.well-known/jwks.json", listener.local_addr().unwrap());
        let provider = FakeProvider { url, keys: Arc::default(), fetches: Arc::default() };
        provider.publish(keys);
        let (served, fetches) = (provider.keys.clone(), provider.fetches.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (served, fetches) = (served.clone(), fetches.clone());
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    fetches.fetch_add(1, Ordering::SeqCst);
                    let body = serde_json::json!({ "keys": *served.lock().unwrap() }).to_string();
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                });
            }
        });
        provider
    }

    /// Replaces the published key set (a rotation at the provider).
    pub fn publish(&self, keys: &[&ProviderKey]) {
        *self.keys.lock().unwrap() = keys.iter().map(|k| k.jwk()).collect();
    }

    /// How many times the key set was fetched.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}
