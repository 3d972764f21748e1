//! The per-room fan-out: every committed change is encoded into an SSE frame once, and the same
//! bytes are handed to every open stream of that room.
//!
//! How it stays fast with tens of thousands of streams:
//! - A frame is a [`Bytes`]: subscribers receive clones of a reference count, never copies.
//! - Each room has one `tokio::sync::broadcast` channel; publishing is one `send`, whatever the
//!   number of subscribers, and never waits for any of them.
//! - That `send` wakes every stream of the room, and waking 10,000 of them takes milliseconds.
//!   Once the server runs, it is not done by the committing request: [`Hub::publish`] keeps the
//!   frame and the room's version at once (a `GET` right after a `POST` reads its own write),
//!   and hands the send to the hub's publisher, a thread that sends in the order it was handed
//!   (see [`Hub::start_publisher`]).
//! - A stream served on a connection of its own that is level with its room lends the room its
//!   socket while it waits (`live::seat`): the hub's fan-out threads write each frame to those
//!   sockets directly, and the channel's `send` wakes only the streams that are not waiting
//!   that way.
//! - The map of rooms is behind a plain `std::sync::Mutex`, held only to look up or insert an
//!   entry, never across an `.await`.
//! - A subscriber that falls more than [`ROOM_BACKLOG`] frames behind is not buffered without
//!   bound: its receiver reports `Lagged`, and its stream refills the gap from the change log
//!   (`live::stream`), so a slow phone costs memory for nobody else.
//! - Presence (the online count) is coalesced: a join or a leave only changes a counter, and the
//!   room's count is sent at most once per [`PRESENCE_INTERVAL`], so 10,000 joins do not wake
//!   10,000 streams 10,000 times. A new stream's first presence frame is counted fresh, itself
//!   included.
//! - Everything a stream waits for — changes, presence, heartbeats, the room's deletion, the
//!   server's shutdown — comes through that one channel ([`Message`]). A stream waits on one
//!   receiver and nothing else: waiting on more (a `watch`, cancellation tokens) would take each
//!   one's lock, shared by every stream of the room, on every wake-up of every stream, and a
//!   heartbeat timer of its own would be polled, and its waker stored, at every one of them.
//!   One clock for the whole process sends the heartbeats instead ([`Hub::send_heartbeats`]).
//! - A room's state (what `GET` and a stream's snapshot serve) is kept here once read, with its
//!   version: it is served from memory while no later change has been published, and read again
//!   from the database once, by one request, when one has ([`Hub::shared_state`]).
//! - Each room keeps its last [`RING_FRAMES`] encoded frames, in version order: a stream that
//!   resumes after `Last-Event-ID`, or falls behind, is refilled from them with no database
//!   round trip. Only a gap older than that reads the change log, one read per room at a time,
//!   and what it read is kept for the streams that need the same frames ([`Hub::frames_after`]).

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::seat::{self, FanoutThreads, Outgoing, Seat, Seats};
use super::sse;
use crate::model::{EventKind, Presence, RoomState};
use crate::server::store::ChangeRow;

/// Frames a room keeps for subscribers that are behind. A subscriber further behind than this
/// loses the frames from its channel (and gets them again from the change log).
pub const ROOM_BACKLOG: usize = 1024;

/// Frames a room keeps in memory, newest last, for streams that resume or fall behind.
pub const RING_FRAMES: usize = 1024;

/// Every open stream gets a heartbeat (a `: ping` comment) this often, which keeps idle
/// connections, and the proxies on their way, open; the contract asks for one every 15 s at
/// most.
pub const HEARTBEAT: Duration = Duration::from_secs(10);

/// A room's online count reaches its streams at most this often.
pub const PRESENCE_INTERVAL: Duration = Duration::from_millis(250);

/// What a room's channel carries to its streams.
#[derive(Debug, Clone)]
pub enum Message {
    /// A committed change.
    Change(Frame),
    /// The room's online count changed: its `presence` frame.
    Presence(Bytes),
    /// Time for a heartbeat ([`HEARTBEAT`]).
    Ping,
    /// The room was deleted, or the server is shutting down: its streams end.
    Closed,
}

/// One encoded change event.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The room version the change produced (the SSE id).
    pub version: i64,
    pub bytes: Bytes,
}

impl Frame {
    /// A committed change, encoded as its SSE event.
    pub fn of(change: &ChangeRow) -> Frame {
        Frame {
            version: change.version,
            bytes: sse::event(change.kind, Some(change.version), &change.data),
        }
    }
}

/// A room's state as everyone sees it (`host: false`), at its version: what `GET` of the room
/// and a stream's snapshot serve, with the host flag set per caller. It is encoded as JSON once,
/// for a guest and for the host, when it is read: serving it is a reference count, not a copy.
#[derive(Debug, Clone)]
pub struct SharedState {
    pub host_id: Option<String>,
    pub state: Arc<RoomState>,
    /// The JSON of the state as a guest sees it, and as the host does.
    json: [Bytes; 2],
}

impl SharedState {
    pub fn new(host_id: Option<String>, state: RoomState) -> serde_json::Result<SharedState> {
        let mut as_host = state.clone();
        as_host.host = true;
        let mut as_guest = state;
        as_guest.host = false;
        Ok(SharedState {
            json: [
                Bytes::from(serde_json::to_vec(&as_guest)?),
                Bytes::from(serde_json::to_vec(&as_host)?),
            ],
            host_id,
            state: Arc::new(as_guest),
        })
    }

    /// Whether `caller` is the room's host.
    pub fn is_host(&self, caller: &str) -> bool {
        self.host_id.as_deref() == Some(caller)
    }

    /// The state as `caller` sees it.
    pub fn for_caller(&self, caller: &str) -> RoomState {
        let mut state = RoomState::clone(&self.state);
        state.host = self.is_host(caller);
        state
    }

