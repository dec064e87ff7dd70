//! Whole games through the public API: publish over HTTP, create and join
//! rooms, play over real WebSockets, watch as a spectator, reconnect.

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tic_tac_toe_published_over_http_and_played_over_websockets() {
    let server = Server::start_empty().await;
    assert_eq!(server.get("/v1/plugins").await, (StatusCode::OK, json!([])));

    // Publish: 201 the first time, 200 with the same version for the same bytes.
    let wasm = plugin_bytes("tic-tac-toe");
    let (status, first) = server.publish(wasm.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!((&first["name"], &first["version"]), (&json!("tic-tac-toe"), &json!("1.0.0")));
    assert_eq!((&first["min_players"], &first["max_players"], &first["tick_hz"]), (&json!(2), &json!(2), &json!(0)));
    assert_eq!(first["size_bytes"], wasm.len());
    let hash = str_at(&first, "hash");
    assert!(hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()), "{hash}");
    let (status, again) = server.publish(wasm).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["hash"], hash);
    let (status, listed) = server.get("/v1/plugins").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");

    // Create, then seat alice (players[0] = X, moves first) and bob.
    let room = server.create_room(&json!({ "game": "tic-tac-toe" })).await;
    assert!(room.seats.is_empty(), "{:?}", room.seats);
    assert_eq!(room.info["status"], json!({ "state": "waiting_for_players", "seated": [], "seats": 2 }));
    assert_eq!((&room.info["version"], &room.info["hash"]), (&json!("1.0.0"), &json!(hash)));
    let alice_token = server.join(&room.id, "alice").await;
    let bob_token = server.join(&room.id, "bob").await;
    assert_ne!(alice_token, bob_token);
    // The plugin names players by account id; the room shows their display names.
    let (a, b) = (server.player("alice").await.id, server.player("bob").await.id);
    let info = server.room_info(&room.id).await;
    assert_eq!(info["status"], json!({ "state": "playing", "awaiting": [a] }));
    assert_eq!(info["names"], json!({ a.clone(): "alice", b.clone(): "bob" }));

    let mut alice = server.ws(&room.id, Some(&alice_token)).await;
    let mut bob = server.ws(&room.id, Some(&bob_token)).await;
    let mut spectator = server.ws(&room.id, None).await;
    for (client, you) in [(&alice, json!(a)), (&bob, json!(b)), (&spectator, json!(null))] {
        assert_eq!(
            client.welcome,
            json!({
                "type": "welcome", "room": room.id, "game": "tic-tac-toe", "version": "1.0.0", "you": you,
                "names": { a.clone(): "alice", b.clone(): "bob" },
            })
        );
    }
    let opening = alice.next_of_type("state").await;
    assert_eq!((&opening["seq"], &opening["status"]["awaiting"]), (&json!(0), &json!([a])));
    assert_eq!(opening["view"]["board"], json!([null, null, null, null, null, null, null, null, null]));
    assert_eq!(opening["view"]["players"], json!({ "X": a, "O": b }));
    assert_eq!(opening["legal_actions"].as_array().map(Vec::len), Some(9), "{opening}");
    let opening = bob.next_of_type("state").await;
    assert_eq!(opening["legal_actions"], json!([]), "bob is not awaited: {opening}");

    assert_eq!(alice.ack("a1", &json!({ "cell": 0 })).await, 1);
    // Refusals come back as error frames carrying the message id; nothing changes.
    let refused = alice.refused("a2", &json!({ "cell": 1 }), "not_your_turn").await;
    assert!(refused["message"].as_str().is_some_and(|m| !m.is_empty()), "{refused}");
    bob.refused("b1", &json!({ "cell": 0 }), "illegal_action").await;
    assert_eq!(bob.ack("b2", &json!({ "cell": 3 })).await, 2);
    assert_eq!(alice.ack("a3", &json!({ "cell": 1 })).await, 3);

    // Bob drops and reconnects with the same token: his seat and the game resume.
    bob.close().await;
    let mut bob = server.ws(&room.id, Some(&bob_token)).await;
    assert_eq!(bob.welcome["you"], b);
    let resumed = bob.next_of_type("state").await;
    assert_eq!(resumed["seq"], 3);
    assert_eq!(resumed["status"], json!({ "state": "playing", "awaiting": [b] }));
    assert_eq!(resumed["view"]["board"], json!(["X", "X", null, "O", null, null, null, null, null]));
    assert_eq!(resumed["legal_actions"], json!(cells(&[2, 4, 5, 6, 7, 8])));

    assert_eq!(bob.ack("b3", &json!({ "cell": 4 })).await, 4);
    assert_eq!(alice.ack("a4", &json!({ "cell": 2 })).await, 5);

    let final_board = json!(["X", "X", "X", "O", "O", null, null, null, null]);
    for (who, client) in [("alice", &mut alice), ("bob", &mut bob), ("spectator", &mut spectator)] {
        let last = client.until_over().await;
        assert_eq!(last["seq"], 5, "{who}: {last}");
        assert_eq!(last["status"]["state"], "finished", "{who}: {last}");
        assert_eq!(last["status"]["winners"], json!([a]), "{who}: {last}");
        assert_eq!(last["view"]["board"], final_board, "{who}: {last}");
        assert_eq!(last["view"]["next"], Value::Null, "{who}: {last}");
        assert_eq!(last["legal_actions"], json!([]), "{who}: {last}");
        assert_eq!(
            last["events"],
            json!([{ "kind": "move", "data": { "player": a, "mark": "X", "cell": 2 } }]),
            "{who}: {last}"
        );
    }
    let info = server.room_info(&room.id).await;
    assert_eq!((&info["seq"], &info["status"]["winners"]), (&json!(5), &json!([a])), "{info}");
    assert_error(&server.act(&room.id, &bob_token, &json!({ "cell": 5 })).await, 409, "game_over");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_four_vertical_win_over_websockets() {
    let server = Server::start_with(&[("ARCADE_TESTING__CLIENT_SEEDS", "true")]).await;
    let room = server.create_room(&json!({ "game": "connect-four", "players": ["alice", "bob"], "seed": 3 })).await;
    let alice_id = room.id_of("alice");
    assert_eq!(room.info["status"], json!({ "state": "playing", "awaiting": [alice_id] }));
    assert!(room.info.get("seed").is_none(), "the seed is the room's secret while it plays: {}", room.info);
    let mut alice = server.ws(&room.id, Some(room.token("alice"))).await;
    let mut bob = server.ws(&room.id, Some(room.token("bob"))).await;
    let mut spectator = server.ws(&room.id, None).await;

    // Red (alice) stacks column 0, yellow (bob) column 1: four reds on the fourth drop.
    let drops: Vec<Value> = [0, 1, 0, 1, 0, 1, 0].iter().map(|c| json!({ "column": c })).collect();
    play_in_turn(&mut [&mut alice, &mut bob], &drops).await;

    for (who, client) in [("alice", &mut alice), ("bob", &mut bob), ("spectator", &mut spectator)] {
        let last = client.until_over().await;
        assert_eq!(last["seq"], 7, "{who}: {last}");
        assert_eq!(last["status"]["state"], "finished", "{who}: {last}");
        assert_eq!(last["status"]["winners"], json!([alice_id]), "{who}: {last}");
        let view = &last["view"];
        assert_eq!(view["winner"], alice_id, "{who}: {view}");
        let mut line: Vec<Value> = view["line"].as_array().cloned().unwrap_or_default();
        line.sort_by_key(|cell| cell[0].as_u64());
        assert_eq!(line, [json!([2, 0]), json!([3, 0]), json!([4, 0]), json!([5, 0])], "{who}: {view}");
        let grid = &view["grid"];
        for row in 0..6 {
            let red = if row >= 2 { json!("R") } else { json!(null) };
            let yellow = if row >= 3 { json!("Y") } else { json!(null) };
            assert_eq!((&grid[row][0], &grid[row][1]), (&red, &yellow), "{who}: row {row} of {grid}");
        }
    }
    let info = server.room_info(&room.id).await;
    assert_eq!(info["status"]["winners"], json!([alice_id]));
    // Over: the seed may be shown (the test chose 3: its ChaCha20 key starts 03 00..).
    assert_eq!(info["seed"], format!("chacha20-v1:03{}", "0".repeat(62)), "{info}");
}

