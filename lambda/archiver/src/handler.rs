//! The function: what a cold start opens once, and how each invocation is
//! dispatched to the SQS or the S3 handling, or to the scheduled retention
//! run (`expire_archive`).

use std::sync::Arc;

use std::time::{SystemTime, UNIX_EPOCH};

use arcade_archive::ArchiveSink;
use arcade_archive::postgres::PgSink;
use arcade_archive::retention::{self, RetentionPolicy};
use arcade_archive::s3::S3Sink;
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};

use crate::archive::Archive;
use crate::config::Settings;
use crate::error::HandlerError;
use crate::event::Event;
use crate::{inbox, sqs};

/// State shared by the invocations of one execution environment.
pub struct Archiver {
    archive: Archive,
    /// The S3 archive sink, whose client (endpoint, region, credentials of
    /// `ARCADE_ARCHIVE_S3_URL`) also reads the objects S3 events name
    /// (directly or in SQS messages).
    s3: Arc<S3Sink>,
    /// The PostgreSQL archive, for the scheduled retention run.
    pg: Arc<PgSink>,
    retention: RetentionPolicy,
}

impl Archiver {
    /// Opens both archives (concurrently: this is cold-start time). The
    /// PostgreSQL pool connects lazily and the S3 bucket check is retried on
    /// first use, so only configuration errors fail here.
    pub async fn open(settings: &Settings) -> Result<Archiver, String> {
        let (pg, s3) = tokio::join!(PgSink::connect(&settings.pg_url), S3Sink::open(&settings.s3_url));
        let pg = Arc::new(pg.map_err(|e| format!("PostgreSQL archive: {e}"))?);
        let s3 = Arc::new(s3.map_err(|e| format!("S3 archive: {e}"))?);
        let sinks: Vec<Arc<dyn ArchiveSink>> = vec![pg.clone(), s3.clone()];
        Ok(Archiver { archive: Archive::new(sinks), s3, pg, retention: settings.retention })
    }

    /// One invocation. Errors are logged and posted by the runtime.
    pub async fn handle(&self, invocation: LambdaEvent<Value>) -> Result<Value, HandlerError> {
        match Event::classify(invocation.payload)? {
            Event::Sqs(event) => {
                let response = sqs::handle(event, &self.archive, self.s3.client()).await?;
                Ok(serde_json::to_value(response).expect("a batch response serializes"))
            }
            Event::S3(event) => inbox::handle(event, self.s3.client(), &self.archive).await,
            Event::ExpireArchive => self.expire_archive(now_ms()).await,
        }
    }

    /// The scheduled retention run at `now_ms`: the hosts' job's code path
    /// (`retention::expire_once`, `PgSink::expire`) on the PostgreSQL
    /// archive, which only this function fills in the AWS deployment. The
    /// S3 archive's objects expire by the bucket's lifecycle rule. Answers
    /// `{"retention_days", "cutoff_ms", "expired_games"}` (`cutoff_ms` null
    /// and nothing deleted when games are kept forever).
    async fn expire_archive(&self, now_ms: u64) -> Result<Value, HandlerError> {
        let policy = &self.retention;
        let started = std::time::Instant::now();
        let expired = retention::expire_once(self.pg.as_ref(), policy, now_ms)
            .await
            .map_err(|e| HandlerError::RetentionFailed(e.to_string()))?;
        let cutoff_ms = policy.cutoff_ms(now_ms);
        match expired {
            Some(games) => tracing::info!(
                backend = "postgres",
                games,
                days = policy.days,
                cutoff_ms,
                seconds = started.elapsed().as_secs_f64(),
                "archive retention: expired games deleted"
            ),
            None => tracing::info!(days = policy.days, "archive retention off: archived games are kept forever"),
        }
        Ok(json!({ "retention_days": policy.days, "cutoff_ms": cutoff_ms, "expired_games": expired.unwrap_or(0) }))
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}
