//! The archiver Lambda (`lambda/archiver`): the real compiled handler is
//! driven through a local Lambda Runtime API (`support::lambda_api`) with
//! SQS events (of game records, and of S3 notifications of records the
//! host's S3 sink wrote) and S3 events, and its effects are read back from the real
//! PostgreSQL and S3-protocol server of `scripts/services.sh` through the
//! host's archive sinks. The daily archive-expiry schedule is driven with
//! the exact input of its EventBridge target in
//! `infra/terraform/modules/stack/lambdas.tf` (`support::terraform`), with
//! the deployed default `archive_retention_days`, against a database of its
//! own; the clock is controlled by archiving games completed long ago.
//!
//! The handler is `$ARCADE_LAMBDA_ARCHIVER_BIN`, else
//! `<target>/debug/arcade-lambda-archiver` (`scripts/test.sh` builds it);
//! `scripts/bench-lambda.sh` runs the cold-start measurement on the packaged
//! `target/lambda/arcade-archiver/bootstrap`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use arcade_archive::s3::S3Sink;
use arcade_archive::{
    ArchiveSink, EventRecord, FinalViews, GameRecord, ListFilter, LogEntry, LogKind, PageRequest, PluginRef,
    RECORD_FORMAT_VERSION, open_sink,
};
use arcade_protocol::RoomStatus;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::support::lambda_api::{Function, RuntimeApi, median_and_min};
use crate::support::terraform;
use crate::support::*;

