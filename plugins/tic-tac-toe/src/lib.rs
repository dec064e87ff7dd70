//! # Tic-tac-toe
//!
//! The classic 3x3 game as an Arcade plugin.
//!
//! - Two players. The first player in seat order (`players[0]`) is `X` and
//!   moves first; there is no randomness, so the seed does not matter.
//! - Action: `{"cell": n}` with `n` in `0..=8`, row-major from the top-left:
//!
//!   ```text
//!    0 | 1 | 2
//!   ---+---+---
//!    3 | 4 | 5
//!   ---+---+---
//!    6 | 7 | 8
//!   ```
//!
//! - View (the same for everyone, there is no hidden information):
//!   `{"board": [9 x "X" | "O" | null], "players": {"X": name, "O": name},
//!   "next": name | null, "rules_version": "1.0.0"}`.
//! - Events: a public `"move"` event `{"player", "mark", "cell"}` per move.
//! - Three in a row wins; a full board without a line is a draw.
//!
//! The `v2` cargo feature only changes the version to `2.0.0` (shown in the
//! view as `rules_version`); it exists so the server's versioning can be
//! tested with two otherwise identical builds.

use arcade_sdk::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The rules version, reported by [`Game::info`] and in every view.
#[cfg(not(feature = "v2"))]
pub const VERSION: &str = "1.0.0";
/// The rules version, reported by [`Game::info`] and in every view.
#[cfg(feature = "v2")]
pub const VERSION: &str = "2.0.0";

/// The eight winning lines of cells.
const LINES: [[usize; 3]; 8] = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 3, 6], [1, 4, 7], [2, 5, 8], [0, 4, 8], [2, 4, 6]];

/// A player's mark; `X` belongs to `players[0]` and moves first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Mark {
    X,
    O,
}

impl Mark {
    /// Seat index of the player who owns this mark.
    fn seat(self) -> usize {
        match self {
            Mark::X => 0,
            Mark::O => 1,
        }
    }

    fn other(self) -> Mark {
        match self {
            Mark::X => Mark::O,
            Mark::O => Mark::X,
        }
    }
}

/// Room configuration: tic-tac-toe has no options (any JSON object is accepted).
#[derive(Debug, Default, Deserialize)]
pub struct Config {}

/// One move: put the mover's mark on `cell` (`0..=8`).
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Move {
    pub cell: usize,
}

/// The public `move` event.
#[derive(Serialize)]
struct MoveEvent<'a> {
    player: &'a str,
    mark: Mark,
    cell: usize,
}

/// The state of one room.
#[derive(Debug, Clone)]
pub struct TicTacToe {
    /// `[X, O]` player names.
    players: [String; 2],
    board: [Option<Mark>; 9],
    /// Whose mark goes next (meaningless once the game is over).
    next: Mark,
}

impl TicTacToe {
    fn name(&self, mark: Mark) -> &str {
        &self.players[mark.seat()]
    }

    /// The mark with three in a row, if any.
    fn winner(&self) -> Option<Mark> {
        LINES.iter().find_map(|&[a, b, c]| match self.board[a] {
            Some(m) if self.board[b] == Some(m) && self.board[c] == Some(m) => Some(m),
            _ => None,
        })
    }

    fn is_full(&self) -> bool {
        self.board.iter().all(Option::is_some)
    }

    fn is_over(&self) -> bool {
        self.winner().is_some() || self.is_full()
    }
}

impl Game for TicTacToe {
    type Config = Config;
    type Action = Move;

    fn info() -> GameInfo {
        GameInfo::turn_based("tic-tac-toe", VERSION, "Three in a row on a 3x3 grid.", 2, 2)
    }

    fn create(_config: Config, players: &[String], _seed: u64) -> Result<Self, String> {
        let [x, o] = players else {
            return Err(format!("tic-tac-toe needs exactly 2 players, got {}", players.len()));
        };
        Ok(TicTacToe { players: [x.clone(), o.clone()], board: [None; 9], next: Mark::X })
    }

    fn apply(&mut self, player: &str, action: Move) -> Result<Vec<Event>, ActionError> {
        if player != self.name(self.next) {
            return Err(ActionError::NotYourTurn);
        }
        let Some(square) = self.board.get_mut(action.cell) else {
            return Err(ActionError::Illegal(format!("cell {} is off the board (0..=8)", action.cell)));
        };
        if square.is_some() {
            return Err(ActionError::Illegal(format!("cell {} is taken", action.cell)));
        }
        let mark = self.next;
        *square = Some(mark);
        self.next = mark.other();
        Ok(vec![Event::public("move", &MoveEvent { player, mark, cell: action.cell })])
    }

