//! The PostgreSQL store (feature `postgres`): every node of a cluster
//! shares it. Schema: `migrations/postgres/`, recorded in
//! `_identity_migrations` (the archive's migrations keep `_sqlx_migrations`
//! in the same database).

use arcade_protocol::clock::UnixMillis;
use sqlx::postgres::{PgPool, PgPoolOptions};

use super::{
    Ban, BoardReset, Credential, IdentityStore, MIGRATIONS_TABLE, RefreshRecord, Rotation, from_db,
    is_unique_violation, sql_store, taken, to_db,
};
use crate::account::{Account, AccountId, Roles};
use crate::audit::{AuditEvent, AuditQuery, AuditRecord};
use crate::error::AuthError;
use crate::party::{Party, PartyId, PartyTicket};
use crate::password::PasswordHash;

/// [`IdentityStore`] in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url` (`sslmode` in it decides TLS) and brings the
    /// schema up to date.
    pub async fn connect(url: &str) -> Result<PgStore, AuthError> {
        let pool = PgPoolOptions::new().max_connections(10).connect(url).await?;
        let mut migrator = sqlx::migrate!("migrations/postgres");
        migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
        migrator.run(&pool).await?;
        Ok(PgStore { pool })
    }

    /// Closes the pool (waits for connections in use).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

sql_store!(PgStore, sqlx::Postgres, "BEGIN");