    /// [`SharedState::for_caller`] as JSON.
    pub fn json_for(&self, caller: &str) -> Bytes {
        self.json[usize::from(self.is_host(caller))].clone()
    }
}

/// The fan-out of every room with at least one subscriber or one change since start.
#[derive(Debug, Default)]
pub struct Hub {
    rooms: Mutex<HashMap<String, Arc<RoomChannel>>>,
    /// Changes published since start (for `/metrics`).
    published: AtomicU64,
    /// One read of a room's state at a time per room: the requests that find it out of date
    /// together wait for that one read.
    state_reads: Gates,
    /// One read of a room's change log at a time per room, likewise.
    log_reads: Gates,
    /// Change-log reads since start (for `/metrics`: replays memory could not serve).
    log_reads_done: AtomicU64,
    /// Room states read from the database since start (for `/metrics`, and to see the memory
    /// serve the rest).
    states_read: AtomicU64,
    /// Rooms deleted and kept states forgotten since start: a state read that overlaps either
    /// is not kept.
    invalidations: AtomicU64,
    /// With several processes (PostgreSQL): the rooms whose presence here changed since
    /// `live::presence` last wrote it down for the others.
    presence_changes: Option<Arc<PresenceChanges>>,
    /// Where published messages go to be sent to their rooms' streams, once
    /// [`Hub::start_publisher`] has started the publisher; until then they are sent at once.
    publisher: OnceLock<std::sync::mpsc::Sender<(Arc<RoomChannel>, Message)>>,
    /// The threads that write the rooms' lent seats (`live::seat`), once the publisher runs;
    /// until then whoever sends writes them.
    fanout: Arc<OnceLock<FanoutThreads>>,
}

/// Rooms whose presence in this process changed and is not yet shared.
#[derive(Debug, Default)]
pub struct PresenceChanges(Mutex<std::collections::HashSet<String>>);

impl PresenceChanges {
    fn note(&self, slug: &str) {
        let mut rooms = lock(&self.0);
        if !rooms.contains(slug) {
            rooms.insert(slug.to_owned());
        }
    }

    /// The rooms noted since the last call.
    pub fn take(&self) -> Vec<String> {
        lock(&self.0).drain().collect()
    }
}

/// Who has a room open in this process: its streams, and how many of them each user has.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LocalPresence {
    pub streams: u64,
    pub users: HashMap<String, u32>,
}

#[derive(Debug)]
struct RoomChannel {
    slug: String,
    messages: broadcast::Sender<Message>,
    /// Streams open on this room in this process.
    online: AtomicU64,
    /// Streams open on this room in the other processes sharing the database (`live::presence`).
    online_elsewhere: AtomicU64,
    /// Where a change of this room's presence is noted for the other processes, if any.
    presence_changes: Option<Arc<PresenceChanges>>,
    /// The online count last sent.
    presence_sent: Mutex<u64>,
    /// A presence frame is due: the count changed since the last one was sent.
    presence_due: AtomicBool,
    /// Cancelled when the room is deleted: its streams end.
    closed: CancellationToken,
    /// The last version published in this process (-1: none yet).
    latest: AtomicI64,
    /// The newest version this process knows to be committed, published or not yet (with
    /// PostgreSQL its own commits are published by the bus, a moment later): a kept state older
    /// than it is not served, so a writer reads its own change.
    committed: AtomicI64,
    /// The room's state as last read, if any.
    state: Mutex<Option<SharedState>>,
    /// The room's recent frames: consecutive versions, oldest first, at most [`RING_FRAMES`].
    ring: Mutex<VecDeque<Frame>>,
    /// Used (read, published to, subscribed to) since the last sweep of idle rooms.
    used: AtomicBool,
    /// The users with a stream open on this room, and how many each has: the players present
    /// when a `turns` round starts.
    present: Mutex<HashMap<String, u32>>,
    /// The sockets of the streams waiting for this room's next message (`live::seat`).
    seats: Arc<Seats>,
    /// The hub's fan-out threads, once started.
    fanout: Arc<OnceLock<FanoutThreads>>,
}

/// An open stream's hold on a room: its receivers, and its place in the online count (given back
/// when the subscription is dropped).
#[derive(Debug)]
pub struct Subscription {
    pub messages: broadcast::Receiver<Message>,
    /// Cancelled when the room is deleted.
    pub closed: CancellationToken,
    channel: Arc<RoomChannel>,
    user: Option<String>,
    /// Counted as online: not a viewer's (a projector's) stream.
    counted: bool,
}

impl Hub {
    pub fn new() -> Hub {
        Hub::default()
    }

    /// A hub whose presence is shared with other processes (PostgreSQL): every change of who
    /// has a room open is noted in the returned set, for `live::presence` to write down.
    pub fn sharing_presence() -> (Hub, Arc<PresenceChanges>) {
        let changes = Arc::new(PresenceChanges::default());
        let hub = Hub {
            presence_changes: Some(changes.clone()),
            ..Hub::default()
        };
        (hub, changes)
    }

    fn channel(&self, slug: &str) -> Arc<RoomChannel> {
        let mut rooms = self
            .rooms
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let channel = rooms
            .entry(slug.to_owned())
            .or_insert_with(|| {
                Arc::new(RoomChannel {
                    slug: slug.to_owned(),
                    messages: broadcast::channel(ROOM_BACKLOG).0,
                    online: AtomicU64::new(0),
                    online_elsewhere: AtomicU64::new(0),
                    presence_changes: self.presence_changes.clone(),
                    presence_sent: Mutex::new(0),
                    presence_due: AtomicBool::new(false),
                    closed: CancellationToken::new(),
                    latest: AtomicI64::new(-1),
                    committed: AtomicI64::new(-1),
                    state: Mutex::new(None),
                    ring: Mutex::new(VecDeque::new()),
                    used: AtomicBool::new(true),
                    present: Mutex::new(HashMap::new()),
                    seats: Arc::default(),
                    fanout: self.fanout.clone(),
                })
            })
            .clone();
        channel.used.store(true, Ordering::Relaxed);
        channel
    }

