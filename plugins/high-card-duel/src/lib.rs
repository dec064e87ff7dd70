//! # High-card duel
//!
//! A two-player game of hidden information and simultaneous turns.
//!
//! - A 52-card deck is shuffled with the room's seeded random stream
//!   (Fisher-Yates over [`arcade_sdk::random_below`]) and each player is dealt
//!   [`HAND_SIZE`] cards, alternately from the top.
//! - Each round both players secretly play one card from their hand. The
//!   round is simultaneous: the status awaits every player who has not played
//!   yet this round, in any order. Once both have played, both cards are
//!   revealed and the higher rank wins the round (suits do not matter; equal
//!   ranks: nobody wins it).
//! - After [`ROUNDS`] rounds the player who won more rounds wins; equal
//!   round wins is a draw. Scores are rounds won.
//! - Action: `{"play": "<card>"}`, cards written rank then suit: `"2C"`,
//!   `"10S"`, `"QH"`, `"AD"` (ranks 2-10, J, Q, K, A; suits C, D, H, S).
//!
//! ## What each viewer may see
//!
//! A player sees their own hand and the card they have put down this round,
//! but of the opponent only the hand size and *whether* they have played.
//! Spectators see no cards at all until they are revealed. Everyone sees the
//! revealed history and the scores. Player view:
//!
//! ```json
//! { "you": "ann", "hand": ["3C", "QH"], "pending": "10S",
//!   "opponent": { "name": "bob", "hand_size": 3, "played": false },
//!   "round": 3, "rounds": 5, "history": [ROUND...], "scores": {"ann": 1, "bob": 1},
//!   "awaiting": ["bob"], "winners": null }
//! ```
//!
//! Spectator view: `{"players": [{"name", "hand_size", "played"}, ...],
//! "round", "rounds", "history", "scores", "awaiting", "winners"}`.
//! A history entry (ROUND) is `{"round": 1, "cards": {"ann": "QH", "bob": "3C"},
//! "winner": "ann" | null}`; `round` is `null` and `winners` a list once the
//! game is over.
//!
//! ## Events
//!
//! - `"deal"` `{"hand": [...]}`: private to each player. `create` cannot
//!   return events in the plugin contract, so the two deal events are queued
//!   and delivered ahead of the events of the first accepted action.
//! - `"played"` `{"player", "round"}`: public; says who put a card down, never
//!   which card.
//! - `"round"` `{"round", "cards", "winner", "scores"}`: public, when both
//!   cards are revealed.
//! - `"game-over"` `{"winners", "scores"}`: public, after the last round.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use arcade_sdk::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Cards dealt to each player.
pub const HAND_SIZE: usize = 5;
/// Rounds in a game: every card of a hand is played.
pub const ROUNDS: usize = HAND_SIZE;

/// A card suit. Suits never decide a round; they only tell cards apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Suit {
    Clubs,
    Diamonds,
    Hearts,
    Spades,
}

impl Suit {
    pub const ALL: [Suit; 4] = [Suit::Clubs, Suit::Diamonds, Suit::Hearts, Suit::Spades];

    fn letter(self) -> char {
        match self {
            Suit::Clubs => 'C',
            Suit::Diamonds => 'D',
            Suit::Hearts => 'H',
            Suit::Spades => 'S',
        }
    }
}

/// A playing card, written `"<rank><suit>"` (e.g. `"10S"`) in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Card {
    /// 2..=14, where 11 = J, 12 = Q, 13 = K, 14 = A. Field order makes cards
    /// sort by rank, then suit.
    rank: u8,
    suit: Suit,
}

impl Card {
    /// A card of `rank` (2..=14, ace high) and `suit`.
    pub fn new(rank: u8, suit: Suit) -> Option<Card> {
        (2..=14).contains(&rank).then_some(Card { rank, suit })
    }

    pub fn rank(self) -> u8 {
        self.rank
    }

    pub fn suit(self) -> Suit {
        self.suit
    }

