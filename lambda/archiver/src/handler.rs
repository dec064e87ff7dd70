//! The function: what a cold start opens once, and how each invocation is
//! dispatched to the SQS or the S3 handling.

use std::sync::Arc;

use arcade_host::archive::ArchiveSink;
use arcade_host::archive::postgres::PgSink;
use arcade_host::archive::s3::S3Sink;
use lambda_runtime::LambdaEvent;
use serde_json::Value;

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
}

impl Archiver {
    /// Opens both archives (concurrently: this is cold-start time). The
    /// PostgreSQL pool connects lazily and the S3 bucket check is retried on
    /// first use, so only configuration errors fail here.
    pub async fn open(settings: &Settings) -> Result<Archiver, String> {
        let (pg, s3) = tokio::join!(PgSink::connect(&settings.pg_url), S3Sink::open(&settings.s3_url));
        let pg = Arc::new(pg.map_err(|e| format!("PostgreSQL archive: {e}"))?);
        let s3 = Arc::new(s3.map_err(|e| format!("S3 archive: {e}"))?);
        let sinks: Vec<Arc<dyn ArchiveSink>> = vec![pg, s3.clone()];
        Ok(Archiver { archive: Archive::new(sinks), s3 })
    }

    /// One invocation. Errors are logged and posted by the runtime.
    pub async fn handle(&self, invocation: LambdaEvent<Value>) -> Result<Value, HandlerError> {
        match Event::classify(invocation.payload)? {
            Event::Sqs(event) => {
                let response = sqs::handle(event, &self.archive, self.s3.client()).await?;
                Ok(serde_json::to_value(response).expect("a batch response serializes"))
            }
            Event::S3(event) => inbox::handle(event, self.s3.client(), &self.archive).await,
        }
    }
}
