//! Where identity lives: the [`IdentityStore`] trait and its two
//! implementations over one schema, [`sqlite::SqliteStore`] (embedded
//! single-node default, a WAL file in the server's data dir) and
//! `postgres::PgStore` (feature `postgres`). Both run the same SQL (the
//! `sql_store!` macro below; `$n` parameters work in both dialects); only
//! the migrations differ, in `migrations/{sqlite,postgres}/`, recorded in
//! `_identity_migrations` so the identity tables can share a PostgreSQL
//! database with the archive's.
//!
//! Tables: `accounts`, `device_credentials` (SHA-256 of device ids),
//! `password_credentials` (argon2id PHC strings, one per account, unique
//! case-insensitive username key), `external_identities` (issuer +
//! subject), `refresh_tokens` (SHA-256, family, used/revoked, expiry),
//! `bans`, `audit_events`, `plugin_owners`, `parties` (and members),
//! `board_resets` (admins' leaderboard period resets).

#[cfg(feature = "postgres")]
pub mod postgres;
pub mod sqlite;

use arcade_protocol::clock::UnixMillis;
use async_trait::async_trait;

use crate::account::{Account, AccountId, Roles};
use crate::audit::{AuditEvent, AuditQuery, AuditRecord};
use crate::error::AuthError;
use crate::party::{Party, PartyId, PartyTicket};
use crate::password::PasswordHash;

/// The table that records which identity migrations ran.
pub const MIGRATIONS_TABLE: &str = "_identity_migrations";

/// A sign-in method of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// `hash`: SHA-256 (hex) of the device id; the id itself is not kept.
    Device {
        hash: String,
    },
    Password {
        username: String,
        username_key: String,
        hash: PasswordHash,
    },
    External {
        issuer: String,
        subject: String,
    },
}

/// A refresh token as stored (its hash, never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    pub token_hash: String,
    pub family: String,
    pub account: AccountId,
    pub issued_at_ms: UnixMillis,
    pub expires_at_ms: UnixMillis,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// It was live: now used, and the new token is stored in its family.
    Rotated {
        account: AccountId,
        family: String,
    },
    /// No such token.
    Unknown,
    Expired {
        account: AccountId,
        family: String,
    },
    Revoked {
        account: AccountId,
        family: String,
    },
    /// It had been used before: the whole family is now revoked.
    Reused {
        account: AccountId,
        family: String,
    },
}

/// A ban on an account; `until_ms: None` is permanent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ban {
    pub account: AccountId,
    pub reason: String,
    pub until_ms: Option<UnixMillis>,
    pub by: Option<AccountId>,
    pub at_ms: UnixMillis,
}

impl Ban {
    pub fn active_at(&self, now_ms: UnixMillis) -> bool {
        self.until_ms.is_none_or(|until| until > now_ms)
    }
}

/// An admin's reset of one period of a leaderboard (the host's ladder
/// reads what they mean): `period` is the period's name (`all_time`,
/// `weekly`, `monthly`), `at_ms` when it was reset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardReset {
    pub game: String,
    pub mode: String,
    pub board: String,
    pub period: String,
    pub at_ms: UnixMillis,
    pub by: Option<AccountId>,
}

