//! Plugin versions: rooms stay on the version they were created with while
//! newer versions are published; new rooms get the latest unless pinned.

use crate::support::*;

/// `wasm` with a custom section appended: different bytes (and hash), same
/// component, same `name@version`.
fn with_custom_section(wasm: &[u8], note: &str) -> Vec<u8> {
    let name = b"arcade-test-note";
    let mut payload = vec![name.len() as u8];
    payload.extend_from_slice(name);
    payload.extend_from_slice(note.as_bytes());
    assert!(payload.len() < 128, "one-byte LEB128 size");
    let mut out = wasm.to_vec();
    out.push(0); // custom section id
    out.push(payload.len() as u8);
    out.extend_from_slice(&payload);
    out
}

fn rules_version(state: &Value) -> &Value {
    &state["view"]["rules_version"]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_keep_their_version_when_a_new_one_is_published() {
    let server = Server::start_empty().await;
    let (status, v1) = server.publish(plugin_bytes("tic-tac-toe")).await;
    assert_eq!((status, &v1["version"]), (StatusCode::CREATED, &json!("1.0.0")), "{v1}");

    // Room A starts on 1.0.0 (one move made).
    let room_a = server.create_room(&json!({ "game": "tic-tac-toe" })).await;
    let alice_token = server.join(&room_a.id, "alice").await;
    let bob_token = server.join(&room_a.id, "bob").await;
    let mut alice = server.ws(&room_a.id, Some(&alice_token)).await;
    let mut bob = server.ws(&room_a.id, Some(&bob_token)).await;
    assert_eq!(alice.welcome["version"], "1.0.0");
    alice.ack("a0", &json!({ "cell": 0 })).await;

    let (status, v2) = server.publish(plugin_bytes("tic-tac-toe-v2")).await;
    assert_eq!(
        (status, &v2["name"], &v2["version"]),
        (StatusCode::CREATED, &json!("tic-tac-toe"), &json!("2.0.0")),
        "{v2}"
    );
    assert_ne!(v1["hash"], v2["hash"]);
    let (status, versions) = server.get("/v1/plugins/tic-tac-toe").await;
    assert_eq!(status, StatusCode::OK, "{versions}");
    let mut listed: Vec<(Value, Value)> = versions
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {versions}"))
        .iter()
        .map(|v| (v["version"].clone(), v["hash"].clone()))
        .collect();
    listed.sort_by_key(|(version, _)| version.to_string());
    assert_eq!(listed, [(json!("1.0.0"), v1["hash"].clone()), (json!("2.0.0"), v2["hash"].clone())]);

    // Room A is still 1.0.0 and plays to the end on it.
    let info = server.room_info(&room_a.id).await;
    assert_eq!((&info["version"], &info["hash"]), (&v1["version"], &v1["hash"]), "{info}");
    play_in_turn(&mut [&mut bob, &mut alice], &cells(&[3, 1, 4, 2])).await;
    for client in [&mut alice, &mut bob] {
        let last = client.until_over().await;
        assert_eq!(last["status"]["winners"], json!([server.player("alice").await.id]), "{last}");
        assert!(client.states().count() >= 6, "{:#?}", client.log);
        for state in client.states() {
            assert_eq!(rules_version(state), "1.0.0", "room A changed rules mid-game: {state}");
        }
    }
    assert_eq!(server.room_info(&room_a.id).await["version"], "1.0.0");

    // A new room gets the latest version; a pinned one gets what it asks for.
    for (request, version, hash) in [
        (json!({ "game": "tic-tac-toe", "players": ["carol", "dave"] }), "2.0.0", &v2["hash"]),
        (json!({ "game": "tic-tac-toe", "players": ["carol", "dave"], "version": "1.0.0" }), "1.0.0", &v1["hash"]),
    ] {
        let room = server.create_room(&request).await;
        assert_eq!((&room.info["version"], &room.info["hash"]), (&json!(version), hash), "{request}: {}", room.info);
        let mut carol = server.ws(&room.id, Some(room.token("carol"))).await;
        assert_eq!(carol.welcome["version"], version);
        let state = carol.next_of_type("state").await;
        assert_eq!(rules_version(&state), version, "{request}: {state}");
    }
    let missing = server.try_create_room(&json!({ "game": "tic-tac-toe", "version": "3.0.0" })).await;
    assert_error(&missing, 404, "plugin_not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_bytes_under_a_published_version_are_a_conflict() {
    let server = Server::start_empty().await;
    let original = plugin_bytes("tic-tac-toe");
    let (status, v1) = server.publish(original.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{v1}");

    let rebuilt = with_custom_section(&original, "a different build of 1.0.0");
    assert_error(&server.publish(rebuilt).await, 409, "version_exists");

    let (_, versions) = server.get("/v1/plugins/tic-tac-toe").await;
    assert_eq!(versions.as_array().map(Vec::len), Some(1), "{versions}");
    assert_eq!(versions[0]["hash"], v1["hash"], "the original stays published");
    // The original bytes are still an idempotent re-publish.
    assert_eq!(server.publish(original).await.0, StatusCode::OK);
}
