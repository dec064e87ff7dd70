//! The journal's on-disk format, versioned and checksummed.
//!
//! A segment file starts with an 8-byte header, `b"ARCJ"`, the format
//! version (u16 LE) and two reserved bytes. Then records follow, each
//! `len: u32 LE | crc32: u32 LE | payload: len bytes`, where the CRC-32
//! covers the payload and the payload is one JSON-encoded [`Entry`].
//! A record that is cut short or fails its checksum marks the end of the
//! valid data (a torn write at crash time).

use serde::{Deserialize, Serialize};

use arcade_protocol::PluginRef;
use arcade_protocol::seed::Seed;

pub const MAGIC: &[u8; 4] = b"ARCJ";
pub const VERSION: u16 = 1;
pub const HEADER_LEN: usize = 8;
const FRAME_LEN: usize = 8;
/// Records larger than this are treated as corruption (actions are KiB-sized).
pub const MAX_RECORD: usize = 8 << 20;

/// One journal record. Entries of all rooms share the journal, in the order
/// they happened; each names its room.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Entry {
    Created {
        room: String,
        plugin: PluginRef,
        config: String,
        seats: u32,
        seed: Seed,
        at_ms: u64,
        /// A matchmade room's mode (absent: a room players made, or an
        /// older journal).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mode: Option<String>,
        /// Shown in the open-rooms listing (absent: not listed, or an older
        /// journal).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        listed: bool,
    },
    Joined {
        room: String,
        /// The player's stable id (an account id).
        player: String,
        /// Its display name when seated (absent in older journals: the id).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        name: String,
        token: String,
        at_ms: u64,
    },
    /// A seat was given up (before the start it frees the seat; during the
    /// game it aborts the room).
    Left { room: String, token: String, at_ms: u64 },
    /// An accepted action; `seq` counts accepted actions from 1.
    Action { room: String, seq: u64, player: String, action: String, at_ms: u64 },
    /// A real-time tick.
    Tick { room: String, dt_ms: u32, at_ms: u64 },
    /// The room needs no recovery any more (its record is archived).
    Closed { room: String },
}

impl Entry {
    pub fn room(&self) -> &str {
        match self {
            Entry::Created { room, .. }
            | Entry::Joined { room, .. }
            | Entry::Left { room, .. }
            | Entry::Action { room, .. }
            | Entry::Tick { room, .. }
            | Entry::Closed { room } => room,
        }
    }
}

pub fn header() -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..4].copy_from_slice(MAGIC);
    h[4..6].copy_from_slice(&VERSION.to_le_bytes());
    h
}

/// Append one framed record to `out`.
pub fn encode(entry: &Entry, out: &mut Vec<u8>) {
    let payload = serde_json::to_vec(entry).expect("journal entries serialize");
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
}

/// Why decoding stopped before the end of a segment.
#[derive(Debug, PartialEq, Eq)]
pub enum Damage {
    BadHeader,
    TornRecord,
    ChecksumMismatch,
    UnreadableEntry(String),
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::BadHeader => f.write_str("missing or unknown segment header"),
            Damage::TornRecord => f.write_str("record cut short (torn write)"),
            Damage::ChecksumMismatch => f.write_str("record checksum mismatch"),
            Damage::UnreadableEntry(e) => write!(f, "record does not decode: {e}"),
        }
    }
}

