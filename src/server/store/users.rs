//! Users: a row once they have written something or chosen a name.

use super::{Conn, StoreError};

/// Makes sure the user has a row, with `default_name` if it is new.
pub async fn ensure_user(
    conn: &mut Conn,
    id: &str,
    default_name: &str,
    now: &str,
) -> Result<(), StoreError> {
    user_named(conn, id, default_name, now).await.map(drop)
}

/// Makes sure the user exists (named `default_name` if they are new) and returns their name, in
/// one statement: a word's author is known and named without reading the row back.
pub async fn user_named(
    conn: &mut Conn,
    id: &str,
    default_name: &str,
    now: &str,
) -> Result<String, StoreError> {
    // `DO UPDATE` with no real change, so that `RETURNING` also answers for an existing user.
    Ok(sqlx::query_scalar(
        "INSERT INTO users (id, name, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET name = users.name RETURNING name",
    )
    .bind(id)
    .bind(default_name)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?)
}

pub async fn user_name(conn: &mut Conn, id: &str) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT name FROM users WHERE id = $1")
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
        "INSERT INTO users (id, name, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name",
    )
    .bind(id)
    .bind(name)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
