//! A game's history as the room applies it (every input, numbered in
//! order, and every event with its audience) and its final views, turned
//! into the archive record ([`GameRecord`]) once the game is over.

use serde_json::value::RawValue;

use super::handle::{RoomSpec, Seat};
use super::json_or_warn;
use crate::sandbox::{Audience, Event, Sandbox, Viewer};
use arcade_archive::record::{
    EventAudience, EventRecord, FinalViews, GameRecord, LogEntry, LogKind, PluginRef, RECORD_FORMAT_VERSION,
    seat_token_sha256,
};
use arcade_protocol::RoomStatus;
use arcade_protocol::clock::now_ms;

/// The inputs and events of the game so far, for its archive record.
#[derive(Default)]
pub(super) struct GameLog {
    log: Vec<LogEntry>,
    events: Vec<EventRecord>,
    /// When the game started (its seats filled); `None` while seating.
    pub(super) started_at_ms: Option<u64>,
}

impl GameLog {
    /// Remember an applied input and its events. The log numbers its
    /// entries, actions and ticks alike, in order, as the record requires.
    pub(super) fn record(&mut self, at_ms: u64, kind: LogKind, events: &[Event]) {
        for event in events {
            self.events.push(EventRecord {
                seq: self.events.len() as u64 + 1,
                at_ms,
                kind: event.kind.clone(),
                data: event.data.clone(),
                audience: match &event.audience {
                    Audience::Everyone => EventAudience::Everyone,
                    Audience::Only(who) => EventAudience::Only(who.clone()),
                    Audience::AllExcept(who) => EventAudience::AllExcept(who.clone()),
                },
            });
        }
        self.log.push(LogEntry { seq: self.log.len() as u64 + 1, at_ms, kind });
    }

    /// The archive record of a game that started and ended with `status`
    /// (`None` for a room that never started); the history moves into it.
    pub(super) fn take_record(
        &mut self,
        spec: &RoomSpec,
        seated: &[Seat],
        status: &RoomStatus,
        views: Option<&FinalViewsText>,
    ) -> Option<GameRecord> {
        let started_at_ms = self.started_at_ms?;
        let players: Vec<String> = seated.iter().map(|s| s.player.clone()).collect();
        let mut final_views = FinalViews::default();
        if let Some(views) = views {
            let parse = |view: Option<&RawValue>| {
                view.and_then(|v| serde_json::from_str(v.get()).ok()).unwrap_or(serde_json::Value::Null)
            };
            for player in &players {
                final_views.players.insert(player.clone(), parse(views.of(Some(player))));
            }
            final_views.spectator = parse(views.of(None));
        }
        let completed_at_ms = self.log.last().map_or_else(now_ms, |e| e.at_ms).max(started_at_ms);
        let plugin = &spec.plugin;
        Some(GameRecord {
            format_version: RECORD_FORMAT_VERSION,
            game_id: spec.id.to_string(),
            room_id: spec.id.to_string(),
            plugin: PluginRef {
                name: plugin.name.clone(),
                version: plugin.version.to_string(),
                hash: plugin.hash.clone(),
            },
            config: spec.config.clone(),
            players,
            seed: spec.seed.clone(),
            seat_token_sha256: seated.iter().map(|s| (s.player.clone(), seat_token_sha256(&s.token))).collect(),
            log: std::mem::take(&mut self.log),
            events: std::mem::take(&mut self.events),
            started_at_ms,
            completed_at_ms,
            status: status.clone(),
            final_views,
            mode: spec.mode.clone(),
        })
    }
}

/// Every viewer's last view of a game that ended normally, rendered once
/// when it ended: the room then gives its sandbox (an instance slot and its
/// memory) back at once instead of holding it through the grace period.
pub(super) struct FinalViewsText {
    players: Vec<(String, Option<Box<RawValue>>)>,
    spectator: Option<Box<RawValue>>,
}

impl FinalViewsText {
    pub(super) fn render(sandbox: &mut Sandbox, players: &[String]) -> Self {
        let mut view = |viewer: &Viewer| sandbox.view(viewer).ok().and_then(|v| json_or_warn(v, "final view"));
        FinalViewsText {
            players: players.iter().map(|p| (p.clone(), view(&Viewer::Player(p.clone())))).collect(),
            spectator: view(&Viewer::Spectator),
        }
    }

    pub(super) fn of(&self, player: Option<&str>) -> Option<&RawValue> {
        match player {
            None => self.spectator.as_deref(),
            Some(p) => self.players.iter().find(|(name, _)| name == p).and_then(|(_, v)| v.as_deref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, audience: Audience) -> Event {
        Event { kind: kind.into(), data: "{}".into(), audience }
    }

    #[test]
    fn inputs_and_events_are_numbered_in_order_with_their_audience() {
        let mut history = GameLog::default();
        let action = LogKind::Action { player: "alice".into(), action: r#"{"cell":0}"#.into() };
        history.record(10, action, &[event("placed", Audience::Everyone)]);
        history.record(20, LogKind::Tick { dt_ms: 50 }, &[]);
        let dealt = [event("dealt", Audience::Only(vec!["bob".into()])), event("hidden", Audience::AllExcept(vec![]))];
        history.record(30, LogKind::Action { player: "bob".into(), action: "{}".into() }, &dealt);
        assert_eq!(history.log.iter().map(|e| (e.seq, e.at_ms)).collect::<Vec<_>>(), [(1, 10), (2, 20), (3, 30)]);
        assert_eq!(history.events.iter().map(|e| (e.seq, e.at_ms)).collect::<Vec<_>>(), [(1, 10), (2, 30), (3, 30)]);
        assert!(matches!(&history.events[1].audience, EventAudience::Only(who) if who == &["bob"]));
        assert!(history.started_at_ms.is_none(), "recording does not start the game");
    }
}
