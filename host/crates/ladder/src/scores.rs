//! Score boards: leaderboards of the scores a game's rules report
//! (`Finished { scores }`), declared per game and mode in the config
//! ([`ScoreBoardSpec`]): a player's best score or its total, highest or
//! lowest first, each kept for all time and per week and month
//! ([`Period`]). A period's board starts empty at its boundary (Monday
//! 00:00 UTC, the 1st 00:00 UTC) and past periods stay queryable. Like the
//! rating boards they count rated (matchmade) games only, once each.
//!
//! An admin may also reset a board's period ([`ScoreReset`], kept by the
//! host in its shared store): from the reset on, that period counts only the
//! games that ended at or after it (the latest reset in a period wins), so a
//! reset applies the same to live counting, late games and a rebuild.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::game::RatedGame;
use crate::lines::{Lines, Ranked, i64_order};

const DAY_MS: u64 = 86_400_000;

/// What a score board keeps of a player's scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreKind {
    /// Its best score (the highest, or with `order = "asc"` the lowest).
    Best,
    /// The sum of its scores.
    Total,
}

/// Which end of a score board is first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreOrder {
    /// Highest first.
    #[default]
    Desc,
    /// Lowest first (times, strokes).
    Asc,
}

/// A score board a game declares (`[[ladder.score_boards]]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreBoardSpec {
    pub game: String,
    pub mode: String,
    /// Its name in URLs: 1 to 32 of a-z 0-9 `-`.
    pub name: String,
    pub kind: ScoreKind,
    #[serde(default)]
    pub order: ScoreOrder,
}

impl ScoreBoardSpec {
    /// Why the spec is not usable, if it is not.
    pub fn problem(&self) -> Option<String> {
        let valid = (1..=32).contains(&self.name.len())
            && self.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        (!valid).then(|| format!("score board name {:?}: 1 to 32 of a-z 0-9 -", self.name))
    }
}

/// A board's time span.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    AllTime,
    /// Monday 00:00 UTC to the next.
    Weekly,
    /// The 1st 00:00 UTC to the next.
    Monthly,
}

impl Period {
    pub const ALL: [Period; 3] = [Period::AllTime, Period::Weekly, Period::Monthly];

    /// Its name in queries: `all_time`, `weekly`, `monthly`.
    pub fn name(self) -> &'static str {
        match self {
            Period::AllTime => "all_time",
            Period::Weekly => "weekly",
            Period::Monthly => "monthly",
        }
    }

    pub fn parse(name: &str) -> Option<Period> {
        Period::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The first day (days since 1970-01-01) of the period holding `at_ms`.
    pub fn start_day(self, at_ms: u64) -> i64 {
        let day = (at_ms / DAY_MS) as i64;
        match self {
            Period::AllTime => 0,
            // 1970-01-01 was a Thursday: Monday is 3 days before.
            Period::Weekly => day - (day + 3).rem_euclid(7),
            Period::Monthly => {
                let (year, month, _) = civil_from_days(day);
                days_from_civil(year, month, 1)
            }
        }
    }

    /// The period's name: `all_time`, its Monday (`2026-11-30`) or its
    /// month (`2026-12`).
    pub fn label(self, start_day: i64) -> String {
        let (year, month, day) = civil_from_days(start_day);
        match self {
            Period::AllTime => "all_time".into(),
            Period::Weekly => format!("{year:04}-{month:02}-{day:02}"),
            Period::Monthly => format!("{year:04}-{month:02}"),
        }
    }

    /// The start day of the period a label (or any date in it,
    /// `YYYY-MM-DD`; a month `YYYY-MM`, which stands for its 1st) names,
    /// from 1970 on; a day past its
    /// month's end counts as the month's last (`2026-02-30` is the 28th);
    /// `None` when it is neither.
    pub fn start_of_label(self, label: &str) -> Option<i64> {
        let parts: Vec<&str> = label.split('-').collect();
        let number = |s: &str, digits: usize| {
            (s.len() == digits && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<i64>().ok()).flatten()
        };
        let (year, month) = (number(parts.first()?, 4)?, number(parts.get(1)?, 2)?);
        if !(1..=12).contains(&month) || year < 1970 {
            return None;
        }
        let day = match parts.get(2) {
            Some(day) if parts.len() == 3 => number(day, 2)?,
            None => 1,
            Some(_) => return None,
        };
        if !(1..=31).contains(&day) {
            return None;
        }
        let next_month =
            if month == 12 { days_from_civil(year + 1, 1, 1) } else { days_from_civil(year, month + 1, 1) };
        let days = days_from_civil(year, month, 1) + day - 1;
        Some(self.start_day(days.min(next_month - 1) as u64 * DAY_MS))
    }
}

