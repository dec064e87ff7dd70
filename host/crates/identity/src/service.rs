//! [`Identity`]: the service the host calls. Sign-in by device id,
//! username + password or an external identity token; linking further
//! methods; display names; sessions (issue, [`Identity::verify`], refresh
//! with rotation and reuse detection, logout); roles; bans; deletion; the
//! audit trail. It composes the lower modules over one
//! [`IdentityStore`]; authorisation (who may ban or grant) is the host's.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use arcade_protocol::clock::{UnixMillis, now_ms};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::account::{Account, AccountId, Role, Roles, new_family_id};
use crate::audit::{AuditEvent, AuditKind, AuditQuery, AuditRecord, Context};
use crate::bans::BanList;
use crate::error::AuthError;
use crate::names;
use crate::oidc::{ExternalIdentity, OidcConfig, OidcVerifier};
use crate::party::{self, MAX_PARTY_MEMBERS, Party, PartyId, PartyTicket};
use crate::password::{PasswordParams, Passwords};
use crate::refresh::{RefreshToken, sha256_hex};
use crate::store::{Ban, BoardReset, Credential, IdentityStore, RefreshRecord, Rotation};
use crate::tokens::{AccessTokens, Session, TokenConfig};

/// Everything [`Identity`] is configured with.
#[derive(Debug, Clone)]
pub struct IdentityConfig {
    pub tokens: TokenConfig,
    pub passwords: PasswordParams,
    /// Lifetime of a refresh token; each rotation starts a new one
    /// (default 30 days).
    pub refresh_ttl: Duration,
    /// The external identity provider, if any.
    pub oidc: Option<OidcConfig>,
}

impl IdentityConfig {
    pub fn new(tokens: TokenConfig) -> IdentityConfig {
        IdentityConfig {
            tokens,
            passwords: PasswordParams::default(),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            oidc: None,
        }
    }
}

/// A new or refreshed session, as the client receives it.
#[derive(Clone)]
pub struct SignedIn {
    /// The signed access token (a bearer credential: Debug hides it).
    pub access_token: String,
    /// What the access token says.
    pub session: Session,
    pub refresh_token: RefreshToken,
    /// Whether this sign-in created the account.
    pub created: bool,
}

impl fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedIn")
            .field("access_token", &"<redacted>")
            .field("session", &self.session)
            .field("refresh_token", &self.refresh_token)
            .field("created", &self.created)
            .finish()
    }
}

/// The sign-in methods, as the audit trail names them.
#[derive(Clone, Copy)]
enum Method {
    Device,
    Password,
    External,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Device => "device",
            Method::Password => "password",
            Method::External => "oidc",
        }
    }
}

/// Accounts, sessions, roles, bans and the audit trail over one store.
pub struct Identity {
    store: Arc<dyn IdentityStore>,
    tokens: AccessTokens,
    passwords: Passwords,
    bans: BanList,
    oidc: Option<OidcVerifier>,
    refresh_ttl_ms: u64,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("tokens", &self.tokens)
            .field("passwords", &self.passwords)
            .field("bans", &self.bans)
            .field("oidc", &self.oidc)
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// The service over `store`.
    pub fn new(store: Arc<dyn IdentityStore>, config: IdentityConfig) -> Result<Identity, AuthError> {
        let oidc = config.oidc.map(OidcVerifier::new).transpose()?;
        Ok(Identity {
            tokens: AccessTokens::new(&config.tokens)?,
            passwords: Passwords::new(config.passwords)?,
            bans: BanList::new(store.clone()),
            store,
            oidc,
            refresh_ttl_ms: u64::try_from(config.refresh_ttl.as_millis()).unwrap_or(u64::MAX),
        })
    }

    pub fn store(&self) -> &Arc<dyn IdentityStore> {
        &self.store
    }

    /// The ban snapshot [`Identity::verify`] checks.
    pub fn bans(&self) -> &BanList {
        &self.bans
    }

    /// Reloads the ban snapshot from the store (the host calls this about
    /// once a second); how many bans are in force.
    pub async fn refresh_bans(&self) -> Result<usize, AuthError> {
        self.bans.refresh().await
    }

    // ------------------------------------------------------------ sessions

    /// Who is calling: checks an access token and the ban snapshot. Pure
    /// CPU, no store access.
    pub fn verify(&self, access_token: &str) -> Result<Session, AuthError> {
        self.verify_at(access_token, now_ms())
    }

