//! External identity tokens (OIDC ID tokens from Cognito, Auth0, a studio's
//! own login): RS256 or ES256 JWTs checked against the provider's JWKS,
//! issuer and audience from the config. Keys are cached; a token naming an
//! unknown `kid` refetches the set, at most once per
//! `min_refetch_interval` (so a flood of made-up key ids cannot turn into a
//! flood of requests to the provider).
//!
//! The key set is fetched with [`JwksClient`]: `https://` with rustls
//! (aws-lc-rs, Mozilla's roots), or plain `http://` (tests), at most
//! [`MAX_JWKS_BYTES`], within `fetch_timeout`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::error::AuthError;
use crate::tokens::{decode_error, jwt_header};

/// Which provider to trust.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The `iss` its tokens carry (exact match).
    pub issuer: String,
    /// The `aud` its tokens must carry (the client id registered there).
    pub audience: String,
    pub jwks_url: String,
    /// A token with an unknown `kid` refetches the keys at most this often
    /// (default 60 s).
    pub min_refetch_interval: Duration,
    /// Clock skew tolerated on `exp`/`nbf` (default 60 s).
    pub leeway: Duration,
    /// Time limit of one JWKS fetch (default 5 s).
    pub fetch_timeout: Duration,
}

impl OidcConfig {
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>, jwks_url: impl Into<String>) -> OidcConfig {
        OidcConfig {
            issuer: issuer.into(),
            audience: audience.into(),
            jwks_url: jwks_url.into(),
            min_refetch_interval: Duration::from_secs(60),
            leeway: Duration::from_secs(60),
            fetch_timeout: Duration::from_secs(5),
        }
    }
}

/// Who the provider says the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIdentity {
    pub issuer: String,
    pub subject: String,
    /// `preferred_username` or `name`, if the token has one (a suggestion
    /// for the display name of a new account).
    pub name: Option<String>,
}

#[derive(Deserialize)]
struct ExternalClaims {
    sub: String,
    name: Option<String>,
    preferred_username: Option<String>,
}

/// One entry of a JWKS, the fields used here.
#[derive(Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    key_use: Option<String>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<serde_json::Value>,
}

type Keys = HashMap<String, (Algorithm, DecodingKey)>;

/// The decoding key a JWKS entry describes, if it is an RS256 or ES256
/// signing key with a key id.
fn decoding_key(value: serde_json::Value) -> Option<(String, Algorithm, DecodingKey)> {
    let jwk: Jwk = serde_json::from_value(value).ok()?;
    if jwk.key_use.as_deref().is_some_and(|u| u != "sig") {
        return None;
    }
    let (algorithm, key) = match (jwk.kty.as_str(), jwk.alg.as_deref()) {
        ("RSA", None | Some("RS256")) => {
            (Algorithm::RS256, DecodingKey::from_rsa_components(jwk.n.as_ref()?, jwk.e.as_ref()?).ok()?)
        }
        ("EC", None | Some("ES256")) if jwk.crv.as_deref() == Some("P-256") => {
            (Algorithm::ES256, DecodingKey::from_ec_components(jwk.x.as_ref()?, jwk.y.as_ref()?).ok()?)
        }
        _ => return None,
    };
    Some((jwk.kid?, algorithm, key))
}

/// Verifies external identity tokens against one provider.
pub struct OidcVerifier {
    config: OidcConfig,
    client: JwksClient,
    keys: RwLock<Arc<Keys>>,
    /// When the keys were last fetched (tried), serialising fetches.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    /// One per accepted algorithm (jsonwebtoken wants the key's family only).
    validations: [(Algorithm, Validation); 2],
}

impl fmt::Debug for OidcVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcVerifier").field("config", &self.config).finish_non_exhaustive()
    }
}