/// (year, month, day) of a day count (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// The day count of (year, month, day).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A player's line on a score board.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ScoreLine {
    pub score: i64,
    /// Its games on this board in this period.
    pub games: u32,
    #[serde(skip)]
    order: ScoreOrder,
}

impl Ranked for ScoreLine {
    fn order(&self) -> u64 {
        match self.order {
            ScoreOrder::Desc => i64_order(self.score),
            ScoreOrder::Asc => !i64_order(self.score),
        }
    }
}

impl ScoreLine {
    fn after(previous: Option<ScoreLine>, spec: &ScoreBoardSpec, score: i64) -> ScoreLine {
        let Some(old) = previous else {
            return ScoreLine { score, games: 1, order: spec.order };
        };
        let score = match (spec.kind, spec.order) {
            (ScoreKind::Total, _) => old.score.saturating_add(score),
            (ScoreKind::Best, ScoreOrder::Desc) => old.score.max(score),
            (ScoreKind::Best, ScoreOrder::Asc) => old.score.min(score),
        };
        ScoreLine { score, games: old.games + 1, order: spec.order }
    }
}

/// An admin's reset of one period of a score board: the period holding
/// `at_ms` counts only games that ended at or after `at_ms`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ScoreReset {
    pub game: String,
    pub mode: String,
    /// The score board's name.
    pub board: String,
    pub period: Period,
    pub at_ms: u64,
}

/// Which board and period: the spec's index, the period and its start day.
type TableKey = (usize, Period, i64);

/// Every declared score board, per period.
#[derive(Debug, Default)]
pub(crate) struct ScoreBoards {
    specs: Vec<ScoreBoardSpec>,
    tables: HashMap<TableKey, Lines<ScoreLine>>,
    /// The latest reset of each period that has one: its games before it
    /// do not count.
    resets: HashMap<TableKey, u64>,
    hidden: Arc<HashSet<String>>,
}

impl ScoreBoards {
    pub(crate) fn new(specs: Vec<ScoreBoardSpec>) -> Self {
        ScoreBoards { specs, ..ScoreBoards::default() }
    }

    /// The spec of a declared board, by game, mode and name.
    pub(crate) fn spec(&self, game: &str, mode: &str, name: &str) -> Option<usize> {
        self.specs.iter().position(|s| s.game == game && s.mode == mode && s.name == name)
    }

    pub(crate) fn specs(&self) -> &[ScoreBoardSpec] {
        &self.specs
    }

    /// Adds a game's scores to the boards of its game and mode.
    pub(crate) fn add(&mut self, game: &RatedGame) {
        for spec in 0..self.specs.len() {
            self.add_to(spec, game);
        }
    }

    /// Adds a game's scores to one board (if it is the game's), in every
    /// period whose reset does not leave the game out.
    pub(crate) fn add_to(&mut self, spec: usize, game: &RatedGame) {
        let Some(board) = self.specs.get(spec) else { return };
        if board.game != game.game || board.mode != game.mode {
            return;
        }
        for period in Period::ALL {
            let key = (spec, period, period.start_day(game.completed_at_ms));
            if self.resets.get(&key).is_some_and(|&reset_ms| game.completed_at_ms < reset_ms) {
                continue;
            }
            let table = self.tables.entry(key).or_insert_with(|| Lines::new(self.hidden.clone()));
            for (player, &score) in &game.scores {
                let line = ScoreLine::after(table.get(player).copied(), board, score);
                table.set(player, Some(line));
            }
        }
    }

    pub(crate) fn table(&self, spec: usize, period: Period, start_day: i64) -> Option<&Lines<ScoreLine>> {
        self.tables.get(&(spec, period, start_day))
    }

    /// When the period was last reset, if it was.
    pub(crate) fn reset_at(&self, spec: usize, period: Period, start_day: i64) -> Option<u64> {
        self.resets.get(&(spec, period, start_day)).copied()
    }

    /// Takes `resets` (all of them; those of undeclared boards are ignored)
    /// as the boards' resets. The specs whose resets changed have lost their
    /// tables: the caller adds their games again.
    pub(crate) fn set_resets(&mut self, resets: &[ScoreReset]) -> Vec<usize> {
        let mut latest: HashMap<TableKey, u64> = HashMap::new();
        for reset in resets {
            if let Some(spec) = self.spec(&reset.game, &reset.mode, &reset.board) {
                let key = (spec, reset.period, reset.period.start_day(reset.at_ms));
                let at = latest.entry(key).or_insert(reset.at_ms);
                *at = (*at).max(reset.at_ms);
            }
        }
        let changed: HashSet<usize> = latest
            .iter()
            .filter(|(key, at)| self.resets.get(key) != Some(at))
            .chain(self.resets.iter().filter(|(key, _)| !latest.contains_key(key)))
            .map(|((spec, _, _), _)| *spec)
            .collect();
        self.resets = latest;
        self.tables.retain(|(spec, _, _), _| !changed.contains(spec));
        let mut changed: Vec<usize> = changed.into_iter().collect();
        changed.sort_unstable();
        changed
    }

