//! Group commit: changes that arrive together share one transaction and one fsync.
//!
//! SQLite admits one writer, and with `synchronous=FULL` every commit waits for the disk, so one
//! commit per change caps the writes of the whole process at the disk's flush rate (1,600 words/s
//! on this project's machine). Here the writer connection sits behind a fair (first come, first
//! served) async mutex, and a change goes through it twice:
//!
//! 1. It takes the mutex, opens the group's transaction if none is open, and runs inside its own
//!    savepoint — so a change refused by its rules, or failing, is rolled back alone and answers at
//!    once, while its neighbours go on. Then it lets the mutex go.
//! 2. It takes the mutex again. Every change that queued in between has joined the same
//!    transaction. If its group is still open, it commits it (one fsync for all of them) and runs,
//!    in order, what each change asked to run once durable (publishing its live events), then
//!    tells the group; otherwise a member ahead of it already did (and a member whose group is
//!    committed while it waits leaves the queue without taking its turn). Either way a change returns
//!    only once its own commit is durable (or has failed, for everyone in the group).
//!
//! Every round trip to SQLite's thread costs a wake on each side, and the writer does nothing
//! else meanwhile, so a change's savepoint is released by the next member, in the round trip
//! that opens the next member's savepoint (or by the commit, which ends them all), and that
//! round trip also runs the read the next member starts with ([`Opening`]).
//!
//! Alone, a change costs one more turn of the mutex; with 32 writers, one fsync serves many.
//! Versions stay gap-free and in order per room: each change reads the room inside the group's
//! transaction, where the changes before it are visible, and the publications run in commit
//! order while the mutex is held.
//!
//! Step 2 runs in a task of its own, so a request cut off by its client cannot leave a group
//! uncommitted. A request cut off in step 1 leaves a mark ([`Cut`]) that the next holder of the
//! mutex cleans up before anything else, so nothing half-done is ever committed. Between the
//! change's last statement and step 2 nothing waits, so a change that joined its group is also
//! published with it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool};
use tokio::sync::{Mutex, MutexGuard, watch};

use super::{Conn, Dialect, StoreError};

/// What a change asks to run once it is durable, in commit order (publishing its events).
pub type AfterCommit = Box<dyn FnOnce() + Send>;

/// The read a change starts with (one statement), run in the round trip that opens its
/// savepoint; the change gets its rows.
pub struct Opening<'q> {
    pub sql: &'static str,
    pub arguments: AnyArguments<'q>,
    /// Whether the rows read stay locked until the commit, where the database locks rows
    /// (PostgreSQL: `FOR UPDATE`, so that writers in other processes wait; SQLite's one writer
    /// holds the whole database already).
    pub for_update: bool,
}

/// How a group's commit ended: `None` while it is open, then `Ok` or the failure, for everyone.
type Outcome = Option<Result<(), String>>;

/// The single writer connection, shared by groups of changes.
#[derive(Debug)]
pub(super) struct GroupWriter {
    state: Arc<Mutex<WriterState>>,
    /// Shared with the state, read without waiting for the writer.
    changes: Arc<AtomicU64>,
    commits: Arc<AtomicU64>,
}

/// What the writer has made durable since start (for `/metrics`, and to see grouping work).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Changes committed.
    pub changes: u64,
    /// Commits that carried them.
    pub commits: u64,
}

struct WriterState {
    pool: AnyPool,
    dialect: Dialect,
    /// Taken from `pool` at the first write and kept (a pool of one: the writer).
    conn: Option<PoolConnection<Any>>,
    open: Option<OpenGroup>,
    next_group: u64,
    /// The savepoint of the group's last member, left open for the next one to release.
    pending: Option<Savepoint>,
    /// Where a change was cut off (its request dropped) while it held the mutex.
    cut: Option<Cut>,
    changes: Arc<AtomicU64>,
    commits: Arc<AtomicU64>,
}

impl std::fmt::Debug for WriterState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterState")
            .field("open", &self.open.as_ref().map(|group| group.id))
            .field("cut", &self.cut)
            .finish_non_exhaustive()
    }
}

struct OpenGroup {
    id: u64,
    /// Changes applied in this group (released savepoints).
    members: usize,
    after_commit: Vec<AfterCommit>,
    outcome: watch::Sender<Outcome>,
}

/// A statement a change was running when its request was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// Opening the group's transaction (it had no members yet).
    Begin,
    /// Inside the change's savepoint — or opening it, while `pending` (the previous member's
    /// savepoint) may not be released yet.
    Change {
        savepoint: Savepoint,
        pending: Option<Savepoint>,
    },
}

