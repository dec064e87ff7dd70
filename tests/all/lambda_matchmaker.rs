//! The matchmaker Lambda (`lambda/matchmaker`): the real compiled handler is
//! driven through a local Lambda Runtime API (`support::lambda_api`) with
//! API Gateway and EventBridge events, against the real Redis of
//! `scripts/services.sh` (`ARCADE_TEST_REDIS_URL`), a fresh namespace per
//! test. Its matching round places rooms on a real `arcade serve` node
//! registered in the same namespace; the round is invoked with the exact
//! input of the deployed EventBridge target, read out of
//! `infra/terraform/modules/stack/lambdas.tf` (`support::terraform`), and
//! with EventBridge's own Scheduled Event envelope.
//!
//! The handler is `$ARCADE_LAMBDA_MATCHMAKER_BIN`, else
//! `<target>/debug/arcade-lambda-matchmaker` (`scripts/test.sh` builds it);
//! `scripts/bench-lambda.sh` runs the cold-start measurement on the packaged
//! `target/lambda/arcade-matchmaker/bootstrap`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::support::lambda_api::{Function, Outcome, RuntimeApi, median_and_min};
use crate::support::terraform;
use crate::support::*;

const QUEUES: &str = r#"[{"game":"tic-tac-toe","mode":"standard","players_per_match":2}]"#;
const TICKETS: &str = "/v1/matchmaking/tickets";
/// The cluster secret the function shares with the host node of the round test.
const CLUSTER_SECRET: &str = "lambda-test-cluster-secret-0123456789";

fn matchmaker_bin() -> PathBuf {
    std::env::var_os("ARCADE_LAMBDA_MATCHMAKER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_binary("arcade-lambda-matchmaker"))
}

/// Starts the matchmaker on `namespace` of the test Redis.
fn spawn(api: &RuntimeApi, namespace: &str) -> Function {
    api.spawn(
        &matchmaker_bin(),
        &[
            ("ARCADE_REDIS_URL", service_var("ARCADE_TEST_REDIS_URL")),
            ("ARCADE_CLUSTER_NAMESPACE", namespace.to_string()),
            ("ARCADE_MM_QUEUES", QUEUES.to_string()),
            ("ARCADE_CLUSTER_SECRET", CLUSTER_SECRET.to_string()),
            ("AWS_REGION", "us-east-1".into()),
        ],
    )
}

/// An HTTP API (payload format 2.0) request on the `$default` stage.
fn http_event(method: &str, path: &str, body: Option<&str>) -> Value {
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "api.example.com", "user-agent": "test"},
        "requestContext": {
            "accountId": "000000000000", "apiId": "api", "domainName": "api.example.com", "domainPrefix": "api",
            "requestId": unique("req"), "routeKey": "$default", "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 1_767_225_600_000u64,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test"},
        },
        "isBase64Encoded": false,
    });
    if let Some(body) = body {
        event["body"] = body.into();
    }
    event
}

/// A ticket request of `player`, as API Gateway's JWT authorizer passes it
/// on: the verified token's claims in `requestContext.authorizer.jwt`.
fn queue_event(player: &str, body: &str) -> Value {
    let mut event = http_event("POST", TICKETS, Some(body));
    event["requestContext"]["authorizer"] = json!({ "jwt": { "claims": { "sub": player }, "scopes": null } });
    event
}

/// [`queue_event`] sent: `player` queues with `body`.
async fn queue_as(api: &RuntimeApi, player: &str, body: &Value) -> (StatusCode, Value) {
    http_answer(&api.invoke(&queue_event(player, &body.to_string())).await)
}

