//! Why an invocation failed as a whole. The runtime posts these to
//! `/invocation/{id}/error`; `error_type` is what CloudWatch metrics and
//! failure destinations see, so each kind has a stable name.
//!
//! An HTTP request the API refuses (bad body, unknown ticket, unknown route)
//! is not an invocation error: it is an HTTP answer with the host's error
//! body (`http`).

use lambda_runtime::Diagnostic;

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Neither an API Gateway request nor a scheduled event: retrying
    /// cannot help.
    #[error("unrecognized event: {0}")]
    UnknownEvent(String),
    /// Says it is an API Gateway or scheduled event but does not have that shape.
    #[error("malformed {source_name} event: {detail}")]
    MalformedEvent { source_name: &'static str, detail: String },
}

impl HandlerError {
    pub fn error_type(&self) -> &'static str {
        match self {
            HandlerError::UnknownEvent(_) => "Arcade.UnknownEvent",
            HandlerError::MalformedEvent { .. } => "Arcade.MalformedEvent",
        }
    }
}

impl From<HandlerError> for Diagnostic {
    fn from(error: HandlerError) -> Diagnostic {
        Diagnostic { error_type: error.error_type().to_string(), error_message: error.to_string() }
    }
}