    /// The 52 cards in a fixed order (by suit, then rank).
    pub fn deck() -> Vec<Card> {
        Suit::ALL.iter().flat_map(|&suit| (2..=14).map(move |rank| Card { rank, suit })).collect()
    }
}

impl fmt::Display for Card {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rank {
            11 => f.write_str("J")?,
            12 => f.write_str("Q")?,
            13 => f.write_str("K")?,
            14 => f.write_str("A")?,
            n => write!(f, "{n}")?,
        }
        write!(f, "{}", self.suit.letter())
    }
}

impl FromStr for Card {
    type Err = String;

    fn from_str(s: &str) -> Result<Card, String> {
        let bad = || format!("{s:?} is not a card (expected e.g. \"2C\", \"10S\", \"QH\", \"AD\")");
        let mut chars = s.chars();
        let suit = match chars.next_back() {
            Some('C') => Suit::Clubs,
            Some('D') => Suit::Diamonds,
            Some('H') => Suit::Hearts,
            Some('S') => Suit::Spades,
            _ => return Err(bad()),
        };
        let rank = match chars.as_str() {
            "J" => 11,
            "Q" => 12,
            "K" => 13,
            "A" => 14,
            // Only canonical digits: "2".."10", no "02" or "+5".
            digits if digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0') => {
                digits.parse().ok().filter(|r| (2..=10).contains(r)).ok_or_else(bad)?
            }
            _ => return Err(bad()),
        };
        Ok(Card { rank, suit })
    }
}

impl From<Card> for String {
    fn from(card: Card) -> String {
        card.to_string()
    }
}

impl TryFrom<String> for Card {
    type Error = String;

    fn try_from(s: String) -> Result<Card, String> {
        s.parse()
    }
}

/// Room configuration: none (any JSON object is accepted).
#[derive(Debug, Default, Deserialize)]
pub struct Config {}

/// One action: put `play` face down for this round.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Play {
    pub play: Card,
}

/// The seat (0 or 1) holding the larger value, `None` when they are equal.
fn larger<T: Ord>([first, second]: [T; 2]) -> Option<usize> {
    match first.cmp(&second) {
        Ordering::Greater => Some(0),
        Ordering::Less => Some(1),
        Ordering::Equal => None,
    }
}

/// A finished, revealed round.
#[derive(Debug, Clone)]
struct Round {
    /// Cards by seat.
    cards: [Card; 2],
    /// Winning seat, `None` for equal ranks.
    winner: Option<usize>,
}

/// The state of one room.
#[derive(Debug)]
pub struct HighCardDuel {
    players: [String; 2],
    /// Cards still in hand, by seat, sorted.
    hands: [Vec<Card>; 2],
    /// Cards put down this round and not yet revealed, by seat.
    pending: [Option<Card>; 2],
    history: Vec<Round>,
    /// Rounds won, by seat.
    scores: [i64; 2],
    /// The private deal events, delivered with the first accepted action.
    undelivered: Vec<Event>,
}

impl HighCardDuel {
    fn seat_of(&self, player: &str) -> Option<usize> {
        self.players.iter().position(|p| p == player)
    }

    fn is_over(&self) -> bool {
        self.history.len() == ROUNDS
    }

    /// 1-based number of the round being played, `None` once the game is over.
    fn current_round(&self) -> Option<usize> {
        (!self.is_over()).then(|| self.history.len() + 1)
    }

