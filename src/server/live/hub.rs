//! The per-room fan-out: every committed change is encoded into an SSE frame once, and the same
//! bytes are handed to every open stream of that room.
//!
//! How it stays fast with tens of thousands of streams:
//! - A frame is a [`Bytes`]: subscribers receive clones of a reference count, never copies.
//! - Each room has one `tokio::sync::broadcast` channel; publishing is one `send`, whatever the
//!   number of subscribers, and never waits for any of them.
//! - The map of rooms is behind a plain `std::sync::Mutex`, held only to look up or insert an
//!   entry, never across an `.await`.
//! - A subscriber that falls more than [`ROOM_BACKLOG`] frames behind is not buffered without
//!   bound: its receiver reports `Lagged`, and its stream refills the gap from the change log
//!   (`live::stream`), so a slow phone costs memory for nobody else.
//! - Presence (the online count) goes through a `watch` channel: a burst of joins wakes each
//!   subscriber for the latest count only, not once per join.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use super::sse;
use crate::model::{EventKind, Presence};
use crate::server::store::ChangeRow;

/// Frames a room keeps for subscribers that are behind. A subscriber further behind than this
/// loses the frames from its channel (and gets them again from the change log).
pub const ROOM_BACKLOG: usize = 1024;

/// One encoded change event.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The room version the change produced (the SSE id).
    pub version: i64,
    pub bytes: Bytes,
}

/// The fan-out of every room with at least one subscriber or one change since start.
#[derive(Debug, Default)]
pub struct Hub {
    rooms: Mutex<HashMap<String, Arc<RoomChannel>>>,
    /// Changes published since start (for `/metrics`).
    published: AtomicU64,
}

#[derive(Debug)]
struct RoomChannel {
    frames: broadcast::Sender<Frame>,
    /// Streams open on this room in this process.
    online: AtomicU64,
    /// The current `presence` frame.
    presence: watch::Sender<Bytes>,
    /// Cancelled when the room is deleted: its streams end.
    closed: CancellationToken,
    /// The users with a stream open on this room, and how many each has: the players present
    /// when a `turns` round starts.
    present: Mutex<HashMap<String, u32>>,
}

/// An open stream's hold on a room: its receivers, and its place in the online count (given back
/// when the subscription is dropped).
#[derive(Debug)]
pub struct Subscription {
    pub frames: broadcast::Receiver<Frame>,
    pub presence: watch::Receiver<Bytes>,
    /// Cancelled when the room is deleted.
    pub closed: CancellationToken,
    channel: Arc<RoomChannel>,
    user: Option<String>,
}

impl Hub {
    pub fn new() -> Hub {
        Hub::default()
    }

    fn channel(&self, slug: &str) -> Arc<RoomChannel> {
        let mut rooms = self
            .rooms
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        rooms
            .entry(slug.to_owned())
            .or_insert_with(|| {
                Arc::new(RoomChannel {
                    frames: broadcast::channel(ROOM_BACKLOG).0,
                    online: AtomicU64::new(0),
                    presence: watch::channel(presence_frame(0)).0,
                    closed: CancellationToken::new(),
                    present: Mutex::new(HashMap::new()),
                })
            })
            .clone()
    }

    /// Opens a subscription to a room's frames. Subscribe before reading the room's state, so
    /// that nothing committed in between is missed (duplicates are dropped by version).
    pub fn subscribe(&self, slug: &str) -> Subscription {
        self.subscribe_as(slug, None)
    }

    /// [`Hub::subscribe`], for a known user: they count as present in the room while it lasts.
    pub fn subscribe_as(&self, slug: &str, user: Option<&str>) -> Subscription {
        let channel = self.channel(slug);
        if let Some(user) = user {
            *lock(&channel.present).entry(user.to_owned()).or_default() += 1;
        }
        let frames = channel.frames.subscribe();
        let online = channel.online.fetch_add(1, Ordering::SeqCst) + 1;
        channel.presence.send_replace(presence_frame(online));
        Subscription {
            frames,
            presence: channel.presence.subscribe(),
            closed: channel.closed.clone(),
            channel,
            user: user.map(str::to_owned),
        }
    }

    /// Sends a committed change to every subscriber of its room. Call it in version order (the
    /// writer is held until this returns).
    pub fn publish(&self, slug: &str, change: &ChangeRow) {
        let frame = Frame {
            version: change.version,
            bytes: sse::event(change.kind, Some(change.version), &change.data),
        };
        // No subscriber is not an error: nobody is watching this room right now.
        let _ = self.channel(slug).frames.send(frame);
        self.published.fetch_add(1, Ordering::Relaxed);
    }

