//! S3 archive (feature `s3`), via aws-sdk-s3 (no aws-config).
//!
//! URL: `s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1`
//! with optional `access_key_id`, `secret_access_key`, `session_token`
//! (else the `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
//! `AWS_SESSION_TOKEN` environment variables). With `endpoint`, path-style
//! addressing is used. The bucket is created if it does not exist.
//!
//! Objects:
//! - `<prefix>/<yyyy>/<mm>/<dd>/<game_id>.json.zst`: the compressed record
//!   (UTC completion date), with metadata `game-id`, `plugin`,
//!   `plugin-version`, `outcome`, `winners` (comma-separated, each
//!   percent-encoded) and `completed-at-ms`;
//! - `<prefix>/manifests/<digest>.json`: one per batch, written after all of
//!   the batch's records, listing their `GameSummary`s; the digest is a hash
//!   of the batch's game ids, so re-writing a batch rewrites its manifest.
//!
//! The manifests are the index: a game's key needs its date, which `get` by
//! id does not know. The sink keeps the manifests' summaries in memory and
//! loads the ones it has not seen (one LIST, then a GET per new manifest)
//! before each batch, on a `get` miss, and before each `list`. That also
//! makes several hosts writing one prefix see each other's games. Games
//! already in the catalog are not rewritten; a record put by a batch that
//! failed before its manifest is invisible until the retry writes it.
//!
//! Erasure ([`ArchiveSink::pseudonymise`]): each of the player's records is
//! put again renamed and its older versions deleted (the bucket keeps
//! versions), then every manifest that lists one of them is rewritten with
//! the renamed summaries (and its older versions deleted). A manifest's
//! ETag is kept when it is loaded: another host loads a manifest whose
//! ETag changed again, and its summaries replace the ones it had.
//!
//! Retention: the bucket's lifecycle rule deletes the objects (Terraform
//! `archive_retention_days`); [`ArchiveSink::expire`] makes the sink forget
//! the games completed before the cutoff, which it then keeps: they leave
//! the catalog (`list`, `get`), manifests loaded later (another host's, or
//! one the lifecycle rule has not reached yet) add none of them back, and a
//! late batch does not write them again. Manifests that are gone from the
//! bucket are forgotten at the next refresh.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use futures_util::{StreamExt, TryStreamExt};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, OnceCell};

use super::catalog::Catalog;
use super::keys::{UtcDate, record_file_name, validate_game_id};
use super::listing::{GameSummary, ListFilter, Page, PageRequest};
use super::record::{GameRecord, check_erasure_ids};
use super::{ArchiveError, ArchiveSink, new_game_indices, storage_forms, validate_batch};

const MANIFESTS: &str = "manifests";
const MANIFEST_FORMAT_VERSION: u32 = 1;
/// Requests in flight at once for the objects of one batch.
const CONCURRENT_REQUESTS: usize = 32;
/// Characters kept as they are in metadata values.
const METADATA_SET: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_');

/// Where and how to reach the archive, parsed from an `s3://` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Without leading or trailing `/`; may be empty.
    pub prefix: String,
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl S3Location {
    /// Parses the URL; credentials missing from it come from `env`.
    pub fn parse(url: &str, env: impl Fn(&str) -> Option<String>) -> Result<S3Location, ArchiveError> {
        let bad = |reason: &str| ArchiveError::Config(format!("S3 archive URL {url:?}: {reason}"));
        let parsed = url::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
        let bucket = parsed.host_str().filter(|b| !b.is_empty()).ok_or_else(|| bad("no bucket"))?.to_string();
        let query = |name: &str| parsed.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
        let setting = |name: &str, variable: &str| query(name).or_else(|| env(variable)).filter(|v| !v.is_empty());
        Ok(S3Location {
            bucket,
            prefix: parsed.path().trim_matches('/').to_string(),
            endpoint: query("endpoint"),
            region: setting("region", "AWS_REGION").unwrap_or_else(|| "us-east-1".into()),
            access_key_id: setting("access_key_id", "AWS_ACCESS_KEY_ID")
                .ok_or_else(|| bad("no access key: set AWS_ACCESS_KEY_ID or access_key_id"))?,
            secret_access_key: setting("secret_access_key", "AWS_SECRET_ACCESS_KEY")
                .ok_or_else(|| bad("no secret key: set AWS_SECRET_ACCESS_KEY or secret_access_key"))?,
            session_token: setting("session_token", "AWS_SESSION_TOKEN"),
        })
    }

    fn key(&self, rest: &str) -> String {
        if self.prefix.is_empty() { rest.to_string() } else { format!("{}/{rest}", self.prefix) }
    }

    /// `<prefix>/<yyyy>/<mm>/<dd>/<game_id>.json.zst`
    pub fn record_key(&self, game_id: &str, completed_at_ms: u64) -> String {
        self.key(&format!("{}/{}", UtcDate::from_unix_ms(completed_at_ms).slashed(), record_file_name(game_id)))
    }

    /// `<prefix>/manifests/`
    pub fn manifest_prefix(&self) -> String {
        self.key(&format!("{MANIFESTS}/"))
    }

    /// `<prefix>/manifests/<digest of the game ids>.json`
    pub fn manifest_key(&self, games: &[GameSummary]) -> String {
        let mut ids: Vec<&str> = games.iter().map(|g| g.game_id.as_str()).collect();
        ids.sort_unstable();
        let digest = Sha256::digest(ids.join("\n").as_bytes());
        format!("{}{}.json", self.manifest_prefix(), hex::encode(&digest[..16]))
    }
}

