//! Stored first responses for `Idempotency-Key` retries.

use sqlx::Row;

use super::{Conn, StoreError};

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
    sqlx::query("DELETE FROM idempotency_keys WHERE created_at < ?")
        .bind(cutoff)
        .execute(&mut *conn)
        .await?;
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at) VALUES (?, ?, ?, ?) \
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
        "SELECT request_hash, status, headers, body FROM idempotency_keys WHERE user_id = ? AND key = ?",
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
    sqlx::query("UPDATE idempotency_keys SET status = ?, headers = ?, body = ? WHERE user_id = ? AND key = ?")
        .bind(i64::from(response.status))
        .bind(headers)
        .bind(&response.body)
        .bind(user_id)
        .bind(key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Gives up a claimed key whose request failed on our side, so that a retry may run it again.
pub async fn release_key(conn: &mut Conn, user_id: &str, key: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM idempotency_keys WHERE user_id = ? AND key = ? AND status IS NULL")
        .bind(user_id)
        .bind(key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
