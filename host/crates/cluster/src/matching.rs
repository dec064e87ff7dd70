//! The [`MatchDriver`]: one matching round over every open queue. For each
//! queue it runs the match function (committing matches atomically in the
//! ticket store), places the new rooms on live nodes (the match's region
//! first, then its fallback regions, by capacity: [`super::placement`]),
//! creates them and attaches each room to its match, so the players' tickets
//! show the room and their seat tokens. Any number of drivers (nodes, Lambda
//! invocations) may run rounds at once, all through this code: the host's
//! timer and the matchmaker Lambda place matches the same way.
//!
//! A match whose room creation fails (every node tried refused it or did
//! not answer) is tried again next round, up to [`DEFAULT_SEAT_ATTEMPTS`]
//! rounds (`with_seat_attempts`); then it is given up: its tickets become
//! `failed` (the players may queue again) and the round reports it as
//! `abandoned`. Rounds in which no live node had room do not count: nothing
//! was tried. A match that no node could take for [`DEFAULT_MAX_UNSEATED_WAIT`]
//! since it was formed (`with_max_unseated_wait`) is given up the same way:
//! its region has no node with room (and no fallback that has), e.g. a region
//! name no node serves; without the bound such matches would wait forever.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream;

use super::nodes::{NodeDirectory, NodeInfo};
use super::placement::{RegionPolicy, next_choices, place_rooms};
use super::provision::RoomProvisioner;
use crate::matchmaking::{MatchResult, Matchmaker, UnixMillis};
use arcade_protocol::clock::now_ms;

/// Nodes tried for one room before the match waits for the next round.
const NODES_TRIED_PER_ROOM: usize = 3;
/// Rooms created at once.
const CONCURRENT_PROVISIONS: usize = 256;
/// Rounds whose room creation may fail for one match before it is given up.
pub const DEFAULT_SEAT_ATTEMPTS: u32 = 3;
/// How long a match may wait for a node with room before it is given up.
pub const DEFAULT_MAX_UNSEATED_WAIT: Duration = Duration::from_secs(300);

/// What a round did, summed over the queues.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoundReport {
    /// Tickets waiting when the round looked.
    pub waiting: usize,
    /// Matches formed this round.
    pub matched: usize,
    /// Matches that got their room (this round's and earlier ones retried).
    pub seated: usize,
    /// Tickets expired.
    pub expired: usize,
    /// Matches still without a room (no live node could take it); retried
    /// next round.
    pub unseated: usize,
    /// Matches given up this round: their room creation failed in
    /// `max_seat_attempts` rounds; their tickets are now `failed`.
    pub abandoned: usize,
    /// Matches formed earlier (by any driver) still without a room, taken up
    /// again this round.
    pub recovered: usize,
    /// Queues skipped because another driver holds their round lease.
    pub leased_elsewhere: usize,
    /// Matches seated outside their region because it had no room:
    /// (match region, node region) → matches.
    pub region_fallbacks: BTreeMap<(String, String), usize>,
    /// Queue rounds or rooms that failed, for logs.
    pub errors: Vec<String>,
}

pub struct MatchDriver {
    matchmaker: Arc<Matchmaker>,
    nodes: Arc<dyn NodeDirectory>,
    provisioner: Arc<dyn RoomProvisioner>,
    /// Matches formed by this driver that no node could take yet.
    unseated: Mutex<Vec<MatchResult>>,
    /// Rounds in which room creation failed, per match still unseated.
    failed_attempts: Mutex<HashMap<String, u32>>,
    /// See [`DEFAULT_SEAT_ATTEMPTS`].
    max_seat_attempts: u32,
    /// See [`DEFAULT_MAX_UNSEATED_WAIT`].
    max_unseated_wait: Duration,
    /// Run a queue's round only while holding its lease: (holder, TTL).
    lease: Option<(String, Duration)>,
    /// Rooms this driver created lately: (node id, when). A node's reported
    /// room count is as of its last heartbeat; rooms created after it are
    /// added, so quick rounds in a row do not all pile onto the same node.
    recent_rooms: Mutex<Vec<(String, UnixMillis)>>,
    /// See [`RECOVER_AFTER`].
    recover_after: Duration,
    /// Where matches go when their region is full.
    regions: RegionPolicy,
}

