//! The change log: one row per room version, the live event as sent.

use sqlx::Row;

use super::{Conn, StoreError};
use crate::model::EventKind;

/// One logged change: enough to send its live event again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRow {
    pub version: i64,
    pub kind: EventKind,
    /// The event's `data`: one line of JSON.
    pub data: String,
}

pub async fn insert_change(
    conn: &mut Conn,
    slug: &str,
    change: &ChangeRow,
    now: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO changes (room_slug, version, kind, data, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(slug)
    .bind(change.version)
    .bind(change.kind.as_str())
    .bind(&change.data)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The changes of a room after `after`, in version order, at most `limit`.
pub async fn changes_after(
    conn: &mut Conn,
    slug: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<ChangeRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT version, kind, data FROM changes WHERE room_slug = $1 AND version > $2 \
         ORDER BY version LIMIT $3",
    )
    .bind(slug)
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let kind: String = row.try_get("kind")?;
            Ok(ChangeRow {
                version: row.try_get("version")?,
                kind: EventKind::parse(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown change kind {kind}")))?,
                data: row.try_get("data")?,
            })
        })
        .collect()
}

/// The oldest version still in the log for a room (None if the log is empty).
pub async fn oldest_change_version(conn: &mut Conn, slug: &str) -> Result<Option<i64>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT MIN(version) FROM changes WHERE room_slug = $1")
            .bind(slug)
            .fetch_one(&mut *conn)
            .await?,
    )
}
