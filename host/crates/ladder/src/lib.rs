//! Ratings, leaderboards and match history, folded from finished games.
//!
//! - `system`: the rating systems (Weng-Lin, Glicko-2 from `skillratings`)
//!   and inactivity;
//! - `game`: which archived games count and the place each player took;
//! - `ladder`: every board's standings as the fold of its games in the
//!   order they ended, with paging, ranks, around-me, friends and history;
//! - `lines`: one leaderboard's lines (rating and score boards alike):
//!   ranks, pages, around-me, friends, hidden players;
//! - `ranking`: lines in order with fast ranks (sorted blocks);
//! - `scores`: score boards declared per game (best or total, either
//!   order), all time, weekly and monthly, and admins' period resets;
//! - `feed`: an archive sink that counts every game it stores, and the
//!   rebuild of a ladder from an archive.
//!
//! The ladder is a view of the archive: the same games in give the same
//! ratings out, whichever order they arrive in and however often.

pub mod feed;
pub mod game;
pub mod ladder;
pub mod lines;
pub mod ranking;
pub mod scores;
pub mod system;

pub use game::{GameResult, RatedGame};
pub use ladder::{
    BoardEntry, BoardKey, BoardPage, Counting, HistoryEntry, Ladder, LinesError, Query, ScoreEntry, ScorePage,
    Standing, Tally,
};
pub use lines::RankKey;
pub use scores::{Period, ScoreBoardSpec, ScoreKind, ScoreOrder, ScoreReset};
pub use system::{RatingSystem, Skill};
