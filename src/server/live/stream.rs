//! One subscriber's event stream: where it starts (snapshot or replay after `Last-Event-ID`),
//! then every live change exactly once and in version order, presence, and heartbeats.
//!
//! While it waits, a stream whose connection writes its frames itself lends its socket to the
//! room, which writes the frames that follow straight to it until it hands the socket back
//! (`live::seat`).
//!
//! A stream never ends on a storage fault (a busy pool, a locked database): what it needed is
//! tried again, waiting longer each time, and the stream keeps its place. It ends only when the
//! server shuts down, the room is deleted, or the client leaves.

use std::convert::Infallible;
use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::Stream;
use futures::future::BoxFuture;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio_util::sync::CancellationToken;

use super::hub::{Frame, Hub, Message, Subscription};
use super::seat::{Leave, Seat};
use super::sse;
use crate::model::EventKind;
use crate::server::store::{self, Store, StoreError};

/// How many changes one replay query reads.
const REPLAY_PAGE: i64 = 500;
/// The most bytes of frames handed over as one (one write) by a stream catching up.
const MOST_BYTES_PER_WRITE: usize = 64 * 1024;
/// The first wait after a storage fault; it doubles up to [`MOST_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MOST_BACKOFF: Duration = Duration::from_secs(2);

/// How a stream begins.
pub struct StreamStart {
    pub slug: String,
    /// Whose stream this is: they count as present in the room while it is open.
    pub user: Option<String>,
    /// Counted as online (a viewer's stream, a projector's, is not).
    pub counted: bool,
    /// The last version the client has seen, from `Last-Event-ID` (or `?last_event_id=`).
    pub last_event_id: Option<i64>,
    /// The `retry:` the stream opens with.
    pub retry: Duration,
    /// The connection's socket, for the stream to lend its room while it waits (`live::seat`),
    /// when the connection writes the stream's frames itself.
    pub seat: Option<Arc<Seat>>,
}

/// Takes a room state snapshot, for a stream that starts without a usable `Last-Event-ID`:
/// (version, room state JSON). Called only after the stream has subscribed, and again if it
/// fails.
pub type Snapshot = Box<dyn Fn() -> BoxFuture<'static, Result<(i64, Bytes), String>> + Send + Sync>;

/// Runs `attempt` until it succeeds, waiting [`FIRST_BACKOFF`], then twice as long each time
/// up to [`MOST_BACKOFF`]; `None` once one of `stops` is cancelled.
pub async fn until_ok<T, E, F, Fut>(
    what: &str,
    stops: [&CancellationToken; 2],
    mut attempt: F,
) -> Option<T>
where
    E: Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut wait = FIRST_BACKOFF;
    loop {
        match attempt().await {
            Ok(value) => return Some(value),
            Err(error) => {
                tracing::debug!(%error, "{what} failed; trying again in {wait:?}");
                tokio::select! {
                    () = stops[0].cancelled() => return None,
                    () = stops[1].cancelled() => return None,
                    () = tokio::time::sleep(wait) => {}
                }
                wait = (wait * 2).min(MOST_BACKOFF);
            }
        }
    }
}

enum Begin {
    Replay { after: i64 },
    Snapshot,
}

/// Decides whether `last_event_id` can be replayed: from memory when the room's recent frames
/// hold everything after it, otherwise from the change log.
async fn begin(
    hub: &Hub,
    store: &Store,
    slug: &str,
    last_event_id: Option<i64>,
) -> Result<Begin, StoreError> {
    let Some(after) = last_event_id else {
        return Ok(Begin::Snapshot);
    };
    if hub.holds_frames_after(slug, after) {
        return Ok(Begin::Replay { after });
    }
    let mut conn = store.read().await?;
    let Some(room) = store::room(&mut conn, slug).await? else {
        return Ok(Begin::Snapshot);
    };
    if after < 0 || after > room.version {
        // A version this room never had (another database, a reset): start over.
        return Ok(Begin::Snapshot);
    }
    let oldest = store::oldest_change_version(&mut conn, slug).await?;
    match oldest {
        Some(oldest) if oldest > after + 1 => Ok(Begin::Snapshot),
        _ => Ok(Begin::Replay { after }),
    }
}

