//! Issue 19, acceptance 3: group commit. Words from many writers at once, to many rooms, share
//! commits; still every room's versions run 1..n with no gap, a word refused by its room's rules
//! gets its 422 while its neighbours get 201, and a SIGKILL loses no acknowledged word.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::{TestApp, add_word, every_word, free_port, get_json, start_frase, user};
use serde_json::{Value, json};

const ROOMS: usize = 10;
const WRITERS: usize = 50;
const WORDS_EACH: usize = 20;

/// Creates the rooms (turn rule off: one writer may add consecutive words); their slugs.
async fn create_rooms(base: &str) -> Vec<String> {
    let host = user();
    let mut slugs = Vec::new();
    for room in 0..ROOMS {
        let response = host
            .post(format!("{base}/api/rooms"))
            .json(&json!({
                "title": format!("sala {room}"),
                "settings": { "no_double_turn": false, "max_word_length": 12 }
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let state: Value = response.json().await.unwrap();
        slugs.push(state["slug"].as_str().unwrap().to_owned());
    }
    slugs
}

/// Checks that a room's words carry the versions 1..n, each once, and that the room is at n.
async fn assert_gap_free(base: &str, slug: &str) -> Vec<Value> {
    let words = every_word(&format!("{base}/api/rooms/{slug}/words")).await;
    let versions: Vec<i64> = words
        .iter()
        .map(|word| word["version"].as_i64().unwrap())
        .collect();
    let expected: Vec<i64> = (1..=words.len() as i64).collect();
    assert_eq!(versions, expected, "room {slug}: versions with a gap");
    let state = get_json(&user(), &format!("{base}/api/rooms/{slug}")).await;
    assert_eq!(state["version"].as_i64().unwrap(), words.len() as i64);
    words
}

/// One writer's results: the words acknowledged (room, id) and the status of every refused one.
#[derive(Default)]
struct Posted {
    acknowledged: Vec<(String, i64)>,
    refused: Vec<u16>,
    other: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn words_from_many_writers_share_commits_and_keep_every_room_gap_free() {
    let app = TestApp::spawn().await;
    let slugs = create_rooms(&app.base).await;
    let before = app.app_state.rooms.store().commit_stats();

    // Every writer posts its words round the rooms; every fourth post is a word longer than
    // the rooms allow, refused inside the batch it arrives with.
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let (base, slugs) = (app.base.clone(), slugs.clone());
            tokio::spawn(async move {
                let client = user();
                let mut posted = Posted::default();
                let mut valid = 0;
                let mut i = 0;
                while valid < WORDS_EACH {
                    let slug = &slugs[(writer + i) % ROOMS];
                    let invalid = i % 4 == 3;
                    let text = if invalid {
                        format!("demasiadolarga{writer}")
                    } else {
                        format!("w{writer}n{i}")
                    };
                    let response = client
                        .post(format!("{base}/api/rooms/{slug}/words"))
                        .json(&json!({ "text": text }))
                        .send()
                        .await
                        .unwrap();
                    match (invalid, response.status().as_u16()) {
                        (false, 201) => {
                            let word: Value = response.json().await.unwrap();
                            posted
                                .acknowledged
                                .push((slug.clone(), word["id"].as_i64().unwrap()));
                            valid += 1;
                        }
                        (true, status) => posted.refused.push(status),
                        (false, status) => posted.other.push(format!("{text}: {status}")),
                    }
                    i += 1;
                }
                posted
            })
        })
        .collect();
    let mut acknowledged = Vec::new();
    let mut refused = Vec::new();
    for writer in writers {
        let posted = writer.await.unwrap();
        assert!(
            posted.other.is_empty(),
            "valid words refused: {:?}",
            posted.other
        );
        acknowledged.extend(posted.acknowledged);
        refused.extend(posted.refused);
    }
    assert_eq!(acknowledged.len(), WRITERS * WORDS_EACH);
    assert!(
        refused.iter().all(|status| *status == 422),
        "the words too long: {refused:?}"
    );

    let mut stored = BTreeSet::new();
    let mut total = 0;
    for slug in &slugs {
        let words = assert_gap_free(&app.base, slug).await;
        total += words.len();
        stored.extend(
            words
                .iter()
                .map(|word| (slug.clone(), word["id"].as_i64().unwrap())),
        );
    }
    assert_eq!(
        total,
        WRITERS * WORDS_EACH,
        "exactly the acknowledged words"
    );
    assert_eq!(stored, acknowledged.into_iter().collect::<BTreeSet<_>>());

    // They shared commits: fewer commits than words.
    let after = app.app_state.rooms.store().commit_stats();
    let (changes, commits) = (
        after.changes - before.changes,
        after.commits - before.commits,
    );
    eprintln!("{changes} changes in {commits} commits");
    assert_eq!(changes, (WRITERS * WORDS_EACH) as u64);
    assert!(
        commits < changes,
        "{changes} changes from {WRITERS} writers at once took {commits} commits"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sigkill_during_group_commits_loses_no_acknowledged_word() {
    let data_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let start = || start_frase(data_dir.path(), port, &["--rate-limit", "off"]);
    let mut server = start().await;
    let base = format!("http://127.0.0.1:{port}");
    let slugs = create_rooms(&base).await;

    // The writers post until the server is gone.
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let (base, slugs) = (base.clone(), slugs.clone());
            tokio::spawn(async move {
                let client = user();
                let mut acknowledged = Vec::new();
                for i in 0.. {
                    let slug = &slugs[(writer + i) % ROOMS];
                    let sent = client
                        .post(format!("{base}/api/rooms/{slug}/words"))
                        .json(&json!({ "text": format!("w{writer}n{i}") }))
                        .send()
                        .await;
                    match sent {
                        Ok(response) if response.status() == 201 => {
                            let word: Value = response.json().await.unwrap();
                            acknowledged.push((slug.clone(), word["id"].as_i64().unwrap()));
                        }
                        Ok(response) => panic!("w{writer}n{i}: {}", response.status()),
                        Err(_) => break,
                    }
                }
                acknowledged
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(2000)).await;
    server.start_kill().unwrap(); // SIGKILL
    server.wait().await.unwrap();
    let mut acknowledged = Vec::new();
    for writer in writers {
        acknowledged.extend(writer.await.unwrap());
    }
    assert!(
        acknowledged.len() > WRITERS,
        "words were acknowledged before the kill ({})",
        acknowledged.len()
    );

    let mut server = start().await;
    let mut stored = BTreeSet::new();
    let mut per_room = BTreeMap::new();
    for slug in &slugs {
        let words = assert_gap_free(&base, slug).await;
        per_room.insert(slug.clone(), words.len());
        stored.extend(
            words
                .iter()
                .map(|word| (slug.clone(), word["id"].as_i64().unwrap())),
        );
    }
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|word| !stored.contains(*word))
        .collect();
    eprintln!(
        "{} acknowledged before the kill; stored after the restart, per room: {per_room:?}",
        acknowledged.len()
    );
    assert!(lost.is_empty(), "acknowledged words lost: {lost:?}");
    server.start_kill().unwrap();
    let _ = server.wait().await;
}

/// The author's row, read from the database (`None`: they have none).
async fn stored_name(app: &TestApp, id: &str) -> Option<String> {
    let mut conn = app.app_state.rooms.store().read().await.unwrap();
    sqlx::query_scalar("SELECT name FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .unwrap()
}

/// A word reads its room, its author and its place in one round trip, making sure of the
/// author's row before the room's rules are checked: a word they refuse (or one to a room that
/// is not there) must take that row back with it, and the next word must still be named and
/// placed right.
#[tokio::test]
async fn a_refused_word_leaves_nothing_behind_not_even_its_author() {
    let app = TestApp::spawn().await;
    let client = user();
    let me = get_json(&client, &app.url("/api/me")).await;
    let id = me["id"].as_str().unwrap();
    let too_long = add_word(&client, &app, "main", &"x".repeat(200)).await;
    assert_eq!(too_long.status(), 422);
    let nowhere = add_word(&client, &app, "no-such-room", "hola").await;
    assert_eq!(nowhere.status(), 404);
    assert_eq!(stored_name(&app, id).await, None);
    let state = get_json(&client, &app.url("/api/rooms/main")).await;
    assert_eq!(state["version"], 0, "nothing was logged");

    let word = add_word(&client, &app, "main", "hola").await;
    assert_eq!(word.status(), 201);
    let word: Value = word.json().await.unwrap();
    assert_eq!(
        (&word["version"], &word["position"]),
        (&json!(1), &json!(0))
    );
    assert_eq!(word["author"]["id"], id);
    assert_eq!(word["author"]["name"], me["name"]);
    assert_eq!(stored_name(&app, id).await.as_deref(), me["name"].as_str());
    // Someone else's word goes after it, named as they are.
    let other = user();
    let them = get_json(&other, &app.url("/api/me")).await;
    let next: Value = add_word(&other, &app, "main", "mundo")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&next["version"], &next["position"]),
        (&json!(2), &json!(1))
    );
    assert_eq!(
        next["author"],
        json!({ "id": them["id"], "name": them["name"] })
    );
}
