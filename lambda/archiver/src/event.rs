//! Which event an invocation carries. The function is subscribed to an SQS
//! queue (whose messages may themselves be S3 notifications: `message`) and
//! to an S3 inbox; both deliver `{"Records": [...]}` and name
//! themselves in each record's `eventSource` (`aws:sqs`, `aws:s3`). A daily
//! EventBridge rule sends the input `infra/terraform` sets on its target,
//! `{"source": "arcade.schedule", "action": "expire-archive"}` ([`SCHEDULE_SOURCE`],
//! [`EXPIRE_ARCHIVE`]; exactly these two keys): one retention run. Anything
//! else is an `UnknownEvent` error, not a guess; an `arcade.schedule` input
//! with another action or other keys is a `MalformedEvent` naming what it
//! should be.

use aws_lambda_events::event::s3::S3Event;
use aws_lambda_events::event::sqs::SqsEvent;
use serde_json::Value;

pub use arcade_lambda_common::SCHEDULE_SOURCE;
use arcade_lambda_common::{EventError, check_schedule_input, describe};

#[derive(Debug)]
pub enum Event {
    Sqs(SqsEvent),
    S3(S3Event),
    /// The scheduled retention run.
    ExpireArchive,
}

const SQS: &str = "aws:sqs";
const S3: &str = "aws:s3";
/// The one scheduled `action` of this function: a retention run.
pub const EXPIRE_ARCHIVE: &str = "expire-archive";

impl Event {
    pub fn classify(payload: Value) -> Result<Event, EventError> {
        if payload.get("source").and_then(Value::as_str) == Some(SCHEDULE_SOURCE) {
            return schedule_input(&payload);
        }
        let records = payload.get("Records").and_then(Value::as_array).filter(|r| !r.is_empty());
        let Some(records) = records else {
            return Err(EventError::UnknownEvent(format!(
                "expected an SQS or S3 event with a non-empty \"Records\" list; got {}",
                describe(&payload)
            )));
        };
        let source_of = |record: &Value| record.get("eventSource").and_then(Value::as_str).map(str::to_string);
        let source = source_of(&records[0]);
        if let Some(other) = records.iter().map(source_of).find(|s| *s != source) {
            return Err(EventError::UnknownEvent(format!(
                "records from different sources in one event ({source:?} and {other:?})"
            )));
        }
        let malformed =
            |source_name| move |e: serde_json::Error| EventError::MalformedEvent { source_name, detail: e.to_string() };
        match source.as_deref() {
            Some(SQS) => serde_json::from_value(payload).map(Event::Sqs).map_err(malformed("SQS")),
            Some(S3) => serde_json::from_value(payload).map(Event::S3).map_err(malformed("S3")),
            other => Err(EventError::UnknownEvent(format!(
                "records with eventSource {other:?}; this function handles {SQS:?} and {S3:?}"
            ))),
        }
    }
}

/// The schedule's own input: exactly `{"source": "arcade.schedule", "action": "expire-archive"}`.
fn schedule_input(payload: &Value) -> Result<Event, EventError> {
    check_schedule_input(payload, EXPIRE_ARCHIVE).map(|()| Event::ExpireArchive)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn sqs_and_s3_events_are_told_apart() {
        let sqs = json!({"Records": [{"messageId": "m1", "body": "{}", "eventSource": "aws:sqs"}]});
        assert!(matches!(Event::classify(sqs), Ok(Event::Sqs(e)) if e.records[0].message_id.as_deref() == Some("m1")));

        let s3 = json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2026-01-01T00:00:00.000Z", "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "p"}, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "inbox",
                   "bucket": {"name": "inbox", "arn": "arn:aws:s3:::inbox"},
                   "object": {"key": "games/g1.json.zst", "size": 10}}
        }]});
        assert!(
            matches!(Event::classify(s3), Ok(Event::S3(e)) if e.records[0].s3.object.key.as_deref() == Some("games/g1.json.zst"))
        );
    }

    #[test]
    fn the_schedule_input_is_a_retention_run_and_other_actions_are_refused() {
        // The input the Terraform sets on the archive-expiry rule's target
        // (tests/all/lambda.rs reads it out of infra/terraform/modules/stack/lambdas.tf).
        let input = json!({"source": "arcade.schedule", "action": "expire-archive"});
        assert!(matches!(Event::classify(input), Ok(Event::ExpireArchive)));
        let cases = [
            (json!({"source": "arcade.schedule", "action": "run-matches"}), "action \"run-matches\""),
            (json!({"source": "arcade.schedule"}), "no action"),
            (json!({"source": "arcade.schedule", "action": "expire-archive", "days": 1}), "unknown field \"days\""),
        ];
        for (payload, mention) in cases {
            let error = Event::classify(payload.clone()).unwrap_err();
            assert_eq!(error.error_type(), "Arcade.MalformedEvent", "{payload}: {error:?}");
            let message = error.to_string();
            assert!(message.contains(mention) && message.contains("arcade.schedule"), "{payload}: {message}");
        }
    }

    #[test]
    fn other_payloads_are_errors_naming_the_problem() {
        let cases = [
            (json!({"hello": "world"}), "UnknownEvent", "keys [\"hello\"]"),
            (json!({"Records": []}), "UnknownEvent", "non-empty"),
            (json!([1, 2]), "UnknownEvent", "an array of 2"),
            (json!({"Records": [{"eventSource": "aws:sns"}]}), "UnknownEvent", "aws:sns"),
            (
                json!({"Records": [{"eventSource": "aws:sqs"}, {"eventSource": "aws:s3"}]}),
                "UnknownEvent",
                "different sources",
            ),
            (json!({"Records": [{"eventSource": "aws:sqs", "body": 7}]}), "MalformedEvent", "SQS"),
            (json!({"Records": [{"eventSource": "aws:s3", "s3": "nope"}]}), "MalformedEvent", "S3"),
        ];
        for (payload, kind, mention) in cases {
            let error = Event::classify(payload.clone()).unwrap_err();
            assert!(error.error_type().ends_with(kind), "{payload}: {error:?}");
            assert!(error.to_string().contains(mention), "{payload}: {error} should mention {mention}");
        }
    }
}
