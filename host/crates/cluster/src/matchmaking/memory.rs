//! The embedded ticket store: everything in this process, behind one mutex
//! (so every operation is trivially atomic). For a single node; several
//! nodes share the Redis store instead.
//!
//! Finished tickets and matches are forgotten after the retention period,
//! like Redis key TTLs; waiting tickets after their TTL plus retention
//! (normally the matcher has expired them long before).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;

use super::MatchmakingError;
use super::secret::SecretHash;
use super::store::{SeatedAnnouncements, TicketRecord, TicketStore};
use super::ticket::{MatchResult, RoomAssignment, Ticket, TicketState, TicketStatus, TicketView, UnixMillis};
use arcade_protocol::clock::now_ms;

pub struct MemoryTicketStore {
    retention_ms: u64,
    state: Mutex<State>,
    seated: tokio::sync::broadcast::Sender<Vec<String>>,
}

#[derive(Default)]
struct State {
    tickets: HashMap<String, StoredTicket>,
    /// Waiting ticket ids per (game, mode).
    queues: HashMap<(String, String), HashSet<String>>,
    /// Player id → the waiting ticket that holds them.
    players: HashMap<String, String>,
    matches: HashMap<String, StoredMatch>,
    /// When to look at a ticket or match again to forget it.
    forget_schedule: BTreeMap<UnixMillis, Vec<Forgettable>>,
    /// Matches without a room: id → committed or last claimed (ms).
    unassigned: HashMap<String, UnixMillis>,
    /// Round leases per (game, mode): holder and expiry.
    leases: HashMap<(String, String), (String, UnixMillis)>,
}

struct StoredTicket {
    ticket: Ticket,
    secret: SecretHash,
    state: TicketState,
    /// Until when the ticket may hold its players (its TTL).
    holds_players_until_ms: UnixMillis,
    forget_at_ms: UnixMillis,
}

struct StoredMatch {
    result: MatchResult,
    forget_at_ms: UnixMillis,
}

enum Forgettable {
    Ticket(String),
    Match(String),
}

impl MemoryTicketStore {
    pub fn new(retention: Duration) -> Self {
        MemoryTicketStore {
            retention_ms: retention.as_millis() as u64,
            state: Mutex::new(State::default()),
            seated: tokio::sync::broadcast::channel(1024).0,
        }
    }

    /// Locks the state after forgetting what is past retention.
    fn state(&self) -> MutexGuard<'_, State> {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        state.forget_due(now_ms());
        state
    }
}

impl State {
    fn forget_due(&mut self, now: UnixMillis) {
        while let Some(entry) = self.forget_schedule.first_entry() {
            if *entry.key() > now {
                break;
            }
            for item in entry.remove() {
                match item {
                    Forgettable::Ticket(id) => {
                        if self.tickets.get(&id).is_some_and(|t| t.forget_at_ms <= now) {
                            self.leave_queue(&id);
                            self.tickets.remove(&id);
                        }
                    }
                    Forgettable::Match(id) => {
                        if self.matches.get(&id).is_some_and(|m| m.forget_at_ms <= now) {
                            self.matches.remove(&id);
                        }
                    }
                }
            }
        }
    }

    fn schedule(&mut self, at: UnixMillis, item: Forgettable) {
        self.forget_schedule.entry(at).or_default().push(item);
    }

    /// Takes a ticket out of its queue and releases its players.
    fn leave_queue(&mut self, ticket_id: &str) {
        let Some(stored) = self.tickets.get(ticket_id) else { return };
        let queue = (stored.ticket.game.clone(), stored.ticket.mode.clone());
        if let Some(ids) = self.queues.get_mut(&queue) {
            ids.remove(ticket_id);
            if ids.is_empty() {
                self.queues.remove(&queue);
            }
        }
        for player in &stored.ticket.party {
            if self.players.get(player).is_some_and(|holder| holder == ticket_id) {
                self.players.remove(player);
            }
        }
    }

    /// Moves a waiting ticket to a final state, kept for `retention_ms`.
    fn finish(&mut self, ticket_id: &str, state: TicketState, now: UnixMillis, retention_ms: u64) {
        self.leave_queue(ticket_id);
        let forget_at_ms = now + retention_ms;
        if let Some(stored) = self.tickets.get_mut(ticket_id) {
            stored.state = state;
            stored.forget_at_ms = forget_at_ms;
        }
        self.schedule(forget_at_ms, Forgettable::Ticket(ticket_id.to_string()));
    }

    fn is_waiting(&self, ticket_id: &str) -> bool {
        self.tickets.get(ticket_id).is_some_and(|t| t.state == TicketState::Waiting)
    }
}

