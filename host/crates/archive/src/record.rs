//! `GameRecord`: everything needed to replay and audit one finished game,
//! and its compressed storage form (a small header, then zstd over JSON).
//!
//! Compressed layout: `ARCG` magic (4 bytes), format version (u32 little
//! endian), zstd frame of the record's JSON.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::time::Duration;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::ArchiveError;
use super::keys::validate_game_id;
pub use arcade_protocol::PluginRef;
use arcade_protocol::RoomStatus;
use arcade_protocol::seed::Seed;

/// The record format this code writes and reads.
pub const RECORD_FORMAT_VERSION: u32 = 1;
/// Leading bytes of a compressed record.
pub const RECORD_MAGIC: [u8; 4] = *b"ARCG";
const HEADER_LEN: usize = 8;
const ZSTD_LEVEL: i32 = 3;
/// 9999-12-31T23:59:59.999Z: later timestamps are rejected (they do not fit
/// every backend's time type).
pub const MAX_TIMESTAMP_MS: u64 = 253_402_300_799_999;

/// One input of the game, in the order it was applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Strictly increasing within a game.
    pub seq: u64,
    /// When the host accepted it (unix ms).
    pub at_ms: u64,
    pub kind: LogKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LogKind {
    /// A player's action; `action` is the plugin's JSON text.
    Action { player: String, action: String },
    /// A clock tick of `dt_ms` given to the plugin.
    Tick { dt_ms: u64 },
}

/// An event the plugin emitted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Strictly increasing within a game (it is part of the event's key).
    pub seq: u64,
    pub at_ms: u64,
    pub kind: String,
    /// The event's JSON text.
    pub data: String,
    /// Who it was addressed to (records from before this field: unknown,
    /// treated as private).
    #[serde(default, skip_serializing_if = "EventAudience::is_unrecorded")]
    pub audience: EventAudience,
}

/// Who an archived event was addressed to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "to", content = "players", rename_all = "snake_case")]
pub enum EventAudience {
    Everyone,
    Only(Vec<String>),
    AllExcept(Vec<String>),
    /// Archived before audiences were recorded.
    #[default]
    Unrecorded,
}

impl EventAudience {
    fn is_unrecorded(&self) -> bool {
        matches!(self, EventAudience::Unrecorded)
    }

    /// Whether a spectator saw it live (the rule of `sandbox::visible_to`).
    pub fn spectators_see(&self) -> bool {
        matches!(self, EventAudience::Everyone | EventAudience::AllExcept(_))
    }
}

