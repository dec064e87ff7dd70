//! Yanking plugin versions (issue #16 item 4): an admin yanks a version;
//! rooms already on it finish (across a restart too), new rooms and
//! matchmaking tickets get the latest version not yanked, asking for the
//! yanked one is refused, its games still replay, and the yank survives a
//! restart. Strangers cannot yank.

use std::time::Duration;

use crate::support::*;

const TICKETS: &str = "/v1/matchmaking/tickets";

fn yank_path(version: &str) -> String {
    format!("/v1/plugins/tic-tac-toe/versions/{version}/yank")
}

/// `POST` (yank) or `DELETE` (un-yank) the yank route of `tic-tac-toe@version` at `base`.
async fn yank_at(
    server: &Server,
    base: &str,
    method: reqwest::Method,
    version: &str,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = server.http.request(method, format!("{base}{}", yank_path(version)));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    server.send(request).await
}

/// Yank (`yanked`) or un-yank `tic-tac-toe@version` with the admin token; must succeed.
async fn set_yanked(server: &Server, version: &str, yanked: bool) -> Value {
    let method = if yanked { reqwest::Method::POST } else { reqwest::Method::DELETE };
    let (status, body) = yank_at(server, &server.base, method, version, Some(ADMIN_TOKEN)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (&body["name"], &body["version"], &body["yanked"]),
        (&json!("tic-tac-toe"), &json!(version), &json!(yanked))
    );
    body
}

/// `(version, yanked)` of every listed tic-tac-toe version, oldest first.
async fn listed(server: &Server) -> Vec<(String, bool)> {
    let (status, versions) = server.get("/v1/plugins/tic-tac-toe").await;
    assert_eq!(status, StatusCode::OK, "{versions}");
    let versions = versions.as_array().unwrap_or_else(|| panic!("not a list: {versions}"));
    let mut listed: Vec<(String, bool)> = versions
        .iter()
        .map(|v| (str_at(v, "version"), v["yanked"].as_bool().unwrap_or_else(|| panic!("no `yanked` in {v}"))))
        .collect();
    listed.sort();
    listed
}

/// The version a new room gets when it names none.
async fn new_room_version(server: &Server) -> Value {
    let room = server.create_room(&json!({ "game": "tic-tac-toe", "players": ["nina", "omar"] })).await;
    room.info["version"].clone()
}

/// Queues `player` for tic-tac-toe: `(ticket id, secret)`.
async fn queue(server: &Server, player: &str) -> (String, String) {
    let (status, ticket) = server.post_as(player, TICKETS, &json!({ "game": "tic-tac-toe" })).await;
    assert_eq!(status, StatusCode::CREATED, "{player} queueing: {ticket}");
    (str_at(&ticket["ticket"], "id"), str_at(&ticket, "secret"))
}