    /// Lets go of the rooms nobody has used since the last sweep: no stream open, nothing
    /// published or read. Their state is read again from the database when someone next asks.
    /// Returns how many rooms stay in memory.
    pub fn forget_idle_rooms(&self) -> usize {
        let mut rooms = lock(&self.rooms);
        rooms.retain(|_, channel| {
            // Held only by the map: no stream, no publication or read in progress.
            let unheld = Arc::strong_count(channel) == 1;
            let used = channel.used.swap(false, Ordering::Relaxed);
            !(unheld && !used && channel.online.load(Ordering::SeqCst) == 0)
        });
        rooms.len()
    }

    /// Opens a subscription to a room's frames. Subscribe before reading the room's state, so
    /// that nothing committed in between is missed (duplicates are dropped by version).
    pub fn subscribe(&self, slug: &str) -> Subscription {
        self.subscribe_as(slug, None, true)
    }

    /// [`Hub::subscribe`], for a known user: they count as present in the room while it lasts.
    /// A subscription of `user` (for the turns of a round), counted as online unless `counted`
    /// is false (a projector follows a room without being one of its players).
    pub fn subscribe_as(&self, slug: &str, user: Option<&str>, counted: bool) -> Subscription {
        let channel = self.channel(slug);
        if let Some(user) = user {
            *lock(&channel.present).entry(user.to_owned()).or_default() += 1;
        }
        let messages = channel.messages.subscribe();
        if counted {
            channel.online.fetch_add(1, Ordering::SeqCst);
            channel.presence_here_changed();
        }
        Subscription {
            messages,
            closed: channel.closed.clone(),
            channel,
            user: user.map(str::to_owned),
            counted,
        }
    }

    /// Starts the publisher: from now on a published message is sent to its room's streams by
    /// a thread of the hub's own, in the order it was published, rather than by whoever
    /// published it, so that the committing request answers without waiting for thousands of
    /// wake-ups. (A task on the streams' runtime was measured too: with 18,000 streams the
    /// runtime's own queues made the wake-ups later.) Only the first call starts one; the thread
    /// ends with the hub, once it has sent what was queued.
    pub fn start_publisher(&self) -> std::io::Result<()> {
        if self.fanout.get().is_none() {
            let _ = self.fanout.set(FanoutThreads::start()?);
        }
        let (queue, queued) = std::sync::mpsc::channel::<(Arc<RoomChannel>, Message)>();
        if self.publisher.set(queue).is_err() {
            return Ok(());
        }
        std::thread::Builder::new()
            .name("frase-publish".into())
            .spawn(move || {
                for (channel, message) in queued {
                    channel.deliver(message);
                }
            })
            .map(drop)
    }

    /// Sends `message` to the streams of `channel`'s room: through the publisher when it runs,
    /// otherwise (not started, or its thread could not start) at once. Either way in the order of
    /// the calls.
    fn send(&self, channel: &Arc<RoomChannel>, message: Message) {
        let message = match self.publisher.get() {
            Some(queue) => match queue.send((channel.clone(), message)) {
                Ok(()) => return,
                Err(std::sync::mpsc::SendError((_, message))) => message,
            },
            None => message,
        };
        channel.deliver(message);
    }

    /// Sends a committed change to every subscriber of its room. Call it in version order (the
    /// writer is held until this returns). The room's recent frames and version are updated
    /// before it returns; its streams are woken by the publisher (see [`Hub::start_publisher`]).
    pub fn publish(&self, slug: &str, change: &ChangeRow) {
        let frame = Frame::of(change);
        let channel = self.channel(slug);
        // Kept before it is sent: a stream that subscribed too late to receive it finds it here.
        channel.keep_newest(&frame);
        channel.latest.fetch_max(change.version, Ordering::SeqCst);
        self.send(&channel, Message::Change(frame));
        self.published.fetch_add(1, Ordering::Relaxed);
    }

    /// Sends a heartbeat to every open stream, in every room (call it every [`HEARTBEAT`]). A
    /// room nobody has open is left alone, and is not counted as used.
    pub fn send_heartbeats(&self) {
        let watched: Vec<Arc<RoomChannel>> = lock(&self.rooms)
            .values()
            .filter(|channel| channel.messages.receiver_count() > 0 || !channel.seats.is_empty())
            .cloned()
            .collect();
        for channel in watched {
            self.send(&channel, Message::Ping);
        }
    }

    /// Notes that a room's change at `version` is committed, before it is published (see
    /// `RoomChannel::committed`).
    pub fn note_committed(&self, slug: &str, version: i64) {
        self.channel(slug)
            .committed
            .fetch_max(version, Ordering::SeqCst);
    }

    /// The last version of a room published in this process: `None` if the room is not in
    /// memory (nobody here watches or read it), `Some(-1)` if nothing was published yet.
    pub fn latest_published(&self, slug: &str) -> Option<i64> {
        let channel = lock(&self.rooms).get(slug).cloned()?;
        Some(channel.latest.load(Ordering::SeqCst))
    }

    /// The rooms in memory.
    pub fn rooms_in_memory(&self) -> Vec<String> {
        lock(&self.rooms).keys().cloned().collect()
    }

