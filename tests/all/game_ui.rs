//! A game's browser UI (docs/game-ui.md): published beside its rules by its
//! publisher, one per version and never replaced, served to the board frame
//! with the headers its sandbox needs; and archived games re-run as what a
//! spectator saw, frame by frame, for the replay viewer. (The browser side,
//! the sandbox itself and the boards are tests/all/browser.rs.)

use reqwest::Method;
use reqwest::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH, X_CONTENT_TYPE_OPTIONS,
};

use crate::support::*;

const EXAMPLES: [&str; 4] = ["tic-tac-toe", "connect-four", "arena", "high-card-duel"];

fn sha256_hex(bytes: &[u8]) -> String {
    arcade_host::registry::sha256_hex(bytes)
}

fn example_ui(game: &str) -> String {
    let path = workspace_root().join("plugins").join(game).join("ui/index.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn ui_path(game: &str, version: &str) -> String {
    ui_file(game, version, "index.js")
}

fn ui_file(game: &str, version: &str, file: &str) -> String {
    format!("/v1/plugins/{game}/versions/{version}/ui/{file}")
}

/// The summary of `game@version` in `GET /v1/plugins/{game}`.
async fn summary(server: &Server, game: &str, version: &str) -> Value {
    let (status, versions) = server.call(Call::new(Method::GET, format!("/v1/plugins/{game}"))).await;
    assert_eq!(status, 200, "{versions}");
    let versions = versions.as_array().unwrap_or_else(|| panic!("{versions}"));
    versions.iter().find(|v| v["version"] == version).cloned().unwrap_or_else(|| panic!("no {version}: {versions:?}"))
}

async fn put_ui(server: &Server, path: &str, token: Option<&str>, source: &[u8]) -> (StatusCode, Value) {
    server.call(Call::new(Method::PUT, path).token(token).body("text/javascript", source.to_vec())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_serves_its_own_ui_to_a_sandboxed_frame() {
    let server = Server::start().await;
    for game in EXAMPLES {
        let source = example_ui(game);
        let listed = summary(&server, game, "1.0.0").await;
        assert_eq!(listed["ui"]["sha256"], sha256_hex(source.as_bytes()), "{listed}");
        assert_eq!(listed["ui"]["url"], ui_path(game, "1.0.0"), "{listed}");

        let served = server.http.get(server.url(&ui_path(game, "1.0.0"))).send().await.unwrap();
        assert_eq!(served.status(), 200);
        let headers = served.headers().clone();
        assert!(headers[CONTENT_TYPE].to_str().unwrap().starts_with("text/javascript"), "{headers:?}");
        // The frame's opaque origin imports it: a CORS fetch.
        assert_eq!(headers[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert_eq!(headers[X_CONTENT_TYPE_OPTIONS], "nosniff");
        let etag = headers[ETAG].to_str().unwrap().to_string();
        assert_eq!(etag, format!("\"{}\"", sha256_hex(source.as_bytes())));
        assert_eq!(served.text().await.unwrap(), source, "{game}'s module is served as published");
        let again = server.http.get(server.url(&ui_path(game, "1.0.0"))).header(IF_NONE_MATCH, &etag).send().await;
        assert_eq!(again.unwrap().status(), 304);
    }

    // An asset beside a module: high-card-duel's card back.
    let back = std::fs::read(workspace_root().join("plugins/high-card-duel/ui/card-back.png")).unwrap();
    let listed = summary(&server, "high-card-duel", "1.0.0").await;
    assert_eq!(listed["ui"]["assets"][0]["name"], "card-back.png", "{listed}");
    assert_eq!(listed["ui"]["assets"][0]["sha256"], sha256_hex(&back), "{listed}");
    let served = server.http.get(server.url(&ui_file("high-card-duel", "1.0.0", "card-back.png"))).send().await;
    let served = served.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()[CONTENT_TYPE], "image/png");
    assert_eq!(served.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    // Opened as a page, an asset may do nothing.
    let csp = served.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap().to_string();
    assert!(csp.contains("sandbox") && csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(served.bytes().await.unwrap().as_ref(), back.as_slice());
    let missing = server.call(Call::new(Method::GET, ui_file("high-card-duel", "1.0.0", "nope.png"))).await;
    assert_error(&missing, 404, "ui_not_found");

    let frame = server.http.get(server.url("/ui/frame.html")).send().await.unwrap();
    assert_eq!(frame.status(), 200);
    let csp = frame.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap().to_string();
    for directive in ["sandbox allow-scripts;", "default-src 'none'", "connect-src 'none'", "frame-ancestors 'self'"] {
        assert!(csp.contains(directive), "the frame's CSP lacks {directive:?}: {csp}");
    }
    assert!(!csp.contains("allow-same-origin") && !csp.contains("unsafe-eval"), "{csp}");
    assert!(frame.text().await.unwrap().contains("src=\"/ui/frame.js\""));
    let script = server.http.get(server.url("/ui/frame.js")).send().await.unwrap();
    assert_eq!(script.status(), 200);
    assert_eq!(script.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");

    // A version without a UI: the client falls back to the JSON view.
    let (status, published) = server.publish(plugin_bytes("tic-tac-toe-v2")).await;
    assert_eq!(status, 201, "{published}");
    assert_eq!(summary(&server, "tic-tac-toe", "2.0.0").await["ui"], Value::Null);
    let missing = server.call(Call::new(Method::GET, ui_path("tic-tac-toe", "2.0.0"))).await;
    assert_error(&missing, 404, "ui_not_found");
    let unknown = server.call(Call::new(Method::GET, ui_path("no-such-game", "1.0.0"))).await;
    assert_error(&unknown, 404, "plugin_not_found");
}

/// A guest session with the publisher role (granted by the admin; a
/// refresh carries it).
async fn publisher(server: &Server, device: &str) -> String {
    let (status, signed) = server
        .call(
            Call::new(Method::POST, "/v1/auth/guest")
                .body("application/json", json!({ "device_id": device }).to_string()),
        )
        .await;
    assert!(status.is_success(), "{signed}");
    let id = str_at(&signed["account"], "id");
    let grant = Call::new(Method::PUT, format!("/admin/accounts/{id}/roles/publisher")).token(Some(ADMIN_TOKEN));
    assert_eq!(server.call(grant).await.0, 200);
    let refresh = json!({ "refresh_token": signed["refresh_token"] }).to_string();
    let (status, refreshed) =
        server.call(Call::new(Method::POST, "/v1/auth/refresh").body("application/json", refresh)).await;
    assert_eq!(status, 200, "{refreshed}");
    str_at(&refreshed, "access_token")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attaching_a_ui_is_publishing_and_a_versions_ui_never_changes() {
    let dir = fresh_dir("arcade-game-ui");
    let env = [("ARCADE_LIMITS__MAX_UI_BYTES", "4096"), ("ARCADE_LIMITS__MAX_UI_ASSETS_BYTES", "8192")];
    let server = Server::start_in(&dir, &env).await;
    let (status, published) = server.publish(plugin_bytes("tic-tac-toe-v2")).await;
    assert_eq!(status, 201, "{published}");
    let v2 = ui_path("tic-tac-toe", "2.0.0");
    let board = b"export function mount(element, api) { element.textContent = 'v2'; }\n";

    // Who may attach: a publisher of the name (here: the admin's examples).
    assert_error(&put_ui(&server, &v2, None, board).await, 401, "missing_token");
    let player = server.player("pat").await;
    assert_error(&put_ui(&server, &v2, Some(&player.access_token), board).await, 403, "role_required");
    let stranger = publisher(&server, "arcade-test-device-ui-stranger").await;
    assert_error(&put_ui(&server, &v2, Some(&stranger), board).await, 403, "not_owner");
    // To what, and what.
    let unknown = put_ui(&server, &ui_path("tic-tac-toe", "9.9.9"), Some(ADMIN_TOKEN), board).await;
    assert_error(&unknown, 404, "plugin_not_found");
    let too_big = format!("export function mount() {{}}\n//{}", "x".repeat(5000));
    assert_error(&put_ui(&server, &v2, Some(ADMIN_TOKEN), too_big.as_bytes()).await, 413, "ui_too_large");
    let html = b"<!doctype html><script type=module>export function mount() {}</script>";
    assert_error(&put_ui(&server, &v2, Some(ADMIN_TOKEN), html).await, 422, "ui_not_a_module");
    let no_mount = b"export function draw(element) {}";
    assert_error(&put_ui(&server, &v2, Some(ADMIN_TOKEN), no_mount).await, 422, "ui_not_a_module");
    assert_eq!(summary(&server, "tic-tac-toe", "2.0.0").await["ui"], Value::Null, "nothing refused was kept");

    let (status, attached) = put_ui(&server, &v2, Some(ADMIN_TOKEN), board).await;
    assert_eq!(status, 201, "{attached}");
    assert_eq!(attached["ui"]["sha256"], sha256_hex(board));
    let (status, _) = put_ui(&server, &v2, Some(ADMIN_TOKEN), board).await;
    assert_eq!(status, 200, "the same module again is harmless");
    let other = b"export function mount(element) { element.textContent = 'other'; }";
    assert_error(&put_ui(&server, &v2, Some(ADMIN_TOKEN), other).await, 409, "ui_conflict");

    // Assets beside it: images, sounds and fonts only, by plain names,
    // within the version's total, each never replaced.
    let png = |fill: u8| [&b"\x89PNG\r\n\x1a\n"[..], &[fill; 5000]].concat();
    let asset = |file: &str| ui_file("tic-tac-toe", "2.0.0", file);
    assert_error(&put_ui(&server, &asset("back.png"), None, &png(1)).await, 401, "missing_token");
    assert_error(&put_ui(&server, &asset("back.png"), Some(&stranger), &png(1)).await, 403, "not_owner");
    let (status, attached) = put_ui(&server, &asset("back.png"), Some(ADMIN_TOKEN), &png(1)).await;
    assert_eq!(status, 201, "{attached}");
    assert_eq!(attached["ui"]["assets"][0]["sha256"], sha256_hex(&png(1)), "{attached}");
    assert_eq!(put_ui(&server, &asset("back.png"), Some(ADMIN_TOKEN), &png(1)).await.0, 200);
    assert_error(&put_ui(&server, &asset("back.png"), Some(ADMIN_TOKEN), &png(2)).await, 409, "ui_conflict");
    let page = put_ui(&server, &asset("page.html"), Some(ADMIN_TOKEN), b"<script>alert(1)</script>").await;
    assert_error(&page, 415, "asset_type_not_allowed");
    let svg = put_ui(&server, &asset("logo.svg"), Some(ADMIN_TOKEN), b"<svg onload=alert(1)/>").await;
    assert_error(&svg, 415, "asset_type_not_allowed");
    assert_error(&put_ui(&server, &asset("Back.PNG"), Some(ADMIN_TOKEN), b"x").await, 422, "invalid_asset_name");
    let over = put_ui(&server, &asset("front.png"), Some(ADMIN_TOKEN), &png(3)).await;
    assert_error(&over, 413, "ui_too_large");

    // Each version keeps its own: a room on 1.0.0 shows 1.0.0's board.
    let served = |path: String| {
        let server = &server;
        async move { server.http.get(server.url(&path)).send().await.unwrap().text().await.unwrap() }
    };
    assert_eq!(served(v2.clone()).await.as_bytes(), board);
    assert_eq!(served(ui_path("tic-tac-toe", "1.0.0")).await, example_ui("tic-tac-toe"));

    // Stored: a restarted node serves the same modules.
    server.kill().await;
    let server = Server::start_in(&dir, &env).await;
    assert_eq!(summary(&server, "tic-tac-toe", "2.0.0").await["ui"]["sha256"], sha256_hex(board));
    assert_eq!(server.http.get(server.url(&v2)).send().await.unwrap().text().await.unwrap().as_bytes(), board);
    let back = server.http.get(server.url(&ui_file("tic-tac-toe", "2.0.0", "back.png"))).send().await.unwrap();
    assert_eq!(back.bytes().await.unwrap().as_ref(), png(1).as_slice());
}

fn hand_of(state: &Value) -> Vec<String> {
    let hand = state["view"]["hand"].as_array().unwrap_or_else(|| panic!("no hand in {state}"));
    hand.iter().map(|c| c.as_str().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_game_replays_frame_by_frame_as_spectators_saw_it() {
    let server = Server::start().await;
    let room = server.create_room(&json!({ "game": "high-card-duel", "players": ["alice", "bob"] })).await;
    let mut alice = server.ws(&room.id, Some(room.token("alice"))).await;
    let mut bob = server.ws(&room.id, Some(room.token("bob"))).await;
    play_by_legal_actions(&mut [&mut alice, &mut bob]).await;
    server.flush_archive().await;
    // Each player's whole hand, from the first state they were sent.
    let dealt = |client: &WsClient| {
        let first = client.log.iter().find(|m| m["type"] == "state").expect("a state message");
        hand_of(first)
    };
    let hands = [dealt(&alice), dealt(&bob)];
    assert!(hands.iter().all(|hand| hand.len() == 5), "{hands:?}");

    let (status, page) = server.call(Call::new(Method::GET, "/v1/games?plugin=high-card-duel")).await;
    assert_eq!(status, 200, "{page}");
    let id = str_at(&page["games"][0], "game_id");
    let (status, full) = server.call(Call::new(Method::GET, format!("/v1/games/{id}")).token(Some(ADMIN_TOKEN))).await;
    assert_eq!(status, 200, "{full}");

    // Anyone may watch: no token.
    let (status, replay) = server.call(Call::new(Method::GET, format!("/v1/games/{id}/frames"))).await;
    assert_eq!(status, 200, "{replay}");
    assert_eq!(replay["plugin"]["name"], "high-card-duel");
    assert_eq!(replay["names"][room.id_of("alice")], "alice", "{}", replay["names"]);
    let frames = replay["frames"].as_array().unwrap();
    let inputs = full["log"].as_array().unwrap().len();
    assert_eq!(inputs, 10, "five rounds of two plays");
    assert_eq!(frames.len(), inputs + 1, "one frame before the first input and one after each");
    assert_eq!(frames[0]["status"]["state"], "playing");
    let last = frames.last().unwrap();
    assert_eq!(last["status"], full["status"], "the game ends as recorded");
    assert_eq!(last["view"], full["final_views"]["spectator"], "on the spectator's final view");
    for (n, frame) in frames.iter().enumerate().skip(1) {
        assert_eq!(frame["seq"], full["log"][n - 1]["seq"], "frame {n} follows input {n}");
    }

    // Nothing a spectator did not see: no hand, no deal, no seed, and each
    // card only once its round is revealed (round k after input 2k).
    let seed = full["seed"].to_string();
    for (n, frame) in frames.iter().enumerate() {
        assert!(frame["view"].get("hand").is_none(), "frame {n}: {frame}");
        assert!(frame["events"].as_array().unwrap().iter().all(|e| e["kind"] != "deal"), "frame {n}: {frame}");
        assert!(!frame.to_string().contains(&seed), "frame {n} holds the seed");
        let strings = json_strings(frame);
        for hand in &hands {
            for card in &hand[(n / 2).min(hand.len())..] {
                assert!(!strings.contains(&card.as_str()), "frame {n} shows the hidden card {card}: {frame}");
            }
        }
    }
    // Positive control: the revealed cards are there at the end.
    let shown = json_strings(last);
    assert!(hands.iter().flatten().all(|card| shown.contains(&card.as_str())), "{last}");

    let missing = server.call(Call::new(Method::GET, "/v1/games/no-such-game/frames")).await;
    assert_eq!(missing.0.as_u16() / 100, 4, "{missing:?}");

    // What one request may cost is bounded.
    let small = Server::start_with(&[("ARCADE_LIMITS__MAX_REPLAY_INPUTS", "4")]).await;
    let room = small.create_room(&json!({ "game": "high-card-duel", "players": ["alice", "bob"] })).await;
    let mut alice = small.ws(&room.id, Some(room.token("alice"))).await;
    let mut bob = small.ws(&room.id, Some(room.token("bob"))).await;
    play_by_legal_actions(&mut [&mut alice, &mut bob]).await;
    small.flush_archive().await;
    let (_, page) = small.call(Call::new(Method::GET, "/v1/games?plugin=high-card-duel")).await;
    let id = str_at(&page["games"][0], "game_id");
    let too_long = small.call(Call::new(Method::GET, format!("/v1/games/{id}/frames"))).await;
    assert_error(&too_long, 422, "replay_too_long");
}

/// A thousand calls from one address: a stranger's UI uploads are refused
/// before their bodies are read, every time; replay frames (a sandbox and a
/// re-run each) are answered until the address's budget is spent, then
/// `429 rate_limited` with `Retry-After`; never a 5xx, and another address
/// still watches.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_calls_from_one_address_cost_what_the_limits_allow() {
    let server = Server::start_with(&[("ARCADE_RATE_LIMITS__IP_PER_MINUTE", "50")]).await;
    let room = server.create_room(&json!({ "game": "tic-tac-toe", "players": ["alice", "bob"] })).await;
    let mut alice = server.ws(&room.id, Some(room.token("alice"))).await;
    let mut bob = server.ws(&room.id, Some(room.token("bob"))).await;
    play_by_legal_actions(&mut [&mut alice, &mut bob]).await;
    server.flush_archive().await;
    let (_, page) = server.call(Call::new(Method::GET, "/v1/games?plugin=tic-tac-toe")).await;
    let frames = format!("/v1/games/{}/frames", str_at(&page["games"][0], "game_id"));

    let stranger = publisher(&server, "arcade-test-device-ui-flood").await;
    let module = ui_path("tic-tac-toe", "1.0.0");
    let (mut refused, mut answered, mut limited) = (0, 0, 0);
    for i in 0..1000 {
        if i % 2 == 0 {
            let put = put_ui(&server, &module, Some(&stranger), b"export function mount() {}").await;
            assert_error(&put, 403, "not_owner");
            refused += 1;
            continue;
        }
        let response = server.http.get(server.url(&frames)).send().await.expect("a read");
        let (status, retry_after) = (response.status(), response.headers().get("retry-after").is_some());
        let body: Value = response.json().await.expect("a JSON body");
        match status {
            StatusCode::OK => {
                assert!(!body.to_string().contains(room.token("alice")), "a seat token in the frames");
                answered += 1;
            }
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(body["error"]["code"], "rate_limited", "{body}");
                assert!(retry_after, "429 without Retry-After");
                limited += 1;
            }
            other => panic!("call {i}: {other} {body}"),
        }
    }
    assert_eq!(refused, 500);
    assert!((20..=60).contains(&answered) && limited == 500 - answered, "{answered} answered, {limited} limited");
    // The example's own board is untouched, and another address still watches.
    assert_eq!(
        summary(&server, "tic-tac-toe", "1.0.0").await["ui"]["sha256"],
        sha256_hex(example_ui("tic-tac-toe").as_bytes())
    );
    let other = reqwest::Client::builder().local_address(std::net::IpAddr::from([127, 0, 0, 2])).build().unwrap();
    let response = other.get(server.url(&frames)).send().await.expect("a read from another address");
    assert_eq!(response.status(), StatusCode::OK);
    server.assert_healthy().await;
}
