//! API errors: an HTTP status plus a JSON body
//! `{"error": {"code": "...", "message": "..."}}` with a stable code.

use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::header::{LOCATION, RETRY_AFTER};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::plugin_ui::UiError;
use crate::registry::{AttachUiError, PublishError, ResolveError, YankError};
use crate::room::RoomError;
use crate::room_directory::CreateError;
use crate::sandbox::LoadError;
use arcade_cluster::matchmaking::MatchmakingError;
use arcade_cluster::ratelimit::{Policy, RetryAfter};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// `Retry-After` of a 429, `Location` of a 307.
    pub header: Option<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), header: None }
    }

    /// 429 with `Retry-After` in whole seconds.
    pub fn rate_limited(policy: Policy, retry_after: RetryAfter) -> Self {
        let seconds = retry_after.header_seconds();
        ApiError {
            header: Some((RETRY_AFTER, HeaderValue::from(seconds))),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("the {policy} rate limit is exceeded; retry after {} ms", retry_after.0.as_millis()),
            )
        }
    }

    /// 307 to the same request at `location` (another node runs the room).
    pub fn moved(location: &str) -> Self {
        let header = HeaderValue::from_str(location).ok().map(|value| (LOCATION, value));
        ApiError {
            header,
            ..Self::new(StatusCode::TEMPORARY_REDIRECT, "room_moved", format!("the room is at {location}"))
        }
    }

    /// 410: the node running the room stopped heartbeating.
    pub fn room_lost(id: &str, node: &str) -> Self {
        Self::new(
            StatusCode::GONE,
            "room_lost",
            format!("room {id:?} was on node {node}, which stopped; it comes back only if that node restarts"),
        )
    }

    pub fn room_not_found(id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "room_not_found", format!("no room {id:?}"))
    }

    pub fn missing_token() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "missing_token", "send `Authorization: Bearer <token>`")
    }

    /// 403: a valid session whose account holds no seat in the room.
    pub fn not_seated(room: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, "not_seated", format!("this account holds no seat in room {room:?}"))
    }

    pub fn invalid_token(what: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, "invalid_token", format!("the {what} token is not valid"))
    }

    /// A rejected request body; `limit_code` names the size limit that applies.
    pub fn body(rejection: BytesRejection, limit_code: &'static str) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::new(StatusCode::PAYLOAD_TOO_LARGE, limit_code, rejection.body_text())
        } else {
            Self::new(rejection.status(), "invalid_body", rejection.body_text())
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": { "code": self.code, "message": self.message } });
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some((name, value)) = self.header {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let (status, code) = match &rejection {
            JsonRejection::JsonSyntaxError(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            JsonRejection::JsonDataError(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
            JsonRejection::MissingJsonContentType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            JsonRejection::BytesRejection(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                (StatusCode::PAYLOAD_TOO_LARGE, "request_too_large")
            }
            _ => (rejection.status(), "invalid_request"),
        };
        ApiError::new(status, code, rejection.body_text())
    }
}

/// A query string that does not fit the route's parameters: 400 `invalid_query`.
impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", rejection.body_text())
    }
}

/// A request to a WebSocket route that is not a WebSocket handshake (no
/// `Connection: Upgrade`, `Upgrade: websocket`, `Sec-WebSocket-Version: 13`
/// or `Sec-WebSocket-Key`): 400 `not_a_websocket_handshake` (426 where the
/// connection cannot be upgraded at all).
impl From<WebSocketUpgradeRejection> for ApiError {
    fn from(rejection: WebSocketUpgradeRejection) -> Self {
        ApiError::new(rejection.status(), "not_a_websocket_handshake", rejection.body_text())
    }
}