    /// Seats that still have to play this round.
    fn awaiting_seats(&self) -> impl Iterator<Item = usize> + '_ {
        (0..2).filter(move |&s| !self.is_over() && self.pending[s].is_none())
    }

    fn awaiting(&self) -> Vec<&str> {
        self.awaiting_seats().map(|s| self.players[s].as_str()).collect()
    }

    /// The seat with more rounds won, none on equal scores.
    fn winner_seats(&self) -> Vec<usize> {
        larger(self.scores).into_iter().collect()
    }

    fn winners(&self) -> Option<Vec<&str>> {
        self.is_over().then(|| self.winner_seats().into_iter().map(|s| self.players[s].as_str()).collect())
    }

    fn scores_json(&self) -> Value {
        let scores: Map<String, Value> = (0..2).map(|s| (self.players[s].clone(), json!(self.scores[s]))).collect();
        Value::Object(scores)
    }

    fn round_json(&self, number: usize, round: &Round) -> Value {
        let cards: Map<String, Value> = (0..2).map(|s| (self.players[s].clone(), json!(round.cards[s]))).collect();
        json!({
            "round": number,
            "cards": cards,
            "winner": round.winner.map(|s| &self.players[s]),
        })
    }

    fn history_json(&self) -> Vec<Value> {
        self.history.iter().enumerate().map(|(i, r)| self.round_json(i + 1, r)).collect()
    }

    /// What anyone may know about `seat`: name, hand size, whether they played.
    fn public_seat_json(&self, seat: usize) -> Value {
        json!({
            "name": self.players[seat],
            "hand_size": self.hands[seat].len(),
            "played": self.pending[seat].is_some(),
        })
    }

    /// Reveal both pending cards, score the round and describe it.
    fn reveal(&mut self, cards: [Card; 2]) -> Vec<Event> {
        let winner = larger(cards.map(Card::rank));
        if let Some(seat) = winner {
            self.scores[seat] += 1;
        }
        self.pending = [None, None];
        let round = Round { cards, winner };
        let mut data = self.round_json(self.history.len() + 1, &round);
        data["scores"] = self.scores_json();
        self.history.push(round);

        let mut events = vec![Event::public("round", &data)];
        if let Some(winners) = self.winners() {
            let data = json!({ "winners": winners, "scores": self.scores_json() });
            events.push(Event::public("game-over", &data));
        }
        events
    }
}

impl Game for HighCardDuel {
    type Config = Config;
    type Action = Play;

    fn info() -> GameInfo {
        GameInfo::turn_based(
            "high-card-duel",
            "1.0.0",
            "Five cards each, played face down at the same time: the higher card wins the round.",
            2,
            2,
        )
    }

    fn create(_config: Config, players: &[String], _seed: u64) -> Result<Self, String> {
        let [first, second] = players else {
            return Err(format!("high-card-duel needs exactly 2 players, got {}", players.len()));
        };
        // Fisher-Yates with the room's random stream: replays deal the same cards.
        let mut deck = Card::deck();
        for i in (1..deck.len()).rev() {
            deck.swap(i, random_below(i + 1));
        }
        let mut hands = [Vec::with_capacity(HAND_SIZE), Vec::with_capacity(HAND_SIZE)];
        for (i, card) in deck.into_iter().take(2 * HAND_SIZE).enumerate() {
            hands[i % 2].push(card);
        }
        hands.iter_mut().for_each(|h| h.sort());

        let players = [first.clone(), second.clone()];
        let undelivered =
            (0..2).map(|s| Event::private("deal", &json!({ "hand": hands[s] }), &[players[s].as_str()])).collect();
        Ok(HighCardDuel { players, hands, pending: [None, None], history: Vec::new(), scores: [0, 0], undelivered })
    }

    fn apply(&mut self, player: &str, action: Play) -> Result<Vec<Event>, ActionError> {
        let seat = self.seat_of(player).ok_or(ActionError::NotAPlayer)?;
        if self.pending[seat].is_some() {
            // Already played this round: waiting for the opponent.
            return Err(ActionError::NotYourTurn);
        }
        let card = action.play;
        let Some(index) = self.hands[seat].iter().position(|&c| c == card) else {
            return Err(ActionError::Illegal(format!("{card} is not in your hand")));
        };

        self.hands[seat].remove(index);
        self.pending[seat] = Some(card);
        let round = self.history.len() + 1;
        let mut events = std::mem::take(&mut self.undelivered);
        events.push(Event::public("played", &json!({ "player": player, "round": round })));
        if let [Some(a), Some(b)] = self.pending {
            events.extend(self.reveal([a, b]));
        }
        Ok(events)
    }