    /// [`Identity::verify`] at a given time.
    pub fn verify_at(&self, access_token: &str, now_ms: UnixMillis) -> Result<Session, AuthError> {
        let session = self.tokens.verify_at(access_token, now_ms / 1000)?;
        self.bans.check(&session.account, now_ms)?;
        Ok(session)
    }

    /// `Err(AccountBanned)` when `player` (a room's player id) names a
    /// banned account: seat tokens and open sockets stop with the ban too.
    /// In memory; ids that are not account ids are never banned.
    pub fn check_player(&self, player: &str) -> Result<(), AuthError> {
        AccountId::parse(player).map_or(Ok(()), |account| self.bans.check(&account, now_ms()))
    }

    /// Trades a refresh token for a new access token and a new refresh
    /// token in the same family. A token used before revokes its family
    /// (`refresh_token_reused`); a banned or deleted account gets nothing.
    pub async fn refresh(&self, token: &RefreshToken, context: &Context) -> Result<SignedIn, AuthError> {
        let now = now_ms();
        let next = RefreshToken::generate();
        let rotation = self
            .store
            .rotate_refresh(&token.hash(), &next.hash(), now, now.saturating_add(self.refresh_ttl_ms))
            .await?;
        let (account, family) = match rotation {
            Rotation::Rotated { account, family } => (account, family),
            Rotation::Unknown => return Err(AuthError::RefreshTokenInvalid),
            Rotation::Expired { .. } => return Err(AuthError::RefreshTokenExpired),
            Rotation::Revoked { account, .. } => {
                return Err(match self.store.active_ban(&account, now).await? {
                    Some(ban) => AuthError::AccountBanned { until_ms: ban.until_ms },
                    None => AuthError::RefreshTokenRevoked,
                });
            }
            Rotation::Reused { account, family } => {
                let detail = json!({ "family": family });
                self.record(AuditRecord::new(AuditKind::RefreshReused, Some(&account), context, detail)).await;
                return Err(AuthError::RefreshTokenReused);
            }
        };
        let refused =
            self.store.active_ban(&account, now).await?.map(|ban| AuthError::AccountBanned { until_ms: ban.until_ms });
        let live = self.store.account(&account).await?.filter(|a| !a.deleted);
        let profile = match (refused, live) {
            (None, Some(profile)) => profile,
            (refused, _) => {
                self.store.revoke_family(&family).await?;
                return Err(refused.unwrap_or(AuthError::RefreshTokenRevoked));
            }
        };
        let (access_token, session) =
            self.tokens.issue(&profile.id, &profile.display_name, profile.roles, &family, now / 1000)?;
        Ok(SignedIn { access_token, session, refresh_token: next, created: false })
    }

    /// Ends a session: its refresh family is revoked (its access token
    /// lapses at its expiry).
    pub async fn logout(&self, session: &Session, context: &Context) -> Result<(), AuthError> {
        self.store.revoke_family(&session.sid).await?;
        self.record(AuditRecord::new(
            AuditKind::Logout,
            Some(&session.account),
            context,
            json!({ "family": session.sid }),
        ))
        .await;
        Ok(())
    }

    /// A new session (refresh family) for `account`, after its sign-in.
    async fn open_session(
        &self,
        account: &Account,
        method: Method,
        created: bool,
        context: &Context,
    ) -> Result<SignedIn, AuthError> {
        let now = now_ms();
        if let Some(ban) = self.store.active_ban(&account.id, now).await? {
            let refused = AuthError::AccountBanned { until_ms: ban.until_ms };
            self.sign_in_failed(method, Some(&account.id), &refused, json!({}), context).await;
            return Err(refused);
        }
        let family = new_family_id();
        let refresh_token = RefreshToken::generate();
        self.store
            .insert_refresh(&RefreshRecord {
                token_hash: refresh_token.hash(),
                family: family.clone(),
                account: account.id.clone(),
                issued_at_ms: now,
                expires_at_ms: now.saturating_add(self.refresh_ttl_ms),
            })
            .await?;
        let (access_token, session) =
            self.tokens.issue(&account.id, &account.display_name, account.roles, &family, now / 1000)?;
        let detail = json!({ "method": method.as_str(), "created": created, "family": family });
        self.record(AuditRecord::new(AuditKind::SignIn, Some(&account.id), context, detail)).await;
        Ok(SignedIn { access_token, session, refresh_token, created })
    }

