//! The [`Ladder`]: every board's standings, as the fold of its rated games
//! in the order they ended (completion time, then game id).
//!
//! That order, not the order games arrive in, defines the ratings, so a
//! ladder fed live (games from several nodes, late deliveries, the same game
//! twice) and one rebuilt from the archive agree exactly: a game counts once
//! (by id), and one that arrives after later games of its board were
//! counted is put in its place (the later ones are undone and counted again
//! after it). Each counted game keeps its rating changes, which are also
//! the players' match history.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;

use crate::game::{GameResult, RatedGame};
use crate::lines::{Line, Lines, RankKey, Ranked, f64_order};
use crate::scores::{Period, ScoreBoardSpec, ScoreBoards, ScoreLine, ScoreReset};
use crate::system::{RatingSystem, Skill};

/// A board: one game in one mode.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct BoardKey {
    pub game: String,
    pub mode: String,
}

impl BoardKey {
    pub fn new(game: &str, mode: &str) -> Self {
        BoardKey { game: game.to_string(), mode: mode.to_string() }
    }
}

/// A player's standing on one board.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Standing {
    pub skill: Skill,
    #[serde(flatten)]
    pub tally: Tally,
}

/// A player's games on one board and how they went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Tally {
    pub games: u32,
    pub wins: u32,
    pub draws: u32,
    pub losses: u32,
    /// Wins in a row (positive) or losses in a row (negative); 0 after a draw.
    pub streak: i32,
    pub last_played_ms: u64,
}

impl Standing {
    fn new(system: RatingSystem) -> Self {
        Standing { skill: system.initial(), tally: Tally::default() }
    }

    fn after(mut self, skill: Skill, result: GameResult, at_ms: u64) -> Self {
        self.skill = skill;
        self.tally = self.tally.after(result, at_ms);
        self
    }
}

impl Tally {
    fn after(mut self, result: GameResult, at_ms: u64) -> Self {
        self.games += 1;
        match result {
            GameResult::Won => {
                self.wins += 1;
                self.streak = self.streak.max(0) + 1;
            }
            GameResult::Lost => {
                self.losses += 1;
                self.streak = self.streak.min(0) - 1;
            }
            GameResult::Drawn => {
                self.draws += 1;
                self.streak = 0;
            }
        }
        self.last_played_ms = at_ms;
        self
    }
}

/// One counted game and what it changed.
#[derive(Clone, Debug)]
struct Counted {
    game: RatedGame,
    /// Per player, in the game's order: the standing before (none: its first
    /// game on this board) and after.
    changes: Vec<(Option<Standing>, Standing)>,
}

/// Order of games on a board: completion time, then id.
type GameKey = (u64, String);

#[derive(Debug)]
struct Board {
    system: RatingSystem,
    /// Each player's standing, ranked by its conservative rating.
    standings: Lines<Standing>,
    counted: BTreeMap<GameKey, Counted>,
    /// Each player's games on this board.
    games_of: HashMap<String, BTreeSet<GameKey>>,
}

impl Board {
    fn new(system: RatingSystem, hidden: Arc<HashSet<String>>) -> Self {
        Board { system, standings: Lines::new(hidden), counted: BTreeMap::new(), games_of: HashMap::new() }
    }

    fn set(&mut self, player: &str, standing: Option<Standing>) {
        self.standings.set(player, standing);
    }

    /// Counts a game after every game counted so far.
    fn count(&mut self, game: RatedGame) {
        let before: Vec<Option<Standing>> = game.players.iter().map(|p| self.standings.get(p).copied()).collect();
        let skills: Vec<Skill> = before
            .iter()
            .map(|standing| match standing {
                Some(s) => s.skill.after_idle(game.completed_at_ms.saturating_sub(s.tally.last_played_ms)),
                None => self.system.initial(),
            })
            .collect();
        let rated = self.system.rate(&skills, &game.places);
        let key = (game.completed_at_ms, game.game_id.clone());
        let mut changes = Vec::with_capacity(game.players.len());
        for (i, player) in game.players.iter().enumerate() {
            let result = game.result_of(player).expect("a player of the game");
            let after =
                before[i].unwrap_or_else(|| Standing::new(self.system)).after(rated[i], result, game.completed_at_ms);
            self.set(player, Some(after));
            self.games_of.entry(player.clone()).or_default().insert(key.clone());
            changes.push((before[i], after));
        }
        self.counted.insert(key, Counted { game, changes });
    }