/// The room ticket `(id, secret)` is matched into.
async fn room_of_ticket(server: &Server, (id, secret): &(String, String)) -> String {
    str_at(&server.ticket_with_room(id, secret, Duration::from_secs(60)).await["match"]["assignment"], "room_id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_yanked_version_finishes_its_rooms_and_starts_no_new_ones() {
    let dir = fresh_dir("arcade-yank");
    // tic-tac-toe 1.0.0 comes with the examples; 2.0.0 is published.
    let server = Server::start_in(&dir, &[]).await;
    let (status, v2) = server.publish(plugin_bytes("tic-tac-toe-v2")).await;
    assert_eq!((status, &v2["version"], &v2["yanked"]), (StatusCode::CREATED, &json!("2.0.0"), &json!(false)), "{v2}");

    // Room A (over WebSocket) and room B (over HTTP, left unfinished across
    // a restart) start on 2.0.0, one move each.
    let room_a = server.create_room(&json!({ "game": "tic-tac-toe", "players": ["alice", "bob"] })).await;
    assert_eq!(room_a.info["version"], "2.0.0", "{}", room_a.info);
    let mut alice = server.ws(&room_a.id, Some(room_a.token("alice"))).await;
    let mut bob = server.ws(&room_a.id, Some(room_a.token("bob"))).await;
    alice.ack("a0", &json!({ "cell": 0 })).await;
    let room_b = server.create_room(&json!({ "game": "tic-tac-toe", "players": ["xena", "yuri"] })).await;
    assert_eq!(room_b.info["version"], "2.0.0", "{}", room_b.info);
    assert_eq!(server.act(&room_b.id, room_b.token("xena"), &json!({ "cell": 0 })).await.0, StatusCode::OK);
    // Carol queues before the yank; her match forms after it.
    let carol = queue(&server, "carol").await;

    // A stranger cannot yank: no token, a wrong one.
    let public = server.base.clone();
    assert_error(&yank_at(&server, &public, reqwest::Method::POST, "2.0.0", None).await, 401, "missing_token");
    assert_error(&yank_at(&server, &public, reqwest::Method::POST, "2.0.0", Some("guess")).await, 403, "invalid_token");
    assert_error(&yank_at(&server, &public, reqwest::Method::DELETE, "2.0.0", None).await, 401, "missing_token");
    assert_eq!(listed(&server).await, [("1.0.0".into(), false), ("2.0.0".into(), false)]);
    assert_eq!(new_room_version(&server).await, "2.0.0");

    // The admin yanks 2.0.0 (twice: the same answer). Unknown versions are 404.
    set_yanked(&server, "2.0.0", true).await;
    set_yanked(&server, "2.0.0", true).await;
    let unknown = yank_at(&server, &public, reqwest::Method::POST, "3.0.0", Some(ADMIN_TOKEN)).await;
    assert_error(&unknown, 404, "plugin_not_found");
    assert_eq!(listed(&server).await, [("1.0.0".into(), false), ("2.0.0".into(), true)]);
    let (_, all) = server.get("/v1/plugins").await;
    assert!(all.as_array().unwrap().iter().all(|p| p["yanked"].is_boolean()), "{all}");

    // New rooms: 1.0.0 unless they ask for 2.0.0, which is refused.
    assert_eq!(new_room_version(&server).await, "1.0.0");
    let refused = server.try_create_room(&json!({ "game": "tic-tac-toe", "version": "2.0.0" })).await;
    assert_error(&refused, 410, "plugin_version_yanked");
    let pinned = server.create_room(&json!({ "game": "tic-tac-toe", "version": "1.0.0" })).await;
    assert_eq!(pinned.info["version"], "1.0.0");

    // Room A plays to the end on 2.0.0.
    play_in_turn(&mut [&mut bob, &mut alice], &cells(&[3, 1, 4, 2])).await;
    for client in [&mut alice, &mut bob] {
        let last = client.until_over().await;
        assert_eq!(last["status"]["winners"], json!([server.player("alice").await.id]), "{last}");
        for state in client.states() {
            assert_eq!(state["view"]["rules_version"], "2.0.0", "room A changed rules mid-game: {state}");
        }
    }
    let info = server.room_info(&room_a.id).await;
    assert_eq!((&info["version"], &info["hash"]), (&json!("2.0.0"), &v2["hash"]), "{info}");

    // Matchmaking: Carol (queued before the yank) and Dave get a 1.0.0 room.
    let dave = queue(&server, "dave").await;
    let matched = room_of_ticket(&server, &carol).await;
    assert_eq!(room_of_ticket(&server, &dave).await, matched);
    assert_eq!(server.room_info(&matched).await["version"], "1.0.0");

    // Room A's game, archived, replays on the yanked version.
    server.flush_archive().await;
    let (status, record) = server.get_as(ADMIN_TOKEN, &format!("/v1/games/{}", room_a.id)).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(record["plugin"]["version"], "2.0.0", "{record}");
    let replay = |data_dir: std::path::PathBuf, game: &str| {
        let output = arcade_command()
            .args(["replay", game, "--data-dir"])
            .arg(data_dir)
            .output()
            .expect("running arcade replay");
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
        assert!(stdout.contains(&format!("verified {game}: tic-tac-toe@2.0.0")), "{stdout}");
    };
    replay(server.data_dir(), &room_a.id);

    // A restart: the yank holds, and room B comes back on 2.0.0 and finishes.
    server.kill().await;
    drop(server);
    let server = Server::start_in(&dir, &[]).await;
    assert_eq!(listed(&server).await, [("1.0.0".into(), false), ("2.0.0".into(), true)]);
    assert_eq!(new_room_version(&server).await, "1.0.0");
    let refused = server.try_create_room(&json!({ "game": "tic-tac-toe", "version": "2.0.0" })).await;
    assert_error(&refused, 410, "plugin_version_yanked");
    let info = server.room_info(&room_b.id).await;
    assert_eq!((&info["version"], &info["status"]["state"]), (&json!("2.0.0"), &json!("playing")), "{info}");
    for (player, cell) in [("yuri", 3), ("xena", 1), ("yuri", 4), ("xena", 2)] {
        let (status, body) = server.act(&room_b.id, room_b.token(player), &json!({ "cell": cell })).await;
        assert_eq!(status, StatusCode::OK, "{player} {cell}: {body}");
    }
    let info = server.room_info(&room_b.id).await;
    assert_eq!(
        (&info["version"], &info["status"]["winners"]),
        (&json!("2.0.0"), &json!([room_b.id_of("xena")])),
        "{info}"
    );
    server.flush_archive().await;
    replay(server.data_dir(), &room_b.id);

    // Every version yanked: no new room, no ticket.
    set_yanked(&server, "1.0.0", true).await;
    assert_error(&server.try_create_room(&json!({ "game": "tic-tac-toe" })).await, 410, "plugin_yanked");
    let refused = server.try_create_room(&json!({ "game": "tic-tac-toe", "version": "1.0.0" })).await;
    assert_error(&refused, 410, "plugin_version_yanked");
    let ticket = server.post_as("erin", TICKETS, &json!({ "game": "tic-tac-toe" })).await;
    assert_error(&ticket, 410, "plugin_yanked");
    assert_eq!(listed(&server).await, [("1.0.0".into(), true), ("2.0.0".into(), true)]);

    // Un-yanked (DELETE), 2.0.0 is the latest again.
    set_yanked(&server, "2.0.0", false).await;
    assert_eq!(new_room_version(&server).await, "2.0.0");
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_admin_listener_only_it_yanks() {
    let server = Server::start_with(&[("ARCADE_ADMIN_LISTEN", "127.0.0.1:0")]).await;
    let admin = server.admin_base.clone().expect("the server printed its admin listener");
    let public = server.base.clone();
    let (post, delete) = (reqwest::Method::POST, reqwest::Method::DELETE);
    for method in [&post, &delete] {
        let answer = yank_at(&server, &public, method.clone(), "1.0.0", Some(ADMIN_TOKEN)).await;
        assert_error(&answer, 404, "not_found");
    }
    assert_error(&yank_at(&server, &admin, post.clone(), "1.0.0", None).await, 401, "missing_token");
    assert_error(&yank_at(&server, &admin, post.clone(), "1.0.0", Some("guess")).await, 403, "invalid_token");
    assert_eq!(listed(&server).await, [("1.0.0".into(), false)]);

    let (status, body) = yank_at(&server, &admin, post, "1.0.0", Some(ADMIN_TOKEN)).await;
    assert_eq!((status, &body["yanked"]), (StatusCode::OK, &json!(true)), "{body}");
    assert_eq!(listed(&server).await, [("1.0.0".into(), true)]);
    assert_error(&server.try_create_room(&json!({ "game": "tic-tac-toe" })).await, 410, "plugin_yanked");
    let (status, body) = yank_at(&server, &admin, delete, "1.0.0", Some(ADMIN_TOKEN)).await;
    assert_eq!((status, &body["yanked"]), (StatusCode::OK, &json!(false)), "{body}");
    assert_eq!(new_room_version(&server).await, "1.0.0");
}
