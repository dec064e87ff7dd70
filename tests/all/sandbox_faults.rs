//! Hostile plugins on a live server: each fault aborts only its own room,
//! with the right code, while a healthy game on the same server plays on.

use std::sync::Arc;
use std::time::Duration;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_plugins_abort_only_their_own_rooms() {
    let server = Arc::new(Server::start().await);

    let refused = server.publish(plugin_bytes("file-reader")).await;
    assert_error(&refused, 422, "forbidden_import");
    let message = refused.1["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("wasi:filesystem"), "the message names the import: {message}");
    assert_error(&server.get("/v1/plugins/file-reader").await, 404, "plugin_not_found");
    for hostile in ["spinner", "memory-bomb", "panicker"] {
        let (status, body) = server.publish(plugin_bytes(hostile)).await;
        assert_eq!(status, StatusCode::CREATED, "{hostile} looks harmless at publish time: {body}");
    }

    // A healthy tic-tac-toe game, started before the faults and played while they happen.
    let (started, has_started) = tokio::sync::oneshot::channel();
    let healthy = tokio::spawn({
        let server = server.clone();
        async move {
            let room = server.create_room(&json!({ "game": "tic-tac-toe", "players": ["alice", "bob"] })).await;
            let mut alice = server.ws(&room.id, Some(room.token("alice"))).await;
            let mut bob = server.ws(&room.id, Some(room.token("bob"))).await;
            alice.ack("first", &json!({ "cell": 0 })).await;
            started.send(()).expect("the test is waiting");
            for (i, cell) in [3, 1, 4, 2].into_iter().enumerate() {
                tokio::time::sleep(Duration::from_millis(60)).await;
                let mover = if i % 2 == 0 { &mut bob } else { &mut alice };
                mover.ack(&format!("m{i}"), &json!({ "cell": cell })).await;
            }
            (alice.until_over().await, bob.until_over().await)
        }
    });
    has_started.await.expect("the healthy game started");

    for (game, code) in [("spinner", "cpu_deadline"), ("memory-bomb", "memory_limit"), ("panicker", "panic")] {
        let room = server.create_room(&json!({ "game": game, "players": ["a", "b"] })).await;
        assert_eq!(room.info["status"]["state"], "playing", "{game}: {}", room.info);
        let mut watcher = server.ws(&room.id, None).await;

        assert_error(&server.act(&room.id, room.token("a"), &json!({})).await, 410, "room_aborted");

        let info = server.room_info(&room.id).await;
        let status = &info["status"];
        assert_eq!((&status["state"], &status["code"]), (&json!("aborted"), &json!(code)), "{game}: {info}");
        let reason = status["reason"].as_str().unwrap_or_default();
        assert!(!reason.is_empty(), "{game}: the abort has a reason: {info}");
        if game == "panicker" {
            assert!(reason.contains("deliberate panic"), "the panic message is kept: {reason}");
        }
        let seen = watcher.until_over().await;
        assert_eq!(&seen["status"], status, "{game}: the spectator saw the abort");
        // The room stays aborted: the other player gets the same answer.
        assert_error(&server.act(&room.id, room.token("b"), &json!({})).await, 410, "room_aborted");
    }

    let (alice, bob) = tokio::time::timeout(Duration::from_secs(30), healthy)
        .await
        .expect("the healthy game finished in time")
        .expect("the healthy game task");
    for last in [&alice, &bob] {
        assert_eq!(last["status"]["state"], "finished", "{last}");
        assert_eq!(last["status"]["winners"], json!([server.player("alice").await.id]), "{last}");
        assert_eq!(last["view"]["board"], json!(["X", "X", "X", "O", "O", null, null, null, null]), "{last}");
    }

    server.assert_healthy().await;
    let metrics = server.metrics().await;
    for kind in ["cpu_deadline", "memory_limit", "panic"] {
        let line = format!("arcade_sandbox_faults_total{{kind=\"{kind}\"}} 1");
        assert!(metrics.lines().any(|l| l.trim() == line), "missing `{line}` in /metrics:\n{metrics}");
    }
}
