//! What a finished game gives the ladder ([`RatedGame`]): its board (game
//! and mode), when it ended, and the place each player took.
//!
//! Only matchmade games count (their record names the queue's mode): a
//! private room's opponents are chosen by its players, who could arrange
//! wins between friends or their own second accounts. Aborted games and
//! games of one player count for nothing.

use std::collections::BTreeMap;

use arcade_archive::record::GameRecord;
use arcade_protocol::RoomStatus;

/// One rated game.
#[derive(Clone, Debug, PartialEq)]
pub struct RatedGame {
    pub game_id: String,
    /// The plugin's name.
    pub game: String,
    pub mode: String,
    pub completed_at_ms: u64,
    pub players: Vec<String>,
    /// `places[i]` is `players[i]`'s place: 1 is first, equal places drew.
    pub places: Vec<usize>,
    /// The scores the rules reported (for score boards).
    pub scores: BTreeMap<String, i64>,
}

impl RatedGame {
    /// The rated game a record is, or `None` when it does not count.
    pub fn from_record(record: &GameRecord) -> Option<RatedGame> {
        let mode = record.mode.as_ref()?;
        let RoomStatus::Finished { winners, scores, .. } = &record.status else {
            return None;
        };
        if record.players.len() < 2 {
            return None;
        }
        Some(RatedGame {
            game_id: record.game_id.clone(),
            game: record.plugin.name.clone(),
            mode: mode.clone(),
            completed_at_ms: record.completed_at_ms,
            places: places(&record.players, winners, scores),
            players: record.players.clone(),
            scores: scores.clone(),
        })
    }

    /// How `player` did: `won` (first, ahead of someone), `drawn` (every
    /// place equal) or `lost`; `None` if it did not play.
    pub fn result_of(&self, player: &str) -> Option<GameResult> {
        let i = self.players.iter().position(|p| p == player)?;
        Some(if self.places.iter().all(|&p| p == self.places[0]) {
            GameResult::Drawn
        } else if self.places[i] == 1 {
            GameResult::Won
        } else {
            GameResult::Lost
        })
    }
}

/// A player's result in one game.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GameResult {
    Won,
    Drawn,
    Lost,
}

/// Places from the outcome: the winners first, then the others by score
/// (highest first; no score counts as the lowest), equal standing sharing
/// a place (1, 2, 2, 4). No winners and no scores: a draw.
fn places(players: &[String], winners: &[String], scores: &BTreeMap<String, i64>) -> Vec<usize> {
    let standing = |p: &String| (winners.contains(p), scores.get(p).copied().unwrap_or(i64::MIN));
    players.iter().map(|p| 1 + players.iter().filter(|q| standing(q) > standing(p)).count()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn winners_come_first_then_scores_and_ties_share_a_place() {
        let players = names(&["a", "b", "c", "d"]);
        let scores = BTreeMap::from([("b".to_string(), 5), ("c".to_string(), 5), ("d".to_string(), 9)]);
        assert_eq!(places(&players, &names(&["a"]), &scores), vec![1, 3, 3, 2]);
        assert_eq!(places(&players[..2], &[], &BTreeMap::new()), vec![1, 1], "no winner, no score: a draw");
        assert_eq!(places(&players[..2], &names(&["a", "b"]), &BTreeMap::new()), vec![1, 1]);
    }
}
