//! Broken fixture: a hidden-information game whose view leaks. Each player
//! in turn peeks at a hand of five random cards dealt to it alone (a private
//! event), and the higher total wins; but the view shows every hand to
//! everyone, spectators included. `arcade plugin check` must catch it.

use arcade_sdk::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

pub struct LeakyHand {
    players: Vec<String>,
    hands: Vec<Option<Vec<u64>>>,
}

#[derive(Deserialize)]
pub struct Peek {
    #[allow(dead_code)]
    peek: bool,
}

impl LeakyHand {
    fn next(&self) -> Option<usize> {
        self.hands.iter().position(Option::is_none)
    }
}

impl Game for LeakyHand {
    type Config = Value;
    type Action = Peek;

    fn info() -> GameInfo {
        GameInfo::turn_based("leaky-hand", "1.0.0", "Test fixture: its view shows every hand.", 2, 2)
    }

    fn create(_config: Value, players: &[String], _seed: u64) -> Result<Self, String> {
        Ok(LeakyHand { players: players.to_vec(), hands: vec![None; players.len()] })
    }

    fn apply(&mut self, player: &str, _action: Peek) -> Result<Vec<Event>, ActionError> {
        let seat = self.next().filter(|&s| self.players[s] == player).ok_or(ActionError::NotYourTurn)?;
        let hand: Vec<u64> = (0..5).map(|_| random_below(1_000) as u64 + 1).collect();
        let event = Event::private("deal", &json!({ "hand": hand }), &[player]);
        self.hands[seat] = Some(hand);
        Ok(vec![event])
    }

    fn view(&self, _viewer: &Viewer) -> Value {
        // The leak: every hand, whoever asks.
        let hands: serde_json::Map<String, Value> =
            self.players.iter().zip(&self.hands).map(|(p, h)| (p.clone(), json!(h))).collect();
        json!({ "hands": hands })
    }

    fn status(&self) -> Status {
        match self.next() {
            Some(seat) => Status::Awaiting(vec![self.players[seat].clone()]),
            None => {
                let total = |seat: usize| self.hands[seat].iter().flatten().sum::<u64>();
                let best = (0..self.players.len()).max_by_key(|&s| total(s)).unwrap_or(0);
                Status::winner(&self.players[best])
            }
        }
    }

    fn legal_actions(&self, player: &str) -> Vec<Value> {
        match self.next() {
            Some(seat) if self.players[seat] == player => vec![json!({ "peek": true })],
            _ => Vec::new(),
        }
    }
}

arcade_sdk::export_game!(LeakyHand);