    /// Changes published since start.
    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }

    /// The room's state from memory when no change has been published since it was read;
    /// otherwise `read` reads it from the database (one read per room at a time: whoever else
    /// needs it meanwhile waits for that read), and it is kept.
    pub async fn shared_state<E, F, Fut>(&self, slug: &str, read: F) -> Result<SharedState, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<SharedState, E>>,
    {
        if let Some(state) = self.current_state(slug) {
            return Ok(state);
        }
        let turn = self.state_reads.turn(slug).await;
        if let Some(state) = self.current_state(slug) {
            return Ok(state);
        }
        let invalidations = self.invalidations.load(Ordering::SeqCst);
        let state = read().await.inspect_err(|_| turn.failed())?;
        self.states_read.fetch_add(1, Ordering::Relaxed);
        // A room deleted (or a state forgotten) while it was read must not come back.
        if self.invalidations.load(Ordering::SeqCst) == invalidations {
            let channel = self.channel(slug);
            let mut kept = lock(&channel.state);
            if kept
                .as_ref()
                .is_none_or(|kept| kept.state.version <= state.state.version)
            {
                *kept = Some(state.clone());
            }
        }
        Ok(state)
    }

    /// The frames of a room after version `after`, up to the newest it has: from memory when
    /// the room's recent frames hold them, otherwise `read_log` reads them from the change log
    /// (one page of them; one read per room at a time, and what it read is kept for whoever
    /// needs the same frames next).
    pub async fn frames_after<E, F, Fut>(
        &self,
        slug: &str,
        after: i64,
        read_log: F,
    ) -> Result<Vec<Frame>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<ChangeRow>, E>>,
    {
        if let Some(frames) = self.kept_frames_after(slug, after) {
            return Ok(frames);
        }
        let turn = self.log_reads.turn(slug).await;
        if let Some(frames) = self.kept_frames_after(slug, after) {
            return Ok(frames);
        }
        let rows = read_log().await.inspect_err(|_| turn.failed())?;
        let frames: Vec<Frame> = rows.iter().map(Frame::of).collect();
        self.log_reads_done.fetch_add(1, Ordering::Relaxed);
        let channel = lock(&self.rooms).get(slug).cloned();
        if let Some(channel) = channel {
            channel.keep_read(&frames);
        }
        Ok(frames)
    }

    /// Whether memory holds every frame of a room after `after` (so a resume from there needs
    /// no database).
    pub fn holds_frames_after(&self, slug: &str, after: i64) -> bool {
        self.kept_frames_after(slug, after).is_some()
    }

    /// The frames after `after` up to the newest this process knows of (published, or the
    /// version of the kept state), if every one of them is in memory.
    fn kept_frames_after(&self, slug: &str, after: i64) -> Option<Vec<Frame>> {
        let channel = lock(&self.rooms).get(slug).cloned()?;
        channel.used.store(true, Ordering::Relaxed);
        let newest_known = channel
            .latest
            .load(Ordering::SeqCst)
            .max(channel.committed.load(Ordering::SeqCst))
            .max(
                lock(&channel.state)
                    .as_ref()
                    .map_or(-1, |kept| kept.state.version),
            );
        if newest_known < 0 || after > newest_known {
            return None;
        }
        if after == newest_known {
            return Some(Vec::new());
        }
        let ring = lock(&channel.ring);
        let (first, newest) = (ring.front()?.version, ring.back()?.version);
        if first > after + 1 || newest < newest_known {
            return None;
        }
        let skip = usize::try_from(after + 1 - first).ok()?;
        Some(ring.iter().skip(skip).cloned().collect())
    }

    /// Change-log reads since start (replays that memory could not serve).
    pub fn log_reads(&self) -> u64 {
        self.log_reads_done.load(Ordering::Relaxed)
    }

    /// The kept state of a room, if no change was published after it.
    fn current_state(&self, slug: &str) -> Option<SharedState> {
        let channel = lock(&self.rooms).get(slug).cloned()?;
        channel.used.store(true, Ordering::Relaxed);
        let kept = lock(&channel.state);
        let newest = channel
            .latest
            .load(Ordering::SeqCst)
            .max(channel.committed.load(Ordering::SeqCst));
        kept.as_ref()
            .filter(|kept| kept.state.version >= newest)
            .cloned()
    }

    /// Forgets every kept room state (a change that shows in every room, like a new display
    /// name on its author's words).
    pub fn forget_states(&self) {
        self.invalidations.fetch_add(1, Ordering::SeqCst);
        let channels: Vec<_> = lock(&self.rooms).values().cloned().collect();
        for channel in channels {
            *lock(&channel.state) = None;
        }
    }

    /// Room states read from the database since start.
    pub fn states_read(&self) -> u64 {
        self.states_read.load(Ordering::Relaxed)
    }

    /// Ends every stream of a deleted room and forgets it.
    pub fn close_room(&self, slug: &str) {
        self.invalidations.fetch_add(1, Ordering::SeqCst);
        let removed = self
            .rooms
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .remove(slug);
        if let Some(channel) = removed {
            // After the changes published before it.
            self.send(&channel, Message::Closed);
            channel.closed.cancel();
        }
    }

    /// Ends every stream of every room: the server is shutting down. (A stream that opens
    /// after this sees the shutdown itself.)
    pub fn close_all(&self) {
        let channels: Vec<_> = lock(&self.rooms).values().cloned().collect();
        for channel in channels {
            self.send(&channel, Message::Closed);
        }
    }

    /// The users with a stream open on a room in this process, in no particular order.
    pub fn present_users(&self, slug: &str) -> Vec<String> {
        let channel = lock(&self.rooms).get(slug).cloned();
        channel.map_or_else(Vec::new, |channel| {
            lock(&channel.present).keys().cloned().collect()
        })
    }

    /// Who has the room open in this process.
    pub fn local_presence(&self, slug: &str) -> LocalPresence {
        let Some(channel) = lock(&self.rooms).get(slug).cloned() else {
            return LocalPresence::default();
        };
        let users = lock(&channel.present).clone();
        LocalPresence {
            streams: channel.online.load(Ordering::SeqCst),
            users,
        }
    }

    /// The streams the other processes have open on the room (`live::presence`): its online
    /// count is theirs and this process's together. A room not in memory here is left alone.
    pub fn set_online_elsewhere(&self, slug: &str, streams: u64) {
        let Some(channel) = lock(&self.rooms).get(slug).cloned() else {
            return;
        };
        if channel.online_elsewhere.swap(streams, Ordering::SeqCst) != streams {
            channel.presence_changed();
        }
    }

    /// Whether `user` has a stream open on the room in this process.
    pub fn is_present(&self, slug: &str, user: &str) -> bool {
        let channel = lock(&self.rooms).get(slug).cloned();
        channel.is_some_and(|channel| lock(&channel.present).contains_key(user))
    }

    /// Streams open on a room, in this process and (with PostgreSQL) the others.
    pub fn online(&self, slug: &str) -> u64 {
        let rooms = self
            .rooms
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        rooms.get(slug).map_or(0, |channel| channel.online_count())
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
        if self.counted {
            self.channel.online.fetch_sub(1, Ordering::SeqCst);
            self.channel.presence_here_changed();
        }
    }
}

