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
//!    only once its own commit is durable (or has failed).
//!
//! Every round trip to SQLite's thread costs a wake-up on each side, and the writer does nothing
//! else meanwhile, so each change leaves what it can to the next round trip: its savepoint is
//! released, and its last write ([`Tail`]: a new word's rows) runs, in the round trip that opens
//! the next member's savepoint and runs the read that member starts with ([`Opening`]), or in
//! the commit's. A change that adds a word thus costs one round trip. Where that last write fails,
//! its savepoint is still open: it is rolled back, and its member alone fails.
//!
//! Alone, a change costs one more turn of the mutex; with 32 writers, one fsync serves many.
//! Versions stay gap-free and in order per room: each change reads the room inside the group's
//! transaction, where the changes before it are visible, and the publications run in commit
//! order while the mutex is held.
//!
//! The commit runs in a task of its own, so a request cut off by its client cannot leave a group
//! half-committed, and a member cut off while it waits for its turn hands the wait to a task
//! ([`Unanswered`]), so its group is committed all the same. A request cut off in step 1 leaves a
//! mark ([`Cut`]) that the next holder of the mutex cleans up before anything else, so nothing
//! half-done is ever committed. Between the change's last statement and step 2 nothing waits, so
//! a change that joined its group is also published with it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Arguments;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool};
use tokio::sync::{Mutex, MutexGuard, watch};

use super::tail::{OwnedArguments, Tail};
use super::{Conn, Dialect, StoreError};

/// What a change asks to run once it is durable, in commit order (publishing its events).
pub type AfterCommit = Box<dyn FnOnce() + Send>;

/// What a change gives back: its value, what to run once durable, and a last write the writer
/// may carry in its next round trip.
pub type Applied<T> = (T, Option<AfterCommit>, Option<Tail>);

/// The read a change starts with (one statement), run in the round trip that opens its
/// savepoint; the change gets its rows.
pub struct Opening {
    pub sql: &'static str,
    pub arguments: OwnedArguments,
    /// Whether the rows read stay locked until the commit, where the database locks rows
    /// (PostgreSQL: `FOR UPDATE`, so that writers in other processes wait; SQLite's one writer
    /// holds the whole database already).
    pub for_update: bool,
}

/// How a group's commit ended: `None` while it is open, then, for everyone, `Ok` with the
/// members whose own last write failed (and why), or the failure of the whole group.
type Outcome = Option<Result<Arc<Vec<(usize, String)>>, String>>;

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
    /// What the group's last member left for the next round trip.
    pending: Option<Left>,
    /// That member's last write, where it left one (`Left::tail`).
    pending_tail: Option<Tail>,
    /// Where a change was cut off (its request dropped) while it held the mutex.
    cut: Option<Cut>,
    changes: Arc<AtomicU64>,
    commits: Arc<AtomicU64>,
}

impl std::fmt::Debug for WriterState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterState")
            .field("open", &self.open.as_ref().map(|group| group.id))
            .field("pending", &self.pending)
            .field("cut", &self.cut)
            .finish_non_exhaustive()
    }
}

struct OpenGroup {
    id: u64,
    /// Changes applied in this group and not failed since.
    members: usize,
    /// The number the next member gets (its place in the group).
    next_member: usize,
    after_commit: Vec<(usize, AfterCommit)>,
    /// Members whose last write failed after their change returned, and why.
    failed: Vec<(usize, String)>,
    outcome: watch::Sender<Outcome>,
}

/// What the group's last member left open: its savepoint, and whether its last write is still
/// to run (in the next round trip, before that savepoint is released).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Left {
    savepoint: Savepoint,
    member: usize,
    tail: bool,
}

/// A statement a change was running when its request was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// Opening the group's transaction (it had no members yet).
    Begin,
    /// Inside the change's savepoint — or opening it, while `pending` (what the previous member
    /// left) may not be done yet.
    Change {
        savepoint: Savepoint,
        pending: Option<Left>,
    },
}

