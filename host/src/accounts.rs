//! Player identity on this node: the identity service (`arcade-identity`)
//! opened from the `auth` config section, its signing keys, and the task
//! that keeps the ban snapshot fresh (a ban made on another node applies
//! here within `auth.ban_refresh_ms`). The nodes of a cluster share their
//! accounts (PostgreSQL) and keys; a cluster node without either is refused.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::config::{AuthSettings, Config};
use arcade_identity::{
    Identity, IdentityConfig, IdentityStore, OidcConfig, PasswordParams, SigningKey, SqliteStore, TokenConfig,
};

/// The file holding a single node's generated signing key.
const SIGNING_KEY_FILE: &str = "auth-signing-key";

/// The identity service of `config`: its store (PostgreSQL at
/// `auth.database_url`, else SQLite in the data dir), keys and provider.
pub async fn open(config: &Config) -> anyhow::Result<Arc<Identity>> {
    let auth = &config.auth;
    let clustered = !config.cluster.redis_url.is_empty();
    if clustered && auth.database_url.is_empty() {
        // Each node would keep its own accounts: a session refreshed on
        // another node, or a ban made there, would not be seen here.
        bail!(
            "auth.database_url is empty: the nodes of a cluster must share their accounts \
             (ARCADE_AUTH__DATABASE_URL=postgres://...)"
        );
    }
    // Everything the config can refuse is checked before the store is opened.
    let keys = signing_keys(auth, &config.data_dir, clustered)?;
    let oidc = oidc(auth)?;
    let mut tokens = TokenConfig::new(&auth.issuer, &auth.audience, keys);
    tokens.access_ttl = Duration::from_secs(auth.access_ttl_secs);
    let mut identity = IdentityConfig::new(tokens);
    identity.refresh_ttl = Duration::from_secs(auth.refresh_ttl_secs);
    identity.passwords = PasswordParams {
        memory_kib: auth.password_memory_kib,
        iterations: auth.password_iterations,
        parallelism: auth.password_parallelism,
    };
    identity.oidc = oidc;
    let store: Arc<dyn IdentityStore> = if auth.database_url.is_empty() {
        let path = config.data_dir.join("identity.sqlite");
        Arc::new(SqliteStore::open(&path).await.with_context(|| format!("opening {}", path.display()))?)
    } else {
        open_postgres(&auth.database_url).await?
    };
    let identity = Arc::new(Identity::new(store, identity).context("auth configuration")?);
    identity.refresh_bans().await.context("loading the ban list")?;
    Ok(identity)
}

#[cfg(feature = "postgres")]
async fn open_postgres(url: &str) -> anyhow::Result<Arc<dyn IdentityStore>> {
    let store = arcade_identity::PgStore::connect(url).await.context("opening the identity database")?;
    Ok(Arc::new(store))
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(_url: &str) -> anyhow::Result<Arc<dyn IdentityStore>> {
    bail!("auth.database_url needs a server built with the `postgres` feature")
}

fn oidc(auth: &AuthSettings) -> anyhow::Result<Option<OidcConfig>> {
    let parts = [&auth.oidc_issuer, &auth.oidc_audience, &auth.oidc_jwks_url];
    match parts.iter().filter(|p| !p.is_empty()).count() {
        0 => Ok(None),
        3 => Ok(Some(OidcConfig::new(&auth.oidc_issuer, &auth.oidc_audience, &auth.oidc_jwks_url))),
        _ => bail!("auth.oidc_issuer, auth.oidc_audience and auth.oidc_jwks_url go together: set all three or none"),
    }
}

/// The configured keys; with none, a key generated once and kept in the
/// data dir (a lone node only: the nodes of a cluster must share keys).
fn signing_keys(auth: &AuthSettings, data_dir: &Path, clustered: bool) -> anyhow::Result<Vec<SigningKey>> {
    if !auth.signing_keys.is_empty() {
        return Ok(auth.signing_keys.iter().map(|k| SigningKey::new(&k.kid, k.secret.as_bytes())).collect());
    }
    if clustered {
        bail!(
            "auth.signing_keys is empty: the nodes of a cluster must share their access-token keys \
             (ARCADE_AUTH__SIGNING_KEYS='[{{kid=\"k1\", secret=\"<32+ random bytes>\"}}]')"
        );
    }
    let path = data_dir.join(SIGNING_KEY_FILE);
    let secret = match std::fs::read_to_string(&path) {
        Ok(text) => text.trim().to_string(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // 256 bits from the OS, as a refresh token's are.
            let secret = arcade_identity::RefreshToken::generate().expose().to_string();
            write_private(&path, &secret).with_context(|| format!("writing {}", path.display()))?;
            secret
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    Ok(vec![SigningKey::new("local", secret.into_bytes())])
}

/// Writes a new file only its owner can read.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// Reloads the ban list every `auth.ban_refresh_ms` until the process ends;
/// a failed reload keeps the last snapshot and is logged.
pub fn spawn_ban_refresh(identity: Arc<Identity>, every: Duration) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every.max(Duration::from_millis(100)));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(e) = identity.refresh_bans().await {
                tracing::warn!(error = %e, "reloading the ban list failed; keeping the last one");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_node_keeps_its_generated_key_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let auth = AuthSettings::default();
        let first = signing_keys(&auth, dir.path(), false).unwrap();
        let again = signing_keys(&auth, dir.path(), false).unwrap();
        assert_eq!(first[0].secret, again[0].secret);
        assert!(first[0].secret.len() >= 32);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(SIGNING_KEY_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the key file is readable by others: {mode:o}");
    }

    #[test]
    fn a_cluster_node_without_shared_keys_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let error = signing_keys(&AuthSettings::default(), dir.path(), true).unwrap_err();
        assert!(error.to_string().contains("auth.signing_keys"), "{error}");
    }

    #[tokio::test]
    async fn a_cluster_node_without_a_shared_account_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config { data_dir: dir.path().to_path_buf(), ..Config::default() };
        config.cluster.redis_url = "redis://127.0.0.1:1/".into();
        let error = open(&config).await.unwrap_err();
        assert!(error.to_string().contains("auth.database_url"), "{error}");
        assert!(!dir.path().join("identity.sqlite").exists(), "refused before opening anything");
    }

    #[test]
    fn oidc_settings_go_together() {
        let mut auth = AuthSettings::default();
        assert!(oidc(&auth).unwrap().is_none());
        auth.oidc_issuer = "https://id.example".into();
        assert!(oidc(&auth).is_err());
        auth.oidc_audience = "game".into();
        auth.oidc_jwks_url = "https://id.example/jwks".into();
        assert_eq!(oidc(&auth).unwrap().unwrap().issuer, "https://id.example");
    }
}