    fn view(&self, viewer: &Viewer) -> Value {
        let seat = match viewer {
            Viewer::Player(name) => self.seat_of(name),
            Viewer::Spectator => None,
        };
        let mut view = match seat {
            Some(me) => json!({
                "you": self.players[me],
                "hand": self.hands[me],
                "pending": self.pending[me],
                "opponent": self.public_seat_json(1 - me),
            }),
            None => json!({ "players": [self.public_seat_json(0), self.public_seat_json(1)] }),
        };
        let shared = [
            ("round", json!(self.current_round())),
            ("rounds", json!(ROUNDS)),
            ("history", json!(self.history_json())),
            ("scores", self.scores_json()),
            ("awaiting", json!(self.awaiting())),
            ("winners", json!(self.winners())),
        ];
        for (key, value) in shared {
            view[key] = value;
        }
        view
    }

    fn status(&self) -> Status {
        if !self.is_over() {
            return Status::Awaiting(self.awaiting().into_iter().map(str::to_owned).collect());
        }
        let winner_seats = self.winner_seats();
        let summary = match winner_seats[..] {
            [w] => format!("{} wins {}-{}", self.players[w], self.scores[w], self.scores[1 - w]),
            _ => format!("draw {}-{}", self.scores[0], self.scores[1]),
        };
        let winners = winner_seats.into_iter().map(|s| self.players[s].clone()).collect();
        Status::Finished(Outcome {
            winners,
            scores: (0..2).map(|s| Score { player: self.players[s].clone(), points: self.scores[s] }).collect(),
            summary,
        })
    }

    fn legal_actions(&self, player: &str) -> Vec<Value> {
        match self.seat_of(player) {
            Some(seat) if self.awaiting_seats().any(|s| s == seat) => {
                self.hands[seat].iter().map(|&card| json!(Play { play: card })).collect()
            }
            _ => Vec::new(),
        }
    }
}

