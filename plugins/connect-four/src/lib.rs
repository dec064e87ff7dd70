//! # Connect Four
//!
//! Drop discs into a 7-column, 6-row grid; four in a row (horizontally,
//! vertically or diagonally) wins. A full grid without a line is a draw.
//!
//! - Two players. `players[0]` plays red (`"R"`) and moves first,
//!   `players[1]` plays yellow (`"Y"`). No randomness.
//! - Action: `{"column": c}` with `c` in `0..=6` (left to right). The disc
//!   falls to the lowest empty row of that column.
//! - View (the same for everyone):
//!
//!   ```json
//!   {
//!     "grid": [[7 x "R" | "Y" | null], ...6 rows],
//!     "players": {"R": name, "Y": name},
//!     "next": name | null,
//!     "winner": name | null,
//!     "line": [[row, column], ...] | null
//!   }
//!   ```
//!
//!   `grid[0]` is the **top** row and `grid[5]` the bottom row, so the grid
//!   prints the way it looks; `line` uses the same `[row, column]` indices
//!   and lists every disc of the winning run (four or more).
//! - Events: a public `"move"` event `{"player", "disc", "column", "row"}`.

use arcade_sdk::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Number of columns.
pub const COLUMNS: usize = 7;
/// Number of rows.
pub const ROWS: usize = 6;
/// Discs in a row needed to win.
const CONNECT: usize = 4;

/// A player's disc colour; red belongs to `players[0]` and moves first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Disc {
    R,
    Y,
}

impl Disc {
    fn seat(self) -> usize {
        match self {
            Disc::R => 0,
            Disc::Y => 1,
        }
    }

    fn other(self) -> Disc {
        match self {
            Disc::R => Disc::Y,
            Disc::Y => Disc::R,
        }
    }
}

/// Room configuration: none (any JSON object is accepted).
#[derive(Debug, Default, Deserialize)]
pub struct Config {}

/// One move: drop the mover's disc into `column` (`0..=6`).
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Move {
    pub column: usize,
}

/// The state of one room.
#[derive(Debug, Clone)]
pub struct ConnectFour {
    /// `[red, yellow]` player names.
    players: [String; 2],
    /// `grid[row][column]`, row 0 at the top.
    grid: [[Option<Disc>; COLUMNS]; ROWS],
    next: Disc,
    /// Set once somebody connects four: the disc and its `[row, column]` run.
    win: Option<(Disc, Vec<[usize; 2]>)>,
    moves: usize,
}

impl ConnectFour {
    fn name(&self, disc: Disc) -> &str {
        &self.players[disc.seat()]
    }

    fn is_full(&self) -> bool {
        self.moves == ROWS * COLUMNS
    }

    fn is_over(&self) -> bool {
        self.win.is_some() || self.is_full()
    }

    /// The lowest empty row of `column`, if the column is not full.
    fn landing_row(&self, column: usize) -> Option<usize> {
        (0..ROWS).rev().find(|&row| self.grid[row][column].is_none())
    }

    /// The longest run of `disc` through `(row, column)` of at least
    /// [`CONNECT`] discs, in any of the four directions.
    fn run_through(&self, row: usize, column: usize, disc: Disc) -> Option<Vec<[usize; 2]>> {
        const DIRECTIONS: [(isize, isize); 4] = [(0, 1), (1, 0), (1, 1), (1, -1)];
        let holds = |r: isize, c: isize| {
            (0..ROWS as isize).contains(&r)
                && (0..COLUMNS as isize).contains(&c)
                && self.grid[r as usize][c as usize] == Some(disc)
        };
        DIRECTIONS
            .iter()
            .map(|&(dr, dc)| {
                let (r0, c0) = (row as isize, column as isize);
                // Walk back to the start of the run, then collect it forwards.
                let mut k = 0;
                while holds(r0 - (k + 1) * dr, c0 - (k + 1) * dc) {
                    k += 1;
                }
                let (mut r, mut c) = (r0 - k * dr, c0 - k * dc);
                let mut run = Vec::new();
                while holds(r, c) {
                    run.push([r as usize, c as usize]);
                    r += dr;
                    c += dc;
                }
                run
            })
            .filter(|run| run.len() >= CONNECT)
            .max_by_key(Vec::len)
    }
}

impl Game for ConnectFour {
    type Config = Config;
    type Action = Move;

    fn info() -> GameInfo {
        GameInfo::turn_based("connect-four", "1.0.0", "Connect four discs in a 7x6 grid.", 2, 2)
    }

    fn create(_config: Config, players: &[String], _seed: u64) -> Result<Self, String> {
        let [red, yellow] = players else {
            return Err(format!("connect-four needs exactly 2 players, got {}", players.len()));
        };
        Ok(ConnectFour {
            players: [red.clone(), yellow.clone()],
            grid: [[None; COLUMNS]; ROWS],
            next: Disc::R,
            win: None,
            moves: 0,
        })
    }

