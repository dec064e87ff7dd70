//! Which event an invocation carries, told apart by shape:
//!
//! - API Gateway HTTP API, payload format 2.0: `"version": "2.0"` and a
//!   `requestContext.http`;
//! - API Gateway REST API (payload 1.0): `httpMethod` and a `requestContext`;
//! - EventBridge schedule, either of two forms, both one matching round:
//!   - the rule's target input that `infra/terraform` sets,
//!     `{"source": "arcade.schedule", "action": "run-matches"}`
//!     ([`SCHEDULE_SOURCE`], [`RUN_MATCHES`]; exactly these two keys);
//!   - no target input: EventBridge's own envelope, `"source": "aws.events"`,
//!     `"detail-type": "Scheduled Event"`.
//!
//! Anything else is an `UnknownEvent` error, not a guess; an
//! `arcade.schedule` input with another action or other keys is a
//! `MalformedEvent` naming what it should be.

use std::collections::HashMap;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayV2httpRequest};
use aws_lambda_events::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

use arcade_lambda_common::{EventError, check_schedule_input, describe};

/// `source` of the scheduled input `infra/terraform` gives the match-run rule's target.
pub use arcade_lambda_common::SCHEDULE_SOURCE;
/// The one `action` of that input: a matching round.
pub const RUN_MATCHES: &str = "run-matches";

#[derive(Debug)]
pub enum Event {
    Http(Box<HttpRequest>),
    Scheduled,
}

/// Which API Gateway payload format a request came in (and its answer goes out in).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadFormat {
    /// HTTP API, payload format 2.0.
    V2,
    /// REST API (or HTTP API payload format 1.0).
    V1,
}

/// An API Gateway request, whichever the format.
#[derive(Debug)]
pub struct HttpRequest {
    pub format: PayloadFormat,
    pub method: String,
    /// The route path, without the stage (`/v1/matchmaking/tickets`).
    pub path: String,
    pub headers: HeaderMap,
    /// The claims of the JWT the API Gateway authorizer verified (none on
    /// routes without an authorizer).
    pub claims: HashMap<String, String>,
    /// The body, base64-decoded if API Gateway encoded it; `Err` when that
    /// encoding is broken.
    pub body: Result<Vec<u8>, String>,
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Event {
    pub fn classify(payload: Value) -> Result<Event, EventError> {
        let text = |name: &str| payload.get(name).and_then(Value::as_str);
        let context = payload.get("requestContext").filter(|c| c.is_object());
        if text("version") == Some("2.0") && context.is_some_and(|c| c.get("http").is_some()) {
            let request: ApiGatewayV2httpRequest =
                serde_json::from_value(payload).map_err(malformed("API Gateway v2"))?;
            return Ok(Event::Http(Box::new(HttpRequest::from_v2(request))));
        }
        if payload.get("httpMethod").is_some() && context.is_some() {
            let request: ApiGatewayProxyRequest = serde_json::from_value(payload).map_err(malformed("API Gateway"))?;
            return Ok(Event::Http(Box::new(HttpRequest::from_v1(request))));
        }
        if text("source") == Some(SCHEDULE_SOURCE) {
            return schedule_input(&payload);
        }
        if text("source") == Some("aws.events") {
            return match text("detail-type") {
                Some("Scheduled Event") => Ok(Event::Scheduled),
                other => Err(EventError::UnknownEvent(format!(
                    "an EventBridge event of detail-type {other:?}; this function handles \"Scheduled Event\""
                ))),
            };
        }
        Err(EventError::UnknownEvent(format!(
            "expected an API Gateway request or a scheduled round (the {SCHEDULE_SOURCE} input or an EventBridge \
             Scheduled Event); got {}",
            describe(&payload)
        )))
    }
}

/// The schedule's own input: exactly `{"source": "arcade.schedule", "action": "run-matches"}`.
fn schedule_input(payload: &Value) -> Result<Event, EventError> {
    check_schedule_input(payload, RUN_MATCHES).map(|()| Event::Scheduled)
}

fn malformed(source_name: &'static str) -> impl Fn(serde_json::Error) -> EventError {
    move |e| EventError::MalformedEvent { source_name, detail: e.to_string() }
}

fn decode_body(body: Option<String>, base64: bool) -> Result<Vec<u8>, String> {
    let body = body.unwrap_or_default();
    if base64 {
        BASE64.decode(body.as_bytes()).map_err(|e| format!("the body is not valid base64: {e}"))
    } else {
        Ok(body.into_bytes())
    }
}

impl HttpRequest {
    fn from_v2(request: ApiGatewayV2httpRequest) -> HttpRequest {
        let http = &request.request_context.http;
        let raw_path = request.raw_path.clone().or_else(|| http.path.clone()).unwrap_or_default();
        // A named stage is part of the path of an HTTP API (`/prod/v1/...`);
        // the `$default` stage is not.
        let stage = request.request_context.stage.as_deref().filter(|s| !s.is_empty() && *s != "$default");
        let path = match stage.and_then(|s| raw_path.strip_prefix('/')?.strip_prefix(s)) {
            Some(rest) if rest.starts_with('/') => rest.to_string(),
            _ => raw_path,
        };
        let claims = request.request_context.authorizer.and_then(|a| a.jwt).map(|jwt| jwt.claims).unwrap_or_default();
        HttpRequest {
            format: PayloadFormat::V2,
            method: http.method.as_str().to_string(),
            path,
            body: decode_body(request.body, request.is_base64_encoded),
            headers: request.headers,
            claims,
        }
    }

