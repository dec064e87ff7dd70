//! Parties: players who queue together, each with their own session. The
//! leader's ticket queues every member, and the members follow it to the
//! same room; strangers, wrong invites and other members are refused.

use std::time::Duration;

use crate::support::*;

const TICKETS: &str = "/v1/matchmaking/tickets";

async fn party_of(server: &Server, who: &str, id: &str) -> (StatusCode, Value) {
    server.get_as(&server.player(who).await.access_token, &format!("/v1/parties/{id}")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_party_is_queued_together_with_the_embedded_store() {
    party_queued_together(&Server::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_party_is_queued_together_with_postgres() {
    let database = TestServices::get().fresh_database().await;
    let server = Server::start_with(&[("ARCADE_AUTH__DATABASE_URL", &database)]).await;
    party_queued_together(&server).await;
    assert!(!server.data_dir().join("identity.sqlite").exists(), "PostgreSQL, not the embedded store");
}

/// The leader's ticket queues every member, who follow it to one room.
async fn party_queued_together(server: &Server) {
    let (alice, bob, carol) = (server.player("alice").await, server.player("bob").await, server.player("carol").await);
    let (status, created) = server.post_as("alice", "/v1/parties", &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let party = str_at(&created["party"], "id");
    let invite = str_at(&created, "invite");
    assert_eq!(created["party"]["members"], json!([{ "id": alice.id, "display_name": "alice" }]));

    // The invite opens the party; a wrong one is as good as no party.
    let join = format!("/v1/parties/{party}/join");
    assert_error(&server.post_as("bob", &join, &json!({ "invite": "inv_wrong" })).await, 404, "party_not_found");
    assert_error(&server.post_as("bob", &join, &json!({})).await, 422, "invalid_request");
    let (status, joined) = server.post_as("bob", &join, &json!({ "invite": invite })).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    let members: Vec<&str> = joined["members"].as_array().unwrap().iter().filter_map(|m| m["id"].as_str()).collect();
    assert_eq!(members, [alice.id.as_str(), bob.id.as_str()]);
    // Strangers see nothing of it; members see it.
    assert_error(&party_of(server, "carol", &party).await, 404, "party_not_found");
    assert_eq!(party_of(server, "bob", &party).await.0, StatusCode::OK);
    // One party at a time.
    assert_error(&server.post_as("bob", "/v1/parties", &json!({})).await, 409, "already_in_party");

    // Three do not fit a two-player match: refused, nothing queued.
    assert_eq!(server.post_as("carol", &join, &json!({ "invite": invite })).await.0, StatusCode::OK);
    let too_big = server.post_as("alice", TICKETS, &json!({ "game": "tic-tac-toe", "party_id": party })).await;
    assert_error(&too_big, 400, "invalid_ticket");
    let leave = format!("/v1/parties/{party}/leave");
    let left = server.post_raw(&leave, Some(&carol.access_token), "application/json", "").await;
    assert_eq!(left.0, StatusCode::NO_CONTENT);

    // Only the leader queues the party.
    let by_member = server.post_as("bob", TICKETS, &json!({ "game": "tic-tac-toe", "party_id": party })).await;
    assert_error(&by_member, 403, "not_party_leader");
    let (status, ticket) = server.post_as("alice", TICKETS, &json!({ "game": "tic-tac-toe", "party_id": party })).await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    assert_eq!(ticket["ticket"]["party"], json!([alice.id, bob.id]), "{ticket}");

    // bob follows the ticket through the party, to the room both play in.
    let (_, seen) = party_of(server, "bob", &party).await;
    let (ticket_id, secret) = (str_at(&seen["ticket"], "id"), str_at(&seen["ticket"], "secret"));
    assert_eq!(ticket_id, str_at(&ticket["ticket"], "id"));
    let matched = server.ticket_with_room(&ticket_id, &secret, Duration::from_secs(20)).await;
    let assignment = &matched["match"]["assignment"];
    let room = str_at(assignment, "room_id");
    let info = server.room_info(&room).await;
    assert_eq!(info["names"], json!({ alice.id.clone(): "alice", bob.id.clone(): "bob" }), "{info}");
    assert_eq!(info["status"]["state"], "playing", "{info}");
    // bob's session alone is enough to take his seat.
    let socket = server.ws(&room, Some(&bob.access_token)).await;
    assert_eq!(socket.welcome["you"], bob.id);
    drop(socket);

    // The leader leaving disbands the party.
    assert_eq!(
        server.post_raw(&leave, Some(&alice.access_token), "application/json", "").await.0,
        StatusCode::NO_CONTENT
    );
    assert_error(&party_of(server, "bob", &party).await, 404, "party_not_found");
    assert_error(
        &server.post_raw(&leave, Some(&bob.access_token), "application/json", "").await,
        404,
        "party_not_found",
    );
    server.assert_healthy().await;
}
