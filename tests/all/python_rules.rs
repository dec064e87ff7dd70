//! Game rules written in Python (#14): componentize-py (installed by
//! `scripts/services.sh` beside moto) builds `tests/plugins-py/*` with
//! `--stub-wasi`; the components pass the conformance check, publish to a
//! real server, play to a finish over WebSocket and replay bit for bit from
//! the archive, and the hostile-plugin
//! guarantees hold for Python too: an endless loop ends at the CPU deadline,
//! endless memory at the room's cap, and opening a file traps.

use std::path::PathBuf;

use crate::support::*;

/// Builds `tests/plugins-py/<name>` into a component; its path.
fn build(name: &str) -> PathBuf {
    let tool = service_var("ARCADE_TEST_COMPONENTIZE_PY");
    let out_dir = target_dir().join("python-plugins");
    std::fs::create_dir_all(&out_dir).expect("creating the output dir");
    let out = out_dir.join(format!("{name}.wasm"));
    let wit = workspace_root().join("wit/arcade.wit");
    let output = std::process::Command::new(&tool)
        .current_dir(workspace_root().join("tests/plugins-py").join(name))
        .arg("-d")
        .arg(&wit)
        .args(["-w", "game", "componentize", "--stub-wasi", "app", "-o"])
        .arg(&out)
        .output()
        .unwrap_or_else(|e| panic!("running {tool} (scripts/services.sh start installs it): {e}"));
    assert!(output.status.success(), "componentize-py {name}: {}", String::from_utf8_lossy(&output.stderr));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_rules_publish_play_pass_the_conformance_check_and_stay_contained() {
    let nim = build("nim");
    let hostile = build("hostile");
    let size = std::fs::metadata(&nim).unwrap().len();
    assert!(size > 16 << 20, "a Python component is big ({size} bytes): the upload limit must allow it");

    let mut check = tokio::process::Command::from(arcade_command());
    check.args(["plugin", "check", "--games", "2"]).arg(&nim).kill_on_drop(true);
    let output = check.output().await.expect("running arcade plugin check");
    assert!(
        output.status.success() && String::from_utf8_lossy(&output.stdout).starts_with("ok: py-nim@0.1.0"),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    let server = Server::start_empty().await;
    for wasm in [&nim, &hostile] {
        let (status, body) = server.publish(std::fs::read(wasm).unwrap()).await;
        assert_eq!(status, StatusCode::CREATED, "{}: {body}", wasm.display());
    }
    let room = server.create_room(&json!({ "game": "py-nim", "players": ["ann", "bob"] })).await;
    let ann_id = room.id_of("ann").to_string();
    let mut ann = server.ws(&room.id, Some(room.token("ann"))).await;
    let mut bob = server.ws(&room.id, Some(room.token("bob"))).await;
    assert_error(&server.act(&room.id, room.token("bob"), &json!({ "take": 1 })).await, 409, "not_your_turn");
    assert_error(&server.act(&room.id, room.token("ann"), &json!({ "take": 4 })).await, 422, "illegal_action");
    let takes: Vec<Value> = (0..5).map(|_| json!({ "take": 3 })).collect();
    play_in_turn(&mut [&mut ann, &mut bob], &takes).await;
    let last = bob.until_over().await;
    assert_eq!(last["status"]["winners"], json!([ann_id]), "{last}");
    assert_eq!(last["view"], json!({ "stones": 0, "next": null }), "{last}");
    // Archived, it replays bit for bit (same status, same final views).
    server.flush_archive().await;
    let output = tokio::process::Command::from(arcade_command())
        .args(["replay", &room.id, "--data-dir"])
        .arg(server.data_dir())
        .output()
        .await
        .expect("running arcade replay");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains(&format!("verified {}", room.id)), "{stdout}");

    for (misbehaviour, code) in [("spin", "cpu_deadline"), ("grow", "memory_limit"), ("open", "trap")] {
        let room = server.create_room(&json!({ "game": "py-hostile", "players": ["mal"] })).await;
        let refused = server.act(&room.id, room.token("mal"), &json!({ "do": misbehaviour })).await;
        assert_error(&refused, 410, "room_aborted");
        let info = server.room_info(&room.id).await;
        assert_eq!((&info["status"]["state"], &info["status"]["code"]), (&json!("aborted"), &json!(code)), "{info}");
        assert!(!info.to_string().contains("root:"), "nothing of /etc/passwd is shown: {info}");
    }
    // The server plays on: a new game starts and takes a move.
    let room = server.create_room(&json!({ "game": "py-nim", "players": ["cy", "dee"] })).await;
    let (status, body) = server.act(&room.id, room.token("cy"), &json!({ "take": 2 })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
