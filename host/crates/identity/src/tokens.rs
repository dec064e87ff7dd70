//! Access tokens: HS256 JWTs with a key id in the header. The config holds
//! a list of keys; the first signs, all verify, so a rotation adds the new
//! key first and drops the old one once its tokens have expired. Claims:
//! `sub`, `name`, `roles`, `sid` (the refresh family), `iat`, `exp`,
//! `iss`, `aud`. [`AccessTokens::verify_at`] is pure CPU: no store access.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::account::{AccountId, Roles};
use crate::error::AuthError;

/// Shortest accepted HMAC secret (the size of the SHA-256 output).
pub const MIN_SECRET_BYTES: usize = 32;

/// One HMAC key. Debug shows the key id only.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub secret: Vec<u8>,
}

impl SigningKey {
    pub fn new(kid: impl Into<String>, secret: impl Into<Vec<u8>>) -> SigningKey {
        SigningKey { kid: kid.into(), secret: secret.into() }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).field("secret", &"<redacted>").finish()
    }
}

/// How access tokens are issued and checked.
#[derive(Debug, Clone)]
pub struct TokenConfig {
    /// `iss` written and required.
    pub issuer: String,
    /// `aud` written and required.
    pub audience: String,
    /// The first signs; all verify.
    pub keys: Vec<SigningKey>,
    /// Lifetime of an access token (default 15 minutes).
    pub access_ttl: Duration,
    /// Clock skew tolerated on `exp` (default 0).
    pub leeway: Duration,
}

impl TokenConfig {
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>, keys: Vec<SigningKey>) -> TokenConfig {
        TokenConfig {
            issuer: issuer.into(),
            audience: audience.into(),
            keys,
            access_ttl: Duration::from_secs(15 * 60),
            leeway: Duration::ZERO,
        }
    }
}

/// What a valid access token says: who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub account: AccountId,
    pub name: String,
    pub roles: Roles,
    /// The refresh-token family this session belongs to (logout revokes it).
    pub sid: String,
    /// Unix seconds.
    pub issued_at: u64,
    /// Unix seconds.
    pub expires_at: u64,
}

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: AccountId,
    name: String,
    roles: Roles,
    sid: String,
    iat: u64,
    exp: u64,
    iss: String,
    aud: String,
}

/// The parts of a JWT header this crate looks at, read before any key is
/// chosen (so `alg: none` and unknown algorithms are refused by name).
#[derive(Deserialize)]
pub(crate) struct JwtHeader {
    pub alg: String,
    pub kid: Option<String>,
}

/// Reads the header of a compact JWT (three base64url parts).
pub(crate) fn jwt_header(token: &str) -> Result<JwtHeader, AuthError> {
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(AuthError::TokenMalformed);
    };
    let bytes = URL_SAFE_NO_PAD.decode(header).map_err(|_| AuthError::TokenMalformed)?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::TokenMalformed)
}

/// Maps a jsonwebtoken failure onto the refusal it means.
pub(crate) fn decode_error(error: &jsonwebtoken::errors::Error) -> AuthError {
    match error.kind() {
        ErrorKind::InvalidSignature => AuthError::TokenBadSignature,
        ErrorKind::InvalidAlgorithm | ErrorKind::UnsupportedAlgorithm => AuthError::TokenAlgorithmRefused,
        ErrorKind::ExpiredSignature => AuthError::TokenExpired,
        ErrorKind::InvalidIssuer => AuthError::TokenWrongIssuer,
        ErrorKind::InvalidAudience => AuthError::TokenWrongAudience,
        _ => AuthError::TokenMalformed,
    }
}

/// Most tokens [`AccessTokens`] remembers as verified.
const VERIFIED_CAPACITY: usize = 4096;

/// Issues and verifies access tokens.
pub struct AccessTokens {
    issuer: String,
    audience: String,
    signing_kid: String,
    signing: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
    validation: Validation,
    ttl_s: u64,
    leeway_s: u64,
    /// Tokens that verified lately, each with the session it stands for: a
    /// player's token comes with every request and socket, and checking it
    /// again is then a lookup instead of an HMAC and two base64 and JSON
    /// decodes. Keyed by the whole token text, signature included, so an
    /// entry is exactly what verifying that text again gives, except for
    /// the expiry, which is checked on every use. A token that fails never
    /// enters it. Emptied when it holds [`VERIFIED_CAPACITY`] tokens.
    verified: Mutex<HashMap<String, Session>>,
}

