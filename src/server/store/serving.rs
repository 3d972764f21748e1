//! One serving process per database, while processes cannot share live events.
//!
//! A process's live events (the hub) reach only its own viewers: two `frase serve` on one
//! database would each show words the other never announces. So the first claims the database
//! for as long as it serves, and a second is refused at start with the reason. `frase export`
//! and `frase migrate` do not claim it.
//!
//! - SQLite: an exclusive lock on a file beside the database. The kernel releases it when the
//!   process ends, however it ends (`SIGKILL` included), so a crash never leaves a stale lock
//!   behind; the process id written in the file is only there for the message.
//! - PostgreSQL: a session advisory lock, held by a connection of its own. PostgreSQL releases
//!   it when that connection ends, with the process or not. (Processes will share a PostgreSQL
//!   database once its notifications carry live events between them.)

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use sqlx::Connection;

use super::{Dialect, StoreError, create_parent_dir, sqlite_path};

/// Held while this process serves its database; released when dropped.
#[derive(Debug)]
pub enum ServingLock {
    Sqlite(File),
    Postgres(sqlx::AnyConnection),
}

/// The advisory lock key of a serving process: "frase" in ASCII.
const POSTGRES_SERVING_KEY: i64 = 0x66_72_61_73_65;

impl ServingLock {
    /// Claims the database at `database_url` (an in-memory SQLite database needs no claim).
    /// Fails with [`StoreError::ServedElsewhere`] while another process holds it.
    pub async fn acquire(database_url: &str) -> Result<Option<ServingLock>, StoreError> {
        match Dialect::of_url(database_url) {
            Some(Dialect::Postgres) => ServingLock::postgres(database_url).await.map(Some),
            _ => ServingLock::sqlite(database_url),
        }
    }

    async fn postgres(database_url: &str) -> Result<ServingLock, StoreError> {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(database_url).await?;
        let claimed: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(POSTGRES_SERVING_KEY)
            .fetch_one(&mut conn)
            .await?;
        if !claimed {
            return Err(StoreError::PostgresServedElsewhere);
        }
        Ok(ServingLock::Postgres(conn))
    }

    fn sqlite(database_url: &str) -> Result<Option<ServingLock>, StoreError> {
        let Some(database) = sqlite_path(database_url).filter(|path| is_file_path(path)) else {
            return Ok(None);
        };
        let database = Path::new(database);
        create_parent_dir(database)?;
        let path = lock_path(database);
        let lock_error = |source: std::io::Error| StoreError::Lock {
            path: path.display().to_string(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(lock_error)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(StoreError::ServedElsewhere {
                    database: database.display().to_string(),
                    pid: holder.trim().parse().ok(),
                });
            }
            Err(TryLockError::Error(source)) => return Err(lock_error(source)),
        }
        // Ours now: say who holds it.
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "{}", std::process::id()))
            .map_err(lock_error)?;
        Ok(Some(ServingLock::Sqlite(file)))
    }
}

/// The lock file beside `database`: `frase.db` → `frase.db.lock`.
fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Whether a SQLite path names a file (not an in-memory database).
fn is_file_path(path: &str) -> bool {
    !path.is_empty() && path != ":memory:" && !path.starts_with("file::memory:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_lock_on_one_database_is_refused_until_the_first_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("data/frase.db").display());
        let first = ServingLock::acquire(&url).await.unwrap();
        assert!(first.is_some(), "a SQLite file gets a lock");
        match ServingLock::acquire(&url).await {
            Err(StoreError::ServedElsewhere { database, pid }) => {
                assert!(database.ends_with("data/frase.db"), "{database}");
                assert_eq!(pid, Some(std::process::id()));
            }
            other => panic!("a second lock was not refused: {other:?}"),
        }
        drop(first);
        assert!(ServingLock::acquire(&url).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn an_in_memory_database_needs_no_lock() {
        assert!(
            ServingLock::acquire("sqlite::memory:")
                .await
                .unwrap()
                .is_none()
        );
    }
}
