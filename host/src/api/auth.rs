//! Accounts and sessions: sign-in (guest device, username + password, an
//! external OIDC token), refresh, logout, the caller's own account (read,
//! rename, link another sign-in method, delete), and the admin routes for
//! roles, bans and the audit trail.
//!
//! [`Caller`] is the extractor of every route that acts for a player: a
//! valid access token (`Authorization: Bearer`), checked in memory
//! (signature, expiry, ban snapshot). Sign-in routes count against the
//! caller's IP, and a password sign-in also against the username, after
//! the body is validated; a failed token check counts against the IP.

use std::net::IpAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};

use super::client_ip::ClientIp;
use super::{ApiError, App, bearer, same_secret};
use arcade_cluster::ratelimit::Policy;
use arcade_identity::{Account, AccountId, AuditKind, AuditQuery, Ban, Context, RefreshToken, Role, Session, SignedIn};

/// The signed-in player a request acts for.
pub struct Caller(pub Session);

impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers).ok_or_else(ApiError::missing_token)?;
        match app.identity.verify(token) {
            Ok(session) => Ok(Caller(session)),
            Err(e) => {
                let ip = ClientIp::from_request_parts(parts, app).await.unwrap_or_else(|never| match never {});
                app.limit(Policy::Ip, &ip.0).await?;
                Err(e.into())
            }
        }
    }
}

pub(super) fn context(ip: &ClientIp, actor: Option<&AccountId>) -> Context {
    let ip = ip.0.parse::<IpAddr>().ok();
    match actor {
        Some(actor) => Context::by(actor, ip),
        None => Context::anonymous(ip),
    }
}

/// What a sign-in or refresh answers: 201 when it created the account,
/// else 200, with the tokens and who they are for.
fn signed_in(signed: &SignedIn) -> (StatusCode, Json<Value>) {
    let status = if signed.created { StatusCode::CREATED } else { StatusCode::OK };
    (status, Json(session_json(signed)))
}

fn session_json(signed: &SignedIn) -> Value {
    json!({
        "account": session_account(&signed.session),
        "access_token": signed.access_token,
        "token_type": "Bearer",
        "expires_at": signed.session.expires_at,
        "refresh_token": signed.refresh_token.expose(),
        "created": signed.created,
    })
}

fn session_account(session: &Session) -> Value {
    json!({
        "id": session.account.as_str(),
        "display_name": session.name,
        "roles": session.roles,
    })
}

