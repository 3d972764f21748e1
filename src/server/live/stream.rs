//! One subscriber's event stream: where it starts (snapshot or replay after `Last-Event-ID`),
//! then every live change exactly once and in version order, presence, and heartbeats.
//!
//! A stream never ends on a storage fault (a busy pool, a locked database): what it needed is
//! tried again, waiting longer each time, and the stream keeps its place. It ends only when the
//! server shuts down, the room is deleted, or the client leaves.

use std::convert::Infallible;
use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use futures::future::BoxFuture;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use super::hub::{Frame, Hub, Message};
use super::sse;
use crate::model::EventKind;
use crate::server::store::{self, Store, StoreError};

/// How many changes one replay query reads.
const REPLAY_PAGE: i64 = 500;
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
    /// Comment lines at this interval keep the connection open.
    pub heartbeat: Duration,
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
        let StreamStart { slug, user, counted, last_event_id, retry, heartbeat } = start;
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

        let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
        loop {
            if behind {
                // Refill from memory or the change log, page by page, until we are level.
                let Some(frames) = Box::pin(until_ok("event stream refill", stops, || frames_after(&hub, &store, &slug, last))).await else {
                    return;
                };
                behind = frames.len() >= REPLAY_PAGE as usize;
                for frame in frames {
                    last = frame.version;
                    yield Ok(frame.bytes);
                }
                continue;
            }
            // Only the room's channel and the heartbeat: shutdown and deletion come through the
            // channel too (see `hub`).
            tokio::select! {
                biased;
                received = subscription.messages.recv() => match received {
                    // Already sent (from the snapshot or the log).
                    Ok(Message::Change(frame)) if frame.version <= last => {}
                    Ok(Message::Change(frame)) if frame.version == last + 1 => {
                        last = frame.version;
                        yield Ok(frame.bytes);
                    }
                    // A gap: this frame is ahead of what we have sent, fill in from the log.
                    Ok(Message::Change(_)) | Err(RecvError::Lagged(_)) => behind = true,
                    Ok(Message::Presence(frame)) if frame == presence_sent => {}
                    Ok(Message::Presence(frame)) => {
                        presence_sent = frame.clone();
                        yield Ok(frame);
                    }
                    Ok(Message::Closed) | Err(RecvError::Closed) => return,
                },
                _ = ping.tick() => {
                    if shutdown.is_cancelled() {
                        return;
                    }
                    yield Ok(Bytes::from_static(sse::PING));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
