//! [`Lines`]: one leaderboard's lines, each player's value ranked by the
//! order its value gives (highest first, then player id), with paging
//! cursors, ranks, a player's neighbourhood and a list of players. Hidden
//! players (banned accounts, deleted accounts' pseudonyms) keep their value
//! but stay off the ranking, so the others' ranks close up. Rating boards
//! and score boards are both `Lines`.

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::sync::Arc;

use crate::ranking::Ranking;

/// How a deleted account's pseudonym starts (`arcade_identity`'s `del_` +
/// 26 base32): never shown, like a banned account.
const PSEUDONYM_PREFIX: &str = "del_";

/// A value a leaderboard ranks: higher [`Ranked::order`] first.
pub trait Ranked: Copy {
    fn order(&self) -> u64;
}

/// `f64` bits that sort as the numbers do (finite values).
pub fn f64_order(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 { !bits } else { bits | (1 << 63) }
}

/// `i64` bits that sort as the numbers do.
pub fn i64_order(x: i64) -> u64 {
    (x as u64) ^ (1 << 63)
}

/// Where a line sorts: its order, highest first, then player id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RankKey {
    order: Reverse<u64>,
    player: String,
}

impl RankKey {
    fn new(player: &str, order: u64) -> Self {
        RankKey { order: Reverse(order), player: player.to_string() }
    }

    /// The paging cursor after this line: `<16 hex digits>.<player>`.
    pub fn cursor(&self) -> String {
        format!("{:016x}.{}", self.order.0, self.player)
    }

    /// A cursor given back; `None` when it is not one.
    pub fn from_cursor(cursor: &str) -> Option<Self> {
        let (bits, player) = cursor.split_once('.')?;
        if bits.len() != 16 || player.is_empty() {
            return None;
        }
        Some(RankKey { order: Reverse(u64::from_str_radix(bits, 16).ok()?), player: player.to_string() })
    }
}

/// A line as queried: its rank (1 is first), player and value.
pub type Line<'a, V> = (usize, &'a str, &'a V);

#[derive(Debug)]
pub struct Lines<V> {
    values: HashMap<String, V>,
    ranking: Ranking<RankKey>,
    hidden: Arc<HashSet<String>>,
}

impl<V: Ranked> Lines<V> {
    pub fn new(hidden: Arc<HashSet<String>>) -> Self {
        Lines { values: HashMap::new(), ranking: Ranking::default(), hidden }
    }

    pub fn shown(&self, player: &str) -> bool {
        !self.hidden.contains(player) && !player.starts_with(PSEUDONYM_PREFIX)
    }

    pub fn get(&self, player: &str) -> Option<&V> {
        self.values.get(player)
    }

    pub fn values(&self) -> impl Iterator<Item = (&String, &V)> {
        self.values.iter()
    }

    /// Sets (or with `None` removes) a player's value.
    pub fn set(&mut self, player: &str, value: Option<V>) {
        if let Some(old) = self.values.get(player) {
            self.ranking.remove(&RankKey::new(player, old.order()));
        }
        match value {
            Some(new) => {
                if self.shown(player) {
                    self.ranking.insert(RankKey::new(player, new.order()));
                }
                self.values.insert(player.to_string(), new);
            }
            None => {
                self.values.remove(player);
            }
        }
    }

    /// New hidden players; `changed` are those hidden or shown by the change.
    pub fn set_hidden(&mut self, hidden: Arc<HashSet<String>>, changed: &[String]) {
        self.hidden = hidden;
        for player in changed {
            let value = self.values.get(player).copied();
            if value.is_some() {
                self.set(player, value);
            }
        }
    }

    /// The player's line is the pseudonym's now.
    pub fn rename(&mut self, player: &str, pseudonym: &str) {
        if let Some(value) = self.values.get(player).copied() {
            self.set(player, None);
            self.set(pseudonym, Some(value));
        }
    }

    fn rank_of(&self, key: &RankKey) -> usize {
        1 + self.ranking.count_before(key)
    }

    fn line<'a>(&'a self, rank: usize, key: &'a RankKey) -> Line<'a, V> {
        (rank, key.player.as_str(), &self.values[&key.player])
    }

    /// Up to `limit` lines after `after` (a previous page's `next`), and the
    /// cursor of the page after them (`None` on the last).
    pub fn page(&self, after: Option<&RankKey>, limit: usize) -> (Vec<Line<'_, V>>, Option<String>) {
        let first = after.map_or(1, |key| self.rank_of(key) + usize::from(self.ranking.contains(key)));
        let mut range = self.ranking.iter_from(after.map_or(Bound::Unbounded, Bound::Excluded));
        let lines: Vec<Line<'_, V>> =
            range.by_ref().take(limit).enumerate().map(|(i, key)| self.line(first + i, key)).collect();
        let next = match (lines.last(), range.next()) {
            (Some(&(_, player, value)), Some(_)) => Some(RankKey::new(player, value.order()).cursor()),
            _ => None,
        };
        (lines, next)
    }

    /// `player`'s line and up to `around` lines either side of it; `None`
    /// when it has no shown line.
    pub fn around(&self, player: &str, around: usize) -> Option<Vec<Line<'_, V>>> {
        if !self.shown(player) {
            return None;
        }
        let key = RankKey::new(player, self.values.get(player)?.order());
        let rank = self.rank_of(&key);
        let above: Vec<&RankKey> = self.ranking.iter_before(&key).take(around).collect();
        let first = rank - above.len();
        let keys = above.into_iter().rev().chain(self.ranking.iter_from(Bound::Included(&key)).take(around + 1));
        Some(keys.enumerate().map(|(i, k)| self.line(first + i, k)).collect())
    }

    /// The shown lines of these players, best first.
    pub fn of_players(&self, players: &[String]) -> Vec<Line<'_, V>> {
        let mut keys: Vec<RankKey> = players
            .iter()
            .filter(|p| self.shown(p))
            .filter_map(|p| self.values.get(p).map(|v| RankKey::new(p, v.order())))
            .collect();
        keys.sort();
        keys.dedup();
        keys.into_iter()
            .map(|key| {
                let rank = self.rank_of(&key);
                let (player, value) = self.values.get_key_value(&key.player).expect("a line of a value");
                (rank, player.as_str(), value)
            })
            .collect()
    }
}
