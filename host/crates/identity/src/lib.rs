//! Player identity for the platform: accounts, credentials, sessions,
//! roles, bans and the audit trail. A library: the host wraps it in routes
//! and middleware.
//!
//! - [`Identity`] (`service`): the API the host calls: sign-in by device id
//!   (guest), username + password (argon2id) or an external OIDC token;
//!   linking methods; display names; [`Identity::verify`] (pure CPU, the
//!   per-request check); refresh with rotation and reuse detection;
//!   logout; roles; bans; deletion; the audit trail.
//! - [`IdentityStore`] (`store`): [`SqliteStore`] (embedded default) and
//!   `PgStore` (feature `postgres`), one schema.
//! - `tokens` (HS256 access tokens, key rotation), `refresh` (opaque
//!   refresh tokens), `password`, `oidc` (JWKS-verified external tokens),
//!   `bans` (the in-memory ban snapshot), `audit`, `names` (input rules),
//!   `account` (ids, roles), `party` (players who queue together),
//!   `error` ([`AuthError`] with stable codes).

pub mod account;
pub mod audit;
pub mod bans;
pub mod error;
pub mod names;
pub mod oidc;
pub mod party;
pub mod password;
pub mod refresh;
pub mod service;
pub mod store;
pub mod tokens;

pub use account::{Account, AccountId, Role, Roles, new_pseudonym};
pub use audit::{AuditEvent, AuditKind, AuditQuery, AuditRecord, Context};
pub use bans::BanList;
pub use error::AuthError;
pub use oidc::{ExternalIdentity, OidcConfig, OidcVerifier};
pub use party::{MAX_PARTY_MEMBERS, Party, PartyId, PartyTicket};
pub use password::{PasswordHash, PasswordParams};
pub use refresh::RefreshToken;
pub use service::{Identity, IdentityConfig, SignedIn};
#[cfg(feature = "postgres")]
pub use store::postgres::PgStore;
pub use store::sqlite::SqliteStore;
pub use store::{Ban, BoardReset, Credential, IdentityStore, RefreshRecord, Rotation};
pub use tokens::{AccessTokens, Session, SigningKey, TokenConfig};