    pub(crate) fn set_hidden(&mut self, hidden: Arc<HashSet<String>>, changed: &[String]) {
        self.hidden = hidden.clone();
        for table in self.tables.values_mut() {
            table.set_hidden(hidden.clone(), changed);
        }
    }

    pub(crate) fn rename(&mut self, player: &str, pseudonym: &str) {
        for table in self.tables.values_mut() {
            table.rename(player, pseudonym);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEEKLY: Period = Period::Weekly;

    fn ms(year: i64, month: i64, day: i64, hour: u64) -> u64 {
        days_from_civil(year, month, day) as u64 * DAY_MS + hour * 3_600_000
    }

    #[test]
    fn periods_start_on_monday_and_the_first_in_utc() {
        // 2026-11-30 is a Monday.
        let monday = ms(2026, 11, 30, 0);
        assert_eq!(WEEKLY.label(WEEKLY.start_day(monday)), "2026-11-30");
        assert_eq!(WEEKLY.label(WEEKLY.start_day(monday - 1)), "2026-11-23", "Sunday 23:59:59.999 is last week");
        assert_eq!(WEEKLY.label(WEEKLY.start_day(ms(2026, 12, 6, 23))), "2026-11-30");
        assert_eq!(Period::Monthly.label(Period::Monthly.start_day(ms(2026, 12, 1, 0) - 1)), "2026-11");
        assert_eq!(Period::Monthly.label(Period::Monthly.start_day(ms(2024, 2, 29, 12))), "2024-02");
        assert_eq!(WEEKLY.start_of_label("2026-12-03"), Some(WEEKLY.start_day(monday)), "any day names its week");
        assert_eq!(Period::Monthly.start_of_label("2026-12"), Some(Period::Monthly.start_day(ms(2026, 12, 15, 0))));
        for bad in ["2026-13", "2026-02-32", "2026-02-00", "1969-12-31", "26-12-01", "2026-12-1", "", "2026", "x"] {
            assert_eq!(WEEKLY.start_of_label(bad), None, "{bad}");
        }
        assert_eq!(WEEKLY.start_of_label("2026-02-30"), WEEKLY.start_of_label("2026-02-28"), "past the month's end");
        assert_eq!(WEEKLY.start_of_label("2026-12"), WEEKLY.start_of_label("2026-12-01"), "a month is its 1st");
        assert_eq!(Period::Monthly.start_of_label("2026-12-31"), Some(Period::Monthly.start_day(ms(2026, 12, 1, 0))));
        for day in [0, 59, 365, 10_000, 20_000, 30_000] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
    }

    fn game(id: &str, at_ms: u64, scores: &[(&str, i64)]) -> RatedGame {
        RatedGame {
            game_id: id.into(),
            game: "high-card-duel".into(),
            mode: "standard".into(),
            completed_at_ms: at_ms,
            players: scores.iter().map(|(p, _)| p.to_string()).collect(),
            places: vec![1; scores.len()],
            scores: scores.iter().map(|(p, s)| (p.to_string(), *s)).collect(),
        }
    }

    fn lines(boards: &ScoreBoards, spec: usize, period: Period, at_ms: u64) -> Vec<(String, i64, u32)> {
        let Some(table) = boards.table(spec, period, period.start_day(at_ms)) else { return Vec::new() };
        table.page(None, 100).0.into_iter().map(|(_, p, l)| (p.to_string(), l.score, l.games)).collect()
    }

    #[test]
    fn a_week_resets_at_its_boundary_and_the_past_week_is_kept() {
        let spec = |name: &str, kind, order| ScoreBoardSpec {
            game: "high-card-duel".into(),
            mode: "standard".into(),
            name: name.into(),
            kind,
            order,
        };
        let mut boards = ScoreBoards::new(vec![
            spec("total", ScoreKind::Total, ScoreOrder::Desc),
            spec("best", ScoreKind::Best, ScoreOrder::Desc),
            spec("fewest", ScoreKind::Best, ScoreOrder::Asc),
        ]);
        let sunday_night = ms(2026, 12, 6, 23);
        let monday = ms(2026, 12, 7, 0);
        boards.add(&game("a", sunday_night, &[("ann", 3), ("bob", 1)]));
        boards.add(&game("b", sunday_night + 1, &[("ann", 2), ("bob", 5)]));
        boards.add(&game("c", monday, &[("ann", 1), ("cy", 4)]));
        assert_eq!(lines(&boards, 0, WEEKLY, sunday_night), [("bob".into(), 6, 2), ("ann".into(), 5, 2)]);
        assert_eq!(lines(&boards, 0, WEEKLY, monday), [("cy".into(), 4, 1), ("ann".into(), 1, 1)], "a new week");
        assert_eq!(
            lines(&boards, 0, Period::AllTime, monday),
            [("ann".into(), 6, 3), ("bob".into(), 6, 2), ("cy".into(), 4, 1)]
        );
        assert_eq!(lines(&boards, 1, Period::AllTime, monday)[0], ("bob".into(), 5, 2), "best score");
        assert_eq!(lines(&boards, 2, Period::AllTime, monday)[0], ("ann".into(), 1, 3), "lowest first");
        assert_eq!(lines(&boards, 0, Period::Monthly, monday).len(), 3, "one month");
        assert!(lines(&boards, 0, WEEKLY, monday + 7 * DAY_MS).is_empty(), "next week has no games yet");
    }

    #[test]
    fn an_admin_reset_empties_its_period_from_then_on_and_late_games_obey_it() {
        let specs = vec![ScoreBoardSpec {
            game: "high-card-duel".into(),
            mode: "standard".into(),
            name: "total".into(),
            kind: ScoreKind::Total,
            order: ScoreOrder::Desc,
        }];
        let tuesday = ms(2026, 12, 8, 10);
        let reset = |at_ms, period| ScoreReset {
            game: "high-card-duel".into(),
            mode: "standard".into(),
            board: "total".into(),
            period,
            at_ms,
        };
        let before = game("a", tuesday, &[("ann", 3), ("bob", 1)]);
        let after = game("b", tuesday + 2, &[("ann", 1), ("cy", 4)]);
        let late = game("c", tuesday + 1, &[("bob", 9)]);
        let last_week = game("d", tuesday - 7 * DAY_MS, &[("dee", 5)]);

        // Live: two games, then the reset, then a late one and a new one.
        let mut live = ScoreBoards::new(specs.clone());
        live.add(&before);
        live.add(&last_week);
        assert_eq!(lines(&live, 0, WEEKLY, tuesday), [("ann".into(), 3, 1), ("bob".into(), 1, 1)]);
        let resets = [reset(tuesday + 1, WEEKLY), reset(tuesday - 7 * DAY_MS - 1, Period::Monthly)];
        assert_eq!(live.set_resets(&resets), [0], "the board's tables are dropped, to be counted again");
        for g in [&before, &last_week] {
            live.add_to(0, g);
        }
        assert!(lines(&live, 0, WEEKLY, tuesday).is_empty(), "the week is empty after its reset");
        assert_eq!(live.reset_at(0, WEEKLY, WEEKLY.start_day(tuesday)), Some(tuesday + 1));
        live.add(&late);
        live.add(&after);
        assert_eq!(
            lines(&live, 0, WEEKLY, tuesday),
            [("bob".into(), 9, 1), ("cy".into(), 4, 1), ("ann".into(), 1, 1)],
            "games at or after the reset count, a late one too"
        );
        assert_eq!(lines(&live, 0, WEEKLY, tuesday - 7 * DAY_MS), [("dee".into(), 5, 1)], "last week is kept");
        assert_eq!(lines(&live, 0, Period::AllTime, tuesday).len(), 4, "all time is not reset");
        assert_eq!(lines(&live, 0, Period::Monthly, tuesday).len(), 4, "a reset in an earlier month: none here");

        // A rebuild that learns the reset first gives the same boards.
        let mut rebuilt = ScoreBoards::new(specs.clone());
        rebuilt.set_resets(&resets);
        for g in [&after, &last_week, &late, &before] {
            rebuilt.add(g);
        }
        for (period, at) in [(WEEKLY, tuesday), (WEEKLY, tuesday - 7 * DAY_MS), (Period::AllTime, 0)] {
            assert_eq!(lines(&rebuilt, 0, period, at), lines(&live, 0, period, at), "{period:?}");
        }
        // The same resets again change nothing; a later reset in the week wins.
        assert!(live.set_resets(&resets).is_empty());
        assert_eq!(live.set_resets(&[reset(tuesday + 1, WEEKLY), reset(tuesday + 3, WEEKLY)]), [0]);
        for g in [&before, &after, &late, &last_week] {
            live.add_to(0, g);
        }
        assert!(lines(&live, 0, WEEKLY, tuesday).is_empty());
        // A reset of an undeclared board is ignored.
        let mut other = reset(tuesday, WEEKLY);
        other.board = "nope".into();
        assert_eq!(live.set_resets(&[other]), [0], "the week's reset is gone: counted again");
    }
}
