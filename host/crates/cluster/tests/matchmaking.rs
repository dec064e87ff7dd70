//! The Redis ticket store and the Matchmaker against a REAL Redis (from
//! ARCADE_TEST_REDIS_URL, see `scripts/services.sh`): two matchmakers on one
//! Redis, like two nodes, matching the same queue at the same time; cancel,
//! expiry, room assignment and key TTLs, ticket secrets, given-up matches;
//! and the same matches as the in-memory store. Each test uses its own key
//! namespace.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arcade_cluster::matchmaking::redis::RedisTicketStore;
use arcade_cluster::matchmaking::{
    MatchResult, MatchRules, Matchmaker, MatchmakingError, NewTicket, QueueKey, RoomAssignment, SeatAssignment,
    StoreOptions, Ticket, TicketRequest, TicketSecret, TicketStatus, TicketStore, open_ticket_store,
};
use arcade_test_support::redis::{delete_namespace, fresh_namespace, redis_url};
use arcade_test_support::tickets::{Population, synthetic_requests};

const NOW: u64 = 1_700_000_000_000;

fn arena() -> QueueKey {
    QueueKey::new("arena", "ranked")
}

fn four_player_rules() -> MatchRules {
    MatchRules {
        players_per_match: 4,
        initial_rating_window: 50.0,
        window_growth_per_sec: 20.0,
        max_window: 5_000.0,
        max_latency_ms: 200,
        ticket_ttl_secs: 3_600,
    }
}

async fn redis_store(namespace: &str) -> Arc<RedisTicketStore> {
    let options = StoreOptions { namespace: namespace.to_string(), retention: Duration::from_secs(120) };
    let url = redis_url();
    Arc::new(
        RedisTicketStore::connect(&url, options)
            .await
            .unwrap_or_else(|e| panic!("cannot reach Redis at {url}: {e}; start it with scripts/services.sh start")),
    )
}

async fn redis_matchmaker(namespace: &str, rules: MatchRules) -> Matchmaker {
    Matchmaker::new(redis_store(namespace).await, [(arena(), rules)]).unwrap()
}

fn solo(player: &str, rating: f64) -> TicketRequest {
    TicketRequest {
        game: "arena".into(),
        mode: "ranked".into(),
        party: vec![player.to_string()],
        rating,
        latencies: BTreeMap::from([("eu-west-1".to_string(), 30), ("us-east-1".to_string(), 80)]),
    }
}

fn duel_rules() -> MatchRules {
    MatchRules { players_per_match: 2, ticket_ttl_secs: 30, ..MatchRules::default() }
}

