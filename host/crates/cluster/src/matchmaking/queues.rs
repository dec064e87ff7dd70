//! A list of matchmaking queues as configuration gives it, e.g. the
//! matchmaker Lambda's `ARCADE_MM_QUEUES`:
//!
//! ```json
//! [{"game": "tic-tac-toe", "mode": "standard", "players_per_match": 2},
//!  {"game": "arena", "mode": "ranked", "players_per_match": 4, "max_latency_ms": 80}]
//! ```
//!
//! Each entry names a queue (`game`, and `mode`, empty or absent for the
//! default mode) and any [`MatchRules`] fields; the others keep their
//! defaults. Unknown fields are refused, so a typo is not silently ignored.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::matcher::MatchRules;
use super::request::MAX_NAME_LEN;
use super::service::QueueKey;

/// One configured queue: its key and its rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Map<String, Value>")]
pub struct QueueSpec {
    pub game: String,
    /// Empty: the front end's default mode.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mode: String,
    #[serde(flatten)]
    pub rules: MatchRules,
}

impl QueueSpec {
    /// The queue's key, with `default_mode` for an empty mode.
    pub fn key(&self, default_mode: &str) -> QueueKey {
        let mode = if self.mode.is_empty() { default_mode } else { &self.mode };
        QueueKey::new(&self.game, mode)
    }

    /// Parses a JSON list of queues and checks it: valid names and rules,
    /// no queue twice (after applying `default_mode`), at least one queue.
    pub fn parse_list(json: &str, default_mode: &str) -> Result<Vec<(QueueKey, MatchRules)>, String> {
        let specs: Vec<QueueSpec> =
            serde_json::from_str(json).map_err(|e| format!("not a JSON list of queues: {e}"))?;
        if specs.is_empty() {
            return Err("the list of queues is empty".into());
        }
        let mut queues: Vec<(QueueKey, MatchRules)> = Vec::with_capacity(specs.len());
        for spec in specs {
            let key = spec.key(default_mode);
            check_name("mode", &key.mode)?;
            spec.rules.validate().map_err(|e| format!("{}/{}: {e}", key.game, key.mode))?;
            if queues.iter().any(|(k, _)| *k == key) {
                return Err(format!("queue {}/{} is listed twice", key.game, key.mode));
            }
            queues.push((key, spec.rules));
        }
        Ok(queues)
    }
}

impl TryFrom<Map<String, Value>> for QueueSpec {
    type Error = String;

    fn try_from(mut fields: Map<String, Value>) -> Result<Self, String> {
        let mut text = |name: &'static str, required: bool| match fields.remove(name) {
            Some(Value::String(s)) => Ok(s),
            None | Some(Value::Null) if !required => Ok(String::new()),
            None | Some(Value::Null) => Err(format!("a queue needs a \"{name}\"")),
            Some(other) => Err(format!("a queue's \"{name}\" must be a string, not {other}")),
        };
        let game = text("game", true)?;
        let mode = text("mode", false)?;
        check_name("game", &game)?;
        if !mode.is_empty() {
            check_name("mode", &mode)?;
        }
        let rules = MatchRules::deserialize(Value::Object(fields)).map_err(|e| format!("queue {game}: {e}"))?;
        Ok(QueueSpec { game, mode, rules })
    }
}

/// Game and mode names end up in store keys: the same shape tickets must have.
fn check_name(field: &str, value: &str) -> Result<(), String> {
    let valid = (1..=MAX_NAME_LEN).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if valid { Ok(()) } else { Err(format!("invalid queue {field} {value:?}: 1 to 64 of a-z A-Z 0-9 _ . -")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_gives_keys_and_rules_with_defaults() {
        let queues = QueueSpec::parse_list(
            r#"[{"game":"tic-tac-toe","mode":"standard","players_per_match":2},
                {"game":"arena","players_per_match":4,"max_latency_ms":80}]"#,
            "casual",
        )
        .unwrap();
        assert_eq!(queues[0].0, QueueKey::new("tic-tac-toe", "standard"));
        assert_eq!(queues[0].1, MatchRules { players_per_match: 2, ..MatchRules::default() });
        assert_eq!(queues[1].0, QueueKey::new("arena", "casual"));
        assert_eq!(queues[1].1, MatchRules { players_per_match: 4, max_latency_ms: 80, ..MatchRules::default() });
    }

    #[test]
    fn a_spec_round_trips_through_json() {
        let spec = QueueSpec { game: "duel".into(), mode: "ranked".into(), rules: MatchRules::default() };
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(json["game"], "duel");
        assert_eq!(json["players_per_match"], 2);
        assert_eq!(serde_json::from_value::<QueueSpec>(json).unwrap(), spec);
    }

    #[test]
    fn bad_lists_name_their_problem() {
        let cases = [
            ("{}", "not a JSON list"),
            ("[]", "empty"),
            (r#"[{"mode":"x"}]"#, "needs a \"game\""),
            (r#"[{"game":7}]"#, "must be a string"),
            (r#"[{"game":"a b"}]"#, "invalid queue game"),
            (r#"[{"game":"duel","players":2}]"#, "unknown field `players`"),
            (r#"[{"game":"duel","players_per_match":0}]"#, "players_per_match"),
            (r#"[{"game":"duel"},{"game":"duel","mode":"standard"}]"#, "listed twice"),
        ];
        for (json, mention) in cases {
            let error = QueueSpec::parse_list(json, "standard").unwrap_err();
            assert!(error.contains(mention), "{json}: {error} should mention {mention}");
        }
    }
}
