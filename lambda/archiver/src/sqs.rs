//! SQS batches of finished games, answered with a partial batch response:
//! `{"batchItemFailures": [{"itemIdentifier": "<messageId>"}, ...]}` lists
//! the messages that are invalid or whose write failed, so SQS deletes the
//! others and re-delivers only these (until the queue's `maxReceiveCount`
//! moves them to its dead-letter queue). Needs
//! `FunctionResponseTypes: ["ReportBatchItemFailures"]` on the event source
//! mapping; without it SQS would delete the whole batch.
//!
//! A message carries a game record or an S3 event notification naming
//! record objects (`message`); the objects of all the batch's notifications
//! are fetched by `inbox::fetch_games`, and the games of all its messages
//! are written in one `Archive::write`. A notification message fails if any
//! of its objects cannot be fetched, decoded or archived (the others are
//! archived all the same; the re-delivery skips them); one naming no
//! created object, and S3's `s3:TestEvent`, are acknowledged.
//!
//! The S3 archive the games are written to is usually the bucket that
//! notified: a game already in its catalog (the host's manifest is written)
//! is not rewritten. If the notification outruns the host's manifest, the
//! sink rewrites the record (same content) and writes a manifest of its
//! own; the notification of that rewrite then finds the game archived.

use arcade_archive::GameRecord;
use arcade_lambda_common::EventError;
use aws_lambda_events::event::s3::S3Event;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_s3::Client;

use crate::archive::Archive;
use crate::error::HandlerError;
use crate::inbox::{self, Fetched, ObjectRef};
use crate::message::{Body, decode_body};

/// One message of the batch: its games (with the object each came from,
/// for a notification) and why it fails, if it does.
struct Message {
    id: String,
    games: Vec<(Option<ObjectRef>, GameRecord)>,
    failures: Vec<String>,
}

/// `client` reads the objects S3 notifications name.
pub async fn handle(event: SqsEvent, archive: &Archive, client: &Client) -> Result<SqsBatchResponse, HandlerError> {
    let mut messages = Vec::with_capacity(event.records.len());
    let mut notifications: Vec<(usize, S3Event)> = Vec::new();
    for (index, message) in event.records.into_iter().enumerate() {
        // A failure must name its message; without an id only failing the
        // whole invocation gets the message retried.
        let id = message.message_id.filter(|id| !id.is_empty()).ok_or_else(|| EventError::MalformedEvent {
            source_name: "SQS",
            detail: format!("record {index} has no messageId"),
        })?;
        let mut entry = Message { id, games: Vec::new(), failures: Vec::new() };
        match decode_body(message.body.as_deref().unwrap_or_default()) {
            Ok(Body::Game(game)) => entry.games.push((None, *game)),
            Ok(Body::S3Notification(event)) => notifications.push((messages.len(), event)),
            Ok(Body::S3TestEvent { bucket }) => {
                tracing::info!(message_id = %entry.id, ?bucket, "S3 test event: nothing to archive, acknowledged");
            }
            Err(reason) => entry.failures.push(reason),
        }
        messages.push(entry);
    }

    if !notifications.is_empty() {
        let events: Vec<&[_]> = notifications.iter().map(|(_, event)| event.records.as_slice()).collect();
        let fetched = inbox::fetch_games(&events, client).await;
        for ((owner, _), Fetched { games, failures }) in notifications.iter().zip(fetched) {
            let message = &mut messages[*owner];
            if games.is_empty() && failures.is_empty() {
                tracing::info!(message_id = %message.id, "S3 notification names no created object; acknowledged");
            }
            message.games.extend(games.into_iter().map(|(object, game)| (Some(object), game)));
            message.failures.extend(failures);
        }
    }

    let mut owners = Vec::new();
    let mut sources = Vec::new();
    let mut games = Vec::new();
    for (owner, message) in messages.iter_mut().enumerate() {
        // Even the games of a message that fails (one of its objects is
        // missing, say): its re-delivery skips what is archived now.
        for (object, game) in message.games.drain(..) {
            owners.push(owner);
            sources.push(object);
            games.push(game);
        }
    }
    let outcomes = archive.write(&games).await;
    for (((owner, object), game), outcome) in owners.into_iter().zip(&sources).zip(&games).zip(outcomes) {
        let message = &mut messages[owner];
        let object = object.as_ref().map(ToString::to_string);
        let game_id = game.game_id.as_str();
        match outcome {
            None => tracing::info!(message_id = %message.id, game_id, object = object.as_deref(), "archived"),
            Some(reason) => message.failures.push(match object {
                Some(object) => format!("{object} (game {game_id}): {reason}"),
                None => format!("game {game_id}: {reason}"),
            }),
        }
    }

    let mut response = SqsBatchResponse::default();
    for message in messages {
        if !message.failures.is_empty() {
            let reason = message.failures.join("; ");
            tracing::warn!(message_id = %message.id, %reason, "not archived");
            response.add_failure(message.id);
        }
    }
    Ok(response)
}