/// Storage of accounts, credentials, refresh tokens, bans, leaderboard
/// resets and the audit trail. Every method is one transaction (or one statement).
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// The account, deleted or not; `None` if the id was never created.
    async fn account(&self, id: &AccountId) -> Result<Option<Account>, AuthError>;
    /// The display names of the live accounts among `ids`, in one query
    /// (deleted and unknown ids are left out).
    async fn display_names(&self, ids: &[AccountId]) -> Result<Vec<(AccountId, String)>, AuthError>;
    /// Creates `account` with its first sign-in method. A credential that
    /// exists already: [`AuthError::UsernameTaken`] for a username,
    /// [`AuthError::CredentialInUse`] otherwise; nothing is written.
    async fn create_account(&self, account: &Account, credential: &Credential) -> Result<(), AuthError>;
    /// Adds a sign-in method to a live account. A second password:
    /// [`AuthError::MethodAlreadyLinked`]; a credential of another (or this)
    /// account: as in `create_account`; no such live account:
    /// [`AuthError::AccountNotFound`].
    async fn link_credential(&self, account: &AccountId, credential: &Credential) -> Result<(), AuthError>;
    async fn find_device(&self, hash: &str) -> Result<Option<AccountId>, AuthError>;
    async fn find_password(&self, username_key: &str) -> Result<Option<(AccountId, PasswordHash)>, AuthError>;
    async fn find_external(&self, issuer: &str, subject: &str) -> Result<Option<AccountId>, AuthError>;
    /// False when there is no live account with that id.
    async fn set_display_name(&self, id: &AccountId, name: &str) -> Result<bool, AuthError>;
    /// False when there is no live account with that id.
    async fn set_roles(&self, id: &AccountId, roles: Roles) -> Result<bool, AuthError>;
    /// Removes credentials, refresh tokens and bans, marks the account
    /// deleted with a blank name and no roles. False when there was no live
    /// account.
    async fn delete_account(&self, id: &AccountId) -> Result<bool, AuthError>;

    async fn insert_refresh(&self, record: &RefreshRecord) -> Result<(), AuthError>;
    /// Atomically: marks the live token `presented_hash` used and stores
    /// `next_hash` in its family (expiring at `next_expires_at_ms`); or says
    /// why not, revoking the family when the token was reused.
    async fn rotate_refresh(
        &self,
        presented_hash: &str,
        next_hash: &str,
        now_ms: UnixMillis,
        next_expires_at_ms: UnixMillis,
    ) -> Result<Rotation, AuthError>;
    /// Revokes every token of a family; how many were live.
    async fn revoke_family(&self, family: &str) -> Result<u64, AuthError>;
    /// Revokes every refresh token of an account.
    async fn revoke_account_refresh(&self, account: &AccountId) -> Result<u64, AuthError>;

    /// Creates or replaces the ban on `ban.account`.
    async fn put_ban(&self, ban: &Ban) -> Result<(), AuthError>;
    /// False when the account was not banned.
    async fn remove_ban(&self, account: &AccountId) -> Result<bool, AuthError>;
    /// The ban on `account` in force at `now_ms`, if any.
    async fn active_ban(&self, account: &AccountId, now_ms: UnixMillis) -> Result<Option<Ban>, AuthError>;
    /// Bans in force at `now_ms`.
    async fn active_bans(&self, now_ms: UnixMillis) -> Result<Vec<Ban>, AuthError>;

    /// Records a leaderboard reset (the same one twice: once).
    async fn put_board_reset(&self, reset: &BoardReset) -> Result<(), AuthError>;
    /// Every leaderboard reset, oldest first.
    async fn board_resets(&self) -> Result<Vec<BoardReset>, AuthError>;

    /// Appends an event; its id.
    async fn append_audit(&self, record: &AuditRecord) -> Result<i64, AuthError>;
    async fn query_audit(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, AuthError>;

    /// The owner of a plugin name, if one claimed it.
    async fn plugin_owner(&self, plugin: &str) -> Result<Option<AccountId>, AuthError>;
    /// Makes `account` the owner of `plugin` unless someone is already;
    /// the owner after (atomic: of two racing claims, one wins).
    async fn claim_plugin(&self, plugin: &str, account: &AccountId, now_ms: UnixMillis)
    -> Result<AccountId, AuthError>;

    /// Creates a party led (and joined) by `leader`; [`AuthError::AlreadyInParty`]
    /// when the leader is in one.
    async fn create_party(
        &self,
        party: &PartyId,
        leader: &AccountId,
        invite_hash: &str,
        now_ms: UnixMillis,
    ) -> Result<(), AuthError>;
    /// The party and its invite's hash.
    async fn party(&self, party: &PartyId) -> Result<Option<(Party, String)>, AuthError>;
    /// Adds `account` to the party: [`AuthError::PartyNotFound`],
    /// [`AuthError::PartyFull`] past `max_members`, [`AuthError::AlreadyInParty`].
    async fn add_party_member(
        &self,
        party: &PartyId,
        account: &AccountId,
        max_members: usize,
        now_ms: UnixMillis,
    ) -> Result<(), AuthError>;
    /// Takes `account` out of the party; the leader leaving disbands it.
    /// False when it was not a member.
    async fn remove_party_member(&self, party: &PartyId, account: &AccountId) -> Result<bool, AuthError>;
    /// Records the ticket the party is queued with.
    async fn set_party_ticket(&self, party: &PartyId, ticket: &PartyTicket) -> Result<(), AuthError>;
}

