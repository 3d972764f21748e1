//! Stored first responses for `Idempotency-Key` retries.

use sqlx::Row;

use super::{Conn, StoreError};

tokio::task_local! {
    /// The idempotency key of the request this task is serving, while its handler runs: the
    /// change it makes marks the key in its own transaction ([`mark_key_committed`]).
    pub static REQUEST_KEY: ClaimedKey;
}

/// A key claimed by a request being served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedKey {
    pub user_id: String,
    pub key: String,
}

/// Keys left without a response by a previous run, settled at start.
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
    /// The first request with this key has not finished (or was cut off).
    InFlight,
}

/// Claims `key` for a request whose fingerprint is `hash`, forgetting keys older than `cutoff`.
pub async fn claim_key(
    conn: &mut Conn,
    user_id: &str,
    key: &str,
    hash: &str,
    now: &str,
    cutoff: &str,
) -> Result<KeyUse, StoreError> {
    sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(cutoff)
        .execute(&mut *conn)
        .await?;
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, key) DO NOTHING",
    )
    .bind(user_id)
    .bind(key)
    .bind(hash)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(KeyUse::Fresh);
    }
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

/// Keeps the first response of a claimed key.
pub async fn complete_key(
    conn: &mut Conn,
    user_id: &str,
    key: &str,
    response: &StoredResponse,
) -> Result<(), StoreError> {
    let headers = serde_json::to_string(&response.headers)
        .map_err(|e| StoreError::Corrupt(format!("headers JSON: {e}")))?;
    sqlx::query("UPDATE idempotency_keys SET status = $1, headers = $2, body = $3 WHERE user_id = $4 AND key = $5")
        .bind(i64::from(response.status))
        .bind(headers)
        .bind(&response.body)
        .bind(user_id)
        .bind(key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Gives up a claimed key whose request failed on our side, so that a retry may run it again —
/// unless its change had already committed: then the key keeps the "stored" answer, and a retry
/// can never add the change a second time.
pub async fn release_key(conn: &mut Conn, user_id: &str, key: &str) -> Result<(), StoreError> {
    let committed = sqlx::query(
        "SELECT committed_room, committed_version FROM idempotency_keys \
         WHERE user_id = $1 AND key = $2 AND status IS NULL AND committed_room IS NOT NULL",
    )
    .bind(user_id)
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = committed {
        let answer = stored_answer(
            row.try_get("committed_room")?,
            row.try_get("committed_version")?,
        );
        return complete_key(conn, user_id, key, &answer).await;
    }
    sqlx::query("DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status IS NULL")
        .bind(user_id)
        .bind(key)
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
/// inside the transaction that commits it: `room` at `version`.
pub async fn mark_key_committed(
    conn: &mut Conn,
    room: &str,
    version: i64,
) -> Result<(), StoreError> {
    let Ok(claim) = REQUEST_KEY.try_with(Clone::clone) else {
        return Ok(());
    };
    sqlx::query(
        "UPDATE idempotency_keys SET committed_room = $1, committed_version = $2 \
         WHERE user_id = $3 AND key = $4 AND status IS NULL",
    )
    .bind(room)
    .bind(version)
    .bind(&claim.user_id)
    .bind(&claim.key)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// At start, before anything is served: every key still without a response was cut off by the
/// end of the previous run. One whose change committed keeps a 200 saying so (its original
/// response died with the process); one whose change did not is released for a fresh try.
pub async fn settle_keys_in_flight(conn: &mut Conn) -> Result<SettledKeys, StoreError> {
    let committed = sqlx::query(
        "SELECT user_id, key, committed_room, committed_version FROM idempotency_keys \
         WHERE status IS NULL AND committed_room IS NOT NULL",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in &committed {
        let (user_id, key): (String, String) = (row.try_get("user_id")?, row.try_get("key")?);
        let answer = stored_answer(
            row.try_get("committed_room")?,
            row.try_get("committed_version")?,
        );
        complete_key(conn, &user_id, &key, &answer).await?;
    }
    let released = sqlx::query("DELETE FROM idempotency_keys WHERE status IS NULL")
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(SettledKeys {
        answered: committed.len() as u64,
        released,
    })
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

    async fn claim(store: &Store, key: &str) -> KeyUse {
        store
            .write(async |conn: &mut Conn| {
                claim_key(
                    conn,
                    "u1",
                    key,
                    "hash",
                    "2026-12-02T00:00:00Z",
                    "2026-12-01T00:00:00Z",
                )
                .await
            })
            .await
            .unwrap()
    }

    /// A failure after the change committed must not free the key for a second change.
    #[tokio::test]
    async fn a_key_whose_change_committed_is_never_released() {
        let (store, _dir) = store().await;
        for (key, committed) in [("k-committed", true), ("k-not", false)] {
            assert_eq!(claim(&store, key).await, KeyUse::Fresh);
            if committed {
                let claimed = ClaimedKey {
                    user_id: "u1".into(),
                    key: key.into(),
                };
                REQUEST_KEY
                    .scope(claimed, async {
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
                .write(async |conn: &mut Conn| release_key(conn, "u1", key).await)
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
            .scope(
                ClaimedKey {
                    user_id: "u1".into(),
                    key: "done".into(),
                },
                async {
                    store
                        .write(async |conn: &mut Conn| mark_key_committed(conn, "main", 7).await)
                        .await
                        .unwrap();
                },
            )
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
}