    fn view(&self, _viewer: &Viewer) -> Value {
        let next = match self.status() {
            Status::Awaiting(p) => p.into_iter().next(),
            _ => None,
        };
        json!({
            "board": self.board,
            "players": { "X": self.name(Mark::X), "O": self.name(Mark::O) },
            "next": next,
            "rules_version": VERSION,
        })
    }

    fn status(&self) -> Status {
        match self.winner() {
            Some(mark) => Status::winner(self.name(mark)),
            None if self.is_full() => Status::draw(),
            None => Status::Awaiting(vec![self.name(self.next).to_owned()]),
        }
    }

    fn legal_actions(&self, player: &str) -> Vec<Value> {
        if self.is_over() || player != self.name(self.next) {
            return Vec::new();
        }
        (0..9).filter(|&cell| self.board[cell].is_none()).map(|cell| json!(Move { cell })).collect()
    }
}

arcade_sdk::export_game!(TicTacToe);

#[cfg(test)]
mod tests {
    use super::*;
    use arcade_sdk::testing::Table;

    fn table() -> Table<TicTacToe> {
        Table::start(&["ann", "bob"], 7).unwrap()
    }

    /// Play `cells` alternately, starting with ann (X).
    fn play(table: &mut Table<TicTacToe>, cells: &[usize]) {
        for (i, &cell) in cells.iter().enumerate() {
            let who = if i % 2 == 0 { "ann" } else { "bob" };
            table.act(who, json!({ "cell": cell })).unwrap();
        }
    }

    #[test]
    fn info_describes_the_game() {
        let info = TicTacToe::info();
        assert_eq!(info.name, "tic-tac-toe");
        assert_eq!(info.version, VERSION);
        assert_eq!((info.min_players, info.max_players, info.tick_hz), (2, 2, 0));
    }

    #[cfg(not(feature = "v2"))]
    #[test]
    fn default_build_is_version_1() {
        assert_eq!(TicTacToe::info().version, "1.0.0");
        assert_eq!(table().spectator_view()["rules_version"], "1.0.0");
    }

    #[test]
    fn needs_two_players() {
        assert!(Table::<TicTacToe>::start(&["ann"], 1).is_err());
        assert!(Table::<TicTacToe>::start(&["ann", "bob", "cid"], 1).is_err());
    }

    #[test]
    fn first_seat_is_x_and_starts_whatever_the_seed() {
        for seed in [0, 1, 42, u64::MAX] {
            let t = Table::<TicTacToe>::start(&["ann", "bob"], seed).unwrap();
            assert_eq!(t.awaiting(), ["ann"]);
            assert_eq!(t.spectator_view()["players"], json!({ "X": "ann", "O": "bob" }));
        }
        let t = Table::<TicTacToe>::start(&["bob", "ann"], 3).unwrap();
        assert_eq!(t.awaiting(), ["bob"]);
    }

    #[test]
    fn initial_view() {
        let t = table();
        assert_eq!(
            t.view_of("ann"),
            json!({
                "board": [null, null, null, null, null, null, null, null, null],
                "players": { "X": "ann", "O": "bob" },
                "next": "ann",
                "rules_version": VERSION,
            })
        );
        // No hidden information: every viewer sees the same thing.
        assert_eq!(t.view_of("ann"), t.view_of("bob"));
        assert_eq!(t.view_of("ann"), t.spectator_view());
    }

    #[test]
    fn moves_alternate_and_show_in_the_view() {
        let mut t = table();
        let events = t.act("ann", json!({ "cell": 4 })).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, "move");
        assert!(matches!(events[0].audience, Audience::Everyone));
        let data: Value = serde_json::from_str(&events[0].data).unwrap();
        assert_eq!(data, json!({ "player": "ann", "mark": "X", "cell": 4 }));
        assert_eq!(t.awaiting(), ["bob"]);

