//! The matchmaking data model: tickets, their status as players poll it,
//! match results and the room assignment the caller attaches to a match.
//! Everything here is plain serde data, identical in every store backend and
//! in the JSON the HTTP and Lambda front ends return.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

pub use arcade_protocol::clock::UnixMillis;

/// One party waiting to be matched: 1..n players placed together, in the
/// same match, never split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: String,
    pub game: String,
    pub mode: String,
    /// Player ids; a match seats them next to each other in this order.
    pub party: Vec<String>,
    /// The party's average skill rating.
    pub rating: f64,
    /// Measured round-trip latency to each region, in milliseconds.
    pub latencies: BTreeMap<String, u32>,
    pub created_at_ms: UnixMillis,
}

impl Ticket {
    pub fn party_size(&self) -> usize {
        self.party.len()
    }

    /// How long the ticket has waited at `now_ms` (zero if `now_ms` is earlier).
    pub fn waited_ms(&self, now_ms: UnixMillis) -> u64 {
        now_ms.saturating_sub(self.created_at_ms)
    }
}

/// Where a ticket is in its life, as stored. `Matched` names the match; the
/// public [`TicketStatus`] carries the match itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TicketState {
    Waiting,
    Matched {
        match_id: String,
    },
    Expired,
    Cancelled,
    /// Matched, but no room could be created for the match after several
    /// tries: the party may queue again.
    Failed,
}

impl TicketState {
    /// The machine-readable name, as in the `status` field of [`TicketStatus`].
    pub fn name(&self) -> &'static str {
        match self {
            TicketState::Waiting => "waiting",
            TicketState::Matched { .. } => "matched",
            TicketState::Expired => "expired",
            TicketState::Cancelled => "cancelled",
            TicketState::Failed => "failed",
        }
    }
}

impl fmt::Display for TicketState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A ticket's status as players see it when polling:
/// `{"status":"waiting"}`, `{"status":"matched","match":{...}}`,
/// `{"status":"expired"}`, `{"status":"cancelled"}` or `{"status":"failed"}`
/// (its match got no room after several tries; queue again).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", content = "match", rename_all = "snake_case")]
pub enum TicketStatus {
    Waiting,
    Matched(Box<MatchResult>),
    Expired,
    Cancelled,
    Failed,
}

impl TicketStatus {
    pub fn name(&self) -> &'static str {
        match self {
            TicketStatus::Waiting => "waiting",
            TicketStatus::Matched(_) => "matched",
            TicketStatus::Expired => "expired",
            TicketStatus::Cancelled => "cancelled",
            TicketStatus::Failed => "failed",
        }
    }
}

/// A ticket and its current status: the answer to a poll.
/// JSON: `{"ticket":{...},"status":"matched","match":{...}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TicketView {
    pub ticket: Ticket,
    #[serde(flatten)]
    pub status: TicketStatus,
}

/// A formed match: who plays, in which region. The room is allocated by the
/// caller afterwards and attached as `assignment`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatchResult {
    pub match_id: String,
    pub game: String,
    pub mode: String,
    pub region: String,
    /// Players in seat order: ticket after ticket (oldest first), each
    /// party's members together in their own order.
    pub players: Vec<String>,
    /// The matched ticket ids, in the same order as their players.
    pub tickets: Vec<String>,
    pub matched_at_ms: UnixMillis,
    /// The highest latency any player has to `region`.
    pub worst_latency_ms: u32,
    /// Highest minus lowest ticket rating in the match.
    pub rating_spread: f64,
    /// The room, once the caller has allocated it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment: Option<RoomAssignment>,
}

impl MatchResult {
    /// The match as the members of `ticket` may see it: the seat tokens of
    /// other parties are removed (a token lets its holder play that seat).
    pub fn visible_to(&self, ticket: &Ticket) -> MatchResult {
        let mut visible = self.clone();
        if let Some(assignment) = &mut visible.assignment {
            assignment.seats.retain(|seat| ticket.party.contains(&seat.player));
        }
        visible
    }

