//! The body of an SQS message: one finished game, in either of two forms.
//!
//! - JSON of a `GameRecord` (the body starts with `{`): readable, for
//!   producers that do not link the host crate; SQS caps a message at
//!   256 KiB, which long games can exceed.
//! - Base64 (standard alphabet, padded) of the compressed storage form
//!   `GameRecord::to_compressed` writes (`ARCG` header + zstd JSON):
//!   typically 5-10x smaller.
//!
//! A base64 text never contains `{`, so the first non-blank character
//! decides. Either way the record must pass `GameRecord::validate`.

use arcade_host::archive::GameRecord;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Decodes and validates one message body; the error says what is wrong.
pub fn decode_body(body: &str) -> Result<GameRecord, String> {
    let body = body.trim();
    let record = if body.starts_with('{') {
        serde_json::from_str::<GameRecord>(body).map_err(|e| format!("not a game record (JSON): {e}"))?
    } else {
        let bytes =
            STANDARD.decode(body).map_err(|e| format!("neither JSON nor base64 of a compressed game record: {e}"))?;
        GameRecord::from_compressed(&bytes).map_err(|e| e.to_string())?
    };
    record.validate().map_err(|e| e.to_string())?;
    Ok(record)
}

#[cfg(test)]
pub(crate) mod tests {
    use arcade_host::archive::{FinalViews, PluginRef, RECORD_FORMAT_VERSION};
    use arcade_host::protocol::RoomStatus;

    use super::*;

    pub(crate) fn record(game_id: &str) -> GameRecord {
        GameRecord {
            format_version: RECORD_FORMAT_VERSION,
            game_id: game_id.into(),
            room_id: "room-1".into(),
            plugin: PluginRef { name: "tic-tac-toe".into(), version: "1.0.0".into(), hash: "ab".repeat(32) },
            config: "{}".into(),
            players: vec!["ann".into(), "bob".into()],
            seed: 7,
            log: vec![],
            events: vec![],
            started_at_ms: 1_000,
            completed_at_ms: 2_000,
            status: RoomStatus::aborted("player_left", "bob left"),
            final_views: FinalViews::default(),
        }
    }

    #[test]
    fn json_and_base64_compressed_bodies_decode_to_the_same_record() {
        let game = record("g-1");
        let json = serde_json::to_string(&game).unwrap();
        let base64 = STANDARD.encode(game.to_compressed().unwrap());
        assert_eq!(decode_body(&json).unwrap(), game);
        assert_eq!(decode_body(&format!("\n{base64}\n")).unwrap(), game);
    }

    #[test]
    fn bad_bodies_are_rejected_with_a_reason() {
        let unfinished = GameRecord { status: RoomStatus::Playing { awaiting: vec![] }, ..record("g-2") };
        let cases = [
            ("{\"game_id\": 1}".to_string(), "not a game record"),
            ("hello, world".to_string(), "neither JSON nor base64"),
            (STANDARD.encode(b"not a record"), "bad magic"),
            (serde_json::to_string(&unfinished).unwrap(), "finished or aborted"),
            (serde_json::to_string(&record("../escape")).unwrap(), "game id"),
        ];
        for (body, reason) in cases {
            let error = decode_body(&body).unwrap_err();
            assert!(error.contains(reason), "{body}: {error:?} should mention {reason:?}");
        }
    }
}