/// Why a change is undone: it was cut off (its request dropped) or it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Undo {
    Cut,
    Failed,
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
                pending_tail: None,
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
            let (value, after) = change(conn).await?;
            Ok((value, after, None))
        })
        .await
    }

    /// Like [`GroupWriter::write`], with `opening` run in the round trip that opens the change's
    /// savepoint and its rows given to `change`, and the last write `change` leaves (if any)
    /// carried by the next round trip where the database takes several statements at once.
    pub(super) async fn write_opening<T, E>(
        &self,
        opening: Option<Opening>,
        change: impl AsyncFnOnce(&mut Conn, Vec<AnyRow>) -> Result<Applied<T>, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let (value, outcome, group, member) = {
            let mut state = self.lock().await?;
            let (group, outcome, savepoint, rows) = loop {
                let (group, outcome) = state.join().await?;
                let pending = state.pending;
                let (savepoint, open) = Savepoint::open_after(pending.map(|left| left.savepoint));
                state.cut = Some(Cut::Change { savepoint, pending });
                match state
                    .open_savepoint(open, savepoint, opening.as_ref())
                    .await
                {
                    Ok(rows) => break (group, outcome, savepoint, rows),
                    Err(error) => {
                        // Whether what the previous member left was done is unknown. Where
                        // it was not, that member is rolled back, and this one tries again.
                        let pending = state.pending;
                        if !state.undo_change(savepoint, pending, Undo::Failed).await {
                            return Err(error.into());
                        }
                    }
                }
            };
            state.cut = Some(Cut::Change {
                savepoint,
                pending: None,
            });
            let (value, after, tail) = match change(state.conn(), rows).await {
                Ok(applied) => applied,
                Err(error) => {
                    state.undo_change(savepoint, None, Undo::Failed).await;
                    return Err(error);
                }
            };
            let tail = match tail {
                Some(tail) if !state.dialect.runs_statements_together() => {
                    if let Err(error) = tail.run(state.conn()).await {
                        state.undo_change(savepoint, None, Undo::Failed).await;
                        return Err(error.into());
                    }
                    None
                }
                tail => tail,
            };
            let member = state.applied(savepoint, after, tail);
            (value, outcome, group, member)
        };
        // Step 2. Once this member is cut off its wait goes on in a task, so the group commits.
        let mut unanswered = Unanswered {
            state: self.state.clone(),
            group,
            outcome: Some(outcome.clone()),
        };
        see_decided(self.state.clone(), group, outcome.clone()).await;
        unanswered.outcome = None;
        let mut outcome = outcome;
        let decided = outcome
            .wait_for(Option::is_some)
            .await
            .map(|outcome| outcome.clone());
        match decided {
            Ok(Some(Ok(failed))) => match failed.iter().find(|(of, _)| *of == member) {
                None => Ok(value),
                Some((_, why)) => Err(StoreError::GroupCommit(why.clone()).into()),
            },
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

    /// Takes the mutex and makes the writer ready for its holder.
    async fn lock(&self) -> Result<MutexGuard<'_, WriterState>, StoreError> {
        let mut state = self.state.lock().await;
        state.ready().await?;
        Ok(state)
    }
}

/// Waits until `group` is decided, committing it if this member's turn at the writer comes
/// first; the commit itself runs in a task of its own, which finishes it whatever happens to
/// the caller.
async fn see_decided(
    state: Arc<Mutex<WriterState>>,
    group: u64,
    mut committed: watch::Receiver<Outcome>,
) {
    let mut state = tokio::select! {
        biased;
        _ = committed.wait_for(Option::is_some) => return,
        state = state.lock_owned() => state,
    };
    let commit = tokio::spawn(async move {
        if state.ready().await.is_ok() && state.open.as_ref().is_some_and(|open| open.id == group) {
            state.commit().await;
        }
    });
    let _ = commit.await;
}

/// A member waiting for its group's commit; dropped while it waits (its request cut off), it
/// leaves the wait to a task, so the group is committed even when no other member waits.
struct Unanswered {
    state: Arc<Mutex<WriterState>>,
    group: u64,
    /// `None` once the group is decided.
    outcome: Option<watch::Receiver<Outcome>>,
}

impl Drop for Unanswered {
    fn drop(&mut self) {
        if let (Some(outcome), Ok(runtime)) =
            (self.outcome.take(), tokio::runtime::Handle::try_current())
        {
            runtime.spawn(see_decided(self.state.clone(), self.group, outcome));
        }
    }
}

