//! Issue 9, rooms and the archive, tried as an outsider would: each test
//! reproduces an exploit that worked before (seed read from the room,
//! client-chosen seeds, the full archive record for anyone, rooms that never
//! expire, ghost rooms after a restart, other players' budgets spent by a
//! stranger) and checks it is refused with its error code.

use std::time::Duration;

use crate::support::*;

/// A finished tic-tac-toe game (ann wins on the top row); returns the room.
async fn finished_game(server: &Server) -> Room {
    let room = server.create_room(&json!({ "game": "tic-tac-toe", "players": ["ann", "bob"] })).await;
    for (player, cell) in [("ann", 0), ("bob", 3), ("ann", 1), ("bob", 4), ("ann", 2)] {
        let (status, body) = server.act(&room.id, room.token(player), &json!({ "cell": cell })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    room
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_is_secret_until_the_game_ends_and_clients_cannot_choose_it() {
    let server = Server::start().await;
    // A client-chosen seed would let its chooser compute every hidden card.
    let chosen = json!({ "game": "high-card-duel", "players": ["ann", "bob"], "seed": 11 });
    assert_error(&server.try_create_room(&chosen).await, 403, "client_seed_not_allowed");

    let room = server.create_room(&json!({ "game": "high-card-duel", "players": ["ann", "bob"] })).await;
    assert!(!json_strings(&room.info).iter().any(|s| s.contains("chacha")), "{}", room.info);
    assert!(room.info.get("seed").is_none(), "the create answer shows no seed: {}", room.info);
    let info = server.room_info(&room.id).await;
    assert!(info.get("seed").is_none(), "GET /v1/rooms/{{id}} shows no seed while the game runs: {info}");
    // Nor does a spectator's or a player's WebSocket.
    let mut spectator = server.ws(&room.id, None).await;
    let state = spectator.next_of_type("state").await;
    assert!(!state.to_string().contains("seed"), "{state}");

    let game = finished_game(&server).await;
    let over = server.room_info(&game.id).await;
    let seed = str_at(&over, "seed");
    assert!(seed.starts_with("chacha20-v1:") && seed.len() == "chacha20-v1:".len() + 64, "{over}");
    let other = finished_game(&server).await;
    assert_ne!(server.room_info(&other.id).await["seed"], over["seed"], "every room draws its own seed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_mode_accepts_a_chosen_seed_and_games_with_it_repeat() {
    let server = Server::start_with(&[("ARCADE_TESTING__CLIENT_SEEDS", "true")]).await;
    let request = json!({ "game": "high-card-duel", "players": ["ann", "bob"], "seed": 11 });
    let mut hands = Vec::new();
    for _ in 0..2 {
        let room = server.create_room(&request).await;
        let mut ann = server.ws(&room.id, Some(room.token("ann"))).await;
        hands.push(ann.next_of_type("state").await["view"]["hand"].clone());
    }
    let (first, second) = (&hands[0], &hands[1]);
    assert!(first.is_array(), "{first}");
    assert_eq!(first, second, "the same chosen seed deals the same hand");
    let bad = json!({ "game": "tic-tac-toe", "seed": "mt19937:5" });
    assert_error(&server.try_create_room(&bad).await, 422, "invalid_seed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_read_only_the_spectator_record_of_an_archived_game() {
    let server = Server::start().await;
    let room = server.create_room(&json!({ "game": "high-card-duel", "players": ["ann", "bob"] })).await;
    let mut ann = server.ws(&room.id, Some(room.token("ann"))).await;
    let mut bob = server.ws(&room.id, Some(room.token("bob"))).await;
    let ann_hand: Vec<Value> = ann.next_of_type("state").await["view"]["hand"].as_array().unwrap().clone();
    let bob_hand: Vec<Value> = bob.next_of_type("state").await["view"]["hand"].as_array().unwrap().clone();
    for (round, (a, b)) in ann_hand.iter().zip(&bob_hand).enumerate() {
        ann.ack(&format!("a{round}"), &json!({ "play": a })).await;
        bob.ack(&format!("b{round}"), &json!({ "play": b })).await;
    }
    ann.until_over().await;
    server.flush_archive().await;
    let path = format!("/v1/games/{}", room.id);

    // Anonymous: no seed, no inputs, no private events, no player's view.
    let (status, public) = server.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{public}");
    assert_eq!(public["visibility"], "spectator", "{public}");
    for secret in ["seed", "log", "seat_token_sha256"] {
        assert!(public.get(secret).is_none(), "anonymous callers do not get {secret}: {public}");
    }
    assert!(public["final_views"].get("players").is_none(), "{public}");
    assert!(public["events"].as_array().unwrap().iter().all(|e| e["kind"] != "deal"), "private deals hidden: {public}");
    assert_eq!(public["status"]["state"], "finished");

    // A stranger's token is not a player's.
    let stranger = server.http.get(server.url(&path)).bearer_auth("0123456789abcdef0123456789abcdef");
    assert_eq!(server.send(stranger).await.1["visibility"], "spectator");
    let replay = format!("{path}/replay");
    assert_error(&server.get(&replay).await, 401, "missing_token");
    let stranger_replay = server.http.get(server.url(&replay)).bearer_auth("not-a-seat-token");
    assert_error(&server.send(stranger_replay).await, 403, "not_a_player");

    // A player of the game reads it whole, and so does an admin.
    let (status, full) = server.send(server.http.get(server.url(&path)).bearer_auth(room.token("bob"))).await;
    assert_eq!(status, StatusCode::OK, "{full}");
    assert_eq!(full["visibility"], "full");
    assert!(str_at(&full, "seed").starts_with("chacha20-v1:"), "{full}");
    assert_eq!(full["final_views"]["players"].as_object().map(|m| m.len()), Some(2), "{full}");
    assert!(full["events"].as_array().unwrap().iter().any(|e| e["kind"] == "deal"), "{full}");
    let admin = server.http.get(server.url(&replay)).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(admin.status(), StatusCode::OK);
    let player = server.http.get(server.url(&replay)).bearer_auth(room.token("ann")).send().await.unwrap();
    assert_eq!(player.status(), StatusCode::OK);
    assert!(!player.bytes().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_creation_is_limited_per_ip_configs_are_capped_and_waiting_rooms_expire() {
    let server = Server::start_with(&[
        ("ARCADE_RATE_LIMITS__IP_PER_MINUTE", "5"),
        ("ARCADE_LIMITS__WAITING_ROOM_TTL_SECS", "1"),
        ("ARCADE_LIMITS__MAX_CONFIG_BYTES", "64"),
    ])
    .await;
    // A config over the cap is refused before it costs anything.
    let big = json!({ "game": "tic-tac-toe", "config": { "pad": "x".repeat(100) } });
    assert_error(&server.try_create_room(&big).await, 413, "config_too_large");

    // Rooms count per IP: the creator's sign-in and refresh took two of the five.
    let mut waiting = Vec::new();
    for _ in 0..3 {
        waiting.push(server.create_room(&json!({ "game": "tic-tac-toe" })).await.id);
    }
    let refused = server.try_create_room(&json!({ "game": "tic-tac-toe" })).await;
    assert_error(&refused, 429, "rate_limited");

    // Nobody joined: the rooms expire and leave memory's table of open rooms.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let info = server.room_info(&waiting[0]).await;
    assert_eq!(info["status"]["state"], "aborted", "{info}");
    assert_eq!(info["status"]["code"], "expired", "{info}");
    assert_eq!(metric_value(&server.metrics().await, "arcade_rooms_expired_total"), 3.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_creations_leave_no_room_and_restarts_respect_max_rooms() {
    let dir = fresh_dir("hardening-ghosts");
    let env = [("ARCADE_LIMITS__MAX_ROOMS", "4")];
    let server = Server::start_in(&dir, &env).await;
    // Display names rooms would show are checked when an account takes
    // them (too long, invisible, reordering): refused, the name unchanged.
    let ann = server.player("ann").await;
    for name in ["a".repeat(40), "ann\u{200B}".to_string(), "\u{202E}nna".to_string()] {
        let rename = Call::new(Method::PATCH, "/v1/account")
            .token(Some(&ann.access_token))
            .body("application/json", json!({ "display_name": name }).to_string());
        assert_error(&server.call(rename).await, 422, "invalid_display_name");
    }
    // A config the game refuses: nothing is kept.
    let bad_config = json!({ "game": "arena", "players": ["ann"], "config": { "duration_ticks": 0 } });
    assert_error(&server.try_create_room(&bad_config).await, 422, "invalid_config");
    // One account is one seat, however often it joins.
    let room = server.create_room(&json!({ "game": "tic-tac-toe", "players": ["ann"], "seats": 2 })).await;
    assert_eq!(server.join(&room.id, "ann").await, room.token("ann"));
    let info = server.room_info(&room.id).await;
    assert_eq!(info["status"]["seated"], json!([ann.id]), "{info}");
    assert_eq!(info["names"], json!({ ann.id.clone(): "ann" }), "{info}");
    let metrics = server.metrics().await;
    assert_eq!(metric_value(&metrics, "arcade_rooms_created_total"), 1.0, "only the valid room was created");

    // Fill the node, then restart it with room for fewer: no more than
    // max_rooms come back; the rest wait in the journal.
    for _ in 0..3 {
        server.create_room(&json!({ "game": "tic-tac-toe" })).await;
    }
    drop(server);
    let smaller = Server::start_in(&dir, &[("ARCADE_LIMITS__MAX_ROOMS", "2")]).await;
    let metrics = smaller.metrics().await;
    assert_eq!(metric_value(&metrics, "arcade_rooms_active"), 2.0, "{metrics}");
    assert_eq!(metric_value(&metrics, "arcade_rooms_not_restored_total"), 2.0, "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_flooding_bad_tokens_spends_only_their_own_budget() {
    let server = Server::start_with(&[
        ("ARCADE_RATE_LIMITS__ROOM_PER_SECOND", "3"),
        // ann's and bob's sign-ins and refreshes, the creation and the join
        // take six: the first bad token is the last the IP may send.
        ("ARCADE_RATE_LIMITS__IP_PER_MINUTE", "7"),
        ("ARCADE_RATE_LIMITS__PLAYER_PER_MINUTE", "3"),
    ])
    .await;
    let room = server.create_room(&json!({ "game": "tic-tac-toe", "players": ["ann", "bob"] })).await;
    // Bad tokens: refused as such, then the stranger's IP is limited...
    let mut codes = Vec::new();
    for _ in 0..8 {
        codes.push(server.act(&room.id, "0123456789abcdef0123456789abcdef", &json!({ "cell": 0 })).await);
    }
    assert_error(&codes[0], 403, "invalid_token");
    assert_error(codes.last().unwrap(), 429, "rate_limited");
    // ...and the room's players are not: each seat has its own action budget.
    for (player, cell) in [("ann", 0), ("bob", 3), ("ann", 1)] {
        let (status, body) = server.act(&room.id, room.token(player), &json!({ "cell": cell })).await;
        assert_eq!(status, StatusCode::OK, "{player}: {body}");
    }
    // Requests refused as invalid under dave's name do not count against dave.
    let fresh = Server::start_with(&[("ARCADE_RATE_LIMITS__PLAYER_PER_MINUTE", "2")]).await;
    for _ in 0..5 {
        let bad = fresh.try_create_room(&json!({ "game": "no-such-game", "players": ["dave"] })).await;
        assert_error(&bad, 404, "plugin_not_found");
    }
    // Tickets the matchmaker refuses (no such game, names typed in, a
    // party that is not dave's) do not either.
    for bad in [
        json!({ "game": "no-such-game" }),
        json!({ "game": "tic-tac-toe", "party": ["dave", "x"] }),
        json!({ "game": "tic-tac-toe", "party_id": "pty_aaaaaaaaaaaaaaaaaaaaaaaaaa" }),
    ] {
        let (status, body) = fresh.post_as("dave", "/v1/matchmaking/tickets", &bad).await;
        assert!(status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS, "{status} {body}");
    }
    let (status, room) =
        fresh.try_create_room(&json!({ "game": "tic-tac-toe", "players": ["dave"], "seats": 2 })).await;
    assert_eq!(status, StatusCode::CREATED, "dave still has his budget: {room}");
    let (status, ticket) = fresh.post_as("dave", "/v1/matchmaking/tickets", &json!({ "game": "tic-tac-toe" })).await;
    assert_eq!(status, StatusCode::CREATED, "dave can still queue: {ticket}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamps_are_milliseconds_and_big_numbers_travel_as_strings() {
    let server = Server::start().await;
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let (status, plugins) = server.get("/v1/plugins").await;
    assert_eq!(status, StatusCode::OK, "{plugins}");
    for plugin in plugins.as_array().unwrap() {
        assert!(plugin.get("published_at").is_none(), "{plugin}");
        let published = plugin["published_at_ms"].as_u64().unwrap_or_else(|| panic!("{plugin}"));
        assert!(now_ms - published < 600_000, "published_at_ms is unix milliseconds of this run: {plugin}");
    }
    // The only u64 that can pass 2^53, the seed, is a string.
    let game = finished_game(&server).await;
    assert!(server.room_info(&game.id).await["seed"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_watchers_of_a_finished_game_see_its_final_views() {
    let server = Server::start().await;
    let room = server.create_room(&json!({ "game": "tic-tac-toe", "players": ["ann", "bob"] })).await;
    let mut ann = server.ws(&room.id, Some(room.token("ann"))).await;
    for (player, cell) in [("ann", 0), ("bob", 3), ("ann", 1), ("bob", 4), ("ann", 2)] {
        assert_eq!(server.act(&room.id, room.token(player), &json!({ "cell": cell })).await.0, StatusCode::OK);
    }
    let last = ann.until_over().await;
    // The room gave its sandbox back at the end; the views it rendered then
    // are what late watchers get.
    let mut late_ann = server.ws(&room.id, Some(room.token("ann"))).await;
    let mut late_spectator = server.ws(&room.id, None).await;
    let (ann_view, spectator_view) = (late_ann.next_of_type("state").await, late_spectator.next_of_type("state").await);
    assert_eq!(ann_view["view"], last["view"], "{ann_view}");
    assert_eq!(ann_view["status"]["winners"], json!([room.id_of("ann")]));
    assert!(spectator_view["view"].is_object(), "{spectator_view}");
    assert_eq!(spectator_view["status"]["state"], "finished");
}