    // ------------------------------------------------------------- sign-in

    /// Guest sign-in: the account of this device id, created on first use.
    pub async fn sign_in_device(&self, device_id: &str, context: &Context) -> Result<SignedIn, AuthError> {
        let hash = sha256_hex(names::device_id(device_id)?.as_bytes());
        let credential = Credential::Device { hash: hash.clone() };
        let (account, created) = self.find_or_create(&credential, None, || self.store.find_device(&hash)).await?;
        self.open_session(&account, Method::Device, created, context).await
    }

    /// Creates an account with a username and password and signs it in.
    pub async fn register(&self, username: &str, password: &str, context: &Context) -> Result<SignedIn, AuthError> {
        let username = names::username(username)?;
        let hash = self.passwords.hash(names::password(password)?).await?;
        let account = new_account(AccountId::generate(), username.display.clone());
        let credential = Credential::Password { username: username.display.clone(), username_key: username.key, hash };
        self.store.create_account(&account, &credential).await?;
        let detail = json!({ "method": Method::Password.as_str(), "username": username.display });
        self.record(AuditRecord::new(AuditKind::Register, Some(&account.id), context, detail)).await;
        self.open_session(&account, Method::Password, true, context).await
    }

    /// Username + password sign-in. A wrong password and an unknown (or
    /// ill-formed) username give the same `invalid_credentials`; an unknown
    /// username is checked against a dummy hash, so both cost one argon2id
    /// verification. A failure changes no account.
    pub async fn sign_in_password(
        &self,
        username: &str,
        password: &str,
        context: &Context,
    ) -> Result<SignedIn, AuthError> {
        let (Ok(name), Ok(password)) = (names::username(username), names::password(password)) else {
            let detail = json!({ "reason": "ill-formed" });
            self.sign_in_failed(Method::Password, None, &AuthError::InvalidCredentials, detail, context).await;
            return Err(AuthError::InvalidCredentials);
        };
        let found = self.store.find_password(&name.key).await?;
        let matches = self.passwords.verify(password, found.as_ref().map(|(_, hash)| hash)).await?;
        let account = match (matches, found) {
            (true, Some((id, _))) => self.store.account(&id).await?.filter(|a| !a.deleted),
            (_, found) => {
                let account = found.map(|(id, _)| id);
                let detail = json!({ "username": name.display });
                self.sign_in_failed(
                    Method::Password,
                    account.as_ref(),
                    &AuthError::InvalidCredentials,
                    detail,
                    context,
                )
                .await;
                return Err(AuthError::InvalidCredentials);
            }
        };
        let account = account.ok_or(AuthError::InvalidCredentials)?;
        self.open_session(&account, Method::Password, false, context).await
    }

    /// Sign-in with the configured identity provider's token: the account
    /// linked to (issuer, subject), created on first use.
    pub async fn sign_in_external(&self, id_token: &str, context: &Context) -> Result<SignedIn, AuthError> {
        let external = self.verify_external(id_token, context).await?;
        let credential = Credential::External { issuer: external.issuer.clone(), subject: external.subject.clone() };
        let suggested = external.name.as_deref().and_then(|name| names::display_name(name).ok());
        let find = || self.store.find_external(&external.issuer, &external.subject);
        let (account, created) = self.find_or_create(&credential, suggested, find).await?;
        self.open_session(&account, Method::External, created, context).await
    }

    async fn verify_external(&self, id_token: &str, context: &Context) -> Result<ExternalIdentity, AuthError> {
        let oidc = self.oidc.as_ref().ok_or(AuthError::OidcNotConfigured)?;
        match oidc.verify(id_token).await {
            Ok(external) => Ok(external),
            Err(refused) => {
                self.sign_in_failed(Method::External, None, &refused, json!({ "issuer": oidc.issuer() }), context)
                    .await;
                Err(refused)
            }
        }
    }

    /// The live account `find` names, or a new one holding `credential`
    /// (if another sign-in created it meanwhile, that one).
    async fn find_or_create<F, Fut>(
        &self,
        credential: &Credential,
        display_name: Option<String>,
        find: F,
    ) -> Result<(Account, bool), AuthError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Option<AccountId>, AuthError>>,
    {
        if let Some(id) = find().await? {
            return Ok((self.live_account(&id).await?, false));
        }
        let id = AccountId::generate();
        let name = display_name.unwrap_or_else(|| format!("player-{}", &id.as_str()[4..10]));
        let account = new_account(id, name);
        match self.store.create_account(&account, credential).await {
            Ok(()) => Ok((account, true)),
            Err(AuthError::CredentialInUse) => {
                let id = find().await?.ok_or(AuthError::CredentialInUse)?;
                Ok((self.live_account(&id).await?, false))
            }
            Err(e) => Err(e),
        }
    }