/// Milliseconds as the stores keep them (BIGINT).
fn to_db(ms: UnixMillis) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn from_db(ms: i64) -> UnixMillis {
    u64::try_from(ms).unwrap_or(0)
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// The error a duplicate `credential` means.
fn taken(credential: &Credential) -> AuthError {
    match credential {
        Credential::Password { .. } => AuthError::UsernameTaken,
        _ => AuthError::CredentialInUse,
    }
}

/// Implements [`IdentityStore`] for `$store` (a struct with a `pool:
/// sqlx::Pool<$db>`), with `$begin` as the statement opening write
/// transactions (SQLite takes the write lock up front with `BEGIN
/// IMMEDIATE`, so a transaction never fails upgrading a read lock).
macro_rules! sql_store {
    ($store:ty, $db:ty, $begin:literal) => {
        impl $store {
            async fn begin(&self) -> Result<sqlx::Transaction<'static, $db>, AuthError> {
                Ok(self.pool.begin_with($begin).await?)
            }

            async fn insert_credential(
                tx: &mut sqlx::Transaction<'static, $db>,
                account: &AccountId,
                credential: &Credential,
                now_ms: i64,
            ) -> Result<(), sqlx::Error> {
                let query = match credential {
                    Credential::Device { hash } => sqlx::query(
                        "INSERT INTO device_credentials (device_hash, account_id, created_at_ms) VALUES ($1, $2, $3)",
                    )
                    .bind(hash.clone())
                    .bind(account.as_str().to_string())
                    .bind(now_ms),
                    Credential::Password { username, username_key, hash } => sqlx::query(
                        "INSERT INTO password_credentials (username_key, username, account_id, phc, created_at_ms) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(username_key.clone())
                    .bind(username.clone())
                    .bind(account.as_str().to_string())
                    .bind(hash.as_phc().to_string())
                    .bind(now_ms),
                    Credential::External { issuer, subject } => sqlx::query(
                        "INSERT INTO external_identities (issuer, subject, account_id, created_at_ms) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(issuer.clone())
                    .bind(subject.clone())
                    .bind(account.as_str().to_string())
                    .bind(now_ms),
                };
                query.execute(&mut **tx).await.map(|_| ())
            }

            /// One party each: an account already in one is [`AuthError::AlreadyInParty`].
            async fn insert_party_member(
                tx: &mut sqlx::Transaction<'static, $db>,
                party: &PartyId,
                account: &AccountId,
                now_ms: UnixMillis,
            ) -> Result<(), AuthError> {
                let joined =
                    sqlx::query("INSERT INTO party_members (account_id, party_id, joined_at_ms) VALUES ($1, $2, $3)")
                        .bind(account.as_str().to_string())
                        .bind(party.as_str().to_string())
                        .bind(to_db(now_ms))
                        .execute(&mut **tx)
                        .await;
                match joined {
                    Err(e) if is_unique_violation(&e) => Err(AuthError::AlreadyInParty),
                    other => other.map(drop).map_err(AuthError::from),
                }
            }

            fn ban_from_row(row: &<$db as sqlx::Database>::Row) -> Result<Ban, sqlx::Error> {
                use sqlx::Row;
                Ok(Ban {
                    account: AccountId::from_stored(row.try_get("account_id")?),
                    reason: row.try_get("reason")?,
                    until_ms: row.try_get::<Option<i64>, _>("until_ms")?.map(from_db),
                    by: row.try_get::<Option<String>, _>("banned_by")?.map(AccountId::from_stored),
                    at_ms: from_db(row.try_get("at_ms")?),
                })
            }
        }

        #[async_trait::async_trait]
        impl IdentityStore for $store {
            async fn display_names(&self, ids: &[AccountId]) -> Result<Vec<(AccountId, String)>, AuthError> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut query =
                    sqlx::QueryBuilder::<$db>::new("SELECT id, display_name FROM accounts WHERE NOT deleted AND id IN (");
                let mut list = query.separated(", ");
                for id in ids {
                    list.push_bind(id.as_str().to_string());
                }
                list.push_unseparated(")");
                let rows: Vec<(String, String)> = query.build_query_as().fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(|(id, name)| (AccountId::from_stored(id), name)).collect())
            }

            async fn account(&self, id: &AccountId) -> Result<Option<Account>, AuthError> {
                use sqlx::Row;
                let row = sqlx::query("SELECT id, display_name, roles, created_at_ms, deleted FROM accounts WHERE id = $1")
                    .bind(id.as_str().to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(row) = row else { return Ok(None) };
                Ok(Some(Account {
                    id: AccountId::from_stored(row.try_get("id")?),
                    display_name: row.try_get("display_name")?,
                    roles: Roles::from_stored(&row.try_get::<String, _>("roles")?)?,
                    created_at_ms: from_db(row.try_get("created_at_ms")?),
                    deleted: row.try_get("deleted")?,
                }))
            }

            async fn create_account(&self, account: &Account, credential: &Credential) -> Result<(), AuthError> {
                let mut tx = self.begin().await?;
                sqlx::query(
                    "INSERT INTO accounts (id, display_name, roles, created_at_ms, deleted) VALUES ($1, $2, $3, $4, FALSE)",
                )
                .bind(account.id.as_str().to_string())
                .bind(account.display_name.clone())
                .bind(account.roles.to_stored())
                .bind(to_db(account.created_at_ms))
                .execute(&mut *tx)
                .await?;
                match Self::insert_credential(&mut tx, &account.id, credential, to_db(account.created_at_ms)).await {
                    Ok(()) => Ok(tx.commit().await?),
                    Err(e) if is_unique_violation(&e) => Err(taken(credential)),
                    Err(e) => Err(e.into()),
                }
            }

            async fn link_credential(&self, account: &AccountId, credential: &Credential) -> Result<(), AuthError> {
                use sqlx::Row;
                let mut tx = self.begin().await?;
                let live = sqlx::query("SELECT deleted FROM accounts WHERE id = $1")
                    .bind(account.as_str().to_string())
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|row| row.try_get::<bool, _>("deleted"))
                    .transpose()?
                    == Some(false);
                if !live {
                    return Err(AuthError::AccountNotFound);
                }
                if matches!(credential, Credential::Password { .. }) {
                    let has_password = sqlx::query("SELECT account_id FROM password_credentials WHERE account_id = $1")
                        .bind(account.as_str().to_string())
                        .fetch_optional(&mut *tx)
                        .await?
                        .is_some();
                    if has_password {
                        return Err(AuthError::MethodAlreadyLinked);
                    }
                }
                match Self::insert_credential(&mut tx, account, credential, to_db(arcade_protocol::clock::now_ms())).await {
                    Ok(()) => Ok(tx.commit().await?),
                    Err(e) if is_unique_violation(&e) => Err(taken(credential)),
                    Err(e) => Err(e.into()),
                }
            }

            async fn find_device(&self, hash: &str) -> Result<Option<AccountId>, AuthError> {
                let id: Option<String> = sqlx::query_scalar("SELECT account_id FROM device_credentials WHERE device_hash = $1")
                    .bind(hash.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(id.map(AccountId::from_stored))
            }

            async fn find_password(&self, username_key: &str) -> Result<Option<(AccountId, PasswordHash)>, AuthError> {
                use sqlx::Row;
                let row = sqlx::query("SELECT account_id, phc FROM password_credentials WHERE username_key = $1")
                    .bind(username_key.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(row) = row else { return Ok(None) };
                Ok(Some((AccountId::from_stored(row.try_get("account_id")?), PasswordHash::from_phc(row.try_get("phc")?))))
            }

            async fn find_external(&self, issuer: &str, subject: &str) -> Result<Option<AccountId>, AuthError> {
                let id: Option<String> =
                    sqlx::query_scalar("SELECT account_id FROM external_identities WHERE issuer = $1 AND subject = $2")
                        .bind(issuer.to_string())
                        .bind(subject.to_string())
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(id.map(AccountId::from_stored))
            }

            async fn set_display_name(&self, id: &AccountId, name: &str) -> Result<bool, AuthError> {
                let done = sqlx::query("UPDATE accounts SET display_name = $1 WHERE id = $2 AND deleted = FALSE")
                    .bind(name.to_string())
                    .bind(id.as_str().to_string())
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_roles(&self, id: &AccountId, roles: Roles) -> Result<bool, AuthError> {
                let done = sqlx::query("UPDATE accounts SET roles = $1 WHERE id = $2 AND deleted = FALSE")
                    .bind(roles.to_stored())
                    .bind(id.as_str().to_string())
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn delete_account(&self, id: &AccountId) -> Result<bool, AuthError> {
                let mut tx = self.begin().await?;
                let done =
                    sqlx::query("UPDATE accounts SET deleted = TRUE, display_name = '', roles = '' WHERE id = $1 AND deleted = FALSE")
                        .bind(id.as_str().to_string())
                        .execute(&mut *tx)
                        .await?;
                if done.rows_affected() == 0 {
                    return Ok(false);
                }
                for statement in [
                    "DELETE FROM party_members WHERE party_id IN (SELECT id FROM parties WHERE leader_id = $1)",
                    "DELETE FROM parties WHERE leader_id = $1",
                    "DELETE FROM party_members WHERE account_id = $1",
                    "DELETE FROM device_credentials WHERE account_id = $1",
                    "DELETE FROM password_credentials WHERE account_id = $1",
                    "DELETE FROM external_identities WHERE account_id = $1",
                    "DELETE FROM refresh_tokens WHERE account_id = $1",
                    "DELETE FROM bans WHERE account_id = $1",
                ] {
                    sqlx::query(statement).bind(id.as_str().to_string()).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn insert_refresh(&self, record: &RefreshRecord) -> Result<(), AuthError> {
                sqlx::query(
                    "INSERT INTO refresh_tokens (token_hash, family_id, account_id, issued_at_ms, expires_at_ms, used, revoked) \
                     VALUES ($1, $2, $3, $4, $5, FALSE, FALSE)",
                )
                .bind(record.token_hash.clone())
                .bind(record.family.clone())
                .bind(record.account.as_str().to_string())
                .bind(to_db(record.issued_at_ms))
                .bind(to_db(record.expires_at_ms))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn rotate_refresh(
                &self,
                presented_hash: &str,
                next_hash: &str,
                now_ms: UnixMillis,
                next_expires_at_ms: UnixMillis,
            ) -> Result<Rotation, AuthError> {
                use sqlx::Row;
                let mut tx = self.begin().await?;
                let claimed = sqlx::query(
                    "UPDATE refresh_tokens SET used = TRUE \
                     WHERE token_hash = $1 AND used = FALSE AND revoked = FALSE AND expires_at_ms > $2 \
                     RETURNING family_id, account_id",
                )
                .bind(presented_hash.to_string())
                .bind(to_db(now_ms))
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(row) = claimed {
                    let family: String = row.try_get("family_id")?;
                    let account: String = row.try_get("account_id")?;
                    sqlx::query(
                        "INSERT INTO refresh_tokens (token_hash, family_id, account_id, issued_at_ms, expires_at_ms, used, revoked) \
                         VALUES ($1, $2, $3, $4, $5, FALSE, FALSE)",
                    )
                    .bind(next_hash.to_string())
                    .bind(family.clone())
                    .bind(account.clone())
                    .bind(to_db(now_ms))
                    .bind(to_db(next_expires_at_ms))
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    return Ok(Rotation::Rotated { account: AccountId::from_stored(account), family });
                }
                let row = sqlx::query(
                    "SELECT family_id, account_id, used, revoked, expires_at_ms FROM refresh_tokens WHERE token_hash = $1",
                )
                .bind(presented_hash.to_string())
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else { return Ok(Rotation::Unknown) };
                let family: String = row.try_get("family_id")?;
                let account = AccountId::from_stored(row.try_get("account_id")?);
                if row.try_get::<bool, _>("revoked")? {
                    return Ok(Rotation::Revoked { account, family });
                }
                if row.try_get::<bool, _>("used")? {
                    sqlx::query("UPDATE refresh_tokens SET revoked = TRUE WHERE family_id = $1")
                        .bind(family.clone())
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    return Ok(Rotation::Reused { account, family });
                }
                Ok(Rotation::Expired { account, family })
            }

            async fn revoke_family(&self, family: &str) -> Result<u64, AuthError> {
                let done = sqlx::query("UPDATE refresh_tokens SET revoked = TRUE WHERE family_id = $1 AND revoked = FALSE")
                    .bind(family.to_string())
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn revoke_account_refresh(&self, account: &AccountId) -> Result<u64, AuthError> {
                let done = sqlx::query("UPDATE refresh_tokens SET revoked = TRUE WHERE account_id = $1 AND revoked = FALSE")
                    .bind(account.as_str().to_string())
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn put_ban(&self, ban: &Ban) -> Result<(), AuthError> {
                sqlx::query(
                    "INSERT INTO bans (account_id, reason, until_ms, banned_by, at_ms) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (account_id) DO UPDATE SET reason = excluded.reason, until_ms = excluded.until_ms, \
                     banned_by = excluded.banned_by, at_ms = excluded.at_ms",
                )
                .bind(ban.account.as_str().to_string())
                .bind(ban.reason.clone())
                .bind(ban.until_ms.map(to_db))
                .bind(ban.by.as_ref().map(|by| by.as_str().to_string()))
                .bind(to_db(ban.at_ms))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn plugin_owner(&self, plugin: &str) -> Result<Option<AccountId>, AuthError> {
                let owner: Option<String> = sqlx::query_scalar("SELECT account_id FROM plugin_owners WHERE plugin = $1")
                    .bind(plugin.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(owner.map(AccountId::from_stored))
            }

            async fn claim_plugin(
                &self,
                plugin: &str,
                account: &AccountId,
                now_ms: UnixMillis,
            ) -> Result<AccountId, AuthError> {
                sqlx::query(
                    "INSERT INTO plugin_owners (plugin, account_id, claimed_at_ms) VALUES ($1, $2, $3) \
                     ON CONFLICT (plugin) DO NOTHING",
                )
                .bind(plugin.to_string())
                .bind(account.as_str().to_string())
                .bind(to_db(now_ms))
                .execute(&self.pool)
                .await?;
                self.plugin_owner(plugin).await?.ok_or_else(|| AuthError::Internal("a claimed plugin has no owner".into()))
            }

            async fn remove_ban(&self, account: &AccountId) -> Result<bool, AuthError> {
                let done = sqlx::query("DELETE FROM bans WHERE account_id = $1")
                    .bind(account.as_str().to_string())
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn active_ban(&self, account: &AccountId, now_ms: UnixMillis) -> Result<Option<Ban>, AuthError> {
                let row = sqlx::query(
                    "SELECT account_id, reason, until_ms, banned_by, at_ms FROM bans \
                     WHERE account_id = $1 AND (until_ms IS NULL OR until_ms > $2)",
                )
                .bind(account.as_str().to_string())
                .bind(to_db(now_ms))
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.as_ref().map(Self::ban_from_row).transpose()?)
            }

            async fn active_bans(&self, now_ms: UnixMillis) -> Result<Vec<Ban>, AuthError> {
                let rows = sqlx::query(
                    "SELECT account_id, reason, until_ms, banned_by, at_ms FROM bans WHERE until_ms IS NULL OR until_ms > $1",
                )
                .bind(to_db(now_ms))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.iter().map(Self::ban_from_row).collect::<Result<_, _>>()?)
            }

            async fn put_board_reset(&self, reset: &BoardReset) -> Result<(), AuthError> {
                sqlx::query(
                    "INSERT INTO board_resets (game, mode, board, period, at_ms, reset_by) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(reset.game.clone())
                .bind(reset.mode.clone())
                .bind(reset.board.clone())
                .bind(reset.period.clone())
                .bind(to_db(reset.at_ms))
                .bind(reset.by.as_ref().map(|by| by.as_str().to_string()))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn board_resets(&self) -> Result<Vec<BoardReset>, AuthError> {
                let rows: Vec<(String, String, String, String, i64, Option<String>)> = sqlx::query_as(
                    "SELECT game, mode, board, period, at_ms, reset_by FROM board_resets ORDER BY at_ms, game, mode, board, period",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(game, mode, board, period, at_ms, by)| BoardReset {
                        game,
                        mode,
                        board,
                        period,
                        at_ms: from_db(at_ms),
                        by: by.map(AccountId::from_stored),
                    })
                    .collect())
            }

            async fn append_audit(&self, record: &AuditRecord) -> Result<i64, AuthError> {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO audit_events (at_ms, kind, account_id, actor, ip, detail) VALUES ($1, $2, $3, $4, $5, $6) \
                     RETURNING id",
                )
                .bind(to_db(record.at_ms))
                .bind(record.kind.as_str())
                .bind(record.account.as_ref().map(|a| a.as_str().to_string()))
                .bind(record.actor.as_ref().map(|a| a.as_str().to_string()))
                .bind(record.ip.clone())
                .bind(sqlx::types::Json(record.detail.clone()))
                .fetch_one(&self.pool)
                .await?;
                Ok(id)
            }

            async fn query_audit(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, AuthError> {
                use sqlx::Row;
                let rows = sqlx::query(
                    "SELECT id, at_ms, kind, account_id, actor, ip, detail FROM audit_events \
                     WHERE ($1 IS NULL OR account_id = $1) AND ($2 IS NULL OR kind = $2) AND id > $3 \
                     ORDER BY id LIMIT $4",
                )
                .bind(query.account.as_ref().map(|a| a.as_str().to_string()))
                .bind(query.kind.map(|k| k.as_str()))
                .bind(query.after.unwrap_or(0))
                .bind(i64::from(query.clamped_limit()))
                .fetch_all(&self.pool)
                .await?;
                let event = |row: &<$db as sqlx::Database>::Row| -> Result<AuditEvent, sqlx::Error> {
                    Ok(AuditEvent {
                        id: row.try_get("id")?,
                        at_ms: from_db(row.try_get("at_ms")?),
                        kind: row.try_get("kind")?,
                        account: row.try_get::<Option<String>, _>("account_id")?.map(AccountId::from_stored),
                        actor: row.try_get::<Option<String>, _>("actor")?.map(AccountId::from_stored),
                        ip: row.try_get("ip")?,
                        detail: row.try_get::<sqlx::types::Json<serde_json::Value>, _>("detail")?.0,
                    })
                };
                Ok(rows.iter().map(event).collect::<Result<_, _>>()?)
            }

            async fn create_party(
                &self,
                party: &PartyId,
                leader: &AccountId,
                invite_hash: &str,
                now_ms: UnixMillis,
            ) -> Result<(), AuthError> {
                let mut tx = self.begin().await?;
                sqlx::query("INSERT INTO parties (id, leader_id, invite_hash, created_at_ms) VALUES ($1, $2, $3, $4)")
                    .bind(party.as_str().to_string())
                    .bind(leader.as_str().to_string())
                    .bind(invite_hash.to_string())
                    .bind(to_db(now_ms))
                    .execute(&mut *tx)
                    .await?;
                Self::insert_party_member(&mut tx, party, leader, now_ms).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn party(&self, party: &PartyId) -> Result<Option<(Party, String)>, AuthError> {
                use sqlx::Row;
                let row = sqlx::query(
                    "SELECT leader_id, invite_hash, ticket_id, ticket_secret, created_at_ms FROM parties WHERE id = $1",
                )
                .bind(party.as_str().to_string())
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let leader = AccountId::from_stored(row.try_get("leader_id")?);
                let others: Vec<String> = sqlx::query_scalar(
                    "SELECT account_id FROM party_members WHERE party_id = $1 AND account_id <> $2 \
                     ORDER BY joined_at_ms, account_id",
                )
                .bind(party.as_str().to_string())
                .bind(leader.as_str().to_string())
                .fetch_all(&self.pool)
                .await?;
                let ticket = match (row.try_get::<Option<String>, _>("ticket_id")?, row.try_get::<Option<String>, _>("ticket_secret")?) {
                    (Some(id), Some(secret)) => Some(PartyTicket { id, secret }),
                    _ => None,
                };
                let mut members = vec![leader.clone()];
                members.extend(others.into_iter().map(AccountId::from_stored));
                let found = Party {
                    id: party.clone(),
                    leader,
                    members,
                    ticket,
                    created_at_ms: from_db(row.try_get("created_at_ms")?),
                };
                Ok(Some((found, row.try_get("invite_hash")?)))
            }

            async fn add_party_member(
                &self,
                party: &PartyId,
                account: &AccountId,
                max_members: usize,
                now_ms: UnixMillis,
            ) -> Result<(), AuthError> {
                let mut tx = self.begin().await?;
                // Touching the party's row first serialises joins to it.
                let locked = sqlx::query("UPDATE parties SET id = id WHERE id = $1")
                    .bind(party.as_str().to_string())
                    .execute(&mut *tx)
                    .await?;
                if locked.rows_affected() == 0 {
                    return Err(AuthError::PartyNotFound);
                }
                let members: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM party_members WHERE party_id = $1")
                    .bind(party.as_str().to_string())
                    .fetch_one(&mut *tx)
                    .await?;
                if members as usize >= max_members {
                    return Err(AuthError::PartyFull(max_members));
                }
                Self::insert_party_member(&mut tx, party, account, now_ms).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn remove_party_member(&self, party: &PartyId, account: &AccountId) -> Result<bool, AuthError> {
                let mut tx = self.begin().await?;
                let leader: Option<String> = sqlx::query_scalar("SELECT leader_id FROM parties WHERE id = $1")
                    .bind(party.as_str().to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(leader) = leader else { return Ok(false) };
                let removed = if leader == account.as_str() {
                    sqlx::query("DELETE FROM party_members WHERE party_id = $1")
                        .bind(party.as_str().to_string())
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM parties WHERE id = $1")
                        .bind(party.as_str().to_string())
                        .execute(&mut *tx)
                        .await?;
                    true
                } else {
                    let done = sqlx::query("DELETE FROM party_members WHERE party_id = $1 AND account_id = $2")
                        .bind(party.as_str().to_string())
                        .bind(account.as_str().to_string())
                        .execute(&mut *tx)
                        .await?;
                    done.rows_affected() == 1
                };
                tx.commit().await?;
                Ok(removed)
            }

            async fn set_party_ticket(&self, party: &PartyId, ticket: &PartyTicket) -> Result<(), AuthError> {
                sqlx::query("UPDATE parties SET ticket_id = $1, ticket_secret = $2 WHERE id = $3")
                    .bind(ticket.id.clone())
                    .bind(ticket.secret.clone())
                    .bind(party.as_str().to_string())
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }
        }
    };
}
use sql_store;
