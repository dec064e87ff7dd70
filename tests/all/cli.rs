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