    async fn live_account(&self, id: &AccountId) -> Result<Account, AuthError> {
        self.store.account(id).await?.filter(|a| !a.deleted).ok_or(AuthError::AccountNotFound)
    }

    async fn sign_in_failed(
        &self,
        method: Method,
        account: Option<&AccountId>,
        error: &AuthError,
        mut detail: serde_json::Value,
        context: &Context,
    ) {
        detail["method"] = json!(method.as_str());
        detail["code"] = json!(error.code());
        self.record(AuditRecord::new(AuditKind::SignInFailed, account, context, detail)).await;
    }

    // ------------------------------------------------------------- linking

    /// Adds a device id to `account` (a guest device can then sign in to it).
    pub async fn link_device(&self, account: &AccountId, device_id: &str, context: &Context) -> Result<(), AuthError> {
        let hash = sha256_hex(names::device_id(device_id)?.as_bytes());
        self.link(account, Credential::Device { hash }, Method::Device, json!({}), context).await
    }

    /// Gives `account` a username and password (one per account).
    pub async fn link_password(
        &self,
        account: &AccountId,
        username: &str,
        password: &str,
        context: &Context,
    ) -> Result<(), AuthError> {
        let username = names::username(username)?;
        let hash = self.passwords.hash(names::password(password)?).await?;
        let detail = json!({ "username": username.display });
        let credential = Credential::Password { username: username.display, username_key: username.key, hash };
        self.link(account, credential, Method::Password, detail, context).await
    }

    /// Links the identity an external token proves to `account`.
    pub async fn link_external(&self, account: &AccountId, id_token: &str, context: &Context) -> Result<(), AuthError> {
        let external = self.verify_external(id_token, context).await?;
        let detail = json!({ "issuer": external.issuer });
        let credential = Credential::External { issuer: external.issuer, subject: external.subject };
        self.link(account, credential, Method::External, detail, context).await
    }

    async fn link(
        &self,
        account: &AccountId,
        credential: Credential,
        method: Method,
        mut detail: serde_json::Value,
        context: &Context,
    ) -> Result<(), AuthError> {
        self.store.link_credential(account, &credential).await?;
        detail["method"] = json!(method.as_str());
        self.record(AuditRecord::new(AuditKind::Link, Some(account), context, detail)).await;
        Ok(())
    }

    // ------------------------------------------------------------ profiles

    pub async fn account(&self, id: &AccountId) -> Result<Option<Account>, AuthError> {
        self.store.account(id).await
    }

    /// The display names of the live accounts among `ids` (one query).
    pub async fn display_names(&self, ids: &[AccountId]) -> Result<Vec<(AccountId, String)>, AuthError> {
        self.store.display_names(ids).await
    }

    /// Renames `account` (the player-name rule); the canonical name. Tokens
    /// carry the new name from the next refresh.
    pub async fn set_display_name(
        &self,
        account: &AccountId,
        name: &str,
        context: &Context,
    ) -> Result<String, AuthError> {
        let name = names::display_name(name)?;
        if !self.store.set_display_name(account, &name).await? {
            return Err(AuthError::AccountNotFound);
        }
        self.record(AuditRecord::new(AuditKind::DisplayName, Some(account), context, json!({ "name": name }))).await;
        Ok(name)
    }

    /// Grants `role`; the account's roles after. Tokens carry them from the
    /// next refresh.
    pub async fn grant_role(&self, account: &AccountId, role: Role, context: &Context) -> Result<Roles, AuthError> {
        self.change_roles(account, role, true, context).await
    }

    /// Revokes `role`; the account's roles after.
    pub async fn revoke_role(&self, account: &AccountId, role: Role, context: &Context) -> Result<Roles, AuthError> {
        self.change_roles(account, role, false, context).await
    }