/// A match still without a room after this long is taken up again by
/// whichever driver claims it first (its own driver stopped, or no node could
/// take it): longer than trying every node for one room can take.
const RECOVER_AFTER: Duration = Duration::from_secs(30);
/// Matches taken up again per round at most.
const RECOVERED_PER_ROUND: usize = 256;

/// How long created rooms are remembered for load estimates (far longer
/// than any heartbeat interval).
const RECENT_ROOMS_WINDOW_MS: u64 = 60_000;

impl MatchDriver {
    pub fn new(
        matchmaker: Arc<Matchmaker>,
        nodes: Arc<dyn NodeDirectory>,
        provisioner: Arc<dyn RoomProvisioner>,
    ) -> Self {
        MatchDriver {
            matchmaker,
            nodes,
            provisioner,
            unseated: Mutex::default(),
            failed_attempts: Mutex::default(),
            max_seat_attempts: DEFAULT_SEAT_ATTEMPTS,
            max_unseated_wait: DEFAULT_MAX_UNSEATED_WAIT,
            lease: None,
            recent_rooms: Mutex::default(),
            recover_after: RECOVER_AFTER,
            regions: RegionPolicy::default(),
        }
    }

    /// Gives up a match that no node could take for `wait` since it was
    /// formed (see [`DEFAULT_MAX_UNSEATED_WAIT`]).
    pub fn with_max_unseated_wait(mut self, wait: Duration) -> Self {
        self.max_unseated_wait = wait;
        self
    }

    /// Lets matches of a full region fall back to the regions `policy`
    /// lists (`cluster.region_fallback`); without it no region falls back.
    pub fn with_region_fallback(mut self, policy: RegionPolicy) -> Self {
        self.regions = policy;
        self
    }

    /// Gives a match up after its room creation failed in `rounds` rounds
    /// (at least 1) instead of [`DEFAULT_SEAT_ATTEMPTS`].
    pub fn with_seat_attempts(mut self, rounds: u32) -> Self {
        self.max_seat_attempts = rounds.max(1);
        self
    }

    /// Takes up matches left without a room after `age` instead of
    /// [`RECOVER_AFTER`] (tests).
    pub fn with_recovery_after(mut self, age: Duration) -> Self {
        self.recover_after = age;
        self
    }

    /// Runs a queue's round only while `holder` holds the queue's lease
    /// (taken or renewed each round for `ttl`): with many nodes, one runs
    /// each queue and the others stand by, taking over within `ttl` when it
    /// stops. Without a lease every driver runs every round, which is
    /// correct (the store's claims are atomic) but repeats the work.
    pub fn with_round_lease(mut self, holder: impl Into<String>, ttl: Duration) -> Self {
        self.lease = Some((holder.into(), ttl));
        self
    }

    pub fn matchmaker(&self) -> &Arc<Matchmaker> {
        &self.matchmaker
    }

