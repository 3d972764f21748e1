//! HTTP by the book: every method on every path, conditional requests, safe retries, content
//! negotiation, and the host's rights.

mod common;

use common::{TestApp, free_settings, user};
use reqwest::Method;
use serde_json::{Value, json};

/// The API's paths, with the methods each supports (besides OPTIONS).
fn api_paths(room: &str, word: i64) -> Vec<(String, Vec<&'static str>)> {
    vec![
        ("/api/rooms".into(), vec!["POST"]),
        (
            format!("/api/rooms/{room}"),
            vec!["GET", "HEAD", "PUT", "PATCH", "DELETE"],
        ),
        (
            format!("/api/rooms/{room}/words"),
            vec!["GET", "HEAD", "POST"],
        ),
        (
            format!("/api/rooms/{room}/words/{word}"),
            vec!["GET", "HEAD", "PATCH", "DELETE"],
        ),
        (format!("/api/rooms/{room}/sentence/end"), vec!["POST"]),
        (format!("/api/rooms/{room}/round/start"), vec!["POST"]),
        (format!("/api/rooms/{room}/story"), vec!["GET", "HEAD"]),
        (format!("/api/rooms/{room}/events"), vec!["GET", "HEAD"]),
        ("/api/openapi.json".into(), vec!["GET", "HEAD"]),
        ("/api/me".into(), vec!["GET", "HEAD", "PATCH"]),
        ("/healthz".into(), vec!["GET", "HEAD"]),
        ("/metrics".into(), vec!["GET", "HEAD"]),
        ("/".into(), vec!["GET", "HEAD"]),
        (format!("/r/{room}"), vec!["GET", "HEAD"]),
        (format!("/r/{room}/story"), vec!["GET", "HEAD"]),
        (format!("/r/{room}/present"), vec!["GET", "HEAD"]),
        ("/join".into(), vec!["GET", "HEAD"]),
    ]
    .into_iter()
    // Every server function takes `POST` only.
    .chain(
        SERVER_FUNCTIONS
            .iter()
            .map(|name| (format!("/api/fn/{name}"), vec!["POST"])),
    )
    .collect()
}

/// The server functions the pages call (CONTRACT §3).
const SERVER_FUNCTIONS: &[&str] = &[
    "load_room",
    "load_story",
    "add_word",
    "set_name",
    "form_token",
    "create_room",
    "lock_room",
    "configure_room",
    "end_sentence",
    "clear_sentence",
    "start_round",
    "remove_word",
    "fix_word",
    "delete_room",
    "set_language",
];

fn allow_set(response: &reqwest::Response) -> Vec<String> {
    let mut methods: Vec<String> = response
        .headers()
        .get("allow")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
        .split(',')
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty())
        .collect();
    methods.sort();
    methods
}