    async fn change_roles(
        &self,
        id: &AccountId,
        role: Role,
        grant: bool,
        context: &Context,
    ) -> Result<Roles, AuthError> {
        let account = self.live_account(id).await?;
        let roles = if grant { account.roles.with(role) } else { account.roles.without(role) };
        if !self.store.set_roles(id, roles).await? {
            return Err(AuthError::AccountNotFound);
        }
        let kind = if grant { AuditKind::RoleGranted } else { AuditKind::RoleRevoked };
        self.record(AuditRecord::new(kind, Some(id), context, json!({ "role": role.as_str() }))).await;
        Ok(roles)
    }

    // ---------------------------------------------------------------- bans

    /// Bans `account` until `until_ms` (`None`: permanently): its refresh
    /// tokens are revoked, this node refuses its access tokens at once, the
    /// others at their next [`Identity::refresh_bans`].
    pub async fn ban(
        &self,
        account: &AccountId,
        reason: &str,
        until_ms: Option<UnixMillis>,
        context: &Context,
    ) -> Result<Ban, AuthError> {
        self.live_account(account).await?;
        let ban = Ban {
            account: account.clone(),
            reason: reason.to_string(),
            until_ms,
            by: context.actor.clone(),
            at_ms: now_ms(),
        };
        self.store.put_ban(&ban).await?;
        self.bans.insert(&ban);
        self.store.revoke_account_refresh(account).await?;
        let detail = json!({ "reason": reason, "until_ms": until_ms });
        self.record(AuditRecord::new(AuditKind::Ban, Some(account), context, detail)).await;
        Ok(ban)
    }

    // ---------------------------------------------------------- publishing

    /// Whether `session` may publish a version of `plugin`: an admin always;
    /// a publisher for a name it owns, or for a name nobody has published
    /// (`exists: false`), which it then owns (the first publisher owns a
    /// name; names the server loaded itself are the admins'). Anyone else:
    /// [`AuthError::RoleRequired`] or [`AuthError::NotOwner`].
    pub async fn authorize_publish(&self, session: &Session, plugin: &str, exists: bool) -> Result<(), AuthError> {
        if session.roles.contains(Role::Admin) {
            return Ok(());
        }
        if !session.roles.contains(Role::Publisher) {
            return Err(AuthError::RoleRequired("publisher"));
        }
        let owner = match self.store.plugin_owner(plugin).await? {
            Some(owner) => owner,
            None if !exists => self.store.claim_plugin(plugin, &session.account, now_ms()).await?,
            None => return Err(AuthError::NotOwner(plugin.to_string())),
        };
        if owner == session.account { Ok(()) } else { Err(AuthError::NotOwner(plugin.to_string())) }
    }

    /// The owner of a plugin name, if a publisher claimed it.
    pub async fn plugin_owner(&self, plugin: &str) -> Result<Option<AccountId>, AuthError> {
        self.store.plugin_owner(plugin).await
    }

    /// Records a published version in the audit trail (`account`: the
    /// publisher; `None` for the admin token).
    pub async fn record_publish(&self, account: Option<&AccountId>, plugin: &str, version: &str, context: &Context) {
        let detail = json!({ "plugin": plugin, "version": version });
        self.record(AuditRecord::new(AuditKind::Publish, account, context, detail)).await;
    }

    /// Lifts a ban; false when there was none.
    pub async fn unban(&self, account: &AccountId, context: &Context) -> Result<bool, AuthError> {
        let lifted = self.store.remove_ban(account).await?;
        self.bans.remove(account);
        if lifted {
            self.record(AuditRecord::new(AuditKind::Unban, Some(account), context, json!({}))).await;
        }
        Ok(lifted)
    }

    /// The bans in force, from the store.
    pub async fn list_bans(&self) -> Result<Vec<Ban>, AuthError> {
        self.store.active_bans(now_ms()).await
    }

    /// Records an admin's reset of a leaderboard period (the host's ladder
    /// applies it), with an audit event.
    pub async fn reset_board(&self, reset: &BoardReset, context: &Context) -> Result<(), AuthError> {
        self.store.put_board_reset(reset).await?;
        let detail = json!({
            "game": reset.game,
            "mode": reset.mode,
            "board": reset.board,
            "period": reset.period,
            "at_ms": reset.at_ms,
        });
        self.record(AuditRecord::new(AuditKind::BoardReset, None, context, detail)).await;
        Ok(())
    }

    /// Every leaderboard reset, from the store.
    pub async fn board_resets(&self) -> Result<Vec<BoardReset>, AuthError> {
        self.store.board_resets().await
    }

    // ------------------------------------------------------------- privacy

