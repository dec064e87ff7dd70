//! Many nodes behind one real Redis (`ARCADE_TEST_REDIS_URL`, started by
//! `scripts/services.sh`): players queue through any node and are matched
//! into rooms spread by capacity, reach their room through any node, lost
//! nodes are noticed within the heartbeat TTL, and the player rate limit is
//! shared. The nodes trust only what is signed with their cluster secret:
//! a node record forged straight into Redis is skipped (no redirect to it,
//! the real nodes stay live) and an unsigned or badly signed provisioning
//! call is refused. With regions, matches get rooms on their region's nodes
//! and fall back to the configured region only when it is full.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

use crate::support::*;

const HEARTBEAT_MS: u64 = 200;
const NODE_TTL_MS: u64 = 1000;
/// The cluster secret of the test clusters.
const CLUSTER_SECRET: &str = "test-cluster-secret-0123456789abcdef";

/// Nodes `node-a`, `node-b`, ... with these capacities, sharing a fresh
/// namespace of the test Redis; returns once every node sees all of them.
pub(crate) async fn start_cluster(capacities: &[u32], extra: &[(&str, &str)]) -> Vec<Server> {
    let accounts = TestServices::get().fresh_database().await;
    start_cluster_sharing(&accounts, capacities, extra).await
}

/// [`start_cluster`] over the accounts database `accounts` (a PostgreSQL
/// URL), which another server of the test may share too.
pub(crate) async fn start_cluster_sharing(accounts: &str, capacities: &[u32], extra: &[(&str, &str)]) -> Vec<Server> {
    let namespace = unique("arcade-test");
    let mut nodes = Vec::new();
    for (i, capacity) in capacities.iter().enumerate() {
        let env = NodeEnv::new(&namespace, accounts, i, *capacity);
        nodes.push(Server::start_with(&env.with(extra)).await);
    }
    let all: Vec<String> = (0..capacities.len()).map(node_id).collect();
    for node in &nodes {
        wait_for_live_nodes(node, &all, Duration::from_secs(10)).await;
    }
    nodes
}