    /// Checks that `assignment` seats exactly this match's players, each once.
    pub fn check_assignment(&self, assignment: &RoomAssignment) -> Result<(), String> {
        let mut seated = BTreeSet::new();
        for seat in &assignment.seats {
            if !self.players.contains(&seat.player) {
                return Err(format!("player {:?} is not in match {}", seat.player, self.match_id));
            }
            if !seated.insert(seat.player.as_str()) {
                return Err(format!("player {:?} is seated twice", seat.player));
            }
        }
        if seated.len() != self.players.len() {
            return Err(format!(
                "{} of the {} players of match {} have a seat",
                seated.len(),
                self.players.len(),
                self.match_id
            ));
        }
        Ok(())
    }
}

/// The room a match plays in, filled by the caller after allocating it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomAssignment {
    pub room_id: String,
    /// Base URL of the host node running the room.
    pub node_url: String,
    pub seats: Vec<SeatAssignment>,
}

/// A player's seat and the token that claims it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatAssignment {
    pub player: String,
    pub token: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(id: &str, party: &[&str]) -> Ticket {
        Ticket {
            id: id.into(),
            game: "tic-tac-toe".into(),
            mode: "ranked".into(),
            party: party.iter().map(|p| p.to_string()).collect(),
            rating: 1500.0,
            latencies: BTreeMap::from([("eu-west".to_string(), 20)]),
            created_at_ms: 1_000,
        }
    }

    fn matched(assignment: Option<RoomAssignment>) -> MatchResult {
        MatchResult {
            match_id: "m1".into(),
            game: "tic-tac-toe".into(),
            mode: "ranked".into(),
            region: "eu-west".into(),
            players: vec!["ann".into(), "bob".into()],
            tickets: vec!["t1".into(), "t2".into()],
            matched_at_ms: 2_000,
            worst_latency_ms: 20,
            rating_spread: 0.0,
            assignment,
        }
    }

    fn room() -> RoomAssignment {
        RoomAssignment {
            room_id: "r1".into(),
            node_url: "http://10.0.0.1:8080".into(),
            seats: vec![
                SeatAssignment { player: "ann".into(), token: "tok-ann".into() },
                SeatAssignment { player: "bob".into(), token: "tok-bob".into() },
            ],
        }
    }

    #[test]
    fn status_json_is_tagged_and_round_trips() {
        let waiting = TicketView { ticket: ticket("t1", &["ann"]), status: TicketStatus::Waiting };
        let json = serde_json::to_value(&waiting).unwrap();
        assert_eq!(json["status"], "waiting");
        assert!(json.get("match").is_none());
        assert_eq!(serde_json::from_value::<TicketView>(json).unwrap(), waiting);

        let with_match = TicketView {
            ticket: ticket("t1", &["ann"]),
            status: TicketStatus::Matched(Box::new(matched(Some(room())))),
        };
        let json = serde_json::to_value(&with_match).unwrap();
        assert_eq!(json["status"], "matched");
        assert_eq!(json["match"]["assignment"]["room_id"], "r1");
        assert_eq!(serde_json::from_value::<TicketView>(json).unwrap(), with_match);

        let pending_room = serde_json::to_value(matched(None)).unwrap();
        assert!(pending_room.get("assignment").is_none(), "no room yet: no assignment field");
    }

    #[test]
    fn a_party_sees_only_its_own_seat_tokens() {
        let visible = matched(Some(room())).visible_to(&ticket("t1", &["ann"]));
        let seats = visible.assignment.unwrap().seats;
        assert_eq!(seats, vec![SeatAssignment { player: "ann".into(), token: "tok-ann".into() }]);
    }

    #[test]
    fn an_assignment_must_seat_every_player_once() {
        let result = matched(None);
        assert!(result.check_assignment(&room()).is_ok());

        let mut missing = room();
        missing.seats.pop();
        assert!(result.check_assignment(&missing).unwrap_err().contains("1 of the 2"));

        let mut twice = room();
        twice.seats[1].player = "ann".into();
        assert!(result.check_assignment(&twice).unwrap_err().contains("twice"));

        let mut stranger = room();
        stranger.seats[1].player = "eve".into();
        assert!(result.check_assignment(&stranger).unwrap_err().contains("not in match"));
    }
}
