//! Crash safety and archival through the real server: SIGKILL in the middle
//! of many games, a corrupted journal tail, and every finished game archived
//! and verifiable with `arcade replay`.

use std::time::Duration;

use futures_util::future::join_all;

use crate::support::*;

/// X (seat 0) wins on the top row; O plays the middle row.
const SCRIPT: [usize; 5] = [0, 3, 1, 4, 2];

/// One room's players and how far its script got.
struct Game {
    room: String,
    tokens: [String; 2],
}

impl Game {
    async fn open(server: &Server) -> Game {
        let room = server.create_room(&json!({ "game": "tic-tac-toe", "players": ["x", "o"] })).await;
        let tokens = [room.token("x").to_string(), room.token("o").to_string()];
        Game { room: room.id, tokens }
    }

    async fn clients(&self, server: &Server) -> [WsClient; 2] {
        [server.ws(&self.room, Some(&self.tokens[0])).await, server.ws(&self.room, Some(&self.tokens[1])).await]
    }

    /// Play the script from move `from`; returns how many moves were acked in
    /// total when the connection broke (or the whole script).
    async fn play_until_cut(&self, server: &Server, from: usize, pause: Duration) -> usize {
        Game::play(self.clients(server).await, from, pause).await
    }

    /// [`Game::play_until_cut`] with players already connected.
    async fn play(mut players: [WsClient; 2], from: usize, pause: Duration) -> usize {
        for (i, cell) in SCRIPT.iter().enumerate().skip(from) {
            let player = &mut players[i % 2];
            if player.try_send_action(&format!("m{i}"), &json!({ "cell": cell })).await.is_err() {
                return i;
            }
            match player.try_next_reply().await {
                Some(reply) if reply["type"] == "ack" => assert_eq!(reply["seq"], i + 1, "{reply}"),
                Some(reply) => panic!("move {i} refused: {reply}"),
                None => return i,
            }
            tokio::time::sleep(pause).await;
        }
        SCRIPT.len()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_games_loses_no_acknowledged_action() {
    let dir = fresh_dir("arcade-crash");
    let server = Server::start_in(&dir, &[]).await;
    let games = join_all((0..100).map(|_| Game::open(&server))).await;

    // Every game plays slowly; the server dies while they are in flight
    // (all connected first, so that the kill never lands mid-handshake).
    let connected = join_all(games.iter().map(|g| g.clients(&server))).await;
    let played = {
        let plays = join_all(connected.into_iter().map(|players| Game::play(players, 0, Duration::from_millis(150))));
        let killer = async {
            tokio::time::sleep(Duration::from_millis(400)).await;
            server.kill().await;
        };
        tokio::join!(plays, killer).0
    };
    assert!(played.iter().any(|&n| n > 0), "some moves were acked before the kill: {played:?}");
    assert!(played.iter().any(|&n| n < SCRIPT.len()), "the kill hit games in progress: {played:?}");

    let server = Server::start_in(&dir, &[]).await;
    let finished = join_all(games.iter().zip(&played).map(|(game, &acked)| {
        let server = &server;
        async move {
            // The game resumes exactly after the last acknowledged move (or the
            // one after it, if that move was durable but its ack was lost).
            let mut players = game.clients(server).await;
            let state = players[0].next_of_type("state").await;
            let seq = state["seq"].as_u64().expect("a seq") as usize;
            assert!(seq == acked || seq == acked + 1, "room {}: acked {acked}, recovered seq {seq}", game.room);
            let board = &state["view"]["board"];
            for (i, cell) in SCRIPT.iter().enumerate() {
                let expected = if i >= seq {
                    json!(null)
                } else if i % 2 == 0 {
                    json!("X")
                } else {
                    json!("O")
                };
                assert_eq!(board[cell], expected, "room {} cell {cell} after {seq} moves: {state}", game.room);
            }
            drop(players);
            assert_eq!(game.play_until_cut(server, seq, Duration::ZERO).await, SCRIPT.len());
            let info = server.room_info(&game.room).await;
            assert_eq!(info["status"]["winners"], json!([server.player("x").await.id]), "{info}");
            game.room.clone()
        }
    }))
    .await;
    assert_eq!(finished.len(), 100);

    // Every game reaches the archive and replays to the same end.
    server.flush_archive().await;
    let (status, record) = server.get_as(ADMIN_TOKEN, &format!("/v1/games/{}", finished[0])).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(record["log"].as_array().map(Vec::len), Some(SCRIPT.len()), "{record}");
    let (status, page) = server.get("/v1/games?plugin=tic-tac-toe&limit=1000").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["games"].as_array().map(Vec::len), Some(100), "{page}");
    let output = arcade_command()
        .args(["replay", &finished[0], "--data-dir"])
        .arg(server.data_dir())
        .output()
        .expect("running arcade replay");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains(&format!("verified {}", finished[0])), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn games_killed_right_after_their_last_move_are_archived_once() {
    // A finished game's record is spooled without waiting for the disk (the
    // journal holds the game until the record is synced): killed right
    // after the last acks, every game still reaches the archive, once.
    let dir = fresh_dir("arcade-kill-at-end");
    let server = Server::start_in(&dir, &[]).await;
    let games = join_all((0..20).map(|_| Game::open(&server))).await;
    let played = join_all(games.iter().map(|g| g.play_until_cut(&server, 0, Duration::ZERO))).await;
    assert!(played.iter().all(|&n| n == SCRIPT.len()), "{played:?}");
    server.kill().await;

    let server = Server::start_in(&dir, &[]).await;
    server.flush_archive().await;
    let x = server.player("x").await.id;
    for game in &games {
        let (status, record) = server.get_as(ADMIN_TOKEN, &format!("/v1/games/{}", game.room)).await;
        assert_eq!(status, StatusCode::OK, "{record}");
        assert_eq!(record["log"].as_array().map(Vec::len), Some(SCRIPT.len()), "{record}");
        assert_eq!(record["status"]["winners"], json!([x]), "{record}");
    }
    let (status, page) = server.get("/v1/games?plugin=tic-tac-toe&limit=1000").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let mut ids: Vec<&str> = page["games"].as_array().unwrap().iter().filter_map(|g| g["game_id"].as_str()).collect();
    let listed = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!((listed, ids.len()), (games.len(), games.len()), "each game listed once: {page}");
}

/// A game three moves in whose server was then killed: its data dir, the
/// game, and the newest journal segment (to damage before a restart).
async fn three_moves_then_killed(prefix: &str) -> (ScratchDir, Game, std::path::PathBuf) {
    let dir = fresh_dir(prefix);
    let server = Server::start_in(&dir, &[]).await;
    let game = Game::open(&server).await;
    let mut players = game.clients(&server).await;
    for (i, cell) in SCRIPT.iter().take(3).enumerate() {
        players[i % 2].ack(&format!("m{i}"), &json!({ "cell": cell })).await;
    }
    drop(players);
    server.kill().await;
    let journal = server.data_dir().join("journal");
    let mut segments: Vec<_> = std::fs::read_dir(&journal).unwrap().flatten().map(|e| e.path()).collect();
    segments.sort();
    let newest = segments.pop().expect("a journal segment");
    (dir, game, newest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_journal_tail_is_cut_and_the_rest_recovered() {
    let (dir, game, newest) = three_moves_then_killed("arcade-torn").await;
    // A torn record at the end of the newest segment: a length prefix
    // promising more bytes than follow.
    let mut bytes = std::fs::read(&newest).unwrap();
    bytes.extend_from_slice(&[0xff, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef, b'{', b'"']);
    std::fs::write(&newest, &bytes).unwrap();

    let server = Server::start_in(&dir, &[]).await;
    let log = server.stderr_log();
    assert!(log.contains("cut 10 bytes"), "the cut must be logged:\n{log}");
    // A write torn before its sync held nothing a player was told about.
    let metrics = server.metrics().await;
    assert!(metrics.contains(r#"arcade_journal_cuts_total{entries="unacknowledged"} 1"#), "{metrics}");
    assert!(metrics.contains(r#"arcade_journal_cuts_total{entries="acknowledged"} 0"#), "{metrics}");
    let info = server.room_info(&game.room).await;
    assert_eq!(info["seq"], 3, "{info}");
    assert_eq!(game.play_until_cut(&server, 3, Duration::ZERO).await, SCRIPT.len());
    let x = server.player("x").await.id;
    assert_eq!(server.room_info(&game.room).await["status"]["winners"], json!([x]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damage_before_the_end_of_the_journal_is_counted_and_logged_as_lost_acknowledged_entries() {
    let (dir, game, newest) = three_moves_then_killed("arcade-lost").await;
    // Flip a byte inside the (acknowledged) second action: the third one
    // follows it intact, so this is no torn write.
    let mut bytes = std::fs::read(&newest).unwrap();
    let at = bytes.windows(8).position(|w| w == b"\"seq\":2,").expect("the second action in the newest segment");
    bytes[at + 6] = b'7';
    std::fs::write(&newest, &bytes).unwrap();

    let server = Server::start_in(&dir, &[]).await;
    let log = server.stderr_log();
    assert!(log.contains("ERROR") && log.contains("acknowledged entries were lost"), "logged at error:\n{log}");
    let metrics = server.metrics().await;
    assert!(metrics.contains(r#"arcade_journal_cuts_total{entries="acknowledged"} 1"#), "{metrics}");
    assert_eq!(server.room_info(&game.room).await["seq"], 1, "the game resumes from before the damage");
}