/// How a seat token is kept in a record (`GameRecord::seat_token_sha256`):
/// SHA-256, lowercase hex.
/// An id that renaming by text cannot confuse with anything else in a
/// record: 16 to 64 ASCII letters, digits, `_` or `-` (account ids and
/// their pseudonyms are 30).
pub fn is_opaque_id(id: &str) -> bool {
    (16..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Both ids of an erasure must be opaque ([`is_opaque_id`]); every backend
/// checks before it looks for games.
pub fn check_erasure_ids(player: &str, pseudonym: &str) -> Result<(), ArchiveError> {
    for id in [player, pseudonym] {
        if !is_opaque_id(id) {
            return Err(ArchiveError::InvalidRecord(format!(
                "{id:?} is not an opaque player id (16 to 64 of a-z A-Z 0-9 _ -)"
            )));
        }
    }
    Ok(())
}

pub fn seat_token_sha256(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// What each player and a spectator saw when the game ended.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FinalViews {
    pub players: BTreeMap<String, serde_json::Value>,
    pub spectator: serde_json::Value,
}

/// A finished (or aborted) game, as archived.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GameRecord {
    /// `RECORD_FORMAT_VERSION` of the code that produced it.
    pub format_version: u32,
    /// Unique per game; see `keys::validate_game_id` for the allowed form.
    pub game_id: String,
    pub room_id: String,
    pub plugin: PluginRef,
    /// The room's configuration, JSON text.
    pub config: String,
    /// Seat order.
    pub players: Vec<String>,
    /// The room's seed and its generator (`arcade_protocol::seed`).
    pub seed: Seed,
    /// SHA-256 (hex) of each player's seat token: a player proves they
    /// played this game with their token to read the full record.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub seat_token_sha256: BTreeMap<String, String>,
    pub log: Vec<LogEntry>,
    pub events: Vec<EventRecord>,
    pub started_at_ms: u64,
    pub completed_at_ms: u64,
    /// The matchmaking mode of a matchmade game (its queue's); `None` for a
    /// room its players made themselves. Only matchmade games are rated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The final status: `Finished` or `Aborted`.
    pub status: RoomStatus,
    pub final_views: FinalViews,
}

impl GameRecord {
    /// The winners; empty for an aborted game.
    pub fn winners(&self) -> &[String] {
        match &self.status {
            RoomStatus::Finished { winners, .. } => winners,
            _ => &[],
        }
    }

    /// Final scores of a finished game.
    pub fn scores(&self) -> Option<&BTreeMap<String, i64>> {
        match &self.status {
            RoomStatus::Finished { scores, .. } => Some(scores),
            _ => None,
        }
    }

    /// `finished` or `aborted`.
    pub fn outcome(&self) -> &'static str {
        match self.status {
            RoomStatus::Finished { .. } => "finished",
            RoomStatus::Aborted { .. } => "aborted",
            RoomStatus::WaitingForPlayers { .. } => "waiting_for_players",
            RoomStatus::Playing { .. } => "playing",
        }
    }

    /// What anyone may read of the game: who played, the outcome, the
    /// events a spectator saw and the spectator's final view. No seed, no
    /// inputs, no private events or player views: from those a stranger
    /// could learn the players' hidden information.
    pub fn spectator_record(&self) -> serde_json::Value {
        let events: Vec<serde_json::Value> = self
            .events
            .iter()
            .filter(|e| e.audience.spectators_see())
            .map(|e| serde_json::json!({ "seq": e.seq, "at_ms": e.at_ms, "kind": e.kind, "data": e.data }))
            .collect();
        serde_json::json!({
            "visibility": "spectator",
            "format_version": self.format_version,
            "game_id": self.game_id,
            "room_id": self.room_id,
            "plugin": self.plugin,
            "config": self.config,
            "players": self.players,
            "events": events,
            "started_at_ms": self.started_at_ms,
            "completed_at_ms": self.completed_at_ms,
            "status": self.status,
            "final_views": { "spectator": self.final_views.spectator },
        })
    }

    /// Whether `token` is the seat token of one of the game's players.
    pub fn is_player_token(&self, token: &str) -> bool {
        let digest = seat_token_sha256(token);
        self.seat_token_sha256.values().any(|h| *h == digest)
    }

    pub fn duration_ms(&self) -> u64 {
        self.completed_at_ms.saturating_sub(self.started_at_ms)
    }

    pub fn duration(&self) -> Duration {
        Duration::from_millis(self.duration_ms())
    }

    /// Checks what every backend relies on: a known format version, a
    /// name-safe game id, a final status, parseable JSON texts, increasing
    /// sequence numbers, and timestamps in range.
    pub fn validate(&self) -> Result<(), ArchiveError> {
        let invalid = |what: String| Err(ArchiveError::InvalidRecord(format!("game {:?}: {what}", self.game_id)));
        if self.format_version != RECORD_FORMAT_VERSION {
            return invalid(format!("format version {} (expected {RECORD_FORMAT_VERSION})", self.format_version));
        }
        validate_game_id(&self.game_id)?;
        if !self.status.is_over() {
            return invalid(format!("status must be finished or aborted, not {}", self.outcome()));
        }
        if self.plugin.name.is_empty() {
            return invalid("the plugin name is empty".into());
        }
        if self.started_at_ms > self.completed_at_ms || self.completed_at_ms > MAX_TIMESTAMP_MS {
            return invalid(format!(
                "timestamps out of order or range: started {} completed {}",
                self.started_at_ms, self.completed_at_ms
            ));
        }
        check_json_text("config", &self.config).or_else(invalid)?;
        let mut previous_seq = None;
        for entry in &self.log {
            check_sequence("log", entry.seq, entry.at_ms, &mut previous_seq).or_else(invalid)?;
            if let LogKind::Action { action, .. } = &entry.kind {
                check_json_text("an action", action).or_else(invalid)?;
            }
        }
        let mut previous_seq = None;
        for event in &self.events {
            check_sequence("event", event.seq, event.at_ms, &mut previous_seq).or_else(invalid)?;
            check_json_text("event data", &event.data).or_else(invalid)?;
        }
        Ok(())
    }

    /// This game with `player` renamed `pseudonym` everywhere it appears
    /// (seat order, actions, events and their audiences, the status, final
    /// views): the record of an erased account, which replays exactly as
    /// before under the new name. `None` when `player` did not play it.
    /// Both must be opaque ids (see [`is_opaque_id`]), so that renaming
    /// the text cannot touch anything else.
    pub fn pseudonymised(&self, player: &str, pseudonym: &str) -> Result<Option<GameRecord>, ArchiveError> {
        check_erasure_ids(player, pseudonym)?;
        if !self.players.iter().any(|p| p == player) {
            return Ok(None);
        }
        let invalid = |e: serde_json::Error| ArchiveError::InvalidRecord(format!("game {:?}: {e}", self.game_id));
        let text = serde_json::to_string(self).map_err(invalid)?.replace(player, pseudonym);
        let renamed: GameRecord = serde_json::from_str(&text).map_err(invalid)?;
        renamed.validate()?;
        Ok(Some(renamed))
    }

    /// The storage form: header + zstd(JSON).
    pub fn to_compressed(&self) -> Result<Vec<u8>, ArchiveError> {
        let json = serde_json::to_vec(self)
            .map_err(|e| ArchiveError::InvalidRecord(format!("game {:?} does not serialize: {e}", self.game_id)))?;
        // One compressor per thread, reused: a fresh zstd context allocates
        // (and the kernel zeroes) about a megabyte per record.
        thread_local! {
            static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
                const { std::cell::RefCell::new(None) };
        }
        let body = COMPRESSOR
            .with_borrow_mut(|slot| {
                let compressor = match slot {
                    Some(compressor) => compressor,
                    None => slot.insert(zstd::bulk::Compressor::new(ZSTD_LEVEL)?),
                };
                compressor.compress(&json)
            })
            .map_err(|e| ArchiveError::InvalidRecord(format!("game {:?} does not compress: {e}", self.game_id)))?;
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.extend_from_slice(&RECORD_MAGIC);
        out.extend_from_slice(&RECORD_FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Reads the storage form; rejects foreign data and unknown versions.
    pub fn from_compressed(bytes: &[u8]) -> Result<GameRecord, ArchiveError> {
        let corrupt = |what: String| ArchiveError::Corrupt(what);
        if bytes.len() < HEADER_LEN || bytes[..4] != RECORD_MAGIC {
            return Err(corrupt("not a compressed game record (bad magic)".into()));
        }
        let version = u32::from_le_bytes(bytes[4..HEADER_LEN].try_into().expect("4 header bytes"));
        if version != RECORD_FORMAT_VERSION {
            return Err(corrupt(format!("record format version {version} is not supported")));
        }
        let json = zstd::stream::decode_all(&bytes[HEADER_LEN..]).map_err(|e| corrupt(format!("zstd: {e}")))?;
        serde_json::from_slice(&json).map_err(|e| corrupt(format!("record JSON: {e}")))
    }
}

/// `to_compressed` of many records, spread over the available cores (for
/// batch writers; call from a blocking context).
pub fn compress_all<R: Borrow<GameRecord> + Sync>(records: &[R]) -> Result<Vec<Vec<u8>>, ArchiveError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let chunk = records.len().div_ceil(threads).max(16);
    if records.len() <= chunk {
        return records.iter().map(|r| r.borrow().to_compressed()).collect();
    }
    std::thread::scope(|scope| {
        let workers: Vec<_> = records
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || part.iter().map(|r| r.borrow().to_compressed()).collect::<Result<Vec<_>, _>>())
            })
            .collect();
        let mut all = Vec::with_capacity(records.len());
        for worker in workers {
            all.extend(worker.join().expect("compression threads do not panic")?);
        }
        Ok(all)
    })
}