    /// One round over every queue at `now_ms`.
    pub async fn run_round(&self, now_ms: UnixMillis) -> RoundReport {
        let mut report = RoundReport::default();
        let mut to_seat = std::mem::take(&mut *self.unseated.lock().unwrap_or_else(|e| e.into_inner()));
        for queue in self.matchmaker.queues() {
            if let Some((holder, ttl)) = &self.lease {
                match self.matchmaker.store().lease_rounds(&queue.game, &queue.mode, holder, *ttl).await {
                    Ok(true) => {}
                    Ok(false) => {
                        report.leased_elsewhere += 1;
                        continue;
                    }
                    Err(e) => {
                        report.errors.push(format!("{}/{} lease: {e}", queue.game, queue.mode));
                        continue;
                    }
                }
            }
            match self.matchmaker.run_once(&queue.game, &queue.mode, now_ms).await {
                Ok(round) => {
                    report.waiting += round.waiting;
                    report.matched += round.matches.len();
                    report.expired += round.expired.len();
                    to_seat.extend(round.matches);
                }
                Err(e) => report.errors.push(format!("{}/{}: {e}", queue.game, queue.mode)),
            }
        }
        match self.matchmaker.store().claim_unassigned(self.recover_after, RECOVERED_PER_ROUND).await {
            Ok(stranded) => {
                let known: std::collections::HashSet<String> = to_seat.iter().map(|m| m.match_id.clone()).collect();
                let stranded: Vec<MatchResult> =
                    stranded.into_iter().filter(|m| !known.contains(&m.match_id)).collect();
                report.recovered = stranded.len();
                to_seat.extend(stranded);
            }
            Err(e) => report.errors.push(format!("claiming matches without a room: {e}")),
        }
        if to_seat.is_empty() {
            return report;
        }
        let nodes = match self.nodes.live_nodes().await {
            Ok(nodes) => self.count_recent_rooms(nodes),
            Err(e) => {
                report.errors.push(format!("listing nodes: {e}"));
                Vec::new()
            }
        };
        let regions: Vec<&str> = to_seat.iter().map(|m| m.region.as_str()).collect();
        let placements = place_rooms(&nodes, &regions, &self.regions);
        let outcomes: Vec<Result<Seated, SeatFailure>> = stream::iter(to_seat.into_iter().zip(placements))
            .map(|(matched, first)| self.seat(matched, first, &nodes))
            .buffer_unordered(CONCURRENT_PROVISIONS)
            .collect()
            .await;
        let mut unseated = Vec::new();
        let mut seated_tickets = Vec::new();
        let mut given_up = Vec::new();
        let mut attempts = std::mem::take(&mut *self.failed_attempts.lock().unwrap_or_else(|e| e.into_inner()));
        for outcome in outcomes {
            match outcome {
                Ok(seated) => {
                    report.seated += 1;
                    seated_tickets.extend(seated.tickets);
                    if let Some(fallback) = seated.fallback {
                        *report.region_fallbacks.entry(fallback).or_default() += 1;
                    }
                    self.recent_rooms
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((seated.node, arcade_protocol::clock::now_ms()));
                }
                Err(failure) => {
                    report.errors.push(format!("match {}: {}", failure.match_id, failure.why));
                    let Some(matched) = failure.retry else { continue };
                    let failed_rounds =
                        attempts.get(&matched.match_id).copied().unwrap_or(0) + u32::from(failure.attempted);
                    let waited_ms = now_ms.saturating_sub(matched.matched_at_ms);
                    if failed_rounds >= self.max_seat_attempts {
                        given_up.push((matched.match_id, GiveUp::CreationFailed));
                    } else if !failure.attempted && u128::from(waited_ms) >= self.max_unseated_wait.as_millis() {
                        given_up.push((matched.match_id, GiveUp::NoRoom { waited_ms }));
                    } else {
                        if failed_rounds > 0 {
                            attempts.insert(matched.match_id.clone(), failed_rounds);
                        }
                        unseated.push(matched);
                    }
                }
            }
        }
        // Only the matches still waiting for a room keep their count.
        attempts.retain(|id, _| unseated.iter().any(|m| &m.match_id == id));
        *self.failed_attempts.lock().unwrap_or_else(|e| e.into_inner()) = attempts;
        for (match_id, why) in given_up {
            match self.matchmaker.store().fail_match(&match_id).await {
                Ok(tickets) => {
                    match why {
                        GiveUp::CreationFailed => tracing::warn!(
                            %match_id,
                            rounds = self.max_seat_attempts,
                            tickets = tickets.len(),
                            "match given up: its room could not be created; its tickets are failed"
                        ),
                        GiveUp::NoRoom { waited_ms } => tracing::warn!(
                            %match_id,
                            waited_ms,
                            tickets = tickets.len(),
                            "match given up: no node of its region (or fallback) had room; its tickets are failed"
                        ),
                    }
                    report.abandoned += 1;
                }
                Err(e) => report.errors.push(format!("giving up match {match_id}: {e}")),
            }
        }
        if !seated_tickets.is_empty()
            && let Err(e) = self.matchmaker.store().announce_seated(&seated_tickets).await
        {
            report.errors.push(format!("announcing seated tickets: {e}"));
        }
        report.unseated = unseated.len();
        self.unseated.lock().unwrap_or_else(|e| e.into_inner()).extend(unseated);
        report
    }

