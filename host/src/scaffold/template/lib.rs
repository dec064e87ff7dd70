//! NAME: Nim for two. 15 stones; each turn a player takes 1, 2 or 3; whoever
//! takes the last stone wins. Start here: change the rules, keep the tests
//! passing (`cargo test`), then build and publish (see README.md).
//!
//! Action: `{"take": 1 | 2 | 3}`. View: `{"stones": n, "next": player | null}`.

use arcade_sdk::prelude::*;
use serde::Deserialize;
use serde_json::json;

const STONES: u32 = 15;

pub struct Nim {
    players: Vec<String>,
    turn: usize,
    stones: u32,
}

#[derive(Deserialize)]
pub struct Take {
    take: u32,
}

impl Nim {
    fn next(&self) -> Option<&str> {
        (self.stones > 0).then(|| self.players[self.turn].as_str())
    }
}

impl Game for Nim {
    type Config = serde_json::Value;
    type Action = Take;

    fn info() -> GameInfo {
        GameInfo::turn_based("NAME", "0.1.0", "Take 1-3 stones; taking the last one wins", 2, 2)
    }

    fn create(_config: Self::Config, players: &[String], _seed: u64) -> Result<Self, String> {
        Ok(Nim { players: players.to_vec(), turn: 0, stones: STONES })
    }

    fn apply(&mut self, player: &str, action: Take) -> Result<Vec<Event>, ActionError> {
        if Some(player) != self.next() {
            return Err(ActionError::NotYourTurn);
        }
        if !(1..=3).contains(&action.take) || action.take > self.stones {
            return Err(ActionError::Illegal("take 1 to 3 stones, no more than are left".into()));
        }
        self.stones -= action.take;
        self.turn = 1 - self.turn;
        Ok(vec![Event::public("take", &json!({ "player": player, "take": action.take }))])
    }

    fn view(&self, _viewer: &Viewer) -> serde_json::Value {
        json!({ "stones": self.stones, "next": self.next() })
    }

    fn status(&self) -> Status {
        match self.next() {
            // The player who took the last stone moved just before the turn passed.
            None => Status::winner(&self.players[1 - self.turn]),
            Some(next) => Status::Awaiting(vec![next.to_string()]),
        }
    }

    /// What `player` may take now: bots, clients and `arcade plugin check` use it.
    fn legal_actions(&self, player: &str) -> Vec<serde_json::Value> {
        if Some(player) != self.next() {
            return Vec::new();
        }
        (1..=self.stones.min(3)).map(|take| json!({ "take": take })).collect()
    }
}

arcade_sdk::export_game!(Nim);

#[cfg(test)]
mod tests {
    use super::*;
    use arcade_sdk::testing::Table;

    #[test]
    fn taking_the_last_stone_wins() {
        let mut table = Table::<Nim>::start(&["ann", "bob"], 7).unwrap();
        for (player, take) in [("ann", 3), ("bob", 3), ("ann", 3), ("bob", 3), ("ann", 3)] {
            table.act(player, json!({ "take": take })).unwrap();
        }
        assert_eq!(table.status().winners(), Some(&["ann".to_string()][..]));
        assert_eq!(table.view_of("bob"), json!({ "stones": 0, "next": null }));
    }

    #[test]
    fn bad_moves_are_refused() {
        let mut table = Table::<Nim>::start(&["ann", "bob"], 7).unwrap();
        assert_eq!(table.act("bob", json!({ "take": 1 })), Err(ActionError::NotYourTurn));
        assert!(matches!(table.act("ann", json!({ "take": 4 })), Err(ActionError::Illegal(_))));
        assert!(table.act_raw("ann", "{\"take\": \"all\"}").is_err());
        assert_eq!(table.legal_actions("ann"), [json!({ "take": 1 }), json!({ "take": 2 }), json!({ "take": 3 })]);
    }
}