/// The environment of cluster node `index`.
struct NodeEnv(Vec<(&'static str, String)>);

impl NodeEnv {
    fn new(namespace: &str, accounts: &str, index: usize, capacity: u32) -> NodeEnv {
        NodeEnv(vec![
            // The nodes share their accounts and access-token keys.
            ("ARCADE_AUTH__DATABASE_URL", accounts.to_string()),
            ("ARCADE_AUTH__SIGNING_KEYS", format!("[{{kid=\"k1\", secret=\"{CLUSTER_SECRET}\"}}]")),
            ("ARCADE_AUTH__BAN_REFRESH_MS", "200".to_string()),
            ("ARCADE_CLUSTER__REDIS_URL", service_var("ARCADE_TEST_REDIS_URL")),
            ("ARCADE_CLUSTER__NAMESPACE", namespace.to_string()),
            ("ARCADE_CLUSTER__NODE_ID", node_id(index)),
            ("ARCADE_CLUSTER__CAPACITY", capacity.to_string()),
            ("ARCADE_CLUSTER__HEARTBEAT_INTERVAL_MS", HEARTBEAT_MS.to_string()),
            ("ARCADE_CLUSTER__NODE_TTL_MS", NODE_TTL_MS.to_string()),
            ("ARCADE_CLUSTER__SECRET", CLUSTER_SECRET.to_string()),
            ("ARCADE_CLUSTER__ALLOWED_ADVERTISE_HOSTS", r#"["127.0.0.0/8"]"#.to_string()),
            ("ARCADE_MATCHMAKING__ROUND_INTERVAL_MS", "50".to_string()),
        ])
    }

    fn with<'a>(&'a self, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        self.0.iter().map(|(k, v)| (*k, v.as_str())).chain(extra.iter().copied()).collect()
    }
}

fn node_id(index: usize) -> String {
    format!("node-{}", (b'a' + index as u8) as char)
}

/// The node ids `server` sees live.
async fn live_nodes(server: &Server) -> Vec<String> {
    let (status, body) = server.get("/v1/cluster/nodes").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["nodes"].as_array().expect("a node list").iter().map(|n| str_at(n, "id")).collect()
}

/// Waits until `server` sees exactly `expected` live; returns how long it took.
async fn wait_for_live_nodes(server: &Server, expected: &[String], timeout: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let live = live_nodes(server).await;
        if live == expected {
            return started.elapsed();
        }
        assert!(started.elapsed() < timeout, "{} sees {live:?}, not {expected:?}", server.base);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A queued player's room, as its ticket WebSocket reported it.
struct Seated {
    player: String,
    /// Its account id.
    id: String,
    /// The node the player queued through.
    via: usize,
    room_id: String,
    node_url: String,
    token: String,
    waited: Duration,
}

/// Queues `player` for tic-tac-toe through `server` and follows the ticket
/// WebSocket until the room is assigned.
async fn queue_until_seated(server: &Server, via: usize, player: String) -> Seated {
    queue_with_until_seated(server, via, player, json!({})).await
}

/// Queues `player` measuring only `region` (so the match plays there).
async fn queue_in_region_until_seated(server: &Server, via: usize, player: String, region: &str) -> Seated {
    queue_with_until_seated(server, via, player, json!({ "latencies": { region: 20 } })).await
}

/// As [`queue_until_seated`], with the fields of `extra` in the ticket request.
async fn queue_with_until_seated(server: &Server, via: usize, player: String, extra: Value) -> Seated {
    let started = Instant::now();
    let mut request = json!({ "game": "tic-tac-toe" });
    request.as_object_mut().expect("an object").extend(extra.as_object().expect("an object").clone());
    let (status, body) = server.post_as(&player, "/v1/matchmaking/tickets", &request).await;
    assert_eq!(status, StatusCode::CREATED, "queueing {player}: {body}");
    assert_eq!(body["status"], "waiting");
    let ticket = str_at(&body["ticket"], "id");
    let secret = str_at(&body, "secret");
    let url = server.ws_url(&format!("/v1/matchmaking/tickets/{ticket}/ws?token={secret}"));
    let (mut socket, _) = tokio_tungstenite::connect_async(&url).await.unwrap_or_else(|e| panic!("{url}: {e}"));
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .unwrap_or_else(|_| panic!("{player} was not matched within 30 s"));
        let text = match frame {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(_))) | None => panic!("the ticket WebSocket of {player} closed before a room"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("the ticket WebSocket of {player}: {e}"),
        };
        let update: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(update["type"], "ticket", "{update}");
        match update["status"].as_str() {
            Some("waiting") => continue,
            Some("matched") if update["match"]["assignment"].is_null() => continue,
            Some("matched") => {
                let assignment = &update["match"]["assignment"];
                let seats = assignment["seats"].as_array().expect("seats");
                assert_eq!(seats.len(), 1, "a ticket shows only its own party's seats: {update}");
                let id = server.player(&player).await.id;
                assert_eq!(seats[0]["player"], json!(id));
                return Seated {
                    room_id: str_at(assignment, "room_id"),
                    node_url: str_at(assignment, "node_url"),
                    token: str_at(&seats[0], "token"),
                    player,
                    id,
                    via,
                    waited: started.elapsed(),
                };
            }
            _ => panic!("unexpected ticket update for {player}: {update}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_players_through_three_nodes_all_play_their_games() {
    let capacities = [100, 50, 50];
    let nodes = Arc::new(start_cluster(&capacities, &[]).await);

    // 200 players queue at once, each through one of the three nodes.
    let queued: Vec<_> = (0..200)
        .map(|i| {
            let nodes = nodes.clone();
            tokio::spawn(async move { queue_until_seated(&nodes[i % 3], i % 3, format!("player-{i}")).await })
        })
        .collect();
    let mut seated = Vec::new();
    for task in queued {
        seated.push(task.await.expect("a queueing player panicked"));
    }

    // Valid rooms: two players each, on the node the room id names.
    let mut rooms: HashMap<String, Vec<Seated>> = HashMap::new();
    for seat in seated {
        rooms.entry(seat.room_id.clone()).or_default().push(seat);
    }
    assert_eq!(rooms.len(), 100, "200 players make 100 tic-tac-toe rooms");
    let mut per_node = [0u32; 3];
    for (room_id, players) in &rooms {
        assert_eq!(players.len(), 2, "room {room_id} seats {} players", players.len());
        let owner = (0..3).find(|&n| room_id.starts_with(&format!("{}.", node_id(n)))).expect("a node's room id");
        assert!(players.iter().all(|p| p.node_url == nodes[owner].base), "room {room_id} is on {}", node_id(owner));
        per_node[owner] += 1;
    }
    eprintln!("rooms per node (capacities {capacities:?}): {per_node:?}");
    for n in 0..3 {
        assert!(per_node[n] > 0 && per_node[n] <= capacities[n], "node {n} got {} rooms", per_node[n]);
    }
    assert!(per_node[0] > per_node[1] && per_node[0] > per_node[2], "placement ignores capacity: {per_node:?}");
    let mut waits: Vec<Duration> = rooms.values().flatten().map(|s| s.waited).collect();
    waits.sort();
    eprintln!("ticket to room: median {:?}, p99 {:?}", waits[waits.len() / 2], waits[waits.len() * 99 / 100]);

    // A room's HTTP URL on another node redirects (307) to the room's node.
    let (room_id, players) = rooms.iter().next().expect("a room");
    let owner_url = &players[0].node_url;
    let elsewhere = nodes.iter().find(|n| &n.base != owner_url).expect("another node");
    let no_redirects =
        reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let moved = no_redirects.get(elsewhere.url(&format!("/v1/rooms/{room_id}"))).send().await.unwrap();
    assert_eq!(moved.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(moved.headers()["location"].to_str().unwrap(), format!("{owner_url}/v1/rooms/{room_id}"));
    let (status, info) = elsewhere.get(&format!("/v1/rooms/{room_id}")).await;
    assert_eq!((status, &info["id"]), (StatusCode::OK, &json!(room_id)), "a redirect-following client reaches it");

    // Every player connects through the node it queued at; those on the
    // wrong node are sent on by the 4307 close. Every game is played out.
    let games: Vec<_> = rooms
        .into_values()
        .map(|players| {
            let nodes = nodes.clone();
            tokio::spawn(async move { play_matched_game(&nodes, players).await })
        })
        .collect();
    let mut redirected = 0;
    for game in games {
        redirected += game.await.expect("a game panicked");
    }
    assert!(redirected >= 100, "about 2 of 3 players queued on another node than their room's: {redirected}");
    for node in nodes.iter() {
        node.assert_healthy().await;
    }
}

/// Connects both players through the node they queued at, plays X to a win;
/// returns how many connections were redirected to another node.
async fn play_matched_game(nodes: &[Server], players: Vec<Seated>) -> usize {
    let mut clients = Vec::new();
    let mut redirected = 0;
    for seat in &players {
        let path = format!("/v1/rooms/{}/ws?token={}", seat.room_id, seat.token);
        let (client, used) = WsClient::connect_following(&nodes[seat.via].ws_url(&path))
            .await
            .unwrap_or_else(|e| panic!("{} cannot reach room {}: {e:?}", seat.player, seat.room_id));
        assert_eq!(client.welcome["you"], json!(seat.id));
        redirected += usize::from(!used.starts_with(&nodes[seat.via].ws_url("")));
        clients.push(client);
    }
    let state = clients[0].next_of_type("state").await;
    let x = str_at(&state["view"]["players"], "X");
    let (first, second) = clients.split_at_mut(1);
    let (x_client, o_client) = if first[0].welcome["you"] == json!(x) {
        (&mut first[0], &mut second[0])
    } else {
        (&mut second[0], &mut first[0])
    };
    play_in_turn(&mut [x_client, o_client], &cells(&[0, 3, 1, 4, 2])).await;
    for client in &mut clients {
        let over = client.until_over().await;
        assert_eq!(over["status"]["state"], "finished", "{over}");
    }
    redirected
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_is_noticed_within_the_ttl_gets_no_new_rooms_and_recovers_its_rooms() {
    let namespace = unique("arcade-test");
    let accounts = TestServices::get().fresh_database().await;
    let envs: Vec<NodeEnv> = (0..3).map(|i| NodeEnv::new(&namespace, &accounts, i, 100)).collect();
    let (a, b) = (Server::start_with(&envs[0].with(&[])).await, Server::start_with(&envs[1].with(&[])).await);
    let doomed_dir = fresh_dir("arcade-doomed-node");
    let doomed = Server::start_in(&doomed_dir, &envs[2].with(&[])).await;
    let all: Vec<String> = (0..3).map(node_id).collect();
    for node in [&a, &b, &doomed] {
        wait_for_live_nodes(node, &all, Duration::from_secs(10)).await;
    }
    let lost_room = doomed.create_room(&json!({ "game": "tic-tac-toe", "players": ["ann", "bob"] })).await;
    assert!(lost_room.id.starts_with("node-c."), "{}", lost_room.id);
    assert_eq!(doomed.act(&lost_room.id, lost_room.token("ann"), &json!({ "cell": 4 })).await.0, StatusCode::OK);

    doomed.kill().await;
    let killed_at = Instant::now();
    let survivors = [node_id(0), node_id(1)];
    for node in [&a, &b] {
        wait_for_live_nodes(node, &survivors, Duration::from_secs(10)).await;
    }
    let noticed = killed_at.elapsed();
    eprintln!("node-c noticed gone {noticed:?} after SIGKILL (TTL {NODE_TTL_MS} ms, heartbeat {HEARTBEAT_MS} ms)");
    assert!(
        // The key expires at most a TTL after the last heartbeat; a survivor
        // looks at its next heartbeat; the rest is scheduling slack.
        noticed <= Duration::from_millis(NODE_TTL_MS + 2 * HEARTBEAT_MS + 600),
        "noticed after {noticed:?}, TTL {NODE_TTL_MS} ms"
    );
    let mut lost_reports = 0;
    for node in [&a, &b] {
        lost_reports += metric_value(&node.metrics().await, "arcade_cluster_nodes_lost_total") as u32;
    }
    assert_eq!(lost_reports, 1, "exactly one survivor reports the lost node");

    // Its rooms are lost (410), not redirected to a dead address.
    assert_error(&a.get(&format!("/v1/rooms/{}", lost_room.id)).await, 410, "room_lost");

    // New matches go only to the live nodes.
    let nodes = [a, b];
    let queued: Vec<_> = (0..20).map(|i| queue_until_seated(&nodes[i % 2], i % 2, format!("late-{i}"))).collect();
    for seat in futures_util::future::join_all(queued).await {
        assert!(!seat.room_id.starts_with("node-c."), "a room went to the dead node: {}", seat.room_id);
        assert!(seat.node_url == nodes[0].base || seat.node_url == nodes[1].base);
    }

    // The node comes back on its data dir: its room is rebuilt from the
    // journal and reachable through the others again.
    drop(doomed);
    let back = Server::start_in(&doomed_dir, &envs[2].with(&[])).await;
    wait_for_live_nodes(&nodes[0], &all, Duration::from_secs(10)).await;
    let (status, info) = nodes[0].get(&format!("/v1/rooms/{}", lost_room.id)).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(
        info["status"]["awaiting"],
        json!([lost_room.id_of("bob")]),
        "the move before the crash is kept: {info}"
    );
    assert_eq!(back.act(&lost_room.id, lost_room.token("bob"), &json!({ "cell": 0 })).await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_players_rate_limit_is_shared_by_the_nodes() {
    let nodes = start_cluster(&[100, 100], &[("ARCADE_RATE_LIMITS__PLAYER_PER_MINUTE", "10")]).await;
    // Queue and cancel, alternating nodes: every call counts for "ann".
    let mut allowed = 0;
    let mut refusal = None;
    let ann = nodes[0].player("ann").await;
    for i in 0..30 {
        let node = &nodes[i % 2];
        let response = node
            .http
            .post(node.url("/v1/matchmaking/tickets"))
            .bearer_auth(&ann.access_token)
            .json(&json!({ "game": "tic-tac-toe" }))
            .send()
            .await
            .expect("POST a ticket");
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            refusal = Some(response);
            break;
        }
        let body: Value = response.json().await.expect("JSON");
        allowed += 1;
        let (ticket, secret) = (str_at(&body["ticket"], "id"), str_at(&body, "secret"));
        let other = &nodes[(i + 1) % 2];
        let cancel = other.http.delete(other.url(&format!("/v1/matchmaking/tickets/{ticket}"))).bearer_auth(secret);
        let cancelled = cancel.send().await.unwrap();
        if cancelled.status() == StatusCode::TOO_MANY_REQUESTS {
            refusal = Some(cancelled);
            break;
        }
        assert_eq!(cancelled.status(), StatusCode::NO_CONTENT);
        allowed += 1;
    }
    let refusal = refusal.expect("the player was never limited");
    assert_eq!(allowed, 10, "10 per minute through two nodes together, not 10 each");
    let retry_after: u64 = refusal.headers()["retry-after"].to_str().unwrap().parse().expect("Retry-After seconds");
    assert!((1..=6).contains(&retry_after), "Retry-After {retry_after}");
    let body: Value = refusal.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    // Another player is not affected.
    let (status, body) = nodes[1].post_as("bob", "/v1/matchmaking/tickets", &json!({ "game": "tic-tac-toe" })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draining_node_finishes_its_games_takes_no_new_rooms_and_leaves() {
    let mut nodes = start_cluster(&[100, 100], &[]).await;
    let draining = &nodes[1];
    let live_game = draining.create_room(&json!({ "game": "tic-tac-toe", "players": ["ann", "bob"] })).await;
    draining.signal("TERM");

    // The others see it draining at its next heartbeat.
    let started = Instant::now();
    loop {
        let (_, body) = nodes[0].get("/v1/cluster/nodes").await;
        let me = body["nodes"].as_array().unwrap().iter().find(|n| n["id"] == "node-b").cloned();
        if me.is_some_and(|n| n["draining"] == json!(true)) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "node-b never reported draining: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Players queueing through the draining node still get rooms, elsewhere.
    let queued: Vec<_> = (0..6).map(|i| queue_until_seated(&nodes[i % 2], i % 2, format!("drain-{i}"))).collect();
    for seat in futures_util::future::join_all(queued).await {
        assert!(seat.room_id.starts_with("node-a."), "a new room on the draining node: {}", seat.room_id);
    }

    // Its live game plays to the end; then it exits and leaves the directory
    // at once (not after the TTL).
    for (i, cell) in [0, 3, 1, 4, 2].into_iter().enumerate() {
        let player = if i % 2 == 0 { "ann" } else { "bob" };
        let (status, body) = nodes[1].act(&live_game.id, live_game.token(player), &json!({ "cell": cell })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let status = nodes[1].wait_for_exit(Duration::from_secs(30)).await;
    assert!(status.success(), "the drained node exited with {status}");
    let gone = wait_for_live_nodes(&nodes[0], &[node_id(0)], Duration::from_secs(5)).await;
    assert!(gone < Duration::from_millis(NODE_TTL_MS), "left the directory {gone:?} after exiting, not at once");
    nodes.truncate(1);
}

/// Runs one Redis command (RESP over a plain connection to the test Redis);
/// returns the raw reply.
async fn redis_command(args: &[&str]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let url = service_var("ARCADE_TEST_REDIS_URL");
    let address = url.trim_start_matches("redis://").split('/').next().expect("host:port").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap_or_else(|e| panic!("{address}: {e}"));
    let mut command = format!("*{}\r\n", args.len());
    for arg in args {
        command.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    stream.write_all(command.as_bytes()).await.expect("a Redis command");
    let mut reply = vec![0u8; 4096];
    let n = stream.read(&mut reply).await.expect("a Redis reply");
    let reply = String::from_utf8_lossy(&reply[..n]).to_string();
    assert!(!reply.starts_with('-'), "Redis: {reply}");
    reply
}

/// Files `record` as node `id`'s in the directory of `namespace`.
async fn forge_node_record(namespace: &str, id: &str, record: &str) {
    redis_command(&["SET", &format!("{namespace}:nodes:node:{id}"), record, "PX", "60000"]).await;
    redis_command(&["SADD", &format!("{namespace}:nodes:nodes"), id]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_node_records_and_unsigned_provisioning_calls_are_refused() {
    let namespace = unique("arcade-test");
    let accounts = TestServices::get().fresh_database().await;
    let envs: Vec<NodeEnv> = (0..2).map(|i| NodeEnv::new(&namespace, &accounts, i, 100)).collect();
    let nodes = [Server::start_with(&envs[0].with(&[])).await, Server::start_with(&envs[1].with(&[])).await];
    let real = [node_id(0), node_id(1)];
    for node in &nodes {
        wait_for_live_nodes(node, &real, Duration::from_secs(10)).await;
    }

    // Records written straight into Redis by someone without the secret: a
    // plain (unsigned) one pointing players elsewhere, one signed with
    // another secret, one that is not even JSON. With the secret but on a
    // host outside the allowed ones (a leaked secret): refused too.
    let evil = |id: &str| {
        json!({"id": id, "url": "http://evil.example:8080", "capacity": 1000, "rooms": 0, "draining": false,
               "heartbeat_at_ms": 0})
        .to_string()
    };
    forge_node_record(&namespace, "evil", &evil("evil")).await;
    let wrong_key = arcade_cluster::ClusterKey::new("another-secret-another-secret-another").unwrap();
    let other_record = evil("other");
    let signed_elsewhere = json!({"record": other_record, "signature": wrong_key.sign_record(&other_record)});
    forge_node_record(&namespace, "other", &signed_elsewhere.to_string()).await;
    forge_node_record(&namespace, "garbage", "{not json").await;
    let key = arcade_cluster::ClusterKey::new(CLUSTER_SECRET).unwrap();
    let leaked_record = evil("leaked");
    let leaked = json!({"record": leaked_record, "signature": key.sign_record(&leaked_record)});
    forge_node_record(&namespace, "leaked", &leaked.to_string()).await;

    // A few heartbeats later: the real nodes are still exactly the live ones
    // (one bad record does not hide the others), and each refusal is counted.
    tokio::time::sleep(Duration::from_millis(3 * HEARTBEAT_MS)).await;
    for node in &nodes {
        assert_eq!(live_nodes(node).await, real, "{}", node.base);
        let rejected = metric_value(&node.metrics().await, "arcade_cluster_node_records_rejected_total");
        assert!(rejected >= 4.0, "{} counted {rejected} refused records", node.base);
    }
    // A room id naming a forged node is not redirected there (no player is
    // sent to evil.example with a token).
    let no_redirects =
        reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for forged in ["evil", "leaked"] {
        let url = nodes[0].url(&format!("/v1/rooms/{forged}.0123456789abcdef/ws?token=seat-token"));
        let answer = no_redirects.get(url).send().await.unwrap();
        assert!(answer.headers().get("location").is_none(), "redirected to {:?}", answer.headers()["location"]);
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"]["code"], "room_lost", "{body}");
    }
    // Matches still go to the real nodes only.
    let queued: Vec<_> = (0..4).map(|i| queue_until_seated(&nodes[i % 2], i % 2, format!("forged-{i}"))).collect();
    for seat in futures_util::future::join_all(queued).await {
        assert!(seat.node_url == nodes[0].base || seat.node_url == nodes[1].base, "{}", seat.node_url);
    }

    // Provisioning: the internal route takes signed calls only.
    let path = "/internal/v1/rooms";
    let order = json!({"game": "tic-tac-toe", "players": ["mallory", "bob"], "match_id": "forged"}).to_string();
    let post = |headers: Vec<(&'static str, String)>| {
        let mut request =
            nodes[1].http.post(nodes[1].url(path)).header("content-type", "application/json").body(order.clone());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        nodes[1].send(request)
    };
    assert_error(&post(vec![]).await, 401, "missing_signature");
    let now = arcade_protocol::clock::now_ms();
    let [timestamp, _] = key.sign_request("POST", path, order.as_bytes(), now);
    assert_error(
        &post(vec![timestamp.clone(), ("x-arcade-signature", "00".repeat(32))]).await,
        401,
        "invalid_signature",
    );
    let wrong = wrong_key.sign_request("POST", path, order.as_bytes(), now);
    assert_error(&post(wrong.to_vec()).await, 401, "invalid_signature");
    let old = key.sign_request("POST", path, order.as_bytes(), now - 120_000);
    assert_error(&post(old.to_vec()).await, 401, "stale_request");
    // Signed for another body: refused.
    let other_body = key.sign_request("POST", path, b"{}", now);
    assert_error(&post(other_body.to_vec()).await, 401, "invalid_signature");
    // Properly signed: a room; the same call again is a replay.
    let signed = key.sign_request("POST", path, order.as_bytes(), now);
    let (status, created) = post(signed.to_vec()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(str_at(&created["room"], "id").starts_with("node-b."), "{created}");
    assert_error(&post(signed.to_vec()).await, 401, "replayed_request");
    let refused = metric_value(&nodes[1].metrics().await, "arcade_cluster_internal_requests_refused_total");
    assert_eq!(refused, 6.0);
}

/// Issue 9, item 5: a match whose room cannot be created is given up after
/// `matchmaking.max_seat_attempts` rounds instead of being retried forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_match_whose_room_cannot_be_created_is_given_up_and_its_tickets_fail() {
    // node-a is full (capacity 1, one waiting room); node-b has room but is
    // frozen (SIGSTOP): its record stays live (long TTL) and every creation
    // sent to it times out.
    let nodes = start_cluster(
        &[1, 1000],
        &[("ARCADE_CLUSTER__NODE_TTL_MS", "120000"), ("ARCADE_MATCHMAKING__MAX_SEAT_ATTEMPTS", "2")],
    )
    .await;
    nodes[0].create_room(&json!({ "game": "tic-tac-toe" })).await;
    tokio::time::sleep(Duration::from_millis(3 * HEARTBEAT_MS)).await;
    nodes[1].signal("STOP");
    let mut secrets = Vec::new();
    for player in ["ann", "bob"] {
        let (status, created) =
            nodes[0].post_as(player, "/v1/matchmaking/tickets", &json!({ "game": "tic-tac-toe" })).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        secrets.push((str_at(&created["ticket"], "id"), str_at(&created, "secret")));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let (id, secret) = &secrets[0];
    let path = format!("/v1/matchmaking/tickets/{id}");
    let last = loop {
        let (status, view) = nodes[0].get_as(secret, &path).await;
        assert_eq!(status, StatusCode::OK, "{view}");
        if view["status"] == "failed" || std::time::Instant::now() > deadline {
            break view;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    nodes[1].signal("CONT");
    assert_eq!(last["status"], "failed", "the match was given up: {last}");
    let (_, other) = nodes[0].get_as(&secrets[1].1, &format!("/v1/matchmaking/tickets/{}", secrets[1].0)).await;
    assert_eq!(other["status"], "failed", "{other}");
    let metrics = nodes[0].metrics().await;
    assert!(metric_value(&metrics, "arcade_matches_abandoned_total") >= 1.0, "{metrics}");
}

/// The value of the series of `name` with exactly these labels (0 when absent).
fn labelled_metric_value(text: &str, name: &str, labels: &str) -> f64 {
    let series = format!("{name}{{{labels}}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&series))
        .map(|value| value.trim().parse().unwrap_or_else(|e| panic!("{name}{{{labels}}}: {e}")))
        .unwrap_or(0.0)
}

/// Queues each (node index, player, region) at once; their seats.
async fn seat_all(nodes: &[Server], players: Vec<(usize, String, &str)>) -> Vec<Seated> {
    let queued =
        players.into_iter().map(|(via, player, region)| queue_in_region_until_seated(&nodes[via], via, player, region));
    futures_util::future::join_all(queued).await
}

/// Matches of eu seated in us, summed over the nodes (each counts its own rounds).
async fn eu_to_us_fallbacks(nodes: &[Server]) -> f64 {
    let mut total = 0.0;
    for node in nodes {
        let text = node.metrics().await;
        total += labelled_metric_value(&text, "arcade_matches_region_fallbacks_total", r#"from="eu",to="us""#);
    }
    total
}

/// Issue 16, item 3: nodes declare their region; a match is placed on its
/// region's nodes, falling back to the configured region only when its own
/// is full, and every fallback is counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn matches_play_in_their_region_and_fall_back_only_when_it_is_full() {
    // node-a and node-b serve eu (3 rooms each), node-c serves us. eu falls
    // back to us; us has no fallback.
    let namespace = unique("arcade-test");
    let layout = [("eu", 3), ("eu", 3), ("us", 100)];
    let fallback = r#"{eu=["us"]}"#;
    let accounts = TestServices::get().fresh_database().await;
    let mut nodes = Vec::new();
    for (i, (region, capacity)) in layout.iter().enumerate() {
        let env = NodeEnv::new(&namespace, &accounts, i, *capacity);
        let extra = [("ARCADE_CLUSTER__REGION", *region), ("ARCADE_CLUSTER__REGION_FALLBACK", fallback)];
        nodes.push(Server::start_with(&env.with(&extra)).await);
    }
    let all: Vec<String> = (0..3).map(node_id).collect();
    for node in &nodes {
        wait_for_live_nodes(node, &all, Duration::from_secs(10)).await;
    }
    // Each node's region is in its (signed) record, as every node sees it.
    let (_, listing) = nodes[2].get("/v1/cluster/nodes").await;
    let regions: Vec<(String, String)> =
        listing["nodes"].as_array().unwrap().iter().map(|n| (str_at(n, "id"), str_at(n, "region"))).collect();
    let expected: Vec<(String, String)> = (0..3).map(|i| (node_id(i), layout[i].0.to_string())).collect();
    assert_eq!(regions, expected, "{listing}");

    let node_of = |seat: &Seated| -> usize {
        (0..3).find(|&n| seat.room_id.starts_with(&format!("{}.", node_id(n)))).expect("a node's room id")
    };

    // eu has room for 6: 3 eu matches and 2 us matches, queued through every
    // node, all play in their own region.
    let mut players: Vec<(usize, String, &'static str)> = (0..6).map(|i| (i % 3, format!("eu-{i}"), "eu")).collect();
    players.extend((0..4).map(|i| (i % 3, format!("us-{i}"), "us")));
    let mut per_node = [0usize; 3];
    for seat in seat_all(&nodes, players).await {
        let node = node_of(&seat);
        let region = if seat.player.starts_with("eu-") { "eu" } else { "us" };
        assert_eq!(layout[node].0, region, "{} ({region}) got a room on {}", seat.player, node_id(node));
        per_node[node] += 1;
    }
    assert_eq!(per_node, [per_node[0], 6 - per_node[0], 4], "two players a room: 3 eu rooms, 2 us rooms");
    assert_eq!(eu_to_us_fallbacks(&nodes).await, 0.0, "no match fell back while eu had room");

    // 5 more eu matches: eu holds at most 3 more (capacity 3 + 3), the rest
    // falls back to us, and each of those is counted.
    let players = (0..10).map(|i| (i % 3, format!("late-eu-{i}"), "eu")).collect();
    let mut rooms: HashMap<String, usize> = HashMap::new();
    for seat in seat_all(&nodes, players).await {
        rooms.insert(seat.room_id.clone(), node_of(&seat));
    }
    assert_eq!(rooms.len(), 5, "10 players make 5 rooms");
    let on_eu = rooms.values().filter(|&&n| layout[n].0 == "eu").count();
    let on_us = rooms.len() - on_eu;
    let eu_rooms = |n: usize| per_node[n] / 2 + rooms.values().filter(|&&m| m == n).count();
    assert!(eu_rooms(0) <= 3 && eu_rooms(1) <= 3, "an eu node over its capacity: {rooms:?} after {per_node:?}");
    eprintln!(
        "5 late eu matches: {on_eu} on eu (node-a {}, node-b {} rooms in all), {on_us} fell back to us",
        eu_rooms(0),
        eu_rooms(1)
    );
    assert!(on_us >= 2, "only {on_us} of 5 eu matches fell back, yet eu holds 6 rooms: {rooms:?}");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        // Counted by whichever node ran the round, once it returned.
        let counted = eu_to_us_fallbacks(&nodes).await;
        if counted == on_us as f64 {
            break;
        }
        assert!(Instant::now() < deadline, "{counted} fallbacks counted, {on_us} eu rooms are on the us node");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // us never falls back (no list for it), nor counts as a fallback.
    for seat in seat_all(&nodes, (0..2).map(|i| (i % 3, format!("late-us-{i}"), "us")).collect()).await {
        assert_eq!(node_of(&seat), 2, "{} got {}", seat.player, seat.room_id);
    }
    let text = nodes[0].metrics().await;
    assert_eq!(labelled_metric_value(&text, "arcade_matches_region_fallbacks_total", r#"from="us",to="eu""#), 0.0);
}

/// Accounts and access-token keys are shared: a session from one node works
/// on every node, and a ban made on one applies on all three within the ban
/// reload interval (200 ms here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_takes_effect_on_every_node() {
    let nodes = start_cluster(&[100, 100, 100], &[]).await;
    let (status, signed) =
        nodes[0].post("/v1/auth/guest", &json!({ "device_id": unique("cluster-device-0123456789") })).await;
    assert_eq!(status, StatusCode::CREATED, "{signed}");
    let token = str_at(&signed, "access_token");
    let account = str_at(&signed["account"], "id");
    async fn me(node: &Server, token: &str) -> (StatusCode, Value) {
        node.send(node.http.get(node.url("/v1/account")).bearer_auth(token)).await
    }
    for node in &nodes {
        assert_eq!(me(node, &token).await.0, StatusCode::OK, "{} does not accept the session", node.base);
    }
    let (status, _) = nodes[1]
        .send(
            nodes[1]
                .http
                .put(nodes[1].url(&format!("/admin/accounts/{account}/ban")))
                .bearer_auth("arcade-dev-admin")
                .json(&json!({ "reason": "cluster test" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let banned_at = Instant::now();
    for node in &nodes {
        loop {
            let answer = me(node, &token).await;
            if answer.0 == StatusCode::FORBIDDEN {
                assert_eq!(answer.1["error"]["code"], "account_banned");
                break;
            }
            assert!(banned_at.elapsed() < Duration::from_secs(5), "{} still accepts a banned session", node.base);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // A refresh on another node is refused too (the refresh tokens are revoked).
    let refreshed = nodes[2].post("/v1/auth/refresh", &json!({ "refresh_token": signed["refresh_token"] })).await;
    assert_eq!(refreshed.0, StatusCode::FORBIDDEN, "{refreshed:?}");
}

/// The lobby (`GET /v1/rooms`) lists the listed rooms of the whole cluster:
/// every node answers the same pages, asking the others over a signed
/// internal route that refuses unsigned calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_lists_the_open_rooms_of_the_whole_cluster() {
    let nodes = start_cluster(&[100, 100], &[]).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let request = json!({ "game": "tic-tac-toe", "players": [format!("host-{i}")], "seats": 2, "listed": true });
        ids.push(nodes[i % 2].create_room(&request).await.id);
    }
    nodes[1].create_room(&json!({ "game": "tic-tac-toe", "players": ["shy"], "seats": 2 })).await;
    for node in &nodes {
        assert_eq!(crate::lobby::every_page(node, "game=tic-tac-toe", 2).await, ids);
    }
    let unsigned = nodes[0].get("/internal/v1/rooms/listed/abc?state=waiting&limit=5").await;
    assert_error(&unsigned, 401, "missing_signature");
}