/// The name of a member's savepoint. Two alternate: a member's differs from the one it
/// releases, and between members at most one is open (`WriterState::pending`), so a name always
/// means the current member's savepoint or none at all (`ROLLBACK TO` an absent one fails and
/// changes nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Savepoint {
    A,
    B,
}

impl Savepoint {
    /// The savepoint of the member after the one holding `pending`, and the statements that
    /// release `pending` (if any) and open it, in one round trip.
    fn open_after(pending: Option<Savepoint>) -> (Savepoint, &'static str) {
        match pending {
            None => (Savepoint::A, "SAVEPOINT a"),
            Some(Savepoint::A) => (Savepoint::B, "RELEASE a; SAVEPOINT b"),
            Some(Savepoint::B) => (Savepoint::A, "RELEASE b; SAVEPOINT a"),
        }
    }

    /// Undoes what was done since this savepoint opened, and ends it.
    fn roll_back(self) -> &'static str {
        match self {
            Savepoint::A => "ROLLBACK TO a; RELEASE a",
            Savepoint::B => "ROLLBACK TO b; RELEASE b",
        }
    }

    /// Ends this savepoint, keeping what was done in it.
    fn release(self) -> &'static str {
        match self {
            Savepoint::A => "RELEASE a",
            Savepoint::B => "RELEASE b",
        }
    }
}

impl GroupWriter {
    pub(super) fn new(pool: AnyPool, dialect: Dialect) -> GroupWriter {
        let (changes, commits) = (Arc::<AtomicU64>::default(), Arc::<AtomicU64>::default());
        GroupWriter {
            state: Arc::new(Mutex::new(WriterState {
                pool,
                dialect,
                conn: None,
                open: None,
                next_group: 1,
                pending: None,
                cut: None,
                changes: changes.clone(),
                commits: commits.clone(),
            })),
            changes,
            commits,
        }
    }

    /// Runs `change` on the writer, in the current group's transaction, and returns once its
    /// commit is durable. A change that returns an error is rolled back alone, and its error
    /// returned at once.
    pub(super) async fn write<T, E>(
        &self,
        change: impl AsyncFnOnce(&mut Conn) -> Result<(T, Option<AfterCommit>), E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        self.write_opening(None, async |conn: &mut Conn, _: Vec<AnyRow>| {
            change(conn).await
        })
        .await
    }

    /// Like [`GroupWriter::write`], with `opening` run in the round trip that opens the change's
    /// savepoint and its rows given to `change`.
    pub(super) async fn write_opening<T, E>(
        &self,
        opening: Option<Opening<'_>>,
        change: impl AsyncFnOnce(&mut Conn, Vec<AnyRow>) -> Result<(T, Option<AfterCommit>), E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let (value, mut outcome, group) = {
            let mut state = self.lock().await?;
            let (group, outcome) = state.join().await?;
            let pending = state.pending;
            let (savepoint, open) = Savepoint::open_after(pending);
            state.cut = Some(Cut::Change { savepoint, pending });
            let opened = state.open_savepoint(open, savepoint, opening).await;
            let rows = match opened {
                Ok(rows) => rows,
                Err(error) => {
                    // Whether the previous member's savepoint was released is unknown.
                    let pending = state.pending;
                    state.undo_change(savepoint, pending).await;
                    return Err(error.into());
                }
            };
            state.pending = None;
            state.cut = Some(Cut::Change {
                savepoint,
                pending: None,
            });
            let result = change(state.conn(), rows).await;
            match result {
                Ok((value, after)) => {
                    state.cut = None;
                    state.pending = Some(savepoint);
                    let open = state
                        .open
                        .as_mut()
                        .expect("the group is open while a member holds the writer");
                    open.members += 1;
                    open.after_commit.extend(after);
                    (value, outcome, group)
                }
                Err(error) => {
                    state.undo_change(savepoint, None).await;
                    return Err(error);
                }
            }
        };
        // Step 2, in its own task: the group commits even if this request is dropped now. A
        // member ahead of this one may commit the group first: then this one leaves the queue
        // for the writer at once rather than take a turn that has nothing to do.
        let state = self.state.clone();
        let mut committed = outcome.clone();
        let committer = tokio::spawn(async move {
            let guard = tokio::select! {
                biased;
                _ = committed.wait_for(Option::is_some) => return,
                guard = state.lock() => guard,
            };
            let Ok(mut state) = GroupWriter::ready(guard).await else {
                return;
            };
            if state.open.as_ref().is_some_and(|open| open.id == group) {
                state.commit().await;
            }
        });
        let _ = committer.await;
        let decided = outcome
            .wait_for(Option::is_some)
            .await
            .map(|outcome| outcome.clone());
        match decided {
            Ok(Some(Ok(()))) => Ok(value),
            Ok(Some(Err(error))) => Err(StoreError::GroupCommit(error).into()),
            // The group was dropped undecided: only when the committer could not reach the
            // database at all.
            _ => Err(StoreError::GroupCommit("the commit did not run".to_owned()).into()),
        }
    }

