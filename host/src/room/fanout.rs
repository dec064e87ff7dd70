//! A room's watchers and their messages: one rendering per distinct viewer
//! (all spectators share one), queued without waiting; a watcher whose
//! queue is full has fallen behind and is dropped (its connection closes;
//! it reconnects and gets the whole state again), so one slow client never
//! stalls a room.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc;

use arcade_journal::Journal;

/// Queue depth of a watcher before it is considered too slow and dropped.
const WATCHER_QUEUE: usize = 64;

/// Everyone watching a room: its players (by name) and spectators.
#[derive(Default)]
pub(super) struct Watchers(Vec<Watcher>);

impl Watchers {
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    /// A new watcher (`None`: a spectator): its link, to queue its first
    /// messages, and the receiving end its connection reads.
    pub(super) fn add(&mut self, player: Option<String>) -> (WatcherLink, mpsc::Receiver<Arc<str>>) {
        let (tx, rx) = mpsc::channel(WATCHER_QUEUE);
        let link = WatcherLink { tx, lagging: Arc::default() };
        self.0.push(Watcher { player, link: link.clone() });
        (link, rx)
    }

    /// Each remaining watcher's message, `render`ed once per distinct
    /// viewer (`None`: spectator); gone and lagging watchers are dropped
    /// first, and nothing is rendered when nobody watches.
    pub(super) fn render_all(&mut self, mut render: impl FnMut(Option<&str>) -> Arc<str>) -> Outbox {
        self.0.retain(|w| !w.link.is_gone());
        let mut outbox = Outbox::default();
        let mut rendered: Vec<(Option<&str>, Arc<str>)> = Vec::new();
        for watcher in &self.0 {
            let viewer = watcher.player.as_deref();
            let message = match rendered.iter().find(|(v, _)| *v == viewer) {
                Some((_, m)) => m.clone(),
                None => {
                    let m = render(viewer);
                    rendered.push((viewer, m.clone()));
                    m
                }
            };
            outbox.0.push((watcher.link.clone(), message));
        }
        outbox
    }
}

struct Watcher {
    player: Option<String>,
    link: WatcherLink,
}

/// Where a watcher's messages go; cheap to clone into an [`Outbox`].
#[derive(Clone)]
pub(super) struct WatcherLink {
    tx: mpsc::Sender<Arc<str>>,
    /// Set when a message could not be queued (the client fell behind);
    /// the room then drops the watcher, which closes its connection.
    lagging: Arc<AtomicBool>,
}

impl WatcherLink {
    fn is_gone(&self) -> bool {
        self.tx.is_closed() || self.lagging.load(Ordering::Relaxed)
    }
}

/// Messages for watchers, delivered together.
#[derive(Default)]
pub(super) struct Outbox(Vec<(WatcherLink, Arc<str>)>);

impl Outbox {
    /// `messages` for one watcher, in order.
    pub(super) fn to(link: &WatcherLink, messages: impl IntoIterator<Item = Arc<str>>) -> Self {
        Outbox(messages.into_iter().map(|m| (link.clone(), m)).collect())
    }

    /// Send now, or, with a journal, once everything journaled so far is
    /// durable, so players never see a change a crash could undo.
    pub(super) fn deliver(self, journal: Option<&Journal>) {
        if self.0.is_empty() {
            return;
        }
        match journal {
            Some(journal) => journal.after_pending(Box::new(move |_| self.send())),
            None => self.send(),
        }
    }

    /// Queue every message now; a full queue marks its watcher lagging.
    pub(super) fn send(self) {
        for (link, message) in self.0 {
            if link.tx.try_send(message).is_err() {
                link.lagging.store(true, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rendering_per_distinct_viewer_and_spectators_share_one() {
        let mut watchers = Watchers::default();
        let (_, mut alice) = watchers.add(Some("alice".into()));
        let (_, mut first) = watchers.add(None);
        let (_, mut second) = watchers.add(None);
        let mut renders = Vec::new();
        let outbox = watchers.render_all(|viewer| {
            renders.push(viewer.map(str::to_string));
            Arc::from(format!("for {viewer:?}"))
        });
        assert_eq!(renders, [Some("alice".to_string()), None]);
        outbox.send();
        assert_eq!(&*alice.try_recv().unwrap(), r#"for Some("alice")"#);
        assert_eq!(&*first.try_recv().unwrap(), "for None");
        assert_eq!(&*second.try_recv().unwrap(), "for None");
    }

    #[test]
    fn a_watcher_that_falls_behind_is_dropped_and_the_others_keep_theirs() {
        let mut watchers = Watchers::default();
        let (_, mut slow) = watchers.add(Some("slow".into()));
        let (_, mut fast) = watchers.add(Some("fast".into()));
        for n in 0..=WATCHER_QUEUE {
            watchers.render_all(|_| Arc::from(n.to_string())).send();
            while fast.try_recv().is_ok() {}
        }
        // One message more than its queue holds: lagging, dropped at the next render.
        let mut rendered_for = Vec::new();
        watchers.render_all(|viewer| {
            rendered_for.push(viewer.unwrap().to_string());
            Arc::from("next")
        });
        assert_eq!(rendered_for, ["fast"]);
        assert_eq!(watchers.len(), 1);
        // The slow client still reads what was queued, then its stream ends.
        let mut queued = 0;
        while slow.try_recv().is_ok() {
            queued += 1;
        }
        assert_eq!(queued, WATCHER_QUEUE);
        assert!(slow.is_closed() || matches!(slow.try_recv(), Err(mpsc::error::TryRecvError::Disconnected)));
    }

    #[test]
    fn nothing_is_rendered_when_nobody_watches() {
        let mut watchers = Watchers::default();
        let (link, updates) = watchers.add(None);
        drop((link, updates));
        let outbox = watchers.render_all(|_| panic!("rendered for a watcher that is gone"));
        assert!(outbox.0.is_empty());
        assert_eq!(watchers.len(), 0);
    }
}