/// The frames after `after`: from the room's recent frames, or one page of the change log.
async fn frames_after(
    hub: &Hub,
    store: &Store,
    slug: &str,
    after: i64,
) -> Result<Vec<Frame>, StoreError> {
    hub.frames_after(slug, after, || async {
        let mut conn = store.read().await?;
        store::changes_after(&mut conn, slug, after, REPLAY_PAGE).await
    })
    .await
}

/// The event stream of one subscriber, as the body of a `text/event-stream` response. It ends
/// when `shutdown` is cancelled, the room is deleted, or the body is dropped.
pub fn event_stream(
    hub: Arc<Hub>,
    store: Store,
    start: StreamStart,
    snapshot: Snapshot,
    shutdown: CancellationToken,
) -> impl Stream<Item = Result<Bytes, Infallible>> {
    // The database reads below are boxed while they run: inline, the largest of them would
    // size the stream's state for as long as it is open, which is mostly waiting for frames.
    async_stream::stream! {
        let StreamStart { slug, user, counted, last_event_id, retry, seat } = start;
        // However the stream ends, nobody writes to its socket after it.
        let _leave = seat.clone().map(Leave);
        // The seat is among the room's.
        let mut seated = false;
        // Subscribe first: whatever commits from here on reaches us, live or through the log.
        let mut subscription = hub.subscribe_as(&slug, user.as_deref(), counted);
        // A shutdown that began before we subscribed sent its `Closed` before we could see it.
        if shutdown.is_cancelled() {
            return;
        }
        yield Ok(sse::retry(retry.as_millis() as u64));

        let closed = subscription.closed.clone();
        let stops = [&shutdown, &closed];
        let Some(start) = Box::pin(until_ok("event stream start", stops, || begin(&hub, &store, &slug, last_event_id))).await else {
            return;
        };
        let mut last = match start {
            Begin::Replay { after } => after,
            Begin::Snapshot => {
                let Some((version, state)) = Box::pin(until_ok("event stream snapshot", stops, &snapshot)).await else {
                    return;
                };
                yield Ok(sse::event(EventKind::Snapshot, Some(version), &String::from_utf8_lossy(&state)));
                version
            }
        };
        // Whatever was committed after `last` before we subscribed, or while we read the snapshot.
        let mut behind = true;
        // The room's count as this stream last sent it: the room's next presence frame, which
        // this stream's own arrival set off, is not sent again when it says the same.
        let mut presence_sent = subscription.current_presence();
        yield Ok(presence_sent.clone());
        // A message taken from the channel while gathering, that the loop deals with next.
        let mut held = None;

        loop {
            if behind {
                // Refill from memory or the change log, page by page, until we are level.
                let Some(frames) = Box::pin(until_ok("event stream refill", stops, || frames_after(&hub, &store, &slug, last))).await else {
                    return;
                };
                behind = frames.len() >= REPLAY_PAGE as usize;
                // As few writes as the frames fit in.
                let mut batch = BytesMut::new();
                for frame in frames {
                    last = frame.version;
                    batch.extend_from_slice(&frame.bytes);
                    if batch.len() >= MOST_BYTES_PER_WRITE {
                        yield Ok(batch.split().freeze());
                    }
                }
                if !batch.is_empty() {
                    yield Ok(batch.freeze());
                }
                continue;
            }
            // Only the room's channel: heartbeats, shutdown and deletion come through it too
            // (see `hub`). A stream with a seat waits with it lent instead, the room writing to
            // its socket (`live::seat`), once the channel has nothing more for it.
            let received = match (held.take(), &seat) {
                (Some(received), _) => received,
                (None, Some(seat)) if seat.is_active() => {
                    let sent = subscription.messages_sent();
                    match subscription.messages.try_recv() {
                        Ok(message) => Ok(message),
                        Err(TryRecvError::Lagged(missed)) => Err(RecvError::Lagged(missed)),
                        Err(TryRecvError::Closed) => Err(RecvError::Closed),
                        // Level, nothing to write: the room writes to the socket meanwhile.
                        Err(TryRecvError::Empty) => {
                            let Some(handed_back) = sit(seat, &mut subscription, &mut seated, last, &presence_sent, sent, stops).await else {
                                return;
                            };
                            if let Some(delivered) = handed_back {
                                // Written up to `delivered`; the count may have changed
                                // since the room last wrote it.
                                last = delivered;
                                presence_sent = seat.presence();
                                let now = subscription.current_presence();
                                if now != presence_sent {
                                    presence_sent = now.clone();
                                    yield Ok(now);
                                } else if seat.has_pending() {
                                    // For the connection to write the rest of the room's chunk.
                                    yield Ok(Bytes::new());
                                }
                                behind = true;
                            }
                            continue;
                        }
                    }
                }
                (None, _) => subscription.messages.recv().await,
            };
            match received {
                // Already sent (from the snapshot or the log).
                Ok(Message::Change(frame)) if frame.version <= last => {}
                Ok(Message::Change(frame)) if frame.version == last + 1 => {
                    last = frame.version;
                    if !subscription.changes_after(last) {
                        yield Ok(frame.bytes);
                        continue;
                    }
                    // Behind: what is already waiting goes out with it, as one write.
                    let mut batch = BytesMut::from(&frame.bytes[..]);
                    (last, held) = gather(&mut subscription, last, &mut presence_sent, &mut batch);
                    yield Ok(batch.freeze());
                }
                // A gap: this frame is ahead of what we have sent, fill in from the log.
                Ok(Message::Change(_)) | Err(RecvError::Lagged(_)) => behind = true,
                Ok(Message::Presence(frame)) if frame == presence_sent => {}
                Ok(Message::Presence(frame)) => {
                    presence_sent = frame.clone();
                    yield Ok(frame);
                }
                Ok(Message::Ping) => {
                    if shutdown.is_cancelled() {
                        return;
                    }
                    yield Ok(Bytes::from_static(sse::PING));
                }
                Ok(Message::Closed) | Err(RecvError::Closed) => return,
            }
        }
    }
}