impl fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokens")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("signing_kid", &self.signing_kid)
            .field("kids", &self.verifying.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl AccessTokens {
    pub fn new(config: &TokenConfig) -> Result<AccessTokens, AuthError> {
        let first = config.keys.first().ok_or_else(|| AuthError::Config("tokens: at least one signing key".into()))?;
        if config.issuer.is_empty() || config.audience.is_empty() {
            return Err(AuthError::Config("tokens: issuer and audience must not be empty".into()));
        }
        if config.access_ttl.as_secs() == 0 {
            return Err(AuthError::Config("tokens: access_ttl must be at least one second".into()));
        }
        let mut verifying = HashMap::new();
        for key in &config.keys {
            if key.kid.is_empty() || key.secret.len() < MIN_SECRET_BYTES {
                return Err(AuthError::Config(format!(
                    "tokens: key {:?} needs a non-empty kid and a secret of at least {MIN_SECRET_BYTES} bytes",
                    key.kid
                )));
            }
            let decoding =
                DecodingKey::from_secret(&key.secret).map_err(|e| AuthError::Config(format!("tokens: {e}")))?;
            if verifying.insert(key.kid.clone(), decoding).is_some() {
                return Err(AuthError::Config(format!("tokens: key id {:?} appears twice", key.kid)));
            }
        }
        // Signature and algorithm are checked by jsonwebtoken; the claims
        // below by `verify_at`, against a clock the caller passes.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        Ok(AccessTokens {
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            signing_kid: first.kid.clone(),
            signing: EncodingKey::from_secret(&first.secret).map_err(|e| AuthError::Config(format!("tokens: {e}")))?,
            verifying,
            validation,
            ttl_s: config.access_ttl.as_secs(),
            leeway_s: config.leeway.as_secs(),
            verified: Mutex::new(HashMap::new()),
        })
    }

    /// Signs an access token issued at `now_s` (Unix seconds); returns the
    /// token and the session it stands for.
    pub fn issue(
        &self,
        account: &AccountId,
        name: &str,
        roles: Roles,
        sid: &str,
        now_s: u64,
    ) -> Result<(String, Session), AuthError> {
        let exp = now_s + self.ttl_s;
        let claims = Claims {
            sub: account.clone(),
            name: name.to_string(),
            roles,
            sid: sid.to_string(),
            iat: now_s,
            exp,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.signing_kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.signing)
            .map_err(|e| AuthError::Internal(format!("signing: {e}")))?;
        let session = Session {
            account: claims.sub,
            name: claims.name,
            roles,
            sid: claims.sid,
            issued_at: now_s,
            expires_at: exp,
        };
        Ok((token, session))
    }

    /// Checks `token` at `now_s` (Unix seconds), in this order: shape,
    /// algorithm (HS256 only), key id, signature, claims, issuer, audience,
    /// expiry.
    pub fn verify_at(&self, token: &str, now_s: u64) -> Result<Session, AuthError> {
        let remembered = self.verified.lock().unwrap_or_else(|e| e.into_inner()).get(token).cloned();
        let session = match remembered {
            Some(session) => session,
            None => {
                let session = self.verify_signed(token)?;
                let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
                if verified.len() >= VERIFIED_CAPACITY {
                    verified.clear();
                }
                verified.insert(token.to_string(), session.clone());
                session
            }
        };
        if session.expires_at.saturating_add(self.leeway_s) <= now_s {
            return Err(AuthError::TokenExpired);
        }
        Ok(session)
    }

    /// Everything [`AccessTokens::verify_at`] checks but the expiry.
    fn verify_signed(&self, token: &str) -> Result<Session, AuthError> {
        let header = jwt_header(token)?;
        if header.alg != "HS256" {
            return Err(AuthError::TokenAlgorithmRefused);
        }
        let kid = header.kid.ok_or(AuthError::TokenUnknownKey)?;
        let key = self.verifying.get(&kid).ok_or(AuthError::TokenUnknownKey)?;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &self.validation).map_err(|e| decode_error(&e))?.claims;
        if claims.iss != self.issuer {
            return Err(AuthError::TokenWrongIssuer);
        }
        if claims.aud != self.audience {
            return Err(AuthError::TokenWrongAudience);
        }
        Ok(Session {
            account: claims.sub,
            name: claims.name,
            roles: claims.roles,
            sid: claims.sid,
            issued_at: claims.iat,
            expires_at: claims.exp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Role;

    const NOW: u64 = 1_800_000_000;

    fn key(kid: &str) -> SigningKey {
        SigningKey::new(kid, format!("{kid}-secret-for-tests-0123456789abcdef").into_bytes())
    }

    fn tokens(keys: &[&str]) -> AccessTokens {
        AccessTokens::new(&TokenConfig::new("arcade", "arcade-players", keys.iter().map(|k| key(k)).collect())).unwrap()
    }

    fn issue(tokens: &AccessTokens, now_s: u64) -> (AccountId, String) {
        let account = AccountId::generate();
        let (token, _) = tokens.issue(&account, "Alice", Roles::DEFAULT.with(Role::Publisher), "ses_x", now_s).unwrap();
        (account, token)
    }

    fn b64(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    /// A token with any header and claims, signed HS256 with `secret`.
    fn forge(header: &str, claims: &str, secret: &[u8]) -> String {
        use aws_lc_rs::hmac;
        let message = format!("{}.{}", b64(header), b64(claims));
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), message.as_bytes());
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    fn claims_json(iss: &str, aud: &str, exp: u64) -> String {
        format!(
            r#"{{"sub":"acc_aaaaaaaaaaaaaaaaaaaaaaaaaa","name":"x","roles":["player"],"sid":"s","iat":{NOW},"exp":{exp},"iss":"{iss}","aud":"{aud}"}}"#
        )
    }

    #[test]
    fn a_valid_token_verifies_to_its_session() {
        let tokens = tokens(&["k1"]);
        let (account, token) = issue(&tokens, NOW);
        let session = tokens.verify_at(&token, NOW + 10).unwrap();
        assert_eq!(session.account, account);
        assert_eq!(session.name, "Alice");
        assert!(session.roles.contains(Role::Publisher));
        assert_eq!(session.sid, "ses_x");
        assert_eq!(session.expires_at, NOW + 900);
        assert_eq!(jwt_header(&token).unwrap().kid.as_deref(), Some("k1"));
    }

    #[test]
    fn expired_tokens_are_refused() {
        let tokens = tokens(&["k1"]);
        let (_, token) = issue(&tokens, NOW);
        assert!(tokens.verify_at(&token, NOW + 899).is_ok());
        assert_eq!(tokens.verify_at(&token, NOW + 900), Err(AuthError::TokenExpired));
    }

    #[test]
    fn a_remembered_token_answers_as_verifying_it_again() {
        let tokens = tokens(&["k1"]);
        let (_, token) = issue(&tokens, NOW);
        let first = tokens.verify_at(&token, NOW).unwrap();
        assert_eq!(tokens.verify_at(&token, NOW + 1).unwrap(), first);
        // The same signature over other claims is another text: checked, refused.
        let parts: Vec<&str> = token.split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], b64(&claims_json("arcade", "arcade-players", NOW + 60)), parts[2]);
        assert_eq!(tokens.verify_at(&tampered, NOW), Err(AuthError::TokenBadSignature));
        assert_eq!(tokens.verify_at(&token, NOW + 900), Err(AuthError::TokenExpired), "remembered, still expires");
        // More sessions than it remembers: it empties and every token still verifies.
        for _ in 0..VERIFIED_CAPACITY + 10 {
            let (account, other) = issue(&tokens, NOW);
            assert_eq!(tokens.verify_at(&other, NOW).unwrap().account, account);
        }
        assert!(tokens.verified.lock().unwrap().len() <= VERIFIED_CAPACITY);
        assert_eq!(tokens.verify_at(&token, NOW + 1).unwrap(), first);
    }

    #[test]
    fn alg_none_and_other_algorithms_are_refused() {
        let tokens = tokens(&["k1"]);
        let claims = claims_json("arcade", "arcade-players", NOW + 60);
        let none = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), b64(&claims));
        assert_eq!(tokens.verify_at(&none, NOW), Err(AuthError::TokenAlgorithmRefused));
        let none_with_kid = format!("{}.{}.", b64(r#"{"alg":"none","kid":"k1"}"#), b64(&claims));
        assert_eq!(tokens.verify_at(&none_with_kid, NOW), Err(AuthError::TokenAlgorithmRefused));
        for alg in ["HS512", "RS256", "ES256", "hs256"] {
            let token = forge(&format!(r#"{{"alg":"{alg}","kid":"k1"}}"#), &claims, &key("k1").secret);
            assert_eq!(tokens.verify_at(&token, NOW), Err(AuthError::TokenAlgorithmRefused), "{alg}");
        }
    }

    #[test]
    fn unknown_key_ids_and_bad_signatures_are_refused() {
        let tokens = tokens(&["k1"]);
        let claims = claims_json("arcade", "arcade-players", NOW + 60);
        let unknown = forge(r#"{"alg":"HS256","kid":"k9"}"#, &claims, &key("k9").secret);
        assert_eq!(tokens.verify_at(&unknown, NOW), Err(AuthError::TokenUnknownKey));
        let no_kid = forge(r#"{"alg":"HS256"}"#, &claims, &key("k1").secret);
        assert_eq!(tokens.verify_at(&no_kid, NOW), Err(AuthError::TokenUnknownKey));
        let wrong_secret = forge(r#"{"alg":"HS256","kid":"k1"}"#, &claims, b"another-secret-another-secret-0123456789");
        assert_eq!(tokens.verify_at(&wrong_secret, NOW), Err(AuthError::TokenBadSignature));
        // A valid token whose claims were edited after signing.
        let (_, token) = issue(&tokens, NOW);
        let parts: Vec<&str> = token.split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);
        assert_eq!(tokens.verify_at(&tampered, NOW), Err(AuthError::TokenBadSignature));
        // A forged token with the right secret passes: the check is real.
        let good = forge(r#"{"alg":"HS256","kid":"k1"}"#, &claims, &key("k1").secret);
        assert!(tokens.verify_at(&good, NOW).is_ok());
    }

    #[test]
    fn wrong_issuer_and_audience_are_refused() {
        let tokens = tokens(&["k1"]);
        let secret = key("k1").secret;
        let header = r#"{"alg":"HS256","kid":"k1"}"#;
        let issuer = forge(header, &claims_json("someone-else", "arcade-players", NOW + 60), &secret);
        assert_eq!(tokens.verify_at(&issuer, NOW), Err(AuthError::TokenWrongIssuer));
        let audience = forge(header, &claims_json("arcade", "another-app", NOW + 60), &secret);
        assert_eq!(tokens.verify_at(&audience, NOW), Err(AuthError::TokenWrongAudience));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let tokens = tokens(&["k1"]);
        let secret = key("k1").secret;
        let header = r#"{"alg":"HS256","kid":"k1"}"#;
        for bad in ["", "abc", "a.b", "a.b.c.d", "!!!.e30.x", &format!("{}.e30.x", b64("not json"))] {
            assert_eq!(tokens.verify_at(bad, NOW), Err(AuthError::TokenMalformed), "{bad:?}");
        }
        for claims in [r#"{"sub":"acc_aaaaaaaaaaaaaaaaaaaaaaaaaa"}"#, "[]", r#"{"sub":"x","name":1}"#] {
            let token = forge(header, claims, &secret);
            assert_eq!(tokens.verify_at(&token, NOW), Err(AuthError::TokenMalformed), "{claims}");
        }
        let bad_role = claims_json("arcade", "arcade-players", NOW + 60).replace("player", "god");
        assert_eq!(tokens.verify_at(&forge(header, &bad_role, &secret), NOW), Err(AuthError::TokenMalformed));
    }

    #[test]
    fn rotation_keeps_retired_keys_verifying_until_removed() {
        let before = tokens(&["k1"]);
        let (_, old_token) = issue(&before, NOW);
        // Rotation: k2 signs, k1 still verifies.
        let during = tokens(&["k2", "k1"]);
        let (_, new_token) = issue(&during, NOW);
        assert_eq!(jwt_header(&new_token).unwrap().kid.as_deref(), Some("k2"));
        assert!(during.verify_at(&old_token, NOW).is_ok(), "a token signed by the retired key still verifies");
        assert!(during.verify_at(&new_token, NOW).is_ok());
        // After: k1 removed.
        let after = tokens(&["k2"]);
        assert_eq!(after.verify_at(&old_token, NOW), Err(AuthError::TokenUnknownKey));
        assert!(after.verify_at(&new_token, NOW).is_ok());
    }

    #[test]
    fn bad_configs_are_refused_and_secrets_not_shown() {
        let config = |keys| TokenConfig::new("i", "a", keys);
        assert!(matches!(AccessTokens::new(&config(vec![])), Err(AuthError::Config(_))));
        assert!(matches!(
            AccessTokens::new(&config(vec![SigningKey::new("k", b"short".to_vec())])),
            Err(AuthError::Config(_))
        ));
        assert!(matches!(AccessTokens::new(&config(vec![key("k"), key("k")])), Err(AuthError::Config(_))));
        let shown = format!("{:?} {:?}", key("k1"), tokens(&["k1"]));
        assert!(!shown.contains("secret-for-tests"), "{shown}");
    }
}