    /// Undoes a game counted last.
    fn undo(&mut self, counted: &Counted) {
        let key = (counted.game.completed_at_ms, counted.game.game_id.clone());
        for (player, (before, _)) in counted.game.players.iter().zip(&counted.changes).rev() {
            self.set(player, *before);
            if let Some(games) = self.games_of.get_mut(player) {
                games.remove(&key);
            }
        }
    }
}

impl Ranked for Standing {
    /// Conservative rating, highest first.
    fn order(&self) -> u64 {
        f64_order(self.skill.conservative())
    }
}

fn entries(lines: Vec<Line<'_, Standing>>) -> Vec<BoardEntry> {
    lines.into_iter().map(|(rank, player, standing)| BoardEntry::new(rank, player, standing)).collect()
}

/// One line of a board.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BoardEntry {
    pub rank: usize,
    pub player: String,
    /// The skill estimate (1500 scale): what matchmaking compares.
    pub rating: f64,
    pub deviation: f64,
    /// What the board sorts by: `rating - 2 × deviation`.
    pub ladder_rating: f64,
    #[serde(flatten)]
    pub tally: Tally,
}

impl BoardEntry {
    fn new(rank: usize, player: &str, standing: &Standing) -> Self {
        BoardEntry {
            rank,
            player: player.to_string(),
            rating: round2(standing.skill.rating()),
            deviation: round2(standing.skill.deviation()),
            ladder_rating: round2(standing.skill.conservative()),
            tally: standing.tally,
        }
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A page of a board, best first.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BoardPage {
    pub entries: Vec<BoardEntry>,
    /// The cursor of the next page (`after`), `None` on the last.
    pub next: Option<String>,
}

/// One game in a player's history.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HistoryEntry {
    pub game_id: String,
    pub game: String,
    pub mode: String,
    pub completed_at_ms: u64,
    pub result: GameResult,
    pub place: usize,
    pub players: Vec<String>,
    pub rating_before: f64,
    pub rating_after: f64,
    pub rating_change: f64,
}

/// What a leaderboard query asks for.
#[derive(Clone, Copy, Debug)]
pub enum Query<'a> {
    /// Up to `limit` lines after a cursor (the first page without one).
    Page { after: Option<&'a RankKey>, limit: usize },
    /// A player's line and `around` lines either side.
    Around { player: &'a str, around: usize },
    /// Some players' lines (friends), best first.
    Players(&'a [String]),
}

/// Why a score board query has no answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinesError {
    UnknownBoard,
    NotOnBoard,
}

/// One line of a score board.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScoreEntry {
    pub rank: usize,
    pub player: String,
    pub score: i64,
    pub games: u32,
}

/// Lines of a score board in one period.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScorePage {
    /// The period's name (`all_time`, its Monday `2026-11-30`, its month `2026-12`).
    pub period: String,
    /// When an admin last reset this period (its earlier games do not count).
    pub reset_at_ms: Option<u64>,
    pub entries: Vec<ScoreEntry>,
    pub next: Option<String>,
}

/// Whether [`Ladder::count`] counted a game.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counting {
    Counted,
    /// Counted before (the same game delivered again).
    AlreadyCounted,
    /// Not a rated game (see [`RatedGame::from_record`]).
    NotRated,
}

/// Every board, and the ids of the games counted on them.
#[derive(Debug, Default)]
pub struct Ladder {
    boards: BTreeMap<BoardKey, Board>,
    counted_ids: HashSet<String>,
    /// Archived games seen that are not rated, with their completion time
    /// (so a sync reads each once; forgotten once older than its window).
    unrated_ids: HashMap<String, u64>,
    /// The latest completion time of a game seen (counted or not rated).
    newest_ms: u64,
    /// The system of each game (every mode) that does not use the default.
    systems: HashMap<String, RatingSystem>,
    /// Players kept off every board's ranking (banned accounts).
    hidden: Arc<HashSet<String>>,
    /// The declared score boards, per period.
    scores: ScoreBoards,
    /// Whether every game the archive held at start has been read.
    rebuilt: bool,
}