/// Lends `seat` to the room while the stream waits, `last` being the last version written,
/// `presence_sent` the last presence frame, and `sent` the room's count of messages sent when
/// the stream last looked at its channel.
/// `Some(None)` when the stream took the seat straight back (a message went past it meanwhile,
/// and waits in its channel); `Some(Some(version))` when the room handed it back, having written
/// up to `version` (what came after is for the stream to send, any pending rest of a chunk
/// first); `None` when the stream is to end.
async fn sit(
    seat: &Arc<Seat>,
    subscription: &mut Subscription,
    seated: &mut bool,
    last: i64,
    presence_sent: &Bytes,
    sent: u64,
    stops: [&CancellationToken; 2],
) -> Option<Option<i64>> {
    if stops.iter().any(|stop| stop.is_cancelled()) {
        return None;
    }
    if !*seated {
        *seated = true;
        subscription.add_seat(seat.clone());
    }
    if !seat.park(last, presence_sent) {
        // Gone: the connection is closing.
        return None;
    }
    if subscription.messages_sent() != sent && seat.unpark() {
        return Some(None);
    }
    subscription.stop_receiving();
    tokio::select! {
        () = seat.handed_back() => {}
        () = stops[0].cancelled() => return None,
        () = stops[1].cancelled() => return None,
    }
    subscription.receive_again();
    if seat.ended() {
        return None;
    }
    Some(Some(seat.delivered()))
}