impl OidcVerifier {
    pub fn new(config: OidcConfig) -> Result<OidcVerifier, AuthError> {
        let client = JwksClient::new()?;
        if config.issuer.is_empty() || config.audience.is_empty() || config.jwks_url.is_empty() {
            return Err(AuthError::Config("oidc: issuer, audience and jwks_url are required".into()));
        }
        let validation = |algorithm| {
            let mut validation = Validation::new(algorithm);
            validation.set_issuer(&[&config.issuer]);
            validation.set_audience(&[&config.audience]);
            validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
            validation.leeway = config.leeway.as_secs();
            (algorithm, validation)
        };
        let validations = [validation(Algorithm::RS256), validation(Algorithm::ES256)];
        Ok(OidcVerifier {
            config,
            client,
            keys: RwLock::default(),
            last_fetch: tokio::sync::Mutex::new(None),
            validations,
        })
    }

    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    /// Checks an ID token: algorithm (RS256/ES256), key, signature, issuer,
    /// audience, expiry.
    pub async fn verify(&self, token: &str) -> Result<ExternalIdentity, AuthError> {
        let header = jwt_header(token)?;
        let algorithm = match header.alg.as_str() {
            "RS256" => Algorithm::RS256,
            "ES256" => Algorithm::ES256,
            _ => return Err(AuthError::TokenAlgorithmRefused),
        };
        let kid = header.kid.ok_or(AuthError::TokenUnknownKey)?;
        let keys = match self.cached(&kid) {
            Some(keys) => keys,
            None => {
                self.refetch_for(&kid).await?;
                self.cached(&kid).ok_or(AuthError::TokenUnknownKey)?
            }
        };
        let (key_algorithm, key) = &keys[&kid];
        if *key_algorithm != algorithm {
            return Err(AuthError::TokenAlgorithmRefused);
        }
        let (_, validation) =
            self.validations.iter().find(|(a, _)| *a == algorithm).ok_or(AuthError::TokenAlgorithmRefused)?;
        let claims =
            jsonwebtoken::decode::<ExternalClaims>(token, key, validation).map_err(|e| decode_error(&e))?.claims;
        if claims.sub.is_empty() {
            return Err(AuthError::TokenMalformed);
        }
        Ok(ExternalIdentity {
            issuer: self.config.issuer.clone(),
            subject: claims.sub,
            name: claims.preferred_username.or(claims.name),
        })
    }

    /// The key set, if it has `kid`.
    fn cached(&self, kid: &str) -> Option<Arc<Keys>> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner()).clone();
        keys.contains_key(kid).then_some(keys)
    }

    /// Fetches the keys because `kid` is not among them, unless a fetch
    /// happened within `min_refetch_interval` (or one that just finished
    /// brought it).
    async fn refetch_for(&self, kid: &str) -> Result<(), AuthError> {
        let mut last_fetch = self.last_fetch.lock().await;
        if self.cached(kid).is_some() {
            return Ok(());
        }
        if last_fetch.is_some_and(|at| at.elapsed() < self.config.min_refetch_interval) {
            return Ok(());
        }
        *last_fetch = Some(Instant::now());
        self.fetch().await.map(|_| ())
    }

    /// Fetches the key set now, replacing the cache; how many usable keys
    /// it has.
    pub async fn fetch(&self) -> Result<usize, AuthError> {
        let body = self.client.get(&self.config.jwks_url, self.config.fetch_timeout).await?;
        let set: JwkSet = serde_json::from_slice(&body)
            .map_err(|e| AuthError::OidcUnavailable(format!("the key set is not a JWKS: {e}")))?;
        let keys: Keys =
            set.keys.into_iter().filter_map(decoding_key).map(|(kid, alg, key)| (kid, (alg, key))).collect();
        let count = keys.len();
        tracing::info!(issuer = %self.config.issuer, keys = count, "fetched the identity provider's keys");
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
        Ok(count)
    }
}

/// Largest key set accepted (a provider publishes a handful of keys).
pub const MAX_JWKS_BYTES: usize = 256 * 1024;

type Connector = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

/// The HTTP client of JWKS fetches: https with rustls on aws-lc-rs and
/// Mozilla's root certificates, whatever crypto provider the process has
/// installed (or none); plain http too (tests, a provider on a private
/// network).
#[derive(Clone)]
pub struct JwksClient(hyper_util::client::legacy::Client<Connector, http_body_util::Empty<bytes::Bytes>>);

impl JwksClient {
    pub fn new() -> Result<JwksClient, AuthError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| AuthError::Config(format!("TLS for the identity provider: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector =
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().build();
        let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
        Ok(JwksClient(client))
    }

    /// The body of `GET url` (a 2xx answer of at most [`MAX_JWKS_BYTES`]),
    /// within `timeout`.
    pub async fn get(&self, url: &str, timeout: Duration) -> Result<bytes::Bytes, AuthError> {
        use http_body_util::BodyExt;
        let unavailable = |why: String| AuthError::OidcUnavailable(why);
        let uri: http::Uri = url.parse().map_err(|e| unavailable(format!("bad JWKS URL: {e}")))?;
        let fetch = async {
            let response = self.0.get(uri).await.map_err(|e| unavailable(e.to_string()))?;
            if !response.status().is_success() {
                return Err(unavailable(format!("the provider answered {}", response.status())));
            }
            let body = http_body_util::Limited::new(response.into_body(), MAX_JWKS_BYTES);
            Ok(body.collect().await.map_err(|e| unavailable(e.to_string()))?.to_bytes())
        };
        tokio::time::timeout(timeout, fetch).await.map_err(|_| unavailable(format!("no answer within {timeout:?}")))?
    }
}
