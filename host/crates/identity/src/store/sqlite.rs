//! The embedded store: one SQLite file (WAL mode) in the server's data dir,
//! for a single node with no services. Schema: `migrations/sqlite/`.

use std::path::Path;
use std::time::Duration;

use arcade_protocol::clock::UnixMillis;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use super::{
    Ban, BoardReset, Credential, IdentityStore, MIGRATIONS_TABLE, RefreshRecord, Rotation, from_db,
    is_unique_violation, sql_store, taken, to_db,
};
use crate::account::{Account, AccountId, Roles};
use crate::audit::{AuditEvent, AuditQuery, AuditRecord};
use crate::error::AuthError;
use crate::party::{Party, PartyId, PartyTicket};
use crate::password::PasswordHash;

/// [`IdentityStore`] in a SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path` and brings
    /// its schema up to date.
    pub async fn open(path: impl AsRef<Path>) -> Result<SqliteStore, AuthError> {
        let options = SqliteConnectOptions::new()
            .filename(path.as_ref())
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        let mut migrator = sqlx::migrate!("migrations/sqlite");
        migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
        migrator.run(&pool).await?;
        Ok(SqliteStore { pool })
    }

    /// Closes the pool (waits for connections in use).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

sql_store!(SqliteStore, sqlx::Sqlite, "BEGIN IMMEDIATE");
