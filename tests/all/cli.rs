//! The `arcade` command line: local play, validation, publish and list
//! against a running server.

use crate::support::*;

fn path_arg(name: &str) -> String {
    plugin_path(name).to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn play_bots_only_finishes_a_game() {
    let output = run_arcade(&["play", &path_arg("connect-four"), "--bots-only", "--seed", "3"]).await;
    assert!(output.status.success(), "{}", describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("connect-four 1.0.0"), "{}", describe(&output));
    assert!(stdout.lines().any(|l| l.starts_with("game over: ")), "{}", describe(&output));
    // The same seed plays the same game.
    let again = run_arcade(&["play", &path_arg("connect-four"), "--bots-only", "--seed", "3"]).await;
    assert_eq!(String::from_utf8_lossy(&again.stdout), stdout, "seeded bot games are deterministic");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_accepts_an_example_and_names_a_forbidden_import() {
    let output = run_arcade(&["plugin", "validate", &path_arg("tic-tac-toe")]).await;
    assert!(output.status.success(), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("ok: tic-tac-toe@1.0.0"), "{}", describe(&output));

    let output = run_arcade(&["plugin", "validate", &path_arg("file-reader")]).await;
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
    let output = run_arcade(&["plugin", "publish", &path_arg("high-card-duel"), "--server", &server.base]).await;
    assert!(output.status.success(), "{}", describe(&output));
    let published: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("{}", describe(&output)));
    assert_eq!((&published["name"], &published["version"]), (&json!("high-card-duel"), &json!("1.0.0")));

    let output = run_arcade(&["plugin", "list", "--server", &server.base]).await;
    assert!(output.status.success(), "{}", describe(&output));
    let listed: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("{}", describe(&output)));
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!((&listed[0]["name"], &listed[0]["hash"]), (&json!("high-card-duel"), &published["hash"]));

    // A refused publish exits non-zero and shows the server's error.
    let output = run_arcade(&["plugin", "publish", &path_arg("file-reader"), "--server", &server.base]).await;
    assert!(!output.status.success(), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("forbidden_import"), "{}", describe(&output));
    let output =
        run_arcade(&["plugin", "publish", &path_arg("tic-tac-toe"), "--server", &server.base, "--token", "wrong"])
            .await;
    assert!(!output.status.success(), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("invalid_token"), "{}", describe(&output));
}

/// `cargo ARGS` in `dir`, into the tests' own target dir for new projects
/// (kept between runs), to completion.
/// `arcade plugin check`: every example passes the conformance run; a game
/// whose view shows every player's private hand is caught.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_passes_the_conformance_check_and_a_leaky_view_fails_it() {
    for (game, games) in [("tic-tac-toe", "10"), ("connect-four", "10"), ("high-card-duel", "10"), ("arena", "2")] {
        let output = run_arcade(&["plugin", "check", &path_arg(game), "--games", games]).await;
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
    let output = run_arcade(&["plugin", "check", &path_arg("leaky-hand"), "--games", "3"]).await;
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
