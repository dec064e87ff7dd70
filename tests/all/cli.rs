//! The `arcade` command line: local play, validation, publish and list
//! against a running server.

use std::process::Output;

use crate::support::*;

/// Run `arcade ARGS` to completion.
async fn arcade(args: &[&str]) -> Output {
    let mut command = tokio::process::Command::from(arcade_command());
    command.args(args).current_dir(workspace_root()).kill_on_drop(true);
    tokio::time::timeout(std::time::Duration::from_secs(60), command.output())
        .await
        .unwrap_or_else(|_| panic!("arcade {args:?} timed out"))
        .unwrap_or_else(|e| panic!("running arcade {args:?}: {e}"))
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn path_arg(name: &str) -> String {
    plugin_path(name).to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn play_bots_only_finishes_a_game() {
    let output = arcade(&["play", &path_arg("connect-four"), "--bots-only", "--seed", "3"]).await;
    assert!(output.status.success(), "{}", describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("connect-four 1.0.0"), "{}", describe(&output));
    assert!(stdout.lines().any(|l| l.starts_with("game over: ")), "{}", describe(&output));
    // The same seed plays the same game.
    let again = arcade(&["play", &path_arg("connect-four"), "--bots-only", "--seed", "3"]).await;
    assert_eq!(String::from_utf8_lossy(&again.stdout), stdout, "seeded bot games are deterministic");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_accepts_an_example_and_names_a_forbidden_import() {
    let output = arcade(&["plugin", "validate", &path_arg("tic-tac-toe")]).await;
    assert!(output.status.success(), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("ok: tic-tac-toe@1.0.0"), "{}", describe(&output));

    let output = arcade(&["plugin", "validate", &path_arg("file-reader")]).await;
    assert!(!output.status.success(), "file-reader must fail validation: {}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("imports `wasi:filesystem") && stderr.contains("plugins may not use"),
        "{}",
        describe(&output)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_and_list_against_a_running_server() {
    let server = Server::start_empty().await;
    let output = arcade(&["plugin", "publish", &path_arg("high-card-duel"), "--server", &server.base]).await;
    assert!(output.status.success(), "{}", describe(&output));
    let published: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("{}", describe(&output)));
    assert_eq!((&published["name"], &published["version"]), (&json!("high-card-duel"), &json!("1.0.0")));

    let output = arcade(&["plugin", "list", "--server", &server.base]).await;
    assert!(output.status.success(), "{}", describe(&output));
    let listed: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("{}", describe(&output)));
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!((&listed[0]["name"], &listed[0]["hash"]), (&json!("high-card-duel"), &published["hash"]));

    // A refused publish exits non-zero and shows the server's error.
    let output = arcade(&["plugin", "publish", &path_arg("file-reader"), "--server", &server.base]).await;
    assert!(!output.status.success(), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("forbidden_import"), "{}", describe(&output));
    let output =
        arcade(&["plugin", "publish", &path_arg("tic-tac-toe"), "--server", &server.base, "--token", "wrong"]).await;
    assert!(!output.status.success(), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("invalid_token"), "{}", describe(&output));
}

/// `cargo ARGS` in `dir`, into the tests' own target dir for new projects
/// (kept between runs), to completion.
async fn cargo_in(dir: &std::path::Path, args: &[&str]) -> Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = tokio::process::Command::new(cargo);
    command
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir().join("arcade-new-projects"))
        .env_remove("RUSTFLAGS")
        .kill_on_drop(true);
    tokio::time::timeout(std::time::Duration::from_secs(900), command.output())
        .await
        .unwrap_or_else(|_| panic!("cargo {args:?} timed out"))
        .unwrap_or_else(|e| panic!("running cargo {args:?}: {e}"))
}

/// A designer outside this repository: `arcade new` writes a project whose
/// native tests pass, which builds to a component with the README's line,
/// validates, publishes to a real server and plays to a finish there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_project_tests_builds_publishes_and_plays() {
    let dir = fresh_dir("arcade-new");
    let output = arcade(&["new", "my-nim", "--dir", &dir.to_string_lossy()]).await;
    assert!(output.status.success(), "{}", describe(&output));
    let project = dir.join("my-nim");
    let again = arcade(&["new", "my-nim", "--dir", &dir.to_string_lossy()]).await;
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("exists already"));
    let bad = arcade(&["new", "My_Game", "--dir", &dir.to_string_lossy()]).await;
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("is not a game name"));

    let tested = cargo_in(&project, &["test", "--quiet"]).await;
    assert!(tested.status.success(), "cargo test: {}", describe(&tested));
    assert!(String::from_utf8_lossy(&tested.stdout).contains("2 passed"), "{}", describe(&tested));
    let built = cargo_in(&project, &["build", "--quiet", "--target", "wasm32-wasip2", "--profile", "plugin"]).await;
    assert!(built.status.success(), "cargo build: {}", describe(&built));
    let wasm = target_dir().join("arcade-new-projects/wasm32-wasip2/plugin/my_nim.wasm");
    let wasm = wasm.to_string_lossy();

    let output = arcade(&["plugin", "validate", &wasm]).await;
    assert!(output.status.success(), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("ok: my-nim@0.1.0"), "{}", describe(&output));
    let server = Server::start_empty().await;
    let output = arcade(&["plugin", "publish", &wasm, "--server", &server.base]).await;
    assert!(output.status.success(), "{}", describe(&output));

    let room = server.create_room(&json!({ "game": "my-nim", "players": ["ann", "bob"] })).await;
    let ann_id = room.id_of("ann").to_string();
    let mut ann = server.ws(&room.id, Some(room.token("ann"))).await;
    let mut bob = server.ws(&room.id, Some(room.token("bob"))).await;
    let takes: Vec<Value> = (0..5).map(|_| json!({ "take": 3 })).collect();
    play_in_turn(&mut [&mut ann, &mut bob], &takes).await;
    let last = bob.until_over().await;
    assert_eq!(last["status"]["winners"], json!([ann_id]), "{last}");
    assert_eq!(last["view"], json!({ "stones": 0, "next": null }), "{last}");
}

/// `arcade plugin check`: every example passes the conformance run; a game
/// whose view shows every player's private hand is caught.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_passes_the_conformance_check_and_a_leaky_view_fails_it() {
    for (game, games) in [("tic-tac-toe", "10"), ("connect-four", "10"), ("high-card-duel", "10"), ("arena", "2")] {
        let output = arcade(&["plugin", "check", &path_arg(game), "--games", games]).await;
        assert!(output.status.success(), "{game}: {}", describe(&output));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.starts_with(&format!("ok: {game}@")) && stdout.contains("deterministic"),
            "{}",
            describe(&output)
        );
        if game == "high-card-duel" {
            // Its deals are private: the secrets check had something to look for.
            assert!(!stdout.contains(" 0 private events"), "{}", describe(&output));
        }
    }
    let output = arcade(&["plugin", "check", &path_arg("leaky-hand"), "--games", "3"]).await;
    assert!(!output.status.success(), "the leak must fail the check: {}", describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    for viewer in ["Player(\"player-2\")", "Spectator"] {
        assert!(
            stdout.lines().any(|l| l.starts_with("FAILED") && l.contains("\"deal\" event") && l.contains(viewer)),
            "{viewer}: {}",
            describe(&output)
        );
    }
    assert!(String::from_utf8_lossy(&output.stderr).contains("leaky-hand@1.0.0"), "{}", describe(&output));
}