#[async_trait]
impl TicketStore for MemoryTicketStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn create(&self, ticket: &Ticket, secret: &SecretHash, ttl: Duration) -> Result<(), MatchmakingError> {
        let now = now_ms();
        let mut state = self.state();
        if state.tickets.contains_key(&ticket.id) {
            return Err(MatchmakingError::DuplicateTicket(ticket.id.clone()));
        }
        for player in &ticket.party {
            if let Some(holder) = state.players.get(player) {
                let holds = state
                    .tickets
                    .get(holder)
                    .is_some_and(|t| t.state == TicketState::Waiting && t.holds_players_until_ms > now);
                if holds {
                    return Err(MatchmakingError::PlayerAlreadyQueued { player: player.clone() });
                }
            }
        }
        let ttl_ms = ttl.as_millis() as u64;
        let forget_at_ms = now + ttl_ms + self.retention_ms;
        for player in &ticket.party {
            state.players.insert(player.clone(), ticket.id.clone());
        }
        state.queues.entry((ticket.game.clone(), ticket.mode.clone())).or_default().insert(ticket.id.clone());
        state.tickets.insert(
            ticket.id.clone(),
            StoredTicket {
                ticket: ticket.clone(),
                secret: *secret,
                state: TicketState::Waiting,
                holds_players_until_ms: now + ttl_ms,
                forget_at_ms,
            },
        );
        state.schedule(forget_at_ms, Forgettable::Ticket(ticket.id.clone()));
        Ok(())
    }

    async fn get(&self, ticket_id: &str) -> Result<Option<TicketRecord>, MatchmakingError> {
        let state = self.state();
        let Some(stored) = state.tickets.get(ticket_id) else { return Ok(None) };
        let status = match &stored.state {
            TicketState::Waiting => TicketStatus::Waiting,
            TicketState::Expired => TicketStatus::Expired,
            TicketState::Cancelled => TicketStatus::Cancelled,
            TicketState::Failed => TicketStatus::Failed,
            TicketState::Matched { match_id } => match state.matches.get(match_id) {
                Some(stored_match) => TicketStatus::Matched(Box::new(stored_match.result.clone())),
                None => return Ok(None),
            },
        };
        let view = TicketView { ticket: stored.ticket.clone(), status };
        Ok(Some(TicketRecord { view, secret: Some(stored.secret) }))
    }

    async fn fail_match(&self, match_id: &str) -> Result<Vec<String>, MatchmakingError> {
        let mut state = self.state();
        let Some(stored) = state.matches.get(match_id) else { return Ok(Vec::new()) };
        if stored.result.assignment.is_some() {
            return Ok(Vec::new());
        }
        // Forgotten at once: a room created later cannot be assigned to it.
        let tickets = state.matches.remove(match_id).map(|m| m.result.tickets).unwrap_or_default();
        state.unassigned.remove(match_id);
        let matched = TicketState::Matched { match_id: match_id.to_string() };
        let mut failed = Vec::new();
        for id in tickets {
            if let Some(ticket) = state.tickets.get_mut(&id)
                && ticket.state == matched
            {
                ticket.state = TicketState::Failed;
                failed.push(id);
            }
        }
        Ok(failed)
    }

    async fn cancel(&self, ticket_id: &str) -> Result<(), MatchmakingError> {
        let mut state = self.state();
        let stored = state.tickets.get(ticket_id).ok_or_else(|| MatchmakingError::TicketNotFound(ticket_id.into()))?;
        if stored.state != TicketState::Waiting {
            return Err(MatchmakingError::NotWaiting { ticket_id: ticket_id.into(), state: stored.state.to_string() });
        }
        state.finish(ticket_id, TicketState::Cancelled, now_ms(), self.retention_ms);
        Ok(())
    }

    async fn waiting(&self, game: &str, mode: &str) -> Result<Vec<Ticket>, MatchmakingError> {
        let state = self.state();
        let Some(ids) = state.queues.get(&(game.to_string(), mode.to_string())) else { return Ok(Vec::new()) };
        Ok(ids.iter().filter_map(|id| state.tickets.get(id)).map(|stored| stored.ticket.clone()).collect())
    }

    async fn commit_matches(&self, matches: Vec<MatchResult>) -> Result<Vec<MatchResult>, MatchmakingError> {
        let now = now_ms();
        let mut state = self.state();
        let mut committed = Vec::with_capacity(matches.len());
        for result in matches {
            if !result.tickets.iter().all(|id| state.is_waiting(id)) {
                continue;
            }
            for ticket_id in &result.tickets {
                let matched = TicketState::Matched { match_id: result.match_id.clone() };
                state.finish(ticket_id, matched, now, self.retention_ms);
            }
            let forget_at_ms = now + self.retention_ms;
            state.matches.insert(result.match_id.clone(), StoredMatch { result: result.clone(), forget_at_ms });
            state.unassigned.insert(result.match_id.clone(), now);
            state.schedule(forget_at_ms, Forgettable::Match(result.match_id.clone()));
            committed.push(result);
        }
        Ok(committed)
    }

    async fn expire(&self, _game: &str, _mode: &str, ticket_ids: &[String]) -> Result<Vec<String>, MatchmakingError> {
        let now = now_ms();
        let mut state = self.state();
        let waiting: Vec<String> = ticket_ids.iter().filter(|id| state.is_waiting(id)).cloned().collect();
        for ticket_id in &waiting {
            state.finish(ticket_id, TicketState::Expired, now, self.retention_ms);
        }
        Ok(waiting)
    }

    async fn assign(&self, match_id: &str, assignment: &RoomAssignment) -> Result<MatchResult, MatchmakingError> {
        let mut state = self.state();
        let stored = state.matches.get_mut(match_id).ok_or_else(|| MatchmakingError::MatchNotFound(match_id.into()))?;
        stored.result.assignment = Some(assignment.clone());
        let result = stored.result.clone();
        state.unassigned.remove(match_id);
        Ok(result)
    }

    async fn get_match(&self, match_id: &str) -> Result<Option<MatchResult>, MatchmakingError> {
        Ok(self.state().matches.get(match_id).map(|stored| stored.result.clone()))
    }

    async fn lease_rounds(
        &self,
        game: &str,
        mode: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, MatchmakingError> {
        let now = now_ms();
        let mut state = self.state();
        let lease = state.leases.entry((game.to_string(), mode.to_string())).or_insert_with(|| (holder.to_string(), 0));
        if lease.0 != holder && lease.1 > now {
            return Ok(false);
        }
        *lease = (holder.to_string(), now + ttl.as_millis() as u64);
        Ok(true)
    }

    async fn claim_unassigned(&self, age: Duration, most: usize) -> Result<Vec<MatchResult>, MatchmakingError> {
        let now = now_ms();
        let cutoff = now.saturating_sub(age.as_millis() as u64);
        let mut state = self.state();
        let State { unassigned, matches, .. } = &mut *state;
        unassigned.retain(|id, _| matches.contains_key(id));
        let mut claimed = Vec::new();
        for (id, stamp) in unassigned.iter_mut() {
            if claimed.len() >= most {
                break;
            }
            if *stamp <= cutoff {
                *stamp = now;
                claimed.push(matches[id].result.clone());
            }
        }
        Ok(claimed)
    }

    async fn announce_seated(&self, ticket_ids: &[String]) -> Result<(), MatchmakingError> {
        // No subscriber is not an error.
        let _ = self.seated.send(ticket_ids.to_vec());
        Ok(())
    }

    async fn seated_announcements(&self) -> Result<SeatedAnnouncements, MatchmakingError> {
        let receiver = self.seated.subscribe();
        let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok(batch) => return Some((batch, receiver)),
                    // Watchers that missed a batch see it at their next poll.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        Ok(Box::pin(stream))
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    #[tokio::test]
    async fn matches_left_without_a_room_are_claimed_once_per_age() {
        use crate::matchmaking::{MatchResult, RoomAssignment, TicketRequest};
        let store = MemoryTicketStore::new(Duration::from_secs(60));
        let mut tickets = Vec::new();
        for player in ["ann", "bob"] {
            let ticket = TicketRequest::solo_for_tests("duel", player).into_ticket(format!("t-{player}"), now_ms());
            let secret = crate::matchmaking::TicketSecret::generate().hash();
            store.create(&ticket, &secret, Duration::from_secs(60)).await.unwrap();
            tickets.push(ticket.id);
        }
        let result = MatchResult {
            match_id: "m-1".into(),
            game: "duel".into(),
            mode: "standard".into(),
            region: "local".into(),
            players: vec!["ann".into(), "bob".into()],
            tickets,
            matched_at_ms: now_ms(),
            worst_latency_ms: 0,
            rating_spread: 0.0,
            assignment: None,
        };
        store.commit_matches(vec![result.clone()]).await.unwrap();
        let age = Duration::from_millis(50);
        assert!(store.claim_unassigned(age, 10).await.unwrap().is_empty(), "too young");
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(store.claim_unassigned(age, 10).await.unwrap(), std::slice::from_ref(&result));
        assert!(store.claim_unassigned(age, 10).await.unwrap().is_empty(), "claimed: not again before the age");
        tokio::time::sleep(Duration::from_millis(60)).await;
        let assignment = RoomAssignment { room_id: "r".into(), node_url: "http://n".into(), seats: vec![] };
        store.assign("m-1", &assignment).await.unwrap();
        assert!(store.claim_unassigned(age, 10).await.unwrap().is_empty(), "assigned matches are done");
    }

    #[tokio::test]
    async fn seated_announcements_reach_every_subscriber() {
        let store = MemoryTicketStore::new(Duration::from_secs(60));
        store.announce_seated(&["nobody-listens".into()]).await.unwrap();
        let (mut first, mut second) =
            (store.seated_announcements().await.unwrap(), store.seated_announcements().await.unwrap());
        store.announce_seated(&["t-1".into()]).await.unwrap();
        assert_eq!(first.next().await, Some(vec!["t-1".to_string()]));
        assert_eq!(second.next().await, Some(vec!["t-1".to_string()]));
    }
}