    pub(super) fn stats(&self) -> CommitStats {
        CommitStats {
            changes: self.changes.load(Ordering::Relaxed),
            commits: self.commits.load(Ordering::Relaxed),
        }
    }

    /// Gives the writer connection back to its pool, committing what is open (before a
    /// migration, which takes it from the pool, or at shutdown).
    pub(super) async fn release(&self) -> Result<(), StoreError> {
        let mut state = self.lock().await?;
        state.commit().await;
        state.conn = None;
        Ok(())
    }

    async fn lock(&self) -> Result<MutexGuard<'_, WriterState>, StoreError> {
        GroupWriter::lock_state(&self.state).await
    }

    /// Takes the mutex and cleans up after a change that was cut off while holding it.
    async fn lock_state(
        state: &Mutex<WriterState>,
    ) -> Result<MutexGuard<'_, WriterState>, StoreError> {
        GroupWriter::ready(state.lock().await).await
    }

    /// Makes the writer ready for its holder: its connection taken, and what a change cut off
    /// while holding it left behind cleaned up.
    async fn ready(
        mut state: MutexGuard<'_, WriterState>,
    ) -> Result<MutexGuard<'_, WriterState>, StoreError> {
        if state.conn.is_none() {
            let conn = state.pool.acquire().await?;
            state.conn = Some(conn);
        }
        match state.cut.take() {
            None => {}
            Some(Cut::Change { savepoint, pending }) => state.undo_change(savepoint, pending).await,
            Some(Cut::Begin) => {
                // Whether the BEGIN ran is unknown: end whatever it opened (it held nothing).
                let _ = state.execute("ROLLBACK").await;
                state.open = None;
                state.pending = None;
            }
        }
        Ok(state)
    }
}

impl WriterState {
    fn conn(&mut self) -> &mut Conn {
        self.conn
            .as_mut()
            .expect("the writer connection is taken when the mutex is")
    }

    /// Runs statements without arguments: prepared once and kept on SQLite; as one simple
    /// query on PostgreSQL (without arguments sqlx does not prepare them, so several may go in
    /// one).
    async fn execute(&mut self, sql: &str) -> Result<(), StoreError> {
        sqlx::Executor::execute(&mut *self.conn(), sql).await?;
        Ok(())
    }

    /// Runs `open` (which releases the previous member's savepoint, if any, and opens this
    /// member's `savepoint`), and the member's `opening` read: in one round trip where the
    /// database takes several statements at once, in two otherwise. Where they run apart, the
    /// previous member's savepoint is known to be released once `open` returns.
    async fn open_savepoint(
        &mut self,
        open: &str,
        savepoint: Savepoint,
        opening: Option<Opening<'_>>,
    ) -> Result<Vec<AnyRow>, StoreError> {
        let Some(opening) = opening else {
            return self.execute(open).await.map(|()| Vec::new());
        };
        let for_update = match (opening.for_update, self.dialect) {
            (true, Dialect::Postgres) => " FOR UPDATE",
            _ => "",
        };
        if self.dialect.runs_statements_together() {
            let sql = format!("{open}; {}{for_update}", opening.sql);
            return Ok(sqlx::query_with(&sql, opening.arguments)
                .fetch_all(&mut *self.conn())
                .await?);
        }
        self.execute(open).await?;
        self.pending = None;
        self.cut = Some(Cut::Change {
            savepoint,
            pending: None,
        });
        let sql = format!("{}{for_update}", opening.sql);
        Ok(sqlx::query_with(&sql, opening.arguments)
            .fetch_all(&mut *self.conn())
            .await?)
    }

    /// Joins the open group, opening one (`BEGIN`) if there is none: its id, and where its
    /// outcome will be told.
    async fn join(&mut self) -> Result<(u64, watch::Receiver<Outcome>), StoreError> {
        if self.open.is_none() {
            self.cut = Some(Cut::Begin);
            let begin = match self.dialect {
                // The write lock at once, not at the first write (which could then fail busy).
                Dialect::Sqlite => "BEGIN IMMEDIATE",
                Dialect::Postgres => "BEGIN",
            };
            if let Err(error) = self.execute(begin).await {
                let _ = self.execute("ROLLBACK").await;
                self.cut = None;
                return Err(error);
            }
            self.cut = None;
            let id = self.next_group;
            self.next_group += 1;
            self.open = Some(OpenGroup {
                id,
                members: 0,
                after_commit: Vec::new(),
                outcome: watch::channel(None).0,
            });
        }
        let open = self.open.as_ref().expect("opened above");
        Ok((open.id, open.outcome.subscribe()))
    }

