//! Real-time games on the host's batched physics: the arena plugin (loaded
//! by the default server) played by two WebSocket clients at its fixed tick
//! rate; many rooms' physics stepped as one GPU submission per tick, each
//! room getting its own results back; and a game that survives a SIGKILL.
//! GPU parts run on Mesa's software Vulkan (lavapipe) in CI, with
//! `sim.backend = gpu` (`auto` passes over a software adapter); without any
//! Vulkan device they fail unless `ARCADE_SIM_ALLOW_NO_GPU=1`.

use std::time::{Duration, Instant};

use futures_util::future::join_all;

use crate::support::*;

/// The arena's tick rate.
const TICK_HZ: f64 = 20.0;

/// `arcade_<name>` (a counter's `_total`, or a histogram's `_sum`/`_count`) from a scrape.
fn ship<'a>(state: &'a Value, player: &str) -> &'a Value {
    let ships = state["view"]["ships"].as_array().unwrap_or_else(|| panic!("no ships in {state}"));
    ships.iter().find(|s| s["player"] == player).unwrap_or_else(|| panic!("no ship of {player} in {state}"))
}

fn tick_of(state: &Value) -> u64 {
    state["view"]["tick"].as_u64().unwrap_or_else(|| panic!("no tick in {state}"))
}

/// The server's physics backend (`"gpu"` or `"cpu"`); `None` when it has
/// no GPU and the environment allows that.
async fn gpu_backend(server: &Server) -> Option<String> {
    let (_, ready) = server.get("/health/ready").await;
    let backend = ready["sim"]["backend"].as_str().unwrap_or_else(|| panic!("no sim backend in {ready}")).to_string();
    assert!(ready["sim"]["device"].as_str().is_some_and(|d| !d.is_empty()), "{ready}");
    if backend == "gpu" {
        return Some(backend);
    }
    if std::env::var("ARCADE_SIM_ALLOW_NO_GPU").as_deref() == Ok("1") {
        eprintln!("skipping the GPU part: the server runs physics on {ready}");
        return None;
    }
    panic!("the tests need a Vulkan device (lavapipe: scripts/setup.sh), the server has {ready}");
}

