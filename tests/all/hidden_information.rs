//! High-card duel over WebSockets: simultaneous turns, and no card leaks to
//! the opponent or to spectators before it is revealed.

use crate::support::*;

/// Ace high: "2".."10", "J", "Q", "K", "A" followed by a suit letter.
fn rank(card: &str) -> u8 {
    match &card[..card.len() - 1] {
        "J" => 11,
        "Q" => 12,
        "K" => 13,
        "A" => 14,
        n => n.parse().unwrap_or_else(|_| panic!("not a card: {card}")),
    }
}

fn hand_of(state: &Value) -> Vec<String> {
    let hand: Vec<String> = state["view"]["hand"]
        .as_array()
        .unwrap_or_else(|| panic!("no hand in {state}"))
        .iter()
        .map(|c| c.as_str().expect("a card string").to_string())
        .collect();
    assert_eq!(hand.len(), 5, "{state}");
    hand
}

/// Check every message `client` received against the cards of `owners` that
/// were still hidden at that point: round `k` (0-based) of `hands[i]` is
/// revealed once `seq` reaches `2 * (k + 1)` (each round is two actions).
fn assert_no_hidden_cards(viewer: &str, client: &WsClient, owners: &[(&str, &[String])]) {
    let mut seq = 0;
    for message in &client.log {
        seq = message["seq"].as_u64().unwrap_or(seq);
        let revealed_rounds = (seq / 2) as usize;
        let strings = json_strings(message);
        for (owner, hand) in owners {
            for card in &hand[revealed_rounds.min(hand.len())..] {
                assert!(
                    !strings.contains(&card.as_str()),
                    "{viewer} saw {owner}'s hidden card {card} at seq {seq}: {message}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn high_card_duel_keeps_hands_hidden_through_a_simultaneous_game() {
    let server = Server::start().await;
    let room = server.create_room(&json!({ "game": "high-card-duel", "players": ["alice", "bob"] })).await;
    let (alice_id, bob_id) = (room.id_of("alice").to_string(), room.id_of("bob").to_string());
    assert_eq!(room.info["status"], json!({ "state": "playing", "awaiting": [alice_id, bob_id] }));
    let mut alice = server.ws(&room.id, Some(room.token("alice"))).await;
    let mut bob = server.ws(&room.id, Some(room.token("bob"))).await;
    let mut spectator = server.ws(&room.id, None).await;

    let alice_hand = hand_of(&alice.next_of_type("state").await);
    let bob_hand = hand_of(&bob.next_of_type("state").await);
    assert!(alice_hand.iter().all(|c| !bob_hand.contains(c)), "hands overlap: {alice_hand:?} {bob_hand:?}");
    // Positive control: the walker does find a player's own cards in their messages.
    let own = json_strings(&alice.log[1]);
    assert!(alice_hand.iter().all(|c| own.contains(&c.as_str())), "{}", alice.log[1]);
    let opening = spectator.next_of_type("state").await;
    assert!(opening["view"].get("hand").is_none(), "{opening}");

    // Five rounds; in each both players send their card at the same time.
    for (round, (a, b)) in alice_hand.iter().zip(&bob_hand).enumerate() {
        let (a_id, b_id) = (format!("alice-{round}"), format!("bob-{round}"));
        let (a_play, b_play) = (json!({ "play": a }), json!({ "play": b }));
        let (a_reply, b_reply) = tokio::join!(alice.act(&a_id, &a_play), bob.act(&b_id, &b_play));
        let mut seqs = [a_reply["seq"].as_u64(), b_reply["seq"].as_u64()];
        seqs.sort();
        let expected = [Some(2 * round as u64 + 1), Some(2 * round as u64 + 2)];
        assert_eq!(seqs, expected, "both plays of round {} are accepted: {a_reply} {b_reply}", round + 1);
    }

    let (mut alice_points, mut bob_points) = (0, 0);
    for (a, b) in alice_hand.iter().zip(&bob_hand) {
        alice_points += i64::from(rank(a) > rank(b));
        bob_points += i64::from(rank(b) > rank(a));
    }
    let winners = match alice_points.cmp(&bob_points) {
        std::cmp::Ordering::Greater => json!([alice_id]),
        std::cmp::Ordering::Less => json!([bob_id]),
        std::cmp::Ordering::Equal => json!([]),
    };
    let history: Vec<Value> =
        alice_hand.iter().zip(&bob_hand).map(|(a, b)| json!({ alice_id.clone(): a, bob_id.clone(): b })).collect();
    for (who, client) in [("alice", &mut alice), ("bob", &mut bob), ("spectator", &mut spectator)] {
        let last = client.until_over().await;
        assert_eq!(last["seq"], 10, "{who}: {last}");
        assert_eq!(last["status"]["state"], "finished", "{who}: {last}");
        assert_eq!(last["status"]["winners"], winners, "{who}: {last}");
        let scores = json!({ alice_id.clone(): alice_points, bob_id.clone(): bob_points });
        assert_eq!(last["status"]["scores"], scores, "{who}: {last}");
        let revealed: Vec<Value> = last["view"]["history"]
            .as_array()
            .unwrap_or_else(|| panic!("{who}: no history in {last}"))
            .iter()
            .map(|round| round["cards"].clone())
            .collect();
        assert_eq!(revealed, history, "{who}: every card is revealed at the end");
    }

    // Each player's deal reached only that player.
    let deals = |client: &WsClient| -> Vec<Value> {
        client
            .states()
            .flat_map(|s| s["events"].as_array().cloned().unwrap_or_default())
            .filter(|e| e["kind"] == "deal")
            .map(|e| e["data"]["hand"].clone())
            .collect()
    };
    assert_eq!(deals(&alice), [json!(alice_hand)]);
    assert_eq!(deals(&bob), [json!(bob_hand)]);
    assert_eq!(deals(&spectator), Vec::<Value>::new());

    assert_no_hidden_cards("bob", &bob, &[("alice", &alice_hand)]);
    assert_no_hidden_cards("alice", &alice, &[("bob", &bob_hand)]);
    assert_no_hidden_cards("the spectator", &spectator, &[("alice", &alice_hand), ("bob", &bob_hand)]);
    assert!(spectator.states().count() >= 11, "the spectator saw every change: {:#?}", spectator.log);
}