fn account_json(account: &Account) -> Value {
    json!({
        "id": account.id.as_str(),
        "display_name": account.display_name,
        "roles": account.roles,
        "created_at_ms": account.created_at_ms,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceSignIn {
    device_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordSignIn {
    username: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalSignIn {
    id_token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refresh {
    refresh_token: String,
}

/// `POST /v1/auth/guest`: the account of a device id, created on first use.
pub async fn guest(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    body: Result<Json<DeviceSignIn>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(req) = body?;
    app.limit(Policy::Ip, &ip.0).await?;
    let signed = app.identity.sign_in_device(&req.device_id, &context(&ip, None)).await?;
    Ok(signed_in(&signed))
}

/// `POST /v1/auth/register`: a new account with a username and password.
pub async fn register(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    body: Result<Json<PasswordSignIn>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(req) = body?;
    app.limit(Policy::Ip, &ip.0).await?;
    let signed = app.identity.register(&req.username, &req.password, &context(&ip, None)).await?;
    Ok(signed_in(&signed))
}

/// `POST /v1/auth/login`: username + password. A wrong password and an
/// unknown username are the same `invalid_credentials`, at the same cost.
pub async fn login(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    body: Result<Json<PasswordSignIn>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(req) = body?;
    app.limit(Policy::Ip, &ip.0).await?;
    // Per username too (lowercased, bounded: the key is not a way to fill
    // the limiter), so one account cannot be guessed at from many addresses.
    let key: String = req.username.trim().to_lowercase().chars().take(64).collect();
    app.limit(Policy::Player, &format!("login:{key}")).await?;
    let signed = app.identity.sign_in_password(&req.username, &req.password, &context(&ip, None)).await?;
    Ok(signed_in(&signed))
}

/// `POST /v1/auth/external`: an ID token of the configured OIDC provider.
pub async fn external(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    body: Result<Json<ExternalSignIn>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(req) = body?;
    app.limit(Policy::Ip, &ip.0).await?;
    let signed = app.identity.sign_in_external(&req.id_token, &context(&ip, None)).await?;
    Ok(signed_in(&signed))
}

/// `POST /v1/auth/refresh`: a new access token and a new refresh token (the
/// one sent is used up; sent again, it revokes the whole session).
pub async fn refresh(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    body: Result<Json<Refresh>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(req) = body?;
    app.limit(Policy::Ip, &ip.0).await?;
    let token = RefreshToken::from_client(req.refresh_token);
    let signed = app.identity.refresh(&token, &context(&ip, None)).await?;
    Ok(signed_in(&signed))
}

/// `POST /v1/auth/logout`: ends the caller's session (its refresh tokens).
pub async fn logout(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    Caller(session): Caller,
) -> Result<StatusCode, ApiError> {
    app.identity.logout(&session, &context(&ip, Some(&session.account))).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/account`: the caller's own profile.
pub async fn me(State(app): State<Arc<App>>, Caller(session): Caller) -> Result<Json<Value>, ApiError> {
    let account = app.identity.account(&session.account).await?.filter(|a| !a.deleted);
    let account = account.ok_or(arcade_identity::AuthError::AccountNotFound)?;
    Ok(Json(account_json(&account)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountChange {
    display_name: String,
}

/// `PATCH /v1/account`: a new display name (the id never changes).
pub async fn update(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    Caller(session): Caller,
    body: Result<Json<AccountChange>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(req) = body?;
    let context = context(&ip, Some(&session.account));
    app.identity.set_display_name(&session.account, &req.display_name, &context).await?;
    me(State(app), Caller(session)).await
}

/// A sign-in method to add to the caller's account.
#[derive(Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Link {
    Device { device_id: String },
    Password { username: String, password: String },
    External { id_token: String },
}

/// `POST /v1/account/links`: the caller's account gets another way in.
pub async fn link(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    Caller(session): Caller,
    body: Result<Json<Link>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(req) = body?;
    let (identity, account, context) = (&app.identity, &session.account, context(&ip, Some(&session.account)));
    match req {
        Link::Device { device_id } => identity.link_device(account, &device_id, &context).await?,
        Link::Password { username, password } => {
            identity.link_password(account, &username, &password, &context).await?
        }
        Link::External { id_token } => identity.link_external(account, &id_token, &context).await?,
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /v1/account`: the caller's id is replaced by a fresh pseudonym
/// in every archived game (which keeps replaying), then the profile,
/// credentials, parties and sessions are removed.
pub async fn delete(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    Caller(session): Caller,
) -> Result<StatusCode, ApiError> {
    // The archive first: a failure there deletes nothing, and trying again
    // renames what is left (games in this node's spool delivered before).
    let pseudonym = arcade_identity::new_pseudonym();
    let erased = async {
        if let Some(archiver) = &app.services.archiver {
            archiver.flush().await?;
        }
        app.archive.pseudonymise(session.account.as_str(), &pseudonym).await
    };
    let renamed = erased.await.map_err(|error| {
        tracing::error!(%error, "could not rename a deleted account's archived games");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "archive_unavailable",
            "the archive could not be updated; the account is not deleted, try again",
        )
    })?;
    app.identity.delete_account(&session.account, &context(&ip, Some(&session.account))).await?;
    tracing::info!(games = renamed, "a deleted account's archived games were renamed");
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- admin

/// Admin calls: the admin token, or the session of an account with the
/// `admin` role (the actor in the audit trail).
pub(super) fn admin(app: &App, headers: &HeaderMap, ip: &ClientIp) -> Result<Context, ApiError> {
    match admin_token_or_session(app, headers, "admin")? {
        None => Ok(context(ip, None)),
        Some(session) if session.roles.contains(Role::Admin) => Ok(context(ip, Some(&session.account))),
        Some(_) => Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "this needs the admin role")),
    }
}

/// Who publishes: the admin token (`None`), or a session with the
/// `publisher` or `admin` role (checked before a byte of the body is read;
/// which names it may publish is decided once the component names itself).
pub(super) fn publisher(app: &App, headers: &HeaderMap) -> Result<Option<Session>, ApiError> {
    let session = admin_token_or_session(app, headers, "admin or session")?;
    if session.as_ref().is_some_and(|s| !(s.roles.contains(Role::Publisher) || s.roles.contains(Role::Admin))) {
        return Err(arcade_identity::AuthError::RoleRequired("publisher").into());
    }
    Ok(session)
}

/// Who makes a call the admin token or a role may make: the admin token
/// (`None`) or a valid session (its roles are the caller's to check); a
/// missing token is `missing_token`, any other is `invalid_token` (`what`).
pub(super) fn admin_token_or_session(app: &App, headers: &HeaderMap, what: &str) -> Result<Option<Session>, ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::missing_token)?;
    if same_secret(token, &app.config.admin_token) {
        return Ok(None);
    }
    app.identity.verify(token).map(Some).map_err(|_| ApiError::invalid_token(what))
}

fn account_id(text: &str) -> Result<AccountId, ApiError> {
    AccountId::parse(text).ok_or_else(|| ApiError::from(arcade_identity::AuthError::AccountNotFound))
}

fn role(text: &str) -> Result<Role, ApiError> {
    Ok(Role::parse(text)?)
}

/// `PUT /admin/accounts/{id}/roles/{role}`: grants a role.
pub async fn grant_role(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    headers: HeaderMap,
    Path((id, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let context = admin(&app, &headers, &ip)?;
    let roles = app.identity.grant_role(&account_id(&id)?, role(&name)?, &context).await?;
    Ok(Json(json!({ "roles": roles })))
}

/// `DELETE /admin/accounts/{id}/roles/{role}`: revokes a role.
pub async fn revoke_role(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    headers: HeaderMap,
    Path((id, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let context = admin(&app, &headers, &ip)?;
    let roles = app.identity.revoke_role(&account_id(&id)?, role(&name)?, &context).await?;
    Ok(Json(json!({ "roles": roles })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BanRequest {
    reason: String,
    /// Unix milliseconds; absent: until lifted.
    #[serde(default, deserialize_with = "arcade_protocol::whole_number::option")]
    until_ms: Option<u64>,
}

const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

fn ban_json(ban: &Ban) -> Value {
    json!({
        "account": ban.account.as_str(),
        "reason": ban.reason,
        "until_ms": ban.until_ms,
        "by": ban.by.as_ref().map(AccountId::as_str),
        "at_ms": ban.at_ms,
    })
}

/// `PUT /admin/accounts/{id}/ban`: the account's sessions stop working (on
/// this node at once, on the others at their next ban reload).
pub async fn ban(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<BanRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let context = admin(&app, &headers, &ip)?;
    let Json(req) = body?;
    // Timestamps stay exact in every JSON reader (2^53 - 1 ms is year 287,396).
    if req.until_ms.is_some_and(|t| t > MAX_SAFE_INTEGER) {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", "until_ms: at most 2^53 - 1"));
    }
    if req.reason.chars().count() > 500 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "reason: at most 500 characters",
        ));
    }
    let ban = app.identity.ban(&account_id(&id)?, &req.reason, req.until_ms, &context).await?;
    Ok(Json(ban_json(&ban)))
}

/// `DELETE /admin/accounts/{id}/ban`: lifts a ban (404 `not_banned`).
pub async fn unban(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let context = admin(&app, &headers, &ip)?;
    if app.identity.unban(&account_id(&id)?, &context).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(StatusCode::NOT_FOUND, "not_banned", "this account is not banned"))
    }
}

/// `GET /admin/bans`: every ban, lifted ones excluded.
pub async fn bans(State(app): State<Arc<App>>, ip: ClientIp, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    admin(&app, &headers, &ip)?;
    let bans = app.identity.list_bans().await?;
    Ok(Json(json!({ "bans": bans.iter().map(ban_json).collect::<Vec<_>>() })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    account: Option<String>,
    kind: Option<String>,
    after: Option<u64>,
    limit: Option<u32>,
}

/// `GET /admin/audit?account=&kind=&after=&limit=`: the audit trail, oldest
/// first, paged by event id (`next_after`).
pub async fn audit(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    headers: HeaderMap,
    query: Result<Query<AuditParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    admin(&app, &headers, &ip)?;
    let Query(params) = query?;
    let invalid = |what: &str| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", what.to_string());
    let account =
        params.account.as_deref().map(|a| AccountId::parse(a).ok_or_else(|| invalid("account: not an account id")));
    let kind =
        params.kind.as_deref().map(|k| AuditKind::parse(k).ok_or_else(|| invalid("kind: not an audit event kind")));
    let limit = params.limit.unwrap_or(100);
    if !(1..=AuditQuery::MAX_LIMIT).contains(&limit) {
        return Err(invalid("limit: 1 to 1000"));
    }
    let after = params.after.map(|a| i64::try_from(a).map_err(|_| invalid("after: at most 2^63 - 1"))).transpose()?;
    let query = AuditQuery { account: account.transpose()?, kind: kind.transpose()?, after, limit };
    let events = app.identity.audit(&query).await?;
    let next_after = events.last().map(|e| e.id);
    let events: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({
                "id": e.id,
                "at_ms": e.at_ms,
                "kind": e.kind,
                "account": e.account.as_ref().map(AccountId::as_str),
                "actor": e.actor.as_ref().map(AccountId::as_str),
                "ip": e.ip,
                "detail": e.detail,
            })
        })
        .collect();
    Ok(Json(json!({ "events": events, "next_after": next_after })))
}