/// Appends to `batch`, without waiting, the changes (and presence) already waiting for
/// `subscription` after `last`, up to [`MOST_BYTES_PER_WRITE`]. Returns the last version appended
/// and the first message it could not append (a gap, a lag, the room's end) for the stream to
/// deal with. The channel is looked at only while a later change is known to be published.
fn gather(
    subscription: &mut Subscription,
    mut last: i64,
    presence_sent: &mut Bytes,
    batch: &mut BytesMut,
) -> (i64, Option<Result<Message, RecvError>>) {
    while batch.len() < MOST_BYTES_PER_WRITE && subscription.changes_after(last) {
        let message = match subscription.messages.try_recv() {
            Ok(message) => message,
            // Published, not yet sent to the channel: it comes in a moment.
            Err(TryRecvError::Empty) => break,
            Err(TryRecvError::Lagged(missed)) => {
                return (last, Some(Err(RecvError::Lagged(missed))));
            }
            Err(TryRecvError::Closed) => return (last, Some(Err(RecvError::Closed))),
        };
        match message {
            Message::Change(frame) if frame.version <= last => {}
            Message::Change(frame) if frame.version == last + 1 => {
                last = frame.version;
                batch.extend_from_slice(&frame.bytes);
            }
            Message::Presence(frame) => {
                if frame != *presence_sent {
                    batch.extend_from_slice(&frame);
                    *presence_sent = frame;
                }
            }
            // The batch keeps the connection alive as well as a heartbeat would.
            Message::Ping => {}
            other => return (last, Some(Ok(other))),
        }
    }
    (last, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::live::hub::tests::{change, next_change};

    #[tokio::test]
    async fn a_stream_behind_gathers_what_is_waiting_into_one_write() {
        let hub = Hub::new();
        let mut subscription = hub.subscribe("main");
        for version in 1..=3 {
            hub.publish("main", &change(version));
        }
        let first = next_change(&mut subscription).await;
        assert_eq!(first.version, 1);
        assert!(subscription.changes_after(1));
        let mut presence_sent = subscription.current_presence();
        let mut batch = BytesMut::from(&first.bytes[..]);
        let (last, held) = gather(&mut subscription, 1, &mut presence_sent, &mut batch);
        assert_eq!(last, 3);
        assert!(held.is_none(), "{held:?}");
        let expected: Vec<u8> = (1..=3)
            .flat_map(|version| Frame::of(&change(version)).bytes.to_vec())
            .collect();
        assert_eq!(&batch[..], &expected[..]);
        // Level now: nothing more is looked for.
        assert!(!subscription.changes_after(3));
        let (last, held) = gather(&mut subscription, 3, &mut presence_sent, &mut batch);
        assert_eq!(
            (last, held.is_none(), batch.len()),
            (3, true, expected.len())
        );
    }

    #[tokio::test]
    async fn gathering_stops_at_a_gap_and_hands_it_to_the_stream() {
        let hub = Hub::new();
        let mut subscription = hub.subscribe("main");
        // Version 3 never reaches this process's channel (say, another process's change that
        // its bus has not brought yet): 4 is a gap, for the log to fill in.
        for version in [1, 2, 4] {
            hub.publish("main", &change(version));
        }
        let first = next_change(&mut subscription).await;
        let mut presence_sent = subscription.current_presence();
        let mut batch = BytesMut::from(&first.bytes[..]);
        let (last, held) = gather(&mut subscription, 1, &mut presence_sent, &mut batch);
        assert_eq!(last, 2);
        assert!(
            matches!(&held, Some(Ok(Message::Change(frame))) if frame.version == 4),
            "{held:?}"
        );
        assert_eq!(batch.len(), 2 * first.bytes.len());
    }

    #[tokio::test]
    async fn gathering_after_a_deleted_room_hands_over_its_end() {
        let hub = Hub::new();
        let mut subscription = hub.subscribe("main");
        hub.publish("main", &change(1));
        hub.publish("main", &change(2));
        hub.close_room("main");
        let first = next_change(&mut subscription).await;
        let mut presence_sent = subscription.current_presence();
        let mut batch = BytesMut::from(&first.bytes[..]);
        let (last, held) = gather(&mut subscription, 1, &mut presence_sent, &mut batch);
        assert_eq!(last, 2);
        // Looked no further than the last change published: the end comes through `recv`.
        assert!(held.is_none(), "{held:?}");
        assert!(matches!(
            subscription.messages.recv().await,
            Ok(Message::Closed)
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_fault_is_tried_again_with_growing_waits_until_it_passes() {
        let (shutdown, closed) = (CancellationToken::new(), CancellationToken::new());
        let started = tokio::time::Instant::now();
        let mut attempts = 0;
        let value = until_ok("test", [&shutdown, &closed], || {
            attempts += 1;
            let attempt = attempts;
            async move {
                if attempt < 8 {
                    Err("pool timed out")
                } else {
                    Ok(attempt)
                }
            }
        })
        .await;
        assert_eq!(value, Some(8));
        // 50 + 100 + 200 + 400 + 800 + 1600 + 2000 ms.
        assert_eq!(started.elapsed(), Duration::from_millis(5150));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_ends_the_waiting() {
        let (shutdown, closed) = (CancellationToken::new(), CancellationToken::new());
        let stop = closed.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            stop.cancel();
        });
        let value: Option<()> = until_ok("test", [&shutdown, &closed], || async {
            Err::<(), _>("locked")
        })
        .await;
        assert_eq!(value, None);
    }
}
