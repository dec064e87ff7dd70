//! What every Arcade Lambda handler binary shares:
//!
//! - [`serve`]: the rest of `main` once the handler is open: invocations
//!   from the Runtime API until the environment shuts down;
//! - [`init_failed`]: how a handler that cannot start says why;
//! - [`EventError`]: an event that is not one the handler serves, with a
//!   stable `errorType`, and [`describe`] for its message.

use std::future::Future;
use std::process::ExitCode;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;

/// Serves invocations with `handle` until the Runtime API shuts the
/// environment down. An `Err` is posted as the invocation's error
/// response; the process keeps serving.
pub async fn serve<F, Fut, E>(handle: F) -> ExitCode
where
    F: FnMut(LambdaEvent<Value>) -> Fut,
    Fut: Future<Output = Result<Value, E>>,
    E: Into<Diagnostic> + std::fmt::Debug,
{
    match lambda_runtime::run(service_fn(handle)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the Lambda runtime stopped");
            ExitCode::FAILURE
        }
    }
}

/// An unusable configuration or an unreachable backend at start: exiting
/// makes Lambda report `Runtime.ExitError`, with this line in the
/// function's log.
pub fn init_failed(handler: &str, problem: &str) -> ExitCode {
    eprintln!("arcade {handler}: cannot start: {problem}");
    ExitCode::FAILURE
}

/// An event the handler does not serve. Retrying cannot help.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// None of the event sources the handler serves.
    #[error("unrecognized event: {0}")]
    UnknownEvent(String),
    /// Says it comes from a source the handler serves, without its shape.
    #[error("malformed {source_name} event: {detail}")]
    MalformedEvent { source_name: &'static str, detail: String },
}

impl EventError {
    /// The `errorType` CloudWatch metrics and failure destinations see.
    pub fn error_type(&self) -> &'static str {
        match self {
            EventError::UnknownEvent(_) => "Arcade.UnknownEvent",
            EventError::MalformedEvent { .. } => "Arcade.MalformedEvent",
        }
    }
}

impl From<EventError> for Diagnostic {
    fn from(error: EventError) -> Diagnostic {
        Diagnostic { error_type: error.error_type().to_string(), error_message: error.to_string() }
    }
}

/// The `source` of the inputs the EventBridge schedules in
/// `infra/terraform/modules/stack/lambdas.tf` send: `{"source":
/// "arcade.schedule", "action": …}`.
pub const SCHEDULE_SOURCE: &str = "arcade.schedule";

/// Checks a schedule's own input (its `source` already read as
/// [`SCHEDULE_SOURCE`]): exactly the keys `source` and `action`, and the
/// `action` this function runs.
pub fn check_schedule_input(payload: &Value, action: &str) -> Result<(), EventError> {
    let problem = |detail: String| EventError::MalformedEvent { source_name: SCHEDULE_SOURCE, detail };
    let Some(fields) = payload.as_object() else {
        return Err(problem(format!("{}; the input is {{\"source\", \"action\"}}", describe(payload))));
    };
    if let Some(other) = fields.keys().find(|k| !matches!(k.as_str(), "source" | "action")) {
        return Err(problem(format!("unknown field {other:?}; the input is {{\"source\", \"action\"}} only")));
    }
    match fields.get("action") {
        Some(Value::String(given)) if given == action => Ok(()),
        Some(other) => Err(problem(format!("action {other}; this function runs \"{action}\""))),
        None => Err(problem(format!("no action; this function runs \"{action}\""))),
    }
}

/// A short description of an unexpected payload, for error messages.
pub fn describe(payload: &Value) -> String {
    match payload {
        Value::Object(map) => {
            let keys: Vec<&str> = map.keys().take(8).map(String::as_str).collect();
            format!("an object with keys {keys:?}")
        }
        Value::Array(items) => format!("an array of {} items", items.len()),
        Value::String(_) => "a string".into(),
        Value::Number(_) => "a number".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Null => "null".into(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn unknown_events_name_what_arrived() {
        let error = EventError::UnknownEvent(describe(&json!({ "detail-type": "x", "source": "y" })));
        assert_eq!(error.to_string(), r#"unrecognized event: an object with keys ["detail-type", "source"]"#);
        assert_eq!(Diagnostic::from(error).error_type, "Arcade.UnknownEvent");
        assert_eq!(describe(&json!([1, 2])), "an array of 2 items");
    }
}