impl Subscription {
    /// Whether a change after `version` was published to this room: then it is in this
    /// subscription's channel, or on its way there. Reads one number, without the channel's lock.
    pub fn changes_after(&self, version: i64) -> bool {
        self.channel.latest.load(Ordering::SeqCst) > version
    }

    /// The room's presence frame as of now (the last one sent may be up to
    /// [`PRESENCE_INTERVAL`] old): what a new stream starts with.
    pub fn current_presence(&self) -> Bytes {
        presence_frame(self.channel.online_count())
    }

    /// Messages sent to the room so far: read before looking at the channel for the last
    /// time, it tells a stream about to lend its seat whether one went past it meanwhile.
    pub fn messages_sent(&self) -> u64 {
        self.channel.seats.sent()
    }

    /// Adds the stream's seat to the room's, once: from then on it is written whenever it is
    /// lent (`live::seat`).
    pub fn add_seat(&self, seat: Arc<Seat>) {
        self.channel.seats.add(seat);
    }

    /// Stops receiving the room's messages (while the seat is lent: they are written to it).
    /// What the channel kept for this subscription is let go of now, not read.
    pub fn stop_receiving(&mut self) {
        static NOTHING: OnceLock<broadcast::Sender<Message>> = OnceLock::new();
        self.messages = NOTHING.get_or_init(|| broadcast::channel(1).0).subscribe();
    }

    /// Receives the room's messages again, from now on.
    pub fn receive_again(&mut self) {
        self.messages = self.channel.messages.subscribe();
    }
}

impl RoomChannel {
    /// Sends `message` to the room's streams: those waiting on its channel, then the lent seats
    /// (`live::seat`), in this order, so that a stream lending its seat either finds the
    /// message in its channel, or sees it counted as sent and takes its seat back, or has its
    /// seat written.
    fn deliver(&self, message: Message) {
        // No subscriber is not an error: nobody is watching this room right now.
        let _ = self.messages.send(message.clone());
        self.seats.note_sent();
        if self.seats.is_empty() {
            return;
        }
        let out = outgoing(&message);
        match self.fanout.get() {
            Some(threads) => threads.hand(&self.seats, &out),
            None => seat::fan_out_here(&self.seats, &out),
        }
    }

    /// Adds a frame just published to the recent frames.
    fn keep_newest(&self, frame: &Frame) {
        let mut ring = lock(&self.ring);
        match ring.back() {
            // Already kept, read from the log before it was published.
            Some(back) if frame.version <= back.version => return,
            // Not the next one (published elsewhere, or never seen): start again from it.
            Some(back) if frame.version != back.version + 1 => ring.clear(),
            _ => {}
        }
        if ring.len() == RING_FRAMES {
            ring.pop_front();
        }
        ring.push_back(frame.clone());
    }

    /// Adds consecutive frames read from the change log where they join the recent frames:
    /// those older than the oldest kept in front (while there is room), those newer than the
    /// newest kept after it, or all of them when none is kept yet.
    fn keep_read(&self, frames: &[Frame]) {
        let (Some(first), Some(last)) = (frames.first(), frames.last()) else {
            return;
        };
        if frames
            .windows(2)
            .any(|pair| pair[1].version != pair[0].version + 1)
        {
            return;
        }
        let mut ring = lock(&self.ring);
        let (Some(oldest), Some(newest)) = (
            ring.front().map(|frame| frame.version),
            ring.back().map(|frame| frame.version),
        ) else {
            ring.extend(frames.iter().rev().take(RING_FRAMES).rev().cloned());
            return;
        };
        if first.version < oldest && last.version + 1 >= oldest {
            for frame in frames.iter().rev().filter(|frame| frame.version < oldest) {
                if ring.len() == RING_FRAMES {
                    break;
                }
                ring.push_front(frame.clone());
            }
        }
        if last.version > newest && first.version <= newest + 1 {
            for frame in frames.iter().filter(|frame| frame.version > newest) {
                if ring.len() == RING_FRAMES {
                    ring.pop_front();
                }
                ring.push_back(frame.clone());
            }
        }
    }

    /// The room's online count: its streams here and in the other processes.
    fn online_count(&self) -> u64 {
        self.online.load(Ordering::SeqCst) + self.online_elsewhere.load(Ordering::SeqCst)
    }

    /// Who has the room open here changed: noted for the other processes, if any.
    fn presence_here_changed(self: &Arc<Self>) {
        if let Some(changes) = &self.presence_changes {
            changes.note(&self.slug);
        }
        self.presence_changed();
    }

    /// The online count changed: its frame goes out at the end of the current interval (one
    /// timer per room, whatever the number of joins and leaves in it).
    fn presence_changed(self: &Arc<Self>) {
        if self.presence_due.swap(true, Ordering::SeqCst) {
            return; // already due
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.send_presence();
            return;
        };
        let channel = Arc::downgrade(self);
        runtime.spawn(async move {
            tokio::time::sleep(PRESENCE_INTERVAL).await;
            if let Some(channel) = channel.upgrade() {
                channel.send_presence();
            }
        });
    }

