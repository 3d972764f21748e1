//! The story page (who wrote what, who wrote how much) and the host's "clear the sentence".

mod common;

use common::{TestApp, add_word, named_user, page_csrf_token, text_of, user};
use serde_json::{Value, json};

async fn named(app: &TestApp, name: &str) -> reqwest::Client {
    named_user(app, name).await.0
}

async fn add(client: &reqwest::Client, app: &TestApp, room: &str, text: &str) {
    let response = add_word(client, app, room, text).await;
    assert_eq!(response.status(), 201, "{text}");
}

#[tokio::test]
async fn the_story_page_shows_authors_contributions_and_a_chart() {
    let app = TestApp::spawn().await;
    let ana = named(&app, "Ana").await;
    let luis = named(&app, "Luis").await;
    let state = app.post_room(&ana, json!({ "title": "Cuento" })).await;
    let room = state["slug"].as_str().unwrap().to_owned();
    for (who, text) in [
        (&ana, "érase"),
        (&luis, "una"),
        (&ana, "vez."),
        (&ana, "fin"),
    ] {
        add(who, &app, &room, text).await;
    }

    let page = text_of(&user(), &app.url(&format!("/r/{room}/story"))).await;
    assert!(page.contains("Érase una vez."), "the finished sentence");
    assert!(page.contains("Ana, Luis"), "its authors, in order: {page}");
    assert!(
        !page.contains(">Fin<"),
        "the open sentence is not in the story"
    );
    let chart = &page[page.find("<svg").expect("a chart")..];
    let chart = &chart[..chart.find("</svg>").unwrap()];
    assert_eq!(chart.matches("<rect").count(), 2, "one bar each");
    assert!(
        chart.find(">Ana<").unwrap() < chart.find(">Luis<").unwrap(),
        "most first"
    );
    assert!(
        chart.contains(">3<") && chart.contains(">1<"),
        "Ana 3 words, Luis 1: {chart}"
    );
    for link in ["export-txt", "export-md", "export-json"] {
        assert!(page.contains(link), "{link}");
    }

    let missing = user()
        .get(app.url("/r/no-such-room/story"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn the_host_clears_the_sentence_in_one_change() {
    let app = TestApp::spawn().await;
    let host = named(&app, "Profe").await;
    let guest = named(&app, "Ana").await;
    let state = app.post_room(&host, json!({})).await;
    let room = state["slug"].as_str().unwrap().to_owned();
    add(&guest, &app, &room, "hola").await;
    add(&host, &app, &room, "mundo").await;

    let clear = |client: reqwest::Client, csrf: String| {
        let (url, room) = (app.url("/api/fn/clear_sentence"), room.clone());
        async move {
            client
                .post(url)
                .form(&[("room", room.as_str()), ("csrf", csrf.as_str())])
                .send()
                .await
                .unwrap()
        }
    };
    let guest_csrf = page_csrf_token(&guest, &app, &room).await;
    let refused = clear(guest.clone(), guest_csrf).await;
    assert_eq!(refused.status(), 403, "only the host clears");

    let host_csrf = page_csrf_token(&host, &app, &room).await;
    let cleared = clear(host.clone(), host_csrf).await;
    assert_eq!(cleared.status(), 200);
    let state: Value = host
        .get(app.url(&format!("/api/rooms/{room}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["sentence"]["words"], json!([]));
    assert_eq!(state["version"], 3, "two words, then one change");
    assert_eq!(state["finished_sentences"], 0, "nothing went to the story");
    app.stop().await;
}
