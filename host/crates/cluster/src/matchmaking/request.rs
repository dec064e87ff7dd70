//! What a client sends to queue, and its validation against the queue's
//! rules. Names that end up in store keys (game, mode, region) are
//! restricted to a safe shape here, so the stores can trust them. Player
//! names follow the rooms' rule (`arcade_protocol::names`: NFC-normalised, 1 to 32
//! characters, no control, bidi-override or zero-width characters), so a
//! matched party always fits its room; tickets carry the normalised form.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use super::matcher::MatchRules;
use super::ticket::{Ticket, UnixMillis};
use arcade_protocol::names::player_name;

/// Longest accepted game, mode or region name (player names: see `arcade_protocol::names`).
pub const MAX_NAME_LEN: usize = 64;

/// A request to queue one party.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketRequest {
    pub game: String,
    /// Empty: the front end's default mode.
    #[serde(default)]
    pub mode: String,
    /// 1..n player ids that must play in the same match.
    pub party: Vec<String>,
    /// The party's average skill rating.
    #[serde(default = "default_rating")]
    pub rating: f64,
    /// Round-trip latency to each region in milliseconds, e.g. `{"eu-west-1": 24}`;
    /// empty: the front end's default region at 0 ms.
    #[serde(default, deserialize_with = "whole_latencies")]
    pub latencies: BTreeMap<String, u32>,
}

/// What a signed-in player sends to queue: a [`TicketRequest`] without
/// its party, which the server fills in from the session (the caller, or
/// the party the caller leads), so nobody queues names typed by someone
/// else. A `party` list is refused as an unknown field.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueRequest {
    pub game: String,
    #[serde(default)]
    pub mode: String,
    /// A party the caller leads, queued whole; absent: the caller alone.
    #[serde(default)]
    pub party_id: Option<String>,
    #[serde(default = "default_rating")]
    pub rating: f64,
    #[serde(default, deserialize_with = "whole_latencies")]
    pub latencies: BTreeMap<String, u32>,
}

impl QueueRequest {
    /// The ticket request queueing `party` (player ids, the leader first).
    pub fn for_party(self, party: Vec<String>) -> TicketRequest {
        TicketRequest { game: self.game, mode: self.mode, party, rating: self.rating, latencies: self.latencies }
    }
}

/// Latencies in either spelling of a whole number (`24` or `24.0`).
fn whole_latencies<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, u32>, D::Error> {
    let latencies = BTreeMap::<String, arcade_protocol::whole_number::Whole<u32>>::deserialize(deserializer)?;
    Ok(latencies.into_iter().map(|(region, ms)| (region, ms.0)).collect())
}

/// The rating of a party that gives none.
pub const DEFAULT_RATING: f64 = 1500.0;

fn default_rating() -> f64 {
    DEFAULT_RATING
}

/// Why a ticket request was refused (HTTP 400).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ValidationError {
    #[error("the party is empty")]
    EmptyParty,
    #[error("a party of {size} does not fit a {players_per_match}-player match")]
    PartyTooBig { size: usize, players_per_match: usize },
    #[error("player {0:?} appears twice in the party")]
    DuplicatePlayer(String),
    #[error("invalid player id {0:?}: {rule}", rule = arcade_protocol::names::InvalidName)]
    InvalidPlayer(String),
    #[error("invalid {field} {value:?}: 1 to 64 of a-z A-Z 0-9 _ . -")]
    InvalidName { field: &'static str, value: String },
    #[error("invalid region {0:?}: lowercase letters, digits and '-', 1 to 64, starting with a letter or digit")]
    InvalidRegion(String),
    #[error("no region latencies given")]
    NoRegions,
    #[error("no region within the {max_latency_ms} ms latency limit")]
    NoRegionWithinLatency { max_latency_ms: u32 },
    #[error("the rating must be a finite number")]
    InvalidRating,
}

#[cfg(test)]
impl TicketRequest {
    /// One player queueing for `game` in mode `standard`, rating 1500, in
    /// region `local` at 0 ms.
    pub(crate) fn solo_for_tests(game: &str, player: &str) -> TicketRequest {
        TicketRequest {
            game: game.into(),
            mode: "standard".into(),
            party: vec![player.into()],
            rating: DEFAULT_RATING,
            latencies: BTreeMap::from([("local".to_string(), 0)]),
        }
    }
}

impl TicketRequest {
    /// Fills what the client left out: the mode, and the region when no
    /// latencies are given (a deployment with one region needs none).
    pub fn with_defaults(mut self, mode: &str, region: &str) -> Self {
        if self.mode.is_empty() {
            self.mode = mode.to_string();
        }
        if self.latencies.is_empty() {
            self.latencies.insert(region.to_string(), 0);
        }
        self
    }

    /// Checks the request against the rules of its queue.
    pub fn validate(&self, rules: &MatchRules) -> Result<(), ValidationError> {
        check_name("game", &self.game)?;
        check_name("mode", &self.mode)?;
        if self.party.is_empty() {
            return Err(ValidationError::EmptyParty);
        }
        if self.party.len() > rules.players_per_match {
            return Err(ValidationError::PartyTooBig {
                size: self.party.len(),
                players_per_match: rules.players_per_match,
            });
        }
        let mut seen = HashSet::with_capacity(self.party.len());
        for player in &self.party {
            let name = player_name(player).map_err(|_| ValidationError::InvalidPlayer(player.clone()))?;
            if !seen.insert(name) {
                return Err(ValidationError::DuplicatePlayer(player.clone()));
            }
        }
        if !self.rating.is_finite() {
            return Err(ValidationError::InvalidRating);
        }
        if self.latencies.is_empty() {
            return Err(ValidationError::NoRegions);
        }
        if let Some(region) = self.latencies.keys().find(|region| !is_valid_region(region)) {
            return Err(ValidationError::InvalidRegion(region.clone()));
        }
        if self.latencies.values().all(|&ms| ms > rules.max_latency_ms) {
            return Err(ValidationError::NoRegionWithinLatency { max_latency_ms: rules.max_latency_ms });
        }
        Ok(())
    }

