//! Why an invocation failed as a whole. The runtime posts these to
//! `/invocation/{id}/error`; `error_type` is what CloudWatch metrics and
//! failure destinations see, so each kind has a stable name.
//!
//! A single bad SQS message is not an invocation error: it is reported in
//! the batch response (`sqs`) and the rest of the batch succeeds.

use arcade_lambda_common::EventError;
use lambda_runtime::Diagnostic;

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Neither an SQS nor an S3 event nor the schedule's input, or one of the wrong shape.
    #[error(transparent)]
    Event(#[from] EventError),
    /// Some records could not be archived; a retry of the event is safe
    /// (archiving is idempotent) and may succeed.
    #[error("{} of {total} records not archived: {}", failures.len(), failures.join("; "))]
    ArchiveFailed { total: usize, failures: Vec<String> },
    /// The scheduled retention run failed (the games deleted before the
    /// failure stay deleted: each batch is its own transaction); the next
    /// run, or EventBridge's retry, continues.
    #[error("archive retention run failed: {0}")]
    RetentionFailed(String),
}

impl HandlerError {
    pub fn error_type(&self) -> &'static str {
        match self {
            HandlerError::Event(event) => event.error_type(),
            HandlerError::ArchiveFailed { .. } => "Arcade.ArchiveFailed",
            HandlerError::RetentionFailed(_) => "Arcade.RetentionFailed",
        }
    }
}

impl From<HandlerError> for Diagnostic {
    fn from(error: HandlerError) -> Diagnostic {
        Diagnostic { error_type: error.error_type().to_string(), error_message: error.to_string() }
    }
}