#[derive(Serialize, Deserialize)]
struct Manifest {
    format_version: u32,
    games: Vec<GameSummary>,
}

pub struct S3Sink {
    client: Client,
    location: S3Location,
    bucket_ready: OnceCell<()>,
    state: Mutex<S3State>,
}

#[derive(Default)]
struct S3State {
    catalog: Catalog,
    /// Manifests loaded, with their ETag then: a manifest whose ETag
    /// changes (rewritten by an erasure) is loaded again.
    loaded_manifests: HashMap<String, Option<String>>,
    /// The manifests that list each game.
    manifests_of: HashMap<String, Vec<String>>,
    /// Retention: games completed before this instant (unix ms) have
    /// expired; 0 until `expire` is called.
    expired_before_ms: u64,
}

impl S3State {
    /// Adds a game to the catalog unless it has expired; `replace`: the
    /// summary of a rewritten manifest replaces the one known.
    fn catalog_insert(&mut self, game: GameSummary, manifest: &str, replace: bool) {
        let listed_in = self.manifests_of.entry(game.game_id.clone()).or_default();
        if !listed_in.iter().any(|key| key == manifest) {
            listed_in.push(manifest.to_string());
        }
        if game.completed_at_ms < self.expired_before_ms {
            return;
        }
        if replace {
            self.catalog.upsert(game);
        } else {
            self.catalog.insert(game);
        }
    }
}

/// A manifest's bytes, of this code's format.
fn parse_manifest(key: &str, bytes: &[u8]) -> Result<Manifest, ArchiveError> {
    let manifest: Manifest =
        serde_json::from_slice(bytes).map_err(|e| ArchiveError::Corrupt(format!("S3 manifest {key}: {e}")))?;
    if manifest.format_version != MANIFEST_FORMAT_VERSION {
        return Err(ArchiveError::Corrupt(format!("S3 manifest {key} has format version {}", manifest.format_version)));
    }
    Ok(manifest)
}

fn s3_error<E: std::error::Error>(context: String) -> impl FnOnce(E) -> ArchiveError {
    move |e| ArchiveError::Backend { backend: "s3", message: format!("{context}: {}", DisplayErrorContext(e)) }
}

impl S3Sink {
    /// Opens the archive an `s3://` URL names (credentials from the URL or
    /// the environment).
    pub async fn open(url: &str) -> Result<S3Sink, ArchiveError> {
        S3Sink::with_location(S3Location::parse(url, |name| std::env::var(name).ok())?).await
    }