/// A REST API (payload format 1.0) request, stage `prod`, body base64-encoded.
fn rest_event(method: &str, path: &str, body: &str) -> Value {
    json!({
        "resource": "/{proxy+}", "path": path, "httpMethod": method,
        "headers": {"Content-Type": "application/json"}, "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": null, "pathParameters": {"proxy": path.trim_start_matches('/')},
        "stageVariables": null,
        "requestContext": {"accountId": "000000000000", "resourceId": "r", "stage": "prod", "requestId": unique("req"),
                           "path": format!("/prod{path}"), "httpMethod": method, "apiId": "api"},
        "body": BASE64.encode(body), "isBase64Encoded": true,
    })
}

const SCHEDULED: &str = r#"{"version":"0","id":"0e4e5f0b-0000-0000-0000-000000000000","detail-type":"Scheduled Event",
  "source":"aws.events","account":"000000000000","time":"2026-01-01T00:00:00Z","region":"us-east-1",
  "resources":["arn:aws:events:us-east-1:000000000000:rule/arcade-matchmaker"],"detail":{}}"#;

fn scheduled_event() -> Value {
    serde_json::from_str(SCHEDULED).expect("a scheduled event")
}

/// The input the deployed EventBridge rule sends the function: read out of
/// the match-run target in `infra/terraform/modules/stack/lambdas.tf`, so
/// that the handler is tested with exactly what the Terraform deploys.
fn terraform_schedule_input() -> Value {
    let path = workspace_root().join("infra/terraform/modules/stack/lambdas.tf");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let target = terraform::block(&text, r#"resource "aws_cloudwatch_event_target" "match_run""#);
    let input = terraform::attribute(target, "input");
    let input = terraform::literal(input).unwrap_or_else(|e| panic!("the match-run target's input `{input}`: {e}"));
    assert!(input.is_object(), "the match-run input is a JSON object: {input}");
    input
}

/// The HTTP answer inside an API Gateway response: status, JSON body
/// (`Null` when none) and headers.
fn http_answer(outcome: &Outcome) -> (StatusCode, Value) {
    let response = outcome.response();
    let status = response["statusCode"].as_u64().unwrap_or_else(|| panic!("no statusCode in {response}"));
    let body = match response.get("body").and_then(Value::as_str) {
        Some(text) if !text.is_empty() => {
            assert_eq!(response["headers"]["content-type"], "application/json", "{response}");
            serde_json::from_str(text).unwrap_or_else(|e| panic!("a JSON body ({e}): {text}"))
        }
        _ => Value::Null,
    };
    (StatusCode::from_u16(status as u16).expect("an HTTP status"), body)
}

async fn call(api: &RuntimeApi, method: &str, path: &str, body: Option<&Value>) -> (StatusCode, Value) {
    let body = body.map(Value::to_string);
    http_answer(&api.invoke(&http_event(method, path, body.as_deref())).await)
}

/// [`call`] with `Authorization: Bearer <token>`.
async fn call_as(api: &RuntimeApi, token: &str, method: &str, path: &str) -> (StatusCode, Value) {
    let mut event = http_event(method, path, None);
    event["headers"]["authorization"] = format!("Bearer {token}").into();
    http_answer(&api.invoke(&event).await)
}

/// Queues `player` alone through the Lambda; returns the ticket id and secret.
async fn queue(api: &RuntimeApi, player: &str) -> (String, String) {
    let (status, view) = queue_as(api, player, &json!({"game": "tic-tac-toe"})).await;
    assert_eq!(status, StatusCode::CREATED, "{view}");
    (str_at(&view["ticket"], "id"), str_at(&view, "secret"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_are_created_polled_and_cancelled_through_api_gateway() {
    let api = RuntimeApi::start().await;
    let mut function = spawn(&api, &unique("lambda-mm"));

    // No verified token (a route without the authorizer): refused.
    let anonymous = call(&api, "POST", TICKETS, Some(&json!({"game": "tic-tac-toe"}))).await;
    assert_error(&anonymous, 401, "missing_token");
    // Names in the body are not taken: the player is the token's.
    let typed = queue_as(&api, "ann", &json!({"game": "tic-tac-toe", "party": ["bob"]})).await;
    assert_error(&typed, 422, "invalid_request");
    let party =
        queue_as(&api, "ann", &json!({"game": "tic-tac-toe", "party_id": "pty_aaaaaaaaaaaaaaaaaaaaaaaaaa"})).await;
    assert_error(&party, 422, "parties_not_supported");

    let (status, created) = queue_as(&api, "ann", &json!({"game": "tic-tac-toe"})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "waiting", "{created}");
    let ticket = &created["ticket"];
    // The defaults a host fills in: mode, rating, the default region at 0 ms.
    assert_eq!(
        (&ticket["game"], &ticket["mode"], &ticket["party"], &ticket["rating"], &ticket["latencies"]),
        (&json!("tic-tac-toe"), &json!("standard"), &json!(["ann"]), &json!(1500.0), &json!({"local": 0})),
        "{created}"
    );
    let id = str_at(ticket, "id");
    let secret = str_at(&created, "secret");
    let path = format!("{TICKETS}/{id}");

    // Without the secret the ticket cannot be read or cancelled, as on a host.
    assert_error(&call(&api, "GET", &path, None).await, 401, "missing_token");
    assert_error(&call_as(&api, "a-guess", "GET", &path).await, 404, "ticket_not_found");
    assert_error(&call(&api, "DELETE", &path, None).await, 401, "missing_token");
    assert_error(&call_as(&api, "a-guess", "DELETE", &path).await, 404, "ticket_not_found");

    let mut view = created.clone();
    view.as_object_mut().unwrap().remove("secret");
    assert_eq!(call_as(&api, &secret, "GET", &path).await, (StatusCode::OK, view), "the secret is answered once");
    let (status, body) = call_as(&api, &secret, "DELETE", &path).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, cancelled) = call_as(&api, &secret, "GET", &path).await;
    assert_eq!((status, &cancelled["status"], &cancelled["ticket"]), (StatusCode::OK, &json!("cancelled"), ticket));
    assert_error(&call_as(&api, &secret, "DELETE", &path).await, 409, "ticket_not_waiting");
    assert_error(&call_as(&api, &secret, "GET", &format!("{TICKETS}/no-such-ticket")).await, 404, "ticket_not_found");

    // Cancelled, ann may queue again, but not twice at once, and the
    // refusal does not name the ticket holding her.
    let (status, again) = queue_as(&api, "ann", &json!({"game": "tic-tac-toe"})).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    let refusal = queue_as(&api, "ann", &json!({"game": "tic-tac-toe"})).await;
    assert_error(&refusal, 409, "player_already_queued");
    assert!(!refusal.1.to_string().contains(&str_at(&again["ticket"], "id")), "{refusal:?}");

    // A REST API (payload 1.0) request with a base64 body (and its
    // authorizer's claims), and its answer format.
    let mut rest = rest_event(
        "POST",
        TICKETS,
        r#"{"game":"tic-tac-toe","mode":"standard","rating":1710,"latencies":{"eu-west-1":30}}"#,
    );
    rest["requestContext"]["authorizer"] = json!({ "claims": { "sub": "cy" } });
    let rest = api.invoke(&rest).await;
    let (status, view) = http_answer(&rest);
    assert_eq!(status, StatusCode::CREATED, "{view}");
    // A rating in the request is ignored, as on a host (which takes it from
    // its ladder): the Lambda keeps no ladder, so every ticket is a newcomer's.
    assert_eq!((&view["ticket"]["rating"], &view["ticket"]["latencies"]), (&json!(1500.0), &json!({"eu-west-1": 30})));
    assert!(rest.response().get("multiValueHeaders").is_some(), "a REST answer: {}", rest.response());

    assert_eq!(
        call(&api, "GET", "/v1/matchmaking/queues", None).await,
        (StatusCode::OK, json!([{"game": "tic-tac-toe", "mode": "standard"}]))
    );
    assert!(function.is_running());
    assert!(api.init_errors().is_empty());
    function.stop().await;
}

/// The ids of the nodes `server` sees live.
async fn live_nodes(server: &Server) -> Vec<String> {
    let (status, body) = server.get("/v1/cluster/nodes").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["nodes"].as_array().expect("a node list").iter().map(|n| str_at(n, "id")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_round_seats_both_players_on_a_real_host_node() {
    let namespace = unique("lambda-mm");
    let redis = service_var("ARCADE_TEST_REDIS_URL");
    let accounts = TestServices::get().fresh_database().await;
    let keys = format!("[{{kid=\"k1\", secret=\"{CLUSTER_SECRET}\"}}]");
    // The node's own rounds: one at start, then hourly, so only the
    // Lambda's round can match the tickets below.
    let node = Server::start_with(&[
        ("ARCADE_AUTH__DATABASE_URL", accounts.as_str()),
        ("ARCADE_AUTH__SIGNING_KEYS", keys.as_str()),
        ("ARCADE_CLUSTER__REDIS_URL", redis.as_str()),
        ("ARCADE_CLUSTER__NAMESPACE", namespace.as_str()),
        ("ARCADE_CLUSTER__NODE_ID", "node-a"),
        ("ARCADE_CLUSTER__SECRET", CLUSTER_SECRET),
        ("ARCADE_CLUSTER__HEARTBEAT_INTERVAL_MS", "200"),
        ("ARCADE_MATCHMAKING__ROUND_INTERVAL_MS", "3600000"),
    ])
    .await;
    let started = Instant::now();
    while live_nodes(&node).await != ["node-a"] {
        assert!(started.elapsed() < Duration::from_secs(10), "node-a never registered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let api = RuntimeApi::start().await;
    let function = spawn(&api, &namespace);
    // Nothing to do yet: a round with no tickets.
    let idle = api.invoke(&scheduled_event()).await;
    assert_eq!(idle.response()["matched"], 0, "{}", idle.response());

    let tickets = [queue(&api, "ann").await, queue(&api, "bob").await];
    // The round as deployed: the exact input of the Terraform's EventBridge target.
    let round = api.invoke(&terraform_schedule_input()).await;
    let report = round.response();
    assert_eq!(
        (&report["waiting"], &report["matched"], &report["seated"], &report["unseated"], &report["errors"]),
        (&json!(2), &json!(1), &json!(1), &json!(0), &json!([])),
        "{report}"
    );

    let mut room = None;
    for ((ticket, secret), player) in tickets.iter().zip(["ann", "bob"]) {
        let (status, view) = call_as(&api, secret, "GET", &format!("{TICKETS}/{ticket}")).await;
        assert_eq!((status, &view["status"]), (StatusCode::OK, &json!("matched")), "{view}");
        let assignment = &view["match"]["assignment"];
        let room_id = str_at(assignment, "room_id");
        assert!(room_id.starts_with("node-a."), "{view}");
        assert_eq!(str_at(assignment, "node_url"), node.base, "{view}");
        // The party sees its own seat only.
        let seats = assignment["seats"].as_array().expect("seats");
        assert_eq!((seats.len(), &seats[0]["player"]), (1, &json!(player)), "{view}");
        assert!(room.get_or_insert_with(|| room_id.clone()) == &room_id, "both players in one room: {view}");
        // The node reads the same ticket from the shared store.
        let on_node = node.send(node.http.get(node.url(&format!("{TICKETS}/{ticket}"))).bearer_auth(secret)).await;
        let (status, on_node) = on_node;
        assert_eq!((status, &on_node["match"]["assignment"]["room_id"]), (StatusCode::OK, &json!(room_id)));

        let mut client = node.ws(&room_id, Some(&str_at(&seats[0], "token"))).await;
        assert_eq!(client.welcome["you"], json!(player));
        let state = client.next_of_type("state").await;
        let mut players: Vec<String> = state["view"]["players"]
            .as_object()
            .expect("players")
            .values()
            .map(|p| p.as_str().unwrap().into())
            .collect();
        players.sort();
        assert_eq!(players, ["ann", "bob"], "{state}");
    }
    let room = room.expect("a room");
    let info = node.room_info(&room).await;
    assert_eq!((&info["game"], &info["seats"]), (&json!("tic-tac-toe"), &json!(2)), "{info}");
    assert_eq!(info["status"]["state"], "playing", "{info}");

    // The match is done: the next round has nothing to seat.
    let next = api.invoke(&terraform_schedule_input()).await;
    assert_eq!((&next.response()["matched"], &next.response()["seated"]), (&json!(0), &json!(0)));

    // EventBridge's own envelope (a rule without a target input) is a round too.
    let tickets = [queue(&api, "cy").await, queue(&api, "dee").await];
    let round = api.invoke(&scheduled_event()).await;
    let report = round.response();
    assert_eq!(
        (&report["matched"], &report["seated"], &report["errors"]),
        (&json!(1), &json!(1), &json!([])),
        "{report}"
    );
    let (ticket, secret) = &tickets[0];
    let (status, view) = call_as(&api, secret, "GET", &format!("{TICKETS}/{ticket}")).await;
    assert_eq!((status, &view["status"]), (StatusCode::OK, &json!("matched")), "{view}");
    assert!(str_at(&view["match"]["assignment"], "room_id").starts_with("node-a."), "{view}");
    function.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_events_get_error_responses_and_the_process_keeps_serving() {
    let api = RuntimeApi::start().await;
    let mut function = spawn(&api, &unique("lambda-mm"));

    let unknown = api.invoke(&json!({"hello": "world"})).await;
    let (error_type, message) = unknown.error();
    assert_eq!(error_type, "Arcade.UnknownEvent");
    assert!(message.contains("hello"), "{message}");
    let other_rule = api.invoke(&json!({"source": "aws.events", "detail-type": "EC2 Instance State-change"})).await;
    assert_eq!(other_rule.error().0, "Arcade.UnknownEvent");
    // The schedule's source with another action is refused, not run as a round.
    let mut other_action = terraform_schedule_input();
    other_action["action"] = json!("drop-queues");
    let refused = api.invoke(&other_action).await;
    let (error_type, message) = refused.error();
    assert_eq!(error_type, "Arcade.MalformedEvent");
    assert!(message.contains("drop-queues") && message.contains("run-matches"), "{message}");
    let sqs = api.invoke(&json!({"Records": [{"eventSource": "aws:sqs", "body": "{}"}]})).await;
    assert_eq!(sqs.error().0, "Arcade.UnknownEvent");
    let malformed = api.invoke(&json!({"version": "2.0", "requestContext": {"http": {"method": 42}}})).await;
    assert_eq!(malformed.error().0, "Arcade.MalformedEvent");
    let not_json = api.queue_raw(b"\x00 not json".to_vec()).outcome().await;
    assert!(!not_json.error().0.is_empty(), "the runtime rejects a payload it cannot parse");
    assert!(function.is_running(), "the function exited on a bad event");

    queue(&api, "after-errors").await;
    assert!(function.is_running());
    assert!(api.init_errors().is_empty());
    function.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_the_same_answers_as_from_a_host() {
    let api = RuntimeApi::start().await;
    let function = spawn(&api, &unique("lambda-mm"));
    // A lone host (in-memory tickets) with the same queue: the reference.
    let host = Server::start().await;

    let ann = host.player("ann").await;
    let bodies: [(&str, u16, &str); 6] = [
        (r#"{"game": "tic-tac-toe", "latencies": {"#, 400, "malformed_json"),
        ("not json at all", 400, "malformed_json"),
        (r#"{"game": "tic-tac-toe", "party": ["ann"]}"#, 422, "invalid_request"),
        (r#"{"game": "tic-tac-toe", "colour": "red"}"#, 422, "invalid_request"),
        (r#"{"game": "tic-tac-toe", "latencies": {"Not A Region": 5}}"#, 400, "invalid_ticket"),
        (r#"{"game": "chess"}"#, 404, "unknown_queue"),
    ];
    for (body, status, code) in bodies {
        let lambda = http_answer(&api.invoke(&queue_event(&ann.id, body)).await);
        assert_error(&lambda, status, code);
        let on_host =
            host.post_raw(TICKETS, Some(&ann.access_token), "application/json", body.as_bytes().to_vec()).await;
        assert_eq!(
            (on_host.0, &on_host.1["error"]["code"]),
            (lambda.0, &lambda.1["error"]["code"]),
            "{body}: the host says {on_host:?}"
        );
    }

    let mut no_type = queue_event(&ann.id, r#"{"game": "tic-tac-toe"}"#);
    no_type["headers"] = json!({});
    assert_error(&http_answer(&api.invoke(&no_type).await), 415, "unsupported_media_type");
    assert_error(&call(&api, "GET", "/v1/rooms", None).await, 404, "not_found");
    assert_error(&call(&api, "GET", &format!("{TICKETS}/a/b"), None).await, 404, "not_found");
    assert_error(&call(&api, "PUT", TICKETS, None).await, 405, "method_not_allowed");
    function.stop().await;
}

/// Cold start, from process spawn: to the first `/next` poll (Redis
/// connected by then: ticket store, node directory, rate limiter) and to the
/// first response (a ticket queued: a rate-limit check and the ticket's
/// creation in Redis). Prints the figures and the binary size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_start_to_first_response_is_measured() {
    const RUNS: usize = 7;
    let [mut to_poll, mut to_response] = [(); 2].map(|_| Vec::new());
    for run in 0..RUNS {
        let api = RuntimeApi::start().await;
        let created = api.queue(&queue_event(&format!("p{run}"), r#"{"game": "tic-tac-toe"}"#));
        let function = spawn(&api, &unique("lambda-mm-cold"));
        let created = created.outcome().await;
        assert_eq!(http_answer(&created).0, StatusCode::CREATED);
        to_poll.push(api.first_poll().expect("the function polled /next") - function.started);
        to_response.push(created.at - function.started);
        function.stop().await;
    }
    let bin = matchmaker_bin();
    let size = std::fs::metadata(&bin).expect("binary metadata").len();
    println!(
        "\nlambda matchmaker {} ({:.2} MB), {RUNS} cold starts from spawn: first /next {}; first response {}",
        bin.display(),
        size as f64 / 1e6,
        median_and_min(&mut to_poll),
        median_and_min(&mut to_response),
    );
}

/// `rediss://` (ElastiCache with in-transit encryption) is spoken with TLS:
/// against a server that answers in plain text, the handshake fails and
/// the process exits with the reason, rather than for a build without TLS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rediss_url_is_connected_with_tls() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a listener");
    let address = listener.local_addr().expect("its address");
    let plain_text = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        while let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream.write_all(b"-ERR this is not TLS\r\n").await;
        }
    });
    let api = RuntimeApi::start().await;
    let mut function = api.spawn(
        &matchmaker_bin(),
        &[
            ("ARCADE_REDIS_URL", format!("rediss://{address}")),
            ("ARCADE_MM_QUEUES", QUEUES.to_string()),
            ("ARCADE_CLUSTER_SECRET", CLUSTER_SECRET.to_string()),
        ],
    );
    let started = Instant::now();
    while function.is_running() {
        assert!(started.elapsed() < Duration::from_secs(30), "still running against a plain-text server");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let logs = function.stop().await;
    plain_text.abort();
    assert!(logs.contains("cannot start"), "{logs}");
    assert!(!logs.to_lowercase().contains("not enabled"), "built without TLS: {logs}");
    // rustls refusing the plain-text answer as a TLS record.
    assert!(logs.contains("corrupt message"), "not a TLS handshake failure: {logs}");
    assert!(api.first_poll().is_none(), "it served without Redis");
}