    /// Rolls back the change in `savepoint`, keeping its group's other members. `pending` is the
    /// previous member's savepoint if it may still be open (the change was cut off, or failed,
    /// while opening its own): it is released, so that no savepoint stays open. A group that is
    /// left with no member is ended, so no transaction stays open for nothing.
    async fn undo_change(&mut self, savepoint: Savepoint, pending: Option<Savepoint>) {
        if self.dialect == Dialect::Postgres {
            // There a failed statement aborts the whole transaction, so nothing may be tried
            // on the chance that its savepoint is open: where that is unknown, or the rollback
            // fails, the group ends, failing all its members (none has been answered yet).
            let rolled_back = match pending {
                Some(_) => false,
                None => self.execute(savepoint.roll_back()).await.is_ok(),
            };
            self.pending = None;
            self.cut = None;
            if !rolled_back {
                self.abort("a change was cut off while the writer was in an unknown state")
                    .await;
            } else if self.open.as_ref().is_some_and(|open| open.members == 0) {
                let _ = self.execute("ROLLBACK").await;
                self.open = None;
            }
            return;
        }
        // Each fails, changing nothing, where its savepoint is not open.
        let _ = self.execute(savepoint.roll_back()).await;
        if let Some(pending) = pending {
            let _ = self.execute(pending.release()).await;
        }
        self.pending = None;
        self.cut = None;
        if self.open.as_ref().is_some_and(|open| open.members == 0) {
            let _ = self.execute("ROLLBACK").await;
            self.open = None;
        }
    }

    /// Rolls the open group back, telling its members why.
    async fn abort(&mut self, why: &str) {
        let _ = self.execute("ROLLBACK").await;
        self.pending = None;
        if let Some(group) = self.open.take() {
            tracing::error!(members = group.members, why, "a group was rolled back");
            group.outcome.send_replace(Some(Err(why.to_owned())));
        }
    }

