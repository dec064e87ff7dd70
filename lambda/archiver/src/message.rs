//! The body of an SQS message: one finished game, in either of two forms,
//! or an S3 event notification naming games stored in S3.
//!
//! - JSON of a `GameRecord` (the body starts with `{`): readable, for
//!   producers that do not link the host crate; SQS caps a message at
//!   256 KiB, which long games can exceed.
//! - Base64 (standard alphabet, padded) of the compressed storage form
//!   `GameRecord::to_compressed` writes (`ARCG` header + zstd JSON):
//!   typically 5-10x smaller.
//! - An S3 event notification, as S3 sends one to a queue
//!   (`{"Records": [{"eventSource": "aws:s3", "eventName":
//!   "ObjectCreated:Put", "s3": {"bucket": .., "object": ..}}, ..]}`): the
//!   objects it names are compressed records (the S3 archive's
//!   `<prefix>/<yyyy>/<mm>/<dd>/<game_id>.json.zst`, or an inbox upload),
//!   fetched and archived by `inbox`.
//! - S3's `{"Service": "Amazon S3", "Event": "s3:TestEvent", ..}`, sent
//!   once when a notification is configured: nothing to archive.
//!
//! A base64 text never contains `{`, so the first non-blank character
//! tells base64 from JSON; a JSON object with a `Records` list is a
//! notification, one whose `Event` is `s3:TestEvent` a test event, any
//! other a game record, which must pass `GameRecord::validate`.

use arcade_archive::GameRecord;
use aws_lambda_events::event::s3::S3Event;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

/// What one message body carries.
#[derive(Debug)]
pub enum Body {
    /// A finished game, validated.
    Game(Box<GameRecord>),
    /// An S3 event notification whose records all come from `aws:s3`.
    S3Notification(S3Event),
    /// S3's test message for a new notification configuration (its bucket).
    S3TestEvent { bucket: Option<String> },
}

const S3_TEST_EVENT: &str = "s3:TestEvent";

/// Decodes one message body (and validates a game record in it); the error
/// says what is wrong.
pub fn decode_body(body: &str) -> Result<Body, String> {
    let body = body.trim();
    if !body.starts_with('{') {
        let bytes =
            STANDARD.decode(body).map_err(|e| format!("neither JSON nor base64 of a compressed game record: {e}"))?;
        return valid(GameRecord::from_compressed(&bytes).map_err(|e| e.to_string())?);
    }
    let json: Value = serde_json::from_str(body).map_err(|e| format!("not a game record (JSON): {e}"))?;
    if json.get("Records").is_some() {
        return s3_notification(json).map(Body::S3Notification);
    }
    if json.get("Event").and_then(Value::as_str) == Some(S3_TEST_EVENT) {
        let bucket = json.get("Bucket").and_then(Value::as_str).map(str::to_string);
        return Ok(Body::S3TestEvent { bucket });
    }
    valid(serde_json::from_value(json).map_err(|e| format!("not a game record (JSON): {e}"))?)
}

fn valid(record: GameRecord) -> Result<Body, String> {
    record.validate().map_err(|e| e.to_string())?;
    Ok(Body::Game(Box::new(record)))
}

fn s3_notification(json: Value) -> Result<S3Event, String> {
    let event: S3Event = serde_json::from_value(json).map_err(|e| format!("not an S3 event notification: {e}"))?;
    if let Some(other) = event.records.iter().find(|r| r.event_source.as_deref() != Some("aws:s3")) {
        return Err(format!(
            "a \"Records\" list with eventSource {:?}; only S3 event notifications are handled",
            other.event_source
        ));
    }
    Ok(event)
}

#[cfg(test)]
pub(crate) mod tests {
    use arcade_archive::{FinalViews, PluginRef, RECORD_FORMAT_VERSION};
    use arcade_protocol::RoomStatus;
    use serde_json::json;

    use super::*;

    pub(crate) fn record(game_id: &str) -> GameRecord {
        GameRecord {
            format_version: RECORD_FORMAT_VERSION,
            game_id: game_id.into(),
            room_id: "room-1".into(),
            plugin: PluginRef { name: "tic-tac-toe".into(), version: "1.0.0".into(), hash: "ab".repeat(32) },
            config: "{}".into(),
            players: vec!["ann".into(), "bob".into()],
            seed: arcade_protocol::seed::Seed::SplitMix64(7),
            seat_token_sha256: Default::default(),
            log: vec![],
            events: vec![],
            started_at_ms: 1_000,
            completed_at_ms: 2_000,
            mode: None,
            status: RoomStatus::aborted("player_left", "bob left"),
            final_views: FinalViews::default(),
        }
    }

    #[test]
    fn json_and_base64_compressed_bodies_decode_to_the_same_record() {
        let game = record("g-1");
        let json = serde_json::to_string(&game).unwrap();
        let base64 = STANDARD.encode(game.to_compressed().unwrap());
        assert!(matches!(decode_body(&json), Ok(Body::Game(g)) if *g == game));
        assert!(matches!(decode_body(&format!("\n{base64}\n")), Ok(Body::Game(g)) if *g == game));
    }

    #[test]
    fn s3_notifications_and_test_events_are_recognized() {
        let notification = json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2026-01-01T00:00:00.000Z", "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "p"}, "requestParameters": {"sourceIPAddress": "10.0.0.1"},
            "responseElements": {"x-amz-request-id": "r"},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "finished-games",
                   "bucket": {"name": "archive", "arn": "arn:aws:s3:::archive"},
                   "object": {"key": "games/2026/01/01/g-1.json.zst", "size": 10, "versionId": "v1"}}
        }]});
        match decode_body(&notification.to_string()) {
            Ok(Body::S3Notification(event)) => {
                assert_eq!(event.records[0].s3.object.key.as_deref(), Some("games/2026/01/01/g-1.json.zst"));
                assert_eq!(event.records[0].s3.object.version_id.as_deref(), Some("v1"));
            }
            other => panic!("{other:?}"),
        }

        let test_event = json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-01-01T00:00:00.000Z",
                                "Bucket": "archive", "RequestId": "r", "HostId": "h"});
        let decoded = decode_body(&test_event.to_string());
        assert!(matches!(decoded, Ok(Body::S3TestEvent { bucket }) if bucket.as_deref() == Some("archive")));

        let sns = json!({"Records": [{"EventSource": "aws:sns", "Sns": {}}]});
        assert!(decode_body(&sns.to_string()).unwrap_err().contains("S3 event notification"));
        let other = json!({"Records": [{"eventSource": "aws:sqs", "eventTime": "2026-01-01T00:00:00Z",
            "userIdentity": {}, "requestParameters": {}, "s3": {"bucket": {}, "object": {}}}]});
        assert!(decode_body(&other.to_string()).unwrap_err().contains("aws:sqs"));
    }

    #[test]
    fn bad_bodies_are_rejected_with_a_reason() {
        let unfinished = GameRecord { status: RoomStatus::Playing { awaiting: vec![] }, ..record("g-2") };
        let cases = [
            ("{\"game_id\": 1}".to_string(), "not a game record"),
            ("hello, world".to_string(), "neither JSON nor base64"),
            ("{not json".to_string(), "not a game record"),
            (STANDARD.encode(b"not a record"), "bad magic"),
            (serde_json::to_string(&unfinished).unwrap(), "finished or aborted"),
            (serde_json::to_string(&record("../escape")).unwrap(), "game id"),
        ];
        for (body, reason) in cases {
            let error = decode_body(&body).unwrap_err();
            assert!(error.contains(reason), "{body}: {error:?} should mention {reason:?}");
        }
    }
}