/// A room made with an open seat starts the game once at creation, with a
/// placeholder for the seat, to check its config, and for real when the
/// last seat is taken. Rooms made the same way afterwards (same build, seat
/// count and config) skip the check; a config the game refuses is refused
/// every time, with seats open or not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_the_game_accepted_is_not_checked_again_and_a_refused_one_always_is() {
    let server = Server::start().await;
    // Absent until the first start.
    let starts = |metrics: &str| {
        let name = "arcade_plugin_call_seconds_count{call=\"start\"}";
        metrics.lines().find(|l| l.starts_with(name)).map_or(0.0, |_| metric_value(metrics, name))
    };
    let before = starts(&server.metrics().await);
    let joined = json!({ "game": "tic-tac-toe", "players": ["ann", "bob"] });

    let first = server.create_room(&joined).await;
    assert_eq!(first.info["status"]["state"], "playing", "{}", first.info);
    assert_eq!(starts(&server.metrics().await) - before, 2.0, "the check at creation, then the start");

    let second = server.create_room(&joined).await;
    assert_eq!(second.info["status"]["state"], "playing", "{}", second.info);
    assert_eq!(starts(&server.metrics().await) - before, 3.0, "the same config is not checked again");

    // Another config is checked (arena takes 1 to 4 players).
    let arena = |config: Value| json!({ "game": "arena", "players": ["ann"], "seats": 2, "config": config });
    server.create_room(&arena(json!({ "duration_ticks": 100 }))).await;
    assert_eq!(starts(&server.metrics().await) - before, 4.0, "a new config is checked");
    for _ in 0..2 {
        assert_error(&server.try_create_room(&arena(json!({ "duration_ticks": 0 }))).await, 422, "invalid_config");
    }
    let refused = json!({ "game": "arena", "players": ["ann"], "config": { "duration_ticks": 0 } });
    assert_error(&server.try_create_room(&refused).await, 422, "invalid_config");
    assert_eq!(starts(&server.metrics().await) - before, 7.0, "every refusal ran the game's check");
}