        t.act("bob", json!({ "cell": 0 })).unwrap();
        let view = t.spectator_view();
        assert_eq!(view["board"][4], "X");
        assert_eq!(view["board"][0], "O");
        assert_eq!(view["next"], "ann");
    }

    #[test]
    fn row_column_and_diagonal_wins() {
        for (cells, winner) in [
            (&[0, 3, 1, 4, 2][..], "ann"),    // top row by X
            (&[0, 1, 3, 4, 8, 7][..], "bob"), // middle column by O
            (&[0, 1, 4, 2, 8][..], "ann"),    // diagonal by X
            (&[0, 2, 1, 4, 8, 6][..], "bob"), // anti-diagonal by O
        ] {
            let mut t = table();
            play(&mut t, cells);
            assert_eq!(t.status().winners(), Some(&[winner.to_string()][..]), "{cells:?}");
            assert_eq!(t.spectator_view()["next"], Value::Null);
            assert!(t.awaiting().is_empty());
        }
    }

    #[test]
    fn a_line_on_the_ninth_move_wins_rather_than_draws() {
        let mut t = table();
        // X O X
        // X X O
        // O O X   <- X's last move, cell 8, completes the 0-4-8 diagonal.
        play(&mut t, &[0, 1, 2, 5, 4, 6, 3, 7, 8]);
        assert_eq!(t.status().winners(), Some(&["ann".to_string()][..]));
    }

    #[test]
    fn full_board_without_a_line_is_a_draw() {
        let mut t = table();
        // X O X
        // X O O
        // O X X
        play(&mut t, &[0, 1, 2, 4, 3, 5, 7, 6, 8]);
        let status = t.status();
        assert_eq!(status.winners(), Some(&[][..]));
        assert!(matches!(status, Status::Finished(ref o) if o.summary == "draw"));
        assert!(t.legal_actions("ann").is_empty() && t.legal_actions("bob").is_empty());
    }

    #[test]
    fn taken_and_off_board_cells_are_illegal() {
        let mut t = table();
        t.act("ann", json!({ "cell": 4 })).unwrap();
        let before = t.spectator_view();
        assert!(matches!(t.act("bob", json!({ "cell": 4 })), Err(ActionError::Illegal(_))));
        assert!(matches!(t.act("bob", json!({ "cell": 9 })), Err(ActionError::Illegal(_))));
        assert_eq!(t.spectator_view(), before, "state unchanged after an error");
        assert_eq!(t.awaiting(), ["bob"]);
    }

    #[test]
    fn out_of_turn_and_strangers_are_refused() {
        let mut t = table();
        assert!(matches!(t.act("bob", json!({ "cell": 0 })), Err(ActionError::NotYourTurn)));
        assert!(matches!(t.act("eve", json!({ "cell": 0 })), Err(ActionError::NotAPlayer)));
        t.act("ann", json!({ "cell": 0 })).unwrap();
        assert!(matches!(t.act("ann", json!({ "cell": 1 })), Err(ActionError::NotYourTurn)));
    }

    #[test]
    fn malformed_actions_are_refused() {
        let mut t = table();
        for bad in ["", "not json", "{}", r#"{"cell":-1}"#, r#"{"cell":"4"}"#, r#"{"cell":4,"x":1}"#, "null"] {
            assert!(matches!(t.act_raw("ann", bad), Err(ActionError::Malformed(_))), "{bad:?}");
        }
        assert_eq!(t.awaiting(), ["ann"]);
    }

    #[test]
    fn no_moves_after_the_game_is_over() {
        let mut t = table();
        play(&mut t, &[0, 3, 1, 4, 2]);
        assert!(matches!(t.act("bob", json!({ "cell": 5 })), Err(ActionError::GameOver)));
        assert!(t.legal_actions("bob").is_empty());
    }

    #[test]
    fn legal_actions_are_the_empty_cells_of_the_mover() {
        let mut t = table();
        assert_eq!(t.legal_actions("ann").len(), 9);
        assert!(t.legal_actions("bob").is_empty());
        assert!(t.legal_actions("eve").is_empty());
        t.act("ann", json!({ "cell": 4 })).unwrap();
        let legal = t.legal_actions("bob");
        assert_eq!(legal.len(), 8);
        assert!(!legal.contains(&json!({ "cell": 4 })));
    }

    #[test]
    fn random_legal_play_always_finishes() {
        for seed in 0..50u64 {
            let mut t = Table::<TicTacToe>::start(&["ann", "bob"], seed).unwrap();
            let mut pick = seed;
            let mut moves = 0;
            while let Some(who) = t.awaiting().first().cloned() {
                let legal = t.legal_actions(&who);
                pick = pick.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let action = legal[(pick >> 33) as usize % legal.len()].clone();
                t.act(&who, action).unwrap();
                moves += 1;
            }
            assert!(t.status().is_finished());
            assert!((5..=9).contains(&moves));
        }
    }
}
