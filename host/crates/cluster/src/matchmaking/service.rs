//! The [`Matchmaker`]: the operations the HTTP API, the WebSocket notifier
//! and the Lambda handler call, over any [`TicketStore`].
//!
//! A matching round (`run_once`) snapshots a queue, runs the pure match
//! function, expires stale tickets and commits the matches through the
//! store's atomic claim, so any number of nodes may run rounds of the same
//! queue concurrently. The committed matches are returned: the caller
//! allocates their rooms, calls [`Matchmaker::assign`] and notifies players.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

use super::MatchmakingError;
use super::matcher::{MatchRules, plan_matches};
use super::request::TicketRequest;
use super::secret::TicketSecret;
use super::store::TicketStore;
use super::ticket::{MatchResult, RoomAssignment, Ticket, TicketStatus, TicketView, UnixMillis};
use arcade_protocol::clock::now_ms;

/// One matchmaking queue.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QueueKey {
    pub game: String,
    pub mode: String,
}

impl QueueKey {
    pub fn new(game: impl Into<String>, mode: impl Into<String>) -> Self {
        QueueKey { game: game.into(), mode: mode.into() }
    }
}

/// What one matching round did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MatchRound {
    /// Matches this round committed: allocate their rooms, then `assign`.
    pub matches: Vec<MatchResult>,
    /// Tickets this round expired (to notify their players).
    pub expired: Vec<String>,
    /// Waiting tickets in the snapshot.
    pub waiting: usize,
    /// Planned matches dropped because a ticket was claimed meanwhile (by
    /// another node's round or a cancel); their other tickets wait on.
    pub contended: usize,
}

/// A ticket just queued, with the secret its creator needs to read, watch
/// or cancel it (handed out here only: the store keeps its hash).
#[derive(Clone, Debug)]
pub struct NewTicket {
    pub ticket: Ticket,
    pub secret: TicketSecret,
}

impl NewTicket {
    /// The answer to its creator, `{"ticket":{...},"status":"waiting","secret":"..."}`:
    /// the only time the secret is sent.
    pub fn created_json(&self) -> serde_json::Value {
        let view = TicketView { ticket: self.ticket.clone(), status: TicketStatus::Waiting };
        let mut json = serde_json::to_value(view).expect("a ticket view serializes");
        json["secret"] = self.secret.as_str().into();
        json
    }
}

pub struct Matchmaker {
    store: Arc<dyn TicketStore>,
    /// Queues can be added while running (a game server opens one per
    /// published game).
    queues: RwLock<HashMap<QueueKey, MatchRules>>,
}

impl Matchmaker {
    /// A matchmaker serving the given queues; rejects invalid rules.
    pub fn new(
        store: Arc<dyn TicketStore>,
        queues: impl IntoIterator<Item = (QueueKey, MatchRules)>,
    ) -> Result<Self, MatchmakingError> {
        let matchmaker = Matchmaker { store, queues: RwLock::default() };
        for (queue, rules) in queues {
            matchmaker.open_queue(queue, rules)?;
        }
        Ok(matchmaker)
    }

    /// Adds a queue, or replaces its rules (tickets already waiting stay).
    pub fn open_queue(&self, queue: QueueKey, rules: MatchRules) -> Result<(), MatchmakingError> {
        rules.validate().map_err(|e| MatchmakingError::Config(format!("{}/{}: {e}", queue.game, queue.mode)))?;
        self.queues.write().unwrap_or_else(|e| e.into_inner()).insert(queue, rules);
        Ok(())
    }

    pub fn store(&self) -> &Arc<dyn TicketStore> {
        &self.store
    }

    /// The open queues, sorted, e.g. to schedule a round for each.
    pub fn queues(&self) -> Vec<QueueKey> {
        let mut queues: Vec<QueueKey> = self.queues.read().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
        queues.sort();
        queues
    }

