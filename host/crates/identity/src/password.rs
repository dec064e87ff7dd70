//! Password hashing: argon2id PHC strings with parameters from the config,
//! and a dummy hash an unknown username is checked against, so a wrong
//! password and an unknown user cost the same. Hashing runs on tokio's
//! blocking pool (it is deliberately slow).

use std::fmt;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

use crate::error::AuthError;

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    /// Memory in KiB (default 19 MiB, OWASP's recommendation).
    pub memory_kib: u32,
    /// Passes (default 2).
    pub iterations: u32,
    /// Lanes (default 1).
    pub parallelism: u32,
}

impl Default for PasswordParams {
    fn default() -> Self {
        PasswordParams {
            memory_kib: Params::DEFAULT_M_COST,
            iterations: Params::DEFAULT_T_COST,
            parallelism: Params::DEFAULT_P_COST,
        }
    }
}

impl PasswordParams {
    /// The cheapest valid parameters, for tests only.
    pub const INSECURE_FAST_FOR_TESTS: PasswordParams =
        PasswordParams { memory_kib: 64, iterations: 1, parallelism: 1 };
}

/// A stored password hash (an argon2id PHC string). Debug does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn from_phc(phc: String) -> PasswordHash {
        PasswordHash(phc)
    }

    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// Hashes and verifies with one set of parameters.
#[derive(Clone)]
pub struct Passwords {
    argon2: Argon2<'static>,
    /// The hash of a random password with the same parameters as real
    /// hashes, made at construction (so even the first unknown username
    /// costs what a known one does).
    dummy: PasswordHash,
}

impl fmt::Debug for Passwords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Passwords").field("params", self.argon2.params()).finish_non_exhaustive()
    }
}

impl Passwords {
    /// Checks the parameters and makes the dummy hash (one hash's time).
    pub fn new(params: PasswordParams) -> Result<Passwords, AuthError> {
        let params = Params::new(params.memory_kib, params.iterations, params.parallelism, None)
            .map_err(|e| AuthError::Config(format!("argon2 parameters: {e}")))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let random = hex::encode(crate::account::random_bytes::<16>());
        let dummy = hash_with(&argon2, &random)?;
        Ok(Passwords { argon2, dummy })
    }

    /// A fresh salted hash of `password`.
    pub async fn hash(&self, password: &str) -> Result<PasswordHash, AuthError> {
        let (this, password) = (self.clone(), password.to_string());
        blocking(move || hash_with(&this.argon2, &password)).await?
    }

    /// Whether `password` matches `hash`; with `None` (no such user) it
    /// checks against the dummy hash and answers false, at the same cost.
    pub async fn verify(&self, password: &str, hash: Option<&PasswordHash>) -> Result<bool, AuthError> {
        let (this, password, hash) = (self.clone(), password.to_string(), hash.cloned());
        blocking(move || {
            let (hash, real) = match hash {
                Some(hash) => (hash, true),
                None => (this.dummy.clone(), false),
            };
            let matches = this.argon2.verify_password(password.as_bytes(), hash.as_phc()).is_ok();
            Ok(matches && real)
        })
        .await?
    }
}

fn hash_with(argon2: &Argon2<'_>, password: &str) -> Result<PasswordHash, AuthError> {
    let hash = argon2.hash_password(password.as_bytes()).map_err(|e| AuthError::Internal(format!("argon2: {e}")))?;
    Ok(PasswordHash(hash.to_string()))
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, AuthError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| AuthError::Internal(format!("password hashing task: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let passwords = Passwords::new(PasswordParams::INSECURE_FAST_FOR_TESTS).unwrap();
        let a = passwords.hash("correct horse").await.unwrap();
        let b = passwords.hash("correct horse").await.unwrap();
        assert!(a.as_phc().starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{}", a.as_phc());
        assert_ne!(a, b, "salted");
        assert!(passwords.verify("correct horse", Some(&a)).await.unwrap());
        assert!(!passwords.verify("wrong horse", Some(&a)).await.unwrap());
        assert!(!passwords.verify("correct horse", None).await.unwrap());
        assert_eq!(format!("{a:?}"), "PasswordHash(<redacted>)");
    }

    #[test]
    fn invalid_parameters_are_a_config_error() {
        let bad = PasswordParams { memory_kib: 1, iterations: 1, parallelism: 1 };
        assert!(matches!(Passwords::new(bad), Err(AuthError::Config(_))));
    }
}
