//! Game rules written in Python and JavaScript (#14). componentize-py
//! (installed by `scripts/services.sh` beside moto) builds
//! `tests/plugins-py/*` with `--stub-wasi`; componentize-js (`npm ci` in
//! `tests/plugins-js`, by `scripts/setup.sh --tests`) builds
//! `tests/plugins-js/*` with every engine feature off. In each language a
//! Nim passes the conformance check, publishes to a real server, plays to a
//! finish over WebSocket and replays bit for bit from the archive, and the
//! hostile-plugin guarantees hold: an endless loop ends at the CPU
//! deadline, endless memory at the room's cap, and reaching for a file
//! traps.

use std::path::PathBuf;

use crate::support::*;

#[derive(Clone, Copy, Debug)]
enum Lang {
    Python,
    JavaScript,
}

impl Lang {
    /// The prefix of its plugins' game names.
    fn prefix(self) -> &'static str {
        match self {
            Lang::Python => "py",
            Lang::JavaScript => "js",
        }
    }

    /// Builds its test plugin `name` (`nim`, `hostile`) into a component; its path.
    fn build(self, name: &str) -> PathBuf {
        let out_dir = target_dir().join("language-plugins");
        std::fs::create_dir_all(&out_dir).expect("creating the output dir");
        let out = out_dir.join(format!("{}-{name}.wasm", self.prefix()));
        let wit = workspace_root().join("wit/arcade.wit");
        let mut command = match self {
            Lang::Python => {
                let mut command = std::process::Command::new(service_var("ARCADE_TEST_COMPONENTIZE_PY"));
                command
                    .current_dir(workspace_root().join("tests/plugins-py").join(name))
                    .arg("-d")
                    .arg(&wit)
                    .args(["-w", "game", "componentize", "--stub-wasi", "app", "-o"])
                    .arg(&out);
                command
            }
            Lang::JavaScript => {
                let dir = workspace_root().join("tests/plugins-js");
                let mut command = std::process::Command::new("node");
                command
                    .current_dir(&dir)
                    .arg("build.mjs")
                    .arg(dir.join(name).join(format!("{name}.js")))
                    .arg(&wit)
                    .arg(&out);
                command
            }
        };
        let output = command.output().unwrap_or_else(|e| panic!("building the {self:?} plugin {name}: {e}"));
        assert!(
            output.status.success(),
            "building the {self:?} plugin {name} (scripts/setup.sh --tests and scripts/services.sh start install the \
             toolchains): {}",
            String::from_utf8_lossy(&output.stderr)
        );
        out
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_rules_publish_play_replay_pass_the_conformance_check_and_stay_contained() {
    rules_in(Lang::Python).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn javascript_rules_publish_play_replay_pass_the_conformance_check_and_stay_contained() {
    rules_in(Lang::JavaScript).await;
}

async fn rules_in(lang: Lang) {
    // Compiling an interpreter of 12 to 18 MB takes both cores for tens of
    // seconds: not beside the timing-sensitive tests, nor the other language.
    let _alone = crate::support::machine_to_myself().await;
    let nim = lang.build("nim");
    let hostile = lang.build("hostile");
    let (nim_name, hostile_name) = (format!("{}-nim", lang.prefix()), format!("{}-hostile", lang.prefix()));
    let size = std::fs::metadata(&nim).unwrap().len();
    assert!(size > 8 << 20, "{lang:?}: a component carries its interpreter ({size} bytes): the upload limit allows it");

    let mut check = tokio::process::Command::from(arcade_command());
    check.args(["plugin", "check", "--games", "2"]).arg(&nim).kill_on_drop(true);
    let output = check.output().await.expect("running arcade plugin check");
    assert!(
        output.status.success()
            && String::from_utf8_lossy(&output.stdout).starts_with(&format!("ok: {nim_name}@0.1.0")),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    let server = Server::start_empty().await;
    for wasm in [&nim, &hostile] {
        // Publishing compiles the component before it answers: longer than
        // the harness's usual 30 s on a busy 2-core machine.
        let publish = server
            .http
            .post(server.url("/v1/plugins"))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "application/wasm")
            .body(std::fs::read(wasm).unwrap())
            .timeout(std::time::Duration::from_secs(300));
        let (status, body) = server.send(publish).await;
        assert_eq!(status, StatusCode::CREATED, "{}: {body}", wasm.display());
    }
    let room = server.create_room(&json!({ "game": nim_name, "players": ["ann", "bob"] })).await;
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
        let room = server.create_room(&json!({ "game": hostile_name, "players": ["mal"] })).await;
        let refused = server.act(&room.id, room.token("mal"), &json!({ "do": misbehaviour })).await;
        assert_error(&refused, 410, "room_aborted");
        let info = server.room_info(&room.id).await;
        let status = &info["status"];
        assert_eq!((&status["state"], &status["code"]), (&json!("aborted"), &json!(code)), "{misbehaviour}: {info}");
        assert!(!info.to_string().contains("root:"), "nothing of /etc/passwd is shown: {info}");
    }
    // The server plays on: a new game starts and takes a move.
    let room = server.create_room(&json!({ "game": nim_name, "players": ["cy", "dee"] })).await;
    let (status, body) = server.act(&room.id, room.token("cy"), &json!({ "take": 2 })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
