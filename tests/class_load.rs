//! Issue 17, acceptance 1: a class opening its pages at once. 400 loads of the lobby, a room
//! and its projector view, 20 at a time, over HTTP/1.1 and HTTP/2: every one a whole 200 page.
//! (Before the titles were rendered as plain text, 23–40 % of them panicked into empty replies.)

mod common;

use std::time::Duration;

use common::{TestApp, user};
use futures::StreamExt;
use serde_json::{Value, json};

async fn load_whole_pages(client: &reqwest::Client, url: &str, loads: usize, at_once: usize) {
    let outcomes: Vec<Result<(u16, String), String>> = futures::stream::iter(0..loads)
        .map(|_| async {
            let response = client.get(url).send().await.map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            let body = response.text().await.map_err(|e| e.to_string())?;
            Ok((status, body))
        })
        .buffer_unordered(at_once)
        .collect()
        .await;
    let mut failures = Vec::new();
    for outcome in outcomes {
        match outcome {
            // A streamed page: the document, then its out-of-order chunks' scripts.
            Ok((200, body)) if body.contains("</main>") && body.contains("</html>") => {}
            Ok((status, body)) => failures.push(format!(
                "{status}, {} bytes ending {:?}",
                body.len(),
                &body[body.len().saturating_sub(40)..]
            )),
            Err(error) => failures.push(error),
        }
    }
    assert!(
        failures.is_empty(),
        "{url}: {} of {loads} loads were not whole pages: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_class_opening_its_pages_at_once_gets_whole_pages() {
    let app = TestApp::spawn().await;
    let host = user();
    let room: Value = app
        .post_room(&host, json!({ "title": "Clase de 3º" }))
        .await;
    let slug = room["slug"].as_str().unwrap();
    let http1 = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let http2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    for path in [
        "/r/main".to_owned(),
        format!("/r/{slug}/present"),
        "/".to_owned(),
    ] {
        load_whole_pages(&http1, &app.url(&path), 400, 20).await;
        load_whole_pages(&http2, &app.url(&path), 400, 20).await;
    }
    // The room's title is the page's title, renamed live in the browser.
    let page = common::text_of(&http1, &app.url(&format!("/r/{slug}"))).await;
    assert!(
        page.contains("<title>Clase de 3º · frase</title>"),
        "{page}"
    );
    app.stop().await;
}
