//! In-memory catalog of archived games for the backends without a query
//! engine (filesystem, S3): summaries by game id, kept in listing order.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;

use super::ArchiveError;
use super::listing::{Cursor, GameSummary, ListFilter, Page, PageRequest};

/// Listing order: newest first, then larger game id first.
type OrderKey = (Reverse<u64>, Reverse<String>);

#[derive(Debug, Default)]
pub struct Catalog {
    by_id: HashMap<String, GameSummary>,
    newest_first: BTreeSet<OrderKey>,
}

fn order_key(completed_at_ms: u64, game_id: &str) -> OrderKey {
    (Reverse(completed_at_ms), Reverse(game_id.to_string()))
}

impl Catalog {
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn contains(&self, game_id: &str) -> bool {
        self.by_id.contains_key(game_id)
    }

    pub fn get(&self, game_id: &str) -> Option<&GameSummary> {
        self.by_id.get(game_id)
    }

    /// Adds a game; the first summary of a game id wins. Returns whether it was new.
    pub fn insert(&mut self, summary: GameSummary) -> bool {
        if self.by_id.contains_key(&summary.game_id) {
            return false;
        }
        self.newest_first.insert(order_key(summary.completed_at_ms, &summary.game_id));
        self.by_id.insert(summary.game_id.clone(), summary);
        true
    }

    /// Adds a game, or replaces its summary (a rewritten record's).
    pub fn upsert(&mut self, summary: GameSummary) {
        self.remove(&summary.game_id);
        self.insert(summary);
    }

    /// Ids of the games `player` played.
    pub fn played_by(&self, player: &str) -> Vec<String> {
        let mut ids: Vec<String> =
            self.by_id.values().filter(|g| g.players.iter().any(|p| p == player)).map(|g| g.game_id.clone()).collect();
        ids.sort();
        ids
    }

    /// Ids of the games completed before `cutoff_ms`, oldest first.
    pub fn completed_before(&self, cutoff_ms: u64) -> Vec<String> {
        self.newest_first
            .iter()
            .rev()
            .take_while(|(Reverse(completed_at_ms), _)| *completed_at_ms < cutoff_ms)
            .map(|(_, Reverse(id))| id.clone())
            .collect()
    }

    pub fn remove(&mut self, game_id: &str) -> Option<GameSummary> {
        let summary = self.by_id.remove(game_id)?;
        self.newest_first.remove(&order_key(summary.completed_at_ms, game_id));
        Some(summary)
    }

    /// One page of the games matching `filter`, newest first.
    pub fn list(&self, filter: &ListFilter, page: &PageRequest) -> Result<Page, ArchiveError> {
        let limit = page.effective_limit();
        let start = match page.cursor()? {
            Some(Cursor { completed_at_ms, game_id }) => Bound::Excluded(order_key(completed_at_ms, &game_id)),
            None => Bound::Unbounded,
        };
        let games = self
            .newest_first
            .range((start, Bound::Unbounded))
            .map(|(_, Reverse(id))| &self.by_id[id])
            .filter(|game| filter.matches(game))
            .take(limit + 1)
            .cloned()
            .collect();
        Ok(Page::from_overfetched(games, limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::PluginRef;

    fn summary(id: &str, completed_at_ms: u64, plugin: &str, players: &[&str]) -> GameSummary {
        GameSummary {
            game_id: id.into(),
            room_id: "r".into(),
            plugin: PluginRef { name: plugin.into(), version: "1.0.0".into(), hash: "h".into() },
            players: players.iter().map(|p| p.to_string()).collect(),
            winners: vec![],
            outcome: "aborted".into(),
            started_at_ms: 0,
            completed_at_ms,
        }
    }

    #[test]
    fn pages_follow_newest_first_order_and_filters() {
        let mut catalog = Catalog::default();
        for (i, plugin) in ["a", "b", "a", "a", "b"].iter().enumerate() {
            assert!(catalog.insert(summary(&format!("g{i}"), 100 + (i as u64 / 2), plugin, &["p", plugin])));
        }
        assert!(!catalog.insert(summary("g0", 999, "a", &[])), "the first summary wins");
        let ids = |page: &Page| page.games.iter().map(|g| g.game_id.clone()).collect::<Vec<_>>();

        let first = catalog.list(&ListFilter::default(), &PageRequest::first(2)).unwrap();
        assert_eq!(ids(&first), ["g4", "g3"]);
        let second =
            catalog.list(&ListFilter::default(), &PageRequest { limit: 2, after: first.next.clone() }).unwrap();
        assert_eq!(ids(&second), ["g2", "g1"]);
        let third =
            catalog.list(&ListFilter::default(), &PageRequest { limit: 2, after: second.next.clone() }).unwrap();
        assert_eq!((ids(&third), third.next), (vec!["g0".to_string()], None));

        let only_a = ListFilter { plugin: Some("a".into()), player: None };
        assert_eq!(ids(&catalog.list(&only_a, &PageRequest::first(10)).unwrap()), ["g3", "g2", "g0"]);
        let player_b = ListFilter { plugin: None, player: Some("b".into()) };
        assert_eq!(ids(&catalog.list(&player_b, &PageRequest::first(10)).unwrap()), ["g4", "g1"]);

        assert_eq!(catalog.completed_before(101), ["g0", "g1"]);
        assert_eq!(catalog.completed_before(100), Vec::<String>::new());
        catalog.remove("g3");
        assert_eq!(ids(&catalog.list(&only_a, &PageRequest::first(10)).unwrap()), ["g2", "g0"]);
    }
}
