//! Issue 19, acceptance 4: a room's state is served from memory — by `GET` and by a stream's
//! snapshot — and what memory serves equals what the database gives after a restart: the same
//! JSON and the same `ETag`.

mod common;

use std::time::Duration;

use common::{EventReader, free_port, start_frase, user};
use serde_json::{Value, json};

/// `GET /api/rooms/{slug}` as `client`: the body and its `ETag`.
async fn get_room(client: &reqwest::Client, base: &str, slug: &str) -> (String, String) {
    let response = client
        .get(format!("{base}/api/rooms/{slug}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    (response.text().await.unwrap(), etag)
}

/// The versions of the `word` events a stream resuming after `after` gets, up to `last`.
async fn resumed(base: &str, slug: &str, after: i64, last: i64) -> Vec<i64> {
    let url = format!("{base}/api/rooms/{slug}/events");
    let mut events = EventReader::open(&user(), &url, Some(after)).await;
    let words = events.words_until(last, Duration::from_secs(20)).await;
    words.into_iter().map(|(version, _)| version).collect()
}

/// `streams` streams resuming after `after` at once: each gets every word up to `last`, once.
async fn resume_together(base: &str, streams: usize, after: i64, last: i64) {
    let expected: Vec<i64> = (after + 1..=last).collect();
    let resumes = (0..streams).map(|_| resumed(base, "main", after, last));
    for versions in futures::future::join_all(resumes).await {
        assert_eq!(versions, expected);
    }
}

/// The data of the `snapshot` a new stream of the room opens with.
async fn snapshot(client: &reqwest::Client, base: &str, slug: &str) -> String {
    let mut events =
        EventReader::open(client, &format!("{base}/api/rooms/{slug}/events"), None).await;
    let first = events
        .next(Duration::from_secs(10))
        .await
        .expect("a snapshot");
    assert_eq!(first.event, "snapshot");
    first.data
}

/// A counter of `/metrics`.
async fn counter(base: &str, name: &str) -> u64 {
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} is in /metrics"))
        .parse()
        .unwrap()
}

/// Room states read from the database so far.
async fn states_read(base: &str) -> u64 {
    counter(base, "frase_room_states_read_total").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_served_from_memory_equals_the_database_after_a_restart() {
    let data_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let start = || start_frase(data_dir.path(), port, &[]);
    let mut server = start().await;
    let base = format!("http://127.0.0.1:{port}");

    // A room with a host, a guest, and words by both.
    let (host, guest) = (user(), user());
    let room: Value = host
        .post(format!("{base}/api/rooms"))
        .json(&json!({ "title": "memoria", "settings": { "no_double_turn": false } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let slug = room["slug"].as_str().unwrap().to_owned();
    for (client, text) in [(&host, "había"), (&guest, "una"), (&host, "vez")] {
        let response = client
            .post(format!("{base}/api/rooms/{slug}/words"))
            .json(&json!({ "text": text }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }

    // The first read after the last change goes to the database; the others do not.
    let (host_view, host_tag) = get_room(&host, &base, &slug).await;
    let read = states_read(&base).await;
    assert_eq!(
        get_room(&host, &base, &slug).await,
        (host_view.clone(), host_tag.clone())
    );
    let (guest_view, guest_tag) = get_room(&guest, &base, &slug).await;
    let host_snapshot = snapshot(&host, &base, &slug).await;
    let guest_snapshot = snapshot(&guest, &base, &slug).await;
    assert_eq!(states_read(&base).await, read, "served from memory");
    let host_state: Value = serde_json::from_str(&host_view).unwrap();
    let guest_state: Value = serde_json::from_str(&guest_view).unwrap();
    assert_eq!(host_state["host"], true);
    assert_eq!(guest_state["host"], false);
    assert_ne!(host_tag, guest_tag);
    assert_eq!(host_state["sentence"]["words"].as_array().unwrap().len(), 3);
    assert_eq!(
        serde_json::from_str::<Value>(&host_snapshot).unwrap(),
        host_state
    );

    // Restarted, the database gives the same.
    server.start_kill().unwrap();
    let _ = server.wait().await;
    let mut server = start().await;
    assert_eq!(get_room(&host, &base, &slug).await, (host_view, host_tag));
    assert_eq!(
        get_room(&guest, &base, &slug).await,
        (guest_view, guest_tag)
    );
    assert_eq!(snapshot(&host, &base, &slug).await, host_snapshot);
    assert_eq!(snapshot(&guest, &base, &slug).await, guest_snapshot);
    assert_eq!(states_read(&base).await, 1, "one read after the restart");

    // A new name shows at once on its author's words, though the room did not change: and the
    // room's tag changes with it, so a cached copy is not declared fresh.
    let (before_rename, tag_before) = get_room(&host, &base, &slug).await;
    let renamed = guest
        .patch(format!("{base}/api/me"))
        .json(&json!({ "name": "Invitada" }))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    let (after, _) = get_room(&host, &base, &slug).await;
    let after: Value = serde_json::from_str(&after).unwrap();
    assert_eq!(after["sentence"]["words"][1]["author"]["name"], "Invitada");
    let revalidated = host
        .get(format!("{base}/api/rooms/{slug}"))
        .header("If-None-Match", &tag_before)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 200, "not 304: the body changed");
    assert_ne!(revalidated.headers()["etag"], tag_before.as_str());
    let body: Value = revalidated.json().await.unwrap();
    assert_eq!(
        body["version"],
        serde_json::from_str::<Value>(&before_rename).unwrap()["version"]
    );
    assert_eq!(body["sentence"]["words"][1]["author"]["name"], "Invitada");
    server.start_kill().unwrap();
    let _ = server.wait().await;
}

/// Issue 19: a stream that resumes after `Last-Event-ID` within a room's recent frames is served
/// from memory; after a restart, when memory holds none yet, the streams that resume from the
/// same place share one read of the change log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumes_are_served_from_memory_and_share_one_log_read() {
    const STREAMS: usize = 20;
    let data_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let start = || start_frase(data_dir.path(), port, &[]);
    let mut server = start().await;
    let base = format!("http://127.0.0.1:{port}");
    // Two writers taking turns: the main room refuses two words in a row from one player.
    let writers = [user(), user()];
    let writer = &writers[0];
    for i in 0..30 {
        let response = writers[i % 2]
            .post(format!("{base}/api/rooms/main/words"))
            .json(&json!({ "text": format!("w{i}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    let last = common::get_json(writer, &format!("{base}/api/rooms/main")).await["version"]
        .as_i64()
        .unwrap();
    let from = last - 20;

    resume_together(&base, STREAMS, from, last).await;
    assert_eq!(
        counter(&base, "frase_change_log_reads_total").await,
        0,
        "replayed from memory"
    );

    server.start_kill().unwrap();
    let _ = server.wait().await;
    let mut server = start().await;
    resume_together(&base, STREAMS, from, last).await;
    assert_eq!(
        counter(&base, "frase_change_log_reads_total").await,
        1,
        "{STREAMS} streams, one read of the change log"
    );
    // Later resumes, and the new words, come from memory.
    let response = writer
        .post(format!("{base}/api/rooms/main/words"))
        .json(&json!({ "text": "más" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(
        resumed(&base, "main", from + 5, last + 1).await,
        (from + 6..=last + 1).collect::<Vec<_>>()
    );
    assert_eq!(counter(&base, "frase_change_log_reads_total").await, 1);
    server.start_kill().unwrap();
    let _ = server.wait().await;
}
