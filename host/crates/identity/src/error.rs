//! The one error type of the crate: [`AuthError`], each variant with a
//! stable machine-readable [`AuthError::code`] and an HTTP status. Messages
//! never carry a secret (a token, a password, a hash): only what was wrong.

/// Why an identity operation was refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    // Access tokens (and external identity tokens).
    #[error("the token is not a well-formed JWT with the expected claims")]
    TokenMalformed,
    #[error("the token's signing algorithm is not accepted")]
    TokenAlgorithmRefused,
    #[error("the token was signed with an unknown key")]
    TokenUnknownKey,
    #[error("the token's signature does not match")]
    TokenBadSignature,
    #[error("the token has expired")]
    TokenExpired,
    #[error("the token was issued by another issuer")]
    TokenWrongIssuer,
    #[error("the token was issued for another audience")]
    TokenWrongAudience,

    // Refresh tokens.
    #[error("unknown refresh token")]
    RefreshTokenInvalid,
    #[error("the refresh token has expired")]
    RefreshTokenExpired,
    #[error("the refresh token was revoked")]
    RefreshTokenRevoked,
    #[error("the refresh token was already used; its session has been revoked")]
    RefreshTokenReused,

    // Accounts and sign-in.
    #[error("the account is banned")]
    AccountBanned { until_ms: Option<u64> },
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("device ids are 16 to 128 printable ASCII characters")]
    InvalidDeviceId,
    #[error("usernames are 3 to 32 letters, digits, '_', '-' or '.'")]
    InvalidUsername,
    #[error("passwords are 8 to 128 characters")]
    InvalidPassword,
    #[error("display names must be 1-32 characters without control, bidirectional-override or zero-width characters")]
    InvalidDisplayName,
    #[error("unknown role {0:?} (roles: player, publisher, admin)")]
    InvalidRole(String),
    #[error("the username is taken")]
    UsernameTaken,
    #[error("this sign-in method already belongs to another account")]
    CredentialInUse,
    #[error("the account already has a sign-in method of this kind")]
    MethodAlreadyLinked,
    #[error("no such account")]
    AccountNotFound,
    #[error("this needs the {0} role")]
    RoleRequired(&'static str),
    #[error("plugin {0:?} belongs to another publisher")]
    NotOwner(String),

    // Parties.
    #[error("no such party (or not one of yours)")]
    PartyNotFound,
    #[error("the account is already in a party; leave it first")]
    AlreadyInParty,
    #[error("the party is full ({0} members)")]
    PartyFull(usize),
    #[error("only the party's leader may do this")]
    NotPartyLeader,

    // External identity provider.
    #[error("no external identity provider is configured")]
    OidcNotConfigured,
    #[error("the identity provider's keys could not be fetched: {0}")]
    OidcUnavailable(String),

    // The server side.
    #[error("identity configuration: {0}")]
    Config(String),
    #[error("identity store: {0}")]
    Store(String),
    #[error("identity internal error: {0}")]
    Internal(String),
}

