//! The JSON API, server functions and pages, against the real server.

mod common;

use common::{TestApp, free_settings, html, user, version_of};
use serde_json::{Value, json};

#[tokio::test]
async fn a_word_is_added_and_can_be_read_back() {
    let app = TestApp::spawn().await;
    let client = user();
    let response = client
        .post(app.url("/api/rooms/main/words"))
        .json(&json!({ "text": "  Hola " }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let word: Value = response.json().await.unwrap();
    assert_eq!(word["text"], "Hola");
    assert_eq!(word["version"], 1);
    assert_eq!(word["position"], 0);
    assert_eq!(word["ends_sentence"], false);
    assert_eq!(location, format!("/api/rooms/main/words/{}", word["id"]));
    assert!(word["author"]["name"].as_str().unwrap().len() > 3);
    assert!(word["created_at"].as_str().unwrap().ends_with('Z'));

    let fetched: Value = client
        .get(app.url(&location))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, word);
    let listed: Value = client
        .get(app.url("/api/rooms/main/words?after=0"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["words"], json!([word]));
    let none: Value = client
        .get(app.url("/api/rooms/main/words?after=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none["words"], json!([]));
    let state: Value = client
        .get(app.url("/api/rooms/main"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["version"], 1);
    assert_eq!(state["sentence"]["words"][0]["text"], "Hola");
    assert_eq!(state["host"], false);
}

#[tokio::test]
async fn a_closing_word_ends_the_sentence() {
    let app = TestApp::spawn().await;
    let (ana, bea) = (user(), user());
    for (client, text) in [(&ana, "hola"), (&bea, "mundo"), (&ana, "cruel.")] {
        let response = client
            .post(app.url("/api/rooms/main/words"))
            .json(&json!({ "text": text }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "adding {text}");
    }
    let state: Value = ana
        .get(app.url("/api/rooms/main"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["finished_sentences"], 1);
    assert_eq!(state["sentence"]["words"], json!([]));
    let story = app
        .app_state
        .rooms
        .story(&frase::domain::RoomSlug::main())
        .await
        .unwrap();
    assert_eq!(story.len(), 1);
    assert_eq!(story[0].text, "Hola mundo cruel.");
}

#[tokio::test]
async fn the_turn_rule_refuses_a_second_word_in_a_row() {
    let app = TestApp::spawn().await;
    let ana = user();
    let add = |text: &'static str| {
        ana.post(app.url("/api/rooms/main/words"))
            .json(&json!({ "text": text }))
            .send()
    };
    assert_eq!(add("uno").await.unwrap().status(), 201);
    let refused = add("dos").await.unwrap();
    assert_eq!(refused.status(), 409);
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "double-turn");
    assert_eq!(version_of(&ana, &app, "main").await, 1);
}

#[tokio::test]
async fn the_room_state_answers_304_to_its_own_etag() {
    let app = TestApp::spawn().await;
    let client = user();
    let first = client.get(app.url("/api/rooms/main")).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["cache-control"], "no-cache");
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"'), "strong ETag: {etag}");

    let again = client
        .get(app.url("/api/rooms/main"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], etag.as_str());
    assert_eq!(again.headers()["cache-control"], "no-cache");
    assert!(again.bytes().await.unwrap().is_empty(), "304 has no body");

    // A change makes the old tag stale.
    client
        .post(app.url("/api/rooms/main/words"))
        .json(&json!({ "text": "cambio" }))
        .send()
        .await
        .unwrap();
    let changed = client
        .get(app.url("/api/rooms/main"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"], etag.as_str());
}

#[tokio::test]
async fn a_stale_if_match_is_refused_with_412() {
    let app = TestApp::spawn().await;
    app.create_room("libre", free_settings()).await;
    let client = user();
    let etag = client
        .get(app.url("/api/rooms/libre"))
        .send()
        .await
        .unwrap()
        .headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let add = |text: &'static str| {
        client
            .post(app.url("/api/rooms/libre/words"))
            .header("If-Match", &etag)
            .json(&json!({ "text": text }))
            .send()
    };
    assert_eq!(add("primera").await.unwrap().status(), 201);
    let stale = add("segunda").await.unwrap();
    assert_eq!(stale.status(), 412);
    assert_eq!(stale.headers()["content-type"], "application/problem+json");
    assert_eq!(version_of(&client, &app, "libre").await, 1);
}

/// Every kind of bad input gets its 4xx as problem+json, and nothing is stored.
#[tokio::test]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let client = user();
    let post_json = |room: &str, body: Value| {
        client
            .post(app.url(&format!("/api/rooms/{room}/words")))
            .json(&body)
            .send()
    };
    let cases: Vec<(&str, reqwest::Response, u16, &str)> = vec![
        (
            "empty",
            post_json("main", json!({"text": ""})).await.unwrap(),
            422,
            "word-empty",
        ),
        (
            "blank",
            post_json("main", json!({"text": "   "})).await.unwrap(),
            422,
            "word-empty",
        ),
        (
            "two words",
            post_json("main", json!({"text": "dos palabras"}))
                .await
                .unwrap(),
            422,
            "word-multiple-tokens",
        ),
        (
            "33 characters",
            post_json("main", json!({"text": "a".repeat(33)}))
                .await
                .unwrap(),
            422,
            "word-too-long",
        ),
        (
            "control character",
            post_json("main", json!({"text": "a\u{7}b"})).await.unwrap(),
            422,
            "word-control-character",
        ),
        (
            "markup",
            post_json("main", json!({"text": "<b>"})).await.unwrap(),
            422,
            "word-markup",
        ),
        (
            "no text field",
            post_json("main", json!({"word": "hola"})).await.unwrap(),
            400,
            "malformed-body",
        ),
        (
            "text not a string",
            post_json("main", json!({"text": 5})).await.unwrap(),
            400,
            "malformed-body",
        ),
        (
            "invalid JSON",
            client
                .post(app.url("/api/rooms/main/words"))
                .header("content-type", "application/json")
                .body("{\"text\": ")
                .send()
                .await
                .unwrap(),
            400,
            "malformed-json",
        ),
        (
            "wrong content type",
            client
                .post(app.url("/api/rooms/main/words"))
                .header("content-type", "text/plain")
                .body("hola")
                .send()
                .await
                .unwrap(),
            415,
            "unsupported-media-type",
        ),
        (
            "too large",
            client
                .post(app.url("/api/rooms/main/words"))
                .header("content-type", "application/json")
                .body(format!("{{\"text\": \"{}\"}}", "a".repeat(20_000)))
                .send()
                .await
                .unwrap(),
            413,
            "body-too-large",
        ),
        (
            "unknown room",
            post_json("no-such-room", json!({"text": "hola"}))
                .await
                .unwrap(),
            404,
            "room-not-found",
        ),
        (
            "malformed room",
            post_json("No_Such", json!({"text": "hola"})).await.unwrap(),
            404,
            "room-not-found",
        ),
    ];
    for (case, response, status, code) in cases {
        assert_eq!(response.status().as_u16(), status, "{case}: status");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{case}: content type"
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["status"], status, "{case}: problem status");
        assert_eq!(problem["code"], code, "{case}: problem code");
        assert!(
            problem["type"]
                .as_str()
                .unwrap()
                .starts_with("urn:frase:problem:"),
            "{case}: type"
        );
        assert!(
            !problem["title"].as_str().unwrap().is_empty(),
            "{case}: title"
        );
        assert!(
            !problem["detail"].as_str().unwrap().is_empty(),
            "{case}: detail"
        );
    }
    assert_eq!(
        version_of(&client, &app, "main").await,
        0,
        "nothing was stored"
    );
    let words: Value = client
        .get(app.url("/api/rooms/main/words"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(words["words"], json!([]));
}

#[tokio::test]
async fn unknown_paths_and_methods_are_problems_too() {
    let app = TestApp::spawn().await;
    let client = user();
    let missing = client
        .get(app.url("/api/rooms/main/words/999"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
    let not_a_number = client
        .get(app.url("/api/rooms/main/words/abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(not_a_number.status(), 404);
    let nowhere = client.get(app.url("/api/nothing")).send().await.unwrap();
    assert_eq!(nowhere.status(), 404);
    assert_eq!(
        nowhere.headers()["content-type"],
        "application/problem+json"
    );
    let wrong_method = client
        .delete(app.url("/api/rooms/main/words"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), 405);
    assert_eq!(
        wrong_method.headers()["content-type"],
        "application/problem+json"
    );
    let allow = wrong_method.headers()["allow"].to_str().unwrap().to_owned();
    assert!(
        allow.contains("GET") && allow.contains("POST"),
        "Allow: {allow}"
    );
    let bad_query = client
        .get(app.url("/api/rooms/main/words?after=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_query.status(), 400);
    assert_eq!(
        bad_query.headers()["content-type"],
        "application/problem+json"
    );
}

#[tokio::test]
async fn me_has_a_generated_name_that_can_be_changed() {
    let app = TestApp::spawn().await;
    let client = user();
    let first = client.get(app.url("/api/me")).send().await.unwrap();
    let cookie = first.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("frase_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    let me: Value = first.json().await.unwrap();
    assert_eq!(me["id"].as_str().unwrap().len(), 32);
    let again: Value = client
        .get(app.url("/api/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again, me, "the cookie keeps the same user");

    let renamed = client
        .patch(app.url("/api/me"))
        .json(&json!({ "name": "  Ana   Belén " }))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    let renamed: Value = renamed.json().await.unwrap();
    assert_eq!(renamed["name"], "Ana Belén");
    let bad = client
        .patch(app.url("/api/me"))
        .json(&json!({ "name": "<script>" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let word: Value = client
        .post(app.url("/api/rooms/main/words"))
        .json(&json!({ "text": "hola" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        word["author"],
        json!({ "id": me["id"], "name": "Ana Belén" })
    );
}

/// The length of a signed cookie's signature: the base64 of an HMAC-SHA256, before the value.
const SIGNATURE_LEN: usize = 44;

/// The session cookie `response` sets, as the value a browser sends back (percent-decoded).
fn session_cookie(response: &reqwest::Response) -> String {
    let header = response.headers()["set-cookie"].to_str().unwrap();
    let value = header
        .split(';')
        .next()
        .and_then(|pair| pair.strip_prefix("frase_session="))
        .unwrap_or_else(|| panic!("a session cookie: {header}"));
    let mut decoded = Vec::new();
    let mut bytes = value.bytes();
    while let Some(byte) = bytes.next() {
        if byte == b'%' {
            let hex: String = bytes.by_ref().take(2).map(char::from).collect();
            decoded.push(u8::from_str_radix(&hex, 16).unwrap());
        } else {
            decoded.push(byte);
        }
    }
    String::from_utf8(decoded).unwrap()
}

/// `GET /api/me` with `cookie` as the session cookie: who the server says the caller is, and
/// whether it sets a new cookie.
async fn me_with_cookie(app: &TestApp, cookie: &str) -> (String, bool) {
    let response = reqwest::Client::new()
        .get(app.url("/api/me"))
        .header("cookie", format!("frase_session={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let new_cookie = response.headers().contains_key("set-cookie");
    let me: Value = response.json().await.unwrap();
    (me["id"].as_str().unwrap().to_owned(), new_cookie)
}

/// The session cookie is signed: a cookie whose signature has one byte changed, or that carries
/// one user's id under another user's signature, or an id with no signature at all, is a new
/// session: never the user it names, nor the one whose signature it borrowed.
#[tokio::test]
async fn a_tampered_session_cookie_is_a_new_session() {
    let app = TestApp::spawn().await;
    let mut users = Vec::new();
    for _ in 0..2 {
        let response = user().get(app.url("/api/me")).send().await.unwrap();
        let cookie = session_cookie(&response);
        let me: Value = response.json().await.unwrap();
        let id = me["id"].as_str().unwrap().to_owned();
        assert_eq!(
            cookie[SIGNATURE_LEN..].split('.').next(),
            Some(id.as_str()),
            "the cookie is the signature, then the user id and when it was issued: {cookie}"
        );
        // Sent back untouched, it is the same user.
        assert_eq!(me_with_cookie(&app, &cookie).await, (id.clone(), false));
        users.push((cookie, id));
    }
    let [(ana_cookie, ana), (bea_cookie, bea)] = <[_; 2]>::try_from(users).unwrap();

    let (ana_signature, ana_payload) = ana_cookie.split_at(SIGNATURE_LEN);
    let flipped = |at: usize| {
        let mut signature = ana_signature.as_bytes().to_vec();
        signature[at] = if signature[at] == b'A' { b'B' } else { b'A' };
        format!("{}{ana_payload}", String::from_utf8(signature).unwrap())
    };
    let forgeries = [
        ("the first byte of the signature changed", flipped(0)),
        (
            "a middle byte of the signature changed",
            flipped(SIGNATURE_LEN / 2),
        ),
        (
            "Ana's id under Bea's signature",
            format!("{}{ana_payload}", &bea_cookie[..SIGNATURE_LEN]),
        ),
        ("Ana's id without a signature", ana_payload.to_owned()),
    ];
    for (what, forged) in forgeries {
        let (id, new_cookie) = me_with_cookie(&app, &forged).await;
        assert_ne!(id, ana, "{what}: the server took it for Ana");
        assert_ne!(id, bea, "{what}: the server took it for Bea");
        assert!(new_cookie, "{what}: a new session is issued");
    }
}

#[tokio::test]
async fn healthz_answers_when_the_database_does() {
    let app = TestApp::spawn().await;
    let response = user().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "status": "ok" })
    );
}

#[tokio::test]
async fn the_add_word_server_function_answers_json() {
    let app = TestApp::spawn().await;
    let client = user();
    let response = client
        .post(app.url("/api/fn/add_word"))
        .header("accept", "application/json")
        .form(&[("room", "main"), ("text", "hola")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/api/rooms/main/words/")
    );
    let word: Value = response.json().await.unwrap();
    assert_eq!(word["text"], "hola");
    assert_eq!(word["version"], 1);

    let refused = client
        .post(app.url("/api/fn/add_word"))
        .header("accept", "application/json")
        .form(&[("room", "main"), ("text", "<b>")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["code"], "word-markup");

    let missing_argument = client
        .post(app.url("/api/fn/add_word"))
        .header("accept", "application/json")
        .form(&[("room", "main")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing_argument.status(), 400);
    assert_eq!(version_of(&client, &app, "main").await, 1);
}

/// JavaScript off: the form posts to the server function and is sent back with a 303.
#[tokio::test]
async fn a_plain_form_post_is_redirected_back_to_the_room() {
    let app = TestApp::spawn().await;
    let client = user();
    let csrf = common::page_csrf_token(&client, &app, "main").await;
    let post = |text: &'static str| {
        common::submit_word_form(&client, &app, "main", text, Some(csrf.as_str()))
    };
    let accepted = post("hola").await;
    assert_eq!(accepted.status(), 303);
    assert_eq!(accepted.headers()["location"], "/r/main");
    let refused = post("dos palabras").await;
    assert_eq!(refused.status(), 303);
    assert_eq!(
        refused.headers()["location"],
        "/r/main?error=word-multiple-tokens"
    );
    assert_eq!(version_of(&client, &app, "main").await, 1);

    // The page it lands on says what went wrong.
    let html = client
        .get(app.url("/r/main?error=word-multiple-tokens"))
        .send()
        .await
        .unwrap();
    assert_eq!(html.status(), 200);
    let html = html.text().await.unwrap();
    assert!(
        html.contains("Solo una palabra"),
        "the error is shown on the page"
    );
}

#[tokio::test]
async fn the_room_page_is_rendered_on_the_server_with_its_hooks() {
    let app = TestApp::spawn().await;
    let client = user();
    client
        .post(app.url("/api/rooms/main/words"))
        .json(&json!({ "text": "¿qué" }))
        .send()
        .await
        .unwrap();
    let response = client.get(app.url("/r/main")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    for hook in [
        "id=\"sentence\"",
        "id=\"word-form\"",
        "name=\"text\"",
        "id=\"story\"",
        "id=\"online\"",
    ] {
        assert!(html.contains(hook), "page has {hook}");
    }
    assert!(
        html.contains("data-version=\"1\""),
        "words carry their version"
    );
    assert!(
        html.contains("¿Qué"),
        "the first word is capitalised for display"
    );
    assert!(
        html.contains("action=\"/api/fn/add_word\""),
        "the form posts to the server function"
    );

    let missing = client.get(app.url("/r/no-such-room")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("no existe"));
    let lobby = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(lobby.status(), 200);
    assert!(lobby.text().await.unwrap().contains("href=\"/r/main\""));
    let nowhere = client.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(nowhere.status(), 404);
}

/// Words, names and titles refuse `<`, `>` and `&`, but may hold quotes, and they are put
/// inside attributes (a word's `title` names its author, the forms' `value`s hold the player's
/// name, their last word and the room's title): each attribute, read as a browser reads it,
/// holds the whole text, which no quote ended early.
#[tokio::test]
async fn quotes_in_words_names_and_titles_stay_inside_their_attributes() {
    let app = TestApp::spawn().await;
    let host = user();
    let name = r#"Ana" hidden ""#;
    let renamed = host
        .patch(app.url("/api/me"))
        .json(&json!({ "name": name }))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    let title = r#"Clase "B" 'x' autofocus"#;
    let room = app.post_room(&host, json!({ "title": title })).await;
    let slug = room["slug"].as_str().unwrap();
    let word = r#""l'amor""#;
    let response = host
        .post(app.url(&format!("/api/rooms/{slug}/words")))
        .json(&json!({ "text": word }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);

    let html = common::text_of(&host, &app.url(&format!("/r/{slug}"))).await;
    let tag = |id: &str| html::by_id(&html, id).unwrap_or_else(|| panic!("the page has #{id}"));
    let shown_word = html::tags(&html)
        .into_iter()
        .find(|tag| tag.attribute("class") == Some("word"))
        .expect("the word is on the page");
    assert_eq!(shown_word.attribute("title"), Some(name), "{shown_word:?}");
    assert_eq!(
        shown_word.attribute("data-author"),
        Some(name),
        "{shown_word:?}"
    );
    assert_eq!(shown_word.attribute("hidden"), None, "{shown_word:?}");
    let name_input = tag("name-input");
    assert_eq!(name_input.attribute("value"), Some(name), "{name_input:?}");
    assert_eq!(html::text_by_id(&html, "my-name").as_deref(), Some(name));
    let fix_text = tag("fix-text");
    assert_eq!(fix_text.attribute("value"), Some(word), "{fix_text:?}");
    let title_input = tag("settings-title");
    assert_eq!(
        title_input.attribute("value"),
        Some(title),
        "{title_input:?}"
    );
    assert_eq!(title_input.attribute("autofocus"), None, "{title_input:?}");
}

/// The join link is made from the `Host` the page was asked for, which may hold anything a
/// header can (`<`, `>`, `&`, quotes): it is shown as text and stays inside its attributes, and
/// no element comes from it.
#[tokio::test]
async fn a_hostile_host_is_escaped_in_the_join_link() {
    let app = TestApp::spawn().await;
    let hostile = r#"evil.example"><b id="injected">&amp;'"#;
    let response = user()
        .get(app.url("/r/main"))
        .header("host", hostile)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    let url = format!("http://{hostile}/r/main");
    let link = html::by_id(&html, "join-url").expect("the page has the join link");
    assert_eq!(link.attribute("href"), Some(url.as_str()), "{link:?}");
    assert_eq!(html::text_by_id(&html, "join-url"), Some(url.clone()));
    let qr = html::by_id(&html, "join-qr").expect("the page has the QR code");
    assert!(
        qr.attribute("aria-label")
            .is_some_and(|label| label.contains(&url)),
        "{qr:?}"
    );
    assert!(
        html::by_id(&html, "injected").is_none(),
        "an element came from the Host header"
    );
}

#[tokio::test]
async fn the_join_form_goes_to_the_room() {
    let app = TestApp::spawn().await;
    let client = user();
    let go = client
        .get(app.url("/join?code=%20Main%20"))
        .send()
        .await
        .unwrap();
    assert_eq!(go.status(), 303);
    assert_eq!(go.headers()["location"], "/r/main");
    let bad = client
        .get(app.url("/join?code=%3Cx%3E"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 303);
    assert_eq!(bad.headers()["location"], "/?error=bad-room-code");
}

/// A lobby form posted without JavaScript that failed comes back with `?error=`; the message
/// shows under the form that failed.
#[tokio::test]
async fn the_lobby_shows_an_error_under_the_form_that_failed() {
    let app = TestApp::spawn().await;
    let client = user();
    let text = |html: &str, id: &str| html::text_by_id(html, id).unwrap_or_default();
    let bad_code = common::text_of(&client, &app.url("/?error=bad-room-code")).await;
    assert!(
        text(&bad_code, "join-error").contains("código de sala"),
        "{bad_code}"
    );
    assert_eq!(text(&bad_code, "create-error"), "");
    let expired = common::text_of(&client, &app.url("/?error=bad-csrf-token")).await;
    assert!(!text(&expired, "create-error").is_empty(), "{expired}");
    assert_eq!(text(&expired, "join-error"), "");
    let plain = common::text_of(&client, &app.url("/")).await;
    assert_eq!(
        text(&plain, "create-error") + &text(&plain, "join-error"),
        ""
    );
}

#[tokio::test]
async fn a_created_room_has_a_code_and_its_creator_as_host() {
    let app = TestApp::spawn().await;
    let host = user();
    let response = host
        .post(app.url("/api/rooms"))
        .json(&json!({ "title": "Clase 3ºB", "settings": { "no_double_turn": false } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let state: Value = response.json().await.unwrap();
    let slug = state["slug"].as_str().unwrap();
    assert_eq!(location, format!("/api/rooms/{slug}"));
    assert_eq!(slug.len(), 6);
    assert_eq!(state["title"], "Clase 3ºB");
    assert_eq!(state["host"], true);
    assert_eq!(state["settings"]["no_double_turn"], false);
    assert_eq!(
        state["settings"]["max_word_length"], 32,
        "omitted settings take defaults"
    );
    let guest: Value = user()
        .get(app.url(&location))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(guest["host"], false);

    let bad = host
        .post(app.url("/api/rooms"))
        .json(&json!({ "settings": { "max_word_length": 0 } }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    assert_eq!(bad.headers()["content-type"], "application/problem+json");
    let untitled: Value = host
        .post(app.url("/api/rooms"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(untitled["title"], untitled["slug"]);
}

/// JavaScript off: the lobby's form creates a room and leads to it; the host's delete form leads
/// back to the lobby.
#[tokio::test]
async fn plain_forms_create_a_room_and_delete_it() {
    let app = TestApp::spawn().await;
    let host = user();
    let lobby = common::text_of(&host, &app.url("/")).await;
    let csrf = common::csrf_token(&lobby);
    let created = host
        .post(app.url("/api/fn/create_room"))
        .header("accept", "text/html")
        .header("referer", app.url("/"))
        .form(&[("title", "Clase 2"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 303);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("/r/") && location.len() == 9,
        "{location}"
    );
    assert!(!created.headers().contains_key("x-frase-next-page"));
    let slug = &location[3..];
    let page = common::text_of(&host, &app.url(&location)).await;
    assert!(page.contains("Clase 2"));
    assert!(
        page.contains(r#"id="host-console""#),
        "the creator is the host"
    );
    assert!(page.contains(r#"id="join-qr""#) && page.contains("<svg"));
    assert!(page.contains(&format!("/r/{slug}</a>")), "the join link");

    let deleted = host
        .post(app.url("/api/fn/delete_room"))
        .header("accept", "text/html")
        .header("referer", app.url(&location))
        .form(&[("room", slug), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 303);
    assert_eq!(deleted.headers()["location"], "/");
    let gone = host
        .get(app.url(&format!("/api/rooms/{slug}")))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
}

/// The host console's settings form: a checkbox left out turns its rule off.
#[tokio::test]
async fn the_host_renames_a_room_and_sets_its_rules() {
    let app = TestApp::spawn().await;
    let host = user();
    let room = app.post_room(&host, json!({})).await;
    let slug = room["slug"].as_str().unwrap();
    let configure = |form: Vec<(&'static str, &'static str)>| {
        let mut form = form;
        form.push(("room", slug));
        host.post(app.url("/api/fn/configure_room"))
            .header("accept", "application/json")
            .form(&form)
            .send()
    };
    let response = configure(vec![
        ("title", "Clase B"),
        ("max_word_length", "20"),
        ("max_sentence_words", "12"),
    ])
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let state: Value = response.json().await.unwrap();
    assert_eq!(state["title"], "Clase B");
    assert_eq!(state["settings"]["max_word_length"], 20);
    assert_eq!(state["settings"]["max_sentence_words"], 12);
    assert_eq!(state["settings"]["no_double_turn"], false);
    let state: Value = configure(vec![
        ("title", "Clase B"),
        ("max_word_length", "20"),
        ("max_sentence_words", "12"),
        ("no_double_turn", "on"),
    ])
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(state["settings"]["no_double_turn"], true);
    let out_of_range = configure(vec![
        ("title", "Clase B"),
        ("max_word_length", "500"),
        ("max_sentence_words", "12"),
    ])
    .await
    .unwrap();
    assert_eq!(out_of_range.status(), 422);
    assert_eq!(
        version_of(&host, &app, slug).await,
        2,
        "the refused change changed nothing"
    );
}