    /// Commits the open group, runs its members' after-commit work in order, and tells them.
    async fn commit(&mut self) {
        let Some(group) = self.open.take() else {
            return;
        };
        // `COMMIT` ends the last member's savepoint too.
        self.pending = None;
        // On PostgreSQL, `COMMIT` of a transaction a failed statement aborted answers as if it
        // succeeded (and rolls back): a statement first tells which it is.
        let healthy = match self.dialect {
            Dialect::Sqlite => Ok(()),
            Dialect::Postgres => self.execute("SELECT 1").await,
        };
        let committed = match healthy {
            Ok(()) => self.execute("COMMIT").await,
            Err(error) => Err(error),
        };
        let outcome = match committed {
            Ok(()) => {
                self.commits.fetch_add(1, Ordering::Relaxed);
                self.changes
                    .fetch_add(group.members as u64, Ordering::Relaxed);
                for after in group.after_commit {
                    after();
                }
                Ok(())
            }
            Err(error) => {
                tracing::error!(%error, members = group.members, "a group commit failed");
                // SQLite may have rolled back already; make sure nothing stays open.
                let _ = self.execute("ROLLBACK").await;
                Err(error.to_string())
            }
        };
        group.outcome.send_replace(Some(outcome));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::server::store::{Conn, Store, StoreError};

    async fn store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("group.db").display());
        let store = Store::open(&url).await.unwrap();
        store
            .write(async |conn: &mut Conn| {
                sqlx::query("CREATE TABLE t (x INTEGER NOT NULL)")
                    .execute(&mut *conn)
                    .await?;
                Ok::<_, StoreError>(())
            })
            .await
            .unwrap();
        (store, dir)
    }

    async fn insert(conn: &mut Conn, x: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO t (x) VALUES ($1)")
            .bind(x)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    async fn stored(store: &Store) -> Vec<i64> {
        let mut conn = store.read().await.unwrap();
        sqlx::query_scalar("SELECT x FROM t ORDER BY x")
            .fetch_all(&mut *conn)
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn changes_at_once_share_commits_and_a_refused_one_is_rolled_back_alone() {
        let (store, _dir) = store().await;
        let before = store.commit_stats();
        let writes = (0..60).map(|x| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .write(async |conn: &mut Conn| {
                        insert(conn, x).await?;
                        // Every tenth change is refused after it wrote.
                        if x % 10 == 9 {
                            return Err(StoreError::Corrupt("refused".into()));
                        }
                        Ok(x)
                    })
                    .await
            })
        });
        let results = futures::future::join_all(writes).await;
        let accepted: Vec<i64> = results
            .into_iter()
            .filter_map(|result| result.unwrap().ok())
            .collect();
        assert_eq!(accepted.len(), 54);
        let expected: Vec<i64> = (0..60).filter(|x| x % 10 != 9).collect();
        assert_eq!(stored(&store).await, expected);
        let after = store.commit_stats();
        assert_eq!(after.changes - before.changes, 54);
        assert!(
            after.commits - before.commits < 54,
            "{} commits",
            after.commits - before.commits
        );
    }

    #[tokio::test]
    async fn the_writer_keeps_savepoints_in_memory() {
        // Past 64 KiB a group's sub-journal went to a file created and deleted at every commit.
        let (store, _dir) = store().await;
        let temp_store: i64 = store
            .write(async |conn: &mut Conn| {
                Ok::<_, StoreError>(
                    sqlx::query_scalar("PRAGMA temp_store")
                        .fetch_one(&mut *conn)
                        .await?,
                )
            })
            .await
            .unwrap();
        assert_eq!(temp_store, 2, "temp_store = MEMORY");
    }

    #[tokio::test]
    async fn a_change_cut_off_halfway_is_never_committed() {
        let (store, _dir) = store().await;
        let cut = {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .write(async |conn: &mut Conn| {
                        insert(conn, 1).await?;
                        // The request goes away here.
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        Ok::<_, StoreError>(())
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        cut.abort();
        let _ = cut.await;
        store
            .write(async |conn: &mut Conn| insert(conn, 2).await)
            .await
            .unwrap();
        assert_eq!(stored(&store).await, vec![2]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_member_cut_off_after_another_keeps_the_others_work() {
        let (store, _dir) = store().await;
        let before = store.commit_stats();
        // The first member holds the writer long enough for the second to queue behind it, so
        // both join one group; the first's savepoint is left for the second to release.
        let first = {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .write(async |conn: &mut Conn| {
                        insert(conn, 1).await?;
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        Ok::<_, StoreError>(())
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let cut = {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .write(async |conn: &mut Conn| {
                        insert(conn, 2).await?;
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        Ok::<_, StoreError>(())
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(400)).await;
        cut.abort();
        let _ = cut.await;
        first.await.unwrap().unwrap();
        assert_eq!(stored(&store).await, vec![1]);
        store
            .write(async |conn: &mut Conn| insert(conn, 3).await)
            .await
            .unwrap();
        assert_eq!(stored(&store).await, vec![1, 3]);
        let after = store.commit_stats();
        assert_eq!(after.changes - before.changes, 2, "1 and 3 committed");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_commits_when_its_first_member_is_dropped_waiting_for_it() {
        let (store, _dir) = store().await;
        let before = store.commit_stats();
        let write = |x: i64, hold: Duration| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .write(async |conn: &mut Conn| {
                        insert(conn, x).await?;
                        tokio::time::sleep(hold).await;
                        Ok::<_, StoreError>(x)
                    })
                    .await
            })
        };
        // 1 holds the writer while 2 queues behind it; 2 then holds it while 1, done with its
        // change and the group's first member, waits for the commit — and its request goes.
        let first = write(1, Duration::from_millis(200));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let second = write(2, Duration::from_millis(600));
        tokio::time::sleep(Duration::from_millis(450)).await;
        first.abort();
        assert!(first.await.unwrap_err().is_cancelled());
        assert_eq!(second.await.unwrap().unwrap(), 2);
        assert_eq!(stored(&store).await, vec![1, 2]);
        let after = store.commit_stats();
        assert_eq!(after.changes - before.changes, 2);
        assert_eq!(after.commits - before.commits, 1, "one group");
    }

    #[tokio::test]
    async fn work_after_commit_runs_in_commit_order_before_the_answer() {
        let (store, _dir) = store().await;
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        for x in 0..3 {
            let seen = order.clone();
            store
                .write_then(async |conn: &mut Conn| {
                    insert(conn, x).await?;
                    let after: super::AfterCommit = Box::new(move || seen.lock().unwrap().push(x));
                    Ok::<_, StoreError>(((), Some(after)))
                })
                .await
                .unwrap();
            assert_eq!(order.lock().unwrap().last(), Some(&x));
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2]);
    }
}
