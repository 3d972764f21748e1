//! Presence across processes that share a PostgreSQL database: a room's online count, and the
//! players present when a `turns` round starts, are the room's, whichever process each viewer's
//! stream is on.
//!
//! Each process writes down who has each room open in it (`cluster_presence`: streams per room
//! and user, `migrations/postgres/`) and says it is alive (`cluster_processes`). Writing is
//! coalesced: the hub notes the rooms whose presence changed, and every [`TICK`] one transaction
//! writes what changed in all of them and notifies `frase_changes` with
//! `{"presence": room, "process": id}`. The other processes, hearing it on their bus, read the
//! room's count elsewhere again (at their next tick, one query for every room noted) and their
//! hubs send the room's `presence` frame (coalesced, as for local joins). A process not heard
//! from for [`STALE`] no longer counts: every [`HEARTBEAT`] each process says it is alive and
//! reads again the counts of every room in its memory.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::Row;
use sqlx::postgres::{PgPool, PgPoolOptions};
use tokio_util::sync::CancellationToken;

use super::Hub;
use super::hub::{LocalPresence, PresenceChanges};

/// How often what changed here is written down, and what changed elsewhere read.
pub const TICK: Duration = Duration::from_millis(250);
/// How often a process says it is alive, and reads every room's count elsewhere again.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// A process not heard from for this long no longer counts (SQL interval).
const STALE: &str = "15 seconds";
/// A process not heard from for this long is deleted, its presence with it.
const GONE: &str = "60 seconds";

/// The streams of one room in one process, per user: `''` for streams without a user.
type Streams = HashMap<String, u32>;

/// This process's share of presence, and what it knows of the others'.
#[derive(Debug)]
pub struct SharedPresence {
    pool: PgPool,
    /// This process, among those sharing the database.
    process: String,
    hub: Arc<Hub>,
    changes_here: Arc<PresenceChanges>,
    /// Rooms whose presence changed elsewhere (heard on the bus), to read again.
    changed_elsewhere: Mutex<HashSet<String>>,
    /// Rooms whose presence here is to be written again (a write failed, or was lost).
    write_again: Mutex<HashSet<String>>,
}

impl SharedPresence {
    /// Connects (a small pool of its own, off the writer's path) and says that `process` (the
    /// store's, `Store::process_id`) is alive.
    pub async fn connect(
        url: &str,
        process: &str,
        hub: Arc<Hub>,
        changes_here: Arc<PresenceChanges>,
    ) -> Result<SharedPresence, sqlx::Error> {
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        let presence = SharedPresence {
            pool,
            process: process.to_owned(),
            hub,
            changes_here,
            changed_elsewhere: Mutex::default(),
            write_again: Mutex::default(),
        };
        presence.heartbeat().await?;
        Ok(presence)
    }

    /// This process's id (in notices, and in `cluster_processes`).
    pub fn process(&self) -> &str {
        &self.process
    }

    /// A notice from the bus: `room`'s presence changed in `process`.
    pub fn heard(&self, room: &str, process: &str) {
        if process != self.process {
            lock(&self.changed_elsewhere).insert(room.to_owned());
        }
    }