    /// The nodes with the rooms this driver created since their last
    /// heartbeat added to their counts.
    fn count_recent_rooms(&self, mut nodes: Vec<NodeInfo>) -> Vec<NodeInfo> {
        let mut recent = self.recent_rooms.lock().unwrap_or_else(|e| e.into_inner());
        let horizon = now_ms().saturating_sub(RECENT_ROOMS_WINDOW_MS);
        recent.retain(|(_, at)| *at > horizon);
        for node in &mut nodes {
            let unreported = recent.iter().filter(|(id, at)| *id == node.id && *at >= node.heartbeat_at_ms).count();
            node.rooms = node.rooms.saturating_add(unreported as u32);
        }
        nodes
    }

    /// Creates the room on the placed node, or on the next ones in
    /// placement order (region tier, then load) if it fails, and attaches
    /// it to the match.
    async fn seat(
        &self,
        matched: MatchResult,
        placed: Option<usize>,
        nodes: &[NodeInfo],
    ) -> Result<Seated, SeatFailure> {
        let Some(first) = placed else {
            let why = format!("no live node of region {:?} (or of its fallback regions) has room", matched.region);
            return Err(SeatFailure { attempted: false, ..SeatFailure::retry(matched, why) });
        };
        let others = next_choices(nodes, &matched.region, &self.regions, first);
        let mut last_error = String::new();
        for node in std::iter::once(first).chain(others).take(NODES_TRIED_PER_ROOM).map(|i| &nodes[i]) {
            match self.provisioner.create_room(node, &matched).await {
                Ok(assignment) => {
                    // If the store fails now, the room exists: retrying would
                    // make a second one, so the match is given up.
                    let fallback = RegionPolicy::is_fallback(&matched.region, &node.region)
                        .then(|| (matched.region.clone(), node.region.clone()));
                    if let Some((from, to)) = &fallback {
                        tracing::debug!(match_id = %matched.match_id, node = %node.id, %from, %to, "region full: seated in a fallback region");
                    }
                    let seated = Seated { node: node.id.clone(), tickets: matched.tickets.clone(), fallback };
                    return self.matchmaker.assign(&matched.match_id, assignment).await.map(|_| seated).map_err(|e| {
                        SeatFailure {
                            match_id: matched.match_id.clone(),
                            why: format!("room created, not assigned: {e}"),
                            retry: None,
                            attempted: true,
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(match_id = %matched.match_id, node = %node.id, error = %e, "room creation failed");
                    last_error = e.to_string();
                }
            }
        }
        Err(SeatFailure::retry(matched, last_error))
    }
}

/// Why a match is given up.
enum GiveUp {
    /// Its room creation failed in `max_seat_attempts` rounds.
    CreationFailed,
    /// No node could take it for `max_unseated_wait`.
    NoRoom { waited_ms: u64 },
}

/// A match that got its room.
struct Seated {
    node: String,
    tickets: Vec<String>,
    /// (match region, node region) when seated outside the match's region.
    fallback: Option<(String, String)>,
}

/// A match that did not get its room this round.
struct SeatFailure {
    match_id: String,
    why: String,
    /// The match, when the next round should try again.
    retry: Option<MatchResult>,
    /// Whether a room creation was tried (and failed) on some node.
    attempted: bool,
}

impl SeatFailure {
    fn retry(matched: MatchResult, why: String) -> Self {
        SeatFailure { match_id: matched.match_id.clone(), why, retry: Some(matched), attempted: true }
    }
}

#[cfg(test)]
mod tests {

    use async_trait::async_trait;

    use super::*;
    use crate::matchmaking::{
        MatchRules, MemoryTicketStore, QueueKey, RoomAssignment, SeatAssignment, TicketRequest, TicketStatus,
    };
    use crate::nodes::MemoryNodeDirectory;
    use crate::provision::ProvisionError;

    /// Creates rooms in memory; refuses on the nodes listed in `down`.
    #[derive(Default)]
    struct FakeNodes {
        down: Mutex<Vec<String>>,
        created: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl RoomProvisioner for FakeNodes {
        async fn create_room(&self, node: &NodeInfo, matched: &MatchResult) -> Result<RoomAssignment, ProvisionError> {
            if self.down.lock().unwrap().contains(&node.id) {
                return Err(ProvisionError::Unreachable {
                    node: node.id.clone(),
                    message: "connection refused".into(),
                });
            }
            self.created.lock().unwrap().push(node.id.clone());
            Ok(RoomAssignment {
                room_id: format!("{}.room-{}", node.id, matched.match_id),
                node_url: node.url.clone(),
                seats: matched
                    .players
                    .iter()
                    .map(|p| SeatAssignment { player: p.clone(), token: format!("t-{p}") })
                    .collect(),
            })
        }
    }

    fn node(id: &str) -> NodeInfo {
        NodeInfo::for_tests(id, 10, 0)
    }

    async fn setup(nodes: &[&str]) -> (MatchDriver, Arc<FakeNodes>, Arc<MemoryNodeDirectory>) {
        let store = Arc::new(MemoryTicketStore::new(Duration::from_secs(60)));
        let rules = MatchRules { players_per_match: 2, ..MatchRules::default() };
        let matchmaker = Arc::new(Matchmaker::new(store, [(QueueKey::new("duel", "standard"), rules)]).unwrap());
        let directory = Arc::new(MemoryNodeDirectory::default());
        for id in nodes {
            directory.heartbeat(&node(id), Duration::from_secs(60)).await.unwrap();
        }
        let fake = Arc::new(FakeNodes::default());
        (MatchDriver::new(matchmaker, directory.clone(), fake.clone()), fake, directory)
    }

    async fn queue(driver: &MatchDriver, player: &str) -> String {
        driver.matchmaker().submit(TicketRequest::solo_for_tests("duel", player)).await.unwrap().ticket.id
    }

    async fn room_of(driver: &MatchDriver, ticket: &str) -> Option<String> {
        match driver.matchmaker().store().get(ticket).await.unwrap().expect("a ticket").view.status {
            TicketStatus::Matched(result) => result.assignment.map(|a| a.room_id),
            _ => None,
        }
    }

    #[tokio::test]
    async fn a_round_seats_matches_on_the_nodes() {
        let (driver, fake, _) = setup(&["a", "b"]).await;
        let tickets = [queue(&driver, "p1").await, queue(&driver, "p2").await];
        let report = driver.run_round(arcade_protocol::clock::now_ms()).await;
        assert_eq!((report.matched, report.seated, report.unseated), (1, 1, 0), "{report:?}");
        let room = room_of(&driver, &tickets[0]).await.expect("a room");
        assert_eq!(room_of(&driver, &tickets[1]).await.as_ref(), Some(&room));
        assert_eq!(fake.created.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn rooms_created_since_a_nodes_heartbeat_count_toward_its_load() {
        let (driver, fake, _) = setup(&["a", "b"]).await;
        // Round after round before any new heartbeat: the rooms still alternate.
        for round in 0..4 {
            queue(&driver, &format!("p{round}-1")).await;
            queue(&driver, &format!("p{round}-2")).await;
            assert_eq!(driver.run_round(arcade_protocol::clock::now_ms()).await.seated, 1);
        }
        let created = fake.created.lock().unwrap().clone();
        assert_eq!(created.iter().filter(|n| *n == "a").count(), 2, "{created:?}");
        assert_eq!(created.iter().filter(|n| *n == "b").count(), 2, "{created:?}");
    }

    #[tokio::test]
    async fn a_match_whose_driver_stopped_is_seated_by_another() {
        let (first, fake, directory) = setup(&["a"]).await;
        let ticket = queue(&first, "p1").await;
        queue(&first, "p2").await;
        // A driver forms the match and stops before the room exists.
        let formed = first.matchmaker().run_once("duel", "standard", arcade_protocol::clock::now_ms()).await.unwrap();
        assert_eq!(formed.matches.len(), 1);
        let survivor = MatchDriver::new(first.matchmaker().clone(), directory, fake)
            .with_recovery_after(Duration::from_millis(50));
        drop(first);

        let early = survivor.run_round(arcade_protocol::clock::now_ms()).await;
        assert_eq!((early.recovered, early.seated), (0, 0), "not stranded yet: {early:?}");
        tokio::time::sleep(Duration::from_millis(60)).await;
        let report = survivor.run_round(arcade_protocol::clock::now_ms()).await;
        assert_eq!((report.recovered, report.seated), (1, 1), "{report:?}");
        assert!(room_of(&survivor, &ticket).await.is_some());
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(survivor.run_round(arcade_protocol::clock::now_ms()).await.recovered, 0, "seated matches are done");
    }

    /// Queues `player` measuring only `region`.
    async fn queue_in(driver: &MatchDriver, player: &str, region: &str) -> String {
        let mut request = TicketRequest::solo_for_tests("duel", player);
        request.latencies = [(region.to_string(), 20)].into();
        driver.matchmaker().submit(request).await.unwrap().ticket.id
    }

    #[tokio::test]
    async fn matches_are_seated_in_their_region_and_fall_back_when_it_is_full() {
        let (driver, fake, directory) = setup(&[]).await;
        let driver = driver.with_region_fallback(RegionPolicy::new([("eu".into(), vec!["us".into()])].into()).unwrap());
        for (id, region, capacity) in [("eu-1", "eu", 2), ("eu-2", "eu", 2), ("us-1", "us", 100), ("ap-1", "ap", 100)] {
            let node = NodeInfo { region: region.into(), ..NodeInfo::for_tests(id, capacity, 0) };
            directory.heartbeat(&node, Duration::from_secs(60)).await.unwrap();
        }
        for i in 0..12 {
            queue_in(&driver, &format!("eu-{i}"), "eu").await;
        }
        let report = driver.run_round(arcade_protocol::clock::now_ms()).await;
        assert_eq!((report.matched, report.seated), (6, 6), "{report:?}");
        let created = fake.created.lock().unwrap().clone();
        let on = |id: &str| created.iter().filter(|n| *n == id).count();
        assert_eq!((on("eu-1"), on("eu-2"), on("us-1"), on("ap-1")), (2, 2, 2, 0), "{created:?}");
        assert_eq!(report.region_fallbacks, BTreeMap::from([(("eu".to_string(), "us".to_string()), 2)]));

        // A us match goes to us, counting nothing.
        queue_in(&driver, "us-a", "us").await;
        queue_in(&driver, "us-b", "us").await;
        let report = driver.run_round(arcade_protocol::clock::now_ms()).await;
        assert_eq!((report.seated, report.region_fallbacks.len()), (1, 0), "{report:?}");
        assert_eq!(fake.created.lock().unwrap().last().map(String::as_str), Some("us-1"));
    }

    #[tokio::test]
    async fn a_region_with_no_room_and_no_fallback_keeps_its_match_waiting() {
        let (driver, fake, directory) = setup(&[]).await;
        let us = NodeInfo { region: "us".into(), ..NodeInfo::for_tests("us-1", 100, 0) };
        directory.heartbeat(&us, Duration::from_secs(60)).await.unwrap();
        let ticket = queue_in(&driver, "p1", "eu").await;
        queue_in(&driver, "p2", "eu").await;
        let report = driver.run_round(arcade_protocol::clock::now_ms()).await;
        assert_eq!((report.matched, report.seated, report.unseated), (1, 0, 1), "{report:?}");
        assert!(report.errors.iter().any(|e| e.contains("region \"eu\"")), "{report:?}");
        assert!(fake.created.lock().unwrap().is_empty());
        // An eu node comes up: the match is seated there.
        let eu = NodeInfo { region: "eu".into(), ..NodeInfo::for_tests("eu-1", 100, 0) };
        directory.heartbeat(&eu, Duration::from_secs(60)).await.unwrap();
        assert_eq!(driver.run_round(arcade_protocol::clock::now_ms()).await.seated, 1);
        assert!(room_of(&driver, &ticket).await.unwrap().starts_with("eu-1."));
    }

    #[tokio::test]
    async fn a_match_no_node_can_take_is_given_up_after_the_longest_wait() {
        // A region no node serves (a client picks its region names): the
        // match waits, then its tickets fail instead of waiting forever.
        let (driver, _fake, directory) = setup(&[]).await;
        let driver = driver.with_max_unseated_wait(Duration::from_secs(300));
        let us = NodeInfo { region: "us".into(), ..NodeInfo::for_tests("us-1", 100, 0) };
        directory.heartbeat(&us, Duration::from_secs(60)).await.unwrap();
        let tickets = [queue_in(&driver, "p1", "nowhere").await, queue_in(&driver, "p2", "nowhere").await];
        let formed_at = arcade_protocol::clock::now_ms();
        let report = driver.run_round(formed_at).await;
        assert_eq!((report.matched, report.unseated, report.abandoned), (1, 1, 0), "{report:?}");
        let report = driver.run_round(formed_at + 299_000).await;
        assert_eq!((report.unseated, report.abandoned), (1, 0), "still within the wait: {report:?}");
        let report = driver.run_round(formed_at + 301_000).await;
        assert_eq!((report.unseated, report.abandoned), (0, 1), "{report:?}");
        for ticket in &tickets {
            let status = driver.matchmaker().store().get(ticket).await.unwrap().expect("a ticket").view.status;
            assert_eq!(status, TicketStatus::Failed);
        }
        let report = driver.run_round(formed_at + 302_000).await;
        assert_eq!((report.unseated, report.abandoned), (0, 0), "given up once: {report:?}");
    }

    #[tokio::test]
    async fn a_failing_node_is_replaced_by_one_of_its_region_before_a_fallback() {
        let (driver, fake, directory) = setup(&[]).await;
        let driver = driver.with_region_fallback(RegionPolicy::new([("eu".into(), vec!["us".into()])].into()).unwrap());
        // us-1 is emptiest overall, eu-2 fuller than eu-1: eu-1, then eu-2.
        for (id, region, rooms) in [("eu-1", "eu", 0), ("eu-2", "eu", 5), ("us-1", "us", 0)] {
            let node = NodeInfo { region: region.into(), ..NodeInfo::for_tests(id, 10, rooms) };
            directory.heartbeat(&node, Duration::from_secs(60)).await.unwrap();
        }
        fake.down.lock().unwrap().push("eu-1".into());
        let ticket = queue_in(&driver, "p1", "eu").await;
        queue_in(&driver, "p2", "eu").await;
        let report = driver.run_round(arcade_protocol::clock::now_ms()).await;
        assert_eq!((report.seated, report.region_fallbacks.len()), (1, 0), "{report:?}");
        assert!(room_of(&driver, &ticket).await.unwrap().starts_with("eu-2."));
    }

    #[tokio::test]
    async fn a_failing_node_is_skipped_for_the_next() {
        let (driver, fake, _) = setup(&["a", "b"]).await;
        fake.down.lock().unwrap().push("a".into());
        let ticket = queue(&driver, "p1").await;
        queue(&driver, "p2").await;
        let report = driver.run_round(arcade_protocol::clock::now_ms()).await;
        assert_eq!(report.seated, 1, "{report:?}");
        assert!(room_of(&driver, &ticket).await.unwrap().starts_with("b."));
    }

    #[tokio::test]
    async fn with_a_round_lease_one_driver_runs_a_queue_and_another_takes_over() {
        let (first, _, directory) = setup(&["a"]).await;
        let matchmaker = first.matchmaker().clone();
        let first = MatchDriver::new(matchmaker.clone(), directory.clone(), Arc::new(FakeNodes::default()))
            .with_round_lease("node-1", Duration::from_millis(100));
        let second = MatchDriver::new(matchmaker, directory, Arc::new(FakeNodes::default()))
            .with_round_lease("node-2", Duration::from_millis(100));
        queue(&first, "p1").await;
        queue(&first, "p2").await;
        let led = first.run_round(arcade_protocol::clock::now_ms()).await;
        assert_eq!((led.matched, led.leased_elsewhere), (1, 0), "{led:?}");
        let standing_by = second.run_round(arcade_protocol::clock::now_ms()).await;
        assert_eq!((standing_by.matched, standing_by.leased_elsewhere), (0, 1), "{standing_by:?}");

        // The leader stops renewing: the other takes the queue over.
        tokio::time::sleep(Duration::from_millis(150)).await;
        queue(&second, "p3").await;
        queue(&second, "p4").await;
        let took_over = second.run_round(arcade_protocol::clock::now_ms()).await;
        assert_eq!((took_over.matched, took_over.leased_elsewhere), (1, 0), "{took_over:?}");
        assert_eq!(first.run_round(arcade_protocol::clock::now_ms()).await.leased_elsewhere, 1);
    }

    #[tokio::test]
    async fn a_match_no_node_can_take_waits_for_the_next_round() {
        let (driver, fake, directory) = setup(&["a"]).await;
        fake.down.lock().unwrap().push("a".into());
        let ticket = queue(&driver, "p1").await;
        queue(&driver, "p2").await;
        let report = driver.run_round(arcade_protocol::clock::now_ms()).await;
        assert_eq!((report.matched, report.seated, report.unseated), (1, 0, 1), "{report:?}");
        assert_eq!(room_of(&driver, &ticket).await, None);

        // A node comes up: the next round seats the match formed earlier.
        directory.heartbeat(&node("c"), Duration::from_secs(60)).await.unwrap();
        let report = driver.run_round(arcade_protocol::clock::now_ms()).await;
        assert_eq!((report.matched, report.seated, report.unseated), (0, 1, 0), "{report:?}");
        assert!(room_of(&driver, &ticket).await.unwrap().starts_with("c."));
    }

    #[tokio::test]
    async fn a_match_whose_room_keeps_failing_is_given_up_after_the_set_rounds() {
        let (driver, fake, _) = setup(&["a"]).await;
        let driver = driver.with_seat_attempts(3);
        fake.down.lock().unwrap().push("a".into());
        let ticket = queue(&driver, "p1").await;
        queue(&driver, "p2").await;
        for round in 1..=2 {
            let report = driver.run_round(arcade_protocol::clock::now_ms()).await;
            assert_eq!((report.seated, report.unseated, report.abandoned), (0, 1, 0), "round {round}: {report:?}");
        }
        let report = driver.run_round(arcade_protocol::clock::now_ms()).await;
        assert_eq!((report.seated, report.unseated, report.abandoned), (0, 0, 1), "{report:?}");
        let status = driver.matchmaker().store().get(&ticket).await.unwrap().unwrap().view.status;
        assert_eq!(status, TicketStatus::Failed);

        // Given up for good: the node comes back, nothing is retried or recovered.
        fake.down.lock().unwrap().clear();
        let driver = driver.with_recovery_after(Duration::from_millis(1));
        tokio::time::sleep(Duration::from_millis(5)).await;
        let report = driver.run_round(arcade_protocol::clock::now_ms()).await;
        assert_eq!((report.seated, report.recovered, report.abandoned), (0, 0, 0), "{report:?}");
        assert!(fake.created.lock().unwrap().is_empty());
        // The players may queue again.
        queue(&driver, "p1").await;
    }

    #[tokio::test]
    async fn rounds_without_a_live_node_do_not_count_as_tries() {
        let (driver, _, directory) = setup(&[]).await;
        let driver = driver.with_seat_attempts(1);
        let ticket = queue(&driver, "p1").await;
        queue(&driver, "p2").await;
        for _ in 0..3 {
            let report = driver.run_round(arcade_protocol::clock::now_ms()).await;
            assert_eq!((report.unseated, report.abandoned), (1, 0), "{report:?}");
        }
        directory.heartbeat(&node("a"), Duration::from_secs(60)).await.unwrap();
        assert_eq!(driver.run_round(arcade_protocol::clock::now_ms()).await.seated, 1);
        assert!(room_of(&driver, &ticket).await.is_some());
    }
}
