//! Storage: SQLite (WAL, the embedded default) or PostgreSQL, reached through sqlx's `Any`
//! driver with one set of queries where the dialects agree ([`Dialect`] where they do not), and
//! their migrations.
//!
//! Reads go through a pool of reader connections. Writes go through exactly one writer
//! connection per process ([`Store::write`]): SQLite admits one writer at a time anyway. Changes
//! that arrive together share one transaction and one commit (`group`), and each change's live
//! events are published in commit order while the writer is held — which is what makes every
//! room's changes reach the live hub in version order (see `server::rooms`).

mod changes;
mod group;
mod idempotency;
mod rooms;
mod serving;
mod tail;
mod users;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Executor, Transaction};

pub use changes::{ChangeRow, changes_after, insert_change, oldest_change_version};
pub use group::{AfterCommit, Applied, CommitStats, Opening};
pub use idempotency::{
    ClaimedKey, KeyUse, REQUEST_KEY, SettledKeys, StoredResponse, claim_key, complete_key,
    mark_key_committed, release_key, settle_keys_in_flight,
};
pub use rooms::{
    NewAuthor, NewWord, RoomRow, SentenceRow, WordPlace, WordRow, authored_story, contributors,
    current_sentence, delete_room, delete_word, delete_words_of_sentence, finish_sentence,
    finished_sentence_count, insert_room, insert_word, last_word_of_sentence, open_sentence,
    opened_room, opened_word_place, room, room_opening, rooms_with_rounds,
    set_finished_sentence_text, set_room_version, set_round, story, update_room, update_word_text,
    word_by_id, word_opening, word_place, word_tail, word_view, words_after, words_of_sentence,
};
pub use serving::ServingLock;
pub use tail::{OwnedArguments, Tail};
pub use users::{ensure_user, set_user_name, user_name};

/// The rows of a change's opening read ([`Store::write_opening`]).
pub type OpenedRows = Vec<AnyRow>;

/// A read connection or transaction: every query takes one of these.
pub type Conn = sqlx::AnyConnection;

/// A read transaction ([`Store::read`]).
pub type ReadTransaction = Transaction<'static, Any>;

/// The SQL a database speaks, where SQLite's and PostgreSQL's differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The dialect of a database URL, if frase knows it.
    pub fn of_url(url: &str) -> Option<Dialect> {
        if sqlite_path(url).is_some() {
            Some(Dialect::Sqlite)
        } else if ["postgres://", "postgresql://"]
            .iter()
            .any(|scheme| url.starts_with(scheme))
        {
            Some(Dialect::Postgres)
        } else {
            None
        }
    }

    /// The dialect `conn` speaks.
    pub fn of(conn: &Conn) -> Dialect {
        match conn.backend_name() {
            "PostgreSQL" => Dialect::Postgres,
            _ => Dialect::Sqlite,
        }
    }

    /// Whether one query may hold several statements with their arguments (one round trip):
    /// SQLite's driver runs them one after the other; PostgreSQL prepares one statement per
    /// query.
    pub fn runs_statements_together(self) -> bool {
        self == Dialect::Sqlite
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL `{0}`: use sqlite://FILE or postgres://...")]
    UnsupportedUrl(String),
    #[error("cannot create the database directory {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{database} is being served by another frase process{}. Two processes on one SQLite \
         database would each miss the other's live events (words posted to one would not reach \
         the viewers of the other). Stop that process, serve another data directory \
         (--data-dir), or run several processes on PostgreSQL (--database postgres://...).",
        pid.map(|pid| format!(" (pid {pid})")).unwrap_or_default()
    )]
    ServedElsewhere { database: String, pid: Option<u32> },
    #[error("cannot lock {path}: {source}")]
    Lock {
        path: String,
        source: std::io::Error,
    },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// This request's idempotency key is no longer this process's: taken for cut off (its
    /// process seemed gone) by a retry on another, which runs the change instead.
    #[error("this request's idempotency key was taken over by a retry")]
    KeyTakenOver,
    /// The commit this change shared with others failed (or never ran), or its own last write
    /// failed: it is not stored.
    #[error("the commit of this change failed: {0}")]
    GroupCommit(String),
}

/// The database, opened.
#[derive(Clone, Debug)]
pub struct Store {
    dialect: Dialect,
    /// This process among those serving the database: the claimer of its idempotency keys,
    /// and (PostgreSQL) the `application_name` of its connections.
    process: Arc<str>,
    readers: AnyPool,
    /// A pool of exactly one connection: the writer.
    writer: AnyPool,
    /// Group commit on that connection.
    groups: Arc<group::GroupWriter>,
}

/// `url` (PostgreSQL) with `application_name=frase <process>`: every connection a process makes
/// says which process it is (`pg_stat_activity`).
fn with_application_name(url: &str, process: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}application_name=frase%20{process}")
}

/// What the SQLite writer is set to. `synchronous=FULL`: a word is on disk before its 201 is
/// sent, even if the machine loses power. `temp_store = MEMORY`: each change of a group runs in
/// a savepoint, and SQLite keeps what a savepoint would roll back to in a sub-journal, which
/// past 64 KiB (a few words into a group) it spilled to a temporary file in `/var/tmp`: one
/// created, written page by page and deleted at every commit. It is never needed after a commit
/// or a crash, so it stays in memory (4 KiB per page a savepoint changes, freed by the commit
/// at the latest).
const SQLITE_WRITER_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA temp_store = MEMORY;";
const SQLITE_READER_PRAGMAS: &str =
    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA query_only = ON;";

