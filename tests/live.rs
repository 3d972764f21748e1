//! Live events: snapshot, live changes in order, resume after Last-Event-ID, under concurrency.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{EventReader, TestApp, free_settings, user};
use frase::server::live::hub::{PRESENCE_INTERVAL, RING_FRAMES};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

async fn add(client: &reqwest::Client, app: &TestApp, room: &str, text: &str) -> reqwest::Response {
    common::add_word(client, app, room, text).await
}

#[tokio::test]
async fn a_stream_opens_with_retry_a_snapshot_and_presence() {
    let app = TestApp::spawn().await;
    let client = user();
    assert_eq!(add(&client, &app, "main", "hola").await.status(), 201);

    let response = client
        .get(app.url("/api/rooms/main/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "no-cache");
    assert_eq!(response.headers()["x-accel-buffering"], "no");
    assert!(
        response.headers().get("content-encoding").is_none(),
        "never compressed"
    );
    drop(response);

    let mut events = EventReader::open(&client, &app.url("/api/rooms/main/events"), None).await;
    let snapshot = events.next(WAIT).await.expect("snapshot");
    assert_eq!(events.retry, Some(1000));
    assert_eq!(snapshot.event, "snapshot");
    assert_eq!(snapshot.id, Some(1));
    let state: Value = serde_json::from_str(&snapshot.data).unwrap();
    assert_eq!(state["version"], 1);
    assert_eq!(state["sentence"]["words"][0]["text"], "hola");
    let presence = events.next(WAIT).await.expect("presence");
    assert_eq!(presence.event, "presence");
    assert_eq!(presence.id, None);
    assert_eq!(
        serde_json::from_str::<Value>(&presence.data).unwrap()["online"],
        1
    );

    // The room's count goes out a moment after the stream joined; it says what this stream
    // sent already, so the stream does not send it again.
    tokio::time::sleep(PRESENCE_INTERVAL * 3).await;
    // A second viewer shows up in the first one's presence: the next event.
    let _other = EventReader::open(&user(), &app.url("/api/rooms/main/events"), None).await;
    let presence = events.next(WAIT).await.expect("presence update");
    assert_eq!(
        serde_json::from_str::<Value>(&presence.data).unwrap()["online"],
        2
    );

    // And a word arrives live, as the word JSON with its version as id.
    let other = user();
    let word: Value = add(&other, &app, "main", "mundo")
        .await
        .json()
        .await
        .unwrap();
    let live = events.words_until(2, WAIT).await;
    assert_eq!(live, vec![(2, word)]);
}

#[tokio::test]
async fn streams_of_unknown_rooms_and_bad_ids_are_refused() {
    let app = TestApp::spawn().await;
    let client = user();
    let missing = client
        .get(app.url("/api/rooms/nope/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
    let bad = client
        .get(app.url("/api/rooms/main/events"))
        .header("Last-Event-ID", "yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn a_last_event_id_from_the_future_gets_a_snapshot() {
    let app = TestApp::spawn().await;
    let client = user();
    let mut events = EventReader::open(&client, &app.url("/api/rooms/main/events"), Some(99)).await;
    let first = events.next(WAIT).await.unwrap();
    assert_eq!(first.event, "snapshot");
    assert_eq!(first.id, Some(0));
    // The query parameter works the same as the header.
    let mut events = EventReader::open(
        &client,
        &app.url("/api/rooms/main/events?last_event_id=0"),
        None,
    )
    .await;
    let first = events.next(WAIT).await.unwrap();
    assert_eq!(
        first.event, "presence",
        "a replay from 0 of an empty room sends no snapshot"
    );
}

/// Acceptance 5: 20 writers × 50 words on one room; exactly 1000 stored with versions 1..=1000,
/// and a subscriber connected throughout receives each once, in version order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_get_distinct_gap_free_versions() {
    let app = TestApp::spawn().await;
    app.create_room("carrera", free_settings()).await;
    let watcher = user();
    let mut events = EventReader::open(&watcher, &app.url("/api/rooms/carrera/events"), None).await;
    assert_eq!(events.next(WAIT).await.unwrap().event, "snapshot");

    let writers: Vec<_> = (0..20)
        .map(|task| {
            let url = app.url("/api/rooms/carrera/words");
            tokio::spawn(async move {
                let client = user();
                for i in 0..50 {
                    let response = client
                        .post(&url)
                        .json(&json!({ "text": format!("t{task}w{i}") }))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), 201, "task {task} word {i}");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }

    let received = events.words_until(1000, Duration::from_secs(60)).await;
    let versions: Vec<i64> = received.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        versions,
        (1..=1000).collect::<Vec<_>>(),
        "each once, in order"
    );
    for (id, word) in &received {
        assert_eq!(word["version"].as_i64(), Some(*id));
    }

    let mut stored = Vec::new();
    let mut after = 0;
    loop {
        let page: Value = watcher
            .get(app.url(&format!("/api/rooms/carrera/words?after={after}&limit=500")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let words = page["words"].as_array().unwrap().clone();
        if words.is_empty() {
            break;
        }
        after = words.last().unwrap()["version"].as_i64().unwrap();
        stored.extend(words);
    }
    assert_eq!(stored.len(), 1000);
    let stored_versions: Vec<i64> = stored
        .iter()
        .map(|w| w["version"].as_i64().unwrap())
        .collect();
    assert_eq!(stored_versions, (1..=1000).collect::<Vec<_>>());
    let texts: BTreeSet<&str> = stored.iter().map(|w| w["text"].as_str().unwrap()).collect();
    assert_eq!(texts.len(), 1000, "every word once");
    // Positions restart with each sentence (40 words at most) and have no gaps.
    let positions_ok = stored.windows(2).all(|pair| {
        let (a, b) = (&pair[0], &pair[1]);
        if a["sentence_id"] == b["sentence_id"] {
            b["position"].as_i64() == a["position"].as_i64().map(|p| p + 1)
        } else {
            a["ends_sentence"] == true && b["position"] == 0
        }
    });
    assert!(positions_ok, "positions are gap-free within each sentence");
}

/// Acceptance 6: a subscriber that leaves after version V and comes back with
/// `Last-Event-ID: V` while words keep arriving gets exactly the words after V, none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reconnecting_subscriber_resumes_exactly_after_its_last_event() {
    let app = TestApp::spawn().await;
    app.create_room("resumen", free_settings()).await;
    let url = app.url("/api/rooms/resumen/events");
    let watcher = user();
    let mut events = EventReader::open(&watcher, &url, None).await;
    assert_eq!(events.next(WAIT).await.unwrap().event, "snapshot");

    const TOTAL: i64 = 300;
    let writer_url = app.url("/api/rooms/resumen/words");
    let writer = tokio::spawn(async move {
        let client = user();
        for i in 0..TOTAL {
            let response = client
                .post(&writer_url)
                .json(&json!({ "text": format!("p{i}") }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201);
            if i % 20 == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    });

    let before = events.words_until(40, WAIT).await;
    let last_seen = before.last().unwrap().0;
    drop(events); // disconnect while the writer goes on

    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut resumed = EventReader::open(&watcher, &url, Some(last_seen)).await;
    let after = resumed.words_until(TOTAL, Duration::from_secs(60)).await;
    writer.await.unwrap();

    let versions: Vec<i64> = after.iter().map(|(id, _)| *id).collect();
    assert_eq!(versions, (last_seen + 1..=TOTAL).collect::<Vec<_>>());
    let all: Vec<i64> = before
        .iter()
        .chain(after.iter())
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(
        all,
        (1..=TOTAL).collect::<Vec<_>>(),
        "together: every word exactly once"
    );
}

#[tokio::test]
async fn streams_end_when_the_server_shuts_down() {
    let app = TestApp::spawn().await;
    let client = user();
    let mut events = EventReader::open(&client, &app.url("/api/rooms/main/events"), None).await;
    assert_eq!(events.next(WAIT).await.unwrap().event, "snapshot");
    let stopping = tokio::spawn(app.stop());
    // The stream closes (no more events) instead of holding the shutdown up.
    loop {
        match events.next(Duration::from_secs(10)).await {
            Some(event) if event.event == "presence" => continue,
            Some(other) => panic!("unexpected {other:?}"),
            None => break,
        }
    }
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("shutdown finishes")
        .unwrap();
}

/// Issue 19: a busy database neither refuses nor ends a stream. One opened while every read
/// connection is taken, for longer than the pool's 10 s wait, opens once they are free, with its
/// snapshot (it used to answer 500 "pool timed out").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_waits_out_a_busy_database() {
    let app = TestApp::spawn().await;
    let store = app.app_state.rooms.store().clone();
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(store.read().await.unwrap());
    }
    let url = app.url("/api/rooms/main/events");
    let opening = tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let mut events = EventReader::open(&client, &url, None).await;
        events.next(Duration::from_secs(10)).await
    });
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert!(!opening.is_finished(), "the stream waits for the database");
    drop(held);
    let first = opening
        .await
        .unwrap()
        .expect("an event once the database is free");
    assert_eq!(first.event, "snapshot");
    app.stop().await;
}

/// Issue 19, acceptance 2: a storage fault while streams refill — every read connection taken
/// for longer than the pool's 10 s wait, so their reads fail with "pool timed out" — ends no
/// stream: each tries again, keeps its place, and then receives every change once, in order.
/// They resume from further back than the room's recent frames in memory, so they need the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_refilling_through_a_storage_fault_resume_and_miss_nothing() {
    const STREAMS: usize = 100;
    const BEFORE: i64 = RING_FRAMES as i64 + 30;
    const TOTAL: i64 = BEFORE + 20;
    let app = TestApp::spawn().await;
    app.create_room("averia", free_settings()).await;
    let writer = user();
    for i in 0..BEFORE {
        assert_eq!(
            add(&writer, &app, "averia", &format!("a{i}"))
                .await
                .status(),
            201
        );
    }
    let store = app.app_state.rooms.store().clone();
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(store.read().await.unwrap());
    }
    // Each stream resumes from the start: it must read the change log, which it cannot yet.
    let url = app.url("/api/rooms/averia/events");
    let streams: Vec<_> = (0..STREAMS)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                let mut events = EventReader::open(&user(), &url, Some(0)).await;
                events.words_until(TOTAL, Duration::from_secs(60)).await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert!(
        streams.iter().all(|stream| !stream.is_finished()),
        "no stream ends while the database is out of reach"
    );
    drop(held);
    for i in BEFORE..TOTAL {
        assert_eq!(
            add(&writer, &app, "averia", &format!("b{i}"))
                .await
                .status(),
            201
        );
    }
    for stream in streams {
        let versions: Vec<i64> = stream.await.unwrap().iter().map(|(id, _)| *id).collect();
        assert_eq!(versions, (1..=TOTAL).collect::<Vec<_>>());
    }
    assert!(
        app.app_state.rooms.hub().log_reads() > 0,
        "the log was read"
    );
    app.stop().await;
}

/// The contract's heartbeat: a `: ping` comment on every open stream, from the server's one
/// clock (sent here at once rather than after its 10 s), between the events and on the wire
/// as a comment line of its own.
#[tokio::test]
async fn every_open_stream_gets_the_heartbeat() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn().await;
    app.create_room("otra", free_settings()).await;
    let mut streams = Vec::new();
    for room in ["main", "main", "otra"] {
        assert_eq!(add(&user(), &app, room, "hola").await.status(), 201);
        let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        let request = format!(
            "GET /api/rooms/{room}/events HTTP/1.1\r\nhost: {}\r\naccept: text/event-stream\r\n\r\n",
            app.addr
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        streams.push(stream);
    }
    // Until each has its snapshot, so that it is subscribed.
    let mut seen = vec![String::new(); streams.len()];
    for (stream, seen) in streams.iter_mut().zip(&mut seen) {
        while !seen.contains("event: snapshot") {
            let mut buffer = [0; 4096];
            let read = tokio::time::timeout(WAIT, stream.read(&mut buffer))
                .await
                .unwrap()
                .unwrap();
            assert!(read > 0, "the stream ended: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buffer[..read]));
        }
    }
    app.app_state.rooms.hub().send_heartbeats();
    for (stream, seen) in streams.iter_mut().zip(&mut seen) {
        while !seen.contains("\n: ping\n\n") {
            let mut buffer = [0; 4096];
            let read = tokio::time::timeout(WAIT, stream.read(&mut buffer))
                .await
                .unwrap_or_else(|_| panic!("no heartbeat in {seen:?}"))
                .unwrap();
            assert!(read > 0, "the stream ended: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buffer[..read]));
        }
    }
    app.stop().await;
}

/// One raw subscriber (no HTTP client library: 2,000 of them must be cheap): the versions of
/// the `word` events it reads, until `last`. Tells `ready` once it has its snapshot.
async fn raw_subscriber(
    addr: std::net::SocketAddr,
    path: String,
    last: i64,
    ready: tokio::sync::mpsc::Sender<()>,
) -> Vec<i64> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request =
        format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\naccept: text/event-stream\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut lines = BufReader::new(stream).lines();
    let status = lines.next_line().await.unwrap().unwrap();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let (mut versions, mut id, mut event) = (Vec::new(), None, String::new());
    let mut ready = Some(ready);
    while let Some(line) = lines.next_line().await.unwrap() {
        if let Some(value) = line.strip_prefix("id: ") {
            id = value.parse::<i64>().ok();
        } else if let Some(value) = line.strip_prefix("event: ") {
            event = value.to_owned();
            if event == "snapshot"
                && let Some(ready) = ready.take()
            {
                ready.send(()).await.unwrap();
            }
        } else if line.is_empty() {
            if event == "word" {
                let version = id.expect("a word has an id");
                versions.push(version);
                if version >= last {
                    return versions;
                }
            }
            (id, event) = (None, String::new());
        }
    }
    panic!("the stream ended after {} words", versions.len());
}

/// Issue 19, acceptance 1: 2,000 subscribers on one room with the read pool cut to one
/// connection: every subscriber gets every word of 200 exactly once, in order, and no stream
/// is refused or ends early.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_streams_on_one_read_connection_get_every_word_once() {
    const SUBSCRIBERS: usize = 2000;
    const WORDS: i64 = 200;
    let app = TestApp::spawn_with(|settings| {
        settings.limits = frase::server::config::Limits {
            streams_per_address: 0,
            connections_per_address: 0,
            ..frase::server::config::Limits::new(
                frase::server::limits::RateLimit::Off,
                0,
                settings.limits.header_timeout,
            )
        };
        settings.read_connections = 1;
    })
    .await;
    app.create_room("multitud", free_settings()).await;
    let (ready_tx, mut ready) = tokio::sync::mpsc::channel(SUBSCRIBERS);
    let subscribers: Vec<_> = (0..SUBSCRIBERS)
        .map(|_| {
            tokio::spawn(raw_subscriber(
                app.addr,
                "/api/rooms/multitud/events".to_owned(),
                WORDS,
                ready_tx.clone(),
            ))
        })
        .collect();
    drop(ready_tx);
    for _ in 0..SUBSCRIBERS {
        tokio::time::timeout(Duration::from_secs(120), ready.recv())
            .await
            .expect("every stream opens with its snapshot")
            .expect("no stream fails before its snapshot");
    }
    let writer = user();
    for i in 0..WORDS {
        assert_eq!(
            add(&writer, &app, "multitud", &format!("m{i}"))
                .await
                .status(),
            201
        );
    }
    let expected: Vec<i64> = (1..=WORDS).collect();
    for subscriber in subscribers {
        let versions = tokio::time::timeout(Duration::from_secs(120), subscriber)
            .await
            .expect("every subscriber gets every word")
            .unwrap();
        assert_eq!(versions, expected);
    }
    app.stop().await;
}

/// The body of a chunked response, decoded strictly: `None` while a chunk is still partly
/// unread; a malformed chunk fails the test.
fn dechunked(mut raw: &[u8]) -> (Vec<u8>, bool) {
    let mut body = Vec::new();
    loop {
        let Some(line_end) = raw.windows(2).position(|pair| pair == b"\r\n") else {
            return (body, false);
        };
        let size_line = std::str::from_utf8(&raw[..line_end]).expect("a chunk size line");
        let size = usize::from_str_radix(size_line, 16)
            .unwrap_or_else(|_| panic!("a chunk size, not {size_line:?}"));
        if size == 0 {
            return (body, true);
        }
        let rest = &raw[line_end + 2..];
        if rest.len() < size + 2 {
            return (body, false);
        }
        assert_eq!(&rest[size..size + 2], b"\r\n", "a chunk ends with CRLF");
        body.extend_from_slice(&rest[..size]);
        raw = &rest[size + 2..];
    }
}

/// A waiting stream's socket is written by its room (`live::seat`), and handed back to the
/// stream when a frame does not fit whole: a subscriber that stops reading while 1,500 words
/// are posted (more than its socket's buffers and the room's recent frames hold), then reads on,
/// gets every word once, in order, in well-formed chunks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_stops_reading_for_a_while_gets_every_word_once_in_whole_chunks() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const WORDS: i64 = 1500;
    let app = TestApp::spawn().await;
    app.create_room("pausa", free_settings()).await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(app.addr).await.unwrap();
    let request = format!(
        "GET /api/rooms/pausa/events HTTP/1.1\r\nhost: {}\r\naccept: text/event-stream\r\n\r\n",
        app.addr
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    // Read until the stream's opening is in: from then on it waits, its socket lent.
    let mut raw = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let body_start = loop {
        let read = tokio::time::timeout(WAIT, stream.read(&mut buffer))
            .await
            .expect("the stream opens")
            .unwrap();
        assert!(read > 0, "the stream ended");
        raw.extend_from_slice(&buffer[..read]);
        if let Some(at) = raw.windows(4).position(|four| four == b"\r\n\r\n")
            && String::from_utf8_lossy(&raw).contains("event: presence")
        {
            break at + 4;
        }
    };
    assert!(
        raw.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&raw)
    );
    // Nothing read while the words are posted, four writers at once.
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let base = app.base.clone();
            tokio::spawn(async move {
                let client = user();
                for i in 0..WORDS / 4 {
                    let response = client
                        .post(format!("{base}/api/rooms/pausa/words"))
                        .json(&json!({ "text": format!("p{writer}x{i}") }))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), 201);
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    // Then everything, up to the last word.
    let versions = loop {
        let read = tokio::time::timeout(WAIT, stream.read(&mut buffer))
            .await
            .expect("the words arrive")
            .unwrap();
        assert!(read > 0, "the stream ended");
        raw.extend_from_slice(&buffer[..read]);
        let (body, ended) = dechunked(&raw[body_start..]);
        assert!(!ended, "the stream ended");
        let text = String::from_utf8(body).expect("whole UTF-8 frames");
        let versions: Vec<i64> = text
            .split("\n\n")
            .filter(|event| event.contains("event: word"))
            .filter_map(|event| event.strip_prefix("id: ")?.split('\n').next()?.parse().ok())
            .collect();
        if versions.last() == Some(&WORDS) {
            break versions;
        }
    };
    assert_eq!(versions, (1..=WORDS).collect::<Vec<_>>());
    app.stop().await;
}