    fn send_presence(&self) {
        self.presence_due.store(false, Ordering::SeqCst);
        let online = self.online_count();
        let mut sent = lock(&self.presence_sent);
        if *sent != online {
            *sent = online;
            self.deliver(Message::Presence(presence_frame(online)));
        }
    }
}

/// One database read at a time per room: whoever needs the same room's read while it runs waits
/// for it, then finds its result in memory. A read that fails lets the waiting ones go ahead on
/// their own, so that a fault is not waited out one request at a time.
#[derive(Debug, Default)]
struct Gates(Mutex<HashMap<String, Arc<Gate>>>);

#[derive(Debug, Default)]
struct Gate {
    turn: Arc<tokio::sync::Mutex<()>>,
    /// Reads under this gate that failed.
    failures: AtomicU64,
}

/// A room's turn to read (or, after a failure while it waited, leave to read without one).
struct Turn<'a> {
    gates: &'a Gates,
    slug: &'a str,
    gate: Arc<Gate>,
    held: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Gates {
    async fn turn<'a>(&'a self, slug: &'a str) -> Turn<'a> {
        let gate = lock(&self.0).entry(slug.to_owned()).or_default().clone();
        let failures = gate.failures.load(Ordering::SeqCst);
        let held = gate.turn.clone().lock_owned().await;
        let failed_meanwhile = gate.failures.load(Ordering::SeqCst) != failures;
        Turn {
            gates: self,
            slug,
            held: (!failed_meanwhile).then_some(held),
            gate,
        }
    }
}

impl Turn<'_> {
    /// The read failed: whoever waits for this room's turn goes ahead.
    fn failed(&self) {
        self.gate.failures.fetch_add(1, Ordering::SeqCst);
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.held.take();
        let mut gates = lock(&self.gates.0);
        // Ours and the map's: nobody else is waiting on this room's gate.
        if Arc::strong_count(&self.gate) == 2
            && gates
                .get(self.slug)
                .is_some_and(|gate| Arc::ptr_eq(gate, &self.gate))
        {
            gates.remove(self.slug);
        }
    }
}

/// Locks a mutex that is only ever held for a map lookup: a panic elsewhere cannot leave the
/// map half-changed, so a poisoned lock is taken as it is.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// A message as it is written to the lent seats: its frame as one chunk, encoded once.
fn outgoing(message: &Message) -> Outgoing {
    let (version, frame) = match message {
        Message::Change(frame) => (Some(frame.version), &frame.bytes[..]),
        Message::Presence(frame) => {
            return Outgoing::Presence {
                chunk: Bytes::from(seat::chunk(frame)),
                frame: frame.clone(),
            };
        }
        Message::Ping => (None, sse::PING),
        Message::Closed => return Outgoing::End,
    };
    Outgoing::Frame {
        version,
        chunk: Bytes::from(seat::chunk(frame)),
    }
}

