//! Finished games land in each archive backend — the filesystem default,
//! a real PostgreSQL and a real S3-protocol server — are served back by
//! `/v1/games`, and `arcade replay` verifies them from each backend.
//!
//! PostgreSQL and S3 come from `scripts/services.sh start` (the test command
//! runs it): `ARCADE_TEST_PG_URL`, `ARCADE_TEST_S3_ENDPOINT`.

use crate::support::*;

/// Play one tic-tac-toe game to a win for `x` over HTTP; returns the room id.
async fn play_one_game(server: &Server, x: &str, o: &str) -> String {
    let room = server.create_room(&json!({ "game": "tic-tac-toe", "players": [x, o] })).await;
    for (i, cell) in [0, 3, 1, 4, 2].into_iter().enumerate() {
        let player = if i % 2 == 0 { x } else { o };
        let (status, body) = server.act(&room.id, room.token(player), &json!({ "cell": cell })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    room.id
}

async fn archive_round_trip(archive_url: &str) {
    let server = Server::start_with(&[("ARCADE_ARCHIVE__URL", archive_url)]).await;
    let x = format!("ann-{}", std::process::id());
    let games = [play_one_game(&server, &x, "bob").await, play_one_game(&server, "cy", &x).await];
    server.flush_archive().await;
    // Games are listed by the player's account id.
    let x_id = server.player(&x).await.id;

    for id in &games {
        let (status, record) = server.get_as(ADMIN_TOKEN, &format!("/v1/games/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{record}");
        assert_eq!(record["plugin"]["name"], "tic-tac-toe");
        assert_eq!(record["log"].as_array().map(Vec::len), Some(5), "{record}");
        assert_eq!(record["status"]["state"], "finished", "{record}");
    }
    let (status, page) = server.get(&format!("/v1/games?player={x_id}&limit=1")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["games"].as_array().map(Vec::len), Some(1), "{page}");
    let next = page["next"].as_str().expect("a second page");
    let (_, second) = server.get(&format!("/v1/games?player={x_id}&limit=1&after={next}")).await;
    let listed: Vec<&Value> =
        page["games"].as_array().unwrap().iter().chain(second["games"].as_array().unwrap()).collect();
    let mut ids: Vec<&str> = listed.iter().map(|g| g["game_id"].as_str().unwrap()).collect();
    ids.sort();
    let mut expected: Vec<&str> = games.iter().map(String::as_str).collect();
    expected.sort();
    assert_eq!(ids, expected);
    let (status, missing) = server.get("/v1/games/no-such-game").await;
    assert_error(&(status, missing), 404, "game_not_found");

    let output = arcade_command()
        .args(["replay", &games[0], "--archive", archive_url, "--data-dir"])
        .arg(server.data_dir())
        .output()
        .expect("running arcade replay");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains(&format!("verified {}", games[0])), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn games_are_archived_to_the_filesystem_by_default() {
    let dir = fresh_dir("arcade-fs-archive");
    archive_round_trip(&dir.join("archive").display().to_string()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn games_are_archived_to_postgres() {
    archive_round_trip(&service_var("ARCADE_TEST_PG_URL")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn games_are_archived_to_s3() {
    archive_round_trip(&TestServices::get().fresh_s3_url("games")).await;
}