impl WriterState {
    fn conn(&mut self) -> &mut Conn {
        self.conn
            .as_mut()
            .expect("the writer connection is taken when the mutex is")
    }

    /// Makes the writer ready for the holder of its mutex: its connection taken, and what a
    /// change cut off while holding it left behind cleaned up.
    async fn ready(&mut self) -> Result<(), StoreError> {
        if self.conn.is_none() {
            let conn = self.pool.acquire().await?;
            self.conn = Some(conn);
        }
        match self.cut.take() {
            None => {}
            Some(Cut::Change { savepoint, pending }) => {
                self.undo_change(savepoint, pending, Undo::Cut).await;
            }
            Some(Cut::Begin) => {
                // Whether the BEGIN ran is unknown: end whatever it opened (it held nothing).
                let _ = self.execute("ROLLBACK").await;
                self.open = None;
                self.pending = None;
                self.pending_tail = None;
            }
        }
        Ok(())
    }

    /// Runs statements without arguments: prepared once and kept on SQLite; as one simple
    /// query on PostgreSQL (without arguments sqlx does not prepare them, so several may go in
    /// one).
    async fn execute(&mut self, sql: &str) -> Result<(), StoreError> {
        sqlx::Executor::execute(&mut *self.conn(), sql).await?;
        Ok(())
    }

    /// Runs what the previous member left (its last write, the release of its savepoint), opens
    /// this member's `savepoint` (`open` does both of the latter) and runs the member's
    /// `opening` read: in one round trip where the database takes several statements at once,
    /// in two otherwise. Once this returns `Ok`, nothing is left pending; on an error, whether
    /// it is is unknown (`pending` still tells what was).
    async fn open_savepoint(
        &mut self,
        open: &str,
        savepoint: Savepoint,
        opening: Option<&Opening>,
    ) -> Result<Vec<AnyRow>, StoreError> {
        if self.dialect.runs_statements_together() {
            let mut arguments = AnyArguments::default();
            let mut sql = String::new();
            if let Some(opening) = opening {
                opening.arguments.add_to(&mut arguments)?;
            }
            // Kept until the trip is done: cut off, it may have to run again (`undo_change`).
            let tail = self.pending_tail.as_ref();
            if let Some(tail) = tail {
                // In a savepoint of its own, nested in its member's, which `open` releases with
                // it; the read's arguments come first, so the tail's are numbered after them.
                sql.push_str("SAVEPOINT t; ");
                sql.push_str(&tail.sql_after(arguments.len()));
                sql.push_str("; ");
                tail.add_arguments(&mut arguments)?;
            }
            sql.push_str(open);
            if let Some(opening) = opening {
                sql.push_str("; ");
                sql.push_str(opening.sql);
            }
            let conn = self
                .conn
                .as_mut()
                .expect("the writer connection is taken when the mutex is");
            let rows = sqlx::query_with(&sql, arguments)
                .fetch_all(&mut **conn)
                .await?;
            self.pending = None;
            self.pending_tail = None;
            return Ok(rows);
        }
        debug_assert!(
            self.pending_tail.is_none(),
            "tails run at once where statements run apart"
        );
        self.execute(open).await?;
        self.pending = None;
        self.cut = Some(Cut::Change {
            savepoint,
            pending: None,
        });
        let Some(opening) = opening else {
            return Ok(Vec::new());
        };
        let for_update = match (opening.for_update, self.dialect) {
            (true, Dialect::Postgres) => " FOR UPDATE",
            _ => "",
        };
        let sql = format!("{}{for_update}", opening.sql);
        Ok(sqlx::query_with(&sql, opening.arguments.bound()?)
            .fetch_all(&mut *self.conn())
            .await?)
    }