    /// The ticket for this (validated) request, with the party's names in
    /// their normalised form.
    pub fn into_ticket(self, id: String, created_at_ms: UnixMillis) -> Ticket {
        Ticket {
            id,
            game: self.game,
            mode: self.mode,
            party: self.party.into_iter().map(|p| player_name(&p).unwrap_or(p)).collect(),
            rating: self.rating,
            latencies: self.latencies,
            created_at_ms,
        }
    }
}

fn check_name(field: &'static str, value: &str) -> Result<(), ValidationError> {
    let valid = (1..=MAX_NAME_LEN).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if valid { Ok(()) } else { Err(ValidationError::InvalidName { field, value: value.to_string() }) }
}

/// Region names look like cloud regions: `eu-west-1`, `us-east` (also the
/// nodes' `cluster.region`).
pub fn is_valid_region(region: &str) -> bool {
    let bytes = region.as_bytes();
    (1..=MAX_NAME_LEN).contains(&bytes.len())
        && bytes[0].is_ascii_alphanumeric()
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> MatchRules {
        MatchRules { players_per_match: 4, max_latency_ms: 150, ..MatchRules::default() }
    }

    fn request(party: &[&str]) -> TicketRequest {
        TicketRequest {
            game: "connect-four".into(),
            mode: "ranked".into(),
            party: party.iter().map(|p| p.to_string()).collect(),
            rating: 1500.0,
            latencies: BTreeMap::from([("eu-west-1".to_string(), 30), ("us-east-1".to_string(), 110)]),
        }
    }

    #[test]
    fn latencies_are_whole_numbers_in_either_spelling() {
        let read = |json: &str| serde_json::from_str::<TicketRequest>(json).map(|r| r.latencies);
        let body = |latency: &str| format!(r#"{{"game": "g", "party": ["ann"], "latencies": {{"eu": {latency}}}}}"#);
        assert_eq!(read(&body("24")).unwrap(), BTreeMap::from([("eu".to_string(), 24)]));
        assert_eq!(read(&body("24.0")).unwrap(), BTreeMap::from([("eu".to_string(), 24)]));
        for bad in ["24.5", "-1", "4294967296"] {
            assert!(read(&body(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_well_formed_request_is_accepted() {
        assert_eq!(request(&["ann", "bob"]).validate(&rules()), Ok(()));
    }

    #[test]
    fn each_kind_of_bad_request_has_its_own_error() {
        let rules = rules();
        assert_eq!(request(&[]).validate(&rules), Err(ValidationError::EmptyParty));
        assert_eq!(
            request(&["a", "b", "c", "d", "e"]).validate(&rules),
            Err(ValidationError::PartyTooBig { size: 5, players_per_match: 4 })
        );
        assert_eq!(
            request(&["ann", "bob", "ann"]).validate(&rules),
            Err(ValidationError::DuplicatePlayer("ann".into()))
        );
        assert_eq!(request(&["a\nb"]).validate(&rules), Err(ValidationError::InvalidPlayer("a\nb".into())));
        // The rooms' rule: at most 32 characters, no bidi overrides or zero-width characters.
        let long = "x".repeat(33);
        assert_eq!(request(&[&long]).validate(&rules), Err(ValidationError::InvalidPlayer(long.clone())));
        for sneaky in ["ann\u{202E}", "a\u{200B}nn"] {
            assert_eq!(request(&[sneaky]).validate(&rules), Err(ValidationError::InvalidPlayer(sneaky.into())));
        }
        // One name typed two ways is one player.
        assert_eq!(
            request(&["jos\u{e9}", "jose\u{301}"]).validate(&rules),
            Err(ValidationError::DuplicatePlayer("jose\u{301}".into()))
        );
        let ticket = request(&["jose\u{301}"]).into_ticket("t".into(), 0);
        assert_eq!(ticket.party, ["jos\u{e9}"], "tickets carry the normalised name");

        let mut bad_game = request(&["ann"]);
        bad_game.game = "tic:tac".into();
        assert!(matches!(bad_game.validate(&rules), Err(ValidationError::InvalidName { field: "game", .. })));

        let mut bad_region = request(&["ann"]);
        bad_region.latencies.insert("EU West".into(), 10);
        assert_eq!(bad_region.validate(&rules), Err(ValidationError::InvalidRegion("EU West".into())));

        let mut no_regions = request(&["ann"]);
        no_regions.latencies.clear();
        assert_eq!(no_regions.validate(&rules), Err(ValidationError::NoRegions));

        let mut too_far = request(&["ann"]);
        too_far.latencies = BTreeMap::from([("ap-south-1".to_string(), 400)]);
        assert_eq!(too_far.validate(&rules), Err(ValidationError::NoRegionWithinLatency { max_latency_ms: 150 }));

        let mut nan = request(&["ann"]);
        nan.rating = f64::NAN;
        assert_eq!(nan.validate(&rules), Err(ValidationError::InvalidRating));
    }
}