impl Ladder {
    /// A ladder whose games' boards use `systems` (by game name; the
    /// others: Weng-Lin).
    pub fn new(systems: HashMap<String, RatingSystem>, score_boards: Vec<ScoreBoardSpec>) -> Self {
        Ladder { systems, scores: ScoreBoards::new(score_boards), ..Ladder::default() }
    }

    /// Counts a game in its place in its board's order (see the module docs).
    pub fn count(&mut self, game: RatedGame) -> Counting {
        if self.counted_ids.contains(&game.game_id) {
            return Counting::AlreadyCounted;
        }
        self.counted_ids.insert(game.game_id.clone());
        self.newest_ms = self.newest_ms.max(game.completed_at_ms);
        let key = BoardKey::new(&game.game, &game.mode);
        let system = self.systems.get(&key.game).copied().unwrap_or_default();
        let hidden = self.hidden.clone();
        let board = self.boards.entry(key).or_insert_with(|| Board::new(system, hidden));
        // Scores add up in any order: counted once, outside the re-fold.
        self.scores.add(&game);
        let later = board.counted.split_off(&(game.completed_at_ms, game.game_id.clone()));
        for counted in later.values().rev() {
            board.undo(counted);
        }
        board.count(game);
        for (_, counted) in later {
            board.count(counted.game);
        }
        Counting::Counted
    }

    /// Counts an archived game's record (when it is a rated game).
    pub fn count_record(&mut self, record: &arcade_archive::record::GameRecord) -> Counting {
        self.newest_ms = self.newest_ms.max(record.completed_at_ms);
        match RatedGame::from_record(record) {
            Some(game) => self.count(game),
            None => Counting::NotRated,
        }
    }

    /// Remembers an unrated game a sync read, so the next sync does not
    /// read it again (forgotten with [`Ladder::forget_unrated_before`]:
    /// only syncs remember, so the set stays within their window).
    pub fn remember_unrated(&mut self, game_id: &str, completed_at_ms: u64) {
        self.unrated_ids.insert(game_id.to_string(), completed_at_ms);
    }

    /// Whether an archived game was seen already (counted, or not rated).
    pub fn knows(&self, game_id: &str) -> bool {
        self.counted_ids.contains(game_id) || self.unrated_ids.contains_key(game_id)
    }

    /// Forgets the unrated games that completed before `ms` (a sync no
    /// longer looks that far back).
    pub fn forget_unrated_before(&mut self, ms: u64) {
        self.unrated_ids.retain(|_, completed_at_ms| *completed_at_ms >= ms);
    }

    /// The latest completion time of an archived game seen, rated or not
    /// (0: none yet).
    pub fn newest_seen_ms(&self) -> u64 {
        self.newest_ms
    }

    /// A deleted account's erasure: `player` is `pseudonym` everywhere, as
    /// in the archive (its standings, its place on the boards, its games).
    pub fn rename(&mut self, player: &str, pseudonym: &str) {
        self.scores.rename(player, pseudonym);
        for board in self.boards.values_mut() {
            if board.standings.get(player).is_none() {
                continue;
            }
            board.standings.rename(player, pseudonym);
            let keys = board.games_of.remove(player).unwrap_or_default();
            for key in &keys {
                if let Some(counted) = board.counted.get_mut(key) {
                    for p in counted.game.players.iter_mut().filter(|p| *p == player) {
                        *p = pseudonym.to_string();
                    }
                    if let Some(score) = counted.game.scores.remove(player) {
                        counted.game.scores.insert(pseudonym.to_string(), score);
                    }
                }
            }
            board.games_of.insert(pseudonym.to_string(), keys);
        }
    }

