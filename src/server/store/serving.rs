//! One serving process per SQLite database.
//!
//! A process's live events (the hub) reach only its own viewers: two `frase serve` on one SQLite
//! database would each show words the other never announces. So the first takes an exclusive
//! lock on a file beside the database for as long as it serves, and a second is refused at start
//! with the reason. The kernel releases the lock when the process ends, however it ends
//! (`SIGKILL` included), so a crash never leaves a stale lock behind; the process id written in
//! the file is only there for the message. `frase export` and `frase migrate` do not take it.
//! (Processes on one PostgreSQL database share live events through it: `live::bus`.)

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use super::{StoreError, create_parent_dir, sqlite_path};

/// Held while this process serves its SQLite database; released when dropped.
#[derive(Debug)]
pub struct ServingLock {
    _file: File,
}

impl ServingLock {
    /// Takes the lock for `database_url` when it names a SQLite file (another kind of database
    /// needs none). Fails with [`StoreError::ServedElsewhere`] while another process holds it.
    pub fn acquire(database_url: &str) -> Result<Option<ServingLock>, StoreError> {
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
        Ok(Some(ServingLock { _file: file }))
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

    #[test]
    fn a_second_lock_on_one_database_is_refused_until_the_first_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("data/frase.db").display());
        let first = ServingLock::acquire(&url).unwrap();
        assert!(first.is_some(), "a SQLite file gets a lock");
        match ServingLock::acquire(&url) {
            Err(StoreError::ServedElsewhere { database, pid }) => {
                assert!(database.ends_with("data/frase.db"), "{database}");
                assert_eq!(pid, Some(std::process::id()));
            }
            other => panic!("a second lock was not refused: {other:?}"),
        }
        drop(first);
        assert!(ServingLock::acquire(&url).unwrap().is_some());
    }

    #[test]
    fn databases_that_are_not_sqlite_files_need_no_lock() {
        assert!(ServingLock::acquire("sqlite::memory:").unwrap().is_none());
        assert!(
            ServingLock::acquire("postgres://postgres@127.0.0.1/test")
                .unwrap()
                .is_none()
        );
    }
}
