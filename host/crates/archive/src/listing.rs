//! Listing archived games: the summary each backend returns, the filter, and
//! keyset paging. Every backend orders newest first by
//! `(completed_at_ms, game_id)` descending; a cursor is the position of the
//! last game of a page, written `<completed_at_ms>.<game_id>`.

use serde::{Deserialize, Serialize};

use super::ArchiveError;
use super::keys::validate_game_id;
use super::record::{GameRecord, PluginRef};

/// Largest page a backend returns.
pub const MAX_PAGE_LIMIT: usize = 1000;

/// What a listing shows of one game.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameSummary {
    pub game_id: String,
    pub room_id: String,
    pub plugin: PluginRef,
    pub players: Vec<String>,
    pub winners: Vec<String>,
    /// `finished` or `aborted`.
    pub outcome: String,
    pub started_at_ms: u64,
    pub completed_at_ms: u64,
}

impl From<&GameRecord> for GameSummary {
    fn from(record: &GameRecord) -> Self {
        GameSummary {
            game_id: record.game_id.clone(),
            room_id: record.room_id.clone(),
            plugin: record.plugin.clone(),
            players: record.players.clone(),
            winners: record.winners().to_vec(),
            outcome: record.outcome().to_string(),
            started_at_ms: record.started_at_ms,
            completed_at_ms: record.completed_at_ms,
        }
    }
}

/// Which games to list; `None` matches all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Plugin name.
    pub plugin: Option<String>,
    /// A player seated in the game.
    pub player: Option<String>,
}

impl ListFilter {
    pub fn matches(&self, game: &GameSummary) -> bool {
        self.plugin.as_ref().is_none_or(|p| *p == game.plugin.name)
            && self.player.as_ref().is_none_or(|p| game.players.contains(p))
    }
}

/// Which page: at most `limit` games after the `after` cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    /// `Page::next` of the previous page; `None` for the first page.
    pub after: Option<String>,
}

impl PageRequest {
    pub fn first(limit: usize) -> Self {
        PageRequest { limit, after: None }
    }

    /// `limit` clamped to 1..=MAX_PAGE_LIMIT.
    pub fn effective_limit(&self) -> usize {
        self.limit.clamp(1, MAX_PAGE_LIMIT)
    }

    pub fn cursor(&self) -> Result<Option<Cursor>, ArchiveError> {
        self.after.as_deref().map(Cursor::parse).transpose()
    }
}

/// One page of a listing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Page {
    pub games: Vec<GameSummary>,
    /// Cursor for the next page; `None` on the last page.
    pub next: Option<String>,
}

impl Page {
    /// Builds a page from up to `limit + 1` games in listing order (the extra
    /// one only tells that another page exists).
    pub fn from_overfetched(mut games: Vec<GameSummary>, limit: usize) -> Page {
        let more = games.len() > limit;
        games.truncate(limit);
        let next = if more { games.last().map(|g| Cursor::of(g).encode()) } else { None };
        Page { games, next }
    }
}

/// A position in the listing order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub completed_at_ms: u64,
    pub game_id: String,
}

impl Cursor {
    pub fn of(game: &GameSummary) -> Cursor {
        Cursor { completed_at_ms: game.completed_at_ms, game_id: game.game_id.clone() }
    }

    pub fn encode(&self) -> String {
        format!("{}.{}", self.completed_at_ms, self.game_id)
    }

    pub fn parse(text: &str) -> Result<Cursor, ArchiveError> {
        let bad = || ArchiveError::InvalidCursor(text.to_string());
        let (ms, game_id) = text.split_once('.').ok_or_else(bad)?;
        let completed_at_ms = ms.parse().map_err(|_| bad())?;
        validate_game_id(game_id).map_err(|_| bad())?;
        Ok(Cursor { completed_at_ms, game_id: game_id.to_string() })
    }

    /// Whether `game` comes after this position (older, or same time and
    /// smaller id).
    pub fn precedes(&self, game: &GameSummary) -> bool {
        (game.completed_at_ms, game.game_id.as_str()) < (self.completed_at_ms, self.game_id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_with_dots_in_ids() {
        let cursor = Cursor { completed_at_ms: 1_735_689_600_000, game_id: "room.7.g-2".into() };
        assert_eq!(Cursor::parse(&cursor.encode()).unwrap(), cursor);
        for bad in ["", "12", "x.g", "12./", "-1.g"] {
            assert!(Cursor::parse(bad).is_err(), "{bad}");
        }
    }
}