impl Store {
    /// Opens (creating if needed) the database at `url`, with 8 read connections. Does not
    /// migrate.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Store::open_with(url, 8).await
    }

    /// [`Store::open`] with `readers` read connections.
    pub async fn open_with(url: &str, readers: u32) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let dialect =
            Dialect::of_url(url).ok_or_else(|| StoreError::UnsupportedUrl(url.to_owned()))?;
        let process: Arc<str> =
            format!("{}-{:08x}", std::process::id(), rand::random::<u32>()).into();
        let (writer_url, reader_url, writer_pragmas, reader_pragmas) = match dialect {
            Dialect::Sqlite => {
                let path = sqlite_path(url).unwrap_or_default();
                create_parent_dir(Path::new(path))?;
                (
                    with_sqlite_mode(url, "rwc"),
                    with_sqlite_mode(url, "ro"),
                    SQLITE_WRITER_PRAGMAS,
                    SQLITE_READER_PRAGMAS,
                )
            }
            Dialect::Postgres => {
                let named = with_application_name(url, &process);
                (named.clone(), named, "", "")
            }
        };
        let writer = AnyPoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if !writer_pragmas.is_empty() {
                        conn.execute(writer_pragmas).await?;
                    }
                    Ok(())
                })
            })
            .connect(&writer_url)
            .await?;
        let readers = AnyPoolOptions::new()
            .max_connections(readers.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if !reader_pragmas.is_empty() {
                        conn.execute(reader_pragmas).await?;
                    }
                    Ok(())
                })
            })
            .connect_lazy(&reader_url)?;
        Ok(Store {
            dialect,
            process,
            readers,
            groups: Arc::new(group::GroupWriter::new(writer.clone(), dialect)),
            writer,
        })
    }

    /// The SQL this store's database speaks.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// This process among those serving the database.
    pub fn process_id(&self) -> &str {
        &self.process
    }

    /// A PostgreSQL `url` whose connections carry this process's name, as all of its do: a
    /// process with no connection left is gone (its idempotency keys are settled by others).
    pub fn named_url(&self, url: &str) -> String {
        with_application_name(url, &self.process)
    }

    /// Applies the migrations that have not run yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.groups.release().await?;
        match self.dialect {
            Dialect::Sqlite => {
                sqlx::migrate!("migrations/sqlite")
                    .run(&self.writer)
                    .await?
            }
            Dialect::Postgres => {
                sqlx::migrate!("migrations/postgres")
                    .run(&self.writer)
                    .await?
            }
        }
        Ok(())
    }

    /// Answers whether the database responds.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.readers).await?;
        Ok(())
    }

    /// What the writer has made durable since start, and in how many commits.
    pub fn commit_stats(&self) -> CommitStats {
        self.groups.stats()
    }

    /// Runs `change` on the writer and returns once it is durable; see [`Store::write_then`].
    pub async fn write<T, E>(
        &self,
        change: impl AsyncFnOnce(&mut Conn) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        self.groups
            .write(async |conn: &mut Conn| change(conn).await.map(|value| (value, None)))
            .await
    }

    /// Runs `change` on the writer, in a transaction it may share with changes that arrive at
    /// the same time (group commit), and returns once its commit is durable. What it returns
    /// beside its value runs once it is durable, in commit order, before anyone is answered.
    /// A change that returns an error is rolled back alone; the others of its group go on.
    pub async fn write_then<T, E>(
        &self,
        change: impl AsyncFnOnce(&mut Conn) -> Result<(T, Option<AfterCommit>), E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        self.groups.write(change).await
    }

    /// Like [`Store::write_then`], with `opening` read in the round trip to SQLite that opens
    /// the change's savepoint (one trip fewer), its rows given to `change`; the last write
    /// `change` leaves, if any ([`Tail`]), runs in the writer's next round trip on SQLite (one
    /// more trip fewer), at once on PostgreSQL.
    pub async fn write_opening<T, E>(
        &self,
        opening: Opening,
        change: impl AsyncFnOnce(&mut Conn, OpenedRows) -> Result<Applied<T>, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        self.groups.write_opening(Some(opening), change).await
    }

    /// A read transaction: every query in it sees one consistent snapshot.
    pub async fn read(&self) -> Result<ReadTransaction, StoreError> {
        Ok(match self.dialect {
            Dialect::Sqlite => self.readers.begin().await?,
            Dialect::Postgres => {
                self.readers
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .await?
            }
        })
    }

    pub async fn close(&self) {
        if let Err(error) = self.groups.release().await {
            tracing::warn!(%error, "closing the writer");
        }
        self.writer.close().await;
        self.readers.close().await;
    }
}

/// The file a `sqlite:` URL names (without its `?options`), or None for another kind of URL.
fn sqlite_path(url: &str) -> Option<&str> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    Some(path.split('?').next().unwrap_or(path))
}

/// A `sqlite:` URL opening its file in `mode` (`rwc`: read, write, create; `ro`: read only).
fn with_sqlite_mode(url: &str, mode: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}mode={mode}")
}

/// Creates the directory `path` goes in, if it has one and it is missing.
fn create_parent_dir(path: &Path) -> Result<(), StoreError> {
    match path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        Some(dir) => std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
            path: dir.display().to_string(),
            source,
        }),
        None => Ok(()),
    }
}

/// The current time as stored and sent: RFC 3339, UTC, millisecond precision.
pub fn now_rfc3339() -> String {
    rfc3339_from_ms(now_ms())
}

/// The current time in milliseconds since the Unix epoch (the clock of `turns` rounds).
pub fn now_ms() -> i64 {
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX)
}

/// A time in milliseconds since the Unix epoch as RFC 3339, UTC, millisecond precision.
pub fn rfc3339_from_ms(ms: i64) -> String {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|time| time.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}
