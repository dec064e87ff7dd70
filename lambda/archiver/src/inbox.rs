//! S3 event records naming game records stored in S3, as they arrive
//! directly (an inbox bucket/prefix whose `s3:ObjectCreated:*`
//! notifications invoke this function) or wrapped in SQS messages (the
//! archive bucket notifying the finished-games queue of each record the
//! hosts write, `message::Body::S3Notification`). Each object is a
//! compressed game record (`GameRecord::to_compressed`, the archive's own
//! `.json.zst` form); it is fetched (the exact version, when the bucket is
//! versioned), decoded and validated by [`fetch_games`], the one function
//! both paths use, and then archived with the rest of its invocation.
//!
//! A direct S3 event has no partial failure: if any object cannot be
//! fetched, decoded or archived, the invocation fails (`ArchiveFailed`,
//! naming each object) and Lambda's asynchronous retries re-run the whole
//! event; the games already archived are skipped then. (In SQS, a failure
//! fails only its own message: `sqs`.) Non-`ObjectCreated` records are
//! ignored. Inbox objects are not deleted: an S3 lifecycle rule on the
//! inbox expires them.

use arcade_archive::GameRecord;
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
pub struct ObjectRef {
    bucket: String,
    key: String,
    version_id: Option<String>,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// What the records of one S3 event name.
#[derive(Debug, Default)]
pub struct Fetched {
    /// The games of its `ObjectCreated` objects, in record order.
    pub games: Vec<(ObjectRef, GameRecord)>,
    /// Why a record names no usable object (`record <i>: ..`) or an object
    /// holds no game (`s3://bucket/key: ..`).
    pub failures: Vec<String>,
}

/// Fetches and decodes the objects the `ObjectCreated` records of each
/// event name (all events' objects together, [`CONCURRENT_FETCHES`] at a
/// time); one [`Fetched`] per event, in order. Other records are logged and
/// skipped.
pub async fn fetch_games(events: &[&[S3EventRecord]], client: &Client) -> Vec<Fetched> {
    let mut fetched: Vec<Fetched> = events.iter().map(|_| Fetched::default()).collect();
    let mut objects = Vec::new();
    for (event, records) in events.iter().enumerate() {
        for (index, record) in records.iter().enumerate() {
            match object_of(record) {
                Ok(Some(object)) => objects.push((event, object)),
                Ok(None) => tracing::info!(event = ?record.event_name, "ignoring a record that is not ObjectCreated"),
                Err(reason) => fetched[event].failures.push(format!("record {index}: {reason}")),
            }
        }
    }
    let fetches = objects.into_iter().map(|(event, object)| async move {
        let game = fetch(client, &object).await;
        (event, object, game)
    });
    let mut results = futures_util::stream::iter(fetches).buffered(CONCURRENT_FETCHES);
    while let Some((event, object, game)) = results.next().await {
        match game {
            Ok(game) => fetched[event].games.push((object, game)),
            Err(reason) => fetched[event].failures.push(format!("{object}: {reason}")),
        }
    }
    fetched
}

/// A direct S3 event: `{"archived": [game ids]}`, or `ArchiveFailed`.
pub async fn handle(event: S3Event, client: &Client, archive: &Archive) -> Result<Value, HandlerError> {
    let Fetched { games, mut failures } =
        fetch_games(&[&event.records], client).await.pop().expect("one outcome per event");
    let total = games.len() + failures.len();
    let (sources, games): (Vec<ObjectRef>, Vec<GameRecord>) = games.into_iter().unzip();
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