    pub fn rules(&self, game: &str, mode: &str) -> Result<MatchRules, MatchmakingError> {
        self.queues
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&QueueKey::new(game, mode))
            .cloned()
            .ok_or_else(|| MatchmakingError::UnknownQueue { game: game.into(), mode: mode.into() })
    }

    /// Validates the request and queues a new ticket, created now.
    pub async fn submit(&self, request: TicketRequest) -> Result<NewTicket, MatchmakingError> {
        self.submit_at(request, now_ms()).await
    }

    /// Whether `request` would be accepted (its queue exists and it fits the
    /// queue's rules), without queueing it: callers check before they count
    /// rate limits, so a refused request spends nobody's budget.
    pub fn check(&self, request: &TicketRequest) -> Result<(), MatchmakingError> {
        Ok(request.validate(&self.rules(&request.game, &request.mode)?)?)
    }

    /// [`Matchmaker::submit`] with an explicit creation time.
    pub async fn submit_at(
        &self,
        request: TicketRequest,
        created_at_ms: UnixMillis,
    ) -> Result<NewTicket, MatchmakingError> {
        let rules = self.rules(&request.game, &request.mode)?;
        request.validate(&rules)?;
        let ticket = request.into_ticket(uuid::Uuid::new_v4().simple().to_string(), created_at_ms);
        let secret = TicketSecret::generate();
        self.store.create(&ticket, &secret.hash(), rules.ticket_ttl()).await?;
        Ok(NewTicket { ticket, secret })
    }

    /// A ticket as its party may see it, to the holder of its `secret`: with
    /// the match and room once assigned, showing only the party's own seat
    /// tokens. A wrong secret is `TicketNotFound`, as for an unknown id.
    pub async fn status(&self, ticket_id: &str, secret: &str) -> Result<TicketView, MatchmakingError> {
        let not_found = || MatchmakingError::TicketNotFound(ticket_id.into());
        let record = self.store.get(ticket_id).await?.ok_or_else(not_found)?;
        if !record.admits(secret) {
            return Err(not_found());
        }
        let mut view = record.view;
        if let TicketStatus::Matched(result) = &view.status {
            view.status = TicketStatus::Matched(Box::new(result.visible_to(&view.ticket)));
        }
        Ok(view)
    }

    /// Cancels a ticket that is still waiting, for the holder of its
    /// `secret` (else `TicketNotFound`); returns it as it was.
    pub async fn cancel(&self, ticket_id: &str, secret: &str) -> Result<TicketView, MatchmakingError> {
        let view = self.status(ticket_id, secret).await?;
        self.store.cancel(ticket_id).await?;
        Ok(view)
    }

    /// One matching round of a queue at `now_ms`.
    pub async fn run_once(&self, game: &str, mode: &str, now_ms: UnixMillis) -> Result<MatchRound, MatchmakingError> {
        let rules = self.rules(game, mode)?;
        let waiting = self.store.waiting(game, mode).await?;
        let plan = plan_matches(&waiting, now_ms, &rules);

        let stale: Vec<String> = plan.expired.iter().map(|&t| waiting[t].id.clone()).collect();
        let expired = if stale.is_empty() { Vec::new() } else { self.store.expire(game, mode, &stale).await? };

        let proposed: Vec<MatchResult> = plan
            .matches
            .into_iter()
            .map(|planned| {
                let members: Vec<&Ticket> = planned.tickets.iter().map(|&t| &waiting[t]).collect();
                MatchResult {
                    match_id: uuid::Uuid::new_v4().simple().to_string(),
                    game: game.to_string(),
                    mode: mode.to_string(),
                    region: planned.region,
                    players: members.iter().flat_map(|t| t.party.iter().cloned()).collect(),
                    tickets: members.iter().map(|t| t.id.clone()).collect(),
                    matched_at_ms: now_ms,
                    worst_latency_ms: planned.worst_latency_ms,
                    rating_spread: planned.rating_spread,
                    assignment: None,
                }
            })
            .collect();
        let planned_count = proposed.len();
        let matches = if proposed.is_empty() { Vec::new() } else { self.store.commit_matches(proposed).await? };
        Ok(MatchRound { contended: planned_count - matches.len(), matches, expired, waiting: waiting.len() })
    }

    /// Attaches the room the caller allocated for a match; every player of
    /// the match must have exactly one seat.
    pub async fn assign(&self, match_id: &str, assignment: RoomAssignment) -> Result<MatchResult, MatchmakingError> {
        let result =
            self.store.get_match(match_id).await?.ok_or_else(|| MatchmakingError::MatchNotFound(match_id.into()))?;
        result.check_assignment(&assignment).map_err(MatchmakingError::InvalidAssignment)?;
        self.store.assign(match_id, &assignment).await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;
    use crate::matchmaking::memory::MemoryTicketStore;
    use crate::matchmaking::ticket::SeatAssignment;
    use crate::matchmaking::{TicketState, ValidationError};

    const NOW: UnixMillis = 1_700_000_000_000;

    fn matchmaker() -> Matchmaker {
        let store = Arc::new(MemoryTicketStore::new(Duration::from_secs(60)));
        let duel = MatchRules { players_per_match: 2, ticket_ttl_secs: 30, ..MatchRules::default() };
        Matchmaker::new(store, [(QueueKey::new("tic-tac-toe", "ranked"), duel)]).unwrap()
    }

    fn request(party: &[&str]) -> TicketRequest {
        TicketRequest {
            game: "tic-tac-toe".into(),
            mode: "ranked".into(),
            party: party.iter().map(|p| p.to_string()).collect(),
            rating: 1500.0,
            latencies: BTreeMap::from([("eu-west-1".to_string(), 25)]),
        }
    }

    fn room_for(result: &MatchResult) -> RoomAssignment {
        RoomAssignment {
            room_id: "room-1".into(),
            node_url: "http://127.0.0.1:8080".into(),
            seats: result
                .players
                .iter()
                .map(|p| SeatAssignment { player: p.clone(), token: format!("tok-{p}") })
                .collect(),
        }
    }

    #[tokio::test]
    async fn a_ticket_goes_from_waiting_to_matched_to_seated() {
        let mm = matchmaker();
        let NewTicket { ticket: ann, secret: ann_secret } = mm.submit_at(request(&["ann"]), NOW).await.unwrap();
        assert_eq!(mm.status(&ann.id, ann_secret.as_str()).await.unwrap().status, TicketStatus::Waiting);
        let NewTicket { ticket: bob, secret: bob_secret } = mm.submit_at(request(&["bob"]), NOW + 10).await.unwrap();

        let round = mm.run_once("tic-tac-toe", "ranked", NOW + 100).await.unwrap();
        assert_eq!((round.waiting, round.matches.len(), round.contended), (2, 1, 0));
        let result = &round.matches[0];
        assert_eq!(result.players, vec!["ann", "bob"]);
        assert_eq!(result.tickets, vec![ann.id.clone(), bob.id.clone()]);
        assert_eq!(result.region, "eu-west-1");

        let TicketStatus::Matched(seen) = mm.status(&ann.id, ann_secret.as_str()).await.unwrap().status else {
            panic!("not matched")
        };
        assert_eq!(seen.assignment, None, "matched, room not allocated yet");

        mm.assign(&result.match_id, room_for(result)).await.unwrap();
        let TicketStatus::Matched(seen) = mm.status(&bob.id, bob_secret.as_str()).await.unwrap().status else {
            panic!("not matched")
        };
        let seats = seen.assignment.unwrap().seats;
        assert_eq!(seats, vec![SeatAssignment { player: "bob".into(), token: "tok-bob".into() }]);
        assert!(mm.run_once("tic-tac-toe", "ranked", NOW + 200).await.unwrap().matches.is_empty());
    }

    #[tokio::test]
    async fn bad_requests_and_unknown_queues_are_refused() {
        let mm = matchmaker();
        let too_big = mm.submit_at(request(&["a", "b", "c"]), NOW).await.unwrap_err();
        assert!(matches!(too_big, MatchmakingError::Invalid(ValidationError::PartyTooBig { size: 3, .. })));
        assert_eq!(too_big.http_status(), 400);

        let mut elsewhere = request(&["ann"]);
        elsewhere.mode = "casual".into();
        let unknown = mm.submit_at(elsewhere, NOW).await.unwrap_err();
        assert!(matches!(unknown, MatchmakingError::UnknownQueue { .. }));
        assert_eq!(unknown.http_status(), 404);
        assert!(matches!(mm.status("nope", "secret").await, Err(MatchmakingError::TicketNotFound(_))));
    }

    #[tokio::test]
    async fn a_player_waits_in_one_ticket_at_a_time() {
        let mm = matchmaker();
        let first = mm.submit_at(request(&["ann", "bob"]), NOW).await.unwrap();
        let again = mm.submit_at(request(&["bob"]), NOW).await.unwrap_err();
        assert!(matches!(&again, MatchmakingError::PlayerAlreadyQueued { player } if player == "bob"));
        assert!(!again.to_string().contains(&first.ticket.id), "the holder's ticket id is not given away: {again}");
        mm.cancel(&first.ticket.id, first.secret.as_str()).await.unwrap();
        mm.submit_at(request(&["bob"]), NOW).await.unwrap();
    }

    #[tokio::test]
    async fn only_waiting_tickets_can_be_cancelled() {
        let mm = matchmaker();
        let NewTicket { ticket: ann, secret } = mm.submit_at(request(&["ann"]), NOW).await.unwrap();
        mm.cancel(&ann.id, secret.as_str()).await.unwrap();
        assert_eq!(mm.status(&ann.id, secret.as_str()).await.unwrap().status, TicketStatus::Cancelled);
        let twice = mm.cancel(&ann.id, secret.as_str()).await.unwrap_err();
        assert!(matches!(&twice, MatchmakingError::NotWaiting { state, .. } if state == "cancelled"));
        assert_eq!(twice.http_status(), 409);

        // A cancelled ticket is never matched.
        mm.submit_at(request(&["bob"]), NOW).await.unwrap();
        assert!(mm.run_once("tic-tac-toe", "ranked", NOW + 100).await.unwrap().matches.is_empty());
    }

    #[tokio::test]
    async fn tickets_past_their_ttl_expire() {
        let mm = matchmaker();
        let NewTicket { ticket: ann, secret } = mm.submit_at(request(&["ann"]), NOW).await.unwrap();
        let round = mm.run_once("tic-tac-toe", "ranked", NOW + 30_000).await.unwrap();
        assert_eq!(round.expired, vec![ann.id.clone()]);
        assert_eq!(mm.status(&ann.id, secret.as_str()).await.unwrap().status, TicketStatus::Expired);
        assert!(matches!(mm.cancel(&ann.id, secret.as_str()).await, Err(MatchmakingError::NotWaiting { .. })));
        assert_eq!(TicketState::Expired.name(), "expired");
    }

    #[tokio::test]
    async fn an_assignment_must_seat_the_matched_players() {
        let mm = matchmaker();
        mm.submit_at(request(&["ann"]), NOW).await.unwrap();
        mm.submit_at(request(&["bob"]), NOW).await.unwrap();
        let result = mm.run_once("tic-tac-toe", "ranked", NOW).await.unwrap().matches.remove(0);
        let mut wrong = room_for(&result);
        wrong.seats[0].player = "eve".into();
        assert!(matches!(mm.assign(&result.match_id, wrong).await, Err(MatchmakingError::InvalidAssignment(_))));
        assert!(matches!(mm.assign("no-such-match", room_for(&result)).await, Err(MatchmakingError::MatchNotFound(_))));
    }

    #[tokio::test]
    async fn only_the_secret_opens_a_ticket() {
        let mm = matchmaker();
        let NewTicket { ticket: ann, secret } = mm.submit_at(request(&["ann"]), NOW).await.unwrap();
        let other = mm.submit_at(request(&["bob"]), NOW).await.unwrap();
        for wrong in ["", "secret", other.secret.as_str(), &secret.as_str()[1..]] {
            let refused = mm.status(&ann.id, wrong).await.unwrap_err();
            assert!(matches!(refused, MatchmakingError::TicketNotFound(_)), "{wrong:?}: {refused}");
            assert_eq!(
                refused.to_string(),
                mm.status("no-such-ticket", wrong).await.unwrap_err().to_string().replace("no-such-ticket", &ann.id),
                "a wrong secret reads exactly as an unknown ticket"
            );
            assert!(matches!(mm.cancel(&ann.id, wrong).await, Err(MatchmakingError::TicketNotFound(_))));
        }
        assert_eq!(mm.status(&ann.id, secret.as_str()).await.unwrap().status, TicketStatus::Waiting, "not cancelled");
    }
}
