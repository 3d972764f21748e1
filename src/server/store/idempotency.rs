//! Stored first responses for `Idempotency-Key` retries.

use sqlx::Row;

use super::{Conn, Dialect, StoreError};

tokio::task_local! {
    /// The idempotency key of the request this task is serving, while its handler runs: the
    /// change it makes marks the key in its own transaction ([`mark_key_committed`]).
    pub static REQUEST_KEY: ClaimedKey;
}

/// A key claimed by a request being served, by this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedKey {
    pub user_id: String,
    pub key: String,
    /// The process serving it ([`super::Store::process_id`]).
    pub process: String,
}

/// Keys left without a response by a process that is gone, settled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SettledKeys {
    /// Their change had committed: they now answer that it is stored.
    pub answered: u64,
    /// Their change had not: they are forgotten, so a retry runs afresh.
    pub released: u64,
}

/// A response kept for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    /// The headers that matter (name, value).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What a key means for a new request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyUse {
    /// First use: the request runs, and its response is then stored.
    Fresh,
    /// The same request again: its first response.
    Replay(StoredResponse),
    /// The same key with another request.
    Mismatch,
    /// The first request with this key has not finished.
    InFlight,
}

/// Claims `key` for a request whose fingerprint is `hash`, forgetting keys older than `cutoff`.
/// A key whose first request was cut off (its process is gone: killed, or crashed, on this
/// machine or another) is settled first, so that no retry stays in flight for ever.
pub async fn claim_key(
    conn: &mut Conn,
    claim: &ClaimedKey,
    hash: &str,
    now: &str,
    cutoff: &str,
) -> Result<KeyUse, StoreError> {
    sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(cutoff)
        .execute(&mut *conn)
        .await?;
    let mut settled = false;
    loop {
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at, claimed_by) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, key) DO NOTHING",
        )
        .bind(&claim.user_id)
        .bind(&claim.key)
        .bind(hash)
        .bind(now)
        .bind(&claim.process)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(KeyUse::Fresh);
        }
        let found = stored_use(conn, &claim.user_id, &claim.key, hash).await?;
        if found != KeyUse::InFlight || settled {
            return Ok(found);
        }
        // In flight: still being served, or cut off with its process.
        let cut_off = settle_cut_off(conn, Some((&claim.user_id, &claim.key))).await?;
        if cut_off == SettledKeys::default() {
            return Ok(KeyUse::InFlight);
        }
        settled = true;
    }
}

/// What the stored key `key` of `user_id` means for a request whose fingerprint is `hash`.
async fn stored_use(
    conn: &mut Conn,
    user_id: &str,
    key: &str,
    hash: &str,
) -> Result<KeyUse, StoreError> {
    let row = sqlx::query(
        "SELECT request_hash, status, headers, body FROM idempotency_keys WHERE user_id = $1 AND key = $2",
    )
    .bind(user_id)
    .bind(key)
    .fetch_one(&mut *conn)
    .await?;
    let stored_hash: String = row.try_get("request_hash")?;
    if stored_hash != hash {
        return Ok(KeyUse::Mismatch);
    }
    let Some(status) = row.try_get::<Option<i64>, _>("status")? else {
        return Ok(KeyUse::InFlight);
    };
    let headers: String = row
        .try_get::<Option<String>, _>("headers")?
        .unwrap_or_default();
    let headers = serde_json::from_str(&headers)
        .map_err(|e| StoreError::Corrupt(format!("stored headers: {e}")))?;
    Ok(KeyUse::Replay(StoredResponse {
        status: u16::try_from(status).map_err(|_| StoreError::Corrupt("stored status".into()))?,
        headers,
        body: row
            .try_get::<Option<Vec<u8>>, _>("body")?
            .unwrap_or_default(),
    }))
}