    fn from_v1(request: ApiGatewayProxyRequest) -> HttpRequest {
        HttpRequest {
            format: PayloadFormat::V1,
            method: request.http_method.as_str().to_string(),
            // The resource path; the stage is only in `requestContext.path`.
            path: request.path.unwrap_or_default(),
            body: decode_body(request.body, request.is_base64_encoded),
            headers: request.headers,
            // A REST API's Cognito or JWT authorizer: `requestContext.authorizer.claims`.
            claims: match request.request_context.authorizer.fields.get("claims") {
                Some(Value::Object(claims)) => claims
                    .iter()
                    .filter_map(|(name, value)| Some((name.clone(), value.as_str()?.to_string())))
                    .collect(),
                _ => HashMap::new(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn v2(method: &str, raw_path: &str, stage: &str) -> Value {
        json!({
            "version": "2.0", "routeKey": "$default", "rawPath": raw_path, "rawQueryString": "",
            "headers": {"content-type": "application/json"},
            "requestContext": {"stage": stage, "http": {"method": method, "path": raw_path}},
            "body": "eyJnYW1lIjoieCJ9", "isBase64Encoded": true,
        })
    }

    #[test]
    fn http_api_requests_lose_their_stage() {
        let Ok(Event::Http(request)) = Event::classify(v2("POST", "/prod/v1/matchmaking/tickets", "prod")) else {
            panic!("not an HTTP request")
        };
        assert_eq!((request.format, request.method.as_str()), (PayloadFormat::V2, "POST"));
        assert_eq!(request.path, "/v1/matchmaking/tickets");
        assert_eq!(request.body.as_deref(), Ok(&br#"{"game":"x"}"#[..]));
        assert_eq!(request.header("Content-Type"), Some("application/json"));

        let Ok(Event::Http(request)) = Event::classify(v2("GET", "/v1/matchmaking/queues", "$default")) else {
            panic!("not an HTTP request")
        };
        assert_eq!(request.path, "/v1/matchmaking/queues");
    }

    #[test]
    fn rest_api_requests_are_understood() {
        let event = json!({
            "resource": "/{proxy+}", "path": "/v1/matchmaking/tickets/abc", "httpMethod": "DELETE",
            "headers": null, "body": null, "isBase64Encoded": false,
            "requestContext": {"stage": "v1", "path": "/v1/v1/matchmaking/tickets/abc", "httpMethod": "DELETE"},
        });
        let Ok(Event::Http(request)) = Event::classify(event) else { panic!("not an HTTP request") };
        assert_eq!((request.format, request.method.as_str()), (PayloadFormat::V1, "DELETE"));
        assert_eq!(request.path, "/v1/matchmaking/tickets/abc");
        assert_eq!(request.body.as_deref(), Ok(&b""[..]));
    }

    #[test]
    fn a_schedule_is_a_round() {
        let event = json!({"version": "0", "id": "e", "detail-type": "Scheduled Event", "source": "aws.events",
                           "time": "2026-01-01T00:00:00Z", "resources": [], "detail": {}});
        assert!(matches!(Event::classify(event), Ok(Event::Scheduled)));
        // The input the Terraform sets on the rule's target (the end-to-end
        // test reads it out of infra/terraform/modules/stack/lambdas.tf).
        let input = json!({"source": "arcade.schedule", "action": "run-matches"});
        assert!(matches!(Event::classify(input), Ok(Event::Scheduled)));
    }

    #[test]
    fn schedule_inputs_other_than_run_matches_are_refused() {
        let cases = [
            (json!({"source": "arcade.schedule", "action": "drop-queues"}), "\"drop-queues\""),
            (json!({"source": "arcade.schedule", "action": 1}), "action 1"),
            (json!({"source": "arcade.schedule"}), "no action"),
            (json!({"source": "arcade.schedule", "action": "run-matches", "queue": "x"}), "unknown field \"queue\""),
        ];
        for (payload, mention) in cases {
            let error = Event::classify(payload.clone()).unwrap_err();
            assert_eq!(error.error_type(), "Arcade.MalformedEvent", "{payload}: {error:?}");
            let message = error.to_string();
            assert!(message.contains(mention) && message.contains("arcade.schedule"), "{payload}: {message}");
            assert!(message.contains("run-matches") || mention.starts_with("unknown"), "{payload}: {message}");
        }
    }

    #[test]
    fn other_payloads_are_errors_naming_the_problem() {
        let cases = [
            (json!({"hello": "world"}), "UnknownEvent", "keys [\"hello\"]"),
            (json!({"source": "arcade.scheduler", "action": "run-matches"}), "UnknownEvent", "scheduled round"),
            (json!({"action": "run-matches"}), "UnknownEvent", "arcade.schedule input"),
            (json!([1, 2]), "UnknownEvent", "an array of 2"),
            (json!("ping"), "UnknownEvent", "a string"),
            (json!({"source": "aws.events", "detail-type": "EC2 Instance State-change"}), "UnknownEvent", "EC2"),
            (json!({"Records": [{"eventSource": "aws:sqs"}]}), "UnknownEvent", "Records"),
            (json!({"version": "2.0", "requestContext": {"http": {"method": 7}}}), "MalformedEvent", "v2"),
            (json!({"httpMethod": "GET", "requestContext": {}}), "MalformedEvent", "API Gateway"),
        ];
        for (payload, kind, mention) in cases {
            let error = Event::classify(payload.clone()).unwrap_err();
            assert!(error.error_type().ends_with(kind), "{payload}: {error:?}");
            assert!(error.to_string().contains(mention), "{payload}: {error} should mention {mention}");
        }
    }
}