arcade_sdk::export_game!(HighCardDuel);

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use arcade_sdk::testing::Table;

    type Duel = Table<HighCardDuel>;

    fn table(seed: u64) -> Duel {
        Table::start(&["ann", "bob"], seed).unwrap()
    }

    fn hand(t: &Duel, player: &str) -> Vec<String> {
        let view = t.view_of(player);
        view["hand"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect()
    }

    fn play(t: &mut Duel, player: &str, card: &str) -> Vec<Event> {
        t.act(player, json!({ "play": card })).unwrap()
    }

    /// Every string in `value`, object keys included.
    fn strings(value: &Value) -> Vec<&str> {
        let mut out = Vec::new();
        fn walk<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
            match v {
                Value::String(s) => out.push(s),
                Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
                Value::Object(map) => map.iter().for_each(|(k, v)| {
                    out.push(k);
                    walk(v, out)
                }),
                _ => {}
            }
        }
        walk(value, &mut out);
        out
    }

    /// Asserts, structurally (whole strings, so "10S" never matches "0S"),
    /// that none of `secret` cards appears anywhere in `value`.
    fn assert_hides(value: &Value, secret: &[String], context: &str) {
        for s in strings(value) {
            assert!(!secret.iter().any(|c| c == s), "{context} leaks {s}: {value}");
        }
    }

    /// Asserts neither the opponent's nor the spectator's view shows any
    /// card `player` holds or has put down.
    fn assert_secrets_kept(t: &Duel, player: &str, opponent: &str) {
        let mut secret = hand(t, player);
        if let Some(card) = t.view_of(player)["pending"].as_str() {
            secret.push(card.to_owned());
        }
        assert_hides(&t.spectator_view(), &secret, "spectator view");
        assert_hides(&t.view_of(opponent), &secret, "opponent view");
        assert_hides(&t.view_of("eve"), &secret, "a stranger's view");
    }

    fn data(event: &Event) -> Value {
        serde_json::from_str(&event.data).unwrap()
    }

    #[test]
    fn info_describes_the_game() {
        let info = HighCardDuel::info();
        assert_eq!((info.name.as_str(), info.version.as_str()), ("high-card-duel", "1.0.0"));
        assert_eq!((info.min_players, info.max_players, info.tick_hz), (2, 2, 0));
        assert!(Table::<HighCardDuel>::start(&["ann"], 1).is_err());
        assert!(Table::<HighCardDuel>::start(&["ann", "bob", "cid"], 1).is_err());
    }

    #[test]
    fn cards_parse_and_print() {
        for (text, rank, suit) in [
            ("2C", 2, Suit::Clubs),
            ("10S", 10, Suit::Spades),
            ("JD", 11, Suit::Diamonds),
            ("QH", 12, Suit::Hearts),
            ("KS", 13, Suit::Spades),
            ("AD", 14, Suit::Diamonds),
        ] {
            let card: Card = text.parse().unwrap();
            assert_eq!((card.rank(), card.suit()), (rank, suit));
            assert_eq!(card.to_string(), text);
            assert_eq!(json!(card), json!(text));
        }
        for bad in ["", "C", "1S", "0S", "11H", "010S", "+5H", "QX", "qh", "10", " QH", "1 0S", "AH "] {
            assert!(bad.parse::<Card>().is_err(), "{bad:?}");
        }
        let deck = Card::deck();
        assert_eq!(deck.len(), 52);
        assert_eq!(deck.iter().collect::<HashSet<_>>().len(), 52);
        assert!(deck.iter().all(|c| c.to_string().parse::<Card>() == Ok(*c)));
    }

    #[test]
    fn each_player_is_dealt_five_distinct_cards() {
        let t = table(1);
        let (a, b) = (hand(&t, "ann"), hand(&t, "bob"));
        assert_eq!((a.len(), b.len()), (HAND_SIZE, HAND_SIZE));
        let all: HashSet<_> = a.iter().chain(&b).collect();
        assert_eq!(all.len(), 2 * HAND_SIZE, "hands overlap: {a:?} {b:?}");
        assert!(all.iter().all(|c| c.parse::<Card>().is_ok()));
    }

    #[test]
    fn the_deal_is_determined_by_the_seed() {
        let deal = |seed| {
            let t = table(seed);
            (hand(&t, "ann"), hand(&t, "bob"))
        };
        assert_eq!(deal(42), deal(42));
        assert_eq!(deal(u64::MAX), deal(u64::MAX));
        let distinct: HashSet<_> = (0..20).map(deal).collect();
        assert!(distinct.len() >= 19, "different seeds should deal differently");
    }

    #[test]
    fn the_shuffle_is_fisher_yates_over_the_room_stream() {
        // Replays depend on the exact algorithm: seed 7 must always deal this.
        let t = table(7);
        let expected = {
            // Recompute independently with the same splitmix64 stream.
            let mut state: u64 = 7;
            let mut next = || {
                state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^ (z >> 31)
            };
            let mut deck = Card::deck();
            for i in (1..deck.len()).rev() {
                let j = (next() % (i as u64 + 1)) as usize;
                deck.swap(i, j);
            }
            let mut hands = [Vec::new(), Vec::new()];
            for (i, c) in deck.iter().take(10).enumerate() {
                hands[i % 2].push(*c);
            }
            hands.map(|mut h| {
                h.sort();
                h.iter().map(Card::to_string).collect::<Vec<_>>()
            })
        };
        assert_eq!([hand(&t, "ann"), hand(&t, "bob")], expected);
    }

    #[test]
    fn deal_events_are_private_and_delivered_once() {
        let mut t = table(3);
        let (a, b) = (hand(&t, "ann"), hand(&t, "bob"));
        let events = play(&mut t, "bob", &b[0]);
        let deals: Vec<_> = events.iter().filter(|e| e.kind == "deal").collect();
        assert_eq!(deals.len(), 2);
        for (deal, (who, cards)) in deals.iter().zip([("ann", &a), ("bob", &b)]) {
            assert!(matches!(&deal.audience, Audience::Only(only) if only == &[who.to_string()]));
            assert_eq!(data(deal), json!({ "hand": cards }));
            assert!(!deal.visible_to(&Viewer::Spectator));
        }
        assert!(deals[0].visible_to(&Viewer::Player("ann".into())));
        assert!(!deals[0].visible_to(&Viewer::Player("bob".into())));
        assert!(!deals[1].visible_to(&Viewer::Player("ann".into())));

        let events = play(&mut t, "ann", &a[0]);
        assert!(events.iter().all(|e| e.kind != "deal"), "deal delivered twice");
    }

    #[test]
    fn hands_are_hidden_from_opponent_and_spectators_throughout() {
        for seed in 0..20 {
            let mut t = table(seed);
            for _ in 0..ROUNDS {
                assert_secrets_kept(&t, "ann", "bob");
                assert_secrets_kept(&t, "bob", "ann");
                // One player commits; their face-down card must stay hidden too.
                let first = if seed % 2 == 0 { "ann" } else { "bob" };
                let second = if first == "ann" { "bob" } else { "ann" };
                let card = hand(&t, first)[seed as usize % hand(&t, first).len()].clone();
                let events = play(&mut t, first, &card);
                for event in events.iter().filter(|e| e.visible_to(&Viewer::Spectator)) {
                    assert_hides(&data(event), std::slice::from_ref(&card), "public event");
                }
                assert_eq!(t.view_of(first)["pending"], json!(card));
                assert_secrets_kept(&t, first, second);
                assert_secrets_kept(&t, second, first);
                let card = hand(&t, second)[0].clone();
                play(&mut t, second, &card);
            }
            assert!(t.status().is_finished());
        }
    }

    #[test]
    fn views_show_own_cards_and_only_counts_of_others() {
        let mut t = table(5);
        let a = hand(&t, "ann");
        play(&mut t, "ann", &a[2]);

        let ann = t.view_of("ann");
        assert_eq!(ann["you"], "ann");
        assert_eq!(ann["hand"].as_array().unwrap().len(), HAND_SIZE - 1);
        assert_eq!(ann["pending"], json!(a[2]));
        assert_eq!(ann["opponent"], json!({ "name": "bob", "hand_size": 5, "played": false }));
        assert_eq!(ann["round"], 1);
        assert_eq!(ann["awaiting"], json!(["bob"]));

        let bob = t.view_of("bob");
        assert_eq!(bob["pending"], Value::Null);
        assert_eq!(bob["opponent"], json!({ "name": "ann", "hand_size": 4, "played": true }));

        let spectator = t.spectator_view();
        assert!(spectator.get("hand").is_none() && spectator.get("pending").is_none());
        assert_eq!(
            spectator["players"],
            json!([
                { "name": "ann", "hand_size": 4, "played": true },
                { "name": "bob", "hand_size": 5, "played": false },
            ])
        );
        assert_eq!(spectator["history"], json!([]));
        assert_eq!(spectator["scores"], json!({ "ann": 0, "bob": 0 }));
        assert_eq!(spectator["rounds"], ROUNDS);
        assert_eq!(spectator["winners"], Value::Null);
        // Someone who is not seated gets the spectator view.
        assert_eq!(t.view_of("eve"), spectator);
    }

    #[test]
    fn simultaneous_rounds_in_any_order() {
        let mut t = table(9);
        assert_eq!(t.awaiting(), ["ann", "bob"]);
        let (a, b) = (hand(&t, "ann"), hand(&t, "bob"));

        // Bob may go first in round 1.
        let events = play(&mut t, "bob", &b[0]);
        assert_eq!(t.awaiting(), ["ann"]);
        let played = events.iter().find(|e| e.kind == "played").unwrap();
        assert!(matches!(played.audience, Audience::Everyone));
        assert_eq!(data(played), json!({ "player": "bob", "round": 1 }));
        assert!(matches!(t.act("bob", json!({ "play": b[1] })), Err(ActionError::NotYourTurn)));
        assert!(t.legal_actions("bob").is_empty());

        let events = play(&mut t, "ann", &a[0]);
        let round = events.iter().find(|e| e.kind == "round").expect("round revealed");
        assert!(matches!(round.audience, Audience::Everyone));
        let round = data(round);
        assert_eq!(round["round"], 1);
        assert_eq!(round["cards"], json!({ "ann": a[0], "bob": b[0] }));
        assert_eq!(t.awaiting(), ["ann", "bob"]);
        assert_eq!(t.spectator_view()["round"], 2);
        assert_eq!(t.spectator_view()["history"][0]["cards"], round["cards"]);
    }

    #[test]
    fn higher_rank_wins_the_round_and_ties_score_nothing() {
        let rank = |c: &str| c.parse::<Card>().unwrap().rank();
        let mut saw = (false, false);
        for seed in 0..200 {
            let mut t = table(seed);
            let (a, b) = (hand(&t, "ann"), hand(&t, "bob"));
            // Prefer a pair of equal ranks when the deal has one.
            let (ca, cb) = a
                .iter()
                .find_map(|x| b.iter().find(|y| rank(y) == rank(x)).map(|y| (x.clone(), y.clone())))
                .unwrap_or((a[0].clone(), b[0].clone()));
            play(&mut t, "ann", &ca);
            let events = play(&mut t, "bob", &cb);
            let round = data(events.iter().find(|e| e.kind == "round").unwrap());
            let (expected, scores) = match rank(&ca).cmp(&rank(&cb)) {
                Ordering::Greater => (json!("ann"), json!({ "ann": 1, "bob": 0 })),
                Ordering::Less => (json!("bob"), json!({ "ann": 0, "bob": 1 })),
                Ordering::Equal => {
                    saw.0 = true;
                    (Value::Null, json!({ "ann": 0, "bob": 0 }))
                }
            };
            saw.1 |= !expected.is_null();
            assert_eq!(round["winner"], expected, "{ca} vs {cb}");
            assert_eq!(round["scores"], scores);
            assert_eq!(t.spectator_view()["scores"], scores);
        }
        assert!(saw.0 && saw.1, "covered both ties and wins");
    }

    /// Play a whole game, each player always leading with their lowest card.
    fn play_out(seed: u64) -> Duel {
        let mut t = table(seed);
        while !t.status().is_finished() {
            for who in ["ann", "bob"] {
                let card = hand(&t, who)[0].clone();
                play(&mut t, who, &card);
            }
        }
        t
    }

    #[test]
    fn most_rounds_wins_and_equal_rounds_draw() {
        let (mut wins, mut draws) = (0, 0);
        for seed in 0..100 {
            let t = play_out(seed);
            let view = t.spectator_view();
            let history = view["history"].as_array().unwrap();
            assert_eq!(history.len(), ROUNDS);
            let won = |who: &str| history.iter().filter(|r| r["winner"] == who).count() as i64;
            let (a, b) = (won("ann"), won("bob"));
            let Status::Finished(outcome) = t.status() else { panic!("not finished") };
            assert_eq!(
                outcome.scores.iter().map(|s| (s.player.as_str(), s.points)).collect::<Vec<_>>(),
                [("ann", a), ("bob", b)]
            );
            let expected: Vec<String> = match a.cmp(&b) {
                Ordering::Greater => vec!["ann".into()],
                Ordering::Less => vec!["bob".into()],
                Ordering::Equal => Vec::new(),
            };
            if expected.is_empty() {
                draws += 1
            } else {
                wins += 1
            }
            assert_eq!(outcome.winners, expected, "seed {seed}: {a}-{b}");
            assert_eq!(view["winners"], json!(expected));
            assert_eq!(view["round"], Value::Null);
            assert_eq!(view["awaiting"], json!([]));
        }
        assert!(wins > 0 && draws > 0, "covered wins ({wins}) and draws ({draws})");
    }

    #[test]
    fn the_last_round_announces_the_result() {
        let mut t = table(4);
        for _ in 0..ROUNDS - 1 {
            for who in ["ann", "bob"] {
                let card = hand(&t, who)[0].clone();
                play(&mut t, who, &card);
            }
        }
        let last = hand(&t, "ann")[0].clone();
        play(&mut t, "ann", &last);
        let last = hand(&t, "bob")[0].clone();
        let events = play(&mut t, "bob", &last);
        let over = events.iter().find(|e| e.kind == "game-over").expect("game-over event");
        assert!(matches!(over.audience, Audience::Everyone));
        let Status::Finished(outcome) = t.status() else { panic!("not finished") };
        assert_eq!(data(over)["winners"], json!(outcome.winners));
    }

    #[test]
    fn cards_not_in_hand_are_illegal() {
        let mut t = table(2);
        let b = hand(&t, "bob");
        let before = t.view_of("ann");
        let err = t.act("ann", json!({ "play": b[0] }));
        assert!(matches!(err, Err(ActionError::Illegal(_))), "{err:?}");
        assert_eq!(t.view_of("ann"), before, "state unchanged after an error");
        assert_eq!(t.awaiting(), ["ann", "bob"]);

        // A card already played is no longer in hand either.
        let a = hand(&t, "ann");
        play(&mut t, "ann", &a[0]);
        play(&mut t, "bob", &b[0]);
        assert!(matches!(t.act("ann", json!({ "play": a[0] })), Err(ActionError::Illegal(_))));
    }

    #[test]
    fn strangers_and_malformed_actions_are_refused() {
        let mut t = table(2);
        let a = hand(&t, "ann");
        assert!(matches!(t.act("eve", json!({ "play": a[0] })), Err(ActionError::NotAPlayer)));
        for bad in [
            "",
            "QH",
            "{}",
            r#"{"play":"1H"}"#,
            r#"{"play":"QX"}"#,
            r#"{"play":12}"#,
            r#"{"card":"QH"}"#,
            r#"{"play":"QH","also":"KH"}"#,
        ] {
            assert!(matches!(t.act_raw("ann", bad), Err(ActionError::Malformed(_))), "{bad:?}");
        }
        assert_eq!(hand(&t, "ann"), a);
        // Nothing was accepted, so the deal events are still pending.
        let events = play(&mut t, "ann", &a[0]);
        assert_eq!(events.iter().filter(|e| e.kind == "deal").count(), 2);
    }

    #[test]
    fn no_actions_after_the_game_is_over() {
        let mut t = play_out(8);
        assert!(matches!(t.act("ann", json!({ "play": "2C" })), Err(ActionError::GameOver)));
        assert!(t.legal_actions("ann").is_empty() && t.legal_actions("bob").is_empty());
    }

    #[test]
    fn legal_actions_are_the_cards_in_hand_while_awaited() {
        let mut t = table(6);
        let a = hand(&t, "ann");
        let legal = t.legal_actions("ann");
        assert_eq!(legal, a.iter().map(|c| json!({ "play": c })).collect::<Vec<_>>());
        assert!(t.legal_actions("eve").is_empty());
        play(&mut t, "ann", &a[0]);
        assert!(t.legal_actions("ann").is_empty());
        assert_eq!(t.legal_actions("bob").len(), HAND_SIZE);
    }

    #[test]
    fn random_legal_play_always_finishes_the_same_way_per_seed() {
        let run = |seed: u64| {
            let mut t = table(seed);
            let mut pick = seed;
            let mut log = Vec::new();
            while let Some(who) = t.awaiting().last().cloned() {
                let legal = t.legal_actions(&who);
                pick = pick.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let action = legal[(pick >> 33) as usize % legal.len()].clone();
                log.push(action.clone());
                t.act(&who, action).unwrap();
            }
            (log, t.spectator_view())
        };
        for seed in 0..30 {
            let (log, view) = run(seed);
            assert_eq!(log.len(), 2 * ROUNDS);
            assert_eq!(run(seed), (log, view), "seed {seed} replays identically");
        }
    }
}