    /// Changes published since start.
    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }

    /// Ends every stream of a deleted room and forgets it.
    pub fn close_room(&self, slug: &str) {
        let removed = self
            .rooms
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .remove(slug);
        if let Some(channel) = removed {
            channel.closed.cancel();
        }
    }

    /// The users with a stream open on a room in this process, in no particular order.
    pub fn present_users(&self, slug: &str) -> Vec<String> {
        let channel = lock(&self.rooms).get(slug).cloned();
        channel.map_or_else(Vec::new, |channel| {
            lock(&channel.present).keys().cloned().collect()
        })
    }

    /// Streams open on a room in this process.
    pub fn online(&self, slug: &str) -> u64 {
        let rooms = self
            .rooms
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        rooms
            .get(slug)
            .map_or(0, |channel| channel.online.load(Ordering::SeqCst))
    }

    /// Streams open in this process, all rooms together.
    pub fn total_online(&self) -> u64 {
        let rooms = self
            .rooms
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        rooms
            .values()
            .map(|channel| channel.online.load(Ordering::SeqCst))
            .sum()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(user) = &self.user {
            let mut present = lock(&self.channel.present);
            if let Some(count) = present.get_mut(user) {
                *count -= 1;
                if *count == 0 {
                    present.remove(user);
                }
            }
        }
        let online = self
            .channel
            .online
            .fetch_sub(1, Ordering::SeqCst)
            .saturating_sub(1);
        self.channel.presence.send_replace(presence_frame(online));
    }
}

/// Locks a mutex that is only ever held for a map lookup: a panic elsewhere cannot leave the
/// map half-changed, so a poisoned lock is taken as it is.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

fn presence_frame(online: u64) -> Bytes {
    let data = serde_json::to_string(&Presence { online }).unwrap_or_default();
    sse::event(EventKind::Presence, None, &data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(version: i64) -> ChangeRow {
        ChangeRow {
            version,
            kind: EventKind::Word,
            data: format!("{{\"v\":{version}}}"),
        }
    }

    #[tokio::test]
    async fn every_subscriber_gets_the_same_bytes() {
        let hub = Hub::new();
        let mut a = hub.subscribe("main");
        let mut b = hub.subscribe("main");
        hub.publish("main", &change(1));
        let (fa, fb) = (
            a.frames.recv().await.unwrap(),
            b.frames.recv().await.unwrap(),
        );
        assert_eq!(fa.version, 1);
        // One encoding, shared: both point at the same allocation.
        assert_eq!(fa.bytes.as_ptr(), fb.bytes.as_ptr());
    }

    #[tokio::test]
    async fn rooms_are_separate() {
        let hub = Hub::new();
        let mut other = hub.subscribe("other");
        hub.publish("main", &change(1));
        assert!(other.frames.try_recv().is_err());
    }

    #[tokio::test]
    async fn closing_a_room_ends_its_subscriptions() {
        let hub = Hub::new();
        let subscription = hub.subscribe("gone");
        let other = hub.subscribe("main");
        hub.close_room("gone");
        assert!(subscription.closed.is_cancelled());
        assert!(!other.closed.is_cancelled());
        assert_eq!(hub.online("gone"), 0);
    }

    #[tokio::test]
    async fn presence_counts_open_subscriptions() {
        let hub = Hub::new();
        let a = hub.subscribe("main");
        let b = hub.subscribe("main");
        assert_eq!(hub.online("main"), 2);
        assert!(String::from_utf8_lossy(&a.presence.borrow()).contains("\"online\":2"));
        drop(b);
        assert_eq!(hub.online("main"), 1);
        assert!(String::from_utf8_lossy(&a.presence.borrow()).contains("\"online\":1"));
    }

    #[tokio::test]
    async fn the_users_present_are_those_with_a_stream_open() {
        let hub = Hub::new();
        let ana = hub.subscribe_as("main", Some("ana"));
        let ana_again = hub.subscribe_as("main", Some("ana"));
        let luis = hub.subscribe_as("main", Some("luis"));
        let _anonymous = hub.subscribe("main");
        let mut present = hub.present_users("main");
        present.sort();
        assert_eq!(present, ["ana", "luis"]);
        drop(ana);
        drop(luis);
        assert_eq!(hub.present_users("main"), ["ana"]);
        drop(ana_again);
        assert!(hub.present_users("main").is_empty());
        assert!(hub.present_users("elsewhere").is_empty());
    }
}