    /// Keeps `players` (banned accounts) off every board: their lines and
    /// ranks are gone, the others' ranks close up, and their standings keep
    /// counting games, so lifting a ban puts them back where their games
    /// say. Deleted accounts' pseudonyms are never shown.
    pub fn set_hidden(&mut self, players: HashSet<String>) {
        if *self.hidden == players {
            return;
        }
        let changed: Vec<String> = self.hidden.symmetric_difference(&players).cloned().collect();
        self.hidden = Arc::new(players);
        for board in self.boards.values_mut() {
            board.standings.set_hidden(self.hidden.clone(), &changed);
        }
        self.scores.set_hidden(self.hidden.clone(), &changed);
    }

    /// Takes `resets` (every reset an admin made, of any board) as the score
    /// boards' period resets: a board whose resets changed is counted again
    /// from its games, so it reads as if they had been known all along.
    pub fn set_score_resets(&mut self, resets: &[ScoreReset]) {
        for spec in self.scores.set_resets(resets) {
            let spec_board = &self.scores.specs()[spec];
            let key = BoardKey::new(&spec_board.game, &spec_board.mode);
            let Some(board) = self.boards.get(&key) else { continue };
            for counted in board.counted.values() {
                self.scores.add_to(spec, &counted.game);
            }
        }
    }

    /// The boards with at least one game.
    pub fn boards(&self) -> impl Iterator<Item = &BoardKey> {
        self.boards.keys()
    }

    pub fn has_board(&self, board: &BoardKey) -> bool {
        self.boards.contains_key(board)
    }

    /// How many games the ladder counted, on every board.
    pub fn games_counted(&self) -> usize {
        self.counted_ids.len()
    }

    /// A player's standing on a board (`None`: no game there yet).
    pub fn standing(&self, board: &BoardKey, player: &str) -> Option<&Standing> {
        self.boards.get(board)?.standings.get(player)
    }

    /// The rating matchmaking uses for a player: its board's estimate, or a
    /// newcomer's of the board's system.
    pub fn rating_for_matchmaking(&self, board: &BoardKey, player: &str) -> f64 {
        match self.standing(board, player) {
            Some(standing) => standing.skill.rating(),
            None => self.systems.get(&board.game).copied().unwrap_or_default().initial().rating(),
        }
    }

    /// A page of a board, best first, after `after` (a previous page's
    /// `next`); `None` when there is no such board.
    pub fn page(&self, board: &BoardKey, after: Option<&RankKey>, limit: usize) -> Option<BoardPage> {
        let (lines, next) = self.boards.get(board)?.standings.page(after, limit);
        Some(BoardPage { entries: entries(lines), next })
    }

    /// `player`'s line and up to `around` lines either side of it; `None`
    /// when it has no (shown) standing on the board.
    pub fn around(&self, board: &BoardKey, player: &str, around: usize) -> Option<Vec<BoardEntry>> {
        Some(entries(self.boards.get(board)?.standings.around(player, around)?))
    }

    /// The lines of these players (friends), best first; players without a
    /// standing on the board are left out.
    pub fn of_players(&self, board: &BoardKey, players: &[String]) -> Option<Vec<BoardEntry>> {
        Some(entries(self.boards.get(board)?.standings.of_players(players)))
    }

    /// Marks the ladder complete: the archive was read back whole.
    pub fn mark_rebuilt(&mut self) {
        self.rebuilt = true;
    }

    /// Whether the archive was read back whole since start (until then the
    /// boards miss older games).
    pub fn is_rebuilt(&self) -> bool {
        self.rebuilt
    }

    /// The declared score boards.
    pub fn score_boards(&self) -> &[ScoreBoardSpec] {
        self.scores.specs()
    }

    /// The declared score board `name` of a game and mode.
    pub fn score_board(&self, board: &BoardKey, name: &str) -> Option<&ScoreBoardSpec> {
        self.scores.spec(&board.game, &board.mode, name).map(|spec| &self.scores.specs()[spec])
    }