    fn apply(&mut self, player: &str, action: Move) -> Result<Vec<Event>, ActionError> {
        if player != self.name(self.next) {
            return Err(ActionError::NotYourTurn);
        }
        let column = action.column;
        if column >= COLUMNS {
            return Err(ActionError::Illegal(format!("column {column} is off the grid (0..=6)")));
        }
        let Some(row) = self.landing_row(column) else {
            return Err(ActionError::Illegal(format!("column {column} is full")));
        };
        let disc = self.next;
        self.grid[row][column] = Some(disc);
        self.moves += 1;
        self.next = disc.other();
        if let Some(line) = self.run_through(row, column, disc) {
            self.win = Some((disc, line));
        }
        let data = json!({ "player": player, "disc": disc, "column": column, "row": row });
        Ok(vec![Event::public("move", &data)])
    }

    fn view(&self, _viewer: &Viewer) -> Value {
        let next = (!self.is_over()).then(|| self.name(self.next));
        let winner = self.win.as_ref().map(|(disc, _)| self.name(*disc));
        let line = self.win.as_ref().map(|(_, line)| line);
        json!({
            "grid": self.grid,
            "players": { "R": self.name(Disc::R), "Y": self.name(Disc::Y) },
            "next": next,
            "winner": winner,
            "line": line,
        })
    }

    fn status(&self) -> Status {
        match &self.win {
            Some((disc, _)) => Status::winner(self.name(*disc)),
            None if self.is_full() => Status::draw(),
            None => Status::Awaiting(vec![self.name(self.next).to_owned()]),
        }
    }

    fn legal_actions(&self, player: &str) -> Vec<Value> {
        if self.is_over() || player != self.name(self.next) {
            return Vec::new();
        }
        (0..COLUMNS).filter(|&column| self.landing_row(column).is_some()).map(|column| json!(Move { column })).collect()
    }
}

arcade_sdk::export_game!(ConnectFour);

#[cfg(test)]
mod tests {
    use super::*;
    use arcade_sdk::testing::Table;

    fn table() -> Table<ConnectFour> {
        Table::start(&["ann", "bob"], 11).unwrap()
    }

    /// Drop into `columns` alternately, starting with ann (red).
    fn play(t: &mut Table<ConnectFour>, columns: &[usize]) {
        for &column in columns {
            let who = t.awaiting()[0].clone();
            t.act(&who, json!({ "column": column })).unwrap();
        }
    }

    fn winners(t: &Table<ConnectFour>) -> Vec<String> {
        t.status().winners().expect("finished").to_vec()
    }

    /// A full game (found by random search) in which nobody connects four.
    const DRAWN_GAME: [usize; ROWS * COLUMNS] = [
        3, 3, 0, 2, 5, 4, 5, 6, 4, 2, 2, 3, 3, 5, 5, 2, 2, 4, 3, 3, 1, //
        1, 2, 1, 5, 5, 0, 4, 0, 4, 4, 6, 6, 6, 6, 0, 1, 0, 6, 0, 1, 1,
    ];

    #[test]
    fn info_describes_the_game() {
        let info = ConnectFour::info();
        assert_eq!((info.name.as_str(), info.version.as_str()), ("connect-four", "1.0.0"));
        assert_eq!((info.min_players, info.max_players, info.tick_hz), (2, 2, 0));
    }

    #[test]
    fn initial_view_and_seat_order() {
        let t = table();
        let view = t.spectator_view();
        assert_eq!(view["grid"], json!(vec![vec![Value::Null; COLUMNS]; ROWS]));
        assert_eq!(view["players"], json!({ "R": "ann", "Y": "bob" }));
        assert_eq!(view["next"], "ann");
        assert_eq!(view["winner"], Value::Null);
        assert_eq!(view["line"], Value::Null);
        assert_eq!(t.view_of("ann"), view);
        assert_eq!(t.view_of("bob"), view);
        // Deterministic: the seed plays no part.
        for seed in [0, 99, u64::MAX] {
            let other = Table::<ConnectFour>::start(&["ann", "bob"], seed).unwrap();
            assert_eq!(other.spectator_view(), view);
        }
    }