    pub async fn with_location(location: S3Location) -> Result<S3Sink, ArchiveError> {
        let credentials = Credentials::new(
            &location.access_key_id,
            &location.secret_access_key,
            location.session_token.clone(),
            None,
            "arcade-archive",
        );
        let mut config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(location.region.clone()))
            .credentials_provider(credentials)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_timeout(Duration::from_secs(60))
                    .build(),
            );
        if let Some(endpoint) = &location.endpoint {
            config = config.endpoint_url(endpoint).force_path_style(true);
        }
        let sink = S3Sink {
            client: Client::from_conf(config.build()),
            location,
            bucket_ready: OnceCell::new(),
            state: Mutex::new(S3State::default()),
        };
        if let Err(e) = sink.ensure_bucket().await {
            tracing::warn!(error = %e, "S3 archive not ready; will retry on first use");
        }
        Ok(sink)
    }

    pub fn location(&self) -> &S3Location {
        &self.location
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Creates the bucket if it does not exist (once per sink).
    async fn ensure_bucket(&self) -> Result<(), ArchiveError> {
        let bucket = &self.location.bucket;
        self.bucket_ready
            .get_or_try_init(|| async {
                match self.client.head_bucket().bucket(bucket).send().await {
                    Ok(_) => return Ok(()),
                    Err(e) if !e.as_service_error().is_some_and(|e| e.is_not_found()) => {
                        return Err(s3_error(format!("checking bucket {bucket}"))(e));
                    }
                    Err(_) => {}
                }
                let mut create = self.client.create_bucket().bucket(bucket);
                if self.location.region != "us-east-1" {
                    let constraint = BucketLocationConstraint::from(self.location.region.as_str());
                    create = create.create_bucket_configuration(
                        CreateBucketConfiguration::builder().location_constraint(constraint).build(),
                    );
                }
                match create.send().await {
                    Ok(_) => Ok(()),
                    Err(e) if e.as_service_error().is_some_and(|e| e.is_bucket_already_owned_by_you()) => Ok(()),
                    Err(e) => Err(s3_error(format!("creating bucket {bucket}"))(e)),
                }
            })
            .await
            .map(drop)
    }

    async fn get_bytes(&self, key: &str) -> Result<Option<Vec<u8>>, ArchiveError> {
        let response = self.client.get_object().bucket(&self.location.bucket).key(key).send().await;
        match response {
            Ok(output) => {
                let body = output.body.collect().await.map_err(s3_error(format!("reading {key}")))?;
                Ok(Some(body.into_bytes().to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => Ok(None),
            Err(e) => Err(s3_error(format!("getting {key}"))(e)),
        }
    }

    /// Puts an object; its ETag.
    async fn put_bytes(
        &self,
        key: String,
        bytes: Vec<u8>,
        metadata: Vec<(&str, String)>,
    ) -> Result<Option<String>, ArchiveError> {
        let mut put = self
            .client
            .put_object()
            .bucket(&self.location.bucket)
            .key(&key)
            .content_type("application/octet-stream")
            .body(ByteStream::from(bytes));
        for (name, value) in metadata {
            put = put.metadata(name, value);
        }
        let put = put.send().await.map_err(s3_error(format!("putting {key}")))?;
        Ok(put.e_tag().map(str::to_string))
    }

    /// Deletes every version of `key` but the current one (the bucket keeps
    /// versions: an erased record must not stay in an older one).
    async fn delete_older_versions(&self, key: &str) -> Result<(), ArchiveError> {
        let listed = self
            .client
            .list_object_versions()
            .bucket(&self.location.bucket)
            .prefix(key)
            .send()
            .await
            .map_err(s3_error(format!("listing the versions of {key}")))?;
        for version in listed.versions() {
            let (Some(version_key), Some(id)) = (version.key(), version.version_id()) else { continue };
            if version_key != key || version.is_latest().unwrap_or(false) || id == "null" {
                continue;
            }
            self.client
                .delete_object()
                .bucket(&self.location.bucket)
                .key(key)
                .version_id(id)
                .send()
                .await
                .map_err(s3_error(format!("deleting a version of {key}")))?;
        }
        Ok(())
    }

    /// Loads the manifests this sink has not seen yet into the catalog.
    async fn refresh(&self, state: &mut S3State) -> Result<(), ArchiveError> {
        self.ensure_bucket().await?;
        let prefix = self.location.manifest_prefix();
        let mut unseen = Vec::new();
        let mut listed = HashMap::new();
        let mut pages =
            self.client.list_objects_v2().bucket(&self.location.bucket).prefix(&prefix).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(s3_error(format!("listing {prefix}")))?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                let etag = object.e_tag().map(str::to_string);
                match state.loaded_manifests.get(key) {
                    None => unseen.push((key.to_string(), false)),
                    Some(loaded) if etag.is_some() && *loaded != etag => unseen.push((key.to_string(), true)),
                    Some(_) => {}
                }
                listed.insert(key.to_string(), etag);
            }
        }
        // Manifests the lifecycle rule deleted: their games have expired.
        state.loaded_manifests.retain(|key, _| listed.contains_key(key));
        let gets: Vec<_> = unseen
            .into_iter()
            .map(|(key, changed)| async move { self.get_bytes(&key).await.map(|bytes| (key, changed, bytes)) })
            .collect();
        let manifests: Vec<(String, bool, Option<Vec<u8>>)> =
            futures_util::stream::iter(gets).buffer_unordered(CONCURRENT_REQUESTS).try_collect().await?;
        for (key, changed, bytes) in manifests {
            let Some(bytes) = bytes else { continue };
            for game in parse_manifest(&key, &bytes)?.games {
                state.catalog_insert(game, &key, changed);
            }
            let etag = listed.get(&key).cloned().flatten();
            state.loaded_manifests.insert(key, etag);
        }
        Ok(())
    }

    /// The record of a game the catalog lists (completed at `completed_at_ms`).
    async fn record(&self, game_id: &str, completed_at_ms: u64) -> Result<GameRecord, ArchiveError> {
        let key = self.location.record_key(game_id, completed_at_ms);
        let bytes = self
            .get_bytes(&key)
            .await?
            .ok_or_else(|| ArchiveError::Corrupt(format!("a manifest lists game {game_id} but {key} is missing")))?;
        GameRecord::from_compressed(&bytes)
    }

    /// Puts `record`, whose storage form is `compressed`.
    async fn put_record(&self, record: &GameRecord, compressed: Vec<u8>) -> Result<Option<String>, ArchiveError> {
        let encode = |value: &str| utf8_percent_encode(value, METADATA_SET).to_string();
        let metadata = vec![
            ("game-id", record.game_id.clone()),
            ("plugin", encode(&record.plugin.name)),
            ("plugin-version", encode(&record.plugin.version)),
            ("outcome", record.outcome().to_string()),
            ("winners", record.winners().iter().map(|w| encode(w)).collect::<Vec<_>>().join(",")),
            ("completed-at-ms", record.completed_at_ms.to_string()),
        ];
        let key = self.location.record_key(&record.game_id, record.completed_at_ms);
        self.put_bytes(key, compressed, metadata).await
    }
}

impl S3Sink {
    async fn write(&self, records: &[GameRecord], compressed: Option<&[Vec<u8>]>) -> Result<(), ArchiveError> {
        validate_batch(records)?;
        let mut state = self.state.lock().await;
        self.refresh(&mut state).await?;
        let expired_before_ms = state.expired_before_ms;
        let mut fresh = new_game_indices(records, |id| state.catalog.contains(id));
        fresh.retain(|&i| records[i].completed_at_ms >= expired_before_ms);
        if fresh.is_empty() {
            return Ok(());
        }
        let forms = storage_forms(records, &fresh, compressed)?;
        let puts: Vec<_> = fresh.iter().zip(forms).map(|(&i, form)| self.put_record(&records[i], form)).collect();
        futures_util::stream::iter(puts).buffer_unordered(CONCURRENT_REQUESTS).try_collect::<Vec<_>>().await?;
        let games: Vec<GameSummary> = fresh.iter().map(|&i| GameSummary::from(&records[i])).collect();
        let key = self.location.manifest_key(&games);
        let manifest = Manifest { format_version: MANIFEST_FORMAT_VERSION, games };
        let body = serde_json::to_vec(&manifest).expect("manifests serialize");
        let etag = self.put_bytes(key.clone(), body, Vec::new()).await?;
        for game in manifest.games {
            state.catalog_insert(game, &key, false);
        }
        state.loaded_manifests.insert(key, etag);
        Ok(())
    }
}

#[async_trait]
impl ArchiveSink for S3Sink {
    fn backend(&self) -> &'static str {
        "s3"
    }

    async fn write_batch(&self, records: &[GameRecord]) -> Result<(), ArchiveError> {
        self.write(records, None).await
    }

    async fn write_compressed_batch(&self, records: &[GameRecord], compressed: &[Vec<u8>]) -> Result<(), ArchiveError> {
        self.write(records, Some(compressed)).await
    }

    /// Each of the player's records is put again renamed (older versions of
    /// it deleted), then every manifest listing one of them is rewritten
    /// with the renamed summaries; other hosts see the manifest's new ETag
    /// at their next refresh and take the new summaries.
    async fn pseudonymise(&self, player: &str, pseudonym: &str) -> Result<u64, ArchiveError> {
        check_erasure_ids(player, pseudonym)?;
        let mut state = self.state.lock().await;
        self.refresh(&mut state).await?;
        let mut renamed = HashMap::new();
        for game_id in state.catalog.played_by(player) {
            let Some(completed_at_ms) = state.catalog.get(&game_id).map(|g| g.completed_at_ms) else { continue };
            if let Some(record) = self.record(&game_id, completed_at_ms).await?.pseudonymised(player, pseudonym)? {
                self.put_record(&record, record.to_compressed()?).await?;
                self.delete_older_versions(&self.location.record_key(&game_id, completed_at_ms)).await?;
                renamed.insert(game_id, GameSummary::from(&record));
            }
        }
        let mut manifests: Vec<String> =
            renamed.keys().flat_map(|id| state.manifests_of.get(id).cloned().unwrap_or_default()).collect();
        manifests.sort();
        manifests.dedup();
        for key in manifests {
            let Some(bytes) = self.get_bytes(&key).await? else { continue };
            let mut manifest = parse_manifest(&key, &bytes)?;
            for game in &mut manifest.games {
                if let Some(summary) = renamed.get(&game.game_id) {
                    *game = summary.clone();
                }
            }
            let body = serde_json::to_vec(&manifest).expect("manifests serialize");
            let etag = self.put_bytes(key.clone(), body, Vec::new()).await?;
            self.delete_older_versions(&key).await?;
            state.loaded_manifests.insert(key, etag);
        }
        let count = renamed.len() as u64;
        for (_, summary) in renamed {
            state.catalog.upsert(summary);
        }
        Ok(count)
    }

    async fn get(&self, game_id: &str) -> Result<Option<GameRecord>, ArchiveError> {
        if validate_game_id(game_id).is_err() {
            return Ok(None);
        }
        let completed_at_ms = {
            let mut state = self.state.lock().await;
            if !state.catalog.contains(game_id) {
                self.refresh(&mut state).await?;
            }
            match state.catalog.get(game_id) {
                Some(game) => game.completed_at_ms,
                None => return Ok(None),
            }
        };
        self.record(game_id, completed_at_ms).await.map(Some)
    }

    async fn list(&self, filter: &ListFilter, page: &PageRequest) -> Result<Page, ArchiveError> {
        let mut state = self.state.lock().await;
        self.refresh(&mut state).await?;
        state.catalog.list(filter, page)
    }

    /// Forgets the games completed before `cutoff_ms` (the bucket's
    /// lifecycle rule deletes their objects) and keeps forgetting them;
    /// returns how many left the catalog. `batch` does not apply: nothing is
    /// deleted here.
    async fn expire(&self, cutoff_ms: u64, _batch: usize) -> Result<Option<u64>, ArchiveError> {
        let mut state = self.state.lock().await;
        state.expired_before_ms = state.expired_before_ms.max(cutoff_ms);
        let expired = state.catalog.completed_before(state.expired_before_ms);
        for game_id in &expired {
            state.catalog.remove(game_id);
        }
        Ok(Some(expired.len() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_bucket_prefix_endpoint_and_credentials() {
        let env = |name: &str| (name == "AWS_SECRET_ACCESS_KEY").then(|| "from-env".to_string());
        let location = S3Location::parse(
            "s3://games/arcade/prod/?endpoint=http://127.0.0.1:9000&region=eu-west-1&access_key_id=AK",
            env,
        )
        .unwrap();
        assert_eq!((location.bucket.as_str(), location.prefix.as_str()), ("games", "arcade/prod"));
        assert_eq!(location.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!((location.region.as_str(), location.access_key_id.as_str()), ("eu-west-1", "AK"));
        assert_eq!(location.secret_access_key, "from-env");
        assert_eq!(location.record_key("g-1", 1_735_689_600_000), "arcade/prod/2025/01/01/g-1.json.zst");
        assert!(location.manifest_prefix().starts_with("arcade/prod/manifests/"));

        let no_prefix = S3Location::parse("s3://b?access_key_id=a&secret_access_key=s", |_| None).unwrap();
        assert_eq!(no_prefix.record_key("g", 0), "1970/01/01/g.json.zst");
        assert!(S3Location::parse("s3://b/p", |_| None).unwrap_err().to_string().contains("access key"));
    }
}