    /// Lines of the score board `name` of a game and mode in the period
    /// starting on `start_day` (see [`Period::start_day`]): a page, a
    /// player's neighbourhood or some players' lines.
    pub fn score_lines(
        &self,
        board: &BoardKey,
        name: &str,
        period: Period,
        start_day: i64,
        query: &Query<'_>,
    ) -> Result<ScorePage, LinesError> {
        let spec = self.scores.spec(&board.game, &board.mode, name).ok_or(LinesError::UnknownBoard)?;
        let label = period.label(start_day);
        let reset_at_ms = self.scores.reset_at(spec, period, start_day);
        let Some(table) = self.scores.table(spec, period, start_day) else {
            return match query {
                Query::Around { .. } => Err(LinesError::NotOnBoard),
                _ => Ok(ScorePage { period: label, reset_at_ms, entries: Vec::new(), next: None }),
            };
        };
        let score_entries = |lines: Vec<Line<'_, ScoreLine>>| -> Vec<ScoreEntry> {
            lines
                .into_iter()
                .map(|(rank, player, line)| ScoreEntry {
                    rank,
                    player: player.to_string(),
                    score: line.score,
                    games: line.games,
                })
                .collect()
        };
        let (entries, next) = match query {
            Query::Page { after, limit } => {
                let (lines, next) = table.page(*after, *limit);
                (score_entries(lines), next)
            }
            Query::Around { player, around } => {
                (score_entries(table.around(player, *around).ok_or(LinesError::NotOnBoard)?), None)
            }
            Query::Players(players) => (score_entries(table.of_players(players)), None),
        };
        Ok(ScorePage { period: label, reset_at_ms, entries, next })
    }

    /// A player's rated games on every board, newest first: those that
    /// ended before `before` (a completion time and game id, exclusive), at
    /// most `limit`.
    pub fn history(&self, player: &str, before: Option<(u64, &str)>, limit: usize) -> Vec<HistoryEntry> {
        let before = before.map(|(at, id)| (at, id.to_string()));
        let mut games: Vec<(&GameKey, &Board)> = Vec::new();
        for board in self.boards.values() {
            if let Some(keys) = board.games_of.get(player) {
                let older: Box<dyn Iterator<Item = &GameKey>> = match &before {
                    Some(b) => Box::new(keys.range(..b.clone()).rev()),
                    None => Box::new(keys.iter().rev()),
                };
                games.extend(older.take(limit).map(|k| (k, board)));
            }
        }
        games.sort_by(|a, b| b.0.cmp(a.0));
        games.truncate(limit);
        games
            .into_iter()
            .map(|(key, board)| {
                let counted = &board.counted[key];
                let i = counted.game.players.iter().position(|p| p == player).expect("indexed player");
                let (before, after) = counted.changes[i];
                let rating_before = before.map_or_else(|| board.system.initial().rating(), |s| s.skill.rating());
                let game = &counted.game;
                HistoryEntry {
                    game_id: game.game_id.clone(),
                    game: game.game.clone(),
                    mode: game.mode.clone(),
                    completed_at_ms: game.completed_at_ms,
                    result: game.result_of(player).expect("a player of the game"),
                    place: game.places[i],
                    players: game.players.clone(),
                    rating_before: round2(rating_before),
                    rating_after: round2(after.skill.rating()),
                    rating_change: round2(after.skill.rating() - rating_before),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (no test dependency for one function).
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    fn game(id: usize, at_ms: u64, players: [&str; 2], places: [usize; 2]) -> RatedGame {
        RatedGame {
            game_id: format!("g{id:05}"),
            game: "tic-tac-toe".into(),
            mode: "ranked".into(),
            completed_at_ms: at_ms,
            players: players.iter().map(|p| p.to_string()).collect(),
            places: places.to_vec(),
            scores: Default::default(),
        }
    }

    fn random_games(n: usize, seed: u64) -> Vec<RatedGame> {
        let names = ["ann", "bob", "cy", "dee", "eve", "fay", "gus"];
        let mut rng = Rng(seed);
        (0..n)
            .map(|i| {
                let a = rng.below(7) as usize;
                let b = (a + 1 + rng.below(6) as usize) % 7;
                let places = [[1, 2], [2, 1], [1, 1]][rng.below(3) as usize];
                // Days apart now and then, so inactivity plays a part.
                game(i, i as u64 * 60_000 + rng.below(4) * 86_400_000 * (i as u64 / 50), [names[a], names[b]], places)
            })
            .collect()
    }

    fn board() -> BoardKey {
        BoardKey::new("tic-tac-toe", "ranked")
    }

    fn all_lines(ladder: &Ladder) -> Vec<BoardEntry> {
        ladder.page(&board(), None, usize::MAX).expect("the board").entries
    }

    #[test]
    fn any_arrival_order_and_repeats_give_the_ratings_of_the_sorted_fold() {
        let games = random_games(400, 7);
        let mut sorted = games.clone();
        sorted.sort_by_key(|g| (g.completed_at_ms, g.game_id.clone()));
        let mut reference = Ladder::default();
        for g in sorted {
            assert_eq!(reference.count(g), Counting::Counted);
        }
        let mut shuffled = games.clone();
        let mut rng = Rng(99);
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let mut live = Ladder::default();
        for (i, g) in shuffled.iter().enumerate() {
            assert_eq!(live.count(g.clone()), Counting::Counted);
            if i % 3 == 0 {
                assert_eq!(live.count(shuffled[i / 2].clone()), Counting::AlreadyCounted, "delivered again");
            }
        }
        assert_eq!(all_lines(&live), all_lines(&reference));
        for name in ["ann", "bob", "eve"] {
            assert_eq!(live.history(name, None, 1000), reference.history(name, None, 1000), "{name}'s history");
        }
        assert_eq!(live.games_counted(), 400);
    }

    #[test]
    fn pages_ranks_around_and_friends_match_a_brute_force_sort() {
        let mut ladder = Ladder::default();
        for g in random_games(300, 3) {
            ladder.count(g);
        }
        let mut expected: Vec<(String, f64)> =
            ladder.boards[&board()].standings.values().map(|(p, s)| (p.clone(), s.skill.conservative())).collect();
        expected.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut paged = Vec::new();
        let mut after = None;
        loop {
            let page = ladder.page(&board(), after.as_ref(), 2).expect("the board");
            paged.extend(page.entries);
            match page.next {
                Some(cursor) => after = Some(RankKey::from_cursor(&cursor).expect("a cursor it made")),
                None => break,
            }
        }
        let order: Vec<(usize, String)> = paged.iter().map(|e| (e.rank, e.player.clone())).collect();
        let want: Vec<(usize, String)> = expected.iter().enumerate().map(|(i, (p, _))| (i + 1, p.clone())).collect();
        assert_eq!(order, want);
        for (i, (player, _)) in expected.iter().enumerate() {
            let lines = ladder.around(&board(), player, 1).expect("a standing");
            let want: Vec<(usize, String)> =
                (i.saturating_sub(1)..(i + 2).min(expected.len())).map(|j| (j + 1, expected[j].0.clone())).collect();
            assert_eq!(lines.iter().map(|e| (e.rank, e.player.clone())).collect::<Vec<_>>(), want, "around {player}");
        }
        let friends = ladder.of_players(&board(), &["gus".into(), "ann".into(), "nobody".into()]).expect("the board");
        let ranks: Vec<usize> = friends.iter().map(|e| e.rank).collect();
        assert_eq!(friends.len(), 2);
        assert!(ranks.windows(2).all(|w| w[0] < w[1]), "best first: {ranks:?}");
        for line in &friends {
            assert_eq!(expected[line.rank - 1].0, line.player);
        }
        assert!(RankKey::from_cursor("nonsense").is_none() && RankKey::from_cursor("zz.ann").is_none());
    }

    #[test]
    fn hidden_players_leave_the_boards_and_come_back_where_their_games_put_them() {
        let mut ladder = Ladder::default();
        for g in random_games(200, 11) {
            ladder.count(g);
        }
        let before = all_lines(&ladder);
        let banned = before[1].player.clone();
        ladder.set_hidden([banned.clone()].into());
        let during = all_lines(&ladder);
        assert_eq!(during.len(), before.len() - 1);
        assert!(during.iter().all(|l| l.player != banned));
        assert_eq!(during[1].player, before[2].player, "the ranks close up");
        assert_eq!(during[1].rank, 2);
        assert!(ladder.around(&board(), &banned, 1).is_none());
        assert!(ladder.of_players(&board(), std::slice::from_ref(&banned)).unwrap().is_empty());
        // Games while hidden still count.
        ladder.count(game(9_000, u64::MAX / 2, [banned.as_str(), "ann"], [1, 2]));
        ladder.set_hidden(HashSet::new());
        let after = all_lines(&ladder);
        assert_eq!(after.len(), before.len());
        assert!(after.iter().any(|l| l.player == banned && l.tally.games == before[1].tally.games + 1));
        ladder.rename("ann", "del_abcdefghijklmnopqrstuvwxyz");
        assert!(
            all_lines(&ladder).iter().all(|l| l.player != "ann" && !l.player.starts_with("del_")),
            "pseudonyms stay off"
        );
    }

    #[test]
    fn a_reset_counts_the_score_board_again_under_a_deleted_players_pseudonym() {
        let spec = ScoreBoardSpec {
            game: "tic-tac-toe".into(),
            mode: "ranked".into(),
            name: "points".into(),
            kind: crate::scores::ScoreKind::Total,
            order: Default::default(),
        };
        let mut ladder = Ladder::new(HashMap::new(), vec![spec]);
        let monday = 1_796_601_600_000; // 2026-12-07 00:00 UTC
        for (i, at) in [monday + 10, monday + 20].into_iter().enumerate() {
            let mut g = game(i, at, ["ann", "bob"], [1, 2]);
            g.scores = [("ann".to_string(), 2), ("bob".to_string(), 1)].into();
            ladder.count(g);
        }
        let weekly = |ladder: &Ladder| {
            let page = ladder
                .score_lines(
                    &board(),
                    "points",
                    Period::Weekly,
                    Period::Weekly.start_day(monday),
                    &Query::Page { after: None, limit: 10 },
                )
                .unwrap();
            (page.reset_at_ms, page.entries.iter().map(|e| (e.player.clone(), e.score)).collect::<Vec<_>>())
        };
        assert_eq!(weekly(&ladder), (None, vec![("ann".into(), 4), ("bob".into(), 2)]));
        ladder.rename("bob", "del_bob");
        let reset = ScoreReset {
            game: "tic-tac-toe".into(),
            mode: "ranked".into(),
            board: "points".into(),
            period: Period::Weekly,
            at_ms: monday + 15,
        };
        ladder.set_score_resets(std::slice::from_ref(&reset));
        assert_eq!(weekly(&ladder), (Some(monday + 15), vec![("ann".into(), 2)]), "the pseudonym stays hidden");
        ladder.set_score_resets(&[]);
        assert_eq!(weekly(&ladder).1, [("ann".to_string(), 4)], "no reset: every game again, bob as his pseudonym");
    }

    #[test]
    fn the_stronger_player_ends_on_top_and_history_shows_each_change() {
        let mut ladder = Ladder::default();
        for i in 0..40 {
            let places = if i % 5 == 0 { [2, 1] } else { [1, 2] };
            ladder.count(game(i, i as u64 * 1000, ["strong", "weak"], places));
        }
        let lines = all_lines(&ladder);
        assert_eq!(lines[0].player, "strong");
        let tally = lines[0].tally;
        assert_eq!((tally.wins, tally.losses, tally.games), (32, 8, 40));
        let history = ladder.history("strong", None, 5);
        assert_eq!(history.len(), 5);
        assert_eq!(history[0].game_id, "g00039", "newest first");
        assert!(history.windows(2).all(|w| (w[0].rating_before - w[1].rating_after).abs() < 0.02), "chained");
        let older = ladder.history("strong", Some((history[4].completed_at_ms, &history[4].game_id)), 100);
        assert_eq!(older.len(), 35);
        assert_eq!(older[0].game_id, "g00034");
        assert!(ladder.history("nobody", None, 10).is_empty());
    }
}