fn check_json_text(what: &str, text: &str) -> Result<(), String> {
    serde_json::from_str::<IgnoredAny>(text).map(drop).map_err(|e| format!("{what} is not valid JSON: {e}"))
}

fn check_sequence(what: &str, seq: u64, at_ms: u64, previous: &mut Option<u64>) -> Result<(), String> {
    if previous.is_some_and(|p| seq <= p) {
        return Err(format!("{what} sequence numbers must increase ({seq} after {})", previous.unwrap_or_default()));
    }
    if at_ms > MAX_TIMESTAMP_MS {
        return Err(format!("{what} {seq} has an out-of-range timestamp {at_ms}"));
    }
    *previous = Some(seq);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> GameRecord {
        GameRecord {
            format_version: RECORD_FORMAT_VERSION,
            game_id: "room-1.g1".into(),
            room_id: "room-1".into(),
            mode: None,
            plugin: PluginRef { name: "tic-tac-toe".into(), version: "1.0.0".into(), hash: "ab".repeat(32) },
            config: "{}".into(),
            players: vec!["ann".into(), "bob".into()],
            seed: Seed::generate(),
            seat_token_sha256: [("ann".to_string(), "ab".repeat(32))].into(),
            log: vec![
                LogEntry {
                    seq: 1,
                    at_ms: 1_000,
                    kind: LogKind::Action { player: "ann".into(), action: r#"{"cell":4}"#.into() },
                },
                LogEntry { seq: 2, at_ms: 1_050, kind: LogKind::Tick { dt_ms: 50 } },
            ],
            events: vec![EventRecord {
                seq: 1,
                at_ms: 1_000,
                kind: "placed".into(),
                data: r#"{"cell":4}"#.into(),
                audience: EventAudience::Everyone,
            }],
            started_at_ms: 900,
            completed_at_ms: 2_000,
            status: RoomStatus::Finished {
                winners: vec!["ann".into()],
                scores: [("ann".to_string(), 1), ("bob".to_string(), 0)].into(),
                summary: "ann wins".into(),
            },
            final_views: FinalViews {
                players: [("ann".to_string(), serde_json::json!({"board": 1}))].into(),
                spectator: serde_json::json!(null),
            },
        }
    }

    #[test]
    fn compressed_round_trip_keeps_every_field() {
        let record = sample();
        record.validate().unwrap();
        let bytes = record.to_compressed().unwrap();
        assert_eq!(&bytes[..4], b"ARCG");
        assert_eq!(GameRecord::from_compressed(&bytes).unwrap(), record);
        assert_eq!(record.winners(), ["ann".to_string()]);
        assert_eq!(record.duration(), Duration::from_millis(1_100));
    }

    #[test]
    fn compress_all_keeps_the_order() {
        let records: Vec<GameRecord> = (0..100).map(|i| GameRecord { game_id: format!("g{i}"), ..sample() }).collect();
        let compressed = compress_all(&records).unwrap();
        let ids: Vec<String> =
            compressed.iter().map(|bytes| GameRecord::from_compressed(bytes).unwrap().game_id).collect();
        assert_eq!(ids, records.iter().map(|r| r.game_id.clone()).collect::<Vec<_>>());
    }

    #[test]
    fn foreign_or_future_data_is_rejected() {
        let mut bytes = sample().to_compressed().unwrap();
        assert!(matches!(GameRecord::from_compressed(b"{\"game_id\":1}"), Err(ArchiveError::Corrupt(_))));
        bytes[4] = 2;
        let err = GameRecord::from_compressed(&bytes).unwrap_err().to_string();
        assert!(err.contains("version 2"), "{err}");
        bytes[4] = 1;
        bytes.truncate(bytes.len() - 3);
        assert!(matches!(GameRecord::from_compressed(&bytes), Err(ArchiveError::Corrupt(_))));
    }

    #[test]
    fn validation_names_the_problem() {
        type BreakIt = fn(&mut GameRecord);
        let cases: Vec<(BreakIt, &str)> = vec![
            (|r| r.game_id = "../etc".into(), "game id"),
            (|r| r.status = RoomStatus::Playing { awaiting: vec![] }, "finished or aborted"),
            (|r| r.config = "{".into(), "config"),
            (|r| r.events[0].data = "nope".into(), "event data"),
            (|r| r.log[1].seq = 1, "sequence numbers must increase"),
            (|r| r.started_at_ms = 3_000, "timestamps"),
            (|r| r.format_version = 7, "format version"),
        ];
        for (break_it, expected) in cases {
            let mut record = sample();
            break_it(&mut record);
            let err = record.validate().unwrap_err().to_string();
            assert!(err.contains(expected), "{err:?} should mention {expected:?}");
        }
        let mut aborted = sample();
        aborted.status = RoomStatus::aborted("player_left", "bob left");
        aborted.validate().unwrap();
        assert!(aborted.winners().is_empty());
        assert_eq!(aborted.outcome(), "aborted");
    }
}