fn presence_frame(online: u64) -> Bytes {
    let data = serde_json::to_string(&Presence { online }).unwrap_or_default();
    sse::event(EventKind::Presence, None, &data)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A word change at `version`.
    pub(crate) fn change(version: i64) -> ChangeRow {
        ChangeRow {
            version,
            kind: EventKind::Word,
            data: format!("{{\"v\":{version}}}"),
        }
    }

    /// The next change a subscription receives (presence is passed over).
    pub(crate) async fn next_change(subscription: &mut Subscription) -> Frame {
        loop {
            match subscription.messages.recv().await.unwrap() {
                Message::Change(frame) => return frame,
                Message::Presence(_) | Message::Ping => {}
                Message::Closed => panic!("closed"),
            }
        }
    }

    /// The next presence frame a subscription receives, as text.
    async fn next_presence(subscription: &mut Subscription) -> String {
        loop {
            if let Message::Presence(frame) = subscription.messages.recv().await.unwrap() {
                return String::from_utf8_lossy(&frame).into_owned();
            }
        }
    }

    #[tokio::test]
    async fn every_subscriber_gets_the_same_bytes() {
        let hub = Hub::new();
        let mut a = hub.subscribe("main");
        let mut b = hub.subscribe("main");
        hub.publish("main", &change(1));
        let (fa, fb) = (next_change(&mut a).await, next_change(&mut b).await);
        assert_eq!(fa.version, 1);
        // One encoding, shared: both point at the same allocation.
        assert_eq!(fa.bytes.as_ptr(), fb.bytes.as_ptr());
    }

    #[tokio::test]
    async fn a_heartbeat_reaches_every_open_stream_and_leaves_unwatched_rooms_alone() {
        let hub = Hub::new();
        let mut a = hub.subscribe("a");
        let mut b = hub.subscribe("b");
        let mut c = hub.subscribe("b");
        hub.shared_state("unwatched", || async { Ok::<_, ()>(state_at(0)) })
            .await
            .unwrap();
        // The sweep that follows start: every room was used since.
        assert_eq!(hub.forget_idle_rooms(), 3);
        hub.send_heartbeats();
        for subscription in [&mut a, &mut b, &mut c] {
            let ping = loop {
                match subscription.messages.try_recv() {
                    Ok(Message::Presence(_)) => {}
                    other => break other,
                }
            };
            assert!(matches!(ping, Ok(Message::Ping)), "{ping:?}");
        }
        // The room nobody watches was neither pinged nor marked as used by the heartbeat.
        assert_eq!(hub.forget_idle_rooms(), 2);
    }

    #[tokio::test]
    async fn rooms_are_separate() {
        let hub = Hub::new();
        let mut other = hub.subscribe("other");
        hub.publish("main", &change(1));
        hub.publish("other", &change(7));
        assert_eq!(next_change(&mut other).await.version, 7);
    }

    #[tokio::test]
    async fn closing_a_room_ends_its_subscriptions() {
        let hub = Hub::new();
        let mut subscription = hub.subscribe("gone");
        let mut other = hub.subscribe("main");
        hub.close_room("gone");
        assert!(subscription.closed.is_cancelled());
        assert!(matches!(
            subscription.messages.recv().await,
            Ok(Message::Closed)
        ));
        assert!(!other.closed.is_cancelled());
        // The other room goes on: its next message is its next change, not `Closed`.
        hub.publish("main", &change(3));
        assert_eq!(next_change(&mut other).await.version, 3);
        assert_eq!(hub.online("gone"), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_publisher_sends_in_order_after_the_room_is_current() {
        let hub = Hub::new();
        hub.start_publisher().unwrap();
        let mut main = hub.subscribe("main");
        let mut other = hub.subscribe("other");
        // Fewer than a channel holds: nobody lags, every change comes through the channel.
        let changes = i64::try_from(ROOM_BACKLOG).unwrap() - 24;
        for version in 1..=changes {
            hub.publish("main", &change(version));
            hub.publish("other", &change(version));
            // What a `GET` right after the `POST` serves: already this version.
            assert_eq!(hub.latest_published("main"), Some(version));
            assert_eq!(
                hub.kept_frames_after("main", version - 1)
                    .map(|frames| versions(&frames)),
                Some(vec![version])
            );
        }
        hub.close_room("main");
        for version in 1..=changes {
            assert_eq!(next_change(&mut main).await.version, version);
            assert_eq!(next_change(&mut other).await.version, version);
        }
        // `Closed` comes after every change published before the room was deleted.
        loop {
            match main.messages.recv().await.unwrap() {
                Message::Presence(_) | Message::Ping => {}
                Message::Closed => break,
                Message::Change(frame) => panic!("change {} after the last", frame.version),
            }
        }
        assert_eq!(hub.published(), 2 * changes as u64);
    }

    #[tokio::test]
    async fn a_shutdown_closes_every_room() {
        let hub = Hub::new();
        let mut rooms = [hub.subscribe("a"), hub.subscribe("b")];
        hub.close_all();
        for subscription in &mut rooms {
            assert!(matches!(
                subscription.messages.recv().await,
                Ok(Message::Closed)
            ));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn presence_counts_open_subscriptions() {
        let hub = Hub::new();
        let mut a = hub.subscribe("main");
        let b = hub.subscribe("main");
        assert_eq!(hub.online("main"), 2);
        assert!(String::from_utf8_lossy(&b.current_presence()).contains("\"online\":2"));
        assert!(next_presence(&mut a).await.contains("\"online\":2"));
        drop(b);
        assert_eq!(hub.online("main"), 1);
        assert!(next_presence(&mut a).await.contains("\"online\":1"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_joins_is_one_presence_frame() {
        let hub = Hub::new();
        let mut watcher = hub.subscribe("main");
        assert!(next_presence(&mut watcher).await.contains("\"online\":1"));
        tokio::time::sleep(PRESENCE_INTERVAL * 2).await;
        let started = tokio::time::Instant::now();
        let joined: Vec<_> = (0..10_000).map(|_| hub.subscribe("main")).collect();
        assert!(
            next_presence(&mut watcher)
                .await
                .contains("\"online\":10001")
        );
        assert_eq!(started.elapsed(), PRESENCE_INTERVAL);
        // Nothing more until the count changes again.
        tokio::time::sleep(PRESENCE_INTERVAL * 4).await;
        assert!(watcher.messages.try_recv().is_err());
        drop(joined);
        assert!(next_presence(&mut watcher).await.contains("\"online\":1"));
    }

    fn state_at(version: i64) -> SharedState {
        SharedState::new(
            Some("host".into()),
            RoomState {
                slug: "main".into(),
                title: "main".into(),
                version,
                host: false,
                settings: Default::default(),
                sentence: crate::model::SentenceView {
                    id: 1,
                    words: Vec::new(),
                },
                finished_sentences: 0,
                turn: None,
            },
        )
        .unwrap()
    }

    #[tokio::test]
    async fn a_state_is_read_once_and_again_only_after_a_change() {
        let hub = Hub::new();
        let reads = AtomicU64::new(0);
        let version = AtomicI64::new(0);
        let read = || async {
            reads.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ()>(state_at(version.load(Ordering::SeqCst)))
        };
        // Many at once: one read.
        let states =
            futures::future::join_all((0..50).map(|_| hub.shared_state("main", read))).await;
        assert!(
            states
                .iter()
                .all(|state| state.as_ref().unwrap().state.version == 0)
        );
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        let host = hub.shared_state("main", read).await.unwrap();
        assert!(host.for_caller("host").host);
        assert!(!host.for_caller("guest").host);
        // The JSON each is served is that state's.
        for caller in ["host", "guest"] {
            assert_eq!(
                host.json_for(caller),
                serde_json::to_vec(&host.for_caller(caller)).unwrap()
            );
        }
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        // A change is published: the next one reads, once.
        version.store(1, Ordering::SeqCst);
        hub.publish("main", &change(1));
        for _ in 0..3 {
            assert_eq!(
                hub.shared_state("main", read).await.unwrap().state.version,
                1
            );
        }
        assert_eq!(reads.load(Ordering::SeqCst), 2);
        // Forgotten (a rename): read again.
        hub.forget_states();
        hub.shared_state("main", read).await.unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 3);
        // A room that is not there is not kept.
        let missing = hub
            .shared_state("gone", || async { Err::<SharedState, _>("no room") })
            .await;
        assert!(missing.is_err());
        assert_eq!(hub.rooms.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_deleted_room_is_not_served_from_memory() {
        let hub = Hub::new();
        hub.shared_state("gone", || async { Ok::<_, ()>(state_at(0)) })
            .await
            .unwrap();
        hub.close_room("gone");
        let again = hub
            .shared_state("gone", || async { Err::<SharedState, _>("no room") })
            .await;
        assert!(again.is_err());
    }

    #[tokio::test]
    async fn rooms_nobody_uses_leave_memory() {
        let hub = Hub::new();
        hub.shared_state("idle", || async { Ok::<_, ()>(state_at(0)) })
            .await
            .unwrap();
        let watched = hub.subscribe("watched");
        assert_eq!(hub.forget_idle_rooms(), 2, "both were used since start");
        assert_eq!(hub.forget_idle_rooms(), 1, "the idle one is gone");
        assert_eq!(hub.online("watched"), 1);
        drop(watched);
        hub.forget_idle_rooms();
        assert_eq!(hub.forget_idle_rooms(), 0);
    }

    #[tokio::test]
    async fn the_users_present_are_those_with_a_stream_open() {
        let hub = Hub::new();
        let ana = hub.subscribe_as("main", Some("ana"), true);
        let ana_again = hub.subscribe_as("main", Some("ana"), true);
        let luis = hub.subscribe_as("main", Some("luis"), true);
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

    fn versions(frames: &[Frame]) -> Vec<i64> {
        frames.iter().map(|frame| frame.version).collect()
    }

    #[tokio::test]
    async fn a_resume_within_the_recent_frames_reads_no_log() {
        let hub = Hub::new();
        for version in 1..=5 {
            hub.publish("main", &change(version));
        }
        let no_log = || async { Err::<Vec<ChangeRow>, _>("the log was read") };
        assert_eq!(
            versions(&hub.frames_after("main", 2, no_log).await.unwrap()),
            [3, 4, 5]
        );
        assert!(
            hub.frames_after("main", 5, no_log)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(hub.holds_frames_after("main", 0));
        // The same bytes as the live frames, encoded once.
        let frames = hub.frames_after("main", 4, no_log).await.unwrap();
        assert_eq!(&frames[0].bytes[..], &Frame::of(&change(5)).bytes[..]);
        assert_eq!(hub.log_reads(), 0);
        // Past what the room ever had, or a room never seen: the database decides.
        assert!(!hub.holds_frames_after("main", 6));
        assert!(!hub.holds_frames_after("other", 0));
    }

    #[tokio::test]
    async fn only_the_last_frames_are_kept() {
        let hub = Hub::new();
        let total = RING_FRAMES as i64 + 10;
        for version in 1..=total {
            hub.publish("main", &change(version));
        }
        assert!(hub.holds_frames_after("main", 10));
        assert!(!hub.holds_frames_after("main", 9));
        let log = || async { Ok::<_, ()>((10..=12).map(change).collect()) };
        // Older than the ring: read from the log, and kept in front of it.
        assert_eq!(
            versions(&hub.frames_after("main", 9, log).await.unwrap()),
            [10, 11, 12]
        );
        assert_eq!(hub.log_reads(), 1);
        // The ring is full: what was read is not kept beyond it.
        assert!(!hub.holds_frames_after("main", 9));
    }

    #[tokio::test]
    async fn a_log_read_is_shared_by_the_streams_that_need_it() {
        let hub = Hub::new();
        // A process that just started: the room's state is kept at version 30, no frame yet.
        hub.shared_state("main", || async { Ok::<_, ()>(state_at(30)) })
            .await
            .unwrap();
        assert!(hub.holds_frames_after("main", 30), "level with the state");
        assert!(!hub.holds_frames_after("main", 20));
        let reads = AtomicU64::new(0);
        let log = |after: i64| {
            let reads = &reads;
            move || async move {
                reads.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
                Ok::<_, ()>(((after + 1)..=30).map(change).collect())
            }
        };
        let resumed =
            futures::future::join_all((0..50).map(|_| hub.frames_after("main", 20, log(20)))).await;
        assert!(
            resumed
                .iter()
                .all(|frames| versions(frames.as_ref().unwrap()) == (21..=30).collect::<Vec<_>>())
        );
        assert_eq!(reads.load(Ordering::SeqCst), 1, "fifty streams, one read");
        // What it read is kept, and new frames join it.
        hub.publish("main", &change(31));
        assert_eq!(
            versions(&hub.frames_after("main", 25, log(25)).await.unwrap()),
            [26, 27, 28, 29, 30, 31]
        );
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        assert_eq!(hub.log_reads(), 1);
    }

    #[tokio::test]
    async fn a_gap_in_what_is_published_starts_the_frames_again() {
        let hub = Hub::new();
        hub.publish("main", &change(1));
        hub.publish("main", &change(2));
        // Version 3 never reached this process.
        hub.publish("main", &change(4));
        assert!(hub.holds_frames_after("main", 3));
        assert!(!hub.holds_frames_after("main", 2));
        let log = || async { Ok::<_, ()>(vec![change(3), change(4)]) };
        assert_eq!(
            versions(&hub.frames_after("main", 2, log).await.unwrap()),
            [3, 4]
        );
        // A frame published twice (read from the log first) is kept once.
        hub.publish("main", &change(4));
        hub.publish("main", &change(5));
        let no_log = || async { Err::<Vec<ChangeRow>, _>("the log was read") };
        assert_eq!(
            versions(&hub.frames_after("main", 2, no_log).await.unwrap()),
            [3, 4, 5]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_read_lets_the_waiting_ones_go_ahead() {
        let hub = Hub::new();
        // Memory holds version 100 only: resuming after 10 needs the log.
        hub.publish("main", &change(100));
        let started = tokio::time::Instant::now();
        let failing = || async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            Err::<Vec<ChangeRow>, _>("pool timed out")
        };
        let results =
            futures::future::join_all((0..20).map(|_| hub.frames_after("main", 10, failing))).await;
        assert!(results.iter().all(Result::is_err));
        // The first read fails after 10 s; the 19 waiting then read side by side.
        assert_eq!(started.elapsed(), Duration::from_secs(20), "not 20 × 10 s");
        assert!(lock(&hub.log_reads.0).is_empty(), "no gate left behind");
    }
}