/// Acceptance 1: a method matrix over every path — status, `Allow`, and no body where there
/// must be none.
#[tokio::test]
async fn every_path_answers_every_method_by_the_book() {
    let app = TestApp::spawn().await;
    let host = user();
    let room = app.post_room(&host, json!({ "title": "matriz" })).await;
    let slug = room["slug"].as_str().unwrap().to_owned();
    let word: Value = host
        .post(app.url(&format!("/api/rooms/{slug}/words")))
        .json(&json!({ "text": "hola" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let word_id = word["id"].as_i64().unwrap();

    for (path, supported) in api_paths(&slug, word_id) {
        let mut expected: Vec<String> = supported.iter().map(|m| m.to_string()).collect();
        expected.push("OPTIONS".into());
        expected.sort();

        let options = host
            .request(Method::OPTIONS, app.url(&path))
            .send()
            .await
            .unwrap();
        assert_eq!(options.status(), 204, "OPTIONS {path}");
        assert_eq!(allow_set(&options), expected, "Allow of {path}");
        assert!(
            options.bytes().await.unwrap().is_empty(),
            "OPTIONS {path} has no body"
        );

        for method in ["TRACE", "CONNECT"] {
            let refused = host
                .request(
                    Method::from_bytes(method.as_bytes()).unwrap(),
                    app.url(&path),
                )
                .header("x-secret-probe", "echo-me")
                .body("echo-me-too")
                .send()
                .await
                .unwrap();
            assert_eq!(refused.status(), 405, "{method} {path}");
            if method == "TRACE" {
                assert_eq!(allow_set(&refused), expected, "{method} {path} Allow");
            } else {
                // A CONNECT's target is an authority, not one of our paths: its Allow is the
                // server's, not the path's.
                assert!(!allow_set(&refused).is_empty(), "{method} {path} Allow");
            }
            let body = refused.text().await.unwrap();
            assert!(
                !body.contains("echo-me"),
                "{method} {path} echoed the request"
            );
        }

        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            if supported.contains(&method) {
                continue;
            }
            let refused = host
                .request(
                    Method::from_bytes(method.as_bytes()).unwrap(),
                    app.url(&path),
                )
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_eq!(refused.status(), 405, "{method} {path}");
            assert_eq!(allow_set(&refused), expected, "{method} {path} Allow");
            if path.starts_with("/api/") {
                assert_eq!(
                    refused.headers()["content-type"],
                    "application/problem+json"
                );
            }
        }

        if supported.contains(&"GET") {
            let get = host.get(app.url(&path)).send().await.unwrap();
            let get_status = get.status();
            let get_type = get.headers().get("content-type").cloned();
            let head = host.head(app.url(&path)).send().await.unwrap();
            assert_eq!(head.status(), get_status, "HEAD {path} status");
            assert_eq!(
                head.headers().get("content-type").cloned(),
                get_type,
                "HEAD {path} type"
            );
            assert!(
                head.bytes().await.unwrap().is_empty(),
                "HEAD {path} has no body"
            );
        }
    }

    // 304 and 204 carry no body either.
    let state = host
        .get(app.url(&format!("/api/rooms/{slug}")))
        .send()
        .await
        .unwrap();
    let etag = state.headers()["etag"].clone();
    let not_modified = host
        .get(app.url(&format!("/api/rooms/{slug}")))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), 304);
    assert!(not_modified.bytes().await.unwrap().is_empty());
    let deleted = host
        .delete(app.url(&format!("/api/rooms/{slug}/words/{word_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert!(deleted.bytes().await.unwrap().is_empty());

    // A server function that does not exist is not found, whatever the method.
    for method in [Method::GET, Method::POST] {
        let missing = host
            .request(method.clone(), app.url("/api/fn/no_such_function"))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404, "{method} of an unknown function");
        assert_eq!(
            missing.headers()["content-type"],
            "application/problem+json"
        );
    }
}

#[tokio::test]
async fn put_is_idempotent_and_delete_twice_is_204_then_404() {
    let app = TestApp::spawn().await;
    let host = user();
    let body = json!({ "title": "Clase", "settings": { "max_word_length": 20 } });
    let first = host
        .put(app.url("/api/rooms/clase"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    assert_eq!(first.headers()["location"], "/api/rooms/clase");
    let first: Value = first.json().await.unwrap();
    let second = host
        .put(app.url("/api/rooms/clase"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 200);
    let second: Value = second.json().await.unwrap();
    assert_eq!(first, second, "the same PUT twice leaves the same state");
    assert_eq!(second["settings"]["max_word_length"], 20);
    assert_eq!(
        second["settings"]["no_double_turn"], true,
        "omitted settings take defaults"
    );

    let other = user();
    let not_host = other
        .put(app.url("/api/rooms/clase"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(not_host.status(), 403);
    assert_eq!(
        not_host.headers()["content-type"],
        "application/problem+json"
    );

    let replaced: Value = host
        .put(app.url("/api/rooms/clase"))
        .json(&json!({ "title": "Clase 2" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(replaced["title"], "Clase 2");
    assert_eq!(
        replaced["settings"]["max_word_length"], 32,
        "PUT replaces the whole settings"
    );
    assert_eq!(replaced["version"], 1);

    assert_eq!(
        other
            .delete(app.url("/api/rooms/clase"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        host.delete(app.url("/api/rooms/clase"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        host.delete(app.url("/api/rooms/clase"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        host.get(app.url("/api/rooms/clase"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        host.delete(app.url("/api/rooms/main"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
}

#[tokio::test]
async fn patch_changes_some_settings_for_the_host_only() {
    let app = TestApp::spawn().await;
    let host = user();
    let created = app.post_room(&host, json!({})).await;
    let slug = created["slug"].as_str().unwrap();
    let url = app.url(&format!("/api/rooms/{slug}"));
    let patched = host
        .patch(&url)
        .json(&json!({ "settings": { "locked": true } }))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["settings"]["locked"], true);
    assert_eq!(patched["settings"]["max_word_length"], 32);
    assert_eq!(patched["version"], 1);

    let locked = user()
        .post(app.url(&format!("/api/rooms/{slug}/words")))
        .json(&json!({ "text": "hola" }))
        .send()
        .await
        .unwrap();
    assert_eq!(locked.status(), 423);

    assert_eq!(
        user()
            .patch(&url)
            .json(&json!({ "title": "x" }))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let unknown_field = host
        .patch(&url)
        .json(&json!({ "settings": { "lockd": true } }))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_field.status(), 400);
    let out_of_range = host
        .patch(&url)
        .json(&json!({ "settings": { "max_word_length": 500 } }))
        .send()
        .await
        .unwrap();
    assert_eq!(out_of_range.status(), 422);
    let stale = host
        .patch(&url)
        .header("if-match", "\"0\"")
        .json(&json!({ "title": "otra" }))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
}

#[tokio::test]
async fn authors_fix_and_undo_their_words_and_the_host_any_word() {
    let app = TestApp::spawn().await;
    let (host, ana, bea) = (user(), user(), user());
    let created = app.post_room(&host, json!({})).await;
    let slug = created["slug"].as_str().unwrap().to_owned();
    let add = |client: &reqwest::Client, text: &str| {
        client
            .post(app.url(&format!("/api/rooms/{slug}/words")))
            .json(&json!({ "text": text }))
            .send()
    };
    let first: Value = add(&ana, "hloa").await.unwrap().json().await.unwrap();
    let word_url = app.url(&format!("/api/rooms/{slug}/words/{}", first["id"]));
    let fixed = ana
        .patch(&word_url)
        .json(&json!({ "text": "hola" }))
        .send()
        .await
        .unwrap();
    assert_eq!(fixed.status(), 200);
    let fixed: Value = fixed.json().await.unwrap();
    assert_eq!(fixed["text"], "hola");
    assert_eq!(
        fixed["version"], 2,
        "a fix is a change with its own version"
    );
    assert_eq!(
        bea.patch(&word_url)
            .json(&json!({ "text": "x" }))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        ana.patch(&word_url)
            .json(&json!({ "text": "fin." }))
            .send()
            .await
            .unwrap()
            .status(),
        422
    );

    let second: Value = add(&bea, "mundo").await.unwrap().json().await.unwrap();
    // Ana's word is no longer the last: she cannot remove it, the host can.
    assert_eq!(ana.delete(&word_url).send().await.unwrap().status(), 403);
    let second_url = app.url(&format!("/api/rooms/{slug}/words/{}", second["id"]));
    assert_eq!(bea.delete(&second_url).send().await.unwrap().status(), 204);
    assert_eq!(host.delete(&word_url).send().await.unwrap().status(), 204);
    let state: Value = host
        .get(app.url(&format!("/api/rooms/{slug}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["sentence"]["words"], json!([]));
    assert_eq!(state["version"], 5);
}

#[tokio::test]
async fn the_host_ends_the_sentence_and_the_story_comes_in_three_formats() {
    let app = TestApp::spawn().await;
    let host = user();
    let created = app
        .post_room(
            &host,
            json!({ "title": "Cuento", "settings": { "no_double_turn": false } }),
        )
        .await;
    let slug = created["slug"].as_str().unwrap().to_owned();
    let end = app.url(&format!("/api/rooms/{slug}/sentence/end"));
    assert_eq!(
        host.post(&end).send().await.unwrap().status(),
        409,
        "nothing to end"
    );
    for text in ["había", "una", "vez"] {
        host.post(app.url(&format!("/api/rooms/{slug}/words")))
            .json(&json!({ "text": text }))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(user().post(&end).send().await.unwrap().status(), 403);
    let ended = host.post(&end).send().await.unwrap();
    assert_eq!(ended.status(), 200);
    let ended: Value = ended.json().await.unwrap();
    assert_eq!(ended["text"], "Había una vez");

    let story = app.url(&format!("/api/rooms/{slug}/story"));
    let json_story = host.get(&story).send().await.unwrap();
    assert_eq!(json_story.headers()["content-type"], "application/json");
    let etag = json_story.headers()["etag"].clone();
    let document: Value = json_story.json().await.unwrap();
    assert_eq!(document["sentences"][0]["text"], "Había una vez");
    let text = host
        .get(&story)
        .header("accept", "text/plain")
        .send()
        .await
        .unwrap();
    assert_eq!(text.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(text.text().await.unwrap(), "Había una vez\n");
    let markdown = host.get(format!("{story}?format=md")).send().await.unwrap();
    assert_eq!(
        markdown.headers()["content-type"],
        "text/markdown; charset=utf-8"
    );
    assert_eq!(
        markdown.text().await.unwrap(),
        "# Cuento\n\nHabía una vez\n\n"
    );
    let refused = host
        .get(&story)
        .header("accept", "image/png")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 406);
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let cached = host
        .get(&story)
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
}

/// Acceptance 3: a retried POST after a lost response stores the word once and returns the
/// same body; the same key with another body is refused.
#[tokio::test]
async fn an_idempotency_key_makes_a_retry_safe() {
    let app = TestApp::spawn().await;
    app.create_room("reintento", free_settings()).await;
    let client = user();
    let url = app.url("/api/rooms/reintento/words");
    let post = |key: &'static str, text: &'static str| {
        client
            .post(&url)
            .header("idempotency-key", key)
            .json(&json!({ "text": text }))
            .send()
    };
    let first = post("clave-1", "una").await.unwrap();
    assert_eq!(first.status(), 201);
    let location = first.headers()["location"].clone();
    let first_body = first.bytes().await.unwrap();
    // The response was "lost": the client sends the same request again.
    let retry = post("clave-1", "una").await.unwrap();
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["location"], location);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.bytes().await.unwrap(), first_body, "the same body");
    let reused = post("clave-1", "otra").await.unwrap();
    assert_eq!(reused.status(), 422);
    assert_eq!(reused.headers()["content-type"], "application/problem+json");
    // Keys are per user: another user's same key is a new request.
    let other = user()
        .post(&url)
        .header("idempotency-key", "clave-1")
        .json(&json!({ "text": "dos" }))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 201);

    let words: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
    let texts: Vec<&str> = words["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, vec!["una", "dos"], "stored once");

    // The server function honours it too.
    let call = || {
        client
            .post(app.url("/api/fn/add_word"))
            .header("accept", "application/json")
            .header("idempotency-key", "fn-1")
            .form(&[("room", "reintento"), ("text", "tres")])
            .send()
    };
    let a = call().await.unwrap();
    assert_eq!(a.status(), 201);
    let a = a.bytes().await.unwrap();
    let b = call().await.unwrap();
    assert_eq!(b.headers()["idempotent-replayed"], "true");
    assert_eq!(b.bytes().await.unwrap(), a);
    let bad_key = client
        .post(&url)
        .header("idempotency-key", "")
        .json(&json!({ "text": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_key.status(), 400);
}

#[tokio::test]
async fn metrics_speak_prometheus() {
    let app = TestApp::spawn().await;
    let client = user();
    // Watched, so its changes are published in every setup (with PostgreSQL the bus publishes
    // only the rooms someone here watches).
    let mut watching =
        common::EventReader::open(&user(), &app.url("/api/rooms/main/events"), None).await;
    let snapshot = watching.next(std::time::Duration::from_secs(10)).await;
    assert_eq!(
        snapshot.map(|event| event.event).as_deref(),
        Some("snapshot")
    );
    client
        .post(app.url("/api/rooms/main/words"))
        .json(&json!({ "text": "hola" }))
        .send()
        .await
        .unwrap();
    let response = client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.unwrap();
    assert!(text.contains("# TYPE frase_http_responses_total counter"));
    assert!(text.contains("frase_http_responses_total{class=\"2xx\"}"));
    assert!(text.contains("frase_event_streams 1\n"), "{text}");
    // Published before the answer with SQLite; a moment later, by the bus, with PostgreSQL.
    common::eventually(
        std::time::Duration::from_secs(10),
        "the word is published",
        || {
            let request = client.get(app.url("/metrics")).send();
            async move {
                let text = request.await.unwrap().text().await.unwrap();
                text.contains("frase_changes_published_total 1\n")
            }
        },
    )
    .await;
}

/// `/metrics` says how busy the server is: loopback only, unless `--metrics-public`.
#[tokio::test]
async fn metrics_answer_other_addresses_only_when_public() {
    use axum::extract::{ConnectInfo, State};
    use frase::server::http::api::ops::metrics;
    let from = |address: &str| ConnectInfo(address.parse::<std::net::SocketAddr>().unwrap());
    let private = TestApp::spawn().await;
    let state = private.app_state.clone();
    assert_eq!(
        metrics(State(state.clone()), from("10.1.2.3:5000"))
            .await
            .status(),
        404
    );
    assert_eq!(
        metrics(State(state.clone()), from("[::ffff:10.1.2.3]:5000"))
            .await
            .status(),
        404
    );
    assert_eq!(
        metrics(State(state.clone()), from("127.0.0.1:5000"))
            .await
            .status(),
        200
    );
    assert_eq!(
        metrics(State(state), from("[::1]:5000")).await.status(),
        200
    );
    let public = TestApp::spawn_with(|settings| settings.metrics_public = true).await;
    let state = public.app_state.clone();
    assert_eq!(
        metrics(State(state), from("10.1.2.3:5000")).await.status(),
        200
    );
}

#[tokio::test]
async fn compression_is_offered_but_never_on_the_event_stream() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .build()
        .unwrap();
    let page = client
        .get(app.url("/r/main"))
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .unwrap();
    assert!(
        page.headers().contains_key("content-encoding"),
        "the page is compressed"
    );
    let events = client
        .get(app.url("/api/rooms/main/events"))
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .unwrap();
    assert!(
        !events.headers().contains_key("content-encoding"),
        "the stream is not"
    );
}

/// `Last-Modified` once the second of the last change is over, and `If-Modified-Since` answered
/// with 304 until the next change (which the date then shows).
#[tokio::test]
async fn the_story_is_revalidated_by_date() {
    let app = TestApp::spawn().await;
    let host = user();
    let created = app
        .post_room(
            &host,
            json!({ "title": "Fechas", "settings": { "no_double_turn": false } }),
        )
        .await;
    let slug = created["slug"].as_str().unwrap().to_owned();
    let words = app.url(&format!("/api/rooms/{slug}/words"));
    let story = app.url(&format!("/api/rooms/{slug}/story"));
    host.post(&words)
        .json(&json!({ "text": "fin." }))
        .send()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let first = host.get(&story).send().await.unwrap();
    let modified = first.headers()["last-modified"].clone();
    let unchanged = host
        .get(&story)
        .header("if-modified-since", modified.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), 304);
    assert!(unchanged.headers().contains_key("etag"));
    assert!(unchanged.text().await.unwrap().is_empty());

    host.post(&words)
        .json(&json!({ "text": "otro." }))
        .send()
        .await
        .unwrap();
    let changed = host
        .get(&story)
        .header("if-modified-since", modified)
        .send()
        .await
        .unwrap();
    assert_eq!(
        changed.status(),
        200,
        "a change in the same second still shows"
    );
    let document: Value = changed.json().await.unwrap();
    assert_eq!(document["sentences"].as_array().unwrap().len(), 2);
}

/// Pages are `no-cache` with a strong `ETag`, and 304 when it still holds.
#[tokio::test]
async fn pages_are_revalidated_with_an_etag() {
    let app = TestApp::spawn().await;
    let visitor = user();
    let page = visitor.get(app.url("/r/main")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "private, no-cache");
    let etag = page.headers()["etag"].clone();
    assert!(etag.to_str().unwrap().starts_with('"'), "a strong tag");
    let again = visitor
        .get(app.url("/r/main"))
        .header("if-none-match", etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], etag);
    assert_eq!(again.headers()["cache-control"], "private, no-cache");
    assert!(
        !again.headers().contains_key("content-security-policy"),
        "the stored page keeps its own policy, with its nonce"
    );
    assert!(again.text().await.unwrap().is_empty());

    visitor
        .post(app.url("/api/rooms/main/words"))
        .json(&json!({ "text": "nuevo" }))
        .send()
        .await
        .unwrap();
    let changed = visitor
        .get(app.url("/r/main"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200, "a new word makes a new page");
}

/// A compressed body is another representation: its tag says so, and that tag revalidates.
#[tokio::test]
async fn compressed_representations_have_their_own_etag() {
    let app = TestApp::spawn().await;
    let host = user();
    let created = app.post_room(&host, json!({ "title": "Comprimida" })).await;
    let room = app.url(&format!("/api/rooms/{}", created["slug"].as_str().unwrap()));
    let plain = host.get(&room).send().await.unwrap();
    let plain_tag = plain.headers()["etag"].to_str().unwrap().to_owned();
    let compressed = host
        .get(&room)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(compressed.headers()["content-encoding"], "gzip");
    let gzip_tag = compressed.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(
        gzip_tag,
        format!("\"{}-gzip\"", plain_tag.trim_matches('"'))
    );
    let revalidated = host
        .get(&room)
        .header("accept-encoding", "gzip")
        .header("if-none-match", &gzip_tag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);
    assert_eq!(revalidated.headers()["etag"], gzip_tag.as_str());
    // A write conditioned on the compressed tag names the same version.
    let renamed = host
        .patch(&room)
        .header("if-match", &gzip_tag)
        .json(&json!({ "title": "Renombrada" }))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    let stale = host
        .patch(&room)
        .header("if-match", &gzip_tag)
        .json(&json!({ "title": "Otra" }))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
}

/// Found by schemathesis: serde reads a struct from an array of its fields, and a count written
/// `30.0` is an integer to JSON Schema; a tag that names no version is a failed precondition.
#[tokio::test]
async fn bodies_are_objects_counts_are_whole_numbers_and_odd_tags_fail_the_precondition() {
    let app = TestApp::spawn().await;
    let client = user();
    let array = client
        .post(app.url("/api/rooms"))
        .header("content-type", "application/json")
        .body("[null, null]")
        .send()
        .await
        .unwrap();
    assert_eq!(array.status(), 400);
    let created = client
        .post(app.url("/api/rooms"))
        .json(&json!({ "settings": { "max_sentence_words": 12.0 } }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["settings"]["max_sentence_words"], 12);
    let fraction = client
        .post(app.url("/api/rooms"))
        .json(&json!({ "settings": { "max_sentence_words": 12.5 } }))
        .send()
        .await
        .unwrap();
    assert_eq!(fraction.status(), 400);
    for tag in ["", "null", "7", "\"nope\""] {
        let stale = client
            .post(app.url("/api/rooms/main/words"))
            .header("if-match", tag)
            .json(&json!({ "text": "hola" }))
            .send()
            .await
            .unwrap();
        assert_eq!(stale.status(), 412, "If-Match: {tag:?}");
    }
    let words: Value = client
        .get(app.url("/api/rooms/main/words"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        words["words"].as_array().unwrap().len(),
        0,
        "nothing stored"
    );
}

/// Issue 11 (acceptance 2, in part): the security headers on a page, an API response and an
/// error; the page's policy names the nonce its inline scripts carry, and allows nothing else
/// inline.
#[tokio::test]
async fn responses_carry_the_security_headers() {
    let app = TestApp::spawn().await;
    let client = user();
    let page = client.get(app.url("/r/main")).send().await.unwrap();
    let api = client.get(app.url("/api/rooms/main")).send().await.unwrap();
    let error = client
        .get(app.url("/api/rooms/no-such-room"))
        .send()
        .await
        .unwrap();
    assert_eq!(error.status(), 404);
    for response in [&page, &api, &error] {
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(
            headers["referrer-policy"],
            "strict-origin-when-cross-origin"
        );
        assert_eq!(headers["x-frame-options"], "DENY");
        assert!(headers.contains_key("permissions-policy"));
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(policy.contains("'wasm-unsafe-eval'"), "{policy}");
        assert!(!policy.contains("unsafe-inline") && !policy.contains("'unsafe-eval'"));
    }
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    let nonce = html
        .split("nonce=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page has a script with a nonce");
    assert!(policy.contains(&format!("'nonce-{nonce}'")), "{policy}");
    for script in html.split("<script").skip(1) {
        let tag = script.split('>').next().unwrap();
        assert!(
            tag.contains(&format!("nonce=\"{nonce}\"")) || tag.contains("src="),
            "an inline script without the nonce: <script{tag}>"
        );
    }
}

/// Issue 11 (acceptance 3): a write from a page of another site is refused with 403 and stores
/// nothing, through the JSON API and through a server function; from this site it succeeds.
#[tokio::test]
async fn cross_site_writes_are_refused() {
    let app = TestApp::spawn().await;
    let client = user();
    let own_origin = app.url("").trim_end_matches('/').to_owned();
    let foreign = client
        .post(app.url("/api/rooms/main/words"))
        .header("origin", "http://evil.example")
        .json(&json!({ "text": "hola" }))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    assert_eq!(
        foreign.headers()["content-type"],
        "application/problem+json"
    );
    let foreign_fn = client
        .post(app.url("/api/fn/add_word"))
        .header("origin", "null")
        .header("accept", "application/json")
        .form(&[("room", "main"), ("text", "hola")])
        .send()
        .await
        .unwrap();
    assert_eq!(foreign_fn.status(), 403);
    // Another scheme on the same host and port is another site (issue 17), and so are other
    // write methods than POST (issue 22).
    let https_origin = own_origin.replacen("http://", "https://", 1);
    for (method, path) in [
        (reqwest::Method::POST, "/api/rooms/main/words"),
        (reqwest::Method::PATCH, "/api/rooms/main/words/1"),
        (reqwest::Method::DELETE, "/api/rooms/main/words/1"),
    ] {
        let other_scheme = client
            .request(method.clone(), app.url(path))
            .header("origin", &https_origin)
            .json(&json!({ "text": "hola" }))
            .send()
            .await
            .unwrap();
        assert_eq!(other_scheme.status(), 403, "{method} from {https_origin}");
    }
    let words: Value = client
        .get(app.url("/api/rooms/main/words"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        words["words"].as_array().unwrap().len(),
        0,
        "reads pass, nothing stored"
    );

    let own = client
        .post(app.url("/api/fn/add_word"))
        .header("origin", &own_origin)
        .header("accept", "application/json")
        .form(&[("room", "main"), ("text", "hola")])
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 201, "from {own_origin}");
}