/// Checks a set of committed matches: none shares a ticket or a player,
/// each has exactly four players, and each ticket's stored status names it.
async fn assert_consistent(store: &dyn TicketStore, matches: &[MatchResult], submitted: &HashMap<String, Ticket>) {
    let mut ticket_match = HashMap::new();
    let mut players = HashSet::new();
    for result in matches {
        let seated: usize = result.tickets.iter().map(|t| submitted[t].party_size()).sum();
        assert_eq!(seated, 4, "match {} seats {seated}", result.match_id);
        assert_eq!(result.players.len(), 4);
        for ticket_id in &result.tickets {
            if let Some(other) = ticket_match.insert(ticket_id.clone(), result.match_id.clone()) {
                panic!("ticket {ticket_id} is in matches {other} and {}", result.match_id);
            }
        }
        for player in &result.players {
            assert!(players.insert(player.clone()), "player {player} plays twice");
        }
    }
    for (ticket_id, match_id) in &ticket_match {
        let view = store.get(ticket_id).await.unwrap().expect("a matched ticket is pollable").view;
        match view.status {
            TicketStatus::Matched(result) => assert_eq!(&result.match_id, match_id),
            other => panic!("ticket {ticket_id} is {} in the store", other.name()),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_matching_one_queue_concurrently_never_share_a_ticket() {
    let namespace = fresh_namespace("mm-race");
    let node_a = Arc::new(redis_matchmaker(&namespace, four_player_rules()).await);
    let node_b = Arc::new(redis_matchmaker(&namespace, four_player_rules()).await);
    let population = Population { duo_every: 4, rating_low: 1_000.0, rating_range: 2_000, all_regions: true };
    let requests = synthetic_requests("race", 3_000, 7, population);

    // Players queue through both nodes at once.
    let mut submitted = HashMap::new();
    let halves: Vec<Vec<TicketRequest>> = requests.chunks(1_500).map(<[TicketRequest]>::to_vec).collect();
    let (tickets_a, tickets_b) =
        tokio::join!(submit_all(&node_a, halves[0].clone()), submit_all(&node_b, halves[1].clone()));
    for ticket in tickets_a.into_iter().chain(tickets_b) {
        submitted.insert(ticket.id.clone(), ticket);
    }

    // Both nodes run a round at the same moment; B's clock is 20 s ahead,
    // so its wider windows group the tickets differently and its claims
    // collide with A's on some tickets but not all.
    let (round_a, round_b) =
        tokio::join!(node_a.run_once("arena", "ranked", NOW + 1_000), node_b.run_once("arena", "ranked", NOW + 21_000));
    let (round_a, round_b) = (round_a.unwrap(), round_b.unwrap());
    println!(
        "simultaneous round: A committed {} ({} lost), B committed {} ({} lost)",
        round_a.matches.len(),
        round_a.contended,
        round_b.matches.len(),
        round_b.contended
    );
    assert_eq!((round_a.waiting, round_b.waiting), (3_000, 3_000), "both saw the whole queue");
    let mut all_matches: Vec<MatchResult> = round_a.matches.into_iter().chain(round_b.matches).collect();
    assert_consistent(node_a.store().as_ref(), &all_matches, &submitted).await;

    // Then both keep matching concurrently, windows growing, until the
    // windows span every rating and a round finds nothing more to do.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut now = NOW + 21_000;
    loop {
        now += 30_000;
        let (a, b) = tokio::join!(node_a.run_once("arena", "ranked", now), node_b.run_once("arena", "ranked", now + 7));
        let (a, b) = (a.unwrap(), b.unwrap());
        let settled = a.matches.is_empty() && b.matches.is_empty() && a.contended == 0 && b.contended == 0;
        all_matches.extend(a.matches.into_iter().chain(b.matches));
        let youngest_wait = now - (NOW + requests.len() as u64);
        if settled && four_player_rules().rating_window(youngest_wait) >= population.rating_range as f64 {
            break;
        }
        assert!(Instant::now() < deadline, "matching did not settle");
    }
    assert_consistent(node_a.store().as_ref(), &all_matches, &submitted).await;

    // Everything that can be matched is: fewer than four players wait.
    let left = node_a.store().waiting("arena", "ranked").await.unwrap();
    let left_players: usize = left.iter().map(Ticket::party_size).sum();
    assert!(left_players < 4, "{left_players} players left unmatched: {left:?}");
    let matched_tickets: usize = all_matches.iter().map(|m| m.tickets.len()).sum();
    assert_eq!(matched_tickets + left.len(), submitted.len());
    delete_namespace(&namespace).await;
}

async fn submit_all(node: &Matchmaker, requests: Vec<TicketRequest>) -> Vec<Ticket> {
    let mut tickets = Vec::with_capacity(requests.len());
    for (n, request) in requests.into_iter().enumerate() {
        tickets.push(node.submit_at(request, NOW + n as u64).await.unwrap().ticket);
    }
    tickets
}

#[tokio::test]
async fn a_cancelled_ticket_is_never_matched_and_cancels_only_while_waiting() {
    let namespace = fresh_namespace("mm-cancel");
    let node = redis_matchmaker(&namespace, duel_rules()).await;
    let NewTicket { ticket: ann, secret } = node.submit_at(solo("ann", 1500.0), NOW).await.unwrap();
    node.cancel(&ann.id, secret.as_str()).await.unwrap();
    assert_eq!(node.status(&ann.id, secret.as_str()).await.unwrap().status, TicketStatus::Cancelled);
    let again = node.cancel(&ann.id, secret.as_str()).await.unwrap_err();
    assert!(matches!(&again, MatchmakingError::NotWaiting { state, .. } if state == "cancelled"), "{again}");
    assert!(matches!(node.cancel("no-such-ticket", "secret").await, Err(MatchmakingError::TicketNotFound(_))));

    let NewTicket { ticket: bob, secret: bob_secret } = node.submit_at(solo("bob", 1500.0), NOW).await.unwrap();
    assert!(node.run_once("arena", "ranked", NOW + 100).await.unwrap().matches.is_empty(), "ann was cancelled");
    let cid = node.submit_at(solo("cid", 1500.0), NOW + 1).await.unwrap().ticket;
    let round = node.run_once("arena", "ranked", NOW + 200).await.unwrap();
    assert_eq!(round.matches.len(), 1);
    assert_eq!(round.matches[0].tickets, vec![bob.id.clone(), cid.id.clone()]);
    let matched = node.cancel(&bob.id, bob_secret.as_str()).await.unwrap_err();
    assert!(matches!(&matched, MatchmakingError::NotWaiting { state, .. } if state == "matched"), "{matched}");
    delete_namespace(&namespace).await;
}

#[tokio::test]
async fn polling_after_assign_shows_the_room_and_only_the_own_seat_token() {
    let namespace = fresh_namespace("mm-assign");
    let node = redis_matchmaker(&namespace, duel_rules()).await;
    let NewTicket { ticket: ann, secret: ann_secret } = node.submit_at(solo("ann", 1500.0), NOW).await.unwrap();
    let NewTicket { ticket: bob, secret: bob_secret } = node.submit_at(solo("bob", 1520.0), NOW + 5).await.unwrap();
    let result = node.run_once("arena", "ranked", NOW + 100).await.unwrap().matches.remove(0);
    assert_eq!((result.region.as_str(), result.worst_latency_ms), ("eu-west-1", 30));

    let TicketStatus::Matched(before) = node.status(&ann.id, ann_secret.as_str()).await.unwrap().status else {
        panic!("not matched")
    };
    assert_eq!(before.assignment, None);

    let room = RoomAssignment {
        room_id: "room-42".into(),
        node_url: "http://10.0.0.7:8080".into(),
        seats: vec![
            SeatAssignment { player: "ann".into(), token: "seat-token-ann".into() },
            SeatAssignment { player: "bob".into(), token: "seat-token-bob".into() },
        ],
    };
    // Another node, same Redis, assigns the room.
    let other_node = redis_matchmaker(&namespace, duel_rules()).await;
    let assigned = other_node.assign(&result.match_id, room.clone()).await.unwrap();
    assert_eq!(assigned.assignment.as_ref(), Some(&room));

    let TicketStatus::Matched(seen_by_bob) = node.status(&bob.id, bob_secret.as_str()).await.unwrap().status else {
        panic!("not matched")
    };
    // Ann's secret does not open Bob's ticket (and so not his seat token).
    let refused = node.status(&bob.id, ann_secret.as_str()).await.unwrap_err();
    assert!(matches!(refused, MatchmakingError::TicketNotFound(_)), "{refused}");
    let bobs_room = seen_by_bob.assignment.expect("the room is visible after assign");
    assert_eq!(bobs_room.room_id, "room-42");
    assert_eq!(bobs_room.seats, vec![SeatAssignment { player: "bob".into(), token: "seat-token-bob".into() }]);
    let full = node.store().get_match(&result.match_id).await.unwrap().unwrap();
    assert_eq!(full.assignment, Some(room.clone()));
    assert!(matches!(node.assign("no-such-match", room).await, Err(MatchmakingError::MatchNotFound(_))));
    delete_namespace(&namespace).await;
}

#[tokio::test]
async fn keys_carry_ttls_and_expired_tickets_say_so() {
    let namespace = fresh_namespace("mm-ttl");
    let node = redis_matchmaker(&namespace, duel_rules()).await;
    let mut con = arcade_test_support::redis::connection().await;
    let pttl = |key: String| {
        let mut con = con.clone();
        async move { redis::cmd("PTTL").arg(key).query_async::<i64>(&mut con).await.unwrap() }
    };

    let NewTicket { ticket: ann, secret } = node.submit_at(solo("ann", 1500.0), NOW).await.unwrap();
    // Only the secret's hash is stored.
    let stored: Vec<String> =
        redis::cmd("HVALS").arg(format!("{namespace}:ticket:{}", ann.id)).query_async(&mut con.clone()).await.unwrap();
    assert!(stored.contains(&secret.hash().to_hex()), "{stored:?}");
    assert!(!stored.iter().any(|value| value.contains(secret.as_str())), "the secret itself is stored: {stored:?}");
    // Waiting: the ticket TTL (30 s) plus retention (120 s); the player hold, the ticket TTL.
    let ticket_ttl = pttl(format!("{namespace}:ticket:{}", ann.id)).await;
    assert!((140_000..=150_000).contains(&ticket_ttl), "ticket key PTTL {ticket_ttl}");
    let hold_ttl = pttl(format!("{namespace}:player:ann")).await;
    assert!((20_000..=30_000).contains(&hold_ttl), "player key PTTL {hold_ttl}");

    let round = node.run_once("arena", "ranked", NOW + 30_000).await.unwrap();
    assert_eq!(round.expired, vec![ann.id.clone()]);
    assert_eq!(node.status(&ann.id, secret.as_str()).await.unwrap().status, TicketStatus::Expired);
    // Finished: kept for the retention only; the queue and the player are free.
    let finished_ttl = pttl(format!("{namespace}:ticket:{}", ann.id)).await;
    assert!((110_000..=120_000).contains(&finished_ttl), "finished ticket PTTL {finished_ttl}");
    let queued: i64 =
        redis::cmd("HLEN").arg(format!("{namespace}:queue:arena:ranked")).query_async(&mut con).await.unwrap();
    assert_eq!(queued, 0);
    node.submit_at(solo("ann", 1500.0), NOW + 31_000).await.expect("ann may queue again");

    // A queue entry whose ticket key ran out (no matcher ran for a while) is dropped.
    let bob = node.submit_at(solo("bob", 1500.0), NOW + 40_000).await.unwrap().ticket;
    redis::cmd("DEL").arg(format!("{namespace}:ticket:{}", bob.id)).query_async::<()>(&mut con).await.unwrap();
    let round = node.run_once("arena", "ranked", NOW + 80_000).await.unwrap();
    assert_eq!(round.expired.len(), 1, "only ann's second ticket was still waiting");
    let queued: i64 =
        redis::cmd("HLEN").arg(format!("{namespace}:queue:arena:ranked")).query_async(&mut con).await.unwrap();
    assert_eq!(queued, 0, "the orphaned entry is gone");
    delete_namespace(&namespace).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_queues_once_even_through_two_nodes_at_once() {
    let namespace = fresh_namespace("mm-player");
    let node_a = redis_matchmaker(&namespace, duel_rules()).await;
    let node_b = redis_matchmaker(&namespace, duel_rules()).await;
    let (a, b) = tokio::join!(node_a.submit_at(solo("ann", 1500.0), NOW), node_b.submit_at(solo("ann", 1600.0), NOW));
    let (ok, refused): (Vec<_>, Vec<_>) = [a, b].into_iter().partition(Result::is_ok);
    assert_eq!(ok.len(), 1, "exactly one ticket for ann");
    match refused.into_iter().next().unwrap().unwrap_err() {
        MatchmakingError::PlayerAlreadyQueued { player } => assert_eq!(player, "ann"),
        other => panic!("expected PlayerAlreadyQueued, got {other}"),
    }
    delete_namespace(&namespace).await;
}

#[tokio::test]
async fn the_redis_and_memory_stores_form_the_same_matches() {
    let namespace = fresh_namespace("mm-same");
    let redis = redis_store(&namespace).await;
    let memory = open_ticket_store("memory:", StoreOptions::default()).await.unwrap();
    assert_eq!((redis.backend(), memory.backend()), ("redis", "memory"));
    let population = Population { duo_every: 3, rating_low: 1_200.0, rating_range: 800, all_regions: false };
    let tickets: Vec<Ticket> = synthetic_requests("same", 400, 99, population)
        .into_iter()
        .enumerate()
        .map(|(n, request)| request.into_ticket(format!("ticket-{n:04}"), NOW + n as u64 * 10))
        .collect();
    for ticket in &tickets {
        let secret = TicketSecret::generate().hash();
        redis.create(ticket, &secret, Duration::from_secs(600)).await.unwrap();
        memory.create(ticket, &secret, Duration::from_secs(600)).await.unwrap();
    }
    let groups = |round: Vec<MatchResult>| -> Vec<(Vec<String>, String)> {
        let mut groups: Vec<_> = round.into_iter().map(|m| (m.tickets, m.region)).collect();
        groups.sort();
        groups
    };
    let via_redis = Matchmaker::new(redis.clone(), [(arena(), four_player_rules())]).unwrap();
    let via_memory = Matchmaker::new(memory, [(arena(), four_player_rules())]).unwrap();
    let from_redis = via_redis.run_once("arena", "ranked", NOW + 5_000).await.unwrap();
    let from_memory = via_memory.run_once("arena", "ranked", NOW + 5_000).await.unwrap();
    assert!(from_redis.matches.len() > 50, "only {} matches", from_redis.matches.len());
    assert_eq!(groups(from_redis.matches), groups(from_memory.matches));
    delete_namespace(&namespace).await;
}

#[tokio::test]
async fn a_round_lease_has_one_holder_at_a_time_in_redis() {
    let namespace = fresh_namespace("mm-lease");
    let store = redis_store(&namespace).await;
    let ttl = Duration::from_millis(200);
    assert!(store.lease_rounds("arena", "ranked", "node-a", ttl).await.unwrap());
    assert!(!store.lease_rounds("arena", "ranked", "node-b", ttl).await.unwrap(), "node-a holds it");
    assert!(store.lease_rounds("arena", "casual", "node-b", ttl).await.unwrap(), "one lease per queue");
    assert!(store.lease_rounds("arena", "ranked", "node-a", ttl).await.unwrap(), "the holder renews");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(store.lease_rounds("arena", "ranked", "node-b", ttl).await.unwrap(), "an expired lease is free");
    delete_namespace(&namespace).await;
}

#[tokio::test]
async fn seated_announcements_reach_every_subscriber_through_redis() {
    use futures_util::StreamExt;
    let namespace = fresh_namespace("mm-seated");
    let (announcer, watcher) = (redis_store(&namespace).await, redis_store(&namespace).await);
    let mut announcements = watcher.seated_announcements().await.unwrap();
    announcer.announce_seated(&["t-1".to_string(), "t-2".to_string()]).await.unwrap();
    let batch = tokio::time::timeout(Duration::from_secs(5), announcements.next()).await.expect("an announcement");
    assert_eq!(batch, Some(vec!["t-1".to_string(), "t-2".to_string()]));
    delete_namespace(&namespace).await;
}

#[tokio::test]
async fn matches_without_a_room_are_claimed_once_per_age_in_redis() {
    let namespace = fresh_namespace("mm-stranded");
    let store = redis_store(&namespace).await;
    let rules = MatchRules { players_per_match: 2, ..MatchRules::default() };
    let matchmaker = Matchmaker::new(store.clone(), [(QueueKey::new("duel", "standard"), rules)]).unwrap();
    for player in ["ann", "bob"] {
        let request = TicketRequest {
            game: "duel".into(),
            mode: "standard".into(),
            party: vec![player.into()],
            rating: 1500.0,
            latencies: BTreeMap::from([("local".to_string(), 0)]),
        };
        matchmaker.submit(request).await.unwrap();
    }
    let formed = matchmaker.run_once("duel", "standard", arcade_protocol::clock::now_ms()).await.unwrap().matches;
    assert_eq!(formed.len(), 1);
    let age = Duration::from_millis(100);
    assert!(store.claim_unassigned(age, 10).await.unwrap().is_empty(), "too young");
    tokio::time::sleep(Duration::from_millis(150)).await;
    let claimed = store.claim_unassigned(age, 10).await.unwrap();
    assert_eq!(claimed.iter().map(|m| &m.match_id).collect::<Vec<_>>(), [&formed[0].match_id]);
    assert!(store.claim_unassigned(age, 10).await.unwrap().is_empty(), "claimed: not again before the age");
    tokio::time::sleep(Duration::from_millis(150)).await;
    let seats = formed[0].players.iter().map(|p| SeatAssignment { player: p.clone(), token: "t".into() }).collect();
    let assignment = RoomAssignment { room_id: "r".into(), node_url: "http://n".into(), seats };
    matchmaker.assign(&formed[0].match_id, assignment).await.unwrap();
    assert!(store.claim_unassigned(age, 10).await.unwrap().is_empty(), "assigned matches are done");
    delete_namespace(&namespace).await;
}

#[tokio::test]
async fn a_given_up_match_fails_its_tickets_and_cannot_be_claimed_or_assigned() {
    let namespace = fresh_namespace("mm-failed");
    let store = redis_store(&namespace).await;
    let node = redis_matchmaker(&namespace, duel_rules()).await;
    let ann = node.submit_at(solo("ann", 1500.0), NOW).await.unwrap();
    node.submit_at(solo("bob", 1500.0), NOW).await.unwrap();
    let formed = node.run_once("arena", "ranked", NOW + 100).await.unwrap().matches.remove(0);

    let mut failed = store.fail_match(&formed.match_id).await.unwrap();
    failed.sort();
    let mut tickets = formed.tickets.clone();
    tickets.sort();
    assert_eq!(failed, tickets);
    let view = node.status(&ann.ticket.id, ann.secret.as_str()).await.unwrap();
    assert_eq!(view.status, TicketStatus::Failed);
    assert_eq!(serde_json::to_value(&view).unwrap()["status"], "failed");
    assert!(store.fail_match(&formed.match_id).await.unwrap().is_empty(), "once");
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(store.claim_unassigned(Duration::from_millis(1), 10).await.unwrap().is_empty(), "not recovered");
    let seats = formed.players.iter().map(|p| SeatAssignment { player: p.clone(), token: "t".into() }).collect();
    let late = RoomAssignment { room_id: "r".into(), node_url: "http://n".into(), seats };
    assert!(matches!(node.assign(&formed.match_id, late).await, Err(MatchmakingError::MatchNotFound(_))));
    // The players may queue again.
    node.submit_at(solo("ann", 1500.0), NOW + 200).await.expect("ann queues again");
    delete_namespace(&namespace).await;
}
