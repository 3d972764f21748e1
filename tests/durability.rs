//! Acceptance 7: a server killed with SIGKILL while words are being posted keeps, after a
//! restart, every word that got a 201.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{eventually, frase_binary, user};
use serde_json::{Value, json};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start(data_dir: &std::path::Path, port: u16) -> tokio::process::Child {
    let child = tokio::process::Command::new(frase_binary())
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("frase starts");
    let health = format!("http://127.0.0.1:{port}/healthz");
    eventually(Duration::from_secs(30), "the server answers", || {
        let health = health.clone();
        async move {
            matches!(reqwest::get(&health).await, Ok(response) if response.status() == 200)
        }
    })
    .await;
    child
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_word_survives_a_sigkill() {
    let data_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = start(data_dir.path(), port).await;
    let base = format!("http://127.0.0.1:{port}");

    // Four writers post as fast as they can; the server is killed in the middle of it.
    let writers: Vec<_> = (0..4)
        .map(|task| {
            let base = base.clone();
            tokio::spawn(async move {
                let (ana, bea) = (user(), user());
                let mut acknowledged = Vec::new();
                for i in 0.. {
                    let client = if i % 2 == 0 { &ana } else { &bea };
                    let sent = client
                        .post(format!("{base}/api/rooms/main/words"))
                        .json(&json!({ "text": format!("k{task}n{i}") }))
                        .send()
                        .await;
                    match sent {
                        Ok(response) if response.status() == 201 => {
                            let word: Value = response.json().await.unwrap();
                            acknowledged.push(word["id"].as_i64().unwrap());
                        }
                        // Turn-rule conflicts between writers are fine; only 201s count.
                        Ok(_) => {}
                        // The server is gone.
                        Err(_) => break,
                    }
                }
                acknowledged
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
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

    let mut server = start(data_dir.path(), port).await;
    let client = user();
    let mut stored = std::collections::BTreeSet::new();
    let mut after = 0;
    loop {
        let page: Value = client
            .get(format!("{base}/api/rooms/main/words?after={after}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let words = page["words"].as_array().unwrap();
        if words.is_empty() {
            break;
        }
        after = words.last().unwrap()["version"].as_i64().unwrap();
        stored.extend(words.iter().map(|w| w["id"].as_i64().unwrap()));
    }
    let lost: Vec<i64> = acknowledged
        .iter()
        .copied()
        .filter(|id| !stored.contains(id))
        .collect();
    assert!(
        lost.is_empty(),
        "acknowledged words lost after SIGKILL: {lost:?}"
    );
    server.start_kill().unwrap();
    let _ = server.wait().await;
}