/// Keeps the first response of a key this process claimed.
pub async fn complete_key(
    conn: &mut Conn,
    claim: &ClaimedKey,
    response: &StoredResponse,
) -> Result<(), StoreError> {
    let headers = serde_json::to_string(&response.headers)
        .map_err(|e| StoreError::Corrupt(format!("headers JSON: {e}")))?;
    sqlx::query(
        "UPDATE idempotency_keys SET status = $1, headers = $2, body = $3 \
         WHERE user_id = $4 AND key = $5 AND claimed_by = $6",
    )
    .bind(i64::from(response.status))
    .bind(headers)
    .bind(&response.body)
    .bind(&claim.user_id)
    .bind(&claim.key)
    .bind(&claim.process)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Gives up a key this process claimed whose request failed on our side, so that a retry may
/// run it again — unless its change had already committed: then the key keeps the "stored"
/// answer, and a retry can never add the change a second time.
pub async fn release_key(conn: &mut Conn, claim: &ClaimedKey) -> Result<(), StoreError> {
    let committed = sqlx::query(
        "SELECT committed_room, committed_version FROM idempotency_keys \
         WHERE user_id = $1 AND key = $2 AND claimed_by = $3 AND status IS NULL \
           AND committed_room IS NOT NULL",
    )
    .bind(&claim.user_id)
    .bind(&claim.key)
    .bind(&claim.process)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = committed {
        let answer = stored_answer(
            row.try_get("committed_room")?,
            row.try_get("committed_version")?,
        );
        return complete_key(conn, claim, &answer).await;
    }
    sqlx::query(
        "DELETE FROM idempotency_keys \
         WHERE user_id = $1 AND key = $2 AND claimed_by = $3 AND status IS NULL",
    )
    .bind(&claim.user_id)
    .bind(&claim.key)
    .bind(&claim.process)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The answer kept for a key whose change committed but whose own response was lost (a crash,
/// or a failure after the commit): 200, saying where the change is.
fn stored_answer(room: String, version: Option<i64>) -> StoredResponse {
    let body = serde_json::json!({
        "status": "stored",
        "room": room,
        "version": version,
        "detail": "This request's change was stored; its original response was lost.",
    });
    StoredResponse {
        status: 200,
        headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        body: body.to_string().into_bytes(),
    }
}

/// Marks the key of the request being served (if it has one) as having its change committed,
/// inside the transaction that commits it: `room` at `version`. Fails (and so does the change)
/// if the key is no longer this process's: it was taken for cut off, and a retry runs it.
pub async fn mark_key_committed(
    conn: &mut Conn,
    room: &str,
    version: i64,
) -> Result<(), StoreError> {
    let Ok(claim) = REQUEST_KEY.try_with(Clone::clone) else {
        return Ok(());
    };
    let marked = sqlx::query(
        "UPDATE idempotency_keys SET committed_room = $1, committed_version = $2 \
         WHERE user_id = $3 AND key = $4 AND claimed_by = $5 AND status IS NULL",
    )
    .bind(room)
    .bind(version)
    .bind(&claim.user_id)
    .bind(&claim.key)
    .bind(&claim.process)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if marked == 0 {
        return Err(StoreError::KeyTakenOver);
    }
    Ok(())
}

/// Which in-flight keys were cut off: their process is gone. With SQLite, one process serves
/// the database (`ServingLock`), so at start every key in flight is; this is only called then,
/// or for a key a request finds in flight, which on SQLite is being served. With PostgreSQL a
/// process is gone when no connection of the database carries its name (`application_name`,
/// set on every connection a process makes: `with_application_name`): a killed process's
/// connections close with it.
fn cut_off_condition(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "1 = 1",
        Dialect::Postgres => {
            "NOT EXISTS (SELECT 1 FROM pg_stat_activity a \
             WHERE a.application_name = 'frase ' || claimed_by)"
        }
    }
}

/// Settles the keys in flight whose process is gone (only `key`, if given): one whose change
/// committed keeps a 200 saying so (its original response died with the process); one whose
/// change did not is released for a fresh try.
async fn settle_cut_off(
    conn: &mut Conn,
    key: Option<(&str, &str)>,
) -> Result<SettledKeys, StoreError> {
    let dialect = Dialect::of(conn);
    if dialect == Dialect::Sqlite && key.is_some() {
        // One process serves a SQLite database: a key it finds in flight is its own.
        return Ok(SettledKeys::default());
    }
    let (user_id, key) = key.unzip();
    let which = format!(
        "status IS NULL AND ($1 IS NULL OR (user_id = $1 AND key = $2)) AND {}",
        cut_off_condition(dialect)
    );
    let answered = sqlx::query(&format!(
        "SELECT user_id, key, claimed_by, committed_room, committed_version FROM idempotency_keys \
         WHERE {which} AND committed_room IS NOT NULL"
    ))
    .bind(user_id)
    .bind(key)
    .fetch_all(&mut *conn)
    .await?;
    for row in &answered {
        let answer = stored_answer(
            row.try_get("committed_room")?,
            row.try_get("committed_version")?,
        );
        let claim = ClaimedKey {
            user_id: row.try_get("user_id")?,
            key: row.try_get("key")?,
            process: row.try_get("claimed_by")?,
        };
        complete_key(conn, &claim, &answer).await?;
    }
    let released = sqlx::query(&format!(
        "DELETE FROM idempotency_keys WHERE {which} AND committed_room IS NULL"
    ))
    .bind(user_id)
    .bind(key)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(SettledKeys {
        answered: answered.len() as u64,
        released,
    })
}

/// At start, before anything is served: the keys still without a response whose process is
/// gone (with SQLite, every one: the previous run's) are settled.
pub async fn settle_keys_in_flight(conn: &mut Conn) -> Result<SettledKeys, StoreError> {
    settle_cut_off(conn, None).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::{Conn, Store};

    async fn store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("frase.db").display());
        let store = Store::open(&url).await.unwrap();
        store.migrate().await.unwrap();
        (store, dir)
    }

    fn claimed(key: &str, process: &str) -> ClaimedKey {
        ClaimedKey {
            user_id: "u1".into(),
            key: key.into(),
            process: process.into(),
        }
    }

    async fn claim_as(store: &Store, key: &str, process: &str) -> KeyUse {
        store
            .write(async |conn: &mut Conn| {
                claim_key(
                    conn,
                    &claimed(key, process),
                    "hash",
                    "2026-12-02T00:00:00Z",
                    "2026-12-01T00:00:00Z",
                )
                .await
            })
            .await
            .unwrap()
    }

    async fn claim(store: &Store, key: &str) -> KeyUse {
        claim_as(store, key, "p1").await
    }

    /// A failure after the change committed must not free the key for a second change.
    #[tokio::test]
    async fn a_key_whose_change_committed_is_never_released() {
        let (store, _dir) = store().await;
        for (key, committed) in [("k-committed", true), ("k-not", false)] {
            assert_eq!(claim(&store, key).await, KeyUse::Fresh);
            if committed {
                REQUEST_KEY
                    .scope(claimed(key, "p1"), async {
                        store
                            .write(async |conn: &mut Conn| {
                                mark_key_committed(conn, "main", 5).await
                            })
                            .await
                            .unwrap();
                    })
                    .await;
            }
            assert_eq!(claim(&store, key).await, KeyUse::InFlight);
            store
                .write(async |conn: &mut Conn| release_key(conn, &claimed(key, "p1")).await)
                .await
                .unwrap();
            match claim(&store, key).await {
                KeyUse::Replay(stored) if committed => {
                    assert_eq!(stored.status, 200);
                    let body: serde_json::Value = serde_json::from_slice(&stored.body).unwrap();
                    assert_eq!(body["status"], "stored");
                    assert_eq!(body["version"], 5);
                }
                KeyUse::Fresh if !committed => {}
                other => panic!("{key}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn keys_cut_off_by_a_crash_are_settled_at_start() {
        let (store, _dir) = store().await;
        assert_eq!(claim(&store, "done").await, KeyUse::Fresh);
        assert_eq!(claim(&store, "lost").await, KeyUse::Fresh);
        REQUEST_KEY
            .scope(claimed("done", "p1"), async {
                store
                    .write(async |conn: &mut Conn| mark_key_committed(conn, "main", 7).await)
                    .await
                    .unwrap();
            })
            .await;
        let settled = store
            .write(async |conn: &mut Conn| settle_keys_in_flight(conn).await)
            .await
            .unwrap();
        assert_eq!(
            settled,
            SettledKeys {
                answered: 1,
                released: 1
            }
        );
        assert!(
            matches!(claim(&store, "done").await, KeyUse::Replay(stored) if stored.status == 200)
        );
        assert_eq!(claim(&store, "lost").await, KeyUse::Fresh);
    }

    /// A key is its claiming process's: another process cannot commit, complete or release
    /// under it (so a key taken for cut off never lets the first request's change in too).
    #[tokio::test]
    async fn only_the_claiming_process_uses_a_key() {
        let (store, _dir) = store().await;
        assert_eq!(claim_as(&store, "k", "p1").await, KeyUse::Fresh);
        let marked = REQUEST_KEY
            .scope(claimed("k", "p2"), async {
                store
                    .write(async |conn: &mut Conn| mark_key_committed(conn, "main", 3).await)
                    .await
            })
            .await;
        assert!(
            matches!(marked, Err(StoreError::KeyTakenOver)),
            "{marked:?}"
        );
        store
            .write(async |conn: &mut Conn| release_key(conn, &claimed("k", "p2")).await)
            .await
            .unwrap();
        assert_eq!(
            claim_as(&store, "k", "p1").await,
            KeyUse::InFlight,
            "not released"
        );
        let answer = StoredResponse {
            status: 201,
            headers: Vec::new(),
            body: b"{}".to_vec(),
        };
        store
            .write(async |conn: &mut Conn| complete_key(conn, &claimed("k", "p2"), &answer).await)
            .await
            .unwrap();
        assert_eq!(
            claim_as(&store, "k", "p1").await,
            KeyUse::InFlight,
            "not completed"
        );
        store
            .write(async |conn: &mut Conn| complete_key(conn, &claimed("k", "p1"), &answer).await)
            .await
            .unwrap();
        assert!(
            matches!(claim_as(&store, "k", "p2").await, KeyUse::Replay(stored) if stored.status == 201)
        );
    }
}
