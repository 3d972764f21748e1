//! Issue 20: several `frase` processes on one PostgreSQL database serve the same rooms, and
//! PostgreSQL carries the live events between them. Two processes behind nginx (the
//! repository's `deploy/nginx.conf`); 20 writers × 50 words, each writer's words going to both
//! processes in turn (one session each, signed with the shared key, every word under an
//! `Idempotency-Key` so a retry on the other process never doubles it); six followers: one
//! pinned to each process, four through nginx that reconnect with `Last-Event-ID` as
//! `EventSource` does. Mid-run the processes' listening connections are terminated by the
//! database, and then one process is killed with `SIGKILL`. Every surviving follower ends with
//! every stored word exactly once, in order, and every word is acknowledged and stored once.

mod common;

use std::time::Duration;

use common::nginx::Nginx;
use common::{EventReader, ThrowawayPostgres, every_word, free_port, free_settings, named_user_at};
use futures::future::join_all;
use tokio::sync::watch;

const SECRET_KEY: &str = "the key every frase process of this test shares";
const WRITERS: usize = 20;
const WORDS_EACH: usize = 50;
/// How long the followers may take to see every word after the writers are done.
const CATCH_UP: Duration = Duration::from_secs(60);

async fn start(database: &str, data_dir: &std::path::Path, port: u16) -> tokio::process::Child {
    let mut command = common::serve_command(data_dir, port);
    command
        .args(["--database", database, "--rate-limit", "off"])
        .args([
            "--connections-per-address",
            "0",
            "--streams-per-address",
            "0",
        ])
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

/// What a reconnecting follower saw.
#[derive(Debug, Default)]
struct Followed {
    /// The word events, in the order they came: (version, word id).
    words: Vec<(i64, i64)>,
    /// How many times its stream ended and it opened another with `Last-Event-ID`.
    reconnects: usize,
    /// Snapshots on a resumed stream (a resume inside the ring replays changes instead).
    snapshots_on_resume: usize,
}

/// Follows `url` from the stream `first` (opened on it) as `EventSource` does: when the stream
/// ends (or cannot open) it waits the stream's `retry` and opens another with `Last-Event-ID`
/// set to the last id it saw, until it has seen the version `last` is set to (or `CATCH_UP`
/// after that is set passes).
async fn follow(
    client: reqwest::Client,
    url: String,
    first: EventReader,
    mut last: watch::Receiver<Option<i64>>,
) -> Followed {
    let mut first = Some(first);
    let mut followed = Followed::default();
    let mut last_id: Option<i64> = None;
    let mut retry = Duration::from_millis(200);
    let mut deadline: Option<tokio::time::Instant> = None;
    let done = |last_id: Option<i64>, last: &watch::Receiver<Option<i64>>| matches!((*last.borrow(), last_id), (Some(target), Some(seen)) if seen >= target);
    loop {
        if deadline.is_none() && last.borrow().is_some() {
            deadline = Some(tokio::time::Instant::now() + CATCH_UP);
        }
        if done(last_id, &last) || deadline.is_some_and(|d| tokio::time::Instant::now() > d) {
            return followed;
        }
        let opened = match first.take() {
            Some(reader) => Ok(reader),
            None => EventReader::try_open(&client, &url, last_id).await,
        };
        let Ok(mut reader) = opened else {
            tokio::time::sleep(retry).await;
            continue;
        };
        let resumed = last_id.is_some();
        loop {
            if done(last_id, &last) || deadline.is_some_and(|d| tokio::time::Instant::now() > d) {
                return followed;
            }
            if deadline.is_none() && last.borrow_and_update().is_some() {
                deadline = Some(tokio::time::Instant::now() + CATCH_UP);
            }
            match reader.next_or_end(Duration::from_millis(250)).await {
                Ok(Some(event)) => {
                    if event.event == "word" {
                        let word: serde_json::Value = serde_json::from_str(&event.data).unwrap();
                        let version = event.id.expect("word events have an id");
                        followed.words.push((version, word["id"].as_i64().unwrap()));
                    } else if event.event == "snapshot" && resumed {
                        followed.snapshots_on_resume += 1;
                    }
                    if event.id.is_some() {
                        last_id = event.id;
                    }
                }
                Ok(None) => {}
                Err(()) => break,
            }
        }
        followed.reconnects += 1;
        if let Some(ms) = reader.retry {
            retry = Duration::from_millis(ms.min(1_000));
        }
        tokio::time::sleep(retry).await;
    }
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
    let slug = create_room(
        &common::user(),
        &bases[1],
        serde_json::json!({ "title": "cluster", "settings": free_settings() }),
    )
    .await;
    let events = |base: &str| format!("{base}/api/rooms/{slug}/events");
    let mut follower_a = EventReader::open(&common::viewer(), &events(&bases[0]), None).await;
    let mut follower_b = EventReader::open(&common::viewer(), &events(&bases[1]), None).await;
    // Four through nginx (its round robin puts two on each process), each with its stream open
    // before the first word.
    let nginx = Nginx::start(&[port_a, port_b]).await;
    let (set_last, last) = watch::channel(None);
    let mut through_nginx = Vec::new();
    if let Some(nginx) = &nginx {
        for _ in 0..4 {
            let client = common::viewer();
            let url = events(&nginx.base());
            let first = EventReader::open(&client, &url, None).await;
            through_nginx.push(tokio::spawn(follow(client, url, first, last.clone())));
        }
    }

    // Writers, each on both processes in turn; the listening connections are cut halfway.
    let writers = (0..WRITERS).map(|writer| {
        let bases = bases.clone();
        let slug = slug.clone();
        tokio::spawn(async move {
            // A session first, as a page load gives a browser: an `Idempotency-Key` is the
            // user's, and a client whose first answer (and cookie) died with B would retry as
            // someone else.
            let (client, _) = named_user_at(&bases[0], &format!("Writer {writer}")).await;
            let mut acknowledged = Vec::new();
            for word in 0..WORDS_EACH {
                let text = format!("w{writer}n{word}");
                // Its turn's process first; A if B is gone. A word B took when it was killed
                // answers 409 (in flight) until B's connections are gone, then its outcome:
                // the stored answer if it committed, a fresh run if not.
                let mut tries = 0;
                let version = loop {
                    let base = if tries == 0 {
                        &bases[(writer + word) % 2]
                    } else {
                        &bases[0]
                    };
                    tries += 1;
                    assert!(tries <= 60, "{text}: no answer after {tries} tries");
                    let response = client
                        .post(format!("{base}/api/rooms/{slug}/words"))
                        .header("Idempotency-Key", &text)
                        .json(&serde_json::json!({ "text": text }))
                        .send()
                        .await;
                    let Ok(response) = response else {
                        continue;
                    };
                    let status = response.status().as_u16();
                    let body: serde_json::Value = response.json().await.unwrap_or_default();
                    match status {
                        201 => break body["version"].as_i64().unwrap(),
                        200 if body["status"] == "stored" => {
                            break body["version"].as_i64().unwrap();
                        }
                        409 => {
                            eprintln!("{text}: in flight on B when it was killed; retrying on A");
                            tokio::time::sleep(Duration::from_millis(500)).await;
                        }
                        _ => panic!("{text}: {status} {body}"),
                    }
                };
                acknowledged.push(version);
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
    assert_eq!(
        acknowledged.len(),
        WRITERS * WORDS_EACH,
        "every word is acknowledged, by B or by A on a retry"
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
    let stored_at: std::collections::HashSet<i64> = stored
        .iter()
        .map(|w| w["version"].as_i64().unwrap())
        .collect();
    for version in &acknowledged {
        assert!(
            stored_at.contains(version),
            "the word acknowledged at version {version} is stored"
        );
    }
    let mut by_text: std::collections::BTreeMap<&str, Vec<&serde_json::Value>> =
        std::collections::BTreeMap::new();
    for word in &stored {
        by_text
            .entry(word["text"].as_str().unwrap())
            .or_default()
            .push(word);
    }
    let doubled: Vec<_> = by_text.values().filter(|words| words.len() > 1).collect();
    assert!(
        doubled.is_empty(),
        "no word is stored twice (a retry on A under the same Idempotency-Key adds nothing): \
         {doubled:?}"
    );
    assert_eq!(stored.len(), WRITERS * WORDS_EACH, "every word is stored");
    let last_version = stored.last().unwrap()["version"].as_i64().unwrap();
    set_last.send_replace(Some(last_version));

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

    // Through nginx: every stored word once, in order, whichever process each stream was on;
    // the streams on B ended with it and resumed on A from their last id.
    let mut reconnects = 0;
    for (n, follower) in through_nginx.into_iter().enumerate() {
        let followed = follower.await.unwrap();
        let versions: Vec<i64> = followed.words.iter().map(|(version, _)| *version).collect();
        let ids: Vec<i64> = followed.words.iter().map(|(_, id)| *id).collect();
        assert_eq!(
            versions, stored_versions,
            "follower {n} through nginx: every word once, in order ({} reconnects)",
            followed.reconnects
        );
        assert_eq!(ids, stored_ids, "follower {n} through nginx");
        assert_eq!(
            followed.snapshots_on_resume, 0,
            "follower {n} resumed inside the ring: changes, not a snapshot"
        );
        reconnects += followed.reconnects;
    }
    if nginx.is_some() {
        assert!(
            reconnects >= 1,
            "a stream nginx had put on B resumed through nginx on A"
        );
    }

    database.drop_database().await;
}

/// A room made by `host` on the process at `base` with `body`: its slug.
async fn create_room(host: &reqwest::Client, base: &str, body: serde_json::Value) -> String {
    let created = host
        .post(format!("{base}/api/rooms"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let room: serde_json::Value = created.json().await.unwrap();
    room["slug"].as_str().unwrap().to_owned()
}

/// Reads `events` until a `presence` event says `online`, panicking after `within`.
async fn until_online(events: &mut EventReader, online: u64, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    let mut last = None;
    while let Some(event) = events
        .next(deadline.saturating_duration_since(tokio::time::Instant::now()))
        .await
    {
        if event.event == "presence" {
            let presence: serde_json::Value = serde_json::from_str(&event.data).unwrap();
            last = presence["online"].as_u64();
            if last == Some(online) {
                return;
            }
        }
    }
    panic!("no presence of {online} within {within:?} (last: {last:?})");
}

/// The `turn` events of `events` until the round is over (a `turn` of `null`).
async fn turns_until_over(events: &mut EventReader) -> Vec<(i64, serde_json::Value)> {
    let mut turns = Vec::new();
    while let Some(event) = events.next(Duration::from_secs(30)).await {
        if event.event == "turn" {
            let data: serde_json::Value = serde_json::from_str(&event.data).unwrap();
            let over = data["turn"].is_null();
            turns.push((event.id.unwrap(), data["turn"].clone()));
            if over {
                return turns;
            }
        }
    }
    panic!("the round did not end: {turns:?}");
}

/// Issue 20, acceptance 3: a `turns` round with players on two processes. The online count is
/// the room's on both; the round's players are everyone present on either; both processes see
/// one turn order; and each turn runs out once, at its deadline (not earlier, as it would if a
/// process took a player on the other for absent).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_turns_round_with_players_on_two_processes_is_one_round() {
    const TURN_SECONDS: i64 = 5;
    let Some(database) = ThrowawayPostgres::create().await else {
        return;
    };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (port_a, port_b) = (free_port(), free_port());
    let _a = start(&database.url, dir_a.path(), port_a).await;
    let _b = start(&database.url, dir_b.path(), port_b).await;
    let (a, b) = (
        format!("http://127.0.0.1:{port_a}"),
        format!("http://127.0.0.1:{port_b}"),
    );
    let (host, host_id) = named_user_at(&a, "Profe").await;
    let (ana, ana_id) = named_user_at(&a, "Ana").await;
    let (luis, luis_id) = named_user_at(&b, "Luis").await;
    let slug = create_room(
        &host,
        &a,
        serde_json::json!({
            "title": "turnos",
            "settings": { "mode": "turns", "turn_seconds": TURN_SECONDS }
        }),
    )
    .await;
    let events = |base: &str| format!("{base}/api/rooms/{slug}/events");

    // The host and Ana have the room open on A, Luis on B: three online, on both.
    let mut on_a = EventReader::open(&host, &events(&a), None).await;
    let _ana_open = EventReader::open(&ana, &events(&a), None).await;
    let mut on_b = EventReader::open(&luis, &events(&b), None).await;
    until_online(&mut on_a, 3, Duration::from_secs(10)).await;
    until_online(&mut on_b, 3, Duration::from_secs(10)).await;

    // The host starts the round on A; nobody plays.
    let started = host
        .post(format!("{a}/api/rooms/{slug}/round/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 200);
    let turns_a = turns_until_over(&mut on_a).await;
    let turns_b = turns_until_over(&mut on_b).await;
    assert_eq!(
        turns_a, turns_b,
        "one round, seen the same on both processes"
    );

    // Three turns, one per player, then the end: each ran out once.
    assert_eq!(turns_a.len(), 4, "{turns_a:?}");
    let mut players: Vec<&str> = turns_a[..3]
        .iter()
        .map(|(_, turn)| turn["user"]["id"].as_str().unwrap())
        .collect();
    players.sort_unstable();
    let mut present = vec![host_id.as_str(), ana_id.as_str(), luis_id.as_str()];
    present.sort_unstable();
    assert_eq!(players, present, "everyone present on either process plays");
    let deadlines: Vec<i128> = turns_a[..3]
        .iter()
        .map(|(_, turn)| {
            let deadline = turn["deadline"].as_str().unwrap();
            time::OffsetDateTime::parse(deadline, &time::format_description::well_known::Rfc3339)
                .unwrap()
                .unix_timestamp_nanos()
                / 1_000_000
        })
        .collect();
    for pair in deadlines.windows(2) {
        assert_eq!(
            pair[1] - pair[0],
            i128::from(TURN_SECONDS) * 1000,
            "each turn starts when the one before ran out: {deadlines:?}"
        );
    }

    database.drop_database().await;
}

/// Issue 20: an `Idempotency-Key` whose request was cut off with its process (no connection of
/// the database carries that process's name any more) is settled by the next request that
/// brings it, on any process: answered "stored" where its change committed, run afresh where it
/// did not. One whose process is alive stays in flight.
#[tokio::test]
async fn a_key_cut_off_with_its_process_is_settled_by_a_retry_elsewhere() {
    use frase::server::store::{self, ClaimedKey, Conn, KeyUse, REQUEST_KEY, Store};
    let Some(database) = ThrowawayPostgres::create().await else {
        return;
    };
    let alive = Store::open(&database.url).await.unwrap();
    alive.migrate().await.unwrap();
    let retrying = Store::open(&database.url).await.unwrap();
    let claimed = |key: &str, process: &str| ClaimedKey {
        user_id: "u1".into(),
        key: key.into(),
        process: process.into(),
    };
    let claim = |store: &Store, claim: ClaimedKey| {
        let store = store.clone();
        async move {
            store
                .write(async |conn: &mut Conn| {
                    store::claim_key(
                        conn,
                        &claim,
                        "hash",
                        "2026-12-03T00:00:00Z",
                        "2026-12-02T00:00:00Z",
                    )
                    .await
                })
                .await
                .unwrap()
        }
    };
    let mine = retrying.process_id().to_owned();

    // Claimed by a process that is alive (its connections carry its name): in flight.
    let live = claimed("live", alive.process_id());
    assert_eq!(claim(&alive, live).await, KeyUse::Fresh);
    assert_eq!(
        claim(&retrying, claimed("live", &mine)).await,
        KeyUse::InFlight
    );

    // Claimed by processes that are gone, one after its change committed.
    assert_eq!(
        claim(&alive, claimed("committed", "gone-1")).await,
        KeyUse::Fresh
    );
    REQUEST_KEY
        .scope(claimed("committed", "gone-1"), async {
            alive
                .write(async |conn: &mut Conn| store::mark_key_committed(conn, "main", 9).await)
                .await
                .unwrap();
        })
        .await;
    assert_eq!(
        claim(&alive, claimed("lost", "gone-2")).await,
        KeyUse::Fresh
    );
    match claim(&retrying, claimed("committed", &mine)).await {
        KeyUse::Replay(stored) => {
            assert_eq!(stored.status, 200);
            let body: serde_json::Value = serde_json::from_slice(&stored.body).unwrap();
            assert_eq!(body["status"], "stored");
            assert_eq!(body["version"], 9);
        }
        other => panic!("the committed key answers that it is stored: {other:?}"),
    }
    assert_eq!(
        claim(&retrying, claimed("lost", &mine)).await,
        KeyUse::Fresh,
        "the key whose change never committed runs afresh, now this process's"
    );
    // And the gone process can no longer commit under it.
    let late = REQUEST_KEY
        .scope(claimed("lost", "gone-2"), async {
            alive
                .write(async |conn: &mut Conn| store::mark_key_committed(conn, "main", 10).await)
                .await
        })
        .await;
    assert!(
        matches!(late, Err(store::StoreError::KeyTakenOver)),
        "{late:?}"
    );

    database.drop_database().await;
}