/// `arcade replay <game>` against the server's data dir, which must verify.
fn verify_replay(server: &Server, game: &str, backend: &str) {
    let output = arcade_command()
        .args(["replay", game, "--sim-backend", backend, "--data-dir"])
        .arg(server.data_dir())
        .output()
        .expect("running arcade replay");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "replay of {game}: {stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains(&format!("verified {game}")), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arena_plays_over_websockets_at_its_tick_rate() {
    let server = Server::start().await;
    let config = json!({ "duration_ticks": 100, "asteroids": 150, "lives": 9 });
    let room = server.create_room(&json!({ "game": "arena", "players": ["ann", "bob"], "config": config })).await;
    let mut ann = server.ws(&room.id, Some(room.token("ann"))).await;
    let mut bob = server.ws(&room.id, Some(room.token("bob"))).await;
    assert_eq!(ann.welcome["game"], "arena");
    let opening = ann.next_of_type("state").await;
    assert_eq!(opening["view"]["asteroids"].as_array().map(Vec::len), Some(150), "{opening}");
    assert!(opening["legal_actions"].as_array().is_some_and(|a| !a.is_empty()), "{opening}");

    // Full thrust: ann to the right, bob down. The engines keep running.
    assert_eq!(ann.ack("a1", &json!({ "thrust": { "x": 1.0, "y": 0.0 } })).await, 1);
    assert_eq!(bob.ack("b1", &json!({ "thrust": { "x": 0.0, "y": -1.0 } })).await, 2);

    // Over two seconds of ann's state messages, the ticks must come at 20 Hz.
    let started = Instant::now();
    let mut ticks: Vec<(Duration, u64)> = Vec::new();
    let (mut ann_vx, mut bob_vy) = (0_i64, 0_i64);
    while started.elapsed() < Duration::from_secs(2) {
        let state = ann.next_of_type("state").await;
        if state["status"]["state"] != "playing" {
            break;
        }
        let tick = tick_of(&state);
        match ticks.last() {
            // An accepted action also sends a state, within the same tick.
            Some(&(_, last)) if last == tick => {}
            Some(&(_, last)) => assert!(last < tick, "ticks go forward: {tick} after {ticks:?}"),
            None => {}
        }
        if ticks.last().is_none_or(|&(_, last)| last < tick) {
            ticks.push((started.elapsed(), tick));
        }
        ann_vx = ann_vx.max(ship(&state, room.id_of("ann"))["vx"].as_i64().unwrap_or(0));
        bob_vy = bob_vy.min(ship(&state, room.id_of("bob"))["vy"].as_i64().unwrap_or(0));
    }
    let expected = 2.0 * TICK_HZ;
    assert!((expected * 0.75..=expected * 1.25).contains(&(ticks.len() as f64)), "20 Hz for 2 s: {ticks:?}");
    let ((t0, first), (t1, last)) = (ticks[0], ticks[ticks.len() - 1]);
    let rate = (last - first) as f64 / (t1 - t0).as_secs_f64();
    assert!((TICK_HZ * 0.8..=TICK_HZ * 1.2).contains(&rate), "{rate:.1} ticks/s: {ticks:?}");
    assert_eq!(last - first + 1, ticks.len() as u64, "no tick skipped: {ticks:?}");
    assert!(ann_vx >= 100 && bob_vy <= -100, "the engines steer the ships: vx {ann_vx}, vy {bob_vy}");

    let end = ann.until_over().await;
    assert_eq!(end["status"]["state"], "finished", "{end}");
    let scores = &end["status"]["scores"];
    for player in [room.id_of("ann"), room.id_of("bob")] {
        assert_eq!(scores[player], ship(&end, player)["lives"], "{end}");
    }
    let out = |player| ship(&end, room.id_of(player))["out"] == true;
    assert!(tick_of(&end) == 100 || out("ann") || out("bob"), "time is up or a ship is out: {end}");
    assert!(end["status"]["winners"].as_array().is_some_and(|w| !w.is_empty()), "{end}");
    assert_eq!(bob.until_over().await["status"], end["status"]);
    let errors: Vec<&Value> = ann.log.iter().chain(&bob.log).filter(|m| m["type"] == "error").collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_due_in_a_tick_share_one_gpu_submission_and_get_their_own_results() {
    let server = Server::start_with(&[("ARCADE_SIM__BACKEND", "gpu")]).await;
    let Some(backend) = gpu_backend(&server).await else { return };
    let metrics = server.metrics().await;
    assert!(metrics.contains("arcade_sim_backend_info{backend=\"gpu\""), "{metrics}");

    const ROOMS: u64 = 8;
    let rooms: Vec<Room> = join_all((0..ROOMS).map(|i| {
        let request = json!({ "game": "arena", "players": [format!("p{i}")],
                              "config": { "duration_ticks": 100, "asteroids": 100 } });
        let server = &server;
        async move { server.create_room(&request).await }
    }))
    .await;
    server.ws(&rooms[0].id, None).await.state_where(|s| tick_of(s) >= 10).await;

    // Over about a second: world-steps, batches and GPU submissions per tick
    // (a new spectator's first state is the room's current one).
    let now = || async {
        (server.metrics().await, tick_of(&server.ws(&rooms[0].id, None).await.next_of_type("state").await))
    };
    let before = now().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = now().await;
    let delta = |name: &str| metric_value(&after.0, name) - metric_value(&before.0, name);
    let (submissions, batches, worlds) = (
        delta("arcade_sim_submissions_total"),
        delta("arcade_sim_batch_worlds_count"),
        delta("arcade_sim_batch_worlds_sum"),
    );
    let ticks = (after.1 - before.1) as f64;
    assert!(ticks >= 10.0, "about 20 ticks in a second: {ticks}");
    // Every tick, the 8 rooms' worlds went to the GPU together: one
    // submission per tick, not one per room.
    assert!(worlds >= (ROOMS as f64 - 1.0) * ticks, "{worlds} world-steps in {ticks} ticks");
    assert_eq!(submissions, batches, "one submission per batch");
    assert!(submissions <= ticks + 3.0, "{submissions} submissions in {ticks} ticks ({worlds} world-steps)");

    // Each room got its own results: different seeds, different fields, and
    // each game replays alone to exactly the final views its room showed.
    let mut fields = Vec::new();
    for room in &rooms {
        let mut spectator = server.ws(&room.id, None).await;
        let end = spectator.until_over().await;
        assert_eq!((end["status"]["state"].as_str(), tick_of(&end)), (Some("finished"), 100), "{end}");
        fields.push(end["view"]["asteroids"].clone());
    }
    for (i, field) in fields.iter().enumerate() {
        assert!(fields[i + 1..].iter().all(|other| other != field), "two rooms show the same field");
    }
    server.flush_archive().await;
    for room in &rooms {
        verify_replay(&server, &room.id, &backend);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_arena_game_survives_sigkill_with_its_physics() {
    let dir = fresh_dir("arcade-arena-crash");
    let server = Server::start_in(&dir, &[]).await;
    let config = json!({ "duration_ticks": 120, "asteroids": 150 });
    let room = server.create_room(&json!({ "game": "arena", "players": ["ann", "bob"], "config": config })).await;
    let mut ann = server.ws(&room.id, Some(room.token("ann"))).await;
    ann.ack("a1", &json!({ "thrust": { "x": -1.0, "y": 0.5 } })).await;
    let seen = ann.state_where(|s| tick_of(s) >= 20).await;
    server.kill().await;

    // The journal holds every tick a player saw; the room resumes from there
    // (physics re-stepped on recovery) and plays to the end.
    let server = Server::start_in(&dir, &[]).await;
    let mut ann = server.ws(&room.id, Some(room.token("ann"))).await;
    let resumed = ann.next_of_type("state").await;
    assert!(tick_of(&resumed) >= tick_of(&seen), "resumed at {} after seeing {}", tick_of(&resumed), tick_of(&seen));
    assert_eq!(resumed["seq"], 1, "ann's thrust survived: {resumed}");
    let end = ann.until_over().await;
    assert_eq!(end["status"]["state"], "finished", "{end}");
    server.flush_archive().await;
    let (_, ready) = server.get("/health/ready").await;
    verify_replay(&server, &room.id, ready["sim"]["backend"].as_str().expect("a backend"));
}