impl From<RoomError> for ApiError {
    fn from(e: RoomError) -> Self {
        let status = match &e {
            RoomError::InvalidToken => StatusCode::FORBIDDEN,
            RoomError::Action(crate::sandbox::ActionError::NotAPlayer) => StatusCode::FORBIDDEN,
            RoomError::Action(crate::sandbox::ActionError::Malformed(_))
            | RoomError::Action(crate::sandbox::ActionError::Illegal(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            RoomError::Aborted(_) => StatusCode::GONE,
            RoomError::Closed => StatusCode::NOT_FOUND,
            _ => StatusCode::CONFLICT,
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl From<arcade_protocol::names::InvalidName> for ApiError {
    fn from(e: arcade_protocol::names::InvalidName) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_name", e.to_string())
    }
}

impl From<CreateError> for ApiError {
    fn from(e: CreateError) -> Self {
        match e {
            CreateError::TooManyRooms(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "too_many_rooms", e.to_string())
            }
            CreateError::Draining => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "draining", e.to_string()),
            CreateError::NoCapacity(_) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no_capacity", e.to_string()),
            CreateError::InvalidSeats { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_seats", e.to_string())
            }
            CreateError::InvalidConfig(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_config", e.to_string())
            }
            CreateError::InvalidName(e) => e.into(),
            CreateError::DuplicateName(_) => ApiError::new(StatusCode::CONFLICT, "duplicate_player", e.to_string()),
            CreateError::Room(e) => e.into(),
        }
    }
}

impl From<ResolveError> for ApiError {
    fn from(e: ResolveError) -> Self {
        let (status, code) = match &e {
            ResolveError::UnknownPlugin(_) | ResolveError::UnknownVersion(..) => {
                (StatusCode::NOT_FOUND, "plugin_not_found")
            }
            ResolveError::Yanked { .. } => (StatusCode::GONE, "plugin_version_yanked"),
            ResolveError::AllYanked(_) => (StatusCode::GONE, "plugin_yanked"),
        };
        ApiError::new(status, code, e.to_string())
    }
}

impl From<YankError> for ApiError {
    fn from(e: YankError) -> Self {
        match e {
            YankError::Resolve(e) => e.into(),
            YankError::Storage(_) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "storage_error", e.to_string()),
        }
    }
}

impl From<PublishError> for ApiError {
    fn from(e: PublishError) -> Self {
        let (status, code) = match &e {
            PublishError::Load(LoadError::ForbiddenImport(_)) => (StatusCode::UNPROCESSABLE_ENTITY, "forbidden_import"),
            PublishError::Load(LoadError::InvalidComponent(_)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_component")
            }
            PublishError::Load(LoadError::WrongWorld(_)) => (StatusCode::UNPROCESSABLE_ENTITY, "wrong_world"),
            PublishError::Load(LoadError::InvalidInfo(_)) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_game_info"),
            PublishError::Load(LoadError::Fault(_)) => (StatusCode::UNPROCESSABLE_ENTITY, "plugin_fault"),
            PublishError::Load(LoadError::MemoryLimitTooLarge { .. }) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "memory_limit_too_large")
            }
            PublishError::VersionConflict { .. } => (StatusCode::CONFLICT, "version_exists"),
            PublishError::MemoryLimitConflict { .. } => (StatusCode::CONFLICT, "memory_limit_conflict"),
            PublishError::Storage(_) => (StatusCode::INTERNAL_SERVER_ERROR, "storage_error"),
            PublishError::Refused(refused) => return refused.clone().into(),
        };
        ApiError::new(status, code, e.to_string())
    }
}

impl From<MatchmakingError> for ApiError {
    fn from(e: MatchmakingError) -> Self {
        let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError::new(status, e.code(), e.to_string())
    }
}

/// Identity refusals keep their code and status; store and provider
/// failures are logged here and answered without their detail.
impl From<arcade_identity::AuthError> for ApiError {
    fn from(e: arcade_identity::AuthError) -> Self {
        use arcade_identity::AuthError;
        let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = match &e {
            AuthError::Store(_) | AuthError::Internal(_) | AuthError::Config(_) => {
                tracing::error!(error = %e, "identity service failed");
                "the identity service failed; try again".to_string()
            }
            _ => e.to_string(),
        };
        ApiError::new(status, e.code(), message)
    }
}

impl From<AttachUiError> for ApiError {
    fn from(e: AttachUiError) -> Self {
        let (status, code) = match &e {
            AttachUiError::Resolve(_) => (StatusCode::NOT_FOUND, "plugin_not_found"),
            AttachUiError::Invalid(UiError::TooLarge { .. } | UiError::AssetsTooLarge { .. }) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "ui_too_large")
            }
            AttachUiError::Invalid(UiError::NotAModule(_)) => (StatusCode::UNPROCESSABLE_ENTITY, "ui_not_a_module"),
            AttachUiError::Invalid(UiError::BadAssetName(_)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_asset_name")
            }
            AttachUiError::Invalid(UiError::AssetTypeNotAllowed(_)) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "asset_type_not_allowed")
            }
            AttachUiError::Invalid(UiError::TooManyAssets(_)) => (StatusCode::CONFLICT, "too_many_assets"),
            AttachUiError::Conflict { .. } => (StatusCode::CONFLICT, "ui_conflict"),
            AttachUiError::Storage(_) => (StatusCode::INTERNAL_SERVER_ERROR, "storage_error"),
        };
        ApiError::new(status, code, e.to_string())
    }
}
