//! One subscriber's event stream: where it starts (snapshot or replay after `Last-Event-ID`),
//! then every live change exactly once and in version order, presence, and heartbeats.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use futures::future::BoxFuture;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use super::hub::Hub;
use super::sse;
use crate::model::EventKind;
use crate::server::store::{self, ChangeRow, Store, StoreError};

/// How many changes one replay query reads.
const REPLAY_PAGE: i64 = 500;

/// How a stream begins.
pub struct StreamStart {
    pub slug: String,
    /// Whose stream this is: they count as present in the room while it is open.
    pub user: Option<String>,
    /// The last version the client has seen, from `Last-Event-ID` (or `?last_event_id=`).
    pub last_event_id: Option<i64>,
    /// The `retry:` the stream opens with.
    pub retry: Duration,
    /// Comment lines at this interval keep the connection open.
    pub heartbeat: Duration,
}

/// A room state snapshot, taken when the stream starts without a usable `Last-Event-ID`:
/// (version, room state JSON). A future, so that it runs only after the stream has subscribed.
pub type Snapshot = BoxFuture<'static, Result<(i64, String), String>>;

enum Begin {
    Replay { after: i64 },
    Snapshot,
}

/// Decides whether `last_event_id` can be replayed from the change log.
async fn begin(store: &Store, slug: &str, last_event_id: Option<i64>) -> Result<Begin, StoreError> {
    let Some(after) = last_event_id else {
        return Ok(Begin::Snapshot);
    };
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

async fn changes_after(
    store: &Store,
    slug: &str,
    after: i64,
) -> Result<Vec<ChangeRow>, StoreError> {
    let mut conn = store.read().await?;
    store::changes_after(&mut conn, slug, after, REPLAY_PAGE).await
}

/// The event stream of one subscriber, as the body of a `text/event-stream` response. It ends
/// when `shutdown` is cancelled, or on a storage error (the client then reconnects and resumes).
pub fn event_stream(
    hub: Arc<Hub>,
    store: Store,
    start: StreamStart,
    snapshot: Snapshot,
    shutdown: CancellationToken,
) -> impl Stream<Item = Result<Bytes, Infallible>> {
    async_stream::stream! {
        let StreamStart { slug, user, last_event_id, retry, heartbeat } = start;
        // Subscribe first: whatever commits from here on reaches us, live or through the log.
        let mut subscription = hub.subscribe_as(&slug, user.as_deref());
        yield Ok(sse::retry(retry.as_millis() as u64));

        let mut last = match begin(&store, &slug, last_event_id).await {
            Ok(Begin::Replay { after }) => after,
            Ok(Begin::Snapshot) => match snapshot.await {
                Ok((version, state)) => {
                    yield Ok(sse::event(EventKind::Snapshot, Some(version), &state));
                    version
                }
                Err(error) => {
                    tracing::warn!(room = %slug, %error, "event stream: no snapshot");
                    return;
                }
            },
            Err(error) => {
                tracing::warn!(room = %slug, %error, "event stream: cannot start");
                return;
            }
        };
        // Whatever was committed after `last` before we subscribed, or while we read the snapshot.
        let mut behind = true;
        let presence = subscription.presence.borrow_and_update().clone();
        yield Ok(presence);

        let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
        loop {
            if behind {
                // Refill from the change log, page by page, until we are level with it.
                match changes_after(&store, &slug, last).await {
                    Ok(changes) => {
                        let full = changes.len() as i64 == REPLAY_PAGE;
                        for change in changes {
                            last = change.version;
                            yield Ok(sse::event(change.kind, Some(change.version), &change.data));
                        }
                        behind = full;
                        continue;
                    }
                    Err(error) => {
                        tracing::warn!(room = %slug, %error, "event stream: refill failed");
                        return;
                    }
                }
            }
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => return,
                _ = subscription.closed.cancelled() => return,
                received = subscription.frames.recv() => match received {
                    // Already sent (from the snapshot or the log).
                    Ok(frame) if frame.version <= last => {}
                    Ok(frame) if frame.version == last + 1 => {
                        last = frame.version;
                        yield Ok(frame.bytes);
                    }
                    // A gap: this frame is ahead of what we have sent, fill in from the log.
                    Ok(_) | Err(RecvError::Lagged(_)) => behind = true,
                    Err(RecvError::Closed) => return,
                },
                changed = subscription.presence.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let presence = subscription.presence.borrow_and_update().clone();
                    yield Ok(presence);
                }
                _ = ping.tick() => yield Ok(Bytes::from_static(sse::PING)),
            }
        }
    }
}
