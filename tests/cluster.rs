//! Issue 20: several `frase` processes on one PostgreSQL database serve the same rooms, and
//! PostgreSQL carries the live events between them. Two processes; writers whose words go to
//! both in turn (one session each, signed with the shared key); a follower pinned to each.
//! Mid-run the processes' listening connections are terminated by the database, and then one
//! process is killed with `SIGKILL`. The surviving follower ends with every stored word exactly
//! once, in order, and no acknowledged word is missing.

mod common;

use std::time::Duration;

use common::{EventReader, ThrowawayPostgres, every_word, free_port, free_settings};
use futures::future::join_all;

const SECRET_KEY: &str = "the key every frase process of this test shares";
const WRITERS: usize = 8;
const WORDS_EACH: usize = 25;

async fn start(database: &str, data_dir: &std::path::Path, port: u16) -> tokio::process::Child {
    let mut command = common::serve_command(data_dir, port);
    command
        .args(["--database", database, "--rate-limit", "off"])
        .env("FRASE_SECRET_KEY", SECRET_KEY);
    common::start_server_process(command, port).await
}

/// Terminates every connection of `database` that is listening for changes, as an operator
/// (or a failover) would.
async fn terminate_listeners(database: &str) -> u64 {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(database).await.unwrap();
    let terminated: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    terminated.into_iter().filter(|&done| done).count() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_on_postgres_lose_no_word() {
    let Some(database) = ThrowawayPostgres::create().await else {
        return;
    };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (port_a, port_b) = (free_port(), free_port());
    let _a = start(&database.url, dir_a.path(), port_a).await;
    let mut b = start(&database.url, dir_b.path(), port_b).await;
    let bases = [
        format!("http://127.0.0.1:{port_a}"),
        format!("http://127.0.0.1:{port_b}"),
    ];

    // A room made on one process, where one user may add consecutive words.
    let host = common::user();
    let created = host
        .post(format!("{}/api/rooms", bases[1]))
        .json(&serde_json::json!({ "title": "cluster", "settings": free_settings() }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let room: serde_json::Value = created.json().await.unwrap();
    let slug = room["slug"].as_str().unwrap().to_owned();
    let events = |base: &str| format!("{base}/api/rooms/{slug}/events");
    let mut follower_a = EventReader::open(&common::user(), &events(&bases[0]), None).await;
    let mut follower_b = EventReader::open(&common::user(), &events(&bases[1]), None).await;

    // Writers, each on both processes in turn; the listening connections are cut halfway.
    let writers = (0..WRITERS).map(|writer| {
        let bases = bases.clone();
        let slug = slug.clone();
        tokio::spawn(async move {
            let client = common::user();
            let mut acknowledged = Vec::new();
            for word in 0..WORDS_EACH {
                let text = format!("w{writer}n{word}");
                // Its turn's process first; A if B is gone.
                for base in [&bases[(writer + word) % 2], &bases[0]] {
                    let response = client
                        .post(format!("{base}/api/rooms/{slug}/words"))
                        .json(&serde_json::json!({ "text": text }))
                        .send()
                        .await;
                    if let Ok(response) = response {
                        assert_eq!(response.status(), 201, "{text}");
                        let view: serde_json::Value = response.json().await.unwrap();
                        acknowledged.push(view["id"].as_i64().unwrap());
                        break;
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            acknowledged
        })
    });
    let writing = tokio::spawn(join_all(writers));
    tokio::time::sleep(Duration::from_millis(150)).await;
    let terminated = terminate_listeners(&database.url).await;
    assert!(
        terminated >= 2,
        "both processes' listeners were cut ({terminated})"
    );
    // Then B goes away without a word, mid-run.
    tokio::time::sleep(Duration::from_millis(150)).await;
    b.start_kill().unwrap();
    let _ = b.wait().await;
    assert!(
        !writing.is_finished(),
        "B was killed while words were being written"
    );
    let acknowledged: Vec<i64> = writing
        .await
        .unwrap()
        .into_iter()
        .flat_map(|writer| writer.unwrap())
        .collect();
    assert!(
        acknowledged.len() >= WRITERS * WORDS_EACH - WRITERS,
        "at most a word per writer died with B: {} acknowledged",
        acknowledged.len()
    );
    let metrics = common::user()
        .get(format!("{}/metrics", bases[0]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let counter = |name: &str| -> u64 {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name} ")))
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("{name} in /metrics"))
    };
    assert!(counter("frase_bus_reconnects_total") >= 1, "{metrics}");
    assert!(counter("frase_bus_notifications_total") > 0, "{metrics}");

    let stored = every_word(&format!("{}/api/rooms/{slug}/words", bases[0])).await;
    let stored_ids: Vec<i64> = stored.iter().map(|w| w["id"].as_i64().unwrap()).collect();
    for id in &acknowledged {
        assert!(stored_ids.contains(id), "acknowledged word {id} is stored");
    }
    let last_version = stored.last().unwrap()["version"].as_i64().unwrap();

    // Follower A got every stored word once, in version order; so did B, until it died (every
    // word it got is in order and stored).
    let seen_a = follower_a
        .words_until(last_version, Duration::from_secs(30))
        .await;
    let versions_a: Vec<i64> = seen_a.iter().map(|(version, _)| *version).collect();
    let stored_versions: Vec<i64> = stored
        .iter()
        .map(|w| w["version"].as_i64().unwrap())
        .collect();
    assert_eq!(
        versions_a, stored_versions,
        "follower A: every word once, in order"
    );
    let ids_a: Vec<i64> = seen_a
        .iter()
        .map(|(_, word)| word["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids_a, stored_ids);
    let mut versions_b = Vec::new();
    while let Some(event) = follower_b.next(Duration::from_secs(2)).await {
        if event.event == "word" {
            versions_b.push(event.id.unwrap());
        }
    }
    assert!(
        stored_versions.starts_with(&versions_b),
        "follower B: stored words once, in order, none skipped, until its process died \
         ({} of {})",
        versions_b.len(),
        stored_versions.len()
    );

    database.drop_database().await;
}
