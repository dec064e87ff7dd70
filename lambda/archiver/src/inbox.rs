//! S3 inbox events: producers upload compressed game records
//! (`GameRecord::to_compressed`, the archive's own `.json.zst` form) to an
//! inbox bucket/prefix whose `s3:ObjectCreated:*` notifications invoke this
//! function. Each object is fetched (the exact version, when the bucket is
//! versioned), decoded, validated and archived like an SQS message.
//!
//! S3 has no partial failure: if any object cannot be fetched, decoded or
//! archived, the invocation fails (`ArchiveFailed`, naming each object) and
//! Lambda's asynchronous retries re-run the whole event; the games already
//! archived are skipped then. Non-`ObjectCreated` records are ignored.
//! Inbox objects are not deleted: an S3 lifecycle rule on the inbox expires
//! them.

use arcade_host::archive::GameRecord;
use aws_lambda_events::event::s3::{S3Event, S3EventRecord};
use aws_sdk_s3::Client;
use aws_sdk_s3::error::DisplayErrorContext;
use futures_util::StreamExt;
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use crate::archive::Archive;
use crate::error::HandlerError;

/// Objects fetched at once.
const CONCURRENT_FETCHES: usize = 16;

/// An object an event names.
#[derive(Debug, PartialEq, Eq)]
struct ObjectRef {
    bucket: String,
    key: String,
    version_id: Option<String>,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

pub async fn handle(event: S3Event, client: &Client, archive: &Archive) -> Result<Value, HandlerError> {
    let mut failures = Vec::new();
    let mut objects = Vec::new();
    for (index, record) in event.records.iter().enumerate() {
        match object_of(record) {
            Ok(Some(object)) => objects.push(object),
            Ok(None) => tracing::info!(event = ?record.event_name, "ignoring a record that is not ObjectCreated"),
            Err(reason) => failures.push(format!("record {index}: {reason}")),
        }
    }
    let total = objects.len() + failures.len();
    let fetches = objects.into_iter().map(|object| async move {
        let game = fetch(client, &object).await;
        (object, game)
    });
    let fetched: Vec<_> = futures_util::stream::iter(fetches).buffered(CONCURRENT_FETCHES).collect().await;
    let mut games = Vec::with_capacity(fetched.len());
    let mut sources = Vec::with_capacity(fetched.len());
    for (object, game) in fetched {
        match game {
            Ok(game) => {
                games.push(game);
                sources.push(object);
            }
            Err(reason) => failures.push(format!("{object}: {reason}")),
        }
    }
    let mut archived = Vec::with_capacity(games.len());
    for ((object, game), outcome) in sources.iter().zip(&games).zip(archive.write(&games).await) {
        match outcome {
            None => {
                tracing::info!(%object, game_id = %game.game_id, "archived");
                archived.push(game.game_id.as_str());
            }
            Some(reason) => failures.push(format!("{object} (game {}): {reason}", game.game_id)),
        }
    }
    if !failures.is_empty() {
        return Err(HandlerError::ArchiveFailed { total, failures });
    }
    Ok(json!({ "archived": archived }))
}

/// The object of an `ObjectCreated` record; `None` for other records.
fn object_of(record: &S3EventRecord) -> Result<Option<ObjectRef>, String> {
    if !record.event_name.as_deref().is_some_and(|name| name.starts_with("ObjectCreated:")) {
        return Ok(None);
    }
    let entity = &record.s3;
    let bucket = entity.bucket.name.clone().filter(|b| !b.is_empty()).ok_or("no bucket name")?;
    let key = entity.object.key.as_deref().filter(|k| !k.is_empty()).ok_or("no object key")?;
    Ok(Some(ObjectRef { bucket, key: decode_key(key)?, version_id: entity.object.version_id.clone() }))
}

/// Event keys are URL-encoded as in a form: `+` is a space, `%XX` a byte.
fn decode_key(key: &str) -> Result<String, String> {
    let spaced = key.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|e| format!("object key {key:?} is not UTF-8 once decoded: {e}"))
}

async fn fetch(client: &Client, object: &ObjectRef) -> Result<GameRecord, String> {
    let output = client
        .get_object()
        .bucket(&object.bucket)
        .key(&object.key)
        .set_version_id(object.version_id.clone())
        .send()
        .await
        .map_err(|e| format!("getting it: {}", DisplayErrorContext(e)))?;
    let bytes = output.body.collect().await.map_err(|e| format!("reading it: {e}"))?.into_bytes();
    let game = GameRecord::from_compressed(&bytes).map_err(|e| e.to_string())?;
    game.validate().map_err(|e| e.to_string())?;
    Ok(game)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(event_name: &str, bucket: &str, key: &str) -> S3EventRecord {
        serde_json::from_value(json!({
            "eventSource": "aws:s3", "eventTime": "2026-01-01T00:00:00Z", "eventName": event_name,
            "userIdentity": {}, "requestParameters": {}, "responseElements": {},
            "s3": {"bucket": {"name": bucket}, "object": {"key": key, "versionId": "v1"}}
        }))
        .unwrap()
    }

    #[test]
    fn created_objects_are_named_with_their_decoded_key() {
        let object = object_of(&record("ObjectCreated:Put", "inbox", "games/a+b%2Bc%C3%A9.json.zst")).unwrap();
        let expected =
            ObjectRef { bucket: "inbox".into(), key: "games/a b+cé.json.zst".into(), version_id: Some("v1".into()) };
        assert_eq!(object, Some(expected));
        assert_eq!(object_of(&record("ObjectRemoved:Delete", "inbox", "k")).unwrap(), None);
        assert!(object_of(&record("ObjectCreated:Copy", "", "k")).unwrap_err().contains("bucket"));
        assert!(object_of(&record("ObjectCreated:Copy", "inbox", "%FF")).unwrap_err().contains("UTF-8"));
    }
}
