//! SQS batches of finished games, answered with a partial batch response:
//! `{"batchItemFailures": [{"itemIdentifier": "<messageId>"}, ...]}` lists
//! the messages that are invalid or whose write failed, so SQS deletes the
//! others and re-delivers only these (until the queue's `maxReceiveCount`
//! moves them to its dead-letter queue). Needs
//! `FunctionResponseTypes: ["ReportBatchItemFailures"]` on the event source
//! mapping; without it SQS would delete the whole batch.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};

use crate::archive::Archive;
use arcade_lambda_common::EventError;

use crate::error::HandlerError;
use crate::message::decode_body;

pub async fn handle(event: SqsEvent, archive: &Archive) -> Result<SqsBatchResponse, HandlerError> {
    let mut failed: Vec<String> = Vec::new();
    let mut ids = Vec::with_capacity(event.records.len());
    let mut games = Vec::with_capacity(event.records.len());
    for (index, message) in event.records.into_iter().enumerate() {
        // A failure must name its message; without an id only failing the
        // whole invocation gets the message retried.
        let id = message.message_id.filter(|id| !id.is_empty()).ok_or_else(|| EventError::MalformedEvent {
            source_name: "SQS",
            detail: format!("record {index} has no messageId"),
        })?;
        match decode_body(message.body.as_deref().unwrap_or_default()) {
            Ok(game) => {
                ids.push(id);
                games.push(game);
            }
            Err(reason) => {
                tracing::warn!(message_id = %id, %reason, "invalid message");
                failed.push(id);
            }
        }
    }
    for ((id, game), outcome) in ids.into_iter().zip(&games).zip(archive.write(&games).await) {
        match outcome {
            None => tracing::info!(message_id = %id, game_id = %game.game_id, "archived"),
            Some(reason) => {
                tracing::warn!(message_id = %id, game_id = %game.game_id, %reason, "not archived");
                failed.push(id);
            }
        }
    }
    let mut response = SqsBatchResponse::default();
    for id in failed {
        response.add_failure(id);
    }
    Ok(response)
}
