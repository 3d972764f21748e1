//! Acceptance 7: a server killed with SIGKILL while words are being posted keeps, after a
//! restart, every word that got a 201.

mod common;

use std::time::{Duration, Instant};

use common::{every_word, free_port, start_frase, user};
use serde_json::{Value, json};

async fn start(data_dir: &std::path::Path, port: u16) -> tokio::process::Child {
    start_frase(data_dir, port, &[]).await
}

/// The server runs without rate limits, so that it is committing words when it is killed: the
/// test checks that 201s were still arriving in the last moments before the kill, which is
/// what makes "no acknowledged word lost" mean something.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_word_survives_a_sigkill() {
    /// How close to the kill the last 201s must have come.
    const IN_FLIGHT: Duration = Duration::from_millis(100);
    let data_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = start_frase(data_dir.path(), port, &["--rate-limit", "off"]).await;
    let base = format!("http://127.0.0.1:{port}");
    let words = format!("{base}/api/rooms/main/words");

    // Four writers post as fast as they can; the server is killed in the middle of it. Each
    // keeps the ids of its 201s and when they came.
    let writers: Vec<_> = (0..4)
        .map(|task| {
            let words = words.clone();
            tokio::spawn(async move {
                let (ana, bea) = (user(), user());
                let mut acknowledged = Vec::new();
                for i in 0.. {
                    let client = if i % 2 == 0 { &ana } else { &bea };
                    let sent = client
                        .post(&words)
                        .json(&json!({ "text": format!("k{task}n{i}") }))
                        .send()
                        .await;
                    match sent {
                        Ok(response) if response.status() == 201 => {
                            let word: Value = response.json().await.unwrap();
                            acknowledged.push((word["id"].as_i64().unwrap(), Instant::now()));
                        }
                        // Turn-rule conflicts between writers are fine; only 201s count.
                        Ok(response) if response.status() == 409 => {}
                        Ok(response) => panic!("k{task}n{i}: {}", response.status()),
                        // The server is gone.
                        Err(_) => break,
                    }
                }
                acknowledged
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let killed = Instant::now();
    server.start_kill().unwrap(); // SIGKILL
    server.wait().await.unwrap();
    let mut acknowledged = Vec::new();
    for writer in writers {
        acknowledged.extend(writer.await.unwrap());
    }
    assert!(
        acknowledged.len() > 20,
        "words were acknowledged before the kill"
    );
    let last_moments = acknowledged
        .iter()
        .filter(|(_, at)| killed.saturating_duration_since(*at) <= IN_FLIGHT)
        .count();
    assert!(
        last_moments > 0,
        "no 201 in the last {IN_FLIGHT:?} before the kill ({} in all): no commit was in flight",
        acknowledged.len()
    );

    let mut server = start(data_dir.path(), port).await;
    let stored: std::collections::BTreeSet<i64> = every_word(&words)
        .await
        .iter()
        .map(|w| w["id"].as_i64().unwrap())
        .collect();
    let lost: Vec<i64> = acknowledged
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !stored.contains(id))
        .collect();
    assert!(
        lost.is_empty(),
        "acknowledged words lost after SIGKILL ({} acknowledged, {last_moments} in the last \
         {IN_FLIGHT:?}): {lost:?}",
        acknowledged.len()
    );
    server.start_kill().unwrap();
    let _ = server.wait().await;
}

/// Issue 17, acceptance 4: requests in flight under idempotency keys when the server is killed,
/// retried with their keys after the restart, all end in a 2xx — the stored result or a fresh
/// add — and no word is stored twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idempotent_retries_after_a_sigkill_all_succeed_once() {
    const WRITERS: usize = 40;
    let data_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = start_frase(data_dir.path(), port, &["--rate-limit", "off"]).await;
    let base = format!("http://127.0.0.1:{port}");
    let host = user();
    let room = host
        .post(format!("{base}/api/rooms"))
        .json(&json!({ "title": "crash", "settings": { "no_double_turn": false } }))
        .send()
        .await
        .unwrap();
    assert_eq!(room.status(), 201);
    let room: Value = room.json().await.unwrap();
    let slug = room["slug"].as_str().unwrap().to_owned();
    let words = format!("{base}/api/rooms/{slug}/words");

    // Each writer posts one-word sentences under fresh keys until the server dies, and keeps
    // the request that was cut off (its key and text).
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let words = words.clone();
            let base = base.clone();
            tokio::spawn(async move {
                let client = user();
                client.get(format!("{base}/api/me")).send().await.unwrap();
                for i in 0.. {
                    let key = format!("w{writer}-{i}");
                    let text = format!("w{writer}n{i}.");
                    let sent = client
                        .post(&words)
                        .header("idempotency-key", &key)
                        .json(&json!({ "text": text }))
                        .send()
                        .await;
                    match sent {
                        Ok(response) if response.status() == 201 => {}
                        Ok(response) => panic!("{text}: {}", response.status()),
                        Err(_) => return (client, key, text),
                    }
                }
                unreachable!()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.start_kill().unwrap(); // SIGKILL
    server.wait().await.unwrap();
    let mut cut_off = Vec::new();
    for writer in writers {
        cut_off.push(writer.await.unwrap());
    }

    let mut server = start(data_dir.path(), port).await;
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for (client, key, text) in &cut_off {
        let response = client
            .post(&words)
            .header("idempotency-key", key)
            .json(&json!({ "text": text }))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        *statuses.entry(status).or_default() += 1;
        assert!(
            (200..300).contains(&status),
            "the retry of {text} under {key}: {status} {}",
            response.text().await.unwrap_or_default()
        );
    }
    eprintln!("retries after the restart, by status: {statuses:?}");

    let stored: Vec<String> = every_word(&words)
        .await
        .iter()
        .map(|w| w["text"].as_str().unwrap().to_owned())
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    let doubled: Vec<&String> = stored.iter().filter(|text| !seen.insert(*text)).collect();
    assert!(doubled.is_empty(), "words stored twice: {doubled:?}");
    for (_, _, text) in &cut_off {
        assert!(seen.contains(text), "{text} is stored after its retry");
    }
    server.start_kill().unwrap();
    let _ = server.wait().await;
}
