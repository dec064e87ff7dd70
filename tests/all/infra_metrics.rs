//! The deployment files agree with the real server:
//! - every `arcade_*` series named by the alert rules, the Grafana dashboard,
//!   the prometheus-adapter rule and the HPA (`infra/monitoring`,
//!   `infra/k8s`) is in a live server's `/metrics` output, after activity
//!   that makes every labelled counter and histogram appear;
//! - the ConfigMap's `arcade.toml` (`infra/k8s/base`) is accepted by
//!   `arcade serve --config` (the host refuses unknown keys).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::*;

/// Directories whose YAML and JSON files may name host metrics.
const METRIC_USERS: &[&str] = &["infra/monitoring", "infra/k8s"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infra_metric_names_exist_in_live_metrics() {
    let used = used_metric_names();
    for expected in ["arcade_rooms_active", "arcade_plugin_call_seconds_bucket", "arcade_archive_queue_depth"] {
        assert!(used.contains_key(expected), "{expected} is not used by the infra files; found {:?}", used.keys());
    }

    // A WebSocket message rate of 1 per second, so `exercise` trips it; a
    // node of region eu that takes us matches when us has no room (it has
    // no node), so a us match falls back.
    let server = Server::start_with(&[
        ("ARCADE_RATE_LIMITS__WS_MESSAGES_PER_SECOND", "1"),
        ("ARCADE_CLUSTER__REGION", "eu"),
        ("ARCADE_CLUSTER__REGION_FALLBACK", r#"{us=["eu"]}"#),
    ])
    .await;
    exercise(&server).await;
    let text = server.metrics().await;
    let exposed = exposed_series(&text);
    let families = metric_families(&text);

    let missing: Vec<String> = used
        .iter()
        .filter(|(name, _)| !exposed.contains(name.as_str()))
        .map(|(name, files)| {
            let hint = match family_of(name, &families) {
                Some((family, kind)) => format!(" (family {family} is a {kind}, but this series has no sample)"),
                None if families.contains_key(name.as_str()) => {
                    format!(" ({name} is a {} family: name one of its series)", families[name.as_str()])
                }
                None => String::new(),
            };
            format!("{name}{hint}, used in {}", files.iter().cloned().collect::<Vec<_>>().join(", "))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "metric names used by infra/ that the server does not expose:\n  {}\n\nlive /metrics:\n{text}",
        missing.join("\n  ")
    );
}

/// The series the HTTP, WebSocket and database alerts read hold what
/// happened: requests by route template (never a raw path; unknown paths
/// as `unmatched`) and status class, WebSocket frames both ways with their
/// round trip, and the PostgreSQL archive's pool sized by
/// `[archive.postgres]` (from the environment) with its waits timed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn red_and_pool_metrics_count_what_happened() {
    let pg_url = service_var("ARCADE_TEST_PG_URL");
    let server = Server::start_with(&[
        ("ARCADE_ARCHIVE__URL", pg_url.as_str()),
        ("ARCADE_ARCHIVE__POSTGRES__MAX_CONNECTIONS", "3"),
        ("ARCADE_ARCHIVE__POSTGRES__ACQUIRE_TIMEOUT_MS", "2000"),
    ])
    .await;
    let room = server.create_room(&json!({ "game": "tic-tac-toe", "players": ["a", "b"] })).await;
    let mut a = server.ws(&room.id, Some(room.token("a"))).await;
    a.send_action("m1", &json!({ "cell": 4 })).await;
    let ack = a.next_of_type("ack").await;
    assert_eq!(ack["id"], "m1", "{ack}");
    assert_eq!(server.get(&format!("/v1/rooms/{}", room.id)).await.0, StatusCode::OK);
    for path in ["/no/such/path-1", "/no/such/path-2", &format!("/v1/rooms/{}/x/y", room.id)] {
        assert_eq!(server.get(path).await.0, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, page) = server.get("/v1/games?limit=1").await;
    assert_eq!(status, StatusCode::OK, "listing reads PostgreSQL: {page}");

    let text = server.metrics().await;
    let sample = |series: &str| -> f64 {
        text.lines()
            .find_map(|line| line.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
            .unwrap_or_else(|| panic!("no sample {series} in\n{text}"))
            .trim()
            .parse()
            .unwrap()
    };
    let http = |name: &str, route: &str, method: &str, status: &str| {
        sample(&format!(r#"arcade_{name}{{route="{route}",method="{method}",status="{status}"}}"#))
    };
    assert_eq!(http("http_requests_total", "/v1/rooms", "POST", "2xx"), 1.0);
    assert_eq!(http("http_requests_total", "/v1/rooms/{id}/join", "POST", "2xx"), 1.0, "b joined a's room");
    // One by `create_room` after b's join, one below.
    assert_eq!(http("http_requests_total", "/v1/rooms/{id}", "GET", "2xx"), 2.0);
    assert_eq!(http("http_requests_total", "/v1/rooms/{id}/ws", "GET", "1xx"), 1.0, "the upgrade's 101");
    assert_eq!(http("http_requests_total", "unmatched", "GET", "4xx"), 3.0);
    assert_eq!(http("http_request_duration_seconds_count", "/v1/games", "GET", "2xx"), 1.0);
    let bucket =
        r#"arcade_http_request_duration_seconds_bucket{le="+Inf",route="/v1/games",method="GET",status="2xx"}"#;
    assert_eq!(sample(bucket), 1.0);
    let http_lines: Vec<&str> = text.lines().filter(|l| l.starts_with("arcade_http_")).collect();
    assert!(
        http_lines.iter().all(|l| !l.contains(&room.id) && !l.contains("no/such")),
        "a raw path became a label:\n{}",
        http_lines.join("\n")
    );

    assert!(sample(r#"arcade_ws_messages_total{direction="in"}"#) >= 1.0);
    assert!(sample(r#"arcade_ws_messages_total{direction="out"}"#) >= 2.0, "the ack and the state behind it");
    assert!(sample("arcade_ws_action_round_trip_seconds_count") >= 1.0);

    assert_eq!(sample("arcade_archive_pg_pool_max_connections"), 3.0);
    assert!(sample("arcade_archive_pg_pool_acquire_seconds_count") >= 1.0, "the listing took a connection");
    let open = sample("arcade_archive_pg_pool_in_use") + sample("arcade_archive_pg_pool_idle");
    assert!((1.0..=3.0).contains(&open), "{open} connections open");
    // A snapshot: an acquisition may be under way at the scrape (a
    // background job's); nobody stays waiting.
    let mut waiting = sample("arcade_archive_pg_pool_waiting");
    for _ in 0..50 {
        if waiting == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        waiting = metric_value(&server.metrics().await, "arcade_archive_pg_pool_waiting");
    }
    assert_eq!(waiting, 0.0, "a task stays waiting for a PostgreSQL connection");
    assert_eq!(sample("arcade_archive_pg_pool_acquire_timeouts_total"), 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn k8s_config_file_is_accepted_by_the_server() {
    let config = workspace_root().join("infra/k8s/base/arcade.toml");
    let dir = fresh_dir("arcade-infra-config");
    let mut command = arcade_command();
    // The file's listen address, data and preload dirs are container paths;
    // the flags override exactly those, everything else comes from the file.
    command
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.join("data"))
        .arg("--preload")
        .arg(examples_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = tokio::process::Command::from(command).kill_on_drop(true).spawn().expect("spawning arcade serve");
    let stderr = child.stderr.take().expect("piped stderr");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let listening = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(url) = line.strip_prefix("arcade listening on ") {
                return Some(url.trim().to_string());
            }
        }
        None
    })
    .await;
    let Ok(Some(base)) = listening else {
        let _ = child.start_kill();
        let mut log = String::new();
        let mut stderr = BufReader::new(stderr);
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            let mut line = String::new();
            while stderr.read_line(&mut line).await.is_ok_and(|n| n > 0) {
                log.push_str(&line);
                line.clear();
            }
        })
        .await;
        panic!("arcade serve --config {} did not start:\n{log}", config.display());
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    tokio::spawn(async move {
        let mut stderr = BufReader::new(stderr).lines();
        while let Ok(Some(_)) = stderr.next_line().await {}
    });

    let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().expect("a client");
    let ready = http.get(format!("{base}/health/ready")).send().await.expect("GET /health/ready");
    assert_eq!(ready.status(), StatusCode::OK);
    let _ = child.start_kill();
    let _ = child.wait().await;
}

/// Activity that makes every series the infra files use appear: a finished
/// game (rooms, actions, plugin calls), a rejected action, a sandbox fault,
/// a WebSocket connection, a published plugin, a rate-limited WebSocket
/// message, a match seated outside its region, and an archive flush.
async fn exercise(server: &Server) {
    region_fallback(server).await;
    let room = server.create_room(&json!({ "game": "tic-tac-toe", "players": ["a", "b"] })).await;
    let _spectator = server.ws(&room.id, None).await;
    let moves = [("a", 0), ("b", 3), ("a", 1), ("b", 4), ("a", 2)];
    let (status, body) = server.act(&room.id, room.token("a"), &json!({ "cell": 4 })).await;
    assert_eq!(status, StatusCode::OK, "the first move: {body}");
    // Out of turn: a rejected action.
    let rejected = server.act(&room.id, room.token("a"), &json!({ "cell": 5 })).await;
    assert!(rejected.0.is_client_error(), "an out-of-turn action is refused: {rejected:?}");
    // Finish the game from a fresh room so the moves above do not matter.
    let game = server.create_room(&json!({ "game": "tic-tac-toe", "players": ["a", "b"] })).await;
    for (player, cell) in moves {
        let (status, body) = server.act(&game.id, game.token(player), &json!({ "cell": cell })).await;
        assert_eq!(status, StatusCode::OK, "{player} plays {cell}: {body}");
    }
    let info = server.room_info(&game.id).await;
    assert_eq!(info["status"]["state"], "finished", "{info}");

    // A plugin that panics: a sandbox fault (and a published plugin).
    let (status, body) = server.publish(plugin_bytes("panicker")).await;
    assert_eq!(status, StatusCode::CREATED, "publishing the panicker fixture: {body}");
    let hostile = server.create_room(&json!({ "game": "panicker", "players": ["a", "b"] })).await;
    assert_error(&server.act(&hostile.id, hostile.token("a"), &json!({})).await, 410, "room_aborted");

    let flood = server.create_room(&json!({ "game": "tic-tac-toe", "players": ["c", "d"] })).await;
    let mut d = server.ws(&flood.id, Some(flood.token("d"))).await;
    for i in 0..3 {
        d.send_action(&format!("f{i}"), &json!({ "cell": 0 })).await;
    }
    loop {
        let frame: Value = serde_json::from_str(&d.next_frame().await.expect("frames until rate_limited")).unwrap();
        if frame["type"] == "error" && frame["code"] == "rate_limited" {
            break;
        }
    }
    server.flush_archive().await;
}

/// Two us players matched on the eu node (the us region has none): one
/// region fallback.
async fn region_fallback(server: &Server) {
    let mut tickets = Vec::new();
    for player in ["us-1", "us-2"] {
        let request = json!({ "game": "tic-tac-toe", "latencies": { "us": 20 } });
        let (status, body) = server.post_as(player, "/v1/matchmaking/tickets", &request).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        tickets.push((str_at(&body["ticket"], "id"), str_at(&body, "secret")));
    }
    let (id, secret) = &tickets[0];
    let matched = server.ticket_with_room(id, secret, Duration::from_secs(10)).await;
    assert_eq!(matched["match"]["region"], "us", "the us match got no room on the eu node: {matched}");
}

/// `arcade_*` series names in the infra files, with the files naming each.
fn used_metric_names() -> BTreeMap<String, BTreeSet<String>> {
    let root = workspace_root();
    let mut files = Vec::new();
    for dir in METRIC_USERS {
        collect_files(&root.join(dir), &mut files);
    }
    assert!(!files.is_empty(), "no YAML/JSON files under {METRIC_USERS:?}");
    let mut used: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        let shown = file.strip_prefix(&root).unwrap_or(&file).display().to_string();
        for name in arcade_identifiers(&text) {
            used.entry(name).or_default().insert(shown.clone());
        }
    }
    used
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "yml" || ext == "yaml" || ext == "json") {
            out.push(path);
        }
    }
}

/// Identifiers starting with `arcade_` (a metric name is `[a-zA-Z_:][a-zA-Z0-9_:]*`),
/// not preceded by another identifier character.
fn arcade_identifiers(text: &str) -> Vec<String> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut names = Vec::new();
    for (at, _) in text.match_indices("arcade_") {
        if text[..at].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        let name: String = text[at..].chars().take_while(|&c| is_ident(c)).collect();
        // `arcade_*` in prose is a pattern, not a name.
        if name.len() > "arcade_".len() {
            names.push(name);
        }
    }
    names
}

/// Sample names in an exposition (`arcade_actions_total`, `..._bucket`, ...).
fn exposed_series(text: &str) -> BTreeSet<&str> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| line.split(['{', ' ']).next())
        .collect()
}

/// `# TYPE` families and their types (`arcade_actions` → `counter`).
fn metric_families(text: &str) -> BTreeMap<&str, &str> {
    text.lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.split_once(' '))
        .map(|(name, kind)| (name, kind.trim()))
        .collect()
}

/// The family a series name belongs to, by its suffix: `_total` of a counter,
/// `_bucket` / `_sum` / `_count` of a histogram.
fn family_of<'a>(series: &str, families: &BTreeMap<&'a str, &'a str>) -> Option<(&'a str, &'a str)> {
    [("_total", "counter"), ("_bucket", "histogram"), ("_sum", "histogram"), ("_count", "histogram")]
        .iter()
        .filter_map(|(suffix, kind)| {
            let base = series.strip_suffix(suffix)?;
            families.get_key_value(base).filter(|(_, k)| *k == kind).map(|(name, kind)| (*name, *kind))
        })
        .next()
}

#[test]
fn identifiers_are_cut_at_metric_name_boundaries() {
    let text = r#"expr: rate(arcade_actions_total{outcome="x"}[5m]) / my_arcade_x + arcade:recorded (all arcade_* series)
      matches: "^arcade_rooms_active$""#;
    assert_eq!(arcade_identifiers(text), ["arcade_actions_total", "arcade_rooms_active"]);
}
