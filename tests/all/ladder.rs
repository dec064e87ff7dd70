//! Ratings and leaderboards end to end (#13): bots of three strengths play
//! matchmade tic-tac-toe on a real server; the boards end in skill order,
//! every game counts once, matchmaking uses the ladder's ratings, and a
//! restart (the ladder rebuilt from the archive) shows the same ratings.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{ADMIN_TOKEN, Api, Server, TestServices, assert_error, fresh_dir, str_at};
use arcade_archive::record::GameRecord;
use arcade_ladder::Period;
use arcade_protocol::clock::now_ms;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Bot {
    /// Minimax: never loses.
    Perfect,
    /// Wins when it can, blocks when it must, else plays at random.
    OnePly,
    Random,
}

const LINES: [[usize; 3]; 8] = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 3, 6], [1, 4, 7], [2, 5, 8], [0, 4, 8], [2, 4, 6]];

fn winner(board: &[Option<char>; 9]) -> Option<char> {
    LINES.iter().find_map(|&[a, b, c]| {
        (board[a].is_some() && board[a] == board[b] && board[b] == board[c]).then(|| board[a].unwrap())
    })
}

/// The score of `board` for `me` with `turn` to play: +1 win, 0 draw, -1 loss.
fn minimax(board: &mut [Option<char>; 9], me: char, turn: char) -> i32 {
    if let Some(w) = winner(board) {
        return if w == me { 1 } else { -1 };
    }
    let free: Vec<usize> = (0..9).filter(|&c| board[c].is_none()).collect();
    if free.is_empty() {
        return 0;
    }
    let other = if turn == 'X' { 'O' } else { 'X' };
    let scores = free.iter().map(|&c| {
        board[c] = Some(turn);
        let s = minimax(board, me, other);
        board[c] = None;
        s
    });
    if turn == me { scores.max().unwrap() } else { scores.min().unwrap() }
}

/// A move wins for `mark` on `board`.
fn winning_cell(board: &[Option<char>; 9], mark: char) -> Option<usize> {
    (0..9).filter(|&c| board[c].is_none()).find(|&c| {
        let mut next = *board;
        next[c] = Some(mark);
        winner(&next) == Some(mark)
    })
}

fn choose(bot: Bot, board: &[Option<char>; 9], me: char, roll: u64) -> usize {
    let free: Vec<usize> = (0..9).filter(|&c| board[c].is_none()).collect();
    let other = if me == 'X' { 'O' } else { 'X' };
    let random = free[(roll % free.len() as u64) as usize];
    match bot {
        Bot::Random => random,
        Bot::OnePly => winning_cell(board, me).or_else(|| winning_cell(board, other)).unwrap_or(random),
        Bot::Perfect => {
            let mut scratch = *board;
            let best = free
                .iter()
                .map(|&c| {
                    scratch[c] = Some(me);
                    let s = minimax(&mut scratch, me, other);
                    scratch[c] = None;
                    (s, c)
                })
                .max_by_key(|&(s, c)| (s, std::cmp::Reverse((c as u64 + roll) % 9)))
                .unwrap();
            best.1
        }
    }
}

/// A seat a ticket got.
struct Seated {
    room: String,
    token: String,
    /// The node running the room.
    node_url: String,
}

/// Queues `name` for tic-tac-toe and follows its ticket until seated.
async fn queue(server: &Server, name: &str, sent_rating: f64) -> Seated {
    let request = json!({ "game": "tic-tac-toe", "mode": "standard", "rating": sent_rating });
    let (status, body) = server.post_as(name, "/v1/matchmaking/tickets", &request).await;
    assert_eq!(status, StatusCode::CREATED, "queueing {name}: {body}");
    let url = server.ws_url(&format!(
        "/v1/matchmaking/tickets/{}/ws?token={}",
        str_at(&body["ticket"], "id"),
        str_at(&body, "secret")
    ));
    let (mut socket, _) = tokio_tungstenite::connect_async(&url).await.expect("the ticket WebSocket");
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(60), socket.next()).await.expect("matched within 60 s");
        let Some(Ok(Message::Text(text))) = frame else { continue };
        let update: Value = serde_json::from_str(&text).expect("JSON");
        let assignment = &update["match"]["assignment"];
        if update["status"] == "matched" && !assignment.is_null() {
            return Seated {
                room: str_at(assignment, "room_id"),
                token: str_at(&assignment["seats"][0], "token"),
                node_url: str_at(assignment, "node_url"),
            };
        }
        assert!(update["status"] == "waiting" || update["status"] == "matched", "{update}");
    }
}

