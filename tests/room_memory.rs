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

/// Room states read from the database so far (`/metrics`).
async fn states_read(base: &str) -> u64 {
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("frase_room_states_read_total "))
        .expect("the metric is there")
        .parse()
        .unwrap()
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

    // A new name shows at once on its author's words, though the room did not change.
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
    server.start_kill().unwrap();
    let _ = server.wait().await;
}
