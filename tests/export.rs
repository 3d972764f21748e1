//! `frase export` prints the story the page shows, in each of its formats (issue 12, acceptance 4).

mod common;

use common::{TestApp, frase_binary, user};
use serde_json::{Value, json};

/// The finished sentences as the room page lists them (`#story li`).
fn story_on_page(html: &str) -> Vec<String> {
    let story = &html[html.find(r#"id="story""#).expect("the page has #story")..];
    let list = &story[..story.find("</ol>").expect("the story is a list")];
    list.split("<li")
        .skip(1)
        .map(|item| {
            let text = &item[item.find('>').unwrap() + 1..item.find("</li>").unwrap()];
            text.replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&")
        })
        .collect()
}

fn export(app: &TestApp, format: &str) -> String {
    let output = std::process::Command::new(frase_binary())
        .args(["export", "main", "--format", format, "--data-dir"])
        .arg(app.data_dir.path())
        .output()
        .expect("frase export runs");
    assert!(
        output.status.success(),
        "frase export --format {format}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

#[tokio::test]
async fn the_exported_story_matches_the_page_in_every_format() {
    let app = TestApp::spawn().await;
    let (ana, bea) = (user(), user());
    let words = [
        "érase", "una", "vez", "un", "«gato»", "azul.", "fin", "(de", "verdad)!",
    ];
    for (n, word) in words.iter().enumerate() {
        let author = if n % 2 == 0 { &ana } else { &bea };
        let response = author
            .post(app.url("/api/rooms/main/words"))
            .json(&json!({ "text": word }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{word}");
    }
    let html = common::text_of(&ana, &app.url("/r/main")).await;
    let page = story_on_page(&html);
    assert_eq!(page.len(), 2, "two finished sentences: {page:?}");

    let text = export(&app, "txt");
    assert_eq!(text.lines().collect::<Vec<_>>(), page, "txt");

    let markdown = export(&app, "md");
    let sentences: Vec<String> = markdown
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with("# "))
        .map(|line| line.replace('\\', ""))
        .collect();
    assert_eq!(sentences, page, "md");
    assert!(markdown.starts_with("# "), "md has the room's title");

    let document: Value = serde_json::from_str(&export(&app, "json")).unwrap();
    let sentences: Vec<&str> = document["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sentence| sentence["text"].as_str().unwrap())
        .collect();
    assert_eq!(sentences, page, "json");

    // The API's story is the same text.
    let api = common::text_of(&ana, &app.url("/api/rooms/main/story?format=txt")).await;
    assert_eq!(api, text);
}