impl AuthError {
    /// The stable machine-readable code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::TokenMalformed => "token_malformed",
            AuthError::TokenAlgorithmRefused => "token_algorithm_refused",
            AuthError::TokenUnknownKey => "token_unknown_key",
            AuthError::TokenBadSignature => "token_bad_signature",
            AuthError::TokenExpired => "token_expired",
            AuthError::TokenWrongIssuer => "token_wrong_issuer",
            AuthError::TokenWrongAudience => "token_wrong_audience",
            AuthError::RefreshTokenInvalid => "refresh_token_invalid",
            AuthError::RefreshTokenExpired => "refresh_token_expired",
            AuthError::RefreshTokenRevoked => "refresh_token_revoked",
            AuthError::RefreshTokenReused => "refresh_token_reused",
            AuthError::AccountBanned { .. } => "account_banned",
            AuthError::InvalidCredentials => "invalid_credentials",
            AuthError::InvalidDeviceId => "invalid_device_id",
            AuthError::InvalidUsername => "invalid_username",
            AuthError::InvalidPassword => "invalid_password",
            AuthError::InvalidDisplayName => "invalid_display_name",
            AuthError::InvalidRole(_) => "invalid_role",
            AuthError::UsernameTaken => "username_taken",
            AuthError::CredentialInUse => "credential_in_use",
            AuthError::MethodAlreadyLinked => "method_already_linked",
            AuthError::AccountNotFound => "account_not_found",
            AuthError::RoleRequired(_) => "role_required",
            AuthError::NotOwner(_) => "not_owner",
            AuthError::PartyNotFound => "party_not_found",
            AuthError::AlreadyInParty => "already_in_party",
            AuthError::PartyFull(_) => "party_full",
            AuthError::NotPartyLeader => "not_party_leader",
            AuthError::OidcNotConfigured => "oidc_not_configured",
            AuthError::OidcUnavailable(_) => "oidc_unavailable",
            AuthError::Config(_) => "identity_config",
            AuthError::Store(_) => "identity_store_unavailable",
            AuthError::Internal(_) => "internal_error",
        }
    }

    /// The HTTP status a route answers with: 401 for anything that means
    /// "who are you?", 403 for a banned account, 400 for invalid input,
    /// 409 for conflicts, 5xx for the server's own failures.
    pub fn http_status(&self) -> u16 {
        match self {
            AuthError::TokenMalformed
            | AuthError::TokenAlgorithmRefused
            | AuthError::TokenUnknownKey
            | AuthError::TokenBadSignature
            | AuthError::TokenExpired
            | AuthError::TokenWrongIssuer
            | AuthError::TokenWrongAudience
            | AuthError::RefreshTokenInvalid
            | AuthError::RefreshTokenExpired
            | AuthError::RefreshTokenRevoked
            | AuthError::RefreshTokenReused
            | AuthError::InvalidCredentials => 401,
            AuthError::AccountBanned { .. }
            | AuthError::RoleRequired(_)
            | AuthError::NotOwner(_)
            | AuthError::NotPartyLeader => 403,
            // Well-formed requests whose values break a rule: 422, as the
            // rest of the API answers them.
            AuthError::InvalidDeviceId
            | AuthError::InvalidUsername
            | AuthError::InvalidPassword
            | AuthError::InvalidDisplayName
            | AuthError::InvalidRole(_) => 422,
            AuthError::AccountNotFound | AuthError::OidcNotConfigured | AuthError::PartyNotFound => 404,
            AuthError::UsernameTaken
            | AuthError::CredentialInUse
            | AuthError::MethodAlreadyLinked
            | AuthError::AlreadyInParty
            | AuthError::PartyFull(_) => 409,
            AuthError::OidcUnavailable(_) | AuthError::Store(_) => 503,
            AuthError::Config(_) | AuthError::Internal(_) => 500,
        }
    }
}

impl From<sqlx::Error> for AuthError {
    /// sqlx errors name the failing operation or server message, never the
    /// bound values, so no secret reaches the message.
    fn from(error: sqlx::Error) -> Self {
        AuthError::Store(error.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for AuthError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        AuthError::Store(format!("migrations: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_statuses_sensible() {
        let all = [
            AuthError::TokenMalformed,
            AuthError::TokenAlgorithmRefused,
            AuthError::TokenUnknownKey,
            AuthError::TokenBadSignature,
            AuthError::TokenExpired,
            AuthError::TokenWrongIssuer,
            AuthError::TokenWrongAudience,
            AuthError::RefreshTokenInvalid,
            AuthError::RefreshTokenExpired,
            AuthError::RefreshTokenRevoked,
            AuthError::RefreshTokenReused,
            AuthError::AccountBanned { until_ms: None },
            AuthError::InvalidCredentials,
            AuthError::InvalidDeviceId,
            AuthError::InvalidUsername,
            AuthError::InvalidPassword,
            AuthError::InvalidDisplayName,
            AuthError::InvalidRole("x".into()),
            AuthError::UsernameTaken,
            AuthError::CredentialInUse,
            AuthError::MethodAlreadyLinked,
            AuthError::AccountNotFound,
            AuthError::RoleRequired("publisher"),
            AuthError::NotOwner("x".into()),
            AuthError::PartyNotFound,
            AuthError::AlreadyInParty,
            AuthError::PartyFull(8),
            AuthError::NotPartyLeader,
            AuthError::OidcNotConfigured,
            AuthError::OidcUnavailable("x".into()),
            AuthError::Config("x".into()),
            AuthError::Store("x".into()),
            AuthError::Internal("x".into()),
        ];
        let codes: std::collections::HashSet<_> = all.iter().map(AuthError::code).collect();
        assert_eq!(codes.len(), all.len());
        assert_eq!(AuthError::AccountBanned { until_ms: None }.http_status(), 403);
        assert_eq!(AuthError::TokenExpired.http_status(), 401);
        assert!(all.iter().all(|e| (400..600).contains(&e.http_status())));
    }
}
