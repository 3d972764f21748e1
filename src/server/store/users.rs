//! Users: a row once they have written something or chosen a name.

use super::{Conn, StoreError};

/// Makes sure the user has a row, with `default_name` if it is new.
pub async fn ensure_user(
    conn: &mut Conn,
    id: &str,
    default_name: &str,
    now: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO users (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(default_name)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn user_name(conn: &mut Conn, id: &str) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT name FROM users WHERE id = ?")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?)
}

pub async fn set_user_name(
    conn: &mut Conn,
    id: &str,
    name: &str,
    now: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO users (id, name, created_at) VALUES (?, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name",
    )
    .bind(id)
    .bind(name)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