    /// Deletes `account`: credentials, refresh tokens, parties and the
    /// profile go (the row stays, deleted, so the id is never reused). The
    /// account can no longer sign in or refresh, and a ban without end
    /// (reason `account deleted`) stops the access tokens already issued on
    /// every node at its next ban reload, so nothing new is played under
    /// the id. The host renames the id in archived games first
    /// ([`crate::new_pseudonym`]).
    pub async fn delete_account(&self, account: &AccountId, context: &Context) -> Result<(), AuthError> {
        if !self.store.delete_account(account).await? {
            return Err(AuthError::AccountNotFound);
        }
        let ban = Ban {
            account: account.clone(),
            reason: crate::bans::DELETED_REASON.into(),
            until_ms: None,
            by: None,
            at_ms: now_ms(),
        };
        self.store.put_ban(&ban).await?;
        self.bans.insert(&ban);
        self.record(AuditRecord::new(AuditKind::AccountDeleted, Some(account), context, json!({}))).await;
        Ok(())
    }

    // ------------------------------------------------------------- parties

    /// A new party led by `leader`, and its invite (shown once).
    pub async fn create_party(&self, leader: &AccountId) -> Result<(Party, String), AuthError> {
        let id = PartyId::generate();
        let invite = party::new_invite();
        self.store.create_party(&id, leader, &sha256_hex(invite.as_bytes()), now_ms()).await?;
        Ok((self.party_for(id.as_str(), leader).await?, invite))
    }

    /// Joins `account` to the party the invite opens. An unknown party and
    /// a wrong invite are the same `party_not_found`.
    pub async fn join_party(&self, party: &str, invite: &str, account: &AccountId) -> Result<Party, AuthError> {
        let id = PartyId::parse(party).ok_or(AuthError::PartyNotFound)?;
        let (found, invite_hash) = self.store.party(&id).await?.ok_or(AuthError::PartyNotFound)?;
        let given = sha256_hex(invite.as_bytes());
        if !bool::from(given.as_bytes().ct_eq(invite_hash.as_bytes())) {
            return Err(AuthError::PartyNotFound);
        }
        if found.has_member(account) {
            return Ok(found);
        }
        self.store.add_party_member(&id, account, MAX_PARTY_MEMBERS, now_ms()).await?;
        self.party_for(party, account).await
    }

    /// The party, for one of its members (anyone else: `party_not_found`).
    pub async fn party_for(&self, party: &str, account: &AccountId) -> Result<Party, AuthError> {
        let id = PartyId::parse(party).ok_or(AuthError::PartyNotFound)?;
        match self.store.party(&id).await? {
            Some((found, _)) if found.has_member(account) => Ok(found),
            _ => Err(AuthError::PartyNotFound),
        }
    }

    /// The party its leader queues (`not_party_leader` for other members).
    pub async fn party_to_queue(&self, party: &str, account: &AccountId) -> Result<Party, AuthError> {
        let found = self.party_for(party, account).await?;
        if &found.leader != account {
            return Err(AuthError::NotPartyLeader);
        }
        Ok(found)
    }

    /// Records the ticket the leader queued the party with.
    pub async fn set_party_ticket(&self, party: &PartyId, ticket: &PartyTicket) -> Result<(), AuthError> {
        self.store.set_party_ticket(party, ticket).await
    }

    /// Takes `account` out of the party (the leader leaving disbands it).
    pub async fn leave_party(&self, party: &str, account: &AccountId) -> Result<(), AuthError> {
        let id = PartyId::parse(party).ok_or(AuthError::PartyNotFound)?;
        if !self.store.remove_party_member(&id, account).await? {
            return Err(AuthError::PartyNotFound);
        }
        Ok(())
    }

    // --------------------------------------------------------------- audit

    /// A page of the audit trail.
    pub async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, AuthError> {
        self.store.query_audit(query).await
    }

    /// Emits the event (tracing target `audit`) and appends it to the
    /// store; a failed append is logged, not returned, so an audit outage
    /// does not undo what already happened.
    async fn record(&self, record: AuditRecord) {
        record.emit();
        if let Err(error) = self.store.append_audit(&record).await {
            tracing::error!(target: "audit", kind = record.kind.as_str(), %error, "could not store an audit event");
        }
    }
}

fn new_account(id: AccountId, display_name: String) -> Account {
    Account { id, display_name, roles: Roles::DEFAULT, created_at_ms: now_ms(), deleted: false }
}
