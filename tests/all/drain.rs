//! Graceful shutdown: on SIGTERM the server stops taking rooms (readiness
//! 503, creation 503 `draining`), lets live games finish, archives them and
//! exits.

use std::time::Duration;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_live_games_then_exits() {
    let mut server = Server::start().await;
    let room = server.create_room(&json!({ "game": "tic-tac-toe", "players": ["x", "o"] })).await;
    let (status, _) = server.act(&room.id, room.token("x"), &json!({ "cell": 0 })).await;
    assert_eq!(status, StatusCode::OK);

    server.signal("TERM");
    let mut ready = (StatusCode::OK, Value::Null);
    for _ in 0..50 {
        ready = server.get("/health/ready").await;
        if ready.0 == StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(ready.0, StatusCode::SERVICE_UNAVAILABLE, "{}", ready.1);
    assert_eq!(ready.1["status"], "draining");
    let refused = server.try_create_room(&json!({ "game": "tic-tac-toe", "players": ["a", "b"] })).await;
    assert_error(&refused, 503, "draining");

    // The live game plays on to its end, then the server exits by itself.
    for (player, cell) in [("o", 3), ("x", 1), ("o", 4), ("x", 2)] {
        let (status, body) = server.act(&room.id, room.token(player), &json!({ "cell": cell })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let exit = server.wait_for_exit(Duration::from_secs(20)).await;
    assert!(exit.success(), "{exit:?}");
    let log = server.stderr_log();
    assert!(log.contains("archive flushed"), "{log}");
    // Read back through the archive itself (segment files with an index).
    let archive = server.data_dir().join("archive").display().to_string();
    let sink = arcade_archive::open_sink(&archive).await.expect("opening the server's archive");
    let archived = sink.get(&room.id).await.expect("reading the archive");
    assert!(archived.is_some_and(|game| game.status.is_over()), "the drained game was archived");
}
