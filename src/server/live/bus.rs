//! Live events between processes that share a PostgreSQL database.
//!
//! PostgreSQL itself is the bus: logging a change notifies `frase_changes` with its room and
//! version (a trigger, `migrations/postgres/`), delivered to every listening connection when the
//! change commits, in commit order. Each process keeps one listening connection. A notice says
//! only that a room moved; the changes themselves are read from the change log, from the last
//! version this process published for that room, and published to its hub in version order. So
//! a lost notice (or a reconnect, or a process started late) costs nothing but a moment: the
//! next notice of the room, or the catch-up after a reconnect, reads everything missed.
//!
//! With PostgreSQL the bus is the only publisher, this process's own commits included: two
//! publishers could not keep a room's frames in version order. Rooms nobody here watches (not
//! in the hub's memory) are skipped: a stream that opens later starts from the database.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde::Deserialize;
use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;

use super::Hub;
use super::presence::SharedPresence;
use crate::server::store::{self, Store, StoreError};

/// The channel the change log notifies.
pub const CHANNEL: &str = "frase_changes";

/// Changes read from the log per query while catching a room up.
const PAGE: i64 = 256;

/// What the bus has done since start (for `/metrics` and `/healthz`).
#[derive(Debug, Default)]
pub struct BusStats {
    /// Notices received.
    pub notifications: AtomicU64,
    /// Reads of the change log that published what a room had missed.
    pub refills: AtomicU64,
    /// Times the listening connection was lost and made again.
    pub reconnects: AtomicU64,
    /// Whether the listening connection is up.
    pub listening: AtomicBool,
}

/// A notice on [`CHANNEL`].
#[derive(Debug, Deserialize)]
struct Notice {
    room: Option<String>,
    version: Option<i64>,
    #[serde(default)]
    deleted: bool,
    renamed: Option<String>,
    /// Who has this room open changed in `process` (`live::presence`).
    presence: Option<String>,
    process: Option<String>,
}

/// A connection listening on [`CHANNEL`] of the database at `url`.
pub async fn listen(url: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Runs the bus on `listening` (from [`listen`], made before the server answers anyone) until
/// `shutdown`, publishing every committed change to `hub`; listens again with growing waits
/// when the connection is cut.
pub async fn run(
    listening: PgListener,
    url: String,
    store: Store,
    hub: Arc<Hub>,
    presence: Arc<SharedPresence>,
    stats: Arc<BusStats>,
    shutdown: CancellationToken,
) {
    let mut wait = Duration::from_millis(50);
    let mut first = Some(listening);
    loop {
        let reconnecting = first.is_none();
        let mut listener = tokio::select! {
            () = shutdown.cancelled() => return,
            listening = async {
                match first.take() {
                    Some(listener) => Ok(listener),
                    None => listen(&url).await,
                }
            } => match listening {
                Ok(listener) => listener,
                Err(error) => {
                    tracing::warn!(%error, retry_in = ?wait, "live-event bus: cannot listen");
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(wait) => {}
                    }
                    wait = (wait * 2).min(Duration::from_secs(5));
                    continue;
                }
            },
        };
        wait = Duration::from_millis(50);
        stats.listening.store(true, Ordering::SeqCst);
        if reconnecting {
            stats.reconnects.fetch_add(1, Ordering::Relaxed);
            tracing::info!("live-event bus: listening again");
        }
        // Whatever was committed while nobody listened.
        catch_up_all(&store, &hub, &stats, &shutdown).await;
        loop {
            let received = tokio::select! {
                () = shutdown.cancelled() => return,
                received = listener.try_recv() => received,
            };
            match received {
                Ok(Some(notification)) => {
                    stats.notifications.fetch_add(1, Ordering::Relaxed);
                    match serde_json::from_str::<Notice>(notification.payload()) {
                        Ok(Notice {
                            presence: Some(room),
                            process: Some(process),
                            ..
                        }) => presence.heard(&room, &process),
                        Ok(notice) => handle(notice, &store, &hub, &stats, &shutdown).await,
                        Err(error) => tracing::warn!(
                            %error,
                            payload = notification.payload(),
                            "live-event bus: a notice it does not understand"
                        ),
                    }
                }
                // The connection was lost: the next receive makes it again, and notices sent
                // meanwhile are gone, so every room in memory is caught up.
                Ok(None) => {
                    stats.listening.store(false, Ordering::SeqCst);
                    stats.reconnects.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!("live-event bus: connection lost, listening again");
                    catch_up_all(&store, &hub, &stats, &shutdown).await;
                    stats.listening.store(true, Ordering::SeqCst);
                }
                Err(error) => {
                    stats.listening.store(false, Ordering::SeqCst);
                    tracing::warn!(%error, "live-event bus: listening failed");
                    break;
                }
            }
        }
    }
}

async fn handle(
    notice: Notice,
    store: &Store,
    hub: &Hub,
    stats: &BusStats,
    shutdown: &CancellationToken,
) {
    if notice.renamed.is_some() {
        hub.forget_states();
    }
    let Some(room) = notice.room else {
        return;
    };
    if notice.deleted {
        hub.close_room(&room);
        return;
    }
    if let Some(version) = notice.version {
        catch_up(store, hub, stats, shutdown, &room, Some(version)).await;
    }
}

async fn catch_up_all(store: &Store, hub: &Hub, stats: &BusStats, shutdown: &CancellationToken) {
    for room in hub.rooms_in_memory() {
        catch_up(store, hub, stats, shutdown, &room, None).await;
    }
}

/// Publishes the changes of `room` this process has not published, in version order, if the
/// room is in memory. `notified` is the version a notice announced; without one (a catch-up)
/// the room's current version is read.
async fn catch_up(
    store: &Store,
    hub: &Hub,
    stats: &BusStats,
    shutdown: &CancellationToken,
    room: &str,
    notified: Option<i64>,
) {
    let Some(latest) = hub.latest_published(room) else {
        return;
    };
    if notified.is_some_and(|version| version <= latest) {
        return;
    }
    let mut after = latest;
    let mut wait = Duration::from_millis(50);
    loop {
        let read = read_after(store, room, after, notified).await;
        match read {
            Ok(changes) => {
                stats.refills.fetch_add(1, Ordering::Relaxed);
                let full = changes.len() as i64 >= PAGE;
                for change in &changes {
                    if hub
                        .latest_published(room)
                        .is_none_or(|latest| change.version > latest)
                    {
                        hub.publish(room, change);
                    }
                    after = change.version;
                }
                if !full {
                    return;
                }
            }
            Err(error) => {
                tracing::warn!(%error, room, retry_in = ?wait, "live-event bus: cannot read the change log");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(wait) => {}
                }
                wait = (wait * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// A page of a room's changes after `after`. When nothing was published in this process yet
/// (`after` is -1), only from the notified version (or the room's current one) on: its streams
/// started from the database, and find anything older in the log if they need it.
async fn read_after(
    store: &Store,
    room: &str,
    after: i64,
    notified: Option<i64>,
) -> Result<Vec<store::ChangeRow>, StoreError> {
    let mut conn = store.read().await?;
    let from = if after >= 0 {
        after
    } else {
        let current = match notified {
            Some(version) => version,
            None => match store::room(&mut conn, room).await? {
                Some(found) => found.version,
                None => return Ok(Vec::new()),
            },
        };
        current - 1
    };
    store::changes_after(&mut conn, room, from, PAGE).await
}