/// Decode a whole segment: the valid entries, and where and why the valid
/// data ends if it ends before the end of `bytes`.
pub fn decode(bytes: &[u8]) -> (Vec<Entry>, Option<(usize, Damage)>) {
    if bytes.len() < HEADER_LEN || &bytes[..4] != MAGIC || bytes[4..6] != VERSION.to_le_bytes() {
        return (Vec::new(), Some((0, Damage::BadHeader)));
    }
    let mut entries = Vec::new();
    let mut at = HEADER_LEN;
    while at < bytes.len() {
        let rest = &bytes[at..];
        if rest.len() < FRAME_LEN {
            return (entries, Some((at, Damage::TornRecord)));
        }
        let len = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
        let crc = u32::from_le_bytes(rest[4..8].try_into().unwrap());
        if len > MAX_RECORD || rest.len() < FRAME_LEN + len {
            return (entries, Some((at, Damage::TornRecord)));
        }
        let payload = &rest[FRAME_LEN..FRAME_LEN + len];
        if crc32fast::hash(payload) != crc {
            return (entries, Some((at, Damage::ChecksumMismatch)));
        }
        match serde_json::from_slice(payload) {
            Ok(entry) => entries.push(entry),
            Err(e) => return (entries, Some((at, Damage::UnreadableEntry(e.to_string())))),
        }
        at += FRAME_LEN + len;
    }
    (entries, None)
}

/// The offset of the first valid record that starts after `from`, if any:
/// data past a damaged record that was written (and synced) after it.
pub fn valid_record_after(bytes: &[u8], from: usize) -> Option<usize> {
    (from + 1..bytes.len().saturating_sub(FRAME_LEN)).find(|&at| {
        let rest = &bytes[at..];
        let len = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
        let crc = u32::from_le_bytes(rest[4..8].try_into().unwrap());
        len > 0
            && len <= MAX_RECORD
            && rest.len() >= FRAME_LEN + len
            && crc32fast::hash(&rest[FRAME_LEN..FRAME_LEN + len]) == crc
            && serde_json::from_slice::<Entry>(&rest[FRAME_LEN..FRAME_LEN + len]).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_valid_record_after_a_damaged_one() {
        let mut bytes = segment(&[sample(1), sample(2), sample(3)]);
        let second = HEADER_LEN + FRAME_LEN + serde_json::to_vec(&sample(1)).unwrap().len();
        let third = second + FRAME_LEN + serde_json::to_vec(&sample(2)).unwrap().len();
        bytes[second + FRAME_LEN + 3] ^= 0xff;
        assert_eq!(decode(&bytes).1.map(|(at, _)| at), Some(second));
        assert_eq!(valid_record_after(&bytes, second), Some(third));
        assert_eq!(valid_record_after(&bytes, third), None);
    }

    fn sample(n: u64) -> Entry {
        Entry::Action { room: "r1".into(), seq: n, player: "ann".into(), action: "{\"cell\":4}".into(), at_ms: n }
    }

    fn segment(entries: &[Entry]) -> Vec<u8> {
        let mut bytes = header().to_vec();
        for e in entries {
            encode(e, &mut bytes);
        }
        bytes
    }

    #[test]
    fn round_trips() {
        let entries = vec![sample(1), sample(2), Entry::Closed { room: "r1".into() }];
        assert_eq!(decode(&segment(&entries)), (entries, None));
    }

    #[test]
    fn torn_tail_keeps_complete_records() {
        let bytes = segment(&[sample(1), sample(2)]);
        let first_end = segment(&[sample(1)]).len();
        for cut in first_end + 1..bytes.len() {
            let (entries, damage) = decode(&bytes[..cut]);
            assert_eq!(entries, vec![sample(1)], "cut at {cut}");
            assert_eq!(damage, Some((first_end, Damage::TornRecord)));
        }
    }

    #[test]
    fn flipped_bit_is_a_checksum_mismatch() {
        let mut bytes = segment(&[sample(1), sample(2)]);
        let last = bytes.len() - 3;
        bytes[last] ^= 0x01;
        let (entries, damage) = decode(&bytes);
        assert_eq!(entries, vec![sample(1)]);
        assert!(matches!(damage, Some((_, Damage::ChecksumMismatch))));
    }

    #[test]
    fn foreign_file_is_a_bad_header() {
        assert_eq!(decode(b"not a journal").1, Some((0, Damage::BadHeader)));
    }
}
