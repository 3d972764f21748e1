//! Issue 20, first step: `migrations/postgres/` on the machine's PostgreSQL. The schema is the
//! SQLite one (same tables, columns and nullability, same `main` room), and logging a change
//! moves its room and notifies `frase_changes` with the room and version, on commit only and in
//! commit order: the bus several processes will share.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::ThrowawayPostgres;
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::{Connection, Row};

/// Tables only several processes need: who has each room open in each (`live::presence`).
const POSTGRES_ONLY: &[&str] = &["cluster_processes", "cluster_presence"];

/// Each table's columns: name → nullable.
type Columns = BTreeMap<String, BTreeMap<String, bool>>;

async fn sqlite_columns(pool: &sqlx::SqlitePool) -> Columns {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx_%'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut columns = Columns::new();
    for table in tables {
        let rows = sqlx::query(&format!("PRAGMA table_info({table})"))
            .fetch_all(pool)
            .await
            .unwrap();
        let entry = columns.entry(table).or_default();
        for row in rows {
            let name: String = row.get("name");
            let not_null: bool = row.get::<i64, _>("notnull") != 0;
            let primary_key: bool = row.get::<i64, _>("pk") != 0;
            entry.insert(name, !(not_null || primary_key));
        }
    }
    columns
}

async fn postgres_columns(pool: &sqlx::PgPool) -> Columns {
    let rows = sqlx::query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name, \
                is_nullable = 'YES' AS nullable \
         FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx_%'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut columns = Columns::new();
    for row in rows {
        columns
            .entry(row.get("table_name"))
            .or_default()
            .insert(row.get("column_name"), row.get("nullable"));
    }
    columns
}

#[tokio::test]
async fn the_postgres_schema_is_the_sqlite_one_and_notifies_changes_on_commit() {
    let Some(database) = ThrowawayPostgres::create().await else {
        return;
    };
    let postgres = PgPoolOptions::new()
        .max_connections(4)
        .connect(&database.url)
        .await
        .unwrap();
    sqlx::migrate!("migrations/postgres")
        .run(&postgres)
        .await
        .expect("the PostgreSQL migrations apply");
    sqlx::migrate!("migrations/postgres")
        .run(&postgres)
        .await
        .expect("and applying them again changes nothing");

    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqlitePoolOptions::new()
        .connect_with(
            sqlx::sqlite::SqliteConnectOptions::new()
                .filename(dir.path().join("frase.db"))
                .create_if_missing(true),
        )
        .await
        .unwrap();
    sqlx::migrate!("migrations/sqlite")
        .run(&sqlite)
        .await
        .unwrap();

    // Same tables, same columns, same nullability; and the tables of presence across processes,
    // which a SQLite database (served by one process) has no use for.
    let mut on_postgres = postgres_columns(&postgres).await;
    for table in POSTGRES_ONLY {
        assert!(
            on_postgres.remove(*table).is_some(),
            "{table} is in the PostgreSQL schema"
        );
    }
    assert_eq!(on_postgres, sqlite_columns(&sqlite).await);

    // The same `main` room, with one open sentence.
    let main_room =
        "SELECT title, host_id, version, settings, round FROM rooms WHERE slug = 'main'";
    let on_postgres = sqlx::query(main_room).fetch_one(&postgres).await.unwrap();
    let on_sqlite = sqlx::query(main_room).fetch_one(&sqlite).await.unwrap();
    for column in ["title", "settings"] {
        assert_eq!(
            on_postgres.get::<String, _>(column),
            on_sqlite.get::<String, _>(column),
            "{column}"
        );
    }
    assert_eq!(on_postgres.get::<i64, _>("version"), 0);
    assert_eq!(on_postgres.get::<Option<String>, _>("host_id"), None);
    assert_eq!(on_postgres.get::<Option<String>, _>("round"), None);
    let open: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sentences WHERE room_slug = 'main' AND finished_version IS NULL",
    )
    .fetch_one(&postgres)
    .await
    .unwrap();
    assert_eq!(open, 1);

    // Logging changes: notified on commit, in commit order, never for a rolled-back one.
    let mut listener = PgListener::connect(&database.url).await.unwrap();
    listener.listen("frase_changes").await.unwrap();
    let log = |version: i64| {
        sqlx::query(
            "INSERT INTO changes (room_slug, version, kind, data, created_at) \
             VALUES ('main', $1, 'word', '{}', $2)",
        )
        .bind(version)
        .bind(format!("2026-12-03T00:00:0{version}Z"))
    };
    let mut writer = postgres.acquire().await.unwrap();
    let mut transaction = writer.begin().await.unwrap();
    log(1).execute(&mut *transaction).await.unwrap();
    log(2).execute(&mut *transaction).await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(300), listener.recv())
            .await
            .is_err(),
        "nothing is notified before the commit"
    );
    transaction.commit().await.unwrap();
    let mut rolled_back = writer.begin().await.unwrap();
    log(3).execute(&mut *rolled_back).await.unwrap();
    rolled_back.rollback().await.unwrap();
    log(3).execute(&mut *writer).await.unwrap();

    let mut notified = Vec::new();
    while notified.len() < 3 {
        let notification = tokio::time::timeout(Duration::from_secs(5), listener.recv())
            .await
            .expect("a notification per committed change")
            .unwrap();
        assert_eq!(notification.channel(), "frase_changes");
        let payload: serde_json::Value = serde_json::from_str(notification.payload()).unwrap();
        assert_eq!(payload["room"], "main");
        notified.push(payload["version"].as_i64().unwrap());
    }
    assert_eq!(notified, [1, 2, 3]);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), listener.recv())
            .await
            .is_err(),
        "the rolled-back change was not notified"
    );
    let (version, updated_at): (i64, String) =
        sqlx::query_as("SELECT version, updated_at FROM rooms WHERE slug = 'main'")
            .fetch_one(&postgres)
            .await
            .unwrap();
    assert_eq!((version, updated_at.as_str()), (3, "2026-12-03T00:00:03Z"));

    drop(writer);
    drop(listener);
    postgres.close().await;
    database.drop_database().await;
}