fn archiver_bin() -> PathBuf {
    std::env::var_os("ARCADE_LAMBDA_ARCHIVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_binary("arcade-lambda-archiver"))
}

/// The archives of one test: the shared PostgreSQL database and a fresh
/// S3 bucket.
pub(crate) struct Archives {
    pub(crate) pg_url: String,
    pub(crate) s3_url: String,
    pub(crate) services: TestServices,
}

impl Archives {
    pub(crate) fn new() -> Archives {
        let services = TestServices::get();
        Archives {
            pg_url: services.pg_url.clone(),
            s3_url: services.s3_url(&unique("lambda-archive"), "games"),
            services,
        }
    }

    /// As [`Archives::new`], with a PostgreSQL database of its own: a
    /// retention run deletes every old game of its database, including
    /// other tests' (their games completed in 2025).
    async fn with_own_database() -> Archives {
        let archives = Archives::new();
        Archives { pg_url: archives.services.fresh_database().await, ..archives }
    }

    /// Starts the archiver configured with these archives.
    pub(crate) fn spawn(&self, api: &RuntimeApi) -> Function {
        self.spawn_with(api, &[])
    }

    /// [`Archives::spawn`] with more environment variables.
    fn spawn_with(&self, api: &RuntimeApi, more: &[(&str, String)]) -> Function {
        let mut env = vec![
            ("ARCADE_ARCHIVE_PG_URL", self.pg_url.clone()),
            ("ARCADE_ARCHIVE_S3_URL", self.s3_url.clone()),
            ("AWS_ACCESS_KEY_ID", self.services.aws_access_key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.services.aws_secret_access_key.clone()),
            ("AWS_REGION", "us-east-1".into()),
        ];
        env.extend(more.iter().cloned());
        api.spawn(&archiver_bin(), &env)
    }

    /// Fresh sinks (nothing cached) for reading back what the function wrote.
    async fn sinks(&self) -> [Arc<dyn ArchiveSink>; 2] {
        [open_sink(&self.pg_url).await.expect("PostgreSQL sink"), open_sink(&self.s3_url).await.expect("S3 sink")]
    }

    /// The archived games of `player`, per sink.
    async fn games_of(&self, player: &str) -> Vec<Vec<String>> {
        let filter = ListFilter { player: Some(player.into()), ..ListFilter::default() };
        let mut per_sink = Vec::new();
        for sink in self.sinks().await {
            let page = sink.list(&filter, &PageRequest::first(100)).await.expect("listing games");
            let mut ids: Vec<String> = page.games.into_iter().map(|g| g.game_id).collect();
            ids.sort();
            per_sink.push(ids);
        }
        per_sink
    }

    /// Every object key in the S3 archive's bucket.
    async fn s3_keys(&self) -> Vec<String> {
        let sink = S3Sink::open(&self.s3_url).await.expect("S3 sink");
        let listing = sink.client().list_objects_v2().bucket(&sink.location().bucket).send().await.expect("listing");
        let mut keys: Vec<String> = listing.contents().iter().filter_map(|o| o.key().map(str::to_string)).collect();
        keys.sort();
        keys
    }
}

/// A finished tic-tac-toe game won by `winner`.
pub(crate) fn game(game_id: &str, winner: &str, loser: &str) -> GameRecord {
    let action = |seq: u64, player: &str, cell: u32| LogEntry {
        seq,
        at_ms: 1_760_000_000_000 + seq * 1000,
        kind: LogKind::Action { player: player.into(), action: format!(r#"{{"cell":{cell}}}"#) },
    };
    GameRecord {
        format_version: RECORD_FORMAT_VERSION,
        game_id: game_id.into(),
        room_id: format!("room-{game_id}"),
        plugin: PluginRef { name: "tic-tac-toe".into(), version: "1.0.0".into(), hash: "ab".repeat(32) },
        config: "{}".into(),
        players: vec![winner.into(), loser.into()],
        seed: arcade_protocol::seed::Seed::from_test_number(42),
        seat_token_sha256: Default::default(),
        log: vec![
            action(1, winner, 0),
            action(2, loser, 3),
            action(3, winner, 1),
            action(4, loser, 4),
            action(5, winner, 2),
        ],
        events: vec![EventRecord {
            seq: 1,
            at_ms: 1_760_000_005_000,
            kind: "line".into(),
            data: r#"{"cells":[0,1,2]}"#.into(),
            audience: arcade_archive::record::EventAudience::Everyone,
        }],
        started_at_ms: 1_760_000_000_000,
        completed_at_ms: 1_760_000_005_000,
        mode: None,
        status: RoomStatus::Finished {
            winners: vec![winner.into()],
            scores: [(winner.to_string(), 1), (loser.to_string(), 0)].into(),
            summary: format!("{winner} wins"),
        },
        final_views: FinalViews::default(),
    }
}

/// [`game`] moved in time so that it completed at `completed_at_ms`.
fn game_completed_at(game_id: &str, completed_at_ms: u64) -> GameRecord {
    moved_to(game(game_id, "ann", "bob"), completed_at_ms)
}

/// `game` moved in time so that it completed at `completed_at_ms`.
pub(crate) fn moved_to(mut game: GameRecord, completed_at_ms: u64) -> GameRecord {
    let base = game.completed_at_ms;
    let moved = |at_ms: u64| completed_at_ms - (base - at_ms);
    game.started_at_ms = moved(game.started_at_ms);
    game.completed_at_ms = completed_at_ms;
    game.log.iter_mut().for_each(|entry| entry.at_ms = moved(entry.at_ms));
    game.events.iter_mut().for_each(|event| event.at_ms = moved(event.at_ms));
    game.validate().expect("a valid moved game");
    game
}

pub(crate) fn json_body(game: &GameRecord) -> String {
    serde_json::to_string(game).unwrap()
}

fn base64_body(game: &GameRecord) -> String {
    BASE64.encode(game.to_compressed().unwrap())
}

/// An SQS event as Lambda's event source mapping delivers it.
pub(crate) fn sqs_event(messages: &[(&str, String)]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body)| {
            json!({
                "messageId": id,
                "receiptHandle": format!("handle-{id}"),
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1760000000000"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:finished-games",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    json!({ "Records": records })
}

/// An S3 `ObjectCreated:Put` notification; `key` is URL-encoded as S3 does.
fn s3_event(bucket: &str, key: &str) -> Value {
    json!({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-01-01T00:00:00.000Z",
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:TEST"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "TEST"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "arcade-inbox",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "TEST"}, "arn": format!("arn:aws:s3:::{bucket}")},
            "object": {"key": key, "size": 1, "sequencer": "0A"}
        }
    }]})
}

/// The body of the SQS message S3 sends to a queue for a new object: an
/// `ObjectCreated:Put` notification (one record; `key` URL-encoded as S3
/// does) from the bucket notification `finished-game-records`.
fn s3_notification_body(bucket: &str, key: &str) -> String {
    let mut event = s3_event(bucket, key);
    event["Records"][0]["s3"]["configurationId"] = json!("finished-game-records");
    event.to_string()
}

/// The message S3 sends once when a notification to a queue is configured.
fn s3_test_event_body(bucket: &str) -> String {
    json!({
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": "2026-01-01T00:00:00.000Z",
        "Bucket": bucket,
        "RequestId": "TEST",
        "HostId": "TEST"
    })
    .to_string()
}

pub(crate) fn failed_ids(response: &Value) -> Vec<&str> {
    let failures =
        response["batchItemFailures"].as_array().unwrap_or_else(|| panic!("no batchItemFailures: {response}"));
    failures.iter().map(|f| f["itemIdentifier"].as_str().expect("an itemIdentifier")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sqs_batch_reports_only_the_invalid_message_and_redelivery_is_harmless() {
    let archives = Archives::new();
    let api = RuntimeApi::start().await;
    let mut function = archives.spawn(&api);
    let player = unique("sqs-ann");
    let games: Vec<GameRecord> = (1..=3).map(|i| game(&unique(&format!("sqs-{i}")), &player, "bob")).collect();
    let unfinished = GameRecord {
        status: RoomStatus::Playing { awaiting: vec!["bob".into()] },
        ..game(&unique("sqs-x"), &player, "bob")
    };
    let valid = [("msg-1", json_body(&games[0])), ("msg-2", base64_body(&games[1])), ("msg-3", json_body(&games[2]))];
    let mut batch = valid.to_vec();
    batch.insert(2, ("msg-bad", json_body(&unfinished)));

    let outcome = api.invoke(&sqs_event(&batch)).await;
    assert_eq!(failed_ids(outcome.response()), ["msg-bad"], "{}", outcome.response());
    for sink in archives.sinks().await {
        for game in &games {
            let stored = sink.get(&game.game_id).await.expect("reading a game");
            assert_eq!(stored.as_ref(), Some(game), "{} in {}", game.game_id, sink.backend());
        }
        assert_eq!(sink.get(&unfinished.game_id).await.expect("reading a game"), None, "{}", sink.backend());
    }
    let mut expected: Vec<String> = games.iter().map(|g| g.game_id.clone()).collect();
    expected.sort();
    assert_eq!(archives.games_of(&player).await, [expected.clone(), expected.clone()]);
    let keys = archives.s3_keys().await;

    // SQS delivers at least once: the same messages again change nothing.
    let again = api.invoke(&sqs_event(&valid)).await;
    assert_eq!(failed_ids(again.response()), Vec::<&str>::new(), "{}", again.response());
    assert_eq!(archives.games_of(&player).await, [expected.clone(), expected]);
    assert_eq!(archives.s3_keys().await, keys, "a re-delivery wrote new objects");
    assert!(function.is_running());
    function.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_game_postgres_rejects_fails_only_its_own_message() {
    let archives = Archives::new();
    let api = RuntimeApi::start().await;
    let function = archives.spawn(&api);
    let good = game(&unique("pg-good"), "ann", "bob");
    // Valid JSON, but PostgreSQL's jsonb refuses the NUL character.
    let poison = GameRecord { config: r#"{"name":"\u0000"}"#.into(), ..game(&unique("pg-poison"), "ann", "bob") };
    poison.validate().expect("the record itself is valid");

    let outcome = api.invoke(&sqs_event(&[("msg-poison", json_body(&poison)), ("msg-good", json_body(&good))])).await;
    assert_eq!(failed_ids(outcome.response()), ["msg-poison"], "{}", outcome.response());
    let [pg, s3] = archives.sinks().await;
    assert_eq!(pg.get(&good.game_id).await.unwrap(), Some(good.clone()));
    assert_eq!(pg.get(&poison.game_id).await.unwrap(), None);
    assert_eq!(s3.get(&good.game_id).await.unwrap(), Some(good));
    let logs = function.stop().await;
    assert!(logs.contains("msg-poison") && logs.contains("postgres"), "the failure is logged: {logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_uploaded_to_the_s3_inbox_is_archived() {
    let archives = Archives::new();
    let inbox_bucket = unique("lambda-inbox");
    let inbox = S3Sink::open(&archives.services.s3_url(&inbox_bucket, "incoming")).await.expect("inbox bucket");
    let uploaded = game(&unique("inbox"), "cy", "dee");
    let key = format!("incoming/finished games/{}.json.zst", uploaded.game_id);
    inbox
        .client()
        .put_object()
        .bucket(&inbox_bucket)
        .key(&key)
        .body(uploaded.to_compressed().unwrap().into())
        .send()
        .await
        .expect("uploading to the inbox");
    let api = RuntimeApi::start().await;
    let function = archives.spawn(&api);

    let event_key = key.replace(' ', "+");
    let outcome = api.invoke(&s3_event(&inbox_bucket, &event_key)).await;
    assert_eq!(outcome.response(), &json!({ "archived": [uploaded.game_id] }));
    let [pg, s3] = archives.sinks().await;
    assert_eq!(pg.get(&uploaded.game_id).await.unwrap(), Some(uploaded.clone()));
    assert_eq!(s3.get(&uploaded.game_id).await.unwrap(), Some(uploaded));

    // S3 events have no partial failure: a missing object fails the invocation.
    let missing = api.invoke(&s3_event(&inbox_bucket, "incoming/never-uploaded.json.zst")).await;
    let (error_type, message) = missing.error();
    assert_eq!(error_type, "Arcade.ArchiveFailed");
    assert!(message.contains("never-uploaded.json.zst"), "{message}");
    function.stop().await;
}

/// The deployed path: host nodes write finished games to the archive bucket
/// with the S3 sink, the bucket notifies the queue of each record object
/// (`*.json.zst` under the prefix), and the queue invokes the archiver,
/// which fetches each named record and writes the game to PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_notifications_in_sqs_messages_archive_the_records_they_name() {
    let archives = Archives::new();
    let host_sink = S3Sink::open(&archives.s3_url).await.expect("the host's S3 sink");
    let bucket = host_sink.location().bucket.clone();
    let player = unique("notified-ann");
    let games: Vec<GameRecord> = (1..=3).map(|i| game(&unique(&format!("notified-{i}")), &player, "bob")).collect();
    host_sink.write_batch(&games).await.expect("the host archives a batch");
    let keys = archives.s3_keys().await;
    let record_keys: Vec<&String> = keys.iter().filter(|k| k.ends_with(".json.zst")).collect();
    assert_eq!(record_keys.len(), games.len(), "{keys:?}");
    let [pg, _] = archives.sinks().await;
    for game in &games {
        assert_eq!(pg.get(&game.game_id).await.unwrap(), None, "not in PostgreSQL before the archiver runs");
    }

    // One message per object, as S3 sends them, plus S3's test message and a
    // notification of an object that is gone.
    let mut batch: Vec<(String, String)> = record_keys
        .iter()
        .enumerate()
        .map(|(i, key)| (format!("msg-{i}"), s3_notification_body(&bucket, key)))
        .collect();
    batch.insert(1, ("msg-test".into(), s3_test_event_body(&bucket)));
    batch.push(("msg-missing".into(), s3_notification_body(&bucket, "games/2026/01/01/never-written.json.zst")));
    let batch: Vec<(&str, String)> = batch.iter().map(|(id, body)| (id.as_str(), body.clone())).collect();
    let api = RuntimeApi::start().await;
    let mut function = archives.spawn(&api);

    let outcome = api.invoke(&sqs_event(&batch)).await;
    assert_eq!(failed_ids(outcome.response()), ["msg-missing"], "{}", outcome.response());
    for sink in archives.sinks().await {
        for game in &games {
            let stored = sink.get(&game.game_id).await.expect("reading a game");
            assert_eq!(stored.as_ref(), Some(game), "{} in {}", game.game_id, sink.backend());
        }
    }
    let mut expected: Vec<String> = games.iter().map(|g| g.game_id.clone()).collect();
    expected.sort();
    assert_eq!(archives.games_of(&player).await, [expected.clone(), expected.clone()]);
    assert_eq!(archives.s3_keys().await, keys, "the archiver rewrote S3 objects the host had archived");

    // Re-delivered (SQS delivers at least once): nothing changes, nothing fails.
    let again: Vec<(&str, String)> = batch.iter().filter(|(id, _)| *id != "msg-missing").cloned().collect();
    let outcome = api.invoke(&sqs_event(&again)).await;
    assert_eq!(failed_ids(outcome.response()), Vec::<&str>::new(), "{}", outcome.response());
    assert_eq!(archives.games_of(&player).await, [expected.clone(), expected]);
    assert_eq!(archives.s3_keys().await, keys);
    assert!(function.is_running());
    let logs = function.stop().await;
    assert!(logs.contains("S3 test event") && logs.contains("msg-test"), "the test event is logged: {logs}");
    assert!(logs.contains("msg-missing") && logs.contains("never-written.json.zst"), "the failure is logged: {logs}");
}

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

fn terraform_stack_file(name: &str) -> String {
    let path = workspace_root().join("infra/terraform/modules/stack").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The input of the archive-expiry rule's target, read out of
/// `infra/terraform/modules/stack/lambdas.tf`, so that the test sends
/// exactly what EventBridge will.
fn terraform_expiry_input() -> Value {
    let text = terraform_stack_file("lambdas.tf");
    let target = terraform::block(&text, r#"resource "aws_cloudwatch_event_target" "archive_expiry""#);
    let input = terraform::attribute(target, "input");
    terraform::literal(input).unwrap_or_else(|e| panic!("the archive-expiry target's input `{input}`: {e}"))
}

/// The deployed default of `archive_retention_days` (variables.tf), which
/// the Terraform passes to the archiver as `ARCADE_ARCHIVE_RETENTION_DAYS`.
fn terraform_retention_days() -> u64 {
    let text = terraform_stack_file("variables.tf");
    let variable = terraform::block(&text, r#"variable "archive_retention_days""#);
    let default = terraform::literal(terraform::attribute(variable, "default")).expect("a literal default");
    default.as_u64().unwrap_or_else(|| panic!("archive_retention_days defaults to {default}, not a day count"))
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

/// The retention of the PostgreSQL archive as deployed on AWS: the hosts
/// archive to S3 (expired there by the bucket's lifecycle rule) and only
/// this function fills PostgreSQL, so the daily schedule's input makes it
/// run the hosts' retention code there. Games completed more than
/// `archive_retention_days` ago go, their `game_events` rows with them;
/// newer games stay whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_terraform_schedule_expires_old_games_and_their_events_from_postgres() {
    let days = terraform_retention_days();
    let input = terraform_expiry_input();
    let archives = Archives::with_own_database().await;
    let api = RuntimeApi::start().await;
    let mut function = archives.spawn_with(&api, &[("ARCADE_ARCHIVE_RETENTION_DAYS", days.to_string())]);
    let now = now_ms();
    let ago = |days_ago: u64, hours: u64| now - days_ago * DAY_MS - hours * 3_600_000;
    let old = [game_completed_at("expired-1", ago(days, 1)), game_completed_at("expired-2", ago(days + 400, 0))];
    let new = [game_completed_at("kept-1", ago(days - 1, 0)), game_completed_at("kept-2", ago(0, 1))];
    let messages: Vec<(String, String)> =
        old.iter().chain(&new).map(|g| (format!("msg-{}", g.game_id), base64_body(g))).collect();
    let messages: Vec<(&str, String)> = messages.iter().map(|(id, body)| (id.as_str(), body.clone())).collect();
    let archived = api.invoke(&sqs_event(&messages)).await;
    assert_eq!(failed_ids(archived.response()), Vec::<&str>::new(), "{}", archived.response());

    let pool = sqlx::PgPool::connect(&archives.pg_url).await.expect("the test's database");
    let events_of = |games: &[GameRecord]| {
        let ids: Vec<String> = games.iter().map(|g| g.game_id.clone()).collect();
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM game_events WHERE game_id = ANY($1)")
                .bind(ids)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(events_of(&old).await, 2, "the old games' events are archived");
    assert_eq!(events_of(&new).await, 2);

    let before = now_ms();
    let run = api.invoke(&input).await;
    let after = now_ms();
    let response = run.response();
    assert_eq!(response["retention_days"], json!(days), "{response}");
    assert_eq!(response["expired_games"], json!(old.len()), "{response}");
    let cutoff = response["cutoff_ms"].as_u64().unwrap_or_else(|| panic!("no cutoff: {response}"));
    assert!((before - days * DAY_MS..=after - days * DAY_MS).contains(&cutoff), "{response}");

    let [pg, _] = archives.sinks().await;
    for game in &old {
        assert_eq!(pg.get(&game.game_id).await.unwrap(), None, "{} has expired", game.game_id);
    }
    for game in &new {
        assert_eq!(pg.get(&game.game_id).await.unwrap().as_ref(), Some(game), "{} is kept", game.game_id);
    }
    assert_eq!(events_of(&old).await, 0, "the expired games' events went with them");
    assert_eq!(events_of(&new).await, 2, "the kept games' events stay");
    let listed = pg.list(&ListFilter::default(), &PageRequest::first(10)).await.unwrap();
    let mut listed: Vec<String> = listed.games.into_iter().map(|g| g.game_id).collect();
    listed.sort();
    assert_eq!(listed, ["kept-1", "kept-2"]);

    // The next day's run (or EventBridge's retry) finds nothing more.
    let again = api.invoke(&input).await;
    assert_eq!(again.response()["expired_games"], json!(0), "{}", again.response());
    assert!(function.is_running());
    let logs = function.stop().await;
    assert!(logs.contains("archive retention"), "the run is logged: {logs}");

    // 0 keeps games forever: the run deletes nothing, even a game of 2001.
    let forever = archives.spawn_with(&api, &[("ARCADE_ARCHIVE_RETENTION_DAYS", "0".into())]);
    let ancient = game_completed_at("ancient", 978_307_200_000);
    let archived = api.invoke(&sqs_event(&[("msg-ancient", base64_body(&ancient))])).await;
    assert_eq!(failed_ids(archived.response()), Vec::<&str>::new());
    let run = api.invoke(&input).await;
    assert_eq!(run.response(), &json!({"retention_days": 0, "cutoff_ms": null, "expired_games": 0}));
    assert_eq!(pg.get("ancient").await.unwrap(), Some(ancient));
    forever.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_events_get_error_responses_and_the_process_keeps_serving() {
    let archives = Archives::new();
    let api = RuntimeApi::start().await;
    let mut function = archives.spawn(&api);

    let unknown = api.invoke(&json!({"detail-type": "Scheduled Event", "detail": {}})).await;
    let (error_type, message) = unknown.error();
    assert_eq!(error_type, "Arcade.UnknownEvent");
    assert!(message.contains("detail-type"), "{message}");
    let malformed = api.invoke(&json!({"Records": [{"eventSource": "aws:s3", "s3": 1}]})).await;
    assert_eq!(malformed.error().0, "Arcade.MalformedEvent");
    let not_json = api.queue_raw(b"\x00 not json".to_vec()).outcome().await;
    assert!(!not_json.error().0.is_empty(), "the runtime rejects a payload it cannot parse");
    assert!(function.is_running(), "the function exited on a bad event");

    let game = game(&unique("after-errors"), "ann", "bob");
    let outcome = api.invoke(&sqs_event(&[("msg-1", base64_body(&game))])).await;
    assert_eq!(failed_ids(outcome.response()), Vec::<&str>::new());
    let [pg, _] = archives.sinks().await;
    assert_eq!(pg.get(&game.game_id).await.unwrap(), Some(game));
    assert!(function.is_running());
    assert!(api.init_errors().is_empty());
    function.stop().await;
}

/// Cold start, from process spawn: to the first `/next` poll (the archives
/// are open by then), to the first response (a batch whose only message is
/// invalid: no storage I/O), and to the first game archived (a second
/// batch, one game to PostgreSQL and S3). Prints the figures and the binary
/// size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_start_to_first_response_is_measured() {
    const RUNS: usize = 7;
    let archives = Archives::new();
    let [mut to_poll, mut to_response, mut to_archived] = [(); 3].map(|_| Vec::new());
    for _ in 0..RUNS {
        let api = RuntimeApi::start().await;
        let game = game(&unique("cold"), "ann", "bob");
        let invalid = api.queue(&sqs_event(&[("msg-bad", "not a game".into())]));
        let valid = api.queue(&sqs_event(&[("msg-1", base64_body(&game))]));
        let function = archives.spawn(&api);
        let (first, second) = (invalid.outcome().await, valid.outcome().await);
        assert_eq!(failed_ids(first.response()), ["msg-bad"]);
        assert_eq!(failed_ids(second.response()), Vec::<&str>::new());
        to_poll.push(api.first_poll().expect("the function polled /next") - function.started);
        to_response.push(first.at - function.started);
        to_archived.push(second.at - function.started);
        function.stop().await;
    }
    let bin = archiver_bin();
    let size = std::fs::metadata(&bin).expect("binary metadata").len();
    println!(
        "\nlambda archiver {} ({:.2} MB), {RUNS} cold starts from spawn: first /next {}; first response {}; \
         first game archived {}",
        bin.display(),
        size as f64 / 1e6,
        median_and_min(&mut to_poll),
        median_and_min(&mut to_response),
        median_and_min(&mut to_archived),
    );
}
