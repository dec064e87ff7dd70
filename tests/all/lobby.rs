//! The open-rooms listing (`GET /v1/rooms`, #15): the rooms their creators
//! listed, oldest first and paged, `waiting` (seats open, to join) or
//! `playing` (to watch); never a seed, a seat token, a config or a view.

use crate::support::*;

/// The ids of one listing page, and its `next` cursor.
async fn page(server: &Server, query: &str) -> (Vec<String>, Option<String>, Value) {
    let (status, page) = server.get(&format!("/v1/rooms?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{query}: {page}");
    let ids = page["rooms"].as_array().expect("rooms").iter().map(|r| str_at(r, "id")).collect();
    (ids, page["next"].as_str().map(str::to_string), page)
}

/// Every room of a listing, page by page (`limit` a page); none partial.
pub(crate) async fn every_page(server: &Server, query: &str, limit: usize) -> Vec<String> {
    let (mut all, mut after) = (Vec::new(), None::<String>);
    loop {
        let cursor = after.as_ref().map(|a| format!("&after={a}")).unwrap_or_default();
        let (ids, next, body) = page(server, &format!("{query}&limit={limit}{cursor}")).await;
        assert!(ids.len() <= limit && body["partial"] == false, "{body}");
        all.extend(ids);
        match next {
            Some(next) => after = Some(next),
            None => return all,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_rooms_are_listed_oldest_first_paged_and_without_secrets() {
    let server = Server::start().await;
    let mut listed = Vec::new();
    for i in 0..5 {
        let request = json!({ "game": "tic-tac-toe", "players": [format!("host-{i}")], "seats": 2, "listed": true });
        listed.push(server.create_room(&request).await);
    }
    let unlisted = server.create_room(&json!({ "game": "tic-tac-toe", "players": ["shy"], "seats": 2 })).await;
    let request = json!({ "game": "connect-four", "players": ["c4"], "seats": 2, "listed": true });
    let other_game = server.create_room(&request).await;
    let ids: Vec<String> = listed.iter().map(|r| r.id.clone()).collect();

    assert_eq!(every_page(&server, "game=tic-tac-toe", 2).await, ids, "oldest first, 2 a page");
    let everything = every_page(&server, "state=waiting", 100).await;
    assert_eq!(everything.len(), 6, "{everything:?}");
    assert!(everything.contains(&other_game.id) && !everything.contains(&unlisted.id), "{everything:?}");

    // An entry is what anyone may read of a room, nothing more.
    let (_, _, body) = page(&server, "game=tic-tac-toe&limit=1").await;
    let entry = &body["rooms"][0];
    let keys: Vec<&str> = entry.as_object().expect("an entry").keys().map(String::as_str).collect();
    assert_eq!(keys, ["created_at_ms", "game", "id", "names", "seats", "version"], "{entry}");
    assert_eq!(entry["names"], json!({ listed[0].id_of("host-0"): "host-0" }), "{entry}");
    let text = page(&server, "state=waiting&limit=100").await.2.to_string();
    for room in listed.iter().chain([&unlisted, &other_game]) {
        for (_, token) in &room.seats {
            assert!(!text.contains(token.as_str()), "a seat token is listed: {text}");
        }
    }
    assert!(!text.contains("seed") && !text.contains("view") && !text.contains("config"), "{text}");

    // Every seat taken: no longer waiting, playing (to watch); over: gone.
    let guest = server.join(&listed[0].id, "guest").await;
    assert_eq!(every_page(&server, "game=tic-tac-toe", 10).await, ids[1..], "full rooms do not wait");
    assert_eq!(page(&server, "state=playing").await.0, [ids[0].clone()]);
    for (i, cell) in [0, 3, 1, 4, 2].into_iter().enumerate() {
        let token = if i % 2 == 0 { listed[0].token("host-0").to_string() } else { guest.clone() };
        let (status, body) = server.act(&listed[0].id, &token, &json!({ "cell": cell })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // The room marks itself over right after its last action's answer.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !page(&server, "state=playing").await.0.is_empty() {
        assert!(std::time::Instant::now() < deadline, "a finished room is still listed");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // Bad queries: a clear 400 each.
    assert_error(&server.get("/v1/rooms?limit=0").await, 400, "invalid_limit");
    assert_error(&server.get("/v1/rooms?limit=101").await, 400, "invalid_limit");
    assert_error(&server.get("/v1/rooms?after=yesterday").await, 400, "invalid_cursor");
    assert_error(&server.get("/v1/rooms?state=over").await, 400, "invalid_query");
    assert_error(&server.get("/v1/rooms?seed=1").await, 400, "invalid_query");
}

/// The flag is journaled with the room: a node restarted after a crash
/// lists the rooms it restored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listed_room_is_listed_again_after_a_crash() {
    let dir = fresh_dir("arcade-lobby");
    let server = Server::start_in(&dir, &[]).await;
    let request = json!({ "game": "tic-tac-toe", "players": ["early"], "seats": 2, "listed": true });
    let room = server.create_room(&request).await;
    server.create_room(&json!({ "game": "tic-tac-toe", "players": ["quiet"], "seats": 2 })).await;
    server.kill().await;
    drop(server);
    let server = Server::start_in(&dir, &[]).await;
    assert_eq!(page(&server, "game=tic-tac-toe").await.0, [room.id]);
}