    #[test]
    fn discs_fall_to_the_bottom_and_stack() {
        let mut t = table();
        let events = t.act("ann", json!({ "column": 3 })).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, "move");
        assert!(matches!(events[0].audience, Audience::Everyone));
        let data: Value = serde_json::from_str(&events[0].data).unwrap();
        assert_eq!(data, json!({ "player": "ann", "disc": "R", "column": 3, "row": 5 }));
        t.act("bob", json!({ "column": 3 })).unwrap();
        let view = t.spectator_view();
        assert_eq!(view["grid"][5][3], "R");
        assert_eq!(view["grid"][4][3], "Y");
        assert_eq!(view["grid"][3][3], Value::Null);
        assert_eq!(view["next"], "ann");
    }

    #[test]
    fn horizontal_win() {
        let mut t = table();
        play(&mut t, &[0, 0, 1, 1, 2, 2, 3]);
        assert_eq!(winners(&t), ["ann"]);
        let view = t.spectator_view();
        assert_eq!(view["winner"], "ann");
        assert_eq!(view["next"], Value::Null);
        assert_eq!(view["line"], json!([[5, 0], [5, 1], [5, 2], [5, 3]]));
    }

    #[test]
    fn vertical_win_for_the_second_player() {
        let mut t = table();
        play(&mut t, &[0, 6, 1, 6, 2, 6, 0, 6]);
        assert_eq!(winners(&t), ["bob"]);
        assert_eq!(t.spectator_view()["line"], json!([[2, 6], [3, 6], [4, 6], [5, 6]]));
    }

    #[test]
    fn diagonal_wins() {
        // Rising to the right: R at (5,0) (4,1) (3,2) (2,3).
        let mut t = table();
        play(&mut t, &[0, 1, 1, 2, 2, 3, 2, 3, 3, 6, 3]);
        assert_eq!(winners(&t), ["ann"]);
        assert_eq!(t.spectator_view()["line"], json!([[2, 3], [3, 2], [4, 1], [5, 0]]));

        // Falling to the right: R at (2,3) (3,4) (4,5) (5,6).
        let mut t = table();
        play(&mut t, &[6, 5, 5, 4, 4, 3, 4, 3, 3, 0, 3]);
        assert_eq!(winners(&t), ["ann"]);
        assert_eq!(t.spectator_view()["line"], json!([[2, 3], [3, 4], [4, 5], [5, 6]]));
    }

    #[test]
    fn a_run_longer_than_four_is_reported_whole() {
        let mut t = table();
        // R: 0 1 2 4 then 3 joins them into five; Y stacks harmlessly on top.
        play(&mut t, &[0, 0, 1, 1, 2, 2, 4, 4, 3]);
        assert_eq!(winners(&t), ["ann"]);
        let line = t.spectator_view()["line"].as_array().unwrap().len();
        assert_eq!(line, 5);
    }

    #[test]
    fn full_grid_without_a_line_is_a_draw() {
        let mut t = table();
        play(&mut t, &DRAWN_GAME);
        let status = t.status();
        assert!(status.is_finished());
        assert_eq!(status.winners(), Some(&[][..]));
        let view = t.spectator_view();
        assert_eq!(view["winner"], Value::Null);
        assert_eq!(view["next"], Value::Null);
        assert!(view["grid"].as_array().unwrap().iter().flat_map(|r| r.as_array().unwrap()).all(|c| !c.is_null()));
    }

    #[test]
    fn full_and_off_grid_columns_are_illegal() {
        let mut t = table();
        play(&mut t, &[2; ROWS]);
        let before = t.spectator_view();
        assert!(matches!(t.act("ann", json!({ "column": 2 })), Err(ActionError::Illegal(_))));
        assert!(matches!(t.act("ann", json!({ "column": 7 })), Err(ActionError::Illegal(_))));
        assert_eq!(t.spectator_view(), before, "state unchanged after an error");
        assert!(!t.legal_actions("ann").contains(&json!({ "column": 2 })));
        assert_eq!(t.legal_actions("ann").len(), COLUMNS - 1);
    }

    #[test]
    fn out_of_turn_and_strangers_are_refused() {
        let mut t = table();
        assert!(matches!(t.act("bob", json!({ "column": 0 })), Err(ActionError::NotYourTurn)));
        assert!(matches!(t.act("eve", json!({ "column": 0 })), Err(ActionError::NotAPlayer)));
        assert!(t.legal_actions("bob").is_empty());
        assert_eq!(t.awaiting(), ["ann"]);
    }

    #[test]
    fn malformed_actions_are_refused() {
        let mut t = table();
        for bad in ["", "{", "{}", r#"{"column":-1}"#, r#"{"column":1.5}"#, r#"{"cell":3}"#, r#"{"column":3,"x":0}"#] {
            assert!(matches!(t.act_raw("ann", bad), Err(ActionError::Malformed(_))), "{bad:?}");
        }
    }

    #[test]
    fn no_moves_after_the_game_is_over() {
        let mut t = table();
        play(&mut t, &[0, 0, 1, 1, 2, 2, 3]);
        assert!(matches!(t.act("bob", json!({ "column": 4 })), Err(ActionError::GameOver)));
        assert!(t.legal_actions("bob").is_empty());
    }

    #[test]
    fn random_legal_play_always_finishes() {
        for seed in 0..50u64 {
            let mut t = Table::<ConnectFour>::start(&["ann", "bob"], seed).unwrap();
            let mut pick = seed;
            while let Some(who) = t.awaiting().first().cloned() {
                let legal = t.legal_actions(&who);
                assert!(!legal.is_empty());
                pick = pick.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                t.act(&who, legal[(pick >> 33) as usize % legal.len()].clone()).unwrap();
            }
            assert!(t.status().is_finished());
        }
    }
}