    /// The users with `room` open in the other live processes.
    pub async fn users_elsewhere(&self, room: &str) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT DISTINCT p.user_id FROM cluster_presence p \
             JOIN cluster_processes f ON f.id = p.process \
             WHERE p.room = $1 AND p.process <> $2 AND p.user_id <> '' \
               AND f.heard_at > now() - $3::interval",
        )
        .bind(room)
        .bind(&self.process)
        .bind(STALE)
        .fetch_all(&self.pool)
        .await
    }

    /// Whether `user` has `room` open in another live process.
    pub async fn is_present_elsewhere(&self, room: &str, user: &str) -> Result<bool, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM cluster_presence p \
             JOIN cluster_processes f ON f.id = p.process \
             WHERE p.room = $1 AND p.user_id = $2 AND p.process <> $3 \
               AND f.heard_at > now() - $4::interval)",
        )
        .bind(room)
        .bind(user)
        .bind(&self.process)
        .bind(STALE)
        .fetch_one(&self.pool)
        .await
    }

    /// Shares presence until `shutdown`, then takes this process's presence away.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let mut written: HashMap<String, Streams> = HashMap::new();
        let mut ticks = tokio::time::interval(TICK);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut heartbeats = tokio::time::interval(HEARTBEAT);
        heartbeats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = ticks.tick() => self.tick(&mut written).await,
                _ = heartbeats.tick() => match self.heartbeat().await {
                    Ok(forgotten) => {
                        if forgotten {
                            // Deleted as gone (this process was stalled for a minute): its
                            // presence went with it; write it all again.
                            written.clear();
                            lock(&self.write_again).extend(self.hub.rooms_in_memory());
                        }
                        let rooms = self.hub.rooms_in_memory();
                        if let Err(error) = self.read_elsewhere(&rooms).await {
                            tracing::warn!(%error, "presence: cannot read the other processes'");
                        }
                    }
                    Err(error) => tracing::warn!(%error, "presence: cannot say this process is alive"),
                },
            }
        }
        let gone = sqlx::query(
            "WITH gone AS (DELETE FROM cluster_presence WHERE process = $1 RETURNING room) \
             SELECT pg_notify('frase_changes', json_build_object('presence', room, 'process', $1::text)::text) \
             FROM (SELECT DISTINCT room FROM gone) AS rooms",
        )
        .bind(&self.process)
        .execute(&self.pool)
        .await
        .and(
            sqlx::query("DELETE FROM cluster_processes WHERE id = $1")
                .bind(&self.process)
                .execute(&self.pool)
                .await,
        );
        if let Err(error) = gone {
            tracing::warn!(%error, "presence: cannot take this process's presence away");
        }
    }

    async fn tick(&self, written: &mut HashMap<String, Streams>) {
        let mut here: Vec<String> = self.changes_here.take();
        here.extend(lock(&self.write_again).drain());
        here.sort_unstable();
        here.dedup();
        if !here.is_empty()
            && let Err(error) = self.write(&here, written).await
        {
            tracing::warn!(%error, "presence: cannot write this process's down");
            lock(&self.write_again).extend(here.iter().cloned());
        }
        // A room that just came into memory here learns its count elsewhere too.
        let mut elsewhere: Vec<String> = lock(&self.changed_elsewhere).drain().collect();
        elsewhere.extend(here);
        elsewhere.sort_unstable();
        elsewhere.dedup();
        if !elsewhere.is_empty()
            && let Err(error) = self.read_elsewhere(&elsewhere).await
        {
            tracing::warn!(%error, "presence: cannot read the other processes'");
            lock(&self.changed_elsewhere).extend(elsewhere);
        }
    }

    /// Writes down the presence of `rooms` here where it differs from what was `written`, and
    /// notifies the others; `written` is updated only once that has committed.
    async fn write(
        &self,
        rooms: &[String],
        written: &mut HashMap<String, Streams>,
    ) -> Result<(), sqlx::Error> {
        let mut now: Vec<(String, Streams)> = Vec::with_capacity(rooms.len());
        let (mut up_rooms, mut up_users, mut up_streams) = (Vec::new(), Vec::new(), Vec::new());
        let (mut gone_rooms, mut gone_users) = (Vec::new(), Vec::new());
        for room in rooms {
            let streams = streams_of(self.hub.local_presence(room));
            let before = written.get(room);
            for (user, count) in &streams {
                if before.and_then(|before| before.get(user)) != Some(count) {
                    up_rooms.push(room.clone());
                    up_users.push(user.clone());
                    up_streams.push(i32::try_from(*count).unwrap_or(i32::MAX));
                }
            }
            for user in before.into_iter().flat_map(HashMap::keys) {
                if !streams.contains_key(user) {
                    gone_rooms.push(room.clone());
                    gone_users.push(user.clone());
                }
            }
            now.push((room.clone(), streams));
        }
        if up_rooms.is_empty() && gone_rooms.is_empty() {
            return Ok(());
        }
        let mut changed: Vec<String> = up_rooms.iter().chain(&gone_rooms).cloned().collect();
        changed.sort_unstable();
        changed.dedup();
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "DELETE FROM cluster_presence p USING UNNEST($2::text[], $3::text[]) AS g(room, user_id) \
             WHERE p.process = $1 AND p.room = g.room AND p.user_id = g.user_id",
        )
        .bind(&self.process)
        .bind(&gone_rooms)
        .bind(&gone_users)
        .execute(&mut *transaction)
        .await?;
        sqlx::query(
            "INSERT INTO cluster_presence (process, room, user_id, streams) \
             SELECT $1, room, user_id, streams \
             FROM UNNEST($2::text[], $3::text[], $4::int[]) AS u(room, user_id, streams) \
             ON CONFLICT (process, room, user_id) DO UPDATE SET streams = EXCLUDED.streams",
        )
        .bind(&self.process)
        .bind(&up_rooms)
        .bind(&up_users)
        .bind(&up_streams)
        .execute(&mut *transaction)
        .await?;
        sqlx::query(
            "SELECT pg_notify('frase_changes', json_build_object('presence', room, 'process', $1::text)::text) \
             FROM UNNEST($2::text[]) AS changed(room)",
        )
        .bind(&self.process)
        .bind(&changed)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        for (room, streams) in now {
            if streams.is_empty() {
                written.remove(&room);
            } else {
                written.insert(room, streams);
            }
        }
        Ok(())
    }

    /// Reads the streams the other live processes have open on `rooms` into the hub.
    async fn read_elsewhere(&self, rooms: &[String]) -> Result<(), sqlx::Error> {
        if rooms.is_empty() {
            return Ok(());
        }
        let rows = sqlx::query(
            "SELECT p.room, SUM(p.streams)::bigint AS streams FROM cluster_presence p \
             JOIN cluster_processes f ON f.id = p.process \
             WHERE p.room = ANY($1) AND p.process <> $2 AND f.heard_at > now() - $3::interval \
             GROUP BY p.room",
        )
        .bind(rooms)
        .bind(&self.process)
        .bind(STALE)
        .fetch_all(&self.pool)
        .await?;
        let mut counts: HashMap<String, u64> = HashMap::new();
        for row in rows {
            let streams: i64 = row.try_get("streams")?;
            counts.insert(row.try_get("room")?, u64::try_from(streams).unwrap_or(0));
        }
        for room in rooms {
            self.hub
                .set_online_elsewhere(room, counts.get(room).copied().unwrap_or(0));
        }
        Ok(())
    }

    /// Says this process is alive, and deletes the processes gone for a minute. `true` when
    /// this process had itself been deleted as gone (and is now back, with no presence).
    async fn heartbeat(&self) -> Result<bool, sqlx::Error> {
        let inserted: bool = sqlx::query_scalar(
            "INSERT INTO cluster_processes (id) VALUES ($1) \
             ON CONFLICT (id) DO UPDATE SET heard_at = now() \
             RETURNING xmax = 0",
        )
        .bind(&self.process)
        .fetch_one(&self.pool)
        .await?;
        sqlx::query("DELETE FROM cluster_processes WHERE heard_at < now() - $1::interval")
            .bind(GONE)
            .execute(&self.pool)
            .await?;
        Ok(inserted)
    }
}

/// A room's streams here, per user, `''` for the streams without one.
fn streams_of(local: LocalPresence) -> Streams {
    let mut streams = local.users;
    let with_user: u64 = streams.values().map(|&count| u64::from(count)).sum();
    let without_user = local.streams.saturating_sub(with_user);
    if without_user > 0 {
        streams.insert(
            String::new(),
            u32::try_from(without_user).unwrap_or(u32::MAX),
        );
    }
    streams
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_without_a_user_are_counted_under_the_empty_id() {
        let local = LocalPresence {
            streams: 5,
            users: HashMap::from([("ana".to_owned(), 2), ("luis".to_owned(), 1)]),
        };
        let streams = streams_of(local);
        assert_eq!(streams.get("ana"), Some(&2));
        assert_eq!(streams.get("luis"), Some(&1));
        assert_eq!(streams.get(""), Some(&2));
        assert_eq!(streams_of(LocalPresence::default()), Streams::new());
    }
}