    /// Records a member's applied change: it leaves its savepoint open, and its last write (if
    /// any) to run, for the next round trip. Returns the member's place in its group.
    fn applied(
        &mut self,
        savepoint: Savepoint,
        after: Option<AfterCommit>,
        tail: Option<Tail>,
    ) -> usize {
        self.cut = None;
        let open = self
            .open
            .as_mut()
            .expect("the group is open while a member holds the writer");
        let member = open.next_member;
        open.next_member += 1;
        open.members += 1;
        if let Some(after) = after {
            open.after_commit.push((member, after));
        }
        self.pending = Some(Left {
            savepoint,
            member,
            tail: tail.is_some(),
        });
        self.pending_tail = tail;
        member
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
                next_member: 0,
                after_commit: Vec::new(),
                failed: Vec::new(),
                outcome: watch::channel(None).0,
            });
        }
        let open = self.open.as_ref().expect("opened above");
        Ok((open.id, open.outcome.subscribe()))
    }

    /// Rolls back the change in `savepoint`, keeping its group's other members. `pending` is
    /// what the previous member left, where it may not be done (the change was cut off, or
    /// failed, while opening its own savepoint): its savepoint is released, so that none stays
    /// open. Where its last write was being carried, the trip is looked at: a write the trip
    /// did not finish is left pending again if the change was cut off, and fails its member
    /// (rolled back; then this returns `true`, for the change to try again) if the trip failed.
    /// A group that is left with no member is ended, so no transaction stays open for nothing.
    async fn undo_change(
        &mut self,
        savepoint: Savepoint,
        pending: Option<Left>,
        how: Undo,
    ) -> bool {
        if self.dialect == Dialect::Postgres {
            // Tails run at once there: none is ever pending.
            self.pending_tail = None;
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
            } else {
                self.end_if_empty().await;
            }
            return false;
        }
        // Each fails, changing nothing, where its savepoint is not open.
        let _ = self.execute(savepoint.roll_back()).await;
        let tail = self.pending_tail.take();
        self.pending = None;
        self.cut = None;
        let mut previous_undone = false;
        match (pending, tail) {
            (Some(left), Some(tail)) => {
                // The trip ran `SAVEPOINT t; <tail>; RELEASE <left's>; ...`, one statement at a
                // time, and stopped between two of them.
                let inside = match self.execute("ROLLBACK TO t; RELEASE t").await {
                    // It stopped inside the last write, now undone.
                    Ok(()) => Some(true),
                    // It stopped before it, or after the release of its member's savepoint.
                    Err(error) if is_no_such_savepoint(&error) => {
                        tail.has_run(self.conn()).await.map(|ran| !ran)
                    }
                    Err(_) => None,
                };
                match (inside, how) {
                    // Cut off before the write was done: the next trip carries it again.
                    (Some(true), Undo::Cut) => {
                        self.pending = Some(left);
                        self.pending_tail = Some(tail);
                    }
                    // The write ran, and its member's savepoint was released with it.
                    (Some(false), _) => {}
                    // The trip failed before the write was done (in it, most likely): its
                    // member is rolled back and fails, so the one after can try again.
                    (Some(true), Undo::Failed) => {
                        if self.execute(left.savepoint.roll_back()).await.is_err() {
                            self.abort("the writer could not undo a change's last write")
                                .await;
                            return false;
                        }
                        self.fail_member(left.member, "its last write failed");
                        previous_undone = true;
                    }
                    (None, _) => {
                        self.abort("the writer could not tell whether a change was stored")
                            .await;
                        return false;
                    }
                }
            }
            (Some(left), None) => {
                let _ = self.execute(left.savepoint.release()).await;
            }
            (None, _) => {}
        }
        self.end_if_empty().await;
        previous_undone
    }

    /// A member whose last write failed, after its change returned: its events are not
    /// published, and it is told why once its group is decided.
    fn fail_member(&mut self, member: usize, why: &str) {
        let Some(open) = self.open.as_mut() else {
            return;
        };
        tracing::error!(
            member,
            why,
            "a change's last write failed; it was rolled back"
        );
        open.members -= 1;
        open.after_commit.retain(|(of, _)| *of != member);
        open.failed.push((member, why.to_owned()));
    }

    /// Ends the open group if it has no member left, telling those that failed.
    async fn end_if_empty(&mut self) {
        if self.open.as_ref().is_some_and(|open| open.members == 0) {
            let _ = self.execute("ROLLBACK").await;
            self.pending = None;
            if let Some(group) = self.open.take() {
                group.outcome.send_replace(Some(Ok(Arc::new(group.failed))));
            }
        }
    }

    /// Rolls the open group back, telling its members why.
    async fn abort(&mut self, why: &str) {
        let _ = self.execute("ROLLBACK").await;
        self.pending = None;
        self.pending_tail = None;
        if let Some(group) = self.open.take() {
            tracing::error!(members = group.members, why, "a group was rolled back");
            group.outcome.send_replace(Some(Err(why.to_owned())));
        }
    }

    /// Commits the open group, runs its members' after-commit work in order, and tells them.
    async fn commit(&mut self) {
        if self.open.is_none() {
            return;
        }
        // `COMMIT` ends the last member's savepoint too; its last write, if it left one, runs
        // first, in the same round trip.
        let committed = match (self.pending.take(), self.pending_tail.take()) {
            (Some(left), Some(tail)) => self.commit_after(left, tail).await,
            _ => self.commit_alone().await,
        };
        let Some(group) = self.open.take() else {
            return;
        };
        let outcome = match committed {
            Ok(()) => {
                self.commits.fetch_add(1, Ordering::Relaxed);
                self.changes
                    .fetch_add(group.members as u64, Ordering::Relaxed);
                for (_, after) in group.after_commit {
                    after();
                }
                Ok(Arc::new(group.failed))
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

    /// The last member's last write, the release of its savepoint and the commit, in one round
    /// trip. Where the write fails, its member alone is rolled back, and the others committed.
    async fn commit_after(&mut self, left: Left, tail: Tail) -> Result<(), StoreError> {
        let sql = format!(
            "{}; {}; COMMIT",
            tail.sql_after(0),
            left.savepoint.release()
        );
        let mut arguments = AnyArguments::default();
        tail.add_arguments(&mut arguments)?;
        let Err(error) = sqlx::query_with(&sql, arguments)
            .execute(&mut *self.conn())
            .await
        else {
            return Ok(());
        };
        // If the savepoint is still open, the write (or its release) failed; else the commit.
        match self.execute(left.savepoint.roll_back()).await {
            Ok(()) => {
                self.fail_member(left.member, &error.to_string());
                self.commit_alone().await
            }
            Err(_) => Err(error.into()),
        }
    }

    async fn commit_alone(&mut self) -> Result<(), StoreError> {
        // On PostgreSQL, `COMMIT` of a transaction a failed statement aborted answers as if it
        // succeeded (and rolls back): a statement first tells which it is.
        if self.dialect == Dialect::Postgres {
            self.execute("SELECT 1").await?;
        }
        self.execute("COMMIT").await
    }
}

/// Whether SQLite refused a `ROLLBACK TO` because the savepoint was not open.
fn is_no_such_savepoint(error: &StoreError) -> bool {
    error.to_string().contains("no such savepoint")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Cut, Savepoint};
    use crate::server::store::{Conn, OwnedArguments, Store, StoreError, Tail};

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

    /// A change that inserts `x`, leaving the insert of `x + 100` as its last write; `fails`
    /// makes that write fail halfway (its second statement breaks a constraint).
    async fn write_leaving(
        store: &Store,
        x: i64,
        hold: Duration,
        fails: bool,
    ) -> Result<i64, StoreError> {
        let sql = if fails {
            "INSERT INTO t (x) VALUES ($1); INSERT INTO t (x) VALUES (NULL)"
        } else {
            "INSERT INTO t (x) VALUES ($1)"
        };
        let published = PUBLISHED.with(Clone::clone);
        store
            .groups
            .write_opening(None, async |conn: &mut Conn, _| {
                insert(conn, x).await?;
                tokio::time::sleep(hold).await;
                let after: super::AfterCommit = Box::new(move || published.lock().unwrap().push(x));
                Ok::<_, StoreError>((
                    x,
                    Some(after),
                    Some(Tail::new(
                        sql,
                        1,
                        OwnedArguments::default().integer(x + 100),
                    )),
                ))
            })
            .await
    }

    tokio::task_local! {
        static PUBLISHED: std::sync::Arc<std::sync::Mutex<Vec<i64>>>;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn last_writes_ride_the_next_trip_and_one_that_fails_fails_its_change_alone() {
        let (store, _dir) = store().await;
        let published = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let before = store.commit_stats();
        // 1 holds the writer while 2, 3 and 4 queue: one group. 2's last write runs in 3's
        // opening trip and fails; 4's runs in the commit's trip and fails too; 1's and 3's stay.
        let spawn = |x: i64, hold: u64, fails: bool| {
            let store = store.clone();
            let published = published.clone();
            tokio::spawn(PUBLISHED.scope(published, async move {
                write_leaving(&store, x, Duration::from_millis(hold), fails).await
            }))
        };
        let first = spawn(1, 300, false);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let second = spawn(2, 0, true);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let third = spawn(3, 0, false);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let fourth = spawn(4, 0, true);
        assert_eq!(first.await.unwrap().unwrap(), 1);
        assert!(matches!(
            second.await.unwrap(),
            Err(StoreError::GroupCommit(_))
        ));
        assert_eq!(third.await.unwrap().unwrap(), 3);
        assert!(matches!(
            fourth.await.unwrap(),
            Err(StoreError::GroupCommit(_))
        ));
        assert_eq!(stored(&store).await, vec![1, 3, 101, 103]);
        assert_eq!(
            *published.lock().unwrap(),
            vec![1, 3],
            "failed changes are not published"
        );
        let after = store.commit_stats();
        assert_eq!(after.changes - before.changes, 2);
        assert_eq!(after.commits - before.commits, 1, "one group");
        // Alone, a change whose last write fails is refused, and the writer goes on.
        let alone = PUBLISHED.scope(
            published.clone(),
            write_leaving(&store, 5, Duration::ZERO, true),
        );
        assert!(alone.await.is_err());
        let next = PUBLISHED.scope(
            published.clone(),
            write_leaving(&store, 6, Duration::ZERO, false),
        );
        assert_eq!(next.await.unwrap(), 6);
        assert_eq!(stored(&store).await, vec![1, 3, 6, 101, 103, 106]);
    }

    /// A member cut off in the round trip that carries the previous member's last write: the
    /// next holder of the writer finds where the trip stopped, and the write is done exactly
    /// once (carried again by the next trip where it was not done), its member never failed.
    #[tokio::test]
    async fn a_last_write_cut_off_with_the_next_trip_is_done_once_all_the_same() {
        // Where the trip stopped: before it, inside the write, after its member's release.
        let stops = [
            "",
            "SAVEPOINT t; INSERT INTO t (x) VALUES (2)",
            "SAVEPOINT t; INSERT INTO t (x) VALUES (2); RELEASE a; SAVEPOINT b",
        ];
        for ran in stops {
            let (store, _dir) = store().await;
            let mut outcome = {
                let mut state = store.groups.lock().await.unwrap();
                let (_, outcome) = state.join().await.unwrap();
                state.execute("SAVEPOINT a").await.unwrap();
                insert(state.conn(), 1).await.unwrap();
                let tail = Tail::new(
                    "INSERT INTO t (x) VALUES ($1)",
                    1,
                    OwnedArguments::default().integer(2),
                )
                .seen_by(
                    "SELECT count(*) FROM t WHERE x = $1",
                    OwnedArguments::default().integer(2),
                );
                let member = state.applied(Savepoint::A, None, Some(tail));
                assert_eq!(member, 0);
                if !ran.is_empty() {
                    state.execute(ran).await.unwrap();
                }
                // The next member's request goes while its trip is on its way.
                let pending = state.pending;
                state.cut = Some(Cut::Change {
                    savepoint: Savepoint::B,
                    pending,
                });
                outcome
            };
            store
                .write(async |conn: &mut Conn| insert(conn, 3).await)
                .await
                .unwrap();
            let decided = outcome.wait_for(Option::is_some).await.unwrap().clone();
            let failed = decided.unwrap().unwrap();
            assert!(failed.is_empty(), "stopped after `{ran}`: {failed:?}");
            assert_eq!(stored(&store).await, vec![1, 2, 3], "stopped after `{ran}`");
        }
    }
}