/// Plays one matchmade game as `bot` to its end.
async fn play(server: &Server, name: &str, bot: Bot, room: &str, token: &str, mut roll: u64) {
    let me_id = server.player(name).await.id;
    let mut ws = server.ws(room, Some(token)).await;
    let mut sent = 0;
    loop {
        let state = ws.next_of_type("state").await;
        let status = &state["status"];
        if matches!(status["state"].as_str(), Some("finished" | "aborted")) {
            assert_eq!(status["state"], "finished", "{state}");
            return;
        }
        let my_turn = status["awaiting"].as_array().is_some_and(|a| a.iter().any(|p| p == &json!(me_id)));
        if !my_turn {
            continue;
        }
        let view = &state["view"];
        let me = if view["players"]["X"] == json!(me_id) { 'X' } else { 'O' };
        let mut board = [None; 9];
        for (cell, mark) in view["board"].as_array().expect("a board").iter().enumerate() {
            board[cell] = mark.as_str().and_then(|m| m.chars().next());
        }
        roll = roll.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let cell = choose(bot, &board, me, roll >> 33);
        ws.ack(&format!("m{sent}"), &json!({ "cell": cell })).await;
        sent += 1;
    }
}

fn ratings_by_name(body: &Value) -> Vec<(String, f64, u64)> {
    body["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| (str_at(e, "name"), e["rating"].as_f64().unwrap(), e["games"].as_u64().unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bots_of_three_strengths_end_in_skill_order_and_a_restart_rebuilds_the_same_ladder() {
    let dir = fresh_dir("arcade-ladder");
    // Any two waiting players match (ratings are what is measured here,
    // not the rating window), so strengths meet often.
    let env = [
        ("ARCADE_MATCHMAKING__RULES__INITIAL_RATING_WINDOW", "100000"),
        ("ARCADE_MATCHMAKING__RULES__MAX_WINDOW", "100000"),
    ];
    let server = Arc::new(Server::start_in(&dir, &env).await);
    // Unknown boards and bad queries, before any game.
    let (status, body) = server.get("/v1/leaderboards/tic-tac-toe/standard").await;
    assert_eq!((status, body["entries"].clone()), (StatusCode::OK, json!([])), "a queue's board exists empty: {body}");
    assert_error(&server.get("/v1/leaderboards/no-such-game/ranked").await, 404, "board_not_found");
    assert_error(&server.get("/v1/leaderboards/tic-tac-toe/standard?limit=0").await, 400, "invalid_limit");
    assert_error(&server.get("/v1/leaderboards/tic-tac-toe/standard?limit=-5").await, 400, "invalid_limit");
    assert_error(&server.get("/v1/leaderboards/tic-tac-toe/standard?after=nonsense").await, 400, "invalid_cursor");
    assert_error(&server.get("/v1/players/acc_nobody/games").await, 404, "player_not_found");

    const ROUNDS: u64 = 60;
    for round in 0..ROUNDS {
        let games: Vec<_> = BOTS
            .iter()
            .enumerate()
            .map(|(i, &(name, bot))| {
                let server = server.clone();
                tokio::spawn(async move {
                    // A client-sent rating is ignored: the ticket carries the ladder's.
                    let seat = queue(&server, name, 9999.0).await;
                    play(&server, name, bot, &seat.room, &seat.token, round * 31 + i as u64).await;
                })
            })
            .collect();
        for game in games {
            game.await.expect("a bot's game");
        }
    }
    server.flush_archive().await;

    let (status, board) = server.get("/v1/leaderboards/tic-tac-toe/standard?limit=100").await;
    assert_eq!(status, StatusCode::OK, "{board}");
    let lines = ratings_by_name(&board);
    assert_eq!(lines.len(), 6, "{board}");
    let games: u64 = lines.iter().map(|l| l.2).sum();
    assert_eq!(games, ROUNDS * 6, "every game counted once for each of its two players: {board}");
    let order: Vec<&str> = lines.iter().map(|l| l.0.split('-').next().unwrap()).collect();
    assert_eq!(order, ["perfect", "perfect", "oneply", "oneply", "random", "random"], "skill order: {board}");

    // Matchmaking uses the stored rating, not the 9999 sent.
    let (_, _, ticket_rating) = queue_and_cancel(&server, "perfect-1").await;
    let perfect_1 = lines.iter().find(|l| l.0 == "perfect-1").unwrap().1;
    assert!((ticket_rating - perfect_1).abs() < 0.01, "ticket {ticket_rating} vs ladder {perfect_1}");

    // History: newest first, each game's change chained to the next.
    let id = server.player("random-1").await.id;
    let (status, history) = server.get(&format!("/v1/players/{id}/games?limit=5")).await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let page = history["games"].as_array().expect("games");
    assert_eq!(page.len(), 5);
    assert!(page.windows(2).all(|w| w[0]["completed_at_ms"].as_u64() >= w[1]["completed_at_ms"].as_u64()));
    assert!(page.iter().all(|g| g["mode"] == "standard" && g["players"].as_array().unwrap().contains(&json!(id))));
    let next = str_at(&history, "next");
    let (_, older) = server.get(&format!("/v1/players/{id}/games?limit=100&before={next}")).await;
    assert_eq!(older["games"].as_array().unwrap().len() as u64, ROUNDS - 5, "{older}");
    let (_, ratings) = server.get(&format!("/v1/players/{id}/ratings")).await;
    assert_eq!(ratings[0]["games"], json!(ROUNDS), "{ratings}");

    // Around-me and friends agree with the page.
    let (_, around) = server.get(&format!("/v1/leaderboards/tic-tac-toe/standard?around={id}&limit=1")).await;
    let rank = ratings[0]["rank"].as_u64().unwrap();
    let ranks: Vec<u64> = around["entries"].as_array().unwrap().iter().map(|e| e["rank"].as_u64().unwrap()).collect();
    assert!(ranks.contains(&rank) && ranks.len() >= 2, "{around}");

    // A deleted account is no player any more (its games name a pseudonym).
    let leaver = server.player("oneply-2").await;
    let delete = server.http.delete(server.url("/v1/account")).bearer_auth(&leaver.access_token);
    assert_eq!(server.send(delete).await.0, StatusCode::NO_CONTENT);
    assert_error(&server.get(&format!("/v1/players/{}/games", leaver.id)).await, 404, "player_not_found");
    assert_error(&server.get(&format!("/v1/players/{}/ratings", leaver.id)).await, 404, "player_not_found");
    let board = board_until(&server, Duration::from_secs(10), |b| ratings_by_name(b).len() == 5).await;
    assert!(board["entries"].as_array().unwrap().iter().all(|e| !str_at(e, "player").starts_with("del_")), "{board}");

    // A banned account leaves the board (the others close up) and comes
    // back where its games put it once the ban is lifted.
    let banned = server.player("perfect-1").await.id;
    let ban = server
        .http
        .put(server.url(&format!("/admin/accounts/{banned}/ban")))
        .bearer_auth(crate::support::ADMIN_TOKEN)
        .json(&json!({ "reason": "cheating" }));
    assert_eq!(server.send(ban).await.0, StatusCode::OK);
    let without = board_until(&server, Duration::from_secs(10), |b| ratings_by_name(b).len() == 4).await;
    assert!(without["entries"].as_array().unwrap().iter().all(|e| e["player"] != json!(banned)), "{without}");
    let ranks: Vec<u64> = without["entries"].as_array().unwrap().iter().map(|e| e["rank"].as_u64().unwrap()).collect();
    assert_eq!(ranks, [1, 2, 3, 4], "{without}");
    let unban = server
        .http
        .delete(server.url(&format!("/admin/accounts/{banned}/ban")))
        .bearer_auth(crate::support::ADMIN_TOKEN);
    assert_eq!(server.send(unban).await.0, StatusCode::NO_CONTENT);
    let back = board_until(&server, Duration::from_secs(10), |b| ratings_by_name(b).len() == 5).await;
    assert_eq!(back["entries"], board["entries"], "back where its games put it");

    // A restart rebuilds the ladder from the archive: the same board.
    drop(server);
    let server = Server::start_in(&dir, &env).await;
    let rebuilt = board_until(&server, Duration::from_secs(10), |b| b["entries"] == board["entries"]).await;
    assert_eq!(rebuilt["entries"], board["entries"], "rebuilt from the archive");
}

/// The tic-tac-toe board once `ready` holds (within 10 s).
async fn board_until(server: &Server, within: Duration, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let (status, board) = server.get("/v1/leaderboards/tic-tac-toe/standard?limit=100").await;
        assert_eq!(status, StatusCode::OK, "{board}");
        if ready(&board) {
            return board;
        }
        assert!(tokio::time::Instant::now() < deadline, "{}: the board never got there: {board}", server.url(""));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Queues `name` and cancels at once; returns the ticket's rating.
async fn queue_and_cancel(server: &Server, name: &str) -> (StatusCode, Value, f64) {
    let request = json!({ "game": "tic-tac-toe", "mode": "standard", "rating": 9999 });
    let (status, body) = server.post_as(name, "/v1/matchmaking/tickets", &request).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let cancel = server
        .http
        .delete(server.url(&format!("/v1/matchmaking/tickets/{}", str_at(&body["ticket"], "id"))))
        .bearer_auth(str_at(&body, "secret"));
    let (cancelled, _) = server.send(cancel).await;
    let rating = body["ticket"]["rating"].as_f64().expect("a rating");
    (cancelled, body, rating)
}

const BOTS: [(&str, Bot); 6] = [
    ("perfect-1", Bot::Perfect),
    ("perfect-2", Bot::Perfect),
    ("oneply-1", Bot::OnePly),
    ("oneply-2", Bot::OnePly),
    ("random-1", Bot::Random),
    ("random-2", Bot::Random),
];

/// A rated game archived through the archiver Lambda: `winner` beat
/// `loser` in mode `standard`, ending at `at_ms`.
fn lambda_game(id: &str, winner: &str, loser: &str, at_ms: u64) -> GameRecord {
    let game = crate::lambda::moved_to(crate::lambda::game(id, winner, loser), at_ms);
    GameRecord { mode: Some("standard".into()), ..game }
}

/// The points board in the week of `week` (a day of it).
async fn weekly_points(node: &Server, week: &str) -> Value {
    let (status, board) =
        node.get(&format!("/v1/leaderboards/tic-tac-toe/standard/points?period=weekly&at={week}")).await;
    assert_eq!(status, StatusCode::OK, "{board}");
    board
}

/// The rating board once it counts `games` player-games (never more).
async fn board_with_games(node: &Server, games: u64) -> Value {
    board_until(node, Duration::from_secs(20), |board| {
        let counted: u64 = ratings_by_name(board).iter().map(|l| l.2).sum();
        assert!(counted <= games, "{}: a game counted twice: {counted} > {games}: {board}", node.url(""));
        counted == games
    })
    .await
}

/// Three nodes share Redis, the accounts and a PostgreSQL archive; twelve
/// bots (four of each strength) play 2,000 matchmade games, queueing
/// through all three nodes, their rooms on any; the archiver Lambda archives
/// more games (twice: a re-delivery). Every node's board ends the same, in
/// skill order, with every game counted once. An admin resets the score
/// board's week: every node empties it, later games count. A node started
/// afterwards rebuilds the same boards from the archive (with the reset)
/// while its spool delivers 40 archived games again, counted once. An
/// account deleted through one node is erased from every node's ladder.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_and_the_archiver_lambda_keep_one_ladder() {
    let _alone = crate::support::machine_to_myself().await;
    let archive = TestServices::get().fresh_database().await;
    let extra = [
        ("ARCADE_ARCHIVE__URL", archive.as_str()),
        ("ARCADE_LADDER__SYNC_INTERVAL_MS", "100"),
        // The archiver Lambda's games report scores (1 for the winner).
        ("ARCADE_LADDER__SCORE_BOARDS", r#"[{game="tic-tac-toe", mode="standard", name="points", kind="total"}]"#),
        // Finished rooms leave at once: 2,000 games go through 3 nodes.
        ("ARCADE_LIMITS__FINISHED_ROOM_GRACE_SECS", "1"),
        ("ARCADE_MATCHMAKING__RULES__INITIAL_RATING_WINDOW", "100000"),
        ("ARCADE_MATCHMAKING__RULES__MAX_WINDOW", "100000"),
    ];
    let accounts = TestServices::get().fresh_database().await;
    let nodes = Arc::new(crate::cluster::start_cluster_sharing(&accounts, &[1000, 1000, 1000], &extra).await);
    let bots: Vec<(String, Bot)> = BOTS
        .iter()
        .flat_map(|&(name, bot)| (0..2).map(move |copy| (format!("{name}{}", ["", "b"][copy]), bot)))
        .collect();
    const GAMES: u64 = 2_000;
    let rounds = GAMES / (bots.len() as u64 / 2);
    for round in 0..rounds {
        let games: Vec<_> = bots
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, (name, bot))| {
                let nodes = nodes.clone();
                tokio::spawn(async move {
                    let name = name.as_str();
                    let seat = queue(&nodes[i % 3], name, 1500.0).await;
                    let node = nodes
                        .iter()
                        .find(|n| n.url("") == seat.node_url.trim_end_matches('/'))
                        .unwrap_or_else(|| panic!("no node at {}", seat.node_url));
                    play(node, name, bot, &seat.room, &seat.token, round * 17 + i as u64).await;
                })
            })
            .collect();
        for game in games {
            game.await.expect("a bot's game");
        }
    }
    for node in nodes.iter() {
        node.flush_archive().await;
    }

    // The archiver Lambda archives four more games, then the same batch
    // again (SQS delivers at least once).
    let ids: Vec<String> =
        futures_util::future::join_all(["perfect-1", "oneply-1", "random-1"].map(|n| nodes[0].player(n)))
            .await
            .into_iter()
            .map(|p| p.id)
            .collect();
    let at = now_ms() - 1_000;
    let lambda_games = [
        lambda_game(&crate::support::unique("lambda-a"), &ids[0], &ids[2], at),
        lambda_game(&crate::support::unique("lambda-b"), &ids[1], &ids[2], at + 1),
        lambda_game(&crate::support::unique("lambda-c"), &ids[0], &ids[1], at + 2),
        lambda_game(&crate::support::unique("lambda-d"), &ids[0], &ids[2], at + 3),
    ];
    let messages: Vec<(String, String)> =
        lambda_games.iter().enumerate().map(|(i, g)| (format!("m{i}"), crate::lambda::json_body(g))).collect();
    let messages: Vec<(&str, String)> = messages.iter().map(|(id, body)| (id.as_str(), body.clone())).collect();
    let api = crate::support::lambda_api::RuntimeApi::start().await;
    let archives = crate::lambda::Archives { pg_url: archive.clone(), ..crate::lambda::Archives::new() };
    let function = archives.spawn(&api);
    for delivery in 0..2 {
        let outcome = api.invoke(&crate::lambda::sqs_event(&messages)).await;
        assert!(
            crate::lambda::failed_ids(outcome.response()).is_empty(),
            "delivery {delivery}: {}",
            outcome.response()
        );
    }

    // Every node catches up with the shared archive: the same board.
    let want_games = (rounds * bots.len() as u64 / 2 + lambda_games.len() as u64) * 2;
    let mut boards = Vec::new();
    for node in nodes.iter() {
        boards.push(board_with_games(node, want_games).await);
    }
    assert_eq!(boards[0]["entries"], boards[1]["entries"], "nodes 0 and 1 agree");
    assert_eq!(boards[0]["entries"], boards[2]["entries"], "nodes 0 and 2 agree");
    let order: Vec<String> =
        ratings_by_name(&boards[0]).iter().map(|l| l.0.split('-').next().unwrap().to_string()).collect();
    let want: Vec<&str> = ["perfect", "oneply", "random"].iter().flat_map(|level| [*level; 4]).collect();
    assert_eq!(order, want, "skill order: {}", boards[0]);

    // The score board: only the Lambda's games reported scores; every node
    // has them, all time and in the week and month they ended.
    let week = Period::Weekly.label(Period::Weekly.start_day(at));
    for node in nodes.iter() {
        for query in ["", "?period=weekly", &format!("?period=weekly&at={week}"), "?period=monthly"] {
            let (status, points) = node.get(&format!("/v1/leaderboards/tic-tac-toe/standard/points{query}")).await;
            assert_eq!(status, StatusCode::OK, "{points}");
            let lines: Vec<(Value, Value, Value)> = points["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (e["player"].clone(), e["score"].clone(), e["games"].clone()))
                .collect();
            if query.contains("weekly") && !query.contains("at=") && points["period"] != json!(week) {
                continue; // the week turned during the test
            }
            assert_eq!(
                lines,
                [
                    (json!(ids[0]), json!(3), json!(3)),
                    (json!(ids[1]), json!(1), json!(2)),
                    (json!(ids[2]), json!(0), json!(3))
                ],
                "{query}: {points}"
            );
        }
    }
    let (_, last_week) = nodes[0].get("/v1/leaderboards/tic-tac-toe/standard/points?period=weekly&at=2020-01-01").await;
    assert_eq!(
        (last_week["period"].clone(), last_week["entries"].clone()),
        (json!("2019-12-30"), json!([])),
        "{last_week}"
    );
    assert_error(&nodes[0].get("/v1/leaderboards/tic-tac-toe/standard/nope").await, 404, "board_not_found");
    assert_error(
        &nodes[0].get("/v1/leaderboards/tic-tac-toe/standard/points?period=yearly").await,
        400,
        "invalid_period",
    );
    assert_error(
        &nodes[0].get("/v1/leaderboards/tic-tac-toe/standard/points?period=weekly&at=yesterday").await,
        400,
        "invalid_period",
    );
    assert_error(&nodes[0].get("/v1/leaderboards/tic-tac-toe/standard?period=weekly").await, 400, "invalid_period");

    // An admin resets the points board's week (on node 0): its lines are
    // gone there at once and on the other nodes at their next reload, the
    // month keeps them, and a game that ends after the reset counts.
    let reset_path = "/admin/leaderboards/tic-tac-toe/standard/points/reset";
    let post_reset = |token: Option<&str>, body: Value| {
        let request = nodes[0].http.post(nodes[0].url(reset_path)).json(&body);
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    };
    let player_token = nodes[0].player("random-1").await.access_token;
    assert_error(&nodes[0].send(post_reset(None, json!({ "period": "weekly" }))).await, 401, "missing_token");
    assert_error(
        &nodes[0].send(post_reset(Some(&player_token), json!({ "period": "weekly" }))).await,
        403,
        "forbidden",
    );
    assert_error(
        &nodes[0].send(post_reset(Some(ADMIN_TOKEN), json!({ "period": "daily" }))).await,
        422,
        "invalid_period",
    );
    let unknown = nodes[0]
        .http
        .post(nodes[0].url("/admin/leaderboards/tic-tac-toe/standard/nope/reset"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({ "period": "weekly" }));
    assert_error(&nodes[0].send(unknown).await, 404, "board_not_found");
    let (status, reset) = nodes[0].send(post_reset(Some(ADMIN_TOKEN), json!({ "period": "weekly" }))).await;
    assert_eq!(status, StatusCode::OK, "{reset}");
    let reset_at = reset["reset_at_ms"].as_u64().expect("reset_at_ms");
    let reset_week = Period::Weekly.label(Period::Weekly.start_day(reset_at));
    assert_eq!(reset["label"], json!(reset_week), "{reset}");
    let now_weekly = weekly_points(&nodes[0], &reset_week).await;
    assert_eq!((&now_weekly["entries"], &now_weekly["reset_at_ms"]), (&json!([]), &json!(reset_at)), "at once");
    for node in nodes.iter() {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while weekly_points(node, &reset_week).await["entries"] != json!([]) {
            assert!(tokio::time::Instant::now() < deadline, "{} kept the reset week's lines", node.url(""));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let month = Period::Monthly.label(Period::Monthly.start_day(at));
        let (_, monthly) =
            node.get(&format!("/v1/leaderboards/tic-tac-toe/standard/points?period=monthly&at={month}")).await;
        assert_eq!(monthly["entries"].as_array().map(Vec::len), Some(3), "the month is not reset: {monthly}");
    }
    let after_reset = lambda_game(&crate::support::unique("lambda-e"), &ids[2], &ids[0], now_ms());
    let outcome = api.invoke(&crate::lambda::sqs_event(&[("m9", crate::lambda::json_body(&after_reset))])).await;
    assert!(crate::lambda::failed_ids(outcome.response()).is_empty(), "{}", outcome.response());
    function.stop().await;
    let want_games = want_games + 2;
    for node in nodes.iter() {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let board = weekly_points(node, &reset_week).await;
            let lines: Vec<(Value, Value)> = board["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (e["player"].clone(), e["score"].clone()))
                .collect();
            if lines == [(json!(ids[2]), json!(1)), (json!(ids[0]), json!(0))] {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{}: the game after the reset: {board}", node.url(""));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let final_board = board_with_games(&nodes[0], want_games).await;

    // A node started now, over the same archive and accounts, that saw none
    // of it live: its ladder is rebuilt from the archive, with the reset.
    // Its spool holds 40 games the archive has already (as if it had crashed
    // after storing them and before acknowledging them): it delivers them
    // again, and no board counts them twice.
    let sink = arcade_archive::open_sink(&archive).await.expect("the archive");
    let filter = arcade_archive::listing::ListFilter { plugin: Some("tic-tac-toe".into()), player: None };
    let stored = sink.list(&filter, &arcade_archive::listing::PageRequest::first(40)).await.expect("a listing");
    assert_eq!(stored.games.len(), 40);
    let late_dir = fresh_dir("ladder-late");
    {
        let spool =
            arcade_archive::spool::Spool::open(late_dir.join("data/archive-spool"), 1 << 30, Box::new(|_, _| {}))
                .expect("a spool");
        for summary in &stored.games {
            let record = sink.get(&summary.game_id).await.expect("reading a game").expect("an archived game");
            let compressed = record.to_compressed().expect("compressing");
            match spool.put(record, compressed).expect("spooling") {
                arcade_archive::spool::Put::Stored(durable) => durable.await.expect("written").expect("durable"),
                arcade_archive::spool::Put::AlreadySpooled => panic!("spooled twice"),
            }
        }
        assert_eq!(spool.depth(), 40);
    }
    let late_env = [
        ("ARCADE_ARCHIVE__URL", archive.as_str()),
        ("ARCADE_AUTH__DATABASE_URL", accounts.as_str()),
        ("ARCADE_LADDER__SCORE_BOARDS", extra[2].1),
    ];
    let late = Server::start_in(&late_dir, &late_env).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let (_, ready) = late.get("/health/ready").await;
        if ready["ladder"] == "ready" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the ladder was not rebuilt within 120 s: {ready}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, flushed) = late.send(late.http.post(late.url("/admin/archive/flush")).bearer_auth(ADMIN_TOKEN)).await;
    assert_eq!((status, &flushed["waiting"]), (StatusCode::OK, &json!(0)), "{flushed}");
    let redelivered = crate::support::metric_value(&late.metrics().await, "arcade_archive_games_total");
    assert_eq!(redelivered, 40.0, "the spool's games were delivered again");
    assert_eq!(
        board_with_games(&late, want_games).await["entries"],
        final_board["entries"],
        "rebuilt from the archive, each game once"
    );
    assert_eq!(
        weekly_points(&late, &reset_week).await["entries"],
        weekly_points(&nodes[0], &reset_week).await["entries"],
        "with the reset"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    for node in nodes.iter() {
        assert_eq!(
            board_with_games(node, want_games).await["entries"],
            final_board["entries"],
            "{}: after the re-delivery",
            node.url("")
        );
    }

    // An account deleted through node 0 is erased from every node's ladder
    // within the ban reload: no other player's history names its id, and
    // no board shows it (its games stay, under a pseudonym).
    let leaver = nodes[0].player("random-2b").await;
    let (_, games) = nodes[1].get(&format!("/v1/players/{}/games?limit=1", leaver.id)).await;
    let played = games["games"][0].clone();
    let opponent = played["players"].as_array().unwrap().iter().find(|p| **p != json!(leaver.id)).unwrap().clone();
    let opponent = opponent.as_str().unwrap();
    let delete = nodes[0].http.delete(nodes[0].url("/v1/account")).bearer_auth(&leaver.access_token);
    assert_eq!(nodes[0].send(delete).await.0, StatusCode::NO_CONTENT);
    for node in nodes.iter().chain([&late]) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (_, history) = node.get(&format!("/v1/players/{opponent}/games?limit=100")).await;
            let (_, board) = node.get("/v1/leaderboards/tic-tac-toe/standard?limit=100").await;
            let names_leaver = history.to_string().contains(&leaver.id) || board.to_string().contains(&leaver.id);
            let game = history["games"].as_array().unwrap().iter().find(|g| g["game_id"] == played["game_id"]);
            if !names_leaver {
                let players = &game.expect("the game stays in the opponent's history")["players"];
                assert!(players.to_string().contains("\"del_"), "under a pseudonym: {players}");
                break;
            }
            let naming =
                history["games"].as_array().unwrap().iter().filter(|g| g.to_string().contains(&leaver.id)).count();
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} still names the deleted account in {naming} of the opponent's games",
                node.url("")
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The public ladder reads a thousand times from one address: each answers
/// (no credential needed, no secret in them) until the address's budget is
/// spent, then `429 rate_limited` with `Retry-After`; never a server error,
/// and another address still reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_ladder_reads_from_one_address_are_rate_limited_not_served() {
    let server = Server::start_with(&[("ARCADE_RATE_LIMITS__IP_PER_MINUTE", "50")]).await;
    let id = server.player("reader").await.id;
    let paths = [
        "/v1/leaderboards/tic-tac-toe/standard".to_string(),
        format!("/v1/players/{id}/ratings"),
        format!("/v1/players/{id}/games"),
    ];
    let (mut ok, mut limited) = (0, 0);
    for i in 0..1000 {
        let response = server.http.get(server.url(&paths[i % paths.len()])).send().await.expect("a read");
        let status = response.status();
        let retry_after = response.headers().get("retry-after").is_some();
        let body: Value = response.json().await.expect("a JSON body");
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(body["error"]["code"], "rate_limited", "{body}");
                assert!(retry_after, "429 without Retry-After");
                limited += 1;
            }
            other => panic!("read {i}: {other} {body}"),
        }
    }
    assert!((40..=60).contains(&ok) && limited == 1000 - ok, "{ok} answered, {limited} limited");
    // Another address is not affected (the harness's second loopback name).
    let other = reqwest::Client::builder().local_address(std::net::IpAddr::from([127, 0, 0, 2])).build().unwrap();
    let response = other.get(server.url(&paths[0])).send().await.expect("a read from another address");
    assert_eq!(response.status(), StatusCode::OK);
    server.assert_healthy().await;
}
